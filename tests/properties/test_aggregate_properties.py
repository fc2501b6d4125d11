"""Property tests of wbe.aggregate (hypothesis)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from wbe.aggregate import aggregate_sites, censored_mean, period_mean, week_means

positive = st.floats(min_value=0.01, max_value=1e4, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.one_of(positive, st.just(np.nan)), min_size=1, max_size=21),
       start=st.dates(min_value=pd.Timestamp("2020-01-01").date(),
                      max_value=pd.Timestamp("2030-01-01").date()))
def test_week_means_daily_mean_is_day_weighted_combination(values, start):
    s = pd.Series(values, index=pd.date_range(start, periods=len(values)))
    m = week_means(s)
    assert m.n_days == m.n_weekday + m.n_weekend == int(np.isfinite(values).sum())
    parts = [(m.weekday_mean, m.n_weekday), (m.weekend_mean, m.n_weekend)]
    if m.n_days:
        total = sum(v * n for v, n in parts if n)
        assert m.daily_mean == pytest.approx(total / m.n_days, rel=1e-9)
        finite = np.asarray(values)[np.isfinite(values)]
        for v, n in parts:
            if n:
                assert finite.min() - 1e-9 <= v <= finite.max() + 1e-9


@settings(max_examples=40, deadline=None)
@given(x=st.lists(positive, min_size=2, max_size=6),
       pops=st.lists(st.floats(min_value=1e3, max_value=1e7), min_size=6, max_size=6),
       perm_seed=st.integers(0, 2**32 - 1))
def test_aggregate_sites_weighted_mean_is_bounded_and_order_free(x, pops, perm_seed):
    n = len(x)
    sites = [f"s{i}" for i in range(n)]
    ds = xr.Dataset(
        {"consumption_mg_per_day_per_1000": (("site", "date", "biomarker"),
                                             np.array(x).reshape(n, 1, 1))},
        coords={"site": sites, "date": pd.to_datetime(["2024-01-01"]), "biomarker": ["m"]})
    pop = pd.Series(pops[:n], index=sites)
    agg = float(aggregate_sites(ds, pop)["consumption_mg_per_day_per_1000"].squeeze())
    assert min(x) * (1 - 1e-12) <= agg <= max(x) * (1 + 1e-12)
    order = np.random.default_rng(perm_seed).permutation(n)
    agg2 = float(aggregate_sites(ds.isel(site=order), pop.iloc[::-1])[
        "consumption_mg_per_day_per_1000"].squeeze())
    assert agg2 == pytest.approx(agg, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(values=st.lists(positive, min_size=30, max_size=30),
       keep=st.lists(st.booleans(), min_size=30, max_size=30))
def test_period_mean_point_is_mean_of_sampled_days_and_se_vanishes_when_complete(values,
                                                                                 keep):
    y = np.where(keep, values, np.nan).reshape(1, 30, 1)
    ds = xr.Dataset({"load_mg_per_day": (("site", "date", "biomarker"), y)},
                    coords={"site": ["A"], "date": pd.date_range("2024-06-01", periods=30),
                            "biomarker": ["m"]})
    n = int(np.sum(keep))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = period_mean(ds, "MS", min_days=1)
    got = float(out["load_mg_per_day"].squeeze())
    if n >= 2:
        assert got == pytest.approx(np.mean(np.asarray(values)[keep]), rel=1e-12)
    else:
        assert np.isnan(got)
    if n == 30:
        assert float(out["load_mg_per_day_se_days"].squeeze()) == pytest.approx(0, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(x=st.lists(positive, min_size=5, max_size=25), n_cens=st.integers(0, 3),
       scale=st.floats(min_value=0.01, max_value=100), method=st.sampled_from(["mle", "ros"]))
def test_censored_mean_is_scale_equivariant(x, n_cens, scale, method):
    x = np.sort(np.asarray(x))
    x = x * np.linspace(1.0, 1.5, len(x))  # break ties so that two detects always differ
    if n_cens >= len(x) - 2:
        n_cens = 0
    cens = np.zeros(len(x), bool)
    cens[:n_cens] = True
    loq = np.full(len(x), x[n_cens] if n_cens else 1.0)
    a = censored_mean(x, cens, loq, method=method)
    b = censored_mean(x * scale, cens, loq * scale, method=method)
    assert b.mean == pytest.approx(a.mean * scale, rel=1e-5)
