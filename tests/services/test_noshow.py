"""Day-end no-shows, blacklisting, 取三减一; the ledger is never rewritten and the run is repeatable."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from desktop_his.services.db import Database
from desktop_his.services.enums import NoShowKind, Period, Role
from desktop_his.services.errors import PermissionDenied, ValidationError
from desktop_his.services.models import AuditRecord, Doctor, NoShowEntry, Patient, Slot, Visit
from desktop_his.services.noshow import NoShowService, add_months, mark_no_shows
from desktop_his.services.payments import PaymentInput
from desktop_his.services.registration import RegistrationService
from desktop_his.services.registration_rules import RegistrationRefused
from tests.conftest import PgSchema
from tests.services import regfix

DAY = date(2026, 11, 20)  # a Friday before the clock's Monday
FINANCE = regfix.actor(Role.FINANCE)


@pytest.fixture
def env(db: Database, clock):  # noqa: ANN001, ANN201
    with db.session() as s:
        doc = regfix.doctor(s, regfix.department(s, "内科"))
        p = regfix.patient(s)
        ids = {"patient": p.id, "doctor": doc.id}
    return db, clock, ids


def booked(db: Database, patient_id: int, doctor_id: int, day: date, status: str = "registered",
           period: str = Period.MORNING) -> int:
    with db.session() as s:
        slot = s.execute(select(Slot).where(Slot.doctor_id == doctor_id, Slot.date == day, Slot.period == period)
                         ).scalar_one_or_none() or regfix.slot(s, s.get(Doctor, doctor_id), day, period)
        return regfix.visit(s, s.get(Patient, patient_id), slot, status=status).id


def patient(db: Database, patient_id: int) -> Patient:
    with db.reader() as s:
        return s.get(Patient, patient_id)


def ledger(db: Database, patient_id: int) -> list[tuple[str, int]]:
    with db.reader() as s:
        return [(e.kind, e.count_after) for e in s.execute(
            select(NoShowEntry).where(NoShowEntry.patient_id == patient_id).order_by(NoShowEntry.id)).scalars()]


def test_add_months_clamps() -> None:
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 10, 15), 3) == date(2027, 1, 15)


def test_untouched_registrations_become_no_shows(env) -> None:  # noqa: ANN001
    db, clock, ids = env
    missed = booked(db, ids["patient"], ids["doctor"], DAY)
    came = booked(db, ids["patient"], ids["doctor"], DAY, "checked_in", Period.AFTERNOON)
    cancelled = booked(db, ids["patient"], ids["doctor"], DAY, "cancelled", Period.EVENING)
    report = mark_no_shows(db, FINANCE, DAY, now=clock.now())
    assert report.marked == [missed] and report.blacklisted == [] and report.left_for_later == 0
    with db.reader() as s:
        assert [s.get(Visit, v).status for v in (missed, came, cancelled)] == ["no_show", "checked_in", "cancelled"]
        assert s.execute(select(AuditRecord.action)).scalars().all() == ["registration.no_show"]
    assert patient(db, ids["patient"]).noshow_count == 1
    assert ledger(db, ids["patient"]) == [(NoShowKind.NO_SHOW, 1)]
    assert mark_no_shows(db, FINANCE, DAY, now=clock.now()).marked == []  # run twice: nothing more
    assert patient(db, ids["patient"]).noshow_count == 1


def test_third_no_show_blacklists_for_three_months(env, clock) -> None:  # noqa: ANN001
    db, _, ids = env
    for day in (date(2026, 11, 2), date(2026, 11, 9), DAY):
        booked(db, ids["patient"], ids["doctor"], day)
        report = mark_no_shows(db, FINANCE, day, now=clock.now())
    assert report.blacklisted == [ids["patient"]]
    p = patient(db, ids["patient"])
    assert (p.blacklisted_until, p.noshow_count) == (date(2027, 2, 20), 0)
    assert ledger(db, ids["patient"]) == [("no_show", 1), ("no_show", 2), ("no_show", 3), ("blacklisted", 0)]
    with db.session() as s:
        slot = regfix.slot(s, s.get(Doctor, ids["doctor"]), clock.today(), Period.AFTERNOON)
    with pytest.raises(RegistrationRefused) as exc:
        RegistrationService(db, clock).register(regfix.actor(), ids["patient"], slot.id)
    assert exc.value.code == "blacklisted" and "2027年2月20日" in exc.value.message


def test_three_check_ins_in_a_row_forgive_one(env) -> None:  # noqa: ANN001
    db, clock, ids = env
    for day in (date(2026, 11, 2), date(2026, 11, 9)):
        booked(db, ids["patient"], ids["doctor"], day)
        mark_no_shows(db, FINANCE, day, now=clock.now())
    svc = RegistrationService(db, clock)
    cashier = regfix.actor()
    with db.session() as s:
        depts = [regfix.department(s, f"科{i}") for i in range(3)]
        slots = [regfix.slot(s, regfix.doctor(s, d), clock.today() + timedelta(days=i)).id
                 for i, d in enumerate(depts)]
    for i, slot_id in enumerate(slots):
        visit = svc.register(cashier, ids["patient"], slot_id, payment=PaymentInput("cash", cash_received_fen=1000))
        clock.set(datetime.combine(visit.visit_date, datetime.min.time()).replace(hour=8))
        svc.check_in(cashier, visit.id)
        assert patient(db, ids["patient"]).noshow_count == (2 if i < 2 else 1)
    assert [k for k, _ in ledger(db, ids["patient"])][-4:] == ["check_in", "check_in", "check_in", "forgiven"]
    assert patient(db, ids["patient"]).checkin_streak == 0


def test_a_no_show_breaks_the_run(env) -> None:  # noqa: ANN001
    db, clock, ids = env
    with db.session() as s:
        p = s.get(Patient, ids["patient"])
        p.noshow_count, p.checkin_streak = 1, 2
    booked(db, ids["patient"], ids["doctor"], DAY)
    mark_no_shows(db, FINANCE, DAY, now=clock.now())
    p = patient(db, ids["patient"])
    assert (p.noshow_count, p.checkin_streak) == (2, 0)


def test_today_only_after_the_sitting(env) -> None:  # noqa: ANN001
    db, clock, ids = env
    today = clock.today()
    morning = booked(db, ids["patient"], ids["doctor"], today)
    evening = booked(db, ids["patient"], ids["doctor"], today, period=Period.EVENING)
    report = mark_no_shows(db, FINANCE, today, now=datetime.combine(today, datetime.min.time()).replace(hour=13))
    assert report.marked == [morning] and report.left_for_later == 1
    with pytest.raises(ValidationError):
        mark_no_shows(db, FINANCE, today + timedelta(days=1), now=clock.now())
    later = mark_no_shows(db, FINANCE, today, now=datetime.combine(today, datetime.min.time()).replace(hour=23))
    assert later.marked == [evening]


def test_service_defaults_to_yesterday_and_needs_the_right(env) -> None:  # noqa: ANN001
    db, clock, ids = env
    yesterday = clock.today() - timedelta(days=1)
    missed = booked(db, ids["patient"], ids["doctor"], yesterday)
    svc = NoShowService(db, clock)
    with pytest.raises(PermissionDenied):
        svc.mark_no_shows(regfix.actor(Role.CASHIER))
    assert svc.mark_no_shows(regfix.actor(Role.ADMIN)).marked == [missed]
    assert [e.kind for e in svc.ledger(regfix.actor(Role.CASHIER), ids["patient"])] == ["no_show"]


@pytest.mark.postgres
def test_two_pcs_running_day_end_at_once_count_each_visit_once(pg_schema: PgSchema, clock) -> None:  # noqa: ANN001
    from desktop_his.services.models import Base

    db = pg_schema.database()
    Base.metadata.create_all(db.engine)
    with db.session() as s:
        doc = regfix.doctor(s, regfix.department(s, "内科"))
        patients = [regfix.patient(s, f"患者{i}").id for i in range(6)]
    for i, pid in enumerate(patients):
        booked(db, pid, doc.id, DAY, period=[Period.MORNING, Period.AFTERNOON, Period.EVENING][i % 3])
    dbs = [pg_schema.database(), pg_schema.database()]
    reports = [None, None]

    def run(i: int) -> None:
        reports[i] = mark_no_shows(dbs[i], FINANCE, DAY, now=clock.now())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert sorted(reports[0].marked + reports[1].marked) == sorted(set(reports[0].marked + reports[1].marked))
        assert len(reports[0].marked + reports[1].marked) == 6
        with db.reader() as s:
            assert {s.get(Patient, p).noshow_count for p in patients} == {1}
    finally:
        for d in dbs + [db]:
            d.dispose()
