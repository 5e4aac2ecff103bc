"""Clinical information values (IOP-01, IOP-04/05, IOP-10, MN-02)."""

from __future__ import annotations

from datetime import date

import pytest

from bhum.domain.clinical import (
    AsamDimension,
    AsamRisk,
    ClinicalInformation,
    CrossCuttingDomain,
    RiskAssessment,
    RiskLevel,
    SeverityLevel,
)
from bhum.domain.errors import InputError
from bhum.domain.values import CPT, ICD10CM, Code


def test_diagnoses_must_be_icd10cm() -> None:
    with pytest.raises(InputError) as caught:
        ClinicalInformation(diagnoses=(Code(CPT, "90837"),))
    assert caught.value.field == "diagnoses"


@pytest.mark.parametrize(
    ("code", "sud"), [("F09", False), ("F10.20", True), ("F19.10", True), ("F20.9", False)]
)
def test_substance_use_diagnoses_are_f10_to_f19(code: str, sud: bool) -> None:
    assert ClinicalInformation(diagnoses=(Code(ICD10CM, code),)).has_substance_use_diagnosis is sud


@pytest.mark.parametrize(("level", "ok"), [(0, False), (1, True), (6, True), (7, False)])
def test_locus_level_bounds(level: int, ok: bool) -> None:
    if ok:
        assert ClinicalInformation(diagnoses=(), locus_level=level).locus_level == level
    else:
        with pytest.raises(InputError):
            ClinicalInformation(diagnoses=(), locus_level=level)


@pytest.mark.parametrize(("days", "ok"), [(-1, False), (0, True), (7, True), (8, False)])
def test_planned_days_per_week_bounds(days: int, ok: bool) -> None:
    if ok:
        assert ClinicalInformation(diagnoses=(), planned_days_per_week=days).planned_days_per_week == days
    else:
        with pytest.raises(InputError):
            ClinicalInformation(diagnoses=(), planned_days_per_week=days)


def test_each_asam_dimension_is_rated_once_and_can_be_read_back() -> None:
    info = ClinicalInformation(
        diagnoses=(),
        asam=((AsamDimension.BIOMEDICAL, AsamRisk.LOW), (AsamDimension.RECOVERY_ENVIRONMENT, AsamRisk.HIGH)),
        cross_cutting=((CrossCuttingDomain.ANXIETY, SeverityLevel.MODERATE),),
    )
    assert info.asam_risk(AsamDimension.RECOVERY_ENVIRONMENT) is AsamRisk.HIGH
    assert info.asam_risk(AsamDimension.READINESS_TO_CHANGE) is None
    assert info.severity(CrossCuttingDomain.ANXIETY) is SeverityLevel.MODERATE
    with pytest.raises(InputError):
        ClinicalInformation(
            diagnoses=(),
            asam=((AsamDimension.BIOMEDICAL, AsamRisk.LOW), (AsamDimension.BIOMEDICAL, AsamRisk.HIGH)),
        )


def test_iop10_latest_risk_assessment_and_highest_risk() -> None:
    early = RiskAssessment(date(2026, 3, 1), RiskLevel.LOW)
    late = RiskAssessment(date(2026, 3, 8), RiskLevel.LOW, homicide_risk=RiskLevel.HIGH)
    info = ClinicalInformation(diagnoses=(), risk_assessments=(late, early))
    assert info.latest_risk_assessment() == late
    assert late.highest is RiskLevel.HIGH
    assert ClinicalInformation(diagnoses=()).latest_risk_assessment() is None
