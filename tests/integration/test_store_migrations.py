"""Migrations: from empty to head on SQLite and PostgreSQL, repeatable, in their own schema."""

from __future__ import annotations

from sqlalchemy import inspect

from bhum.adapters.store import SqlStore, create_engine_for, current, head, upgrade
from bhum.adapters.store.migrate import all_tables


def test_upgrade_from_empty_to_head_creates_every_table(store_url: str) -> None:
    assert current(store_url) is None
    upgrade(store_url)
    assert current(store_url) == head() is not None
    engine = create_engine_for(store_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert set(all_tables().tables) <= tables
    assert "alembic_version" in tables


def test_upgrade_twice_is_harmless(store_url: str) -> None:
    upgrade(store_url)
    upgrade(store_url)
    assert current(store_url) == head()


def test_migrations_match_the_table_definitions(store_url: str) -> None:
    """The hand-checked migration and tables.py must not drift apart (autogenerate finds nothing)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    upgrade(store_url)
    engine = create_engine_for(store_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": False})
            diff = compare_metadata(context, all_tables())
    finally:
        engine.dispose()
    assert diff == []


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'sub' / 'bhum.sqlite3'}"
    upgrade(url)  # creates the missing directory
    store = SqlStore(url)
    try:
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        store.dispose()
