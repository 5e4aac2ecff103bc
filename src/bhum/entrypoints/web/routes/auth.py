"""Sign-in, sign-out and the front door."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bhum.domain.access import Permission
from bhum.entrypoints.api.dependencies import Principal
from bhum.entrypoints.api.security import get_deps, public, requires
from bhum.entrypoints.web.security import csrf_protect, login_csrf_protect
from bhum.entrypoints.web.sessions import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    SessionData,
    WebOptions,
    codec_for,
    new_csrf_token,
)
from bhum.entrypoints.web.templating import render
from bhum.services.access import LOGIN_FAILED, AuthenticationFailed, authenticate, issue_token, revoke_token

router = APIRouter(include_in_schema=False)
HOME = "/web/"


def options_of(request: Request) -> WebOptions:
    options: WebOptions = request.app.state.web_options
    return options


def safe_next(value: str | None) -> str:
    """Only a path on this site's pages may be a redirect target (no open redirect)."""
    if value and value.startswith("/web/") and "//" not in value and "\\" not in value:
        return value
    return HOME


def _login_page(request: Request, next_path: str, error: str | None, status_code: int) -> HTMLResponse:
    token = new_csrf_token()
    response = render(
        request,
        "login.html",
        None,
        {"login_csrf": token, "next_path": next_path, "error": error},
        status_code=status_code,
        title="Sign in",
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        codec_for(get_deps(request)).dumps_login_csrf(token),
        httponly=True,
        samesite="lax",
        secure=options_of(request).cookie_secure,
        path="/web/login",
    )
    return response


@router.get("/", dependencies=[Depends(public)])
def front_door() -> RedirectResponse:
    return RedirectResponse(HOME, status_code=303)


@router.get("/web/login", dependencies=[Depends(public)])
def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return _login_page(request, safe_next(next), None, 200)


@router.post("/web/login", dependencies=[Depends(public), Depends(login_csrf_protect)])
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form(max_length=300)] = HOME,
) -> Response:
    deps = get_deps(request)
    options = options_of(request)
    try:
        user = authenticate(
            deps.uow_factory(), username.strip(), password, hasher=deps.password_hasher, now=deps.clock()
        )
    except AuthenticationFailed:
        return _login_page(request, safe_next(next), LOGIN_FAILED, 401)
    issued = issue_token(
        deps.uow_factory(),
        actor=user,
        username=user.username,
        label="web session",
        now=deps.clock(),
        ttl=options.session_ttl,
    )
    cookie = codec_for(deps).dumps(SessionData(token=issued.token, csrf=new_csrf_token()))
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(options.session_ttl.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=options.cookie_secure,
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/web/login")
    return response


@router.post("/web/logout", dependencies=[Depends(csrf_protect)])
def logout(
    request: Request, principal: Annotated[Principal, Depends(requires(Permission.ACCOUNT_SELF))]
) -> RedirectResponse:
    """Ends the session on the server (its token is revoked) and drops the cookie."""
    deps = get_deps(request)
    if principal.method == "session" and principal.credential is not None:
        revoke_token(deps.uow_factory(), principal.credential, actor=principal.user, now=deps.clock())
    response = RedirectResponse("/web/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
