"""信用就医 on the outpatient side against a real bank sandbox: confirm → lock, order locks, deduction,
cancel/refund per table 1, the refund queue — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from desktop_his.services import audit
from desktop_his.services.container import Services
from desktop_his.services.enums import FeeStatus, LockStatus, NotificationKind, RefundStatus, Role
from desktop_his.services.errors import Conflict, ValidationError
from desktop_his.services.models import (
    AuditRecord,
    CreditLock,
    Doctor,
    MedicalOrder,
    Notification,
    Refund,
    Slot,
    Visit,
)
from desktop_his.services.orders import OrderLine, OrderService
from tests.factories import (
    actor_for,
    doctor_actor,
    make_catalog_item,
    make_demo_patient,
    make_department,
    make_doctor,
    make_slot,
    make_staff,
    make_visit,
)

T = date(2026, 11, 23)


@pytest.fixture
def world(bank_services: Services):  # noqa: ANN201
    """A clinic with one doctor's morning slot (fee ¥10.00), a cashier and a finance clerk."""
    with bank_services.db.session() as s:
        dept = make_department(s, "内科")
        doctor = make_doctor(s, dept, "李医生", fee_fen=1000)
        slot = make_slot(s, doctor, T)
        cashier = actor_for(make_staff(s, Role.CASHIER, username="cashier9"))
        finance = actor_for(make_staff(s, Role.FINANCE, username="finance9"))
        drug = make_catalog_item(s, "阿莫西林胶囊", price_fen=2350)
        doc = doctor_actor(doctor)
        ids = dict(slot=slot.id, drug=drug.id, doctor=doctor.id)
    return bank_services, cashier, finance, doc, ids


def register(services: Services, name: str, slot_id: int) -> int:
    with services.db.session() as s:
        patient = make_demo_patient(s, name)
        visit = make_visit(s, patient, s.get(Slot, slot_id), status="registered", fee_status="unpaid")
        return visit.id


def use_credit(services: Services, actor, visit_id: int):  # noqa: ANN001, ANN201
    with services.db.reader() as s:
        patient_id = s.get(Visit, visit_id).patient_id
    sign = services.credit.sign_status(actor, patient_id)
    return services.credit.use_credit(actor, visit_id, sign, settle_within=2.0)


def available(services: Services, number: str) -> int:
    return services.sandbox.admin.account("01", number)["available_fen"]


def test_signed_holder_confirms_and_the_fee_is_locked(world) -> None:  # noqa: ANN001
    services, cashier, _, _, ids = world
    before = available(services, "510104198503121232")
    visit_id = register(services, "张伟", ids["slot"])
    result = use_credit(services, cashier, visit_id)
    assert result.state == "locked", result.message
    with services.db.reader() as s:
        visit = s.get(Visit, visit_id)
        lock = s.execute(select(CreditLock).where(CreditLock.visit_id == visit_id)).scalar_one()
        assert visit.credit and not visit.family_pay and visit.fee_status == FeeStatus.LOCKED
        assert lock.status == LockStatus.LOCKED and lock.lock_serial and lock.amount_fen == 1000
        confirmed = s.execute(select(AuditRecord).where(AuditRecord.action == "credit.confirmed_by_patient")
                              ).scalar_one()
        assert confirmed.actor == cashier.username and confirmed.workstation == cashier.workstation
        assert confirmed.entity_id == str(visit_id)
        assert audit.verify(s).ok
    assert available(services, "510104198503121232") == before - 1000


def test_family_member_uses_the_holders_credit(world) -> None:  # noqa: ANN001
    services, cashier, _, _, ids = world
    holder_before = available(services, "510104198503121232")
    visit_id = register(services, "李娜", ids["slot"])
    assert use_credit(services, cashier, visit_id).state == "locked"
    with services.db.reader() as s:
        assert s.get(Visit, visit_id).family_pay
    assert available(services, "510104198503121232") == holder_before - 1000


def test_low_credit_refuses_the_lock_and_leaves_the_fee_payable(world) -> None:  # noqa: ANN001
    services, cashier, _, _, ids = world
    with services.db.session() as s:
        s.get(Slot, ids["slot"]).fee_fen = 5000  # ¥50 against ¥30 of credit
    visit_id = register(services, "王芳", ids["slot"])
    result = use_credit(services, cashier, visit_id)
    assert result.state == "refused" and "额度不足" in result.message
    with services.db.reader() as s:
        visit = s.get(Visit, visit_id)
        assert not visit.credit and visit.fee_status == FeeStatus.UNPAID
        assert s.execute(select(CreditLock.status).where(CreditLock.visit_id == visit_id)).scalar_one() == "failed"


def test_unsigned_patient_cannot_use_credit(world) -> None:  # noqa: ANN001
    services, cashier, _, _, ids = world
    visit_id = register(services, "刘洋", ids["slot"])
    with services.db.reader() as s:
        sign = services.credit.sign_status(cashier, s.get(Visit, visit_id).patient_id)
    assert not sign.signed
    with pytest.raises(ValidationError, match="未签约"):
        services.credit.use_credit(cashier, visit_id, sign)


def test_lost_reply_then_resolved_by_the_resolver(world) -> None:  # noqa: ANN001
    services, cashier, _, _, ids = world
    visit_id = register(services, "陈静", ids["slot"])
    services.sandbox.admin.add_fault("lock", "drop_reply", count=1)  # the bank locks, the answer is lost
    result = use_credit(services, cashier, visit_id)
    assert result.state in ("pending", "locked")
    services.bank.resolve_pending(include_not_due=True)
    assert services.credit.visit_state(visit_id).state == "locked"
    with services.db.reader() as s:
        assert len(s.execute(select(CreditLock).where(CreditLock.visit_id == visit_id)).all()) == 1


def test_crash_after_the_confirm_intent_is_finished_at_the_next_start(world) -> None:  # noqa: ANN001
    services, cashier, _, _, ids = world
    visit_id = register(services, "张伟", ids["slot"])
    with services.db.reader() as s:
        sign = services.credit.sign_status(cashier, s.get(Visit, visit_id).patient_id)
    services.bank.execute = lambda *a, **k: (_ for _ in ()).throw(SystemExit("crash"))  # dies before sending
    with pytest.raises(SystemExit):
        services.credit.use_credit(cashier, visit_id, sign)
    del services.bank.execute
    assert services.credit.visit_state(visit_id).state == "pending"
    for _ in range(3):  # confirm, then the lock its handler wrote
        services.bank.resolve_pending(include_not_due=True)
    assert services.credit.visit_state(visit_id).state == "locked"


def test_order_on_a_credit_visit_is_locked_on_submit(world) -> None:  # noqa: ANN001
    services, cashier, _, doc, ids = world
    visit_id = register(services, "张伟", ids["slot"])
    assert use_credit(services, cashier, visit_id).state == "locked"
    order_service = OrderService(services.db, services.clock)
    draft = order_service.create_draft(doc, visit_id, [OrderLine(ids["drug"], 2)])
    hook, journal_ids = services.credit.lock_hook(doc)
    submitted = order_service.submit(doc, draft.id, attach=hook)
    assert submitted.lock_request is not None and len(journal_ids) == 1
    assert services.credit.execute(journal_ids[0]).ok
    with services.db.reader() as s:
        order = s.get(MedicalOrder, draft.id)
        assert order.fee_status == FeeStatus.LOCKED and order.credit
    assert order_service.visit_credit_total(doc, visit_id).total_fen == 1000 + 4700


def test_cancel_on_the_same_day_releases_the_lock(world) -> None:  # noqa: ANN001
    services, cashier, _, _, ids = world
    before = available(services, "510104198503121232")
    visit_id = register(services, "张伟", ids["slot"])
    use_credit(services, cashier, visit_id)
    with services.db.reader() as s:
        lock_id = s.execute(select(CreditLock.id).where(CreditLock.visit_id == visit_id)).scalar_one()
    result = services.credit.return_credit(cashier, lock_id, 1000, "患者退号")
    assert result.status == RefundStatus.SUCCESS and result.method == "bank_cancel"
    with services.db.reader() as s:
        assert s.get(CreditLock, lock_id).status == LockStatus.CANCELLED
        assert s.get(Visit, visit_id).fee_status == FeeStatus.CANCELLED
    assert available(services, "510104198503121232") == before
    with pytest.raises(Conflict):
        services.credit.return_credit(cashier, lock_id, 1000, "again")


def deduct(services: Services, finance, lock_id: int) -> None:  # noqa: ANN001
    with services.db.session() as s:
        journal_id = services.credit.start_deduction(s, s.get(CreditLock, lock_id), actor=finance, business_date=T)
    assert services.bank.execute(journal_id).ok


def locked_visit(services: Services, cashier, name: str, slot_id: int) -> int:  # noqa: ANN001
    visit_id = register(services, name, slot_id)
    assert use_credit(services, cashier, visit_id).state == "locked"
    with services.db.reader() as s:
        return s.execute(select(CreditLock.id).where(CreditLock.visit_id == visit_id)).scalar_one()


def test_deducted_fee_is_refunded_not_cancelled(world) -> None:  # noqa: ANN001
    services, cashier, finance, _, ids = world
    lock_id = locked_visit(services, cashier, "张伟", ids["slot"])
    deduct(services, finance, lock_id)
    with services.db.reader() as s:
        assert s.get(CreditLock, lock_id).deducted_fen == 1000
    with pytest.raises(Conflict, match="可退金额"):
        services.credit.return_credit(cashier, lock_id, 1001, "too much")
    result = services.credit.return_credit(cashier, lock_id, 400, "部分退费")
    assert result.status == RefundStatus.SUCCESS and result.method == "bank_refund"
    with services.db.reader() as s:
        lock = s.get(CreditLock, lock_id)
        assert lock.refunded_fen == 400 and lock.status == LockStatus.DEDUCTED
    services.credit.return_credit(cashier, lock_id, 600, "其余")
    with services.db.reader() as s:
        assert s.get(CreditLock, lock_id).status == LockStatus.REFUNDED
        assert s.get(Visit, s.get(CreditLock, lock_id).visit_id).fee_status == FeeStatus.REFUNDED


def test_refused_deduction_expires_the_lock_and_tells_finance(world) -> None:  # noqa: ANN001
    services, cashier, finance, _, ids = world
    lock_id = locked_visit(services, cashier, "张伟", ids["slot"])
    services.sandbox.admin.add_fault("deduct", "error", code="XYB004", count=1)
    with services.db.session() as s:
        journal_id = services.credit.start_deduction(s, s.get(CreditLock, lock_id), actor=finance, business_date=T)
    assert services.bank.execute(journal_id).failed
    with services.db.reader() as s:
        lock = s.get(CreditLock, lock_id)
        assert lock.status == LockStatus.EXPIRED
        assert s.get(Visit, lock.visit_id).fee_status == FeeStatus.UNPAID
        assert s.execute(select(Notification.kind)).scalars().all() == [NotificationKind.LOCK_EXPIRED]


def test_short_merchant_balance_queues_refunds_and_the_queue_keeps_submission_order(world) -> None:  # noqa: ANN001
    services, cashier, finance, _, ids = world
    with services.db.session() as s:
        second = make_slot(s, s.get(Doctor, ids["doctor"]), T, "PM")
        second_id = second.id
    first_lock = locked_visit(services, cashier, "张伟", ids["slot"])
    second_lock = locked_visit(services, cashier, "陈静", second_id)
    deduct(services, finance, first_lock)
    deduct(services, finance, second_lock)
    admin = services.sandbox.admin
    admin.advance(days=1)  # T+1: refunds come out of the refund reserve
    services.clock.advance(timedelta(days=1))
    admin.set_merchant(reserve_fen=500, has_reserve=True)  # ¥5 left in the reserve
    r1 = services.credit.return_credit(cashier, first_lock, 1000, "退费一")
    r2 = services.credit.return_credit(cashier, second_lock, 300, "退费二")  # would fit, but must not overtake
    assert r1.status == RefundStatus.QUEUED and "退款队列" in r1.message
    assert r2.status == RefundStatus.SUCCESS  # a new refund is tried at once (it may draw on money the head cannot use)
    queue = services.refunds
    report = queue.retry(finance)
    assert report.succeeded == [] and report.stopped_at is not None
    with services.db.reader() as s:
        notices = s.execute(select(Notification).where(Notification.kind == NotificationKind.REFUND_FAILED)
                            ).scalars().all()
        assert len(notices) >= 2 and all(n.title == "该居民退款失败" for n in notices)
        assert any("张伟" in n.body and "¥10.00" in n.body for n in notices)
    admin.set_merchant(reserve_fen=20_000_00)
    report = queue.retry(finance)
    assert report.left == 0 and report.succeeded[0] == s_refund_no(services, r1.refund_id)
    with services.db.reader() as s:
        assert s.get(Refund, r1.refund_id).status == RefundStatus.SUCCESS
        assert s.get(CreditLock, first_lock).status == LockStatus.REFUNDED


def s_refund_no(services: Services, refund_id: int) -> str:
    with services.db.reader() as s:
        return s.get(Refund, refund_id).refund_no


def test_queue_retry_never_lets_a_later_refund_overtake(world) -> None:  # noqa: ANN001
    services, cashier, finance, _, ids = world
    lock_id = locked_visit(services, cashier, "张伟", ids["slot"])
    deduct(services, finance, lock_id)
    services.sandbox.admin.advance(days=1)
    services.clock.advance(timedelta(days=1))
    services.sandbox.admin.set_merchant(reserve_fen=0, has_reserve=True)
    big = services.credit.return_credit(cashier, lock_id, 800, "大额")
    small = services.credit.return_credit(cashier, lock_id, 200, "小额")
    assert big.status == small.status == RefundStatus.QUEUED
    services.sandbox.admin.set_merchant(reserve_fen=300)  # enough for the small one only
    report = services.refunds.retry(finance)
    assert report.succeeded == [] and report.stopped_at == s_refund_no(services, big.refund_id)
    with services.db.reader() as s:
        assert s.get(Refund, small.refund_id).status == RefundStatus.QUEUED  # waited its turn
        assert [q.id for q in services.refunds.queued(finance)] == [big.refund_id, small.refund_id]
