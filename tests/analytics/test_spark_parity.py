"""The same rule code on DuckDB and on Spark gives identical flags, row for row (issue 4 item 1),
on a population from the product's generator (bhum synth)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bhum.adapters.synth import generate_population
from bhum.analytics.catalog import Catalog
from bhum.analytics.runner import run_catalog
from bhum.analytics.source import ClaimsSource

AS_OF = date(2026, 12, 31)  # the generator writes the 2026 claims year


@pytest.mark.spark
@pytest.mark.slow
def test_catalog_identical_on_duckdb_and_spark(tmp_path: Path, catalog: Catalog, spark_session: Any) -> None:
    generate_population(tmp_path, members=3000, seed=11)
    on_duckdb = run_catalog(ClaimsSource.from_files(tmp_path), catalog, AS_OF)
    on_spark = run_catalog(ClaimsSource.from_files(tmp_path, spark=spark_session), catalog, AS_OF)
    rules_hit = set(on_duckdb.column("rule_id").to_pylist())
    assert len(rules_hit) >= 18, f"the population should exercise most rules, hit only {sorted(rules_hit)}"
    assert on_duckdb.num_rows > 100
    assert on_duckdb.to_pylist() == on_spark.to_pylist()
