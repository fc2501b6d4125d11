"""Tests of wbe.aggregate: period means, site aggregates, EMCDDA week means, censored means."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from wbe.aggregate import (
    aggregate_sites,
    censored_mean,
    period_mean,
    week_means,
)
from wbe.errors import CoverageWarning, InputError, UnknownNameError

REF = Path(__file__).parent / "reference"


# ---------------------------------------------------------------- helpers
def _dataset(values, dates, sites=("A",), biomarkers=("methamphetamine",), draws=None,
             name="load_mg_per_day"):
    values = np.asarray(values, dtype=float)
    dims = ("site", "date", "biomarker") + (("draw",) if draws else ())
    coords = {"site": list(sites), "date": pd.DatetimeIndex(dates),
              "biomarker": list(biomarkers)}
    if draws:
        coords["draw"] = np.arange(draws)
    ds = xr.Dataset({name: (dims, values, {"units": "mg/day"})}, coords=coords)
    return ds.assign_coords(drug=("biomarker", [b.split("_")[0] for b in biomarkers]))


# ---------------------------------------------------------------- censored_mean vs R
def _r_cases():
    ref = pd.read_csv(REF / "aggregate_censored_mean_reference.csv")
    return [tuple(r) for r in ref[["dataset", "method", "mean", "sd", "mu_log",
                                   "sigma_log"]].itertuples(index=False)]


@pytest.mark.r_reference
@pytest.mark.parametrize(("dataset", "method", "mean", "sd", "mu_log", "sigma_log"),
                         _r_cases())
def test_censored_mean_matches_r(dataset, method, mean, sd, mu_log, sigma_log):
    """MLE vs survival::survreg (censored log-normal), ROS vs an independent R
    implementation of Helsel & Cohn (1988); script: reference/aggregate_censored_mean.R.
    R prints 12 significant digits; the MLE optimisers stop at ~1e-8 relative."""
    data = pd.read_csv(REF / "aggregate_censored_mean_data.csv")
    d = data[data["dataset"] == dataset]
    res = censored_mean(d["value"], d["censored"], d["loq"], method=method)
    rtol = 1e-6 if method == "mle" else 1e-9
    np.testing.assert_allclose([res.mean, res.sd, res.mu_log, res.sigma_log],
                               [mean, sd, mu_log, sigma_log], rtol=rtol)
    assert res.n == len(d)
    assert res.n_censored == int(d["censored"].sum())


def test_censored_mean_limits_in_values_when_loq_omitted():
    vals = np.array([2.0, 2.0, 3.2, 4.1, 5.0, 7.9, 12.0, 2.5])
    cens = np.array([True, True] + [False] * 6)
    a = censored_mean(vals, cens, method="ros")
    b = censored_mean([np.nan, np.nan, *vals[2:]], cens, loq=2.0, method="ros")
    assert a.mean == pytest.approx(b.mean, rel=1e-12)


def test_censored_mean_without_censoring_ros_is_sample_mean():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    res = censored_mean(x, np.zeros(4, bool), method="ros")
    assert res.mean == pytest.approx(3.75, rel=1e-12)
    assert res.sd == pytest.approx(np.std(x, ddof=1), rel=1e-12)


@pytest.mark.parametrize(
    ("values", "censored", "loq", "match"),
    [
        ([1.0, 2.0], [False], None, "differ in length"),
        ([np.nan, np.nan, 3.0], [True, True, False], 1.0, "at least two detected"),
        ([-1.0, 2.0, 3.0], [False, False, False], None, "position 0"),
        ([np.nan, 2.0, 3.0], [True, False, False], None, "limit"),
        ([], [], None, "no values"),
    ],
)
def test_censored_mean_bad_input(values, censored, loq, match):
    with pytest.raises(InputError, match=match):
        censored_mean(values, censored, loq)


def test_censored_mean_unknown_method_lists_valid():
    with pytest.raises(UnknownNameError, match="'mle', 'ros'"):
        censored_mean([1.0, 2.0], [False, False], method="kaplan")


# ---------------------------------------------------------------- week_means
def test_week_means_hand_worked_week():
    """EMCDDA: weekday = Tue-Thu, weekend = Fri-Mon (source-data notes)."""
    # Monday 2024-03-11 .. Sunday 2024-03-17
    s = pd.Series([10.0, 4.0, 5.0, 6.0, 12.0, 14.0, 16.0],
                  index=pd.date_range("2024-03-11", periods=7))
    m = week_means(s)
    assert m.weekday_mean == pytest.approx((4 + 5 + 6) / 3, rel=1e-15)
    assert m.weekend_mean == pytest.approx((10 + 12 + 14 + 16) / 4, rel=1e-15)
    assert m.daily_mean == pytest.approx(67 / 7, rel=1e-15)
    assert (m.n_days, m.n_weekday, m.n_weekend) == (7, 3, 4)


def test_week_means_missing_days_use_available_ones():
    # Wednesday 2024-03-13 .. Tuesday 2024-03-19, Thursday and Sunday missing (NaN / absent)
    idx = pd.DatetimeIndex(["2024-03-13", "2024-03-14", "2024-03-15", "2024-03-16",
                            "2024-03-18", "2024-03-19"])
    s = pd.Series([5.0, np.nan, 9.0, 11.0, 7.0, 3.0], index=idx)
    m = week_means(s)
    assert m.weekday_mean == pytest.approx((5 + 3) / 2, rel=1e-15)  # Wed, Tue
    assert m.weekend_mean == pytest.approx((9 + 11 + 7) / 3, rel=1e-15)  # Fri, Sat, Mon
    assert m.daily_mean == pytest.approx(35 / 5, rel=1e-15)
    assert (m.n_days, m.n_weekday, m.n_weekend) == (5, 2, 3)
    assert list(m.to_series().index) == ["daily_mean", "weekday_mean", "weekend_mean",
                                         "n_days", "n_weekday", "n_weekend"]


def test_week_means_monday_is_weekend_not_weekday():
    s = pd.Series([100.0], index=pd.DatetimeIndex(["2024-03-11"]))  # a Monday
    m = week_means(s)
    assert m.weekend_mean == 100.0
    assert np.isnan(m.weekday_mean) and m.n_weekday == 0


@pytest.mark.parametrize(
    ("series", "match"),
    [
        (pd.Series([1.0, 2.0]), "DatetimeIndex"),
        (pd.Series([1.0, 2.0], index=pd.DatetimeIndex(["2024-01-01", "2024-01-01"])),
         "appears twice"),
        (pd.Series([1.0], index=pd.DatetimeIndex(["2024-01-01 08:00"])), "days"),
        ([1.0, 2.0], "pandas Series"),
    ],
)
def test_week_means_bad_input(series, match):
    with pytest.raises(InputError, match=match):
        week_means(series)


# ---------------------------------------------------------------- period_mean
MARCH = pd.date_range("2024-03-01", "2024-03-31")


def test_period_mean_hand_worked_month():
    y = np.full((1, 31, 1), np.nan)
    y[0, [3, 10, 17, 24], 0] = [100.0, 120.0, 80.0, 100.0]
    out = period_mean(_dataset(y, MARCH), "MS", min_days=4)
    # mean 100, s^2 = 800/3, se^2 = (1 - 4/31) s^2 / 4
    assert float(out["load_mg_per_day"].squeeze()) == pytest.approx(100.0, rel=1e-14)
    se = np.sqrt((1 - 4 / 31) * (800 / 3) / 4)
    assert float(out["load_mg_per_day_se_days"].squeeze()) == pytest.approx(se, rel=1e-12)
    assert int(out["n_days"].squeeze()) == 4
    assert int(out["days_in_period"].squeeze()) == 31
    assert bool(out["coverage_ok"].squeeze())
    assert out["date"].values[0] == np.datetime64("2024-03-01")
    assert out["load_mg_per_day"].attrs["units"] == "mg/day"
    assert list(out["drug"].values) == ["methamphetamine"]


def test_period_mean_thin_coverage_warns_and_flags():
    y = np.full((1, 31, 1), np.nan)
    y[0, [3, 10], 0] = [100.0, 120.0]
    with pytest.warns(CoverageWarning, match="fewer than 4 sampled days"):
        out = period_mean(_dataset(y, MARCH), "MS", min_days=4)
    assert not bool(out["coverage_ok"].squeeze())
    assert float(out["load_mg_per_day"].squeeze()) == pytest.approx(110.0, rel=1e-14)


def test_period_mean_single_day_is_nan_not_silent():
    y = np.full((1, 31, 1), np.nan)
    y[0, 5, 0] = 50.0
    with pytest.warns(CoverageWarning):
        out = period_mean(_dataset(y, MARCH), "MS")
    assert np.isnan(float(out["load_mg_per_day"].squeeze()))
    assert int(out["n_days"].squeeze()) == 1


def test_period_mean_weeks_run_monday_to_sunday():
    dates = pd.date_range("2024-03-11", periods=14)  # two Monday-Sunday weeks
    y = np.arange(14, dtype=float).reshape(1, 14, 1)
    out = period_mean(_dataset(y, dates), "W")
    assert list(pd.DatetimeIndex(out["date"].values)) == [pd.Timestamp("2024-03-11"),
                                                           pd.Timestamp("2024-03-18")]
    np.testing.assert_allclose(out["load_mg_per_day"].values.ravel(), [3.0, 10.0],
                               rtol=1e-14)
    np.testing.assert_allclose(out["load_mg_per_day_se_days"].values.ravel(), [0.0, 0.0],
                               atol=1e-12)


def test_period_mean_complete_period_adds_no_draw_noise():
    rng = np.random.default_rng(1)
    y = rng.lognormal(3, 0.3, size=(1, 31, 1, 50))
    out = period_mean(_dataset(y, MARCH, draws=50), "MS", seed=3)
    np.testing.assert_allclose(out["load_mg_per_day"].values[0, 0, 0], y[0, :, 0].mean(0),
                               rtol=1e-12)


def test_period_mean_draws_are_keyed_by_site_not_by_what_else_is_present():
    rng = np.random.default_rng(2)
    y = np.full((2, 31, 1, 20), np.nan)
    y[:, ::5, :, :] = rng.lognormal(3, 0.3, size=(2, 7, 1, 20))
    both = period_mean(_dataset(y, MARCH, sites=("A", "B"), draws=20), "MS", seed=7)
    only_b = period_mean(_dataset(y[1:], MARCH, sites=("B",), draws=20), "MS", seed=7)
    # equal up to floating-point summation order (SIMD sums depend on array layout)
    np.testing.assert_allclose(both["load_mg_per_day"].sel(site="B").values,
                               only_b["load_mg_per_day"].sel(site="B").values, rtol=1e-14)
    assert both.attrs["period_mean_seed"] == 7


def test_period_mean_variables_share_the_day_sampling_error():
    """consumption = CF x load per draw, so its period draws must stay CF x load draws.

    With independent day-sampling errors per variable the ratio would scatter by the
    relative error (here ~15 %); shared errors keep it within the draw-averaging
    difference of the relative errors (< 1 %)."""
    rng = np.random.default_rng(3)
    true = rng.lognormal(3, 0.5, size=8)
    load = np.full((1, 31, 1, 30), np.nan)
    load[0, ::4, 0, :] = true[:, None] * rng.lognormal(0, 0.05, size=(8, 30))
    cf = rng.uniform(2, 3, size=30)
    ds = _dataset(load, MARCH, draws=30)
    ds["consumption_mg_per_day"] = ds["load_mg_per_day"] * xr.DataArray(cf, dims="draw")
    out = period_mean(ds, "MS", seed=11)
    np.testing.assert_allclose(out["consumption_mg_per_day"].values,
                               out["load_mg_per_day"].values * cf, rtol=1e-2)
    ratio = out["consumption_mg_per_day"].values / out["load_mg_per_day"].values / cf
    assert np.ptp(ratio) > 0  # the test is not vacuous: errors scale per variable


def test_period_mean_bad_input():
    y = np.full((1, 31, 1, 3), np.nan)
    y[0, 0, 0, 0] = 1.0  # sampled in one draw only
    with pytest.raises(InputError, match="some draws"):
        period_mean(_dataset(y, MARCH, draws=3), "MS")
    with pytest.raises(UnknownNameError, match="frequency"):
        period_mean(_dataset(np.ones((1, 31, 1)), MARCH), "fortnight")
    with pytest.raises(InputError, match="dimension"):
        period_mean(_dataset(np.ones((1, 31, 1)), MARCH).isel(site=0), "MS")
    hours = pd.date_range("2024-03-01", periods=31, freq="h")
    with pytest.raises(InputError, match="days"):
        period_mean(_dataset(np.ones((1, 31, 1)), hours), "MS")


def test_period_mean_interval_coverage_on_simulated_months():
    """A month sampled on 7 of 30 days: the 90 % interval of the draws must cover the
    known mean of all 30 days about 90 % of the time (800 simulated months of
    log-normal days, log-sd 0.25). Binomial sd of the coverage is 0.011; the t-interval
    under-covers slightly for skewed days (~0.885 measured over seeds), hence the
    asymmetric band. Without the sampling-of-days term the coverage would be 0."""
    rng = np.random.default_rng(20241123)
    n_rep, n_draw = 800, 250
    dates = pd.date_range("2024-04-01", "2024-04-30")
    truth_daily = rng.lognormal(np.log(100), 0.25, size=(n_rep, 30))
    truth_mean = truth_daily.mean(axis=1)
    y = np.full((n_rep, 30, 1, n_draw), np.nan)
    for r in range(n_rep):
        days = rng.choice(30, size=7, replace=False)
        y[r, days, 0, :] = truth_daily[r, days, None]
    ds = _dataset(y, dates, sites=[f"s{i}" for i in range(n_rep)], draws=n_draw)
    out = period_mean(ds, "MS", seed=5)
    draws = out["load_mg_per_day"].values[:, 0, 0, :]
    lo, hi = np.quantile(draws, [0.05, 0.95], axis=1)
    coverage = np.mean((truth_mean >= lo) & (truth_mean <= hi))
    assert 0.86 <= coverage <= 0.93, coverage
    # the input draws carried no spread: all of it comes from the sampling of days
    assert np.all(draws.std(axis=1) > 0)


# ---------------------------------------------------------------- aggregate_sites
def _two_site_ds(draws=None):
    dates = pd.to_datetime(["2024-03-04", "2024-03-05"])
    shape = (2, 2, 1) + ((draws,) if draws else ())
    rng = np.random.default_rng(4)
    load = rng.lognormal(8, 0.3, size=shape)
    ds = _dataset(load, dates, sites=("A", "B"), draws=draws)
    return ds


def test_aggregate_sites_sum_of_loads_over_sum_of_populations_per_draw():
    ds = _two_site_ds(draws=25)
    rng = np.random.default_rng(5)
    pop_draws = xr.DataArray(rng.normal([[1e5], [3e5]], 1e4, size=(2, 25)),
                             dims=("site", "draw"), coords={"site": ["A", "B"]})
    ds["consumption_mg_per_day_per_1000"] = 1000 * ds["load_mg_per_day"] / pop_draws
    city = aggregate_sites(ds, pop_draws)
    load = ds["load_mg_per_day"].values
    expected = 1000 * load.sum(axis=0) / pop_draws.values.sum(axis=0)[None, None, :]
    np.testing.assert_allclose(city["consumption_mg_per_day_per_1000"].values[0], expected,
                               rtol=1e-12)
    np.testing.assert_allclose(city["load_mg_per_day"].values[0], load.sum(axis=0),
                               rtol=1e-12)
    assert city["n_sites"].values.min() == 2
    assert list(city["group"].values) == ["all"]
    assert city["consumption_mg_per_day_per_1000"].dims == ("group", "date", "biomarker",
                                                            "draw")


def test_aggregate_sites_groups_from_sites_table_and_missing_site_day():
    dates = pd.to_datetime(["2024-03-04", "2024-03-05"])
    x = np.array([[[10.0], [np.nan]], [[30.0], [20.0]], [[5.0], [5.0]]])
    ds = _dataset(x, dates, sites=("A", "B", "C"), name="consumption_mg_per_day_per_1000")
    ds["consumption_mg_per_day_per_1000"].attrs["units"] = "mg/day/1000 inhabitants"
    sites = pd.DataFrame({"site": ["A", "B", "C"], "population": [1e5, 3e5, 2e5],
                          "region": ["north", "north", "south"]})
    out = aggregate_sites(ds, sites, groups="region")
    north = out["consumption_mg_per_day_per_1000"].sel(group="north").values.ravel()
    np.testing.assert_allclose(north, [(10 * 1 + 30 * 3) / 4, 20.0], rtol=1e-14)
    assert out["n_sites"].sel(group="north").values.ravel().tolist() == [2, 1]
    np.testing.assert_allclose(out["population"].sel(group="north").values.ravel(),
                               [4e5, 3e5], rtol=1e-14)
    np.testing.assert_allclose(
        out["consumption_mg_per_day_per_1000"].sel(group="south").values.ravel(), [5, 5])


def test_period_then_sites_keeps_draws_and_combines_coverage():
    rng = np.random.default_rng(6)
    y = np.full((2, 31, 1, 40), np.nan)
    y[0, ::3] = rng.lognormal(3, 0.3, size=(11, 1, 40))
    y[1, ::10] = rng.lognormal(3, 0.3, size=(4, 1, 40))  # 4 days: below min_days=5
    ds = _dataset(y, MARCH, sites=("A", "B"), draws=40)
    with pytest.warns(CoverageWarning):
        monthly = period_mean(ds, "MS", min_days=5, seed=1)
    city = aggregate_sites(monthly, pd.Series({"A": 1e5, "B": 1e5}))
    np.testing.assert_allclose(city["load_mg_per_day"].values[0],
                               monthly["load_mg_per_day"].values.sum(axis=0), rtol=1e-12)
    assert not bool(city["coverage_ok"].squeeze())
    assert "n_days" not in city and "load_mg_per_day_se_days" not in city


def test_aggregate_sites_bad_input():
    ds = _two_site_ds()
    with pytest.raises(InputError, match="no population for site 'B'"):
        aggregate_sites(ds, pd.Series({"A": 1e5}))
    with pytest.raises(InputError, match="positive"):
        aggregate_sites(ds, pd.Series({"A": 1e5, "B": -3.0}))
    with pytest.raises(InputError, match="no group for site 'B'"):
        aggregate_sites(ds, pd.Series({"A": 1e5, "B": 2e5}), groups={"A": "x"})
    with pytest.raises(InputError, match="column"):
        aggregate_sites(ds, pd.Series({"A": 1e5, "B": 2e5}), groups="region")


def test_no_wbe_warning_on_clean_input():
    y = np.ones((1, 31, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        period_mean(_dataset(y, MARCH), "MS")


def test_period_mean_takes_back_calculate_output_as_it_comes():
    """back_calculate adds log_variance(component, ...) and echoes its inputs; period_mean
    averages only the estimates, and a biomarker without a typical dose keeps NaN doses
    instead of failing the whole call."""
    import wbe
    from wbe.datasets import simulate

    city = simulate(seed=2, n_sites=1, days=35, lab=False,
                    biomarkers=("methamphetamine", "ketamine"))
    ds = wbe.back_calculate(city.samples, city.sites, city.flows, n_draws=20, seed=1)
    assert "component" in ds.dims
    monthly = wbe.period_mean(ds, seed=1, min_days=1)
    assert "log_variance" not in monthly and "concentration_ng_per_l" not in monthly
    doses = monthly["doses_per_day_per_1000"]
    assert np.isnan(doses.sel(biomarker="ketamine")).all()
    assert np.isfinite(doses.sel(biomarker="methamphetamine")).all()
    with pytest.raises(InputError, match="unexpected dimension"):
        wbe.period_mean(ds, variables=["log_variance"], seed=1)


def test_aggregate_sites_takes_back_calculate_output_as_it_comes():
    """The per-component ``log_variance`` (dim ``component``) of back_calculate is not
    aggregated and does not stop the city sums (it used to fail in xarray's transpose)."""
    import wbe
    from wbe.datasets import simulate

    city = simulate(seed=3, n_sites=2, days=3, lab=False, biomarkers=("methamphetamine",))
    ds = wbe.back_calculate(city.samples, city.sites, city.flows, n_draws=10, seed=1)
    assert "component" in ds.dims
    out = aggregate_sites(ds, city.sites)
    assert "component" not in out.dims and "log_variance" not in out
    np.testing.assert_allclose(out["load_mg_per_day"].isel(group=0).values,
                               ds["load_mg_per_day"].sum("site").values, rtol=1e-12)
    assert out.identical(aggregate_sites(ds.drop_dims("component"), city.sites))


def test_prevalence_is_averaged_over_sites_not_summed():
    """Two plants with 0.27 % prevalence each make a city with 0.27 %, not 0.54 %
    (city prevalence = total users / total reference population)."""
    ds = xr.Dataset(
        {"prevalence": (("site", "date", "biomarker"), np.full((2, 1, 1), 0.0027),
                        {"units": "fraction"}),
         "users": (("site", "date", "biomarker"), np.array([[[270.0]], [[540.0]]]))},
        coords={"site": ["A", "B"], "date": pd.to_datetime(["2024-01-01"]),
                "biomarker": ["methamphetamine"]},
    )
    city = aggregate_sites(ds, pd.Series({"A": 100_000.0, "B": 200_000.0}))
    assert float(city["prevalence"].squeeze()) == pytest.approx(0.0027, rel=1e-12)
    assert float(city["users"].squeeze()) == pytest.approx(810.0, rel=1e-12)
