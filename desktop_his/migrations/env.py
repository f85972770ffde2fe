"""Alembic environment: runs against the engine handed over in ``config.attributes["engine"]``
(see :func:`desktop_his.services.db.upgrade`) or, from the ``alembic`` command line, the configured URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from desktop_his.services.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE on SQLite
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
