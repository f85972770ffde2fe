"""Staff accounts and their roles (administration)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop_his.services import audit, live
from desktop_his.services.admin import common
from desktop_his.services.auth import AuthService, check_password_policy, generate_temporary_password
from desktop_his.services.clock import Clock
from desktop_his.services.db import Database
from desktop_his.services.enums import ROLE_LABELS, Role
from desktop_his.services.errors import Conflict, NotFound, ValidationError
from desktop_his.services.ids import normalize_name
from desktop_his.services.models import Department, Doctor, Staff, StaffRole
from desktop_his.services.permissions import Action, Actor, require

TOPIC = "staff"
_USERNAME = re.compile(r"[a-z][a-z0-9_.]{2,39}")


@dataclass(frozen=True)
class StaffRow:
    id: int
    username: str
    full_name: str
    roles: tuple[Role, ...]
    department_id: int | None
    department_name: str
    active: bool
    must_change_password: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    doctor_id: int | None = None

    @property
    def role_labels(self) -> str:
        return "、".join(ROLE_LABELS[r] for r in self.roles)


@dataclass
class StaffForm:
    username: str
    full_name: str
    roles: Iterable[Role | str] = field(default_factory=tuple)
    department_id: int | None = None
    password: str = ""  # new accounts only; empty = generate a temporary one
    must_change_password: bool = True


@dataclass(frozen=True)
class StaffSaved:
    row: StaffRow
    temporary_password: str | None = None  # shown once when the system generated it


class StaffService:
    def __init__(self, db: Database, clock: Clock, auth: AuthService) -> None:
        self.db = db
        self.clock = clock
        self.auth = auth

    # ------------------------------------------------------------------------------------------- reads

    def list_staff(self, actor: Actor) -> list[StaffRow]:
        require(actor, Action.STAFF_MANAGE)
        with self.db.reader() as s:
            staff = s.execute(select(Staff).order_by(Staff.username)).scalars().all()
            return [_row(s, st) for st in staff]

    def get(self, actor: Actor, staff_id: int) -> StaffRow:
        require(actor, Action.STAFF_MANAGE)
        with self.db.reader() as s:
            return _row(s, _load(s, staff_id))

    # ------------------------------------------------------------------------------------------ writes

    def create_staff(self, actor: Actor, form: StaffForm) -> StaffSaved:
        require(actor, Action.STAFF_MANAGE)
        username = _username(form.username)
        full_name = normalize_name(form.full_name, field="full_name")
        roles = _roles(form.roles)
        temporary = None
        if form.password:
            password = check_password_policy(form.password, field="password")
        else:
            password = temporary = generate_temporary_password()
        password_hash = self.auth.hash_password(password)  # slow: outside the transaction
        now = self.clock.now()
        with common.unique_guard(f"用户名“{username}”已被使用", field="username"), self.db.session() as s:
            if s.execute(select(Staff.id).where(Staff.username == username)).first():
                raise Conflict(f"用户名“{username}”已被使用", field="username")
            _check_department(s, form.department_id)
            staff = Staff(username=username, full_name=full_name, password_hash=password_hash,
                          department_id=form.department_id, created_at=now,
                          must_change_password=bool(form.must_change_password or temporary))
            staff.roles = [StaffRole(role=str(r)) for r in roles]
            s.add(staff)
            s.flush()
            audit.append(s, actor=actor, action="staff.created", at=now, entity="staff", entity_id=staff.id,
                         detail={"username": username, "roles": [str(r) for r in roles]})
            live.publish(s, TOPIC)
            return StaffSaved(_row(s, staff), temporary)

    def update_staff(self, actor: Actor, staff_id: int, form: StaffForm) -> StaffRow:
        """Name, roles and department (the user name never changes: it is in the audit trail)."""
        require(actor, Action.STAFF_MANAGE)
        full_name = normalize_name(form.full_name, field="full_name")
        roles = _roles(form.roles)
        now = self.clock.now()
        with self.db.session() as s:
            staff = _load(s, staff_id)
            _check_department(s, form.department_id)
            before = sorted(r.role for r in staff.roles)
            if Role.ADMIN in before and Role.ADMIN not in roles:
                _guard_last_admin(s, actor, staff, "取消管理员角色")
            staff.full_name = full_name
            staff.department_id = form.department_id
            keep = {str(r) for r in roles}
            staff.roles = [r for r in staff.roles if r.role in keep] + [
                StaffRole(role=r) for r in sorted(keep - set(before))]
            audit.append(s, actor=actor, action="staff.updated", at=now, entity="staff", entity_id=staff.id,
                         detail={"roles_before": before, "roles_after": sorted(keep), "full_name": full_name})
            live.publish(s, TOPIC)
            s.flush()
            return _row(s, staff)

    def reset_password(self, actor: Actor, staff_id: int, new_password: str | None = None) -> str:
        """Set a new password (generated when none is given); the owner must change it at next login.
        Also lifts a lock-out."""
        require(actor, Action.STAFF_MANAGE)
        password = (check_password_policy(new_password, field="password") if new_password
                    else generate_temporary_password())
        password_hash = self.auth.hash_password(password)
        now = self.clock.now()
        with self.db.session() as s:
            staff = _load(s, staff_id)
            staff.password_hash = password_hash
            staff.must_change_password = True
            staff.failed_logins = 0
            staff.locked_until = None
            audit.append(s, actor=actor, action="staff.password_reset", at=now, entity="staff",
                         entity_id=staff.id, detail={"username": staff.username})
            live.publish(s, TOPIC)
        return password

    def set_password(self, actor: Actor, staff_id: int, password: str, *, must_change: bool) -> None:
        """An administrator sets a known password (the CLI's ``staff passwd``)."""
        require(actor, Action.STAFF_MANAGE)
        password_hash = self.auth.hash_password(check_password_policy(password, field="password"))
        with self.db.session() as s:
            staff = _load(s, staff_id)
            staff.password_hash = password_hash
            staff.must_change_password = must_change
            staff.failed_logins = 0
            staff.locked_until = None
            audit.append(s, actor=actor, action="staff.password_set", at=self.clock.now(), entity="staff",
                         entity_id=staff.id, detail={"username": staff.username, "must_change": must_change})

    def set_active(self, actor: Actor, staff_id: int, active: bool) -> StaffRow:
        require(actor, Action.STAFF_MANAGE)
        now = self.clock.now()
        with self.db.session() as s:
            staff = _load(s, staff_id)
            if not active:
                if staff.id == actor.staff_id:
                    raise Conflict("不能停用当前登录的账号")
                if any(r.role == Role.ADMIN for r in staff.roles):
                    _guard_last_admin(s, actor, staff, "停用")
            staff.active = active
            audit.append(s, actor=actor, action="staff.enabled" if active else "staff.disabled", at=now,
                         entity="staff", entity_id=staff.id, detail={"username": staff.username})
            live.publish(s, TOPIC)
            s.flush()
            return _row(s, staff)

    def find_by_username(self, actor: Actor, username: str) -> StaffRow:
        require(actor, Action.STAFF_MANAGE)
        with self.db.reader() as s:
            staff = s.execute(select(Staff).where(Staff.username == username.strip().lower())).scalar_one_or_none()
            if staff is None:
                raise NotFound(f"没有用户名为“{username}”的账号", field="username")
            return _row(s, staff)


def _username(value: str) -> str:
    username = (value or "").strip().lower()
    if not username:
        raise ValidationError("请输入用户名", field="username")
    if not _USERNAME.fullmatch(username):
        raise ValidationError("用户名须以字母开头，由 3–40 位小写字母、数字、_ 或 . 组成", field="username")
    return username


def _roles(values: Iterable[Role | str]) -> list[Role]:
    try:
        roles = sorted({Role(str(v)) for v in values})
    except ValueError as exc:
        raise ValidationError("角色无效", field="roles") from exc
    if not roles:
        raise ValidationError("请至少选择一个角色", field="roles")
    return roles


def _load(s: Session, staff_id: int) -> Staff:
    staff = s.get(Staff, staff_id)
    if staff is None:
        raise NotFound("该人员账号不存在（可能已被他人删除），请刷新")
    return staff


def _check_department(s: Session, department_id: int | None) -> None:
    if department_id is not None and s.get(Department, department_id) is None:
        raise ValidationError("所选科室不存在，请刷新后重选", field="department_id")


def _guard_last_admin(s: Session, actor: Actor, staff: Staff, what: str) -> None:
    if staff.id == actor.staff_id:
        raise Conflict(f"不能对当前登录的管理员账号{what}", field="roles")
    others = s.execute(
        select(Staff.id).join(StaffRole).where(StaffRole.role == Role.ADMIN, Staff.active.is_(True),
                                               Staff.id != staff.id).limit(1)
    ).first()
    if others is None:
        raise Conflict(f"这是最后一个有效的管理员账号，不能{what}", field="roles")


def _row(s: Session, staff: Staff) -> StaffRow:
    department = s.get(Department, staff.department_id) if staff.department_id else None
    doctor_id = s.execute(select(Doctor.id).where(Doctor.staff_id == staff.id)).scalar_one_or_none()
    return StaffRow(
        id=staff.id, username=staff.username, full_name=staff.full_name,
        roles=tuple(sorted(Role(r.role) for r in staff.roles)), department_id=staff.department_id,
        department_name=department.name if department else "", active=staff.active,
        must_change_password=staff.must_change_password, locked_until=staff.locked_until,
        last_login_at=staff.last_login_at, doctor_id=doctor_id,
    )
