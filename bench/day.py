"""A simulated day at the busiest hospital: registrations at many windows, 信用就医 for every visit, about three
locked orders per visit, refunds on T and T+1, no-shows, the T-day deduction, T+1 clearing and the
reconciliation against the bank's bill — all through the real service code (rules, journal, gateway) against
the bank sandbox (its own process) with 20 ms latency on every request.

    python bench/day.py [--visits 45000] [--windows 20] [--doctors 24] [--procs 2] [--latency-ms 20] [--url URL]

The windows and doctor stations are PCs of their own: with ``--procs N`` (default: the machine's cores) the
registration and order phases run in N processes, each with its own engine, bank client and gateway and its
share of the windows' (doctors') threads — as N PCs would. ``--procs 1`` runs them as threads of one process.

Phases (each timed, with its throughput):

1. **registration** — ``--windows`` window threads: ``RegistrationService.register`` (every rule), the 签约查询
   (``CreditService.sign_status``), then ``CreditService.use_credit`` (【确认】 + 【锁定】 of the fee through the
   journal), then 取号 (``check_in``) for all but the no-show share;
2. **orders** — ``--doctors`` doctor threads: about three orders per visit (1–2 items each),
   ``OrderService.submit`` with ``CreditService.lock_hook`` and the lock sent through the gateway;
3. **refunds on T** — 2 % of the visits: an order's lock given back (``return_credit`` → 【取消】);
4. **no-shows** — ``NoShowService.mark_no_shows`` for the visits never checked in;
5. **T-day deduction** — ``DeductionService.run`` (finance's run: claim, journal, concurrent send);
6. **T+1** — the bank's day closes (clearing), 2 % of the visits get a refund of a deducted lock
   (``return_credit`` → 【退款】), then ``ReconciliationService.run`` for T against the bank's bill.

Finally the balance check: nothing left open in the journal; per operation the journal's successful amounts
equal the sandbox's ledger to the fen; every lock's state agrees with the bank; the reconciliation found no
mismatch. Target: the whole day ≤ 10 minutes on two cores, zero mismatches.
"""

from __future__ import annotations

import argparse
import logging
import math
import multiprocessing as mp
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bank_sandbox import DEMO_ADMIN_TOKEN, AdminClient  # noqa: E402
from bank_sandbox.server import Sandbox  # noqa: E402
from desktop_his.services import pinyin  # noqa: E402
from desktop_his.services.bank import BankGateway  # noqa: E402
from desktop_his.services.bank.adapter import BankKeys, JsonV1Adapter  # noqa: E402
from desktop_his.services.bank.client import BankClient  # noqa: E402
from desktop_his.services.clock import ManualClock  # noqa: E402
from desktop_his.services.credit import CreditService  # noqa: E402
from desktop_his.services.db import Database  # noqa: E402
from desktop_his.services.enums import LockStatus, Role  # noqa: E402
from desktop_his.services.errors import HisError  # noqa: E402
from desktop_his.services.ids import resident_check_char  # noqa: E402
from desktop_his.services.models import (  # noqa: E402
    BankJournal,
    Base,
    CatalogItem,
    CreditLock,
    Department,
    Doctor,
    Patient,
    Slot,
    Staff,
    StaffRole,
    Visit,
)
from desktop_his.services.noshow import NoShowService  # noqa: E402
from desktop_his.services.orders import OrderLine, OrderService  # noqa: E402
from desktop_his.services.permissions import Actor  # noqa: E402
from desktop_his.services.registration import RegistrationService  # noqa: E402

try:  # finance's services (branch finance)
    from desktop_his.services.deduction import DeductionService  # noqa: E402
    from desktop_his.services.reconciliation import ReconciliationService  # noqa: E402
except ImportError:  # pragma: no cover - reported as "waiting for services/deduction.py"
    DeductionService = ReconciliationService = None  # type: ignore[assignment,misc]

DAY = date(2026, 11, 23)
OPEN = ("intent", "sent", "unknown")
PER_DEPARTMENT = 12  # doctors per department
NO_SHOW_SHARE, REFUND_SHARE = 0.03, 0.02
ORDERS_PER_VISIT = 3
PRICES = (560, 1250, 1800, 2350, 3600, 4800, 8800, 12_000, 15_600, 23_000, 43_210, 680, 990, 7500, 2100)


@dataclass
class Phase:
    name: str
    seconds: float
    count: int
    unit: str
    note: str = ""

    def line(self) -> str:
        rate = self.count / self.seconds if self.seconds > 0 else 0.0
        text = f"{self.name:<22} {self.seconds:8.1f} s  {self.count:>8} {self.unit:<18} {rate:8.1f}/s"
        return text + (f"  ({self.note})" if self.note else "")


@dataclass
class DayResult:
    phases: list[Phase] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)  # the balance check's findings (must be empty)
    reconciliation_mismatches: int | None = None
    waiting: list[str] = field(default_factory=list)  # phases not run (services missing)
    totals: dict[str, Any] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return sum(p.seconds for p in self.phases)


def _database(url: str, pool: int) -> Database:
    if url.startswith("postgresql"):
        return Database.from_url(url, connect_args={"options": "-csearch_path=bench_day"}, pool_size=pool,
                                 max_overflow=8)
    return Database.from_url(url)


def _desk(db: Database, bank_url: str, clock: ManualClock, pool: int) -> SimpleNamespace:
    """One PC's services: its own bank client and gateway on its own engine."""
    client = BankClient(bank_url, JsonV1Adapter(BankKeys.demo()), connect_timeout=5.0, read_timeout=30.0,
                        pool_size=pool)
    gw = BankGateway(db, client, clock)
    credit = CreditService(db, clock, gw)
    credit.register_handlers()
    return SimpleNamespace(gw=gw, credit=credit, registration=RegistrationService(db, clock),
                           orders=OrderService(db, clock))


@dataclass
class Work:
    """What the window and doctor threads need to know of the day (sent to each worker process)."""

    windows: int
    cashiers: list[Actor]
    doctors: list[Actor]
    patients: list[int]
    slots: list[int]
    items: list[int]
    no_shows: set[int] = field(default_factory=set)
    visit_ids: list[int | None] = field(default_factory=list)


def register_one(work: Work, desk: SimpleNamespace, i: int) -> int:
    """One window's visit: register, 签约查询, 确认 + 锁定 of the fee, 取号 (no-shows skip the last)."""
    cashier = work.cashiers[i % work.windows]
    visit = desk.registration.register(cashier, work.patients[i], work.slots[i % len(work.slots)])
    sign = desk.credit.sign_status(cashier, work.patients[i])
    state = desk.credit.use_credit(cashier, visit.id, sign, settle_within=10.0)
    if state.state != "locked":
        raise HisError(f"信用就医未锁定：{state.message}", code=f"credit_{state.state}")
    if i not in work.no_shows:
        desk.registration.check_in(cashier, visit.id)
    return visit.id


def see_one(work: Work, desk: SimpleNamespace, i: int) -> int:
    """The doctor writes about three orders for visit ``i``, each locked on submit; returns the locks made."""
    doctor = work.doctors[(i % len(work.slots)) // 2]
    rng = random.Random(i)
    locks = 0
    for _ in range(ORDERS_PER_VISIT):
        lines = [OrderLine(rng.choice(work.items), rng.randint(1, 2)) for _ in range(rng.randint(1, 2))]
        draft = desk.orders.create_draft(doctor, work.visit_ids[i], lines)
        hook, journal_ids = desk.credit.lock_hook(doctor)
        desk.orders.submit(doctor, draft.id, attach=hook)
        for jid in journal_ids:
            outcome = desk.credit.execute(jid, settle_within=10.0)
            if not outcome.ok:
                raise HisError(f"开单锁额未成功：{outcome.message}", code=f"order_lock_{outcome.code}")
        locks += len(journal_ids)
    return locks


_STEPS = {"registration": register_one, "orders": see_one}


def _run_items(step: str, work: Work, desk: SimpleNamespace, items: list[int], threads: int
               ) -> tuple[dict[int, int], Counter]:
    """Run ``step`` for ``items`` on ``threads`` threads; returns each item's result and the errors by code."""
    fn, results, errors, lock = _STEPS[step], {}, Counter(), threading.Lock()

    def one(i: int) -> None:
        try:
            value = fn(work, desk, i)
        except HisError as exc:
            with lock:
                errors[f"{step}:{getattr(exc, 'code', None) or type(exc).__name__}"] += 1
            return
        with lock:
            results[i] = value

    with ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix=step) as pool:
        list(pool.map(one, items))
    return results, errors


def _pc_process(url: str, bank_url: str, now: str, step: str, work: Work, items: list[int], threads: int,
                ready: Any, go: Any, out: Any) -> None:
    """A worker process: one PC (or a few) with its own engine, bank client and gateway."""
    logging.basicConfig(level=logging.ERROR)
    db = _database(url, threads + 4)
    desk = _desk(db, bank_url, ManualClock(datetime.fromisoformat(now)), threads + 8)
    with db.reader() as s:  # connected before the phase's clock starts
        s.execute(select(1))
    ready.put(1)
    go.wait()
    try:
        out.put(_run_items(step, work, desk, items, threads))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which must not wait for ever
        out.put(({}, Counter({f"{step}:crashed:{type(exc).__name__}: {exc}"[:300]: 1})))
        raise
    finally:
        desk.gw.close()
        db.dispose()


def _get(q: Any, procs: list) -> Any:
    """The next message from the worker processes; raises if one of them died without a word."""
    while True:
        try:
            return q.get(timeout=1.0)
        except Exception:  # noqa: BLE001 - queue.Empty, re-checked below
            dead = [p for p in procs if p.exitcode not in (None, 0)]
            if dead and q.empty():
                raise RuntimeError(f"worker process {dead[0].pid} died (exit code {dead[0].exitcode})") from None


def _sandbox_process(db_path: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "bank_sandbox", "--port", "0", "--db", str(db_path)],
                            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1])
    line = proc.stdout.readline()
    if "http://" not in line:
        proc.kill()
        raise SystemExit(f"sandbox did not start: {line!r}")
    return proc, line[line.index("http://"):].split()[0]


class Day:
    def __init__(self, *, visits: int, windows: int, doctors: int, latency_ms: int, url: str | None,
                 workdir: Path, seed: int = 1, procs: int = 1, log=print) -> None:  # noqa: ANN001
        self.n, self.windows, self.doctor_threads, self.latency_ms = visits, windows, doctors, latency_ms
        self.procs = max(1, procs)
        self.workdir, self.rng, self.log = workdir, random.Random(seed), log
        self.clock = ManualClock(datetime.combine(DAY, dtime(7, 30)))
        self.result = DayResult()
        self._lock = threading.Lock()
        self.url = url or f"sqlite:///{workdir / 'his.sqlite3'}"
        self.db = _database(self.url, max(windows, doctors) + 8)
        if self.url.startswith("postgresql"):
            with self.db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA IF EXISTS bench_day CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA bench_day"))
            self.db.dispose()
        Base.metadata.create_all(self.db.engine)

    # ------------------------------------------------------------------------------ set-up (not timed)

    def setup(self) -> None:
        t0 = time.perf_counter()
        n_doctors = max(1, math.ceil(self.n / 150))
        capacity = math.ceil(self.n / n_doctors / 2 * 1.1) + 2
        with self.db.session() as s:
            staff_ids = {}
            for username, role in (("cashier", Role.CASHIER), ("finance", Role.FINANCE), ("admin", Role.ADMIN)):
                st = Staff(username=username, full_name=username, password_hash="x", created_at=self.clock.now())
                st.roles = [StaffRole(role=role.value)]
                s.add(st)
                s.flush()
                staff_ids[username] = st.id
            self.items = []
            for i, price in enumerate(PRICES):
                item = CatalogItem(code=f"C{i:03d}", name=f"项目{i}", pinyin=pinyin.initials(f"项目{i}"),
                                   kind="drug" if i % 3 else "lab", price_fen=price, unit="盒",
                                   updated_at=self.clock.now())
                s.add(item)
                s.flush()
                self.items.append(item.id)
            self.doctors: list[Actor] = []
            self.slots: list[int] = []
            dept = None
            for k in range(n_doctors):
                if k % PER_DEPARTMENT == 0:
                    dept = Department(code=f"D{k // PER_DEPARTMENT:03d}", name=f"科室{k // PER_DEPARTMENT}",
                                      pinyin="ks", location="门诊楼")
                    s.add(dept)
                    s.flush()
                st = Staff(username=f"doc{k}", full_name=f"医生{k}", password_hash="x", created_at=self.clock.now(),
                           department_id=dept.id)
                st.roles = [StaffRole(role=Role.DOCTOR.value)]
                s.add(st)
                s.flush()
                doc = Doctor(department_id=dept.id, name=f"医生{k}", pinyin="ys", staff_id=st.id,
                             registration_fee_fen=1000 + 500 * (k % 3), room=f"{k % 20 + 1}诊室")
                s.add(doc)
                s.flush()
                self.doctors.append(Actor(st.id, st.username, doc.name, frozenset({Role.DOCTOR}), f"DOC-{k:03d}",
                                          department_id=dept.id, doctor_id=doc.id))
                for period, start in (("AM", dtime(8)), ("PM", dtime(13, 30))):
                    slot = Slot(doctor_id=doc.id, department_id=dept.id, date=DAY, period=period, start_time=start,
                                end_time=dtime(12) if period == "AM" else dtime(17, 30), capacity=capacity, taken=0,
                                next_queue_no=1, fee_fen=doc.registration_fee_fen)
                    s.add(slot)
                    s.flush()
                    self.slots.append(slot.id)
        self.cashiers = [Actor(staff_ids["cashier"], "cashier", "收费员", frozenset({Role.CASHIER}), f"WIN-{w:02d}")
                         for w in range(self.windows)]
        self.finance = Actor(staff_ids["finance"], "finance", "财务", frozenset({Role.FINANCE}), "FIN-01")
        self.admin = Actor(staff_ids["admin"], "admin", "管理员", frozenset({Role.ADMIN, Role.FINANCE}), "ADM-01")
        # Patients, and the same people signed at the bank (written straight into the sandbox's store).
        rows = []
        for i in range(self.n):
            first17 = f"5101{i:013d}"  # unique synthetic resident ID numbers
            rows.append({"name": f"患者{i}", "pinyin": "hz", "id_type": "01",
                         "id_number": first17 + resident_check_char(first17), "sex": "M" if i % 2 else "F",
                         "birth_date": date(1950 + i % 60, 1 + i % 12, 1 + i % 28), "phone": "", "address": "",
                         "noshow_count": 0, "checkin_streak": 0, "created_at": self.clock.now()})
        with self.db.engine.begin() as conn:
            for i in range(0, len(rows), 5000):
                conn.execute(sa.insert(Patient), rows[i:i + 5000])
            self.patients = conn.execute(select(Patient.id).order_by(Patient.id)).scalars().all()
        bank_db = self.workdir / "bank.sqlite3"
        sandbox = Sandbox(bank_db)
        with sandbox.store.tx():
            for row in rows:
                sandbox.bank.create_resident(row["name"], "01", row["id_number"])
                sandbox.bank.sign(sandbox.bank.resident("01", row["id_number"])["id"], 5_000_000)
        sandbox.close()
        self.proc, self.bank_url = _sandbox_process(bank_db)
        self.admin_api = AdminClient(self.bank_url, DEMO_ADMIN_TOKEN)
        self.admin_api.set_clock(self.clock.now().isoformat(), frozen=True)
        self.admin_api.set_merchant(receivables_fen=0, reserve_fen=500_000_000, has_reserve=True)
        if self.latency_ms:
            self.admin_api.add_fault("*", "delay", delay_ms=self.latency_ms)
        self.desk = _desk(self.db, self.bank_url, self.clock, 128)
        self.gw, self.credit = self.desk.gw, self.desk.credit
        self.work = Work(self.windows, self.cashiers, self.doctors, self.patients, self.slots, self.items)
        self.noshow = NoShowService(self.db, self.clock)
        self.deduction = DeductionService(self.db, self.clock, self.gw) if DeductionService else None
        if self.deduction is not None and hasattr(self.deduction, "register_handlers"):
            self.deduction.register_handlers()
        self.recon = ReconciliationService(self.db, self.clock, self.gw) if ReconciliationService else None
        self.log(f"set-up: {self.n} patients signed at the bank, {n_doctors} doctors, {len(self.slots)} slots "
                 f"of {capacity} places, sandbox latency {self.latency_ms} ms — {time.perf_counter() - t0:.1f} s")

    # ------------------------------------------------------------------------------ helpers

    def _error(self, where: str, exc: Exception) -> None:
        code = getattr(exc, "code", None) or type(exc).__name__
        with self._lock:
            self.result.errors[f"{where}:{code}"] += 1

    def _parallel(self, name: str, unit: str, threads: int, work: list, fn, note: str = "") -> None:  # noqa: ANN001
        t0 = time.perf_counter()
        done = [0]

        def one(item: Any) -> None:
            try:
                fn(item)
                with self._lock:
                    done[0] += 1
            except HisError as exc:
                self._error(name, exc)

        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name) as pool:
            list(pool.map(one, work))
        phase = Phase(name, time.perf_counter() - t0, done[0], unit, note)
        self.result.phases.append(phase)
        self.log(phase.line())

    def _settle_all(self) -> None:
        for _ in range(10):
            if not self.gw.resolve_pending(include_not_due=True, limit=100_000).checked:
                return

    # ------------------------------------------------------------------------------ phases

    def _pcs(self, name: str, unit: str, step: str, threads: int, items: list[int], note: str) -> dict[int, int]:
        """Run a phase's ``step`` for ``items`` at ``threads`` windows (doctors): in this process, or spread over
        ``self.procs`` worker processes (PCs) that each take every ``procs``-th item and a share of the threads.
        The phase's clock starts when every process is connected."""
        if self.procs == 1:
            t0 = time.perf_counter()
            results, errors = _run_items(step, self.work, self.desk, items, threads)
        else:
            ctx = mp.get_context("spawn")
            ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
            shares = [items[k::self.procs] for k in range(self.procs)]
            procs = [ctx.Process(target=_pc_process, daemon=True,
                                 args=(self.url, self.bank_url, self.clock.now().isoformat(), step, self.work,
                                       share, max(1, round(threads / self.procs)), ready, go, out))
                     for share in shares if share]
            for proc in procs:
                proc.start()
            for _ in procs:
                _get(ready, procs)
            t0 = time.perf_counter()
            go.set()
            results, errors = {}, Counter()
            for _ in procs:
                got, errs = _get(out, procs)
                results.update(got)
                errors.update(errs)
            for proc in procs:
                proc.join(30)
        phase = Phase(name, time.perf_counter() - t0, len(results), unit, note)
        self.result.errors.update(errors)
        self.result.phases.append(phase)
        self.log(phase.line())
        return results

    def registration_phase(self) -> None:
        """Each window: register, 签约查询, 确认 + 锁定 of the fee, 取号 (no-shows skip the last)."""
        order = list(range(self.n))
        self.work.no_shows = self.no_shows = set(self.rng.sample(order, max(1, round(self.n * NO_SHOW_SHARE))))
        self.clock.set(datetime.combine(DAY, dtime(7, 50)))
        visits = self._pcs("registration", "visits", "registration", self.windows, order,
                           "register + 签约查询 + 确认 + 锁定 + 取号")
        self.work.visit_ids = self.visit_ids = [visits.get(i) for i in order]

    def orders_phase(self) -> None:
        seen = [i for i in range(self.n) if i not in self.no_shows and self.visit_ids[i]]
        self.clock.set(datetime.combine(DAY, dtime(11, 0)))
        locks = self._pcs("orders", "visits seen", "orders", self.doctor_threads, seen,
                          f"{ORDERS_PER_VISIT} orders each, submitted and locked")
        self.order_locks = sum(locks.values())
        self.result.phases[-1].note += f"; {self.order_locks} order locks"

    def _locks(self, status: LockStatus, share: float, *, orders_only: bool) -> list[tuple[int, int]]:
        with self.db.reader() as s:
            q = select(CreditLock.id, CreditLock.deducted_fen if status is LockStatus.DEDUCTED
                       else CreditLock.amount_fen).where(CreditLock.status == status.value)
            if orders_only:
                q = q.where(CreditLock.order_id.is_not(None))
            rows = s.execute(q.order_by(CreditLock.id)).all()
        k = min(len(rows), max(1, round(self.n * share)))
        return [tuple(r) for r in self.rng.sample(rows, k)]

    def refunds_t_phase(self) -> None:
        self.clock.set(datetime.combine(DAY, dtime(15, 0)))
        picks = self._locks(LockStatus.LOCKED, REFUND_SHARE, orders_only=True)
        cashier = Actor(self.cashiers[0].staff_id, "cashier", "收费员", frozenset({Role.CASHIER}), "WIN-REFUND")

        def give_back(pick: tuple[int, int]) -> None:
            result = self.credit.return_credit(cashier, pick[0], pick[1], "患者退费", settle_within=10.0)
            if result.status != "success":
                raise HisError(result.message, code=f"refund_{result.status}")

        self._parallel("refunds on T", "locks cancelled", self.windows, picks, give_back, "【取消】 before deduction")

    def noshow_phase(self) -> None:
        self.clock.set(datetime.combine(DAY, dtime(21, 0)))
        t0 = time.perf_counter()
        report = self.noshow.mark_no_shows(self.admin, DAY)
        phase = Phase("no-shows", time.perf_counter() - t0, len(report.marked), "visits marked",
                      f"{len(report.blacklisted)} blacklisted")
        self.result.phases.append(phase)
        self.log(phase.line())

    def deduction_phase(self) -> None:
        if self.deduction is None:
            self.result.waiting.append("T-day deduction: waiting for services/deduction.py (branch finance)")
            self.log("T-day deduction: waiting for services/deduction.py (branch finance)")
            return
        self.clock.set(datetime.combine(DAY, dtime(22, 0)))
        self.admin_api.set_clock(self.clock.now().isoformat(), frozen=True)
        t0 = time.perf_counter()
        report = self.deduction.run(self.finance, DAY)
        self._settle_all()
        with self.db.reader() as s:
            deducted = s.execute(select(func.count()).select_from(CreditLock)
                                 .where(CreditLock.status == LockStatus.DEDUCTED.value)).scalar_one()
        phase = Phase("T-day deduction", time.perf_counter() - t0, deducted, "locks deducted",
                      getattr(report, "message", ""))
        self.result.phases.append(phase)
        self.log(phase.line())

    def next_day_phase(self) -> None:
        """The bank's day closes (clearing of T); on T+1 refunds of deducted money, then reconciliation."""
        t0 = time.perf_counter()
        self.admin_api.set_clock(datetime.combine(DAY + timedelta(days=1), dtime(8, 30)).isoformat(), frozen=True)
        self.clock.set(datetime.combine(DAY + timedelta(days=1), dtime(8, 30)))
        phase = Phase("T+1 clearing", time.perf_counter() - t0, 1, "day closed")
        self.result.phases.append(phase)
        self.log(phase.line())
        picks = self._locks(LockStatus.DEDUCTED, REFUND_SHARE, orders_only=True)
        cashier = Actor(self.cashiers[0].staff_id, "cashier", "收费员", frozenset({Role.CASHIER}), "WIN-REFUND")

        def refund(pick: tuple[int, int]) -> None:
            result = self.credit.return_credit(cashier, pick[0], pick[1], "患者退费（T+1）", settle_within=10.0)
            if result.status != "success":
                raise HisError(result.message, code=f"refund_{result.status}")

        if picks:
            self._parallel("refunds on T+1", "refunds", self.windows, picks, refund, "【退款】 from the reserve")
        if self.recon is None:
            self.result.waiting.append("reconciliation: waiting for services/reconciliation.py (branch finance)")
            self.log("reconciliation: waiting for services/reconciliation.py (branch finance)")
            return
        t0 = time.perf_counter()
        report = self.recon.run(self.finance, DAY)
        self.result.reconciliation_mismatches = report.mismatches
        phase = Phase("reconciliation", time.perf_counter() - t0, len(getattr(report, "items", []) or []) or 1,
                      "bill checked", f"{report.mismatches} mismatches; {getattr(report, 'message', '')}")
        self.result.phases.append(phase)
        self.log(phase.line())

    # ------------------------------------------------------------------------------ balance check

    def balance_check(self) -> None:
        self._settle_all()
        ledger = self.admin_api.ledger()
        bank = {(r["op"], r["number"]): r for r in ledger["op_records"]}
        with self.db.reader() as s:
            entries = s.execute(select(BankJournal.op, BankJournal.number, BankJournal.state,
                                       BankJournal.amount_fen)).all()
            locks = s.execute(select(CreditLock.lock_no, CreditLock.status, CreditLock.deducted_fen,
                                     CreditLock.refunded_fen)).all()
            visits = s.execute(select(func.count()).select_from(Visit)).scalar_one()
        problems = self.result.problems
        open_entries = [e for e in entries if e.state in OPEN]
        if open_entries:
            problems.append(f"{len(open_entries)} journal entries still open")
        journaled = {(e.op, e.number) for e in entries}
        if bank.keys() - journaled:
            problems.append(f"{len(bank.keys() - journaled)} bank operations without a journal entry")
        totals = {}
        for op in sorted({e.op for e in entries} | {o for o, _ in bank}):
            local = sum(e.amount_fen or 0 for e in entries if e.op == op and e.state == "success")
            remote = sum(r["amount_fen"] or 0 for (o, _), r in bank.items() if o == op and r["status"] == "SUCCESS")
            totals[op] = (local, remote)
            if local != remote:
                problems.append(f"{op}: journal {local} fen ≠ bank {remote} fen")
        bank_locks = {row["lock_no"]: row for row in ledger["locks"]}
        expect = {LockStatus.LOCKED: "locked", LockStatus.DEDUCTED: "deducted", LockStatus.REFUNDED: "deducted",
                  LockStatus.CANCELLED: "cancelled", LockStatus.EXPIRED: "expired"}
        wrong = 0
        for lock in locks:
            remote = bank_locks.get(lock.lock_no)
            want = expect.get(LockStatus(lock.status))
            if want and (remote is None or remote["status"] != want
                         or (want == "deducted" and remote["deducted_fen"] != lock.deducted_fen)):
                wrong += 1
        if wrong:
            problems.append(f"{wrong} locks whose state differs from the bank's")
        self.result.totals = {"visits": visits, "journal entries": len(entries), "locks": len(locks),
                              "per operation (journal, bank) fen": totals}

    def _stats_keeper(self) -> threading.Event | None:
        """PostgreSQL with ``autovacuum = off`` (as on some CI servers) never gathers statistics on the day's
        fast-growing tables; a hospital's server has it on (the default). Stand in for it: ANALYZE the
        day's tables every 30 s while the day runs."""
        if not self.url.startswith("postgresql"):
            return None
        with self.db.engine.connect() as conn:
            if conn.execute(sa.text("SHOW autovacuum")).scalar() == "on":
                return None
        self.log("autovacuum is off on this server: the bench runs ANALYZE every 30 s in its place")
        stop = threading.Event()

        def keep() -> None:
            while not stop.wait(30.0):
                with self.db.engine.begin() as conn:
                    for table in Base.metadata.sorted_tables:
                        conn.execute(sa.text(f'ANALYZE "{table.name}"'))

        threading.Thread(target=keep, name="analyze", daemon=True).start()
        return stop

    def run(self) -> DayResult:
        stop = self._stats_keeper()
        try:
            return self._run()
        finally:
            if stop is not None:
                stop.set()

    def _run(self) -> DayResult:
        self.registration_phase()
        self.orders_phase()
        self.refunds_t_phase()
        self.noshow_phase()
        self.deduction_phase()
        self.next_day_phase()
        self.balance_check()
        return self.result

    def close(self) -> None:
        if hasattr(self, "gw"):
            self.gw.close()
            self.admin_api.close()
        if hasattr(self, "proc"):
            self.proc.terminate()
            self.proc.wait(10)
            self.proc.stdout.close()
        self.db.dispose()


def summary(result: DayResult) -> str:
    lines = [p.line() for p in result.phases]
    lines.append(f"{'whole day':<22} {result.seconds:8.1f} s  (target ≤ 600 s)")
    for k, v in result.totals.items():
        lines.append(f"{k}: {v}")
    if result.errors:
        lines.append("errors: " + ", ".join(f"{k} × {v}" for k, v in result.errors.most_common(10)))
    for w in result.waiting:
        lines.append(f"NOT RUN — {w}")
    recon = result.reconciliation_mismatches
    lines.append(f"reconciliation mismatches: {'not run' if recon is None else recon}")
    lines.append("balance check: " + ("OK — journal equals the bank's ledger to the fen" if not result.problems
                                      else "; ".join(result.problems)))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=45_000)
    parser.add_argument("--windows", type=int, default=20)
    parser.add_argument("--doctors", type=int, default=24, help="doctor threads writing orders at once")
    parser.add_argument("--procs", type=int, default=os.cpu_count() or 1,
                        help="processes (PCs) the windows and doctors are spread over; 1 = threads of this process")
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--url", default=os.environ.get("DESKTOP_HIS_BENCH_DAY_URL"),
                        help="the hospital database (default SQLite in a temp folder; "
                             "e.g. postgresql+psycopg://root@127.0.0.1:5432/test)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    shm = Path("/dev/shm")  # the sandbox's SQLite file (and SQLite hospital database) off the disk
    workdir = Path(tempfile.mkdtemp(prefix="bench-day-", dir=shm if shm.is_dir() else None))
    day = Day(visits=args.visits, windows=args.windows, doctors=args.doctors, latency_ms=args.latency_ms,
              url=args.url, workdir=workdir, procs=args.procs)
    try:
        day.setup()
        result = day.run()
    finally:
        day.close()
        shutil.rmtree(workdir, ignore_errors=True)
    print(summary(result))
    ok = not result.problems and not result.errors and result.reconciliation_mismatches in (0, None)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
