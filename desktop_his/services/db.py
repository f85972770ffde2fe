"""Database access: one :class:`Database` per process, built at start-up and passed to the services.

SQLite (default, one PC): WAL journal, ``synchronous=FULL`` (SQLite sets durability per connection, not per
table, so the money tables' FULL applies to the whole file), foreign keys on, and write transactions that take
the write lock up front (``BEGIN IMMEDIATE``) so two threads never dead-lock upgrading a read lock.
PostgreSQL (a hospital's many PCs): ``postgresql+psycopg://…``; READ COMMITTED, with row locks and guarded
UPDATEs where concurrency matters.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, Row, Select, create_engine, event
from sqlalchemy import exc as exc_module
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DB-API connection
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str, *, echo: bool = False, **kwargs) -> Engine:
    """Create an engine with the right settings for SQLite or PostgreSQL."""
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)

        # pysqlite's own transaction handling is replaced by explicit BEGINs (SQLAlchemy docs recipe).
        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_conn, _record) -> None:  # noqa: ANN001
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn) -> None:  # noqa: ANN001
            mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    engine = create_engine(url, echo=echo, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_idle_connections(engine)
    return engine


PING_AFTER_IDLE_S = 10.0  # a pooled connection idle longer than this is checked before use


def _ping_idle_connections(engine: Engine) -> None:
    """Check a pooled connection before use when it sat idle for ``PING_AFTER_IDLE_S`` (the server restarted,
    a firewall dropped it overnight): a dead one is replaced before the caller sees it. SQLAlchemy's
    ``pool_pre_ping`` does this on every checkout, one round trip per transaction; a window at work reuses its
    connections within seconds, so it pays only after a pause (SQLAlchemy's "pessimistic disconnect" recipe)."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn, record) -> None:  # noqa: ANN001
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn, record, _proxy) -> None:  # noqa: ANN001
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
            return  # just connected, or in use a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # noqa: BLE001 - any failure: the pool replaces the connection
            raise exc_module.DisconnectionError(f"pooled connection is dead: {exc}") from exc
        if not alive:
            raise exc_module.DisconnectionError("pooled connection is dead")


class Database:
    """The engine plus the unit-of-work helpers the services use.

    ``with db.session() as s:`` opens a read-write transaction committed on success and rolled back on any
    exception. ``with db.reader() as s:`` is for queries (on SQLite it does not take the write lock).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        reader_engine = engine.execution_options(sqlite_begin="DEFERRED") if self.is_sqlite else engine
        self._readers = sessionmaker(reader_engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str, **kwargs) -> Database:
        return cls(make_engine(url, **kwargs))

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as s, s.begin():
            yield s

    @contextmanager
    def reader(self) -> Iterator[Session]:
        with self._readers() as s, s.begin():
            yield s

    def dispose(self) -> None:
        self.engine.dispose()


def newest(session: Session, statement: Select) -> Row | None:
    """The row with the highest first column (an id) among the few ``statement`` selects — for "the newest
    lock / journal entry of this visit or order". Deliberately not ``ORDER BY id DESC LIMIT 1``: PostgreSQL,
    when it misjudges how many rows match (fresh tables, no statistics yet), answers that by walking the
    primary key backwards through the whole table, and a busy day's journal then costs a scan per call."""
    return max(session.execute(statement).all(), key=lambda row: row[0], default=None)


# ------------------------------------------------------------------------------------------- migrations


def alembic_config(db: Database | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if db is not None:
        cfg.attributes["engine"] = db.engine
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> None:
    """Apply migrations (at start-up and by ``desktop-his-cli db upgrade``)."""
    command.upgrade(alembic_config(db), revision)


def downgrade(db: Database, revision: str) -> None:
    command.downgrade(alembic_config(db), revision)
