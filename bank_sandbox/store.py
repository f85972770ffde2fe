"""The sandbox's state: one SQLite file (WAL) that survives restarts, behind one lock.

The bank's rules run one request at a time under ``Store.lock`` (like a core-banking ledger that serialises
postings); HTTP parsing, crypto and injected delays run outside it, in the server's threads.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS resident (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, id_type TEXT NOT NULL, id_number TEXT NOT NULL,
  phone TEXT NOT NULL DEFAULT '', state TEXT NOT NULL DEFAULT 'unsigned',  -- unsigned / signed / terminated
  role TEXT, agreement_no TEXT UNIQUE, holder_id INTEGER REFERENCES resident(id),
  limit_fen INTEGER NOT NULL DEFAULT 0, used_fen INTEGER NOT NULL DEFAULT 0,
  locked_fen INTEGER NOT NULL DEFAULT 0, signed_at TEXT, terminated_at TEXT,
  UNIQUE (id_type, id_number));
CREATE TABLE IF NOT EXISTS op_record (
  op TEXT NOT NULL, number TEXT NOT NULL, params TEXT NOT NULL, status TEXT NOT NULL, code TEXT NOT NULL,
  message TEXT NOT NULL, serial TEXT, amount_fen INTEGER, result TEXT NOT NULL, day TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY (op, number));
CREATE TABLE IF NOT EXISTS confirmation (
  visit_no TEXT PRIMARY KEY, agreement_no TEXT NOT NULL, resident_id INTEGER NOT NULL, serial TEXT NOT NULL,
  day TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS lock (
  lock_no TEXT PRIMARY KEY, serial TEXT NOT NULL UNIQUE, visit_no TEXT NOT NULL, agreement_no TEXT NOT NULL,
  resident_id INTEGER NOT NULL, holder_id INTEGER NOT NULL, amount_fen INTEGER NOT NULL,
  deducted_fen INTEGER NOT NULL DEFAULT 0, refunded_fen INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL,  -- locked / deducted / cancelled / expired
  day TEXT NOT NULL, deduct_serial TEXT UNIQUE, deduct_day TEXT, created_at TEXT NOT NULL, closed_at TEXT);
CREATE INDEX IF NOT EXISTS ix_lock_status_day ON lock (status, day);
CREATE TABLE IF NOT EXISTS payment (
  payment_no TEXT PRIMARY KEY, serial TEXT NOT NULL UNIQUE, agreement_no TEXT NOT NULL,
  resident_id INTEGER NOT NULL, holder_id INTEGER NOT NULL, amount_fen INTEGER NOT NULL,
  refunded_fen INTEGER NOT NULL DEFAULT 0, day TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS movement (
  id INTEGER PRIMARY KEY, day TEXT NOT NULL, at TEXT NOT NULL, serial TEXT NOT NULL, op TEXT NOT NULL,
  number TEXT NOT NULL, amount_fen INTEGER NOT NULL, status TEXT NOT NULL, code TEXT NOT NULL,
  source TEXT NOT NULL DEFAULT '', holder_id INTEGER);
CREATE INDEX IF NOT EXISTS ix_movement_day ON movement (day);
CREATE TABLE IF NOT EXISTS debt (
  id INTEGER PRIMARY KEY, holder_id INTEGER NOT NULL, origin_serial TEXT NOT NULL, day TEXT NOT NULL,
  principal_fen INTEGER NOT NULL, remaining_fen INTEGER NOT NULL, free_until TEXT NOT NULL, plan_id INTEGER);
CREATE INDEX IF NOT EXISTS ix_debt_holder ON debt (holder_id, remaining_fen);
CREATE TABLE IF NOT EXISTS plan (
  id INTEGER PRIMARY KEY, plan_no TEXT NOT NULL UNIQUE, holder_id INTEGER NOT NULL,
  principal_fen INTEGER NOT NULL, start_day TEXT NOT NULL, annual_rate_bp INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS plan_period (
  plan_id INTEGER NOT NULL, seq INTEGER NOT NULL, due_day TEXT NOT NULL, principal_fen INTEGER NOT NULL,
  interest_fen INTEGER NOT NULL, paid_fen INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (plan_id, seq));
CREATE TABLE IF NOT EXISTS clearing (
  day TEXT PRIMARY KEY, deductions_fen INTEGER NOT NULL, pays_fen INTEGER NOT NULL,
  refunds_receivables_fen INTEGER NOT NULL, refunds_reserve_fen INTEGER NOT NULL, net_fen INTEGER NOT NULL,
  cleared_on TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nonce (nonce TEXT PRIMARY KEY, ts_ms INTEGER NOT NULL);
"""


class Store:
    """One SQLite connection used under ``lock``; ``tx()`` is one transaction."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a process crash (only an OS crash can lose the last commits).
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.executescript(SCHEMA)
        self.lock = threading.RLock()
        self._on_commit: list = []
        self._depth = 0

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A transaction; inside another one, a savepoint (the server commits a batch of requests at once)."""
        with self.lock:
            if self._depth:
                yield from self._savepoint()
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._on_commit, self._depth = [], 1
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0
            self.conn.execute("COMMIT")
            for fn in self._on_commit:
                fn()

    def _savepoint(self) -> Iterator[sqlite3.Connection]:
        name = f"sp{self._depth}"
        self.conn.execute(f"SAVEPOINT {name}")
        self._depth += 1
        try:
            yield self.conn
        except BaseException:
            self.conn.execute(f"ROLLBACK TO {name}")
            self.conn.execute(f"RELEASE {name}")
            raise
        finally:
            self._depth -= 1
        self.conn.execute(f"RELEASE {name}")

    def after_commit(self, fn) -> None:  # noqa: ANN001
        """Run ``fn`` once the current transaction has committed (in-memory caches follow the database)."""
        self._on_commit.append(fn)

    def one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        return self.conn.execute(sql, args).fetchone()

    def all(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        return self.conn.execute(sql, args).fetchall()

    def run(self, sql: str, *args: Any) -> sqlite3.Cursor:
        return self.conn.execute(sql, args)

    def meta(self, key: str, default: Any = None) -> Any:
        row = self.one("SELECT value FROM meta WHERE key = ?", key)
        return default if row is None else json.loads(row["value"])

    def set_meta(self, key: str, value: Any) -> None:
        self.run("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = "
                 "excluded.value", key, json.dumps(value))

    def close(self) -> None:
        with self.lock:
            self.conn.close()
