"""Loading the population files into the store: one transaction, validated first, idempotent."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bhum.adapters.store import SqlStore
from bhum.domain.errors import InputError
from bhum.domain.members import ResidenceSetting
from bhum.domain.providers import ContractType, Credential
from bhum.domain.values import NUCC_TAXONOMY
from bhum.services.population import load_population
from tests.integration.population_files import population_rows, write_population


def _counts(store: SqlStore) -> dict[str, int]:
    with store.unit_of_work() as uow:
        return {
            "plans": uow.plans.count(),
            "members": uow.members.count(),
            "coverage": uow.coverage.count(),
            "residences": uow.residence.count(),
            "organizations": uow.organizations.count(),
            "providers": uow.providers.count(),
            "staff": uow.staff.count(),
            "testing_notices": uow.testing_notices.count(),
        }


EXPECTED = {
    "plans": 2,
    "members": 3,
    "coverage": 6,
    "residences": 3,
    "organizations": 2,
    "providers": 2,
    "staff": 2,
    "testing_notices": 1,
}


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_load_population_and_reload_leaves_the_same_counts(store: SqlStore, tmp_path: Path, fmt: str) -> None:
    directory = write_population(tmp_path / "pop", fmt=fmt)
    seen: list[tuple[str, int, int]] = []
    assert load_population(directory, store.unit_of_work, progress=lambda *a: seen.append(a)) == EXPECTED
    assert _counts(store) == EXPECTED
    assert ("members", 3, 3) in seen
    assert load_population(directory, store.unit_of_work) == EXPECTED
    assert _counts(store) == EXPECTED  # upsert by natural key: no duplicates


def test_loaded_values_are_typed_domain_values(store: SqlStore, tmp_path: Path) -> None:
    load_population(write_population(tmp_path / "pop", fmt="csv"), store.unit_of_work)
    with store.unit_of_work() as uow:
        member = uow.members.get("M1")
        assert member is not None
        assert member.address.zip_code == "07410"  # CSV text keeps leading zeros
        assert member.residence_on(date(2026, 5, 1)) is not None
        residence = member.residence_on(date(2026, 5, 1))
        assert residence is not None and residence.setting is ResidenceSetting.GROUP_HOME
        coverage = member.coverage_on(date(2026, 5, 1))
        assert coverage is not None and coverage.span.end is None
        assert member.coverage_on(date(2024, 12, 31)) is None
        org = uow.organizations.get("O2")
        assert org is not None and org.contract_type is ContractType.PACT
        staff = uow.staff.get("S1")
        assert staff is not None and staff.credentials == {Credential.PSYCHIATRIST, Credential.PHYSICIAN}
        assert staff.is_physician_reviewer
        provider = uow.providers.get("1003000126")
        assert provider is not None and provider.taxonomy is not None
        assert provider.taxonomy.system == NUCC_TAXONOMY and provider.taxonomy.code == "2084P0800X"
        plan = uow.plans.get("P2")
        assert plan is not None and plan.in_outpatient_management is False  # OPM-08


def test_reload_updates_changed_rows_in_place(store: SqlStore, tmp_path: Path) -> None:
    rows = population_rows()
    load_population(write_population(tmp_path / "a", rows), store.unit_of_work)
    rows["organizations"][0]["name"] = "Riverside CMHC (renamed)"
    load_population(write_population(tmp_path / "b", rows), store.unit_of_work)
    with store.unit_of_work() as uow:
        org = uow.organizations.get("O1")
        assert org is not None and org.name == "Riverside CMHC (renamed)"
    assert _counts(store) == EXPECTED


# (what is wrong, file, 0-based data row, field, bad value); the error names the 1-based row.
MALFORMED = [
    ("impossible date", "eligibility", 3, "birth_date", "2026-02-30"),
    ("impossible end date", "member_residence", 2, "end_date", "2026-13-01"),
    ("unknown residence setting", "member_residence", 1, "setting", "castle"),
    ("unknown contract type", "organizations", 1, "contract_type", "999"),
    ("unknown credential", "staff", 1, "credentials", "cm_ii;wizard"),
    ("missing required value", "plans", 0, "payer", None),
    ("bad NPI", "providers", 1, "npi", "12345"),
    ("unknown plan", "eligibility", 0, "plan_id", "P9"),
    ("span ends before it starts", "eligibility", 0, "enrollment_end_date", "2024-01-01"),
    ("unknown organization", "staff", 0, "organization_id", "O9"),
    ("not an IANA zone", "plans", 1, "time_zone", "Mars/Olympus"),
    ("unknown sex", "eligibility", 0, "sex", "X"),
    ("not a boolean", "plans", 0, "bh_benefit", "maybe"),
]


@pytest.mark.parametrize(
    ("file", "index", "field", "value"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_malformed_file_names_file_row_field_and_writes_nothing(
    store: SqlStore, tmp_path: Path, file: str, index: int, field: str, value: object
) -> None:
    load_population(write_population(tmp_path / "good"), store.unit_of_work)
    before = _counts(store)
    rows = population_rows(members=5)  # more members than loaded: any half-write would show
    rows[file][index][field] = value
    bad = write_population(tmp_path / "bad", rows, fmt="csv")
    with pytest.raises(InputError) as caught:
        load_population(bad, store.unit_of_work)
    assert caught.value.source == f"{file}.csv"
    assert caught.value.record == index + 1
    assert caught.value.field == field
    assert file in str(caught.value) and field in str(caught.value)
    assert _counts(store) == before


def test_a_member_whose_rows_disagree_on_birth_date_is_refused(store: SqlStore, tmp_path: Path) -> None:
    rows = population_rows()
    rows["eligibility"][1]["birth_date"] = "1999-12-31"  # second coverage row of M0
    with pytest.raises(InputError) as caught:
        load_population(write_population(tmp_path / "pop", rows), store.unit_of_work)
    assert (caught.value.source, caught.value.record, caught.value.field) == (
        "eligibility.parquet",
        2,
        "birth_date",
    )
    assert set(_counts(store).values()) == {0}


def test_missing_column_is_named_and_nothing_is_written(store: SqlStore, tmp_path: Path) -> None:
    directory = write_population(tmp_path / "pop")
    table = pq.read_table(directory / "eligibility.parquet").drop_columns(["birth_date"])
    pq.write_table(table, directory / "eligibility.parquet")
    with pytest.raises(InputError) as caught:
        load_population(directory, store.unit_of_work)
    assert (caught.value.source, caught.value.record, caught.value.field) == (
        "eligibility.parquet",
        "header",
        "birth_date",
    )
    assert set(_counts(store).values()) == {0}


def test_missing_required_file_is_named(store: SqlStore, tmp_path: Path) -> None:
    directory = write_population(tmp_path / "pop")
    (directory / "staff.parquet").unlink()
    with pytest.raises(InputError, match="staff"):
        load_population(directory, store.unit_of_work)
    assert set(_counts(store).values()) == {0}


def test_parquet_with_native_dates_and_booleans_loads(store: SqlStore, tmp_path: Path) -> None:
    """The generator may write real date32 / bool columns rather than ISO text."""
    directory = write_population(tmp_path / "pop")
    table = pq.read_table(directory / "eligibility.parquet")
    for name in ("birth_date", "enrollment_start_date"):
        index = table.column_names.index(name)
        table = table.set_column(
            index, name, pa.compute.cast(pa.compute.strptime(table[name], "%Y-%m-%d", "s"), pa.date32())
        )
    pq.write_table(table, directory / "eligibility.parquet")
    assert load_population(directory, store.unit_of_work)["members"] == 3
    with store.unit_of_work() as uow:
        member = uow.members.get("M0")
        assert member is not None and member.birth_date == date(1970, 1, 15)
