"""Staff login: argon2id passwords, lock-out after repeated failures, screen lock/unlock, audit of each step.

Passwords are hashed with argon2id (``argon2-cffi``) using the parameters below; a stored hash made with other
parameters is re-hashed on the next successful login (``check_needs_rehash``), so raising the cost later
upgrades every account as its owner signs in. Every login, failed login, lock-out, screen lock, unlock and
logout is appended to the audit chain.
"""

from __future__ import annotations

import re
import secrets as pysecrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update

from desktop_his.services import audit
from desktop_his.services.clock import Clock
from desktop_his.services.db import Database
from desktop_his.services.enums import Role
from desktop_his.services.errors import AuthenticationFailed, ValidationError
from desktop_his.services.models import Doctor, Staff
from desktop_his.services.permissions import Actor

# argon2id cost (RFC 9106 "low memory" recommendation; ~0.15 s per hash on a 2-core office PC).
TIME_COST = 3
MEMORY_COST_KIB = 64 * 1024
PARALLELISM = 4
HASH_LEN = 32
SALT_LEN = 16

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LEN = 8

GENERIC_FAILURE = "用户名或密码错误"


def default_hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM,
                          hash_len=HASH_LEN, salt_len=SALT_LEN)


def check_password_policy(password: str, *, field: str = "password") -> str:
    """At least 8 characters with a letter and a digit; no leading/trailing spaces."""
    if not password:
        raise ValidationError("请输入密码", field=field)
    if password != password.strip():
        raise ValidationError("密码首尾不能有空格", field=field)
    if len(password) < MIN_PASSWORD_LEN:
        raise ValidationError(f"密码至少 {MIN_PASSWORD_LEN} 位", field=field)
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        raise ValidationError("密码须同时包含字母和数字", field=field)
    return password


def generate_temporary_password() -> str:
    """A readable one-time password (letters and digits, no 0/O/1/l look-alikes) for a reset."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    while True:
        pw = "".join(pysecrets.choice(alphabet) for _ in range(10))
        if re.search(r"[A-Za-z]", pw) and re.search(r"\d", pw):
            return pw


@dataclass(frozen=True)
class LoginResult:
    actor: Actor
    must_change_password: bool


class AuthService:
    """Login, screen unlock, logout and password changes for staff accounts."""

    def __init__(self, db: Database, clock: Clock, *, hasher: PasswordHasher | None = None,
                 max_failed: int = MAX_FAILED_LOGINS, lockout: timedelta = LOCKOUT) -> None:
        self.db = db
        self.clock = clock
        self.hasher = hasher or default_hasher()
        self.max_failed = max_failed
        self.lockout = lockout
        self._dummy: str | None = None

    @property
    def _dummy_hash(self) -> str:
        """Verified against when the user name is unknown, so a miss costs as long as a wrong password."""
        if self._dummy is None:
            self._dummy = self.hasher.hash(pysecrets.token_hex(16))
        return self._dummy

    # ------------------------------------------------------------------------------------------ hashing

    def hash_password(self, password: str) -> str:
        return self.hasher.hash(password)

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    # -------------------------------------------------------------------------------------------- login

    def login(self, username: str, password: str, *, workstation: str) -> LoginResult:
        """Check the password; return the signed-in actor or raise AuthenticationFailed (Chinese message).

        A failed attempt is recorded (and audited) even though the call raises.
        """
        username = (username or "").strip().lower()
        if not username:
            raise AuthenticationFailed("请输入用户名", field="username")
        if not password:
            raise AuthenticationFailed("请输入密码", field="password")
        now = self.clock.now()
        failure: AuthenticationFailed | None = None
        with self.db.session() as s:
            staff = s.execute(select(Staff).where(Staff.username == username)).scalar_one_or_none()
            if staff is None:
                self._verify(self._dummy_hash, password)
                failure = AuthenticationFailed(GENERIC_FAILURE, field="password", code="bad_credentials")
                self._audit_anonymous(s, username, workstation, now, "unknown_user")
            else:
                failure = self._check(s, staff, password, workstation, now)
                if failure is None:
                    return self._succeed(s, staff, password, workstation, now)
        raise failure

    def _check(self, s, staff: Staff, password: str, workstation: str, now: datetime,  # noqa: ANN001
               failed_action: str = "auth.login_failed") -> AuthenticationFailed | None:
        actor = _actor_for(s, staff, workstation)
        if staff.locked_until is not None and staff.locked_until > now:
            audit.append(s, actor=actor, action=failed_action, at=now, entity="staff",
                         entity_id=staff.id, detail={"reason": "locked_out"})
            return AuthenticationFailed(_locked_message(staff.locked_until), field="password",
                                        code="locked_out")
        if not self._verify(staff.password_hash, password):
            return self._record_failure(s, staff, actor, now, failed_action)
        if not staff.active:
            audit.append(s, actor=actor, action=failed_action, at=now, entity="staff",
                         entity_id=staff.id, detail={"reason": "disabled"})
            return AuthenticationFailed("该账号已停用，请联系系统管理员", field="username", code="disabled")
        return None

    def _record_failure(self, s, staff: Staff, actor: Actor, now: datetime,  # noqa: ANN001
                        failed_action: str) -> AuthenticationFailed:
        # One guarded statement: two PCs failing at once both count.
        count = s.execute(
            update(Staff).where(Staff.id == staff.id).values(failed_logins=Staff.failed_logins + 1)
            .returning(Staff.failed_logins)
        ).scalar_one()
        audit.append(s, actor=actor, action=failed_action, at=now, entity="staff", entity_id=staff.id,
                     detail={"reason": "bad_password", "failed_logins": count})
        if count < self.max_failed:
            left = self.max_failed - count
            return AuthenticationFailed(f"{GENERIC_FAILURE}（再错 {left} 次账号将被锁定 "
                                        f"{int(self.lockout.total_seconds() // 60)} 分钟）",
                                        field="password", code="bad_credentials")
        until = now + self.lockout
        s.execute(update(Staff).where(Staff.id == staff.id).values(locked_until=until, failed_logins=0))
        audit.append(s, actor=actor, action="auth.locked_out", at=now, entity="staff", entity_id=staff.id,
                     detail={"until": until.isoformat(timespec="minutes")})
        return AuthenticationFailed(_locked_message(until, first=True), field="password", code="locked_out")

    def _succeed(self, s, staff: Staff, password: str, workstation: str, now: datetime) -> LoginResult:  # noqa: ANN001
        rehashed = self.hasher.check_needs_rehash(staff.password_hash)
        if rehashed:
            staff.password_hash = self.hasher.hash(password)
        staff.failed_logins = 0
        staff.locked_until = None
        staff.last_login_at = now
        actor = _actor_for(s, staff, workstation)
        audit.append(s, actor=actor, action="auth.login", at=now, entity="staff", entity_id=staff.id,
                     detail={"roles": sorted(actor.roles), "rehashed": rehashed})
        return LoginResult(actor, bool(staff.must_change_password))

    def _audit_anonymous(self, s, username: str, workstation: str, now: datetime, reason: str) -> None:  # noqa: ANN001
        nobody = Actor(None, username[:80] or "?", "未知用户", frozenset(), workstation)
        audit.append(s, actor=nobody, action="auth.login_failed", at=now, entity="staff",
                     detail={"reason": reason})

    # ----------------------------------------------------------------------------- screen lock & logout

    def record_screen_lock(self, actor: Actor, *, reason: str = "idle") -> None:
        with self.db.session() as s:
            audit.append(s, actor=actor, action="auth.screen_locked", at=self.clock.now(), entity="staff",
                         entity_id=actor.staff_id or "", detail={"reason": reason})

    def unlock(self, actor: Actor, password: str) -> None:
        """Unlock the screen with the signed-in user's own password (failures count toward lock-out)."""
        if not password:
            raise AuthenticationFailed("请输入密码", field="password")
        now = self.clock.now()
        failure: AuthenticationFailed | None = None
        with self.db.session() as s:
            staff = s.get(Staff, actor.staff_id) if actor.staff_id is not None else None
            if staff is None:
                raise AuthenticationFailed("账号不存在，请重新登录", code="disabled")
            failure = self._check(s, staff, password, actor.workstation, now, "auth.unlock_failed")
            if failure is None:
                staff.failed_logins = 0
                audit.append(s, actor=actor, action="auth.screen_unlocked", at=now, entity="staff",
                             entity_id=staff.id)
        if failure is not None:
            raise failure

    def logout(self, actor: Actor, *, reason: str = "user") -> None:
        with self.db.session() as s:
            audit.append(s, actor=actor, action="auth.logout", at=self.clock.now(), entity="staff",
                         entity_id=actor.staff_id or "", detail={"reason": reason})

    def change_password(self, actor: Actor, old_password: str, new_password: str) -> None:
        """The signed-in user changes their own password (also the forced change after a reset)."""
        check_password_policy(new_password, field="new_password")
        if new_password == old_password:
            raise ValidationError("新密码不能与原密码相同", field="new_password")
        now = self.clock.now()
        with self.db.session() as s:
            staff = s.get(Staff, actor.staff_id) if actor.staff_id is not None else None
            if staff is None or not self._verify(staff.password_hash, old_password):
                raise AuthenticationFailed("原密码不正确", field="old_password")
            staff.password_hash = self.hasher.hash(new_password)
            staff.must_change_password = False
            audit.append(s, actor=actor, action="auth.password_changed", at=now, entity="staff",
                         entity_id=staff.id)

    def any_staff(self) -> bool:
        """False on a database with no accounts yet (the login window then says how to create one)."""
        with self.db.reader() as s:
            return s.execute(select(Staff.id).limit(1)).first() is not None


def _locked_message(until: datetime, *, first: bool = False) -> str:
    prefix = f"连续 {MAX_FAILED_LOGINS} 次密码错误，" if first else ""
    return f"{prefix}账号已锁定，请于 {until:%H:%M} 后再试，或请系统管理员解除锁定"


def _actor_for(s, staff: Staff, workstation: str) -> Actor:  # noqa: ANN001
    roles = frozenset(Role(r.role) for r in staff.roles)
    doctor = s.execute(select(Doctor).where(Doctor.staff_id == staff.id)).scalar_one_or_none()
    department_id = staff.department_id or (doctor.department_id if doctor else None)
    return Actor(staff.id, staff.username, staff.full_name, roles, workstation,
                 department_id=department_id, doctor_id=doctor.id if doctor else None)
