"""From criteria results to a determination: auto-approve, pend, or an administrative outcome.

Pure rules of the authorization engine (issue 3):

- approve automatically only when every criterion is clearly met (REG-04 allows automatic approvals);
- otherwise pend to clinical review, listing the open criteria (not met or unknown);
- never deny medical necessity automatically: only a staff member who is a physician reviewer may
  (REG-04), see :func:`check_may_deny`;
- administrative outcomes (no coverage on the date, no behavioral-health benefit, not a covered
  service) are automatic, with the reason and its claim adjustment codes.

MN-03 (progress across reviews) and OPM-09 (step-down along the continuum) add recommendations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from bhum.domain.authorization import DecisionReason
from bhum.domain.clinical import TreatmentResponse
from bhum.domain.errors import InputError, PermissionDenied
from bhum.domain.members import CoverageSpan, Plan
from bhum.domain.providers import Staff
from bhum.domain.values import CARC, RARC, Code


class CriterionStatus(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True, slots=True)
class CriterionResult:
    """One criterion as evaluated: the pack rule, the catalog rules it implements, the status, the
    rendered sentence and the evidence (name -> value) it used."""

    criterion: str  # pack rule id, e.g. "iop.weekly-hours"
    rule_ids: tuple[str, ...]  # catalog ids, e.g. ("IOP-05",)
    title: str
    status: CriterionStatus
    sentence: str
    evidence: tuple[tuple[str, Any], ...] = ()
    pack: str = ""  # "iop@2026.1"
    codes: tuple[Code, ...] = ()  # CARC/RARC when not met

    @property
    def is_open(self) -> bool:
        """Not clearly met: a reviewer has to look (not met or unknown)."""
        return self.status in (CriterionStatus.NOT_MET, CriterionStatus.UNKNOWN)

    @property
    def rule_id(self) -> str:
        return self.rule_ids[0] if self.rule_ids else self.criterion


class DeterminationOutcome(StrEnum):
    APPROVE = "approve"  # every criterion clearly met: automatic approval
    PEND = "pend"  # open criteria: clinical review
    ADMINISTRATIVE_DENIAL = "administrative_denial"  # eligibility / benefit / covered service
    NOT_REQUIRED = "not_required"  # the service needs no preauthorization (OPM-01, IOP-14)


class AdministrativeReason(StrEnum):
    NO_COVERAGE = "no_coverage"
    NO_BH_BENEFIT = "no_bh_benefit"
    NOT_A_COVERED_SERVICE = "not_a_covered_service"


@dataclass(frozen=True, slots=True)
class AdministrativeFinding:
    reason: AdministrativeReason
    rule_id: str
    text: str
    codes: tuple[Code, ...]

    def as_reason(self) -> DecisionReason:
        return DecisionReason(self.rule_id, self.text, self.codes[0] if self.codes else None)


class Recommendation(StrEnum):
    CHANGE_TREATMENT_PLAN = "change_treatment_plan"  # MN-03: no progress
    MAINTENANCE_OR_STEP_DOWN = "maintenance_or_step_down"  # MN-03: plateau
    STEP_DOWN = "step_down"  # OPM-09: along the continuum
    REASSESS_ENGAGEMENT = "reassess_engagement"  # IOP-09


@dataclass(frozen=True, slots=True)
class RecommendationNote:
    recommendation: Recommendation
    rule_id: str
    text: str
    step_down_to: str | None = None


@dataclass(frozen=True, slots=True)
class Determination:
    outcome: DeterminationOutcome
    criteria: tuple[CriterionResult, ...]
    reasons: tuple[DecisionReason, ...]
    recommendations: tuple[RecommendationNote, ...] = ()
    flags: tuple[str, ...] = ()  # e.g. "IOP-13: continuing request submitted late"
    administrative: AdministrativeFinding | None = None

    @property
    def open_criteria(self) -> tuple[CriterionResult, ...]:
        return tuple(c for c in self.criteria if c.is_open)


# -- administrative checks -----------------------------------------------------------------------


def administrative_finding(
    *,
    on: date,
    coverage: Sequence[CoverageSpan],
    plan: Plan | None,
    service_covered: bool,
    service: Code,
) -> AdministrativeFinding | None:
    """The first administrative reason the request cannot be approved, or None.

    Coverage on the first requested day, then the plan's BH benefit (OPM-08), then whether the
    service is one the program covers at all. CARC 26/27: expenses before coverage / after it ended.
    """
    covering = [c for c in coverage if c.span.contains(on)]
    if not covering:
        later = any(c.span.start > on for c in coverage)
        carc = "26" if later else "27"
        return AdministrativeFinding(
            AdministrativeReason.NO_COVERAGE,
            "OPM-08",
            f"The member has no coverage with the plan on {on.isoformat()}.",
            (Code(CARC, carc), Code(RARC, "N130")),
        )
    if plan is None or not plan.bh_benefit:
        return AdministrativeFinding(
            AdministrativeReason.NO_BH_BENEFIT,
            "OPM-08",
            "The member's plan does not include behavioral health benefits through the plan.",
            (Code(CARC, "204"), Code(RARC, "N130")),
        )
    if not service_covered:
        return AdministrativeFinding(
            AdministrativeReason.NOT_A_COVERED_SERVICE,
            "OPM-01",
            f"{service.display or service.code} is not a service this program covers.",
            (Code(CARC, "96"), Code(RARC, "N130")),
        )
    return None


# -- the determination ---------------------------------------------------------------------------


def determine(
    criteria: Sequence[CriterionResult],
    *,
    administrative: AdministrativeFinding | None = None,
    recommendations: Sequence[RecommendationNote] = (),
    flags: Sequence[str] = (),
    not_required: DecisionReason | None = None,
) -> Determination:
    """Approve only when every criterion is clearly met; otherwise pend with the open criteria.

    A criterion that does not apply counts as satisfied; an empty criteria list is never an
    automatic approval (nothing was checked). There is no automatic medical-necessity denial.
    """
    crit = tuple(criteria)
    if not_required is not None:
        return Determination(DeterminationOutcome.NOT_REQUIRED, crit, (not_required,), (), tuple(flags))
    if administrative is not None:
        return Determination(
            DeterminationOutcome.ADMINISTRATIVE_DENIAL,
            crit,
            (administrative.as_reason(),),
            tuple(recommendations),
            tuple(flags),
            administrative,
        )
    open_ = [c for c in crit if c.is_open]
    if crit and not open_ and not recommendations_need_review(recommendations):
        reasons = tuple(DecisionReason(c.rule_id, f"met: {c.title}") for c in crit)
        return Determination(
            DeterminationOutcome.APPROVE, crit, reasons, tuple(recommendations), tuple(flags)
        )
    reasons = tuple(
        DecisionReason(
            c.rule_id, f"{c.status.value.replace('_', ' ')}: {c.sentence}", next(iter(c.codes), None)
        )
        for c in open_
    )
    if not reasons:
        reasons = (DecisionReason("REG-04", "no criteria could be evaluated: clinical review needed"),)
    return Determination(DeterminationOutcome.PEND, crit, reasons, tuple(recommendations), tuple(flags))


def recommendations_need_review(notes: Sequence[RecommendationNote]) -> bool:
    """A recommendation to change the plan or step down is a reviewer's call, not an auto-approval."""
    return any(
        n.recommendation in (Recommendation.CHANGE_TREATMENT_PLAN, Recommendation.MAINTENANCE_OR_STEP_DOWN)
        for n in notes
    )


def check_may_deny(staff: Staff | None) -> None:
    """REG-04: a medical-necessity denial needs a psychiatrist, doctoral-level psychologist or
    addiction-medicine physician; raises PermissionDenied otherwise (and for no staff record)."""
    if staff is None:
        raise PermissionDenied("a medical-necessity denial needs a reviewer with a staff record (REG-04)")
    if not staff.is_physician_reviewer:
        raise PermissionDenied("only a physician reviewer may deny for medical necessity (REG-04)")


def similar_licence(original: Staff, other: Staff) -> bool:
    """Appeals: the re-reviewer holds the same or a similar licence — both physician reviewers
    (REG-04 credentials), or sharing at least one credential."""
    if original.is_physician_reviewer and other.is_physician_reviewer:
        return True
    return bool(original.credentials & other.credentials)


# -- MN-03 progress across reviews, OPM-09 step-down ---------------------------------------------

# OPM-09: the continuum from the most to the least intensive level.
CONTINUUM: tuple[str, ...] = (
    "inpatient",
    "residential",
    "partial_hospitalization",
    "iop",
    "outpatient",
)


def step_down_from(level: str) -> str | None:
    """The next less intensive level along the continuum, None at the bottom or for an unknown level."""
    if level not in CONTINUUM:
        return None
    index = CONTINUUM.index(level)
    return CONTINUUM[index + 1] if index + 1 < len(CONTINUUM) else None


def progress_recommendations(
    responses: Sequence[TreatmentResponse],
    *,
    level: str = "iop",
    no_progress_reviews: int = 2,
    below_level_of_care: bool = False,
) -> tuple[RecommendationNote, ...]:
    """MN-03 over the reviews of one authorization, oldest first (the current review last).

    No progress (no progress or worse) in the last ``no_progress_reviews`` reviews: change the
    treatment plan, and consider a step-down or a maintenance regimen. A documented plateau in the
    current review: maintenance or step-down (OPM-09 names the next level). ``below_level_of_care``
    (e.g. a LOCUS level under the IOP range) recommends the step-down on its own.
    """
    if no_progress_reviews < 1:
        raise InputError("count at least one review", field="no_progress_reviews")
    notes: list[RecommendationNote] = []
    stalled = {TreatmentResponse.NO_PROGRESS, TreatmentResponse.WORSENED}
    recent = list(responses)[-no_progress_reviews:]
    lower = step_down_from(level)
    if len(recent) == no_progress_reviews and all(r in stalled for r in recent):
        notes.append(
            RecommendationNote(
                Recommendation.CHANGE_TREATMENT_PLAN,
                "MN-03",
                f"No progress over {no_progress_reviews} reviews: change the treatment plan and consider "
                "a step-down or a maintenance regimen.",
                lower,
            )
        )
    if responses and responses[-1] is TreatmentResponse.PLATEAU:
        notes.append(
            RecommendationNote(
                Recommendation.MAINTENANCE_OR_STEP_DOWN,
                "MN-03",
                "Progress has plateaued: move to a maintenance regimen or step down.",
                lower,
            )
        )
    if lower is not None and (notes or below_level_of_care):
        notes.append(
            RecommendationNote(
                Recommendation.STEP_DOWN,
                "OPM-09",
                f"Follow the member along the continuum: plan the step-down from {level} to {lower}.",
                lower,
            )
        )
    return tuple(notes)


def evidence_dict(result: CriterionResult) -> Mapping[str, Any]:
    return dict(result.evidence)
