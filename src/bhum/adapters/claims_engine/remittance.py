# ruff: noqa: E501  (SQL text reads better unwrapped)
"""Decisions out: JSON lines, CSV and an X12 835 (through ``bhum.adapters.x12.write_835``).

Amounts on the 835 balance exactly in cents: per line, ``charge - CO-45 (charge above allowed) - CO-<CARC>
(the allowed amount of the denied units) = paid``. Rejected lines (unreadable) go to ``rejected.csv`` and
``rejected.jsonl`` with the file, line and field.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from bhum.adapters.x12 import DECISION_SCHEMA, Envelope, Payee, Payer, PaymentRun, Remittance, write_835
from bhum.services.claims import RejectedLine

CONTRACTUAL_CARC = "45"  # charge exceeds the fee schedule / allowed amount (standard X12 CARC)

_FLAT_COLUMNS = (
    "line_order", "source", "source_line", "claim_id", "claim_line_number", "member_id", "billing_npi",
    "rendering_npi", "service_date", "service_end_date", "hcpcs_code", "hcpcs_modifier_1", "hcpcs_modifier_2",
    "hcpcs_modifier_3", "hcpcs_modifier_4", "revenue_center_code", "billed_units", "paid_units",
    "denied_units", "charge_amount", "allowed_amount", "paid_amount", "status", "carc", "rarc", "rule_id",
    "edit", "reason", "authorization_id",
)  # fmt: skip


def decisions_for_835(decisions: pa.Table) -> pa.Table:
    """The 835 writer's decision table, built column-wise in SQL (no loop over lines)."""
    con = duckdb.connect()
    try:
        con.register("d", decisions)
        table = con.sql(
            f"""
            WITH c AS (
              SELECT *, round(charge_amount * 100)::BIGINT AS charge_c,
                     least(round(allowed_amount * 100)::BIGINT, round(charge_amount * 100)::BIGINT) AS allowed_c,
                     round(paid_amount * 100)::BIGINT AS paid_c
              FROM d
            )
            SELECT claim_id, claim_line_number::INTEGER AS claim_line_number, member_id, billing_npi,
              service_date, charge_amount, paid_c / 100.0 AS paid_amount, paid_units, denied_units,
              list_filter([
                CASE WHEN charge_c > allowed_c THEN
                  {{'group_code': 'CO', 'reason_code': '{CONTRACTUAL_CARC}',
                    'amount': (charge_c - allowed_c) / 100.0, 'quantity': NULL::DOUBLE}} END,
                CASE WHEN allowed_c > paid_c THEN
                  {{'group_code': 'CO', 'reason_code': coalesce(carc, '{CONTRACTUAL_CARC}'),
                    'amount': (allowed_c - paid_c) / 100.0,
                    'quantity': CASE WHEN denied_units > 0 THEN denied_units END}} END
              ], lambda x: x IS NOT NULL) AS adjustments,
              service_end_date, hcpcs_code, hcpcs_modifier_1, hcpcs_modifier_2, hcpcs_modifier_3,
              hcpcs_modifier_4, revenue_center_code,
              CASE WHEN rarc IS NULL THEN []::VARCHAR[] ELSE [rarc] END AS remark_codes,
              NULL::VARCHAR AS patient_last_name, NULL::VARCHAR AS patient_first_name,
              claim_id AS payer_claim_control_number
            FROM c ORDER BY billing_npi, claim_id, claim_line_number
            """
        ).fetch_arrow_table()
    finally:
        con.close()
    return table.cast(DECISION_SCHEMA)


def default_run(decisions: pa.Table, on: date, *, payer: Payer | None = None) -> PaymentRun:
    """A payment run paying every billing NPI of the batch by check, traced by date and sequence."""
    npis = sorted({n for n in decisions.column("billing_npi").to_pylist() if n})
    payer = payer or Payer(
        name="BHUM SYNTHETIC HEALTH PLAN",
        identifier="1999999999",
        address="1 SYNTHETIC WAY",
        city="SPRINGFIELD",
        state="IL",
        zip_code="62701",
    )
    return PaymentRun(
        payer=payer,
        payees={npi: Payee(name=f"PROVIDER {npi}", npi=npi) for npi in npis},
        production_date=on,
        payment_date=on,
        trace_numbers={npi: f"{on:%Y%m%d}{i:06d}" for i, npi in enumerate(npis, start=1)},
    )


def write_rejected(rejected: list[RejectedLine] | tuple[RejectedLine, ...], out: Path) -> dict[str, Path]:
    rows = [asdict(r) for r in rejected]
    jsonl = out / "rejected.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    csv_path = out / "rejected.csv"
    table = pa.table(
        {
            "source": pa.array([r["source"] for r in rows], pa.string()),
            "line": pa.array([r["line"] for r in rows], pa.int64()),
            "field": pa.array([r["field"] for r in rows], pa.string()),
            "message": pa.array([r["message"] for r in rows], pa.string()),
            "claim_id": pa.array([r["claim_id"] for r in rows], pa.string()),
        }
    )
    pacsv.write_csv(table, csv_path)
    return {"rejected_jsonl": jsonl, "rejected_csv": csv_path}


def write_decisions(
    decisions: pa.Table,
    rejected: list[RejectedLine] | tuple[RejectedLine, ...],
    out: Path,
    *,
    created: datetime,
    formats: tuple[str, ...] = ("jsonl", "csv", "835"),
    run: PaymentRun | None = None,
    envelope: Envelope | None = None,
) -> dict[str, Path]:
    """Write ``decisions.jsonl``, ``decisions.csv``, ``remittance.835`` (as asked) and the rejected lines."""
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    # The engine hands decisions over in line order; a single-table COPY keeps that order.
    order = "" if _in_line_order(decisions) else " ORDER BY line_order"
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = true")
        con.register("d", decisions)
        if "jsonl" in formats:
            path = out / "decisions.jsonl"
            con.execute(f"COPY (SELECT * FROM d{order}) TO '{_path(path)}' (FORMAT json)")
            written["jsonl"] = path
        if "csv" in formats:
            path = out / "decisions.csv"
            flat = ", ".join(_FLAT_COLUMNS)
            con.execute(
                f"COPY (SELECT {flat}, array_to_string(list_transform(edits, lambda e: e.edit), ';') AS edits, "
                f"array_to_string(list_transform(flags, lambda f: f.sentence), ' | ') AS flags "
                f"FROM d{order}) TO '{_path(path)}' (FORMAT csv, HEADER)"
            )
            written["csv"] = path
        if "parquet" in formats:
            # Arrow's own writer: the decisions are already Arrow (DuckDB's COPY converts them first).
            path = out / "decisions.parquet"
            pq.write_table(decisions, path, compression="snappy")
            written["parquet"] = path
    finally:
        con.close()
    if "835" in formats and decisions.num_rows:
        remittance = remittance_835(decisions, created=created, run=run, envelope=envelope)
        path = out / "remittance.835"
        path.write_text(remittance.text, encoding="utf-8")
        written["835"] = path
    written.update(write_rejected(rejected, out))
    return written


def remittance_835(
    decisions: pa.Table,
    *,
    created: datetime,
    run: PaymentRun | None = None,
    envelope: Envelope | None = None,
) -> Remittance:
    table = decisions_for_835(decisions)
    run = run or default_run(decisions, created.date())
    envelope = envelope or Envelope(sender_id="BHUMPAYER", receiver_id="BHUMPROVIDERS", created=created)
    return write_835(table, run, envelope)


def _in_line_order(decisions: pa.Table) -> bool:
    order = decisions.column("line_order")
    n = decisions.num_rows
    return n < 2 or bool(pc.all(pc.greater_equal(order.slice(1), order.slice(0, n - 1))).as_py())


def _path(path: Path) -> str:
    return str(path).replace("'", "''")
