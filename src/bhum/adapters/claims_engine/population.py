"""Reference data from a population directory (the files ``bhum synth`` writes), for checks without a
server: members and birth dates, coverage spans with the plan's BH-benefit flag, residence spans,
billing NPIs with their organization's contract type, staff credentials and testing notices.

A population directory holds no authorizations; ``authorizations.(parquet|csv)`` in the same directory
(columns of ``bhum.services.claims.AUTHORIZATIONS_SCHEMA``) is read when present, and a history of paid
units (``paid_history.(parquet|csv)``, ``HISTORY_SCHEMA``) likewise.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from bhum.domain.errors import InputError
from bhum.services.claims import (
    AUTHORIZATIONS_SCHEMA,
    COVERAGE_SCHEMA,
    HISTORY_SCHEMA,
    MEMBERS_SCHEMA,
    NOTICES_SCHEMA,
    PROVIDER_CONTRACTS_SCHEMA,
    RESIDENCE_SCHEMA,
    STAFF_SCHEMA,
    ReferenceTables,
)


def _file(directory: Path, name: str) -> Path | None:
    for suffix in (".parquet", ".csv"):
        path = directory / f"{name}{suffix}"
        if path.is_file():
            return path
    return None


def _scan(path: Path) -> str:
    text = str(path).replace("'", "''")
    if path.suffix == ".parquet":
        return f"read_parquet('{text}')"
    return f"read_csv('{text}', header = true, all_varchar = true)"


def _query(con: duckdb.DuckDBPyConnection, sql: str, schema: pa.Schema, source: Path) -> pa.Table:
    try:
        return con.sql(sql).fetch_arrow_table().cast(schema)
    except (duckdb.Error, pa.ArrowInvalid) as exc:
        raise InputError(f"cannot read reference data: {exc}", source=str(source)) from exc


def population_reference(directory: Path) -> ReferenceTables:
    """The reference tables from ``directory``; raises InputError naming a missing or unreadable file."""
    if not directory.is_dir():
        raise InputError("no such population directory", source=str(directory))
    required = {}
    for name in ("eligibility", "plans", "providers", "organizations", "staff"):
        path = _file(directory, name)
        if path is None:
            raise InputError(f"the population has no {name} file", source=str(directory), field=name)
        required[name] = path
    con = duckdb.connect()
    try:
        elig, plans = _scan(required["eligibility"]), _scan(required["plans"])
        members = _query(
            con,
            f"SELECT member_id, min(birth_date::DATE) AS birth_date FROM {elig} GROUP BY member_id",
            MEMBERS_SCHEMA,
            required["eligibility"],
        )
        coverage = _query(
            con,
            f"""SELECT e.member_id, e.plan_id, e.enrollment_start_date::DATE AS start_date,
                       e.enrollment_end_date::DATE AS end_date, p.bh_benefit::BOOLEAN AS bh_benefit
                FROM {elig} e LEFT JOIN {plans} p ON p.plan_id = e.plan_id""",
            COVERAGE_SCHEMA,
            required["eligibility"],
        )
        residence_path = _file(directory, "member_residence")
        residence = (
            _query(
                con,
                f"SELECT member_id, setting, start_date::DATE AS start_date, end_date::DATE AS end_date "
                f"FROM {_scan(residence_path)}",
                RESIDENCE_SCHEMA,
                residence_path,
            )
            if residence_path
            else RESIDENCE_SCHEMA.empty_table()
        )
        contracts = _query(
            con,
            f"""SELECT p.npi, o.contract_type::VARCHAR AS contract_type
                FROM {_scan(required["providers"])} p
                JOIN {_scan(required["organizations"])} o ON o.organization_id = p.organization_id
                UNION
                SELECT o.npi, o.contract_type::VARCHAR FROM {_scan(required["organizations"])} o""",
            PROVIDER_CONTRACTS_SCHEMA,
            required["providers"],
        )
        staff = _query(
            con,
            f"SELECT staff_id, credentials FROM {_scan(required['staff'])}",
            STAFF_SCHEMA,
            required["staff"],
        )
        notices_path = _file(directory, "testing_preauth_notices")
        notices = (
            _query(
                con,
                f"""SELECT plan_id, provider_npi, member_id, effective_from::DATE AS effective_from,
                           effective_to::DATE AS effective_to FROM {_scan(notices_path)}""",
                NOTICES_SCHEMA,
                notices_path,
            )
            if notices_path
            else NOTICES_SCHEMA.empty_table()
        )
        auth_path = _file(directory, "authorizations")
        authorizations = (
            _query(con, f"SELECT * FROM {_scan(auth_path)}", AUTHORIZATIONS_SCHEMA, auth_path)
            if auth_path
            else AUTHORIZATIONS_SCHEMA.empty_table()
        )
        history_path = _file(directory, "paid_history")
        history = (
            _query(con, f"SELECT * FROM {_scan(history_path)}", HISTORY_SCHEMA, history_path)
            if history_path
            else HISTORY_SCHEMA.empty_table()
        )
    finally:
        con.close()
    return ReferenceTables(
        members=members,
        coverage=coverage,
        residence=residence,
        provider_contracts=contracts,
        staff=staff,
        authorizations=authorizations,
        notices=notices,
        history=history,
        origin=f"population:{directory}",
    )
