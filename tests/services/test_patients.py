"""PatientService: validation of every document type, guardians, duplicates, search, masking, audit."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import func, select

from desktop_his.services import patients as patients_module
from desktop_his.services.db import Database
from desktop_his.services.enums import IdType, Role, Sex
from desktop_his.services.errors import PermissionDenied, ValidationError
from desktop_his.services.models import AuditRecord, Patient
from desktop_his.services.patients import DuplicatePatient, PatientInput, PatientService, edit_form
from tests.services import regfix

ZHANG = PatientInput(name="张伟", id_type=IdType.RESIDENT, id_number="510104198503121232", phone="13900000001")
CHILD = PatientInput(name="张小明", id_type=IdType.RESIDENT, id_number="510104201806150510",
                     guardian_name="张伟", guardian_id_type=IdType.RESIDENT,
                     guardian_id_number="510104198503121232", guardian_phone="13900000001",
                     guardian_relation="父亲")


@pytest.fixture
def svc(db: Database, clock) -> PatientService:  # noqa: ANN001
    return PatientService(db, clock)


@pytest.fixture
def vsvc(sqlite_db: Database, clock) -> PatientService:  # noqa: ANN001
    """For pure validation tests: nothing storage-specific, so SQLite only."""
    return PatientService(sqlite_db, clock)


@pytest.fixture
def cashier():  # noqa: ANN201
    return regfix.actor(Role.CASHIER)


def count(db: Database) -> int:
    with db.reader() as s:
        return s.execute(select(func.count()).select_from(Patient)).scalar_one()


def test_resident_id_gives_sex_and_birth(svc: PatientService, cashier) -> None:  # noqa: ANN001
    row = svc.create(cashier, ZHANG)
    assert (row.sex, row.birth_date, row.age) == (Sex.MALE, date(1985, 3, 12), 41)
    assert row.id_number == "5101**********1232" == row.id_number_masked


def test_lowercase_x_and_spaces_are_normalised(svc: PatientService, cashier) -> None:  # noqa: ANN001
    number = regfix.resident_id(date(1990, 1, 1), Sex.FEMALE)
    if not number.endswith("X"):
        number = "11010519491231002X"
    row = svc.create(replace(cashier, roles=frozenset({Role.ADMISSION})),
                     replace(ZHANG, id_number=" " + number.lower() + " ", name="测试"))
    assert row.id_number == number


@pytest.mark.parametrize("changes, field, text", [
    ({"sex": Sex.FEMALE}, "sex", "号码显示为男"),
    ({"birth_date": date(1985, 3, 13)}, "birth_date", "1985-03-12"),
    ({"id_number": "510104198503121231"}, "id_number", "校验位"),
    ({"name": ""}, "name", "姓名"),
    ({"name": "张\n伟"}, "name", "控制字符"),
    ({"phone": ""}, "phone", "联系电话"),
    ({"phone": "12345"}, "phone", "格式"),
    ({"id_type": "09"}, "id_type", "证件类型"),
])
def test_invalid_input_is_refused_at_its_field(vsvc: PatientService, cashier, changes, field,
                                               text) -> None:  # noqa: ANN001
    with pytest.raises(ValidationError) as exc:
        vsvc.create(cashier, replace(ZHANG, **changes))
    assert exc.value.field == field
    assert text in exc.value.message
    assert count(vsvc.db) == 0


@pytest.mark.parametrize("id_type, number, bad", [
    (IdType.HK_MACAO, "H12345678", "H1234567"),
    (IdType.HK_MACAO, "M1234567890", "X12345678"),
    (IdType.TAIWAN, "12345678", "1234567"),
    (IdType.PASSPORT, "P98765432", "P9-87"),
    (IdType.PASSPORT, "E12345678", "ABCDEFG"),
])
def test_other_documents_need_sex_and_birth(vsvc: PatientService, cashier, id_type, number, bad) -> None:  # noqa: ANN001
    svc = vsvc
    base = PatientInput(name="黄志强", id_type=id_type, id_number=number, phone="13800000002")
    with pytest.raises(ValidationError) as exc:
        svc.create(cashier, base)
    assert exc.value.field == "sex"
    with pytest.raises(ValidationError) as exc:
        svc.create(cashier, replace(base, sex=Sex.MALE))
    assert exc.value.field == "birth_date"
    with pytest.raises(ValidationError) as exc:
        svc.create(cashier, replace(base, sex=Sex.MALE, birth_date=date(2027, 1, 1)))
    assert exc.value.field == "birth_date"
    with pytest.raises(ValidationError) as exc:
        svc.create(cashier, replace(base, id_number=bad, sex=Sex.MALE, birth_date=date(1975, 4, 4)))
    assert exc.value.field == "id_number"
    row = svc.create(cashier, replace(base, sex=Sex.MALE, birth_date=date(1975, 4, 4)))
    assert (row.id_type, row.sex, row.birth_date) == (id_type, Sex.MALE, date(1975, 4, 4))


def test_latin_name_and_passport(svc: PatientService, cashier) -> None:  # noqa: ANN001
    row = svc.create(cashier, PatientInput(name="John  Smith", id_type=IdType.PASSPORT, id_number="p98765432",
                                           sex=Sex.MALE, birth_date=date(1970, 1, 1), phone="+85212345678"))
    assert (row.name, row.id_type_label) == ("John Smith", "护照")
    assert [r.id for r in svc.search(cashier, "smith")] == [row.id]


@pytest.mark.parametrize("missing, field", [
    ("guardian_name", "guardian_name"),
    ("guardian_id_type", "guardian_id_type"),
    ("guardian_id_number", "guardian_id_number"),
    ("guardian_phone", "guardian_phone"),
    ("guardian_relation", "guardian_relation"),
])
def test_child_needs_a_complete_guardian(vsvc: PatientService, cashier, missing, field) -> None:  # noqa: ANN001
    with pytest.raises(ValidationError) as exc:
        vsvc.create(cashier, replace(CHILD, **{missing: None}))
    assert exc.value.field == field
    assert count(vsvc.db) == 0


def test_guardian_document_is_validated(svc: PatientService, cashier) -> None:  # noqa: ANN001
    for number, text in [("510104198503121233", "校验位"), (CHILD.id_number, "本人相同"),
                         ("510104201506150510"[:17] + "X", "")]:
        with pytest.raises(ValidationError) as exc:
            svc.create(cashier, replace(CHILD, guardian_id_number=number))
        assert exc.value.field == "guardian_id_number"
        assert text in exc.value.message
    minor = regfix.resident_id(date(2012, 1, 1))
    with pytest.raises(ValidationError, match="成年人"):
        svc.create(cashier, replace(CHILD, guardian_id_number=minor))


def test_child_with_guardian_is_filed_without_own_phone(svc: PatientService, cashier) -> None:  # noqa: ANN001
    row = svc.create(cashier, CHILD)
    assert (row.guardian_name, row.guardian_relation, row.phone) == ("张伟", "父亲", "")
    assert row.guardian_id_number == "5101**********1232"
    assert [r.id for r in svc.search(cashier, "13900000001")] == [row.id]  # found by the guardian's phone


def test_child_age_boundary_is_inclusive(svc: PatientService, cashier, clock) -> None:  # noqa: ANN001
    today = clock.today()
    sixteen = regfix.resident_id(date(today.year - 16, today.month, today.day))  # 16 today: still a child
    with pytest.raises(ValidationError) as exc:
        svc.create(cashier, replace(ZHANG, id_number=sixteen))
    assert exc.value.field == "guardian_name"
    seventeen = regfix.resident_id(date(today.year - 17, today.month, today.day))
    assert svc.create(cashier, replace(ZHANG, id_number=seventeen)).age == 17


def test_duplicate_document_is_refused_and_offers_the_existing(svc: PatientService, cashier, db) -> None:  # noqa: ANN001
    first = svc.create(cashier, ZHANG)
    with pytest.raises(DuplicatePatient) as exc:
        svc.create(cashier, replace(ZHANG, name="张伟伟", id_number=ZHANG.id_number.lower()))
    assert exc.value.existing.id == first.id
    assert exc.value.field == "id_number" and "张伟" in exc.value.message
    assert count(db) == 1


def test_duplicate_that_slips_past_the_check_is_still_refused(svc, cashier, db, monkeypatch) -> None:  # noqa: ANN001
    first = svc.create(cashier, ZHANG)
    real = patients_module._by_document
    calls = iter([None])  # the first look-up "misses", as if another window inserted in between
    monkeypatch.setattr(patients_module, "_by_document", lambda s, t, n: next(calls, real(s, t, n)))
    with pytest.raises(DuplicatePatient) as exc:
        svc.create(cashier, ZHANG)
    assert exc.value.existing.id == first.id
    assert count(db) == 1


def test_rare_character_name_round_trips(svc: PatientService, cashier, db: Database) -> None:  # noqa: ANN001
    row = svc.create(cashier, PatientInput(name="𠮷野", id_type=IdType.RESIDENT, id_number="510108199212123019",
                                           phone="13900000007"))
    with db.reader() as s:
        assert s.get(Patient, row.id).name == "𠮷野"
    assert [r.name for r in svc.search(cashier, "𠮷")] == ["𠮷野"]
    assert svc.get(cashier, row.id).name == "𠮷野"


def test_search_by_every_key(svc: PatientService, cashier) -> None:  # noqa: ANN001
    zhang = svc.create(cashier, ZHANG)
    li = svc.create(cashier, PatientInput(name="李娜", id_type=IdType.RESIDENT, id_number="510104198707212347",
                                          phone="13900000002"))
    assert [r.id for r in svc.search(cashier, "510104198503121232")] == [zhang.id]
    assert [r.id for r in svc.search(cashier, "13900000002")] == [li.id]
    assert [r.id for r in svc.search(cashier, "zw")] == [zhang.id]
    assert [r.id for r in svc.search(cashier, "ZW")] == [zhang.id]
    assert [r.id for r in svc.search(cashier, "娜")] == [li.id]
    assert svc.search(cashier, "   ") == []
    assert svc.search(cashier, "100%") == []  # LIKE wildcards are literal


def test_find_by_document(svc: PatientService, cashier) -> None:  # noqa: ANN001
    zhang = svc.create(cashier, ZHANG)
    assert svc.find_by_document(cashier, IdType.RESIDENT, "510104198503121232").id == zhang.id
    assert svc.find_by_document(cashier, IdType.RESIDENT, "510104198707212347") is None


def test_full_id_only_for_roles_that_need_it(svc: PatientService, cashier) -> None:  # noqa: ANN001
    row = svc.create(cashier, ZHANG)
    admission = regfix.actor(Role.ADMISSION)
    assert svc.get(admission, row.id).id_number == ZHANG.id_number
    assert "*" in svc.get(cashier, row.id).id_number


def test_permissions(svc: PatientService) -> None:
    with pytest.raises(PermissionDenied):
        svc.create(regfix.actor(Role.DOCTOR), ZHANG)
    with pytest.raises(PermissionDenied):
        svc.search(regfix.actor(Role.FINANCE), "zw")


def test_creation_is_audited_without_the_full_number(svc: PatientService, cashier, db: Database) -> None:  # noqa: ANN001
    row = svc.create(cashier, ZHANG)
    with db.reader() as s:
        rec = s.execute(select(AuditRecord).where(AuditRecord.action == "patient.created")).scalar_one()
    assert rec.entity_id == str(row.id)
    text = str(rec.detail)
    assert ZHANG.id_number not in text and "13900000001" not in text and "张伟" not in text


def test_update_keeps_masked_numbers_and_audits_changes(svc: PatientService, cashier, db) -> None:  # noqa: ANN001
    created = svc.create(cashier, CHILD)
    form = edit_form(svc.get(cashier, created.id))
    assert "*" in form.id_number and "*" in form.guardian_id_number
    updated = svc.update(cashier, created.id, replace(form, address="成都市锦江区红星路1号"))
    assert updated.address == "成都市锦江区红星路1号"
    with db.reader() as s:
        stored = s.get(Patient, created.id)
        assert (stored.id_number, stored.guardian_id_number) == (CHILD.id_number, CHILD.guardian_id_number)
        rec = s.execute(select(AuditRecord).where(AuditRecord.action == "patient.updated")).scalar_one()
    assert list(rec.detail) == ["address"]


def test_update_to_another_patients_document_is_refused(svc: PatientService, cashier) -> None:  # noqa: ANN001
    zhang = svc.create(cashier, ZHANG)
    li = svc.create(cashier, replace(ZHANG, name="李娜", id_number="510104198707212347"))
    with pytest.raises(DuplicatePatient) as exc:
        svc.update(cashier, li.id, replace(ZHANG, name="李娜"))
    assert exc.value.existing.id == zhang.id
