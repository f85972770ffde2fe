"""Small builders of valid test data, shared by every engineer's tests.

Every builder takes an open session, adds one row with sensible defaults (override any column by keyword),
flushes so the id is set, and returns the ORM object. Names, codes and ID numbers are unique per call, so a
test can build as many as it likes. ``make_visit`` books a place the way the registration service does
(takes the slot's next queue number, bumps ``taken``) and publishes ``doctor:<id>`` in the same transaction.

    with db.session() as s:
        dept = make_department(s, "内科")
        doctor = make_doctor(s, dept)
        slot = make_slot(s, doctor, clock.today())
        visit = make_visit(s, make_patient(s), slot, credit=True)
    actor = doctor_actor(doctor)

``make_hospital`` builds a whole small outpatient setting (departments incl. pharmacy, lab, imaging and the
vaccination clinic, a doctor with a slot today, a cashier, a nurse and one catalogue item of each kind).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy.orm import Session

from desktop_his.services import live, pinyin
from desktop_his.services.enums import (
    CatalogKind,
    DepartmentKind,
    IdType,
    Period,
    Role,
    Sex,
    VisitStatus,
)
from desktop_his.services.ids import resident_check_char
from desktop_his.services.models import (
    Admission,
    CatalogItem,
    Department,
    Doctor,
    MedicalOrder,
    OrderItem,
    Patient,
    Slot,
    Staff,
    StaffRole,
    Visit,
)
from desktop_his.services.permissions import Actor

AT = datetime(2026, 11, 23, 8, 0)  # creation stamp for set-up rows (before the clock fixture's 09:00)
_seq = itertools.count(1)
_PERIOD_HOURS = {Period.MORNING: (time(8), time(12)), Period.AFTERNOON: (time(14), time(17, 30)),
                 Period.EVENING: (time(18), time(21))}


def _n() -> int:
    return next(_seq)


def resident_id(birth: date, sex: str = Sex.MALE, region: str = "510104", serial: int | None = None) -> str:
    """A valid 18-digit 居民身份证 number (checksum, birth date and sex digit consistent)."""
    serial = _n() if serial is None else serial
    # Sequence digits 15-17 (odd last digit = male); the region varies too, so 4.5 million stay unique.
    sequence = (serial % 500) * 2 + (1 if sex == Sex.MALE else 0)
    region = region if serial < 500 else f"{region[:2]}{1000 + (serial // 500) % 9000:04d}"
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + resident_check_char(first17)


def make_department(s: Session, name: str | None = None, *, kind: str = DepartmentKind.CLINICAL,
                    location: str = "门诊楼二楼", **kw: Any) -> Department:
    n = _n()
    name = name or f"科室{n}"
    dept = Department(code=kw.pop("code", f"D{n:04d}"), name=name, pinyin=pinyin.initials(name), kind=kind,
                      location=location, **kw)
    s.add(dept)
    s.flush()
    return dept


def make_staff(s: Session, *roles: Role, username: str | None = None, full_name: str | None = None,
               department: Department | None = None, **kw: Any) -> Staff:
    n = _n()
    staff = Staff(username=username or f"user{n}", full_name=full_name or f"员工{n}",
                  password_hash="argon2$test-not-a-real-hash", created_at=AT,
                  department_id=department.id if department else None, **kw)
    staff.roles = [StaffRole(role=str(r)) for r in roles]
    s.add(staff)
    s.flush()
    return staff


def make_doctor(s: Session, department: Department, name: str | None = None, *, fee_fen: int = 1000,
                with_staff: bool = True, **kw: Any) -> Doctor:
    name = name or f"医生{_n()}"
    staff = make_staff(s, Role.DOCTOR, full_name=name, department=department) if with_staff else None
    doctor = Doctor(department_id=department.id, name=name, pinyin=pinyin.initials(name),
                    staff_id=staff.id if staff else None, registration_fee_fen=fee_fen,
                    room=kw.pop("room", f"{department.name}{_n() % 20 + 1}诊室"), **kw)
    doctor.staff = staff  # loaded now, so doctor_actor() works after the session closed
    s.add(doctor)
    s.flush()
    return doctor


def make_slot(s: Session, doctor: Doctor, day: date, period: str = Period.MORNING, *, capacity: int = 30,
              fee_fen: int | None = None, **kw: Any) -> Slot:
    start, end = _PERIOD_HOURS[Period(period)]
    slot = Slot(doctor_id=doctor.id, department_id=doctor.department_id, date=day, period=str(period),
                start_time=start, end_time=end, capacity=capacity, taken=0, next_queue_no=1,
                fee_fen=doctor.registration_fee_fen if fee_fen is None else fee_fen, **kw)
    s.add(slot)
    s.flush()
    return slot


def make_patient(s: Session, name: str | None = None, *, sex: str = Sex.MALE, birth: date = date(1985, 3, 12),
                 id_type: str = IdType.RESIDENT, id_number: str | None = None, **kw: Any) -> Patient:
    name = name or f"患者{_n()}"
    if id_number is None:
        id_number = resident_id(birth, sex) if id_type == IdType.RESIDENT else f"P{_n():08d}"
    patient = Patient(name=name, pinyin=pinyin.initials(name), id_type=str(id_type), id_number=id_number,
                      sex=str(sex), birth_date=birth, created_at=AT, **kw)
    s.add(patient)
    s.flush()
    return patient


def make_visit(s: Session, patient: Patient, slot: Slot, *, status: str = VisitStatus.CHECKED_IN,
               credit: bool = False, family_pay: bool = False, fee_status: str | None = None,
               at: datetime | None = None, publish: bool = True, **kw: Any) -> Visit:
    """A registration on ``slot`` (queue number = the slot's next), as the registration service books it."""
    at = at or datetime.combine(slot.date, time(7, 30))
    queue_no = kw.pop("queue_no", None) or slot.next_queue_no
    slot.next_queue_no = max(slot.next_queue_no, queue_no + 1)
    slot.taken += 1
    visit = Visit(
        visit_no=kw.pop("visit_no", f"V{slot.date:%Y%m%d}{_n():06d}"), patient_id=patient.id, slot_id=slot.id,
        department_id=slot.department_id, doctor_id=slot.doctor_id, visit_date=slot.date, period=slot.period,
        queue_no=queue_no, kind="outpatient", status=str(status), fee_fen=slot.fee_fen,
        fee_status=fee_status or ("locked" if credit else "paid"), credit=credit, family_pay=family_pay,
        agreement_no=kw.pop("agreement_no", f"AG{patient.id:08d}" if credit else None),
        credit_confirmed_at=at if credit else None, created_at=at,
        checked_in_at=at if status in (VisitStatus.CHECKED_IN, VisitStatus.CALLED, VisitStatus.SEEN) else None,
        **kw,
    )
    s.add(visit)
    s.flush()
    if publish:
        live.publish(s, f"doctor:{slot.doctor_id}")
    return visit


def make_catalog_item(s: Session, name: str | None = None, kind: str = CatalogKind.DRUG, price_fen: int = 1250,
                      *, exec_department: Department | None = None, **kw: Any) -> CatalogItem:
    n = _n()
    name = name or f"项目{n}"
    item = CatalogItem(code=kw.pop("code", f"C{n:05d}"), name=name, pinyin=pinyin.initials(name), kind=str(kind),
                       price_fen=price_fen, unit=kw.pop("unit", "盒" if kind == CatalogKind.DRUG else "次"),
                       exec_department_id=exec_department.id if exec_department else None, updated_at=AT, **kw)
    s.add(item)
    s.flush()
    return item


def make_admission(s: Session, patient: Patient, doctor: Doctor, *, ward: str = "内科一病区", bed: str | None = None,
                   at: datetime | None = None, daily_bed_fen: int = 6000, **kw: Any) -> Admission:
    """A current admission (as ``InpatientService.admit`` writes it) to a free bed of ``ward``."""
    at = at or AT
    admission = Admission(
        admission_no=kw.pop("admission_no", f"Z{at:%Y%m%d}{_n():06d}"), patient_id=patient.id,
        department_id=doctor.department_id, doctor_id=doctor.id, ward=ward, bed=bed or f"{_n()}",
        diagnosis=kw.pop("diagnosis", "社区获得性肺炎"), daily_bed_fen=daily_bed_fen, admitted_at=at,
        status=kw.pop("status", "admitted"), family_pay=kw.pop("family_pay", False), **kw,
    )
    s.add(admission)
    s.flush()
    return admission


def make_inpatient_order(s: Session, admission: Admission, lines: list[tuple[CatalogItem, int]], *,
                         status: str = "submitted", at: datetime | None = None, **kw: Any) -> MedicalOrder:
    """A submitted inpatient order (``kind="inpatient"``, ``admission_id`` set) with one item per line."""
    at = at or AT
    order = MedicalOrder(order_no=kw.pop("order_no", f"O{at:%Y%m%d}{_n():06d}"), kind="inpatient",
                         patient_id=admission.patient_id, admission_id=admission.id, doctor_id=admission.doctor_id,
                         department_id=admission.department_id, status=status, fee_status=kw.pop("fee_status", "unpaid"),
                         created_at=at, submitted_at=at if status != "draft" else None, **kw)
    order.items = [OrderItem(catalog_item_id=item.id, name=item.name, kind=item.kind, spec=item.spec, unit=item.unit,
                             unit_price_fen=item.price_fen, quantity=qty, amount_fen=item.price_fen * qty)
                   for item, qty in lines]
    order.total_fen = sum(i.amount_fen for i in order.items)
    s.add(order)
    s.flush()
    return order


def actor_for(staff: Staff, *, workstation: str = "WS-TEST", doctor: Doctor | None = None) -> Actor:
    return Actor(staff.id, staff.username, staff.full_name, frozenset(Role(r.role) for r in staff.roles),
                 workstation, department_id=staff.department_id, doctor_id=doctor.id if doctor else None)


def doctor_actor(doctor: Doctor, *, workstation: str = "DOC-01") -> Actor:
    """The doctor's signed-in Actor (the doctor must have been made ``with_staff``)."""
    if doctor.staff is None:
        raise ValueError("doctor_actor needs a doctor made with_staff=True")
    return Actor(doctor.staff_id, doctor.staff.username, doctor.name, frozenset({Role.DOCTOR}), workstation,
                 department_id=doctor.department_id, doctor_id=doctor.id)


@dataclass
class Hospital:
    """A small outpatient setting; every row already has its id."""

    internal: Department  # 内科
    pharmacy: Department  # 西药房
    lab: Department  # 检验科
    imaging: Department  # 放射科
    vaccination: Department  # 预防接种门诊
    doctor: Doctor
    slot: Slot  # the doctor's morning sitting on ``day``
    cashier: Staff
    nurse: Staff
    drug: CatalogItem  # 阿莫西林胶囊 ¥12.50 / 盒
    lab_test: CatalogItem  # 血常规 ¥25.00
    exam: CatalogItem  # 胸部X线摄影 ¥80.00
    treatment: CatalogItem  # 静脉输液 ¥15.00
    vaccine: CatalogItem  # 流感疫苗 ¥128.00
    day: date

    @property
    def doctor_actor(self) -> Actor:
        return doctor_actor(self.doctor)

    @property
    def cashier_actor(self) -> Actor:
        return actor_for(self.cashier, workstation="WIN-01")

    @property
    def nurse_actor(self) -> Actor:
        return actor_for(self.nurse, workstation="VAC-01")


def make_hospital(s: Session, day: date) -> Hospital:
    """One per database: department names are fixed (内科, 西药房, 检验科, 放射科, 预防接种门诊)."""
    internal = make_department(s, "内科")
    pharmacy = make_department(s, "西药房", kind=DepartmentKind.PHARMACY, location="门诊楼一楼")
    lab = make_department(s, "检验科", kind=DepartmentKind.LAB, location="门诊楼三楼")
    imaging = make_department(s, "放射科", kind=DepartmentKind.IMAGING, location="医技楼一楼")
    vaccination = make_department(s, "预防接种门诊", kind=DepartmentKind.VACCINATION,
                                  location="保健楼一楼")
    doctor = make_doctor(s, internal, "李医生", fee_fen=1000)
    return Hospital(
        internal=internal, pharmacy=pharmacy, lab=lab, imaging=imaging, vaccination=vaccination,
        doctor=doctor, slot=make_slot(s, doctor, day),
        cashier=make_staff(s, Role.CASHIER, full_name="王收费"),
        nurse=make_staff(s, Role.IMMUNIZATION, full_name="赵护士", department=vaccination),
        drug=make_catalog_item(s, "阿莫西林胶囊", CatalogKind.DRUG, 1250, exec_department=pharmacy,
                               spec="0.25g*24粒"),
        lab_test=make_catalog_item(s, "血常规", CatalogKind.LAB, 2500, exec_department=lab),
        exam=make_catalog_item(s, "胸部X线摄影", CatalogKind.EXAM, 8000, exec_department=imaging),
        treatment=make_catalog_item(s, "静脉输液", CatalogKind.TREATMENT, 1500, exec_department=internal),
        vaccine=make_catalog_item(s, "流感疫苗", CatalogKind.VACCINE, 12800, exec_department=vaccination,
                                  unit="支"),
        day=day,
    )


# The people of docs/demo-data.md, as the bank sandbox knows them (name, sex, birth, resident ID).
DEMO_PEOPLE = {
    "张伟": ("M", date(1985, 3, 12), "510104198503121232"),  # holder ¥5,000, XYDEMO000001
    "李娜": ("F", date(1987, 7, 21), "510104198707212347"),  # 亲情付 member of 张伟
    "张小明": ("M", date(2018, 6, 15), "510104201806150510"),  # 亲情付 member of 张伟, child
    "王芳": ("F", date(1990, 1, 5), "510105199001052020"),  # holder, low credit ¥30
    "刘洋": ("M", date(1978, 11, 30), "510106197811301014"),  # not signed
    "陈静": ("F", date(1965, 5, 18), "510107196505182020"),  # holder ¥20,000
    "孙丽": ("F", date(1980, 9, 9), "510112198009092042"),  # holder ¥50,000
    "吴敏": ("F", date(2001, 6, 6), "510104200106064027"),  # terminated
}


def make_demo_patient(s: Session, name: str) -> Patient:
    """A patient the bank sandbox's demo data knows (so sign-status queries answer for real)."""
    sex, birth, number = DEMO_PEOPLE[name]
    existing = s.query(Patient).filter_by(id_type="01", id_number=number).one_or_none()
    if existing is not None:
        return existing
    patient = Patient(name=name, pinyin=pinyin.initials(name), id_type="01", id_number=number, sex=sex,
                      birth_date=birth, phone="13800000000", created_at=datetime(2026, 11, 1, 8))
    s.add(patient)
    s.flush()
    return patient
