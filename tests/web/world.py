"""A tiny synthetic world for the workbench tests, the browser tests and the load test: a migrated store
(SQLite file or a PostgreSQL schema), two provider organizations, a handful of members, one demo user
per role (all with the same password), a case-management caseload, outpatient-management flags,
authorizations with units and decided requests for the dashboards. Everything here is synthetic.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bhum.adapters.passwords import Argon2PasswordHasher
from bhum.adapters.store import SqlStore, upgrade
from bhum.bootstrap import Application
from bhum.config import Settings
from bhum.domain.access import Role
from bhum.domain.authorization import (
    Authorization,
    Decision,
    DecisionOutcome,
    DecisionReason,
    ReviewKind,
    ServiceRequest,
    Urgency,
)
from bhum.domain.cases import Case, CaseProgram, CaseStatus, DueDate
from bhum.domain.clinical import ClinicalInformation
from bhum.domain.members import CoverageSpan, LineOfBusiness, Member, Plan, Sex
from bhum.domain.providers import ContractType, Credential, EntityType, Organization, Provider, Staff
from bhum.domain.values import HCPCS, ICD10CM, Code, DateSpan
from bhum.entrypoints.api.dependencies import ApiDependencies
from bhum.entrypoints.api.main import dependencies_for
from bhum.services.access import PasswordHasher, create_user
from bhum.services.auth_records import RequestRecord, RequestStatus
from bhum.services.auth_requests import parse_submission
from bhum.services.authorization import Engine, submit_request
from bhum.services.opm_records import OpmCaseRecord
from bhum.services.unit_of_work import UnitOfWork

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
PASSWORD = "synthetic demo password"  # every demo user's password (synthetic data only)
NPI_A = "1000000001"  # ORG-A's clinician
NPI_B = "2000000002"  # ORG-B's clinician
MEMBER_A = "M00000001"  # served by ORG-A, on case manager S-CM1's caseload
MEMBER_B = "M00000002"  # served by ORG-B only
IOP = Code(HCPCS, "S9480", "Intensive outpatient psychiatric services, per diem")
DEPRESSION = Code(ICD10CM, "F33.1", "Major depressive disorder, recurrent, moderate")

# username -> (roles, organization, staff id)
PEOPLE: dict[str, tuple[tuple[Role, ...], str | None, str | None]] = {
    "intake": ((Role.INTAKE,), None, None),
    "clinical": ((Role.CLINICAL_REVIEWER,), None, "S-RN1"),
    "physician": ((Role.PHYSICIAN_REVIEWER,), None, "S-MD1"),
    "director": ((Role.MEDICAL_DIRECTOR,), None, "S-MD2"),
    "cm-own": ((Role.CASE_MANAGER,), None, "S-CM1"),
    "cm-other": ((Role.CASE_MANAGER,), None, "S-CM2"),
    "prov-own": ((Role.PROVIDER_USER,), "ORG-A", None),
    "prov-other": ((Role.PROVIDER_USER,), "ORG-B", None),
    "auditor": ((Role.AUDITOR,), None, None),
    "admin": ((Role.ADMIN,), None, None),
}


class Clock:
    """The application clock, moved by hand."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class World:
    """The store wired through the real composition root (``bhum.bootstrap.Application``), so the
    pages see the same unit of work the served app does."""

    application: Application
    clock: Clock
    user_ids: dict[str, str] = field(default_factory=dict)

    @property
    def store(self) -> SqlStore:
        return self.application.database

    @property
    def hasher(self) -> PasswordHasher:
        return self.application.password_hasher

    def uow(self) -> UnitOfWork:
        return self.application.uow_factory()

    def deps(self) -> ApiDependencies:
        return dependencies_for(self.application)


def _clinical() -> ClinicalInformation:
    return ClinicalInformation(diagnoses=(DEPRESSION,), locus_level=3, functioning="synthetic")


def _seed_population(uow: UnitOfWork, extra_members: int) -> None:
    uow.organizations.upsert_many(
        [
            Organization("ORG-A", "Synthetic Counseling A", ContractType.IOP_PROGRAM),
            Organization("ORG-B", "Synthetic Counseling B", ContractType.OPBH),
        ]
    )
    uow.providers.upsert_many(
        [
            Provider(NPI_A, "Clinician A", EntityType.INDIVIDUAL, organization_id="ORG-A"),
            Provider(NPI_B, "Clinician B", EntityType.INDIVIDUAL, organization_id="ORG-B"),
        ]
    )
    uow.staff.upsert_many(
        [
            Staff("S-CM1", "Casey", "CM", frozenset({Credential.CM_II})),
            Staff("S-CM2", "Morgan", "CM", frozenset({Credential.CM_II})),
            Staff("S-RN1", "Robin", "Nurse", frozenset({Credential.RN})),
            Staff("S-MD1", "Pat", "Psych", frozenset({Credential.PSYCHIATRIST, Credential.PHYSICIAN})),
            Staff("S-MD2", "Lee", "Director", frozenset({Credential.PSYCHIATRIST, Credential.PHYSICIAN})),
            Staff(
                "STF-LCSW-1", "Lou", "Clinician", frozenset({Credential.LICENSED_MASTERS_CLINICIAN}), "ORG-A"
            ),
        ]
    )
    uow.plans.upsert_many(
        [Plan("P1", "Synthetic Medicaid BH", "Payer", LineOfBusiness.MEDICAID, True, True, "America/Chicago")]
    )
    members = [
        Member(MEMBER_A, "Ada", "Synthetic", Sex.FEMALE, date(1990, 4, 1), pcp_npi=NPI_A),
        Member(MEMBER_B, "Bea", "Synthetic", Sex.FEMALE, date(1985, 6, 1), pcp_npi=NPI_B),
    ]
    members += [
        Member(
            f"M{10 + i:08d}",
            "Syn",
            f"Member{i}",
            Sex.UNKNOWN,
            date(1970 + i % 40, 1, 1),
            pcp_npi=NPI_A if i % 2 else NPI_B,
        )
        for i in range(extra_members)
    ]
    uow.members.upsert_many(members)
    uow.coverage.upsert_many(
        [CoverageSpan(m.member_id, "P1", DateSpan(date(2025, 1, 1), None)) for m in members]
    )


def _seed_utilization(uow: UnitOfWork, members: list[str]) -> None:
    """Decided and open requests, authorizations with units, flags and a caseload."""
    auth = getattr(uow, "auth", None)
    for i, member_id in enumerate(members):
        npi = NPI_A if member_id != MEMBER_B and i % 2 == 0 else NPI_B
        received = START - timedelta(days=30 - i % 25, hours=i % 7)
        urgency = Urgency.EXPEDITED if i % 4 == 0 else Urgency.STANDARD
        request = ServiceRequest(
            request_id=f"R-{i:04d}",
            member_id=member_id,
            requesting_provider_npi=npi,
            servicing_provider_npi=npi,
            service_codes=(IOP,),
            requested_units=12,
            requested_span=DateSpan(received.date(), received.date() + timedelta(days=29)),
            urgency=urgency,
            review_kind=ReviewKind.PRE_SERVICE,
            received_at=received,
            clinical=_clinical(),
        )
        uow.service_requests.add(request)
        due = received + (timedelta(hours=72) if urgency is Urgency.EXPEDITED else timedelta(days=7))
        open_request = i % 5 == 4
        decided_at = None if open_request else received + timedelta(hours=20 + 30 * (i % 6))
        if decided_at is not None:
            outcome = DecisionOutcome.DENIED if i % 6 == 5 else DecisionOutcome.APPROVED
            reasons = (
                (DecisionReason("IOP-01", "criteria not met"),) if outcome is DecisionOutcome.DENIED else ()
            )
            uow.decisions.add(
                Decision(
                    decision_id=f"D-{i:04d}",
                    request_id=request.request_id,
                    outcome=outcome,
                    reasons=reasons,
                    decided_by="system:seed" if outcome is DecisionOutcome.APPROVED else "u-physician",
                    decided_at=decided_at,
                    units_approved=12 if outcome is DecisionOutcome.APPROVED else None,
                )
            )
            if outcome is DecisionOutcome.APPROVED:
                authorization = Authorization.request(
                    authorization_id=f"A-{i:04d}",
                    member_id=member_id,
                    provider_npi=npi,
                    service_codes=(IOP,),
                    span=request.requested_span,
                    units_requested=12,
                    at=received,
                    by="system:seed",
                    request_id=request.request_id,
                )
                authorization.approve(at=decided_at, by="system:seed", rule_id="IOP-11")
                authorization.record_use(i % 13)
                uow.authorizations.add(authorization)
        if auth is not None:
            auth.add_request(
                RequestRecord(
                    request_id=request.request_id,
                    member_id=member_id,
                    status=RequestStatus.PENDED
                    if decided_at is None
                    else (RequestStatus.DENIED if i % 6 == 5 else RequestStatus.APPROVED),
                    received_at=received,
                    due_at=due,
                    due_rule_id="REG-01",
                    due_label="72 hours (expedited)" if urgency is Urgency.EXPEDITED else "7 days (standard)",
                    program={},
                    determination={},
                    decided_at=decided_at,
                )
            )
        if i % 3 == 0:
            uow.cases.add(
                Case(
                    case_id=f"C-OPM-{i:04d}",
                    member_id=member_id,
                    program=CaseProgram.OUTPATIENT_MANAGEMENT,
                    opened_at=START - timedelta(days=40 * (i % 4)),
                    status=CaseStatus.AWAITING_INFORMATION,
                    provider_npi=npi,
                    rule_ids=("FUH-7", "OPM-03") if i % 2 else ("SAA-80",),
                    due_dates=(
                        DueDate("clinical update form", (START + timedelta(days=30)).date(), "OPM-04"),
                    ),
                )
            )
    opm = getattr(uow, "opm", None)
    for case_id, member_id, npi in ((OPM_CASE_A, MEMBER_A, NPI_A), (OPM_CASE_B, MEMBER_B, NPI_B)):
        letter_date = (START - timedelta(days=5)).date()
        uow.cases.add(
            Case(
                case_id=case_id,
                member_id=member_id,
                program=CaseProgram.OUTPATIENT_MANAGEMENT,
                opened_at=START - timedelta(days=5),
                status=CaseStatus.AWAITING_INFORMATION,
                provider_npi=npi,
                rule_ids=("FUH-7",),
            )
        )
        if opm is not None:
            opm.add_case(
                OpmCaseRecord(
                    case_id=case_id,
                    member_id=member_id,
                    provider_npi=npi,
                    plan_id="P1",
                    cycle="2026-02",
                    as_of=letter_date,
                    letter_date=letter_date,
                    due_on=letter_date + timedelta(days=30),
                    created_at=START - timedelta(days=5),
                    flag_rule_ids=("FUH-7",),
                )
            )
    uow.cases.add(
        Case(
            case_id="C-TCM-0001",
            member_id=MEMBER_A,
            program=CaseProgram.CASE_MANAGEMENT,
            opened_at=START - timedelta(days=10),
            assigned_staff_id="S-CM1",
        )
    )


def settings_for(url: str, data_dir: Path) -> Settings:
    return Settings.from_env(
        {"BHUM_DATABASE_URL": url, "BHUM_DATA_DIR": str(data_dir), "BHUM_SECRET_KEY": "test-secret-for-web"}
    )


def build_world(
    url: str, *, data_dir: Path, extra_members: int = 6, clock: Clock | None = None, seed: bool = True
) -> World:
    """Migrate the database at ``url`` and fill it. ``url`` must be empty."""
    upgrade(url)
    clock = clock or Clock()
    application = Application(
        settings=settings_for(url, data_dir),
        clock=clock,
        password_hasher=Argon2PasswordHasher.fast_for_tests(),
    )
    world = World(application=application, clock=clock)
    if not seed:
        return world
    with world.uow() as uow:
        _seed_population(uow, extra_members)
        uow.commit()
    with world.uow() as uow:
        members = [MEMBER_A, MEMBER_B, *(f"M{10 + i:08d}" for i in range(extra_members))]
        _seed_utilization(uow, members)
        uow.commit()
    submit_pended_iop(world, PENDED_REQUEST)
    for username, (roles, org, staff) in PEOPLE.items():
        user = create_user(
            world.uow(),
            actor="system:test",
            username=username,
            display_name=username.replace("-", " ").title(),
            roles=roles,
            password=PASSWORD,
            hasher=world.hasher,
            now=START - timedelta(days=60),
            organization_id=org,
            staff_id=staff,
        )
        world.user_ids[username] = user.id
    return world


Factory = Callable[[], UnitOfWork]
PENDED_REQUEST = "REQ-IOP-PEND-1"
OPM_CASE_A = "OPM-A-1"  # ORG-A owes its Clinical Update Request Form (OPM-04)
OPM_CASE_B = "OPM-B-1"  # ORG-B's  # an IOP request the engine pends to clinical review (IOP-05/IOP-08 open)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "requests"


def pended_iop_doc(request_id: str, received_at: datetime) -> dict[str, Any]:
    """The shipped pend example, moved onto MEMBER_A and ORG-A's clinician."""
    doc: dict[str, Any] = json.loads((EXAMPLES / "iop-initial-pend.json").read_text(encoding="utf-8"))
    doc["request_id"] = request_id
    doc["member"] = {"member_id": MEMBER_A, "birth_date": "1990-04-01"}
    doc["requesting_provider_npi"] = doc["servicing_provider_npi"] = NPI_A
    doc["received_at"] = received_at.isoformat()
    return doc


def submit_pended_iop(world: World, request_id: str) -> None:
    application = world.application
    engine = Engine(application.packs, application.settings.plan_time_zone, application.holidays)
    result = submit_request(
        world.uow(),
        engine,
        parse_submission(pended_iop_doc(request_id, world.clock() - timedelta(hours=1)), source="world"),
        actor="system:test",
        now=world.clock(),
    )
    assert result is not None
