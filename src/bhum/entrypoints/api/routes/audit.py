"""The audit log, for holders of audit.read (auditors)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from bhum.domain.access import AuditEvent, Permission
from bhum.entrypoints.api.dependencies import Principal
from bhum.entrypoints.api.security import get_deps, requires
from bhum.services.audit import MAX_AUDIT_PAGE, list_audit_events

router = APIRouter(prefix="/audit")


class AuditEventOut(BaseModel):
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    member_id: str | None
    reason: str
    detail: dict[str, str]

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventOut:
        return cls(
            at=event.at,
            actor=event.actor,
            action=event.action.value,
            entity_type=event.entity_type,
            entity_id=event.entity_id,
            member_id=event.member_id,
            reason=event.reason,
            detail=dict(event.detail),
        )


@router.get("", response_model=list[AuditEventOut])
def get_audit(
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.AUDIT_READ))],
    member_id: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_AUDIT_PAGE)] = 100,
) -> list[AuditEventOut]:
    deps = get_deps(request)
    events = list_audit_events(
        deps.uow_factory(),
        principal.user,
        now=deps.clock(),
        member_id=member_id,
        actor=actor,
        since=since,
        limit=limit,
    )
    return [AuditEventOut.of(e) for e in events]
