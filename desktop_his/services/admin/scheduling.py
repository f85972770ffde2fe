"""Weekly schedules and the dated slots they generate (号源).

Slot generation is idempotent: it makes the slots of every active schedule for today plus
``RegistrationRules.booking_days_ahead`` days, updates unbooked slots whose schedule changed, removes unbooked
slots no schedule covers any more, and never touches a slot that has registrations. Two PCs generating at once
insert with ON CONFLICT DO NOTHING on ``(doctor_id, date, period)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from desktop_his.services import audit, live, money
from desktop_his.services.admin import common
from desktop_his.services.clock import Clock
from desktop_his.services.db import Database
from desktop_his.services.enums import PERIOD_LABELS, Period
from desktop_his.services.errors import Conflict, NotFound, ValidationError
from desktop_his.services.models import Department, Doctor, Schedule, Slot, Visit
from desktop_his.services.permissions import Action, Actor, require
from desktop_his.services.rules_config import load_rules

SCHEDULES_TOPIC = "schedules"
SLOTS_TOPIC = "slots"
WEEKDAY_LABELS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
DEFAULT_TIMES = {
    Period.MORNING: (time(8, 0), time(12, 0)),
    Period.AFTERNOON: (time(14, 0), time(17, 30)),
    Period.EVENING: (time(18, 0), time(21, 0)),
}
MAX_CAPACITY = 500


@dataclass(frozen=True)
class ScheduleRow:
    id: int
    doctor_id: int
    doctor_name: str
    department_name: str
    weekday: int
    period: str
    start_time: time
    end_time: time
    capacity: int
    fee_fen: int
    valid_from: date
    valid_to: date | None
    active: bool


@dataclass
class ScheduleForm:
    doctor_id: int | None
    weekday: int
    period: str
    start_time: time
    end_time: time
    capacity: int
    fee_yuan: str
    valid_from: date
    valid_to: date | None = None
    active: bool = True


@dataclass(frozen=True)
class SlotReport:
    first_day: date
    last_day: date
    created: int = 0
    updated: int = 0
    removed: int = 0
    kept_booked: int = 0  # slots with registrations left as they were although their schedule changed

    def summary(self) -> str:
        text = (f"{self.first_day:%m-%d} 至 {self.last_day:%m-%d}：新增 {self.created} 个号源，"
                f"更新 {self.updated} 个，移除 {self.removed} 个")
        if self.kept_booked:
            text += f"；{self.kept_booked} 个号源已有挂号，保持不变（如需停诊请使用停诊功能）"
        return text


@dataclass(frozen=True)
class ScheduleSaved:
    row: ScheduleRow
    slots: SlotReport


@dataclass(frozen=True)
class SlotRow:
    id: int
    date: date
    period: str
    doctor_id: int
    doctor_name: str
    doctor_title: str
    department_id: int
    department_name: str
    start_time: time
    end_time: time
    capacity: int
    taken: int
    fee_fen: int
    suspended: bool

    @property
    def period_label(self) -> str:
        return PERIOD_LABELS[Period(self.period)]


class SchedulingService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def list_schedules(self, *, doctor_id: int | None = None) -> list[ScheduleRow]:
        query = (select(Schedule).join(Doctor).join(Department)
                 .order_by(Department.sort_order, Doctor.name, Schedule.weekday, Schedule.period))
        if doctor_id is not None:
            query = query.where(Schedule.doctor_id == doctor_id)
        with self.db.reader() as s:
            return [_schedule_row(sch) for sch in s.execute(query).scalars()]

    def create_schedule(self, actor: Actor, form: ScheduleForm) -> ScheduleSaved:
        return self._save(actor, None, form)

    def update_schedule(self, actor: Actor, schedule_id: int, form: ScheduleForm) -> ScheduleSaved:
        return self._save(actor, schedule_id, form)

    def _save(self, actor: Actor, schedule_id: int | None, form: ScheduleForm) -> ScheduleSaved:
        require(actor, Action.SCHEDULE_MANAGE)
        today = self.clock.today()
        values = _schedule_values(form)
        now = self.clock.now()
        with common.unique_guard("该医生在该时段已有同日生效的排班", field="valid_from"), self.db.session() as s:
            doctor = s.get(Doctor, values["doctor_id"])
            if doctor is None:
                raise ValidationError("所选医生不存在，请刷新后重选", field="doctor_id")
            schedule = None if schedule_id is None else s.get(Schedule, schedule_id)
            if schedule_id is not None and schedule is None:
                raise NotFound("该排班不存在（可能已被他人删除），请刷新")
            # A new schedule, or a moved start, must not begin in the past (slots of past days are history).
            if values["valid_from"] < today and (schedule is None or values["valid_from"] != schedule.valid_from):
                raise ValidationError(f"生效日期不能早于今天（{today:%Y-%m-%d}）", field="valid_from")
            _check_overlap(s, schedule_id, values)
            if schedule is None:
                schedule = Schedule(**values)
                s.add(schedule)
            else:
                for key, value in values.items():
                    setattr(schedule, key, value)
            s.flush()
            audit.append(s, actor=actor, action="schedule.created" if schedule_id is None else "schedule.updated",
                         at=now, entity="schedule", entity_id=schedule.id, detail=_audit_detail(values))
            rules = load_rules(s)
            report = generate_slots(s, start=today, end=today + timedelta(days=rules.booking_days_ahead),
                                    doctor_ids={schedule.doctor_id})
            live.publish(s, SCHEDULES_TOPIC, SLOTS_TOPIC)
            return ScheduleSaved(_schedule_row(schedule), report)

    def generate_slots(self, actor: Actor, *, days: int | None = None) -> SlotReport:
        """Make the slots for today + ``days`` (default: the booking window of the registration rules)."""
        require(actor, Action.SCHEDULE_MANAGE)
        return self.generate_slots_unattended(actor, days=days)

    def generate_slots_unattended(self, actor: Actor, *, days: int | None = None) -> SlotReport:
        """Same as :meth:`generate_slots` for start-up and scheduled jobs (the caller vouches for the actor)."""
        today = self.clock.today()
        with self.db.session() as s:
            ahead = load_rules(s).booking_days_ahead if days is None else days
            report = generate_slots(s, start=today, end=today + timedelta(days=ahead))
            audit.append(s, actor=actor, action="slots.generated", at=self.clock.now(), entity="slot",
                         detail={"first_day": report.first_day, "last_day": report.last_day,
                                 "created": report.created, "updated": report.updated,
                                 "removed": report.removed, "kept_booked": report.kept_booked})
            live.publish(s, SLOTS_TOPIC)
            return report

    def slot_overview(self, *, start: date, days: int, department_id: int | None = None) -> list[SlotRow]:
        end = start + timedelta(days=days)
        query = (select(Slot, Doctor, Department).join(Doctor, Slot.doctor_id == Doctor.id)
                 .join(Department, Slot.department_id == Department.id)
                 .where(Slot.date >= start, Slot.date <= end)
                 .order_by(Department.sort_order, Doctor.name, Slot.date, Slot.start_time))
        if department_id is not None:
            query = query.where(Slot.department_id == department_id)
        with self.db.reader() as s:
            return [SlotRow(sl.id, sl.date, sl.period, doc.id, doc.name, doc.title, dept.id, dept.name,
                            sl.start_time, sl.end_time, sl.capacity, sl.taken, sl.fee_fen, sl.suspended)
                    for sl, doc, dept in s.execute(query).all()]


# ---------------------------------------------------------------------------------------- generation


def generate_slots(session: Session, *, start: date, end: date, doctor_ids: set[int] | None = None) -> SlotReport:
    """Bring the slots of ``start``..``end`` (inclusive) in line with the active schedules (see module doc)."""
    wanted = _wanted_slots(session, start, end, doctor_ids)
    query = select(Slot).where(Slot.date >= start, Slot.date <= end)
    if doctor_ids is not None:
        query = query.where(Slot.doctor_id.in_(doctor_ids))
    existing = {(sl.doctor_id, sl.date, sl.period): sl for sl in session.execute(query).scalars()}
    booked = _booked_slot_ids(session, [sl.id for sl in existing.values()])
    created = updated = removed = kept = 0
    for key, (schedule, department_id) in wanted.items():
        slot = existing.get(key)
        if slot is None:
            created += _insert_slot(session, key, schedule, department_id)
        elif slot.schedule_id is not None and _differs(slot, schedule, department_id):
            if slot.id in booked or slot.suspended:
                kept += 1
            else:
                _apply(slot, schedule, department_id)
                updated += 1
    stale = [sl for key, sl in existing.items() if key not in wanted and sl.schedule_id is not None]
    for slot in stale:
        if slot.id in booked or slot.suspended:
            kept += 1
        else:
            session.execute(delete(Slot).where(Slot.id == slot.id, Slot.taken == 0))
            removed += 1
    session.flush()
    return SlotReport(start, end, created, updated, removed, kept)


def _wanted_slots(session: Session, start: date, end: date,
                  doctor_ids: set[int] | None) -> dict[tuple[int, date, str], tuple[Schedule, int]]:
    query = (select(Schedule, Doctor.department_id).join(Doctor).join(Department)
             .where(Schedule.active.is_(True), Doctor.active.is_(True), Department.active.is_(True),
                    Schedule.valid_from <= end)
             .order_by(Schedule.valid_from))
    if doctor_ids is not None:
        query = query.where(Schedule.doctor_id.in_(doctor_ids))
    wanted: dict[tuple[int, date, str], tuple[Schedule, int]] = {}
    for schedule, department_id in session.execute(query).all():
        day = max(start, schedule.valid_from)
        day += timedelta(days=(schedule.weekday - day.weekday()) % 7)
        last = min(end, schedule.valid_to) if schedule.valid_to else end
        while day <= last:
            # Later-starting schedules win (ordered by valid_from), which overlap checks make rare anyway.
            wanted[(schedule.doctor_id, day, schedule.period)] = (schedule, department_id)
            day += timedelta(days=7)
    return wanted


def _booked_slot_ids(session: Session, slot_ids: list[int]) -> set[int]:
    booked = {sid for sid, taken in session.execute(
        select(Slot.id, Slot.taken).where(Slot.id.in_(slot_ids))).all() if taken > 0}
    if slot_ids:
        booked |= set(session.execute(select(Visit.slot_id).where(Visit.slot_id.in_(slot_ids))).scalars())
    return booked


def _insert_slot(session: Session, key: tuple[int, date, str], schedule: Schedule, department_id: int) -> int:
    doctor_id, day, period = key
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    result = session.execute(insert(Slot).values(
        schedule_id=schedule.id, doctor_id=doctor_id, department_id=department_id, date=day, period=period,
        start_time=schedule.start_time, end_time=schedule.end_time, capacity=schedule.capacity, taken=0,
        next_queue_no=1, fee_fen=schedule.fee_fen, suspended=False,
    ).on_conflict_do_nothing().returning(Slot.id))
    # RETURNING rather than rowcount: psycopg reports -1 for INSERT … ON CONFLICT.
    return 1 if result.first() is not None else 0


def _differs(slot: Slot, schedule: Schedule, department_id: int) -> bool:
    return (slot.schedule_id, slot.start_time, slot.end_time, slot.capacity, slot.fee_fen, slot.department_id) != (
        schedule.id, schedule.start_time, schedule.end_time, schedule.capacity, schedule.fee_fen, department_id)


def _apply(slot: Slot, schedule: Schedule, department_id: int) -> None:
    slot.schedule_id = schedule.id
    slot.start_time, slot.end_time = schedule.start_time, schedule.end_time
    slot.capacity, slot.fee_fen, slot.department_id = schedule.capacity, schedule.fee_fen, department_id


# ---------------------------------------------------------------------------------------- validation


def _schedule_values(form: ScheduleForm) -> dict:
    if form.doctor_id is None:
        raise ValidationError("请选择医生", field="doctor_id")
    if form.weekday not in range(7):
        raise ValidationError("请选择星期", field="weekday")
    try:
        period = Period(form.period)
    except ValueError as exc:
        raise ValidationError("请选择时段（上午/下午/晚间）", field="period") from exc
    if form.start_time is None or form.end_time is None or form.end_time <= form.start_time:
        raise ValidationError("结束时间应晚于开始时间", field="end_time")
    capacity = common.int_range(form.capacity, field="capacity", label="号源数", low=1, high=MAX_CAPACITY)
    if form.valid_from is None:
        raise ValidationError("请选择生效日期", field="valid_from")
    if form.valid_to is not None and form.valid_to < form.valid_from:
        raise ValidationError("停止日期不能早于生效日期", field="valid_to")
    return {
        "doctor_id": form.doctor_id, "weekday": form.weekday, "period": str(period),
        "start_time": form.start_time, "end_time": form.end_time, "capacity": capacity,
        "fee_fen": money.parse_yuan(form.fee_yuan, field="fee"), "valid_from": form.valid_from,
        "valid_to": form.valid_to, "active": bool(form.active),
    }


def _check_overlap(s: Session, schedule_id: int | None, values: dict) -> None:
    """One doctor, one weekday, one period: at most one active schedule in force on any day."""
    if not values["active"]:
        return
    query = select(Schedule).where(Schedule.doctor_id == values["doctor_id"],
                                   Schedule.weekday == values["weekday"], Schedule.period == values["period"],
                                   Schedule.active.is_(True))
    if schedule_id is not None:
        query = query.where(Schedule.id != schedule_id)
    far = date.max
    for other in s.execute(query).scalars():
        if values["valid_from"] <= (other.valid_to or far) and other.valid_from <= (values["valid_to"] or far):
            period = PERIOD_LABELS[Period(values["period"])]
            span = f"{other.valid_from:%Y-%m-%d} 起" + (f"至 {other.valid_to:%Y-%m-%d}" if other.valid_to else "")
            raise Conflict(f"该医生{WEEKDAY_LABELS[values['weekday']]}{period}已有排班（{span}），"
                           "请先为原排班设置停止日期或停用", field="valid_from")


def _audit_detail(values: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, date | time) else v) for k, v in values.items()}


def _schedule_row(sch: Schedule) -> ScheduleRow:
    return ScheduleRow(sch.id, sch.doctor_id, sch.doctor.name, sch.doctor.department.name, sch.weekday,
                       sch.period, sch.start_time, sch.end_time, sch.capacity, sch.fee_fen, sch.valid_from,
                       sch.valid_to, sch.active)
