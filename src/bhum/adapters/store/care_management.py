"""Store tables and repositories for case management, consent and coordination (migration 0002;
service plans: migration 0006).

``SqlCareUnitOfWork`` extends the store's unit of work with the care-management repositories; it is
a drop-in replacement for ``SqlAlchemyUnitOfWork`` (same session, same transaction).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any, Self

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from bhum.adapters.store.tables import Base, CaseRow
from bhum.adapters.store.uow import SqlAlchemyUnitOfWork
from bhum.domain.case_management import (
    ActivityCode,
    CaseloadType,
    CaseManagementRefusal,
    PlanGoal,
    ProgressNote,
    ServicePlan,
    SignatureKind,
)
from bhum.domain.cases import CaseStatus
from bhum.domain.consent import Consent, ConsentScope, DisclosurePurpose
from bhum.domain.coordination import CoordinationTaskSpec, CoordinationTrigger
from bhum.domain.errors import NotFound
from bhum.domain.values import Code, DateSpan
from bhum.services.care_records import (
    CareUnitOfWork,
    CaseloadAssignment,
    CoordinationTask,
    StoredProgressNote,
    StoredServicePlan,
)


class CaseloadAssignmentRow(Base):
    __tablename__ = "cm_caseload_assignments"
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), primary_key=True)
    staff_id: Mapped[str] = mapped_column(index=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), index=True)
    caseload_type: Mapped[str] = mapped_column(String(16))
    assigned_at: Mapped[datetime]
    family_id: Mapped[str | None]
    override_supervisor_id: Mapped[str | None]
    override_reason: Mapped[str] = mapped_column(Text, default="")


class ConsentRow(Base):
    __tablename__ = "cm_consents"
    consent_id: Mapped[str] = mapped_column(primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), index=True)
    scope: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str]
    purposes: Mapped[str] = mapped_column(Text)  # ";"-joined
    signed_on: Mapped[date]
    expires_on: Mapped[date | None]
    revoked_on: Mapped[date | None]
    written: Mapped[bool] = mapped_column(Boolean)


class RefusalRow(Base):
    __tablename__ = "cm_refusals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), index=True)
    refused_on: Mapped[date]
    recorded_by: Mapped[str]
    reason: Mapped[str] = mapped_column(Text, default="")
    withdrawn_on: Mapped[date | None]


class ProgressNoteRow(Base):
    __tablename__ = "cm_progress_notes"
    note_id: Mapped[str] = mapped_column(primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), index=True)
    staff_id: Mapped[str]
    session_date: Mapped[date]
    recorded_at: Mapped[datetime]
    signature: Mapped[str] = mapped_column(String(16))
    original_signature_due: Mapped[date | None]
    original_signature_on: Mapped[date | None]
    body: Mapped[dict[str, Any]] = mapped_column(JSON)  # the remaining TCM-09 elements


class CoordinationTaskRow(Base):
    __tablename__ = "cm_coordination_tasks"
    task_id: Mapped[str] = mapped_column(primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), index=True)
    trigger: Mapped[str] = mapped_column(String(40))
    rule_id: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date]
    notify_pcp: Mapped[bool] = mapped_column(Boolean)
    pcp_npi: Mapped[str | None] = mapped_column(String(10))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"codes": [[system, code, display], ...]}
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="open")


class ServicePlanRow(Base):
    """One version of a service plan (TCM-10); a revision adds a row with the next version."""

    __tablename__ = "cm_service_plans"
    plan_id: Mapped[str] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), index=True)
    effective_from: Mapped[date]
    effective_to: Mapped[date | None]
    goals: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"goals": [{"goal", "objectives": [...]}]}
    member_participated: Mapped[bool] = mapped_column(Boolean)
    member_signed_on: Mapped[date | None]
    case_manager_signed_on: Mapped[date | None]
    licensed_professional_signed_on: Mapped[date | None]
    licensed_professional_id: Mapped[str | None]
    recorded_by: Mapped[str]
    recorded_at: Mapped[datetime]


# --- repositories --------------------------------------------------------------------------------


class SqlCaseloadAssignmentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, a: CaseloadAssignment) -> None:
        self.session.add(
            CaseloadAssignmentRow(
                case_id=a.case_id,
                staff_id=a.staff_id,
                member_id=a.member_id,
                caseload_type=a.caseload_type.value,
                assigned_at=a.assigned_at,
                family_id=a.family_id,
                override_supervisor_id=a.override_supervisor_id,
                override_reason=a.override_reason,
            )
        )
        self.session.flush()

    def for_staff(self, staff_id: str) -> Sequence[CaseloadAssignment]:
        query = (
            select(CaseloadAssignmentRow)
            .join(CaseRow, CaseRow.case_id == CaseloadAssignmentRow.case_id)
            .where(CaseloadAssignmentRow.staff_id == staff_id, CaseRow.status != CaseStatus.CLOSED.value)
            .order_by(CaseloadAssignmentRow.case_id)
        )
        return [
            CaseloadAssignment(
                case_id=r.case_id,
                staff_id=r.staff_id,
                member_id=r.member_id,
                caseload_type=CaseloadType(r.caseload_type),
                assigned_at=r.assigned_at,
                family_id=r.family_id,
                override_supervisor_id=r.override_supervisor_id,
                override_reason=r.override_reason,
            )
            for r in self.session.scalars(query)
        ]


def _consent(row: ConsentRow) -> Consent:
    return Consent(
        consent_id=row.consent_id,
        member_id=row.member_id,
        scope=ConsentScope(row.scope),
        recipient=row.recipient,
        signed_on=row.signed_on,
        purposes=frozenset(DisclosurePurpose(p) for p in row.purposes.split(";") if p),
        expires_on=row.expires_on,
        revoked_on=row.revoked_on,
        written=row.written,
    )


class SqlConsentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    @staticmethod
    def _fields(c: Consent) -> dict[str, Any]:
        return {
            "member_id": c.member_id,
            "scope": c.scope.value,
            "recipient": c.recipient,
            "purposes": ";".join(sorted(p.value for p in c.purposes)),
            "signed_on": c.signed_on,
            "expires_on": c.expires_on,
            "revoked_on": c.revoked_on,
            "written": c.written,
        }

    def add(self, consent: Consent) -> None:
        self.session.add(ConsentRow(consent_id=consent.consent_id, **self._fields(consent)))
        self.session.flush()

    def save(self, consent: Consent) -> None:
        result = self.session.execute(
            update(ConsentRow)
            .where(ConsentRow.consent_id == consent.consent_id)
            .values(**self._fields(consent))
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise NotFound(f"consent {consent.consent_id} is not stored")

    def get(self, consent_id: str) -> Consent | None:
        row = self.session.get(ConsentRow, consent_id)
        return None if row is None else _consent(row)

    def for_member(self, member_id: str) -> Sequence[Consent]:
        query = select(ConsentRow).where(ConsentRow.member_id == member_id).order_by(ConsentRow.consent_id)
        return [_consent(r) for r in self.session.scalars(query)]


class SqlRefusalRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, refusal: CaseManagementRefusal) -> None:
        self.session.add(
            RefusalRow(
                member_id=refusal.member_id,
                refused_on=refusal.refused_on,
                recorded_by=refusal.recorded_by,
                reason=refusal.reason,
                withdrawn_on=refusal.withdrawn_on,
            )
        )
        self.session.flush()

    def for_member(self, member_id: str) -> Sequence[CaseManagementRefusal]:
        query = select(RefusalRow).where(RefusalRow.member_id == member_id).order_by(RefusalRow.id)
        return [
            CaseManagementRefusal(r.member_id, r.refused_on, r.recorded_by, r.reason, r.withdrawn_on)
            for r in self.session.scalars(query)
        ]


_NOTE_TEXT = (
    "provider_credentials",
    "plan_needs_addressed",
    "activity_narrative",
    "progress_or_barriers",
    "member_response",
    "new_needs_identified",
    "member_satisfaction",
)


class SqlProgressNoteRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, stored: StoredProgressNote) -> None:
        note = stored.note
        if note.session_date is None or note.signature is None:
            raise ValueError("only validated notes are stored")
        body: dict[str, Any] = {name: getattr(note, name) for name in _NOTE_TEXT}
        body["persons_served"] = list(note.persons_served)
        body["activities"] = [a.value for a in note.activities]
        body["start_time"] = note.start_time.isoformat() if note.start_time else None
        body["stop_time"] = note.stop_time.isoformat() if note.stop_time else None
        body["signed_on"] = note.signed_on.isoformat() if note.signed_on else None
        self.session.add(
            ProgressNoteRow(
                note_id=note.note_id,
                member_id=stored.member_id,
                staff_id=stored.staff_id,
                session_date=note.session_date,
                recorded_at=stored.recorded_at,
                signature=note.signature.value,
                original_signature_due=stored.original_signature_due,
                original_signature_on=note.original_signature_on,
                body=body,
            )
        )
        self.session.flush()

    @staticmethod
    def _from_row(row: ProgressNoteRow) -> StoredProgressNote:
        b = row.body
        note = ProgressNote(
            note_id=row.note_id,
            session_date=row.session_date,
            persons_served=tuple(b["persons_served"]),
            start_time=time.fromisoformat(b["start_time"]) if b["start_time"] else None,
            stop_time=time.fromisoformat(b["stop_time"]) if b["stop_time"] else None,
            signature=SignatureKind(row.signature),
            signed_on=date.fromisoformat(b["signed_on"]) if b["signed_on"] else None,
            original_signature_on=row.original_signature_on,
            activities=tuple(ActivityCode(a) for a in b["activities"]),
            **{name: b[name] for name in _NOTE_TEXT},
        )
        return StoredProgressNote(
            note, row.member_id, row.staff_id, row.recorded_at, row.original_signature_due
        )

    def get(self, note_id: str) -> StoredProgressNote | None:
        row = self.session.get(ProgressNoteRow, note_id)
        return None if row is None else self._from_row(row)

    def for_member(self, member_id: str) -> Sequence[StoredProgressNote]:
        query = (
            select(ProgressNoteRow)
            .where(ProgressNoteRow.member_id == member_id)
            .order_by(ProgressNoteRow.session_date, ProgressNoteRow.note_id)
        )
        return [self._from_row(r) for r in self.session.scalars(query)]


def _service_plan(row: ServicePlanRow) -> StoredServicePlan:
    plan = ServicePlan(
        plan_id=row.plan_id,
        goals=tuple(PlanGoal(g["goal"], tuple(g["objectives"])) for g in row.goals["goals"]),
        member_participated=row.member_participated,
        member_signed_on=row.member_signed_on,
        case_manager_signed_on=row.case_manager_signed_on,
        licensed_professional_signed_on=row.licensed_professional_signed_on,
        licensed_professional_id=row.licensed_professional_id,
    )
    return StoredServicePlan(
        plan, row.member_id, DateSpan(row.effective_from, row.effective_to), row.version,
        row.recorded_by, row.recorded_at,
    )  # fmt: skip


class SqlServicePlanRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, stored: StoredServicePlan) -> None:
        p = stored.plan
        self.session.add(
            ServicePlanRow(
                plan_id=p.plan_id,
                version=stored.version,
                member_id=stored.member_id,
                effective_from=stored.effective.start,
                effective_to=stored.effective.end,
                goals={"goals": [{"goal": g.goal, "objectives": list(g.objectives)} for g in p.goals]},
                member_participated=p.member_participated,
                member_signed_on=p.member_signed_on,
                case_manager_signed_on=p.case_manager_signed_on,
                licensed_professional_signed_on=p.licensed_professional_signed_on,
                licensed_professional_id=p.licensed_professional_id,
                recorded_by=stored.recorded_by,
                recorded_at=stored.recorded_at,
            )
        )
        self.session.flush()  # a concurrent twin of the same version fails here, on the primary key

    def latest(self, plan_id: str) -> StoredServicePlan | None:
        query = (
            select(ServicePlanRow)
            .where(ServicePlanRow.plan_id == plan_id)
            .order_by(ServicePlanRow.version.desc())
            .limit(1)
        )
        row = self.session.scalars(query).first()
        return None if row is None else _service_plan(row)

    def versions(self, plan_id: str) -> Sequence[StoredServicePlan]:
        query = (
            select(ServicePlanRow).where(ServicePlanRow.plan_id == plan_id).order_by(ServicePlanRow.version)
        )
        return [_service_plan(r) for r in self.session.scalars(query)]

    def for_members(self, member_ids: Sequence[str]) -> Sequence[StoredServicePlan]:
        wanted = sorted(set(member_ids))
        found: list[StoredServicePlan] = []
        for start in range(0, len(wanted), 1000):  # bounded IN lists
            chunk = wanted[start : start + 1000]
            newest = (
                select(ServicePlanRow.plan_id, func.max(ServicePlanRow.version).label("version"))
                .where(ServicePlanRow.member_id.in_(chunk))
                .group_by(ServicePlanRow.plan_id)
                .subquery()
            )
            query = select(ServicePlanRow).join(
                newest,
                (ServicePlanRow.plan_id == newest.c.plan_id) & (ServicePlanRow.version == newest.c.version),
            )
            found.extend(_service_plan(r) for r in self.session.scalars(query))
        return sorted(found, key=lambda s: (s.member_id, s.effective.start, s.plan.plan_id))


class SqlCoordinationTaskRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, task: CoordinationTask) -> None:
        s = task.spec
        self.session.add(
            CoordinationTaskRow(
                task_id=task.task_id,
                member_id=s.member_id,
                trigger=s.trigger.value,
                rule_id=s.rule_id,
                reason=s.reason,
                due_on=s.due_on,
                notify_pcp=s.notify_pcp,
                pcp_npi=s.pcp_npi,
                evidence={"codes": [[c.system, c.code, c.display] for c in s.evidence]},
                created_at=task.created_at,
                status=task.status,
            )
        )
        self.session.flush()

    def for_member(self, member_id: str) -> Sequence[CoordinationTask]:
        query = (
            select(CoordinationTaskRow)
            .where(CoordinationTaskRow.member_id == member_id)
            .order_by(CoordinationTaskRow.created_at, CoordinationTaskRow.task_id)
        )
        return [
            CoordinationTask(
                r.task_id,
                CoordinationTaskSpec(
                    r.member_id,
                    CoordinationTrigger(r.trigger),
                    r.reason,
                    r.due_on,
                    r.notify_pcp,
                    r.pcp_npi,
                    tuple(Code(c[0], c[1], c[2]) for c in r.evidence["codes"]),
                ),
                r.created_at,
                r.status,
            )
            for r in self.session.scalars(query)
        ]


class SqlCareUnitOfWork(SqlAlchemyUnitOfWork, CareUnitOfWork):
    """The store's unit of work plus the care-management repositories, in one transaction."""

    def __enter__(self) -> Self:
        entered = super().__enter__()
        s = self.session
        self.caseload_assignments = SqlCaseloadAssignmentRepository(s)
        self.consents = SqlConsentRepository(s)
        self.refusals = SqlRefusalRepository(s)
        self.progress_notes = SqlProgressNoteRepository(s)
        self.coordination_tasks = SqlCoordinationTaskRepository(s)
        self.service_plans = SqlServicePlanRepository(s)
        return entered
