"""Refuse malformed population files: missing files or columns, wrong types, impossible dates, nulls
where the contract forbids them, unknown codes, spans that end before they start. Every problem is an
InputError naming the file, the row (1-based data row) and the field.

Files are read batch by batch (Parquet row groups, CSV blocks) so that a 20-million-line claims file is
checked in flat memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from bhum.adapters.reference import load_code_list
from bhum.adapters.synth.schema import DATE_ORDER, TABLES, Column, Table
from bhum.domain.errors import InputError

_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class PopulationInvalid(InputError):
    """Raised by ``require_valid_population``; ``errors`` holds every problem found."""

    def __init__(self, errors: list[InputError]) -> None:
        first = errors[0]
        super().__init__(
            f"{len(errors)} problem(s) in the population files; first: {first}",
            field=first.field,
            record=first.record,
            source=first.source,
        )
        self.errors = errors


def require_valid_population(directory: Path, *, reference_root: Path | None = None) -> None:
    errors = validate_population(directory, reference_root=reference_root)
    if errors:
        raise PopulationInvalid(errors)


def validate_population(
    directory: Path, *, max_per_check: int = 20, reference_root: Path | None = None
) -> list[InputError]:
    """Every problem found in the population files under ``directory`` (empty list = valid)."""
    errors: list[InputError] = []
    code_sets: dict[tuple[str, tuple[str, ...]], pa.Array] = {}
    for table in TABLES:
        path = _find(directory, table.name)
        if path is None:
            errors.append(
                InputError(
                    f"missing file {table.name}.parquet or {table.name}.csv",
                    source=str(directory / table.name),
                )
            )
            continue
        errors.extend(_validate_file(path, table, max_per_check, code_sets, reference_root))
    return errors


def _find(directory: Path, name: str) -> Path | None:
    for suffix in (".parquet", ".csv"):
        path = directory / f"{name}{suffix}"
        if path.is_file():
            return path
    return None


def _batches(path: Path, table: Table) -> Iterator[pa.RecordBatch]:
    if path.suffix == ".parquet":
        yield from pq.ParquetFile(str(path)).iter_batches(batch_size=262_144)
        return
    # CSV: read every contract column as text, then cast, so bad values are reported rather than guessed.
    options = pa_csv.ConvertOptions(
        column_types={c.name: pa.string() for c in table.columns},
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
    with pa_csv.open_csv(str(path), convert_options=options) as reader:
        yield from reader


def _validate_file(
    path: Path,
    table: Table,
    limit: int,
    code_sets: dict[tuple[str, tuple[str, ...]], pa.Array],
    reference_root: Path | None,
) -> list[InputError]:
    source = str(path)
    errors: list[InputError] = []
    counts: dict[tuple[str, str], int] = {}
    offset = 0
    try:
        batches = _batches(path, table)
        for batch in batches:
            present = set(batch.schema.names)
            if offset == 0:
                for col in table.columns:
                    if col.name not in present:
                        errors.append(InputError("required column is missing", field=col.name, source=source))
            typed: dict[str, pa.Array] = {}
            for col in table.columns:
                if col.name not in present:
                    continue
                arr = batch.column(col.name)
                cast = _cast(arr, col, offset, source, errors, counts, limit)
                if cast is None:
                    continue
                typed[col.name] = cast
                if not col.nullable:
                    _report(
                        pc.is_null(cast),
                        offset,
                        "is required but empty",
                        col.name,
                        source,
                        errors,
                        counts,
                        limit,
                    )
                if col.kind == "time":
                    bad = pc.invert(pc.match_substring_regex(cast, _TIME))
                    _report(
                        bad,
                        offset,
                        'is not a local time "HH:MM"',
                        col.name,
                        source,
                        errors,
                        counts,
                        limit,
                        cast,
                    )
                allowed = _allowed(col, code_sets, reference_root)
                if allowed is not None:
                    bad = pc.and_(pc.is_valid(cast), pc.invert(pc.is_in(cast, value_set=allowed)))
                    what = (
                        f"is not a code in reference list {col.codes.list_name}"
                        if col.codes is not None
                        else f"is not one of {', '.join(col.allowed)}"
                    )
                    _report(bad, offset, what, col.name, source, errors, counts, limit, cast)
            for start, end in DATE_ORDER.get(table.name, ()):
                if start in typed and end in typed:
                    bad = pc.less(typed[end], typed[start])
                    _report(
                        bad, offset, f"ends before {start}", end, source, errors, counts, limit, typed[end]
                    )
            offset += batch.num_rows
    except (pa.ArrowInvalid, OSError) as exc:
        errors.append(
            InputError(f"cannot be read: {exc}", record=offset + 1 if offset else None, source=source)
        )
    return errors


def _cast(
    arr: pa.Array,
    col: Column,
    offset: int,
    source: str,
    errors: list[InputError],
    counts: dict[tuple[str, str], int],
    limit: int,
) -> pa.Array | None:
    target = col.arrow_type
    if arr.type == target:
        return arr
    if pa.types.is_string(arr.type) and target == pa.bool_():
        text = pc.utf8_lower(arr)
        bad = pc.invert(pc.is_in(text, value_set=pa.array(["true", "false"])))
        if _report(
            bad, offset, "is not a boolean (true/false)", col.name, source, errors, counts, limit, arr
        ):
            return None
        return pc.equal(text, "true")
    try:
        return pc.cast(arr, target, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # Find the rows that do not convert (only on this failure path, value by value).
    kind = "a valid date (YYYY-MM-DD)" if target == pa.date32() else f"a valid {col.kind}"
    found = 0
    for i, value in enumerate(arr.to_pylist()):
        if value is None:
            continue
        try:
            pc.cast(pa.array([value], type=arr.type), target, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            found += 1
            if found <= limit:
                errors.append(
                    InputError(
                        f"{value!r} is not {kind}", field=col.name, record=offset + i + 1, source=source
                    )
                )
    if found == 0:
        errors.append(
            InputError(f"type {arr.type} cannot be read as {col.kind}", field=col.name, source=source)
        )
    elif found > limit:
        errors.append(InputError(f"... and {found - limit} more such rows", field=col.name, source=source))
    return None


def _allowed(
    col: Column, code_sets: dict[tuple[str, tuple[str, ...]], pa.Array], reference_root: Path | None
) -> pa.Array | None:
    if col.codes is not None:
        key = (col.codes.list_name, col.codes.groups)
        if key not in code_sets:
            code_list = load_code_list(col.codes.list_name, root=reference_root)
            code_sets[key] = pa.array(sorted(code_list.codes(*col.codes.groups)), type=pa.string())
        return code_sets[key]
    if col.allowed:
        return pa.array(col.allowed, type=pa.string())
    return None


def _report(
    bad: pa.Array,
    offset: int,
    message: str,
    field: str,
    source: str,
    errors: list[InputError],
    counts: dict[tuple[str, str], int],
    limit: int,
    values: pa.Array | None = None,
) -> bool:
    """Add one error per offending row (nulls in ``bad`` are not offences); True if any."""
    bad = pc.fill_null(bad, False)
    rows = pc.indices_nonzero(bad).to_pylist()
    if not rows:
        return False
    key = (field, message)
    seen = counts.get(key, 0)
    for i in rows:
        seen += 1
        if seen <= limit:
            shown = f"{values[i].as_py()!r} " if values is not None else ""
            errors.append(
                InputError(f"{shown}{message}".strip(), field=field, record=offset + i + 1, source=source)
            )
        elif seen == limit + 1:
            errors.append(
                InputError(
                    f"more rows: {message} (only the first {limit} are listed)", field=field, source=source
                )
            )
    counts[key] = seen
    return True
