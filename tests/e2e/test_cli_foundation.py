"""The foundation issue's "done when", through the commands a user runs: a malformed input file, an
impossible date and a deliberately broken pack each get a clear error naming where it is, and the
store is left exactly as it was."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from bhum.bootstrap import bootstrap
from bhum.config import Settings
from bhum.entrypoints.cli import app

PACKS = Path(__file__).resolve().parents[2] / "packs"
TABLES = ("members", "coverage_spans", "plans", "organizations", "providers", "staff", "audit_events")


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("population")
    result = CliRunner().invoke(
        app, ["synth", "--members", "300", "--seed", "11", "--out", str(out), "--csv"], obj=None
    )
    assert result.exit_code == 0, result.output
    return out


def _settings(tmp: Path, packs: Path = PACKS) -> Settings:
    env = {
        "BHUM_DATA_DIR": str(tmp / "data"),
        "BHUM_PACKS_DIR": str(packs),
    }
    return Settings.from_env(env)


def _invoke(settings: Settings, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), obj=bootstrap(settings))
    return result.exit_code, result.output


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        names = {row[0] for row in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))}
        counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in names}
    engine.dispose()
    return counts


def _rewrite(src: Path, dst: Path, name: str, row: int, field: str, value: str | None) -> None:
    """Copy a population, changing one field of one row (value None drops the column)."""
    shutil.copytree(src, dst)
    path = dst / f"{name}.csv"
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    fields = list(rows[0])
    if value is None:
        fields.remove(field)
        for r in rows:
            del r[field]
    else:
        rows[row - 1][field] = value
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def test_load_then_reload_is_idempotent(population: Path, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert _invoke(settings, "db", "upgrade")[0] == 0
    code, output = _invoke(settings, "db", "load", str(population))
    assert code == 0, output
    first = _counts(settings.database_url)
    assert first["members"] == 300
    code, output = _invoke(settings, "db", "load", str(population))
    assert code == 0, output
    assert _counts(settings.database_url) == first


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("birth_date", "2026-02-30", "birth_date"),  # an impossible date
        ("sex", "Q", "sex"),  # an unknown code
        ("member_id", None, "member_id"),  # a missing column
    ],
)
def test_bad_input_is_refused_and_the_store_is_unchanged(
    population: Path, tmp_path: Path, field: str, value: str | None, expected: str
) -> None:
    settings = _settings(tmp_path)
    assert _invoke(settings, "db", "upgrade")[0] == 0
    assert _invoke(settings, "db", "load", str(population))[0] == 0
    before = _counts(settings.database_url)

    broken = tmp_path / "broken"
    _rewrite(population, broken, "eligibility", 5, field, value)
    code, output = _invoke(settings, "db", "load", str(broken))

    assert code == 1
    flat = " ".join(output.split())
    assert "eligibility" in flat, flat
    assert expected in flat, flat
    if value is not None:
        assert "5" in flat  # the row is named
    assert _counts(settings.database_url) == before


def test_a_broken_pack_is_refused_naming_file_rule_and_field(tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    shutil.copytree(PACKS, packs)
    rule_file = next((packs / "iop" / "2026.1" / "rules").glob("per-diem.yaml"))
    text_before = rule_file.read_text()
    broken = text_before.replace("value: 3,", 'value: "three",', 1)
    assert broken != text_before, "the fixture must actually break the pack"
    rule_file.write_text(broken)

    code, output = _invoke(_settings(tmp_path, packs), "packs", "validate")
    flat = " ".join(output.split())
    assert code == 1
    assert "per-diem.yaml" in flat
    assert "iop." in flat  # the rule id
    assert "value" in flat  # the field
