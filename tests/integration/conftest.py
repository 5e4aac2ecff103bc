"""Store fixtures: every integration test runs on SQLite (a tmp file) and on PostgreSQL.

PostgreSQL comes from BHUM_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test).
Unset or unreachable: the PostgreSQL case skips with the reason locally and fails when CI=true. Each
test gets its own schema (``bhum_test_<random>``, via search_path), dropped afterwards, so pytest-xdist
workers never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bhum.sqlite3'}"
        return
    base = os.environ.get(POSTGRES_ENV, "")
    require(bool(base), f"{POSTGRES_ENV} is not set (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    problem = _postgres_problem(base)
    require(problem is None, problem or "")
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


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    """A migrated, empty store."""
    upgrade(store_url)
    sql_store = SqlStore(store_url)
    try:
        yield sql_store
    finally:
        sql_store.dispose()
