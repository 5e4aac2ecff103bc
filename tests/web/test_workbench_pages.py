"""Issue 7, phase 2 pages: the clinician's OPM-06 determination form, documentation gaps on the
caseload page (TCM-09 / TCM-10), and the scope resolved once per request (one indexed query)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from bhum.adapters.store.repositories import SqlMemberRepository
from bhum.domain.access import AuditAction
from bhum.domain.case_management import (
    ActivityCode,
    CaseloadType,
    PlanGoal,
    ProgressNote,
    ServicePlan,
    SignatureKind,
)
from bhum.domain.cases import Case, CaseProgram
from bhum.domain.values import DateSpan
from bhum.entrypoints.web import create_web_app
from bhum.services.care_records import (
    CareUnitOfWork,
    CaseloadAssignment,
    StoredProgressNote,
    StoredServicePlan,
)
from bhum.services.opm_records import OpmCaseState
from tests.web.conftest import csrf_of, sign_in
from tests.web.world import MEMBER_A, MEMBER_B, NPI_A, OPM_CASE_A, OPM_CASE_B, START, World

TODAY = START.date()  # 2026-03-02 (10:00 in the plan's time zone)


def _client(world: World) -> Iterator[TestClient]:
    with TestClient(create_web_app(world.deps()), follow_redirects=False) as c:
        yield c


@pytest.fixture
def reviewer(world: World) -> Iterator[TestClient]:
    yield from _client(world)


def _return_form(world: World, case_id: str = OPM_CASE_A) -> None:
    """ORG-A's provider user returns the Clinical Update Request Form through the portal (OPM-04)."""
    for c in _client(world):
        csrf = sign_in(c, "prov-own")
        answer = c.post(
            f"/web/portal/forms/{case_id}",
            data={
                "csrf_token": csrf,
                "treatment_plan": "Weekly CBT",
                "goals": "Return to work",
                "level_of_care": "intensive_outpatient",
                "sessions_per_week": "3",
                "session_minutes": "180",
                "expected_end": "2026-05-30",
                "progress": "improving",
                "functioning": "Working two days a week",
                "pcp_coordinated": "yes",
                "pcp_last_contact_on": "2026-02-20",
            },
        )
        assert answer.status_code == 303, answer.text


def _opm_state(world: World, case_id: str) -> OpmCaseState:
    with world.uow() as uow:
        record = uow.opm.get_case(case_id)  # type: ignore[attr-defined]
        assert record is not None
        return OpmCaseState(record.state)


# --- OPM-06 determination ------------------------------------------------------------------------


def test_opm06_case_page_without_form_offers_no_determination(world: World, reviewer: TestClient) -> None:
    """OPM-06: nothing to decide before the provider returns the form (the case awaits it, OPM-04)."""
    sign_in(reviewer, "clinical")
    page = reviewer.get(f"/web/opm/cases/{OPM_CASE_B}")
    assert page.status_code == 200
    assert "has not returned the form yet" in page.text
    assert "/determination" not in page.text
    refused = reviewer.post(
        f"/web/opm/cases/{OPM_CASE_B}/determination",
        data={"csrf_token": csrf_of(page.text), "determination": "continue", "rationale": "Fine"},
    )
    assert refused.status_code == 409
    assert "no returned form" in refused.text
    assert _opm_state(world, OPM_CASE_B) is OpmCaseState.AWAITING_FORM


def test_opm06_determination_form_refusals_then_recorded(world: World, reviewer: TestClient) -> None:
    """OPM-06: a BH clinical reviewer records the determination with its rationale on the returned form;
    step up/down must name a level in the right direction (OPM-09 continuum); the case then closes,
    the decision is audited, and a second determination is refused."""
    _return_form(world)
    csrf = sign_in(reviewer, "clinical")
    page = reviewer.get(f"/web/opm/cases/{OPM_CASE_A}")
    assert page.status_code == 200
    assert "Weekly CBT" in page.text and 'name="determination"' in page.text
    for value in ("continue", "modify", "step_up", "step_down", "refer_community_resources",
                  "condition_management"):  # fmt: skip
        assert f'value="{value}"' in page.text
    url = f"/web/opm/cases/{OPM_CASE_A}/determination"

    no_csrf = reviewer.post(url, data={"determination": "continue", "rationale": "Fine"})
    assert no_csrf.status_code == 403
    no_rationale = reviewer.post(
        url, data={"csrf_token": csrf, "determination": "continue", "rationale": " "}
    )
    assert no_rationale.status_code == 422 and "rationale" in no_rationale.text
    # The form reports intensive outpatient: a step down cannot go to partial hospitalization.
    wrong_way = reviewer.post(
        url,
        data={"csrf_token": csrf, "determination": "step_down", "rationale": "Plateau (MN-03)",
              "recommended_level": "partial_hospitalization"},
    )  # fmt: skip
    assert wrong_way.status_code == 422 and "recommended_level" in wrong_way.text
    unnamed = reviewer.post(
        url, data={"csrf_token": csrf, "determination": "refer_community_resources", "rationale": "Peer"}
    )
    assert unnamed.status_code == 422 and "referrals" in unnamed.text
    unknown = reviewer.post(url, data={"csrf_token": csrf, "determination": "approve", "rationale": "x"})
    assert unknown.status_code == 422 and "determination" in unknown.text
    assert _opm_state(world, OPM_CASE_A) is OpmCaseState.IN_REVIEW

    done = reviewer.post(
        url,
        data={"csrf_token": csrf, "determination": "step_down", "rationale": "Plateau over 8 weeks (MN-03)",
              "recommended_level": "routine_outpatient", "recommendations": "Weekly therapy\nPCP follow-up"},
    )  # fmt: skip
    assert done.status_code == 303
    assert done.headers["location"] == f"/web/opm/cases/{OPM_CASE_A}?done=determination"
    shown = reviewer.get(done.headers["location"])
    assert (
        "step down" in shown.text
        and "Plateau over 8 weeks" in shown.text
        and "routine outpatient" in shown.text
    )
    assert _opm_state(world, OPM_CASE_A) is OpmCaseState.DETERMINED
    with world.uow() as uow:
        events = uow.audit.list(member_id=MEMBER_A, limit=1000)
    assert any(e.reason == "OPM-06 determination" and e.action is AuditAction.UPDATE for e in events)
    again = reviewer.post(url, data={"csrf_token": csrf, "determination": "continue", "rationale": "Again"})
    assert again.status_code == 409


@pytest.mark.parametrize("who", ["prov-own", "cm-own", "intake", "auditor"])
def test_opm06_only_clinical_reviewers_open_or_decide(world: World, reviewer: TestClient, who: str) -> None:
    """OPM-06: the case page (opm.run) and the determination (request.review) are for plan clinicians."""
    csrf = sign_in(reviewer, who)
    assert reviewer.get(f"/web/opm/cases/{OPM_CASE_A}").status_code == 403
    refused = reviewer.post(
        f"/web/opm/cases/{OPM_CASE_A}/determination",
        data={"csrf_token": csrf, "determination": "continue", "rationale": "Fine"},
    )
    assert refused.status_code == 403


# --- documentation gaps (TCM-09, TCM-10) ---------------------------------------------------------


def _note(note_id: str, session: date, *, faxed_on: date | None = None) -> ProgressNote:
    """A note with all 11 TCM-09 elements; faxed (original not yet filed) when ``faxed_on`` is given."""
    return ProgressNote(
        note_id=note_id,
        session_date=session,
        persons_served=("member",),
        start_time=time(9, 0),
        stop_time=time(9, 45),
        signature=SignatureKind.FAXED if faxed_on else SignatureKind.ORIGINAL,
        signed_on=faxed_on or session,
        provider_credentials="LMSW",
        plan_needs_addressed="Housing goal 1",
        activities=(ActivityCode.FACE_TO_FACE_MEMBER,),
        activity_narrative="Linked to housing authority",
        progress_or_barriers="Application filed",
        member_response="Engaged",
        new_needs_identified="None",
        member_satisfaction="Satisfied",
    )


@pytest.fixture(scope="module")
def caseload_seeded(world: World) -> World:
    """MEMBER_A on S-CM1's caseload with three recent notes and a plan lacking the licensed
    professional's signature; MEMBER_B (not on the caseload) has gaps that must not show."""
    uow = world.uow()
    assert isinstance(uow, CareUnitOfWork)
    with uow:
        uow.caseload_assignments.add(
            CaseloadAssignment(
                "C-TCM-0001", "S-CM1", MEMBER_A, CaseloadType.STANDARD, START - timedelta(days=9)
            )
        )
        # Faxed 30 days before today: its original is due today (still in time) -> complete.
        on_time = _note("N-FAX-DUE-TODAY", TODAY - timedelta(days=30), faxed_on=TODAY - timedelta(days=30))
        # Faxed 31 days before today: the original was due yesterday and is not on file -> missing.
        late = _note("N-FAX-LATE", TODAY - timedelta(days=31), faxed_on=TODAY - timedelta(days=31))
        # Outside the 90-day window: not a recent note, not reported.
        old = _note("N-OLD", TODAY - timedelta(days=91), faxed_on=TODAY - timedelta(days=91))
        for n in (on_time, late, old):
            uow.progress_notes.add(StoredProgressNote(n, MEMBER_A, "S-CM1", START, None))
        unsigned = ServicePlan(
            "SP-A-1", (PlanGoal("Stable housing", ("Apply for housing",)),), True, TODAY - timedelta(days=20),
            TODAY - timedelta(days=20), None, None,
        )  # fmt: skip
        uow.service_plans.add(
            StoredServicePlan(unsigned, MEMBER_A, DateSpan(TODAY - timedelta(days=20), None), 1, "u", START)
        )
        uow.progress_notes.add(StoredProgressNote(_note("N-B", TODAY, faxed_on=TODAY - timedelta(days=60)),
                                                  MEMBER_B, "S-CM2", START, None))  # fmt: skip
        uow.commit()
    return world


def test_tcm09_tcm10_gaps_on_the_caseload(caseload_seeded: World, reviewer: TestClient) -> None:
    """TCM-09: a faxed note whose original is one day overdue lacks the provider's original signature;
    due today is still complete; a note older than the window is not listed. TCM-10: the plan in
    effect lacks the licensed professional's signature."""
    sign_in(reviewer, "cm-own")
    page = reviewer.get("/web/caseload")
    assert page.status_code == 200
    gaps = page.text.split('id="h-gaps"', 1)[1]
    assert "N-FAX-LATE" in gaps and "provider original signature" in gaps
    assert "N-FAX-DUE-TODAY" not in gaps and "N-OLD" not in gaps
    assert "SP-A-1" in gaps and "licensed professional" in gaps
    assert MEMBER_B not in gaps  # not on this caseload
    with caseload_seeded.uow() as uow:
        events = uow.audit.list(member_id=MEMBER_A, limit=1000)
    assert any(e.entity_type == "documentation_gaps" and e.action is AuditAction.READ for e in events)


def test_tcm10_no_plan_in_effect_is_a_gap(caseload_seeded: World, reviewer: TestClient) -> None:
    """TCM-10: a caseload member with no service plan in effect today is shown as a gap."""
    uow = caseload_seeded.uow()
    assert isinstance(uow, CareUnitOfWork)
    with uow:
        uow.cases.add(
            Case("C-TCM-0010", "M00000010", CaseProgram.CASE_MANAGEMENT, START, assigned_staff_id="S-CM1")
        )
        uow.caseload_assignments.add(
            CaseloadAssignment("C-TCM-0010", "S-CM1", "M00000010", CaseloadType.STANDARD, START)
        )
        uow.commit()
    sign_in(reviewer, "cm-own")
    gaps = reviewer.get("/web/caseload").text.split('id="h-gaps"', 1)[1]
    row = gaps.split("M00000010", 2)[-1].split("</tr>", 1)[0]
    assert "no plan in effect" in row


# --- scope resolved once per request, in one query -----------------------------------------------


def test_member_page_resolves_scope_once(
    world: World, reviewer: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The provider-user scope (docs/security.md) is asked of the store once per request although the
    route's access check and the service both check it; the page stays within a statement budget."""
    asked: list[tuple[str, str]] = []
    original = SqlMemberRepository.served_by_organization

    def counting(self: SqlMemberRepository, member_id: str, organization_id: str) -> bool:
        asked.append((member_id, organization_id))
        return original(self, member_id, organization_id)

    monkeypatch.setattr(SqlMemberRepository, "served_by_organization", counting)
    sign_in(reviewer, "prov-own")
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(world.store.engine, "before_cursor_execute", count)
    try:
        assert reviewer.get(f"/web/members/{MEMBER_A}").status_code == 200
    finally:
        event.remove(world.store.engine, "before_cursor_execute", count)
    assert asked == [(MEMBER_A, "ORG-A")]
    assert len(statements) <= 12, statements
    asked.clear()
    assert reviewer.get(f"/web/members/{MEMBER_B}").status_code == 403  # refusals are never reused
    assert reviewer.get(f"/web/members/{MEMBER_A}").status_code == 200  # nor answers across requests
    assert asked == [(MEMBER_B, "ORG-A"), (MEMBER_A, "ORG-A")]


def test_served_by_organization_each_link(world: World) -> None:
    """Provider-user scope: a member is served through the PCP, a request, an authorization or a
    case NPI of the organization's providers; another organization's member is not."""
    with world.uow() as uow:
        members = uow.members
        assert members.served_by_organization(MEMBER_A, "ORG-A")
        assert not members.served_by_organization(MEMBER_B, "ORG-A")
        assert members.served_by_organization(MEMBER_B, "ORG-B")
        assert not members.served_by_organization("M-UNKNOWN", "ORG-A")
        assert not members.served_by_organization(MEMBER_A, "ORG-NONE")
        assert uow.providers.get(NPI_A) is not None


def test_on_caseload_open_cases_only(world: World) -> None:
    """Caseload scope: an open case assigned to the staff record; another staff record's is not."""
    with world.uow() as uow:
        assert uow.members.on_caseload(MEMBER_A, "S-CM1")
        assert not uow.members.on_caseload(MEMBER_A, "S-CM2")
        assert not uow.members.on_caseload(MEMBER_B, "S-CM1")
