"""Criteria of a service request, evaluated through the packs (IOP-01..10, IOP-02, MN-01..03), the
decision clock (REG-01, REG-03, IOP-12), and "is authorization required?" (OPM-01, IOP-14).

Pure functions over the pack registry: no store, no wall clock. Facts are derived from the request's
structured clinical information; each criterion keeps the facts it used as evidence.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bhum.domain.authorization import Authorization, ReviewKind, ServiceRequest
from bhum.domain.clinical import AsamDimension, CrossCuttingDomain, RiskLevel, TreatmentResponse
from bhum.domain.clocks import DECISION_CLOCKS, IOP12_DECISION, Deadline, decision_due, local_date
from bhum.domain.determination import (
    CriterionResult,
    CriterionStatus,
    RecommendationNote,
    progress_recommendations,
)
from bhum.domain.values import Code, age_on
from bhum.policy import Outcome, PackRegistry, Status, evaluate
from bhum.policy.loader import LOCAL_SYSTEM_PREFIX
from bhum.services.auth_requests import ProgramFacts

POPULATION = LOCAL_SYSTEM_PREFIX + "population"
CONDITION = LOCAL_SYSTEM_PREFIX + "condition-category"
ADULT = Code(POPULATION, "adult")
ADOLESCENT = Code(POPULATION, "adolescent")

PREAUTH = "opm.preauth-required-services"
TESTING = "opm.testing-preauth-when-notified"
ROUTINE = "iop.routine-outpatient-codes"
OPEN_AUTH = "iop.open-authorization-one-year"
PER_DIEM = "iop.per-diem-minimum-hours"
INITIAL = "iop.initial-authorization"


def criterion(outcome: Outcome, title: str) -> CriterionResult:
    return CriterionResult(
        criterion=outcome.rule_id,
        rule_ids=outcome.implements,
        title=title,
        status=CriterionStatus(outcome.status.value),
        sentence=outcome.sentence,
        evidence=tuple((e.name, e.value) for e in outcome.evidence if e.kind != "parameter"),
        pack=f"{outcome.pack_id}@{outcome.pack_version}",
        codes=outcome.codes,
    )


def run(packs: PackRegistry, rule_id: str, facts: Mapping[str, Any]) -> CriterionResult:
    rule = packs.rule(rule_id)
    return criterion(evaluate(rule, {k: v for k, v in facts.items() if v is not None}), rule.title)


def _flag(result: CriterionResult) -> bool | None:
    return {CriterionStatus.MET: True, CriterionStatus.NOT_MET: False}.get(result.status)


# -- which program ------------------------------------------------------------------------------


def iop_codes(packs: PackRegistry) -> frozenset[Code]:
    """IOP services: the per diem codes (IOP-04) and the IOP revenue codes on the preauth list."""
    per_diem = packs.parameter(PER_DIEM, "per_diem_codes").value
    listed = packs.parameter(PREAUTH, "preauth_services").value
    assert isinstance(per_diem, frozenset) and isinstance(listed, frozenset)
    revenue = {c for c in listed if c.code in {"0905", "0906"}}
    return frozenset(per_diem | revenue)


def is_iop(packs: PackRegistry, codes: Sequence[Code]) -> bool:
    wanted = iop_codes(packs)
    return any(c.same_as(w) for c in codes for w in wanted)


def covered_services(packs: PackRegistry) -> frozenset[Code]:
    """Services the program covers: the preauthorization list, testing and routine outpatient."""
    found: set[Code] = set()
    for rule_id, name in (
        (PREAUTH, "preauth_services"),
        (TESTING, "testing_codes"),
        (ROUTINE, "routine_outpatient_codes"),
    ):
        value = packs.parameter(rule_id, name).value
        assert isinstance(value, frozenset)
        found |= value
    return frozenset(found)


def is_covered(packs: PackRegistry, code: Code) -> bool:
    return any(code.same_as(c) for c in covered_services(packs))


# -- is authorization required? (OPM-01, IOP-14) -----------------------------------------------


@dataclass(frozen=True, slots=True)
class RequiredAnswer:
    service: Code
    on: date
    required: bool
    rule_id: str  # catalog id
    criterion: str  # pack rule
    pack: str  # pack@version
    sentence: str
    open_authorization_end: date | None = None  # IOP-14: routine outpatient, one year

    def to_doc(self) -> dict[str, Any]:
        return {
            "service": {
                "system": self.service.system,
                "code": self.service.code,
                "display": self.service.display,
            },
            "on": self.on.isoformat(),
            "required": self.required,
            "rule_id": self.rule_id,
            "criterion": self.criterion,
            "pack": self.pack,
            "sentence": self.sentence,
            "open_authorization_end": None
            if self.open_authorization_end is None
            else self.open_authorization_end.isoformat(),
        }


def required_answer(
    packs: PackRegistry,
    service: Code,
    *,
    on: date,
    testing_notified: bool,
    open_authorization_start: date | None = None,
) -> RequiredAnswer:
    """Answer from the packs, naming the rule and pack version that decided it."""
    pre = evaluate(packs.rule(PREAUTH), {"service_code": service})
    if pre.status is Status.NOT_MET:
        return _answer(service, on, True, pre)
    testing = evaluate(
        packs.rule(TESTING), {"service_code": service, "plan_notified_testing_preauth": testing_notified}
    )
    if testing.status is not Status.NOT_APPLICABLE:
        return _answer(service, on, testing.status is Status.NOT_MET, testing)
    routine = evaluate(packs.rule(ROUTINE), {"service_code": service})
    if routine.status is Status.MET:
        days = packs.integer(OPEN_AUTH, "open_authorization_days")
        start = open_authorization_start or on
        end = start + timedelta(days=days)
        if not start <= on <= end:  # an open authorization that has run its year: a new one starts
            start, end = on, on + timedelta(days=days)
        return _answer(service, on, False, routine, end)
    return _answer(service, on, False, pre)


def _answer(
    service: Code, on: date, required: bool, outcome: Outcome, end: date | None = None
) -> RequiredAnswer:
    return RequiredAnswer(
        service=service,
        on=on,
        required=required,
        rule_id=outcome.implements[0],
        criterion=outcome.rule_id,
        pack=f"{outcome.pack_id}@{outcome.pack_version}",
        sentence=outcome.sentence,
        open_authorization_end=end,
    )


# -- the decision clock -------------------------------------------------------------------------


def decision_deadline(
    packs: PackRegistry,
    request: ServiceRequest,
    *,
    line_of_business: str,
    tz: ZoneInfo,
    holidays: frozenset[date],
    iop: bool,
) -> Deadline:
    """The strictest of REG-01 / REG-03 (and IOP-12 for IOP requests), naming the rule."""
    candidates = list(DECISION_CLOCKS)
    if iop:
        days = packs.parameter("iop.decision-within-14-days", "decision_clock").value
        amount = getattr(days, "amount", IOP12_DECISION.amount)
        candidates.append(dataclasses.replace(IOP12_DECISION, amount=amount))
    return decision_due(
        request.received_at,
        urgency=request.urgency.value,  # type: ignore[arg-type]
        review_kind=request.review_kind.value,  # type: ignore[arg-type]
        line_of_business=line_of_business,  # type: ignore[arg-type]
        applicable=candidates,
        tz=tz,
        holidays=holidays,
    )


# -- criteria -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CriteriaResult:
    criteria: tuple[CriterionResult, ...]
    recommendations: tuple[RecommendationNote, ...]
    flags: tuple[str, ...]


def evaluate_criteria(
    packs: PackRegistry,
    request: ServiceRequest,
    program: ProgramFacts,
    *,
    birth_date: date | None,
    tz: ZoneInfo,
    authorization: Authorization | None = None,
    previous_progress: Sequence[TreatmentResponse] = (),
    assessor_licensed: bool | None = None,
) -> CriteriaResult:
    """Every criterion for the request: IOP rules for IOP services, MN-01 and MN-02 always, and for a
    concurrent review IOP-09, MN-03 and the IOP-13 timing flag."""
    clinical = request.clinical
    start = request.requested_span.start
    # IOP-08 counts from admission: for a continuing request, the first day of the stay.
    admitted_on = program.admission_date or (authorization.span.start if authorization is not None else start)
    as_of = local_date(request.received_at, tz, field="received_at")
    iop = is_iop(packs, request.service_codes)
    concurrent = request.review_kind is ReviewKind.CONCURRENT
    population = None if birth_date is None else (ADULT if age_on(birth_date, start) >= 18 else ADOLESCENT)
    results: list[CriterionResult] = []
    flags: list[str] = []

    # IOP-01 inputs: the ASAM fit for substance use, the DSM-5 measure for mental health.
    asam = dict(clinical.asam)
    low = [asam[d] for d in (AsamDimension(1), AsamDimension(2)) if d in asam]
    high = [
        asam[d] for d in (AsamDimension(3), AsamDimension(4), AsamDimension(5), AsamDimension(6)) if d in asam
    ]
    asam_fit = run(
        packs,
        "iop.asam-intensive-outpatient-fit",
        {
            "max_dimension_1_2_risk": int(max(low)) if len(asam) == 6 else None,
            "max_dimension_3_6_risk": int(max(high)) if len(asam) == 6 else None,
        },
    )
    levels = [int(level) for _, level in clinical.cross_cutting]
    dsm = run(
        packs,
        "iop.dsm5-cross-cutting-supports",
        {"highest_cross_cutting_level": max(levels) if levels else None},
    )
    sud = clinical.has_substance_use_diagnosis
    mental = any(d.code.startswith("F") and d.code[:3] not in _SUD for d in clinical.diagnoses)
    category = "co-occurring" if sud and mental else ("substance-use" if sud else "mental-health")
    admission = run(
        packs,
        "iop.admission-criteria",
        {
            "condition_category": Code(CONDITION, category),
            "asam_criteria_met": _flag(asam_fit),
            "dsm5_cross_cutting_supports": _flag(dsm),
        },
    )
    locus = run(packs, "iop.level-of-care-fit", {"locus_level": clinical.locus_level})
    latest = clinical.latest_risk_assessment()
    highest_risk = None if latest is None else latest.highest

    if iop:
        results.append(admission)
        results.append(
            run(
                packs,
                "iop.age-groups",
                {"program_population": population, "birth_date": birth_date, "service_date": start},
            )
        )
        for code in request.service_codes:
            results.append(
                run(
                    packs,
                    PER_DIEM,
                    {
                        "service_code": code,
                        "program_population": population,
                        "consecutive_hours": program.consecutive_hours_per_day,
                    },
                )
            )
        results.append(run(packs, "iop.days-per-week", {"days_this_week": clinical.planned_days_per_week}))
        results.append(
            run(
                packs,
                "iop.weekly-hours",
                {"program_population": population, "weekly_hours": clinical.planned_hours_per_week},
            )
        )
        results.append(
            run(
                packs,
                "iop.physical-exam",
                {"physical_exam_date": clinical.physical_exam_date, "admission_date": admitted_on},
            )
        )
        results.append(
            run(
                packs,
                "iop.weekly-risk-assessment",
                {
                    "last_risk_assessment_date": None if latest is None else latest.assessed_on,
                    "as_of_date": as_of,
                    "assessor_licensed": assessor_licensed,
                },
            )
        )
        for other in program.other_services:
            results.append(run(packs, "iop.no-duplicate-services", {"other_service_code": other}))

    # MN-01: the seven criteria, derived from the structured information.
    has_measures = bool(clinical.cross_cutting or clinical.asam or clinical.locus_level)
    fit = _flag(asam_fit) if sud else _flag(dsm)
    if locus.status in (CriterionStatus.MET, CriterionStatus.NOT_MET):
        appropriate = _flag(locus)
    elif fit and highest_risk is not None and highest_risk not in (RiskLevel.HIGH, RiskLevel.IMMINENT):
        appropriate = True
    else:
        appropriate = None
    if highest_risk is RiskLevel.IMMINENT or (clinical.locus_level is not None and clinical.locus_level < 3):
        least_restrictive: bool | None = False
    elif highest_risk is not None:
        least_restrictive = True
    else:
        least_restrictive = None
    severe = (levels and max(levels) >= 3) or (high and max(high) >= 2)
    stalled = {TreatmentResponse.NO_PROGRESS, TreatmentResponse.WORSENED}
    same_level = [p for p in clinical.prior_treatment if p.level_of_care == program.level_of_care]
    if concurrent:
        expect_progress: bool | None = True if program.progress is TreatmentResponse.IMPROVED else None
    elif same_level and same_level[-1].response in stalled:
        expect_progress = False
    elif clinical.goals and all(g.interventions for g in clinical.goals):
        expect_progress = True
    else:
        expect_progress = None
    mn01 = {
        "treats_specific_disorder": any(d.code.startswith("F") for d in clinical.diagnoses),
        "improves_or_maintains_functioning": True
        if clinical.functioning.strip() and clinical.goals
        else None,
        "accords_with_accepted_guidelines": _flag(admission) if iop else None,
        "most_appropriate_safe_level": appropriate,
        "least_restrictive_safe_setting": least_restrictive,
        "omission_would_cause_harm": True if severe else None,
        "reasonable_expectation_of_progress": expect_progress,
    }
    results.append(run(packs, "mn.medical-necessity-criteria", mn01))

    # MN-02: the four core concepts; a diagnosis alone never documents functionality.
    substance_seen = sud or (clinical.severity(CrossCuttingDomain.SUBSTANCE_USE) or 0) >= 2
    if concurrent:
        progress_documented: bool = program.progress is not None
    else:
        progress_documented = not clinical.prior_treatment or any(
            p.response is not TreatmentResponse.UNKNOWN for p in clinical.prior_treatment
        )
    mn02 = {
        "medical_necessity_documented": bool(clinical.diagnoses) and has_measures,
        "current_functionality_documented": bool(clinical.functioning.strip()) and has_measures,
        "goals_interventions_match_deficits": bool(clinical.goals)
        and all(g.interventions for g in clinical.goals),
        "progress_documented": progress_documented,
        "co_occurring_substance_use": substance_seen,
        "substance_use_addressed": any("substance_use" in g.addresses for g in clinical.goals),
    }
    results.append(run(packs, "mn.core-concepts", mn02))

    recommendations: tuple[RecommendationNote, ...] = ()
    if concurrent:
        share = None
        if program.scheduled_hours and program.attended_hours is not None:
            share = round(program.attended_hours / program.scheduled_hours, 4)
        results.append(run(packs, "iop.engagement", {"attended_share": share}))
        progress = program.progress
        mn03 = {
            "progress_documented": None
            if progress in (None, TreatmentResponse.UNKNOWN)
            else progress is TreatmentResponse.IMPROVED,
            "treatment_plan_changed": program.treatment_plan_changed,
        }
        results.append(run(packs, "mn.progress-or-plan-change", mn03))
        history = [*previous_progress, *([progress] if progress is not None else [])]
        recommendations = progress_recommendations(
            history,
            level=program.level_of_care,
            below_level_of_care=clinical.locus_level is not None and clinical.locus_level < 3,
        )
        if authorization is not None and authorization.span.end is not None:
            timing = run(
                packs,
                "iop.continuing-request-timing",
                {"authorization_expires_on": authorization.span.end, "continuing_request_on": as_of},
            )
            if timing.status is CriterionStatus.NOT_MET:
                flags.append(f"IOP-13: continuing-service request submitted late - {timing.sentence}")
    elif any(
        p.level_of_care in ("inpatient", "residential", "partial_hospitalization")
        for p in clinical.prior_treatment
    ):
        flags.append("OPM-09: stepping down along the continuum from a more intensive level")
    return CriteriaResult(tuple(results), recommendations, tuple(flags))


def initial_authorization(packs: PackRegistry, request: ServiceRequest) -> tuple[int, date, CriterionResult]:
    """IOP-11: an initial IOP authorization covers at least 12 sessions over 30 days."""
    sessions = packs.integer(INITIAL, "min_initial_sessions")
    days = packs.integer(INITIAL, "initial_span_days")
    span = request.requested_span
    assert span.end is not None
    units = max(request.requested_units, sessions)
    end = max(span.end, span.start + timedelta(days=days - 1))
    check = run(
        packs, INITIAL, {"sessions_authorized": units, "authorization_span_days": (end - span.start).days + 1}
    )
    return units, end, check


_SUD = frozenset(f"F{n}" for n in range(10, 20))
