"""Service plans stored (TCM-10) on SQLite and PostgreSQL: validated at entry (the missing field named,
nothing stored), idempotent by plan id, a revision stored as the next version, scope refusals audited,
and the MN-05 documentation audit reading the stored plans when no plans file is given."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pyarrow as pa
import pytest

from bhum.adapters.store import SqlStore
from bhum.adapters.store.care_management import SqlCareUnitOfWork
from bhum.domain.access import AuditAction, Role, User
from bhum.domain.case_management import CaseloadType, PlanGoal, ServicePlan
from bhum.domain.errors import InputError, PermissionDenied
from bhum.domain.members import Member, Sex
from bhum.domain.providers import Credential, Staff
from bhum.domain.values import DateSpan
from bhum.services.care_records import CareUnitOfWork
from bhum.services.case_management import (
    RecordedServicePlan,
    assign_member,
    record_service_plan,
    service_plan_versions,
    service_plans_of,
)
from bhum.services.directory import UowScopeResolver
from bhum.services.documentation_audit import AuditParameters, run_documentation_audit

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
LATER = datetime(2026, 4, 2, 15, 0, tzinfo=UTC)
SUPERVISOR = User("U-SUP", "sam", "Sam Sup", frozenset({Role.CM_SUPERVISOR}), staff_id="S-SUP")
CM = User("U-CM", "casey", "Casey CM", frozenset({Role.CASE_MANAGER}), staff_id="S-CM")
SPAN = DateSpan(date(2026, 3, 1), date(2026, 8, 31))
PLAN = ServicePlan(
    plan_id="SP-1",
    goals=(PlanGoal("Stable housing", ("Apply for two units by April", "Keep the lease")),),
    member_participated=True,
    member_signed_on=date(2026, 3, 2),
    case_manager_signed_on=date(2026, 3, 2),
    licensed_professional_signed_on=date(2026, 3, 3),
    licensed_professional_id="LP-9",
)


@pytest.fixture
def care(store: SqlStore) -> SqlStore:
    with SqlCareUnitOfWork(store.session_factory) as uow:
        uow.members.upsert_many(
            Member(f"M{i}", "Syn", f"Thetic{i}", Sex.UNKNOWN, date(1980, 1, 1)) for i in range(1, 4)
        )
        uow.staff.upsert_many([Staff("S-CM", "Casey", "CM", frozenset({Credential.CM_II}))])
        uow.users.add(SUPERVISOR, None)
        uow.users.add(CM, None)
        uow.commit()
    assign_member(
        _uow(store), SUPERVISOR, member_id="M1", staff_id="S-CM", caseload_type=CaseloadType.STANDARD, now=NOW
    )
    return store


def _uow(store: SqlStore) -> CareUnitOfWork:
    return SqlCareUnitOfWork(store.session_factory)


def _record(
    store: SqlStore,
    plan: ServicePlan,
    *,
    member_id: str = "M1",
    actor: User = CM,
    effective: DateSpan = SPAN,
    now: datetime = NOW,
) -> RecordedServicePlan:
    uow = _uow(store)
    return record_service_plan(
        uow, actor, plan, member_id=member_id, effective=effective, scopes=UowScopeResolver(uow), now=now
    )


def _stored_count(store: SqlStore) -> int:
    with _uow(store) as uow:
        return len(uow.service_plans.versions("SP-1"))


def test_tcm10_complete_plan_stored_once_and_a_revision_is_the_next_version(care: SqlStore) -> None:
    first = _record(care, PLAN)
    again = _record(care, PLAN, now=LATER)
    assert (first.created, first.stored.version) == (True, 1)
    assert (again.created, again.stored.version) == (False, 1)
    assert again.stored.recorded_at == NOW  # the stored version, untouched
    assert _stored_count(care) == 1

    revised_plan = replace(PLAN, goals=(*PLAN.goals, PlanGoal("Employment", ("Two applications a week",))))
    revised = _record(care, revised_plan, effective=DateSpan(date(2026, 3, 1), date(2026, 5, 31)), now=LATER)
    assert (revised.created, revised.stored.version) == (True, 2)
    uow = _uow(care)
    versions = service_plan_versions(
        uow, CM, member_id="M1", plan_id="SP-1", scopes=UowScopeResolver(uow), now=LATER
    )
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].plan == PLAN and versions[1].plan == revised_plan  # goals and objectives round-trip
    assert versions[1].effective == DateSpan(date(2026, 3, 1), date(2026, 5, 31))
    uow = _uow(care)
    (newest,) = service_plans_of(uow, CM, member_id="M1", scopes=UowScopeResolver(uow), now=LATER)
    assert newest.version == 2 and newest.recorded_by == CM.id
    with _uow(care) as check:
        actions = [(e.action, e.entity_id) for e in check.audit.list() if e.entity_type == "service_plan"]
    assert (AuditAction.CREATE, "SP-1") in actions and (AuditAction.UPDATE, "SP-1") in actions


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"member_signed_on": None}, "member_signed_on"),
        ({"case_manager_signed_on": None}, "case_manager_signed_on"),
        ({"licensed_professional_signed_on": None}, "licensed_professional_signed_on"),
        ({"member_participated": False}, "member_participated"),
        ({"goals": ()}, "goals"),
        ({"goals": (PlanGoal("Stable housing", ()),)}, "goals[1].objectives"),
    ],
)
def test_tcm10_incomplete_plan_refused_naming_the_field_and_nothing_stored(
    care: SqlStore, change: dict[str, object], field: str
) -> None:
    with pytest.raises(InputError) as err:
        _record(care, replace(PLAN, **change))  # type: ignore[arg-type]
    assert err.value.field == field and err.value.record == "SP-1"
    assert _stored_count(care) == 0


def test_tcm10_a_revision_missing_a_signature_keeps_the_stored_version(care: SqlStore) -> None:
    _record(care, PLAN)
    with pytest.raises(InputError) as err:
        _record(care, replace(PLAN, licensed_professional_signed_on=None), now=LATER)
    assert err.value.field == "licensed_professional_signed_on"
    assert _stored_count(care) == 1


def test_tcm10_plan_id_of_another_member_refused(care: SqlStore) -> None:
    _record(care, PLAN)
    with pytest.raises(InputError) as err:
        _record(care, PLAN, member_id="M2", actor=SUPERVISOR)
    assert err.value.field == "plan_id"
    with _uow(care) as check:
        assert [v.member_id for v in check.service_plans.versions("SP-1")] == ["M1"]


def test_case_manager_cannot_store_a_plan_off_their_caseload_refusal_audited(care: SqlStore) -> None:
    with pytest.raises(PermissionDenied):
        _record(care, replace(PLAN, plan_id="SP-2"), member_id="M2")
    with _uow(care) as check:
        assert check.service_plans.versions("SP-2") == []
        assert any(
            e.action is AuditAction.REFUSE and e.entity_type == "service_plan" and e.entity_id == "SP-2"
            for e in check.audit.list()
        )


def _billed(*rows: tuple[str, int, str, date]) -> pa.Table:
    return pa.table(
        {
            "claim_id": [r[0] for r in rows],
            "claim_line_number": [r[1] for r in rows],
            "member_id": [r[2] for r in rows],
            "hcpcs_code": ["T1017"] * len(rows),
            "claim_line_start_date": pa.array([r[3] for r in rows], pa.date32()),
            "service_unit_quantity": [4.0] * len(rows),
            "paid_amount": [60.0] * len(rows),
        }
    )


def test_mn05_audit_reads_stored_plans_when_no_plans_are_given(care: SqlStore) -> None:
    """TCM-10 via MN-05: the session on the plan's first day is governed by the stored plan (newest
    version); the day before and a member without a stored plan have no plan."""
    _record(care, PLAN)
    _record(care, replace(PLAN, licensed_professional_id="LP-10"), now=LATER)  # version 2
    billed = _billed(
        ("C1", 1, "M1", date(2026, 3, 1)),  # first day of the plan
        ("C2", 1, "M1", date(2026, 2, 28)),  # the day before
        ("C3", 1, "M2", date(2026, 3, 5)),  # no plan stored for M2
    )
    audit = run_documentation_audit(
        lambda: _uow(care), billed, [], None,
        parameters=AuditParameters(service_code="T1017", original_signature_days=30),
        actor="system:test", now=LATER, reason="test",
    )  # fmt: skip
    rows = {r["claim_id"]: r for r in audit.sessions.to_pylist()}
    assert rows["C1"]["plan_id"] == "SP-1" and rows["C1"]["plan_missing_signatures"] == ""
    assert rows["C2"]["plan_id"] is None and rows["C3"]["plan_id"] is None
    assert audit.summary.plans == 1  # one plan: its newest version only
    assert audit.summary.sessions_without_plan == 2
    with _uow(care) as check:
        (event,) = [e for e in check.audit.list() if e.entity_type == "documentation_audit"]
    assert event.detail["plans_from"] == "store" and event.member_id is None
