"""`bhum cm` over a migrated SQLite store: assign with pack limits, outreach after a missed appointment
(TCM-07), a refused disclosure (COC-04, exit 3, audited), a bad JSON file refused naming the file and
field with nothing stored (TCM-09), transition eligibility (TCM-05) and the PCP letter (COC-02)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bhum.adapters.holidays import us_federal_holidays_for_span
from bhum.adapters.store import SqlStore, upgrade
from bhum.adapters.store.care_management import SqlCareUnitOfWork
from bhum.config import Settings
from bhum.domain.access import AuditAction, Role, User
from bhum.domain.members import Member, Sex
from bhum.domain.providers import Credential, Staff
from bhum.entrypoints.cli.cm import app
from bhum.policy import PackRegistry, load_packs
from bhum.services.directory import UowScopeResolver
from bhum.services.unit_of_work import UnitOfWork

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
PCP = "1234567893"


@dataclass
class Deps:
    store: SqlStore
    settings: Settings
    clock: object = field(default=lambda: NOW)

    def uow_factory(self) -> UnitOfWork:
        return SqlCareUnitOfWork(self.store.session_factory)

    @cached_property
    def packs(self) -> PackRegistry:
        return load_packs(self.settings.packs_dir)

    @property
    def letters_dir(self) -> Path:
        return self.settings.data_dir / "letters"

    def holidays(self, first: date, last: date) -> frozenset[date]:
        return us_federal_holidays_for_span(first, last)

    def scopes(self, uow: UnitOfWork) -> UowScopeResolver:
        return UowScopeResolver(uow)


@pytest.fixture
def deps(tmp_path: Path) -> Deps:
    url = f"sqlite:///{tmp_path / 'cm.sqlite3'}"
    upgrade(url)
    d = Deps(SqlStore(url), Settings.from_env({"BHUM_DATA_DIR": str(tmp_path / "data")}))
    with d.uow_factory() as uow:
        uow.members.upsert_many(
            [Member(f"M{i}", "Syn", f"Thetic{i}", Sex.UNKNOWN, date(1980, 1, 1), pcp_npi=PCP) for i in (1, 2)]
        )
        uow.staff.upsert_many([Staff("S-ICM", "Casey", "CM", frozenset({Credential.INTENSIVE_CM}))])
        uow.users.add(User("U-SUP", "sup", "Sup", frozenset({Role.CM_SUPERVISOR})), None)
        uow.users.add(User("U-CM", "casey", "Casey", frozenset({Role.CASE_MANAGER}), staff_id="S-ICM"), None)
        uow.commit()
    return d


def run(deps: Deps, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), obj=deps)
    return result.exit_code, result.stdout, result.stderr


def _file(tmp_path: Path, name: str, body: object) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(body), encoding="utf-8")
    return str(path)


def test_cm_cli_assign_missed_disclose_note_transition_coordinate(deps: Deps, tmp_path: Path) -> None:
    code, out, err = run(deps, "assign", "M1", "--as", "sup", "--staff", "S-ICM", "--type", "intensive")
    assert code == 0, err
    assert "\tintensive\t1/15\tunder_minimum" in out  # TCM-06 limits from the tcm pack

    code, out, _ = run(deps, "caseload", "S-ICM", "--as", "casey")
    assert code == 0 and "# intensive: 1 members (10-15, under_minimum)" in out

    # TCM-07: missed on Friday 2026-01-16 before MLK Day: due Wednesday 2026-01-21.
    code, out, err = run(deps, "missed", "M1", "--as", "casey", "--at", "2026-01-16T14:00:00")
    assert code == 0, err
    assert "due 2026-01-21T23:59:59" in out

    code, _, err = run(
        deps, "disclose", "M1", "--as", "casey", "--record-kind", "psychotherapy_notes",
        "--recipient", f"npi:{PCP}", "--purpose", "treatment", "--entity-id", "R9",
    )  # fmt: skip
    assert code == 3 and "COC-04" in err
    with deps.uow_factory() as uow:
        assert any(e.entity_id == "R9" and e.action is AuditAction.REFUSE for e in uow.audit.list())

    bad = _file(tmp_path, "note.json", {"note_id": "N1", "session_date": "2026-02-30"})
    code, _, err = run(deps, "note", "M1", bad, "--as", "casey")
    assert code == 1 and "note.json" in err and "session_date" in err
    with SqlCareUnitOfWork(deps.store.session_factory) as care:
        assert care.progress_notes.for_member("M1") == []

    stay = _file(tmp_path, "stay.json", {"setting": "public_institution", "admitted_on": "2025-01-01",
                                         "expected_discharge_on": "2026-04-01"})  # fmt: skip
    code, out, _ = run(deps, "transition", "M1", stay, "--as", "casey")
    assert code == 0 and out.startswith("not eligible: inmates of public institutions")

    events = _file(tmp_path, "events.json", {"events": [{"kind": "pcp_referral", "referred_on": "2026-03-09",
                                                         "referring_npi": PCP}]})  # fmt: skip
    letter = _file(tmp_path, "letter.json", {
        "plan": {"name": "Prairie Synthetic Plan", "phone": "1-800-555-0100", "address_lines": ["PO Box 1"]},
        "pcp": {"npi": PCP, "name": "Dr. Ada Example", "address_lines": ["5 Oak Ave", "Tulsa, OK 74101"]},
        "coordinator": {"name": "Casey Coordinator", "phone": "1-800-555-0111"},
    })  # fmt: skip
    code, out, err = run(deps, "coordinate", "M1", events, "--as", "casey", "--letter", letter)
    assert code == 0, err
    assert "COC-02\tpcp_referral" in out and "\tsent\t" in out
    assert len(list(deps.letters_dir.glob("*.pdf"))) == 1


def test_cm_cli_case_manager_outside_caseload_refused(deps: Deps) -> None:
    code, _, err = run(deps, "refuse", "M2", "--as", "casey", "--on", "2026-03-01")
    assert code == 1 and "outside the user's scope" in err
    code, _, err = run(deps, "escalate", "--as", "casey")
    assert code == 1 and "supervisor" in err
