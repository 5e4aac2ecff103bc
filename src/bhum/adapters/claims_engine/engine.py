# ruff: noqa: E501  (SQL text reads better unwrapped)
"""The set-based claim check engine: one DuckDB query pipeline over Arrow tables, no loop per line.

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
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pyarrow as pa

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


class DuckDbClaimsEngine:
    """Implements ``bhum.services.claims.ClaimsEngine``. ``threads`` caps DuckDB's worker threads."""

    def __init__(self, *, threads: int | None = None, memory_limit: str | None = None) -> None:
        self.threads = threads
        self.memory_limit = memory_limit

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
        try:
            return check_with(con, batch, reference, parameters)
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


def _codes_sql(p: ClaimCheckParameters, edit: Edit) -> tuple[str, str]:
    codes = p.codes[edit]
    carc = _sql_text(codes.carc.code)
    rarc = _sql_text(codes.rarc.code) if codes.rarc else "NULL::VARCHAR"
    return carc, rarc


def _edit_struct(p: ClaimCheckParameters, edit: Edit, condition: str, denied: str, sentence: str) -> str:
    carc, rarc = _codes_sql(p, edit)
    return (
        f"CASE WHEN {condition} THEN {{'edit': {_sql_text(edit.value)}, "
        f"'rule_id': {_sql_text(EDIT_RULE_IDS[edit])}, 'carc': {carc}, 'rarc': {rarc}, "
        f"'denied_units': ({denied})::DOUBLE, 'sentence': {sentence}}} END"
    )


def check_with(
    con: duckdb.DuckDBPyConnection, batch: pa.Table, reference: ReferenceTables, p: ClaimCheckParameters
) -> pa.Table:
    _register(con, reference, batch)
    preauth_proc, preauth_rev = _claim_codes(p.preauth_services)
    testing_proc, _ = _claim_codes(p.testing_services)
    per_diem_proc, per_diem_rev = _claim_codes(p.per_diem_services)
    bundled_proc, _ = _claim_codes(p.bundled_services)
    level_modifiers = sorted(
        p.cm1_level_modifiers
        | p.cm2_level_modifiers
        | {v.level_modifier for v in p.variants if v.level_modifier}
    )
    active = _sql_tuple(ACTIVE_AUTHORIZATION_STATUSES)
    columns = set(batch.schema.names)
    basis = "service_unit_basis" if "service_unit_basis" in columns else "NULL::VARCHAR"
    um = p.unit_minutes
    extra = (um + 1) // 2 if p.rounding is Rounding.EIGHT_MINUTE else um  # remainder that adds a unit
    adult_minutes = round(p.adult_min_consecutive_hours * 60)
    adolescent_minutes = round(p.adolescent_min_consecutive_hours * 60)

    # 1. lines with everything the edits look at, joined once.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE lines AS
        WITH base AS (
          SELECT
            line_order, source, source_line, claim_id, claim_line_number, member_id, billing_npi,
            rendering_npi, rendering_staff_id, claim_line_start_date AS service_date,
            coalesce(claim_line_end_date, claim_line_start_date) AS service_end_date,
            hcpcs_code, hcpcs_modifier_1, hcpcs_modifier_2, hcpcs_modifier_3, hcpcs_modifier_4,
            hcpcs_modifier_5, revenue_center_code, activity_code, service_start_time, service_stop_time,
            face_to_face_minutes, travel_minutes, charge_amount::DOUBLE AS charge_amount,
            coalesce(allowed_amount, charge_amount)::DOUBLE AS allowed_amount,
            service_unit_quantity::DOUBLE AS quantity, {basis} AS unit_basis,
            list_filter([hcpcs_modifier_1, hcpcs_modifier_2, hcpcs_modifier_3, hcpcs_modifier_4,
                         hcpcs_modifier_5], lambda m: m IS NOT NULL) AS modifiers
          FROM claims_in
        ),
        timed AS (
          SELECT *,
            hcpcs_code = {_sql_text(p.tcm_service.code)} AS is_tcm,
            (hcpcs_code IN {_sql_tuple(per_diem_proc)}
              OR revenue_center_code IN {_sql_tuple(per_diem_rev)}) AS is_per_diem,
            TRY_CAST(split_part(service_start_time, ':', 1) AS INTEGER) * 60
              + TRY_CAST(split_part(service_start_time, ':', 2) AS INTEGER) AS start_minute,
            TRY_CAST(split_part(service_stop_time, ':', 1) AS INTEGER) * 60
              + TRY_CAST(split_part(service_stop_time, ':', 2) AS INTEGER) AS stop_minute
          FROM base
        )
        SELECT t.*,
          CASE WHEN t.is_tcm AND t.unit_basis = 'MJ' THEN floor(t.quantity / {um}) ELSE t.quantity END
            AS billed_units,
          CASE WHEN t.stop_minute > t.start_minute THEN t.stop_minute - t.start_minute END AS elapsed_minutes,
          m.birth_date,
          CASE WHEN m.birth_date IS NULL THEN NULL ELSE
            year(t.service_date) - year(m.birth_date)
              - CASE WHEN month(t.service_date) * 100 + day(t.service_date)
                          < month(m.birth_date) * 100 + day(m.birth_date) THEN 1 ELSE 0 END
          END AS age,
          list_filter(t.modifiers, lambda x: x IN {_sql_tuple(level_modifiers)})[1] AS level_modifier,
          len(list_filter(t.modifiers, lambda x: x IN {_sql_tuple(p.program_modifiers)})) > 0
            AS has_program_modifier
        FROM timed t
        LEFT JOIN ref_members m USING (member_id)
        """
    )
    # Coverage, plan, residence, contract, staff: each one row per line at most.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE facts AS
        SELECT l.line_order,
          cov.plan_id, coalesce(cov.bh_benefit, false) AS covered,
          res.setting AS residence_setting,
          ctr.contract_type,
          st.credentials AS staff_credentials,
          v.variant, v.variant_rule, v.min_age, v.max_age, v.daily_limit, v.monthly_limit, v.contract_types
        FROM lines l
        LEFT JOIN (
          SELECT l2.line_order, c.plan_id, c.bh_benefit,
                 row_number() OVER (PARTITION BY l2.line_order ORDER BY c.bh_benefit DESC, c.start_date DESC) AS rn
          FROM lines l2 JOIN ref_coverage c
            ON c.member_id = l2.member_id AND c.start_date <= l2.service_date
           AND (c.end_date IS NULL OR l2.service_date <= c.end_date)
        ) cov ON cov.line_order = l.line_order AND cov.rn = 1
        LEFT JOIN (
          SELECT l2.line_order, r.setting,
                 row_number() OVER (PARTITION BY l2.line_order ORDER BY r.start_date DESC) AS rn
          FROM lines l2 JOIN ref_residence r
            ON r.member_id = l2.member_id AND r.start_date <= l2.service_date
           AND (r.end_date IS NULL OR l2.service_date <= r.end_date)
          WHERE l2.is_tcm
        ) res ON res.line_order = l.line_order AND res.rn = 1
        LEFT JOIN (SELECT npi, any_value(contract_type) AS contract_type FROM ref_contracts GROUP BY npi) ctr
          ON ctr.npi = l.billing_npi
        LEFT JOIN (SELECT staff_id, any_value(credentials) AS credentials FROM ref_staff GROUP BY staff_id) st
          ON st.staff_id = l.rendering_staff_id
        LEFT JOIN ({_variants_sql(p)}) v
          ON l.is_tcm AND v.level_modifier IS NOT DISTINCT FROM l.level_modifier
        """
    )
    # 2. authorizations: the best candidate per line that needs one.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE needs_auth AS
        SELECT l.line_order, l.member_id, l.service_date, l.hcpcs_code, l.revenue_center_code,
               l.billing_npi, l.rendering_npi
        FROM lines l JOIN facts f USING (line_order)
        WHERE l.hcpcs_code IN {_sql_tuple(preauth_proc)}
           OR l.revenue_center_code IN {_sql_tuple(preauth_rev)}
           OR (l.hcpcs_code IN {_sql_tuple(testing_proc)} AND EXISTS (
                SELECT 1 FROM ref_notices n
                WHERE n.plan_id = f.plan_id AND n.effective_from <= l.service_date
                  AND (n.effective_to IS NULL OR l.service_date <= n.effective_to)
                  AND (n.provider_npi IS NULL OR n.provider_npi IN (l.billing_npi, l.rendering_npi))
                  AND (n.member_id IS NULL OR n.member_id = l.member_id)))
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE auth_match AS
        WITH cand AS (
          SELECT n.line_order, n.service_date, a.authorization_id, a.status, a.start_date, a.end_date, a.status_since,
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
        )
        SELECT line_order, authorization_id, match_rank, start_date, end_date, status, status_since,
               provider_npi AS authorized_npi,
               greatest(units_authorized - units_used, 0) AS remaining_before
        FROM ranked
        WHERE match_rank < 9
        QUALIFY row_number() OVER (PARTITION BY line_order ORDER BY match_rank, start_date, authorization_id) = 1
        """
    )
    # IOP stay days: a per diem line in the batch or history, or an active per diem authorization.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE iop_days AS
        SELECT DISTINCT member_id, service_date FROM lines WHERE is_per_diem
        UNION
        SELECT DISTINCT member_id, service_date FROM ref_history
        WHERE hcpcs_code IN {_sql_tuple(per_diem_proc)} AND paid_units > 0
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE iop_auth_spans AS
        SELECT member_id, start_date, end_date FROM ref_auth
        WHERE status IN {active}
          AND ((code_system IN ({_sql_text(HCPCS)}, {_sql_text(CPT)})
                AND code IN {_sql_tuple(per_diem_proc)})
               OR (code_system = {_sql_text(REVENUE)} AND code IN {_sql_tuple(per_diem_rev)}))
        """
    )

    # 3. whole-line edits.
    excluded = _sql_tuple(p.excluded_settings)
    e = Edit
    whole_line_edits = [
        _edit_struct(
            p,
            e.MEMBER_COVERED,
            "NOT w.covered",
            "w.billed_units",
            "'OPM-08: member ' || w.member_id || CASE WHEN w.birth_date IS NULL THEN ' is not on file' "
            "ELSE ' had no coverage with behavioral-health benefits on ' || strftime(w.service_date, '%Y-%m-%d') END",
        ),
        _edit_struct(
            p,
            e.EXACT_DUPLICATE,
            "w.duplicate_of IS NOT NULL",
            "w.billed_units",
            "'MN-04: exact duplicate of ' || w.duplicate_of",
        ),
        _edit_struct(
            p,
            e.AUTHORIZATION_ABSENT,
            "w.needs_auth AND w.match_rank IS NULL",
            "w.billed_units",
            "'OPM-01: ' || coalesce(w.hcpcs_code, w.revenue_center_code) || ' needs an authorization and "
            "none is on file for the member'",
        ),
        _edit_struct(
            p,
            e.AUTHORIZATION_DISCONTINUED,
            "w.match_rank = 1",
            "w.billed_units",
            "'OPM-07: authorization ' || w.authorization_id || ' was discontinued on ' "
            "|| strftime(w.auth_status_since, '%Y-%m-%d') || ' (clinical update not returned)'",
        ),
        _edit_struct(
            p,
            e.AUTHORIZATION_DENIED,
            "w.match_rank = 2",
            "w.billed_units",
            "'OPM-01: authorization ' || w.authorization_id || ' was denied'",
        ),
        _edit_struct(
            p,
            e.AUTHORIZATION_NOT_APPLICABLE,
            "w.match_rank BETWEEN 3 AND 5",
            "w.billed_units",
            "'MN-04: authorization ' || w.authorization_id || CASE w.match_rank "
            "WHEN 3 THEN ' is for provider ' || w.authorized_npi || ', not ' || w.billing_npi "
            "WHEN 4 THEN ' spans ' || strftime(w.auth_start, '%Y-%m-%d') || ' to ' "
            "|| coalesce(strftime(w.auth_end, '%Y-%m-%d'), 'open') || ', not ' || strftime(w.service_date, '%Y-%m-%d') "
            "WHEN 5 THEN ' does not cover service ' || coalesce(w.hcpcs_code, w.revenue_center_code) "
            "ELSE ' is ' || w.auth_status || ' and does not apply' END",
        ),
        _edit_struct(
            p,
            e.TCM_PROGRAM_MODIFIER,
            "w.is_tcm AND NOT w.has_program_modifier",
            "w.billed_units",
            f"'TCM-02: T1017 needs a program modifier ({', '.join(sorted(p.program_modifiers))}); modifiers were '"
            " || coalesce(nullif(array_to_string(w.modifiers, ','), ''), 'none')",
        ),
        _edit_struct(
            p,
            e.TCM_AGE,
            "w.is_tcm AND w.variant IS NOT NULL AND w.age IS NOT NULL AND (w.age < w.min_age OR w.age > w.max_age)",
            "w.billed_units",
            "'TCM-02: variant ' || w.variant || ' serves ages ' || w.min_age || '-' || w.max_age "
            "|| '; the member was ' || w.age || ' on ' || strftime(w.service_date, '%Y-%m-%d')",
        ),
        _edit_struct(
            p,
            e.TCM_CONTRACT_TYPE,
            "w.is_tcm AND w.variant IS NOT NULL AND (w.contract_type IS NULL "
            "OR NOT list_contains(w.contract_types, w.contract_type))",
            "w.billed_units",
            "'TCM-02: variant ' || w.variant || ' is billed under contract type(s) ' "
            "|| array_to_string(w.contract_types, '/') || '; billing NPI ' || coalesce(w.billing_npi, '?') "
            "|| ' has ' || coalesce(w.contract_type, 'no contract type on file')",
        ),
        _edit_struct(
            p,
            e.TCM_STAFF_LEVEL,
            f"w.is_tcm AND w.level_modifier IS NOT NULL AND NOT ("
            f"(w.level_modifier IN {_sql_tuple(p.cm1_level_modifiers)} AND "
            f"len(list_intersect(w.staff_creds, {_sql_list(p.cm1_credentials)})) > 0) OR "
            f"(w.level_modifier IN {_sql_tuple(p.cm2_level_modifiers)} AND "
            f"len(list_intersect(w.staff_creds, {_sql_list(p.cm2_credentials)})) > 0))",
            "w.billed_units",
            "'TCM-02: level modifier ' || w.level_modifier || ' needs a ' || CASE WHEN w.level_modifier IN "
            f"{_sql_tuple(p.cm1_level_modifiers)} THEN 'CM I' ELSE 'CM II' END "
            "|| ' case manager; rendering staff ' || coalesce(w.rendering_staff_id, '(none)') || ' hold ' "
            "|| coalesce(nullif(w.staff_credentials, ''), 'no credentials on file')",
        ),
        _edit_struct(
            p,
            e.TCM_RESIDENCE,
            f"w.is_tcm AND w.residence_setting IN {excluded}",
            "w.billed_units",
            "'TCM-04: the member resided in ' || w.residence_setting || ' on ' "
            "|| strftime(w.service_date, '%Y-%m-%d')",
        ),
        _edit_struct(
            p,
            e.TCM_ACTIVITY,
            f"w.is_tcm AND w.activity_code IN {_sql_tuple(p.not_reimbursable_activities)}",
            "w.billed_units",
            "'TCM-04: activity ' || w.activity_code || ' is not reimbursable case management'",
        ),
        _edit_struct(
            p,
            e.IOP_AGE,
            f"w.is_per_diem AND w.age IS NOT NULL AND w.age < {p.adolescent_min_age}",
            "w.billed_units",
            f"'IOP-03: IOP serves adolescents {p.adolescent_min_age}-{p.adolescent_max_age} and adults "
            f"{p.adult_min_age}+; the member was ' || w.age",
        ),
        _edit_struct(
            p,
            e.IOP_HOURS,
            f"w.is_per_diem AND w.age IS NOT NULL AND w.age >= {p.adolescent_min_age} AND "
            f"(w.iop_minutes IS NULL OR w.iop_minutes < CASE WHEN w.age >= {p.adult_min_age} "
            f"THEN {adult_minutes} ELSE {adolescent_minutes} END)",
            "w.billed_units",
            "'IOP-04: ' || CASE WHEN w.age >= "
            + str(p.adult_min_age)
            + " THEN 'an adult' ELSE 'an adolescent' "
            "END || ' IOP day needs ' || CASE WHEN w.age >= "
            + str(p.adult_min_age)
            + f" THEN '{p.adult_min_consecutive_hours:g}' ELSE '{p.adolescent_min_consecutive_hours:g}' END "
            "|| ' consecutive hours; this day had ' || CASE WHEN w.iop_minutes IS NULL THEN 'no documented time' "
            "ELSE (w.iop_minutes // 60) || 'h' || lpad((w.iop_minutes % 60)::VARCHAR, 2, '0') END",
        ),
        _edit_struct(
            p,
            e.IOP_BUNDLED,
            "w.in_iop_stay",
            "w.billed_units",
            "'IOP-02: ' || w.hcpcs_code || ' on ' || strftime(w.service_date, '%Y-%m-%d') "
            "|| ' is inside an IOP stay and included in the per diem'",
        ),
    ]
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE whole AS
        WITH w AS (
          SELECT l.*, f.* EXCLUDE (line_order),
            string_split(coalesce(f.staff_credentials, ''), ';') AS staff_creds,
            coalesce(l.face_to_face_minutes, l.elapsed_minutes) AS iop_minutes,
            n.line_order IS NOT NULL AS needs_auth,
            am.match_rank, am.authorization_id, am.start_date AS auth_start, am.end_date AS auth_end,
            am.status AS auth_status, am.status_since AS auth_status_since, am.authorized_npi,
            am.remaining_before,
            CASE WHEN row_number() OVER dup > 1 THEN
              first_value(l.claim_id) OVER dup || ' line ' || first_value(l.claim_line_number) OVER dup
            END AS duplicate_of,
            (l.hcpcs_code IN {_sql_tuple(bundled_proc)} AND (
               EXISTS (SELECT 1 FROM iop_days d WHERE d.member_id = l.member_id AND d.service_date = l.service_date)
               OR EXISTS (SELECT 1 FROM iop_auth_spans s WHERE s.member_id = l.member_id
                          AND s.start_date <= l.service_date
                          AND (s.end_date IS NULL OR l.service_date <= s.end_date)))) AS in_iop_stay
          FROM lines l
          JOIN facts f USING (line_order)
          LEFT JOIN needs_auth n USING (line_order)
          LEFT JOIN auth_match am USING (line_order)
          WINDOW dup AS (
            PARTITION BY l.member_id, l.service_date, l.service_end_date, l.hcpcs_code, l.revenue_center_code,
              l.modifiers, l.quantity, l.billing_npi, l.rendering_npi, l.charge_amount, l.service_start_time
            ORDER BY l.line_order)
        )
        SELECT w.*,
          list_filter([{", ".join(whole_line_edits)}], lambda x: x IS NOT NULL) AS whole_edits
        FROM w
        """
    )
    # 4. units: minutes (TCM-01), authorization remainder (MN-04), daily and monthly caps (TCM-02).
    travel_note = (
        "CASE WHEN face_to_face_minutes IS NULL AND coalesce(travel_minutes, 0) > "
        f"{p.billable_travel_minutes} THEN ' after ' || travel_minutes || ' travel minutes, which are not "
        "billable' ELSE '' END"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE units AS
        WITH m AS (
          SELECT *,
            CASE WHEN len(whole_edits) > 0 THEN 0 ELSE billed_units END AS eligible_units,
            CASE WHEN is_tcm THEN coalesce(face_to_face_minutes,
                   elapsed_minutes - coalesce(travel_minutes, 0)) END AS tcm_minutes
          FROM whole
        ),
        s AS (
          SELECT *,
            CASE WHEN NOT is_tcm THEN eligible_units
                 WHEN tcm_minutes IS NULL OR tcm_minutes <= 0 THEN 0
                 ELSE least(eligible_units, (tcm_minutes // {um}) + CASE WHEN tcm_minutes % {um} >= {extra}
                                                                  THEN 1 ELSE 0 END)
            END AS supported_units
          FROM m
        ),
        a AS (
          SELECT *,
            CASE WHEN match_rank = 0 THEN greatest(0, least(supported_units, remaining_before - coalesce(
              sum(supported_units) FILTER (WHERE match_rank = 0) OVER (
                PARTITION BY authorization_id ORDER BY line_order
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)))
              ELSE supported_units END AS auth_units,
            CASE WHEN match_rank = 0 THEN remaining_before - coalesce(
              sum(supported_units) FILTER (WHERE match_rank = 0) OVER (
                PARTITION BY authorization_id ORDER BY line_order
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) END AS auth_left
          FROM s
        ),
        hist_day AS (
          SELECT member_id, service_date, sum(paid_units) AS units FROM ref_history
          WHERE hcpcs_code = {_sql_text(p.tcm_service.code)} GROUP BY ALL
        ),
        hist_month AS (
          SELECT member_id, date_trunc('month', service_date) AS month, coalesce(level_modifier, '') AS lvl,
                 sum(paid_units) AS units
          FROM ref_history WHERE hcpcs_code = {_sql_text(p.tcm_service.code)} GROUP BY ALL
        ),
        d AS (
          SELECT a.*, coalesce(hd.units, 0) AS day_before_batch,
            coalesce(hd.units, 0) + CASE WHEN a.is_tcm THEN coalesce(sum(a.auth_units) OVER (
              PARTITION BY a.is_tcm, a.member_id, a.service_date ORDER BY a.line_order
              ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) ELSE 0 END AS day_used
          FROM a LEFT JOIN hist_day hd
            ON a.is_tcm AND hd.member_id = a.member_id AND hd.service_date = a.service_date
        ),
        dc AS (
          SELECT *,
            CASE WHEN is_tcm AND daily_limit IS NOT NULL
                 THEN greatest(0, least(auth_units, daily_limit - day_used)) ELSE auth_units END AS day_units
          FROM d
        ),
        mo AS (
          SELECT dc.*,
            coalesce(hm.units, 0) + CASE WHEN dc.is_tcm THEN coalesce(sum(dc.day_units) OVER (
              PARTITION BY dc.is_tcm, dc.member_id, date_trunc('month', dc.service_date), dc.variant
              ORDER BY dc.line_order ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) ELSE 0 END
              AS month_used
          FROM dc LEFT JOIN hist_month hm
            ON dc.is_tcm AND hm.member_id = dc.member_id
           AND hm.month = date_trunc('month', dc.service_date) AND hm.lvl = coalesce(dc.level_modifier, '')
        )
        SELECT *,
          CASE WHEN is_tcm AND monthly_limit IS NOT NULL
               THEN greatest(0, least(day_units, monthly_limit - month_used)) ELSE day_units END AS paid_units,
          list_filter([
            {
            _edit_struct(
                p,
                e.TCM_MINUTES,
                "is_tcm AND supported_units < eligible_units",
                "eligible_units - supported_units",
                "'TCM-01: ' || coalesce(tcm_minutes::VARCHAR, 'no documented') || ' face-to-face minutes"
                f"' || {travel_note} || ' support ' || u(supported_units) || ' unit(s) of {um} minutes "
                f"({p.rounding.value}); ' || u(eligible_units) || ' billed'",
            )
        },
            {
            _edit_struct(
                p,
                e.AUTHORIZATION_EXCEEDED,
                "match_rank = 0 AND auth_units < supported_units",
                "supported_units - auth_units",
                "'MN-04: authorization ' || authorization_id || ' had ' || greatest(auth_left, 0) "
                "|| ' unit(s) left; ' || u(auth_units) || ' of ' || u(supported_units) || ' paid'",
            )
        },
            {
            _edit_struct(
                p,
                e.TCM_DAILY_CAP,
                "is_tcm AND day_units < auth_units",
                "auth_units - day_units",
                "'TCM-02: ' || u(day_used) || ' T1017 unit(s) already paid on ' "
                "|| strftime(service_date, '%Y-%m-%d') || ' against the daily limit of ' || daily_limit "
                "|| '; ' || u(day_units) || ' of ' || u(auth_units) || ' paid'",
            )
        },
            {
            _edit_struct(
                p,
                e.TCM_MONTHLY_CAP,
                "is_tcm AND monthly_limit IS NOT NULL AND monthly_limit - month_used < day_units",
                "day_units - greatest(0, least(day_units, monthly_limit - month_used))",
                "'TCM-02: ' || u(month_used) || ' unit(s) of variant ' || variant || ' already paid in ' "
                "|| strftime(service_date, '%Y-%m') || ' against the monthly limit of ' || monthly_limit "
                "|| '; ' || u(greatest(0, least(day_units, monthly_limit - month_used))) || ' of ' "
                "|| u(day_units) || ' paid'",
            )
        }
          ], lambda x: x IS NOT NULL) AS unit_edits
        FROM mo
        """
    )
    # 5. flags: IOP weeks with fewer than the minimum days (IOP-04); paid all the same.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE week_days AS
        SELECT member_id, date_trunc('week', service_date) AS week, count(DISTINCT service_date) AS days
        FROM (
          SELECT member_id, service_date FROM units WHERE is_per_diem AND paid_units > 0
          UNION ALL
          SELECT member_id, service_date FROM ref_history
          WHERE hcpcs_code IN {_sql_tuple(per_diem_proc)} AND paid_units > 0
        ) GROUP BY ALL
        """
    )
    result = con.sql(
        f"""
        WITH f AS (
          SELECT u.*, wd.days AS week_days,
            list_concat(u.whole_edits, u.unit_edits) AS all_edits
          FROM units u
          LEFT JOIN week_days wd
            ON u.is_per_diem AND wd.member_id = u.member_id AND wd.week = date_trunc('week', u.service_date)
        )
        SELECT line_order, source, source_line, claim_id, claim_line_number, member_id, billing_npi,
          rendering_npi, service_date, service_end_date, hcpcs_code, hcpcs_modifier_1, hcpcs_modifier_2,
          hcpcs_modifier_3, hcpcs_modifier_4, revenue_center_code, billed_units,
          paid_units::DOUBLE AS paid_units, (billed_units - paid_units)::DOUBLE AS denied_units,
          charge_amount, allowed_amount,
          CASE WHEN billed_units > 0 THEN round(allowed_amount * paid_units / billed_units, 2) ELSE 0 END
            AS paid_amount,
          CASE WHEN billed_units = 0 AND len(all_edits) = 0 THEN 'paid'
               WHEN paid_units <= 0 THEN 'denied' WHEN paid_units < billed_units THEN 'partial' ELSE 'paid' END
            AS status,
          all_edits[1].carc AS carc, all_edits[1].rarc AS rarc, all_edits[1].rule_id AS rule_id,
          all_edits[1].edit AS edit, all_edits[1].sentence AS reason,
          all_edits AS edits,
          CASE WHEN is_per_diem AND paid_units > 0 AND week_days < {p.min_days_per_week}
            THEN [{{'edit': {_sql_text(e.IOP_WEEK_DAYS.value)}, 'rule_id': 'IOP-04',
                    'sentence': 'IOP-04: the week of ' || strftime(date_trunc('week', service_date), '%Y-%m-%d')
                      || ' had ' || week_days || ' IOP day(s); at least {p.min_days_per_week} are expected'}}]
            ELSE []
          END AS flags,
          authorization_id
        FROM f
        ORDER BY line_order
        """
    ).fetch_arrow_table()
    return result
