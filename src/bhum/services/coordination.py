"""Coordination of care (COC-01, COC-02): events become coordination tasks with a PCP notification.

A PCP notification discloses general treatment information for treatment coordination, which
HIPAA allows without authorization (COC-04); it still goes through the consent gate so that the
decision is audited, and any Part 2 (REG-06) or psychotherapy-note content is refused there.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from bhum.domain.access import AuditAction, Permission, User
from bhum.domain.consent import DisclosurePurpose, RecordKind
from bhum.domain.coordination import CoordinationParameters, Event, coordination_tasks
from bhum.domain.errors import InputError, NotFound
from bhum.domain.letters import (
    Letter,
    LetterContent,
    LetterKind,
    MemberRef,
    PlanContact,
    Reason,
    Recipient,
    RecipientKind,
    StaffContact,
    idempotency_key,
)
from bhum.domain.members import Member, coverage_on, plan_contact
from bhum.services.access import ScopeResolver, authorize_member_access
from bhum.services.audit import record_access
from bhum.services.care_records import CareUnitOfWork, CoordinationTask
from bhum.services.consent import disclose
from bhum.services.unit_of_work import UnitOfWork

__all__ = [
    "LetterWriter",
    "SentLetter",
    "WrittenLetter",
    "list_coordination_tasks",
    "notify_pcp",
    "plan_contact_for_member",
    "raise_coordination_tasks",
    "send_outreach_letter",
    "send_pcp_letter",
]


@dataclass(frozen=True, slots=True)
class WrittenLetter:
    """Where the letters adapter filed a rendered letter."""

    path: str
    template: str  # "<kind>@<version>"
    sha256: str


class LetterWriter(Protocol):
    """Renders and files a letter (``bhum.adapters.letters.write`` into the letters directory).
    Writing the same content twice is a no-op, so a retried send never makes a second file."""

    def __call__(self, content: LetterContent) -> WrittenLetter: ...


@dataclass(frozen=True, slots=True)
class SentLetter:
    letter: Letter
    created: bool  # False: the letter already existed (same idempotency key) and nothing was sent


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


def list_coordination_tasks(
    uow: CareUnitOfWork, actor: User, *, member_id: str, scopes: ScopeResolver, now: datetime
) -> list[CoordinationTask]:
    """The member's coordination tasks (COC-01/02), oldest first."""
    with uow:
        authorize_member_access(
            uow, actor, Permission.CASE_READ, member_id, scopes=scopes,
            reason="list coordination tasks", now=now,
        )  # fmt: skip
        tasks = list(uow.coordination_tasks.for_member(member_id))
        record_access(
            uow, actor, AuditAction.READ, "coordination_task", f"member:{member_id}", member_id,
            "list coordination tasks", now,
        )  # fmt: skip
        uow.commit()
    return tasks


def plan_contact_for_member(uow: UnitOfWork, member_id: str, on: date) -> PlanContact:
    """The letterhead of the plan covering the member on ``on`` (its name, phone, TTY, address and
    website from the population ``plans`` file). Call inside an open unit of work. InputError when the
    member has no coverage that day or the plan has no contact details."""
    span = coverage_on(uow.coverage.for_member(member_id), on)
    if span is None:
        raise InputError(
            f"the member has no plan coverage on {on.isoformat()}", field="plan_id", record=member_id
        )
    plan = uow.plans.get(span.plan_id)
    if plan is None:
        raise NotFound(f"plan {span.plan_id} does not exist")
    return plan_contact(plan)


def _member_name(member: Member) -> str:
    return f"{member.first_name} {member.last_name}".strip()


def _file(uow: CareUnitOfWork, content: LetterContent, write: LetterWriter, record: Letter) -> SentLetter:
    """Render and file the letter, then store its record; a concurrent twin wins without a copy."""
    written = write(content)
    stored = Letter(
        letter_id=record.letter_id,
        kind=record.kind,
        recipient_kind=record.recipient_kind,
        recipient_id=record.recipient_id,
        member_id=record.member_id,
        template=written.template,
        created_at=record.created_at,
        idempotency_key=record.idempotency_key,
        case_id=record.case_id,
        decision_id=record.decision_id,
        file_path=written.path,
        content_sha256=written.sha256,
    )
    with uow:
        if not uow.letters.add(stored):
            existing = uow.letters.get_by_idempotency_key(stored.idempotency_key)
            if existing is None:  # pragma: no cover - add refused without a twin
                raise InputError("the letter could not be stored", field="idempotency_key")
            return SentLetter(existing, False)
        uow.commit()
    return SentLetter(stored, True)


def send_pcp_letter(
    uow: CareUnitOfWork,
    actor: User | str,
    *,
    member_id: str,
    task_id: str,
    pcp: Recipient,
    coordinator: StaffContact,
    write: LetterWriter,
    now: datetime,
    tz: ZoneInfo,
    scopes: ScopeResolver | None = None,
    record_kind: RecordKind = RecordKind.GENERAL,
    plan: PlanContact | None = None,
) -> SentLetter:
    """COC-01/02: the PCP notification letter for a coordination task, sent once.

    The letterhead is the member's plan on the letter date (``plan_contact_for_member``); ``plan``
    overrides it (kept for callers that still pass the plan's contact themselves).

    The letter id is the idempotency key of (task, trigger, PCP): a second call returns the stored
    letter without disclosing again. Otherwise the disclosure goes through the consent gate
    (``notify_pcp``: audited, ``DisclosureRefused`` when not allowed, and then nothing is written),
    the PDF is filed and the letter recorded.
    """
    if now.tzinfo is None:
        raise InputError("the time must carry its time zone", field="now")
    if pcp.kind is not RecipientKind.PROVIDER:
        raise InputError("the PCP letter goes to a provider", field="pcp.kind", record=task_id)
    with uow:
        if isinstance(actor, User):
            if scopes is None:
                raise InputError("a user's request needs a scope resolver", field="scopes")
            authorize_member_access(
                uow, actor, Permission.CASE_MANAGE, member_id, scopes=scopes,
                reason="PCP coordination letter", now=now,
            )  # fmt: skip
        task = next((t for t in uow.coordination_tasks.for_member(member_id) if t.task_id == task_id), None)
        if task is None:
            raise NotFound(f"coordination task {task_id} does not exist for this member")
        if task.spec.pcp_npi is not None and pcp.npi != task.spec.pcp_npi:
            raise InputError(
                "the letter must go to the member's PCP on file", field="pcp.npi", record=task_id
            )
        member = uow.members.get(member_id)
        if member is None:
            raise NotFound(f"member {member_id} does not exist")
        key = idempotency_key(LetterKind.PCP_COORDINATION, task_id, task.spec.trigger.value, pcp)
        existing = uow.letters.get_by_idempotency_key(key)
    if existing is not None:
        return SentLetter(existing, False)
    if plan is None:
        with uow:
            plan = plan_contact_for_member(uow, member_id, now.astimezone(tz).date())
    if task.spec.pcp_npi is None:
        # A PCP referral answered to the referring provider, or a member without a PCP on file.
        task = replace(task, spec=replace(task.spec, pcp_npi=pcp.npi))
    notify_pcp(uow, actor, task, now=now, record_kind=record_kind)
    letter_date = now.astimezone(tz).date()
    content = LetterContent(
        letter_id=key,
        kind=LetterKind.PCP_COORDINATION,
        letter_date=letter_date,
        plan=plan,
        recipient=pcp,
        member=MemberRef(_member_name(member), member_id),
        reference=task_id,
        reasons=(
            Reason(
                task.spec.rule_id,
                task.spec.trigger.value.replace("_", " "),
                task.spec.reason,
            ),
        ),
        due_date=task.spec.due_on if task.spec.due_on > letter_date else None,
        contact=coordinator,
    )
    record = Letter(
        letter_id=key,
        kind=LetterKind.PCP_COORDINATION,
        recipient_kind=RecipientKind.PROVIDER,
        recipient_id=pcp.npi or "",
        member_id=member_id,
        template="",
        created_at=now,
        idempotency_key=key,
        decision_id=task_id,
    )
    return _file(uow, content, write, record)


def send_outreach_letter(
    uow: CareUnitOfWork,
    actor: User,
    *,
    member_id: str,
    task_id: str,
    missed_on: date,
    case_manager: StaffContact,
    write: LetterWriter,
    scopes: ScopeResolver,
    now: datetime,
    tz: ZoneInfo,
    plan: PlanContact | None = None,
) -> SentLetter:
    """TCM-07: the letter to the member after a missed appointment, once per outreach task. It goes
    to the member themself, so no consent is needed; the member's address comes from the store, the
    letterhead from the member's plan on the letter date (``plan`` overrides it)."""
    if now.tzinfo is None:
        raise InputError("the time must carry its time zone", field="now")
    with uow:
        authorize_member_access(
            uow, actor, Permission.CASE_MANAGE, member_id, scopes=scopes,
            reason="case management outreach letter", now=now,
        )  # fmt: skip
        task = uow.tasks.get(task_id)
        if task is None or task.member_id != member_id or task.rule_id != "TCM-07":
            raise NotFound(f"outreach task {task_id} does not exist for this member")
        member = uow.members.get(member_id)
        if member is None:
            raise NotFound(f"member {member_id} does not exist")
        key = idempotency_key(LetterKind.CASE_MANAGEMENT_OUTREACH, task_id, missed_on.isoformat(), "member")
        existing = uow.letters.get_by_idempotency_key(key)
    if existing is not None:
        return SentLetter(existing, False)
    if plan is None:
        with uow:
            plan = plan_contact_for_member(uow, member_id, now.astimezone(tz).date())
    address = member.address
    if not address.line or not address.city or not address.state or not address.zip_code:
        raise InputError("the member has no complete mailing address", field="address", record=member_id)
    content = LetterContent(
        letter_id=key,
        kind=LetterKind.CASE_MANAGEMENT_OUTREACH,
        letter_date=now.astimezone(tz).date(),
        plan=plan,
        recipient=Recipient(
            RecipientKind.MEMBER,
            _member_name(member),
            (address.line, f"{address.city}, {address.state} {address.zip_code}"),
        ),
        member=MemberRef(_member_name(member), member_id),
        reference=task_id,
        contact=case_manager,
        missed_contact_on=missed_on,
    )
    record = Letter(
        letter_id=key,
        kind=LetterKind.CASE_MANAGEMENT_OUTREACH,
        recipient_kind=RecipientKind.MEMBER,
        recipient_id=member_id,
        member_id=member_id,
        template="",
        created_at=now,
        idempotency_key=key,
        decision_id=task_id,
    )
    sent = _file(uow, content, write, record)
    if sent.created:
        with uow:
            record_access(
                uow, actor, AuditAction.CREATE, "letter", key, member_id,
                "case management outreach letter", now, detail={"rule": "TCM-07"},
            )  # fmt: skip
            uow.commit()
    return sent
