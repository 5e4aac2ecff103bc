"""Case management, consent and coordination over the API (TestClient over a migrated SQLite store):
each route per role and scope, the rule boundaries through the API (TCM-05/06/07/09/10/12, COC-01/02/04,
REG-06), refusals audited, bad input refused naming the field with nothing stored."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from bhum.adapters.passwords import Argon2PasswordHasher
from bhum.adapters.store import SqlStore, upgrade
from bhum.adapters.store.care_management import SqlCareUnitOfWork
from bhum.config import Settings
from bhum.domain.access import AuditAction, AuditEvent, Role
from bhum.domain.members import Address, Member, Sex
from bhum.domain.providers import Credential, Staff
from bhum.entrypoints.api.app import create_app
from bhum.entrypoints.api.dependencies import ApiDependencies
from bhum.services.access import create_user, issue_token
from bhum.services.care_records import CareUnitOfWork
from bhum.services.directory import UowMemberDirectory, UowScopeResolver
from tests.fakes import MutableClock

START = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
PCP = "1234567893"
OWN = "M1"  # put on S-ICM's caseload by the supervisor in the fixture
PEOPLE: dict[str, tuple[tuple[Role, ...], str | None, str | None]] = {
    "supervisor": ((Role.CM_SUPERVISOR,), None, "S-SUP"),
    "cm_own": ((Role.CASE_MANAGER,), None, "S-ICM"),
    "cm_other": ((Role.CASE_MANAGER,), None, "S-CM2"),
    "provider": ((Role.PROVIDER_USER,), "ORG-A", None),
    "auditor": ((Role.AUDITOR,), None, None),
    "intake": ((Role.INTAKE,), None, None),
    "admin": ((Role.ADMIN,), None, None),
}
LETTER = {
    "plan": {
        "name": "Prairie Synthetic Health Plan",
        "phone": "1-800-555-0100",
        "address_lines": ["PO Box 1"],
    },
    "pcp": {"npi": PCP, "name": "Dr. Ada Example, MD", "address_lines": ["5 Oak Avenue", "Tulsa, OK 74101"]},
    "coordinator": {"name": "Casey Coordinator", "phone": "1-800-555-0111"},
}
COMPLETE_NOTE: dict[str, Any] = {
    "note_id": "N1",
    "session_date": "2026-03-09",
    "persons_served": ["member"],
    "start_time": "10:00",
    "stop_time": "10:45",
    "signature": "faxed",
    "signed_on": "2026-03-09",
    "provider_credentials": "CM II",
    "plan_needs_addressed": "Goal 1: housing",
    "activities": ["face_to_face_member"],
    "progress_or_barriers": "Applied for housing",
    "member_response": "Engaged",
    "new_needs_identified": "None",
    "member_satisfaction": "Satisfied",
}


@dataclass
class Api:
    client: TestClient
    store: SqlStore
    clock: MutableClock
    tokens: dict[str, str]
    ids: dict[str, str]
    letters: Path

    def call(self, who: str, method: str, path: str, body: Any = None) -> Any:
        return self.client.request(
            method, path, json=body, headers={"Authorization": f"Bearer {self.tokens[who]}"}
        )

    def uow(self) -> CareUnitOfWork:
        return SqlCareUnitOfWork(self.store.session_factory)

    def audit(self, action: AuditAction) -> list[AuditEvent]:
        with self.uow() as uow:
            return [e for e in uow.audit.list() if e.action is action]


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated database file per module; each test works on its own copy (migrating is slow)."""
    path = tmp_path_factory.mktemp("cm") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def api(tmp_path: Path, migrated: Path) -> Iterator[Api]:
    shutil.copyfile(migrated, tmp_path / "cm.sqlite3")
    url = f"sqlite:///{tmp_path / 'cm.sqlite3'}"
    store = SqlStore(url)

    def uow_factory() -> CareUnitOfWork:
        return SqlCareUnitOfWork(store.session_factory)

    home = Address("7 Maple Lane", "Edmond", "OK", "73010")
    with uow_factory() as uow:
        uow.members.upsert_many(
            Member(f"M{i}", "Syn", f"Thetic{i}", Sex.UNKNOWN, date(1980, 1, 1), address=home, pcp_npi=PCP)
            for i in range(1, 18)
        )
        uow.staff.upsert_many(
            [
                Staff("S-ICM", "Casey", "CM", frozenset({Credential.CM_II, Credential.INTENSIVE_CM})),
                Staff("S-CM2", "Morgan", "CM", frozenset({Credential.CM_II})),
            ]
        )
        uow.commit()
    hasher = Argon2PasswordHasher.fast_for_tests()
    tokens: dict[str, str] = {}
    ids: dict[str, str] = {}
    for name, (roles, org, staff) in PEOPLE.items():
        user = create_user(
            uow_factory(), actor="system:test", username=name.replace("_", "-"), display_name=name,
            roles=roles, password=None, hasher=hasher, now=START, organization_id=org, staff_id=staff,
        )  # fmt: skip
        ids[name] = user.id
        tokens[name] = issue_token(
            uow_factory(), actor="system:test", username=user.username, label="t", now=START,
            ttl=timedelta(days=30),
        ).token  # fmt: skip
    clock = MutableClock(START)
    settings = Settings.from_env({"BHUM_DATA_DIR": str(tmp_path / "data")})
    deps = ApiDependencies(
        uow_factory=uow_factory,
        clock=clock,
        settings=settings,
        password_hasher=hasher,
        members=UowMemberDirectory,
        scopes=UowScopeResolver,
    )
    with TestClient(create_app(deps)) as client:
        api = Api(client, store, clock, tokens, ids, settings.data_dir / "letters")
        response = api.call(
            "supervisor", "POST", f"/members/{OWN}/caseload-assignments",
            {"staff_id": "S-ICM", "caseload_type": "intensive"},
        )  # fmt: skip
        assert response.status_code == 201, response.json()
        yield api
    store.dispose()


# --- who may call what ---------------------------------------------------------------------------

READ_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", f"/members/{OWN}/consents", None),
    ("GET", f"/members/{OWN}/coordination-tasks", None),
    ("POST", f"/members/{OWN}/transition-eligibility", {"setting": "imd", "admitted_on": "2026-01-01"}),
]
MANAGE_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", f"/members/{OWN}/monthly-contact-tasks", {"contacts": []}),
    ("POST", f"/members/{OWN}/missed-appointments", {"missed_at": "2026-03-09T10:00:00-05:00"}),
]


@pytest.mark.parametrize("who", sorted(PEOPLE))
def test_route_role_matrix_case_manager_sees_only_their_caseload(api: Api, who: str) -> None:
    """TCM-06 caseloads bound a case manager; provider users and admins have no case access; intake
    and the auditor read plan-wide and change nothing; the CM supervisor reaches every member."""
    readers = {"supervisor", "cm_own", "auditor", "intake"}  # plan staff read cases
    managers = {"supervisor", "cm_own"}
    for method, path, body in READ_ROUTES:
        assert api.call(who, method, path, body).status_code == (200 if who in readers else 403), path
    for method, path, body in MANAGE_ROUTES:
        assert api.call(who, method, path, body).status_code == (201 if who in managers else 403), path
    caseload = api.call(who, "GET", "/caseloads/S-ICM").status_code
    assert caseload == (200 if who in readers else 403)


def test_refusals_of_scope_are_audited(api: Api) -> None:
    assert api.call("cm_other", "GET", f"/members/{OWN}/consents").status_code == 403
    refused = [e for e in api.audit(AuditAction.REFUSE) if e.actor == api.ids["cm_other"]]
    assert refused and refused[0].member_id == OWN


# --- TCM-06 caseloads ----------------------------------------------------------------------------


def _assign(api: Api, who: str, member: str, **extra: Any) -> Any:
    body = {"staff_id": "S-ICM", "caseload_type": "intensive", **extra}
    return api.call(who, "POST", f"/members/{member}/caseload-assignments", body)


def test_tcm06_15th_intensive_member_accepted_16th_refused_then_overridden_with_reason(api: Api) -> None:
    for i in range(2, 16):
        assert _assign(api, "supervisor", f"M{i}").status_code == 201
    view = api.call("cm_own", "GET", "/caseloads/S-ICM").json()
    assert view["counts"] == [
        {"caseload_type": "intensive", "count": 15, "minimum": 10, "maximum": 15, "counted_in": "members",
         "status": "within"}
    ]  # fmt: skip
    refused = _assign(api, "supervisor", "M16")
    assert refused.status_code == 409
    assert refused.json()["rule_id"] == "TCM-06" and "16" in refused.json()["message"]
    assert any(e.entity_type == "caseload" for e in api.audit(AuditAction.REFUSE))
    blank = _assign(api, "supervisor", "M16", override_reason="  ")
    assert blank.status_code == 422 and blank.json()["fields"][0]["field"] == "reason"
    ok = _assign(api, "supervisor", "M16", override_reason="member's sibling already on this caseload")
    assert ok.status_code == 201 and ok.json()["overridden"] is True and ok.json()["count_after"] == 16
    assert api.call("supervisor", "GET", "/caseloads/S-ICM").json()["counts"][0]["status"] == "over_maximum"


def test_tcm06_a_case_manager_cannot_pull_a_member_onto_their_caseload(api: Api) -> None:
    """Assignment is member-scoped: a case manager cannot grow their reach by assigning themselves."""
    assert _assign(api, "cm_own", "M2").status_code == 403
    with api.uow() as uow:
        assert uow.cases.for_member("M2") == []


def test_case_manager_sees_only_own_caseload_and_tasks(api: Api) -> None:
    assert api.call("cm_other", "GET", "/caseloads/S-ICM").status_code == 403
    assert api.call("cm_own", "GET", f"/tasks?assigned_to={api.ids['supervisor']}").status_code == 403


# --- TCM-09 notes and TCM-10 plans -----------------------------------------------------------------


def test_tcm09_note_with_faxed_signature_gets_its_30_day_due_date(api: Api) -> None:
    response = api.call("cm_own", "POST", f"/members/{OWN}/progress-notes", COMPLETE_NOTE)
    assert response.status_code == 201, response.json()
    assert response.json()["original_signature_due"] == "2026-04-08"  # 2026-03-09 + 30 days


def test_tcm09_incomplete_note_names_the_missing_element_and_stores_nothing(api: Api) -> None:
    note = {k: v for k, v in COMPLETE_NOTE.items() if k != "member_satisfaction"}
    response = api.call("cm_own", "POST", f"/members/{OWN}/progress-notes", note)
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "member_satisfaction"
    unknown = api.call("cm_own", "POST", f"/members/{OWN}/progress-notes", {**COMPLETE_NOTE, "mood": "x"})
    assert unknown.status_code == 422 and unknown.json()["fields"][0]["field"] == "body.mood"
    bad_activity = api.call(
        "cm_own", "POST", f"/members/{OWN}/progress-notes", {**COMPLETE_NOTE, "activities": ["juggling"]}
    )
    assert bad_activity.status_code == 422 and bad_activity.json()["fields"][0]["field"] == "activity_code"
    with api.uow() as uow:
        assert uow.progress_notes.for_member(OWN) == []


def test_tcm10_service_plan_needs_three_signatures(api: Api) -> None:
    plan = {
        "plan_id": "P1",
        "goals": [{"goal": "Stable housing", "objectives": ["Apply for housing"]}],
        "member_participated": True,
        "member_signed_on": "2026-03-01",
        "case_manager_signed_on": "2026-03-01",
        "licensed_professional_signed_on": "2026-03-02",
    }
    ok = api.call("cm_own", "POST", f"/members/{OWN}/service-plans/check", plan)
    assert ok.status_code == 200 and ok.json()["development_compensable"] is True
    unsigned = {**plan, "licensed_professional_signed_on": None}
    refused = api.call("cm_own", "POST", f"/members/{OWN}/service-plans/check", unsigned)
    assert refused.status_code == 422
    assert refused.json()["fields"][0]["field"] == "licensed_professional_signed_on"


# --- TCM-07 / TCM-08 tasks and escalation ----------------------------------------------------------


def test_tcm07_missed_friday_before_mlk_day_due_wednesday_then_escalated(api: Api) -> None:
    response = api.call(
        "cm_own", "POST", f"/members/{OWN}/missed-appointments", {"missed_at": "2026-01-16T14:00:00-06:00"}
    )
    assert response.status_code == 201
    due = datetime.fromisoformat(response.json()["due_at"])
    assert due.astimezone(ZoneInfo("America/Chicago")).date() == date(2026, 1, 21)
    assert response.json()["rule_id"] == "TCM-07"
    mine = api.call("cm_own", "GET", "/tasks?overdue=true").json()
    assert [t["kind"] for t in mine] == ["outreach"]  # overdue: START is in March
    assert api.call("cm_own", "POST", "/tasks/escalations").status_code == 403
    escalated = api.call("supervisor", "POST", "/tasks/escalations").json()
    assert [t["escalated"] for t in escalated] == [True]
    assert escalated[0]["assigned_to"] == api.ids["supervisor"]
    assert api.call("supervisor", "POST", "/tasks/escalations").json() == []  # once only


def test_tcm08_monthly_contact_due_end_of_month(api: Api) -> None:
    owed = api.call("cm_own", "POST", f"/members/{OWN}/monthly-contact-tasks", {"contacts": []}).json()
    assert owed["due_at"].startswith("2026-03-31") and owed["rule_id"] == "TCM-08"
    met = api.call("cm_own", "POST", f"/members/{OWN}/monthly-contact-tasks", {"contacts": ["2026-03-02"]})
    assert met.json()["due_at"].startswith("2026-04-30")


# --- TCM-05 / TCM-12 -------------------------------------------------------------------------------


def test_tcm05_179_vs_180_day_stay(api: Api) -> None:
    def window(days: int) -> Any:
        admitted = date(2025, 6, 1)
        body = {
            "setting": "inpatient_psychiatric",
            "admitted_on": admitted.isoformat(),
            "expected_discharge_on": (admitted + timedelta(days=days)).isoformat(),
        }
        return api.call("cm_own", "POST", f"/members/{OWN}/transition-eligibility", body).json()

    short, long = window(179), window(180)
    assert (
        date.fromisoformat(short["billable_through"]) - date.fromisoformat(short["billable_from"])
    ).days == 13
    assert (
        date.fromisoformat(long["billable_through"]) - date.fromisoformat(long["billable_from"])
    ).days == 59
    bad = api.call(
        "cm_own", "POST", f"/members/{OWN}/transition-eligibility",
        {"setting": "imd", "admitted_on": "2026-01-10", "discharged_on": "2026-01-01"},
    )  # fmt: skip
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "discharged_on"


def test_tcm12_refusal_blocks_only_case_management_assignment(api: Api) -> None:
    response = api.call("supervisor", "POST", "/members/M3/refusals", {"refused_on": "2026-03-01"})
    assert response.status_code == 201 and response.json()["other_services_restricted"] is False
    refused = _assign(api, "supervisor", "M3")
    assert refused.status_code == 409 and refused.json()["rule_id"] == "TCM-12"


# --- COC-04 / REG-06 consent and disclosure --------------------------------------------------------


def _disclose(api: Api, kind: str, recipient: str = f"npi:{PCP}") -> Any:
    body = {"record_kind": kind, "recipient": recipient, "purpose": "treatment", "entity_id": "R1"}
    return api.call("cm_own", "POST", f"/members/{OWN}/disclosures", body)


def test_coc04_psychotherapy_notes_refused_and_audited_without_written_release(api: Api) -> None:
    refused = _disclose(api, "psychotherapy_notes")
    assert refused.status_code == 403
    assert refused.json()["error"] == "disclosure_refused" and refused.json()["rule_id"] == "COC-04"
    rows = [e for e in api.audit(AuditAction.REFUSE) if e.entity_id == "R1"]
    assert rows and rows[0].detail["rule"] == "COC-04"
    consent = {
        "consent_id": "C1", "scope": "psychotherapy_notes", "recipient": f"npi:{PCP}",
        "signed_on": "2026-03-01", "purposes": ["treatment"],
    }  # fmt: skip
    assert api.call("cm_own", "POST", f"/members/{OWN}/consents", consent).status_code == 201
    allowed = _disclose(api, "psychotherapy_notes")
    assert allowed.status_code == 200 and allowed.json()["consent_id"] == "C1"
    assert any(e.entity_id == "R1" for e in api.audit(AuditAction.DISCLOSE))
    revoked = api.call(
        "cm_own", "POST", f"/members/{OWN}/consents/C1/revocation", {"revoked_on": "2026-03-10"}
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_on"] == "2026-03-10"
    assert _disclose(api, "psychotherapy_notes").status_code == 403  # revoked from that day


def test_reg06_sud_program_records_need_consent_general_treatment_records_do_not(api: Api) -> None:
    refused = _disclose(api, "sud_program")
    assert refused.status_code == 403 and refused.json()["rule_id"] == "REG-06"
    assert _disclose(api, "general").status_code == 200


def test_bad_consent_is_refused_naming_the_field_and_nothing_is_stored(api: Api) -> None:
    consent = {
        "consent_id": "C2", "scope": "general", "recipient": "ORG-X", "signed_on": "2026-03-01",
        "expires_on": "2026-02-01",
    }  # fmt: skip
    response = api.call("cm_own", "POST", f"/members/{OWN}/consents", consent)
    assert response.status_code == 422 and response.json()["fields"][0]["field"] == "expires_on"
    assert api.call("cm_own", "GET", f"/members/{OWN}/consents").json() == []


# --- COC-01 / COC-02 coordination and the PCP letter -----------------------------------------------

ECT_EVENT = {
    "events": [
        {
            "kind": "planned_treatment",
            "planned_on": "2026-03-09",
            "procedure": {"system": "cpt", "code": "90870"},
        }
    ]
}


def test_coc02_ect_raises_a_task_and_one_pcp_letter_however_often_sent(api: Api) -> None:
    created = api.call("cm_own", "POST", f"/members/{OWN}/coordination-events", ECT_EVENT)
    assert created.status_code == 201
    (task,) = created.json()
    assert task["trigger"] == "medical_evaluation_needed" and task["rule_id"] == "COC-02"
    assert task["pcp_npi"] == PCP
    path = f"/members/{OWN}/coordination-tasks/{task['task_id']}/pcp-letter"
    first = api.call("cm_own", "POST", path, LETTER)
    assert first.status_code == 200, first.json()
    assert first.json()["created"] is True and first.json()["template"] == "pcp_coordination@1"
    again = api.call("cm_own", "POST", path, LETTER)
    assert again.json()["created"] is False and again.json()["letter_id"] == first.json()["letter_id"]
    assert len(list(api.letters.glob("*.pdf"))) == 1
    with api.uow() as uow:
        assert uow.letters.count() == 1
    assert api.call("cm_other", "POST", path, LETTER).status_code == 403


def test_coc04_pcp_letter_with_psychotherapy_content_refused_nothing_written(api: Api) -> None:
    (task,) = api.call("cm_own", "POST", f"/members/{OWN}/coordination-events", ECT_EVENT).json()
    path = f"/members/{OWN}/coordination-tasks/{task['task_id']}/pcp-letter"
    refused = api.call("cm_own", "POST", path, {**LETTER, "record_kind": "psychotherapy_notes"})
    assert refused.status_code == 403 and refused.json()["rule_id"] == "COC-04"
    assert not api.letters.exists() or list(api.letters.glob("*.pdf")) == []
    with api.uow() as uow:
        assert uow.letters.count() == 0


def test_unknown_code_system_in_an_event_is_refused_naming_the_field(api: Api) -> None:
    bad = {"events": [{"kind": "planned_treatment", "planned_on": "2026-03-09",
                       "procedure": {"system": "snomed-ish", "code": "1"}}]}  # fmt: skip
    response = api.call("cm_own", "POST", f"/members/{OWN}/coordination-events", bad)
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "events[0].procedure.system"
    assert api.call("cm_own", "GET", f"/members/{OWN}/coordination-tasks").json() == []
