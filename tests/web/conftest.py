"""Workbench fixtures: a seeded SQLite world and a TestClient over the API + pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bhum.entrypoints.web import create_web_app
from tests.web.world import PASSWORD, World, build_world

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder: Path = tmp_path_factory.mktemp("web")
    built = build_world(f"sqlite:///{folder / 'bhum.sqlite3'}", data_dir=folder)
    yield built
    built.store.dispose()


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_web_app(world.deps()), follow_redirects=False) as c:
        yield c


def csrf_of(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the session's CSRF token (read from the home page)."""
    form = client.get("/web/login")
    assert form.status_code == 200
    response = client.post(
        "/web/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(form.text), "next": "/web/"},
    )
    assert response.status_code == 303, response.text
    home = client.get("/web/")
    assert home.status_code == 200
    return csrf_of(home.text)
