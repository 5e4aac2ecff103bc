"""Write a synthetic population to a directory, block by block, as Parquet (or CSV).

Memory stays flat however many members are asked for: each block of ``block_members`` members is
generated, appended to every file (one Parquet row group per block) and dropped. Same arguments, same
bytes: nothing depends on the clock, the machine or the order of dictionary iteration.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from bhum.adapters.synth.core import Vocab
from bhum.adapters.synth.network import Network, build_network
from bhum.adapters.synth.population import Codes, generate_block
from bhum.adapters.synth.schema import SCHEMA_VERSION, TABLES, TESTING_PREAUTH_NOTICES
from bhum.domain.errors import InputError

DEFAULT_BLOCK_MEMBERS = 10_000
MANIFEST = "manifest.json"


class _TableWriter(Protocol):
    def write_table(self, table: pa.Table) -> None: ...
    def close(self) -> None: ...


class _CsvWriter:
    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self._writer = pa_csv.CSVWriter(str(path), schema)

    def write_table(self, table: pa.Table) -> None:
        self._writer.write_table(table)

    def close(self) -> None:
        self._writer.close()


@dataclass
class SynthSummary:
    members: int
    blocks: int
    rows: dict[str, int] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def claim_lines(self) -> int:
        return self.rows.get("medical_claim", 0)

    @property
    def fills(self) -> int:
        return self.rows.get("pharmacy_claim", 0)


def file_name(table: str, csv: bool) -> str:
    return f"{table}.{'csv' if csv else 'parquet'}"


def generate_population(
    out: Path,
    *,
    members: int,
    seed: int,
    year: int = 2026,
    csv: bool = False,
    block_members: int = DEFAULT_BLOCK_MEMBERS,
    progress: Callable[[int], None] | None = None,
) -> SynthSummary:
    """Generate ``members`` members and their year of claims into ``out``; ``progress`` gets the number of
    members finished after each block."""
    if members < 1:
        raise InputError("needs at least one member", field="members", record=members)
    if block_members < 1:
        raise InputError("blocks need at least one member", field="block_members", record=block_members)
    if not 1900 < year < 2200:
        raise InputError(f"year {year} is out of range", field="year", record=year)
    out.mkdir(parents=True, exist_ok=True)
    vocab = Vocab()
    codes = Codes(vocab)
    net = build_network(seed, members, year, vocab)
    summary = SynthSummary(members=members, blocks=0)
    writers: dict[str, _TableWriter] = {}
    try:
        for table in TABLES:
            path = out / file_name(table.name, csv)
            summary.files[table.name] = path
            summary.rows[table.name] = 0
            writers[table.name] = (
                _CsvWriter(path, table.arrow_schema)
                if csv
                else pq.ParquetWriter(str(path), table.arrow_schema, compression="snappy")
            )
        for name, static in net.tables.items():
            _write(writers, summary, name, static)
        _write(writers, summary, "testing_preauth_notices", _provider_notices(net.testing_notices, net))
        first = 0
        index = 0
        while first < members:
            n = min(block_members, members - first)
            block = generate_block(seed, index, first, n, year, net, codes)
            for name in (
                "eligibility",
                "member_residence",
                "testing_preauth_notices",
                "medical_claim",
                "pharmacy_claim",
            ):
                _write(writers, summary, name, getattr(block, name))
            del block
            first += n
            index += 1
            summary.blocks = index
            if progress is not None:
                progress(first)
    finally:
        for writer in writers.values():
            writer.close()
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "generator": "bhum synth",
        "seed": seed,
        "members": members,
        "year": year,
        "block_members": block_members,
        "format": "csv" if csv else "parquet",
        "rows": summary.rows,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return summary


def _write(writers: dict[str, _TableWriter], summary: SynthSummary, name: str, table: pa.Table) -> None:
    if table.num_rows:
        writers[name].write_table(table)
        summary.rows[name] += table.num_rows


def _provider_notices(notices: list[tuple[str, int, date]], net: Network) -> pa.Table:

    npis = net.tables["providers"].column("npi")
    return pa.table(
        {
            "plan_id": [plan for plan, _, _ in notices],
            "provider_npi": [npis[prov].as_py() for _, prov, _ in notices],
            "member_id": pa.nulls(len(notices), pa.string()),
            "effective_from": [start for _, _, start in notices],
            "effective_to": pa.nulls(len(notices), pa.date32()),
        },
        schema=TESTING_PREAUTH_NOTICES.arrow_schema,
    )
