"""Claim checks at the boundaries of each rule (issue 5). Each test names the rule it pins."""

from __future__ import annotations

from datetime import date
from typing import Any

from bhum.domain.claim_edits import ClaimCheckParameters, Rounding, units_from_minutes
from tests.claims.conftest import IOP_NPI, OPBH_NPI, claim_line, decide, iop_auth, reference


def _iop(n: int, minutes: int, day: date = date(2026, 3, 10), **values: Any) -> dict[str, Any]:
    return claim_line(
        n,
        hcpcs_code="S9480",
        hcpcs_modifier_1=None,
        hcpcs_modifier_2=None,
        billing_npi=IOP_NPI,
        face_to_face_minutes=minutes,
        claim_line_start_date=day,
        claim_line_end_date=day,
        activity_code=None,
        **values,
    )


# -- TCM-01 units from minutes ------------------------------------------------------------------


def test_tcm01_rounding_rule_whole_units_only() -> None:
    assert units_from_minutes(29, 15, Rounding.WHOLE_UNITS_ONLY) == 1
    assert units_from_minutes(30, 15, Rounding.WHOLE_UNITS_ONLY) == 2
    assert units_from_minutes(14, 15, Rounding.WHOLE_UNITS_ONLY) == 0
    assert units_from_minutes(22, 15, Rounding.EIGHT_MINUTE) == 1
    assert units_from_minutes(23, 15, Rounding.EIGHT_MINUTE) == 2


def test_tcm01_minutes_support_fewer_units_than_billed(params: ClaimCheckParameters) -> None:
    [row] = decide(params, reference(), claim_line(1, service_unit_quantity=2.0, face_to_face_minutes=29))
    assert (row["paid_units"], row["denied_units"], row["carc"], row["rule_id"]) == (1, 1, "151", "TCM-01")
    assert "29 face-to-face minutes" in row["reason"]


def test_tcm01_travel_minutes_are_not_billable(params: ClaimCheckParameters) -> None:
    line = claim_line(
        1, service_unit_quantity=4.0, no_minutes=True, face_to_face_minutes=None,
        service_start_time="09:00", service_stop_time="10:00", travel_minutes=20,
    )  # fmt: skip
    [row] = decide(params, reference(), line)
    assert row["paid_units"] == 2  # 60 minutes elapsed - 20 travel = 40 minutes = 2 units
    assert "travel minutes" in row["reason"]


# -- TCM-02 daily and monthly caps ----------------------------------------------------------------


def test_tcm02_15_16_17_units_a_day(params: ClaimCheckParameters) -> None:
    rows = decide(
        params,
        reference(),
        claim_line(1, service_unit_quantity=15.0),
        claim_line(2, service_unit_quantity=1.0),  # the 16th unit: paid
        claim_line(3, service_unit_quantity=1.0),  # the 17th: denied
    )
    assert [r["paid_units"] for r in rows] == [15, 1, 0]
    assert rows[2]["carc"] == "119" and rows[2]["rarc"] == "N362" and rows[2]["rule_id"] == "TCM-02"
    assert "daily limit of 16" in rows[2]["reason"]


def test_tcm02_daily_cap_pays_up_to_the_cap_in_claim_order(params: ClaimCheckParameters) -> None:
    rows = decide(
        params,
        reference(),
        claim_line(1, service_unit_quantity=10.0),
        claim_line(2, service_unit_quantity=8.0),
    )
    assert [(r["paid_units"], r["denied_units"], r["status"]) for r in rows] == [
        (10, 0, "paid"),
        (6, 2, "partial"),
    ]


def test_tcm02_history_counts_toward_the_day(params: ClaimCheckParameters) -> None:
    history = [{"member_id": "M1", "service_date": date(2026, 3, 10), "hcpcs_code": "T1017",
                "level_modifier": "TF", "paid_units": 16.0}]  # fmt: skip
    [row] = decide(params, reference(history=history), claim_line(1, service_unit_quantity=1.0))
    assert row["paid_units"] == 0 and row["carc"] == "119"


def test_tcm02_last_unit_of_the_monthly_cap(params: ClaimCheckParameters) -> None:
    # HN: 25 a month (contract 110, CM II). 24 paid earlier in March; the 25th fits, the 26th does not.
    history = [{"member_id": "M1", "service_date": date(2026, 3, 2), "hcpcs_code": "T1017",
                "level_modifier": "HN", "paid_units": 24.0}]  # fmt: skip
    hn = {"hcpcs_modifier_2": "HN", "billing_npi": OPBH_NPI}
    rows = decide(
        params,
        reference(history=history),
        claim_line(1, service_unit_quantity=1.0, **hn),
        claim_line(2, service_unit_quantity=1.0, claim_line_start_date=date(2026, 3, 11),
                   claim_line_end_date=date(2026, 3, 11), **hn),
    )  # fmt: skip
    assert [r["paid_units"] for r in rows] == [1, 0]
    assert "monthly limit of 25" in rows[1]["reason"]


def test_tcm02_monthly_cap_resets_next_month(params: ClaimCheckParameters) -> None:
    history = [{"member_id": "M1", "service_date": date(2026, 3, 2), "hcpcs_code": "T1017",
                "level_modifier": "TF", "paid_units": 56.0}]  # fmt: skip
    april = {"claim_line_start_date": date(2026, 4, 1), "claim_line_end_date": date(2026, 4, 1)}
    rows = decide(params, reference(history=history), claim_line(1), claim_line(2, **april))
    assert [r["paid_units"] for r in rows] == [0, 1]


def test_tcm02_variant_ages_20_and_21(params: ClaimCheckParameters) -> None:
    # TF serves 0-20: the day before the 21st birthday is paid, the birthday is not.
    ref = reference(birth_date=date(2005, 3, 10))
    rows = decide(
        params, ref,
        claim_line(1, claim_line_start_date=date(2026, 3, 9), claim_line_end_date=date(2026, 3, 9)),
        claim_line(2, claim_line_start_date=date(2026, 3, 10), claim_line_end_date=date(2026, 3, 10)),
    )  # fmt: skip
    assert [r["paid_units"] for r in rows] == [1, 0]
    assert rows[1]["rule_id"] == "TCM-02" and "the member was 21" in rows[1]["reason"]


def test_tcm02_variant_ages_17_and_18(params: ClaimCheckParameters) -> None:
    ref = reference(birth_date=date(2008, 3, 10))
    tg = {"hcpcs_modifier_2": "TG"}
    rows = decide(
        params, ref,
        claim_line(1, claim_line_start_date=date(2026, 3, 9), claim_line_end_date=date(2026, 3, 9), **tg),
        claim_line(2, claim_line_start_date=date(2026, 3, 10), claim_line_end_date=date(2026, 3, 10), **tg),
    )  # fmt: skip
    assert [r["paid_units"] for r in rows] == [0, 1]


def test_tcm02_contract_type_of_the_variant(params: ClaimCheckParameters) -> None:
    [row] = decide(params, reference(), claim_line(1, billing_npi=OPBH_NPI))  # TF needs 111, not 110
    assert (row["paid_units"], row["carc"], row["rarc"]) == (0, "B7", "N95")


def test_tcm02_staff_credential_matches_level(params: ClaimCheckParameters) -> None:
    rows = decide(
        params, reference(),
        claim_line(1, rendering_staff_id="S1"),  # CM I on a TF (CM II) line
        claim_line(2, hcpcs_modifier_2="HM", billing_npi=OPBH_NPI, rendering_staff_id="S1",
                   claim_line_start_date=date(2026, 3, 11), claim_line_end_date=date(2026, 3, 11)),
    )  # fmt: skip
    assert (rows[0]["paid_units"], rows[0]["carc"]) == (0, "185")
    assert rows[1]["paid_units"] == 1


# -- TCM-04 ---------------------------------------------------------------------------------------


def test_tcm04_residence_first_and_last_day(params: ClaimCheckParameters) -> None:
    ref = reference(
        residence=[
            ("home", date(2020, 1, 1), date(2026, 3, 9)),
            ("group_home", date(2026, 3, 10), date(2026, 3, 20)),
            ("home", date(2026, 3, 21), None),
        ]
    )
    days = [date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 20), date(2026, 3, 21)]
    rows = decide(
        params,
        ref,
        *(claim_line(i, claim_line_start_date=d, claim_line_end_date=d) for i, d in enumerate(days)),
    )
    assert [r["paid_units"] for r in rows] == [1, 0, 0, 1]
    assert rows[1]["carc"] == "204" and rows[1]["rule_id"] == "TCM-04"


def test_tcm04_non_reimbursable_activity(params: ClaimCheckParameters) -> None:
    [row] = decide(params, reference(), claim_line(1, activity_code="transport_escort"))
    assert (row["paid_units"], row["carc"], row["rarc"]) == (0, "96", "N130")


# -- IOP ------------------------------------------------------------------------------------------


def test_iop04_2h59_versus_3h00_adult(params: ClaimCheckParameters) -> None:
    ref = reference(birth_date=date(1990, 1, 1), authorizations=[iop_auth()])
    rows = decide(params, ref, _iop(1, 179), _iop(2, 180, date(2026, 3, 11)))
    assert [r["paid_units"] for r in rows] == [0, 1]
    assert rows[0]["rule_id"] == "IOP-04" and "2h59" in rows[0]["reason"]


def test_iop04_adolescent_needs_2_hours(params: ClaimCheckParameters) -> None:
    ref = reference(birth_date=date(2011, 1, 1), authorizations=[iop_auth()])
    rows = decide(params, ref, _iop(1, 119), _iop(2, 120, date(2026, 3, 11)))
    assert [r["paid_units"] for r in rows] == [0, 1]


def test_iop03_ages_12_and_13(params: ClaimCheckParameters) -> None:
    ref = reference(birth_date=date(2013, 3, 10), authorizations=[iop_auth()])
    rows = decide(params, ref, _iop(1, 180, date(2026, 3, 9)), _iop(2, 180, date(2026, 3, 10)))
    assert [r["paid_units"] for r in rows] == [0, 1]
    assert rows[0]["rule_id"] == "IOP-03"


def test_iop04_ages_17_and_18_switch_the_minimum(params: ClaimCheckParameters) -> None:
    # 2.5 hours: enough for a 17-year-old adolescent, not for an 18-year-old adult.
    ref = reference(birth_date=date(2008, 3, 10), authorizations=[iop_auth()])
    rows = decide(params, ref, _iop(1, 150, date(2026, 3, 9)), _iop(2, 150, date(2026, 3, 10)))
    assert [r["paid_units"] for r in rows] == [1, 0]


def test_iop04_weeks_under_3_days_are_flagged_not_denied(params: ClaimCheckParameters) -> None:
    ref = reference(birth_date=date(1990, 1, 1), authorizations=[iop_auth()])
    rows = decide(params, ref, _iop(1, 180, date(2026, 3, 9)), _iop(2, 180, date(2026, 3, 10)))
    assert all(r["paid_units"] == 1 for r in rows)
    assert rows[0]["flags"][0]["rule_id"] == "IOP-04"
    three = decide(params, ref, *(_iop(i, 180, date(2026, 3, 9 + i)) for i in range(3)))
    assert all(r["flags"] == [] for r in three)


def test_iop02_other_services_on_an_iop_day_are_bundled(params: ClaimCheckParameters) -> None:
    ref = reference(birth_date=date(1990, 1, 1), authorizations=[iop_auth()])
    bundled = claim_line(
        2, hcpcs_code="H2017", hcpcs_modifier_1=None, hcpcs_modifier_2=None, billing_npi=IOP_NPI
    )
    rows = decide(params, ref, _iop(1, 180), bundled)
    assert rows[0]["paid_units"] == 1
    assert (rows[1]["paid_units"], rows[1]["carc"], rows[1]["rarc"], rows[1]["rule_id"]) == (
        0, "96", "N54", "IOP-02",
    )  # fmt: skip


# -- authorizations (OPM-01, OPM-07, MN-04) -------------------------------------------------------


def test_opm01_authorization_absent(params: ClaimCheckParameters) -> None:
    [row] = decide(params, reference(birth_date=date(1990, 1, 1)), _iop(1, 180))
    assert (row["paid_units"], row["carc"], row["rarc"], row["rule_id"]) == (0, "197", "M62", "OPM-01")


def test_authorization_first_and_last_day_of_the_span(params: ClaimCheckParameters) -> None:
    ref = reference(birth_date=date(1990, 1, 1), authorizations=[iop_auth()])
    days = [date(2026, 2, 28), date(2026, 3, 1), date(2026, 3, 30), date(2026, 3, 31)]
    rows = decide(params, ref, *(_iop(i, 180, d) for i, d in enumerate(days)))
    assert [r["paid_units"] for r in rows] == [0, 1, 1, 0]
    assert rows[0]["carc"] == "15" and rows[3]["carc"] == "15"
    assert "spans 2026-03-01 to 2026-03-30" in rows[3]["reason"]


def test_authorization_for_another_provider(params: ClaimCheckParameters) -> None:
    ref = reference(birth_date=date(1990, 1, 1), authorizations=[iop_auth(provider_npi=OPBH_NPI)])
    [row] = decide(params, ref, _iop(1, 180))
    assert (row["carc"], row["rarc"]) == ("15", "N54") and OPBH_NPI in row["reason"]


def test_mn04_units_beyond_remaining_pay_up_to_the_remainder(params: ClaimCheckParameters) -> None:
    ref = reference(
        birth_date=date(1990, 1, 1), authorizations=[iop_auth(units_authorized=12, units_used=11)]
    )
    rows = decide(params, ref, _iop(1, 180), _iop(2, 180, date(2026, 3, 11)))
    assert [r["paid_units"] for r in rows] == [1, 0]
    assert (rows[1]["carc"], rows[1]["rarc"], rows[1]["rule_id"]) == ("198", "N362", "MN-04")


def test_opm07_discontinued_authorization(params: ClaimCheckParameters) -> None:
    auth = iop_auth(status="discontinued", status_since=date(2026, 3, 15))
    ref = reference(birth_date=date(1990, 1, 1), authorizations=[auth])
    rows = decide(params, ref, _iop(1, 180, date(2026, 3, 14)), _iop(2, 180, date(2026, 3, 15)))
    assert [r["paid_units"] for r in rows] == [1, 0]
    assert rows[1]["rule_id"] == "OPM-07" and rows[1]["carc"] == "197"


# -- coverage and duplicates ----------------------------------------------------------------------


def test_exact_duplicate_is_denied_once(params: ClaimCheckParameters) -> None:
    rows = decide(
        params, reference(), claim_line(1), claim_line(2, claim_id="C0001", service_start_time="01:00")
    )
    assert [r["paid_units"] for r in rows] == [1, 0]
    assert rows[1]["carc"] == "18" and "C0001 line 1" in rows[1]["reason"]


def test_coverage_last_day(params: ClaimCheckParameters) -> None:
    ref = reference(coverage_end=date(2026, 3, 10))
    rows = decide(params, ref, claim_line(1), claim_line(2, claim_line_start_date=date(2026, 3, 11),
                                                          claim_line_end_date=date(2026, 3, 11)))  # fmt: skip
    assert [r["paid_units"] for r in rows] == [1, 0]
    assert rows[1]["carc"] == "204" and rows[1]["rule_id"] == "OPM-08"


def test_opm07_discontinuation_denies_routine_outpatient_lines_too(params: ClaimCheckParameters) -> None:
    """OPM-07: after the outreach authorization for routine psychotherapy is discontinued, later
    claims for that service from that provider are denied; earlier ones and other services still pay."""
    auth = iop_auth(
        code_system="http://www.ama-assn.org/go/cpt",
        code="90837",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 12, 31),
        status="discontinued",
        status_since=date(2026, 3, 15),
    )
    ref = reference(birth_date=date(1990, 1, 1), authorizations=[auth])

    def psychotherapy(n: int, code: str, day: date) -> dict[str, object]:
        return claim_line(
            n, hcpcs_code=code, hcpcs_modifier_1=None, hcpcs_modifier_2=None, activity_code=None,
            claim_line_start_date=day, claim_line_end_date=day, billing_npi=IOP_NPI,
        )  # fmt: skip

    before = psychotherapy(1, "90837", date(2026, 3, 14))
    after = psychotherapy(2, "90837", date(2026, 3, 15))
    other = psychotherapy(3, "90834", date(2026, 3, 16))
    rows = decide(params, ref, before, after, other)
    assert [r["paid_units"] > 0 for r in rows] == [True, False, True]
    assert (rows[1]["rule_id"], rows[1]["carc"]) == ("OPM-07", "197")
    assert "discontinued" in rows[1]["reason"]
