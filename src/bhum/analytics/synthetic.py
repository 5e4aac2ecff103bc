"""A fast, vectorized synthetic claims population in the input contract, for the Spark/DuckDB parity
test and the benchmark. Synthetic data only: ids are sequence numbers, no names or addresses.

The full generator with plans, providers, staff and realistic care paths is ``bhum synth``; this one
only needs to exercise every rule of the catalog at scale, so it draws claim lines from a menu of
service kinds (psychotherapy, stays, ED visits, IOP days, T1017, labs, fills ...) with a skewed member
distribution that produces heavy users as real populations do.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

EPOCH = date(1970, 1, 1)

# kind: (share of lines, hcpcs choices, revenue code, claim type, bill type, place of service, stay)
_KINDS: list[tuple[str, float, list[str | None], str | None, str, str | None, str | None, bool]] = [
    (
        "psychotherapy",
        0.30,
        ["90834", "90837", "90832", "90847", "90853"],
        None,
        "professional",
        None,
        "11",
        False,
    ),
    ("visit", 0.12, ["99213", "99214", "90791", "H0031", "H2011"], None, "professional", None, "11", False),
    ("t1017", 0.08, ["T1017"], None, "professional", None, "99", False),
    ("inpatient", 0.02, [None], "0114", "institutional", "0111", None, True),
    ("residential", 0.01, ["H0019"], "1001", "institutional", "0891", None, True),
    ("php", 0.01, ["H0035"], "0912", "institutional", "0131", None, True),
    ("iop", 0.05, ["S9480", "H0015"], "0905", "institutional", "0131", None, False),
    ("ed", 0.04, ["99284", "99283", "99285"], "0450", "institutional", "0131", "23", False),
    ("sud", 0.05, ["H0004", "H0005", "H0020", "H0001"], None, "professional", None, "57", False),
    ("glucose", 0.015, ["83036", "82947"], None, "professional", None, "81", False),
    ("ldl", 0.015, ["80061", "83721"], None, "professional", None, "81", False),
    ("rehab", 0.04, ["H2017", "H2019", "H0036"], None, "professional", None, "99", False),
    ("other", 0.24, ["99213", "99396", "36415", "71046"], None, "professional", None, "11", False),
]
_MH_DX = ["F20.9", "F25.0", "F32.1", "F33.2", "F41.1", "F43.10", "F31.9", "F90.0"]
_SUD_DX = ["F10.20", "F11.20", "F12.20", "F14.20"]
_OTHER_DX = ["E11.9", "I10", "J45.909", "Z00.00"]
_ACTIVITIES = [
    "plan_of_care_information",
    "face_to_face_member",
    "face_to_face_provider",
    "plan_monitoring",
    "crisis_diversion",
    "transition_from_institution",
    "transport_escort",
]
_CLASSES = [
    "antipsychotic",
    "antidepressant",
    "mood_stabilizer",
    "anxiolytic",
    "stimulant",
    "sud_treatment",
    "other",
]
_CLASS_SHARE = [0.2, 0.3, 0.1, 0.15, 0.1, 0.05, 0.1]
_SETTINGS = [
    "nursing_facility",
    "group_home",
    "foster_home",
    "residential_behavior_management",
    "icf_iid",
    "home",
]


def _members(rng: np.random.Generator, count: int, members: int) -> np.ndarray:
    """Half the rows uniformly, half skewed toward low member numbers (heavy users)."""
    uniform = rng.integers(0, members, count)
    skewed = (rng.random(count) ** 3 * members).astype(np.int64)
    return np.where(rng.random(count) < 0.5, uniform, skewed)


def _ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    text = pa.array(numbers).cast(pa.string())
    return pc.binary_join_element_wise(pa.scalar(prefix), pc.utf8_lpad(text, 8, "0"), "")


def _dates(days: np.ndarray) -> pa.Array:
    return pa.array(days.astype(np.int32), pa.int32()).cast(pa.date32())


def _pick(rng: np.random.Generator, choices: Sequence[str | None], count: int) -> np.ndarray:
    return np.array(choices, dtype=object)[rng.integers(0, len(choices), count)]


def generate(
    members: int,
    *,
    seed: int = 1,
    as_of: date = date(2026, 6, 30),
    lines_per_member: int = 20,
    fills_per_member: int = 5,
) -> dict[str, pa.Table]:
    """The population as Arrow tables: eligibility, member_residence, medical_claim, pharmacy_claim."""
    rng = np.random.default_rng(seed)
    end = (as_of - EPOCH).days
    start = end - 420

    # eligibility: one coverage span per member; a fifth are children.
    child = rng.random(members) < 0.2
    birth = np.where(
        child,
        rng.integers((date(2009, 1, 1) - EPOCH).days, (date(2024, 1, 1) - EPOCH).days, members),
        rng.integers((date(1950, 1, 1) - EPOCH).days, (date(2007, 1, 1) - EPOCH).days, members),
    )
    member_ids = _ids("M", np.arange(members))
    eligibility = pa.table(
        {
            "member_id": member_ids,
            "birth_date": _dates(birth),
            "plan_id": pa.array(
                _pick(rng, ["PLAN-COM", "PLAN-MCD", "PLAN-MCR"], members).tolist(), pa.string()
            ),
            "enrollment_start_date": _dates(np.full(members, (date(2024, 1, 1) - EPOCH).days)),
            "enrollment_end_date": pa.nulls(members, pa.date32()),
        }
    )

    # residence: a few members live in (or left) a setting excluded from case management (TCM-04).
    residents = np.flatnonzero(rng.random(members) < 0.04)
    n_res = len(residents)
    res_start = rng.integers(start - 200, end, n_res)
    res_len = rng.integers(10, 400, n_res)
    res_end = np.where(rng.random(n_res) < 0.5, res_start + res_len, -1)
    member_residence = pa.table(
        {
            "member_id": _ids("M", residents),
            "setting": pa.array(_pick(rng, _SETTINGS, n_res).tolist(), pa.string()),
            "start_date": _dates(res_start),
            "end_date": pa.array(
                [None if e < 0 else EPOCH + timedelta(days=int(e)) for e in res_end], pa.date32()
            ),
        }
    )

    # medical claim lines, one line per claim.
    n = members * lines_per_member
    who = _members(rng, n, members)
    day = rng.integers(start, end + 10, n)  # a few lines after the as-of date, which runs must ignore
    shares = np.array([k[1] for k in _KINDS])
    kind = rng.choice(len(_KINDS), n, p=shares / shares.sum())
    hcpcs = np.empty(n, dtype=object)
    revenue = np.empty(n, dtype=object)
    claim_type = np.empty(n, dtype=object)
    bill_type = np.empty(n, dtype=object)
    pos = np.empty(n, dtype=object)
    stay = np.zeros(n, dtype=bool)
    for i, (_, _, codes, rev, ctype, bill, place, is_stay) in enumerate(_KINDS):
        mask = kind == i
        count = int(mask.sum())
        hcpcs[mask] = _pick(rng, codes, count)
        revenue[mask] = rev
        claim_type[mask] = ctype
        bill_type[mask] = bill
        pos[mask] = place
        stay[mask] = is_stay
    los = rng.integers(1, 21, n)
    dx_draw = rng.random(n)
    dx = np.where(
        dx_draw < 0.6,
        _pick(rng, _MH_DX, n),
        np.where(dx_draw < 0.8, _pick(rng, _SUD_DX, n), _pick(rng, _OTHER_DX, n)),
    )
    is_t1017 = hcpcs == "T1017"
    units = np.where(is_t1017, rng.integers(1, 13, n), 1).astype(np.float64)
    level = np.where(is_t1017, _pick(rng, ["TF", "TG", "HN", "HM", None], n), np.array(None))
    program = np.where(is_t1017, _pick(rng, ["HE", "HF", "HV"], n), np.array(None))
    activity = np.where(is_t1017, _pick(rng, _ACTIVITIES, n), np.array(None))
    line_day = np.where(stay, day - los, day)  # a stay's line starts at admission and ends at discharge
    medical_claim = pa.table(
        {
            "claim_id": _ids("MC", np.arange(n)),
            "claim_line_number": pa.array(np.ones(n, dtype=np.int64)),
            "claim_type": pa.array(claim_type.tolist(), pa.string()),
            "member_id": _ids("M", who),
            "claim_start_date": _dates(line_day),
            "claim_end_date": _dates(day),
            "claim_line_start_date": _dates(line_day),
            "claim_line_end_date": _dates(day),
            "admission_date": pa.array(
                np.where(stay, line_day, 0).astype(np.int32), pa.int32(), mask=~stay
            ).cast(pa.date32()),
            "discharge_date": pa.array(day.astype(np.int32), pa.int32(), mask=~stay).cast(pa.date32()),
            "place_of_service_code": pa.array(pos.tolist(), pa.string()),
            "bill_type_code": pa.array(bill_type.tolist(), pa.string()),
            "revenue_center_code": pa.array(revenue.tolist(), pa.string()),
            "service_unit_quantity": pa.array(units),
            "hcpcs_code": pa.array(hcpcs.tolist(), pa.string()),
            "hcpcs_modifier_1": pa.array(program.tolist(), pa.string()),
            "hcpcs_modifier_2": pa.array(level.tolist(), pa.string()),
            "hcpcs_modifier_3": pa.nulls(n, pa.string()),
            "hcpcs_modifier_4": pa.nulls(n, pa.string()),
            "rendering_npi": _ids("1", rng.integers(0, 5000, n)),
            "billing_npi": _ids("1", rng.integers(0, 800, n)),
            "diagnosis_code_type": pa.array(np.full(n, "icd-10-cm").tolist(), pa.string()),
            "diagnosis_code_1": pa.array(dx.tolist(), pa.string()),
            "activity_code": pa.array(activity.tolist(), pa.string()),
        }
    )

    # pharmacy fills
    m = members * fills_per_member
    fill_who = _members(rng, m, members)
    klass = rng.choice(len(_CLASSES), m, p=_CLASS_SHARE)
    pharmacy_claim = pa.table(
        {
            "claim_id": _ids("RX", np.arange(m)),
            "claim_line_number": pa.array(np.ones(m, dtype=np.int64)),
            "member_id": _ids("M", fill_who),
            "prescribing_provider_npi": _ids("1", rng.integers(0, 3000, m)),
            "dispensing_provider_npi": _ids("1", rng.integers(5000, 5800, m)),
            "dispensing_date": _dates(rng.integers(start, end + 10, m)),
            "ndc_code": pa.array(rng.integers(10**10, 10**11 - 1, m)).cast(pa.string()),
            "drug_class": pa.array(np.array(_CLASSES, dtype=object)[klass].tolist(), pa.string()),
            "quantity": pa.array(rng.integers(14, 91, m).astype(np.float64)),
            "days_supply": pa.array(np.array([30, 30, 30, 90, 14])[rng.integers(0, 5, m)].astype(np.int64)),
        }
    )
    return {
        "eligibility": eligibility,
        "member_residence": member_residence,
        "medical_claim": medical_claim,
        "pharmacy_claim": pharmacy_claim,
    }


def write(tables: dict[str, pa.Table], directory: str | os.PathLike[str], *, fmt: str = "parquet") -> Path:
    """Write the tables as ``<table>.parquet`` (or ``.csv``) files into a directory."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        if fmt == "csv":
            pacsv.write_csv(table, folder / f"{name}.csv")
        else:
            pq.write_table(table, folder / f"{name}.parquet")
    return folder
