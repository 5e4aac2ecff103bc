"""Coordination of care with the member's primary care provider (COC-01, COC-02).

Events from claims and from the case record become coordination task specifications: what
triggered them, which rule, by when, and whether the PCP must be notified. Every threshold is a
parameter (``CoordinationParameters``); the coc policy pack carries the authoritative values.
What counts as a "significant" psychotropic change is not in the source, so bhum defines it here as
parameters: a new therapeutic class, a switch of drug, or a dose change of at least
``dose_change_pct`` percent (default 25).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from bhum.domain.errors import InputError
from bhum.domain.values import CPT, ICD10CM, Code

__all__ = [
    "ECT",
    "ConditionChange",
    "CoordinationParameters",
    "CoordinationTaskSpec",
    "CoordinationTrigger",
    "Event",
    "InitialAssessment",
    "MedicationChange",
    "NewMemberReport",
    "PcpReferral",
    "PlannedTreatment",
    "PsychotropicRegimen",
    "classify_diagnosis",
    "coordination_tasks",
    "medication_change_reason",
]

ECT = Code(CPT, "90870", "Electroconvulsive therapy")


class CoordinationTrigger(StrEnum):
    MEDICAL_CONDITION_AT_ASSESSMENT = "medical_condition_at_assessment"  # COC-01
    PSYCHOTROPIC_STARTED = "psychotropic_started"  # COC-02
    PSYCHOTROPIC_CHANGED = "psychotropic_changed"  # COC-02: significantly
    NEW_MEMBER_CONCURRENT_CONDITION = "new_member_concurrent_condition"  # COC-02
    CONDITION_CHANGED = "condition_changed"  # COC-02: established member
    MEDICAL_EVALUATION_NEEDED = "medical_evaluation_needed"  # COC-02: e.g. ECT
    PCP_REFERRAL = "pcp_referral"  # COC-02

    @property
    def rule_id(self) -> str:
        return "COC-01" if self is CoordinationTrigger.MEDICAL_CONDITION_AT_ASSESSMENT else "COC-02"


@dataclass(frozen=True, slots=True)
class CoordinationParameters:
    """Thresholds for the triggers. ``due_within_days`` is a bhum default: the source sets no time."""

    dose_change_pct: float = 25.0  # a dose change of at least this percent is significant
    new_class_is_significant: bool = True
    switch_is_significant: bool = True
    # "A major mental illness (for example, a condition other than an adjustment disorder)":
    # F codes except these prefixes (dots ignored) count as major mental illness.
    not_major_mental_illness: frozenset[str] = frozenset({"F432"})
    # ICD-10-CM chapters that are not a medical condition: F (mental) handled apart, Z (factors
    # influencing health status) never.
    not_a_condition_prefixes: frozenset[str] = frozenset({"Z"})
    medical_evaluation_procedures: frozenset[Code] = field(default_factory=lambda: frozenset({ECT}))
    due_within_days: int = 14

    def __post_init__(self) -> None:
        if self.dose_change_pct <= 0:
            raise InputError("a significant dose change is a positive percentage", field="dose_change_pct")
        if self.due_within_days < 0:
            raise InputError("days cannot be negative", field="due_within_days")


# --- events --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PsychotropicRegimen:
    drug: Code  # RxNorm or NDC
    therapeutic_class: str  # e.g. "ssri", "antipsychotic_atypical" (reference NDC classes)
    daily_dose: float | None = None
    dose_unit: str = "mg"

    def __post_init__(self) -> None:
        if not self.therapeutic_class.strip():
            raise InputError("a psychotropic needs its therapeutic class", field="therapeutic_class")
        if self.daily_dose is not None and self.daily_dose < 0:
            raise InputError("a dose cannot be negative", field="daily_dose")


@dataclass(frozen=True, slots=True)
class MedicationChange:
    """A psychotropic started (``before`` None), changed, or stopped (``after`` None)."""

    member_id: str
    changed_on: date
    before: PsychotropicRegimen | None
    after: PsychotropicRegimen | None
    prescriber_npi: str | None = None

    def __post_init__(self) -> None:
        if self.before is None and self.after is None:
            raise InputError("a medication change needs a regimen before or after", field="after")


@dataclass(frozen=True, slots=True)
class NewMemberReport:
    """What a member new to the BH practitioner reports at intake."""

    member_id: str
    reported_on: date
    diagnoses: tuple[Code, ...]


@dataclass(frozen=True, slots=True)
class InitialAssessment:
    """COC-01: medical conditions discovered at the initial assessment."""

    member_id: str
    assessed_on: date
    medical_conditions: tuple[Code, ...]


@dataclass(frozen=True, slots=True)
class ConditionChange:
    """An established member's condition changed: new diagnoses, or worse severity."""

    member_id: str
    changed_on: date
    added_diagnoses: tuple[Code, ...] = ()
    worsened: bool = False


@dataclass(frozen=True, slots=True)
class PlannedTreatment:
    member_id: str
    planned_on: date
    procedure: Code


@dataclass(frozen=True, slots=True)
class PcpReferral:
    member_id: str
    referred_on: date
    referring_npi: str


Event = (
    MedicationChange | NewMemberReport | InitialAssessment | ConditionChange | PlannedTreatment | PcpReferral
)


@dataclass(frozen=True, slots=True)
class CoordinationTaskSpec:
    """A coordination task to create: what, why, by when, and the PCP to notify."""

    member_id: str
    trigger: CoordinationTrigger
    reason: str  # words safe to log: names codes and rules, never member data
    due_on: date
    notify_pcp: bool
    pcp_npi: str | None  # None: the member has no PCP on file, so finding one is part of the task
    evidence: tuple[Code, ...] = ()

    @property
    def rule_id(self) -> str:
        return self.trigger.rule_id


# --- classification ------------------------------------------------------------------------------


def _compact(code: Code) -> str:
    return code.code.replace(".", "").upper()


def classify_diagnosis(
    diagnosis: Code, params: CoordinationParameters = CoordinationParameters()
) -> str | None:
    """``"sud"``, ``"major_mental_illness"``, ``"medical"`` or None (not a coordination reason)."""
    if diagnosis.system != ICD10CM:
        raise InputError(f"diagnosis {diagnosis.code!r} is not an ICD-10-CM code", field="diagnoses")
    code = _compact(diagnosis)
    if code.startswith("F"):
        if code[:3] in {f"F{n}" for n in range(10, 20)}:
            return "sud"
        if any(code.startswith(p) for p in params.not_major_mental_illness):
            return None
        return "major_mental_illness"
    if any(code.startswith(p) for p in params.not_a_condition_prefixes):
        return None
    return "medical"


def medication_change_reason(
    change: MedicationChange, params: CoordinationParameters = CoordinationParameters()
) -> tuple[CoordinationTrigger, str] | None:
    """COC-02: is this psychotropic start or change significant? (trigger, reason) or None."""
    before, after = change.before, change.after
    if before is None and after is not None:
        return CoordinationTrigger.PSYCHOTROPIC_STARTED, f"psychotropic started ({after.therapeutic_class})"
    if before is not None and after is None:
        # Stopping is a change to the regimen the PCP must know about.
        return CoordinationTrigger.PSYCHOTROPIC_CHANGED, f"psychotropic stopped ({before.therapeutic_class})"
    if before is None or after is None:
        return None
    if params.new_class_is_significant and before.therapeutic_class != after.therapeutic_class:
        return (
            CoordinationTrigger.PSYCHOTROPIC_CHANGED,
            f"new therapeutic class ({before.therapeutic_class} → {after.therapeutic_class})",
        )
    if params.switch_is_significant and not before.drug.same_as(after.drug):
        return CoordinationTrigger.PSYCHOTROPIC_CHANGED, f"switched within {after.therapeutic_class}"
    if before.daily_dose is not None and after.daily_dose is not None and before.dose_unit == after.dose_unit:
        if before.daily_dose == 0:
            return CoordinationTrigger.PSYCHOTROPIC_CHANGED, "dose started from zero"
        pct = abs(after.daily_dose - before.daily_dose) / before.daily_dose * 100
        if pct >= params.dose_change_pct:
            return (
                CoordinationTrigger.PSYCHOTROPIC_CHANGED,
                f"dose changed {pct:.0f}% (≥ {params.dose_change_pct:g}%)",
            )
    return None


# --- triggers → task specs -----------------------------------------------------------------------


def coordination_tasks(
    events: Iterable[Event],
    *,
    pcp_npi: str | None,
    params: CoordinationParameters = CoordinationParameters(),
) -> tuple[CoordinationTaskSpec, ...]:
    """COC-01/COC-02: the coordination tasks (and PCP notifications) a member's events call for.

    Every trigger calls for coordination with the PCP, so every spec sets ``notify_pcp``; a PCP
    referral is answered back to the referring provider when the member has no PCP on file.
    """
    specs: list[CoordinationTaskSpec] = []

    def add(
        member_id: str,
        on: date,
        trigger: CoordinationTrigger,
        reason: str,
        evidence: tuple[Code, ...],
        notify: str | None = pcp_npi,
    ) -> None:
        specs.append(
            CoordinationTaskSpec(
                member_id,
                trigger,
                f"{trigger.rule_id}: {reason}",
                on + timedelta(days=params.due_within_days),
                True,
                notify,
                evidence,
            )
        )

    for event in events:
        if isinstance(event, MedicationChange):
            found = medication_change_reason(event, params)
            if found is not None:
                drugs = tuple(r.drug for r in (event.before, event.after) if r is not None)
                add(event.member_id, event.changed_on, found[0], found[1], drugs)
        elif isinstance(event, InitialAssessment):
            medical = tuple(d for d in event.medical_conditions if classify_diagnosis(d, params) == "medical")
            if medical:
                add(
                    event.member_id,
                    event.assessed_on,
                    CoordinationTrigger.MEDICAL_CONDITION_AT_ASSESSMENT,
                    "medical condition found at the initial assessment",
                    medical,
                )
        elif isinstance(event, NewMemberReport):
            kinds = {d: classify_diagnosis(d, params) for d in event.diagnoses}
            relevant = tuple(d for d, k in kinds.items() if k is not None)
            if relevant:
                named = sorted({k.replace("_", " ") for k in kinds.values() if k is not None})
                add(
                    event.member_id,
                    event.reported_on,
                    CoordinationTrigger.NEW_MEMBER_CONCURRENT_CONDITION,
                    f"new member reports {', '.join(named)}",
                    relevant,
                )
        elif isinstance(event, ConditionChange):
            for d in event.added_diagnoses:
                classify_diagnosis(d, params)  # refuses non-ICD-10-CM codes
            if event.added_diagnoses or event.worsened:
                why = "new diagnosis" if event.added_diagnoses else "condition worsened"
                add(
                    event.member_id,
                    event.changed_on,
                    CoordinationTrigger.CONDITION_CHANGED,
                    why,
                    event.added_diagnoses,
                )
        elif isinstance(event, PlannedTreatment):
            if any(event.procedure.same_as(p) for p in params.medical_evaluation_procedures):
                add(
                    event.member_id,
                    event.planned_on,
                    CoordinationTrigger.MEDICAL_EVALUATION_NEEDED,
                    f"{event.procedure.code} needs a medical evaluation",
                    (event.procedure,),
                )
        else:
            add(
                event.member_id,
                event.referred_on,
                CoordinationTrigger.PCP_REFERRAL,
                "member referred by a PCP or other medical provider",
                (),
                pcp_npi or event.referring_npi,
            )
    return tuple(specs)
