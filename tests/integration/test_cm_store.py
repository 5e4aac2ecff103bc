"""Case management services with pack numbers on SQLite and PostgreSQL (TCM-06/07/09, COC-02/04,
REG-06): the PCP and outreach letters are stored once under their idempotency key, a refused
disclosure is audited and leaves no letter, a bad note leaves nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bhum.adapters.store import SqlStore
from bhum.adapters.store.care_management import SqlCareUnitOfWork
from bhum.domain.access import AuditAction, Role, User
from bhum.domain.case_management import ActivityCode, CaseloadType, ProgressNote, SignatureKind
from bhum.domain.consent import RecordKind
from bhum.domain.coordination import ECT, PlannedTreatment
from bhum.domain.errors import InputError
from bhum.domain.letters import LetterContent, PlanContact, Recipient, RecipientKind, StaffContact
from bhum.domain.members import Address, Member, Sex
from bhum.domain.providers import Credential, Staff
from bhum.policy import load_packs
from bhum.services.care_records import CareUnitOfWork
from bhum.services.case_management import (
    CareParameters,
    assign_member,
    record_missed_appointment,
    record_progress_note,
)
from bhum.services.consent import DisclosureRefused
from bhum.services.coordination import (
    WrittenLetter,
    raise_coordination_tasks,
    send_outreach_letter,
    send_pcp_letter,
)
from bhum.services.directory import UowScopeResolver

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
CHICAGO = ZoneInfo("America/Chicago")
PCP = "1234567893"
PACKS = Path(__file__).resolve().parents[2] / "packs"
SUPERVISOR = User("U-SUP", "sam", "Sam Sup", frozenset({Role.CM_SUPERVISOR}), staff_id="S-SUP")
CM = User("U-CM", "casey", "Casey CM", frozenset({Role.CASE_MANAGER}), staff_id="S-ICM")
PLAN = PlanContact("Prairie Synthetic Plan", "1-800-555-0100", ("PO Box 1", "Tulsa, OK 74100"))
PCP_RECIPIENT = Recipient(RecipientKind.PROVIDER, "Dr. Ada Example", ("5 Oak Ave", "Tulsa, OK 74101"), PCP)
COORDINATOR = StaffContact("Casey Coordinator", "1-800-555-0111")


class Writer:
    """Records what would be filed (the renderer has its own tests)."""

    def __init__(self) -> None:
        self.written: list[LetterContent] = []

    def __call__(self, content: LetterContent) -> WrittenLetter:
        self.written.append(content)
        return WrittenLetter(f"/letters/{content.letter_id}.pdf", f"{content.kind.value}@1", "0" * 64)


@pytest.fixture
def care(store: SqlStore) -> SqlStore:
    with SqlCareUnitOfWork(store.session_factory) as uow:
        uow.members.upsert_many(
            Member(f"M{i}", "Syn", f"Thetic{i}", Sex.UNKNOWN, date(1980, 1, 1),
                   address=Address("7 Maple Lane", "Edmond", "OK", "73010"), pcp_npi=PCP)
            for i in range(1, 4)
        )  # fmt: skip
        uow.staff.upsert_many([Staff("S-ICM", "Casey", "CM", frozenset({Credential.INTENSIVE_CM}))])
        uow.users.add(SUPERVISOR, None)
        uow.users.add(CM, None)
        uow.commit()
    return store


def _uow(store: SqlStore) -> CareUnitOfWork:
    return SqlCareUnitOfWork(store.session_factory)


def _assigned(store: SqlStore) -> CareUnitOfWork:
    params = CareParameters.from_packs(load_packs(PACKS))
    assign_member(
        _uow(store), SUPERVISOR, member_id="M1", staff_id="S-ICM", caseload_type=CaseloadType.INTENSIVE,
        now=NOW, limits=params.caseload_limits,
    )  # fmt: skip
    return _uow(store)


def test_coc02_pcp_letter_stored_once_and_coc04_refusal_leaves_none(care: SqlStore) -> None:
    _assigned(care)
    uow = _uow(care)
    (task,) = raise_coordination_tasks(
        uow, CM, member_id="M1", events=[PlannedTreatment("M1", date(2026, 3, 9), ECT)], now=NOW,
        scopes=UowScopeResolver(uow),
    )  # fmt: skip
    writer = Writer()
    refused_uow = _uow(care)
    with pytest.raises(DisclosureRefused):
        send_pcp_letter(
            refused_uow, CM, member_id="M1", task_id=task.task_id, plan=PLAN, pcp=PCP_RECIPIENT,
            coordinator=COORDINATOR, write=writer, now=NOW, tz=CHICAGO,
            scopes=UowScopeResolver(refused_uow), record_kind=RecordKind.SUD_PROGRAM,
        )  # fmt: skip
    assert writer.written == []
    with _uow(care) as check:
        assert check.letters.count() == 0
        assert any(
            e.action is AuditAction.REFUSE and e.detail.get("rule") == "REG-06" for e in check.audit.list()
        )
    sent = []
    for _ in range(2):
        u = _uow(care)
        sent.append(
            send_pcp_letter(
                u,
                CM,
                member_id="M1",
                task_id=task.task_id,
                plan=PLAN,
                pcp=PCP_RECIPIENT,
                coordinator=COORDINATOR,
                write=writer,
                now=NOW,
                tz=CHICAGO,
                scopes=UowScopeResolver(u),
            )
        )
    assert [s.created for s in sent] == [True, False]
    assert len(writer.written) == 1 and writer.written[0].reasons[0].rule_id == "COC-02"
    with _uow(care) as check:
        (letter,) = check.letters.for_member("M1")
        assert letter.recipient_id == PCP and letter.template == "pcp_coordination@1"


def test_tcm07_outreach_letter_once_per_task(care: SqlStore) -> None:
    _assigned(care)
    uow = _uow(care)
    task = record_missed_appointment(
        uow, CM, member_id="M1", missed_at=datetime(2026, 3, 6, 10, tzinfo=CHICAGO), tz=CHICAGO,
        holidays=frozenset(), scopes=UowScopeResolver(uow), now=NOW,
    )  # fmt: skip
    writer = Writer()
    results = []
    for _ in range(2):
        u = _uow(care)
        results.append(
            send_outreach_letter(
                u,
                CM,
                member_id="M1",
                task_id=task.task_id,
                missed_on=date(2026, 3, 6),
                plan=PLAN,
                case_manager=COORDINATOR,
                write=writer,
                scopes=UowScopeResolver(u),
                now=NOW,
                tz=CHICAGO,
            ).created
        )
    assert results == [True, False] and len(writer.written) == 1
    assert writer.written[0].missed_contact_on == date(2026, 3, 6)


def test_tcm09_bad_note_stores_nothing_good_note_round_trips(care: SqlStore) -> None:
    _assigned(care)
    note = ProgressNote(
        "N1", date(2026, 3, 9), ("member",), time(10), time(10, 45), SignatureKind.FAXED, date(2026, 3, 9),
        None, "CM II", "Goal 1", (ActivityCode.FACE_TO_FACE_MEMBER,), "", "progress", "engaged", "none", "",
    )  # fmt: skip
    uow = _uow(care)
    with pytest.raises(InputError) as err:
        record_progress_note(uow, CM, note, member_id="M1", scopes=UowScopeResolver(uow), now=NOW)
    assert err.value.field == "member_satisfaction"
    with _uow(care) as check:
        assert check.progress_notes.for_member("M1") == []
    uow = _uow(care)
    stored = record_progress_note(
        uow, CM, replace(note, member_satisfaction="satisfied"), member_id="M1", scopes=UowScopeResolver(uow),
        now=NOW, original_signature_days=30,
    )  # fmt: skip
    assert stored.original_signature_due == date(2026, 4, 8)
    with _uow(care) as check:
        (back,) = check.progress_notes.for_member("M1")
        assert back.note.member_satisfaction == "satisfied"
