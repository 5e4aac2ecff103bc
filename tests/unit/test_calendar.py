"""Example tests for clock arithmetic at its boundaries: DST, year end, weekends, holidays."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bhum.domain.calendar import (
    add_business_days,
    add_calendar_days,
    add_hours,
    business_days_between,
    end_of_day,
    is_business_day,
    local_date,
    next_business_day,
    resolve_local,
    start_of_day,
)
from bhum.domain.errors import InputError

CHICAGO = ZoneInfo("America/Chicago")
NEW_YORK = ZoneInfo("America/New_York")
# Observed federal holidays needed by these examples (hand-written; the adapter is tested separately).
HOLIDAYS = frozenset(
    {
        date(2026, 1, 1),
        date(2026, 7, 3),
        date(2026, 9, 7),
        date(2026, 11, 26),
        date(2026, 12, 25),
        date(2027, 1, 1),
        date(2027, 12, 24),
        date(2027, 12, 31),
    }
)


def elapsed(a: datetime, b: datetime) -> timedelta:
    return b.astimezone(UTC) - a.astimezone(UTC)


# --- calendar days: same local wall time, DST-correct (REG-01 standard, REG-03, IOP-12) -----------


def test_seven_calendar_days_across_spring_forward_keep_wall_time_reg_01() -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=CHICAGO)  # CST
    due = add_calendar_days(start, 7, CHICAGO)
    assert due == datetime(2026, 3, 9, 9, 0, tzinfo=CHICAGO)
    assert (due.hour, due.minute) == (9, 0)
    assert due.utcoffset() == timedelta(hours=-5)  # now CDT
    assert elapsed(start, due) == timedelta(days=7) - timedelta(hours=1)


def test_seven_calendar_days_across_fall_back_keep_wall_time_reg_01() -> None:
    start = datetime(2026, 10, 28, 9, 0, tzinfo=CHICAGO)  # CDT
    due = add_calendar_days(start, 7, CHICAGO)
    assert (due.date(), due.hour, due.minute) == (date(2026, 11, 4), 9, 0)
    assert due.utcoffset() == timedelta(hours=-6)
    assert elapsed(start, due) == timedelta(days=7, hours=1)


def test_one_calendar_day_over_spring_forward_in_new_york_is_23_hours() -> None:
    start = datetime(2026, 3, 7, 20, 0, tzinfo=NEW_YORK)
    due = add_calendar_days(start, 1, NEW_YORK)
    assert (due.date(), due.hour) == (date(2026, 3, 8), 20)
    assert elapsed(start, due) == timedelta(hours=23)


def test_wall_time_in_the_spring_gap_moves_forward_by_the_gap() -> None:
    """02:30 on 8 March 2026 does not exist in Chicago; the deadline is 03:30 CDT."""
    due = add_calendar_days(datetime(2026, 3, 1, 2, 30, tzinfo=CHICAGO), 7, CHICAGO)
    assert (due.date(), due.hour, due.minute) == (date(2026, 3, 8), 3, 30)
    assert due.utcoffset() == timedelta(hours=-5)
    assert due.astimezone(UTC) == datetime(2026, 3, 8, 8, 30, tzinfo=UTC)


def test_wall_time_in_the_fall_overlap_takes_the_earlier_instant() -> None:
    due = add_calendar_days(datetime(2026, 10, 25, 1, 30, tzinfo=CHICAGO), 7, CHICAGO)
    assert due.astimezone(UTC) == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 01:30 CDT, not CST
    assert due.fold == 0


def test_calendar_days_count_in_the_plan_zone_not_the_input_zone() -> None:
    """03:00 UTC on 2 March is 21:00 on 1 March in Chicago: one day later is 2 March 21:00 local."""
    due = add_calendar_days(datetime(2026, 3, 2, 3, 0, tzinfo=UTC), 1, CHICAGO)
    assert due == datetime(2026, 3, 2, 21, 0, tzinfo=CHICAGO)
    assert due.tzinfo is CHICAGO


def test_calendar_days_across_year_end() -> None:
    due = add_calendar_days(datetime(2026, 12, 28, 10, 0, tzinfo=CHICAGO), 7, CHICAGO)
    assert due == datetime(2027, 1, 4, 10, 0, tzinfo=CHICAGO)


def test_zero_calendar_days_keeps_the_instant_even_in_the_overlap() -> None:
    second_one_thirty = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=CHICAGO)  # CST
    same = add_calendar_days(second_one_thirty, 0, CHICAGO)
    assert same.astimezone(UTC) == second_one_thirty.astimezone(UTC)


# --- hours: elapsed time (REG-01 expedited 72 h, REG-03 24 h / 72 h) ------------------------------


def test_72_hours_across_spring_forward_is_elapsed_time_reg_01() -> None:
    start = datetime(2026, 3, 6, 12, 0, tzinfo=CHICAGO)
    due = add_hours(start, 72)
    assert due.astimezone(UTC) == datetime(2026, 3, 9, 18, 0, tzinfo=UTC)  # 12:00 CST = 18:00Z
    assert (due.date(), due.hour) == (date(2026, 3, 9), 13)  # the wall clock jumped an hour


def test_24_hours_across_fall_back_reads_an_hour_earlier_on_the_wall_reg_03() -> None:
    start = datetime(2026, 10, 31, 12, 0, tzinfo=NEW_YORK)
    due = add_hours(start, 24)
    assert (due.date(), due.hour) == (date(2026, 11, 1), 11)
    assert elapsed(start, due) == timedelta(hours=24)


def test_hours_keep_the_start_zone() -> None:
    start = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    assert add_hours(start, 5) == datetime(2026, 1, 1, 5, 0, tzinfo=UTC)
    assert add_hours(start, 5).tzinfo is UTC


# --- end of day ----------------------------------------------------------------------------------


def test_end_of_day_is_the_last_microsecond_of_the_local_date() -> None:
    eod = end_of_day(date(2026, 4, 1), CHICAGO)
    assert (eod.date(), eod.time()) == (date(2026, 4, 1), time(23, 59, 59, 999999))
    assert (eod + timedelta(microseconds=1)).date() == date(2026, 4, 2)
    assert end_of_day(date(2026, 3, 8), CHICAGO).utcoffset() == timedelta(hours=-5)


def test_start_of_day_is_local_midnight() -> None:
    sod = start_of_day(date(2026, 11, 1), NEW_YORK)
    assert sod.astimezone(UTC) == datetime(2026, 11, 1, 4, 0, tzinfo=UTC)


def test_resolve_local_refuses_an_aware_time() -> None:
    with pytest.raises(InputError):
        resolve_local(datetime(2026, 1, 1, tzinfo=UTC), CHICAGO)


# --- business days (TCM-07) ----------------------------------------------------------------------


def test_friday_before_a_monday_holiday_is_due_wednesday_tcm_07() -> None:
    """Missed Friday 4 Sep 2026, Labor Day Monday 7 Sep: business days Tue (1), Wed (2)."""
    due = add_business_days(datetime(2026, 9, 4, 10, 0, tzinfo=CHICAGO), 2, tz=CHICAGO, holidays=HOLIDAYS)
    assert due == end_of_day(date(2026, 9, 9), CHICAGO)


def test_without_the_holiday_friday_is_due_tuesday_tcm_07() -> None:
    due = add_business_days(datetime(2026, 9, 4, 10, 0, tzinfo=CHICAGO), 2, tz=CHICAGO, holidays=frozenset())
    assert due.date() == date(2026, 9, 8)


@pytest.mark.parametrize("missed", [date(2026, 3, 7), date(2026, 3, 8)])
def test_weekend_start_counts_from_monday_tcm_07(missed: date) -> None:
    start = datetime.combine(missed, time(15, 0), tzinfo=CHICAGO)
    due = add_business_days(start, 2, tz=CHICAGO, holidays=HOLIDAYS)
    assert due.date() == date(2026, 3, 10)


def test_a_business_day_start_does_not_count_itself_tcm_07() -> None:
    start = datetime(2026, 3, 2, 8, 0, tzinfo=CHICAGO)  # Monday
    assert add_business_days(start, 1, tz=CHICAGO, holidays=HOLIDAYS).date() == date(2026, 3, 3)


@pytest.mark.parametrize(
    ("missed", "due"),
    [
        (date(2026, 7, 2), date(2026, 7, 7)),  # Thu; Fri 3 Jul observed Independence Day
        (date(2026, 11, 25), date(2026, 11, 30)),  # Wed; Thanksgiving Thu
        (date(2026, 12, 31), date(2027, 1, 5)),  # year end; New Year's Day Fri
        (date(2027, 12, 23), date(2027, 12, 28)),  # Christmas observed Fri 24 Dec
        (date(2027, 12, 30), date(2028, 1, 4)),  # New Year's 2028 observed Fri 31 Dec 2027
    ],
)
def test_observed_holidays_and_year_end_are_skipped_tcm_07(missed: date, due: date) -> None:
    start = datetime.combine(missed, time(9, 0), tzinfo=CHICAGO)
    assert add_business_days(start, 2, tz=CHICAGO, holidays=HOLIDAYS) == end_of_day(due, CHICAGO)


def test_business_days_count_from_the_local_date_not_utc_tcm_07() -> None:
    """03:30 UTC Saturday is 22:30 Friday in Chicago: the appointment was missed on Friday."""
    start = datetime(2026, 9, 5, 3, 30, tzinfo=UTC)
    assert add_business_days(start, 2, tz=CHICAGO, holidays=HOLIDAYS).date() == date(2026, 9, 9)


def test_local_date_decides_the_day_of_the_event() -> None:
    start = datetime(2026, 9, 5, 3, 30, tzinfo=UTC)
    assert local_date(start, CHICAGO) == date(2026, 9, 4)
    assert local_date(start, ZoneInfo("UTC")) == date(2026, 9, 5)
    # Thursday late evening local = Friday UTC: one business day later differs by zone.
    thursday_night = datetime(2026, 9, 4, 2, 0, tzinfo=UTC)  # Thu 3 Sep 21:00 CDT
    assert add_business_days(thursday_night, 1, tz=CHICAGO, holidays=HOLIDAYS).date() == date(2026, 9, 4)
    assert add_business_days(thursday_night, 1, tz=ZoneInfo("UTC"), holidays=HOLIDAYS).date() == date(
        2026, 9, 8
    )


def test_zero_business_days_is_the_same_or_next_business_day() -> None:
    monday = datetime(2026, 9, 7, 9, 0, tzinfo=CHICAGO)  # Labor Day
    assert add_business_days(monday, 0, tz=CHICAGO, holidays=HOLIDAYS).date() == date(2026, 9, 8)
    tuesday = datetime(2026, 9, 8, 9, 0, tzinfo=CHICAGO)
    assert add_business_days(tuesday, 0, tz=CHICAGO, holidays=HOLIDAYS) == end_of_day(
        date(2026, 9, 8), CHICAGO
    )


def test_negative_business_days_are_refused() -> None:
    with pytest.raises(InputError) as excinfo:
        add_business_days(datetime(2026, 9, 8, tzinfo=CHICAGO), -1, tz=CHICAGO, holidays=HOLIDAYS)
    assert excinfo.value.field == "days"


def test_is_business_day_boundaries() -> None:
    assert is_business_day(date(2026, 9, 4), HOLIDAYS)  # Friday
    assert not is_business_day(date(2026, 9, 5), HOLIDAYS)  # Saturday
    assert not is_business_day(date(2026, 9, 6), HOLIDAYS)  # Sunday
    assert not is_business_day(date(2026, 9, 7), HOLIDAYS)  # Labor Day
    assert not is_business_day(date(2026, 7, 3), HOLIDAYS)  # observed Independence Day
    assert next_business_day(date(2026, 7, 2), HOLIDAYS) == date(2026, 7, 6)


def test_is_business_day_refuses_a_datetime() -> None:
    with pytest.raises(InputError) as excinfo:
        is_business_day(datetime(2026, 9, 7, tzinfo=CHICAGO), HOLIDAYS)
    assert excinfo.value.field == "day"


def test_business_days_between_is_half_open() -> None:
    assert business_days_between(date(2026, 9, 4), date(2026, 9, 9), HOLIDAYS) == 2
    assert business_days_between(date(2026, 9, 4), date(2026, 9, 4), HOLIDAYS) == 0
    assert business_days_between(date(2026, 9, 3), date(2026, 9, 4), HOLIDAYS) == 1


# --- naive datetimes are refused everywhere ------------------------------------------------------

NAIVE = datetime(2026, 3, 2, 9, 0)


def test_naive_datetimes_are_refused_naming_the_field() -> None:
    calls: tuple[Callable[[], object], ...] = (
        lambda: add_hours(NAIVE, 1),
        lambda: add_calendar_days(NAIVE, 1, CHICAGO),
        lambda: add_business_days(NAIVE, 1, tz=CHICAGO, holidays=HOLIDAYS),
        lambda: local_date(NAIVE, CHICAGO),
    )
    for call in calls:
        with pytest.raises(InputError) as excinfo:
            call()
        assert excinfo.value.field == "start"
        assert "time zone" in excinfo.value.message


@pytest.mark.parametrize("bad", [True, 1.5, "7"])
def test_non_integer_amounts_are_refused(bad: object) -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=CHICAGO)
    with pytest.raises(InputError):
        add_hours(start, bad)  # type: ignore[arg-type]
    with pytest.raises(InputError):
        add_calendar_days(start, bad, CHICAGO)  # type: ignore[arg-type]
