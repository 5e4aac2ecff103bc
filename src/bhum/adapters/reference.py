"""Load versioned reference code lists from ``reference/<name>/<version>.yaml|csv``.

YAML: ``name``, ``version``, ``description`` and ``groups: {group: {system: URI, codes: {code: display}}}``.
CSV: columns ``group,system,code,display`` plus any extra columns, kept as attributes of each code.
The format is documented in docs/reference-codes.md.
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bhum.config import Settings
from bhum.domain.errors import InputError
from bhum.domain.reference import CodeList, CodeListEntry
from bhum.domain.values import Code

_VERSION = re.compile(r"^(\d+)\.(\d+)$")
_CSV_REQUIRED = ("group", "system", "code", "display")


def default_reference_dir() -> Path:
    return Settings.from_env().reference_dir


def available_versions(name: str, root: Path | None = None) -> list[str]:
    """Versions of a list, oldest first (versions are YEAR.RELEASE, compared numerically)."""
    folder = (root or default_reference_dir()) / name
    versions = []
    for path in folder.glob("*.*"):
        if path.suffix in {".yaml", ".yml", ".csv"} and _VERSION.match(path.stem):
            versions.append(path.stem)
    return sorted(versions, key=lambda v: tuple(int(p) for p in v.split(".")))


def load_code_list(name: str, version: str | None = None, *, root: Path | None = None) -> CodeList:
    """Load one list; ``version`` None takes the newest. A missing list or version is an InputError."""
    base = (root or default_reference_dir()).resolve()
    return _load_cached(name, version, base)


@lru_cache(maxsize=64)
def _load_cached(name: str, version: str | None, base: Path) -> CodeList:
    versions = available_versions(name, base)
    if not versions:
        raise InputError(f"no reference list {name!r} under {base}", field="name", source=str(base))
    chosen = version or versions[-1]
    if chosen not in versions:
        raise InputError(
            f"reference list {name!r} has no version {chosen!r} (have {', '.join(versions)})",
            field="version",
            source=str(base / name),
        )
    for suffix in (".yaml", ".yml", ".csv"):
        path = base / name / f"{chosen}{suffix}"
        if path.is_file():
            return _read_csv(path, name, chosen) if suffix == ".csv" else _read_yaml(path, name, chosen)
    raise InputError(f"reference list {name!r} {chosen} vanished", field="version", source=str(base / name))


def _read_yaml(path: Path, name: str, version: str) -> CodeList:
    try:
        doc: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", source=str(path)) from exc
    if not isinstance(doc, dict):
        raise InputError("expected a mapping at the top", source=str(path))
    if str(doc.get("name")) != name or str(doc.get("version")) != version:
        raise InputError(
            f"file says {doc.get('name')} {doc.get('version')}, its path says {name} {version}",
            field="version",
            source=str(path),
        )
    groups = doc.get("groups")
    if not isinstance(groups, dict) or not groups:
        raise InputError("needs a non-empty 'groups' mapping", field="groups", source=str(path))
    entries: list[CodeListEntry] = []
    for group, body in groups.items():
        if not isinstance(body, dict) or not isinstance(body.get("codes"), dict):
            raise InputError(
                "a group needs 'system' and a 'codes' mapping", field="codes", record=group, source=str(path)
            )
        system = body.get("system")
        if not isinstance(system, str) or not system:
            raise InputError("a group needs a system URI", field="system", record=group, source=str(path))
        for code, display in body["codes"].items():
            entries.append(CodeListEntry(code=_code(system, code, display, path, group), group=str(group)))
    return CodeList(
        name=name, version=version, entries=tuple(entries), description=str(doc.get("description", ""))
    )


def _read_csv(path: Path, name: str, version: str) -> CodeList:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        for column in _CSV_REQUIRED:
            if column not in header:
                raise InputError(f"missing column {column!r}", field=column, source=str(path))
        extra = [c for c in header if c not in _CSV_REQUIRED]
        entries: list[CodeListEntry] = []
        for line, row in enumerate(reader, start=2):
            if not row["group"]:
                raise InputError("blank group", field="group", record=line, source=str(path))
            entries.append(
                CodeListEntry(
                    code=_code(row["system"], row["code"], row["display"], path, line),
                    group=row["group"],
                    attributes={c: row[c] or "" for c in extra},
                )
            )
    return CodeList(name=name, version=version, entries=tuple(entries))


def _code(system: Any, code: Any, display: Any, path: Path, record: str | int) -> Code:
    if not isinstance(code, str | int) or isinstance(code, bool):
        raise InputError(f"code {code!r} must be text", field="code", record=record, source=str(path))
    if not isinstance(display, str) or not display.strip():
        raise InputError(f"code {code!r} needs a display", field="display", record=record, source=str(path))
    try:
        return Code(system=str(system), code=str(code), display=display.strip())
    except InputError as exc:
        raise InputError(exc.message, field=exc.field, record=record, source=str(path)) from exc
