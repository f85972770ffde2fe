"""Whether a registration may be cancelled now, and what money must go back first (plan table 1).

- A credit lock not yet deducted → cancel the lock (``RefundMethod.BANK_CANCEL``, 【信用就医取消】).
- A deducted lock → refund through the bank (``BANK_REFUND``, 【信用就医退款】; T from the day's receivables,
  T+N from the refund reserve; ``DCBS0004PL0974`` queues it).
- A payment by another channel → handed back the same way and recorded (``RECORDED``).

Money counts as sent back once a ``Refund`` row for it is ``success``, ``pending`` (journaled, in flight) or
``queued`` (waiting in the refund queue). A lock whose outcome is unknown blocks the cancellation until it
settles. Credit ``Payment`` rows (if the credit flow writes any) are ignored here: the lock is the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop_his.services.enums import (
    CHANNEL_LABELS,
    Channel,
    LockStatus,
    RefundMethod,
    RefundStatus,
    VisitStatus,
)
from desktop_his.services.models import CreditLock, Payment, Refund, Visit
from desktop_his.services.money import format_fen
from desktop_his.services.rules_config import RegistrationRules

SENT_BACK = (RefundStatus.SUCCESS.value, RefundStatus.PENDING.value, RefundStatus.QUEUED.value)


@dataclass(frozen=True)
class CancelCheck:
    allowed: bool
    message: str  # the refusal, or a note (e.g. "停诊退号") when allowed
    deadline: datetime | None = None


@dataclass(frozen=True)
class MoneyBack:
    """One amount to give back before the registration can be cancelled."""

    method: str  # enums.RefundMethod
    channel: str  # enums.Channel
    amount_fen: int
    business_date: date  # the day it was paid or locked (T vs T+N decides the bank's source of funds)
    payment_id: int | None = None
    credit_lock_id: int | None = None
    lock_serial: str | None = None
    reference_no: str = ""

    @property
    def description(self) -> str:
        label = CHANNEL_LABELS[Channel(self.channel)]
        how = {RefundMethod.BANK_CANCEL: "取消锁定", RefundMethod.BANK_REFUND: "银行退款",
               RefundMethod.RECORDED: "原渠道退还"}[RefundMethod(self.method)]
        return f"{label}{format_fen(self.amount_fen, symbol=True)}（{how}）"


def cancellation_allowed(visit: Visit, now: datetime, rules: RegistrationRules) -> CancelCheck:
    """SPEC §5: advance bookings until the hospital's deadline; same-day registrations at the window until
    the patient is seen; 停诊 registrations always (停诊退费)."""
    if visit.status == VisitStatus.CANCELLED:
        return CancelCheck(False, "该挂号已退号")
    if visit.status == VisitStatus.NO_SHOW:
        return CancelCheck(False, "该挂号已记爽约，不能退号")
    if visit.status == VisitStatus.SEEN:
        return CancelCheck(False, "患者已就诊，不能退号")
    if visit.slot is not None and visit.slot.suspended:
        return CancelCheck(True, "停诊退号，不受退号截止时间限制")
    if visit.visit_date < now.date():
        return CancelCheck(False, f"就诊日期（{visit.visit_date:%Y-%m-%d}）已过，不能退号")
    if visit.created_at.date() >= visit.visit_date:
        return CancelCheck(True, "当日挂号，就诊前可在窗口退号")
    deadline = rules.cancel_deadline(visit.visit_date)
    if now >= deadline:
        return CancelCheck(False, f"预约挂号须在{deadline.month}月{deadline.day}日 {deadline:%H:%M}前退号，"
                                  f"已过退号截止时间，不能退号", deadline)
    return CancelCheck(True, f"可在{deadline.month}月{deadline.day}日 {deadline:%H:%M}前退号", deadline)


def _sent_back(s: Session, **key: int) -> int:
    (name, value), = key.items()
    return s.execute(select(func.coalesce(func.sum(Refund.amount_fen), 0)).where(
        getattr(Refund, name) == value, Refund.status.in_(SENT_BACK))).scalar_one()


def _payments_back(s: Session, visit: Visit) -> list[MoneyBack]:
    out = []
    payments = s.execute(select(Payment).where(
        Payment.visit_id == visit.id, Payment.status == "success", Payment.channel != Channel.CREDIT.value)
        .order_by(Payment.id)).scalars()
    for p in payments:
        left = p.amount_fen - max(p.refunded_fen, _sent_back(s, payment_id=p.id))
        if left > 0:
            out.append(MoneyBack(RefundMethod.RECORDED.value, p.channel, left, p.business_date, payment_id=p.id,
                                 reference_no=p.reference_no))
    return out


def _locks_back(s: Session, visit: Visit, today: date) -> tuple[list[MoneyBack], str]:
    out, blocked = [], ""
    locks = s.execute(select(CreditLock).where(CreditLock.visit_id == visit.id, CreditLock.order_id.is_(None))
                      .order_by(CreditLock.id)).scalars()
    for lock in locks:
        if lock.status == LockStatus.PENDING:
            blocked = "该挂号的信用就医锁定结果尚未确认，请稍后再退号"
        elif lock.status == LockStatus.LOCKED:
            if lock.business_date < today:
                blocked = "该挂号的信用就医扣款结果待财务确认，请稍后再退号"
            elif not _sent_back(s, credit_lock_id=lock.id):
                out.append(MoneyBack(RefundMethod.BANK_CANCEL.value, Channel.CREDIT.value, lock.amount_fen,
                                     lock.business_date, credit_lock_id=lock.id, lock_serial=lock.lock_serial))
        elif lock.status == LockStatus.DEDUCTED:
            left = lock.deducted_fen - max(lock.refunded_fen, _sent_back(s, credit_lock_id=lock.id))
            if left > 0:
                out.append(MoneyBack(RefundMethod.BANK_REFUND.value, Channel.CREDIT.value, left, lock.business_date,
                                     credit_lock_id=lock.id, lock_serial=lock.lock_serial))
    return out, blocked


def money_to_return(s: Session, visit: Visit, today: date) -> tuple[tuple[MoneyBack, ...], str]:
    """What must go back before ``visit`` can be cancelled, and a blocking reason ("" if none)."""
    locks, blocked = _locks_back(s, visit, today)
    return tuple(locks + _payments_back(s, visit)), blocked


def outstanding_text(money: tuple[MoneyBack, ...]) -> str:
    return "该挂号尚有费用未退：" + "；".join(m.description for m in money) + "。请先办理退费再退号"
