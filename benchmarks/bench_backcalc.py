"""Benchmark: in-memory ``back_calculate`` against its physical floor, and where its time goes.

Run ``python benchmarks/bench_backcalc.py [n_sites] [n_days] [n_biomarkers] [draws]``
(default 30 x 365 x 8 x 100; single process). It times, interleaved
``repeats`` times in the same process (medians printed),

1. the **physical floor**, written out in numpy below (:func:`physical_floor`): one
   log-normal per cell and draw (``default_rng().standard_normal``, scaled, ``exp``), times
   the cell's load, and the four products that fill the other output arrays (consumption,
   per 1000 inhabitants, doses, users) from per-(site, biomarker, draw) factors;
2. ``wbe.back_calculate`` over the same grid (in memory, ``non_abuse=None``: the floor has
   no subtraction; five variables with every draw, plus the log-variance budget);

and their ratio (target <= 1.2). It then profiles one ``back_calculate`` with
cProfile and prints the share of the keyed draws (``wbe._draws`` and the kernel's
``_day_grid``): the numeric bulk (generator words, their conversion to uniforms, the
ziggurat transform to normals with the finish of its rejected words), scipy ``ppf`` of
the per-key global draws, and the rest, the keyed-draw *bookkeeping* (hashing, re-keying,
loops, slicing; target < 10 %).

With ``--overhead`` it instead times what ``back_calculate`` does outside the Monte Carlo
kernel (input validation, parameters, the Dataset and its provenance: the call minus the
time inside ``_montecarlo``, and ``prepare`` alone) against a plain pandas floor of
reading the same samples frame (:func:`pandas_floor`), with populations fixed (the
repeated-call case) and changed per run (a new sites table each call).

With ``--lazy`` it instead times ``back_calculate(..., chunks=2)`` (dask-backed) followed
by ``summarize`` and prints the peak memory of that route. A script, not a test: timings
depend on the machine (record the load average printed).
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


def physical_floor(rng, base, factors, sigma: float, draws: int) -> list[np.ndarray]:
    """The floor: one log-normal per cell and draw, times the cell's load, and the four
    products that fill the other output arrays (``factors``: (site, 1, biomarker, draw))."""
    z = rng.standard_normal((*base.shape, draws))
    z *= sigma
    np.exp(z, out=z)
    z *= base[..., None]
    return [z, *(z * f for f in factors)]


def pandas_floor(samples: pd.DataFrame) -> None:
    """The floor of reading the samples frame: factorise site, day and biomarker, and the
    value columns as numpy arrays."""
    for column in ("site", "sampled_on", "biomarker"):
        pd.factorize(samples[column])
    for column in ("concentration_ng_per_l", "loq_ng_per_l", "censored", "source_row"):
        samples[column].to_numpy()


def _outside_montecarlo(samples, sites, flows, draws: int) -> tuple[float, float]:
    """Wall and CPU seconds of one ``back_calculate`` outside ``_montecarlo`` (timed by a
    wrapper around it)."""
    from wbe import _backcalc_kernel as kernel

    inner_wall, inner_cpu = [], []
    montecarlo = kernel._montecarlo

    def timed(*args, **kwargs):
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            return montecarlo(*args, **kwargs)
        finally:
            inner_wall.append(time.perf_counter() - t0)
            inner_cpu.append(time.process_time() - c0)

    kernel._montecarlo = timed
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        ds = back_calculate(samples, sites, flows, n_draws=draws, seed=2024, non_abuse=None)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    finally:
        kernel._montecarlo = montecarlo
    del ds  # freed outside the timed region
    return wall - sum(inner_wall), cpu - sum(inner_cpu)


def main_overhead(n_sites=30, n_days=365, n_bio=8, draws=100, repeats=7):
    """Time outside the Monte Carlo kernel, and ``prepare`` alone, against
    :func:`pandas_floor` (medians of interleaved runs)."""
    from wbe._backcalc_validation import prepare

    samples, flows, sites = make_inputs(n_sites, n_days, n_bio)
    back_calculate(samples.iloc[:50], sites, flows, n_draws=2, seed=1, non_abuse=None)
    names = ("floor", "prepare", "outside", "outside_new_sites")
    times = {name: [] for name in names}  # wall seconds
    cpu = {name: [] for name in names}  # process_time seconds (less sensitive to load)

    def timed(name, func, *args):
        t0, c0 = time.perf_counter(), time.process_time()
        func(*args)
        times[name].append(time.perf_counter() - t0)
        cpu[name].append(time.process_time() - c0)

    for k in range(repeats):  # interleaved: all see the same machine load
        timed("floor", pandas_floor, samples)
        timed("prepare", prepare, samples, sites, flows, "draw", None)
        fresh = sites.assign(population=sites["population"] + k + 1)  # new populations
        for name, table in (("outside", sites), ("outside_new_sites", fresh)):
            wall, cpu_s = _outside_montecarlo(samples, table, flows, draws)
            times[name].append(wall)
            cpu[name].append(cpu_s)
    med = {name: float(np.median(t)) for name, t in times.items()}
    med_cpu = {name: float(np.median(t)) for name, t in cpu.items()}
    print(f"grid: {n_sites} sites x {n_days} days x {n_bio} biomarkers x {draws} draws "
          f"({len(samples)} sample rows); load average {os.getloadavg()[0]:.2f}; "
          f"medians of {repeats}")
    labels = {"floor": "pandas floor (factorize keys + value columns to numpy)",
              "prepare": "prepare (input validation) alone",
              "outside": "back_calculate outside _montecarlo (same sites each call)",
              "outside_new_sites": "back_calculate outside _montecarlo (new populations)"}
    for name, label in labels.items():
        runs = ", ".join(f"{t * 1e3:.1f}" for t in times[name])
        ratio = "" if name == "floor" else (
            f"  ratio to floor {med[name] / med['floor']:.1f} (CPU "
            f"{med_cpu[name] / med_cpu['floor']:.1f})")
        print(f"{label:58s} {med[name] * 1e3:7.1f} ms (CPU {med_cpu[name] * 1e3:.1f}){ratio}"
              f"  (runs: {runs})")


#: Numeric entry points of the keyed draws: generator words, uniforms, the ziggurat transform
#: and the finish of its rejected words.
_BULK = {"_words", "_to_uniform", "_words_to_normals", "_finish_rejected"}


def _profile_shares(n_draws: int, samples, flows, sites) -> dict[str, float]:
    """Shares [-] of one profiled ``back_calculate``: keyed draws in all, their numeric bulk,
    scipy ppf of per-key draws, and the bookkeeping (the keyed draws minus both)."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    back_calculate(samples, sites, flows, n_draws=n_draws, seed=2024, non_abuse=None)
    prof.disable()
    stats = pstats.Stats(prof).stats  # (file, line, name) -> (cc, nc, tt, ct, callers)

    def is_draws(func):
        return func[0].endswith("_draws.py") or func[2] == "_day_grid"

    total = max(ct for (_, _, name), (_, _, _, ct, _) in stats.items()
                if name == "back_calculate")
    keyed = bulk = ppf = 0.0
    for func, (_, _, _, _ct, callers) in stats.items():
        outside = sum(c[3] for caller, c in callers.items() if not is_draws(caller))
        inside = sum(c[3] for caller, c in callers.items() if is_draws(caller))
        if is_draws(func):
            keyed += outside  # entry points into the keyed draws
        else:  # work the kernel hands to _day_grid (turning a scope's draws into loads)
            keyed -= sum(c[3] for caller, c in callers.items() if caller[2] == "_day_grid")
        if func[2] in _BULK or "of 'numpy.random._generator.Generator'" in func[2]:
            bulk += sum(c[3] for caller, c in callers.items()  # not twice when nested
                        if is_draws(caller) and caller[2] not in _BULK | {"_ziggurat_slow"})
        elif func[2] == "ppf" and "_distn_infrastructure" in func[0]:
            ppf += inside
    return {"keyed": keyed / total, "bulk": bulk / total, "ppf": ppf / total,
            "bookkeeping": (keyed - bulk - ppf) / total, "seconds_profiled": total}


def main(n_sites=30, n_days=365, n_bio=8, draws=100, repeats=5):
    samples, flows, sites = make_inputs(n_sites, n_days, n_bio)
    wbe.datasets.biomarker_parameters("default")  # warm the registry cache
    rng = np.random.default_rng(12345)
    base = rng.lognormal(4.0, 1.0, (n_sites, n_days, n_bio))
    factors = [rng.lognormal(0.0, 0.3, (n_sites, 1, n_bio, draws)) for _ in range(4)]
    back_calculate(samples.iloc[:50], sites, flows, n_draws=2, seed=1, non_abuse=None)
    t_floor, t_wbe, c_floor, c_wbe = [], [], [], []
    for _ in range(repeats):  # interleaved: both see the same machine load
        t0, c0 = time.perf_counter(), time.process_time()
        out = physical_floor(rng, base, factors, 0.25, draws)
        t_floor.append(time.perf_counter() - t0)
        c_floor.append(time.process_time() - c0)
        del out
        t0, c0 = time.perf_counter(), time.process_time()
        ds = back_calculate(samples, sites, flows, n_draws=draws, seed=2024, non_abuse=None)
        t_wbe.append(time.perf_counter() - t0)
        c_wbe.append(time.process_time() - c0)
        del ds
    floor, wbe_s = float(np.median(t_floor)), float(np.median(t_wbe))
    cpu_ratio = float(np.median(c_wbe) / np.median(c_floor))
    shares = _profile_shares(draws, samples, flows, sites)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"grid: {n_sites} sites x {n_days} days x {n_bio} biomarkers x {draws} draws "
          f"= {n_sites * n_days * n_bio * draws:.3g} values; pid {os.getpid()}; "
          f"load average {os.getloadavg()[0]:.2f}; medians of {repeats}")
    print(f"physical floor (log-normal per cell-draw + 5 output arrays): {floor:8.3f} s "
          f"(runs: {', '.join(f'{t:.3f}' for t in t_floor)})")
    print(f"wbe.back_calculate (in memory, 5 variables, all draws): {wbe_s:8.3f} s "
          f"(runs: {', '.join(f'{t:.3f}' for t in t_wbe)})")
    print(f"ratio back_calculate / floor: {wbe_s / floor:.2f} (target <= 1.2)")
    print(f"CPU-time ratio (process_time, less sensitive to other jobs): {cpu_ratio:.2f} "
          f"(floor {np.median(c_floor):.3f} s, wbe {np.median(c_wbe):.3f} s)")
    print(f"profile of one back_calculate ({shares['seconds_profiled']:.2f} s under cProfile):"
          f" keyed draws {shares['keyed']:.1%} = numeric bulk {shares['bulk']:.1%} + scipy "
          f"ppf of per-key draws {shares['ppf']:.1%} + bookkeeping {shares['bookkeeping']:.1%}")
    print(f"keyed-draw bookkeeping share: {shares['bookkeeping']:.1%} (target < 10 %)")
    print(f"peak resident memory: {peak_mb:.0f} MB")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:] if not a.startswith("--")]
    if "--lazy" in sys.argv:
        main_lazy(*args)
    elif "--overhead" in sys.argv:
        main_overhead(*args)
    else:
        main(*args)
