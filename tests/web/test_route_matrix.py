"""The allowed/forbidden matrix: EVERY route of the served app (API and pages) visited by EVERY role, and
by nobody, with the expected status declared below. A route that is not in ``MATRIX`` fails
``test_matrix_covers_every_route`` — adding a route means deciding here who may use it.

API routes are called with a bearer token, pages with the session cookie of a real sign-in. Allowed
answers are the route's success status; forbidden ones 403 (role or scope, audited); anonymous ones
401 for the API and a 303 to the sign-in page for pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from bhum.entrypoints.web import create_web_app
from bhum.entrypoints.web.security import is_web_path
from bhum.services.access import issue_token
from tests.web.conftest import sign_in
from tests.web.world import MEMBER_A, NPI_A, OPM_CASE_A, PENDED_REQUEST, PEOPLE, World

EVERYONE = frozenset(PEOPLE)
PLAN_READERS = frozenset({"intake", "clinical", "physician", "director", "auditor"})
# MEMBER_A is served by ORG-A (prov-own) and on S-CM1's caseload (cm-own): scope, not only role.
MEMBER_A_READERS = PLAN_READERS | {"cm-own", "prov-own"}
MEMBER_READ_ROLE = PLAN_READERS | {"cm-own", "cm-other", "prov-own", "prov-other"}
REPORT_READERS = frozenset({"director", "auditor"})
PROVIDERS = frozenset({"prov-own", "prov-other"})
CASE_MANAGERS = frozenset({"cm-own", "cm-other"})
REVIEWERS = frozenset({"clinical", "physician", "director"})  # request.review / request.approve
SUBMITTERS = frozenset({"intake", *REVIEWERS, *CASE_MANAGERS, *PROVIDERS})  # request.submit
SUBMITTERS_A = SUBMITTERS - {"cm-other", "prov-other"}
AUTH_READERS = PLAN_READERS | CASE_MANAGERS | PROVIDERS  # authorization.read: all but admin
CASE_READERS = PLAN_READERS | CASE_MANAGERS  # case.read
CASE_READERS_A = PLAN_READERS | {"cm-own"}
PUBLIC = None
M = f"/members/{MEMBER_A}"


@dataclass(frozen=True)
class Probe:
    path: str
    allowed: frozenset[str] | None  # None: a public route
    ok: int = 200
    json: dict[str, Any] | None = None
    form: dict[str, Any] | None = None
    extra: dict[str, str] = field(default_factory=dict)


MATRIX: dict[tuple[str, str], Probe] = {
    # --- API (bearer token) ---
    ("GET", "/health"): Probe("/health", PUBLIC),
    ("POST", "/auth/token"): Probe("/auth/token", PUBLIC, 201),
    ("DELETE", "/auth/token"): Probe("/auth/token", EVERYONE, 204),
    ("GET", "/me"): Probe("/me", EVERYONE),
    ("GET", "/users"): Probe("/users", frozenset({"admin"})),
    ("POST", "/users"): Probe(
        "/users", frozenset({"admin"}), 201, json={"display_name": "N", "roles": ["intake"]}
    ),
    ("GET", "/audit"): Probe("/audit", frozenset({"auditor"})),
    ("GET", "/members/{member_id}"): Probe(M, MEMBER_A_READERS),
    # Other engineers' API routes: probed with an empty body or an unknown id, so an allowed caller
    # passes access control and then gets the route's own answer (422 invalid body, 404 unknown id).
    ("POST", "/members/{member_id}/requests"): Probe(f"{M}/requests", SUBMITTERS_A, 422, json={}),
    ("POST", "/requests/evaluate"): Probe("/requests/evaluate", SUBMITTERS, 422, json={}),
    ("GET", "/requests/{request_id}"): Probe("/requests/R-NONE", AUTH_READERS, 404),
    ("POST", "/requests/{request_id}/decision"): Probe("/requests/R-NONE/decision", REVIEWERS, 422, json={}),
    ("POST", "/requests/{request_id}/appeals"): Probe("/requests/R-NONE/appeals", SUBMITTERS, 422, json={}),
    ("POST", "/appeals/{appeal_id}/decision"): Probe("/appeals/AP-NONE/decision", REVIEWERS, 422, json={}),
    ("POST", "/requests/{request_id}/peer-to-peer"): Probe(
        "/requests/R-NONE/peer-to-peer", REVIEWERS, 422, json={}
    ),
    ("GET", "/members/{member_id}/authorization-required"): Probe(
        f"{M}/authorization-required", MEMBER_A_READERS, 422
    ),
    ("GET", "/authorizations/{authorization_id}"): Probe("/authorizations/A-NONE", AUTH_READERS, 404),
    # A case manager sees only their own caseload (the service checks the staff id).
    ("GET", "/caseloads/{staff_id}"): Probe("/caseloads/S-CM1", CASE_READERS_A),
    ("POST", "/members/{member_id}/caseload-assignments"): Probe(
        f"{M}/caseload-assignments", frozenset({"cm-own"}), 422, json={}
    ),
    ("POST", "/members/{member_id}/progress-notes"): Probe(
        f"{M}/progress-notes", frozenset({"cm-own"}), 422, json={}
    ),
    ("POST", "/members/{member_id}/service-plans/check"): Probe(
        f"{M}/service-plans/check", frozenset({"cm-own"}), 422, json={}
    ),
    ("POST", "/members/{member_id}/missed-appointments"): Probe(
        f"{M}/missed-appointments", frozenset({"cm-own"}), 422, json={}
    ),
    ("POST", "/members/{member_id}/monthly-contact-tasks"): Probe(
        f"{M}/monthly-contact-tasks", frozenset({"cm-own"}), 201, json={}
    ),
    ("POST", "/members/{member_id}/service-plans"): Probe(
        f"{M}/service-plans", frozenset({"cm-own"}), 422, json={}
    ),
    ("GET", "/members/{member_id}/service-plans"): Probe(f"{M}/service-plans", CASE_READERS_A),
    ("GET", "/members/{member_id}/service-plans/{plan_id}/versions"): Probe(
        f"{M}/service-plans/SP-NONE/versions", CASE_READERS_A, 404
    ),
    ("POST", "/claims/documentation-audits"): Probe(
        "/claims/documentation-audits", MEMBER_READ_ROLE, 422, json={}
    ),
    ("GET", "/tasks"): Probe("/tasks", CASE_READERS),
    # The route needs case.manage; the service then lets only supervisors escalate (TCM-07/08), and no
    # demo user is a supervisor: everyone is refused.
    ("POST", "/tasks/escalations"): Probe("/tasks/escalations", frozenset(), 200, json={}),
    ("POST", "/members/{member_id}/transition-eligibility"): Probe(
        f"{M}/transition-eligibility", CASE_READERS_A, 422, json={}
    ),
    ("POST", "/members/{member_id}/refusals"): Probe(f"{M}/refusals", frozenset({"cm-own"}), 422, json={}),
    ("GET", "/members/{member_id}/consents"): Probe(f"{M}/consents", CASE_READERS_A),
    ("POST", "/members/{member_id}/consents"): Probe(f"{M}/consents", frozenset({"cm-own"}), 422, json={}),
    ("POST", "/members/{member_id}/consents/{consent_id}/revocation"): Probe(
        f"{M}/consents/CO-NONE/revocation", frozenset({"cm-own"}), 422, json={}
    ),
    ("POST", "/members/{member_id}/disclosures"): Probe(
        f"{M}/disclosures", frozenset({"cm-own"}), 422, json={}
    ),
    ("POST", "/members/{member_id}/coordination-events"): Probe(
        f"{M}/coordination-events", frozenset({"cm-own"}), 422, json={}
    ),
    ("GET", "/members/{member_id}/coordination-tasks"): Probe(f"{M}/coordination-tasks", CASE_READERS_A),
    ("POST", "/members/{member_id}/coordination-tasks/{task_id}/pcp-letter"): Probe(
        f"{M}/coordination-tasks/T-NONE/pcp-letter", frozenset({"cm-own"}), 422, json={}
    ),
    ("GET", "/opm/flags"): Probe("/opm/flags", REVIEWERS),  # opm.run
    ("GET", "/opm/cases"): Probe("/opm/cases", REVIEWERS),
    # The world's cases are not outpatient-program records: allowed callers get 404 (unknown case).
    ("GET", "/opm/members/{member_id}/cases/{case_id}"): Probe(
        f"/opm{M}/cases/C-OPM-0000", CASE_READERS_A, 404
    ),
    ("GET", "/opm/members/{member_id}/cases/{case_id}/letters/{letter_id}"): Probe(
        f"/opm{M}/cases/C-OPM-0000/letters/L-NONE", CASE_READERS_A, 404
    ),
    ("POST", "/opm/members/{member_id}/cases/{case_id}/form"): Probe(
        f"/opm{M}/cases/C-OPM-0000/form", SUBMITTERS_A, 404, json={}
    ),
    ("POST", "/opm/members/{member_id}/cases/{case_id}/determination"): Probe(
        f"/opm{M}/cases/C-OPM-0000/determination", REVIEWERS, 422, json={}
    ),
    ("POST", "/claims/checks"): Probe("/claims/checks", REVIEWERS, 422, json={}),  # claims.check
    ("GET", "/claims/checks/{check_id}/remittance"): Probe(
        "/claims/checks/CK-NONE/remittance", REVIEWERS, 422
    ),
    # A provider user sees only its own organization's NPIs; plan staff see every provider.
    ("GET", "/providers/{npi}/utilization"): Probe(
        f"/providers/{NPI_A}/utilization", PLAN_READERS | {"prov-own"}
    ),
    # --- pages (session cookie) ---
    ("GET", "/"): Probe("/", PUBLIC, 303),
    ("GET", "/web/login"): Probe("/web/login", PUBLIC),
    ("POST", "/web/login"): Probe("/web/login", PUBLIC, 303),
    ("GET", "/web/"): Probe("/web/", EVERYONE),
    ("POST", "/web/logout"): Probe("/web/logout", EVERYONE, 303, form={}),
    ("GET", "/web/members"): Probe("/web/members", MEMBER_READ_ROLE),
    ("GET", "/web/members/{member_id}"): Probe(f"/web/members/{MEMBER_A}", MEMBER_A_READERS),
    ("GET", "/web/audit"): Probe("/web/audit", frozenset({"auditor"})),
    ("GET", "/web/users"): Probe("/web/users", frozenset({"admin"})),
    ("POST", "/web/users"): Probe(
        "/web/users", frozenset({"admin"}), 201, form={"display_name": "N", "role": ["intake"]}
    ),
    ("GET", "/web/dashboards"): Probe("/web/dashboards", REPORT_READERS),
    ("GET", "/web/queue"): Probe("/web/queue", REVIEWERS),
    ("GET", "/web/opm"): Probe("/web/opm", REVIEWERS),  # opm.run
    ("GET", "/web/opm/cases/{case_id}"): Probe(f"/web/opm/cases/{OPM_CASE_A}", REVIEWERS),  # opm.run
    # OPM-06 determination (request.review; the service also requires a clinical reviewer role): an
    # empty form passes access control and is refused naming the missing determination.
    ("POST", "/web/opm/cases/{case_id}/determination"): Probe(
        f"/web/opm/cases/{OPM_CASE_A}/determination", REVIEWERS, 422, form={}
    ),
    ("GET", "/web/caseload"): Probe("/web/caseload", CASE_MANAGERS),  # case.manage, own caseload
    # The portal is for provider users; a form belongs to one organization (checked by the service).
    ("GET", "/web/portal"): Probe("/web/portal", PROVIDERS),
    # Provider portal, phase 2: only provider users (the service refuses other roles holding the permission).
    ("GET", "/web/portal/claims"): Probe("/web/portal/claims", PROVIDERS),
    ("GET", "/web/portal/requests/new"): Probe("/web/portal/requests/new", PROVIDERS),
    ("POST", "/web/portal/requests"): Probe("/web/portal/requests", PROVIDERS, 422, form={}),
    ("GET", "/web/portal/forms/{case_id}"): Probe(f"/web/portal/forms/{OPM_CASE_A}", frozenset({"prov-own"})),
    ("POST", "/web/portal/forms/{case_id}"): Probe(
        f"/web/portal/forms/{OPM_CASE_A}", frozenset({"prov-own"}), 422, form={}
    ),
    # The page declares authorization.read; the service then checks the request's member is in scope.
    ("GET", "/web/requests/{request_id}"): Probe(f"/web/requests/{PENDED_REQUEST}", MEMBER_A_READERS),
    # Forms without their required fields: allowed callers get 422 and nothing is decided.
    ("POST", "/web/requests/{request_id}/decision"): Probe(
        f"/web/requests/{PENDED_REQUEST}/decision", REVIEWERS, 422, form={}
    ),
    ("POST", "/web/requests/{request_id}/appeals"): Probe(
        f"/web/requests/{PENDED_REQUEST}/appeals", SUBMITTERS, 422, form={}
    ),
    ("POST", "/web/requests/{request_id}/peer-to-peer"): Probe(
        f"/web/requests/{PENDED_REQUEST}/peer-to-peer", REVIEWERS, 422, form={}
    ),
}


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for route in app.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
        if method != "HEAD"
    }


@pytest.fixture
def app(world: World) -> FastAPI:
    return create_web_app(world.deps())


def test_matrix_covers_every_route(app: FastAPI) -> None:
    """Every served route has a row in the matrix, and every row is a served route."""
    served = served_routes(app)
    assert sorted(served - MATRIX.keys()) == [], "routes missing from MATRIX: decide who may use them"
    assert sorted(MATRIX.keys() - served) == [], "MATRIX rows for routes that are not served"


def _unique(who: str, body: dict[str, Any], n: int) -> dict[str, Any]:
    return {**body, "username": f"n{n}-{who}".replace("_", "-")}


_counter = iter(range(1_000_000))


def _call(client: TestClient, method: str, probe: Probe, who: str, csrf: str, bearer: str) -> int:
    n = next(_counter)
    web = is_web_path(probe.path)
    headers = {} if web else {"Authorization": f"Bearer {bearer}"}
    if probe.json is not None:
        body = _unique(who, probe.json, n) if probe.json else {}
        response = client.request(method, probe.path, json=body, headers=headers)
    elif probe.form is not None:
        form = dict(probe.form, csrf_token=csrf)
        if "display_name" in form:
            form = _unique(who, form, n)
        response = client.request(method, probe.path, data=form, headers=headers)
    else:
        response = client.request(method, probe.path, headers=headers)
    return int(response.status_code)


@pytest.fixture
def people_clients(world: World, app: FastAPI) -> Iterator[dict[str, tuple[TestClient, str, str]]]:
    """Per role: a client signed in through the form, its CSRF token and a bearer token."""
    clients: dict[str, tuple[TestClient, str, str]] = {}
    for who in PEOPLE:
        client = TestClient(app, follow_redirects=False)
        csrf = sign_in(client, who)
        bearer = issue_token(
            world.uow(), actor="system:test", username=who, label="matrix", now=world.clock(),
            ttl=timedelta(hours=1),
        ).token  # fmt: skip
        clients[who] = (client, csrf, bearer)
    yield clients
    for client, _, _ in clients.values():
        client.close()


@pytest.mark.parametrize("who", sorted(PEOPLE))
def test_every_route_with_every_role(
    who: str, people_clients: dict[str, tuple[TestClient, str, str]]
) -> None:
    """Role and scope decide: success status when allowed, 403 otherwise (public routes answer all)."""
    client, csrf, bearer = people_clients[who]
    expected: dict[tuple[str, str], int] = {}
    got: dict[tuple[str, str], int] = {}
    # Sign-out and token revocation end the session under test: run them last.
    order = sorted(MATRIX, key=lambda k: k in {("POST", "/web/logout"), ("DELETE", "/auth/token")})
    for key in order:
        method, _ = key
        probe = MATRIX[key]
        if probe.allowed is PUBLIC:
            continue  # public routes are checked by test_public_routes
        expected[key] = probe.ok if who in probe.allowed else 403
        got[key] = _call(client, method, probe, who, csrf, bearer)
    assert got == expected


def test_public_routes(client: TestClient) -> None:
    assert client.get("/health").status_code == 200
    assert client.get("/").headers["location"] == "/web/"
    assert client.get("/web/login").status_code == 200
    assert client.post("/auth/token", json={"username": "admin", "password": "x"}).status_code == 401


@pytest.mark.parametrize("key", sorted(k for k, p in MATRIX.items() if p.allowed is not PUBLIC))
def test_anonymous_is_refused_everywhere(client: TestClient, key: tuple[str, str]) -> None:
    """No credential: the API answers 401, a page sends the visitor to sign in (303) and acts on nothing."""
    method, _ = key
    probe = MATRIX[key]
    response = client.request(method, probe.path, data=probe.form, json=probe.json)
    if is_web_path(probe.path):
        if method == "POST":
            # A POST page checks CSRF as well: without a session either refusal is a refusal.
            assert response.status_code in {303, 403}
        else:
            assert response.status_code == 303
            assert response.headers["location"].startswith("/web/login")
    else:
        assert response.status_code == 401
