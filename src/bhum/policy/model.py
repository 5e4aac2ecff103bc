"""The pack model: packs, rules, typed parameters, test cases and outcomes.

Plain frozen dataclasses built once by the loader; evaluation only reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from bhum.domain.errors import InputError
from bhum.domain.values import Code

if TYPE_CHECKING:
    from bhum.policy.conditions import Condition


class PackError(InputError):
    """An invalid pack: names the file (source), the rule id (record) and the YAML path (field)."""


class Status(StrEnum):
    """Three-valued (Kleene) result of a condition, plus ``not_applicable`` at rule level only."""

    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"
    NOT_APPLICABLE = "not_applicable"


class ParameterType(StrEnum):
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    STRING = "string"
    STRING_LIST = "string_list"
    DATE = "date"
    DURATION = "duration"
    CODE = "code"
    CODE_SET = "code_set"
    ENUM = "enum"


class DurationUnit(StrEnum):
    SECONDS = "seconds"
    MINUTES = "minutes"
    HOURS = "hours"
    CALENDAR_DAYS = "calendar_days"
    BUSINESS_DAYS = "business_days"
    WEEKS = "weeks"
    MONTHS = "months"
    YEARS = "years"


# Units a deadline (bhum.domain.clocks.ClockUnit) can run in.
CLOCK_UNITS = frozenset({DurationUnit.CALENDAR_DAYS, DurationUnit.HOURS, DurationUnit.BUSINESS_DAYS})


@dataclass(frozen=True, slots=True)
class Duration:
    amount: int
    unit: DurationUnit

    def __str__(self) -> str:
        return f"{self.amount} {self.unit.value.replace('_', ' ')}"


ParameterValue = int | float | bool | str | date | Duration | Code | frozenset[Code] | tuple[str, ...]

# Abbreviations a fact or parameter name spells in lower case that a reader expects in capitals.
_CAPITALS = {
    "asam": "ASAM",
    "avg": "average",
    "ba": "BA",
    "bh": "BH",
    "cadc": "CADC",
    "cm": "CM",
    "cm1": "CM I",
    "cm2": "CM II",
    "crd": "CRD",
    "dsm5": "DSM-5",
    "ect": "ECT",
    "ed": "ED",
    "hipaa": "HIPAA",
    "imd": "IMD",
    "iop": "IOP",
    "locus": "LOCUS",
    "ma": "MA",
    "mh": "mental-health",
    "npi": "NPI",
    "pa": "prior authorization",
    "pas": "PAS",
    "pcp": "PCP",
    "pct": "percent",
    "pdc": "PDC",
    "qmhp": "QMHP",
    "rn": "RN",
    "soc": "SOC",
    "sud": "SUD",
    "tcm": "TCM",
}


def words(name: str) -> str:
    """A fact or parameter name as a reader says it: ``dsm5_cross_cutting_supports`` -> ``DSM-5 cross
    cutting supports``. Sentences and letters never show the internal snake_case names."""
    name = name.replace("24_7", "24/7")
    return " ".join(_CAPITALS.get(part, part) for part in name.split("_") if part)


def singular(unit: str) -> str:
    """ "1 hour a week", "1 contact": the first plural word of a unit, made singular."""
    parts = unit.split(" ")
    for i, part in enumerate(parts):
        if part in _SINGULAR:
            parts[i] = _SINGULAR[part]
            break
    return " ".join(parts)


_SINGULAR = {
    "contacts": "contact",
    "days": "day",
    "elements": "element",
    "families": "family",
    "flags": "flag",
    "hours": "hour",
    "members": "member",
    "minutes": "minute",
    "months": "month",
    "seconds": "second",
    "sessions": "session",
    "signatures": "signature",
    "units": "unit",
    "weeks": "week",
    "years": "year",
}


def number_text(value: float) -> str:
    """3.0 -> "3", 2.75 -> "2.75", 0.8 -> "0.8": no float noise in a sentence."""
    if value == int(value):
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    type: ParameterType
    value: ParameterValue
    description: str
    unit: str | None = None
    choices: tuple[str, ...] = ()

    def text(self) -> str:
        """The value as a person reads it, without its unit (fact-name lists and enum choices in words)."""
        value = self.value
        if isinstance(value, frozenset):
            return ", ".join(sorted(c.code for c in value))
        if isinstance(value, tuple):
            return ", ".join(words(v) for v in value)
        if isinstance(value, Code):
            return value.code
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, float):
            return number_text(value)
        if isinstance(value, date):
            return value.isoformat()
        if self.type is ParameterType.ENUM:
            return words(str(value))
        return str(value)

    @property
    def shown_unit(self) -> str | None:
        """The unit a sentence shows after the value (a duration carries its own)."""
        return None if isinstance(self.value, Duration) else self.unit

    def display(self) -> str:
        """The value as a person reads it, with its unit: the one place a parameter's unit is written,
        so explanations never repeat it (``{exam_window_days} of admission`` -> "30 days of admission")."""
        text = self.text()
        unit = self.shown_unit
        if not unit:
            return text
        return f"{text} {singular(unit) if self.value == 1 else unit}"


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    given: Mapping[str, Any]
    expect: Status
    expect_values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    implements: tuple[str, ...]
    title: str
    explanation: str
    parameters: Mapping[str, Parameter]
    condition: Condition
    cases: tuple[Case, ...]
    applies_when: Condition | None = None
    codes_when_not_met: tuple[Code, ...] = ()
    pack_id: str = ""
    pack_version: str = ""
    source_file: str = ""
    # Where the rule comes from: its own ``source`` line when narrower than the pack's, else the pack's.
    source: str = ""


@dataclass(frozen=True, slots=True)
class Pack:
    id: str
    program: str
    version: str
    title: str
    effective_from: date
    source: str
    description: str
    rules: tuple[Rule, ...]
    path: str = ""

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(f"pack {self.id}@{self.version} has no rule {rule_id!r}")

    @property
    def case_count(self) -> int:
        return sum(len(r.cases) for r in self.rules)


@dataclass(frozen=True, slots=True)
class Evidence:
    """One value used in a decision: a fact, a parameter, or a value derived from them."""

    name: str
    value: Any
    kind: str  # "fact" | "parameter" | "derived"


@dataclass(frozen=True, slots=True)
class Outcome:
    rule_id: str
    implements: tuple[str, ...]
    status: Status
    evidence: tuple[Evidence, ...]
    reason: str  # generated: which value tripped (or satisfied) the condition
    sentence: str  # the rule's explanation rendered with the values, then the reason
    pack_id: str
    pack_version: str
    codes: tuple[Code, ...] = ()  # adjustment codes (CARC/RARC) when not met

    def value(self, name: str) -> Any:
        for item in self.evidence:
            if item.name == name:
                return item.value
        raise KeyError(name)

    @property
    def values(self) -> dict[str, Any]:
        return {e.name: e.value for e in self.evidence}


@dataclass(frozen=True, slots=True)
class CaseResult:
    pack_id: str
    pack_version: str
    rule_id: str
    case: str
    passed: bool
    expected: Status
    actual: Status
    message: str
    outcome: Outcome | None = None
