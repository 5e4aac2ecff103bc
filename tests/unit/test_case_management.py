"""Case management domain rules at their boundaries (TCM-03..TCM-12)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bhum.adapters.holidays import us_federal_holidays_for_span
from bhum.domain.case_management import (
    T1017,
    ActivityCode,
    CaseloadLimits,
    CaseloadStatus,
    CaseloadType,
    CaseManagementRefusal,
    CaseManagerClassification,
    CaseManagerQualifications,
    InstitutionalStay,
    NoteElement,
    PlanGoal,
    ProgressNote,
    ServicePlan,
    SignatureKind,
    SupervisorOverride,
    activity_check,
    activity_from_code,
    add_months,
    assess_assignment,
    caseload_count,
    caseload_status,
    check_annual_hours,
    check_qualification,
    community_contact_due,
    needs_escalation,
    original_signature_due,
    outreach_deadline,
    refusal_restricts,
    residence_check,
    transition_window,
    validate_progress_note,
    validate_service_plan,
)
from bhum.domain.errors import InputError
from bhum.domain.members import ResidenceSetting
from bhum.domain.tasks import Task, TaskKind
from bhum.domain.values import CPT, HCPCS, Code

CHICAGO = ZoneInfo("America/Chicago")
ON = date(2026, 3, 10)
CM = CaseManagerClassification

CERTIFIED = {"state_cm_certification": True, "competency_exam_passed": True}


# --- TCM-11 credentials --------------------------------------------------------------------------


def test_tcm11_cm_ii_with_bh_degree_is_qualified() -> None:
    result = check_qualification(CM.CM_II, CaseManagerQualifications(**CERTIFIED, bh_degree=True), on=ON)
    assert result.qualified and result.missing == () and result.rule_id == "TCM-11"


def test_tcm11_certification_and_exam_are_named_when_missing() -> None:
    result = check_qualification(CM.CM_II, CaseManagerQualifications(bh_degree=True), on=ON)
    assert not result.qualified
    assert result.missing == (
        "A Case Manager II needs state behavioral health case manager certification.",
        "A Case Manager II needs a pass in the case management competency exam.",
    )


def test_tcm11_cadc_needs_7_hours_of_training_6_is_not_enough() -> None:
    six = check_qualification(
        CM.CM_II, CaseManagerQualifications(**CERTIFIED, cadc_certification=True, cm_training_hours=6), on=ON
    )
    seven = check_qualification(
        CM.CM_II, CaseManagerQualifications(**CERTIFIED, cadc_certification=True, cm_training_hours=7), on=ON
    )
    assert not six.qualified and "7 hours of state case management training" in six.missing[0]
    assert seven.qualified


def test_tcm11_rn_needs_bh_experience() -> None:
    result = check_qualification(CM.CM_II, CaseManagerQualifications(**CERTIFIED, rn_license=True), on=ON)
    assert result.missing == (
        "A Case Manager II needs behavioral health care experience for a registered nurse.",
    )


@pytest.mark.parametrize(
    ("credits", "months", "training", "qualified"),
    [(60, 0, 14, True), (59, 0, 14, False), (0, 36, 14, True), (0, 35, 14, False), (60, 0, 13.5, False)],
)
def test_tcm11_cm_i_credits_or_experience_and_14_hours(
    credits: int, months: int, training: float, qualified: bool
) -> None:
    q = CaseManagerQualifications(
        **CERTIFIED,
        high_school_diploma=True,
        college_credit_hours=credits,
        mental_illness_experience_months=months,
        cm_training_hours=training,
    )
    assert check_qualification(CM.CM_I, q, on=ON).qualified is qualified


def test_tcm11_cm_i_without_diploma_names_it() -> None:
    q = CaseManagerQualifications(**CERTIFIED, college_credit_hours=60, cm_training_hours=14)
    assert check_qualification(CM.CM_I, q, on=ON).missing == (
        "A Case Manager I needs a high school diploma.",
    )


def test_tcm11_intensive_needs_24_months_crisis_diversion_and_6_hours() -> None:
    base = {
        **CERTIFIED,
        "bh_degree": True,
        "crisis_diversion_experience": True,
        "intensive_training_hours": 6,
    }
    assert check_qualification(
        CM.INTENSIVE, CaseManagerQualifications(**base, cm_experience_months=24), on=ON
    ).qualified
    short = check_qualification(
        CM.INTENSIVE, CaseManagerQualifications(**base, cm_experience_months=23), on=ON
    )
    assert short.missing == (
        "An intensive case manager needs 24 months of behavioral health case management experience "
        "(on file: 23).",
    )
    no_base = check_qualification(
        CM.INTENSIVE,
        CaseManagerQualifications(**CERTIFIED, cm_experience_months=30, intensive_training_hours=5),
        on=ON,
    )
    assert any("CM II qualification" in m for m in no_base.missing)
    assert any("crisis diversion experience" in m for m in no_base.missing)
    assert any("6-hour intensive case management training" in m for m in no_base.missing)


def _wrap(**overrides: object) -> CaseManagerQualifications:
    values: dict[str, object] = {
        **CERTIFIED,
        "bh_degree": True,
        "employment_start": date(2025, 9, 1),
        "wraparound_training_on": date(2026, 2, 1),
        "ongoing_coaching": True,
        "credentialing_started_on": date(2025, 9, 1),
        "credentialed_on": date(2026, 5, 1),
        "weekly_qmhp_consultation_hours": 1,
    }
    values.update(overrides)
    return CaseManagerQualifications(**values)  # type: ignore[arg-type]


def test_tcm11_wraparound_complete() -> None:
    assert check_qualification(CM.WRAPAROUND, _wrap(), on=date(2026, 6, 1)).qualified


def test_tcm11_wraparound_training_6_months_boundary() -> None:
    on_time = check_qualification(CM.WRAPAROUND, _wrap(wraparound_training_on=date(2026, 3, 1)), on=ON)
    late = check_qualification(CM.WRAPAROUND, _wrap(wraparound_training_on=date(2026, 3, 2)), on=ON)
    assert on_time.qualified
    assert not late.qualified and "within 6 months of employment (due 2026-03-01" in late.missing[0]


def test_tcm11_wraparound_training_pending_inside_window_then_missing() -> None:
    inside = check_qualification(CM.WRAPAROUND, _wrap(wraparound_training_on=None), on=date(2026, 3, 1))
    after = check_qualification(CM.WRAPAROUND, _wrap(wraparound_training_on=None), on=date(2026, 3, 2))
    assert inside.qualified and inside.pending == ("wraparound facilitation training due by 2026-03-01",)
    assert not after.qualified


def test_tcm11_wraparound_credentialing_9_months_and_weekly_qmhp() -> None:
    late = check_qualification(CM.WRAPAROUND, _wrap(credentialed_on=date(2026, 6, 2)), on=date(2026, 7, 1))
    assert any("credentialing within 9 months" in m for m in late.missing)
    no_consult = check_qualification(
        CM.WRAPAROUND, _wrap(weekly_qmhp_consultation_hours=0.5), on=date(2026, 6, 1)
    )
    assert no_consult.missing == (
        "A wraparound facilitator needs 1 hour(s) of weekly clinical consultation with a qualified mental "
        "health professional (on file: 0.5).",
    )


@pytest.mark.parametrize(
    ("classification", "at_limit"),
    [(CM.WRAPAROUND, 812), (CM.INTENSIVE, 812), (CM.CM_II, 1141), (CM.CM_I, 1141)],
)
def test_tcm11_annual_hours_per_provider_boundary(
    classification: CaseManagerClassification, at_limit: int
) -> None:
    assert check_annual_hours(classification, at_limit).within
    over = check_annual_hours(classification, at_limit + 1)
    assert not over.within and over.remaining == -1 and over.annual_hours == at_limit


def test_tcm11_annual_hours_refuses_negative() -> None:
    with pytest.raises(InputError) as err:
        check_annual_hours(CM.CM_I, -1)
    assert err.value.field == "hours_worked"


# --- TCM-06 caseloads ----------------------------------------------------------------------------


def test_tcm06_15th_intensive_member_accepted_16th_refused() -> None:
    fifteenth = assess_assignment(CaseloadType.INTENSIVE, 14)
    sixteenth = assess_assignment(CaseloadType.INTENSIVE, 15)
    assert (
        fifteenth.accepted and fifteenth.count_after == 15 and fifteenth.status_after is CaseloadStatus.WITHIN
    )
    assert not sixteenth.accepted and sixteenth.rule_id == "TCM-06"
    assert "maximum of 15" in sixteenth.reason


def test_tcm06_16th_intensive_member_accepted_on_supervisor_override_with_reason() -> None:
    decision = assess_assignment(
        CaseloadType.INTENSIVE, 15, override=SupervisorOverride("sup-1", "member's case manager on leave")
    )
    assert decision.accepted and decision.overridden and decision.status_after is CaseloadStatus.OVER_MAXIMUM
    assert "member's case manager on leave" in decision.reason


@pytest.mark.parametrize("reason", ["", "   "])
def test_tcm06_override_without_reason_is_refused(reason: str) -> None:
    with pytest.raises(InputError) as err:
        SupervisorOverride("sup-1", reason)
    assert err.value.field == "reason"


@pytest.mark.parametrize(
    ("kind", "current", "accepted"),
    [
        (CaseloadType.STANDARD, 34, True),
        (CaseloadType.STANDARD, 35, False),
        (CaseloadType.WRAPAROUND, 9, True),
        (CaseloadType.WRAPAROUND, 10, False),
    ],
)
def test_tcm06_upper_limits(kind: CaseloadType, current: int, accepted: bool) -> None:
    assert assess_assignment(kind, current).accepted is accepted


def test_tcm06_wraparound_sibling_of_a_family_on_the_caseload_adds_nothing() -> None:
    assert assess_assignment(CaseloadType.WRAPAROUND, 10, adds=0).accepted


def test_tcm06_under_minimum_signal() -> None:
    assert assess_assignment(CaseloadType.INTENSIVE, 8).under_minimum  # 9 < 10
    assert not assess_assignment(CaseloadType.INTENSIVE, 9).under_minimum  # 10
    assert caseload_status(CaseloadType.STANDARD, 29) is CaseloadStatus.UNDER_MINIMUM
    assert caseload_status(CaseloadType.STANDARD, 30) is CaseloadStatus.WITHIN
    assert caseload_status(CaseloadType.STANDARD, 36) is CaseloadStatus.OVER_MAXIMUM


def test_tcm06_limits_are_parameters() -> None:
    limits = {CaseloadType.INTENSIVE: CaseloadLimits(5, 12)}
    assert not assess_assignment(CaseloadType.INTENSIVE, 12, limits=limits).accepted
    with pytest.raises(InputError):
        CaseloadLimits(10, 5)


def test_tcm06_wraparound_counts_families() -> None:
    members = [("m1", "f1"), ("m2", "f1"), ("m3", None), ("m4", "f2")]
    assert caseload_count(CaseloadType.WRAPAROUND, members) == 3
    assert caseload_count(CaseloadType.STANDARD, members) == 4


# --- TCM-09 progress notes -----------------------------------------------------------------------


def _note(**overrides: object) -> ProgressNote:
    values: dict[str, object] = {
        "note_id": "n1",
        "session_date": ON,
        "persons_served": ("member",),
        "start_time": time(10, 0),
        "stop_time": time(10, 45),
        "signature": SignatureKind.ORIGINAL,
        "signed_on": ON,
        "provider_credentials": "CM II",
        "plan_needs_addressed": "housing goal 1",
        "activities": (ActivityCode.FACE_TO_FACE_MEMBER,),
        "progress_or_barriers": "lease signed",
        "member_response": "engaged",
        "new_needs_identified": "none",
        "member_satisfaction": "satisfied",
    }
    values.update(overrides)
    return ProgressNote(**values)  # type: ignore[arg-type]


def test_tcm09_complete_note_passes() -> None:
    result = validate_progress_note(_note())
    assert result.complete and result.missing == () and result.rule_id == "TCM-09"


def test_tcm09_each_missing_element_is_named() -> None:
    result = validate_progress_note(_note(member_satisfaction=" ", persons_served=(), start_time=None))
    assert result.missing == (
        NoteElement.PERSONS_SERVED,
        NoteElement.START_STOP_TIMES,
        NoteElement.MEMBER_SATISFACTION,
    )
    assert "The note is missing the member's satisfaction with the intervention (member_satisfaction)." in (
        result.problems
    )


def test_tcm09_empty_note_misses_all_11() -> None:
    result = validate_progress_note(ProgressNote("empty"))
    assert len(result.missing) == 11 and set(result.missing) == set(NoteElement)


def test_tcm09_stop_before_start_is_a_problem() -> None:
    result = validate_progress_note(_note(start_time=time(11, 0), stop_time=time(10, 0)))
    assert not result.complete and result.missing == ()


def test_tcm09_faxed_signature_original_due_in_30_days() -> None:
    assert original_signature_due(date(2026, 3, 1)) == date(2026, 3, 31)
    faxed = _note(signature=SignatureKind.FAXED, signed_on=date(2026, 3, 1))
    assert validate_progress_note(faxed).original_signature_due == date(2026, 3, 31)
    on_time = _note(
        signature=SignatureKind.FAXED, signed_on=date(2026, 3, 1), original_signature_on=date(2026, 3, 31)
    )
    late = _note(
        signature=SignatureKind.FAXED, signed_on=date(2026, 3, 1), original_signature_on=date(2026, 4, 1)
    )
    assert validate_progress_note(on_time).complete
    assert not validate_progress_note(late).complete


def test_tcm09_note_flags_non_reimbursable_activities() -> None:
    result = validate_progress_note(
        _note(activities=(ActivityCode.FACE_TO_FACE_MEMBER, ActivityCode.SHOPPING_BILLS))
    )
    assert result.non_reimbursable_activities == (ActivityCode.SHOPPING_BILLS,)


# --- TCM-10 service plans ------------------------------------------------------------------------


def _plan(**overrides: object) -> ServicePlan:
    values: dict[str, object] = {
        "plan_id": "p1",
        "goals": (PlanGoal("stable housing", ("apply for housing voucher",)),),
        "member_participated": True,
        "member_signed_on": ON,
        "case_manager_signed_on": ON,
        "licensed_professional_signed_on": ON,
    }
    values.update(overrides)
    return ServicePlan(**values)  # type: ignore[arg-type]


def test_tcm10_complete_plan_is_compensable() -> None:
    result = validate_service_plan(_plan())
    assert result.complete and result.development_compensable


def test_tcm10_each_of_three_signatures_is_required() -> None:
    for name in ("member_signed_on", "case_manager_signed_on", "licensed_professional_signed_on"):
        result = validate_service_plan(_plan(**{name: None}))
        assert not result.development_compensable
        assert len(result.missing) == 1 and name in result.missing[0]


def test_tcm10_no_member_participation_not_compensable() -> None:
    result = validate_service_plan(_plan(member_participated=False))
    assert not result.development_compensable and "member_participated" in result.missing[0]


def test_tcm10_goal_needs_objectives() -> None:
    result = validate_service_plan(_plan(goals=(PlanGoal("stable housing", ()),)))
    assert result.missing == ("Goal 1 has no objectives (goals[1].objectives).",)
    assert validate_service_plan(_plan(goals=())).missing == ("The plan has no recovery goals (goals).",)


# --- TCM-03/04 activities and residence ----------------------------------------------------------


@pytest.mark.parametrize("code", ["plan_monitoring", "crisis_diversion", "transition_from_institution"])
def test_tcm03_reimbursable(code: str) -> None:
    check = activity_check(activity_from_code(code))
    assert check.reimbursable and check.rule_id == "TCM-03"


@pytest.mark.parametrize(
    "code",
    [
        "transport_escort",
        "financial_monitoring",
        "shopping_bills",
        "delivering_tickets_money",
        "psychotherapy",
        "forms_without_member",
        "medicaid_forms",
        "paperwork_preparation",
    ],
)
def test_tcm04_non_reimbursable(code: str) -> None:
    check = activity_check(activity_from_code(code))
    assert not check.reimbursable and check.rule_id == "TCM-04"


def test_tcm04_pack_activity_codes_map_to_the_same_activities() -> None:
    assert activity_from_code(Code("bhum:tcm-activity", "escort-transport")) is ActivityCode.TRANSPORT_ESCORT
    assert activity_from_code(Code("bhum:tcm-activity", "crisis-diversion")) is ActivityCode.CRISIS_DIVERSION


def test_tcm04_unknown_activity_refused_naming_field() -> None:
    with pytest.raises(InputError) as err:
        activity_from_code("windshield_time", record=7, source="claims.csv")
    assert err.value.field == "activity_code" and err.value.record == 7 and err.value.source == "claims.csv"


@pytest.mark.parametrize(
    ("setting", "compensable"),
    [
        (ResidenceSetting.HOME, True),
        (ResidenceSetting.NURSING_FACILITY, False),
        (ResidenceSetting.RESIDENTIAL_BEHAVIOR_MANAGEMENT, False),
        (ResidenceSetting.GROUP_HOME, False),
        (ResidenceSetting.FOSTER_HOME, False),
        (ResidenceSetting.ICF_IID, False),
    ],
)
def test_tcm04_excluded_residence_settings(setting: ResidenceSetting, compensable: bool) -> None:
    assert residence_check(setting).compensable is compensable


# --- TCM-08 / TCM-07 cadence ---------------------------------------------------------------------


def test_tcm08_no_contact_this_month_due_end_of_month() -> None:
    due = community_contact_due([date(2026, 2, 20)], on=date(2026, 3, 10))
    assert not due.met and due.due_on == date(2026, 3, 31) and due.rule_id == "TCM-08"


def test_tcm08_contact_this_month_next_due_end_of_next_month() -> None:
    due = community_contact_due([date(2026, 3, 2)], on=date(2026, 3, 10))
    assert due.met and due.due_on == date(2026, 4, 30)


def test_tcm08_february_and_december_month_ends() -> None:
    assert community_contact_due([date(2026, 1, 31)], on=date(2026, 1, 31)).due_on == date(2026, 2, 28)
    assert community_contact_due([date(2026, 12, 1)], on=date(2026, 12, 5)).due_on == date(2027, 1, 31)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)


def test_tcm07_missed_friday_before_monday_federal_holiday_due_wednesday() -> None:
    # Friday 2026-01-16; Monday 2026-01-19 is Martin Luther King Jr. Day: Tue = 1, Wed = 2.
    holidays = us_federal_holidays_for_span(date(2026, 1, 1), date(2026, 12, 31))
    missed = datetime(2026, 1, 16, 15, 0, tzinfo=CHICAGO)
    deadline = outreach_deadline(missed, tz=CHICAGO, holidays=holidays)
    assert deadline.rule_id == "TCM-07"
    assert deadline.due.date() == date(2026, 1, 21)
    assert deadline.due.time() == time(23, 59, 59, 999999)


def test_tcm07_overdue_outreach_escalates_once() -> None:
    due = datetime(2026, 1, 21, 23, 59, tzinfo=UTC)
    task = Task("t1", TaskKind.OUTREACH, due_at=due, created_at=datetime(2026, 1, 16, tzinfo=UTC))
    assert not needs_escalation(task, due)
    assert needs_escalation(task, datetime(2026, 1, 22, tzinfo=UTC))
    task.escalate("sup-1")
    assert not needs_escalation(task, datetime(2026, 1, 22, tzinfo=UTC))


# --- TCM-05 transitions --------------------------------------------------------------------------

ADULT = date(1990, 1, 1)


def test_tcm05_180_day_stay_uses_last_60_days() -> None:
    stay = InstitutionalStay(
        ResidenceSetting.INPATIENT_PSYCHIATRIC, date(2025, 9, 1), discharged_on=date(2026, 2, 28)
    )
    assert stay.stay_days == 180
    window = transition_window(stay, birth_date=ADULT)
    assert window.eligible and window.billable_from == date(2025, 12, 30)  # 60 days before discharge
    assert window.billable_through == date(2026, 2, 27)
    assert window.covers(date(2025, 12, 30)) and not window.covers(date(2025, 12, 29))


def test_tcm05_179_day_stay_uses_last_14_days() -> None:
    stay = InstitutionalStay(
        ResidenceSetting.INPATIENT_PSYCHIATRIC, date(2025, 9, 2), discharged_on=date(2026, 2, 28)
    )
    assert stay.stay_days == 179
    window = transition_window(stay, birth_date=ADULT)
    assert window.eligible and window.billable_from == date(2026, 2, 14)


def test_tcm05_short_stay_window_never_before_admission() -> None:
    stay = InstitutionalStay(
        ResidenceSetting.INPATIENT_PSYCHIATRIC, date(2026, 3, 1), expected_discharge_on=date(2026, 3, 8)
    )
    window = transition_window(stay, birth_date=ADULT)
    assert window.billable_from == date(2026, 3, 1) and window.billable_through == date(2026, 3, 7)


def _imd(birth: date) -> InstitutionalStay:
    del birth
    return InstitutionalStay(ResidenceSetting.IMD, date(2026, 2, 1), expected_discharge_on=date(2026, 3, 1))


@pytest.mark.parametrize(
    ("birth", "eligible"),
    [
        (date(2005, 2, 1), True),  # 21 throughout the window (turns 22 only in 2027)
        (date(2004, 1, 1), False),  # 22
        (date(1961, 6, 1), False),  # 64
        (date(1961, 1, 1), True),  # 65
    ],
)
def test_tcm05_imd_age_boundaries_21_22_64_65(birth: date, eligible: bool) -> None:
    window = transition_window(_imd(birth), birth_date=birth)
    assert window.eligible is eligible


def test_tcm05_imd_member_turning_65_in_the_window_billable_from_birthday() -> None:
    birth = date(1961, 2, 20)  # 65 on 2026-02-20; window 2026-02-15 .. 2026-02-28
    window = transition_window(_imd(birth), birth_date=birth)
    assert window.eligible and window.billable_from == date(2026, 2, 20)


def test_tcm05_imd_member_turning_22_in_the_window_billable_until_day_before() -> None:
    birth = date(2004, 2, 20)  # 22 on 2026-02-20
    window = transition_window(_imd(birth), birth_date=birth)
    assert window.eligible and window.billable_from == date(2026, 2, 15)
    assert window.billable_through == date(2026, 2, 19)


def test_tcm05_inmate_of_public_institution_never() -> None:
    stay = InstitutionalStay(
        ResidenceSetting.PUBLIC_INSTITUTION, date(2026, 1, 1), expected_discharge_on=date(2026, 3, 1)
    )
    window = transition_window(stay, birth_date=ADULT)
    assert not window.eligible and "inmates" in window.reason


def test_tcm05_no_discharge_date_cannot_be_decided() -> None:
    stay = InstitutionalStay(ResidenceSetting.NURSING_FACILITY, date(2026, 1, 1))
    assert not transition_window(stay, birth_date=ADULT).eligible


def test_tcm05_discharge_before_admission_refused() -> None:
    with pytest.raises(InputError) as err:
        InstitutionalStay(ResidenceSetting.IMD, date(2026, 3, 1), discharged_on=date(2026, 2, 1))
    assert err.value.field == "discharged_on"


# --- TCM-12 refusal ------------------------------------------------------------------------------


def test_tcm12_refusal_never_restricts_another_service() -> None:
    refusal = CaseManagementRefusal("m1", date(2026, 3, 1), "cm-1")
    psychotherapy = Code(CPT, "90837")
    assert refusal_restricts(psychotherapy, [refusal], date(2026, 3, 10)) is False
    assert refusal_restricts(Code(HCPCS, "H0015"), [refusal], date(2026, 3, 10)) is False
    assert refusal_restricts(T1017, [refusal], date(2026, 3, 10)) is True
    assert refusal_restricts(T1017, [refusal], date(2026, 2, 28)) is False


def test_tcm12_withdrawn_refusal_no_longer_applies() -> None:
    refusal = CaseManagementRefusal("m1", date(2026, 3, 1), "cm-1", withdrawn_on=date(2026, 3, 5))
    assert refusal_restricts(T1017, [refusal], date(2026, 3, 4))
    assert not refusal_restricts(T1017, [refusal], date(2026, 3, 5))
