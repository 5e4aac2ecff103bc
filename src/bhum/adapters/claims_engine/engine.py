# ruff: noqa: E501  (SQL text reads better unwrapped)
"""The set-based claim check engine: a few DuckDB statements over Arrow tables, no loop per line.

Order of the edits (docs/claim-checks.md):

1. whole-line denials, each independent of the others: no coverage (OPM-08), exact duplicate,
   authorization absent / denied / discontinued (OPM-07) / not applicable (OPM-01, MN-04), T1017
   program modifier, age, contract type, staff level (TCM-02), excluded residence, non-reimbursable
   activity (TCM-04), IOP age band (IOP-03), IOP day under the consecutive-hour minimum (IOP-04), a
   bundled service on an IOP day (IOP-02). The first one tripped names the line's CARC/RARC; all are listed.
2. T1017 units supported by face-to-face minutes (TCM-01, the pack's rounding rule).
3. units beyond what remains on the authorization, in claim order, paying up to the remainder (MN-04).
4. T1017 16 units a day across the member's T1017 lines, then the billed variant's monthly cap, in claim
   order with running sums and the member's history of paid units first (TCM-02).
5. flags that do not change payment: IOP weeks with fewer than 3 days (IOP-04).

"Claim order" is the order lines arrive in the batch (``line_order``): files in the order given, lines in
file order. Units paid before the batch (the history) always come first.

How it stays fast (issue 5, "Measured"): every line is read once into ``lines`` with its member,
coverage, contract and staff looked up by hash joins; everything that needs more than a lookup runs on
the few lines it concerns (authorizations on lines that need one, residence and caps on T1017 lines,
running sums on T1017 / per diem / authorized lines, exact duplicates only among lines whose hash
collides). Edit records (structs with the sentence) are built only for lines that trip something; a
clean line costs a handful of boolean tests. ``timings`` reports the seconds of each stage.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bhum.domain.claim_edits import EDIT_RULE_IDS, ClaimCheckParameters, Edit, Rounding
from bhum.domain.values import CPT, HCPCS, REVENUE, Code
from bhum.services.claims import ACTIVE_AUTHORIZATION_STATUSES, ReferenceTables

DECISION_COLUMNS = (
    "line_order",
    "source",
    "source_line",
    "claim_id",
    "claim_line_number",
    "member_id",
    "billing_npi",
    "rendering_npi",
    "service_date",
    "service_end_date",
    "hcpcs_code",
    "hcpcs_modifier_1",
    "hcpcs_modifier_2",
    "hcpcs_modifier_3",
    "hcpcs_modifier_4",
    "revenue_center_code",
    "billed_units",
    "paid_units",
    "denied_units",
    "charge_amount",
    "allowed_amount",
    "paid_amount",
    "status",
    "carc",
    "rarc",
    "rule_id",
    "edit",
    "reason",
    "edits",
    "flags",
    "authorization_id",
)
EDIT_TYPE = (
    "STRUCT(edit VARCHAR, rule_id VARCHAR, carc VARCHAR, rarc VARCHAR, denied_units DOUBLE, sentence VARCHAR)"
)
FLAG_TYPE = "STRUCT(edit VARCHAR, rule_id VARCHAR, sentence VARCHAR)"
_MODIFIERS = (
    "hcpcs_modifier_1",
    "hcpcs_modifier_2",
    "hcpcs_modifier_3",
    "hcpcs_modifier_4",
    "hcpcs_modifier_5",
)
_OPEN_END = "DATE '9999-12-31'"  # an open span ends never


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_list(values: Iterable[str]) -> str:
    items = sorted(set(values))
    return "[" + ", ".join(_sql_text(v) for v in items) + "]::VARCHAR[]" if items else "[]::VARCHAR[]"


def _sql_tuple(values: Iterable[str]) -> str:
    """A SQL ``IN`` list; ``(NULL)`` matches nothing when the set is empty."""
    items = sorted(set(values))
    return "(" + ", ".join(_sql_text(v) for v in items) + ")" if items else "(NULL)"


def _claim_codes(codes: Iterable[Code]) -> tuple[list[str], list[str]]:
    """Codes as they appear on a claim line: CPT/HCPCS in hcpcs_code, revenue codes in revenue_center_code."""
    procedure = [c.code for c in codes if c.system in (HCPCS, CPT)]
    revenue = [c.code for c in codes if c.system == REVENUE]
    return procedure, revenue


def _code_test(procedure: list[str], revenue: list[str]) -> str:
    """A never-NULL test of a line's procedure or revenue code against a code set."""
    tests = []
    if procedure:
        tests.append(f"coalesce(hcpcs_code IN {_sql_tuple(procedure)}, false)")
    if revenue:
        tests.append(f"coalesce(revenue_center_code IN {_sql_tuple(revenue)}, false)")
    return "(" + " OR ".join(tests) + ")" if tests else "false"


class DuckDbClaimsEngine:
    """Implements ``bhum.services.claims.ClaimsEngine``. ``threads`` caps DuckDB's worker threads.

    After ``check``, ``timings`` holds the seconds each stage took (``lines``, ``authorizations``,
    ``duplicates``, ``iop``, ``units``, ``caps``, ``decisions``); the benchmark reports them."""

    def __init__(self, *, threads: int | None = None, memory_limit: str | None = None) -> None:
        self.threads = threads
        self.memory_limit = memory_limit
        self.timings: dict[str, float] = {}

    def connect(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect()
        if self.threads:
            con.execute(f"SET threads = {int(self.threads)}")
        if self.memory_limit:
            con.execute(f"SET memory_limit = {_sql_text(self.memory_limit)}")
        con.execute("SET preserve_insertion_order = false")
        # Units print without a trailing ".0" in the sentences.
        con.execute("CREATE OR REPLACE MACRO u(x) AS regexp_replace(CAST(x AS VARCHAR), '\\.0+$', '')")
        return con

    def check(
        self, batch: pa.Table, reference: ReferenceTables, parameters: ClaimCheckParameters
    ) -> pa.Table:
        con = self.connect()
        self.timings = {}
        try:
            return check_with(con, batch, reference, parameters, timings=self.timings)
        finally:
            con.close()


def _register(con: duckdb.DuckDBPyConnection, reference: ReferenceTables, batch: pa.Table) -> None:
    con.register("claims_in", batch)
    con.register("ref_members", reference.members)
    con.register("ref_coverage", reference.coverage)
    con.register("ref_residence", reference.residence)
    con.register("ref_contracts", reference.provider_contracts)
    con.register("ref_staff", reference.staff)
    con.register("ref_auth", reference.authorizations)
    con.register("ref_notices", reference.notices)
    con.register("ref_history", reference.history)


def _variants_sql(p: ClaimCheckParameters) -> str:
    rows = [
        "SELECT "
        + ", ".join(
            [
                (_sql_text(v.level_modifier) if v.level_modifier else "NULL::VARCHAR") + " AS level_modifier",
                _sql_text(v.name) + " AS variant",
                _sql_text(v.rule_id) + " AS variant_rule",
                f"{v.min_age} AS min_age",
                f"{v.max_age} AS max_age",
                f"{v.daily_limit} AS daily_limit",
                f"{v.monthly_limit} AS monthly_limit",
                _sql_list(v.contract_types) + " AS contract_types",
            ]
        )
        for v in p.variants
    ]
    return " UNION ALL ".join(rows)


def _edit_struct(p: ClaimCheckParameters, edit: Edit, denied: str, sentence: str) -> str:
    codes = p.codes[edit]
    carc = _sql_text(codes.carc.code)
    rarc = _sql_text(codes.rarc.code) if codes.rarc else "NULL::VARCHAR"
    return (
        f"{{'edit': {_sql_text(edit.value)}, 'rule_id': {_sql_text(EDIT_RULE_IDS[edit])}, 'carc': {carc}, "
        f"'rarc': {rarc}, 'denied_units': ({denied})::DOUBLE, 'sentence': {sentence}}}"
    )


# An edit: (condition, struct). The condition is cheap and evaluated on every line; the struct (with its
# sentence) only on the lines whose condition holds.
EditSql = tuple[str, str]


def _whole_line_edits(p: ClaimCheckParameters) -> list[EditSql]:
    """Whole-line denials over the columns of ``_facts_sql`` (alias ``w``), in the documented order."""
    e = Edit
    excluded = _sql_tuple(p.excluded_settings)
    adult_minutes = round(p.adult_min_consecutive_hours * 60)
    adolescent_minutes = round(p.adolescent_min_consecutive_hours * 60)
    cm1, cm2 = _sql_tuple(p.cm1_level_modifiers), _sql_tuple(p.cm2_level_modifiers)
    staff_creds = "string_split(coalesce(w.staff_credentials, ''), ';')"
    modifiers = "concat_ws(',', " + ", ".join(f"w.{m}" for m in _MODIFIERS) + ")"
    edits: list[tuple[Edit, str, str]] = [
        (
            e.MEMBER_COVERED,
            "NOT w.covered",
            "'OPM-08: member ' || w.member_id || CASE WHEN w.birth_date IS NULL THEN ' is not on file' "
            "ELSE ' had no coverage with behavioral-health benefits on ' || strftime(w.service_date, '%Y-%m-%d') END",
        ),
        (e.EXACT_DUPLICATE, "w.duplicate_of IS NOT NULL", "'MN-04: exact duplicate of ' || w.duplicate_of"),
        (
            e.AUTHORIZATION_ABSENT,
            "w.needs_auth AND w.match_rank IS NULL",
            "'OPM-01: ' || coalesce(w.hcpcs_code, w.revenue_center_code) || ' needs an authorization and "
            "none is on file for the member'",
        ),
        (
            e.AUTHORIZATION_DISCONTINUED,
            "w.match_rank = 1",
            "'OPM-07: authorization ' || w.authorization_id || ' was discontinued on ' "
            "|| strftime(w.auth_status_since, '%Y-%m-%d') || ' (clinical update not returned)'",
        ),
        (
            e.AUTHORIZATION_DENIED,
            "w.match_rank = 2",
            "'OPM-01: authorization ' || w.authorization_id || ' was denied'",
        ),
        (
            e.AUTHORIZATION_NOT_APPLICABLE,
            "w.match_rank BETWEEN 3 AND 5",
            "'MN-04: authorization ' || w.authorization_id || CASE w.match_rank "
            "WHEN 3 THEN ' is for provider ' || w.authorized_npi || ', not ' || w.billing_npi "
            "WHEN 4 THEN ' spans ' || strftime(w.auth_start, '%Y-%m-%d') || ' to ' "
            "|| coalesce(strftime(w.auth_end, '%Y-%m-%d'), 'open') || ', not ' || strftime(w.service_date, '%Y-%m-%d') "
            "WHEN 5 THEN ' does not cover service ' || coalesce(w.hcpcs_code, w.revenue_center_code) "
            "ELSE ' is ' || w.auth_status || ' and does not apply' END",
        ),
        (
            e.TCM_PROGRAM_MODIFIER,
            "w.is_tcm AND NOT w.has_program_modifier",
            f"'TCM-02: T1017 needs a program modifier ({', '.join(sorted(p.program_modifiers))}); modifiers were '"
            f" || coalesce(nullif({modifiers}, ''), 'none')",
        ),
        (
            e.TCM_AGE,
            "w.is_tcm AND w.variant IS NOT NULL AND w.age IS NOT NULL AND (w.age < w.min_age OR w.age > w.max_age)",
            "'TCM-02: variant ' || w.variant || ' serves ages ' || w.min_age || '-' || w.max_age "
            "|| '; the member was ' || w.age || ' on ' || strftime(w.service_date, '%Y-%m-%d')",
        ),
        (
            e.TCM_CONTRACT_TYPE,
            "w.is_tcm AND w.variant IS NOT NULL AND (w.contract_type IS NULL "
            "OR NOT list_contains(w.contract_types, w.contract_type))",
            "'TCM-02: variant ' || w.variant || ' is billed under contract type(s) ' "
            "|| array_to_string(w.contract_types, '/') || '; billing NPI ' || coalesce(w.billing_npi, '?') "
            "|| ' has ' || coalesce(w.contract_type, 'no contract type on file')",
        ),
        (
            e.TCM_STAFF_LEVEL,
            f"w.is_tcm AND w.level_modifier IS NOT NULL AND NOT ("
            f"(w.level_modifier IN {cm1} AND "
            f"len(list_intersect({staff_creds}, {_sql_list(p.cm1_credentials)})) > 0) OR "
            f"(w.level_modifier IN {cm2} AND "
            f"len(list_intersect({staff_creds}, {_sql_list(p.cm2_credentials)})) > 0))",
            "'TCM-02: level modifier ' || w.level_modifier || ' needs a ' || CASE WHEN w.level_modifier IN "
            f"{cm1} THEN 'CM I' ELSE 'CM II' END "
            "|| ' case manager; rendering staff ' || coalesce(w.rendering_staff_id, '(none)') || ' hold ' "
            "|| coalesce(nullif(w.staff_credentials, ''), 'no credentials on file')",
        ),
        (
            e.TCM_RESIDENCE,
            f"w.is_tcm AND w.residence_setting IN {excluded}",
            "'TCM-04: the member resided in ' || w.residence_setting || ' on ' "
            "|| strftime(w.service_date, '%Y-%m-%d')",
        ),
        (
            e.TCM_ACTIVITY,
            f"w.is_tcm AND w.activity_code IN {_sql_tuple(p.not_reimbursable_activities)}",
            "'TCM-04: activity ' || w.activity_code || ' is not reimbursable case management'",
        ),
        (
            e.IOP_AGE,
            f"w.is_per_diem AND w.age IS NOT NULL AND w.age < {p.adolescent_min_age}",
            f"'IOP-03: IOP serves adolescents {p.adolescent_min_age}-{p.adolescent_max_age} and adults "
            f"{p.adult_min_age}+; the member was ' || w.age",
        ),
        (
            e.IOP_HOURS,
            f"w.is_per_diem AND w.age IS NOT NULL AND w.age >= {p.adolescent_min_age} AND "
            f"(w.iop_minutes IS NULL OR w.iop_minutes < CASE WHEN w.age >= {p.adult_min_age} "
            f"THEN {adult_minutes} ELSE {adolescent_minutes} END)",
            f"'IOP-04: ' || CASE WHEN w.age >= {p.adult_min_age} THEN 'an adult' ELSE 'an adolescent' "
            f"END || ' IOP day needs ' || CASE WHEN w.age >= {p.adult_min_age} "
            f"THEN '{p.adult_min_consecutive_hours:g}' ELSE '{p.adolescent_min_consecutive_hours:g}' END "
            "|| ' consecutive hours; this day had ' || CASE WHEN w.iop_minutes IS NULL THEN 'no documented time' "
            "ELSE (w.iop_minutes // 60) || 'h' || lpad((w.iop_minutes % 60)::VARCHAR, 2, '0') END",
        ),
        (
            e.IOP_BUNDLED,
            "w.in_iop_stay",
            "'IOP-02: ' || w.hcpcs_code || ' on ' || strftime(w.service_date, '%Y-%m-%d') "
            "|| ' is inside an IOP stay and included in the per diem'",
        ),
    ]
    return [(cond, _edit_struct(p, edit, "w.billed_units", sentence)) for edit, cond, sentence in edits]


def _unit_edits(p: ClaimCheckParameters) -> list[EditSql]:
    """Partial payments over the columns of the ``units_in`` and ``caps`` tables (alias ``w``), in the documented order."""
    e = Edit
    um = p.unit_minutes
    travel_note = (
        "CASE WHEN w.face_to_face_minutes IS NULL AND coalesce(w.travel_minutes, 0) > "
        f"{p.billable_travel_minutes} THEN ' after ' || w.travel_minutes || ' travel minutes, which are not "
        "billable' ELSE '' END"
    )
    month_left = "greatest(0, least(w.day_units, w.monthly_limit - w.month_used))"
    edits: list[tuple[Edit, str, str, str]] = [
        (
            e.TCM_MINUTES,
            "w.is_tcm AND w.supported_units < w.eligible_units",
            "w.eligible_units - w.supported_units",
            "'TCM-01: ' || coalesce(w.tcm_minutes::VARCHAR, 'no documented') || ' face-to-face minutes"
            f"' || {travel_note} || ' support ' || u(w.supported_units) || ' unit(s) of {um} minutes "
            f"({p.rounding.value}); ' || u(w.eligible_units) || ' billed'",
        ),
        (
            e.AUTHORIZATION_EXCEEDED,
            "w.match_rank = 0 AND w.auth_units < w.supported_units",
            "w.supported_units - w.auth_units",
            "'MN-04: authorization ' || w.authorization_id || ' had ' || greatest(w.auth_left, 0) "
            "|| ' unit(s) left; ' || u(w.auth_units) || ' of ' || u(w.supported_units) || ' paid'",
        ),
        (
            e.TCM_DAILY_CAP,
            "w.is_tcm AND w.day_units < w.auth_units",
            "w.auth_units - w.day_units",
            "'TCM-02: ' || u(w.day_used) || ' T1017 unit(s) already paid on ' "
            "|| strftime(w.service_date, '%Y-%m-%d') || ' against the daily limit of ' || w.daily_limit "
            "|| '; ' || u(w.day_units) || ' of ' || u(w.auth_units) || ' paid'",
        ),
        (
            e.TCM_MONTHLY_CAP,
            "w.is_tcm AND w.monthly_limit IS NOT NULL AND w.monthly_limit - w.month_used < w.day_units",
            f"w.day_units - {month_left}",
            "'TCM-02: ' || u(w.month_used) || ' unit(s) of variant ' || w.variant || ' already paid in ' "
            "|| strftime(w.service_date, '%Y-%m') || ' against the monthly limit of ' || w.monthly_limit "
            f"|| '; ' || u({month_left}) || ' of ' || u(w.day_units) || ' paid'",
        ),
    ]
    return [(cond, _edit_struct(p, edit, denied, sentence)) for edit, cond, denied, sentence in edits]


def _any(edits: list[EditSql]) -> str:
    """True when some condition holds (a NULL condition does not)."""
    return "CASE " + " ".join(f"WHEN {cond} THEN true" for cond, _ in edits) + " ELSE false END"


def _edit_list(edits: list[EditSql]) -> str:
    """The list of tripped edits, in order; only evaluated on lines where ``_any`` holds."""
    items = ", ".join(f"CASE WHEN {cond} THEN [{struct}] END" for cond, struct in edits)
    return f"list_concat({items})"


def _facts_sql(where: str) -> str:
    """The lines that need a decision, with what the whole-line edits look at (alias ``w``)."""
    return f"""
        SELECT l.*,
          al.pos IS NOT NULL AS needs_auth, al.match_rank, al.authorization_id,
          al.start_date AS auth_start, al.end_date AS auth_end, al.status AS auth_status,
          al.status_since AS auth_status_since, al.authorized_npi, al.remaining_before,
          dup.duplicate_of,
          st.pos IS NOT NULL AS in_iop_stay,
          res.setting AS residence_setting
        FROM lines l
        LEFT JOIN auth_lines al ON al.pos = l.pos
        LEFT JOIN duplicates dup ON dup.pos = l.pos
        LEFT JOIN iop_stay st ON st.pos = l.pos
        LEFT JOIN tcm_residence res ON res.pos = l.pos
        {where}
    """


def _timed(con: duckdb.DuckDBPyConnection, timings: dict[str, float], stage: str, *statements: str) -> None:
    started = time.perf_counter()
    for statement in statements:
        con.execute(statement)
    timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - started


def _in_line_order(batch: pa.Table) -> pa.Table:
    """The batch sorted by ``line_order`` (readers already hand it over sorted: then it is returned as is)."""
    order = batch.column("line_order")
    if batch.num_rows < 2:
        return batch
    ascending = pc.all(pc.greater_equal(order.slice(1), order.slice(0, batch.num_rows - 1))).as_py()
    return batch if ascending else batch.take(pc.sort_indices(order))


def _scatter_lists(n: int, positions: np.ndarray, values: pa.Array) -> pa.Array:
    """``n`` empty lists but for the rows at ``positions`` (ascending), which get ``values`` in order."""
    lengths = np.zeros(n, dtype=np.int32)
    lengths[positions] = pc.fill_null(pc.list_value_length(values), 0).to_numpy(zero_copy_only=False)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), values.flatten(), type=values.type)


def check_with(
    con: duckdb.DuckDBPyConnection,
    batch: pa.Table,
    reference: ReferenceTables,
    p: ClaimCheckParameters,
    *,
    timings: dict[str, float] | None = None,
) -> pa.Table:
    """One decision row per line of ``batch``, ordered by ``line_order``.

    Every line is classified once (``keys``: coverage, the codes that call for a closer look, the
    duplicate hash). A line that is covered, not a duplicate and whose code needs no authorization,
    T1017, per diem or IOP bundling check is paid as billed by a plain column projection; only the
    others (``lines``) go through the joins, running sums and edit records, and are written over the
    plain decisions by position."""
    timings = timings if timings is not None else {}
    started = time.perf_counter()
    batch = _in_line_order(batch)
    n = batch.num_rows
    claims = batch.append_column("pos", pa.array(np.arange(n, dtype=np.int64)))
    _register(con, reference, claims)
    preauth_proc, preauth_rev = _claim_codes(p.preauth_services)
    testing_proc, _ = _claim_codes(p.testing_services)
    per_diem_proc, per_diem_rev = _claim_codes(p.per_diem_services)
    bundled_proc, _ = _claim_codes(p.bundled_services)
    level_modifiers = _sql_tuple(
        p.cm1_level_modifiers
        | p.cm2_level_modifiers
        | {v.level_modifier for v in p.variants if v.level_modifier}
    )
    program_modifiers = _sql_tuple(p.program_modifiers)
    active = _sql_tuple(ACTIVE_AUTHORIZATION_STATUSES)
    tcm_code = _sql_text(p.tcm_service.code)
    basis = "service_unit_basis" if "service_unit_basis" in set(batch.schema.names) else "NULL::VARCHAR"
    um = p.unit_minutes
    extra = (um + 1) // 2 if p.rounding is Rounding.EIGHT_MINUTE else um  # remainder that adds a unit

    def minute_of(column: str) -> str:
        return (
            f"TRY_CAST(split_part({column}, ':', 1) AS INTEGER) * 60 "
            f"+ TRY_CAST(split_part({column}, ':', 2) AS INTEGER)"
        )

    # 1. every line once, narrow: coverage (spans with BH benefits merged per member first, so a line
    # meets at most one span), the code tests and the hash of the columns an exact duplicate repeats.
    _timed(
        con,
        timings,
        "lines",
        f"""
        CREATE OR REPLACE TEMP TABLE bh_spans AS
        WITH s AS (
          SELECT member_id, start_date AS s, coalesce(end_date, {_OPEN_END}) AS e
          FROM ref_coverage WHERE bh_benefit AND start_date IS NOT NULL
        ),
        b AS (
          SELECT *, CASE WHEN s <= max(e) OVER (PARTITION BY member_id ORDER BY s, e
                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) THEN 0 ELSE 1 END AS starts_island
          FROM s
        ),
        i AS (SELECT *, sum(starts_island) OVER (PARTITION BY member_id ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS island FROM b)
        SELECT member_id, min(s) AS s, max(e) AS e FROM i GROUP BY member_id, island
        """,
        # OPM-07: any line for a service, provider and date that an authorization discontinued by the
        # outpatient program covered — routine outpatient codes included, not only preauthorized ones.
        f"""
        CREATE OR REPLACE TEMP TABLE discontinued_lines AS
        SELECT DISTINCT c.pos
        FROM claims_in c JOIN ref_auth a
          ON a.member_id = c.member_id AND a.status = 'discontinued'
         AND a.status_since <= c.claim_line_start_date AND a.start_date <= c.claim_line_start_date
         AND (a.end_date IS NULL OR c.claim_line_start_date <= a.end_date)
         AND a.provider_npi IN (c.billing_npi, c.rendering_npi)
         AND ((a.code_system IN ({_sql_text(HCPCS)}, {_sql_text(CPT)}) AND a.code = c.hcpcs_code)
              OR (a.code_system = {_sql_text(REVENUE)} AND a.code = c.revenue_center_code))
        """,
        f"""
        CREATE OR REPLACE TEMP TABLE keys AS
        SELECT c.pos,
          bh.member_id IS NOT NULL AS covered,
          ({_code_test([p.tcm_service.code, *per_diem_proc, *preauth_proc, *testing_proc, *bundled_proc], [*per_diem_rev, *preauth_rev])}
            OR c.pos IN (SELECT pos FROM discontinued_lines)) AS closer_look,
          hash(c.member_id, c.claim_line_start_date, coalesce(c.claim_line_end_date, c.claim_line_start_date),
               c.hcpcs_code, c.revenue_center_code, concat_ws(',', {", ".join(f"c.{m}" for m in _MODIFIERS)}),
               c.service_unit_quantity::DOUBLE, c.billing_npi, c.rendering_npi, c.charge_amount::DOUBLE,
               c.service_start_time) AS k
        FROM claims_in c
        LEFT JOIN bh_spans bh
          ON bh.member_id = c.member_id AND bh.s <= c.claim_line_start_date AND c.claim_line_start_date <= bh.e
        """,
    )
    # 2. exact duplicates: only lines whose hash collides are compared column by column (the
    # modifiers as a list: their order, not their slots, matters).
    started_dup = time.perf_counter()
    suspects = con.sql(
        "SELECT pos FROM keys WHERE k IN (SELECT k FROM keys GROUP BY k HAVING count(*) > 1) ORDER BY pos"
    ).fetch_arrow_table()
    con.register("suspects_in", claims.take(suspects.column("pos")))
    timings["duplicates"] = time.perf_counter() - started_dup
    _timed(
        con,
        timings,
        "duplicates",
        f"""
        CREATE OR REPLACE TEMP TABLE duplicates AS
        WITH s AS (
          SELECT pos, line_order, claim_id, claim_line_number, member_id, claim_line_start_date,
            coalesce(claim_line_end_date, claim_line_start_date) AS service_end_date, hcpcs_code,
            revenue_center_code, list_filter([{", ".join(_MODIFIERS)}], lambda m: m IS NOT NULL) AS modifiers,
            service_unit_quantity::DOUBLE AS quantity, billing_npi, rendering_npi,
            charge_amount::DOUBLE AS charge_amount, service_start_time
          FROM suspects_in
        )
        SELECT pos,
          first_value(claim_id) OVER dup || ' line ' || first_value(claim_line_number) OVER dup AS duplicate_of
        FROM s
        WINDOW dup AS (
          PARTITION BY member_id, claim_line_start_date, service_end_date, hcpcs_code, revenue_center_code,
            modifiers, quantity, billing_npi, rendering_npi, charge_amount, service_start_time
          ORDER BY line_order, pos)
        QUALIFY row_number() OVER dup > 1
        """,
    )
    # The lines that need a decision, gathered by position (a columnar take, no join over the batch).
    started_take = time.perf_counter()
    closer = con.sql(
        "SELECT pos, covered FROM keys WHERE closer_look OR pos IN (SELECT pos FROM duplicates) ORDER BY pos"
    ).fetch_arrow_table()
    con.register(
        "closer_in", claims.take(closer.column("pos")).append_column("covered", closer.column("covered"))
    )
    # A line with no coverage and nothing else to look at can only trip OPM-08: decided on its own.
    uncovered = con.sql(
        "SELECT pos FROM keys WHERE NOT covered AND NOT closer_look AND pos NOT IN (SELECT pos FROM duplicates) "
        "ORDER BY pos"
    ).fetch_arrow_table()
    con.register("uncovered_in", claims.take(uncovered.column("pos")))
    timings["lines"] += time.perf_counter() - started_take
    # 3. the lines that need a decision, with everything the edits read.
    level = "CASE " + " ".join(f"WHEN {m} IN {level_modifiers} THEN {m}" for m in _MODIFIERS) + " END"
    program = " OR ".join(f"coalesce({m} IN {program_modifiers}, false)" for m in _MODIFIERS)
    _timed(
        con,
        timings,
        "lines",
        f"""
        CREATE OR REPLACE TEMP TABLE lines AS
        WITH c AS (
          SELECT pos, line_order, claim_id, claim_line_number, member_id, billing_npi,
            rendering_npi, rendering_staff_id, claim_line_start_date AS service_date,
            hcpcs_code, {", ".join(_MODIFIERS)}, revenue_center_code, activity_code, service_start_time,
            service_stop_time, face_to_face_minutes, travel_minutes,
            coalesce(allowed_amount, charge_amount)::DOUBLE AS allowed_amount,
            service_unit_quantity::DOUBLE AS quantity, {basis} AS unit_basis, covered,
            coalesce(hcpcs_code = {tcm_code}, false) AS is_tcm,
            {_code_test(per_diem_proc, per_diem_rev)} AS is_per_diem,
            {_code_test(preauth_proc, preauth_rev)} AS needs_auth_code,
            {_code_test(testing_proc, [])} AS is_testing,
            {_code_test(bundled_proc, [])} AS is_bundled
          FROM closer_in c
        ),
        d AS (
          SELECT c.*,
            CASE WHEN is_tcm AND unit_basis = 'MJ' THEN floor(quantity / {um}) ELSE quantity END AS billed_units,
            CASE WHEN is_tcm OR is_per_diem THEN {minute_of("service_start_time")} END AS start_minute,
            CASE WHEN is_tcm OR is_per_diem THEN {minute_of("service_stop_time")} END AS stop_minute,
            CASE WHEN is_tcm THEN {level} END AS level_modifier,
            CASE WHEN is_tcm THEN {program} END AS has_program_modifier
          FROM c
        )
        SELECT d.* EXCLUDE (start_minute, stop_minute),
          CASE WHEN d.stop_minute > d.start_minute THEN d.stop_minute - d.start_minute END AS elapsed_minutes,
          CASE WHEN d.is_per_diem THEN coalesce(d.face_to_face_minutes,
            CASE WHEN d.stop_minute > d.start_minute THEN d.stop_minute - d.start_minute END) END AS iop_minutes,
          m.birth_date,
          CASE WHEN (d.is_tcm OR d.is_per_diem) AND m.birth_date IS NOT NULL THEN
            year(d.service_date) - year(m.birth_date)
              - CASE WHEN month(d.service_date) * 100 + day(d.service_date)
                          < month(m.birth_date) * 100 + day(m.birth_date) THEN 1 ELSE 0 END
          END AS age,
          ctr.contract_type, stf.credentials AS staff_credentials,
          v.variant, v.variant_rule, v.min_age, v.max_age, v.daily_limit, v.monthly_limit, v.contract_types
        FROM d
        LEFT JOIN (SELECT member_id, min(birth_date) AS birth_date FROM ref_members GROUP BY member_id) m
          ON m.member_id = d.member_id
        LEFT JOIN (SELECT npi, any_value(contract_type) AS contract_type FROM ref_contracts GROUP BY npi) ctr
          ON d.is_tcm AND ctr.npi = d.billing_npi
        LEFT JOIN (SELECT staff_id, any_value(credentials) AS credentials FROM ref_staff GROUP BY staff_id) stf
          ON d.is_tcm AND stf.staff_id = d.rendering_staff_id
        LEFT JOIN ({_variants_sql(p)}) v
          ON d.is_tcm AND v.level_modifier IS NOT DISTINCT FROM d.level_modifier
        """,
    )
    # 4. authorizations: the best candidate per line that needs one (testing codes after a notice).
    _timed(
        con,
        timings,
        "authorizations",
        """
        CREATE OR REPLACE TEMP TABLE needs_auth AS
        SELECT pos, member_id, service_date, hcpcs_code, revenue_center_code, billing_npi, rendering_npi
        FROM lines WHERE needs_auth_code
        UNION
        SELECT pos, member_id, service_date, hcpcs_code, revenue_center_code, billing_npi, rendering_npi
        FROM lines WHERE NOT needs_auth_code AND pos IN (SELECT pos FROM discontinued_lines)
        UNION ALL
        SELECT t.pos, t.member_id, t.service_date, t.hcpcs_code, t.revenue_center_code, t.billing_npi,
               t.rendering_npi
        FROM (
          SELECT l.*, c.plan_id FROM lines l JOIN ref_coverage c
            ON c.member_id = l.member_id AND c.start_date <= l.service_date
           AND (c.end_date IS NULL OR l.service_date <= c.end_date)
          WHERE l.is_testing AND NOT l.needs_auth_code
          QUALIFY row_number() OVER (PARTITION BY l.pos ORDER BY c.bh_benefit DESC, c.start_date DESC) = 1
        ) t
        WHERE EXISTS (
          SELECT 1 FROM ref_notices n
          WHERE n.plan_id = t.plan_id AND n.effective_from <= t.service_date
            AND (n.effective_to IS NULL OR t.service_date <= n.effective_to)
            AND (n.provider_npi IS NULL OR n.provider_npi IN (t.billing_npi, t.rendering_npi))
            AND (n.member_id IS NULL OR n.member_id = t.member_id))
        """,
        f"""
        CREATE OR REPLACE TEMP TABLE auth_lines AS
        WITH cand AS (
          SELECT n.pos, n.service_date, a.authorization_id, a.status, a.start_date, a.end_date, a.status_since,
                 a.units_authorized, a.units_used, a.provider_npi,
                 (a.start_date <= n.service_date AND (a.end_date IS NULL OR n.service_date <= a.end_date))
                   AS in_span,
                 a.provider_npi IN (n.billing_npi, n.rendering_npi) AS same_provider,
                 ((a.code_system IN ({_sql_text(HCPCS)}, {_sql_text(CPT)}) AND a.code = n.hcpcs_code)
                   OR (a.code_system = {_sql_text(REVENUE)} AND a.code = n.revenue_center_code)) AS same_service
          FROM needs_auth n JOIN ref_auth a ON a.member_id = n.member_id
        ),
        ranked AS (
          SELECT *,
            CASE
              WHEN same_service AND in_span AND same_provider AND status IN {active} THEN 0
              WHEN same_service AND in_span AND same_provider AND status = 'discontinued'
                   AND status_since > service_date
                THEN 0
              WHEN same_service AND in_span AND same_provider AND status = 'discontinued' THEN 1
              WHEN same_service AND in_span AND same_provider AND status = 'denied' THEN 2
              WHEN same_service AND in_span AND status IN {active} THEN 3
              WHEN same_service AND status IN {active} THEN 4
              WHEN in_span AND status IN {active} THEN 5
              ELSE 9
            END AS match_rank
          FROM cand
        ),
        best AS (
          SELECT pos, authorization_id, match_rank, start_date, end_date, status, status_since,
                 provider_npi AS authorized_npi,
                 greatest(units_authorized - units_used, 0) AS remaining_before
          FROM ranked
          WHERE match_rank < 9
          QUALIFY row_number() OVER (PARTITION BY pos ORDER BY match_rank, start_date, authorization_id) = 1
        )
        SELECT n.pos, b.* EXCLUDE (pos)
        FROM needs_auth n LEFT JOIN best b ON b.pos = n.pos
        """,
    )
    # 5. IOP stays (IOP-02): bundled services on a per diem day (batch or history) or inside an active
    # per diem authorization; and the residence of T1017 lines (TCM-04).
    _timed(
        con,
        timings,
        "iop",
        f"""
        CREATE OR REPLACE TEMP TABLE iop_stay AS
        WITH days AS (
          SELECT DISTINCT member_id, service_date FROM lines WHERE is_per_diem
          UNION
          SELECT DISTINCT member_id, service_date FROM ref_history
          WHERE hcpcs_code IN {_sql_tuple(per_diem_proc)} AND paid_units > 0
        ),
        spans AS (
          SELECT member_id, start_date, end_date FROM ref_auth
          WHERE status IN {active}
            AND ((code_system IN ({_sql_text(HCPCS)}, {_sql_text(CPT)}) AND code IN {_sql_tuple(per_diem_proc)})
                 OR (code_system = {_sql_text(REVENUE)} AND code IN {_sql_tuple(per_diem_rev)}))
        ),
        b AS (SELECT pos, member_id, service_date FROM lines WHERE is_bundled)
        SELECT b.pos FROM b SEMI JOIN days d ON d.member_id = b.member_id AND d.service_date = b.service_date
        UNION
        SELECT b.pos FROM b JOIN spans s ON s.member_id = b.member_id AND s.start_date <= b.service_date
          AND (s.end_date IS NULL OR b.service_date <= s.end_date)
        """,
        """
        CREATE OR REPLACE TEMP TABLE tcm_residence AS
        SELECT l.pos, r.setting
        FROM lines l JOIN ref_residence r
          ON r.member_id = l.member_id AND r.start_date <= l.service_date
         AND (r.end_date IS NULL OR l.service_date <= r.end_date)
        WHERE l.is_tcm
        QUALIFY row_number() OVER (PARTITION BY l.pos ORDER BY r.start_date DESC) = 1
        """,
    )
    # 6. whole-line edits, then units: minutes (TCM-01) and the authorization remainder (MN-04).
    whole = _whole_line_edits(p)
    _timed(
        con,
        timings,
        "units",
        f"""
        CREATE OR REPLACE TEMP TABLE units_in AS
        WITH w AS ({_facts_sql("")}),
        m AS (
          SELECT w.*,
            {_any(whole)} AS whole_tripped,
            CASE WHEN w.is_tcm THEN coalesce(w.face_to_face_minutes,
                   w.elapsed_minutes - coalesce(w.travel_minutes, 0)) END AS tcm_minutes
          FROM w
        ),
        e AS (SELECT *, CASE WHEN whole_tripped THEN 0 ELSE billed_units END AS eligible_units FROM m),
        s AS (
          SELECT *,
            CASE WHEN NOT is_tcm THEN eligible_units
                 WHEN tcm_minutes IS NULL OR tcm_minutes <= 0 THEN 0
                 ELSE least(eligible_units, (tcm_minutes // {um}) + CASE WHEN tcm_minutes % {um} >= {extra}
                                                                  THEN 1 ELSE 0 END)
            END AS supported_units
          FROM e
        ),
        r AS (
          SELECT pos, remaining_before - coalesce(sum(supported_units) OVER (
                PARTITION BY authorization_id ORDER BY line_order, pos
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS auth_left
          FROM s WHERE match_rank = 0
        )
        SELECT s.*, r.auth_left, CASE WHEN s.match_rank = 0 THEN greatest(0, least(s.supported_units, r.auth_left))
                       ELSE s.supported_units END AS auth_units
        FROM s LEFT JOIN r ON r.pos = s.pos
        """,
    )
    # 7. the T1017 daily and monthly caps (TCM-02): running sums in claim order after the history
    # (the member's T1017 units paid before the batch, totalled by day and by month and level first).
    _timed(
        con,
        timings,
        "units",
        f"""
        CREATE OR REPLACE TEMP TABLE hist_day AS
        SELECT member_id, service_date, sum(paid_units) AS units FROM ref_history
        WHERE hcpcs_code = {tcm_code} GROUP BY ALL
        """,
        f"""
        CREATE OR REPLACE TEMP TABLE hist_month AS
        SELECT member_id, date_trunc('month', service_date) AS month, coalesce(level_modifier, '') AS lvl,
               sum(paid_units) AS units
        FROM ref_history WHERE hcpcs_code = {tcm_code} GROUP BY ALL
        """,
        """
        CREATE OR REPLACE TEMP TABLE tcm_units AS
        SELECT pos, line_order, member_id, service_date, level_modifier, variant, daily_limit, monthly_limit,
               auth_units
        FROM units_in WHERE is_tcm
        """,
    )
    _timed(
        con,
        timings,
        "caps",
        """
        CREATE OR REPLACE TEMP TABLE caps AS
        WITH t AS (SELECT * FROM tcm_units),
        d AS (
          SELECT t.*,
            coalesce(hd.units, 0) + coalesce(sum(t.auth_units) OVER (
              PARTITION BY t.member_id, t.service_date ORDER BY t.line_order
              ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS day_used
          FROM t LEFT JOIN hist_day hd ON hd.member_id = t.member_id AND hd.service_date = t.service_date
        ),
        dc AS (
          SELECT *, CASE WHEN daily_limit IS NOT NULL
                         THEN greatest(0, least(auth_units, daily_limit - day_used)) ELSE auth_units END AS day_units
          FROM d
        ),
        mo AS (
          SELECT dc.*,
            coalesce(hm.units, 0) + coalesce(sum(dc.day_units) OVER (
              PARTITION BY dc.member_id, date_trunc('month', dc.service_date), dc.variant
              ORDER BY dc.line_order ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS month_used
          FROM dc LEFT JOIN hist_month hm
            ON hm.member_id = dc.member_id AND hm.month = date_trunc('month', dc.service_date)
           AND hm.lvl = coalesce(dc.level_modifier, '')
        )
        SELECT pos, day_used, day_units, month_used,
          CASE WHEN monthly_limit IS NOT NULL
               THEN greatest(0, least(day_units, monthly_limit - month_used)) ELSE day_units END AS paid_units
        FROM mo
        """,
    )
    # 8. the decisions of these lines: IOP weeks (IOP-04 flag) from the paid per diem days; edit
    # records (with their sentences) only where something tripped.
    units = _unit_edits(p)
    decided_at = time.perf_counter()
    decided = con.sql(
        f"""
        WITH x AS (
          SELECT u.*, c.day_used, coalesce(c.day_units, u.auth_units) AS day_units, c.month_used,
            coalesce(c.paid_units, u.auth_units) AS paid
          FROM units_in u LEFT JOIN caps c ON c.pos = u.pos
        ),
        week_days AS (
          SELECT member_id, date_trunc('week', service_date) AS week, count(DISTINCT service_date) AS days
          FROM (
            SELECT member_id, service_date FROM x WHERE is_per_diem AND paid > 0
            UNION ALL
            SELECT member_id, service_date FROM ref_history
            WHERE hcpcs_code IN {_sql_tuple(per_diem_proc)} AND paid_units > 0
          ) GROUP BY ALL
        ),
        g AS (
          SELECT w.*, wd.days AS week_days,
            CASE WHEN whole_tripped OR {_any(units)} THEN
              list_concat({_edit_list(whole)}, {_edit_list(units)}) END AS tripped
          FROM x AS w
          LEFT JOIN week_days wd
            ON w.is_per_diem AND wd.member_id = w.member_id AND wd.week = date_trunc('week', w.service_date)
        ),
        h AS (
          SELECT pos, billed_units, paid, allowed_amount, tripped, is_per_diem, week_days, service_date,
            authorization_id
          FROM g
          UNION ALL
          SELECT w.pos, w.billed_units, 0, w.allowed_amount, [{whole[0][1]}], false, NULL, w.service_date, NULL
          FROM (
            SELECT u.pos, u.member_id, u.claim_line_start_date AS service_date,
              u.service_unit_quantity::DOUBLE AS billed_units,
              coalesce(u.allowed_amount, u.charge_amount)::DOUBLE AS allowed_amount, m.birth_date
            FROM uncovered_in u
            LEFT JOIN (SELECT member_id, min(birth_date) AS birth_date FROM ref_members GROUP BY member_id) m
              ON m.member_id = u.member_id
          ) w
        )
        SELECT pos, billed_units, paid::DOUBLE AS paid_units, (billed_units - paid)::DOUBLE AS denied_units,
          CASE WHEN billed_units > 0 THEN round(allowed_amount * paid / billed_units, 2) ELSE 0 END
            AS paid_amount,
          CASE WHEN billed_units = 0 AND tripped IS NULL THEN 'paid'
               WHEN paid <= 0 THEN 'denied' WHEN paid < billed_units THEN 'partial' ELSE 'paid' END
            AS status,
          tripped[1].carc AS carc, tripped[1].rarc AS rarc, tripped[1].rule_id AS rule_id,
          tripped[1].edit AS edit, tripped[1].sentence AS reason,
          coalesce(tripped, []::{EDIT_TYPE}[]) AS edits,
          CASE WHEN is_per_diem AND paid > 0 AND week_days < {p.min_days_per_week}
            THEN [{{'edit': {_sql_text(Edit.IOP_WEEK_DAYS.value)}, 'rule_id': 'IOP-04',
                    'sentence': 'IOP-04: the week of ' || strftime(date_trunc('week', service_date), '%Y-%m-%d')
                      || ' had ' || week_days || ' IOP day(s); at least {p.min_days_per_week} are expected'}}]
            ELSE []
          END::{FLAG_TYPE}[] AS flags,
          authorization_id
        FROM h
        ORDER BY pos
        """
    ).fetch_arrow_table()
    timings["decisions"] = time.perf_counter() - decided_at
    merge_at = time.perf_counter()
    # 9. every line: the plain decision (paid as billed) by a projection that keeps the batch order,
    # then the decided lines written over it by position.
    con.execute("SET preserve_insertion_order = true")
    plain = con.sql(
        """
        SELECT pos, coalesce(claim_line_end_date, claim_line_start_date) AS service_end_date,
          service_unit_quantity::DOUBLE AS billed_units,
          coalesce(allowed_amount, charge_amount)::DOUBLE AS allowed_amount,
          CASE WHEN service_unit_quantity > 0 THEN round(coalesce(allowed_amount, charge_amount)::DOUBLE
            * service_unit_quantity::DOUBLE / service_unit_quantity::DOUBLE, 2) ELSE 0 END AS paid_amount,
          CASE WHEN service_unit_quantity < 0 THEN 'denied' ELSE 'paid' END AS status
        FROM claims_in
        """
    ).fetch_arrow_table()
    con.execute("SET preserve_insertion_order = false")
    if not np.array_equal(plain.column("pos").to_numpy(), np.arange(n)):
        plain = plain.take(pc.sort_indices(plain.column("pos")))
    positions = decided.column("pos").to_numpy()
    mask = np.zeros(n, dtype=bool)
    mask[positions] = True
    mask_array = pa.array(mask)
    base: dict[str, pa.Array] = {
        name: plain.column(name).combine_chunks() for name in ("billed_units", "paid_amount", "status")
    }
    base["paid_units"] = base["billed_units"]
    base["denied_units"] = pa.array(np.zeros(n))
    computed: dict[str, pa.Array | pa.ChunkedArray] = {
        "service_end_date": plain.column("service_end_date"),
        "allowed_amount": plain.column("allowed_amount"),
    }
    for name in ("billed_units", "paid_units", "denied_units", "paid_amount", "status", "carc", "rarc",
                 "rule_id", "edit", "reason", "edits", "flags", "authorization_id"):  # fmt: skip
        values = decided.column(name).combine_chunks()
        if pa.types.is_list(values.type):
            computed[name] = _scatter_lists(n, positions, values)
        else:
            start = base.get(name, pa.nulls(n, values.type))
            computed[name] = pc.replace_with_mask(start, mask_array, values) if len(positions) else start
    passthrough = {"service_date": "claim_line_start_date"}
    result = pa.table(
        {
            name: computed[name] if name in computed else batch.column(passthrough.get(name, name))
            for name in DECISION_COLUMNS
        }
    )
    timings["merge"] = time.perf_counter() - merge_at
    timings["total"] = time.perf_counter() - started
    return result
