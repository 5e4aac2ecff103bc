"""The set-based claim check engine (DuckDB SQL over Arrow tables), its readers and remittance writers.

Public API::

    read_claims(paths, columns=None) -> ClaimBatch      # CSV / Parquet / JSON lines / X12 837P-837I
    population_reference(directory) -> ReferenceTables  # reference data without a server
    DuckDbClaimsEngine(threads=None).check(batch, reference, parameters) -> decisions (pa.Table)
    write_decisions(decisions, rejected, out_dir, run=..., envelope=...) -> dict of written files
"""

from bhum.adapters.claims_engine.engine import DECISION_COLUMNS, DuckDbClaimsEngine
from bhum.adapters.claims_engine.population import population_reference
from bhum.adapters.claims_engine.readers import BATCH_SCHEMA, CHECK_COLUMNS, read_claims

__all__ = [
    "BATCH_SCHEMA",
    "CHECK_COLUMNS",
    "DECISION_COLUMNS",
    "DuckDbClaimsEngine",
    "population_reference",
    "read_claims",
]
