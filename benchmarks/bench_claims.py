"""Claim checks throughput (issue 5): 1,000,000 claim lines end to end (load, check, write decisions).

Targets: >= 200,000 lines/s and <= 4 GiB peak memory on 2 cores; in the same run the T1017 daily/monthly
cap check hand-written in plain DuckDB SQL, printed as a ratio to the engine's whole pipeline and to
the engine's cap stage (target within 1.5x).

    .venv/bin/python benchmarks/bench_claims.py [--lines 1000000] [--population DIR] [--threads 2]

The population is a `bhum synth` directory (generated once into --population when missing); its
medical claims are repeated with shifted claim ids until --lines lines are reached.
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from bhum.adapters.claims_engine import DuckDbClaimsEngine, population_reference, read_claims
from bhum.adapters.claims_engine.remittance import write_decisions
from bhum.adapters.synth.writer import generate_population
from bhum.policy import load_packs
from bhum.services.claims import check_batch, check_parameters

REPO = Path(__file__).resolve().parents[1]

HAND_WRITTEN_CAPS = """
WITH t AS (
  SELECT line_order, member_id, claim_line_start_date AS d, service_unit_quantity::DOUBLE AS u,
         CASE WHEN list_contains([hcpcs_modifier_1, hcpcs_modifier_2], 'TF') THEN 'TF'
              WHEN list_contains([hcpcs_modifier_1, hcpcs_modifier_2], 'TG') THEN 'TG'
              WHEN list_contains([hcpcs_modifier_1, hcpcs_modifier_2], 'HN') THEN 'HN'
              WHEN list_contains([hcpcs_modifier_1, hcpcs_modifier_2], 'HM') THEN 'HM' ELSE 'PACT' END AS v
  FROM claims WHERE hcpcs_code = 'T1017'
), day AS (
  SELECT *, greatest(0, least(u, 16 - coalesce(sum(u) OVER (PARTITION BY member_id, d ORDER BY line_order
         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))) AS x FROM t
)
SELECT line_order, greatest(0, least(x, CASE WHEN v IN ('TF', 'PACT') THEN 56 ELSE 25 END
       - coalesce(sum(x) OVER (PARTITION BY member_id, date_trunc('month', d), v ORDER BY line_order
         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))) AS paid_units
FROM day
"""


def build_input(population: Path, lines: int, out: Path) -> Path:
    claims = pq.read_table(population / "medical_claim.parquet")
    parts, total, k = [], 0, 0
    while total < lines:
        take = min(claims.num_rows, lines - total)
        part = claims.slice(0, take)
        if k:
            ids = pa.compute.binary_join_element_wise(part.column("claim_id"), pa.scalar(f"R{k}"), "")
            part = part.set_column(part.schema.get_field_index("claim_id"), "claim_id", ids)
        parts.append(part)
        total += take
        k += 1
    path = out / "bench_claims.parquet"
    pq.write_table(pa.concat_tables(parts), path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--population", type=Path, default=REPO / "data" / "bench-claims-pop")
    parser.add_argument("--members", type=int, default=58_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=REPO / "data" / "bench-claims-out")
    args = parser.parse_args()
    if not (args.population / "medical_claim.parquet").is_file():
        print(f"generating {args.members} members into {args.population} ...")
        generate_population(args.population, members=args.members, seed=11)
    args.out.mkdir(parents=True, exist_ok=True)
    source = build_input(args.population, args.lines, args.out)
    params = check_parameters(load_packs(REPO / "packs"))
    reference = population_reference(args.population)
    engine = DuckDbClaimsEngine(threads=args.threads, memory_limit="3GB")

    t0 = time.perf_counter()
    batch = read_claims([source])
    t1 = time.perf_counter()
    result = check_batch(batch, reference, params, engine)
    t2 = time.perf_counter()
    write_decisions(
        result.decisions,
        result.rejected,
        args.out,
        created=datetime(2026, 12, 31, tzinfo=UTC),
        formats=("parquet", "835"),
    )
    t3 = time.perf_counter()
    n = batch.lines.num_rows

    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    con.register("claims", batch.lines)
    h0 = time.perf_counter()
    hand = con.sql(HAND_WRITTEN_CAPS).to_arrow_table()
    h1 = time.perf_counter()
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024

    total = t3 - t0
    print(f"lines: {n:,} (rejected {len(result.rejected)}), threads {args.threads}")
    print(f"load {t1 - t0:.2f}s  check {t2 - t1:.2f}s  write (parquet + 835) {t3 - t2:.2f}s  total {total:.2f}s")
    print(f"throughput end to end: {n / total:,.0f} lines/s (target >= 200,000)")
    print(f"peak memory (max RSS): {peak_gib:.2f} GiB (target <= 4 GiB)")
    print(f"hand-written T1017 cap SQL: {h1 - h0:.3f}s for {hand.num_rows:,} T1017 lines")
    print(f"ratio engine check / hand-written caps: {(t2 - t1) / (h1 - h0):.1f}x (whole pipeline, all edits)")
    s = result.summary
    print(f"paid {s.paid:,} partial {s.partial:,} denied {s.denied:,}; paid units {s.paid_units:,.0f}")


if __name__ == "__main__":
    main()
