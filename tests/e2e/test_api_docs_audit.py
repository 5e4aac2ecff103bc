"""The documentation audit (MN-05 over TCM-09 / TCM-10) and stored service plans (TCM-10) over the API.

POST /claims/documentation-audits: claim lines or decisions, notes, plans (or the stored ones), as_of ->
per-session findings, plan findings and the paid amount at risk. Plan staff audit anything; a provider
user only its own organization's sessions (refusals audited); bad input named by record and field.
POST/GET /members/{id}/service-plans: validated at entry, idempotent by plan id, versions on revision."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from bhum.adapters.passwords import Argon2PasswordHasher
from bhum.adapters.store import SqlStore, upgrade
from bhum.adapters.store.care_management import SqlCareUnitOfWork
from bhum.config import Settings
from bhum.domain.access import AuditAction, Role
from bhum.domain.members import CoverageSpan, LineOfBusiness, Member, Plan, PlanContactInfo, Sex
from bhum.domain.providers import ContractType, EntityType, Organization, Provider
from bhum.domain.values import DateSpan
from bhum.entrypoints.api.app import create_app
from bhum.entrypoints.api.dependencies import ApiDependencies
from bhum.policy import load_packs
from bhum.services.access import create_user, issue_token
from bhum.services.directory import UowMemberDirectory, UowScopeResolver
from tests.fakes import MutableClock

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 16, 15, 0, tzinfo=UTC)
NPI_A, NPI_B = "1000000001", "1000000002"
PEOPLE: dict[str, tuple[Role, str | None]] = {
    "reviewer": (Role.CLINICAL_REVIEWER, None),
    "supervisor": (Role.CM_SUPERVISOR, None),
    "provider_a": (Role.PROVIDER_USER, "ORG-A"),
    "provider_b": (Role.PROVIDER_USER, "ORG-B"),
    "case_manager": (Role.CASE_MANAGER, None),
    "admin": (Role.ADMIN, None),
}
NOTE: dict[str, Any] = {
    "note_id": "N1",
    "member_id": "M1",
    "session_date": "2026-03-10",
    "persons_served": ["member"],
    "start_time": "10:00",
    "stop_time": "10:45",
    "signature": "original",
    "signed_on": "2026-03-10",
    "provider_credentials": "CM II",
    "plan_needs_addressed": "Goal 1: stable housing",
    "activities": ["face_to_face_member"],
    "progress_or_barriers": "Applied for housing",
    "member_response": "Engaged",
    "new_needs_identified": "None",
    "member_satisfaction": "Satisfied",
}
PLAN: dict[str, Any] = {
    "plan_id": "P1",
    "member_id": "M1",
    "effective_from": "2026-03-01",
    "goals": [{"goal": "Stable housing", "objectives": ["Apply for two units"]}],
    "member_participated": True,
    "member_signed_on": "2026-03-01",
    "case_manager_signed_on": "2026-03-01",
    "licensed_professional_signed_on": "2026-03-02",
    "licensed_professional_id": "LP-1",
}


def claim(
    claim_id: str, day: str, *, member: str = "M1", npi: str = NPI_A, paid: float = 45.0
) -> dict[str, Any]:
    return {
        "claim_id": claim_id, "claim_line_number": 1, "member_id": member, "claim_line_start_date": day,
        "hcpcs_code": "T1017", "hcpcs_modifier_1": "HE", "hcpcs_modifier_2": "HM",
        "service_unit_quantity": 3, "billing_npi": npi, "charge_amount": 60.0, "paid_amount": paid,
    }  # fmt: skip


@dataclass
class Api:
    client: TestClient
    store: SqlStore
    tokens: dict[str, str]
    letters: Path

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}", **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def audit(self, entity_type: str) -> list[Any]:
        with SqlCareUnitOfWork(self.store.session_factory) as uow:
            return [e for e in uow.audit.list() if e.entity_type == entity_type]


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("docs-audit-api") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def api(tmp_path: Path, migrated: Path) -> Iterator[Api]:
    shutil.copyfile(migrated, tmp_path / "db.sqlite3")
    store = SqlStore(f"sqlite:///{tmp_path / 'db.sqlite3'}")

    def uow_factory() -> SqlCareUnitOfWork:
        return SqlCareUnitOfWork(store.session_factory)

    with uow_factory() as uow:
        uow.members.upsert_many(
            [Member(m, "Syn", "Thetic", Sex.UNKNOWN, date(1980, 1, 1)) for m in ("M1", "M2")]
        )
        uow.organizations.upsert_many(
            [Organization("ORG-A", "A", ContractType.CMHC, NPI_A),
             Organization("ORG-B", "B", ContractType.OPBH, NPI_B)]
        )  # fmt: skip
        uow.providers.upsert_many(
            [Provider(NPI_A, "A", EntityType.ORGANIZATION, organization_id="ORG-A"),
             Provider(NPI_B, "B", EntityType.ORGANIZATION, organization_id="ORG-B")]
        )  # fmt: skip
        uow.commit()
    hasher = Argon2PasswordHasher.fast_for_tests()
    tokens: dict[str, str] = {}
    for name, (role, org) in PEOPLE.items():
        username = name.replace("_", "-")
        create_user(
            uow_factory(), actor="system:test", username=username, display_name=name, roles=(role,),
            password=None, hasher=hasher, now=NOW, organization_id=org,
            staff_id="S-CM" if role is Role.CASE_MANAGER else None,
        )  # fmt: skip
        tokens[name] = issue_token(
            uow_factory(), actor="system:test", username=username, label="t", now=NOW, ttl=timedelta(days=30)
        ).token
    settings = Settings.from_env(
        {"BHUM_DATA_DIR": str(tmp_path / "data"), "BHUM_PACKS_DIR": str(REPO / "packs")}
    )
    packs = load_packs(REPO / "packs")
    deps = ApiDependencies(
        uow_factory=uow_factory, clock=MutableClock(NOW), settings=settings, password_hasher=hasher,
        members=UowMemberDirectory, scopes=UowScopeResolver, packs=lambda: packs,
    )  # fmt: skip
    with TestClient(create_app(deps)) as client:
        yield Api(client, store, tokens, tmp_path / "data" / "letters")
    store.dispose()


def _audit(api: Api, who: str, **body: Any) -> Any:
    return api.call(who, "POST", "/claims/documentation-audits", json=body)


# --- the audit -----------------------------------------------------------------------------------


def test_mn05_sessions_plans_and_amount_at_risk(api: Api) -> None:
    """TCM-09: the documented session is not at risk; the one without a note misses all 11 elements
    and its paid amount is at risk (MN-05)."""
    response = _audit(
        api, "reviewer", claims=[claim("C1", "2026-03-10"), claim("C2", "2026-03-11", paid=30.0)],
        notes=[NOTE], plans=[PLAN],
    )  # fmt: skip
    assert response.status_code == 200, response.json()
    body = response.json()
    rows = {r["claim_id"]: r for r in body["sessions"]}
    assert rows["C1"]["at_risk"] is False and rows["C1"]["note_id"] == "N1" and rows["C1"]["plan_id"] == "P1"
    assert rows["C2"]["at_risk"] is True and rows["C2"]["missing_count"] == 11
    assert rows["C2"]["amount_at_risk"] == 30.0 and "MN-05" in rows["C2"]["rule_ids"]
    assert body["amount_at_risk"] == 30.0 and body["summary"]["sessions_at_risk"] == 1
    assert body["plans_from"] == "request"
    assert body["plans"][0]["plan_id"] == "P1" and body["plans"][0]["missing_signature_count"] == 0
    (event,) = api.audit("documentation_audit")
    assert event.action is AuditAction.READ and event.member_id is None


def test_tcm10_plan_missing_a_signature_puts_the_session_at_risk(api: Api) -> None:
    unsigned = {**PLAN, "licensed_professional_signed_on": None}
    body = _audit(api, "reviewer", claims=[claim("C1", "2026-03-10")], notes=[NOTE], plans=[unsigned]).json()
    (row,) = body["sessions"]
    assert row["plan_missing_signatures"] == "licensed_professional" and row["at_risk"] is True
    assert row["amount_at_risk"] == 45.0


@pytest.mark.parametrize(("as_of", "missing"), [("2026-03-13", False), ("2026-03-14", True)])
def test_tcm09_faxed_original_due_on_day_30_judged_as_of(api: Api, as_of: str, missing: bool) -> None:
    """Faxed 2026-02-11 (day zero), original not filed yet: due 2026-03-13 (day 30). An audit as of
    day 30 does not count it missing; as of day 31 it does."""
    faxed = {**NOTE, "signature": "faxed", "signed_on": "2026-02-11", "session_date": "2026-02-11"}
    body = _audit(
        api, "reviewer", claims=[claim("C1", "2026-02-11")], notes=[faxed],
        plans=[PLAN | {"effective_from": "2026-02-01"}], as_of=as_of,
    ).json()  # fmt: skip
    (row,) = body["sessions"]
    assert body["summary"]["as_of"] == as_of
    assert row["missing_provider_original_signature"] is missing


def test_decisions_only_paid_t1017_lines_are_sessions(api: Api) -> None:
    decisions = [
        {"claim_id": "C1", "claim_line_number": 1, "member_id": "M1", "service_date": "2026-03-10",
         "hcpcs_code": "T1017", "paid_units": 3, "paid_amount": 45.0, "billing_npi": NPI_A},
        {"claim_id": "C2", "claim_line_number": 1, "member_id": "M1", "service_date": "2026-03-10",
         "hcpcs_code": "T1017", "paid_units": 0, "paid_amount": 0.0, "billing_npi": NPI_A},
    ]  # fmt: skip
    body = _audit(api, "provider_a", decisions=decisions, notes=[NOTE], plans=[PLAN]).json()
    assert [r["claim_id"] for r in body["sessions"]] == ["C1"]


def test_audit_reads_stored_plans_when_none_are_given(api: Api) -> None:
    stored = {k: v for k, v in PLAN.items() if k != "member_id"}
    assert api.call("supervisor", "POST", "/members/M1/service-plans", json=stored).status_code == 201
    body = _audit(api, "reviewer", claims=[claim("C1", "2026-03-10")], notes=[NOTE]).json()
    assert body["plans_from"] == "store"
    (row,) = body["sessions"]
    assert row["plan_id"] == "P1" and row["at_risk"] is False


def test_provider_audits_only_its_own_sessions_refusal_audited(api: Api) -> None:
    mine = _audit(api, "provider_a", claims=[claim("C1", "2026-03-10")], notes=[NOTE], plans=[PLAN])
    assert mine.status_code == 200
    theirs = _audit(
        api, "provider_b", notes=[NOTE], plans=[PLAN],
        claims=[claim("C1", "2026-03-10"), claim("C9", "2026-03-10", member="M2", npi=NPI_B)],
    )  # fmt: skip
    assert theirs.status_code == 403
    assert "M1" not in theirs.text
    refusals = [e for e in api.audit("documentation_audit") if e.action is AuditAction.REFUSE]
    assert len(refusals) == 1 and refusals[0].member_id is None


def test_case_manager_off_caseload_and_admin_are_refused(api: Api) -> None:
    body = {"claims": [claim("C1", "2026-03-10")], "notes": [NOTE], "plans": [PLAN]}
    assert api.call("case_manager", "POST", "/claims/documentation-audits", json=body).status_code == 403
    assert api.call("admin", "POST", "/claims/documentation-audits", json=body).status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"notes": [NOTE | {"session_date": "2026-02-30"}], "claims": [claim("C1", "2026-03-10")]},
            "session_date",
        ),
        (
            {
                "notes": [NOTE],
                "plans": [PLAN | {"effective_from": None}],
                "claims": [claim("C1", "2026-03-10")],
            },
            "effective_from",
        ),
        ({"notes": [NOTE], "claims": [claim("C1", "2026-03-10")], "decisions": []}, "claims"),
        ({"notes": [NOTE]}, "claims"),
        ({"notes": [NOTE], "claims": [claim("C1", "2026-03-10")], "as_of": "2026-03-17"}, "as_of"),
    ],
)
def test_bad_input_named_by_field_and_nothing_recorded(api: Api, body: dict[str, Any], field: str) -> None:
    response = api.call("reviewer", "POST", "/claims/documentation-audits", json=body)
    assert response.status_code == 422, response.json()
    assert field in str(response.json()["fields"])
    assert [e for e in api.audit("documentation_audit") if e.action is AuditAction.READ] == []


def test_a_malformed_claim_line_is_reported_and_the_rest_audited(api: Api) -> None:
    body = _audit(
        api,
        "reviewer",
        claims=[claim("C1", "2026-03-10"), claim("C3", "2026-02-30")],
        notes=[NOTE],
        plans=[PLAN],
    ).json()
    assert [r["claim_id"] for r in body["sessions"]] == ["C1"]
    (bad,) = body["rejected"]
    assert bad["field"] == "claim_line_start_date" and bad["line"] == 2


# --- stored service plans (TCM-10) ---------------------------------------------------------------


def test_tcm10_service_plan_stored_idempotent_and_versioned(api: Api) -> None:
    plan = {k: v for k, v in PLAN.items() if k != "member_id"}
    first = api.call("supervisor", "POST", "/members/M1/service-plans", json=plan)
    assert first.status_code == 201 and first.json()["version"] == 1 and first.json()["created"] is True
    again = api.call("supervisor", "POST", "/members/M1/service-plans", json=plan)
    assert again.status_code == 200 and again.json()["version"] == 1 and again.json()["created"] is False
    revised = plan | {"effective_to": "2026-06-30"}
    second = api.call("supervisor", "POST", "/members/M1/service-plans", json=revised)
    assert second.status_code == 201 and second.json()["version"] == 2
    listed = api.call("supervisor", "GET", "/members/M1/service-plans").json()
    assert [(p["plan_id"], p["version"], p["effective_to"]) for p in listed] == [("P1", 2, "2026-06-30")]
    versions = api.call("supervisor", "GET", "/members/M1/service-plans/P1/versions").json()
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["goals"] == [{"goal": "Stable housing", "objectives": ["Apply for two units"]}]
    assert api.call("supervisor", "GET", "/members/M2/service-plans/P1/versions").status_code == 404


@pytest.mark.parametrize(
    "field", ["member_signed_on", "case_manager_signed_on", "licensed_professional_signed_on"]
)
def test_tcm10_each_missing_signature_refused_422_nothing_stored(api: Api, field: str) -> None:
    plan = {k: v for k, v in PLAN.items() if k != "member_id"} | {field: None}
    response = api.call("supervisor", "POST", "/members/M1/service-plans", json=plan)
    assert response.status_code == 422
    assert field in str(response.json()["fields"])
    assert api.call("supervisor", "GET", "/members/M1/service-plans").json() == []


def test_tcm10_case_manager_off_caseload_cannot_store_a_plan(api: Api) -> None:
    plan = {k: v for k, v in PLAN.items() if k != "member_id"}
    assert api.call("case_manager", "POST", "/members/M1/service-plans", json=plan).status_code == 403
    assert api.call("supervisor", "GET", "/members/M1/service-plans").json() == []


# --- the PCP letter's letterhead comes from the member's plan --------------------------------------


def test_pcp_letter_without_plan_in_the_body_uses_the_members_plan(api: Api) -> None:
    contact = PlanContactInfo("1-800-555-0101", None, "PO Box 1100", None, "Springfield", "IL", "62701")
    with SqlCareUnitOfWork(api.store.session_factory) as uow:
        uow.plans.upsert_many(
            [Plan("PLN01", "Synthetic Medicaid BH", "Payer", LineOfBusiness.MEDICAID, True, True,
                  "America/Chicago", contact)]
        )  # fmt: skip
        uow.coverage.upsert_many([CoverageSpan("M1", "PLN01", DateSpan(date(2026, 1, 1), None))])
        uow.commit()
    event = {
        "kind": "planned_treatment",
        "planned_on": "2026-03-09",
        "procedure": {"system": "cpt", "code": "90870"},
    }
    (task,) = api.call(
        "supervisor", "POST", "/members/M1/coordination-events", json={"events": [event]}
    ).json()
    letter = {
        "pcp": {
            "npi": "1234567893",
            "name": "Dr. Ada Example",
            "address_lines": ["5 Oak Ave", "Tulsa, OK 74101"],
        },
        "coordinator": {"name": "Casey Coordinator", "phone": "1-800-555-0111"},
    }
    path = f"/members/M1/coordination-tasks/{task['task_id']}/pcp-letter"
    sent = api.call("supervisor", "POST", path, json=letter)
    assert sent.status_code == 200, sent.json()
    pdf = next(api.letters.glob("*.pdf"))
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Synthetic Medicaid BH" in text and "1-800-555-0101" in text and "Springfield, IL 62701" in text


def test_pcp_letter_refused_when_the_members_plan_has_no_letterhead(api: Api) -> None:
    with SqlCareUnitOfWork(api.store.session_factory) as uow:
        uow.plans.upsert_many(
            [Plan("PLN02", "Bare Plan", "Payer", LineOfBusiness.COMMERCIAL, True, True, "America/Chicago")]
        )
        uow.coverage.upsert_many([CoverageSpan("M1", "PLN02", DateSpan(date(2026, 1, 1), None))])
        uow.commit()
    event = {
        "kind": "planned_treatment",
        "planned_on": "2026-03-09",
        "procedure": {"system": "cpt", "code": "90870"},
    }
    (task,) = api.call(
        "supervisor", "POST", "/members/M1/coordination-events", json={"events": [event]}
    ).json()
    letter = {
        "pcp": {
            "npi": "1234567893",
            "name": "Dr. Ada Example",
            "address_lines": ["5 Oak Ave", "Tulsa, OK 74101"],
        },
        "coordinator": {"name": "Casey Coordinator", "phone": "1-800-555-0111"},
    }
    path = f"/members/M1/coordination-tasks/{task['task_id']}/pcp-letter"
    refused = api.call("supervisor", "POST", path, json=letter)
    assert refused.status_code == 422
    assert "contact_phone" in str(refused.json()["fields"])
    with SqlCareUnitOfWork(api.store.session_factory) as uow:
        assert uow.letters.count() == 0
