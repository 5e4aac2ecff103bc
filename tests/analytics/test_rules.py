"""Pinning fixtures: hand-written claims that pin every catalog rule's windows and thresholds
(as of 2026-06-30, default pack opm-analytics 2026.1)."""

from __future__ import annotations

from pathlib import Path

from bhum.analytics.catalog import Catalog
from tests.analytics.conftest import d, ed, fill, flagged, flags, line, make_source, person, plus, stay


def test_fuh_7_day_7_counts_day_8_does_not_opm_03(tmp_path: Path, catalog: Catalog) -> None:
    """CI-FUH-7 (HEDIS FUH, OPM-03/OPM-09): a visit on day 7 after discharge counts, day 8 does not,
    and a visit on the discharge day itself does not."""
    src = make_source(
        tmp_path,
        [
            stay("A", "2026-05-25", "2026-06-01"),
            line("A", plus("2026-06-01", 7), "90834"),
            stay("B", "2026-05-25", "2026-06-01"),
            line("B", plus("2026-06-01", 8), "90834"),
            stay("C", "2026-05-25", "2026-06-01"),
            line("C", "2026-06-01", "90834"),
        ],
    )
    assert flagged(src, catalog, "CI-FUH-7") == {"B", "C"}
    assert flagged(src, catalog, "CI-FUH-30") == set()  # discharged 29 days ago: not yet measurable
    [b] = [f for f in flags(src, catalog, "CI-FUH-7") if f["member_id"] == "B"]
    assert b["evidence"] == "followup_visits=0 < 1"
    assert b["claim_dates"] == [d("2026-06-01")] and b["implements"] == "OPM-03;OPM-09"


def test_fuh_30_day_30_counts_day_31_does_not(tmp_path: Path, catalog: Catalog) -> None:
    """CI-FUH-30 (HEDIS FUH): follow-up on day 30 counts, day 31 does not."""
    src = make_source(
        tmp_path,
        [
            stay("A", "2026-04-20", "2026-05-01"),
            line("A", plus("2026-05-01", 30), "99213"),
            stay("B", "2026-04-20", "2026-05-01"),
            line("B", plus("2026-05-01", 31), "99213"),
            stay("C", "2026-04-20", "2026-05-01", dx="E11.9"),  # not a mental-health stay
        ],
    )
    assert flagged(src, catalog, "CI-FUH-30") == {"B"}


def test_fum_ed_day_counts_day_31_does_not(tmp_path: Path, catalog: Catalog) -> None:
    """CI-FUM-30 (HEDIS FUM): a follow-up on the ED day or day 30 counts; day 31 does not."""
    src = make_source(
        tmp_path,
        [
            ed("A", "2026-05-01"),
            line("A", "2026-05-01", "90834"),
            ed("B", "2026-05-01"),
            line("B", plus("2026-05-01", 30), "90834"),
            ed("C", "2026-05-01"),
            line("C", plus("2026-05-01", 31), "90834"),
            ed("D", "2026-05-01", dx="F10.20"),  # substance use: FUA, not FUM
        ],
    )
    assert flagged(src, catalog, "CI-FUM-30") == {"C"}
    assert flagged(src, catalog, "CI-FUA-30") == {"D"}


def test_fua_day_30_counts(tmp_path: Path, catalog: Catalog) -> None:
    """CI-FUA-30 (HEDIS FUA): ED visit for alcohol use, follow-up on day 30 counts, day 31 does not."""
    src = make_source(
        tmp_path,
        [
            ed("A", "2026-05-01", dx="F10.20"),
            line("A", plus("2026-05-01", 30), "H0004", dx="F10.20"),
            ed("B", "2026-05-01", dx="F10.20"),
            line("B", plus("2026-05-01", 31), "H0004", dx="F10.20"),
        ],
    )
    assert flagged(src, catalog, "CI-FUA-30") == {"B"}


def test_iet_initiation_day_14_and_negative_history(tmp_path: Path, catalog: Catalog) -> None:
    """CI-IET-INIT (HEDIS IET): treatment on day 14 initiates, day 15 does not; a SUD diagnosis 60
    days earlier means the episode is not new, 61 days earlier it is."""
    src = make_source(
        tmp_path,
        [
            line("A", "2026-05-01", "99213", dx="F10.20"),
            line("A", plus("2026-05-01", 14), "H0004", dx="F10.20"),
            line("B", "2026-05-01", "99213", dx="F10.20"),
            line("B", plus("2026-05-01", 15), "H0004", dx="F10.20"),
            line("C", plus("2026-05-01", -60), "99396", dx="F10.20"),
            line("C", "2026-05-01", "99396", dx="F10.20"),
            line("D", plus("2026-05-01", -61), "99396", dx="F10.20"),
            line("D", "2026-05-01", "99396", dx="F10.20"),
        ],
    )
    got = {f["member_id"]: f for f in flags(src, catalog, "CI-IET-INIT")}
    assert set(got) == {"B", "C", "D"}
    # C's SUD line 60 days later continues the episode: only the first one is a new, untreated episode;
    # D's lines are 61 days apart, so both are new episodes, both untreated.
    assert got["C"]["claim_dates"] == [plus("2026-05-01", -60)]
    assert got["D"]["claim_dates"] == [plus("2026-05-01", -61), d("2026-05-01")]


def test_iet_engagement_needs_two_services_within_34_days(tmp_path: Path, catalog: Catalog) -> None:
    """CI-IET-ENG (HEDIS IET): after initiation on day 5, two services by initiation + 34 engage;
    a second service on day 35 after initiation does not count; MAT fills count."""
    start = "2026-03-01"
    init = plus(start, 5)
    src = make_source(
        tmp_path,
        [
            line("A", start, "99396", dx="F11.20"),
            line("A", init, "H0004"),
            line("A", plus(init.isoformat(), 10), "H0004"),
            line("A", plus(init.isoformat(), 34), "H0005"),
            line("B", start, "99396", dx="F11.20"),
            line("B", init, "H0004"),
            line("B", plus(init.isoformat(), 10), "H0004"),
            line("B", plus(init.isoformat(), 35), "H0005"),
            line("C", start, "99396", dx="F11.20"),
            line("C", init, "H0004"),
        ],
        [
            fill("C", plus(init.isoformat(), 3), "sud_treatment", 30),
            fill("C", plus(init.isoformat(), 33), "sud_treatment", 30),
        ],
    )
    assert flagged(src, catalog, "CI-IET-ENG") == {"B"}
    assert flagged(src, catalog, "CI-IET-INIT") == set()


def test_saa_pdc_exactly_080_is_adherent_and_overlaps_shift(tmp_path: Path, catalog: Catalog) -> None:
    """CI-SAA-PDC (HEDIS SAA): 150 days from the first fill to the as-of date; an early refill is
    shifted forward, so 60 + 60 days supply covers 120 days = 0.80 (not flagged); 60 + 59 = 0.793
    (flagged). Without shifting the overlap, A would be 0.59 and flagged."""
    dx = [line(m, "2026-01-15", "90834", dx="F20.9") for m in ("A", "B", "N")]
    src = make_source(
        tmp_path,
        dx,
        [
            fill("A", "2026-02-01", "antipsychotic", 60),
            fill("A", "2026-03-01", "antipsychotic", 60),
            fill("B", "2026-02-01", "antipsychotic", 60),
            fill("B", "2026-03-01", "antipsychotic", 59),
            fill("N", "2026-02-01", "antipsychotic", 10),
            fill("X", "2026-02-01", "antipsychotic", 10),
            fill("X", "2026-03-01", "antipsychotic", 10),  # X has no schizophrenia diagnosis
        ],
    )
    got = {f["member_id"]: f for f in flags(src, catalog, "CI-SAA-PDC")}
    assert set(got) == {"B"}  # N has a single fill (min_fills 2)
    assert got["B"]["evidence"] == "pdc=0.79 < 0.80"
    assert abs(got["B"]["value"] - 119 / 150) < 1e-12


def test_saa_supply_past_the_as_of_date_is_not_counted(tmp_path: Path, catalog: Catalog) -> None:
    """CI-SAA-PDC: shifted supply beyond the as-of date does not cover measured days."""
    src = make_source(
        tmp_path,
        [line("A", "2026-01-15", "90834", dx="F20.9")],
        [
            fill("A", "2026-02-01", "antipsychotic", 30),
            fill("A", "2026-06-20", "antipsychotic", 90),
        ],
    )
    [f] = flags(src, catalog, "CI-SAA-PDC")
    assert f["value"] == (30 + 11) / 150


def test_apm_child_needs_glucose_and_ldl(tmp_path: Path, catalog: Catalog) -> None:
    """CI-APM (HEDIS APM): ages 1–17 on the as-of date with 2+ antipsychotic fills need both tests."""
    rx = [fill(m, day, "antipsychotic", 30) for m in ("A", "B", "C") for day in ("2026-02-01", "2026-03-01")]
    src = make_source(
        tmp_path,
        [
            line("A", "2026-03-05", "83036"),
            line("A", "2026-03-05", "80061"),
            line("B", "2026-03-05", "83036"),
            line("C", "2026-03-05", "83036"),
        ],
        rx,
        [person("A", "2015-05-05"), person("B", "2008-07-01"), person("C", "2008-06-30")],
    )
    # B turns 18 on 2026-07-01: still 17 on the as-of date; C turned 18 on the as-of date.
    got = {f["member_id"]: f for f in flags(src, catalog, "CI-APM")}
    assert set(got) == {"B"}
    assert got["B"]["evidence"] == "metabolic_test_kinds=1 < 2"


def test_amm_acute_84_of_114_days(tmp_path: Path, catalog: Catalog) -> None:
    """CI-AMM-ACUTE (HEDIS AMM): 84 days of antidepressant in the 114 days from the first fill pass,
    83 are flagged."""
    dx = [line(m, "2025-12-20", "90834", dx="F32.1") for m in ("A", "B")]
    src = make_source(
        tmp_path,
        dx,
        [
            fill("A", "2026-01-01", "antidepressant", 42),
            fill("A", "2026-02-20", "antidepressant", 42),
            fill("B", "2026-01-01", "antidepressant", 42),
            fill("B", "2026-02-20", "antidepressant", 41),
        ],
    )
    got = {f["member_id"]: f for f in flags(src, catalog, "CI-AMM-ACUTE")}
    assert set(got) == {"B"} and got["B"]["value"] == 83


def test_amm_continuation_180_of_231_days(tmp_path: Path, catalog: Catalog) -> None:
    """CI-AMM-CONT (HEDIS AMM): 180 days in the 231 days from the first fill pass, 179 are flagged;
    an episode whose 231 days have not passed is not measured."""
    dx = [line(m, "2025-10-20", "90834", dx="F33.2") for m in ("A", "B", "C")]
    src = make_source(
        tmp_path,
        dx,
        [
            fill("A", "2025-11-01", "antidepressant", 90),
            fill("A", "2026-02-15", "antidepressant", 90),
            fill("B", "2025-11-01", "antidepressant", 90),
            fill("B", "2026-02-15", "antidepressant", 89),
            fill("C", "2026-01-01", "antidepressant", 30),
        ],
    )
    assert flagged(src, catalog, "CI-AMM-CONT") == {"B"}


def test_psychotherapy_40_weekly_sessions_without_step_down(tmp_path: Path, catalog: Catalog) -> None:
    """CI-PSYTX-NO-STEP-DOWN (OPM-03, MN-03): 40 weekly sessions over 274 days, 13 in the last 90
    days, are flagged; 39 are not; 40 with a step-down (none in the last 90 days) are not."""
    weekly = [plus("2026-06-30", -7 * k) for k in range(40)]
    spaced = [plus("2026-03-31", -6 * k) for k in range(40)]
    src = make_source(
        tmp_path,
        [
            *[line("A", day, "90837") for day in weekly],
            *[line("B", day, "90837") for day in weekly[:39]],
            *[line("C", day, "90837") for day in spaced],
        ],
    )
    got = {f["member_id"]: f for f in flags(src, catalog, "CI-PSYTX-NO-STEP-DOWN")}
    assert set(got) == {"A"} and got["A"]["value"] == 40 and len(got["A"]["claim_ids"]) == 40


def test_many_prescribers_and_pharmacies(tmp_path: Path, catalog: Catalog) -> None:
    """CI-RX-PRESCRIBERS / CI-RX-PHARMACIES: 4 distinct in 180 days flag, 3 do not."""
    src = make_source(
        tmp_path,
        [],
        [
            *[fill("A", "2026-05-01", "antidepressant", 30, prescriber=f"10000000{i}") for i in range(4)],
            *[fill("B", "2026-05-01", "anxiolytic", 30, pharmacy=f"19000000{i}") for i in range(4)],
            *[
                fill("C", "2026-05-01", "stimulant", 30, prescriber=f"10000000{i}", pharmacy=f"19{i}")
                for i in range(3)
            ],
            *[
                fill("D", "2026-05-01", "other", 30, prescriber=f"10000000{i}") for i in range(5)
            ],  # not psychotropic
        ],
    )
    assert flagged(src, catalog, "CI-RX-PRESCRIBERS") == {"A"}
    assert flagged(src, catalog, "CI-RX-PHARMACIES") == {"B"}


def test_polypharmacy_three_classes_for_60_days(tmp_path: Path, catalog: Catalog) -> None:
    """CI-RX-POLYPHARMACY: three classes on hand together for 60 days flag, 59 do not; consecutive
    fills of one class merge into one island."""
    src = make_source(
        tmp_path,
        [],
        [
            fill("A", "2026-04-01", "antipsychotic", 30),
            fill("A", "2026-05-01", "antipsychotic", 30),
            fill("A", "2026-04-01", "antidepressant", 60),
            fill("A", "2026-04-01", "anxiolytic", 90),
            fill("B", "2026-04-01", "antipsychotic", 60),
            fill("B", "2026-04-01", "antidepressant", 59),
            fill("B", "2026-04-01", "anxiolytic", 90),
        ],
    )
    got = {f["member_id"]: f for f in flags(src, catalog, "CI-RX-POLYPHARMACY")}
    assert set(got) == {"A"} and got["A"]["value"] == 60


def test_readmissions_within_30_days(tmp_path: Path, catalog: Catalog) -> None:
    """CI-READMIT: admissions 30 days after the previous discharge are readmissions; two flag;
    31 days is not a readmission."""
    src = make_source(
        tmp_path,
        [
            stay("A", "2026-01-01", "2026-01-10"),
            stay("A", "2026-02-09", "2026-02-15"),
            stay("A", "2026-03-17", "2026-03-20"),
            stay("B", "2026-01-01", "2026-01-10"),
            stay("B", "2026-02-09", "2026-02-15"),
            stay("B", "2026-03-18", "2026-03-20"),
        ],
    )
    got = {f["member_id"]: f for f in flags(src, catalog, "CI-READMIT")}
    assert set(got) == {"A"} and got["A"]["value"] == 2


def test_frequent_ed_visits(tmp_path: Path, catalog: Catalog) -> None:
    """CI-ED-FREQUENT: four BH ED visit days in a year flag, three do not (same-day lines count once)."""
    days = ["2026-01-05", "2026-02-05", "2026-03-05", "2026-04-05"]
    src = make_source(
        tmp_path,
        [
            *[ed("A", day) for day in days],
            *[ed("B", day) for day in days[:3]],
            ed("B", days[2]),
            ed("C", days[3], dx="J45.909"),
            *[ed("C", day) for day in days[:3]],
        ],
    )
    assert flagged(src, catalog, "CI-ED-FREQUENT") == {"A"}


def test_step_down_gap_opm_09(tmp_path: Path, catalog: Catalog) -> None:
    """CI-STEP-DOWN-GAP (OPM-09): a lower level of care on day 14 after discharge counts, day 15 does
    not; a readmission at the same level is not a step-down."""
    src = make_source(
        tmp_path,
        [
            stay("A", "2026-04-25", "2026-05-01"),
            line("A", plus("2026-05-01", 14), "S9480"),
            stay("B", "2026-04-25", "2026-05-01"),
            line("B", plus("2026-05-01", 15), "S9480"),
            stay("C", "2026-04-25", "2026-05-01"),
            stay("C", "2026-05-04", "2026-05-20"),
            line("C", "2026-06-01", "90834"),
        ],
    )
    assert flagged(src, catalog, "CI-STEP-DOWN-GAP") == {"B", "C"}


def test_iop_duplicate_service_iop_02(tmp_path: Path, catalog: Catalog) -> None:
    """CI-IOP-DUPLICATE (IOP-02): H2017 on an IOP day duplicates the per diem; the next day does not."""
    src = make_source(
        tmp_path,
        [
            line("A", "2026-06-01", "S9480"),
            line("A", "2026-06-01", "H2017"),
            line("B", "2026-06-01", "S9480"),
            line("B", "2026-06-02", "H2017"),
        ],
    )
    got = {f["member_id"]: f for f in flags(src, catalog, "CI-IOP-DUPLICATE")}
    assert set(got) == {"A"} and len(got["A"]["claim_ids"]) == 1


def test_t1017_daily_16_fine_17_flagged_tcm_02(tmp_path: Path, catalog: Catalog) -> None:
    """CI-T1017-DAILY (TCM-02): 16 units on a day are fine, 17 are flagged."""
    src = make_source(
        tmp_path,
        [
            line("A", "2026-06-01", "T1017", service_unit_quantity=10.0),
            line("A", "2026-06-01", "T1017", service_unit_quantity=6.0),
            line("B", "2026-06-01", "T1017", service_unit_quantity=10.0),
            line("B", "2026-06-01", "T1017", service_unit_quantity=7.0),
        ],
    )
    got = {f["member_id"]: f for f in flags(src, catalog, "CI-T1017-DAILY")}
    assert set(got) == {"B"} and got["B"]["evidence"] == "daily_units=17 > 16"


def test_t1017_monthly_limits_by_variant_tcm_02(tmp_path: Path, catalog: Catalog) -> None:
    """CI-T1017-MONTHLY (TCM-02): HN 25/month, TF 56/month, PACT (no level modifier) 56/month."""

    def month(member: str, units: float, level: str | None) -> list[dict[str, object]]:
        days = ["2026-05-04", "2026-05-11", "2026-05-18"]
        parts = [units // 3, units // 3, units - 2 * (units // 3)]
        return [
            line(member, day, "T1017", hcpcs_modifier_1="HE", hcpcs_modifier_2=level, service_unit_quantity=u)
            for day, u in zip(days, parts, strict=True)
        ]

    src = make_source(
        tmp_path,
        [
            *month("HN25", 25, "HN"),
            *month("HN26", 26, "HN"),
            *month("TF56", 48, "TF"),
            *month("TF57", 57, "TF"),
            *month("PACT56", 45, None),
            *month("PACT57", 57, None),
        ],
    )
    # 16/day also applies: TF56 and PACT56 stay at or under 16 per day by spreading below.
    got = {f["member_id"]: f for f in flags(src, catalog, "CI-T1017-MONTHLY")}
    assert set(got) == {"HN26", "TF57", "PACT57"}
    assert got["HN26"]["threshold"] == 25 and got["TF57"]["threshold"] == 56 and got["PACT57"]["value"] == 57


def test_case_management_in_excluded_setting_tcm_04(tmp_path: Path, catalog: Catalog) -> None:
    """CI-TCM-EXCLUDED-SETTING (TCM-04/TCM-05): T1017 while living in a group home is flagged; at
    home it is not; transition services in the last 14 days of a shorter stay are allowed (day -14
    before the end is not)."""
    src = make_source(
        tmp_path,
        [
            line("A", "2026-03-01", "T1017"),
            line("H", "2026-03-01", "T1017"),
            line("T", "2026-04-17", "T1017", activity_code="transition_from_institution"),
            line("U", "2026-04-16", "T1017", activity_code="transition_from_institution"),
        ],
        residence=[
            {"member_id": "A", "setting": "group_home", "start_date": d("2026-01-01")},
            {"member_id": "H", "setting": "home", "start_date": d("2026-01-01")},
            {
                "member_id": "T",
                "setting": "nursing_facility",
                "start_date": d("2026-01-01"),
                "end_date": d("2026-04-30"),
            },
            {
                "member_id": "U",
                "setting": "nursing_facility",
                "start_date": d("2026-01-01"),
                "end_date": d("2026-04-30"),
            },
        ],
    )
    assert flagged(src, catalog, "CI-TCM-EXCLUDED-SETTING") == {"A", "U"}


def test_claims_after_the_as_of_date_are_ignored(tmp_path: Path, catalog: Catalog) -> None:
    """A run as of a date sees the same data whenever it runs: later claims do not count."""
    src = make_source(
        tmp_path,
        [
            stay("A", "2026-05-25", "2026-06-01"),
            line("A", "2026-07-05", "90834"),
        ],
    )
    assert flagged(src, catalog, "CI-FUH-7", as_of=d("2026-06-30")) == {"A"}


def test_parameters_come_from_the_pack(tmp_path: Path, catalog: Catalog) -> None:
    """Windows are pack parameters: FUH with followup_days 8 accepts the day-8 visit."""
    src = make_source(
        tmp_path, [stay("B", "2026-05-25", "2026-06-01"), line("B", plus("2026-06-01", 8), "90834")]
    )
    assert flagged(src, catalog, "CI-FUH-7") == {"B"}
    assert flagged(src, catalog.with_values("CI-FUH-7", followup_days=8), "CI-FUH-7") == set()
