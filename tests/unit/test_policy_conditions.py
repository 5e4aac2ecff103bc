"""The closed set of condition types, each at its boundaries, and Kleene logic (no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from bhum.domain.values import HCPCS, Code
from bhum.policy import Duration, DurationUnit, PackError, Parameter, ParameterType, Status
from bhum.policy.conditions import CONDITION_TYPES, BuildContext, build_condition, units_from_minutes
from bhum.policy.model import Evidence

MET, NOT_MET, UNKNOWN = Status.MET, Status.NOT_MET, Status.UNKNOWN


def p(name: str, kind: ParameterType, value: Any, unit: str | None = None) -> Parameter:
    return Parameter(name, kind, value, f"{name} for a test", unit)


PARAMS = {
    "limit": p("limit", ParameterType.INTEGER, 16, "units"),
    "low": p("low", ParameterType.NUMBER, 9),
    "high": p("high", ParameterType.NUMBER, 19),
    "codes": p("codes", ParameterType.CODE_SET, frozenset({Code(HCPCS, "S9480"), Code(HCPCS, "H0015")})),
    "min_age": p("min_age", ParameterType.INTEGER, 13),
    "max_age": p("max_age", ParameterType.INTEGER, 17),
    "days": p("days", ParameterType.INTEGER, 30),
    "daily": p("daily", ParameterType.INTEGER, 16),
    "monthly": p("monthly", ParameterType.INTEGER, 25),
    "unit_minutes": p("unit_minutes", ParameterType.INTEGER, 15),
    "floor": p("floor", ParameterType.ENUM, "whole_units_only"),
    "eight": p("eight", ParameterType.ENUM, "eight_minute"),
    "elements": p("elements", ParameterType.STRING_LIST, ("date", "signature")),
    "clock_days": p("clock_days", ParameterType.DURATION, Duration(14, DurationUnit.CALENDAR_DAYS)),
    "clock_hours": p("clock_hours", ParameterType.DURATION, Duration(72, DurationUnit.HOURS)),
    "clock_business": p("clock_business", ParameterType.DURATION, Duration(2, DurationUnit.BUSINESS_DAYS)),
    "clock_months": p("clock_months", ParameterType.DURATION, Duration(6, DurationUnit.MONTHS)),
    "two": p("two", ParameterType.INTEGER, 2),
}
CTX = BuildContext(source="test.yaml", rule_id="test.rule", parameters=PARAMS)


def run(spec: dict[str, Any], facts: dict[str, Any]) -> tuple[Status, str, list[Evidence]]:
    evidence: list[Evidence] = []
    status, reason = build_condition(spec, "rules[0].condition", CTX).evaluate(facts, evidence)
    return status, reason, evidence


def value(evidence: list[Evidence], name: str) -> Any:
    return next(e.value for e in evidence if e.name == name)


# Leaves whose status is fixed, for the truth tables.
LEAF = {
    MET: {"type": "compare", "fact": "t", "op": "eq", "to": {"value": True}},
    NOT_MET: {"type": "compare", "fact": "f", "op": "eq", "to": {"value": True}},
    UNKNOWN: {"type": "compare", "fact": "absent", "op": "eq", "to": {"value": True}},
}
TRUTH = {"t": True, "f": False}


@pytest.mark.parametrize(
    ("a", "b", "both", "either"),
    [
        (MET, MET, MET, MET),
        (MET, NOT_MET, NOT_MET, MET),
        (MET, UNKNOWN, UNKNOWN, MET),
        (NOT_MET, NOT_MET, NOT_MET, NOT_MET),
        (NOT_MET, UNKNOWN, NOT_MET, UNKNOWN),
        (UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN),
        (UNKNOWN, MET, UNKNOWN, MET),
        (UNKNOWN, NOT_MET, NOT_MET, UNKNOWN),
    ],
)
def test_kleene_all_any(a: Status, b: Status, both: Status, either: Status) -> None:
    """Unknown propagates so the authorization engine pends instead of approving on missing facts."""
    assert run({"type": "all", "of": [LEAF[a], LEAF[b]]}, TRUTH)[0] is both
    assert run({"type": "any", "of": [LEAF[a], LEAF[b]]}, TRUTH)[0] is either


@pytest.mark.parametrize(("inner", "negated"), [(MET, NOT_MET), (NOT_MET, MET), (UNKNOWN, UNKNOWN)])
def test_kleene_not(inner: Status, negated: Status) -> None:
    assert run({"type": "not", "condition": LEAF[inner]}, TRUTH)[0] is negated


def test_compare_at_the_limit_tcm02() -> None:
    spec = {"type": "compare", "fact": "units", "op": "le", "to": {"param": "limit"}}
    assert run(spec, {"units": 16})[0] is MET
    status, reason, evidence = run(spec, {"units": 17})
    assert status is NOT_MET
    # The reason shows the limit with its unit, never the parameter's internal name.
    assert reason == "units 17 is not at most 16 units"
    assert value(evidence, "limit") == 16 and value(evidence, "units") == 17
    assert run(spec, {})[0] is UNKNOWN


def test_compare_against_another_fact_mn04() -> None:
    spec = {"type": "compare", "fact": "used", "op": "le", "to": {"fact": "authorized"}}
    assert run(spec, {"used": 12, "authorized": 12})[0] is MET
    assert run(spec, {"used": 13, "authorized": 12})[0] is NOT_MET
    assert run(spec, {"used": 13})[0] is UNKNOWN


def test_between_is_inclusive_iop05() -> None:
    spec = {"type": "between", "fact": "hours", "min": {"param": "low"}, "max": {"param": "high"}}
    assert [run(spec, {"hours": h})[0] for h in (8.9, 9, 19, 19.1)] == [NOT_MET, MET, MET, NOT_MET]


def test_code_sets_match_system_and_code_opm01() -> None:
    spec = {"type": "in_code_set", "fact": "code", "set": {"param": "codes"}}
    assert run(spec, {"code": Code(HCPCS, "S9480", "any display")})[0] is MET
    assert run(spec, {"code": Code("https://other", "S9480")})[0] is NOT_MET
    assert run(spec, {"code": [Code(HCPCS, "X"), Code(HCPCS, "H0015")]})[0] is MET
    negated = {**spec, "type": "not_in_code_set"}
    assert run(negated, {"code": Code(HCPCS, "S9480")})[0] is NOT_MET
    assert run(negated, {"code": Code(HCPCS, "90834")})[0] is MET
    assert run(negated, {})[0] is UNKNOWN


def test_age_band_on_the_birthday_iop03() -> None:
    spec = {"type": "age_band", "min_age": {"param": "min_age"}, "max_age": {"param": "max_age"}}
    born = date(2013, 3, 10)
    assert run(spec, {"birth_date": born, "service_date": date(2026, 3, 9)})[0] is NOT_MET  # 12
    status, _, evidence = run(spec, {"birth_date": born, "service_date": date(2026, 3, 10)})
    assert status is MET and value(evidence, "age") == 13
    assert run(spec, {"birth_date": date(2008, 3, 10), "service_date": date(2026, 3, 10)})[0] is NOT_MET  # 18
    assert all(e.name != "birth_date" for e in evidence)  # member data stays out of the evidence
    assert run(spec, {"service_date": date(2026, 3, 10)})[0] is UNKNOWN


def test_present_and_all_true() -> None:
    """present: absence is not_met (documentation); all_true: absence is unknown (attested criteria)."""
    present = {"type": "present", "facts": {"param": "elements"}}
    status, _, evidence = run(present, {"date": date(2026, 3, 1), "signature": ""})
    assert status is NOT_MET and value(evidence, "missing") == ("signature",)
    assert run(present, {"date": date(2026, 3, 1), "signature": "on file"})[0] is MET
    all_true = {"type": "all_true", "facts": {"param": "elements"}}
    assert run(all_true, {"date": True})[0] is UNKNOWN
    assert run(all_true, {"date": True, "signature": False})[0] is NOT_MET
    assert run(all_true, {"date": True, "signature": True})[0] is MET
    any_true = {"type": "any_true", "facts": {"param": "elements"}}
    assert run(any_true, {"date": False})[0] is UNKNOWN
    assert run(any_true, {"date": False, "signature": False})[0] is NOT_MET
    assert run(any_true, {"signature": True})[0] is MET


def test_within_days_iop08() -> None:
    spec = {"type": "within_days", "fact": "exam", "anchor": "admission", "days": {"param": "days"}}
    admission = date(2026, 3, 10)
    assert run(spec, {"exam": date(2026, 2, 8), "admission": admission})[0] is MET  # 30 before
    assert run(spec, {"exam": date(2026, 2, 7), "admission": admission})[0] is NOT_MET  # 31 before
    assert run(spec, {"exam": date(2026, 4, 9), "admission": admission})[0] is MET  # 30 after
    after_only = {**spec, "direction": "after"}
    assert run(after_only, {"exam": date(2026, 3, 9), "admission": admission})[0] is NOT_MET
    assert run(spec, {"admission": admission})[0] is UNKNOWN


def test_count_at_least_over_a_list_and_over_conditions() -> None:
    spec = {"type": "count_at_least", "fact": "days", "min": {"param": "two"}}
    assert run(spec, {"days": ["mon", "wed"]})[0] is MET
    assert run(spec, {"days": ["mon"]})[0] is NOT_MET
    over = {
        "type": "count_at_least",
        "min": {"param": "two"},
        "of": [LEAF[MET], LEAF[UNKNOWN], LEAF[NOT_MET]],
    }
    assert run(over, TRUTH)[0] is UNKNOWN  # 1 met + 1 unknown could still reach 2
    over_met = {**over, "of": [LEAF[MET], LEAF[MET], LEAF[UNKNOWN]]}
    assert run(over_met, TRUTH)[0] is MET
    over_not = {**over, "of": [LEAF[MET], LEAF[NOT_MET], LEAF[NOT_MET]]}
    assert run(over_not, TRUTH)[0] is NOT_MET


def test_unit_cap_reports_what_fits_tcm02() -> None:
    spec = {"type": "unit_cap", "daily_limit": {"param": "daily"}, "monthly_limit": {"param": "monthly"}}
    ok = {"units_requested": 16, "units_used_today": 0, "units_used_this_month": 0}
    assert run(spec, ok)[0] is MET
    status, reason, evidence = run(spec, {**ok, "units_requested": 17})
    assert status is NOT_MET and value(evidence, "units_fit") == 16 and "daily" in reason
    status, _, evidence = run(spec, {**ok, "units_requested": 4, "units_used_this_month": 23})
    assert status is NOT_MET and value(evidence, "units_fit") == 2
    assert run(spec, {"units_requested": 1, "units_used_today": 0})[0] is UNKNOWN


@pytest.mark.parametrize(
    ("minutes", "floor", "eight"),
    [(0, 0, 0), (7, 0, 0), (8, 0, 1), (14, 0, 1), (15, 1, 1), (22, 1, 1), (23, 1, 2), (30, 2, 2)],
)
def test_units_from_minutes_rounding_tcm01(minutes: int, floor: int, eight: int) -> None:
    assert units_from_minutes(minutes, 15, "whole_units_only") == floor
    assert units_from_minutes(minutes, 15, "eight_minute") == eight


def test_units_from_minutes_condition_tcm01() -> None:
    spec = {
        "type": "units_from_minutes",
        "minutes": "minutes",
        "billed_units": "billed",
        "unit_minutes": {"param": "unit_minutes"},
        "rounding": {"param": "floor"},
    }
    assert run(spec, {"minutes": 30, "billed": 2})[0] is MET
    status, _, evidence = run(spec, {"minutes": 29, "billed": 2})
    assert status is NOT_MET and value(evidence, "units") == 1
    assert run(spec, {"billed": 2})[0] is UNKNOWN


def test_deadline_calendar_days_and_hours() -> None:
    received = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    days = {"type": "deadline", "clock": {"param": "clock_days"}, "anchor": "received", "event": "decided"}
    assert run(days, {"received": received, "decided": datetime(2026, 3, 16, 10, 0, tzinfo=UTC)})[0] is MET
    assert (
        run(days, {"received": received, "decided": datetime(2026, 3, 16, 10, 1, tzinfo=UTC)})[0] is NOT_MET
    )
    hours = {**days, "clock": {"param": "clock_hours"}}
    assert run(hours, {"received": received, "decided": datetime(2026, 3, 5, 10, 0, tzinfo=UTC)})[0] is MET
    assert run(hours, {"received": received, "as_of": datetime(2026, 3, 5, 10, 1, tzinfo=UTC)})[0] is NOT_MET
    assert run(hours, {"received": received, "as_of": datetime(2026, 3, 5, 9, 0, tzinfo=UTC)})[0] is UNKNOWN
    assert run(hours, {})[0] is UNKNOWN


def test_deadline_business_days_skip_the_weekend_tcm07() -> None:
    spec = {"type": "deadline", "clock": {"param": "clock_business"}, "anchor": "missed", "event": "outreach"}
    friday = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
    assert run(spec, {"missed": friday, "outreach": datetime(2026, 3, 10, 20, 0, tzinfo=UTC)})[0] is MET
    assert run(spec, {"missed": friday, "outreach": datetime(2026, 3, 11, 9, 0, tzinfo=UTC)})[0] is NOT_MET


def test_deadline_before_an_anchor_date_iop13() -> None:
    spec = {
        "type": "deadline",
        "clock": {"param": "clock_days"},
        "anchor": "expires",
        "event": "requested",
        "direction": "before",
    }
    expires = date(2026, 4, 30)
    assert run(spec, {"expires": expires, "requested": date(2026, 4, 16)})[0] is MET
    assert run(spec, {"expires": expires, "requested": date(2026, 4, 17)})[0] is NOT_MET


def test_deadline_needs_a_clock_unit() -> None:
    with pytest.raises(PackError) as err:
        build_condition(
            {"type": "deadline", "clock": {"param": "clock_months"}, "anchor": "a", "event": "b"}, "c", CTX
        )
    assert err.value.field == "c.clock.param"


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"type": "eval", "code": "1"}, "rules[0].condition.type"),
        ({"type": "compare", "fact": "x", "op": "~", "to": {"value": 1}}, "rules[0].condition.op"),
        (
            {"type": "compare", "fact": "x", "op": "le", "to": {"param": "nope"}},
            "rules[0].condition.to.param",
        ),
        ({"type": "compare", "fact": "x", "op": "le", "to": "16"}, "rules[0].condition.to"),
        (
            {"type": "between", "fact": "x", "min": {"param": "codes"}, "max": {"param": "high"}},
            "rules[0].condition.min.param",
        ),
        ({"type": "in_code_set", "fact": "x", "set": {"param": "limit"}}, "rules[0].condition.set.param"),
        ({"type": "all", "of": []}, "rules[0].condition.of"),
        ({"type": "all", "of": [{"type": "present"}]}, "rules[0].condition.of[0]"),
        ({"type": "unit_cap"}, "rules[0].condition"),
    ],
)
def test_bad_conditions_name_the_yaml_path(spec: dict[str, Any], field: str) -> None:
    with pytest.raises(PackError) as err:
        build_condition(spec, "rules[0].condition", CTX)
    assert err.value.field == field
    assert err.value.record == "test.rule" and err.value.source == "test.yaml"


def test_the_closed_set() -> None:
    assert set(CONDITION_TYPES) == {
        "compare", "between", "in_code_set", "not_in_code_set", "age_band", "present", "all_true",
        "any_true", "within_days", "count_at_least", "all", "any", "not", "unit_cap",
        "units_from_minutes", "deadline",
    }  # fmt: skip
