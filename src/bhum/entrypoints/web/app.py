"""The workbench: web pages and /static mounted on the API app, sharing its roles, scopes and audit.

``create_web_app(deps)`` builds the API with the session-cookie authenticator added, then the pages;
``install_web(app)`` adds the pages to an app ``create_app`` already built. Both refuse to start with a
page that lacks an access declaration or a POST page without CSRF protection.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from bhum.domain.errors import InputError, NotFound, PermissionDenied
from bhum.entrypoints.api.app import create_app
from bhum.entrypoints.api.dependencies import ApiDependencies
from bhum.entrypoints.web.routes import auth, caseload, dashboards, opm, pages, portal, review
from bhum.entrypoints.web.security import STATIC_PATH, CsrfRefused, check_web_declarations, is_web_path
from bhum.entrypoints.web.sessions import SESSION_COOKIE, WebOptions, session_authenticator
from bhum.entrypoints.web.templating import STATIC_DIR, render
from bhum.services.access import AuthenticationFailed
from bhum.services.directory import scope_answers_reused

Handler = Callable[[Request, Exception], Awaitable[Response]]

# Page modules, in the order their routes are matched.
PAGE_MODULES = (auth, pages, dashboards, review, portal, opm, caseload)


class ScopeOncePerRequest:
    """ASGI middleware: a member's scope is resolved once per request (the route's access check and
    the service's own check share the answer; see ``bhum.services.directory``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with scope_answers_reused():
            await self.app(scope, receive, send)


def with_session_authenticator(deps: ApiDependencies) -> ApiDependencies:
    if session_authenticator in deps.authenticators:
        return deps
    return dataclasses.replace(deps, authenticators=(*deps.authenticators, session_authenticator))


def create_web_app(deps: ApiDependencies, options: WebOptions | None = None) -> FastAPI:
    """The API and the workbench pages in one app (what ``build_app`` serves)."""
    app = create_app(with_session_authenticator(deps))
    install_web(app, options)
    return app


def install_web(app: FastAPI, options: WebOptions | None = None) -> None:
    deps: ApiDependencies = app.state.deps
    if session_authenticator not in deps.authenticators:
        app.state.deps = with_session_authenticator(deps)
    app.state.web_options = options or WebOptions()
    for module in PAGE_MODULES:
        app.router.routes.extend(module.router.routes)
    app.mount(STATIC_PATH, StaticFiles(directory=str(STATIC_DIR)), name="static")
    _install_page_errors(app)
    app.add_middleware(ScopeOncePerRequest)
    check_web_declarations(app)


def _page_error(request: Request, status: int, heading: str, message: str) -> Response:
    return render(
        request,
        "error.html",
        None,
        {"status": status, "heading": heading, "message": message},
        status_code=status,
        title=heading,
    )


def _page_handler(exc: Exception, request: Request) -> Response:
    """The HTML answer for a page; never echoes input or member data."""
    if isinstance(exc, AuthenticationFailed):
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        response: Response = RedirectResponse(
            f"/web/login?next={quote(target, safe='/')}" if request.method == "GET" else "/web/login",
            status_code=303,
        )
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
    if isinstance(exc, CsrfRefused):
        return _page_error(request, 403, "Form refused", str(exc))
    if isinstance(exc, PermissionDenied):
        return _page_error(request, 403, "Not allowed", f"You may not open this page: {exc}.")
    if isinstance(exc, NotFound):
        return _page_error(request, 404, "Not found", "There is no such record.")
    if isinstance(exc, InputError):
        field = exc.field or "input"
        return _page_error(request, 422, "Check the form", f"The field '{field}' is not valid.")
    if isinstance(exc, RequestValidationError):
        fields = sorted({str(e.get("loc", ("", "?"))[-1]) for e in exc.errors()})
        return _page_error(request, 422, "Check the form", "Not valid: " + ", ".join(fields) + ".")
    if isinstance(exc, StarletteHTTPException):
        if exc.status_code == 404:
            return _page_error(request, 404, "Not found", "There is no such page.")
        return _page_error(request, exc.status_code, "Request refused", "The request was refused.")
    return _page_error(request, 500, "Something went wrong", "The error has been logged.")


def _wrap(api_handler: Handler | None) -> Handler:
    async def handler(request: Request, exc: Exception) -> Response:
        if is_web_path(request.url.path) or api_handler is None:
            return _page_handler(exc, request)
        return await api_handler(request, exc)

    return handler


def _install_page_errors(app: FastAPI) -> None:
    """Pages answer in HTML (and send a signed-out visitor to the sign-in page); the API keeps its
    JSON error bodies."""
    for kind in (
        AuthenticationFailed,
        PermissionDenied,
        NotFound,
        InputError,
        RequestValidationError,
        StarletteHTTPException,
        Exception,
    ):
        existing = app.exception_handlers.get(kind)
        app.add_exception_handler(kind, _wrap(existing))  # type: ignore[arg-type]
