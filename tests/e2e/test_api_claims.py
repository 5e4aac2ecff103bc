"""Claims and utilization over the API (issue 5): POST a batch as CSV or JSON lines -> decisions, GET its
835; GET /providers/{npi}/utilization with the IOP-13 reminder. Permission per role; a provider user
sees only its own organization's NPIs (refusals audited); bad input named by field."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bhum.adapters.passwords import Argon2PasswordHasher
from bhum.adapters.store import SqlStore, upgrade
from bhum.adapters.store.care_management import SqlCareUnitOfWork
from bhum.config import Settings
from bhum.domain.access import AuditAction, Role
from bhum.domain.authorization import Authorization
from bhum.domain.members import CoverageSpan, LineOfBusiness, Member, Plan, Sex
from bhum.domain.providers import ContractType, EntityType, Organization, Provider
from bhum.domain.values import HCPCS, Code, DateSpan
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
    "provider_a": (Role.PROVIDER_USER, "ORG-A"),
    "provider_b": (Role.PROVIDER_USER, "ORG-B"),
    "case_manager": (Role.CASE_MANAGER, None),
    "admin": (Role.ADMIN, None),
}
CSV = (
    "claim_id,claim_line_number,member_id,claim_line_start_date,hcpcs_code,hcpcs_modifier_1,hcpcs_modifier_2,"
    "service_unit_quantity,face_to_face_minutes,billing_npi,rendering_staff_id,charge_amount,allowed_amount,"
    "activity_code,service_start_time\n"
    "C1,1,M1,2026-03-10,T1017,HE,HM,4,60,1000000001,,80,60,plan_monitoring,09:00\n"
    "C2,1,M1,2026-03-10,T1017,HE,HM,4,60,1000000001,,80,60,plan_monitoring,10:00\n"
    "C3,1,M1,2026-02-30,T1017,HE,HM,4,60,1000000001,,80,60,plan_monitoring,11:00\n"
)


@dataclass
class Api:
    client: TestClient
    store: SqlStore
    tokens: dict[str, str]

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}", **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def audit(self, entity_type: str) -> list[Any]:
        with SqlCareUnitOfWork(self.store.session_factory) as uow:
            return [e for e in uow.audit.list() if e.entity_type == entity_type]


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("claims-api") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def api(tmp_path: Path, migrated: Path) -> Iterator[Api]:
    shutil.copyfile(migrated, tmp_path / "db.sqlite3")
    store = SqlStore(f"sqlite:///{tmp_path / 'db.sqlite3'}")

    def uow_factory() -> SqlCareUnitOfWork:
        return SqlCareUnitOfWork(store.session_factory)

    iop = Code(HCPCS, "S9480", "Intensive outpatient psychiatric services, per diem")
    with uow_factory() as uow:
        uow.plans.upsert_many(
            [Plan("PLN01", "Synthetic", "Payer", LineOfBusiness.MEDICAID, True, True, "America/Chicago")]
        )
        uow.members.upsert_many([Member("M1", "Syn", "Thetic", Sex.UNKNOWN, date(1980, 1, 1))])
        uow.coverage.upsert_many(
            [CoverageSpan("M1", "PLN01", DateSpan(date(2026, 1, 1), date(2026, 12, 31)))]
        )
        uow.organizations.upsert_many(
            [
                Organization("ORG-A", "A", ContractType.CMHC, NPI_A),
                Organization("ORG-B", "B", ContractType.OPBH, NPI_B),
            ]
        )
        uow.providers.upsert_many(
            [Provider(NPI_A, "A", EntityType.ORGANIZATION, organization_id="ORG-A"),
             Provider(NPI_B, "B", EntityType.ORGANIZATION, organization_id="ORG-B")]
        )  # fmt: skip
        auth = Authorization.request(
            authorization_id="A1", member_id="M1", provider_npi=NPI_A, service_codes=(iop,),
            span=DateSpan(date(2026, 3, 1), date(2026, 3, 30)), units_requested=12, at=NOW, by="system:test",
        )  # fmt: skip
        auth.approve(at=NOW, by="system:test")
        auth.units_used = 4
        uow.authorizations.add(auth)
        uow.commit()
    hasher = Argon2PasswordHasher.fast_for_tests()
    tokens: dict[str, str] = {}
    for name, (role, org) in PEOPLE.items():
        create_user(
            uow_factory(), actor="system:test", username=name.replace("_", "-"), display_name=name,
            roles=(role,), password=None, hasher=hasher, now=NOW, organization_id=org,
        )  # fmt: skip
        tokens[name] = issue_token(
            uow_factory(), actor="system:test", username=name.replace("_", "-"), label="t", now=NOW,
            ttl=timedelta(days=30),
        ).token  # fmt: skip
    settings = Settings.from_env(
        {"BHUM_DATA_DIR": str(tmp_path / "data"), "BHUM_PACKS_DIR": str(REPO / "packs")}
    )
    packs = load_packs(REPO / "packs")
    deps = ApiDependencies(
        uow_factory=uow_factory, clock=MutableClock(NOW), settings=settings, password_hasher=hasher,
        members=UowMemberDirectory, scopes=UowScopeResolver, packs=lambda: packs,
    )  # fmt: skip
    with TestClient(create_app(deps)) as client:
        yield Api(client, store, tokens)
    store.dispose()


def test_mn04_iop13_utilization_for_plan_staff_and_the_owning_provider(api: Api) -> None:
    for who in ("reviewer", "provider_a"):
        response = api.call(who, "GET", f"/providers/{NPI_A}/utilization")
        assert response.status_code == 200, response.json()
        [row] = response.json()["authorizations"]
        assert (row["units_authorized"], row["units_used"], row["units_remaining"]) == (12, 4, 8)
        assert row["continuing_request_due"] == "2026-03-16"  # 30 March - 14 days: today
        assert "IOP-13" in row["continuing_request"] and row["rule_ids"] == ["MN-04", "IOP-13"]


@pytest.mark.parametrize("who", ["provider_b", "case_manager", "admin"])
def test_utilization_refused_outside_scope_and_audited(api: Api, who: str) -> None:
    response = api.call(who, "GET", f"/providers/{NPI_A}/utilization")
    assert response.status_code == 403
    assert "M1" not in response.text
    refusals = [
        e for e in api.audit("provider_utilization") + api.audit("route") if e.action is AuditAction.REFUSE
    ]
    assert refusals


def test_utilization_malformed_npi_is_422(api: Api) -> None:
    assert api.call("reviewer", "GET", "/providers/12345/utilization").status_code == 422


def test_claims_csv_batch_decided_malformed_line_named_and_835_served(api: Api) -> None:
    response = api.call(
        "reviewer", "POST", "/claims/checks", content=CSV, headers={"content-type": "text/csv"}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["lines"] == 2
    assert {d["claim_id"] for d in body["decisions"]} == {"C1", "C2"}
    assert all(d["status"] in {"paid", "partial", "denied"} for d in body["decisions"])
    [rejected] = body["rejected"]
    assert (rejected["line"], rejected["field"]) == (4, "claim_line_start_date")
    remittance = api.call("reviewer", "GET", f"/claims/checks/{body['check_id']}/remittance")
    assert remittance.status_code == 200 and remittance.text.startswith("ISA")
    lines = api.call("reviewer", "GET", f"/claims/checks/{body['check_id']}/remittance?format=jsonl")
    assert [json.loads(x)["claim_id"] for x in lines.text.splitlines()] == [
        d["claim_id"] for d in body["decisions"]
    ]
    assert [e.action for e in api.audit("claim_batch")] == [AuditAction.READ]


def test_claims_json_lines_batch(api: Api) -> None:
    rows = [
        dict(zip(CSV.splitlines()[0].split(","), line.split(","), strict=True))
        for line in CSV.splitlines()[1:3]
    ]
    payload = "".join(json.dumps({k: v for k, v in r.items() if v != ""}) + "\n" for r in rows)
    response = api.call(
        "reviewer",
        "POST",
        "/claims/checks",
        content=payload,
        headers={"content-type": "application/x-ndjson"},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["lines"] == 2


@pytest.mark.parametrize("who", ["provider_a", "case_manager", "admin"])
def test_claims_check_needs_the_claims_permission(api: Api, who: str) -> None:
    response = api.call(who, "POST", "/claims/checks", content=CSV, headers={"content-type": "text/csv"})
    assert response.status_code == 403


def test_claims_wrong_content_type_and_unknown_check(api: Api) -> None:
    response = api.call(
        "reviewer", "POST", "/claims/checks", content="x", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 422 and "content-type" in response.text
    assert api.call("reviewer", "GET", f"/claims/checks/{'0' * 32}/remittance").status_code == 404
