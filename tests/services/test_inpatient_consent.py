"""书面确权 lifecycle and the 信用就医 deposit seam: nothing is charged to credit before the signed paper is in."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from desktop_his.services import texts
from desktop_his.services.db import Database
from desktop_his.services.errors import Conflict, ValidationError
from desktop_his.services.inpatient import CreditPaymentRequest, ProxyInput
from desktop_his.services.models import Admission, AuditRecord, CreditConsent, Payment
from tests import factories as f
from tests.services.inpatientfix import OFFICE_PHONE, World, make_world

PROXY_ID = f.resident_id(date(1979, 5, 6), "F", serial=4321)
PROXY = ProxyInput("王秀英", "01", PROXY_ID)


@pytest.fixture
def w(db: Database, clock) -> World:  # noqa: ANN001
    return make_world(db, clock)


def payments(db: Database) -> int:
    with db.reader() as s:
        return s.execute(select(func.count()).select_from(Payment)).scalar_one()


def test_consent_without_proxy_created_printed_received(w: World, db: Database) -> None:
    a = w.admit()
    c = w.svc.create_consent(w.clerk, a.id)
    assert (c.status, c.status_label, c.proxy_name) == ("created", "待打印", None)
    with pytest.raises(Conflict, match="请先打印"):
        w.svc.mark_consent_received(w.clerk, c.id)
    info = w.svc.mark_consent_printed(w.clerk, c.id)
    with db.reader() as s:
        patient = s.get(f.Patient, w.patients[0])
    assert (info.patient_name, info.patient_id_number, info.proxy_name, info.reprint) == (
        "孙丽", patient.id_number, None, False)
    assert (info.admission_no, info.ward, info.bed, info.department_name, info.office_phone) == (
        a.admission_no, "内科一病区", "1", "呼吸内科", OFFICE_PHONE)
    assert w.svc.consents(w.clerk, a.id)[0].status == "printed"
    again = w.svc.mark_consent_printed(w.clerk, c.id)
    assert again.reprint
    received = w.svc.mark_consent_received(w.clerk, c.id)
    assert received.status == "received" and received.received_at is not None
    with pytest.raises(Conflict, match="已于"):
        w.svc.mark_consent_received(w.clerk, c.id)
    with db.reader() as s:
        actions = s.execute(select(AuditRecord.action).where(AuditRecord.action.like("inpatient.consent%"))
                            .order_by(AuditRecord.seq)).scalars().all()
        printed = s.get(CreditConsent, c.id).printed_at
    assert actions == ["inpatient.consent_created", "inpatient.consent_printed", "inpatient.consent_printed",
                       "inpatient.consent_received"]
    assert printed == w.clock.now()  # the first print stays the print time


def test_consent_with_proxy_keeps_full_id_off_the_audit_trail(w: World, db: Database) -> None:
    a = w.admit()
    c = w.svc.create_consent(w.clerk, a.id, proxy=ProxyInput(" 王秀英 ", "01", PROXY_ID.lower()))
    assert c.proxy_name == "王秀英" and c.proxy_id_type == "01"
    assert c.proxy_id_number_masked != PROXY_ID and c.proxy_id_number_masked.endswith(PROXY_ID[-4:])
    info = w.svc.mark_consent_printed(w.clerk, c.id)
    assert (info.proxy_name, info.proxy_id_type, info.proxy_id_number) == ("王秀英", "01", PROXY_ID)
    with db.reader() as s:
        patient_id_number = s.get(f.Patient, w.patients[0]).id_number
        details = s.execute(select(AuditRecord.detail)).scalars().all()
    text = repr(details)
    assert PROXY_ID not in text and patient_id_number not in text and "王**" in text


@pytest.mark.parametrize("proxy, field", [
    (ProxyInput("", "01", PROXY_ID), "proxy_name"),
    (ProxyInput("王秀英1", "01", PROXY_ID), "proxy_name"),
    (ProxyInput("王秀英", "09", PROXY_ID), "proxy_id_type"),
    (ProxyInput("王秀英", "01", PROXY_ID[:-1] + ("0" if PROXY_ID[-1] != "0" else "1")), "proxy_id_number"),
    (ProxyInput("王秀英", "01", ""), "proxy_id_number"),
    (ProxyInput("王秀英", "04", "12"), "proxy_id_number"),
])
def test_bad_proxy_saves_nothing(w: World, db: Database, proxy: ProxyInput, field: str) -> None:
    a = w.admit()
    with pytest.raises(ValidationError) as exc:
        w.svc.create_consent(w.clerk, a.id, proxy=proxy)
    assert exc.value.field == field
    assert w.svc.consents(w.clerk, a.id) == []


def test_the_patient_is_not_their_own_proxy_other_documents_are_fine(w: World, db: Database) -> None:
    a = w.admit()
    with db.reader() as s:
        patient = s.get(f.Patient, w.patients[0])
    with pytest.raises(ValidationError, match="代理人不能是患者本人"):
        w.svc.create_consent(w.clerk, a.id, proxy=ProxyInput("孙丽", patient.id_type, patient.id_number))
    passport = w.svc.create_consent(w.clerk, a.id, proxy=ProxyInput("John Smith", "04", "p98765432"))
    assert passport.proxy_id_type == "04"


def test_no_credit_deposit_before_the_signed_paper_is_received(w: World, db: Database) -> None:
    a = w.admit()
    for step in ("none", "created", "printed"):
        if step == "created":
            consent = w.svc.create_consent(w.clerk, a.id, proxy=PROXY)
        if step == "printed":
            w.svc.mark_consent_printed(w.clerk, consent.id)
        with pytest.raises(Conflict) as exc:
            w.svc.prepare_credit_payment(w.clerk, a.id, 100000)
        assert exc.value.code == "consent_not_received" and "书面确权" in exc.value.message
        with pytest.raises(Conflict):  # the write side checks again (a view that skipped prepare)
            w.svc.start_credit_payment(w.clerk, a.id, 100000, agreement_no="AG1", family_pay=False)
    assert payments(db) == 0
    w.svc.mark_consent_received(w.clerk, consent.id)
    plan = w.svc.prepare_credit_payment(w.clerk, a.id, 100000)
    assert plan.consent_id == consent.id and plan.purpose == "deposit" and plan.max_amount_fen is None
    with db.reader() as s:
        assert plan.patient_id_number == s.get(f.Patient, w.patients[0]).id_number  # for the sign query
    assert payments(db) == 0  # prepare writes nothing


def test_credit_deposit_pending_then_paid(w: World, db: Database) -> None:
    a = w.admit()
    consent_id = w.received_consent(a.id)
    seen: list[CreditPaymentRequest] = []

    def journal(s, request: CreditPaymentRequest) -> None:  # noqa: ANN001 - the gateway's attach
        assert s.get(Payment, request.payment_id).status == "pending"  # same transaction
        seen.append(request)

    request = w.svc.start_credit_payment(w.clerk, a.id, 200000, agreement_no="AG20261123", family_pay=True,
                                         attach=journal)
    assert seen == [request]
    assert (request.payment_no, request.amount_fen, request.consent_id, request.agreement_no, request.family_pay) == (
        "P20261123000001", 200000, consent_id, "AG20261123", True)
    account = w.svc.account(w.clerk, a.id)
    assert account.pending_in_fen == 200000 and account.balance_fen == 0 and not account.credit_used
    line = w.svc.record_credit_payment_outcome(w.clerk, request.payment_id, "success", bank_serial="BK0001")
    assert (line.status, line.bank_serial, line.channel, line.consent_id) == ("success", "BK0001", "credit", consent_id)
    account = w.svc.account(w.clerk, a.id)
    assert account.balance_fen == 200000 and account.credit_used and account.pending_in_fen == 0
    assert account.admission.agreement_no == "AG20261123" and account.admission.family_pay
    # the resolver reporting the same answer again changes nothing; a contradicting one is refused
    assert w.svc.record_credit_payment_outcome(w.clerk, request.payment_id, "success").status == "success"
    with pytest.raises(Conflict):
        w.svc.record_credit_payment_outcome(w.clerk, request.payment_id, "failed")
    with db.reader() as s:
        actions = s.execute(select(AuditRecord.action).where(AuditRecord.action.like("inpatient.credit%"))
                            .order_by(AuditRecord.seq)).scalars().all()
    assert actions == ["inpatient.credit_payment_started", "inpatient.credit_payment_success"]


def test_attach_failure_rolls_the_payment_back(w: World, db: Database) -> None:
    a = w.admit()
    w.received_consent(a.id)

    def broken(s, request) -> None:  # noqa: ANN001
        raise RuntimeError("journal down")

    with pytest.raises(RuntimeError):
        w.svc.start_credit_payment(w.clerk, a.id, 1000, agreement_no="AG1", family_pay=False, attach=broken)
    assert payments(db) == 0


def test_a_failed_or_unknown_pay_moves_no_money(w: World, db: Database) -> None:
    a = w.admit()
    w.received_consent(a.id)
    failed = w.credit_pay(a.id, 5000, outcome="failed")
    unknown = w.credit_pay(a.id, 7000, outcome="unknown")
    assert failed.payment_no != unknown.payment_no
    account = w.svc.account(w.clerk, a.id)
    assert account.balance_fen == 0 and account.pending_in_fen == 7000
    assert w.svc.record_credit_payment_outcome(w.clerk, unknown.payment_id, "unknown").status == "pending"
    with pytest.raises(ValidationError) as exc:
        w.svc.record_credit_payment_outcome(w.clerk, unknown.payment_id, "success", bank_serial=" ")
    assert exc.value.field == "bank_serial"


def test_insufficient_credit_leaves_nothing_behind_and_another_channel_pays(w: World, db: Database) -> None:
    """The pay check says no: the view shows the house text, the clerk takes another channel."""
    a = w.admit()
    w.received_consent(a.id)
    w.svc.prepare_credit_payment(w.clerk, a.id, 5_000_000)  # → bank pay check: cannot pay in full
    assert "“信用就医”可用额度不足" in texts.INPATIENT_CREDIT_INSUFFICIENT
    assert "偿还“信用就医”额度后再支付" in texts.INPATIENT_CREDIT_INSUFFICIENT
    assert texts.FORBIDDEN_SERVICE_NAMES[0] not in texts.INPATIENT_CREDIT_INSUFFICIENT
    assert payments(db) == 0
    w.svc.take_deposit(w.clerk, a.id, "unionpay", 5_000_000, "POS-123456")
    assert w.svc.account(w.clerk, a.id).balance_fen == 5_000_000


@pytest.mark.parametrize("kw, field", [
    ({"amount_fen": 0}, "amount_fen"), ({"amount_fen": 10.5}, "amount_fen"), ({"purpose": "lunch"}, "purpose"),
    ({"agreement_no": ""}, "agreement_no"), ({"agreement_no": "AG 1"}, "agreement_no"),
])
def test_bad_credit_payment_input(w: World, db: Database, kw: dict, field: str) -> None:
    a = w.admit()
    w.received_consent(a.id)
    args = {"amount_fen": 1000, "agreement_no": "AG1", "family_pay": False, "purpose": "deposit", **kw}
    with pytest.raises(ValidationError) as exc:
        w.svc.start_credit_payment(w.clerk, a.id, args.pop("amount_fen"), **args)
    assert exc.value.field == field
    assert payments(db) == 0


def test_consents_end_with_the_stay(w: World, db: Database) -> None:
    a = w.admit()
    with db.session() as s:
        s.get(Admission, a.id).status = "settled"
    with pytest.raises(Conflict):
        w.svc.create_consent(w.clerk, a.id)
