"""Round trips of every aggregate through SqlAlchemyUnitOfWork, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from bhum.adapters.store import SqlStore
from bhum.domain.access import ApiToken, AuditAction, AuditEvent, Role, User
from bhum.domain.authorization import (
    Authorization,
    AuthorizationStatus,
    Decision,
    DecisionOutcome,
    DecisionReason,
    ReviewKind,
    ServiceRequest,
    TestingPreauthNotice,
    Urgency,
)
from bhum.domain.cases import Case, CaseProgram, CaseStatus, DueDate
from bhum.domain.clinical import (
    AsamDimension,
    AsamRisk,
    ClinicalInformation,
    CrossCuttingDomain,
    Goal,
    PriorTreatment,
    RiskAssessment,
    RiskLevel,
    SeverityLevel,
    TreatmentResponse,
)
from bhum.domain.letters import Letter, LetterKind, RecipientKind
from bhum.domain.members import (
    Address,
    CoverageSpan,
    LineOfBusiness,
    Member,
    Plan,
    ResidenceSetting,
    ResidenceSpan,
    Sex,
)
from bhum.domain.providers import ContractType, Credential, EntityType, Organization, Provider, Staff
from bhum.domain.tasks import Task, TaskKind
from bhum.domain.values import CARC, HCPCS, ICD10CM, NUCC_TAXONOMY, Code, DateSpan

CHICAGO = timezone(timedelta(hours=-6))
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=CHICAGO)

PLAN = Plan(
    "P1", "Synthetic Medicaid BH", "Synthetic Payer", LineOfBusiness.MEDICAID, True, True, "America/Chicago"
)
ORG = Organization("O1", "Riverside CMHC", ContractType.CMHC, "1234567893", "12-3456789", "OK")
PROVIDER = Provider(
    "1234567893",
    "Riverside CMHC",
    EntityType.ORGANIZATION,
    Code(NUCC_TAXONOMY, "261QM0801X", "Mental Health Clinic"),
    "O1",
    "community mental health",
    False,
)
MEMBER = Member(
    member_id="M1",
    person_id="PER1",
    first_name="Ada",
    last_name="Synthetic",
    sex=Sex.FEMALE,
    birth_date=date(1990, 2, 28),
    address=Address("1 Test Way", "Tulsa", "OK", "74101"),
    pcp_npi="1234567893",
)


def _population(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        uow.plans.upsert_many([PLAN])
        uow.organizations.upsert_many([ORG])
        uow.providers.upsert_many([PROVIDER])
        uow.members.upsert_many([MEMBER])
        uow.commit()


def _request(request_id: str = "R1") -> ServiceRequest:
    return ServiceRequest(
        request_id=request_id,
        member_id="M1",
        requesting_provider_npi="1234567893",
        servicing_provider_npi="1234567893",
        service_codes=(Code(HCPCS, "S9480", "Intensive outpatient psychiatric services, per diem"),),
        requested_units=12,
        requested_span=DateSpan(date(2026, 3, 2), date(2026, 3, 31)),
        urgency=Urgency.STANDARD,
        review_kind=ReviewKind.PRE_SERVICE,
        received_at=T0,
        clinical=ClinicalInformation(
            diagnoses=(
                Code(ICD10CM, "F33.1", "Major depressive disorder, recurrent, moderate"),
                Code(ICD10CM, "F10.20"),
            ),
            cross_cutting=((CrossCuttingDomain.DEPRESSION, SeverityLevel.SEVERE),),
            asam=((AsamDimension.READINESS_TO_CHANGE, AsamRisk.MODERATE),),
            locus_level=3,
            functioning="missed work 3 weeks",
            risk_assessments=(
                RiskAssessment(date(2026, 2, 27), RiskLevel.MODERATE, assessed_by_staff_id="S1"),
            ),
            prior_treatment=(
                PriorTreatment("outpatient", date(2025, 6, 1), None, TreatmentResponse.NO_PROGRESS),
            ),
            goals=(Goal("reduce drinking", ("CBT group", "MAT referral"), ("substance_use",)),),
            physical_exam_date=date(2026, 2, 20),
            planned_hours_per_week=9.0,
            planned_days_per_week=3,
        ),
    )


def test_population_aggregates_round_trip(store: SqlStore) -> None:
    staff = Staff(
        "S1",
        "Rae",
        "Reviewer",
        frozenset({Credential.PSYCHIATRIST, Credential.PHYSICIAN}),
        "O1",
        "1234567893",
        "LIC-1",
        date(2020, 1, 6),
    )
    coverage = CoverageSpan("M1", "P1", DateSpan(date(2026, 1, 1), None))
    residence = ResidenceSpan(
        "M1", ResidenceSetting.GROUP_HOME, DateSpan(date(2026, 1, 1), date(2026, 2, 28))
    )
    home = ResidenceSpan("M1", ResidenceSetting.HOME, DateSpan(date(2026, 3, 1), None))
    notice = TestingPreauthNotice("P1", DateSpan(date(2026, 1, 1), None), provider_npi="1234567893")
    _population(store)
    with store.unit_of_work() as uow:
        uow.staff.upsert_many([staff])
        uow.coverage.upsert_many([coverage])
        uow.residence.upsert_many([residence, home])
        uow.testing_notices.upsert_many([notice])
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.plans.get("P1") == PLAN
        assert uow.organizations.get("O1") == ORG
        assert uow.providers.get("1234567893") == PROVIDER
        assert uow.staff.get("S1") == staff
        assert uow.staff.for_organization("O1") == [staff]
        assert uow.testing_notices.for_plan("P1") == [notice]
        member = uow.members.get("M1")
        assert member is not None
        assert member == replace(MEMBER, residences=(residence, home), coverage=(coverage,))
        assert member.residences == (residence, home)
        assert member.coverage == (coverage,)
        assert member.residence_on(date(2026, 2, 28)) == residence
        assert member.residence_on(date(2026, 3, 1)) == home
        assert member.coverage_on(date(2026, 6, 1)) == coverage
        assert member.first_name == "Ada" and member.address.zip_code == "74101"


def test_service_request_with_clinical_information_round_trips(store: SqlStore) -> None:
    _population(store)
    request = _request()
    with store.unit_of_work() as uow:
        uow.service_requests.add(request)
        uow.commit()
    with store.unit_of_work() as uow:
        back = uow.service_requests.get("R1")
    assert back == request
    assert back is not None and back.received_at.tzinfo is not None
    assert back.received_at == T0  # same instant; stored as UTC


def test_authorization_status_history_is_persisted_in_order(store: SqlStore) -> None:
    _population(store)
    auth = Authorization.request(
        authorization_id="A1",
        member_id="M1",
        provider_npi="1234567893",
        service_codes=(Code(HCPCS, "S9480"),),
        span=DateSpan(date(2026, 3, 2), date(2026, 3, 31)),
        units_requested=12,
        at=T0,
        by="U-intake",
        request_id="R1",
    )
    with store.unit_of_work() as uow:
        uow.authorizations.add(auth)
        uow.commit()
    auth.pend(at=T0 + timedelta(hours=1), by="U-rev", reason="need risk assessment", rule_id="IOP-10")
    auth.partially_approve(8, at=T0 + timedelta(days=2), by="U-doc", reason="8 sessions", rule_id="IOP-11")
    with store.unit_of_work() as uow:
        uow.authorizations.save(auth)
        uow.commit()
    auth.record_use(3)
    auth.discontinue(
        at=T0 + timedelta(days=40), by="system:opm", reason="form not returned", rule_id="OPM-07"
    )
    with store.unit_of_work() as uow:
        uow.authorizations.save(auth)
        uow.commit()
    with store.unit_of_work() as uow:
        back = uow.authorizations.get("A1")
        assert uow.authorizations.active_on("M1", date(2026, 3, 10)) == []
    assert back == auth
    assert back is not None
    assert [(c.from_status, c.to_status) for c in back.history] == [
        (None, AuthorizationStatus.REQUESTED),
        (AuthorizationStatus.REQUESTED, AuthorizationStatus.PENDED),
        (AuthorizationStatus.PENDED, AuthorizationStatus.PARTIALLY_APPROVED),
        (AuthorizationStatus.PARTIALLY_APPROVED, AuthorizationStatus.DISCONTINUED),
    ]
    assert [c.rule_id for c in back.history] == [None, "IOP-10", "IOP-11", "OPM-07"]
    assert back.units_authorized == 8 and back.units_used == 3


def test_active_authorizations_on_a_day(store: SqlStore) -> None:
    _population(store)
    auth = Authorization.request(
        authorization_id="A2",
        member_id="M1",
        provider_npi="1234567893",
        service_codes=(Code(HCPCS, "S9480"),),
        span=DateSpan(date(2026, 3, 2), date(2026, 3, 31)),
        units_requested=12,
        at=T0,
        by="U",
    )
    auth.approve(at=T0, by="system:auto")
    with store.unit_of_work() as uow:
        uow.authorizations.add(auth)
        uow.commit()
    with store.unit_of_work() as uow:
        assert [a.authorization_id for a in uow.authorizations.active_on("M1", date(2026, 3, 31))] == ["A2"]
        assert uow.authorizations.active_on("M1", date(2026, 4, 1)) == []


def test_decision_round_trips_and_is_recorded_once_per_request_and_outcome(store: SqlStore) -> None:
    _population(store)
    decision = Decision(
        decision_id="D1",
        request_id="R1",
        outcome=DecisionOutcome.PARTIALLY_APPROVED,
        reasons=(DecisionReason("IOP-11", "12 sessions over 30 days", Code(CARC, "198")),),
        decided_by="U-doc",
        decided_at=T0,
        units_approved=8,
        approved_span=DateSpan(date(2026, 3, 2), date(2026, 3, 31)),
        reviewer_licence="LIC-1",
    )
    with store.unit_of_work() as uow:
        uow.service_requests.add(_request())
        assert uow.decisions.add(decision) is True
        uow.commit()
    rerun = Decision(
        **{**{f: getattr(decision, f) for f in decision.__dataclass_fields__}, "decision_id": "D1-rerun"}
    )
    with store.unit_of_work() as uow:
        assert uow.decisions.add(rerun) is False  # re-running the batch never decides twice
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.decisions.get("D1") == decision
        assert uow.decisions.for_request("R1") == [decision]
        assert uow.decisions.count() == 1


def test_case_round_trips_with_due_dates(store: SqlStore) -> None:
    _population(store)
    case = Case(
        "C1",
        "M1",
        CaseProgram.OUTPATIENT_MANAGEMENT,
        T0,
        provider_npi="1234567893",
        assigned_staff_id="S1",
        rule_ids=("OPM-03", "OPM-04"),
        due_dates=(DueDate("clinical update form", date(2026, 4, 1), "OPM-04"),),
    )
    with store.unit_of_work() as uow:
        uow.cases.add(case)
        uow.commit()
    case.move_to(CaseStatus.AWAITING_INFORMATION, at=T0)
    case.add_due_date(DueDate("discontinue if not returned", date(2026, 4, 2), "OPM-07"))
    with store.unit_of_work() as uow:
        uow.cases.save(case)
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.cases.get("C1") == case
        assert uow.cases.for_staff("S1") == [case]
        assert uow.cases.for_member("M1") == [case]


def test_letter_is_generated_once_per_idempotency_key(store: SqlStore) -> None:
    letter = Letter(
        letter_id="L1",
        kind=LetterKind.OPM_CLINICAL_UPDATE_REQUEST,
        recipient_kind=RecipientKind.PROVIDER,
        recipient_id="1234567893",
        member_id="M1",
        template="opm_clinical_update_request@1",
        created_at=T0,
        idempotency_key="opm_clinical_update_request:provider:C1",
        case_id="C1",
        file_path="letters/L1.pdf",
        content_sha256="ab" * 32,
    )
    with store.unit_of_work() as uow:
        assert uow.letters.add(letter) is True
        uow.commit()
    with store.unit_of_work() as uow:
        again = Letter(**{**{f: getattr(letter, f) for f in letter.__dataclass_fields__}, "letter_id": "L2"})
        assert uow.letters.add(again) is False
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.letters.count() == 1
        assert uow.letters.get_by_idempotency_key(letter.idempotency_key) == letter
        assert uow.letters.for_member("M1") == [letter]


def test_task_round_trips_and_open_tasks_filter(store: SqlStore) -> None:
    task = Task(
        "T1",
        TaskKind.OUTREACH,
        T0 + timedelta(days=2),
        T0,
        assigned_to="U-cm",
        member_id="M1",
        rule_id="TCM-07",
    )
    with store.unit_of_work() as uow:
        uow.tasks.add(task)
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.tasks.get("T1") == task
        assert uow.tasks.open_tasks(assigned_to="U-cm", due_before=T0 + timedelta(days=3)) == [task]
        assert uow.tasks.open_tasks(due_before=T0 + timedelta(days=1)) == []
    task.escalate(to="U-sup")
    task.complete(T0 + timedelta(days=1))
    with store.unit_of_work() as uow:
        uow.tasks.save(task)
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.tasks.get("T1") == task
        assert uow.tasks.open_tasks() == []


def test_users_tokens_and_audit_round_trip(store: SqlStore) -> None:
    user = User(
        "U1",
        "rae",
        "Rae Reviewer",
        frozenset({Role.CLINICAL_REVIEWER, Role.PHYSICIAN_REVIEWER}),
        staff_id="S1",
    )
    token = ApiToken("K1", "U1", "hash-1", "laptop", T0, expires_at=T0 + timedelta(days=30))
    with store.unit_of_work() as uow:
        uow.users.add(user, "argon2-hash")
        uow.api_tokens.add(token)
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.users.get("U1") == user
        assert uow.users.get_by_username("rae") == user
        assert uow.users.password_hash("U1") == "argon2-hash"
        uow.users.set_password_hash("U1", "argon2-new")
        uow.api_tokens.revoke("K1", T0 + timedelta(hours=1))
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.users.password_hash("U1") == "argon2-new"
        revoked = uow.api_tokens.get_by_hash("hash-1")
        assert revoked is not None and revoked.revoked_at == T0 + timedelta(hours=1)
        assert uow.users.list() == [user]


def test_audit_log_is_append_only(store: SqlStore) -> None:
    events = [
        AuditEvent(
            T0 + timedelta(minutes=i), "U1", AuditAction.READ, "member", "M1", "M1", "review", {"route": "/m"}
        )
        for i in range(3)
    ]
    with store.unit_of_work() as uow:
        for event in events:
            uow.audit.append(event)
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.audit.list(member_id="M1") == events
        assert uow.audit.list(since=T0 + timedelta(minutes=1), limit=1) == [events[1]]
        assert uow.audit.list(actor="someone-else") == []
    with store.unit_of_work() as uow:
        for name in ("update", "delete", "remove", "save"):
            assert not hasattr(uow.audit, name)
    # Below the repository, the database itself refuses to rewrite the trail.
    for statement in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"):
        with store.engine.connect() as connection, pytest.raises((DBAPIError, IntegrityError)):
            connection.execute(text(statement))
    with store.unit_of_work() as uow:
        assert uow.audit.list() == events


def test_leaving_without_commit_writes_nothing(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        uow.plans.upsert_many([PLAN])
    with store.unit_of_work() as uow:
        assert uow.plans.count() == 0


def test_idempotent_adds_inside_savepoints_are_rolled_back_with_the_unit_of_work(store: SqlStore) -> None:
    """Letters and decisions are written inside a savepoint; on SQLite a released savepoint must not
    commit on its own (the sqlite3 driver's default would)."""
    _population(store)
    with store.unit_of_work() as uow:
        uow.service_requests.add(_request())
        uow.commit()
    letter = Letter(
        "L9",
        LetterKind.OPM_MEMBER_NOTICE,
        RecipientKind.MEMBER,
        "M1",
        "M1",
        "opm_member_notice@1",
        T0,
        "opm_member_notice:member:C9",
    )
    decision = Decision("D9", "R1", DecisionOutcome.APPROVED, (), "system:auto", T0)
    with store.unit_of_work() as uow:
        assert uow.letters.add(letter) is True
        assert uow.decisions.add(decision) is True
        # no commit
    with store.unit_of_work() as uow:
        assert uow.letters.count() == 0
        assert uow.decisions.count() == 0


def test_naive_timestamps_are_refused_by_the_store(store: SqlStore) -> None:
    from bhum.adapters.store.tables import UtcDateTime

    with pytest.raises(ValueError, match="timezone-aware"):
        UtcDateTime().process_bind_param(datetime(2026, 1, 1), store.engine.dialect)
    assert UtcDateTime().process_result_value(datetime(2026, 1, 1), store.engine.dialect) == datetime(
        2026, 1, 1, tzinfo=UTC
    )
