# ruff: noqa: E501  (SQL text reads better unwrapped)
"""Claim lines in: the documented ``medical_claim`` schema as CSV, Parquet or JSON lines, or X12 837P/837I.

Every file becomes the same Arrow table (the contract's columns, ``service_unit_basis`` for X12, and
``line_order``, ``source``, ``source_line``). Validation is set-based (one SQL pass per file): a line with a
missing required field, an impossible date (2026-02-30) or a non-number is set aside as a
``RejectedLine`` naming the file, the line and the field; the rest of the batch is still decided. A file
that cannot be read at all (no such file, a required column absent) is one rejected entry for the file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from bhum.adapters.x12 import MEDICAL_CLAIM_SCHEMA, read_837
from bhum.services.claims import ClaimBatch, RejectedLine

X12_SUFFIXES = {".837", ".837p", ".837i", ".x12", ".edi"}
JSON_SUFFIXES = {".jsonl", ".ndjson", ".json"}
REQUIRED = (
    "claim_id",
    "claim_line_number",
    "member_id",
    "claim_line_start_date",
    "service_unit_quantity",
    "billing_npi",
    "charge_amount",
)
# The engine's input: the contract columns plus where each line came from.
BATCH_SCHEMA = pa.schema(
    [
        ("line_order", pa.int64()),
        ("source", pa.string()),
        ("source_line", pa.int64()),
        *MEDICAL_CLAIM_SCHEMA,
        ("service_unit_basis", pa.string()),
    ]
)
_SQL_TYPES = {
    pa.string(): "VARCHAR",
    pa.date32(): "DATE",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.float64(): "DOUBLE",
}
_TIME_COLUMNS = ("service_start_time", "service_stop_time")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _validate(table: pa.Table, source: str, first_order: int) -> tuple[pa.Table, list[RejectedLine]]:
    """Cast ``table`` (any column types, plus ``source_line``) to BATCH_SCHEMA; lines that fail go aside."""
    present = {f.name: f.type for f in table.schema}
    missing = [c for c in REQUIRED if c not in present]
    if missing:
        return BATCH_SCHEMA.empty_table(), [
            RejectedLine(source, None, missing[0], f"the file has no {missing[0]!r} column")
        ]
    selects: list[str] = []
    checks: list[str] = []
    for target in BATCH_SCHEMA:
        name = target.name
        if name in ("line_order", "source", "source_line"):
            continue
        sql_type = _SQL_TYPES[target.type]
        if name not in present:
            selects.append(f"NULL::{sql_type} AS {_quote(name)}")
            continue
        col = _quote(name)
        is_text = pa.types.is_string(present[name]) or pa.types.is_large_string(present[name])
        raw = f"nullif(trim({col}), '')" if is_text else col
        selects.append(f"TRY_CAST({raw} AS {sql_type}) AS {col}")
        field = _text(name)
        if name in REQUIRED:
            checks.append(f"CASE WHEN {raw} IS NULL THEN {{'field': {field}, 'message': 'is missing'}} END")
        if sql_type != "VARCHAR":
            kind = {"DATE": "date (YYYY-MM-DD)", "INTEGER": "whole number", "DOUBLE": "number"}.get(
                sql_type, sql_type.lower()
            )
            checks.append(
                f"CASE WHEN {raw} IS NOT NULL AND TRY_CAST({raw} AS {sql_type}) IS NULL THEN "
                f"{{'field': {field}, 'message': {_text(repr_prefix(kind))} || {raw}::VARCHAR}} END"
            )
        if name in _TIME_COLUMNS:
            checks.append(
                f"CASE WHEN {raw} IS NOT NULL AND NOT regexp_full_match({raw}::VARCHAR, '([01][0-9]|2[0-3]):[0-5][0-9]')"
                f" THEN {{'field': {field}, 'message': 'is not a time HH:MM: ' || {raw}::VARCHAR}} END"
            )
        if name == "service_unit_quantity":
            checks.append(
                f"CASE WHEN TRY_CAST({raw} AS DOUBLE) < 0 THEN {{'field': {field}, "
                f"'message': 'units cannot be negative: ' || {raw}::VARCHAR}} END"
            )
    if "claim_line_end_date" in present:
        checks.append(
            "CASE WHEN TRY_CAST(claim_line_end_date AS DATE) < TRY_CAST(claim_line_start_date AS DATE) THEN "
            "{'field': 'claim_line_end_date', 'message': 'ends before claim_line_start_date'} END"
        )
    con = duckdb.connect()
    try:
        con.register("raw_in", table)
        con.execute(
            f"""
            CREATE TEMP TABLE checked AS
            SELECT source_line, {", ".join(selects)},
                   list_filter([{", ".join(checks)}], lambda x: x IS NOT NULL) AS problems
            FROM raw_in
            """
        )
        bad = con.sql(
            "SELECT source_line, problems[1].field, problems[1].message, claim_id FROM checked "
            "WHERE len(problems) > 0 ORDER BY source_line"
        ).fetchall()
        good = con.sql(
            f"""
            SELECT ({first_order} + row_number() OVER (ORDER BY source_line) - 1)::BIGINT AS line_order,
                   {_text(source)} AS source, source_line::BIGINT AS source_line,
                   * EXCLUDE (source_line, problems)
            FROM checked WHERE len(problems) = 0 ORDER BY source_line
            """
        ).fetch_arrow_table()
    finally:
        con.close()
    rejected = [
        RejectedLine(source, int(line), str(field), f"{field} {message}", claim_id)
        for line, field, message, claim_id in bad
    ]
    return good.select(BATCH_SCHEMA.names).cast(BATCH_SCHEMA), rejected


def repr_prefix(kind: str) -> str:
    return f"is not a valid {kind}: "


def _with_lines(table: pa.Table, first_line: int) -> pa.Table:
    return table.append_column(
        "source_line", pa.array(range(first_line, first_line + table.num_rows), pa.int64())
    )


def _read_csv(path: Path) -> tuple[pa.Table, list[RejectedLine]]:
    with path.open(encoding="utf-8", newline="") as handle:
        names = [n.strip() for n in next(csv.reader([handle.readline()]), [])]
    bad: list[RejectedLine] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        line = row.number if row.number is not None else None
        bad.append(
            RejectedLine(
                str(path), line, None, f"expected {row.expected_columns} fields, found {row.actual_columns}"
            )
        )
        return "skip"

    # Line numbers: pyarrow skips blank lines, so rows are numbered by reading the line index too.
    table = pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names},
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
    )
    skipped = sorted(r.line for r in bad if r.line is not None)
    lines = []
    number, k = 2, 0
    for _ in range(table.num_rows):
        while k < len(skipped) and skipped[k] == number:
            number += 1
            k += 1
        lines.append(number)
        number += 1
    return table.append_column("source_line", pa.array(lines, pa.int64())), bad


def _read_jsonl(path: Path) -> tuple[pa.Table, list[RejectedLine]]:
    rows: dict[str, list[str | None]] = {}
    line_numbers: list[int] = []
    bad: list[RejectedLine] = []
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                bad.append(RejectedLine(str(path), number, None, f"not valid JSON: {exc.msg}"))
                continue
            if not isinstance(record, dict):
                bad.append(RejectedLine(str(path), number, None, "a line must be a JSON object"))
                continue
            count = len(line_numbers)
            for key in record.keys() - rows.keys():
                rows[key] = [None] * count
            for key, column in rows.items():
                value = record.get(key)
                column.append(None if value is None else str(value))
            line_numbers.append(number)
    table = pa.table({k: pa.array(v, pa.string()) for k, v in rows.items()})
    return table.append_column("source_line", pa.array(line_numbers, pa.int64())), bad


def is_x12(path: Path) -> bool:
    if path.suffix.lower() in X12_SUFFIXES:
        return True
    with path.open("rb") as handle:
        return handle.read(3) == b"ISA"


def read_claims(paths: Sequence[Path]) -> ClaimBatch:
    """All lines of all files, in order; every problem becomes a RejectedLine."""
    tables: list[pa.Table] = []
    rejected: list[RejectedLine] = []
    order = 1
    for path in paths:
        source = str(path)
        if not path.is_file():
            rejected.append(RejectedLine(source, None, None, "no such file"))
            continue
        suffix = path.suffix.lower()
        if suffix == ".parquet":
            raw = _with_lines(pq.read_table(path), 1)
            bad: list[RejectedLine] = []
        elif suffix == ".csv":
            raw, bad = _read_csv(path)
        elif suffix in JSON_SUFFIXES:
            raw, bad = _read_jsonl(path)
        elif is_x12(path):
            result = read_837(path)
            bad = [
                RejectedLine(source, err.line, err.element, err.message, err.claim_id)
                for err in result.errors
            ]
            raw = result.table.append_column(
                "source_line", result.table.column("source_segment").cast(pa.int64())
            ).drop_columns(["source_segment"])
        else:
            rejected.append(RejectedLine(source, None, None, f"unknown claims file type {suffix!r}"))
            continue
        good, invalid = _validate(raw, source, order)
        order += good.num_rows
        tables.append(good)
        rejected.extend(bad)
        rejected.extend(invalid)
    lines = pa.concat_tables(tables) if tables else BATCH_SCHEMA.empty_table()
    return ClaimBatch(lines=lines, rejected=tuple(rejected))
