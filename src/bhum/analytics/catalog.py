"""The clinical-intelligence catalog's parameters, read from the opm-analytics policy pack.

Every window, threshold and code group a rule uses lives in packs/opm-analytics/<version>/pack.yaml;
the rule code only names them. This small loader reads the pack's parameters, rationale and source
for the analytics engine (bhum.analytics may not import bhum.policy); the pack follows the policy
pack layout (id, version, rules with implements, parameters, condition, cases) so the policy loader
validates the same file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bhum.domain.errors import InputError
from bhum.domain.values import CPT, HCPCS, ICD10CM, MODIFIER, NDC, POS, REVENUE, Code

# Short system names a pack may use for a code_set, mapped to the canonical URIs.
SYSTEMS = {
    "icd-10-cm": ICD10CM,
    "hcpcs": HCPCS,
    "cpt": CPT,
    "revenue": REVENUE,
    "pos": POS,
    "modifier": MODIFIER,
    "ndc": NDC,
}
PACKS_DIR = Path(__file__).resolve().parents[3] / "packs" / "opm-analytics"
DEFAULT_VERSION = "2026.1"


@dataclass(frozen=True, slots=True)
class RuleParams:
    """One catalog rule as the engine sees it: identity, rationale, source and typed parameters."""

    id: str
    implements: tuple[str, ...]
    title: str
    explanation: str
    source: str
    values: Mapping[str, Any]
    source_file: str = ""
    fact: str = "value"  # the measured value's name in the pack condition (pdc, followup_visits ...)

    def _get(self, name: str) -> Any:
        if name not in self.values:
            raise InputError(
                f"rule {self.id} needs parameter {name!r}",
                source=self.source_file,
                record=self.id,
                field=name,
            )
        return self.values[name]

    def int(self, name: str) -> int:
        value = self._get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(
                f"{name} must be an integer", source=self.source_file, record=self.id, field=name
            )
        return value

    def number(self, name: str) -> float:
        value = self._get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(f"{name} must be a number", source=self.source_file, record=self.id, field=name)
        return float(value)

    def codes(self, name: str) -> list[str]:
        """The codes of a code_set parameter (their system is checked by the loader)."""
        value = self._get(name)
        if not isinstance(value, frozenset):
            raise InputError(
                f"{name} must be a code_set", source=self.source_file, record=self.id, field=name
            )
        return sorted(c.code for c in value)

    def strings(self, name: str) -> list[str]:
        value = self._get(name)
        if not isinstance(value, tuple):
            raise InputError(
                f"{name} must be a string_list", source=self.source_file, record=self.id, field=name
            )
        return list(value)


@dataclass(frozen=True, slots=True)
class Catalog:
    id: str
    version: str
    title: str
    rules: Mapping[str, RuleParams] = field(default_factory=dict)
    path: str = ""

    def __getitem__(self, rule_id: str) -> RuleParams:
        return self.rules[rule_id]

    def __iter__(self) -> Iterator[RuleParams]:
        return iter(self.rules.values())

    def with_values(self, rule_id: str, **values: Any) -> Catalog:
        """A copy with some parameters of one rule replaced (what-if runs and tests)."""
        rule = self.rules[rule_id]
        changed = RuleParams(
            rule.id,
            rule.implements,
            rule.title,
            rule.explanation,
            rule.source,
            {**rule.values, **values},
            rule.source_file,
            rule.fact,
        )
        return Catalog(self.id, self.version, self.title, {**self.rules, rule_id: changed}, self.path)


def load_catalog(path: str | os.PathLike[str] | None = None) -> Catalog:
    """Load pack.yaml (a file, or a version directory); default: the current opm-analytics version."""
    file = Path(path) if path is not None else PACKS_DIR / DEFAULT_VERSION
    if file.is_dir():
        file = file / "pack.yaml"
    source = str(file)
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read the pack: {exc}", source=source) from exc
    if not isinstance(document, Mapping):
        raise InputError("a pack must be a mapping", source=source)
    for key in ("id", "version", "title", "rules"):
        if key not in document:
            raise InputError(f"the pack needs {key!r}", source=source, field=key)
    rules: dict[str, RuleParams] = {}
    for i, spec in enumerate(document["rules"]):
        rule_id = spec.get("id") if isinstance(spec, Mapping) else None
        if not isinstance(rule_id, str):
            raise InputError("a rule needs an id", source=source, field=f"rules[{i}].id")
        if rule_id in rules:
            raise InputError("duplicate rule id", source=source, record=rule_id, field=f"rules[{i}].id")
        for key in ("implements", "title", "explanation", "source", "parameters"):
            if key not in spec:
                raise InputError(f"the rule needs {key!r}", source=source, record=rule_id, field=key)
        values = {
            name: _parameter(name, p, source=source, rule_id=rule_id)
            for name, p in spec["parameters"].items()
        }
        rules[rule_id] = RuleParams(
            rule_id,
            tuple(str(x) for x in spec["implements"]),
            str(spec["title"]),
            " ".join(str(spec["explanation"]).split()),
            str(spec["source"]),
            values,
            source,
            _fact(spec),
        )
    return Catalog(str(document["id"]), str(document["version"]), str(document["title"]), rules, source)


def _fact(spec: Mapping[str, Any]) -> str:
    condition = spec.get("condition")
    if isinstance(condition, Mapping) and isinstance(condition.get("fact"), str):
        return str(condition["fact"])
    return "value"


def _parameter(name: str, spec: Any, *, source: str, rule_id: str) -> Any:
    where = f"parameters.{name}"
    if not isinstance(spec, Mapping) or "type" not in spec or "value" not in spec:
        raise InputError("a parameter needs a type and a value", source=source, record=rule_id, field=where)
    kind, value = spec["type"], spec["value"]
    ok: bool
    if kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif kind == "boolean":
        ok = isinstance(value, bool)
    elif kind == "date":
        ok = isinstance(value, date)
    elif kind == "string_list":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        value = tuple(value) if ok else value
    elif kind == "code_set":
        system = SYSTEMS.get(str(spec.get("system")))
        if system is None:
            raise InputError(
                f"unknown code system {spec.get('system')!r} (known: {', '.join(SYSTEMS)})",
                source=source,
                record=rule_id,
                field=f"{where}.system",
            )
        ok = isinstance(value, list) and all(isinstance(v, str | int) for v in value) and bool(value)
        value = frozenset(Code(system, str(v)) for v in value) if ok else value
    else:
        raise InputError(
            f"unknown parameter type {kind!r}", source=source, record=rule_id, field=f"{where}.type"
        )
    if not ok:
        raise InputError(f"value {value!r} is not a valid {kind}", source=source, record=rule_id, field=where)
    return value
