"""The immunization desk (预防接种登记台) without the bank: vaccine visits and vaccine charge slips.

A vaccine visit is a :class:`Visit` with ``kind = "vaccine"`` at a 预防接种门诊 department (department kind
``vaccination``): no doctor, no slot, no registration fee. It is created at the desk when the patient is
there, so it starts checked in. It takes a visit number from the same ``visit`` counter as registrations
(the bank sees one kind of visit number) and a queue number from a per-department, per-day counter
(``vaccine:<department id>``). Registering the same patient again while their vaccine visit of the day is
still open returns that visit (a double click never makes two).

The charge slip is a ``MedicalOrder(kind="vaccine")`` of vaccine catalogue items, written and submitted in
one step (:meth:`ImmunizationService.charge_slip`); on a credit visit the lock is attached exactly as for
orders (the ``attach`` hook, see :mod:`desktop_his.services.orders`). The patient goes into the vaccination
room only when the slip's money is settled (:func:`cleared_for_vaccination`): locked on credit or paid at the
desk by another channel after a refused lock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from desktop_his.services import audit, live, numbers, texts
from desktop_his.services.clock import Clock
from desktop_his.services.db import Database
from desktop_his.services.enums import (
    CatalogKind,
    DepartmentKind,
    FeeStatus,
    OrderStatus,
    Period,
    VisitStatus,
)
from desktop_his.services.errors import Conflict, NotFound, ValidationError
from desktop_his.services.ids import age_on, mask_id_number
from desktop_his.services.models import Department, MedicalOrder, Patient, Visit
from desktop_his.services.orders import (
    CatalogHit,
    ExecutedOrder,
    OrderLine,
    OrderView,
    SubmitHook,
    SubmittedOrder,
    create_draft,
    mark_executed,
    open_visit_for_orders,
    order_view,
    search_catalog,
    submit,
)
from desktop_his.services.payments import PaymentInput, record_in_session
from desktop_his.services.permissions import Action, Actor, require

VACCINE_VISIT = "vaccine"
_OPEN = (VisitStatus.CHECKED_IN, VisitStatus.CALLED)


@dataclass(frozen=True)
class VaccineVisit:
    visit_id: int
    visit_no: str
    visit_date: date
    queue_no: int
    status: str
    patient_id: int
    patient_name: str
    id_masked: str
    age: int
    department_id: int
    department_name: str
    location: str
    credit: bool
    family_pay: bool
    created_at: datetime

    @property
    def pay_mark(self) -> str | None:
        return texts.slip_mark(self.credit, self.family_pay)


def cleared_for_vaccination(order: OrderView) -> bool:
    """The slip's money is settled: the patient may go into the vaccination room."""
    return order.status == OrderStatus.SUBMITTED and order.fee_status in (
        FeeStatus.LOCKED, FeeStatus.PAID, FeeStatus.DEDUCTED)


def _period(at: datetime) -> Period:
    return Period.MORNING if at.hour < 12 else Period.AFTERNOON if at.hour < 18 else Period.EVENING


def _view(visit: Visit) -> VaccineVisit:
    p, d = visit.patient, visit.department
    return VaccineVisit(visit.id, visit.visit_no, visit.visit_date, visit.queue_no or 0, visit.status, p.id,
                        p.name, mask_id_number(p.id_number), age_on(p.birth_date, visit.visit_date), d.id, d.name,
                        d.location, visit.credit, visit.family_pay, visit.created_at)


class ImmunizationService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def register(self, actor: Actor, patient_id: int, *, department_id: int | None = None) -> VaccineVisit:
        """Open today's vaccine visit for the patient (or return the one still open)."""
        require(actor, Action.VACCINE_CHARGE)
        now = self.clock.now()
        with self.db.session() as s:
            # Row-lock the patient so two clicks (or two desks) cannot open two visits at once.
            patient = s.execute(select(Patient).where(Patient.id == patient_id).with_for_update()).scalar_one_or_none()
            if patient is None:
                raise NotFound("患者不存在", field="patient_id")
            dept = self._department(s, department_id)
            existing = max(s.scalars(  # the newest (not ORDER BY id DESC LIMIT 1: see db.newest)
                select(Visit).where(Visit.patient_id == patient.id, Visit.kind == VACCINE_VISIT,
                                    Visit.department_id == dept.id, Visit.visit_date == now.date(),
                                    Visit.status.in_(_OPEN))).all(), key=lambda v: v.id, default=None)
            if existing is not None:
                return _view(existing)
            visit = Visit(
                visit_no=numbers.next_number(s, "visit", now.date()), patient_id=patient.id, department_id=dept.id,
                visit_date=now.date(), period=_period(now),
                queue_no=numbers.next_value(s, f"vaccine:{dept.id}", now.date()), kind=VACCINE_VISIT,
                status=VisitStatus.CHECKED_IN, fee_fen=0, fee_status=FeeStatus.PAID,  # no registration fee
                created_at=now, created_by=actor.staff_id, workstation=actor.workstation, checked_in_at=now,
            )
            s.add(visit)
            s.flush()
            audit.append(s, actor=actor, action="visit.vaccine_registered", at=now, entity="visit",
                         entity_id=visit.id, detail={"visit_no": visit.visit_no, "department_id": dept.id})
            live.publish(s, f"department:{dept.id}")
            return _view(visit)

    def today_visits(self, actor: Actor, *, department_id: int | None = None,
                     day: date | None = None) -> list[VaccineVisit]:
        """The desk's vaccine visits of the day, by queue number."""
        require(actor, Action.VACCINE_CHARGE)
        with self.db.reader() as s:
            conds = [Visit.kind == VACCINE_VISIT, Visit.visit_date == (day or self.clock.today())]
            if department_id is not None:
                conds.append(Visit.department_id == department_id)
            rows = s.execute(select(Visit).where(*conds).order_by(Visit.queue_no, Visit.id)).scalars().all()
            return [_view(v) for v in rows]

    def search_vaccines(self, actor: Actor, query: str, *, limit: int = 30) -> list[CatalogHit]:
        require(actor, Action.VACCINE_CHARGE)
        with self.db.reader() as s:
            return search_catalog(s, query, (CatalogKind.VACCINE,), limit)

    def charge_slip(self, actor: Actor, visit_id: int, lines: Sequence[OrderLine], *,
                    attach: SubmitHook | None = None) -> SubmittedOrder:
        """Write and submit the vaccine charge slip in one transaction. On a credit visit the result's
        ``lock_request`` (purpose ``vaccine``) is what to lock; ``attach`` journals it atomically."""
        require(actor, Action.VACCINE_CHARGE)
        now = self.clock.now()
        with self.db.session() as s:
            visit = open_visit_for_orders(s, visit_id)
            if visit.kind != VACCINE_VISIT:
                raise Conflict("这不是预防接种登记，请在医生站开立医嘱", code="visit_kind")
            if not lines:
                raise ValidationError("请选择疫苗", field="items")
            submitted = submit(s, actor, create_draft(s, actor, visit, lines, "", now).id, now)
            if attach is not None:
                attach(s, submitted)
            return submitted

    def mark_vaccinated(self, actor: Actor, order_id: int,
                        actual: Mapping[int, int] | None = None) -> ExecutedOrder:
        """Record the vaccination (actual doses per item, default as charged); the visit is finished when
        none of its slips is left to carry out."""
        require(actor, Action.VACCINE_CHARGE)
        now = self.clock.now()
        with self.db.session() as s:
            order = s.get(MedicalOrder, order_id)
            if order is None or order.kind != VACCINE_VISIT:
                raise NotFound("疫苗收费单不存在", field="order_id")
            executed = mark_executed(s, actor, order_id, actual, now)
            left = s.execute(select(func.count(MedicalOrder.id)).where(
                MedicalOrder.visit_id == order.visit_id, MedicalOrder.status == OrderStatus.SUBMITTED)).scalar_one()
            if left == 0:
                s.execute(update(Visit).where(Visit.id == order.visit_id, Visit.status.in_(_OPEN))
                          .values(status=VisitStatus.SEEN, seen_at=now))
            return executed

    def pay_slip(self, actor: Actor, order_id: int, payment: PaymentInput) -> OrderView:
        """The slip's money by another channel at the desk (a refused lock, or no 信用就医): the patient may
        then go into the vaccination room (:func:`cleared_for_vaccination`)."""
        require(actor, Action.VACCINE_CHARGE)
        now = self.clock.now()
        with self.db.session() as s:
            order = s.get(MedicalOrder, order_id)
            if order is None or order.kind != VACCINE_VISIT:
                raise NotFound("疫苗收费单不存在", field="order_id")
            amount = order.total_fen if order.actual_fen is None else order.actual_fen
            record_in_session(s, actor, now, patient_id=order.patient_id, purpose="vaccine", amount_fen=amount,
                              channel=payment.channel, reference_no=payment.reference_no,
                              cash_received_fen=payment.cash_received_fen, order_id=order.id)
            s.flush()
            s.refresh(order)
            return order_view(order)

    @staticmethod
    def _department(s: Session, department_id: int | None) -> Department:
        q = select(Department).where(Department.kind == DepartmentKind.VACCINATION, Department.active.is_(True))
        if department_id is not None:
            dept = s.execute(q.where(Department.id == department_id)).scalar_one_or_none()
            if dept is None:
                raise ValidationError("请选择预防接种门诊", field="department_id")
            return dept
        depts = s.execute(q.order_by(Department.sort_order, Department.id)).scalars().all()
        if not depts:
            raise Conflict("尚未设置预防接种门诊科室，请联系管理员", code="no_vaccination_department")
        if len(depts) > 1:
            raise ValidationError("请选择预防接种门诊", field="department_id")
        return depts[0]
