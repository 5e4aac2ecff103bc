"""Every case of every pack runs through the engine (one test per pack, rule and case), and the
packs as a whole cover the rule catalog."""

from __future__ import annotations

import re
import timeit
from datetime import date
from pathlib import Path

import pytest

from bhum.domain.values import CARC, RARC, Code
from bhum.policy import (
    Pack,
    PackError,
    PackRegistry,
    Status,
    evaluate,
    load_catalog,
    load_pack,
    load_packs,
    run_rule_tests,
)
from bhum.policy.loader import pack_folders
from tests.conftest import shared_dir
from tests.packs.conftest import CORE_PROGRAMS, PACKS

CATALOG = load_catalog(PACKS / "rule-catalog.yaml")
RULES_MD = shared_dir() / "spec" / "RULES.md"


def _load_all() -> tuple[list[Pack], list[tuple[Path, PackError]]]:
    packs, broken = [], []
    for folder in pack_folders(PACKS):
        try:
            packs.append(load_pack(folder, catalog=CATALOG))
        except PackError as exc:
            broken.append((folder, exc))
    return packs, broken


PACKS_LOADED, BROKEN = _load_all()
CORE = [p for p in PACKS_LOADED if p.id in CORE_PROGRAMS]


@pytest.mark.parametrize("folder", pack_folders(PACKS), ids=lambda f: f"{f.parent.name}@{f.name}")
def test_pack_is_valid(folder: Path) -> None:
    """Each pack folder passes the schema and the semantic checks."""
    errors = [str(exc) for f, exc in BROKEN if f == folder]
    assert not errors, errors[0] if errors else ""


CASES = [
    pytest.param(pack, rule, case, id=f"{pack.id}@{pack.version}::{rule.id}::{case.name}")
    for pack in PACKS_LOADED
    for rule in pack.rules
    for case in rule.cases
]


@pytest.mark.parametrize(("pack", "rule", "case"), CASES)
def test_case(pack: Pack, rule: object, case: object) -> None:
    results = [r for r in run_rule_tests(rule) if r.case == case.name]  # type: ignore[arg-type, attr-defined]
    assert len(results) == 1
    assert results[0].passed, results[0].message


def test_core_packs_are_all_there() -> None:
    assert sorted(p.id for p in CORE) == sorted(CORE_PROGRAMS)
    assert all(p.version == "2026.1" for p in CORE)


def test_catalog_matches_rules_md() -> None:
    """packs/rule-catalog.yaml lists exactly the IDs of RULES.md."""
    ids = set(re.findall(r"^\| ([A-Z]+-[0-9]{2}) \|", RULES_MD.read_text(), flags=re.MULTILINE))
    assert ids == set(CATALOG)


def test_every_catalog_id_is_implemented() -> None:
    """Every RULES.md ID is implemented by at least one rule of the core packs."""
    implemented = {ref for pack in CORE for rule in pack.rules for ref in rule.implements}
    assert sorted(set(CATALOG) - implemented) == []


def test_every_rule_has_cases_on_both_sides() -> None:
    """A rule's cases include at least one met and one other outcome: a boundary, not a smoke test."""
    lonely = [
        rule.id
        for pack in CORE
        for rule in pack.rules
        if Status.MET not in {c.expect for c in rule.cases} or len({c.expect for c in rule.cases}) < 2
    ]
    assert lonely == []


def test_rule_ids_carry_their_program() -> None:
    bad = [r.id for p in CORE for r in p.rules if not r.id.startswith(f"{p.program}.")]
    assert bad == []


ALLOWED_CODES = {
    (CARC, c)
    for c in ("197", "15", "198", "39", "119", "151", "222", "273", "18", "96", "204", "170", "185", "B7")
} | {(RARC, c) for c in ("M62", "N54", "N362", "N130", "N95")}


def test_adjustment_codes_come_from_the_rules_md_list() -> None:
    """Only the CARC/RARC listed at the end of RULES.md; never the deactivated CARC 62."""
    used = {(c.system, c.code) for p in CORE for r in p.rules for c in r.codes_when_not_met}
    assert used <= ALLOWED_CODES
    assert (CARC, "62") not in used


def test_registry_typed_accessors_read_the_numbers() -> None:
    """TCM-02 / IOP-04 / REG-01 numbers come from the packs, typed."""
    registry = load_packs(PACKS) if not BROKEN else _core_registry()
    assert registry.integer("tcm.t1017-tf-limits", "daily_limit") == 16
    assert registry.integer("tcm.t1017-tf-limits", "monthly_limit") == 56
    assert registry.integer("tcm.t1017-hm-limits", "monthly_limit") == 25
    assert registry.number("iop.per-diem-minimum-hours", "adult_min_consecutive_hours") == 3
    assert registry.duration("reg.cms-expedited-72-hours", "decision_clock").amount == 72
    preauth = registry.code_set("opm.preauth-required-services", "preauth_services")
    assert {c.code for c in preauth} >= {"S9480", "H0015", "0905", "0906", "90870", "90867", "90868", "90869"}
    with pytest.raises(TypeError):
        registry.integer("iop.per-diem-minimum-hours", "per_diem_codes")
    with pytest.raises(KeyError):
        registry.parameter("tcm.t1017-tf-limits", "no_such_parameter")


def _core_registry() -> PackRegistry:
    return PackRegistry(CORE, catalog=CATALOG)


def test_outcome_carries_pack_version_and_codes() -> None:
    rule = _core_registry().rule("tcm.t1017-tf-limits")
    outcome = evaluate(
        rule,
        {
            "service_code": Code("https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "T1017"),
            "modifiers": [
                Code("https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets/modifiers", "HE"),
                Code("https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets/modifiers", "TF"),
            ],
            "contract_type": Code("https://bhum.dev/codes/contract-type", "111"),
            "birth_date": date(2015, 1, 1),
            "service_date": date(2026, 3, 10),
            "units_requested": 17,
            "units_used_today": 0,
            "units_used_this_month": 0,
        },
    )
    assert outcome.status is Status.NOT_MET
    assert (outcome.pack_id, outcome.pack_version) == ("tcm", "2026.1")
    assert outcome.implements == ("TCM-02",)
    assert outcome.value("units_fit") == 16
    assert "16 units" in outcome.sentence and "17" in outcome.sentence
    assert [c.code for c in outcome.codes] == ["119", "N362"]


def test_evaluation_takes_microseconds() -> None:
    """The authorization engine needs p99 <= 5 ms answers; one rule must take well under 1 ms."""
    rule = _core_registry().rule("iop.weekly-hours")
    facts = {"program_population": Code("https://bhum.dev/codes/population", "adult"), "weekly_hours": 12}
    runs = 2000
    seconds = min(timeit.repeat(lambda: evaluate(rule, facts), number=runs, repeat=3)) / runs
    assert seconds < 200e-6, f"{seconds * 1e6:.1f} µs per evaluation"
