"""Alembic, configured in code so `bhum db upgrade` works from any working directory."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData

from bhum.adapters.store.engine import create_engine_for

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def all_tables() -> MetaData:
    """The metadata with every row class of the store, wherever in the package it is declared
    (``tables.py`` and feature modules such as ``care_management.py``)."""
    from bhum.adapters import store
    from bhum.adapters.store.tables import Base

    for module in pkgutil.iter_modules(store.__path__):
        if module.name != "migrations":
            importlib.import_module(f"{store.__name__}.{module.name}")
    return Base.metadata


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Run the migrations up to ``revision`` (head by default)."""
    engine = create_engine_for(url)
    try:
        upgrade_engine(engine, revision)
    finally:
        engine.dispose()


def upgrade_engine(engine: Engine, revision: str = "head") -> None:
    config = alembic_config()
    with engine.begin() as connection:
        # env.py uses this connection rather than building its own from a URL.
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current(url: str) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
