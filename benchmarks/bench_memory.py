"""Out-of-core memory: a grid whose draws would take 30 GB, reduced under a 2 GB peak.

The lazy chain of ``bench_big.py`` (``back_calculate(..., chunks={"site": k})`` ->
``period_mean("MS", 3 variables)`` -> ``summarize``, one pass, 2 threads) runs in a fresh
subprocess, so that its peak resident memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``
read inside the child at the end) is the chain's own and not that of earlier benchmarks.
Default grid: 601 plants x 52 weekly samples x 12 biomarkers x 2,000 draws = 7.50e8
draws per variable, 6.0 GB per variable and 30.0 GB for the five output variables of
``back_calculate``. The child also reports its resident memory after the imports and the
synthetic inputs (before any draw), the fixed part of the peak.

The figure of merit is the peak RSS against the 2 GB budget and against the size the
draws would take in memory (ratio peak / full draws). Run
``python benchmarks/bench_memory.py [--sites N] [--draws D] [--chunk K]``
(about 2-4 minutes on 2 shared cores at the default size). A script, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUDGET_MB = 2000.0

_CHILD = r"""
import json, resource, sys
sys.path.insert(0, {here!r})
import bench_big
samples, flows, sites = bench_big.make_weekly_inputs({sites})
before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
del samples, flows, sites
res = bench_big.run({sites}, draws={draws}, chunk_sites={chunk}, workers={workers},
                    floor=False)
res["rss_before_draws_mb"] = before_mb
print("RESULT " + json.dumps(res))
"""


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=601)
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--chunk", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    code = _CHILD.format(here=str(HERE), sites=args.sites, draws=args.draws,
                         chunk=args.chunk, workers=args.workers)
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    wall = time.perf_counter() - t0
    load_after = os.getloadavg()
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
    res = json.loads(line[len("RESULT "):])
    full_mb = res["full_draws_gb_all_variables"] * 1e3
    ratio = res["peak_rss_mb"] / full_mb
    print(f"grid {res['sites']} plants x {res['weeks']} weeks x {res['biomarkers']} "
          f"biomarkers x {res['draws']} draws: the five variables' draws would take "
          f"{res['full_draws_gb_all_variables']:.1f} GB "
          f"({res['full_draws_gb_per_variable']:.1f} GB each)")
    print(f"lazy chain in a subprocess, chunks of {res['chunk_sites']} plants, "
          f"{res['workers']} threads: {res['seconds']:.0f} s, {res['summary_rows']} summary "
          f"rows (load average {load_before[0]:.2f} -> {load_after[0]:.2f})")
    print(f"peak RSS {res['peak_rss_mb']:.0f} MB (budget {BUDGET_MB:.0f} MB: "
          f"{'within' if res['peak_rss_mb'] < BUDGET_MB else 'OVER'}); "
          f"{res['rss_before_draws_mb']:.0f} MB after imports and inputs")
    print(f"ratio peak RSS / full draws: {ratio:.4f}")
    return {"benchmark": "memory", "sizes": {k: res[k] for k in
                                             ("sites", "weeks", "biomarkers", "draws",
                                              "chunk_sites", "workers")},
            "baseline": "size of the five variables' draws held in memory (float64)",
            "full_draws_mb": full_mb, "peak_rss_mb": res["peak_rss_mb"],
            "rss_before_draws_mb": res["rss_before_draws_mb"], "budget_mb": BUDGET_MB,
            "within_budget": res["peak_rss_mb"] < BUDGET_MB, "ratio": ratio,
            "seconds": res["seconds"], "wall_seconds_subprocess": wall,
            "load_average": [load_before, load_after]}


if __name__ == "__main__":
    main(sys.argv[1:])
