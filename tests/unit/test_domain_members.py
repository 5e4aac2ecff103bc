"""Members, residence settings (TCM-04/05), plans (OPM-08) and coverage."""

from __future__ import annotations

from datetime import date

import pytest

from bhum.domain.errors import InputError
from bhum.domain.members import (
    CoverageSpan,
    LineOfBusiness,
    Member,
    Plan,
    ResidenceSetting,
    ResidenceSpan,
    Sex,
    coverage_on,
)
from bhum.domain.values import DateSpan

R = ResidenceSetting


def _member(**kw: object) -> Member:
    base: dict[str, object] = {
        "member_id": "M1",
        "first_name": "Ada",
        "last_name": "Synthetic",
        "sex": Sex.FEMALE,
        "birth_date": date(2004, 2, 29),
    }
    return Member(**{**base, **kw})  # type: ignore[arg-type]


def test_residence_on_uses_inclusive_dates_and_the_open_current_span() -> None:
    group = ResidenceSpan("M1", R.GROUP_HOME, DateSpan(date(2026, 1, 1), date(2026, 2, 28)))
    home = ResidenceSpan("M1", R.HOME, DateSpan(date(2026, 3, 1)))
    member = _member(residences=(group, home))
    assert member.residence_on(date(2025, 12, 31)) is None
    assert member.residence_on(date(2026, 1, 1)) == group
    assert member.residence_on(date(2026, 2, 28)) == group
    assert member.residence_on(date(2026, 3, 1)) == home
    assert member.residence_on(date(2030, 1, 1)) == home


def test_coverage_on_prefers_the_latest_starting_overlapping_span() -> None:
    old = CoverageSpan("M1", "P1", DateSpan(date(2025, 1, 1), date(2026, 6, 30)))
    new = CoverageSpan("M1", "P2", DateSpan(date(2026, 6, 1)))
    assert coverage_on([old, new], date(2026, 5, 31)) == old
    assert coverage_on([old, new], date(2026, 6, 1)) == new
    assert coverage_on([old, new], date(2024, 12, 31)) is None


@pytest.mark.parametrize(
    ("setting", "excluded"),
    [
        (R.NURSING_FACILITY, True),
        (R.RESIDENTIAL_BEHAVIOR_MANAGEMENT, True),
        (R.GROUP_HOME, True),
        (R.FOSTER_HOME, True),
        (R.ICF_IID, True),
        (R.HOME, False),
        (R.IMD, False),
        (R.PUBLIC_INSTITUTION, False),
        (R.INPATIENT_PSYCHIATRIC, False),
    ],
)
def test_tcm04_settings_that_exclude_compensable_case_management(
    setting: ResidenceSetting, excluded: bool
) -> None:
    assert setting.excludes_case_management is excluded


def test_tcm05_institutions_a_member_can_transition_from() -> None:
    assert {s for s in R if s.is_institution} == {
        R.NURSING_FACILITY,
        R.ICF_IID,
        R.IMD,
        R.PUBLIC_INSTITUTION,
        R.INPATIENT_PSYCHIATRIC,
    }


@pytest.mark.parametrize(
    ("bh", "opm", "applies"), [(True, True, True), (True, False, False), (False, True, False)]
)
def test_opm08_program_applies_only_with_bh_benefit_and_no_exclusion(
    bh: bool, opm: bool, applies: bool
) -> None:
    plan = Plan("P1", "Plan", "Payer", LineOfBusiness.COMMERCIAL, bh, opm, "America/Chicago")
    assert plan.in_outpatient_management is applies


def test_age_counts_a_leap_day_birthday_on_the_first_of_march() -> None:
    member = _member()
    assert member.age_on(date(2026, 2, 28)) == 21
    assert member.age_on(date(2026, 3, 1)) == 22


def test_death_before_birth_is_refused_and_alive_on_is_inclusive() -> None:
    with pytest.raises(InputError) as caught:
        _member(death_date=date(2000, 1, 1))
    assert caught.value.field == "death_date"
    member = _member(death_date=date(2026, 5, 1))
    assert member.alive_on(date(2026, 5, 1)) and not member.alive_on(date(2026, 5, 2))
