"""Pure OPM rules (no I/O): OPM-08 eligibility, the treating provider, the returned form (OPM-04/06)
and the determination checks (OPM-06, OPM-09 continuum)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from bhum.domain.errors import InputError
from bhum.domain.members import CoverageSpan, LineOfBusiness, Plan
from bhum.domain.opm import (
    ClaimService,
    ClinicalReview,
    Ineligible,
    LevelOfCare,
    OpmDetermination,
    applicable_services,
    check_level_change,
    opm_case_id,
    opm_eligibility,
    outreach_cycle,
    parse_clinical_update,
    treating_provider,
)
from bhum.domain.values import CPT, Code, DateSpan

AT = datetime(2026, 7, 20, tzinfo=UTC)


def _plan(bh: bool, opm: bool) -> Plan:
    return Plan("P", "Plan", "Payer", LineOfBusiness.MEDICAID, bh, opm, "America/Chicago")


@pytest.mark.parametrize(
    ("bh", "opm", "reason"),
    [(True, True, None), (False, True, Ineligible.NO_BH_BENEFIT), (True, False, Ineligible.OPM_EXCLUDED)],
)
def test_opm08_plan_flags(bh: bool, opm: bool, reason: Ineligible | None) -> None:
    coverage = CoverageSpan("M1", "P", DateSpan(date(2026, 1, 1), date(2026, 6, 30)))
    result = opm_eligibility(coverage, _plan(bh, opm), date(2026, 6, 30))
    assert result.eligible is (reason is None) and result.reason == reason


def test_opm08_coverage_must_include_the_as_of_date() -> None:
    coverage = CoverageSpan("M1", "P", DateSpan(date(2026, 1, 1), date(2026, 6, 29)))
    assert opm_eligibility(coverage, _plan(True, True), date(2026, 6, 30)).reason is Ineligible.NO_COVERAGE
    assert opm_eligibility(None, None, date(2026, 6, 30)).reason is Ineligible.NO_COVERAGE


def test_treating_provider_is_on_most_flagged_claims_then_latest_then_lowest_npi() -> None:
    psy = Code(CPT, "90837", "Psychotherapy, 60 minutes")
    s = [
        ClaimService("C1", date(2026, 3, 1), "2222222222", psy),
        ClaimService("C2", date(2026, 4, 1), "2222222222", psy),
        ClaimService("C3", date(2026, 5, 1), "1111111111", psy),
    ]
    assert treating_provider(s) == "2222222222"
    tie = s[1:]
    assert treating_provider(tie) == "1111111111"  # one each: the most recent
    same_day = [
        ClaimService("C1", date(2026, 3, 1), "3333333333", psy),
        ClaimService("C2", date(2026, 3, 1), "1111111111", psy),
    ]
    assert treating_provider(same_day) == "1111111111"
    assert treating_provider([ClaimService("C1", date(2026, 3, 1), None, psy)]) is None
    assert applicable_services(s, "1111111111") == (psy,)


def test_case_id_is_stable_per_member_provider_and_month_and_carries_no_member_id() -> None:
    assert outreach_cycle(date(2026, 6, 30)) == "2026-06"
    a = opm_case_id("M1", "1234567893", "2026-06")
    assert a == opm_case_id("M1", "1234567893", "2026-06") != opm_case_id("M1", "1234567893", "2026-07")
    assert "M1" not in a.removeprefix("OPM-2026-06-")


FORM: dict[str, Any] = {
    "treatment_plan": "Weekly CBT",
    "goals": ["PHQ-9 below 10"],
    "level_intensity_duration": {
        "level_of_care": "routine_outpatient",
        "sessions_per_week": 1,
        "session_minutes": 53,
    },
    "progress": "plateau",
    "functioning": "Working part time",
    "pcp_coordination": {"coordinated": False, "note": "Member declined release"},
    "diagnoses": ["F33.1"],
}


def test_form_parses_with_the_form_keys() -> None:
    form = parse_clinical_update(FORM)
    assert form.level_intensity_duration.level_of_care is LevelOfCare.ROUTINE_OUTPATIENT
    assert form.progress.value == "plateau" and form.diagnoses[0].code == "F33.1"
    assert form.as_json()["pcp_coordination"]["coordinated"] is False


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"goals": []}, "goals"),
        ({"treatment_plan": "  "}, "treatment_plan"),
        ({"functioning": None}, "functioning"),
        (
            {
                "level_intensity_duration": {
                    "level_of_care": "spa",
                    "sessions_per_week": 1,
                    "session_minutes": 50,
                }
            },
            "level_intensity_duration.level_of_care",
        ),
        (
            {
                "level_intensity_duration": {
                    "level_of_care": "routine_outpatient",
                    "sessions_per_week": 0,
                    "session_minutes": 50,
                }
            },
            "level_intensity_duration.sessions_per_week",
        ),
        ({"progress": "great"}, "progress.rating"),
        ({"pcp_coordination": {"coordinated": False}}, "pcp_coordination.note"),
        (
            {"pcp_coordination": {"coordinated": True, "last_contact_on": "2026-13-01"}},
            "pcp_coordination.last_contact_on",
        ),
        ({"diagnoses": ["F3"]}, "diagnoses[0]"),
        ({"diagnoses": ["33.1"]}, "diagnoses[0]"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_form_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as err:
        parse_clinical_update({**FORM, **change}, source="form.json", record="OPM-1")
    assert err.value.field == field and err.value.source == "form.json" and err.value.record == "OPM-1"


def test_last_pcp_contact_cannot_be_after_the_return_date() -> None:
    doc = {**FORM, "pcp_coordination": {"coordinated": True, "last_contact_on": "2026-07-21"}}
    assert parse_clinical_update(doc, today=date(2026, 7, 21)).pcp_coordination.coordinated
    with pytest.raises(InputError):
        parse_clinical_update(doc, today=date(2026, 7, 20))


def test_opm06_determinations_say_what_they_change() -> None:
    with pytest.raises(InputError) as err:
        ClinicalReview("OPM-1", OpmDetermination.STEP_UP, "worse", "u", AT)
    assert err.value.field == "recommended_level"
    with pytest.raises(InputError) as err:
        ClinicalReview("OPM-1", OpmDetermination.CONDITION_MANAGEMENT, "diabetes", "u", AT)
    assert err.value.field == "referrals"
    with pytest.raises(InputError):
        ClinicalReview("OPM-1", OpmDetermination.CONTINUE, " ", "u", AT)
    assert (
        ClinicalReview("OPM-1", OpmDetermination.CONTINUE, "on track", "u", AT).determination.value
        == "continue"
    )


def test_step_up_and_step_down_follow_the_continuum() -> None:
    """OPM-09 continuum: routine outpatient < IOP < partial hospitalization < residential < inpatient."""
    up = ClinicalReview("OPM-1", OpmDetermination.STEP_UP, "worse", "u", AT, LevelOfCare.INTENSIVE_OUTPATIENT)
    check_level_change(up, LevelOfCare.ROUTINE_OUTPATIENT)
    with pytest.raises(InputError):
        check_level_change(up, LevelOfCare.INTENSIVE_OUTPATIENT)  # same level is not a step up
    down = ClinicalReview(
        "OPM-1", OpmDetermination.STEP_DOWN, "plateau", "u", AT, LevelOfCare.ROUTINE_OUTPATIENT
    )
    check_level_change(down, LevelOfCare.INTENSIVE_OUTPATIENT)
    with pytest.raises(InputError):
        check_level_change(down, LevelOfCare.ROUTINE_OUTPATIENT)
