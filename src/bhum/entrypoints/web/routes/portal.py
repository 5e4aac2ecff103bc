"""The provider portal: the organization's authorizations with units used and remaining and those
expiring (MN-04, IOP-13), the Clinical Update Request Forms it owes (OPM-04) and the form itself,
filled in online and returned through the outpatient-management service (OPM-06); a service request
submitted online (the authorization service evaluates it: REG-01 clock, criteria, pend or approve);
and the newest claim check's decisions on the organization's lines."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bhum.adapters.holidays import us_federal_holidays_for_span
from bhum.domain.access import Permission
from bhum.domain.authorization import ReviewKind, Urgency
from bhum.domain.clinical import AsamDimension, CrossCuttingDomain, RiskLevel
from bhum.domain.errors import BhumError, InputError, PermissionDenied
from bhum.domain.opm import LevelOfCare, ProgressRating
from bhum.domain.values import CPT, HCPCS, ICD10CM
from bhum.entrypoints.api.dependencies import Principal
from bhum.entrypoints.api.security import get_deps, requires
from bhum.entrypoints.web.security import csrf_protect
from bhum.entrypoints.web.templating import render
from bhum.policy import load_packs
from bhum.services.auth_requests import parse_submission
from bhum.services.authorization import Engine, submit_request
from bhum.services.metrics import (
    decision_lines_reader,
    form_to_return,
    organization_providers,
    provider_claim_decisions,
    provider_portal,
)
from bhum.services.opm import submit_form
from bhum.services.utilization import lead_time_days

router = APIRouter(include_in_schema=False)
CASE_ID = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
DEFAULT_LEAD_DAYS = 14  # IOP-13, when no pack says otherwise


def _engine(request: Request) -> Engine:
    """The authorization engine over the served app's packs (``deps.packs`` is a callable)."""
    deps = get_deps(request)
    registry = deps.packs() if deps.packs is not None else load_packs(deps.settings.packs_dir)
    return Engine(registry, deps.settings.plan_time_zone, us_federal_holidays_for_span)


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


# --- claim decisions ---------------------------------------------------------------------------------


def claim_check_folders(request: Request) -> list[FsPath]:
    """Where checks are written: the claims API (``claim-checks/<id>/``) and the demo batch."""
    data_dir = get_deps(request).settings.data_dir
    return [data_dir / "claim-checks", data_dir / "demo" / "claims"]


@router.get("/web/portal/claims")
def claim_decisions(
    request: Request, principal: Annotated[Principal, Depends(requires(Permission.REQUEST_SUBMIT))]
) -> HTMLResponse:
    """The newest claim check's decisions on lines the organization's providers billed or rendered."""
    deps = get_deps(request)
    view = provider_claim_decisions(
        deps.uow_factory(),
        principal.user,
        read_lines=decision_lines_reader(claim_check_folders(request)),
        now=deps.clock(),
    )
    return render(request, "portal_claims.html", principal, {"c": view}, title="Claim decisions")


# --- submitting a service request ------------------------------------------------------------------

SERVICES = (
    (HCPCS, "S9480", "Intensive outpatient psychiatric services, per diem"),
    (HCPCS, "H0015", "Alcohol and/or drug services; intensive outpatient"),
    (HCPCS, "H0035", "Mental health partial hospitalization, less than 24 hours"),
    (HCPCS, "H2036", "Alcohol and/or other drug treatment program, per diem"),
    (CPT, "90837", "Psychotherapy, 60 minutes"),
    (CPT, "96130", "Psychological testing evaluation, first hour"),
)
SEVERITIES = ("0", "1", "2", "3", "4")


def _request_form_page(
    request: Request, principal: Principal, *, error: str | None = None, field: str | None = None,
    values: dict[str, str] | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    deps = get_deps(request)
    today = deps.clock().astimezone(deps.settings.plan_time_zone).date()
    return render(
        request,
        "portal_request.html",
        principal,
        {
            "providers": organization_providers(deps.uow_factory(), principal.user),
            "services": [(code, display) for _, code, display in SERVICES],
            "domains": [d.value for d in CrossCuttingDomain],
            "asam": [(d.value, d.name.replace("_", " ").lower()) for d in AsamDimension],
            "severities": SEVERITIES,
            "risks": [r.value for r in RiskLevel],
            "urgencies": [u.value for u in Urgency],
            "kinds": [k.value for k in ReviewKind],
            "error": error,
            "error_field": field,
            "v": values or {},
            "today": today,
        },
        status_code=status_code,
        title="New service request",
    )


@router.get("/web/portal/requests/new")
def request_form(
    request: Request, principal: Annotated[Principal, Depends(requires(Permission.REQUEST_SUBMIT))]
) -> HTMLResponse:
    return _request_form_page(request, principal)


def _number(text: str) -> float | int | str | None:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text  # the parser names the field


def _goals(text: str) -> list[dict[str, Any]]:
    """One goal a line: "goal | intervention; intervention"."""
    goals = []
    for line in text.splitlines():
        if not line.strip():
            continue
        description, _, interventions = line.partition("|")
        goals.append(
            {
                "description": description.strip(),
                "interventions": [i.strip() for i in interventions.split(";") if i.strip()],
            }
        )
    return goals


def submission_doc(form: dict[str, str], *, request_id: str, received_at: datetime) -> dict[str, Any]:
    """The request document ``parse_submission`` reads, from the portal form's fields."""
    code = form.get("service_code", "").strip()
    system = next((s for s, c, _ in SERVICES if c == code), CPT if code.isdigit() else HCPCS)
    display = next((d for _, c, d in SERVICES if c == code), None)
    clinical: dict[str, Any] = {
        "diagnoses": [
            {"system": ICD10CM, "code": d.strip().upper()}
            for d in form.get("diagnoses", "").split(",")
            if d.strip()
        ],
        "functioning": form.get("functioning", "").strip(),
        "cross_cutting": {
            d.value: _number(form[f"cc_{d.value}"])
            for d in CrossCuttingDomain
            if form.get(f"cc_{d.value}", "")
        },
        "asam": {
            str(d.value): _number(form[f"asam_{d.value}"])
            for d in AsamDimension
            if form.get(f"asam_{d.value}", "")
        },
        "goals": _goals(form.get("goals", "")),
    }
    for name in ("locus_level", "planned_hours_per_week", "planned_days_per_week"):
        value = _number(form.get(name, ""))
        if value is not None:
            clinical[name] = value
    if form.get("physical_exam_date", "").strip():
        clinical["physical_exam_date"] = form["physical_exam_date"].strip()
    if form.get("risk_assessed_on", "").strip():
        clinical["risk_assessments"] = [
            {
                "assessed_on": form["risk_assessed_on"].strip(),
                "suicide_risk": form.get("suicide_risk") or "none",
                "homicide_risk": form.get("homicide_risk") or "none",
                "self_care_risk": form.get("self_care_risk") or "none",
            }
        ]
    program: dict[str, Any] = {"assessor_licensed": form.get("assessor_licensed") == "yes"}
    hours = _number(form.get("consecutive_hours_per_day", ""))
    if hours is not None:
        program["consecutive_hours_per_day"] = hours
    npi = form.get("servicing_provider_npi", "").strip()
    return {
        "request_id": request_id,
        "member": {"member_id": form.get("member_id", "").strip()},
        "requesting_provider_npi": npi,
        "servicing_provider_npi": npi,
        "service_codes": [{"system": system, "code": code, **({"display": display} if display else {})}],
        "requested_units": _number(form.get("requested_units", "")),
        "requested_span": {"start": form.get("start", "").strip(), "end": form.get("end", "").strip()},
        "urgency": form.get("urgency") or "standard",
        "review_kind": form.get("review_kind") or "pre_service",
        "received_at": received_at.isoformat(),
        "clinical": clinical,
        "program": program,
    }


FORM_FIELDS = frozenset(
    {
        "member_id", "servicing_provider_npi", "service_code", "requested_units", "start", "end", "urgency",
        "review_kind", "diagnoses", "functioning", "locus_level", "goals", "physical_exam_date",
        "planned_hours_per_week", "planned_days_per_week", "risk_assessed_on", "suicide_risk",
        "homicide_risk", "self_care_risk", "consecutive_hours_per_day", "assessor_licensed",
        *(f"cc_{d.value}" for d in CrossCuttingDomain), *(f"asam_{d.value}" for d in AsamDimension),
    }
)  # fmt: skip


def _submit(request: Request, principal: Principal, form: dict[str, str]) -> Response:
    deps = get_deps(request)
    now = deps.clock()
    request_id = f"WEB-{now.astimezone(deps.settings.plan_time_zone):%Y%m%d}-{uuid.uuid4().hex[:8].upper()}"
    try:
        own = {npi for npi, _ in organization_providers(deps.uow_factory(), principal.user)}
        if form.get("servicing_provider_npi", "").strip() not in own:
            raise InputError("choose one of your organization's providers", field="servicing_provider_npi")
        doc = submission_doc(form, request_id=request_id, received_at=now)
        submission = parse_submission(doc, source="provider portal request form")
        submit_request(
            deps.uow_factory(),
            _engine(request),
            submission,
            actor=principal.user,
            now=now,
            scopes=deps.scopes,
        )
    except PermissionDenied:
        raise  # a member the organization does not serve: the 403 page (refusal audited)
    except InputError as exc:
        where = f" (field: {exc.field})" if exc.field else ""
        return _request_form_page(request, principal, error=exc.message + where, field=exc.field,
                                  values=form, status_code=422)  # fmt: skip
    return RedirectResponse(f"/web/requests/{request_id}?done=submitted", status_code=303)


@router.post("/web/portal/requests", dependencies=[Depends(csrf_protect)])
async def submit_service_request(
    request: Request, principal: Annotated[Principal, Depends(requires(Permission.REQUEST_SUBMIT))]
) -> Response:
    """A provider submits a service request online: the form becomes the request document, the
    authorization service stores and evaluates it (approve, pend to clinical review or an
    administrative denial) in one transaction, and the provider lands on the request page."""
    raw = await request.form()
    form = {k: v[:4000] for k, v in raw.items() if k in FORM_FIELDS and isinstance(v, str)}
    return await run_in_threadpool(_submit, request, principal, form)
