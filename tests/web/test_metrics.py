"""Dashboard figures at their rules' boundaries: REG-02 percentages and times (partial approvals are
approvals, pended requests are left out, the period is inclusive), timeliness against each clock
(REG-01: a decision exactly at the due time is on time), flags per rule per month (OPM-03) and units
used against authorized (MN-04)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bhum.domain.access import Role, User
from bhum.domain.authorization import DecisionOutcome, Urgency
from bhum.domain.errors import InputError, PermissionDenied
from bhum.services.metrics import (
    ClockFact,
    DecisionFact,
    FlagFact,
    UnitsFact,
    collect_dashboard,
    flags_by_rule_and_month,
    reg02_metrics,
    timeliness_by_clock,
    units_by_service,
)
from tests.web.world import START, World

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def fact(
    i: int, outcome: DecisionOutcome, hours: float, urgency: Urgency = Urgency.STANDARD, **kw: bool
) -> DecisionFact:
    return DecisionFact(f"R{i}", urgency, outcome, T0, T0 + timedelta(hours=hours), **kw)


def test_reg02_percentages_and_times_per_urgency() -> None:
    facts = [
        fact(1, DecisionOutcome.APPROVED, 10),
        fact(2, DecisionOutcome.PARTIALLY_APPROVED, 20),  # counts as approved
        fact(3, DecisionOutcome.DENIED, 30, approved_after_appeal=True),
        fact(4, DecisionOutcome.ADMINISTRATIVE_DENIAL, 100),  # counts as denied
        fact(5, DecisionOutcome.PENDED, 1),  # no determination: left out
        fact(6, DecisionOutcome.APPROVED, 2, Urgency.EXPEDITED),
        fact(7, DecisionOutcome.DENIED, 4, Urgency.EXPEDITED),
    ]
    m = reg02_metrics(facts, first=date(2026, 3, 1), last=date(2026, 12, 31))
    assert m.standard.determinations == 4
    assert (m.standard.approved_pct, m.standard.denied_pct) == (50.0, 50.0)
    assert m.standard.approved_after_appeal_pct == 25.0
    assert m.standard.approved_after_extension_pct == 0.0
    assert (m.standard.average_hours, m.standard.median_hours) == (40.0, 25.0)
    assert m.expedited.determinations == 2
    assert (m.expedited.approved_pct, m.expedited.denied_pct, m.expedited.median_hours) == (50.0, 50.0, 3.0)


def test_reg02_period_is_inclusive_by_decision_date() -> None:
    on_last_day = fact(1, DecisionOutcome.APPROVED, 11.5)  # decided 2026-03-02 23:30 UTC
    next_day = fact(2, DecisionOutcome.APPROVED, 12.5)  # 2026-03-03 00:30 UTC
    m = reg02_metrics([on_last_day, next_day], first=date(2026, 3, 2), last=date(2026, 3, 2))
    assert m.standard.determinations == 1


def test_reg02_empty_period_has_no_percentages_and_a_reversed_period_is_refused() -> None:
    m = reg02_metrics([], first=date(2026, 1, 1), last=date(2026, 1, 31))
    assert m.standard.approved_pct is None and m.expedited.median_hours is None
    with pytest.raises(InputError) as err:
        reg02_metrics([], first=date(2026, 2, 1), last=date(2026, 1, 31))
    assert err.value.field == "last"


def test_a_decision_before_its_request_is_refused() -> None:
    with pytest.raises(InputError) as err:
        fact(1, DecisionOutcome.APPROVED, -0.01)
    assert err.value.field == "decided_at" and err.value.record == "R1"


def test_reg01_timeliness_boundaries() -> None:
    due = T0 + timedelta(hours=72)
    facts = [
        ClockFact("R1", "REG-01", "72 hours (expedited)", due, due),  # exactly at due: on time
        ClockFact("R2", "REG-01", "72 hours (expedited)", due, due + timedelta(seconds=1)),  # late
        ClockFact("R3", "REG-01", "72 hours (expedited)", due, None),  # open, now == due: not overdue
        ClockFact("R4", "IOP-12", "14 days", T0, None),  # open and past due
    ]
    rows = {t.rule_id: t for t in timeliness_by_clock(facts, now=due)}
    assert (rows["REG-01"].on_time, rows["REG-01"].late, rows["REG-01"].open_within) == (1, 1, 1)
    assert rows["REG-01"].on_time_pct == 50.0
    assert rows["IOP-12"].open_overdue == 1 and rows["IOP-12"].on_time_pct is None


def test_opm03_flags_by_rule_and_month() -> None:
    flags = flags_by_rule_and_month(
        [
            FlagFact(date(2026, 1, 31), ("FUH-7",)),
            FlagFact(date(2026, 2, 1), ("FUH-7", "SAA-80")),
            FlagFact(date(2026, 2, 28), ("FUH-7",)),
        ]
    )
    assert flags == {"FUH-7": {"2026-01": 1, "2026-02": 2}, "SAA-80": {"2026-02": 1}}


def test_mn04_units_used_against_authorized() -> None:
    rows = units_by_service(
        [UnitsFact("HCPCS S9480", 12, 12), UnitsFact("HCPCS S9480", 12, 0), UnitsFact("HCPCS H0015", 30, 31)]
    )
    assert [(r.service, r.authorizations, r.units_authorized, r.units_used) for r in rows] == [
        ("HCPCS H0015", 1, 30, 31),
        ("HCPCS S9480", 2, 24, 12),
    ]
    assert rows[1].used_pct == 50.0
    with pytest.raises(InputError):
        units_by_service([UnitsFact("HCPCS S9480", 12, -1)])


def test_collect_dashboard_from_the_store_needs_reports_read_and_is_audited(world: World) -> None:
    director = User(world.user_ids["director"], "director", "D", frozenset({Role.MEDICAL_DIRECTOR}))
    clinical = User(world.user_ids["clinical"], "clinical", "C", frozenset({Role.CLINICAL_REVIEWER}))
    with pytest.raises(PermissionDenied):
        collect_dashboard(world.uow(), clinical, now=START, first=date(2026, 1, 1), last=date(2026, 3, 2))
    d = collect_dashboard(world.uow(), director, now=START, first=date(2026, 1, 1), last=date(2026, 3, 2))
    assert d.members_scanned == 8
    decided = d.reg02.standard.determinations + d.reg02.expedited.determinations
    assert decided == 7  # 8 seeded requests, one of every five left open
    # 8 seeded clocks plus the pended IOP request the engine received
    assert sum(t.decided + t.open_within + t.open_overdue for t in d.timeliness) == 9
    assert {u.service for u in d.units} == {"HCPCS S9480"}
    assert set(d.flags) == {"FUH-7", "OPM-03", "SAA-80"}
    with world.uow() as uow:
        assert any(e.entity_type == "report" and e.member_id is None for e in uow.audit.list(limit=10_000))
