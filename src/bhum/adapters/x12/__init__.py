"""X12 5010 interfaces: 837P/837I claims in (as `medical_claim` rows), 835 remittance out.

See docs/x12.md for the element-by-element mapping and the conventions bhum adds (NTE timing keys).
"""

from bhum.adapters.x12.claim_schema import MEDICAL_CLAIM_SCHEMA, X12_MEDICAL_CLAIM_SCHEMA
from bhum.adapters.x12.reader_837 import Read837Result, conformance_error, parse_837, read_837, read_837_text
from bhum.adapters.x12.segments import X12InputError

__all__ = [
    "MEDICAL_CLAIM_SCHEMA",
    "X12_MEDICAL_CLAIM_SCHEMA",
    "Read837Result",
    "X12InputError",
    "conformance_error",
    "parse_837",
    "read_837",
    "read_837_text",
]
