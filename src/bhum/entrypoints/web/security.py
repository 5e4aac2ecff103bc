"""Access declarations and CSRF for web pages.

Pages declare access exactly as API routes do (``Depends(requires(Permission.X, member_param=...))``
or ``Depends(public)``); public pages must be on ``WEB_PUBLIC_ROUTES``. Every POST page also depends on
``csrf_protect`` (or, for the sign-in form, ``login_csrf_protect``). ``undeclared_web_routes`` finds
pages that break either rule and ``create_web_app`` refuses to start with one.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from starlette.routing import Mount

from bhum.domain.errors import PermissionDenied
from bhum.entrypoints.api.security import (
    PUBLIC_ROUTES,
    RouteAccess,
    get_deps,
    public,
    route_access,
    undeclared_routes,
)
from bhum.entrypoints.api.security import _calls as dependency_calls
from bhum.entrypoints.web.sessions import (
    CSRF_FIELD,
    CSRF_HEADER,
    LOGIN_CSRF_COOKIE,
    WEB_PREFIX,
    codec_for,
    session_of,
    tokens_match,
)

# Pages anyone may open without signing in. None of them shows member data.
WEB_PUBLIC_ROUTES = frozenset({("GET", "/"), ("GET", "/web/login"), ("POST", "/web/login")})
STATIC_PATH = "/static"
CSRF_REFUSED = "the form has expired or did not come from this site; reload the page and try again"


class CsrfRefused(PermissionDenied):
    """A POST without the session's CSRF token (answered 403 and never acted on)."""


async def _form_token(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    form = await request.form()
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else None


async def csrf_protect(request: Request) -> None:
    """Every POST page depends on this: the form (or the X-CSRF-Token header, for htmx) must carry the
    CSRF token of the caller's session."""
    session = session_of(request, get_deps(request))
    if session is None or not tokens_match(session.csrf, await _form_token(request)):
        raise CsrfRefused(CSRF_REFUSED)


async def login_csrf_protect(request: Request) -> None:
    """The sign-in form has no session yet: its token is double-submitted (signed cookie + field)."""
    expected = codec_for(get_deps(request)).loads_login_csrf(request.cookies.get(LOGIN_CSRF_COOKIE))
    if not tokens_match(expected, await _form_token(request)):
        raise CsrfRefused(CSRF_REFUSED)


def is_web_path(path: str) -> bool:
    return path == "/" or path == WEB_PREFIX or path.startswith(WEB_PREFIX + "/")


def undeclared_web_routes(app: FastAPI) -> list[str]:
    """API routes are checked by the API's own rule; web pages must declare exactly one access, public
    pages must be whitelisted, POST pages must check CSRF. The only other route allowed is /static."""
    web_labels = {STATIC_PATH} | {
        f"{','.join(sorted(r.methods or ()))} {r.path}"
        for r in app.routes
        if isinstance(r, APIRoute) and is_web_path(r.path)
    }
    # The API rule still applies to every API route; web pages get the rule below instead.
    problems = [p for p in undeclared_routes(app) if p.split(": ", 1)[0] not in web_labels]
    for route in app.routes:
        if isinstance(route, Mount):
            if route.path != STATIC_PATH:
                problems.append(f"{route.path}: a mount other than {STATIC_PATH}")
            continue
        if not isinstance(route, APIRoute) or not is_web_path(route.path):
            continue
        methods = sorted(route.methods or ())
        label = f"{','.join(methods)} {route.path}"
        found = route_access(route)
        if len(found) != 1:
            problems.append(f"{label}: {len(found)} access declarations (need exactly one)")
            continue
        declared = found[0]
        if declared is public and any((m, route.path) not in WEB_PUBLIC_ROUTES for m in methods):
            problems.append(f"{label}: public but not on WEB_PUBLIC_ROUTES")
        params = {p.name for p in route.dependant.path_params}
        if isinstance(declared, RouteAccess) and declared.member_param not in (None, *params):
            problems.append(f"{label}: member_param {declared.member_param!r} is not a path parameter")
        if "POST" in methods:
            calls = set(dependency_calls(route.dependant))
            if csrf_protect not in calls and login_csrf_protect not in calls:
                problems.append(f"{label}: a POST page without CSRF protection")
            if login_csrf_protect in calls and ("POST", route.path) not in WEB_PUBLIC_ROUTES:
                problems.append(f"{label}: only the public sign-in form may use the login CSRF check")
    return problems


def check_web_declarations(app: FastAPI) -> None:
    problems = undeclared_web_routes(app)
    if problems:
        raise RuntimeError("routes without a proper access declaration: " + "; ".join(problems))


__all__ = [
    "PUBLIC_ROUTES",
    "WEB_PUBLIC_ROUTES",
    "CsrfRefused",
    "check_web_declarations",
    "csrf_protect",
    "is_web_path",
    "login_csrf_protect",
    "undeclared_web_routes",
]
