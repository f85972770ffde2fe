"""The registration window's core without money movement: find a slot, register, check in, cancel, 停诊.

**Registering** (:meth:`RegistrationService.register`) is one transaction: lock the patient row (so two
windows cannot both pass the daily limits for one patient), apply the rules (all violations, nothing saved),
take the place with a single guarded UPDATE (``taken < capacity AND NOT suspended``, never read-modify-write),
create the visit (``fee_status=unpaid``), optionally record a payment by another channel, audit, and publish
``doctor:<id>``/``department:<id>``.

**Money around it** (built on top by the 信用就医 flow):

- *Register, then pay by credit*: ``register`` → sign query → pop-up → confirm + lock through the gateway →
  set the visit's ``credit``/``fee_status=locked``. Declined or refused → ``PaymentService.record`` (or
  ``cancel`` if the patient leaves).
- *Register and pay another way in one go*: ``register(..., payment=PaymentInput(...))``.
- *Cancel*: :meth:`prepare_cancellation` (read only) says whether the visit may be cancelled now and lists
  exactly what money must go back (:class:`MoneyBack`: cancel the lock, refund through the bank, or a recorded
  refund by the payment's channel). The caller moves that money (its journal/refund rows), then calls
  :meth:`cancel` with ``checked_at=plan.checked_at``. ``cancel`` refuses while any money has not been sent back
  (a ``Refund`` row — success, pending, or queued after ``DCBS0004PL0974`` — counts as sent back), so a crash in
  between leaves a registered visit whose money is already on its way, and the retry completes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from desktop_his.services import audit, live, numbers, pinyin, registration_rules, registration_write
from desktop_his.services.clock import Clock
from desktop_his.services.db import Database
from desktop_his.services.enums import FeeStatus, VisitStatus
from desktop_his.services.errors import Conflict, NotFound, RuleViolation, ValidationError
from desktop_his.services.models import Department, Doctor, Patient, Slot, Visit
from desktop_his.services.noshow import record_check_in
from desktop_his.services.payments import PaymentInput, record_in_session
from desktop_his.services.permissions import Action, Actor, require
from desktop_his.services.registration_money import (
    CancelCheck,
    MoneyBack,
    cancellation_allowed,
    money_to_return,
    outstanding_text,
)
from desktop_his.services.registration_rules import REGISTRABLE_KINDS, RuleEngine
from desktop_his.services.registration_views import (
    DepartmentRow,
    DoctorRow,
    SlotRow,
    VisitInfo,
    department_row,
    doctor_row,
    slot_row,
    visit_info,
)
from desktop_his.services.rules_config import load_rules

__all__ = ["CancelCheck", "CancellationPlan", "MoneyBack", "RegistrationService", "SuspensionResult",
           "AffectedVisit", "cancellation_allowed", "DepartmentRow", "DoctorRow", "SlotRow", "VisitInfo"]

PLAN_VALID_FOR = timedelta(minutes=15)  # a cancellation checked this long ago is still honoured
ACTIVE = (VisitStatus.REGISTERED.value, VisitStatus.CHECKED_IN.value, VisitStatus.CALLED.value)


@dataclass(frozen=True)
class CancellationPlan:
    visit: VisitInfo
    allowed: bool
    refusal: str  # why not, when not allowed
    deadline: datetime | None
    money: tuple[MoneyBack, ...]  # what must go back before ``cancel``
    blocked: str  # a money state that must settle first (a lock whose outcome is unknown)
    checked_at: datetime

    @property
    def total_fen(self) -> int:
        return sum(m.amount_fen for m in self.money)


@dataclass(frozen=True)
class AffectedVisit:
    visit: VisitInfo
    phone: str  # full numbers: the cashier phones these patients
    guardian_phone: str | None
    money: tuple[MoneyBack, ...]
    blocked: str


@dataclass(frozen=True)
class SuspensionResult:
    slot: SlotRow
    cancelled: tuple[AffectedVisit, ...]  # unpaid registrations, cancelled now
    refund_needed: tuple[AffectedVisit, ...]  # paid ones: refund, then ``cancel`` (the deadline does not apply)

    @property
    def to_phone(self) -> tuple[AffectedVisit, ...]:
        return self.cancelled + self.refund_needed


def _ranked(query: str, items: list, name, initials) -> list:  # noqa: ANN001 - small local helper
    q = (query or "").strip().lower()
    hits = [i for i in items if pinyin.matches(q, name(i), initials(i))]

    def rank(item) -> tuple[int, int]:  # noqa: ANN001
        n, p = name(item).lower(), initials(item)
        exact = 0 if q in (n, p) else 1 if n.startswith(q) or p.startswith(q) else 2
        return exact, len(n)

    return sorted(hits, key=rank) if q else hits


class RegistrationService:
    def __init__(self, db: Database, clock: Clock, *, engine: RuleEngine | None = None) -> None:
        self.db = db
        self.clock = clock
        self.engine = engine or RuleEngine()

    # ------------------------------------------------------------------------------------ look-ups

    def search_departments(self, query: str = "") -> list[DepartmentRow]:
        """Active registrable departments by pinyin initials (``nk`` → 内科) or Chinese; best match first."""
        with self.db.reader() as s:
            depts = list(s.execute(select(Department).where(
                Department.active.is_(True), Department.kind.in_(REGISTRABLE_KINDS))
                .order_by(Department.sort_order, Department.id)).scalars())
        hits = _ranked(query, depts, lambda d: d.name, lambda d: d.pinyin)
        return [department_row(d) for d in hits]

    def search_doctors(self, query: str = "", *, department_id: int | None = None) -> list[DoctorRow]:
        """Active doctors of registrable departments by pinyin initials or Chinese name."""
        with self.db.reader() as s:
            stmt = (select(Doctor).join(Department, Department.id == Doctor.department_id)
                    .where(Doctor.active.is_(True), Department.active.is_(True),
                           Department.kind.in_(REGISTRABLE_KINDS)).order_by(Department.sort_order, Doctor.id))
            if department_id is not None:
                stmt = stmt.where(Doctor.department_id == department_id)
            doctors = list(s.execute(stmt).scalars())
            hits = _ranked(query, doctors, lambda d: d.name, lambda d: d.pinyin)
            return [doctor_row(d) for d in hits]

    def available_slots(self, *, department_id: int | None = None, doctor_id: int | None = None,
                        from_date: date | None = None, days: int | None = None) -> list[SlotRow]:
        """Slots of a department or doctor from ``from_date`` (default today) for ``days`` days (default the
        booking window: today plus ``booking_days_ahead``), with remaining places and a ``bookable`` flag."""
        if department_id is None and doctor_id is None:
            raise ValidationError("请先选择科室或医生", field="department_id")
        now = self.clock.now()
        with self.db.reader() as s:
            rules = load_rules(s)
            start = from_date or now.date()
            span = days if days is not None else rules.booking_days_ahead + 1 - (start - now.date()).days
            stmt = (select(Slot).join(Doctor, Doctor.id == Slot.doctor_id)
                    .where(Slot.date >= start, Slot.date < start + timedelta(days=max(span, 0)),
                           Doctor.active.is_(True))
                    .order_by(Slot.date, Slot.start_time, Slot.doctor_id))
            if department_id is not None:
                stmt = stmt.where(Slot.department_id == department_id)
            if doctor_id is not None:
                stmt = stmt.where(Slot.doctor_id == doctor_id)
            return [slot_row(sl, now, rules) for sl in s.execute(stmt).scalars()]

    def check_rules(self, actor: Actor, patient_id: int, slot_id: int) -> list[RuleViolation]:
        """Every rule the registration would break (for showing before the cashier confirms)."""
        require(actor, Action.REGISTER)
        with self.db.reader() as s:
            return self.engine.check(s, _patient(s, patient_id), _slot(s, slot_id), self.clock.now())

    # -------------------------------------------------------------------------------- registration

    def register(self, actor: Actor, patient_id: int, slot_id: int, *,
                 payment: PaymentInput | None = None) -> VisitInfo:
        """Register the patient to the slot (see the module docstring). Raises ``RegistrationRefused`` with
        every violated rule, or with code ``slot_full``/``slot_suspended`` when the last place went to
        another window a moment earlier; nothing is saved then."""
        require(actor, Action.REGISTER)
        now = self.clock.now()
        with self.db.session() as s:  # few statements, no ORM: see registration_write
            got = registration_write.load(s, patient_id, slot_id)
            registration_write.require_allowed(s, self.engine, got, now)
            values = registration_write.take_place_and_insert(
                s, got, visit_no=numbers.take(s, "visit", now.date()), now=now, staff_id=actor.staff_id,
                workstation=actor.workstation)
            visit_id, slot = values["id"], got.slot
            audit.append(s, actor=actor, action="registration.created", at=now, entity="visit", entity_id=visit_id,
                         detail={"visit_no": values["visit_no"], "patient_id": patient_id, "slot_id": slot.id,
                                 "queue_no": values["queue_no"], "fee_fen": values["fee_fen"]})
            if payment is not None and values["fee_fen"]:
                record_in_session(s, actor, now, patient_id=patient_id, purpose="registration",
                                  amount_fen=values["fee_fen"], channel=payment.channel,
                                  reference_no=payment.reference_no, cash_received_fen=payment.cash_received_fen,
                                  visit_id=visit_id)
                return visit_info(s, _visit(s, visit_id))
            return registration_write.info(got, values)

    def check_in(self, actor: Actor, visit_id: int) -> VisitInfo:
        """取号 on the day of the visit. Counts toward 取三减一. Pressing it twice changes nothing."""
        require(actor, Action.CHECK_IN)
        now = self.clock.now()
        with self.db.session() as s:
            visit = _visit(s, visit_id, lock=True)
            if visit.status in (VisitStatus.CHECKED_IN, VisitStatus.CALLED, VisitStatus.SEEN):
                return visit_info(s, visit)
            _check_in_allowed(visit, now)
            visit.status, visit.checked_in_at = VisitStatus.CHECKED_IN.value, now
            patient = s.execute(select(Patient).where(Patient.id == visit.patient_id).with_for_update()
                                .execution_options(populate_existing=True)).scalar_one()
            forgiven = record_check_in(s, patient, visit, at=now, rules=load_rules(s))
            audit.append(s, actor=actor, action="registration.checked_in", at=now, entity="visit",
                         entity_id=visit.id, detail={"visit_no": visit.visit_no, "noshow_forgiven": forgiven})
            live.publish(s, f"doctor:{visit.doctor_id}", f"department:{visit.department_id}")
            return visit_info(s, visit)

    # -------------------------------------------------------------------------------- cancellation

    def prepare_cancellation(self, actor: Actor, visit_id: int) -> CancellationPlan:
        """May this visit be cancelled now, and what money must go back first? Reads only."""
        require(actor, Action.REGISTRATION_CANCEL)
        now = self.clock.now()
        with self.db.reader() as s:
            visit = _visit(s, visit_id)
            verdict = cancellation_allowed(visit, now, load_rules(s))
            money, blocked = money_to_return(s, visit, now.date())
            return CancellationPlan(visit_info(s, visit), verdict.allowed, verdict.message, verdict.deadline,
                                    money, blocked, now)

    def cancel(self, actor: Actor, visit_id: int, reason: str, *, checked_at: datetime | None = None) -> VisitInfo:
        """退号: release the place and mark the visit cancelled. Refuses while money has not been sent back
        (see :meth:`prepare_cancellation`). ``checked_at``: when the cashier's plan was checked, so a refund
        done at 23:59 is not stranded by a deadline passing at 00:00 (honoured for ``PLAN_VALID_FOR``)."""
        require(actor, Action.REGISTRATION_CANCEL)
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError("请填写退号原因", field="reason")
        now = self.clock.now()
        at = _plan_time(checked_at, now)
        with self.db.session() as s:
            visit = _visit(s, visit_id, lock=True)
            verdict = cancellation_allowed(visit, at, load_rules(s))
            if not verdict.allowed:
                raise Conflict(verdict.message, code="cancel_not_allowed")
            money, blocked = money_to_return(s, visit, now.date())
            if blocked or money:
                raise Conflict(blocked or outstanding_text(money), code="money_outstanding")
            _cancel_visit(s, visit, now, reason)
            audit.append(s, actor=actor, action="registration.cancelled", at=now, entity="visit", entity_id=visit.id,
                         detail={"visit_no": visit.visit_no, "reason": reason[:200], "fee_status": visit.fee_status})
            live.publish(s, f"doctor:{visit.doctor_id}", f"department:{visit.department_id}")
            return visit_info(s, visit)

    # ------------------------------------------------------------------------------------- 停诊

    def suspend_slot(self, actor: Actor, slot_id: int, reason: str) -> SuspensionResult:
        """停诊: no more registrations; unpaid registrations are cancelled now, paid ones are listed for
        refund (then ``cancel``); everyone affected is listed with phone numbers. Safe to repeat."""
        require(actor, Action.SCHEDULE_SUSPEND)
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError("请填写停诊原因", field="reason")
        now = self.clock.now()
        with self.db.session() as s:
            slot = s.execute(select(Slot).where(Slot.id == slot_id).with_for_update()
                             .execution_options(populate_existing=True)).scalar_one_or_none()
            if slot is None:
                raise NotFound("未找到该号源", code="slot_not_found")
            if not slot.suspended:
                slot.suspended, slot.suspended_at, slot.suspend_reason = True, now, reason[:200]
                audit.append(s, actor=actor, action="schedule.suspended", at=now, entity="slot", entity_id=slot.id,
                             detail={"date": slot.date, "period": slot.period, "doctor_id": slot.doctor_id,
                                     "reason": reason[:200]})
            cancelled, refund_needed = self._settle_suspended(s, actor, slot, now)
            live.publish(s, f"doctor:{slot.doctor_id}", f"department:{slot.department_id}")
            s.flush()
            s.refresh(slot)
            return SuspensionResult(slot_row(slot, now, load_rules(s)), tuple(cancelled), tuple(refund_needed))

    def suspended_to_settle(self, actor: Actor, *, from_date: date | None = None) -> list[AffectedVisit]:
        """Registrations on suspended slots still waiting for their refund and cancellation (cashiers' list)."""
        require(actor, Action.REGISTRATION_CANCEL)
        now = self.clock.now()
        with self.db.reader() as s:
            visits = s.execute(
                select(Visit).join(Slot, Slot.id == Visit.slot_id)
                .where(Slot.suspended.is_(True), Visit.status.in_(ACTIVE),
                       Visit.visit_date >= (from_date or now.date() - timedelta(days=30)))
                .order_by(Visit.visit_date, Visit.id)).scalars()
            return [_affected(s, v, now.date()) for v in visits]

    def _settle_suspended(self, s: Session, actor: Actor, slot: Slot,
                          now: datetime) -> tuple[list[AffectedVisit], list[AffectedVisit]]:
        cancelled, refund_needed = [], []
        visits = s.execute(select(Visit).where(Visit.slot_id == slot.id, Visit.status.in_(ACTIVE))
                           .order_by(Visit.queue_no).with_for_update()).scalars().all()
        for visit in visits:
            money, blocked = money_to_return(s, visit, now.date())
            if money or blocked:
                refund_needed.append(_affected(s, visit, now.date()))
                continue
            _cancel_visit(s, visit, now, f"停诊：{slot.suspend_reason or ''}")
            audit.append(s, actor=actor, action="registration.cancelled", at=now, entity="visit",
                         entity_id=visit.id, detail={"visit_no": visit.visit_no, "reason": "停诊"})
            cancelled.append(_affected(s, visit, now.date()))
        return cancelled, refund_needed

    # ------------------------------------------------------------------------------ history & slips

    def visit(self, actor: Actor, visit_id: int) -> VisitInfo:
        require(actor, Action.PATIENT_VIEW)
        with self.db.reader() as s:
            return visit_info(s, _visit(s, visit_id))

    def history(self, actor: Actor, patient_id: int, *, limit: int = 50) -> list[VisitInfo]:
        """The patient's registrations, newest first (cancelled and no-shows included: never deleted)."""
        require(actor, Action.PATIENT_VIEW)
        with self.db.reader() as s:
            visits = s.execute(select(Visit).where(Visit.patient_id == patient_id)
                               .order_by(Visit.visit_date.desc(), Visit.id.desc()).limit(limit)).scalars()
            return [visit_info(s, v) for v in visits]

    def record_slip_printed(self, actor: Actor, visit_id: int, *, reprint: bool = False) -> VisitInfo:
        """Note that the guide slip went to the printer; a second print is always a 补打 (``REPRINT`` right,
        audited). Returns the visit with ``reprint`` telling the slip builder to mark it."""
        now = self.clock.now()
        with self.db.session() as s:
            visit = _visit(s, visit_id, lock=True)
            reprint = reprint or visit.slip_printed_at is not None
            if reprint:
                require(actor, Action.REPRINT)
            elif not (actor.can(Action.REGISTER) or actor.can(Action.REPRINT)):
                require(actor, Action.REPRINT)
            if visit.status == VisitStatus.CANCELLED:
                raise Conflict("该挂号已退号，不能打印导诊单", code="visit_cancelled")
            if reprint:
                visit.reprint_count += 1
                audit.append(s, actor=actor, action="slip.reprinted", at=now, entity="visit", entity_id=visit.id,
                             detail={"visit_no": visit.visit_no, "reprint_count": visit.reprint_count})
            else:
                visit.slip_printed_at = now
            return visit_info(s, visit, reprint=reprint)


# ------------------------------------------------------------------------------------------ helpers


def _patient(s: Session, patient_id: int) -> Patient:
    patient = s.get(Patient, patient_id)
    if patient is None:
        raise NotFound("未找到该患者", code="patient_not_found")
    return patient


def _slot(s: Session, slot_id: int) -> Slot:
    slot = s.get(Slot, slot_id, populate_existing=True)
    if slot is None:
        raise NotFound("未找到该号源", code="slot_not_found")
    return slot


def _visit(s: Session, visit_id: int, *, lock: bool = False) -> Visit:
    visit = s.get(Visit, visit_id, with_for_update=lock or None, populate_existing=lock)
    if visit is None:
        raise NotFound("未找到该挂号记录", code="visit_not_found")
    return visit


def _take_place(s: Session, slot: Slot) -> int:
    """The guarded UPDATE that makes overselling impossible; returns the queue number taken."""
    row = s.execute(
        update(Slot).where(Slot.id == slot.id, Slot.taken < Slot.capacity, Slot.suspended.is_(False))
        .values(taken=Slot.taken + 1, next_queue_no=Slot.next_queue_no + 1)
        .returning(Slot.next_queue_no).execution_options(synchronize_session=False)
    ).first()
    if row is None:
        s.refresh(slot)  # another window took the last place (or suspended it) after our rule check
        if slot.suspended:
            code, message = "slot_suspended", registration_rules.suspended_message(slot, slot.doctor)
        else:
            code, message = "slot_full", registration_rules.full_message(slot, slot.doctor)
        raise registration_rules.RegistrationRefused([RuleViolation(message, field="slot", code=code)])
    return row[0] - 1


def _release_place(s: Session, slot_id: int | None) -> None:
    if slot_id is not None:
        s.execute(update(Slot).where(Slot.id == slot_id, Slot.taken > 0).values(taken=Slot.taken - 1)
                  .execution_options(synchronize_session=False))


def _cancel_visit(s: Session, visit: Visit, now: datetime, reason: str) -> None:
    visit.status, visit.cancelled_at, visit.cancel_reason = VisitStatus.CANCELLED.value, now, reason[:200]
    if visit.fee_status == FeeStatus.UNPAID:
        visit.fee_status = FeeStatus.CANCELLED.value
    _release_place(s, visit.slot_id)


def _check_in_allowed(visit: Visit, now: datetime) -> None:
    if visit.status == VisitStatus.CANCELLED:
        raise Conflict("该挂号已退号，不能取号", code="visit_cancelled")
    if visit.status == VisitStatus.NO_SHOW:
        raise Conflict("该挂号已过期（已记爽约），请重新挂号", code="visit_no_show")
    if visit.visit_date != now.date():
        raise Conflict(f"预约号只能在就诊当天取号（就诊日期 {visit.visit_date:%Y-%m-%d}）", code="not_today")
    if visit.slot is not None and visit.slot.suspended:
        raise Conflict("该医生本时段已停诊，请办理停诊退费或改挂其他医生", code="slot_suspended")
    if visit.fee_status == FeeStatus.PENDING:
        raise Conflict("挂号费的信用就医结果尚未确认，请稍后再取号", code="fee_pending")
    if visit.fee_status == FeeStatus.UNPAID:
        raise Conflict("挂号费尚未缴纳，请先缴费再取号", code="fee_unpaid")


def _plan_time(checked_at: datetime | None, now: datetime) -> datetime:
    if checked_at is None:
        return now
    if checked_at > now or now - checked_at > PLAN_VALID_FOR:
        raise Conflict("退号核对已过时，请重新核对后再退号", code="plan_expired")
    return checked_at


def _affected(s: Session, visit: Visit, today: date) -> AffectedVisit:
    money, blocked = money_to_return(s, visit, today)
    patient = visit.patient
    return AffectedVisit(visit_info(s, visit), patient.phone, patient.guardian_phone, money, blocked)
