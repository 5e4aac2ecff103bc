"""The store: SQLAlchemy 2 tables, repositories, the unit of work and Alembic migrations.

SQLite file by default (``sqlite:///<data_dir>/bhum.sqlite3``), PostgreSQL with psycopg 3
(``postgresql+psycopg://...``). See docs/domain-model.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bhum.adapters.store.engine import create_engine_for, session_factory_for
from bhum.adapters.store.full import BhumSqlUnitOfWork
from bhum.adapters.store.migrate import current, head, upgrade
from bhum.adapters.store.uow import SqlAlchemyUnitOfWork

__all__ = [
    "BhumSqlUnitOfWork",
    "SqlAlchemyUnitOfWork",
    "SqlStore",
    "create_engine_for",
    "current",
    "head",
    "session_factory_for",
    "upgrade",
]


@dataclass
class SqlStore:
    """One database: migrations and units of work over a shared engine (satisfies
    ``bhum.services.unit_of_work.Database``)."""

    url: str
    engine: Engine = field(init=False, repr=False)
    session_factory: sessionmaker[Session] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.engine = create_engine_for(self.url)
        self.session_factory = session_factory_for(self.engine)

    def upgrade(self) -> None:
        upgrade(self.url)

    def current(self) -> str | None:
        return current(self.url)

    def head(self) -> str | None:
        return head()

    def unit_of_work(self) -> BhumSqlUnitOfWork:
        return BhumSqlUnitOfWork(self.session_factory)

    def dispose(self) -> None:
        self.engine.dispose()
