"""Peak memory of an in-memory ``back_calculate`` against the size of its output arrays.

Run ``python benchmarks/bench_backcalc_memory.py [n_sites] [n_days] [n_biomarkers] [draws]``
(default 30 x 365 x 8 x 100, the grid of ``bench_backcalc.py``). The call runs in a fresh
subprocess so that its high-water mark (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) is
its own: the script records the resident memory after the imports, the synthetic inputs
and a warm-up call on a few rows, then the peak after one full ``back_calculate``, and
prints

    (peak - before) / bytes of the returned Dataset's arrays

(target <= 1.3: the Monte Carlo fills its output arrays in place and keeps no full-size
temporary beyond them). A script, not a test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CHILD = """
import json, resource, sys
sys.path.insert(0, {here!r})
from bench_backcalc import make_inputs
from wbe.backcalc import back_calculate
samples, flows, sites = make_inputs({n_sites}, {n_days}, {n_bio})
back_calculate(samples.iloc[:50], sites, flows, n_draws=2, seed=1, non_abuse=None)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
ds = back_calculate(samples, sites, flows, n_draws={draws}, seed=2024, non_abuse=None)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = sum(v.nbytes for v in ds.variables.values())
print(json.dumps({{"before_kb": before, "peak_kb": peak, "output_bytes": out}}))
"""


def main(n_sites=30, n_days=365, n_bio=8, draws=100) -> dict:
    code = CHILD.format(here=str(Path(__file__).resolve().parent), n_sites=n_sites,
                        n_days=n_days, n_bio=n_bio, draws=draws)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    res = json.loads(run.stdout.strip().splitlines()[-1])
    grown_mb = (res["peak_kb"] - res["before_kb"]) / 1024
    out_mb = res["output_bytes"] / 2**20
    ratio = grown_mb / out_mb
    print(f"grid: {n_sites} sites x {n_days} days x {n_bio} biomarkers x {draws} draws; "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"resident before the call {res['before_kb'] / 1024:.0f} MB, peak "
          f"{res['peak_kb'] / 1024:.0f} MB: the call added {grown_mb:.0f} MB")
    print(f"output arrays {out_mb:.0f} MB; ratio added / output: {ratio:.2f} (target <= 1.3)")
    return {**res, "ratio": ratio}


if __name__ == "__main__":
    main(*[int(a) for a in sys.argv[1:]])
