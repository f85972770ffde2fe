"""The bank side of the admission desk's 信用就医 seams: pay (deposit, top-up, discharge collection) and the
refund of a discharge settlement's credit lines, through the journaled gateway.

The local rules live in :mod:`inpatient_credit` (consent received, caps, the pending rows); this module only
journals, sends and reports the bank's answer back:

- **Pay** (plan §二.四.2) — :meth:`InpatientCreditService.pay`: the core's checks (a received written consent,
  the shortfall cap) → 【签约查询】 (or the answer the desk already has) → 【支付校验】: cannot pay in full →
  ``insufficient`` with :data:`texts.INPATIENT_CREDIT_INSUFFICIENT`, nothing written → the pending ``Payment``
  and the journal intent of 【支付】 commit together → send. PROCESSING or a lost answer stays ``pending`` (the
  resolver asks the pay query, or resends the same payment number); the handler ``inpatient_pay`` moves the
  payment to success (with the bank serial: the refund needs it) or failed when the final answer arrives.
- **Refund** — :meth:`InpatientCreditService.refund_line`: the pending ``Refund`` (amount reserved on the
  payment) and the journal intent of 【退款】 commit together → send. The handler ``inpatient_refund``:
  SUCCESS → done; ``DCBS0004PL0974`` → queued (the department is told 该居民退款失败; the refund queue
  re-sends the same refund number daily and this handler turns its later SUCCESS into done); another refusal →
  failed (the reservation is released; the line can be submitted again under a new number).

Handlers run inside the journal's transaction (from ``execute``, the resolver, the refund queue, or the next
start after a crash) and are safe to run twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop_his.services import inpatient_credit as seams
from desktop_his.services import texts
from desktop_his.services.bank import (
    BankGateway,
    Code,
    JournalRefs,
    Outcome,
    PayRequest,
    RefundRequest,
    SignStatus,
)
from desktop_his.services.bank.protocol import message_for
from desktop_his.services.clock import Clock
from desktop_his.services.credit_returns import QUEUED_MESSAGE
from desktop_his.services.db import Database
from desktop_his.services.enums import BankOp, RefundStatus
from desktop_his.services.errors import BankError, BankOutcomeUnknown, NotFound
from desktop_his.services.inpatient import InpatientService
from desktop_his.services.inpatient_account import get_admission
from desktop_his.services.inpatient_credit import CreditPaymentRequest, CreditRefundRequest
from desktop_his.services.models import BankJournal, Patient, Payment, Refund
from desktop_his.services.money import format_fen
from desktop_his.services.notifications import notify_refund_failed
from desktop_his.services.permissions import Action, Actor, require_any

PAY, REFUND = "inpatient_pay", "inpatient_refund"
_OPEN = (RefundStatus.PENDING.value, RefundStatus.QUEUED.value)
PENDING_MESSAGE = "“信用就医”银行处理中，结果确认后自动更新，请稍候（不要重复缴费）"


@dataclass(frozen=True)
class CreditPayResult:
    """Where a 信用就医 deposit or collection stands. ``state``: paid / insufficient (the pay check says the
    credit cannot pay it in full: nothing was written) / not_signed / refused (the bank refused the pay) /
    pending (sent, answer not final yet: the resolver settles it) / unreachable (no answer to the sign query
    or the pay check: nothing was written)."""

    state: str
    message: str
    amount_fen: int
    payment_id: int | None = None
    payment_no: str | None = None
    available_fen: int | None = None
    code: str | None = None

    @property
    def paid(self) -> bool:
        return self.state == "paid"


@dataclass(frozen=True)
class CreditRefundResult:
    """Where a settlement's 信用就医 refund line stands: success / queued (DCBS0004PL0974, the refund queue owes
    it, the department was notified) / pending (answer not final yet) / failed (refused, nothing moved)."""

    state: str
    message: str
    refund_id: int
    refund_no: str
    amount_fen: int
    code: str | None = None


def _bank_actor(entry: BankJournal) -> Actor:
    """Who the audit names for a bank answer: the bank, at the workstation that sent the operation."""
    return Actor(None, "system:bank", "银行结果", frozenset(), entry.workstation or "")


def pay_handler(clock: Clock):  # noqa: ANN201 - a journal Handler
    def on_pay(s: Session, entry: BankJournal, outcome: Outcome) -> None:
        if entry.payment_id is None:
            return
        kind = seams.CreditOutcome.SUCCESS if outcome.ok else seams.CreditOutcome.FAILED
        seams.record_payment_outcome(s, _bank_actor(entry), entry.payment_id, kind, clock.now(),
                                     bank_serial=outcome.serial, code=outcome.code,
                                     message=outcome.message or message_for(outcome.code))
    return on_pay


def refund_handler(clock: Clock):  # noqa: ANN201 - a journal Handler
    def on_refund(s: Session, entry: BankJournal, outcome: Outcome) -> None:
        if entry.refund_id is None:
            return
        if outcome.ok:
            kind = seams.CreditRefundOutcome.SUCCESS
        elif outcome.code == Code.REFUND_BALANCE_SHORT:
            kind = seams.CreditRefundOutcome.QUEUED  # the core notifies the department (该居民退款失败)
        else:
            kind = seams.CreditRefundOutcome.FAILED
        was_open = s.execute(select(Refund.status).where(Refund.id == entry.refund_id)).scalar_one() in _OPEN
        now = clock.now()
        refund = seams.record_refund_outcome(s, _bank_actor(entry), entry.refund_id, kind, now, code=outcome.code,
                                             message=outcome.message or message_for(outcome.code),
                                             bank_serial=outcome.serial)
        if kind is seams.CreditRefundOutcome.FAILED and was_open:
            # SPEC §4: every refund failure tells the department that asked for it — also one the desk is no
            # longer watching (a queued refund whose retry is refused for another reason).
            notify_refund_failed(s, refund, now)
    return on_refund


class InpatientCreditService:
    """信用就医 at the admission desk. Build once with the gateway; :meth:`register_handlers` before the resolver
    starts (``container.connect_bank`` does both)."""

    def __init__(self, db: Database, clock: Clock, gateway: BankGateway, inpatient: InpatientService) -> None:
        self.db = db
        self.clock = clock
        self.gateway = gateway
        self.inpatient = inpatient

    def register_handlers(self) -> None:
        self.gateway.register_handler(PAY, pay_handler(self.clock))
        self.gateway.register_handler(REFUND, refund_handler(self.clock))

    # ------------------------------------------------------------------------------------ sign status

    def sign_status(self, actor: Actor, admission_id: int) -> SignStatus:
        """【签约查询】 for the admitted patient. Raises ``BankOutcomeUnknown`` (no answer) / ``BankError``."""
        require_any(actor, Action.DEPOSIT, Action.DISCHARGE_SETTLE)
        with self.db.reader() as s:
            patient = s.get(Patient, get_admission(s, admission_id).patient_id)
            assert patient is not None
            name, id_type, number = patient.name, patient.id_type, patient.id_number
        return self.gateway.sign_status(name, id_type, number)

    # ------------------------------------------------------------------------------------------- pay

    def pay(self, actor: Actor, admission_id: int, amount_fen: int, *, purpose: str = "deposit",
            sign: SignStatus | None = None, settle_within: float = 3.0) -> CreditPayResult:
        """A 信用就医 deposit / top-up (``deposit``) or discharge collection (``settlement``) of ``amount_fen``:
        checks → sign status (``sign``: the answer the desk already has) → pay check → pending payment +
        journaled pay → send. Refused by the core (``HisError``): no received consent, the settlement state,
        more than the shortfall. Everything else is the returned state."""
        self.inpatient.prepare_credit_payment(actor, admission_id, amount_fen, purpose=purpose)
        try:
            sign = sign if sign is not None else self.sign_status(actor, admission_id)
            if not sign.signed or not sign.agreement_no:
                return CreditPayResult("not_signed", "该患者未签约“信用就医”（或已解约），请选择其他方式缴费",
                                       amount_fen)
            check = self.gateway.pay_check(sign.agreement_no, amount_fen)
        except (BankOutcomeUnknown, BankError) as exc:
            return CreditPayResult("unreachable", f"{exc.message}。未收取任何费用，可稍后重试或选择其他方式缴费",
                                   amount_fen, code=exc.code)
        if not check.can_pay:
            return CreditPayResult("insufficient", texts.INPATIENT_CREDIT_INSUFFICIENT, amount_fen,
                                   available_fen=check.available_fen, code=Code.CREDIT_SHORT)
        journal_ids: list[int] = []

        def attach(s: Session, req: CreditPaymentRequest) -> None:
            journal_ids.append(self.gateway.journal.intent(
                s, PayRequest(req.agreement_no, req.payment_no, req.amount_fen), purpose=PAY, actor=actor,
                business_date=req.business_date,
                refs=JournalRefs(patient_id=req.patient_id, payment_id=req.payment_id, admission_id=req.admission_id)))

        request = self.inpatient.start_credit_payment(actor, admission_id, amount_fen, agreement_no=sign.agreement_no,
                                                      family_pay=sign.family_pay, purpose=purpose, attach=attach)
        self.gateway.execute(journal_ids[0], settle_within=settle_within)
        return self.payment_state(request.payment_id)

    def payment_state(self, payment_id: int) -> CreditPayResult:
        """Where a credit payment stands now (after :meth:`pay`, or later while it was pending)."""
        with self.db.reader() as s:
            payment = s.get(Payment, payment_id)
            if payment is None:
                raise NotFound("未找到该笔信用就医缴费", code="payment_not_found")
            entry = s.execute(select(BankJournal).where(BankJournal.op == BankOp.PAY.value,
                                                        BankJournal.number == payment.payment_no)).scalar_one_or_none()
            code = entry.result_code if entry is not None else None
            amount = format_fen(payment.amount_fen, symbol=True)
            if payment.status == "success":
                state, message = "paid", f"已使用“信用就医”缴费{amount}（缴费单 {payment.payment_no}）"
            elif payment.status == "failed" and code == Code.CREDIT_SHORT:
                state, message = "insufficient", texts.INPATIENT_CREDIT_INSUFFICIENT
            elif payment.status == "failed":
                reason = (entry.result_message if entry is not None else None) or message_for(code)
                state, message = "refused", f"“信用就医”缴费未成功：{reason}。未收取费用，请选择其他方式缴费"
            else:
                state, message = "pending", PENDING_MESSAGE
            return CreditPayResult(state, message, payment.amount_fen, payment.id, payment.payment_no, code=code)

    # ---------------------------------------------------------------------------------------- refund

    def refund_line(self, actor: Actor, settlement_id: int, line_no: int, *,
                    settle_within: float = 3.0) -> CreditRefundResult:
        """Give one 信用就医 line of a started settlement back through the bank's refund interface."""
        journal_ids: list[int] = []

        def attach(s: Session, req: CreditRefundRequest) -> None:
            journal_ids.append(self.gateway.journal.intent(
                s, RefundRequest(req.refund_no, req.original_serial, req.amount_fen), purpose=REFUND, actor=actor,
                business_date=req.business_date,
                refs=JournalRefs(patient_id=req.patient_id, payment_id=req.payment_id, refund_id=req.refund_id,
                                 admission_id=req.admission_id)))

        request = self.inpatient.submit_credit_refund(actor, settlement_id, line_no, attach=attach)
        self.gateway.execute(journal_ids[0], settle_within=settle_within)
        return self.refund_state(request.refund_id)

    def refund_state(self, refund_id: int) -> CreditRefundResult:
        with self.db.reader() as s:
            refund = s.get(Refund, refund_id)
            if refund is None:
                raise NotFound("未找到该笔退款", code="refund_not_found")
            amount = format_fen(refund.amount_fen, symbol=True)
            messages = {
                "success": f"“信用就医”退款{amount}已完成，额度已恢复",
                "queued": QUEUED_MESSAGE + "已通知本科室（该居民退款失败）。",
                "pending": f"“信用就医”退款{amount}已提交，银行处理中，结果确认后自动更新",
                "failed": (f"“信用就医”退款{amount}未成功：{refund.last_error_message or message_for(refund.last_error_code)}"
                           "。可稍后重新办理该笔退款，或联系财务"),
            }
            return CreditRefundResult(refund.status, messages[refund.status], refund.id, refund.refund_no,
                                      refund.amount_fen, refund.last_error_code)
