"""`bhum demo --no-serve` runs the whole job on a small population, and running it again adds no
request, decision, case, letter or task twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from bhum.bootstrap import bootstrap
from bhum.config import Settings
from bhum.entrypoints.cli import app

COUNTED = (
    "members",
    "service_requests",
    "decisions",
    "authorizations",
    "authorization_status_changes",
    "letters",
    "auth_letter_jobs",
    "cases",
    "tasks",
    "opm_flags",
    "opm_cases",
    "cm_caseload_assignments",
    "users",
)


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        counts = {t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in COUNTED}
    engine.dispose()
    return counts


@pytest.mark.slow
def test_demo_runs_end_to_end_and_is_idempotent(tmp_path: Path) -> None:
    settings = Settings.from_env({"BHUM_DATA_DIR": str(tmp_path / "data")})
    args = ["demo", "--no-serve", "--members", "600", "--seed", "3"]

    first = CliRunner().invoke(app, args, obj=bootstrap(settings))
    assert first.exit_code == 0, first.output
    flat = " ".join(first.output.split())
    for expected in ("pack test cases", "0 failed", "requests approved", "OPM flags", "claim lines checked"):
        assert expected in flat, expected
    assert "demo.physician" in flat and "demo.provider" in flat
    after_first = _counts(settings.database_url)
    assert after_first["members"] == 600
    assert after_first["service_requests"] > 0 and after_first["letters"] > 0
    pdfs = list((tmp_path / "data" / "letters").glob("*.pdf"))
    assert pdfs, "the demo writes letters as PDF"

    second = CliRunner().invoke(app, args, obj=bootstrap(settings))
    assert second.exit_code == 0, second.output
    assert _counts(settings.database_url) == after_first
    assert sorted((tmp_path / "data" / "letters").glob("*.pdf")) == sorted(pdfs)
