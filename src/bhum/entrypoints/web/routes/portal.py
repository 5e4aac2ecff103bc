"""The provider portal: the organization's authorizations with units used and remaining and those
expiring (MN-04, IOP-13), the Clinical Update Request Forms it owes (OPM-04) and the form itself,
filled in online and returned through the outpatient-management service (OPM-06)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bhum.domain.access import Permission
from bhum.domain.errors import BhumError, InputError, PermissionDenied
from bhum.domain.opm import LevelOfCare, ProgressRating
from bhum.entrypoints.api.dependencies import Principal
from bhum.entrypoints.api.security import get_deps, requires
from bhum.entrypoints.web.security import csrf_protect
from bhum.entrypoints.web.templating import render
from bhum.policy import load_packs
from bhum.services.metrics import form_to_return, provider_portal
from bhum.services.opm import submit_form
from bhum.services.utilization import lead_time_days

router = APIRouter(include_in_schema=False)
CASE_ID = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
DEFAULT_LEAD_DAYS = 14  # IOP-13, when no pack says otherwise


def _lead_days(request: Request) -> int:
    deps = get_deps(request)
    try:
        registry = deps.packs() if deps.packs is not None else load_packs(deps.settings.packs_dir)
        return lead_time_days(registry)
    except BhumError:
        return DEFAULT_LEAD_DAYS


@router.get("/web/portal")
def portal(
    request: Request, principal: Annotated[Principal, Depends(requires(Permission.REQUEST_SUBMIT))]
) -> HTMLResponse:
    deps = get_deps(request)
    now = deps.clock()
    today = now.astimezone(deps.settings.plan_time_zone).date()
    view = provider_portal(
        deps.uow_factory(), principal.user, now=now, today=today, lead_days=_lead_days(request)
    )
    return render(
        request,
        "portal.html",
        principal,
        {
            "p": view,
            "today": today,
            "expiring": view.expiring(today),
            "done": request.query_params.get("done"),
        },
        title="Provider portal",
    )


def _form_page(
    request: Request, principal: Principal, case_id: str, *, error: str | None = None,
    values: dict[str, Any] | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    deps = get_deps(request)
    form = form_to_return(deps.uow_factory(), principal.user, case_id, now=deps.clock())
    return render(
        request,
        "cur_form.html",
        principal,
        {
            "f": form,
            "levels": [lvl.value for lvl in LevelOfCare],
            "ratings": [r.value for r in ProgressRating],
            "error": error,
            "v": values or {},
        },
        status_code=status_code,
        title="Clinical Update Request Form",
    )


@router.get("/web/portal/forms/{case_id}")
def form_page(
    request: Request,
    case_id: Annotated[str, CASE_ID],
    principal: Annotated[Principal, Depends(requires(Permission.REQUEST_SUBMIT))],
) -> HTMLResponse:
    return _form_page(request, principal, case_id)


@router.post("/web/portal/forms/{case_id}", dependencies=[Depends(csrf_protect)])
def return_form(
    request: Request,
    case_id: Annotated[str, CASE_ID],
    principal: Annotated[Principal, Depends(requires(Permission.REQUEST_SUBMIT))],
    treatment_plan: Annotated[str, Form(max_length=4000)] = "",
    goals: Annotated[str, Form(max_length=4000)] = "",
    level_of_care: Annotated[str, Form(max_length=40)] = "",
    sessions_per_week: Annotated[str, Form(max_length=6)] = "",
    session_minutes: Annotated[str, Form(max_length=6)] = "",
    expected_end: Annotated[str, Form(max_length=10)] = "",
    progress: Annotated[str, Form(max_length=20)] = "",
    functioning: Annotated[str, Form(max_length=4000)] = "",
    pcp_coordinated: Annotated[str, Form(max_length=5)] = "no",
    pcp_last_contact_on: Annotated[str, Form(max_length=10)] = "",
    pcp_note: Annotated[str, Form(max_length=2000)] = "",
    progress_note: Annotated[str, Form(max_length=4000)] = "",
    diagnoses: Annotated[str, Form(max_length=200)] = "",
    risk: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The form's answers become the service's JSON form; the service validates every answer (naming
    the question) and moves the case to clinical review (OPM-06). Every field is optional here so the
    organization check comes first and the service names the missing question."""
    deps = get_deps(request)
    values = {k: v for k, v in locals().items() if isinstance(v, str)}

    def number(text: str) -> float | str:
        try:
            return float(text)
        except ValueError:
            return text  # the service names the field

    doc: dict[str, Any] = {
        "treatment_plan": treatment_plan,
        "goals": [g.strip() for g in goals.splitlines() if g.strip()],
        "level_intensity_duration": {
            "level_of_care": level_of_care,
            "sessions_per_week": number(sessions_per_week),
            "session_minutes": number(session_minutes),
            "expected_end": expected_end,
        },
        "progress": {"rating": progress, "note": progress_note},
        "functioning": functioning,
        "pcp_coordination": {
            "coordinated": pcp_coordinated == "yes",
            "last_contact_on": pcp_last_contact_on or None,
            "note": pcp_note,
        },
        "diagnoses": [d.strip() for d in diagnoses.split(",") if d.strip()],
    }
    if risk.strip():
        doc["risk"] = risk
    try:
        form_to_return(deps.uow_factory(), principal.user, case_id, now=deps.clock())  # scope, audited
        with deps.uow_factory() as uow:  # the service works inside the caller's unit of work
            submit_form(
                uow,
                principal.user,
                case_id,
                doc,
                now=deps.clock(),
                tz=deps.settings.plan_time_zone,
                source="web form",
            )
    except PermissionDenied:
        raise
    except InputError as exc:
        where = f" (question: {exc.field})" if exc.field else ""
        return _form_page(
            request, principal, case_id, error=exc.message + where, values=values, status_code=422
        )
    except BhumError as exc:  # late (OPM-07) or already returned
        return _form_page(request, principal, case_id, error=str(exc), values=values, status_code=409)
    return RedirectResponse(f"/web/portal?done={case_id}", status_code=303)
