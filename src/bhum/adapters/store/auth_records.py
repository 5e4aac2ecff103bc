"""Store tables and repository of the authorization engine (``uow.auth``), and the unit of work that
carries them. Migration 0003 creates the tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Self

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from bhum.adapters.store.repositories import insert_rows, insert_unless_conflict
from bhum.adapters.store.tables import (
    AuthorizationCodeRow,
    AuthorizationRow,
    Base,
    TestingPreauthNoticeRow,
)
from bhum.adapters.store.uow import SqlAlchemyUnitOfWork
from bhum.domain.authorization import ACTIVE_STATUSES
from bhum.domain.values import Code
from bhum.services.auth_records import (
    OPEN_STATUSES,
    AppealOutcome,
    AppealRecord,
    LetterJob,
    LetterJobStatus,
    PeerToPeerOutcome,
    PeerToPeerRecord,
    RequestRecord,
    RequestStatus,
)


class AuthRequestRow(Base):
    __tablename__ = "auth_requests"
    request_id: Mapped[str] = mapped_column(ForeignKey("service_requests.request_id"), primary_key=True)
    member_id: Mapped[str] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    received_at: Mapped[datetime]
    due_at: Mapped[datetime]
    due_rule_id: Mapped[str] = mapped_column(String(32))
    due_label: Mapped[str] = mapped_column(Text)
    program: Mapped[dict[str, Any]] = mapped_column(JSON)
    determination: Mapped[dict[str, Any]] = mapped_column(JSON)
    level_of_care: Mapped[str] = mapped_column(String(32))
    progress: Mapped[str | None] = mapped_column(String(32))
    related_authorization_id: Mapped[str | None] = mapped_column(index=True)
    authorization_id: Mapped[str | None]
    decided_at: Mapped[datetime | None]
    time_to_decision_seconds: Mapped[float | None] = mapped_column(Float)
    escalation: Mapped[int] = mapped_column(Integer, default=0)
    reviewer_staff_id: Mapped[str | None]


class AuthAppealRow(Base):
    __tablename__ = "auth_appeals"
    appeal_id: Mapped[str] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("auth_requests.request_id"), index=True)
    filed_at: Mapped[datetime]
    filed_by: Mapped[str]
    reason: Mapped[str] = mapped_column(Text)
    original_reviewer_staff_id: Mapped[str | None]
    reviewer_staff_id: Mapped[str | None]
    outcome: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None]
    notes: Mapped[str] = mapped_column(Text, default="")


class AuthPeerToPeerRow(Base):
    __tablename__ = "auth_peer_to_peer"
    p2p_id: Mapped[str] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("auth_requests.request_id"), index=True)
    offered_at: Mapped[datetime]
    reviewer_staff_id: Mapped[str | None]
    held_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(32))
    notes: Mapped[str] = mapped_column(Text, default="")


class AuthLetterJobRow(Base):
    __tablename__ = "auth_letter_jobs"
    letter_id: Mapped[str] = mapped_column(String(128), primary_key=True)  # the idempotency key
    kind: Mapped[str] = mapped_column(String(40))
    recipient_kind: Mapped[str] = mapped_column(String(16))
    recipient_id: Mapped[str]
    member_id: Mapped[str]
    request_id: Mapped[str] = mapped_column(ForeignKey("auth_requests.request_id"), index=True)
    decision_id: Mapped[str]
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), index=True)
    rendered_at: Mapped[datetime | None]
    file_path: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON)


_REQUEST_FIELDS = tuple(c.name for c in AuthRequestRow.__table__.columns)


def _request(row: AuthRequestRow) -> RequestRecord:
    values = {name: getattr(row, name) for name in _REQUEST_FIELDS}
    values["status"] = RequestStatus(row.status)
    return RequestRecord(**values)


def _appeal(row: AuthAppealRow) -> AppealRecord:
    return AppealRecord(
        appeal_id=row.appeal_id,
        request_id=row.request_id,
        filed_at=row.filed_at,
        filed_by=row.filed_by,
        reason=row.reason,
        original_reviewer_staff_id=row.original_reviewer_staff_id,
        reviewer_staff_id=row.reviewer_staff_id,
        outcome=AppealOutcome(row.outcome) if row.outcome else None,
        decided_at=row.decided_at,
        notes=row.notes,
    )


def _p2p(row: AuthPeerToPeerRow) -> PeerToPeerRecord:
    return PeerToPeerRecord(
        p2p_id=row.p2p_id,
        request_id=row.request_id,
        offered_at=row.offered_at,
        reviewer_staff_id=row.reviewer_staff_id,
        held_at=row.held_at,
        outcome=PeerToPeerOutcome(row.outcome) if row.outcome else None,
        notes=row.notes,
    )


def _job(row: AuthLetterJobRow) -> LetterJob:
    return LetterJob(
        letter_id=row.letter_id,
        kind=row.kind,
        recipient_kind=row.recipient_kind,
        recipient_id=row.recipient_id,
        member_id=row.member_id,
        request_id=row.request_id,
        decision_id=row.decision_id,
        created_at=row.created_at,
        status=LetterJobStatus(row.status),
        rendered_at=row.rendered_at,
        file_path=row.file_path,
        extra=dict(row.extra or {}),
    )


def _notice_applies_query() -> Any:
    """OPM-01 in SQL, the same test as ``TestingPreauthNotice.applies``. A notice names a member, a
    provider or both (the domain refuses neither), so it applies when it is the plan's, in force on
    the date, and either names this member (and no other provider) or names this provider and no
    member. The two branches use the member_id and provider_npi indexes: only the member's and the
    provider's own notices are looked at, however many the plan has."""
    n = TestingPreauthNoticeRow
    in_force = and_(
        n.plan_id == bindparam("plan_id"),
        n.effective_from <= bindparam("on"),
        or_(n.effective_to.is_(None), n.effective_to >= bindparam("on")),
    )
    for_member = exists().where(
        n.member_id == bindparam("member_id"),
        or_(n.provider_npi.is_(None), n.provider_npi == bindparam("provider_npi")),
        in_force,
    )
    for_provider = exists().where(
        n.provider_npi == bindparam("provider_npi"),
        n.member_id.is_(None),
        in_force,
    )
    return select(or_(for_member, for_provider))


def _open_authorization_start_query() -> Any:
    """IOP-14: max(start) of the member's active authorizations carrying the service code."""
    a, c = AuthorizationRow, AuthorizationCodeRow
    return select(func.max(a.start_date)).where(
        a.member_id == bindparam("member_id"),
        a.status.in_(sorted(s.value for s in ACTIVE_STATUSES)),
        exists().where(
            c.authorization_id == a.authorization_id,
            c.system == bindparam("system"),
            c.code == bindparam("code"),
        ),
    )


# Built once: the statements are reused with new parameters (their compiled form is cached).
NOTICE_APPLIES = _notice_applies_query()
OPEN_AUTHORIZATION_START = _open_authorization_start_query()


class SqlAuthRecords:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- "is authorization required?"
    def testing_notice_applies(self, *, plan_id: str, provider_npi: str, member_id: str, on: date) -> bool:
        found = self.session.connection().execute(
            NOTICE_APPLIES,
            {"plan_id": plan_id, "provider_npi": provider_npi, "member_id": member_id, "on": on},
        )
        return bool(found.scalar())

    def open_authorization_start(self, *, member_id: str, service: Code) -> date | None:
        found = self.session.connection().execute(
            OPEN_AUTHORIZATION_START,
            {"member_id": member_id, "system": service.system, "code": service.code},
        )
        start: date | None = found.scalar()
        return start

    # -- requests
    def add_request(self, record: RequestRecord) -> None:
        # One Core INSERT, at once: the letter jobs written next refer to it.
        insert_rows(self.session, AuthRequestRow, [self._request_values(record)])

    def save_request(self, record: RequestRecord) -> None:
        row = self.session.get(AuthRequestRow, record.request_id)
        if row is None:
            self.add_request(record)
            return
        for name, value in self._request_values(record).items():
            setattr(row, name, value)
        self.session.flush()

    @staticmethod
    def _request_values(record: RequestRecord) -> dict[str, Any]:
        values = {name: getattr(record, name) for name in _REQUEST_FIELDS}
        values["status"] = record.status.value
        return values

    def get_request(self, request_id: str) -> RequestRecord | None:
        row = self.session.get(AuthRequestRow, request_id)
        return None if row is None else _request(row)

    def requests_for_authorization(self, authorization_id: str) -> Sequence[RequestRecord]:
        rows = self.session.scalars(
            select(AuthRequestRow)
            .where(AuthRequestRow.related_authorization_id == authorization_id)
            .order_by(AuthRequestRow.received_at, AuthRequestRow.request_id)
        )
        return [_request(r) for r in rows]

    def open_requests(self) -> Sequence[RequestRecord]:
        rows = self.session.scalars(
            select(AuthRequestRow)
            .where(AuthRequestRow.status.in_([s.value for s in OPEN_STATUSES]))
            .order_by(AuthRequestRow.due_at, AuthRequestRow.request_id)
        )
        return [_request(r) for r in rows]

    def count_requests(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(AuthRequestRow)) or 0)

    # -- appeals
    def add_appeal(self, appeal: AppealRecord) -> None:
        # autoflush is off: a pending row is not found by session.get, so fill it here.
        self.session.add(
            AuthAppealRow(
                appeal_id=appeal.appeal_id,
                request_id=appeal.request_id,
                filed_at=appeal.filed_at,
                filed_by=appeal.filed_by,
                reason=appeal.reason,
                original_reviewer_staff_id=appeal.original_reviewer_staff_id,
                notes=appeal.notes,
            )
        )
        self.session.flush()
        self.save_appeal(appeal)

    def save_appeal(self, appeal: AppealRecord) -> None:
        row = self.session.get(AuthAppealRow, appeal.appeal_id)
        if row is None:
            raise KeyError(appeal.appeal_id)
        row.filed_at = appeal.filed_at
        row.filed_by = appeal.filed_by
        row.reason = appeal.reason
        row.original_reviewer_staff_id = appeal.original_reviewer_staff_id
        row.reviewer_staff_id = appeal.reviewer_staff_id
        row.outcome = appeal.outcome.value if appeal.outcome else None
        row.decided_at = appeal.decided_at
        row.notes = appeal.notes
        self.session.flush()

    def get_appeal(self, appeal_id: str) -> AppealRecord | None:
        row = self.session.get(AuthAppealRow, appeal_id)
        return None if row is None else _appeal(row)

    def appeals_for_request(self, request_id: str) -> Sequence[AppealRecord]:
        rows = self.session.scalars(
            select(AuthAppealRow)
            .where(AuthAppealRow.request_id == request_id)
            .order_by(AuthAppealRow.filed_at)
        )
        return [_appeal(r) for r in rows]

    # -- peer to peer
    def add_peer_to_peer(self, record: PeerToPeerRecord) -> None:
        self.session.add(
            AuthPeerToPeerRow(
                p2p_id=record.p2p_id,
                request_id=record.request_id,
                offered_at=record.offered_at,
                reviewer_staff_id=record.reviewer_staff_id,
                notes=record.notes,
            )
        )
        self.session.flush()
        self.save_peer_to_peer(record)

    def save_peer_to_peer(self, record: PeerToPeerRecord) -> None:
        row = self.session.get(AuthPeerToPeerRow, record.p2p_id)
        if row is None:
            raise KeyError(record.p2p_id)
        row.offered_at = record.offered_at
        row.reviewer_staff_id = record.reviewer_staff_id
        row.held_at = record.held_at
        row.outcome = record.outcome.value if record.outcome else None
        row.notes = record.notes
        self.session.flush()

    def peer_to_peer_for_request(self, request_id: str) -> Sequence[PeerToPeerRecord]:
        rows = self.session.scalars(
            select(AuthPeerToPeerRow)
            .where(AuthPeerToPeerRow.request_id == request_id)
            .order_by(AuthPeerToPeerRow.offered_at)
        )
        return [_p2p(r) for r in rows]

    # -- letter queue
    def queue_letter(self, job: LetterJob) -> bool:
        # One statement: INSERT ... ON CONFLICT (letter_id) DO NOTHING. The letter id is the
        # idempotency key, so a re-run writes nothing and answers False without a read first.
        return insert_unless_conflict(
            self.session,
            AuthLetterJobRow,
            {
                "letter_id": job.letter_id,
                "kind": job.kind,
                "recipient_kind": job.recipient_kind,
                "recipient_id": job.recipient_id,
                "member_id": job.member_id,
                "request_id": job.request_id,
                "decision_id": job.decision_id,
                "created_at": job.created_at,
                "status": job.status.value,
                "rendered_at": job.rendered_at,
                "file_path": job.file_path,
                "extra": dict(job.extra),
            },
            key=["letter_id"],
        )

    def save_letter_job(self, job: LetterJob) -> None:
        row = self.session.get(AuthLetterJobRow, job.letter_id)
        if row is None:
            raise KeyError(job.letter_id)
        row.status = job.status.value
        row.rendered_at = job.rendered_at
        row.file_path = job.file_path
        self.session.flush()

    def queued_letters(self, limit: int = 500) -> Sequence[LetterJob]:
        rows = self.session.scalars(
            select(AuthLetterJobRow)
            .where(AuthLetterJobRow.status == LetterJobStatus.QUEUED.value)
            .order_by(AuthLetterJobRow.created_at, AuthLetterJobRow.letter_id)
            .limit(limit)
        )
        return [_job(r) for r in rows]

    def letter_jobs_for_request(self, request_id: str) -> Sequence[LetterJob]:
        rows = self.session.scalars(
            select(AuthLetterJobRow)
            .where(AuthLetterJobRow.request_id == request_id)
            .order_by(AuthLetterJobRow.created_at, AuthLetterJobRow.letter_id)
        )
        return [_job(r) for r in rows]

    def count_letter_jobs(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(AuthLetterJobRow)) or 0)


class AuthSqlUnitOfWork(SqlAlchemyUnitOfWork):
    """The SQL unit of work plus ``auth`` (the authorization engine's records)."""

    auth: SqlAuthRecords

    def __enter__(self) -> Self:
        entered = super().__enter__()
        self.auth = SqlAuthRecords(self.session)
        return entered
