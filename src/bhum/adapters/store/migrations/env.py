"""Alembic environment for bhum's store. render_as_batch=True so ALTERs work on SQLite too."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from bhum.adapters.store.engine import create_engine_for
from bhum.adapters.store.migrate import all_tables

config = context.config
target_metadata = all_tables()  # every row class, so autogenerate sees feature modules too


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection or sqlalchemy.url given to the bhum migrations")
    engine = create_engine_for(url)
    try:
        with engine.begin() as own:
            _run(own)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
