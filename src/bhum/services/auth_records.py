"""What the authorization engine keeps beyond the core tables: per-request status, clock and
determination, appeals, peer-to-peer discussions and the letter queue.

The store provides ``AuthRecords`` on its unit of work as ``uow.auth`` (see
``bhum.adapters.store.auth_records.AuthSqlUnitOfWork``); services reach it with :func:`auth_records`.
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


class RequestStatus(StrEnum):
    PENDED = "pended"
    APPROVED = "approved"
    PARTIALLY_APPROVED = "partially_approved"
    DENIED = "denied"
    ADMINISTRATIVE_DENIAL = "administrative_denial"
    NOT_REQUIRED = "not_required"
    WITHDRAWN = "withdrawn"


OPEN_STATUSES = frozenset({RequestStatus.PENDED})


@dataclass(slots=True)
class RequestRecord:
    """The engine's view of one service request (the request itself is in ``uow.service_requests``)."""

    request_id: str
    member_id: str
    status: RequestStatus
    received_at: datetime
    due_at: datetime  # REG-01 / REG-03 / IOP-12: the strictest clock
    due_rule_id: str
    due_label: str
    program: dict[str, Any]  # the program facts sent with the request (hours, attendance, progress …)
    determination: dict[str, Any]  # the determination as JSON, with every criterion and its evidence
    level_of_care: str = "iop"
    progress: str | None = None  # TreatmentResponse of a concurrent review (MN-03)
    related_authorization_id: str | None = None
    authorization_id: str | None = None
    decided_at: datetime | None = None
    time_to_decision_seconds: float | None = None
    escalation: int = 0  # 0 none, 1 due soon, 2 overdue: escalations only go up (idempotent tick)
    reviewer_staff_id: str | None = None  # who decided after review


class AppealOutcome(StrEnum):
    UPHELD = "upheld"
    OVERTURNED = "overturned"
    PARTIALLY_OVERTURNED = "partially_overturned"


@dataclass(slots=True)
class AppealRecord:
    appeal_id: str
    request_id: str
    filed_at: datetime
    filed_by: str
    reason: str
    original_reviewer_staff_id: str | None
    reviewer_staff_id: str | None = None
    outcome: AppealOutcome | None = None
    decided_at: datetime | None = None
    notes: str = ""


class PeerToPeerOutcome(StrEnum):
    DECISION_UPHELD = "decision_upheld"
    DECISION_CHANGED = "decision_changed"
    PROVIDER_DECLINED = "provider_declined"
    NO_RESPONSE = "no_response"


@dataclass(slots=True)
class PeerToPeerRecord:
    """REG-03: the offer to talk with the reviewer, and what came of it."""

    p2p_id: str
    request_id: str
    offered_at: datetime
    reviewer_staff_id: str | None
    held_at: datetime | None = None
    outcome: PeerToPeerOutcome | None = None
    notes: str = ""


class LetterJobStatus(StrEnum):
    QUEUED = "queued"
    RENDERED = "rendered"


@dataclass(slots=True)
class LetterJob:
    """A letter to produce for a decision; ``letter_id`` is the idempotency key (one per decision,
    kind and recipient)."""

    letter_id: str
    kind: str
    recipient_kind: str
    recipient_id: str
    member_id: str
    request_id: str
    decision_id: str
    created_at: datetime
    status: LetterJobStatus = LetterJobStatus.QUEUED
    rendered_at: datetime | None = None
    file_path: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class AuthRecords(Protocol):
    def add_request(self, record: RequestRecord) -> None: ...
    def save_request(self, record: RequestRecord) -> None: ...
    def get_request(self, request_id: str) -> RequestRecord | None: ...
    def requests_for_authorization(self, authorization_id: str) -> Sequence[RequestRecord]:
        """Continuing-service requests tied to an authorization, oldest first."""
        ...

    def open_requests(self) -> Sequence[RequestRecord]: ...
    def count_requests(self) -> int: ...

    def add_appeal(self, appeal: AppealRecord) -> None: ...
    def save_appeal(self, appeal: AppealRecord) -> None: ...
    def get_appeal(self, appeal_id: str) -> AppealRecord | None: ...
    def appeals_for_request(self, request_id: str) -> Sequence[AppealRecord]: ...

    def add_peer_to_peer(self, record: PeerToPeerRecord) -> None: ...
    def save_peer_to_peer(self, record: PeerToPeerRecord) -> None: ...
    def peer_to_peer_for_request(self, request_id: str) -> Sequence[PeerToPeerRecord]: ...

    def queue_letter(self, job: LetterJob) -> bool:
        """False (nothing written) when a job with that letter id exists."""
        ...

    def save_letter_job(self, job: LetterJob) -> None: ...
    def queued_letters(self, limit: int = 500) -> Sequence[LetterJob]: ...
    def letter_jobs_for_request(self, request_id: str) -> Sequence[LetterJob]: ...
    def count_letter_jobs(self) -> int: ...

    # -- "is authorization required?" reads, answered by the store in one indexed query each
    def testing_notice_applies(self, *, plan_id: str, provider_npi: str, member_id: str, on: date) -> bool:
        """OPM-01: some testing notice of the plan applies to this provider and member on the date,
        by the same test as ``TestingPreauthNotice.applies`` (a notice naming both needs both)."""
        ...

    def open_authorization_start(self, *, member_id: str, service: Code) -> date | None:
        """IOP-14: the latest start date of the member's active (approved or partially approved)
        authorizations that carry the service code (system and code); None when there is none."""
        ...


class AuthRecordsMissing(BhumError):
    """The unit of work has no ``auth`` records (the composition root must use the auth-aware one)."""


def auth_records(uow: UnitOfWork) -> AuthRecords:
    records: AuthRecords | None = getattr(uow, "auth", None)
    if records is None:
        raise AuthRecordsMissing(
            "this unit of work has no authorization records: build it with "
            "bhum.adapters.store.auth_records.AuthSqlUnitOfWork"
        )
    return records
