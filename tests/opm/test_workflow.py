"""The outreach workflow on a real store (SQLite and PostgreSQL): OPM-04/05/08 outreach, idempotent
re-runs and crash recovery, the returned form and OPM-06 determination, the OPM-07 tick."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from bhum.adapters.store import SqlStore
from bhum.domain.access import Role, User
from bhum.domain.authorization import AuthorizationStatus
from bhum.domain.cases import CaseStatus
from bhum.domain.errors import InputError, InvalidTransition, PermissionDenied
from bhum.domain.letters import LetterKind
from bhum.domain.opm import LevelOfCare, OpmDetermination
from bhum.services import opm as service
from bhum.services.opm import OpmParameters
from bhum.services.opm_records import OpmCaseState
from tests.opm.conftest import (
    NOW,
    NPI_A,
    NPI_B,
    TZ,
    CountingWriter,
    flag,
    outreach_settings,
    services_for,
    uow_factory,
)

FORM = {
    "treatment_plan": "Weekly CBT with the treating therapist; sertraline managed by the PCP.",
    "goals": ["PHQ-9 below 10 by September", "Back to work four days a week"],
    "level_intensity_duration": {
        "level_of_care": "routine_outpatient",
        "sessions_per_week": 1,
        "session_minutes": 53,
        "expected_end": "2026-12-31",
    },
    "progress": {"rating": "improving", "note": "PHQ-9 from 19 to 13"},
    "functioning": "Working part time; sleeping better.",
    "pcp_coordination": {"coordinated": True, "last_contact_on": "2026-06-20"},
}
PROVIDER_A = User("u-prov-a", "prov.a", "Provider A", frozenset({Role.PROVIDER_USER}), organization_id="O-A")
PROVIDER_B = User("u-prov-b", "prov.b", "Provider B", frozenset({Role.PROVIDER_USER}), organization_id="O-B")
REVIEWER = User("u-rev", "reviewer", "Reviewer", frozenset({Role.CLINICAL_REVIEWER}))
CASE_MANAGER = User("u-cm", "cm", "Case manager", frozenset({Role.CASE_MANAGER}))

MEMBERS = ["M1", "M2", "M3", "M4", "M5", "M6", "M7"]


def _flags() -> list:  # type: ignore[type-arg]
    return [flag(m, rank=i + 1, score=10.0 - i) for i, m in enumerate(MEMBERS)]


def _open(
    world: SqlStore, tmp_path: Path, parameters: OpmParameters, **kw: object
) -> service.OutreachSummary:
    writer = kw.pop("writer", None) or CountingWriter()
    settings = outreach_settings(tmp_path, parameters, writer, **kw)  # type: ignore[arg-type]
    return service.reach_out(lambda: uow_factory(world), _flags(), services_for(MEMBERS), settings)


def _counts(world: SqlStore) -> tuple[int, int, int, int]:
    with uow_factory(world) as uow:
        return uow.opm.count_cases(), uow.cases.count(), uow.letters.count(), uow.authorizations.count()


def test_outreach_opens_cases_with_both_letters_only_for_opm08_plans(
    world: SqlStore, tmp_path: Path, parameters: OpmParameters
) -> None:
    """OPM-04/05/08: M1..M4 (plan with BH benefits, no exclusion) get a case, the provider letter with
    the form and the member notice; carved-out (M5), excluded (M6) and unknown (M7) members do not."""
    summary = _open(world, tmp_path, parameters)
    assert len(summary.opened) == 4
    assert summary.skipped == {
        "plan_has_no_bh_benefit": 1,
        "plan_excludes_outpatient_management": 1,
        "member_not_in_store": 1,
    }
    assert summary.letters == 8
    with uow_factory(world) as uow:
        record = uow.opm.list_cases(member_id="M1")[0]
        # OPM-04: due date = letter date + 30 days (from the pack), recorded on the case.
        assert record.letter_date == date(2026, 7, 1)
        assert record.due_on == date(2026, 7, 31) == record.letter_date + timedelta(days=parameters.form_days)
        case = uow.cases.get(record.case_id)
        assert case is not None and case.status is CaseStatus.AWAITING_INFORMATION
        assert [(d.due_on, d.rule_id) for d in case.due_dates] == [(date(2026, 7, 31), "OPM-04")]
        assert record.provider_npi == NPI_A
        letters = uow.letters.for_member("M1")
        assert sorted(letter.kind for letter in letters) == sorted(
            [LetterKind.OPM_CLINICAL_UPDATE_REQUEST, LetterKind.OPM_MEMBER_NOTICE]
        )
        provider_letter = next(x for x in letters if x.kind is LetterKind.OPM_CLINICAL_UPDATE_REQUEST)
        assert provider_letter.recipient_id == NPI_A and provider_letter.case_id == record.case_id
        # OPM-05: treatment approved during the period: an approved authorization for the services.
        (auth_id,) = record.authorization_ids
        auth = uow.authorizations.get(auth_id)
        assert auth is not None and auth.status is AuthorizationStatus.APPROVED
        assert auth.history[-1].rule_id == "OPM-05"
        assert [c.code for c in auth.service_codes] == ["90837"]
        assert uow.opm.list_cases(member_id="M5") == [] and uow.opm.list_cases(member_id="M6") == []
    text = " ".join(p.extract_text() for p in PdfReader(provider_letter.file_path).pages)
    assert "Clinical Update" in text and record.case_id in text


def test_capacity_takes_top_ranked_members_first(
    world: SqlStore, tmp_path: Path, parameters: OpmParameters
) -> None:
    """Outreach capacity per month: the two best-ranked eligible members; a re-run the same month
    opens nobody new, a larger capacity later continues down the ranking."""
    first = _open(world, tmp_path, parameters, capacity=2)
    assert first.capacity_reached
    with uow_factory(world) as uow:
        assert sorted(c.member_id for c in uow.opm.list_cases()) == ["M1", "M2"]
    again = _open(world, tmp_path, parameters, capacity=2)
    assert again.opened == [] and again.capacity_reached
    more = _open(world, tmp_path, parameters, capacity=3)
    with uow_factory(world) as uow:
        assert sorted(c.member_id for c in uow.opm.list_cases()) == ["M1", "M2", "M3"]
    assert len(more.opened) == 1


def test_rerun_same_month_creates_no_duplicate_case_or_letter(
    world: SqlStore, tmp_path: Path, parameters: OpmParameters
) -> None:
    _open(world, tmp_path, parameters)
    before = _counts(world)
    again = _open(world, tmp_path, parameters, now=NOW + timedelta(days=3), letter_date=date(2026, 7, 4))
    assert again.opened == [] and len(again.already_done) == 4
    assert _counts(world) == before == (4, 4, 8, 4)


def test_one_open_case_per_member_and_provider_across_months(
    world: SqlStore, tmp_path: Path, parameters: OpmParameters
) -> None:
    """Next month's run finds the July case still open for M1 and the same provider: no second case."""
    _open(world, tmp_path, parameters)
    later = _open(
        world,
        tmp_path,
        parameters,
        as_of=date(2026, 7, 31),
        letter_date=date(2026, 8, 1),
        now=datetime(2026, 8, 1, 14, tzinfo=UTC),
    )
    assert later.opened == [] and later.skipped["opm_case_already_open"] == 4


@pytest.mark.parametrize("fail_after", [1, 2, 5])
def test_crash_midway_then_rerun_gives_exactly_one_case_and_two_letters_each(
    world: SqlStore, tmp_path: Path, parameters: OpmParameters, fail_after: int
) -> None:
    """A run that dies after N letters (inside a member's transaction) leaves only whole members; the
    re-run completes the rest: every eligible member has one case and two letters, nothing twice."""
    with pytest.raises(RuntimeError, match="injected crash"):
        _open(world, tmp_path, parameters, writer=CountingWriter(fail_after=fail_after))
    cases_after_crash = _counts(world)[0]
    assert cases_after_crash == fail_after // 2  # only members whose transaction committed
    _open(world, tmp_path, parameters)
    assert _counts(world) == (4, 4, 8, 4)
    with uow_factory(world) as uow:
        for member in ("M1", "M2", "M3", "M4"):
            assert len(uow.opm.list_cases(member_id=member)) == 1
            kinds = sorted(x.kind.value for x in uow.letters.for_member(member))
            assert kinds == ["opm_clinical_update_request", "opm_member_notice"]
    pdfs = sorted((tmp_path / "letters").glob("*.pdf"))
    assert len(pdfs) == 8  # the PDF written before the crash was the same letter, found again


def _one_case(world: SqlStore, tmp_path: Path, parameters: OpmParameters) -> str:
    _open(world, tmp_path, parameters, capacity=1)
    with uow_factory(world) as uow:
        (record,) = uow.opm.list_cases()
        return record.case_id


def test_form_return_and_determination(world: SqlStore, tmp_path: Path, parameters: OpmParameters) -> None:
    """OPM-06: the provider's organization returns the form; a clinical reviewer determines; the case
    closes. Other organizations and non-reviewers are refused."""
    case_id = _one_case(world, tmp_path, parameters)
    at = datetime(2026, 7, 20, 15, tzinfo=UTC)
    with uow_factory(world) as uow, pytest.raises(PermissionDenied):
        service.submit_form(uow, PROVIDER_B, case_id, FORM, now=at, tz=TZ)
    with uow_factory(world) as uow:
        record = service.submit_form(uow, PROVIDER_A, case_id, FORM, now=at, tz=TZ)
    assert record.state is OpmCaseState.IN_REVIEW and record.form_submitted_by == "u-prov-a"
    with uow_factory(world) as uow, pytest.raises(InvalidTransition):
        service.submit_form(uow, PROVIDER_A, case_id, FORM, now=at, tz=TZ)  # a second form
    with uow_factory(world) as uow, pytest.raises(PermissionDenied):
        service.record_determination(uow, CASE_MANAGER, case_id, OpmDetermination.CONTINUE, "ok", now=at)
    with uow_factory(world) as uow, pytest.raises(InputError) as err:
        service.record_determination(
            uow,
            REVIEWER,
            case_id,
            OpmDetermination.STEP_DOWN,
            "plateau",
            now=at,
            recommended_level=LevelOfCare.INTENSIVE_OUTPATIENT,
        )
    assert err.value.field == "recommended_level"  # routine outpatient cannot step down to IOP
    with uow_factory(world) as uow:
        done = service.record_determination(
            uow,
            REVIEWER,
            case_id,
            OpmDetermination.REFER_COMMUNITY_RESOURCES,
            "Needs peer support",
            now=at,
            referrals=["Tulsa peer recovery center"],
        )
        case = uow.cases.get(case_id)
    assert done.state is OpmCaseState.DETERMINED and done.review is not None
    assert done.review["determination"] == "refer_community_resources" and done.review["rule_id"] == "OPM-06"
    assert case is not None and case.status is CaseStatus.CLOSED
    # The form came back: the tick never discontinues this case.
    summary = service.tick(
        lambda: uow_factory(world),
        now=datetime(2026, 9, 1, 14, tzinfo=UTC),
        tz=TZ,
        parameters=parameters,
        letters_dir=tmp_path / "letters",
        write_letter=CountingWriter(),
    )
    assert summary.discontinued == []


def test_bad_form_names_the_field_and_changes_nothing(
    world: SqlStore, tmp_path: Path, parameters: OpmParameters
) -> None:
    case_id = _one_case(world, tmp_path, parameters)
    bad = {**FORM, "pcp_coordination": {"coordinated": True, "last_contact_on": "2026-02-30"}}
    with uow_factory(world) as uow, pytest.raises(InputError) as err:
        service.submit_form(uow, PROVIDER_A, case_id, bad, now=NOW, tz=TZ, source="form.json")
    assert err.value.field == "pcp_coordination.last_contact_on" and err.value.source == "form.json"
    with uow_factory(world) as uow:
        assert uow.opm.get_case(case_id).state is OpmCaseState.AWAITING_FORM  # type: ignore[union-attr]


def test_form_on_the_due_date_is_accepted_the_day_after_is_late(
    world: SqlStore, tmp_path: Path, parameters: OpmParameters
) -> None:
    """OPM-04 boundary: due 2026-07-31 (Chicago). 23:30 local on the 31st is on time; 00:30 on
    1 August is late (OPM-07)."""
    case_id = _one_case(world, tmp_path, parameters)
    late = datetime(2026, 8, 1, 5, 30, tzinfo=UTC)  # 00:30 CDT on 1 August
    with uow_factory(world) as uow, pytest.raises(InvalidTransition, match="OPM-07"):
        service.submit_form(uow, PROVIDER_A, case_id, FORM, now=late, tz=TZ)
    on_time = datetime(2026, 8, 1, 4, 30, tzinfo=UTC)  # 23:30 CDT on 31 July
    with uow_factory(world) as uow:
        assert (
            service.submit_form(uow, PROVIDER_A, case_id, FORM, now=on_time, tz=TZ).state
            is OpmCaseState.IN_REVIEW
        )


def test_tick_discontinues_after_the_due_date_once(
    world: SqlStore, tmp_path: Path, parameters: OpmParameters
) -> None:
    """OPM-07: nothing on the due date; the day after, the authorization is discontinued (status
    history cites OPM-07, from the effective date), the provider and member are told, the case closes.
    A second tick changes nothing."""
    case_id = _one_case(world, tmp_path, parameters)

    def run(at: datetime) -> service.TickSummary:
        return service.tick(
            lambda: uow_factory(world),
            now=at,
            tz=TZ,
            parameters=parameters,
            letters_dir=tmp_path / "letters",
            write_letter=CountingWriter(),
        )

    assert run(datetime(2026, 8, 1, 4, 59, tzinfo=UTC)).discontinued == []  # 23:59 CDT on the due date
    summary = run(datetime(2026, 8, 1, 13, tzinfo=UTC))
    assert summary.discontinued == [case_id] and summary.authorizations == 1 and summary.letters == 2
    with uow_factory(world) as uow:
        record = uow.opm.get_case(case_id)
        assert record is not None and record.state is OpmCaseState.DISCONTINUED
        assert record.discontinued_from == date(2026, 8, 1)
        auth = uow.authorizations.get(record.authorization_ids[0])
        assert auth is not None and auth.status is AuthorizationStatus.DISCONTINUED
        last = auth.history[-1]
        assert last.rule_id == "OPM-07" and "from 2026-08-01" in last.reason
        assert last.at.astimezone(TZ).date() == date(2026, 8, 1)  # claim checks read this as status_since
        kinds = sorted(x.kind.value for x in uow.letters.for_member(record.member_id))
        assert kinds == [
            "opm_clinical_update_request",
            "opm_discontinuation_member",
            "opm_discontinuation_provider",
            "opm_member_notice",
        ]
        case = uow.cases.get(case_id)
        assert case is not None and case.status is CaseStatus.CLOSED and "OPM-07" in case.close_reason
        letters_before = uow.letters.count()
    again = run(datetime(2026, 8, 2, 13, tzinfo=UTC))
    assert again.discontinued == [] and again.letters == 0
    with uow_factory(world) as uow:
        assert uow.letters.count() == letters_before
    with uow_factory(world) as uow, pytest.raises(InvalidTransition):
        service.submit_form(uow, PROVIDER_A, case_id, FORM, now=datetime(2026, 8, 2, tzinfo=UTC), tz=TZ)


def test_provider_b_treating_provider_gets_the_letter(
    world: SqlStore, tmp_path: Path, parameters: OpmParameters
) -> None:
    """The treating provider is the provider on the flagged claims."""
    settings = outreach_settings(tmp_path, parameters, CountingWriter(), capacity=1)
    service.reach_out(lambda: uow_factory(world), [flag("M2", 1)], services_for(["M2"], NPI_B), settings)
    with uow_factory(world) as uow:
        (record,) = uow.opm.list_cases()
        assert record.provider_npi == NPI_B
        letter = next(x for x in uow.letters.for_member("M2") if x.recipient_kind.value == "provider")
        assert letter.recipient_id == NPI_B
