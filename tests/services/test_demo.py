"""Demo seed: idempotent, the departments/doctors/slots/catalogue/staff/patients the README promises."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from desktop_his.services import audit, ids
from desktop_his.services.container import Services
from desktop_his.services.demo import DEMO_ACCOUNTS, DOCTOR_PASSWORD, PATIENTS, seed_demo
from desktop_his.services.enums import Role
from desktop_his.services.models import CatalogItem, Department, Doctor, Patient, Schedule, Slot, Staff


def seed(services: Services):  # noqa: ANN201
    return seed_demo(services.db, services.clock, hash_password=services.auth.hash_password)


def counts(services: Services) -> dict[str, int]:
    with services.db.reader() as s:
        return {m.__tablename__: s.execute(select(func.count()).select_from(m)).scalar_one()
                for m in (Department, Doctor, Schedule, Slot, CatalogItem, Staff, Patient)}


def test_seed_is_idempotent(services: Services) -> None:
    first = seed(services)
    assert first.created["departments"] >= 8 and first.created["patients"] == len(PATIENTS)
    before = counts(services)
    second = seed(services)
    assert second.total == 0 and counts(services) == before
    with services.db.reader() as s:
        assert audit.verify(s).ok


def test_departments_and_their_restrictions(sqlite_services: Services) -> None:
    seed(sqlite_services)
    depts = {d.name: d for d in sqlite_services.organisation.list_departments()}
    for name in ("内科", "外科", "儿科", "妇科", "产科", "眼科", "口腔科", "预防接种门诊", "西药房", "检验科",
                 "放射科", "治疗室", "住院处", "财务科"):
        assert name in depts and depts[name].location
    assert depts["儿科"].max_age == 16
    assert depts["妇科"].sex_restriction == depts["产科"].sex_restriction == "F"
    assert depts["预防接种门诊"].kind == "vaccination"


def test_doctors_have_fees_and_slots_for_the_next_seven_days(sqlite_services: Services) -> None:
    services = sqlite_services
    seed(services)
    doctors = services.organisation.list_doctors()
    clinical = {d.department_name for d in doctors}
    assert {"内科", "外科", "儿科", "妇科", "产科", "眼科", "口腔科"} <= clinical
    fees = {d.title: d.registration_fee_fen for d in doctors}
    assert fees == {"主任医师": 5000, "副主任医师": 3000, "主治医师": 1500, "医师": 800}
    today = services.clock.today()
    slots = services.scheduling.slot_overview(start=today, days=7)
    assert {s.date for s in slots} >= {today + timedelta(days=n) for n in range(6)}  # Sunday has no clinic
    assert max(s.date for s in slots) <= today + timedelta(days=7)
    assert all(s.capacity > 0 and s.taken == 0 for s in slots)


def test_every_demo_patient_validates_and_the_child_has_a_guardian(sqlite_services: Services) -> None:
    seed(sqlite_services)
    with sqlite_services.db.reader() as s:
        patients = s.execute(select(Patient)).scalars().all()
    assert {p.name for p in patients} == {p[0] for p in PATIENTS}
    assert {p.id_type for p in patients} == {"01", "02", "03", "04"}
    for p in patients:
        parsed = ids.parse_id(p.id_type, p.id_number)
        if parsed.birth_date:
            assert (parsed.birth_date, parsed.sex) == (p.birth_date, p.sex)
    child = next(p for p in patients if p.name == "张小明")
    assert (child.guardian_name, child.guardian_id_number) == ("张伟", "510104198503121232")
    assert any(p.name == "𠮷野" for p in patients)  # the rare character survives the round trip


def test_demo_accounts_log_in_with_documented_passwords(sqlite_services: Services) -> None:
    services = sqlite_services
    seed(services)
    seen = set()
    for account in DEMO_ACCOUNTS:
        actor = services.auth.login(account.username, account.password, workstation="WS").actor
        seen |= actor.roles
    doctor = services.auth.login("doctor1", DOCTOR_PASSWORD, workstation="WS").actor
    assert doctor.doctor_id is not None and doctor.department_id is not None
    assert seen | doctor.roles == set(Role)
    with services.db.reader() as s:
        linked = s.execute(select(func.count()).select_from(Doctor).where(Doctor.staff_id.is_not(None))).scalar_one()
        assert linked == s.execute(select(func.count()).select_from(Doctor)).scalar_one()


def test_catalogue_covers_every_kind_the_workflows_need(sqlite_services: Services) -> None:
    seed(sqlite_services)
    items = sqlite_services.catalog.list_items()
    kinds = {i.kind for i in items}
    assert {"registration", "drug", "lab", "exam", "treatment", "vaccine", "bed"} <= kinds
    names = {i.name for i in items}
    assert {"血常规（五分类）", "尿常规", "肝功能", "胸部DR（正位）", "常规心电图", "流感疫苗（四价）"} <= names
    assert all(i.price_fen > 0 for i in items)
    assert all(i.exec_location for i in items if i.kind in ("drug", "lab", "exam", "vaccine"))


def test_patients_are_exactly_those_of_the_demo_data_document() -> None:
    from pathlib import Path

    from desktop_his.services.ids import ID_TYPE_LABELS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "demo-data.md").read_text(encoding="utf-8")
    section = doc.split("## Patients")[1].split("\n## ")[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in section.splitlines()
            if line.startswith("| ") and not line.startswith("| name") and "---" not in line]
    labels = {v: k for k, v in ID_TYPE_LABELS.items()}
    documented = {(r[0], labels[r[1]], r[2], {"男": "M", "女": "F"}[r[3]], r[4]) for r in rows}
    seeded = {(name, t, number, sex, born.isoformat()) for name, t, number, sex, born, _phone in PATIENTS}
    assert seeded == documented


def test_demo_accounts_are_documented() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    doc = (root / "docs" / "demo-data.md").read_text(encoding="utf-8")
    for account in DEMO_ACCOUNTS:
        assert f"`{account.password}`" in readme and f"| `{account.username}` | `{account.password}` |" in doc
    assert f"`{DOCTOR_PASSWORD}`" in readme
