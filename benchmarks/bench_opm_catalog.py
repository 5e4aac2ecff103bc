"""Benchmark: the whole opm-analytics catalog over a generated population (issue 4, "Measured").

For each size (default 100,000 and 1,000,000 members) it prints open+validate, catalog and end-to-end
seconds (wall and CPU) and the peak RSS, plus flags per rule; then, at the comparison size, three rules
(CI-T1017-DAILY, CI-RX-PRESCRIBERS, CI-SAA-PDC) as the product runs them in Ibis against the same rule
hand-written as plain DuckDB SQL and as a straightforward pandas version, as ratios. It asserts nothing
about time.

The population is the product's generator (`bhum synth`, bhum.adapters.synth.generate_population),
written once per (members, seed) into a cache directory and reused by later runs. Each size runs in its
own child process so its peak RSS is its own. Timings are the best of ``--repeat`` runs: the machine's
two cores are shared, and the minimum is the least disturbed figure.

    .venv/bin/python benchmarks/bench_opm_catalog.py                       # 100,000 and 1,000,000
    .venv/bin/python benchmarks/bench_opm_catalog.py --sizes 20000 --compare-members 20000
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import os
import resource
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from bhum.adapters.synth import generate_population
from bhum.analytics.catalog import load_catalog
from bhum.analytics.rules import EPOCH
from bhum.analytics.runner import catalog_expression, run_catalog
from bhum.analytics.source import ClaimsSource

AS_OF = date(2026, 12, 31)  # the generator writes one calendar year (2026) of claims
DAY = (AS_OF - EPOCH).days
SEED = 7
COMPARED = ("CI-T1017-DAILY", "CI-RX-PRESCRIBERS", "CI-SAA-PDC")


def population(members: int, seed: int, cache: Path) -> Path:
    """The generator's files for (members, seed), generated on first use."""
    folder = cache / f"synth-{members}-seed{seed}"
    if not (folder / "manifest.json").exists():
        start = time.perf_counter()
        generate_population(folder, members=members, seed=seed)
        print(f"  generated {members:,} members into {folder} in {time.perf_counter() - start:.1f}s")
    return folder


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best wall and CPU seconds of ``repeat`` runs, and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus), result


# -- one size, end to end ---------------------------------------------------------------------------


def measure_size(folder: Path, out: Any) -> None:
    """Child process: validate + run the whole catalog once, report figures to the parent."""
    catalog = load_catalog()
    wall, cpu = time.perf_counter(), time.process_time()
    source = ClaimsSource.from_files(folder)
    open_wall, open_cpu = time.perf_counter() - wall, time.process_time() - cpu
    wall, cpu = time.perf_counter(), time.process_time()
    flags = run_catalog(source, catalog, AS_OF)
    run_wall, run_cpu = time.perf_counter() - wall, time.process_time() - cpu
    meta = (
        pq.read_metadata(folder / "medical_claim.parquet").num_rows,
        pq.read_metadata(folder / "pharmacy_claim.parquet").num_rows,
    )
    out.send(
        {
            "lines": meta[0],
            "fills": meta[1],
            "open": (open_wall, open_cpu),
            "catalog": (run_wall, run_cpu),
            "rules": len(catalog.rules),
            "flags": flags.num_rows,
            "members_flagged": len(set(flags.column("member_id").to_pylist())),
            "per_rule": sorted(collections.Counter(flags.column("rule_id").to_pylist()).items()),
            "rss": peak_rss_gib(),
        }
    )


def run_size(members: int, folder: Path) -> float:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("fork").Process(target=measure_size, args=(folder, child))
    process.start()
    r = parent.recv()
    process.join()
    total = (r["open"][0] + r["catalog"][0], r["open"][1] + r["catalog"][1])
    print(f"members={members:,} claim_lines={r['lines']:,} fills={r['fills']:,}")
    print(
        f"  open+validate {r['open'][0]:.2f}s (cpu {r['open'][1]:.2f}s)  "
        f"catalog ({r['rules']} rules) {r['catalog'][0]:.2f}s (cpu {r['catalog'][1]:.2f}s)  "
        f"end-to-end {total[0]:.2f}s (cpu {total[1]:.2f}s)  peak RSS {r['rss']:.2f} GiB"
    )
    print(
        f"  flags={r['flags']:,} members flagged={r['members_flagged']:,} "
        f"({r['members_flagged'] / members:.1%})"
    )
    print("  per rule: " + ", ".join(f"{rule} {n}" for rule, n in r["per_rule"]))
    return float(total[0])


# -- three rules: Ibis vs plain DuckDB SQL vs pandas ------------------------------------------------

PSYCHOTROPIC = "('antipsychotic','antidepressant','mood_stabilizer','anxiolytic','stimulant')"


def hand_sql(folder: Path) -> dict[str, str]:
    medical = f"read_parquet('{folder / 'medical_claim.parquet'}')"
    pharmacy = f"read_parquet('{folder / 'pharmacy_claim.parquet'}')"
    return {
        "CI-T1017-DAILY": f"""
            SELECT member_id, max(units) AS units FROM (
              SELECT member_id, claim_line_start_date, sum(coalesce(service_unit_quantity, 0)) AS units
              FROM {medical}
              WHERE hcpcs_code = 'T1017' AND claim_line_start_date <= DATE '{AS_OF}'
                AND claim_line_start_date > DATE '{AS_OF}' - INTERVAL 180 DAY
              GROUP BY 1, 2) WHERE units > 16 GROUP BY 1""",
        "CI-RX-PRESCRIBERS": f"""
            SELECT member_id, count(DISTINCT prescribing_provider_npi) AS n FROM {pharmacy}
            WHERE drug_class IN {PSYCHOTROPIC}
              AND dispensing_date <= DATE '{AS_OF}' AND dispensing_date > DATE '{AS_OF}' - INTERVAL 180 DAY
            GROUP BY 1 HAVING count(DISTINCT prescribing_provider_npi) >= 4""",
        "CI-SAA-PDC": f"""
            WITH dx AS (SELECT DISTINCT member_id FROM {medical}
                        WHERE substr(diagnosis_code_1, 1, 3) IN ('F20','F25')
                          AND claim_line_start_date BETWEEN DATE '{AS_OF}' - INTERVAL 364 DAY
                                                        AND DATE '{AS_OF}'),
            f AS (SELECT p.member_id, p.claim_id, (dispensing_date - DATE '1970-01-01') AS d,
                         days_supply AS s
                  FROM {pharmacy} p SEMI JOIN dx USING (member_id)
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
        return float(covered / ((as_of - group.dispensing_date.min()).days + 1))

    counts = p.groupby("member_id").size()
    measured = p[p.member_id.isin(counts[counts >= 2].index)]
    values = pd.Series({member: pdc(group) for member, group in measured.groupby("member_id")}, dtype=float)
    return values[values < 0.8].rename_axis("member_id").reset_index()


def arrow_of(con: Any, sql: str) -> Any:
    """Execute SQL on the source's own DuckDB connection (same threads and memory limit)."""
    return con.con.sql(sql).to_arrow_table()


def compare(members: int, folder: Path, repeat: int) -> None:
    catalog = load_catalog()
    source = ClaimsSource.from_files(folder)
    con = source.con
    medical = pq.read_table(
        folder / "medical_claim.parquet",
        columns=[
            "member_id",
            "claim_line_start_date",
            "hcpcs_code",
            "service_unit_quantity",
            "diagnosis_code_1",
        ],
    ).to_pandas()
    pharmacy = pq.read_table(
        folder / "pharmacy_claim.parquet",
        columns=[
            "claim_id",
            "member_id",
            "prescribing_provider_npi",
            "dispensing_date",
            "drug_class",
            "days_supply",
        ],
    ).to_pandas()
    for frame, column in ((medical, "claim_line_start_date"), (pharmacy, "dispensing_date")):
        frame[column] = pd.to_datetime(frame[column])
    print(
        f"three rules at {members:,} members (best of {repeat}; ibis = what run_catalog runs for that rule)"
    )
    for rule, sql in hand_sql(folder).items():
        # What the product runs for rule_ids=[rule]: the rule's expression on the validated source.
        t_build, _, expr = best(partial(catalog_expression, source, catalog, AS_OF, [rule]), repeat)
        t_compile, _, compiled = best(partial(con.compile, expr), repeat)
        t_exec, _, ibis_rows = best(partial(arrow_of, con, compiled), repeat)
        t_sql, _, sql_rows = best(partial(arrow_of, con, sql), repeat)
        t_pd, _, pd_rows = best(partial(pandas_rule, rule, medical, pharmacy), 1)
        t_ibis = t_build + t_compile + t_exec
        print(
            f"  {rule:<18} ibis {t_ibis:6.3f}s (build {t_build:.3f} + compile {t_compile:.3f} + execute "
            f"{t_exec:.3f})  sql {t_sql:6.3f}s  pandas {t_pd:7.3f}s\n"
            f"  {'':<18} ibis/sql executed {t_exec / t_sql:4.2f}x, with build+compile {t_ibis / t_sql:4.2f}x;"
            f"  pandas/ibis {t_pd / t_ibis:6.1f}x;  rows ibis={ibis_rows.num_rows} sql={sql_rows.num_rows}"
            f" pandas={len(pd_rows)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated member counts")
    parser.add_argument("--compare-members", type=int, default=100_000, help="size for the three-rule ratios")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("BHUM_BENCH_CACHE", Path.home() / ".cache" / "bhum" / "bench")),
        help="where generated populations are kept between runs",
    )
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    totals = {}
    for members in sizes:
        totals[members] = run_size(members, population(members, args.seed, args.cache))
    if len(sizes) > 1:
        small, big = sizes[0], sizes[-1]
        print(
            f"growth: {small:,} -> {big:,} members ({big / small:.0f}x) costs "
            f"{totals[big] / totals[small]:.1f}x the end-to-end time"
        )
    compare(args.compare_members, population(args.compare_members, args.seed, args.cache), args.repeat)


if __name__ == "__main__":
    main()
