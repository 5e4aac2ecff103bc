"""Organizations, providers (NPIs) and the staff who deliver and review care."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bhum.domain.errors import InputError
from bhum.domain.values import Code


class ContractType(StrEnum):
    """The state contract type of a provider organization (TCM-02 ties T1017 variants to these)."""

    OPBH = "110"  # outpatient behavioral health agency
    CMHC = "111"  # community mental health center
    PACT = "114"  # program of assertive community treatment
    IOP_PROGRAM = "120"  # intensive outpatient program
    HOSPITAL = "130"
    PHARMACY = "140"
    PRIMARY_CARE = "150"
    SUD_TREATMENT_FACILITY = "160"  # substance use disorder residential / rehabilitation facility
    LABORATORY = "170"  # clinical laboratory
    OTHER = "199"


class EntityType(StrEnum):
    INDIVIDUAL = "individual"
    ORGANIZATION = "organization"


class Credential(StrEnum):
    LICENSED_MASTERS_CLINICIAN = "licensed_masters_clinician"
    CADC = "cadc"  # certified alcohol and drug counselor
    PSYCHIATRIST = "psychiatrist"
    PSYCHOLOGIST = "psychologist"  # doctoral-level
    ADDICTION_MEDICINE_PHYSICIAN = "addiction_medicine_physician"
    PHYSICIAN = "physician"
    RN = "rn"
    CM_I = "cm_i"
    CM_II = "cm_ii"
    INTENSIVE_CM = "intensive_cm"
    WRAPAROUND_FACILITATOR = "wraparound_facilitator"
    PEER_SUPPORT_SPECIALIST = "peer_support_specialist"
    BACHELORS_LEVEL = "bachelors_level"
    QMHP = "qmhp"  # qualified mental health professional


# REG-04: medical-necessity denials for BH need one of these.
PHYSICIAN_REVIEWER_CREDENTIALS = frozenset(
    {Credential.PSYCHIATRIST, Credential.PSYCHOLOGIST, Credential.ADDICTION_MEDICINE_PHYSICIAN}
)
# Licensed clinicians who may do clinical review, weekly risk assessments (IOP-10) and supervise (IOP-15).
LICENSED_CLINICIAN_CREDENTIALS = PHYSICIAN_REVIEWER_CREDENTIALS | {
    Credential.LICENSED_MASTERS_CLINICIAN,
    Credential.PHYSICIAN,
    Credential.RN,
}
# IOP-07: substance-related groups need a CADC "or higher"; peers and bachelor's-level staff never qualify.
SUD_GROUP_FACILITATOR_CREDENTIALS = frozenset(
    {
        Credential.CADC,
        Credential.LICENSED_MASTERS_CLINICIAN,
        Credential.PSYCHOLOGIST,
        Credential.PSYCHIATRIST,
        Credential.ADDICTION_MEDICINE_PHYSICIAN,
    }
)
MH_GROUP_FACILITATOR_CREDENTIALS = frozenset(
    {Credential.LICENSED_MASTERS_CLINICIAN, Credential.PSYCHOLOGIST, Credential.PSYCHIATRIST}
)
CASE_MANAGER_CREDENTIALS = frozenset(
    {Credential.CM_I, Credential.CM_II, Credential.INTENSIVE_CM, Credential.WRAPAROUND_FACILITATOR}
)


@dataclass(frozen=True, slots=True)
class Organization:
    organization_id: str
    name: str
    contract_type: ContractType
    npi: str | None = None
    tax_id: str | None = None
    state: str | None = None


@dataclass(frozen=True, slots=True)
class Provider:
    """An NPI: an individual clinician or an organization's billing/facility NPI."""

    npi: str
    name: str
    entity_type: EntityType
    taxonomy: Code | None = None  # NUCC taxonomy
    organization_id: str | None = None
    specialty: str | None = None
    is_pcp: bool = False

    def __post_init__(self) -> None:
        if not (len(self.npi) == 10 and self.npi.isdigit()):
            raise InputError(f"{self.npi!r} is not a 10-digit NPI", field="npi", record=self.npi)


@dataclass(frozen=True, slots=True)
class Staff:
    staff_id: str
    first_name: str
    last_name: str
    credentials: frozenset[Credential]
    organization_id: str | None = None
    npi: str | None = None
    licence_number: str | None = None
    hire_date: date | None = None

    def has(self, *credentials: Credential) -> bool:
        return bool(self.credentials.intersection(credentials))

    @property
    def is_physician_reviewer(self) -> bool:
        """REG-04: psychiatrist, doctoral-level psychologist or addiction-medicine physician."""
        return bool(self.credentials & PHYSICIAN_REVIEWER_CREDENTIALS)

    @property
    def is_licensed_clinician(self) -> bool:
        return bool(self.credentials & LICENSED_CLINICIAN_CREDENTIALS)

    @property
    def is_case_manager(self) -> bool:
        return bool(self.credentials & CASE_MANAGER_CREDENTIALS)

    def may_facilitate_group(self, *, substance_related: bool) -> bool:
        """IOP-07: MH groups need a licensed master's-level clinician; SUD groups a CADC or higher."""
        allowed = SUD_GROUP_FACILITATOR_CREDENTIALS if substance_related else MH_GROUP_FACILITATOR_CREDENTIALS
        return bool(self.credentials & allowed)


def parse_credentials(
    text: str, *, record: str | int | None = None, source: str | None = None
) -> frozenset[Credential]:
    """Credentials as written in the staff file: ";"-joined names."""
    found: set[Credential] = set()
    for part in text.split(";"):
        name = part.strip()
        if not name:
            continue
        try:
            found.add(Credential(name))
        except ValueError as exc:
            raise InputError(
                f"unknown credential {name!r}", field="credentials", record=record, source=source
            ) from exc
    return frozenset(found)
