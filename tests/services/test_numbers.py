from __future__ import annotations

from datetime import date

from desktop_his.services.db import Database
from desktop_his.services.numbers import next_number, next_numbers


def test_numbers_are_sequential_per_day_and_kind(db: Database) -> None:
    day = date(2026, 11, 23)
    with db.session() as s:
        assert next_number(s, "visit", day) == "V20261123000001"
        assert next_number(s, "visit", day) == "V20261123000002"
        assert next_number(s, "order", day) == "O20261123000001"
        assert next_number(s, "visit", date(2026, 11, 24)) == "V20261124000001"
    with db.session() as s:
        assert next_numbers(s, "visit", day, 3) == [f"V20261123{n:06d}" for n in (3, 4, 5)]


def test_rolled_back_number_is_given_back(db: Database) -> None:
    day = date(2026, 11, 23)
    try:
        with db.session() as s:
            next_number(s, "refund", day)
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    with db.session() as s:
        assert next_number(s, "refund", day) == "R20261123000001"


def test_take_numbers_unique_with_next_number_and_given_back_on_rollback(db: Database) -> None:
    """``take`` (registration's hot path: per-process blocks on PostgreSQL) never collides with
    ``next_number`` drawing from the same counter, and a rolled-back take is issued again."""
    from desktop_his.services.numbers import take

    day = date(2026, 11, 23)
    with db.session() as s:
        first = take(s, "visit", day)
    try:
        with db.session() as s:
            lost = take(s, "visit", day)
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    seen = [first]
    with db.session() as s:
        again = take(s, "visit", day)
        assert again == lost
        seen.append(again)
        for _ in range(40):
            seen.append(take(s, "visit", day))
            seen.append(next_number(s, "visit", day))
    assert len(set(seen)) == len(seen) and all(n.startswith("V20261123") for n in seen)
