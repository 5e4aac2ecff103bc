"""What a letter says: the content model of every notice bhum sends to a provider or a member.

Pure dataclasses. The services decide *when* a letter is sent and build its content; the letters
adapter turns a ``LetterContent`` into a PDF. Every check here is about what a notice must say by
rule (REG-01, REG-03, REG-04, OPM-04, OPM-05, OPM-07, COC-01/02, TCM-07), so a letter that would be
non-compliant can never be produced: it is refused with an ``InputError`` naming the field.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from bhum.domain.clocks import OPM04_FORM_DAYS, form_due
from bhum.domain.errors import InputError
from bhum.domain.values import CARC, RARC, Code, DateSpan

# OPM-04: the Clinical Update Request Form is due within 30 days of the letter date. A pack may
# override the number; this is the program default.
OPM_FORM_RESPONSE_DAYS = OPM04_FORM_DAYS

# Catalog rule IDs look like OPM-04, TCM-07, MN-01, REG-03.
_RULE_ID = re.compile(r"^[A-Z]{2,4}-\d{2}$")
# Letter ids become file names: keep them to a portable, path-free alphabet.
_LETTER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
# CARC 62 was deactivated; it must never appear on a notice (see the rule catalog).
_DEACTIVATED_CARC = frozenset({"62"})


class LetterKind(StrEnum):
    """Every notice bhum can send. The value is also the template name."""

    AUTHORIZATION_APPROVAL = "authorization_approval"
    AUTHORIZATION_PARTIAL_APPROVAL = "authorization_partial_approval"
    AUTHORIZATION_DENIAL = "authorization_denial"
    REQUEST_FOR_INFORMATION = "request_for_information"  # a pended request: what we still need
    APPEAL_DECISION = "appeal_decision"
    PEER_TO_PEER_OFFER = "peer_to_peer_offer"  # REG-03, when offered on its own
    OPM_CLINICAL_UPDATE_REQUEST = "opm_clinical_update_request"  # OPM-04, to the provider, with the form
    OPM_MEMBER_NOTICE = "opm_member_notice"  # OPM-05, to the member
    OPM_DISCONTINUATION_PROVIDER = "opm_discontinuation_provider"  # OPM-07
    OPM_DISCONTINUATION_MEMBER = "opm_discontinuation_member"  # OPM-07
    PCP_COORDINATION = "pcp_coordination"  # COC-01, COC-02: notice to the primary care physician
    CASE_MANAGEMENT_OUTREACH = "case_management_outreach"  # TCM-07: after a missed appointment
    TESTING_PREAUTH_NOTICE = "testing_preauth_notice"  # OPM-01: testing now needs preauthorization

    # Names from the first domain sketch, kept as aliases so existing callers keep working.
    CLINICAL_UPDATE_REQUEST = "opm_clinical_update_request"
    MEMBER_NOTICE = "opm_member_notice"
    APPROVAL = "authorization_approval"
    PARTIAL_APPROVAL = "authorization_partial_approval"
    DENIAL = "authorization_denial"
    PENDED_INFORMATION_REQUEST = "request_for_information"


class RecipientKind(StrEnum):
    PROVIDER = "provider"  # a treating provider or the member's PCP
    MEMBER = "member"


RecipientRole = RecipientKind  # the name the content model used first


class LetterDecision(StrEnum):
    """The decision a letter reports. The first five share their values with DecisionOutcome."""

    APPROVED = "approved"
    PARTIALLY_APPROVED = "partially_approved"
    DENIED = "denied"  # medical necessity: a licensed reviewer decided (REG-04)
    ADMINISTRATIVE_DENIAL = "administrative_denial"  # no coverage, no benefit, not a covered service
    PENDED = "pended"
    UPHELD = "upheld"  # appeal: the denial stands
    OVERTURNED = "overturned"  # appeal: the denial is reversed
    PARTIALLY_OVERTURNED = "partially_overturned"
    DISCONTINUED = "discontinued"  # OPM-07


ADVERSE_DECISIONS = frozenset(
    {
        LetterDecision.PARTIALLY_APPROVED,
        LetterDecision.DENIED,
        LetterDecision.ADMINISTRATIVE_DENIAL,
        LetterDecision.UPHELD,
        LetterDecision.PARTIALLY_OVERTURNED,
        LetterDecision.DISCONTINUED,
    }
)
# Medical-necessity adverse decisions: reviewer named (REG-04) and peer-to-peer offered (REG-03).
MEDICAL_NECESSITY_ADVERSE = frozenset({LetterDecision.PARTIALLY_APPROVED, LetterDecision.DENIED})


def _required_text(value: str | None, field_name: str, record: str | None) -> None:
    if value is None or not value.strip():
        raise InputError("must not be blank", field=field_name, record=record)


@dataclass(frozen=True, slots=True)
class PlanContact:
    """Who the letter is from and how to reach them."""

    name: str
    phone: str
    address_lines: tuple[str, ...]
    tty: str = "711"
    hours: str = "Monday to Friday, 8 a.m. to 6 p.m. Central time."  # a full sentence
    fax: str | None = None
    website: str | None = None
    department: str = "Behavioral Health Utilization Management"

    def __post_init__(self) -> None:
        _required_text(self.name, "plan.name", None)
        _required_text(self.phone, "plan.phone", None)
        if not self.address_lines or any(not line.strip() for line in self.address_lines):
            raise InputError("the plan needs a mailing address", field="plan.address_lines")


@dataclass(frozen=True, slots=True)
class Recipient:
    """A provider (with NPI) or a member, as addressed on the envelope."""

    kind: RecipientKind
    name: str
    address_lines: tuple[str, ...]
    npi: str | None = None

    def __post_init__(self) -> None:
        _required_text(self.name, "recipient.name", None)
        if not self.address_lines or any(not line.strip() for line in self.address_lines):
            raise InputError("a letter needs a mailing address", field="recipient.address_lines")
        if self.kind is RecipientKind.PROVIDER:
            if self.npi is None or not (len(self.npi) == 10 and self.npi.isdigit()):
                raise InputError(
                    f"a provider recipient needs a 10-digit NPI, got {self.npi!r}", field="recipient.npi"
                )
        elif self.npi is not None:
            raise InputError("a member recipient has no NPI", field="recipient.npi")

    @property
    def key(self) -> str:
        """Identity for idempotency: the NPI for a provider, the member role otherwise.

        A member gets one letter per decision whatever the address; the key is hashed before use.
        """
        return f"provider:{self.npi}" if self.kind is RecipientKind.PROVIDER else "member"


@dataclass(frozen=True, slots=True)
class MemberRef:
    """The member the letter is about (synthetic in tests; never logged)."""

    display_name: str
    member_id: str

    def __post_init__(self) -> None:
        _required_text(self.display_name, "member.display_name", None)
        _required_text(self.member_id, "member.member_id", None)


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """One service on the letter: the code with its display, the dates, and the units or sessions.

    ``requested`` is what the provider asked for, ``approved`` what the plan approved; either may
    be absent when the letter does not report it (e.g. the OPM member notice).
    """

    service: Code
    span: DateSpan
    unit: str = "units"  # "sessions", "days", "units (15 minutes each)" …
    requested: int | None = None
    approved: int | None = None

    def __post_init__(self) -> None:
        if not self.service.display or not self.service.display.strip():
            raise InputError(
                "a service on a letter needs a plain-language display name",
                field="service_lines.service.display",
                record=self.service.code,
            )
        if self.span.end is None:
            raise InputError("a service on a letter needs an end date", field="service_lines.span.end")
        for name, value in (("requested", self.requested), ("approved", self.approved)):
            if value is not None and value < 0:
                raise InputError(f"{name} units cannot be negative", field=f"service_lines.{name}")
        if self.requested is not None and self.approved is not None and self.approved > self.requested:
            raise InputError(
                f"approved ({self.approved}) is more than requested ({self.requested})",
                field="service_lines.approved",
                record=self.service.code,
            )
        _required_text(self.unit, "service_lines.unit", self.service.code)


@dataclass(frozen=True, slots=True)
class Reason:
    """Why: the catalog rule, the criterion by name, a plain sentence naming the value that tripped it,
    and the claim adjustment codes (CARC/RARC) where they apply."""

    rule_id: str
    criterion: str
    sentence: str
    codes: tuple[Code, ...] = ()

    def __post_init__(self) -> None:
        if not _RULE_ID.match(self.rule_id):
            raise InputError(
                f"{self.rule_id!r} is not a rule ID from the catalog (like IOP-04)", field="reasons.rule_id"
            )
        _required_text(self.criterion, "reasons.criterion", self.rule_id)
        _required_text(self.sentence, "reasons.sentence", self.rule_id)
        for code in self.codes:
            if code.system not in (CARC, RARC):
                raise InputError(
                    f"{code} is not a CARC or RARC code", field="reasons.codes", record=self.rule_id
                )
            if code.system == CARC and code.code in _DEACTIVATED_CARC:
                raise InputError(
                    f"CARC {code.code} is deactivated", field="reasons.codes", record=self.rule_id
                )


@dataclass(frozen=True, slots=True)
class Reviewer:
    """The licensed clinician who made an adverse medical-necessity decision (REG-04)."""

    name: str
    credential: str  # e.g. "MD, psychiatrist" or "PhD, licensed psychologist"

    def __post_init__(self) -> None:
        _required_text(self.name, "reviewer.name", None)
        _required_text(self.credential, "reviewer.credential", None)


@dataclass(frozen=True, slots=True)
class StaffContact:
    """A named person the reader can call: a case manager or care coordinator."""

    name: str
    phone: str
    credential: str | None = None

    def __post_init__(self) -> None:
        _required_text(self.name, "contact.name", None)
        _required_text(self.phone, "contact.phone", None)


@dataclass(frozen=True, slots=True)
class AppealRights:
    """How and by when to appeal (REG-03). ``instructions`` is plain language from the plan's pack."""

    file_by: date
    instructions: str
    expedited_instructions: str | None = None
    external_review: str | None = None  # e.g. state fair hearing / independent review, where it applies

    def __post_init__(self) -> None:
        _required_text(self.instructions, "appeal_rights.instructions", None)


@dataclass(frozen=True, slots=True)
class PeerToPeerOffer:
    """The offer to talk with the reviewer who made the decision (REG-03)."""

    phone: str
    request_by: date
    reviewer: Reviewer

    def __post_init__(self) -> None:
        _required_text(self.phone, "peer_to_peer.phone", None)


@dataclass(frozen=True, slots=True)
class FormField:
    """One question on the Clinical Update Request Form. ``key`` is the field name the returned,
    structured form uses (OPM-06)."""

    key: str
    label: str
    prompt: str


# OPM-04 / OPM-06: what the Clinical Update Request Form asks. The returned form is entered with
# the same keys, so the review (OPM-06) reads the answers to exactly these questions.
CLINICAL_UPDATE_FORM_FIELDS: tuple[FormField, ...] = (
    FormField("diagnoses", "Diagnoses", "Current diagnoses with ICD-10-CM codes."),
    FormField(
        "treatment_plan",
        "Current treatment plan",
        "The treatment you are giving now: type of therapy, who provides it, medicines.",
    ),
    FormField("goals", "Treatment goals", "The goals of treatment and how you will measure them."),
    FormField(
        "level_intensity_duration",
        "Level, intensity and duration",
        "Level of care, how often the member is seen, session length, and expected end date.",
    ),
    FormField(
        "progress",
        "Progress",
        "Progress since treatment began. If there is no progress, what you will change.",
    ),
    FormField(
        "functioning",
        "Current functioning",
        "How the member is doing at home, work or school; symptom measures and scores.",
    ),
    FormField(
        "risk",
        "Risk",
        "Current risk to self or others and the date of the last risk assessment.",
    ),
    FormField(
        "substance_use",
        "Substance use",
        "Any substance use and how the plan of care addresses it.",
    ),
    FormField(
        "more_intensive_or_community",
        "More intensive care or community resources",
        "Does the member need a higher level of care, or community-based resources?",
    ),
    FormField(
        "pcp_coordination",
        "Coordination with the primary care physician",
        "Date and content of your last contact with the member's PCP, or why none.",
    ),
)


@dataclass(frozen=True, slots=True)
class ClinicalUpdateForm:
    """The Clinical Update Request Form enclosed with the OPM provider letter (OPM-04)."""

    case_id: str
    due_date: date
    return_by: str  # how to return it: fax number, portal or address, in plain words
    fields: tuple[FormField, ...] = CLINICAL_UPDATE_FORM_FIELDS

    def __post_init__(self) -> None:
        _required_text(self.case_id, "form.case_id", None)
        _required_text(self.return_by, "form.return_by", self.case_id)
        if not self.fields:
            raise InputError("the form needs at least one question", field="form.fields", record=self.case_id)
        keys = [f.key for f in self.fields]
        if len(set(keys)) != len(keys):
            raise InputError("form questions need distinct keys", field="form.fields", record=self.case_id)


def form_due_date(letter_date: date, days: int = OPM_FORM_RESPONSE_DAYS) -> date:
    """OPM-04: the form is due ``days`` calendar days after the letter date (the letter date is day
    zero: a letter dated 2026-03-02 is due 2026-04-01). Same arithmetic as the decision clocks."""
    return form_due(letter_date, days)


@dataclass(frozen=True, slots=True)
class LetterContent:
    """Everything one letter says, validated for its kind on construction.

    ``reference`` is the request, authorization or case number the reader quotes when calling.
    ``requested_information`` lists what a pended request still needs (the open criteria).
    ``effective_date`` is the date a discontinuation takes effect (OPM-07).
    ``missed_contact_on`` is the missed appointment or contact that started outreach (TCM-07).
    """

    letter_id: str
    kind: LetterKind
    letter_date: date
    plan: PlanContact
    recipient: Recipient
    member: MemberRef
    reference: str
    service_lines: tuple[ServiceLine, ...] = ()
    decision: LetterDecision | None = None
    reasons: tuple[Reason, ...] = ()
    due_date: date | None = None
    appeal_rights: AppealRights | None = None
    peer_to_peer: PeerToPeerOffer | None = None
    reviewer: Reviewer | None = None
    form: ClinicalUpdateForm | None = None
    requested_information: tuple[str, ...] = ()
    effective_date: date | None = None
    contact: StaffContact | None = None
    missed_contact_on: date | None = None
    notes: tuple[str, ...] = field(default=())  # extra plain-language paragraphs from the service

    def __post_init__(self) -> None:
        if not _LETTER_ID.match(self.letter_id):
            raise InputError(
                "a letter id uses letters, digits, '.', '_' and '-' only (it becomes a file name)",
                field="letter_id",
                record=self.letter_id,
            )
        _required_text(self.reference, "reference", self.letter_id)
        if self.due_date is not None and self.due_date <= self.letter_date:
            raise InputError(
                f"the due date {self.due_date.isoformat()} is not after the letter date "
                f"{self.letter_date.isoformat()}",
                field="due_date",
                record=self.letter_id,
            )
        for text in (*self.requested_information, *self.notes):
            _required_text(text, "requested_information/notes", self.letter_id)
        _CHECKS[self.kind](self)

    # -- helpers used by the checks ------------------------------------------------------------

    def _refuse(self, message: str, field_name: str) -> InputError:
        return InputError(f"{self.kind.value}: {message}", field=field_name, record=self.letter_id)

    def _need(self, condition: bool, message: str, field_name: str) -> None:
        if not condition:
            raise self._refuse(message, field_name)

    def _need_role(self, role: RecipientKind) -> None:
        self._need(self.recipient.kind is role, f"goes to the {role.value} only", "recipient.kind")

    def _need_decision(self, *allowed: LetterDecision) -> None:
        self._need(
            self.decision in allowed,
            f"the decision must be one of {', '.join(d.value for d in allowed)}",
            "decision",
        )

    def _need_adverse_notice(self) -> None:
        """REG-01 / REG-03 / REG-04: what every adverse decision must say."""
        self._need(bool(self.reasons), "a denial needs at least one specific reason (REG-01)", "reasons")
        self._need(
            self.appeal_rights is not None, "a denial must state appeal rights (REG-03)", "appeal_rights"
        )
        if self.appeal_rights is not None:
            self._need(
                self.appeal_rights.file_by > self.letter_date,
                "the appeal deadline must be after the letter date",
                "appeal_rights.file_by",
            )
        if self.decision in MEDICAL_NECESSITY_ADVERSE:
            self._need(
                self.peer_to_peer is not None,
                "a medical-necessity denial must offer a peer-to-peer discussion (REG-03)",
                "peer_to_peer",
            )
            self._need(
                self.reviewer is not None,
                "a medical-necessity denial names the licensed reviewer (REG-04)",
                "reviewer",
            )
        if self.peer_to_peer is not None:
            self._need(
                self.peer_to_peer.request_by >= self.letter_date,
                "the peer-to-peer offer cannot end before the letter date",
                "peer_to_peer.request_by",
            )

    def _need_service_lines(self) -> None:
        self._need(bool(self.service_lines), "name at least one service", "service_lines")


def _check_approval(c: LetterContent) -> None:
    c._need_decision(LetterDecision.APPROVED)
    c._need_service_lines()
    c._need(
        all(line.approved is not None and line.approved > 0 for line in c.service_lines),
        "every approved service states the approved units or sessions",
        "service_lines.approved",
    )


def _check_partial_approval(c: LetterContent) -> None:
    c._need_decision(LetterDecision.PARTIALLY_APPROVED)
    c._need_service_lines()
    c._need(
        all(line.requested is not None and line.approved is not None for line in c.service_lines),
        "every service states both the requested and the approved units",
        "service_lines.approved",
    )
    c._need(
        any(
            line.approved is not None and line.requested is not None and line.approved < line.requested
            for line in c.service_lines
        ),
        "a partial approval approves less than requested on at least one service",
        "service_lines.approved",
    )
    c._need_adverse_notice()


def _check_denial(c: LetterContent) -> None:
    c._need_decision(LetterDecision.DENIED, LetterDecision.ADMINISTRATIVE_DENIAL)
    c._need_service_lines()
    c._need_adverse_notice()


def _check_request_for_information(c: LetterContent) -> None:
    c._need_decision(LetterDecision.PENDED)
    c._need_service_lines()
    c._need(bool(c.requested_information), "list the information still needed", "requested_information")
    c._need(c.due_date is not None, "say by when the information is needed", "due_date")


def _check_appeal_decision(c: LetterContent) -> None:
    c._need_decision(LetterDecision.UPHELD, LetterDecision.OVERTURNED, LetterDecision.PARTIALLY_OVERTURNED)
    c._need_service_lines()
    if c.decision is not LetterDecision.OVERTURNED:
        c._need(bool(c.reasons), "an upheld denial needs its specific reasons (REG-01)", "reasons")
        c._need(c.reviewer is not None, "name the licensed appeal reviewer (REG-04)", "reviewer")
        c._need(
            c.appeal_rights is not None, "state the next level of appeal rights (REG-03)", "appeal_rights"
        )


def _check_peer_to_peer_offer(c: LetterContent) -> None:
    c._need_role(RecipientKind.PROVIDER)
    c._need(c.peer_to_peer is not None, "the offer itself is missing (REG-03)", "peer_to_peer")
    c._need(bool(c.reasons), "say which decision and criterion the discussion is about", "reasons")
    c._need_service_lines()


def _check_opm_clinical_update_request(c: LetterContent) -> None:
    c._need_role(RecipientKind.PROVIDER)
    c._need(c.form is not None, "enclose the Clinical Update Request Form (OPM-04)", "form")
    c._need(c.due_date is not None, "state the form due date (OPM-04)", "due_date")
    if c.form is not None:
        c._need(
            c.form.due_date == c.due_date, "the form and the letter state the same due date", "form.due_date"
        )
    c._need(bool(c.reasons), "say why the member was identified (OPM-03)", "reasons")


def _check_opm_member_notice(c: LetterContent) -> None:
    c._need_role(RecipientKind.MEMBER)
    c._need(c.due_date is not None, "state the end of the 30-day period (OPM-05)", "due_date")


def _check_opm_discontinuation(c: LetterContent) -> None:
    c._need_decision(LetterDecision.DISCONTINUED)
    c._need(c.effective_date is not None, "state when the authorization ends (OPM-07)", "effective_date")
    if c.effective_date is not None:
        c._need(
            c.effective_date >= c.letter_date, "the end date cannot be before the letter", "effective_date"
        )
    c._need_service_lines()
    c._need_adverse_notice()


def _check_opm_discontinuation_provider(c: LetterContent) -> None:
    c._need_role(RecipientKind.PROVIDER)
    _check_opm_discontinuation(c)


def _check_opm_discontinuation_member(c: LetterContent) -> None:
    c._need_role(RecipientKind.MEMBER)
    _check_opm_discontinuation(c)


def _check_pcp_coordination(c: LetterContent) -> None:
    c._need_role(RecipientKind.PROVIDER)
    c._need(bool(c.reasons), "say what triggered coordination (COC-01/COC-02)", "reasons")
    c._need(
        all(r.rule_id.startswith("COC-") for r in c.reasons),
        "coordination reasons cite a COC rule",
        "reasons.rule_id",
    )
    c._need(c.contact is not None, "name the care coordinator to call", "contact")


def _check_case_management_outreach(c: LetterContent) -> None:
    c._need_role(RecipientKind.MEMBER)
    c._need(c.contact is not None, "name the case manager to call (TCM-07)", "contact")
    c._need(
        c.missed_contact_on is not None, "state the missed appointment date (TCM-07)", "missed_contact_on"
    )
    if c.missed_contact_on is not None:
        c._need(
            c.missed_contact_on <= c.letter_date, "the missed appointment is in the past", "missed_contact_on"
        )


def _check_testing_preauth_notice(c: LetterContent) -> None:
    c._need_role(RecipientKind.PROVIDER)
    c._need_service_lines()
    c._need(
        c.effective_date is not None, "state from when preauthorization is needed (OPM-01)", "effective_date"
    )
    c._need(bool(c.reasons), "cite the rule that requires preauthorization (OPM-01)", "reasons")


_CHECKS = {
    LetterKind.AUTHORIZATION_APPROVAL: _check_approval,
    LetterKind.AUTHORIZATION_PARTIAL_APPROVAL: _check_partial_approval,
    LetterKind.AUTHORIZATION_DENIAL: _check_denial,
    LetterKind.REQUEST_FOR_INFORMATION: _check_request_for_information,
    LetterKind.APPEAL_DECISION: _check_appeal_decision,
    LetterKind.PEER_TO_PEER_OFFER: _check_peer_to_peer_offer,
    LetterKind.OPM_CLINICAL_UPDATE_REQUEST: _check_opm_clinical_update_request,
    LetterKind.OPM_MEMBER_NOTICE: _check_opm_member_notice,
    LetterKind.OPM_DISCONTINUATION_PROVIDER: _check_opm_discontinuation_provider,
    LetterKind.OPM_DISCONTINUATION_MEMBER: _check_opm_discontinuation_member,
    LetterKind.PCP_COORDINATION: _check_pcp_coordination,
    LetterKind.CASE_MANAGEMENT_OUTREACH: _check_case_management_outreach,
    LetterKind.TESTING_PREAUTH_NOTICE: _check_testing_preauth_notice,
}


def idempotency_key(kind: LetterKind, subject_id: str, decision_id: str, recipient: Recipient | str) -> str:
    """A stable key for "this kind of letter, about this subject and decision, to this recipient".

    ``subject_id`` is the request, authorization or case id; ``decision_id`` the decision, review,
    event or outreach cycle that caused the letter. Re-running a job yields the same key, so a
    letter is produced once per decision and recipient. The key is a hash: it carries no member
    data and is safe as a letter id and file name.
    """
    who = recipient.key if isinstance(recipient, Recipient) else recipient
    for name, value in (("subject_id", subject_id), ("decision_id", decision_id), ("recipient", who)):
        _required_text(value, name, None)
    digest = hashlib.sha256("\x1f".join((kind.value, subject_id, decision_id, who)).encode()).hexdigest()
    return f"{kind.value}-{digest[:24]}"


# -- the stored record of a sent letter ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Letter:
    """The record of a produced letter, as the store keeps it (the PDF lives at ``file_path``)."""

    letter_id: str
    kind: LetterKind
    recipient_kind: RecipientKind
    recipient_id: str  # an NPI for providers, a member id for members
    member_id: str
    template: str  # template name and version, e.g. "authorization_denial@1"
    created_at: datetime
    idempotency_key: str
    request_id: str | None = None
    case_id: str | None = None
    decision_id: str | None = None
    file_path: str | None = None
    content_sha256: str | None = None

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None:
            raise InputError(
                "a timestamp must carry its time zone", field="created_at", record=self.letter_id
            )
        if not self.idempotency_key:
            raise InputError(
                "a letter needs an idempotency key", field="idempotency_key", record=self.letter_id
            )


def letter_idempotency_key(kind: LetterKind, recipient_kind: RecipientKind, about: str) -> str:
    """One letter of a kind to one kind of recipient about one decision or case step (readable form).

    Prefer ``idempotency_key`` when more than one provider may receive the same kind of letter.
    """
    return f"{kind}:{recipient_kind}:{about}"
