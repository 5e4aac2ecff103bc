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
from typing import Any

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

_WORDS = {"<": "is below", "<=": "is at most", ">": "is above", ">=": "reaches"}


def catalog_expression(
    source: ClaimsSource, catalog: Catalog, as_of: date, rule_ids: Iterable[str] | None = None
) -> ir.Table:
    """All the chosen rules as one Ibis expression (FLAG_SCHEMA + rule_id), not yet executed."""
    ctx = RuleContext(source, as_of)
    chosen = list(rule_ids) if rule_ids is not None else list(catalog.rules)
    parts: list[ir.Table] = []
    for rule_id in chosen:
        if rule_id not in RULES:
            raise InputError(
                f"the engine has no implementation of rule {rule_id!r}", source=catalog.path, record=rule_id
            )
        flags = RULES[rule_id](ctx, catalog[rule_id])
        parts.append(flags.select(*FLAG_SCHEMA.names).mutate(rule_id=ibis.literal(rule_id, "string")))
    if not parts:
        raise InputError("no rules to run", source=catalog.path)
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
    raw = catalog_expression(source, catalog, as_of, rule_ids).to_pyarrow()
    return finish_flags(raw, catalog, as_of)


def finish_flags(raw: pa.Table, catalog: Catalog, as_of: date) -> pa.Table:
    """Turn the engine's rows into flags: evidence lists, scores, sentences, ranks. This works on the
    flags (one row per member and rule), never on claims."""
    rows: list[dict[str, Any]] = []
    for item in raw.to_pylist():
        rule = catalog[item["rule_id"]]
        items = sorted(set(item["evidence"] or []))
        dates = [date.fromisoformat(e.split("|", 1)[0]) for e in items]
        claims = [e.split("|", 1)[1] for e in items]
        value, threshold, comparator = float(item["value"]), float(item["threshold"]), item["comparator"]
        shown_value, shown_threshold = _pair(value, threshold)
        gap = abs(value - threshold) / max(abs(threshold), 1.0)
        weight = float(rule.values.get("score_weight", 1.0))
        score = round(weight * (1.0 + min(1.0, gap)), 6)
        fact = rule.fact
        sentence = (
            f"{rule.title}: {item['measure']} {shown_value} {_WORDS.get(comparator, comparator)} "
            f"the threshold {shown_threshold} ({rule.source}; as of {as_of.isoformat()}"
            + (f"; latest {item['index_date'].isoformat()}" if item["index_date"] else "")
            + f"; {len(claims)} claim{'s' if len(claims) != 1 else ''})."
        )
        rows.append(
            {
                "member_id": item["member_id"],
                "rule_id": rule.id,
                "implements": ";".join(rule.implements),
                "source": rule.source,
                "title": rule.title,
                "as_of": as_of,
                "measure": item["measure"],
                "value": value,
                "comparator": comparator,
                "threshold": threshold,
                "evidence": f"{fact}={shown_value} {comparator} {shown_threshold}",
                "score": score,
                "index_date": item["index_date"],
                "claim_ids": claims,
                "claim_dates": dates,
                "sentence": sentence,
                "pack_version": f"{catalog.id}@{catalog.version}",
            }
        )
    totals: dict[str, float] = {}
    for row in rows:
        totals[row["member_id"]] = totals.get(row["member_id"], 0.0) + row["score"]
    ranked = sorted(totals, key=lambda m: (-round(totals[m], 6), m))
    rank = {member: i + 1 for i, member in enumerate(ranked)}
    for row in rows:
        row["member_score"] = round(totals[row["member_id"]], 6)
        row["member_rank"] = rank[row["member_id"]]
    rows.sort(key=lambda r: (r["member_rank"], -r["score"], r["rule_id"]))
    return pa.Table.from_pylist(rows, schema=FLAGS_SCHEMA)


def _pair(value: float, threshold: float) -> tuple[str, str]:
    """Value and threshold as a person reads them: whole numbers without decimals, otherwise two
    decimals, more when two decimals would make a flagged value look equal to its threshold."""
    if value.is_integer() and threshold.is_integer():
        return str(int(value)), str(int(threshold))
    for digits in (2, 3, 4, 6):
        shown, limit = f"{value:.{digits}f}", f"{threshold:.{digits}f}"
        if shown != limit:
            return shown, limit
    return repr(value), repr(threshold)


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
