"""Store fixtures: every integration test runs on SQLite (a tmp file) and on PostgreSQL.

PostgreSQL comes from BHUM_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test).
Unset or unreachable: the PostgreSQL case skips with the reason locally and fails when CI=true.
PostgreSQL runs in schemas of their own (``bhum_test_<random>``, via search_path), dropped afterwards,
so pytest-xdist workers never see each other's rows: ``store_url`` is a new empty schema per test
(for migration tests); ``store`` is one migrated schema per session, emptied before each test. On
SQLite ``store`` copies a database file migrated once per session.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bhum.adapters.store import SqlStore, upgrade
from tests.conftest import require

POSTGRES_ENV = "BHUM_TEST_POSTGRES_URL"
_reachable: dict[str, str | None] = {}


def _postgres_problem(url: str) -> str | None:
    """None when the server answers, else why not (checked once per session)."""
    if url not in _reachable:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            _reachable[url] = None
        except OperationalError as exc:
            where = make_url(url).render_as_string(hide_password=True)
            _reachable[url] = f"PostgreSQL at {where} is unreachable: {exc.orig}"
        finally:
            engine.dispose()
    return _reachable[url]


def _postgres_base() -> str:
    base = os.environ.get(POSTGRES_ENV, "")
    require(bool(base), f"{POSTGRES_ENV} is not set (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    problem = _postgres_problem(base)
    require(problem is None, problem or "")
    return base


@contextmanager
def _fresh_schema(base: str) -> Iterator[str]:
    """A URL whose connections work in a new, empty schema; the schema is dropped afterwards."""
    schema = f"bhum_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (nothing migrated) for migration tests."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bhum.sqlite3'}"
        return
    with _fresh_schema(_postgres_base()) as url:
        yield url


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated once per session; each test gets a copy of the file."""
    path = tmp_path_factory.mktemp("template") / "bhum.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _migrated_postgres() -> Iterator[str]:
    """One migrated schema per session (per xdist worker); tests empty it before they start."""
    with _fresh_schema(_postgres_base()) as url:
        upgrade(url)
        yield url


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            tables = connection.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                    "AND tablename <> 'alembic_version'"
                )
            ).scalars()
            names = ", ".join(f'"{t}"' for t in tables)
            if names:
                # TRUNCATE is not an UPDATE/DELETE: the audit append-only triggers do not fire.
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """A migrated, empty store."""
    if request.param == "sqlite":
        path = tmp_path / "bhum.sqlite3"
        shutil.copyfile(request.getfixturevalue("_migrated_sqlite"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("_migrated_postgres")
        _empty_postgres(url)
    sql_store = SqlStore(url)
    try:
        yield sql_store
    finally:
        sql_store.dispose()
