"""Reading claim files (malformed lines named by file, line and field), the shared 837 samples, and the
835 round trip through x12sdk."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from x12sdk.io import X12ModelReader

from bhum.adapters.claims_engine import DuckDbClaimsEngine, read_claims
from bhum.adapters.claims_engine.remittance import write_decisions
from bhum.domain.claim_edits import ClaimCheckParameters
from bhum.services.claims import check_batch
from tests.claims.conftest import reference
from tests.conftest import shared_fixtures

X12_SAMPLES = shared_fixtures("x12/837_*/*")
HEADER = (
    "claim_id,claim_line_number,member_id,claim_line_start_date,claim_line_end_date,service_unit_quantity,"
    "hcpcs_code,hcpcs_modifier_1,hcpcs_modifier_2,billing_npi,rendering_staff_id,charge_amount,"
    "face_to_face_minutes,activity_code\n"
)


def test_malformed_csv_line_is_named_and_the_rest_decided(
    tmp_path: Path, params: ClaimCheckParameters
) -> None:
    path = tmp_path / "claims.csv"
    path.write_text(
        HEADER
        + "C1,1,M1,2026-03-10,2026-03-10,2,T1017,HE,TF,1000000001,S2,40,30,plan_monitoring\n"
        + "C2,1,M1,2026-02-30,2026-02-30,1,T1017,HE,TF,1000000001,S2,20,15,plan_monitoring\n"
        + "C3,1,M1,2026-03-11,2026-03-11,x,T1017,HE,TF,1000000001,S2,20,15,plan_monitoring\n"
        + "C4,1,M1,2026-03-12,2026-03-12,1,T1017,HE,TF,1000000001,S2,20,15,plan_monitoring\n",
        encoding="utf-8",
    )
    batch = read_claims([path])
    assert [(r.line, r.field) for r in batch.rejected] == [
        (3, "claim_line_start_date"),
        (4, "service_unit_quantity"),
    ]
    assert all(r.source == str(path) for r in batch.rejected)
    assert "2026-02-30" in batch.rejected[0].message
    result = check_batch(batch, reference(), params, DuckDbClaimsEngine(threads=1))
    assert result.decisions.column("claim_id").to_pylist() == ["C1", "C4"]
    assert result.decisions.column("paid_units").to_pylist() == [2, 1]


def test_jsonl_bad_json_line_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "claims.jsonl"
    good = (
        '{"claim_id": "C1", "claim_line_number": 1, "member_id": "M1",'
        ' "claim_line_start_date": "2026-03-10", "service_unit_quantity": 1, "hcpcs_code": "90837",'
        ' "billing_npi": "1000000001", "charge_amount": 90}'
    )
    path.write_text(good + "\n{not json\n" + good.replace('"C1"', '"C2"') + "\n", encoding="utf-8")
    batch = read_claims([path])
    assert batch.lines.column("claim_id").to_pylist() == ["C1", "C2"]
    assert [(r.line, r.field) for r in batch.rejected] == [(2, None)]


def test_missing_required_column_rejects_the_file(tmp_path: Path) -> None:
    path = tmp_path / "claims.csv"
    path.write_text("claim_id,member_id\nC1,M1\n", encoding="utf-8")
    batch = read_claims([path])
    assert batch.lines.num_rows == 0
    assert batch.rejected[0].field == "claim_line_number"


@pytest.mark.parametrize("sample", X12_SAMPLES, ids=lambda p: p.name)
def test_shared_837_samples_parse_and_are_decided(sample: Path, params: ClaimCheckParameters) -> None:
    batch = read_claims([sample])
    assert batch.lines.num_rows > 0, batch.rejected
    result = check_batch(batch, reference(), params, DuckDbClaimsEngine(threads=1))
    assert result.decisions.num_rows == batch.lines.num_rows
    # The samples' members are not in the synthetic reference: every line is decided, with a reason.
    assert all(r for r in result.decisions.column("reason").to_pylist())


def test_835_round_trips_through_x12sdk(tmp_path: Path, params: ClaimCheckParameters) -> None:
    from tests.claims.conftest import batch as make_batch
    from tests.claims.conftest import claim_line

    lines = make_batch(
        claim_line(1, service_unit_quantity=15.0),
        claim_line(2, service_unit_quantity=3.0, claim_id="C0001", claim_line_number=2),
        claim_line(3, activity_code="transport_escort"),
    )
    decisions = DuckDbClaimsEngine(threads=1).check(lines, reference(), params)
    written = write_decisions(decisions, (), tmp_path, created=datetime(2026, 4, 1, 9, tzinfo=UTC))
    with X12ModelReader(str(written["835"])) as reader:
        models = list(reader.models())
    assert len(models) == 1
    text = written["835"].read_text()
    cas = [seg for seg in text.split("~\n") if seg.startswith("CAS*CO*")]
    assert any("*119*" in seg for seg in cas) and any("*96*" in seg for seg in cas)
    assert (tmp_path / "decisions.jsonl").read_text().count("\n") == 3
