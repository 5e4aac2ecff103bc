"""Bad input is reported with file, row and field before any rule runs (issue 4 'done when')."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bhum.adapters.synth import generate_population
from bhum.analytics.catalog import load_catalog
from bhum.analytics.runner import run_catalog
from bhum.analytics.source import ClaimsSource
from bhum.domain.errors import InputError


def _population(folder: Path, members: int, seed: int, *, csv: bool = False) -> Path:
    """The product generator's files (bhum synth), the same contract real extracts follow."""
    generate_population(folder, members=members, seed=seed, csv=csv)
    return folder


MEDICAL_HEADER = (
    "claim_id,claim_line_number,claim_type,member_id,claim_line_start_date,hcpcs_code,diagnosis_code_1"
)


def _csv_population(folder: Path, medical_rows: list[str]) -> Path:
    _population(folder, 5, 2, csv=True)
    (folder / "medical_claim.csv").write_text("\n".join([MEDICAL_HEADER, *medical_rows]) + "\n")
    return folder


GOOD = "C1,1,professional,M00000001,2026-05-01,90834,F32.1"


@pytest.mark.parametrize(
    ("bad_row", "field", "words"),
    [
        ("C2,1,professional,M00000001,2026-02-30,90834,F32.1", "claim_line_start_date", "not a valid date"),
        ("C2,1,professional,M00000001,05/01/2026,90834,F32.1", "claim_line_start_date", "not a valid date"),
        ("C2,1,professional,M00000001,2026-05-01,9O834,F32.1", "hcpcs_code", "unknown HCPCS/CPT code"),
        ("C2,1,professional,M00000001,2026-05-01,90834,32.1", "diagnosis_code_1", "unknown ICD-10-CM code"),
        ("C2,1,dental,M00000001,2026-05-01,90834,F32.1", "claim_type", "unknown claim type"),
        ("C2,1,professional,,2026-05-01,90834,F32.1", "member_id", "required"),
        ("C2,one,professional,M00000001,2026-05-01,90834,F32.1", "claim_line_number", "not a valid integer"),
    ],
)
def test_bad_csv_row_names_file_row_and_field(tmp_path: Path, bad_row: str, field: str, words: str) -> None:
    folder = _csv_population(tmp_path, [GOOD, GOOD.replace("C1", "C3"), bad_row])
    with pytest.raises(InputError) as caught:
        ClaimsSource.from_files(folder)
    error = caught.value
    assert error.source is not None and error.source.endswith("medical_claim.csv")
    assert error.record == 4  # header is line 1, the bad row is the third data row
    assert error.field == field
    assert words in error.message


def test_first_bad_row_is_reported(tmp_path: Path) -> None:
    folder = _csv_population(
        tmp_path,
        [GOOD, "C2,1,professional,M1,2026-13-01,90834,F32.1", "C3,1,professional,M1,2026-05-01,XX,F32.1"],
    )
    with pytest.raises(InputError) as caught:
        ClaimsSource.from_files(folder)
    assert (caught.value.record, caught.value.field) == (3, "claim_line_start_date")


def test_unknown_drug_class_in_parquet_names_the_row(tmp_path: Path) -> None:
    _population(tmp_path, 20, 4)
    rx = pq.read_table(tmp_path / "pharmacy_claim.parquet")
    classes = rx["drug_class"].to_pylist()
    classes[7] = "vitamin"
    rx = rx.set_column(rx.schema.get_field_index("drug_class"), "drug_class", pa.array(classes))
    pq.write_table(rx, tmp_path / "pharmacy_claim.parquet")
    with pytest.raises(InputError) as caught:
        ClaimsSource.from_files(tmp_path)
    assert caught.value.source is not None and caught.value.source.endswith("pharmacy_claim.parquet")
    assert (caught.value.record, caught.value.field) == (8, "drug_class")
    assert "vitamin" in caught.value.message


def test_missing_required_column_and_table(tmp_path: Path) -> None:
    _population(tmp_path, 5, 5)
    rx = pq.read_table(tmp_path / "pharmacy_claim.parquet")
    pq.write_table(rx.drop(["days_supply"]), tmp_path / "pharmacy_claim.parquet")
    with pytest.raises(InputError) as caught:
        ClaimsSource.from_files(tmp_path)
    assert caught.value.field == "days_supply"
    (tmp_path / "pharmacy_claim.parquet").unlink()
    with pytest.raises(InputError) as missing:
        ClaimsSource.from_files(tmp_path)
    assert missing.value.field == "pharmacy_claim"


def test_clean_csv_and_parquet_read_the_same(tmp_path: Path) -> None:
    _population(tmp_path / "pq", 30, 6)
    _population(tmp_path / "csv", 30, 6, csv=True)
    a = (
        ClaimsSource.from_files(tmp_path / "pq")
        .table("medical_claim")
        .order_by(["claim_id", "claim_line_number"])
        .to_pyarrow()
    )
    b = (
        ClaimsSource.from_files(tmp_path / "csv")
        .table("medical_claim")
        .order_by(["claim_id", "claim_line_number"])
        .to_pyarrow()
    )
    assert a.equals(b)


@pytest.mark.parametrize(
    ("column", "bad", "words"),
    [
        ("hcpcs_code", "9O834", "unknown HCPCS/CPT code"),
        ("diagnosis_code_1", "F32 .1", "unknown ICD-10-CM code"),
        ("member_id", "   ", "a value is required"),
        ("member_id", "", "a value is required"),
    ],
)
def test_typed_parquet_bad_value_names_the_row(tmp_path: Path, column: str, bad: str, words: str) -> None:
    """Typed Parquet is screened on distinct codes and blank counts; a hit still names the row."""
    _population(tmp_path, 20, 3)
    medical = pq.read_table(tmp_path / "medical_claim.parquet")
    values = medical[column].to_pylist()
    values[41] = bad
    medical = medical.set_column(medical.schema.get_field_index(column), column, pa.array(values))
    pq.write_table(medical, tmp_path / "medical_claim.parquet")
    with pytest.raises(InputError) as caught:
        ClaimsSource.from_files(tmp_path)
    assert caught.value.source is not None and caught.value.source.endswith("medical_claim.parquet")
    assert (caught.value.record, caught.value.field) == (42, column)
    assert words in caught.value.message


def test_tables_in_a_duckdb_database_file_read_like_the_files(tmp_path: Path) -> None:
    """ClaimsSource.from_duckdb reads the contract tables from a DuckDB database file (read-only) and
    the rules give the same flags as from the Parquet files (OPM-03); a missing required table is
    reported by name."""
    import duckdb

    from tests.analytics.conftest import AS_OF, fill, make_source

    rx = [fill("M1", f"2026-0{m}-01", "antidepressant", 30, prescriber=f"100000000{m}") for m in (3, 4, 5, 6)]
    files = make_source(tmp_path, pharmacy=rx)
    database = tmp_path / "claims.duckdb"
    with duckdb.connect(str(database)) as con:
        for name in ("medical_claim", "pharmacy_claim", "eligibility", "member_residence"):
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet('{tmp_path / name}.parquet')")
    catalog = load_catalog()
    from_db = run_catalog(ClaimsSource.from_duckdb(database), catalog, AS_OF, rule_ids=["CI-RX-PRESCRIBERS"])
    from_files = run_catalog(files, catalog, AS_OF, rule_ids=["CI-RX-PRESCRIBERS"])
    assert [r["member_id"] for r in from_db.to_pylist()] == ["M1"]
    assert from_db.to_pylist() == from_files.to_pylist()
    with pytest.raises(InputError) as error:
        ClaimsSource.from_duckdb(database, names={"pharmacy_claim": "no_such_table"})
    assert error.value.field == "pharmacy_claim"
