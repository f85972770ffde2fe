"""Bank gateway throughput: locks then deductions against the sandbox with injected latency.

    python bench/bank_throughput.py [--n 150000] [--workers 64] [--latency-ms 20] [--sample 100]

The sandbox runs in its own process (python -m bank_sandbox). N operations = N/2 locks then N/2 deductions
of those locks. One-at-a-time mode (intent in its own transaction, then execute) is measured on a sample of
--sample locks + deductions and extrapolated to N; concurrent mode (intent_many + execute_many) runs all N.
Both modes keep the journal guarantee: committed before sending, outcome committed after. At the end every
journal entry must be resolved and the journal's counts and sums per operation must equal the sandbox's.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from bank_sandbox import DEMO_ADMIN_TOKEN, AdminClient  # noqa: E402
from desktop_his.services.bank import (  # noqa: E402
    BankClient,
    BankGateway,
    BankKeys,
    ConfirmRequest,
    DeductRequest,
    JournalRefs,
    JsonV1Adapter,
    LockRequest,
)
from desktop_his.services.clock import SystemClock  # noqa: E402
from desktop_his.services.db import Database  # noqa: E402
from desktop_his.services.models import BankJournal, Base  # noqa: E402

NAME, ID_TYPE, ID_NO = "压测", "01", "510104199001010011"
BATCH = 5000  # intents per transaction in concurrent mode


def start_sandbox(db_path: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "bank_sandbox", "--port", "0", "--db", str(db_path)],
                            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1])
    line = proc.stdout.readline()
    match = re.search(r"http://[\d.]+:\d+", line)
    if not match:
        proc.kill()
        raise SystemExit(f"sandbox did not start: {line!r}")
    return proc, match.group(0)


def prepare(admin: AdminClient, latency_ms: int) -> str:
    admin.set_clock(datetime.now().replace(hour=10, minute=0, second=0, microsecond=0).isoformat())
    admin.create_resident(NAME, ID_TYPE, ID_NO)
    agreement = admin.sign(ID_TYPE, ID_NO, 9_000_000_000)["agreement_no"]
    admin.add_fault("*", "delay", delay_ms=latency_ms)
    return agreement


def one_at_a_time(gw: BankGateway, agreement: str, visit: str, sample: int, tag: str) -> float:
    start = time.perf_counter()
    serials = []
    for i in range(sample):
        lock_no = f"S{tag}{i:06d}"
        with gw.db.session() as s:
            jid = gw.journal.intent(s, LockRequest(agreement, visit, lock_no, 100), purpose="bench",
                                    actor=None, business_date=gw.clock.today())
        serials.append((lock_no, gw.execute(jid).serial))
    for lock_no, serial in serials:
        with gw.db.session() as s:
            jid = gw.journal.intent(s, DeductRequest(lock_no, serial, 90, NAME, ID_TYPE, ID_NO), purpose="bench",
                                    actor=None, business_date=gw.clock.today())
        gw.execute(jid)
    return 2 * sample / (time.perf_counter() - start)


def concurrent(gw: BankGateway, agreement: str, visit: str, n: int, workers: int, window: int | None) -> float:
    half = n // 2
    start = time.perf_counter()
    lock_ids = []
    for base in range(0, half, BATCH):
        with gw.db.session() as s:
            lock_ids += gw.journal.intent_many(
                s, [(LockRequest(agreement, visit, f"C{i:07d}", 100), JournalRefs())
                    for i in range(base, min(half, base + BATCH))], purpose="bench", actor=None,
                business_date=gw.clock.today())
    locks = gw.execute_many(lock_ids, max_workers=workers, window=window, progress=_progress("locks", half))
    done = sorted((f"C{i:07d}", o.serial) for i, o in zip(range(half), (locks[j] for j in lock_ids), strict=True)
                  if o.ok)
    deduct_ids = []
    for base in range(0, len(done), BATCH):
        with gw.db.session() as s:
            deduct_ids += gw.journal.intent_many(
                s, [(DeductRequest(no, serial, 90, NAME, ID_TYPE, ID_NO), JournalRefs())
                    for no, serial in done[base:base + BATCH]], purpose="bench", actor=None,
                business_date=gw.clock.today())
    gw.execute_many(deduct_ids, max_workers=workers, window=window, progress=_progress("deductions", len(deduct_ids)))
    return (half + len(deduct_ids)) / (time.perf_counter() - start)


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds of another process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _progress(what: str, total: int):  # noqa: ANN202
    last = [0.0]

    def report(count: int) -> None:
        if time.monotonic() - last[0] > 10:
            last[0] = time.monotonic()
            print(f"  … {what}: {count:,}/{total:,}", flush=True)

    return report


def journal_check(gw: BankGateway, admin: AdminClient) -> bool:
    report = gw.resolve_pending(include_not_due=True, limit=1_000_000)
    with gw.db.reader() as s:
        open_left = s.scalar(select(func.count()).where(BankJournal.state.in_(["intent", "sent", "unknown"])))
        local = {(op, state.upper()): (n, fen) for op, state, n, fen in s.execute(
            select(BankJournal.op, BankJournal.state, func.count(), func.coalesce(func.sum(BankJournal.amount_fen), 0))
            .where(BankJournal.op != "confirm").group_by(BankJournal.op, BankJournal.state))}
    bank = defaultdict(lambda: (0, 0))
    for r in admin.summary()["op_records"]:
        if r["op"] != "confirm":
            bank[(r["op"], r["status"])] = (r["n"], r["fen"])
    same = dict(local) == dict(bank)
    print(f"journal check: resolver pass checked {report.checked}, unresolved left {open_left}, "
          f"journal == sandbox ledger: {same}")
    for key in sorted(set(local) | set(bank)):
        print(f"  {key[0]:7} {key[1]:8} journal {local.get(key, (0, 0))}  bank {bank[key]}")
    return open_left == 0 and same


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=150_000)
    ap.add_argument("--workers", type=int, default=64)
    ap.add_argument("--window", type=int, default=None, help="requests in flight (default 4 × workers)")
    ap.add_argument("--latency-ms", type=int, default=20)
    ap.add_argument("--sample", type=int, default=100, help="locks (+ as many deductions) one at a time")
    ap.add_argument("--switch-interval", type=float, default=None, help="sys.setswitchinterval (s) experiment")
    args = ap.parse_args()
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    work = Path(tempfile.mkdtemp(prefix="bank-bench-"))
    proc, url = start_sandbox(work / "sandbox.sqlite3")
    try:
        admin = AdminClient(url, DEMO_ADMIN_TOKEN)
        agreement = prepare(admin, args.latency_ms)
        db = Database.from_url(f"sqlite:///{work / 'his.sqlite3'}")
        Base.metadata.create_all(db.engine)
        gw = BankGateway(db, BankClient(url, JsonV1Adapter(BankKeys.demo()), pool_size=args.workers),
                         SystemClock())
        gw.register_handler("bench", lambda session, row, outcome: None)
        with db.session() as s:
            jid = gw.journal.intent(s, ConfirmRequest(agreement, "VBENCH"), purpose="bench", actor=None,
                                    business_date=gw.clock.today())
        assert gw.execute(jid).ok
        print(f"N = {args.n:,} operations ({args.n // 2:,} locks then their deductions), "
              f"{args.latency_ms} ms injected latency, sandbox in its own process (pid {proc.pid}), "
              f"client journal on SQLite (synchronous=FULL), {os.cpu_count()} cores, "
              f"load average {Path('/proc/loadavg').read_text().split()[0]}")
        before = one_at_a_time(gw, agreement, "VBENCH", args.sample, "A")
        print(f"one at a time (before): {before:,.1f} ops/s on a sample of {2 * args.sample} operations")
        t0, cpu0, srv0 = time.perf_counter(), time.process_time(), _proc_cpu(proc.pid)
        conc = concurrent(gw, agreement, "VBENCH", args.n, args.workers, args.window)
        n_done = conc * (time.perf_counter() - t0)
        print(f"concurrent ({args.workers} workers): {conc:,.1f} ops/s over all {args.n:,} operations "
              f"({time.perf_counter() - t0:,.1f} s); CPU per op: client "
              f"{(time.process_time() - cpu0) / n_done * 1e6:,.0f} µs, sandbox "
              f"{(_proc_cpu(proc.pid) - srv0) / n_done * 1e6:,.0f} µs")
        after = one_at_a_time(gw, agreement, "VBENCH", args.sample, "B")
        seq = (before + after) / 2
        print(f"one at a time (after): {after:,.1f} ops/s on a sample of {2 * args.sample} operations")
        print(f"one at a time: {seq:,.1f} ops/s — the mean of the two samples, extrapolated to N: "
              f"{args.n / seq / 60:,.1f} min (measured before and after because the machine's load varies)")
        print(f"ratio: {conc / seq:,.1f}×  (target ≥ 20×)")
        print(f"load average at the end: {Path('/proc/loadavg').read_text().split()[:3]} "
              "(other processes on this machine share the two cores)")
        ok = journal_check(gw, admin)
        gw.close()
        return 0 if ok else 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


if __name__ == "__main__":
    sys.exit(main())
