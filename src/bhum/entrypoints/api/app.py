"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI

from bhum.entrypoints.api.dependencies import ApiDependencies
from bhum.entrypoints.api.errors import install_error_handlers
from bhum.entrypoints.api.routes import (
    audit,
    auth,
    authorizations,
    case_management,
    claims,
    consent,
    coordination,
    documentation_audit,
    members,
    opm,
    requests,
    users,
    utilization,
)
from bhum.entrypoints.api.security import check_declarations


def create_app(deps: ApiDependencies) -> FastAPI:
    """Build the API over ``deps``. Refuses to build if any route lacks an access declaration."""
    app = FastAPI(
        title="bhum",
        summary="Behavioral-health utilization and care management API",
        version="0.1.0",
    )
    app.state.deps = deps
    install_error_handlers(app)
    for module in (
        auth,
        users,
        audit,
        members,
        requests,
        authorizations,
        case_management,
        consent,
        coordination,
        opm,
        claims,
        documentation_audit,
        utilization,
    ):
        # Added route by route rather than with include_router: the routers carry their own prefix,
        # and flat routes keep app.routes a plain list of APIRoute that check_declarations can walk
        # (newer FastAPI wraps included routers in a lazily resolved object).
        app.router.routes.extend(module.router.routes)
    check_declarations(app)
    return app
