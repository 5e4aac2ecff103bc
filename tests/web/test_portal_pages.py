"""Issue 7, phase 2: the provider portal's online service request (parse_submission -> submit_request)
and its claim decisions (the newest claim check's lines of the organization's providers). A provider
user sees and acts only for its organization."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bhum.domain.access import AuditAction
from bhum.domain.values import ICD10CM
from bhum.entrypoints.web import create_web_app
from bhum.entrypoints.web.routes.portal import submission_doc
from tests.web.conftest import sign_in
from tests.web.world import MEMBER_A, MEMBER_B, NPI_A, NPI_B, START, World


@pytest.fixture
def portal(world: World) -> Iterator[TestClient]:
    with TestClient(create_web_app(world.deps()), follow_redirects=False) as c:
        yield c


def iop_form(**changes: str) -> dict[str, str]:
    """The shipped pend example (IOP, 6 planned hours a week: IOP-05 needs 9-19) as portal fields."""
    form = {
        "member_id": MEMBER_A,
        "servicing_provider_npi": NPI_A,
        "service_code": "S9480",
        "requested_units": "12",
        "start": "2026-03-09",
        "end": "2026-04-07",
        "urgency": "standard",
        "review_kind": "pre_service",
        "diagnoses": "F33.1",
        "functioning": "Missed 6 of the last 10 work days; withdrawn from family.",
        "locus_level": "3",
        "cc_depression": "3",
        "cc_anxiety": "2",
        "cc_suicidal_ideation": "1",
        "goals": "Return to work 3 days a week | CBT group; behavioral activation",
        "planned_hours_per_week": "6",
        "planned_days_per_week": "3",
        "consecutive_hours_per_day": "3",
        "assessor_licensed": "yes",
        "risk_assessed_on": "2026-02-27",
        "suicide_risk": "low",
    }
    form.update(changes)
    return form


def _requests_of(world: World, member_id: str) -> list[str]:
    with world.uow() as uow:
        return sorted(r.request_id for r in uow.service_requests.for_member(member_id))


def test_request_form_offers_only_own_providers(portal: TestClient) -> None:
    sign_in(portal, "prov-own")
    page = portal.get("/web/portal/requests/new")
    assert page.status_code == 200
    assert f'value="{NPI_A}"' in page.text and f'value="{NPI_B}"' not in page.text
    labels: tuple[str, ...] = ("Diagnoses", "cross-cutting", "ASAM dimensions", "Risk assessment", "Urgency")
    labels += ("Physical examination date", "Planned hours per week", "Planned days per week")
    labels += ("Goals and interventions",)
    for label in labels:
        assert label in page.text


def test_submitted_request_is_evaluated_and_pended(world: World, portal: TestClient) -> None:
    """REG-01 / IOP-05: the online request is stored, evaluated and pended to clinical review (6 hours a
    week is under the IOP minimum); the provider lands on its page; clinical codes carry their system."""
    csrf = sign_in(portal, "prov-own")
    before = _requests_of(world, MEMBER_A)
    answer = portal.post("/web/portal/requests", data={"csrf_token": csrf, **iop_form()})
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    request_id = location.split("/web/requests/", 1)[1].split("?", 1)[0]
    assert request_id.startswith("WEB-") and location.endswith("?done=submitted")
    assert _requests_of(world, MEMBER_A) == sorted([*before, request_id])
    page = portal.get(location)
    assert page.status_code == 200 and "pended" in page.text
    with world.uow() as uow:
        stored = uow.service_requests.get(request_id)
    assert stored is not None
    assert stored.requesting_provider_npi == stored.servicing_provider_npi == NPI_A
    assert [(d.system, d.code) for d in stored.clinical.diagnoses] == [(ICD10CM, "F33.1")]
    assert stored.clinical.planned_hours_per_week == 6
    assert {d.value: int(s) for d, s in stored.clinical.cross_cutting}["depression"] == 3
    assert stored.received_at == world.clock()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"servicing_provider_npi": NPI_B}, "servicing_provider_npi"),  # another organization's provider
        ({"diagnoses": ""}, "clinical.diagnoses"),
        ({"start": "2026-02-30"}, "requested_span.start"),  # an impossible date
        ({"end": "2026-03-08"}, "requested_span.end"),  # ends before it starts
        ({"cc_depression": "5"}, "clinical.cross_cutting.depression"),  # 0-4 only
        ({"asam_2": "7"}, "clinical.asam.2"),
        ({"suicide_risk": "extreme"}, "clinical.risk_assessments[0].suicide_risk"),
        ({"requested_units": "twelve"}, "requested_units"),
    ],
)
def test_bad_request_refused_naming_the_field(
    world: World, portal: TestClient, changes: dict[str, str], field: str
) -> None:
    """Bad input is refused (422) naming the field, with the answers kept, and nothing is stored."""
    csrf = sign_in(portal, "prov-own")
    before = _requests_of(world, MEMBER_A)
    answer = portal.post("/web/portal/requests", data={"csrf_token": csrf, **iop_form(**changes)})
    assert answer.status_code == 422
    assert f"(field: {field})" in answer.text
    assert 'value="Missed 6 of the last' not in answer.text  # textarea keeps it as text, not an attribute
    assert "Missed 6 of the last 10 work days" in answer.text
    assert _requests_of(world, MEMBER_A) == before


def test_request_for_another_organizations_member_refused(world: World, portal: TestClient) -> None:
    """A provider user acts only for members its organization serves (scope refusal, audited)."""
    csrf = sign_in(portal, "prov-own")
    before = _requests_of(world, MEMBER_B)
    answer = portal.post("/web/portal/requests", data={"csrf_token": csrf, **iop_form(member_id=MEMBER_B)})
    assert answer.status_code == 403
    assert _requests_of(world, MEMBER_B) == before
    with world.uow() as uow:
        refusals = [
            e for e in uow.audit.list(member_id=MEMBER_B, limit=1000) if e.action is AuditAction.REFUSE
        ]
    assert refusals


def test_request_without_csrf_refused(world: World, portal: TestClient) -> None:
    sign_in(portal, "prov-own")
    before = _requests_of(world, MEMBER_A)
    assert portal.post("/web/portal/requests", data=iop_form()).status_code == 403
    assert _requests_of(world, MEMBER_A) == before


def test_submission_doc_asam_and_exam() -> None:
    """The form's ASAM ratings and physical-exam date reach the request document by their fields."""
    doc: dict[str, Any] = submission_doc(
        iop_form(asam_1="2", asam_6="4", physical_exam_date="2026-02-01", service_code="90837"),
        request_id="R",
        received_at=START,
    )
    assert doc["clinical"]["asam"] == {"1": 2, "6": 4}
    assert doc["clinical"]["physical_exam_date"] == "2026-02-01"
    assert doc["service_codes"][0]["code"] == "90837" and doc["service_codes"][0]["system"].endswith("cpt")


# --- claim decisions -------------------------------------------------------------------------------


def _line(claim: str, npi: str, member: str, status: str, rule: str | None) -> dict[str, Any]:
    return {
        "line_order": 1, "claim_id": claim, "claim_line_number": 1, "member_id": member, "billing_npi": npi,
        "rendering_npi": None, "service_date": "2026-02-10", "hcpcs_code": "S9480", "billed_units": 3,
        "paid_units": 0 if status == "denied" else 3, "denied_units": 3 if status == "denied" else 0,
        "paid_amount": 0.0 if status == "denied" else 450.0, "status": status, "carc": "15" if rule else None,
        "rarc": None, "rule_id": rule, "reason": "No authorization on file" if rule else None,
        "authorization_id": None, "edits": [], "flags": [],
    }  # fmt: skip


def _write_check(folder: Path, lines: list[dict[str, Any]], age_s: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "decisions.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    stamp = START.timestamp() - age_s
    os.utime(path, (stamp, stamp))


def test_claim_decisions_newest_check_own_lines_only(world: World, portal: TestClient) -> None:
    checks = world.application.settings.data_dir / "claim-checks"
    sign_in(portal, "prov-own")
    assert "no claim check on file yet" in portal.get("/web/portal/claims").text
    _write_check(checks / ("a" * 32), [_line("CLM-OLD", NPI_A, MEMBER_A, "paid", None)], age_s=7200)
    _write_check(
        checks / ("b" * 32),
        [_line("CLM-A1", NPI_A, MEMBER_A, "denied", "MN-04"), _line("CLM-B1", NPI_B, MEMBER_B, "paid", None)],
        age_s=60,
    )
    page = portal.get("/web/portal/claims")
    assert page.status_code == 200
    assert "CLM-A1" in page.text and "MN-04" in page.text and "denied" in page.text
    assert "CLM-B1" not in page.text and MEMBER_B not in page.text  # another organization's line
    assert "CLM-OLD" not in page.text  # an older check
    with world.uow() as uow:
        reads = [
            e for e in uow.audit.list(member_id=MEMBER_A, limit=1000) if e.entity_type == "claim_decisions"
        ]
    assert reads
    portal.cookies.clear()
    sign_in(portal, "prov-other")
    other = portal.get("/web/portal/claims").text
    assert "CLM-B1" in other and "CLM-A1" not in other


def test_claim_decisions_for_provider_users_only(portal: TestClient) -> None:
    sign_in(portal, "clinical")
    assert portal.get("/web/portal/claims").status_code == 403
    assert portal.get("/web/portal/requests/new").status_code == 403


def test_clock_moves_do_not_matter(world: World) -> None:
    """Guard: the world's clock is the test start (the stored received_at above compares to it)."""
    assert world.clock() - START < timedelta(days=1)
