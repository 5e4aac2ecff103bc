"""Tiny hand-written claims for the analytics tests, and one shared local Spark session."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bhum.analytics.catalog import Catalog, load_catalog
from bhum.analytics.runner import run_catalog
from bhum.analytics.schema import CONTRACTS, Kind
from bhum.analytics.source import ClaimsSource

AS_OF = date(2026, 6, 30)
_ARROW = {
    Kind.STRING: pa.string(),
    Kind.DATE: pa.date32(),
    Kind.INTEGER: pa.int64(),
    Kind.NUMBER: pa.float64(),
}
_ids = itertools.count(1)


def d(text: str) -> date:
    return date.fromisoformat(text)


def plus(day: str, days: int) -> date:
    return d(day) + timedelta(days=days)


def line(
    member: str, day: date | str, hcpcs: str | None = None, dx: str = "F32.1", **extra: Any
) -> dict[str, Any]:
    day = d(day) if isinstance(day, str) else day
    return {
        "claim_id": extra.pop("claim_id", f"C{next(_ids)}"),
        "claim_line_number": 1,
        "claim_type": "professional",
        "member_id": member,
        "claim_line_start_date": day,
        "hcpcs_code": hcpcs,
        "diagnosis_code_1": dx,
        "service_unit_quantity": 1.0,
        **extra,
    }


def stay(
    member: str, admit: str, discharge: date | str, dx: str = "F20.9", rev: str = "0114", **extra: Any
) -> dict[str, Any]:
    discharge = d(discharge) if isinstance(discharge, str) else discharge
    return line(
        member,
        admit,
        None,
        dx,
        claim_type="institutional",
        bill_type_code="0111",
        revenue_center_code=rev,
        admission_date=d(admit),
        discharge_date=discharge,
        **extra,
    )


def ed(member: str, day: date | str, dx: str = "F32.1") -> dict[str, Any]:
    return line(
        member,
        day,
        "99284",
        dx,
        claim_type="institutional",
        revenue_center_code="0450",
        place_of_service_code="23",
    )


def fill(
    member: str,
    day: date | str,
    drug_class: str,
    supply: int,
    prescriber: str = "1000000001",
    pharmacy: str = "1900000001",
) -> dict[str, Any]:
    return {
        "claim_id": f"R{next(_ids)}",
        "claim_line_number": 1,
        "member_id": member,
        "prescribing_provider_npi": prescriber,
        "dispensing_provider_npi": pharmacy,
        "dispensing_date": d(day) if isinstance(day, str) else day,
        "ndc_code": "00002123401",
        "drug_class": drug_class,
        "days_supply": supply,
    }


def person(member: str, birth: str = "1980-01-01") -> dict[str, Any]:
    return {
        "member_id": member,
        "birth_date": d(birth),
        "plan_id": "P1",
        "enrollment_start_date": d("2024-01-01"),
    }


def _table(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    contract = CONTRACTS[name]
    schema = pa.schema([(c.name, _ARROW[c.kind]) for c in contract.columns])
    return pa.Table.from_pylist([{c: r.get(c) for c in schema.names} for r in rows], schema=schema)


def make_source(
    folder: Path,
    medical: list[dict[str, Any]] = (),  # type: ignore[assignment]
    pharmacy: list[dict[str, Any]] = (),  # type: ignore[assignment]
    people: list[dict[str, Any]] | None = None,
    residence: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> ClaimsSource:
    members = {r["member_id"] for r in [*medical, *pharmacy]}
    people = people if people is not None else [person(m) for m in sorted(members)]
    for name, rows in (
        ("medical_claim", medical),
        ("pharmacy_claim", pharmacy),
        ("eligibility", people),
        ("member_residence", residence),
    ):
        pq.write_table(_table(name, list(rows)), folder / f"{name}.parquet")
    return ClaimsSource.from_files(folder)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


def flags(source: ClaimsSource, catalog: Catalog, rule_id: str, as_of: date = AS_OF) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = run_catalog(source, catalog, as_of, rule_ids=[rule_id]).to_pylist()
    return rows


def flagged(source: ClaimsSource, catalog: Catalog, rule_id: str, as_of: date = AS_OF) -> set[str]:
    return {f["member_id"] for f in flags(source, catalog, rule_id, as_of)}


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    """One small local Spark for the whole test session (it takes seconds to start)."""
    from tests.conftest import require

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        from pyspark.sql import SparkSession

        session = (
            SparkSession.builder.master("local[2]")
            .appName("bhum-analytics-tests")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.memory", "1g")
            .getOrCreate()
        )
    except Exception as exc:  # no Java, no pyspark, or the JVM would not start
        require(False, f"a local Spark session could not start: {exc}")
        raise
    yield session
    session.stop()
