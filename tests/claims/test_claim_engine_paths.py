"""The fast engine's paths (issue 5, "Measured"): plain lines paid as billed by a projection, lines with
no coverage and nothing else to check (OPM-08 only), the full pipeline for the rest, merged back by
position in line order; duplicates found through a hash; coverage spans merged; Parquet read typed."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from bhum.adapters.claims_engine import (
    BATCH_SCHEMA,
    CHECK_COLUMNS,
    DECISION_COLUMNS,
    DuckDbClaimsEngine,
    read_claims,
)
from bhum.domain.claim_edits import ClaimCheckParameters
from bhum.services.claims import COVERAGE_SCHEMA, check_batch
from tests.claims.conftest import batch, claim_line, decide, reference

OFFICE = {"hcpcs_code": "90837", "hcpcs_modifier_1": None, "hcpcs_modifier_2": None, "activity_code": None}


def test_mixed_batch_each_line_gets_its_own_decision(params: ClaimCheckParameters) -> None:
    """OPM-08 and TCM-02 side by side: plain, uncovered-plain and T1017 lines stay aligned by position."""
    ref = reference(coverage_end=date(2026, 3, 10))
    march_11 = {"claim_line_start_date": date(2026, 3, 11), "claim_line_end_date": date(2026, 3, 11)}
    rows = decide(
        params,
        ref,
        claim_line(1, **OFFICE, service_unit_quantity=2.0, allowed_amount=80.0),  # covered: paid as billed
        claim_line(2, **OFFICE, **march_11),  # no coverage, nothing else to check: OPM-08 only
        claim_line(3, service_unit_quantity=17.0, face_to_face_minutes=17 * 15),  # T1017: 16 a day
        claim_line(4, **OFFICE, allowed_amount=None, charge_amount=33.0),  # allowed falls back to charge
    )
    assert [r["claim_id"] for r in rows] == ["C0001", "C0002", "C0003", "C0004"]
    assert [(r["status"], r["paid_units"], r["denied_units"]) for r in rows] == [
        ("paid", 2, 0),
        ("denied", 0, 1),
        ("partial", 16, 1),
        ("paid", 1, 0),
    ]
    assert rows[0]["paid_amount"] == 80.0 and rows[0]["edits"] == [] and rows[0]["reason"] is None
    assert rows[1]["rule_id"] == "OPM-08" and rows[1]["carc"] == "204" and rows[1]["rarc"] == "N130"
    assert "had no coverage" in rows[1]["reason"] and len(rows[1]["edits"]) == 1
    assert rows[2]["rule_id"] == "TCM-02" and "daily limit of 16" in rows[2]["reason"]
    assert rows[3]["allowed_amount"] == 33.0 and rows[3]["paid_amount"] == 33.0


def test_unknown_member_is_named_not_on_file(params: ClaimCheckParameters) -> None:
    """OPM-08: a member with no record at all is denied with a sentence saying so."""
    [row] = decide(params, reference(), claim_line(1, **OFFICE, member_id="M404"))
    assert row["status"] == "denied" and row["rule_id"] == "OPM-08"
    assert row["reason"] == "OPM-08: member M404 is not on file"


def test_revenue_code_only_line_is_paid(params: ClaimCheckParameters) -> None:
    """A facility line with a revenue code and no procedure code trips nothing: paid, not silently denied."""
    [row] = decide(
        params, reference(), claim_line(1, **{**OFFICE, "hcpcs_code": None}, revenue_center_code="0450")
    )
    assert (row["status"], row["paid_units"], row["edits"]) == ("paid", 1, [])


def test_tcm02_claim_order_is_line_order_not_row_order(params: ClaimCheckParameters) -> None:
    """TCM-02 counts in claim order: a batch handed over out of order is decided (and returned) by
    line_order."""
    lines = [claim_line(3, service_unit_quantity=1.0), claim_line(1, service_unit_quantity=15.0),
             claim_line(2, service_unit_quantity=1.0)]  # fmt: skip
    table = DuckDbClaimsEngine(threads=1).check(batch(*lines), reference(), params)
    assert table.column("line_order").to_pylist() == [1, 2, 3]
    assert table.column("paid_units").to_pylist() == [15, 1, 0]  # the 17th unit is line 3's


def test_duplicate_modifiers_compare_as_a_list(params: ClaimCheckParameters) -> None:
    """MN-04 exact duplicate: the same modifiers in other slots repeat the line; another charge does not."""
    first = claim_line(1, hcpcs_modifier_1="HE", hcpcs_modifier_2=None, hcpcs_modifier_3="TF")
    again = claim_line(2, claim_id="C0001", service_start_time="01:00", hcpcs_modifier_2="TF")
    other = claim_line(
        3, claim_id="C0001", service_start_time="01:00", hcpcs_modifier_2="TF", charge_amount=21.0
    )
    rows = decide(params, reference(), first, again, other)
    assert [r["edit"] for r in rows] == [None, "opm.claim-exact-duplicate", None]
    assert rows[1]["reason"] == "MN-04: exact duplicate of C0001 line 1"


def test_overlapping_coverage_spans_decide_a_line_once(params: ClaimCheckParameters) -> None:
    """OPM-08: overlapping BH spans are one span (no line is doubled); a non-BH span does not cover."""
    spans = [
        {"member_id": "M1", "plan_id": "PLN01", "start_date": date(2026, 1, 1), "end_date": date(2026, 6, 30),
         "bh_benefit": True},
        {"member_id": "M1", "plan_id": "PLN02", "start_date": date(2026, 3, 1), "end_date": None,
         "bh_benefit": True},
        {"member_id": "M1", "plan_id": "PLN03", "start_date": date(2026, 1, 1), "end_date": None,
         "bh_benefit": False},
    ]  # fmt: skip
    ref = dataclasses.replace(reference(), coverage=pa.Table.from_pylist(spans, schema=COVERAGE_SCHEMA))
    day = {"claim_line_start_date": date(2026, 3, 10), "claim_line_end_date": date(2026, 3, 10)}
    rows = decide(params, ref, claim_line(1, **OFFICE, **day), claim_line(2, **OFFICE, **{
        "claim_line_start_date": date(2025, 12, 31), "claim_line_end_date": date(2025, 12, 31)}))  # fmt: skip
    assert [(r["line_order"], r["status"]) for r in rows] == [(1, "paid"), (2, "denied")]


def test_empty_batch_gives_no_decisions(params: ClaimCheckParameters) -> None:
    table = DuckDbClaimsEngine(threads=1).check(BATCH_SCHEMA.empty_table(), reference(), params)
    assert table.num_rows == 0 and tuple(table.schema.names) == DECISION_COLUMNS


def test_parquet_read_typed_with_the_check_columns_only(tmp_path: Path, params: ClaimCheckParameters) -> None:
    """Parquet is typed: only domain checks run; a missing required field and negative units are named by
    line and field, the rest is decided the same with or without the columns the checks do not read."""
    rows = [claim_line(1, service_unit_quantity=2.0, face_to_face_minutes=30), claim_line(2, member_id=None),
            claim_line(3, service_unit_quantity=-1.0), claim_line(4, diagnosis_code_1="F32.9")]  # fmt: skip
    table = batch(*rows).drop_columns(["line_order", "source", "source_line"])
    path = tmp_path / "claims.parquet"
    pq.write_table(table, path)
    full = read_claims([path])
    narrow = read_claims([path], columns=CHECK_COLUMNS)
    for read in (full, narrow):
        assert [(r.line, r.field) for r in read.rejected] == [(2, "member_id"), (3, "service_unit_quantity")]
        assert read.lines.column("source_line").to_pylist() == [1, 4]
        assert read.lines.column("line_order").to_pylist() == [1, 2]
        assert read.lines.schema == BATCH_SCHEMA
    assert full.lines.column("diagnosis_code_1").to_pylist() == [None, "F32.9"]
    assert narrow.lines.column("diagnosis_code_1").to_pylist() == [None, None]
    engine = DuckDbClaimsEngine(threads=1)
    decided = [check_batch(read, reference(), params, engine).decisions for read in (full, narrow)]
    assert decided[0].equals(decided[1])
    assert decided[0].column("paid_units").to_pylist() == [2, 1]
