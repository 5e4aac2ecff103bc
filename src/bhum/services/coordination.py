"""Coordination of care (COC-01, COC-02): events become coordination tasks with a PCP notification.

A PCP notification discloses general treatment information for treatment coordination, which
HIPAA allows without authorization (COC-04); it still goes through the consent gate so that the
decision is audited, and any Part 2 (REG-06) or psychotherapy-note content is refused there.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from bhum.domain.access import AuditAction, Permission, User
from bhum.domain.consent import DisclosurePurpose, RecordKind
from bhum.domain.coordination import CoordinationParameters, Event, coordination_tasks
from bhum.domain.errors import InputError, NotFound
from bhum.services.access import ScopeResolver, authorize_member_access
from bhum.services.audit import record_access
from bhum.services.care_records import CareUnitOfWork, CoordinationTask
from bhum.services.consent import disclose

__all__ = ["notify_pcp", "raise_coordination_tasks"]


def raise_coordination_tasks(
    uow: CareUnitOfWork,
    actor: User | str,
    *,
    member_id: str,
    events: Iterable[Event],
    now: datetime,
    scopes: ScopeResolver | None = None,
    params: CoordinationParameters = CoordinationParameters(),
) -> list[CoordinationTask]:
    """Store a coordination task for every trigger the member's events raise (COC-01/02).

    A user needs CASE_MANAGE on the member; a ``system:<job>`` actor (claims batch) is trusted.
    """
    if now.tzinfo is None:
        raise InputError("the time must carry its time zone", field="now")
    event_list = list(events)
    if any(e.member_id != member_id for e in event_list):
        raise InputError("every event must be about the member", field="member_id")
    with uow:
        if isinstance(actor, User):
            if scopes is None:
                raise InputError("a user's request needs a scope resolver", field="scopes")
            authorize_member_access(
                uow,
                actor,
                Permission.CASE_MANAGE,
                member_id,
                scopes=scopes,
                reason="coordination of care",
                now=now,
            )
        member = uow.members.get(member_id)
        if member is None:
            raise NotFound(f"member {member_id} does not exist")
        created: list[CoordinationTask] = []
        for spec in coordination_tasks(event_list, pcp_npi=member.pcp_npi, params=params):
            task = CoordinationTask(f"coc-{uuid.uuid4().hex[:16]}", spec, now)
            uow.coordination_tasks.add(task)
            record_access(
                uow,
                actor,
                AuditAction.CREATE,
                "coordination_task",
                task.task_id,
                member_id,
                "coordination of care",
                now,
                detail={"rule": spec.rule_id, "trigger": spec.trigger.value},
            )
            created.append(task)
        uow.commit()
    return created


def notify_pcp(
    uow: CareUnitOfWork,
    actor: User | str,
    task: CoordinationTask,
    *,
    now: datetime,
    record_kind: RecordKind = RecordKind.GENERAL,
) -> str:
    """Check the disclosure of a PCP notification for ``task`` and return the recipient NPI.

    Raises ``DisclosureRefused`` (audited) when the content may not go, InputError when there is no
    PCP to write to. The letter itself is produced by the letters service with the returned NPI.
    """
    if task.spec.pcp_npi is None:
        raise InputError("the member has no PCP on file", field="pcp_npi", record=task.task_id)
    disclose(
        uow,
        actor,
        member_id=task.spec.member_id,
        record_kind=record_kind,
        recipient=f"npi:{task.spec.pcp_npi}",
        purpose=DisclosurePurpose.TREATMENT,
        entity_type="coordination_task",
        entity_id=task.task_id,
        now=now,
    )
    return task.spec.pcp_npi
