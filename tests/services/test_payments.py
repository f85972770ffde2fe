"""PaymentService: other-channel payments and recorded refunds, validated to the fen."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from desktop_his.services.db import Database
from desktop_his.services.enums import Role
from desktop_his.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from desktop_his.services.models import AuditRecord, MedicalOrder, Payment, Refund, Visit
from desktop_his.services.payments import PaymentService, validate_reference
from tests.services import regfix

TODAY = date(2026, 11, 23)


@pytest.fixture
def env(db: Database, clock):  # noqa: ANN001, ANN201
    with db.session() as s:
        doc = regfix.doctor(s, regfix.department(s, "内科"))
        slot = regfix.slot(s, doc, TODAY, fee_fen=1500)
        p = regfix.patient(s)
        other = regfix.patient(s, "李娜")
        visit = regfix.visit(s, p, slot, fee_status="unpaid")
        order = MedicalOrder(order_no="O1", kind="outpatient", patient_id=p.id, visit_id=visit.id, status="submitted",
                             total_fen=8800, fee_status="unpaid", created_at=regfix.AT)
        s.add(order)
        s.flush()
        ids = {"patient": p.id, "other": other.id, "visit": visit.id, "order": order.id}
    return PaymentService(db, clock), regfix.actor(Role.CASHIER), ids


def pay(env, **kw):  # noqa: ANN001, ANN003, ANN201
    svc, actor, ids = env
    args = {"patient_id": ids["patient"], "purpose": "registration", "amount_fen": 1500, "channel": "cash",
            "cash_received_fen": 2000, "visit_id": ids["visit"]}
    args.update(kw)
    return svc.record(actor, **args)


def test_cash_with_change(env, db: Database) -> None:  # noqa: ANN001
    payment = pay(env)
    assert (payment.amount_fen, payment.cash_received_fen, payment.change_fen) == (1500, 2000, 500)
    assert payment.payment_no == "P20261123000001" and payment.business_date == TODAY
    with db.reader() as s:
        assert s.get(Visit, env[2]["visit"]).fee_status == "paid"
        assert s.execute(select(AuditRecord.action)).scalars().all() == ["payment.recorded"]


@pytest.mark.parametrize("kw, field", [
    ({"cash_received_fen": 1499}, "cash_received_fen"),
    ({"cash_received_fen": None}, "cash_received_fen"),
    ({"amount_fen": 0}, "amount_fen"),
    ({"amount_fen": -5}, "amount_fen"),
    ({"amount_fen": 15.0}, "amount_fen"),
    ({"amount_fen": True}, "amount_fen"),
    ({"amount_fen": 1600, "cash_received_fen": 2000}, "amount_fen"),  # more than owed
    ({"channel": "credit"}, "channel"),
    ({"channel": "bitcoin"}, "channel"),
    ({"purpose": "lunch"}, "purpose"),
    ({"channel": "wechat", "reference_no": "134567890123456789", "cash_received_fen": 2000}, "cash_received_fen"),
    ({"order_id": 1}, "purpose"),  # two targets
])
def test_invalid_payments_save_nothing(env, db: Database, kw, field) -> None:  # noqa: ANN001
    with pytest.raises(ValidationError) as exc:
        pay(env, **kw)
    assert exc.value.field == field
    with db.reader() as s:
        assert s.execute(select(func.count()).select_from(Payment)).scalar_one() == 0
        assert s.get(Visit, env[2]["visit"]).fee_status == "unpaid"


@pytest.mark.parametrize("channel, good, bad", [
    ("wechat", ["134567890123456789", "4200001234202611231234567890"], ["164567890123456789", "13456789012345678"]),
    ("alipay", ["2812345678901234", "301234567890123456789012", "2026112322001234567890123456"],
     ["2412345678901234", "281234567890123", "3012345678901234567890123"]),
    ("unionpay", ["123456789012", "ab-123456"], ["12345", ""]),
    ("insurance", ["YB20261123000001"], ["", "x"]),
    ("cash", ["", "SJ001"], ["收据一"]),
])
def test_reference_formats(channel, good, bad) -> None:  # noqa: ANN001
    from desktop_his.services.enums import Channel

    for ref in good:
        assert validate_reference(Channel(channel), " " + ref + " ") == ref.upper()
    for ref in bad:
        with pytest.raises(ValidationError) as exc:
            validate_reference(Channel(channel), ref)
        assert exc.value.field == "reference_no"


def test_scanned_code_cannot_be_recorded_twice(env) -> None:  # noqa: ANN001
    svc, actor, ids = env
    pay(env, channel="wechat", reference_no="134567890123456789", cash_received_fen=None, amount_fen=500)
    with pytest.raises(Conflict, match="已登记过") as exc:
        pay(env, channel="wechat", reference_no="134567890123456789", cash_received_fen=None, amount_fen=500)
    assert exc.value.code == "duplicate_reference"


def test_mixed_payment_completes_the_fee(env, db: Database) -> None:  # noqa: ANN001
    pay(env, channel="insurance", reference_no="YB0001", cash_received_fen=None, amount_fen=1000)
    with db.reader() as s:
        assert s.get(Visit, env[2]["visit"]).fee_status == "unpaid"  # 5 yuan still owed
    with pytest.raises(ValidationError, match="尚欠¥5.00"):
        pay(env, amount_fen=600, cash_received_fen=600)
    pay(env, amount_fen=500, cash_received_fen=500)
    with db.reader() as s:
        assert s.get(Visit, env[2]["visit"]).fee_status == "paid"
    with pytest.raises(Conflict, match="已缴费"):
        pay(env, amount_fen=100, cash_received_fen=100)


def test_credit_visits_are_not_paid_again(env, db: Database) -> None:  # noqa: ANN001
    with db.session() as s:
        s.get(Visit, env[2]["visit"]).fee_status = "locked"
    with pytest.raises(Conflict, match="信用就医") as exc:
        pay(env)
    assert exc.value.code == "already_credit"


def test_order_payment(env, db: Database) -> None:  # noqa: ANN001
    _, _, ids = env
    pay(env, purpose="order", visit_id=None, order_id=ids["order"], amount_fen=8800, channel="alipay",
        reference_no="2812345678901234", cash_received_fen=None)
    with db.reader() as s:
        assert s.get(MedicalOrder, ids["order"]).fee_status == "paid"


def test_target_must_belong_to_the_patient(env) -> None:  # noqa: ANN001
    _, _, ids = env
    with pytest.raises(NotFound):
        pay(env, patient_id=ids["other"])


def test_permissions(env) -> None:  # noqa: ANN001
    svc, _, ids = env
    with pytest.raises(PermissionDenied):
        svc.record(regfix.actor(Role.DOCTOR), patient_id=ids["patient"], purpose="registration", amount_fen=1500,
                   channel="cash", cash_received_fen=1500, visit_id=ids["visit"])


def test_recorded_refunds_never_exceed_what_was_paid(env, db: Database) -> None:  # noqa: ANN001
    svc, actor, ids = env
    payment = pay(env)
    first = svc.record_refund(actor, payment.id, 500, "部分退费")
    assert (first.method, first.status, first.channel, first.amount_fen) == ("recorded", "success", "cash", 500)
    with db.reader() as s:
        assert s.get(Visit, ids["visit"]).fee_status == "partly_refunded"
    with pytest.raises(ValidationError, match="最多还可退¥10.00"):
        svc.record_refund(actor, payment.id, 1001, "超额")
    with pytest.raises(ValidationError) as exc:
        svc.record_refund(actor, payment.id, 100, " ")
    assert exc.value.field == "reason"
    svc.record_refund(actor, payment.id, 1000, "余款")
    with db.reader() as s:
        assert s.get(Payment, payment.id).refunded_fen == 1500
        assert s.get(Visit, ids["visit"]).fee_status == "refunded"
        assert s.execute(select(func.count()).select_from(Refund)).scalar_one() == 2
    with pytest.raises(ValidationError):
        svc.record_refund(actor, payment.id, 1, "再退")


def test_credit_payments_are_not_refunded_here(env, db: Database) -> None:  # noqa: ANN001
    svc, actor, ids = env
    with db.session() as s:
        p = Payment(payment_no="P1", channel="credit", purpose="deposit", amount_fen=100, patient_id=ids["patient"],
                    business_date=TODAY, created_at=regfix.AT)
        s.add(p)
        s.flush()
        pid = p.id
    with pytest.raises(ValidationError, match="银行接口"):
        svc.record_refund(actor, pid, 100, "x")
    with pytest.raises(PermissionDenied):
        svc.record_refund(regfix.actor(Role.DOCTOR), pid, 100, "x")
