"""Case management, consent and coordination services on a migrated SQLite store (TCM-06/07/09/12,
COC-02/04, REG-06): access by caseload, refusals audited, bad input leaves nothing stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bhum.adapters.holidays import us_federal_holidays_for_span
from bhum.adapters.store import SqlStore, upgrade
from bhum.adapters.store.care_management import SqlCareUnitOfWork
from bhum.domain.access import AuditAction, Role, User
from bhum.domain.case_management import (
    ActivityCode,
    CaseloadType,
    ProgressNote,
    SignatureKind,
    SupervisorOverride,
)
from bhum.domain.consent import Consent, ConsentScope, DisclosurePurpose, RecordKind
from bhum.domain.coordination import ECT, PlannedTreatment
from bhum.domain.errors import InputError, PermissionDenied
from bhum.domain.members import Member, Sex
from bhum.domain.providers import Credential, Staff
from bhum.domain.tasks import TaskKind
from bhum.services.care_records import CareUnitOfWork
from bhum.services.case_management import (
    AssignmentRefused,
    assign_member,
    escalate_overdue_tasks,
    record_missed_appointment,
    record_progress_note,
    record_refusal,
)
from bhum.services.consent import DisclosureRefused, disclose, record_consent
from bhum.services.coordination import notify_pcp, raise_coordination_tasks
from bhum.services.directory import UowScopeResolver

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
CHICAGO = ZoneInfo("America/Chicago")
PCP = "1234567893"
CM_USER = User("U-CM", "casey", "Casey CM", frozenset({Role.CASE_MANAGER}), staff_id="S-ICM")
OTHER_CM = User("U-CM2", "morgan", "Morgan CM", frozenset({Role.CASE_MANAGER}), staff_id="S-CM2")
SUPERVISOR = User("U-MD", "drew", "Drew MD", frozenset({Role.MEDICAL_DIRECTOR}))


class Store:
    def __init__(self, url: str) -> None:
        self.sql = SqlStore(url)

    def uow(self) -> CareUnitOfWork:
        return SqlCareUnitOfWork(self.sql.session_factory)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path / 'cm.sqlite3'}"
    upgrade(url)
    s = Store(url)
    members = [
        Member(f"M{i}", "Syn", f"Thetic{i}", Sex.UNKNOWN, date(1980, 1, 1), pcp_npi=PCP) for i in range(1, 18)
    ]
    with s.uow() as uow:
        uow.members.upsert_many(members)
        uow.staff.upsert_many(
            [
                Staff("S-ICM", "Casey", "CM", frozenset({Credential.CM_II, Credential.INTENSIVE_CM})),
                Staff("S-CM2", "Morgan", "CM", frozenset({Credential.CM_II})),
            ]
        )
        for user in (CM_USER, OTHER_CM, SUPERVISOR):
            uow.users.add(user, None)
        uow.commit()
    yield s
    s.sql.dispose()


def _scopes(s: Store) -> UowScopeResolver:
    return UowScopeResolver(s.sql.unit_of_work().__enter__())


def _fill_intensive(s: Store, n: int) -> None:
    for i in range(1, n + 1):
        assign_member(
            s.uow(),
            CM_USER,
            member_id=f"M{i}",
            staff_id="S-ICM",
            caseload_type=CaseloadType.INTENSIVE,
            now=NOW,
        )


def _audit(s: Store, action: AuditAction) -> list[str]:
    with s.uow() as uow:
        return [e.entity_type for e in uow.audit.list() if e.action is action]


def test_tcm06_15th_intensive_accepted_16th_refused_and_audited_nothing_stored(store: Store) -> None:
    _fill_intensive(store, 15)
    with pytest.raises(AssignmentRefused) as err:
        assign_member(
            store.uow(),
            CM_USER,
            member_id="M16",
            staff_id="S-ICM",
            caseload_type=CaseloadType.INTENSIVE,
            now=NOW,
        )
    assert err.value.decision is not None and err.value.decision.count_after == 16
    with store.uow() as uow:
        assert len(uow.caseload_assignments.for_staff("S-ICM")) == 15
        assert uow.cases.for_member("M16") == []
    assert "caseload" in _audit(store, AuditAction.REFUSE)


def test_tcm06_16th_accepted_with_supervisor_override(store: Store) -> None:
    _fill_intensive(store, 15)
    case, decision = assign_member(
        store.uow(),
        CM_USER,
        member_id="M16",
        staff_id="S-ICM",
        caseload_type=CaseloadType.INTENSIVE,
        now=NOW,
        override=SupervisorOverride("U-MD", "covering a colleague's caseload"),
    )
    assert decision.overridden and case.assigned_staff_id == "S-ICM"
    with store.uow() as uow:
        (stored,) = [a for a in uow.caseload_assignments.for_staff("S-ICM") if a.member_id == "M16"]
        assert stored.override_reason == "covering a colleague's caseload"


def test_tcm06_override_by_non_supervisor_refused(store: Store) -> None:
    _fill_intensive(store, 15)
    with pytest.raises(InputError) as err:
        assign_member(
            store.uow(),
            CM_USER,
            member_id="M16",
            staff_id="S-ICM",
            caseload_type=CaseloadType.INTENSIVE,
            now=NOW,
            override=SupervisorOverride("U-CM2", "because"),
        )
    assert err.value.field == "supervisor_id"


def test_case_manager_cannot_assign_to_another_caseload(store: Store) -> None:
    with pytest.raises(PermissionDenied):
        assign_member(
            store.uow(),
            CM_USER,
            member_id="M1",
            staff_id="S-CM2",
            caseload_type=CaseloadType.STANDARD,
            now=NOW,
        )
    assert _audit(store, AuditAction.REFUSE) == ["caseload"]


def test_case_manager_sees_only_their_caseload(store: Store) -> None:
    _fill_intensive(store, 1)
    # OTHER_CM is refused on scope before anything else; the refusal is audited.
    with pytest.raises(PermissionDenied):
        record_refusal(
            store.uow(),
            OTHER_CM,
            member_id="M1",
            refused_on=date(2026, 3, 10),
            scopes=_scopes(store),
            now=NOW,
        )
    assert _audit(store, AuditAction.REFUSE) == ["member"]


def _note(note_id: str, **overrides: object) -> ProgressNote:
    values: dict[str, object] = {
        "note_id": note_id,
        "session_date": date(2026, 3, 10),
        "persons_served": ("member",),
        "start_time": time(10, 0),
        "stop_time": time(10, 30),
        "signature": SignatureKind.FAXED,
        "signed_on": date(2026, 3, 10),
        "provider_credentials": "CM II",
        "plan_needs_addressed": "goal 1",
        "activities": (ActivityCode.FACE_TO_FACE_MEMBER,),
        "progress_or_barriers": "progress",
        "member_response": "engaged",
        "new_needs_identified": "none",
        "member_satisfaction": "satisfied",
    }
    values.update(overrides)
    return ProgressNote(**values)  # type: ignore[arg-type]


def test_tcm09_note_stored_with_original_signature_due(store: Store) -> None:
    _fill_intensive(store, 1)
    stored = record_progress_note(
        store.uow(), CM_USER, _note("N1"), member_id="M1", scopes=_scopes(store), now=NOW
    )
    assert stored.original_signature_due == date(2026, 4, 9)
    with store.uow() as uow:
        again = uow.progress_notes.get("N1")
        assert (
            again is not None
            and again.note == _note("N1")
            and again.original_signature_due == date(2026, 4, 9)
        )


def test_tcm09_incomplete_note_refused_naming_elements_nothing_stored(store: Store) -> None:
    _fill_intensive(store, 1)
    with pytest.raises(InputError) as err:
        record_progress_note(
            store.uow(),
            CM_USER,
            _note("N2", member_satisfaction=""),
            member_id="M1",
            scopes=_scopes(store),
            now=NOW,
        )
    assert err.value.field == "member_satisfaction" and "satisfaction" in str(err.value)
    with store.uow() as uow:
        assert uow.progress_notes.for_member("M1") == []


def test_tcm07_missed_friday_before_holiday_outreach_due_wednesday_then_escalated(store: Store) -> None:
    _fill_intensive(store, 1)
    missed = datetime(2026, 1, 16, 15, 0, tzinfo=CHICAGO)  # Friday; Monday 19 Jan is a federal holiday
    task = record_missed_appointment(
        store.uow(),
        CM_USER,
        member_id="M1",
        missed_at=missed,
        tz=CHICAGO,
        holidays=us_federal_holidays_for_span(date(2026, 1, 1), date(2026, 1, 31)),
        scopes=_scopes(store),
        now=NOW,
    )
    assert task.kind is TaskKind.OUTREACH and task.rule_id == "TCM-07"
    assert task.due_at.astimezone(CHICAGO).date() == date(2026, 1, 21)
    assert escalate_overdue_tasks(store.uow(), supervisor_id="U-MD", now=task.due_at) == []
    later = datetime(2026, 1, 22, 6, 0, tzinfo=UTC)
    (escalated,) = escalate_overdue_tasks(store.uow(), supervisor_id="U-MD", now=later)
    assert escalated.escalated and escalated.assigned_to == "U-MD"
    assert escalate_overdue_tasks(store.uow(), supervisor_id="U-MD", now=later) == []


def test_tcm12_refused_member_not_assigned(store: Store) -> None:
    _fill_intensive(store, 1)
    record_refusal(
        store.uow(), CM_USER, member_id="M1", refused_on=date(2026, 3, 1), scopes=_scopes(store), now=NOW
    )
    with pytest.raises(AssignmentRefused):
        assign_member(
            store.uow(),
            OTHER_CM,
            member_id="M1",
            staff_id="S-CM2",
            caseload_type=CaseloadType.STANDARD,
            now=NOW,
        )


def test_reg06_disclosure_without_consent_refused_and_audited_then_allowed_with_consent(store: Store) -> None:
    _fill_intensive(store, 1)
    args = {
        "member_id": "M1",
        "record_kind": RecordKind.SUD_PROGRAM,
        "recipient": f"npi:{PCP}",
        "purpose": DisclosurePurpose.TREATMENT,
        "entity_type": "progress_note",
        "entity_id": "N1",
        "now": NOW,
    }
    with pytest.raises(DisclosureRefused) as err:
        disclose(store.uow(), CM_USER, **args)  # type: ignore[arg-type]
    assert err.value.decision.rule_id == "REG-06"
    with store.uow() as uow:
        (refusal,) = [e for e in uow.audit.list() if e.action is AuditAction.REFUSE]
        assert refusal.detail["rule"] == "REG-06" and refusal.member_id == "M1"
    consent = Consent("C1", "M1", ConsentScope.SUD_PROGRAM_RECORDS, f"npi:{PCP}", date(2026, 3, 1))
    record_consent(store.uow(), CM_USER, consent, scopes=_scopes(store), now=NOW)
    decision = disclose(store.uow(), CM_USER, **args)  # type: ignore[arg-type]
    assert decision.allowed and decision.consent_id == "C1"
    assert "progress_note" in _audit(store, AuditAction.DISCLOSE)


def test_coc04_psychotherapy_notes_refused_without_release(store: Store) -> None:
    with pytest.raises(DisclosureRefused) as err:
        disclose(
            store.uow(),
            "system:letters",
            member_id="M1",
            record_kind=RecordKind.PSYCHOTHERAPY_NOTES,
            recipient=f"npi:{PCP}",
            purpose=DisclosurePurpose.TREATMENT,
            entity_type="letter",
            entity_id="L1",
            now=NOW,
        )
    assert err.value.decision.rule_id == "COC-04"
    assert _audit(store, AuditAction.REFUSE) == ["letter"]


def test_bad_consent_for_unknown_member_nothing_stored(store: Store) -> None:
    consent = Consent("C9", "NOPE", ConsentScope.GENERAL, f"npi:{PCP}", date(2026, 3, 1))
    admin_like = User("U-R", "rev", "Rev", frozenset({Role.MEDICAL_DIRECTOR}))
    with pytest.raises(PermissionDenied):  # a medical director holds no CASE_MANAGE
        record_consent(store.uow(), admin_like, consent, scopes=_scopes(store), now=NOW)
    with store.uow() as uow:
        assert uow.consents.get("C9") is None


def test_coc02_ect_raises_coordination_task_and_pcp_notification_is_audited(store: Store) -> None:
    (task,) = raise_coordination_tasks(
        store.uow(),
        "system:claims",
        member_id="M2",
        events=[PlannedTreatment("M2", date(2026, 3, 10), ECT)],
        now=NOW,
    )
    assert task.spec.rule_id == "COC-02" and task.spec.pcp_npi == PCP
    with store.uow() as uow:
        (stored,) = uow.coordination_tasks.for_member("M2")
        assert stored.spec == task.spec
    assert notify_pcp(store.uow(), "system:letters", task, now=NOW) == PCP
    assert "coordination_task" in _audit(store, AuditAction.DISCLOSE)


def test_coordination_event_for_another_member_refused_nothing_stored(store: Store) -> None:
    with pytest.raises(InputError):
        raise_coordination_tasks(
            store.uow(),
            "system:claims",
            member_id="M2",
            events=[PlannedTreatment("M3", date(2026, 3, 10), ECT)],
            now=NOW,
        )
    with store.uow() as uow:
        assert uow.coordination_tasks.for_member("M3") == []
