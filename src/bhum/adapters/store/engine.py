"""Engines and sessions for SQLite (the default) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def create_engine_for(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``. SQLite gets foreign keys, WAL and a busy timeout on every connection,
    and its directory is created if missing."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        in_memory = not database or database == ":memory:"
        if not in_memory and database is not None:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # The sqlite3 module's own transaction handling starts transactions late and lets a
            # RELEASE SAVEPOINT commit; take control of BEGIN ourselves (see _sqlite_begin).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                # SQLite's advice for WAL: no fsync on every commit, only at checkpoints. A power
                # cut may lose the last commits but never corrupts the file or half-writes one.
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            # Every SQLAlchemy transaction is a real SQLite transaction from its first statement,
            # so savepoints nest inside it and a rollback undoes everything.
            connection.exec_driver_sql("BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def session_factory_for(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: repositories hand out domain objects, never live rows.
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
