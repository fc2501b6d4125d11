"""Validation of back-calculation intervals on a scenario grid (issue 12 item 6).

An INDEPENDENT forward simulator: its own numpy code from consumption to measured
concentrations (it does not import ``wbe`` and shares no code with the estimator or with
``wbe.datasets.simulate``), reading the registry CSV files directly for the truth. It can
depart from the estimator's assumptions, cell by cell:

- ``matched``: truth drawn per city from the registry's ``default`` set (excretion
  fractions normal, truncated to (0, 1]); sampling, analysis and flow errors log-normal
  with CV 0.10; served population log-normal around the declared one with CV 0.20 (the
  estimator assumes a truncated normal: a small departure);
- ``systematic p5`` / ``p95``: one world shared by every city, with every correction factor
  at its 5th (excretion fraction at its 95th) or 95th percentile;
- ``censoring 10/30/60 %``: the LOQ of each biomarker at that quantile of the measured
  concentrations;
- ``sampling CV 0.3``: time-proportional sampling, declared in the sites table
  (``sampling_mode``) or not;
- ``population CV 0.4``: population from design capacity, declared
  (``population_method="design"``) or not;
- ``in-sewer loss 25 %``: a quarter of the load lost in the sewer, undeclared.

Every cell is estimated with the library defaults (``parameters="mixture"``,
``censoring="draw"``), plus the matched cell conditional on the ``default`` set. Output: a
Markdown table of 50 % and 95 % coverage of the true consumption per 1000 inhabitants and of
the bias of the median (median over cells of log(median / truth), in %), for censored and
uncensored days separately.

Run ``python benchmarks/validation_grid.py [n_cities] [--write-docs]``; the slow test
``tests/wbe/test_validation_grid.py`` runs it with fixed seeds and checks the acceptance
line. With ``--write-docs`` the table replaces the block between the markers in
``docs/methods-backcalculation.md``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "datasets" / "data"
BIOMARKERS = ("methamphetamine", "ketamine", "mdma", "benzoylecgonine")
DAYS = 7
#: daily consumption per 1000 inhabitants: log-normal median [mg/day/1000] and log-sd
#: (orders of magnitude of Chinese and European WBE surveys; only the spread matters here)
CONSUMPTION = {"methamphetamine": (60.0, 0.6), "ketamine": (15.0, 0.8),
               "mdma": (5.0, 0.8), "benzoylecgonine": (100.0, 0.7)}


@dataclass(frozen=True)
class Scenario:
    name: str
    sampling_cv: float = 0.10
    analysis_cv: float = 0.10
    flow_cv: float = 0.10
    population_cv: float = 0.20
    censored_share: float = 0.0
    world: str = "per-city"  # or "p5", "p95" (one world for all cities)
    loss: float = 0.0
    sampling_mode: str | None = None  # declared in the sites table
    population_method: str | None = None
    parameters: str = "mixture"
    claimed: bool = True  # do the defaults claim to handle this cell?


SCENARIOS = (
    Scenario("matched"),
    Scenario("matched, conditional on the default set", parameters="default"),
    Scenario("systematic parameters at p5 (one world)", world="p5", claimed=False),
    Scenario("systematic parameters at p95 (one world)", world="p95", claimed=False),
    Scenario("censoring 10 %", censored_share=0.10),
    Scenario("censoring 30 %", censored_share=0.30),
    Scenario("censoring 60 %", censored_share=0.60),
    Scenario("sampling CV 0.3, declared time-proportional", sampling_cv=0.3,
             sampling_mode="time-proportional"),
    Scenario("sampling CV 0.3, undeclared", sampling_cv=0.3, claimed=False),
    Scenario("population CV 0.4, declared design capacity", population_cv=0.4,
             population_method="design"),
    Scenario("population CV 0.4, undeclared", population_cv=0.4, claimed=False),
    Scenario("in-sewer loss 25 %, undeclared", loss=0.25, claimed=False),
)


def _registry_truth():
    """Excretion fraction (mean, sd) and molar-mass ratio per biomarker, from the CSVs."""
    p = pd.read_csv(DATA / "biomarker_parameters.csv")
    chem = pd.read_csv(DATA / "biomarkers.csv").set_index("biomarker")
    d = p[(p["parameter_set"] == "default") & (p["parameter"] == "excretion_fraction")]
    d = d.set_index("biomarker")
    out = {}
    for b in BIOMARKERS:
        ratio = chem.loc[b, "parent_molar_mass_g_per_mol"] / chem.loc[b, "molar_mass_g_per_mol"]
        out[b] = (float(d.loc[b, "value"]), float(d.loc[b, "sd"]), float(ratio))
    return out


def _lognormal_error(rng, cv, size):
    s = np.sqrt(np.log1p(cv**2))
    return np.exp(rng.normal(-s**2 / 2, s, size))


def _excretion(rng, mean, sd, world):
    if world == "p5":  # CF at its 5th percentile: excretion fraction at its 95th
        return mean + stats.norm.ppf(0.95) * sd
    if world == "p95":
        return mean + stats.norm.ppf(0.05) * sd
    while True:  # truncated to (0, 1]
        x = rng.normal(mean, sd)
        if 0 < x <= 1:
            return x


def simulate(scenario: Scenario, n_cities: int, seed: int):
    """Samples, sites and truth tables for ``n_cities`` one-plant cities of ``DAYS`` days."""
    rng = np.random.default_rng(seed)
    truth_par = _registry_truth()
    days = pd.date_range("2024-04-01", periods=DAYS, freq="D")
    rows, truth, sites = [], [], []
    world = {b: _excretion(rng, m, s, scenario.world) for b, (m, s, _) in truth_par.items()}
    for k in range(n_cities):
        site = f"C{k:04d}"
        declared = float(np.round(rng.uniform(1e5, 2e6), -2))
        true_pop = declared * float(_lognormal_error(rng, scenario.population_cv, 1)[0])
        flow_true = declared * 0.25 * np.exp(rng.normal(0, 0.15, DAYS))  # [m3/day]
        flow_meas = flow_true * _lognormal_error(rng, scenario.flow_cv, DAYS)
        sites.append({"site": site, "population": declared,
                      "sampling_mode": scenario.sampling_mode,
                      "population_method": scenario.population_method})
        for b in BIOMARKERS:
            mean, sd, ratio = truth_par[b]
            f = world[b] if scenario.world != "per-city" else _excretion(rng, mean, sd, "")
            med, lsd = CONSUMPTION[b]
            per1000 = med * np.exp(rng.normal(0, lsd, DAYS))  # true [mg/day/1000]
            consumption = per1000 * true_pop / 1000.0  # [mg/day]
            load = consumption / (ratio / f) * (1.0 - scenario.loss)  # biomarker [mg/day]
            conc = load / flow_true * 1e3  # [ng/L]
            measured = (conc * _lognormal_error(rng, scenario.sampling_cv, DAYS)
                        * _lognormal_error(rng, scenario.analysis_cv, DAYS))
            for t in range(DAYS):
                rows.append({"site": site, "sampled_on": days[t], "biomarker": b,
                             "concentration_ng_per_l": measured[t],
                             "flow_m3_per_day": flow_meas[t]})
                truth.append({"site": site, "date": days[t], "biomarker": b,
                              "true": per1000[t], "true_population": true_pop,
                              "excretion_fraction": f, "flow_true": flow_true[t]})
    samples = pd.DataFrame(rows)
    samples["loq_ng_per_l"] = np.nan
    samples["censored"] = False
    if scenario.censored_share > 0:
        for b in BIOMARKERS:
            sel = samples["biomarker"] == b
            loq = float(np.quantile(samples.loc[sel, "concentration_ng_per_l"],
                                    scenario.censored_share))
            samples.loc[sel, "loq_ng_per_l"] = loq
            below = sel & (samples["concentration_ng_per_l"] < loq)
            samples.loc[below, "censored"] = True
            samples.loc[below, "concentration_ng_per_l"] = np.nan
    sites = pd.DataFrame(sites)
    for col in ("sampling_mode", "population_method"):
        if sites[col].isna().all():
            sites = sites.drop(columns=col)
    return samples, sites, pd.DataFrame(truth)


def evaluate(scenario: Scenario, n_cities: int = 200, seed: int = 1, draws: int = 1000):
    """Coverage and bias of one cell (estimated with wbe's defaults)."""
    from wbe.backcalc import back_calculate, summarize

    samples, sites, truth = simulate(scenario, n_cities, seed)
    ds = back_calculate(samples, sites, parameters=scenario.parameters, n_draws=draws,
                        seed=seed + 1000, non_abuse=None)
    table = summarize(ds, levels=(0.5, 0.95), variables=["consumption_mg_per_day_per_1000"])
    m = table.merge(truth, on=["site", "date", "biomarker"], validate="one_to_one")
    out = []
    for label, part in (("uncensored", m[~m["censored"]]), ("censored", m[m["censored"]])):
        if part.empty:
            continue
        inside = {lev: float(((part[f"lower_{lev}"] <= part["true"])
                              & (part["true"] <= part[f"upper_{lev}"])).mean())
                  for lev in (50, 95)}
        bias = float(np.median(np.log(part["median"] / part["true"])))
        out.append({"scenario": scenario.name, "days": label, "n": len(part),
                    "coverage_50": inside[50], "coverage_95": inside[95],
                    "bias_median_pct": 100 * (np.exp(bias) - 1), "claimed": scenario.claimed})
    return out


def run(n_cities: int = 200, seed: int = 1, draws: int = 1000) -> pd.DataFrame:
    rows = []
    for k, sc in enumerate(SCENARIOS):
        rows += evaluate(sc, n_cities, seed + 17 * k, draws)
    return pd.DataFrame(rows)


def markdown(result: pd.DataFrame, n_cities: int, seconds: float) -> str:
    lines = [f"Independent forward simulator (`benchmarks/validation_grid.py`), {n_cities} "
             f"one-plant cities x {DAYS} days x {len(BIOMARKERS)} biomarkers per cell, 1000 "
             f"draws, fixed seeds; estimated with the defaults (`parameters=\"mixture\"`, "
             f"`censoring=\"draw\"`) unless the cell says otherwise; {seconds:.0f} s.",
             "",
             "| scenario | days | n | 50 % coverage | 95 % coverage | bias of median | "
             "claimed by the defaults |",
             "|---|---|---|---|---|---|---|"]
    for r in result.itertuples():
        lines.append(f"| {r.scenario} | {r.days} | {r.n} | {100 * r.coverage_50:.1f} % | "
                     f"{100 * r.coverage_95:.1f} % | {r.bias_median_pct:+.1f} % | "
                     f"{'yes' if r.claimed else 'no'} |")
    return "\n".join(lines) + "\n"


def _write_docs(text: str) -> None:
    path = ROOT / "docs" / "methods-backcalculation.md"
    doc = path.read_text()
    start, end = "<!-- validation-grid:start -->", "<!-- validation-grid:end -->"
    a, b = doc.index(start) + len(start), doc.index(end)
    path.write_text(doc[:a] + "\n" + text + doc[b:])


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 200
    t0 = time.perf_counter()
    res = run(n)
    text = markdown(res, n, time.perf_counter() - t0)
    print(text)
    if "--write-docs" in sys.argv:
        _write_docs(text)
