"""Hospital-chosen numbers (visit, order, lock, payment, refund, admission …).

A number is ``<prefix><yyyymmdd><workstation-free sequence>``, e.g. ``V20261122000042``. The sequence comes
from a per-day counter row bumped inside the caller's transaction, so numbers are unique across every PC that
shares the database, and a rolled-back transaction gives its number back. Numbers are what the bank sees:
the same number sent twice is the same operation, so a number is never reused for a different operation.

**Hot paths on PostgreSQL** (:func:`take`, used by registration): the counter row locked until the end of
every registration made all windows of the hospital queue behind one row. There :func:`take` hands out
numbers from a per-process **block** reserved from the same counter row in a short transaction of its own
(1 number the first time, doubling up to ``BLOCK``), so the row is touched once per block, not once per
registration, order, lock or refund. Numbers stay
unique across PCs (blocks never overlap, and :func:`next_number` draws from the same counter); a number
taken in a transaction that rolls back returns to the process's block. What changes: numbers of different
windows interleave (``…0041`` may be issued after ``…0057``), and numbers left in a block when the program
exits are never issued (gaps). SQLite (one PC) keeps the counter row.
"""

from __future__ import annotations

import threading
import weakref
from collections import deque
from datetime import date

from sqlalchemy import Engine, event, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from desktop_his.services.models import NumberCounter

PREFIXES = {
    "visit": "V",
    "order": "O",
    "lock": "L",
    "payment": "P",
    "refund": "R",
    "admission": "Z",
    "settlement": "S",
}


def next_value(session: Session, name: str, day: date, *, count: int = 1) -> int:
    """Reserve ``count`` consecutive values of counter ``name`` for ``day``; returns the first."""
    session.info.setdefault(_LOCKED, set()).add((name, day))  # this transaction now holds the counter row
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(NumberCounter).values(name=name, day=day, value=0).on_conflict_do_nothing())
    new_value = session.execute(
        update(NumberCounter)
        .where(NumberCounter.name == name, NumberCounter.day == day)
        .values(value=NumberCounter.value + count)
        .returning(NumberCounter.value)
    ).scalar_one()
    return new_value - count + 1


def next_number(session: Session, kind: str, day: date) -> str:
    """``next_number(s, "visit", date(2026, 11, 22))`` → ``"V20261122000001"``."""
    prefix = PREFIXES[kind]
    return f"{prefix}{day:%Y%m%d}{next_value(session, kind, day):06d}"


def next_numbers(session: Session, kind: str, day: date, count: int) -> list[str]:
    prefix = PREFIXES[kind]
    first = next_value(session, kind, day, count=count)
    return [f"{prefix}{day:%Y%m%d}{n:06d}" for n in range(first, first + count)]


def peek(session: Session, name: str, day: date) -> int:
    return session.execute(
        select(NumberCounter.value).where(NumberCounter.name == name, NumberCounter.day == day)
    ).scalar_one_or_none() or 0


# ------------------------------------------------------------------------------ blocks (PostgreSQL)

BLOCK = 32
_blocks: weakref.WeakKeyDictionary[Engine, dict[tuple[str, date], deque[int]]] = weakref.WeakKeyDictionary()
_blocks_lock = threading.Lock()
_TAKEN = "numbers_taken"
_LOCKED = "numbers_counters_locked"


_sizes: weakref.WeakKeyDictionary[Engine, dict[tuple[str, date], int]] = weakref.WeakKeyDictionary()


def _reserve_block(engine: Engine, kind: str, day: date) -> range:
    """The next block for this process: 1 number the first time, then twice as many each time up to ``BLOCK``
    (a PC that registers a few patients a day leaves almost no gaps; a busy window touches the row rarely)."""
    with _blocks_lock:
        sizes = _sizes.setdefault(engine, {})
        size = sizes.get((kind, day), 1)
        sizes[(kind, day)] = min(size * 2, BLOCK)
    with engine.begin() as conn:  # its own short transaction: the counter row is locked only for this
        conn.execute(pg_insert(NumberCounter).values(name=kind, day=day, value=0).on_conflict_do_nothing())
        last = conn.execute(update(NumberCounter).where(NumberCounter.name == kind, NumberCounter.day == day)
                            .values(value=NumberCounter.value + size).returning(NumberCounter.value)).scalar_one()
    return range(last - size + 1, last + 1)


def take(session: Session, kind: str, day: date) -> str:
    """Like :func:`next_number`, for hot paths (visits, orders, locks, refunds): on PostgreSQL from this
    process's block (see the module docstring); on SQLite from the counter row."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return next_number(session, kind, day)
    key = (kind, day)
    if key in session.info.get(_LOCKED, ()):  # our own transaction holds the row: a block would wait for us
        return next_number(session, kind, day)
    engine = bind if isinstance(bind, Engine) else bind.engine
    with _blocks_lock:
        pool = _blocks.setdefault(engine, {}).setdefault(key, deque())
        value = pool.popleft() if pool else None
    if value is None:
        block = _reserve_block(engine, kind, day)
        value = block[0]
        with _blocks_lock:
            pool.extend(block[1:])
    session.info.setdefault(_TAKEN, []).append((engine, key, value))
    return f"{PREFIXES[kind]}{day:%Y%m%d}{value:06d}"


@event.listens_for(Session, "after_rollback")
def _give_back(session: Session) -> None:
    session.info.pop(_LOCKED, None)
    taken = session.info.pop(_TAKEN, None)
    if taken:
        with _blocks_lock:
            for engine, key, value in taken:
                pool = _blocks.setdefault(engine, {}).setdefault(key, deque())
                pool.appendleft(value)


@event.listens_for(Session, "after_commit")
def _keep(session: Session) -> None:
    session.info.pop(_TAKEN, None)
    session.info.pop(_LOCKED, None)
