"""Plain rows the registration window shows: departments, doctors, slots, visits (no ORM objects leak out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop_his.services import ids
from desktop_his.services.enums import CHANNEL_LABELS, PERIOD_LABELS, SEX_LABELS, Channel, IdType, Period, Sex
from desktop_his.services.models import Department, Doctor, Payment, Slot, Visit
from desktop_his.services.rules_config import RegistrationRules
from desktop_his.services.texts import slip_mark

STATUS_LABELS = {"registered": "已挂号", "checked_in": "已取号", "called": "已叫号", "seen": "已就诊",
                 "cancelled": "已退号", "no_show": "爽约"}
FEE_STATUS_LABELS = {"unpaid": "未缴费", "pending": "处理中", "paid": "已缴费", "locked": "信用就医已锁定",
                     "deducted": "信用就医已扣款", "cancelled": "已作废", "refunded": "已退费",
                     "partly_refunded": "部分退费"}


@dataclass(frozen=True)
class DepartmentRow:
    id: int
    code: str
    name: str
    pinyin: str
    kind: str
    location: str
    sex_restriction: str | None
    min_age: int | None
    max_age: int | None


@dataclass(frozen=True)
class DoctorRow:
    id: int
    name: str
    pinyin: str
    title: str
    room: str
    department_id: int
    department_name: str


@dataclass(frozen=True)
class SlotRow:
    id: int
    date: date
    period: str
    period_label: str
    start_time: time
    end_time: time
    doctor_id: int
    doctor_name: str
    doctor_title: str
    department_id: int
    department_name: str
    capacity: int
    taken: int
    remaining: int
    fee_fen: int
    suspended: bool
    bookable: bool  # open, not full, inside the booking window, sitting not over


@dataclass(frozen=True)
class VisitInfo:
    id: int
    visit_no: str
    patient_id: int
    patient_name: str
    patient_sex_label: str
    patient_age: int
    id_type_label: str
    id_number_masked: str
    department_id: int
    department_name: str
    location: str  # where the patient goes: department location and the doctor's room
    doctor_id: int | None
    doctor_name: str
    doctor_title: str
    visit_date: date
    period: str | None
    period_label: str
    start_time: time | None
    end_time: time | None
    queue_no: int | None
    fee_fen: int
    fee_status: str
    fee_status_label: str
    status: str
    status_label: str
    credit: bool
    family_pay: bool
    mark: str  # 信用就医 / 亲情付 / the channel(s) paid / 未缴费
    created_at: datetime
    checked_in_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    slot_suspended: bool
    reprint_count: int
    reprint: bool = False  # this rendering is a 补打


def department_row(d: Department) -> DepartmentRow:
    return DepartmentRow(d.id, d.code, d.name, d.pinyin, d.kind, d.location, d.sex_restriction, d.min_age, d.max_age)


def doctor_row(d: Doctor) -> DoctorRow:
    return DoctorRow(d.id, d.name, d.pinyin, d.title, d.room, d.department_id, d.department.name)


def slot_row(sl: Slot, now: datetime, rules: RegistrationRules) -> SlotRow:
    remaining = max(sl.capacity - sl.taken, 0)
    in_window = now.date() <= sl.date <= now.date() + timedelta(days=rules.booking_days_ahead)
    over = sl.date == now.date() and now.time() >= sl.end_time
    bookable = not sl.suspended and remaining > 0 and in_window and not over and sl.doctor.active
    return SlotRow(sl.id, sl.date, sl.period, PERIOD_LABELS.get(Period(sl.period), sl.period), sl.start_time,
                   sl.end_time, sl.doctor_id, sl.doctor.name, sl.doctor.title, sl.department_id,
                   sl.department.name, sl.capacity, sl.taken, remaining, sl.fee_fen, sl.suspended, bookable)


def payment_mark(s: Session, visit: Visit) -> str:
    """The slip's mark: 亲情付 or 信用就医 for a credit visit, else the channel(s) that paid the fee."""
    if visit.credit:
        return slip_mark(True, visit.family_pay) or ""
    channels = s.execute(select(Payment.channel).where(
        Payment.visit_id == visit.id, Payment.status == "success").order_by(Payment.id)).scalars().all()
    labels = [CHANNEL_LABELS[Channel(c)] for c in dict.fromkeys(channels)]
    if labels:
        return "+".join(labels)
    return "免挂号费" if visit.fee_fen == 0 else "未缴费"


def visit_info(s: Session, v: Visit, *, reprint: bool = False) -> VisitInfo:
    p, dept, doc, sl = v.patient, v.department, v.doctor, v.slot
    place = " ".join(x for x in (dept.location, doc.room if doc else "") if x)
    return VisitInfo(
        id=v.id, visit_no=v.visit_no, patient_id=p.id, patient_name=p.name,
        patient_sex_label=SEX_LABELS.get(Sex(p.sex), ""), patient_age=ids.age_on(p.birth_date, v.visit_date),
        id_type_label=ids.ID_TYPE_LABELS.get(IdType(p.id_type), ""), id_number_masked=ids.mask_id_number(p.id_number),
        department_id=dept.id, department_name=dept.name, location=place, doctor_id=v.doctor_id,
        doctor_name=doc.name if doc else "", doctor_title=doc.title if doc else "", visit_date=v.visit_date,
        period=v.period, period_label=PERIOD_LABELS.get(Period(v.period), "") if v.period else "",
        start_time=sl.start_time if sl else None, end_time=sl.end_time if sl else None, queue_no=v.queue_no,
        fee_fen=v.fee_fen, fee_status=v.fee_status, fee_status_label=FEE_STATUS_LABELS.get(v.fee_status, v.fee_status),
        status=v.status, status_label=STATUS_LABELS.get(v.status, v.status), credit=v.credit,
        family_pay=v.family_pay, mark=payment_mark(s, v), created_at=v.created_at, checked_in_at=v.checked_in_at,
        cancelled_at=v.cancelled_at, cancel_reason=v.cancel_reason, slot_suspended=bool(sl and sl.suspended),
        reprint_count=v.reprint_count, reprint=reprint,
    )
