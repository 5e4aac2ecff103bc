"""Explanations read as plain language (REG-01, REG-03: a denial letter quotes the rule's sentence).

Every rule's explanation is rendered for every case of every pack, and the sentence must not double a
word ("30 days days"), leave a ``{placeholder}``, leak a Python repr ("True", "None", "{'", "[]") or an
internal snake_case name, and the evidence is keyed by names, never by a constant's text ("'True'").
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from bhum.domain.values import Code
from bhum.policy import Pack, Rule, evaluate, load_catalog, load_pack
from bhum.policy.engine import render_explanation
from bhum.policy.loader import pack_folders
from bhum.policy.model import Evidence
from tests.packs.conftest import PACKS

CATALOG = load_catalog(PACKS / "rule-catalog.yaml")
PACKS_LOADED = [load_pack(folder, catalog=CATALOG) for folder in pack_folders(PACKS)]

DOUBLED = re.compile(r"\b([A-Za-z]+)\s+\1\b", re.IGNORECASE)
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
REPRS = re.compile(r"\bTrue\b|\bFalse\b|\bNone\b|\{'|\[\]|\(\)|\bCode\(|frozenset|datetime\.|\d\.0\b")
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def _codes(value: Any) -> set[str]:
    if isinstance(value, Code):
        return {value.code}
    if isinstance(value, list | tuple | set | frozenset):
        return set().union(*(_codes(v) for v in value)) if value else set()
    return set()


def _own_codes(rule: Rule) -> set[str]:
    """Codes a sentence may quote as they are (a vocabulary code like ``routine_outpatient``)."""
    found = set().union(*(_codes(p.value) for p in rule.parameters.values()))
    for case in rule.cases:
        found |= set().union(*(_codes(v) for v in case.given.values()))
    return found


def problems(sentence: str, allowed_codes: set[str]) -> list[str]:
    """What reads wrong in a rendered sentence (empty when it reads as plain language)."""
    found = [f"doubled word {m[0]!r}" for m in DOUBLED.finditer(sentence)]
    found += [f"unresolved placeholder {m[0]}" for m in PLACEHOLDER.finditer(sentence)]
    found += [f"Python repr {m[0]!r}" for m in REPRS.finditer(sentence)]
    found += [f"internal name {m[0]!r}" for m in SNAKE.finditer(sentence) if m[0] not in allowed_codes]
    return found


CASES = [
    pytest.param(rule, case, id=f"{pack.id}@{pack.version}::{rule.id}::{case.name}")
    for pack in PACKS_LOADED
    for rule in pack.rules
    for case in rule.cases
]


@pytest.mark.parametrize(("rule", "case"), CASES)
def test_reg01_sentence_reads_as_plain_language(rule: Rule, case: Any) -> None:
    """REG-01/REG-03: the sentence a letter quotes has no doubled units, placeholders, reprs or
    internal names, and its evidence is keyed by names."""
    outcome = evaluate(rule, case.given)
    assert problems(outcome.sentence, _own_codes(rule)) == [], outcome.sentence
    bad_keys = [e.name for e in outcome.evidence if not re.fullmatch(r"[a-z_][a-z0-9_]*", e.name)]
    assert bad_keys == [], bad_keys


def test_every_pack_is_checked() -> None:
    assert {p.id for p in PACKS_LOADED} >= {"opm", "tcm", "iop", "mn", "coc", "reg", "opm-analytics"}
    assert len(CASES) > 300


@pytest.mark.parametrize(
    ("sentence", "kind"),
    [
        ("within 30 days days of admission", "doubled word"),
        ("needs 3 hours Hours a day", "doubled word"),
        ("covers {min_initial_sessions} sessions", "unresolved placeholder"),
        ("(met: dsm5 supports True)", "Python repr"),
        ("missing - None", "Python repr"),
        ("evidence {'True': True}", "Python repr"),
        ("missing: []", "Python repr"),
        ("this day had 3.0", "Python repr"),
        ("(met: physical_exam_date is 10 days from admission)", "internal name"),
    ],
)
def test_the_check_catches_what_users_would_notice(sentence: str, kind: str) -> None:
    """The checks above can fail: each known defect is caught."""
    assert any(p.startswith(kind) for p in problems(sentence, set()))


def test_plain_sentences_pass_the_check() -> None:
    assert problems("Weekly hours are 9–19 hours for adults; this week had 8.5.", set()) == []
    assert problems("level of care is routine_outpatient", {"routine_outpatient"}) == []


def _rule(pack: str, rule_id: str) -> Rule:
    found: Pack = next(p for p in PACKS_LOADED if p.id == pack)
    return found.rule(rule_id)


def test_a_range_of_two_parameters_shows_its_unit_once() -> None:
    """IOP-06: "9–19 hours", not "9 hours-19 hours"."""
    rule = _rule("iop", "iop.weekly-hours")
    text = render_explanation(rule, [], {"weekly_hours": 12})
    assert "9–19 hours for adults and 6–19 hours for adolescents" in text
    assert "9 hours-19 hours" not in text and "9 hours–19 hours" not in text


def test_a_parameter_renders_with_its_unit_exactly_once() -> None:
    """IOP-08: the exam window reads "30 days", once."""
    rule = _rule("iop", "iop.physical-exam")
    text = render_explanation(rule, [Evidence("days_apart", -10, "derived")], {})
    assert "30 days" in text and "days days" not in text


def test_an_undocumented_value_drops_its_clause_not_the_rule() -> None:
    """IOP-04: with no hours documented the sentence states the rule and stops; the reason says what
    is missing."""
    rule = _rule("iop", "iop.per-diem-minimum-hours")
    outcome = evaluate(rule, {"service_code": next(iter(rule.parameters["per_diem_codes"].value))})  # type: ignore[arg-type]
    explanation = outcome.sentence.split(" (")[0]
    assert "not documented" not in explanation and explanation.endswith(".")
    assert "consecutive hours is not documented" in outcome.sentence


def test_constants_are_not_evidence_and_booleans_read_yes_no() -> None:
    """IOP-01: the DSM-5 check reads "DSM-5 cross cutting supports: no, not yes" and the evidence has no
    "True" key."""
    rule = _rule("iop", "iop.admission-criteria")
    category = next(c for c in rule.parameters["mh_categories"].value if c.code == "mental-health")  # type: ignore[union-attr]
    outcome = evaluate(rule, {"condition_category": category, "dsm5_cross_cutting_supports": False})
    assert "DSM-5 cross cutting supports: no, not yes" in outcome.sentence
    assert "True" not in outcome.values and "True" not in outcome.sentence


def test_rule_keeps_its_source_line() -> None:
    """Each rule keeps its own ``source`` (the public measure it follows), else the pack's."""
    analytics = next(p for p in PACKS_LOADED if p.id == "opm-analytics")
    assert all(r.source for r in analytics.rules)
    assert any(r.source != analytics.source for r in analytics.rules)
    iop = next(p for p in PACKS_LOADED if p.id == "iop")
    assert {r.source for r in iop.rules} == {iop.source}
