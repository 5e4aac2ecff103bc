"""Synthetic letter contents, one builder per kind. No real people: names and ids are made up."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from bhum.domain.letters import (
    AppealRights,
    ClinicalUpdateForm,
    LetterContent,
    LetterDecision,
    LetterKind,
    MemberRef,
    PeerToPeerOffer,
    PlanContact,
    Reason,
    Recipient,
    RecipientKind,
    Reviewer,
    ServiceLine,
    StaffContact,
    form_due_date,
)
from bhum.domain.values import CARC, CPT, HCPCS, RARC, Code, DateSpan

LETTER_DATE = date(2026, 3, 2)
MEMBER_NAME = "Rowan Testwell"  # synthetic
MEMBER_ID = "SYN000123"

PLAN = PlanContact(
    name="Prairie Synthetic Health Plan",
    phone="1-800-555-0100",
    address_lines=("PO Box 1000", "Tulsa, OK 74100"),
    fax="1-800-555-0199",
    website="prairie.example",
)
PROVIDER = Recipient(
    RecipientKind.PROVIDER,
    "Cedar Grove Counseling",
    ("12 Elm Street", "Norman, OK 73000"),
    npi="1234567893",
)
PCP = Recipient(
    RecipientKind.PROVIDER, "Dr. Ada Example, MD", ("5 Oak Avenue", "Tulsa, OK 74101"), "1326034564"
)
MEMBER_RECIPIENT = Recipient(RecipientKind.MEMBER, MEMBER_NAME, ("7 Maple Lane", "Edmond, OK 73010"))
MEMBER = MemberRef(MEMBER_NAME, MEMBER_ID)

IOP = Code(HCPCS, "S9480", "Intensive outpatient psychiatric services, per diem")
RTMS = Code(CPT, "90867", "Repetitive transcranial magnetic stimulation, first session")
PSYCHOTHERAPY = Code(CPT, "90837", "Psychotherapy, 60 minutes")
TESTING = Code(CPT, "96130", "Psychological testing evaluation, first hour")
IOP_SPAN = DateSpan(date(2026, 3, 9), date(2026, 4, 7))

REVIEWER = Reviewer("Dr. Sam Placeholder", "MD, board-certified psychiatrist")
APPEAL = AppealRights(
    file_by=LETTER_DATE + timedelta(days=60),
    instructions="Call us or write to Appeals, PO Box 2000, Tulsa, OK 74100. Say why you disagree.",
    expedited_instructions="If waiting could seriously harm your health, ask for a fast appeal. "
    "We decide fast appeals within 72 hours.",
)
P2P = PeerToPeerOffer(phone="1-800-555-0111", request_by=LETTER_DATE + timedelta(days=14), reviewer=REVIEWER)
IOP04 = Reason(
    "IOP-04",
    "Per diem minimum hours",
    "The program plan gives 2 consecutive hours a day; adults need at least 3 consecutive hours.",
    (Code(CARC, "151"), Code(RARC, "N54")),
)
MN02 = Reason(
    "MN-02",
    "Goals and interventions match functioning",
    "The treatment goals do not address the alcohol use reported on the assessment (ASAM dimension 1 = 3).",
)


def _base(kind: LetterKind, letter_id: str, recipient: Recipient, **fields: Any) -> LetterContent:
    return LetterContent(
        letter_id=letter_id,
        kind=kind,
        letter_date=LETTER_DATE,
        plan=PLAN,
        recipient=recipient,
        member=MEMBER,
        reference=fields.pop("reference", "Request R-2026-0042"),
        **fields,
    )


def approval(recipient: Recipient = PROVIDER) -> LetterContent:
    return _base(
        LetterKind.AUTHORIZATION_APPROVAL,
        "approval-1",
        recipient,
        decision=LetterDecision.APPROVED,
        service_lines=(ServiceLine(IOP, IOP_SPAN, "sessions", requested=12, approved=12),),
    )


def partial_approval(recipient: Recipient = PROVIDER) -> LetterContent:
    return _base(
        LetterKind.AUTHORIZATION_PARTIAL_APPROVAL,
        "partial-1",
        recipient,
        decision=LetterDecision.PARTIALLY_APPROVED,
        service_lines=(ServiceLine(IOP, IOP_SPAN, "sessions", requested=20, approved=12),),
        reasons=(IOP04,),
        appeal_rights=APPEAL,
        peer_to_peer=P2P,
        reviewer=REVIEWER,
    )


def denial(recipient: Recipient = MEMBER_RECIPIENT) -> LetterContent:
    return _base(
        LetterKind.AUTHORIZATION_DENIAL,
        "denial-1",
        recipient,
        decision=LetterDecision.DENIED,
        service_lines=(ServiceLine(IOP, IOP_SPAN, "sessions", requested=12, approved=0),),
        reasons=(IOP04, MN02),
        appeal_rights=APPEAL,
        peer_to_peer=P2P,
        reviewer=REVIEWER,
    )


def request_for_information() -> LetterContent:
    return _base(
        LetterKind.REQUEST_FOR_INFORMATION,
        "rfi-1",
        PROVIDER,
        decision=LetterDecision.PENDED,
        service_lines=(ServiceLine(IOP, IOP_SPAN, "sessions", requested=12),),
        requested_information=(
            "The date of the last physical exam (IOP-08).",
            "The most recent weekly risk assessment (IOP-10).",
        ),
        due_date=date(2026, 3, 6),
    )


def appeal_decision(decision: LetterDecision = LetterDecision.UPHELD) -> LetterContent:
    upheld = decision is not LetterDecision.OVERTURNED
    return _base(
        LetterKind.APPEAL_DECISION,
        "appeal-1",
        MEMBER_RECIPIENT,
        decision=decision,
        service_lines=(ServiceLine(IOP, IOP_SPAN, "sessions", requested=12, approved=0 if upheld else 12),),
        reasons=(IOP04,) if upheld else (),
        reviewer=REVIEWER if upheld else None,
        appeal_rights=replace(APPEAL, external_review="You can ask the state for a fair hearing.")
        if upheld
        else None,
    )


def peer_to_peer_offer() -> LetterContent:
    return _base(
        LetterKind.PEER_TO_PEER_OFFER,
        "p2p-1",
        PROVIDER,
        decision=LetterDecision.DENIED,
        service_lines=(ServiceLine(RTMS, IOP_SPAN, "sessions", requested=30, approved=0),),
        reasons=(MN02,),
        peer_to_peer=P2P,
    )


FLAG = Reason(
    "OPM-03",
    "Follow-up after mental-health hospitalization (HEDIS FUH)",
    "No outpatient visit within 7 days after the discharge on February 2, 2026 (first visit on February 20).",
)


def opm_clinical_update_request() -> LetterContent:
    due = form_due_date(LETTER_DATE)
    return _base(
        LetterKind.OPM_CLINICAL_UPDATE_REQUEST,
        "opm-provider-1",
        PROVIDER,
        reference="Case C-2026-0007",
        reasons=(FLAG,),
        due_date=due,
        form=ClinicalUpdateForm(
            "C-2026-0007", due, "Fax it to 1-800-555-0199 or upload it in the provider portal."
        ),
        service_lines=(
            ServiceLine(PSYCHOTHERAPY, DateSpan(date(2025, 9, 1), date(2026, 2, 27)), "sessions"),
        ),
    )


def opm_member_notice() -> LetterContent:
    return _base(
        LetterKind.OPM_MEMBER_NOTICE,
        "opm-member-1",
        MEMBER_RECIPIENT,
        reference="Case C-2026-0007",
        due_date=form_due_date(LETTER_DATE),
    )


OPM07 = Reason(
    "OPM-07",
    "Clinical Update Request Form returned within 30 days",
    "The form we asked for on February 1, 2026 was not returned by March 3, 2026.",
    (Code(CARC, "197"), Code(RARC, "M62")),
)


def opm_discontinuation(recipient: Recipient = PROVIDER) -> LetterContent:
    kind = (
        LetterKind.OPM_DISCONTINUATION_MEMBER
        if recipient.kind is RecipientKind.MEMBER
        else LetterKind.OPM_DISCONTINUATION_PROVIDER
    )
    return _base(
        kind,
        f"{kind.value}-1",
        recipient,
        reference="Authorization A-2026-0101",
        decision=LetterDecision.DISCONTINUED,
        effective_date=date(2026, 3, 4),
        service_lines=(
            ServiceLine(PSYCHOTHERAPY, DateSpan(date(2026, 1, 1), date(2026, 12, 31)), "sessions"),
        ),
        reasons=(OPM07,),
        appeal_rights=APPEAL,
    )


def pcp_coordination() -> LetterContent:
    return _base(
        LetterKind.PCP_COORDINATION,
        "pcp-1",
        PCP,
        reference="Coordination K-2026-0003",
        reasons=(
            Reason(
                "COC-02",
                "Psychotropic medication started",
                "Sertraline 50 mg was started on February 20, 2026 by the behavioral health prescriber.",
            ),
        ),
        contact=StaffContact("Jordan Sample", "1-800-555-0122", "LCSW"),
    )


def case_management_outreach() -> LetterContent:
    return _base(
        LetterKind.CASE_MANAGEMENT_OUTREACH,
        "outreach-1",
        MEMBER_RECIPIENT,
        reference="Case management CM-2026-0011",
        contact=StaffContact("Casey Mockford", "1-800-555-0133", "CM II"),
        missed_contact_on=date(2026, 2, 27),
        due_date=date(2026, 3, 4),
    )


def testing_preauth_notice() -> LetterContent:
    return _base(
        LetterKind.TESTING_PREAUTH_NOTICE,
        "testing-1",
        PROVIDER,
        reference="Notice T-2026-0001",
        effective_date=date(2026, 4, 1),
        service_lines=(ServiceLine(TESTING, DateSpan(date(2026, 4, 1), date(2026, 12, 31)), "hours"),),
        reasons=(
            Reason(
                "OPM-01",
                "Testing needs preauthorization when the plan has notified the provider",
                "Your testing claims were reviewed and the plan now requires preauthorization for testing.",
            ),
        ),
    )


def every_kind() -> list[LetterContent]:
    """One valid letter of every kind (both discontinuation recipients)."""
    return [
        approval(),
        partial_approval(),
        denial(),
        request_for_information(),
        appeal_decision(),
        peer_to_peer_offer(),
        opm_clinical_update_request(),
        opm_member_notice(),
        opm_discontinuation(PROVIDER),
        opm_discontinuation(MEMBER_RECIPIENT),
        pcp_coordination(),
        case_management_outreach(),
        testing_preauth_notice(),
    ]
