"""Clinical review: the work queue (soonest due first, with the clock and the rule that set it), the
request page (clinical information, each criterion met / not met / unknown with its evidence, history,
decisions and letters) and the reviewer's decision, appeal and peer-to-peer forms."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bhum.domain.access import Permission, permissions_of
from bhum.domain.authorization import DecisionOutcome, DecisionReason
from bhum.domain.errors import BhumError, InputError, PermissionDenied
from bhum.entrypoints.api.dependencies import Principal
from bhum.entrypoints.api.security import get_deps, requires
from bhum.entrypoints.web.security import csrf_protect
from bhum.entrypoints.web.templating import render
from bhum.services.auth_records import PeerToPeerOutcome
from bhum.services.authorization import decide_request, file_appeal, get_request, record_peer_to_peer
from bhum.services.metrics import work_queue

router = APIRouter(include_in_schema=False)
REQUEST_ID = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
# What a reviewer may decide on this page; "denied" is offered only to holders of request.deny (REG-04).
DECISIONS = (
    (DecisionOutcome.APPROVED, "Approve"),
    (DecisionOutcome.PARTIALLY_APPROVED, "Partially approve"),
    (DecisionOutcome.DENIED, "Deny (physician reviewers only)"),
    (DecisionOutcome.WITHDRAWN, "Withdrawn by the provider"),
)


@router.get("/web/queue")
def queue(
    request: Request, principal: Annotated[Principal, Depends(requires(Permission.REQUEST_REVIEW))]
) -> HTMLResponse:
    deps = get_deps(request)
    now = deps.clock()
    items = work_queue(deps.uow_factory(), principal.user, now=now)
    return render(request, "queue.html", principal, {"items": items, "now": now}, title="Work queue")


def _request_page(
    request: Request,
    principal: Principal,
    request_id: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    deps = get_deps(request)
    doc: dict[str, Any] = get_request(
        deps.uow_factory(), request_id, actor=principal.user, now=deps.clock(), scopes=deps.scopes
    )
    granted = permissions_of(principal.user)
    decisions = [
        (o.value, label)
        for o, label in DECISIONS
        if o is not DecisionOutcome.DENIED or Permission.REQUEST_DENY in granted
    ]
    return render(
        request,
        "request.html",
        principal,
        {
            "doc": doc,
            "decisions": decisions,
            "can_decide": Permission.REQUEST_APPROVE in granted and doc["status"] == "pended",
            "can_review": Permission.REQUEST_REVIEW in granted,
            "can_appeal": Permission.REQUEST_SUBMIT in granted
            and doc["status"] in {"denied", "partially_approved"},
            "p2p_outcomes": [o.value for o in PeerToPeerOutcome],
            "error": error,
            "done": request.query_params.get("done"),
        },
        status_code=status_code,
        title=f"Request {request_id}",
    )


@router.get("/web/requests/{request_id}")
def request_page(
    request: Request,
    request_id: Annotated[str, REQUEST_ID],
    principal: Annotated[Principal, Depends(requires(Permission.AUTHORIZATION_READ))],
) -> HTMLResponse:
    """The service checks the member's scope (a provider sees only its organization's requests)."""
    return _request_page(request, principal, request_id)


@router.post("/web/requests/{request_id}/decision", dependencies=[Depends(csrf_protect)])
def decide(
    request: Request,
    request_id: Annotated[str, REQUEST_ID],
    principal: Annotated[Principal, Depends(requires(Permission.REQUEST_APPROVE))],
    outcome: Annotated[str, Form(max_length=32)],
    units: Annotated[str, Form(max_length=6)] = "",
    rule_id: Annotated[str, Form(max_length=32)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    deps = get_deps(request)
    try:
        chosen = DecisionOutcome(outcome)
        if units and not units.isdigit():
            raise InputError("units are a whole number", field="units", record=request_id)
        reasons = (
            [DecisionReason(rule_id.strip(), reason.strip())] if rule_id.strip() and reason.strip() else []
        )
        decide_request(
            deps.uow_factory(),
            request_id,
            outcome=chosen,
            reviewer=principal.user,
            now=deps.clock(),
            reasons=reasons,
            units=int(units) if units else None,
            scopes=deps.scopes,
        )
    except ValueError:
        return _request_page(request, principal, request_id, error="choose a decision", status_code=422)
    except PermissionDenied as exc:
        return _request_page(request, principal, request_id, error=f"not allowed: {exc}", status_code=403)
    except InputError as exc:
        where = f" (field: {exc.field})" if exc.field else ""
        return _request_page(request, principal, request_id, error=exc.message + where, status_code=422)
    except BhumError as exc:  # e.g. an illegal status change: the request was decided meanwhile
        return _request_page(request, principal, request_id, error=str(exc), status_code=409)
    return RedirectResponse(f"/web/requests/{request_id}?done=decision", status_code=303)


@router.post("/web/requests/{request_id}/appeals", dependencies=[Depends(csrf_protect)])
def appeal(
    request: Request,
    request_id: Annotated[str, REQUEST_ID],
    principal: Annotated[Principal, Depends(requires(Permission.REQUEST_SUBMIT))],
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    deps = get_deps(request)
    try:
        file_appeal(
            deps.uow_factory(),
            request_id,
            reason=reason,
            actor=principal.user,
            now=deps.clock(),
            scopes=deps.scopes,
        )
    except InputError as exc:
        return _request_page(request, principal, request_id, error=exc.message, status_code=422)
    return RedirectResponse(f"/web/requests/{request_id}?done=appeal", status_code=303)


@router.post("/web/requests/{request_id}/peer-to-peer", dependencies=[Depends(csrf_protect)])
def peer_to_peer(
    request: Request,
    request_id: Annotated[str, REQUEST_ID],
    principal: Annotated[Principal, Depends(requires(Permission.REQUEST_REVIEW))],
    outcome: Annotated[str, Form(max_length=32)],
    notes: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    deps = get_deps(request)
    try:
        record_peer_to_peer(
            deps.uow_factory(),
            request_id,
            outcome=PeerToPeerOutcome(outcome),
            reviewer=principal.user,
            now=deps.clock(),
            notes=notes,
            scopes=deps.scopes,
        )
    except ValueError:
        return _request_page(request, principal, request_id, error="choose an outcome", status_code=422)
    except InputError as exc:
        return _request_page(request, principal, request_id, error=exc.message, status_code=422)
    return RedirectResponse(f"/web/requests/{request_id}?done=peer-to-peer", status_code=303)
