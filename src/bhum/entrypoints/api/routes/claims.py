"""Claim checks over the API (issue 5): POST a batch of claim lines (JSON lines or a CSV upload) and get
the decisions; GET the remittance (X12 835, JSON lines or CSV) of a check. Same checks as
`bhum claims check`, against the store. When the store keeps paid-unit history, the batch is checked
against it and what it paid is recorded (idempotent by claim id + line)."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel

from bhum.adapters.claims_engine import DuckDbClaimsEngine, read_claims
from bhum.adapters.claims_engine.remittance import write_decisions
from bhum.domain.access import Permission
from bhum.domain.errors import InputError, NotFound
from bhum.entrypoints.api.dependencies import Principal
from bhum.entrypoints.api.routes.utilization import packs_of
from bhum.entrypoints.api.security import get_deps, requires
from bhum.services.claims import check_batch_against_store, check_parameters
from bhum.services.paid_units import has_paid_unit_history, paid_history_for_batch, record_paid_units

router = APIRouter(prefix="/claims")
ROUTE = "POST /claims/checks"
_SUFFIXES = {"text/csv": ".csv", "application/x-ndjson": ".jsonl", "application/jsonl": ".jsonl"}
_REMITTANCE = {
    "835": ("remittance.835", "application/edi-x12"),
    "jsonl": ("decisions.jsonl", "application/x-ndjson"),
    "csv": ("decisions.csv", "text/csv"),
}
MAX_BYTES = 50 * 1024 * 1024


class RejectedOut(BaseModel):
    source: str
    line: int | None
    field: str | None
    message: str


class CheckOut(BaseModel):
    check_id: str
    lines: int
    paid: int
    partial: int
    denied: int
    paid_units: float
    paid_amount: float
    decisions: list[dict[str, Any]]
    rejected: list[RejectedOut]
    paid_units_recorded: bool


def _checks_dir(request: Request) -> Path:
    return get_deps(request).settings.data_dir / "claim-checks"


@router.post("/checks", response_model=CheckOut)
async def post_check(
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CLAIMS_CHECK))],
) -> CheckOut:
    deps = get_deps(request)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    suffix = _SUFFIXES.get(kind)
    if suffix is None:
        raise InputError("send claim lines as text/csv or application/x-ndjson", field="content-type")
    body = await request.body()
    if not body.strip():
        raise InputError("the batch is empty", field="body")
    if len(body) > MAX_BYTES:
        raise InputError(f"the batch is larger than {MAX_BYTES} bytes", field="body")
    now = deps.clock()
    check_id = uuid.uuid4().hex
    with tempfile.TemporaryDirectory() as tmp:
        upload = Path(tmp) / f"batch{suffix}"
        upload.write_bytes(body)
        batch = read_claims([upload])
    parameters = check_parameters(packs_of(deps))
    history = None
    with deps.uow_factory() as uow:
        recording = has_paid_unit_history(uow)
        if recording:
            history = paid_history_for_batch(uow, batch.lines)
    result = check_batch_against_store(
        deps.uow_factory, batch, parameters, DuckDbClaimsEngine(threads=1),
        actor=principal.user.id, now=now, reason=ROUTE, history=history,
    )  # fmt: skip
    if recording:
        record_paid_units(
            deps.uow_factory, result.decisions, parameters, actor=principal.user.id, now=now, reason=ROUTE
        )
    write_decisions(result.decisions, result.rejected, _checks_dir(request) / check_id, created=now,
                    formats=("jsonl", "csv", "835"))  # fmt: skip
    s = result.summary
    return CheckOut(
        check_id=check_id, lines=s.lines, paid=s.paid, partial=s.partial, denied=s.denied,
        paid_units=s.paid_units, paid_amount=s.paid_amount,
        decisions=[{k: (str(v) if hasattr(v, "isoformat") else v) for k, v in row.items()}
                   for row in result.decisions.to_pylist()],
        rejected=[RejectedOut(source="upload", line=r.line, field=r.field, message=r.message)
                  for r in result.rejected],
        paid_units_recorded=recording,
    )  # fmt: skip


@router.get("/checks/{check_id}/remittance")
def get_remittance(
    check_id: Annotated[str, PathParam(pattern=r"^[0-9a-f]{32}$")],
    request: Request,
    _principal: Annotated[Principal, Depends(requires(Permission.CLAIMS_CHECK))],
    format: str = "835",
) -> FileResponse:
    if format not in _REMITTANCE:
        raise InputError("format is one of 835, jsonl, csv", field="format")
    name, media = _REMITTANCE[format]
    path = _checks_dir(request) / check_id / name
    if not path.is_file():
        raise NotFound(f"no remittance for check {check_id}")
    return FileResponse(path, media_type=media, filename=f"{check_id}-{name}")
