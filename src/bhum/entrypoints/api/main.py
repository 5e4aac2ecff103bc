"""The ASGI application for `bhum serve` / uvicorn: the API wired through the composition root."""

from __future__ import annotations

from fastapi import FastAPI

from bhum.bootstrap import Application, bootstrap
from bhum.entrypoints.api.app import create_app
from bhum.entrypoints.api.dependencies import ApiDependencies


def dependencies_for(application: Application) -> ApiDependencies:
    return ApiDependencies(
        uow_factory=application.uow_factory,
        clock=application.clock,
        settings=application.settings,
        password_hasher=application.password_hasher,
        members=application.members,
        scopes=application.scopes,
    )


def build_app(application: Application | None = None) -> FastAPI:
    return create_app(dependencies_for(application or bootstrap(json_logs=True)))
