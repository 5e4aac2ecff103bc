"""Letters sent to providers and members. Each is generated once per decision or case step: the
idempotency key is unique in the store, so a re-run batch never sends a second copy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bhum.domain.errors import InputError


class LetterKind(StrEnum):
    CLINICAL_UPDATE_REQUEST = "clinical_update_request"  # OPM-04: to the provider, form due in 30 days
    MEMBER_NOTICE = "member_notice"  # OPM-05: to the member, treatment approved during the 30 days
    APPROVAL = "approval"
    PARTIAL_APPROVAL = "partial_approval"
    DENIAL = "denial"  # REG-03: plain language, criterion, appeal rights, peer-to-peer offer
    DISCONTINUATION = "discontinuation"  # OPM-07
    PENDED_INFORMATION_REQUEST = "pended_information_request"
    TESTING_PREAUTH_NOTICE = "testing_preauth_notice"  # OPM-01


class RecipientKind(StrEnum):
    PROVIDER = "provider"
    MEMBER = "member"


@dataclass(frozen=True, slots=True)
class Letter:
    letter_id: str
    kind: LetterKind
    recipient_kind: RecipientKind
    recipient_id: str  # an NPI for providers, a member id for members
    member_id: str
    template: str  # template name and version, e.g. "opm/clinical_update_request@1"
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
    """One letter of a kind to one kind of recipient about one decision or case step."""
    return f"{kind}:{recipient_kind}:{about}"
