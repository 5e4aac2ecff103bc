"""The `medical_claim` columns of the population-file contract, as Arrow types.

Names and order follow the contract (Tuva `medical_claim` plus bhum's behavioral-health columns).
Dates are ``date32``, times local "HH:MM" strings, amounts and quantities ``float64``, minutes
``int32``. Two X12-only columns follow the contract columns: ``service_unit_basis`` (SV103 / SV204:
UN units, MJ minutes, DA days; converting minutes to 15-minute units is the claim check's business)
and ``source_segment`` (the ordinal of the line's LX segment in its file, so a decision can point back
at the file).
"""

from __future__ import annotations

import pyarrow as pa

_MODIFIERS = [f"hcpcs_modifier_{n}" for n in range(1, 6)]
_DIAGNOSES = [f"diagnosis_code_{n}" for n in range(1, 13)]

MEDICAL_CLAIM_SCHEMA: pa.Schema = pa.schema(
    [
        ("claim_id", pa.string()),
        ("claim_line_number", pa.int32()),
        ("claim_type", pa.string()),
        ("person_id", pa.string()),
        ("member_id", pa.string()),
        ("payer", pa.string()),
        ("plan", pa.string()),
        ("claim_start_date", pa.date32()),
        ("claim_end_date", pa.date32()),
        ("claim_line_start_date", pa.date32()),
        ("claim_line_end_date", pa.date32()),
        ("admission_date", pa.date32()),
        ("discharge_date", pa.date32()),
        ("admit_source_code", pa.string()),
        ("admit_type_code", pa.string()),
        ("discharge_disposition_code", pa.string()),
        ("place_of_service_code", pa.string()),
        ("bill_type_code", pa.string()),
        ("ms_drg_code", pa.string()),
        ("revenue_center_code", pa.string()),
        ("service_unit_quantity", pa.float64()),
        ("hcpcs_code", pa.string()),
        *[(name, pa.string()) for name in _MODIFIERS],
        ("rendering_npi", pa.string()),
        ("billing_npi", pa.string()),
        ("facility_npi", pa.string()),
        ("paid_date", pa.date32()),
        ("paid_amount", pa.float64()),
        ("allowed_amount", pa.float64()),
        ("charge_amount", pa.float64()),
        ("diagnosis_code_type", pa.string()),
        *[(name, pa.string()) for name in _DIAGNOSES],
        ("service_start_time", pa.string()),
        ("service_stop_time", pa.string()),
        ("face_to_face_minutes", pa.int32()),
        ("travel_minutes", pa.int32()),
        ("rendering_staff_id", pa.string()),
        ("activity_code", pa.string()),
        ("data_source", pa.string()),
    ]
)

X12_EXTRA_FIELDS: tuple[pa.Field, ...] = (
    pa.field("service_unit_basis", pa.string()),
    pa.field("source_segment", pa.int64()),
)

X12_MEDICAL_CLAIM_SCHEMA: pa.Schema = pa.schema([*MEDICAL_CLAIM_SCHEMA, *X12_EXTRA_FIELDS])

MODIFIER_COLUMNS: tuple[str, ...] = tuple(_MODIFIERS)
DIAGNOSIS_COLUMNS: tuple[str, ...] = tuple(_DIAGNOSES)
