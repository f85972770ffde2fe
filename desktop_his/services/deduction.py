"""The T-day deduction run (SPEC §4, plan §二.3): every 信用就医 lock of day T deducted at its actual amount
before 24:00, through the journaled gateway, concurrently.

Public API (used by the finance view, ``desktop-his-cli settle`` and the ``scale`` branch's bench/day.py)::

    svc = DeductionService(db, clock, gateway, host="FIN-PC-1")   # built by container.connect_bank
    report = svc.run(actor, day, max_workers=64, progress=cb)        # -> RunReport; cb(ProgressInfo)
    svc.status(actor, day)      # -> DayStatus: counts/amounts per lock state, unresolved, alert text
    svc.released(actor, day)   # -> [ReleasedLock]: released at 24:00 without deduction: collect another way
    svc.runs(actor, day)        # -> [RunRow]: earlier runs of that day (any PC)
    svc.warning_time() / svc.set_warning_time(actor, time(23, 0))   # the deadline alert (hospital setting)

How a run stays exactly-once (two PCs at once, run twice, crash anywhere):

1. **Resume**: open ``deduct`` journal entries of day T (left by a crash or a lost reply) are claimed
   (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite; their ``next_check_at`` pushed
   out so neither the resolver nor another run picks them) and sent again with the SAME lock number — the
   bank answers the first result and moves no money twice.
   A lock whose actual amount is 0 is not deducted (the bank releases it at 24:00; it is closed as cancelled).
2. **Claim**: batches of LOCKED locks of day T that have no ``deduct`` journal entry are claimed the same way
   (``claimed_by``/``claimed_at``), and their intents written **in the claiming transaction** — once it
   commits, a lock is either journaled (and only ever re-sent with its own number) or not claimed at all.
   The unique ``(op, number)`` index of the journal is the last guard: a second intent for a lock cannot exist.
3. **Send**: ``gateway.execute_many`` (bounded parallelism, group commits); the outcome handler
   (``credit._on_deduct``) moves each lock to ``deducted`` — or ``expired`` (notice to collect another way).

After day T (the bank released every undeducted lock at 24:00) a run does not deduct: it resolves what was
sent and marks never-sent locks ``expired`` (with a notice), which :meth:`released` lists for collection. A run
for today does the same for every earlier day of the last month that still has LOCKED locks (a lock whose
PROCESSING answer came after that night's run), so the nightly ``settle`` alone leaves none behind.
"""

from __future__ import annotations

import logging
import socket
import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desktop_his.services import audit, orders
from desktop_his.services.bank import BankGateway, DeductRequest, JournalRefs
from desktop_his.services.bank.journal import OPEN_STATES
from desktop_his.services.clock import Clock
from desktop_his.services.credit import DEDUCT, CreditService, _deduct_settled
from desktop_his.services.db import Database
from desktop_his.services.enums import BankOp, FeeStatus, JournalState, LockStatus, NotificationKind
from desktop_his.services.errors import ValidationError
from desktop_his.services.models import (
    BankJournal,
    CreditLock,
    DeductionRun,
    MedicalOrder,
    Patient,
    Setting,
    Visit,
)
from desktop_his.services.money import format_fen
from desktop_his.services.notifications import notify
from desktop_his.services.permissions import Action, Actor, require

log = logging.getLogger(__name__)

WARN_KEY = "finance.deduction_warn_at"
DEFAULT_WARN_AT = time(23, 0)
CLAIM_LEASE_S = 300.0  # a claimed batch is left alone this long by other runs and the resolver
BATCH = 2000  # locks claimed (and journaled) per transaction


@dataclass(frozen=True)
class ProgressInfo:
    """Reported while a run sends: ``done`` of ``total`` operations answered so far in this run."""

    done: int
    total: int
    phase: str  # "resume" | "deduct" | "close"


@dataclass
class RunReport:
    run_id: int
    business_date: date
    claimed: int = 0  # new locks journaled and sent by this run
    resumed: int = 0  # open entries (earlier crash / lost replies) sent again with their same number
    deducted: int = 0
    deducted_fen: int = 0
    refused: int = 0  # the bank refused: lock expired, collect another way
    unknown: int = 0  # still unknown (left to the resolver / the next run)
    expired_unsent: int = 0  # after day T: never sent, released by the bank at 24:00
    seconds: float = 0.0

    @property
    def message(self) -> str:
        parts = [f"{self.business_date:%Y-%m-%d} 扣款：新发送 {self.claimed} 笔，续传 {self.resumed} 笔，"
                 f"成功 {self.deducted} 笔 {format_fen(self.deducted_fen, symbol=True)}"]
        if self.refused:
            parts.append(f"银行拒绝 {self.refused} 笔（须以其他方式收取）")
        if self.unknown:
            parts.append(f"{self.unknown} 笔结果未知（将按同一编号查询/重发）")
        if self.expired_unsent:
            parts.append(f"{self.expired_unsent} 笔未能在24时前扣款，已由银行释放")
        return "；".join(parts)


@dataclass(frozen=True)
class StateFigures:
    count: int = 0
    fen: int = 0


@dataclass
class DayStatus:
    business_date: date
    by_status: dict[str, StateFigures] = field(default_factory=dict)  # LockStatus value → figures
    to_deduct: StateFigures = StateFigures()  # LOCKED (amount to deduct: actual amounts)
    in_flight: int = 0  # deduct journal entries not yet final
    pending_locks: int = 0  # locks whose own 【锁定】 outcome is not yet known
    alert: str = ""  # the deadline warning, "" when nothing is due

    def figures(self, status: LockStatus | str) -> StateFigures:
        return self.by_status.get(str(status), StateFigures())


@dataclass(frozen=True)
class ReleasedLock:
    lock_id: int
    lock_no: str
    patient_id: int
    patient_name: str
    phone: str
    amount_fen: int  # what was to be collected (the actual amount)
    purpose: str
    business_date: date
    reason: str


@dataclass(frozen=True)
class RunRow:
    id: int
    host: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    counts: dict


def _something_to_deduct():  # noqa: ANN202 - a WHERE clause
    # actual amount 0 (everything on the lock given back on T): nothing to deduct, the bank releases it at 24:00
    return or_(CreditLock.actual_fen.is_(None), CreditLock.actual_fen > 0)


def actual_fen(lock: CreditLock) -> int:
    return lock.amount_fen if lock.actual_fen is None else lock.actual_fen


def bulk_deduct_handler(clock: Clock) -> Callable[[Session, list], None]:
    """The ``credit_deduct`` handler for a whole group commit: the group's locks (and their visits and orders)
    loaded in one query each, then exactly what ``CreditService._on_deduct`` does per lock."""

    def handle(s: Session, items: list) -> None:
        lock_ids = [row.credit_lock_id for row, _ in items if row.credit_lock_id is not None]
        locks: dict[int, CreditLock] = {}
        for i in range(0, len(lock_ids), 1000):
            for lock in s.scalars(select(CreditLock).where(CreditLock.id.in_(lock_ids[i:i + 1000]))
                                  .with_for_update().execution_options(populate_existing=True)):
                locks[lock.id] = lock
        keep: list = []  # the identity map holds rows weakly: keep the preloaded ones alive for s.get()
        for model, ids in ((Visit, {x.visit_id for x in locks.values() if x.visit_id}),
                           (MedicalOrder, {x.order_id for x in locks.values() if x.order_id})):
            ids_list = sorted(ids)
            for i in range(0, len(ids_list), 1000):
                query = select(model).where(model.id.in_(ids_list[i:i + 1000]))
                if model is MedicalOrder:  # what orders.move_fee_status would lock one by one
                    query = query.with_for_update().execution_options(populate_existing=True)
                keep += s.scalars(query).all()
        now = clock.now()
        moves: list = []
        topics: list[str] = []
        for row, outcome in items:
            lock = locks.get(row.credit_lock_id)
            if lock is not None:
                _deduct_settled(s, lock, row, outcome, now, moves)
                topics += CreditService._lock_topics(s, lock)
        orders.move_fee_statuses(s, moves, also=topics)

    return handle


class DeductionService:
    def __init__(self, db: Database, clock: Clock, gateway: BankGateway, *, host: str | None = None) -> None:
        self.db = db
        self.clock = clock
        self.gateway = gateway
        self.host = (host or socket.gethostname())[:60]
        try:
            gateway.register_bulk_handler(DEDUCT, bulk_deduct_handler(clock))
        except ValueError:  # no credit handlers on this gateway (a bare gateway in a test): nothing to speed up
            pass
        # Test seam: called with the phase and the journal ids about to be sent; raise to simulate a crash.
        self.fault_hook: Callable[[str, list[int]], None] | None = None

    # ------------------------------------------------------------------------------ settings

    def warning_time(self) -> time:
        with self.db.reader() as s:
            row = s.get(Setting, ("hospital", WARN_KEY))
        try:
            return time.fromisoformat(row.value) if row is not None else DEFAULT_WARN_AT
        except (TypeError, ValueError):
            return DEFAULT_WARN_AT

    def set_warning_time(self, actor: Actor, at: time) -> None:
        require(actor, Action.DEDUCTION_RUN)
        if not time(12, 0) <= at <= time(23, 55):
            raise ValidationError("扣款截止提醒时间须在 12:00 与 23:55 之间", code="warn_at")
        now = self.clock.now()
        with self.db.session() as s:
            row = s.get(Setting, ("hospital", WARN_KEY))
            if row is None:
                s.add(Setting(scope="hospital", key=WARN_KEY, value=at.strftime("%H:%M"), updated_at=now,
                              updated_by=actor.username))
            else:
                row.value, row.updated_at, row.updated_by = at.strftime("%H:%M"), now, actor.username
            audit.append(s, actor=actor, action="deduction.warn_at_set", at=now, entity="setting",
                         detail={"warn_at": at.strftime("%H:%M")})

    # ------------------------------------------------------------------------------ reading

    def status(self, actor: Actor, day: date) -> DayStatus:
        """Counts and amounts of day T's locks by state (LOCKED: the actual amounts still to deduct), open
        deductions, and the deadline alert (after the warning time on T, or any time after T)."""
        require(actor, Action.DEDUCTION_RUN)
        out = DayStatus(day)
        amount = func.coalesce(CreditLock.actual_fen, CreditLock.amount_fen)
        with self.db.reader() as s:
            for status, n, fen in s.execute(select(CreditLock.status, func.count(), func.coalesce(func.sum(
                    func.coalesce(CreditLock.deducted_fen, 0)), 0)).where(CreditLock.business_date == day)
                    .group_by(CreditLock.status)):
                out.by_status[status] = StateFigures(n, int(fen))
            n, fen = s.execute(select(func.count(), func.coalesce(func.sum(amount), 0)).where(
                CreditLock.business_date == day, CreditLock.status == LockStatus.LOCKED.value,
                _something_to_deduct())).one()
            out.to_deduct = StateFigures(n, int(fen))
            out.by_status[LockStatus.LOCKED.value] = out.to_deduct
            out.in_flight = s.execute(select(func.count()).select_from(BankJournal).where(
                BankJournal.op == BankOp.DEDUCT.value, BankJournal.business_date == day,
                BankJournal.state.in_([x.value for x in OPEN_STATES]))).scalar_one()
            out.pending_locks = out.figures(LockStatus.PENDING).count
        out.alert = self._alert(out)
        return out

    def _alert(self, st: DayStatus) -> str:
        now = self.clock.now()
        due = now.date() > st.business_date or (
            now.date() == st.business_date and now.time() >= self.warning_time())
        left = st.to_deduct.count
        if not due or not (left or st.in_flight or st.pending_locks):
            return ""
        what = [f"{left} 笔锁定未扣款（{format_fen(st.to_deduct.fen, symbol=True)}）"] if left else []
        if st.in_flight:
            what.append(f"{st.in_flight} 笔扣款结果未确认")
        if st.pending_locks:
            what.append(f"{st.pending_locks} 笔锁定结果未确认")
        when = "已过24时" if now.date() > st.business_date else "临近24时"
        return f"{st.business_date:%Y-%m-%d} {when}：{'，'.join(what)}。请立即执行T日扣款。"

    def released(self, actor: Actor, day: date) -> list[ReleasedLock]:
        """Locks of day T the bank released without a deduction (expired): to be collected another way."""
        require(actor, Action.DEDUCTION_RUN)
        q = (select(CreditLock, Patient.name, Patient.phone).join(Patient, Patient.id == CreditLock.patient_id)
             .where(CreditLock.business_date == day, CreditLock.status == LockStatus.EXPIRED.value)
             .order_by(CreditLock.id))
        with self.db.reader() as s:
            return [ReleasedLock(lock.id, lock.lock_no, lock.patient_id, name, phone or "", actual_fen(lock),
                                 lock.purpose, lock.business_date, lock.failure_message or "")
                    for lock, name, phone in s.execute(q).all()]

    def runs(self, actor: Actor, day: date) -> list[RunRow]:
        require(actor, Action.DEDUCTION_RUN)
        with self.db.reader() as s:
            return [RunRow(r.id, r.host, r.started_at, r.finished_at, r.status, dict(r.counts or {}))
                    for r in s.scalars(select(DeductionRun).where(DeductionRun.business_date == day)
                                       .order_by(DeductionRun.id.desc()))]

    # ------------------------------------------------------------------------------ the run

    def run(self, actor: Actor, day: date, *, max_workers: int = 64, window: int | None = None,
            batch: int = BATCH, progress: Callable[[ProgressInfo], None] | None = None) -> RunReport:
        """Deduct every LOCKED lock of ``day`` (see the module doc). Safe to call again at any time, from any
        number of PCs at once. Returns what this run did; :meth:`status` says where the day stands."""
        require(actor, Action.DEDUCTION_RUN)
        started = _time.monotonic()
        now = self.clock.now()
        with self.db.session() as s:
            run = DeductionRun(business_date=day, host=self.host, started_at=now, status="running", counts={})
            s.add(run)
            s.flush()
            run_id = run.id
            audit.append(s, actor=actor, action="deduction.started", at=now, entity="deduction_run",
                         entity_id=run_id, detail={"business_date": day.isoformat(), "host": self.host})
        report = RunReport(run_id, day)
        tag = f"{self.host}#{run_id}"[:80]
        try:
            self._resume(report, day, max_workers, window, progress)
            if self.clock.today() <= day:
                self._deduct_new(report, day, tag, max_workers, window, batch, progress)
                for earlier in self._days_left_locked(before=day):  # e.g. a lock whose answer came after the
                    self._resume(report, earlier, max_workers, window, progress)  # run: the bank released it
                    report.expired_unsent += self._close_day(earlier)
            else:
                report.expired_unsent = self._close_day(day)
        except BaseException:
            self._finish(run_id, report, "crashed", started)
            raise
        self._finish(run_id, report, "done", started)
        with self.db.session() as s:
            audit.append(s, actor=actor, action="deduction.finished", at=self.clock.now(), entity="deduction_run",
                         entity_id=run_id, detail=self._counts(report))
        return report

    def _days_left_locked(self, *, before: date) -> list[date]:
        """Earlier days (the last month) that still have LOCKED locks: the bank released them at their 24:00,
        so tonight's run closes them as a run for that day would (nightly jobs only name today)."""
        with self.db.reader() as s:
            return sorted(s.execute(select(CreditLock.business_date).distinct().where(
                CreditLock.status == LockStatus.LOCKED.value, CreditLock.business_date < before,
                CreditLock.business_date >= before - timedelta(days=31))).scalars())

    @staticmethod
    def _counts(r: RunReport) -> dict:
        return {"claimed": r.claimed, "resumed": r.resumed, "deducted": r.deducted, "deducted_fen": r.deducted_fen,
                "refused": r.refused, "unknown": r.unknown, "expired_unsent": r.expired_unsent,
                "seconds": round(r.seconds, 3)}

    def _finish(self, run_id: int, report: RunReport, status: str, started: float) -> None:
        report.seconds = _time.monotonic() - started
        try:
            with self.db.session() as s:
                s.execute(update(DeductionRun).where(DeductionRun.id == run_id).values(
                    status=status, finished_at=self.clock.now(), counts=self._counts(report)))
        except Exception:  # noqa: BLE001 - recording the run must not hide the run's own error
            log.exception("deduction run %s: could not record its end", run_id)

    def _send(self, report: RunReport, ids: list[int], phase: str, max_workers: int, window: int | None,
              progress: Callable[[ProgressInfo], None] | None, base: int, total: int) -> None:
        if not ids:
            return
        if self.fault_hook is not None:
            self.fault_hook(phase, ids)
        cb = (lambda n: progress(ProgressInfo(base + n, total, phase))) if progress else None
        outcomes = self.gateway.execute_many(ids, max_workers=max_workers, window=window, progress=cb)
        with self.db.reader() as s:
            amounts = dict(s.execute(select(BankJournal.id, BankJournal.amount_fen)
                                     .where(BankJournal.id.in_(ids))).all()) if len(ids) <= 30000 else {}
        for jid, outcome in outcomes.items():
            if outcome.ok:
                report.deducted += 1
                report.deducted_fen += amounts.get(jid) or 0
            elif outcome.failed:
                report.refused += 1
            else:
                report.unknown += 1
        if len(ids) > 30000:  # very large resumes: sum in SQL rather than loading every amount
            with self.db.reader() as s:
                report.deducted_fen += s.execute(select(func.coalesce(func.sum(BankJournal.amount_fen), 0)).where(
                    BankJournal.id.in_([j for j, o in outcomes.items() if o.ok]))).scalar_one()
        if progress:
            progress(ProgressInfo(base + len(ids), total, phase))

    def _resume(self, report: RunReport, day: date, max_workers: int, window: int | None,
                progress: Callable[[ProgressInfo], None] | None) -> None:
        now = self.clock.now()
        with self.db.session() as s:
            q = (select(BankJournal.id).where(
                BankJournal.op == BankOp.DEDUCT.value, BankJournal.business_date == day,
                BankJournal.state.in_([x.value for x in OPEN_STATES]),
                or_(BankJournal.next_check_at.is_(None), BankJournal.next_check_at <= now))
                .order_by(BankJournal.id).with_for_update(skip_locked=True))
            ids = list(s.scalars(q).all())
            if ids:
                self._lease(s, ids, now)
        report.resumed = len(ids)
        self._send(report, ids, "resume", max_workers, window, progress, 0, len(ids))

    def _lease(self, s: Session, ids: list[int], now: datetime) -> None:
        table = BankJournal.__table__
        for i in range(0, len(ids), 5000):
            s.execute(table.update().where(table.c.id.in_(ids[i:i + 5000]))
                      .values(next_check_at=now + timedelta(seconds=CLAIM_LEASE_S)))

    def _claimable(self, day: date, now: datetime):  # noqa: ANN202 - a WHERE clause
        journaled = exists().where(BankJournal.op == BankOp.DEDUCT.value, BankJournal.number == CreditLock.lock_no)
        return and_(CreditLock.business_date == day, CreditLock.status == LockStatus.LOCKED.value,
                    CreditLock.lock_serial.is_not(None), ~journaled, _something_to_deduct(),
                    or_(CreditLock.claimed_by.is_(None),
                        CreditLock.claimed_at < now - timedelta(seconds=CLAIM_LEASE_S)))

    def _deduct_new(self, report: RunReport, day: date, tag: str, max_workers: int, window: int | None,
                    batch: int, progress: Callable[[ProgressInfo], None] | None) -> None:
        with self.db.reader() as s:
            total = s.execute(select(func.count()).select_from(CreditLock)
                              .where(self._claimable(day, self.clock.now()))).scalar_one()
        total += report.resumed
        while True:
            try:
                ids = self._claim_batch(day, tag, batch)
            except IntegrityError:  # another PC journaled one of these locks first: claim again
                log.info("deduction %s: claim collided with another run; claiming again", tag)
                continue
            if not ids:
                return
            report.claimed += len(ids)
            done_before = report.deducted + report.refused + report.unknown
            self._send(report, ids, "deduct", max_workers, window, progress, done_before,
                       max(total, done_before + len(ids)))

    def _claim_batch(self, day: date, tag: str, batch: int) -> list[int]:
        now = self.clock.now()
        with self.db.session() as s:
            rows = s.execute(
                select(CreditLock.id, CreditLock.lock_no, CreditLock.lock_serial, CreditLock.amount_fen,
                       CreditLock.actual_fen, CreditLock.patient_id, CreditLock.visit_id, CreditLock.order_id)
                .where(self._claimable(day, now)).order_by(CreditLock.id).limit(batch)
                .with_for_update(skip_locked=True, of=CreditLock)).all()
            if not rows:
                return []
            lock_ids = [r.id for r in rows]
            table = CreditLock.__table__
            for i in range(0, len(lock_ids), 5000):
                s.execute(table.update().where(table.c.id.in_(lock_ids[i:i + 5000]))
                          .values(claimed_by=tag, claimed_at=now))
            people = {p.id: p for p in s.execute(select(Patient.id, Patient.name, Patient.id_type, Patient.id_number)
                                                 .where(Patient.id.in_({r.patient_id for r in rows})))}
            items = []
            for r in rows:
                p = people[r.patient_id]
                amount = r.amount_fen if r.actual_fen is None else r.actual_fen
                items.append((DeductRequest(r.lock_no, r.lock_serial, amount, p.name, p.id_type, p.id_number),
                              JournalRefs(patient_id=r.patient_id, visit_id=r.visit_id, order_id=r.order_id,
                                          credit_lock_id=r.id)))
            ids = self.gateway.journal.intent_many(s, items, purpose=DEDUCT, actor=None, business_date=day)
            self._lease(s, ids, now)
            return ids

    def _close_day(self, day: date) -> int:
        """After day T: locks never sent for deduction were released by the bank at 24:00 — expire them (the
        bank cannot have deducted a number it never received) and tell finance to collect another way."""
        now = self.clock.now()
        journaled = exists().where(BankJournal.op == BankOp.DEDUCT.value, BankJournal.number == CreditLock.lock_no)
        with self.db.session() as s:
            locks = s.scalars(select(CreditLock).where(
                CreditLock.business_date == day, CreditLock.status == LockStatus.LOCKED.value, ~journaled)
                .with_for_update(skip_locked=True)).all()
            nothing = [lock for lock in locks if actual_fen(lock) == 0]
            for lock in nothing:  # the whole amount was given back before T's end: nothing to collect
                lock.status, lock.closed_at = LockStatus.CANCELLED.value, now
                lock.failure_message = "实际金额为0，无需扣款，银行已于24时释放锁定"
            locks = [lock for lock in locks if actual_fen(lock) > 0]
            for lock in locks:
                lock.status, lock.closed_at = LockStatus.EXPIRED.value, now
                lock.failure_message = "未在T日24时前扣款，银行已释放锁定"
                if lock.order_id is not None:
                    order = s.get(MedicalOrder, lock.order_id)
                    if order is not None and order.fee_status == FeeStatus.LOCKED:
                        orders.move_fee_status(s, order.id, FeeStatus.UNPAID)
                elif lock.visit_id is not None:
                    visit = s.get(Visit, lock.visit_id)
                    if visit is not None and visit.fee_status == FeeStatus.LOCKED:
                        visit.fee_status, visit.credit = FeeStatus.UNPAID.value, False
            if locks:
                total = sum(actual_fen(lock) for lock in locks)
                notify(s, department_id=None, kind=NotificationKind.LOCK_EXPIRED,
                       title="信用就医扣款未成功，请以其他方式收取",
                       body=(f"{day:%Y-%m-%d} 有 {len(locks)} 笔“信用就医”锁定（{format_fen(total, symbol=True)}）"
                             "未在24时前扣款，银行已释放。请在财务结算“待收取”列表中逐笔联系患者以其他方式缴费。"),
                       now=now, amount_fen=total)
            return len(locks)


def journal_state_counts(db: Database, day: date) -> dict[str, int]:
    """Deduct journal entries of ``day`` by state (tests, the bench and the CLI's summary)."""
    with db.reader() as s:
        return {state: n for state, n in s.execute(
            select(BankJournal.state, func.count()).where(BankJournal.op == BankOp.DEDUCT.value,
                                                          BankJournal.business_date == day)
            .group_by(BankJournal.state))}


__all__ = ["DayStatus", "DeductionService", "JournalState", "ProgressInfo", "ReleasedLock", "RunReport", "RunRow",
           "StateFigures", "journal_state_counts"]
