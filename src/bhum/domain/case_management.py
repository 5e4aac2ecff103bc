"""Targeted case management (T1017): the case manager's rules, as pure functions.

Every number is a parameter. The defaults below are the rule catalog's (RULES.md, seed 001); the
authoritative values come from the ``tcm`` policy pack. No wall clock is read here: the day or
instant something is judged on is always an argument.

- TCM-11 credentials and annual hours per provider        ``check_qualification``, ``check_annual_hours``
- TCM-06 caseload limits, supervisor override             ``assess_assignment``, ``caseload_status``
- TCM-09 progress notes (11 elements, faxed signatures)   ``validate_progress_note``
- TCM-10 service plans (goals, three signatures)          ``validate_service_plan``
- TCM-03/TCM-04 activities and excluded residences        ``activity_check``, ``residence_check``
- TCM-08 monthly community contact, TCM-07 outreach       ``community_contact_due``, ``outreach_deadline``
- TCM-05 transitions from institutions                    ``transition_window``
- TCM-12 refusal never restricts other services           ``refusal_restricts``
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bhum.domain.clocks import Deadline, outreach_due
from bhum.domain.errors import InputError
from bhum.domain.members import ResidenceSetting
from bhum.domain.tasks import Task
from bhum.domain.values import HCPCS, Code, age_on

__all__ = [
    "ACTIVITY_SYSTEM",
    "CASE_MANAGEMENT_CODES",
    "DEFAULT_ANNUAL_HOURS",
    "DEFAULT_CASELOAD_LIMITS",
    "DEFAULT_EXCLUDED_SETTINGS",
    "NON_REIMBURSABLE_ACTIVITIES",
    "REIMBURSABLE_ACTIVITIES",
    "T1017",
    "ActivityCheck",
    "ActivityCode",
    "AnnualHoursCheck",
    "AssignmentDecision",
    "CaseManagementRefusal",
    "CaseManagerClassification",
    "CaseManagerQualifications",
    "CaseloadLimits",
    "CaseloadStatus",
    "CaseloadType",
    "ContactDue",
    "CredentialRequirements",
    "InstitutionalStay",
    "NoteElement",
    "NoteValidation",
    "PlanGoal",
    "PlanValidation",
    "ProgressNote",
    "QualificationResult",
    "ResidenceCheck",
    "ServicePlan",
    "SignatureKind",
    "SupervisorOverride",
    "TransitionLimits",
    "TransitionWindow",
    "activity_check",
    "activity_from_code",
    "add_months",
    "assess_assignment",
    "caseload_count",
    "caseload_status",
    "check_annual_hours",
    "check_qualification",
    "community_contact_due",
    "needs_escalation",
    "original_signature_due",
    "outreach_deadline",
    "refusal_restricts",
    "residence_check",
    "transition_window",
    "validate_progress_note",
    "validate_service_plan",
]

T1017 = Code(HCPCS, "T1017", "Targeted case management, each 15 minutes")
CASE_MANAGEMENT_CODES = frozenset({T1017})  # the only service a refusal of case management touches


def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months; a day past the month's end clips to its last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _end_of_month(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


# --- TCM-11: credentials and annual hours --------------------------------------------------------


class CaseManagerClassification(StrEnum):
    """Staff classifications of TCM-11 (codes as in the tcm pack's ``bhum:staff-classification``)."""

    CM_I = "cm1"
    CM_II = "cm2"
    INTENSIVE = "cm2-intensive"
    WRAPAROUND = "cm2-wraparound"

    @property
    def label(self) -> str:
        return _CLASSIFICATION_LABELS[self]


_CLASSIFICATION_LABELS = {
    CaseManagerClassification.CM_I: "Case Manager I",
    CaseManagerClassification.CM_II: "Case Manager II",
    CaseManagerClassification.INTENSIVE: "intensive case manager",
    CaseManagerClassification.WRAPAROUND: "wraparound facilitator",
}


@dataclass(frozen=True, slots=True)
class CaseManagerQualifications:
    """What is on file for a case manager. Unknown = not on file (it is never presumed)."""

    state_cm_certification: bool = False
    competency_exam_passed: bool = False
    # CM II routes
    bh_degree: bool = False  # bachelor's or master's in a behavioral health field
    rn_license: bool = False
    bh_experience: bool = False  # RN route: experience in behavioral health care
    cadc_certification: bool = False  # certified alcohol and drug counselor
    cm_training_hours: float = 0.0  # state-specified CM training (CADC route 7 h, CM I 14 h)
    cm_iii: bool = False  # meets the CM III qualifications (enough as the base of intensive/wraparound)
    # CM I route
    high_school_diploma: bool = False
    college_credit_hours: int = 0
    mental_illness_experience_months: int = 0
    # Intensive
    cm_experience_months: int = 0  # behavioral health case management experience
    crisis_diversion_experience: bool = False
    intensive_training_hours: float = 0.0
    # Wraparound
    employment_start: date | None = None
    wraparound_training_on: date | None = None
    ongoing_coaching: bool = False
    credentialing_started_on: date | None = None
    credentialed_on: date | None = None
    weekly_qmhp_consultation_hours: float = 0.0

    def __post_init__(self) -> None:
        for name in (
            "cm_training_hours",
            "college_credit_hours",
            "mental_illness_experience_months",
            "cm_experience_months",
            "intensive_training_hours",
            "weekly_qmhp_consultation_hours",
        ):
            if getattr(self, name) < 0:
                raise InputError("cannot be negative", field=name)


@dataclass(frozen=True, slots=True)
class CredentialRequirements:
    """TCM-11 numbers (tcm pack ``tcm.case-manager-credentials``); defaults are the catalog's."""

    cadc_training_hours: float = 7
    cm1_college_credit_hours: int = 60
    cm1_experience_months: int = 36
    cm1_training_hours: float = 14
    intensive_cm_experience_months: int = 24
    intensive_training_hours: float = 6
    wraparound_training_months: int = 6
    wraparound_credentialing_months: int = 9
    weekly_qmhp_consultation_hours: float = 1


@dataclass(frozen=True, slots=True)
class QualificationResult:
    classification: CaseManagerClassification
    qualified: bool
    missing: tuple[str, ...]  # one sentence per missing requirement, naming it
    pending: tuple[str, ...] = ()  # requirements still inside their time window (wraparound)
    rule_id: str = "TCM-11"


def _cm_ii_missing(q: CaseManagerQualifications, req: CredentialRequirements) -> list[str]:
    if q.bh_degree or (q.rn_license and q.bh_experience) or q.cm_iii:
        return []
    if q.cadc_certification:
        if q.cm_training_hours >= req.cadc_training_hours:
            return []
        return [
            f"{req.cadc_training_hours:g} hours of state case management training for a certified "
            f"alcohol and drug counselor (on file: {q.cm_training_hours:g})"
        ]
    if q.rn_license:
        return ["behavioral health care experience for a registered nurse"]
    return [
        "a CM II qualification: a bachelor's or master's degree in a behavioral health field, "
        "a registered nurse licence with behavioral health experience, or alcohol and drug "
        f"counselor certification with {req.cadc_training_hours:g} hours of training"
    ]


def _cm_i_missing(q: CaseManagerQualifications, req: CredentialRequirements) -> list[str]:
    missing = []
    if not q.high_school_diploma:
        missing.append("a high school diploma")
    if (
        q.college_credit_hours < req.cm1_college_credit_hours
        and q.mental_illness_experience_months < req.cm1_experience_months
    ):
        missing.append(
            f"{req.cm1_college_credit_hours} college credit hours or {req.cm1_experience_months} months' "
            "experience working with persons with a mental illness"
        )
    if q.cm_training_hours < req.cm1_training_hours:
        missing.append(
            f"{req.cm1_training_hours:g} hours of state case management training "
            f"(on file: {q.cm_training_hours:g})"
        )
    return missing


def _wraparound(
    q: CaseManagerQualifications, req: CredentialRequirements, on: date
) -> tuple[list[str], list[str]]:
    missing: list[str] = []
    pending: list[str] = []
    if q.employment_start is None:
        missing.append("the employment start date (wraparound training is due within 6 months of it)")
    else:
        training_due = add_months(q.employment_start, req.wraparound_training_months)
        if q.wraparound_training_on is not None and q.wraparound_training_on <= training_due:
            pass
        elif q.wraparound_training_on is not None:
            missing.append(
                f"wraparound facilitation training within {req.wraparound_training_months} months of "
                f"employment (due {training_due.isoformat()}, "
                f"completed {q.wraparound_training_on.isoformat()})"
            )
        elif on > training_due:
            missing.append(
                f"wraparound facilitation training within {req.wraparound_training_months} months of "
                f"employment (due {training_due.isoformat()})"
            )
        else:
            pending.append(f"wraparound facilitation training due by {training_due.isoformat()}")
    if not q.ongoing_coaching:
        missing.append("participation in ongoing wraparound coaching")
    started = q.credentialing_started_on or q.employment_start
    if started is not None:
        credential_due = add_months(started, req.wraparound_credentialing_months)
        if q.credentialed_on is not None and q.credentialed_on <= credential_due:
            pass
        elif q.credentialed_on is not None or on > credential_due:
            missing.append(
                f"wraparound credentialing within {req.wraparound_credentialing_months} months of "
                f"beginning the process (due {credential_due.isoformat()})"
            )
        else:
            pending.append(f"wraparound credentialing due by {credential_due.isoformat()}")
    if q.weekly_qmhp_consultation_hours < req.weekly_qmhp_consultation_hours:
        missing.append(
            f"{req.weekly_qmhp_consultation_hours:g} hour(s) of weekly clinical consultation with a "
            f"qualified mental health professional (on file: {q.weekly_qmhp_consultation_hours:g})"
        )
    return missing, pending


def check_qualification(
    classification: CaseManagerClassification,
    qualifications: CaseManagerQualifications,
    *,
    on: date,
    requirements: CredentialRequirements = CredentialRequirements(),
) -> QualificationResult:
    """TCM-11: does the case manager meet ``classification``'s requirements on ``on``?

    Every classification needs state CM certification and the competency exam. Intensive case
    managers and wraparound facilitators build on CM II (or CM III).
    """
    q, req = qualifications, requirements
    missing: list[str] = []
    pending: list[str] = []
    if not q.state_cm_certification:
        missing.append("state behavioral health case manager certification")
    if not q.competency_exam_passed:
        missing.append("a pass in the case management competency exam")
    if classification is CaseManagerClassification.CM_I:
        missing += _cm_i_missing(q, req)
    else:
        missing += _cm_ii_missing(q, req)
    if classification is CaseManagerClassification.INTENSIVE:
        if q.cm_experience_months < req.intensive_cm_experience_months:
            missing.append(
                f"{req.intensive_cm_experience_months} months of behavioral health case management "
                f"experience (on file: {q.cm_experience_months})"
            )
        if not q.crisis_diversion_experience:
            missing.append("crisis diversion experience")
        if q.intensive_training_hours < req.intensive_training_hours:
            missing.append(
                f"the {req.intensive_training_hours:g}-hour intensive case management training "
                f"(on file: {q.intensive_training_hours:g})"
            )
    if classification is CaseManagerClassification.WRAPAROUND:
        more_missing, pending = _wraparound(q, req, on)
        missing += more_missing
    article = "An" if classification.label[0] in "aeiou" else "A"
    sentences = tuple(f"{article} {classification.label} needs {what}." for what in missing)
    return QualificationResult(classification, not missing, sentences, tuple(pending))


DEFAULT_ANNUAL_HOURS: Mapping[CaseManagerClassification, float] = {
    CaseManagerClassification.WRAPAROUND: 812,
    CaseManagerClassification.INTENSIVE: 812,
    CaseManagerClassification.CM_II: 1141,
    CaseManagerClassification.CM_I: 1141,
}


@dataclass(frozen=True, slots=True)
class AnnualHoursCheck:
    classification: CaseManagerClassification
    annual_hours: float  # hours per provider per year for the classification
    hours_worked: float
    within: bool  # hours_worked <= annual_hours (the pack's tcm.annual-hours-per-provider)
    remaining: float  # negative when over
    rule_id: str = "TCM-11"


def check_annual_hours(
    classification: CaseManagerClassification,
    hours_worked: float,
    *,
    annual_hours: Mapping[CaseManagerClassification, float] = DEFAULT_ANNUAL_HOURS,
) -> AnnualHoursCheck:
    """TCM-11: hours worked in the year against the annual hours per provider of the classification."""
    if hours_worked < 0:
        raise InputError("hours worked cannot be negative", field="hours_worked")
    if classification not in annual_hours:
        raise InputError(f"no annual hours for {classification.label}", field="classification")
    limit = annual_hours[classification]
    return AnnualHoursCheck(classification, limit, hours_worked, hours_worked <= limit, limit - hours_worked)


# --- TCM-06: caseloads ---------------------------------------------------------------------------


class CaseloadType(StrEnum):
    """Caseload types (codes as in the tcm pack's ``bhum:case-management-type``)."""

    STANDARD = "standard"
    INTENSIVE = "intensive"
    WRAPAROUND = "wraparound"  # counted in families, not members


@dataclass(frozen=True, slots=True)
class CaseloadLimits:
    minimum: int
    maximum: int
    counted_in: str = "members"

    def __post_init__(self) -> None:
        if not 0 <= self.minimum <= self.maximum:
            raise InputError(
                f"caseload limits {self.minimum}-{self.maximum} are not a range", field="maximum"
            )


DEFAULT_CASELOAD_LIMITS: Mapping[CaseloadType, CaseloadLimits] = {
    CaseloadType.STANDARD: CaseloadLimits(30, 35),
    CaseloadType.INTENSIVE: CaseloadLimits(10, 15),
    CaseloadType.WRAPAROUND: CaseloadLimits(8, 10, "families"),
}


class CaseloadStatus(StrEnum):
    UNDER_MINIMUM = "under_minimum"
    WITHIN = "within"
    OVER_MAXIMUM = "over_maximum"


def _limits(caseload_type: CaseloadType, limits: Mapping[CaseloadType, CaseloadLimits]) -> CaseloadLimits:
    try:
        return limits[caseload_type]
    except KeyError as exc:
        raise InputError(f"no caseload limits for {caseload_type}", field="caseload_type") from exc


def caseload_count(caseload_type: CaseloadType, members: Iterable[tuple[str, str | None]]) -> int:
    """How big a caseload is: members, or for wraparound distinct families (a member without a
    family id is a family of one). ``members`` are (member_id, family_id) pairs."""
    pairs = list(members)
    if caseload_type is CaseloadType.WRAPAROUND:
        return len({family or f"member:{member}" for member, family in pairs})
    return len({member for member, _ in pairs})


def caseload_status(
    caseload_type: CaseloadType,
    count: int,
    *,
    limits: Mapping[CaseloadType, CaseloadLimits] = DEFAULT_CASELOAD_LIMITS,
) -> CaseloadStatus:
    """TCM-06: is a caseload of ``count`` under the minimum, within the range, or over the maximum?"""
    if count < 0:
        raise InputError("a caseload cannot be negative", field="count")
    bounds = _limits(caseload_type, limits)
    if count < bounds.minimum:
        return CaseloadStatus.UNDER_MINIMUM
    if count > bounds.maximum:
        return CaseloadStatus.OVER_MAXIMUM
    return CaseloadStatus.WITHIN


@dataclass(frozen=True, slots=True)
class SupervisorOverride:
    """A supervisor's decision to accept an assignment beyond the caseload limit, with the reason."""

    supervisor_id: str
    reason: str

    def __post_init__(self) -> None:
        if not self.supervisor_id.strip():
            raise InputError("an override names the supervisor", field="supervisor_id")
        if not self.reason.strip():
            raise InputError("an override beyond the caseload limit needs a reason", field="reason")


@dataclass(frozen=True, slots=True)
class AssignmentDecision:
    accepted: bool
    caseload_type: CaseloadType
    count_after: int  # the caseload if the assignment goes ahead
    limits: CaseloadLimits
    overridden: bool  # accepted beyond the maximum on a supervisor's override
    status_after: CaseloadStatus
    reason: str
    rule_id: str = "TCM-06"

    @property
    def under_minimum(self) -> bool:
        return self.status_after is CaseloadStatus.UNDER_MINIMUM


def assess_assignment(
    caseload_type: CaseloadType,
    current_count: int,
    *,
    adds: int = 1,
    override: SupervisorOverride | None = None,
    limits: Mapping[CaseloadType, CaseloadLimits] = DEFAULT_CASELOAD_LIMITS,
) -> AssignmentDecision:
    """TCM-06: may one more member (or family) join a caseload of ``current_count``?

    Up to the maximum it is accepted; beyond it only with a supervisor's override and reason.
    ``adds`` is 0 when a wraparound member joins a family already on the caseload.
    """
    if current_count < 0:
        raise InputError("a caseload cannot be negative", field="current_count")
    if adds not in (0, 1):
        raise InputError("an assignment adds 0 or 1 to a caseload", field="adds")
    bounds = _limits(caseload_type, limits)
    after = current_count + adds
    status = caseload_status(caseload_type, after, limits=limits)
    counted = f"{after} {bounds.counted_in}"
    if status is not CaseloadStatus.OVER_MAXIMUM:
        note = (
            f"; still under the minimum of {bounds.minimum}" if status is CaseloadStatus.UNDER_MINIMUM else ""
        )
        return AssignmentDecision(
            True,
            caseload_type,
            after,
            bounds,
            False,
            status,
            f"accepted: {counted} of {bounds.maximum}{note}",
        )
    if override is None:
        return AssignmentDecision(
            False,
            caseload_type,
            after,
            bounds,
            False,
            status,
            f"refused: {counted} would exceed the {caseload_type} caseload maximum of {bounds.maximum}; "
            "a supervisor may override with a reason",
        )
    return AssignmentDecision(
        True,
        caseload_type,
        after,
        bounds,
        True,
        status,
        f"accepted beyond the maximum of {bounds.maximum} ({counted}) on supervisor override: "
        f"{override.reason.strip()}",
    )


# --- TCM-03 / TCM-04: activities and residence settings ------------------------------------------

ACTIVITY_SYSTEM = "https://bhum.dev/codes/activity-code"  # the claims input activity_code vocabulary


class ActivityCode(StrEnum):
    """Case management activity codes (the ``activity_code`` of the claims input)."""

    # TCM-03: reimbursable
    PLAN_OF_CARE_INFORMATION = "plan_of_care_information"
    FACE_TO_FACE_MEMBER = "face_to_face_member"
    FACE_TO_FACE_PROVIDER = "face_to_face_provider"
    NON_FACE_TO_FACE_MEMBER = "non_face_to_face_member"
    NON_FACE_TO_FACE_PROVIDER = "non_face_to_face_provider"
    PLAN_MONITORING = "plan_monitoring"
    CRISIS_DIVERSION = "crisis_diversion"
    TRANSITION_FROM_INSTITUTION = "transition_from_institution"
    # TCM-04: never reimbursable
    TRANSPORT_ESCORT = "transport_escort"
    FINANCIAL_MONITORING = "financial_monitoring"
    SHOPPING_BILLS = "shopping_bills"
    DELIVERING_TICKETS_MONEY = "delivering_tickets_money"
    PSYCHOTHERAPY = "psychotherapy"
    FORMS_WITHOUT_MEMBER = "forms_without_member"
    MEDICAID_FORMS = "medicaid_forms"
    PAPERWORK_PREPARATION = "paperwork_preparation"

    def as_code(self) -> Code:
        return Code(ACTIVITY_SYSTEM, self.value, self.value.replace("_", " "))


A = ActivityCode
REIMBURSABLE_ACTIVITIES = frozenset(
    {
        A.PLAN_OF_CARE_INFORMATION,
        A.FACE_TO_FACE_MEMBER,
        A.FACE_TO_FACE_PROVIDER,
        A.NON_FACE_TO_FACE_MEMBER,
        A.NON_FACE_TO_FACE_PROVIDER,
        A.PLAN_MONITORING,
        A.CRISIS_DIVERSION,
        A.TRANSITION_FROM_INSTITUTION,
    }
)
NON_REIMBURSABLE_ACTIVITIES = frozenset(set(ActivityCode) - REIMBURSABLE_ACTIVITIES)

# The tcm pack (``bhum:tcm-activity``) spells the same activities in its own codes.
_PACK_ACTIVITY_SYSTEM = "bhum:tcm-activity"
_PACK_ACTIVITY_CODES = {
    "plan-of-care-information-gathering": A.PLAN_OF_CARE_INFORMATION,
    "face-to-face-member-family": A.FACE_TO_FACE_MEMBER,
    "face-to-face-providers": A.FACE_TO_FACE_PROVIDER,
    "supportive-contact-member": A.NON_FACE_TO_FACE_MEMBER,
    "non-face-to-face-providers": A.NON_FACE_TO_FACE_PROVIDER,
    "plan-monitoring-reassessment": A.PLAN_MONITORING,
    "crisis-diversion": A.CRISIS_DIVERSION,
    "institution-transition": A.TRANSITION_FROM_INSTITUTION,
    "escort-transport": A.TRANSPORT_ESCORT,
    "financial-goal-monitoring": A.FINANCIAL_MONITORING,
    "shopping-paying-bills": A.SHOPPING_BILLS,
    "delivering-tickets-stamps-money": A.DELIVERING_TICKETS_MONEY,
    "psychotherapeutic-rehabilitative": A.PSYCHOTHERAPY,
    "psychiatric-assessment": A.PSYCHOTHERAPY,
    "discharge": A.PSYCHOTHERAPY,
    "forms-without-member": A.FORMS_WITHOUT_MEMBER,
    "medicaid-forms": A.MEDICAID_FORMS,
    "assessment-plan-paperwork": A.PAPERWORK_PREPARATION,
}
del A


def activity_from_code(
    code: Code | str, *, record: str | int | None = None, source: str | None = None
) -> ActivityCode:
    """An activity code from the claims input (plain string or Code) or the tcm pack's codes.
    Unknown codes are refused naming the field."""
    if isinstance(code, str):
        text, system = code.strip(), ACTIVITY_SYSTEM
    else:
        text, system = code.code, code.system
    if system == ACTIVITY_SYSTEM:
        try:
            return ActivityCode(text)
        except ValueError:
            pass
    elif system == _PACK_ACTIVITY_SYSTEM and text in _PACK_ACTIVITY_CODES:
        return _PACK_ACTIVITY_CODES[text]
    raise InputError(
        f"unknown case management activity code {text!r} (system {system})",
        field="activity_code",
        record=record,
        source=source,
    )


@dataclass(frozen=True, slots=True)
class ActivityCheck:
    activity: ActivityCode
    reimbursable: bool
    rule_id: str  # TCM-03 when reimbursable, TCM-04 when not
    reason: str


def activity_check(
    activity: ActivityCode,
    *,
    reimbursable: frozenset[ActivityCode] = REIMBURSABLE_ACTIVITIES,
) -> ActivityCheck:
    """TCM-03/TCM-04: is time spent on ``activity`` reimbursable case management?"""
    label = activity.value.replace("_", " ")
    if activity in reimbursable:
        return ActivityCheck(activity, True, "TCM-03", f"{label} is a reimbursable case management activity")
    return ActivityCheck(activity, False, "TCM-04", f"{label} is not reimbursable as case management")


DEFAULT_EXCLUDED_SETTINGS = frozenset(s for s in ResidenceSetting if s.excludes_case_management)


@dataclass(frozen=True, slots=True)
class ResidenceCheck:
    setting: ResidenceSetting
    compensable: bool
    reason: str
    rule_id: str = "TCM-04"


def residence_check(
    setting: ResidenceSetting,
    *,
    excluded: frozenset[ResidenceSetting] = DEFAULT_EXCLUDED_SETTINGS,
) -> ResidenceCheck:
    """TCM-04: residents of nursing facilities, residential behavior management, group or foster
    homes and ICF/MR may not receive compensable case management."""
    label = setting.value.replace("_", " ")
    if setting in excluded:
        return ResidenceCheck(
            setting, False, f"members residing in a {label} may not receive compensable case management"
        )
    return ResidenceCheck(setting, True, f"a {label} does not exclude compensable case management")


# --- TCM-09: progress notes ----------------------------------------------------------------------


class NoteElement(StrEnum):
    """The 11 elements of every session's documentation, in the seed's order."""

    DATE = "date"
    PERSONS_SERVED = "persons_served"
    START_STOP_TIMES = "start_stop_times"
    PROVIDER_ORIGINAL_SIGNATURE = "provider_original_signature"
    PROVIDER_CREDENTIALS = "provider_credentials"
    PLAN_NEEDS_GOALS_ADDRESSED = "plan_needs_goals_addressed"
    SPECIFIC_ACTIVITIES = "specific_activities"
    PROGRESS_OR_BARRIERS = "progress_or_barriers"
    MEMBER_RESPONSE = "member_response"
    NEW_NEEDS_IDENTIFIED = "new_needs_identified"
    MEMBER_SATISFACTION = "member_satisfaction"

    @property
    def label(self) -> str:
        return _ELEMENT_LABELS[self]


_ELEMENT_LABELS = {
    NoteElement.DATE: "the date of service",
    NoteElement.PERSONS_SERVED: "the person(s) served",
    NoteElement.START_STOP_TIMES: "start and stop times",
    NoteElement.PROVIDER_ORIGINAL_SIGNATURE: "the service provider's signature",
    NoteElement.PROVIDER_CREDENTIALS: "the service provider's credentials",
    NoteElement.PLAN_NEEDS_GOALS_ADDRESSED: "the service plan needs, goals or objectives addressed",
    NoteElement.SPECIFIC_ACTIVITIES: "the specific activities (advocacy, linkage, referral, monitoring)",
    NoteElement.PROGRESS_OR_BARRIERS: "progress or barriers toward goals",
    NoteElement.MEMBER_RESPONSE: "the member's (or family's) response",
    NoteElement.NEW_NEEDS_IDENTIFIED: "new needs, goals or objectives identified (or that there were none)",
    NoteElement.MEMBER_SATISFACTION: "the member's satisfaction with the intervention",
}


class SignatureKind(StrEnum):
    ORIGINAL = "original"
    FAXED = "faxed"  # an original must be added to the clinical file within 30 days


@dataclass(frozen=True, slots=True)
class ProgressNote:
    """One case management session as entered. Blank text and empty tuples count as missing."""

    note_id: str
    session_date: date | None = None
    persons_served: tuple[str, ...] = ()
    start_time: time | None = None
    stop_time: time | None = None
    signature: SignatureKind | None = None
    signed_on: date | None = None  # the date of the signature received (faxed or original)
    original_signature_on: date | None = None  # for a faxed note: when the original was filed
    provider_credentials: str = ""
    plan_needs_addressed: str = ""
    activities: tuple[ActivityCode, ...] = ()
    activity_narrative: str = ""
    progress_or_barriers: str = ""
    member_response: str = ""
    new_needs_identified: str = ""
    member_satisfaction: str = ""


@dataclass(frozen=True, slots=True)
class NoteValidation:
    note_id: str
    missing: tuple[NoteElement, ...]
    problems: tuple[str, ...]  # one sentence per missing element or inconsistency
    original_signature_due: date | None  # faxed signature: the original is due by this date
    non_reimbursable_activities: tuple[ActivityCode, ...]  # TCM-04 activities recorded in the note
    rule_id: str = "TCM-09"

    @property
    def complete(self) -> bool:
        return not self.problems


def original_signature_due(faxed_on: date, *, days: int = 30) -> date:
    """TCM-09: the original signature of a faxed item is filed within ``days`` of the fax (day 30 is
    on time, day 31 late: the fax date is day zero)."""
    if days < 0:
        raise InputError("days cannot be negative", field="original_signature_days")
    return faxed_on + timedelta(days=days)


def validate_progress_note(note: ProgressNote, *, original_signature_days: int = 30) -> NoteValidation:
    """TCM-09: check a session note at entry, naming each missing element of the 11."""
    missing: list[NoteElement] = []
    problems: list[str] = []

    def need(element: NoteElement, present: bool) -> None:
        if not present:
            missing.append(element)
            problems.append(f"The note is missing {element.label} ({element.value}).")

    need(NoteElement.DATE, note.session_date is not None)
    need(NoteElement.PERSONS_SERVED, any(p.strip() for p in note.persons_served))
    need(NoteElement.START_STOP_TIMES, note.start_time is not None and note.stop_time is not None)
    need(NoteElement.PROVIDER_ORIGINAL_SIGNATURE, note.signature is not None)
    need(NoteElement.PROVIDER_CREDENTIALS, bool(note.provider_credentials.strip()))
    need(NoteElement.PLAN_NEEDS_GOALS_ADDRESSED, bool(note.plan_needs_addressed.strip()))
    need(NoteElement.SPECIFIC_ACTIVITIES, bool(note.activities) or bool(note.activity_narrative.strip()))
    need(NoteElement.PROGRESS_OR_BARRIERS, bool(note.progress_or_barriers.strip()))
    need(NoteElement.MEMBER_RESPONSE, bool(note.member_response.strip()))
    need(NoteElement.NEW_NEEDS_IDENTIFIED, bool(note.new_needs_identified.strip()))
    need(NoteElement.MEMBER_SATISFACTION, bool(note.member_satisfaction.strip()))

    if note.start_time is not None and note.stop_time is not None and note.stop_time <= note.start_time:
        problems.append("The stop time must be after the start time (start_stop_times).")
    due: date | None = None
    if note.signature is SignatureKind.FAXED:
        if note.signed_on is None:
            problems.append("A faxed signature needs the date it was faxed (signed_on).")
        else:
            due = original_signature_due(note.signed_on, days=original_signature_days)
            if note.original_signature_on is not None and note.original_signature_on > due:
                problems.append(
                    f"The original signature was filed {note.original_signature_on.isoformat()}, after it "
                    f"was due on {due.isoformat()} (provider_original_signature)."
                )
    excluded = tuple(a for a in note.activities if a in NON_REIMBURSABLE_ACTIVITIES)
    return NoteValidation(note.note_id, tuple(missing), tuple(problems), due, excluded)


# --- TCM-10: service plans -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanGoal:
    goal: str
    objectives: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ServicePlan:
    plan_id: str
    goals: tuple[PlanGoal, ...] = ()
    member_participated: bool = False
    member_signed_on: date | None = None
    case_manager_signed_on: date | None = None
    licensed_professional_signed_on: date | None = None
    licensed_professional_id: str | None = None  # the licensed behavioral health professional


@dataclass(frozen=True, slots=True)
class PlanValidation:
    plan_id: str
    missing: tuple[str, ...]  # sentences naming each missing piece
    development_compensable: bool  # TCM-10: only with the member's participation and a complete plan
    rule_id: str = "TCM-10"

    @property
    def complete(self) -> bool:
        return not self.missing


def validate_service_plan(plan: ServicePlan) -> PlanValidation:
    """TCM-10: goals with objectives, signed by the member, the case manager and a licensed BH
    professional; development time is compensable only with the member's participation."""
    missing: list[str] = []
    if not plan.goals:
        missing.append("The plan has no recovery goals (goals).")
    for index, goal in enumerate(plan.goals, start=1):
        if not goal.goal.strip():
            missing.append(f"Goal {index} has no description (goals[{index}].goal).")
        if not any(o.strip() for o in goal.objectives):
            missing.append(f"Goal {index} has no objectives (goals[{index}].objectives).")
    if plan.member_signed_on is None:
        missing.append("The plan is not signed by the member (member_signed_on).")
    if plan.case_manager_signed_on is None:
        missing.append("The plan is not signed by the case manager (case_manager_signed_on).")
    if plan.licensed_professional_signed_on is None:
        missing.append(
            "The plan is not signed by a licensed behavioral health professional "
            "(licensed_professional_signed_on)."
        )
    if not plan.member_participated:
        missing.append("The member did not take part in developing the plan (member_participated).")
    return PlanValidation(plan.plan_id, tuple(missing), plan.member_participated and not missing)


# --- TCM-08 / TCM-07: contact cadence and outreach -----------------------------------------------


@dataclass(frozen=True, slots=True)
class ContactDue:
    month: date  # first day of the calendar month judged
    contacts_in_month: int
    met: bool  # the month already has its minimum of community/home contacts
    due_on: date  # the last day by which the next community/home contact is due
    rule_id: str = "TCM-08"


def community_contact_due(contacts: Iterable[date], *, on: date, min_per_month: int = 1) -> ContactDue:
    """TCM-08: at least ``min_per_month`` community/home contacts every calendar month.

    If the month of ``on`` has its contacts, the next is due by the end of the following month;
    otherwise by the end of this month.
    """
    if min_per_month < 1:
        raise InputError("at least one contact a month", field="min_per_month")
    month_start = on.replace(day=1)
    in_month = sum(1 for d in contacts if d.year == on.year and d.month == on.month)
    met = in_month >= min_per_month
    due = _end_of_month(add_months(month_start, 1)) if met else _end_of_month(on)
    return ContactDue(month_start, in_month, met, due)


def outreach_deadline(
    missed: datetime,
    *,
    tz: ZoneInfo,
    holidays: frozenset[date],
    business_days: int = 2,
) -> Deadline:
    """TCM-07: outreach after a missed appointment or contact is due by the end of the 2nd business
    day after it (a thin name over ``bhum.domain.clocks.outreach_due``)."""
    return outreach_due(missed, tz=tz, holidays=holidays, business_days=business_days)


def needs_escalation(task: Task, now: datetime) -> bool:
    """TCM-07/08: an open task past its due instant, not yet escalated, goes to the supervisor."""
    return task.is_overdue(now) and not task.escalated


# --- TCM-05: transitions from institutions -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TransitionLimits:
    """TCM-05 numbers (tcm pack ``tcm.institution-transition-window``)."""

    long_stay_min_days: int = 180
    long_stay_transition_days: int = 60
    short_stay_transition_days: int = 14
    imd_min_age: int = 22
    imd_max_age: int = 64


@dataclass(frozen=True, slots=True)
class InstitutionalStay:
    """A covered stay. Stay length counts days from admission up to (not including) discharge."""

    setting: ResidenceSetting
    admitted_on: date
    expected_discharge_on: date | None = None
    discharged_on: date | None = None  # the actual discharge wins over the expected one

    def __post_init__(self) -> None:
        for name in ("expected_discharge_on", "discharged_on"):
            day = getattr(self, name)
            if day is not None and day < self.admitted_on:
                raise InputError("discharge is before admission", field=name)

    @property
    def discharge_on(self) -> date | None:
        return self.discharged_on or self.expected_discharge_on

    @property
    def stay_days(self) -> int | None:
        end = self.discharge_on
        return None if end is None else (end - self.admitted_on).days


@dataclass(frozen=True, slots=True)
class TransitionWindow:
    eligible: bool
    billable_from: date | None  # first day case management may be billed as transition
    billable_through: date | None  # last day (the day before discharge)
    stay_days: int | None
    reason: str
    rule_id: str = "TCM-05"

    def covers(self, day: date) -> bool:
        return (
            self.eligible
            and self.billable_from is not None
            and self.billable_through is not None
            and self.billable_from <= day <= self.billable_through
        )


def _birthday(birth_date: date, age: int) -> date:
    try:
        return birth_date.replace(year=birth_date.year + age)
    except ValueError:  # 29 February: the birthday counts on 1 March (as values.age_on does)
        return date(birth_date.year + age, 3, 1)


def transition_window(
    stay: InstitutionalStay,
    *,
    birth_date: date,
    limits: TransitionLimits = TransitionLimits(),
) -> TransitionWindow:
    """TCM-05: whether, and from which date, case management may be billed as transition.

    A stay of ``long_stay_min_days`` or more: the last ``long_stay_transition_days`` days before
    discharge; a shorter stay: the last ``short_stay_transition_days`` days. The window ends the day
    before discharge (discharge itself is not case management, TCM-04). Never for inmates of public
    institutions; never while the member is aged 22–64 in an IMD: a birthday inside the window
    moves its start (turning 65) or its end (turning 22).
    """
    lim = limits
    if stay.setting is ResidenceSetting.PUBLIC_INSTITUTION:
        return TransitionWindow(
            False, None, None, stay.stay_days, "inmates of public institutions are not transitioning"
        )
    if not stay.setting.is_institution:
        return TransitionWindow(
            False, None, None, None, f"a {stay.setting.value.replace('_', ' ')} is not an institution"
        )
    discharge, days = stay.discharge_on, stay.stay_days
    if discharge is None or days is None:
        return TransitionWindow(False, None, None, None, "no expected or actual discharge date")
    long_stay = days >= lim.long_stay_min_days
    window_days = lim.long_stay_transition_days if long_stay else lim.short_stay_transition_days
    start = max(stay.admitted_on, discharge - timedelta(days=window_days))
    end = discharge - timedelta(days=1)
    kind = (
        f"the last {window_days} days of a stay of {days} days (≥ {lim.long_stay_min_days})"
        if long_stay
        else f"the last {window_days} days before discharge of a stay of {days} days "
        f"(< {lim.long_stay_min_days})"
    )
    if end < start:
        return TransitionWindow(False, None, None, days, "the stay has no day before discharge")
    if stay.setting is ResidenceSetting.IMD:
        # Excluded from the (imd_min_age)th birthday up to the day before the (imd_max_age + 1)th.
        excluded_from = _birthday(birth_date, lim.imd_min_age)
        excluded_to = _birthday(birth_date, lim.imd_max_age + 1) - timedelta(days=1)
        if excluded_from <= start and end <= excluded_to:
            return TransitionWindow(
                False,
                None,
                None,
                days,
                f"members aged {lim.imd_min_age}-{lim.imd_max_age} residing in an IMD are not "
                f"transitioning (age {age_on(birth_date, start)})",
            )
        if excluded_from <= start <= excluded_to:
            start = excluded_to + timedelta(days=1)
            kind += f", from the member's {lim.imd_max_age + 1}th birthday in the IMD"
        elif start < excluded_from <= end:
            end = excluded_from - timedelta(days=1)
            kind += f", until the day before the member's {lim.imd_min_age}nd birthday in the IMD"
    return TransitionWindow(True, start, end, days, f"transition during {kind}")


# --- TCM-12: refusal -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseManagementRefusal:
    """A member's recorded refusal of case management (TCM-12). Withdrawn when the member accepts."""

    member_id: str
    refused_on: date
    recorded_by: str
    reason: str = ""
    withdrawn_on: date | None = None

    def __post_init__(self) -> None:
        if not self.member_id.strip():
            raise InputError("a refusal names the member", field="member_id")
        if not self.recorded_by.strip():
            raise InputError("a refusal names who recorded it", field="recorded_by")
        if self.withdrawn_on is not None and self.withdrawn_on < self.refused_on:
            raise InputError("withdrawn before it was made", field="withdrawn_on")

    def in_effect_on(self, day: date) -> bool:
        return self.refused_on <= day and (self.withdrawn_on is None or day < self.withdrawn_on)


def refusal_restricts(
    service: Code,
    refusals: Iterable[CaseManagementRefusal],
    on: date,
    *,
    case_management_codes: frozenset[Code] = CASE_MANAGEMENT_CODES,
) -> bool:
    """TCM-12: does a refusal of case management stand in the way of ``service`` on ``on``?

    Only case management itself (T1017) is affected; every other service stays available: a
    refusal never makes another service ineligible. Claim and authorization engines call this and
    must not restrict anything when it says False.
    """
    if not any(c.same_as(service) for c in case_management_codes):
        return False
    return any(r.in_effect_on(on) for r in refusals)
