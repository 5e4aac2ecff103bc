"""Translations between domain values and JSON-able documents (the request's clinical information)."""

from __future__ import annotations

from datetime import date
from typing import Any

from bhum.domain.clinical import (
    AsamDimension,
    AsamRisk,
    ClinicalInformation,
    CrossCuttingDomain,
    Goal,
    PriorTreatment,
    RiskAssessment,
    RiskLevel,
    SeverityLevel,
    TreatmentResponse,
)
from bhum.domain.values import Code


def code_to_doc(code: Code) -> dict[str, str | None]:
    return {"system": code.system, "code": code.code, "display": code.display}


def code_from_doc(doc: dict[str, Any]) -> Code:
    return Code(doc["system"], doc["code"], doc.get("display"))


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def clinical_to_doc(info: ClinicalInformation) -> dict[str, Any]:
    """Everything except the diagnoses, which live in request_codes as (system, code, display)."""
    return {
        "cross_cutting": {domain.value: int(level) for domain, level in info.cross_cutting},
        "asam": {str(int(dimension)): int(risk) for dimension, risk in info.asam},
        "locus_level": info.locus_level,
        "functioning": info.functioning,
        "risk_assessments": [
            {
                "assessed_on": r.assessed_on.isoformat(),
                "suicide_risk": r.suicide_risk.value,
                "homicide_risk": r.homicide_risk.value,
                "self_care_risk": r.self_care_risk.value,
                "assessed_by_staff_id": r.assessed_by_staff_id,
            }
            for r in info.risk_assessments
        ],
        "prior_treatment": [
            {
                "level_of_care": p.level_of_care,
                "start": p.start.isoformat(),
                "end": _iso(p.end),
                "response": p.response.value,
            }
            for p in info.prior_treatment
        ],
        "goals": [
            {
                "description": g.description,
                "interventions": list(g.interventions),
                "addresses": list(g.addresses),
            }
            for g in info.goals
        ],
        "physical_exam_date": _iso(info.physical_exam_date),
        "planned_hours_per_week": info.planned_hours_per_week,
        "planned_days_per_week": info.planned_days_per_week,
    }


def clinical_from_doc(doc: dict[str, Any], diagnoses: tuple[Code, ...]) -> ClinicalInformation:
    return ClinicalInformation(
        diagnoses=diagnoses,
        cross_cutting=tuple(
            (CrossCuttingDomain(k), SeverityLevel(v)) for k, v in doc.get("cross_cutting", {}).items()
        ),
        asam=tuple((AsamDimension(int(k)), AsamRisk(v)) for k, v in doc.get("asam", {}).items()),
        locus_level=doc.get("locus_level"),
        functioning=doc.get("functioning", ""),
        risk_assessments=tuple(
            RiskAssessment(
                assessed_on=date.fromisoformat(r["assessed_on"]),
                suicide_risk=RiskLevel(r["suicide_risk"]),
                homicide_risk=RiskLevel(r["homicide_risk"]),
                self_care_risk=RiskLevel(r["self_care_risk"]),
                assessed_by_staff_id=r.get("assessed_by_staff_id"),
            )
            for r in doc.get("risk_assessments", [])
        ),
        prior_treatment=tuple(
            PriorTreatment(
                level_of_care=p["level_of_care"],
                start=date.fromisoformat(p["start"]),
                end=_day(p.get("end")),
                response=TreatmentResponse(p["response"]),
            )
            for p in doc.get("prior_treatment", [])
        ),
        goals=tuple(
            Goal(g["description"], tuple(g["interventions"]), tuple(g.get("addresses", ())))
            for g in doc.get("goals", [])
        ),
        physical_exam_date=_day(doc.get("physical_exam_date")),
        planned_hours_per_week=doc.get("planned_hours_per_week"),
        planned_days_per_week=doc.get("planned_days_per_week"),
    )
