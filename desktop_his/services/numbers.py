"""Hospital-chosen numbers (visit, order, lock, payment, refund, admission …).

A number is ``<prefix><yyyymmdd><workstation-free sequence>``, e.g. ``V20261122000042``. The sequence comes
from a per-day counter row bumped inside the caller's transaction, so numbers are unique across every PC that
shares the database, and a rolled-back transaction gives its number back. Numbers are what the bank sees:
the same number sent twice is the same operation, so a number is never reused for a different operation.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update
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
