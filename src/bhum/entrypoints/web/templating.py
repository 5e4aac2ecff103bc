"""Jinja2 templates and the one helper pages render with: it adds the signed-in user, the CSRF token
for forms and the navigation the user's roles allow."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from bhum.domain.access import Permission, Role, permissions_of
from bhum.entrypoints.api.dependencies import Principal
from bhum.entrypoints.api.security import get_deps
from bhum.entrypoints.web.sessions import session_of

HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))
STATIC_DIR = HERE / "static"


def evidence_text(value: Any) -> str:
    """An evidence value as a reviewer reads it: a code as "code (display)", yes/no for booleans,
    lists comma-separated, ISO timestamps as date and time; never a Python repr."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping) and "code" in value:
        display = value.get("display")
        return f"{value['code']} ({display})" if display else str(value["code"])
    if isinstance(value, Mapping):
        return "; ".join(f"{k.replace('_', ' ')}: {evidence_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(evidence_text(v) for v in value) if value else "none"
    if value is None:
        return "not documented"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and len(value) > 19 and value[10:11] == "T":
        try:
            return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M %Z").strip()
        except ValueError:
            return value
    return str(value)


TEMPLATES.env.filters["evidence"] = evidence_text


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    path: str
    permission: Permission
    role: Role | None = None  # shown only to this role (e.g. the provider portal)


# The menu. An item shows when the user holds its permission (and role) and the page is mounted.
NAV: tuple[NavItem, ...] = (
    NavItem("Home", "/web/", Permission.ACCOUNT_SELF),
    NavItem("Work queue", "/web/queue", Permission.REQUEST_REVIEW),
    NavItem("Outpatient management", "/web/opm", Permission.OPM_RUN),
    NavItem("Provider portal", "/web/portal", Permission.REQUEST_SUBMIT, Role.PROVIDER_USER),
    NavItem("Caseload", "/web/caseload", Permission.CASE_MANAGE),
    NavItem("Members", "/web/members", Permission.MEMBER_READ),
    NavItem("Dashboards", "/web/dashboards", Permission.REPORTS_READ),
    NavItem("Audit log", "/web/audit", Permission.AUDIT_READ),
    NavItem("Users", "/web/users", Permission.USERS_MANAGE),
)


def nav_for(request: Request, principal: Principal | None) -> list[NavItem]:
    if principal is None:
        return []
    granted = permissions_of(principal.user)
    mounted = {getattr(r, "path", None) for r in request.app.routes}
    return [
        item
        for item in NAV
        if item.permission in granted
        and (item.role is None or item.role in principal.user.roles)
        and item.path in mounted
    ]


def local_time(value: datetime | None, request: Request) -> str:
    if value is None:
        return "—"
    zone = get_deps(request).settings.plan_time_zone
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def render(
    request: Request,
    template: str,
    principal: Principal | None,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    title: str = "",
) -> HTMLResponse:
    session = session_of(request, get_deps(request))
    values: dict[str, Any] = {
        "request": request,
        "user": principal.user if principal else None,
        "csrf_token": session.csrf if session else "",
        "nav": nav_for(request, principal),
        "current_path": request.url.path,
        "title": title,
        "local_time": lambda v: local_time(v, request),
    }
    values.update(context or {})
    response = TEMPLATES.TemplateResponse(request, template, values, status_code=status_code)
    # Pages carry member data: never cache them, never frame them.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    )
    return response
