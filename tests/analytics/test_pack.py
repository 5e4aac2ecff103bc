"""The opm-analytics pack validates with the policy loader and matches the engine's rules (OPM-03)."""

from __future__ import annotations

from bhum.analytics.catalog import DEFAULT_VERSION, PACKS_DIR, load_catalog
from bhum.analytics.rules import RULES
from bhum.policy.loader import load_pack


def test_pack_validates_with_the_policy_loader_and_covers_every_engine_rule() -> None:
    pack = load_pack(PACKS_DIR / DEFAULT_VERSION)
    catalog = load_catalog()
    assert {r.id for r in pack.rules} == set(RULES) == set(catalog.rules)
    assert len(RULES) >= 14
    for rule in catalog:
        assert rule.source and rule.explanation and rule.implements
        assert "score_weight" in rule.values
