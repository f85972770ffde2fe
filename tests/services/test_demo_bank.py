"""The app's demo patients and the bank sandbox's demo residents are the same people (docs/demo-data.md):
every demo patient's sign-status query answers as the table says."""

from __future__ import annotations

from sqlalchemy import select

from desktop_his.services.container import Services
from desktop_his.services.demo import seed_demo
from desktop_his.services.enums import Role
from desktop_his.services.models import Patient
from desktop_his.services.permissions import Actor

# name → (signed, 亲情付 member)
EXPECTED = {
    "张伟": (True, False), "李娜": (True, True), "张小明": (True, True), "王芳": (True, False),
    "刘洋": (False, False), "陈静": (True, False), "𠮷野": (True, False), "孙丽": (True, False),
    "周杰": (False, False), "吴敏": (False, False), "黄志强": (False, False), "林美玲": (False, False),
    "John Smith": (False, False),
}


def test_demo_patients_sign_status_matches_the_demo_table(sqlite_bank_services: Services) -> None:
    services = sqlite_bank_services
    seed_demo(services.db, services.clock, hash_password=lambda p: "x" + p, workstation="WS-TEST")
    cashier = Actor(None, "t", "t", frozenset({Role.CASHIER}), "WS-TEST")
    with services.db.reader() as s:
        patients = {p.name: p.id for p in s.execute(select(Patient)).scalars()}
    assert set(patients) == set(EXPECTED)
    seen = {}
    for name, patient_id in patients.items():
        sign = services.credit.sign_status(cashier, patient_id)
        seen[name] = (sign.signed, sign.family_pay)
    assert seen == EXPECTED
    low = services.credit.sign_status(cashier, patients["王芳"])
    assert low.available_fen == 3000
