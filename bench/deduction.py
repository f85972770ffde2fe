"""The T-day deduction run at scale: N locks of one day deducted against the bank sandbox with injected latency.

    python bench/deduction.py [--locks 150000] [--workers 64] [--latency-ms 20] [--sample 100] [--db-url URL]

Set-up (not timed): the sandbox in its own process (python -m bank_sandbox), one signed resident with a large
limit, N locks made at the bank through the journaled gateway (no latency yet), the matching ``credit_lock`` rows
(LOCKED, a third of them with an actual amount below the lock). Then ``--latency-ms`` is injected on every
interface and:

- **one at a time**: ``--sample`` locks deducted the way a naive job would — ``CreditService.start_deduction`` in
  its own transaction, then ``gateway.execute`` — timed and extrapolated to N;
- **the run**: ``DeductionService.run`` over the rest (claim + journal in batches, ``execute_many``, the real
  ``credit_deduct`` handler moving each lock to deducted), timed.

At the end every lock must be deducted exactly once: the journal, the ``credit_lock`` rows and the sandbox's
ledger must agree in count and amount. Prints the time, the one-at-a-time estimate and the ratio (target ≥ 20×).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bank_throughput import _proc_cpu, start_sandbox  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bank_sandbox import DEMO_ADMIN_TOKEN, AdminClient  # noqa: E402
from desktop_his.services.bank import (  # noqa: E402
    BankClient,
    BankGateway,
    BankKeys,
    ConfirmRequest,
    JournalRefs,
    JsonV1Adapter,
    LockRequest,
)
from desktop_his.services.clock import SystemClock  # noqa: E402
from desktop_his.services.credit import CreditService  # noqa: E402
from desktop_his.services.db import Database  # noqa: E402
from desktop_his.services.deduction import DeductionService, ProgressInfo  # noqa: E402
from desktop_his.services.enums import LockStatus  # noqa: E402
from desktop_his.services.models import BankJournal, Base, CreditLock, Patient  # noqa: E402
from desktop_his.services.permissions import Actor  # noqa: E402

NAME, ID_TYPE, ID_NO = "压测", "01", "510104199001010011"
BATCH = 5000


def setup(gw: BankGateway, admin: AdminClient, n: int, day: date, after: int) -> int:
    """N locks at the bank and as LOCKED credit_lock rows; returns the amount to deduct (fen). ``after`` more
    locks are kept for the one-at-a-time sample taken after the run (filed under the next business date, so the
    run leaves them alone)."""
    admin.set_clock(datetime.combine(day, datetime.min.time()).replace(hour=10).isoformat())
    admin.create_resident(NAME, ID_TYPE, ID_NO)
    agreement = admin.sign(ID_TYPE, ID_NO, 9_000_000_000)["agreement_no"]
    gw.register_handler("bench_setup", lambda session, row, outcome: None)
    now = gw.clock.now()
    with gw.db.session() as s:
        patient = Patient(name=NAME, pinyin="YC", id_type=ID_TYPE, id_number=ID_NO, sex="M",
                          birth_date=date(1990, 1, 1), created_at=now)
        s.add(patient)
        s.flush()
        patient_id = patient.id
        jid = gw.journal.intent(s, ConfirmRequest(agreement, "VBENCH"), purpose="bench_setup", actor=None,
                                business_date=day)
    assert gw.execute(jid).ok
    t0 = time.perf_counter()
    ids: list[int] = []
    numbers = [f"L{day:%Y%m%d}{i:07d}" for i in range(n + after)]
    amounts = [1000 + (i % 97) * 10 for i in range(n + after)]
    for base in range(0, n + after, BATCH):
        with gw.db.session() as s:
            ids += gw.journal.intent_many(
                s, [(LockRequest(agreement, "VBENCH", numbers[i], amounts[i]), JournalRefs())
                    for i in range(base, min(n + after, base + BATCH))], purpose="bench_setup", actor=None,
                business_date=day)
    outcomes = gw.execute_many(ids, max_workers=32)
    serials = [outcomes[j].serial for j in ids]
    assert all(serials), "a set-up lock failed"
    total = 0
    with gw.db.session() as s:
        rows = []
        for i in range(n + after):
            actual = amounts[i] - 10 if i % 3 == 0 else None
            if i < n:
                total += amounts[i] if actual is None else actual
            rows.append({"lock_no": numbers[i], "patient_id": patient_id, "purpose": "order",
                         "agreement_no": agreement, "family_pay": False, "amount_fen": amounts[i],
                         "actual_fen": actual, "deducted_fen": 0, "refunded_fen": 0, "lock_serial": serials[i],
                         "status": LockStatus.LOCKED.value,
                         "business_date": day if i < n else day + timedelta(days=1), "created_at": now,
                         "workstation": "BENCH", "locked_at": now})
        for base in range(0, len(rows), 10_000):
            s.connection().execute(CreditLock.__table__.insert(), rows[base:base + 10_000])
    print(f"set-up: {n:,} locks made at the bank and locally in {time.perf_counter() - t0:,.1f} s", flush=True)
    return total


def one_at_a_time(db: Database, credit: CreditService, day: date, sample: int) -> float:
    """Seconds per deduction, the naive way (own transaction, then execute, one after the other)."""
    with db.reader() as s:
        lock_ids = list(s.scalars(select(CreditLock.id).where(CreditLock.business_date == day)
                                  .order_by(CreditLock.id.desc()).limit(sample)))
    actor = Actor.system("BENCH", "bench")
    start = time.perf_counter()
    for lock_id in lock_ids:
        with db.session() as s:
            jid = credit.start_deduction(s, s.get(CreditLock, lock_id), actor=actor, business_date=day)
        assert credit.gateway.execute(jid).ok
    return (time.perf_counter() - start) / len(lock_ids)


def check(db: Database, admin: AdminClient, day: date, n: int, total: int) -> bool:
    with db.reader() as s:
        j_n, j_fen = s.execute(select(func.count(), func.coalesce(func.sum(BankJournal.amount_fen), 0)).where(
            BankJournal.op == "deduct", BankJournal.state == "success")).one()
        open_left = s.scalar(select(func.count()).where(BankJournal.op == "deduct",
                                                        BankJournal.state.in_(["intent", "sent", "unknown"])))
        l_n, l_fen = s.execute(select(func.count(), func.coalesce(func.sum(CreditLock.deducted_fen), 0)).where(
            CreditLock.business_date == day, CreditLock.status == LockStatus.DEDUCTED.value)).one()
    bank = {(r["op"], r["status"]): (r["n"], r["fen"]) for r in admin.summary()["movements"]}
    b_n, b_fen = bank.get(("deduct", "SUCCESS"), (0, 0))
    with db.reader() as s:  # the after-run sample (next business date) is at the bank too: count it out
        a_n, a_fen = s.execute(select(func.count(), func.coalesce(func.sum(CreditLock.deducted_fen), 0)).where(
            CreditLock.business_date > day, CreditLock.status == LockStatus.DEDUCTED.value)).one()
    b_n, b_fen, j_n, j_fen = b_n - a_n, b_fen - a_fen, j_n - a_n, j_fen - a_fen
    ok = j_n == l_n == b_n == n and j_fen == l_fen == b_fen == total and open_left == 0
    print(f"check: journal {j_n:,} / {j_fen:,} fen, credit_lock {l_n:,} / {l_fen:,} fen, bank ledger "
          f"{b_n:,} / {b_fen:,} fen, expected {n:,} / {total:,} fen, unresolved {open_left} → "
          f"{'every lock deducted exactly once' if ok else 'MISMATCH'}")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--locks", type=int, default=150_000)
    ap.add_argument("--workers", type=int, default=64)
    ap.add_argument("--window", type=int, default=None)
    ap.add_argument("--latency-ms", type=int, default=20)
    ap.add_argument("--sample", type=int, default=100)
    ap.add_argument("--batch", type=int, default=5000, help="locks claimed per transaction")
    ap.add_argument("--db-url", default="", help="the HIS database (default: a fresh SQLite file)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="deduction-bench-"))
    proc, url = start_sandbox(work / "sandbox.sqlite3")
    try:
        admin = AdminClient(url, DEMO_ADMIN_TOKEN)
        db = Database.from_url(args.db_url or f"sqlite:///{work / 'his.sqlite3'}")
        Base.metadata.create_all(db.engine)
        clock = SystemClock()
        day = clock.today()
        gw = BankGateway(db, BankClient(url, JsonV1Adapter(BankKeys.demo()), pool_size=args.workers), clock)
        credit = CreditService(db, clock, gw)
        credit.register_handlers()
        total = setup(gw, admin, args.locks, day, args.sample)
        admin.add_fault("*", "delay", delay_ms=args.latency_ms)
        print(f"{args.locks:,} locks of {day}, {args.latency_ms} ms injected latency, sandbox in its own process "
              f"(pid {proc.pid}), HIS database {db.engine.dialect.name}, {os.cpu_count()} cores, load average "
              f"{Path('/proc/loadavg').read_text().split()[0]}", flush=True)
        before = one_at_a_time(db, credit, day, args.sample)
        rest = args.locks - args.sample
        print(f"one at a time (before the run): {before * 1000:,.1f} ms per deduction on a sample of {args.sample}",
              flush=True)
        svc = DeductionService(db, clock, gw, host="BENCH")
        last = [0.0]

        def progress(p: ProgressInfo) -> None:
            if time.monotonic() - last[0] > 10:
                last[0] = time.monotonic()
                print(f"  … {p.done:,}/{p.total:,}", flush=True)

        t0, cpu0, srv0 = time.perf_counter(), time.process_time(), _proc_cpu(proc.pid)
        report = svc.run(Actor.system("BENCH", "bench"), day, max_workers=args.workers, window=args.window,
                         batch=args.batch, progress=progress)
        elapsed = time.perf_counter() - t0
        print(f"the run ({args.workers} workers): {report.deducted:,} deducted in {elapsed:,.1f} s "
              f"({report.deducted / elapsed:,.0f}/s); unknown {report.unknown}, refused {report.refused}; CPU per "
              f"deduction: client {(time.process_time() - cpu0) / max(1, report.deducted) * 1e6:,.0f} µs, sandbox "
              f"{(_proc_cpu(proc.pid) - srv0) / max(1, report.deducted) * 1e6:,.0f} µs")
        after = one_at_a_time(db, credit, day + timedelta(days=1), args.sample)
        per_op = (before + after) / 2
        print(f"one at a time (after the run): {after * 1000:,.1f} ms; mean {per_op * 1000:,.1f} ms → {rest:,} "
              f"would take {per_op * rest:,.0f} s ({per_op * rest / 60:,.1f} min) (measured before and after: the "
              "machine's load varies)")
        estimate = per_op * rest
        print(f"ratio: {estimate / elapsed:,.1f}×  (one-at-a-time estimate {estimate:,.0f} s / run {elapsed:,.1f} s; "
              "target ≥ 20×)")
        print(f"load average at the end: {Path('/proc/loadavg').read_text().split()[:3]}")
        ok = check(db, admin, day, args.locks, total)
        gw.close()
        return 0 if ok else 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


if __name__ == "__main__":
    sys.exit(main())
