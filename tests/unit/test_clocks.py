"""Example tests for decision clocks: which rule governs, and the boundaries of each deadline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bhum.domain.calendar import end_of_day, start_of_day
from bhum.domain.clocks import (
    DECISION_CLOCKS,
    IOP12_DECISION,
    REG01_EXPEDITED,
    REG01_STANDARD,
    REG03_POST_SERVICE,
    TCM07_OUTREACH,
    ClockRule,
    ClockUnit,
    ContinuingRequestTiming,
    Deadline,
    applicable_rules,
    clock_rule_from_mapping,
    clock_status,
    deadline,
    decision_due,
    form_deadline,
    form_due,
    is_form_late,
    outreach_due,
    strictest,
    time_to_decision,
)
from bhum.domain.errors import InputError

CHICAGO = ZoneInfo("America/Chicago")
NEW_YORK = ZoneInfo("America/New_York")
HOLIDAYS = frozenset({date(2026, 9, 7), date(2026, 11, 26), date(2027, 1, 1)})


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 0, tz: ZoneInfo = CHICAGO) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz)


def due_for(
    received: datetime,
    urgency: str,
    review_kind: str,
    line_of_business: str,
    applicable: tuple[ClockRule, ...] = DECISION_CLOCKS,
) -> Deadline:
    return decision_due(
        received,
        urgency=urgency,  # type: ignore[arg-type]
        review_kind=review_kind,  # type: ignore[arg-type]
        line_of_business=line_of_business,  # type: ignore[arg-type]
        applicable=applicable,
        tz=CHICAGO,
        holidays=HOLIDAYS,
    )


# --- ClockRule / deadline -----------------------------------------------------------------------


def test_deadline_dispatches_on_the_unit() -> None:
    start = at(2026, 3, 6, 12)
    assert deadline(start, REG01_EXPEDITED, tz=CHICAGO, holidays=HOLIDAYS).due.astimezone(UTC) == datetime(
        2026, 3, 9, 18, 0, tzinfo=UTC
    )
    assert deadline(start, REG01_STANDARD, tz=CHICAGO, holidays=HOLIDAYS).due == at(2026, 3, 13, 12)
    assert deadline(start, TCM07_OUTREACH, tz=CHICAGO, holidays=HOLIDAYS).due == end_of_day(
        date(2026, 3, 10), CHICAGO
    )


def test_deadline_is_expressed_in_the_plan_zone_and_names_its_rule() -> None:
    got = deadline(datetime(2026, 3, 2, 15, 0, tzinfo=UTC), IOP12_DECISION, tz=CHICAGO, holidays=HOLIDAYS)
    assert got.started == at(2026, 3, 2, 9) and got.started.tzinfo is CHICAGO
    assert got.due == at(2026, 3, 16, 9) and got.due.tzinfo is CHICAGO
    assert (got.rule_id, got.label) == ("IOP-12", IOP12_DECISION.label)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"rule_id": " "}, "rule_id"),
        ({"amount": -1}, "amount"),
        ({"amount": True}, "amount"),
        ({"unit": "weeks"}, "unit"),
        ({"label": ""}, "label"),
        ({"urgencies": frozenset({"urgent"})}, "urgencies"),
        ({"review_kinds": frozenset({"retro"})}, "review_kinds"),
        ({"lines_of_business": frozenset({"exchange"})}, "lines_of_business"),
    ],
)
def test_bad_clock_rules_are_refused_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    base: dict[str, object] = {"rule_id": "IOP-12", "amount": 14, "unit": "calendar_days", "label": "x"}
    with pytest.raises(InputError) as excinfo:
        ClockRule(**{**base, **kwargs})  # type: ignore[arg-type]
    assert excinfo.value.field == field


def test_clock_rule_normalises_unit_strings_and_bare_scope_strings() -> None:
    rule = ClockRule("IOP-12", 14, "calendar_days", "x", urgencies="standard")  # type: ignore[arg-type]
    assert rule.unit is ClockUnit.CALENDAR_DAYS
    assert rule.urgencies == frozenset({"standard"})


def test_deadline_refuses_naive_times_and_a_due_before_the_start() -> None:
    with pytest.raises(InputError) as excinfo:
        Deadline(due=datetime(2026, 1, 2), rule_id="REG-01", label="x", started=at(2026, 1, 1))
    assert (excinfo.value.field, excinfo.value.record) == ("due", "REG-01")
    with pytest.raises(InputError) as excinfo:
        Deadline(due=at(2026, 1, 1), rule_id="REG-01", label="x", started=at(2026, 1, 2))
    assert excinfo.value.field == "due"


# --- decision_due: which rule governs (REG-01, REG-03, IOP-12) -----------------------------------


def test_medicaid_standard_pre_service_is_seven_days_reg_01() -> None:
    got = due_for(at(2026, 3, 2), "standard", "pre_service", "medicaid")
    assert (got.rule_id, got.due) == ("REG-01", at(2026, 3, 9))


def test_commercial_standard_pre_service_is_fifteen_days_reg_03() -> None:
    """REG-01 binds impacted government lines; a commercial request falls to NCQA's 15 days."""
    got = due_for(at(2026, 3, 2), "standard", "pre_service", "commercial")
    assert (got.rule_id, got.label, got.due) == (
        "REG-03",
        "NCQA non-urgent pre-service decision",
        at(2026, 3, 17),
    )


def test_iop_request_is_decided_in_fourteen_days_when_stricter_iop_12() -> None:
    rules = (*DECISION_CLOCKS, IOP12_DECISION)
    commercial = due_for(at(2026, 3, 2), "standard", "pre_service", "commercial", rules)
    assert (commercial.rule_id, commercial.due) == ("IOP-12", at(2026, 3, 16))
    medicaid = due_for(at(2026, 3, 2), "standard", "concurrent", "medicaid", rules)
    assert (medicaid.rule_id, medicaid.due) == ("REG-01", at(2026, 3, 9))


def test_expedited_is_72_hours_and_ties_go_to_the_lower_rule_id_reg_01_reg_03() -> None:
    """Both REG-01 expedited and NCQA urgent pre-service are 72 h: the tie is broken by rule ID."""
    got = due_for(at(2026, 3, 6, 12), "expedited", "pre_service", "medicare")
    assert got.rule_id == "REG-01"
    assert got.due.astimezone(UTC) - got.started.astimezone(UTC) == timedelta(hours=72)
    commercial = due_for(at(2026, 3, 6, 12), "expedited", "pre_service", "commercial")
    assert (commercial.rule_id, commercial.label) == ("REG-03", "NCQA urgent pre-service decision")


def test_urgent_concurrent_is_24_hours_commercial_72_medicare_medicaid_reg_03() -> None:
    commercial = due_for(at(2026, 3, 7, 12), "expedited", "concurrent", "commercial")
    assert commercial.rule_id == "REG-03"
    assert commercial.due == at(2026, 3, 8, 13)  # 24 elapsed hours across spring forward
    # Before REG-01 takes effect only NCQA applies: 72 h for Medicare/Medicaid.
    for lob in ("medicare", "medicaid"):
        got = due_for(at(2025, 6, 2, 12), "expedited", "concurrent", lob)
        assert (got.rule_id, got.label) == (
            "REG-03",
            "NCQA urgent concurrent review decision (Medicare/Medicaid)",
        )
        assert got.due == at(2025, 6, 5, 12)


def test_post_service_is_thirty_days_reg_03() -> None:
    got = due_for(at(2026, 3, 2), "standard", "post_service", "medicaid")
    assert (got.rule_id, got.due) == ("REG-03", at(2026, 4, 1))


def test_reg_01_starts_on_2026_01_01_local_date_reg_01() -> None:
    """Received 05:30 UTC on 1 Jan 2026 is still 31 Dec 2025 in Chicago: REG-01 does not apply."""
    before = due_for(datetime(2026, 1, 1, 5, 30, tzinfo=UTC), "standard", "pre_service", "medicaid")
    assert before.rule_id == "REG-03"
    first_day = due_for(datetime(2026, 1, 1, 6, 0, tzinfo=UTC), "standard", "pre_service", "medicaid")
    assert (first_day.rule_id, first_day.due) == ("REG-01", at(2026, 1, 8, 0))


def test_a_shorter_state_limit_prevails_reg_01() -> None:
    state = ClockRule("STATE-01", 3, ClockUnit.BUSINESS_DAYS, "State limit")
    got = due_for(at(2026, 9, 3), "standard", "pre_service", "medicaid", (*DECISION_CLOCKS, state))
    assert (got.rule_id, got.due) == ("STATE-01", end_of_day(date(2026, 9, 9), CHICAGO))  # Labor Day skipped


def test_no_applicable_clock_is_an_input_error() -> None:
    with pytest.raises(InputError) as excinfo:
        due_for(at(2026, 3, 2), "standard", "post_service", "commercial", (IOP12_DECISION,))
    assert excinfo.value.field == "applicable"


@pytest.mark.parametrize(
    ("urgency", "review_kind", "lob", "field"),
    [
        ("urgent", "pre_service", "medicaid", "urgency"),
        ("standard", "retro", "medicaid", "review_kind"),
        ("standard", "pre_service", "exchange", "line_of_business"),
    ],
)
def test_unknown_request_kinds_are_refused(urgency: str, review_kind: str, lob: str, field: str) -> None:
    with pytest.raises(InputError) as excinfo:
        due_for(at(2026, 3, 2), urgency, review_kind, lob)
    assert excinfo.value.field == field


def test_naive_received_is_refused() -> None:
    with pytest.raises(InputError) as excinfo:
        due_for(datetime(2026, 3, 2, 9), "standard", "pre_service", "medicaid")
    assert excinfo.value.field == "received"


def test_applicable_rules_filters_by_scope() -> None:
    got = applicable_rules(
        DECISION_CLOCKS, urgency="standard", review_kind="post_service", line_of_business="commercial"
    )
    assert got == (REG03_POST_SERVICE,)


# --- strictest ----------------------------------------------------------------------------------


def test_strictest_picks_the_earliest_and_breaks_ties_by_rule_id() -> None:
    start = at(2026, 3, 2)
    a = Deadline(due=at(2026, 3, 9), rule_id="REG-03", label="b", started=start)
    b = Deadline(due=at(2026, 3, 9), rule_id="REG-01", label="a", started=start)
    c = Deadline(due=at(2026, 3, 10), rule_id="IOP-12", label="c", started=start)
    assert strictest([a, b, c]) is b
    assert strictest([c, a, b]) is b
    assert strictest([c]) is c


def test_strictest_compares_instants_not_wall_times() -> None:
    """01:30 CST (second pass) is later than 01:50 CDT (first pass) on fall-back night."""
    start = at(2026, 10, 1)
    first_pass = Deadline(
        due=datetime(2026, 11, 1, 1, 50, fold=0, tzinfo=CHICAGO), rule_id="B", label="x", started=start
    )
    second_pass = Deadline(
        due=datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=CHICAGO), rule_id="A", label="x", started=start
    )
    assert strictest([second_pass, first_pass]) is first_pass


def test_strictest_of_nothing_is_an_input_error() -> None:
    with pytest.raises(InputError):
        strictest([])


# --- time_to_decision / clock_status --------------------------------------------------------------


def test_time_to_decision_is_elapsed_time_across_dst_reg_02() -> None:
    assert time_to_decision(at(2026, 3, 7, 12), at(2026, 3, 8, 12)) == timedelta(hours=23)
    assert time_to_decision(at(2026, 10, 31, 12), at(2026, 11, 1, 12)) == timedelta(hours=25)
    assert time_to_decision(at(2026, 3, 2), at(2026, 3, 2)) == timedelta(0)


def test_decided_before_received_is_refused() -> None:
    with pytest.raises(InputError) as excinfo:
        time_to_decision(at(2026, 3, 2), at(2026, 3, 1))
    assert excinfo.value.field == "decided"


def test_clock_status_boundaries() -> None:
    due = Deadline(due=at(2026, 3, 9), rule_id="REG-01", label="x", started=at(2026, 3, 2))
    warn = timedelta(hours=24)
    micro = timedelta(microseconds=1)
    assert clock_status(due, due.due - warn - micro, warn_within=warn) == "on_time"
    assert clock_status(due, due.due - warn, warn_within=warn) == "due_soon"
    assert clock_status(due, due.due, warn_within=warn) == "due_soon"
    assert clock_status(due, due.due + micro, warn_within=warn) == "overdue"
    assert clock_status(due, due.due, warn_within=timedelta(0)) == "due_soon"


def test_clock_status_in_the_repeated_hour_uses_the_instant() -> None:
    """Due 01:50 CDT; at 01:10 CST (later, though the wall clock reads earlier) it is overdue."""
    due = Deadline(
        due=datetime(2026, 11, 1, 1, 50, fold=0, tzinfo=CHICAGO),
        rule_id="REG-03",
        label="x",
        started=at(2026, 10, 31),
    )
    now = datetime(2026, 11, 1, 1, 10, fold=1, tzinfo=CHICAGO)
    assert clock_status(due, now, warn_within=timedelta(0)) == "overdue"


def test_clock_status_refuses_naive_now_and_negative_window() -> None:
    due = Deadline(due=at(2026, 3, 9), rule_id="REG-01", label="x", started=at(2026, 3, 2))
    with pytest.raises(InputError) as excinfo:
        clock_status(due, datetime(2026, 3, 3), warn_within=timedelta(0))
    assert excinfo.value.field == "now"
    with pytest.raises(InputError) as excinfo:
        clock_status(due, at(2026, 3, 3), warn_within=timedelta(hours=-1))
    assert excinfo.value.field == "warn_within"


# --- IOP-13 continuing-service requests ---------------------------------------------------------


def test_exactly_fourteen_days_before_expiry_is_on_time_thirteen_is_late_iop_13() -> None:
    timing = ContinuingRequestTiming()
    auth_end = date(2026, 4, 30)
    assert timing.latest_submission(auth_end) == date(2026, 4, 16)
    assert not timing.is_late(date(2026, 4, 16), auth_end)  # 14 days before
    assert timing.is_late(date(2026, 4, 17), auth_end)  # 13 days before
    assert not timing.is_late(date(2026, 4, 1), auth_end)


def test_continuing_request_across_year_end_and_custom_lead_iop_13() -> None:
    assert ContinuingRequestTiming().latest_submission(date(2027, 1, 10)) == date(2026, 12, 27)
    timing = ContinuingRequestTiming(lead_days=21)
    assert timing.latest_submission(date(2026, 4, 30)) == date(2026, 4, 9)
    assert timing.is_late(date(2026, 4, 10), date(2026, 4, 30))


def test_continuing_request_deadline_runs_to_the_end_of_the_latest_day_iop_13() -> None:
    got = ContinuingRequestTiming().deadline(date(2026, 4, 1), date(2026, 4, 30), tz=CHICAGO)
    assert got.due == end_of_day(date(2026, 4, 16), CHICAGO)
    assert got.started == start_of_day(date(2026, 4, 1), CHICAGO)
    assert got.rule_id == "IOP-13"
    short = ContinuingRequestTiming().deadline(date(2026, 4, 20), date(2026, 4, 30), tz=CHICAGO)
    assert short.due == end_of_day(date(2026, 4, 20), CHICAGO)


def test_continuing_request_refuses_bad_input_iop_13() -> None:
    with pytest.raises(InputError) as excinfo:
        ContinuingRequestTiming(lead_days=-1)
    assert excinfo.value.field == "lead_days"
    with pytest.raises(InputError) as excinfo:
        ContinuingRequestTiming().is_late(datetime(2026, 4, 1, tzinfo=CHICAGO), date(2026, 4, 30))
    assert excinfo.value.field == "submitted"


# --- OPM-04 clinical update form ------------------------------------------------------------------


def test_form_is_due_thirty_days_after_the_letter_date_opm_04() -> None:
    assert form_due(date(2026, 3, 2)) == date(2026, 4, 1)
    assert form_due(date(2026, 12, 15)) == date(2027, 1, 14)
    assert form_due(date(2028, 2, 1)) == date(2028, 3, 2)  # leap year
    assert form_due(date(2026, 3, 2), 45) == date(2026, 4, 16)


def test_returning_the_form_on_the_due_date_is_on_time_opm_04_opm_07() -> None:
    assert not is_form_late(date(2026, 4, 1), date(2026, 3, 2))
    assert is_form_late(date(2026, 4, 2), date(2026, 3, 2))


def test_form_deadline_is_the_end_of_the_due_date_in_the_plan_zone_opm_04() -> None:
    got = form_deadline(date(2026, 3, 2), tz=CHICAGO)
    assert got.due == datetime(2026, 4, 1, 23, 59, 59, 999999, tzinfo=CHICAGO)
    assert got.started == datetime(2026, 3, 2, 0, 0, tzinfo=CHICAGO)
    assert got.rule_id == "OPM-04"
    assert (
        clock_status(got, datetime(2026, 4, 2, 4, 59, 59, 999999, tzinfo=UTC), warn_within=timedelta(0))
        == "due_soon"
    )
    assert clock_status(got, datetime(2026, 4, 2, 5, 0, tzinfo=UTC), warn_within=timedelta(0)) == "overdue"


def test_form_due_refuses_datetimes_and_negative_days_opm_04() -> None:
    with pytest.raises(InputError) as excinfo:
        form_due(datetime(2026, 3, 2, tzinfo=CHICAGO))
    assert excinfo.value.field == "letter_date"
    with pytest.raises(InputError) as excinfo:
        form_due(date(2026, 3, 2), -1)
    assert excinfo.value.field == "days"


# --- TCM-07 outreach -------------------------------------------------------------------------------


def test_outreach_after_friday_miss_before_labor_day_is_due_wednesday_tcm_07() -> None:
    got = outreach_due(at(2026, 9, 4, 16), tz=CHICAGO, holidays=HOLIDAYS)
    assert got.rule_id == "TCM-07"
    assert got.due == end_of_day(date(2026, 9, 9), CHICAGO)
    three = outreach_due(at(2026, 9, 4, 16), tz=CHICAGO, holidays=HOLIDAYS, business_days=3)
    assert three.due.date() == date(2026, 9, 10)


# --- rules from pack data -------------------------------------------------------------------------


def test_clock_rule_from_mapping_reads_pack_data() -> None:
    rule = clock_rule_from_mapping(
        {
            "rule_id": "REG-01",
            "amount": 7,
            "unit": "calendar_days",
            "label": "CMS-0057-F standard",
            "urgencies": ["standard"],
            "review_kinds": ["pre_service", "concurrent"],
            "lines_of_business": ["medicaid"],
            "effective_from": "2026-01-01",
        }
    )
    assert rule.unit is ClockUnit.CALENDAR_DAYS
    assert rule.effective_from == date(2026, 1, 1)
    assert rule.applies_to(
        urgency="standard",
        review_kind="concurrent",
        line_of_business="medicaid",
        received_on=date(2026, 1, 1),
    )
    assert not rule.applies_to(
        urgency="standard",
        review_kind="concurrent",
        line_of_business="medicaid",
        received_on=date(2025, 12, 31),
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount": 7, "unit": "hours", "label": "x"}, "rule_id"),
        ({"rule_id": "REG-01", "amount": "7", "unit": "hours", "label": "x"}, "amount"),
        ({"rule_id": "REG-01", "amount": 7, "unit": "fortnights", "label": "x"}, "unit"),
        (
            {"rule_id": "REG-01", "amount": 7, "unit": "hours", "label": "x", "effective_from": "2026-02-30"},
            "effective_from",
        ),
        (
            {"rule_id": "REG-01", "amount": 7, "unit": "hours", "label": "x", "urgencies": "standard"},
            "urgencies",
        ),
        (
            {"rule_id": "REG-01", "amount": 7, "unit": "hours", "label": "x", "urgencies": ["soon"]},
            "urgencies",
        ),
        ({"rule_id": "REG-01", "amount": 7, "unit": "hours", "label": "x", "grace": 1}, "grace"),
    ],
)
def test_clock_rule_from_mapping_names_source_record_and_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as excinfo:
        clock_rule_from_mapping(data, source="packs/iop/2026.1/pack.yaml", record="clocks[0]")
    assert excinfo.value.field == field
    assert excinfo.value.source == "packs/iop/2026.1/pack.yaml"
    assert excinfo.value.record == "clocks[0]"
