"""US federal holidays for business-day clocks, built with the `holidays` library.

The domain takes a plain ``frozenset[date]``; this adapter is the one place that knows where it
comes from. ``holidays.US`` without a subdivision gives the federal holidays (5 U.S.C. 6103),
including Juneteenth from 2021, and with ``observed=True`` the weekday on which a weekend holiday is
observed: Saturday → the Friday before, Sunday → the Monday after. New Year's Day on a Saturday is
observed on 31 December of the year before, so that date belongs to the earlier year's set.
The set keeps the actual weekend date too; it is not a business day either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import holidays as holidays_lib

from bhum.domain.errors import InputError

__all__ = ["us_federal_holidays", "us_federal_holidays_for_span"]

# The library's federal calendar is meaningful from the 1870s on; far-future years are typos.
FIRST_YEAR = 1900
LAST_YEAR = 2200


def us_federal_holidays(years: Iterable[int]) -> frozenset[date]:
    """Every US federal holiday date, actual and observed, falling in the given calendar years."""
    wanted: list[int] = []
    for year in years:
        if isinstance(year, bool) or not isinstance(year, int) or not FIRST_YEAR <= year <= LAST_YEAR:
            raise InputError(
                f"expected a calendar year between {FIRST_YEAR} and {LAST_YEAR}, got {year!r}",
                field="years",
            )
        wanted.append(year)
    if not wanted:
        return frozenset()
    calendar = holidays_lib.country_holidays("US", years=sorted(set(wanted)), observed=True)
    # Observed dates can spill into a neighbouring year (31 Dec for 1 Jan); keep only asked-for years.
    return frozenset(day for day in calendar if day.year in wanted)


def us_federal_holidays_for_span(first: date, last: date, *, margin_years: int = 1) -> frozenset[date]:
    """Holidays for every year a clock started between ``first`` and ``last`` can reach.

    Business-day counts run past the start date, so the set extends ``margin_years`` beyond ``last``.
    """
    if last < first:
        raise InputError(
            f"the span ends ({last.isoformat()}) before it starts ({first.isoformat()})", field="last"
        )
    if isinstance(margin_years, bool) or not isinstance(margin_years, int) or margin_years < 0:
        raise InputError(f"expected a whole number of years ≥ 0, got {margin_years!r}", field="margin_years")
    return us_federal_holidays(range(first.year, last.year + margin_years + 1))
