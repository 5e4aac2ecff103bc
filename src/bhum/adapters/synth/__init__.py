"""Synthetic population generator (issue 2): deterministic, vectorised, chunked.

Public API::

    generate_population(out, members=..., seed=..., year=2026, csv=False, block_members=10_000,
                        progress=None) -> SynthSummary
    validate_population(directory) -> list[InputError]
    require_valid_population(directory) -> None  # raises PopulationInvalid (an InputError)
    TABLES / TABLES_BY_NAME  # the file contract (bhum.adapters.synth.schema)
"""

from bhum.adapters.synth.schema import SCHEMA_VERSION, TABLES, TABLES_BY_NAME
from bhum.adapters.synth.validate import PopulationInvalid, require_valid_population, validate_population
from bhum.adapters.synth.writer import DEFAULT_BLOCK_MEMBERS, SynthSummary, generate_population

__all__ = [
    "DEFAULT_BLOCK_MEMBERS",
    "SCHEMA_VERSION",
    "TABLES",
    "TABLES_BY_NAME",
    "PopulationInvalid",
    "SynthSummary",
    "generate_population",
    "require_valid_population",
    "validate_population",
]
