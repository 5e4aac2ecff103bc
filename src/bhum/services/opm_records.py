"""Storage contract of the Focused Outpatient Management program (OPM-03..OPM-08): the flags of each
run and the OPM side of each case (provider, cycle, letter and due dates, applicable services, the
returned form, the determination, the discontinuation).

The store provides ``OpmRecords`` on its unit of work as ``uow.opm``
(``bhum.adapters.store.opm.OpmSqlUnitOfWork``); services reach it with :func:`opm_records`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

from bhum.domain.errors import BhumError
from bhum.domain.values import Code
from bhum.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class StoredFlag:
    """One clinical-intelligence flag (a row of the analytics flags table), keyed by
    (member_id, rule_id, as_of) so re-running the same as-of date stores nothing twice."""

    member_id: str
    rule_id: str
    as_of: date
    member_rank: int
    member_score: float
    implements: str
    source: str
    title: str
    measure: str
    value: float
    comparator: str
    threshold: float
    evidence: str
    score: float
    index_date: date | None
    claim_ids: tuple[str, ...]
    claim_dates: tuple[date, ...]
    sentence: str
    pack_version: str


class OpmCaseState(StrEnum):
    AWAITING_FORM = "awaiting_form"  # OPM-04: letters sent, form due
    IN_REVIEW = "in_review"  # OPM-06: form returned, clinical review pending
    DETERMINED = "determined"  # OPM-06: determination recorded
    DISCONTINUED = "discontinued"  # OPM-07: form not returned by the due date


OPEN_STATES = frozenset({OpmCaseState.AWAITING_FORM, OpmCaseState.IN_REVIEW})


@dataclass(slots=True)
class OpmCaseRecord:
    case_id: str  # also the id of the core case (uow.cases)
    member_id: str
    provider_npi: str
    plan_id: str
    cycle: str  # "YYYY-MM" of the run's as-of date: one case per member, provider and cycle
    as_of: date
    letter_date: date
    due_on: date  # OPM-04: letter date + the pack's form window
    created_at: datetime
    state: OpmCaseState = OpmCaseState.AWAITING_FORM
    flag_rule_ids: tuple[str, ...] = ()  # the clinical-intelligence rules that identified the member
    services: tuple[Code, ...] = ()  # OPM-07: applicable services of the treating provider
    authorization_ids: tuple[str, ...] = ()  # OPM-05 approval and other related authorizations
    form: dict[str, Any] | None = None  # the returned Clinical Update Request Form (OPM-06)
    form_returned_at: datetime | None = None
    form_submitted_by: str | None = None
    review: dict[str, Any] | None = None  # the OPM-06 determination
    discontinued_from: date | None = None  # OPM-07: later claims for the services deny from here
    letter_ids: tuple[str, ...] = field(default=())

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class OpmRecords(Protocol):
    def upsert_flags(self, flags: Sequence[StoredFlag]) -> int:
        """Insert flags not yet stored (by member, rule and as-of) and refresh the others; returns
        how many were new."""
        ...

    def flags(self, *, as_of: date | None = None, limit: int = 100, offset: int = 0) -> Sequence[StoredFlag]:
        """Ranked (member rank, then score): the latest as-of date when none is given."""
        ...

    def flags_for_member(self, member_id: str) -> Sequence[StoredFlag]: ...
    def latest_as_of(self) -> date | None: ...
    def count_flags(self) -> int: ...

    def add_case(self, record: OpmCaseRecord) -> None: ...
    def save_case(self, record: OpmCaseRecord) -> None: ...
    def get_case(self, case_id: str) -> OpmCaseRecord | None: ...
    def open_case_for(self, member_id: str, provider_npi: str) -> OpmCaseRecord | None: ...
    def cases_in_cycle(self, cycle: str) -> int: ...
    def overdue_cases(self, day: date) -> Sequence[OpmCaseRecord]:
        """Cases still awaiting the form whose due date is before ``day``."""
        ...

    def list_cases(
        self, *, state: OpmCaseState | None = None, member_id: str | None = None, limit: int = 100
    ) -> Sequence[OpmCaseRecord]: ...
    def count_cases(self) -> int: ...


class OpmUnitOfWork(UnitOfWork):
    opm: OpmRecords


class OpmRecordsMissing(BhumError):
    """The unit of work has no ``opm`` records (the composition root must use the OPM-aware one)."""


def opm_records(uow: UnitOfWork) -> OpmRecords:
    records: OpmRecords | None = getattr(uow, "opm", None)
    if records is None:
        raise OpmRecordsMissing(
            "this unit of work has no outpatient-management records: build it with "
            "bhum.adapters.store.opm.OpmSqlUnitOfWork"
        )
    return records
