"""RegistrationDesk (the registration window's acts, no Qt) against the bank sandbox on SQLite and PostgreSQL:
credit → cancel (lock cancelled), deducted → refund, DCBS0004PL0974 queued, 停诊 refunds everyone, an unknown
lock outcome settled by ``resolve_credit``, and the fee by another channel."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from desktop_his.services.container import Services
from desktop_his.services.enums import FeeStatus, LockStatus, RefundStatus, Role
from desktop_his.services.errors import Conflict, ValidationError
from desktop_his.services.models import CreditLock, Refund, Visit
from desktop_his.services.payments import PaymentInput
from desktop_his.services.slips import REPRINT_MARK
from tests.factories import actor_for, make_demo_patient, make_department, make_doctor, make_slot, make_staff

T = date(2026, 11, 23)


@pytest.fixture
def world(bank_services: Services):  # noqa: ANN201
    with bank_services.db.session() as s:
        doctor = make_doctor(s, make_department(s, "内科"), "李明", fee_fen=1000)
        slot = make_slot(s, doctor, T)
        cashier = actor_for(make_staff(s, Role.CASHIER, Role.ADMIN, username="cashier7"))
        finance = actor_for(make_staff(s, Role.FINANCE, username="finance7"))
        patients = {name: make_demo_patient(s, name).id for name in ("张伟", "刘洋", "陈静")}
        slot_id = slot.id
    return bank_services, cashier, finance, slot_id, patients


def credit_visit(services: Services, cashier, patient_id: int, slot_id: int) -> int:  # noqa: ANN001
    desk = services.registration_desk
    visit = services.registration.register(cashier, patient_id, slot_id)
    result = desk.use_credit(cashier, visit.id, desk.sign_status(cashier, patient_id), settle_within=2.0)
    assert result.state == "locked", result.message
    return visit.id


def lock_of(services: Services, visit_id: int) -> CreditLock:
    with services.db.reader() as s:
        return s.scalars(select(CreditLock).where(CreditLock.visit_id == visit_id)).one()


def test_credit_visit_cancelled_before_deduction_cancels_the_lock(world) -> None:  # noqa: ANN001
    services, cashier, _, slot_id, patients = world
    visit_id = credit_visit(services, cashier, patients["张伟"], slot_id)
    outcome = services.registration_desk.cancel(cashier, visit_id, "患者要求")
    assert outcome.cancelled and not outcome.queued and "取消锁定" in outcome.message
    assert lock_of(services, visit_id).status == LockStatus.CANCELLED
    with pytest.raises(Conflict):
        services.registration_desk.cancel(cashier, visit_id, "again")


def test_deducted_then_queued_refund_still_cancels_and_says_so(world) -> None:  # noqa: ANN001
    services, cashier, finance, slot_id, patients = world
    visit_id = credit_visit(services, cashier, patients["张伟"], slot_id)
    with services.db.session() as s:
        journal_id = services.credit.start_deduction(s, s.get(CreditLock, lock_of(services, visit_id).id),
                                                     actor=finance, business_date=T)
    assert services.bank.execute(journal_id).ok
    services.sandbox.admin.add_fault("refund", "error", code="DCBS0004PL0974", count=1)
    outcome = services.registration_desk.cancel(cashier, visit_id, "患者要求")
    assert outcome.cancelled and outcome.queued and "退款队列" in outcome.message
    with services.db.reader() as s:
        assert s.scalars(select(Refund.status)).one() == RefundStatus.QUEUED
        assert s.get(Visit, visit_id).status == "cancelled"


def test_cash_fee_and_its_recorded_refund(world) -> None:  # noqa: ANN001
    services, cashier, _, slot_id, patients = world
    desk = services.registration_desk
    visit = services.registration.register(cashier, patients["刘洋"], slot_id)
    with pytest.raises(ValidationError, match="实收现金不足"):
        desk.pay_fee(cashier, visit.id, PaymentInput("cash", cash_received_fen=500))
    paid = desk.pay_fee(cashier, visit.id, PaymentInput("cash", cash_received_fen=2000))
    assert paid.fee_status == FeeStatus.PAID and paid.mark == "现金"
    assert desk.last_payment(cashier, visit.id).change_fen == 1000
    first, second = desk.slip(cashier, visit.id), desk.slip(cashier, visit.id)
    assert not first.reprint and second.reprint and REPRINT_MARK in second.plain_text()
    outcome = desk.cancel(cashier, visit.id, "患者要求")
    assert outcome.cancelled and "现金退还¥10.00" in outcome.message


def test_suspension_refunds_and_cancels_every_registration(world) -> None:  # noqa: ANN001
    services, cashier, _, slot_id, patients = world
    credit_id = credit_visit(services, cashier, patients["张伟"], slot_id)
    cash = services.registration.register(cashier, patients["刘洋"], slot_id)
    services.registration_desk.pay_fee(cashier, cash.id, PaymentInput("wechat", "134567890123456789"))
    unpaid = services.registration.register(cashier, patients["陈静"], slot_id)
    outcome = services.registration_desk.suspend(cashier, slot_id, "医生外出会诊")
    assert not outcome.problems and len(outcome.settled) == 2
    assert {v.visit.id for v in outcome.result.to_phone} == {credit_id, cash.id, unpaid.id}
    with services.db.reader() as s:
        assert {s.get(Visit, i).status for i in (credit_id, cash.id, unpaid.id)} == {"cancelled"}
    assert lock_of(services, credit_id).status == LockStatus.CANCELLED


def test_unknown_lock_outcome_is_settled_by_resolve_credit(world) -> None:  # noqa: ANN001
    services, cashier, _, slot_id, patients = world
    desk = services.registration_desk
    admin = services.sandbox.admin
    visit = services.registration.register(cashier, patients["陈静"], slot_id)
    sign = desk.sign_status(cashier, patients["陈静"])
    admin.add_fault("lock", "processing", count=1)
    admin.add_fault("after_pay_query", "processing", count=100)
    assert desk.use_credit(cashier, visit.id, sign, settle_within=0.5).state == "pending"
    assert desk.resolve_credit(visit.id).state == "pending"  # the bank still says PROCESSING
    admin.clear_faults()
    assert desk.resolve_credit(visit.id).state == "locked"
    with services.db.reader() as s:
        assert len(s.scalars(select(CreditLock).where(CreditLock.visit_id == visit.id)).all()) == 1  # same number
