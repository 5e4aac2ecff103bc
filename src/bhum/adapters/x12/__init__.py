"""X12 5010 interfaces: 837P/837I claims in (as `medical_claim` rows), 835 remittance out.

See docs/x12.md for the element-by-element mapping and the conventions bhum adds (NTE timing keys).
"""

from bhum.adapters.x12.claim_schema import MEDICAL_CLAIM_SCHEMA, X12_MEDICAL_CLAIM_SCHEMA
from bhum.adapters.x12.reader_837 import Read837Result, conformance_error, parse_837, read_837, read_837_text
from bhum.adapters.x12.segments import X12InputError
from bhum.adapters.x12.writer_835 import (
    DECISION_SCHEMA,
    Adjustment,
    Envelope,
    LineDecision,
    Payee,
    Payer,
    PaymentRun,
    ProviderAdjustment,
    Remittance,
    decisions_table,
    write_835,
    write_835_file,
)

__all__ = [
    "DECISION_SCHEMA",
    "MEDICAL_CLAIM_SCHEMA",
    "X12_MEDICAL_CLAIM_SCHEMA",
    "Adjustment",
    "Envelope",
    "LineDecision",
    "Payee",
    "Payer",
    "PaymentRun",
    "ProviderAdjustment",
    "Read837Result",
    "Remittance",
    "X12InputError",
    "conformance_error",
    "decisions_table",
    "parse_837",
    "read_837",
    "read_837_text",
    "write_835",
    "write_835_file",
]
