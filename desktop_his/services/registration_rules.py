"""The registration rule engine (SPEC §5): may this patient take this slot now?

Each rule is its own small object with a ``code`` and a Chinese message, switched and parametrised by the
hospital's :class:`~desktop_his.services.rules_config.RegistrationRules` (``load_rules(session)``). ``check``
runs every enabled rule and returns *all* violations so the cashier sees every reason at once;
``require_allowed`` raises them as one :class:`RegistrationRefused` (a ``RuleViolation`` whose ``code`` is the
first rule's and whose ``violations`` lists each).

Counting: the day limits count the patient's registrations *for the same visit date* (the clinic day), the
month limit those for the same calendar month of visit dates. Cancelled registrations never count; no-shows do
(the place was taken). A hospital adds its own rule by building a :class:`RuleEngine` with an extra object
that has ``code``, ``enabled(rules)`` and ``check(ctx) -> str | None``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop_his.services.enums import PERIOD_LABELS, SEX_LABELS, DepartmentKind, Period, Sex, VisitStatus
from desktop_his.services.errors import RuleViolation
from desktop_his.services.ids import age_on
from desktop_his.services.models import Department, Doctor, Patient, Slot, Visit
from desktop_his.services.rules_config import RegistrationRules, load_rules

PREFETCHED = "registration_rules_prefetched"  # session.info key: a Prefetched for the check about to run


@dataclass(frozen=True)
class Prefetched:
    """What the caller read already for one (patient, slot): the rule settings and the month's visits."""

    key: tuple[int, int]
    rules: RegistrationRules
    month_visits: list | None


REGISTRABLE_KINDS = frozenset({DepartmentKind.CLINICAL.value, DepartmentKind.VACCINATION.value})
COUNTED_STATUSES = frozenset(s.value for s in VisitStatus) - {VisitStatus.CANCELLED.value}


def day_text(day: date) -> str:
    return f"{day.month}月{day.day}日"


def slot_text(slot: Slot) -> str:
    return f"{day_text(slot.date)}{PERIOD_LABELS.get(Period(slot.period), slot.period)}"


@dataclass
class RuleContext:
    """What the rules look at; the patient's other registrations are read once, lazily."""

    session: Session
    patient: Patient
    slot: Slot
    department: Department
    doctor: Doctor
    now: datetime
    rules: RegistrationRules

    @property
    def today(self) -> date:
        return self.now.date()

    @cached_property
    def month_visits(self) -> list[Visit]:
        first = self.slot.date.replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
        return list(self.session.execute(
            select(Visit).where(
                Visit.patient_id == self.patient.id, Visit.slot_id.is_not(None),
                Visit.visit_date >= first, Visit.visit_date < after, Visit.status.in_(COUNTED_STATUSES),
            ).order_by(Visit.id)
        ).scalars())

    @cached_property
    def day_visits(self) -> list[Visit]:
        return [v for v in self.month_visits if v.visit_date == self.slot.date]

    @cached_property
    def age(self) -> int:
        return age_on(self.patient.birth_date, self.slot.date)


class Rule(Protocol):
    code: str
    field: str

    def enabled(self, rules: RegistrationRules) -> bool: ...

    def check(self, ctx: RuleContext) -> str | None: ...


class _Always:
    field = "slot"

    def enabled(self, rules: RegistrationRules) -> bool:
        return True


# ------------------------------------------------------------------------------------------- patient


class Blacklist:
    code, field = "blacklisted", "patient"

    def enabled(self, rules: RegistrationRules) -> bool:
        return rules.blacklist_enabled

    def check(self, ctx: RuleContext) -> str | None:
        until = ctx.patient.blacklisted_until
        if until is None or ctx.today >= until:
            return None
        return f"该患者因爽约已被列入黑名单，{until.year}年{day_text(until)}起方可挂号"


# ---------------------------------------------------------------------------------------------- slot


class DepartmentOpen(_Always):
    code = "department_closed"

    def check(self, ctx: RuleContext) -> str | None:
        if not ctx.department.active or ctx.department.kind not in REGISTRABLE_KINDS:
            return f"{ctx.department.name}暂不开放挂号"
        if not ctx.doctor.active:
            return f"{ctx.doctor.name}医生暂不出诊，请选择其他医生"
        return None


def suspended_message(slot: Slot, doctor: Doctor) -> str:
    return f"{doctor.name}医生{slot_text(slot)}已停诊，请选择其他医生或时段"


def full_message(slot: Slot, doctor: Doctor) -> str:
    return f"{doctor.name}医生{slot_text(slot)}的号已挂满，请选择其他医生或时段"


class SlotSuspended(_Always):
    code = "slot_suspended"

    def check(self, ctx: RuleContext) -> str | None:
        return suspended_message(ctx.slot, ctx.doctor) if ctx.slot.suspended else None


class BookingWindow(_Always):
    code = "booking_window"

    def check(self, ctx: RuleContext) -> str | None:
        last = ctx.today + timedelta(days=ctx.rules.booking_days_ahead)
        if ctx.slot.date < ctx.today:
            return f"{slot_text(ctx.slot)}的号源已过期，请选择今天或以后的号源"
        if ctx.slot.date > last:
            return f"最多可预约{ctx.rules.booking_days_ahead}天内的号源（至{day_text(last)}），{day_text(ctx.slot.date)}的号暂不能挂"
        return None


class SlotEnded(_Always):
    code = "slot_ended"

    def check(self, ctx: RuleContext) -> str | None:
        if ctx.slot.date == ctx.today and ctx.now.time() >= ctx.slot.end_time:
            return f"{slot_text(ctx.slot)}（{ctx.slot.end_time:%H:%M}结束）已停止挂号，请选择其他时段"
        return None


class SlotFull(_Always):
    code = "slot_full"

    def check(self, ctx: RuleContext) -> str | None:
        return full_message(ctx.slot, ctx.doctor) if ctx.slot.taken >= ctx.slot.capacity else None


# ------------------------------------------------------------------------------------------- counting


class MaxPerDay:
    code, field = "max_per_day", "patient"

    def enabled(self, rules: RegistrationRules) -> bool:
        return rules.max_per_day > 0

    def check(self, ctx: RuleContext) -> str | None:
        n = len(ctx.day_visits)
        if n >= ctx.rules.max_per_day:
            return f"该患者{day_text(ctx.slot.date)}已挂号{n}次，每人每天最多挂{ctx.rules.max_per_day}个号"
        return None


class MaxPerMonth:
    code, field = "max_per_month", "patient"

    def enabled(self, rules: RegistrationRules) -> bool:
        return rules.max_per_month > 0

    def check(self, ctx: RuleContext) -> str | None:
        n = len(ctx.month_visits)
        if n >= ctx.rules.max_per_month:
            return (f"该患者{ctx.slot.date.year}年{ctx.slot.date.month}月已挂号{n}次，"
                    f"每人每月最多挂{ctx.rules.max_per_month}个号")
        return None


class OnePerDepartment:
    code, field = "one_per_department", "slot"

    def enabled(self, rules: RegistrationRules) -> bool:
        return rules.one_per_department_per_day

    def check(self, ctx: RuleContext) -> str | None:
        if any(v.department_id == ctx.slot.department_id for v in ctx.day_visits):
            return f"该患者{day_text(ctx.slot.date)}已挂{ctx.department.name}的号，同一天同一科室只能挂一个号"
        return None


class OnePerDoctor:
    code, field = "one_per_doctor", "slot"

    def enabled(self, rules: RegistrationRules) -> bool:
        return rules.one_per_doctor_per_day

    def check(self, ctx: RuleContext) -> str | None:
        if any(v.doctor_id == ctx.slot.doctor_id for v in ctx.day_visits):
            return f"该患者{day_text(ctx.slot.date)}已挂{ctx.doctor.name}医生的号，同一天同一医生只能挂一个号"
        return None


# --------------------------------------------------------------------------------- department limits


class DepartmentSex:
    code, field = "department_sex", "slot"

    def enabled(self, rules: RegistrationRules) -> bool:
        return rules.department_restrictions

    def check(self, ctx: RuleContext) -> str | None:
        allowed = ctx.department.sex_restriction
        if not allowed or ctx.patient.sex == allowed:
            return None
        ok, other = SEX_LABELS[Sex(allowed)], SEX_LABELS[Sex(ctx.patient.sex)]
        return f"{ctx.department.name}仅接诊{ok}性患者，{other}性不能挂{ctx.department.name}"


class DepartmentAge:
    code, field = "department_age", "slot"

    def enabled(self, rules: RegistrationRules) -> bool:
        return rules.department_restrictions

    def check(self, ctx: RuleContext) -> str | None:
        dept, age = ctx.department, ctx.age
        if dept.max_age is not None and age > dept.max_age:
            who = "成人" if dept.max_age <= ctx.rules.child_max_age else f"{dept.max_age}周岁以上患者"
            return f"{dept.name}仅接诊{dept.max_age}周岁及以下患者（该患者{age}岁），{who}不能挂{dept.name}"
        if dept.min_age is not None and age < dept.min_age:
            who = "儿童" if dept.min_age > ctx.rules.child_max_age else f"未满{dept.min_age}周岁的患者"
            return f"{dept.name}仅接诊{dept.min_age}周岁及以上患者（该患者{age}岁），{who}不能挂{dept.name}"
        return None


DEFAULT_RULES: tuple[Rule, ...] = (
    Blacklist(), DepartmentOpen(), SlotSuspended(), BookingWindow(), SlotEnded(), SlotFull(),
    MaxPerDay(), MaxPerMonth(), OnePerDepartment(), OnePerDoctor(), DepartmentSex(), DepartmentAge(),
)


class RegistrationRefused(RuleViolation):
    """One or more rules refuse the registration; ``violations`` holds each (code and message)."""

    def __init__(self, violations: Sequence[RuleViolation]) -> None:
        first = violations[0]
        if len(violations) == 1:
            message = first.message
        else:
            message = "不能挂号：\n" + "\n".join(f"{i}. {v.message}" for i, v in enumerate(violations, 1))
        super().__init__(message, field=first.field, code=first.code)
        self.violations = list(violations)

    @property
    def codes(self) -> list[str]:
        return [v.code or "" for v in self.violations]


class RuleEngine:
    def __init__(self, rules: Sequence[Rule] = DEFAULT_RULES) -> None:
        self.rules = tuple(rules)

    def check(self, session: Session, patient: Patient, slot: Slot, now: datetime, *,
              rules: RegistrationRules | None = None) -> list[RuleViolation]:
        """Every violation (empty list = allowed). Reads only; nothing is written."""
        pre = session.info.get(PREFETCHED)
        if pre is not None and pre.key == (patient.id, slot.id):  # registration's hot path read these already
            ctx = RuleContext(session, patient, slot, slot.department, slot.doctor, now,
                              rules if rules is not None else pre.rules)
            if pre.month_visits is not None:
                ctx.__dict__["month_visits"] = pre.month_visits
            return self.check_context(ctx)
        config = rules if rules is not None else load_rules(session)
        return self.check_context(RuleContext(session, patient, slot, slot.department, slot.doctor, now, config))

    def check_context(self, ctx: RuleContext) -> list[RuleViolation]:
        """Every violation for an already built context (registration's hot path builds it from plain rows)."""
        config = ctx.rules
        found = []
        for rule in self.rules:
            if rule.enabled(config):
                message = rule.check(ctx)
                if message:
                    found.append(RuleViolation(message, field=rule.field, code=rule.code))
        return found

    def require_allowed(self, session: Session, patient: Patient, slot: Slot, now: datetime, *,
                        rules: RegistrationRules | None = None) -> None:
        violations = self.check(session, patient, slot, now, rules=rules)
        if violations:
            raise RegistrationRefused(violations)


_DEFAULT = RuleEngine()


def check(session: Session, patient: Patient, slot: Slot, now: datetime, *,
          rules: RegistrationRules | None = None) -> list[RuleViolation]:
    """All violations of the default rules (see :class:`RuleEngine`)."""
    return _DEFAULT.check(session, patient, slot, now, rules=rules)


def require_allowed(session: Session, patient: Patient, slot: Slot, now: datetime, *,
                    rules: RegistrationRules | None = None) -> None:
    """Raise :class:`RegistrationRefused` (a ``RuleViolation``) if any default rule refuses."""
    _DEFAULT.require_allowed(session, patient, slot, now, rules=rules)
