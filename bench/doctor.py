"""Doctor station benchmark: opening today's queue and a patient's history with 1,000,000 historical visits.

    /work/venv/bin/python bench/doctor.py                 # both backends, build or reuse the data
    /work/venv/bin/python bench/doctor.py --backend sqlite --reps 300 --explain
    /work/venv/bin/python bench/doctor.py --rebuild --visits 200000

The data set (built once, then reused): a year of days ending on the benchmark's "today" (2026-11-23), 20
clinical departments with 10 doctors each (working 5 days a week, morning and afternoon), 200,000 patients of
whom 2,000 chronic patients come often, ~2,740 visits a day — one busy expert sees ~110 patients a day, every
day — and one very frequent patient every third day; ~20 % of visits on 信用就医 (a quarter of those 亲情付);
orders (1–3 items from a 2,000-item catalogue) for ~45 % of the seen visits. SQLite: a file under
``bench/.data/``; PostgreSQL: schema ``bench_doctor`` in the ``test`` database (COPY). The schema comes from
the real Alembic migrations; timings go through the real service methods (a new unit of work per call, as
the doctor station does). Target: ≤ 50 ms each.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from desktop_his.services import db as dbmod  # noqa: E402
from desktop_his.services.clock import ManualClock  # noqa: E402
from desktop_his.services.doctor_queue import DoctorQueueService  # noqa: E402
from desktop_his.services.enums import Role  # noqa: E402
from desktop_his.services.ids import resident_check_char  # noqa: E402
from desktop_his.services.permissions import Actor  # noqa: E402

DATA = ROOT / "bench" / ".data"
PG_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"
PG_SCHEMA = "bench_doctor"
TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 10, 0)
DAYS = 365
DEPARTMENTS, DOCTORS_PER_DEPT, PATIENTS, CHRONIC, CATALOG = 20, 10, 200_000, 2_000, 2_000
BUSY_DOCTOR, FREQUENT_PATIENT = 1, 1
SEED, FORMAT = 20261123, 3  # bump FORMAT when the generator changes: cached data is rebuilt
TARGET_MS = 50.0
BATCH = 20_000

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
         "霞", "平", "刚", "桂英", "建华", "志强", "文", "华", "红", "玉兰", "小明", "子涵", "浩然", "欣怡", "𠮷"]


# ---------------------------------------------------------------------------------------------- data set


class Ids:
    def __init__(self) -> None:
        self.n: dict[str, int] = {}

    def next(self, table: str) -> int:
        self.n[table] = self.n.get(table, 0) + 1
        return self.n[table]


def resident_id(i: int, birth: date, male: bool) -> str:
    region = f"51{i // 100_000 + 1:02d}{(i // 1000) % 100:02d}"  # unique with the sequence below
    assert male == (i % 2 == 1)  # the sequence's last digit is odd for men
    first17 = f"{region}{birth:%Y%m%d}{i % 1000:03d}"
    return first17 + resident_check_char(first17)


def static_rows(rng: random.Random) -> Iterator[tuple[str, list[dict]]]:
    from desktop_his.services.pinyin import initials

    kinds = ["pharmacy", "lab", "imaging", "treatment"]
    depts = [dict(id=i + 1, code=f"K{i + 1:03d}", name=f"临床科室{i + 1:02d}", pinyin=f"lcks{i + 1:02d}",
                  kind="clinical", location=f"门诊楼{i % 5 + 1}楼", phone="", active=True, sort_order=i)
             for i in range(DEPARTMENTS)]
    depts += [dict(id=DEPARTMENTS + n + 1, code=f"E{n}", name=f"执行科室{n}", pinyin=f"zxks{n}", kind=k,
                   location="医技楼", phone="", active=True, sort_order=100 + n) for n, k in enumerate(kinds)]
    yield "department", depts
    yield "doctor", [dict(id=d, department_id=(d - 1) // DOCTORS_PER_DEPT + 1, name=f"医生{d:03d}",
                          pinyin=f"ys{d:03d}", title="主治医师", room=f"{d}诊室", registration_fee_fen=1000,
                          active=True) for d in range(1, DEPARTMENTS * DOCTORS_PER_DEPT + 1)]
    yield "catalog_item", [dict(id=c, code=f"C{c:05d}", name=f"项目{c:04d}", pinyin=f"xm{c:04d}",
                                kind=("drug", "lab", "exam", "treatment")[c % 4], spec="", unit="次",
                                price_fen=rng.randint(100, 50_000), exec_department_id=DEPARTMENTS + 1 + c % 4,
                                active=True) for c in range(1, CATALOG + 1)]
    given_initials = {g: initials(g) for g in GIVEN}
    patients = []
    for p in range(1, PATIENTS + 1):
        surname, given = SURNAMES[p % len(SURNAMES)], GIVEN[(p * 7) % len(GIVEN)]
        male = p % 2 == 1
        birth = date(1940, 1, 1) + timedelta(days=rng.randrange(80 * 365))
        patients.append(dict(id=p, name=surname + given, pinyin=initials(surname) + given_initials[given],
                             id_type="01", id_number=resident_id(p, birth, male), sex="M" if male else "F",
                             birth_date=birth, phone=f"138{p:08d}", address="", noshow_count=0, checkin_streak=0,
                             created_at=datetime(2025, 1, 1)))
    yield "patient", patients


def visit_rows(rng: random.Random, total: int) -> Iterator[tuple[str, list[dict]]]:
    """Visits (with their slots, orders and items) day by day, in batches."""
    ids = Ids()
    doctors = DEPARTMENTS * DOCTORS_PER_DEPT
    popularity = [rng.uniform(0.3, 2.0) for _ in range(doctors)]
    per_day, extra = divmod(total, DAYS)
    out: dict[str, list[dict]] = {"slot": [], "visit": [], "medical_order": [], "order_item": []}
    for n in range(DAYS):
        day = TODAY - timedelta(days=DAYS - 1 - n)
        count = per_day + (1 if n >= DAYS - extra else 0)
        working = [d for d in range(2, doctors + 1) if (d + day.weekday()) % 7 < 5]
        weights = [popularity[d - 1] for d in working]
        chosen = [BUSY_DOCTOR] * min(110, count)
        chosen += rng.choices(working, weights, k=count - len(chosen))
        frequent_today = n % 3 == 0
        slots: dict[tuple[int, str], dict] = {}
        for k, doctor in enumerate(chosen):
            period = "AM" if rng.random() < 0.6 else "PM"
            slot = slots.get((doctor, period))
            if slot is None:
                slot = slots[(doctor, period)] = dict(
                    id=ids.next("slot"), doctor_id=doctor, department_id=(doctor - 1) // DOCTORS_PER_DEPT + 1,
                    date=day, period=period, start_time=datetime(2000, 1, 1, 8 if period == "AM" else 14).time(),
                    end_time=datetime(2000, 1, 1, 12 if period == "AM" else 17).time(), capacity=0, taken=0,
                    next_queue_no=1, fee_fen=1000, suspended=False)
            queue_no = slot["next_queue_no"]
            slot["next_queue_no"] += 1
            slot["taken"] += 1
            slot["capacity"] = max(30, slot["taken"])
            if frequent_today and k == 0:
                patient = FREQUENT_PATIENT
            elif rng.random() < 0.10:
                patient = rng.randint(2, CHRONIC)
            else:
                patient = rng.randint(2, PATIENTS)
            visit = _visit(rng, ids, day, slot, queue_no, patient)
            out["visit"].append(visit)
            if visit["status"] == "seen" and rng.random() < 0.45:
                for _ in range(1 if rng.random() < 0.75 else 2):
                    _order(rng, ids, visit, out)
        out["slot"].extend(slots.values())
        if len(out["visit"]) >= BATCH or n == DAYS - 1:
            for table in ("slot", "visit", "medical_order", "order_item"):
                yield table, out[table]
                out[table] = []


def _visit(rng: random.Random, ids: Ids, day: date, slot: dict, queue_no: int, patient: int) -> dict:
    vid = ids.next("visit")
    credit = rng.random() < 0.20
    at = datetime.combine(day, datetime.min.time()) + timedelta(hours=7, minutes=rng.randrange(300))
    if day < TODAY:
        r = rng.random()
        status = "seen" if r < 0.85 else "no_show" if r < 0.93 else "cancelled"
    elif slot["period"] == "PM":
        status = "registered"
    else:
        status = "seen" if queue_no <= 25 else "called" if queue_no == 26 else \
            "registered" if queue_no % 10 == 0 else "checked_in"
    fee_status = "refunded" if status == "cancelled" else ("locked" if day == TODAY else "deducted") if credit \
        else "paid"
    return dict(id=vid, visit_no=f"V{day:%Y%m%d}{vid:07d}", patient_id=patient, slot_id=slot["id"],
                department_id=slot["department_id"], doctor_id=slot["doctor_id"], visit_date=day,
                period=slot["period"], queue_no=queue_no, kind="outpatient", status=status, fee_fen=1000,
                fee_status=fee_status, credit=credit, family_pay=credit and rng.random() < 0.25,
                agreement_no=f"AG{patient:09d}" if credit else None, created_at=at, workstation="WIN-01",
                checked_in_at=at if status in ("checked_in", "called", "seen") else None,
                seen_at=at + timedelta(hours=1) if status == "seen" else None, reprint_count=0)


def _order(rng: random.Random, ids: Ids, visit: dict, out: dict[str, list[dict]]) -> None:
    oid = ids.next("medical_order")
    day = visit["visit_date"]
    items = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        c, qty = rng.randint(1, CATALOG), rng.randint(1, 3)
        price = 100 + (c * 7919) % 50_000
        items.append(dict(id=ids.next("order_item"), order_id=oid, catalog_item_id=c, name=f"项目{c:04d}",
                          kind=("drug", "lab", "exam", "treatment")[c % 4], spec="", unit="次",
                          unit_price_fen=price, quantity=qty, amount_fen=price * qty, actual_quantity=qty,
                          actual_amount_fen=price * qty, exec_department_id=DEPARTMENTS + 1 + c % 4,
                          exec_location="医技楼", usage=""))
    total = sum(i["amount_fen"] for i in items)
    revoked = rng.random() < 0.03
    fee = "cancelled" if revoked else "deducted" if visit["credit"] else "paid"
    out["medical_order"].append(dict(
        id=oid, order_no=f"O{day:%Y%m%d}{oid:07d}", kind="outpatient", patient_id=visit["patient_id"],
        visit_id=visit["id"], doctor_id=visit["doctor_id"], department_id=visit["department_id"],
        status="revoked" if revoked else "executed" if day < TODAY else "submitted", total_fen=total,
        actual_fen=None if revoked else total, credit=visit["credit"], fee_status=fee, note="",
        created_at=visit["created_at"], workstation="DOC-01", submitted_at=visit["created_at"]))
    out["order_item"].extend(items)


# ---------------------------------------------------------------------------------------------- loading


def _sqlite_value(v: object) -> object:
    # The storage formats SQLAlchemy's SQLite types read back.
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, date):
        return v.isoformat()
    if hasattr(v, "hour"):  # time
        return v.strftime("%H:%M:%S.%f")
    return v


def load(db: dbmod.Database, visits: int) -> None:
    rng = random.Random(SEED)
    started, counts = time.perf_counter(), {}
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        for table, rows in itertools.chain(static_rows(rng), visit_rows(rng, visits)):  # streamed
            if not rows:
                continue
            cols = list(rows[0])
            if db.is_postgresql:
                with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row([r[c] for c in cols])
            else:
                cur.execute("BEGIN")
                cur.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                                [[_sqlite_value(r[c]) for c in cols] for r in rows])
                cur.execute("COMMIT")
            counts[table] = counts.get(table, 0) + len(rows)
            if table == "visit" and counts["visit"] // 200_000 != (counts["visit"] - len(rows)) // 200_000:
                print(f"  {counts['visit']:>9,} visits  {time.perf_counter() - started:6.1f} s", flush=True)
        if db.is_postgresql:
            for table in counts:
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            raw.commit()
            cur.execute("ANALYZE")
        else:
            cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    print(f"  loaded in {time.perf_counter() - started:.0f} s: "
          + ", ".join(f"{t} {n:,}" for t, n in counts.items()))


MARKER = {"visits": None, "seed": SEED, "format": FORMAT}


def _marker_ok(db: dbmod.Database, visits: int) -> bool:
    try:
        with db.reader() as s:
            value = s.execute(sa.text("SELECT value FROM setting WHERE scope='bench' AND key='doctor'")).scalar()
    except sa.exc.DBAPIError:
        return False
    import json

    value = json.loads(value) if isinstance(value, str) else value
    return value == {**MARKER, "visits": visits}


def _mark(db: dbmod.Database, visits: int) -> None:
    from desktop_his.services.models import Setting

    with db.session() as s:
        s.add(Setting(scope="bench", key="doctor", value={**MARKER, "visits": visits}, updated_at=NOW,
                      updated_by="bench"))


def open_database(backend: str, visits: int, rebuild: bool) -> dbmod.Database:
    if backend == "sqlite":
        DATA.mkdir(parents=True, exist_ok=True)
        path = DATA / f"doctor-{visits}.sqlite3"
        db = dbmod.Database.from_url(f"sqlite:///{path}")
        if not rebuild and _marker_ok(db, visits):
            return db
        db.dispose()
        for p in DATA.glob(f"{path.name}*"):
            p.unlink()
        db = dbmod.Database.from_url(f"sqlite:///{path}")
    else:
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        db = dbmod.Database.from_url(PG_URL, connect_args={"options": f"-csearch_path={PG_SCHEMA}"})
        if not rebuild and _marker_ok(db, visits):
            admin.dispose()
            return db
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE'))
            conn.execute(sa.text(f'CREATE SCHEMA "{PG_SCHEMA}"'))
        admin.dispose()
        db.dispose()
    print(f"building the {backend} data set ({visits:,} visits) …")
    dbmod.upgrade(db)
    load(db, visits)
    _mark(db, visits)
    return db


# ----------------------------------------------------------------------------------------- measurement


def measure(fn: Callable[[], object], reps: int) -> list[float]:
    for _ in range(5):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def explain(db: dbmod.Database, fn: Callable[[], object]) -> None:
    """Print the plan of every statement ``fn`` issues (captured as it runs, parameters included)."""
    captured: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", grab)
    try:
        fn()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", grab)
    prefix = "EXPLAIN " if db.is_postgresql else "EXPLAIN QUERY PLAN "
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        for statement, params in captured:
            print("   ", " ".join(statement.split())[:150], "…")
            cur.execute(prefix + statement, params)
            for row in cur.fetchall():
                print("      ", row[-1] if db.is_sqlite else row[0])
        raw.rollback()
    finally:
        raw.close()


def run(backend: str, visits: int, reps: int, rebuild: bool, show_plans: bool) -> list[tuple[str, list[float]]]:
    db = open_database(backend, visits, rebuild)
    service = DoctorQueueService(db, ManualClock(NOW))
    doctor = Actor(None, "bench", "医生001", frozenset({Role.DOCTOR}), "BENCH", doctor_id=BUSY_DOCTOR)
    with db.reader() as s:
        n_visits = s.execute(sa.text("SELECT count(*) FROM visit")).scalar_one()
    queue = service.today_queue(doctor)
    history = service.patient_history(doctor, FREQUENT_PATIENT)
    print(f"{backend}: {n_visits:,} visits; today's queue of the busy doctor: {len(queue)} patients; "
          f"history of the frequent patient: {len(history)} visits (limit 50), "
          f"{sum(len(v.orders) for v in history)} orders")
    cases = [
        ("today_queue (busy doctor)", lambda: service.today_queue(doctor)),
        ("patient_history (frequent patient, 50)", lambda: service.patient_history(doctor, FREQUENT_PATIENT)),
        ("open_visit (a queued visit)", lambda: service.open_visit(doctor, queue[0].visit_id)),
    ]
    if show_plans:
        for name, fn in cases[:2]:
            print(f"  plan of {name}:")
            explain(db, fn)
    results = [(name, measure(fn, reps)) for name, fn in cases]
    db.dispose()
    return results


def report(backend: str, results: list[tuple[str, list[float]]]) -> None:
    print(f"\n{backend:<12}{'operation':<42}{'median':>9}{'p95':>9}{'max':>9}   target {TARGET_MS:.0f} ms")
    for name, times in results:
        p95 = statistics.quantiles(times, n=20)[-1]
        verdict = "ok" if p95 <= TARGET_MS else "OVER"
        print(f"{'':<12}{name:<42}{statistics.median(times):>7.2f}ms{p95:>7.2f}ms{max(times):>7.2f}ms   {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached data set")
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    all_results = [(b, run(b, args.visits, args.reps, args.rebuild, args.explain)) for b in backends]
    for backend, results in all_results:
        report(backend, results)


if __name__ == "__main__":
    main()
