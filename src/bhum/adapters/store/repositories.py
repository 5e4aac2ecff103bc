"""SQLAlchemy repositories: domain objects in, domain objects out. Bulk population loads use Core
``insert()`` executemany with ON CONFLICT upserts (SQLite and PostgreSQL share that syntax)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from functools import cache
from itertools import islice
from typing import Any

from sqlalchemy import (
    Connection,
    Insert,
    Row,
    Select,
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bhum.adapters.store.codecs import clinical_from_doc, clinical_to_doc
from bhum.adapters.store.tables import (
    ApiTokenRow,
    AuditEventRow,
    AuthorizationCodeRow,
    AuthorizationRow,
    Base,
    CaseDueDateRow,
    CaseRow,
    CoverageSpanRow,
    DecisionReasonRow,
    DecisionRow,
    LetterRow,
    MemberRow,
    OrganizationRow,
    PlanRow,
    ProviderRow,
    RequestCodeRow,
    ResidenceSpanRow,
    ServiceRequestRow,
    StaffRow,
    StatusChangeRow,
    TaskRow,
    TestingPreauthNoticeRow,
    UserRow,
)
from bhum.domain.access import ApiToken, AuditAction, AuditEvent, Role, User
from bhum.domain.authorization import (
    ACTIVE_STATUSES,
    Authorization,
    AuthorizationStatus,
    Decision,
    DecisionOutcome,
    DecisionReason,
    ReviewKind,
    ServiceRequest,
    StatusChange,
    TestingPreauthNotice,
    Urgency,
)
from bhum.domain.cases import Case, CaseProgram, CaseStatus, DueDate
from bhum.domain.errors import NotFound
from bhum.domain.letters import Letter, LetterKind, RecipientKind
from bhum.domain.members import (
    Address,
    CoverageSpan,
    LineOfBusiness,
    Member,
    Plan,
    PlanContactInfo,
    ResidenceSetting,
    ResidenceSpan,
    Sex,
)
from bhum.domain.providers import ContractType, Credential, EntityType, Organization, Provider, Staff
from bhum.domain.tasks import Task, TaskKind, TaskStatus
from bhum.domain.values import Code, DateSpan

BATCH = 5000


def _batches(rows: Iterable[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def upsert_rows(session: Session, model: type[Base], rows: Iterable[dict[str, Any]]) -> int:
    """Insert or update by primary key, in batches; returns the number of rows given."""
    table: Table = model.__table__  # type: ignore[assignment]
    keys = [c.name for c in table.primary_key.columns]
    dialect = session.get_bind().dialect.name
    total = 0
    for chunk in _batches(rows):
        insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
        updates = {c.name: insert.excluded[c.name] for c in table.columns if c.name not in keys}
        statement = insert.on_conflict_do_update(index_elements=keys, set_=updates)
        session.execute(statement, chunk)
        total += len(chunk)
    return total


def _table(model: type[Base]) -> Table:
    return model.__table__  # type: ignore[return-value]


def _connection(session: Session) -> Connection:
    """The session's connection in its transaction. Hot paths run Core statements on it: no ORM
    unit-of-work bookkeeping per row, and inserts of many rows go out as one executemany."""
    return session.connection()


# Hot-path statements are built once per table and reused: building a statement (coercing every
# column and clause) costs more than executing its cached compiled form.
@cache
def _insert_statement(model: type[Base]) -> Insert:
    return insert(_table(model))


@cache
def _insert_ignoring_statement(model: type[Base], dialect: str, key: tuple[str, ...]) -> Insert:
    table = _table(model)
    statement = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return statement.on_conflict_do_nothing(index_elements=list(key) if key else None)


@cache
def _select_by(
    model: type[Base], columns: tuple[str, ...], order_by: tuple[str, ...] = (), only: tuple[str, ...] = ()
) -> Select[Any]:
    table = _table(model)
    query = select(*(table.c[name] for name in only)) if only else select(table)
    query = query.where(*(table.c[name] == bindparam(f"k_{name}") for name in columns))
    return query.order_by(*(table.c[name] for name in order_by))


def _rows(
    session: Session,
    model: type[Base],
    *,
    order_by: tuple[str, ...],
    only: tuple[str, ...] = (),
    **where: Any,
) -> Sequence[Row[Any]]:
    """Rows by equality on columns, in order, read with Core (a cached statement)."""
    query = _select_by(model, tuple(where), order_by, only)
    return _connection(session).execute(query, {f"k_{k}": v for k, v in where.items()}).all()


def insert_rows(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
    """Plain INSERT of ``rows`` now, in one executemany (nothing is left pending for a later flush,
    so rows written afterwards may refer to these)."""
    if rows:
        _connection(session).execute(_insert_statement(model), list(rows))


def insert_unless_conflict(
    session: Session, model: type[Base], row: dict[str, Any], *, key: Sequence[str] | None = None
) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING (on ``key``, else on any unique key), in one statement and
    without a read first; True when the row was written."""
    dialect = session.get_bind().dialect.name
    statement = _insert_ignoring_statement(model, dialect, tuple(key or ()))
    return bool(_connection(session).execute(statement, row).rowcount)


def _first(session: Session, model: type[Base], **where: Any) -> Row[Any] | None:
    """One row by equality on columns (a primary key), read with Core: domain objects are built from
    it directly, so no ORM instance is made or tracked."""
    query = _select_by(model, tuple(where))
    return _connection(session).execute(query, {f"k_{k}": v for k, v in where.items()}).first()


def _count(session: Session, model: type[Base]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _span(start: date, end: date | None) -> DateSpan:
    return DateSpan(start, end)


def _code(system: str | None, code: str | None, display: str | None) -> Code | None:
    return None if system is None or code is None else Code(system, code, display)


# -- population ---------------------------------------------------------------------------------


def _plan(row: PlanRow | Row[Any]) -> Plan:
    return Plan(
        plan_id=row.plan_id,
        name=row.name,
        payer=row.payer,
        line_of_business=LineOfBusiness(row.line_of_business),
        bh_benefit=row.bh_benefit,
        opm_care_management=row.opm_care_management,
        time_zone=row.time_zone,
        contact=PlanContactInfo(
            phone=row.contact_phone,
            tty=row.contact_tty,
            address_line_1=row.contact_address_line_1,
            address_line_2=row.contact_address_line_2,
            city=row.contact_city,
            state=row.contact_state,
            zip_code=row.contact_zip,
            website=row.website,
        ),
    )


class SqlPlanRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert_many(self, plans: Iterable[Plan]) -> int:
        return upsert_rows(
            self.session,
            PlanRow,
            (
                {
                    "plan_id": p.plan_id,
                    "name": p.name,
                    "payer": p.payer,
                    "line_of_business": p.line_of_business.value,
                    "bh_benefit": p.bh_benefit,
                    "opm_care_management": p.opm_care_management,
                    "time_zone": p.time_zone,
                    "contact_phone": p.contact.phone,
                    "contact_tty": p.contact.tty,
                    "contact_address_line_1": p.contact.address_line_1,
                    "contact_address_line_2": p.contact.address_line_2,
                    "contact_city": p.contact.city,
                    "contact_state": p.contact.state,
                    "contact_zip": p.contact.zip_code,
                    "website": p.contact.website,
                }
                for p in plans
            ),
        )

    def get(self, plan_id: str) -> Plan | None:
        row = _first(self.session, PlanRow, plan_id=plan_id)
        return None if row is None else _plan(row)

    def list(self) -> Sequence[Plan]:
        return [_plan(r) for r in self.session.scalars(select(PlanRow).order_by(PlanRow.plan_id))]

    def count(self) -> int:
        return _count(self.session, PlanRow)


def _coverage(row: CoverageSpanRow | Row[Any]) -> CoverageSpan:
    return CoverageSpan(row.member_id, row.plan_id, _span(row.start_date, row.end_date))


def _residence(row: ResidenceSpanRow | Row[Any]) -> ResidenceSpan:
    return ResidenceSpan(
        row.member_id, ResidenceSetting(row.setting), _span(row.start_date, row.end_date), row.facility_npi
    )


def _member(
    row: MemberRow | Row[Any],
    residences: tuple[ResidenceSpan, ...] = (),
    coverage: tuple[CoverageSpan, ...] = (),
) -> Member:
    return Member(
        member_id=row.member_id,
        person_id=row.person_id,
        first_name=row.first_name,
        last_name=row.last_name,
        sex=Sex(row.sex),
        birth_date=row.birth_date,
        death_date=row.death_date,
        address=Address(row.address_line, row.city, row.state, row.zip_code),
        phone=row.phone,
        race=row.race,
        ethnicity=row.ethnicity,
        pcp_npi=row.pcp_npi,
        residences=residences,
        coverage=coverage,
    )


def member_row(m: Member) -> dict[str, Any]:
    return {
        "member_id": m.member_id,
        "person_id": m.person_id,
        "first_name": m.first_name,
        "last_name": m.last_name,
        "sex": m.sex.value,
        "birth_date": m.birth_date,
        "death_date": m.death_date,
        "address_line": m.address.line,
        "city": m.address.city,
        "state": m.address.state,
        "zip_code": m.address.zip_code,
        "phone": m.phone,
        "race": m.race,
        "ethnicity": m.ethnicity,
        "pcp_npi": m.pcp_npi,
    }


class SqlMemberRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert_many(self, members: Iterable[Member]) -> int:
        return upsert_rows(self.session, MemberRow, (member_row(m) for m in members))

    def get(self, member_id: str) -> Member | None:
        row = _first(self.session, MemberRow, member_id=member_id)
        if row is None:
            return None
        residences = tuple(_residence(r) for r in _residence_rows(self.session, member_id))
        coverage = tuple(_coverage(c) for c in _coverage_rows(self.session, member_id))
        return _member(row, residences, coverage)

    def list(self, *, limit: int = 100, offset: int = 0) -> Sequence[Member]:
        rows = self.session.scalars(
            select(MemberRow).order_by(MemberRow.member_id).limit(limit).offset(offset)
        )
        return [_member(r) for r in rows]

    def served_by_organization(self, member_id: str, organization_id: str) -> bool:
        """One indexed query: is a provider of the organization on the member's service requests,
        authorizations or cases, or the member's PCP (the provider-user scope, docs/security.md)?"""
        npis = union_all(
            select(ServiceRequestRow.requesting_provider_npi.label("npi")).where(
                ServiceRequestRow.member_id == member_id
            ),
            select(ServiceRequestRow.servicing_provider_npi).where(ServiceRequestRow.member_id == member_id),
            select(AuthorizationRow.provider_npi).where(AuthorizationRow.member_id == member_id),
            select(CaseRow.provider_npi).where(CaseRow.member_id == member_id),
            select(MemberRow.pcp_npi).where(MemberRow.member_id == member_id),
        ).subquery()
        served = exists().where(
            ProviderRow.organization_id == organization_id, ProviderRow.npi.in_(select(npis.c.npi))
        )
        return bool(self.session.scalar(select(served)))

    def on_caseload(self, member_id: str, staff_id: str) -> bool:
        """One indexed query: an open case of the member assigned to this staff record."""
        found = exists().where(
            CaseRow.assigned_staff_id == staff_id,
            CaseRow.member_id == member_id,
            CaseRow.status != CaseStatus.CLOSED.value,
        )
        return bool(self.session.scalar(select(found)))

    def count(self) -> int:
        return _count(self.session, MemberRow)


def _coverage_rows(session: Session, member_id: str) -> Sequence[Row[Any]]:
    return _rows(session, CoverageSpanRow, order_by=("start_date",), member_id=member_id)


def _residence_rows(session: Session, member_id: str) -> Sequence[Row[Any]]:
    return _rows(session, ResidenceSpanRow, order_by=("start_date",), member_id=member_id)


def coverage_key(span: CoverageSpan) -> str:
    return f"{span.member_id}|{span.plan_id}|{span.span.start.isoformat()}"


class SqlCoverageRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert_many(self, spans: Iterable[CoverageSpan]) -> int:
        return upsert_rows(
            self.session,
            CoverageSpanRow,
            (
                {
                    "coverage_id": coverage_key(s),
                    "member_id": s.member_id,
                    "plan_id": s.plan_id,
                    "start_date": s.span.start,
                    "end_date": s.span.end,
                }
                for s in spans
            ),
        )

    def for_member(self, member_id: str) -> Sequence[CoverageSpan]:
        # The "required?" hot path: one indexed Core query (coverage_spans.member_id).
        return [_coverage(r) for r in _coverage_rows(self.session, member_id)]

    def count(self) -> int:
        return _count(self.session, CoverageSpanRow)


def residence_key(span: ResidenceSpan) -> str:
    return f"{span.member_id}|{span.span.start.isoformat()}"


class SqlResidenceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert_many(self, spans: Iterable[ResidenceSpan]) -> int:
        return upsert_rows(
            self.session,
            ResidenceSpanRow,
            (
                {
                    "residence_id": residence_key(s),
                    "member_id": s.member_id,
                    "setting": s.setting.value,
                    "start_date": s.span.start,
                    "end_date": s.span.end,
                    "facility_npi": s.facility_npi,
                }
                for s in spans
            ),
        )

    def for_member(self, member_id: str) -> Sequence[ResidenceSpan]:
        return [_residence(r) for r in _residence_rows(self.session, member_id)]

    def count(self) -> int:
        return _count(self.session, ResidenceSpanRow)


def _organization(row: OrganizationRow) -> Organization:
    return Organization(
        organization_id=row.organization_id,
        name=row.name,
        contract_type=ContractType(row.contract_type),
        npi=row.npi,
        tax_id=row.tax_id,
        state=row.state,
    )


class SqlOrganizationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert_many(self, organizations: Iterable[Organization]) -> int:
        return upsert_rows(
            self.session,
            OrganizationRow,
            (
                {
                    "organization_id": o.organization_id,
                    "name": o.name,
                    "npi": o.npi,
                    "tax_id": o.tax_id,
                    "contract_type": o.contract_type.value,
                    "state": o.state,
                }
                for o in organizations
            ),
        )

    def get(self, organization_id: str) -> Organization | None:
        row = self.session.get(OrganizationRow, organization_id)
        return None if row is None else _organization(row)

    def list(self) -> Sequence[Organization]:
        rows = self.session.scalars(select(OrganizationRow).order_by(OrganizationRow.organization_id))
        return [_organization(r) for r in rows]

    def count(self) -> int:
        return _count(self.session, OrganizationRow)


def _provider(row: ProviderRow | Row[Any]) -> Provider:
    return Provider(
        npi=row.npi,
        name=row.name,
        entity_type=EntityType(row.entity_type),
        taxonomy=_code(row.taxonomy_system, row.taxonomy_code, row.taxonomy_display),
        organization_id=row.organization_id,
        specialty=row.specialty,
        is_pcp=row.is_pcp,
    )


class SqlProviderRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert_many(self, providers: Iterable[Provider]) -> int:
        return upsert_rows(
            self.session,
            ProviderRow,
            (
                {
                    "npi": p.npi,
                    "name": p.name,
                    "entity_type": p.entity_type.value,
                    "organization_id": p.organization_id,
                    "taxonomy_system": p.taxonomy.system if p.taxonomy else None,
                    "taxonomy_code": p.taxonomy.code if p.taxonomy else None,
                    "taxonomy_display": p.taxonomy.display if p.taxonomy else None,
                    "specialty": p.specialty,
                    "is_pcp": p.is_pcp,
                }
                for p in providers
            ),
        )

    def get(self, npi: str) -> Provider | None:
        row = _first(self.session, ProviderRow, npi=npi)
        return None if row is None else _provider(row)

    def for_organization(self, organization_id: str) -> Sequence[Provider]:
        rows = self.session.scalars(
            select(ProviderRow)
            .where(ProviderRow.organization_id == organization_id)
            .order_by(ProviderRow.npi)
        )
        return [_provider(r) for r in rows]

    def count(self) -> int:
        return _count(self.session, ProviderRow)


def _staff(row: StaffRow | Row[Any]) -> Staff:
    return Staff(
        staff_id=row.staff_id,
        first_name=row.first_name,
        last_name=row.last_name,
        credentials=frozenset(Credential(c) for c in row.credentials.split(";") if c),
        organization_id=row.organization_id,
        npi=row.npi,
        licence_number=row.licence_number,
        hire_date=row.hire_date,
    )


class SqlStaffRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert_many(self, staff: Iterable[Staff]) -> int:
        return upsert_rows(
            self.session,
            StaffRow,
            (
                {
                    "staff_id": s.staff_id,
                    "npi": s.npi,
                    "organization_id": s.organization_id,
                    "first_name": s.first_name,
                    "last_name": s.last_name,
                    "credentials": ";".join(sorted(c.value for c in s.credentials)),
                    "licence_number": s.licence_number,
                    "hire_date": s.hire_date,
                }
                for s in staff
            ),
        )

    def get(self, staff_id: str) -> Staff | None:
        row = _first(self.session, StaffRow, staff_id=staff_id)
        return None if row is None else _staff(row)

    def for_organization(self, organization_id: str) -> Sequence[Staff]:
        rows = self.session.scalars(
            select(StaffRow).where(StaffRow.organization_id == organization_id).order_by(StaffRow.staff_id)
        )
        return [_staff(r) for r in rows]

    def count(self) -> int:
        return _count(self.session, StaffRow)


def notice_key(n: TestingPreauthNotice) -> str:
    return f"{n.plan_id}|{n.provider_npi or ''}|{n.member_id or ''}|{n.effective.start.isoformat()}"


class SqlTestingPreauthNoticeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert_many(self, notices: Iterable[TestingPreauthNotice]) -> int:
        return upsert_rows(
            self.session,
            TestingPreauthNoticeRow,
            (
                {
                    "notice_id": notice_key(n),
                    "plan_id": n.plan_id,
                    "provider_npi": n.provider_npi,
                    "member_id": n.member_id,
                    "effective_from": n.effective.start,
                    "effective_to": n.effective.end,
                }
                for n in notices
            ),
        )

    def for_plan(self, plan_id: str) -> Sequence[TestingPreauthNotice]:
        rows = self.session.scalars(
            select(TestingPreauthNoticeRow)
            .where(TestingPreauthNoticeRow.plan_id == plan_id)
            .order_by(TestingPreauthNoticeRow.notice_id)
        )
        return [
            TestingPreauthNotice(
                plan_id=r.plan_id,
                effective=_span(r.effective_from, r.effective_to),
                provider_npi=r.provider_npi,
                member_id=r.member_id,
            )
            for r in rows
        ]

    def count(self) -> int:
        return _count(self.session, TestingPreauthNoticeRow)


# -- utilization management ---------------------------------------------------------------------


class SqlServiceRequestRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, request: ServiceRequest) -> None:
        # Two statements: the parent row first (codes reference it), then every code in one batch.
        insert_rows(
            self.session,
            ServiceRequestRow,
            [
                {
                    "request_id": request.request_id,
                    "member_id": request.member_id,
                    "requesting_provider_npi": request.requesting_provider_npi,
                    "servicing_provider_npi": request.servicing_provider_npi,
                    "requested_units": request.requested_units,
                    "requested_start": request.requested_span.start,
                    "requested_end": request.requested_span.end,
                    "urgency": request.urgency.value,
                    "review_kind": request.review_kind.value,
                    "received_at": request.received_at,
                    "related_authorization_id": request.related_authorization_id,
                    "clinical": clinical_to_doc(request.clinical),
                }
            ],
        )
        insert_rows(
            self.session,
            RequestCodeRow,
            [
                {
                    "request_id": request.request_id,
                    "role": role,
                    "position": position,
                    "system": code.system,
                    "code": code.code,
                    "display": code.display,
                }
                for role, codes in (
                    ("service", request.service_codes),
                    ("diagnosis", request.clinical.diagnoses),
                )
                for position, code in enumerate(codes)
            ],
        )

    def _from_row(self, row: ServiceRequestRow | Row[Any]) -> ServiceRequest:
        codes = _rows(
            self.session,
            RequestCodeRow,
            order_by=("role", "position"),
            only=("role", "system", "code", "display"),
            request_id=row.request_id,
        )
        services = tuple(Code(c.system, c.code, c.display) for c in codes if c.role == "service")
        diagnoses = tuple(Code(c.system, c.code, c.display) for c in codes if c.role == "diagnosis")
        return ServiceRequest(
            request_id=row.request_id,
            member_id=row.member_id,
            requesting_provider_npi=row.requesting_provider_npi,
            servicing_provider_npi=row.servicing_provider_npi,
            service_codes=services,
            requested_units=row.requested_units,
            requested_span=_span(row.requested_start, row.requested_end),
            urgency=Urgency(row.urgency),
            review_kind=ReviewKind(row.review_kind),
            received_at=row.received_at,
            clinical=clinical_from_doc(row.clinical, diagnoses),
            related_authorization_id=row.related_authorization_id,
        )

    def get(self, request_id: str) -> ServiceRequest | None:
        row = _first(self.session, ServiceRequestRow, request_id=request_id)
        return None if row is None else self._from_row(row)

    def for_member(self, member_id: str) -> Sequence[ServiceRequest]:
        rows = self.session.scalars(
            select(ServiceRequestRow)
            .where(ServiceRequestRow.member_id == member_id)
            .order_by(ServiceRequestRow.received_at, ServiceRequestRow.request_id)
        )
        return [self._from_row(r) for r in rows]

    def count(self) -> int:
        return _count(self.session, ServiceRequestRow)


class SqlAuthorizationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, authorization: Authorization) -> None:
        # Three statements: the authorization, its codes in one batch, its history in one batch.
        a = authorization
        insert_rows(
            self.session,
            AuthorizationRow,
            [
                {
                    "authorization_id": a.authorization_id,
                    "member_id": a.member_id,
                    "provider_npi": a.provider_npi,
                    "request_id": a.request_id,
                    "start_date": a.span.start,
                    "end_date": a.span.end,
                    "units_requested": a.units_requested,
                    "units_authorized": a.units_authorized,
                    "units_used": a.units_used,
                    "status": a.status.value,
                }
            ],
        )
        insert_rows(
            self.session,
            AuthorizationCodeRow,
            [
                {
                    "authorization_id": a.authorization_id,
                    "position": position,
                    "system": code.system,
                    "code": code.code,
                    "display": code.display,
                }
                for position, code in enumerate(a.service_codes)
            ],
        )
        self._append_history(a, stored=0)

    def save(self, authorization: Authorization) -> None:
        a = authorization
        row = self.session.get(AuthorizationRow, a.authorization_id)
        if row is None:
            raise NotFound(f"authorization {a.authorization_id} is not stored")
        row.status = a.status.value
        row.units_authorized = a.units_authorized
        row.units_used = a.units_used
        row.start_date = a.span.start
        row.end_date = a.span.end
        stored = (
            self.session.scalar(
                select(func.count())
                .select_from(StatusChangeRow)
                .where(StatusChangeRow.authorization_id == a.authorization_id)
            )
            or 0
        )
        self.session.flush()
        self._append_history(a, stored=stored)

    def _append_history(self, a: Authorization, *, stored: int) -> None:
        insert_rows(
            self.session,
            StatusChangeRow,
            [
                {
                    "authorization_id": a.authorization_id,
                    "seq": seq,
                    "from_status": None if change.from_status is None else change.from_status.value,
                    "to_status": change.to_status.value,
                    "at": change.at,
                    "by": change.by,
                    "reason": change.reason,
                    "rule_id": change.rule_id,
                }
                for seq, change in enumerate(a.history[stored:], start=stored)
            ],
        )

    def _from_row(self, row: AuthorizationRow) -> Authorization:
        return self._from_rows([row])[0]

    def _from_rows(self, rows: Iterable[AuthorizationRow]) -> list[Authorization]:
        """Authorizations with their codes and status history: two queries per chunk of rows, not
        two per authorization (the provider utilization view reads many at once)."""
        out: list[Authorization] = []
        pending = list(rows)
        for start in range(0, len(pending), 500):
            chunk = pending[start : start + 500]
            ids = [r.authorization_id for r in chunk]
            codes: dict[str, list[AuthorizationCodeRow]] = {i: [] for i in ids}
            for c in self.session.scalars(
                select(AuthorizationCodeRow)
                .where(AuthorizationCodeRow.authorization_id.in_(ids))
                .order_by(AuthorizationCodeRow.authorization_id, AuthorizationCodeRow.position)
            ):
                codes[c.authorization_id].append(c)
            history: dict[str, list[StatusChangeRow]] = {i: [] for i in ids}
            for h in self.session.scalars(
                select(StatusChangeRow)
                .where(StatusChangeRow.authorization_id.in_(ids))
                .order_by(StatusChangeRow.authorization_id, StatusChangeRow.seq)
            ):
                history[h.authorization_id].append(h)
            out.extend(self._build(r, codes[r.authorization_id], history[r.authorization_id]) for r in chunk)
        return out

    @staticmethod
    def _build(
        row: AuthorizationRow, codes: Sequence[AuthorizationCodeRow], history: Sequence[StatusChangeRow]
    ) -> Authorization:
        return Authorization(
            authorization_id=row.authorization_id,
            member_id=row.member_id,
            provider_npi=row.provider_npi,
            service_codes=tuple(Code(c.system, c.code, c.display) for c in codes),
            span=_span(row.start_date, row.end_date),
            units_requested=row.units_requested,
            request_id=row.request_id,
            units_authorized=row.units_authorized,
            units_used=row.units_used,
            status=AuthorizationStatus(row.status),
            history=[
                StatusChange(
                    from_status=None if h.from_status is None else AuthorizationStatus(h.from_status),
                    to_status=AuthorizationStatus(h.to_status),
                    at=h.at,
                    by=h.by,
                    reason=h.reason,
                    rule_id=h.rule_id,
                )
                for h in history
            ],
        )

    def get(self, authorization_id: str) -> Authorization | None:
        row = self.session.get(AuthorizationRow, authorization_id)
        return None if row is None else self._from_row(row)

    def for_member(self, member_id: str) -> Sequence[Authorization]:
        rows = self.session.scalars(
            select(AuthorizationRow)
            .where(AuthorizationRow.member_id == member_id)
            .order_by(AuthorizationRow.start_date, AuthorizationRow.authorization_id)
        )
        return self._from_rows(rows)

    def for_provider(self, npi: str) -> Sequence[Authorization]:
        # provider_npi is indexed: the utilization view reads one provider without paging members.
        rows = self.session.scalars(
            select(AuthorizationRow)
            .where(AuthorizationRow.provider_npi == npi)
            .order_by(AuthorizationRow.start_date, AuthorizationRow.authorization_id)
        )
        return self._from_rows(rows)

    def active_on(self, member_id: str, day: date) -> Sequence[Authorization]:
        rows = self.session.scalars(
            select(AuthorizationRow)
            .where(
                AuthorizationRow.member_id == member_id,
                AuthorizationRow.status.in_([s.value for s in ACTIVE_STATUSES]),
                AuthorizationRow.start_date <= day,
                or_(AuthorizationRow.end_date.is_(None), AuthorizationRow.end_date >= day),
            )
            .order_by(AuthorizationRow.start_date, AuthorizationRow.authorization_id)
        )
        return [self._from_row(r) for r in rows]

    def count(self) -> int:
        return _count(self.session, AuthorizationRow)


class SqlDecisionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, decision: Decision) -> bool:
        d = decision
        try:
            # A savepoint: a concurrent writer that got there first costs only this insert. ON
            # CONFLICT DO NOTHING answers "already decided" (the decision id, or the request and
            # outcome) without a read first; any other integrity error also writes nothing.
            with self.session.begin_nested():
                written = insert_unless_conflict(
                    self.session,
                    DecisionRow,
                    {
                        "decision_id": d.decision_id,
                        "request_id": d.request_id,
                        "outcome": d.outcome.value,
                        "decided_by": d.decided_by,
                        "decided_at": d.decided_at,
                        "units_approved": d.units_approved,
                        "approved_start": d.approved_span.start if d.approved_span else None,
                        "approved_end": d.approved_span.end if d.approved_span else None,
                        "reviewer_licence": d.reviewer_licence,
                    },
                )
                if not written:
                    return False
                insert_rows(
                    self.session,
                    DecisionReasonRow,
                    [
                        {
                            "decision_id": d.decision_id,
                            "position": position,
                            "rule_id": reason.rule_id,
                            "text": reason.text,
                            "code_system": reason.code.system if reason.code else None,
                            "code": reason.code.code if reason.code else None,
                            "code_display": reason.code.display if reason.code else None,
                        }
                        for position, reason in enumerate(d.reasons)
                    ],
                )
        except IntegrityError:
            return False
        return True

    def _from_row(self, row: DecisionRow) -> Decision:
        reasons = self.session.scalars(
            select(DecisionReasonRow)
            .where(DecisionReasonRow.decision_id == row.decision_id)
            .order_by(DecisionReasonRow.position)
        )
        return Decision(
            decision_id=row.decision_id,
            request_id=row.request_id,
            outcome=DecisionOutcome(row.outcome),
            reasons=tuple(
                DecisionReason(r.rule_id, r.text, _code(r.code_system, r.code, r.code_display))
                for r in reasons
            ),
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            units_approved=row.units_approved,
            approved_span=None if row.approved_start is None else _span(row.approved_start, row.approved_end),
            reviewer_licence=row.reviewer_licence,
        )

    def get(self, decision_id: str) -> Decision | None:
        row = self.session.get(DecisionRow, decision_id)
        return None if row is None else self._from_row(row)

    def for_request(self, request_id: str) -> Sequence[Decision]:
        rows = self.session.scalars(
            select(DecisionRow)
            .where(DecisionRow.request_id == request_id)
            .order_by(DecisionRow.decided_at, DecisionRow.decision_id)
        )
        return [self._from_row(r) for r in rows]

    def count(self) -> int:
        return _count(self.session, DecisionRow)


# -- care management ----------------------------------------------------------------------------


class SqlCaseRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, case: Case) -> None:
        self.session.add(CaseRow(case_id=case.case_id, **self._fields(case)))
        self.session.flush()
        self._write_due_dates(case)

    def save(self, case: Case) -> None:
        result = self.session.execute(
            update(CaseRow).where(CaseRow.case_id == case.case_id).values(**self._fields(case))
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise NotFound(f"case {case.case_id} is not stored")
        self.session.execute(delete(CaseDueDateRow).where(CaseDueDateRow.case_id == case.case_id))
        self._write_due_dates(case)

    @staticmethod
    def _fields(case: Case) -> dict[str, Any]:
        return {
            "member_id": case.member_id,
            "program": case.program.value,
            "opened_at": case.opened_at,
            "status": case.status.value,
            "provider_npi": case.provider_npi,
            "assigned_staff_id": case.assigned_staff_id,
            "rule_ids": ";".join(case.rule_ids),
            "closed_at": case.closed_at,
            "close_reason": case.close_reason,
        }

    def _write_due_dates(self, case: Case) -> None:
        for position, due in enumerate(case.due_dates):
            self.session.add(
                CaseDueDateRow(
                    case_id=case.case_id,
                    position=position,
                    what=due.what,
                    due_on=due.due_on,
                    rule_id=due.rule_id,
                )
            )
        self.session.flush()

    def _from_row(self, row: CaseRow) -> Case:
        dues = self.session.scalars(
            select(CaseDueDateRow)
            .where(CaseDueDateRow.case_id == row.case_id)
            .order_by(CaseDueDateRow.position)
        )
        return Case(
            case_id=row.case_id,
            member_id=row.member_id,
            program=CaseProgram(row.program),
            opened_at=row.opened_at,
            status=CaseStatus(row.status),
            provider_npi=row.provider_npi,
            assigned_staff_id=row.assigned_staff_id,
            rule_ids=tuple(r for r in row.rule_ids.split(";") if r),
            due_dates=tuple(DueDate(d.what, d.due_on, d.rule_id) for d in dues),
            closed_at=row.closed_at,
            close_reason=row.close_reason,
        )

    def get(self, case_id: str) -> Case | None:
        row = self.session.get(CaseRow, case_id)
        return None if row is None else self._from_row(row)

    def for_member(self, member_id: str) -> Sequence[Case]:
        rows = self.session.scalars(
            select(CaseRow).where(CaseRow.member_id == member_id).order_by(CaseRow.opened_at, CaseRow.case_id)
        )
        return [self._from_row(r) for r in rows]

    def for_staff(self, staff_id: str, *, open_only: bool = True) -> Sequence[Case]:
        query = select(CaseRow).where(CaseRow.assigned_staff_id == staff_id)
        if open_only:
            query = query.where(CaseRow.status != CaseStatus.CLOSED.value)
        return [self._from_row(r) for r in self.session.scalars(query.order_by(CaseRow.case_id))]

    def count(self) -> int:
        return _count(self.session, CaseRow)


def _letter(row: LetterRow) -> Letter:
    return Letter(
        letter_id=row.letter_id,
        kind=LetterKind(row.kind),
        recipient_kind=RecipientKind(row.recipient_kind),
        recipient_id=row.recipient_id,
        member_id=row.member_id,
        template=row.template,
        created_at=row.created_at,
        idempotency_key=row.idempotency_key,
        request_id=row.request_id,
        case_id=row.case_id,
        decision_id=row.decision_id,
        file_path=row.file_path,
        content_sha256=row.content_sha256,
    )


class SqlLetterRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, letter: Letter) -> bool:
        if self.get_by_idempotency_key(letter.idempotency_key) is not None:
            return False
        try:
            with self.session.begin_nested():
                self.session.add(
                    LetterRow(
                        letter_id=letter.letter_id,
                        kind=letter.kind.value,
                        recipient_kind=letter.recipient_kind.value,
                        recipient_id=letter.recipient_id,
                        member_id=letter.member_id,
                        template=letter.template,
                        created_at=letter.created_at,
                        idempotency_key=letter.idempotency_key,
                        request_id=letter.request_id,
                        case_id=letter.case_id,
                        decision_id=letter.decision_id,
                        file_path=letter.file_path,
                        content_sha256=letter.content_sha256,
                    )
                )
                self.session.flush()
        except IntegrityError:
            return False
        return True

    def get(self, letter_id: str) -> Letter | None:
        row = self.session.get(LetterRow, letter_id)
        return None if row is None else _letter(row)

    def get_by_idempotency_key(self, key: str) -> Letter | None:
        row = self.session.scalar(select(LetterRow).where(LetterRow.idempotency_key == key))
        return None if row is None else _letter(row)

    def for_member(self, member_id: str) -> Sequence[Letter]:
        rows = self.session.scalars(
            select(LetterRow).where(LetterRow.member_id == member_id).order_by(LetterRow.created_at)
        )
        return [_letter(r) for r in rows]

    def count(self) -> int:
        return _count(self.session, LetterRow)


def _task(row: TaskRow) -> Task:
    return Task(
        task_id=row.task_id,
        kind=TaskKind(row.kind),
        due_at=row.due_at,
        created_at=row.created_at,
        status=TaskStatus(row.status),
        assigned_to=row.assigned_to,
        escalated=row.escalated,
        member_id=row.member_id,
        case_id=row.case_id,
        request_id=row.request_id,
        rule_id=row.rule_id,
        completed_at=row.completed_at,
    )


class SqlTaskRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    @staticmethod
    def _fields(t: Task) -> dict[str, Any]:
        return {
            "kind": t.kind.value,
            "due_at": t.due_at,
            "created_at": t.created_at,
            "status": t.status.value,
            "assigned_to": t.assigned_to,
            "escalated": t.escalated,
            "member_id": t.member_id,
            "case_id": t.case_id,
            "request_id": t.request_id,
            "rule_id": t.rule_id,
            "completed_at": t.completed_at,
        }

    def add(self, task: Task) -> None:
        self.session.add(TaskRow(task_id=task.task_id, **self._fields(task)))
        self.session.flush()

    def save(self, task: Task) -> None:
        result = self.session.execute(
            update(TaskRow).where(TaskRow.task_id == task.task_id).values(**self._fields(task))
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise NotFound(f"task {task.task_id} is not stored")

    def get(self, task_id: str) -> Task | None:
        row = self.session.get(TaskRow, task_id)
        return None if row is None else _task(row)

    def open_tasks(
        self, *, assigned_to: str | None = None, due_before: datetime | None = None
    ) -> Sequence[Task]:
        query = select(TaskRow).where(TaskRow.status == TaskStatus.OPEN.value)
        if assigned_to is not None:
            query = query.where(TaskRow.assigned_to == assigned_to)
        if due_before is not None:
            query = query.where(TaskRow.due_at < due_before)
        return [_task(r) for r in self.session.scalars(query.order_by(TaskRow.due_at, TaskRow.task_id))]

    def count(self) -> int:
        return _count(self.session, TaskRow)


# -- access -------------------------------------------------------------------------------------


def _user(row: UserRow) -> User:
    return User(
        id=row.user_id,
        username=row.username,
        display_name=row.display_name,
        roles=frozenset(Role(r) for r in row.roles.split(";") if r),
        organization_id=row.organization_id,
        staff_id=row.staff_id,
        active=row.active,
    )


class SqlUserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, user: User, password_hash: str | None) -> None:
        self.session.add(
            UserRow(
                user_id=user.id,
                username=user.username,
                display_name=user.display_name,
                roles=";".join(sorted(r.value for r in user.roles)),
                organization_id=user.organization_id,
                staff_id=user.staff_id,
                active=user.active,
                password_hash=password_hash,
            )
        )
        self.session.flush()

    def get(self, user_id: str) -> User | None:
        row = self.session.get(UserRow, user_id)
        return None if row is None else _user(row)

    def get_by_username(self, username: str) -> User | None:
        row = self.session.scalar(select(UserRow).where(UserRow.username == username))
        return None if row is None else _user(row)

    def password_hash(self, user_id: str) -> str | None:
        return self.session.scalar(select(UserRow.password_hash).where(UserRow.user_id == user_id))

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        result = self.session.execute(
            update(UserRow).where(UserRow.user_id == user_id).values(password_hash=password_hash)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise NotFound(f"user {user_id} does not exist")

    def list(self) -> Sequence[User]:
        return [_user(r) for r in self.session.scalars(select(UserRow).order_by(UserRow.username))]


def _token(row: ApiTokenRow) -> ApiToken:
    return ApiToken(
        id=row.token_id,
        user_id=row.user_id,
        token_hash=row.token_hash,
        label=row.label,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


class SqlApiTokenRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, token: ApiToken) -> None:
        self.session.add(
            ApiTokenRow(
                token_id=token.id,
                user_id=token.user_id,
                token_hash=token.token_hash,
                label=token.label,
                created_at=token.created_at,
                expires_at=token.expires_at,
                revoked_at=token.revoked_at,
            )
        )
        self.session.flush()

    def get_by_hash(self, token_hash: str) -> ApiToken | None:
        row = self.session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == token_hash))
        return None if row is None else _token(row)

    def revoke(self, token_id: str, at: datetime) -> None:
        result = self.session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.token_id == token_id, ApiTokenRow.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        if result.rowcount == 0 and self.session.get(ApiTokenRow, token_id) is None:  # type: ignore[attr-defined]
            raise NotFound(f"api token {token_id} does not exist")


class SqlAuditLog:
    """Append-only: this class deliberately has no update or delete."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def append(self, event: AuditEvent) -> None:
        # Written at once (Core INSERT), so it is in the transaction before anything else happens.
        _connection(self.session).execute(
            insert(_table(AuditEventRow)),
            {
                "at": event.at,
                "actor": event.actor,
                "action": event.action.value,
                "entity_type": event.entity_type,
                "entity_id": event.entity_id,
                "member_id": event.member_id,
                "reason": event.reason,
                "detail": dict(event.detail),
            },
        )

    def list(
        self,
        *,
        member_id: str | None = None,
        actor: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
    ) -> Sequence[AuditEvent]:
        query = select(AuditEventRow)
        if member_id is not None:
            query = query.where(AuditEventRow.member_id == member_id)
        if actor is not None:
            query = query.where(AuditEventRow.actor == actor)
        if since is not None:
            query = query.where(AuditEventRow.at >= since)
        rows = self.session.scalars(query.order_by(AuditEventRow.at, AuditEventRow.event_id).limit(limit))
        return [
            AuditEvent(
                at=r.at,
                actor=r.actor,
                action=AuditAction(r.action),
                entity_type=r.entity_type,
                entity_id=r.entity_id,
                member_id=r.member_id,
                reason=r.reason,
                detail={str(k): str(v) for k, v in r.detail.items()},
            )
            for r in rows
        ]

    def count(self) -> int:
        return _count(self.session, AuditEventRow)
