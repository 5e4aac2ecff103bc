"""Role -> permission -> scope tables and the pure access decision."""

from __future__ import annotations

from datetime import date

import pytest

from bhum.domain.access import (
    ROLE_PERMISSIONS,
    ROLE_SCOPES,
    Permission,
    Role,
    ScopeKind,
    User,
    permissions_of,
    scopes_for,
)
from bhum.domain.errors import PermissionDenied
from bhum.services.access import authorize, decide
from tests.fakes import FakeMembers


def user(*roles: Role, org: str | None = None, staff: str | None = None, active: bool = True) -> User:
    return User(
        id="u-" + "-".join(r.value for r in roles),
        username="someone",
        display_name="Someone",
        roles=frozenset(roles),
        organization_id=org,
        staff_id=staff,
        active=active,
    )


@pytest.fixture
def members() -> FakeMembers:
    m = FakeMembers()
    m.add("M1", "Ada", "Lovelace", date(1990, 4, 2), organizations=["ORG-A"], case_managers=["S-CM1"])
    m.add("M2", "Bo", "Diddley", date(1985, 1, 1), organizations=["ORG-B"], case_managers=["S-CM2"])
    return m


def test_every_role_has_permissions_and_a_scope() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert set(ROLE_SCOPES) == set(Role)
    for role in Role:
        assert Permission.ACCOUNT_SELF in ROLE_PERMISSIONS[role]


def test_reg04_only_physician_reviewers_and_medical_directors_may_deny() -> None:
    """REG-04: medical-necessity denials only by appropriately licensed reviewers."""
    deniers = {r for r in Role if Permission.REQUEST_DENY in ROLE_PERMISSIONS[r]}
    assert deniers == {Role.PHYSICIAN_REVIEWER, Role.MEDICAL_DIRECTOR}
    assert not decide(user(Role.CLINICAL_REVIEWER), Permission.REQUEST_DENY).allowed
    assert decide(user(Role.PHYSICIAN_REVIEWER), Permission.REQUEST_DENY).allowed
    # A clinical reviewer may still approve (REG-04 allows automatic/non-physician approvals).
    assert decide(user(Role.CLINICAL_REVIEWER), Permission.REQUEST_APPROVE).allowed


def test_auditor_reads_everything_and_changes_nothing() -> None:
    granted = ROLE_PERMISSIONS[Role.AUDITOR]
    assert Permission.AUDIT_READ in granted
    assert Permission.MEMBER_READ in granted
    assert not [p for p in granted if p.changes_data]
    assert ROLE_SCOPES[Role.AUDITOR] is ScopeKind.ALL


def test_admin_manages_users_but_has_no_member_data() -> None:
    admin = user(Role.ADMIN)
    assert decide(admin, Permission.USERS_MANAGE).allowed
    assert ROLE_SCOPES[Role.ADMIN] is ScopeKind.NONE
    assert not [p for p in ROLE_PERMISSIONS[Role.ADMIN] if p.touches_member_data]
    assert not decide(admin, Permission.MEMBER_READ).allowed
    assert not decide(admin, Permission.AUDIT_READ).allowed


def test_only_admins_manage_users() -> None:
    assert {r for r in Role if Permission.USERS_MANAGE in ROLE_PERMISSIONS[r]} == {Role.ADMIN}


def test_plan_staff_reach_every_member(members: FakeMembers) -> None:
    for role in (Role.INTAKE, Role.CLINICAL_REVIEWER, Role.PHYSICIAN_REVIEWER, Role.MEDICAL_DIRECTOR):
        d = decide(user(role), Permission.MEMBER_READ, member_id="M2", scopes=members)
        assert d.allowed and d.scope is ScopeKind.ALL


def test_provider_user_reads_only_members_its_organization_serves(members: FakeMembers) -> None:
    provider = user(Role.PROVIDER_USER, org="ORG-A")
    ok = decide(provider, Permission.MEMBER_READ, member_id="M1", scopes=members)
    assert ok.allowed and ok.scope is ScopeKind.ORGANIZATION
    refused = decide(provider, Permission.MEMBER_READ, member_id="M2", scopes=members)
    assert not refused.allowed
    assert refused.reason == "member is outside the user's scope"
    # An unknown member is outside every organization's scope (no existence leak).
    assert not decide(provider, Permission.MEMBER_READ, member_id="M404", scopes=members).allowed


def test_provider_user_without_organization_reaches_no_one(members: FakeMembers) -> None:
    provider = user(Role.PROVIDER_USER)
    assert not decide(provider, Permission.MEMBER_READ, member_id="M1", scopes=members).allowed


def test_case_manager_reads_only_their_caseload(members: FakeMembers) -> None:
    """TCM-06 caseloads define a case manager's reach."""
    cm = user(Role.CASE_MANAGER, staff="S-CM1")
    d = decide(cm, Permission.CASE_MANAGE, member_id="M1", scopes=members)
    assert d.allowed and d.scope is ScopeKind.CASELOAD
    assert not decide(cm, Permission.MEMBER_READ, member_id="M2", scopes=members).allowed
    assert not decide(user(Role.CASE_MANAGER), Permission.MEMBER_READ, member_id="M1", scopes=members).allowed


def test_scoped_check_fails_closed_without_a_resolver() -> None:
    provider = user(Role.PROVIDER_USER, org="ORG-A")
    assert not decide(provider, Permission.MEMBER_READ, member_id="M1", scopes=None).allowed
    # Without a member the role check alone decides.
    assert decide(provider, Permission.MEMBER_READ).allowed


def test_role_without_permission_is_refused_whatever_the_scope(members: FakeMembers) -> None:
    provider = user(Role.PROVIDER_USER, org="ORG-A")
    d = decide(provider, Permission.CASE_MANAGE, member_id="M1", scopes=members)
    assert not d.allowed and d.reason == "role does not grant case.manage"


def test_two_roles_grant_each_permission_under_that_roles_scope(members: FakeMembers) -> None:
    """An admin who is also a case manager reads their caseload, not every member."""
    both = user(Role.ADMIN, Role.CASE_MANAGER, staff="S-CM1")
    assert scopes_for(both, Permission.MEMBER_READ) == {ScopeKind.CASELOAD}
    assert decide(both, Permission.MEMBER_READ, member_id="M1", scopes=members).allowed
    assert not decide(both, Permission.MEMBER_READ, member_id="M2", scopes=members).allowed
    assert decide(both, Permission.USERS_MANAGE).allowed


def test_inactive_user_has_no_permissions() -> None:
    gone = user(Role.MEDICAL_DIRECTOR, active=False)
    assert permissions_of(gone) == frozenset()
    assert not decide(gone, Permission.ACCOUNT_SELF).allowed


def test_authorize_raises_permission_denied() -> None:
    with pytest.raises(PermissionDenied, match=r"request\.deny"):
        authorize(user(Role.INTAKE), Permission.REQUEST_DENY)
    assert authorize(user(Role.MEDICAL_DIRECTOR), Permission.REQUEST_DENY).allowed


def test_tcm06_cm_supervisor_manages_cases_plan_wide_but_not_users_or_requests(members: FakeMembers) -> None:
    """TCM-06: the case-management supervisor reaches every member's case management (to assign
    caseloads and override limits) and holds nothing outside case management."""
    supervisor = user(Role.CM_SUPERVISOR, staff="S-SUP")
    d = decide(supervisor, Permission.CASE_MANAGE, member_id="M2", scopes=members)
    assert d.allowed and d.scope is ScopeKind.ALL
    for other in (Permission.USERS_MANAGE, Permission.REQUEST_DENY, Permission.REQUEST_APPROVE):
        assert not decide(supervisor, other).allowed
