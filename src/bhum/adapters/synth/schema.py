"""The population file contract: every table, column, Arrow type, nullability, meaning, example, Tuva
correspondence and (for coded columns) the reference list that holds its codes.

The generator writes exactly these schemas, the validator checks files against them and
docs/claims-input-schema.md is written from them (``render_markdown``), so the three cannot drift.
Columns may be added in a later version; they are never renamed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

SCHEMA_VERSION = "2026.1"

_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "date": pa.date32(),
    "bool": pa.bool_(),
    "int32": pa.int32(),
    "float64": pa.float64(),
    "time": pa.string(),  # local "HH:MM"
}


@dataclass(frozen=True, slots=True)
class CodeRef:
    """The reference list (and optionally groups) a coded column's values must come from."""

    list_name: str
    groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: str  # key of _TYPES
    nullable: bool
    meaning: str
    example: str
    tuva: str = "—"
    codes: CodeRef | None = None
    allowed: tuple[str, ...] = ()  # a closed value set that is not a reference list

    @property
    def arrow_type(self) -> pa.DataType:
        return _TYPES[self.kind]


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    meaning: str
    columns: tuple[Column, ...]

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.arrow_type, nullable=c.nullable) for c in self.columns])

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


def C(  # noqa: N802 - a terse constructor keeps the contract readable as a table
    name: str,
    kind: str,
    nullable: bool,
    meaning: str,
    example: str,
    tuva: str = "—",
    codes: CodeRef | None = None,
    allowed: tuple[str, ...] = (),
) -> Column:
    return Column(name, kind, nullable, meaning, example, tuva, codes, allowed)


_HCPCS_SERVICES = CodeRef(
    "hcpcs-bh",
    (
        "psychotherapy",
        "psychiatric_evaluation",
        "em_office",
        "preventive",
        "inpatient_professional",
        "ed_visit",
        "iop_per_diem",
        "partial_hospitalization",
        "residential",
        "ect",
        "rtms",
        "psych_testing",
        "targeted_case_management",
        "psychosocial_rehabilitation",
        "sud_outpatient",
        "metabolic_glucose",
        "metabolic_cholesterol",
        "other_lab",
    ),
)
_MODIFIER = CodeRef("hcpcs-bh", ("modifiers",))
_ICD = CodeRef("icd10cm-bh")
_LOB = ("commercial", "medicaid", "medicare")
_SETTINGS = CodeRef("residence-settings")
_CREDENTIALS = (
    "licensed_masters_clinician",
    "cadc",
    "psychiatrist",
    "psychologist",
    "addiction_medicine_physician",
    "physician",
    "rn",
    "cm_i",
    "cm_ii",
    "intensive_cm",
    "wraparound_facilitator",
    "peer_support_specialist",
    "bachelors_level",
    "qmhp",
)
DRUG_CLASSES = (
    "antipsychotic",
    "antidepressant",
    "mood_stabilizer",
    "anxiolytic",
    "stimulant",
    "sud_treatment",
    "other",
)

PLANS = Table(
    "plans",
    "One row per health plan (benefit package) members are enrolled in.",
    (
        C("plan_id", "string", False, "Plan identifier (key).", "PLN01"),
        C(
            "plan_name",
            "string",
            False,
            "Plan name; equals eligibility.plan and claims' plan.",
            "Prairie Medicaid BH",
            "plan",
        ),
        C("payer", "string", False, "Payer (health plan company) name.", "Prairie Health", "payer"),
        C("line_of_business", "string", False, "Line of business.", "medicaid", "payer_type", allowed=_LOB),
        C("bh_benefit", "bool", False, "BH benefit is provided through the plan (OPM-08).", "true"),
        C("opm_care_management", "bool", False, "Outpatient BH care management applies (OPM-08).", "true"),
        C("time_zone", "string", False, "IANA time zone the plan's clocks run in.", "America/Chicago"),
        C(
            "contact_phone",
            "string",
            True,
            "Member and provider services phone printed on letters (needed to send letters).",
            "1-800-555-0102",
        ),
        C("contact_tty", "string", True, "TTY number on letters (blank: the 711 relay).", "711"),
        C(
            "contact_address_line_1",
            "string",
            True,
            "Plan mailing address, first line (needed to send letters).",
            "PO Box 1200",
        ),
        C(
            "contact_address_line_2",
            "string",
            True,
            "Mailing address, second line.",
            "Attn: Behavioral Health",
        ),
        C("contact_city", "string", True, "Mailing address city (needed to send letters).", "Springfield"),
        C(
            "contact_state",
            "string",
            True,
            "Mailing address two-letter state (needed to send letters).",
            "IL",
        ),
        C("contact_zip", "string", True, "Mailing address ZIP code (needed to send letters).", "62701"),
        C("website", "string", True, "Plan website printed on letters.", "prairiehealth.example"),
    ),
)

ELIGIBILITY = Table(
    "eligibility",
    "One row per member coverage span (Tuva `eligibility`). A plan change starts a new span.",
    (
        C("person_id", "string", False, "Person identifier, stable across spans.", "P00000001", "person_id"),
        C("member_id", "string", False, "Member identifier on claims.", "M00000001", "member_id"),
        C("first_name", "string", False, "Invented first name (synthetic).", "Avery", "first_name"),
        C("last_name", "string", False, "Invented last name (synthetic).", "Quillfeather", "last_name"),
        C("sex", "string", False, "Administrative sex: F, M or U.", "F", "gender", allowed=("F", "M", "U")),
        C("birth_date", "date", False, "Date of birth.", "1987-04-12", "birth_date"),
        C("death_date", "date", True, "Date of death, if any.", "", "death_date"),
        C("race", "string", True, "Race (OMB category, lower case).", "white", "race"),
        C("ethnicity", "string", True, "Ethnicity.", "not hispanic or latino", "ethnicity"),
        C("address", "string", False, "Street address (invented).", "412 Cedar Lane", "address"),
        C("city", "string", False, "City (invented).", "Millbrook", "city"),
        C("state", "string", False, "Two-letter state.", "IL", "state"),
        C("zip_code", "string", False, "Five-digit ZIP code (synthetic).", "60999", "zip_code"),
        C("phone", "string", True, "Phone number (555 exchange, synthetic).", "312-555-0142", "phone"),
        C("plan_id", "string", False, "Plan of this span (plans.plan_id).", "PLN01", "—"),
        C("payer", "string", False, "Payer name.", "Prairie Health", "payer"),
        C("plan", "string", False, "Plan name (plans.plan_name).", "Prairie Medicaid BH", "plan"),
        C(
            "enrollment_start_date",
            "date",
            False,
            "First covered day of the span.",
            "2026-01-01",
            "enrollment_start_date",
        ),
        C(
            "enrollment_end_date",
            "date",
            False,
            "Last covered day of the span.",
            "2026-12-31",
            "enrollment_end_date",
        ),
        C("pcp_npi", "string", True, "(BH) NPI of the member's assigned PCP (COC-01..03).", "1234567893"),
    ),
)

MEMBER_RESIDENCE = Table(
    "member_residence",
    "(BH) One row per residence span; drives TCM-04 (excluded settings) and TCM-05 (transitions).",
    (
        C("member_id", "string", False, "Member identifier.", "M00000001"),
        C("setting", "string", False, "Residence setting.", "group_home", codes=_SETTINGS),
        C("start_date", "date", False, "First day in this setting.", "2025-06-01"),
        C("end_date", "date", True, "Last day in this setting; null = current.", "2026-03-14"),
        C("facility_npi", "string", True, "NPI of the facility, for facility settings.", "1234567893"),
    ),
)

ORGANIZATIONS = Table(
    "organizations",
    "Provider organizations with their contract type (TCM-02 uses 110/111/114).",
    (
        C("organization_id", "string", False, "Organization identifier (key).", "ORG0001"),
        C(
            "name",
            "string",
            False,
            "Organization name (invented).",
            "Riverbend Community Mental Health Center",
        ),
        C("npi", "string", False, "Organizational (type 2) NPI.", "1234567893"),
        C("tax_id", "string", False, "Tax identifier (synthetic, 9 digits).", "990000001"),
        C("contract_type", "string", False, "Contract type.", "111", codes=CodeRef("contract-types")),
        C("state", "string", False, "Two-letter state.", "IL"),
    ),
)

PROVIDERS = Table(
    "providers",
    "Individual and organizational NPIs.",
    (
        C(
            "npi",
            "string",
            False,
            "NPI, 10 digits with a valid check digit (synthetic).",
            "1234567893",
            "npi",
        ),
        C(
            "name",
            "string",
            False,
            "Provider or organization name (invented).",
            "Jordan Ashgrove, MD",
            "provider_name",
        ),
        C(
            "entity_type",
            "string",
            False,
            "individual or organization.",
            "individual",
            "entity_type_description",
            allowed=("individual", "organization"),
        ),
        C("organization_id", "string", False, "Organization the NPI works for / is.", "ORG0001"),
        C("taxonomy_code", "string", False, "NUCC taxonomy code.", "2084P0800X", "primary_taxonomy_code"),
        C("specialty", "string", False, "Specialty in words.", "psychiatry", "primary_specialty_description"),
        C("is_pcp", "bool", False, "Can act as a member's PCP.", "false"),
    ),
)

STAFF = Table(
    "staff",
    "(BH) Clinical and case-management staff with credentials (IOP-07, TCM-11).",
    (
        C("staff_id", "string", False, "Staff identifier (key).", "S000001"),
        C(
            "npi",
            "string",
            True,
            "Individual NPI (licensed clinicians); null for case managers without one.",
            "",
        ),
        C("organization_id", "string", False, "Employing organization.", "ORG0003"),
        C("first_name", "string", False, "Invented first name.", "Rowan"),
        C("last_name", "string", False, "Invented last name.", "Thistledown"),
        C("credentials", "string", False, '";"-joined credentials.', "cm_ii;intensive_cm"),
        C("licence_number", "string", True, "Licence or certification number (synthetic).", "LIC-000001"),
        C("hire_date", "date", False, "Hire date.", "2021-09-13"),
    ),
)

TESTING_PREAUTH_NOTICES = Table(
    "testing_preauth_notices",
    "(BH, OPM-01) The plan told this provider (or about this member) that psych testing needs "
    "preauthorization.",
    (
        C("plan_id", "string", False, "Plan that sent the notice.", "PLN01"),
        C(
            "provider_npi",
            "string",
            True,
            "Provider notified; null when the notice is member-wide.",
            "1234567893",
        ),
        C("member_id", "string", True, "Member concerned; null when the notice is provider-wide.", ""),
        C("effective_from", "date", False, "First day the requirement applies.", "2026-02-01"),
        C("effective_to", "date", True, "Last day; null = until further notice.", ""),
    ),
)

_DX = tuple(
    C(
        f"diagnosis_code_{i}",
        "string",
        i != 1,
        "Principal ICD-10-CM diagnosis (dotted form)."
        if i == 1
        else f"ICD-10-CM diagnosis {i} (dotted form).",
        "F33.1" if i == 1 else "",
        f"diagnosis_code_{i} (Tuva expects no dot)",
        codes=_ICD,
    )
    for i in range(1, 13)
)
_MODS = tuple(
    C(
        f"hcpcs_modifier_{i}",
        "string",
        True,
        f"HCPCS modifier {i}.",
        "HE" if i == 1 else "",
        f"hcpcs_modifier_{i}",
        codes=_MODIFIER,
    )
    for i in range(1, 6)
)

MEDICAL_CLAIM = Table(
    "medical_claim",
    "One row per claim line (Tuva `medical_claim`), professional and institutional.",
    (
        C(
            "claim_id",
            "string",
            False,
            "Claim identifier; lines of a claim share it.",
            "MC0000000017",
            "claim_id",
        ),
        C(
            "claim_line_number",
            "int32",
            False,
            "Line number within the claim, from 1.",
            "1",
            "claim_line_number",
        ),
        C(
            "claim_type",
            "string",
            False,
            "professional or institutional.",
            "professional",
            "claim_type",
            allowed=("professional", "institutional"),
        ),
        C("person_id", "string", False, "Person identifier.", "P00000001", "person_id"),
        C("member_id", "string", False, "Member identifier.", "M00000001", "member_id"),
        C("payer", "string", False, "Payer on the date of service.", "Prairie Health", "payer"),
        C("plan", "string", False, "Plan name on the date of service.", "Prairie Medicaid BH", "plan"),
        C(
            "claim_start_date",
            "date",
            False,
            "First date of service on the claim.",
            "2026-03-02",
            "claim_start_date",
        ),
        C(
            "claim_end_date",
            "date",
            False,
            "Last date of service on the claim.",
            "2026-03-02",
            "claim_end_date",
        ),
        C(
            "claim_line_start_date",
            "date",
            False,
            "Line's first date of service.",
            "2026-03-02",
            "claim_line_start_date",
        ),
        C(
            "claim_line_end_date",
            "date",
            False,
            "Line's last date of service.",
            "2026-03-02",
            "claim_line_end_date",
        ),
        C(
            "admission_date",
            "date",
            True,
            "Inpatient/residential admission date (institutional).",
            "",
            "admission_date",
        ),
        C("discharge_date", "date", True, "Discharge date (institutional).", "", "discharge_date"),
        C(
            "admit_source_code",
            "string",
            True,
            "UB-04 point of origin.",
            "",
            "admit_source_code",
            CodeRef("institutional", ("admit_source",)),
        ),
        C(
            "admit_type_code",
            "string",
            True,
            "UB-04 priority of admission.",
            "",
            "admit_type_code",
            CodeRef("institutional", ("admit_type",)),
        ),
        C(
            "discharge_disposition_code",
            "string",
            True,
            "UB-04 patient discharge status.",
            "",
            "discharge_disposition_code",
            CodeRef("institutional", ("discharge_disposition",)),
        ),
        C(
            "place_of_service_code",
            "string",
            True,
            "CMS place of service (professional lines).",
            "11",
            "place_of_service_code",
            CodeRef("place-of-service"),
        ),
        C(
            "bill_type_code",
            "string",
            True,
            "UB-04 type of bill (institutional).",
            "",
            "bill_type_code",
            CodeRef("institutional", ("bill_type",)),
        ),
        C(
            "ms_drg_code",
            "string",
            True,
            "MS-DRG (inpatient).",
            "",
            "ms_drg_code",
            CodeRef("institutional", ("ms_drg",)),
        ),
        C(
            "revenue_center_code",
            "string",
            True,
            "NUBC revenue code (institutional lines).",
            "",
            "revenue_center_code",
            CodeRef("revenue-codes"),
        ),
        C(
            "service_unit_quantity",
            "int32",
            False,
            "Units billed (T1017: 15-minute units; per diems: days).",
            "1",
            "service_unit_quantity",
        ),
        C("hcpcs_code", "string", True, "CPT/HCPCS procedure code.", "90837", "hcpcs_code", _HCPCS_SERVICES),
        *_MODS,
        C(
            "rendering_npi",
            "string",
            True,
            "Rendering provider NPI (professional).",
            "1234567893",
            "rendering_npi",
        ),
        C("billing_npi", "string", False, "Billing provider NPI.", "1234567893", "billing_npi"),
        C(
            "facility_npi",
            "string",
            True,
            "Facility NPI (institutional / facility-based).",
            "",
            "facility_npi",
        ),
        C("paid_date", "date", False, "Date the claim was paid.", "2026-03-30", "paid_date"),
        C("paid_amount", "float64", False, "Amount paid (USD).", "98.12", "paid_amount"),
        C("allowed_amount", "float64", False, "Allowed amount (USD).", "112.50", "allowed_amount"),
        C("charge_amount", "float64", False, "Billed charge (USD).", "210.00", "charge_amount"),
        C(
            "diagnosis_code_type",
            "string",
            False,
            'Always "icd-10-cm".',
            "icd-10-cm",
            "diagnosis_code_type",
            allowed=("icd-10-cm",),
        ),
        *_DX,
        C(
            "service_start_time",
            "time",
            True,
            "(BH) Local start time HH:MM of timed services (T1017, IOP days).",
            "09:00",
        ),
        C("service_stop_time", "time", True, "(BH) Local stop time HH:MM.", "12:15"),
        C("face_to_face_minutes", "int32", True, "(BH) Face-to-face minutes (TCM-01, IOP-04).", "195"),
        C(
            "travel_minutes",
            "int32",
            True,
            "(BH) Travel ('windshield') minutes, not billable (TCM-01).",
            "25",
        ),
        C("rendering_staff_id", "string", True, "(BH) staff.staff_id who delivered the service.", "S000012"),
        C(
            "activity_code",
            "string",
            True,
            "(BH) T1017 activity (TCM-03/TCM-04).",
            "plan_monitoring",
            codes=CodeRef("tcm-activities"),
        ),
        C("data_source", "string", False, "Source system label.", "bhum-synth", "data_source"),
    ),
)

PHARMACY_CLAIM = Table(
    "pharmacy_claim",
    "One row per prescription fill (Tuva `pharmacy_claim`).",
    (
        C("claim_id", "string", False, "Claim identifier.", "RX0000000042", "claim_id"),
        C("claim_line_number", "int32", False, "Always 1.", "1", "claim_line_number"),
        C("person_id", "string", False, "Person identifier.", "P00000001", "person_id"),
        C("member_id", "string", False, "Member identifier.", "M00000001", "member_id"),
        C("payer", "string", False, "Payer on the fill date.", "Prairie Health", "payer"),
        C("plan", "string", False, "Plan name on the fill date.", "Prairie Medicaid BH", "plan"),
        C(
            "prescribing_provider_npi",
            "string",
            False,
            "Prescriber NPI.",
            "1234567893",
            "prescribing_provider_npi",
        ),
        C(
            "dispensing_provider_npi",
            "string",
            False,
            "Pharmacy NPI.",
            "1234567893",
            "dispensing_provider_npi",
        ),
        C("dispensing_date", "date", False, "Fill date.", "2026-02-03", "dispensing_date"),
        C(
            "ndc_code",
            "string",
            False,
            "11-digit NDC (synthetic labelers 991xx; not real products).",
            "99101010130",
            "ndc_code",
            CodeRef("ndc-psychotropic"),
        ),
        C("rxnorm_code", "string", False, "(BH) RxNorm ingredient RXCUI.", "89013"),
        C("drug_class", "string", False, "(BH) Drug class.", "antipsychotic", allowed=DRUG_CLASSES),
        C("quantity", "int32", False, "Dispensed quantity.", "30", "quantity"),
        C("days_supply", "int32", False, "Days supply.", "30", "days_supply"),
        C("refills", "int32", False, "Refills remaining.", "2", "refills"),
        C("paid_date", "date", False, "Paid date.", "2026-02-05", "paid_date"),
        C("paid_amount", "float64", False, "Amount paid (USD).", "14.20", "paid_amount"),
        C("allowed_amount", "float64", False, "Allowed amount (USD).", "18.00", "allowed_amount"),
        C("data_source", "string", False, "Source system label.", "bhum-synth", "data_source"),
    ),
)

TABLES: tuple[Table, ...] = (
    PLANS,
    ELIGIBILITY,
    MEMBER_RESIDENCE,
    ORGANIZATIONS,
    PROVIDERS,
    STAFF,
    TESTING_PREAUTH_NOTICES,
    MEDICAL_CLAIM,
    PHARMACY_CLAIM,
)
TABLES_BY_NAME = {t.name: t for t in TABLES}
CREDENTIALS = _CREDENTIALS
LINES_OF_BUSINESS = _LOB

# Columns whose start must not come after the matching end (validated per row).
DATE_ORDER: dict[str, tuple[tuple[str, str], ...]] = {
    "eligibility": (("enrollment_start_date", "enrollment_end_date"), ("birth_date", "enrollment_end_date")),
    "member_residence": (("start_date", "end_date"),),
    "testing_preauth_notices": (("effective_from", "effective_to"),),
    "medical_claim": (
        ("claim_start_date", "claim_end_date"),
        ("claim_line_start_date", "claim_line_end_date"),
        ("admission_date", "discharge_date"),
    ),
}


def render_markdown() -> str:
    """The column tables of docs/claims-input-schema.md."""
    out: list[str] = []
    for table in TABLES:
        out.append(f"### `{table.name}`\n\n{table.meaning}\n")
        out.append("| column | type | nullable | meaning | example | Tuva | codes |")
        out.append("|---|---|---|---|---|---|---|")
        for c in table.columns:
            if c.codes is not None:
                codes = f"`{c.codes.list_name}`" + (
                    f" ({', '.join(c.codes.groups)})" if c.codes.groups else ""
                )
            elif c.allowed:
                codes = " \\| ".join(c.allowed)
            else:
                codes = ""
            kind = 'string "HH:MM"' if c.kind == "time" else c.kind
            example = f"`{c.example}`" if c.example else ""
            tuva = f"`{c.tuva}`" if c.tuva != "—" else "—"
            out.append(
                f"| `{c.name}` | {kind} | {'yes' if c.nullable else 'no'} | {c.meaning} | {example} "
                f"| {tuva} | {codes} |"
            )
        out.append("")
    return "\n".join(out)
