"""Baseline: the back-calculation chain written naively, pandas row by row.

This is how a first script usually looks: ``DataFrame.iterrows()`` over the samples, a
boolean-mask lookup of the flow and the population of each row, Monte Carlo draws of the
row's error factors (vectorised over draws only), the chain load -> consumption ->
per 1000 inhabitants, and the median and 95 % interval of each row appended to a list.
Global parameters (correction factor per biomarker) and populations are drawn once, like
``wbe.back_calculate`` does, so both compute the same quantity; only the random streams
differ (the medians agree to Monte Carlo error, printed as a check).

The same grid is then run through ``wbe.back_calculate`` + ``wbe.summarize`` and the ratio
naive / wbe is printed (higher = wbe faster). Run
``python benchmarks/bench_naive.py [n_sites] [n_days] [n_biomarkers] [draws]``
(default 10 x 60 x 4 x 1000). A script, not a test.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
from scipy import stats

import wbe.datasets
from wbe.backcalc import back_calculate, summarize

BIOMARKERS = ["methamphetamine", "ketamine", "mdma", "benzoylecgonine", "morphine",
              "amphetamine", "codeine", "methadone"]


def make_inputs(n_sites: int, n_days: int, n_bio: int, seed: int = 0):
    """Canonical samples, flows and sites tables for a complete grid."""
    rng = np.random.default_rng(seed)
    sites = [f"S{i:03d}" for i in range(n_sites)]
    days = pd.date_range("2024-01-01", periods=n_days, freq="D")
    idx = pd.MultiIndex.from_product([sites, days, BIOMARKERS[:n_bio]],
                                     names=["site", "sampled_on", "biomarker"])
    samples = idx.to_frame(index=False)
    samples["concentration_ng_per_l"] = rng.lognormal(4.0, 1.0, len(samples))
    samples["loq_ng_per_l"] = 1.0
    samples["censored"] = False
    flows = pd.MultiIndex.from_product([sites, days], names=["site", "date"]).to_frame(
        index=False)
    flows["flow_m3_per_day"] = rng.uniform(5e4, 5e5, len(flows))
    site_table = pd.DataFrame({"site": sites,
                               "population": rng.uniform(1e5, 2e6, n_sites).round(-3),
                               "residence_time_h": 0.0})
    return samples, flows, site_table


def naive_chain(samples, flows, sites, draws: int, seed: int = 1) -> pd.DataFrame:
    """Row-by-row chain: median and 95 % interval of consumption [mg/day/1000 inh.]."""
    rng = np.random.default_rng(seed)
    params = wbe.datasets.biomarker_parameters("default")
    unc = wbe.datasets.load_measurement_uncertainty().set_index("component")
    sd_meas = np.hypot(np.sqrt(np.log1p(unc.loc["sampling", "cv"] ** 2)),
                       np.sqrt(np.log1p(unc.loc["chemical_analysis", "cv"] ** 2)))
    sd_flow = np.sqrt(np.log1p(unc.loc["flow", "cv"] ** 2))
    pop_cv = float(unc.loc["population", "cv"])
    cf = {}
    for b in samples["biomarker"].unique():  # excretion fraction drawn, CF derived
        row = params.loc[b]
        ratio = row["parent_molar_mass_g_per_mol"] / row["molar_mass_g_per_mol"]
        exc = stats.truncnorm.rvs(-row["excretion_fraction"] / row["excretion_fraction_sd"],
                                  np.inf, loc=row["excretion_fraction"],
                                  scale=row["excretion_fraction_sd"], size=draws,
                                  random_state=rng) \
            if np.isfinite(row.get("excretion_fraction_sd", np.nan)) \
            else np.full(draws, row["excretion_fraction"])
        cf[b] = ratio / exc
    pop = {}
    for _, s in sites.iterrows():
        pop[s["site"]] = np.maximum(rng.normal(s["population"], pop_cv * s["population"],
                                               draws), 1.0)
    out = []
    for _, r in samples.iterrows():
        q = flows.loc[(flows["site"] == r["site"]) & (flows["date"] == r["sampled_on"]),
                      "flow_m3_per_day"].iloc[0]
        load = (r["concentration_ng_per_l"] * q * 1e-3
                * np.exp(rng.normal(0.0, sd_meas, draws) + rng.normal(0.0, sd_flow, draws)))
        per1000 = load * cf[r["biomarker"]] * 1000.0 / pop[r["site"]]
        lo, med, hi = np.quantile(per1000, [0.025, 0.5, 0.975])
        out.append({"site": r["site"], "date": r["sampled_on"], "biomarker": r["biomarker"],
                    "median": med, "lower_95": lo, "upper_95": hi})
    return pd.DataFrame(out)


def run(n_sites=10, n_days=60, n_bio=4, draws=1000) -> dict:
    samples, flows, sites = make_inputs(n_sites, n_days, n_bio)
    wbe.datasets.biomarker_parameters("default")  # warm the registry cache
    t0 = time.perf_counter()
    naive = naive_chain(samples, flows, sites, draws)
    t_naive = time.perf_counter() - t0
    t0 = time.perf_counter()
    ds = back_calculate(samples, sites, flows, n_draws=draws, seed=1)
    table = summarize(ds, levels=(0.95,), variables=["consumption_mg_per_day_per_1000"])
    t_wbe = time.perf_counter() - t0
    merged = naive.merge(table, on=["site", "date", "biomarker"], suffixes=("_naive", ""))
    rel = np.abs(merged["median_naive"] / merged["median"] - 1.0)
    return {"benchmark": "naive_chain", "baseline": "naive pandas row-by-row chain",
            "cells": len(samples), "draws": draws, "seconds_baseline": t_naive,
            "seconds": t_wbe, "ratio": t_naive / t_wbe,
            "median_rel_diff_p95": float(np.quantile(rel, 0.95))}


def report(res: dict) -> None:
    print(f"naive pandas row-by-row chain, {res['cells']} samples x {res['draws']} draws: "
          f"{res['seconds_baseline']:.2f} s")
    print(f"wbe.back_calculate + summarize (all five variables): {res['seconds']:.2f} s")
    print(f"speed-up naive / wbe: {res['ratio']:.1f}x (95th percentile of the relative "
          f"difference of medians, Monte Carlo error only: {res['median_rel_diff_p95']:.3f})")


def main(argv=None) -> dict:
    args = [int(a) for a in (argv or [])]
    res = run(*args)
    report(res)
    return res


if __name__ == "__main__":
    main(sys.argv[1:])
