"""Every route declares the permission (and, for member data, the scope) it needs, through one
helper: ``Depends(requires(Permission.X))`` or ``Depends(requires(Permission.X, member_param="id"))``.
Public routes say so with ``Depends(public)`` and must be on ``PUBLIC_ROUTES``. ``check_declarations``
refuses to build an app with a route that does neither.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bhum.domain.access import AuditAction, Permission
from bhum.domain.errors import PermissionDenied
from bhum.entrypoints.api.dependencies import ApiDependencies, Principal
from bhum.services.access import AuthenticationFailed, authorize_member_access, decide
from bhum.services.audit import record_access

# Routes anyone may call without credentials. Nothing here may return member data.
PUBLIC_ROUTES = frozenset({("GET", "/health"), ("POST", "/auth/token")})
# FastAPI's own documentation pages (plain Starlette routes).
PUBLIC_DOC_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})

# Only documents the scheme in OpenAPI; the authenticators in ApiDependencies do the work.
_bearer_scheme = HTTPBearer(auto_error=False, description="API token from POST /auth/token")


def get_deps(request: Request) -> ApiDependencies:
    deps: ApiDependencies = request.app.state.deps
    return deps


def authenticate_request(request: Request, deps: ApiDependencies) -> Principal:
    for authenticator in deps.authenticators:
        principal = authenticator(request, deps)
        if principal is not None:
            return principal
    raise AuthenticationFailed("authentication required")


@dataclass(frozen=True, slots=True)
class RouteAccess:
    """The access a route declares: a permission, and the path parameter naming the member whose data
    it touches (scope is then checked against that member)."""

    permission: Permission
    member_param: str | None = None

    def __call__(
        self,
        request: Request,
        _bearer: HTTPAuthorizationCredentials | None = Depends(_bearer_scheme),
    ) -> Principal:
        deps = get_deps(request)
        principal = authenticate_request(request, deps)
        route = request.scope.get("route")
        template = route.path if isinstance(route, APIRoute) else request.url.path
        reason = f"{request.method} {template}"
        now = deps.clock()
        uow = deps.uow_factory()
        if self.member_param is not None:
            member_id = str(request.path_params[self.member_param])
            with uow:
                authorize_member_access(
                    uow,
                    principal.user,
                    self.permission,
                    member_id,
                    scopes=deps.scopes(uow),
                    reason=reason,
                    now=now,
                )
            return principal
        decision = decide(principal.user, self.permission)
        if not decision.allowed:
            with uow:
                record_access(
                    uow,
                    principal.user,
                    AuditAction.REFUSE,
                    "route",
                    template,
                    None,
                    reason,
                    now,
                    detail={"permission": self.permission.value, "why": decision.reason},
                )
                uow.commit()
            raise PermissionDenied(decision.reason)
        return principal


def requires(permission: Permission, *, member_param: str | None = None) -> RouteAccess:
    """The dependency every non-public route uses: authenticates the caller, checks the role grants
    ``permission`` and, with ``member_param``, that the member named by that path parameter is in the
    caller's scope. Refusals are audited; the route still records its own reads and changes."""
    return RouteAccess(permission, member_param)


def public() -> None:
    """Marks a route public. Only (method, path) pairs on PUBLIC_ROUTES may use it."""


def _calls(dependant: Dependant) -> Iterator[object]:
    for dep in dependant.dependencies:
        if dep.call is not None:
            yield dep.call
        yield from _calls(dep)


def route_access(route: APIRoute) -> list[RouteAccess | object]:
    """The access declarations (RouteAccess instances or ``public``) found on a route."""
    return [c for c in _calls(route.dependant) if isinstance(c, RouteAccess) or c is public]


def undeclared_routes(app: FastAPI) -> list[str]:
    """Routes that break the rule: no declaration, more than one, a public marker off the whitelist,
    or a member_param that is not a path parameter of the route."""
    problems: list[str] = []
    for route in app.routes:
        if not isinstance(route, APIRoute):
            path = getattr(route, "path", "?")
            if path not in PUBLIC_DOC_PATHS:
                problems.append(f"{path}: not an API route and not whitelisted")
            continue
        found = route_access(route)
        methods = sorted(route.methods or ())
        label = f"{','.join(methods)} {route.path}"
        if len(found) != 1:
            problems.append(f"{label}: {len(found)} access declarations (need exactly one)")
            continue
        declared = found[0]
        if declared is public and any((m, route.path) not in PUBLIC_ROUTES for m in methods):
            problems.append(f"{label}: public but not on PUBLIC_ROUTES")
        if isinstance(declared, RouteAccess) and declared.member_param is not None:
            params = {p.name for p in route.dependant.path_params}
            if declared.member_param not in params:
                problems.append(f"{label}: member_param {declared.member_param!r} is not a path parameter")
    return problems


def check_declarations(app: FastAPI) -> None:
    problems = undeclared_routes(app)
    if problems:
        raise RuntimeError("routes without a proper access declaration: " + "; ".join(problems))
