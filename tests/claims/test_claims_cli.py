"""`bhum claims check` from the command line: against a population directory (files only) and against
the store (the read of member data is audited); a malformed line is named and the rest decided."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bhum.bootstrap import bootstrap
from bhum.config import Settings
from bhum.entrypoints.cli import app


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("population")
    result = CliRunner().invoke(app, ["synth", "--members", "200", "--seed", "5", "--out", str(out), "--csv"])
    assert result.exit_code == 0, result.output
    return out


def _run(settings: Settings, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), obj=bootstrap(settings))
    return result.exit_code, result.output


def test_check_against_a_population_directory_writes_the_remittance(population: Path, tmp_path: Path) -> None:
    settings = Settings.from_env({"BHUM_DATA_DIR": str(tmp_path / "data")})
    out = tmp_path / "out"
    code, output = _run(
        settings, "claims", "check", str(population / "medical_claim.csv"), "--out", str(out),
        "--population", str(population),
    )  # fmt: skip
    assert code == 0, output
    decisions = [json.loads(line) for line in (out / "decisions.jsonl").read_text().splitlines()]
    with (population / "medical_claim.csv").open() as handle:
        assert len(decisions) == sum(1 for _ in csv.DictReader(handle))
    denied = [d for d in decisions if d["denied_units"] > 0]
    assert denied and all(d["carc"] and d["rule_id"] and d["reason"] for d in denied)
    assert any(p.suffix == ".835" for p in out.iterdir())


def test_check_against_the_store_is_audited_and_a_bad_line_is_named(population: Path, tmp_path: Path) -> None:
    settings = Settings.from_env({"BHUM_DATA_DIR": str(tmp_path / "data")})
    assert _run(settings, "db", "upgrade")[0] == 0
    assert _run(settings, "db", "load", str(population))[0] == 0

    source = population / "medical_claim.csv"
    broken = tmp_path / "claims.csv"
    with source.open() as handle:
        rows = list(csv.DictReader(handle))
    rows[2]["claim_line_start_date"] = "2026-02-30"
    with broken.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    out = tmp_path / "out"
    code, output = _run(settings, "claims", "check", str(broken), "--out", str(out))
    assert code == 0, output
    flat = " ".join(output.split())
    assert "claims.csv" in flat and "claim_line_start_date" in flat  # the bad line is named
    decided = (out / "decisions.jsonl").read_text().splitlines()
    assert len(decided) == len(rows) - 1  # the rest of the batch is still decided

    with bootstrap(settings).uow_factory() as uow:
        events = uow.audit.list(actor="system:cli")
    assert any(e.reason == "bhum claims check" for e in events)
