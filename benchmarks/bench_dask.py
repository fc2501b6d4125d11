"""Benchmark: chunked ``back_calculate`` + ``summarize`` on 2 dask threads against 1 thread.

Run ``python benchmarks/bench_dask.py [--quick] [--repeats R]``. For each case (40 plants
x 365 days x 8 biomarkers x 200 draws, and 100 plants x 90 days x 8 biomarkers x 500
draws) it builds the same lazy graph (same ``chunks``) and computes
``summarize(back_calculate(..., chunks=...))`` under
``dask.config.set(scheduler="threads", num_workers=1)`` and ``num_workers=2``, alternately,
``R`` times each, in one process. It prints the median wall time of each, their ratio
(1 thread / 2 threads; target >= 1.6 on 2 cores), the same ratio for the time inside
``dask.compute`` alone (a dask callback times it; the rest, graph building, input
validation and assembling the table, runs on one thread whatever the setting), whether
both gave the same table (bitwise), and ``os.getloadavg()`` before and after each run: the
machine must be quiet for a 2-thread figure to mean anything (other jobs take the second
core). As a control it first times a GIL-free numpy workload (``np.sort`` of 8 arrays on
a pool of 1 and of 2 threads): the speed-up the machine offers at that moment.

The ratio measures how much of the work releases the GIL: numpy's bulk generator fills, the
ziggurat's array steps, the chain's array products and the quantiles do; Python-level
per-key loops do not (``wbe/_draws.py`` keeps those to one call per scope and block).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_backcalc import make_inputs

from wbe.backcalc import back_calculate, summarize

#: (plants, days, biomarkers, draws, plants per chunk)
CASES = {"full": [(40, 365, 8, 200, 4), (100, 90, 8, 500, 10)],
         "quick": [(10, 365, 8, 200, 2), (20, 60, 8, 500, 4)]}


def _load() -> float:
    return os.getloadavg()[0]


def time_case(n_sites: int, n_days: int, n_bio: int, draws: int, chunk_sites: int,
              repeats: int) -> dict:
    """Median wall times [s] of the chunked back_calculate + summarize on 1 and 2 threads."""
    import dask

    samples, flows, sites = make_inputs(n_sites, n_days, n_bio)
    chunks = {"site": chunk_sites}

    from dask.callbacks import Callback

    class ComputeTimer(Callback):
        """Wall time [s] inside dask's scheduler (the part that can run in parallel)."""

        seconds = 0.0

        def _start(self, dsk):
            self._t0 = time.perf_counter()

        def _finish(self, dsk, state, errored):
            ComputeTimer.seconds += time.perf_counter() - self._t0

    def run(workers: int) -> tuple[float, float, pd.DataFrame]:
        ComputeTimer.seconds = 0.0
        with dask.config.set(scheduler="threads", num_workers=workers), ComputeTimer():
            t0 = time.perf_counter()
            ds = back_calculate(samples, sites, flows, n_draws=draws, seed=2024,
                                chunks=chunks, non_abuse=None)
            table = summarize(ds)
            return time.perf_counter() - t0, ComputeTimer.seconds, table

    run(2)  # warm-up (imports, registry cache)
    times = {1: [], 2: []}
    computes = {1: [], 2: []}
    loads = []
    tables = {}
    for _ in range(repeats):
        for workers in (1, 2):
            before = _load()
            t, c, tables[workers] = run(workers)
            times[workers].append(t)
            computes[workers].append(c)
            loads.append((before, _load()))
    same = tables[1].equals(tables[2])
    t1, t2 = float(np.median(times[1])), float(np.median(times[2]))
    c1, c2 = float(np.median(computes[1])), float(np.median(computes[2]))
    return {"sizes": {"sites": n_sites, "days": n_days, "biomarkers": n_bio, "draws": draws,
                      "sites_per_chunk": chunk_sites},
            "seconds_1_thread": t1, "seconds_2_threads": t2, "ratio": t1 / t2,
            "compute_seconds_1_thread": c1, "compute_seconds_2_threads": c2,
            "compute_ratio": c1 / c2,
            "serial_share_1_thread": (t1 - c1) / t1,
            "runs_1_thread": times[1], "runs_2_threads": times[2],
            "load_average_before_after": loads, "bitwise_equal_tables": same}


def machine_speedup(repeats: int = 3) -> float:
    """Speed-up [-] of 2 threads over 1 on a GIL-free numpy workload (``np.sort``), now."""
    from concurrent.futures import ThreadPoolExecutor

    arrays = [np.random.default_rng(i).random(2_000_000) for i in range(8)]
    times = {1: [], 2: []}
    for _ in range(repeats):
        for workers in (1, 2):
            t0 = time.perf_counter()
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(np.sort, arrays))
            times[workers].append(time.perf_counter() - t0)
    return float(np.median(times[1]) / np.median(times[2]))


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    results = []
    control = machine_speedup()
    print(f"cpus {os.cpu_count()}, load average at start {os.getloadavg()}; control: "
          f"GIL-free numpy sort on 2 threads vs 1: {control:.2f}x (what the machine offers)")
    for case in CASES["quick" if args.quick else "full"]:
        res = time_case(*case, repeats=args.repeats)
        s = res["sizes"]
        loads = ", ".join(f"{a:.2f}->{b:.2f}" for a, b in res["load_average_before_after"])
        print(f"{s['sites']} plants x {s['days']} days x {s['biomarkers']} biomarkers x "
              f"{s['draws']} draws, chunks of {s['sites_per_chunk']} plants: 1 thread "
              f"{res['seconds_1_thread']:.2f} s, 2 threads {res['seconds_2_threads']:.2f} s, "
              f"ratio 1/2 threads: {res['ratio']:.2f} (target >= 1.6); inside dask.compute "
              f"only: {res['compute_ratio']:.2f}; serial share (graph, validation, table "
              f"assembly) on 1 thread: {res['serial_share_1_thread']:.0%}; same table: "
              f"{res['bitwise_equal_tables']}; load average per run: {loads}")
        results.append(res)
    print(f"min ratio: {min(r['ratio'] for r in results):.2f} (control {control:.2f}, "
          f"load average at end {os.getloadavg()[0]:.2f})")
    for r in results:
        r["control_speedup_numpy_sort"] = control
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
