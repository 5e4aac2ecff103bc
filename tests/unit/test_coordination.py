"""Coordination-of-care triggers (COC-01, COC-02)."""

from __future__ import annotations

from datetime import date

import pytest

from bhum.domain.coordination import (
    ECT,
    ConditionChange,
    CoordinationParameters,
    CoordinationTrigger,
    InitialAssessment,
    MedicationChange,
    NewMemberReport,
    PcpReferral,
    PlannedTreatment,
    PsychotropicRegimen,
    classify_diagnosis,
    coordination_tasks,
    medication_change_reason,
)
from bhum.domain.errors import InputError
from bhum.domain.values import CPT, ICD10CM, RXNORM, Code

ON = date(2026, 3, 10)
PCP = "1234567893"
SERTRALINE = Code(RXNORM, "36437", "sertraline")
FLUOXETINE = Code(RXNORM, "4493", "fluoxetine")
ARIPIPRAZOLE = Code(RXNORM, "89013", "aripiprazole")


def _rx(drug: Code = SERTRALINE, cls: str = "ssri", dose: float | None = 100) -> PsychotropicRegimen:
    return PsychotropicRegimen(drug, cls, dose)


def _dx(code: str) -> Code:
    return Code(ICD10CM, code)


def test_coc02_psychotropic_started() -> None:
    found = medication_change_reason(MedicationChange("m1", ON, None, _rx()))
    assert found is not None and found[0] is CoordinationTrigger.PSYCHOTROPIC_STARTED


@pytest.mark.parametrize(("after", "significant"), [(125, True), (124, False), (75, True), (76, False)])
def test_coc02_dose_change_threshold_25_percent(after: float, significant: bool) -> None:
    change = MedicationChange("m1", ON, _rx(dose=100), _rx(dose=after))
    assert (medication_change_reason(change) is not None) is significant


def test_coc02_dose_threshold_is_a_parameter() -> None:
    change = MedicationChange("m1", ON, _rx(dose=100), _rx(dose=140))
    assert medication_change_reason(change, CoordinationParameters(dose_change_pct=50)) is None


def test_coc02_new_class_and_switch_are_significant() -> None:
    new_class = medication_change_reason(
        MedicationChange("m1", ON, _rx(), _rx(ARIPIPRAZOLE, "antipsychotic"))
    )
    switch = medication_change_reason(MedicationChange("m1", ON, _rx(), _rx(FLUOXETINE)))
    assert new_class is not None and "new therapeutic class" in new_class[1]
    assert switch is not None and "switched" in switch[1]
    no_switch = CoordinationParameters(switch_is_significant=False)
    assert medication_change_reason(MedicationChange("m1", ON, _rx(), _rx(FLUOXETINE)), no_switch) is None


def test_coc02_stopping_is_a_change() -> None:
    found = medication_change_reason(MedicationChange("m1", ON, _rx(), None))
    assert found is not None and found[0] is CoordinationTrigger.PSYCHOTROPIC_CHANGED


def test_medication_change_needs_a_regimen() -> None:
    with pytest.raises(InputError):
        MedicationChange("m1", ON, None, None)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("F43.21", None),  # adjustment disorder is not a major mental illness
        ("F43.20", None),
        ("F43.10", "major_mental_illness"),  # PTSD
        ("F32.1", "major_mental_illness"),
        ("F20.9", "major_mental_illness"),
        ("F10.20", "sud"),
        ("F19.10", "sud"),
        ("E11.9", "medical"),
        ("Z59.00", None),
    ],
)
def test_coc02_diagnosis_classes(code: str, kind: str | None) -> None:
    assert classify_diagnosis(_dx(code)) == kind


def test_diagnosis_must_be_icd10cm() -> None:
    with pytest.raises(InputError) as err:
        classify_diagnosis(Code(CPT, "90870"))
    assert err.value.field == "diagnoses"


def test_coc02_new_member_with_adjustment_disorder_only_no_task() -> None:
    assert coordination_tasks([NewMemberReport("m1", ON, (_dx("F43.21"),))], pcp_npi=PCP) == ()


def test_coc02_new_member_with_sud_and_diabetes() -> None:
    (spec,) = coordination_tasks(
        [NewMemberReport("m1", ON, (_dx("F43.21"), _dx("F10.20"), _dx("E11.9")))], pcp_npi=PCP
    )
    assert spec.trigger is CoordinationTrigger.NEW_MEMBER_CONCURRENT_CONDITION and spec.rule_id == "COC-02"
    assert spec.notify_pcp and spec.pcp_npi == PCP
    assert {c.code for c in spec.evidence} == {"F10.20", "E11.9"}
    assert spec.due_on == date(2026, 3, 24)


def test_coc01_medical_condition_at_initial_assessment() -> None:
    (spec,) = coordination_tasks([InitialAssessment("m1", ON, (_dx("I10"),))], pcp_npi=PCP)
    assert spec.trigger is CoordinationTrigger.MEDICAL_CONDITION_AT_ASSESSMENT and spec.rule_id == "COC-01"
    assert coordination_tasks([InitialAssessment("m1", ON, ())], pcp_npi=PCP) == ()


def test_coc02_ect_needs_medical_evaluation_other_procedure_does_not() -> None:
    (spec,) = coordination_tasks([PlannedTreatment("m1", ON, ECT)], pcp_npi=PCP)
    assert spec.trigger is CoordinationTrigger.MEDICAL_EVALUATION_NEEDED and spec.evidence == (ECT,)
    assert coordination_tasks([PlannedTreatment("m1", ON, Code(CPT, "90837"))], pcp_npi=PCP) == ()


def test_coc02_condition_change_for_established_member() -> None:
    (spec,) = coordination_tasks([ConditionChange("m1", ON, worsened=True)], pcp_npi=PCP)
    assert spec.trigger is CoordinationTrigger.CONDITION_CHANGED
    assert coordination_tasks([ConditionChange("m1", ON)], pcp_npi=PCP) == ()


def test_coc02_pcp_referral_answers_the_referring_provider_without_pcp_on_file() -> None:
    (spec,) = coordination_tasks([PcpReferral("m1", ON, "1999999992")], pcp_npi=None)
    assert spec.trigger is CoordinationTrigger.PCP_REFERRAL and spec.pcp_npi == "1999999992"


def test_coc02_no_pcp_on_file_still_asks_for_notification() -> None:
    (spec,) = coordination_tasks([MedicationChange("m1", ON, None, _rx())], pcp_npi=None)
    assert spec.notify_pcp and spec.pcp_npi is None


def test_coc02_minor_dose_change_creates_no_task() -> None:
    assert coordination_tasks([MedicationChange("m1", ON, _rx(dose=100), _rx(dose=110))], pcp_npi=PCP) == ()
