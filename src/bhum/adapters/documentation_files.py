"""Files of the documentation audit (MN-05): progress notes and service plans in (JSON array, JSON lines
or CSV), the report out (CSV, JSON lines and a summary JSON). Schema: docs/documentation-audit-schema.md.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from bhum.domain.errors import InputError
from bhum.services.documentation_audit import DocumentationAudit


def read_records(path: Path) -> list[dict[str, Any]]:
    """Records of a notes or plans file, by suffix: ``.json`` (an array), ``.jsonl``/``.ndjson``, ``.csv``.
    A file that cannot be read is refused naming the file and, for JSON lines, the line."""
    source = str(path)
    if not path.is_file():
        raise InputError("no such file", source=source)
    suffix = path.suffix.lower()
    text = path.read_text(encoding="utf-8")
    if suffix == ".csv":
        return [dict(row) for row in csv.DictReader(text.splitlines())]
    if suffix in (".jsonl", ".ndjson"):
        records = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"not JSON: {exc.msg}", record=f"line {number}", source=source) from exc
            if not isinstance(value, dict):
                raise InputError("each line must be a JSON object", record=f"line {number}", source=source)
            records.append(value)
        return records
    if suffix == ".json":
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"not JSON: {exc.msg} (line {exc.lineno})", source=source) from exc
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise InputError("a .json file must hold an array of objects", source=source)
        return value
    raise InputError(f"unknown file type {suffix!r} (use .json, .jsonl or .csv)", source=source)


def _write_jsonl(table: pa.Table, path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in table.to_pylist():
            out.write(json.dumps(row, default=str) + "\n")


def write_report(
    audit: DocumentationAudit, out_dir: Path, formats: tuple[str, ...] = ("csv", "jsonl")
) -> dict[str, Path]:
    """``sessions.*`` (one row per billed session), ``plans.*`` (one per plan) and ``summary.json``.
    Files are written under temporary names and renamed at the end, so a failure leaves no half report."""
    unknown = sorted(set(formats) - {"csv", "jsonl"})
    if unknown:
        raise InputError(f"unknown format {unknown[0]!r} (csv, jsonl)", field="formats")
    out_dir.mkdir(parents=True, exist_ok=True)
    pending: dict[str, tuple[Path, Path]] = {}
    try:
        for name, table in (("sessions", audit.sessions), ("plans", audit.plans)):
            for kind in formats:
                final = out_dir / f"{name}.{kind}"
                temp = out_dir / f".{name}.{kind}.partial"
                if kind == "csv":
                    pacsv.write_csv(table, temp)
                else:
                    _write_jsonl(table, temp)
                pending[f"{name}_{kind}"] = (temp, final)
        temp = out_dir / ".summary.json.partial"
        temp.write_text(json.dumps(asdict(audit.summary), default=str, indent=2) + "\n", encoding="utf-8")
        pending["summary"] = (temp, out_dir / "summary.json")
    except BaseException:
        for temp, _ in pending.values():
            temp.unlink(missing_ok=True)
        raise
    for temp, final in pending.values():
        temp.replace(final)
    return {kind: final for kind, (_, final) in pending.items()}


def read_decisions(path: Path) -> pa.Table:
    """The decisions a claim check wrote (``decisions.jsonl`` / ``.csv`` / ``.parquet``)."""
    import pyarrow.json as pajson
    import pyarrow.parquet as pq

    source = str(path)
    if not path.is_file():
        raise InputError("no such file", source=source)
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pq.read_table(path)
        if suffix == ".csv":
            return pacsv.read_csv(path)
        if suffix in (".jsonl", ".ndjson", ".json"):
            return pajson.read_json(path)
    except pa.ArrowInvalid as exc:
        raise InputError(f"cannot be read: {exc}", source=source) from exc
    raise InputError(f"unknown file type {suffix!r} (use .jsonl, .csv or .parquet)", source=source)
