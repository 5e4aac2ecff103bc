"""Pure parts of the authorization engine at the boundaries of each rule: the determination
(auto-approve / pend / administrative, REG-04), MN-03 and OPM-09 recommendations, request parsing,
and the criteria (IOP-02/03/04/05/08/10, MN-01/02) evaluated through the real packs."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bhum.adapters.holidays import us_federal_holidays_for_span
from bhum.domain.authorization import Urgency
from bhum.domain.clinical import TreatmentResponse
from bhum.domain.determination import (
    AdministrativeReason,
    CriterionResult,
    CriterionStatus,
    DeterminationOutcome,
    Recommendation,
    RecommendationNote,
    administrative_finding,
    check_may_deny,
    determine,
    progress_recommendations,
    similar_licence,
    step_down_from,
)
from bhum.domain.errors import InputError, PermissionDenied
from bhum.domain.members import CoverageSpan, LineOfBusiness, Plan
from bhum.domain.providers import Credential, Staff
from bhum.domain.values import CPT, HCPCS, REVENUE, Code, DateSpan
from bhum.policy import load_packs
from bhum.services.auth_criteria import decision_deadline, required_answer
from bhum.services.auth_requests import parse_submission
from bhum.services.authorization import Engine, evaluate_submission

REPO = Path(__file__).resolve().parents[2]
PACKS = load_packs(REPO / "packs")
ENGINE = Engine(PACKS, ZoneInfo("America/Chicago"), us_federal_holidays_for_span)
BASE: dict[str, Any] = json.loads((REPO / "examples" / "requests" / "iop-initial-approve.json").read_text())


def crit(status: CriterionStatus, name: str = "iop.weekly-hours") -> CriterionResult:
    return CriterionResult(name, ("IOP-05",), "Weekly hours", status, f"{name} {status.value}")


# -- determine ------------------------------------------------------------------------------------


def test_all_met_approves_automatically_reg04() -> None:
    result = determine([crit(CriterionStatus.MET), crit(CriterionStatus.NOT_APPLICABLE, "iop.x")])
    assert result.outcome is DeterminationOutcome.APPROVE
    assert result.open_criteria == ()


@pytest.mark.parametrize("status", [CriterionStatus.UNKNOWN, CriterionStatus.NOT_MET])
def test_one_open_criterion_pends_and_never_denies_reg04(status: CriterionStatus) -> None:
    result = determine([crit(CriterionStatus.MET, "a"), crit(status, "b")])
    assert result.outcome is DeterminationOutcome.PEND
    assert [c.criterion for c in result.open_criteria] == ["b"]
    assert result.reasons[0].text.startswith(status.value.replace("_", " "))


def test_nothing_evaluated_is_not_an_approval() -> None:
    assert determine([]).outcome is DeterminationOutcome.PEND


def test_a_plan_change_recommendation_goes_to_a_reviewer_mn03() -> None:
    note = RecommendationNote(Recommendation.CHANGE_TREATMENT_PLAN, "MN-03", "change the plan")
    assert determine([crit(CriterionStatus.MET)], recommendations=[note]).outcome is DeterminationOutcome.PEND


def test_only_physician_reviewers_may_deny_reg04() -> None:
    check_may_deny(Staff("S1", "A", "B", frozenset({Credential.PSYCHOLOGIST})))
    check_may_deny(Staff("S2", "A", "B", frozenset({Credential.ADDICTION_MEDICINE_PHYSICIAN})))
    for credentials in ({Credential.RN}, {Credential.LICENSED_MASTERS_CLINICIAN}, {Credential.PHYSICIAN}):
        with pytest.raises(PermissionDenied):
            check_may_deny(Staff("S3", "A", "B", frozenset(credentials)))
    with pytest.raises(PermissionDenied):
        check_may_deny(None)


def test_appeal_reviewer_licence_similarity() -> None:
    psychiatrist = Staff("S1", "A", "B", frozenset({Credential.PSYCHIATRIST}))
    psychologist = Staff("S2", "A", "B", frozenset({Credential.PSYCHOLOGIST}))
    nurse = Staff("S3", "A", "B", frozenset({Credential.RN}))
    assert similar_licence(psychiatrist, psychologist)
    assert not similar_licence(psychiatrist, nurse)
    assert similar_licence(nurse, Staff("S4", "A", "B", frozenset({Credential.RN})))


# -- administrative outcomes ---------------------------------------------------------------------

PLAN = Plan("P1", "Plan", "Payer", LineOfBusiness.MEDICAID, True, True, "America/Chicago")
SPAN = [CoverageSpan("M1", "P1", DateSpan(date(2026, 1, 1), date(2026, 3, 31)))]
S9480 = Code(HCPCS, "S9480", "IOP per diem")


@pytest.mark.parametrize(
    ("on", "carc"), [(date(2026, 3, 31), None), (date(2026, 4, 1), "27"), (date(2025, 12, 31), "26")]
)
def test_coverage_on_the_date_boundaries(on: date, carc: str | None) -> None:
    found = administrative_finding(on=on, coverage=SPAN, plan=PLAN, service_covered=True, service=S9480)
    if carc is None:
        assert found is None
    else:
        assert found is not None and found.reason is AdministrativeReason.NO_COVERAGE
        assert found.codes[0].code == carc


def test_no_bh_benefit_and_uncovered_service_opm08() -> None:
    no_bh = Plan("P2", "Plan", "Payer", LineOfBusiness.COMMERCIAL, False, False, "America/Chicago")
    found = administrative_finding(
        on=date(2026, 2, 1), coverage=SPAN, plan=no_bh, service_covered=True, service=S9480
    )
    assert found is not None and (found.reason, found.rule_id, found.codes[0].code) == (
        AdministrativeReason.NO_BH_BENEFIT,
        "OPM-08",
        "204",
    )
    found = administrative_finding(
        on=date(2026, 2, 1), coverage=SPAN, plan=PLAN, service_covered=False, service=S9480
    )
    assert found is not None and found.reason is AdministrativeReason.NOT_A_COVERED_SERVICE
    assert determine([], administrative=found).outcome is DeterminationOutcome.ADMINISTRATIVE_DENIAL


# -- MN-03 and OPM-09 ------------------------------------------------------------------------------

NP, IMP, PLAT = TreatmentResponse.NO_PROGRESS, TreatmentResponse.IMPROVED, TreatmentResponse.PLATEAU


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ([NP], set()),
        ([IMP, NP], set()),
        ([NP, IMP], set()),
        ([NP, NP], {Recommendation.CHANGE_TREATMENT_PLAN, Recommendation.STEP_DOWN}),
        ([NP, TreatmentResponse.WORSENED], {Recommendation.CHANGE_TREATMENT_PLAN, Recommendation.STEP_DOWN}),
        ([IMP, PLAT], {Recommendation.MAINTENANCE_OR_STEP_DOWN, Recommendation.STEP_DOWN}),
    ],
)
def test_progress_across_two_reviews_mn03(
    history: list[TreatmentResponse], expected: set[Recommendation]
) -> None:
    assert {n.recommendation for n in progress_recommendations(history)} == expected


def test_step_down_along_the_continuum_opm09() -> None:
    assert step_down_from("inpatient") == "residential"
    assert step_down_from("partial_hospitalization") == "iop"
    assert step_down_from("iop") == "outpatient"
    assert step_down_from("outpatient") is None
    notes = progress_recommendations([IMP], below_level_of_care=True)
    assert [(n.recommendation, n.rule_id, n.step_down_to) for n in notes] == [
        (Recommendation.STEP_DOWN, "OPM-09", "outpatient")
    ]


# -- request files ---------------------------------------------------------------------------------


def doc(**changes: Any) -> dict[str, Any]:
    d = copy.deepcopy(BASE)
    for path, value in changes.items():
        target = d
        *parents, last = path.split("__")
        for p in parents:
            target = target[p]
        if value is None:
            target.pop(last, None)
        else:
            target[last] = value
    return d


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"clinical": None}, "clinical"),
        ({"received_at": "2026-03-02T09:30:00"}, "received_at"),
        ({"urgency": "urgent"}, "urgency"),
        ({"clinical__diagnoses": [{"system": "cpt", "code": "90834"}]}, "clinical.diagnoses[0].system"),
        ({"clinical__planned_hours_per_week": -1}, "clinical.planned_hours_per_week"),
        ({"clinical__locus_level": 7}, "clinical.locus_level"),
        ({"program__progress": "better"}, "program.progress"),
        ({"requesting_provider_npi": "12345"}, "requesting_provider_npi"),
        ({"requested_span": {"start": "2026-03-09", "end": "2026-03-01"}}, "requested_span.end"),
    ],
)
def test_bad_request_files_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_submission(doc(**changes), source="req.json")
    assert caught.value.field == field
    assert caught.value.source == "req.json"


# -- criteria through the packs --------------------------------------------------------------------


def evaluate(**changes: Any) -> dict[str, Any]:
    return evaluate_submission(ENGINE, parse_submission(doc(**changes))).to_doc()


def status(result: dict[str, Any], criterion: str) -> str:
    return str(next(c["status"] for c in result["criteria"] if c["criterion"] == criterion))


def test_the_example_is_approved_and_every_criterion_has_evidence() -> None:
    result = evaluate()
    assert result["outcome"] == "approve"
    assert all(c["evidence"] for c in result["criteria"])


@pytest.mark.parametrize(("hours", "expected"), [(3, "met"), (2.75, "not_met")])
def test_adult_per_diem_needs_3_consecutive_hours_iop04(hours: float, expected: str) -> None:
    result = evaluate(program__consecutive_hours_per_day=hours)
    assert status(result, "iop.per-diem-minimum-hours") == expected
    assert result["outcome"] == ("approve" if expected == "met" else "pend")


@pytest.mark.parametrize(("days", "expected"), [(3, "met"), (2, "not_met")])
def test_at_least_3_days_a_week_iop04(days: int, expected: str) -> None:
    assert status(evaluate(clinical__planned_days_per_week=days), "iop.days-per-week") == expected


@pytest.mark.parametrize(("hours", "expected"), [(9, "met"), (8.5, "not_met"), (19, "met"), (20, "not_met")])
def test_adult_weekly_hours_9_to_19_iop05(hours: float, expected: str) -> None:
    assert status(evaluate(clinical__planned_hours_per_week=hours), "iop.weekly-hours") == expected


@pytest.mark.parametrize(("birth", "expected"), [("2013-03-09", "met"), ("2013-03-10", "not_met")])
def test_adolescents_from_13_iop03(birth: str, expected: str) -> None:
    """The span starts 2026-03-09: born 2013-03-09 is 13 that day, a day later is 12."""
    result = evaluate(
        member={"member_id": "SYN-M-0001", "birth_date": birth}, clinical__planned_hours_per_week=6
    )
    assert status(result, "iop.age-groups") == expected
    assert status(result, "iop.weekly-hours") == "met"  # adolescents need 6


@pytest.mark.parametrize(("exam", "expected"), [("2026-02-07", "met"), ("2026-02-06", "not_met")])
def test_physical_exam_within_30_days_of_admission_iop08(exam: str, expected: str) -> None:
    assert status(evaluate(clinical__physical_exam_date=exam), "iop.physical-exam") == expected


@pytest.mark.parametrize(("assessed", "expected"), [("2026-02-23", "met"), ("2026-02-22", "not_met")])
def test_weekly_risk_assessment_iop10(assessed: str, expected: str) -> None:
    """Received 2026-03-02 (Chicago): seven days back is on time, eight is not."""
    risk = [{"assessed_on": assessed, "suicide_risk": "low"}]
    assert status(evaluate(clinical__risk_assessments=risk), "iop.weekly-risk-assessment") == expected


def test_unknown_assessor_licence_pends_iop10() -> None:
    result = evaluate(program__assessor_licensed=None)
    assert status(result, "iop.weekly-risk-assessment") == "unknown"
    assert result["outcome"] == "pend"


def test_case_management_during_iop_duplicates_the_per_diem_iop02() -> None:
    result = evaluate(program__other_services=[{"system": "hcpcs", "code": "T1017"}])
    dup = next(c for c in result["criteria"] if c["criterion"] == "iop.no-duplicate-services")
    assert dup["status"] == "not_met"
    assert dup["codes"][0]["code"] == "96"
    assert result["outcome"] == "pend"
    ok = evaluate(program__other_services=[{"system": "cpt", "code": "99213"}])
    assert status(ok, "iop.no-duplicate-services") == "met"


def test_diagnosis_alone_never_documents_functionality_mn02() -> None:
    result = evaluate(clinical__functioning="")
    assert status(result, "mn.core-concepts") == "not_met"
    assert result["outcome"] == "pend"


def test_co_occurring_substance_use_must_be_addressed_mn02() -> None:
    diagnoses = [{"system": "icd10cm", "code": "F33.1"}, {"system": "icd10cm", "code": "F10.20"}]
    assert status(evaluate(clinical__diagnoses=diagnoses), "mn.core-concepts") == "not_met"
    goals = [
        {
            "description": "Stop drinking",
            "interventions": ["relapse prevention group"],
            "addresses": ["substance_use"],
        }
    ]
    assert status(evaluate(clinical__diagnoses=diagnoses, clinical__goals=goals), "mn.core-concepts") == "met"


@pytest.mark.parametrize(("locus", "expected"), [(3, "met"), (2, "not_met"), (5, "not_met")])
def test_level_of_care_drives_mn01(locus: int, expected: str) -> None:
    result = evaluate(clinical__locus_level=locus)
    assert status(result, "mn.medical-necessity-criteria") == expected
    assert result["outcome"] == ("approve" if expected == "met" else "pend")


def test_ect_goes_to_clinical_review_not_auto_approval() -> None:
    result = evaluate(service_codes=[{"system": "cpt", "code": "90870", "display": "ECT"}])
    assert result["outcome"] == "pend"
    assert "mn.medical-necessity-criteria" in result["open_criteria"]


def test_routine_outpatient_needs_no_preauthorization_iop14() -> None:
    result = evaluate(service_codes=[{"system": "cpt", "code": "90837", "display": "Psychotherapy"}])
    assert result["outcome"] == "not_required"
    assert result["reasons"][0]["rule_id"] == "IOP-14"


@pytest.mark.parametrize(
    ("service", "required"),
    [
        (Code(REVENUE, "0906"), True),
        (Code(REVENUE, "90870"), False),
        (Code(CPT, "90867"), True),
        (Code(CPT, "90834"), False),
    ],
)
def test_required_answers_opm01(service: Code, required: bool) -> None:
    answer = required_answer(PACKS, service, on=date(2026, 3, 9), testing_notified=False)
    assert answer.required is required
    assert answer.pack.split("@")[1] == "2026.1"


def test_expedited_medicaid_request_is_due_in_72_hours_reg01() -> None:
    submission = parse_submission(doc(urgency="expedited"))
    due = decision_deadline(
        PACKS, submission.request, line_of_business="medicaid", tz=ENGINE.tz, holidays=frozenset(), iop=True
    )
    assert due.rule_id == "REG-01"
    assert (due.due - submission.request.received_at).total_seconds() == 72 * 3600
    assert submission.request.urgency is Urgency.EXPEDITED
    assert due.started.astimezone(UTC) == datetime(2026, 3, 2, 15, 30, tzinfo=UTC)
