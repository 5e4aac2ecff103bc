"""Claim checks throughput (issue 5, "Measured"): 1,000,000 claim lines end to end.

End to end = load (read the claims file into the typed batch), check (every edit, see
docs/claim-checks.md) and write the decisions (Parquet through DuckDB COPY). Targets: >= 200,000 lines/s
and <= 4 GiB peak memory on 2 cores. Reported apart: the X12 835 remittance (built and written after the
decisions; another format of the same decisions), and, in the same process, the T1017 daily/monthly cap
check hand-written in plain DuckDB SQL against the engine's own cap stage (target within 1.5x).

    .venv/bin/python benchmarks/bench_claims.py [--lines 1000000] [--population DIR] [--threads 2]
        [--no-authorizations] [--all-columns] [--no-835]

The population is a `bhum synth` directory (generated once into --population when missing); its
medical claims are repeated with shifted claim ids until --lines lines are reached. Synthetic
authorizations (IOP, ECT/rTMS; some denied, discontinued, for another provider, short of units) and a
history of paid T1017 units are derived from the claims so the authorization and history paths run too
(--no-authorizations: the bare population, as the first measurement). A warm-up on 2,000 lines runs
first so one-time imports and DuckDB start-up are not counted. It prints wall and CPU seconds per stage
(CPU shows the work when other processes share the cores); it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bhum.adapters.claims_engine import (
    CHECK_COLUMNS,
    DuckDbClaimsEngine,
    population_reference,
    read_claims,
)
from bhum.adapters.claims_engine.remittance import remittance_835, write_decisions
from bhum.adapters.synth.writer import generate_population
from bhum.domain.values import CPT, HCPCS, REVENUE
from bhum.policy import load_packs
from bhum.services.claims import (
    AUTHORIZATIONS_SCHEMA,
    HISTORY_SCHEMA,
    ReferenceTables,
    check_batch,
    check_parameters,
)

REPO = Path(__file__).resolve().parents[1]

# TCM-02 by hand: 16 units a day, then 56 (TF, PACT) or 25 units a month per variant, in claim order.
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
            ids = pc.binary_join_element_wise(part.column("claim_id"), pa.scalar(f"R{k}"), "")
            part = part.set_column(part.schema.get_field_index("claim_id"), "claim_id", ids)
        parts.append(part)
        total += take
        k += 1
    path = out / "bench_claims.parquet"
    pq.write_table(pa.concat_tables(parts), path)
    return path


def synthetic_authorizations(claims: Path) -> tuple[pa.Table, pa.Table]:
    """Authorizations for the claims' IOP and ECT/rTMS lines (one per member, service and billing NPI;
    a share denied, discontinued mid-span, for another provider, ending early or short of units) and a
    history of paid T1017 units (a tenth of the members, once a month) and IOP days. Synthetic only."""
    con = duckdb.connect()
    try:
        scan = f"read_parquet('{str(claims).replace(chr(39), chr(39) * 2)}')"
        authorizations = con.sql(
            f"""
            WITH g AS (
              SELECT member_id, coalesce(hcpcs_code, revenue_center_code) AS code,
                CASE WHEN hcpcs_code IS NULL THEN '{REVENUE}' WHEN hcpcs_code LIKE '9%' THEN '{CPT}'
                     ELSE '{HCPCS}' END AS code_system,
                billing_npi, min(claim_line_start_date) AS first, max(claim_line_start_date) AS last,
                count(*) AS n,
                hash(member_id, coalesce(hcpcs_code, revenue_center_code), billing_npi) % 100 AS h
              FROM {scan}
              WHERE hcpcs_code IN ('S9480', 'H0015', '90867', '90868', '90869', '90870')
                 OR revenue_center_code IN ('0905', '0906')
              GROUP BY ALL
            )
            SELECT 'SYN-A' || row_number() OVER (ORDER BY member_id, code, billing_npi) AS authorization_id,
              member_id, CASE WHEN h % 17 = 0 THEN '1999999999' ELSE billing_npi END AS provider_npi,
              code_system, code, first - (h % 3)::INTEGER AS start_date, last - (h % 7)::INTEGER AS end_date,
              greatest(1, n * (60 + h % 50) // 100)::BIGINT AS units_authorized,
              (h % 3)::BIGINT AS units_used,
              CASE WHEN h < 80 THEN 'approved' WHEN h < 85 THEN 'denied' WHEN h < 90 THEN 'discontinued'
                   ELSE 'partially_approved' END AS status,
              first + ((last - first) // 2)::INTEGER AS status_since
            FROM g WHERE h < 95
            """
        ).to_arrow_table()
        history = con.sql(
            f"""
            SELECT member_id, min(claim_line_start_date) AS service_date, 'T1017' AS hcpcs_code,
              CASE WHEN 'TF' IN (hcpcs_modifier_1, hcpcs_modifier_2) THEN 'TF'
                   WHEN 'HM' IN (hcpcs_modifier_1, hcpcs_modifier_2) THEN 'HM'
                   WHEN 'TG' IN (hcpcs_modifier_1, hcpcs_modifier_2) THEN 'TG'
                   WHEN 'HN' IN (hcpcs_modifier_1, hcpcs_modifier_2) THEN 'HN' END AS level_modifier,
              (4 + hash(member_id) % 20)::DOUBLE AS paid_units
            FROM {scan} WHERE hcpcs_code = 'T1017' AND hash(member_id) % 10 = 0
            GROUP BY member_id, date_trunc('month', claim_line_start_date), level_modifier
            UNION ALL
            SELECT member_id, claim_line_start_date + 1, 'S9480', NULL, 1.0
            FROM {scan} WHERE hcpcs_code = 'S9480' AND hash(claim_id) % 5 = 0
            """
        ).to_arrow_table()
    finally:
        con.close()
    return authorizations.cast(AUTHORIZATIONS_SCHEMA), history.cast(HISTORY_SCHEMA)


class Stage:
    """Wall and CPU seconds of a block."""

    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0

    def __enter__(self) -> Stage:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def run(
    source: Path,
    reference: ReferenceTables,
    out: Path,
    threads: int,
    *,
    all_columns: bool,
    with_835: bool,
) -> None:
    params = check_parameters(load_packs(REPO / "packs"))
    engine = DuckDbClaimsEngine(threads=threads, memory_limit="3GB")
    created = datetime(2026, 12, 31, tzinfo=UTC)
    columns = None if all_columns else CHECK_COLUMNS

    # Warm-up: one-time imports and DuckDB start-up, on a few lines.
    warm = out / "warmup"
    warm.mkdir(parents=True, exist_ok=True)
    small = warm / "claims.parquet"
    pq.write_table(pq.ParquetFile(source).read_row_group(0).slice(0, 2000), small)
    warm_result = check_batch(read_claims([small], columns=columns), reference, params, engine)
    write_decisions(warm_result.decisions, warm_result.rejected, warm, created=created, formats=("parquet",))

    with Stage() as load:
        batch = read_claims([source], columns=columns)
    with Stage() as check:
        result = check_batch(batch, reference, params, engine)
    with Stage() as write:
        write_decisions(result.decisions, result.rejected, out, created=created, formats=("parquet",))
    stages = dict(engine.timings)
    n = batch.lines.num_rows

    x835 = Stage()
    if with_835:
        with x835:
            remittance = remittance_835(result.decisions, created=created)
            (out / "remittance.835").write_text(remittance.text, encoding="utf-8")

    # The T1017 cap check by hand, in the same process: over the batch as loaded, and over the same
    # T1017 lines already in DuckDB (what the engine's cap stage reads).
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.register("claims_batch", batch.lines)
    with Stage() as hand:
        hand_rows = con.sql(HAND_WRITTEN_CAPS.replace("FROM claims", "FROM claims_batch")).to_arrow_table()
    con.execute("CREATE TEMP TABLE claims AS SELECT * FROM claims_batch WHERE hcpcs_code = 'T1017'")
    with Stage() as hand_t:
        con.execute(f"CREATE OR REPLACE TEMP TABLE hand_caps AS {HAND_WRITTEN_CAPS}")
    con.close()
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024

    total_wall = load.wall + check.wall + write.wall
    total_cpu = load.cpu + check.cpu + write.cpu
    s = result.summary
    print(f"lines: {n:,} (rejected {len(result.rejected)}), threads {threads}, reference {reference.origin}")
    print(
        f"authorizations {reference.authorizations.num_rows:,}, history rows {reference.history.num_rows:,}, "
        f"columns loaded: {'all' if all_columns else f'{len(CHECK_COLUMNS)} the checks read'}"
    )
    print("stage               wall s   cpu s")
    for name, stage in (("load", load), ("check", check), ("write decisions", write)):
        print(f"{name:<18}{stage.wall:>8.2f}{stage.cpu:>8.2f}")
    print(f"{'end to end':<18}{total_wall:>8.2f}{total_cpu:>8.2f}")
    print("check stages (wall s): " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()))
    print(f"throughput end to end: {n / total_wall:,.0f} lines/s (target >= 200,000)")
    if with_835:
        print(
            f"X12 835 (built + written, reported apart): {x835.wall:.2f}s wall, {x835.cpu:.2f}s cpu "
            f"= {n / x835.wall:,.0f} lines/s"
        )
    print(f"peak memory (max RSS): {peak_gib:.2f} GiB (target <= 4 GiB)")
    caps = stages.get("caps", float("nan"))
    print(
        f"T1017 caps: engine cap stage {caps:.3f}s; hand-written SQL {hand.wall:.3f}s over the batch, "
        f"{hand_t.wall:.3f}s over the same {hand_rows.num_rows:,} T1017 lines in DuckDB"
    )
    print(
        f"ratio engine cap stage / hand-written: {caps / hand.wall:.2f}x (over the batch), "
        f"{caps / hand_t.wall:.2f}x (like for like) (target <= 1.5x)"
    )
    print(f"paid {s.paid:,} partial {s.partial:,} denied {s.denied:,}; paid units {s.paid_units:,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--population", type=Path, default=REPO / "data" / "bench-claims-pop")
    parser.add_argument("--members", type=int, default=58_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=REPO / "data" / "bench-claims-out")
    parser.add_argument("--no-authorizations", action="store_true", help="the bare population only")
    parser.add_argument("--all-columns", action="store_true", help="load every contract column")
    parser.add_argument("--no-835", action="store_true", help="skip the X12 835 stage")
    args = parser.parse_args()
    if not (args.population / "medical_claim.parquet").is_file():
        print(f"generating {args.members} members into {args.population} ...")
        generate_population(args.population, members=args.members, seed=11)
    args.out.mkdir(parents=True, exist_ok=True)
    source = build_input(args.population, args.lines, args.out)
    reference = population_reference(args.population)
    if not args.no_authorizations:
        authorizations, history = synthetic_authorizations(source)
        reference = dataclasses.replace(reference, authorizations=authorizations, history=history)
    run(
        source,
        reference,
        args.out,
        args.threads,
        all_columns=args.all_columns,
        with_835=not args.no_835,
    )


if __name__ == "__main__":
    main()
