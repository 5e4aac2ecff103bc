"""The documentation audit over the API (MN-05 over TCM-09 / TCM-10): POST billed T1017 sessions (claim
lines in the claims input schema, or the decisions of a claim check), progress notes and, optionally,
service plans (without them the plans stored in bhum are used); get each session's missing elements and
signatures and the paid amount at risk of recoupment. Same audit as `bhum docs-audit`.

Who may run it: holders of member.read. Plan staff audit any sessions; a provider user only sessions
billed by its own organization's NPIs, and a case manager only sessions of members on their caseload.
Anything else refuses the whole request (403) and the refusal is audited (counts, no member ids).
"""

from __future__ import annotations

import json
import tempfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from bhum.adapters.claims_engine import read_claims
from bhum.domain.access import AuditAction, Permission, ScopeKind, scopes_for
from bhum.domain.errors import InputError, PermissionDenied
from bhum.entrypoints.api.dependencies import ApiDependencies, Principal
from bhum.entrypoints.api.routes.utilization import packs_of
from bhum.entrypoints.api.security import get_deps, requires
from bhum.services.access import decide
from bhum.services.audit import record_access
from bhum.services.documentation_audit import (
    AuditParameters,
    DocumentationAudit,
    parse_notes,
    parse_plans,
    run_documentation_audit,
)

router = APIRouter(prefix="/claims")
ROUTE = "POST /claims/documentation-audits"
MAX_LINES = 100_000  # one request; larger audits run from files with `bhum docs-audit`

Record = dict[str, Any]


class DocumentationAuditIn(BaseModel):
    """Either ``claims`` or ``decisions``; ``notes`` and ``plans`` in the schema of
    docs/documentation-audit-schema.md."""

    model_config = ConfigDict(extra="forbid")

    claims: list[Record] | None = Field(
        default=None, max_length=MAX_LINES, description="Claim lines (claims input schema)"
    )
    decisions: list[Record] | None = Field(
        default=None, max_length=MAX_LINES, description="Decisions of a claim check (paid T1017 lines)"
    )
    notes: list[Record] = Field(default=[], max_length=MAX_LINES, description="Progress notes (TCM-09)")
    plans: list[Record] | None = Field(
        default=None, max_length=MAX_LINES, description="Service plans (TCM-10); omitted: the stored plans"
    )
    as_of: date | None = Field(default=None, description="Audit date (faxed-signature deadlines); today")


class RejectedLineOut(BaseModel):
    line: int | None
    field: str | None
    message: str


class AuditSummaryOut(BaseModel):
    sessions: int
    sessions_at_risk: int
    sessions_without_note: int
    sessions_without_plan: int
    amount_billed: float
    amount_at_risk: float
    plans: int
    plans_missing_signatures: int
    as_of: date


class DocumentationAuditOut(BaseModel):
    summary: AuditSummaryOut
    amount_at_risk: float  # MN-05: paid amount at risk of recoupment
    plans_from: Literal["request", "store"]
    sessions: list[Record]  # one per billed session, columns as sessions.jsonl
    plans: list[Record]  # one per service plan, columns as plans.jsonl
    rejected: list[RejectedLineOut]  # claim lines that could not be read (the rest is audited)
    rule_ids: list[str] = ["MN-05", "TCM-09", "TCM-10"]


def _claim_lines(claims: list[Record]) -> tuple[pa.Table, list[RejectedLineOut]]:
    """Claim lines through the claims reader (the same validation as files; bad lines are reported)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "claims.jsonl"
        path.write_text("".join(json.dumps(c, default=str) + "\n" for c in claims), encoding="utf-8")
        batch = read_claims([path])
    rejected = [RejectedLineOut(line=r.line, field=r.field, message=r.message) for r in batch.rejected]
    return batch.lines, rejected


def _decision_lines(decisions: list[Record]) -> pa.Table:
    try:
        return pa.Table.from_pylist(decisions)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InputError(f"the decisions cannot be read: {exc}", field="decisions", source="request") from exc


def _t1017(table: pa.Table, service_code: str) -> pa.Table:
    if "hcpcs_code" not in table.column_names:
        return table.slice(0, 0)
    codes = pc.utf8_trim_whitespace(pc.cast(table.column("hcpcs_code"), pa.string()))
    return table.filter(pc.fill_null(pc.equal(codes, service_code), False))


def _out_of_scope(deps: ApiDependencies, principal: Principal, sessions: pa.Table) -> str | None:
    """Why the caller may not audit these sessions, or None when every one is in their scope."""
    user = principal.user
    kinds = scopes_for(user, Permission.MEMBER_READ)
    if ScopeKind.ALL in kinds or sessions.num_rows == 0:
        return None
    if ScopeKind.ORGANIZATION in kinds and user.organization_id is not None:
        if "billing_npi" not in sessions.column_names:
            return "the sessions do not name their billing NPI"
        npis = pc.unique(pc.cast(sessions.column("billing_npi"), pa.string())).to_pylist()
        if None in npis:
            return "a session does not name its billing NPI"
        with deps.uow_factory() as uow:
            foreign = [n for n in npis if (p := uow.providers.get(n)) is None
                       or p.organization_id != user.organization_id]  # fmt: skip
        return f"{len(foreign)} billing NPI(s) are outside your organization" if foreign else None
    members = [m for m in pc.unique(pc.cast(sessions.column("member_id"), pa.string())).to_pylist() if m]
    with deps.uow_factory() as uow:
        scopes = deps.scopes(uow)
        outside = [
            m for m in members if not decide(user, Permission.MEMBER_READ, member_id=m, scopes=scopes).allowed
        ]
    return f"{len(outside)} member(s) are outside your scope" if outside else None


def _rows(table: pa.Table) -> list[Record]:
    return [
        {k: (v.isoformat() if isinstance(v, date | datetime | time) else v) for k, v in row.items()}
        for row in table.to_pylist()
    ]


def _out(audit: DocumentationAudit, plans_from: Literal["request", "store"],
         rejected: list[RejectedLineOut]) -> DocumentationAuditOut:  # fmt: skip
    s = audit.summary
    return DocumentationAuditOut(
        summary=AuditSummaryOut(
            sessions=s.sessions, sessions_at_risk=s.sessions_at_risk,
            sessions_without_note=s.sessions_without_note, sessions_without_plan=s.sessions_without_plan,
            amount_billed=s.amount_billed, amount_at_risk=s.amount_at_risk, plans=s.plans,
            plans_missing_signatures=s.plans_missing_signatures, as_of=s.as_of,
        ),
        amount_at_risk=s.amount_at_risk,
        plans_from=plans_from,
        sessions=_rows(audit.sessions),
        plans=_rows(audit.plans),
        rejected=rejected,
    )  # fmt: skip


@router.post("/documentation-audits", response_model=DocumentationAuditOut)
def post_documentation_audit(
    body: DocumentationAuditIn,
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.MEMBER_READ))],
) -> DocumentationAuditOut:
    """MN-05: per billed T1017 session the TCM-09 elements its note lacks, the TCM-10 signatures its
    plan lacks and the amount at risk; 422 naming the record and field for bad input."""
    deps = get_deps(request)
    now = deps.clock()
    if (body.claims is None) == (body.decisions is None):
        raise InputError("give either claims or decisions", field="claims")
    today = now.astimezone(deps.settings.plan_time_zone).date()
    if body.as_of is not None and body.as_of > today:
        raise InputError("the audit date is in the future", field="as_of")
    parameters = AuditParameters.from_packs(packs_of(deps))
    rejected: list[RejectedLineOut] = []
    if body.claims is not None:
        billed, rejected = _claim_lines(body.claims)
        source = "claims"
    else:
        billed, source = _decision_lines(body.decisions or []), "decisions"
    notes = parse_notes(body.notes, source="notes")
    plans = parse_plans(body.plans, source="plans") if body.plans is not None else None
    why = _out_of_scope(deps, principal, _t1017(billed, parameters.service_code))
    if why is not None:
        with deps.uow_factory() as uow:
            record_access(
                uow, principal.user, AuditAction.REFUSE, "documentation_audit", ROUTE, None, ROUTE, now,
                detail={"why": why},
            )  # fmt: skip
            uow.commit()
        raise PermissionDenied(f"you may audit only your own sessions: {why}")
    audit = run_documentation_audit(
        deps.uow_factory, billed, notes, plans, parameters=parameters, actor=principal.user.id, now=now,
        reason=ROUTE, source=source, as_of=body.as_of or today,
    )  # fmt: skip
    return _out(audit, "request" if plans is not None else "store", rejected)
