"""The admission desk's 信用就医 against a real bank sandbox (SQLite and PostgreSQL): deposit by credit after the
written consent, not enough credit, family credit, a lost answer settled by the resolver, the discharge
refund of credit lines (done, DCBS0004PL0974 queued and retried by the refund queue, refused), and the
discharge shortfall paid by credit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from desktop_his.services import texts
from desktop_his.services.container import Services
from desktop_his.services.enums import DepartmentKind, NotificationKind, RefundStatus, Role
from desktop_his.services.errors import Conflict
from desktop_his.services.inpatient import ProxyInput
from desktop_his.services.inpatient_bank import PAY, REFUND
from desktop_his.services.models import AuditRecord, BankJournal, Notification, Payment, Refund
from desktop_his.services.permissions import Actor
from tests.factories import (
    DEMO_PEOPLE,
    actor_for,
    make_demo_patient,
    make_department,
    make_doctor,
    make_staff,
)

OFFICE_PHONE = "028-86661234"


class Desk:
    """A ward, the admission office with a clerk, finance, and helpers that walk the desk's steps."""

    def __init__(self, services: Services) -> None:
        self.services = services
        with services.db.session() as s:
            dept = make_department(s, "呼吸内科", location="住院部三楼")
            office = make_department(s, "住院处", kind=DepartmentKind.ADMINISTRATIVE, phone=OFFICE_PHONE)
            doctor = make_doctor(s, dept, "陈医生")
            self.clerk: Actor = actor_for(make_staff(s, Role.ADMISSION, full_name="黄丽", department=office),
                                          workstation="住院处-01")
            self.finance: Actor = actor_for(make_staff(s, Role.FINANCE, full_name="钱国强"))
            self.dept_id, self.office_id, self.doctor_id = dept.id, office.id, doctor.id
        self.svc = services.inpatient
        self.bank = services.inpatient_credit
        self.beds = 0

    def admit(self, name: str, daily_bed_fen: int = 6000) -> int:
        with self.services.db.session() as s:
            patient_id = make_demo_patient(s, name).id
        self.beds += 1
        return self.svc.admit(self.clerk, patient_id, department_id=self.dept_id, ward="呼吸内科病区",
                              bed=str(self.beds), doctor_id=self.doctor_id, diagnosis="肺炎",
                              daily_bed_fen=daily_bed_fen).id

    def consent(self, admission_id: int, proxy: ProxyInput | None = None) -> None:
        consent = self.svc.create_consent(self.clerk, admission_id, proxy=proxy)
        self.svc.mark_consent_printed(self.clerk, consent.id)
        self.svc.mark_consent_received(self.clerk, consent.id)

    def available(self, name: str) -> int:
        return self.services.sandbox.admin.account("01", DEMO_PEOPLE[name][2])["available_fen"]

    def count(self, model) -> int:  # noqa: ANN001
        with self.services.db.reader() as s:
            return s.execute(select(func.count()).select_from(model)).scalar_one()

    def audit_actions(self) -> list[str]:
        with self.services.db.reader() as s:
            return list(s.execute(select(AuditRecord.action).order_by(AuditRecord.seq)).scalars())

    def settle_with_surplus(self, name: str, credit_fen: int, cost_fen: int) -> tuple[int, int]:
        """Admitted today, a credit deposit, a charge; the settlement started: (admission, settlement)."""
        admission_id = self.admit(name, daily_bed_fen=0)
        self.consent(admission_id)
        assert self.bank.pay(self.clerk, admission_id, credit_fen).paid
        self.svc.post_charge(self.clerk, admission_id, description="护理费", unit_price_fen=cost_fen)
        settlement = self.svc.start_settlement(self.clerk, admission_id)
        return admission_id, settlement.id


@pytest.fixture
def desk(bank_services: Services) -> Desk:
    return Desk(bank_services)


def test_handlers_are_registered_next_to_the_credit_ones(bank_services: Services) -> None:
    handlers = bank_services.bank._handlers  # noqa: SLF001 - what connect_bank registered
    assert {PAY, REFUND, "credit_confirm", "credit_refund"} <= set(handlers)


def test_deposit_by_credit_needs_the_received_consent_then_pays(desk: Desk) -> None:
    admission_id = desk.admit("孙丽")
    with pytest.raises(Conflict) as refused:
        desk.bank.pay(desk.clerk, admission_id, 500_000)
    assert refused.value.code == "consent_not_received"
    assert desk.count(Payment) == 0 and desk.count(BankJournal) == 0
    desk.consent(admission_id, ProxyInput("张伟", "01", DEMO_PEOPLE["张伟"][2]))
    before = desk.available("孙丽")
    result = desk.bank.pay(desk.clerk, admission_id, 500_000)
    assert result.state == "paid" and "¥5,000.00" in result.message
    assert desk.available("孙丽") == before - 500_000
    account = desk.svc.account(desk.clerk, admission_id)
    [payment] = account.payments
    assert (payment.channel, payment.status, payment.amount_fen) == ("credit", "success", 500_000)
    assert payment.bank_serial and payment.consent_id is not None
    assert account.balance_fen == 500_000 - account.total_cost_fen
    with desk.services.db.reader() as s:
        entry = s.execute(select(BankJournal)).scalar_one()
        assert (entry.purpose, entry.op, entry.number, entry.payment_id) == (PAY, "pay", payment.payment_no,
                                                                             payment.id)
    actions = desk.audit_actions()
    for action in ("inpatient.consent_created", "inpatient.consent_printed", "inpatient.consent_received",
                   "inpatient.credit_payment_started", "inpatient.credit_payment_success"):
        assert action in actions


def test_a_second_top_up_uses_the_same_consent(desk: Desk) -> None:
    admission_id = desk.admit("孙丽")
    desk.consent(admission_id)
    assert desk.bank.pay(desk.clerk, admission_id, 100_000).paid
    assert desk.bank.pay(desk.clerk, admission_id, 50_000).paid
    assert desk.svc.account(desk.clerk, admission_id).deposited_fen == 150_000


def test_not_enough_credit_writes_nothing_and_another_channel_works(desk: Desk) -> None:
    admission_id = desk.admit("王芳")  # limit ¥30
    desk.consent(admission_id)
    result = desk.bank.pay(desk.clerk, admission_id, 10_000)
    assert result.state == "insufficient" and result.message == texts.INPATIENT_CREDIT_INSUFFICIENT
    assert result.available_fen == 3_000
    assert desk.count(Payment) == 0 and desk.count(BankJournal) == 0
    cash = desk.svc.take_deposit(desk.clerk, admission_id, "cash", 10_000, cash_received_fen=10_000)
    assert cash.status == "success" and desk.svc.account(desk.clerk, admission_id).deposited_fen == 10_000


def test_unsigned_patient_and_family_member(desk: Desk) -> None:
    unsigned = desk.admit("刘洋")
    desk.consent(unsigned)
    assert desk.bank.pay(desk.clerk, unsigned, 10_000).state == "not_signed"
    member = desk.admit("李娜")  # 亲情付: 张伟's credit
    desk.consent(member)
    holder_before = desk.available("张伟")
    assert desk.bank.pay(desk.clerk, member, 20_000).paid
    assert desk.available("张伟") == holder_before - 20_000
    assert desk.svc.admission(desk.clerk, member).family_pay is True


def test_bank_unreachable_at_the_pay_check_writes_nothing(desk: Desk) -> None:
    admission_id = desk.admit("孙丽")
    desk.consent(admission_id)
    sign = desk.bank.sign_status(desk.clerk, admission_id)
    desk.services.sandbox.admin.add_fault("pay_check", "refuse", count=1)
    result = desk.bank.pay(desk.clerk, admission_id, 10_000, sign=sign)
    assert result.state == "unreachable" and "未收取任何费用" in result.message
    assert desk.count(Payment) == 0


def test_a_lost_pay_answer_stays_pending_until_the_resolver_settles_it(desk: Desk) -> None:
    admission_id = desk.admit("孙丽")
    desk.consent(admission_id)
    admin = desk.services.sandbox.admin
    admin.add_fault("pay", "drop_reply", count=1)  # the bank took the money, the answer was lost
    admin.add_fault("pay_query", "processing", count=20)
    result = desk.bank.pay(desk.clerk, admission_id, 30_000, settle_within=0)
    assert result.state == "pending"
    account = desk.svc.account(desk.clerk, admission_id)
    assert account.pending_in_fen == 30_000 and account.deposited_fen == 0  # not money held yet
    with pytest.raises(Conflict):  # a settlement cannot start while a pay is in flight
        desk.svc.start_settlement(desk.clerk, admission_id)
    admin.clear_faults()
    desk.services.bank.resolve_pending(include_not_due=True)
    assert desk.bank.payment_state(result.payment_id).state == "paid"
    assert desk.count(Payment) == 1  # resolved by the pay query on the same number, never a second pay
    assert desk.svc.account(desk.clerk, admission_id).deposited_fen == 30_000


def test_discharge_surplus_credit_refund_restores_the_credit(desk: Desk) -> None:
    admission_id, settlement_id = desk.settle_with_surplus("孙丽", 200_000, 50_000)
    before = desk.available("孙丽")
    [line] = desk.svc.credit_refund_lines(desk.clerk, settlement_id)
    assert line.amount_fen == 150_000
    result = desk.bank.refund_line(desk.clerk, settlement_id, line.line_no)
    assert result.state == RefundStatus.SUCCESS and "额度已恢复" in result.message
    assert desk.available("孙丽") == before + 150_000
    view = desk.svc.complete_settlement(desk.clerk, settlement_id)
    assert view.status == "done"
    assert {"inpatient.settlement_started", "inpatient.credit_refund_submitted", "inpatient.credit_refund_success",
            "inpatient.settlement_completed"} <= set(desk.audit_actions())


def test_dcbs_refund_is_queued_notified_and_the_refund_queue_finishes_it(desk: Desk) -> None:
    admission_id, settlement_id = desk.settle_with_surplus("孙丽", 200_000, 50_000)
    admin = desk.services.sandbox.admin
    admin.advance(days=1)  # T+1: the refund comes out of the refund reserve
    desk.services.clock.advance(timedelta(days=1))
    admin.set_merchant(reserve_fen=0, has_reserve=True)
    [line] = desk.svc.credit_refund_lines(desk.clerk, settlement_id)
    result = desk.bank.refund_line(desk.clerk, settlement_id, line.line_no)
    assert result.state == RefundStatus.QUEUED and result.code == "DCBS0004PL0974"
    assert "退款队列" in result.message
    with desk.services.db.reader() as s:
        [notice] = s.execute(select(Notification)).scalars().all()
        assert (notice.kind, notice.title, notice.department_id) == (NotificationKind.REFUND_FAILED,
                                                                     texts.REFUND_FAILED_NOTICE, desk.office_id)
        assert "孙丽" in notice.body and "¥1,500.00" in notice.body
    inbox = desk.services.notifications.inbox(desk.clerk)
    assert [n.title for n in inbox] == ["该居民退款失败"]
    assert desk.svc.complete_settlement(desk.clerk, settlement_id).status == "done"  # the queue owes it
    queue = desk.services.refunds
    assert queue.retry(desk.finance).stopped_at == result.refund_no  # still no money: stays queued
    admin.set_merchant(reserve_fen=10_000_000)
    before = desk.available("孙丽")
    report = queue.retry(desk.finance)
    assert report.succeeded == [result.refund_no] and report.left == 0
    assert desk.bank.refund_state(result.refund_id).state == RefundStatus.SUCCESS
    assert desk.available("孙丽") == before + 150_000
    with desk.services.db.reader() as s:
        refund = s.get(Refund, result.refund_id)
        assert refund.refund_no == result.refund_no and refund.attempts == 3  # same number every time
        assert s.execute(select(func.count()).select_from(BankJournal).where(BankJournal.purpose == REFUND)
                         ).scalar_one() == 1
    statement = desk.svc.statement(desk.clerk, settlement_id)
    [credit] = [c for c in statement.account.channels if c.channel == "credit"]
    assert (credit.refunded_fen, credit.refund_queued_fen) == (150_000, 0)


def test_a_refused_refund_releases_the_line_for_a_new_try(desk: Desk) -> None:
    _admission_id, settlement_id = desk.settle_with_surplus("孙丽", 100_000, 40_000)
    desk.services.sandbox.admin.add_fault("refund", "error", count=1, code="XYB006", message="退款金额超过可退金额")
    [line] = desk.svc.credit_refund_lines(desk.clerk, settlement_id)
    failed = desk.bank.refund_line(desk.clerk, settlement_id, line.line_no)
    assert failed.state == RefundStatus.FAILED and "未成功" in failed.message
    [line] = desk.svc.credit_refund_lines(desk.clerk, settlement_id)
    assert line.remaining_fen == 60_000  # the reservation was released
    with desk.services.db.reader() as s:  # every refund failure tells the department
        [notice] = s.execute(select(Notification)).scalars().all()
        assert (notice.title, notice.department_id, notice.refund_id) == (texts.REFUND_FAILED_NOTICE, desk.office_id,
                                                                          failed.refund_id)
        assert "请联系财务处理" in notice.body
    again = desk.bank.refund_line(desk.clerk, settlement_id, line.line_no)
    assert again.state == RefundStatus.SUCCESS and again.refund_no != failed.refund_no
    assert desk.svc.complete_settlement(desk.clerk, settlement_id).status == "done"


def test_discharge_shortfall_paid_by_credit(desk: Desk) -> None:
    admission_id = desk.admit("孙丽", daily_bed_fen=0)
    desk.svc.take_deposit(desk.clerk, admission_id, "cash", 10_000, cash_received_fen=10_000)
    desk.svc.post_charge(desk.clerk, admission_id, description="手术费", unit_price_fen=250_000)
    settlement = desk.svc.start_settlement(desk.clerk, admission_id)
    assert settlement.collect_fen == 240_000
    desk.consent(admission_id)
    too_much = pytest.raises(Exception, match="超过应补")
    with too_much:
        desk.bank.pay(desk.clerk, admission_id, 240_001, purpose="settlement")
    result = desk.bank.pay(desk.clerk, admission_id, 240_000, purpose="settlement")
    assert result.paid
    view = desk.svc.complete_settlement(desk.clerk, settlement.id)
    assert view.status == "done" and view.collected_fen == 240_000


def test_a_crash_before_the_answer_is_recorded_is_finished_by_the_resolver(desk: Desk) -> None:
    admission_id = desk.admit("孙丽")
    desk.consent(admission_id)
    gateway = desk.services.bank

    def die(point: str, _journal_id: int) -> None:
        if point == "answered":
            raise RuntimeError("power cut")

    gateway.fault_hook = die
    with pytest.raises(RuntimeError):
        desk.bank.pay(desk.clerk, admission_id, 70_000)
    gateway.fault_hook = None
    with desk.services.db.reader() as s:
        assert s.execute(select(Payment.status)).scalar_one() == "pending"
    gateway.resolve_pending(include_not_due=True)  # the next start: pay query on the same payment number
    with desk.services.db.reader() as s:
        assert s.execute(select(Payment.status)).scalar_one() == "success"
