"""Time source. All timestamps are naive datetimes in hospital local time (China Standard Time, UTC+8, no DST).

Services take a :class:`Clock` instead of calling ``datetime.now()`` so tests (and the bank sandbox's simulated
clock) can place work at T, just before 24:00, T+1 and T+N.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone
from typing import Protocol

HOSPITAL_TZ = timezone(timedelta(hours=8), "CST")


class Clock(Protocol):
    def now(self) -> datetime: ...

    def today(self) -> date: ...


class SystemClock:
    """Wall-clock time in hospital local time, whatever the PC's own time zone is."""

    def now(self) -> datetime:
        return datetime.now(HOSPITAL_TZ).replace(tzinfo=None)

    def today(self) -> date:
        return self.now().date()


class ManualClock:
    """A clock tests move by hand. Thread-safe."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def today(self) -> date:
        return self.now().date()

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now
