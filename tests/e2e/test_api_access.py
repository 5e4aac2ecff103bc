"""The API's access control end to end (TestClient over the in-memory store): the allowed/forbidden
matrix of every route for every role, sign-in, token expiry and revocation, audit rows for reads and
refusals, and error bodies that never echo member data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from bhum.adapters.passwords import Argon2PasswordHasher
from bhum.config import Settings
from bhum.domain.access import AuditAction, Role
from bhum.entrypoints.api.app import create_app
from bhum.entrypoints.api.dependencies import ApiDependencies
from bhum.services.access import create_user, issue_token
from tests.fakes import FakeDatabase, FakeMembers, MutableClock

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
MEMBER = "M00012345"  # served by ORG-A, on case manager S-CM1's caseload

# Test users: name -> (roles, organization, staff id)
PEOPLE: dict[str, tuple[tuple[Role, ...], str | None, str | None]] = {
    "intake": ((Role.INTAKE,), None, None),
    "clinical": ((Role.CLINICAL_REVIEWER,), None, "S-RN1"),
    "physician": ((Role.PHYSICIAN_REVIEWER,), None, "S-MD1"),
    "director": ((Role.MEDICAL_DIRECTOR,), None, "S-MD2"),
    "cm_own": ((Role.CASE_MANAGER,), None, "S-CM1"),
    "cm_other": ((Role.CASE_MANAGER,), None, "S-CM2"),
    "cm_supervisor": ((Role.CM_SUPERVISOR,), None, "S-SUP1"),
    "prov_own": ((Role.PROVIDER_USER,), "ORG-A", None),
    "prov_other": ((Role.PROVIDER_USER,), "ORG-B", None),
    "auditor": ((Role.AUDITOR,), None, None),
    "admin": ((Role.ADMIN,), None, None),
}


@dataclass
class Api:
    client: TestClient
    db: FakeDatabase
    clock: MutableClock
    tokens: dict[str, str]
    ids: dict[str, str]

    def get(self, path: str, who: str | None) -> int:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return int(self.client.get(path, headers=headers).status_code)

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def api() -> Iterator[Api]:
    db = FakeDatabase()
    members = FakeMembers()
    members.add(
        MEMBER, "Augusta", "Byron", date(1815, 12, 10), organizations=["ORG-A"], case_managers=["S-CM1"]
    )
    members.add("M00077777", "Charles", "Babbage", date(1791, 12, 26), organizations=["ORG-B"])
    clock = MutableClock(START)
    hasher = Argon2PasswordHasher.fast_for_tests()
    tokens: dict[str, str] = {}
    ids: dict[str, str] = {}
    for name, (roles, org, staff) in PEOPLE.items():
        user = create_user(
            db.unit_of_work(),
            actor="system:test",
            username=name.replace("_", "-"),
            display_name=name,
            roles=roles,
            password=PASSWORD,
            hasher=hasher,
            now=START,
            organization_id=org,
            staff_id=staff,
        )
        ids[name] = user.id
        tokens[name] = issue_token(
            db.unit_of_work(), actor="system:test", username=user.username, label="test", now=START,
            ttl=timedelta(hours=8),
        ).token  # fmt: skip
    deps = ApiDependencies(
        uow_factory=db.unit_of_work,
        clock=clock,
        settings=Settings.from_env({}),
        password_hasher=hasher,
        members=lambda _: members,
        scopes=lambda _: members,
    )
    with TestClient(create_app(deps)) as client:
        yield Api(client, db, clock, tokens, ids)


MEMBER_READERS = {
    "intake", "clinical", "physician", "director", "cm_own", "cm_supervisor", "prov_own", "auditor"
}  # fmt: skip


@pytest.mark.parametrize("who", sorted(PEOPLE))
def test_route_role_matrix(api: Api, who: str) -> None:
    """Every route x every role: 200/201 when the role and scope allow it, 403 otherwise."""
    new_user = {"username": f"new-{who}".replace("_", "-"), "display_name": "N", "roles": ["intake"]}
    expected = {
        ("GET", "/me"): 200,
        ("GET", "/users"): 200 if who == "admin" else 403,
        ("POST", "/users"): 201 if who == "admin" else 403,
        ("GET", "/audit"): 200 if who == "auditor" else 403,
        ("GET", f"/members/{MEMBER}"): 200 if who in MEMBER_READERS else 403,
    }
    got = {}
    for method, path in expected:
        body = new_user if method == "POST" else None
        got[(method, path)] = api.client.request(method, path, json=body, headers=api.auth(who)).status_code
    assert got == expected


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/me"), ("GET", "/users"), ("POST", "/users"), ("GET", "/audit"), ("GET", f"/members/{MEMBER}")],
)
def test_every_protected_route_needs_a_valid_token(api: Api, method: str, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic cmV2OnB3"}):
        response = api.client.request(method, path, headers=headers, json={})
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"] == "unauthenticated"


def test_public_routes(api: Api) -> None:
    assert api.client.get("/health").json() == {"status": "ok"}
    assert api.client.get("/openapi.json").status_code == 200


def test_sign_in_issues_a_token_that_works_once_signed_out_it_does_not(api: Api) -> None:
    response = api.client.post(
        "/auth/token", json={"username": "clinical", "password": PASSWORD, "label": "ui"}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_at"].startswith("2026-04-01")
    headers = {"Authorization": f"Bearer {body['token']}"}
    me = api.client.get("/me", headers=headers).json()
    assert me["username"] == "clinical" and "request.review" in me["permissions"]
    assert "request.deny" not in me["permissions"]  # REG-04
    assert api.client.delete("/auth/token", headers=headers).status_code == 204
    assert api.client.get("/me", headers=headers).status_code == 401
    assert api.get("/me", "clinical") == 200  # the other token of the same user still works


@pytest.mark.parametrize(("username", "password"), [("clinical", "wrong password!!"), ("nobody", PASSWORD)])
def test_failed_sign_in_is_401_with_one_message_and_audited(api: Api, username: str, password: str) -> None:
    response = api.client.post("/auth/token", json={"username": username, "password": password})
    assert response.status_code == 401
    assert response.json() == {"error": "unauthenticated", "message": "invalid username or password"}
    last = api.db.audit[-1]
    assert last.action is AuditAction.LOGIN and last.detail["outcome"] == "failed"


def test_token_expiry(api: Api) -> None:
    api.clock.advance(timedelta(hours=8) - timedelta(seconds=1))
    assert api.get("/me", "intake") == 200
    api.clock.advance(timedelta(seconds=1))
    assert api.get("/me", "intake") == 401


def test_member_read_is_audited(api: Api) -> None:
    response = api.client.get(f"/members/{MEMBER}", headers=api.auth("prov_own"))
    assert response.json() == {
        "member_id": MEMBER,
        "first_name": "Augusta",
        "last_name": "Byron",
        "birth_date": "1815-12-10",
        "plan_id": "PLAN-A",
    }
    last = api.db.audit[-1]
    assert (last.action, last.actor, last.member_id, last.entity_type, last.reason) == (
        AuditAction.READ,
        api.ids["prov_own"],
        MEMBER,
        "member",
        "GET /members/{member_id}",
    )


def test_provider_from_another_organization_is_refused_audited_and_told_nothing(api: Api) -> None:
    before = len(api.db.audit)
    response = api.client.get(f"/members/{MEMBER}", headers=api.auth("prov_other"))
    assert response.status_code == 403
    assert MEMBER not in response.text and "Augusta" not in response.text
    new = api.db.audit[before:]
    assert [(e.action, e.actor, e.member_id) for e in new] == [
        (AuditAction.REFUSE, api.ids["prov_other"], MEMBER)
    ]
    assert new[0].detail["permission"] == "member.read"


def test_role_refusal_on_a_route_is_audited(api: Api) -> None:
    assert api.get("/audit", "clinical") == 403
    last = api.db.audit[-1]
    assert (last.action, last.entity_type, last.entity_id) == (AuditAction.REFUSE, "route", "/audit")


def test_unknown_member_is_404_for_plan_staff_and_403_for_a_provider(api: Api) -> None:
    response = api.client.get("/members/M00099999", headers=api.auth("clinical"))
    assert response.status_code == 404
    assert "M00099999" not in response.text
    assert api.get("/members/M00099999", "prov_own") == 403  # no existence leak outside scope


def test_auditor_lists_the_trail_filtered_by_member(api: Api) -> None:
    api.get(f"/members/{MEMBER}", "clinical")
    api.get(f"/members/{MEMBER}", "prov_other")
    rows = api.client.get("/audit", params={"member_id": MEMBER}, headers=api.auth("auditor")).json()
    assert [(r["action"], r["actor"]) for r in rows] == [
        ("read", api.ids["clinical"]),
        ("refuse", api.ids["prov_other"]),
    ]
    last = api.db.audit[-1]
    assert last.actor == api.ids["auditor"] and last.entity_type == "audit_log"


def test_validation_errors_name_fields_without_echoing_values(api: Api) -> None:
    payload = {"username": "x", "display_name": "1990-04-02 Augusta Byron", "roles": ["wizard"]}
    response = api.client.post("/users", json=payload, headers=api.auth("admin"))
    assert response.status_code == 422
    body = response.json()
    fields = {f["field"] for f in body["fields"]}
    assert {"body.username", "body.roles.0"} <= fields
    assert "Augusta" not in response.text and "wizard" not in response.text


def test_service_input_errors_are_422_with_the_field(api: Api) -> None:
    payload = {"username": "prov-new", "display_name": "P", "roles": ["provider_user"]}
    response = api.client.post("/users", json=payload, headers=api.auth("admin"))
    assert response.status_code == 422
    assert response.json()["fields"] == [
        {"field": "organization_id", "message": "a provider user must name its organization"}
    ]


def test_admin_creates_and_lists_users(api: Api) -> None:
    payload = {
        "username": "prov-new",
        "display_name": "New provider",
        "roles": ["provider_user"],
        "organization_id": "ORG-C",
        "password": "a very long password",
    }
    created = api.client.post("/users", json=payload, headers=api.auth("admin"))
    assert created.status_code == 201 and created.json()["organization_id"] == "ORG-C"
    assert "password" not in created.json()
    names = [u["username"] for u in api.client.get("/users", headers=api.auth("admin")).json()]
    assert "prov-new" in names and names == sorted(names)
    signed_in = api.client.post(
        "/auth/token", json={"username": "prov-new", "password": "a very long password"}
    )
    assert signed_in.status_code == 201


def test_unknown_route_is_404_json(api: Api) -> None:
    response = api.client.get("/nowhere")
    assert response.status_code == 404 and response.json()["error"] == "not_found"
