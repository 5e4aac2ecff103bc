"""The narrowing is an optimisation only (OPM-03, docs/analytics.md "Narrowing"): the whole catalog over
the cached, narrowed claims, each rule run alone (filters pushed into its own scan) and the rules
reading the validated tables with no narrowing at all give the same flags, row for row, on a
population from the product's generator."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import ibis
import pyarrow as pa
import pytest

from bhum.adapters.synth import generate_population
from bhum.analytics.catalog import Catalog
from bhum.analytics.rules import FLAG_SCHEMA, MEDICAL_DERIVED, RULES, RuleContext
from bhum.analytics.runner import finish_flags, run_catalog
from bhum.analytics.source import ClaimsSource

AS_OF = date(2026, 12, 31)  # the generator writes the 2026 claims year


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("synth")
    generate_population(folder, members=1500, seed=5)
    return folder


def _unnarrowed(source: ClaimsSource, catalog: Catalog) -> pa.Table:
    ctx = RuleContext(source, AS_OF)  # no plan: every rule reads the validated tables
    parts = [
        RULES[r.id](ctx, r).select(*FLAG_SCHEMA.names).mutate(rule_id=ibis.literal(r.id, "string"))
        for r in catalog
    ]
    return finish_flags(ibis.union(*parts, distinct=False).to_pyarrow(), catalog, AS_OF)


@pytest.mark.slow
def test_narrowed_catalog_single_rules_and_unnarrowed_agree_opm_03(
    population: Path, catalog: Catalog
) -> None:
    source = ClaimsSource.from_files(population)
    narrowed = run_catalog(source, catalog, AS_OF)
    assert len(set(narrowed.column("rule_id").to_pylist())) >= 15, "the population should exercise most rules"
    assert narrowed.to_pylist() == _unnarrowed(source, catalog).to_pylist()
    for rule in ("CI-FUH-7", "CI-IET-ENG", "CI-STEP-DOWN-GAP", "CI-PSYTX-NO-STEP-DOWN", "CI-RX-PRESCRIBERS"):
        alone = run_catalog(source, catalog, AS_OF, rule_ids=[rule])
        mine = narrowed.filter(pa.compute.equal(narrowed["rule_id"], rule))
        keep = ["member_id", "rule_id", "value", "index_date", "claim_ids", "claim_dates"]
        assert sorted(alone.select(keep).to_pylist(), key=str) == sorted(
            mine.select(keep).to_pylist(), key=str
        )


def test_narrowed_lines_carry_the_derived_columns_once(population: Path, catalog: Catalog) -> None:
    """Day number, ICD-10-CM category and bill type class are columns of the cached lines, so no rule
    re-derives them from the text columns; professional lines have no bill type class."""
    source = ClaimsSource.from_files(population)
    ctx = RuleContext(source, AS_OF)
    ctx.plan(list(catalog))
    try:
        lines = ctx.medical()
        assert set(MEDICAL_DERIVED) <= set(lines.columns)
        assert "diagnosis_code_1" not in lines.columns
        sample = lines.select("claim_type", "dx_category", "bill_type_class", "day").to_pyarrow().to_pylist()
        assert sample, "the narrowed lines should not be empty"
        assert all(r["bill_type_class"] is None for r in sample if r["claim_type"] == "professional")
        assert any(r["bill_type_class"] == "11" for r in sample if r["claim_type"] == "institutional")
        assert all(r["dx_category"] is None or len(r["dx_category"]) == 3 for r in sample)
    finally:
        ctx.release()
    temporary = source.con.con.sql("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
    assert not [name for (name,) in temporary if name.startswith("bhum_")], "cached tables are dropped"


def test_companion_visit_with_a_non_bh_diagnosis_survives_the_narrowing_opm_03(
    tmp_path: Path, catalog: Catalog
) -> None:
    """A follow-up visit coded Z00.00 is no reason to make anyone a candidate, but a candidate's such
    visit must survive the narrowing: the whole-catalog run (narrowed, cached) sees it and does not flag
    CI-FUH-7; the member discharged without one is flagged, as when the rule runs alone."""
    from tests.analytics.conftest import AS_OF as FIXTURE_AS_OF
    from tests.analytics.conftest import line, make_source, plus, stay

    medical = [
        stay("M-SEEN", "2026-05-20", "2026-06-01"),
        line("M-SEEN", plus("2026-06-01", 3), "99213", dx="Z00.00"),
        stay("M-UNSEEN", "2026-05-20", "2026-06-01"),
    ]
    source = make_source(tmp_path, medical)
    whole = run_catalog(source, catalog, FIXTURE_AS_OF)
    fuh7 = {r["member_id"] for r in whole.to_pylist() if r["rule_id"] == "CI-FUH-7"}
    assert fuh7 == {"M-UNSEEN"}
    alone = run_catalog(source, catalog, FIXTURE_AS_OF, rule_ids=["CI-FUH-7"])
    assert {r["member_id"] for r in alone.to_pylist()} == {"M-UNSEEN"}
