"""Builders for small claim batches and reference tables (synthetic data only)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from bhum.adapters.claims_engine import BATCH_SCHEMA, DuckDbClaimsEngine
from bhum.domain.claim_edits import ClaimCheckParameters
from bhum.policy import load_packs
from bhum.services.claims import (
    AUTHORIZATIONS_SCHEMA,
    COVERAGE_SCHEMA,
    HISTORY_SCHEMA,
    MEMBERS_SCHEMA,
    PROVIDER_CONTRACTS_SCHEMA,
    RESIDENCE_SCHEMA,
    STAFF_SCHEMA,
    ReferenceTables,
    check_parameters,
)

REPO = Path(__file__).resolve().parents[2]
CMHC_NPI = "1000000001"  # contract 111
OPBH_NPI = "1000000002"  # contract 110
IOP_NPI = "1000000003"  # contract 120


@pytest.fixture(scope="session")
def params() -> ClaimCheckParameters:
    return check_parameters(load_packs(REPO / "packs"))


def claim_line(n: int, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "line_order": n,
        "source": "test.csv",
        "source_line": n + 1,
        "claim_id": f"C{n:04d}",
        "claim_line_number": 1,
        "claim_type": "professional",
        "member_id": "M1",
        "claim_line_start_date": date(2026, 3, 10),
        "claim_line_end_date": date(2026, 3, 10),
        "service_unit_quantity": 1.0,
        "hcpcs_code": "T1017",
        "hcpcs_modifier_1": "HE",
        "hcpcs_modifier_2": "TF",
        "billing_npi": CMHC_NPI,
        "rendering_staff_id": "S2",
        "charge_amount": 20.0,
        "allowed_amount": 15.0,
        "face_to_face_minutes": None,
        "activity_code": "plan_monitoring",
        "service_start_time": f"{n % 24:02d}:00",  # distinct lines are not exact duplicates
    }
    row.update(values)
    if row["hcpcs_code"] == "T1017" and row["face_to_face_minutes"] is None and "no_minutes" not in values:
        row["face_to_face_minutes"] = int(row["service_unit_quantity"] * 15)
    row.pop("no_minutes", None)
    return row


def batch(*rows: dict[str, Any]) -> pa.Table:
    return pa.Table.from_pylist(list(rows), schema=BATCH_SCHEMA)


def reference(
    *,
    birth_date: date = date(2010, 1, 15),
    residence: list[tuple[str, date, date | None]] | None = None,
    authorizations: list[dict[str, Any]] | None = None,
    history: list[dict[str, Any]] | None = None,
    coverage_end: date | None = date(2026, 12, 31),
) -> ReferenceTables:
    return ReferenceTables(
        members=pa.Table.from_pylist([{"member_id": "M1", "birth_date": birth_date}], schema=MEMBERS_SCHEMA),
        coverage=pa.Table.from_pylist(
            [
                {
                    "member_id": "M1",
                    "plan_id": "PLN01",
                    "start_date": date(2026, 1, 1),
                    "end_date": coverage_end,
                    "bh_benefit": True,
                }
            ],
            schema=COVERAGE_SCHEMA,
        ),
        residence=pa.Table.from_pylist(
            [
                {"member_id": "M1", "setting": s, "start_date": a, "end_date": b}
                for s, a, b in (residence or [("home", date(2020, 1, 1), None)])
            ],
            schema=RESIDENCE_SCHEMA,
        ),
        provider_contracts=pa.Table.from_pylist(
            [
                {"npi": CMHC_NPI, "contract_type": "111"},
                {"npi": OPBH_NPI, "contract_type": "110"},
                {"npi": IOP_NPI, "contract_type": "120"},
            ],
            schema=PROVIDER_CONTRACTS_SCHEMA,
        ),
        staff=pa.Table.from_pylist(
            [{"staff_id": "S1", "credentials": "cm_i"}, {"staff_id": "S2", "credentials": "cm_ii"}],
            schema=STAFF_SCHEMA,
        ),
        authorizations=pa.Table.from_pylist(authorizations or [], schema=AUTHORIZATIONS_SCHEMA),
        history=pa.Table.from_pylist(history or [], schema=HISTORY_SCHEMA),
        origin="test",
    )


def decide(params: ClaimCheckParameters, ref: ReferenceTables, *rows: dict[str, Any]) -> list[dict[str, Any]]:
    table = DuckDbClaimsEngine(threads=1).check(batch(*rows), ref, params)
    return sorted(table.to_pylist(), key=lambda r: r["line_order"])


def iop_auth(**values: Any) -> dict[str, Any]:
    row = {
        "authorization_id": "A1",
        "member_id": "M1",
        "provider_npi": IOP_NPI,
        "code_system": "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
        "code": "S9480",
        "start_date": date(2026, 3, 1),
        "end_date": date(2026, 3, 30),
        "units_authorized": 12,
        "units_used": 0,
        "status": "approved",
        "status_since": date(2026, 2, 27),
    }
    row.update(values)
    return row
