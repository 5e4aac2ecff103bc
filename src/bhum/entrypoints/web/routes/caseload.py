"""The case manager's page: their caseload with its TCM-06 size and status, open tasks soonest due
first (TCM-07 outreach, TCM-08 monthly contact; overdue marked), each member's consent status
(COC-04, REG-06) and documentation gaps (TCM-09 elements missing from recent progress notes, TCM-10
signatures missing from the service plan in effect, or no plan in effect)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from bhum.domain.access import Permission
from bhum.domain.errors import PermissionDenied
from bhum.entrypoints.api.dependencies import Principal
from bhum.entrypoints.api.security import get_deps, requires
from bhum.entrypoints.web.templating import render
from bhum.services.care_records import CareUnitOfWork
from bhum.services.case_management import list_open_tasks, view_caseload
from bhum.services.consent import list_consents
from bhum.services.metrics import RECENT_NOTE_DAYS, documentation_gaps

router = APIRouter(include_in_schema=False)


def _care_uow(request: Request) -> CareUnitOfWork:
    uow = get_deps(request).uow_factory()
    if not isinstance(uow, CareUnitOfWork):
        raise RuntimeError("the composition root's unit of work lacks the care-management repositories")
    return uow


@router.get("/web/caseload")
def caseload(
    request: Request, principal: Annotated[Principal, Depends(requires(Permission.CASE_MANAGE))]
) -> HTMLResponse:
    deps = get_deps(request)
    now = deps.clock()
    staff_id = principal.user.staff_id
    if not staff_id:
        raise PermissionDenied("a caseload belongs to a staff record; this user has none")
    view = view_caseload(_care_uow(request), principal.user, staff_id=staff_id, now=now)
    tasks = list_open_tasks(_care_uow(request), principal.user, now=now)
    today = now.astimezone(deps.settings.plan_time_zone).date()
    consents: dict[str, dict[str, Any]] = {}
    for entry in view.entries:
        uow = _care_uow(request)  # the scope resolver reads through the same unit of work
        registry = list_consents(
            uow, principal.user, member_id=entry.member_id, scopes=deps.scopes(uow), now=now
        )
        in_effect = [c for c in registry if c.in_effect_on(today)]
        consents[entry.member_id] = {
            "in_effect": len(in_effect),
            "total": len(registry),
            "scopes": sorted({c.scope.value for c in in_effect}),
        }
    gaps = documentation_gaps(
        _care_uow(request),
        principal.user,
        [e.member_id for e in view.entries],
        scopes=deps.scopes,
        now=now,
        as_of=today,
    )
    return render(
        request,
        "caseload.html",
        principal,
        {
            "view": view,
            "tasks": tasks,
            "now": now,
            "consents": consents,
            "gaps": [g for g in gaps if g.has_gaps],
            "recent_days": RECENT_NOTE_DAYS,
            "today": today,
        },
        title="Caseload",
    )
