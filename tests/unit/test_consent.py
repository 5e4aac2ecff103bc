"""Consent registry and disclosure decisions (COC-04, REG-06)."""

from __future__ import annotations

from datetime import date

import pytest

from bhum.domain.consent import (
    Consent,
    ConsentScope,
    DisclosurePurpose,
    RecordKind,
    may_disclose,
    parse_record_kind,
)
from bhum.domain.errors import InputError

PCP = "npi:1234567893"
OTHER = "npi:1999999992"
ON = date(2026, 3, 10)
T = DisclosurePurpose.TREATMENT


def _consent(scope: ConsentScope, **overrides: object) -> Consent:
    values: dict[str, object] = {
        "consent_id": "c1",
        "member_id": "m1",
        "scope": scope,
        "recipient": PCP,
        "signed_on": date(2026, 1, 1),
    }
    values.update(overrides)
    return Consent(**values)  # type: ignore[arg-type]


def test_coc04_treatment_coordination_needs_no_authorization() -> None:
    decision = may_disclose(RecordKind.GENERAL, PCP, T, [], ON)
    assert decision.allowed and decision.rule_id == "COC-04" and decision.consent_id is None
    assert "discuss" in decision.reason


@pytest.mark.parametrize("purpose", [DisclosurePurpose.PAYMENT, DisclosurePurpose.HEALTH_CARE_OPERATIONS])
def test_coc04_payment_and_operations_need_no_authorization(purpose: DisclosurePurpose) -> None:
    assert may_disclose(RecordKind.GENERAL, PCP, purpose, [], ON).allowed


def test_coc04_other_purpose_needs_general_consent() -> None:
    assert not may_disclose(RecordKind.GENERAL, PCP, DisclosurePurpose.OTHER, [], ON).allowed
    consent = _consent(ConsentScope.GENERAL, purposes=frozenset({DisclosurePurpose.OTHER}))
    assert may_disclose(RecordKind.GENERAL, PCP, DisclosurePurpose.OTHER, [consent], ON).allowed


def test_coc04_psychotherapy_notes_refused_without_release_even_for_treatment() -> None:
    decision = may_disclose(RecordKind.PSYCHOTHERAPY_NOTES, PCP, T, [], ON)
    assert not decision.allowed and decision.rule_id == "COC-04"
    assert "written release signed by the member" in decision.reason


def test_coc04_psychotherapy_notes_with_signed_written_release() -> None:
    decision = may_disclose(
        RecordKind.PSYCHOTHERAPY_NOTES, PCP, T, [_consent(ConsentScope.PSYCHOTHERAPY_NOTES)], ON
    )
    assert decision.allowed and decision.consent_id == "c1"


def test_coc04_psychotherapy_notes_verbal_consent_is_not_a_written_release() -> None:
    consent = _consent(ConsentScope.PSYCHOTHERAPY_NOTES, written=False)
    decision = may_disclose(RecordKind.PSYCHOTHERAPY_NOTES, PCP, T, [consent], ON)
    assert not decision.allowed and "not a written release" in decision.reason


def test_coc04_general_consent_does_not_release_psychotherapy_notes() -> None:
    assert not may_disclose(
        RecordKind.PSYCHOTHERAPY_NOTES, PCP, T, [_consent(ConsentScope.GENERAL)], ON
    ).allowed


def test_reg06_part2_records_refused_without_consent() -> None:
    decision = may_disclose(RecordKind.SUD_PROGRAM, PCP, T, [], ON)
    assert not decision.allowed and decision.rule_id == "REG-06" and "42 CFR Part 2" in decision.reason


def test_reg06_part2_consent_names_the_recipient() -> None:
    consent = _consent(ConsentScope.SUD_PROGRAM_RECORDS)
    assert may_disclose(RecordKind.SUD_PROGRAM, PCP, T, [consent], ON).allowed
    other = may_disclose(RecordKind.SUD_PROGRAM, OTHER, T, [consent], ON)
    assert not other.allowed and "no consent names this recipient" in other.reason


def test_reg06_consent_purpose_must_cover_the_disclosure() -> None:
    consent = _consent(ConsentScope.SUD_PROGRAM_RECORDS, purposes=frozenset({DisclosurePurpose.PAYMENT}))
    decision = may_disclose(RecordKind.SUD_PROGRAM, PCP, T, [consent], ON)
    assert not decision.allowed and "does not cover treatment" in decision.reason


def test_consent_expiry_boundary_last_day_in_effect() -> None:
    consent = _consent(ConsentScope.SUD_PROGRAM_RECORDS, expires_on=ON)
    assert may_disclose(RecordKind.SUD_PROGRAM, PCP, T, [consent], ON).allowed
    late = may_disclose(RecordKind.SUD_PROGRAM, PCP, T, [consent], date(2026, 3, 11))
    assert not late.allowed and "expired on 2026-03-10" in late.reason


def test_consent_revoked_from_the_revocation_day() -> None:
    consent = _consent(ConsentScope.SUD_PROGRAM_RECORDS, revoked_on=ON)
    assert may_disclose(RecordKind.SUD_PROGRAM, PCP, T, [consent], date(2026, 3, 9)).allowed
    decision = may_disclose(RecordKind.SUD_PROGRAM, PCP, T, [consent], ON)
    assert not decision.allowed and "revoked" in decision.reason


def test_consent_not_yet_signed_on_the_day() -> None:
    consent = _consent(ConsentScope.SUD_PROGRAM_RECORDS, signed_on=date(2026, 3, 11))
    assert not may_disclose(RecordKind.SUD_PROGRAM, PCP, T, [consent], ON).allowed


def test_another_members_consent_is_ignored_when_member_given() -> None:
    consent = _consent(ConsentScope.SUD_PROGRAM_RECORDS, member_id="m2")
    assert not may_disclose(RecordKind.SUD_PROGRAM, PCP, T, [consent], ON, member_id="m1").allowed


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("recipient", " "),
        ("member_id", ""),
        ("expires_on", date(2025, 12, 31)),
        ("revoked_on", date(2025, 12, 31)),
        ("purposes", frozenset()),
    ],
)
def test_bad_consent_refused_naming_field(field: str, value: object) -> None:
    with pytest.raises(InputError) as err:
        _consent(ConsentScope.GENERAL, **{field: value})
    assert err.value.field == field


def test_unknown_record_kind_refused() -> None:
    with pytest.raises(InputError) as err:
        parse_record_kind("diary")
    assert err.value.field == "record_kind"
    assert parse_record_kind(" sud_program ") is RecordKind.SUD_PROGRAM


def test_reason_never_contains_member_id() -> None:
    consent = _consent(ConsentScope.SUD_PROGRAM_RECORDS, member_id="MEMBER-SECRET-42", revoked_on=ON)
    decision = may_disclose(RecordKind.SUD_PROGRAM, PCP, T, [consent], ON)
    assert "MEMBER-SECRET-42" not in decision.reason
