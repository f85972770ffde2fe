"""Migrations upgrade an empty database, match the models, and step back one revision — on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from desktop_his.services import db as dbmod
from desktop_his.services.models import Base


def test_upgrade_empty_database_to_head(empty_db: dbmod.Database) -> None:
    dbmod.upgrade(empty_db)
    assert dbmod.current_revision(empty_db) == dbmod.head_revision()
    tables = set(inspect(empty_db.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_migrations_match_models(empty_db: dbmod.Database) -> None:
    dbmod.upgrade(empty_db)
    with empty_db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], "models changed without a migration: " + repr(diff[:5])


def test_each_migration_reverses_one_step(empty_db: dbmod.Database) -> None:
    dbmod.upgrade(empty_db)
    script = ScriptDirectory.from_config(dbmod.alembic_config())
    head = script.get_revision(dbmod.head_revision())
    dbmod.downgrade(empty_db, "-1")
    assert dbmod.current_revision(empty_db) == head.down_revision
    dbmod.upgrade(empty_db)
    assert dbmod.current_revision(empty_db) == head.revision


def test_full_downgrade_leaves_no_domain_tables(empty_db: dbmod.Database) -> None:
    dbmod.upgrade(empty_db)
    dbmod.downgrade(empty_db, "base")
    left = set(inspect(empty_db.engine).get_table_names()) & set(Base.metadata.tables)
    assert left == set()
