"""The letter content as the templates read it: plain JSON with dates and numbers already worded.

Formatting lives here, not in the templates, so every letter words a date or a unit count the same
way and the templates stay simple text.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from bhum.domain.letters import (
    AppealRights,
    LetterContent,
    LetterKind,
    PeerToPeerOffer,
    Reason,
    RecipientKind,
    Reviewer,
    ServiceLine,
    StaffContact,
)
from bhum.domain.values import CARC, CPT, HCPCS, RARC, REVENUE

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# Short labels a reader recognises, instead of code-system URIs.
_SYSTEM_LABELS = {HCPCS: "HCPCS", CPT: "CPT", REVENUE: "Revenue code", CARC: "CARC", RARC: "RARC"}

TITLES: dict[LetterKind, str] = {
    LetterKind.AUTHORIZATION_APPROVAL: "We approved a service",
    LetterKind.AUTHORIZATION_PARTIAL_APPROVAL: "We approved part of a request",
    LetterKind.AUTHORIZATION_DENIAL: "We did not approve a service",
    LetterKind.REQUEST_FOR_INFORMATION: "We need more information",
    LetterKind.APPEAL_DECISION: "Decision on an appeal",
    LetterKind.PEER_TO_PEER_OFFER: "Offer to talk with the reviewer",
    LetterKind.OPM_CLINICAL_UPDATE_REQUEST: "Clinical Update Request",
    LetterKind.OPM_MEMBER_NOTICE: "We asked your provider about your care",
    LetterKind.OPM_DISCONTINUATION_PROVIDER: "Approval for continued services has ended",
    LetterKind.OPM_DISCONTINUATION_MEMBER: "Approval for your continued services has ended",
    LetterKind.PCP_COORDINATION: "Coordinating care for your patient",
    LetterKind.CASE_MANAGEMENT_OUTREACH: "We missed you",
    LetterKind.TESTING_PREAUTH_NOTICE: "Testing now needs approval first",
}


def long_date(day: date) -> str:
    """'March 5, 2026' — spelled out, independent of the machine's locale."""
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def _optional_date(day: date | None) -> str | None:
    return None if day is None else long_date(day)


def _count(number: int | None, unit: str) -> str | None:
    return None if number is None else f"{number} {unit}"


def _service(line: ServiceLine) -> dict[str, Any]:
    end = line.span.end if line.span.end is not None else line.span.start
    not_approved = (
        line.requested - line.approved if line.requested is not None and line.approved is not None else None
    )
    return {
        "display": line.service.display,
        "code": line.service.code,
        "system": _SYSTEM_LABELS.get(line.service.system, line.service.system),
        "from": long_date(line.span.start),
        "to": long_date(end),
        "requested": _count(line.requested, line.unit),
        "approved": _count(line.approved, line.unit),
        "not_approved": _count(not_approved, line.unit),
    }


def _reason(reason: Reason) -> dict[str, Any]:
    return {
        "rule_id": reason.rule_id,
        "criterion": reason.criterion,
        "sentence": reason.sentence,
        "codes": ", ".join(f"{_SYSTEM_LABELS.get(c.system, c.system)} {c.code}" for c in reason.codes),
    }


def _reviewer(reviewer: Reviewer | None) -> dict[str, str] | None:
    return None if reviewer is None else {"name": reviewer.name, "credential": reviewer.credential}


def _appeal(appeal: AppealRights | None) -> dict[str, Any] | None:
    if appeal is None:
        return None
    return {
        "file_by": long_date(appeal.file_by),
        "instructions": appeal.instructions,
        "expedited": appeal.expedited_instructions,
        "external_review": appeal.external_review,
    }


def _peer_to_peer(offer: PeerToPeerOffer | None) -> dict[str, Any] | None:
    if offer is None:
        return None
    return {
        "phone": offer.phone,
        "request_by": long_date(offer.request_by),
        "reviewer": _reviewer(offer.reviewer),
    }


def _contact(contact: StaffContact | None) -> dict[str, Any] | None:
    if contact is None:
        return None
    return {"name": contact.name, "phone": contact.phone, "credential": contact.credential}


def letter_view(content: LetterContent) -> dict[str, Any]:
    """Everything a template may print, as JSON-ready values."""
    plan = content.plan
    recipient = content.recipient
    form = content.form
    return {
        "kind": content.kind.value,
        "title": TITLES[content.kind],
        "letter_id": content.letter_id,
        "letter_date": long_date(content.letter_date),
        "reference": content.reference,
        "plan": {
            "name": plan.name,
            "department": plan.department,
            "phone": plan.phone,
            "tty": plan.tty,
            "hours": plan.hours,
            "fax": plan.fax,
            "website": plan.website,
            "address_lines": list(plan.address_lines),
        },
        "recipient": {
            "name": recipient.name,
            "address_lines": list(recipient.address_lines),
            "npi": recipient.npi,
            "is_member": recipient.kind is RecipientKind.MEMBER,
        },
        "member": {"name": content.member.display_name, "id": content.member.member_id},
        "services": [_service(line) for line in content.service_lines],
        "decision": None if content.decision is None else content.decision.value,
        "reasons": [_reason(r) for r in content.reasons],
        "due_date": _optional_date(content.due_date),
        "appeal": _appeal(content.appeal_rights),
        "peer_to_peer": _peer_to_peer(content.peer_to_peer),
        "reviewer": _reviewer(content.reviewer),
        "form": None
        if form is None
        else {
            "case_id": form.case_id,
            "due_date": long_date(form.due_date),
            "return_by": form.return_by,
            "fields": [{"key": f.key, "label": f.label, "prompt": f.prompt} for f in form.fields],
        },
        "requested_information": list(content.requested_information),
        "effective_date": _optional_date(content.effective_date),
        "contact": _contact(content.contact),
        "missed_contact_on": _optional_date(content.missed_contact_on),
        "notes": list(content.notes),
    }
