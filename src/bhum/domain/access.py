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
