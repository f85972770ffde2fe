"""RegistrationService: search, slots, register (atomic last place), check-in, cancellation, 停诊, history."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from desktop_his.services import live
from desktop_his.services import registration as registration_module
from desktop_his.services.db import Database
from desktop_his.services.enums import (
    DepartmentKind,
    LockStatus,
    NoShowKind,
    Period,
    RefundMethod,
    RefundStatus,
    Role,
)
from desktop_his.services.errors import Conflict, PermissionDenied, RuleViolation, ValidationError
from desktop_his.services.models import (
    AuditRecord,
    CreditLock,
    NoShowEntry,
    Patient,
    Payment,
    Refund,
    Slot,
    Visit,
)
from desktop_his.services.payments import PaymentInput, PaymentService
from desktop_his.services.registration import RegistrationService
from desktop_his.services.registration_rules import RegistrationRefused
from desktop_his.services.rules_config import RegistrationRules, save_rules
from tests.conftest import PgSchema
from tests.services import regfix

TODAY = date(2026, 11, 23)


@pytest.fixture
def setup(db: Database, clock):  # noqa: ANN001, ANN201
    with db.session() as s:
        nk = regfix.department(s, "内科")
        regfix.department(s, "内分泌科")
        regfix.department(s, "西药房", kind=DepartmentKind.PHARMACY)
        regfix.department(s, "停用科", active=False)
        doc = regfix.doctor(s, nk, "李明", title="主任医师", room="3诊室")
        slot = regfix.slot(s, doc, TODAY, capacity=3, fee_fen=1500)
        later = regfix.slot(s, doc, TODAY + timedelta(days=2))
        st = regfix.staff(s)
        ids = {"dept": nk.id, "doctor": doc.id, "slot": slot.id, "later": later.id,
               "p1": regfix.patient(s, "张伟", phone="13900000001").id,
               "p2": regfix.patient(s, "𠮷野").id}
    return RegistrationService(db, clock), regfix.actor(Role.CASHIER, staff_id=st.id), ids


def count(db: Database, model) -> int:  # noqa: ANN001
    with db.reader() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


# --------------------------------------------------------------------------------------------- search


def test_department_search_by_pinyin_and_chinese(setup) -> None:  # noqa: ANN001
    svc, _, _ = setup
    assert [d.name for d in svc.search_departments("nk")] == ["内科"]
    assert [d.name for d in svc.search_departments("nfm")] == ["内分泌科"]
    assert [d.name for d in svc.search_departments("内")] == ["内科", "内分泌科"]
    assert {d.name for d in svc.search_departments("")} == {"内科", "内分泌科"}  # no pharmacy, no inactive


def test_doctor_search(setup) -> None:  # noqa: ANN001
    svc, _, ids = setup
    [doc] = svc.search_doctors("lm")
    assert (doc.name, doc.department_name, doc.title) == ("李明", "内科", "主任医师")
    assert svc.search_doctors("李", department_id=ids["dept"])[0].id == ids["doctor"]
    assert svc.search_doctors("lm", department_id=ids["dept"] + 1) == []


def test_available_slots_show_remaining_places(setup, clock) -> None:  # noqa: ANN001
    svc, actor, ids = setup
    svc.register(actor, ids["p1"], ids["slot"])
    slots = svc.available_slots(department_id=ids["dept"])
    assert [(s.date, s.remaining, s.bookable) for s in slots] == [(TODAY, 2, True), (TODAY + timedelta(days=2), 30, True)]
    assert slots[0].period_label == "上午" and slots[0].doctor_name == "李明"
    assert [s.id for s in svc.available_slots(doctor_id=ids["doctor"], days=1)] == [ids["slot"]]
    clock.set(datetime(2026, 11, 23, 12, 30))
    assert svc.available_slots(doctor_id=ids["doctor"], days=1)[0].bookable is False  # morning is over
    with pytest.raises(ValidationError):
        svc.available_slots()


# ------------------------------------------------------------------------------------------ register


def test_register_takes_a_place_and_a_queue_number(setup, db: Database) -> None:  # noqa: ANN001
    svc, actor, ids = setup
    first = svc.register(actor, ids["p1"], ids["slot"])
    second = svc.register(actor, ids["p2"], ids["slot"])
    assert (first.queue_no, second.queue_no) == (1, 2)
    assert first.visit_no == "V20261123000001" and second.visit_no == "V20261123000002"
    assert (first.fee_fen, first.fee_status, first.status, first.mark) == (1500, "unpaid", "registered", "未缴费")
    assert first.id_number_masked.count("*") == 10 and second.patient_name == "𠮷野"
    assert first.location.endswith("3诊室")
    with db.reader() as s:
        assert s.get(Slot, ids["slot"]).taken == 2
        actions = s.execute(select(AuditRecord.action)).scalars().all()
    assert actions == ["registration.created", "registration.created"]


def test_registration_is_announced_to_the_doctor_station(setup, db: Database) -> None:  # noqa: ANN001
    svc, actor, ids = setup
    got: set[str] = set()
    seen = threading.Event()
    watcher = live.ChangeWatcher(db, lambda t: (got.update(t), seen.set()), prefixes=["doctor:", "department:"],
                                 poll_interval=0.05).start()
    try:
        assert watcher.wait_ready()
        svc.register(actor, ids["p1"], ids["slot"])
        assert seen.wait(5)
        deadline = datetime.now() + timedelta(seconds=5)
        while {f"doctor:{ids['doctor']}", f"department:{ids['dept']}"} - got and datetime.now() < deadline:
            seen.clear()
            seen.wait(0.2)
    finally:
        watcher.stop()
    assert {f"doctor:{ids['doctor']}", f"department:{ids['dept']}"} <= got


def test_register_with_cash_in_one_transaction(setup, db: Database) -> None:  # noqa: ANN001
    svc, actor, ids = setup
    visit = svc.register(actor, ids["p1"], ids["slot"], payment=PaymentInput("cash", cash_received_fen=2000))
    assert (visit.fee_status, visit.mark) == ("paid", "现金")
    with db.reader() as s:
        payment = s.execute(select(Payment)).scalar_one()
    assert (payment.amount_fen, payment.change_fen, payment.visit_id) == (1500, 500, visit.id)


def test_a_bad_payment_saves_no_registration(setup, db: Database) -> None:  # noqa: ANN001
    svc, actor, ids = setup
    with pytest.raises(ValidationError) as exc:
        svc.register(actor, ids["p1"], ids["slot"], payment=PaymentInput("cash", cash_received_fen=1000))
    assert exc.value.field == "cash_received_fen"
    assert count(db, Visit) == 0 and count(db, Payment) == 0
    with db.reader() as s:
        assert s.get(Slot, ids["slot"]).taken == 0


def test_register_needs_the_right(setup) -> None:  # noqa: ANN001
    svc, _, ids = setup
    with pytest.raises(PermissionDenied):
        svc.register(regfix.actor(Role.DOCTOR), ids["p1"], ids["slot"])


def _race(dbs: list[Database], clock, slot_id: int, patients: list[int], *, barrier: bool) -> list[object]:  # noqa: ANN001
    """Each thread registers one patient through its own engine (its own connections)."""
    results: list[object] = [None] * len(patients)
    gate = threading.Barrier(len(patients), timeout=20)
    services = []
    for db in dbs:
        svc = RegistrationService(db, clock)
        if barrier:
            # Every window passes the rule check (seeing one place left) before any of them takes it.
            real = svc.engine.require_allowed

            def checked_then_wait(*a, _real=real, **k):  # noqa: ANN002, ANN003, ANN202
                _real(*a, **k)
                gate.wait()
            svc.engine.require_allowed = checked_then_wait
        services.append(svc)

    def run(i: int) -> None:
        try:
            results[i] = services[i].register(regfix.actor(), patients[i], slot_id)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(patients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _last_place_world(db: Database, n: int) -> tuple[int, list[int]]:
    with db.session() as s:
        doc = regfix.doctor(s, regfix.department(s, "内科"))
        slot = regfix.slot(s, doc, TODAY, capacity=5, taken=4, next_queue_no=5)
        patients = [regfix.patient(s, f"患者{i}").id for i in range(n)]
    return slot.id, patients


def _assert_one_winner(db: Database, results: list[object], slot_id: int) -> None:
    winners = [r for r in results if isinstance(r, registration_module.VisitInfo)]
    losers = [r for r in results if isinstance(r, RegistrationRefused)]
    assert len(winners) == 1, results
    assert len(losers) == len(results) - 1, results
    assert {r.code for r in losers} == {"slot_full"}
    assert winners[0].queue_no == 5
    with db.reader() as s:
        slot = s.get(Slot, slot_id)
        assert (slot.taken, slot.capacity) == (5, 5)
        assert s.execute(select(func.count()).select_from(Visit)).scalar_one() == 1


@pytest.mark.postgres
def test_last_place_race_on_postgresql(pg_schema: PgSchema, clock) -> None:  # noqa: ANN001
    from desktop_his.services.models import Base

    setup_db = pg_schema.database()
    Base.metadata.create_all(setup_db.engine)
    slot_id, patients = _last_place_world(setup_db, 4)
    dbs = [pg_schema.database() for _ in patients]
    try:
        results = _race(dbs, clock, slot_id, patients, barrier=True)
        _assert_one_winner(setup_db, results, slot_id)
    finally:
        for db in dbs + [setup_db]:
            db.dispose()


def test_last_place_race_on_sqlite(tmp_path, clock) -> None:  # noqa: ANN001
    from desktop_his.services.models import Base

    url = f"sqlite:///{tmp_path / 'race.sqlite3'}"
    setup_db = Database.from_url(url)
    Base.metadata.create_all(setup_db.engine)
    slot_id, patients = _last_place_world(setup_db, 4)
    dbs = [Database.from_url(url) for _ in patients]
    try:
        # SQLite serialises writers (BEGIN IMMEDIATE): a barrier inside the transaction would dead-lock.
        results = _race(dbs, clock, slot_id, patients, barrier=False)
        _assert_one_winner(setup_db, results, slot_id)
    finally:
        for db in dbs + [setup_db]:
            db.dispose()


def test_place_taken_between_check_and_update_is_refused_cleanly(setup, db, monkeypatch) -> None:  # noqa: ANN001
    svc, actor, ids = setup
    real = svc.engine.require_allowed

    def then_another_window_suspends(s, patient, slot, now):  # noqa: ANN001, ANN202
        real(s, patient, slot, now)
        with db.session() as other:  # SQLite: a second writer would wait for us, so only on PostgreSQL
            other.get(Slot, slot.id).suspended = True

    if db.is_sqlite:
        pytest.skip("SQLite serialises writers; covered by the PostgreSQL run")
    monkeypatch.setattr(svc.engine, "require_allowed", then_another_window_suspends)
    with pytest.raises(RegistrationRefused) as exc:
        svc.register(actor, ids["p1"], ids["slot"])
    assert exc.value.code == "slot_suspended"
    assert count(db, Visit) == 0


# ----------------------------------------------------------------------------------------- check-in


def _paid_visit(svc: RegistrationService, actor, patient_id: int, slot_id: int):  # noqa: ANN001, ANN202
    return svc.register(actor, patient_id, slot_id, payment=PaymentInput("cash", cash_received_fen=10000))


def test_check_in_counts_toward_forgiveness(setup, db: Database) -> None:  # noqa: ANN001
    svc, actor, ids = setup
    visit = _paid_visit(svc, actor, ids["p1"], ids["slot"])
    checked = svc.check_in(actor, visit.id)
    assert (checked.status, checked.status_label) == ("checked_in", "已取号")
    assert svc.check_in(actor, visit.id).checked_in_at == checked.checked_in_at  # twice: no change
    with db.reader() as s:
        assert s.get(Patient, ids["p1"]).checkin_streak == 1
        assert s.execute(select(NoShowEntry.kind)).scalars().all() == [NoShowKind.CHECK_IN]


def test_check_in_refusals(setup, clock) -> None:  # noqa: ANN001
    svc, actor, ids = setup
    unpaid = svc.register(actor, ids["p1"], ids["slot"])
    with pytest.raises(Conflict, match="尚未缴纳") as exc:
        svc.check_in(actor, unpaid.id)
    assert exc.value.code == "fee_unpaid"
    later = _paid_visit(svc, actor, ids["p2"], ids["later"])
    with pytest.raises(Conflict, match="就诊当天") as exc:
        svc.check_in(actor, later.id)
    with pytest.raises(PermissionDenied):
        svc.check_in(regfix.actor(Role.FINANCE), later.id)


# ------------------------------------------------------------------------------------- cancellation


def test_unpaid_registration_cancels_and_frees_its_place(setup, db: Database) -> None:  # noqa: ANN001
    svc, actor, ids = setup
    visit = svc.register(actor, ids["p1"], ids["slot"])
    plan = svc.prepare_cancellation(actor, visit.id)
    assert plan.allowed and plan.money == () and plan.blocked == ""
    with pytest.raises(ValidationError):
        svc.cancel(actor, visit.id, "  ")
    done = svc.cancel(actor, visit.id, "患者不看了", checked_at=plan.checked_at)
    assert (done.status, done.fee_status, done.cancel_reason) == ("cancelled", "cancelled", "患者不看了")
    with db.reader() as s:
        assert s.get(Slot, ids["slot"]).taken == 0
    with pytest.raises(Conflict, match="已退号"):
        svc.cancel(actor, visit.id, "again")
    assert svc.register(actor, ids["p1"], ids["slot"]).queue_no == 2  # queue numbers are never reused


def test_paid_registration_needs_its_refund_first(setup, db: Database, clock) -> None:  # noqa: ANN001
    svc, actor, ids = setup
    visit = _paid_visit(svc, actor, ids["p1"], ids["slot"])
    plan = svc.prepare_cancellation(actor, visit.id)
    [money] = plan.money
    assert (money.method, money.channel, money.amount_fen) == (RefundMethod.RECORDED, "cash", 1500)
    assert money.description == "现金¥15.00（原渠道退还）"
    with pytest.raises(Conflict, match="请先办理退费") as exc:
        svc.cancel(actor, visit.id, "退号")
    assert exc.value.code == "money_outstanding"
    PaymentService(db, clock).record_refund(actor, money.payment_id, money.amount_fen, "退号退费")
    done = svc.cancel(actor, visit.id, "退号", checked_at=plan.checked_at)
    assert (done.status, done.fee_status) == ("cancelled", "refunded")


def _credit_visit(db: Database, svc, actor, ids, lock_status: str, **lock) -> int:  # noqa: ANN001
    visit = svc.register(actor, ids["p1"], ids["slot"])
    with db.session() as s:
        v = s.get(Visit, visit.id)
        v.credit, v.fee_status = True, {"pending": "pending", "locked": "locked"}.get(lock_status, "deducted")
        s.add(CreditLock(lock_no=f"L{visit.id}", patient_id=v.patient_id, visit_id=v.id, purpose="registration",
                         agreement_no="AG1", amount_fen=1500, status=lock_status, business_date=TODAY,
                         lock_serial="SER1", created_at=datetime(2026, 11, 23, 9), **lock))
    return visit.id


@pytest.mark.parametrize("lock_status, method, amount", [
    (LockStatus.LOCKED, RefundMethod.BANK_CANCEL, 1500),
    (LockStatus.DEDUCTED, RefundMethod.BANK_REFUND, 1200),
])
def test_credit_money_back_follows_table_1(setup, db, lock_status, method, amount) -> None:  # noqa: ANN001
    svc, actor, ids = setup
    visit_id = _credit_visit(db, svc, actor, ids, lock_status, deducted_fen=1200 if amount == 1200 else 0)
    plan = svc.prepare_cancellation(actor, visit_id)
    [money] = plan.money
    assert (money.method, money.channel, money.amount_fen, money.lock_serial) == (method, "credit", amount, "SER1")
    assert plan.visit.mark == "信用就医"
    with pytest.raises(Conflict):
        svc.cancel(actor, visit_id, "退号")
    with db.session() as s:  # the credit flow's refund, answered DCBS0004PL0974 and queued
        s.add(Refund(refund_no="R1", method=method, channel="credit", amount_fen=amount,
                     status=RefundStatus.QUEUED, credit_lock_id=money.credit_lock_id, patient_id=ids["p1"],
                     visit_id=visit_id, business_date=TODAY, created_at=datetime(2026, 11, 23, 9, 5)))
    assert svc.prepare_cancellation(actor, visit_id).money == ()
    assert svc.cancel(actor, visit_id, "退号").status == "cancelled"


def test_unknown_lock_outcome_blocks_cancellation(setup, db) -> None:  # noqa: ANN001
    svc, actor, ids = setup
    visit_id = _credit_visit(db, svc, actor, ids, LockStatus.PENDING)
    assert "尚未确认" in svc.prepare_cancellation(actor, visit_id).blocked
    with pytest.raises(Conflict, match="尚未确认"):
        svc.cancel(actor, visit_id, "退号")


def test_advance_booking_deadline(setup, db, clock) -> None:  # noqa: ANN001
    svc, actor, ids = setup
    visit = svc.register(actor, ids["p1"], ids["later"])  # for 25 Nov; default deadline 24 Nov 00:00
    assert svc.prepare_cancellation(actor, visit.id).deadline == datetime(2026, 11, 24, 0, 0)
    clock.set(datetime(2026, 11, 24, 0, 0))
    plan = svc.prepare_cancellation(actor, visit.id)
    assert not plan.allowed and "11月24日 00:00前退号" in plan.refusal
    with pytest.raises(Conflict, match="已过退号截止时间") as exc:
        svc.cancel(actor, visit.id, "退号")
    assert exc.value.code == "cancel_not_allowed"
    with db.session() as s:  # this hospital: until 20:00 the day before
        save_rules(s, RegistrationRules(cancel_time="20:00"), at=clock.now(), by="admin")
    clock.set(datetime(2026, 11, 24, 19, 59))
    assert svc.prepare_cancellation(actor, visit.id).allowed
    clock.set(datetime(2026, 11, 24, 20, 0))
    assert "20:00前退号" in svc.prepare_cancellation(actor, visit.id).refusal


def test_a_plan_checked_before_the_deadline_is_honoured_briefly(setup, clock) -> None:  # noqa: ANN001
    svc, actor, ids = setup
    visit = svc.register(actor, ids["p1"], ids["later"])
    clock.set(datetime(2026, 11, 23, 23, 59))
    plan = svc.prepare_cancellation(actor, visit.id)
    clock.set(datetime(2026, 11, 24, 0, 1))  # the refund took two minutes
    assert svc.cancel(actor, visit.id, "退号", checked_at=plan.checked_at).status == "cancelled"
    other = svc.register(actor, ids["p2"], ids["later"])
    clock.set(datetime(2026, 11, 23, 12))
    stale = svc.prepare_cancellation(actor, other.id).checked_at
    clock.set(datetime(2026, 11, 23, 12, 30))
    with pytest.raises(Conflict, match="已过时"):
        svc.cancel(actor, other.id, "退号", checked_at=stale)


def test_same_day_registration_cancels_until_seen(setup, db) -> None:  # noqa: ANN001
    svc, actor, ids = setup
    visit = svc.register(actor, ids["p1"], ids["slot"])
    with db.session() as s:
        s.get(Visit, visit.id).status = "seen"
    plan = svc.prepare_cancellation(actor, visit.id)
    assert not plan.allowed and "已就诊" in plan.refusal


# ------------------------------------------------------------------------------------------------ 停诊


def test_suspension_cancels_unpaid_and_lists_paid_for_refund(setup, db, clock) -> None:  # noqa: ANN001
    svc, actor, ids = setup
    unpaid = svc.register(actor, ids["p1"], ids["later"])
    paid = _paid_visit(svc, actor, ids["p2"], ids["later"])
    admin = regfix.actor(Role.ADMIN)
    with pytest.raises(PermissionDenied):
        svc.suspend_slot(actor, ids["later"], "医生外出会诊")
    result = svc.suspend_slot(admin, ids["later"], "医生外出会诊")
    assert result.slot.suspended and not result.slot.bookable
    assert [a.visit.id for a in result.cancelled] == [unpaid.id]
    assert result.cancelled[0].phone == "13900000001" and result.cancelled[0].visit.status == "cancelled"
    [owed] = result.refund_needed
    assert owed.visit.id == paid.id and owed.money[0].amount_fen == 1000
    assert {a.visit.id for a in result.to_phone} == {unpaid.id, paid.id}
    again = svc.suspend_slot(admin, ids["later"], "重复")  # safe to repeat
    assert again.cancelled == () and [a.visit.id for a in again.refund_needed] == [paid.id]
    with pytest.raises(RegistrationRefused) as exc:
        svc.register(actor, ids["p1"], ids["later"])
    assert exc.value.code == "slot_suspended"
    # the cashier's follow-up: refund, then cancel (no deadline applies to 停诊)
    assert [a.visit.id for a in svc.suspended_to_settle(actor)] == [paid.id]
    clock.set(datetime(2026, 11, 25, 9))  # even on the visit day, past the usual deadline
    PaymentService(db, clock).record_refund(actor, owed.money[0].payment_id, 1000, "停诊退费")
    assert svc.cancel(actor, paid.id, "停诊退费").status == "cancelled"
    assert svc.suspended_to_settle(actor) == []
    with db.reader() as s:
        assert s.get(Slot, ids["later"]).taken == 0
        assert s.get(Slot, ids["later"]).suspend_reason == "医生外出会诊"


# --------------------------------------------------------------------------------------- history/slip


def test_history_and_reprint(setup, db, clock) -> None:  # noqa: ANN001
    svc, actor, ids = setup
    first = _paid_visit(svc, actor, ids["p1"], ids["slot"])
    second = svc.register(actor, ids["p1"], ids["later"])
    svc.cancel(actor, second.id, "改期")
    assert [v.id for v in svc.history(actor, ids["p1"])] == [second.id, first.id]
    printed = svc.record_slip_printed(actor, first.id)
    assert (printed.reprint, printed.reprint_count) == (False, 0)
    again = svc.record_slip_printed(actor, first.id)  # a second print is always a 补打
    assert (again.reprint, again.reprint_count) == (True, 1)
    assert svc.record_slip_printed(regfix.actor(Role.DOCTOR), first.id, reprint=True).reprint_count == 2
    with pytest.raises(PermissionDenied):
        svc.record_slip_printed(regfix.actor(Role.FINANCE), first.id, reprint=True)
    with pytest.raises(Conflict):
        svc.record_slip_printed(actor, second.id)
    with db.reader() as s:
        assert s.execute(select(func.count()).select_from(AuditRecord).where(
            AuditRecord.action == "slip.reprinted")).scalar_one() == 2


def test_rule_preview_lists_violations(setup) -> None:  # noqa: ANN001
    svc, actor, ids = setup
    svc.register(actor, ids["p1"], ids["slot"])
    found = svc.check_rules(actor, ids["p1"], ids["slot"])
    assert [v.code for v in found] == ["one_per_department", "one_per_doctor"]
    assert all(isinstance(v, RuleViolation) for v in found)


def test_period_labels(setup) -> None:  # noqa: ANN001
    svc, _, ids = setup
    assert svc.available_slots(doctor_id=ids["doctor"])[0].period == Period.MORNING
