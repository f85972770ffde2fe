"""Admission desk benchmark: a full hospital's running accounts.

    /work/venv/bin/python bench/inpatient.py                       # both backends
    /work/venv/bin/python bench/inpatient.py --backend sqlite --beds 500 --days 20

The data set (built fresh each run, through the real Alembic schema): ``--beds`` current admissions, each
``--days`` days in hospital with ~10 charge rows a day (bed day, drugs, labs …) and a deposit every 5 days,
plus one very long stay (180 days × 30 rows a day, 60 deposits by every channel). Timed through the real
service methods (a new unit of work per call, as the desk does): the long stay's account and settlement
plan, a normal stay's account, one admission, and the nightly bed-day run over every bed. Targets: the
account and the plan ≤ 200 ms; the nightly run ≤ 30 s for 1,000 beds.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from desktop_his.services import db as dbmod  # noqa: E402
from desktop_his.services.clock import ManualClock  # noqa: E402
from desktop_his.services.enums import Role  # noqa: E402
from desktop_his.services.ids import resident_check_char  # noqa: E402
from desktop_his.services.inpatient import InpatientService  # noqa: E402
from desktop_his.services.models import (  # noqa: E402
    Admission,
    Department,
    Doctor,
    InpatientCharge,
    Patient,
    Payment,
)
from desktop_his.services.permissions import Actor  # noqa: E402

PG_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"
TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 24, 0, 10)  # the nightly run, just after midnight
CATEGORIES = ("drug", "drug", "drug", "lab", "exam", "treatment", "treatment", "other", "drug")
CHANNELS = ("cash", "wechat", "alipay", "unionpay", "insurance", "credit")


def resident(n: int) -> str:
    first17 = f"{510100 + n // 900:06d}19800101{n % 900:03d}"
    return first17 + resident_check_char(first17)


def build(db: dbmod.Database, beds: int, days: int) -> int:
    """Returns the id of the very long stay."""
    with db.session() as s:
        s.add(Department(id=1, code="D1", name="呼吸内科", pinyin="hxnk", kind="clinical"))
        s.flush()
        s.add(Doctor(id=1, department_id=1, name="陈医生", pinyin="cys"))
        s.flush()
        s.execute(sa.insert(Patient), [dict(id=n, name=f"患者{n}", pinyin="hz", id_type="01", id_number=resident(n),
                                            sex="M", birth_date=date(1980, 1, 1), created_at=NOW)
                                       for n in range(1, beds + 3)])
        stays = [(n, days) for n in range(1, beds + 1)] + [(beds + 1, 180)]
        s.execute(sa.insert(Admission), [dict(
            id=n, admission_no=f"Z{n:014d}", patient_id=n, department_id=1, doctor_id=1, ward=f"病区{n // 40}",
            bed=str(n % 40), diagnosis="肺炎", daily_bed_fen=6000, status="admitted", family_pay=False,
            admitted_at=datetime.combine(TODAY - timedelta(days=length - 1), datetime.min.time()) + timedelta(hours=9))
            for n, length in stays])
        charge_rows, payment_rows, pay_no = [], [], itertools.count(1)
        for n, length in stays:
            per_day = 30 if length == 180 else 10
            for d in range(length - 1):  # every day but today is on the account (bed day + items)
                day = TODAY - timedelta(days=length - 1 - d)
                charge_rows.append(dict(admission_id=n, charge_date=day, source="bed", category="bed",
                                        description="床位费", quantity=1, amount_fen=6000, posted_at=NOW))
                charge_rows += [dict(admission_id=n, charge_date=day, source="order", category=CATEGORIES[k % 9],
                                     description=f"项目{k}", quantity=1, amount_fen=1000 + 37 * k, posted_at=NOW)
                                for k in range(per_day - 1)]
            for d in range(0, length, 3 if length == 180 else 5):
                channel = CHANNELS[(n + d) % len(CHANNELS)]
                payment_rows.append(dict(payment_no=f"P{next(pay_no):014d}", channel=channel, purpose="deposit",
                                         amount_fen=200000, refunded_fen=0, status="success",
                                         reference_no=uuid.uuid4().hex[:20].upper(), patient_id=n, admission_id=n,
                                         bank_serial="BS" if channel == "credit" else None,
                                         business_date=TODAY, created_at=NOW - timedelta(days=length - d)))
            if len(charge_rows) > 50_000:
                s.execute(sa.insert(InpatientCharge), charge_rows)
                charge_rows = []
        s.execute(sa.insert(InpatientCharge), charge_rows)
        s.execute(sa.insert(Payment), payment_rows)
        if db.is_postgresql:
            for table in ("patient", "admission"):
                s.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
    with db.engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))
    return beds + 1


def timed(label: str, fn: Callable[[], object], reps: int, target_ms: float) -> None:
    fn()  # warm up
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    med, worst = statistics.median(samples), max(samples)
    verdict = "ok" if med <= target_ms else "SLOW"
    print(f"  {label:<48} median {med:8.1f} ms   max {worst:8.1f} ms   ({verdict}, target {target_ms:.0f} ms)")


def run(db: dbmod.Database, name: str, beds: int, days: int, reps: int) -> None:
    dbmod.upgrade(db)
    t0 = time.perf_counter()
    long_stay = build(db, beds, days)
    charges = beds * (days - 1) * 10 + 179 * 30
    print(f"{name}: {beds} beds × {days} days + one 180-day stay — {charges:,} charge rows "
          f"(built in {time.perf_counter() - t0:.1f} s)")
    svc = InpatientService(db, ManualClock(NOW))
    clerk = Actor(None, "bench", "住院处", frozenset({Role.ADMISSION}), "BENCH")
    timed("account(): 180-day stay, 5,370 rows, 60 payments", lambda: svc.account(clerk, long_stay), reps, 200)
    timed(f"account(): {days}-day stay", lambda: svc.account(clerk, 1), reps, 100)
    timed("plan_settlement(): 180-day stay", lambda: svc.plan_settlement(clerk, long_stay), reps, 200)
    beds_free = itertools.count(1)
    timed("admit()", lambda: svc.admit(clerk, _new_patient(db), department_id=1,
                                       ward="新病区", bed=str(next(beds_free)), doctor_id=1, diagnosis="肺炎",
                                       daily_bed_fen=6000), reps, 50)
    t0 = time.perf_counter()
    result = svc.post_bed_charges(clerk, TODAY)
    elapsed = time.perf_counter() - t0
    print(f"  nightly post_bed_charges(): {result.admissions} admissions, {result.days_posted} days posted in "
          f"{elapsed:.2f} s ({elapsed / max(1, result.admissions) * 1000:.1f} ms per admission)")
    t0 = time.perf_counter()
    again = svc.post_bed_charges(clerk, TODAY)
    print(f"  … run again (nothing to post: {again.days_posted}): {time.perf_counter() - t0:.2f} s")


_patients = itertools.count(900_000)


def _new_patient(db: dbmod.Database) -> int:
    with db.session() as s:
        n = next(_patients)
        p = Patient(name=f"新患者{n}", pinyin="xhz", id_type="01", id_number=resident(n), sex="M",
                    birth_date=date(1980, 1, 1), created_at=NOW)
        s.add(p)
        s.flush()
        return p.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--beds", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--reps", type=int, default=20)
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            db = dbmod.Database.from_url(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
            run(db, "SQLite", args.beds, args.days, args.reps)
            db.dispose()
    if args.backend in ("postgresql", "both"):
        schema = f"bench_inpatient_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        try:
            db = dbmod.Database.from_url(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
            run(db, "PostgreSQL", args.beds, args.days, args.reps)
            db.dispose()
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
