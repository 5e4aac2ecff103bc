"""Row classes of the store (SQLAlchemy 2 typed declarative). They are not the domain objects:
repositories translate between the two, so the domain stays free of the database.

Codes are stored as (system, code, display) columns; timestamps are stored in UTC and read back as
timezone-aware datetimes on both SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; naive datetimes are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("the store only accepts timezone-aware datetimes")
        utc = value.astimezone(UTC)
        # SQLite has no time zone type: keep the UTC wall time.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Constraint names must be stable for Alembic batch migrations on SQLite.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: dict[Any, Any] = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UtcDateTime(),
        date: Date(),
        str: String(255),
        dict[str, Any]: JSON(),
    }


# -- population ---------------------------------------------------------------------------------


class PlanRow(Base):
    __tablename__ = "plans"
    plan_id: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    payer: Mapped[str]
    line_of_business: Mapped[str] = mapped_column(String(20))
    bh_benefit: Mapped[bool] = mapped_column(Boolean)
    opm_care_management: Mapped[bool] = mapped_column(Boolean)
    time_zone: Mapped[str] = mapped_column(String(64))
    # How members and providers reach the plan, printed on letters (migration 0006).
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    contact_tty: Mapped[str | None] = mapped_column(String(32))
    contact_address_line_1: Mapped[str | None]
    contact_address_line_2: Mapped[str | None]
    contact_city: Mapped[str | None]
    contact_state: Mapped[str | None] = mapped_column(String(2))
    contact_zip: Mapped[str | None] = mapped_column(String(10))
    website: Mapped[str | None]


class MemberRow(Base):
    __tablename__ = "members"
    member_id: Mapped[str] = mapped_column(primary_key=True)
    person_id: Mapped[str | None]
    first_name: Mapped[str]
    last_name: Mapped[str]
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date]
    death_date: Mapped[date | None]
    address_line: Mapped[str | None]
    city: Mapped[str | None]
    state: Mapped[str | None] = mapped_column(String(2))
    zip_code: Mapped[str | None] = mapped_column(String(10))
    phone: Mapped[str | None] = mapped_column(String(32))
    race: Mapped[str | None]
    ethnicity: Mapped[str | None]
    pcp_npi: Mapped[str | None] = mapped_column(String(10))


class CoverageSpanRow(Base):
    __tablename__ = "coverage_spans"
    # Natural key "member|plan|start" makes reloading an upsert.
    coverage_id: Mapped[str] = mapped_column(primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), index=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.plan_id"))
    start_date: Mapped[date]
    end_date: Mapped[date | None]


class ResidenceSpanRow(Base):
    __tablename__ = "residence_spans"
    residence_id: Mapped[str] = mapped_column(primary_key=True)  # "member|start"
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), index=True)
    setting: Mapped[str] = mapped_column(String(40))
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    facility_npi: Mapped[str | None] = mapped_column(String(10))


class OrganizationRow(Base):
    __tablename__ = "organizations"
    organization_id: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    npi: Mapped[str | None] = mapped_column(String(10))
    tax_id: Mapped[str | None] = mapped_column(String(20))
    contract_type: Mapped[str] = mapped_column(String(8))
    state: Mapped[str | None] = mapped_column(String(2))


class ProviderRow(Base):
    __tablename__ = "providers"
    npi: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str]
    entity_type: Mapped[str] = mapped_column(String(16))
    organization_id: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.organization_id"), index=True
    )
    taxonomy_system: Mapped[str | None]
    taxonomy_code: Mapped[str | None] = mapped_column(String(16))
    taxonomy_display: Mapped[str | None]
    specialty: Mapped[str | None]
    is_pcp: Mapped[bool] = mapped_column(Boolean, default=False)


class StaffRow(Base):
    __tablename__ = "staff"
    staff_id: Mapped[str] = mapped_column(primary_key=True)
    npi: Mapped[str | None] = mapped_column(String(10))
    organization_id: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.organization_id"), index=True
    )
    first_name: Mapped[str]
    last_name: Mapped[str]
    credentials: Mapped[str] = mapped_column(Text)  # sorted ";"-joined Credential values
    licence_number: Mapped[str | None] = mapped_column(String(64))
    hire_date: Mapped[date | None]


class TestingPreauthNoticeRow(Base):
    __tablename__ = "testing_preauth_notices"
    __test__ = False  # not a pytest test class
    notice_id: Mapped[str] = mapped_column(primary_key=True)  # "plan|npi|member|from"
    # Indexed (migration 0007): "required?" for testing reads the notices of one plan.
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.plan_id"), index=True)
    provider_npi: Mapped[str | None] = mapped_column(String(10), index=True)
    member_id: Mapped[str | None] = mapped_column(index=True)
    effective_from: Mapped[date]
    effective_to: Mapped[date | None]


# -- utilization management ---------------------------------------------------------------------


class ServiceRequestRow(Base):
    __tablename__ = "service_requests"
    request_id: Mapped[str] = mapped_column(primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), index=True)
    requesting_provider_npi: Mapped[str] = mapped_column(String(10))
    servicing_provider_npi: Mapped[str] = mapped_column(String(10))
    requested_units: Mapped[int] = mapped_column(Integer)
    requested_start: Mapped[date]
    requested_end: Mapped[date | None]
    urgency: Mapped[str] = mapped_column(String(16))
    review_kind: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime]
    related_authorization_id: Mapped[str | None]
    clinical: Mapped[dict[str, Any]]


class RequestCodeRow(Base):
    """Service codes and diagnoses of a request, in order."""

    __tablename__ = "request_codes"
    __table_args__ = (UniqueConstraint("request_id", "role", "position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("service_requests.request_id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))  # "service" | "diagnosis"
    position: Mapped[int] = mapped_column(Integer)
    system: Mapped[str]
    code: Mapped[str] = mapped_column(String(32))
    display: Mapped[str | None]


class DecisionRow(Base):
    __tablename__ = "decisions"
    # Idempotency: one decision of each outcome per request, so a re-run batch cannot decide twice.
    __table_args__ = (UniqueConstraint("request_id", "outcome"),)
    decision_id: Mapped[str] = mapped_column(primary_key=True)
    # No own index (dropped in 0007): the unique (request_id, outcome) index serves lookups by request.
    request_id: Mapped[str] = mapped_column(ForeignKey("service_requests.request_id"))
    outcome: Mapped[str] = mapped_column(String(32))
    decided_by: Mapped[str]
    decided_at: Mapped[datetime]
    units_approved: Mapped[int | None] = mapped_column(Integer)
    approved_start: Mapped[date | None]
    approved_end: Mapped[date | None]
    reviewer_licence: Mapped[str | None] = mapped_column(String(64))


class DecisionReasonRow(Base):
    __tablename__ = "decision_reasons"
    __table_args__ = (UniqueConstraint("decision_id", "position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    decision_id: Mapped[str] = mapped_column(ForeignKey("decisions.decision_id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    rule_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    code_system: Mapped[str | None]
    code: Mapped[str | None] = mapped_column(String(32))
    code_display: Mapped[str | None]


class AuthorizationRow(Base):
    __tablename__ = "authorizations"
    authorization_id: Mapped[str] = mapped_column(primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), index=True)
    provider_npi: Mapped[str] = mapped_column(String(10), index=True)
    request_id: Mapped[str | None]
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    units_requested: Mapped[int] = mapped_column(Integer)
    units_authorized: Mapped[int] = mapped_column(Integer)
    units_used: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))


class AuthorizationCodeRow(Base):
    __tablename__ = "authorization_service_codes"
    __table_args__ = (UniqueConstraint("authorization_id", "position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    authorization_id: Mapped[str] = mapped_column(
        ForeignKey("authorizations.authorization_id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)
    system: Mapped[str]
    code: Mapped[str] = mapped_column(String(32))
    display: Mapped[str | None]


class StatusChangeRow(Base):
    """The full status history of an authorization, in order (``seq`` from 0)."""

    __tablename__ = "authorization_status_changes"
    __table_args__ = (UniqueConstraint("authorization_id", "seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    authorization_id: Mapped[str] = mapped_column(ForeignKey("authorizations.authorization_id"))
    seq: Mapped[int] = mapped_column(Integer)
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    by: Mapped[str]
    reason: Mapped[str] = mapped_column(Text, default="")
    rule_id: Mapped[str | None] = mapped_column(String(32))


# -- care management ----------------------------------------------------------------------------


class CaseRow(Base):
    __tablename__ = "cases"
    case_id: Mapped[str] = mapped_column(primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), index=True)
    program: Mapped[str] = mapped_column(String(40))
    opened_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(32))
    provider_npi: Mapped[str | None] = mapped_column(String(10))
    assigned_staff_id: Mapped[str | None] = mapped_column(index=True)
    rule_ids: Mapped[str] = mapped_column(Text, default="")  # ";"-joined rule IDs
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str] = mapped_column(Text, default="")


class CaseDueDateRow(Base):
    __tablename__ = "case_due_dates"
    __table_args__ = (UniqueConstraint("case_id", "position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    what: Mapped[str]
    due_on: Mapped[date]
    rule_id: Mapped[str] = mapped_column(String(32))


class LetterRow(Base):
    __tablename__ = "letters"
    letter_id: Mapped[str] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    recipient_kind: Mapped[str] = mapped_column(String(16))
    recipient_id: Mapped[str]
    member_id: Mapped[str] = mapped_column(index=True)
    template: Mapped[str]
    created_at: Mapped[datetime]
    # A letter is generated once per decision or case step: re-running a batch finds the key taken.
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    request_id: Mapped[str | None]
    case_id: Mapped[str | None]
    decision_id: Mapped[str | None]
    file_path: Mapped[str | None] = mapped_column(Text)
    content_sha256: Mapped[str | None] = mapped_column(String(64))


class TaskRow(Base):
    __tablename__ = "tasks"
    task_id: Mapped[str] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), index=True)
    assigned_to: Mapped[str | None] = mapped_column(index=True)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    member_id: Mapped[str | None]
    case_id: Mapped[str | None]
    request_id: Mapped[str | None]
    rule_id: Mapped[str | None] = mapped_column(String(32))
    completed_at: Mapped[datetime | None]


# -- access -------------------------------------------------------------------------------------


class UserRow(Base):
    __tablename__ = "users"
    user_id: Mapped[str] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(255), unique=True)
    display_name: Mapped[str]
    roles: Mapped[str] = mapped_column(Text)  # sorted ";"-joined Role values
    organization_id: Mapped[str | None]
    staff_id: Mapped[str | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(Text)


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"
    token_id: Mapped[str] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.user_id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(255), unique=True)
    label: Mapped[str]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AuditEventRow(Base):
    """Append-only. The repository has no update or delete; on PostgreSQL a trigger refuses both."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_member_at", "member_id", "at"),)
    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(16))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str]
    member_id: Mapped[str | None]
    reason: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]]
