"""Service requests, reviews, decisions and the authorization lifecycle.

An authorization keeps its full status history; every move is checked against the lifecycle
requested → pended → approved / partially_approved / denied / withdrawn → expired / discontinued,
and an illegal move raises InvalidTransition instead of silently rewriting the record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from bhum.domain.clinical import ClinicalInformation
from bhum.domain.errors import InputError, InvalidTransition
from bhum.domain.values import Code, DateSpan


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InputError("a timestamp must carry its time zone", field=name)


class Urgency(StrEnum):
    EXPEDITED = "expedited"  # REG-01: 72 hours
    STANDARD = "standard"  # REG-01: 7 calendar days


class ReviewKind(StrEnum):
    PRE_SERVICE = "pre_service"
    CONCURRENT = "concurrent"
    POST_SERVICE = "post_service"


@dataclass(frozen=True, slots=True)
class ServiceRequest:
    request_id: str
    member_id: str
    requesting_provider_npi: str
    servicing_provider_npi: str
    service_codes: tuple[Code, ...]
    requested_units: int
    requested_span: DateSpan
    urgency: Urgency
    review_kind: ReviewKind
    received_at: datetime
    clinical: ClinicalInformation
    related_authorization_id: str | None = None  # the authorization a concurrent review continues

    def __post_init__(self) -> None:
        _require_aware(self.received_at, "received_at")
        if not self.service_codes:
            raise InputError("a request names at least one service code", field="service_codes")
        if self.requested_units <= 0:
            raise InputError("requested units must be positive", field="requested_units")
        if self.review_kind is ReviewKind.CONCURRENT and self.related_authorization_id is None:
            raise InputError(
                "a concurrent review continues an existing authorization",
                field="related_authorization_id",
                record=self.request_id,
            )


class ReviewerRole(StrEnum):
    CLINICAL = "clinical"
    PHYSICIAN = "physician"  # REG-04
    PEER_TO_PEER = "peer_to_peer"  # REG-03


@dataclass(frozen=True, slots=True)
class Review:
    review_id: str
    request_id: str
    reviewer_staff_id: str
    role: ReviewerRole
    started_at: datetime
    completed_at: datetime | None = None
    notes: str = ""


class DecisionOutcome(StrEnum):
    APPROVED = "approved"
    PARTIALLY_APPROVED = "partially_approved"
    DENIED = "denied"
    PENDED = "pended"
    WITHDRAWN = "withdrawn"
    ADMINISTRATIVE_DENIAL = "administrative_denial"  # e.g. no benefit, not eligible — not medical necessity


@dataclass(frozen=True, slots=True)
class DecisionReason:
    """Why: the rule ID from the catalog, an optional code (CARC/RARC, criterion) and plain words."""

    rule_id: str
    text: str
    code: Code | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    decision_id: str
    request_id: str
    outcome: DecisionOutcome
    reasons: tuple[DecisionReason, ...]
    decided_by: str  # a user id, or "system:<job>" for automatic approvals
    decided_at: datetime
    units_approved: int | None = None
    approved_span: DateSpan | None = None
    reviewer_licence: str | None = None

    def __post_init__(self) -> None:
        _require_aware(self.decided_at, "decided_at")
        if self.outcome in {DecisionOutcome.DENIED, DecisionOutcome.PARTIALLY_APPROVED} and not self.reasons:
            # REG-01: a specific reason for every denial.
            raise InputError("a denial needs at least one specific reason", field="reasons")
        if self.outcome is DecisionOutcome.DENIED and self.decided_by.startswith("system:"):
            # REG-04: medical-necessity denials are never automatic.
            raise InputError("a medical-necessity denial is never made automatically", field="decided_by")


class AuthorizationStatus(StrEnum):
    REQUESTED = "requested"
    PENDED = "pended"
    APPROVED = "approved"
    PARTIALLY_APPROVED = "partially_approved"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    DISCONTINUED = "discontinued"  # e.g. OPM-07: clinical update not returned within 30 days


_S = AuthorizationStatus
ALLOWED_TRANSITIONS: dict[AuthorizationStatus, frozenset[AuthorizationStatus]] = {
    _S.REQUESTED: frozenset({_S.PENDED, _S.APPROVED, _S.PARTIALLY_APPROVED, _S.DENIED, _S.WITHDRAWN}),
    _S.PENDED: frozenset({_S.APPROVED, _S.PARTIALLY_APPROVED, _S.DENIED, _S.WITHDRAWN}),
    _S.APPROVED: frozenset({_S.EXPIRED, _S.DISCONTINUED}),
    _S.PARTIALLY_APPROVED: frozenset({_S.EXPIRED, _S.DISCONTINUED}),
    _S.DENIED: frozenset(),
    _S.WITHDRAWN: frozenset(),
    _S.EXPIRED: frozenset(),
    _S.DISCONTINUED: frozenset(),
}
ACTIVE_STATUSES = frozenset({_S.APPROVED, _S.PARTIALLY_APPROVED})


@dataclass(frozen=True, slots=True)
class StatusChange:
    from_status: AuthorizationStatus | None  # None for the first entry (the request arriving)
    to_status: AuthorizationStatus
    at: datetime
    by: str
    reason: str = ""
    rule_id: str | None = None


@dataclass(slots=True)
class Authorization:
    """An entity with a lifecycle; build a new one with :meth:`request`."""

    authorization_id: str
    member_id: str
    provider_npi: str
    service_codes: tuple[Code, ...]
    span: DateSpan
    units_requested: int
    request_id: str | None = None
    units_authorized: int = 0
    units_used: int = 0
    status: AuthorizationStatus = AuthorizationStatus.REQUESTED
    history: list[StatusChange] = field(default_factory=list)

    @classmethod
    def request(
        cls,
        *,
        authorization_id: str,
        member_id: str,
        provider_npi: str,
        service_codes: tuple[Code, ...],
        span: DateSpan,
        units_requested: int,
        at: datetime,
        by: str,
        request_id: str | None = None,
    ) -> Authorization:
        _require_aware(at, "at")
        if units_requested <= 0:
            raise InputError("requested units must be positive", field="units_requested")
        auth = cls(
            authorization_id=authorization_id,
            member_id=member_id,
            provider_npi=provider_npi,
            service_codes=service_codes,
            span=span,
            units_requested=units_requested,
            request_id=request_id,
        )
        auth.history.append(StatusChange(None, AuthorizationStatus.REQUESTED, at, by, "request received"))
        return auth

    # -- lifecycle -------------------------------------------------------------------------------

    def can_move_to(self, to: AuthorizationStatus) -> bool:
        return to in ALLOWED_TRANSITIONS[self.status]

    def _move(
        self, to: AuthorizationStatus, *, at: datetime, by: str, reason: str, rule_id: str | None
    ) -> None:
        _require_aware(at, "at")
        if not self.can_move_to(to):
            raise InvalidTransition(
                f"authorization {self.authorization_id} cannot go from {self.status} to {to}"
            )
        if self.history and at < self.history[-1].at:
            raise InvalidTransition(
                f"authorization {self.authorization_id}: a status change cannot predate the previous one"
            )
        self.history.append(StatusChange(self.status, to, at, by, reason, rule_id))
        self.status = to

    def pend(self, *, at: datetime, by: str, reason: str, rule_id: str | None = None) -> None:
        self._move(AuthorizationStatus.PENDED, at=at, by=by, reason=reason, rule_id=rule_id)

    def approve(
        self, *, at: datetime, by: str, reason: str = "criteria met", rule_id: str | None = None
    ) -> None:
        self._move(AuthorizationStatus.APPROVED, at=at, by=by, reason=reason, rule_id=rule_id)
        self.units_authorized = self.units_requested

    def partially_approve(
        self, units: int, *, at: datetime, by: str, reason: str, rule_id: str | None = None
    ) -> None:
        if not 0 < units < self.units_requested:
            raise InputError(
                "a partial approval authorizes more than none and fewer than the units requested",
                field="units_authorized",
                record=self.authorization_id,
            )
        self._move(AuthorizationStatus.PARTIALLY_APPROVED, at=at, by=by, reason=reason, rule_id=rule_id)
        self.units_authorized = units

    def deny(self, *, at: datetime, by: str, reason: str, rule_id: str | None = None) -> None:
        self._move(AuthorizationStatus.DENIED, at=at, by=by, reason=reason, rule_id=rule_id)

    def withdraw(self, *, at: datetime, by: str, reason: str = "withdrawn by the requester") -> None:
        self._move(AuthorizationStatus.WITHDRAWN, at=at, by=by, reason=reason, rule_id=None)

    def expire(self, *, at: datetime, by: str = "system:expiry", reason: str = "span ended") -> None:
        self._move(AuthorizationStatus.EXPIRED, at=at, by=by, reason=reason, rule_id=None)

    def discontinue(self, *, at: datetime, by: str, reason: str, rule_id: str | None = None) -> None:
        self._move(AuthorizationStatus.DISCONTINUED, at=at, by=by, reason=reason, rule_id=rule_id)

    # -- units (MN-04) ---------------------------------------------------------------------------

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def units_remaining(self) -> int:
        return max(self.units_authorized - self.units_used, 0)

    def covers(self, day: date) -> bool:
        return self.is_active and self.span.contains(day)

    def record_use(self, units: int) -> int:
        """Count used units; returns the units beyond the authorization (MN-04: not paid until
        re-authorized). The used count never exceeds what was authorized."""
        if units < 0:
            raise InputError("used units cannot be negative", field="units", record=self.authorization_id)
        if not self.is_active:
            raise InvalidTransition(f"authorization {self.authorization_id} is {self.status}, not active")
        usable = min(units, self.units_remaining)
        self.units_used += usable
        return units - usable


@dataclass(frozen=True, slots=True)
class TestingPreauthNotice:
    """OPM-01: the plan notified this provider (or for this member) that psychological /
    neuropsychological testing needs preauthorization."""

    __test__ = False  # not a pytest test class, despite the name

    plan_id: str
    effective: DateSpan
    provider_npi: str | None = None
    member_id: str | None = None

    def __post_init__(self) -> None:
        if self.provider_npi is None and self.member_id is None:
            raise InputError("a testing notice names a provider, a member or both", field="provider_npi")

    def applies(self, *, plan_id: str, provider_npi: str, member_id: str, on: date) -> bool:
        return (
            self.plan_id == plan_id
            and self.effective.contains(on)
            and (self.provider_npi is None or self.provider_npi == provider_npi)
            and (self.member_id is None or self.member_id == member_id)
        )
