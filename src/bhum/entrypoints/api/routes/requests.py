"""Service requests: submit, evaluate, read, decide, appeal and peer-to-peer (issue 3).

Thin: the body is the request document of docs/authorization.md, parsed by the service layer, which
also checks member scope and records every read and change in the audit log.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from functools import lru_cache
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Request, status
from pydantic import BaseModel, Field

from bhum.adapters.holidays import us_federal_holidays_for_span
from bhum.domain.access import Permission
from bhum.domain.authorization import DecisionOutcome, DecisionReason
from bhum.domain.errors import InputError, InvalidTransition
from bhum.entrypoints.api.dependencies import ApiDependencies, Principal
from bhum.entrypoints.api.security import get_deps, requires
from bhum.policy import PackRegistry, load_packs
from bhum.services.auth_records import AppealOutcome, PeerToPeerOutcome
from bhum.services.auth_requests import parse_submission
from bhum.services.authorization import (
    Engine,
    decide_appeal,
    decide_request,
    evaluate_submission,
    file_appeal,
    get_request,
    record_peer_to_peer,
    submit_request,
)
from bhum.services.unit_of_work import UnitOfWork

router = APIRouter()
RequestId = Annotated[str, Path(min_length=1, max_length=64)]


@lru_cache(maxsize=4)
def _packs(packs_dir: FsPath) -> PackRegistry:
    return load_packs(packs_dir)


def _holidays(first: date, last: date) -> frozenset[date]:
    return us_federal_holidays_for_span(first, last)


def engine_for(deps: ApiDependencies) -> Engine:
    # The composition root's registry when it offers one, else the packs folder of the settings.
    packs = deps.packs() if deps.packs is not None else _packs(deps.settings.packs_dir)
    return Engine(packs, deps.settings.plan_time_zone, _holidays)


def uow_for(deps: ApiDependencies) -> UnitOfWork:
    uow: UnitOfWork = deps.uow_factory()
    return uow


@contextmanager
def conflicts() -> Iterator[None]:
    """A lifecycle move the rules refuse (deciding twice, appealing an approval) is a 409."""
    try:
        yield
    except InvalidTransition as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, "request refused") from exc


@router.post("/members/{member_id}/requests", status_code=status.HTTP_201_CREATED)
def post_request(
    member_id: Annotated[str, Path(min_length=1, max_length=64)],
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.REQUEST_SUBMIT, member_param="member_id"))],
    body: Annotated[dict[str, Any], Body()],
) -> dict[str, Any]:
    deps = get_deps(request)
    submission = parse_submission(body, source="POST /members/{member_id}/requests")
    if submission.request.member_id != member_id:
        raise InputError("the member in the body differs from the path", field="member.member_id")
    result = submit_request(
        uow_for(deps),
        engine_for(deps),
        submission,
        actor=principal.user,
        now=deps.clock(),
        scopes=deps.scopes,
    )
    return result.to_doc()


@router.post("/requests/evaluate")
def post_evaluate(
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.REQUEST_SUBMIT))],
    body: Annotated[dict[str, Any], Body()],
) -> dict[str, Any]:
    """Evaluate without storing: eligibility comes from the body."""
    deps = get_deps(request)
    return evaluate_submission(
        engine_for(deps), parse_submission(body, source="POST /requests/evaluate")
    ).to_doc()


@router.get("/requests/{request_id}")
def get_one(
    request_id: RequestId,
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.AUTHORIZATION_READ))],
) -> dict[str, Any]:
    deps = get_deps(request)
    return get_request(
        uow_for(deps),
        request_id,
        actor=principal.user,
        now=deps.clock(),
        scopes=deps.scopes,
    )


class ReasonIn(BaseModel):
    rule_id: str = Field(min_length=2, max_length=32)
    text: str = Field(min_length=1, max_length=2000)


class DecisionIn(BaseModel):
    outcome: DecisionOutcome
    reasons: list[ReasonIn] = Field(default_factory=list)
    units: int | None = Field(default=None, ge=1)


@router.post("/requests/{request_id}/decision")
def post_decision(
    request_id: RequestId,
    body: DecisionIn,
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.REQUEST_APPROVE))],
) -> dict[str, Any]:
    """A reviewer decides a pended request; a denial also needs request.deny and a physician
    reviewer's staff record (REG-04), checked by the service."""
    deps = get_deps(request)
    with conflicts():
        decision = decide_request(
            uow_for(deps),
            request_id,
            outcome=body.outcome,
            reviewer=principal.user,
            now=deps.clock(),
            reasons=[DecisionReason(r.rule_id, r.text) for r in body.reasons],
            units=body.units,
            scopes=deps.scopes,
        )
    return {
        "decision_id": decision.decision_id,
        "outcome": decision.outcome.value,
        "decided_by": decision.decided_by,
    }


class AppealIn(BaseModel):
    reason: str = Field(min_length=1, max_length=4000)


@router.post("/requests/{request_id}/appeals", status_code=status.HTTP_201_CREATED)
def post_appeal(
    request_id: RequestId,
    body: AppealIn,
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.REQUEST_SUBMIT))],
) -> dict[str, Any]:
    deps = get_deps(request)
    with conflicts():
        appeal = file_appeal(
            uow_for(deps),
            request_id,
            reason=body.reason,
            actor=principal.user,
            now=deps.clock(),
            scopes=deps.scopes,
        )
    return {"appeal_id": appeal.appeal_id, "request_id": appeal.request_id}


class AppealDecisionIn(BaseModel):
    outcome: AppealOutcome
    notes: str = Field(default="", max_length=4000)


@router.post("/appeals/{appeal_id}/decision")
def post_appeal_decision(
    appeal_id: Annotated[str, Path(min_length=1, max_length=80)],
    body: AppealDecisionIn,
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.REQUEST_REVIEW))],
) -> dict[str, Any]:
    deps = get_deps(request)
    with conflicts():
        appeal = decide_appeal(
            uow_for(deps),
            appeal_id,
            outcome=body.outcome,
            reviewer=principal.user,
            now=deps.clock(),
            notes=body.notes,
            scopes=deps.scopes,
        )
    return {
        "appeal_id": appeal.appeal_id,
        "outcome": None if appeal.outcome is None else appeal.outcome.value,
    }


class PeerToPeerIn(BaseModel):
    outcome: PeerToPeerOutcome
    notes: str = Field(default="", max_length=4000)


@router.post("/requests/{request_id}/peer-to-peer")
def post_peer_to_peer(
    request_id: RequestId,
    body: PeerToPeerIn,
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.REQUEST_REVIEW))],
) -> dict[str, Any]:
    deps = get_deps(request)
    with conflicts():
        record = record_peer_to_peer(
            uow_for(deps),
            request_id,
            outcome=body.outcome,
            reviewer=principal.user,
            now=deps.clock(),
            notes=body.notes,
            scopes=deps.scopes,
        )
    return {"p2p_id": record.p2p_id, "outcome": None if record.outcome is None else record.outcome.value}
