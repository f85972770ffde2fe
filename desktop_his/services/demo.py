"""Demo data (演示模式): a realistic small hospital for a first start with no configuration.

Idempotent: every record is looked up by its natural key (department code, doctor name within the
department, catalogue code, user name, document number) and only missing ones are added; slots are brought
up to today + the booking window. The patients are exactly those of ``docs/demo-data.md`` (the bank sandbox
knows the same people). Demo accounts and passwords are listed in ``DEMO_ACCOUNTS`` and in the README.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop_his.services import audit, ids, live, money, pinyin
from desktop_his.services.admin.scheduling import DEFAULT_TIMES, generate_slots
from desktop_his.services.clock import Clock
from desktop_his.services.db import Database
from desktop_his.services.enums import DepartmentKind as K
from desktop_his.services.enums import IdType, Period, Role
from desktop_his.services.models import CatalogItem, Department, Doctor, Patient, Schedule, Staff, StaffRole
from desktop_his.services.permissions import Actor
from desktop_his.services.rules_config import load_rules

# code, name, kind, location, sex restriction, min age, max age
DEPARTMENTS = [
    ("NK", "内科", K.CLINICAL, "门诊楼2楼A区", None, None, None),
    ("WK", "外科", K.CLINICAL, "门诊楼2楼B区", None, None, None),
    ("EK", "儿科", K.CLINICAL, "门诊楼1楼东侧", None, None, 16),
    ("FK", "妇科", K.CLINICAL, "门诊楼3楼A区", "F", None, None),
    ("CK", "产科", K.CLINICAL, "门诊楼3楼B区", "F", None, None),
    ("YK", "眼科", K.CLINICAL, "门诊楼4楼A区", None, None, None),
    ("KQK", "口腔科", K.CLINICAL, "门诊楼4楼B区", None, None, None),
    ("YFJZ", "预防接种门诊", K.VACCINATION, "门诊楼1楼西侧", None, None, None),
    ("XYF", "西药房", K.PHARMACY, "门诊楼1楼大厅北侧", None, None, None),
    ("JYK", "检验科", K.LAB, "门诊楼2楼C区（抽血处）", None, None, None),
    ("FSK", "放射科", K.IMAGING, "医技楼1楼", None, None, None),
    ("CSK", "超声科", K.IMAGING, "医技楼2楼", None, None, None),
    ("GNK", "功能检查科", K.IMAGING, "医技楼2楼（心电图室）", None, None, None),
    ("ZLS", "治疗室", K.TREATMENT, "门诊楼1楼注射室旁", None, None, None),
    ("NKBQ", "内科病区", K.WARD, "住院楼5楼", None, None, None),
    ("WKBQ", "外科病区", K.WARD, "住院楼6楼", None, None, None),
    ("MZSF", "门诊收费处", K.ADMINISTRATIVE, "门诊楼1楼大厅", None, None, None),
    ("ZYC", "住院处", K.ADMINISTRATIVE, "住院楼1楼", None, None, None),
    ("CWK", "财务科", K.ADMINISTRATIVE, "行政楼2楼", None, None, None),
]

FEES = {"主任医师": 5000, "副主任医师": 3000, "主治医师": 1500, "医师": 800}
CAPACITY = {"主任医师": 20, "副主任医师": 25, "主治医师": 30, "医师": 40}

# department code → (name, title, room)
DOCTORS = {
    "NK": [("王建国", "主任医师", "内科1诊室"), ("李秀英", "副主任医师", "内科2诊室"), ("陈志华", "主治医师", "内科3诊室")],
    "WK": [("赵卫东", "主任医师", "外科1诊室"), ("刘海涛", "主治医师", "外科2诊室")],
    "EK": [("孙丽华", "副主任医师", "儿科1诊室"), ("周小燕", "主治医师", "儿科2诊室"), ("吴晓东", "医师", "儿科3诊室")],
    "FK": [("郑雅琴", "主任医师", "妇科1诊室"), ("冯静", "主治医师", "妇科2诊室")],
    "CK": [("何美华", "副主任医师", "产科1诊室"), ("许文娟", "主治医师", "产科2诊室")],
    "YK": [("马明远", "副主任医师", "眼科1诊室"), ("朱晓光", "医师", "眼科2诊室")],
    "KQK": [("胡志强", "主治医师", "口腔1诊室"), ("林晓雯", "医师", "口腔2诊室")],
}

# code, name, kind, spec, unit, price (yuan), executing department code
CATALOG = [
    ("GH001", "普通门诊诊查费", "registration", "", "次", "8.00", None),
    ("GH002", "主治医师诊查费", "registration", "", "次", "15.00", None),
    ("GH003", "副主任医师诊查费", "registration", "", "次", "30.00", None),
    ("GH004", "主任医师诊查费", "registration", "", "次", "50.00", None),
    ("YP001", "阿莫西林胶囊", "drug", "0.25g*24粒", "盒", "12.80", "XYF"),
    ("YP002", "头孢克肟分散片", "drug", "0.1g*6片", "盒", "18.50", "XYF"),
    ("YP003", "布洛芬缓释胶囊", "drug", "0.3g*20粒", "盒", "15.60", "XYF"),
    ("YP004", "对乙酰氨基酚片", "drug", "0.5g*12片", "盒", "6.50", "XYF"),
    ("YP005", "复方甘草片", "drug", "100片", "瓶", "4.20", "XYF"),
    ("YP006", "蒙脱石散", "drug", "3g*10袋", "盒", "14.80", "XYF"),
    ("YP007", "奥美拉唑肠溶胶囊", "drug", "20mg*14粒", "盒", "22.40", "XYF"),
    ("YP008", "硝苯地平控释片", "drug", "30mg*7片", "盒", "32.60", "XYF"),
    ("YP009", "盐酸二甲双胍缓释片", "drug", "0.5g*30片", "盒", "19.90", "XYF"),
    ("YP010", "氯雷他定片", "drug", "10mg*6片", "盒", "17.30", "XYF"),
    ("YP011", "小儿氨酚黄那敏颗粒", "drug", "10袋", "盒", "9.80", "XYF"),
    ("YP012", "玻璃酸钠滴眼液", "drug", "0.1%*5ml", "支", "38.50", "XYF"),
    ("YP013", "0.9%氯化钠注射液", "drug", "250ml", "袋", "3.50", "XYF"),
    ("YP014", "5%葡萄糖注射液", "drug", "250ml", "袋", "3.80", "XYF"),
    ("JY001", "血常规（五分类）", "lab", "", "次", "25.00", "JYK"),
    ("JY002", "尿常规", "lab", "", "次", "10.00", "JYK"),
    ("JY003", "肝功能", "lab", "", "次", "60.00", "JYK"),
    ("JY004", "肾功能", "lab", "", "次", "45.00", "JYK"),
    ("JY005", "血脂四项", "lab", "", "次", "40.00", "JYK"),
    ("JY006", "空腹血糖", "lab", "", "次", "5.00", "JYK"),
    ("JY007", "C反应蛋白", "lab", "", "次", "30.00", "JYK"),
    ("JY008", "糖化血红蛋白", "lab", "", "次", "65.00", "JYK"),
    ("JC001", "胸部DR（正位）", "exam", "", "次", "75.00", "FSK"),
    ("JC002", "头颅CT平扫", "exam", "", "次", "280.00", "FSK"),
    ("JC003", "腹部B超（肝胆胰脾）", "exam", "", "次", "120.00", "CSK"),
    ("JC004", "甲状腺B超", "exam", "", "次", "100.00", "CSK"),
    ("JC005", "常规心电图", "exam", "12导联", "次", "25.00", "GNK"),
    ("JC006", "眼底检查", "exam", "", "次", "30.00", "YK"),
    ("ZL001", "静脉输液", "treatment", "", "次", "12.00", "ZLS"),
    ("ZL002", "肌肉注射", "treatment", "", "次", "5.00", "ZLS"),
    ("ZL003", "换药（小）", "treatment", "", "次", "15.00", "ZLS"),
    ("ZL004", "雾化吸入", "treatment", "", "次", "20.00", "ZLS"),
    ("ZL005", "清创缝合（小）", "treatment", "", "次", "120.00", "WK"),
    ("ZL006", "洁牙（全口）", "treatment", "", "次", "150.00", "KQK"),
    ("YM001", "流感疫苗（四价）", "vaccine", "0.5ml", "支", "128.00", "YFJZ"),
    ("YM002", "乙肝疫苗（重组，10μg）", "vaccine", "0.5ml", "支", "68.00", "YFJZ"),
    ("YM003", "HPV疫苗（二价）", "vaccine", "0.5ml", "支", "329.00", "YFJZ"),
    ("YM004", "HPV疫苗（九价）", "vaccine", "0.5ml", "支", "1318.00", "YFJZ"),
    ("YM005", "狂犬疫苗（Vero细胞）", "vaccine", "0.5ml", "支", "275.00", "YFJZ"),
    ("YM006", "23价肺炎球菌多糖疫苗", "vaccine", "0.5ml", "支", "220.00", "YFJZ"),
    ("CW001", "床位费（三人间）", "bed", "", "日", "35.00", "NKBQ"),
    ("CW002", "床位费（双人间）", "bed", "", "日", "60.00", "NKBQ"),
    ("CW003", "床位费（单人间）", "bed", "", "日", "150.00", "NKBQ"),
    ("CW004", "二级护理费", "bed", "", "日", "25.00", "NKBQ"),
]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    full_name: str
    roles: tuple[Role, ...]
    department_code: str | None = None


# Doctors' logins doctor1, doctor2 … follow the order of DOCTORS (doctor1 = 王建国, 内科).
DEMO_ACCOUNTS = [
    DemoAccount("admin", "admin123", "周建平", (Role.ADMIN,)),
    DemoAccount("cashier1", "cashier123", "陈晓红", (Role.CASHIER,), "MZSF"),
    DemoAccount("cashier2", "cashier123", "林小梅", (Role.CASHIER,), "MZSF"),
    DemoAccount("admission1", "admission123", "黄丽", (Role.ADMISSION,), "ZYC"),
    DemoAccount("nurse1", "nurse123", "杨春燕", (Role.IMMUNIZATION,), "YFJZ"),
    DemoAccount("finance1", "finance123", "钱国强", (Role.FINANCE,), "CWK"),
]
DOCTOR_PASSWORD = "doctor123"

# name, ID type, number, sex, born, phone — exactly docs/demo-data.md
PATIENTS = [
    ("张伟", IdType.RESIDENT, "510104198503121232", "M", date(1985, 3, 12), "13800000001"),
    ("李娜", IdType.RESIDENT, "510104198707212347", "F", date(1987, 7, 21), "13800000002"),
    ("张小明", IdType.RESIDENT, "510104201806150510", "M", date(2018, 6, 15), ""),
    ("王芳", IdType.RESIDENT, "510105199001052020", "F", date(1990, 1, 5), "13800000004"),
    ("刘洋", IdType.RESIDENT, "510106197811301014", "M", date(1978, 11, 30), "13800000005"),
    ("陈静", IdType.RESIDENT, "510107196505182020", "F", date(1965, 5, 18), "13800000006"),
    ("𠮷野", IdType.RESIDENT, "510108199212123019", "M", date(1992, 12, 12), "13800000007"),
    ("孙丽", IdType.RESIDENT, "510112198009092042", "F", date(1980, 9, 9), "13800000008"),
    ("周杰", IdType.RESIDENT, "510104199511110036", "M", date(1995, 11, 11), "13800000009"),
    ("吴敏", IdType.RESIDENT, "510104200106064027", "F", date(2001, 6, 6), "13800000010"),
    ("黄志强", IdType.HK_MACAO, "H12345678", "M", date(1975, 4, 4), "13800000011"),
    ("林美玲", IdType.TAIWAN, "12345678", "F", date(1988, 8, 8), "13800000012"),
    ("John Smith", IdType.PASSPORT, "P98765432", "M", date(1970, 1, 1), "13800000013"),
]
GUARDIANS = {"510104201806150510": ("张伟", IdType.RESIDENT, "510104198503121232", "13800000001", "父亲")}


@dataclass
class DemoReport:
    created: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, n: int = 1) -> None:
        self.created[kind] = self.created.get(kind, 0) + n

    @property
    def total(self) -> int:
        return sum(self.created.values())


def seed_demo(db: Database, clock: Clock, *, hash_password: Callable[[str], str],
              workstation: str = "demo") -> DemoReport:
    """Add whatever demo data is missing; safe to run any number of times."""
    # Hash each distinct demo password once (argon2id is slow on purpose); demo accounts only.
    hashes: dict[str, str] = {}

    def hashed(password: str) -> str:
        if password not in hashes:
            hashes[password] = hash_password(password)
        return hashes[password]

    report = DemoReport()
    now, today = clock.now(), clock.today()
    with db.session() as s:
        departments = _departments(s, report)
        doctors = _doctors(s, departments, today, report)
        _catalog(s, departments, now, report)
        _staff(s, departments, doctors, hashed, now, report)
        _patients(s, now, report)
        slots = generate_slots(s, start=today, end=today + timedelta(days=load_rules(s).booking_days_ahead))
        report.add("slots", slots.created)
        if report.total:
            audit.append(s, actor=Actor(None, "system:demo", "演示数据", frozenset(), workstation),
                         action="demo.seeded", at=now, detail=dict(report.created))
            live.publish(s, "departments", "doctors", "staff", "catalog", "schedules", "slots")
    return report


def _departments(s: Session, report: DemoReport) -> dict[str, Department]:
    existing = {d.code: d for d in s.execute(select(Department)).scalars()}
    for order, (code, name, kind, location, sex, min_age, max_age) in enumerate(DEPARTMENTS):
        if code not in existing:
            dept = Department(code=code, name=name, pinyin=pinyin.initials(name), kind=str(kind),
                              location=location, sex_restriction=sex, min_age=min_age, max_age=max_age,
                              sort_order=(order + 1) * 10)
            s.add(dept)
            existing[code] = dept
            report.add("departments")
    s.flush()
    return existing


def _doctors(s: Session, departments: dict[str, Department], today: date,
             report: DemoReport) -> list[Doctor]:
    doctors = []
    for code, people in DOCTORS.items():
        dept = departments[code]
        for index, (name, title, room) in enumerate(people):
            doctor = s.execute(select(Doctor).where(Doctor.department_id == dept.id, Doctor.name == name)
                               ).scalar_one_or_none()
            if doctor is None:
                doctor = Doctor(department_id=dept.id, name=name, pinyin=pinyin.initials(name), title=title,
                                room=room, registration_fee_fen=FEES[title])
                s.add(doctor)
                s.flush()
                report.add("doctors")
                report.add("schedules", _schedules(s, doctor, index, today))
            doctors.append(doctor)
    return doctors


def _schedules(s: Session, doctor: Doctor, index: int, today: date) -> int:
    """Mornings Monday–Friday; afternoons on alternate days; a Saturday morning for the first doctor;
    an evening clinic for paediatric residents."""
    sittings = [(day, Period.MORNING) for day in range(5)]
    sittings += [(day, Period.AFTERNOON) for day in ((0, 2, 4) if index % 2 == 0 else (1, 3))]
    if index == 0:
        sittings.append((5, Period.MORNING))
    if doctor.title == "医师" and doctor.room.startswith("儿科"):
        sittings += [(day, Period.EVENING) for day in range(5)]
    capacity = CAPACITY[doctor.title]
    for weekday, period in sittings:
        start, end = DEFAULT_TIMES[period]
        s.add(Schedule(doctor_id=doctor.id, weekday=weekday, period=str(period), start_time=start,
                       end_time=end, capacity=capacity if period is Period.MORNING else capacity * 3 // 4,
                       fee_fen=doctor.registration_fee_fen, valid_from=today))
    s.flush()
    return len(sittings)


def _catalog(s: Session, departments: dict[str, Department], now, report: DemoReport) -> None:  # noqa: ANN001
    existing = set(s.execute(select(CatalogItem.code)).scalars())
    for code, name, kind, spec, unit, price, exec_code in CATALOG:
        if code in existing:
            continue
        s.add(CatalogItem(code=code, name=name, pinyin=pinyin.initials(name), kind=kind, spec=spec, unit=unit,
                          price_fen=money.parse_yuan(price),
                          exec_department_id=departments[exec_code].id if exec_code else None, updated_at=now))
        report.add("catalog")
    s.flush()


def _staff(s: Session, departments: dict[str, Department], doctors: list[Doctor],
           hashed: Callable[[str], str], now, report: DemoReport) -> None:  # noqa: ANN001
    accounts = [(a.username, a.password, a.full_name, a.roles,
                 departments[a.department_code].id if a.department_code else None, None) for a in DEMO_ACCOUNTS]
    accounts += [(f"doctor{n}", DOCTOR_PASSWORD, d.name, (Role.DOCTOR,), d.department_id, d)
                 for n, d in enumerate(doctors, start=1)]
    existing = set(s.execute(select(Staff.username)).scalars())
    for username, password, full_name, roles, department_id, doctor in accounts:
        if username in existing:
            continue
        staff = Staff(username=username, full_name=full_name, password_hash=hashed(password),
                      department_id=department_id, created_at=now, must_change_password=False)
        staff.roles = [StaffRole(role=str(r)) for r in roles]
        s.add(staff)
        s.flush()
        if doctor is not None and doctor.staff_id is None:
            doctor.staff_id = staff.id
        report.add("staff")
    s.flush()


def _patients(s: Session, now, report: DemoReport) -> None:  # noqa: ANN001
    for name, id_type, number, sex, born, phone in PATIENTS:
        parsed = ids.parse_id(id_type, number)  # the demo data must itself be valid
        exists = s.execute(select(Patient.id).where(Patient.id_type == str(id_type),
                                                    Patient.id_number == parsed.number)).first()
        if exists:
            continue
        guardian = GUARDIANS.get(parsed.number)
        s.add(Patient(
            name=name, pinyin=pinyin.initials(name), id_type=str(id_type), id_number=parsed.number, sex=sex,
            birth_date=born, phone=phone, address="四川省成都市", created_at=now,
            guardian_name=guardian[0] if guardian else None,
            guardian_id_type=str(guardian[1]) if guardian else None,
            guardian_id_number=guardian[2] if guardian else None,
            guardian_phone=guardian[3] if guardian else None,
            guardian_relation=guardian[4] if guardian else None,
        ))
        report.add("patients")
    s.flush()

