"""Members, medical claims and pharmacy fills for one block of members, fully vectorised with numpy.

Every block draws from its own generator seeded by (seed, block index), so the output does not depend
on how many blocks run before it and any block can be regenerated alone. Each clinical pattern below
names the rule (RULES.md ID) or measure it exists to exercise; counts are exact (``pick``) so that even a
2,000-member population contains every pattern.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from statistics import NormalDist

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bhum.adapters.reference import load_code_list
from bhum.adapters.synth import names
from bhum.adapters.synth.core import (
    NO_DAY,
    NULL,
    BoolArray,
    FloatArray,
    IntArray,
    Vocab,
    choose,
    expand,
    pick,
)
from bhum.adapters.synth.network import PLAN_SPECS, Network
from bhum.adapters.synth.schema import (
    ELIGIBILITY,
    MEDICAL_CLAIM,
    MEMBER_RESIDENCE,
    PHARMACY_CLAIM,
    TESTING_PREAUTH_NOTICES,
)

BH_MH = ("depression", "anxiety", "bipolar", "schizophrenia", "trauma_stressor", "adhd")
BH_ALL = (*BH_MH, "sud")
MEDICAL = ("diabetes", "hypertension", "hyperlipidemia", "asthma", "hypothyroid")
_MEDICAL_DX = {
    "diabetes": "E11.9",
    "hypertension": "I10",
    "hyperlipidemia": "E78.5",
    "asthma": "J45.909",
    "hypothyroid": "E03.9",
}
# Timed-code price list (USD per unit) used for allowed amounts; anything else costs 90 per unit.
_PRICES = {
    "90791": 180,
    "90792": 210,
    "90832": 70,
    "90834": 95,
    "90837": 130,
    "90846": 100,
    "90847": 105,
    "90853": 35,
    "99212": 60,
    "99213": 95,
    "99214": 135,
    "99215": 185,
    "99222": 200,
    "99238": 110,
    "99393": 120,
    "99394": 130,
    "99395": 140,
    "99396": 150,
    "99397": 160,
    "99281": 60,
    "99282": 110,
    "99283": 180,
    "99284": 300,
    "99285": 450,
    "S9480": 210,
    "H0015": 190,
    "H0035": 330,
    "H0017": 420,
    "H0018": 380,
    "H0019": 300,
    "90870": 520,
    "90867": 350,
    "90868": 260,
    "90869": 300,
    "96130": 130,
    "96131": 100,
    "96132": 140,
    "96133": 110,
    "96136": 50,
    "96137": 45,
    "96116": 110,
    "96121": 90,
    "T1017": 22,
    "H2017": 18,
    "H0001": 120,
    "H0004": 28,
    "H0005": 40,
    "83036": 13,
    "82947": 5,
    "80047": 12,
    "80048": 10,
    "80053": 14,
    "80061": 18,
    "83721": 12,
    "85025": 9,
    "84443": 22,
    "80307": 16,
    "0114": 900,
    "0124": 850,
    "0204": 1400,
    "0250": 120,
    "0300": 60,
    "0450": 650,
    "1001": 420,
    "1002": 380,
    "0912": 330,
    "0913": 380,
}


@dataclass
class BlockOutput:
    eligibility: pa.Table
    member_residence: pa.Table
    testing_preauth_notices: pa.Table
    medical_claim: pa.Table
    pharmacy_claim: pa.Table


@dataclass
class _Members:
    n: int
    first: int
    age: IntArray
    birth_epoch: IntArray
    plan1: IntArray
    plan2: IntArray
    switch_day: IntArray
    cov_start: IntArray
    cov_end: IntArray
    full_year: BoolArray
    pcp: IntArray
    therapist: IntArray
    psychiatrist: IntArray
    pharmacy: IntArray
    flags: dict[str, BoolArray]
    dx: dict[str, IntArray]
    bh_dx1: IntArray
    bh_dx2: IntArray
    med_dx1: IntArray
    med_dx2: IntArray
    medicaid: BoolArray
    extra: dict[str, IntArray] = field(default_factory=dict)


class Codes:
    """Vocabulary indices of every code the generator uses, drawn from the reference lists."""

    def __init__(self, vocab: Vocab) -> None:
        self.v = vocab
        icd = load_code_list("icd10cm-bh")
        self.dx = {g: vocab.many(c.code for c in icd.group(g)) for g in icd.group_names}
        ndc = load_code_list("ndc-psychotropic")
        self.ndc: dict[str, IntArray] = {}
        self.rxnorm: dict[str, IntArray] = {}
        for g in ndc.group_names:
            codes = ndc.group(g)
            self.ndc[g] = vocab.many(c.code for c in codes)
            self.rxnorm[g] = vocab.many(ndc.entry(c.code).attributes["rxnorm_code"] for c in codes)
        self.by_ingredient = {
            ndc.entry(c.code).attributes["ingredient"]: (
                vocab(c.code),
                vocab(ndc.entry(c.code).attributes["rxnorm_code"]),
            )
            for g in ndc.group_names
            for c in ndc.group(g)
        }
        self.drug_class = {g: vocab(g) for g in ndc.group_names}
        self.times = vocab.many(f"{m // 60:02d}:{m % 60:02d}" for m in range(24 * 60))
        tcm = load_code_list("tcm-activities")
        self.tcm_ok = vocab.many(c.code for c in tcm.group("reimbursable"))
        self.tcm_not = vocab.many(c.code for c in tcm.group("not_reimbursable"))
        for word in ("professional", "institutional", "icd-10-cm", "bhum-synth", "home"):
            vocab(word)
        price = np.full(4096, 90.0)
        for code, amount in _PRICES.items():
            price[vocab(code)] = float(amount)
        self._price = price

    def __call__(self, code: str) -> int:
        return self.v(code)

    def arr(self, *codes: str) -> IntArray:
        return self.v.many(codes)

    def price(self, idx: IntArray) -> FloatArray:
        out = np.full(idx.size, 90.0)
        ok = (idx >= 0) & (idx < self._price.size)
        out[ok] = self._price[idx[ok]]
        return out


class _Block:
    def __init__(
        self, seed: int, index: int, first: int, n: int, year: int, net: Network, codes: Codes
    ) -> None:
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, index]))
        self.index = index
        self.year = year
        self.net = net
        self.c = codes
        self.v = codes.v
        self.jan1 = date(year, 1, 1)
        self.jan1_epoch = (self.jan1 - date(1970, 1, 1)).days
        self.ndays = (date(year + 1, 1, 1) - self.jan1).days
        month_starts = [(date(year, mo, 1) - self.jan1).days for mo in range(1, 13)]
        self.month_start = np.array(month_starts, dtype=np.int64)
        self.month_len = np.diff(np.append(self.month_start, self.ndays))
        self.med: list[dict[str, IntArray]] = []
        self.fills: list[dict[str, IntArray]] = []
        self.claims = 0
        self.residence: list[tuple[IntArray, IntArray, IntArray, IntArray, IntArray]] = []
        self.notices: list[tuple[IntArray, IntArray]] = []
        self.m = self._members(first, n)

    # ------------------------------------------------------------------ members
    def _members(self, first: int, n: int) -> _Members:
        rng, c, net = self.rng, self.c, self.net
        lo = np.array([0, 13, 18, 26, 45, 65])
        hi = np.array([12, 17, 25, 44, 64, 90])
        band = rng.choice(6, size=n, p=[0.15, 0.07, 0.10, 0.25, 0.25, 0.18])
        target = rng.integers(lo[band], hi[band] + 1)
        birth_epoch = self.jan1_epoch - np.floor(target * 365.25).astype(np.int64) - rng.integers(1, 365, n)
        birth = birth_epoch.astype("datetime64[D]")
        by = birth.astype("datetime64[Y]")
        age = (
            self.year - (by.astype(np.int64) + 1970) - (birth != by.astype("datetime64[D]")).astype(np.int64)
        )

        # Line of business by age, then a plan within it.
        r = rng.random(n)
        lob = np.where(
            age >= 65,
            np.where(r < 0.85, 2, np.where(r < 0.95, 1, 0)),
            np.where(age < 18, np.where(r < 0.5, 1, 0), np.where(r < 0.6, 0, np.where(r < 0.95, 1, 2))),
        )
        by_lob = [
            np.array([i for i, p in enumerate(PLAN_SPECS) if p.line_of_business == lo_name])
            for lo_name in ("commercial", "medicaid", "medicare")
        ]
        plan1 = np.empty(n, dtype=np.int64)
        for k, plans in enumerate(by_lob):
            sel = lob == k
            plan1[sel] = plans[rng.integers(0, plans.size, int(sel.sum()))]
        switch = rng.random(n) < 0.06
        plan2 = np.where(switch, (plan1 + rng.integers(1, len(PLAN_SPECS), n)) % len(PLAN_SPECS), plan1)
        switch_day = np.where(switch, rng.integers(60, 300, n), 10**6)

        late = rng.random(n) < 0.04
        early = (rng.random(n) < 0.03) & ~late
        cov_start = np.where(late, rng.integers(30, 200, n), 0)
        cov_end = np.where(early, rng.integers(150, 330, n), self.ndays - 1)
        full_year = ~late & ~early
        # A plan change only inside the covered part of the year.
        switch_day = np.where((switch_day > cov_start + 30) & (switch_day < cov_end - 30), switch_day, 10**6)
        plan2 = np.where(switch_day < 10**6, plan2, plan1)

        # Conditions: a shared latent factor gives realistic co-occurrence; the marginal rates are
        # the targets (depression ~8%, anxiety ~10%, bipolar ~1.5%, schizophrenia ~0.5%, SUD ~6%, ADHD ~5%).
        z0 = rng.standard_normal(n)
        child, teen, adult = age < 13, (age >= 13) & (age < 18), age >= 18
        rates = {
            "depression": np.select([child, teen], [0.03, 0.09], 0.085),
            "anxiety": np.select([child, teen], [0.06, 0.12], 0.105),
            "bipolar": np.select([child, teen], [0.0, 0.012], 0.018),
            "schizophrenia": np.where(age >= 16, 0.0062, 0.0),
            "sud": np.select([child, teen], [0.0, 0.035], 0.073),
            "adhd": np.select([child, teen, age < 26], [0.10, 0.10, 0.05], 0.03),
            "trauma_stressor": np.where(age >= 5, 0.035, 0.0),
        }
        flags: dict[str, BoolArray] = {}
        for name, p in rates.items():
            flags[name] = (0.55 * z0 + 0.835 * rng.standard_normal(n)) > _threshold(p)
        med_rates = {
            "diabetes": np.select([age >= 45, adult], [0.17, 0.04], 0.002),
            "hypertension": np.select([age >= 45, adult], [0.38, 0.09], 0.0),
            "hyperlipidemia": np.select([age >= 45, adult], [0.30, 0.06], 0.0),
            "asthma": np.full(n, 0.08),
            "hypothyroid": np.where(adult, 0.05, 0.0),
        }
        for name, p in med_rates.items():
            flags[name] = rng.random(n) < p

        dx = {g: c.dx[g][rng.integers(0, c.dx[g].size, n)] for g in BH_ALL}
        order = ("schizophrenia", "bipolar", "depression", "sud", "trauma_stressor", "anxiety", "adhd")
        bh_dx1 = np.select([flags[g] for g in order], [dx[g] for g in order], NULL)
        second = np.full(n, NULL, dtype=np.int64)
        for g in reversed(order):  # lowest-priority other condition wins the second slot
            second = np.where(flags[g] & (dx[g] != bh_dx1), dx[g], second)
        fallback = c.arr("J06.9", "M54.50", "R10.9", "K21.9")[rng.integers(0, 4, n)]
        med1 = fallback.copy()
        med2 = np.full(n, NULL, dtype=np.int64)
        for g in reversed(MEDICAL):
            code = c(_MEDICAL_DX[g])
            med2 = np.where(flags[g] & (med1 != fallback), med1, med2)
            med1 = np.where(flags[g], code, med1)

        pcps = net.roles["pcp"]
        pcp = np.where(rng.random(n) < 0.87, pcps[rng.integers(0, pcps.size, n)], NULL)
        therapists = net.roles["therapist"]
        psychiatrists = net.roles["psychiatrist"]
        pharmacies = net.org_npi_provider[net.orgs_by_contract["140"]]
        medicaid = np.array([PLAN_SPECS[p].line_of_business == "medicaid" for p in plan1], dtype=bool)
        return _Members(
            n=n,
            first=first,
            age=age,
            birth_epoch=birth_epoch,
            plan1=plan1,
            plan2=plan2,
            switch_day=switch_day,
            cov_start=cov_start,
            cov_end=cov_end,
            full_year=full_year,
            pcp=pcp,
            therapist=therapists[rng.integers(0, therapists.size, n)],
            psychiatrist=psychiatrists[rng.integers(0, psychiatrists.size, n)],
            pharmacy=pharmacies[rng.integers(0, pharmacies.size, n)],
            flags=flags,
            dx=dx,
            bh_dx1=bh_dx1,
            bh_dx2=second,
            med_dx1=med1,
            med_dx2=med2,
            medicaid=medicaid,
        )

    # ------------------------------------------------------------------ emit helpers
    def new_claims(self, count: int) -> IntArray:
        out = np.arange(self.claims, self.claims + count, dtype=np.int64)
        self.claims += count
        return out

    def emit(self, m: IntArray, claim: IntArray, day: IntArray, **cols: object) -> None:
        """Claim lines: ``day`` is the line start; claim_start (``cs``), claim_end (``ce``), line end
        (``le``) default to it. Keyword names are schema column names or the short internal ones."""
        size = m.size
        if size == 0:
            return
        part: dict[str, IntArray] = {"m": m, "claim": claim, "ls": day}
        for key, value in cols.items():
            if value is None:
                continue
            arr = np.asarray(value)
            part[key] = np.full(size, arr, dtype=np.int64) if arr.ndim == 0 else arr.astype(np.int64)
        self.med.append(part)

    def pick(self, eligible: BoolArray, rate: float, minimum: int) -> IntArray:
        return pick(self.rng, eligible, rate * self.m.n, minimum)

    def org_npi(self, provider: IntArray) -> IntArray:
        return self.net.provider_npi_v[self.net.org_npi_provider[self.net.provider_org[provider]]]

    def one_of(self, options: IntArray, size: int) -> IntArray:
        return options[self.rng.integers(0, options.size, size)]

    def flag(self, *conds: str) -> BoolArray:
        out = np.zeros(self.m.n, dtype=bool)
        for cond in conds:
            out |= self.m.flags[cond]
        return out

    # ------------------------------------------------------------------ medical background
    def medical_background(self) -> None:
        rng, c, m, net = self.rng, self.c, self.m, self.net
        ncond = sum(m.flags[g].astype(np.int64) for g in MEDICAL)
        mv, visit_no = expand(rng.poisson(3.0 + 1.5 * ncond))
        k = mv.size
        claim = self.new_claims(k)
        day = rng.integers(0, self.ndays, k)
        prov = np.where(m.pcp[mv] >= 0, m.pcp[mv], self.one_of(net.roles["pcp"], k))
        em = choose(rng, c.arr("99212", "99213", "99214", "99215"), k, [0.1, 0.5, 0.33, 0.07])
        coc = (rng.random(k) < 0.15) & (m.bh_dx1[mv] >= 0)  # PCP sees a BH condition (COC-03)
        self.emit(
            mv,
            claim,
            day,
            claim_type=c("professional"),
            hcpcs_code=em,
            place_of_service_code=c("11"),
            rendering_npi=net.provider_npi_v[prov],
            billing_npi=self.org_npi(prov),
            diagnosis_code_1=m.med_dx1[mv],
            diagnosis_code_2=np.where(coc, m.bh_dx1[mv], m.med_dx2[mv]),
            **self._conditions_on_record(mv, visit_no == 0),
        )
        nlab = choose(rng, [0, 1, 2], k, [0.45, 0.35, 0.2])
        owner, pos = expand(nlab)
        self._labs(mv[owner], claim[owner], day[owner], pos + 2, prov[owner], pos)

        # Preventive visit.
        mp = self.pick(np.ones(m.n, bool), 0.6, 0)
        age = m.age[mp]
        code = np.select(
            [age < 12, age < 18, age < 40, age < 65],
            [c("99393"), c("99394"), c("99395"), c("99396")],
            c("99397"),
        )
        prov = np.where(m.pcp[mp] >= 0, m.pcp[mp], self.one_of(net.roles["pcp"], mp.size))
        self.emit(
            mp,
            self.new_claims(mp.size),
            rng.integers(0, self.ndays, mp.size),
            claim_type=c("professional"),
            hcpcs_code=code,
            place_of_service_code=c("11"),
            rendering_npi=net.provider_npi_v[prov],
            billing_npi=self.org_npi(prov),
            diagnosis_code_1=np.where(age < 18, c("Z00.129"), c("Z00.00")),
            diagnosis_code_2=m.med_dx2[mp],
        )

        # Stand-alone laboratory claims (two lines each).
        ml, _ = expand(rng.poisson(3.0, m.n))
        k = ml.size
        claim = self.new_claims(k)
        day = rng.integers(0, self.ndays, k)
        labs = net.org_npi_provider[net.orgs_by_contract["170"]]
        lab = self.one_of(labs, k)
        for line in (1, 2):
            self._labs(
                ml, claim, day, np.full(k, line), lab, np.full(k, line - 1), pos_code="81", rendering=False
            )

        # Other office visits (specialists, urgent care).
        mo, _ = expand(rng.poisson(2.0, m.n))
        k = mo.size
        prov = self.one_of(net.roles["pcp"], k)
        self.emit(
            mo,
            self.new_claims(k),
            rng.integers(0, self.ndays, k),
            claim_type=c("professional"),
            hcpcs_code=choose(rng, c.arr("99213", "99214"), k),
            place_of_service_code=choose(rng, c.arr("11", "20"), k),
            rendering_npi=net.provider_npi_v[prov],
            billing_npi=self.org_npi(prov),
            diagnosis_code_1=m.med_dx1[mo],
            diagnosis_code_2=m.med_dx2[mo],
        )

        # Medical emergency visits: institutional, three lines.
        me = self.pick(np.ones(m.n, bool), 0.06, 0)
        me = np.concatenate([me, me[rng.random(me.size) < 0.1]])
        self._ed(
            me, rng.integers(0, self.ndays, me.size), choose(rng, c.arr("R07.9", "R10.9", "J06.9"), me.size)
        )

    def _conditions_on_record(self, mv: IntArray, first: BoolArray) -> dict[str, IntArray]:
        """Diagnosis slots 3–9 of a member's first PCP visit list every BH condition the member has, so
        claims-based prevalence and co-occurrence match the member's conditions (COC-01/02)."""
        slots = {f"diagnosis_code_{i}": np.full(mv.size, NULL, dtype=np.int64) for i in range(3, 10)}
        filled = np.zeros(mv.size, dtype=np.int64)
        for g in ("depression", "anxiety", "bipolar", "schizophrenia", "sud", "adhd", "trauma_stressor"):
            has = first & self.m.flags[g][mv]
            for i in range(7):
                here = has & (filled == i)
                slots[f"diagnosis_code_{i + 3}"][here] = self.m.dx[g][mv[here]]
            filled += has
        return slots

    def _labs(
        self,
        mv: IntArray,
        claim: IntArray,
        day: IntArray,
        line: IntArray,
        prov: IntArray,
        pos: IntArray,
        pos_code: str = "11",
        rendering: bool = True,
    ) -> None:
        c, m = self.c, self.m
        # Children never get metabolic panels here, so APM (metabolic monitoring) is controlled by _apm.
        adult_pool = c.arr("80053", "85025", "83036", "80061", "84443", "80048")
        child_pool = c.arr("85025", "84443")
        k = mv.size
        pick_a = adult_pool[(self.rng.integers(0, adult_pool.size, k) + pos) % adult_pool.size]
        pick_c = child_pool[(self.rng.integers(0, child_pool.size, k) + pos) % child_pool.size]
        code = np.where(m.age[mv] >= 18, pick_a, pick_c)
        self.emit(
            mv,
            claim,
            day,
            line_no=line,
            claim_type=c("professional"),
            hcpcs_code=code,
            place_of_service_code=c(pos_code),
            rendering_npi=self.net.provider_npi_v[prov] if rendering else None,
            billing_npi=self.org_npi(prov),
            diagnosis_code_1=m.med_dx1[mv],
        )

    def _ed(
        self,
        mv: IntArray,
        day: IntArray,
        dx1: IntArray,
        dx2: IntArray | None = None,
        drug_screen: BoolArray | None = None,
    ) -> None:
        c, net, k = self.c, self.net, mv.size
        claim = self.new_claims(k)
        hospital = self.one_of(net.org_npi_provider[net.orgs_by_contract["130"]], k)
        npi = net.provider_npi_v[hospital]
        common = {
            "claim_type": c("institutional"),
            "bill_type_code": c("0131"),
            "billing_npi": npi,
            "facility_npi": npi,
            "discharge_disposition_code": c("01"),
            "diagnosis_code_1": dx1,
            "diagnosis_code_2": dx2,
        }
        self.emit(
            mv,
            claim,
            day,
            line_no=1,
            revenue_center_code=c("0450"),
            hcpcs_code=choose(self.rng, c.arr("99283", "99284", "99285"), k, [0.4, 0.4, 0.2]),
            **common,
        )
        lab = c("85025") if drug_screen is None else np.where(drug_screen, c("80307"), c("85025"))
        self.emit(mv, claim, day, line_no=2, revenue_center_code=c("0300"), hcpcs_code=lab, **common)
        self.emit(mv, claim, day, line_no=3, revenue_center_code=c("0250"), **common)

    # ------------------------------------------------------------------ outpatient psychotherapy (OPM-03)
    def psychotherapy(self) -> None:
        rng, c, m, net = self.rng, self.c, self.m, self.net
        chosen = self.pick(self.flag(*BH_MH), 0.55 * self.flag(*BH_MH).mean(), 0)
        long_weekly = self.pick(self.flag(*BH_MH) & m.full_year, 0.004, 6)  # weekly > 6 months, no step-down
        chosen = np.setdiff1d(chosen, long_weekly)
        r = rng.random(chosen.size)
        members = np.concatenate([long_weekly, chosen])
        n_sess = np.concatenate(
            [
                rng.integers(30, 50, long_weekly.size),
                np.where(r < 0.35, rng.integers(6, 18, chosen.size), rng.integers(4, 13, chosen.size)),
            ]
        )
        interval = np.concatenate([np.full(long_weekly.size, 7), np.where(r < 0.35, 14, 7)])
        start = np.concatenate(
            [rng.integers(0, 40, long_weekly.size), rng.integers(0, self.ndays - 60, chosen.size)]
        )
        owner, pos = expand(n_sess)
        day = start[owner] + pos * interval[owner] + rng.integers(0, 2, owner.size)
        keep = day < self.ndays
        owner, pos, day = owner[keep], pos[keep], day[keep]
        mv = members[owner]
        prov = m.therapist[mv]
        size = mv.size
        code = np.where(
            pos == 0,
            c("90791"),
            choose(
                rng, c.arr("90837", "90834", "90832", "90847", "90853"), size, [0.45, 0.38, 0.07, 0.05, 0.05]
            ),
        )
        pos_code = choose(rng, c.arr("11", "02", "10"), size, [0.75, 0.1, 0.15])
        tele = (pos_code == c("02")) | (pos_code == c("10"))
        minutes = np.select([code == c("90837"), code == c("90832")], [60, 30], 45)
        self.emit(
            mv,
            self.new_claims(size),
            day,
            claim_type=c("professional"),
            hcpcs_code=code,
            hcpcs_modifier_1=np.where(tele, c("95"), NULL),
            place_of_service_code=pos_code,
            rendering_npi=net.provider_npi_v[prov],
            billing_npi=self.org_npi(prov),
            rendering_staff_id=net.provider_staff_v[prov],
            face_to_face_minutes=minutes,
            diagnosis_code_1=m.bh_dx1[mv],
            diagnosis_code_2=m.bh_dx2[mv],
        )

    # ------------------------------------------------------------------ IOP (IOP-02..04)
    def iop(self) -> None:
        m = self.m
        adult_ok = (
            (m.age >= 18)
            & self.flag("depression", "bipolar", "sud", "anxiety", "trauma_stressor")
            & m.full_year
        )
        teen_ok = (m.age >= 13) & (m.age < 18) & self.flag(*BH_ALL) & m.full_year
        young = (
            (m.age >= 10) & (m.age <= 11) & m.full_year
        )  # 12 at most during the year: out of band (IOP-03)
        young_bh = young & self.flag(*BH_ALL)
        adults = self.pick(adult_ok, 0.003, 5)
        teens = self.pick(teen_ok, 0.002, 4)
        kids = self.pick(young_bh if young_bh.any() else young, 0.0002, 2)
        members = np.concatenate([adults, teens, kids])
        used = np.zeros(m.n, bool)
        used[members] = True
        m.extra["iop"] = members
        self.iop_episode(
            members,
            self.rng.integers(20, 280, members.size),
            self.rng.integers(4, 9, members.size),
            duplicate=True,
        )
        self.used_sud = used

    def iop_episode(
        self, members: IntArray, start: IntArray, weeks: IntArray, duplicate: bool = False
    ) -> None:
        rng, c, m, net = self.rng, self.c, self.m, self.net
        k = members.size
        if k == 0:
            return
        days_pw = choose(rng, [3, 4, 5], k * 8, [0.5, 0.3, 0.2]).reshape(k, 8)
        short_week = rng.random((k, 8)) < 0.15  # weeks with fewer than 3 days (IOP-04)
        days_pw = np.where(short_week, rng.integers(1, 3, (k, 8)), days_pw)
        offsets = np.array(
            [
                [0, 0, 0, 0, 0],
                [0, 0, 0, 0, 0],
                [0, 2, 0, 0, 0],
                [0, 2, 4, 0, 0],
                [0, 1, 2, 4, 0],
                [0, 1, 2, 3, 4],
            ]
        )
        w = np.arange(8)[None, :, None]
        s = np.arange(5)[None, None, :]
        mask = (w < weeks[:, None, None]) & (s < days_pw[:, :, None])
        day3 = start[:, None, None] + 7 * w + offsets[days_pw][:, :, :]
        owner = np.broadcast_to(np.arange(k)[:, None, None], mask.shape)[mask]
        day = day3[mask]
        keep = day < self.ndays
        owner, day = owner[keep], day[keep]
        mv = members[owner]
        size = mv.size
        adult = m.age[mv] >= 18
        sud = m.flags["sud"][mv] & ~self.flag("depression", "bipolar", "schizophrenia")[mv]
        short_day = rng.random(size) < 0.12
        minutes = np.where(
            adult,
            np.where(
                short_day, rng.integers(8, 12, size) * 15, rng.integers(12, 15, size) * 15
            ),  # < 3 h on short days
            np.where(
                short_day, rng.integers(5, 8, size) * 15, rng.integers(8, 12, size) * 15
            ),  # < 2 h on short days
        )
        start_min = choose(rng, [540, 780, 1050], k)[owner]
        orgs = net.orgs_by_contract["120"]
        org = orgs[(members % orgs.size)][owner]
        org_npi = net.provider_npi_v[net.org_npi_provider[org]]
        therapist = _first_role_at(net, "therapist", org)
        facilitator = np.where(
            sud, _staff_at(net, org, "iop_sud", 0), _staff_at(net, org, "iop_mh", owner % 2)
        )
        facilitator = np.where(
            rng.random(size) < 0.08, _staff_at(net, org, "iop_peer", 0), facilitator
        )  # IOP-07
        institutional = (members % 4 == 0)[owner]
        self.emit(
            mv,
            self.new_claims(size),
            day,
            claim_type=np.where(institutional, c("institutional"), c("professional")),
            hcpcs_code=np.where(sud, c("H0015"), c("S9480")),
            revenue_center_code=np.where(institutional, np.where(sud, c("0906"), c("0905")), NULL),
            bill_type_code=np.where(institutional, c("0131"), NULL),
            place_of_service_code=np.where(institutional, NULL, c("53")),
            rendering_npi=np.where(institutional, NULL, net.provider_npi_v[therapist]),
            billing_npi=org_npi,
            facility_npi=np.where(institutional, org_npi, NULL),
            service_start_time=self.c.times[start_min],
            service_stop_time=self.c.times[start_min + minutes],
            face_to_face_minutes=minutes,
            rendering_staff_id=facilitator,
            diagnosis_code_1=np.where(m.bh_dx1[mv] >= 0, m.bh_dx1[mv], c("F32.A")),
            diagnosis_code_2=m.bh_dx2[mv],
        )
        if not duplicate:
            return
        # Other BH services billed on IOP days duplicate the per diem (IOP-02).
        dup = rng.random(size) < np.where(np.isin(owner, np.arange(0, k, 3)), 0.25, 0.0)
        dm, dd = mv[dup], day[dup]
        kind = rng.integers(0, 3, dm.size)
        cmhc = net.orgs_by_contract["111"]
        cm_org = cmhc[dm % cmhc.size]
        cm_staff = _staff_at(net, cm_org, "cm_ii", 0)
        cm_npi = net.provider_npi_v[net.org_npi_provider[cm_org]]
        therapist = m.therapist[dm]
        self.emit(
            dm,
            self.new_claims(dm.size),
            dd,
            claim_type=c("professional"),
            hcpcs_code=np.select([kind == 0, kind == 1], [c("H2017"), c("T1017")], c("90837")),
            hcpcs_modifier_1=np.where(kind == 1, c("HE"), NULL),
            hcpcs_modifier_2=np.where(kind == 1, c("HM"), NULL),
            service_unit_quantity=np.select([kind == 0, kind == 1], [4, 2], 1),
            place_of_service_code=c("53"),
            rendering_npi=np.where(kind == 2, net.provider_npi_v[therapist], NULL),
            billing_npi=np.where(kind == 2, self.org_npi(therapist), cm_npi),
            rendering_staff_id=np.where(kind == 2, net.provider_staff_v[therapist], cm_staff),
            activity_code=np.where(kind == 1, c("face_to_face_member"), NULL),
            face_to_face_minutes=np.select([kind == 0, kind == 1], [60, 30], 60),
            service_start_time=np.where(kind == 1, self.c.times[840], NULL),
            service_stop_time=np.where(kind == 1, self.c.times[870], NULL),
            travel_minutes=np.where(kind == 1, 0, NULL),
            diagnosis_code_1=m.bh_dx1[dm],
        )

    # ------------------------------------------------------------ inpatient, PHP, residential (FUH, OPM-09)
    def inpatient(self) -> None:
        rng, c, m, net = self.rng, self.c, self.m, self.net
        ok = self.flag("schizophrenia", "bipolar", "depression", "sud") & (m.age >= 13) & m.full_year
        members = self.pick(ok, 0.006, 8)
        k = members.size
        stays = np.where(rng.random(k) < 0.25, rng.integers(2, 5, k), 1)  # repeated readmissions
        los = rng.integers(3, 16, (k, 4))
        gap = rng.integers(5, 41, (k, 4))
        first = rng.integers(10, 250, k)
        adm = first[:, None] + np.cumsum(los + gap, axis=1) - (los + gap)
        dis = adm + los
        mask = (np.arange(4)[None, :] < stays[:, None]) & (adm < self.ndays)
        owner = np.broadcast_to(np.arange(k)[:, None], mask.shape)[mask]
        a, d = adm[mask], dis[mask]
        mv = members[owner]
        size = mv.size
        hospitals = net.orgs_by_contract["130"]
        org = hospitals[mv % hospitals.size]
        npi = net.provider_npi_v[net.org_npi_provider[org]]
        f = m.flags
        drg = np.select(
            [f["schizophrenia"][mv] | f["bipolar"][mv], f["depression"][mv]], [c("885"), c("881")], c("897")
        )
        claim = self.new_claims(size)
        head = {
            "claim_type": c("institutional"),
            "cs": a,
            "ce": d,
            "le": d,
            "adm": a,
            "dis": d,
            "bill_type_code": c("0111"),
            "admit_source_code": choose(rng, c.arr("1", "2", "4"), size, [0.6, 0.3, 0.1]),
            "admit_type_code": choose(rng, c.arr("1", "2"), size, [0.7, 0.3]),
            "discharge_disposition_code": choose(rng, c.arr("01", "07", "65"), size, [0.85, 0.1, 0.05]),
            "ms_drg_code": drg,
            "billing_npi": npi,
            "facility_npi": npi,
            "diagnosis_code_1": m.bh_dx1[mv],
            "diagnosis_code_2": np.where(rng.random(size) < 0.3, c("R45.851"), m.bh_dx2[mv]),
        }
        room = choose(rng, c.arr("0114", "0124", "0204"), size, [0.7, 0.25, 0.05])
        self.emit(mv, claim, a, line_no=1, revenue_center_code=room, service_unit_quantity=d - a, **head)
        self.emit(mv, claim, a, line_no=2, revenue_center_code=c("0250"), **head)
        psych = _first_role_at(net, "psychiatrist", org)
        for code, when in (("99222", a), ("99238", d)):
            self.emit(
                mv,
                self.new_claims(size),
                when,
                claim_type=c("professional"),
                hcpcs_code=c(code),
                place_of_service_code=c("51"),
                rendering_npi=net.provider_npi_v[psych],
                billing_npi=npi,
                diagnosis_code_1=m.bh_dx1[mv],
            )
        self._follow_up(mv, d)
        # Step-down after the last stay (OPM-09): PHP then IOP, IOP only, or nothing.
        last = np.r_[owner[1:] != owner[:-1], True]
        lm, ld = mv[last], d[last]
        r = rng.random(lm.size)
        php = r < 0.4
        self.php(lm[php], ld[php] + rng.integers(1, 4, int(php.sum())))
        to_iop = r < 0.6
        weeks = rng.integers(3, 6, int(to_iop.sum()))
        self.iop_episode(
            lm[to_iop], ld[to_iop] + np.where(php[to_iop], 14, rng.integers(2, 8, int(to_iop.sum()))), weeks
        )
        m.extra["inpatient"] = members

    def _follow_up(self, mv: IntArray, discharge: IntArray) -> None:
        """A BH visit within 7 days, within 8–30 days, or none (HEDIS FUH/FUM/FUA)."""
        rng, c, m, net = self.rng, self.c, self.m, self.net
        r = rng.random(mv.size)
        when = np.where(
            r < 0.45, discharge + rng.integers(1, 8, mv.size), discharge + rng.integers(8, 31, mv.size)
        )
        has = r < 0.65
        fm, fd = mv[has], when[has]
        sud_only = m.flags["sud"][fm] & ~self.flag(*BH_MH)[fm]
        therapist = m.therapist[fm]
        self.emit(
            fm,
            self.new_claims(fm.size),
            fd,
            claim_type=c("professional"),
            hcpcs_code=np.where(sud_only, c("H0004"), choose(rng, c.arr("90837", "90834", "99214"), fm.size)),
            service_unit_quantity=np.where(sud_only, 4, 1),
            place_of_service_code=c("11"),
            rendering_npi=net.provider_npi_v[therapist],
            billing_npi=self.org_npi(therapist),
            rendering_staff_id=net.provider_staff_v[therapist],
            diagnosis_code_1=m.bh_dx1[fm],
        )

    def php(self, members: IntArray, start: IntArray) -> None:
        c, net = self.c, self.net
        days = self.rng.integers(5, 11, members.size)
        owner, pos = expand(days)
        day = start[owner] + pos + 2 * (pos // 5)  # weekdays
        mv = members[owner]
        hospitals = net.orgs_by_contract["130"]
        npi = net.provider_npi_v[net.org_npi_provider[hospitals[mv % hospitals.size]]]
        self.emit(
            mv,
            self.new_claims(mv.size),
            day,
            claim_type=c("institutional"),
            bill_type_code=c("0131"),
            revenue_center_code=choose(self.rng, c.arr("0912", "0913"), mv.size),
            hcpcs_code=c("H0035"),
            billing_npi=npi,
            facility_npi=npi,
            diagnosis_code_1=self.m.bh_dx1[mv],
        )

    def residential(self) -> None:
        rng, c, m, net = self.rng, self.c, self.m, self.net
        ok = self.flag("sud", "schizophrenia", "bipolar") & (m.age >= 18) & m.full_year
        members = self.pick(ok, 0.0015, 3)
        k = members.size
        adm = rng.integers(20, 250, k)
        los = rng.integers(14, 46, k)
        dis = adm + los
        sud = m.flags["sud"][members]
        orgs = net.orgs_by_contract["160"]
        npi = net.provider_npi_v[net.org_npi_provider[orgs[members % orgs.size]]]
        self.emit(
            members,
            self.new_claims(k),
            adm,
            cs=adm,
            ce=dis,
            le=dis,
            adm=adm,
            dis=dis,
            claim_type=c("institutional"),
            bill_type_code=c("0861"),
            revenue_center_code=np.where(sud, c("1002"), c("1001")),
            hcpcs_code=np.where(sud, choose(rng, c.arr("H0018", "H0019"), k), c("H0017")),
            service_unit_quantity=los,
            admit_source_code=c("1"),
            admit_type_code=c("3"),
            discharge_disposition_code=choose(rng, c.arr("01", "07"), k, [0.85, 0.15]),
            billing_npi=npi,
            facility_npi=npi,
            diagnosis_code_1=np.where(sud, m.dx["sud"][members], m.bh_dx1[members]),
        )
        step = rng.random(k) < 0.5  # step-down to IOP, or no lower level of care (OPM-09)
        self.iop_episode(
            members[step],
            dis[step] + rng.integers(2, 11, int(step.sum())),
            rng.integers(3, 7, int(step.sum())),
        )
        m.extra["residential"] = members

    # ------------------------------------------------------------------ ED for MH/SUD (FUM, FUA)
    def bh_emergency(self) -> None:
        rng, c, m = self.rng, self.c, self.m
        ok = self.flag(*BH_ALL) & (m.age >= 6)
        members = self.pick(ok, 0.015, 10)
        k = members.size
        visits = np.where(rng.random(k) < 0.2, rng.integers(3, 7, k), 1)  # frequent ED users
        owner, _ = expand(visits)
        mv = members[owner]
        day = rng.integers(0, self.ndays - 1, mv.size)
        sud = m.flags["sud"][mv] & (rng.random(mv.size) < 0.6)
        dx1 = np.where(sud, m.dx["sud"][mv], m.bh_dx1[mv])
        self._ed(mv, day, dx1, np.where(rng.random(mv.size) < 0.2, c("R45.851"), NULL), drug_screen=sud)
        self._follow_up(mv, day)
        m.extra["ed"] = members

    # ------------------------------------------------------------------ SUD initiation & engagement (IET)
    def sud_iet(self) -> None:
        rng, c, m, net = self.rng, self.c, self.m, self.net
        taken = np.zeros(m.n, bool)
        for key in ("ed", "inpatient", "residential", "iop"):
            taken[m.extra.get(key, np.zeros(0, np.int64))] = True
        ok = m.flags["sud"] & ~self.flag(*BH_MH) & ~taken & m.full_year & (m.age >= 13)
        members = self.pick(ok, 0.4 * ok.mean(), 6)
        k = members.size
        index = rng.integers(70, 300, k)
        counselors = net.roles["addiction"]
        prov = counselors[members % counselors.size]
        dx = m.dx["sud"][members]
        self._sud_visit(members, index, prov, dx, c.arr("H0001", "99213"))
        r = rng.random(k)
        init = r >= 0.35  # 35% never initiate
        engage = r >= 0.65  # 35% initiate and engage
        init_day = index + rng.integers(1, 15, k)
        self._sud_visit(members[init], init_day[init], prov[init], dx[init], c.arr("H0004", "H0005"))
        for _ in range(2):
            self._sud_visit(
                members[engage],
                init_day[engage] + rng.integers(3, 35, int(engage.sum())),
                prov[engage],
                dx[engage],
                c.arr("H0004", "H0005", "99213"),
            )
        m.extra["iet"] = members

    def _sud_visit(self, mv: IntArray, day: IntArray, prov: IntArray, dx: IntArray, codes: IntArray) -> None:
        c, net = self.c, self.net
        code = self.one_of(codes, mv.size)
        self.emit(
            mv,
            self.new_claims(mv.size),
            day,
            claim_type=c("professional"),
            hcpcs_code=code,
            service_unit_quantity=np.where(code == c("H0004"), 4, 1),
            place_of_service_code=choose(self.rng, c.arr("57", "11"), mv.size),
            rendering_npi=net.provider_npi_v[prov],
            billing_npi=self.org_npi(prov),
            rendering_staff_id=net.provider_staff_v[prov],
            diagnosis_code_1=dx,
        )

    # ------------------------------------------------------------------ T1017 case management (TCM-01..05)
    def case_management(self) -> None:
        rng, c, m, net = self.rng, self.c, self.m, self.net
        ok = (
            m.medicaid
            & (m.age >= 3)
            & (
                self.flag("schizophrenia", "bipolar", "depression", "trauma_stressor", "sud")
                | ((m.age <= 20) & self.flag(*BH_ALL))
            )
        )
        members = self.pick(ok, 0.015, 24)
        k = members.size
        age = m.age[members]
        r = rng.random(k)
        # Variants: 0 TF, 1 TG, 2 HN, 3 HM, 4 PACT (TCM-02). A few adults get TF (age band 0–20 violated).
        variant = np.where(
            age <= 20,
            np.select([r < 0.7, r < 0.85], [0, 2], 3),
            np.select([r < 0.25, r < 0.5, r < 0.7, r < 0.95], [1, 2, 3, 4], 0),
        )
        # Every variant shows up even in a small block: one child on TF, one adult on each of the others.
        kids_i, adults_i = np.flatnonzero(age <= 20)[:1], np.flatnonzero(age >= 21)[:4]
        variant[kids_i] = 0
        variant[adults_i] = np.array([1, 2, 3, 4])[: adults_i.size]
        cap_56 = (variant == 0) | (variant == 4)
        program = np.where(
            m.flags["sud"][members] & ~self.flag(*BH_MH)[members],
            c("HF"),
            np.where(rng.random(k) < 0.05, c("HV"), c("HE")),
        )
        level = np.select(
            [variant == 0, variant == 1, variant == 2, variant == 3],
            [c("TF"), c("TG"), c("HN"), c("HM")],
            NULL,
        )
        contract = np.select(
            [variant <= 1, variant == 2, variant == 3], [0, 1, 2], 3
        )  # CMHC, OPBH, either, PACT
        contract = np.where(contract == 2, np.where(rng.random(k) < 0.5, 0, 1), contract)
        kinds = ("111", "110", "", "114")
        org = np.zeros(k, dtype=np.int64)
        for ci, kind in enumerate(kinds):
            if kind:
                sel = contract == ci
                orgs = net.orgs_by_contract[kind]
                org[sel] = orgs[rng.integers(0, orgs.size, int(sel.sum()))]
        wants_cm_i = variant == 3
        mismatch = rng.random(k) < 0.08  # CM I billing a CM II level, or the reverse (credential mismatch)
        mismatch[: min(k, 2)] = True
        role_cm_i = wants_cm_i ^ mismatch
        slot = rng.integers(0, 2, k)
        staff = np.where(role_cm_i, _staff_at(net, org, "cm_i", slot), _staff_at(net, org, "cm_ii", slot))
        heavy = rng.random(k) < 0.12  # months over the variant cap (25 or 56 units)
        heavy[-min(k, 3) :] = True

        # Residence in an excluded setting for part of the year (TCM-04).
        excluded = pick(rng, np.ones(k, bool), 0.12 * k, 3)
        adult_settings = c.arr("nursing_facility", "residential_behavior_management", "group_home", "icf_iid")
        child_settings = c.arr("foster_home", "group_home")
        setting = np.where(
            age[excluded] >= 18,
            self.one_of(adult_settings, excluded.size),
            self.one_of(child_settings, excluded.size),
        )
        start = rng.integers(-200, 150, excluded.size)
        end = np.where(rng.random(excluded.size) < 0.5, NO_DAY, rng.integers(200, self.ndays, excluded.size))
        residential_orgs = net.orgs_by_contract["160"]
        facility = np.where(
            setting == c("foster_home"),
            NULL,
            net.provider_npi_v[net.org_npi_provider[self.one_of(residential_orgs, excluded.size)]],
        )
        self.residence.append((members[excluded], setting, start, end, facility))

        # Transition from an institution (TCM-05): discharge during the year after a long or short stay.
        adults = np.flatnonzero((age >= 18) & ~np.isin(np.arange(k), excluded))
        trans = pick(rng, np.isin(np.arange(k), adults), 0.06 * k, 3)
        discharge = rng.integers(100, 250, trans.size)
        long_stay = np.arange(trans.size) % 3 != 2
        stay_start = np.where(
            long_stay,
            discharge - rng.integers(200, 400, trans.size),
            discharge - rng.integers(20, 120, trans.size),
        )
        inst = np.where(rng.random(trans.size) < 0.5, c("imd"), c("inpatient_psychiatric"))
        inst[-1:] = c("public_institution")
        hosp_npi = net.provider_npi_v[
            net.org_npi_provider[self.one_of(net.orgs_by_contract["130"], trans.size)]
        ]
        self.residence.append(
            (
                members[trans],
                inst,
                stay_start,
                discharge - 1,
                np.where(inst == c("public_institution"), NULL, hosp_npi),
            )
        )
        begin = np.zeros(k, dtype=np.int64)
        begin[trans] = discharge
        window = np.where(long_stay, 60, 14)
        n_t = rng.integers(3, 7, trans.size)
        t_owner, _ = expand(n_t)
        outside = (np.arange(trans.size) % 4 == 3)[t_owner] & (
            rng.random(t_owner.size) < 0.5
        )  # before the window
        t_day = np.where(
            outside,
            discharge[t_owner] - rng.integers(61, 90, t_owner.size),
            discharge[t_owner] - 1 - rng.integers(0, window[t_owner], t_owner.size),
        )
        t_idx = trans[t_owner]

        # Regular monthly sessions.
        first_month = rng.integers(0, 3, k)
        per_month = np.where(
            heavy,
            np.where(cap_56, rng.integers(16, 21, k), rng.integers(10, 15, k)),
            np.where(cap_56, rng.poisson(5, k), rng.poisson(3, k)),
        )
        mo = np.arange(12)[None, :, None]
        s = np.arange(20)[None, None, :]
        counts = np.broadcast_to(per_month[:, None, None], (k, 12, 1))
        mask = (mo >= first_month[:, None, None]) & (s < np.minimum(counts, 20))
        owner = np.broadcast_to(np.arange(k)[:, None, None], mask.shape)[mask]
        month = np.broadcast_to(mo, mask.shape)[mask]
        day = self.month_start[month] + (rng.random(owner.size) * self.month_len[month]).astype(np.int64)
        keep = day >= begin[owner]
        owner, day = owner[keep], day[keep]
        owner = np.concatenate([owner, t_idx])
        day = np.concatenate([day, t_day])
        is_transition = np.r_[np.zeros(owner.size - t_idx.size, bool), np.ones(t_idx.size, bool)]
        size = owner.size
        minutes = np.where(
            heavy[owner],
            rng.integers(3, 7, size) * 15,
            choose(rng, [15, 20, 30, 45, 60, 75, 90], size, [0.15, 0.1, 0.25, 0.2, 0.15, 0.1, 0.05]),
        )
        long_session = rng.random(size) < 0.03  # more than 16 units in a day (TCM-02)
        minutes = np.where(long_session, rng.integers(250, 301, size), minutes)
        units = np.maximum(1, (minutes + 7) // 15)  # one unit = 15 minutes of face-to-face time (TCM-01)
        start_min = 480 + 15 * rng.integers(0, 34, size)
        stop_min = np.minimum(start_min + minutes, 24 * 60 - 1)
        travel = np.where(rng.random(size) < 0.35, rng.integers(10, 61, size), 0)
        activity = np.where(
            rng.random(size) < 0.07, self.one_of(c.tcm_not, size), self.one_of(c.tcm_ok[:-1], size)
        )
        activity = np.where(is_transition, c("transition_from_institution"), activity)
        mv = members[owner]
        billing = net.provider_npi_v[net.org_npi_provider[org[owner]]]
        self.emit(
            mv,
            self.new_claims(size),
            day,
            claim_type=c("professional"),
            hcpcs_code=c("T1017"),
            hcpcs_modifier_1=program[owner],
            hcpcs_modifier_2=level[owner],
            service_unit_quantity=units,
            place_of_service_code=choose(rng, c.arr("12", "11", "99"), size, [0.5, 0.3, 0.2]),
            billing_npi=billing,
            rendering_staff_id=staff[owner],
            service_start_time=c.times[start_min],
            service_stop_time=c.times[stop_min],
            face_to_face_minutes=minutes,
            travel_minutes=travel,
            activity_code=activity,
            diagnosis_code_1=m.bh_dx1[mv],
        )
        m.extra["tcm"] = members

    # ------------------------------------------------------------ ECT, rTMS, psychological testing (OPM-01)
    def special_procedures(self) -> None:
        rng, c, m, net = self.rng, self.c, self.m, self.net
        adults_dep = self.flag("depression", "bipolar") & (m.age >= 18) & m.full_year
        ect = self.pick(adults_dep, 0.0005, 2)
        owner, pos = expand(rng.integers(9, 13, ect.size))
        start = rng.integers(20, 300, ect.size)
        mv = ect[owner]
        day = start[owner] + (pos // 3) * 7 + np.array([0, 2, 4])[pos % 3]
        hospitals = net.orgs_by_contract["130"]
        org = hospitals[mv % hospitals.size]
        psych = _first_role_at(net, "psychiatrist", org)
        self.emit(
            mv,
            self.new_claims(mv.size),
            day,
            claim_type=c("professional"),
            hcpcs_code=c("90870"),
            place_of_service_code=c("22"),
            rendering_npi=net.provider_npi_v[psych],
            billing_npi=net.provider_npi_v[net.org_npi_provider[org]],
            diagnosis_code_1=m.bh_dx1[mv],
        )

        rtms = self.pick(m.flags["depression"] & (m.age >= 18) & m.full_year, 0.0008, 2)
        owner, pos = expand(np.full(rtms.size, 30))
        start = rng.integers(20, 280, rtms.size)
        mv = rtms[owner]
        day = start[owner] + (pos // 5) * 7 + pos % 5
        code = np.where(pos == 0, c("90867"), np.where(pos == 15, c("90869"), c("90868")))
        prov = m.psychiatrist[mv]
        self.emit(
            mv,
            self.new_claims(mv.size),
            day,
            claim_type=c("professional"),
            hcpcs_code=code,
            place_of_service_code=c("11"),
            rendering_npi=net.provider_npi_v[prov],
            billing_npi=self.org_npi(prov),
            diagnosis_code_1=m.dx["depression"][mv],
        )

        tested = self.pick(self.flag(*BH_MH) & (m.age >= 6), 0.004, 5)
        k = tested.size
        day = rng.integers(10, self.ndays - 5, k)
        psychologists = net.roles["psychologist"]
        prov = psychologists[rng.integers(0, psychologists.size, k)]
        claim = self.new_claims(k)
        neuro = rng.random(k) < 0.2
        lines = (
            (np.where(neuro, c("96132"), c("96130")), np.ones(k, np.int64)),
            (np.where(neuro, c("96133"), c("96131")), rng.integers(1, 4, k)),
            (c.arr("96136").repeat(k), np.ones(k, np.int64)),
            (c.arr("96137").repeat(k), rng.integers(2, 6, k)),
        )
        for n_line, (code, units) in enumerate(lines, start=1):
            self.emit(
                tested,
                claim,
                day,
                line_no=n_line,
                claim_type=c("professional"),
                hcpcs_code=code,
                service_unit_quantity=units,
                place_of_service_code=c("11"),
                rendering_npi=net.provider_npi_v[prov],
                billing_npi=self.org_npi(prov),
                rendering_staff_id=net.provider_staff_v[prov],
                diagnosis_code_1=m.bh_dx1[tested],
            )
        self.emit(
            tested[neuro],
            claim[neuro],
            day[neuro],
            line_no=5,
            claim_type=c("professional"),
            hcpcs_code=c("96116"),
            place_of_service_code=c("11"),
            rendering_npi=net.provider_npi_v[prov[neuro]],
            billing_npi=self.org_npi(prov[neuro]),
            diagnosis_code_1=m.bh_dx1[tested[neuro]],
        )
        # Member-level testing notices (OPM-01): about a third of tested members, before the test.
        noticed = tested[np.arange(k) % 3 == 0]
        self.notices.append((noticed, day[np.arange(k) % 3 == 0] - rng.integers(15, 90, noticed.size)))

    # ------------------------------------------------------------ pharmacy (SAA, AMM, APM, polypharmacy)
    def pharmacy(self) -> None:
        rng, c, m, net = self.rng, self.c, self.m, self.net
        f, n = m.flags, m.n

        def r() -> FloatArray:  # a fresh uniform draw per member
            return rng.random(n)

        users = {
            "antipsychotic": (f["schizophrenia"] & (r() < 0.9))
            | (f["bipolar"] & (r() < 0.6))
            | (f["depression"] & (r() < 0.05))
            | ((m.age < 18) & self.flag(*BH_MH) & (r() < 0.04)),
            "antidepressant": (f["depression"] & (r() < 0.55))
            | (self.flag("anxiety", "trauma_stressor") & (r() < 0.3)),
            "mood_stabilizer": f["bipolar"] & (r() < 0.55),
            "anxiolytic": (f["anxiety"] & (r() < 0.25)) | (f["trauma_stressor"] & (r() < 0.1)),
            "stimulant": f["adhd"] & (r() < 0.6),
            "sud_treatment": f["sud"] & (r() < 0.25) & (m.age >= 16),
        }
        kids_ap = self.pick((m.age >= 6) & (m.age < 18) & self.flag(*BH_MH) & m.full_year, 0.0, 6)
        users["antipsychotic"][kids_ap] = True
        poly = self.pick(self.flag(*BH_MH) & (m.age >= 18) & m.full_year, 0.003, 4)  # >= 3 classes at once
        for cls in ("antipsychotic", "antidepressant", "anxiolytic"):
            users[cls][poly] = True
        psychotropic = np.zeros(n, bool)
        for u in users.values():
            psychotropic |= u
        chronic = users["antipsychotic"] | users["stimulant"] | users["mood_stabilizer"]
        shoppers = self.pick(chronic & m.full_year, 0.004, 4)  # many prescribers and pharmacies
        shopper = np.zeros(n, bool)
        shopper[shoppers] = True
        poly_mask = np.zeros(n, bool)
        poly_mask[poly] = True

        for cls, mask in users.items():
            members = np.flatnonzero(mask)
            k = members.size
            if k == 0:
                continue
            gappy_rate = 0.35 if cls == "antipsychotic" else 0.15
            gappy = (rng.random(k) < gappy_rate) & ~poly_mask[members]
            start = rng.integers(0, 25, k)
            n_fills = np.full(k, 14)
            if cls == "antidepressant":
                new = (rng.random(k) < 0.4) & ~poly_mask[members]  # new starts (AMM)
                course = rng.random(k)
                start = np.where(new, rng.integers(40, 200, k), start)
                n_fills = np.where(
                    new, np.select([course < 0.35, course < 0.55], [rng.integers(1, 3, k), 3], 14), 14
                )
                gappy &= ~new
            if cls == "antipsychotic":
                gappy[np.isin(members, kids_ap[::2])] = True
            interval = np.where(gappy[:, None], rng.integers(40, 80, (k, 14)), rng.integers(28, 33, (k, 14)))
            day = start[:, None] + np.cumsum(interval, axis=1) - interval
            mask2 = (np.arange(14)[None, :] < n_fills[:, None]) & (day < self.ndays)
            owner = np.broadcast_to(np.arange(k)[:, None], mask2.shape)[mask2]
            self._fills(members, owner, day[mask2], cls, shopper)

        # Non-psychotropic maintenance and acute drugs.
        for cond, ingredient, every in (
            ("diabetes", "metformin", 30),
            ("hypertension", "lisinopril", 30),
            ("hyperlipidemia", "atorvastatin", 30),
            ("hypothyroid", "levothyroxine", 30),
            ("asthma", "albuterol", 60),
        ):
            members = np.flatnonzero(f[cond] & (rng.random(n) < 0.55))
            k = members.size
            interval = rng.integers(every - 2, every + 8, (k, 14))
            day = rng.integers(0, 30, k)[:, None] + np.cumsum(interval, axis=1) - interval
            mask2 = day < self.ndays
            owner = np.broadcast_to(np.arange(k)[:, None], mask2.shape)[mask2]
            self._fills(members, owner, day[mask2], "other", shopper, ingredient=ingredient, supply=every)
        acute = np.flatnonzero(rng.random(n) < 0.12)
        owner, _ = expand(rng.integers(1, 3, acute.size))
        self._fills(
            acute,
            owner,
            rng.integers(0, self.ndays, owner.size),
            "other",
            shopper,
            ingredient="amoxicillin",
            supply=10,
        )

        # Psychiatric medication management visits for members on psychotropics.
        on_meds = np.flatnonzero(psychotropic)
        owner, pos = expand(rng.integers(2, 6, on_meds.size))
        mv = on_meds[owner]
        day = rng.integers(0, 40, on_meds.size)[owner] + pos * rng.integers(55, 90, owner.size)
        keep = day < self.ndays
        mv, day = mv[keep], day[keep]
        prov = m.psychiatrist[mv]
        self.emit(
            mv,
            self.new_claims(mv.size),
            day,
            claim_type=c("professional"),
            hcpcs_code=choose(rng, c.arr("99213", "99214"), mv.size, [0.3, 0.7]),
            place_of_service_code=c("11"),
            rendering_npi=net.provider_npi_v[prov],
            billing_npi=self.org_npi(prov),
            diagnosis_code_1=m.bh_dx1[mv],
            diagnosis_code_2=m.bh_dx2[mv],
        )

        # Metabolic monitoring for children on antipsychotics (APM): about half are tested.
        kids = np.flatnonzero(users["antipsychotic"] & (m.age < 18))
        tested = kids[np.arange(kids.size) % 2 == 0]
        labs = net.org_npi_provider[net.orgs_by_contract["170"]]
        for code in ("83036", "80061"):
            self.emit(
                tested,
                self.new_claims(tested.size),
                rng.integers(30, self.ndays, tested.size),
                claim_type=c("professional"),
                hcpcs_code=c(code),
                place_of_service_code=c("81"),
                billing_npi=net.provider_npi_v[self.one_of(labs, tested.size)],
                diagnosis_code_1=m.bh_dx1[tested],
            )
        m.extra["kids_on_antipsychotics"] = kids
        m.extra["polypharmacy"] = poly
        m.extra["shoppers"] = shoppers

    def _fills(
        self,
        members: IntArray,
        owner: IntArray,
        day: IntArray,
        cls: str,
        shopper: BoolArray,
        ingredient: str | None = None,
        supply: int = 30,
    ) -> None:
        rng, c, m, net = self.rng, self.c, self.m, self.net
        size = owner.size
        if size == 0:
            return
        mv = members[owner]
        if ingredient is None:
            drug = rng.integers(0, c.ndc[cls].size, members.size)[owner]  # one drug per member and class
            ndc, rx = c.ndc[cls][drug], c.rxnorm[cls][drug]
        else:
            ndc_i, rx_i = c.by_ingredient[ingredient]
            ndc, rx = np.full(size, ndc_i), np.full(size, rx_i)
        prescriber = np.where(
            (cls in ("antidepressant", "anxiolytic", "stimulant", "other"))
            & (m.pcp[mv] >= 0)
            & (mv % 2 == 0),
            m.pcp[mv],
            m.psychiatrist[mv],
        )
        if cls == "other":
            prescriber = np.where(m.pcp[mv] >= 0, m.pcp[mv], self.one_of(net.roles["pcp"], size))
        pharmacy = m.pharmacy[mv]
        shop = shopper[mv] & (cls != "other")
        prescribers = np.concatenate([net.roles["psychiatrist"], net.roles["pcp"]])
        pharmacies = net.org_npi_provider[net.orgs_by_contract["140"]]
        prescriber = np.where(shop, self.one_of(prescribers, size), prescriber)
        pharmacy = np.where(shop, self.one_of(pharmacies, size), pharmacy)
        self.fills.append(
            {
                "m": mv,
                "day": day,
                "ndc": ndc,
                "rx": rx,
                "cls": np.full(size, c.drug_class[cls]),
                "supply": np.full(size, supply),
                "prescriber": net.provider_npi_v[prescriber],
                "pharmacy": net.provider_npi_v[pharmacy],
            }
        )

    # ------------------------------------------------------------------ assembly
    def run(self) -> BlockOutput:
        self.medical_background()
        self.psychotherapy()
        self.iop()
        self.inpatient()
        self.residential()
        self.bh_emergency()
        self.sud_iet()
        self.case_management()
        self.special_procedures()
        self.pharmacy()
        return BlockOutput(
            eligibility=self._eligibility(),
            member_residence=self._residence(),
            testing_preauth_notices=self._notices(),
            medical_claim=self._medical(),
            pharmacy_claim=self._pharmacy(),
        )

    def _ids(self, prefix: str, local: IntArray) -> pa.Array:
        digits = pa.array(local + self.m.first + 1).cast(pa.string())
        return pc.binary_join_element_wise(prefix, pc.utf8_lpad(digits, width=8, padding="0"), "")

    def _dates(self, days: IntArray) -> pa.Array:
        days = np.asarray(days, dtype=np.int64)
        null = days == NO_DAY
        return pa.array(np.where(null, 0, days + self.jan1_epoch).astype(np.int32), mask=null).view(
            pa.date32()
        )

    def _plan_at(self, mv: IntArray, day: IntArray) -> IntArray:
        return np.where(day >= self.m.switch_day[mv], self.m.plan2[mv], self.m.plan1[mv])

    def _medical(self) -> pa.Table:
        rng, v = self.rng, self.v
        cols = {key for part in self.med for key in part}
        data: dict[str, IntArray] = {}
        defaults = {
            "line_no": 1,
            "service_unit_quantity": 1,
            "cs": NO_DAY,
            "ce": NO_DAY,
            "le": NO_DAY,
            "adm": NO_DAY,
            "dis": NO_DAY,
        }
        for key in sorted(cols):
            data[key] = np.concatenate(
                [
                    p[key] if key in p else np.full(p["m"].size, defaults.get(key, NULL), dtype=np.int64)
                    for p in self.med
                ]
            )
        size = data["m"].size
        for key in ("line_no", "service_unit_quantity", "cs", "ce", "le", "adm", "dis"):
            data.setdefault(key, np.full(size, defaults[key], dtype=np.int64))
        # Guard: every line has a principal diagnosis (the contract says diagnosis_code_1 is required).
        dx1 = data["diagnosis_code_1"]
        data["diagnosis_code_1"] = np.where(dx1 >= 0, dx1, self.m.med_dx1[data["m"]])
        ls = data["ls"]
        cs = np.where(data["cs"] == NO_DAY, ls, data["cs"])
        ce = np.where(data["ce"] == NO_DAY, ls, data["ce"])
        le = np.where(data["le"] == NO_DAY, ls, data["le"])
        mv = data["m"]
        keep = (cs >= self.m.cov_start[mv]) & (cs <= self.m.cov_end[mv]) & (cs < self.ndays)
        order = np.lexsort((data["line_no"], data["claim"], cs, mv))
        order = order[keep[order]]
        mv, cs, ce, ls, le = mv[order], cs[order], ce[order], ls[order], le[order]
        claim_key = data["claim"][order]
        new_claim = np.r_[True, claim_key[1:] != claim_key[:-1]]
        claim_no = np.cumsum(new_claim) - 1
        line_no = data["line_no"][order]
        n_claims = int(claim_no[-1]) + 1 if claim_no.size else 0
        pay_lag = rng.integers(10, 46, n_claims)[claim_no]
        plan = self._plan_at(mv, cs)
        code = data.get("hcpcs_code", np.full(size, NULL))[order]
        rev = data.get("revenue_center_code", np.full(size, NULL))[order]
        units = data["service_unit_quantity"][order]
        base = np.where(code >= 0, self.c.price(code), self.c.price(rev))
        allowed = np.round(base * units * rng.uniform(0.9, 1.1, order.size), 2)
        paid = np.round(allowed * rng.uniform(0.75, 1.0, order.size), 2)
        charge = np.round(allowed * rng.uniform(1.4, 2.4, order.size), 2)
        member_ids = self._ids("M", np.arange(self.m.n))
        person_ids = self._ids("P", np.arange(self.m.n))
        claim_digits = pa.array(claim_no).cast(pa.string())
        claim_ids = pc.binary_join_element_wise(
            f"MC{self.index:05d}", pc.utf8_lpad(claim_digits, width=8, padding="0"), ""
        )
        out: dict[str, pa.Array] = {}
        take = pa.array(mv)

        def vcol(name: str) -> pa.Array:
            arr = data.get(name)
            return v.decode(np.full(order.size, NULL) if arr is None else arr[order])

        def icol(name: str) -> pa.Array:
            arr = data.get(name)
            vals = np.full(order.size, NULL) if arr is None else arr[order]
            return pa.array(vals.astype(np.int32), mask=vals == NULL)

        for col in MEDICAL_CLAIM.columns:
            name = col.name
            if name == "claim_id":
                out[name] = claim_ids
            elif name == "claim_line_number":
                out[name] = pa.array(line_no.astype(np.int32))
            elif name == "person_id":
                out[name] = person_ids.take(take)
            elif name == "member_id":
                out[name] = member_ids.take(take)
            elif name == "payer":
                out[name] = v.decode(self.net.plan_payer_v[plan])
            elif name == "plan":
                out[name] = v.decode(self.net.plan_name_v[plan])
            elif name == "claim_start_date":
                out[name] = self._dates(cs)
            elif name == "claim_end_date":
                out[name] = self._dates(ce)
            elif name == "claim_line_start_date":
                out[name] = self._dates(ls)
            elif name == "claim_line_end_date":
                out[name] = self._dates(le)
            elif name == "admission_date":
                out[name] = self._dates(data["adm"][order])
            elif name == "discharge_date":
                out[name] = self._dates(data["dis"][order])
            elif name == "service_unit_quantity":
                out[name] = pa.array(units.astype(np.int32))
            elif name == "paid_date":
                out[name] = self._dates(ce + pay_lag)
            elif name == "paid_amount":
                out[name] = pa.array(paid)
            elif name == "allowed_amount":
                out[name] = pa.array(allowed)
            elif name == "charge_amount":
                out[name] = pa.array(charge)
            elif name == "diagnosis_code_type":
                out[name] = v.decode(np.full(order.size, v("icd-10-cm")))
            elif name == "data_source":
                out[name] = v.decode(np.full(order.size, v("bhum-synth")))
            elif col.kind == "int32":
                out[name] = icol(name)
            else:
                out[name] = vcol(name)
        return pa.table(out, schema=MEDICAL_CLAIM.arrow_schema)

    def _pharmacy(self) -> pa.Table:
        rng, v = self.rng, self.v
        data = {key: np.concatenate([f[key] for f in self.fills]) for key in self.fills[0]}
        mv, day = data["m"], data["day"]
        keep = (day >= self.m.cov_start[mv]) & (day <= self.m.cov_end[mv])
        order = np.lexsort((data["ndc"], day, mv))
        order = order[keep[order]]
        size = order.size
        mv, day = mv[order], day[order]
        plan = self._plan_at(mv, day)
        supply = data["supply"][order]
        ndc = data["ndc"][order]
        cls = data["cls"][order]
        allowed = np.round(
            np.where(cls == self.c.drug_class["other"], 9.0, 38.0)
            * supply
            / 30
            * rng.uniform(0.5, 3.0, size),
            2,
        )
        take = pa.array(mv)
        claim_digits = pa.array(np.arange(size)).cast(pa.string())
        out = {
            "claim_id": pc.binary_join_element_wise(
                f"RX{self.index:05d}", pc.utf8_lpad(claim_digits, width=8, padding="0"), ""
            ),
            "claim_line_number": pa.array(np.ones(size, np.int32)),
            "person_id": self._ids("P", np.arange(self.m.n)).take(take),
            "member_id": self._ids("M", np.arange(self.m.n)).take(take),
            "payer": v.decode(self.net.plan_payer_v[plan]),
            "plan": v.decode(self.net.plan_name_v[plan]),
            "prescribing_provider_npi": v.decode(data["prescriber"][order]),
            "dispensing_provider_npi": v.decode(data["pharmacy"][order]),
            "dispensing_date": self._dates(day),
            "ndc_code": v.decode(ndc),
            "rxnorm_code": v.decode(data["rx"][order]),
            "drug_class": v.decode(cls),
            "quantity": pa.array((supply * rng.choice([1, 1, 2], size)).astype(np.int32)),
            "days_supply": pa.array(supply.astype(np.int32)),
            "refills": pa.array(rng.integers(0, 6, size).astype(np.int32)),
            "paid_date": self._dates(day + rng.integers(1, 6, size)),
            "paid_amount": pa.array(np.round(allowed * 0.85, 2)),
            "allowed_amount": pa.array(allowed),
            "data_source": v.decode(np.full(size, v("bhum-synth"))),
        }
        return pa.table(out, schema=PHARMACY_CLAIM.arrow_schema)

    def _eligibility(self) -> pa.Table:
        rng, m = self.rng, self.m
        n = m.n
        switched = np.flatnonzero(m.switch_day < 10**6)
        enroll_start = np.where(m.cov_start > 0, m.cov_start, -rng.integers(30, 6 * 365, n))
        rows = np.concatenate([np.arange(n), switched])
        second = np.r_[np.zeros(n, bool), np.ones(switched.size, bool)]
        start = np.where(second, m.switch_day[rows], enroll_start[rows])
        end = np.where(~second & (m.switch_day[rows] < 10**6), m.switch_day[rows] - 1, m.cov_end[rows])
        plan = np.where(second, m.plan2[rows], m.plan1[rows])
        order = np.lexsort((start, rows))
        rows, start, end, plan = rows[order], start[order], end[order], plan[order]
        death = np.where((m.cov_end < self.ndays - 1) & (np.arange(n) % 5 == 0), m.cov_end, NO_DAY)
        sex = np.where(rng.random(n) < 0.51, 0, np.where(rng.random(n) < 0.99, 1, 2))
        first_f = rng.integers(0, len(names.FIRST_F), n)
        first_m = rng.integers(0, len(names.FIRST_M), n)
        last = rng.integers(0, len(names.LAST), n)
        house = rng.integers(10, 9999, n)
        street = rng.integers(0, len(names.STREETS), n)
        city = rng.integers(0, len(names.CITIES), n)
        race = rng.choice(len(names.RACES), n, p=[0.6, 0.13, 0.06, 0.01, 0.01, 0.19])
        eth = (rng.random(n) < 0.18).astype(np.int64)
        phone = rng.integers(100, 200, n)
        v = self.v
        first_names = [
            names.FIRST_F[a] if s == 0 else names.FIRST_M[b]
            for a, b, s in zip(first_m, first_f, sex, strict=True)
        ]
        member_first = pa.array(first_names)
        take = pa.array(rows)
        plan_ids = pa.array([p.plan_id for p in PLAN_SPECS])
        states = pa.array([p.state for p in PLAN_SPECS])
        out = {
            "person_id": self._ids("P", np.arange(n)).take(take),
            "member_id": self._ids("M", np.arange(n)).take(take),
            "first_name": member_first.take(take),
            "last_name": pa.array([names.LAST[i] for i in last]).take(take),
            "sex": pa.array(np.array(["F", "M", "U"])[sex]).take(take),
            "birth_date": pa.array((m.birth_epoch).astype(np.int32)).view(pa.date32()).take(take),
            "death_date": self._dates(death[rows]),
            "race": pa.array(np.array(names.RACES)[race]).take(take),
            "ethnicity": pa.array(np.array(names.ETHNICITIES)[eth]).take(take),
            "address": pa.array([f"{h} {names.STREETS[s]}" for h, s in zip(house, street, strict=True)]).take(
                take
            ),
            "city": pa.array(np.array(names.CITIES)[city]).take(take),
            "state": states.take(pa.array(m.plan1[rows])),
            "zip_code": pa.array([f"{99000 + int(i) % 999:05d}" for i in m.first + np.arange(n)]).take(take),
            "phone": pa.array([f"312-555-0{p:03d}" for p in phone]).take(take),
            "plan_id": plan_ids.take(pa.array(plan)),
            "payer": v.decode(self.net.plan_payer_v[plan]),
            "plan": v.decode(self.net.plan_name_v[plan]),
            "enrollment_start_date": self._dates(start),
            "enrollment_end_date": self._dates(end),
            "pcp_npi": v.decode(np.where(m.pcp[rows] >= 0, self.net.provider_npi_v[m.pcp[rows]], NULL)),
        }
        return pa.table(out, schema=ELIGIBILITY.arrow_schema)

    def _residence(self) -> pa.Table:
        m, c = self.m, self.c
        n = m.n
        special_m: list[IntArray] = []
        special_set: list[IntArray] = []
        special_start: list[IntArray] = []
        special_end: list[IntArray] = []
        special_fac: list[IntArray] = []
        for members, setting, start, end, facility in self.residence:
            special_m.append(members)
            special_set.append(setting)
            special_start.append(start)
            special_end.append(end)
            special_fac.append(facility)
        sm = np.concatenate(special_m) if special_m else np.zeros(0, np.int64)
        s_set = np.concatenate(special_set) if special_set else np.zeros(0, np.int64)
        s_start = np.concatenate(special_start) if special_start else np.zeros(0, np.int64)
        s_end = np.concatenate(special_end) if special_end else np.zeros(0, np.int64)
        s_fac = np.concatenate(special_fac) if special_fac else np.zeros(0, np.int64)
        # A member has at most one special span; keep the first.
        _, first = np.unique(sm, return_index=True)
        sm, s_set, s_start, s_end, s_fac = sm[first], s_set[first], s_start[first], s_end[first], s_fac[first]
        has = np.zeros(n, bool)
        has[sm] = True
        home_from = np.full(n, -5 * 365)
        # Home before the special span, the special span, and home again after it ended.
        plain = np.flatnonzero(~has)
        rows_m = [plain, sm, sm, sm[s_end != NO_DAY]]
        rows_set = [
            np.full(plain.size, c("home")),
            np.full(sm.size, c("home")),
            s_set,
            np.full(int((s_end != NO_DAY).sum()), c("home")),
        ]
        rows_start = [home_from[plain], home_from[sm], s_start, s_end[s_end != NO_DAY] + 1]
        rows_end = [
            np.full(plain.size, NO_DAY),
            s_start - 1,
            s_end,
            np.full(int((s_end != NO_DAY).sum()), NO_DAY),
        ]
        rows_fac = [
            np.full(plain.size, NULL),
            np.full(sm.size, NULL),
            s_fac,
            np.full(int((s_end != NO_DAY).sum()), NULL),
        ]
        mm = np.concatenate(rows_m)
        st = np.concatenate(rows_start)
        order = np.lexsort((st, mm))
        mm = mm[order]
        return pa.table(
            {
                "member_id": self._ids("M", np.arange(n)).take(pa.array(mm)),
                "setting": self.v.decode(np.concatenate(rows_set)[order]),
                "start_date": self._dates(st[order]),
                "end_date": self._dates(np.concatenate(rows_end)[order]),
                "facility_npi": self.v.decode(np.concatenate(rows_fac)[order]),
            },
            schema=MEMBER_RESIDENCE.arrow_schema,
        )

    def _notices(self) -> pa.Table:
        members = np.concatenate([x[0] for x in self.notices]) if self.notices else np.zeros(0, np.int64)
        start = np.concatenate([x[1] for x in self.notices]) if self.notices else np.zeros(0, np.int64)
        plan_ids = pa.array([p.plan_id for p in PLAN_SPECS])
        return pa.table(
            {
                "plan_id": plan_ids.take(pa.array(self.m.plan1[members])),
                "provider_npi": pa.nulls(members.size, pa.string()),
                "member_id": self._ids("M", members),
                "effective_from": self._dates(start),
                "effective_to": self._dates(np.full(members.size, NO_DAY)),
            },
            schema=TESTING_PREAUTH_NOTICES.arrow_schema,
        )


def _threshold(p: FloatArray) -> FloatArray:
    """Standard-normal cut-off with P(Z > t) = p (p = 0 gives +inf)."""
    out = np.full(p.shape, np.inf)
    for value in np.unique(p):
        if value > 0:
            out[p == value] = NormalDist().inv_cdf(1 - float(value))
    return out


def _first_role_at(net: Network, role: str, org: IntArray) -> IntArray:
    """The first provider with ``role`` at each organization (organizations of one kind are staffed alike)."""
    providers = net.roles[role]
    first_at = np.full(net.provider_org.max() + 1, -1, dtype=np.int64)
    orgs = net.provider_org[providers]
    first_at[orgs[::-1]] = providers[::-1]
    return first_at[org]


def _staff_at(net: Network, org: IntArray, role: str, slot: IntArray | int) -> IntArray:
    """Staff (vocab index) with ``role`` at each organization; ``slot`` picks among several."""
    org = np.asarray(org, dtype=np.int64)
    out = np.full(org.size, NULL, dtype=np.int64)
    slots = np.broadcast_to(np.asarray(slot, dtype=np.int64), org.shape)
    for o in np.unique(org):
        staff = net.staff_by_org_role.get((int(o), role))
        if staff is None:
            continue
        sel = org == o
        out[sel] = staff[slots[sel] % staff.size]
    return out


def generate_block(
    seed: int, index: int, first: int, n: int, year: int, net: Network, codes: Codes
) -> BlockOutput:
    return _Block(seed, index, first, n, year, net, codes).run()
