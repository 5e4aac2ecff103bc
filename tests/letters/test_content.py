"""The letter content model refuses non-compliant letters (pure: no I/O)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from bhum.domain.errors import InputError
from bhum.domain.letters import (
    CLINICAL_UPDATE_FORM_FIELDS,
    ClinicalUpdateForm,
    LetterDecision,
    LetterKind,
    Reason,
    Recipient,
    RecipientKind,
    ServiceLine,
    form_due_date,
    idempotency_key,
)
from bhum.domain.values import CARC, CPT, HCPCS, RARC, Code, DateSpan
from tests.letters import factory as f


def assert_refused(build: object, field: str) -> InputError:
    assert callable(build)
    with pytest.raises(InputError) as caught:
        build()
    assert caught.value.field == field, str(caught.value)
    return caught.value


def test_every_kind_has_a_valid_example() -> None:
    kinds = {content.kind for content in f.every_kind()}
    assert kinds == set(LetterKind)


# -- REG-01 / REG-03 / REG-04: what a denial must say ------------------------------------------


def test_reg01_denial_without_a_specific_reason_is_refused() -> None:
    error = assert_refused(lambda: replace(f.denial(), reasons=()), "reasons")
    assert error.record == "denial-1"
    assert "REG-01" in error.message


def test_reg03_reason_without_a_criterion_is_refused() -> None:
    assert_refused(lambda: Reason("IOP-04", "  ", "The program gives 2 hours a day."), "reasons.criterion")


def test_reg01_reason_without_a_sentence_is_refused() -> None:
    assert_refused(lambda: Reason("IOP-04", "Per diem minimum hours", ""), "reasons.sentence")


def test_reg03_denial_without_appeal_rights_is_refused() -> None:
    assert_refused(lambda: replace(f.denial(), appeal_rights=None), "appeal_rights")


def test_reg03_appeal_deadline_on_the_letter_date_is_refused() -> None:
    late = replace(f.APPEAL, file_by=f.LETTER_DATE)
    assert_refused(lambda: replace(f.denial(), appeal_rights=late), "appeal_rights.file_by")
    ok = replace(f.APPEAL, file_by=f.LETTER_DATE + timedelta(days=1))
    assert replace(f.denial(), appeal_rights=ok).appeal_rights == ok


def test_reg03_denial_without_peer_to_peer_offer_is_refused() -> None:
    assert_refused(lambda: replace(f.denial(), peer_to_peer=None), "peer_to_peer")


def test_reg03_peer_to_peer_offer_ending_before_the_letter_is_refused() -> None:
    stale = replace(f.P2P, request_by=f.LETTER_DATE - timedelta(days=1))
    assert_refused(lambda: replace(f.denial(), peer_to_peer=stale), "peer_to_peer.request_by")


def test_reg04_medical_necessity_denial_without_reviewer_is_refused() -> None:
    assert_refused(lambda: replace(f.denial(), reviewer=None), "reviewer")


def test_reg03_partial_approval_is_an_adverse_decision_too() -> None:
    assert_refused(lambda: replace(f.partial_approval(), peer_to_peer=None), "peer_to_peer")
    assert_refused(lambda: replace(f.partial_approval(), reasons=()), "reasons")


def test_partial_approval_must_approve_less_than_requested() -> None:
    full = (ServiceLine(f.IOP, f.IOP_SPAN, "sessions", requested=12, approved=12),)
    assert_refused(lambda: replace(f.partial_approval(), service_lines=full), "service_lines.approved")
    one_less = (ServiceLine(f.IOP, f.IOP_SPAN, "sessions", requested=12, approved=11),)
    assert replace(f.partial_approval(), service_lines=one_less).service_lines == one_less


def test_administrative_denial_needs_reason_and_appeal_but_no_reviewer_or_peer_to_peer() -> None:
    """REG-04: administrative outcomes may be automatic; REG-01 still needs the specific reason."""
    admin = replace(
        f.denial(), decision=LetterDecision.ADMINISTRATIVE_DENIAL, reviewer=None, peer_to_peer=None
    )
    assert admin.reviewer is None
    assert_refused(lambda: replace(admin, reasons=()), "reasons")
    assert_refused(lambda: replace(admin, appeal_rights=None), "appeal_rights")


def test_denial_letter_must_carry_a_denial_decision() -> None:
    assert_refused(lambda: replace(f.denial(), decision=LetterDecision.APPROVED), "decision")


def test_upheld_appeal_needs_reasons_reviewer_and_next_appeal_rights() -> None:
    upheld = f.appeal_decision(LetterDecision.UPHELD)
    assert_refused(lambda: replace(upheld, reasons=()), "reasons")
    assert_refused(lambda: replace(upheld, reviewer=None), "reviewer")
    assert_refused(lambda: replace(upheld, appeal_rights=None), "appeal_rights")
    overturned = f.appeal_decision(LetterDecision.OVERTURNED)
    assert overturned.reasons == ()


def test_approval_states_approved_units() -> None:
    no_units = (ServiceLine(f.IOP, f.IOP_SPAN, "sessions", requested=12),)
    assert_refused(lambda: replace(f.approval(), service_lines=no_units), "service_lines.approved")
    assert_refused(lambda: replace(f.approval(), service_lines=()), "service_lines")


def test_request_for_information_lists_what_is_needed_and_by_when() -> None:
    assert_refused(
        lambda: replace(f.request_for_information(), requested_information=()), "requested_information"
    )
    assert_refused(lambda: replace(f.request_for_information(), due_date=None), "due_date")


# -- OPM-04 / OPM-05 / OPM-07 ---------------------------------------------------------------------


def test_opm04_form_due_date_is_letter_date_plus_30_days() -> None:
    assert form_due_date(date(2026, 3, 2)) == date(2026, 4, 1)
    assert form_due_date(date(2026, 1, 31)) == date(2026, 3, 2)
    assert form_due_date(date(2026, 3, 2), days=14) == date(2026, 3, 16)


def test_opm04_provider_letter_needs_the_form_and_matching_due_date() -> None:
    letter = f.opm_clinical_update_request()
    assert_refused(lambda: replace(letter, form=None), "form")
    assert_refused(lambda: replace(letter, due_date=None), "due_date")
    other = replace(letter.form, due_date=date(2026, 4, 2)) if letter.form else None
    assert_refused(lambda: replace(letter, form=other), "form.due_date")


def test_opm04_form_asks_every_opm06_question() -> None:
    keys = {field.key for field in CLINICAL_UPDATE_FORM_FIELDS}
    assert {
        "treatment_plan",
        "goals",
        "level_intensity_duration",
        "progress",
        "functioning",
        "pcp_coordination",
        "more_intensive_or_community",
    } <= keys
    duplicate = (*CLINICAL_UPDATE_FORM_FIELDS, CLINICAL_UPDATE_FORM_FIELDS[0])
    assert_refused(lambda: ClinicalUpdateForm("C-1", date(2026, 4, 1), "Fax", duplicate), "form.fields")


def test_opm04_provider_letter_goes_to_the_provider_only() -> None:
    assert_refused(
        lambda: replace(f.opm_clinical_update_request(), recipient=f.MEMBER_RECIPIENT), "recipient.kind"
    )


def test_opm05_member_notice_goes_to_the_member_with_the_end_of_the_period() -> None:
    assert_refused(lambda: replace(f.opm_member_notice(), recipient=f.PROVIDER), "recipient.kind")
    assert_refused(lambda: replace(f.opm_member_notice(), due_date=None), "due_date")


def test_due_date_must_be_after_the_letter_date() -> None:
    assert_refused(lambda: replace(f.opm_member_notice(), due_date=f.LETTER_DATE), "due_date")


def test_opm07_discontinuation_needs_effective_date_reason_and_appeal_rights() -> None:
    letter = f.opm_discontinuation(f.PROVIDER)
    assert_refused(lambda: replace(letter, effective_date=None), "effective_date")
    assert_refused(
        lambda: replace(letter, effective_date=f.LETTER_DATE - timedelta(days=1)), "effective_date"
    )
    assert_refused(lambda: replace(letter, reasons=()), "reasons")
    assert_refused(lambda: replace(letter, appeal_rights=None), "appeal_rights")
    assert_refused(lambda: replace(letter, recipient=f.MEMBER_RECIPIENT), "recipient.kind")


# -- COC, TCM-07, OPM-01 ------------------------------------------------------------------------


def test_coc02_pcp_letter_cites_a_coc_rule_and_a_coordinator() -> None:
    letter = f.pcp_coordination()
    assert_refused(lambda: replace(letter, reasons=(f.IOP04,)), "reasons.rule_id")
    assert_refused(lambda: replace(letter, contact=None), "contact")


def test_tcm07_outreach_names_the_case_manager_and_a_past_missed_date() -> None:
    letter = f.case_management_outreach()
    assert_refused(lambda: replace(letter, contact=None), "contact")
    assert_refused(
        lambda: replace(letter, missed_contact_on=f.LETTER_DATE + timedelta(days=1)), "missed_contact_on"
    )
    assert replace(letter, missed_contact_on=f.LETTER_DATE).missed_contact_on == f.LETTER_DATE


def test_opm01_testing_notice_states_when_preauthorization_starts() -> None:
    assert_refused(lambda: replace(f.testing_preauth_notice(), effective_date=None), "effective_date")


# -- values on the letter -------------------------------------------------------------------------


def test_reason_cites_a_catalog_rule_id() -> None:
    assert_refused(lambda: Reason("iop.per_diem", "Per diem minimum hours", "x."), "reasons.rule_id")


def test_reason_codes_are_carc_or_rarc_and_never_carc_62() -> None:
    assert_refused(lambda: Reason("MN-04", "Units", "Too many.", (Code(CARC, "62"),)), "reasons.codes")
    assert_refused(lambda: Reason("MN-04", "Units", "Too many.", (Code(HCPCS, "S9480"),)), "reasons.codes")
    ok = Reason("MN-04", "Units", "Too many.", (Code(CARC, "198"), Code(RARC, "N362")))
    assert len(ok.codes) == 2


def test_provider_recipient_needs_a_10_digit_npi_and_member_has_none() -> None:
    assert_refused(lambda: Recipient(RecipientKind.PROVIDER, "Clinic", ("1 St",), None), "recipient.npi")
    assert_refused(
        lambda: Recipient(RecipientKind.PROVIDER, "Clinic", ("1 St",), "123456789"), "recipient.npi"
    )
    assert_refused(lambda: Recipient(RecipientKind.MEMBER, "A B", ("1 St",), "1234567893"), "recipient.npi")
    assert_refused(lambda: Recipient(RecipientKind.MEMBER, "A B", ()), "recipient.address_lines")


def test_service_line_needs_display_end_date_and_consistent_units() -> None:
    span = DateSpan(date(2026, 3, 1), date(2026, 3, 31))
    assert_refused(lambda: ServiceLine(Code(CPT, "90837"), span), "service_lines.service.display")
    assert_refused(lambda: ServiceLine(f.IOP, DateSpan(date(2026, 3, 1))), "service_lines.span.end")
    assert_refused(lambda: ServiceLine(f.IOP, span, requested=3, approved=4), "service_lines.approved")
    assert_refused(lambda: ServiceLine(f.IOP, span, requested=-1), "service_lines.requested")


def test_letter_id_must_be_a_safe_file_name() -> None:
    assert_refused(lambda: replace(f.approval(), letter_id="../etc/passwd"), "letter_id")
    assert_refused(lambda: replace(f.approval(), letter_id=""), "letter_id")


# -- idempotency ----------------------------------------------------------------------------------


def test_idempotency_key_is_stable_per_decision_and_recipient() -> None:
    key = idempotency_key(LetterKind.AUTHORIZATION_DENIAL, "R-1", "D-1", f.PROVIDER)
    assert key == idempotency_key(LetterKind.AUTHORIZATION_DENIAL, "R-1", "D-1", f.PROVIDER)
    others = {
        idempotency_key(LetterKind.AUTHORIZATION_APPROVAL, "R-1", "D-1", f.PROVIDER),
        idempotency_key(LetterKind.AUTHORIZATION_DENIAL, "R-2", "D-1", f.PROVIDER),
        idempotency_key(LetterKind.AUTHORIZATION_DENIAL, "R-1", "D-2", f.PROVIDER),
        idempotency_key(LetterKind.AUTHORIZATION_DENIAL, "R-1", "D-1", f.PCP),
        idempotency_key(LetterKind.AUTHORIZATION_DENIAL, "R-1", "D-1", f.MEMBER_RECIPIENT),
    }
    assert key not in others and len(others) == 5


def test_idempotency_key_ignores_a_changed_address_and_carries_no_member_data() -> None:
    moved = replace(f.MEMBER_RECIPIENT, address_lines=("99 New Road", "Enid, OK 73701"))
    key = idempotency_key(LetterKind.OPM_MEMBER_NOTICE, "C-7", "cycle-2026-03", f.MEMBER_RECIPIENT)
    assert key == idempotency_key(LetterKind.OPM_MEMBER_NOTICE, "C-7", "cycle-2026-03", moved)
    assert "Rowan" not in key and "Testwell" not in key
    assert replace(f.opm_member_notice(), letter_id=key).letter_id == key  # usable as a letter id


def test_idempotency_key_refuses_blank_parts() -> None:
    assert_refused(lambda: idempotency_key(LetterKind.OPM_MEMBER_NOTICE, "", "D-1", "member"), "subject_id")


def test_first_sketch_kind_names_are_aliases() -> None:
    assert LetterKind["DENIAL"] is LetterKind.AUTHORIZATION_DENIAL
    assert LetterKind["CLINICAL_UPDATE_REQUEST"] is LetterKind.OPM_CLINICAL_UPDATE_REQUEST
    assert len(list(LetterKind)) == 13  # aliases are not extra kinds
    assert LetterKind("testing_preauth_notice") is LetterKind.TESTING_PREAUTH_NOTICE
