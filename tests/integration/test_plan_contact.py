"""The plan's contact for letters is part of the plan: optional columns of the population ``plans`` file,
stored on the plans table (SQLite and PostgreSQL), and the letterhead of the case-management letters
(TCM-07 outreach, COC-01/02 PCP notification) when the caller gives none."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bhum.adapters.store import SqlStore
from bhum.adapters.store.care_management import SqlCareUnitOfWork
from bhum.domain.access import Role, User
from bhum.domain.coordination import ECT, PlannedTreatment
from bhum.domain.errors import InputError
from bhum.domain.letters import LetterContent, Recipient, RecipientKind, StaffContact
from bhum.domain.members import PlanContactInfo
from bhum.services.care_records import CareUnitOfWork
from bhum.services.case_management import record_missed_appointment
from bhum.services.coordination import (
    WrittenLetter,
    raise_coordination_tasks,
    send_outreach_letter,
    send_pcp_letter,
)
from bhum.services.directory import UowScopeResolver
from bhum.services.population import load_population
from tests.integration.population_files import population_rows, write_population

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
CHICAGO = ZoneInfo("America/Chicago")
SUPERVISOR = User("U-SUP", "sam", "Sam Sup", frozenset({Role.CM_SUPERVISOR}), staff_id="S-SUP")
CONTACT = {
    "contact_phone": "1-800-555-0101",
    "contact_tty": "1-800-555-0199",
    "contact_address_line_1": "PO Box 1100",
    "contact_address_line_2": "Attn: Behavioral Health",
    "contact_city": "Springfield",
    "contact_state": "IL",
    "contact_zip": "62701",
    "website": "prairiehealth.example",
}
NO_CONTACT = dict.fromkeys(CONTACT)
CASE_MANAGER = StaffContact("Casey Coordinator", "1-800-555-0111")
PCP = Recipient(RecipientKind.PROVIDER, "Dr. Ada Example", ("5 Oak Ave", "Tulsa, OK 74101"), "1234567893")


class Writer:
    """Records what would be filed (the renderer has its own tests)."""

    def __init__(self) -> None:
        self.written: list[LetterContent] = []

    def __call__(self, content: LetterContent) -> WrittenLetter:
        self.written.append(content)
        return WrittenLetter(f"/letters/{content.letter_id}.pdf", f"{content.kind.value}@1", "0" * 64)


def _rows() -> dict[str, list[dict[str, Any]]]:
    """P1 with its letterhead, P2 without; member M2 moves to P2 in 2026."""
    rows = population_rows()
    rows["plans"] = [
        {**rows["plans"][0], **CONTACT},
        {**rows["plans"][1], **NO_CONTACT},
    ]
    for row in rows["eligibility"]:
        if row["member_id"] == "M2" and row["enrollment_start_date"] == "2026-01-01":
            row["plan_id"] = "P2"
    return rows


def _uow(store: SqlStore) -> CareUnitOfWork:
    return SqlCareUnitOfWork(store.session_factory)


@pytest.fixture
def loaded(store: SqlStore, tmp_path: Path) -> SqlStore:
    load_population(write_population(tmp_path / "pop", _rows(), fmt="csv"), store.unit_of_work)
    with _uow(store) as uow:
        uow.users.add(SUPERVISOR, None)
        uow.commit()
    return store


def test_contact_columns_load_and_round_trip_and_older_files_without_them_load(loaded: SqlStore) -> None:
    with loaded.unit_of_work() as uow:
        p1, p2 = uow.plans.get("P1"), uow.plans.get("P2")
    assert p1 is not None and p2 is not None
    assert p1.contact == PlanContactInfo(
        "1-800-555-0101", "1-800-555-0199", "PO Box 1100", "Attn: Behavioral Health", "Springfield", "IL",
        "62701", "prairiehealth.example",
    )  # fmt: skip
    assert p2.contact == PlanContactInfo()


def test_files_without_the_contact_columns_still_load(store: SqlStore, tmp_path: Path) -> None:
    load_population(write_population(tmp_path / "old", population_rows(), fmt="parquet"), store.unit_of_work)
    with store.unit_of_work() as uow:
        plan = uow.plans.get("P1")
    assert plan is not None and plan.contact == PlanContactInfo()


@pytest.mark.parametrize(
    ("column", "value"),
    [("contact_state", "Illinois"), ("contact_zip", "6270"), ("contact_phone", "1" * 33)],
)
def test_bad_contact_value_refused_naming_file_row_field_nothing_stored(
    store: SqlStore, tmp_path: Path, column: str, value: str
) -> None:
    rows = _rows()
    rows["plans"][0][column] = value
    with pytest.raises(InputError) as err:
        load_population(write_population(tmp_path / "bad", rows, fmt="csv"), store.unit_of_work)
    assert (err.value.source, err.value.record, err.value.field) == ("plans.csv", 1, column)
    with store.unit_of_work() as uow:
        assert uow.plans.count() == 0


def _missed(store: SqlStore, member_id: str) -> str:
    uow = _uow(store)
    task = record_missed_appointment(
        uow, SUPERVISOR, member_id=member_id, missed_at=datetime(2026, 3, 6, 10, tzinfo=CHICAGO), tz=CHICAGO,
        holidays=frozenset(), scopes=UowScopeResolver(uow), now=NOW,
    )  # fmt: skip
    return task.task_id


def _outreach(store: SqlStore, member_id: str, task_id: str, writer: Writer) -> bool:
    uow = _uow(store)
    return send_outreach_letter(
        uow, SUPERVISOR, member_id=member_id, task_id=task_id, missed_on=date(2026, 3, 6),
        case_manager=CASE_MANAGER, write=writer, scopes=UowScopeResolver(uow), now=NOW, tz=CHICAGO,
    ).created  # fmt: skip


def test_tcm07_outreach_letterhead_is_the_members_plan_from_the_store(loaded: SqlStore) -> None:
    writer = Writer()
    assert _outreach(loaded, "M0", _missed(loaded, "M0"), writer) is True
    (content,) = writer.written
    assert content.plan.name == "Synthetic Medicaid BH"
    assert content.plan.phone == "1-800-555-0101" and content.plan.tty == "1-800-555-0199"
    assert content.plan.address_lines == ("PO Box 1100", "Attn: Behavioral Health", "Springfield, IL 62701")
    assert content.plan.website == "prairiehealth.example"


def test_plan_without_contact_refuses_the_letter_naming_the_column_nothing_written(loaded: SqlStore) -> None:
    writer = Writer()
    task_id = _missed(loaded, "M2")  # M2 is on P2 in 2026, which has no letterhead
    with pytest.raises(InputError) as err:
        _outreach(loaded, "M2", task_id, writer)
    assert (err.value.field, err.value.record) == ("contact_phone", "P2")
    assert writer.written == []
    with _uow(loaded) as uow:
        assert uow.letters.count() == 0


def test_coc02_pcp_letterhead_from_the_store_and_no_coverage_refused(loaded: SqlStore) -> None:
    uow = _uow(loaded)
    (task,) = raise_coordination_tasks(
        uow, SUPERVISOR, member_id="M1", events=[PlannedTreatment("M1", date(2026, 3, 9), ECT)], now=NOW,
        scopes=UowScopeResolver(uow),
    )  # fmt: skip
    writer = Writer()
    u = _uow(loaded)
    sent = send_pcp_letter(
        u, SUPERVISOR, member_id="M1", task_id=task.task_id, pcp=PCP, coordinator=CASE_MANAGER, write=writer,
        now=NOW, tz=CHICAGO, scopes=UowScopeResolver(u),
    )  # fmt: skip
    assert sent.created and writer.written[0].plan.phone == "1-800-555-0101"
    # Before any coverage (the population's spans start 2025-01-01) there is no plan to write from.
    u = _uow(loaded)
    (early,) = raise_coordination_tasks(
        u, SUPERVISOR, member_id="M0", events=[PlannedTreatment("M0", date(2024, 12, 1), ECT)],
        now=datetime(2024, 12, 2, 15, tzinfo=UTC), scopes=UowScopeResolver(u),
    )  # fmt: skip
    u = _uow(loaded)
    with pytest.raises(InputError) as err:
        send_pcp_letter(
            u, SUPERVISOR, member_id="M0", task_id=early.task_id, pcp=PCP, coordinator=CASE_MANAGER,
            write=writer, now=datetime(2024, 12, 2, 15, tzinfo=UTC), tz=CHICAGO, scopes=UowScopeResolver(u),
        )  # fmt: skip
    assert err.value.field == "plan_id"
    assert len(writer.written) == 1
