"""信用就医 on the outpatient side: confirmation, locks, and giving credit back (the plan's table 1).

Every workstation composes these pieces; none of them talks to the bank except through the journaled gateway.

- **Confirm → lock** (registration window, switch to credit, immunization desk): :meth:`CreditService.use_credit`
  journals the bank's 【确认】 for the visit number. Its handler — which runs whenever the final answer arrives:
  now, from the resolver, or after a crash at the next start — marks the visit as credit and, when the visit's
  fee is still due, writes the 【锁定】 of the fee in the same transaction. The lock's handler moves the fee to
  ``locked`` (or back to ``unpaid`` when the bank refuses it, to be paid another way).
- **Order / vaccine slip locks** ("开单即锁额"): :meth:`CreditService.lock_hook` is the ``attach`` of
  ``OrderService.submit`` — the lock's intent commits with the submitted order.
- **Giving credit back** (:func:`start_credit_return`): on the lock's own day before deduction → 【取消】 the
  lock; once deducted (T or T+N) → 【退款】 of at most what was deducted minus earlier refunds (reserved with a
  guarded UPDATE when the refund is written, released only if the bank definitely refuses it). A refund the
  bank answers ``DCBS0004PL0974`` is queued (retried daily in submission order by :mod:`refunds`) and the
  department that asked for it is notified 该居民退款失败.

Handlers never call the bank and are safe to run twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop_his.services import audit, live, numbers, orders
from desktop_his.services.bank import (
    BankGateway,
    ConfirmRequest,
    DeductRequest,
    JournalRefs,
    LockRequest,
    Outcome,
    SignStatus,
)
from desktop_his.services.bank.protocol import message_for
from desktop_his.services.clock import Clock
from desktop_his.services.credit_returns import (  # noqa: F401 - re-exported
    CANCEL,
    QUEUED_MESSAGE,
    REFUND,
    _cancel_settled,
    _locked,
    _refund_settled,
    journal_id_for,
    return_message,
    start_credit_return,
)
from desktop_his.services.db import Database, newest
from desktop_his.services.enums import (
    BankOp,
    FeeStatus,
    LockStatus,
    NotificationKind,
    RefundMethod,
    VisitStatus,
)
from desktop_his.services.errors import Conflict, NotFound, ValidationError
from desktop_his.services.models import (
    BankJournal,
    CreditLock,
    MedicalOrder,
    Patient,
    Refund,
    Visit,
)
from desktop_his.services.money import format_fen
from desktop_his.services.notifications import notify
from desktop_his.services.order_types import OrderLockRequest, SubmittedOrder
from desktop_his.services.permissions import Action, Actor, require, require_any

CONFIRM, LOCK, DEDUCT = "credit_confirm", "credit_lock", "credit_deduct"
OPEN_VISIT = (VisitStatus.REGISTERED, VisitStatus.CHECKED_IN, VisitStatus.CALLED)
@dataclass(frozen=True)
class CreditResult:
    """Where a visit's 信用就医 stands after :meth:`CreditService.use_credit`."""

    visit_id: int
    state: str  # "locked" | "confirmed" (no fee to lock) | "refused" | "pending"
    message: str
    code: str | None = None

    @property
    def settled(self) -> bool:
        return self.state != "pending"


@dataclass(frozen=True)
class ReturnResult:
    """Where one credit return (cancel or refund) stands."""

    refund_id: int
    method: str  # enums.RefundMethod
    status: str  # enums.RefundStatus
    amount_fen: int
    message: str
    journal_id: int


def _visit_topics(visit: Visit) -> list[str]:
    topics = [f"visit:{visit.id}", f"department:{visit.department_id}", f"orders:patient:{visit.patient_id}"]
    if visit.doctor_id is not None:
        topics.append(f"doctor:{visit.doctor_id}")
    return topics


# ----------------------------------------------------------------------------------------- locks


def start_lock(s: Session, gateway: BankGateway, *, purpose: str, patient_id: int, visit: Visit,
               order_id: int | None, amount_fen: int, business_date: date, now: datetime,
               staff_id: int | None, workstation: str, actor: Actor | None) -> int:
    """Write a pending ``CreditLock`` and the intent of its 【锁定】 in the caller's transaction; the journal id."""
    if not visit.agreement_no:
        raise Conflict("该就诊未确认使用“信用就医”，不能锁定额度", code="not_confirmed")
    lock = CreditLock(
        lock_no=numbers.take(s, "lock", business_date), patient_id=patient_id, visit_id=visit.id,
        order_id=order_id, purpose=purpose, agreement_no=visit.agreement_no, family_pay=visit.family_pay,
        amount_fen=amount_fen, business_date=business_date, created_at=now, created_by=staff_id,
        workstation=workstation, status=LockStatus.PENDING.value)
    s.add(lock)
    s.flush()
    request = LockRequest(visit.agreement_no, visit.visit_no, lock.lock_no, amount_fen)
    return gateway.journal.intent(s, request, purpose=LOCK, actor=actor, business_date=business_date,
                                  refs=JournalRefs(patient_id=patient_id, visit_id=visit.id, order_id=order_id,
                                                   credit_lock_id=lock.id))


def _lock_settled(s: Session, lock: CreditLock, outcome: Outcome, now: datetime) -> None:
    if lock.status != LockStatus.PENDING:
        return  # already applied (handlers may run twice)
    order = orders.lock_order(s, lock.order_id) if lock.order_id else None
    visit = s.get(Visit, lock.visit_id) if lock.visit_id else None
    if outcome.ok:
        lock.status, lock.lock_serial, lock.locked_at = LockStatus.LOCKED.value, outcome.serial, now
    else:
        lock.status = LockStatus.FAILED.value
        lock.failure_code, lock.failure_message = outcome.code, (outcome.message or message_for(outcome.code))[:200]
    topics = _visit_topics(visit) if visit is not None else []
    if order is not None:
        moves = ([(order, FeeStatus.LOCKED if outcome.ok else FeeStatus.UNPAID)]
                 if order.fee_status == FeeStatus.PENDING else [])
        orders.move_fee_statuses(s, moves, also=topics)
        return
    if visit is not None and visit.fee_status == FeeStatus.PENDING:
        visit.fee_status = (FeeStatus.LOCKED if outcome.ok else FeeStatus.UNPAID).value
        if not outcome.ok:
            visit.credit = False  # the fee is collected another way; the visit is not on credit
    live.publish(s, *topics)


# ------------------------------------------------------------------------------------------ deduction


def deduct_request(lock: CreditLock, patient: Patient) -> DeductRequest:
    """【扣除】 of one lock at its actual amount (≤ the lock: the bank releases the rest)."""
    amount = lock.amount_fen if lock.actual_fen is None else lock.actual_fen
    return DeductRequest(lock.lock_no, lock.lock_serial or "", amount, patient.name, patient.id_type,
                         patient.id_number)


def _deduct_settled(s: Session, lock: CreditLock, entry: BankJournal, outcome: Outcome, now: datetime,
                    moves: list[tuple[MedicalOrder, FeeStatus]] | None = None) -> None:
    """Settle ``lock`` with the deduction's outcome. ``moves``: collect the orders' fee moves there, for the
    caller to make in one go (``orders.move_fee_statuses``; the orders must be loaded ``FOR UPDATE``)."""

    def move(order: MedicalOrder, to: FeeStatus) -> None:
        if moves is None:
            orders.move_fee_status(s, order.id, to)
        else:
            moves.append((order, to))

    if lock.status != LockStatus.LOCKED:
        return
    order = s.get(MedicalOrder, lock.order_id) if lock.order_id else None
    visit = s.get(Visit, lock.visit_id) if lock.visit_id else None
    if outcome.ok:
        lock.status, lock.deducted_fen, lock.deducted_at = LockStatus.DEDUCTED.value, entry.amount_fen or 0, now
        if order is not None and order.fee_status == FeeStatus.LOCKED:
            move(order, FeeStatus.DEDUCTED)
        elif order is None and visit is not None and visit.fee_status == FeeStatus.LOCKED:
            visit.fee_status = FeeStatus.DEDUCTED.value
        return
    # A refused deduction is final for this lock (its number cannot carry other parameters), and the bank
    # releases an undeducted lock at 24:00: the money must be collected another way.
    lock.status, lock.closed_at = LockStatus.EXPIRED.value, now
    lock.failure_code = outcome.code
    lock.failure_message = (outcome.message or message_for(outcome.code))[:200]
    if order is not None and order.fee_status == FeeStatus.LOCKED:
        move(order, FeeStatus.UNPAID)
    elif order is None and visit is not None and visit.fee_status == FeeStatus.LOCKED:
        visit.fee_status, visit.credit = FeeStatus.UNPAID.value, False
    patient = s.get(Patient, lock.patient_id)
    notify(s, department_id=None, kind=NotificationKind.LOCK_EXPIRED, title="信用就医扣款未成功，请以其他方式收取",
           body=(f"{patient.name if patient else ''}的“信用就医”锁定 {lock.lock_no}（{format_fen(lock.amount_fen, symbol=True)}，"
                 f"{lock.business_date:%Y-%m-%d}）扣款未成功：{lock.failure_message}。请通知患者以其他方式缴费。"),
           now=now, patient_id=lock.patient_id, amount_fen=entry.amount_fen)


# --------------------------------------------------------------------------------------- the service


class CreditService:
    """The outpatient 信用就医 workflows. Build once; call :meth:`register_handlers` before the resolver runs."""

    def __init__(self, db: Database, clock: Clock, gateway: BankGateway) -> None:
        self.db = db
        self.clock = clock
        self.gateway = gateway

    def register_handlers(self) -> None:
        self.gateway.register_handler(CONFIRM, self._on_confirm)
        self.gateway.register_handler(LOCK, self._on_lock)
        self.gateway.register_handler(DEDUCT, self._on_deduct)
        self.gateway.register_handler(CANCEL, self._on_cancel)
        self.gateway.register_handler(REFUND, self._on_refund)

    # -------------------------------------------------------------------------- queries

    def sign_status(self, actor: Actor, patient_id: int) -> SignStatus:
        """【签约查询】 for a patient (name and ID number are encrypted on the wire). Raises BankOutcomeUnknown
        when the bank does not answer — the caller offers the other channels then."""
        require(actor, Action.PATIENT_VIEW)
        with self.db.reader() as s:
            patient = s.get(Patient, patient_id)
            if patient is None:
                raise NotFound("未找到该患者", code="patient_not_found")
            name, id_type, id_number = patient.name, patient.id_type, patient.id_number
        return self.gateway.sign_status(name, id_type, id_number)

    def visit_state(self, visit_id: int) -> CreditResult:
        with self.db.reader() as s:
            visit = s.get(Visit, visit_id)
            if visit is None:
                raise NotFound("未找到该挂号", code="visit_not_found")
            return self._state(s, visit)

    def _state(self, s: Session, visit: Visit) -> CreditResult:
        fee = FeeStatus(visit.fee_status)
        if fee is FeeStatus.PENDING:
            return CreditResult(visit.id, "pending", "“信用就医”银行处理中，结果确认后自动更新，请稍候")
        if visit.credit and fee in (FeeStatus.LOCKED, FeeStatus.DEDUCTED):
            return CreditResult(visit.id, "locked", f"已使用“信用就医”支付挂号费 {format_fen(visit.fee_fen, symbol=True)}")
        if visit.credit:
            return CreditResult(visit.id, "confirmed", "本次就诊已确认使用“信用就医”")
        code, message = self._refusal(s, visit)
        return CreditResult(visit.id, "refused", message, code)

    def _refusal(self, s: Session, visit: Visit) -> tuple[str | None, str]:
        row = newest(s, select(BankJournal.id, BankJournal.result_code, BankJournal.result_message).where(
            BankJournal.visit_id == visit.id, BankJournal.op.in_((BankOp.CONFIRM.value, BankOp.LOCK.value)),
            BankJournal.state == "failed"))
        if row is None:
            return None, "本次就诊未使用“信用就医”"
        return row.result_code, f"“信用就医”未能支付：{row.result_message or message_for(row.result_code)}，请选择其他方式支付"

    # -------------------------------------------------------------------------- confirm → lock

    def use_credit(self, actor: Actor, visit_id: int, sign: SignStatus, *, settle_within: float = 3.0) -> CreditResult:
        """The patient accepted the 信用就医 pop-up (or asked to switch before being seen): 【确认】, then the
        fee's 【锁定】 when it is still due. Audited. Returns the state reached within ``settle_within``."""
        require_any(actor, Action.REGISTER, Action.SWITCH_TO_CREDIT, Action.VACCINE_CHARGE)
        if not sign.signed or not sign.agreement_no:
            raise ValidationError("该患者未签约“信用就医”", code="not_signed")
        now = self.clock.now()
        with self.db.session() as s:
            visit = _locked(s, Visit, visit_id)
            if visit is None:
                raise NotFound("未找到该挂号", code="visit_not_found")
            if visit.credit or visit.fee_status == FeeStatus.PENDING:
                return self._state(s, visit)
            if visit.status not in OPEN_VISIT:
                raise Conflict("医生已接诊或挂号已结束，不能再改用“信用就医”", code="visit_closed")
            if visit.agreement_no and visit.agreement_no != sign.agreement_no:
                raise Conflict("该挂号已用其他“信用就医”协议确认过，请核对", code="agreement_changed")
            visit.agreement_no, visit.family_pay = sign.agreement_no, sign.family_pay
            visit.credit_confirmed_at, visit.credit_confirmed_by = now, actor.staff_id
            if visit.fee_status == FeeStatus.UNPAID and visit.fee_fen > 0:
                visit.fee_status = FeeStatus.PENDING.value
            journal_id = self.gateway.journal.intent(
                s, ConfirmRequest(sign.agreement_no, visit.visit_no), purpose=CONFIRM, actor=actor,
                business_date=now.date(), refs=JournalRefs(patient_id=visit.patient_id, visit_id=visit.id))
            audit.append(s, actor=actor, action="credit.confirmed_by_patient", at=now, entity="visit",
                         entity_id=visit.id, detail={"visit_no": visit.visit_no, "patient_id": visit.patient_id,
                                                     "agreement_no": sign.agreement_no,
                                                     "family_pay": sign.family_pay})
            live.publish(s, *_visit_topics(visit))
        outcome = self.gateway.execute(journal_id, settle_within=settle_within)
        if outcome.ok:
            lock_journal = self._fee_lock_journal(visit_id)
            if lock_journal is not None:
                self.gateway.execute(lock_journal, settle_within=settle_within)
        return self.visit_state(visit_id)

    def _fee_lock_journal(self, visit_id: int) -> int | None:
        with self.db.reader() as s:
            row = newest(s, select(BankJournal.id).join(CreditLock, CreditLock.id == BankJournal.credit_lock_id)
                         .where(CreditLock.visit_id == visit_id, CreditLock.order_id.is_(None),
                                BankJournal.op == BankOp.LOCK.value))
            return row.id if row is not None else None

    def _on_confirm(self, s: Session, entry: BankJournal, outcome: Outcome) -> None:
        visit = _locked(s, Visit, entry.visit_id)
        if visit is None:
            return
        now = self.clock.now()
        if outcome.ok and not visit.credit:
            visit.credit = True
            if visit.fee_status == FeeStatus.PENDING:
                start_lock(s, self.gateway, purpose="registration", patient_id=visit.patient_id, visit=visit,
                           order_id=None, amount_fen=visit.fee_fen, business_date=now.date(), now=now,
                           staff_id=entry.staff_id, workstation=entry.workstation, actor=None)
        elif outcome.failed and not visit.credit:
            if visit.fee_status == FeeStatus.PENDING:
                visit.fee_status = FeeStatus.UNPAID.value
        live.publish(s, *_visit_topics(visit))

    def _on_lock(self, s: Session, entry: BankJournal, outcome: Outcome) -> None:
        lock = _locked(s, CreditLock, entry.credit_lock_id)
        if lock is not None:
            _lock_settled(s, lock, outcome, self.clock.now())

    def _on_deduct(self, s: Session, entry: BankJournal, outcome: Outcome) -> None:
        lock = _locked(s, CreditLock, entry.credit_lock_id)
        if lock is not None:
            _deduct_settled(s, lock, entry, outcome, self.clock.now())
            self._publish_lock(s, lock)

    def start_deduction(self, s: Session, lock: CreditLock, *, actor: Actor | None, business_date: date) -> int:
        """Journal the 【扣除】 of one LOCKED lock in the caller's transaction (the T-day run batches these);
        the journal id. Its handler moves the lock (and its order / visit fee) to deducted."""
        if lock.status != LockStatus.LOCKED or not lock.lock_serial:
            raise Conflict(f"锁定 {lock.lock_no} 当前状态不能扣款", code="not_locked")
        patient = s.get(Patient, lock.patient_id)
        return self.gateway.journal.intent(
            s, deduct_request(lock, patient), purpose=DEDUCT, actor=actor, business_date=business_date,
            refs=JournalRefs(patient_id=lock.patient_id, visit_id=lock.visit_id, order_id=lock.order_id,
                             credit_lock_id=lock.id))

    # -------------------------------------------------------------------------- orders

    def lock_hook(self, actor: Actor) -> tuple[Callable[[Session, SubmittedOrder], None], list[int]]:
        """An ``attach`` for ``OrderService.submit`` (and ``ImmunizationService.charge_slip``): on a credit visit it
        writes the order's lock intent in the submit transaction. Returns the hook and the list it appends the
        journal id to; after the submit commits, :meth:`execute` each id (off the UI thread)."""
        journal_ids: list[int] = []

        def attach(s: Session, submitted: SubmittedOrder) -> None:
            req: OrderLockRequest | None = submitted.lock_request
            if req is None:
                return
            visit = s.get(Visit, req.visit_id)
            journal_ids.append(start_lock(
                s, self.gateway, purpose=req.purpose, patient_id=req.patient_id, visit=visit, order_id=req.order_id,
                amount_fen=req.amount_fen, business_date=req.business_date, now=self.clock.now(),
                staff_id=actor.staff_id, workstation=actor.workstation, actor=actor))

        return attach, journal_ids

    def execute(self, journal_id: int, *, settle_within: float = 3.0) -> Outcome:
        return self.gateway.execute(journal_id, settle_within=settle_within)

    # -------------------------------------------------------------------------- giving back

    def return_credit(self, actor: Actor, lock_id: int, amount_fen: int, reason: str, *,
                      settle_within: float = 3.0) -> ReturnResult:
        """Cancel or refund (table 1) one lock's money, send it, and say where it stands."""
        require_any(actor, Action.REFUND, Action.ORDER_REVOKE, Action.REFUND_QUEUE)
        with self.db.session() as s:
            refund, journal_id = start_credit_return(
                s, self.gateway, lock_id=lock_id, amount_fen=amount_fen, reason=reason,
                department_id=actor.department_id, now=self.clock.now(), actor=actor)
            refund_id = refund.id
        self.gateway.execute(journal_id, settle_within=settle_within)
        return self.return_state(refund_id)

    def return_state(self, refund_id: int) -> ReturnResult:
        with self.db.reader() as s:
            refund = s.get(Refund, refund_id)
            if refund is None:
                raise NotFound("未找到该笔退款", code="refund_not_found")
            op = BankOp.CANCEL if refund.method == RefundMethod.BANK_CANCEL else BankOp.REFUND
            number = refund.refund_no if op is BankOp.REFUND else s.get(CreditLock, refund.credit_lock_id).lock_no
            return ReturnResult(refund.id, refund.method, refund.status, refund.amount_fen, return_message(refund),
                                journal_id_for(s, op, number) or 0)

    def _on_cancel(self, s: Session, entry: BankJournal, outcome: Outcome) -> None:
        refund = _locked(s, Refund, entry.refund_id) if entry.refund_id else None
        lock = _locked(s, CreditLock, entry.credit_lock_id)
        if refund is not None and lock is not None:
            _cancel_settled(s, refund, lock, outcome, self.clock.now(), "bank")
            self._publish_lock(s, lock)

    def _on_refund(self, s: Session, entry: BankJournal, outcome: Outcome) -> None:
        refund = _locked(s, Refund, entry.refund_id) if entry.refund_id else None
        lock = _locked(s, CreditLock, entry.credit_lock_id) if entry.credit_lock_id else None
        if refund is not None and lock is not None:
            _refund_settled(s, refund, lock, outcome, self.clock.now(), "bank")
            self._publish_lock(s, lock)

    @staticmethod
    def _publish_lock(s: Session, lock: CreditLock) -> None:
        live.publish(s, *CreditService._lock_topics(s, lock))

    @staticmethod
    def _lock_topics(s: Session, lock: CreditLock) -> list[str]:
        visit = s.get(Visit, lock.visit_id) if lock.visit_id else None
        return ["refunds"] + (_visit_topics(visit) if visit is not None else [])
