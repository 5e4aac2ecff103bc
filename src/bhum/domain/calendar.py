"""Time arithmetic for decision clocks: elapsed hours, calendar days and business days.

Pure functions. No wall clock is read here: every instant is an argument, and every instant must be
timezone-aware (a naive datetime is refused with InputError, because "9:00" means nothing without a
zone). Calendar and business days are counted in the plan's time zone; hours are elapsed time.
See docs/clocks.md for the exact conventions (DST gaps and overlaps, end of day, day zero).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from bhum.domain.errors import InputError

__all__ = [
    "add_business_days",
    "add_calendar_days",
    "add_hours",
    "business_days_between",
    "end_of_day",
    "is_business_day",
    "local_date",
    "next_business_day",
    "require_aware",
    "resolve_local",
    "start_of_day",
]

SATURDAY = 5  # date.weekday(): Monday is 0


def require_aware(moment: datetime, *, field: str, record: str | int | None = None) -> datetime:
    """Return ``moment`` unchanged if it carries a UTC offset; refuse naive datetimes."""
    if not isinstance(moment, datetime):
        raise InputError(f"expected a datetime, got {type(moment).__name__}", field=field, record=record)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InputError(
            f"{moment.isoformat()} has no time zone; clock times must be timezone-aware",
            field=field,
            record=record,
        )
    return moment


def _require_whole(amount: int, *, field: str, minimum: int | None = None) -> int:
    # bool is an int subclass; True days is a bug, not an amount.
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InputError(f"expected a whole number, got {amount!r}", field=field)
    if minimum is not None and amount < minimum:
        raise InputError(f"must be at least {minimum}, got {amount}", field=field)
    return amount


def _require_date(day: date, *, field: str) -> date:
    # datetime is a date subclass, but a datetime never equals a date in a holiday set.
    if isinstance(day, datetime) or not isinstance(day, date):
        raise InputError(f"expected a calendar date, got {day!r}", field=field)
    return day


def resolve_local(wall: datetime, tz: ZoneInfo, *, prefer_later: bool = False) -> datetime:
    """Attach ``tz`` to a naive wall-clock time, deciding DST gaps and overlaps explicitly.

    - Gap (spring forward: 02:30 does not exist): the time moves forward by the gap (03:30 CDT).
    - Overlap (fall back: 01:30 happens twice): the earlier instant, unless ``prefer_later``.
    The result is normalised, so its wall time is what a clock on the wall actually shows.
    """
    if wall.tzinfo is not None:
        raise InputError("resolve_local takes a naive wall-clock time", field="wall")
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if first > second:
        # In a gap fold=0 uses the pre-transition offset, which lands after the jump.
        chosen = first
    elif first < second:
        chosen = second if prefer_later else first
    else:
        chosen = first
    return chosen.astimezone(tz)


def local_date(moment: datetime, tz: ZoneInfo, *, field: str = "start") -> date:
    """The calendar date of an instant as seen in the plan's time zone."""
    return require_aware(moment, field=field).astimezone(tz).date()


def start_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of a local calendar date (00:00, or the first existing time after a gap)."""
    return resolve_local(datetime.combine(_require_date(day, field="day"), time.min), tz)


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The last instant of a local calendar date: 23:59:59.999999 in ``tz``.

    Date-based due dates ("within 30 days", "2 business days") are due at this instant, so a
    deadline check is one comparison: on time iff ``moment <= due``.
    """
    return resolve_local(datetime.combine(_require_date(day, field="day"), time.max), tz, prefer_later=True)


def add_hours(start: datetime, hours: int) -> datetime:
    """Exactly ``hours`` of elapsed time after ``start`` (a DST change does not stretch or shrink it).

    Python adds timedeltas to aware datetimes in wall time, so the sum goes through UTC. The result is
    expressed in ``start``'s own zone.
    """
    require_aware(start, field="start")
    _require_whole(hours, field="hours")
    zone: tzinfo | None = start.tzinfo
    return (start.astimezone(UTC) + timedelta(hours=hours)).astimezone(zone)


def add_calendar_days(start: datetime, days: int, tz: ZoneInfo) -> datetime:
    """The same local wall-clock time ``days`` later in the plan's zone (DST-correct).

    Across a DST change the elapsed time is 23 or 25 hours per changed day, by design: "7 calendar
    days" from Monday 09:00 is the next Monday 09:00. A wall time that falls in a gap moves forward
    by the gap; one that falls in an overlap takes the earlier instant (see resolve_local).
    """
    require_aware(start, field="start")
    _require_whole(days, field="days")
    local = start.astimezone(tz)
    if days == 0:
        return local
    return resolve_local(local.replace(tzinfo=None) + timedelta(days=days), tz)


def is_business_day(day: date, holidays: frozenset[date]) -> bool:
    """Monday to Friday and not a holiday (pass observed dates, e.g. from adapters.holidays)."""
    _require_date(day, field="day")
    return day.weekday() < SATURDAY and day not in holidays


def next_business_day(day: date, holidays: frozenset[date]) -> date:
    """The first business day strictly after ``day``."""
    candidate = _require_date(day, field="day") + timedelta(days=1)
    while not is_business_day(candidate, holidays):
        candidate += timedelta(days=1)
    return candidate


def business_days_between(after: date, through: date, holidays: frozenset[date]) -> int:
    """Business days in the half-open range (after, through]: the day of the event is day zero."""
    _require_date(after, field="after")
    _require_date(through, field="through")
    count = 0
    day = after + timedelta(days=1)
    while day <= through:
        if is_business_day(day, holidays):
            count += 1
        day += timedelta(days=1)
    return count


def add_business_days(start: datetime, days: int, *, tz: ZoneInfo, holidays: frozenset[date]) -> datetime:
    """End of the ``days``-th business day after the local date of ``start``.

    The day of the event is day zero and never counts, even when it is a business day: a missed
    appointment on Friday before a Monday holiday is due by the end of Wednesday (TCM-07). With
    ``days`` 0 the due date is the start date itself, or the next business day if it is not one.
    The holiday set must cover every year the count can reach (the start's year and the next).
    """
    require_aware(start, field="start")
    _require_whole(days, field="days", minimum=0)
    day = local_date(start, tz)
    if days == 0:
        due_day = day if is_business_day(day, holidays) else next_business_day(day, holidays)
    else:
        due_day = day
        for _ in range(days):
            due_day = next_business_day(due_day, holidays)
    return end_of_day(due_day, tz)
