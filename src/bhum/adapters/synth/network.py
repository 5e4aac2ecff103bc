"""The static part of the population: plans, organizations, providers, staff and provider-wide
testing preauthorization notices. Its size grows with the member count so caseloads stay plausible."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from bhum.adapters.synth import names
from bhum.adapters.synth.core import IntArray, Vocab, make_npis
from bhum.adapters.synth.schema import ORGANIZATIONS, PLANS, PROVIDERS, STAFF


@dataclass(frozen=True, slots=True)
class PlanSpec:
    plan_id: str
    name: str
    payer: str
    line_of_business: str
    bh_benefit: bool
    opm_care_management: bool
    time_zone: str
    state: str


# Fixed on purpose: one plan without a BH benefit and two without outpatient care management (OPM-08).
PLAN_SPECS: tuple[PlanSpec, ...] = (
    PlanSpec(
        "PLN01",
        "Prairie Health Choice PPO",
        "Prairie Health",
        "commercial",
        True,
        True,
        "America/Chicago",
        "IL",
    ),
    PlanSpec(
        "PLN02",
        "Prairie Health Medicaid BH",
        "Prairie Health",
        "medicaid",
        True,
        True,
        "America/Chicago",
        "IL",
    ),
    PlanSpec(
        "PLN03",
        "Lakeshore Medicare Advantage",
        "Lakeshore Health Plans",
        "medicare",
        True,
        True,
        "America/Chicago",
        "IL",
    ),
    PlanSpec("PLN04", "Summit Care HMO", "Summit Care", "commercial", True, False, "America/Denver", "CO"),
    PlanSpec("PLN05", "Summit Care Medicaid", "Summit Care", "medicaid", True, True, "America/Denver", "CO"),
    PlanSpec(
        "PLN06",
        "Harborview Employer Basic",
        "Harborview Mutual",
        "commercial",
        False,
        False,
        "America/New_York",
        "NY",
    ),
    PlanSpec(
        "PLN07",
        "Harborview Medicaid Managed Care",
        "Harborview Mutual",
        "medicaid",
        True,
        True,
        "America/New_York",
        "NY",
    ),
    PlanSpec(
        "PLN08",
        "Pacific Crest Medicare",
        "Pacific Crest Health",
        "medicare",
        True,
        False,
        "America/Los_Angeles",
        "CA",
    ),
)

# (contract type, organization noun, organizations per scale unit,
#  [(role, taxonomy, specialty, is_pcp, count)],
#  [(staff role, credentials, has_npi, count)])
_ORG_KINDS: tuple[
    tuple[str, str, int, tuple[tuple[str, str, str, bool, int], ...], tuple[tuple[str, str, int], ...]], ...
] = (
    (
        "150",
        "Family Practice",
        4,
        (
            ("pcp_family", "207Q00000X", "family medicine", True, 2),
            ("pcp_peds", "208000000X", "pediatrics", True, 1),
            ("pcp_internal", "207R00000X", "internal medicine", True, 1),
        ),
        (),
    ),
    (
        "110",
        "Counseling Associates",
        3,
        (
            ("therapist", "1041C0700X", "clinical social work", False, 2),
            ("therapist", "101YP2500X", "professional counseling", False, 1),
            ("psychologist", "103T00000X", "psychology", False, 1),
            ("psychiatrist", "2084P0800X", "psychiatry", False, 1),
        ),
        (("cm_ii", "cm_ii;bachelors_level", 3), ("cm_i", "cm_i", 2)),
    ),
    (
        "111",
        "Community Mental Health Center",
        2,
        (
            ("therapist", "1041C0700X", "clinical social work", False, 2),
            ("psychiatrist", "2084P0800X", "psychiatry", False, 1),
            ("addiction", "101YA0400X", "addiction counseling", False, 1),
        ),
        (
            ("cm_ii", "cm_ii;intensive_cm", 2),
            ("cm_ii", "cm_ii;wraparound_facilitator", 1),
            ("cm_ii", "cm_ii", 1),
            ("cm_i", "cm_i", 2),
            ("qmhp", "qmhp;licensed_masters_clinician", 1),
        ),
    ),
    (
        "114",
        "Assertive Community Treatment Team",
        1,
        (("psychiatrist", "2084P0800X", "psychiatry", False, 1),),
        (("cm_ii", "cm_ii;intensive_cm", 3), ("cm_i", "cm_i", 1), ("rn", "rn", 1)),
    ),
    (
        "120",
        "Intensive Outpatient Program",
        1,
        (("therapist", "101YP2500X", "professional counseling", False, 1),),
        (
            ("iop_mh", "licensed_masters_clinician", 2),
            ("iop_sud", "cadc", 1),
            ("iop_peer", "peer_support_specialist", 1),
            ("iop_ba", "bachelors_level", 1),
        ),
    ),
    (
        "130",
        "Regional Hospital",
        1,
        (
            ("ed_physician", "207P00000X", "emergency medicine", False, 2),
            ("psychiatrist", "2084P0800X", "psychiatry", False, 2),
        ),
        (),
    ),
    (
        "160",
        "Recovery Residence",
        1,
        (("addiction_physician", "2084A0401X", "addiction medicine", False, 1),),
        (("res_cadc", "cadc", 1),),
    ),
    ("140", "Pharmacy", 6, (), ()),
    ("170", "Clinical Laboratory", 1, (), ()),
)
_ORG_TAXONOMY = {
    "150": ("261QP2300X", "primary care clinic"),
    "110": ("261QM0801X", "mental health clinic"),
    "111": ("261QM0801X", "community mental health center"),
    "114": ("251S00000X", "community behavioral health agency"),
    "120": ("261QM0850X", "adult mental health clinic"),
    "130": ("283Q00000X", "psychiatric hospital"),
    "160": ("324500000X", "substance abuse rehabilitation facility"),
    "140": ("3336C0003X", "community/retail pharmacy"),
    "170": ("291U00000X", "clinical medical laboratory"),
}
_PROVIDER_CREDENTIALS = {
    "therapist": "licensed_masters_clinician",
    "psychologist": "psychologist",
    "psychiatrist": "psychiatrist;physician",
    "addiction": "cadc",
    "addiction_physician": "addiction_medicine_physician;physician",
}


@dataclass
class Network:
    """Static tables plus index arrays the member generator samples from."""

    tables: dict[str, pa.Table]
    plan_name_v: IntArray
    plan_payer_v: IntArray
    plan_lob: list[str]
    provider_npi_v: IntArray  # vocab index of every provider's NPI (individuals and organizations)
    provider_org: IntArray  # organization position of each provider
    provider_staff_v: IntArray  # vocab index of the provider's staff_id, or -1
    org_npi_provider: IntArray  # provider index of each organization's own NPI
    org_contract: list[str]
    roles: dict[str, IntArray] = field(default_factory=dict)  # provider indices per clinical role
    orgs_by_contract: dict[str, IntArray] = field(default_factory=dict)
    staff_by_org_role: dict[tuple[int, str], IntArray] = field(default_factory=dict)  # staff vocab idx
    testing_notices: list[tuple[str, int, date]] = field(default_factory=list)  # plan_id, provider idx, from


def scale_for(members: int) -> int:
    return max(1, math.ceil(members / 4000))


# A mailing city per plan state (synthetic letterheads; no member data).
_PLAN_MAIL_CITY = {
    "IL": ("Springfield", "62701"),
    "CO": ("Denver", "80202"),
    "NY": ("Albany", "12207"),
    "CA": ("Sacramento", "95814"),
}


def _plan_contacts() -> dict[str, list[str | None]]:
    """Letterhead contact columns of the plans file, fixed per plan (no random draws, so the rest of
    the population is unchanged): 555-01xx numbers are reserved for fiction, .example domains too."""
    columns: dict[str, list[str | None]] = {
        name: []
        for name in (
            "contact_phone", "contact_tty", "contact_address_line_1", "contact_address_line_2",
            "contact_city", "contact_state", "contact_zip", "website",
        )
    }  # fmt: skip
    for index, plan in enumerate(PLAN_SPECS, start=1):
        city, zip_code = _PLAN_MAIL_CITY.get(plan.state, ("Capital City", "00000"))
        columns["contact_phone"].append(f"1-800-555-01{index:02d}")
        columns["contact_tty"].append("711")
        columns["contact_address_line_1"].append(f"PO Box {1000 + 100 * index}")
        columns["contact_address_line_2"].append("Attn: Behavioral Health" if index % 2 else None)
        columns["contact_city"].append(city)
        columns["contact_state"].append(plan.state)
        columns["contact_zip"].append(zip_code)
        columns["website"].append("".join(ch for ch in plan.payer.lower() if ch.isalnum()) + ".example")
    return columns


def build_network(seed: int, members: int, year: int, vocab: Vocab) -> Network:
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xBEEF]))
    scale = scale_for(members)

    plans = pa.table(
        {
            "plan_id": [p.plan_id for p in PLAN_SPECS],
            "plan_name": [p.name for p in PLAN_SPECS],
            "payer": [p.payer for p in PLAN_SPECS],
            "line_of_business": [p.line_of_business for p in PLAN_SPECS],
            "bh_benefit": [p.bh_benefit for p in PLAN_SPECS],
            "opm_care_management": [p.opm_care_management for p in PLAN_SPECS],
            "time_zone": [p.time_zone for p in PLAN_SPECS],
            **_plan_contacts(),
        },
        schema=PLANS.arrow_schema,
    )
    states = [p.state for p in PLAN_SPECS]

    org_rows: dict[str, list[object]] = {c.name: [] for c in ORGANIZATIONS.columns}
    prov_rows: dict[str, list[object]] = {c.name: [] for c in PROVIDERS.columns}
    staff_rows: dict[str, list[object]] = {c.name: [] for c in STAFF.columns}
    n_orgs = sum(k[2] for k in _ORG_KINDS) * scale
    n_ind = sum(k[2] * sum(r[4] for r in k[3]) for k in _ORG_KINDS) * scale
    org_npis = make_npis(rng, n_orgs, 1)
    ind_npis = make_npis(rng, n_ind, 2)
    provider_org: list[int] = []
    provider_staff: list[int] = []
    org_npi_provider: list[int] = []
    org_contract: list[str] = []
    roles: dict[str, list[int]] = {}
    orgs_by_contract: dict[str, list[int]] = {}
    staff_by_org_role: dict[tuple[int, str], list[int]] = {}
    staff_count = 0
    ind_used = 0
    hire_base = date(year - 12, 1, 1)

    def add_staff(org: int, role: str, creds: str, npi: str | None) -> int:
        nonlocal staff_count
        staff_count += 1
        staff_id = f"S{staff_count:06d}"
        staff_rows["staff_id"].append(staff_id)
        staff_rows["npi"].append(npi)
        staff_rows["organization_id"].append(f"ORG{org + 1:05d}")
        staff_rows["first_name"].append(names.FIRST_F[int(rng.integers(len(names.FIRST_F)))])
        staff_rows["last_name"].append(names.LAST[int(rng.integers(len(names.LAST)))])
        staff_rows["credentials"].append(creds)
        staff_rows["licence_number"].append(f"LIC-{staff_count:06d}")
        staff_rows["hire_date"].append(hire_base + timedelta(days=int(rng.integers(0, 11 * 365))))
        staff_v = vocab(staff_id)
        staff_by_org_role.setdefault((org, role), []).append(staff_v)
        return staff_v

    org = 0
    for contract, noun, per_scale, provider_roles, staff_roles in _ORG_KINDS:
        for _ in range(per_scale * scale):
            word = names.ORG_WORDS[org % len(names.ORG_WORDS)]
            state = states[org % len(states)]
            org_name = f"{word} {noun} {org // len(names.ORG_WORDS) + 1}"
            org_rows["organization_id"].append(f"ORG{org + 1:05d}")
            org_rows["name"].append(org_name)
            org_rows["npi"].append(org_npis[org])
            org_rows["tax_id"].append(f"99{org + 1:07d}")
            org_rows["contract_type"].append(contract)
            org_rows["state"].append(state)
            org_contract.append(contract)
            orgs_by_contract.setdefault(contract, []).append(org)
            taxonomy, specialty = _ORG_TAXONOMY[contract]
            org_npi_provider.append(len(provider_org))
            _provider(prov_rows, org_npis[org], org_name, "organization", org, taxonomy, specialty, False)
            provider_org.append(org)
            provider_staff.append(-1)
            vocab(org_npis[org])
            for role, taxonomy, specialty, is_pcp, count in provider_roles:
                for _ in range(count):
                    npi = ind_npis[ind_used]
                    ind_used += 1
                    first = names.FIRST_M[int(rng.integers(len(names.FIRST_M)))]
                    last = names.LAST[int(rng.integers(len(names.LAST)))]
                    suffix = {
                        "pcp_family": "MD",
                        "pcp_peds": "MD",
                        "pcp_internal": "DO",
                        "psychiatrist": "MD",
                        "ed_physician": "MD",
                        "addiction_physician": "MD",
                        "psychologist": "PhD",
                    }.get(role, "LCSW")
                    roles.setdefault(role, []).append(len(provider_org))
                    if role.startswith("pcp"):
                        roles.setdefault("pcp", []).append(len(provider_org))
                    _provider(
                        prov_rows,
                        npi,
                        f"{first} {last}, {suffix}",
                        "individual",
                        org,
                        taxonomy,
                        specialty,
                        is_pcp,
                    )
                    provider_org.append(org)
                    vocab(npi)
                    creds = _PROVIDER_CREDENTIALS.get(role)
                    provider_staff.append(add_staff(org, role, creds, npi) if creds else -1)
            for role, creds, count in staff_roles:
                for _ in range(count):
                    add_staff(org, role, creds, None)
            org += 1

    # Provider-wide testing preauthorization notices (OPM-01): about a third of psychologists.
    notices = []
    psychologists = roles.get("psychologist", [])
    for i, prov in enumerate(psychologists):
        if i % 3 == 0:
            plan = PLAN_SPECS[i % len(PLAN_SPECS)].plan_id
            notices.append((plan, prov, date(year - 1, 7, 1) + timedelta(days=int(rng.integers(0, 200)))))

    return Network(
        tables={
            "plans": plans,
            "organizations": pa.table(org_rows, schema=ORGANIZATIONS.arrow_schema),
            "providers": pa.table(prov_rows, schema=PROVIDERS.arrow_schema),
            "staff": pa.table(staff_rows, schema=STAFF.arrow_schema),
        },
        plan_name_v=vocab.many(p.name for p in PLAN_SPECS),
        plan_payer_v=vocab.many(p.payer for p in PLAN_SPECS),
        plan_lob=[p.line_of_business for p in PLAN_SPECS],
        provider_npi_v=vocab.many(str(n) for n in prov_rows["npi"]),
        provider_org=np.array(provider_org, dtype=np.int64),
        provider_staff_v=np.array(provider_staff, dtype=np.int64),
        org_npi_provider=np.array(org_npi_provider, dtype=np.int64),
        org_contract=org_contract,
        roles={k: np.array(v, dtype=np.int64) for k, v in roles.items()},
        orgs_by_contract={k: np.array(v, dtype=np.int64) for k, v in orgs_by_contract.items()},
        staff_by_org_role={k: np.array(v, dtype=np.int64) for k, v in staff_by_org_role.items()},
        testing_notices=notices,
    )


def _provider(
    rows: dict[str, list[object]],
    npi: str,
    name: str,
    entity_type: str,
    org: int,
    taxonomy: str,
    specialty: str,
    is_pcp: bool,
) -> None:
    rows["npi"].append(npi)
    rows["name"].append(name)
    rows["entity_type"].append(entity_type)
    rows["organization_id"].append(f"ORG{org + 1:05d}")
    rows["taxonomy_code"].append(taxonomy)
    rows["specialty"].append(specialty)
    rows["is_pcp"].append(is_pcp)
