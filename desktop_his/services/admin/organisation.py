"""Departments and doctors (administration). Reads are open to every signed-in workstation; writes need
``admin.departments`` / ``admin.doctors``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop_his.services import audit, live, money, pinyin
from desktop_his.services.admin import common
from desktop_his.services.clock import Clock
from desktop_his.services.db import Database
from desktop_his.services.enums import DepartmentKind, Role, Sex
from desktop_his.services.errors import Conflict, NotFound, ValidationError
from desktop_his.services.ids import normalize_name
from desktop_his.services.models import Department, Doctor, Staff, StaffRole
from desktop_his.services.permissions import Action, Actor, require

DEPARTMENTS_TOPIC = "departments"
DOCTORS_TOPIC = "doctors"
DOCTOR_TITLES = ("主任医师", "副主任医师", "主治医师", "医师")
DEPARTMENT_KIND_LABELS = {
    DepartmentKind.CLINICAL: "门诊科室", DepartmentKind.PHARMACY: "药房", DepartmentKind.LAB: "检验",
    DepartmentKind.IMAGING: "影像", DepartmentKind.TREATMENT: "治疗", DepartmentKind.VACCINATION: "预防接种",
    DepartmentKind.WARD: "病区", DepartmentKind.ADMINISTRATIVE: "行政/窗口",
}


@dataclass(frozen=True)
class DepartmentRow:
    id: int
    code: str
    name: str
    pinyin: str
    kind: str
    location: str
    phone: str
    sex_restriction: str | None
    min_age: int | None
    max_age: int | None
    active: bool
    sort_order: int


@dataclass
class DepartmentForm:
    code: str
    name: str
    kind: str = DepartmentKind.CLINICAL
    pinyin: str = ""  # empty: the name's initials
    location: str = ""
    phone: str = ""
    sex_restriction: str | None = None
    min_age: int | None = None
    max_age: int | None = None
    sort_order: int = 0
    active: bool = True


@dataclass(frozen=True)
class DoctorRow:
    id: int
    department_id: int
    department_name: str
    name: str
    pinyin: str
    title: str
    room: str
    registration_fee_fen: int
    staff_id: int | None
    staff_username: str
    active: bool


@dataclass
class DoctorForm:
    department_id: int | None
    name: str
    title: str = "医师"
    room: str = ""
    fee_yuan: str = "0"  # as typed; parsed to fen by the service
    staff_id: int | None = None
    pinyin: str = ""
    active: bool = True


class OrganisationService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    # ------------------------------------------------------------------------------------- departments

    def list_departments(self, *, kinds: tuple[str, ...] = (), active_only: bool = False) -> list[DepartmentRow]:
        query = select(Department).order_by(Department.sort_order, Department.code)
        if kinds:
            query = query.where(Department.kind.in_(kinds))
        if active_only:
            query = query.where(Department.active.is_(True))
        with self.db.reader() as s:
            return [_department_row(d) for d in s.execute(query).scalars()]

    def create_department(self, actor: Actor, form: DepartmentForm) -> DepartmentRow:
        return self._save_department(actor, None, form)

    def update_department(self, actor: Actor, department_id: int, form: DepartmentForm) -> DepartmentRow:
        return self._save_department(actor, department_id, form)

    def _save_department(self, actor: Actor, department_id: int | None, form: DepartmentForm) -> DepartmentRow:
        require(actor, Action.DEPARTMENT_MANAGE)
        values = _department_values(form)
        now = self.clock.now()
        with common.unique_guard("科室编码或名称已存在", field="name"), self.db.session() as s:
            _department_unique(s, department_id, values["code"], values["name"])
            if department_id is None:
                dept = Department(**values)
                s.add(dept)
            else:
                dept = s.get(Department, department_id)
                if dept is None:
                    raise NotFound("该科室不存在（可能已被他人删除），请刷新")
                for key, value in values.items():
                    setattr(dept, key, value)
            s.flush()
            audit.append(s, actor=actor, action="department.created" if department_id is None
                         else "department.updated", at=now, entity="department", entity_id=dept.id,
                         detail={k: v for k, v in values.items() if k != "pinyin"})
            live.publish(s, DEPARTMENTS_TOPIC)
            return _department_row(dept)

    # ----------------------------------------------------------------------------------------- doctors

    def list_doctors(self, *, department_id: int | None = None, active_only: bool = False) -> list[DoctorRow]:
        query = select(Doctor).join(Department).order_by(Department.sort_order, Department.code, Doctor.name)
        if department_id is not None:
            query = query.where(Doctor.department_id == department_id)
        if active_only:
            query = query.where(Doctor.active.is_(True))
        with self.db.reader() as s:
            return [_doctor_row(s, d) for d in s.execute(query).scalars()]

    def create_doctor(self, actor: Actor, form: DoctorForm) -> DoctorRow:
        return self._save_doctor(actor, None, form)

    def update_doctor(self, actor: Actor, doctor_id: int, form: DoctorForm) -> DoctorRow:
        return self._save_doctor(actor, doctor_id, form)

    def _save_doctor(self, actor: Actor, doctor_id: int | None, form: DoctorForm) -> DoctorRow:
        require(actor, Action.DOCTOR_MANAGE)
        if form.department_id is None:
            raise ValidationError("请选择科室", field="department_id")
        name = normalize_name(form.name, field="name")
        values = {
            "department_id": form.department_id, "name": name,
            "pinyin": (form.pinyin or "").strip().lower() or pinyin.initials(name),
            "title": common.text(form.title, field="title", label="职称", max_len=30),
            "room": common.text(form.room, field="room", label="诊室", required=False),
            "registration_fee_fen": money.parse_yuan(form.fee_yuan, field="fee"),
            "staff_id": form.staff_id, "active": bool(form.active),
        }
        now = self.clock.now()
        with common.unique_guard("该登录账号已关联其他医生", field="staff_id"), self.db.session() as s:
            dept = s.get(Department, form.department_id)
            if dept is None:
                raise ValidationError("所选科室不存在，请刷新后重选", field="department_id")
            if dept.kind not in (DepartmentKind.CLINICAL, DepartmentKind.VACCINATION):
                raise ValidationError(f"“{dept.name}”不是门诊科室，不能安排医生出诊", field="department_id")
            _check_staff_link(s, doctor_id, form.staff_id)
            if doctor_id is None:
                doctor = Doctor(**values)
                s.add(doctor)
            else:
                doctor = s.get(Doctor, doctor_id)
                if doctor is None:
                    raise NotFound("该医生不存在（可能已被他人删除），请刷新")
                for key, value in values.items():
                    setattr(doctor, key, value)
            s.flush()
            audit.append(s, actor=actor, action="doctor.created" if doctor_id is None else "doctor.updated",
                         at=now, entity="doctor", entity_id=doctor.id,
                         detail={k: v for k, v in values.items() if k != "pinyin"})
            live.publish(s, DOCTORS_TOPIC)
            return _doctor_row(s, doctor)

    def linkable_staff(self, *, doctor_id: int | None = None) -> list[tuple[int, str]]:
        """Active staff with the doctor role not yet linked to another doctor: ``(id, "姓名（用户名）")``."""
        with self.db.reader() as s:
            taken = select(Doctor.staff_id).where(Doctor.staff_id.is_not(None))
            if doctor_id is not None:
                taken = taken.where(Doctor.id != doctor_id)
            rows = s.execute(
                select(Staff.id, Staff.full_name, Staff.username).join(StaffRole)
                .where(StaffRole.role == Role.DOCTOR, Staff.active.is_(True), Staff.id.not_in(taken))
                .order_by(Staff.username)
            ).all()
            return [(sid, f"{name}（{username}）") for sid, name, username in rows]


def _department_values(form: DepartmentForm) -> dict:
    name = common.text(form.name, field="name", label="科室名称")
    try:
        kind = DepartmentKind(form.kind)
    except ValueError as exc:
        raise ValidationError("请选择科室类别", field="kind") from exc
    sex = form.sex_restriction or None
    if sex is not None and sex not in (Sex.MALE, Sex.FEMALE):
        raise ValidationError("性别限制无效", field="sex_restriction")
    min_age = common.int_range(form.min_age, field="min_age", label="最小年龄", low=0, high=150, optional=True)
    max_age = common.int_range(form.max_age, field="max_age", label="最大年龄", low=0, high=150, optional=True)
    if min_age is not None and max_age is not None and min_age > max_age:
        raise ValidationError("最小年龄不能大于最大年龄", field="max_age")
    return {
        "code": common.code(form.code, label="科室编码"), "name": name,
        "pinyin": (form.pinyin or "").strip().lower() or pinyin.initials(name), "kind": str(kind),
        "location": common.text(form.location, field="location", label="位置", required=False, max_len=100),
        "phone": common.text(form.phone, field="phone", label="电话", required=False, max_len=30),
        "sex_restriction": sex, "min_age": min_age, "max_age": max_age,
        "sort_order": int(form.sort_order or 0), "active": bool(form.active),
    }


def _department_unique(s: Session, department_id: int | None, code: str, name: str) -> None:
    def clash(column, value) -> bool:  # noqa: ANN001
        query = select(Department.id).where(column == value)
        if department_id is not None:
            query = query.where(Department.id != department_id)
        return s.execute(query).first() is not None

    if clash(Department.name, name):
        raise Conflict(f"科室“{name}”已存在", field="name")
    if clash(func.upper(Department.code), code):
        raise Conflict(f"科室编码“{code}”已被使用", field="code")


def _check_staff_link(s: Session, doctor_id: int | None, staff_id: int | None) -> None:
    if staff_id is None:
        return
    staff = s.get(Staff, staff_id)
    if staff is None:
        raise ValidationError("所选登录账号不存在，请刷新后重选", field="staff_id")
    if not any(r.role == Role.DOCTOR for r in staff.roles):
        raise ValidationError(f"账号“{staff.username}”没有门诊医生角色", field="staff_id")
    other = s.execute(select(Doctor.name).where(Doctor.staff_id == staff_id, Doctor.id != (doctor_id or -1))
                      ).scalar_one_or_none()
    if other is not None:
        raise Conflict(f"账号“{staff.username}”已关联医生“{other}”", field="staff_id")


def _department_row(d: Department) -> DepartmentRow:
    return DepartmentRow(d.id, d.code, d.name, d.pinyin, d.kind, d.location, d.phone, d.sex_restriction,
                         d.min_age, d.max_age, d.active, d.sort_order)


def _doctor_row(s: Session, d: Doctor) -> DoctorRow:
    dept = s.get(Department, d.department_id)
    staff = s.get(Staff, d.staff_id) if d.staff_id else None
    return DoctorRow(d.id, d.department_id, dept.name if dept else "", d.name, d.pinyin, d.title, d.room,
                     d.registration_fee_fen, d.staff_id, staff.username if staff else "", d.active)
