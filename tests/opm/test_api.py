"""OPM API routes on a real store: ranked flags, case view, audited PDF download, form return by the
case provider's organization only (OPM-04/06), determination by clinical reviewers only (OPM-06)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from bhum.adapters.passwords import Argon2PasswordHasher
from bhum.adapters.store import SqlStore
from bhum.config import Settings
from bhum.domain.access import ApiToken, Role, User
from bhum.entrypoints.api.app import create_app
from bhum.entrypoints.api.dependencies import ApiDependencies
from bhum.services import opm as service
from bhum.services.access import hash_token
from bhum.services.directory import UowMemberDirectory, UowScopeResolver
from bhum.services.opm import OpmParameters
from tests.opm.conftest import NOW, CountingWriter, flag, outreach_settings, services_for, uow_factory
from tests.opm.test_workflow import FORM

USERS = [
    User("u1", "prov.a", "Provider A", frozenset({Role.PROVIDER_USER}), organization_id="O-A"),
    User("u2", "prov.b", "Provider B", frozenset({Role.PROVIDER_USER}), organization_id="O-B"),
    User("u3", "rev", "Reviewer", frozenset({Role.CLINICAL_REVIEWER})),
]


def _auth(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer tok-{user}"}


def test_opm_routes(world: SqlStore, tmp_path: Path, parameters: OpmParameters) -> None:
    service.store_flags(lambda: uow_factory(world), [flag("M1", 1)], now=NOW)
    settings = outreach_settings(tmp_path, parameters, CountingWriter())
    service.reach_out(lambda: uow_factory(world), [flag("M1", 1)], services_for(["M1"]), settings)
    with uow_factory(world) as uow:
        for u in USERS:
            uow.users.add(u, None)
            uow.api_tokens.add(ApiToken(f"t{u.id}", u.id, hash_token(f"tok-{u.id}"), "test", NOW))
        uow.commit()
        (case,) = uow.opm.list_cases()
        audit_before = len(uow.audit.list(member_id="M1"))
    app = create_app(
        ApiDependencies(
            uow_factory=lambda: uow_factory(world),
            clock=lambda: NOW + timedelta(days=5),
            settings=Settings.from_env({"BHUM_DATA_DIR": str(tmp_path)}),
            password_hasher=Argon2PasswordHasher.fast_for_tests(),
            members=UowMemberDirectory,
            scopes=UowScopeResolver,
        )
    )
    client = TestClient(app)
    base = f"/opm/members/M1/cases/{case.case_id}"

    flags = client.get("/opm/flags", headers=_auth("u3"))
    assert flags.status_code == 200 and flags.json()[0]["evidence"] == "followup_visits=0 < 1"
    assert client.get("/opm/flags", headers=_auth("u1")).status_code == 403  # providers do not run OPM
    assert client.get(base, headers=_auth("u3")).json()["due_on"] == "2026-07-31"
    pdf = client.get(f"{base}/letters/{case.letter_ids[0]}", headers=_auth("u3"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")

    assert client.post(f"{base}/form", json=FORM, headers=_auth("u2")).status_code == 403  # other org
    bad = client.post(f"{base}/form", json={**FORM, "goals": []}, headers=_auth("u1"))
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "goals"
    ok = client.post(f"{base}/form", json=FORM, headers=_auth("u1"))
    assert ok.status_code == 200 and ok.json()["state"] == "in_review"
    assert client.post(f"{base}/form", json=FORM, headers=_auth("u1")).status_code == 409

    body = {"determination": "continue", "rationale": "Improving on weekly CBT"}
    assert client.post(f"{base}/determination", json=body, headers=_auth("u1")).status_code == 403
    done = client.post(f"{base}/determination", json=body, headers=_auth("u3"))
    assert done.status_code == 200 and done.json()["review"]["determination"] == "continue"
    with uow_factory(world) as uow:
        events = uow.audit.list(member_id="M1")
    # flag list, case view, letter download, form, determination and refusals are all audited
    assert len(events) - audit_before >= 5
    assert {"letter", "opm_form", "opm_case"} <= {e.entity_type for e in events}
