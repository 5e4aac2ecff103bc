"""Evaluate a rule over facts, and run a pack's own test cases."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from typing import Any

from bhum.policy.conditions import _show
from bhum.policy.model import CaseResult, Evidence, Outcome, Pack, Rule, Status, words

_FORMATTER = string.Formatter()
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
# "{min}–{max}" (en dash or hyphen) between two parameters: a range, its shared unit shown once.
_RANGE = re.compile(r"\{([a-z_][a-z0-9_]*)\}\s*[-–]\s*\{([a-z_][a-z0-9_]*)\}")
_ASIDE = re.compile(r"\s*\([^()]*\)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z{(\"])")
NOT_DOCUMENTED = "not documented"


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


def render_explanation(rule: Rule, evidence: Iterable[Evidence], facts: Mapping[str, Any]) -> str:
    """The rule's explanation with its values, in plain language.

    Conventions (docs/policy-packs.md): a parameter renders with its unit, so the text never repeats it;
    ``{low}–{high}`` over two parameters of one unit renders "9–19 hours"; fact-name lists render as
    words. A clause (``; ...``), aside (``(...)``) or later sentence whose value is not documented, or
    an empty list, is left out rather than printed as "not documented"; only the opening clause keeps
    its place, with "not documented" in it.
    """
    known: dict[str, str | None] = {}
    by_name = {e.name: e for e in evidence}
    for name in placeholders(rule.explanation):
        param = rule.parameters.get(name)
        if param is not None:
            known[name] = param.display()
            continue
        item = by_name.get(name)
        value = item.value if item is not None else facts.get(name)
        if value is None or (isinstance(value, tuple | list | set | frozenset) and not value):
            known[name] = None
        elif item is not None and item.kind == "derived" and isinstance(value, tuple):
            known[name] = ", ".join(words(v) if isinstance(v, str) else _show(v) for v in value)
        else:
            known[name] = _show(value)

    def ranged(match: re.Match[str]) -> str:
        low, high = rule.parameters.get(match[1]), rule.parameters.get(match[2])
        if low is not None and high is not None and low.shown_unit and low.shown_unit == high.shown_unit:
            return f"{low.text()}–{high.text()} {low.shown_unit}"
        return f"{{{match[1]}}}–{{{match[2]}}}"

    template = _RANGE.sub(ranged, rule.explanation)

    def missing(text: str) -> bool:
        return any(known.get(n, "") is None for n in _PLACEHOLDER.findall(text))

    template = _ASIDE.sub(lambda m: "" if missing(m[0]) else m[0], template)
    sentences: list[str] = []
    for i, sentence in enumerate(_SENTENCE_END.split(template.strip())):
        end = sentence[-1] if sentence and sentence[-1] in ".!?" else ""
        clauses = [c.strip() for c in sentence.removesuffix(end).split(";")]
        kept = [c for j, c in enumerate(clauses) if (i == 0 and j == 0) or not missing(c)]
        if kept and (i == 0 or kept[0] == clauses[0]):
            sentences.append("; ".join(kept) + end)
    text = " ".join(sentences)
    return _PLACEHOLDER.sub(lambda m: known.get(m[1]) or NOT_DOCUMENTED, text)


def _outcome(
    rule: Rule, status: Status, evidence: list[Evidence], reason: str, facts: Mapping[str, Any]
) -> Outcome:
    explanation = render_explanation(rule, evidence, facts)
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
