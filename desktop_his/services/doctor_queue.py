"""The outpatient doctor station's read side and queue moves: today's queue, calling, seen, opening a visit,
a patient's history, and the guide slip (导诊单) data.

The queue is the doctor's registrations for the day. Order: the patient being seen (called), then those
waiting (checked in), then those booked but not arrived (registered) — each by period (AM, PM, evening) and
queue number — then the finished ones (seen) and last the cancelled / no-shows (``section`` tells which).
Registration windows publish ``doctor:<id>`` when they register, check in or switch a visit to credit; this
service publishes it when the doctor calls or finishes a patient. A view re-reads :meth:`today_queue` on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.orm import Session, joinedload

from desktop_his.services import audit, live, texts
from desktop_his.services.clock import Clock
from desktop_his.services.db import Database
from desktop_his.services.enums import SEX_LABELS, FeeStatus, OrderStatus, Period, Sex, VisitStatus
from desktop_his.services.errors import Conflict, NotFound, ValidationError
from desktop_his.services.ids import ID_TYPE_LABELS, age_on, mask_id_number
from desktop_his.services.models import Department, Doctor, MedicalOrder, Patient, Visit
from desktop_his.services.order_types import CreditTotal, OrderView
from desktop_his.services.orders import credit_total, load_orders
from desktop_his.services.permissions import Action, Actor, require, require_any

STATUS_LABELS = {VisitStatus.REGISTERED: "未取号", VisitStatus.CHECKED_IN: "候诊", VisitStatus.CALLED: "就诊中",
                 VisitStatus.SEEN: "已就诊", VisitStatus.CANCELLED: "已退号", VisitStatus.NO_SHOW: "爽约"}
# section of the queue each status belongs to, in display order
SECTIONS = {VisitStatus.CALLED: "in_room", VisitStatus.CHECKED_IN: "waiting", VisitStatus.REGISTERED: "not_arrived",
            VisitStatus.SEEN: "seen", VisitStatus.CANCELLED: "closed", VisitStatus.NO_SHOW: "closed"}
_SECTION_RANK = {name: n for n, name in enumerate(dict.fromkeys(SECTIONS.values()))}
_PERIOD_RANK = {Period.MORNING: 0, Period.AFTERNOON: 1, Period.EVENING: 2}


@dataclass(frozen=True)
class QueueEntry:
    visit_id: int
    visit_no: str
    patient_id: int
    patient_name: str  # intact (rare characters included)
    id_masked: str
    sex: str
    age: int
    period: str | None
    queue_no: int | None
    status: str
    credit: bool
    family_pay: bool  # 亲情付
    fee_status: str
    unpaid_orders: int  # submitted orders waiting to be paid at a window
    checked_in_at: datetime | None
    called_at: datetime | None

    @property
    def section(self) -> str:
        """in_room / waiting / not_arrived / seen / closed."""
        return SECTIONS[VisitStatus(self.status)]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[VisitStatus(self.status)]

    @property
    def sex_label(self) -> str:
        return SEX_LABELS[Sex(self.sex)]

    @property
    def credit_notice(self) -> str | None:
        """SPEC §6: the prominent mark of a credit visit."""
        return texts.DOCTOR_CREDIT_NOTICE if self.credit else None

    @property
    def pay_mark(self) -> str | None:
        """信用就医, or 亲情付 for a family member's credit visit."""
        return texts.slip_mark(self.credit, self.family_pay)


@dataclass(frozen=True)
class VisitDetail:
    entry: QueueEntry
    id_type_label: str
    department_name: str
    doctor_name: str
    visit_date: date
    fee_fen: int
    orders: tuple[OrderView, ...]
    credit_total: CreditTotal
    # SPEC §6, shown as a pop-up when the doctor opens a credit visit; None otherwise.
    credit_notice: str | None


@dataclass(frozen=True)
class HistoryVisit:
    visit_id: int
    visit_no: str
    visit_date: date
    kind: str
    department_name: str
    doctor_name: str
    status: str
    credit: bool
    family_pay: bool
    orders: tuple[OrderView, ...]


@dataclass(frozen=True)
class SlipLine:
    order_no: str
    name: str
    spec: str
    quantity: int
    unit: str
    amount_fen: int
    exec_location: str  # where the patient goes (pharmacy, lab, imaging …)
    paid_by: str  # 信用就医 / 亲情付 / 已缴费 / 请到收费窗口缴费 …


@dataclass(frozen=True)
class GuideSlip:
    """What the order slip (导诊单) prints; the printing paths are the registration slip's."""

    visit_no: str
    visit_date: date
    patient_name: str
    id_masked: str
    sex_label: str
    age: int
    department_name: str
    doctor_name: str
    mark: str | None  # SPEC §6: 信用就医 or 亲情付 (None without credit)
    lines: tuple[SlipLine, ...]  # grouped by exec_location
    total_fen: int
    credit_total: CreditTotal


def _unpaid_count():  # noqa: ANN202 - a correlated scalar subquery
    return (select(func.count(MedicalOrder.id))
            .where(MedicalOrder.visit_id == Visit.id, MedicalOrder.status == OrderStatus.SUBMITTED,
                   MedicalOrder.fee_status == FeeStatus.UNPAID)
            .correlate(Visit).scalar_subquery())


def _entries(s: Session, *conds) -> list[QueueEntry]:  # noqa: ANN002
    rows = s.execute(
        select(Visit.id, Visit.visit_no, Visit.patient_id, Patient.name, Patient.id_number, Patient.sex,
               Patient.birth_date, Visit.visit_date, Visit.period, Visit.queue_no, Visit.status, Visit.credit,
               Visit.family_pay, Visit.fee_status, _unpaid_count(), Visit.checked_in_at, Visit.called_at)
        .join(Patient, Patient.id == Visit.patient_id).where(and_(*conds))
    ).all()
    return [QueueEntry(r[0], r[1], r[2], r[3], mask_id_number(r[4]), r[5], age_on(r[6], r[7]), r[8], r[9],
                       r[10], r[11], r[12], r[13], r[14], r[15], r[16]) for r in rows]


def _queue_key(e: QueueEntry) -> tuple[int, int, int, int]:
    return (_SECTION_RANK[e.section], _PERIOD_RANK.get(e.period, 3), e.queue_no or 0, e.visit_id)


class DoctorQueueService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    # -- queue

    def today_queue(self, actor: Actor, doctor_id: int | None = None, day: date | None = None) -> list[QueueEntry]:
        """The doctor's registrations for ``day`` (default today; doctor default: the signed-in one)."""
        require(actor, Action.QUEUE_VIEW)
        doctor_id = self._doctor(actor, doctor_id)
        with self.db.reader() as s:
            entries = _entries(s, Visit.doctor_id == doctor_id, Visit.visit_date == (day or self.clock.today()))
        return sorted(entries, key=_queue_key)

    def call_next(self, actor: Actor, doctor_id: int | None = None) -> QueueEntry | None:
        """Call the first waiting (checked-in) patient; None when nobody is waiting. Safe from two PCs."""
        require(actor, Action.QUEUE_VIEW)
        doctor_id = self._doctor(actor, doctor_id)
        period_rank = case(_PERIOD_RANK, value=Visit.period, else_=3)
        with self.db.session() as s:
            while True:
                visit_id = s.execute(
                    select(Visit.id).where(Visit.doctor_id == doctor_id, Visit.visit_date == self.clock.today(),
                                           Visit.status == VisitStatus.CHECKED_IN)
                    .order_by(period_rank, Visit.queue_no, Visit.id).limit(1)
                ).scalar_one_or_none()
                if visit_id is None:
                    return None
                if self._move(s, actor, visit_id, (VisitStatus.CHECKED_IN,), VisitStatus.CALLED):
                    return _entries(s, Visit.id == visit_id)[0]
                # Another PC called this patient first: take the next one.

    def call(self, actor: Actor, visit_id: int) -> QueueEntry:
        """Call (or call again) a particular waiting patient."""
        require(actor, Action.QUEUE_VIEW)
        with self.db.session() as s:
            if not self._move(s, actor, visit_id, (VisitStatus.CHECKED_IN, VisitStatus.CALLED), VisitStatus.CALLED):
                self._refuse(s, visit_id, "叫号")
            return _entries(s, Visit.id == visit_id)[0]

    def mark_seen(self, actor: Actor, visit_id: int) -> QueueEntry:
        """The doctor has finished with the patient (idempotent: an already seen visit is returned as is)."""
        require(actor, Action.QUEUE_VIEW)
        with self.db.session() as s:
            if not self._move(s, actor, visit_id, (VisitStatus.CHECKED_IN, VisitStatus.CALLED), VisitStatus.SEEN):
                self._refuse(s, visit_id, "结束就诊", unless=VisitStatus.SEEN)
            return _entries(s, Visit.id == visit_id)[0]

    # -- a visit and the patient's history

    def open_visit(self, actor: Actor, visit_id: int) -> VisitDetail:
        """Everything the doctor sees on opening a visit; ``credit_notice`` is the SPEC §6 pop-up text."""
        require(actor, Action.QUEUE_VIEW)
        with self.db.reader() as s:
            visit = self._visit(s, visit_id, with_people=True)
            entry = _entries(s, Visit.id == visit_id)[0]
            orders = tuple(load_orders(s, [visit_id]).get(visit_id, []))
            return VisitDetail(
                entry, ID_TYPE_LABELS.get(visit.patient.id_type, ""), visit.department.name,
                visit.doctor.name if visit.doctor else "", visit.visit_date, visit.fee_fen, orders,
                credit_total(s, visit, orders), entry.credit_notice,
            )

    def patient_history(self, actor: Actor, patient_id: int, limit: int = 50, *,
                        exclude_visit_id: int | None = None) -> list[HistoryVisit]:
        """The patient's visits (not cancelled / no-show), newest first, each with its submitted orders."""
        require(actor, Action.QUEUE_VIEW)
        if not 1 <= limit <= 500:
            raise ValidationError("查询条数应在 1–500 之间", field="limit")
        conds = [Visit.patient_id == patient_id,
                 Visit.status.not_in((VisitStatus.CANCELLED, VisitStatus.NO_SHOW))]
        if exclude_visit_id is not None:
            conds.append(Visit.id != exclude_visit_id)
        with self.db.reader() as s:
            rows = s.execute(
                select(Visit.id, Visit.visit_no, Visit.visit_date, Visit.kind, Department.name, Doctor.name,
                       Visit.status, Visit.credit, Visit.family_pay)
                .join(Department, Department.id == Visit.department_id)
                .outerjoin(Doctor, Doctor.id == Visit.doctor_id)
                .where(*conds).order_by(Visit.visit_date.desc(), Visit.id.desc()).limit(limit)
            ).all()
            orders = load_orders(s, [r[0] for r in rows])
        return [HistoryVisit(r[0], r[1], r[2], r[3], r[4], r[5] or "", r[6], r[7], r[8],
                             tuple(orders.get(r[0], []))) for r in rows]

    def order_slip(self, actor: Actor, visit_id: int) -> GuideSlip:
        """The guide slip: every submitted, not revoked order line with where to go and how it is paid."""
        require_any(actor, Action.QUEUE_VIEW, Action.VACCINE_CHARGE, Action.REPRINT)
        with self.db.reader() as s:
            visit = self._visit(s, visit_id, with_people=True)
            patient = visit.patient
            loaded = load_orders(s, [visit_id]).get(visit_id, [])
            orders = [o for o in loaded if o.status != OrderStatus.REVOKED]
            lines = sorted((SlipLine(o.order_no or "", i.name, i.spec, i.quantity, i.unit, i.amount_fen,
                                     i.exec_location, _paid_by(o, visit)) for o in orders for i in o.items),
                           key=lambda line: line.exec_location)
            return GuideSlip(
                visit.visit_no, visit.visit_date, patient.name, mask_id_number(patient.id_number),
                SEX_LABELS[Sex(patient.sex)], age_on(patient.birth_date, visit.visit_date), visit.department.name,
                visit.doctor.name if visit.doctor else "", texts.slip_mark(visit.credit, visit.family_pay),
                tuple(lines), sum(o.total_fen for o in orders), credit_total(s, visit, loaded),
            )

    # -- helpers

    @staticmethod
    def _doctor(actor: Actor, doctor_id: int | None) -> int:
        doctor_id = doctor_id if doctor_id is not None else actor.doctor_id
        if doctor_id is None:
            raise ValidationError("当前账号未关联医生，请选择医生", field="doctor_id")
        return doctor_id

    @staticmethod
    def _visit(s: Session, visit_id: int, *, with_people: bool = False) -> Visit:
        options = [joinedload(Visit.patient), joinedload(Visit.department), joinedload(Visit.doctor)]
        visit = s.get(Visit, visit_id, options=options if with_people else None)
        if visit is None:
            raise NotFound("就诊记录不存在", field="visit_id")
        return visit

    def _move(self, s: Session, actor: Actor, visit_id: int, from_: tuple[str, ...], to: VisitStatus) -> bool:
        """Guarded status change (one statement, so two PCs never both win); audited and published."""
        now = self.clock.now()
        stamp = {VisitStatus.CALLED: {"called_at": now}, VisitStatus.SEEN: {"seen_at": now}}[to]
        moved = s.execute(update(Visit).where(Visit.id == visit_id, Visit.status.in_(from_))
                          .values(status=to, **stamp).returning(Visit.doctor_id, Visit.visit_no)).first()
        if moved is None:
            return False
        audit.append(s, actor=actor, action=f"visit.{to}", at=now, entity="visit", entity_id=visit_id,
                     detail={"visit_no": moved.visit_no, "doctor_id": moved.doctor_id})
        live.publish(s, f"doctor:{moved.doctor_id}")
        return True

    def _refuse(self, s: Session, visit_id: int, what: str, unless: str | None = None) -> None:
        visit = self._visit(s, visit_id)
        s.refresh(visit)
        if visit.status == unless:
            return
        if visit.status == VisitStatus.REGISTERED:
            raise Conflict("患者尚未取号签到，请先到窗口或自助机取号", code="not_checked_in")
        raise Conflict(f"该患者状态为“{STATUS_LABELS[VisitStatus(visit.status)]}”，不能{what}", code=visit.status)


def _paid_by(order: OrderView, visit: Visit) -> str:
    if order.credit and order.fee_status in (FeeStatus.PENDING, FeeStatus.LOCKED, FeeStatus.DEDUCTED):
        return texts.slip_mark(True, visit.family_pay) or ""
    if order.fee_status == FeeStatus.UNPAID:
        return texts.PAY_AT_WINDOW
    return order.fee_status_label
