"""Focused Outpatient Management (OPM-03..OPM-08): who is eligible, which provider is asked, what the
returned Clinical Update Request Form says and what the clinical reviewer decides.

Pure: no clock, no storage. Dates and times are arguments; numbers (the 30-day window) come from the
opm pack through the services.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from bhum.domain.errors import InputError
from bhum.domain.members import CoverageSpan, Plan
from bhum.domain.values import ICD10CM, Code, parse_date

# -- OPM-08: eligibility ---------------------------------------------------------------------------


class Ineligible(StrEnum):
    """Why a flagged member gets no outreach."""

    NOT_IN_STORE = "member_not_in_store"
    NO_COVERAGE = "no_coverage_on_as_of_date"
    NO_BH_BENEFIT = "plan_has_no_bh_benefit"  # OPM-08
    OPM_EXCLUDED = "plan_excludes_outpatient_management"  # OPM-08
    NO_TREATING_PROVIDER = "no_treating_provider_on_flagged_claims"
    CASE_ALREADY_OPEN = "opm_case_already_open"  # one open case per member and provider


@dataclass(frozen=True, slots=True)
class Eligibility:
    eligible: bool
    reason: Ineligible | None = None
    plan_id: str | None = None


def opm_eligibility(coverage: CoverageSpan | None, plan: Plan | None, on: date) -> Eligibility:
    """OPM-08: the program applies only when the member is covered on ``on`` by a plan that carries
    BH benefits through the plan and does not exclude outpatient BH care management."""
    if coverage is None or plan is None or not coverage.span.contains(on):
        return Eligibility(False, Ineligible.NO_COVERAGE)
    if not plan.bh_benefit:
        return Eligibility(False, Ineligible.NO_BH_BENEFIT, plan.plan_id)
    if not plan.opm_care_management:
        return Eligibility(False, Ineligible.OPM_EXCLUDED, plan.plan_id)
    return Eligibility(True, None, plan.plan_id)


# -- flags and the treating provider ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FlagSummary:
    """One clinical-intelligence flag as outreach needs it (a row of the analytics flags table)."""

    member_id: str
    member_rank: int
    member_score: float
    rule_id: str
    implements: tuple[str, ...]
    title: str
    sentence: str
    evidence: str
    score: float
    index_date: date | None
    claim_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ClaimService:
    """A flagged claim line's treating provider and service (medical: rendering, else billing NPI;
    pharmacy: the prescriber)."""

    claim_id: str
    service_date: date
    provider_npi: str | None
    service: Code | None


def treating_provider(services: Iterable[ClaimService]) -> str | None:
    """The provider the plan writes to: the NPI on most of the flagged claims, then the most recent,
    then the lowest NPI (a stable choice on re-runs)."""
    counts: Counter[str] = Counter()
    latest: dict[str, date] = {}
    for s in services:
        if s.provider_npi:
            counts[s.provider_npi] += 1
            latest[s.provider_npi] = max(latest.get(s.provider_npi, s.service_date), s.service_date)
    if not counts:
        return None
    return min(counts, key=lambda npi: (-counts[npi], -latest[npi].toordinal(), npi))


def applicable_services(services: Iterable[ClaimService], provider_npi: str) -> tuple[Code, ...]:
    """OPM-07: the services whose later claims are denied when the form is not returned: the distinct
    procedure/revenue codes the treating provider billed on the flagged claims, in a stable order."""
    seen: dict[tuple[str, str], Code] = {}
    for s in services:
        if s.provider_npi == provider_npi and s.service is not None:
            seen.setdefault((s.service.system, s.service.code), s.service)
    return tuple(seen[k] for k in sorted(seen))


def outreach_cycle(as_of: date) -> str:
    """A program run belongs to the month of its as-of date: running again for the same month finds
    the cases it already opened."""
    return f"{as_of.year:04d}-{as_of.month:02d}"


def opm_case_id(member_id: str, provider_npi: str, cycle: str) -> str:
    """Deterministic case id for (member, provider, cycle): a re-run after a crash rebuilds the same id.
    Hashed, so the id carries no member data."""
    digest = hashlib.sha256("\x1f".join(("opm", member_id, provider_npi, cycle)).encode()).hexdigest()
    return f"OPM-{cycle}-{digest[:16]}"


# -- OPM-04 / OPM-06: the returned Clinical Update Request Form ------------------------------------

# What the form must answer when it comes back (the brief of OPM-06); the other questions are optional.
REQUIRED_FORM_FIELDS: tuple[str, ...] = (
    "treatment_plan",
    "goals",
    "level_intensity_duration",
    "progress",
    "functioning",
    "pcp_coordination",
)
OPTIONAL_FORM_FIELDS: tuple[str, ...] = ("diagnoses", "risk", "substance_use", "more_intensive_or_community")


class LevelOfCare(StrEnum):
    ROUTINE_OUTPATIENT = "routine_outpatient"
    INTENSIVE_OUTPATIENT = "intensive_outpatient"
    PARTIAL_HOSPITALIZATION = "partial_hospitalization"
    RESIDENTIAL = "residential"
    INPATIENT = "inpatient"


class ProgressRating(StrEnum):
    """MN-02 / MN-03: progress drives whether the plan changes."""

    IMPROVING = "improving"
    PLATEAU = "plateau"
    NO_PROGRESS = "no_progress"
    WORSENING = "worsening"


@dataclass(frozen=True, slots=True)
class LevelIntensityDuration:
    level_of_care: LevelOfCare
    sessions_per_week: float
    session_minutes: int
    expected_end: date | None = None


@dataclass(frozen=True, slots=True)
class PcpCoordination:
    coordinated: bool
    last_contact_on: date | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class ClinicalUpdate:
    """The returned Clinical Update Request Form, structured with the form's keys (OPM-04, OPM-06)."""

    treatment_plan: str
    goals: tuple[str, ...]
    level_intensity_duration: LevelIntensityDuration
    progress: ProgressRating
    progress_note: str
    functioning: str
    pcp_coordination: PcpCoordination
    diagnoses: tuple[Code, ...] = ()
    risk: str = ""
    substance_use: str = ""
    more_intensive_or_community: str = ""

    def as_json(self) -> dict[str, Any]:
        lid = self.level_intensity_duration
        pcp = self.pcp_coordination
        return {
            "treatment_plan": self.treatment_plan,
            "goals": list(self.goals),
            "level_intensity_duration": {
                "level_of_care": lid.level_of_care.value,
                "sessions_per_week": lid.sessions_per_week,
                "session_minutes": lid.session_minutes,
                "expected_end": lid.expected_end.isoformat() if lid.expected_end else None,
            },
            "progress": {"rating": self.progress.value, "note": self.progress_note},
            "functioning": self.functioning,
            "pcp_coordination": {
                "coordinated": pcp.coordinated,
                "last_contact_on": pcp.last_contact_on.isoformat() if pcp.last_contact_on else None,
                "note": pcp.note,
            },
            "diagnoses": [{"system": c.system, "code": c.code, "display": c.display} for c in self.diagnoses],
            "risk": self.risk,
            "substance_use": self.substance_use,
            "more_intensive_or_community": self.more_intensive_or_community,
        }


class _Reader:
    """Reads one form document, naming the file and the field in every error."""

    def __init__(self, source: str | None, record: str | None) -> None:
        self.source = source
        self.record = record

    def error(self, message: str, name: str) -> InputError:
        return InputError(message, field=name, record=self.record, source=self.source)

    def mapping(self, value: Any, name: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error("expected an object", name)
        return value

    def text(self, data: Mapping[str, Any], key: str, name: str, *, required: bool = True) -> str:
        value = data.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.error("must be non-blank text", name)
        return value.strip()

    def number(self, data: Mapping[str, Any], key: str, name: str) -> float:
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error("must be a number", name)
        return float(value)

    def day(self, data: Mapping[str, Any], key: str, name: str) -> date | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error("must be a date YYYY-MM-DD", name)
        return parse_date(value, field=name, record=self.record, source=self.source)

    def choice(self, enum: type[StrEnum], value: Any, name: str) -> Any:
        try:
            return enum(value)
        except ValueError as exc:
            allowed = ", ".join(e.value for e in enum)
            raise self.error(f"{value!r} is not one of {allowed}", name) from exc


def parse_clinical_update(
    data: Any, *, source: str | None = None, record: str | None = None, today: date | None = None
) -> ClinicalUpdate:
    """Validate a returned form (a JSON object with the form's keys). Unknown keys, missing answers,
    impossible dates and unknown codes are refused with the field named."""
    r = _Reader(source, record)
    doc = r.mapping(data, "form")
    known = set(REQUIRED_FORM_FIELDS) | set(OPTIONAL_FORM_FIELDS)
    unknown = sorted(set(doc) - known)
    if unknown:
        raise r.error(f"unknown field(s) {', '.join(unknown)}", unknown[0])
    for key in REQUIRED_FORM_FIELDS:
        if key not in doc or doc[key] in (None, "", [], {}):
            raise r.error("this question of the Clinical Update Request Form must be answered", key)
    goals_raw = doc["goals"]
    if isinstance(goals_raw, str):
        goals_raw = [goals_raw]
    if not isinstance(goals_raw, list) or not all(isinstance(g, str) and g.strip() for g in goals_raw):
        raise r.error("goals are a list of non-blank sentences", "goals")
    lid_doc = r.mapping(doc["level_intensity_duration"], "level_intensity_duration")
    level = r.choice(LevelOfCare, lid_doc.get("level_of_care"), "level_intensity_duration.level_of_care")
    per_week = r.number(lid_doc, "sessions_per_week", "level_intensity_duration.sessions_per_week")
    if not 0 < per_week <= 21:
        raise r.error("must be more than 0 and at most 21", "level_intensity_duration.sessions_per_week")
    minutes = r.number(lid_doc, "session_minutes", "level_intensity_duration.session_minutes")
    if not minutes.is_integer() or not 1 <= minutes <= 600:
        raise r.error("must be whole minutes from 1 to 600", "level_intensity_duration.session_minutes")
    expected_end = r.day(lid_doc, "expected_end", "level_intensity_duration.expected_end")
    progress_doc = doc["progress"]
    if isinstance(progress_doc, str):
        progress_doc = {"rating": progress_doc}
    progress_doc = r.mapping(progress_doc, "progress")
    rating = r.choice(ProgressRating, progress_doc.get("rating"), "progress.rating")
    pcp_doc = r.mapping(doc["pcp_coordination"], "pcp_coordination")
    coordinated = pcp_doc.get("coordinated")
    if not isinstance(coordinated, bool):
        raise r.error("must be true or false", "pcp_coordination.coordinated")
    last_contact = r.day(pcp_doc, "last_contact_on", "pcp_coordination.last_contact_on")
    if today is not None and last_contact is not None and last_contact > today:
        raise r.error("the last PCP contact cannot be in the future", "pcp_coordination.last_contact_on")
    pcp_note = r.text(pcp_doc, "note", "pcp_coordination.note", required=not coordinated)
    diagnoses: list[Code] = []
    raw_dx = doc.get("diagnoses") or []
    if not isinstance(raw_dx, list):
        raise r.error("diagnoses are a list of ICD-10-CM codes", "diagnoses")
    for i, item in enumerate(raw_dx):
        name = f"diagnoses[{i}]"
        code = item.get("code") if isinstance(item, Mapping) else item
        system = item.get("system", ICD10CM) if isinstance(item, Mapping) else ICD10CM
        if system != ICD10CM or not isinstance(code, str) or not _icd10(code):
            raise r.error(f"{code!r} is not an ICD-10-CM code (like F33.1)", name)
        display = item.get("display") if isinstance(item, Mapping) else None
        diagnoses.append(Code(ICD10CM, code.strip(), display))
    return ClinicalUpdate(
        treatment_plan=r.text(doc, "treatment_plan", "treatment_plan"),
        goals=tuple(g.strip() for g in goals_raw),
        level_intensity_duration=LevelIntensityDuration(level, per_week, int(minutes), expected_end),
        progress=rating,
        progress_note=r.text(progress_doc, "note", "progress.note", required=False),
        functioning=r.text(doc, "functioning", "functioning"),
        pcp_coordination=PcpCoordination(coordinated, last_contact, pcp_note),
        diagnoses=tuple(diagnoses),
        risk=r.text(doc, "risk", "risk", required=False),
        substance_use=r.text(doc, "substance_use", "substance_use", required=False),
        more_intensive_or_community=r.text(
            doc, "more_intensive_or_community", "more_intensive_or_community", required=False
        ),
    )


def _icd10(code: str) -> bool:
    code = code.strip()
    return (
        3 <= len(code) <= 8
        and code[0].isalpha()
        and code[0].isupper()
        and code[1:3].isdigit()
        and (len(code) == 3 or (code[3] == "." and len(code) > 4 and code[4:].isalnum()))
    )


# -- OPM-06: the clinical reviewer's determination -------------------------------------------------


class OpmDetermination(StrEnum):
    """What the BH clinical reviewer decides after reading the returned form (OPM-06, MN-03, OPM-09)."""

    CONTINUE = "continue"  # current treatment plan is appropriate; coverage continues
    MODIFY = "modify"  # change the level, intensity or duration
    STEP_UP = "step_up"  # more intensive treatment is needed
    STEP_DOWN = "step_down"  # a less intensive level (MN-03 plateau, OPM-09)
    REFER_COMMUNITY_RESOURCES = "refer_community_resources"
    CONDITION_MANAGEMENT = "condition_management"  # integrated care / condition management program


# Determinations that change the treatment and so must say to what.
_NEEDS_RECOMMENDED_LEVEL = frozenset({OpmDetermination.STEP_UP, OpmDetermination.STEP_DOWN})
_LEVEL_ORDER = tuple(LevelOfCare)


@dataclass(frozen=True, slots=True)
class ClinicalReview:
    """A recorded OPM-06 determination with its rationale and recommendations."""

    case_id: str
    determination: OpmDetermination
    rationale: str
    reviewer_id: str
    decided_at: datetime
    recommended_level: LevelOfCare | None = None
    recommendations: tuple[str, ...] = ()
    referrals: tuple[str, ...] = field(default=())  # community resources or programs referred to

    def __post_init__(self) -> None:
        if self.decided_at.tzinfo is None:
            raise InputError("a timestamp must carry its time zone", field="decided_at", record=self.case_id)
        if not self.rationale.strip():
            raise InputError("a determination needs its rationale", field="rationale", record=self.case_id)
        if self.determination in _NEEDS_RECOMMENDED_LEVEL and self.recommended_level is None:
            raise InputError(
                f"{self.determination.value} names the recommended level of care",
                field="recommended_level",
                record=self.case_id,
            )
        if (
            self.determination
            in (OpmDetermination.REFER_COMMUNITY_RESOURCES, OpmDetermination.CONDITION_MANAGEMENT)
            and not self.referrals
        ):
            raise InputError(
                f"{self.determination.value} names the resource or program referred to",
                field="referrals",
                record=self.case_id,
            )


def check_level_change(review: ClinicalReview, current: LevelOfCare) -> None:
    """A step up goes to a more intensive level than the form reports, a step down to a less intensive
    one (OPM-09 continuum: routine outpatient < IOP < partial hospitalization < residential < inpatient)."""
    if review.recommended_level is None or review.determination not in _NEEDS_RECOMMENDED_LEVEL:
        return
    up = _LEVEL_ORDER.index(review.recommended_level) > _LEVEL_ORDER.index(current)
    down = _LEVEL_ORDER.index(review.recommended_level) < _LEVEL_ORDER.index(current)
    if (review.determination is OpmDetermination.STEP_UP and not up) or (
        review.determination is OpmDetermination.STEP_DOWN and not down
    ):
        raise InputError(
            f"{review.determination.value} from {current.value} "
            f"cannot go to {review.recommended_level.value}",
            field="recommended_level",
            record=review.case_id,
        )


def rule_ids_of(flags: Sequence[FlagSummary]) -> tuple[str, ...]:
    """The catalog rules behind a case: OPM-03 (identified) plus what the flags implement."""
    ids = {"OPM-03"}
    for f in flags:
        ids.update(i for i in f.implements if i)
    return tuple(sorted(ids))
