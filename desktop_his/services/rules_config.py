"""Registration-rule settings (SPEC §5), one set per hospital, stored in the ``setting`` table.

The administration view edits them; the registration rule engine reads them. Defaults are the SPEC's.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from datetime import datetime, time
from typing import Any

from sqlalchemy.orm import Session

from desktop_his.services.errors import ValidationError
from desktop_his.services.models import Setting

SCOPE = "hospital"
KEY = "registration_rules"


@dataclass(frozen=True)
class RegistrationRules:
    max_per_day: int = 2  # registrations per patient per day (0 = no limit)
    max_per_month: int = 9  # per calendar month (0 = no limit)
    one_per_department_per_day: bool = True
    one_per_doctor_per_day: bool = True
    department_restrictions: bool = True  # sex / age limits set on each department
    child_max_age: int = 16  # "children: 16 and under" (paediatrics; guardian required)
    booking_days_ahead: int = 7  # today plus this many days
    blacklist_enabled: bool = True
    noshow_threshold: int = 3  # no-shows that blacklist
    blacklist_months: int = 3
    checkins_to_forgive: int = 3  # 取三减一: this many check-ins in a row remove one no-show
    # Advance bookings may be cancelled until <days before the visit> at <time>; default: 00:00 of the day
    # before the visit. Same-day registrations can be cancelled at the window until the patient is seen.
    cancel_days_before: int = 1
    cancel_time: str = "00:00"

    def cancel_deadline(self, visit_date: Any) -> datetime:
        from datetime import timedelta

        hh, mm = (int(x) for x in self.cancel_time.split(":"))
        return datetime.combine(visit_date - timedelta(days=self.cancel_days_before), time(hh, mm))

    def validated(self) -> RegistrationRules:
        """Raise ValidationError (with the field) for values a hospital cannot mean."""
        checks = [
            ("max_per_day", 0 <= self.max_per_day <= 50, "每日挂号上限应在 0–50 之间（0 表示不限）"),
            ("max_per_month", 0 <= self.max_per_month <= 500, "每月挂号上限应在 0–500 之间（0 表示不限）"),
            ("child_max_age", 0 < self.child_max_age <= 18, "儿童年龄上限应在 1–18 岁之间"),
            ("booking_days_ahead", 0 <= self.booking_days_ahead <= 90, "可预约天数应在 0–90 之间"),
            ("noshow_threshold", 1 <= self.noshow_threshold <= 20, "爽约次数阈值应在 1–20 之间"),
            ("blacklist_months", 1 <= self.blacklist_months <= 24, "黑名单月数应在 1–24 之间"),
            ("checkins_to_forgive", 1 <= self.checkins_to_forgive <= 20, "“取三减一”次数应在 1–20 之间"),
            ("cancel_days_before", 0 <= self.cancel_days_before <= 14, "退号截止提前天数应在 0–14 之间"),
        ]
        for name, ok, message in checks:
            if not ok:
                raise ValidationError(message, field=name)
        try:
            hh, mm = (int(x) for x in self.cancel_time.split(":"))
            time(hh, mm)
        except ValueError as exc:
            raise ValidationError("退号截止时间格式应为 HH:MM", field="cancel_time") from exc
        return self


def load_rules(session: Session) -> RegistrationRules:
    row = session.get(Setting, (SCOPE, KEY))
    if row is None or not isinstance(row.value, dict):
        return RegistrationRules()
    known = {f.name for f in fields(RegistrationRules)}
    return RegistrationRules(**{k: v for k, v in row.value.items() if k in known})


def save_rules(session: Session, rules: RegistrationRules, *, at: datetime, by: str) -> None:
    rules.validated()
    value = dataclasses.asdict(rules)
    row = session.get(Setting, (SCOPE, KEY))
    if row is None:
        session.add(Setting(scope=SCOPE, key=KEY, value=value, updated_at=at, updated_by=by))
    else:
        row.value, row.updated_at, row.updated_by = value, at, by
