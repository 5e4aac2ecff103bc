"""The clinical-intelligence rules (OPM-03) as set-based Ibis expressions.

Each rule takes the claims source, its pack parameters and the as-of date, and returns one row per
flagged member with the measured value, the threshold it was held against and the evidence (claim
dates and ids). Nothing here loops over claims in Python: windows, overlaps and the shifting of
overlapping fills are joins, aggregates and window functions, so DuckDB and Spark run the same plan.

Dates are compared as day numbers (days since 1970-01-01) so every window is integer arithmetic that
both engines evaluate identically. Claims dated after the as-of date are ignored: a run for a given
as-of date always sees the same data.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir

from bhum.analytics.catalog import RuleParams
from bhum.analytics.source import ClaimsSource
from bhum.domain.values import CPT, HCPCS, ICD10CM, POS, REVENUE, Code

EPOCH = date(1970, 1, 1)

# The columns every rule returns (the runner adds rule identity, scores and sentences).
FLAG_SCHEMA = ibis.schema(
    {
        "member_id": "string",
        "measure": "string",
        "value": "float64",
        "threshold": "float64",
        "comparator": "string",  # the member is flagged because ``value <comparator> threshold``
        "index_date": "date",
        "evidence": "array<string>",  # "YYYY-MM-DD|claim_id" items
    }
)


# Code-set parameters that only describe what happens around an index event (a follow-up visit, a
# lab test, the ED or hospital setting). On their own they never make a member a candidate for any
# rule: every rule's index event also needs a behavioral-health diagnosis, a behavioral-health
# service code or a psychotropic fill. That is what lets the context drop, once, the claim lines of
# members who have none (most of the population) before any rule runs.
COMPANION_PARAMETERS = frozenset(
    {
        "followup_visit_codes",
        "glucose_test_codes",
        "ldl_test_codes",
        "ed_visit_codes",
        "ed_revenue_codes",
        "ed_place_of_service",
        "inpatient_bill_type_prefixes",
    }
)
DRUG_CLASS_PARAMETERS = ("drug_classes", "mat_drug_classes")
BILL_TYPE_PARAMETERS = ("inpatient_bill_type_prefixes",)
# The medical columns the rules read as they are; the shared subset keeps only these, plus the
# derived columns below (MEDICAL_DERIVED), computed once instead of in every rule.
MEDICAL_COLUMNS = (
    "claim_id",
    "claim_type",
    "member_id",
    "claim_line_start_date",
    "admission_date",
    "discharge_date",
    "place_of_service_code",
    "revenue_center_code",
    "service_unit_quantity",
    "hcpcs_code",
    "hcpcs_modifier_1",
    "hcpcs_modifier_2",
    "hcpcs_modifier_3",
    "hcpcs_modifier_4",
    "activity_code",
)
# day: the line's date as a day number; dx_category: the ICD-10-CM category of diagnosis_code_1 (the
# code groups are written in categories); bill_type_class: the first two digits of an institutional
# line's bill type (11 = hospital inpatient), null on professional lines.
MEDICAL_DERIVED = ("day", "dx_category", "bill_type_class")
PHARMACY_COLUMNS = (
    "claim_id",
    "member_id",
    "prescribing_provider_npi",
    "dispensing_provider_npi",
    "dispensing_date",
    "drug_class",
)
# day: the dispensing date as a day number; supply: days supply as int64.
PHARMACY_DERIVED = ("day", "supply")
# Extra history kept before the longest rule window: a stay whose first line is dated before the
# window can still end (and be followed up or readmitted) inside it.
HISTORY_MARGIN_DAYS = 366


class RuleContext:
    """What every rule reads: the claims up to the as-of date.

    Given the rules about to run (``plan``), the context narrows the claims once, set-based and on the
    engine itself: only the members with a behavioral-health diagnosis, service or psychotropic
    fill, only the lines and fills some rule's code sets can match, only the dates the longest window
    reaches, only the columns the rules read, plus what the rules derive per line (day number, ICD-10-CM
    category, bill type class) computed once. The narrowed tables (and the candidate members) are
    cached on the engine (DuckDB temporary tables, cached Spark DataFrames: three per run, never one
    per rule) and shared by every rule, so the full claims files are scanned a few times in a run
    (validation, candidates, narrowing) instead of once per rule. A single rule gets the same filters
    pushed into its own scan, and nothing cached; without a plan the rules read the validated tables
    directly (same results, slower).
    """

    def __init__(self, source: ClaimsSource, as_of: date, rules: Sequence[RuleParams] = ()) -> None:
        self.source = source
        self.as_of = as_of
        self._rules = tuple(rules)
        self._medical: ir.Table | None = None
        self._pharmacy: ir.Table | None = None
        self._cached: list[str] = []

    def plan(self, rules: Sequence[RuleParams]) -> None:
        """Name the rules about to run, so the claims are narrowed to what they read."""
        self._rules = tuple(rules)
        self._medical = self._pharmacy = None

    def release(self) -> None:
        """Drop the tables this context cached on a DuckDB connection."""
        for name in self._cached:
            self.source.con.raw_sql(f'DROP TABLE IF EXISTS "{name}"')
        self._cached.clear()

    @property
    def day(self) -> int:
        """The as-of date as a day number."""
        return (self.as_of - EPOCH).days

    def medical(self) -> ir.Table:
        """Medical lines: MEDICAL_COLUMNS + MEDICAL_DERIVED."""
        if self._medical is None:
            t = self.source.table("medical_claim")
            # Dates are compared as dates here so the engine can skip row groups by their statistics.
            t = t.filter(self._dated(t.claim_line_start_date))
            if len(self._rules) > 1:
                t = self._cache(self._narrow_medical(t), "medical")
            elif self._rules:
                # One rule shares nothing: its filters go straight into the scan, nothing is cached.
                t = _medical_shape(t.filter(self._matches(t, companions=True)))
            else:
                t = _medical_shape(t)
            self._medical = t
        return self._medical

    def pharmacy(self) -> ir.Table:
        """Pharmacy fills: PHARMACY_COLUMNS + PHARMACY_DERIVED."""
        if self._pharmacy is None:
            t = self.source.table("pharmacy_claim")
            t = t.filter(self._dated(t.dispensing_date))
            if self._rules:
                t = t.filter(t.drug_class.isin(self._drug_classes()))
            t = t.select(
                *PHARMACY_COLUMNS,
                day=t.dispensing_date.epoch_days().cast("int64"),
                supply=t.days_supply.cast("int64"),
            )
            if len(self._rules) > 1:
                t = self._cache(t, "pharmacy")
            self._pharmacy = t
        return self._pharmacy

    # -- narrowing ----------------------------------------------------------------------------------

    def _horizon(self) -> int:
        return max(r.horizon_days for r in self._rules) + HISTORY_MARGIN_DAYS

    def _dated(self, day: ir.DateValue) -> ir.BooleanValue:
        """Dated on or before the as-of date (and, with a plan, within the longest window)."""
        within = day <= ibis.date(self.as_of)
        if self._rules:
            within = within & (day > ibis.date(self.as_of - timedelta(days=self._horizon())))
        return within

    def _drug_classes(self) -> list[str]:
        return sorted(
            {c for r in self._rules for n in DRUG_CLASS_PARAMETERS if n in r.values for c in r.strings(n)}
        )

    def _codes(self, system: str, *, companions: bool) -> list[str]:
        found: set[str] = set()
        for rule in self._rules:
            for name, value in rule.values.items():
                if isinstance(value, frozenset) and (companions or name not in COMPANION_PARAMETERS):
                    found.update(
                        c.code for c in value if isinstance(c, Code) and c.system in _SYSTEMS[system]
                    )
        return sorted(found)

    def _matches(self, t: ir.Table, *, companions: bool) -> ir.BooleanValue:
        """A line some rule's code sets can match (companions: also the follow-up visits, labs ...)."""
        hit = _in(_category(t.diagnosis_code_1), self._codes("icd", companions=companions))
        for column, system in (
            ("hcpcs_code", "hcpcs"),
            ("revenue_center_code", "revenue"),
            ("place_of_service_code", "pos"),
        ):
            codes = self._codes(system, companions=companions)
            if codes:
                hit = hit | _in(t[column], codes)
        prefixes = sorted(
            {x for r in self._rules for n in BILL_TYPE_PARAMETERS if n in r.values for x in r.strings(n)}
        )
        if companions and prefixes:
            hit = hit | (
                (t.claim_type == "institutional") & _in(_prefix(_bill_type(t), 2), prefixes)
            ).fill_null(False)
        return hit

    def _cache(self, table: ir.Table, what: str) -> ir.Table:
        """Compute once on the engine and keep: a DuckDB temporary table, a cached Spark DataFrame."""
        con = self.source.con
        if self.source.backend != "duckdb":
            return table.cache()
        name = f"bhum_{what}_{uuid.uuid4().hex[:12]}"
        con.raw_sql(f'CREATE TEMP TABLE "{name}" AS {con.compile(table)}')
        self._cached.append(name)
        return con.table(name)

    def _narrow_medical(self, t: ir.Table) -> ir.Table:
        # The candidates (a few columns of every line) are kept first, so that the engine knows the
        # semi join's small side exactly and never builds a hash table over the wide lines.
        candidates = t.filter(self._matches(t, companions=False)).select("member_id")
        classes = self._drug_classes()
        if classes:
            rx = self.source.table("pharmacy_claim")
            rx = rx.filter(rx.drug_class.isin(classes) & self._dated(rx.dispensing_date))
            candidates = candidates.union(rx.select("member_id"), distinct=False)
        candidates = self._cache(candidates.distinct(), "candidates")
        lines = t.filter(self._matches(t, companions=True)).semi_join(candidates, "member_id")
        return _medical_shape(lines)


_SYSTEMS = {
    "icd": frozenset({ICD10CM}),
    "hcpcs": frozenset({HCPCS, CPT}),
    "revenue": frozenset({REVENUE}),
    "pos": frozenset({POS}),
}


Rule = Callable[[RuleContext, RuleParams], ir.Table]


# -- shared pieces ----------------------------------------------------------------------------------


@ibis.udf.scalar.builtin(name="substring")  # type: ignore[untyped-decorator]
def _substring(text: str, start: int, length: int) -> str:  # type: ignore[empty-body]
    """SQL SUBSTRING(text, start, length), 1-based: the same built-in function on DuckDB and Spark.

    Ibis's own ``substr`` compiles to a per-row CASE (for negative starts) that DuckDB can neither fold
    nor push into the Parquet scan; on the diagnosis column that made every category test ~4x slower.
    """


def _prefix(text: ir.StringValue, length: int) -> ir.StringValue:
    prefix: ir.StringValue = _substring(text, 1, length)
    return prefix


def _category(dx: ir.StringValue) -> ir.StringValue:
    """The ICD-10-CM category (first three characters) a code group is written in."""
    return _prefix(dx, 3)


def _medical_shape(t: ir.Table) -> ir.Table:
    """The columns the rules read (MEDICAL_COLUMNS + MEDICAL_DERIVED), derived once per line."""
    return t.select(
        *MEDICAL_COLUMNS,
        day=t.claim_line_start_date.epoch_days().cast("int64"),
        dx_category=_category(t.diagnosis_code_1),
        bill_type_class=ibis.ifelse(
            t.claim_type == "institutional", _prefix(_bill_type(t), 2), ibis.null("string")
        ),
    )


def _in(column: ir.Value, codes: list[str]) -> ir.BooleanValue:
    return column.isin(codes).fill_null(False)


def _evidence(day_date: ir.DateValue, claim_id: ir.StringValue) -> ir.StringValue:
    return day_date.cast("string").concat("|", claim_id)


def _with_evidence(flagged: ir.Table, rows: ir.Table, day_date: str) -> ir.Table:
    """The flagged members with their latest date and evidence items from ``rows`` (member_id,
    claim_id, ``day_date``). Gathered after the threshold, so strings are built only for the few
    members flagged, never for every member measured."""
    rows = rows.semi_join(flagged, "member_id")
    gathered = rows.group_by(rows.member_id.name("e_member")).aggregate(
        last_date=rows[day_date].max(),
        evidence=_evidence(rows[day_date], rows.claim_id).collect(),
    )
    joined = flagged.join(gathered, flagged.member_id == gathered.e_member)
    return joined.drop("e_member")


def _flags(
    table: ir.Table,
    *,
    value: ir.Value,
    threshold: float,
    comparator: str,
    measure: str,
    index: ir.Value,
    evidence: ir.Value,
) -> ir.Table:
    return table.select(
        member_id=table.member_id,
        measure=ibis.literal(measure, "string"),
        value=value.cast("float64"),
        threshold=ibis.literal(float(threshold), "float64"),
        comparator=ibis.literal(comparator, "string"),
        index_date=index.cast("date"),
        evidence=evidence,
    )


def _bill_type(t: ir.Table) -> ir.StringValue:
    """Bill type without the leading zero of the four-character form (0111 -> 111)."""
    code = t.bill_type_code
    return ibis.ifelse(code.length() == 4, _substring(code, 2, 3), code)


def _level(t: ir.Table, p: RuleParams) -> ir.IntegerValue:
    """Level of care of a line: 4 inpatient, 3 residential, 2 partial hospitalization, 1 IOP,
    0 a routine outpatient visit, null anything else (labs, drugs, case management ...)."""
    rev, code = t.revenue_center_code, t.hcpcs_code
    inpatient = (t.claim_type == "institutional") & (
        _in(t.bill_type_class, p.strings("inpatient_bill_type_prefixes"))
        | _in(rev, p.codes("inpatient_revenue_codes"))
    )
    return ibis.cases(
        (inpatient.fill_null(False), 4),
        (_in(rev, p.codes("residential_revenue_codes")) | _in(code, p.codes("residential_codes")), 3),
        (_in(rev, p.codes("php_revenue_codes")) | _in(code, p.codes("php_codes")), 2),
        (_in(rev, p.codes("iop_revenue_codes")) | _in(code, p.codes("iop_codes")), 1),
        (_in(code, p.codes("followup_visit_codes")), 0),
        else_=ibis.null("int64"),
    ).cast("int64")


def _is_ed(t: ir.Table, p: RuleParams) -> ir.BooleanValue:
    return (
        _in(t.revenue_center_code, p.codes("ed_revenue_codes"))
        | _in(t.hcpcs_code, p.codes("ed_visit_codes"))
        | _in(t.place_of_service_code, p.codes("ed_place_of_service"))
    )


def _unmet_followup(
    index: ir.Table,
    visits: ir.Table,
    *,
    first_day: int,
    last_day: int,
    min_visits: int,
    measure: str,
    level_below: bool = False,
) -> ir.Table:
    """Index events (member_id, claim_id, iday, idate[, level]) with fewer than ``min_visits`` visit
    days (v_member, vday[, vlevel]) on index day + first_day .. index day + last_day, both included.

    Visits are counted as distinct days after the join, on the few members with an index event,
    rather than de-duplicating every visit line of the population first."""
    on = [
        index.member_id == visits.v_member,
        visits.vday >= index.iday + first_day,
        visits.vday <= index.iday + last_day,
    ]
    if level_below:
        on.append(visits.vlevel < index.level)
    joined = index.left_join(visits, on)
    per_event = joined.group_by(["member_id", "claim_id", "iday", "idate"]).aggregate(
        visits=joined.vday.nunique()
    )
    unmet = per_event.filter(per_event.visits < min_visits)
    member = unmet.group_by("member_id").aggregate(
        value=unmet.visits.min(),
        index=unmet.idate.max(),
        evidence=_evidence(unmet.idate, unmet.claim_id).collect(),
    )
    return _flags(
        member,
        value=member.value,
        threshold=min_visits,
        comparator="<",
        measure=measure,
        index=member.index,
        evidence=member.evidence,
    )


def _visits(t: ir.Table, where: ir.BooleanValue, *, level: ir.Value | None = None) -> ir.Table:
    rows = t.filter(where)
    cols: dict[str, ir.Value] = {"v_member": rows.member_id, "vday": rows.day}
    if level is not None:
        cols["vlevel"] = level
    return rows.select(**cols)


def _index(t: ir.Table, day: ir.IntegerValue, day_date: ir.DateValue, **extra: ir.Value) -> ir.Table:
    return t.select(member_id=t.member_id, claim_id=t.claim_id, iday=day, idate=day_date, **extra).distinct()


def _covered(fills: ir.Table, group: list[str], window_end: ir.IntegerValue | int) -> ir.Table:
    """Days covered by fills (member_id, claim_id, day, supply + ``group`` keys), overlapping fills
    shifted forward, capped at ``window_end`` (a day number or a column of the group).

    Shifted end of fill i: E_i = max(E_(i-1), d_i - 1) + s_i, which unrolls to
    E_i = C_i + max_(j<=i)(d_j - 1 - C_(j-1)) with C the running total of days supply: two window
    passes instead of a loop. The shifted intervals do not overlap and only the last can run past the
    window end, so covered days = total supply - max(0, E_last - window_end).
    """
    upto = ibis.window(group_by=group, order_by=["day", "claim_id"], rows=(None, 0))
    step = fills.mutate(running=fills.supply.sum().over(upto))
    step = step.mutate(key=step.day - 1 - (step.running - step.supply))
    step = step.mutate(shifted_end=step.running + step.key.max().over(upto))
    agg = step.group_by(group).aggregate(
        first_day=step.day.min(),
        last_date=step.dispensing_date.max(),
        fills=step.claim_id.count(),
        supply=step.supply.sum(),
        last_end=step.shifted_end.max(),
        evidence=_evidence(step.dispensing_date, step.claim_id).collect(),
    )
    end = agg[window_end] if isinstance(window_end, str) else window_end
    return agg.mutate(covered=agg.supply - ibis.greatest(0, agg.last_end - end))


# -- follow-up after hospitalization / ED (HEDIS FUH, FUM, FUA) ----------------------------------


def follow_up_after_hospitalization(ctx: RuleContext, p: RuleParams) -> ir.Table:
    """FUH: a mental-health inpatient discharge with no follow-up visit within N days (day 1..N)."""
    t = ctx.medical()
    window = p.int("followup_days")
    stays = t.filter(
        (_level(t, p) == 4) & _in(t.dx_category, p.codes("mental_illness_dx")) & t.discharge_date.notnull()
    )
    index = _index(stays, stays.discharge_date.epoch_days().cast("int64"), stays.discharge_date)
    index = index.filter((index.iday > ctx.day - p.int("lookback_days")) & (index.iday + window <= ctx.day))
    visits = _visits(t, _in(t.hcpcs_code, p.codes("followup_visit_codes")))
    return _unmet_followup(
        index,
        visits,
        first_day=1,
        last_day=window,
        min_visits=p.int("min_followup_visits"),
        measure=f"follow-up visits within {window} days of discharge",
    )


def _follow_up_after_ed(ctx: RuleContext, p: RuleParams, dx_param: str) -> ir.Table:
    t = ctx.medical()
    window = p.int("followup_days")
    ed = t.filter(_is_ed(t, p) & _in(t.dx_category, p.codes(dx_param)))
    index = _index(ed, ed.day, ed.claim_line_start_date)
    index = index.filter((index.iday > ctx.day - p.int("lookback_days")) & (index.iday + window <= ctx.day))
    visits = _visits(t, _in(t.hcpcs_code, p.codes("followup_visit_codes")))
    # The ED visit day itself counts (HEDIS: follow-up on the date of the visit or within N days).
    return _unmet_followup(
        index,
        visits,
        first_day=0,
        last_day=window,
        min_visits=p.int("min_followup_visits"),
        measure=f"follow-up visits within {window} days of the ED visit",
    )


def follow_up_after_ed_mental_illness(ctx: RuleContext, p: RuleParams) -> ir.Table:
    """FUM: an ED visit for mental illness with no follow-up visit on day 0..N."""
    return _follow_up_after_ed(ctx, p, "mental_illness_dx")


def follow_up_after_ed_substance_use(ctx: RuleContext, p: RuleParams) -> ir.Table:
    """FUA: an ED visit for alcohol or other drug use with no follow-up visit on day 0..N."""
    return _follow_up_after_ed(ctx, p, "sud_dx")


# -- SUD initiation and engagement (HEDIS IET) ------------------------------------------------------


def _sud_episodes(ctx: RuleContext, p: RuleParams, needed_days: int) -> ir.Table:
    """New SUD episodes: a SUD-diagnosis line with none in the previous negative-history days,
    dated in the lookback and early enough that ``needed_days`` have passed by the as-of date."""
    t = ctx.medical()
    sud = t.filter(_in(t.dx_category, p.codes("sud_dx")))
    sud = sud.select("member_id", "claim_id", "day", "claim_line_start_date")
    prior = ibis.window(group_by="member_id", order_by=["day", "claim_id"])
    sud = sud.mutate(previous=sud.day.lag().over(prior))
    new = sud.filter(
        (sud.previous.isnull() | (sud.day - sud.previous > p.int("negative_history_days")))
        & (sud.day > ctx.day - p.int("lookback_days"))
        & (sud.day + needed_days <= ctx.day)
    )
    return _index(new, new.day, new.claim_line_start_date)


def _sud_treatment(ctx: RuleContext, p: RuleParams) -> ir.Table:
    """SUD treatment events (v_member, vday): treatment services and medication-assisted fills."""
    t = ctx.medical()
    services = _visits(
        t,
        _in(t.hcpcs_code, p.codes("sud_treatment_codes"))
        | (_in(t.hcpcs_code, p.codes("followup_visit_codes")) & _in(t.dx_category, p.codes("sud_dx"))),
    )
    rx = ctx.pharmacy()
    fills = _visits(rx, _in(rx.drug_class, p.strings("mat_drug_classes")))
    return services.union(fills, distinct=False)


def sud_initiation(ctx: RuleContext, p: RuleParams) -> ir.Table:
    """IET initiation: no SUD treatment on day 1..14 after a new SUD episode."""
    days = p.int("initiation_days")
    return _unmet_followup(
        _sud_episodes(ctx, p, days),
        _sud_treatment(ctx, p),
        first_day=1,
        last_day=days,
        min_visits=p.int("min_initiation_services"),
        measure=f"SUD treatment services within {days} days of the new episode",
    )


def sud_engagement(ctx: RuleContext, p: RuleParams) -> ir.Table:
    """IET engagement: initiated, but fewer than 2 more treatment services within 34 days after."""
    first, more = p.int("initiation_days"), p.int("engagement_days")
    episodes = _sud_episodes(ctx, p, first + more)
    treatment = _sud_treatment(ctx, p)
    on = [
        episodes.member_id == treatment.v_member,
        treatment.vday >= episodes.iday + 1,
        treatment.vday <= episodes.iday + first,
    ]
    joined = episodes.join(treatment, on)
    initiated = joined.group_by(["member_id", "claim_id", "idate"]).aggregate(iday=joined.vday.min())
    # The initiation date is now the index: engagement counts treatment on the days after it.
    return _unmet_followup(
        initiated,
        treatment,
        first_day=1,
        last_day=more,
        min_visits=p.int("min_engagement_services"),
        measure=f"SUD treatment services within {more} days after initiation",
    )


# -- medication adherence and monitoring (HEDIS SAA, AMM, APM) --------------------------------------


def antipsychotic_adherence(ctx: RuleContext, p: RuleParams) -> ir.Table:
    """SAA: proportion of days covered by antipsychotics, first fill to as-of date, below 0.80."""
    start = ctx.day - p.int("lookback_days") + 1
    rx = ctx.pharmacy()
    fills = rx.filter(_in(rx.drug_class, p.strings("drug_classes")) & (rx.day >= start))
    t = ctx.medical()
    diagnosed = (
        t.filter((t.day >= start) & _in(t.dx_category, p.codes("schizophrenia_dx")))
        .select("member_id")
        .distinct()
    )
    fills = fills.semi_join(diagnosed, "member_id")
    covered = _covered(fills, ["member_id"], ctx.day)
    covered = covered.mutate(pdc=covered.covered.cast("float64") / (ctx.day - covered.first_day + 1))
    flagged = covered.filter((covered.fills >= p.int("min_fills")) & (covered.pdc < p.number("min_pdc")))
    return _flags(
        flagged,
        value=flagged.pdc,
        threshold=p.number("min_pdc"),
        comparator="<",
        measure="antipsychotic proportion of days covered",
        index=flagged.last_date,
        evidence=flagged.evidence,
    )


def _antidepressant_continuation(ctx: RuleContext, p: RuleParams) -> ir.Table:
    window, required = p.int("window_days"), p.int("required_days")
    rx = ctx.pharmacy()
    ad = rx.filter(_in(rx.drug_class, p.strings("drug_classes")))
    prior = ibis.window(group_by="member_id", order_by=["day", "claim_id"])
    ad = ad.mutate(previous=ad.day.lag().over(prior))
    last_start = ctx.day - window + 1  # the whole window must have passed
    starts = ad.filter(
        (ad.previous.isnull() | (ad.day - ad.previous > p.int("negative_history_days")))
        & (ad.day <= last_start)
        & (ad.day > last_start - p.int("intake_days"))
    )
    t = ctx.medical()
    diagnosed = (
        t.filter((t.day > last_start - p.int("intake_days")) & _in(t.dx_category, p.codes("depression_dx")))
        .select("member_id")
        .distinct()
    )
    episode = starts.semi_join(diagnosed, "member_id").group_by("member_id").aggregate(ipsd=starts.day.max())
    episode = episode.mutate(window_end=episode.ipsd + window - 1)
    in_window = ad.join(episode, "member_id")
    in_window = in_window.filter((in_window.day >= in_window.ipsd) & (in_window.day <= in_window.window_end))
    covered = _covered(in_window, ["member_id", "ipsd", "window_end"], "window_end")
    flagged = covered.filter(covered.covered < required)
    return _flags(
        flagged,
        value=flagged.covered,
        threshold=required,
        comparator="<",
        measure=f"days on antidepressant within {window} days of the episode start",
        index=(ibis.date(EPOCH) + flagged.ipsd.as_interval("D")),
        evidence=flagged.evidence,
    )


def antidepressant_acute(ctx: RuleContext, p: RuleParams) -> ir.Table:
    """AMM acute phase: fewer than 84 days of antidepressant in the 114 days from the episode start."""
    return _antidepressant_continuation(ctx, p)


def antidepressant_continuation(ctx: RuleContext, p: RuleParams) -> ir.Table:
    """AMM continuation phase: fewer than 180 days in the 231 days from the episode start."""
    return _antidepressant_continuation(ctx, p)


def _age_years(birth: ir.DateValue, on: date) -> ir.IntegerValue:
    before_birthday = (birth.month() > on.month) | ((birth.month() == on.month) & (birth.day() > on.day))
    return on.year - birth.year() - before_birthday.cast("int64")


def metabolic_monitoring_children(ctx: RuleContext, p: RuleParams) -> ir.Table:
    """APM: a child or adolescent on antipsychotics without both a glucose/HbA1c and an LDL-C test."""
    start = ctx.day - p.int("lookback_days") + 1
    people = ctx.source.table("eligibility")
    people = people.select("member_id", "birth_date").distinct()
    people = people.mutate(age=_age_years(people.birth_date, ctx.as_of))
    children = people.filter((people.age >= p.int("min_age")) & (people.age <= p.int("max_age")))
    rx = ctx.pharmacy()
    fills = rx.filter(_in(rx.drug_class, p.strings("drug_classes")) & (rx.day >= start))
    fills = fills.semi_join(children, "member_id")
    on_drug = fills.group_by("member_id").aggregate(
        fills=fills.claim_id.count(),
        last_date=fills.dispensing_date.max(),
        evidence=_evidence(fills.dispensing_date, fills.claim_id).collect(),
    )
    on_drug = on_drug.filter(on_drug.fills >= p.int("min_fills"))
    t = ctx.medical()
    labs = t.filter(t.day >= start)
    tests = labs.group_by(labs.member_id.name("t_member")).aggregate(
        glucose=_in(labs.hcpcs_code, p.codes("glucose_test_codes")).cast("int64").max(),
        ldl=_in(labs.hcpcs_code, p.codes("ldl_test_codes")).cast("int64").max(),
    )
    joined = on_drug.left_join(tests, on_drug.member_id == tests.t_member)
    joined = joined.mutate(kinds=joined.glucose.fill_null(0) + joined.ldl.fill_null(0))
    flagged = joined.filter(joined.kinds < p.int("min_test_kinds"))
    return _flags(
        flagged,
        value=flagged.kinds,
        threshold=p.int("min_test_kinds"),
        comparator="<",
        measure="kinds of metabolic test (glucose/HbA1c, LDL-C)",
        index=flagged.last_date,
        evidence=flagged.evidence,
    )


# -- utilization patterns ---------------------------------------------------------------------------


def psychotherapy_without_step_down(ctx: RuleContext, p: RuleParams) -> ir.Table:
    """Many psychotherapy sessions over a long span, still as frequent in the recent weeks."""
    t = ctx.medical()
    sessions = t.filter(
        _in(t.hcpcs_code, p.codes("psychotherapy_codes")) & (t.day > ctx.day - p.int("lookback_days"))
    )
    recent_from = ctx.day - p.int("recent_days")
    # Session days first (one grouping), then plain counts: cheaper than two distinct counts.
    days = sessions.select("member_id", "day").distinct()
    member = days.group_by("member_id").aggregate(
        days=days.count(),
        first=days.day.min(),
        last=days.day.max(),
        recent=(days.day > recent_from).cast("int64").sum(),
    )
    flagged = member.filter(
        (member.days >= p.int("min_sessions"))
        & (member.last - member.first + 1 >= p.int("min_span_days"))
        & (member.recent.fill_null(0) >= p.int("min_recent_sessions"))
    )
    flagged = _with_evidence(flagged, sessions, "claim_line_start_date")
    return _flags(
        flagged,
        value=flagged.days,
        threshold=p.int("min_sessions"),
        comparator=">=",
        measure="psychotherapy session days in the lookback",
        index=flagged.last_date,
        evidence=flagged.evidence,
    )


def _distinct_sources(ctx: RuleContext, p: RuleParams, column: str, what: str) -> ir.Table:
    rx = ctx.pharmacy()
    fills = rx.filter(
        _in(rx.drug_class, p.strings("drug_classes")) & (rx.day > ctx.day - p.int("lookback_days"))
    )
    member = fills.group_by("member_id").aggregate(n_distinct=fills[column].nunique())
    flagged = _with_evidence(
        member.filter(member.n_distinct >= p.int("min_distinct")), fills, "dispensing_date"
    )
    return _flags(
        flagged,
        value=flagged.n_distinct,
        threshold=p.int("min_distinct"),
        comparator=">=",
        measure=f"distinct {what} of psychotropic fills",
        index=flagged.last_date,
        evidence=flagged.evidence,
    )


def many_prescribers(ctx: RuleContext, p: RuleParams) -> ir.Table:
    return _distinct_sources(ctx, p, "prescribing_provider_npi", "prescribers")


def many_pharmacies(ctx: RuleContext, p: RuleParams) -> ir.Table:
    return _distinct_sources(ctx, p, "dispensing_provider_npi", "pharmacies")


def psychotropic_polypharmacy(ctx: RuleContext, p: RuleParams) -> ir.Table:
    """Days on which ≥ 3 psychotropic classes were on hand at once, over the lookback.

    Per class the fills' supply intervals are merged into islands (a fill opens a new island when it
    starts after every earlier fill of that class ended), then +1/-1 events at each island's start and
    end give, with a running sum, how many classes were on hand between consecutive event days.
    """
    start = ctx.day - p.int("lookback_days") + 1
    rx = ctx.pharmacy()
    fills = rx.filter(_in(rx.drug_class, p.strings("drug_classes")) & (rx.day <= ctx.day))
    fills = fills.mutate(end=fills.day + fills.supply - 1)
    fills = fills.filter(fills.end >= start)
    group = ["member_id", "drug_class"]
    before = ibis.window(group_by=group, order_by=["day", "claim_id"], rows=(None, -1))
    upto = ibis.window(group_by=group, order_by=["day", "claim_id"], rows=(None, 0))
    fills = fills.mutate(reach=fills.end.max().over(before))
    fills = fills.mutate(opens=(fills.reach.isnull() | (fills.day > fills.reach + 1)).cast("int64"))
    fills = fills.mutate(island=fills.opens.sum().over(upto))
    islands = fills.group_by([*group, "island"]).aggregate(first=fills.day.min(), last=fills.end.max())
    islands = islands.mutate(
        first=ibis.greatest(islands.first, start), last=ibis.least(islands.last, ctx.day)
    )
    events = islands.select("member_id", day=islands.first, change=ibis.literal(1, "int64")).union(
        islands.select("member_id", day=islands.last + 1, change=ibis.literal(-1, "int64")), distinct=False
    )
    events = events.group_by(["member_id", "day"]).aggregate(change=events.change.sum())
    order = ibis.window(group_by="member_id", order_by="day", rows=(None, 0))
    events = events.mutate(
        on_hand=events.change.sum().over(order),
        next_day=events.day.lead().over(ibis.window(group_by="member_id", order_by="day")),
    )
    min_classes = p.int("min_classes")
    events = events.mutate(
        overlap=ibis.ifelse(events.on_hand >= min_classes, events.next_day - events.day, 0).fill_null(0)
    )
    member = events.group_by("member_id").aggregate(days=events.overlap.sum())
    member = member.filter(member.days >= p.int("min_overlap_days"))
    period = fills.filter(fills.day >= start)
    period = period.semi_join(member, "member_id")
    evidence = period.group_by("member_id").aggregate(
        last_date=period.dispensing_date.max(),
        evidence=_evidence(period.dispensing_date, period.claim_id).collect(),
    )
    flagged = member.join(evidence, "member_id")
    return _flags(
        flagged,
        value=flagged.days,
        threshold=p.int("min_overlap_days"),
        comparator=">=",
        measure=f"days with {min_classes}+ psychotropic classes on hand",
        index=flagged.last_date,
        evidence=flagged.evidence,
    )


def repeated_readmissions(ctx: RuleContext, p: RuleParams) -> ir.Table:
    """Behavioral-health inpatient admissions within N days of the previous discharge, repeatedly."""
    t = ctx.medical()
    stays = t.filter(
        (_level(t, p) == 4)
        & _in(t.dx_category, p.codes("bh_dx"))
        & t.admission_date.notnull()
        & t.discharge_date.notnull()
    )
    stays = stays.select(
        "member_id",
        "claim_id",
        "admission_date",
        admitted=stays.admission_date.epoch_days().cast("int64"),
        discharged=stays.discharge_date.epoch_days().cast("int64"),
    ).distinct()
    order = ibis.window(group_by="member_id", order_by=["admitted", "claim_id"])
    stays = stays.mutate(previous_discharge=stays.discharged.lag().over(order))
    readmits = stays.filter(
        (stays.admitted - stays.previous_discharge <= p.int("readmission_days"))
        & (stays.admitted > ctx.day - p.int("lookback_days"))
    )
    member = readmits.group_by("member_id").aggregate(
        readmissions=readmits.claim_id.count(),
        last_date=readmits.admission_date.max(),
        evidence=_evidence(readmits.admission_date, readmits.claim_id).collect(),
    )
    flagged = member.filter(member.readmissions >= p.int("min_readmissions"))
    return _flags(
        flagged,
        value=flagged.readmissions,
        threshold=p.int("min_readmissions"),
        comparator=">=",
        measure=f"readmissions within {p.int('readmission_days')} days of a discharge",
        index=flagged.last_date,
        evidence=flagged.evidence,
    )


def frequent_ed_visits(ctx: RuleContext, p: RuleParams) -> ir.Table:
    """Many ED visits for a behavioral-health diagnosis in the lookback."""
    t = ctx.medical()
    ed = t.filter(
        _is_ed(t, p) & _in(t.dx_category, p.codes("bh_dx")) & (t.day > ctx.day - p.int("lookback_days"))
    )
    member = ed.group_by("member_id").aggregate(visits=ed.day.nunique())
    flagged = _with_evidence(
        member.filter(member.visits >= p.int("min_ed_visits")), ed, "claim_line_start_date"
    )
    return _flags(
        flagged,
        value=flagged.visits,
        threshold=p.int("min_ed_visits"),
        comparator=">=",
        measure="behavioral-health ED visit days",
        index=flagged.last_date,
        evidence=flagged.evidence,
    )


def step_down_gap(ctx: RuleContext, p: RuleParams) -> ir.Table:
    """OPM-09: a discharge from inpatient, residential or partial hospitalization with no lower level
    of care (PHP, IOP or an outpatient visit below the level left) on day 1..N after."""
    t = ctx.medical()
    window = p.int("step_down_days")
    # The level of care is worked out only where it matters: on discharge lines, and on the lines of
    # members with a discharge (not on every line of the population).
    stays = t.filter(t.discharge_date.notnull() & _in(t.dx_category, p.codes("bh_dx")))
    stays = stays.mutate(level=_level(stays, p))
    stays = stays.filter(stays.level >= 2)
    index = _index(
        stays, stays.discharge_date.epoch_days().cast("int64"), stays.discharge_date, level=stays.level
    )
    index = index.filter((index.iday > ctx.day - p.int("lookback_days")) & (index.iday + window <= ctx.day))
    lines = t.semi_join(index, "member_id")
    lines = lines.mutate(level=_level(lines, p))
    visits = _visits(lines, lines.level.notnull(), level=lines.level)
    return _unmet_followup(
        index,
        visits,
        first_day=1,
        last_day=window,
        min_visits=p.int("min_lower_level_services"),
        measure=f"lower-level services within {window} days of discharge",
        level_below=True,
    )


# -- billing patterns: IOP-02, TCM-02, TCM-04 -------------------------------------------------------


def iop_duplicate_services(ctx: RuleContext, p: RuleParams) -> ir.Table:
    """IOP-02: services the IOP per diem already includes, billed on an IOP day."""
    t = ctx.medical()
    recent = t.filter(t.day > ctx.day - p.int("lookback_days"))
    iop_days = (
        recent.filter(
            _in(recent.hcpcs_code, p.codes("iop_codes"))
            | _in(recent.revenue_center_code, p.codes("iop_revenue_codes"))
        )
        .select(i_member=recent.member_id, i_day=recent.day)
        .distinct()
    )
    dup = recent.filter(_in(recent.hcpcs_code, p.codes("duplicating_codes")))
    dup = dup.join(iop_days, [dup.member_id == iop_days.i_member, dup.day == iop_days.i_day])
    member = dup.group_by("member_id").aggregate(
        lines=dup.count(),
        last_date=dup.claim_line_start_date.max(),
        evidence=_evidence(dup.claim_line_start_date, dup.claim_id).collect(),
    )
    flagged = member.filter(member.lines >= p.int("min_duplicating_lines"))
    return _flags(
        flagged,
        value=flagged.lines,
        threshold=p.int("min_duplicating_lines"),
        comparator=">=",
        measure="lines duplicating the IOP per diem",
        index=flagged.last_date,
        evidence=flagged.evidence,
    )


def _case_management(ctx: RuleContext, p: RuleParams) -> ir.Table:
    t = ctx.medical()
    return t.filter(
        _in(t.hcpcs_code, p.codes("case_management_codes")) & (t.day > ctx.day - p.int("lookback_days"))
    )


def t1017_daily_units(ctx: RuleContext, p: RuleParams) -> ir.Table:
    """TCM-02: more than 16 T1017 units (15 minutes each) for a member on one day."""
    cm = _case_management(ctx, p)
    limit = p.int("daily_unit_limit")
    days = cm.group_by(["member_id", "day"]).aggregate(units=cm.service_unit_quantity.fill_null(0).sum())
    over = days.filter(days.units > limit)
    over = over.select(o_member=over.member_id, o_day=over.day, units=over.units)
    lines = cm.join(over, [cm.member_id == over.o_member, cm.day == over.o_day])
    member = lines.group_by("member_id").aggregate(
        units=lines.units.max(),
        last_date=lines.claim_line_start_date.max(),
        evidence=_evidence(lines.claim_line_start_date, lines.claim_id).collect(),
    )
    return _flags(
        member,
        value=member.units,
        threshold=limit,
        comparator=">",
        measure="T1017 units on one day",
        index=member.last_date,
        evidence=member.evidence,
    )


def t1017_monthly_units(ctx: RuleContext, p: RuleParams) -> ir.Table:
    """TCM-02: more T1017 units in a calendar month than the variant allows (TF/PACT 56, TG/HN/HM 25)."""
    cm = _case_management(ctx, p)
    levels = p.strings("level_modifiers")
    variant = ibis.literal(p.strings("default_variant")[0], "string")
    for column in ("hcpcs_modifier_4", "hcpcs_modifier_3", "hcpcs_modifier_2", "hcpcs_modifier_1"):
        variant = ibis.ifelse(_in(cm[column], levels), cm[column], variant)
    cm = cm.mutate(
        variant=variant, month=cm.claim_line_start_date.year() * 100 + cm.claim_line_start_date.month()
    )
    limit_of = ibis.cases(
        *[
            (cm.variant == name, p.int(f"monthly_unit_limit_{name.lower()}"))
            for name in (*levels, p.strings("default_variant")[0])
        ]
    )
    cm = cm.mutate(unit_limit=limit_of.cast("int64"))
    months = cm.group_by(["member_id", "variant", "month", "unit_limit"]).aggregate(
        units=cm.service_unit_quantity.fill_null(0).sum()
    )
    over = months.filter(months.units > months.unit_limit)
    over = over.mutate(excess=over.units - over.unit_limit)
    worst = ibis.window(group_by="member_id", order_by=[ibis.desc("excess"), "month", "variant"])
    over = over.mutate(rank=ibis.row_number().over(worst))
    top = over.filter(over.rank == 0)
    top = top.select(w_member=top.member_id, units=top.units, w_limit=top.unit_limit)
    over_keys = over.select(o_member=over.member_id, o_variant=over.variant, o_month=over.month)
    lines = cm.join(
        over_keys,
        [
            cm.member_id == over_keys.o_member,
            cm.variant == over_keys.o_variant,
            cm.month == over_keys.o_month,
        ],
    )
    evidence = lines.group_by("member_id").aggregate(
        last_date=lines.claim_line_start_date.max(),
        evidence=_evidence(lines.claim_line_start_date, lines.claim_id).collect(),
    )
    flagged = evidence.join(top, evidence.member_id == top.w_member)
    # The limit depends on the variant, so the threshold is the worst month's own limit.
    return flagged.select(
        member_id=flagged.member_id,
        measure=ibis.literal("T1017 units in a calendar month", "string"),
        value=flagged.units.cast("float64"),
        threshold=flagged.w_limit.cast("float64"),
        comparator=ibis.literal(">", "string"),
        index_date=flagged.last_date.cast("date"),
        evidence=flagged.evidence,
    )


def case_management_excluded_setting(ctx: RuleContext, p: RuleParams) -> ir.Table:
    """TCM-04: T1017 billed while the member lived in a setting whose residents may not receive
    compensable case management, outside the TCM-05 transition days before discharge."""
    cm = _case_management(ctx, p)
    homes = ctx.source.table("member_residence")
    homes = homes.filter(_in(homes.setting, p.strings("excluded_settings")))
    homes = homes.select(
        r_member=homes.member_id,
        setting=homes.setting,
        r_start=homes.start_date.epoch_days().cast("int64"),
        r_end=homes.end_date.epoch_days().cast("int64"),
    )
    lines = cm.join(
        homes,
        [
            cm.member_id == homes.r_member,
            cm.day >= homes.r_start,
            (cm.day <= homes.r_end) | homes.r_end.isnull(),
        ],
    )
    stay = lines.r_end - lines.r_start + 1
    transition_days = ibis.ifelse(
        stay >= p.int("long_stay_days"),
        p.int("long_stay_transition_days"),
        p.int("short_stay_transition_days"),
    )
    in_transition = (
        _in(lines.activity_code, p.strings("transition_activity_codes"))
        & lines.r_end.notnull()
        & (lines.day > lines.r_end - transition_days)
    ).fill_null(False)
    lines = lines.filter(~in_transition)
    member = lines.group_by("member_id").aggregate(
        lines=lines.count(),
        last_date=lines.claim_line_start_date.max(),
        evidence=_evidence(lines.claim_line_start_date, lines.claim_id).collect(),
    )
    flagged = member.filter(member.lines >= p.int("min_lines"))
    return _flags(
        flagged,
        value=flagged.lines,
        threshold=p.int("min_lines"),
        comparator=">=",
        measure="T1017 lines while residing in an excluded setting",
        index=flagged.last_date,
        evidence=flagged.evidence,
    )


# The engine's implementation of each pack rule, by rule id.
RULES: dict[str, Rule] = {
    "CI-FUH-7": follow_up_after_hospitalization,
    "CI-FUH-30": follow_up_after_hospitalization,
    "CI-FUM-30": follow_up_after_ed_mental_illness,
    "CI-FUA-30": follow_up_after_ed_substance_use,
    "CI-IET-INIT": sud_initiation,
    "CI-IET-ENG": sud_engagement,
    "CI-SAA-PDC": antipsychotic_adherence,
    "CI-APM": metabolic_monitoring_children,
    "CI-AMM-ACUTE": antidepressant_acute,
    "CI-AMM-CONT": antidepressant_continuation,
    "CI-PSYTX-NO-STEP-DOWN": psychotherapy_without_step_down,
    "CI-RX-PRESCRIBERS": many_prescribers,
    "CI-RX-PHARMACIES": many_pharmacies,
    "CI-RX-POLYPHARMACY": psychotropic_polypharmacy,
    "CI-READMIT": repeated_readmissions,
    "CI-ED-FREQUENT": frequent_ed_visits,
    "CI-STEP-DOWN-GAP": step_down_gap,
    "CI-IOP-DUPLICATE": iop_duplicate_services,
    "CI-T1017-DAILY": t1017_daily_units,
    "CI-T1017-MONTHLY": t1017_monthly_units,
    "CI-TCM-EXCLUDED-SETTING": case_management_excluded_setting,
}
