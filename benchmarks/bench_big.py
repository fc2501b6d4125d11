"""Benchmark: a back-calculation whose draws do not fit in RAM, reduced chunk by chunk.

Default case: 5,000 plants x 52 weekly samples x 12 biomarkers x 2,000 draws = 6.24e9
draws per variable (50 GB of float64 each, 250 GB for the five output variables). It runs
``back_calculate(..., chunks={"site": k})`` (dask-backed), ``period_mean(..., "MS")`` of
three variables and ``summarize`` of the monthly means, all lazily, with ONE
``dask.compute`` pass over the blocks: each block of ``k`` plants is drawn, reduced to
monthly means and quantiles, and dropped. Prints the wall time, throughput (draws of one
variable per second, i.e. site-date-biomarker cells x draws / s), and the peak resident
memory of the process (``resource.getrusage``), next to the size the full draws would take.

Run ``python benchmarks/bench_big.py`` (several minutes on 2 cores) or with ``--small``
(200 plants, ~30 s); ``--sites N --draws D --chunk K --workers W`` override the sizes.
The baseline, timed in the same run, is drawing the same number of standard normals from
one ``numpy.random.default_rng`` (the RNG floor; one thread, so the ratio understates the
chain's cost per core when ``--workers`` > 1).
A script, not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import dask
import numpy as np
import pandas as pd

from wbe.aggregate import period_mean
from wbe.backcalc import back_calculate, summarize
from wbe.scale import block_memory_bytes

BIOMARKERS = ["methamphetamine", "amphetamine", "mdma", "ketamine", "norketamine",
              "benzoylecgonine", "cotinine", "morphine", "codeine", "methadone", "eddp",
              "thc_cooh"]
VARIABLES = ["load_mg_per_day", "consumption_mg_per_day", "consumption_mg_per_day_per_1000"]


def make_weekly_inputs(n_sites: int, n_weeks: int = 52, n_bio: int = 12, seed: int = 0):
    """Synthetic canonical tables: one 24-h sample a week per plant and biomarker."""
    rng = np.random.default_rng(seed)
    sites = [f"S{i:05d}" for i in range(n_sites)]
    days = pd.date_range("2024-01-02", periods=n_weeks, freq="7D")
    bios = BIOMARKERS[:n_bio]
    idx = pd.MultiIndex.from_product([sites, days, bios],
                                     names=["site", "sampled_on", "biomarker"])
    samples = idx.to_frame(index=False)
    samples["concentration_ng_per_l"] = rng.lognormal(3.5, 1.0, len(samples))
    samples["loq_ng_per_l"] = 1.0
    samples["censored"] = False
    samples["source_row"] = np.arange(2, len(samples) + 2)
    flows = pd.MultiIndex.from_product([sites, days], names=["site", "date"]).to_frame(
        index=False)
    flows["flow_m3_per_day"] = rng.uniform(5e3, 5e5, len(flows))
    site_table = pd.DataFrame({"site": sites,
                               "population": rng.uniform(2e4, 2e6, n_sites).round(-3),
                               "residence_time_h": rng.uniform(1, 12, n_sites)})
    return samples, flows, site_table


def run(n_sites=5000, n_weeks=52, n_bio=12, draws=2000, chunk_sites=4, workers=2,
        seed=2024, floor=True) -> dict:
    """Build the lazy chain, compute it in one pass; return the measured figures."""
    samples, flows, sites = make_weekly_inputs(n_sites, n_weeks, n_bio)
    cells = n_sites * n_weeks * n_bio
    t_floor = None
    if floor:  # baseline: the same number of normals from one default_rng, block by block
        rng = np.random.default_rng(12345)
        block = chunk_sites * n_weeks * n_bio * draws
        t0 = time.perf_counter()
        done = 0
        while done < cells * draws:
            rng.standard_normal(min(block, cells * draws - done))
            done += block
        t_floor = time.perf_counter() - t0
    t0 = time.perf_counter()
    ds = back_calculate(samples, sites, flows, n_draws=draws, seed=seed,
                        chunks={"site": chunk_sites})
    monthly = period_mean(ds.drop_dims("component"), "MS", variables=VARIABLES, seed=seed)
    t_graph = time.perf_counter() - t0
    with dask.config.set(scheduler="threads", num_workers=workers):
        table = summarize(monthly)
    t_total = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "benchmark": "big_lazy_chain",
        "sites": n_sites, "weeks": n_weeks, "biomarkers": n_bio, "draws": draws,
        "chunk_sites": chunk_sites, "workers": workers,
        "draws_per_variable": cells * draws,
        "full_draws_gb_per_variable": cells * draws * 8 / 1e9,
        "full_draws_gb_all_variables": cells * draws * 8 * 5 / 1e9,
        "block_mb_formula": block_memory_bytes(chunk_sites, n_weeks, n_bio, draws) / 1e6,
        "seconds_graph": t_graph,
        "seconds": t_total,
        "baseline": "numpy RNG floor (default_rng.standard_normal, same count, one thread)",
        "seconds_baseline": t_floor,
        "ratio": None if t_floor is None else t_total / t_floor,
        "draws_per_second": cells * draws / t_total,
        "peak_rss_mb": peak_mb,
        "summary_rows": len(table),
        "median_of_monthly_medians": float(np.median(table["median"])),
    }


def report(res: dict) -> None:
    print(f"big case: {res['sites']} plants x {res['weeks']} weeks x {res['biomarkers']} "
          f"biomarkers x {res['draws']} draws = {res['draws_per_variable']:.3g} draws per "
          f"variable ({res['full_draws_gb_per_variable']:.1f} GB each, "
          f"{res['full_draws_gb_all_variables']:.0f} GB for the five variables)")
    print(f"chain: back_calculate(chunks={{'site': {res['chunk_sites']}}}) -> period_mean(MS, "
          f"{len(VARIABLES)} variables) -> summarize, one pass, {res['workers']} threads")
    print(f"time {res['seconds']:.1f} s (graph {res['seconds_graph']:.1f} s); throughput "
          f"{res['draws_per_second'] / 1e6:.1f} M draws/s per variable")
    if res["ratio"] is not None:
        print(f"baseline numpy RNG floor {res['seconds_baseline']:.1f} s; ratio chain / "
              f"floor {res['ratio']:.2f}")
    print(f"peak resident memory {res['peak_rss_mb']:.0f} MB (block formula "
          f"{res['block_mb_formula']:.0f} MB per block in flight); "
          f"{res['summary_rows']} summary rows")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="200 plants instead of 5,000")
    parser.add_argument("--sites", type=int)
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--chunk", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-floor", action="store_true", help="skip the RNG baseline")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    n_sites = args.sites or (200 if args.small else 5000)
    res = run(n_sites, draws=args.draws, chunk_sites=args.chunk, workers=args.workers,
              floor=not args.no_floor)
    report(res)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=2)
    return res


if __name__ == "__main__":
    main(sys.argv[1:])
