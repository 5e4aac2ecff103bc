"""Access control: who may do what to which member's data, users, passwords and API tokens.

``decide``/``authorize`` are pure: the role tables live in ``bhum.domain.access`` and the data a
scope needs (which organization serves a member, whose caseload a member is on) comes from a
``ScopeResolver`` the caller passes in. Every other function here is a use case over a unit of work:
it opens the unit of work, records the audit events it owes and commits.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

import structlog

from bhum.domain.access import (
    ApiToken,
    AuditAction,
    Permission,
    Role,
    ScopeKind,
    User,
    permissions_of,
    scopes_for,
)
from bhum.domain.errors import BhumError, InputError, NotFound, PermissionDenied
from bhum.services.audit import record_access
from bhum.services.unit_of_work import UnitOfWork

log = structlog.get_logger(__name__)

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD_LENGTH = 12
DEFAULT_TOKEN_TTL = timedelta(days=30)
MAX_TOKEN_TTL = timedelta(days=365)
# Said for every failed login, whatever failed, so a caller cannot probe for usernames.
LOGIN_FAILED = "invalid username or password"
TOKEN_REFUSED = "invalid, expired or revoked token"


class AuthenticationFailed(BhumError):
    """Credentials (password or token) were not accepted. The message never says which part failed."""


# --- scope ---------------------------------------------------------------------------------------


class ScopeResolver(Protocol):
    """The data a scope check needs. The store implements it over members, providers and caseloads."""

    def organization_serves_member(self, organization_id: str, member_id: str) -> bool: ...

    def on_caseload(self, staff_id: str, member_id: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class AccessDecision:
    allowed: bool
    reason: str  # why, in words safe to log and to show (never member data)
    scope: ScopeKind | None = None  # the scope that allowed it


def decide(
    user: User,
    permission: Permission,
    *,
    member_id: str | None = None,
    scopes: ScopeResolver | None = None,
) -> AccessDecision:
    """May ``user`` use ``permission`` (on ``member_id``'s data, when given)?

    Without ``member_id`` only the role is checked (e.g. "may this user read members at all").
    With it, the user must also reach the member through one of the scopes of the roles that grant the
    permission: plan staff reach everyone, a provider user the members its organization serves, a
    case manager the members on their caseload. Fails closed when a scope needs data and no resolver
    was given.
    """
    if not user.active:
        return AccessDecision(False, "user is inactive")
    if permission not in permissions_of(user):
        return AccessDecision(False, f"role does not grant {permission.value}")
    kinds = scopes_for(user, permission)
    if not permission.touches_member_data:
        return AccessDecision(True, f"role grants {permission.value}")
    if kinds == {ScopeKind.NONE}:
        return AccessDecision(False, "role has no access to member data")
    if member_id is None:
        return AccessDecision(True, f"role grants {permission.value}")
    if ScopeKind.ALL in kinds:
        return AccessDecision(True, "plan-wide scope", ScopeKind.ALL)
    if (
        ScopeKind.ORGANIZATION in kinds
        and user.organization_id
        and scopes is not None
        and scopes.organization_serves_member(user.organization_id, member_id)
    ):
        return AccessDecision(True, "member is served by the user's organization", ScopeKind.ORGANIZATION)
    if (
        ScopeKind.CASELOAD in kinds
        and user.staff_id
        and scopes is not None
        and scopes.on_caseload(user.staff_id, member_id)
    ):
        return AccessDecision(True, "member is on the user's caseload", ScopeKind.CASELOAD)
    return AccessDecision(False, "member is outside the user's scope")


def authorize(
    user: User,
    permission: Permission,
    *,
    member_id: str | None = None,
    scopes: ScopeResolver | None = None,
) -> AccessDecision:
    """Like ``decide`` but raises ``PermissionDenied`` when refused."""
    decision = decide(user, permission, member_id=member_id, scopes=scopes)
    if not decision.allowed:
        raise PermissionDenied(decision.reason)
    return decision


def authorize_member_access(
    uow: UnitOfWork,
    user: User,
    permission: Permission,
    member_id: str,
    *,
    scopes: ScopeResolver,
    reason: str,
    now: datetime,
    entity_type: str = "member",
    entity_id: str | None = None,
) -> AccessDecision:
    """``authorize`` for a use of member data, recording a refusal in the audit log (committed even
    though the use fails). The caller records the read or change itself once it has done it."""
    decision = decide(user, permission, member_id=member_id, scopes=scopes)
    if not decision.allowed:
        record_access(
            uow,
            user,
            AuditAction.REFUSE,
            entity_type,
            entity_id or member_id,
            member_id,
            reason,
            now,
            detail={"permission": permission.value, "why": decision.reason},
        )
        uow.commit()
        raise PermissionDenied(decision.reason)
    return decision


# --- passwords -----------------------------------------------------------------------------------


class PasswordHasher(Protocol):
    """Implemented by ``bhum.adapters.passwords.Argon2PasswordHasher``."""

    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters", field="password")
    if password != password.strip():
        raise InputError("a password may not start or end with spaces", field="password")


def _require_manager(uow: UnitOfWork, actor: User | str, reason: str, now: datetime) -> None:
    """Users are managed by holders of users.manage, or by a ``system:`` actor (the CLI on the host)."""
    if isinstance(actor, str):
        if not actor.startswith("system:"):
            raise InputError("a non-user actor must be named system:<job>", field="actor")
        return
    decision = decide(actor, Permission.USERS_MANAGE)
    if not decision.allowed:
        record_access(
            uow,
            actor,
            AuditAction.REFUSE,
            "user",
            "users",
            None,
            reason,
            now,
            detail={"why": decision.reason},
        )
        uow.commit()
        raise PermissionDenied(decision.reason)


# --- users ---------------------------------------------------------------------------------------


def create_user(
    uow: UnitOfWork,
    *,
    actor: User | str,
    username: str,
    display_name: str,
    roles: Iterable[Role],
    password: str | None,
    hasher: PasswordHasher,
    now: datetime,
    organization_id: str | None = None,
    staff_id: str | None = None,
    user_id: str | None = None,
) -> User:
    """Create a user. A provider user must name its organization; a password is optional (a user
    without one signs in only with tokens issued by an admin)."""
    role_set = frozenset(roles)
    if not USERNAME_PATTERN.match(username):
        raise InputError(
            "a username is 3-64 lower-case letters, digits, '.', '_' or '-'",
            field="username",
            record=username,
        )
    if not display_name.strip():
        raise InputError("a user needs a display name", field="display_name", record=username)
    if not role_set:
        raise InputError("a user needs at least one role", field="roles", record=username)
    if Role.PROVIDER_USER in role_set and not organization_id:
        raise InputError(
            "a provider user must name its organization", field="organization_id", record=username
        )
    if password is not None:
        _check_password(password)
    with uow:
        _require_manager(uow, actor, "create user", now)
        if uow.users.get_by_username(username) is not None:
            raise InputError("the username is already taken", field="username", record=username)
        user = User(
            id=user_id or f"u-{uuid.uuid4().hex[:16]}",
            username=username,
            display_name=display_name.strip(),
            roles=role_set,
            organization_id=organization_id or None,
            staff_id=staff_id or None,
        )
        if uow.users.get(user.id) is not None:
            raise InputError("the user id is already taken", field="user_id", record=user.id)
        uow.users.add(user, hasher.hash(password) if password is not None else None)
        record_access(
            uow,
            actor,
            AuditAction.CREATE,
            "user",
            user.id,
            None,
            "create user",
            now,
            detail={"roles": ",".join(sorted(r.value for r in role_set))},
        )
        uow.commit()
    log.info("user created", user_id=user.id, roles=sorted(r.value for r in role_set))
    return user


def list_users(uow: UnitOfWork, *, actor: User | str, now: datetime) -> Sequence[User]:
    with uow:
        _require_manager(uow, actor, "list users", now)
        return sorted(uow.users.list(), key=lambda u: u.username)


def set_password(
    uow: UnitOfWork,
    *,
    actor: User | str,
    username: str,
    password: str,
    hasher: PasswordHasher,
    now: datetime,
) -> None:
    """Set a user's password: by a user manager, the CLI, or the user themself."""
    _check_password(password)
    with uow:
        user = uow.users.get_by_username(username)
        if isinstance(actor, str) or actor.id != (user.id if user else None):
            _require_manager(uow, actor, "set password", now)
        if user is None:
            raise NotFound(f"no user named {username!r}")
        uow.users.set_password_hash(user.id, hasher.hash(password))
        record_access(uow, actor, AuditAction.UPDATE, "user", user.id, None, "set password", now)
        uow.commit()


def authenticate(
    uow: UnitOfWork, username: str, password: str, *, hasher: PasswordHasher, now: datetime
) -> User:
    """Check a username and password. Every attempt is audited (action login); a failure raises
    ``AuthenticationFailed`` with the same message whatever failed. A hash made with older argon2
    parameters is replaced by a fresh one on success."""
    with uow:
        user = uow.users.get_by_username(username)
        stored = uow.users.password_hash(user.id) if user is not None else None
        if stored is None:
            # Spend the same time as a real check so timing does not tell which usernames exist.
            hasher.verify(_dummy_hash(hasher), password)
            cause = "unknown user" if user is None else "no password set"
            ok = False
        else:
            ok = hasher.verify(stored, password)
            cause = "wrong password"
        if ok and user is not None and not user.active:
            ok, cause = False, "inactive user"
        if not ok or user is None:
            record_access(
                uow,
                user.id if user is not None else "anonymous",
                AuditAction.LOGIN,
                "user",
                user.id if user is not None else "unknown",
                None,
                "login failed",
                now,
                detail={"outcome": "failed", "cause": cause},
            )
            uow.commit()
            log.info("login failed")
            raise AuthenticationFailed(LOGIN_FAILED)
        if stored is not None and hasher.needs_rehash(stored):
            uow.users.set_password_hash(user.id, hasher.hash(password))
        record_access(
            uow, user, AuditAction.LOGIN, "user", user.id, None, "login", now, detail={"outcome": "success"}
        )
        uow.commit()
    return user


_DUMMY_HASHES: dict[int, str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = id(hasher)
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = hasher.hash(secrets.token_urlsafe(16))
    return _DUMMY_HASHES[key]


# --- API tokens ----------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    """Tokens are stored only as their SHA-256 (they are long random strings, so no salt is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str  # shown once, never stored
    record: ApiToken


def issue_token(
    uow: UnitOfWork,
    *,
    actor: User | str,
    username: str,
    label: str,
    now: datetime,
    ttl: timedelta | None = DEFAULT_TOKEN_TTL,
) -> IssuedToken:
    """Issue an API token for ``username``: by the user themself (after ``authenticate``), a user
    manager, or the CLI. ``ttl`` None makes a token that does not expire (service accounts)."""
    if not label.strip():
        raise InputError("a token needs a label", field="label")
    if ttl is not None and (ttl <= timedelta(0) or ttl > MAX_TOKEN_TTL):
        raise InputError(f"a token lives between a second and {MAX_TOKEN_TTL.days} days", field="ttl")
    with uow:
        user = uow.users.get_by_username(username)
        if isinstance(actor, str) or actor.id != (user.id if user else None):
            _require_manager(uow, actor, "issue token", now)
        if user is None:
            raise NotFound(f"no user named {username!r}")
        if not user.active:
            raise InputError("an inactive user cannot get a token", field="username", record=username)
        token = secrets.token_urlsafe(32)
        record = ApiToken(
            id=f"t-{uuid.uuid4().hex[:16]}",
            user_id=user.id,
            token_hash=hash_token(token),
            label=label.strip(),
            created_at=now,
            expires_at=now + ttl if ttl is not None else None,
        )
        uow.api_tokens.add(record)
        record_access(
            uow, actor, AuditAction.CREATE, "api_token", record.id, None, "issue token", now,
            detail={"user_id": user.id},
        )  # fmt: skip
        uow.commit()
    return IssuedToken(token=token, record=record)


def resolve_token(uow: UnitOfWork, token: str, now: datetime) -> User:
    """The active user a presented token belongs to; ``AuthenticationFailed`` if it is unknown,
    expired (at or after ``expires_at``) or revoked."""
    if not token:
        raise AuthenticationFailed(TOKEN_REFUSED)
    with uow:
        record = uow.api_tokens.get_by_hash(hash_token(token))
        if record is None:
            raise AuthenticationFailed(TOKEN_REFUSED)
        if record.revoked_at is not None and record.revoked_at <= now:
            raise AuthenticationFailed(TOKEN_REFUSED)
        if record.expires_at is not None and now >= record.expires_at:
            raise AuthenticationFailed(TOKEN_REFUSED)
        user = uow.users.get(record.user_id)
    if user is None or not user.active:
        raise AuthenticationFailed(TOKEN_REFUSED)
    return user


def revoke_token(uow: UnitOfWork, token: str, *, actor: User | str, now: datetime) -> ApiToken:
    """Revoke a token: its own holder, a user manager or the CLI may."""
    with uow:
        record = uow.api_tokens.get_by_hash(hash_token(token))
        if record is None:
            raise NotFound("no such token")
        if isinstance(actor, str) or actor.id != record.user_id:
            _require_manager(uow, actor, "revoke token", now)
        if record.revoked_at is None:
            uow.api_tokens.revoke(record.id, now)
            record_access(
                uow, actor, AuditAction.UPDATE, "api_token", record.id, None, "revoke token", now,
                detail={"user_id": record.user_id},
            )  # fmt: skip
        uow.commit()
    return record


# --- members -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberSummary:
    """The minimal view of a member the API shows before the full member model lands."""

    member_id: str
    first_name: str
    last_name: str
    birth_date: date
    plan_id: str | None = None


class MemberDirectory(Protocol):
    """Where members are looked up. The store implements it over its member table."""

    def get_summary(self, member_id: str) -> MemberSummary | None: ...


def view_member(
    uow: UnitOfWork,
    viewer: User,
    member_id: str,
    *,
    members: Callable[[UnitOfWork], MemberDirectory],
    scopes: Callable[[UnitOfWork], ScopeResolver],
    now: datetime,
    reason: str,
) -> MemberSummary:
    """Read one member for ``viewer``: refuses (audited as refuse) outside the viewer's scope, records
    the read, raises ``NotFound`` for an unknown member (also recorded: probing is worth seeing).

    ``members`` and ``scopes`` build the directory and resolver over the open unit of work (the store
    serves them from the same transaction); tests pass ``lambda uow: fake``."""
    with uow:
        authorize_member_access(
            uow, viewer, Permission.MEMBER_READ, member_id, scopes=scopes(uow), reason=reason, now=now
        )
        summary = members(uow).get_summary(member_id)
        record_access(
            uow,
            viewer,
            AuditAction.READ,
            "member",
            member_id,
            member_id,
            reason,
            now,
            detail={"outcome": "found" if summary is not None else "not found"},
        )
        uow.commit()
    if summary is None:
        raise NotFound("no such member")
    # member_id is a deny-listed key: the logging processor redacts it.
    # The audit trail names the member; the application log never does.
    log.info("member record read", user_id=viewer.id)
    return summary
