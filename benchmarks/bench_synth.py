"""Benchmark `bhum synth`: members/s, claim lines/s and peak RSS for a baseline (10,000 members) and the
goal size (100,000 members × 1 year: ≤ 60 s and ≤ 2 GiB on 2 cores). Each size runs in its own process
so peak RSS is that run's own. Prints figures and ratios against the baseline; asserts nothing.

    python benchmarks/bench_synth.py                 # 10,000 and 100,000 members
    python benchmarks/bench_synth.py 10000 1000000   # any sizes; the first is the baseline
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_MEMBERS = 100_000
GOAL_SECONDS = 60.0
GOAL_RSS_GIB = 2.0


def run_one(members: int) -> dict[str, float]:
    from bhum.adapters.synth import generate_population

    with tempfile.TemporaryDirectory(prefix="bench_synth_") as tmp:
        started = time.perf_counter()
        summary = generate_population(Path(tmp), members=members, seed=42)
        seconds = time.perf_counter() - started
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "members": members,
        "seconds": seconds,
        "claim_lines": summary.claim_lines,
        "fills": summary.fills,
        "peak_rss_mib": peak_kib / 1024,
        "bytes": size,
    }


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        print(json.dumps(run_one(int(argv[1]))))
        return
    sizes = [int(a) for a in argv] or [10_000, GOAL_MEMBERS]
    results = []
    for members in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(members)], check=True, capture_output=True, text=True
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    base = results[0]
    print(
        f"{'members':>10} {'seconds':>8} {'members/s':>10} {'lines':>11} {'lines/s':>10} {'fills':>10} "
        f"{'peak MiB':>9} {'MB out':>7} {'x members':>9} {'x time':>7}"
    )
    for r in results:
        print(
            f"{r['members']:>10,} {r['seconds']:>8.1f} {r['members'] / r['seconds']:>10,.0f} "
            f"{r['claim_lines']:>11,} {r['claim_lines'] / r['seconds']:>10,.0f} {r['fills']:>10,} "
            f"{r['peak_rss_mib']:>9.0f} {r['bytes'] / 1e6:>7.0f} {r['members'] / base['members']:>9.1f} "
            f"{r['seconds'] / base['seconds']:>7.1f}"
        )
    for r in results:
        if r["members"] == GOAL_MEMBERS:
            ok = r["seconds"] <= GOAL_SECONDS and r["peak_rss_mib"] <= GOAL_RSS_GIB * 1024
            print(
                f"goal {GOAL_MEMBERS:,} members: {r['seconds']:.1f} s (≤ {GOAL_SECONDS:.0f}), "
                f"{r['peak_rss_mib'] / 1024:.2f} GiB (≤ {GOAL_RSS_GIB:.0f}) -> {'met' if ok else 'NOT met'}"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
