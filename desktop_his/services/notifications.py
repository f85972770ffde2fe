"""Department inboxes: notices such as "该居民退款失败" shown at that department's workstations.

Producers call :func:`notify` (or :func:`notify_refund_failed`) inside the transaction that made the change;
the live feed announces ``notifications:<department_id>`` (``notifications:all`` for notices to no single
department) when it commits. Finance sees every notice; everybody else sees their own department's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from desktop_his.services import live, texts
from desktop_his.services.clock import Clock
from desktop_his.services.db import Database
from desktop_his.services.enums import NotificationKind, Role
from desktop_his.services.errors import NotFound
from desktop_his.services.models import Admission, Department, Notification, Patient, Refund, Visit
from desktop_his.services.money import format_fen
from desktop_his.services.permissions import Action, Actor, require


def topic(department_id: int | None) -> str:
    return f"notifications:{department_id}" if department_id is not None else "notifications:all"


def notify(s: Session, *, department_id: int | None, kind: NotificationKind | str, title: str, body: str,
           now: datetime, patient_id: int | None = None, amount_fen: int | None = None,
           refund_id: int | None = None) -> Notification:
    notice = Notification(department_id=department_id, kind=str(kind), title=title[:100], body=body,
                          patient_id=patient_id, amount_fen=amount_fen, refund_id=refund_id, created_at=now)
    s.add(notice)
    s.flush()
    live.publish(s, topic(department_id), "notifications:all")
    return notice


def notify_refund_failed(s: Session, refund: Refund, now: datetime) -> Notification:
    """SPEC §4: every refund failure tells the department that asked for it — 该居民退款失败, with the
    patient, the amount and the date (and what happens next)."""
    patient = s.get(Patient, refund.patient_id)
    if refund.admission_id:
        admission = s.get(Admission, refund.admission_id)
        what = f"（住院号 {admission.admission_no}）出院结算" if admission else ""
    elif refund.visit_id:
        visit = s.get(Visit, refund.visit_id)
        what = f"（就诊号 {visit.visit_no}）" if visit else ""
    else:
        what = ""
    queued = refund.status == "queued"
    follow_up = ("已进入退款队列，每日按提交顺序自动重试直至成功。" if queued
                 else "该笔退款未能完成，请联系财务处理。")
    body = (f"{patient.name if patient else ''}{what}“信用就医”退款{format_fen(refund.amount_fen, symbol=True)}，"
            f"{refund.created_at:%Y-%m-%d} 提交，退款单号 {refund.refund_no}。银行返回："
            f"{refund.last_error_code or ''} {refund.last_error_message or ''}。{follow_up}")
    return notify(s, department_id=refund.department_id, kind=NotificationKind.REFUND_FAILED,
                  title=texts.REFUND_FAILED_NOTICE, body=body, now=now, patient_id=refund.patient_id,
                  amount_fen=refund.amount_fen, refund_id=refund.id)


@dataclass(frozen=True)
class NoticeRow:
    id: int
    department_id: int | None
    department: str
    kind: str
    title: str
    body: str
    patient_id: int | None
    amount_fen: int | None
    refund_id: int | None
    created_at: datetime
    read_at: datetime | None


class NotificationService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    @staticmethod
    def _scope(actor: Actor):  # noqa: ANN205 - a SQL expression
        if Role.FINANCE in actor.roles:
            return None  # finance follows every department's refund failures
        return or_(Notification.department_id == actor.department_id, Notification.department_id.is_(None))

    def inbox(self, actor: Actor, *, unread_only: bool = False, limit: int = 200) -> list[NoticeRow]:
        """The actor's department's notices (finance: all), newest first."""
        require(actor, Action.NOTIFICATIONS)
        query = (select(Notification, Department.name).outerjoin(Department, Department.id == Notification.department_id)
                 .order_by(Notification.id.desc()).limit(limit))
        scope = self._scope(actor)
        if scope is not None:
            query = query.where(scope)
        if unread_only:
            query = query.where(Notification.read_at.is_(None))
        with self.db.reader() as s:
            return [NoticeRow(n.id, n.department_id, name or "全院", n.kind, n.title, n.body, n.patient_id,
                              n.amount_fen, n.refund_id, n.created_at, n.read_at)
                    for n, name in s.execute(query).all()]

    def unread_count(self, actor: Actor) -> int:
        require(actor, Action.NOTIFICATIONS)
        query = select(func.count()).select_from(Notification).where(Notification.read_at.is_(None))
        scope = self._scope(actor)
        if scope is not None:
            query = query.where(scope)
        with self.db.reader() as s:
            return s.execute(query).scalar_one()

    def mark_read(self, actor: Actor, notification_id: int) -> None:
        require(actor, Action.NOTIFICATIONS)
        with self.db.session() as s:
            notice = s.get(Notification, notification_id)
            scope_ok = (Role.FINANCE in actor.roles or notice is not None
                        and notice.department_id in (None, actor.department_id))
            if notice is None or not scope_ok:
                raise NotFound("未找到该通知", code="notification_not_found")
            s.execute(update(Notification).where(Notification.id == notification_id,
                                                 Notification.read_at.is_(None))
                      .values(read_at=self.clock.now(), read_by=actor.staff_id))
            live.publish(s, topic(notice.department_id))
