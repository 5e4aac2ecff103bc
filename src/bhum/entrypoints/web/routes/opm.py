"""Outpatient management for plan clinicians (OPM-03..07): flagged members ranked, each flag with its
rule, measure against threshold and evidence; the program's open cases with their letters' dates, the
OPM-04 due date and state."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from bhum.domain.access import Permission
from bhum.entrypoints.api.dependencies import Principal
from bhum.entrypoints.api.security import get_deps, requires
from bhum.entrypoints.web.templating import render
from bhum.services.opm import list_cases, list_flags

router = APIRouter(include_in_schema=False)


@router.get("/web/opm")
def opm_overview(
    request: Request, principal: Annotated[Principal, Depends(requires(Permission.OPM_RUN))]
) -> HTMLResponse:
    """Every member shown is an audited read (the services record them)."""
    deps = get_deps(request)
    now = deps.clock()
    with deps.uow_factory() as uow:
        flags = list(list_flags(uow, principal.user, now=now, limit=100))
    with deps.uow_factory() as uow:
        cases = list(list_cases(uow, principal.user, now=now, limit=200))
    today = now.astimezone(deps.settings.plan_time_zone).date()
    return render(
        request,
        "opm.html",
        principal,
        {"flags": flags, "cases": sorted(cases, key=lambda c: (c.due_on, c.case_id)), "today": today},
        title="Outpatient management",
    )
