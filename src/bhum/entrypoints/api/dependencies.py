"""What the API needs from the outside, in one container the composition root fills in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from fastapi import Request

from bhum.config import Settings
from bhum.domain.access import User
from bhum.policy import PackRegistry
from bhum.services.access import MemberDirectory, PasswordHasher, ScopeResolver, resolve_token
from bhum.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of one request."""

    user: User
    method: str  # "bearer" now; "session" once web pages sign in with cookies
    credential: str | None = None  # the presented bearer token (kept in memory only, to revoke it)


class Authenticator(Protocol):
    """Turns a request into a principal. Returns None when the request carries no credential of its
    kind; raises ``AuthenticationFailed`` when it carries a bad one. The web pages add a session-cookie
    authenticator here without touching any route."""

    def __call__(self, request: Request, deps: ApiDependencies) -> Principal | None: ...


def bearer_authenticator(request: Request, deps: ApiDependencies) -> Principal | None:
    """``Authorization: Bearer <token>``, resolved through the token service."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    user = resolve_token(deps.uow_factory(), token, deps.clock())
    return Principal(user=user, method="bearer", credential=token)


@dataclass(frozen=True, slots=True)
class ApiDependencies:
    """Everything the API calls out to.

    ``uow_factory`` makes a fresh unit of work per service call; ``clock`` returns the current time
    (time zone aware); ``members``/``scopes`` build the member directory and scope resolver over an
    open unit of work; ``authenticators`` are tried in order for each request.
    """

    uow_factory: Callable[[], UnitOfWork]
    clock: Callable[[], datetime]
    settings: Settings
    password_hasher: PasswordHasher
    members: Callable[[UnitOfWork], MemberDirectory]
    scopes: Callable[[UnitOfWork], ScopeResolver]
    authenticators: Sequence[Authenticator] = field(default=(bearer_authenticator,))
    packs: Callable[[], PackRegistry] | None = None  # the packs in force (claims, utilization routes)
