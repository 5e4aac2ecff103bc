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
from collections.abc import Collection, Sequence
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from bhum.adapters.x12 import MEDICAL_CLAIM_SCHEMA, read_837
from bhum.adapters.x12.claim_schema import MODIFIER_COLUMNS
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
# The columns the claim checks and their decisions read (bhum.adapters.claims_engine.engine).
CHECK_COLUMNS = frozenset(
    {
        *REQUIRED,
        "claim_line_end_date",
        "hcpcs_code",
        *MODIFIER_COLUMNS,
        "revenue_center_code",
        "rendering_npi",
        "rendering_staff_id",
        "allowed_amount",
        "service_start_time",
        "service_stop_time",
        "face_to_face_minutes",
        "travel_minutes",
        "activity_code",
        "service_unit_basis",
    }
)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _validate(
    table: pa.Table, source: str, first_order: int, *, typed: bool = False
) -> tuple[pa.Table, list[RejectedLine]]:
    """Type ``table`` (any column types, plus ``source_line``) as BATCH_SCHEMA; lines that fail go aside.

    One typed pass: a column already of its contract type is taken as is, a number of another width is
    cast by Arrow, text is parsed by DuckDB. Text from a text format (CSV, JSON lines, X12) is trimmed and
    empty text is missing; text of a ``typed`` source (Parquet) is taken as written, though an empty or
    blank required field is still missing. Only the domain checks run on every line, in one query that
    returns the failing lines."""
    present = {f.name: f.type for f in table.schema}
    missing = [c for c in REQUIRED if c not in present]
    if missing:
        return BATCH_SCHEMA.empty_table(), [
            RejectedLine(source, None, missing[0], f"the file has no {missing[0]!r} column")
        ]
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    parse: dict[str, str] = {}  # column -> DuckDB expression that types it
    checks: list[tuple[str, str, str]] = []  # (condition, field, message SQL), in reporting order
    text_columns: list[str] = []
    for target in BATCH_SCHEMA:
        name = target.name
        if name in ("line_order", "source", "source_line"):
            continue
        sql_type = _SQL_TYPES[target.type]
        if name not in present:
            columns[name] = pa.nulls(table.num_rows, target.type)
            continue
        col = _quote(name)
        is_text = _is_text(present[name])
        raw = f"nullif(trim({col}), '')" if is_text else col
        if present[name] == target.type and not is_text:
            columns[name] = table.column(name)
        elif is_text and sql_type == "VARCHAR":
            if typed:
                columns[name] = table.column(name)
            else:
                text_columns.append(name)
        else:
            try:
                if is_text:
                    raise pa.ArrowInvalid("text is parsed by DuckDB")
                columns[name] = table.column(name).cast(target.type, safe=True)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                parse[name] = f"TRY_CAST({raw} AS {sql_type})"
                kind = {"DATE": "date (YYYY-MM-DD)", "INTEGER": "whole number", "DOUBLE": "number"}.get(
                    sql_type, sql_type.lower()
                )
                checks.append(
                    (
                        f"{raw} IS NOT NULL AND TRY_CAST({raw} AS {sql_type}) IS NULL",
                        name,
                        f"{_text(repr_prefix(kind))} || {raw}::VARCHAR",
                    )
                )
        # Text kept as written (typed sources) is only trimmed where it starts or ends with a blank.
        kept = is_text and name not in parse and typed
        if name in REQUIRED:
            missing_sql = (
                f"({col} IS NULL OR {col} = '' OR ((starts_with({col}, ' ') OR ends_with({col}, ' ')) "
                f"AND trim({col}) = ''))"
                if kept
                else f"{raw} IS NULL"
            )
            checks.insert(len(checks) - (1 if name in parse else 0), (missing_sql, name, "'is missing'"))
        if name in _TIME_COLUMNS:
            time_ok = (
                f"{col} = '' OR regexp_full_match({col}, ' *([01][0-9]|2[0-3]):[0-5][0-9] *') OR trim({col}) = ''"
                if kept
                else f"regexp_full_match({raw}::VARCHAR, '([01][0-9]|2[0-3]):[0-5][0-9]')"
            )
            checks.append(
                (
                    f"{col if kept else raw} IS NOT NULL AND NOT ({time_ok})",
                    name,
                    f"'is not a time HH:MM: ' || {raw}::VARCHAR",
                )
            )
        if name == "service_unit_quantity":
            checks.append(
                (f"TRY_CAST({raw} AS DOUBLE) < 0", name, f"'units cannot be negative: ' || {raw}::VARCHAR")
            )
    if "claim_line_end_date" in present:
        checks.append(
            (
                "TRY_CAST(claim_line_end_date AS DATE) < TRY_CAST(claim_line_start_date AS DATE)",
                "claim_line_end_date",
                "'ends before claim_line_start_date'",
            )
        )
    con = duckdb.connect()
    try:
        con.register("raw_in", table)
        for name in text_columns:
            parse[name] = f"nullif(trim({_quote(name)}), '')"
        if parse:
            # A single-table projection keeps the batch order (preserve_insertion_order).
            parsed = con.sql(
                "SELECT "
                + ", ".join(f"{expr} AS {_quote(name)}" for name, expr in parse.items())
                + " FROM raw_in"
            ).fetch_arrow_table()
            for name in parse:
                columns[name] = parsed.column(name)
        field = "CASE " + " ".join(f"WHEN {c} THEN {_text(f)}" for c, f, _ in checks) + " END"
        message = "CASE " + " ".join(f"WHEN {c} THEN {m}" for c, _, m in checks) + " END"
        where = " OR ".join(f"coalesce({c}, false)" for c, _, _ in checks) or "false"
        bad = con.sql(
            f"SELECT source_line, {field}, {message}, claim_id::VARCHAR FROM raw_in WHERE {where} ORDER BY source_line"
        ).fetchall()
    finally:
        con.close()
    rejected = [
        RejectedLine(source, int(line), str(field), f"{field} {message}", claim_id)
        for line, field, message, claim_id in bad
    ]
    arrays = [columns[name] for name in BATCH_SCHEMA.names[3:]]
    lines = table.column("source_line")
    good = pa.Table.from_arrays(
        [pa.nulls(table.num_rows, pa.int64()), pa.nulls(table.num_rows, pa.string()), lines, *arrays],
        schema=BATCH_SCHEMA,
    )
    if bad:
        bad_lines = pa.array([line for line, _, _, _ in bad], pa.int64())
        good = good.filter(pc.invert(pc.is_in(lines, value_set=bad_lines)))
    if (
        good.num_rows > 1
        and not pc.all(
            pc.greater(
                good.column("source_line").slice(1), good.column("source_line").slice(0, good.num_rows - 1)
            )
        ).as_py()
    ):
        good = good.take(pc.sort_indices(good.column("source_line")))
    order = pa.array(np.arange(first_order, first_order + good.num_rows, dtype=np.int64))
    good = good.set_column(0, "line_order", order)
    good = good.set_column(
        1, "source", pa.array([source], pa.string()).take(np.zeros(good.num_rows, np.int64))
    )
    return good, rejected


def repr_prefix(kind: str) -> str:
    return f"is not a valid {kind}: "


def _with_lines(table: pa.Table, first_line: int) -> pa.Table:
    return table.append_column(
        "source_line", pa.array(np.arange(first_line, first_line + table.num_rows, dtype=np.int64))
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
    skipped = np.array(sorted(r.line for r in bad if r.line is not None), dtype=np.int64)
    numbers = np.arange(2, 2 + table.num_rows + len(skipped), dtype=np.int64)
    lines = numbers[~np.isin(numbers, skipped)][: table.num_rows]
    return table.append_column("source_line", pa.array(lines)), bad


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


def read_claims(paths: Sequence[Path], *, columns: Collection[str] | None = None) -> ClaimBatch:
    """All lines of all files, in order; every problem becomes a RejectedLine.

    ``columns`` (e.g. ``CHECK_COLUMNS``) reads only those contract columns (and the required ones); the
    others are left empty in the batch. The checks read nothing else, so a check-only run skips the rest."""
    keep = None if columns is None else set(columns) | set(REQUIRED) | {"source_line"}
    tables: list[pa.Table] = []
    rejected: list[RejectedLine] = []
    order = 1
    for path in paths:
        source = str(path)
        if not path.is_file():
            rejected.append(RejectedLine(source, None, None, "no such file"))
            continue
        suffix = path.suffix.lower()
        typed = suffix == ".parquet"
        if typed:
            parquet = pq.ParquetFile(path)
            names = [
                n
                for n in parquet.schema_arrow.names
                if n in BATCH_SCHEMA.names and (keep is None or n in keep)
            ]
            raw = _with_lines(parquet.read(columns=names), 1)
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
        if keep is not None:
            raw = raw.select([n for n in raw.column_names if n in keep])
        good, invalid = _validate(raw, source, order, typed=typed)
        order += good.num_rows
        tables.append(good)
        rejected.extend(bad)
        rejected.extend(invalid)
    lines = pa.concat_tables(tables) if tables else BATCH_SCHEMA.empty_table()
    return ClaimBatch(lines=lines, rejected=tuple(rejected))
