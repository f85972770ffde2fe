"""Each registration rule (SPEC §5): its own code and Chinese message; nothing saved when refused. No Qt."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from desktop_his.services import registration_rules as rr
from desktop_his.services.db import Database
from desktop_his.services.enums import DepartmentKind, Period, Sex
from desktop_his.services.models import AuditRecord, Department, Doctor, Patient, Slot, Visit
from desktop_his.services.registration import RegistrationService
from desktop_his.services.rules_config import RegistrationRules, save_rules
from tests.services import regfix

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 9, 0)


@pytest.fixture
def world(db: Database):  # noqa: ANN201
    """内科 with two doctors, 外科, 妇科 (women only), 儿科 (≤ 16), 老年科 (≥ 60); a man and a boy."""
    with db.session() as s:
        ids = {}
        nk = regfix.department(s, "内科")
        wk = regfix.department(s, "外科")
        fk = regfix.department(s, "妇科", sex_restriction=Sex.FEMALE)
        ek = regfix.department(s, "儿科", max_age=16)
        lnk = regfix.department(s, "老年科", min_age=60)
        for key, dept in [("nk", nk), ("wk", wk), ("fk", fk), ("ek", ek), ("lnk", lnk)]:
            ids[key] = regfix.slot(s, regfix.doctor(s, dept), TODAY).id
        ids["nk2"] = regfix.slot(s, regfix.doctor(s, nk), TODAY, Period.AFTERNOON).id
        ids["man"] = regfix.patient(s, "张伟").id
        ids["boy"] = regfix.patient(s, "张小明", birth=date(2018, 6, 15)).id
    return db, ids


def codes(db: Database, patient_id: int, slot_id: int, now: datetime = NOW, **changes) -> list[str]:  # noqa: ANN003
    with db.reader() as s:
        rules = dataclasses.replace(RegistrationRules(), **changes)
        found = rr.check(s, s.get(Patient, patient_id), s.get(Slot, slot_id), now, rules=rules)
        for v in found:
            assert v.message and v.code and v.field in {"slot", "patient"}
        return [v.code for v in found]


def messages(db: Database, patient_id: int, slot_id: int, now: datetime = NOW) -> list[str]:
    with db.reader() as s:
        return [v.message for v in rr.check(s, s.get(Patient, patient_id), s.get(Slot, slot_id), now)]


def edit(db: Database, model, row_id: int, **values) -> None:  # noqa: ANN001, ANN003
    with db.session() as s:
        row = s.get(model, row_id)
        for k, v in values.items():
            setattr(row, k, v)


def test_a_plain_registration_passes(world) -> None:  # noqa: ANN001
    db, ids = world
    assert codes(db, ids["man"], ids["nk"]) == []


def test_blacklist(world) -> None:  # noqa: ANN001
    db, ids = world
    edit(db, Patient, ids["man"], blacklisted_until=TODAY + timedelta(days=10))
    assert codes(db, ids["man"], ids["nk"]) == ["blacklisted"]
    assert "黑名单" in messages(db, ids["man"], ids["nk"])[0] and "12月3日" in messages(db, ids["man"], ids["nk"])[0]
    assert codes(db, ids["man"], ids["nk"], blacklist_enabled=False) == []
    edit(db, Patient, ids["man"], blacklisted_until=TODAY)  # released on that day
    assert codes(db, ids["man"], ids["nk"]) == []


def test_suspended_slot(world) -> None:  # noqa: ANN001
    db, ids = world
    edit(db, Slot, ids["nk"], suspended=True)
    assert codes(db, ids["man"], ids["nk"]) == ["slot_suspended"]
    assert "已停诊" in messages(db, ids["man"], ids["nk"])[0]


def test_full_slot(world) -> None:  # noqa: ANN001
    db, ids = world
    edit(db, Slot, ids["nk"], capacity=3, taken=3)
    assert codes(db, ids["man"], ids["nk"]) == ["slot_full"]
    assert "已挂满" in messages(db, ids["man"], ids["nk"])[0]


def test_booking_window(world) -> None:  # noqa: ANN001
    db, ids = world
    with db.session() as s:
        doc = s.get(Slot, ids["nk"]).doctor
        past = regfix.slot(s, doc, TODAY - timedelta(days=1)).id
        last = regfix.slot(s, doc, TODAY + timedelta(days=7)).id
        beyond = regfix.slot(s, doc, TODAY + timedelta(days=8)).id
    assert codes(db, ids["man"], past) == ["booking_window"]
    assert "已过期" in messages(db, ids["man"], past)[0]
    assert codes(db, ids["man"], last) == []
    assert codes(db, ids["man"], beyond) == ["booking_window"]
    assert "最多可预约7天内" in messages(db, ids["man"], beyond)[0]
    assert codes(db, ids["man"], beyond, booking_days_ahead=14) == []


def test_sitting_over(world) -> None:  # noqa: ANN001
    db, ids = world
    assert codes(db, ids["man"], ids["nk"], now=datetime(2026, 11, 23, 12, 0)) == ["slot_ended"]
    assert codes(db, ids["man"], ids["nk2"], now=datetime(2026, 11, 23, 12, 0)) == []


def test_department_or_doctor_closed(world) -> None:  # noqa: ANN001
    db, ids = world
    with db.reader() as s:
        slot = s.get(Slot, ids["nk"])
        dept_id, doctor_id = slot.department_id, slot.doctor_id
    edit(db, Doctor, doctor_id, active=False)
    assert codes(db, ids["man"], ids["nk"]) == ["department_closed"]
    edit(db, Doctor, doctor_id, active=True)
    edit(db, Department, dept_id, kind=DepartmentKind.PHARMACY)
    assert codes(db, ids["man"], ids["nk"]) == ["department_closed"]
    edit(db, Department, dept_id, kind=DepartmentKind.VACCINATION)
    assert codes(db, ids["man"], ids["nk"]) == []


def test_two_a_day_counting_only_live_registrations(world) -> None:  # noqa: ANN001
    db, ids = world
    with db.session() as s:
        man = s.get(Patient, ids["man"])
        regfix.visit(s, man, s.get(Slot, ids["wk"]))
        regfix.visit(s, man, s.get(Slot, ids["lnk"]), status="no_show")  # a no-show took its place: counts
        regfix.visit(s, man, s.get(Slot, ids["ek"]), status="cancelled")  # cancelled: does not count
    assert codes(db, ids["man"], ids["nk"], department_restrictions=False) == ["max_per_day"]
    assert "每人每天最多挂2个号" in messages(db, ids["man"], ids["nk"])[0]
    assert codes(db, ids["man"], ids["nk"], max_per_day=3) == []
    assert codes(db, ids["man"], ids["nk"], max_per_day=0) == []


def test_nine_a_month(world) -> None:  # noqa: ANN001
    db, ids = world
    with db.session() as s:
        man = s.get(Patient, ids["man"])
        doc = s.get(Slot, ids["wk"]).doctor
        for day in range(1, 10):  # 1–9 November (earlier visits this month)
            regfix.visit(s, man, regfix.slot(s, doc, date(2026, 11, day)))
        regfix.visit(s, man, regfix.slot(s, doc, date(2026, 10, 31)))  # last month: not counted
    assert codes(db, ids["man"], ids["nk"]) == ["max_per_month"]
    assert "2026年11月已挂号9次" in messages(db, ids["man"], ids["nk"])[0]
    assert codes(db, ids["man"], ids["nk"], max_per_month=10) == []


def test_one_per_department_and_doctor(world) -> None:  # noqa: ANN001
    db, ids = world
    with db.session() as s:
        regfix.visit(s, s.get(Patient, ids["man"]), s.get(Slot, ids["nk"]))
    # the afternoon 内科 slot: another doctor, same department
    assert codes(db, ids["man"], ids["nk2"]) == ["one_per_department"]
    assert "同一天同一科室只能挂一个号" in messages(db, ids["man"], ids["nk2"])[0]
    with db.session() as s:
        doc = s.get(Slot, ids["nk"]).doctor
        evening = regfix.slot(s, doc, TODAY, Period.EVENING).id
    assert codes(db, ids["man"], evening) == ["one_per_department", "one_per_doctor"]
    assert codes(db, ids["man"], evening, one_per_department_per_day=False) == ["one_per_doctor"]
    assert "同一天同一医生只能挂一个号" in messages(db, ids["man"], evening)[-1]
    assert codes(db, ids["man"], evening, one_per_department_per_day=False, one_per_doctor_per_day=False) == []


def test_men_cannot_register_for_gynaecology(world) -> None:  # noqa: ANN001
    db, ids = world
    assert codes(db, ids["man"], ids["fk"]) == ["department_sex"]
    assert "男性不能挂妇科" in messages(db, ids["man"], ids["fk"])[0]
    assert codes(db, ids["man"], ids["fk"], department_restrictions=False) == []


def test_adults_cannot_register_for_paediatrics(world) -> None:  # noqa: ANN001
    db, ids = world
    assert codes(db, ids["man"], ids["ek"]) == ["department_age"]
    assert "成人不能挂儿科" in messages(db, ids["man"], ids["ek"])[0]
    assert codes(db, ids["boy"], ids["ek"]) == []
    assert codes(db, ids["boy"], ids["lnk"]) == ["department_age"]
    assert "儿童不能挂老年科" in messages(db, ids["boy"], ids["lnk"])[0]


def test_every_reason_is_reported_and_nothing_is_saved(world, clock) -> None:  # noqa: ANN001
    db, ids = world
    edit(db, Patient, ids["man"], blacklisted_until=TODAY + timedelta(days=30))
    edit(db, Slot, ids["fk"], capacity=1, taken=1)
    svc = RegistrationService(db, clock)
    with pytest.raises(rr.RegistrationRefused) as exc:
        svc.register(regfix.actor(), ids["man"], ids["fk"])
    assert exc.value.codes == ["blacklisted", "slot_full", "department_sex"]
    assert exc.value.code == "blacklisted"
    assert exc.value.message.startswith("不能挂号：\n1. ")
    with db.reader() as s:
        assert s.execute(select(func.count()).select_from(Visit)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(AuditRecord)).scalar_one() == 0
        assert s.get(Slot, ids["fk"]).taken == 1


def test_rules_come_from_the_hospital_settings(world, clock) -> None:  # noqa: ANN001
    db, ids = world
    with db.session() as s:
        save_rules(s, RegistrationRules(department_restrictions=False), at=NOW, by="admin")
    with db.reader() as s:
        assert rr.check(s, s.get(Patient, ids["man"]), s.get(Slot, ids["fk"]), NOW) == []
    visit = RegistrationService(db, clock).register(regfix.actor(), ids["man"], ids["fk"])
    assert visit.department_name == "妇科"


def test_a_hospital_can_add_its_own_rule(world) -> None:  # noqa: ANN001
    db, ids = world

    class NoEveningForChildren:
        code, field = "no_evening_children", "slot"

        def enabled(self, rules: RegistrationRules) -> bool:
            return True

        def check(self, ctx: rr.RuleContext) -> str | None:
            return "儿童不能挂晚间号" if ctx.age <= ctx.rules.child_max_age else None

    engine = rr.RuleEngine(rr.DEFAULT_RULES + (NoEveningForChildren(),))
    with db.reader() as s:
        found = engine.check(s, s.get(Patient, ids["boy"]), s.get(Slot, ids["ek"]), NOW)
    assert [v.code for v in found] == ["no_evening_children"]
