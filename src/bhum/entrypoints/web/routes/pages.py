"""Home, member look-up and the member page, the audit log and user management."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bhum.domain.access import ROLE_SCOPES, Permission, Role, permissions_of
from bhum.domain.errors import InputError
from bhum.entrypoints.api.dependencies import Principal
from bhum.entrypoints.api.security import get_deps, requires
from bhum.entrypoints.web.security import csrf_protect
from bhum.entrypoints.web.templating import nav_for, render
from bhum.services.access import create_user, list_users, view_member
from bhum.services.audit import MAX_AUDIT_PAGE, list_audit_events

router = APIRouter(include_in_schema=False)
MEMBER_ID = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")


@router.get("/web/")
def home(
    request: Request, principal: Annotated[Principal, Depends(requires(Permission.ACCOUNT_SELF))]
) -> HTMLResponse:
    """The start page: what this user's roles let them do, one card per page."""
    user = principal.user
    roles = sorted(user.roles, key=lambda r: r.value)
    return render(
        request,
        "home.html",
        principal,
        {
            "roles": [r.value.replace("_", " ") for r in roles],
            "scopes": sorted({ROLE_SCOPES[r].value for r in roles}),
            "permissions": sorted(p.value for p in permissions_of(user)),
            "cards": [item for item in nav_for(request, principal) if item.path != "/web/"],
        },
        title="Home",
    )


@router.get("/web/members")
def member_lookup(
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.MEMBER_READ))],
    member_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    if member_id and member_id.strip():
        wanted = member_id.strip()
        if all(c.isalnum() or c in "._-" for c in wanted):
            return RedirectResponse(f"/web/members/{wanted}", status_code=303)
        return render(
            request,
            "member_lookup.html",
            principal,
            {"error": "a member id is letters, digits, '.', '_' or '-'"},
            status_code=422,
            title="Members",
        )
    return render(request, "member_lookup.html", principal, {"error": None}, title="Members")


@router.get("/web/members/{member_id}")
def member_page(
    request: Request,
    member_id: Annotated[str, MEMBER_ID],
    principal: Annotated[Principal, Depends(requires(Permission.MEMBER_READ, member_param="member_id"))],
) -> HTMLResponse:
    """One member. The read is audited by the service; outside the user's scope the access dependency
    refuses (403, audited) before anything is read."""
    deps = get_deps(request)
    summary = view_member(
        deps.uow_factory(),
        principal.user,
        member_id,
        members=deps.members,
        scopes=deps.scopes,
        now=deps.clock(),
        reason="GET /web/members/{member_id}",
    )
    return render(request, "member.html", principal, {"member": summary}, title="Member")


@router.get("/web/audit")
def audit_log(
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.AUDIT_READ))],
    member_id: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_AUDIT_PAGE)] = 200,
) -> HTMLResponse:
    deps = get_deps(request)
    since_at: datetime | None = None
    error = None
    if since:
        try:
            since_at = datetime.fromisoformat(since)
            if since_at.tzinfo is None:
                since_at = since_at.replace(tzinfo=deps.settings.plan_time_zone)
        except ValueError:
            error = "'since' must be a date or date-time like 2026-03-02 or 2026-03-02T09:00"
    events = list_audit_events(
        deps.uow_factory(),
        principal.user,
        now=deps.clock(),
        member_id=member_id or None,
        actor=actor or None,
        since=since_at,
        limit=limit,
    )
    return render(
        request,
        "audit.html",
        principal,
        {
            "events": list(reversed(events)),  # newest first on screen
            "filters": {"member_id": member_id or "", "actor": actor or "", "since": since or ""},
            "limit": limit,
            "error": error,
        },
        status_code=422 if error else 200,
        title="Audit log",
    )


def _users_page(
    request: Request, principal: Principal, *, error: str | None = None, field: str | None = None,
    created: str | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    deps = get_deps(request)
    users = list_users(deps.uow_factory(), actor=principal.user, now=deps.clock())
    return render(
        request,
        "users.html",
        principal,
        {
            "users": users,
            "roles": [r.value for r in Role],
            "error": error,
            "error_field": field,
            "created": created,
        },
        status_code=status_code,
        title="Users",
    )


@router.get("/web/users")
def users_page(
    request: Request, principal: Annotated[Principal, Depends(requires(Permission.USERS_MANAGE))]
) -> HTMLResponse:
    return _users_page(request, principal)


@router.post("/web/users", dependencies=[Depends(csrf_protect)])
def users_create(
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.USERS_MANAGE))],
    username: Annotated[str, Form(max_length=64)],
    display_name: Annotated[str, Form(max_length=200)],
    role: Annotated[list[str], Form()],
    password: Annotated[str, Form(max_length=256)] = "",
    organization_id: Annotated[str, Form(max_length=64)] = "",
    staff_id: Annotated[str, Form(max_length=64)] = "",
) -> HTMLResponse:
    deps = get_deps(request)
    known = {r.value: r for r in Role}
    unknown = [r for r in role if r not in known]
    if unknown or not role:
        return _users_page(request, principal, error="choose one or more known roles", field="role",
                           status_code=422)  # fmt: skip
    try:
        user = create_user(
            deps.uow_factory(),
            actor=principal.user,
            username=username.strip(),
            display_name=display_name,
            roles=[known[r] for r in role],
            password=password or None,
            hasher=deps.password_hasher,
            now=deps.clock(),
            organization_id=organization_id.strip() or None,
            staff_id=staff_id.strip() or None,
        )
    except InputError as exc:
        return _users_page(request, principal, error=exc.message, field=exc.field, status_code=422)
    return _users_page(request, principal, created=user.username, status_code=201)
