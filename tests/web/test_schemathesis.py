"""schemathesis against the served app's OpenAPI schema (API routes; pages are not in the schema):
generated requests with a medical director's bearer token must never cause a server error, and
successful answers must match their documented schema. Examples are bounded so the run stays short."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from bhum.entrypoints.web import create_web_app
from bhum.services.access import issue_token
from tests.web.world import World, build_world

_state: dict[str, object] = {}


def _world() -> World:
    if "world" not in _state:
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="bhum-schemathesis-"))
        world = build_world(f"sqlite:///{folder / 'bhum.sqlite3'}", data_dir=folder)
        _state["world"] = world
        _state["token"] = issue_token(
            world.uow(), actor="system:test", username="director", label="schemathesis", now=world.clock(),
            ttl=timedelta(days=1),
        ).token  # fmt: skip
    found = _state["world"]
    assert isinstance(found, World)
    return found


schema = schemathesis.openapi.from_asgi("/openapi.json", create_web_app(_world().deps()))


@pytest.fixture(scope="module", autouse=True)
def _dispose() -> Iterator[None]:
    yield
    _world().store.dispose()


@schema.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {_state['token']}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
