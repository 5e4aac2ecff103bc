"""Case management routes (TCM-05..TCM-12): caseloads, assignment, progress notes, service plans
(checked, stored with versions, listed), outreach and monthly-contact tasks, escalation, transition
eligibility and refusal.

Every route declares its permission; member routes name the member so the access dependency checks
scope (a case manager reaches only their caseload, a supervisor every member). The request bodies
are the same models ``bhum cm`` reads from JSON files. Numbers come from the tcm pack in force.
"""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from bhum.adapters.holidays import us_federal_holidays_for_span
from bhum.adapters.letters import sha256, template_name, write
from bhum.domain.access import Permission
from bhum.domain.case_management import (
    CaseloadType,
    InstitutionalStay,
    PlanGoal,
    ProgressNote,
    ServicePlan,
    SignatureKind,
    SupervisorOverride,
    TransitionWindow,
    activity_from_code,
)
from bhum.domain.errors import InputError
from bhum.domain.letters import LetterContent
from bhum.domain.members import ResidenceSetting
from bhum.domain.tasks import Task
from bhum.domain.values import DateSpan
from bhum.entrypoints.api.dependencies import ApiDependencies, Principal
from bhum.entrypoints.api.security import get_deps, requires
from bhum.policy import load_packs
from bhum.services.care_records import CareUnitOfWork, StoredServicePlan
from bhum.services.case_management import (
    AssignmentRefused,
    CareParameters,
    assign_member,
    check_service_plan,
    escalate_overdue,
    list_open_tasks,
    record_missed_appointment,
    record_progress_note,
    record_refusal,
    record_service_plan,
    schedule_monthly_contact,
    service_plan_versions,
    service_plans_of,
    transition_eligibility,
    view_caseload,
)
from bhum.services.coordination import LetterWriter, WrittenLetter

router = APIRouter()

MemberId = Annotated[str, PathParam(min_length=1, max_length=64)]


class Strict(BaseModel):
    """Input models refuse unknown fields, so a misspelt element is never silently dropped."""

    model_config = ConfigDict(extra="forbid")


# --- shared by the case-management, consent and coordination routes ------------------------------


def care_uow(deps: ApiDependencies) -> CareUnitOfWork:
    """A unit of work with the care-management repositories (the composition root provides it)."""
    uow = deps.uow_factory()
    if not isinstance(uow, CareUnitOfWork):
        raise RuntimeError("the composition root's unit of work lacks the care-management repositories")
    return uow


@lru_cache(maxsize=4)
def _parameters_from(packs_dir: Path) -> CareParameters:
    return CareParameters.from_packs(load_packs(packs_dir))


def care_parameters(deps: ApiDependencies) -> CareParameters:
    """TCM numbers from the packs in force (loaded once per packs directory)."""
    return _parameters_from(deps.settings.packs_dir)


def letter_writer(directory: Path) -> LetterWriter:
    """Files letters with the typst renderer under ``directory`` (one PDF per letter id)."""

    def file_letter(content: LetterContent) -> WrittenLetter:
        path = write(content, directory)
        return WrittenLetter(str(path), template_name(content.kind), sha256(path.read_bytes()))

    return file_letter


def refused(status: int, error: str, message: str, rule_id: str | None = None) -> JSONResponse:
    body: dict[str, object] = {"error": error, "message": message}
    if rule_id is not None:
        body["rule_id"] = rule_id
    return JSONResponse(body, status_code=status)


# --- models --------------------------------------------------------------------------------------


class AssignmentIn(Strict):
    staff_id: str = Field(min_length=1, max_length=64)
    caseload_type: CaseloadType
    family_id: str | None = Field(default=None, max_length=64)
    override_reason: str | None = Field(
        default=None, max_length=500, description="TCM-06: a supervisor's reason to go beyond the limit"
    )


class AssignmentOut(BaseModel):
    case_id: str
    member_id: str
    staff_id: str
    caseload_type: CaseloadType
    count_after: int
    status_after: str
    overridden: bool
    rule_id: str


class CaseloadEntryOut(BaseModel):
    case_id: str
    member_id: str
    caseload_type: CaseloadType
    assigned_at: datetime
    family_id: str | None
    overridden: bool


class CaseloadCountOut(BaseModel):
    caseload_type: CaseloadType
    count: int
    minimum: int
    maximum: int
    counted_in: str
    status: str


class CaseloadOut(BaseModel):
    staff_id: str
    entries: list[CaseloadEntryOut]
    counts: list[CaseloadCountOut]


class ProgressNoteIn(Strict):
    """TCM-09: the 11 elements; anything missing is named in the 422 answer and nothing is stored."""

    note_id: str = Field(min_length=1, max_length=64)
    session_date: date | None = None
    persons_served: list[str] = []
    start_time: time | None = None
    stop_time: time | None = None
    signature: SignatureKind | None = None
    signed_on: date | None = None
    original_signature_on: date | None = None
    provider_credentials: str = ""
    plan_needs_addressed: str = ""
    activities: list[str] = []
    activity_narrative: str = ""
    progress_or_barriers: str = ""
    member_response: str = ""
    new_needs_identified: str = ""
    member_satisfaction: str = ""

    def to_domain(self) -> ProgressNote:
        return ProgressNote(
            note_id=self.note_id,
            session_date=self.session_date,
            persons_served=tuple(self.persons_served),
            start_time=self.start_time,
            stop_time=self.stop_time,
            signature=self.signature,
            signed_on=self.signed_on,
            original_signature_on=self.original_signature_on,
            provider_credentials=self.provider_credentials,
            plan_needs_addressed=self.plan_needs_addressed,
            activities=tuple(
                activity_from_code(a, record=self.note_id, source="progress note") for a in self.activities
            ),
            activity_narrative=self.activity_narrative,
            progress_or_barriers=self.progress_or_barriers,
            member_response=self.member_response,
            new_needs_identified=self.new_needs_identified,
            member_satisfaction=self.member_satisfaction,
        )


class ProgressNoteOut(BaseModel):
    note_id: str
    member_id: str
    staff_id: str
    recorded_at: datetime
    original_signature_due: date | None  # TCM-09: faxed signature
    rule_id: str = "TCM-09"


class GoalIn(Strict):
    goal: str
    objectives: list[str] = []


class ServicePlanIn(Strict):
    plan_id: str = Field(min_length=1, max_length=64)
    goals: list[GoalIn] = []
    member_participated: bool = False
    member_signed_on: date | None = None
    case_manager_signed_on: date | None = None
    licensed_professional_signed_on: date | None = None
    licensed_professional_id: str | None = None

    def to_domain(self) -> ServicePlan:
        return ServicePlan(
            plan_id=self.plan_id,
            goals=tuple(PlanGoal(g.goal, tuple(g.objectives)) for g in self.goals),
            member_participated=self.member_participated,
            member_signed_on=self.member_signed_on,
            case_manager_signed_on=self.case_manager_signed_on,
            licensed_professional_signed_on=self.licensed_professional_signed_on,
            licensed_professional_id=self.licensed_professional_id,
        )


class ServicePlanOut(BaseModel):
    plan_id: str
    complete: bool
    development_compensable: bool
    rule_id: str


class ServicePlanRecordIn(ServicePlanIn):
    """A service plan to store (TCM-10): the plan plus the dates of service it governs."""

    effective_from: date = Field(description="First date of service the plan governs")
    effective_to: date | None = Field(default=None, description="Last date (none: until a later plan)")

    def effective(self) -> DateSpan:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise InputError("ends before effective_from", field="effective_to", record=self.plan_id)
        return DateSpan(self.effective_from, self.effective_to)


class StoredServicePlanOut(BaseModel):
    plan_id: str
    member_id: str
    version: int
    effective_from: date
    effective_to: date | None
    goals: list[GoalIn]
    member_participated: bool
    member_signed_on: date | None
    case_manager_signed_on: date | None
    licensed_professional_signed_on: date | None
    licensed_professional_id: str | None
    recorded_by: str
    recorded_at: datetime
    rule_id: Literal["TCM-10"] = "TCM-10"

    @classmethod
    def of(cls, stored: StoredServicePlan) -> StoredServicePlanOut:
        p = stored.plan
        return cls(
            plan_id=p.plan_id,
            member_id=stored.member_id,
            version=stored.version,
            effective_from=stored.effective.start,
            effective_to=stored.effective.end,
            goals=[GoalIn(goal=g.goal, objectives=list(g.objectives)) for g in p.goals],
            member_participated=p.member_participated,
            member_signed_on=p.member_signed_on,
            case_manager_signed_on=p.case_manager_signed_on,
            licensed_professional_signed_on=p.licensed_professional_signed_on,
            licensed_professional_id=p.licensed_professional_id,
            recorded_by=stored.recorded_by,
            recorded_at=stored.recorded_at,
        )


class RecordedServicePlanOut(StoredServicePlanOut):
    created: bool  # False: the same plan was already stored as its newest version; nothing written
    development_compensable: bool


class MissedAppointmentIn(Strict):
    missed_at: datetime = Field(description="When the appointment or contact was missed (with zone)")


class MonthlyContactIn(Strict):
    contacts: list[date] = Field(default=[], description="Community/home contacts already made")


class TaskOut(BaseModel):
    task_id: str
    kind: str
    member_id: str | None
    due_at: datetime
    assigned_to: str | None
    escalated: bool
    rule_id: str | None

    @classmethod
    def of(cls, task: Task) -> TaskOut:
        return cls(
            task_id=task.task_id,
            kind=task.kind.value,
            member_id=task.member_id,
            due_at=task.due_at,
            assigned_to=task.assigned_to,
            escalated=task.escalated,
            rule_id=task.rule_id,
        )


class StayIn(Strict):
    setting: ResidenceSetting
    admitted_on: date
    expected_discharge_on: date | None = None
    discharged_on: date | None = None

    def to_domain(self) -> InstitutionalStay:
        return InstitutionalStay(
            self.setting, self.admitted_on, self.expected_discharge_on, self.discharged_on
        )


class TransitionOut(BaseModel):
    eligible: bool
    billable_from: date | None
    billable_through: date | None
    stay_days: int | None
    reason: str
    rule_id: str

    @classmethod
    def of(cls, window: TransitionWindow) -> TransitionOut:
        return cls(
            eligible=window.eligible,
            billable_from=window.billable_from,
            billable_through=window.billable_through,
            stay_days=window.stay_days,
            reason=window.reason,
            rule_id=window.rule_id,
        )


class RefusalIn(Strict):
    refused_on: date
    reason: str = Field(default="", max_length=500)


class RefusalOut(BaseModel):
    member_id: str
    refused_on: date
    rule_id: Literal["TCM-12"] = "TCM-12"
    other_services_restricted: bool = False  # TCM-12: never


# --- routes --------------------------------------------------------------------------------------


@router.get("/caseloads/{staff_id}", response_model=CaseloadOut)
def get_caseload(
    staff_id: Annotated[str, PathParam(min_length=1, max_length=64)],
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CASE_READ))],
) -> CaseloadOut:
    """TCM-06: a caseload and its size against the limits; a case manager sees only their own."""
    deps = get_deps(request)
    limits = care_parameters(deps).caseload_limits
    view = view_caseload(care_uow(deps), principal.user, staff_id=staff_id, now=deps.clock(), limits=limits)
    return CaseloadOut(
        staff_id=view.staff_id,
        entries=[
            CaseloadEntryOut(
                case_id=e.case_id,
                member_id=e.member_id,
                caseload_type=e.caseload_type,
                assigned_at=e.assigned_at,
                family_id=e.family_id,
                overridden=e.overridden,
            )
            for e in view.entries
        ],
        counts=[
            CaseloadCountOut(
                caseload_type=kind,
                count=count,
                minimum=limits[kind].minimum,
                maximum=limits[kind].maximum,
                counted_in=limits[kind].counted_in,
                status=view.statuses[kind].value,
            )
            for kind, count in view.counts.items()
        ],
    )


@router.post("/members/{member_id}/caseload-assignments", response_model=AssignmentOut, status_code=201)
def post_assignment(
    member_id: MemberId,
    body: AssignmentIn,
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CASE_MANAGE, member_param="member_id"))],
) -> AssignmentOut | JSONResponse:
    """TCM-06: put the member on a caseload. Beyond the maximum only with ``override_reason``, given by
    a supervisor (the override names the caller: nobody overrides in someone else's name)."""
    deps = get_deps(request)
    override = (
        SupervisorOverride(principal.user.id, body.override_reason)
        if body.override_reason is not None
        else None
    )
    try:
        case, decision = assign_member(
            care_uow(deps),
            principal.user,
            member_id=member_id,
            staff_id=body.staff_id,
            caseload_type=body.caseload_type,
            now=deps.clock(),
            family_id=body.family_id,
            override=override,
            limits=care_parameters(deps).caseload_limits,
        )
    except AssignmentRefused as exc:
        rule = exc.decision.rule_id if exc.decision else "TCM-12"
        return refused(409, "assignment_refused", str(exc), rule)
    return AssignmentOut(
        case_id=case.case_id,
        member_id=member_id,
        staff_id=body.staff_id,
        caseload_type=body.caseload_type,
        count_after=decision.count_after,
        status_after=decision.status_after.value,
        overridden=decision.overridden,
        rule_id=decision.rule_id,
    )


@router.post("/members/{member_id}/progress-notes", response_model=ProgressNoteOut, status_code=201)
def post_progress_note(
    member_id: MemberId,
    body: ProgressNoteIn,
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CASE_MANAGE, member_param="member_id"))],
) -> ProgressNoteOut:
    """TCM-09: validated at entry; a faxed signature gets its original-signature due date."""
    deps = get_deps(request)
    uow = care_uow(deps)
    stored = record_progress_note(
        uow,
        principal.user,
        body.to_domain(),
        member_id=member_id,
        scopes=deps.scopes(uow),
        now=deps.clock(),
        original_signature_days=care_parameters(deps).original_signature_days,
    )
    return ProgressNoteOut(
        note_id=stored.note.note_id,
        member_id=stored.member_id,
        staff_id=stored.staff_id,
        recorded_at=stored.recorded_at,
        original_signature_due=stored.original_signature_due,
    )


@router.post("/members/{member_id}/service-plans/check", response_model=ServicePlanOut)
def post_service_plan_check(
    member_id: MemberId,
    body: ServicePlanIn,
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CASE_MANAGE, member_param="member_id"))],
) -> ServicePlanOut:
    """TCM-10: goals with objectives and three signatures; 422 naming what is missing."""
    deps = get_deps(request)
    uow = care_uow(deps)
    result = check_service_plan(
        uow, principal.user, body.to_domain(), member_id=member_id, scopes=deps.scopes(uow), now=deps.clock()
    )
    return ServicePlanOut(
        plan_id=result.plan_id,
        complete=result.complete,
        development_compensable=result.development_compensable,
        rule_id=result.rule_id,
    )


@router.post("/members/{member_id}/service-plans", response_model=RecordedServicePlanOut, status_code=201)
def post_service_plan(
    member_id: MemberId,
    body: ServicePlanRecordIn,
    request: Request,
    response: Response,
    principal: Annotated[Principal, Depends(requires(Permission.CASE_MANAGE, member_param="member_id"))],
) -> RecordedServicePlanOut:
    """TCM-10: store a complete plan (422 naming what is missing, nothing stored). The same plan again
    answers 200 with the stored version; a revised plan is stored as the next version (201)."""
    deps = get_deps(request)
    uow = care_uow(deps)
    recorded = record_service_plan(
        uow, principal.user, body.to_domain(), member_id=member_id, effective=body.effective(),
        scopes=deps.scopes(uow), now=deps.clock(),
    )  # fmt: skip
    if not recorded.created:
        response.status_code = 200
    return RecordedServicePlanOut(
        **StoredServicePlanOut.of(recorded.stored).model_dump(),
        created=recorded.created,
        development_compensable=recorded.validation.development_compensable,
    )


@router.get("/members/{member_id}/service-plans", response_model=list[StoredServicePlanOut])
def get_service_plans(
    member_id: MemberId,
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CASE_READ, member_param="member_id"))],
) -> list[StoredServicePlanOut]:
    """TCM-10: the newest version of each of the member's stored plans, by effective date."""
    deps = get_deps(request)
    uow = care_uow(deps)
    plans = service_plans_of(
        uow, principal.user, member_id=member_id, scopes=deps.scopes(uow), now=deps.clock()
    )
    return [StoredServicePlanOut.of(p) for p in plans]


@router.get(
    "/members/{member_id}/service-plans/{plan_id}/versions", response_model=list[StoredServicePlanOut]
)
def get_service_plan_versions(
    member_id: MemberId,
    plan_id: Annotated[str, PathParam(min_length=1, max_length=64)],
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CASE_READ, member_param="member_id"))],
) -> list[StoredServicePlanOut]:
    """TCM-10: every version of one plan, oldest first (404 when the member has no such plan)."""
    deps = get_deps(request)
    uow = care_uow(deps)
    versions = service_plan_versions(
        uow, principal.user, member_id=member_id, plan_id=plan_id, scopes=deps.scopes(uow), now=deps.clock()
    )
    return [StoredServicePlanOut.of(v) for v in versions]


@router.post("/members/{member_id}/missed-appointments", response_model=TaskOut, status_code=201)
def post_missed_appointment(
    member_id: MemberId,
    body: MissedAppointmentIn,
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CASE_MANAGE, member_param="member_id"))],
) -> TaskOut:
    """TCM-07: an outreach task due by the end of the 2nd business day (plan zone, holidays)."""
    deps = get_deps(request)
    uow = care_uow(deps)
    missed = body.missed_at
    if missed.tzinfo is None:
        missed = missed.replace(tzinfo=deps.settings.plan_time_zone)
    day = missed.astimezone(deps.settings.plan_time_zone).date()
    task = record_missed_appointment(
        uow,
        principal.user,
        member_id=member_id,
        missed_at=missed,
        tz=deps.settings.plan_time_zone,
        holidays=us_federal_holidays_for_span(day, date(day.year + 1, 12, 31)),
        scopes=deps.scopes(uow),
        now=deps.clock(),
        business_days=care_parameters(deps).outreach_business_days,
    )
    return TaskOut.of(task)


@router.post("/members/{member_id}/monthly-contact-tasks", response_model=TaskOut, status_code=201)
def post_monthly_contact(
    member_id: MemberId,
    body: MonthlyContactIn,
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CASE_MANAGE, member_param="member_id"))],
) -> TaskOut:
    """TCM-08: a task for the next community/home contact, due by the end of the month it is owed."""
    deps = get_deps(request)
    uow = care_uow(deps)
    task = schedule_monthly_contact(
        uow,
        principal.user,
        member_id=member_id,
        contacts=body.contacts,
        tz=deps.settings.plan_time_zone,
        scopes=deps.scopes(uow),
        now=deps.clock(),
        min_per_month=care_parameters(deps).min_contacts_per_month,
    )
    return TaskOut.of(task)


@router.get("/tasks", response_model=list[TaskOut])
def get_tasks(
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CASE_READ))],
    assigned_to: Annotated[str | None, Query(max_length=64)] = None,
    overdue: bool = False,
) -> list[TaskOut]:
    """Open tasks of the caller (a supervisor may ask for another user's), soonest due first."""
    deps = get_deps(request)
    now = deps.clock()
    tasks = list_open_tasks(
        care_uow(deps), principal.user, now=now, assigned_to=assigned_to, due_before=now if overdue else None
    )
    return [TaskOut.of(t) for t in tasks]


@router.post("/tasks/escalations", response_model=list[TaskOut])
def post_escalations(
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CASE_MANAGE))],
) -> list[TaskOut]:
    """TCM-07/08: overdue outreach and monthly-contact tasks go to the calling supervisor."""
    deps = get_deps(request)
    return [TaskOut.of(t) for t in escalate_overdue(care_uow(deps), principal.user, now=deps.clock())]


@router.post("/members/{member_id}/transition-eligibility", response_model=TransitionOut)
def post_transition_eligibility(
    member_id: MemberId,
    body: StayIn,
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CASE_READ, member_param="member_id"))],
) -> TransitionOut:
    """TCM-05: whether and from which date case management may be billed as a transition."""
    deps = get_deps(request)
    uow = care_uow(deps)
    window = transition_eligibility(
        uow,
        principal.user,
        body.to_domain(),
        member_id=member_id,
        scopes=deps.scopes(uow),
        now=deps.clock(),
        limits=care_parameters(deps).transition_limits,
    )
    return TransitionOut.of(window)


@router.post("/members/{member_id}/refusals", response_model=RefusalOut, status_code=201)
def post_refusal(
    member_id: MemberId,
    body: RefusalIn,
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CASE_MANAGE, member_param="member_id"))],
) -> RefusalOut:
    """TCM-12: the member refuses case management; no other service is restricted."""
    deps = get_deps(request)
    uow = care_uow(deps)
    refusal = record_refusal(
        uow,
        principal.user,
        member_id=member_id,
        refused_on=body.refused_on,
        scopes=deps.scopes(uow),
        now=deps.clock(),
        reason=body.reason,
    )
    return RefusalOut(member_id=refusal.member_id, refused_on=refusal.refused_on)
