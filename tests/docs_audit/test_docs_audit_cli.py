"""`bhum docs-audit` end to end (MN-05): claim files or decisions in, report files out, the read audited;
bad input named with its file, record and field and no report written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bhum.adapters.store import SqlStore
from bhum.entrypoints.cli import app
from tests.docs_audit.test_documentation_audit import COMPLETE, SIGNED_PLAN

REPO = Path(__file__).resolve().parents[2]
CLAIMS_CSV = (
    "claim_id,claim_line_number,member_id,claim_line_start_date,hcpcs_code,service_unit_quantity,"
    "billing_npi,charge_amount,paid_amount\n"
    "C1,1,M1,2026-03-10,T1017,3,1000000001,60,45\n"
    "C2,1,M1,2026-03-11,T1017,2,1000000001,40,30\n"
    "C3,1,M1,2026-03-11,H0015,1,1000000001,90,80\n"
)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One migrated store per module (migrating is the slow part)."""
    data = tmp_path_factory.mktemp("docs-audit") / "data"
    environment = {"BHUM_DATA_DIR": str(data), "BHUM_PACKS_DIR": str(REPO / "packs")}
    result = CliRunner().invoke(app, ["db", "upgrade"], env=environment)
    assert result.exit_code == 0, result.output
    return environment


def _files(tmp_path: Path, notes: list[dict[str, Any]]) -> list[str]:
    (tmp_path / "claims.csv").write_text(CLAIMS_CSV)
    (tmp_path / "notes.jsonl").write_text("".join(json.dumps(n) + "\n" for n in notes))
    (tmp_path / "plans.json").write_text(json.dumps([SIGNED_PLAN]))
    return ["--notes", str(tmp_path / "notes.jsonl"), "--plans", str(tmp_path / "plans.json")]


def test_mn05_cli_writes_the_report_and_audits_the_read(tmp_path: Path, env: dict[str, str]) -> None:
    args = _files(tmp_path, [COMPLETE])  # 10 March documented, 11 March has no note
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["docs-audit", "--claims", str(tmp_path / "claims.csv"), *args, "--out", str(out)], env=env
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (out / "sessions.jsonl").read_text().splitlines()]
    assert [(r["claim_id"], r["at_risk"], r["amount_at_risk"]) for r in rows] == [
        ("C1", False, 0.0),
        ("C2", True, 30.0),
    ]
    assert json.loads((out / "summary.json").read_text())["amount_at_risk"] == 30.0
    store = SqlStore(f"sqlite:///{Path(env['BHUM_DATA_DIR']) / 'bhum.sqlite3'}")
    try:
        with store.unit_of_work() as uow:
            events = [e for e in uow.audit.list() if e.entity_type == "documentation_audit"]
    finally:
        store.dispose()
    assert ("2 sessions", None) in [(e.entity_id, e.member_id) for e in events]
    assert all(e.member_id is None for e in events)


def test_mn05_cli_reads_decisions_of_a_claim_check(tmp_path: Path, env: dict[str, str]) -> None:
    args = _files(tmp_path, [])
    decisions = tmp_path / "decisions.jsonl"
    decisions.write_text(
        json.dumps({"claim_id": "C1", "claim_line_number": 1, "member_id": "M1", "service_date": "2026-03-10",
                    "hcpcs_code": "T1017", "paid_units": 3.0, "paid_amount": 45.0}) + "\n"
    )  # fmt: skip
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["docs-audit", "--decisions", str(decisions), *args, "--out", str(out)], env=env
    )
    assert result.exit_code == 0, result.output
    [row] = [json.loads(line) for line in (out / "sessions.jsonl").read_text().splitlines()]
    assert row["missing_count"] == 11 and row["amount_at_risk"] == 45.0


def test_mn05_cli_bad_note_names_file_record_field_and_writes_nothing(
    tmp_path: Path, env: dict[str, str]
) -> None:
    args = _files(tmp_path, [{**COMPLETE, "session_date": "2026-02-30"}])
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["docs-audit", "--claims", str(tmp_path / "claims.csv"), *args, "--out", str(out)], env=env
    )
    assert result.exit_code == 1
    assert "notes.jsonl" in result.output and "record N1" in result.output and "session_date" in result.output
    assert not out.exists()
