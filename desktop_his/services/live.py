"""The live change feed: a registration made at one PC shows up at the doctor stations without a refresh.

Producers call :func:`publish` inside the transaction that makes the change, with a topic naming what changed
(``doctor:17`` for a doctor's queue, ``department:3``, ``notifications:5``, ``orders:visit:42`` …). The event
is delivered only if that transaction commits:

- PostgreSQL: ``pg_notify('desktop_his', topic)`` — delivered at commit to every ``LISTEN``-ing connection.
- SQLite (one PC, possibly several processes): a per-topic counter row in ``change_seq`` that watchers poll.

Consumers run a :class:`ChangeWatcher` (a daemon thread) and receive the set of topics that changed; the Qt
side turns that callback into a signal. Delivery is "at least once, possibly coalesced": a consumer re-reads
what it shows, it never applies a payload.
"""

from __future__ import annotations

import functools
import logging
import select as select_module
import threading
import weakref
from collections.abc import Callable, Iterable

from sqlalchemy import TextClause, bindparam, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from desktop_his.services.db import Database
from desktop_his.services.models import ChangeSeq

log = logging.getLogger(__name__)
CHANNEL = "desktop_his"


_CHANGE = ChangeSeq.__table__
_SQLITE_BUMP = (sqlite_insert(_CHANGE).values(topic=bindparam("topic"), seq=1)
                .on_conflict_do_update(index_elements=[_CHANGE.c.topic], set_={"seq": _CHANGE.c.seq + 1}))


_NOTIFY_CHUNK = 200  # topics per statement (a SELECT list is limited to 1,664 entries)


@functools.lru_cache(maxsize=16)
def _notify_text(n: int) -> TextClause:
    return text("SELECT " + ", ".join(f"pg_notify(:channel, :t{i})" for i in range(n)))


def publish(session: Session, *topics: str) -> None:
    """Announce that ``topics`` changed; delivered when the surrounding transaction commits. A topic already
    announced in the same (sub)transaction is not announced again (bulk handlers, e.g. the T-day deduction,
    publish per row)."""
    txn = session.get_nested_transaction() or session.get_transaction()
    seen: set[str] = set()
    if txn is not None:
        published = session.info.setdefault("live_published", weakref.WeakKeyDictionary())
        seen = published.setdefault(txn, set())
    topics = tuple(t for t in dict.fromkeys(topics) if t not in seen)
    seen.update(topics)
    if not topics:
        return
    if session.get_bind().dialect.name == "postgresql":
        for k in range(0, len(topics), _NOTIFY_CHUNK):  # one round trip per chunk of topics
            chunk = topics[k:k + _NOTIFY_CHUNK]
            session.execute(_notify_text(len(chunk)), {"channel": CHANNEL, **{f"t{i}": t for i, t in enumerate(chunk)}})
        return
    # one upsert for all topics (building two statements per topic cost more than running them)
    session.execute(_SQLITE_BUMP, [{"topic": t} for t in topics])


class ChangeWatcher:
    """Calls ``on_change(topics)`` from a background thread whenever watched topics change.

    ``prefixes``: only topics starting with one of these are reported (empty = all).
    """

    def __init__(self, db: Database, on_change: Callable[[set[str]], None], *,
                 prefixes: Iterable[str] = (), poll_interval: float = 1.0) -> None:
        self.db = db
        self.on_change = on_change
        self.prefixes = tuple(prefixes)
        self.poll_interval = poll_interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def start(self) -> ChangeWatcher:
        target = self._listen_postgres if self.db.is_postgresql else self._poll_sqlite
        self._thread = threading.Thread(target=self._run, args=(target,), name="change-watcher", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def wait_ready(self, timeout: float = 10) -> bool:
        """True once the watcher is listening (changes committed after this are seen)."""
        return self._ready.wait(timeout)

    def _wanted(self, topic: str) -> bool:
        return not self.prefixes or topic.startswith(self.prefixes)

    def _deliver(self, topics: set[str]) -> None:
        topics = {t for t in topics if self._wanted(t)}
        if topics:
            try:
                self.on_change(topics)
            except Exception:  # a consumer's bug must not kill the feed
                log.exception("change watcher consumer failed")

    def _run(self, target: Callable[[], None]) -> None:
        while not self._stop.is_set():
            try:
                target()
            except Exception:  # connection lost: report everything changed, then reconnect
                log.warning("live change feed interrupted; reconnecting", exc_info=True)
                self._deliver({"*"} if not self.prefixes else set(self.prefixes))
                self._stop.wait(min(5.0, self.poll_interval * 2))

    def _poll_sqlite(self) -> None:
        seen: dict[str, int] = {}
        first = True
        while not self._stop.is_set():
            with self.db.reader() as s:
                rows = dict(s.execute(select(ChangeSeq.topic, ChangeSeq.seq)).all())
            changed = {t for t, n in rows.items() if seen.get(t) != n}
            seen = rows
            if first:
                first = False
                self._ready.set()
            elif changed:
                self._deliver(changed)
            self._stop.wait(self.poll_interval)

    def _listen_postgres(self) -> None:
        raw = self.db.engine.raw_connection()
        try:
            conn = raw.driver_connection  # psycopg.Connection
            conn.autocommit = True
            conn.execute(f"LISTEN {CHANNEL}")
            self._ready.set()
            while not self._stop.is_set():
                ready, _, _ = select_module.select([conn.fileno()], [], [], self.poll_interval)
                if not ready:
                    continue
                topics = {n.payload for n in conn.notifies(timeout=0, stop_after=10_000)}
                self._deliver(topics)
        finally:
            raw.invalidate()
