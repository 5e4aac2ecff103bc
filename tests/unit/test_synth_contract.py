"""The population file contract: determinism (same seed, same bytes; blocks seeded independently),
schemas, CSV output, the validator's refusals and the `bhum synth` command."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from bhum.adapters.synth import TABLES, generate_population, validate_population
from bhum.adapters.synth.schema import render_markdown
from bhum.adapters.synth.validate import PopulationInvalid, require_valid_population
from bhum.domain.errors import InputError
from bhum.entrypoints.cli import app

DOCS = Path(__file__).resolve().parents[2] / "docs" / "claims-input-schema.md"


def _digests(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    for run in ("a", "b"):
        generate_population(tmp_path / run, members=1200, seed=5, block_members=500)
    first, second = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert len(first) == len(TABLES) + 1  # every table and the manifest
    assert first == second


def test_another_seed_gives_other_claims(tmp_path: Path) -> None:
    generate_population(tmp_path / "a", members=300, seed=5)
    generate_population(tmp_path / "b", members=300, seed=6)
    assert (
        _digests(tmp_path / "a")["medical_claim.parquet"] != _digests(tmp_path / "b")["medical_claim.parquet"]
    )


def test_blocks_are_seeded_by_seed_and_block_index_not_by_what_came_before(tmp_path: Path) -> None:
    generate_population(tmp_path / "small", members=1000, seed=9, block_members=500)
    generate_population(tmp_path / "large", members=1500, seed=9, block_members=500)
    small = pq.read_table(tmp_path / "small" / "medical_claim.parquet")
    large = pq.read_table(tmp_path / "large" / "medical_claim.parquet")
    prefix = large.slice(0, small.num_rows)
    assert prefix.equals(small)
    assert large.num_rows > small.num_rows
    small_rx = pq.read_table(tmp_path / "small" / "pharmacy_claim.parquet")
    assert (
        pq.read_table(tmp_path / "large" / "pharmacy_claim.parquet")
        .slice(0, small_rx.num_rows)
        .equals(small_rx)
    )


def test_files_follow_the_contract_schemas_and_validate(tmp_path: Path) -> None:
    summary = generate_population(tmp_path, members=400, seed=2)
    for table in TABLES:
        written = pq.read_schema(tmp_path / f"{table.name}.parquet")
        assert written.remove_metadata().equals(table.arrow_schema), table.name
        assert (
            summary.rows[table.name] == pq.ParquetFile(tmp_path / f"{table.name}.parquet").metadata.num_rows
        )
    assert summary.claim_lines > 400 * 8 and summary.fills > 400
    assert validate_population(tmp_path) == []


def test_csv_output_has_the_same_rows_and_validates(tmp_path: Path) -> None:
    parquet = generate_population(tmp_path / "p", members=300, seed=4)
    csv = generate_population(tmp_path / "c", members=300, seed=4, csv=True)
    assert parquet.rows == csv.rows
    header = (tmp_path / "c" / "medical_claim.csv").read_text().splitlines()[0]
    assert header.startswith('"claim_id","claim_line_number","claim_type"')
    assert validate_population(tmp_path / "c") == []


def test_bad_arguments_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        generate_population(tmp_path, members=0, seed=1)
    assert caught.value.field == "members"


# ---------------------------------------------------------------- validator refusals


@pytest.fixture(scope="module")
def csv_population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("csvpop")
    generate_population(out, members=150, seed=11, csv=True)
    return out


def _tamper(src: Path, dst: Path, table: str, change: str) -> None:
    """Copy the CSV population and apply one change to one file."""
    dst.mkdir()
    for path in src.iterdir():
        (dst / path.name).write_bytes(path.read_bytes())
    path = dst / f"{table}.csv"
    data = pa_csv.read_csv(
        path, convert_options=pa_csv.ConvertOptions(column_types={}, strings_can_be_null=True)
    ).to_pandas()
    data = data.astype(object)
    if change == "impossible_date":
        data.loc[2, "birth_date"] = "2026-02-30"
    elif change == "unknown_code":
        data.loc[4, "hcpcs_code"] = "99999"
    elif change == "missing_column":
        data = data.drop(columns=["setting"])
    elif change == "null_required":
        data.loc[0, "member_id"] = None
    elif change == "ends_before_start":
        data.loc[1, "enrollment_end_date"] = "1999-01-01"
    elif change == "bad_time":
        data.loc[3, "service_start_time"] = "25:61"
    elif change == "bad_bool":
        data.loc[0, "bh_benefit"] = "maybe"
    elif change == "bad_integer":
        data.loc[5, "service_unit_quantity"] = "two"
    elif change == "unknown_ndc":
        data.loc[0, "ndc_code"] = "12345678901"
    data.to_csv(path, index=False)


@pytest.mark.parametrize(
    ("table", "change", "field", "row"),
    [
        ("eligibility", "impossible_date", "birth_date", 3),
        ("medical_claim", "unknown_code", "hcpcs_code", 5),
        ("member_residence", "missing_column", "setting", None),
        ("pharmacy_claim", "null_required", "member_id", 1),
        ("eligibility", "ends_before_start", "enrollment_end_date", 2),
        ("medical_claim", "bad_time", "service_start_time", 4),
        ("plans", "bad_bool", "bh_benefit", 1),
        ("medical_claim", "bad_integer", "service_unit_quantity", 6),
        ("pharmacy_claim", "unknown_ndc", "ndc_code", 1),
    ],
)
def test_validator_names_file_row_and_field(
    csv_population: Path, tmp_path: Path, table: str, change: str, field: str, row: int | None
) -> None:
    bad = tmp_path / "bad"
    _tamper(csv_population, bad, table, change)
    errors = validate_population(bad)
    assert errors, change
    match = [e for e in errors if e.field == field]
    assert match, [str(e) for e in errors]
    assert match[0].source is not None and match[0].source.endswith(f"{table}.csv")
    assert match[0].record == row
    with pytest.raises(PopulationInvalid) as caught:
        require_valid_population(bad)
    assert [str(e) for e in caught.value.errors] == [str(e) for e in errors]


def test_missing_file_is_reported(csv_population: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    _tamper(csv_population, bad, "plans", "none")
    (bad / "plans.csv").unlink()
    errors = validate_population(bad)
    assert len(errors) == 1 and "missing file plans" in str(errors[0])


def test_wrong_parquet_type_is_reported(tmp_path: Path) -> None:
    generate_population(tmp_path, members=50, seed=1)
    plans = pq.read_table(tmp_path / "plans.parquet")
    broken = plans.set_column(4, "bh_benefit", pa.array(["x"] * plans.num_rows))
    pq.write_table(broken, tmp_path / "plans.parquet")
    errors = validate_population(tmp_path)
    assert {e.field for e in errors} == {"bh_benefit"}


# ---------------------------------------------------------------- command and docs


def test_bhum_synth_command_writes_files_and_prints_summary(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["synth", "--members", "120", "--seed", "3", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "claim lines" in result.output and "fills" in result.output and "members 120" in result.output
    assert (tmp_path / "medical_claim.parquet").is_file()
    csv = CliRunner().invoke(
        app, ["synth", "--members", "60", "--out", str(tmp_path / "c"), "--csv", "--year", "2025"]
    )
    assert csv.exit_code == 0, csv.output
    assert "2025-" in (tmp_path / "c" / "medical_claim.csv").read_text()[:2000]


def test_bhum_synth_refuses_zero_members(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["synth", "--members", "0", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "members" in result.output


def test_schema_document_lists_every_column() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert render_markdown() in text  # the generated tables are pasted verbatim
    for table in TABLES:
        for column in table.columns:
            assert f"`{column.name}`" in text, (table.name, column.name)
