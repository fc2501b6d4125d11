"""Benchmark: Monte Carlo back-calculation vs drawing the same number of standard normals.

Run ``python benchmarks/bench_backcalc.py [n_sites] [n_days] [n_biomarkers] [draws]``
(default 300 x 365 x 8 x 1000, single process). With ``--lazy`` it instead times
``back_calculate(..., chunks=2)`` (dask-backed) followed by ``summarize`` and prints the
peak memory of that route. Without it, it prints the time of

1. the baseline: ``numpy.random.default_rng().standard_normal`` for
   ``n_sites * n_days * n_biomarkers * draws`` numbers (in blocks of one site-chunk);
2. ``wbe.back_calculate`` over the same grid (all five variables with every draw), run
   site-chunk by site-chunk (draws are keyed, so chunks give the same numbers as one
   call); each chunk is reduced to 95 % intervals of one variable and dropped before the
   next (the quantile time is printed separately, not in the ratio);

their ratio (target <= 3) and the peak resident memory of the process (ru_maxrss),
which the chunk size bounds. A script, not a test: timings depend on the machine.
"""

from __future__ import annotations

import os
import resource
import sys
import time

import numpy as np
import pandas as pd

import wbe.datasets
from wbe.backcalc import back_calculate, summarize

BIOMARKERS = ["methamphetamine", "amphetamine", "mdma", "ketamine", "norketamine",
              "benzoylecgonine", "morphine", "codeine", "methadone", "eddp", "thc_cooh"]


def make_inputs(n_sites: int, n_days: int, n_bio: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    sites = [f"S{i:03d}" for i in range(n_sites)]
    days = pd.date_range("2024-01-01", periods=n_days, freq="D")
    bios = BIOMARKERS[:n_bio]
    idx = pd.MultiIndex.from_product([sites, days, bios], names=["site", "sampled_on",
                                                                  "biomarker"])
    samples = idx.to_frame(index=False)
    samples["concentration_ng_per_l"] = rng.lognormal(4.0, 1.0, len(samples))
    samples["loq_ng_per_l"] = 1.0
    samples["censored"] = False
    samples["source_row"] = np.arange(2, len(samples) + 2)
    fidx = pd.MultiIndex.from_product([sites, days], names=["site", "date"])
    flows = fidx.to_frame(index=False)
    flows["flow_m3_per_day"] = rng.uniform(5e4, 5e5, len(flows))
    site_table = pd.DataFrame({"site": sites,
                               "population": rng.uniform(1e5, 2e6, n_sites).round(-3),
                               "residence_time_h": rng.uniform(1, 12, n_sites)})
    return samples, flows, site_table


def main_lazy(n_sites=300, n_days=365, n_bio=8, draws=1000, chunk_sites=2):
    """``back_calculate(..., chunks=)`` (dask-backed) + ``summarize``: time and peak memory."""
    samples, flows, sites = make_inputs(n_sites, n_days, n_bio)
    t0 = time.perf_counter()
    ds = back_calculate(samples, sites, flows, n_draws=draws, seed=2024, chunks=chunk_sites)
    table = summarize(ds, variables=["consumption_mg_per_day_per_1000"])
    t = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"lazy back_calculate(chunks={chunk_sites}) + summarize of one variable over "
          f"{n_sites} x {n_days} x {n_bio} x {draws}: {t:.2f} s, {len(table)} rows")
    print(f"peak resident memory: {peak_mb:.0f} MB")


def main(n_sites=300, n_days=365, n_bio=8, draws=1000, chunk_sites=2):
    samples, flows, sites = make_inputs(n_sites, n_days, n_bio)
    wbe.datasets.biomarker_parameters("default")  # warm the registry cache
    n_total = n_sites * n_days * n_bio * draws
    block = chunk_sites * n_days * n_bio * draws

    rng = np.random.default_rng(12345)
    t0 = time.perf_counter()
    done = 0
    while done < n_total:
        m = min(block, n_total - done)
        z = rng.standard_normal(m)
        done += m
    del z
    t_base = time.perf_counter() - t0

    t0 = time.perf_counter()
    by_site_s = dict(tuple(samples.groupby("site", sort=False)))
    by_site_f = dict(tuple(flows.groupby("site", sort=False)))
    names = sites["site"].tolist()
    summaries = []
    t_summary = 0.0
    for start in range(0, n_sites, chunk_sites):
        chunk = names[start:start + chunk_sites]
        s = pd.concat([by_site_s[c] for c in chunk])
        f = pd.concat([by_site_f[c] for c in chunk])
        ds = back_calculate(s, sites[sites["site"].isin(chunk)], f, n_draws=draws, seed=2024)
        t1 = time.perf_counter()
        q = np.quantile(ds["consumption_mg_per_day_per_1000"].values, [0.025, 0.5, 0.975],
                        axis=-1)
        summaries.append(q[1].mean())
        t_summary += time.perf_counter() - t1
        del ds
    t_wbe = time.perf_counter() - t0 - t_summary
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"grid: {n_sites} sites x {n_days} days x {n_bio} biomarkers x {draws} draws "
          f"= {n_total:.3g} values; chunks of {chunk_sites} sites; pid {os.getpid()}")
    print(f"baseline numpy standard_normal: {t_base:8.2f} s")
    print(f"wbe.back_calculate (5 variables, all draws): {t_wbe:8.2f} s")
    print(f"ratio back_calculate / baseline: {t_wbe / t_base:.2f} (target <= 3)")
    print(f"(not in the ratio) quantiles of one variable per chunk: {t_summary:8.2f} s")
    print(f"peak resident memory: {peak_mb:.0f} MB")


if __name__ == "__main__":
    lazy = "--lazy" in sys.argv
    args = [int(a) for a in sys.argv[1:] if a != "--lazy"]
    (main_lazy if lazy else main)(*args)
