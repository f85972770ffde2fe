"""The sandbox's simulated clock (hospital local time, UTC+8), persisted in ``meta``.

Running mode follows real time from a chosen starting point; frozen mode stands still until told to move.
Tests freeze it and move it (to 23:59:59, over midnight, by days) to cover T, 24:00, T+1 and T+N. Request
timestamps (the five-minute freshness window) always use real time, never this clock.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from bank_sandbox.store import Store

CST = timezone(timedelta(hours=8))


def real_now() -> datetime:
    return datetime.now(CST).replace(tzinfo=None)


class SimClock:
    def __init__(self, store: Store) -> None:
        self.store = store
        state = store.meta("clock")
        if state is None:
            state = {"base": real_now().isoformat(), "real": time.time(), "frozen": False}
            with store.tx():
                store.set_meta("clock", state)
        self._load(state)

    def _load(self, state: dict) -> None:
        self._base = datetime.fromisoformat(state["base"])
        self._real = float(state["real"])
        self._frozen = bool(state["frozen"])

    def now(self) -> datetime:
        if self._frozen:
            return self._base
        return self._base + timedelta(seconds=time.time() - self._real)

    @property
    def frozen(self) -> bool:
        return self._frozen

    def set(self, moment: datetime, *, frozen: bool | None = None) -> None:
        """Call inside a store transaction."""
        frozen = self._frozen if frozen is None else frozen
        state = {"base": moment.replace(microsecond=0).isoformat(), "real": time.time(), "frozen": frozen}
        self.store.set_meta("clock", state)
        self._load(state)
