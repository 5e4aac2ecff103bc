"""Storage contract of case management, consent and coordination of care (TCM-06..12, COC, REG-06).

``CareUnitOfWork`` is the base unit of work plus the care-management repositories. It is a drop-in
superset: anything that takes a ``UnitOfWork`` accepts it. The SQL implementation is
``bhum.adapters.store.care_management.SqlCareUnitOfWork``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from bhum.domain.case_management import CaseloadType, CaseManagementRefusal, ProgressNote, ServicePlan
from bhum.domain.consent import Consent
from bhum.domain.coordination import CoordinationTaskSpec
from bhum.domain.values import DateSpan
from bhum.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class CaseloadAssignment:
    """A member on a case manager's caseload: the case, its caseload type and the family (wraparound)."""

    case_id: str
    staff_id: str
    member_id: str
    caseload_type: CaseloadType
    assigned_at: datetime
    family_id: str | None = None
    override_supervisor_id: str | None = None  # TCM-06: accepted beyond the maximum
    override_reason: str = ""


@dataclass(frozen=True, slots=True)
class StoredProgressNote:
    note: ProgressNote
    member_id: str
    staff_id: str
    recorded_at: datetime
    original_signature_due: date | None  # TCM-09: faxed signature


@dataclass(frozen=True, slots=True)
class StoredServicePlan:
    """One version of a member's service plan (TCM-10). A revision of the plan is a new version under
    the same plan id; earlier versions stay as they were."""

    plan: ServicePlan
    member_id: str
    effective: DateSpan  # the dates of service the plan governs (open end: until a later plan)
    version: int  # 1, 2, ... per plan id
    recorded_by: str  # user id
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class CoordinationTask:
    task_id: str
    spec: CoordinationTaskSpec
    created_at: datetime
    status: str = "open"


class CaseloadAssignmentRepository(Protocol):
    def add(self, assignment: CaseloadAssignment) -> None: ...
    def for_staff(self, staff_id: str) -> Sequence[CaseloadAssignment]:
        """Assignments whose case is still open."""
        ...


class ConsentRepository(Protocol):
    def add(self, consent: Consent) -> None: ...
    def get(self, consent_id: str) -> Consent | None: ...
    def save(self, consent: Consent) -> None: ...
    def for_member(self, member_id: str) -> Sequence[Consent]: ...


class RefusalRepository(Protocol):
    def add(self, refusal: CaseManagementRefusal) -> None: ...
    def for_member(self, member_id: str) -> Sequence[CaseManagementRefusal]: ...


class ProgressNoteRepository(Protocol):
    def add(self, note: StoredProgressNote) -> None: ...
    def get(self, note_id: str) -> StoredProgressNote | None: ...
    def for_member(self, member_id: str) -> Sequence[StoredProgressNote]: ...


class ServicePlanRepository(Protocol):
    def add(self, stored: StoredServicePlan) -> None: ...
    def latest(self, plan_id: str) -> StoredServicePlan | None:
        """The plan's newest version."""
        ...

    def versions(self, plan_id: str) -> Sequence[StoredServicePlan]:
        """Every version of the plan, oldest first."""
        ...

    def for_members(self, member_ids: Sequence[str]) -> Sequence[StoredServicePlan]:
        """The newest version of every plan of these members, by member then effective date."""
        ...


class CoordinationTaskRepository(Protocol):
    def add(self, task: CoordinationTask) -> None: ...
    def for_member(self, member_id: str) -> Sequence[CoordinationTask]: ...


class CareUnitOfWork(UnitOfWork):
    caseload_assignments: CaseloadAssignmentRepository
    consents: ConsentRepository
    refusals: RefusalRepository
    progress_notes: ProgressNoteRepository
    coordination_tasks: CoordinationTaskRepository
    service_plans: ServicePlanRepository
