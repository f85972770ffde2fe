"""One change watcher per process, many subscribers (views, jobs): a fan-out over :mod:`live`.

Subscribers register a callback with topic prefixes; the single :class:`~desktop_his.services.live.ChangeWatcher`
starts with the first subscriber and stops with :meth:`ChangeFeed.close`. Callbacks run on the watcher's
thread: the Qt side (``desktop_his.qt.live_bridge``) turns them into signals on the GUI thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from desktop_his.services.db import Database
from desktop_his.services.live import ChangeWatcher

log = logging.getLogger(__name__)
Callback = Callable[[set[str]], None]


class ChangeFeed:
    def __init__(self, db: Database, *, poll_interval: float = 1.0) -> None:
        self.db = db
        self.poll_interval = poll_interval
        self._lock = threading.Lock()
        self._subscribers: dict[int, tuple[tuple[str, ...], Callback]] = {}
        self._next_id = 0
        self._watcher: ChangeWatcher | None = None

    def subscribe(self, prefixes: Iterable[str], callback: Callback) -> int:
        """Call ``callback(topics)`` for committed changes whose topic starts with one of ``prefixes``
        (empty: every topic; ``"*"`` is delivered after a reconnect). Returns a token for unsubscribe."""
        with self._lock:
            self._next_id += 1
            token = self._next_id
            self._subscribers[token] = (tuple(prefixes), callback)
            start = self._watcher is None
            if start:
                self._watcher = ChangeWatcher(self.db, self._dispatch, poll_interval=self.poll_interval)
        if start:
            self._watcher.start()
        return token

    def unsubscribe(self, token: int) -> None:
        with self._lock:
            self._subscribers.pop(token, None)

    def close(self) -> None:
        with self._lock:
            watcher, self._watcher = self._watcher, None
            self._subscribers.clear()
        if watcher is not None:
            watcher.stop()

    def _dispatch(self, topics: set[str]) -> None:
        with self._lock:
            subscribers = list(self._subscribers.values())
        for prefixes, callback in subscribers:
            wanted = {t for t in topics if t == "*" or not prefixes or t.startswith(prefixes)}
            if wanted:
                try:
                    callback(wanted)
                except Exception:  # one subscriber's bug must not starve the others
                    log.exception("change feed subscriber failed")
