"""Evaluate a rule over facts, and run a pack's own test cases."""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from typing import Any

from bhum.policy.conditions import _show
from bhum.policy.model import CaseResult, Evidence, Outcome, Pack, Rule, Status

_FORMATTER = string.Formatter()


def placeholders(template: str) -> set[str]:
    """The ``{name}`` placeholders of an explanation (format specs and conversions are not allowed)."""
    return {name for _, name, _, _ in _FORMATTER.parse(template) if name is not None}


def evaluate(rule: Rule, facts: Mapping[str, Any]) -> Outcome:
    """Evaluate one rule over facts.

    ``not_applicable`` when its ``applies_when`` does not hold, else met / not_met / unknown.
    """
    evidence: list[Evidence] = []
    if rule.applies_when is not None:
        applies, why = rule.applies_when.evaluate(facts, evidence)
        if applies is Status.NOT_MET:
            return _outcome(rule, Status.NOT_APPLICABLE, evidence, f"does not apply: {why}", facts)
        if applies is Status.UNKNOWN:
            return _outcome(rule, Status.UNKNOWN, evidence, f"cannot tell whether it applies: {why}", facts)
    status, reason = rule.condition.evaluate(facts, evidence)
    return _outcome(rule, status, evidence, reason, facts)


def _outcome(
    rule: Rule, status: Status, evidence: list[Evidence], reason: str, facts: Mapping[str, Any]
) -> Outcome:
    values: dict[str, str] = {}
    for name in placeholders(rule.explanation):
        param = rule.parameters.get(name)
        if param is not None:
            values[name] = param.display()
            continue
        found = next((e.value for e in evidence if e.name == name), None)
        if found is None:
            found = facts.get(name)
        values[name] = "not documented" if found is None else _show(found)
    explanation = rule.explanation.format_map(values).strip()
    sentence = f"{explanation} ({status.value.replace('_', ' ')}: {reason})"
    return Outcome(
        rule_id=rule.id,
        implements=rule.implements,
        status=status,
        evidence=tuple(evidence),
        reason=reason,
        sentence=sentence,
        pack_id=rule.pack_id,
        pack_version=rule.pack_version,
        codes=rule.codes_when_not_met if status is Status.NOT_MET else (),
    )


def run_rule_tests(rule: Rule) -> list[CaseResult]:
    results = []
    for case in rule.cases:
        try:
            outcome = evaluate(rule, case.given)
        except Exception as exc:  # a crash in a case is a failed case, reported, not a crashed run
            results.append(
                CaseResult(
                    rule.pack_id,
                    rule.pack_version,
                    rule.id,
                    case.name,
                    False,
                    case.expect,
                    Status.UNKNOWN,
                    f"raised {type(exc).__name__}: {exc}",
                )
            )
            continue
        problems = []
        if outcome.status is not case.expect:
            problems.append(f"expected {case.expect.value}, got {outcome.status.value} ({outcome.reason})")
        got = outcome.values
        for name, want in case.expect_values.items():
            if name not in got:
                problems.append(f"expected value {name}={want!r}, but the evidence has no {name}")
            elif _normal(got[name]) != _normal(want):
                problems.append(f"expected {name}={want!r}, got {got[name]!r}")
        results.append(
            CaseResult(
                rule.pack_id,
                rule.pack_version,
                rule.id,
                case.name,
                not problems,
                case.expect,
                outcome.status,
                "; ".join(problems) or outcome.sentence,
                outcome,
            )
        )
    return results


def _normal(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(value)
    return value


def run_pack_tests(pack: Pack) -> list[CaseResult]:
    """Run every case of every rule of a pack through the engine."""
    return [result for rule in pack.rules for result in run_rule_tests(rule)]


def summary(results: Iterable[CaseResult]) -> tuple[int, int]:
    """(passed, failed)."""
    passed = failed = 0
    for r in results:
        if r.passed:
            passed += 1
        else:
            failed += 1
    return passed, failed
