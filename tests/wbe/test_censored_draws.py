"""Censored samples are uncertain, not substituted (issue 12 item 1): ``censoring="draw"``.

Expected values are hand-computed (uniform on (0, LOQ): median LOQ/2) or come from the
censored log-normal MLE checked against R's survival::survreg in test_aggregate.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wbe import chain
from wbe.aggregate import aggregate_sites, period_mean
from wbe.backcalc import COMPONENTS, back_calculate, summarize, uncertainty_budget
from wbe.censoring import censored_lognormal_fit, censored_mean
from wbe.errors import InputError

OFF = {c: None for c in COMPONENTS if c not in ("residence_time", "censoring")}


def _series(values, censored, loq=2.0, site="A", start="2024-01-01"):
    days = pd.date_range(start, periods=len(values), freq="D")
    return pd.DataFrame({"site": site, "sampled_on": days, "biomarker": "methamphetamine",
                         "concentration_ng_per_l": np.where(censored, np.nan, values),
                         "loq_ng_per_l": loq, "censored": censored,
                         "flow_m3_per_day": 1e5})


SITES = pd.DataFrame({"site": ["A", "B"], "population": [1e5, 3e5]})


def test_default_draws_censored_values_uniform_below_the_loq_when_few_are_quantified():
    samples = _series([10.0, 0.0, 12.0], [False, True, False])
    ds = back_calculate(samples, SITES, n_draws=4000, seed=3, uncertainty=OFF)
    assert ds.attrs["censoring"] == "draw"
    load = ds["load_mg_per_day"].isel(site=0, date=1, biomarker=0).values
    at_loq = chain.mass_load(2.0, 1e5)
    assert load.max() < at_loq and load.min() > 0
    # uniform on (0, LOQ): quartiles at 1/4, 1/2, 3/4 of the LOQ's load (4000 draws)
    np.testing.assert_allclose(np.quantile(load, [0.25, 0.5, 0.75]) / at_loq,
                               [0.25, 0.5, 0.75], atol=0.02)
    assert np.isnan(ds["censored_fit_mu_log"].values).all()
    t = summarize(ds, variables=["load_mg_per_day"])
    row = t[t["censored"]].iloc[0]
    assert row["lower_95"] == 0.0
    assert row["upper_95"] == pytest.approx(at_loq, rel=1e-12)
    assert (~t.loc[~t["censored"], "censored"]).all() and len(t) == 3


def test_site_series_with_enough_quantified_values_uses_its_censored_lognormal():
    rng = np.random.default_rng(7)
    values = np.exp(rng.normal(1.0, 0.8, 40))
    censored = values < 2.0
    samples = _series(values, censored)
    ds = back_calculate(samples, SITES, n_draws=200, seed=1, uncertainty=OFF)
    fit = censored_lognormal_fit(np.where(censored, np.nan, values), censored, 2.0)
    ref = censored_mean(np.where(censored, np.nan, values), censored, 2.0, method="mle")
    assert fit == pytest.approx((ref.mu_log, ref.sigma_log), rel=1e-9)
    np.testing.assert_allclose(ds["censored_fit_mu_log"], ref.mu_log, rtol=1e-9)
    frac = ds["censored_fraction_of_loq"].values
    assert frac.shape == (int(censored.sum()), 200)
    assert (frac > 0).all() and (frac <= 1).all()
    # log-normal truncated at the LOQ: the draws pile up towards the LOQ, unlike a uniform
    assert np.median(frac) > 0.5


def test_censoring_share_in_period_and_city_aggregates():
    a = _series([5.0, 0.0, 0.0, 7.0], [False, True, True, False])
    b = _series([6.0, 8.0, 0.0, 9.0], [False, False, True, False], site="B")
    ds = back_calculate(pd.concat([a, b]), SITES, n_draws=50, seed=2)
    month = period_mean(ds, "MS", min_days=1, seed=1)
    share = month["censored_share"].to_series()
    assert share[("A", pd.Timestamp("2024-01-01"), "methamphetamine")] == pytest.approx(0.5)
    assert share[("B", pd.Timestamp("2024-01-01"), "methamphetamine")] == pytest.approx(0.25)
    city = aggregate_sites(month, SITES)
    assert float(city["censored_share"].squeeze()) == pytest.approx(3 / 8)
    daily = aggregate_sites(ds, SITES)
    np.testing.assert_allclose(daily["censored_share"].squeeze().values, [0, 0.5, 1, 0])


def test_censoring_component_in_the_budget_and_substitution_still_available():
    samples = _series([5.0, 0.0, 7.0], [False, True, False])
    ds = back_calculate(samples, SITES, n_draws=500, seed=2)
    share = uncertainty_budget(ds).sel(component="censoring").squeeze().values
    assert share[1] > 0.1 and share[0] == 0 and share[2] == 0
    sub = back_calculate(samples, SITES, n_draws=50, seed=2, censoring="loq/2")
    assert float(sub["concentration_ng_per_l"].isel(date=1).squeeze()) == 1.0
    assert "censored_fraction_of_loq" not in sub


def test_analytic_refuses_drawn_censoring_and_a_censored_value_needs_an_loq():
    samples = _series([5.0, 0.0, 7.0], [False, True, False])
    with pytest.raises(InputError, match="censoring='loq/2'"):
        back_calculate(samples, SITES, method="analytic", uncertainty=OFF,
                       parameters="default")
    back_calculate(samples, SITES, method="analytic", censoring="loq/2", uncertainty=OFF,
                   parameters="default")
    samples.loc[1, "loq_ng_per_l"] = 0.0
    with pytest.raises(InputError, match="row"):
        back_calculate(samples, SITES, n_draws=10, seed=1)
