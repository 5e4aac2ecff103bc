"""Who may do what: users, roles, scopes and the audit trail of member-data access."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    """Roles of the people who use bhum."""

    INTAKE = "intake"
    CLINICAL_REVIEWER = "clinical_reviewer"
    PHYSICIAN_REVIEWER = "physician_reviewer"
    MEDICAL_DIRECTOR = "medical_director"
    CASE_MANAGER = "case_manager"
    # TCM-06: assigns caseloads, overrides caseload limits with a reason, receives escalations.
    CM_SUPERVISOR = "cm_supervisor"
    PROVIDER_USER = "provider_user"  # always scoped to one organization
    AUDITOR = "auditor"
    ADMIN = "admin"


class ScopeKind(StrEnum):
    """How far a user's view of member data reaches."""

    ALL = "all"  # plan staff: every member
    ORGANIZATION = "organization"  # provider users: members served by their organization
    CASELOAD = "caseload"  # case managers: members on their caseload
    NONE = "none"  # no member data (e.g. an admin managing users)


@dataclass(frozen=True, slots=True)
class User:
    id: str
    username: str
    display_name: str
    roles: frozenset[Role]
    organization_id: str | None = None  # required for provider users
    staff_id: str | None = None  # links a reviewer or case manager to their staff record and licence
    active: bool = True

    def has_any(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: str
    user_id: str
    token_hash: str  # only a hash is stored; the token itself is shown once
    label: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None


class AuditAction(StrEnum):
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    DISCLOSE = "disclose"
    REFUSE = "refuse"  # an access or disclosure that was refused
    LOGIN = "login"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One append-only entry: who did what to which record, when and why."""

    at: datetime
    actor: str  # user id, or "system:<job>" for batch jobs
    action: AuditAction
    entity_type: str  # e.g. "member", "authorization", "letter"
    entity_id: str
    member_id: str | None = None
    reason: str = ""  # the purpose of use or the route that read the data
    detail: dict[str, str] = field(default_factory=dict)


class Permission(StrEnum):
    """What a user may do. Granted through roles (ROLE_PERMISSIONS); member data is further limited by
    the role's scope (ROLE_SCOPES)."""

    ACCOUNT_SELF = "account.self"  # see one's own profile, drop one's own token
    MEMBER_READ = "member.read"
    REQUEST_SUBMIT = "request.submit"
    REQUEST_REVIEW = "request.review"
    REQUEST_APPROVE = "request.approve"
    REQUEST_DENY = "request.deny"  # REG-04: licensed physician-level reviewers only
    AUTHORIZATION_READ = "authorization.read"
    CLAIMS_CHECK = "claims.check"
    OPM_RUN = "opm.run"  # OPM-03: run the claims-based outpatient program
    CASE_READ = "case.read"
    CASE_MANAGE = "case.manage"
    REPORTS_READ = "reports.read"  # REG-02 public metrics and program reports
    AUDIT_READ = "audit.read"
    USERS_MANAGE = "users.manage"
    PACKS_READ = "packs.read"
    PACKS_MANAGE = "packs.manage"

    @property
    def changes_data(self) -> bool:
        """True for permissions that create or change records (an auditor holds none of them)."""
        return self not in _READ_ONLY_PERMISSIONS

    @property
    def touches_member_data(self) -> bool:
        """True when using the permission reads or changes a member's records, so scope applies."""
        return self in _MEMBER_DATA_PERMISSIONS


_READ_ONLY_PERMISSIONS = frozenset(
    {
        Permission.ACCOUNT_SELF,
        Permission.MEMBER_READ,
        Permission.AUTHORIZATION_READ,
        Permission.CASE_READ,
        Permission.REPORTS_READ,
        Permission.AUDIT_READ,
        Permission.PACKS_READ,
    }
)

_MEMBER_DATA_PERMISSIONS = frozenset(
    {
        Permission.MEMBER_READ,
        Permission.REQUEST_SUBMIT,
        Permission.REQUEST_REVIEW,
        Permission.REQUEST_APPROVE,
        Permission.REQUEST_DENY,
        Permission.AUTHORIZATION_READ,
        Permission.CASE_READ,
        Permission.CASE_MANAGE,
    }
)

_PLAN_READ = frozenset(
    {
        Permission.ACCOUNT_SELF,
        Permission.MEMBER_READ,
        Permission.AUTHORIZATION_READ,
        Permission.CASE_READ,
        Permission.PACKS_READ,
    }
)
_CLINICAL_REVIEW = _PLAN_READ | {
    Permission.REQUEST_SUBMIT,
    Permission.REQUEST_REVIEW,
    Permission.REQUEST_APPROVE,
    Permission.CLAIMS_CHECK,
    Permission.OPM_RUN,
}

# Role -> permissions. Pure data: change it here (and in docs/security.md), never in route code.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.INTAKE: _PLAN_READ | {Permission.REQUEST_SUBMIT},
    Role.CLINICAL_REVIEWER: _CLINICAL_REVIEW,
    # REG-04: only appropriately licensed reviewers may deny for medical necessity.
    Role.PHYSICIAN_REVIEWER: _CLINICAL_REVIEW | {Permission.REQUEST_DENY},
    Role.MEDICAL_DIRECTOR: _CLINICAL_REVIEW
    | {Permission.REQUEST_DENY, Permission.REPORTS_READ, Permission.PACKS_MANAGE},
    Role.CASE_MANAGER: frozenset(
        {
            Permission.ACCOUNT_SELF,
            Permission.MEMBER_READ,
            Permission.AUTHORIZATION_READ,
            Permission.REQUEST_SUBMIT,
            Permission.CASE_READ,
            Permission.CASE_MANAGE,
        }
    ),
    # Supervises case managers plan-wide: reads and manages every member's case management.
    Role.CM_SUPERVISOR: frozenset(
        {
            Permission.ACCOUNT_SELF,
            Permission.MEMBER_READ,
            Permission.AUTHORIZATION_READ,
            Permission.CASE_READ,
            Permission.CASE_MANAGE,
        }
    ),
    Role.PROVIDER_USER: frozenset(
        {
            Permission.ACCOUNT_SELF,
            Permission.MEMBER_READ,
            Permission.AUTHORIZATION_READ,
            Permission.REQUEST_SUBMIT,
        }
    ),
    # Reads the audit log and data, changes nothing.
    Role.AUDITOR: _PLAN_READ | {Permission.AUDIT_READ, Permission.REPORTS_READ},
    # Manages users; no member data by default.
    Role.ADMIN: frozenset({Permission.ACCOUNT_SELF, Permission.USERS_MANAGE, Permission.PACKS_READ}),
}

# Role -> how far its view of member data reaches.
ROLE_SCOPES: dict[Role, ScopeKind] = {
    Role.INTAKE: ScopeKind.ALL,
    Role.CLINICAL_REVIEWER: ScopeKind.ALL,
    Role.PHYSICIAN_REVIEWER: ScopeKind.ALL,
    Role.MEDICAL_DIRECTOR: ScopeKind.ALL,
    Role.CASE_MANAGER: ScopeKind.CASELOAD,
    Role.CM_SUPERVISOR: ScopeKind.ALL,
    Role.PROVIDER_USER: ScopeKind.ORGANIZATION,
    Role.AUDITOR: ScopeKind.ALL,
    Role.ADMIN: ScopeKind.NONE,
}


def permissions_of(user: User) -> frozenset[Permission]:
    """Every permission any of the user's roles grants (none for an inactive user)."""
    if not user.active:
        return frozenset()
    granted: frozenset[Permission] = frozenset()
    for role in user.roles:
        granted = granted | ROLE_PERMISSIONS[role]
    return granted


def scopes_for(user: User, permission: Permission) -> frozenset[ScopeKind]:
    """The scopes under which the user holds ``permission``: one per role that grants it.

    A user with two roles gets the permission under each role's scope, e.g. an admin who is also a
    case manager reads members on their caseload (through the case-manager role) and no others.
    """
    if not user.active:
        return frozenset()
    return frozenset(ROLE_SCOPES[role] for role in user.roles if permission in ROLE_PERMISSIONS[role])
