"""Run the catalog: every rule's Ibis expression, unioned and executed once, then flags with evidence,
scores, sentences and the members ranked for outreach.

Outreach score (docs/analytics.md): a flag scores ``weight x (1 + min(1, gap))`` where weight is the
rule's ``score_weight`` parameter and gap is how far the value is past its threshold relative to the
threshold, ``|value - threshold| / max(|threshold|, 1)``; a member's score is the sum of their flags'
scores; rank 1 is the highest score (ties by member id, so the order is stable).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from bhum.analytics.catalog import Catalog, load_catalog
from bhum.analytics.rules import FLAG_SCHEMA, RULES, RuleContext
from bhum.analytics.source import ClaimsSource
from bhum.domain.errors import InputError

FLAGS_SCHEMA = pa.schema(
    [
        ("member_id", pa.string()),
        ("member_rank", pa.int64()),
        ("member_score", pa.float64()),
        ("rule_id", pa.string()),
        ("implements", pa.string()),  # rule-catalog IDs, ";"-joined (OPM-03;OPM-09)
        ("source", pa.string()),  # the public measure or RULES.md ID the rule follows
        ("title", pa.string()),
        ("as_of", pa.date32()),
        ("measure", pa.string()),
        ("value", pa.float64()),
        ("comparator", pa.string()),
        ("threshold", pa.float64()),
        ("evidence", pa.string()),  # "pdc=0.71 < 0.8"
        ("score", pa.float64()),
        ("index_date", pa.date32()),
        ("claim_ids", pa.list_(pa.string())),
        ("claim_dates", pa.list_(pa.date32())),
        ("sentence", pa.string()),
        ("pack_version", pa.string()),
    ]
)


def catalog_expression(
    source: ClaimsSource,
    catalog: Catalog,
    as_of: date,
    rule_ids: Iterable[str] | None = None,
    *,
    context: RuleContext | None = None,
) -> ir.Table:
    """All the chosen rules as one Ibis expression (FLAG_SCHEMA + rule_id), not yet executed.

    Building it narrows and caches, once, the claims the chosen rules read (RuleContext); pass a
    ``context`` to release those cached tables after running the expression."""
    chosen = list(rule_ids) if rule_ids is not None else list(catalog.rules)
    for rule_id in chosen:
        if rule_id not in RULES:
            raise InputError(
                f"the engine has no implementation of rule {rule_id!r}", source=catalog.path, record=rule_id
            )
        if rule_id not in catalog.rules:
            raise InputError(f"the pack has no rule {rule_id!r}", source=catalog.path, record=rule_id)
    if not chosen:
        raise InputError("no rules to run", source=catalog.path)
    ctx = context if context is not None else RuleContext(source, as_of)
    ctx.plan([catalog[r] for r in chosen])
    parts = [
        RULES[r](ctx, catalog[r]).select(*FLAG_SCHEMA.names).mutate(rule_id=ibis.literal(r, "string"))
        for r in chosen
    ]
    return ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]


def run_catalog(
    source: ClaimsSource,
    pack_params: Catalog | str | os.PathLike[str] | None,
    as_of: date,
    *,
    rule_ids: Iterable[str] | None = None,
) -> pa.Table:
    """Run the catalog as of a date and return the flags (FLAGS_SCHEMA), ranked for outreach."""
    catalog = pack_params if isinstance(pack_params, Catalog) else load_catalog(pack_params)
    ctx = RuleContext(source, as_of)
    try:
        raw = catalog_expression(source, catalog, as_of, rule_ids, context=ctx).to_pyarrow()
    finally:
        ctx.release()
    return finish_flags(raw, catalog, as_of)


# Evidence items are "YYYY-MM-DD|claim_id"; a value and its threshold are shown as whole numbers
# when both are, otherwise with the fewest decimals (2, 3, 4, 6) that tell them apart (_pair).
_FINISH_SQL = """
WITH flags AS (
  SELECT raw.member_id, raw.rule_id, rules.implements, rules.source, rules.title, raw.measure,
         raw.value, raw.comparator, raw.threshold, raw.index_date, rules.fact,
         round(rules.weight * (1 + least(1, abs(raw.value - raw.threshold)
                                            / greatest(abs(raw.threshold), 1))), 6) AS score,
         list_sort(list_distinct(raw.evidence)) AS items
  FROM raw JOIN rules USING (rule_id)
), shown AS (
  SELECT *, CASE
      WHEN value = trunc(value) AND threshold = trunc(threshold)
        THEN [CAST(CAST(value AS BIGINT) AS VARCHAR), CAST(CAST(threshold AS BIGINT) AS VARCHAR)]
      WHEN printf('%.2f', value) <> printf('%.2f', threshold)
        THEN [printf('%.2f', value), printf('%.2f', threshold)]
      WHEN printf('%.3f', value) <> printf('%.3f', threshold)
        THEN [printf('%.3f', value), printf('%.3f', threshold)]
      WHEN printf('%.4f', value) <> printf('%.4f', threshold)
        THEN [printf('%.4f', value), printf('%.4f', threshold)]
      WHEN printf('%.6f', value) <> printf('%.6f', threshold)
        THEN [printf('%.6f', value), printf('%.6f', threshold)]
      ELSE [CAST(value AS VARCHAR), CAST(threshold AS VARCHAR)] END AS pair
  FROM flags
), members AS (
  SELECT member_id, round(sum(score), 6) AS member_score FROM flags GROUP BY member_id
), ranked AS (
  SELECT member_id, member_score,
         row_number() OVER (ORDER BY member_score DESC, member_id) AS member_rank
  FROM members
)
SELECT shown.member_id, ranked.member_rank, ranked.member_score, rule_id, implements, source, title,
       $as_of AS as_of, measure, value, comparator, threshold,
       fact || '=' || pair[1] || ' ' || comparator || ' ' || pair[2] AS evidence,
       score, index_date,
       list_transform(items, lambda x: substr(x, strpos(x, '|') + 1)) AS claim_ids,
       list_transform(items, lambda x: CAST(split_part(x, '|', 1) AS DATE)) AS claim_dates,
       title || ': ' || measure || ' ' || pair[1] || ' '
         || CASE comparator WHEN '<' THEN 'is below' WHEN '<=' THEN 'is at most' WHEN '>' THEN 'is above'
                            WHEN '>=' THEN 'reaches' ELSE comparator END
         || ' the threshold ' || pair[2]
         || ' (' || source || '; as of ' || strftime($as_of, '%Y-%m-%d')
         || coalesce('; latest ' || strftime(index_date, '%Y-%m-%d'), '')
         || '; ' || len(items) || ' claim' || CASE WHEN len(items) = 1 THEN '' ELSE 's' END || ').'
         AS sentence,
       $pack_version AS pack_version
FROM shown JOIN ranked USING (member_id)
ORDER BY member_rank, score DESC, rule_id
"""


def finish_flags(raw: pa.Table, catalog: Catalog, as_of: date) -> pa.Table:
    """Turn the engine's rows into flags: evidence lists, scores, sentences, ranks. One SQL query over
    the flag rows (one per member and rule; never claims), the same whichever engine found them."""
    rules = pa.table(
        {
            "rule_id": [r.id for r in catalog],
            "implements": [";".join(r.implements) for r in catalog],
            "source": [r.source for r in catalog],
            "title": [r.title for r in catalog],
            "fact": [r.fact for r in catalog],
            "weight": pa.array([float(r.values.get("score_weight", 1.0)) for r in catalog], pa.float64()),
        }
    )
    con = duckdb.connect()
    try:
        con.register("raw", raw)
        con.register("rules", rules)
        params = {"as_of": as_of, "pack_version": f"{catalog.id}@{catalog.version}"}
        result = con.sql(_FINISH_SQL, params=params).to_arrow_table()
    finally:
        con.close()
    return result.select(FLAGS_SCHEMA.names).cast(FLAGS_SCHEMA)


def write_report(flags: pa.Table, path: str | os.PathLike[str]) -> Path:
    """Write the flags to Parquet (.parquet) or CSV (.csv; lists ";"-joined)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    suffix = target.suffix.lower()
    if suffix == ".parquet":
        pq.write_table(flags, target)
    elif suffix == ".csv":
        flat = flags
        for name in ("claim_ids", "claim_dates"):
            joined = pa.array(
                [";".join(str(x) for x in items) for items in flags[name].to_pylist()], pa.string()
            )
            flat = flat.set_column(flat.schema.get_field_index(name), name, joined)
        pacsv.write_csv(flat, target)
    else:
        raise InputError("the report must be a .parquet or .csv file", source=str(target), field="path")
    return target
