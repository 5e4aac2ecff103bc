"""Documentation audit (MN-05) of billed T1017 sessions: TCM-09 elements, TCM-10 signatures, amount at
risk. Boundaries: a note missing exactly one element; a faxed signature's original on day 30 vs day 31;
a plan missing the licensed professional's signature; no note / no plan; matching by claim line and by
member and day; claim lines vs decisions; bad input named by file, record and field."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from bhum.adapters.documentation_files import read_records, write_report
from bhum.domain.errors import InputError
from bhum.policy import load_packs
from bhum.services.documentation_audit import (
    AuditParameters,
    DocumentationAudit,
    audit_documentation,
    parse_notes,
    parse_plans,
)

REPO = Path(__file__).resolve().parents[2]
DAY = date(2026, 3, 10)
AS_OF = date(2026, 6, 1)
COMPLETE: dict[str, Any] = {
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
SIGNED_PLAN: dict[str, Any] = {
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


@pytest.fixture(scope="module")
def parameters() -> AuditParameters:
    return AuditParameters.from_packs(load_packs(REPO / "packs"))


def claims(*rows: dict[str, Any]) -> pa.Table:
    base = {
        "claim_id": "C1",
        "claim_line_number": 1,
        "member_id": "M1",
        "claim_line_start_date": DAY,
        "hcpcs_code": "T1017",
        "service_unit_quantity": 3.0,
        "rendering_staff_id": "S2",
        "charge_amount": 60.0,
        "paid_amount": 45.0,
    }
    return pa.Table.from_pylist([{**base, **row} for row in rows])


def run(
    parameters: AuditParameters,
    billed: pa.Table,
    notes: list[dict[str, Any]],
    plans: list[dict[str, Any]] | None = None,
) -> DocumentationAudit:
    return audit_documentation(
        billed,
        parse_notes(notes, source="notes.json"),
        parse_plans([SIGNED_PLAN] if plans is None else plans, source="plans.json"),
        parameters=parameters,
        as_of=AS_OF,
    )


def test_pack_parameters(parameters: AuditParameters) -> None:
    assert (parameters.service_code, parameters.original_signature_days) == ("T1017", 30)


def test_mn05_complete_note_and_signed_plan_put_nothing_at_risk(parameters: AuditParameters) -> None:
    audit = run(parameters, claims({}), [COMPLETE])
    [row] = audit.sessions.to_pylist()
    assert row["note_id"] == "N1" and row["plan_id"] == "P1"
    assert row["missing_count"] == 0 and row["missing_elements"] == ""
    assert row["at_risk"] is False and row["amount_at_risk"] == 0.0
    assert row["reason"] == "documentation supports the session"
    assert audit.summary.amount_at_risk == 0.0


@pytest.mark.parametrize(
    ("blank", "element"),
    [
        ("member_satisfaction", "member_satisfaction"),
        ("provider_credentials", "provider_credentials"),
        ("persons_served", "persons_served"),
        ("stop_time", "start_stop_times"),
        ("signature", "provider_original_signature"),
    ],
)
def test_tcm09_a_note_missing_exactly_one_element(
    parameters: AuditParameters, blank: str, element: str
) -> None:
    note = {**COMPLETE, blank: [] if blank == "persons_served" else ""}
    [row] = run(parameters, claims({}), [note]).sessions.to_pylist()
    assert row["missing_count"] == 1
    assert row["missing_elements"] == element
    assert row[f"missing_{element}"] is True
    assert sum(row[f"missing_{e}"] for e in COMPLETE_ELEMENTS) == 1
    assert row["at_risk"] is True and row["amount_at_risk"] == 45.0
    assert row["rule_ids"] == "MN-05;TCM-09"
    assert f"lacks 1 of 11 elements ({element})" in row["reason"]


COMPLETE_ELEMENTS = (
    "date", "persons_served", "start_stop_times", "provider_original_signature", "provider_credentials",
    "plan_needs_goals_addressed", "specific_activities", "progress_or_barriers", "member_response",
    "new_needs_identified", "member_satisfaction",
)  # fmt: skip


@pytest.mark.parametrize(
    ("filed", "late"), [("2026-03-31", False), ("2026-04-01", True)], ids=["day-30", "day-31"]
)
def test_tcm09_faxed_signature_original_on_day_30_vs_31(
    parameters: AuditParameters, filed: str, late: bool
) -> None:
    """Faxed 1 March: the original filed 31 March (day 30) is on time, 1 April (day 31) is late."""
    note = {**COMPLETE, "signature": "faxed", "signed_on": "2026-03-01", "original_signature_on": filed}
    [row] = run(parameters, claims({}), [note]).sessions.to_pylist()
    assert row["missing_provider_original_signature"] is late
    assert row["at_risk"] is late
    assert row["amount_at_risk"] == (45.0 if late else 0.0)


@pytest.mark.parametrize(("as_of", "late"), [(date(2026, 3, 31), False), (date(2026, 4, 1), True)])
def test_tcm09_faxed_signature_never_originalled_is_late_once_day_30_passes(
    parameters: AuditParameters, as_of: date, late: bool
) -> None:
    note = {**COMPLETE, "signature": "faxed", "signed_on": "2026-03-01"}
    audit = audit_documentation(
        claims({}), parse_notes([note], source="n"), parse_plans([SIGNED_PLAN], source="p"),
        parameters=parameters, as_of=as_of,
    )  # fmt: skip
    [row] = audit.sessions.to_pylist()
    assert row["missing_provider_original_signature"] is late


def test_tcm10_plan_missing_the_licensed_professionals_signature(parameters: AuditParameters) -> None:
    plan = {**SIGNED_PLAN, "licensed_professional_signed_on": None}
    audit = run(parameters, claims({}), [COMPLETE], [plan])
    [row] = audit.sessions.to_pylist()
    assert row["plan_missing_signatures"] == "licensed_professional"
    assert row["missing_count"] == 0
    assert row["at_risk"] is True and row["amount_at_risk"] == 45.0
    assert row["rule_ids"] == "MN-05;TCM-10"
    assert "service plan P1 lacks the signature of licensed_professional" in row["reason"]
    [plan_row] = audit.plans.to_pylist()
    assert plan_row["missing_signatures"] == "licensed_professional"
    assert plan_row["rule_id"] == "TCM-10"
    assert audit.summary.plans_missing_signatures == 1


def test_tcm10_all_three_signatures_named(parameters: AuditParameters) -> None:
    plan = {
        **SIGNED_PLAN,
        "member_signed_on": "",
        "case_manager_signed_on": "",
        "licensed_professional_signed_on": "",
    }
    [row] = run(parameters, claims({}), [COMPLETE], [plan]).sessions.to_pylist()
    assert row["plan_missing_signatures"] == "member;case_manager;licensed_professional"


def test_mn05_no_note_means_all_11_missing_and_no_plan_is_named(parameters: AuditParameters) -> None:
    audit = run(parameters, claims({}), [], [])
    [row] = audit.sessions.to_pylist()
    assert row["note_id"] is None and row["plan_id"] is None
    assert row["missing_count"] == 11
    assert all(row[f"missing_{e}"] for e in COMPLETE_ELEMENTS)
    assert "no progress note" in row["reason"] and "no service plan in effect" in row["reason"]
    assert audit.summary.sessions_without_note == 1 and audit.summary.sessions_without_plan == 1


def test_plan_in_effect_by_date_latest_wins_and_a_session_before_any_plan_has_none(
    parameters: AuditParameters,
) -> None:
    old = {
        **SIGNED_PLAN,
        "plan_id": "P0",
        "effective_from": "2026-01-01",
        "licensed_professional_signed_on": None,
    }
    billed = claims({}, {"claim_id": "C0", "claim_line_start_date": date(2025, 12, 31)},
                    {"claim_id": "C2", "claim_line_start_date": date(2026, 2, 28)})  # fmt: skip
    notes = [COMPLETE, {**COMPLETE, "note_id": "N0", "session_date": "2025-12-31"},
             {**COMPLETE, "note_id": "N2", "session_date": "2026-02-28"}]  # fmt: skip
    rows = {r["claim_id"]: r for r in run(parameters, billed, notes, [old, SIGNED_PLAN]).sessions.to_pylist()}
    assert rows["C1"]["plan_id"] == "P1" and rows["C1"]["at_risk"] is False  # 10 March: the March plan
    assert rows["C2"]["plan_id"] == "P0" and rows["C2"]["plan_missing_signatures"] == "licensed_professional"
    assert rows["C0"]["plan_id"] is None and rows["C0"]["at_risk"] is True


def test_a_note_naming_its_claim_line_wins_over_the_days_best_note(parameters: AuditParameters) -> None:
    named = {
        **COMPLETE,
        "note_id": "N-claim",
        "claim_id": "C1",
        "claim_line_number": 1,
        "member_response": "",
    }
    rows = run(parameters, claims({}), [COMPLETE, named]).sessions.to_pylist()
    assert rows[0]["note_id"] == "N-claim" and rows[0]["missing_elements"] == "member_response"


def test_the_best_documented_note_of_the_day_is_used(parameters: AuditParameters) -> None:
    poor = {**COMPLETE, "note_id": "N0", "member_response": "", "member_satisfaction": ""}
    [row] = run(parameters, claims({}), [poor, COMPLETE]).sessions.to_pylist()
    assert row["note_id"] == "N1" and row["missing_count"] == 0


def test_only_t1017_sessions_are_audited_and_amount_falls_back_to_allowed(
    parameters: AuditParameters,
) -> None:
    billed = claims({"paid_amount": None, "allowed_amount": 30.0}, {"claim_id": "C9", "hcpcs_code": "H0015"})
    [row] = run(parameters, billed, []).sessions.to_pylist()
    assert row["claim_id"] == "C1" and row["amount"] == 30.0 and row["amount_basis"] == "allowed"


LINE = {"claim_line_number": 1, "member_id": "M1", "service_date": DAY, "hcpcs_code": "T1017"}


def test_decisions_only_paid_lines_are_at_stake(parameters: AuditParameters) -> None:
    decisions = pa.Table.from_pylist(
        [
            {**LINE, "claim_id": "C1", "paid_units": 2.0, "paid_amount": 30.0, "status": "partial"},
            {**LINE, "claim_id": "C2", "paid_units": 0.0, "paid_amount": 0.0, "status": "denied"},
        ]
    )
    audit = run(parameters, decisions, [])
    assert [r["claim_id"] for r in audit.sessions.to_pylist()] == ["C1"]
    assert audit.summary.amount_at_risk == 30.0 and audit.sessions.column("amount_basis").to_pylist() == [
        "paid"
    ]


def test_many_sessions_are_matched_set_based(parameters: AuditParameters) -> None:
    """2,000 sessions over 1,000 member-days; every second member-day has a note."""

    def day(i: int) -> date:
        return date(2026, 3, 1 + i % 28)

    rows = [
        {"claim_id": f"C{i}", "member_id": f"M{i // 2}", "claim_line_start_date": day(i)} for i in range(2000)
    ]
    notes = [
        {**COMPLETE, "note_id": f"N{i}", "member_id": f"M{i // 2}", "session_date": day(i).isoformat()}
        for i in range(0, 2000, 4)
    ]
    plans = [{**SIGNED_PLAN, "plan_id": f"P{m}", "member_id": f"M{m}"} for m in range(1000)]
    audit = run(parameters, claims(*rows), notes, plans)
    assert audit.summary.sessions == 2000
    assert audit.summary.sessions_without_note == 1500
    assert audit.summary.sessions_at_risk == 1500
    assert audit.summary.amount_at_risk == 1500 * 45.0
    assert audit.sessions.column("claim_id").to_pylist() == [f"C{i}" for i in range(2000)]  # input order kept


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({**COMPLETE, "session_date": "2026-02-30"}, "session_date"),
        ({**COMPLETE, "start_time": "25:00"}, "start_time"),
        ({**COMPLETE, "signature": "stamped"}, "signature"),
        ({**COMPLETE, "activities": ["shopping_spree"]}, "activity_code"),
        ({**COMPLETE, "member_id": ""}, "member_id"),
        ({**COMPLETE, "satisfaction": "ok"}, "satisfaction"),
        ({**COMPLETE, "claim_id": "C1"}, "claim_line_number"),
    ],
)
def test_bad_notes_are_refused_naming_file_record_and_field(record: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_notes([record], source="notes.json")
    assert caught.value.field == field
    assert caught.value.source == "notes.json"
    assert caught.value.record in ("N1", 1)


def test_bad_plans_are_refused_naming_the_field() -> None:
    with pytest.raises(InputError) as caught:
        parse_plans([{**SIGNED_PLAN, "effective_to": "2026-02-01"}], source="plans.csv")
    assert (caught.value.field, caught.value.record) == ("effective_to", "P1")
    with pytest.raises(InputError) as caught:
        parse_plans([{**SIGNED_PLAN, "member_participated": "maybe"}], source="plans.csv")
    assert caught.value.field == "member_participated"


def test_csv_notes_and_plans_round_trip_and_report_files(parameters: AuditParameters, tmp_path: Path) -> None:
    (tmp_path / "notes.csv").write_text(
        "note_id,member_id,session_date,persons_served,start_time,stop_time,signature,signed_on,"
        "provider_credentials,plan_needs_addressed,activities,progress_or_barriers,member_response,"
        "new_needs_identified,member_satisfaction\n"
        "N1,M1,2026-03-10,member;mother,10:00,10:45,original,2026-03-10,CM II,Goal 1,"
        "face_to_face_member;plan_monitoring,progress,engaged,none,\n"
    )
    (tmp_path / "plans.csv").write_text(
        "plan_id,member_id,effective_from,goals,member_participated,member_signed_on,case_manager_signed_on,"
        "licensed_professional_signed_on\n"
        "P1,M1,2026-03-01,Stable housing: apply | move in,yes,2026-03-01,2026-03-01,\n"
    )
    notes = parse_notes(read_records(tmp_path / "notes.csv"), source="notes.csv")
    plans = parse_plans(read_records(tmp_path / "plans.csv"), source="plans.csv")
    assert notes[0].note.persons_served == ("member", "mother")
    assert plans[0].plan.goals[0].objectives == ("apply", "move in")
    audit = audit_documentation(claims({}), notes, plans, parameters=parameters, as_of=AS_OF)
    written = write_report(audit, tmp_path / "out")
    assert set(written) == {"sessions_csv", "sessions_jsonl", "plans_csv", "plans_jsonl", "summary"}
    [row] = [json.loads(line) for line in written["sessions_jsonl"].read_text().splitlines()]
    assert row["missing_elements"] == "member_satisfaction"
    assert row["plan_missing_signatures"] == "licensed_professional"
    summary = json.loads(written["summary"].read_text())
    assert summary["amount_at_risk"] == 45.0 and summary["sessions_at_risk"] == 1
    assert not list((tmp_path / "out").glob(".*partial"))


def test_a_malformed_json_lines_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.jsonl"
    path.write_text(json.dumps(COMPLETE) + "\n{not json\n")
    with pytest.raises(InputError) as caught:
        read_records(path)
    assert caught.value.record == "line 2" and caught.value.source == str(path)
