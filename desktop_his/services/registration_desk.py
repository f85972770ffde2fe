"""The registration window's acts, composed from the workflow services (no Qt; the window and the benchmark
call these on worker threads).

- **Pay the fee** another way (:meth:`RegistrationDesk.pay_fee`), after the 信用就医 pop-up was cancelled, the
  patient is not signed, or the bank failed: the registration stays as it is and the fee is recorded by channel.
- **信用就医** (:meth:`sign_status`, :meth:`use_credit`, :meth:`resolve_credit`): the confirm → lock goes through
  :class:`~desktop_his.services.credit.CreditService` (journaled, audited there); an outcome still unknown after
  a few seconds is settled later by :meth:`resolve_credit` (same journal entries, same numbers).
- **The guide slip** (:meth:`slip`): note the print (a second one is a 补打) and build the document.
- **退号 with the money back** (:meth:`cancel`): table 1 of the plan — cancel the lock, refund through the bank,
  or record the refund of another channel — then release the place. A refund the bank answers
  ``DCBS0004PL0974`` is queued: the cancellation goes through and the cashier is told plainly.
- **停诊** (:meth:`suspend`): suspend the slot, then cancel and refund every paid registration on it; the
  patients to phone are listed.
- **Orders at the window** (:meth:`unpaid_orders`, :meth:`pay_order`, :meth:`order_refunds_due`,
  :meth:`refund_order`): what 信用就医 did not cover, paid or paid back by another channel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from desktop_his.services import order_queries
from desktop_his.services.bank import SignStatus
from desktop_his.services.bank.journal import OPEN_STATES
from desktop_his.services.clock import Clock
from desktop_his.services.credit import CreditResult, CreditService
from desktop_his.services.credit_returns import QUEUED_MESSAGE
from desktop_his.services.db import Database
from desktop_his.services.enums import CHANNEL_LABELS, Channel, FeeStatus, RefundMethod, RefundStatus
from desktop_his.services.errors import Conflict, HisError, ValidationError
from desktop_his.services.models import BankJournal, Payment
from desktop_his.services.money import format_fen
from desktop_his.services.order_types import OrderView, WindowRefund
from desktop_his.services.payments import PaymentInput, PaymentService
from desktop_his.services.permissions import Action, Actor, require
from desktop_his.services.registration import CancellationPlan, RegistrationService, SuspensionResult
from desktop_his.services.registration_views import VisitInfo
from desktop_his.services.slips import SlipDocument, registration_slip

BANK_MISSING = "“信用就医”暂不可用：银行未连接。请选择其他方式缴费。"


@dataclass(frozen=True)
class MoneyReturned:
    """One amount given back while cancelling: how, and where it stands (the cashier's line)."""

    method: str  # enums.RefundMethod
    amount_fen: int
    status: str  # enums.RefundStatus
    message: str

    @property
    def queued(self) -> bool:
        return self.status == RefundStatus.QUEUED


@dataclass(frozen=True)
class CancelOutcome:
    visit: VisitInfo
    cancelled: bool
    returned: tuple[MoneyReturned, ...]
    message: str  # what to tell the cashier (and the patient)

    @property
    def queued(self) -> bool:
        return any(r.queued for r in self.returned)


@dataclass(frozen=True)
class SuspendOutcome:
    result: SuspensionResult
    settled: tuple[CancelOutcome, ...]  # the paid registrations refunded and cancelled now
    problems: tuple[str, ...]  # registrations that could not be settled now (why), to finish later


class RegistrationDesk:
    """Build once (services container); ``credit`` is set when the bank side connects (None without a bank)."""

    def __init__(self, db: Database, clock: Clock, registration: RegistrationService, payments: PaymentService,
                 hospital_name: Callable[[], str], workstation: str = "") -> None:
        self.db, self.clock = db, clock
        self.registration, self.payments = registration, payments
        self.hospital_name = hospital_name
        self.workstation = workstation
        self.credit: CreditService | None = None

    # ------------------------------------------------------------------------------------ 信用就医

    def _credit(self) -> CreditService:
        if self.credit is None:
            raise Conflict(BANK_MISSING, code="bank_missing")
        return self.credit

    def sign_status(self, actor: Actor, patient_id: int) -> SignStatus:
        """【签约查询】; raises ``BankOutcomeUnknown``/``BankError`` (HisError) when the bank cannot answer."""
        return self._credit().sign_status(actor, patient_id)

    def use_credit(self, actor: Actor, visit_id: int, sign: SignStatus, *, settle_within: float = 3.0) -> CreditResult:
        """The patient confirmed the pop-up: confirm + lock of the fee (audited by the credit service)."""
        return self._credit().use_credit(actor, visit_id, sign, settle_within=settle_within)

    def sign_page_url(self) -> str:
        """Where an unsigned patient signs up (shown as a QR code): the bank's signing page for this merchant.
        The page belongs to the bank; the HIS only points at it (demo: the sandbox's address)."""
        credit = self._credit()
        client = credit.gateway.client
        merchant = getattr(getattr(client.adapter, "keys", None), "merchant_id", "")
        return f"{client.base_url}/sign?merchant={merchant}"

    def credit_state(self, visit_id: int) -> CreditResult:
        return self._credit().visit_state(visit_id)

    def resolve_credit(self, visit_id: int, *, rounds: int = 3) -> CreditResult:
        """Settle the visit's open bank operations (query, or resend the same number); the 【确认】's handler
        may write the 【锁定】, hence a few rounds. Returns where the visit stands."""
        credit = self._credit()
        for _ in range(rounds):
            with self.db.reader() as s:
                open_ids = list(s.scalars(select(BankJournal.id).where(
                    BankJournal.visit_id == visit_id, BankJournal.state.in_([x.value for x in OPEN_STATES]))
                    .order_by(BankJournal.id)))
            if not open_ids:
                break
            for journal_id in open_ids:
                credit.gateway.execute(journal_id)
        return credit.visit_state(visit_id)

    # -------------------------------------------------------------------------------- other channels

    def pay_fee(self, actor: Actor, visit_id: int, payment: PaymentInput) -> VisitInfo:
        """The registration fee by another channel (the whole amount still due)."""
        visit = self.registration.visit(actor, visit_id)
        self.payments.record(actor, patient_id=visit.patient_id, purpose="registration", amount_fen=visit.fee_fen,
                             channel=payment.channel, reference_no=payment.reference_no,
                             cash_received_fen=payment.cash_received_fen, visit_id=visit_id)
        return self.registration.visit(actor, visit_id)

    def last_payment(self, actor: Actor, visit_id: int) -> Payment | None:
        payments = [p for p in self.payments.payments_for_visit(actor, visit_id) if p.status == "success"]
        return payments[-1] if payments else None

    # ------------------------------------------------------------------------------------ the slip

    def slip(self, actor: Actor, visit_id: int, *, reprint: bool = False) -> SlipDocument:
        """Note the print (the second and later ones are 补打, audited) and build the guide slip."""
        visit = self.registration.record_slip_printed(actor, visit_id, reprint=reprint)
        return registration_slip(visit, hospital=self.hospital_name(), printed_at=self.clock.now(),
                                 workstation=actor.workstation or self.workstation)

    # -------------------------------------------------------------------------------- cancellation

    def cancel(self, actor: Actor, visit_id: int, reason: str, *,
               plan: CancellationPlan | None = None) -> CancelOutcome:
        """退号: give every amount back (table 1), then release the place. Refuses (Conflict, nothing moved)
        when the visit may not be cancelled now or a lock's outcome is still unknown."""
        reason = (reason or "").strip()
        plan = plan or self.registration.prepare_cancellation(actor, visit_id)
        if not plan.allowed:
            raise Conflict(plan.refusal, code="cancel_not_allowed")
        if plan.blocked:
            raise Conflict(plan.blocked, code="money_blocked")
        if not reason:
            raise ValidationError("请填写退号原因", field="reason")
        returned = tuple(self._give_back(actor, m, reason) for m in plan.money)
        failed = [r for r in returned if r.status == RefundStatus.FAILED]
        if failed:
            visit = self.registration.visit(actor, visit_id)
            return CancelOutcome(visit, False, returned, "退费未成功，挂号未退：" + "；".join(r.message for r in failed))
        visit = self.registration.cancel(actor, visit_id, reason, checked_at=plan.checked_at)
        lines = ["已退号"] + [r.message for r in returned]
        if any(r.queued for r in returned):
            lines.append(QUEUED_MESSAGE)
        return CancelOutcome(visit, True, returned, "。".join(dict.fromkeys(x.rstrip("。") for x in lines)) + "。")

    def _give_back(self, actor: Actor, money, reason: str) -> MoneyReturned:  # noqa: ANN001 - a MoneyBack
        if money.method == RefundMethod.RECORDED:
            refund = self.payments.record_refund(actor, money.payment_id, money.amount_fen, reason)
            label = CHANNEL_LABELS[Channel(money.channel)]
            return MoneyReturned(refund.method, refund.amount_fen, refund.status,
                                 f"{label}退还{format_fen(refund.amount_fen, symbol=True)}（退费单 {refund.refund_no}）")
        result = self._credit().return_credit(actor, money.credit_lock_id, money.amount_fen, reason)
        return MoneyReturned(result.method, result.amount_fen, result.status, result.message)

    # ------------------------------------------------------------------------------------- 停诊

    def suspend(self, actor: Actor, slot_id: int, reason: str) -> SuspendOutcome:
        """停诊: suspend, cancel the unpaid registrations, refund and cancel the paid ones (停诊退费)."""
        result = self.registration.suspend_slot(actor, slot_id, reason)
        settled, problems = [], []
        for affected in result.refund_needed:
            try:
                settled.append(self.cancel(actor, affected.visit.id, f"停诊：{reason}"))
            except HisError as exc:
                problems.append(f"{affected.visit.patient_name}（{affected.visit.visit_no}）：{exc.message}")
        return SuspendOutcome(result, tuple(settled), tuple(problems))

    # ------------------------------------------------------------------------------------- orders

    def unpaid_orders(self, actor: Actor, patient_id: int) -> list[OrderView]:
        """Submitted orders 信用就医 did not cover (not a credit visit, or the lock was refused)."""
        require(actor, Action.TAKE_PAYMENT)
        with self.db.reader() as s:
            return order_queries.unpaid_orders(s, patient_id=patient_id, visit_id=None)

    def pay_order(self, actor: Actor, order: OrderView, payment: PaymentInput) -> Payment:
        return self.payments.record(actor, patient_id=order.patient_id, purpose="order", amount_fen=order.charge_fen,
                                    channel=payment.channel, reference_no=payment.reference_no,
                                    cash_received_fen=payment.cash_received_fen, order_id=order.id)

    def order_refunds_due(self, actor: Actor, patient_id: int) -> list[WindowRefund]:
        require(actor, Action.REFUND)
        with self.db.reader() as s:
            return order_queries.window_refunds_due(s, patient_id=patient_id, visit_id=None)

    def refund_order(self, actor: Actor, due: WindowRefund, reason: str) -> list[MoneyReturned]:
        """Pay back what a window took for a revoked (or short-executed) order, payment by payment."""
        require(actor, Action.REFUND)
        with self.db.reader() as s:
            payments = list(s.scalars(select(Payment).where(
                Payment.order_id == due.order.id, Payment.status == "success").order_by(Payment.id)))
        left, out = due.amount_fen, []
        for p in payments:
            amount = min(left, p.amount_fen - p.refunded_fen)
            if amount <= 0:
                continue
            refund = self.payments.record_refund(actor, p.id, amount, reason)
            out.append(MoneyReturned(refund.method, amount, refund.status, f"已退还 {refund.refund_no}"))
            left -= amount
        if not out:
            raise Conflict("该收费单没有可退的窗口缴费", code="nothing_to_refund")
        return out

    def today(self) -> date:
        return self.clock.today()


def fee_settled(visit: VisitInfo) -> bool:
    """Whether the guide slip can go out: the fee is paid, held on credit, or there is none."""
    return visit.fee_status in (FeeStatus.PAID, FeeStatus.LOCKED, FeeStatus.DEDUCTED) or visit.fee_fen == 0
