"""开单即锁额 and its undo against a real bank sandbox (SQLite and PostgreSQL): an order on a credit visit is
locked on submit and counted in the visit's total; not enough credit sends it to the window; PROCESSING is
resolved by query with the same number; revoking cancels the lock, or refunds it once deducted; the vaccine
slip is locked the same way and paid at the desk when the lock is refused; without a bank nothing is saved."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from desktop_his.services import texts
from desktop_his.services.container import Services
from desktop_his.services.enums import FeeStatus, LockStatus, OrderStatus
from desktop_his.services.errors import Conflict
from desktop_his.services.immunization import cleared_for_vaccination
from desktop_his.services.models import BankJournal, CreditLock, MedicalOrder, Refund, Slot, Visit
from desktop_his.services.order_credit import LOCK_PENDING, OrderCreditService
from desktop_his.services.orders import MoneyUndo, OrderLine
from desktop_his.services.payments import PaymentInput, PaymentService
from tests.factories import Hospital, make_demo_patient, make_hospital, make_visit

ZHANG = "510104198503121232"  # 张伟, holder ¥5,000 (李娜's credit too)


@pytest.fixture
def h(bank_services: Services, clock) -> Hospital:  # noqa: ANN001
    with bank_services.db.session() as s:
        return make_hospital(s, clock.today())


def available(services: Services, number: str = ZHANG) -> int:
    return services.sandbox.admin.account("01", number)["available_fen"]


def credit_visit(services: Services, h: Hospital, name: str) -> int:
    """A registration the patient chose to pay with 信用就医 (confirmed, fee ¥10 locked)."""
    with services.db.session() as s:
        visit = make_visit(s, make_demo_patient(s, name), s.get(Slot, h.slot.id), status="checked_in",
                           fee_status="unpaid")
        visit_id, patient_id = visit.id, visit.patient_id
    sign = services.credit.sign_status(h.cashier_actor, patient_id)
    assert services.credit.use_credit(h.cashier_actor, visit_id, sign).state == "locked"
    return visit_id


def plain_visit(services: Services, h: Hospital, name: str = "刘洋") -> int:
    with services.db.session() as s:
        return make_visit(s, make_demo_patient(s, name), s.get(Slot, h.slot.id)).id


def order_lock(services: Services, order_id: int) -> CreditLock:
    with services.db.reader() as s:
        return s.execute(select(CreditLock).where(CreditLock.order_id == order_id)).scalar_one()


def test_order_on_a_credit_visit_is_locked_and_totalled(bank_services: Services, h: Hospital) -> None:
    flow: OrderCreditService = bank_services.order_credit
    visit_id = credit_visit(bank_services, h, "张伟")
    before = available(bank_services)
    result = flow.submit_lines(h.doctor_actor, visit_id, [OrderLine(h.drug.id, 2), OrderLine(h.lab_test.id)])
    assert result.state == "locked" and result.settled
    assert result.order.credit and result.order.fee_status == FeeStatus.LOCKED and result.order.order_no
    assert result.credit_total.total_fen == 1000 + 2 * 1250 + 2500
    assert result.total_text == "患者本次使用“信用就医”额度支付总费用：¥60.00"
    assert result.message == result.total_text
    assert available(bank_services) == before - 5000
    lock = order_lock(bank_services, result.order.id)
    assert (lock.status, lock.amount_fen, lock.purpose) == (LockStatus.LOCKED, 5000, "order")
    # A second order adds to the total.
    second = flow.submit_lines(h.doctor_actor, visit_id, [OrderLine(h.exam.id)])
    assert second.credit_total.total_fen == 6000 + 8000


def test_family_member_orders_use_the_holders_credit(bank_services: Services, h: Hospital) -> None:
    visit_id = credit_visit(bank_services, h, "李娜")
    before = available(bank_services)
    result = bank_services.order_credit.submit_lines(h.doctor_actor, visit_id, [OrderLine(h.treatment.id)])
    assert result.state == "locked" and order_lock(bank_services, result.order.id).family_pay
    assert available(bank_services) == before - 1500


def test_not_enough_credit_sends_the_order_to_the_window(bank_services: Services, h: Hospital) -> None:
    visit_id = credit_visit(bank_services, h, "王芳")  # ¥30 of credit, ¥10 used by the fee
    flow = bank_services.order_credit
    result = flow.submit_lines(h.doctor_actor, visit_id, [OrderLine(h.lab_test.id)])  # ¥25 > ¥20 left
    assert (result.state, result.code, result.message) == ("refused", "XYB002", texts.ORDER_LOCK_REFUSED)
    assert not result.order.credit and result.order.fee_status == FeeStatus.UNPAID
    assert result.credit_total.total_fen == 1000  # the fee only
    unpaid = bank_services.orders.unpaid_orders_for_window(h.cashier_actor, visit_id=visit_id)
    assert [o.id for o in unpaid] == [result.order.id]
    # A smaller order still fits the credit left.
    small = flow.submit_lines(h.doctor_actor, visit_id, [OrderLine(h.drug.id)])
    assert small.state == "locked" and small.credit_total.total_fen == 2250


def test_processing_is_resolved_by_query_with_the_same_number(bank_services: Services, h: Hospital) -> None:
    visit_id = credit_visit(bank_services, h, "张伟")
    bank_services.sandbox.admin.add_fault("lock", "processing", count=1)
    bank_services.sandbox.admin.add_fault("after_pay_query", "processing", count=1)
    flow = bank_services.order_credit
    result = flow.submit_lines(h.doctor_actor, visit_id, [OrderLine(h.drug.id)], settle_within=0)
    assert (result.state, result.message, result.settled) == ("pending", LOCK_PENDING, False)
    assert result.credit_total.pending_fen == 1250 and result.credit_total.total_fen == 1000
    assert flow.follow_up(h.doctor_actor, result.order.id).state == "pending"  # the query says PROCESSING
    done = flow.follow_up(h.doctor_actor, result.order.id)
    assert done.state == "locked" and done.credit_total.total_fen == 2250
    with bank_services.db.reader() as s:  # one lock number, sent once, never a new number
        assert s.execute(select(func.count(BankJournal.id)).where(BankJournal.op == "lock",
                                                                   BankJournal.order_id == result.order.id)
                         ).scalar_one() == 1
    assert [x["lock_no"] for x in bank_services.sandbox.admin.ledger()["locks"]].count(
        order_lock(bank_services, result.order.id).lock_no) == 1


def test_revoke_before_deduction_cancels_the_lock(bank_services: Services, h: Hospital) -> None:
    visit_id = credit_visit(bank_services, h, "张伟")
    flow = bank_services.order_credit
    order = flow.submit_lines(h.doctor_actor, visit_id, [OrderLine(h.exam.id)]).order
    before = available(bank_services)
    result = flow.revoke(h.doctor_actor, order.id, "患者拒绝检查")
    assert result.undo is MoneyUndo.CANCEL_LOCK and result.settled
    assert result.credit_return.method == "bank_cancel" and result.credit_return.status == "success"
    assert result.message.startswith("医嘱已撤销。“信用就医”取消锁定¥80.00已完成")
    assert (result.order.status, result.order.fee_status) == (OrderStatus.REVOKED, FeeStatus.CANCELLED)
    assert result.credit_total.total_fen == 1000
    assert available(bank_services) == before + 8000
    assert order_lock(bank_services, order.id).status == LockStatus.CANCELLED
    with pytest.raises(Conflict):
        flow.revoke(h.doctor_actor, order.id, "再次撤销")


def test_revoke_after_deduction_refunds_the_deducted_amount(bank_services: Services, h: Hospital) -> None:
    visit_id = credit_visit(bank_services, h, "张伟")
    flow = bank_services.order_credit
    order = flow.submit_lines(h.doctor_actor, visit_id, [OrderLine(h.drug.id, 2)]).order
    # The drug was dispensed short (1 box of 2): the T-day run deducts the actual amount only.
    executed = bank_services.orders.mark_executed(h.doctor_actor, order.id, {order.items[0].id: 1})
    assert executed.order.actual_fen == 1250 and executed.over_collected_fen == 0
    with pytest.raises(Conflict):  # carried out: no longer revocable
        flow.revoke(h.doctor_actor, order.id, "x")
    lock = order_lock(bank_services, order.id)
    assert lock.actual_fen == 1250
    # A second order, deducted in full, then revoked: refunded.
    other = flow.submit_lines(h.doctor_actor, visit_id, [OrderLine(h.treatment.id)]).order
    with bank_services.db.session() as s:
        journal_id = bank_services.credit.start_deduction(s, s.get(CreditLock, order_lock(bank_services, other.id).id),
                                                          actor=h.doctor_actor, business_date=h.day)
    assert bank_services.bank.execute(journal_id).ok
    assert bank_services.orders.get_order(h.doctor_actor, other.id).fee_status == FeeStatus.DEDUCTED
    before = available(bank_services)
    result = flow.revoke(h.doctor_actor, other.id, "未做治疗")
    assert result.undo is MoneyUndo.REFUND_CREDIT and result.credit_return.method == "bank_refund"
    assert result.credit_return.status == "success" and result.order.fee_status == FeeStatus.REFUNDED
    assert available(bank_services) == before + 1500
    with bank_services.db.reader() as s:
        refund = s.execute(select(Refund).where(Refund.order_id == other.id)).scalar_one()
        assert refund.amount_fen == 1500 and refund.reason == "撤销医嘱：未做治疗"
    assert result.credit_total.total_fen == 1000 + 1250  # the fee and the executed drug's actual amount


def test_revoke_of_a_window_order(bank_services: Services, h: Hospital) -> None:
    visit_id = plain_visit(bank_services, h)
    flow = bank_services.order_credit
    result = flow.submit_lines(h.doctor_actor, visit_id, [OrderLine(h.lab_test.id)])
    assert result.state == "window" and "收费窗口" in result.message and result.credit_total.total_fen == 0
    revoked = flow.revoke(h.doctor_actor, result.order.id, "开错了")
    assert (revoked.undo, revoked.message, revoked.order.fee_status) == (MoneyUndo.NONE, "医嘱已撤销。",
                                                                         FeeStatus.CANCELLED)
    paid = flow.submit_lines(h.doctor_actor, visit_id, [OrderLine(h.drug.id)]).order
    PaymentService(bank_services.db, bank_services.clock).record(
        h.cashier_actor, patient_id=paid.patient_id, purpose="order", amount_fen=1250, channel="cash",
        cash_received_fen=2000, order_id=paid.id)
    revoked = flow.revoke(h.doctor_actor, paid.id, "不需要了")
    assert revoked.undo is MoneyUndo.REFUND_PAYMENT and "收费窗口办理退费" in revoked.message


def test_vaccine_slip_locked_or_paid_at_the_desk(bank_services: Services, h: Hospital) -> None:
    nurse, flow = h.nurse_actor, bank_services.order_credit
    imm = bank_services.immunization
    with bank_services.db.session() as s:
        zhang, wang = make_demo_patient(s, "张伟").id, make_demo_patient(s, "王芳").id
    # Enough credit: confirm at the desk (no fee to lock), then the slip is locked.
    visit = imm.register(nurse, zhang)
    sign = bank_services.credit.sign_status(nurse, zhang)
    assert bank_services.credit.use_credit(nurse, visit.visit_id, sign).state == "confirmed"
    slip = flow.charge_vaccine(nurse, visit.visit_id, [OrderLine(h.vaccine.id)])
    assert slip.state == "locked" and cleared_for_vaccination(slip.order) and slip.credit_total.total_fen == 12800
    assert order_lock(bank_services, slip.order.id).purpose == "vaccine"
    # Not enough credit (¥30 against ¥128): pay another way at the desk before going in.
    visit = imm.register(nurse, wang)
    sign = bank_services.credit.sign_status(nurse, wang)
    bank_services.credit.use_credit(nurse, visit.visit_id, sign)
    refused = flow.charge_vaccine(nurse, visit.visit_id, [OrderLine(h.vaccine.id)])
    assert (refused.state, refused.message) == ("refused", texts.VACCINE_LOCK_REFUSED)
    assert not cleared_for_vaccination(refused.order)
    paid = imm.pay_slip(nurse, refused.order.id, PaymentInput("wechat", "134567890123456789"))
    assert paid.fee_status == FeeStatus.PAID and cleared_for_vaccination(paid)
    with pytest.raises(Conflict):
        imm.pay_slip(nurse, refused.order.id, PaymentInput("cash", cash_received_fen=20000))
    imm.mark_vaccinated(nurse, refused.order.id)
    with bank_services.db.reader() as s:
        assert s.get(Visit, visit.visit_id).status == "seen"


def test_without_a_bank_a_credit_order_is_refused_and_nothing_is_saved(services: Services, clock) -> None:  # noqa: ANN001
    with services.db.session() as s:
        h = make_hospital(s, clock.today())
        credit = make_visit(s, make_demo_patient(s, "张伟"), h.slot, credit=True).id
        plain = make_visit(s, make_demo_patient(s, "刘洋"), h.slot).id
    services.order_credit.bank_problem = "未配置商户密钥"
    with pytest.raises(Conflict, match="未配置商户密钥"):
        services.order_credit.submit_lines(h.doctor_actor, credit, [OrderLine(h.drug.id)])
    with services.db.reader() as s:
        assert s.execute(select(func.count(MedicalOrder.id))).scalar_one() == 0
    assert services.order_credit.submit_lines(h.doctor_actor, plain, [OrderLine(h.drug.id)]).state == "window"


def test_revoke_waits_for_the_deduction_of_an_earlier_days_lock(bank_services: Services, h: Hospital,
                                                                 clock) -> None:  # noqa: ANN001
    """T+1 before the T-day run's result is known: neither cancel (the bank may have deducted) nor refund (it
    may not have) — the revoke is refused and nothing changes."""
    visit_id = credit_visit(bank_services, h, "张伟")
    order = bank_services.order_credit.submit_lines(h.doctor_actor, visit_id, [OrderLine(h.drug.id)]).order
    clock.advance(timedelta(days=1))
    with pytest.raises(Conflict, match="T日扣款"):
        bank_services.order_credit.revoke(h.doctor_actor, order.id, "次日撤销")
    after = bank_services.orders.get_order(h.doctor_actor, order.id)
    assert (after.status, after.fee_status) == (OrderStatus.SUBMITTED, FeeStatus.LOCKED)
    with bank_services.db.reader() as s:
        assert s.execute(select(func.count(Refund.id))).scalar_one() == 0
