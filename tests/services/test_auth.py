"""Staff login: argon2id, rehash on parameter change, lock-out, disabled accounts, screen lock/unlock, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from desktop_his.services import audit
from desktop_his.services.auth import (
    MAX_FAILED_LOGINS,
    AuthService,
    check_password_policy,
    default_hasher,
    generate_temporary_password,
)
from desktop_his.services.container import Services
from desktop_his.services.enums import Role
from desktop_his.services.errors import AuthenticationFailed, ValidationError
from desktop_his.services.models import AuditRecord, Department, Doctor, Staff
from tests.helpers import add_staff


def audit_actions(services: Services) -> list[str]:
    with services.db.reader() as s:
        return list(s.execute(select(AuditRecord.action).order_by(AuditRecord.seq)).scalars())


def staff_row(services: Services, username: str) -> Staff:
    with services.db.reader() as s:
        return s.execute(select(Staff).where(Staff.username == username)).scalar_one()


def test_login_returns_actor_with_roles_doctor_and_department(services: Services) -> None:
    with services.db.session() as s:
        dept = Department(code="NK", name="内科", pinyin="nk")
        s.add(dept)
        s.flush()
        dept_id = dept.id
    actor = add_staff(services, "doc", Role.DOCTOR, Role.CASHIER, password="right123", full_name="王医生")
    with services.db.session() as s:
        s.add(Doctor(department_id=dept_id, name="王医生", pinyin="wys", staff_id=actor.staff_id))
    result = services.auth.login(" DOC ", "right123", workstation="WIN-7")
    assert result.actor.roles == {Role.DOCTOR, Role.CASHIER}
    assert result.actor.doctor_id is not None and result.actor.department_id == dept_id
    assert result.actor.workstation == "WIN-7" and result.actor.display_name == "王医生"
    assert not result.must_change_password
    assert audit_actions(services) == ["auth.login"]
    assert staff_row(services, "doc").last_login_at == services.clock.now()


def test_wrong_password_and_unknown_user_get_the_same_message_and_are_audited(services: Services) -> None:
    add_staff(services, "cashier1", Role.CASHIER, password="right123")
    with pytest.raises(AuthenticationFailed) as wrong:
        services.auth.login("cashier1", "wrong123", workstation="WS")
    with pytest.raises(AuthenticationFailed) as unknown:
        services.auth.login("nobody", "wrong123", workstation="WS")
    assert wrong.value.message.startswith("用户名或密码错误") and wrong.value.field == "password"
    assert unknown.value.message == "用户名或密码错误"
    assert "再错 4 次" in wrong.value.message
    assert audit_actions(services) == ["auth.login_failed", "auth.login_failed"]
    assert staff_row(services, "cashier1").failed_logins == 1
    with services.db.reader() as s:
        last = s.execute(select(AuditRecord).order_by(AuditRecord.seq.desc())).scalars().first()
    assert last.actor == "nobody" and last.detail == {"reason": "unknown_user"}


def test_lockout_after_five_failures_for_fifteen_minutes(services: Services) -> None:
    add_staff(services, "nurse1", Role.IMMUNIZATION, password="right123")
    for _ in range(MAX_FAILED_LOGINS - 1):
        with pytest.raises(AuthenticationFailed):
            services.auth.login("nurse1", "bad", workstation="WS")
    with pytest.raises(AuthenticationFailed) as fifth:
        services.auth.login("nurse1", "bad", workstation="WS")
    assert fifth.value.code == "locked_out" and "连续 5 次密码错误" in fifth.value.message
    assert "09:15" in fifth.value.message
    # Even the right password is refused while locked.
    services.clock.advance(timedelta(minutes=14))
    with pytest.raises(AuthenticationFailed, match="账号已锁定"):
        services.auth.login("nurse1", "right123", workstation="WS")
    services.clock.advance(timedelta(minutes=1, seconds=1))
    assert services.auth.login("nurse1", "right123", workstation="WS").actor.username == "nurse1"
    actions = audit_actions(services)
    assert actions.count("auth.locked_out") == 1 and actions[-1] == "auth.login"
    assert staff_row(services, "nurse1").failed_logins == 0


def test_disabled_account_refused_only_with_the_right_password(services: Services) -> None:
    add_staff(services, "old", Role.CASHIER, password="right123", active=False)
    with pytest.raises(AuthenticationFailed) as wrong:
        services.auth.login("old", "nope1234", workstation="WS")
    assert "停用" not in wrong.value.message
    with pytest.raises(AuthenticationFailed, match="该账号已停用") as right:
        services.auth.login("old", "right123", workstation="WS")
    assert right.value.code == "disabled"


def test_rehash_on_login_when_parameters_change(services: Services) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    with services.db.session() as s:
        staff = Staff(username="fin", full_name="钱", password_hash=weak.hash("right123"),
                      created_at=services.clock.now())
        s.add(staff)
    auth = AuthService(services.db, services.clock, hasher=stronger)
    auth.login("fin", "right123", workstation="WS")
    stored = staff_row(services, "fin").password_hash
    assert "t=2" in stored and not stronger.check_needs_rehash(stored)
    auth.login("fin", "right123", workstation="WS")
    assert staff_row(services, "fin").password_hash == stored  # no needless second rehash
    with services.db.reader() as s:
        details = [r.detail for r in s.execute(select(AuditRecord).where(AuditRecord.action == "auth.login")
                                                .order_by(AuditRecord.seq)).scalars()]
    assert [d["rehashed"] for d in details] == [True, False]


def test_production_parameters_are_argon2id() -> None:
    hasher = default_hasher()
    assert hasher.type.name == "ID" and hasher.time_cost >= 3 and hasher.memory_cost >= 64 * 1024


def test_must_change_password_then_change(services: Services) -> None:
    add_staff(services, "newbie", Role.CASHIER, password="temp1234", must_change=True)
    result = services.auth.login("newbie", "temp1234", workstation="WS")
    assert result.must_change_password
    with pytest.raises(AuthenticationFailed, match="原密码不正确"):
        services.auth.change_password(result.actor, "wrong123", "better123")
    with pytest.raises(ValidationError, match="字母和数字") as weak:
        services.auth.change_password(result.actor, "temp1234", "abcdefgh")
    assert weak.value.field == "new_password"
    services.auth.change_password(result.actor, "temp1234", "better123")
    again = services.auth.login("newbie", "better123", workstation="WS")
    assert not again.must_change_password
    assert "auth.password_changed" in audit_actions(services)


def test_screen_lock_unlock_and_logout_are_audited(services: Services) -> None:
    add_staff(services, "adm", Role.ADMIN, password="right123")
    actor = services.auth.login("adm", "right123", workstation="WS").actor
    services.auth.record_screen_lock(actor)
    with pytest.raises(AuthenticationFailed):
        services.auth.unlock(actor, "wrong123")
    services.auth.unlock(actor, "right123")
    services.auth.logout(actor)
    assert audit_actions(services) == ["auth.login", "auth.screen_locked", "auth.unlock_failed",
                                       "auth.screen_unlocked", "auth.logout"]
    with services.db.reader() as s:
        assert audit.verify(s).ok


def test_failed_unlocks_count_toward_lockout(services: Services) -> None:
    add_staff(services, "adm", Role.ADMIN, password="right123")
    actor = services.auth.login("adm", "right123", workstation="WS").actor
    for _ in range(MAX_FAILED_LOGINS):
        with pytest.raises(AuthenticationFailed) as err:
            services.auth.unlock(actor, "wrong123")
    assert err.value.code == "locked_out"
    with pytest.raises(AuthenticationFailed, match="账号已锁定"):
        services.auth.unlock(actor, "right123")


@pytest.mark.parametrize("password, message", [
    ("", "请输入密码"), ("abc12", "至少 8 位"), ("abcdefgh", "字母和数字"), ("12345678", "字母和数字"),
    (" abc12345", "首尾"),
])
def test_password_policy(password: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        check_password_policy(password)


def test_temporary_passwords_pass_the_policy() -> None:
    for _ in range(50):
        check_password_policy(generate_temporary_password())


def test_any_staff(services: Services) -> None:
    assert not services.auth.any_staff()
    add_staff(services, "adm", Role.ADMIN)
    assert services.auth.any_staff()
