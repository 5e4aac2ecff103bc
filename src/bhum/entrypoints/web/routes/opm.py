"""Outpatient management for plan clinicians (OPM-03..07): flagged members ranked, each flag with its
rule, measure against threshold and evidence; the program's open cases with their letters' dates, the
OPM-04 due date and state; a case page with the returned Clinical Update Request Form and the BH
clinical reviewer's OPM-06 determination form."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bhum.domain.access import Permission
from bhum.domain.errors import BhumError, InputError, NotFound, PermissionDenied
from bhum.domain.opm import LevelOfCare, OpmDetermination
from bhum.entrypoints.api.dependencies import Principal
from bhum.entrypoints.api.security import get_deps, requires
from bhum.entrypoints.web.security import csrf_protect
from bhum.entrypoints.web.templating import render
from bhum.services.opm import REVIEWER_ROLES, list_cases, list_flags, record_determination, view_case
from bhum.services.opm_records import OpmCaseState

router = APIRouter(include_in_schema=False)
CASE_ID = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
# The OPM-06 determinations, in the words the reviewer picks from.
DETERMINATIONS = (
    (OpmDetermination.CONTINUE, "Continue: the current treatment plan is appropriate"),
    (OpmDetermination.MODIFY, "Modify the level, intensity or duration"),
    (OpmDetermination.STEP_UP, "Step up to a more intensive level (name it)"),
    (OpmDetermination.STEP_DOWN, "Step down to a less intensive level (name it)"),
    (OpmDetermination.REFER_COMMUNITY_RESOURCES, "Refer to community resources (name them)"),
    (OpmDetermination.CONDITION_MANAGEMENT, "Condition management program (name it)"),
)


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


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _case_page(
    request: Request, principal: Principal, case_id: str, *, error: str | None = None,
    values: dict[str, str] | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    deps = get_deps(request)
    now = deps.clock()
    with deps.uow_factory() as uow:
        record = view_case(uow, principal.user, case_id, now=now)  # audited read; NotFound -> 404
    form: dict[str, Any] = record.form or {}
    return render(
        request,
        "opm_case.html",
        principal,
        {
            "c": record,
            "form": form,
            "review": record.review,
            "today": now.astimezone(deps.settings.plan_time_zone).date(),
            # OPM-06: only BH clinical reviewers decide, and only on a returned form.
            "can_determine": bool(principal.user.roles & REVIEWER_ROLES)
            and record.state is OpmCaseState.IN_REVIEW
            and record.form is not None,
            "determinations": [(d.value, label) for d, label in DETERMINATIONS],
            "levels": [lvl.value for lvl in LevelOfCare],
            "error": error,
            "v": values or {},
            "done": request.query_params.get("done"),
        },
        status_code=status_code,
        title=f"Case {case_id}",
    )


@router.get("/web/opm/cases/{case_id}")
def case_page(
    request: Request,
    case_id: Annotated[str, CASE_ID],
    principal: Annotated[Principal, Depends(requires(Permission.OPM_RUN))],
) -> HTMLResponse:
    """One outpatient-management case: flags, letters, the OPM-04 due date, the returned form and the
    determination (or its form, for a reviewer, once the form is back)."""
    return _case_page(request, principal, case_id)


@router.post("/web/opm/cases/{case_id}/determination", dependencies=[Depends(csrf_protect)])
def determine(
    request: Request,
    case_id: Annotated[str, CASE_ID],
    principal: Annotated[Principal, Depends(requires(Permission.REQUEST_REVIEW))],
    determination: Annotated[str, Form(max_length=40)] = "",
    rationale: Annotated[str, Form(max_length=4000)] = "",
    recommended_level: Annotated[str, Form(max_length=40)] = "",
    recommendations: Annotated[str, Form(max_length=4000)] = "",
    referrals: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """OPM-06: the service checks the reviewer's role, that a form was returned and that a step up or
    down goes the right way; it closes the case and records the determination in the audit trail."""
    deps = get_deps(request)
    values = {
        "determination": determination,
        "rationale": rationale,
        "recommended_level": recommended_level,
        "recommendations": recommendations,
        "referrals": referrals,
    }
    try:
        try:
            chosen = OpmDetermination(determination)
        except ValueError as exc:
            raise InputError("choose a determination", field="determination", record=case_id) from exc
        try:
            level = LevelOfCare(recommended_level) if recommended_level else None
        except ValueError as exc:
            raise InputError("choose a level of care", field="recommended_level", record=case_id) from exc
        with deps.uow_factory() as uow:
            record_determination(
                uow,
                principal.user,
                case_id,
                chosen,
                rationale.strip(),
                now=deps.clock(),
                recommended_level=level,
                recommendations=_lines(recommendations),
                referrals=_lines(referrals),
            )
    except InputError as exc:
        where = f" (field: {exc.field})" if exc.field else ""
        error = exc.message + where
        return _case_page(request, principal, case_id, error=error, values=values, status_code=422)
    except (PermissionDenied, NotFound):
        raise  # the 403 / 404 page (refusals audited)
    except BhumError as exc:
        # No returned form to review, or already determined (InvalidTransition).
        return _case_page(request, principal, case_id, error=str(exc), values=values, status_code=409)
    return RedirectResponse(f"/web/opm/cases/{case_id}?done=determination", status_code=303)
