"""The fault soak: 信用就医 money workflows under injected network faults and process crashes, then recovery,
then a check that every fen is where the bank says it is.

Operations (the real workflows, through the journaled gateway): confirm + lock of a registration fee
(``CreditService.use_credit``), order locks (``OrderService.submit`` with ``CreditService.lock_hook``), cancelling
a lock on its own day, the end-of-day deduction of every lock still locked (``start_deduction`` +
``execute_many``), refunds of deducted money (``return_credit``; a short merchant refund balance answers
``DCBS0004PL0974`` and queues them) and the refund queue's retries (``RefundQueue.retry``).

Faults, at every network boundary (every request, queries included), with the given total rate: request lost
(``refuse``), answer lost after the bank committed (``drop_reply``), a read timeout (``delay`` past the client's
timeout, the bank committing meanwhile), ``PROCESSING``, garbled answers (``garbage``, after committing), bank
errors before and after committing (``error``), and HTTP 5xx from a proxy (``http_error``).

Crashes: at random, the process "dies" at one step of the operation — after the workflow's transaction
committed the journal intent but before sending (``before_send``), after ``sent`` was committed but before
the request left (``sent``), after the bank answered but before the outcome was recorded (``answered``), or in
the middle of an outcome handler (``handler``: its transaction rolls back). Then fresh services (a new gateway,
new workflow objects) start on the same database and run the start-up recovery (the resolver over every
open journal entry), faults still on.

After the run (faults off, recovery until nothing is open) the check counts discrepancies:
no double charge (a bank movement per operation number at most once), no orphan (every journal entry final,
every bank operation journaled), the journal equals the bank's ledger entry by entry and per operation to the
fen, the domain rows (locks, refunds) agree with the journal and with the bank's locks, and queued refunds
succeeded in submission order.

    python bench/soak.py [--ops 100000] [--shards 4] [--seed N] [--fault-rate 0.4] [--crash-rate 0.1] [--url URL]

``--seed`` replays a run (the sandbox's fault draws and the operation mix follow it; thread timing in the
deduction's parallel sends may still differ).
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bank_sandbox import RunningSandbox, start_background  # noqa: E402
from desktop_his.services import pinyin  # noqa: E402
from desktop_his.services.bank import BankGateway  # noqa: E402
from desktop_his.services.bank.adapter import BankKeys, JsonV1Adapter  # noqa: E402
from desktop_his.services.bank.client import BankClient  # noqa: E402
from desktop_his.services.bank.protocol import SignStatus  # noqa: E402
from desktop_his.services.clock import ManualClock  # noqa: E402
from desktop_his.services.credit import CreditService  # noqa: E402
from desktop_his.services.db import Database  # noqa: E402
from desktop_his.services.enums import LockStatus, RefundStatus, Role  # noqa: E402
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
    Refund,
    Slot,
    Staff,
    StaffRole,
    Visit,
)
from desktop_his.services.orders import OrderLine, OrderService  # noqa: E402
from desktop_his.services.permissions import Actor  # noqa: E402
from desktop_his.services.refunds import RefundQueue  # noqa: E402

try:  # finance's T-day run (branch finance); without it the soak deducts with start_deduction + execute_many
    from desktop_his.services.deduction import DeductionService  # noqa: E402
except ImportError:  # pragma: no cover
    DeductionService = None  # type: ignore[assignment,misc]

T0 = datetime(2026, 11, 23, 9, 0)
OPEN = ("intent", "sent", "unknown")
CRASH_POINTS = ("before_send", "sent", "answered", "handler")
# kind, share of the fault rate, extra arguments
# Rules fire independently: a 40 % rate puts at least one fault on about a third of all requests.
FAULT_MIX = (
    ("refuse", 0.18, {}),
    ("drop_reply", 0.18, {}),
    ("delay", 0.04, {"delay_ms": 450}),  # past the client's read timeout: a timeout, the bank committing
    ("processing", 0.12, {}),
    ("garbage", 0.12, {}),
    ("error", 0.12, {"code": "ADPTSY0004"}),
    ("error", 0.06, {"code": "ADPTSY0006", "commit": True}),
    ("http_error", 0.12, {"code": "503"}),
    ("http_error", 0.06, {"code": "502", "commit": True}),
)


class Crash(BaseException):
    """The process dies here (a BaseException: no ``except Exception`` in the services swallows it)."""


@dataclass
class Stats:
    operations: Counter = field(default_factory=Counter)  # money operations started, by kind
    refused: Counter = field(default_factory=Counter)  # refused by the workflows' own rules before the bank
    crashes: Counter = field(default_factory=Counter)
    restarts: int = 0
    days: int = 0
    discrepancies: list[str] = field(default_factory=list)
    requests: int = 0  # bank operations the sandbox recorded
    calls: int = 0  # requests sent (money operations, queries, retries)
    faults: int = 0

    @property
    def money_operations(self) -> int:
        return sum(self.operations.values())


def _sign(agreement: str) -> SignStatus:
    return SignStatus(True, agreement, "holder", None, 10_000_000, 10_000_000)


class Soak:
    def __init__(self, *, seed: int, workdir: Path, url: str | None = None, fault_rate: float = 0.4,
                 crash_rate: float = 0.1, patients: int = 40, read_timeout: float = 0.3,
                 ops_per_day: int = 400, log=print) -> None:  # noqa: ANN001
        self.seed, self.workdir, self.fault_rate, self.crash_rate = seed, workdir, fault_rate, crash_rate
        self.rng = random.Random(seed)
        self.read_timeout, self.ops_per_day, self.log = read_timeout, ops_per_day, log
        self.stats = Stats()
        self.clock = ManualClock(T0)
        self.sandbox: RunningSandbox = start_background(workdir / "bank.sqlite3", demo=False, seed=seed)
        self.sandbox.admin.set_clock(T0.isoformat())
        self.sandbox.admin.set_merchant(receivables_fen=0, reserve_fen=50_000, has_reserve=True)
        self.url = url or f"sqlite:///{workdir / 'his.sqlite3'}"
        self.db = Database.from_url(self.url, **({"connect_args": {"options": "-csearch_path=soak"}}
                                                 if self.url.startswith("postgresql") else {}))
        if self.db.is_postgresql:
            with self.db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA IF EXISTS soak CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA soak"))
            self.db.dispose()
        Base.metadata.create_all(self.db.engine)
        self._world(patients)
        self._armed: str | None = None
        self._start_services()

    # ------------------------------------------------------------------------------ set-up

    def _world(self, patients: int) -> None:
        with self.db.session() as s:
            dept = Department(code="NK", name="内科", pinyin="nk", location="门诊楼")
            s.add(dept)
            s.flush()
            staff = {}
            for username, role in (("cashier", Role.CASHIER), ("finance", Role.FINANCE), ("doctor", Role.DOCTOR)):
                st = Staff(username=username, full_name=username, password_hash="x", created_at=T0,
                           department_id=dept.id)
                st.roles = [StaffRole(role=role.value)]
                s.add(st)
                s.flush()
                staff[username] = st.id
            doctor = Doctor(department_id=dept.id, name="李医生", pinyin="lys", staff_id=staff["doctor"],
                            registration_fee_fen=1000, room="1诊室")
            s.add(doctor)
            s.flush()
            self.items = []
            for n, price in enumerate((2350, 1800, 12_000, 560, 43_210)):
                item = CatalogItem(code=f"C{n}", name=f"项目{n}", pinyin=pinyin.initials(f"项目{n}"), kind="drug",
                                   price_fen=price, unit="盒", updated_at=T0)
                s.add(item)
                s.flush()
                self.items.append(item.id)
            self.patients: list[tuple[int, str]] = []
            for i in range(patients):
                first17 = f"510104{1960 + i % 40:04d}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
                number = first17 + resident_check_char(first17)
                name = f"患者{i:03d}"
                patient = Patient(name=name, pinyin="hz", id_type="01", id_number=number, sex="M",
                                  birth_date=date(1960 + i % 40, 1 + i % 12, 1 + i % 28), created_at=T0)
                s.add(patient)
                s.flush()
                self.sandbox.admin.create_resident(name, "01", number)
                agreement = self.sandbox.admin.sign("01", number, 10_000_000)["agreement_no"]
                self.patients.append((patient.id, agreement))
            self.dept_id, self.doctor_id = dept.id, doctor.id
        self.cashier = Actor(staff["cashier"], "cashier", "收费员", frozenset({Role.CASHIER}), "WIN-01",
                             department_id=self.dept_id)
        self.finance = Actor(staff["finance"], "finance", "财务", frozenset({Role.FINANCE}), "FIN-01")
        self.doctor = Actor(staff["doctor"], "doctor", "李医生", frozenset({Role.DOCTOR}), "DOC-01",
                            department_id=self.dept_id, doctor_id=self.doctor_id)
        self._new_day_slot()

    def _new_day_slot(self) -> None:
        with self.db.session() as s:
            slot = Slot(doctor_id=self.doctor_id, department_id=self.dept_id, date=self.clock.today(), period="AM",
                        start_time=dtime(8), end_time=dtime(23, 59), capacity=100_000, taken=0, next_queue_no=1,
                        fee_fen=1000)
            s.add(slot)
            s.flush()
            self.slot_id = slot.id

    def _start_services(self) -> None:
        """A fresh process: new bank client and gateway, workflow objects, handlers (wrapped for crashes)."""
        client = BankClient(self.sandbox.url, JsonV1Adapter(BankKeys.demo()), connect_timeout=1.0,
                            read_timeout=self.read_timeout, pool_size=16)
        real_call = client.call

        def call(request: Any):  # noqa: ANN202 - counts every request (the fault rate's denominator)
            self.stats.calls += 1
            return real_call(request)

        client.call = call  # type: ignore[method-assign]
        self.gw = BankGateway(self.db, client, self.clock)
        self.credit = CreditService(self.db, self.clock, self.gw)
        self.credit.register_handlers()
        self.refunds = RefundQueue(self.db, self.clock, self.gw)
        self.orders = OrderService(self.db, self.clock)
        self.deduction = DeductionService(self.db, self.clock, self.gw, host="SOAK") if DeductionService else None
        for purpose, handler in list(self.gw._handlers.items()):  # noqa: SLF001 - the crash seam
            self.gw._handlers[purpose] = self._crashing_handler(handler)  # noqa: SLF001
        for purpose, handler in list(self.gw.journal.bulk_handlers.items()) \
                if hasattr(self.gw.journal, "bulk_handlers") else ():
            self.gw.journal.bulk_handlers[purpose] = self._crashing_bulk_handler(handler)
        real_execute = self.gw.execute

        def execute(journal_id: int, **kw: Any):  # noqa: ANN202
            self._maybe_crash("before_send")
            return real_execute(journal_id, **kw)

        self.gw.execute = execute  # type: ignore[method-assign]
        self.gw.fault_hook = lambda point, _jid: self._maybe_crash(point)

    def _crashing_handler(self, handler):  # noqa: ANN001, ANN202
        def run(s, entry, outcome):  # noqa: ANN001, ANN202
            handler(s, entry, outcome)
            self._maybe_crash("handler")  # after the handler's writes, before the transaction commits
        return run

    def _crashing_bulk_handler(self, handler):  # noqa: ANN001, ANN202
        def run(s, items):  # noqa: ANN001, ANN202
            handler(s, items)
            self._maybe_crash("handler")
        return run

    def _maybe_crash(self, point: str) -> None:
        if self._armed == point:
            self._armed = None
            self.stats.crashes[point] += 1
            raise Crash(point)

    def restart(self) -> None:
        """The process died: start again on the same database and run the start-up recovery."""
        self._armed = None
        self.gw.close()
        self._start_services()
        self.stats.restarts += 1
        self.gw.resolve_pending(include_not_due=True, limit=100_000)

    def set_faults(self, on: bool) -> None:
        self.stats.faults += sum(f["fired"] for f in self.sandbox.admin.faults()["faults"])
        self.sandbox.admin.clear_faults()
        if not on or self.fault_rate <= 0:
            return
        for kind, share, extra in FAULT_MIX:
            self.sandbox.admin.add_fault("*", kind, probability=min(1.0, self.fault_rate * share), **extra)

    # ------------------------------------------------------------------------------ operations

    def _run(self, kind: str, fn) -> None:  # noqa: ANN001
        """One money operation, perhaps with a crash armed at one of its steps."""
        self._armed = self.rng.choice(CRASH_POINTS) if self.rng.random() < self.crash_rate else None
        try:
            fn()
        except Crash:
            self.restart()
        except HisError as exc:
            self.stats.refused[f"{kind}:{exc.code}"] += 1
        finally:
            self._armed = None

    def op_credit_visit(self) -> None:
        patient_id, agreement = self.rng.choice(self.patients)
        with self.db.session() as s:
            slot = s.get(Slot, self.slot_id, with_for_update=True)
            slot.taken += 1
            slot.next_queue_no += 1
            visit = Visit(visit_no=f"V{self.clock.today():%Y%m%d}{slot.next_queue_no:06d}", patient_id=patient_id,
                          slot_id=slot.id, department_id=self.dept_id, doctor_id=self.doctor_id,
                          visit_date=slot.date, period="AM", queue_no=slot.next_queue_no - 1, status="registered",
                          fee_fen=slot.fee_fen, fee_status="unpaid", created_at=self.clock.now(),
                          workstation="WIN-01")
            s.add(visit)
            s.flush()
            visit_id = visit.id
        self.stats.operations["confirm+lock"] += 1
        self._run("credit", lambda: self.credit.use_credit(self.cashier, visit_id, _sign(agreement),
                                                            settle_within=0))

    def op_order_lock(self) -> None:
        with self.db.reader() as s:
            visits = s.execute(select(Visit.id).where(Visit.visit_date == self.clock.today(),
                                                      Visit.credit.is_(True)).order_by(Visit.id.desc())
                               .limit(50)).scalars().all()
        if not visits:
            return self.op_credit_visit()
        visit_id = self.rng.choice(visits)
        lines = [OrderLine(self.rng.choice(self.items), self.rng.randint(1, 3))
                 for _ in range(self.rng.randint(1, 3))]
        self.stats.operations["order lock"] += 1

        def go() -> None:
            draft = self.orders.create_draft(self.doctor, visit_id, lines)
            hook, journal_ids = self.credit.lock_hook(self.doctor)
            self.orders.submit(self.doctor, draft.id, attach=hook)
            for jid in journal_ids:
                self.gw.execute(jid)
        self._run("order", go)

    def _pick_lock(self, status: LockStatus, *, today: bool) -> CreditLock | None:
        with self.db.reader() as s:
            q = select(CreditLock).where(CreditLock.status == status.value)
            q = q.where(CreditLock.business_date == self.clock.today()) if today else \
                q.where(CreditLock.refunded_fen < CreditLock.deducted_fen)
            rows = s.execute(q.order_by(CreditLock.id.desc()).limit(50)).scalars().all()
        return self.rng.choice(rows) if rows else None

    def op_cancel(self) -> None:
        lock = self._pick_lock(LockStatus.LOCKED, today=True)
        if lock is None:
            return
        self.stats.operations["cancel"] += 1
        self._run("cancel", lambda: self.credit.return_credit(self.cashier, lock.id, lock.amount_fen, "soak",
                                                               settle_within=0))

    def op_refund(self) -> None:
        lock = self._pick_lock(LockStatus.DEDUCTED, today=False)
        if lock is None:
            return
        left = lock.deducted_fen - lock.refunded_fen
        amount = left if self.rng.random() < 0.5 else self.rng.randint(1, left)
        self.stats.operations["refund"] += 1
        self._run("refund", lambda: self.credit.return_credit(self.cashier, lock.id, amount, "soak",
                                                               settle_within=0))

    def op_retry_queue(self) -> None:
        with self.db.reader() as s:
            queued = s.execute(select(sa.func.count()).select_from(Refund)
                               .where(Refund.status == RefundStatus.QUEUED.value)).scalar_one()
        if not queued:
            return
        self.stats.operations["queue retry"] += 1
        self._run("queue", lambda: self.refunds.retry(self.finance, settle_within=0, limit=20))

    def end_of_day(self) -> None:
        """Resolve the day's open entries, deduct every lock still locked, move both clocks to the next day,
        and now and then top up the merchant's refund reserve (so the refund queue drains)."""
        for _ in range(10):  # until a deduction round finds nothing new after everything open was resolved
            self._resolve_all()
            if not self._deduct():
                break
        self.sandbox.admin.end_of_day()
        self.sandbox.admin.advance(seconds=2)
        self.clock.set(datetime.combine(self.clock.today() + timedelta(days=1), dtime(9)))
        if self.rng.random() < 0.5:
            reserve = self.sandbox.admin.merchant()["reserve_fen"]
            self.sandbox.admin.set_merchant(reserve_fen=reserve + self.rng.randint(20_000, 200_000))
        self._new_day_slot()
        self.stats.days += 1

    def _resolve_all(self, rounds: int = 20) -> None:
        for _ in range(rounds):  # the resolver, again and again (faults keep some answers from arriving)
            if not self.gw.resolve_pending(include_not_due=True, limit=100_000).checked:
                return

    def _deduct(self) -> int:
        """The T-day deduction: every lock still locked — today's, and any older one a late answer left
        locked (the bank released it at midnight; its refused deduction marks it expired and notifies)."""
        if self.deduction is not None:
            return self._deduct_with_run()
        with self.db.session() as s:
            locks = s.execute(select(CreditLock).where(CreditLock.status == LockStatus.LOCKED.value,
                                                       CreditLock.business_date <= self.clock.today())
                              .order_by(CreditLock.id)).scalars().all()
            ids = [self.credit.start_deduction(s, lock, actor=self.finance, business_date=self.clock.today())
                   for lock in locks]
        self.stats.operations["deduction"] += len(ids)
        if ids:
            self._armed = self.rng.choice(("sent", "answered", "handler")) \
                if self.rng.random() < self.crash_rate * 5 else None
            try:
                self.gw.execute_many(ids, max_workers=8)
            except Crash:
                self.restart()
            finally:
                self._armed = None
        return len(ids)

    def _deduct_with_run(self) -> int:
        """Finance's T-day run for today and every earlier day that still has locked locks (a late answer)."""
        with self.db.reader() as s:
            days = s.execute(select(CreditLock.business_date).where(CreditLock.status == LockStatus.LOCKED.value,
                                                                    CreditLock.business_date <= self.clock.today())
                             .distinct()).scalars().all()
            before = s.execute(select(sa.func.count()).select_from(BankJournal)
                               .where(BankJournal.op == "deduct")).scalar_one()
        for day in sorted(days):
            self._armed = self.rng.choice(("sent", "answered", "handler")) \
                if self.rng.random() < self.crash_rate * 5 else None
            try:
                self.deduction.run(self.finance, day, max_workers=8)
            except Crash:
                self.restart()
            finally:
                self._armed = None
        with self.db.reader() as s:
            after = s.execute(select(sa.func.count()).select_from(BankJournal)
                              .where(BankJournal.op == "deduct")).scalar_one()
        self.stats.operations["deduction"] += after - before
        return after - before

    # ------------------------------------------------------------------------------ the run

    def run(self, operations: int) -> Stats:
        self.set_faults(True)
        mix = ((self.op_credit_visit, 30), (self.op_order_lock, 35), (self.op_cancel, 8), (self.op_refund, 20),
               (self.op_retry_queue, 7))
        fns, weights = zip(*mix, strict=True)
        started, since_day, last_report = time.perf_counter(), 0, 0
        while self.stats.money_operations < operations:
            self.rng.choices(fns, weights)[0]()
            since_day += 1
            if since_day % 25 == 0:  # the resolver thread's periodic pass
                self.gw.resolve_pending(include_not_due=True, limit=100_000)
            if since_day >= self.ops_per_day:
                self.end_of_day()
                since_day = 0
            if self.stats.money_operations - last_report >= 1000:
                last_report = self.stats.money_operations
                self.log(f"  … {last_report} operations, {time.perf_counter() - started:.0f} s")
        self.end_of_day()
        self.recover()
        self.check()
        return self.stats

    def recover(self) -> None:
        """Faults off, a last restart, then the resolver (and the refund queue) until nothing is open."""
        self.set_faults(False)
        self.restart()
        self.sandbox.admin.set_merchant(reserve_fen=self.sandbox.admin.merchant()["reserve_fen"] + 10_000_000)
        for _ in range(10):
            self._resolve_all()
            # the next day's deduction run closes earlier days: a lock whose answer came after the day's last
            # run was released by the bank at 24:00 — expired here, to be collected another way
            self._deduct()
            self.refunds.retry(self.finance, settle_within=0)
            with self.db.reader() as s:
                if not s.execute(select(BankJournal.id).where(BankJournal.state.in_(OPEN)).limit(1)).first():
                    break

    # ------------------------------------------------------------------------------ the check

    def _bad(self, text: str) -> None:
        if len(self.stats.discrepancies) < 10_000:
            self.stats.discrepancies.append(text)

    def check(self) -> list[str]:
        ledger = self.sandbox.admin.ledger()
        with self.db.reader() as s:
            entries = list(s.execute(select(BankJournal.id, BankJournal.op, BankJournal.number, BankJournal.state,
                                            BankJournal.result_code, BankJournal.amount_fen, BankJournal.bank_serial,
                                            BankJournal.credit_lock_id, BankJournal.refund_id)).all())
            locks = {lock.id: lock for lock in s.execute(select(CreditLock)).scalars()}
            refunds = {r.id: r for r in s.execute(select(Refund)).scalars()}
            visits = {v.id: v for v in s.execute(select(Visit)).scalars()}
        bank = {(r["op"], r["number"]): r for r in ledger["op_records"]}
        journaled = {(e.op, e.number) for e in entries}
        self.stats.requests = len(ledger["op_records"])
        # no orphan: every entry final, every bank operation journaled
        for e in entries:
            if e.state in OPEN:
                self._bad(f"journal {e.id} {e.op} {e.number} still {e.state}")
        for key in bank.keys() - journaled:
            self._bad(f"bank operation {key} has no journal entry")
        # no double charge
        moved = Counter((m["op"], m["number"]) for m in ledger["movements"] if m["status"] == "SUCCESS")
        for key, n in moved.items():
            if n > 1:
                self._bad(f"{key} moved money {n} times")
        # the journal equals the bank, entry by entry and per operation
        for e in entries:
            record = bank.get((e.op, e.number))
            if e.state in OPEN:
                continue
            if record is None:
                self._bad(f"journal {e.id} {e.op} {e.number} {e.state} unknown to the bank")
                continue
            if (e.state.upper(), e.result_code) != (record["status"], record["code"]):
                self._bad(f"journal {e.id} {e.op} {e.number}: {e.state}/{e.result_code} but bank "
                          f"{record['status']}/{record['code']}")
            if e.amount_fen != record["amount_fen"] or (e.state == "success" and e.bank_serial != record["serial"]):
                self._bad(f"journal {e.id} {e.op} {e.number}: amount/serial differ from the bank")
        for op in ("lock", "deduct", "refund", "cancel", "confirm"):
            local = sum(e.amount_fen or 0 for e in entries if e.op == op and e.state == "success")
            remote = sum(r["amount_fen"] or 0 for (o, _), r in bank.items() if o == op and r["status"] == "SUCCESS")
            if local != remote:
                self._bad(f"{op}: journal {local} fen, bank {remote} fen")
        self._check_domain(entries, locks, refunds, visits, ledger)
        self._check_refund_order(refunds, ledger)
        return self.stats.discrepancies

    def _check_domain(self, entries, locks, refunds, visits, ledger) -> None:  # noqa: ANN001
        by_lock: dict[int, list] = {}
        for e in entries:
            if e.credit_lock_id:
                by_lock.setdefault(e.credit_lock_id, []).append(e)
        bank_locks = {row["lock_no"]: row for row in ledger["locks"]}
        expect = {"locked": LockStatus.LOCKED, "deducted": LockStatus.DEDUCTED, "cancelled": LockStatus.CANCELLED,
                  "expired": LockStatus.EXPIRED}
        for lock in locks.values():
            mine = {e.op: e for e in by_lock.get(lock.id, [])}
            lock_entry = mine.get("lock")
            if lock_entry is None:
                self._bad(f"lock {lock.lock_no} has no journal entry")
                continue
            status = LockStatus(lock.status)
            if lock_entry.state == "failed":
                if status is not LockStatus.FAILED:
                    self._bad(f"lock {lock.lock_no}: bank refused it but it is {status}")
                continue
            remote = bank_locks.get(lock.lock_no)
            if remote is None:
                self._bad(f"lock {lock.lock_no} ({status}) unknown to the bank")
                continue
            bank_status = expect.get(remote["status"])
            ours = LockStatus.DEDUCTED if status is LockStatus.REFUNDED else status
            if bank_status is not ours and not (remote["status"] == "expired" and status is LockStatus.EXPIRED):
                self._bad(f"lock {lock.lock_no}: ours {status}, bank {remote['status']}")
            if status in (LockStatus.DEDUCTED, LockStatus.REFUNDED) and lock.deducted_fen != remote["deducted_fen"]:
                self._bad(f"lock {lock.lock_no}: deducted {lock.deducted_fen}, bank {remote['deducted_fen']}")
            done = sum(r.amount_fen for r in refunds.values()
                       if r.credit_lock_id == lock.id and r.status == RefundStatus.SUCCESS
                       and r.method == "bank_refund")
            if done != remote["refunded_fen"]:
                self._bad(f"lock {lock.lock_no}: refunded {done}, bank {remote['refunded_fen']}")
            held = sum(r.amount_fen for r in refunds.values() if r.credit_lock_id == lock.id
                       and r.method == "bank_refund" and r.status in (RefundStatus.SUCCESS, RefundStatus.QUEUED,
                                                                      RefundStatus.PENDING))
            if status in (LockStatus.DEDUCTED, LockStatus.REFUNDED) and held != lock.refunded_fen:
                self._bad(f"lock {lock.lock_no}: refunded_fen {lock.refunded_fen} but refunds hold {held}")
            visit = visits.get(lock.visit_id)
            if lock.order_id is None and visit is not None and status is LockStatus.LOCKED \
                    and visit.fee_status != "locked":
                self._bad(f"visit {visit.visit_no}: fee {visit.fee_status} while its lock is locked")
        journal_of_refund = {e.refund_id: e for e in entries if e.refund_id}
        for refund in refunds.values():
            e = journal_of_refund.get(refund.id)
            if e is None:
                self._bad(f"refund {refund.refund_no} has no journal entry")
                continue
            want = {"success": {RefundStatus.SUCCESS}, "failed": {RefundStatus.FAILED, RefundStatus.QUEUED}}
            if RefundStatus(refund.status) not in want.get(e.state, set()):
                self._bad(f"refund {refund.refund_no}: {refund.status} but journal {e.state}/{e.result_code}")
            if refund.status == RefundStatus.QUEUED and e.result_code != "DCBS0004PL0974":
                self._bad(f"refund {refund.refund_no} queued without DCBS0004PL0974")

    def _check_refund_order(self, refunds, ledger) -> None:  # noqa: ANN001
        """Refunds that waited in the queue reached the bank's success in the order they were submitted."""
        order = {m["number"]: m["id"] for m in ledger["movements"] if m["op"] == "refund" and m["status"] == "SUCCESS"}
        queued = sorted((r.id, r.refund_no) for r in refunds.values() if r.queued_at is not None
                        and r.status == RefundStatus.SUCCESS)
        done = [order.get(no) for _, no in queued]
        if any(x is None for x in done):
            self._bad("a refund we hold as successful has no successful bank movement")
            return
        if done != sorted(done):
            late = next(no for (_, no), a, b in zip(queued, done, sorted(done), strict=True) if a != b)
            self._bad(f"queued refunds succeeded out of submission order (first: {late})")

    def close(self) -> None:
        self.gw.close()
        self.sandbox.stop()
        self.db.dispose()


def report(stats: Stats, seed: int, elapsed: float) -> str:
    ops = stats.money_operations
    lines = [
        f"seed: {seed}  (replay: --seed {seed})",
        f"money operations: {ops} in {elapsed:.0f} s ({ops / max(elapsed, 1e-9):.0f}/s) over {stats.days} days: "
        + ", ".join(f"{k} {v}" for k, v in sorted(stats.operations.items())),
        f"requests sent: {stats.calls}; faults injected: {stats.faults} ({stats.faults / max(stats.calls, 1):.0%} of "
        f"requests); bank operations recorded: {stats.requests}",
        f"crashes: {sum(stats.crashes.values())} ("
        + ", ".join(f"{k} {v}" for k, v in sorted(stats.crashes.items())) + f"); restarts with recovery: {stats.restarts}",
        f"refused by the workflows' rules (not errors): {sum(stats.refused.values())}",
        f"discrepancies: {len(stats.discrepancies)}",
    ]
    lines += [f"  - {d}" for d in stats.discrepancies[:30]]
    return "\n".join(lines)


def shard(seed: int, ops: int, fault_rate: float, crash_rate: float, ops_per_day: int, url: str | None) -> Stats:
    """One independent soak (its own sandbox and hospital database)."""
    logging.basicConfig(level=logging.ERROR)  # the client logs every lost answer: thousands of them here
    # Both databases in memory-backed files: the soak is about the logic across crashes, not the disk's fsync.
    shm = Path("/dev/shm")
    workdir = Path(tempfile.mkdtemp(prefix=f"soak-{seed}-", dir=shm if shm.is_dir() else None))
    soak = Soak(seed=seed, workdir=workdir, url=url, fault_rate=fault_rate, crash_rate=crash_rate,
                ops_per_day=ops_per_day, log=lambda text: print(f"[seed {seed}] {text}", flush=True))
    try:
        stats = soak.run(ops)
    finally:
        soak.close()
    if stats.discrepancies:
        print(f"[seed {seed}] discrepancies: work folder kept in {workdir}", flush=True)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return stats


def merge(all_stats: list[Stats]) -> Stats:
    out = Stats()
    for st in all_stats:
        out.operations.update(st.operations)
        out.refused.update(st.refused)
        out.crashes.update(st.crashes)
        out.restarts += st.restarts
        out.days += st.days
        out.requests += st.requests
        out.calls += st.calls
        out.faults += st.faults
        out.discrepancies += st.discrepancies
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=100_000, help="money operations in all (default 100000)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--fault-rate", type=float, default=0.4,
                        help="sum of the fault rules' probabilities (0.4: about a third of requests get a fault)")
    parser.add_argument("--crash-rate", type=float, default=0.1, help="share of operations that crash")
    parser.add_argument("--ops-per-day", type=int, default=2000)
    parser.add_argument("--shards", type=int, default=1,
                        help="independent soaks in parallel processes (seeds seed, seed+1, …); the work is mostly "
                             "waiting for answers, so a few shards use two cores better")
    parser.add_argument("--url", default=None, help="the hospital database (default: SQLite; one shard only)")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1_000_000)
    shards = max(1, args.shards if args.url is None else 1)
    print(f"fault soak: seed {seed}, {args.ops} operations in {shards} shard(s), fault rate {args.fault_rate:.0%}, "
          f"crash rate {args.crash_rate:.0%}", flush=True)
    started = time.perf_counter()
    jobs = [(seed + i, args.ops // shards + (1 if i < args.ops % shards else 0), args.fault_rate, args.crash_rate,
             args.ops_per_day, args.url) for i in range(shards)]
    if shards == 1:
        stats = shard(*jobs[0])
    else:
        with mp.get_context("spawn").Pool(shards) as pool:
            stats = merge(pool.starmap(shard, jobs))
    print(report(stats, seed, time.perf_counter() - started))
    if shards > 1:
        print(f"(shards use seeds {seed}…{seed + shards - 1}; replay one with --seed S --shards 1 "
              f"--ops {args.ops // shards})")
    return 1 if stats.discrepancies else 0


if __name__ == "__main__":
    sys.exit(main())
