"""Property tests for clock arithmetic (REG-01/REG-03/IOP-12 calendar days and hours, TCM-07 business
days): exact elapsed hours, wall-time-preserving calendar days, business-day counts, monotonicity."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bhum.adapters.holidays import us_federal_holidays
from bhum.domain.calendar import (
    add_business_days,
    add_calendar_days,
    add_hours,
    business_days_between,
    end_of_day,
    is_business_day,
    local_date,
)

ZONES = [
    ZoneInfo("America/Chicago"),
    ZoneInfo("America/New_York"),
    ZoneInfo("America/Los_Angeles"),
    ZoneInfo("America/Phoenix"),  # no DST
    ZoneInfo("UTC"),
]
FEDERAL = us_federal_holidays(range(2024, 2034))

zones = st.sampled_from(ZONES)
instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=zones, allow_imaginary=False
)


@st.composite
def holiday_sets(draw: st.DrawFn) -> frozenset[date]:
    """Federal holidays, or dense random ones in the weeks a short count can reach."""
    if draw(st.booleans()):
        return FEDERAL
    anchor = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)))
    offsets = draw(st.lists(st.integers(min_value=-3, max_value=40), max_size=15))
    return frozenset(anchor + timedelta(days=offset) for offset in offsets)


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def exists(wall: datetime, tz: ZoneInfo) -> bool:
    return wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall


@settings(deadline=None)
@given(start=instants, hours=st.integers(min_value=-2000, max_value=2000))
def test_hour_addition_is_exact_elapsed_time(start: datetime, hours: int) -> None:
    due = add_hours(start, hours)
    assert utc(due) - utc(start) == timedelta(hours=hours)
    assert due.tzinfo is start.tzinfo


@settings(deadline=None)
@given(start=instants, a=st.integers(0, 500), b=st.integers(0, 500))
def test_hour_addition_composes(start: datetime, a: int, b: int) -> None:
    assert utc(add_hours(add_hours(start, a), b)) == utc(add_hours(start, a + b))


@settings(deadline=None)
@given(start=instants, days=st.integers(min_value=-400, max_value=400), tz=zones)
def test_calendar_day_addition_preserves_local_wall_time(start: datetime, days: int, tz: ZoneInfo) -> None:
    local = start.astimezone(tz)
    due = add_calendar_days(start, days, tz)
    assert due.tzinfo is tz
    assert due.date() == local.date() + timedelta(days=days)
    wanted = local.replace(tzinfo=None) + timedelta(days=days)
    got = due.replace(tzinfo=None)
    if exists(wanted, tz):
        assert got == wanted
    else:
        # Only a spring-forward gap moves the wall time, and only forward by the gap (an hour in the US).
        assert days != 0
        assert got - wanted == timedelta(hours=1)
    # Calendar days differ from 24-hour days by at most the one-hour DST shift.
    assert abs(utc(due) - utc(start) - timedelta(days=days)) <= timedelta(hours=1)


@settings(deadline=None)
@given(start=instants, a=st.integers(-60, 60), b=st.integers(-60, 60), tz=zones)
def test_calendar_day_addition_is_monotone_in_days(start: datetime, a: int, b: int, tz: ZoneInfo) -> None:
    low, high = sorted((a, b))
    first, second = add_calendar_days(start, low, tz), add_calendar_days(start, high, tz)
    assert utc(first) <= utc(second)
    if low < high:
        assert utc(first) < utc(second)


@settings(deadline=None)
@given(start=instants, days=st.integers(1, 30), tz=zones, holidays=holiday_sets())
def test_business_days_land_on_a_business_day_and_skip_exactly_n(
    start: datetime, days: int, tz: ZoneInfo, holidays: frozenset[date]
) -> None:
    """TCM-07: the due date is a business day and exactly ``days`` business days follow the event day."""
    due = add_business_days(start, days, tz=tz, holidays=holidays)
    assert due.tzinfo is tz
    assert due.time() == time.max
    assert is_business_day(due.date(), holidays)
    assert business_days_between(local_date(start, tz), due.date(), holidays) == days
    assert utc(due) > utc(start)


@settings(deadline=None)
@given(start=instants, tz=zones, holidays=holiday_sets())
def test_zero_business_days_is_the_first_business_day_on_or_after_the_start(
    start: datetime, tz: ZoneInfo, holidays: frozenset[date]
) -> None:
    due = add_business_days(start, 0, tz=tz, holidays=holidays).date()
    day = local_date(start, tz)
    assert is_business_day(due, holidays)
    assert due >= day
    assert business_days_between(day - timedelta(days=1), due - timedelta(days=1), holidays) == 0


@settings(deadline=None)
@given(
    start=instants,
    later_by=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)),
    a=st.integers(0, 20),
    b=st.integers(0, 20),
    tz=zones,
    holidays=holiday_sets(),
)
def test_business_day_addition_is_monotone(
    start: datetime, later_by: timedelta, a: int, b: int, tz: ZoneInfo, holidays: frozenset[date]
) -> None:
    low, high = sorted((a, b))
    first = add_business_days(start, low, tz=tz, holidays=holidays)
    second = add_business_days(start, high, tz=tz, holidays=holidays)
    assert utc(first) <= utc(second)
    if low < high:
        assert first.date() < second.date()
    later = utc(start) + later_by
    assert utc(add_business_days(later, low, tz=tz, holidays=holidays)) >= utc(first)


@settings(deadline=None)
@given(day=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)), tz=zones)
def test_end_of_day_is_the_last_instant_of_the_local_date(day: date, tz: ZoneInfo) -> None:
    eod = end_of_day(day, tz)
    assert eod.date() == day
    assert (utc(eod) + timedelta(microseconds=1)).astimezone(tz).date() == day + timedelta(days=1)
