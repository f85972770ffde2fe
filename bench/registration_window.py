"""Registration-window figures: patient search, registering, slip rendering. Prints its measurements.

    python bench/registration_window.py [--patients 50000] [--pg postgresql+psycopg://root@127.0.0.1/test]

The cashier's targets: a search answers well under 100 ms, a registration commits in tens of ms, the slip
renders in well under a second (it is printed on a worker thread anyway).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from desktop_his.services import pinyin  # noqa: E402
from desktop_his.services.clock import ManualClock  # noqa: E402
from desktop_his.services.db import Database  # noqa: E402
from desktop_his.services.enums import Role  # noqa: E402
from desktop_his.services.ids import resident_check_char  # noqa: E402
from desktop_his.services.models import Base, Department, Doctor, Patient, Slot  # noqa: E402
from desktop_his.services.patients import PatientService  # noqa: E402
from desktop_his.services.permissions import Actor  # noqa: E402
from desktop_his.services.registration import RegistrationService  # noqa: E402

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
CASHIER = Actor(None, "bench", "压测", frozenset({Role.CASHIER}), "bench")
DAY = date(2026, 11, 23)


def seed(db: Database, n: int) -> None:
    Base.metadata.create_all(db.engine)
    rows = []
    for i in range(n):
        name = SURNAMES[i % 20] + GIVEN[(i // 20) % 20] + GIVEN[(i // 400) % 20]
        first17 = f"{510100 + i // 1000:06d}19{60 + i % 40:02d}0101{i % 1000:03d}"
        rows.append({"name": name, "pinyin": pinyin.initials(name), "id_type": "01",
                     "id_number": first17 + resident_check_char(first17), "sex": "M" if i % 2 else "F",
                     "birth_date": date(1960 + i % 40, 1, 1), "phone": f"139{i:08d}", "address": "",
                     "noshow_count": 0, "checkin_streak": 0, "created_at": datetime(2026, 1, 1)})
    with db.session() as s:
        for start in range(0, n, 5000):
            s.execute(sa.insert(Patient), rows[start:start + 5000])
        dept = Department(code="D1", name="内科", pinyin="nk", kind="clinical")
        s.add(dept)
        s.flush()
        doc = Doctor(department_id=dept.id, name="李明", pinyin="lm")
        s.add(doc)
        s.flush()
        s.add(Slot(doctor_id=doc.id, department_id=dept.id, date=DAY, period="AM", start_time=datetime(1, 1, 1, 8).time(),
                   end_time=datetime(1, 1, 1, 12).time(), capacity=100_000, fee_fen=1000))


def timed(fn, repeat: int) -> tuple[float, float]:  # noqa: ANN001
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples), max(samples)


def run(db: Database, label: str, n: int) -> None:
    seed(db, n)
    clock = ManualClock(datetime(2026, 11, 23, 9))
    patients, reg = PatientService(db, clock), RegistrationService(db, clock)
    with db.reader() as s:
        sample = s.execute(sa.select(Patient).where(Patient.id == n // 2)).scalar_one()
    queries = {"ID number": sample.id_number, "phone": sample.phone, "pinyin initials": sample.pinyin,
               "name part": sample.name[1:]}
    print(f"\n[{label}] {n} patients")
    for what, q in queries.items():
        med, worst = timed(lambda q=q: patients.search(CASHIER, q), 20)
        print(f"  search by {what:16s} median {med:7.1f} ms   max {worst:7.1f} ms")
    slot_id = 1
    ids = iter(range(1, n + 1))
    med, worst = timed(lambda: reg.register(CASHIER, next(ids), slot_id), 200)
    print(f"  register (rules + guarded UPDATE + audit)  median {med:6.1f} ms   max {worst:6.1f} ms")


def slips() -> None:
    from PySide6.QtGui import QGuiApplication

    from desktop_his.printing.escpos_out import to_bytes
    from desktop_his.printing.qt_render import A5, RECEIPT_80, render_pdf
    from tests.printing.slipdata import slip

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841
    doc = slip()
    with tempfile.TemporaryDirectory() as tmp:
        for layout in (RECEIPT_80, A5):
            med, worst = timed(lambda layout=layout: render_pdf(doc, layout, Path(tmp) / "s.pdf"), 20)
            print(f"  guide slip PDF {layout.name:5s}  median {med:6.1f} ms   max {worst:6.1f} ms")
    med, worst = timed(lambda: to_bytes(doc), 50)
    print(f"  guide slip ESC/POS bytes  median {med:6.2f} ms   max {worst:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=50_000)
    parser.add_argument("--pg", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.from_url(f"sqlite:///{tmp}/bench.sqlite3")
        run(db, "SQLite", args.patients)
        db.dispose()
    if args.pg:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(args.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        try:
            db = Database.from_url(args.pg, connect_args={"options": f"-csearch_path={schema}"})
            run(db, "PostgreSQL", args.patients)
            db.dispose()
        finally:
            with admin.connect() as c:
                c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    print("\n[slips]")
    slips()


if __name__ == "__main__":
    main()
