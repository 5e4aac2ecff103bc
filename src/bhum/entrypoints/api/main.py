"""The ASGI application for `bhum serve` / uvicorn: the API and the workbench pages, wired through the
composition root."""

from __future__ import annotations

from fastapi import FastAPI

from bhum.bootstrap import Application, bootstrap
from bhum.entrypoints.api.dependencies import ApiDependencies
from bhum.entrypoints.web import WebOptions, create_web_app


def dependencies_for(application: Application) -> ApiDependencies:
    return ApiDependencies(
        uow_factory=application.uow_factory,
        clock=application.clock,
        settings=application.settings,
        password_hasher=application.password_hasher,
        members=application.members,
        scopes=application.scopes,
        packs=lambda: application.packs,
    )


def build_app(application: Application | None = None) -> FastAPI:
    application = application or bootstrap(json_logs=True, log_level="INFO")
    # Secure cookies behind HTTPS: Settings.session_cookie_secure (BHUM_SESSION_COOKIE_SECURE) once the
    # settings carry it; plain-HTTP loopback demo until then.
    secure = bool(getattr(application.settings, "session_cookie_secure", False))
    return create_web_app(dependencies_for(application), WebOptions(cookie_secure=secure))
