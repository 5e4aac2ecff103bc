"""`bhum auth` and `bhum clocks` end to end on a SQLite store: evaluate (no store), submit, show,
required, decide, letters (PDF) and an idempotent clock tick."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from bhum.adapters.holidays import us_federal_holidays_for_span
from bhum.adapters.store import SqlStore, upgrade
from bhum.adapters.store.auth_records import AuthSqlUnitOfWork
from bhum.config import Settings
from bhum.entrypoints.cli.auth import app as auth_app
from bhum.entrypoints.cli.clocks import app as clocks_app
from bhum.policy import PackRegistry, load_packs
from bhum.services.unit_of_work import UnitOfWork
from tests.integration.test_auth_engine import EXAMPLES, REPO, seed

NOW = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
runner = CliRunner()


@dataclass
class Deps:
    """What the composition root hands the commands, with the auth-aware unit of work."""

    settings: Settings
    store: SqlStore
    packs: PackRegistry
    now: datetime = NOW
    letters_dir: Path = field(default_factory=Path)

    def clock(self) -> datetime:
        return self.now

    def holidays(self, first: date, last: date) -> frozenset[date]:
        return us_federal_holidays_for_span(first, last)

    def uow_factory(self) -> UnitOfWork:
        return AuthSqlUnitOfWork(self.store.session_factory)


@pytest.fixture
def deps(tmp_path: Path) -> Iterator[Deps]:
    url = f"sqlite:///{tmp_path / 'bhum.sqlite3'}"
    upgrade(url)
    store = SqlStore(url)
    seed(store)
    settings = Settings.from_env(
        {"BHUM_DATA_DIR": str(tmp_path), "BHUM_DATABASE_URL": url, "BHUM_PACKS_DIR": str(REPO / "packs")}
    )
    try:
        yield Deps(settings, store, load_packs(REPO / "packs"), letters_dir=tmp_path / "letters")
    finally:
        store.dispose()


def run(app: Any, deps: Deps | None, *args: str) -> tuple[int, str, Any]:
    result = runner.invoke(app, list(args), obj=deps)
    try:
        doc = json.loads(result.stdout)
    except json.JSONDecodeError:
        doc = None
    return result.exit_code, result.output, doc


def test_evaluate_prints_the_determination_and_stores_nothing(deps: Deps) -> None:
    code, _, doc = run(auth_app, deps, "evaluate", str(EXAMPLES / "iop-initial-pend.json"))
    assert code == 0
    assert doc["outcome"] == "pend"
    assert doc["open_criteria"] == ["iop.weekly-hours", "iop.physical-exam"]
    assert doc["due"]["rule_id"] == "REG-01"
    with deps.store.unit_of_work() as uow:
        assert uow.service_requests.count() == 0


def test_evaluate_names_the_bad_field(deps: Deps, tmp_path: Path) -> None:
    bad = json.loads((EXAMPLES / "iop-initial-approve.json").read_text())
    bad["requested_span"]["start"] = "2026-02-30"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    code, output, _ = run(auth_app, deps, "evaluate", str(path))
    assert code == 1
    assert "requested_span.start" in output and "bad.json" in output


def test_submit_show_required_letters(deps: Deps) -> None:
    code, _, doc = run(auth_app, deps, "submit", str(EXAMPLES / "iop-initial-approve.json"))
    assert code == 0 and doc["status"] == "approved" and doc["letters_queued"] == 2
    code, _, shown = run(auth_app, deps, "show", "REQ-IOP-0001")
    assert code == 0
    assert [h["to"] for h in shown["authorization"]["history"]] == ["requested", "approved"]
    code, _, answer = run(
        auth_app,
        deps,
        "required",
        "--member",
        "SYN-M-0001",
        "--provider",
        "1234567893",
        "--service",
        "hcpcs|S9480",
        "--date",
        "2026-03-09",
    )
    assert code == 0 and answer["required"] is True and answer["rule_id"] == "OPM-01"
    code, _, rendered = run(auth_app, deps, "letters")
    assert code == 0 and rendered["rendered"] == 2
    text = " ".join(PdfReader(rendered["files"][0]).pages[0].extract_text().split())
    assert "REQ-IOP-0001" in text
    code, _, again = run(auth_app, deps, "letters")
    assert again["rendered"] == 0  # generated once per decision


def test_decide_from_the_cli_needs_a_physician_to_deny(deps: Deps) -> None:
    run(auth_app, deps, "submit", str(EXAMPLES / "iop-initial-pend.json"))
    args = [
        "decide",
        "REQ-IOP-0002",
        "--outcome",
        "denied",
        "--reason",
        "IOP-05:6 weekly hours; adults need 9",
    ]
    code, output, _ = run(auth_app, deps, *args, "--reviewer", "rn")
    assert code == 1 and "request.deny" in output  # a clinical reviewer role cannot deny
    code, _, decided = run(auth_app, deps, *args, "--reviewer", "doc")
    assert code == 0 and decided["outcome"] == "denied"


def test_clocks_tick_is_idempotent(deps: Deps) -> None:
    run(auth_app, deps, "submit", str(EXAMPLES / "iop-initial-pend.json"))
    late = "2026-03-09T10:00:00-05:00"  # past the REG-01 7-day clock (due 09:30 local)
    code, _, first = run(clocks_app, deps, "tick", "--now", late)
    assert code == 0
    assert [(e["request_id"], e["status"], e["rule_id"]) for e in first["escalated"]] == [
        ("REQ-IOP-0002", "overdue", "REG-01")
    ]
    code, _, second = run(clocks_app, deps, "tick", "--now", late)
    assert code == 0 and second["escalated"] == []
    code, output, _ = run(clocks_app, deps, "tick", "--now", "2026-03-09T10:00:00")
    assert code == 1 and "time zone" in output
