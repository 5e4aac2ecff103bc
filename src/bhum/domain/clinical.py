"""The clinical information sent with a service request, as structured values.

MN-02: diagnosis alone never justifies a level of care, so the request carries current functioning
and symptom severity (DSM-5 cross-cutting measure levels for mental health, the six ASAM dimensions
for substance use — IOP-01), risk, prior treatment and its response, and goals with interventions
that match the deficits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import IntEnum, StrEnum

from bhum.domain.errors import InputError
from bhum.domain.values import ICD10CM, Code


class CrossCuttingDomain(StrEnum):
    """Domains of the DSM-5 Level 1 Cross-Cutting Symptom Measure (adult)."""

    DEPRESSION = "depression"
    ANGER = "anger"
    MANIA = "mania"
    ANXIETY = "anxiety"
    SOMATIC_SYMPTOMS = "somatic_symptoms"
    SUICIDAL_IDEATION = "suicidal_ideation"
    PSYCHOSIS = "psychosis"
    SLEEP_PROBLEMS = "sleep_problems"
    MEMORY = "memory"
    REPETITIVE_THOUGHTS = "repetitive_thoughts"
    DISSOCIATION = "dissociation"
    PERSONALITY_FUNCTIONING = "personality_functioning"
    SUBSTANCE_USE = "substance_use"


class SeverityLevel(IntEnum):
    """Cross-cutting measure item rating: 0 none … 4 severe."""

    NONE = 0
    SLIGHT = 1
    MILD = 2
    MODERATE = 3
    SEVERE = 4


class AsamDimension(IntEnum):
    ACUTE_INTOXICATION_WITHDRAWAL = 1
    BIOMEDICAL = 2
    EMOTIONAL_BEHAVIORAL_COGNITIVE = 3
    READINESS_TO_CHANGE = 4
    RELAPSE_CONTINUED_USE_POTENTIAL = 5
    RECOVERY_ENVIRONMENT = 6


class AsamRisk(IntEnum):
    """Risk rating of one ASAM dimension: 0 none … 4 very high."""

    NONE = 0
    LOW = 1
    MODERATE = 2
    HIGH = 3
    VERY_HIGH = 4


class RiskLevel(StrEnum):
    NONE = "none"
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    IMMINENT = "imminent"


class TreatmentResponse(StrEnum):
    IMPROVED = "improved"
    PLATEAU = "plateau"  # MN-03: documented plateau -> maintenance or step-down
    NO_PROGRESS = "no_progress"  # MN-03: change the treatment plan
    WORSENED = "worsened"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    """IOP-10: at least weekly, by a licensed, qualified clinician."""

    assessed_on: date
    suicide_risk: RiskLevel
    homicide_risk: RiskLevel = RiskLevel.NONE
    self_care_risk: RiskLevel = RiskLevel.NONE
    assessed_by_staff_id: str | None = None

    @property
    def highest(self) -> RiskLevel:
        order = list(RiskLevel)
        return max((self.suicide_risk, self.homicide_risk, self.self_care_risk), key=order.index)


@dataclass(frozen=True, slots=True)
class PriorTreatment:
    level_of_care: str  # e.g. "inpatient", "residential", "partial_hospitalization", "iop", "outpatient"
    start: date
    end: date | None
    response: TreatmentResponse


@dataclass(frozen=True, slots=True)
class Goal:
    """A treatment goal and the interventions that address it (MN-02: they must match the deficits)."""

    description: str
    interventions: tuple[str, ...]
    addresses: tuple[str, ...] = ()  # deficits or diagnoses addressed, e.g. ("substance_use",)


@dataclass(frozen=True, slots=True)
class ClinicalInformation:
    diagnoses: tuple[Code, ...]
    cross_cutting: tuple[tuple[CrossCuttingDomain, SeverityLevel], ...] = ()
    asam: tuple[tuple[AsamDimension, AsamRisk], ...] = ()
    locus_level: int | None = None  # LOCUS-style level of care recommendation, 1..6
    functioning: str = ""  # narrative of current functional deficits (MN-02)
    risk_assessments: tuple[RiskAssessment, ...] = ()
    prior_treatment: tuple[PriorTreatment, ...] = ()
    goals: tuple[Goal, ...] = ()
    physical_exam_date: date | None = None  # IOP-08
    planned_hours_per_week: float | None = None  # IOP-05
    planned_days_per_week: int | None = None  # IOP-04

    def __post_init__(self) -> None:
        for diagnosis in self.diagnoses:
            if diagnosis.system != ICD10CM:
                raise InputError(f"diagnosis {diagnosis.code!r} is not an ICD-10-CM code", field="diagnoses")
        if self.locus_level is not None and not 1 <= self.locus_level <= 6:
            raise InputError("a LOCUS level is between 1 and 6", field="locus_level")
        if self.planned_days_per_week is not None and not 0 <= self.planned_days_per_week <= 7:
            raise InputError("a week has at most 7 days", field="planned_days_per_week")
        if self.planned_hours_per_week is not None and not 0 <= self.planned_hours_per_week <= 168:
            raise InputError("a week has at most 168 hours", field="planned_hours_per_week")
        if len({d for d, _ in self.asam}) != len(self.asam):
            raise InputError("each ASAM dimension is rated once", field="asam")
        if len({d for d, _ in self.cross_cutting}) != len(self.cross_cutting):
            raise InputError("each cross-cutting domain is rated once", field="cross_cutting")

    def severity(self, domain: CrossCuttingDomain) -> SeverityLevel | None:
        return dict(self.cross_cutting).get(domain)

    def asam_risk(self, dimension: AsamDimension) -> AsamRisk | None:
        return dict(self.asam).get(dimension)

    @property
    def has_substance_use_diagnosis(self) -> bool:
        """ICD-10-CM F10–F19: mental and behavioural disorders due to psychoactive substance use."""
        return any(d.code[:3] in _SUD_CATEGORIES for d in self.diagnoses)

    def latest_risk_assessment(self) -> RiskAssessment | None:
        return max(self.risk_assessments, key=lambda r: r.assessed_on) if self.risk_assessments else None


_SUD_CATEGORIES = frozenset(f"F{n}" for n in range(10, 20))
