"""Twenty registration windows on one PostgreSQL database: registrations per second, and no slot oversold.

Each window is its own process (as each window is its own PC) with its own engine, running the real
``RegistrationService.register`` — rules, the guarded slot UPDATE, the visit number (from the process's
number block), the workstation's audit chain, the live-feed NOTIFY — for patients drawn at random. A share of the traffic goes to a few "hot" slots with
little capacity, so windows keep racing for last places. Rule refusals (e.g. the same patient twice in one
department) and "slot full" are counted, not errors.

After the run: every slot's ``taken`` ≤ capacity and equals its number of live registrations, queue numbers
are unique per slot, and the audit chain verifies.

    python bench/windows.py [--windows 20] [--seconds 20] [--url postgresql+psycopg://root@127.0.0.1/test]

Target: ≥ 200 registrations/s, 0 oversold. Also prints the CPU the windows used per registration (so a run on a
busy machine can be judged) — figures in docs/scale.md.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import sys
import time
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from desktop_his.services import audit, pinyin  # noqa: E402
from desktop_his.services.clock import ManualClock  # noqa: E402
from desktop_his.services.db import Database  # noqa: E402
from desktop_his.services.enums import Role  # noqa: E402
from desktop_his.services.errors import HisError  # noqa: E402
from desktop_his.services.ids import resident_check_char  # noqa: E402
from desktop_his.services.models import Base, Department, Doctor, Patient, Slot, Visit  # noqa: E402
from desktop_his.services.permissions import Actor  # noqa: E402
from desktop_his.services.registration import RegistrationService  # noqa: E402

SCHEMA = "bench_windows"
DAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 7, 30)
DEPARTMENTS, DOCTORS_PER_DEPT, PATIENTS = 12, 5, 40_000
HOT_SLOTS, HOT_CAPACITY, HOT_SHARE = 8, 15, 0.1


def database(url: str) -> Database:
    return Database.from_url(url, connect_args={"options": f"-csearch_path={SCHEMA}"}, pool_size=2)


def build(url: str) -> tuple[list[int], list[int], int]:
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
    admin.dispose()
    db = database(url)
    Base.metadata.create_all(db.engine)
    slots: list[int] = []
    with db.session() as s:
        for d in range(DEPARTMENTS):
            dept = Department(code=f"D{d:02d}", name=f"科室{d:02d}", pinyin=pinyin.initials(f"科室{d:02d}"))
            s.add(dept)
            s.flush()
            for k in range(DOCTORS_PER_DEPT):
                doc = Doctor(department_id=dept.id, name=f"医生{d}{k}", pinyin="ys", registration_fee_fen=1000)
                s.add(doc)
                s.flush()
                for period, start in (("AM", dtime(8)), ("PM", dtime(14))):
                    s.add(Slot(doctor_id=doc.id, department_id=dept.id, date=DAY, period=period,
                               start_time=start, end_time=dtime(start.hour + 4), capacity=400, taken=0,
                               next_queue_no=1, fee_fen=1000))
        s.flush()
        all_slots = s.execute(sa.select(Slot.id).order_by(Slot.id)).scalars().all()
        hot = all_slots[:HOT_SLOTS]
        s.execute(sa.update(Slot).where(Slot.id.in_(hot)).values(capacity=HOT_CAPACITY))
        slots = list(all_slots)
    with db.engine.begin() as conn:  # patients in bulk
        rows = []
        for i in range(PATIENTS):
            first17 = f"510104{1950 + i % 60:04d}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
            rows.append({"name": f"患者{i}", "pinyin": "hz", "id_type": "01",
                         "id_number": first17 + resident_check_char(first17) + f"-{i}",  # unique per row
                         "sex": "M" if i % 2 else "F", "birth_date": date(1950 + i % 60, 1 + i % 12, 1 + i % 28),
                         "phone": "", "address": "", "noshow_count": 0, "checkin_streak": 0,
                         "created_at": NOW})
        conn.execute(sa.insert(Patient), rows)
        patient_ids = conn.execute(sa.select(Patient.id)).scalars().all()
    db.dispose()
    return slots[:HOT_SLOTS], slots[HOT_SLOTS:], len(patient_ids)


def window(n: int, url: str, hot: list[int], normal: list[int], patients: int, ready: mp.Queue, go: mp.Event,
           seconds: float, out: mp.Queue) -> None:
    rng = random.Random(n)
    db = database(url)
    service = RegistrationService(db, ManualClock(NOW))
    actor = Actor(None, f"window{n:02d}", f"窗口{n}", frozenset({Role.CASHIER}), f"WIN-{n:02d}")
    done = refused = full = 0
    latencies: list[float] = []
    with db.reader() as s:  # connect before the clock starts
        s.execute(sa.text("SELECT 1"))
    ready.put(n)
    go.wait()
    cpu0 = time.process_time()
    deadline = time.time() + seconds
    while time.time() < deadline:
        slot = rng.choice(hot) if rng.random() < HOT_SHARE else rng.choice(normal)
        patient = rng.randint(1, patients)
        t0 = time.perf_counter()
        try:
            service.register(actor, patient, slot)
            done += 1
            latencies.append(time.perf_counter() - t0)
        except HisError as exc:
            if exc.code in ("slot_full",):
                full += 1
            else:
                refused += 1
    cpu = time.process_time() - cpu0
    db.dispose()
    out.put((done, refused, full, latencies, cpu))


def check(url: str) -> tuple[int, int, bool]:
    db = database(url)
    with db.reader() as s:
        live = (sa.select(Visit.slot_id, sa.func.count().label("n"), sa.func.count(sa.distinct(Visit.queue_no))
                          .label("q")).where(Visit.status != "cancelled").group_by(Visit.slot_id).subquery())
        rows = s.execute(sa.select(Slot.id, Slot.capacity, Slot.taken, live.c.n, live.c.q)
                         .outerjoin(live, live.c.slot_id == Slot.id)).all()
        oversold = sum(1 for r in rows if r.taken > r.capacity or (r.n or 0) > r.capacity)
        mismatched = sum(1 for r in rows if (r.n or 0) != r.taken or (r.q or 0) != (r.n or 0))
        chain = audit.verify(s).ok
    db.dispose()
    return oversold, mismatched, chain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--url", default=os.environ.get("DESKTOP_HIS_TEST_PG_URL",
                                                        "postgresql+psycopg://root@127.0.0.1:5432/test"))
    args = parser.parse_args()
    t0 = time.perf_counter()
    hot, normal, patients = build(args.url)
    print(f"set-up: {len(hot) + len(normal)} slots ({len(hot)} hot × {HOT_CAPACITY} places), "
          f"{patients} patients in {time.perf_counter() - t0:.1f} s")
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    ready: mp.Queue = ctx.Queue()
    go = ctx.Event()
    procs = [ctx.Process(target=window, args=(n, args.url, hot, normal, patients, ready, go, args.seconds, out))
             for n in range(args.windows)]
    for p in procs:
        p.start()
    for _ in procs:  # every window imported and connected: start them together
        ready.get()
    go.set()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    done = sum(r[0] for r in results)
    refused = sum(r[1] for r in results)
    full = sum(r[2] for r in results)
    lat = sorted(x for r in results for x in r[3])
    oversold, mismatched, chain = check(args.url)
    rate = done / args.seconds
    print(f"windows: {args.windows}, {args.seconds:.0f} s, load average {os.getloadavg()[0]:.1f} (2 cores)")
    print(f"registrations: {done} ({rate:.0f}/s); refused by rules: {refused}; slot full: {full}")
    if done:
        cpu = sum(r[4] for r in results)
        print(f"windows' CPU while registering: {cpu:.1f} s in all, {cpu / done * 1000:.2f} ms per registration "
              f"(the database server's CPU not included)")
    if lat:
        print(f"latency per registration: median {lat[len(lat) // 2] * 1000:.1f} ms, "
              f"p95 {lat[int(len(lat) * 0.95)] * 1000:.1f} ms")
    print(f"oversold slots: {oversold}; slots whose taken ≠ registrations or with duplicate queue numbers: "
          f"{mismatched}; audit chain intact: {chain}")
    print(f"target ≥ 200/s and 0 oversold: {'met' if rate >= 200 and oversold == 0 else 'NOT met'}")


if __name__ == "__main__":
    main()
