"""Focused Outpatient Management routes (OPM-03..OPM-08): ranked flags with evidence, cases, letter
PDF downloads, the returned Clinical Update Request Form and the clinical determination.

Every route declares its permission; routes about one member name the member in the path so the
access dependency checks scope (a provider user reaches only members their organization serves). The
services audit every read and change and enforce the finer rules: only provider users of the case's
provider organization return its form, only clinical reviewer roles record a determination.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from bhum.domain.access import Permission
from bhum.domain.errors import InvalidTransition, NotFound
from bhum.domain.opm import LevelOfCare, OpmDetermination
from bhum.entrypoints.api.dependencies import ApiDependencies, Principal
from bhum.entrypoints.api.security import get_deps, requires
from bhum.services import opm as service
from bhum.services.opm_records import OpmCaseRecord, OpmCaseState, StoredFlag, opm_records
from bhum.services.unit_of_work import UnitOfWork

router = APIRouter(prefix="/opm")

MemberId = Annotated[str, PathParam(min_length=1, max_length=64)]
CaseId = Annotated[str, PathParam(min_length=1, max_length=128)]


def opm_uow(deps: ApiDependencies) -> UnitOfWork:
    """The OPM-aware unit of work (``opm_uow_factory`` when the composition root offers one)."""
    factory = getattr(deps, "opm_uow_factory", None) or deps.uow_factory
    uow: UnitOfWork = factory()
    return uow


class FlagOut(BaseModel):
    member_id: str
    member_rank: int
    member_score: float
    rule_id: str
    implements: str
    title: str
    as_of: date
    measure: str
    value: float
    comparator: str
    threshold: float
    evidence: str
    score: float
    index_date: date | None
    claim_ids: list[str]
    claim_dates: list[date]
    sentence: str
    pack_version: str

    @classmethod
    def of(cls, f: StoredFlag) -> FlagOut:
        return cls(
            member_id=f.member_id,
            member_rank=f.member_rank,
            member_score=f.member_score,
            rule_id=f.rule_id,
            implements=f.implements,
            title=f.title,
            as_of=f.as_of,
            measure=f.measure,
            value=f.value,
            comparator=f.comparator,
            threshold=f.threshold,
            evidence=f.evidence,
            score=f.score,
            index_date=f.index_date,
            claim_ids=list(f.claim_ids),
            claim_dates=list(f.claim_dates),
            sentence=f.sentence,
            pack_version=f.pack_version,
        )


class CaseOut(BaseModel):
    case_id: str
    member_id: str
    provider_npi: str
    state: OpmCaseState
    cycle: str
    letter_date: date
    due_on: date
    flag_rule_ids: list[str]
    services: list[dict[str, str | None]]
    authorization_ids: list[str]
    letter_ids: list[str]
    form: dict[str, Any] | None
    review: dict[str, Any] | None
    discontinued_from: date | None

    @classmethod
    def of(cls, c: OpmCaseRecord) -> CaseOut:
        return cls(
            case_id=c.case_id,
            member_id=c.member_id,
            provider_npi=c.provider_npi,
            state=c.state,
            cycle=c.cycle,
            letter_date=c.letter_date,
            due_on=c.due_on,
            flag_rule_ids=list(c.flag_rule_ids),
            services=[{"system": s.system, "code": s.code, "display": s.display} for s in c.services],
            authorization_ids=list(c.authorization_ids),
            letter_ids=list(c.letter_ids),
            form=c.form,
            review=c.review,
            discontinued_from=c.discontinued_from,
        )


class DeterminationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    determination: OpmDetermination
    rationale: str = Field(min_length=1, max_length=4000)
    recommended_level: LevelOfCare | None = None
    recommendations: list[str] = Field(default_factory=list, max_length=20)
    referrals: list[str] = Field(default_factory=list, max_length=20)


def _member_case(uow: UnitOfWork, member_id: str, case_id: str) -> None:
    """The case must belong to the member named in the path (the scope was checked on that member)."""
    record = opm_records(uow).get_case(case_id)
    if record is None or record.member_id != member_id:
        raise NotFound(f"member {member_id} has no outpatient-management case {case_id}")


@router.get("/flags", response_model=list[FlagOut])
def list_flags(
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.OPM_RUN))],
    as_of: date | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[FlagOut]:
    """Ranked flags with evidence (plan clinical staff who run the program)."""
    deps = get_deps(request)
    with opm_uow(deps) as uow:
        rows = service.list_flags(uow, principal.user, now=deps.clock(), as_of=as_of, limit=limit)
    return [FlagOut.of(f) for f in rows]


@router.get("/cases", response_model=list[CaseOut])
def list_cases(
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.OPM_RUN))],
    state: OpmCaseState | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[CaseOut]:
    deps = get_deps(request)
    with opm_uow(deps) as uow:
        rows = service.list_cases(uow, principal.user, now=deps.clock(), state=state, limit=limit)
    return [CaseOut.of(c) for c in rows]


@router.get("/members/{member_id}/cases/{case_id}", response_model=CaseOut)
def get_case(
    member_id: MemberId,
    case_id: CaseId,
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CASE_READ, member_param="member_id"))],
) -> CaseOut:
    deps = get_deps(request)
    with opm_uow(deps) as uow:
        _member_case(uow, member_id, case_id)
        record = service.view_case(uow, principal.user, case_id, now=deps.clock())
    return CaseOut.of(record)


@router.get("/members/{member_id}/cases/{case_id}/letters/{letter_id}", response_class=FileResponse)
def download_letter(
    member_id: MemberId,
    case_id: CaseId,
    letter_id: Annotated[str, PathParam(min_length=1, max_length=128)],
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CASE_READ, member_param="member_id"))],
) -> FileResponse:
    """The letter's PDF (audited download)."""
    deps = get_deps(request)
    with opm_uow(deps) as uow:
        _member_case(uow, member_id, case_id)
        letter = service.case_letter(uow, principal.user, case_id, letter_id, now=deps.clock())
    if letter.file_path is None or not Path(letter.file_path).is_file():
        raise NotFound(f"the PDF of letter {letter_id} is not on file")
    return FileResponse(letter.file_path, media_type="application/pdf", filename=f"{letter_id}.pdf")


def _conflict(exc: InvalidTransition) -> JSONResponse:
    """A step the case's state does not allow (a second form, a late form: OPM-07, no form to review)."""
    return JSONResponse({"error": "conflict", "message": str(exc)}, status_code=409)


@router.post("/members/{member_id}/cases/{case_id}/form", response_model=CaseOut)
def submit_form(
    member_id: MemberId,
    case_id: CaseId,
    body: dict[str, Any],
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.REQUEST_SUBMIT, member_param="member_id"))],
) -> CaseOut | JSONResponse:
    """The returned Clinical Update Request Form (OPM-04/06): provider users of the case's provider
    organization only (checked by the service)."""
    deps = get_deps(request)
    with opm_uow(deps) as uow:
        _member_case(uow, member_id, case_id)
        try:
            record = service.submit_form(
                uow,
                principal.user,
                case_id,
                body,
                now=deps.clock(),
                tz=deps.settings.plan_time_zone,
                source=f"POST /opm/members/{{member_id}}/cases/{case_id}/form",
            )
        except InvalidTransition as exc:
            return _conflict(exc)
    return CaseOut.of(record)


@router.post("/members/{member_id}/cases/{case_id}/determination", response_model=CaseOut)
def record_determination(
    member_id: MemberId,
    case_id: CaseId,
    body: DeterminationIn,
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.REQUEST_REVIEW, member_param="member_id"))],
) -> CaseOut | JSONResponse:
    """OPM-06: a BH clinical reviewer's determination on the returned form."""
    deps = get_deps(request)
    with opm_uow(deps) as uow:
        _member_case(uow, member_id, case_id)
        try:
            record = service.record_determination(
                uow,
                principal.user,
                case_id,
                body.determination,
                body.rationale,
                now=deps.clock(),
                recommended_level=body.recommended_level,
                recommendations=body.recommendations,
                referrals=body.referrals,
            )
        except InvalidTransition as exc:
            return _conflict(exc)
    return CaseOut.of(record)
