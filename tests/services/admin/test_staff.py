"""Staff accounts: create with roles, validation at the field, reset, disable, last-admin guard, permissions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from desktop_his.services.admin.staff import StaffForm
from desktop_his.services.container import Services
from desktop_his.services.enums import Role
from desktop_his.services.errors import AuthenticationFailed, Conflict, PermissionDenied, ValidationError
from desktop_his.services.models import AuditRecord, Staff
from tests.helpers import add_staff, admin


def test_create_staff_then_log_in(services: Services) -> None:
    root = admin(services)
    saved = services.staff.create_staff(root, StaffForm("Cashier7", "陈七", [Role.CASHIER, "immunization"],
                                                        password="start1234"))
    assert saved.temporary_password is None
    assert saved.row.username == "cashier7" and saved.row.roles == (Role.CASHIER, Role.IMMUNIZATION)
    assert saved.row.must_change_password
    result = services.auth.login("cashier7", "start1234", workstation="WS")
    assert result.must_change_password and result.actor.roles == {Role.CASHIER, Role.IMMUNIZATION}
    with services.db.reader() as s:
        rec = s.execute(select(AuditRecord).where(AuditRecord.action == "staff.created")).scalar_one()
    assert rec.actor == "root" and "start1234" not in str(rec.detail)


def test_generated_temporary_password_works(services: Services) -> None:
    saved = services.staff.create_staff(admin(services), StaffForm("doc9", "赵九", [Role.DOCTOR]))
    assert saved.temporary_password
    assert services.auth.login("doc9", saved.temporary_password, workstation="WS").must_change_password


@pytest.mark.parametrize("form, field, message", [
    (StaffForm("", "张三", [Role.CASHIER]), "username", "请输入用户名"),
    (StaffForm("1abc", "张三", [Role.CASHIER]), "username", "字母开头"),
    (StaffForm("zhang3", "", [Role.CASHIER]), "full_name", "请输入姓名"),
    (StaffForm("zhang3", "张三", []), "roles", "至少选择一个角色"),
    (StaffForm("zhang3", "张三", [Role.CASHIER], password="short1"), "password", "至少 8 位"),
    (StaffForm("zhang3", "张三", [Role.CASHIER], department_id=999), "department_id", "科室不存在"),
])
def test_bad_input_refused_at_the_field_and_nothing_saved(sqlite_services: Services, form: StaffForm, field: str,
                                                          message: str) -> None:
    services = sqlite_services  # input validation does not depend on the database
    root = admin(services)
    with pytest.raises(ValidationError, match=message) as err:
        services.staff.create_staff(root, form)
    assert err.value.field == field
    assert [r.username for r in services.staff.list_staff(root)] == ["root"]


def test_duplicate_username(services: Services) -> None:
    root = admin(services)
    with pytest.raises(Conflict, match="已被使用") as err:
        services.staff.create_staff(root, StaffForm("ROOT", "重名", [Role.CASHIER]))
    assert err.value.field == "username"


def test_update_roles_and_reset_password_lifts_lockout(services: Services) -> None:
    root = admin(services)
    user = add_staff(services, "cash", Role.CASHIER, password="right123")
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            services.auth.login("cash", "bad", workstation="WS")
    row = services.staff.update_staff(root, user.staff_id, StaffForm("ignored", "陈收费", [Role.FINANCE]))
    assert row.roles == (Role.FINANCE,) and row.full_name == "陈收费" and row.username == "cash"
    temporary = services.staff.reset_password(root, user.staff_id)
    result = services.auth.login("cash", temporary, workstation="WS")
    assert result.must_change_password and result.actor.roles == {Role.FINANCE}


def test_disable_and_enable(services: Services) -> None:
    root = admin(services)
    user = add_staff(services, "cash", Role.CASHIER, password="right123")
    assert not services.staff.set_active(root, user.staff_id, False).active
    with pytest.raises(AuthenticationFailed, match="停用"):
        services.auth.login("cash", "right123", workstation="WS")
    services.staff.set_active(root, user.staff_id, True)
    services.auth.login("cash", "right123", workstation="WS")


def test_cannot_lock_out_the_last_admin_or_yourself(services: Services) -> None:
    root = admin(services)
    with pytest.raises(Conflict, match="当前登录"):
        services.staff.set_active(root, root.staff_id, False)
    with pytest.raises(Conflict, match="当前登录"):
        services.staff.update_staff(root, root.staff_id, StaffForm("root", "管理员", [Role.CASHIER]))
    other = add_staff(services, "second", Role.ADMIN)
    services.staff.set_active(root, other.staff_id, False)  # root remains
    with services.db.session() as s:  # root now the only active admin; a different admin actor tries
        s.execute(select(Staff).where(Staff.id == other.staff_id)).scalar_one().active = True
    services.staff.set_active(other, root.staff_id, False)
    with pytest.raises(Conflict, match="最后一个"):
        services.staff.update_staff(root.__class__(None, "cli", "命令行", frozenset({Role.ADMIN}), "WS"),
                                    other.staff_id, StaffForm("second", "管理员", [Role.CASHIER]))


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
def test_only_admins_manage_staff(sqlite_services: Services, role: Role) -> None:
    services = sqlite_services  # input validation does not depend on the database
    actor = add_staff(services, "someone", role)
    with pytest.raises(PermissionDenied, match="人员与角色管理"):
        services.staff.list_staff(actor)
    with pytest.raises(PermissionDenied):
        services.staff.create_staff(actor, StaffForm("evil", "坏人", [Role.ADMIN], password="evil12345"))
    with services.db.reader() as s:
        assert s.execute(select(Staff).where(Staff.username == "evil")).first() is None
