"""Ratios draw by draw (issue 12 item 7): the components shared by both sides cancel.

Expected spreads follow from the scopes of docs/methods-backcalculation.md: with only
global components uncertain a month-to-month or city-to-city ratio is exact; population
(per site) cancels within a site but not between sites (log-variance 2 sigma^2).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from wbe.aggregate import period_mean, ratio_draws, ratio_summary
from wbe.backcalc import back_calculate
from wbe.errors import InputError

MEASUREMENT_OFF = {"sampling": None, "chemical_analysis": None, "flow": None}
VAR = "consumption_mg_per_day_per_1000"


def _tables():
    days = ["2024-01-10", "2024-01-20", "2024-02-10", "2024-02-20"]
    rows = []
    for site, scale in (("A", 1.0), ("B", 2.5)):
        for k, d in enumerate(days):
            rows.append({"site": site, "sampled_on": d, "biomarker": "mdma",
                         "concentration_ng_per_l": scale * (10.0 + 5 * k),
                         "flow_m3_per_day": 1e5})
    sites = pd.DataFrame({"site": ["A", "B"], "population": [2e5, 3e5]})
    return pd.DataFrame(rows), sites


def test_month_to_month_ratio_cancels_cf_set_choice_and_population():
    samples, sites = _tables()
    ds = back_calculate(samples, sites, n_draws=500, seed=8, uncertainty=MEASUREMENT_OFF)
    r = ratio_draws(ds, VAR, {"date": "2024-02-10"}, {"date": "2024-01-10"})
    # CF (mixture of two sets, each drawn) and population are uncertain, yet the ratio is
    # the ratio of the concentrations in every draw
    np.testing.assert_allclose(r.sel(site="A").values, 20.0 / 10.0, rtol=1e-12)
    cons = ds[VAR].sel(site="A", biomarker="mdma")
    assert float(np.log(cons.isel(date=0)).std()) > 0.3  # the level itself is uncertain


def test_city_to_city_ratio_keeps_population_but_not_the_cf():
    samples, sites = _tables()
    ds = back_calculate(samples, sites, n_draws=20000, seed=9, uncertainty=MEASUREMENT_OFF)
    r = ratio_draws(ds, VAR, {"site": "B"}, {"site": "A"}).isel(date=0)
    # both populations normal with CV 0.20 (census default): log-sd of the ratio is about
    # sqrt(2) x 0.20 (a little more: the normal is skewed on the log scale)
    assert float(np.log(r).std()) == pytest.approx(math.sqrt(2) * 0.20, rel=0.1)
    point = 2.5 * 2e5 / 3e5
    assert float(r.median()) == pytest.approx(point, rel=0.02)
    fixed = back_calculate(samples, sites, n_draws=200, seed=9,
                           uncertainty=MEASUREMENT_OFF | {"population": None})
    r0 = ratio_draws(fixed, VAR, {"site": "B"}, {"site": "A"})
    np.testing.assert_allclose(r0.values, point, rtol=1e-12)


def test_ratio_of_monthly_means_and_summary():
    samples, sites = _tables()
    ds = back_calculate(samples, sites, n_draws=400, seed=3)
    months = period_mean(ds, "MS", min_days=2, seed=4)
    r = ratio_draws(months, VAR, {"date": "2024-02-01"}, {"date": "2024-01-01"})
    t = ratio_summary(r)
    assert list(t.columns[:2]) == ["site", "biomarker"]
    assert (t["lower_95"] <= t["median"]).all() and (t["median"] <= t["upper_95"]).all()
    # February concentrations are higher at both sites: the ratio is above 1 in most draws
    assert (t["p_above_1"] > 0.8).all()


def test_ratio_needs_draws_and_known_selections():
    samples, sites = _tables()
    ds = back_calculate(samples, sites, method="analytic", parameters="default",
                        uncertainty={"population": None, "correction_factor": None})
    with pytest.raises(InputError, match="draw"):
        ratio_draws(ds, VAR, {"site": "B"}, {"site": "A"})
    ds = back_calculate(samples, sites, n_draws=10, seed=1)
    with pytest.raises(InputError):
        ratio_draws(ds, VAR, {"site": "Z"}, {"site": "A"})
