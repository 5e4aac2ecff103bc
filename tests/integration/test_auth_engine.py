"""The authorization engine on a real store (SQLite file; PostgreSQL where the env var is set):
submit, auto-approve / pend / administrative outcomes, reviewer decisions (REG-04), concurrent
review (IOP-09, IOP-13, MN-03, OPM-09), clocks (REG-01, IOP-12), appeals and peer-to-peer (REG-03),
letters as PDF (opened with pypdf), audit, and nothing half-stored on bad input."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from bhum.adapters.holidays import us_federal_holidays_for_span
from bhum.adapters.letters import write as write_letter
from bhum.adapters.store import SqlStore
from bhum.adapters.store.auth_records import AuthSqlUnitOfWork
from bhum.domain.access import Role, User
from bhum.domain.authorization import (
    AuthorizationStatus,
    DecisionOutcome,
    DecisionReason,
    TestingPreauthNotice,
)
from bhum.domain.errors import InputError, InvalidTransition, PermissionDenied
from bhum.domain.members import Address, CoverageSpan, LineOfBusiness, Member, Plan, Sex
from bhum.domain.providers import ContractType, Credential, EntityType, Organization, Provider, Staff
from bhum.domain.values import CPT, HCPCS, Code, DateSpan
from bhum.policy import load_packs
from bhum.services.auth_records import AppealOutcome, PeerToPeerOutcome, RequestStatus, auth_records
from bhum.services.auth_requests import parse_submission
from bhum.services.authorization import (
    Engine,
    authorization_required,
    decide_appeal,
    decide_request,
    file_appeal,
    get_request,
    record_peer_to_peer,
    render_letters,
    submit_request,
    tick_clocks,
)

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "requests"
CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
NPI = "1234567893"
PACKS = load_packs(REPO / "packs")
ENGINE = Engine(PACKS, CHICAGO, us_federal_holidays_for_span)

RN = User("u-rn", "rn", "Casey Nurse", frozenset({Role.CLINICAL_REVIEWER}), staff_id="STF-RN-1")
DOC = User("u-doc", "doc", "Dr. Pat Psych", frozenset({Role.PHYSICIAN_REVIEWER}), staff_id="STF-PSY-1")
DOC2 = User("u-doc2", "doc2", "Dr. Lee Psych", frozenset({Role.PHYSICIAN_REVIEWER}), staff_id="STF-PSY-2")


def example(name: str, **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    doc = copy.deepcopy(doc)
    for key, value in changes.items():
        doc[key] = value
    return doc


def seed(store: SqlStore) -> None:
    """Synthetic plans, members, a provider, staff and reviewers."""
    with store.unit_of_work() as uow:
        uow.plans.upsert_many(
            [
                Plan(
                    "P1",
                    "Synthetic Medicaid BH",
                    "Payer",
                    LineOfBusiness.MEDICAID,
                    True,
                    True,
                    "America/Chicago",
                ),
                Plan(
                    "P2",
                    "Synthetic no BH",
                    "Payer",
                    LineOfBusiness.COMMERCIAL,
                    False,
                    False,
                    "America/Chicago",
                ),
                Plan(
                    "P3",
                    "Synthetic commercial BH",
                    "Payer",
                    LineOfBusiness.COMMERCIAL,
                    True,
                    True,
                    "America/Chicago",
                ),
            ]
        )
        uow.organizations.upsert_many(
            [Organization("O1", "Riverside CMHC", ContractType.CMHC, NPI, "12-3456789", "OK")]
        )
        uow.providers.upsert_many([Provider(NPI, "Riverside CMHC", EntityType.ORGANIZATION, None, "O1")])
        members = []
        for member_id, birth in (
            ("SYN-M-0001", date(1990, 2, 28)),
            ("SYN-M-0002", date(1985, 5, 1)),
            ("SYN-M-0003", date(1980, 1, 1)),
            ("SYN-M-0004", date(1992, 1, 1)),
        ):
            members.append(
                Member(
                    member_id,
                    "Ada",
                    "Synthetic",
                    Sex.FEMALE,
                    birth,
                    address=Address("1 Test Way", "Tulsa", "OK", "74101"),
                )
            )
        uow.members.upsert_many(members)
        uow.coverage.upsert_many(
            [
                CoverageSpan("SYN-M-0001", "P1", DateSpan(date(2026, 1, 1), None)),
                CoverageSpan("SYN-M-0002", "P2", DateSpan(date(2026, 1, 1), None)),
                CoverageSpan("SYN-M-0003", "P1", DateSpan(date(2025, 1, 1), date(2026, 2, 28))),
                CoverageSpan("SYN-M-0004", "P3", DateSpan(date(2026, 1, 1), None)),
            ]
        )
        uow.staff.upsert_many(
            [
                Staff(
                    "STF-LCSW-1", "Lou", "Clinician", frozenset({Credential.LICENSED_MASTERS_CLINICIAN}), "O1"
                ),
                Staff("STF-RN-1", "Casey", "Nurse", frozenset({Credential.RN})),
                Staff(
                    "STF-PSY-1", "Pat", "Psych", frozenset({Credential.PSYCHIATRIST, Credential.PHYSICIAN})
                ),
                Staff(
                    "STF-PSY-2", "Lee", "Psych", frozenset({Credential.PSYCHIATRIST, Credential.PHYSICIAN})
                ),
            ]
        )
        for user in (RN, DOC, DOC2):
            uow.users.add(user, None)
        uow.commit()


@pytest.fixture
def world(store: SqlStore) -> Iterator[SqlStore]:
    seed(store)
    yield store


def auth_uow(store: SqlStore) -> AuthSqlUnitOfWork:
    return AuthSqlUnitOfWork(store.session_factory)


def submit(store: SqlStore, doc: dict[str, Any], now: datetime = NOW) -> Any:
    return submit_request(
        auth_uow(store), ENGINE, parse_submission(doc, source="test"), actor="system:test", now=now
    )


def counts(store: SqlStore) -> dict[str, int]:
    with auth_uow(store) as uow:
        return {
            "requests": uow.service_requests.count(),
            "auth_requests": uow.auth.count_requests(),
            "authorizations": uow.authorizations.count(),
            "decisions": uow.decisions.count(),
            "letters": uow.auth.count_letter_jobs(),
            "tasks": uow.tasks.count(),
            "audit": len(uow.audit.list(limit=1000)),
        }


def test_iop_initial_request_is_approved_automatically_with_12_sessions_over_30_days(world: SqlStore) -> None:
    """IOP-11 / REG-04: every criterion met -> automatic approval, authorization with history."""
    result = submit(world, example("iop-initial-approve.json", requested_units=8))
    assert result.status is RequestStatus.APPROVED
    with auth_uow(world) as uow:
        auth = uow.authorizations.get(result.authorization_id)
        assert auth is not None
        assert auth.status is AuthorizationStatus.APPROVED
        assert auth.units_authorized == 12  # raised to the IOP-11 minimum from 8
        assert auth.span.days is not None and auth.span.days >= 30
        assert [h.to_status for h in auth.history] == [
            AuthorizationStatus.REQUESTED,
            AuthorizationStatus.APPROVED,
        ]
        record = uow.auth.get_request("REQ-IOP-0001")
        assert record is not None and record.time_to_decision_seconds is not None
        assert record.due_rule_id == "REG-01"  # 7 days (medicaid) beats IOP-12's 14
        decisions = uow.decisions.for_request("REQ-IOP-0001")
        assert [d.outcome for d in decisions] == [DecisionOutcome.APPROVED]
        assert decisions[0].decided_by.startswith("system:")
        assert len(uow.auth.letter_jobs_for_request("REQ-IOP-0001")) == 2  # provider and member
        actions = [(e.action.value, e.entity_type) for e in uow.audit.list(member_id="SYN-M-0001")]
        assert ("create", "service_request") in actions
    criteria = {c["criterion"]: c["status"] for c in result.evaluation.to_doc()["criteria"]}
    assert criteria["iop.initial-authorization"] == "met"
    assert set(criteria.values()) == {"met"}


def test_open_criteria_pend_to_clinical_review_and_never_deny(world: SqlStore) -> None:
    """IOP-05 (adult 6 weekly hours) and IOP-08 (no exam) are open: pend with both listed, a review
    task due by the clock, request-for-information letters, and no denial."""
    doc = example("iop-initial-pend.json")
    result = submit(world, doc)
    assert result.status is RequestStatus.PENDED
    determination = result.evaluation.to_doc()
    assert determination["open_criteria"] == ["iop.weekly-hours", "iop.physical-exam"]
    with auth_uow(world) as uow:
        assert [d.outcome for d in uow.decisions.for_request("REQ-IOP-0002")] == [DecisionOutcome.PENDED]
        task = uow.tasks.get("REVIEW-REQ-IOP-0002")
        assert task is not None and task.rule_id == "REG-01"
        auth = uow.authorizations.get("AUTH-REQ-IOP-0002")
        assert auth is not None and auth.status is AuthorizationStatus.PENDED


def test_commercial_standard_request_is_due_by_iop12_not_reg03(world: SqlStore) -> None:
    """REG-03 non-urgent pre-service is 15 days; IOP-12's 14 days is stricter on a commercial plan."""
    doc = example("iop-initial-approve.json", request_id="REQ-COM-1", member={"member_id": "SYN-M-0004"})
    result = submit(world, doc)
    assert result.evaluation.deadline.rule_id == "IOP-12"
    assert result.evaluation.deadline.due.date() == date(2026, 3, 16)


@pytest.mark.parametrize(
    ("member_id", "service", "reason", "carc"),
    [
        ("SYN-M-0003", None, "no_coverage", "27"),  # coverage ended 2026-02-28
        ("SYN-M-0002", None, "no_bh_benefit", "204"),  # OPM-08
        (
            "SYN-M-0001",
            {"system": "cpt", "code": "99999", "display": "Unlisted"},
            "not_a_covered_service",
            "96",
        ),
    ],
)
def test_administrative_outcomes_are_automatic_with_reason_and_carc(
    world: SqlStore, member_id: str, service: dict[str, str] | None, reason: str, carc: str
) -> None:
    changes: dict[str, Any] = {"request_id": f"REQ-ADM-{reason}", "member": {"member_id": member_id}}
    if service is not None:
        changes["service_codes"] = [service]
    result = submit(world, example("iop-initial-approve.json", **changes))
    assert result.status is RequestStatus.ADMINISTRATIVE_DENIAL
    admin = result.evaluation.to_doc()["administrative"]
    assert admin["reason"] == reason
    assert admin["codes"][0]["code"] == carc


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"member": {"member_id": "NOBODY"}}, "member.member_id"),
        ({"service_codes": [{"system": "nosuch", "code": "S9480"}]}, "service_codes[0].system"),
        ({"requested_span": {"start": "2026-02-30", "end": "2026-03-30"}}, "requested_span.start"),
        ({"requested_units": None}, "requested_units"),
        ({"servicing_provider_npi": "9999999999"}, "servicing_provider_npi"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(
    world: SqlStore, changes: dict[str, Any], field: str
) -> None:
    before = counts(world)
    with pytest.raises(InputError) as caught:
        submit(world, example("iop-initial-approve.json", **changes))
    assert caught.value.field == field
    assert counts(world) == before


def test_a_duplicate_request_id_is_refused_and_nothing_changes(world: SqlStore) -> None:
    submit(world, example("iop-initial-approve.json"))
    before = counts(world)
    with pytest.raises(InputError):
        submit(world, example("iop-initial-approve.json"))
    assert counts(world) == before


def test_only_a_physician_reviewer_may_deny_reg04(world: SqlStore, tmp_path: Path) -> None:
    submit(world, example("iop-initial-pend.json"))
    reason = [
        DecisionReason("IOP-05", "Weekly hours: the plan gives 6 hours a week; adults need at least 9.")
    ]
    with pytest.raises(PermissionDenied):
        decide_request(
            auth_uow(world),
            "REQ-IOP-0002",
            outcome=DecisionOutcome.DENIED,
            reviewer=RN,
            now=NOW,
            reasons=reason,
        )
    with pytest.raises(InputError):  # REG-01: a specific reason
        decide_request(auth_uow(world), "REQ-IOP-0002", outcome=DecisionOutcome.DENIED, reviewer=DOC, now=NOW)
    decision = decide_request(
        auth_uow(world),
        "REQ-IOP-0002",
        outcome=DecisionOutcome.DENIED,
        reviewer=DOC,
        now=NOW + timedelta(hours=2),
        reasons=reason,
    )
    assert decision.decided_by == "u-doc"
    with auth_uow(world) as uow:
        record = uow.auth.get_request("REQ-IOP-0002")
        assert record is not None and record.status is RequestStatus.DENIED
        assert record.time_to_decision_seconds == pytest.approx(
            (NOW + timedelta(hours=2) - datetime(2026, 3, 2, 15, 30, tzinfo=UTC)).total_seconds()
        )
        assert len(uow.auth.peer_to_peer_for_request("REQ-IOP-0002")) == 1  # REG-03 offer recorded
        task = uow.tasks.get("REVIEW-REQ-IOP-0002")
        assert task is not None and task.status.value == "done"
    # Letters: two request-for-information and two denial letters, rendered once as PDF.
    paths = render_letters(auth_uow(world), write=write_letter, directory=tmp_path, now=NOW, tz=CHICAGO)
    assert len(paths) == 4
    assert render_letters(auth_uow(world), write=write_letter, directory=tmp_path, now=NOW, tz=CHICAGO) == []
    denial = [p for p in paths if p.name.startswith("authorization_denial")]
    assert len(denial) == 2
    text = " ".join(page.extract_text() for page in PdfReader(denial[0]).pages)
    flat = " ".join(text.split())
    assert "IOP-05" in flat
    assert "appeal" in flat.lower()
    assert "peer" in flat.lower()
    rfi = next(p for p in paths if p.name.startswith("request_for_information"))
    rfi_text = " ".join(" ".join(page.extract_text() for page in PdfReader(rfi).pages).split())
    assert "physical exam" in rfi_text.lower()
    with auth_uow(world) as uow:
        assert uow.letters.count() == 4
        assert {j.status.value for j in uow.auth.letter_jobs_for_request("REQ-IOP-0002")} == {"rendered"}


def test_approval_letter_states_service_dates_and_sessions(world: SqlStore, tmp_path: Path) -> None:
    submit(world, example("iop-initial-approve.json"))
    paths = render_letters(auth_uow(world), write=write_letter, directory=tmp_path, now=NOW, tz=CHICAGO)
    assert len(paths) == 2
    flat = " ".join(" ".join(page.extract_text() for page in PdfReader(paths[0]).pages).split())
    assert "S9480" in flat or "Intensive outpatient" in flat
    assert "12" in flat
    assert "2026" in flat


def test_appeal_is_re_reviewed_by_a_different_reviewer_with_a_similar_licence(world: SqlStore) -> None:
    submit(world, example("iop-initial-pend.json"))
    reason = [DecisionReason("IOP-05", "fewer than 9 weekly hours")]
    decide_request(
        auth_uow(world), "REQ-IOP-0002", outcome=DecisionOutcome.DENIED, reviewer=DOC, now=NOW, reasons=reason
    )
    appeal = file_appeal(
        auth_uow(world), "REQ-IOP-0002", reason="the program now runs 9 hours", actor="system:test", now=NOW
    )
    with pytest.raises(PermissionDenied):  # the same reviewer
        decide_appeal(
            auth_uow(world), appeal.appeal_id, outcome=AppealOutcome.OVERTURNED, reviewer=DOC, now=NOW
        )
    with pytest.raises(PermissionDenied):  # not a similar licence (RN vs psychiatrist)
        decide_appeal(
            auth_uow(world), appeal.appeal_id, outcome=AppealOutcome.OVERTURNED, reviewer=RN, now=NOW
        )
    decided = decide_appeal(
        auth_uow(world), appeal.appeal_id, outcome=AppealOutcome.OVERTURNED, reviewer=DOC2, now=NOW
    )
    assert decided.reviewer_staff_id == "STF-PSY-2"
    doc = get_request(auth_uow(world), "REQ-IOP-0002", actor="system:test", now=NOW)
    assert doc["status"] == "approved"
    assert doc["authorization"]["status"] == "approved"
    assert doc["appeals"][0]["outcome"] == "overturned"
    with pytest.raises(InvalidTransition):
        decide_appeal(auth_uow(world), appeal.appeal_id, outcome=AppealOutcome.UPHELD, reviewer=DOC2, now=NOW)


def test_peer_to_peer_outcome_is_recorded(world: SqlStore) -> None:
    submit(world, example("iop-initial-pend.json"))
    with pytest.raises(InvalidTransition):  # nothing offered before an adverse decision
        record_peer_to_peer(
            auth_uow(world), "REQ-IOP-0002", outcome=PeerToPeerOutcome.DECISION_UPHELD, reviewer=DOC, now=NOW
        )
    decide_request(
        auth_uow(world),
        "REQ-IOP-0002",
        outcome=DecisionOutcome.PARTIALLY_APPROVED,
        reviewer=DOC,
        now=NOW,
        units=8,
        reasons=[DecisionReason("IOP-05", "fewer hours: 8 sessions")],
    )
    record = record_peer_to_peer(
        auth_uow(world),
        "REQ-IOP-0002",
        outcome=PeerToPeerOutcome.DECISION_UPHELD,
        reviewer=DOC,
        now=NOW,
        notes="discussed",
    )
    assert record.outcome is PeerToPeerOutcome.DECISION_UPHELD and record.held_at == NOW


def _concurrent(
    request_id: str, received: str, *, progress: str, attended: float = 20, changed: bool = False
) -> dict[str, Any]:
    doc = example("iop-concurrent.json", request_id=request_id, received_at=received)
    doc["clinical"]["risk_assessments"] = [
        {"assessed_on": received[:10], "suicide_risk": "low", "assessed_by_staff_id": "STF-LCSW-1"}
    ]
    doc["program"].update(
        {"attended_hours": attended, "progress": progress, "treatment_plan_changed": changed}
    )
    return doc


def test_concurrent_review_engagement_timing_and_progress(world: SqlStore) -> None:
    """IOP-09 below half the scheduled hours pends; IOP-13 flags a request less than 14 days before
    expiry; MN-03 two reviews without progress recommend a plan change and OPM-09 a step-down."""
    submit(world, example("iop-initial-approve.json"))  # AUTH-REQ-IOP-0001, 2026-03-09..2026-04-07
    later = datetime(2026, 3, 27, tzinfo=UTC)
    on_time = submit(world, _concurrent("REQ-C1", "2026-03-24T09:00:00-05:00", progress="improved"), later)
    assert on_time.status is RequestStatus.APPROVED
    assert on_time.evaluation.determination.flags == ()
    late = submit(
        world, _concurrent("REQ-C2", "2026-03-25T09:00:00-05:00", progress="no_progress", attended=13), later
    )
    doc = late.evaluation.to_doc()
    assert late.status is RequestStatus.PENDED
    assert "iop.engagement" in doc["open_criteria"]  # 13/27 < 0.5
    assert any(f.startswith("IOP-13") for f in doc["flags"])  # 13 days before 2026-04-07
    third = submit(world, _concurrent("REQ-C3", "2026-03-26T09:00:00-05:00", progress="no_progress"), later)
    recs = {r["recommendation"]: r for r in third.evaluation.to_doc()["recommendations"]}
    assert "change_treatment_plan" in recs and recs["change_treatment_plan"]["rule_id"] == "MN-03"
    assert recs["step_down"]["step_down_to"] == "outpatient" and recs["step_down"]["rule_id"] == "OPM-09"
    assert third.status is RequestStatus.PENDED


def test_clock_tick_escalates_once_per_level(world: SqlStore) -> None:
    """REG-01 standard (7 days) governs a Medicaid request; the tick is idempotent."""
    result = submit(world, example("iop-initial-pend.json"))
    due = result.evaluation.deadline.due
    assert tick_clocks(auth_uow(world), now=due - timedelta(days=2)) == []
    soon = tick_clocks(auth_uow(world), now=due - timedelta(hours=1))
    assert [(e.request_id, e.status, e.rule_id) for e in soon] == [("REQ-IOP-0002", "due_soon", "REG-01")]
    assert tick_clocks(auth_uow(world), now=due - timedelta(hours=1)) == []
    late = tick_clocks(auth_uow(world), now=due + timedelta(seconds=1))
    assert [e.status for e in late] == ["overdue"]
    assert tick_clocks(auth_uow(world), now=due + timedelta(hours=5)) == []
    with auth_uow(world) as uow:
        tasks = uow.tasks.open_tasks()
        assert {t.task_id for t in tasks if t.escalated} == {
            "CLOCK-REQ-IOP-0002-due_soon",
            "CLOCK-REQ-IOP-0002-overdue",
        }


def test_authorization_required_names_rule_and_pack(world: SqlStore) -> None:
    """OPM-01 for the IOP per diem; IOP-14 open authorization for routine outpatient; testing only
    once the plan notified the provider."""

    def ask(service: Code) -> Any:
        return authorization_required(
            auth_uow(world),
            ENGINE,
            member_id="SYN-M-0001",
            provider_npi=NPI,
            service=service,
            on=date(2026, 3, 9),
            actor="system:test",
            now=NOW,
        )

    iop = ask(Code(HCPCS, "S9480"))
    assert (iop.required, iop.rule_id, iop.criterion) == (True, "OPM-01", "opm.preauth-required-services")
    assert iop.pack.startswith("opm@")
    routine = ask(Code(CPT, "90834"))
    assert (routine.required, routine.rule_id) == (False, "IOP-14")
    assert routine.open_authorization_end == date(2027, 3, 8)
    testing = ask(Code(CPT, "96130"))
    assert testing.required is False
    with world.unit_of_work() as uow:
        uow.testing_notices.upsert_many(
            [TestingPreauthNotice("P1", DateSpan(date(2026, 3, 1), None), provider_npi=NPI)]
        )
        uow.commit()
    testing = ask(Code(CPT, "96130"))
    assert (testing.required, testing.criterion) == (True, "opm.testing-preauth-when-notified")
    with auth_uow(world) as auth_uow_:
        assert any(
            e.reason == "authorization required?" for e in auth_uow_.audit.list(member_id="SYN-M-0001")
        )
    with auth_uow(world) as check_uow:
        assert auth_records(check_uow).count_requests() == 0  # asking stores no request
