"""``BankGateway``: what workflows call. Money operations go through the journal (intent → execute →
handler); the non-money interfaces are plain typed calls.

Unknown outcomes are resolved by the matching query (lock/confirm → after-pay query, pay → pay query,
refund → refund query) or — where no query exists (deduct, cancel), or the bank never saw the number — by
resending the same number. Never by a new number.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from desktop_his.services.bank import results
from desktop_his.services.bank.client import BankClient
from desktop_his.services.bank.journal import FINAL_STATES, Handler, Journal, outcome_of
from desktop_his.services.bank.protocol import (
    RETRYABLE_CODES,
    AfterPayQuery,
    BankRequest,
    BankResult,
    BankStatus,
    Bill,
    BillRequest,
    Code,
    MerchantBalance,
    MerchantBalanceRequest,
    OpRecord,
    Outcome,
    OutcomeState,
    PayCheck,
    PayCheckRequest,
    PayQuery,
    RefundQuery,
    SignQuery,
    SignStatus,
)
from desktop_his.services.clock import Clock
from desktop_his.services.db import Database
from desktop_his.services.enums import BankOp, JournalState
from desktop_his.services.errors import Conflict, NotFound
from desktop_his.services.models import BankJournal

log = logging.getLogger(__name__)


@dataclass
class ResolveReport:
    checked: int = 0
    success: int = 0
    failed: int = 0
    unknown: int = 0
    outcomes: dict[int, Outcome] = field(default_factory=dict)


class BankGateway:
    def __init__(self, db: Database, client: BankClient, clock: Clock) -> None:
        self.db = db
        self.client = client
        self.clock = clock
        self._handlers: dict[str, Handler] = {}
        self.journal = Journal(clock, self._handlers)
        # Test seam: called with ("sent", id) after "sent" is committed and ("answered", id) before the outcome
        # is committed; a test raises from it to simulate the process dying at that point.
        self.fault_hook: Callable[[str, int], None] | None = None

    def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------------------------ handlers

    def register_handler(self, purpose: str, fn: Handler) -> None:
        """``fn(session, journal_row, outcome)`` runs in the transaction that records a final outcome for an
        entry of this ``purpose``. Register every purpose at start-up, before the resolver starts."""
        if not purpose or len(purpose) > 30:
            raise ValueError("purpose must be 1–30 characters")
        if self._handlers.get(purpose) not in (None, fn):
            raise ValueError(f"a handler for {purpose!r} is already registered")
        self._handlers[purpose] = fn

    def register_bulk_handler(self, purpose: str, fn: Any) -> None:
        """An optional faster form of ``purpose``'s handler for bulk work: ``fn(session, [(row, outcome), …])``
        gets every final outcome of one group commit at once and must do exactly what the handler does for each.
        The purpose's plain handler must be registered first (it stays the contract)."""
        if purpose not in self._handlers:
            raise ValueError(f"register the handler for {purpose!r} before its bulk form")
        self.journal.bulk_handlers.setdefault(purpose, fn)

    # ------------------------------------------------------------------------------ one operation

    def execute(self, journal_id: int, *, settle_within: float = 0.0) -> Outcome:
        """Send a journaled operation (or resolve it, if it was sent before) and return what is known.

        ``settle_within`` seconds: keep asking (query or resend) while the outcome is unknown.
        """
        outcome = self._send_if_intent(journal_id) or self._resolve_one(journal_id)
        deadline, pause = time.monotonic() + settle_within, 0.2
        while outcome.unknown and time.monotonic() < deadline:
            time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(pause * 2, 2.0)
            outcome = self._resolve_one(journal_id)
        return outcome

    def retry(self, journal_id: int, *, settle_within: float = 0.0) -> Outcome:
        """Send a FAILED entry again with its same number — only for retryable codes (DCBS0004PL0974: the refund
        queue). The entry goes back through ``sent``; its handler runs again with the new final outcome."""
        with self.db.reader() as s:
            row = self._row(s, journal_id)
            if row.state != JournalState.FAILED or row.result_code not in RETRYABLE_CODES:
                raise Conflict(f"该银行交易（{row.state} {row.result_code}）不能重发", code="journal_retry")
        outcome = self._send(journal_id, allow_failed=True)
        return self.execute(journal_id, settle_within=settle_within) if outcome.unknown and settle_within else outcome

    def outcome(self, journal_id: int) -> Outcome:
        with self.db.reader() as s:
            return outcome_of(self._row(s, journal_id))

    @staticmethod
    def _row(session: Any, journal_id: int) -> BankJournal:
        row = session.get(BankJournal, journal_id)
        if row is None:
            raise NotFound(f"银行流水记录 {journal_id} 不存在（写入意图的事务须先提交，再 execute）")
        return row

    def _hook(self, point: str, journal_id: int) -> None:
        if self.fault_hook is not None:
            self.fault_hook(point, journal_id)

    def _send_if_intent(self, journal_id: int) -> Outcome | None:
        """``execute``'s first step: an entry still in ``intent`` (the workflow just committed it) is marked
        ``sent`` and sent in one step, without reading it first; ``None`` if it is no longer an intent."""
        with self.db.session() as s:
            marked = self.journal.mark_sent(s, [journal_id], only_intent=True)
        return self._call(journal_id, marked[journal_id]) if marked else None

    def _send(self, journal_id: int, *, allow_failed: bool = False) -> Outcome:
        with self.db.session() as s:
            marked = self.journal.mark_sent(s, [journal_id], allow_failed=allow_failed)
            if not marked:
                return outcome_of(self._row(s, journal_id))
        return self._call(journal_id, marked[journal_id])

    def _call(self, journal_id: int, request: BankRequest) -> Outcome:
        """Send an entry whose ``sent`` is committed, and record the answer."""
        self._hook("sent", journal_id)
        result = self.client.call(request)
        self._hook("answered", journal_id)
        return self._record({journal_id: result})[journal_id]

    def _record(self, answers: dict[int, BankResult]) -> dict[int, Outcome]:
        with self.db.session() as s:
            return self.journal.record_many(s, answers)

    def _resolve_one(self, journal_id: int) -> Outcome:
        with self.db.reader() as s:
            row = self._row(s, journal_id)
            if row.state in FINAL_STATES:
                return outcome_of(row)
            state, op, params = row.state, BankOp(row.op), dict(row.params)
        query = _query_for(op, params)
        if state == JournalState.INTENT or query is None:
            return self._send(journal_id)
        answer = self.client.call(query)
        if answer.status is BankStatus.FAILED and answer.code == Code.NOT_FOUND:
            return self._send(journal_id)  # the bank never saw it: send the same number
        if answer.state is not OutcomeState.SUCCESS:
            return self._record({journal_id: BankResult(None, answer.code, f"查询未得到结果：{answer.message}")})[
                journal_id]
        found = results.record_result(answer)
        if found.state is OutcomeState.FAILED and found.code in RETRYABLE_CODES:
            return self._send(journal_id)  # our resend may not have arrived; a resend is a safe new attempt
        return self._record({journal_id: found})[journal_id]

    # ------------------------------------------------------------------------------ many operations

    def execute_many(self, journal_ids: Iterable[int], *, max_workers: int = 64, window: int | None = None,
                     progress: Callable[[int], None] | None = None) -> dict[int, Outcome]:
        """Send many journaled operations with bounded parallelism (the T-day deduction, bulk work).

        Each entry is still committed as ``sent`` before its request leaves and its outcome committed after —
        in group commits: one transaction records every answer that arrived since the last one (running their
        handlers) and marks as many new entries ``sent`` as there are free places in the window (``window``
        requests in flight, default 4 × ``max_workers``). Entries left unknown are for the resolver.
        """
        ids = list(dict.fromkeys(journal_ids))
        out: dict[int, Outcome] = {}
        limit = window or max_workers * 4
        work: queue.SimpleQueue = queue.SimpleQueue()
        answers: queue.SimpleQueue = queue.SimpleQueue()
        # Long-lived workers on C queues: an executor's Future (with its Condition) per request cost more CPU
        # than the request's own Python on two cores.
        workers = [threading.Thread(target=self._worker, args=(work, answers), name=f"bank-{i}", daemon=True)
                   for i in range(max(1, min(max_workers, len(ids))))]
        for thread in workers:
            thread.start()
        pos = inflight = 0
        try:
            while pos < len(ids) or inflight:
                pending = self._drain(answers, block=inflight >= limit or pos >= len(ids))
                inflight -= len(pending)
                chunk, pos = ids[pos:pos + limit - inflight], min(len(ids), pos + limit - inflight)
                requests = self._group_commit(pending, chunk, out)
                for item in requests.items():
                    work.put(item)
                inflight += len(requests)
                if progress and pending:
                    progress(len(out))
        finally:
            for _ in workers:
                work.put(None)
            for thread in workers:
                thread.join()
        return out

    def _worker(self, work: queue.SimpleQueue, answers: queue.SimpleQueue) -> None:
        while (item := work.get()) is not None:
            jid, request = item
            try:
                answers.put((jid, self.client.call(request)))
            except Exception as exc:  # noqa: BLE001 - call() maps network errors; anything else is unknown too
                log.exception("bank call for journal %s failed", jid)
                answers.put((jid, BankResult.no_answer(Code.INTERACTION_ERROR_2, type(exc).__name__)))

    @staticmethod
    def _drain(answers: queue.Queue, *, block: bool) -> dict[int, BankResult]:
        got: dict[int, BankResult] = {}
        if block:
            jid, result = answers.get()
            got[jid] = result
        while True:
            try:
                jid, result = answers.get_nowait()
            except queue.Empty:
                return got
            got[jid] = result

    def _group_commit(self, pending: dict[int, BankResult], chunk: list[int],
                      out: dict[int, Outcome]) -> dict[int, BankRequest]:
        """One transaction: record ``pending`` answers, mark ``chunk`` sent; returns the requests to send."""
        for jid in pending:
            self._hook("answered", jid)
        with self.db.session() as s:
            if pending:
                out.update(self.journal.record_many(s, pending))
            requests = self._mark_chunk(s, chunk, out) if chunk else {}
        for jid in requests:
            self._hook("sent", jid)
        return requests

    def _mark_chunk(self, s: Any, chunk: list[int], out: dict[int, Outcome]) -> dict[int, BankRequest]:
        requests = self.journal.mark_sent(s, chunk)
        if len(requests) < len(chunk):  # already final: nothing to send
            out.update(self.journal.outcomes(s, list(set(chunk) - set(requests))))
        return requests

    # ------------------------------------------------------------------------------ resolver

    def resolve_pending(self, *, include_not_due: bool = False, limit: int = 1000, max_workers: int = 8) -> ResolveReport:
        """Resolve open entries (``intent`` sent, ``sent``/``unknown`` queried or resent). At start-up call with
        ``include_not_due=True``; the :class:`ResolverThread` calls it periodically."""
        with self.db.session() as s:
            ids = self.journal.open_ids(s, due_only=not include_not_due, limit=limit)
            if ids:
                self.journal.claim(s, ids)
        report = ResolveReport(checked=len(ids))
        if not ids:
            return report
        with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(ids))), thread_name_prefix="resolve") as pool:
            for jid, outcome in zip(ids, pool.map(self._resolve_safely, ids), strict=True):
                report.outcomes[jid] = outcome
                setattr(report, outcome.state.value.lower(), getattr(report, outcome.state.value.lower()) + 1)
        return report

    def _resolve_safely(self, journal_id: int) -> Outcome:
        try:
            return self._resolve_one(journal_id)
        except Exception:  # noqa: BLE001 - one bad entry must not stop the others
            log.exception("bank journal %s: resolving failed", journal_id)
            return Outcome(OutcomeState.UNKNOWN, None, "解析失败", None, {}, journal_id)

    # ------------------------------------------------------------------------------ plain calls

    def sign_status(self, name: str, id_type: str, id_number: str) -> SignStatus:
        """签约查询. Raises ``BankOutcomeUnknown`` when the bank cannot be reached, ``BankError`` when it refuses."""
        return results.sign_status(results.require(self.client.call(SignQuery(name, id_type, id_number))))

    def pay_check(self, agreement_no: str, amount_fen: int) -> PayCheck:
        data = results.require(self.client.call(PayCheckRequest(agreement_no, amount_fen))).data
        return PayCheck(bool(data["can_pay"]), int(data["available_fen"]))

    def merchant_balance(self) -> MerchantBalance:
        return results.merchant_balance(results.require(self.client.call(MerchantBalanceRequest())))

    def download_bill(self, day: date) -> Bill:
        return results.bill(results.require(self.client.call(BillRequest(day))))

    def pay_query(self, payment_no: str) -> OpRecord | None:
        return results.op_record(self.client.call(PayQuery(payment_no)))

    def after_pay_query(self, *, visit_no: str | None = None, lock_no: str | None = None) -> OpRecord | None:
        return results.op_record(self.client.call(AfterPayQuery(visit_no=visit_no, lock_no=lock_no)))

    def refund_query(self, refund_no: str) -> OpRecord | None:
        return results.op_record(self.client.call(RefundQuery(refund_no)))


def _query_for(op: BankOp, params: dict[str, Any]) -> BankRequest | None:
    if op is BankOp.LOCK:
        return AfterPayQuery(lock_no=params["lock_no"])
    if op is BankOp.CONFIRM:
        return AfterPayQuery(visit_no=params["visit_no"])
    if op is BankOp.PAY:
        return PayQuery(params["payment_no"])
    if op is BankOp.REFUND:
        return RefundQuery(params["refund_no"])
    return None  # deduct, cancel: resend the same lock number


class ResolverThread(threading.Thread):
    """Resolves open journal entries at start-up, then every ``interval`` seconds, until ``stop()``."""

    def __init__(self, gateway: BankGateway, *, interval: float = 30.0, batch: int = 1000) -> None:
        super().__init__(name="bank-resolver", daemon=True)
        self.gateway = gateway
        self.interval = interval
        self.batch = batch
        self._halt = threading.Event()
        self.runs = 0

    def run(self) -> None:
        first = True
        while not self._halt.is_set():
            full = False
            try:
                report = self.gateway.resolve_pending(include_not_due=first, limit=self.batch)
                full = report.checked >= self.batch  # a backlog (after a crash mid-run): go on at once
            except Exception:  # noqa: BLE001 - keep resolving after a database or network hiccup
                log.exception("bank resolver run failed")
            first = first and full
            self.runs += 1
            if not full:
                self._halt.wait(self.interval)

    def stop(self, timeout: float = 10.0) -> None:
        self._halt.set()
        self.join(timeout)
