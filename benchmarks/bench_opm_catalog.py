"""Benchmark: the whole opm-analytics catalog over a generated population (issue 4, "Measured").

For each size (default 100,000 and 1,000,000 members) it prints open+validate, catalog and end-to-end
seconds (wall and CPU), the peak RSS and the load average, plus flags per rule and the growth; then, at
each comparison size (default the same two), three rules (CI-T1017-DAILY, CI-RX-PRESCRIBERS,
CI-SAA-PDC) as the product runs them in Ibis against the same rule hand-written as plain DuckDB SQL
and as a straightforward pandas version. All three return the rule's flag rows with the evidence
list and latest date, and are asserted equal before the ratios are printed. It asserts nothing about
time.

The population is the product's generator (`bhum synth`, bhum.adapters.synth.generate_population),
written once per (members, seed) into a cache directory and reused by later runs. Each size and each
comparison runs in its own child process so its peak RSS is its own. Timings are the best of
``--repeat`` runs: the machine's two cores are shared, and the minimum is the least disturbed figure.

    .venv/bin/python benchmarks/bench_opm_catalog.py                       # 100,000 and 1,000,000
    .venv/bin/python benchmarks/bench_opm_catalog.py --sizes 20000 --compare-sizes 20000
    .venv/bin/python benchmarks/bench_opm_catalog.py --sizes none          # the comparison only
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import os
import resource
import time
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from bhum.adapters.synth import generate_population
from bhum.analytics.catalog import Catalog, load_catalog
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
            "load": os.getloadavg()[0],
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
        f"end-to-end {total[0]:.2f}s (cpu {total[1]:.2f}s)  peak RSS {r['rss']:.2f} GiB  "
        f"(load avg {r['load']:.1f})"
    )
    print(
        f"  flags={r['flags']:,} members flagged={r['members_flagged']:,} "
        f"({r['members_flagged'] / members:.1%})"
    )
    print("  per rule: " + ", ".join(f"{rule} {n}" for rule, n in r["per_rule"]))
    return float(total[0])


# -- three rules: Ibis vs plain DuckDB SQL vs pandas, same output ---------------------------------
#
# Each version returns what the product's rule returns (bhum.analytics.rules.FLAG_SCHEMA): one row per
# flagged member with measure, value, threshold, comparator, the latest date (index_date) and the
# evidence items "YYYY-MM-DD|claim_id". The three outputs are asserted equal (evidence compared as
# sorted distinct sets, which is what the flag finishing does with them) before any ratio is printed.
# Parameters come from the same pack the product runs.

MEASURES = {
    "CI-T1017-DAILY": "T1017 units on one day",
    "CI-RX-PRESCRIBERS": "distinct prescribers of psychotropic fills",
    "CI-SAA-PDC": "antipsychotic proportion of days covered",
}


def _quoted(values: list[str]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def hand_sql(folder: Path, catalog: Catalog) -> dict[str, str]:
    """The three rules as a careful analyst writes them in plain DuckDB SQL (the practical limit)."""
    medical = f"read_parquet('{folder / 'medical_claim.parquet'}')"
    pharmacy = f"read_parquet('{folder / 'pharmacy_claim.parquet'}')"
    daily, rx, saa = catalog["CI-T1017-DAILY"], catalog["CI-RX-PRESCRIBERS"], catalog["CI-SAA-PDC"]
    saa_start = AS_OF - timedelta(days=saa.int("lookback_days") - 1)
    return {
        "CI-T1017-DAILY": f"""
            WITH cm AS (
              SELECT member_id, claim_id, claim_line_start_date AS d,
                     coalesce(service_unit_quantity, 0)::DOUBLE AS units
              FROM {medical}
              WHERE hcpcs_code IN {_quoted(daily.codes("case_management_codes"))}
                AND claim_line_start_date <= DATE '{AS_OF}'
                AND claim_line_start_date > DATE '{AS_OF - timedelta(days=daily.int("lookback_days"))}'),
            over AS (SELECT member_id, d, sum(units) AS units FROM cm GROUP BY member_id, d
                     HAVING sum(units) > {daily.int("daily_unit_limit")})
            SELECT cm.member_id, '{MEASURES["CI-T1017-DAILY"]}' AS measure, max(over.units) AS value,
                   {float(daily.int("daily_unit_limit"))} AS threshold, '>' AS comparator,
                   max(cm.d) AS index_date, list(CAST(cm.d AS VARCHAR) || '|' || cm.claim_id) AS evidence
            FROM cm JOIN over USING (member_id, d) GROUP BY cm.member_id""",
        "CI-RX-PRESCRIBERS": f"""
            WITH f AS (
              SELECT member_id, claim_id, dispensing_date AS d, prescribing_provider_npi AS npi
              FROM {pharmacy}
              WHERE drug_class IN {_quoted(rx.strings("drug_classes"))}
                AND dispensing_date <= DATE '{AS_OF}'
                AND dispensing_date > DATE '{AS_OF - timedelta(days=rx.int("lookback_days"))}')
            SELECT member_id, '{MEASURES["CI-RX-PRESCRIBERS"]}' AS measure,
                   count(DISTINCT npi)::DOUBLE AS value, {float(rx.int("min_distinct"))} AS threshold,
                   '>=' AS comparator, max(d) AS index_date,
                   list(CAST(d AS VARCHAR) || '|' || claim_id) AS evidence
            FROM f GROUP BY member_id HAVING count(DISTINCT npi) >= {rx.int("min_distinct")}""",
        "CI-SAA-PDC": f"""
            WITH dx AS (
              SELECT DISTINCT member_id FROM {medical}
              WHERE substr(diagnosis_code_1, 1, 3) IN {_quoted(saa.codes("schizophrenia_dx"))}
                AND claim_line_start_date BETWEEN DATE '{saa_start}' AND DATE '{AS_OF}'),
            f AS (
              SELECT member_id, claim_id, dispensing_date AS dd, (dispensing_date - DATE '1970-01-01') AS d,
                     days_supply::BIGINT AS s
              FROM {pharmacy}
              WHERE drug_class IN {_quoted(saa.strings("drug_classes"))}
                AND dispensing_date BETWEEN DATE '{saa_start}' AND DATE '{AS_OF}'
                AND member_id IN (SELECT member_id FROM dx)),
            c AS (SELECT *, sum(s) OVER w AS run FROM f
                  WINDOW w AS (PARTITION BY member_id ORDER BY d, claim_id ROWS UNBOUNDED PRECEDING)),
            e AS (SELECT *, run + max(d - 1 - (run - s)) OVER w AS e FROM c
                  WINDOW w AS (PARTITION BY member_id ORDER BY d, claim_id ROWS UNBOUNDED PRECEDING)),
            m AS (SELECT member_id, count(*) AS n, min(d) AS first, max(dd) AS last_date,
                         sum(s) - greatest(0, max(e) - {DAY}) AS covered,
                         list(CAST(dd AS VARCHAR) || '|' || claim_id) AS evidence
                  FROM e GROUP BY member_id)
            SELECT member_id, '{MEASURES["CI-SAA-PDC"]}' AS measure,
                   covered::DOUBLE / ({DAY} - first + 1) AS value, {saa.number("min_pdc")} AS threshold,
                   '<' AS comparator, last_date AS index_date, evidence
            FROM m WHERE n >= {saa.int("min_fills")}
                     AND covered::DOUBLE / ({DAY} - first + 1) < {saa.number("min_pdc")}""",
    }


def _items(frame: pd.DataFrame, day: str) -> pd.Series:
    items: pd.Series = frame[day].dt.strftime("%Y-%m-%d") + "|" + frame["claim_id"]
    return items


def _flag_frame(frame: pd.DataFrame, rule: str, threshold: float, comparator: str) -> pd.DataFrame:
    frame = frame.reset_index()
    frame.insert(1, "measure", MEASURES[rule])
    frame["threshold"], frame["comparator"] = threshold, comparator
    return frame[["member_id", "measure", "value", "threshold", "comparator", "index_date", "evidence"]]


def pandas_rule(rule: str, folder: Path, catalog: Catalog) -> pd.DataFrame:
    """The straightforward pandas version an analyst would write: read the columns, filter, group-by,
    merge, cumulative sums; no Python loop over members."""
    as_of, p = pd.Timestamp(AS_OF), catalog[rule]
    if rule == "CI-T1017-DAILY":
        m = pd.read_parquet(
            folder / "medical_claim.parquet",
            columns=["member_id", "claim_id", "claim_line_start_date", "hcpcs_code", "service_unit_quantity"],
        )
        m["claim_line_start_date"] = pd.to_datetime(m.claim_line_start_date)
        cm = m[
            m.hcpcs_code.isin(p.codes("case_management_codes"))
            & (m.claim_line_start_date <= as_of)
            & (m.claim_line_start_date > as_of - pd.Timedelta(days=p.int("lookback_days")))
        ]
        cm = cm.assign(units=cm.service_unit_quantity.fillna(0).astype(float))
        daily = cm.groupby(["member_id", "claim_line_start_date"], as_index=False).units.sum()
        over = daily[daily.units > p.int("daily_unit_limit")]
        lines = cm.merge(over, on=["member_id", "claim_line_start_date"], suffixes=("", "_day"))
        lines["item"] = _items(lines, "claim_line_start_date")
        member = lines.groupby("member_id").agg(
            value=("units_day", "max"), index_date=("claim_line_start_date", "max"), evidence=("item", list)
        )
        return _flag_frame(member, rule, float(p.int("daily_unit_limit")), ">")
    f = pd.read_parquet(
        folder / "pharmacy_claim.parquet",
        columns=["member_id", "claim_id", "dispensing_date", "drug_class", "days_supply"]
        + (["prescribing_provider_npi"] if rule == "CI-RX-PRESCRIBERS" else []),
    )
    f["dispensing_date"] = pd.to_datetime(f.dispensing_date)
    if rule == "CI-RX-PRESCRIBERS":
        f = f[
            f.drug_class.isin(p.strings("drug_classes"))
            & (f.dispensing_date <= as_of)
            & (f.dispensing_date > as_of - pd.Timedelta(days=p.int("lookback_days")))
        ]
        f = f.assign(item=_items(f, "dispensing_date"))
        member = f.groupby("member_id").agg(
            value=("prescribing_provider_npi", "nunique"),
            index_date=("dispensing_date", "max"),
            evidence=("item", list),
        )
        member = member[member.value >= p.int("min_distinct")].astype({"value": float})
        return _flag_frame(member, rule, float(p.int("min_distinct")), ">=")
    # CI-SAA-PDC: overlapping fills shifted forward with a cumulative sum and a cumulative max.
    start = as_of - pd.Timedelta(days=p.int("lookback_days") - 1)
    m = pd.read_parquet(
        folder / "medical_claim.parquet", columns=["member_id", "claim_line_start_date", "diagnosis_code_1"]
    )
    m["claim_line_start_date"] = pd.to_datetime(m.claim_line_start_date)
    diagnosed = m[
        m.diagnosis_code_1.str[:3].isin(p.codes("schizophrenia_dx"))
        & (m.claim_line_start_date >= start)
        & (m.claim_line_start_date <= as_of)
    ].member_id.unique()
    f = f[
        f.drug_class.isin(p.strings("drug_classes"))
        & (f.dispensing_date >= start)
        & (f.dispensing_date <= as_of)
        & f.member_id.isin(diagnosed)
    ].sort_values(["member_id", "dispensing_date", "claim_id"])
    f = f.assign(day=(f.dispensing_date - pd.Timestamp(EPOCH)).dt.days, supply=f.days_supply.astype("int64"))
    f["running"] = f.groupby("member_id").supply.cumsum()
    f["key"] = f.day - 1 - (f.running - f.supply)
    f["shifted_end"] = f.running + f.groupby("member_id").key.cummax()
    f["item"] = _items(f, "dispensing_date")
    member = f.groupby("member_id").agg(
        fills=("claim_id", "size"),
        supply=("supply", "sum"),
        last_end=("shifted_end", "max"),
        first=("day", "min"),
        index_date=("dispensing_date", "max"),
        evidence=("item", list),
    )
    covered = member.supply - (member.last_end - DAY).clip(lower=0)
    member["value"] = covered / (DAY - member["first"] + 1)
    member = member[(member.fills >= p.int("min_fills")) & (member.value < p.number("min_pdc"))]
    return _flag_frame(member, rule, p.number("min_pdc"), "<")


Row = tuple[str, str, float, float, str, date, tuple[str, ...]]


def canonical(rows: list[dict[str, Any]]) -> list[Row]:
    """Rows as comparable tuples: value to 9 decimals, evidence as a sorted distinct tuple."""
    out = []
    for r in rows:
        index = r["index_date"]
        index = index.date() if isinstance(index, pd.Timestamp) else index
        out.append(
            (
                str(r["member_id"]),
                str(r["measure"]),
                round(float(r["value"]), 9),
                float(r["threshold"]),
                str(r["comparator"]),
                index,
                tuple(sorted(set(r["evidence"]))),
            )
        )
    return sorted(out)


def assert_same(rule: str, name: str, expected: list[Row], got: list[Row]) -> None:
    if expected != got:
        only_a = sorted(set(expected) - set(got))[:2]
        only_b = sorted(set(got) - set(expected))[:2]
        raise AssertionError(
            f"{rule}: {name} differs from the product's rule ({len(expected)} vs {len(got)} rows); "
            f"only in the rule: {only_a}; only in {name}: {only_b}"
        )


def arrow_of(con: Any, sql: str) -> Any:
    """Execute SQL on the source's own DuckDB connection (same threads and memory limit)."""
    return con.con.sql(sql).to_arrow_table()


def measure_compare(folder: Path, repeat: int, pandas_repeat: int, out: Any) -> None:
    """Child process: the three rules as the product runs them, as plain SQL and as pandas."""
    catalog = load_catalog()
    source = ClaimsSource.from_files(folder)
    con = source.con
    results = {}
    for rule, sql in hand_sql(folder, catalog).items():
        # What the product runs for run_catalog(rule_ids=[rule]): build the rule's expression on the
        # validated source, compile it to SQL, execute it (flag finishing is the same for all three).
        t_build, _, expr = best(partial(catalog_expression, source, catalog, AS_OF, [rule]), repeat)
        t_compile, _, compiled = best(partial(con.compile, expr), repeat)
        t_exec, c_exec, ibis_rows = best(partial(arrow_of, con, compiled), repeat)
        t_sql, c_sql, sql_rows = best(partial(arrow_of, con, sql), repeat)
        t_pd, c_pd, pd_rows = best(partial(pandas_rule, rule, folder, catalog), pandas_repeat)
        expected = canonical(ibis_rows.drop_columns(["rule_id"]).to_pylist())
        assert_same(rule, "plain SQL", expected, canonical(sql_rows.to_pylist()))
        assert_same(rule, "pandas", expected, canonical(pd_rows.to_dict("records")))
        results[rule] = {
            "rows": len(expected),
            "build": t_build,
            "compile": t_compile,
            "execute": (t_exec, c_exec),
            "sql": (t_sql, c_sql),
            "pandas": (t_pd, c_pd),
        }
    out.send({"results": results, "load": os.getloadavg()[0]})


def run_compare(members: int, folder: Path, repeat: int, pandas_repeat: int) -> None:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("fork").Process(
        target=measure_compare, args=(folder, repeat, pandas_repeat, child)
    )
    process.start()
    r = parent.recv()
    process.join()
    print(
        f"three rules at {members:,} members, same flag rows and evidence asserted equal "
        f"(best of {repeat}, pandas best of {pandas_repeat}; load avg {r['load']:.1f})"
    )
    for rule, x in r["results"].items():
        t_exec, t_sql, t_pd = x["execute"][0], x["sql"][0], x["pandas"][0]
        t_ibis = x["build"] + x["compile"] + t_exec
        print(
            f"  {rule:<18} rows={x['rows']:<6} ibis {t_ibis:6.3f}s (build {x['build']:.3f} + compile "
            f"{x['compile']:.3f} + execute {t_exec:.3f}, cpu {x['execute'][1]:.3f})  sql {t_sql:6.3f}s "
            f"(cpu {x['sql'][1]:.3f})  pandas {t_pd:7.3f}s (cpu {x['pandas'][1]:.3f})\n"
            f"  {'':<18} ibis/sql executed {t_exec / t_sql:4.2f}x, with build+compile {t_ibis / t_sql:4.2f}x;"
            f"  pandas/ibis executed {t_pd / t_exec:5.1f}x, with build+compile {t_pd / t_ibis:5.1f}x\n"
            # CPU seconds are less disturbed than wall seconds by other work on the shared cores.
            f"  {'':<18} cpu: ibis/sql executed {x['execute'][1] / x['sql'][1]:4.2f}x;"
            f"  pandas/ibis executed {x['pandas'][1] / x['execute'][1]:5.1f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--sizes", default="100000,1000000", help="comma-separated member counts ('none': comparison only)"
    )
    parser.add_argument(
        "--compare-sizes", default="100000,1000000", help="member counts for the three-rule comparison"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pandas-repeat", type=int, default=2)
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("BHUM_BENCH_CACHE", Path.home() / ".cache" / "bhum" / "bench")),
        help="where generated populations are kept between runs",
    )
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip() not in ("", "none"))
    totals = {}
    for members in sizes:
        totals[members] = run_size(members, population(members, args.seed, args.cache))
    if len(sizes) > 1:
        small, big = sizes[0], sizes[-1]
        print(
            f"growth: {small:,} -> {big:,} members ({big / small:.0f}x) costs "
            f"{totals[big] / totals[small]:.1f}x the end-to-end time"
        )
    for members in sorted(int(s) for s in args.compare_sizes.split(",")):
        folder = population(members, args.seed, args.cache)
        run_compare(members, folder, args.repeat, args.pandas_repeat)


if __name__ == "__main__":
    main()
