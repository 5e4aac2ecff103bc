"""Retrospective documentation audit (MN-05) of billed case management sessions: which of the 11
required elements of a session note are missing (TCM-09) and which service-plan signatures are lacking
(TCM-10). Builds on ``validate_progress_note`` / ``validate_service_plan``; adds what only an audit after
the fact can say: a faxed signature whose original was never filed is late once the audit date passes
the due date, and a note whose stop time is not after its start time does not document start and stop.

Pure: the audit date is an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bhum.domain.case_management import (
    NoteElement,
    ProgressNote,
    ServicePlan,
    SignatureKind,
    validate_progress_note,
    validate_service_plan,
)
from bhum.domain.values import DateSpan

ELEMENTS: tuple[NoteElement, ...] = tuple(NoteElement)  # the 11, in the seed's order


@dataclass(frozen=True, slots=True)
class AuditedNote:
    """A session note as kept by the provider, with what links it to a billed session."""

    note: ProgressNote
    member_id: str
    staff_id: str | None = None
    claim_id: str | None = None  # when the note names the claim line it supports
    claim_line_number: int | None = None


@dataclass(frozen=True, slots=True)
class NoteFindings:
    note_id: str
    missing: tuple[NoteElement, ...]  # TCM-09 elements not documented, in the seed's order
    problems: tuple[str, ...]  # one sentence each

    @property
    def supported(self) -> bool:
        return not self.missing


def audit_note(note: ProgressNote, *, as_of: date, original_signature_days: int = 30) -> NoteFindings:
    """TCM-09 as of the audit date. A faxed signature counts as the provider's original signature only
    when the original was filed within ``original_signature_days`` of the fax (day 30 on time, day 31
    late), or, not filed yet, while the audit date is still within that window."""
    result = validate_progress_note(note, original_signature_days=original_signature_days)
    missing = set(result.missing)
    problems = list(result.problems)
    if note.start_time is not None and note.stop_time is not None and note.stop_time <= note.start_time:
        missing.add(NoteElement.START_STOP_TIMES)
    if note.signature is SignatureKind.FAXED:
        due = result.original_signature_due
        filed = note.original_signature_on
        # No fax date means the window cannot be judged; an original filed after the due date is late.
        if due is None or (filed is not None and filed > due):
            missing.add(NoteElement.PROVIDER_ORIGINAL_SIGNATURE)
        elif note.original_signature_on is None and as_of > due:
            missing.add(NoteElement.PROVIDER_ORIGINAL_SIGNATURE)
            problems.append(
                f"The faxed signature's original was due by {due.isoformat()} and is not on file "
                "(provider_original_signature)."
            )
    return NoteFindings(note.note_id, tuple(e for e in ELEMENTS if e in missing), tuple(problems))


class PlanSignature(StrEnum):
    """TCM-10: who must sign the service plan."""

    MEMBER = "member"
    CASE_MANAGER = "case_manager"
    LICENSED_PROFESSIONAL = "licensed_professional"  # a licensed behavioral health professional


@dataclass(frozen=True, slots=True)
class AuditedPlan:
    plan: ServicePlan
    member_id: str
    effective: DateSpan  # the sessions the plan governs (end None: until a later plan)


@dataclass(frozen=True, slots=True)
class PlanFindings:
    plan_id: str
    missing_signatures: tuple[PlanSignature, ...]
    problems: tuple[str, ...]
    development_compensable: bool

    @property
    def supported(self) -> bool:
        return not self.problems


def audit_plan(plan: ServicePlan) -> PlanFindings:
    """TCM-10: the signatures missing from a plan, with every other gap ``validate_service_plan`` names."""
    result = validate_service_plan(plan)
    signatures = (
        (PlanSignature.MEMBER, plan.member_signed_on),
        (PlanSignature.CASE_MANAGER, plan.case_manager_signed_on),
        (PlanSignature.LICENSED_PROFESSIONAL, plan.licensed_professional_signed_on),
    )
    missing = tuple(kind for kind, signed in signatures if signed is None)
    return PlanFindings(plan.plan_id, missing, result.missing, result.development_compensable)
