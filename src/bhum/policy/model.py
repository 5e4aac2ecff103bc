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


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    type: ParameterType
    value: ParameterValue
    description: str
    unit: str | None = None
    choices: tuple[str, ...] = ()

    def display(self) -> str:
        """The value as a person reads it, with its unit."""
        value = self.value
        if isinstance(value, frozenset):
            text = ", ".join(sorted(c.code for c in value))
        elif isinstance(value, tuple):
            text = ", ".join(value)
        elif isinstance(value, Code):
            text = value.code
        elif isinstance(value, date):
            text = value.isoformat()
        else:
            text = str(value)
        return f"{text} {self.unit}" if self.unit and not isinstance(value, Duration) else text


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
