"""The consent registry and the one disclosure decision every disclosure path asks (COC-04, REG-06).

HIPAA lets practitioners share information for treatment coordination (and payment and health
care operations) without the member's authorization (COC-04) — the practitioner is encouraged to
discuss it with the member. Two kinds of records are stricter:

- psychotherapy notes are released only with a **written release signed by the member** (COC-04);
- records of a substance use disorder program under 42 CFR Part 2 need the patient's **consent**,
  beyond HIPAA's treatment/payment/operations allowances (REG-06).

Everything else (any purpose outside treatment, payment or operations) needs a general consent
naming the recipient. Pure: the day of the disclosure is an argument.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bhum.domain.errors import InputError

__all__ = [
    "TPO_PURPOSES",
    "Consent",
    "ConsentScope",
    "DisclosureDecision",
    "DisclosurePurpose",
    "RecordKind",
    "may_disclose",
    "parse_record_kind",
]


class RecordKind(StrEnum):
    """What is being disclosed."""

    GENERAL = "general"  # treatment summaries, diagnoses, medications, authorizations, letters
    PSYCHOTHERAPY_NOTES = "psychotherapy_notes"  # session content notes (COC-04)
    SUD_PROGRAM = "sud_program"  # records of a 42 CFR Part 2 program (REG-06)


class ConsentScope(StrEnum):
    GENERAL = "general"
    PSYCHOTHERAPY_NOTES = "psychotherapy_notes"
    SUD_PROGRAM_RECORDS = "sud_program_records"


class DisclosurePurpose(StrEnum):
    TREATMENT = "treatment"  # including coordination of care with the PCP (COC-01/02)
    PAYMENT = "payment"
    HEALTH_CARE_OPERATIONS = "health_care_operations"
    OTHER = "other"  # research, legal, employer, family … always needs consent


TPO_PURPOSES = frozenset(
    {DisclosurePurpose.TREATMENT, DisclosurePurpose.PAYMENT, DisclosurePurpose.HEALTH_CARE_OPERATIONS}
)

_SCOPE_FOR = {
    RecordKind.GENERAL: ConsentScope.GENERAL,
    RecordKind.PSYCHOTHERAPY_NOTES: ConsentScope.PSYCHOTHERAPY_NOTES,
    RecordKind.SUD_PROGRAM: ConsentScope.SUD_PROGRAM_RECORDS,
}


def parse_record_kind(text: str, *, record: str | int | None = None, source: str | None = None) -> RecordKind:
    try:
        return RecordKind(text.strip())
    except ValueError as exc:
        allowed = ", ".join(k.value for k in RecordKind)
        raise InputError(
            f"unknown record kind {text!r}; expected one of {allowed}",
            field="record_kind",
            record=record,
            source=source,
        ) from exc


@dataclass(frozen=True, slots=True)
class Consent:
    """A member's consent or release to disclose records of one scope to one named recipient."""

    consent_id: str
    member_id: str
    scope: ConsentScope
    recipient: str  # who may receive: an NPI, an organization id, a named person or agency
    signed_on: date
    purposes: frozenset[DisclosurePurpose] = TPO_PURPOSES
    expires_on: date | None = None  # last day in effect
    revoked_on: date | None = None  # in effect up to the day before
    written: bool = True  # a written form signed by the member (psychotherapy notes need one)

    def __post_init__(self) -> None:
        if not self.consent_id.strip():
            raise InputError("a consent needs an id", field="consent_id")
        if not self.member_id.strip():
            raise InputError("a consent names the member", field="member_id", record=self.consent_id)
        if not self.recipient.strip():
            raise InputError("a consent names its recipient", field="recipient", record=self.consent_id)
        if not self.purposes:
            raise InputError(
                "a consent covers at least one purpose", field="purposes", record=self.consent_id
            )
        if self.expires_on is not None and self.expires_on < self.signed_on:
            raise InputError(
                "the consent expires before it was signed", field="expires_on", record=self.consent_id
            )
        if self.revoked_on is not None and self.revoked_on < self.signed_on:
            raise InputError(
                "the consent is revoked before it was signed", field="revoked_on", record=self.consent_id
            )

    def in_effect_on(self, day: date) -> bool:
        return (
            self.signed_on <= day
            and (self.expires_on is None or day <= self.expires_on)
            and (self.revoked_on is None or day < self.revoked_on)
        )

    def why_not_in_effect(self, day: date) -> str:
        if day < self.signed_on:
            return f"consent {self.consent_id} is signed {self.signed_on.isoformat()}, after the disclosure"
        if self.revoked_on is not None and day >= self.revoked_on:
            return f"consent {self.consent_id} was revoked on {self.revoked_on.isoformat()}"
        if self.expires_on is not None and day > self.expires_on:
            return f"consent {self.consent_id} expired on {self.expires_on.isoformat()}"
        return f"consent {self.consent_id} is in effect"


@dataclass(frozen=True, slots=True)
class DisclosureDecision:
    allowed: bool
    reason: str  # safe to log and show: names consents and rules, never member data
    rule_id: str  # COC-04 or REG-06
    consent_id: str | None = None  # the consent relied on, when one was needed and found


def may_disclose(
    record_kind: RecordKind,
    recipient: str,
    purpose: DisclosurePurpose,
    consents: Iterable[Consent],
    on: date,
    *,
    member_id: str | None = None,
) -> DisclosureDecision:
    """May ``record_kind`` records go to ``recipient`` for ``purpose`` on ``on``?

    ``consents`` are the member's (pass ``member_id`` to have others ignored defensively).
    """
    if not recipient.strip():
        raise InputError("a disclosure names its recipient", field="recipient")
    scope = _SCOPE_FOR[record_kind]
    if record_kind is RecordKind.PSYCHOTHERAPY_NOTES:
        rule_id, needed = "COC-04", "a written release signed by the member"
    elif record_kind is RecordKind.SUD_PROGRAM:
        rule_id, needed = "REG-06", "the patient's consent (42 CFR Part 2)"
    elif purpose in TPO_PURPOSES:
        return DisclosureDecision(
            True,
            f"{purpose.value.replace('_', ' ')} disclosure is allowed without the member's authorization "
            "(HIPAA); discuss coordination with the member",
            "COC-04",
        )
    else:
        rule_id, needed = (
            "COC-04",
            "the member's consent for a disclosure outside treatment, payment or operations",
        )

    candidates = [
        c
        for c in consents
        if c.scope is scope and c.recipient == recipient and (member_id is None or c.member_id == member_id)
    ]
    near_misses: list[str] = []
    for consent in sorted(candidates, key=lambda c: (c.signed_on, c.consent_id)):
        if not consent.in_effect_on(on):
            near_misses.append(consent.why_not_in_effect(on))
        elif purpose not in consent.purposes:
            near_misses.append(f"consent {consent.consent_id} does not cover {purpose.value}")
        elif record_kind is RecordKind.PSYCHOTHERAPY_NOTES and not consent.written:
            near_misses.append(f"consent {consent.consent_id} is not a written release")
        else:
            return DisclosureDecision(
                True,
                f"{record_kind.value.replace('_', ' ')} may be disclosed to this recipient under consent "
                f"{consent.consent_id}",
                rule_id,
                consent.consent_id,
            )
    detail = "; ".join(near_misses) if near_misses else "no consent names this recipient"
    return DisclosureDecision(
        False,
        f"{record_kind.value.replace('_', ' ')} need {needed}: {detail}",
        rule_id,
    )
