"""Every pattern the later issues must find appears in a 2,000-member population (one test per pattern,
each citing the rule or measure it feeds). Thresholds are checked from the files alone, the way the
analytics will see them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from bhum.adapters.reference import load_code_list
from bhum.adapters.synth import generate_population, validate_population
from bhum.adapters.synth import names as synth_names

MEMBERS = 2000
YEAR = 2026
DX_COLS = [f"diagnosis_code_{i}" for i in range(1, 13)]
ICD = load_code_list("icd10cm-bh")
HCPCS = load_code_list("hcpcs-bh")
PSYCHOTHERAPY = HCPCS.codes("psychotherapy")
IOP = HCPCS.codes("iop_per_diem")
PSYCHOTROPIC = {
    "antipsychotic",
    "antidepressant",
    "mood_stabilizer",
    "anxiolytic",
    "stimulant",
    "sud_treatment",
}
BH_DX = ICD.codes("depression", "anxiety", "bipolar", "schizophrenia", "sud", "adhd", "trauma_stressor")
SUD_DX = ICD.codes("sud")
OUTPATIENT_BH = (
    PSYCHOTHERAPY | {"90791", "90792", "99213", "99214", "H0004", "H0005", "H0001"} | IOP | {"H0035"}
)


@dataclass
class Pop:
    med: pd.DataFrame
    rx: pd.DataFrame
    elig: pd.DataFrame
    res: pd.DataFrame
    staff: pd.DataFrame
    orgs: pd.DataFrame
    providers: pd.DataFrame
    plans: pd.DataFrame
    notices: pd.DataFrame
    directory: Path

    def birth(self) -> pd.Series:
        return self.elig.drop_duplicates("member_id").set_index("member_id")["birth_date"]


def _read(directory: Path, name: str) -> pd.DataFrame:
    return pq.read_table(directory / f"{name}.parquet").to_pandas(date_as_object=False)


@pytest.fixture(scope="module")
def pop(tmp_path_factory: pytest.TempPathFactory) -> Pop:
    out = tmp_path_factory.mktemp("synth2000")
    generate_population(out, members=MEMBERS, seed=20260101, year=YEAR)
    names = (
        "medical_claim",
        "pharmacy_claim",
        "eligibility",
        "member_residence",
        "staff",
        "organizations",
        "providers",
        "plans",
        "testing_preauth_notices",
    )
    return Pop(*(_read(out, n) for n in names), directory=out)


def _age(pop: Pop, frame: pd.DataFrame, date_col: str) -> pd.Series:
    birth = frame["member_id"].map(pop.birth())
    return (frame[date_col] - birth).dt.days // 365.25


def _first_after(events: pd.DataFrame, anchors: pd.DataFrame, anchor_col: str) -> pd.Series:
    """Days from each anchor to the member's first event strictly after it (NaN when none)."""
    merged = anchors[["member_id", anchor_col]].reset_index().merge(events, on="member_id", how="left")
    gap = (merged["claim_start_date"] - merged[anchor_col]).dt.days
    merged["gap"] = gap.where(gap > 0)
    return merged.groupby("index")["gap"].min()


def test_population_files_are_valid(pop: Pop) -> None:
    assert validate_population(pop.directory) == []
    assert pop.elig["member_id"].nunique() == MEMBERS


# ---------------------------------------------------------------- prevalence and co-occurrence


def _members_with(pop: Pop, codes: set[str] | frozenset[str]) -> set[str]:
    long = pop.med.melt(id_vars=["member_id"], value_vars=DX_COLS).dropna()
    return set(long.loc[long["value"].isin(codes), "member_id"])


@pytest.mark.parametrize(
    ("group", "low", "high"),
    [
        ("depression", 0.055, 0.11),
        ("anxiety", 0.07, 0.135),
        ("bipolar", 0.006, 0.03),
        ("schizophrenia", 0.001, 0.012),
        ("sud", 0.035, 0.09),
        ("adhd", 0.03, 0.08),
    ],
)
def test_realistic_prevalence(pop: Pop, group: str, low: float, high: float) -> None:
    share = len(_members_with(pop, ICD.codes(group))) / MEMBERS
    assert low <= share <= high, share


def test_conditions_co_occur(pop: Pop) -> None:
    dep, anx = _members_with(pop, ICD.codes("depression")), _members_with(pop, ICD.codes("anxiety"))
    both = len(dep & anx) / MEMBERS
    assert both > 1.5 * (len(dep) / MEMBERS) * (len(anx) / MEMBERS)


# ---------------------------------------------------------------- routine outpatient (OPM-03)


def test_opm03_weekly_psychotherapy_beyond_six_months_without_step_down(pop: Pop) -> None:
    therapy = pop.med[pop.med["hcpcs_code"].isin(PSYCHOTHERAPY)].sort_values(
        ["member_id", "claim_start_date"]
    )
    stats = therapy.groupby("member_id")["claim_start_date"].agg(
        sessions="count", span=lambda d: (d.max() - d.min()).days, gap=lambda d: d.diff().dt.days.median()
    )
    long_weekly = stats[(stats["sessions"] >= 26) & (stats["span"] > 183) & (stats["gap"] <= 8)]
    assert len(long_weekly) >= 3
    assert (stats["sessions"] < 12).sum() > 20  # and plenty of short courses


# ---------------------------------------------------------------- IOP (IOP-02, IOP-03, IOP-04, IOP-07)


@pytest.fixture(scope="module")
def iop(pop: Pop) -> pd.DataFrame:
    days = pop.med[pop.med["hcpcs_code"].isin(IOP)].copy()
    days["age"] = _age(pop, days, "claim_start_date")
    return days


def test_iop03_adults_adolescents_and_out_of_band_ages(iop: pd.DataFrame) -> None:
    assert (iop["age"] >= 18).any()
    assert iop["age"].between(13, 17).any()
    assert (iop["age"] < 13).any()  # e.g. a 12-year-old: outside IOP-03


def test_iop04_per_diem_days_with_times_and_short_days(iop: pd.DataFrame) -> None:
    assert set(iop["hcpcs_code"]) == {"S9480", "H0015"}
    start = pd.to_timedelta(iop["service_start_time"] + ":00")
    stop = pd.to_timedelta(iop["service_stop_time"] + ":00")
    assert ((stop - start).dt.total_seconds() // 60 == iop["face_to_face_minutes"]).all()
    adults, teens = iop[iop["age"] >= 18], iop[iop["age"].between(13, 17)]
    assert (adults["face_to_face_minutes"] < 180).any() and (adults["face_to_face_minutes"] >= 180).any()
    assert (teens["face_to_face_minutes"] < 120).any() and (teens["face_to_face_minutes"] >= 120).any()
    assert {"0905", "0906"} <= set(iop["revenue_center_code"].dropna())  # institutional IOP too


def test_iop04_weeks_with_fewer_than_three_days(iop: pd.DataFrame) -> None:
    week = iop["claim_start_date"].dt.isocalendar().week
    per_week = iop.groupby([iop["member_id"], week]).size()
    assert (per_week < 3).any() and (per_week >= 3).any()


def test_iop02_other_bh_services_on_iop_days(pop: Pop, iop: pd.DataFrame) -> None:
    others = pop.med[pop.med["hcpcs_code"].isin({"H2017", "T1017"} | PSYCHOTHERAPY)]
    same_day = iop[["member_id", "claim_start_date"]].merge(others, on=["member_id", "claim_start_date"])
    assert {"H2017", "T1017"} <= set(same_day["hcpcs_code"])


def test_iop07_facilitator_credentials_sometimes_do_not_qualify(pop: Pop, iop: pd.DataFrame) -> None:
    creds = iop["rendering_staff_id"].map(pop.staff.set_index("staff_id")["credentials"])
    assert creds.str.contains("peer_support_specialist").any()
    assert creds.str.contains("licensed_masters_clinician").any() and creds.str.contains("cadc").any()


# ------------------------------------------------------------ inpatient, follow-up, readmission, step-down


@pytest.fixture(scope="module")
def stays(pop: Pop) -> pd.DataFrame:
    rooms = pop.med[pop.med["revenue_center_code"].isin({"0114", "0124", "0204"})]
    return rooms[["member_id", "admission_date", "discharge_date"]].drop_duplicates().reset_index(drop=True)


def test_fuh_inpatient_stays_with_and_without_follow_up(pop: Pop, stays: pd.DataFrame) -> None:
    visits = pop.med[pop.med["hcpcs_code"].isin(OUTPATIENT_BH) & pop.med["diagnosis_code_1"].isin(BH_DX)]
    visits = visits[visits["place_of_service_code"].fillna("") != "51"][["member_id", "claim_start_date"]]
    gap = _first_after(visits, stays, "discharge_date")
    in_year = stays["discharge_date"] < pd.Timestamp(f"{YEAR}-12-01")
    assert (gap <= 7).any()
    assert gap.between(8, 30).any()
    assert (in_year & ~(gap <= 30)).any()


def test_repeated_readmissions_within_30_days(stays: pd.DataFrame) -> None:
    ordered = stays.sort_values(["member_id", "admission_date"])
    gap = (ordered["admission_date"] - ordered.groupby("member_id")["discharge_date"].shift()).dt.days
    assert (gap <= 30).sum() >= 2
    assert (ordered.groupby("member_id").size() >= 3).any()


def test_opm09_step_down_after_inpatient_or_residential_with_and_without(
    pop: Pop, stays: pd.DataFrame
) -> None:
    residential = pop.med[pop.med["hcpcs_code"].isin(HCPCS.codes("residential"))]
    assert not residential.empty
    discharges = pd.concat(
        [stays[["member_id", "discharge_date"]], residential[["member_id", "discharge_date"]]]
    ).reset_index(drop=True)
    lower = pop.med[pop.med["hcpcs_code"].isin(IOP | {"H0035"})][["member_id", "claim_start_date"]]
    gap = _first_after(lower, discharges, "discharge_date")
    assert (gap <= 30).any()
    early = discharges["discharge_date"] < pd.Timestamp(f"{YEAR}-11-01")
    assert (early & ~(gap <= 30)).any()
    assert not pop.med[pop.med["hcpcs_code"] == "H0035"].empty  # partial hospitalization


# ---------------------------------------------------------------- ED for MH/SUD (FUM, FUA)


def test_fum_fua_ed_visits_with_and_without_follow_up_and_frequent_users(pop: Pop) -> None:
    ed = pop.med[(pop.med["revenue_center_code"] == "0450") & pop.med["diagnosis_code_1"].isin(BH_DX)]
    ed = (
        ed[["member_id", "claim_start_date"]]
        .rename(columns={"claim_start_date": "ed_date"})
        .reset_index(drop=True)
    )
    visits = pop.med[pop.med["hcpcs_code"].isin(OUTPATIENT_BH) & pop.med["diagnosis_code_1"].isin(BH_DX)]
    gap = _first_after(visits[["member_id", "claim_start_date"]], ed, "ed_date")
    assert (gap <= 7).any() and (~(gap <= 30)).any()
    assert ed["member_id"].isin(_members_with(pop, SUD_DX)).any()
    assert (ed.groupby("member_id").size() >= 4).any()  # repeated ED visits


# ---------------------------------------------------------------- SUD initiation and engagement (IET)


def test_iet_initiation_within_14_days_engagement_and_neither(pop: Pop) -> None:
    sud = pop.med[pop.med["diagnosis_code_1"].isin(SUD_DX) & (pop.med["claim_line_number"] == 1)]
    sud = (
        sud[["member_id", "claim_start_date"]]
        .drop_duplicates()
        .sort_values(["member_id", "claim_start_date"])
    )
    index = sud.groupby("member_id")["claim_start_date"].min()
    index = index[index <= pd.Timestamp(f"{YEAR}-10-15")]
    after = sud.merge(index.rename("index_date"), left_on="member_id", right_index=True)
    after["day"] = (after["claim_start_date"] - after["index_date"]).dt.days
    init = after[after["day"].between(1, 14)].groupby("member_id")["day"].min()
    engaged = after.merge(init.rename("init_day"), left_on="member_id", right_index=True)
    engaged = engaged[(engaged["day"] > engaged["init_day"]) & (engaged["day"] <= engaged["init_day"] + 34)]
    n_engaged = (engaged.groupby("member_id").size() >= 2).sum()
    assert n_engaged >= 1
    assert len(init) - n_engaged >= 1  # initiated, not engaged
    assert len(index) - len(init) >= 1  # never initiated


# ---------------------------------------------------------------- T1017 targeted case management (TCM-01..05)


@pytest.fixture(scope="module")
def tcm(pop: Pop) -> pd.DataFrame:
    t = pop.med[pop.med["hcpcs_code"] == "T1017"].copy()
    t["variant"] = t["hcpcs_modifier_2"].fillna("PACT")
    contract = pop.orgs.set_index("npi")["contract_type"]
    t["contract"] = t["billing_npi"].map(contract)
    t["credentials"] = t["rendering_staff_id"].map(pop.staff.set_index("staff_id")["credentials"])
    return t


def test_tcm02_all_five_variants_and_program_modifiers(tcm: pd.DataFrame) -> None:
    assert {"TF", "TG", "HN", "HM", "PACT"} <= set(tcm["variant"])
    assert {"HE", "HF", "HV"} <= set(tcm["hcpcs_modifier_1"])
    billed = tcm.drop_duplicates(["member_id", "variant"])
    assert set(billed.loc[billed["variant"] == "PACT", "contract"]) == {"114"}
    assert set(billed.loc[billed["variant"].isin({"TF", "TG"}), "contract"]) <= {"111"}
    assert set(billed.loc[billed["variant"] == "HN", "contract"]) <= {"110"}


def test_tcm01_units_are_quarter_hours_of_face_to_face_time(tcm: pd.DataFrame) -> None:
    expected = np.maximum(1, (tcm["face_to_face_minutes"] + 7) // 15)
    assert (tcm["service_unit_quantity"] == expected).all()
    start = pd.to_timedelta(tcm["service_start_time"] + ":00").dt.total_seconds() // 60
    stop = pd.to_timedelta(tcm["service_stop_time"] + ":00").dt.total_seconds() // 60
    assert (stop - start == tcm["face_to_face_minutes"]).mean() > 0.95
    assert (tcm["travel_minutes"] > 0).any() and (tcm["travel_minutes"] == 0).any()  # travel is not billable


def test_tcm02_days_over_16_units_and_months_over_the_cap(tcm: pd.DataFrame) -> None:
    per_day = tcm.groupby(["member_id", "claim_start_date"])["service_unit_quantity"].sum()
    assert (per_day > 16).any() and (per_day <= 16).mean() > 0.9
    month = tcm["claim_start_date"].dt.month
    per_month = tcm.groupby(["member_id", tcm["variant"], month])["service_unit_quantity"].sum().reset_index()
    cap = np.where(per_month["variant"].isin({"TF", "PACT"}), 56, 25)
    over = per_month[per_month["service_unit_quantity"] > cap]
    assert set(over["variant"]) & {"TF", "PACT"} and set(over["variant"]) & {"TG", "HN", "HM"}
    assert (per_month["service_unit_quantity"] <= cap).mean() > 0.6


def test_tcm03_tcm04_reimbursable_and_non_reimbursable_activities(tcm: pd.DataFrame) -> None:
    activities = load_code_list("tcm-activities")
    seen = set(tcm["activity_code"])
    assert seen <= activities.codes()
    assert len(seen & activities.codes("not_reimbursable")) >= 3
    assert len(seen & activities.codes("reimbursable")) >= 5


def test_tcm04_case_management_for_residents_of_excluded_settings(pop: Pop, tcm: pd.DataFrame) -> None:
    excluded = load_code_list("residence-settings").codes("excluded_from_case_management")
    spans = pop.res[pop.res["setting"].isin(excluded)]
    joined = tcm[["member_id", "claim_start_date"]].merge(spans, on="member_id")
    inside = (joined["claim_start_date"] >= joined["start_date"]) & (
        joined["end_date"].isna() | (joined["claim_start_date"] <= joined["end_date"])
    )
    assert inside.any()


def test_tcm05_transition_from_institution_in_the_last_days_of_a_stay(pop: Pop, tcm: pd.DataFrame) -> None:
    stays = pop.res[pop.res["setting"].isin({"imd", "inpatient_psychiatric", "public_institution"})]
    assert not stays.empty
    moves = tcm[tcm["activity_code"] == "transition_from_institution"][["member_id", "claim_start_date"]]
    joined = moves.merge(stays, on="member_id")
    before_end = (joined["end_date"] - joined["claim_start_date"]).dt.days
    assert before_end.between(0, 59).any()
    long_stays = (stays["end_date"] - stays["start_date"]).dt.days >= 180
    assert long_stays.any() and (~long_stays).any()


def test_tcm11_rendering_staff_credentials_sometimes_mismatch_the_level(tcm: pd.DataFrame) -> None:
    cm_i_only = tcm["credentials"].str.contains("cm_i") & ~tcm["credentials"].str.contains("cm_ii")
    assert (cm_i_only & tcm["variant"].isin({"HN", "TF", "TG"})).any()  # CM I billing a CM II level
    assert (~cm_i_only & tcm["variant"].isin({"HN", "TF", "TG"})).any()


# ---------------------------------------------------------------- ECT, rTMS, testing (OPM-01)


def test_opm01_ect_rtms_and_psychological_testing_with_notices(pop: Pop) -> None:
    codes = set(pop.med["hcpcs_code"].dropna())
    assert "90870" in codes and {"90867", "90868"} <= codes
    assert {"96130", "96131", "96136", "96137"} <= codes
    testing = pop.med[pop.med["hcpcs_code"].isin(HCPCS.codes("psych_testing"))]
    provider_notices = pop.notices.dropna(subset=["provider_npi"])
    member_notices = pop.notices.dropna(subset=["member_id"])
    assert not provider_notices.empty and not member_notices.empty
    noticed = testing["member_id"].isin(member_notices["member_id"]) | testing["rendering_npi"].isin(
        provider_notices["provider_npi"]
    )
    assert noticed.any() and (~noticed).any()


# ---------------------------------------------------------------- pharmacy (SAA, APM, AMM, polypharmacy)


def _pdc(fills: pd.DataFrame) -> pd.Series:
    out = {}
    end = pd.Timestamp(f"{YEAR}-12-31")
    for member, group in fills.groupby("member_id"):
        start = group["dispensing_date"].min()
        covered = np.zeros((end - start).days + 1, bool)
        for day, supply in zip(group["dispensing_date"], group["days_supply"], strict=True):
            offset = (day - start).days
            covered[offset : offset + supply] = True
        out[member] = covered.mean()
    return pd.Series(out)


def test_saa_antipsychotic_adherence_above_and_below_80_percent(pop: Pop) -> None:
    ap = pop.rx[pop.rx["drug_class"] == "antipsychotic"]
    ap = ap[ap.groupby("member_id")["claim_id"].transform("count") >= 2]
    pdc = _pdc(ap)
    assert (pdc < 0.8).sum() >= 2 and (pdc >= 0.8).sum() >= 2


def test_apm_children_on_antipsychotics_with_and_without_metabolic_tests(pop: Pop) -> None:
    ap = pop.rx[pop.rx["drug_class"] == "antipsychotic"].copy()
    ap["age"] = _age(pop, ap, "dispensing_date")
    kids = set(ap.loc[ap["age"] < 17, "member_id"])
    assert len(kids) >= 4
    glucose = set(pop.med.loc[pop.med["hcpcs_code"].isin(HCPCS.codes("metabolic_glucose")), "member_id"])
    lipids = set(pop.med.loc[pop.med["hcpcs_code"].isin(HCPCS.codes("metabolic_cholesterol")), "member_id"])
    assert kids & glucose & lipids
    assert kids - glucose - lipids


def test_amm_antidepressant_new_starts_with_and_without_continuation(pop: Pop) -> None:
    ad = pop.rx[pop.rx["drug_class"] == "antidepressant"]
    first = ad.groupby("member_id")["dispensing_date"].min()
    new = first[first >= pd.Timestamp(f"{YEAR}-02-10")].index
    supply = ad[ad["member_id"].isin(new)].groupby("member_id")["days_supply"].sum()
    assert (supply >= 180).any()  # continuation phase
    assert (supply <= 60).any()  # stopped early


def test_many_prescribers_and_pharmacies(pop: Pop) -> None:
    psych = pop.rx[pop.rx["drug_class"].isin(PSYCHOTROPIC)]
    per = psych.groupby("member_id").agg(
        prescribers=("prescribing_provider_npi", "nunique"), pharmacies=("dispensing_provider_npi", "nunique")
    )
    assert ((per["prescribers"] >= 4) & (per["pharmacies"] >= 4)).sum() >= 2
    assert (per["prescribers"] == 1).any()


def test_psychotropic_polypharmacy_three_classes_at_once(pop: Pop) -> None:
    psych = pop.rx[pop.rx["drug_class"].isin(PSYCHOTROPIC)]
    candidates = psych.groupby("member_id")["drug_class"].nunique()
    found = 0
    for member in candidates[candidates >= 3].index:
        days = np.zeros((len(PSYCHOTROPIC), 400), bool)
        classes = sorted(PSYCHOTROPIC)
        for row in psych[psych["member_id"] == member].itertuples():
            offset = row.dispensing_date.day_of_year - 1
            days[classes.index(row.drug_class), offset : offset + row.days_supply] = True
        found += int((days.sum(axis=0) >= 3).any())
    assert found >= 3


def test_fills_carry_reference_ndc_class_and_rxnorm(pop: Pop) -> None:
    ndc = load_code_list("ndc-psychotropic")
    sample = pop.rx.drop_duplicates("ndc_code")
    for row in sample.itertuples():
        entry = ndc.entry(row.ndc_code)
        assert entry.group == row.drug_class and entry.attributes["rxnorm_code"] == row.rxnorm_code


# ---------------------------------------------------------------- plans, PCPs, synthetic data (OPM-08, COC)


def test_opm08_plans_with_and_without_bh_benefit_and_care_management(pop: Pop) -> None:
    assert set(pop.plans["bh_benefit"]) == {True, False}
    assert set(pop.plans["opm_care_management"]) == {True, False}
    assert set(pop.plans["line_of_business"]) == {"commercial", "medicaid", "medicare"}
    enrolled = set(pop.elig["plan_id"])
    assert set(pop.plans["plan_id"]) == enrolled
    assert (pop.elig.groupby("member_id")["plan_id"].nunique() > 1).any()  # plan changes mid-year


def test_coc_pcps_assigned_and_seeing_bh_conditions(pop: Pop) -> None:
    pcps = set(pop.providers.loc[pop.providers["is_pcp"], "npi"])
    assigned = pop.elig["pcp_npi"].dropna()
    assert set(assigned) <= pcps and len(assigned) > 0.8 * len(pop.elig)
    pcp_claims = pop.med[pop.med["rendering_npi"].isin(pcps)]
    assert pcp_claims[DX_COLS].isin(BH_DX).any(axis=1).sum() > 50


def test_names_and_contacts_are_synthetic(pop: Pop) -> None:
    firsts = set(synth_names.FIRST_F) | set(synth_names.FIRST_M)
    assert set(pop.elig["first_name"]) <= firsts
    assert set(pop.elig["last_name"]) <= set(synth_names.LAST)
    assert pop.elig["phone"].str.contains("-555-").all()
