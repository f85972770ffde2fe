"""The running account: bed days (idempotent, also on two PCs at once), inpatient orders, manual charges,
reversals, deposits by every other channel."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from desktop_his.services import order_queries
from desktop_his.services.db import Database
from desktop_his.services.enums import Role
from desktop_his.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from desktop_his.services.models import AuditRecord, InpatientCharge, MedicalOrder, Payment
from tests import factories as f
from tests.services.inpatientfix import World, make_world

MON, TUE, WED, THU = (date(2026, 11, 23) + timedelta(days=n) for n in range(4))


@pytest.fixture
def w(db: Database, clock) -> World:  # noqa: ANN001
    return make_world(db, clock)


def charges(db: Database, admission_id: int) -> list[InpatientCharge]:
    with db.reader() as s:
        return list(s.execute(select(InpatientCharge).where(InpatientCharge.admission_id == admission_id)
                              .order_by(InpatientCharge.id)).scalars())


def audit_actions(db: Database) -> list[str]:
    with db.reader() as s:
        return list(s.execute(select(AuditRecord.action).order_by(AuditRecord.seq)).scalars())


# ------------------------------------------------------------------------------------------- bed days


def test_bed_days_are_charged_once_per_calendar_day(w: World, db: Database) -> None:
    a = w.admit(daily_bed_fen=6000)
    free = w.admit(w.patients[1], daily_bed_fen=0)
    run = w.svc.post_bed_charges(w.clerk, MON)
    assert (run.admissions, run.days_posted, run.amount_fen) == (2, 1, 6000)
    assert w.svc.post_bed_charges(w.clerk, MON).days_posted == 0
    w.clock.set(datetime(2026, 11, 26, 0, 5))  # the nightly run on Thursday charges up to Wednesday
    run = w.svc.post_bed_charges(w.clerk, WED)
    assert (run.days_posted, run.amount_fen) == (2, 12000)
    assert w.svc.post_bed_charges(w.clerk, WED).days_posted == 0
    rows = charges(db, a.id)
    assert [(r.charge_date, r.source, r.category, r.amount_fen) for r in rows] == [
        (MON, "bed", "bed", 6000), (TUE, "bed", "bed", 6000), (WED, "bed", "bed", 6000)]
    assert rows[0].description == "床位费（内科一病区 1床）"
    assert charges(db, free.id) == []
    account = w.svc.account(w.clerk, a.id)
    assert account.cost_by_day == ((MON, 6000), (TUE, 6000), (WED, 6000))
    assert account.cost_by_category == (("bed", 18000),) and account.total_cost_fen == 18000
    assert account.balance_fen == -18000
    assert audit_actions(db).count("inpatient.bed_charged") == 2


def test_bed_days_cannot_be_charged_ahead_and_for_one_admission_only(w: World, db: Database) -> None:
    a, b = w.admit(), w.admit(w.patients[1])
    with pytest.raises(ValidationError) as exc:
        w.svc.post_bed_charges(w.clerk, TUE)
    assert exc.value.field == "up_to_day"
    assert w.svc.post_bed_charges(w.clerk, MON, admission_id=b.id).days_posted == 1
    assert charges(db, a.id) == []
    assert w.svc.post_bed_charges(w.clerk, MON - timedelta(days=3)).days_posted == 0  # before admission


def test_a_reversed_bed_day_is_not_charged_again(w: World, db: Database) -> None:
    a = w.admit()
    w.svc.post_bed_charges(w.clerk, MON)
    w.svc.reverse_charge(w.clerk, charges(db, a.id)[0].id, "请假离院")
    assert w.svc.post_bed_charges(w.clerk, MON).days_posted == 0
    assert w.svc.account(w.clerk, a.id).total_cost_fen == 0


def test_two_pcs_posting_bed_days_at_once_never_double_charge(w: World, db: Database) -> None:
    admissions = [w.admit(p) for p in w.patients]
    w.clock.set(datetime(2026, 11, 26, 0, 5))
    barrier, errors = threading.Barrier(2), []

    def run() -> None:
        try:
            barrier.wait()
            w.svc.post_bed_charges(w.clerk, WED)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for a in admissions:
        assert [r.charge_date for r in charges(db, a.id)] == [MON, TUE, WED]


# --------------------------------------------------------------------------------------------- orders


def order(w: World, db: Database, admission_id: int, *, status: str = "submitted", kind: str = "inpatient",
          **kw) -> int:  # noqa: ANN003
    with db.session() as s:
        admission = s.get(f.Admission, admission_id)
        drug, lab = s.get(f.CatalogItem, w.drug_id), s.get(f.CatalogItem, w.lab_id)
        o = f.make_inpatient_order(s, admission, [(drug, 2), (lab, 1)], status=status,
                                   at=datetime(2026, 11, 23, 10), **kw)
        o.kind = kind
        return o.id


def test_an_inpatient_order_is_posted_once(w: World, db: Database) -> None:
    a = w.admit()
    order_id = order(w, db, a.id)
    posted = w.svc.post_order_charges(w.clerk, order_id)
    assert [(c.description, c.category, c.quantity, c.amount_fen, c.charge_date) for c in posted] == [
        ("头孢曲松钠注射液 1g", "drug", 2, 9100, MON), ("血常规", "lab", 1, 2500, MON)]
    again = w.svc.post_order_charges(w.clerk, order_id)
    assert [c.id for c in again] == [c.id for c in posted]
    assert len(charges(db, a.id)) == 2
    with db.reader() as s:
        assert s.get(MedicalOrder, order_id).fee_status == "paid"  # charged to the account
        # never offered at a cashier window, never refunded at one
        assert order_queries.unpaid_orders(s, patient_id=w.patients[0], visit_id=None) == []
    account = w.svc.account(w.clerk, a.id)
    assert account.cost_by_category == (("drug", 9100), ("lab", 2500))
    assert audit_actions(db).count("inpatient.order_posted") == 1


def test_an_executed_order_is_posted_at_what_was_given(w: World, db: Database) -> None:
    a = w.admit()
    order_id = order(w, db, a.id, status="executed")
    with db.session() as s:
        drug_item, lab_item = s.get(MedicalOrder, order_id).items
        drug_item.actual_quantity, drug_item.actual_amount_fen = 1, 4550
        lab_item.actual_quantity, lab_item.actual_amount_fen = 0, 0
    posted = w.svc.post_order_charges(w.clerk, order_id)
    assert [(c.quantity, c.amount_fen) for c in posted] == [(1, 4550)]


@pytest.mark.parametrize("status, kind, error", [
    ("draft", "inpatient", Conflict), ("revoked", "inpatient", Conflict), ("submitted", "outpatient", ValidationError),
])
def test_orders_that_cannot_be_posted(w: World, db: Database, status: str, kind: str, error: type) -> None:
    a = w.admit()
    with pytest.raises(error):
        w.svc.post_order_charges(w.clerk, order(w, db, a.id, status=status, kind=kind))
    assert charges(db, a.id) == []
    with pytest.raises(NotFound):
        w.svc.post_order_charges(w.clerk, 99999)


def test_a_revoked_order_is_reversed_on_the_account(w: World, db: Database) -> None:
    a = w.admit()
    order_id = order(w, db, a.id)
    w.svc.post_order_charges(w.clerk, order_id)
    reversals = w.svc.reverse_order_charges(w.clerk, order_id, "医嘱已撤销")
    assert [r.amount_fen for r in reversals] == [-9100, -2500]
    assert all(r.is_reversal and r.order_id == order_id for r in reversals)
    assert w.svc.account(w.clerk, a.id).total_cost_fen == 0
    with pytest.raises(Conflict):
        w.svc.reverse_order_charges(w.clerk, order_id, "再撤一次")
    with db.reader() as s:
        assert order_queries.window_refunds_due(s, patient_id=w.patients[0], visit_id=None) == []


# ------------------------------------------------------------------------------ manual and reversals


def test_manual_charges_from_the_catalogue_or_described(w: World, db: Database) -> None:
    a = w.admit()
    w.clock.set(datetime(2026, 11, 25, 10))
    item = w.svc.post_charge(w.clerk, a.id, catalog_item_id=w.lab_id, quantity=2, charge_date=TUE)
    assert (item.description, item.category, item.quantity, item.amount_fen, item.charge_date) == (
        "血常规", "lab", 2, 5000, TUE)
    other = w.svc.post_charge(w.clerk, a.id, description=" 陪护  床 ", unit_price_fen=3000, quantity=3)
    assert (other.description, other.category, other.amount_fen, other.charge_date, other.source) == (
        "陪护 床", "other", 9000, WED, "manual")
    treat = w.svc.post_charge(w.clerk, a.id, description="吸氧", unit_price_fen=500, category="treatment")
    assert treat.category_label == "治疗"
    assert w.svc.account(w.clerk, a.id).total_cost_fen == 14500
    assert audit_actions(db).count("inpatient.charge_posted") == 3


@pytest.mark.parametrize("kw, field", [
    ({"description": "", "unit_price_fen": 100}, "description"),
    ({"description": "陪护", "unit_price_fen": 0}, "unit_price_fen"),
    ({"description": "陪护", "unit_price_fen": 12.5}, "unit_price_fen"),
    ({"description": "陪护", "unit_price_fen": 100, "category": "lunch"}, "category"),
    ({"description": "陪护", "unit_price_fen": 100, "quantity": 0}, "quantity"),
    ({"description": "陪护", "unit_price_fen": 100, "quantity": 10_000}, "quantity"),
    ({"description": "陪" * 101, "unit_price_fen": 100}, "description"),
    ({"description": "陪护", "unit_price_fen": 100, "charge_date": date(2026, 11, 22)}, "charge_date"),
    ({"description": "陪护", "unit_price_fen": 100, "charge_date": TUE}, "charge_date"),
    ({"catalog_item_id": 99999}, "catalog_item_id"),
])
def test_bad_manual_charges_save_nothing(w: World, db: Database, kw: dict, field: str) -> None:
    a = w.admit()
    with pytest.raises(ValidationError) as exc:
        w.svc.post_charge(w.clerk, a.id, **kw)
    assert exc.value.field == field
    assert charges(db, a.id) == []


def test_a_reversal_is_a_negative_row_never_an_edit(w: World, db: Database) -> None:
    a = w.admit()
    w.clock.set(datetime(2026, 11, 25, 10))
    charge = w.svc.post_charge(w.clerk, a.id, description="陪护", unit_price_fen=3000, charge_date=TUE)
    reversal = w.svc.reverse_charge(w.clerk, charge.id, "录入错误")
    assert (reversal.amount_fen, reversal.reversed_charge_id, reversal.charge_date) == (-3000, charge.id, TUE)
    assert reversal.description == "冲销：陪护（录入错误）" and reversal.source == "manual"
    rows = charges(db, a.id)
    assert [(r.id, r.amount_fen) for r in rows] == [(charge.id, 3000), (reversal.id, -3000)]  # original untouched
    account = w.svc.account(w.clerk, a.id)
    assert account.cost_by_day == ((TUE, 0),) and account.cost_by_category == ()
    assert [c.reversed_by_id for c in account.charges] == [reversal.id, None]
    with pytest.raises(Conflict, match="已冲销"):
        w.svc.reverse_charge(w.clerk, charge.id, "再冲")
    with pytest.raises(Conflict, match="冲销记录不能再冲销"):
        w.svc.reverse_charge(w.clerk, reversal.id, "反冲")
    with pytest.raises(ValidationError) as exc:
        w.svc.reverse_charge(w.clerk, charge.id, " ")
    assert exc.value.field == "reason"
    with pytest.raises(NotFound):
        w.svc.reverse_charge(w.clerk, 99999, "无")
    with db.reader() as s:
        detail = s.execute(select(AuditRecord.detail).where(AuditRecord.action == "inpatient.charge_reversed")
                           ).scalar_one()
        assert detail["reason"] == "录入错误" and detail["amount_fen"] == -3000


# ------------------------------------------------------------------------------------------- deposits


@pytest.mark.parametrize("channel, reference, cash, label", [
    ("cash", "", 100000, "现金"),
    ("wechat", "134567890123456789", None, "微信"),
    ("alipay", "2812345678901234", None, "支付宝"),
    ("unionpay", "POS-778899", None, "银联卡"),
    ("insurance", "YB2026112300001", None, "医保"),
])
def test_deposit_by_each_other_channel(w: World, db: Database, channel: str, reference: str, cash, label: str) -> None:  # noqa: ANN001
    a = w.admit()
    line = w.svc.take_deposit(w.clerk, a.id, channel, 80000, reference, cash_received_fen=cash)
    assert (line.channel, line.channel_label, line.purpose, line.amount_fen, line.status) == (
        channel, label, "deposit", 80000, "success")
    assert line.reference_no == reference.upper()
    with db.reader() as s:
        payment = s.get(Payment, line.id)
        assert payment.admission_id == a.id and payment.patient_id == w.patients[0]
        if channel == "cash":
            assert payment.change_fen == 20000
    account = w.svc.account(w.clerk, a.id)
    [totals] = account.channels
    assert (totals.channel, totals.deposited_fen, totals.net_fen) == (channel, 80000, 80000)
    assert account.balance_fen == 80000 and account.held_fen == 80000 and not account.credit_used
    assert audit_actions(db)[-2:] == ["payment.recorded", "inpatient.deposit_taken"]


def test_deposits_accumulate_per_channel(w: World) -> None:
    a = w.admit()
    w.svc.take_deposit(w.clerk, a.id, "cash", 50000, cash_received_fen=50000)
    w.svc.take_deposit(w.clerk, a.id, "wechat", 30000, "134567890123456789")
    w.svc.take_deposit(w.clerk, a.id, "cash", 20000, cash_received_fen=20000)
    account = w.svc.account(w.clerk, a.id)
    assert [(c.channel, c.deposited_fen) for c in account.channels] == [("wechat", 30000), ("cash", 70000)]
    assert account.deposited_fen == 100000


@pytest.mark.parametrize("channel, amount, reference, cash, field", [
    ("credit", 1000, "", None, "channel"),
    ("bitcoin", 1000, "", None, "channel"),
    ("cash", 0, "", 0, "amount_fen"),
    ("cash", 1000, "", 999, "cash_received_fen"),
    ("wechat", 1000, "123", None, "reference_no"),
    ("unionpay", 1000.0, "POS-778899", None, "amount_fen"),
])
def test_bad_deposits_save_nothing(w: World, db: Database, channel, amount, reference, cash, field) -> None:  # noqa: ANN001
    a = w.admit()
    with pytest.raises(ValidationError) as exc:
        w.svc.take_deposit(w.clerk, a.id, channel, amount, reference, cash_received_fen=cash)
    assert exc.value.field == field
    with db.reader() as s:
        assert s.execute(select(func.count()).select_from(Payment)).scalar_one() == 0


def test_the_same_wechat_reference_cannot_be_deposited_twice(w: World) -> None:
    a = w.admit()
    w.svc.take_deposit(w.clerk, a.id, "wechat", 1000, "134567890123456789")
    with pytest.raises(Conflict) as exc:
        w.svc.take_deposit(w.clerk, a.id, "wechat", 1000, "134567890123456789")
    assert exc.value.field == "reference_no"


def test_who_may_do_what(w: World, db: Database) -> None:
    a = w.admit()
    with db.session() as s:
        cashier = f.actor_for(f.make_staff(s, Role.CASHIER))
        doctor = f.doctor_actor(s.get(f.Doctor, w.doctor_id))
    with pytest.raises(PermissionDenied):
        w.svc.take_deposit(cashier, a.id, "cash", 100, cash_received_fen=100)
    with pytest.raises(PermissionDenied):
        w.svc.post_charge(doctor, a.id, description="陪护", unit_price_fen=100)
    with pytest.raises(PermissionDenied):
        w.svc.post_bed_charges(cashier, MON)
    with pytest.raises(PermissionDenied):
        w.svc.account(cashier, a.id)
