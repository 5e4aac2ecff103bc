"""`bhum opm run` end to end on tiny claims files: flags stored once per (member, rule, as-of), the
report written, cases with both letters; bad input reported with file, row and field and the store
left unchanged; the CLI form/determine/tick commands; ``run_opm_demo``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from bhum.adapters.store import SqlStore
from bhum.adapters.store.opm import OpmSqlUnitOfWork
from bhum.bootstrap import Application
from bhum.config import Settings
from bhum.domain.errors import InputError
from bhum.entrypoints.cli import app as cli
from bhum.entrypoints.cli.opm import run_opm_demo
from bhum.services.unit_of_work import UnitOfWork
from tests.analytics.conftest import line, make_source, person, stay
from tests.opm.conftest import NPI_A, PACKS, TZ, populate, uow_factory

AS_OF = date(2026, 6, 30)
CLOCK = datetime(2026, 7, 1, 14, tzinfo=UTC)
# These run the whole catalog (seconds each on a busy box): SQLite only; the workflow tests cover
# PostgreSQL.
pytestmark = pytest.mark.slow


@pytest.fixture
def world(_migrated_sqlite: Path, tmp_path: Path) -> Iterator[SqlStore]:
    path = tmp_path / "bhum.sqlite3"
    shutil.copyfile(_migrated_sqlite, path)
    sql_store = SqlStore(f"sqlite:///{path}")
    populate(sql_store)
    try:
        yield sql_store
    finally:
        sql_store.dispose()


@dataclass
class OpmApplication(Application):
    """The composition root with the OPM-aware unit of work (what bootstrap must provide)."""

    def uow_factory(self) -> UnitOfWork:
        return OpmSqlUnitOfWork(self.database.session_factory)


def _application(world: SqlStore, tmp_path: Path) -> OpmApplication:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=world.url,
        packs_dir=PACKS,
        reference_dir=PACKS.parent / "reference",
        plan_time_zone=TZ,
        secret_key="test",
    )
    return OpmApplication(settings=settings, clock=lambda: CLOCK)


def _claims(folder: Path) -> Path:
    """M1 (OPM plan) and M5 (BH carved out) were discharged with no follow-up (FUH-7); M1's therapist
    billed psychotherapy earlier."""
    folder.mkdir(parents=True, exist_ok=True)
    medical = [
        stay("M1", "2026-04-20", "2026-05-01", rendering_npi=NPI_A),
        line("M1", "2026-04-10", "90837", rendering_npi=NPI_A),
        stay("M5", "2026-04-20", "2026-05-01", rendering_npi=NPI_A),
    ]
    make_source(folder, medical, people=[person("M1"), person("M5")])
    return folder


def _counts(world: SqlStore) -> tuple[int, int, int, int, int]:
    with uow_factory(world) as uow:
        return (
            uow.opm.count_flags(),
            uow.opm.count_cases(),
            uow.cases.count(),
            uow.letters.count(),
            uow.authorizations.count(),
        )


def _invoke(application: Application, *args: str) -> Any:
    result = CliRunner().invoke(cli, list(args), obj=application)
    return result


def test_cli_run_stores_flags_report_and_cases_idempotently(world: SqlStore, tmp_path: Path) -> None:
    """OPM-03/04/05: flags stored and reported, M1 gets a case and two letters; M5's plan carries no BH
    benefit (OPM-08). A second run the same month stores and sends nothing new."""
    application = _application(world, tmp_path)
    claims = _claims(tmp_path / "claims")
    report = tmp_path / "out" / "flags.csv"
    result = _invoke(
        application, "opm", "run", "--as-of", "2026-06-30", "--claims", str(claims), "--report", str(report)
    )
    assert result.exit_code == 0, result.output
    assert "CI-FUH-7" in result.output and "cases opened 1" in result.output
    flags, cases, core_cases, letters, auths = _counts(world)
    assert cases == core_cases == 1 and letters == 2 and auths == 1
    assert flags >= 2  # FUH-7 for M1 and M5 at least
    assert report.is_file() and "CI-FUH-7" in report.read_text()
    again = _invoke(application, "opm", "run", "--as-of", "2026-06-30", "--claims", str(claims))
    assert again.exit_code == 0, again.output
    assert "(0 new)" in again.output and "cases opened 0" in again.output
    assert _counts(world) == (flags, 1, 1, 2, 1)


@pytest.mark.parametrize(
    ("column", "value", "field"),
    [
        ("claim_line_start_date", "2026-02-30", "claim_line_start_date"),  # impossible date
        ("hcpcs_code", "9083X7", "hcpcs_code"),  # unknown / malformed code
        ("member_id", "", "member_id"),  # missing required value
    ],
)
def test_bad_claims_file_is_reported_with_file_row_and_field_and_changes_nothing(
    world: SqlStore, tmp_path: Path, column: str, value: str, field: str
) -> None:
    """Issue 4 'done when': a malformed row, an unknown code or a bad date names the file, row and field;
    the run changes nothing (store counts unchanged, no report, no letters)."""
    application = _application(world, tmp_path)
    claims = tmp_path / "claims"
    claims.mkdir()
    rows = [
        "claim_id,claim_line_number,claim_type,member_id,claim_line_start_date,hcpcs_code,diagnosis_code_1,rendering_npi",
        f"C1,1,professional,M1,2026-04-10,90837,F32.1,{NPI_A}",
        f"C2,1,professional,M1,2026-04-17,90837,F32.1,{NPI_A}",
    ]
    header = rows[0].split(",")
    bad = rows[2].split(",")
    bad[header.index(column)] = value
    rows[2] = ",".join(bad)
    (claims / "medical_claim.csv").write_text("\n".join(rows) + "\n")
    (claims / "eligibility.csv").write_text(
        "member_id,birth_date,plan_id,enrollment_start_date\nM1,1980-01-01,P-OPM,2026-01-01\n"
    )
    (claims / "pharmacy_claim.csv").write_text(
        "claim_id,claim_line_number,member_id,dispensing_date,drug_class,days_supply\n"
    )
    before = _counts(world)
    report = tmp_path / "flags.parquet"
    from bhum.entrypoints.cli.opm import run_program

    with pytest.raises(InputError) as err:
        run_program(application, claims, AS_OF, report=report)
    assert err.value.field == field
    assert err.value.source is not None and err.value.source.endswith("medical_claim.csv")
    assert err.value.record == 3  # the CSV line of the bad row (header is line 1)
    assert _counts(world) == before
    assert not report.exists() and not application.letters_dir.exists()
    result = _invoke(application, "opm", "run", "--as-of", "2026-06-30", "--claims", str(claims))
    assert result.exit_code == 1 and "medical_claim.csv" in result.output and field in result.output


def test_cli_form_submit_determine_and_tick(world: SqlStore, tmp_path: Path) -> None:
    """`bhum opm form submit CASE FILE.json` then `bhum opm determine` (OPM-06); a malformed form file
    names the file and field; `bhum opm tick` leaves a reviewed case alone."""
    application = _application(world, tmp_path)
    claims = _claims(tmp_path / "claims")
    assert _invoke(application, "opm", "run", "--as-of", "2026-06-30", "--claims", str(claims)).exit_code == 0
    with uow_factory(world) as uow:
        (case,) = uow.opm.list_cases()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"treatment_plan": "CBT"}))
    result = _invoke(application, "opm", "form", "submit", case.case_id, str(bad))
    assert result.exit_code == 1 and "bad.json" in result.output and "goals" in result.output
    from tests.opm.test_workflow import FORM

    good = tmp_path / "form.json"
    good.write_text(json.dumps(FORM))
    result = _invoke(application, "opm", "form", "submit", case.case_id, str(good))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["state"] == "in_review"
    result = _invoke(
        application,
        "opm",
        "determine",
        case.case_id,
        "step_up",
        "--rationale",
        "Worsening; needs IOP",
        "--level",
        "intensive_outpatient",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["review"]["determination"] == "step_up"
    tick = _invoke(application, "opm", "tick", "--now", "2026-09-01T09:00:00-05:00")
    assert tick.exit_code == 0 and json.loads(tick.output)["discontinued"] == []


def test_run_opm_demo_produces_cases_with_both_letters(world: SqlStore, tmp_path: Path) -> None:
    application = _application(world, tmp_path)
    summary = run_opm_demo(application, _claims(tmp_path / "claims"), AS_OF)
    assert summary["cases_opened"] == 1 and summary["letters_total"] == 2
    assert Path(summary["report"]).is_file() and pq.read_table(summary["report"]).num_rows == summary["flags"]
    assert len(list(application.letters_dir.glob("*.pdf"))) == 2
