"""The write-ahead journal: each money operation is a ``BankJournal`` row committed before it is sent
(``intent`` → ``sent``) and resolved after (``success`` / ``failed``, or ``unknown`` until a query or a resend
of the same number answers).

Workflows write the intent inside their own transaction, next to their domain rows; the gateway does the
rest. Outcome handlers (one per ``purpose``) run in the same transaction that records a final outcome, so
domain rows always agree with the journal — whether the outcome comes from ``execute``, the resolver, or
the next start after a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, defer

from desktop_his.services.bank.protocol import (
    BankResult,
    MoneyRequest,
    Outcome,
    OutcomeState,
    request_from_params,
)
from desktop_his.services.clock import Clock
from desktop_his.services.enums import JournalState
from desktop_his.services.errors import Conflict
from desktop_his.services.models import BankJournal
from desktop_his.services.permissions import Actor

log = logging.getLogger(__name__)

OPEN_STATES = (JournalState.INTENT, JournalState.SENT, JournalState.UNKNOWN)
FINAL_STATES = (JournalState.SUCCESS, JournalState.FAILED)
MIN_BACKOFF_S, MAX_BACKOFF_S = 2.0, 600.0
# The periodic resolver leaves fresh entries to whoever is sending them (execute / execute_many); at start-up
# (include_not_due) nobody is, and everything open is resolved at once.
IN_FLIGHT_GRACE_S = 60.0
INTENT_GRACE_S = 30.0
_ECHO = ("status", "code", "message")  # kept in their own columns, not repeated in ``result``

Handler = Callable[[Session, BankJournal, Outcome], None]
# Optional, per purpose: all final outcomes of one group commit at once (the T-day deduction loads its locks in
# one query instead of one per entry). Same contract as a Handler, for a list of (row, outcome).
BulkHandler = Callable[[Session, list[tuple[BankJournal, Outcome]]], None]


@dataclass(frozen=True)
class JournalRefs:
    """The domain rows an entry belongs to (for the handler and for finance's views)."""

    patient_id: int | None = None
    visit_id: int | None = None
    order_id: int | None = None
    credit_lock_id: int | None = None
    payment_id: int | None = None
    refund_id: int | None = None
    admission_id: int | None = None


_STATE_OUTCOME = {JournalState.SUCCESS.value: OutcomeState.SUCCESS, JournalState.FAILED.value: OutcomeState.FAILED}


def _outcome_from_values(v: dict[str, Any]) -> Outcome:
    return Outcome(_STATE_OUTCOME.get(v["state"], OutcomeState.UNKNOWN), v["result_code"], v["result_message"],
                   v.get("bank_serial"), dict(v.get("result") or {}), v["id"])


def outcome_of(row: BankJournal) -> Outcome:
    state = _STATE_OUTCOME.get(row.state, OutcomeState.UNKNOWN)
    return Outcome(state, row.result_code, row.result_message, row.bank_serial, dict(row.result or {}), row.id)


class Journal:
    def __init__(self, clock: Clock, handlers: dict[str, Handler]) -> None:
        self.clock = clock
        self._handlers = handlers
        self.bulk_handlers: dict[str, BulkHandler] = {}

    # ------------------------------------------------------------------------------ intents

    def intent(self, session: Session, request: MoneyRequest, *, purpose: str, actor: Actor | None,
               business_date: date, refs: JournalRefs = JournalRefs()) -> int:
        """Journal ``request`` inside the caller's transaction; returns the entry id for ``gateway.execute``.

        Journaling the same request again (same op, number and parameters) returns the existing entry, so a
        workflow that retries after a crash cannot create a second operation. The same number with other
        parameters is a programming error and raises :class:`Conflict`.
        """
        return self.intent_many(session, [(request, refs)], purpose=purpose, actor=actor,
                                business_date=business_date)[0]

    def intent_many(self, session: Session, items: Sequence[tuple[MoneyRequest, JournalRefs]], *, purpose: str,
                    actor: Actor | None, business_date: date) -> list[int]:
        """Many intents in one statement (bulk work: the T-day deduction)."""
        self._check_purpose(purpose)
        for request, _ in items:
            if not isinstance(request, MoneyRequest):
                raise TypeError(f"{type(request).__name__} is not a money request; call the gateway directly")
        now = self.clock.now()
        rows, ids = [], [0] * len(items)
        existing = self._existing(session, [req for req, _ in items]) if len(items) <= 50 else {}
        for i, (request, refs) in enumerate(items):
            params = request.params()
            found = existing.get((str(request.op), request.number))
            if found is not None:
                if found.params != params or found.purpose != purpose:
                    raise Conflict(f"编号 {request.number} 已用于另一笔{request.op}交易，不能复用", code="journal")
                ids[i] = found.id
                continue
            rows.append((i, {"op": str(request.op), "number": request.number, "purpose": purpose, "params": params,
                             "amount_fen": request.amount, "state": JournalState.INTENT.value, "attempts": 0,
                             "business_date": business_date, "created_at": now,
                             "staff_id": actor.staff_id if actor else None,
                             "workstation": actor.workstation if actor else "", **vars(refs)}))
        if rows:
            table = BankJournal.__table__
            new_ids = session.connection().execute(
                table.insert().returning(table.c.id, sort_by_parameter_order=True),
                [values for _, values in rows]).scalars().all()
            for (i, _), new_id in zip(rows, new_ids, strict=True):
                ids[i] = new_id
        return ids

    def _existing(self, session: Session, requests: Iterable[MoneyRequest]) -> dict[tuple[str, str], BankJournal]:
        # Bulk callers (more than 50) use fresh numbers: the unique index on (op, number) is their check.
        keys = {(str(r.op), r.number) for r in requests}
        found = {}
        for op, number in keys:
            row = session.scalars(select(BankJournal).where(BankJournal.op == op, BankJournal.number == number)).first()
            if row is not None:
                found[(op, number)] = row
        return found

    def _check_purpose(self, purpose: str) -> None:
        if purpose not in self._handlers:
            raise ValueError(f"no outcome handler registered for purpose {purpose!r}: "
                             "call gateway.register_handler(purpose, fn) at start-up")

    # ------------------------------------------------------------------------------ state changes

    def mark_sent(self, session: Session, ids: Sequence[int], *, allow_failed: bool = False,
                  only_intent: bool = False) -> dict[int, MoneyRequest]:
        """Mark each still-open entry (or FAILED ones, for ``retry``; only ``intent`` ones with ``only_intent``)
        ``sent``, in the caller's transaction, which must commit before the requests leave; returns the
        journaled request of each entry marked."""
        states = ([JournalState.INTENT.value] if only_intent else [s.value for s in OPEN_STATES]
                  + ([JournalState.FAILED.value] if allow_failed else []))
        now = self.clock.now()
        table = BankJournal.__table__
        rows = session.connection().execute(
            table.update().where(table.c.id.in_(ids), table.c.state.in_(states))
            .values(state=JournalState.SENT.value, attempts=table.c.attempts + 1, sent_at=now,
                    next_check_at=now + timedelta(seconds=IN_FLIGHT_GRACE_S))
            .returning(table.c.id, table.c.op, table.c.params))
        return {jid: request_from_params(op, params) for jid, op, params in rows}

    def record_many(self, session: Session, results: dict[int, BankResult]) -> dict[int, Outcome]:
        """Record answers; final ones run their purpose's handler in the same transaction. An entry that is no
        longer open (another resolver got there first) keeps what it has. A handler that raises leaves its
        entry UNKNOWN, to be tried again by the resolver: the journal never says final when the domain rows
        don't. Fast path: the whole group in one savepoint (bulk UPDATE by primary key, then the handlers);
        on any handler error, again one entry at a time."""
        now = self.clock.now()
        heads = session.execute(
            select(BankJournal.id, BankJournal.state, BankJournal.sent_at, BankJournal.created_at,
                   BankJournal.bank_serial).where(BankJournal.id.in_(list(results))).with_for_update()).all()
        open_heads = [h for h in heads if h.state not in FINAL_STATES]
        try:
            with session.begin_nested():
                written = self._apply(session, open_heads, results, now)
        except Exception:  # noqa: BLE001 - redo entry by entry so one bad handler cannot block the group
            log.warning("bank journal: a handler failed in a group of %d; recording one by one", len(open_heads))
            for head in open_heads:
                self._apply_one_safely(session, head, results[head.id], now)
            return self.outcomes(session, [h.id for h in heads])
        out = {v["id"]: _outcome_from_values(v) for v in written}
        rest = [h.id for h in heads if h.id not in out]
        if rest:
            out.update(self.outcomes(session, rest))
        return out

    def outcomes(self, session: Session, ids: Sequence[int]) -> dict[int, Outcome]:
        cols = (BankJournal.id, BankJournal.state, BankJournal.result_code, BankJournal.result_message,
                BankJournal.bank_serial, BankJournal.result)
        return {r.id: Outcome(_STATE_OUTCOME.get(r.state, OutcomeState.UNKNOWN), r.result_code, r.result_message,
                              r.bank_serial, dict(r.result or {}), r.id)
                for r in session.execute(select(*cols).where(BankJournal.id.in_(list(ids))))}

    def _apply(self, session: Session, heads: Sequence[Any], results: dict[int, BankResult],
               now: datetime) -> list[dict[str, Any]]:
        finals, unknowns = [], []
        for head in heads:
            values = self._values(head, results[head.id], now)
            (unknowns if values["state"] == JournalState.UNKNOWN else finals).append(values)
        table = BankJournal.__table__
        for group in (finals, unknowns):
            if group:  # one executemany per group (plain Core: the ORM's bulk path cost more than the SQL)
                keys = [k for k in group[0] if k != "id"]
                session.connection().execute(
                    table.update().where(table.c.id == bindparam("b_id"))
                    .values({k: bindparam("b_" + k) for k in keys}),
                    [{"b_" + k: v for k, v in values.items()} for values in group])
        if not finals:
            return unknowns
        by_id = {v["id"]: v for v in finals}
        # params and result load on first access: handlers read the refs, amount and the outcome (which carries
        # the result fields); decoding two JSON columns per row was a fifth of a bulk run's main-thread time.
        rows = session.scalars(select(BankJournal).where(BankJournal.id.in_(list(by_id)))
                               .options(defer(BankJournal.params), defer(BankJournal.result))
                               .execution_options(populate_existing=True)).all()
        bulk: dict[str, list[tuple[BankJournal, Outcome]]] = {}
        for row in rows:
            if row.purpose in self.bulk_handlers:
                bulk.setdefault(row.purpose, []).append((row, _outcome_from_values(by_id[row.id])))
                continue
            handler = self._handlers.get(row.purpose)
            if handler is None:
                raise LookupError(f"no handler for purpose {row.purpose!r}")
            handler(session, row, _outcome_from_values(by_id[row.id]))
        for purpose, items in bulk.items():
            self.bulk_handlers[purpose](session, items)
        session.flush()
        return finals + unknowns

    def _apply_one_safely(self, session: Session, head: Any, result: BankResult, now: datetime) -> None:
        try:
            with session.begin_nested():
                self._apply(session, [head], {head.id: result}, now)
        except Exception as exc:  # noqa: BLE001 - any handler failure must leave the entry open
            log.exception("bank journal %s: outcome handler failed; left unknown", head.id)
            pending = BankResult(None, result.code, f"结果待处理（{type(exc).__name__}）")
            session.execute(update(BankJournal), [self._values(head, pending, now)])

    @staticmethod
    def _values(head: Any, result: BankResult, now: datetime) -> dict[str, Any]:
        """The columns an answer sets: a final outcome, or UNKNOWN with a back-off for the next check."""
        values: dict[str, Any] = {"id": head.id, "bank_status": result.status.value if result.status else None,
                                  "result_code": result.code, "result_message": result.message[:200]}
        if result.state is OutcomeState.UNKNOWN:
            since = head.sent_at or head.created_at
            wait = min(MAX_BACKOFF_S, max(MIN_BACKOFF_S, (now - since).total_seconds()))
            values.update(state=JournalState.UNKNOWN, next_check_at=now + timedelta(seconds=wait))
        else:
            values.update(state=JournalState.SUCCESS if result.state is OutcomeState.SUCCESS else JournalState.FAILED,
                          bank_serial=result.serial or head.bank_serial, resolved_at=now, next_check_at=None,
                          result={k: v for k, v in result.data.items() if k not in _ECHO})
        values["state"] = values["state"].value
        return values

    # ------------------------------------------------------------------------------ reading

    def open_ids(self, session: Session, *, due_only: bool = True, limit: int = 1000) -> list[int]:
        q = select(BankJournal.id).where(BankJournal.state.in_([s.value for s in OPEN_STATES]))
        if due_only:
            now = self.clock.now()
            fresh_intent = (BankJournal.state == JournalState.INTENT.value) & (
                BankJournal.created_at > now - timedelta(seconds=INTENT_GRACE_S))
            q = q.where(~fresh_intent, BankJournal.next_check_at.is_(None) | (BankJournal.next_check_at <= now))
        return list(session.scalars(q.order_by(BankJournal.id).limit(limit)).all())

    def claim(self, session: Session, ids: Sequence[int], lease_s: float = 60.0) -> None:
        """Push ``next_check_at`` out so a second resolver (another PC) leaves these entries alone for a while."""
        session.execute(update(BankJournal).where(BankJournal.id.in_(ids))
                        .values(next_check_at=self.clock.now() + timedelta(seconds=lease_s)))

    def counts(self, session: Session) -> dict[str, Any]:
        from sqlalchemy import func

        return dict(session.execute(select(BankJournal.state, func.count()).group_by(BankJournal.state)).all())
