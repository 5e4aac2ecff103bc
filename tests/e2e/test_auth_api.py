"""The authorization API end to end (TestClient over a SQLite store): submit with member scope,
evaluate without storing, REG-04 on denial, appeal by another reviewer, peer-to-peer, the
authorization's history, "is authorization required?", field-naming errors and audit rows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bhum.adapters.passwords import Argon2PasswordHasher
from bhum.adapters.store import SqlStore, upgrade
from bhum.adapters.store.auth_records import AuthSqlUnitOfWork
from bhum.config import Settings
from bhum.domain.access import Role, User
from bhum.entrypoints.api.app import create_app
from bhum.entrypoints.api.dependencies import ApiDependencies
from bhum.policy import load_packs
from bhum.services.access import issue_token
from bhum.services.directory import UowMemberDirectory, UowScopeResolver
from bhum.services.unit_of_work import UnitOfWork
from tests.integration.test_auth_engine import EXAMPLES, REPO, seed

NOW = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
OUTSIDER = User("u-prov", "outsider", "Other Org", frozenset({Role.PROVIDER_USER}), organization_id="O-OTHER")


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, SqlStore, dict[str, str]]]:
    url = f"sqlite:///{tmp_path / 'bhum.sqlite3'}"
    upgrade(url)
    store = SqlStore(url)
    seed(store)
    with store.unit_of_work() as uow:
        uow.users.add(OUTSIDER, None)
        uow.commit()

    def factory() -> UnitOfWork:
        return AuthSqlUnitOfWork(store.session_factory)

    tokens = {
        name: issue_token(factory(), actor="system:test", username=name, label="test", now=NOW).token
        for name in ("rn", "doc", "doc2", "outsider")
    }
    settings = Settings.from_env(
        {"BHUM_DATA_DIR": str(tmp_path), "BHUM_DATABASE_URL": url, "BHUM_PACKS_DIR": str(REPO / "packs")}
    )
    registry = load_packs(REPO / "packs")
    deps = ApiDependencies(
        uow_factory=factory,
        clock=lambda: NOW,
        settings=settings,
        password_hasher=Argon2PasswordHasher.fast_for_tests(),
        members=UowMemberDirectory,
        scopes=UowScopeResolver,
        packs=lambda: registry,  # as the composition root wires it (api/main.py dependencies_for)
    )
    try:
        yield TestClient(create_app(deps)), store, tokens
    finally:
        store.dispose()


def body(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return doc


def h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_request_lifecycle_through_the_api(api: tuple[TestClient, SqlStore, dict[str, str]]) -> None:
    client, store, t = api
    r = client.post("/members/SYN-M-0001/requests", json=body("iop-initial-pend.json"), headers=h(t["rn"]))
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "pended"
    assert r.json()["determination"]["open_criteria"] == ["iop.weekly-hours", "iop.physical-exam"]

    denial = {
        "outcome": "denied",
        "reasons": [{"rule_id": "IOP-05", "text": "6 weekly hours; adults need 9"}],
    }
    r = client.post("/requests/REQ-IOP-0002/decision", json=denial, headers=h(t["rn"]))
    assert r.status_code == 403  # REG-04: a clinical reviewer cannot deny
    r = client.post("/requests/REQ-IOP-0002/decision", json=denial, headers=h(t["doc"]))
    assert r.status_code == 200 and r.json()["outcome"] == "denied"
    again = client.post("/requests/REQ-IOP-0002/decision", json=denial, headers=h(t["doc"]))
    assert again.status_code == 409  # decided once; the lifecycle refuses a second decision

    r = client.post(
        "/requests/REQ-IOP-0002/peer-to-peer", json={"outcome": "decision_upheld"}, headers=h(t["doc"])
    )
    assert r.status_code == 200 and r.json()["outcome"] == "decision_upheld"
    r = client.post(
        "/requests/REQ-IOP-0002/appeals", json={"reason": "now 9 hours a week"}, headers=h(t["rn"])
    )
    assert r.status_code == 201
    appeal_id = r.json()["appeal_id"]
    r = client.post(f"/appeals/{appeal_id}/decision", json={"outcome": "overturned"}, headers=h(t["doc"]))
    assert r.status_code == 403  # the same reviewer may not re-review
    r = client.post(f"/appeals/{appeal_id}/decision", json={"outcome": "overturned"}, headers=h(t["doc2"]))
    assert r.status_code == 200

    shown = client.get("/requests/REQ-IOP-0002", headers=h(t["rn"])).json()
    assert shown["status"] == "approved"
    assert shown["due"]["rule_id"] == "REG-01"
    assert shown["peer_to_peer"][0]["outcome"] == "decision_upheld"
    kinds = sorted({letter["kind"] for letter in shown["letters"]})
    assert kinds == ["appeal_decision", "authorization_denial", "request_for_information"]
    first = client.get("/authorizations/AUTH-REQ-IOP-0002", headers=h(t["rn"])).json()
    assert [x["to"] for x in first["history"]] == ["requested", "pended", "denied"]

    with store.unit_of_work() as uow:
        events = uow.audit.list(member_id="SYN-M-0001")
    entities = {(e.action.value, e.entity_type) for e in events}
    assert {
        ("create", "service_request"),
        ("update", "service_request"),
        ("read", "authorization"),
    } <= entities


def test_member_scope_and_field_errors(api: tuple[TestClient, SqlStore, dict[str, str]]) -> None:
    client, store, t = api
    r = client.post(
        "/members/SYN-M-0001/requests", json=body("iop-initial-approve.json"), headers=h(t["outsider"])
    )
    assert r.status_code == 403  # the member is not served by the provider user's organization
    bad = body("iop-initial-approve.json")
    bad["clinical"]["diagnoses"] = [{"system": "cpt", "code": "90834"}]
    r = client.post("/members/SYN-M-0001/requests", json=bad, headers=h(t["rn"]))
    assert r.status_code == 422
    assert r.json()["fields"][0]["field"] == "clinical.diagnoses[0].system"
    mismatch = body("iop-initial-approve.json")
    r = client.post("/members/SYN-M-0004/requests", json=mismatch, headers=h(t["rn"]))
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "member.member_id"
    with store.unit_of_work() as uow:
        assert uow.service_requests.count() == 0


def test_evaluate_and_required(api: tuple[TestClient, SqlStore, dict[str, str]]) -> None:
    client, store, t = api
    r = client.post("/requests/evaluate", json=body("iop-initial-approve.json"), headers=h(t["rn"]))
    assert r.status_code == 200 and r.json()["outcome"] == "approve"
    r = client.get(
        "/members/SYN-M-0001/authorization-required",
        params={
            "provider_npi": "1234567893",
            "service_system": "revenue",
            "service_code": "0905",
            "date": "2026-03-09",
        },
        headers=h(t["rn"]),
    )
    assert r.status_code == 200
    assert (r.json()["required"], r.json()["rule_id"]) == (True, "OPM-01")
    with store.unit_of_work() as uow:
        assert uow.service_requests.count() == 0
