"""Case management use cases: caseload assignment (TCM-06), progress notes (TCM-09), outreach after a
missed appointment (TCM-07), monthly contact (TCM-08), escalation, refusal (TCM-12).

Each function opens the unit of work it is given, checks access (a case manager reaches only their
caseload), records its audit events and commits; on any error nothing is stored except the audit
row of a refusal.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bhum.domain.access import AuditAction, Permission, Role, ScopeKind, User, scopes_for
from bhum.domain.calendar import end_of_day
from bhum.domain.case_management import (
    DEFAULT_CASELOAD_LIMITS,
    AssignmentDecision,
    CaseloadLimits,
    CaseloadStatus,
    CaseloadType,
    CaseManagementRefusal,
    InstitutionalStay,
    PlanValidation,
    ProgressNote,
    ServicePlan,
    SupervisorOverride,
    TransitionLimits,
    TransitionWindow,
    assess_assignment,
    caseload_count,
    caseload_status,
    community_contact_due,
    needs_escalation,
    outreach_deadline,
    transition_window,
    validate_progress_note,
    validate_service_plan,
)
from bhum.domain.cases import Case, CaseProgram
from bhum.domain.errors import BhumError, InputError, NotFound, PermissionDenied
from bhum.domain.providers import Credential
from bhum.domain.tasks import Task, TaskKind
from bhum.domain.values import DateSpan
from bhum.policy import PackRegistry
from bhum.policy.model import DurationUnit
from bhum.services.access import ScopeResolver, authorize, authorize_member_access
from bhum.services.audit import record_access
from bhum.services.care_records import (
    CareUnitOfWork,
    CaseloadAssignment,
    StoredProgressNote,
    StoredServicePlan,
)

__all__ = [
    "SUPERVISOR_ROLES",
    "AssignmentRefused",
    "CareParameters",
    "CaseloadEntry",
    "CaseloadView",
    "RecordedServicePlan",
    "assign_member",
    "check_service_plan",
    "escalate_overdue",
    "escalate_overdue_tasks",
    "list_open_tasks",
    "record_missed_appointment",
    "record_progress_note",
    "record_refusal",
    "record_service_plan",
    "schedule_monthly_contact",
    "service_plan_versions",
    "service_plans_of",
    "transition_eligibility",
    "view_caseload",
]

# Who may override a caseload limit (TCM-06) and receives escalations: the case-management
# supervisor; medical directors and clinical reviewers as before.
SUPERVISOR_ROLES = frozenset({Role.CM_SUPERVISOR, Role.MEDICAL_DIRECTOR, Role.CLINICAL_REVIEWER})


@dataclass(frozen=True, slots=True)
class CareParameters:
    """The numbers the case-management services run on. Defaults are the catalog's; in production
    they come from the tcm pack through ``from_packs`` so a new pack version changes them."""

    caseload_limits: Mapping[CaseloadType, CaseloadLimits] = field(
        default_factory=lambda: dict(DEFAULT_CASELOAD_LIMITS)
    )
    outreach_business_days: int = 2  # TCM-07
    min_contacts_per_month: int = 1  # TCM-08
    original_signature_days: int = 30  # TCM-09
    transition_limits: TransitionLimits = field(default_factory=TransitionLimits)  # TCM-05

    @classmethod
    def from_packs(cls, packs: PackRegistry) -> CareParameters:
        """Read TCM-05..09 numbers from the tcm pack in force."""
        outreach = packs.duration("tcm.outreach-after-missed-contact", "outreach_window")
        if outreach.unit is not DurationUnit.BUSINESS_DAYS:
            raise InputError(
                f"the TCM-07 outreach window must be in business days, not {outreach.unit.value}",
                field="outreach_window",
                record="tcm.outreach-after-missed-contact",
                source="tcm pack",
            )

        def caseload(rule: str, low: str, high: str, counted_in: str) -> CaseloadLimits:
            return CaseloadLimits(packs.integer(rule, low), packs.integer(rule, high), counted_in)

        window = "tcm.institution-transition-window"
        return cls(
            caseload_limits={
                CaseloadType.STANDARD: caseload(
                    "tcm.caseload-standard", "min_caseload", "max_caseload", "members"
                ),
                CaseloadType.INTENSIVE: caseload(
                    "tcm.caseload-intensive", "min_caseload", "max_caseload", "members"
                ),
                CaseloadType.WRAPAROUND: caseload(
                    "tcm.caseload-wraparound", "min_families", "max_families", "families"
                ),
            },
            outreach_business_days=outreach.amount,
            min_contacts_per_month=packs.integer("tcm.monthly-community-contact", "min_contacts_per_month"),
            original_signature_days=packs.integer(
                "tcm.faxed-signature-originalled", "original_signature_days"
            ),
            transition_limits=TransitionLimits(
                long_stay_min_days=packs.integer(window, "long_stay_min_days"),
                long_stay_transition_days=packs.integer(window, "long_stay_transition_days"),
                short_stay_transition_days=packs.integer(window, "short_stay_transition_days"),
                imd_min_age=packs.integer(window, "imd_min_age"),
                imd_max_age=packs.integer(window, "imd_max_age"),
            ),
        )


_PROGRAM_FOR = {
    CaseloadType.STANDARD: CaseProgram.CASE_MANAGEMENT,
    CaseloadType.INTENSIVE: CaseProgram.INTENSIVE_CASE_MANAGEMENT,
    CaseloadType.WRAPAROUND: CaseProgram.WRAPAROUND,
}
# The staff credential a caseload type needs (TCM-11 classifications).
_CREDENTIAL_FOR = {
    CaseloadType.STANDARD: frozenset({Credential.CM_I, Credential.CM_II}),
    CaseloadType.INTENSIVE: frozenset({Credential.INTENSIVE_CM}),
    CaseloadType.WRAPAROUND: frozenset({Credential.WRAPAROUND_FACILITATOR}),
}


class AssignmentRefused(BhumError):
    """TCM-06: the caseload is full and no supervisor override was given, or the member refused."""

    def __init__(self, message: str, decision: AssignmentDecision | None = None) -> None:
        super().__init__(message)
        self.decision = decision


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise InputError("the time must carry its time zone", field="now")


def assign_member(
    uow: CareUnitOfWork,
    actor: User,
    *,
    member_id: str,
    staff_id: str,
    caseload_type: CaseloadType,
    now: datetime,
    family_id: str | None = None,
    override: SupervisorOverride | None = None,
    limits: Mapping[CaseloadType, CaseloadLimits] = DEFAULT_CASELOAD_LIMITS,
) -> tuple[Case, AssignmentDecision]:
    """TCM-06: put a member on a case manager's caseload, refusing beyond the maximum unless a
    supervisor overrides with a reason. A case manager may only assign to their own caseload."""
    _require_aware(now)
    authorize(actor, Permission.CASE_MANAGE)
    reason = "assign member to caseload"
    with uow:
        if not actor.has_any(*SUPERVISOR_ROLES) and actor.staff_id != staff_id:
            record_access(
                uow,
                actor,
                AuditAction.REFUSE,
                "caseload",
                staff_id,
                member_id,
                reason,
                now,
                detail={"why": "a case manager assigns only to their own caseload"},
            )
            uow.commit()
            raise PermissionDenied("a case manager assigns only to their own caseload")
        if uow.members.get(member_id) is None:
            raise NotFound(f"member {member_id} does not exist")
        staff = uow.staff.get(staff_id)
        if staff is None:
            raise NotFound(f"staff {staff_id} does not exist")
        if not staff.has(*_CREDENTIAL_FOR[caseload_type]):
            raise InputError(
                f"staff {staff_id} holds no credential for a {caseload_type} caseload (TCM-11)",
                field="staff_id",
            )
        if override is not None:
            supervisor = uow.users.get(override.supervisor_id)
            if supervisor is None or not supervisor.active or not supervisor.has_any(*SUPERVISOR_ROLES):
                raise InputError(
                    "the override must name an active supervisor (medical director or clinical reviewer)",
                    field="supervisor_id",
                )
        if any(r.in_effect_on(now.date()) for r in uow.refusals.for_member(member_id)):
            record_access(
                uow,
                actor,
                AuditAction.REFUSE,
                "caseload",
                staff_id,
                member_id,
                reason,
                now,
                detail={"why": "member refused case management", "rule": "TCM-12"},
            )
            uow.commit()
            raise AssignmentRefused("the member has refused case management (TCM-12)")
        current = [
            a for a in uow.caseload_assignments.for_staff(staff_id) if a.caseload_type is caseload_type
        ]
        if any(a.member_id == member_id for a in current):
            raise InputError("the member is already on this caseload", field="member_id")
        adds = 1
        if caseload_type is CaseloadType.WRAPAROUND and family_id is not None:
            adds = 0 if any(a.family_id == family_id for a in current) else 1
        count = (
            len({a.family_id or a.member_id for a in current})
            if caseload_type is CaseloadType.WRAPAROUND
            else len(current)
        )
        decision = assess_assignment(caseload_type, count, adds=adds, override=override, limits=limits)
        if not decision.accepted:
            record_access(
                uow,
                actor,
                AuditAction.REFUSE,
                "caseload",
                staff_id,
                member_id,
                reason,
                now,
                detail={"why": decision.reason, "rule": "TCM-06"},
            )
            uow.commit()
            raise AssignmentRefused(decision.reason, decision)
        case = Case(
            case_id=_new_id("case"),
            member_id=member_id,
            program=_PROGRAM_FOR[caseload_type],
            opened_at=now,
            assigned_staff_id=staff_id,
            rule_ids=("TCM-06",),
        )
        uow.cases.add(case)
        uow.caseload_assignments.add(
            CaseloadAssignment(
                case_id=case.case_id,
                staff_id=staff_id,
                member_id=member_id,
                caseload_type=caseload_type,
                assigned_at=now,
                family_id=family_id,
                override_supervisor_id=override.supervisor_id if override else None,
                override_reason=override.reason.strip() if override else "",
            )
        )
        detail = {"caseload_type": caseload_type.value, "count_after": str(decision.count_after)}
        if decision.overridden and override is not None:
            detail["override_supervisor"] = override.supervisor_id
        record_access(
            uow, actor, AuditAction.CREATE, "case", case.case_id, member_id, reason, now, detail=detail
        )
        uow.commit()
        return case, decision


def record_progress_note(
    uow: CareUnitOfWork,
    actor: User,
    note: ProgressNote,
    *,
    member_id: str,
    scopes: ScopeResolver,
    now: datetime,
    original_signature_days: int = 30,
) -> StoredProgressNote:
    """TCM-09: a session note is stored only when all 11 elements are there; otherwise InputError
    names every missing element and nothing is stored."""
    _require_aware(now)
    result = validate_progress_note(note, original_signature_days=original_signature_days)
    if not result.complete:
        raise InputError(
            " ".join(result.problems),
            field=result.missing[0].value if result.missing else None,
            record=note.note_id,
        )
    if actor.staff_id is None:
        raise InputError("the author of a note must have a staff record", field="staff_id")
    with uow:
        authorize_member_access(
            uow,
            actor,
            Permission.CASE_MANAGE,
            member_id,
            scopes=scopes,
            reason="record progress note",
            now=now,
        )
        if uow.progress_notes.get(note.note_id) is not None:
            raise InputError("a note with this id already exists", field="note_id", record=note.note_id)
        stored = StoredProgressNote(note, member_id, actor.staff_id, now, result.original_signature_due)
        uow.progress_notes.add(stored)
        record_access(
            uow,
            actor,
            AuditAction.CREATE,
            "progress_note",
            note.note_id,
            member_id,
            "record progress note",
            now,
        )
        uow.commit()
        return stored


def record_missed_appointment(
    uow: CareUnitOfWork,
    actor: User,
    *,
    member_id: str,
    missed_at: datetime,
    tz: ZoneInfo,
    holidays: frozenset[date],
    scopes: ScopeResolver,
    now: datetime,
    business_days: int = 2,
) -> Task:
    """TCM-07: an outreach task due by the end of the 2nd business day after the missed appointment."""
    _require_aware(now)
    deadline = outreach_deadline(missed_at, tz=tz, holidays=holidays, business_days=business_days)
    with uow:
        authorize_member_access(
            uow,
            actor,
            Permission.CASE_MANAGE,
            member_id,
            scopes=scopes,
            reason="record missed appointment",
            now=now,
        )
        task = Task(
            task_id=_new_id("task"),
            kind=TaskKind.OUTREACH,
            due_at=deadline.due,
            created_at=now,
            assigned_to=actor.id,
            member_id=member_id,
            rule_id="TCM-07",
        )
        uow.tasks.add(task)
        record_access(
            uow,
            actor,
            AuditAction.CREATE,
            "task",
            task.task_id,
            member_id,
            "outreach after missed appointment",
            now,
        )
        uow.commit()
        return task


def schedule_monthly_contact(
    uow: CareUnitOfWork,
    actor: User,
    *,
    member_id: str,
    contacts: Sequence[date],
    tz: ZoneInfo,
    scopes: ScopeResolver,
    now: datetime,
    min_per_month: int = 1,
) -> Task:
    """TCM-08: a task for the next community/home contact, due by the end of the month it is owed in."""
    _require_aware(now)
    due = community_contact_due(contacts, on=now.astimezone(tz).date(), min_per_month=min_per_month)
    with uow:
        authorize_member_access(
            uow,
            actor,
            Permission.CASE_MANAGE,
            member_id,
            scopes=scopes,
            reason="schedule monthly contact",
            now=now,
        )
        task = Task(
            task_id=_new_id("task"),
            kind=TaskKind.MONTHLY_CONTACT,
            due_at=end_of_day(due.due_on, tz),
            created_at=now,
            assigned_to=actor.id,
            member_id=member_id,
            rule_id="TCM-08",
        )
        uow.tasks.add(task)
        record_access(
            uow, actor, AuditAction.CREATE, "task", task.task_id, member_id, "schedule monthly contact", now
        )
        uow.commit()
        return task


def escalate_overdue_tasks(
    uow: CareUnitOfWork,
    *,
    supervisor_id: str,
    now: datetime,
    actor: User | str = "system:cm-escalation",
) -> list[Task]:
    """TCM-07/08: overdue outreach and monthly-contact tasks go to the supervisor (a batch job)."""
    _require_aware(now)
    escalated: list[Task] = []
    with uow:
        for task in uow.tasks.open_tasks(due_before=now):
            if task.kind in (TaskKind.OUTREACH, TaskKind.MONTHLY_CONTACT) and needs_escalation(task, now):
                task.escalate(supervisor_id)
                uow.tasks.save(task)
                record_access(
                    uow,
                    actor,
                    AuditAction.UPDATE,
                    "task",
                    task.task_id,
                    task.member_id,
                    "escalate overdue task",
                    now,
                    detail={"rule": task.rule_id or ""},
                )
                escalated.append(task)
        uow.commit()
    return escalated


def record_refusal(
    uow: CareUnitOfWork,
    actor: User,
    *,
    member_id: str,
    refused_on: date,
    scopes: ScopeResolver,
    now: datetime,
    reason: str = "",
) -> CaseManagementRefusal:
    """TCM-12: record that the member refused case management. Nothing else about the member changes:
    no other service is restricted (``bhum.domain.case_management.refusal_restricts``)."""
    _require_aware(now)
    refusal = CaseManagementRefusal(member_id, refused_on, actor.id, reason)
    with uow:
        authorize_member_access(
            uow, actor, Permission.CASE_MANAGE, member_id, scopes=scopes, reason="record refusal", now=now
        )
        if uow.members.get(member_id) is None:
            raise NotFound(f"member {member_id} does not exist")
        uow.refusals.add(refusal)
        record_access(
            uow,
            actor,
            AuditAction.CREATE,
            "cm_refusal",
            member_id,
            member_id,
            "record refusal",
            now,
            detail={"rule": "TCM-12"},
        )
        uow.commit()
    return refusal


# --- reading caseloads and tasks -----------------------------------------------------------------


def _plan_wide(actor: User, permission: Permission) -> bool:
    return ScopeKind.ALL in scopes_for(actor, permission)


@dataclass(frozen=True, slots=True)
class CaseloadEntry:
    case_id: str
    member_id: str
    caseload_type: CaseloadType
    assigned_at: datetime
    family_id: str | None
    overridden: bool  # TCM-06: accepted beyond the maximum on a supervisor's override


@dataclass(frozen=True, slots=True)
class CaseloadView:
    """A case manager's caseload with its size and TCM-06 status per caseload type."""

    staff_id: str
    entries: tuple[CaseloadEntry, ...]
    counts: Mapping[CaseloadType, int]
    statuses: Mapping[CaseloadType, CaseloadStatus]
    limits: Mapping[CaseloadType, CaseloadLimits]


def view_caseload(
    uow: CareUnitOfWork,
    actor: User,
    *,
    staff_id: str,
    now: datetime,
    limits: Mapping[CaseloadType, CaseloadLimits] = DEFAULT_CASELOAD_LIMITS,
) -> CaseloadView:
    """The open caseload of ``staff_id``: a case manager sees only their own, plan-wide staff any."""
    _require_aware(now)
    authorize(actor, Permission.CASE_READ)
    reason = "view caseload"
    with uow:
        if not _plan_wide(actor, Permission.CASE_READ) and actor.staff_id != staff_id:
            record_access(
                uow, actor, AuditAction.REFUSE, "caseload", staff_id, None, reason, now,
                detail={"why": "a case manager sees only their own caseload"},
            )  # fmt: skip
            uow.commit()
            raise PermissionDenied("a case manager sees only their own caseload")
        assignments = uow.caseload_assignments.for_staff(staff_id)
        record_access(
            uow, actor, AuditAction.READ, "caseload", staff_id, None, reason, now,
            detail={"cases": str(len(assignments))},
        )  # fmt: skip
        uow.commit()
    entries = tuple(
        CaseloadEntry(
            a.case_id,
            a.member_id,
            a.caseload_type,
            a.assigned_at,
            a.family_id,
            a.override_supervisor_id is not None,
        )
        for a in assignments
    )
    counts = {
        kind: caseload_count(kind, [(e.member_id, e.family_id) for e in entries if e.caseload_type is kind])
        for kind in CaseloadType
        if any(e.caseload_type is kind for e in entries)
    }
    statuses = {kind: caseload_status(kind, n, limits=limits) for kind, n in counts.items()}
    return CaseloadView(staff_id, entries, counts, statuses, dict(limits))


def list_open_tasks(
    uow: CareUnitOfWork,
    actor: User,
    *,
    now: datetime,
    assigned_to: str | None = None,
    due_before: datetime | None = None,
) -> list[Task]:
    """Open tasks assigned to the actor (plan-wide staff may name another user), soonest due first."""
    _require_aware(now)
    authorize(actor, Permission.CASE_READ)
    whose = assigned_to or actor.id
    if whose != actor.id and not _plan_wide(actor, Permission.CASE_READ):
        raise PermissionDenied("a case manager sees only their own tasks")
    with uow:
        tasks = sorted(
            uow.tasks.open_tasks(assigned_to=whose, due_before=due_before),
            key=lambda t: (t.due_at, t.task_id),
        )
        record_access(uow, actor, AuditAction.READ, "task", f"assigned:{whose}", None, "list tasks", now)
        uow.commit()
    return tasks


def escalate_overdue(uow: CareUnitOfWork, actor: User, *, now: datetime) -> list[Task]:
    """TCM-07/08: a supervisor takes over every overdue outreach and monthly-contact task."""
    authorize(actor, Permission.CASE_MANAGE)
    if not actor.has_any(*SUPERVISOR_ROLES):
        raise PermissionDenied("only a case-management supervisor escalates overdue tasks")
    return escalate_overdue_tasks(uow, supervisor_id=actor.id, now=now, actor=actor)


# --- service plans (TCM-10) and transitions (TCM-05) ---------------------------------------------

_FIELD_IN_SENTENCE = re.compile(r"\(([A-Za-z_.\[\]0-9]+)\)\.$")


def check_service_plan(
    uow: CareUnitOfWork,
    actor: User,
    plan: ServicePlan,
    *,
    member_id: str,
    scopes: ScopeResolver,
    now: datetime,
) -> PlanValidation:
    """TCM-10: a service plan needs goals with objectives and the member's, the case manager's and a
    licensed BH professional's signatures. An incomplete plan is refused (InputError naming the
    first missing field; the message lists all); a complete one is returned with whether its
    development is compensable (only with the member's participation)."""
    _require_aware(now)
    result = validate_service_plan(plan)
    with uow:
        authorize_member_access(
            uow, actor, Permission.CASE_MANAGE, member_id, scopes=scopes, reason="check service plan",
            now=now,
        )  # fmt: skip
        record_access(
            uow, actor, AuditAction.READ, "service_plan", plan.plan_id, member_id, "check service plan",
            now, detail={"rule": "TCM-10", "complete": str(result.complete).lower()},
        )  # fmt: skip
        uow.commit()
    if not result.complete:
        raise _plan_error(result, plan.plan_id)
    return result


def _plan_error(result: PlanValidation, plan_id: str) -> InputError:
    found = _FIELD_IN_SENTENCE.search(result.missing[0])
    return InputError(" ".join(result.missing), field=found.group(1) if found else "plan", record=plan_id)


@dataclass(frozen=True, slots=True)
class RecordedServicePlan:
    stored: StoredServicePlan
    validation: PlanValidation
    created: bool  # False: the same content was already the newest version and nothing was written


def record_service_plan(
    uow: CareUnitOfWork,
    actor: User,
    plan: ServicePlan,
    *,
    member_id: str,
    effective: DateSpan,
    scopes: ScopeResolver,
    now: datetime,
) -> RecordedServicePlan:
    """TCM-10: store a service plan that has goals with objectives, the member's participation and the
    member's, case manager's and licensed BH professional's signatures. An incomplete plan is refused
    (InputError naming the first missing field; the message lists all) and nothing is stored.

    Idempotent by plan id: the same content again returns the stored version (``created`` False); a
    changed plan (a revision: new objectives, a signature added, a new end date) is stored as the next
    version, earlier versions kept. A plan id already used for another member is refused."""
    _require_aware(now)
    result = validate_service_plan(plan)
    with uow:
        authorize_member_access(
            uow, actor, Permission.CASE_MANAGE, member_id, scopes=scopes, reason="record service plan",
            now=now, entity_type="service_plan", entity_id=plan.plan_id,
        )  # fmt: skip
        if not result.complete:
            raise _plan_error(result, plan.plan_id)
        latest = uow.service_plans.latest(plan.plan_id)
        if latest is not None and latest.member_id != member_id:
            raise InputError("the plan id is already used for another member", field="plan_id",
                             record=plan.plan_id)  # fmt: skip
        if latest is not None and latest.plan == plan and latest.effective == effective:
            return RecordedServicePlan(latest, result, False)
        stored = StoredServicePlan(
            plan, member_id, effective, 1 if latest is None else latest.version + 1, actor.id, now
        )
        uow.service_plans.add(stored)
        record_access(
            uow, actor, AuditAction.CREATE if latest is None else AuditAction.UPDATE, "service_plan",
            plan.plan_id, member_id, "record service plan", now,
            detail={"rule": "TCM-10", "version": str(stored.version)},
        )  # fmt: skip
        uow.commit()
    return RecordedServicePlan(stored, result, True)


def service_plans_of(
    uow: CareUnitOfWork, actor: User, *, member_id: str, scopes: ScopeResolver, now: datetime
) -> list[StoredServicePlan]:
    """The newest version of each of the member's service plans (TCM-10), by effective date."""
    _require_aware(now)
    with uow:
        authorize_member_access(
            uow, actor, Permission.CASE_READ, member_id, scopes=scopes, reason="list service plans", now=now
        )
        plans = list(uow.service_plans.for_members([member_id]))
        record_access(
            uow, actor, AuditAction.READ, "service_plan", f"member:{member_id}", member_id,
            "list service plans", now,
        )  # fmt: skip
        uow.commit()
    return plans


def service_plan_versions(
    uow: CareUnitOfWork,
    actor: User,
    *,
    member_id: str,
    plan_id: str,
    scopes: ScopeResolver,
    now: datetime,
) -> list[StoredServicePlan]:
    """Every version of one of the member's service plans, oldest first (NotFound otherwise)."""
    _require_aware(now)
    with uow:
        authorize_member_access(
            uow, actor, Permission.CASE_READ, member_id, scopes=scopes, reason="read service plan", now=now
        )
        versions = [v for v in uow.service_plans.versions(plan_id) if v.member_id == member_id]
        if not versions:
            raise NotFound(f"service plan {plan_id} does not exist for this member")
        record_access(
            uow, actor, AuditAction.READ, "service_plan", plan_id, member_id, "read service plan", now
        )
        uow.commit()
    return versions


def transition_eligibility(
    uow: CareUnitOfWork,
    actor: User,
    stay: InstitutionalStay,
    *,
    member_id: str,
    scopes: ScopeResolver,
    now: datetime,
    limits: TransitionLimits = TransitionLimits(),
) -> TransitionWindow:
    """TCM-05: whether and from which date case management may be billed as a transition from the
    member's institutional stay (the member's age comes from the store)."""
    _require_aware(now)
    with uow:
        authorize_member_access(
            uow, actor, Permission.CASE_READ, member_id, scopes=scopes, reason="transition eligibility",
            now=now,
        )  # fmt: skip
        member = uow.members.get(member_id)
        if member is None:
            raise NotFound(f"member {member_id} does not exist")
        window = transition_window(stay, birth_date=member.birth_date, limits=limits)
        record_access(
            uow, actor, AuditAction.READ, "member", member_id, member_id, "transition eligibility", now,
            detail={"rule": "TCM-05", "eligible": str(window.eligible).lower()},
        )  # fmt: skip
        uow.commit()
    return window
