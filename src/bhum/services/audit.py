"""The audit trail of member-data access.

Rule (docs/security.md): every read and every change of member data anywhere in bhum calls
``record_access`` inside the same unit of work as the read or change, and refusals are recorded too.
The log is append-only: there is no function here (or in the repository protocol) that edits or
removes an event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bhum.domain.access import AuditAction, AuditEvent, Permission, User, permissions_of
from bhum.domain.errors import InputError, PermissionDenied
from bhum.services.unit_of_work import UnitOfWork

MAX_AUDIT_PAGE = 1000


def actor_id(actor: User | str) -> str:
    """The audit actor: a user's id, or a ``system:<job>`` name for batch jobs and the CLI."""
    if isinstance(actor, User):
        return actor.id
    if not actor:
        raise InputError("an audit event needs an actor", field="actor")
    return actor


def record_access(
    uow: UnitOfWork,
    actor: User | str,
    action: AuditAction,
    entity_type: str,
    entity_id: str,
    member_id: str | None,
    reason: str,
    now: datetime,
    *,
    detail: Mapping[str, str] | None = None,
) -> AuditEvent:
    """Append one audit event to the unit of work. The caller commits it with its own change.

    ``reason`` is the purpose of use (e.g. "GET /members/{member_id}", "concurrent review"), never
    free text carrying member data.
    """
    if now.tzinfo is None:
        # A naive time cannot be ordered against other events once the plan spans time zones.
        raise InputError("audit times must carry a time zone", field="now", record=entity_type)
    if not entity_type:
        raise InputError("an audit event needs an entity type", field="entity_type")
    if not entity_id:
        raise InputError("an audit event needs an entity id", field="entity_id", record=entity_type)
    if not reason:
        raise InputError("an audit event needs a reason (purpose of use)", field="reason", record=entity_type)
    event = AuditEvent(
        at=now,
        actor=actor_id(actor),
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        member_id=member_id,
        reason=reason,
        detail=dict(detail or {}),
    )
    uow.audit.append(event)
    return event


def list_audit_events(
    uow: UnitOfWork,
    viewer: User,
    *,
    now: datetime,
    member_id: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> Sequence[AuditEvent]:
    """Events in the store's order (oldest first), for holders of ``audit.read``.

    Reading the audit log is itself recorded (the log names members), and so is a refusal.
    """
    if limit < 1 or limit > MAX_AUDIT_PAGE:
        raise InputError(f"limit must be between 1 and {MAX_AUDIT_PAGE}", field="limit")
    with uow:
        if Permission.AUDIT_READ not in permissions_of(viewer):
            why = "role does not grant audit.read"
            record_access(
                uow,
                viewer,
                AuditAction.REFUSE,
                "audit_log",
                "audit_log",
                member_id,
                "list audit events",
                now,
                detail={"why": why},
            )
            uow.commit()
            raise PermissionDenied(why)
        events = list(uow.audit.list(member_id=member_id, actor=actor, since=since, limit=limit))
        record_access(
            uow,
            viewer,
            AuditAction.READ,
            "audit_log",
            "audit_log",
            member_id,
            "list audit events",
            now,
            detail={"returned": str(len(events))},
        )
        uow.commit()
    return events
