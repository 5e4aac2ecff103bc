"""The closed set of condition types a pack may use.

A pack names a condition ``type`` and its arguments; this module is the only place that knows what
each type means. Nothing in a pack is ever evaluated as code. Conditions are compiled once at load
time (parameter values resolved and type-checked) so evaluation is a few attribute reads.

Evaluation is three-valued (Kleene): a needed fact that is absent gives ``unknown``, and unknown
propagates through ``all`` / ``any`` / ``not`` so the authorization engine never auto-approves on
missing information.
"""

from __future__ import annotations

import math
import operator
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from bhum.domain.values import Code, age_on
from bhum.policy.model import (
    CLOCK_UNITS,
    Duration,
    DurationUnit,
    Evidence,
    PackError,
    Parameter,
    ParameterType,
    ParameterValue,
    Status,
    number_text,
    words,
)

MET, NOT_MET, UNKNOWN = Status.MET, Status.NOT_MET, Status.UNKNOWN

Facts = Mapping[str, Any]
Result = tuple[Status, str]


class BuildContext:
    """What a condition needs while it is compiled: the rule's parameters and where errors point."""

    def __init__(self, *, source: str, rule_id: str, parameters: Mapping[str, Parameter]) -> None:
        self.source = source
        self.rule_id = rule_id
        self.parameters = parameters

    def error(self, path: str, message: str) -> PackError:
        return PackError(message, source=self.source, record=self.rule_id, field=path)

    def parameter(self, path: str, name: Any, allowed: Iterable[ParameterType]) -> Parameter:
        allowed = tuple(allowed)
        if not isinstance(name, str) or name not in self.parameters:
            raise self.error(path, f"parameter {name!r} is not declared in this rule's parameters")
        param = self.parameters[name]
        if param.type not in allowed:
            kinds = " or ".join(a.value for a in allowed)
            raise self.error(path, f"parameter {name!r} is {param.type.value}; this needs {kinds}")
        return param


@dataclass(frozen=True, slots=True)
class Operand:
    """A value a condition compares against: a parameter (named, so evidence can say which) or a constant."""

    value: Any
    name: str  # parameter name, or the literal's text
    from_parameter: bool
    display: str  # value with its unit, as a sentence shows it ("3 hours")
    unit: str | None = None
    text: str = ""  # value without its unit ("3"), for ranges that show the unit once

    def add_to(self, evidence: list[Evidence]) -> None:
        # A constant written in the rule is not a value of the decision: only parameters are evidence
        # (a constant under its own text as a key read as "'True': True" in the evidence).
        if self.from_parameter:
            evidence.append(Evidence(self.name, self.value, "parameter"))

    @property
    def label(self) -> str:
        """What a reason shows: the value with its unit, never the parameter's internal name."""
        return self.display


def span(low: Operand, high: Operand) -> str:
    """``9–19 hours``: a range shows a shared unit once."""
    if low.unit and low.unit == high.unit:
        return f"{low.text}–{high.text} {low.unit}"
    return f"{low.display}–{high.display}"


SCALAR_TYPES = (
    ParameterType.INTEGER,
    ParameterType.NUMBER,
    ParameterType.DATE,
    ParameterType.BOOLEAN,
    ParameterType.STRING,
    ParameterType.ENUM,
)
NUMERIC_TYPES = (ParameterType.INTEGER, ParameterType.NUMBER)


def _operand(spec: Any, path: str, ctx: BuildContext, allowed: Sequence[ParameterType]) -> Operand:
    if isinstance(spec, Mapping) and set(spec) == {"param"}:
        param = ctx.parameter(f"{path}.param", spec["param"], allowed)
        return Operand(param.value, param.name, True, param.display(), param.shown_unit, param.text())
    if isinstance(spec, Mapping) and set(spec) == {"value"}:
        value = spec["value"]
        ok = {
            ParameterType.INTEGER: isinstance(value, int) and not isinstance(value, bool),
            ParameterType.NUMBER: isinstance(value, int | float) and not isinstance(value, bool),
            ParameterType.BOOLEAN: isinstance(value, bool),
            ParameterType.DATE: isinstance(value, date),
            ParameterType.STRING: isinstance(value, str),
            ParameterType.ENUM: isinstance(value, str),
        }
        if not any(ok.get(kind, False) for kind in allowed):
            kinds = " or ".join(a.value for a in allowed)
            raise ctx.error(f"{path}.value", f"constant {value!r} is not {kinds}")
        return Operand(value, repr(value), False, _show(value), None, _show(value))
    raise ctx.error(path, "expected {param: NAME} or {value: CONSTANT}")


def _fact_name(spec: Mapping[str, Any], key: str, path: str, ctx: BuildContext) -> str:
    name = spec.get(key)
    if not isinstance(name, str) or not name:
        raise ctx.error(f"{path}.{key}", f"{key!r} must name a fact")
    return name


def _show(value: Any) -> str:
    """A value as a sentence shows it: yes/no, 3 not 3.0, codes by code, times to the minute."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Code):
        return value.code
    if isinstance(value, datetime):
        return _moment(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, set | frozenset):
        return ", ".join(sorted(_show(v) for v in value)) or "none"
    if isinstance(value, list | tuple):
        return ", ".join(_show(v) for v in value) or "none"
    return str(value)


def _moment(value: datetime) -> str:
    """``2026-03-16 10:00 UTC``: a timestamp as a letter prints it (seconds only when there are some)."""
    text = value.strftime("%Y-%m-%d %H:%M:%S" if value.second else "%Y-%m-%d %H:%M")
    offset = value.utcoffset()
    if offset is None:
        return text
    if not offset:
        return f"{text} UTC"
    zone = value.strftime("%z")
    return f"{text} UTC{zone[:3]}:{zone[3:]}"


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _units(n: Any) -> str:
    return f"{_show(n)} unit" if n == 1 else f"{_show(n)} units"


class Condition(ABC):
    """A compiled condition. ``evaluate`` appends what it used to ``evidence``."""

    type_name: ClassVar[str]
    __slots__ = ()

    @abstractmethod
    def evaluate(self, facts: Facts, evidence: list[Evidence]) -> Result: ...

    @abstractmethod
    def facts(self) -> set[str]:
        """Names of the facts this condition reads (for placeholder checks and documentation)."""

    def derived(self) -> set[str]:
        """Names of values this condition computes and puts in the evidence."""
        return set()

    def children(self) -> tuple[Condition, ...]:
        return ()


def _walk(condition: Condition) -> Iterable[Condition]:
    yield condition
    for child in condition.children():
        yield from _walk(child)


def facts_of(condition: Condition) -> set[str]:
    return set().union(*(c.facts() for c in _walk(condition)))


def derived_of(condition: Condition) -> set[str]:
    return set().union(*(c.derived() for c in _walk(condition)))


# ---------------------------------------------------------------------------- comparisons

_OPS: dict[str, tuple[Callable[[Any, Any], bool], str]] = {
    "lt": (operator.lt, "less than"),
    "le": (operator.le, "at most"),
    "eq": (operator.eq, "equal to"),
    "ne": (operator.ne, "different from"),
    "ge": (operator.ge, "at least"),
    "gt": (operator.gt, "more than"),
}


class Compare(Condition):
    """``fact op operand``: lt, le, eq, ne, ge, gt."""

    type_name = "compare"
    __slots__ = ("fact", "op", "op_name", "to", "to_fact")

    def __init__(self, spec: Mapping[str, Any], path: str, ctx: BuildContext) -> None:
        self.fact = _fact_name(spec, "fact", path, ctx)
        op = spec.get("op")
        if op not in _OPS:
            raise ctx.error(f"{path}.op", f"op must be one of {', '.join(_OPS)}, not {op!r}")
        self.op_name = str(op)
        self.op = _OPS[self.op_name][0]
        raw = spec.get("to")
        # Another fact (units used vs units authorized) or a parameter / constant.
        self.to_fact: str | None = None
        self.to: Operand | None = None
        if isinstance(raw, Mapping) and set(raw) == {"fact"}:
            self.to_fact = _fact_name(raw, "fact", f"{path}.to", ctx)
        else:
            self.to = _operand(raw, f"{path}.to", ctx, SCALAR_TYPES)

    def facts(self) -> set[str]:
        return {self.fact} | ({self.to_fact} if self.to_fact else set())

    def evaluate(self, facts: Facts, evidence: list[Evidence]) -> Result:
        value = facts.get(self.fact)
        label = words(self.fact)
        if self.to is not None:
            self.to.add_to(evidence)
            other, other_name = self.to.value, self.to.label
        else:
            assert self.to_fact is not None
            other = facts.get(self.to_fact)
            if other is None:
                return UNKNOWN, f"{words(self.to_fact)} is not documented"
            evidence.append(Evidence(self.to_fact, other, "fact"))
            other_name = f"{words(self.to_fact)} ({_show(other)})"
        if value is None:
            return UNKNOWN, f"{label} is not documented"
        evidence.append(Evidence(self.fact, value, "fact"))
        try:
            ok = self.op(value, other)
        except TypeError:
            return UNKNOWN, f"{label} {_show(value)} cannot be compared with {other_name}"
        if isinstance(value, bool) and self.to is not None and self.op_name in ("eq", "ne"):
            # A yes/no fact against a constant: "substance use assessed: yes", not "True is equal to True".
            wanted = _show(other if self.op_name == "eq" else not other)
            return (
                (MET, f"{label}: {_show(value)}")
                if ok
                else (NOT_MET, f"{label}: {_show(value)}, not {wanted}")
            )
        relation = _OPS[self.op_name][1]
        if ok:
            return MET, f"{label} {_show(value)} is {relation} {other_name}"
        return NOT_MET, f"{label} {_show(value)} is not {relation} {other_name}"


class Between(Condition):
    """``min <= fact <= max`` (both ends included)."""

    type_name = "between"
    __slots__ = ("fact", "high", "low")

    def __init__(self, spec: Mapping[str, Any], path: str, ctx: BuildContext) -> None:
        self.fact = _fact_name(spec, "fact", path, ctx)
        kinds = (*NUMERIC_TYPES, ParameterType.DATE)
        self.low = _operand(spec.get("min"), f"{path}.min", ctx, kinds)
        self.high = _operand(spec.get("max"), f"{path}.max", ctx, kinds)

    def facts(self) -> set[str]:
        return {self.fact}

    def evaluate(self, facts: Facts, evidence: list[Evidence]) -> Result:
        value = facts.get(self.fact)
        self.low.add_to(evidence)
        self.high.add_to(evidence)
        label = words(self.fact)
        if value is None:
            return UNKNOWN, f"{label} is not documented"
        evidence.append(Evidence(self.fact, value, "fact"))
        if value < self.low.value:
            return NOT_MET, f"{label} {_show(value)} is below {self.low.label}"
        if value > self.high.value:
            return NOT_MET, f"{label} {_show(value)} is above {self.high.label}"
        return MET, f"{label} {_show(value)} is within {span(self.low, self.high)}"


class InCodeSet(Condition):
    """The fact (a Code, or several) is in a code set, matched by system + code."""

    type_name = "in_code_set"
    negate = False
    __slots__ = ("codes", "fact", "keys", "set_name")

    def __init__(self, spec: Mapping[str, Any], path: str, ctx: BuildContext) -> None:
        self.fact = _fact_name(spec, "fact", path, ctx)
        raw = spec.get("set")
        if not (isinstance(raw, Mapping) and set(raw) == {"param"}):
            raise ctx.error(f"{path}.set", "expected {param: NAME} naming a code_set parameter")
        param = ctx.parameter(f"{path}.set.param", raw["param"], (ParameterType.CODE_SET, ParameterType.CODE))
        codes = param.value if isinstance(param.value, frozenset) else frozenset({param.value})
        self.set_name = param.name
        self.codes: frozenset[Code] = codes  # type: ignore[assignment]
        self.keys = frozenset((c.system, c.code) for c in self.codes)

    def facts(self) -> set[str]:
        return {self.fact}

    def _members(self) -> str:
        """The set as a reason names it: its codes when they are few, else the list's name in words."""
        if len(self.codes) <= 5:
            return "one of " + _show(self.codes)
        return f"on the {words(self.set_name)} list"

    def evaluate(self, facts: Facts, evidence: list[Evidence]) -> Result:
        value = facts.get(self.fact)
        evidence.append(Evidence(self.set_name, self.codes, "parameter"))
        label = words(self.fact)
        if value is None:
            return UNKNOWN, f"{label} is not documented"
        evidence.append(Evidence(self.fact, value, "fact"))
        given = [value] if isinstance(value, Code) else list(value)
        hits = [c for c in given if isinstance(c, Code) and (c.system, c.code) in self.keys]
        inside = bool(hits)
        if len(self.codes) == 1:
            # One code: "program population is adult" / "is adolescent, not adult".
            only = next(iter(self.codes)).code
            if inside:
                return (NOT_MET if self.negate else MET), f"{label} is {only}"
            return (MET if self.negate else NOT_MET), f"{label} is {_show(given)}, not {only}"
        members = self._members()
        if inside != self.negate:
            if self.negate:
                return MET, f"{label} {_show(given)} is not {members}"
            return MET, f"{label} {_show(hits)} is {members}"
        if self.negate:
            return NOT_MET, f"{label} {_show(hits)} is {members}"
        return NOT_MET, f"{label} {_show(given)} is not {members}"


class NotInCodeSet(InCodeSet):
    type_name = "not_in_code_set"
    negate = True
    __slots__ = ()


class AgeBand(Condition):
    """Age in whole years on the service date (birth date + date) within [min_age, max_age]."""

    type_name = "age_band"
    __slots__ = ("birth_date", "max_age", "min_age", "on")

    def __init__(self, spec: Mapping[str, Any], path: str, ctx: BuildContext) -> None:
        self.birth_date = _fact_name(
            {"birth_date": spec.get("birth_date", "birth_date")}, "birth_date", path, ctx
        )
        self.on = _fact_name({"on": spec.get("on", "service_date")}, "on", path, ctx)
        self.min_age = (
            _operand(spec["min_age"], f"{path}.min_age", ctx, NUMERIC_TYPES) if "min_age" in spec else None
        )
        self.max_age = (
            _operand(spec["max_age"], f"{path}.max_age", ctx, NUMERIC_TYPES) if "max_age" in spec else None
        )
        if self.min_age is None and self.max_age is None:
            raise ctx.error(path, "age_band needs min_age, max_age or both")

    def facts(self) -> set[str]:
        return {self.birth_date, self.on}

    def derived(self) -> set[str]:
        return {"age"}

    def evaluate(self, facts: Facts, evidence: list[Evidence]) -> Result:
        for bound in (self.min_age, self.max_age):
            if bound is not None:
                bound.add_to(evidence)
        born, on = facts.get(self.birth_date), facts.get(self.on)
        if born is None or on is None:
            missing = self.birth_date if born is None else self.on
            return UNKNOWN, f"{words(missing)} is not documented"
        if isinstance(on, datetime):
            on = on.date()
        age = age_on(born, on)
        # The birth date itself stays out of the evidence: member data does not travel further than needed.
        evidence.append(Evidence("age", age, "derived"))
        if self.min_age is not None and age < self.min_age.value:
            return NOT_MET, f"age {age} is below {self.min_age.label}"
        if self.max_age is not None and age > self.max_age.value:
            return NOT_MET, f"age {age} is above {self.max_age.label}"
        return MET, f"age {age} is within the age band"


def _documented(value: Any) -> bool:
    return value is not None and value is not False and value != "" and value != [] and value != ()


class Present(Condition):
    """A fact is documented (present, not empty, not false); or every fact named by a string_list parameter.

    Absence is the very thing tested here, so it yields ``not_met``, never ``unknown``.
    """

    type_name = "present"
    __slots__ = ("list_name", "names")

    def __init__(self, spec: Mapping[str, Any], path: str, ctx: BuildContext) -> None:
        if ("fact" in spec) == ("facts" in spec):
            raise ctx.error(path, "present needs exactly one of fact or facts")
        if "fact" in spec:
            self.names: tuple[str, ...] = (_fact_name(spec, "fact", path, ctx),)
            self.list_name: str | None = None
        else:
            raw = spec["facts"]
            if not (isinstance(raw, Mapping) and set(raw) == {"param"}):
                raise ctx.error(f"{path}.facts", "expected {param: NAME} naming a string_list parameter")
            param = ctx.parameter(f"{path}.facts.param", raw["param"], (ParameterType.STRING_LIST,))
            self.names = param.value  # type: ignore[assignment]
            self.list_name = param.name

    def facts(self) -> set[str]:
        return set(self.names)

    def derived(self) -> set[str]:
        return {"missing"}

    def evaluate(self, facts: Facts, evidence: list[Evidence]) -> Result:
        missing = [n for n in self.names if not _documented(facts.get(n))]
        if self.list_name is not None:
            evidence.append(Evidence(self.list_name, self.names, "parameter"))
        evidence.append(Evidence("missing", tuple(missing), "derived"))
        if missing:
            return NOT_MET, f"not documented: {_listed(missing)}"
        return MET, f"documented: {_listed(self.names)}"


class AllTrue(Condition):
    """Every fact named by a string_list parameter is true (Kleene: false -> not_met, absent -> unknown).

    For criteria a reviewer attests to: a criterion not yet documented pends, it does not deny.
    """

    type_name = "all_true"
    any_mode = False
    __slots__ = ("list_name", "names")

    def __init__(self, spec: Mapping[str, Any], path: str, ctx: BuildContext) -> None:
        raw = spec.get("facts")
        if not (isinstance(raw, Mapping) and set(raw) == {"param"}):
            raise ctx.error(f"{path}.facts", "expected {param: NAME} naming a string_list parameter")
        param = ctx.parameter(f"{path}.facts.param", raw["param"], (ParameterType.STRING_LIST,))
        self.names: tuple[str, ...] = param.value  # type: ignore[assignment]
        self.list_name = param.name

    def facts(self) -> set[str]:
        return set(self.names)

    def derived(self) -> set[str]:
        return {"failed", "undocumented"}

    def evaluate(self, facts: Facts, evidence: list[Evidence]) -> Result:
        true = [n for n in self.names if facts.get(n) is True]
        false = tuple(n for n in self.names if facts.get(n) is False)
        undocumented = tuple(n for n in self.names if not isinstance(facts.get(n), bool))
        evidence.append(Evidence(self.list_name, self.names, "parameter"))
        evidence.append(Evidence("failed", false, "derived"))
        evidence.append(Evidence("undocumented", undocumented, "derived"))
        if self.any_mode:
            if true:
                return MET, f"documented as yes: {_listed(true)}"
            if undocumented:
                return UNKNOWN, f"none documented as yes; not documented: {_listed(undocumented)}"
            return NOT_MET, f"none documented as yes: {_listed(self.names)}"
        if false:
            return NOT_MET, f"documented as no: {_listed(false)}"
        if undocumented:
            return UNKNOWN, f"not documented: {_listed(undocumented)}"
        return MET, f"all documented as yes: {_listed(self.names)}"


def _listed(names: Iterable[str]) -> str:
    return ", ".join(words(n) for n in names)


class AnyTrue(AllTrue):
    """At least one fact named by a string_list parameter is true (Kleene OR over the facts)."""

    type_name = "any_true"
    any_mode = True
    __slots__ = ()


def _as_days(spec: Any, path: str, ctx: BuildContext) -> Operand:
    """An integer parameter in days, or a calendar-day duration parameter."""
    if isinstance(spec, Mapping) and set(spec) == {"param"}:
        param = ctx.parameter(f"{path}.param", spec["param"], (ParameterType.INTEGER, ParameterType.DURATION))
        value = param.value
        if isinstance(value, Duration):
            if value.unit is not DurationUnit.CALENDAR_DAYS:
                raise ctx.error(f"{path}.param", f"parameter {param.name!r} must be in calendar_days")
            return Operand(value.amount, param.name, True, str(value), "days", str(value.amount))
        return Operand(value, param.name, True, param.display(), param.shown_unit, param.text())
    return _operand(spec, path, ctx, (ParameterType.INTEGER,))


class WithinDays(Condition):
    """A date fact lies within N days of an anchor date fact: before it, after it, or either side."""

    type_name = "within_days"
    __slots__ = ("anchor", "days", "direction", "fact")

    def __init__(self, spec: Mapping[str, Any], path: str, ctx: BuildContext) -> None:
        self.fact = _fact_name(spec, "fact", path, ctx)
        self.anchor = _fact_name(spec, "anchor", path, ctx)
        self.days = _as_days(spec.get("days"), f"{path}.days", ctx)
        self.direction = spec.get("direction", "either")
        if self.direction not in ("before", "after", "either"):
            raise ctx.error(f"{path}.direction", "direction must be before, after or either")

    def facts(self) -> set[str]:
        return {self.fact, self.anchor}

    def derived(self) -> set[str]:
        return {"days_apart"}

    def evaluate(self, facts: Facts, evidence: list[Evidence]) -> Result:
        self.days.add_to(evidence)
        when, anchor = facts.get(self.fact), facts.get(self.anchor)
        if when is None or anchor is None:
            return UNKNOWN, f"{words(self.fact if when is None else self.anchor)} is not documented"
        evidence.extend((Evidence(self.fact, when, "fact"), Evidence(self.anchor, anchor, "fact")))
        apart = (_day(when) - _day(anchor)).days  # negative: before the anchor
        evidence.append(Evidence("days_apart", apart, "derived"))
        limit = self.days.value
        wrong_side = (self.direction == "before" and apart > 0) or (self.direction == "after" and apart < 0)
        fact, anchor_words = words(self.fact), words(self.anchor)
        if wrong_side or abs(apart) > limit:
            side = "before" if apart < 0 else "after"
            allowed = {"before": "before it", "after": "after it", "either": "either side"}[self.direction]
            return NOT_MET, (
                f"{fact} is {_days(abs(apart))} {side} {anchor_words}; the limit is {_days(limit)} {allowed}"
            )
        if apart == 0:
            return MET, f"{fact} is the same day as {anchor_words}"
        side = "before" if apart < 0 else "after"
        return MET, f"{fact} is {_days(abs(apart))} {side} {anchor_words}, within {_days(limit)}"


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


class CountAtLeast(Condition):
    """At least N: items in a list fact (or an integer count fact), or met sub-conditions in ``of``."""

    type_name = "count_at_least"
    __slots__ = ("fact", "minimum", "of")

    def __init__(self, spec: Mapping[str, Any], path: str, ctx: BuildContext) -> None:
        if ("fact" in spec) == ("of" in spec):
            raise ctx.error(path, "count_at_least needs exactly one of fact or of")
        self.minimum = _operand(spec.get("min"), f"{path}.min", ctx, (ParameterType.INTEGER,))
        self.fact = _fact_name(spec, "fact", path, ctx) if "fact" in spec else None
        self.of = _children(spec.get("of"), f"{path}.of", ctx) if "of" in spec else ()

    def facts(self) -> set[str]:
        return {self.fact} if self.fact else set()

    def derived(self) -> set[str]:
        return {"count"}

    def children(self) -> tuple[Condition, ...]:
        return self.of

    def evaluate(self, facts: Facts, evidence: list[Evidence]) -> Result:
        need = self.minimum.value
        self.minimum.add_to(evidence)
        if self.fact is not None:
            value = facts.get(self.fact)
            label = words(self.fact)
            if value is None:
                return UNKNOWN, f"{label} is not documented"
            count = value if isinstance(value, int) else len(value)
            evidence.append(Evidence("count", count, "derived"))
            if count >= need:
                return MET, f"{label}: {count}, at least {self.minimum.label}"
            return NOT_MET, f"{label}: {count}, fewer than {self.minimum.label}"
        met = unknown = 0
        for child in self.of:
            status, _ = child.evaluate(facts, evidence)
            met += status is MET
            unknown += status is UNKNOWN
        evidence.append(Evidence("count", met, "derived"))
        if met >= need:
            return MET, f"{met} of {len(self.of)} met, at least {need}"
        if met + unknown >= need:
            return UNKNOWN, f"{met} of {len(self.of)} met and {unknown} unknown; {need} needed"
        return NOT_MET, f"only {met} of {len(self.of)} met; {need} needed"


# ---------------------------------------------------------------------------- logic


class All(Condition):
    """Kleene AND: not_met if any child is not_met; else unknown if any is unknown; else met."""

    type_name = "all"
    __slots__ = ("of",)

    def __init__(self, spec: Mapping[str, Any], path: str, ctx: BuildContext) -> None:
        self.of = _children(spec.get("of"), f"{path}.of", ctx)

    def facts(self) -> set[str]:
        return set()

    def children(self) -> tuple[Condition, ...]:
        return self.of

    def evaluate(self, facts: Facts, evidence: list[Evidence]) -> Result:
        unknown: list[str] = []
        met: list[str] = []
        for child in self.of:  # evaluate every child: the evidence should be complete
            status, reason = child.evaluate(facts, evidence)
            if status is NOT_MET:
                failed = [reason]
                for rest in self.of[self.of.index(child) + 1 :]:
                    s, r = rest.evaluate(facts, evidence)
                    if s is NOT_MET:
                        failed.append(r)
                return NOT_MET, "; ".join(failed)
            (unknown if status is UNKNOWN else met).append(reason)
        if unknown:
            return UNKNOWN, "; ".join(unknown)
        return MET, "; ".join(met)


class AnyOf(Condition):
    """Kleene OR: met if any child is met; else unknown if any is unknown; else not_met."""

    type_name = "any"
    __slots__ = ("of",)

    def __init__(self, spec: Mapping[str, Any], path: str, ctx: BuildContext) -> None:
        self.of = _children(spec.get("of"), f"{path}.of", ctx)

    def facts(self) -> set[str]:
        return set()

    def children(self) -> tuple[Condition, ...]:
        return self.of

    def evaluate(self, facts: Facts, evidence: list[Evidence]) -> Result:
        unknown: list[str] = []
        not_met: list[str] = []
        for child in self.of:
            status, reason = child.evaluate(facts, evidence)
            if status is MET:
                return MET, reason
            (unknown if status is UNKNOWN else not_met).append(reason)
        if unknown:
            return UNKNOWN, "; ".join(unknown)
        return NOT_MET, "; ".join(not_met)


class Not(Condition):
    """Kleene NOT: met <-> not_met, unknown stays unknown."""

    type_name = "not"
    __slots__ = ("inner",)

    def __init__(self, spec: Mapping[str, Any], path: str, ctx: BuildContext) -> None:
        self.inner = build_condition(spec.get("condition"), f"{path}.condition", ctx)

    def facts(self) -> set[str]:
        return set()

    def children(self) -> tuple[Condition, ...]:
        return (self.inner,)

    def evaluate(self, facts: Facts, evidence: list[Evidence]) -> Result:
        status, reason = self.inner.evaluate(facts, evidence)
        if status is MET:
            return NOT_MET, f"ruled out because {reason}"
        if status is NOT_MET:
            return MET, reason
        return UNKNOWN, reason


# ---------------------------------------------------------------------------- units


class UnitCap(Condition):
    """Units requested against daily and/or monthly caps, given the units already used.

    Puts ``units_fit`` (how many of the requested units fit under every cap) in the evidence, so a
    claim check can pay the units that fit and deny the rest.
    """

    type_name = "unit_cap"
    __slots__ = ("caps", "requested")

    def __init__(self, spec: Mapping[str, Any], path: str, ctx: BuildContext) -> None:
        self.requested = _fact_name(
            {"requested": spec.get("requested", "units_requested")}, "requested", path, ctx
        )
        caps: list[tuple[str, Operand, str]] = []
        for period, default_used in (("daily", "units_used_today"), ("monthly", "units_used_this_month")):
            key = f"{period}_limit"
            if key in spec:
                used = _fact_name({"u": spec.get(f"{period}_used", default_used)}, "u", path, ctx)
                caps.append(
                    (period, _operand(spec[key], f"{path}.{key}", ctx, (ParameterType.INTEGER,)), used)
                )
        if not caps:
            raise ctx.error(path, "unit_cap needs daily_limit, monthly_limit or both")
        self.caps = tuple(caps)

    def facts(self) -> set[str]:
        return {self.requested} | {used for _, _, used in self.caps}

    def derived(self) -> set[str]:
        return {"units_fit", "daily_remaining", "monthly_remaining"}

    def evaluate(self, facts: Facts, evidence: list[Evidence]) -> Result:
        requested = facts.get(self.requested)
        for _, limit, _ in self.caps:
            limit.add_to(evidence)
        if requested is None:
            return UNKNOWN, f"{words(self.requested)} is not documented"
        evidence.append(Evidence(self.requested, requested, "fact"))
        fit = requested
        tripped: list[str] = []
        for period, limit, used_name in self.caps:
            used = facts.get(used_name)
            if used is None:
                return UNKNOWN, f"{words(used_name)} is not documented"
            evidence.append(Evidence(used_name, used, "fact"))
            remaining = max(limit.value - used, 0)
            evidence.append(Evidence(f"{period}_remaining", remaining, "derived"))
            if requested > remaining:
                tripped.append(
                    f"{_units(requested)} requested with {used} already used exceeds the {period} limit "
                    f"of {limit.text} ({remaining} left)"
                )
            fit = min(fit, remaining)
        evidence.append(Evidence("units_fit", fit, "derived"))
        if tripped:
            return NOT_MET, "; ".join(tripped) + f"; {fit} fit"
        if requested == 1:
            return MET, "the 1 unit requested fits under the limits"
        return MET, f"all {requested} units requested fit under the limits"


ROUNDING_RULES = ("whole_units_only", "eight_minute")


class UnitsFromMinutes(Condition):
    """Minutes of face-to-face time to billable units, with a documented rounding rule.

    ``whole_units_only``: only completed units count (floor). ``eight_minute``: a remainder of at
    least half a unit (8 of 15 minutes) adds a unit. With ``billed_units`` the condition holds when the
    units billed do not exceed the units the minutes support; without it, when at least one unit results.
    """

    type_name = "units_from_minutes"
    __slots__ = ("billed", "minutes", "rounding", "unit_minutes")

    def __init__(self, spec: Mapping[str, Any], path: str, ctx: BuildContext) -> None:
        self.minutes = _fact_name({"minutes": spec.get("minutes", "minutes")}, "minutes", path, ctx)
        self.billed = _fact_name(spec, "billed_units", path, ctx) if "billed_units" in spec else None
        self.unit_minutes = _operand(
            spec.get("unit_minutes"), f"{path}.unit_minutes", ctx, (ParameterType.INTEGER,)
        )
        self.rounding = _operand(spec.get("rounding"), f"{path}.rounding", ctx, (ParameterType.ENUM,))
        if self.rounding.value not in ROUNDING_RULES:
            raise ctx.error(f"{path}.rounding", f"rounding must be one of {', '.join(ROUNDING_RULES)}")
        if self.unit_minutes.value <= 0:
            raise ctx.error(f"{path}.unit_minutes", "a unit must last at least one minute")

    def facts(self) -> set[str]:
        return {self.minutes} | ({self.billed} if self.billed else set())

    def derived(self) -> set[str]:
        return {"units"}

    def evaluate(self, facts: Facts, evidence: list[Evidence]) -> Result:
        self.unit_minutes.add_to(evidence)
        self.rounding.add_to(evidence)
        minutes = facts.get(self.minutes)
        if minutes is None:
            return UNKNOWN, f"{words(self.minutes)} are not documented"
        evidence.append(Evidence(self.minutes, minutes, "fact"))
        units = units_from_minutes(minutes, self.unit_minutes.value, self.rounding.value)
        evidence.append(Evidence("units", units, "derived"))
        if self.billed is None:
            if units >= 1:
                return MET, f"{_show(minutes)} minutes make {_units(units)}"
            return (
                NOT_MET,
                f"{_show(minutes)} minutes make no billable unit of {self.unit_minutes.value} minutes",
            )
        billed = facts.get(self.billed)
        if billed is None:
            return UNKNOWN, f"{words(self.billed)} is not documented"
        evidence.append(Evidence(self.billed, billed, "fact"))
        if billed <= units:
            return MET, f"{_units(billed)} billed; {_show(minutes)} minutes support {units}"
        return NOT_MET, f"{_units(billed)} billed but {_show(minutes)} minutes support only {units}"


def units_from_minutes(minutes: int | float, unit_minutes: int, rounding: str) -> int:
    """Billable units for a number of minutes under a rounding rule (see UnitsFromMinutes)."""
    if minutes <= 0:
        return 0
    whole, remainder = divmod(minutes, unit_minutes)
    units = int(whole)
    if rounding == "eight_minute" and remainder >= math.ceil(unit_minutes / 2):
        units += 1
    return units


# ---------------------------------------------------------------------------- clocks


class Deadline(Condition):
    """An event happens by a deadline counted from an anchor (``after``), or at least a span before it.

    The clock itself (amount + unit) is a duration parameter; ``direction: after`` means the event is
    due within the span after the anchor (a decision within 72 hours of receipt), ``before`` that it
    must happen at least the span before the anchor (a request 14 days before expiry). The clock
    arithmetic is bhum.domain.clocks' job; see ``due``.
    """

    type_name = "deadline"
    __slots__ = ("anchor", "clock", "clock_name", "direction", "event")

    def __init__(self, spec: Mapping[str, Any], path: str, ctx: BuildContext) -> None:
        raw = spec.get("clock")
        if not (isinstance(raw, Mapping) and set(raw) == {"param"}):
            raise ctx.error(f"{path}.clock", "expected {param: NAME} naming a duration parameter")
        param = ctx.parameter(f"{path}.clock.param", raw["param"], (ParameterType.DURATION,))
        assert isinstance(param.value, Duration)
        if param.value.unit not in CLOCK_UNITS:
            raise ctx.error(
                f"{path}.clock.param",
                f"a deadline runs in calendar_days, hours or business_days, not {param.value.unit}",
            )
        self.clock: Duration = param.value
        self.clock_name = param.name
        self.anchor = _fact_name(spec, "anchor", path, ctx)
        self.event = _fact_name(spec, "event", path, ctx)
        self.direction = spec.get("direction", "after")
        if self.direction not in ("after", "before"):
            raise ctx.error(f"{path}.direction", "direction must be after or before")

    def facts(self) -> set[str]:
        return {self.anchor, self.event, "as_of"}

    def derived(self) -> set[str]:
        return {"due"}

    def evaluate(self, facts: Facts, evidence: list[Evidence]) -> Result:
        evidence.append(Evidence(self.clock_name, self.clock, "parameter"))
        anchor = facts.get(self.anchor)
        if anchor is None:
            return UNKNOWN, f"{words(self.anchor)} is not documented"
        evidence.append(Evidence(self.anchor, anchor, "fact"))
        due = due_date(anchor, self.clock, self.direction, facts)
        if due is None:
            return UNKNOWN, f"{words(self.anchor)} needs a time zone to count {words(self.clock.unit.value)}"
        evidence.append(Evidence("due", due, "derived"))
        event = facts.get(self.event)
        event_words = words(self.event)
        if event is None:
            # Not happened yet: late already if the caller's "as_of" time is past due, else still open.
            as_of = facts.get("as_of")
            if as_of is not None and _later(as_of, due):
                return NOT_MET, f"{event_words} is not documented and the due time {_show(due)} has passed"
            return UNKNOWN, f"{event_words} is not documented yet; due by {_show(due)}"
        evidence.append(Evidence(self.event, event, "fact"))
        if _later(event, due):
            return NOT_MET, f"{event_words} {_show(event)} is after the due time {_show(due)}"
        return MET, f"{event_words} {_show(event)} is on time (due by {_show(due)})"


def _later(a: date | datetime, b: date | datetime) -> bool:
    if isinstance(a, datetime) != isinstance(b, datetime):
        return _day(a) > _day(b)
    return bool(a > b)  # type: ignore[operator]


def due_date(anchor: date | datetime, clock: Duration, direction: str, facts: Facts) -> date | None:
    """When a clock started at ``anchor`` runs out (``before``: the latest on-time moment before it).

    Aware datetimes counting forward go through bhum.domain.clocks (local wall time for calendar
    days, the plan's holidays for business days; facts ``time_zone`` and ``holidays``). Plain dates
    count calendar days. Anything else (business days backwards) has no answer here: ``None``.
    """
    sign = -1 if direction == "before" else 1
    if isinstance(anchor, datetime) and anchor.tzinfo is not None and sign > 0:
        from zoneinfo import ZoneInfo

        from bhum.domain import clocks

        tz = facts.get("time_zone") or ZoneInfo("UTC")
        unit = clocks.ClockUnit(clock.unit.value)
        rule = clocks.ClockRule(rule_id="deadline", amount=clock.amount, unit=unit, label="deadline")
        holidays = frozenset(facts.get("holidays") or ())
        return clocks.deadline(anchor, rule, tz=tz, holidays=holidays).due
    if clock.unit is DurationUnit.CALENDAR_DAYS:
        return anchor + timedelta(days=sign * clock.amount)
    if clock.unit is DurationUnit.HOURS and isinstance(anchor, datetime):
        return anchor + timedelta(hours=sign * clock.amount)
    return None


# ---------------------------------------------------------------------------- registry of types

CONDITION_TYPES: dict[str, type[Condition]] = {
    cls.type_name: cls
    for cls in (
        Compare,
        Between,
        InCodeSet,
        NotInCodeSet,
        AgeBand,
        Present,
        AllTrue,
        AnyTrue,
        WithinDays,
        CountAtLeast,
        All,
        AnyOf,
        Not,
        UnitCap,
        UnitsFromMinutes,
        Deadline,
    )
}


def build_condition(spec: Any, path: str, ctx: BuildContext) -> Condition:
    """Compile a condition from its YAML mapping; errors name the YAML path."""
    if not isinstance(spec, Mapping):
        raise ctx.error(path, "a condition must be a mapping with a 'type'")
    kind = spec.get("type")
    cls = CONDITION_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ctx.error(
            f"{path}.type", f"unknown condition type {kind!r}; known: {', '.join(CONDITION_TYPES)}"
        )
    return cls(spec, path, ctx)  # type: ignore[call-arg]


def _children(spec: Any, path: str, ctx: BuildContext) -> tuple[Condition, ...]:
    if not isinstance(spec, list) or not spec:
        raise ctx.error(path, "expected a non-empty list of conditions")
    return tuple(build_condition(item, f"{path}[{i}]", ctx) for i, item in enumerate(spec))


__all__ = [
    "CONDITION_TYPES",
    "ROUNDING_RULES",
    "BuildContext",
    "Condition",
    "ParameterValue",
    "build_condition",
    "derived_of",
    "due_date",
    "facts_of",
    "units_from_minutes",
]
