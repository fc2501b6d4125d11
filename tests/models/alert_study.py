"""Operating characteristics of alert detectors on simulated daily wastewater series.

An independent simulator (not ``wbe.datasets.simulate``): daily biomarker loads of one plant,
log-normal day-to-day variation with CV 0.35 (log sd :math:`\\sqrt{\\ln(1+0.35^2)}=0.34`), a
weekday pattern (weekend highs, as reported for stimulants by the EMCDDA/SCORE weekly
campaigns), a slow annual cycle of +-10 %, 10 % of days not sampled (rows absent) and
values below a limit of quantification (about 5 % of days, reported as missing). One
outbreak per series: loads doubled (x2) for 14 days from a random start in the second year.

Measured per series-year of monitoring (the second year): false new alerts (``status ==
"new"`` records dated outside [start, start + 14 + 28 days)), and detection: a ``new`` or
``ongoing`` alert dated within 7 days of the start (days start .. start + 6).

``python tests/models/alert_study.py`` prints the table in docs/methods-aberration.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from wbe.models import alerts

CV = 0.35
SIGMA_LOG = float(np.sqrt(np.log1p(CV**2)))
#: multiplicative weekday factors Monday..Sunday (weekend high)
WEEKDAY_FACTOR = np.array([0.95, 0.90, 0.90, 0.95, 1.05, 1.20, 1.15])
N_DAYS = 730
OUTBREAK_DAYS = 14
DETECT_WITHIN = 7
MISSING_SHARE = 0.10
LOQ_FACTOR = 0.58  # LOQ as a multiple of the series median: ~5 % of days below


def simulate_series(seed: int, *, factor: float = 2.0, n_days: int = N_DAYS):
    """One daily series with an outbreak; returns (tidy table, outbreak start date)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-01-02", periods=n_days, freq="D")
    level = 100.0 * np.exp(rng.normal(0, 0.5))  # [mg/day/1000 inhabitants]
    season = 1.0 + 0.10 * np.sin(2 * np.pi * (np.arange(n_days) / 365.25 + rng.uniform()))
    mean = level * season * WEEKDAY_FACTOR[dates.day_of_week]
    start = int(rng.integers(365 + 28, n_days - OUTBREAK_DAYS - 28))
    mult = np.ones(n_days)
    mult[start:start + OUTBREAK_DAYS] = factor
    # log-normal with mean `mean` and CV 0.35
    values = mean * mult * np.exp(rng.normal(-SIGMA_LOG**2 / 2, SIGMA_LOG, n_days))
    values[values < LOQ_FACTOR * level] = np.nan  # below LOQ: reported missing
    keep = rng.uniform(size=n_days) >= MISSING_SHARE  # days not sampled
    table = pd.DataFrame({"site": f"S{seed}", "biomarker": "methamphetamine",
                          "date": dates[keep], "value": values[keep]})
    return table, dates[start]


def evaluate(method: str | None, params: dict, seeds, factor: float = 2.0) -> dict:
    """False new alerts per series-year and share of outbreaks flagged within 7 days."""
    tables, starts = zip(*(simulate_series(s, factor=factor) for s in seeds), strict=True)
    table = pd.concat(tables, ignore_index=True)
    kw = {} if method is None else {"method": method}
    rec = alerts(table, **kw, created_at="2026-01-01T00:00:00Z", **params)
    rec["date"] = pd.to_datetime(rec["date"])
    false_new, detected = 0, 0
    year2 = pd.Timestamp("2023-01-02") + pd.Timedelta(days=365)
    for seed, start in zip(seeds, starts, strict=True):
        r = rec[rec.site == f"S{seed}"]
        excluded = (r.date >= start) & (r.date < start + pd.Timedelta(days=OUTBREAK_DAYS + 28))
        false_new += int(((r.status == "new") & ~excluded & (r.date >= year2)).sum())
        hit = r.status.isin(["new", "ongoing"]) & (r.date >= start) & (
            r.date < start + pd.Timedelta(days=DETECT_WITHIN))
        detected += bool(hit.any())
    years = len(seeds) * (N_DAYS - 365 - OUTBREAK_DAYS - 28) / 365.0
    return {"false_new_per_year": false_new / years, "detected": detected / len(seeds),
            "n_series": len(seeds)}


CANDIDATES = {
    "EARS C1 (old default)": ("ears", {}),
    "CUSUM k=0.5, h=4, baseline 28, guard 7 (chart defaults)": (
        "cusum", dict(baseline=28, guard=7)),
    "CUSUM k=1, arl0=365, baseline 56, guard 7": (
        "cusum", dict(k=1.0, arl0=365, baseline=56, guard=7)),
    "CUSUM k=1, arl0=730, baseline 56, guard 7, weekday, spread 364": (
        "cusum", dict(k=1.0, arl0=730, baseline=56, guard=7, spread_window=364,
                      weekday_adjust=True)),
    "EWMA lam=0.3, arl0=1000, baseline 56, guard 7, weekday, spread 364": (
        "ewma", dict(lam=0.3, arl0=1000, baseline=56, guard=7, spread_window=364,
                     weekday_adjust=True)),
    "default: CUSUM k=1, arl0=1000, baseline 56, guard 7, weekday, spread 364": (None, {}),
}


if __name__ == "__main__":  # the full study (a few minutes)
    import sys

    seeds = range(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
    for name, (method, params) in CANDIDATES.items():
        print(name, evaluate(method, params, list(seeds)))
