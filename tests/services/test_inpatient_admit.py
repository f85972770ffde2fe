"""Admission: validation, one current admission per bed and per patient (also against a racing desk)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from desktop_his.services.db import Database
from desktop_his.services.enums import Role
from desktop_his.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from desktop_his.services.models import Admission, AuditRecord
from tests import factories as f
from tests.services.inpatientfix import World, make_world


@pytest.fixture
def w(db: Database, clock) -> World:  # noqa: ANN001
    return make_world(db, clock)


def count(db: Database) -> int:
    with db.reader() as s:
        return s.execute(select(func.count()).select_from(Admission)).scalar_one()


def test_admit_numbers_audits_and_shows_the_admission(w: World, db: Database) -> None:
    a = w.admit(bed=" 12 ")
    assert a.admission_no == "Z20261123000001" and a.status == "admitted" and a.status_label == "在院"
    assert (a.ward, a.bed, a.department_name, a.doctor_name, a.daily_bed_fen) == ("内科一病区", "12", "呼吸内科",
                                                                                   "陈医生", 6000)
    assert a.patient_name == "孙丽" and "*" in a.id_number_masked
    assert w.admit(w.patients[1], bed="2").admission_no == "Z20261123000002"
    with db.reader() as s:
        record = s.execute(select(AuditRecord).where(AuditRecord.action == "inpatient.admitted")).scalars().first()
        assert record.detail["admission_no"] == a.admission_no and record.detail["bed"] == "12"
    assert [x.bed for x in w.svc.current_admissions(w.clerk)] == ["2", "12"]  # natural bed order
    assert w.svc.current_admission_of(w.clerk, w.patients[0]).id == a.id
    assert w.svc.current_admission_of(w.clerk, w.patients[2]) is None


def admit_kw(w: World, **kw) -> dict:  # noqa: ANN003
    args = {"department_id": w.department_id, "ward": "内科一病区", "bed": "8", "doctor_id": w.doctor_id,
            "diagnosis": "肺炎", "daily_bed_fen": 6000}
    args.update(kw)
    return args


@pytest.mark.parametrize("kw, field", [
    ({"ward": "  "}, "ward"),
    ({"ward": "病" * 51}, "ward"),
    ({"bed": ""}, "bed"),
    ({"bed": "床" * 21}, "bed"),
    ({"diagnosis": ""}, "diagnosis"),
    ({"diagnosis": "肺" * 501}, "diagnosis"),
    ({"diagnosis": "肺炎\x00"}, "diagnosis"),
    ({"daily_bed_fen": -1}, "daily_bed_fen"),
    ({"daily_bed_fen": 60.0}, "daily_bed_fen"),
    ({"daily_bed_fen": True}, "daily_bed_fen"),
    ({"daily_bed_fen": 1_000_001}, "daily_bed_fen"),
    ({"doctor_id": 99999}, "doctor_id"),
    ({"department_id": 99999}, "department_id"),
])
def test_bad_input_saves_nothing(w: World, db: Database, kw: dict, field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        w.svc.admit(w.clerk, w.patients[0], **admit_kw(w, **kw))
    assert exc.value.field == field
    assert count(db) == 0


def test_doctor_of_another_department_and_inactive_or_non_clinical_department(w: World, db: Database) -> None:
    with pytest.raises(ValidationError, match="周医生不是呼吸内科的医生") as exc:
        w.svc.admit(w.clerk, w.patients[0], **admit_kw(w, doctor_id=w.other_doctor_id))
    assert exc.value.field == "doctor_id"
    with pytest.raises(ValidationError) as exc:
        w.svc.admit(w.clerk, w.patients[0], **admit_kw(w, department_id=w.office_id))
    assert exc.value.field == "department_id"
    with pytest.raises(NotFound):
        w.svc.admit(w.clerk, 99999, **admit_kw(w))
    assert count(db) == 0


def test_a_diagnosis_keeps_its_words_in_one_line(w: World) -> None:
    a = w.svc.admit(w.clerk, w.patients[0], **admit_kw(w, diagnosis="  社区获得性肺炎\n  2型糖尿病 "))
    assert a.diagnosis == "社区获得性肺炎 2型糖尿病"


def test_occupied_bed_and_patient_already_in_hospital_are_refused(w: World, db: Database) -> None:
    first = w.admit(bed="3")
    with pytest.raises(Conflict, match=f"已有在院患者（住院号 {first.admission_no}）") as exc:
        w.admit(w.patients[1], bed="3")
    assert exc.value.field == "bed"
    with pytest.raises(Conflict, match="该患者已在院") as exc:
        w.admit(w.patients[0], bed="4")
    assert exc.value.field == "patient_id"
    # The same bed number in another ward is another bed.
    assert w.admit(w.patients[1], bed="3", ward="内科二病区").bed == "3"
    assert count(db) == 2


def test_a_settled_admission_frees_its_bed_and_its_patient(w: World, db: Database) -> None:
    first = w.admit(bed="5")
    with db.session() as s:
        s.get(Admission, first.id).status = "settled"
    assert w.admit(w.patients[1], bed="5").bed == "5"
    assert w.admit(w.patients[0], bed="6").admission_no != first.admission_no


def test_the_database_itself_refuses_a_second_current_admission(w: World, db: Database) -> None:
    """What a desk that lost the race hits: the partial unique indexes (the service maps it to Conflict)."""
    w.admit(bed="7")
    with db.session() as s:
        doctor = s.get(f.Doctor, w.doctor_id)
        patient = s.get(f.Patient, w.patients[1])
        with pytest.raises(IntegrityError):
            f.make_admission(s, patient, doctor, ward="内科一病区", bed="7")
    with db.session() as s:
        patient = s.get(f.Patient, w.patients[0])
        with pytest.raises(IntegrityError):
            f.make_admission(s, patient, s.get(f.Doctor, w.doctor_id), bed="77")
    with db.session() as s:  # settled ones do not count
        f.make_admission(s, s.get(f.Patient, w.patients[0]), s.get(f.Doctor, w.doctor_id), ward="内科一病区",
                         bed="7", status="settled")


def test_racing_desk_gets_a_conflict_not_a_crash(w: World, db: Database, monkeypatch) -> None:  # noqa: ANN001
    """The check passed on both desks; the second insert meets the index and is reported as a Conflict."""
    w.admit(bed="9")
    monkeypatch.setattr(type(w.svc), "_check_admit", staticmethod(lambda *a: None))
    with pytest.raises(Conflict, match="刚刚已被办理入院") as exc:
        w.admit(w.patients[1], bed="9")
    assert exc.value.field == "bed"
    assert count(db) == 1


def test_only_the_admission_desk_admits(w: World, db: Database) -> None:
    with db.session() as s:
        cashier = f.actor_for(f.make_staff(s, Role.CASHIER))
    with pytest.raises(PermissionDenied):
        w.svc.admit(cashier, w.patients[0], **admit_kw(w))
    with pytest.raises(PermissionDenied):
        w.svc.current_admissions(cashier)
