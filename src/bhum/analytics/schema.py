"""The claims input contract the analytics reads: which tables, which columns, their types and checks.

Only the columns the clinical-intelligence rules use are listed; the files may carry more (the full
contract is docs/claims-input-schema.md). Each column declares a kind that decides how a raw value is
parsed and what counts as bad input (a date that is not a date, a code outside its pattern or
vocabulary, a missing required value).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    STRING = "string"
    DATE = "date"
    INTEGER = "int64"
    NUMBER = "float64"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind
    required: bool = False
    pattern: str | None = None  # a regular expression a non-blank value must match (codes)
    vocabulary: tuple[str, ...] = ()  # the closed set a non-blank value must belong to
    what: str = ""  # how the error names an unknown value ("HCPCS code", "drug class" ...)


@dataclass(frozen=True, slots=True)
class TableContract:
    name: str
    columns: tuple[Column, ...]
    record_keys: tuple[str, ...]  # columns that identify a record when a file row number is not known
    optional: bool = False  # an absent optional table is read as empty

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


# HCPCS level II (letter + 4 digits) or CPT (4 digits + digit/letter: 90837, 0001F).
HCPCS_PATTERN = r"^([A-Z][0-9]{4}|[0-9]{4}[0-9A-Z])$"
# ICD-10-CM with or without the dot: F20.9, F209, Z00.00.
ICD10_PATTERN = r"^[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$"
NDC_PATTERN = r"^[0-9]{11}$"
MODIFIER_PATTERN = r"^[0-9A-Z]{2}$"
REVENUE_PATTERN = r"^[0-9]{4}$"
BILL_TYPE_PATTERN = r"^[0-9]{3,4}$"
POS_PATTERN = r"^[0-9]{2}$"

CLAIM_TYPES = ("professional", "institutional")
DRUG_CLASSES = (
    "antipsychotic",
    "antidepressant",
    "mood_stabilizer",
    "anxiolytic",
    "stimulant",
    "sud_treatment",
    "other",
)
RESIDENCE_SETTINGS = (
    "home",
    "nursing_facility",
    "residential_behavior_management",
    "group_home",
    "foster_home",
    "icf_iid",
    "imd",
    "public_institution",
    "inpatient_psychiatric",
)

_S, _D, _I, _N = Kind.STRING, Kind.DATE, Kind.INTEGER, Kind.NUMBER


def _modifiers() -> tuple[Column, ...]:
    return tuple(
        Column(f"hcpcs_modifier_{i}", _S, pattern=MODIFIER_PATTERN, what="HCPCS modifier")
        for i in (1, 2, 3, 4)
    )


MEDICAL_CLAIM = TableContract(
    "medical_claim",
    (
        Column("claim_id", _S, required=True),
        Column("claim_line_number", _I, required=True),
        Column("claim_type", _S, required=True, vocabulary=CLAIM_TYPES, what="claim type"),
        Column("member_id", _S, required=True),
        Column("claim_start_date", _D),
        Column("claim_end_date", _D),
        Column("claim_line_start_date", _D, required=True),
        Column("claim_line_end_date", _D),
        Column("admission_date", _D),
        Column("discharge_date", _D),
        Column("place_of_service_code", _S, pattern=POS_PATTERN, what="place of service code"),
        Column("bill_type_code", _S, pattern=BILL_TYPE_PATTERN, what="bill type code"),
        Column("revenue_center_code", _S, pattern=REVENUE_PATTERN, what="revenue center code"),
        Column("service_unit_quantity", _N),
        Column("hcpcs_code", _S, pattern=HCPCS_PATTERN, what="HCPCS/CPT code"),
        *_modifiers(),
        Column("rendering_npi", _S),
        Column("billing_npi", _S),
        Column("diagnosis_code_1", _S, pattern=ICD10_PATTERN, what="ICD-10-CM code"),
        Column("activity_code", _S),
    ),
    record_keys=("claim_id", "claim_line_number"),
)

PHARMACY_CLAIM = TableContract(
    "pharmacy_claim",
    (
        Column("claim_id", _S, required=True),
        Column("claim_line_number", _I, required=True),
        Column("member_id", _S, required=True),
        Column("prescribing_provider_npi", _S),
        Column("dispensing_provider_npi", _S),
        Column("dispensing_date", _D, required=True),
        Column("ndc_code", _S, pattern=NDC_PATTERN, what="NDC"),
        Column("drug_class", _S, required=True, vocabulary=DRUG_CLASSES, what="drug class"),
        Column("quantity", _N),
        Column("days_supply", _I, required=True),
    ),
    record_keys=("claim_id", "claim_line_number"),
)

ELIGIBILITY = TableContract(
    "eligibility",
    (
        Column("member_id", _S, required=True),
        Column("birth_date", _D, required=True),
        Column("plan_id", _S),
        Column("enrollment_start_date", _D, required=True),
        Column("enrollment_end_date", _D),
    ),
    record_keys=("member_id", "enrollment_start_date"),
)

MEMBER_RESIDENCE = TableContract(
    "member_residence",
    (
        Column("member_id", _S, required=True),
        Column("setting", _S, required=True, vocabulary=RESIDENCE_SETTINGS, what="residence setting"),
        Column("start_date", _D, required=True),
        Column("end_date", _D),
    ),
    record_keys=("member_id", "start_date"),
    optional=True,
)

CONTRACTS: dict[str, TableContract] = {
    t.name: t for t in (MEDICAL_CLAIM, PHARMACY_CLAIM, ELIGIBILITY, MEMBER_RESIDENCE)
}
