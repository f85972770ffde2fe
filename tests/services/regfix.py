"""Builders for the registration-window tests: departments, doctors, slots, patients, actors.

Each builder adds one row with sensible defaults (override any column by keyword) and flushes.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, time

from sqlalchemy.orm import Session

from desktop_his.services import pinyin
from desktop_his.services.enums import DepartmentKind, IdType, Period, Role, Sex
from desktop_his.services.ids import resident_check_char
from desktop_his.services.models import Department, Doctor, Patient, Slot, Staff, Visit
from desktop_his.services.permissions import Actor

AT = datetime(2026, 11, 23, 8, 0)
_seq = itertools.count(1)
HOURS = {Period.MORNING: (time(8), time(12)), Period.AFTERNOON: (time(14), time(17, 30)),
         Period.EVENING: (time(18), time(21))}


def resident_id(birth: date, sex: str = Sex.MALE, serial: int | None = None) -> str:
    serial = next(_seq) if serial is None else serial
    sequence = (serial % 500) * 2 + (1 if sex == Sex.MALE else 0)
    first17 = f"{510100 + serial // 500:06d}{birth:%Y%m%d}{sequence:03d}"
    return first17 + resident_check_char(first17)


def department(s: Session, name: str = "内科", **kw) -> Department:
    n = next(_seq)
    values = {"code": f"D{n:04d}", "name": name, "pinyin": pinyin.initials(name),
              "kind": DepartmentKind.CLINICAL.value, "location": f"门诊楼{n % 5 + 1}楼", **kw}
    dept = Department(**values)
    s.add(dept)
    s.flush()
    return dept


def doctor(s: Session, dept: Department, name: str | None = None, **kw) -> Doctor:
    n = next(_seq)
    name = name or f"医生{n}"
    doc = Doctor(department_id=dept.id, name=name, pinyin=pinyin.initials(name), title=kw.pop("title", "主治医师"),
                 room=kw.pop("room", f"{n % 20 + 1}诊室"), registration_fee_fen=kw.pop("fee", 1000), **kw)
    s.add(doc)
    s.flush()
    return doc


def slot(s: Session, doc: Doctor, day: date, period: str = Period.MORNING, *, capacity: int = 30,
         fee_fen: int = 1000, **kw) -> Slot:
    start, end = HOURS[Period(period)]
    sl = Slot(doctor_id=doc.id, department_id=doc.department_id, date=day, period=str(period), start_time=start,
              end_time=end, capacity=capacity, taken=kw.pop("taken", 0), next_queue_no=kw.pop("next_queue_no", 1),
              fee_fen=fee_fen, **kw)
    s.add(sl)
    s.flush()
    return sl


def patient(s: Session, name: str = "张伟", *, birth: date = date(1985, 3, 12), sex: str = Sex.MALE,
            **kw) -> Patient:
    values = {"name": name, "pinyin": pinyin.initials(name), "id_type": IdType.RESIDENT.value,
              "id_number": kw.pop("id_number", None) or resident_id(birth, sex), "sex": str(sex),
              "birth_date": birth, "phone": kw.pop("phone", f"139{next(_seq):08d}"), "created_at": AT, **kw}
    p = Patient(**values)
    s.add(p)
    s.flush()
    return p


def staff(s: Session, username: str | None = None) -> Staff:
    n = next(_seq)
    st = Staff(username=username or f"user{n}", full_name=f"员工{n}", password_hash="x", created_at=AT)
    s.add(st)
    s.flush()
    return st


def actor(*roles: Role, staff_id: int | None = None, workstation: str = "win-01") -> Actor:
    roles = roles or (Role.CASHIER,)
    return Actor(staff_id, f"u-{'-'.join(roles)}", "测试员", frozenset(roles), workstation)


def cashier(s: Session | None = None, workstation: str = "win-01") -> Actor:
    staff_id = staff(s).id if s is not None else None
    return actor(Role.CASHIER, staff_id=staff_id, workstation=workstation)


def visit(s: Session, p: Patient, sl: Slot, *, status: str = "registered", created_at: datetime = AT,
          **kw) -> Visit:
    """A registration row as the service would have written it (bypassing the rules)."""
    n = next(_seq)
    v = Visit(visit_no=kw.pop("visit_no", f"V{sl.date:%Y%m%d}{n:06d}"), patient_id=p.id, slot_id=sl.id,
              department_id=sl.department_id, doctor_id=sl.doctor_id, visit_date=sl.date, period=sl.period,
              queue_no=kw.pop("queue_no", sl.next_queue_no), status=status, fee_fen=kw.pop("fee_fen", sl.fee_fen),
              fee_status=kw.pop("fee_status", "paid"), created_at=created_at, **kw)
    if status != "cancelled":
        sl.taken += 1
    sl.next_queue_no += 1
    s.add(v)
    s.flush()
    return v
