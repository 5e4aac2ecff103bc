"""Authorization lifecycle, decisions and service requests (domain only, no I/O)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from itertools import product

import pytest

from bhum.domain.authorization import (
    Authorization,
    AuthorizationStatus,
    Decision,
    DecisionOutcome,
    DecisionReason,
    ReviewKind,
    ServiceRequest,
    TestingPreauthNotice,
    Urgency,
)
from bhum.domain.clinical import ClinicalInformation
from bhum.domain.errors import InputError, InvalidTransition
from bhum.domain.values import HCPCS, ICD10CM, Code, DateSpan

S = AuthorizationStatus
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=-6)))

# Written out by hand (not read from the module) so a change to the lifecycle table fails here.
LEGAL = {
    (S.REQUESTED, S.PENDED),
    (S.REQUESTED, S.APPROVED),
    (S.REQUESTED, S.PARTIALLY_APPROVED),
    (S.REQUESTED, S.DENIED),
    (S.REQUESTED, S.WITHDRAWN),
    (S.PENDED, S.APPROVED),
    (S.PENDED, S.PARTIALLY_APPROVED),
    (S.PENDED, S.DENIED),
    (S.PENDED, S.WITHDRAWN),
    (S.APPROVED, S.EXPIRED),
    (S.APPROVED, S.DISCONTINUED),
    (S.PARTIALLY_APPROVED, S.EXPIRED),
    (S.PARTIALLY_APPROVED, S.DISCONTINUED),
}


def _new() -> Authorization:
    return Authorization.request(
        authorization_id="A1",
        member_id="M1",
        provider_npi="1234567893",
        service_codes=(Code(HCPCS, "S9480"),),
        span=DateSpan(date(2026, 3, 2), date(2026, 3, 31)),
        units_requested=12,
        at=T0,
        by="U1",
    )


def _move(auth: Authorization, to: AuthorizationStatus, at: datetime) -> None:
    match to:
        case S.PENDED:
            auth.pend(at=at, by="U2", reason="need information", rule_id="IOP-10")
        case S.APPROVED:
            auth.approve(at=at, by="U2")
        case S.PARTIALLY_APPROVED:
            auth.partially_approve(8, at=at, by="U2", reason="fewer sessions", rule_id="IOP-11")
        case S.DENIED:
            auth.deny(at=at, by="U3", reason="criteria not met", rule_id="MN-01")
        case S.WITHDRAWN:
            auth.withdraw(at=at, by="U1")
        case S.EXPIRED:
            auth.expire(at=at)
        case S.DISCONTINUED:
            auth.discontinue(at=at, by="system:opm", reason="form not returned", rule_id="OPM-07")
        case _:
            raise AssertionError(f"no public move to {to}")


PATH_TO = {
    S.REQUESTED: [],
    S.PENDED: [S.PENDED],
    S.APPROVED: [S.APPROVED],
    S.PARTIALLY_APPROVED: [S.PARTIALLY_APPROVED],
    S.DENIED: [S.DENIED],
    S.WITHDRAWN: [S.WITHDRAWN],
    S.EXPIRED: [S.APPROVED, S.EXPIRED],
    S.DISCONTINUED: [S.APPROVED, S.DISCONTINUED],
}


def _in(status: AuthorizationStatus) -> Authorization:
    auth = _new()
    for step, to in enumerate(PATH_TO[status], start=1):
        _move(auth, to, T0 + timedelta(hours=step))
    assert auth.status is status
    return auth


TARGETS = [s for s in S if s is not S.REQUESTED]


@pytest.mark.parametrize(("start", "to"), sorted(product(S, TARGETS)), ids=lambda s: str(s))
def test_every_transition_is_allowed_or_refused_as_the_lifecycle_says(
    start: AuthorizationStatus, to: AuthorizationStatus
) -> None:
    auth = _in(start)
    history_before = list(auth.history)
    at = T0 + timedelta(days=5)
    if (start, to) in LEGAL:
        _move(auth, to, at)
        assert auth.status is to
        assert auth.history[-1].from_status is start and auth.history[-1].to_status is to
        assert auth.history[:-1] == history_before
    else:
        with pytest.raises(InvalidTransition):
            _move(auth, to, at)
        assert auth.status is start
        assert auth.history == history_before  # nothing recorded for a refused move


@pytest.mark.parametrize("start", list(S))
def test_nothing_goes_back_to_requested(start: AuthorizationStatus) -> None:
    assert not _in(start).can_move_to(S.REQUESTED)


def test_history_records_who_when_why_and_the_rule() -> None:
    auth = _in(S.PENDED)
    _move(auth, S.DENIED, T0 + timedelta(days=1))
    assert [(c.from_status, c.to_status, c.by, c.rule_id) for c in auth.history] == [
        (None, S.REQUESTED, "U1", None),
        (S.REQUESTED, S.PENDED, "U2", "IOP-10"),
        (S.PENDED, S.DENIED, "U3", "MN-01"),
    ]
    assert auth.history[-1].at == T0 + timedelta(days=1)


def test_a_status_change_cannot_predate_the_previous_one() -> None:
    auth = _new()
    with pytest.raises(InvalidTransition):
        auth.approve(at=T0 - timedelta(seconds=1), by="U2")
    assert auth.status is S.REQUESTED


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(InputError) as caught:
        _new().approve(at=datetime(2026, 3, 2, 9, 0), by="U2")
    assert caught.value.field == "at"


@pytest.mark.parametrize(("units", "ok"), [(0, False), (1, True), (11, True), (12, False)])
def test_partial_approval_is_more_than_none_and_fewer_than_requested(units: int, ok: bool) -> None:
    auth = _new()
    if ok:
        auth.partially_approve(units, at=T0, by="U2", reason="fewer", rule_id="IOP-11")
        assert auth.units_authorized == units
    else:
        with pytest.raises(InputError):
            auth.partially_approve(units, at=T0, by="U2", reason="fewer", rule_id="IOP-11")
        assert auth.status is S.REQUESTED


def test_mn04_units_beyond_the_authorization_are_returned_not_counted() -> None:
    auth = _in(S.APPROVED)
    assert auth.units_authorized == 12
    assert auth.record_use(11) == 0 and auth.units_remaining == 1
    assert auth.record_use(1) == 0 and auth.units_remaining == 0  # exactly at the limit
    assert auth.record_use(2) == 2 and auth.units_used == 12  # beyond: not paid until re-authorized


def test_units_cannot_be_used_on_an_authorization_that_is_not_active() -> None:
    with pytest.raises(InvalidTransition):
        _in(S.PENDED).record_use(1)


def test_covers_only_active_authorizations_inside_the_span() -> None:
    auth = _in(S.APPROVED)
    assert auth.covers(date(2026, 3, 2)) and auth.covers(date(2026, 3, 31))
    assert not auth.covers(date(2026, 3, 1)) and not auth.covers(date(2026, 4, 1))
    assert not _in(S.PENDED).covers(date(2026, 3, 10))


def _decision(outcome: DecisionOutcome, reasons: tuple[DecisionReason, ...], by: str = "U3") -> Decision:
    return Decision("D1", "R1", outcome, reasons, by, T0)


def test_reg01_a_denial_needs_a_specific_reason() -> None:
    with pytest.raises(InputError) as caught:
        _decision(DecisionOutcome.DENIED, ())
    assert caught.value.field == "reasons"
    assert _decision(DecisionOutcome.DENIED, (DecisionReason("MN-01", "not the least restrictive level"),))
    assert _decision(DecisionOutcome.APPROVED, (), by="system:auto")  # approvals may be automatic


def test_reg04_a_medical_necessity_denial_is_never_automatic() -> None:
    with pytest.raises(InputError) as caught:
        _decision(DecisionOutcome.DENIED, (DecisionReason("MN-01", "criteria not met"),), by="system:auto")
    assert caught.value.field == "decided_by"
    # An administrative denial (no benefit) is not a medical-necessity decision.
    assert _decision(
        DecisionOutcome.ADMINISTRATIVE_DENIAL, (DecisionReason("OPM-08", "no BH benefit"),), "system:x"
    )


def _request(kind: ReviewKind, related: str | None) -> ServiceRequest:
    return ServiceRequest(
        request_id="R1",
        member_id="M1",
        requesting_provider_npi="1234567893",
        servicing_provider_npi="1234567893",
        service_codes=(Code(HCPCS, "S9480"),),
        requested_units=12,
        requested_span=DateSpan(date(2026, 3, 2), date(2026, 3, 31)),
        urgency=Urgency.EXPEDITED,
        review_kind=kind,
        received_at=T0,
        clinical=ClinicalInformation(diagnoses=(Code(ICD10CM, "F32.2"),)),
        related_authorization_id=related,
    )


def test_a_concurrent_review_continues_an_existing_authorization() -> None:
    with pytest.raises(InputError) as caught:
        _request(ReviewKind.CONCURRENT, None)
    assert caught.value.field == "related_authorization_id"
    assert _request(ReviewKind.CONCURRENT, "A1").related_authorization_id == "A1"
    assert _request(ReviewKind.PRE_SERVICE, None).review_kind is ReviewKind.PRE_SERVICE


def test_opm01_testing_notice_applies_to_its_plan_provider_and_dates() -> None:
    notice = TestingPreauthNotice(
        "P1", DateSpan(date(2026, 1, 1), date(2026, 12, 31)), provider_npi="1234567893"
    )
    on = date(2026, 6, 1)
    assert notice.applies(plan_id="P1", provider_npi="1234567893", member_id="M9", on=on)
    assert not notice.applies(plan_id="P2", provider_npi="1234567893", member_id="M9", on=on)
    assert not notice.applies(plan_id="P1", provider_npi="1003000126", member_id="M9", on=on)
    assert not notice.applies(plan_id="P1", provider_npi="1234567893", member_id="M9", on=date(2027, 1, 1))
    with pytest.raises(InputError):
        TestingPreauthNotice("P1", DateSpan(date(2026, 1, 1)))
