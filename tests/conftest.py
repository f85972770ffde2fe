"""Shared fixtures: a fresh database per test (SQLite, and PostgreSQL where reachable), an in-memory keyring,
a manual clock. Qt runs offscreen."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keyring  # noqa: E402
import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from desktop_his.services.clock import ManualClock  # noqa: E402
from desktop_his.services.db import Database  # noqa: E402
from desktop_his.services.models import Base  # noqa: E402
from desktop_his.services.secrets import MemoryKeyring  # noqa: E402

PG_URL = os.environ.get("DESKTOP_HIS_TEST_PG_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")
# A Monday morning: weekday 0, well inside a business day.
T0 = datetime(2026, 11, 23, 9, 0, 0)

_pg_reason: str | None = None
_pg_checked = False


def postgres_unavailable() -> str | None:
    """None when PostgreSQL answers at PG_URL, else a one-line reason (checked once per session)."""
    global _pg_checked, _pg_reason
    if not _pg_checked:
        _pg_checked = True
        engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
            _pg_reason = f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}"
        finally:
            engine.dispose()
    return _pg_reason


class PgSchema:
    """A throw-away schema in the test database; engines made from ``url``/``connect_args`` live in it."""

    def __init__(self) -> None:
        self.name = f"t_{uuid.uuid4().hex[:12]}"
        self.admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{self.name}"'))

    @property
    def connect_args(self) -> dict[str, str]:
        return {"options": f"-csearch_path={self.name}"}

    def database(self) -> Database:
        return Database.from_url(PG_URL, connect_args=self.connect_args)

    def drop(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE'))
        self.admin.dispose()


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Parametrise a storage test over both databases."""
    if request.param == "postgresql":
        reason = postgres_unavailable()
        if reason:
            pytest.skip(reason)
    return request.param


@pytest.fixture
def empty_db(backend: str, tmp_path) -> Iterator[Database]:  # noqa: ANN001
    """A database with no tables (for migration tests)."""
    if backend == "sqlite":
        db = Database.from_url(f"sqlite:///{tmp_path / 'his.sqlite3'}")
        yield db
        db.dispose()
        return
    schema = PgSchema()
    db = schema.database()
    try:
        yield db
    finally:
        db.dispose()
        schema.drop()


@pytest.fixture
def db(empty_db: Database) -> Database:
    """A fresh database with the full schema, on SQLite and on PostgreSQL."""
    Base.metadata.create_all(empty_db.engine)
    return empty_db


@pytest.fixture
def sqlite_db(tmp_path) -> Iterator[Database]:  # noqa: ANN001
    """A fresh SQLite database only (GUI tests and others that need no PostgreSQL run)."""
    db = Database.from_url(f"sqlite:///{tmp_path / 'his.sqlite3'}")
    Base.metadata.create_all(db.engine)
    yield db
    db.dispose()


@pytest.fixture
def pg_schema() -> Iterator[PgSchema]:
    """A throw-away PostgreSQL schema for multi-connection tests (skips without PostgreSQL)."""
    reason = postgres_unavailable()
    if reason:
        pytest.skip(reason)
    schema = PgSchema()
    try:
        yield schema
    finally:
        schema.drop()


# ------------------------------------------------------------------------------ services (shell branch)

from argon2 import PasswordHasher  # noqa: E402

from desktop_his.services.config import Settings  # noqa: E402
from desktop_his.services.container import Services, build_services  # noqa: E402


def fast_hasher() -> PasswordHasher:
    """argon2id with the cheapest parameters: tests hash hundreds of passwords."""
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def make_services(db: Database, clock: ManualClock, tmp_path) -> Services:  # noqa: ANN001
    settings = Settings(data_dir=tmp_path / "data", log_dir=tmp_path / "log", workstation="WS-TEST")
    return build_services(settings, clock=clock, db=db, hasher=fast_hasher(),
                          config_path=tmp_path / "settings.toml")


def close_services(built: Services) -> None:
    """End of a test: let a GUI test's operations still on a worker finish (the window may have been left with a
    query in flight) before the services, the bank and the database go away under them."""
    ops = sys.modules.get("desktop_his.qt.ops")
    if ops is not None:
        ops.shutdown()
    built.close()


@pytest.fixture
def services(db: Database, clock: ManualClock, tmp_path) -> Iterator[Services]:  # noqa: ANN001
    """Every service on a fresh database (SQLite and PostgreSQL)."""
    built = make_services(db, clock, tmp_path)
    yield built
    close_services(built)


@pytest.fixture
def sqlite_services(sqlite_db: Database, clock: ManualClock, tmp_path) -> Iterator[Services]:  # noqa: ANN001
    """Every service on a fresh SQLite database (GUI tests)."""
    built = make_services(sqlite_db, clock, tmp_path)
    yield built
    close_services(built)


# ------------------------------------------------------------------------------ services with the bank


@pytest.fixture
def bank_sandbox_running(tmp_path):  # noqa: ANN001, ANN201
    """A demo-seeded bank sandbox on a loopback port, its simulated clock at the ``clock`` fixture's T0."""
    from tests.services.bank.helpers import running_sandbox

    with running_sandbox(tmp_path / "bank.sqlite3") as sandbox:
        yield sandbox


def connect_test_bank(services: Services, sandbox) -> Services:  # noqa: ANN001
    from desktop_his.services.container import connect_bank

    connect_bank(services, base_url=sandbox.url, resolver_interval=None)
    services.sandbox = sandbox  # tests reach the sandbox's admin API (clock, faults, ledger) through it
    return services


@pytest.fixture
def bank_services(services: Services, bank_sandbox_running) -> Services:  # noqa: ANN001
    """Every service on a fresh database (SQLite and PostgreSQL), connected to a bank sandbox; no resolver
    thread (tests call ``services.bank.resolve_pending()`` themselves)."""
    return connect_test_bank(services, bank_sandbox_running)


@pytest.fixture
def sqlite_bank_services(sqlite_services: Services, bank_sandbox_running) -> Services:  # noqa: ANN001
    """As ``bank_services`` on SQLite only (GUI tests)."""
    return connect_test_bank(sqlite_services, bank_sandbox_running)
