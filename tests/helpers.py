"""Shared test helpers: staff accounts and actors without going through the UI."""

from __future__ import annotations

from desktop_his.services.container import Services
from desktop_his.services.enums import Role
from desktop_his.services.models import Staff, StaffRole
from desktop_his.services.permissions import Actor


def add_staff(services: Services, username: str, *roles: Role, password: str = "secret123",
              full_name: str = "测试员", active: bool = True, must_change: bool = False,
              department_id: int | None = None) -> Actor:
    """Insert a staff row directly and return the matching actor (as a login would build it)."""
    with services.db.session() as s:
        staff = Staff(username=username, full_name=full_name, password_hash=services.auth.hash_password(password),
                      created_at=services.clock.now(), active=active, must_change_password=must_change,
                      department_id=department_id)
        staff.roles = [StaffRole(role=str(r)) for r in roles]
        s.add(staff)
        s.flush()
        staff_id = staff.id
    return Actor(staff_id, username, full_name, frozenset(roles), services.settings.workstation,
                 department_id=department_id)


def admin(services: Services, username: str = "root") -> Actor:
    return add_staff(services, username, Role.ADMIN, full_name="管理员")
