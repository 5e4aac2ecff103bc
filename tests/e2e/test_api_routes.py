"""Every API route declares the permission (and member scope) it needs; only whitelisted routes are
public. The check walks ``app.routes``, so a new undeclared route fails here and at start-up."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute

from bhum.adapters.passwords import Argon2PasswordHasher
from bhum.config import Settings
from bhum.domain.access import Permission
from bhum.entrypoints.api.app import create_app
from bhum.entrypoints.api.dependencies import ApiDependencies
from bhum.entrypoints.api.security import (
    PUBLIC_ROUTES,
    RouteAccess,
    check_declarations,
    public,
    requires,
    route_access,
    undeclared_routes,
)
from tests.fakes import FakeDatabase, FakeMembers

# The access each route must declare. Adding a route means adding it here, on purpose.
EXPECTED: dict[tuple[str, str], RouteAccess | None] = {
    ("GET", "/health"): None,
    ("POST", "/auth/token"): None,
    ("DELETE", "/auth/token"): RouteAccess(Permission.ACCOUNT_SELF),
    ("GET", "/me"): RouteAccess(Permission.ACCOUNT_SELF),
    ("GET", "/users"): RouteAccess(Permission.USERS_MANAGE),
    ("POST", "/users"): RouteAccess(Permission.USERS_MANAGE),
    ("GET", "/audit"): RouteAccess(Permission.AUDIT_READ),
    ("GET", "/members/{member_id}"): RouteAccess(Permission.MEMBER_READ, member_param="member_id"),
    # Case management, consent and coordination of care (TCM-05..12, COC-01..04, REG-06).
    ("GET", "/caseloads/{staff_id}"): RouteAccess(Permission.CASE_READ),
    ("GET", "/tasks"): RouteAccess(Permission.CASE_READ),
    ("POST", "/tasks/escalations"): RouteAccess(Permission.CASE_MANAGE),
    **{
        ("POST", f"/members/{{member_id}}/{tail}"): RouteAccess(
            Permission.CASE_MANAGE, member_param="member_id"
        )
        for tail in (
            "caseload-assignments",
            "progress-notes",
            "service-plans/check",
            "service-plans",
            "missed-appointments",
            "monthly-contact-tasks",
            "refusals",
            "consents",
            "consents/{consent_id}/revocation",
            "disclosures",
            "coordination-events",
            "coordination-tasks/{task_id}/pcp-letter",
        )
    },
    **{
        (method, f"/members/{{member_id}}/{tail}"): RouteAccess(
            Permission.CASE_READ, member_param="member_id"
        )
        for method, tail in (
            ("POST", "transition-eligibility"),
            ("GET", "consents"),
            ("GET", "coordination-tasks"),
            ("GET", "service-plans"),
            ("GET", "service-plans/{plan_id}/versions"),
        )
    },
    # Preauthorization and concurrent review (OPM-01/02, IOP-*, MN-*, REG-01/03/04).
    ("POST", "/members/{member_id}/requests"): RouteAccess(
        Permission.REQUEST_SUBMIT, member_param="member_id"
    ),
    ("POST", "/requests/evaluate"): RouteAccess(Permission.REQUEST_SUBMIT),
    ("GET", "/requests/{request_id}"): RouteAccess(Permission.AUTHORIZATION_READ),
    ("POST", "/requests/{request_id}/decision"): RouteAccess(Permission.REQUEST_APPROVE),
    ("POST", "/requests/{request_id}/appeals"): RouteAccess(Permission.REQUEST_SUBMIT),
    ("POST", "/appeals/{appeal_id}/decision"): RouteAccess(Permission.REQUEST_REVIEW),
    ("POST", "/requests/{request_id}/peer-to-peer"): RouteAccess(Permission.REQUEST_REVIEW),
    ("GET", "/members/{member_id}/authorization-required"): RouteAccess(
        Permission.AUTHORIZATION_READ, member_param="member_id"
    ),
    ("GET", "/authorizations/{authorization_id}"): RouteAccess(Permission.AUTHORIZATION_READ),
    # Focused outpatient management (OPM-03..08).
    ("GET", "/opm/flags"): RouteAccess(Permission.OPM_RUN),
    ("GET", "/opm/cases"): RouteAccess(Permission.OPM_RUN),
    ("GET", "/opm/members/{member_id}/cases/{case_id}"): RouteAccess(
        Permission.CASE_READ, member_param="member_id"
    ),
    ("GET", "/opm/members/{member_id}/cases/{case_id}/letters/{letter_id}"): RouteAccess(
        Permission.CASE_READ, member_param="member_id"
    ),
    ("POST", "/opm/members/{member_id}/cases/{case_id}/form"): RouteAccess(
        Permission.REQUEST_SUBMIT, member_param="member_id"
    ),
    ("POST", "/opm/members/{member_id}/cases/{case_id}/determination"): RouteAccess(
        Permission.REQUEST_REVIEW, member_param="member_id"
    ),
    # Claim checks, remittance and the provider's utilization view (TCM-01..04, IOP-02/04, MN-04).
    ("POST", "/claims/checks"): RouteAccess(Permission.CLAIMS_CHECK),
    ("GET", "/claims/checks/{check_id}/remittance"): RouteAccess(Permission.CLAIMS_CHECK),
    ("GET", "/providers/{npi}/utilization"): RouteAccess(Permission.AUTHORIZATION_READ),
    # Documentation audit (MN-05 over TCM-09/TCM-10); scope checked per session inside the route.
    ("POST", "/claims/documentation-audits"): RouteAccess(Permission.MEMBER_READ),
}


def build() -> FastAPI:
    members = FakeMembers()
    return create_app(
        ApiDependencies(
            uow_factory=FakeDatabase().unit_of_work,
            clock=lambda: datetime(2026, 3, 2, tzinfo=UTC),
            settings=Settings.from_env({}),
            password_hasher=Argon2PasswordHasher.fast_for_tests(),
            members=lambda _: members,
            scopes=lambda _: members,
        )
    )


def test_every_route_declares_its_access() -> None:
    app = build()
    assert undeclared_routes(app) == []
    declared: dict[tuple[str, str], RouteAccess | None] = {}
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        (found,) = route_access(route)
        for method in route.methods or ():
            declared[(method, route.path)] = found if isinstance(found, RouteAccess) else None
    assert declared == EXPECTED
    assert {k for k, v in declared.items() if v is None} == set(PUBLIC_ROUTES)


def test_member_routes_carry_member_scope() -> None:
    for (_, path), access in EXPECTED.items():
        if access is not None and "{member_id}" in path:
            assert access.member_param == "member_id"


def test_an_undeclared_route_is_caught() -> None:
    app = build()

    @app.get("/members/{member_id}/secrets")
    def leak(member_id: str) -> dict[str, str]:
        return {}

    problems = undeclared_routes(app)
    assert problems == ["GET /members/{member_id}/secrets: 0 access declarations (need exactly one)"]
    with pytest.raises(RuntimeError, match="secrets"):
        check_declarations(app)


def test_public_marker_off_the_whitelist_is_caught() -> None:
    app = FastAPI()

    @app.get("/members", dependencies=[Depends(public)])
    def everyone() -> list[str]:
        return []

    assert undeclared_routes(app) == ["GET /members: public but not on PUBLIC_ROUTES"]


def test_member_scope_must_name_a_path_parameter() -> None:
    app = FastAPI()

    @app.get("/members/{id}")
    def one(id: str, _: object = Depends(requires(Permission.MEMBER_READ, member_param="member_id"))) -> None:
        return None

    assert undeclared_routes(app) == ["GET /members/{id}: member_param 'member_id' is not a path parameter"]


def test_two_declarations_are_ambiguous() -> None:
    app = FastAPI()

    @app.get("/x", dependencies=[Depends(public), Depends(requires(Permission.PACKS_READ))])
    def x() -> None:
        return None

    assert undeclared_routes(app) == ["GET /x: 2 access declarations (need exactly one)"]
