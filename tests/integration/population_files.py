"""Tiny population files written by the tests themselves (the generator's layout, a few rows)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq


def population_rows(members: int = 3) -> dict[str, list[dict[str, Any]]]:
    eligibility: list[dict[str, Any]] = []
    residence: list[dict[str, Any]] = []
    for i in range(members):
        base = {
            "person_id": f"PER{i}",
            "member_id": f"M{i}",
            "first_name": f"First{i}",
            "last_name": "Synthetic",
            "sex": "FMU"[i % 3],
            "birth_date": f"19{70 + i % 30}-0{1 + i % 9}-15",
            "death_date": None,
            "race": "unknown",
            "ethnicity": "unknown",
            "address": f"{i} Test Way",
            "city": "Tulsa",
            "state": "OK",
            "zip_code": "07410",
            "phone": None,
            "plan_id": "P1",
            "payer": "Synthetic Payer",
            "plan": "Synthetic Medicaid BH",
            "pcp_npi": "1234567893",
        }
        eligibility.append(
            {**base, "enrollment_start_date": "2025-01-01", "enrollment_end_date": "2025-12-31"}
        )
        eligibility.append({**base, "enrollment_start_date": "2026-01-01", "enrollment_end_date": None})
        residence.append(
            {
                "member_id": f"M{i}",
                "setting": "group_home" if i % 2 else "home",
                "start_date": "2025-01-01",
                "end_date": None,
                "facility_npi": None,
            }
        )
    return {
        "plans": [
            {
                "plan_id": "P1",
                "plan_name": "Synthetic Medicaid BH",
                "payer": "Synthetic Payer",
                "line_of_business": "medicaid",
                "bh_benefit": True,
                "opm_care_management": True,
                "time_zone": "America/Chicago",
            },
            {
                "plan_id": "P2",
                "plan_name": "Synthetic Commercial",
                "payer": "Synthetic Payer",
                "line_of_business": "commercial",
                "bh_benefit": True,
                "opm_care_management": False,
                "time_zone": "America/New_York",
            },
        ],
        "eligibility": eligibility,
        "member_residence": residence,
        "organizations": [
            {
                "organization_id": "O1",
                "name": "Riverside CMHC",
                "npi": "1234567893",
                "tax_id": "12-3456789",
                "contract_type": "111",
                "state": "OK",
            },
            {
                "organization_id": "O2",
                "name": "Prairie PACT",
                "npi": "1987654321",
                "tax_id": None,
                "contract_type": "114",
                "state": "OK",
            },
        ],
        "providers": [
            {
                "npi": "1234567893",
                "name": "Riverside CMHC",
                "entity_type": "organization",
                "organization_id": "O1",
                "taxonomy_code": "261QM0801X",
                "specialty": "Mental Health Clinic",
                "is_pcp": False,
            },
            {
                "npi": "1003000126",
                "name": "Dr Synthetic",
                "entity_type": "individual",
                "organization_id": "O1",
                "taxonomy_code": "2084P0800X",
                "specialty": "Psychiatry",
                "is_pcp": False,
            },
        ],
        "staff": [
            {
                "staff_id": "S1",
                "npi": "1003000126",
                "organization_id": "O1",
                "first_name": "Rae",
                "last_name": "Reviewer",
                "credentials": "psychiatrist;physician",
                "licence_number": "LIC-1",
                "hire_date": "2020-01-06",
            },
            {
                "staff_id": "S2",
                "npi": None,
                "organization_id": "O2",
                "first_name": "Cam",
                "last_name": "Manager",
                "credentials": "cm_ii;intensive_cm",
                "licence_number": None,
                "hire_date": None,
            },
        ],
        "testing_preauth_notices": [
            {
                "plan_id": "P1",
                "provider_npi": "1003000126",
                "member_id": None,
                "effective_from": "2026-01-01",
                "effective_to": None,
            }
        ],
    }


def write_population(
    directory: Path, rows: dict[str, list[dict[str, Any]]] | None = None, *, fmt: str = "parquet"
) -> Path:
    """Write each file as Parquet (dates as text columns, as a CSV round trip would) or as CSV."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, records in (rows or population_rows()).items():
        if fmt == "parquet":
            pq.write_table(pa.Table.from_pylist(records), directory / f"{name}.parquet")
        else:
            with (directory / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(records[0]))
                writer.writeheader()
                for record in records:
                    writer.writerow(
                        {
                            k: "" if v is None else str(v).lower() if isinstance(v, bool) else v
                            for k, v in record.items()
                        }
                    )
    return directory
