"""The refund queue (plan §二.四.4): refunds the bank answered ``DCBS0004PL0974`` (merchant refund balance
short) are retried in the order they were submitted, with their same refund number, until each succeeds.

A later refund never overtakes an earlier one: a retry run walks the queue by submission order (``Refund.id``)
and stops at the first refund that does not succeed. Every failed attempt notifies the department that asked
for the refund (the outcome handler of the refund's own workflow does that, so outpatient and inpatient
refunds behave alike). The queue is the ``refund`` table itself — nothing is lost across restarts.

Run it daily (``desktop-his-cli refunds retry`` from a scheduled task, see docs/operations.md) and by hand from
the finance view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from desktop_his.services import audit
from desktop_his.services.bank import BankGateway
from desktop_his.services.clock import Clock
from desktop_his.services.credit_returns import journal_id_for
from desktop_his.services.db import Database
from desktop_his.services.enums import BankOp, RefundStatus
from desktop_his.services.errors import BankError, BankOutcomeUnknown, Conflict
from desktop_his.services.models import Department, Patient, Refund, RefundAttempt
from desktop_his.services.permissions import Action, Actor, require, require_any


@dataclass(frozen=True)
class QueuedRefund:
    id: int
    refund_no: str
    patient_name: str
    amount_fen: int
    department: str
    created_at: datetime  # submission time: the queue's order
    queued_at: datetime | None
    attempts: int
    last_attempt_at: datetime | None
    last_error_code: str | None
    last_error_message: str | None


@dataclass(frozen=True)
class AttemptRow:
    at: datetime
    outcome: str
    code: str | None
    message: str | None
    by: str


@dataclass
class RetryReport:
    tried: int = 0
    succeeded: list[str] = field(default_factory=list)  # refund numbers
    stopped_at: str | None = None  # the refund that did not succeed (the rest waits behind it)
    stop_reason: str = ""
    left: int = 0  # still queued after the run

    @property
    def message(self) -> str:
        done = f"本次重试 {self.tried} 笔，成功 {len(self.succeeded)} 笔"
        if self.stopped_at:
            behind = f"，其后 {self.left - 1} 笔按顺序等待" if self.left > 1 else ""
            return f"{done}；退款 {self.stopped_at} 仍未成功（{self.stop_reason}）{behind}"
        return f"{done}；退款队列已清空" if not self.left else f"{done}；仍有 {self.left} 笔排队"


class RefundQueue:
    def __init__(self, db: Database, clock: Clock, gateway: BankGateway) -> None:
        self.db = db
        self.clock = clock
        self.gateway = gateway

    def queued(self, actor: Actor) -> list[QueuedRefund]:
        """The queue in submission order."""
        require_any(actor, Action.REFUND_QUEUE, Action.REFUND)
        query = (select(Refund, Patient.name, Department.name)
                 .join(Patient, Patient.id == Refund.patient_id)
                 .outerjoin(Department, Department.id == Refund.department_id)
                 .where(Refund.status == RefundStatus.QUEUED.value).order_by(Refund.id))
        with self.db.reader() as s:
            return [QueuedRefund(r.id, r.refund_no, name, r.amount_fen, dept or "", r.created_at, r.queued_at,
                                 r.attempts, r.last_attempt_at, r.last_error_code, r.last_error_message)
                    for r, name, dept in s.execute(query).all()]

    def attempts(self, actor: Actor, refund_id: int) -> list[AttemptRow]:
        require_any(actor, Action.REFUND_QUEUE, Action.REFUND)
        with self.db.reader() as s:
            rows = s.execute(select(RefundAttempt).where(RefundAttempt.refund_id == refund_id)
                             .order_by(RefundAttempt.id)).scalars()
            return [AttemptRow(a.at, a.outcome, a.code, a.message, a.by) for a in rows]

    def retry(self, actor: Actor, *, settle_within: float = 5.0, limit: int | None = None) -> RetryReport:
        """Retry the queue from its head, in submission order, stopping at the first refund that does not
        succeed. Safe to run on two PCs at once: the bank treats the same refund number as one refund."""
        require(actor, Action.REFUND_QUEUE)
        report = RetryReport()
        for refund_id, refund_no in self._queue_heads(limit):
            report.tried += 1
            status, reason = self._retry_one(refund_id, refund_no, settle_within)
            if status == RefundStatus.SUCCESS:
                report.succeeded.append(refund_no)
                continue
            report.stopped_at, report.stop_reason = refund_no, reason
            break
        with self.db.session() as s:
            report.left = len(s.execute(select(Refund.id).where(Refund.status == RefundStatus.QUEUED.value)).all())
            audit.append(s, actor=actor, action="refund_queue.retried", at=self.clock.now(), entity="refund",
                         detail={"tried": report.tried, "succeeded": report.succeeded,
                                 "stopped_at": report.stopped_at, "left": report.left})
        return report

    def _queue_heads(self, limit: int | None) -> list[tuple[int, str]]:
        with self.db.reader() as s:
            query = (select(Refund.id, Refund.refund_no).where(Refund.status == RefundStatus.QUEUED.value)
                     .order_by(Refund.id))
            if limit:
                query = query.limit(limit)
            return [(row.id, row.refund_no) for row in s.execute(query).all()]

    def _retry_one(self, refund_id: int, refund_no: str, settle_within: float) -> tuple[str, str]:
        with self.db.reader() as s:
            journal_id = journal_id_for(s, BankOp.REFUND, refund_no)
        if journal_id is None:
            return RefundStatus.QUEUED.value, "找不到该退款的银行交易记录，请联系系统管理员"
        in_flight = False
        try:
            in_flight = self.gateway.retry(journal_id, settle_within=settle_within).unknown
        except Conflict:
            in_flight = True  # another PC is retrying it right now: its answer will settle the refund
        except (BankError, BankOutcomeUnknown) as exc:
            return RefundStatus.QUEUED.value, exc.message
        with self.db.reader() as s:
            refund = s.get(Refund, refund_id)
            if refund.status == RefundStatus.SUCCESS:
                return refund.status, ""
            if in_flight:
                return refund.status, "银行处理中，结果确认后自动更新"
            return refund.status, refund.last_error_message or "医药机构退款可用余额不足"
