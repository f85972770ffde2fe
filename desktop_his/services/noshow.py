"""No-shows (爽约), the blacklist and "取三减一" (SPEC §5).

- Day end: :func:`mark_no_shows` turns every registration of a day that was neither checked in nor cancelled
  into ``no_show`` and adds one to the patient's count. Reaching ``noshow_threshold`` blacklists the patient
  until ``day + blacklist_months`` (``Patient.blacklisted_until`` is the first day they may register again)
  and starts a fresh count: the no-shows that led to a blacklisting are "served" by it, so a patient is not
  blacklisted again by the very next no-show after release. The ledger keeps every one of them.
- Check-in: :func:`record_check_in` (called by ``RegistrationService.check_in`` in its transaction) extends the
  run of check-ins; ``checkins_to_forgive`` in a row remove one no-show from the count.

Every change is a ``noshow_entry`` row (never deleted) and an audit record. ``Patient.noshow_count``,
``checkin_streak`` and ``blacklisted_until`` are caches of the ledger that make the rule check one row read.
``mark_no_shows`` is safe to run twice, or on two PCs at once: each visit moves by a guarded UPDATE
(``WHERE status = 'registered'``), and only the run that moved it counts it.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from desktop_his.services import audit, live
from desktop_his.services.clock import Clock
from desktop_his.services.db import Database
from desktop_his.services.enums import NoShowKind, VisitStatus
from desktop_his.services.errors import ValidationError
from desktop_his.services.models import NoShowEntry, Patient, Slot, Visit
from desktop_his.services.permissions import Action, Actor, require
from desktop_his.services.rules_config import RegistrationRules, load_rules


def add_months(day: date, months: int) -> date:
    """``2026-11-30 + 3 months`` → ``2027-02-28`` (clamped to the month's last day)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass
class NoShowReport:
    day: date
    marked: list[int] = field(default_factory=list)  # visit ids turned into no-shows by this run
    blacklisted: list[int] = field(default_factory=list)  # patient ids blacklisted by this run
    left_for_later: int = 0  # today's registrations whose sitting has not ended yet


def _lock_patient(s: Session, patient_id: int) -> Patient:
    return s.execute(
        select(Patient).where(Patient.id == patient_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()


def _entry(s: Session, patient: Patient, kind: NoShowKind, at: datetime, *, visit_id: int | None,
           note: str = "") -> None:
    s.add(NoShowEntry(patient_id=patient.id, visit_id=visit_id, kind=kind.value, count_after=patient.noshow_count,
                      blacklisted_until=patient.blacklisted_until, at=at, note=note))


def record_no_show(s: Session, patient: Patient, visit: Visit, *, at: datetime,
                   rules: RegistrationRules) -> bool:
    """Count one no-show; returns True when it blacklisted the patient. Caller holds the patient row."""
    patient.noshow_count += 1
    patient.checkin_streak = 0
    _entry(s, patient, NoShowKind.NO_SHOW, at, visit_id=visit.id, note=f"{visit.visit_date:%Y-%m-%d} 未取号")
    if not rules.blacklist_enabled or patient.noshow_count < rules.noshow_threshold:
        return False
    until = add_months(visit.visit_date, rules.blacklist_months)
    patient.blacklisted_until = max(until, patient.blacklisted_until or until)
    served = patient.noshow_count
    patient.noshow_count = 0
    _entry(s, patient, NoShowKind.BLACKLISTED, at, visit_id=visit.id,
           note=f"爽约{served}次，列入黑名单至{patient.blacklisted_until:%Y-%m-%d}")
    return True


def record_check_in(s: Session, patient: Patient, visit: Visit, *, at: datetime,
                    rules: RegistrationRules) -> bool:
    """Extend the run of check-ins; returns True when it forgave one no-show (取三减一)."""
    patient.checkin_streak += 1
    _entry(s, patient, NoShowKind.CHECK_IN, at, visit_id=visit.id)
    if patient.noshow_count == 0 or patient.checkin_streak < rules.checkins_to_forgive:
        return False
    patient.noshow_count -= 1
    patient.checkin_streak = 0
    _entry(s, patient, NoShowKind.FORGIVEN, at, visit_id=visit.id,
           note=f"连续取号{rules.checkins_to_forgive}次，减免爽约1次")
    return True


def _due(s: Session, day: date, now: datetime) -> tuple[list[int], int]:
    """Ids of the day's untouched registrations whose sitting is over, and how many are not over yet."""
    rows = s.execute(
        select(Visit.id, Slot.end_time).join(Slot, Slot.id == Visit.slot_id)
        .where(Visit.visit_date == day, Visit.status == VisitStatus.REGISTERED.value).order_by(Visit.id)
    ).all()
    if day < now.date():
        return [r.id for r in rows], 0
    due = [r.id for r in rows if r.end_time <= now.time()]
    return due, len(rows) - len(due)


def mark_no_shows(db: Database, actor: Actor, day: date, *, now: datetime) -> NoShowReport:
    """The day-end step for ``day`` (``desktop-his-cli day-end --date``). Safe to repeat."""
    require(actor, Action.DAY_END)
    if day > now.date():
        raise ValidationError("不能对未来日期做日终爽约处理", field="day")
    report = NoShowReport(day)
    with db.reader() as s:
        due, report.left_for_later = _due(s, day, now)
    for visit_id in due:  # one short transaction per visit: a long day never holds locks for long
        with db.session() as s:
            moved = s.execute(
                update(Visit).where(Visit.id == visit_id, Visit.status == VisitStatus.REGISTERED.value)
                .values(status=VisitStatus.NO_SHOW.value).execution_options(synchronize_session=False)
            ).rowcount
            if not moved:
                continue  # checked in, cancelled, or another run got there first
            visit = s.get(Visit, visit_id)
            patient = _lock_patient(s, visit.patient_id)
            rules = load_rules(s)
            if record_no_show(s, patient, visit, at=now, rules=rules):
                report.blacklisted.append(patient.id)
            audit.append(s, actor=actor, action="registration.no_show", at=now, entity="visit",
                         entity_id=visit.id, detail={"visit_no": visit.visit_no, "patient_id": patient.id,
                                                     "noshow_count": patient.noshow_count,
                                                     "blacklisted_until": patient.blacklisted_until})
            live.publish(s, f"doctor:{visit.doctor_id}", f"department:{visit.department_id}")
            report.marked.append(visit_id)
    return report


class NoShowService:
    """The same day-end step for callers holding services rather than a database."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def mark_no_shows(self, actor: Actor, day: date | None = None) -> NoShowReport:
        """Default day: yesterday (the usual run just after midnight)."""
        now = self.clock.now()
        return mark_no_shows(self.db, actor, day or now.date() - timedelta(days=1), now=now)

    def ledger(self, actor: Actor, patient_id: int) -> list[NoShowEntry]:
        """The patient's whole no-show history, oldest first."""
        require(actor, Action.PATIENT_VIEW)
        with self.db.reader() as s:
            return list(s.execute(
                select(NoShowEntry).where(NoShowEntry.patient_id == patient_id).order_by(NoShowEntry.id)
            ).scalars())
