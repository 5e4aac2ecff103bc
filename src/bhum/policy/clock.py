"""Deadline rules as clocks for bhum.domain.clocks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bhum.policy.conditions import Deadline, _walk
from bhum.policy.model import CLOCK_UNITS, Duration, Parameter, Rule

if TYPE_CHECKING:
    from bhum.domain.clocks import ClockRule


def deadline_parameter(rule: Rule, parameter: str | None = None) -> Parameter:
    """The clock parameter of a rule: the one named, or the one its ``deadline`` condition uses."""
    if parameter is None:
        found = [c.clock_name for c in _walk(rule.condition) if isinstance(c, Deadline)]
        if len(found) != 1:
            raise ValueError(f"rule {rule.id} has {len(found)} deadline conditions; name the parameter")
        parameter = found[0]
    param = rule.parameters[parameter]
    if not isinstance(param.value, Duration) or param.value.unit not in CLOCK_UNITS:
        raise ValueError(f"{rule.id}.{parameter} is not a clock (calendar_days, hours or business_days)")
    return param


def clock_rule(rule: Rule, parameter: str | None = None) -> ClockRule:
    """A ``bhum.domain.clocks.ClockRule`` from a pack rule's clock parameter (imported lazily)."""
    from bhum.domain.clocks import ClockRule, ClockUnit

    param = deadline_parameter(rule, parameter)
    assert isinstance(param.value, Duration)
    return ClockRule(
        rule_id=rule.implements[0],  # clocks cite the catalog ID; the label names the pack rule
        amount=param.value.amount,
        unit=ClockUnit(param.value.unit.value),
        label=f"{rule.title} ({param.value}; {rule.pack_id}@{rule.pack_version} {rule.id})",
    )
