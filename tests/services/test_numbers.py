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
