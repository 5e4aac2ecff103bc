"""`bhum db upgrade | current | load` against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from bhum.adapters.store import SqlStore
from bhum.entrypoints.cli import db
from tests.integration.population_files import population_rows, write_population


@dataclass
class Deps:
    database: SqlStore


def test_upgrade_then_current_reports_head(store_url: str) -> None:
    store = SqlStore(store_url)
    runner = CliRunner()
    try:
        behind = runner.invoke(db.app, ["current"], obj=Deps(store))
        assert behind.exit_code == 1 and "not migrated" in behind.output
        upgraded = runner.invoke(db.app, ["upgrade"], obj=Deps(store))
        assert upgraded.exit_code == 0, upgraded.output
        at_head = runner.invoke(db.app, ["current"], obj=Deps(store))
        assert at_head.exit_code == 0 and f"current: {store.head()}" in at_head.output
    finally:
        store.dispose()


def test_load_prints_counts_and_a_bad_file_exits_1_writing_nothing(store: SqlStore, tmp_path: Path) -> None:
    runner = CliRunner()
    good = runner.invoke(db.app, ["load", str(write_population(tmp_path / "good"))], obj=Deps(store))
    assert good.exit_code == 0, good.output
    assert "members" in good.output and "3" in good.output
    rows = population_rows(members=4)
    rows["member_residence"][0]["setting"] = "castle"
    bad = runner.invoke(
        db.app, ["load", str(write_population(tmp_path / "bad", rows, fmt="csv"))], obj=Deps(store)
    )
    assert bad.exit_code == 1
    assert "member_residence.csv" in bad.output and "setting" in bad.output
    with store.unit_of_work() as uow:
        assert uow.members.count() == 3


def test_without_a_configured_database_the_command_says_so() -> None:
    result = CliRunner().invoke(db.app, ["upgrade"], obj=None)
    assert result.exit_code == 2
    assert "no database configured" in result.output
