"""Giving 信用就医 credit back (the plan's table 1): 【取消】 a lock on its own day before deduction, 【退款】 what
was deducted (T or T+N). The refund is written with its journal intent in the caller's transaction; the
outcome handlers here keep the refund, the lock and the order/visit fee in step with the bank's answer.
``DCBS0004PL0974`` queues the refund (see :mod:`refunds`) and notifies the department that asked for it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from desktop_his.services import audit, numbers, orders
from desktop_his.services.bank import BankGateway, CancelRequest, Code, JournalRefs, Outcome, RefundRequest
from desktop_his.services.bank.protocol import message_for
from desktop_his.services.enums import BankOp, Channel, FeeStatus, LockStatus, RefundMethod, RefundStatus
from desktop_his.services.errors import Conflict, NotFound, ValidationError
from desktop_his.services.models import BankJournal, CreditLock, MedicalOrder, Refund, RefundAttempt, Visit
from desktop_his.services.money import format_fen
from desktop_his.services.notifications import notify_refund_failed
from desktop_his.services.permissions import Actor

CANCEL, REFUND = "credit_cancel", "credit_refund"
QUEUED_MESSAGE = ("医院商户退款余额不足（DCBS0004PL0974），退款已进入退款队列，系统每日按提交顺序自动重试直至成功。"
                  "请告知患者退款将稍后到账。")


def _locked(s: Session, model: type, row_id: int):  # noqa: ANN202 - an ORM row
    return s.execute(select(model).where(model.id == row_id).with_for_update()
                     .execution_options(populate_existing=True)).scalar_one_or_none()


def journal_id_for(s: Session, op: BankOp, number: str) -> int | None:
    return s.execute(select(BankJournal.id).where(BankJournal.op == op.value, BankJournal.number == number)
                     ).scalar_one_or_none()


def start_credit_return(s: Session, gateway: BankGateway, *, lock_id: int, amount_fen: int, reason: str,
                        department_id: int | None, now: datetime, actor: Actor,
                        settlement_id: int | None = None) -> tuple[Refund, int]:
    """Table 1 of the plan: cancel the lock (its own day, not yet deducted) or refund what was deducted.

    Writes the ``Refund`` row and the journal intent in the caller's transaction; returns both."""
    lock = _locked(s, CreditLock, lock_id)
    if lock is None:
        raise NotFound("未找到该笔信用就医锁定", code="lock_not_found")
    if amount_fen <= 0:
        raise ValidationError("退款金额必须大于零", field="amount", code="amount")
    today = now.date()
    status = LockStatus(lock.status)
    if status is LockStatus.PENDING:
        raise Conflict("该笔信用就医锁定结果尚未确认，请稍后再办理退费", code="lock_pending")
    if status is LockStatus.LOCKED and lock.business_date < today:
        raise Conflict("该笔信用就医费用的扣款结果待财务确认（T日扣款），请稍后再办理退费", code="deduction_pending")
    if status is LockStatus.LOCKED:
        if journal_id_for(s, BankOp.CANCEL, lock.lock_no) is not None:
            raise Conflict("该笔锁定已申请过取消，请在退款记录中查看结果或联系财务", code="cancel_exists")
        if amount_fen != lock.amount_fen:
            raise Conflict(f"扣款前只能全额取消锁定（{format_fen(lock.amount_fen, symbol=True)}）",
                           field="amount", code="partial_cancel")
        method, request_of = RefundMethod.BANK_CANCEL, lambda no: CancelRequest(lock.lock_no, lock.lock_serial or "")
        purpose = CANCEL
    elif status is LockStatus.DEDUCTED:
        reserved = s.execute(
            update(CreditLock).where(CreditLock.id == lock.id,
                                     CreditLock.refunded_fen + amount_fen <= CreditLock.deducted_fen)
            .values(refunded_fen=CreditLock.refunded_fen + amount_fen).execution_options(synchronize_session=False))
        if reserved.rowcount != 1:
            left = lock.deducted_fen - lock.refunded_fen
            raise Conflict(f"退款金额超过可退金额（最多 {format_fen(max(left, 0), symbol=True)}）",
                           field="amount", code="exceeds_refundable")
        method = RefundMethod.BANK_REFUND
        request_of = lambda no: RefundRequest(no, lock.lock_serial or "", amount_fen)  # noqa: E731
        purpose = REFUND
    else:
        raise Conflict("该笔信用就医费用没有可退的金额", code="nothing_to_return")
    refund = Refund(
        refund_no=numbers.take(s, "refund", today), method=method.value, channel=Channel.CREDIT.value,
        amount_fen=amount_fen, status=RefundStatus.PENDING.value, reason=reason[:200], credit_lock_id=lock.id,
        original_serial=lock.lock_serial, patient_id=lock.patient_id, visit_id=lock.visit_id,
        order_id=lock.order_id, settlement_id=settlement_id, department_id=department_id,
        requested_by=actor.staff_id, workstation=actor.workstation, business_date=today, created_at=now)
    s.add(refund)
    s.flush()
    journal_id = gateway.journal.intent(
        s, request_of(refund.refund_no), purpose=purpose, actor=actor, business_date=today,
        refs=JournalRefs(patient_id=lock.patient_id, visit_id=lock.visit_id, order_id=lock.order_id,
                         credit_lock_id=lock.id, refund_id=refund.id))
    audit.append(s, actor=actor, action=f"credit.{'cancel' if purpose == CANCEL else 'refund'}_requested", at=now,
                 entity="refund", entity_id=refund.id,
                 detail={"refund_no": refund.refund_no, "lock_no": lock.lock_no, "amount_fen": amount_fen,
                         "reason": reason})
    return refund, journal_id


def _attempt(s: Session, refund: Refund, outcome: Outcome, state: str, now: datetime, by: str) -> None:
    refund.attempts += 1
    refund.last_attempt_at = now
    if not outcome.ok:
        refund.last_error_code = (outcome.code or "")[:30] or None
        refund.last_error_message = (outcome.message or message_for(outcome.code))[:200]
    s.add(RefundAttempt(refund_id=refund.id, at=now, outcome=state, code=outcome.code,
                        message=(outcome.message or "")[:200] or None, by=by))


def _order_back(s: Session, lock: CreditLock, to: FeeStatus) -> None:
    order = s.get(MedicalOrder, lock.order_id) if lock.order_id else None
    if order is not None and order.fee_status in orders.FEE_MOVES.get(to, ()):
        orders.move_fee_status(s, order.id, to)


def _cancel_settled(s: Session, refund: Refund, lock: CreditLock, outcome: Outcome, now: datetime, by: str) -> None:
    if refund.status != RefundStatus.PENDING:
        return
    _attempt(s, refund, outcome, "success" if outcome.ok else "failed", now, by)
    if outcome.ok:
        refund.status, refund.completed_at = RefundStatus.SUCCESS.value, now
        lock.status, lock.closed_at = LockStatus.CANCELLED.value, now
        _order_back(s, lock, FeeStatus.CANCELLED)
        visit = s.get(Visit, lock.visit_id) if lock.visit_id else None
        if visit is not None and lock.order_id is None:
            visit.fee_status = FeeStatus.CANCELLED.value
    else:
        refund.status = RefundStatus.FAILED.value
        notify_refund_failed(s, refund, now)


def _refund_settled(s: Session, refund: Refund, lock: CreditLock, outcome: Outcome, now: datetime, by: str) -> None:
    if refund.status not in (RefundStatus.PENDING, RefundStatus.QUEUED):
        return
    if outcome.ok:
        _attempt(s, refund, outcome, "success", now, by)
        refund.status, refund.completed_at, refund.bank_serial = RefundStatus.SUCCESS.value, now, outcome.serial
        full = lock.refunded_fen >= lock.deducted_fen and not _open_refunds(s, lock.id, refund.id)
        if full:
            lock.status, lock.closed_at = LockStatus.REFUNDED.value, now
        _order_back(s, lock, FeeStatus.REFUNDED if full else FeeStatus.PARTLY_REFUNDED)
        visit = s.get(Visit, lock.visit_id) if lock.visit_id else None
        if visit is not None and lock.order_id is None:
            visit.fee_status = (FeeStatus.REFUNDED if full else FeeStatus.PARTLY_REFUNDED).value
    elif outcome.code == Code.REFUND_BALANCE_SHORT:
        _attempt(s, refund, outcome, "queued", now, by)
        refund.status, refund.queued_at = RefundStatus.QUEUED.value, refund.queued_at or now
        notify_refund_failed(s, refund, now)
    else:
        _attempt(s, refund, outcome, "failed", now, by)
        refund.status = RefundStatus.FAILED.value
        s.execute(update(CreditLock).where(CreditLock.id == lock.id, CreditLock.refunded_fen >= refund.amount_fen)
                  .values(refunded_fen=CreditLock.refunded_fen - refund.amount_fen)
                  .execution_options(synchronize_session=False))
        notify_refund_failed(s, refund, now)


def _open_refunds(s: Session, lock_id: int, except_id: int) -> bool:
    return s.execute(select(Refund.id).where(
        Refund.credit_lock_id == lock_id, Refund.id != except_id,
        Refund.status.in_((RefundStatus.PENDING.value, RefundStatus.QUEUED.value))).limit(1)).first() is not None


def return_message(refund: Refund) -> str:
    amount = format_fen(refund.amount_fen, symbol=True)
    how = "取消锁定" if refund.method == RefundMethod.BANK_CANCEL else "退款"
    return {
        RefundStatus.SUCCESS: f"“信用就医”{how}{amount}已完成，额度已恢复",
        RefundStatus.QUEUED: QUEUED_MESSAGE,
        RefundStatus.PENDING: f"“信用就医”{how}{amount}已提交，银行处理中，结果确认后自动更新",
        RefundStatus.FAILED: f"“信用就医”{how}{amount}未成功：{refund.last_error_message or ''}，请联系财务处理",
    }[RefundStatus(refund.status)]


