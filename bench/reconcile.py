"""Reconciliation at scale: a bill of N lines matched against the journal (target: 100,000 lines ≤ 2 s).

    python bench/reconcile.py [--lines 100000] [--db-url URL]

Set-up (not timed): N successful ``deduct`` journal entries of one day in the HIS database, and the bank's bill
for that day as the bank's answer carries it (the JSON data of 【下载账单】, decoded by ``results.bill`` inside the
timing) — with 10 lines of each mismatch kind planted: missing locally, missing at the bank, amount, status.
Timed: decoding the bill, loading the day's journal, matching line by line, and keeping the run (counts plus every
mismatching line) — ``ReconciliationService.reconcile``. The download itself is one HTTP response and is not
part of the figure. Checks that exactly the planted mismatches are reported.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from desktop_his.services.bank import BankResult, BankStatus  # noqa: E402
from desktop_his.services.bank import results as bank_results  # noqa: E402
from desktop_his.services.clock import SystemClock  # noqa: E402
from desktop_his.services.db import Database  # noqa: E402
from desktop_his.services.models import BankJournal, Base  # noqa: E402
from desktop_his.services.permissions import Actor  # noqa: E402
from desktop_his.services.reconciliation import Kind, ReconciliationService  # noqa: E402

PLANT = 10


def setup(db: Database, n: int, day: date) -> dict:
    now = datetime.combine(day, datetime.min.time()).replace(hour=21)
    rows, lines = [], []
    for i in range(n):
        number, serial, fen = f"L{day:%Y%m%d}{i:07d}", f"DD{day:%Y%m%d}{i:010d}", 1000 + i % 997
        local_fen, state = fen, "success"
        if i < PLANT:  # missing locally: the bank has it, the journal not
            lines.append(_line(serial, number, fen))
            continue
        if i < 2 * PLANT:  # missing at the bank
            rows.append(_row(number, serial, fen, state, day, now))
            continue
        if i < 3 * PLANT:
            local_fen = fen + 1  # amount
        elif i < 4 * PLANT:
            state = "failed"  # status
        rows.append(_row(number, serial, local_fen, state, day, now))
        lines.append(_line(serial, number, fen))
    with db.session() as s:
        for base in range(0, len(rows), 10_000):
            s.connection().execute(BankJournal.__table__.insert(), rows[base:base + 10_000])
    return {"bill_date": day.isoformat(), "lines": lines,
            "totals": {"deductions_fen": sum(x["amount_fen"] for x in lines), "pays_fen": 0,
                       "refunds_receivables_fen": 0, "refunds_reserve_fen": 0,
                       "net_fen": sum(x["amount_fen"] for x in lines)},
            "clearing_fen": None, "cleared_on": None}


def _row(number: str, serial: str, fen: int, state: str, day: date, now: datetime) -> dict:
    return {"op": "deduct", "number": number, "purpose": "credit_deduct", "params": {}, "amount_fen": fen,
            "state": state, "bank_serial": serial if state == "success" else None, "attempts": 1,
            "business_date": day, "created_at": now, "resolved_at": now, "workstation": "BENCH"}


def _line(serial: str, number: str, fen: int) -> dict:
    return {"serial": serial, "op": "deduct", "number": number, "amount_fen": fen, "status": "SUCCESS",
            "code": "000000", "source": "receivables", "time": "2026-11-22T21:00:00"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--db-url", default="")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="reconcile-bench-"))
    db = Database.from_url(args.db_url or f"sqlite:///{work / 'his.sqlite3'}")
    Base.metadata.create_all(db.engine)
    clock = SystemClock()
    day = date.fromordinal(clock.today().toordinal() - 1)
    data = setup(db, args.lines + PLANT, day)  # PLANT journal-only entries: the bill has exactly --lines lines
    svc = ReconciliationService(db, clock, None)  # reconcile() needs no bank: the bill is in hand
    actor = Actor.system("BENCH", "bench")
    t0, c0 = time.perf_counter(), time.process_time()
    bill = bank_results.bill(BankResult(BankStatus.SUCCESS, "000000", "成功", None, data))
    t1 = time.perf_counter()
    report = svc.reconcile(actor, bill)
    t2, c2 = time.perf_counter(), time.process_time()
    print(f"{len(bill.lines):,} bill lines against {report.local_lines:,} journal entries "
          f"({db.engine.dialect.name}): decode {t1 - t0:.2f} s + reconcile {t2 - t1:.2f} s = {t2 - t0:.2f} s "
          f"(target ≤ 2 s); CPU {c2 - c0:.2f} s; load average {Path('/proc/loadavg').read_text().split()[0]}")
    print("counts:", {k: v for k, v in report.counts.items()})
    want = {Kind.MATCHED: args.lines - 3 * PLANT, Kind.MISSING_LOCAL: PLANT, Kind.MISSING_BANK: PLANT,
            Kind.AMOUNT: PLANT, Kind.STATUS: PLANT}
    ok = report.counts == want
    print("exactly the planted mismatches" if ok else f"MISMATCH: expected {want}")
    return 0 if ok and t2 - t0 <= 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
