"""Coordination of care with the PCP over the API (COC-01, COC-02): events become coordination
tasks; a task's PCP notification letter is sent once, through the consent gate (COC-04, REG-06)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from bhum.domain.access import Permission
from bhum.domain.consent import RecordKind
from bhum.domain.coordination import (
    ConditionChange,
    Event,
    InitialAssessment,
    MedicationChange,
    NewMemberReport,
    PcpReferral,
    PlannedTreatment,
    PsychotropicRegimen,
)
from bhum.domain.errors import InputError
from bhum.domain.letters import PlanContact, Recipient, RecipientKind, StaffContact
from bhum.domain.values import Code
from bhum.entrypoints.api.dependencies import Principal
from bhum.entrypoints.api.routes.case_management import (
    MemberId,
    Strict,
    care_uow,
    letter_writer,
    refused,
)
from bhum.entrypoints.api.security import get_deps, requires
from bhum.policy.loader import resolve_system
from bhum.services.care_records import CoordinationTask
from bhum.services.consent import DisclosureRefused
from bhum.services.coordination import list_coordination_tasks, raise_coordination_tasks, send_pcp_letter

router = APIRouter()


class CodeIn(Strict):
    system: str = Field(min_length=1, description="A URI or a short name: icd10cm, cpt, hcpcs, ndc, rxnorm")
    code: str = Field(min_length=1, max_length=32)
    display: str | None = None

    def to_domain(self, field: str) -> Code:
        system = resolve_system(self.system)
        if system is None:
            raise InputError(f"unknown code system {self.system!r}", field=f"{field}.system")
        return Code(system, self.code, self.display)


class RegimenIn(Strict):
    drug: CodeIn
    therapeutic_class: str = Field(min_length=1, max_length=64)
    daily_dose: float | None = None
    dose_unit: str = "mg"

    def to_domain(self, field: str) -> PsychotropicRegimen:
        return PsychotropicRegimen(
            self.drug.to_domain(f"{field}.drug"), self.therapeutic_class, self.daily_dose, self.dose_unit
        )


class MedicationChangeIn(Strict):
    kind: Literal["medication_change"]
    changed_on: date
    before: RegimenIn | None = None
    after: RegimenIn | None = None
    prescriber_npi: str | None = None


class NewMemberReportIn(Strict):
    kind: Literal["new_member_report"]
    reported_on: date
    diagnoses: list[CodeIn]


class InitialAssessmentIn(Strict):
    kind: Literal["initial_assessment"]
    assessed_on: date
    medical_conditions: list[CodeIn]


class ConditionChangeIn(Strict):
    kind: Literal["condition_change"]
    changed_on: date
    added_diagnoses: list[CodeIn] = Field(default_factory=list)
    worsened: bool = False


class PlannedTreatmentIn(Strict):
    kind: Literal["planned_treatment"]
    planned_on: date
    procedure: CodeIn


class PcpReferralIn(Strict):
    kind: Literal["pcp_referral"]
    referred_on: date
    referring_npi: str = Field(pattern=r"^\d{10}$")


EventIn = Annotated[
    MedicationChangeIn
    | NewMemberReportIn
    | InitialAssessmentIn
    | ConditionChangeIn
    | PlannedTreatmentIn
    | PcpReferralIn,
    Field(discriminator="kind"),
]


def event_to_domain(member_id: str, event: EventIn, index: int) -> Event:
    at = f"events[{index}]"
    if isinstance(event, MedicationChangeIn):
        return MedicationChange(
            member_id,
            event.changed_on,
            event.before.to_domain(f"{at}.before") if event.before else None,
            event.after.to_domain(f"{at}.after") if event.after else None,
            event.prescriber_npi,
        )
    if isinstance(event, NewMemberReportIn):
        return NewMemberReport(
            member_id, event.reported_on, tuple(c.to_domain(f"{at}.diagnoses") for c in event.diagnoses)
        )
    if isinstance(event, InitialAssessmentIn):
        return InitialAssessment(
            member_id,
            event.assessed_on,
            tuple(c.to_domain(f"{at}.medical_conditions") for c in event.medical_conditions),
        )
    if isinstance(event, ConditionChangeIn):
        return ConditionChange(
            member_id,
            event.changed_on,
            tuple(c.to_domain(f"{at}.added_diagnoses") for c in event.added_diagnoses),
            event.worsened,
        )
    if isinstance(event, PlannedTreatmentIn):
        return PlannedTreatment(member_id, event.planned_on, event.procedure.to_domain(f"{at}.procedure"))
    return PcpReferral(member_id, event.referred_on, event.referring_npi)


class EventsIn(Strict):
    events: list[EventIn] = Field(min_length=1)


class CoordinationTaskOut(BaseModel):
    task_id: str
    member_id: str
    trigger: str
    rule_id: str
    reason: str
    due_on: date
    notify_pcp: bool
    pcp_npi: str | None
    created_at: datetime
    status: str

    @classmethod
    def of(cls, task: CoordinationTask) -> CoordinationTaskOut:
        s = task.spec
        return cls(
            task_id=task.task_id,
            member_id=s.member_id,
            trigger=s.trigger.value,
            rule_id=s.rule_id,
            reason=s.reason,
            due_on=s.due_on,
            notify_pcp=s.notify_pcp,
            pcp_npi=s.pcp_npi,
            created_at=task.created_at,
            status=task.status,
        )


class PlanContactIn(Strict):
    name: str = Field(min_length=1)
    phone: str = Field(min_length=1)
    address_lines: list[str] = Field(min_length=1)

    def to_domain(self) -> PlanContact:
        return PlanContact(self.name, self.phone, tuple(self.address_lines))


class PcpIn(Strict):
    npi: str = Field(pattern=r"^\d{10}$")
    name: str = Field(min_length=1)
    address_lines: list[str] = Field(min_length=1)


class ContactIn(Strict):
    name: str = Field(min_length=1)
    phone: str = Field(min_length=1)
    credential: str | None = None


class PcpLetterIn(Strict):
    """Whom the letter goes to and whom the PCP calls (the store keeps no PCP addresses). The
    letterhead is the member's plan from the store (the population ``plans`` contact columns);
    ``plan`` still overrides it for older callers."""

    plan: PlanContactIn | None = Field(
        default=None, description="Deprecated: the plan's contact comes from the plans file"
    )
    pcp: PcpIn
    coordinator: ContactIn
    record_kind: RecordKind = RecordKind.GENERAL


class LetterOut(BaseModel):
    letter_id: str
    kind: str
    recipient_id: str
    created: bool  # False: it had been sent before and nothing new was written
    template: str
    content_sha256: str | None


@router.post(
    "/members/{member_id}/coordination-events", response_model=list[CoordinationTaskOut], status_code=201
)
def post_coordination_events(
    member_id: MemberId,
    body: EventsIn,
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CASE_MANAGE, member_param="member_id"))],
) -> list[CoordinationTaskOut]:
    """COC-01/02: every trigger the events raise becomes a coordination task."""
    deps = get_deps(request)
    uow = care_uow(deps)
    events = [event_to_domain(member_id, e, i) for i, e in enumerate(body.events)]
    tasks = raise_coordination_tasks(
        uow, principal.user, member_id=member_id, events=events, now=deps.clock(), scopes=deps.scopes(uow)
    )
    return [CoordinationTaskOut.of(t) for t in tasks]


@router.get("/members/{member_id}/coordination-tasks", response_model=list[CoordinationTaskOut])
def get_coordination_tasks(
    member_id: MemberId,
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CASE_READ, member_param="member_id"))],
) -> list[CoordinationTaskOut]:
    deps = get_deps(request)
    uow = care_uow(deps)
    tasks = list_coordination_tasks(
        uow, principal.user, member_id=member_id, scopes=deps.scopes(uow), now=deps.clock()
    )
    return [CoordinationTaskOut.of(t) for t in tasks]


@router.post("/members/{member_id}/coordination-tasks/{task_id}/pcp-letter", response_model=LetterOut)
def post_pcp_letter(
    member_id: MemberId,
    task_id: Annotated[str, PathParam(min_length=1, max_length=64)],
    body: PcpLetterIn,
    request: Request,
    principal: Annotated[Principal, Depends(requires(Permission.CASE_MANAGE, member_param="member_id"))],
) -> LetterOut | JSONResponse:
    """The PCP notification letter (COC-01/02), once per task; refused (403, audited) when the
    consent registry does not allow the content to go (COC-04, REG-06)."""
    deps = get_deps(request)
    uow = care_uow(deps)
    try:
        sent = send_pcp_letter(
            uow,
            principal.user,
            member_id=member_id,
            task_id=task_id,
            plan=body.plan.to_domain() if body.plan is not None else None,
            pcp=Recipient(RecipientKind.PROVIDER, body.pcp.name, tuple(body.pcp.address_lines), body.pcp.npi),
            coordinator=StaffContact(
                body.coordinator.name, body.coordinator.phone, body.coordinator.credential
            ),
            write=letter_writer(deps.settings.data_dir / "letters"),
            now=deps.clock(),
            tz=deps.settings.plan_time_zone,
            scopes=deps.scopes(uow),
            record_kind=body.record_kind,
        )
    except DisclosureRefused as exc:
        return refused(403, "disclosure_refused", exc.decision.reason, exc.decision.rule_id)
    return LetterOut(
        letter_id=sent.letter.letter_id,
        kind=sent.letter.kind.value,
        recipient_id=sent.letter.recipient_id,
        created=sent.created,
        template=sent.letter.template,
        content_sha256=sent.letter.content_sha256,
    )
