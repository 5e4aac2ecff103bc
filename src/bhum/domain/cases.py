"""Cases: an outpatient-management review (OPM-03..07) or a case-management episode (TCM-*)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from bhum.domain.errors import InputError, InvalidTransition


class CaseProgram(StrEnum):
    OUTPATIENT_MANAGEMENT = "outpatient_management"  # OPM-03: claims-based Focused Outpatient Management
    CASE_MANAGEMENT = "case_management"  # TCM: targeted case management (T1017)
    INTENSIVE_CASE_MANAGEMENT = "intensive_case_management"  # TCM-06: caseload 10–15, 24/7
    WRAPAROUND = "wraparound"  # TCM-06: 8–10 families
    STEP_DOWN = "step_down"  # OPM-09: following a member down the continuum


class CaseStatus(StrEnum):
    OPEN = "open"
    AWAITING_INFORMATION = "awaiting_information"  # OPM-04: clinical update form requested
    IN_REVIEW = "in_review"  # OPM-06: returned information under clinical review
    CLOSED = "closed"


_C = CaseStatus
CASE_TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    _C.OPEN: frozenset({_C.AWAITING_INFORMATION, _C.IN_REVIEW, _C.CLOSED}),
    _C.AWAITING_INFORMATION: frozenset({_C.IN_REVIEW, _C.CLOSED}),
    _C.IN_REVIEW: frozenset({_C.AWAITING_INFORMATION, _C.CLOSED}),
    _C.CLOSED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class DueDate:
    """Something owed by a date, with the rule that sets it (e.g. the OPM-04 30-day form return)."""

    what: str
    due_on: date
    rule_id: str


@dataclass(slots=True)
class Case:
    case_id: str
    member_id: str
    program: CaseProgram
    opened_at: datetime
    status: CaseStatus = CaseStatus.OPEN
    provider_npi: str | None = None
    assigned_staff_id: str | None = None
    rule_ids: tuple[str, ...] = ()  # the rules (clinical-intelligence flags, TCM variants) behind it
    due_dates: tuple[DueDate, ...] = ()
    closed_at: datetime | None = None
    close_reason: str = ""

    def __post_init__(self) -> None:
        if self.opened_at.tzinfo is None:
            raise InputError("a timestamp must carry its time zone", field="opened_at", record=self.case_id)

    def move_to(self, to: CaseStatus, *, at: datetime, reason: str = "") -> None:
        if to not in CASE_TRANSITIONS[self.status]:
            raise InvalidTransition(f"case {self.case_id} cannot go from {self.status} to {to}")
        self.status = to
        if to is CaseStatus.CLOSED:
            self.closed_at = at
            self.close_reason = reason

    def add_due_date(self, due: DueDate) -> None:
        self.due_dates = (*self.due_dates, due)

    def overdue_on(self, day: date) -> tuple[DueDate, ...]:
        if self.status is CaseStatus.CLOSED:
            return ()
        return tuple(d for d in self.due_dates if d.due_on < day)
