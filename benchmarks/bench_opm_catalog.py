"""Benchmark: the whole opm-analytics catalog over a generated population (issue 4, "Measured").

Prints seconds and peak RSS for the catalog on DuckDB, and for three rules (CI-T1017-DAILY,
CI-RX-PRESCRIBERS, CI-SAA-PDC) the Ibis version against the same rule hand-written as plain DuckDB
SQL and as a straightforward pandas version, as ratios; plus the catalog time at a second, smaller
size to show growth. It asserts nothing about time.

    .venv/bin/python benchmarks/bench_opm_catalog.py                 # 100,000 members
    .venv/bin/python benchmarks/bench_opm_catalog.py --members 1000000
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from bhum.analytics import synthetic
from bhum.analytics.catalog import load_catalog
from bhum.analytics.rules import EPOCH
from bhum.analytics.runner import catalog_expression, run_catalog
from bhum.analytics.source import ClaimsSource

AS_OF = date(2026, 6, 30)
DAY = (AS_OF - EPOCH).days


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


SQL = {
    "CI-T1017-DAILY": f"""
        SELECT member_id, max(units) AS units FROM (
          SELECT member_id, claim_line_start_date, sum(coalesce(service_unit_quantity, 0)) AS units
          FROM bhum_medical_claim
          WHERE hcpcs_code = 'T1017' AND claim_line_start_date <= DATE '{AS_OF}'
            AND claim_line_start_date > DATE '{AS_OF}' - INTERVAL 180 DAY
          GROUP BY 1, 2) WHERE units > 16 GROUP BY 1""",
    "CI-RX-PRESCRIBERS": f"""
        SELECT member_id, count(DISTINCT prescribing_provider_npi) AS n FROM bhum_pharmacy_claim
        WHERE drug_class IN ('antipsychotic','antidepressant','mood_stabilizer','anxiolytic','stimulant')
          AND dispensing_date <= DATE '{AS_OF}' AND dispensing_date > DATE '{AS_OF}' - INTERVAL 180 DAY
        GROUP BY 1 HAVING count(DISTINCT prescribing_provider_npi) >= 4""",
    "CI-SAA-PDC": f"""
        WITH dx AS (SELECT DISTINCT member_id FROM bhum_medical_claim
                    WHERE substr(diagnosis_code_1, 1, 3) IN ('F20','F25')
                      AND claim_line_start_date BETWEEN DATE '{AS_OF}' - INTERVAL 364 DAY AND DATE '{AS_OF}'),
        f AS (SELECT p.member_id, p.claim_id, (dispensing_date - DATE '1970-01-01') AS d, days_supply AS s
              FROM bhum_pharmacy_claim p JOIN dx USING (member_id)
              WHERE drug_class = 'antipsychotic'
                AND dispensing_date BETWEEN DATE '{AS_OF}' - INTERVAL 364 DAY AND DATE '{AS_OF}'),
        c AS (SELECT *, sum(s) OVER w AS run FROM f
              WINDOW w AS (PARTITION BY member_id ORDER BY d, claim_id)),
        e AS (SELECT *, run + max(d - 1 - (run - s))
                 OVER (PARTITION BY member_id ORDER BY d, claim_id) AS e FROM c)
        SELECT member_id, pdc FROM (
          SELECT member_id, count(*) AS n,
                 (sum(s) - greatest(0, max(e) - {DAY}))::DOUBLE / ({DAY} - min(d) + 1) AS pdc
          FROM e GROUP BY 1) WHERE n >= 2 AND pdc < 0.8""",
}


def pandas_rule(rule: str, medical: pd.DataFrame, pharmacy: pd.DataFrame) -> pd.DataFrame:
    """The straightforward pandas version an analyst would write (group-by / apply)."""
    as_of = pd.Timestamp(AS_OF)
    if rule == "CI-T1017-DAILY":
        m = medical[
            (medical.hcpcs_code == "T1017")
            & (medical.claim_line_start_date <= as_of)
            & (medical.claim_line_start_date > as_of - pd.Timedelta(days=180))
        ]
        daily = m.groupby(["member_id", "claim_line_start_date"]).service_unit_quantity.sum().reset_index()
        over = daily[daily.service_unit_quantity > 16]
        return over.groupby("member_id").service_unit_quantity.max().reset_index()
    if rule == "CI-RX-PRESCRIBERS":
        classes = ["antipsychotic", "antidepressant", "mood_stabilizer", "anxiolytic", "stimulant"]
        p = pharmacy[
            pharmacy.drug_class.isin(classes)
            & (pharmacy.dispensing_date <= as_of)
            & (pharmacy.dispensing_date > as_of - pd.Timedelta(days=180))
        ]
        n = p.groupby("member_id").prescribing_provider_npi.nunique()
        return n[n >= 4].reset_index()
    start = as_of - pd.Timedelta(days=364)
    dx = medical[
        medical.diagnosis_code_1.str[:3].isin(["F20", "F25"])
        & (medical.claim_line_start_date >= start)
        & (medical.claim_line_start_date <= as_of)
    ]
    p = pharmacy[
        (pharmacy.drug_class == "antipsychotic")
        & (pharmacy.dispensing_date >= start)
        & (pharmacy.dispensing_date <= as_of)
        & pharmacy.member_id.isin(dx.member_id.unique())
    ]

    def pdc(group: pd.DataFrame) -> float:
        group = group.sort_values(["dispensing_date", "claim_id"])
        covered, end = 0, None
        for day, supply in zip(group.dispensing_date, group.days_supply, strict=True):
            begin = day if end is None or day > end else end + pd.Timedelta(days=1)
            end = begin + pd.Timedelta(days=int(supply) - 1)
            covered += max(0, (min(end, as_of) - begin).days + 1)
        return covered / ((as_of - group.dispensing_date.min()).days + 1)

    counts = p.groupby("member_id").size()
    values = (
        p[p.member_id.isin(counts[counts >= 2].index)].groupby("member_id").apply(pdc, include_groups=False)
    )
    return values[values < 0.8].reset_index()


def run_size(members: int, folder: Path, *, compare: bool) -> float:
    t_gen, tables = timed(lambda: synthetic.generate(members, seed=7))
    synthetic.write(tables, folder)
    lines, fills = tables["medical_claim"].num_rows, tables["pharmacy_claim"].num_rows
    del tables
    catalog = load_catalog()
    t_open, source = timed(lambda: ClaimsSource.from_files(folder))
    t_run, flags = timed(lambda: run_catalog(source, catalog, AS_OF))
    flagged = len(set(flags.column("member_id").to_pylist()))
    print(f"members={members:,} claim_lines={lines:,} fills={fills:,} (generated in {t_gen:.1f}s)")
    print(
        f"  open+validate {t_open:.2f}s  catalog ({len(catalog.rules)} rules) {t_run:.2f}s  "
        f"end-to-end {t_open + t_run:.2f}s  flags={flags.num_rows:,} members flagged={flagged:,}  "
        f"peak RSS {peak_rss_gib():.2f} GiB"
    )
    if compare:
        con = source.con
        medical = con.table("bhum_medical_claim").to_pandas()
        pharmacy = con.table("bhum_pharmacy_claim").to_pandas()
        for frame, cols in ((medical, ["claim_line_start_date"]), (pharmacy, ["dispensing_date"])):
            for col in cols:
                frame[col] = pd.to_datetime(frame[col])
        for rule, sql in SQL.items():
            t_ibis, ibis_rows = timed(
                lambda r=rule: catalog_expression(source, catalog, AS_OF, [r]).to_pyarrow()
            )
            t_sql, sql_rows = timed(lambda s=sql: con.con.sql(s).to_arrow_table())
            t_pd, pd_rows = timed(lambda r=rule: pandas_rule(r, medical, pharmacy))
            print(
                f"  {rule:<18} ibis {t_ibis:6.3f}s  sql {t_sql:6.3f}s  pandas {t_pd:7.3f}s  "
                f"ibis/sql {t_ibis / t_sql:4.2f}x  pandas/ibis {t_pd / t_ibis:6.1f}x  "
                f"rows ibis={ibis_rows.num_rows} sql={sql_rows.num_rows} pandas={len(pd_rows)}"
            )
    return t_open + t_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=0, help="second size for growth (default members/10)")
    args = parser.parse_args()
    small = args.small or max(1000, args.members // 10)
    with tempfile.TemporaryDirectory() as tmp:
        t_big = run_size(args.members, Path(tmp) / "big", compare=True)
        t_small = run_size(small, Path(tmp) / "small", compare=False)
    print(
        f"growth: {small:,} -> {args.members:,} members ({args.members / small:.0f}x) costs "
        f"{t_big / t_small:.1f}x the time; peak RSS {peak_rss_gib():.2f} GiB"
    )


if __name__ == "__main__":
    main()
