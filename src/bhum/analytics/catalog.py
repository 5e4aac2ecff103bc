"""The clinical-intelligence catalog's parameters, read from the opm-analytics policy pack.

Every window, threshold and code group a rule uses lives in packs/opm-analytics/<version>/pack.yaml;
the rule code only names them. The pack is loaded and validated by the policy engine
(``bhum.policy.load_pack``); this module only gives the analytics engine a typed view of each rule's
parameters (``p.int("followup_days")``, ``p.codes("sud_dx")`` ...).
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bhum.domain.errors import InputError
from bhum.policy import Pack, PackError, Rule, load_pack
from bhum.policy.conditions import Compare

PACKS_DIR = Path(__file__).resolve().parents[3] / "packs" / "opm-analytics"
DEFAULT_VERSION = "2026.1"
DAY_UNITS = ("calendar days", "calendar_days", "days")


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
    units: Mapping[str, str] = field(default_factory=dict)  # parameter name -> unit, when it has one

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
        """The codes of a code_set parameter (their system was checked by the pack loader)."""
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

    @property
    def horizon_days(self) -> builtins.int:
        """How far before the as-of date the rule can look at all: the sum of its day-valued
        parameters (lookback + windows + negative history) bounds every window it opens."""
        return sum(
            v
            for name, v in self.values.items()
            if self.units.get(name) in DAY_UNITS and isinstance(v, builtins.int) and not isinstance(v, bool)
        )


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
            rule.units,
        )
        return Catalog(self.id, self.version, self.title, {**self.rules, rule_id: changed}, self.path)


def load_catalog(path: str | os.PathLike[str] | None = None) -> Catalog:
    """Load the opm-analytics pack (its version folder or pack.yaml) with the policy pack loader;
    default: the current version. An invalid pack raises PackError (an InputError)."""
    folder = Path(path) if path is not None else PACKS_DIR / DEFAULT_VERSION
    if folder.name == "pack.yaml":
        folder = folder.parent
    return catalog_of(load_pack(folder))


def catalog_of(pack: Pack) -> Catalog:
    """The engine's view of an already loaded pack (e.g. one from a PackRegistry)."""
    sources = _rule_sources(Path(pack.path) / "pack.yaml")
    rules = {rule.id: _params(rule, sources.get(rule.id) or pack.source) for rule in pack.rules}
    return Catalog(pack.id, pack.version, pack.title, rules, str(Path(pack.path) / "pack.yaml"))


def _params(rule: Rule, source: str) -> RuleParams:
    condition = rule.condition
    return RuleParams(
        rule.id,
        rule.implements,
        rule.title,
        " ".join(rule.explanation.split()),
        source,
        {name: p.value for name, p in rule.parameters.items()},
        rule.source_file,
        condition.fact if isinstance(condition, Compare) else "value",
        {name: p.unit for name, p in rule.parameters.items() if p.unit is not None},
    )


def _rule_sources(file: Path) -> dict[str, str]:
    """Each rule's own ``source`` line (the public measure it follows). The policy model keeps the
    pack-level source only, so the per-rule one is read from the same, already validated, file."""
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PackError(f"cannot read the pack: {exc}", source=str(file)) from exc
    sources: dict[str, str] = {}
    for spec in document.get("rules", []) if isinstance(document, Mapping) else []:
        if isinstance(spec, Mapping) and isinstance(spec.get("source"), str):
            sources[str(spec["id"])] = str(spec["source"])
    return sources
