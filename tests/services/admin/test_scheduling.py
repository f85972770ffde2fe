"""Schedules and slot generation: window, validation, overlap, idempotency, booked slots never dropped."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select, update

from desktop_his.services.admin.organisation import DepartmentForm, DoctorForm
from desktop_his.services.admin.scheduling import ScheduleForm
from desktop_his.services.container import Services
from desktop_his.services.enums import Role
from desktop_his.services.errors import Conflict, PermissionDenied, ValidationError
from desktop_his.services.models import Patient, Schedule, Slot, Visit
from desktop_his.services.permissions import Actor
from tests.helpers import add_staff, admin

MONDAY = date(2026, 11, 23)  # the clock fixture's today


@pytest.fixture
def setup(services: Services) -> tuple[Services, Actor, int]:
    root = admin(services)
    dept = services.organisation.create_department(root, DepartmentForm("NK", "内科"))
    doctor = services.organisation.create_doctor(root, DoctorForm(dept.id, "王建国", "主任医师", fee_yuan="50"))
    return services, root, doctor.id


def form(doctor: int | None, **changes) -> ScheduleForm:  # noqa: ANN003
    base = ScheduleForm(doctor, 0, "AM", time(8), time(12), 20, "50.00", MONDAY)
    return replace(base, **changes)


def slots(services: Services) -> list[tuple[date, str, int, int]]:
    with services.db.reader() as s:
        return [(sl.date, sl.period, sl.capacity, sl.taken)
                for sl in s.execute(select(Slot).order_by(Slot.date, Slot.period)).scalars()]


def test_schedule_generates_slots_for_the_booking_window(setup) -> None:  # noqa: ANN001
    services, root, doctor_id = setup
    saved = services.scheduling.create_schedule(root, form(doctor_id))
    assert saved.slots.created == 2  # Monday 23rd and Monday 30th (today + 7 days)
    assert slots(services) == [(MONDAY, "AM", 20, 0), (MONDAY + timedelta(7), "AM", 20, 0)]
    overview = services.scheduling.slot_overview(start=MONDAY, days=7)
    assert [(r.doctor_name, r.department_name, r.fee_fen, r.period_label) for r in overview] == [
        ("王建国", "内科", 5000, "上午")] * 2


def test_schedule_in_the_past_is_refused_at_the_field_and_nothing_saved(setup) -> None:  # noqa: ANN001
    services, root, doctor_id = setup
    with pytest.raises(ValidationError, match="生效日期不能早于今天") as err:
        services.scheduling.create_schedule(root, form(doctor_id, valid_from=MONDAY - timedelta(days=1)))
    assert err.value.field == "valid_from"
    assert services.scheduling.list_schedules() == [] and slots(services) == []


@pytest.mark.parametrize("changes, field, message", [
    ({"end_time": time(8)}, "end_time", "结束时间应晚于开始时间"),
    ({"capacity": 0}, "capacity", "号源数应在"),
    ({"fee_yuan": "abc"}, "fee", "金额格式不正确"),
    ({"period": "XX"}, "period", "请选择时段"),
    ({"weekday": 7}, "weekday", "请选择星期"),
    ({"doctor_id": None}, "doctor_id", "请选择医生"),
    ({"valid_to": MONDAY - timedelta(days=1)}, "valid_to", "停止日期不能早于生效日期"),
])
def test_bad_schedule_refused_at_the_field(setup, changes: dict, field: str, message: str) -> None:  # noqa: ANN001
    services, root, doctor_id = setup
    with pytest.raises(ValidationError, match=message) as err:
        services.scheduling.create_schedule(root, form(doctor_id, **changes))
    assert err.value.field == field
    assert slots(services) == []


def test_overlapping_schedule_refused(setup) -> None:  # noqa: ANN001
    services, root, doctor_id = setup
    services.scheduling.create_schedule(root, form(doctor_id))
    with pytest.raises(Conflict, match="周一上午已有排班") as err:
        services.scheduling.create_schedule(root, form(doctor_id, valid_from=MONDAY + timedelta(days=14)))
    assert err.value.field == "valid_from"
    # A successor that starts after the first one ends is fine.
    first = services.scheduling.list_schedules()[0]
    services.scheduling.update_schedule(root, first.id, form(doctor_id, valid_to=MONDAY + timedelta(days=13)))
    services.scheduling.create_schedule(root, form(doctor_id, valid_from=MONDAY + timedelta(days=14),
                                                   capacity=30))


def test_generation_is_idempotent_and_rolls_forward(setup) -> None:  # noqa: ANN001
    services, root, doctor_id = setup
    for weekday in range(7):
        services.scheduling.create_schedule(root, form(doctor_id, weekday=weekday))
    assert len(slots(services)) == 8  # today .. today + 7
    again = services.scheduling.generate_slots(root)
    assert (again.created, again.updated, again.removed) == (0, 0, 0)
    assert len(slots(services)) == 8
    services.clock.advance(timedelta(days=1))
    report = services.scheduling.generate_slots(root)
    assert report.created == 1 and report.first_day == MONDAY + timedelta(days=1)
    with services.db.reader() as s:
        assert s.execute(select(func.count()).select_from(Slot)).scalar_one() == 9  # history kept


def book(services: Services, slot_date: date) -> None:
    with services.db.session() as s:
        slot = s.execute(select(Slot).where(Slot.date == slot_date)).scalar_one()
        patient = Patient(name="张伟", pinyin="zw", id_type="01", id_number="510104198503121232", sex="M",
                          birth_date=date(1985, 3, 12), created_at=services.clock.now())
        s.add(patient)
        s.flush()
        s.execute(update(Slot).where(Slot.id == slot.id).values(taken=Slot.taken + 1))
        s.add(Visit(visit_no="V1", patient_id=patient.id, slot_id=slot.id, department_id=slot.department_id,
                    doctor_id=slot.doctor_id, visit_date=slot.date, created_at=services.clock.now()))


def test_booked_slots_are_never_dropped_or_changed(setup) -> None:  # noqa: ANN001
    services, root, doctor_id = setup
    saved = services.scheduling.create_schedule(root, form(doctor_id))
    book(services, MONDAY)
    changed = services.scheduling.update_schedule(root, saved.row.id, form(doctor_id, capacity=35))
    assert (changed.slots.updated, changed.slots.kept_booked) == (1, 1)
    assert slots(services) == [(MONDAY, "AM", 20, 1), (MONDAY + timedelta(7), "AM", 35, 0)]
    stopped = services.scheduling.update_schedule(root, saved.row.id, form(doctor_id, capacity=35, active=False))
    assert (stopped.slots.removed, stopped.slots.kept_booked) == (1, 1)
    assert slots(services) == [(MONDAY, "AM", 20, 1)]
    assert "已有挂号" in stopped.slots.summary()


def test_past_start_may_stay_when_editing_an_existing_schedule(setup) -> None:  # noqa: ANN001
    services, root, doctor_id = setup
    saved = services.scheduling.create_schedule(root, form(doctor_id))
    services.clock.advance(timedelta(days=3))
    services.scheduling.update_schedule(root, saved.row.id, form(doctor_id, capacity=25))  # start unchanged
    with pytest.raises(ValidationError, match="不能早于今天"):
        services.scheduling.update_schedule(root, saved.row.id, form(doctor_id, valid_from=MONDAY + timedelta(1)))


def test_inactive_doctor_gets_no_new_slots(setup) -> None:  # noqa: ANN001
    services, root, doctor_id = setup
    services.scheduling.create_schedule(root, form(doctor_id))
    doctor = services.organisation.list_doctors()[0]
    services.organisation.update_doctor(root, doctor_id, DoctorForm(doctor.department_id, doctor.name,
                                                                    fee_yuan="50", active=False))
    assert services.scheduling.generate_slots(root).removed == 2
    assert slots(services) == []


def test_only_admins_schedule(setup) -> None:  # noqa: ANN001
    services, _root, doctor_id = setup
    cashier = add_staff(services, "cash", Role.CASHIER)
    with pytest.raises(PermissionDenied, match="排班与号源管理"):
        services.scheduling.create_schedule(cashier, form(doctor_id))
    with pytest.raises(PermissionDenied):
        services.scheduling.generate_slots(cashier)
    with services.db.reader() as s:
        assert s.execute(select(func.count()).select_from(Schedule)).scalar_one() == 0
