"""Organizations, providers and staff credentials (REG-04, IOP-07, TCM-02 contract types)."""

from __future__ import annotations

import pytest

from bhum.domain.errors import InputError
from bhum.domain.providers import ContractType, Credential, EntityType, Provider, Staff, parse_credentials

C = Credential


def _staff(*credentials: Credential) -> Staff:
    return Staff("S1", "Rae", "Reviewer", frozenset(credentials))


@pytest.mark.parametrize(
    ("credentials", "reviewer"),
    [
        ((C.PSYCHIATRIST,), True),
        ((C.PSYCHOLOGIST,), True),
        ((C.ADDICTION_MEDICINE_PHYSICIAN,), True),
        ((C.PHYSICIAN,), False),  # a physician who is not a psychiatrist or addiction-medicine physician
        ((C.LICENSED_MASTERS_CLINICIAN,), False),
        ((C.RN, C.QMHP), False),
        ((), False),
    ],
)
def test_reg04_physician_reviewer_credentials(credentials: tuple[Credential, ...], reviewer: bool) -> None:
    assert _staff(*credentials).is_physician_reviewer is reviewer


@pytest.mark.parametrize(
    ("credential", "mh", "sud"),
    [
        (C.LICENSED_MASTERS_CLINICIAN, True, True),
        (C.CADC, False, True),
        (C.PEER_SUPPORT_SPECIALIST, False, False),
        (C.BACHELORS_LEVEL, False, False),
        (C.CM_II, False, False),
    ],
)
def test_iop07_group_facilitators(credential: Credential, mh: bool, sud: bool) -> None:
    staff = _staff(credential)
    assert staff.may_facilitate_group(substance_related=False) is mh
    assert staff.may_facilitate_group(substance_related=True) is sud


def test_parse_credentials_names_the_unknown_one() -> None:
    assert parse_credentials("cm_ii; intensive_cm;") == {C.CM_II, C.INTENSIVE_CM}
    with pytest.raises(InputError) as caught:
        parse_credentials("cm_ii;wizard", record=7, source="staff.csv")
    assert (caught.value.source, caught.value.record, caught.value.field) == ("staff.csv", 7, "credentials")
    assert "wizard" in str(caught.value)


def test_tcm02_contract_type_codes() -> None:
    assert (ContractType("110"), ContractType("111"), ContractType("114")) == (
        ContractType.OPBH,
        ContractType.CMHC,
        ContractType.PACT,
    )
    with pytest.raises(ValueError):
        ContractType("112")


@pytest.mark.parametrize("npi", ["123456789", "12345678901", "12345678a3", ""])
def test_provider_npi_is_ten_digits(npi: str) -> None:
    with pytest.raises(InputError) as caught:
        Provider(npi, "X", EntityType.INDIVIDUAL)
    assert caught.value.field == "npi"
