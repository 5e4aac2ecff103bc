"""Error responses. Bodies are JSON ``{"error": ..., "message": ..., "fields": [...]}`` and never echo
what the caller sent: validation errors name the field, not its value, since the value may be
member data."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from bhum.adapters.logging import scrub_text
from bhum.domain.errors import InputError, InvalidTransition, NotFound, PermissionDenied
from bhum.services.access import AuthenticationFailed


def _body(error: str, message: str, fields: list[dict[str, str]] | None = None) -> dict[str, object]:
    body: dict[str, object] = {"error": error, "message": message}
    if fields is not None:
        body["fields"] = fields
    return body


async def _unauthenticated(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        _body("unauthenticated", str(exc) or "authentication required"),
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


async def _forbidden(request: Request, exc: Exception) -> JSONResponse:
    # Decision reasons are fixed phrases ("member is outside the user's scope"), safe to show.
    return JSONResponse(_body("forbidden", str(exc)), status_code=403)


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(_body("not_found", scrub_text(str(exc)) or "not found"), status_code=404)


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    # A lifecycle move the rules refuse (approving a withdrawn request, re-opening a closed case).
    return JSONResponse(_body("conflict", scrub_text(str(exc)) or "conflict"), status_code=409)


async def _input_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InputError)
    field = exc.field or "body"
    message = scrub_text(exc.message)
    return JSONResponse(_body("invalid", message, [{"field": field, "message": message}]), status_code=422)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [
        {
            "field": ".".join(str(part) for part in err.get("loc", ())),
            "message": str(err.get("msg", "invalid")),
        }
        for err in exc.errors()
    ]
    return JSONResponse(_body("invalid", "the request is not valid", fields), status_code=422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse(
        _body(code, "not found" if exc.status_code == 404 else "request refused"),
        status_code=exc.status_code,
        headers=exc.headers,
    )


async def _internal(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(_body("internal", "internal error"), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AuthenticationFailed, _unauthenticated)
    app.add_exception_handler(PermissionDenied, _forbidden)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(InvalidTransition, _conflict)
    app.add_exception_handler(InputError, _input_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _internal)
