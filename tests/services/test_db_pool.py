"""The pool checks a connection that sat idle before handing it out: a connection the server dropped (restart,
firewall overnight) is replaced, the caller never sees the error. A connection in steady use is not pinged."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from desktop_his.services import db as dbmod
from tests.conftest import PG_URL, PgSchema


def _backend_pid(database: dbmod.Database) -> int:
    with database.session() as s:
        return s.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()


def test_a_dropped_idle_connection_is_replaced_before_use(pg_schema: PgSchema, monkeypatch) -> None:  # noqa: ANN001
    database = dbmod.Database.from_url(PG_URL, connect_args=pg_schema.connect_args, pool_size=1,
                                       max_overflow=0)
    try:
        first = _backend_pid(database)
        with pg_schema.admin.connect() as conn:  # the server drops the idle connection
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        monkeypatch.setattr(dbmod, "PING_AFTER_IDLE_S", 0.0)
        assert _backend_pid(database) != first  # no error: the pool replaced it
    finally:
        database.dispose()


def test_a_connection_in_steady_use_is_not_pinged(pg_schema: PgSchema) -> None:
    database = dbmod.Database.from_url(PG_URL, connect_args=pg_schema.connect_args, pool_size=1,
                                       max_overflow=0)
    pings: list[int] = []
    original = database.engine.dialect.do_ping
    database.engine.dialect.do_ping = lambda conn: pings.append(1) or original(conn)  # type: ignore[method-assign]
    statements: list[str] = []
    event.listen(database.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    try:
        for _ in range(5):
            _backend_pid(database)
        assert pings == [] and len(statements) == 5
    finally:
        database.dispose()


def test_a_dead_connection_after_a_short_pause_fails_once_then_recovers(pg_schema: PgSchema) -> None:
    """Within the idle threshold nothing is checked: the statement fails (the window shows
    ``ops.DB_CONNECTION_LOST``), and the pool has already dropped the dead connection, so the next transaction
    works."""
    database = dbmod.Database.from_url(PG_URL, connect_args=pg_schema.connect_args, pool_size=1,
                                       max_overflow=0)
    try:
        first = _backend_pid(database)
        with pg_schema.admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        with pytest.raises(sa.exc.OperationalError):
            _backend_pid(database)
        assert _backend_pid(database) != first
    finally:
        database.dispose()
