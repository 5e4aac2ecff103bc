"""The ASGI application for `bhum serve` / uvicorn: the API and the workbench pages, wired through the
composition root."""

from __future__ import annotations

from datetime import date

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


def warm(application: Application) -> None:
    """Load what the first request would otherwise pay for, once per server process: the policy packs
    and the holiday tables of the business-day clocks."""
    today = application.clock().date()
    application.holidays(date(today.year, 1, 1), date(today.year + 1, 12, 31))
    _ = application.packs


def build_app(application: Application | None = None) -> FastAPI:
    application = application or bootstrap(json_logs=True, log_level="INFO")
    warm(application)
    # Secure cookies behind HTTPS (BHUM_SESSION_COOKIE_SECURE); the loopback demo runs on plain HTTP.
    secure = application.settings.session_cookie_secure
    return create_web_app(dependencies_for(application), WebOptions(cookie_secure=secure))
