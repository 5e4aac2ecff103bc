"""Property tests for decision clocks: strictest (REG-01 "shorter limits prevail"), decision_due,
clock_status, IOP-13 submission timing and OPM-04 form due dates."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bhum.adapters.holidays import us_federal_holidays
from bhum.domain.clocks import (
    DECISION_CLOCKS,
    IOP12_DECISION,
    ClockRule,
    ClockStatus,
    ClockUnit,
    ContinuingRequestTiming,
    Deadline,
    add_hours,
    applicable_rules,
    clock_status,
    deadline,
    decision_due,
    form_due,
    is_form_late,
    local_date,
    strictest,
    time_to_decision,
)

ZONES = [ZoneInfo("America/Chicago"), ZoneInfo("America/New_York"), ZoneInfo("UTC")]
FEDERAL = us_federal_holidays(range(2024, 2033))
zones = st.sampled_from(ZONES)
instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=zones, allow_imaginary=False
)
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))
clock_rules = st.builds(
    ClockRule,
    rule_id=st.sampled_from(["REG-01", "REG-03", "IOP-12", "STATE-01", "TCM-07"]),
    amount=st.integers(0, 40),
    unit=st.sampled_from(list(ClockUnit)),
    label=st.sampled_from(["a", "b", "c"]),
)
ORDER: dict[ClockStatus, int] = {"on_time": 0, "due_soon": 1, "overdue": 2}


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


@st.composite
def deadlines(draw: st.DrawFn) -> Deadline:
    started = draw(instants)
    return Deadline(
        due=started + draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40))),
        rule_id=draw(st.sampled_from(["REG-01", "REG-03", "IOP-12", "OPM-04"])),
        label=draw(st.sampled_from(["a", "b"])),
        started=started,
    )


@settings(deadline=None)
@given(st.lists(deadlines(), min_size=1, max_size=8), st.randoms())
def test_strictest_is_one_of_the_inputs_and_no_later_than_any(
    items: list[Deadline], rnd: random.Random
) -> None:
    winner = strictest(items)
    assert winner in items
    assert all(utc(winner.due) <= utc(other.due) for other in items)
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert strictest(shuffled) == winner  # deterministic whatever the order


@settings(deadline=None)
@given(start=instants, rule=clock_rules, tz=zones)
def test_a_deadline_never_falls_before_its_start(start: datetime, rule: ClockRule, tz: ZoneInfo) -> None:
    got = deadline(start, rule, tz=tz, holidays=FEDERAL)
    assert utc(got.due) >= utc(start)
    assert utc(got.started) == utc(start)
    assert got.rule_id == rule.rule_id


@settings(deadline=None)
@given(
    received=instants,
    urgency=st.sampled_from(["expedited", "standard"]),
    review_kind=st.sampled_from(["pre_service", "concurrent", "post_service"]),
    lob=st.sampled_from(["commercial", "medicaid", "medicare"]),
    extra=st.lists(clock_rules, max_size=3),
    tz=zones,
)
def test_decision_due_is_the_strictest_applicable_rule_reg_01_reg_03_iop_12(
    received: datetime, urgency: str, review_kind: str, lob: str, extra: list[ClockRule], tz: ZoneInfo
) -> None:
    candidates = (*DECISION_CLOCKS, IOP12_DECISION, *extra)
    got = decision_due(
        received,
        urgency=urgency,  # type: ignore[arg-type]
        review_kind=review_kind,  # type: ignore[arg-type]
        line_of_business=lob,  # type: ignore[arg-type]
        applicable=candidates,
        tz=tz,
        holidays=FEDERAL,
    )
    governing = applicable_rules(
        candidates,
        urgency=urgency,  # type: ignore[arg-type]
        review_kind=review_kind,  # type: ignore[arg-type]
        line_of_business=lob,  # type: ignore[arg-type]
        received_on=local_date(received, tz),
    )
    each = [deadline(received, rule, tz=tz, holidays=FEDERAL) for rule in governing]
    assert got in each
    assert all(utc(got.due) <= utc(other.due) for other in each)
    # Every request kind has a regulatory clock, so nothing is ever decided later than 30 days.
    assert utc(got.due) <= utc(received) + timedelta(days=30, hours=1)


@settings(deadline=None)
@given(item=deadlines(), a=instants, b=instants, warn=st.timedeltas(timedelta(0), timedelta(days=5)))
def test_clock_status_only_moves_forward_in_time(
    item: Deadline, a: datetime, b: datetime, warn: timedelta
) -> None:
    early, late = sorted((a, b), key=utc)
    assert (
        ORDER[clock_status(item, early, warn_within=warn)]
        <= ORDER[clock_status(item, late, warn_within=warn)]
    )
    assert (clock_status(item, late, warn_within=warn) == "overdue") == (utc(late) > utc(item.due))


@settings(deadline=None)
@given(received=instants, hours=st.integers(0, 5000))
def test_time_to_decision_inverts_hour_addition_reg_02(received: datetime, hours: int) -> None:
    assert time_to_decision(received, add_hours(received, hours)) == timedelta(hours=hours)


@settings(deadline=None)
@given(submitted=days, auth_end=days, lead=st.integers(0, 60))
def test_late_iff_fewer_than_lead_days_before_expiry_iop_13(
    submitted: date, auth_end: date, lead: int
) -> None:
    timing = ContinuingRequestTiming(lead_days=lead)
    assert timing.is_late(submitted, auth_end) == ((auth_end - submitted).days < lead)
    assert (auth_end - timing.latest_submission(auth_end)).days == lead


@settings(deadline=None)
@given(letter=days, returned=days, window=st.integers(0, 90))
def test_form_due_is_letter_date_plus_the_window_opm_04(letter: date, returned: date, window: int) -> None:
    due = form_due(letter, window)
    assert (due - letter).days == window
    assert is_form_late(returned, letter, window) == (returned > due)
