"""Tests of wbe.population: census, design, markers, cotinine and their combination."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from wbe.errors import InputError, UnknownNameError
from wbe.population import (
    combine_population_estimates,
    lognormal_from_mean_sd,
    measurement_cv,
    per_capita_marker_load,
    population_census,
    population_from_cotinine,
    population_from_design,
    population_from_markers,
)


@pytest.fixture
def marker_table():
    """Synthetic per-capita table with the columns of population_markers.csv."""
    return pd.DataFrame({
        "marker": ["NH4-N", "COD", "COD", "TP", "BOD5"],
        "region": ["global", "china", "germany", "china", "x"],
        "value": [8.0, 100.0, 120.0, 1700.0, 50.0],
        "sd": [2.0, np.nan, np.nan, np.nan, np.nan],
        "low": [np.nan, 80.0, np.nan, 900.0, np.nan],
        "high": [np.nan, 120.0, np.nan, 2500.0, np.nan],
        "unit": ["g/person/day", "g/person/day", "g/person/day", "mg/person/day",
                 "furlongs"],
        "source": ["test"] * 5,
        "doi": [None] * 5,
    })


# ------------------------------------------------------------------ log-normal helper
@pytest.mark.parametrize(("mean", "sd"), [(100.0, 10.0), (5e5, 2.5e5), (3.0, 0.01)])
def test_lognormal_from_mean_sd_reproduces_moments_in_scipy(mean, sd):
    median, sigma = lognormal_from_mean_sd(mean, sd)
    d = stats.lognorm(s=sigma, scale=median)
    assert d.mean() == pytest.approx(mean, rel=1e-12)
    assert d.std() == pytest.approx(sd, rel=1e-10)


def test_measurement_cv_combines_registry_components():
    # registry: sampling, chemical analysis and flow each CV 0.10 (log-normal)
    expected = np.sqrt(np.expm1(3 * np.log1p(0.1**2)))
    assert measurement_cv() == pytest.approx(expected, rel=1e-12)
    with pytest.raises(UnknownNameError):
        measurement_cv(["sampling", "weather"])


# ------------------------------------------------------------------ census
def test_census_mean_sd_and_interval():
    est = population_census([100_000, 400_000], sd=[10_000, 100_000])
    np.testing.assert_allclose(est.mean, [1e5, 4e5], rtol=1e-12)
    np.testing.assert_allclose(est.sd, [1e4, 1e5], rtol=1e-10)
    lo, hi = est.interval(0.95)
    assert np.all(lo < est.median) and np.all(est.median < hi)
    assert est.method == "census"


def test_census_default_cv_is_registry_population_cv():
    est = population_census(250_000)
    assert est.sd / est.mean == pytest.approx(0.20, rel=1e-10)


def test_census_needs_positive_spread_and_population():
    with pytest.raises(InputError, match="positive sd or cv"):
        population_census(1e5, sd=0.0)
    with pytest.raises(InputError, match="positive"):
        population_census(-5, cv=0.1)


# ------------------------------------------------------------------ design
def test_design_capacity_hand_worked():
    # 50 000 m3/day, 80 % domestic, exactly 200 L/person/day -> 200 000 people
    est = population_from_design(50_000, 200.0, domestic_fraction=0.8)
    assert est.median == pytest.approx(200_000, rel=1e-12)
    assert est.sigma_log == 0.0
    # quota uncertain: log-normal with CV 0.15 -> sigma_log of P is that of the quota
    q = stats.lognorm(s=np.sqrt(np.log1p(0.15**2)), scale=200.0)
    est = population_from_design(50_000, q, load_factor=0.5)
    assert est.sigma_log == pytest.approx(np.sqrt(np.log1p(0.15**2)), rel=1e-10)
    assert est.median == pytest.approx(1000 * 50_000 * 0.5 / 200.0, rel=1e-10)


@pytest.mark.parametrize("kwargs", [{"domestic_fraction": 1.2}, {"domestic_fraction": 0.0}])
def test_design_bad_fraction(kwargs):
    with pytest.raises(InputError, match="fraction"):
        population_from_design(1000, 200.0, **kwargs)


def test_design_bad_flow_names_position():
    with pytest.raises(InputError, match=r"position \(1,\)"):
        population_from_design([1000.0, np.nan], 200.0)


# ------------------------------------------------------------------ markers
def test_markers_formula_and_uncertainty(marker_table):
    est = population_from_markers("nh4n", concentration_mg_per_l=[40.0, 30.0],
                                  flow_m3_per_day=[50_000, 50_000], table=marker_table,
                                  domestic_fraction=0.9, load_cv=0.1)
    l_median, l_sigma = lognormal_from_mean_sd(8.0, 2.0)
    np.testing.assert_allclose(est.median, [40 * 5e4 * 0.9 / l_median,
                                            30 * 5e4 * 0.9 / l_median], rtol=1e-12)
    sig = np.sqrt(np.log1p(0.1**2) + l_sigma**2)
    np.testing.assert_allclose(est.sigma_log, [sig, sig], rtol=1e-12)
    assert est.method == "nh4n"


def test_markers_sigma_matches_monte_carlo(marker_table):
    """The closed-form log-scale sd equals that of simulated ratios (independent draws)."""
    rng = np.random.default_rng(8)
    load_cv = 0.2
    est = population_from_markers("NH4-N", concentration_mg_per_l=40.0,
                                  flow_m3_per_day=5e4, table=marker_table, load_cv=load_cv)
    per_capita = per_capita_marker_load("nh4n", table=marker_table)
    load = 40.0 * 5e4 * rng.lognormal(0, np.sqrt(np.log1p(load_cv**2)), 200_000)
    pop = load / per_capita.rvs(size=200_000, random_state=rng)
    assert np.log(pop).std() == pytest.approx(est.sigma_log, rel=0.01)
    assert np.median(pop) == pytest.approx(est.median, rel=0.01)


def test_markers_region_and_range_rule(marker_table):
    d = per_capita_marker_load("COD", region="china", table=marker_table)
    assert d.mean() == pytest.approx(100.0, rel=1e-12)
    assert d.std() == pytest.approx((120 - 80) / 4, rel=1e-10)
    assert per_capita_marker_load("cod", region="germany", table=marker_table) == 120.0
    tp = per_capita_marker_load("总磷", region="china", table=marker_table)
    assert tp.mean() == pytest.approx(1.7, rel=1e-12)  # mg -> g


def test_markers_registry_errors(marker_table):
    with pytest.raises(InputError, match="choose a region"):
        per_capita_marker_load("cod", table=marker_table)
    with pytest.raises(UnknownNameError, match="'china', 'germany'"):
        per_capita_marker_load("cod", region="france", table=marker_table)
    with pytest.raises(UnknownNameError, match="population marker"):
        per_capita_marker_load("caffeine", table=marker_table)
    with pytest.raises(InputError, match=r"row 6.*'unit'"):
        per_capita_marker_load("bod5", table=marker_table)
    with pytest.raises(InputError, match="concentration_mg_per_l"):
        population_from_markers("cod", concentration_mg_per_l=-1.0, flow_m3_per_day=1e4,
                                per_capita_g_per_day=100.0)


def test_markers_eu_population_equivalent_definition():
    """Council Directive 91/271/EEC Art. 2(6): 1 p.e. = 60 g BOD5/day (registry row 'eu').

    200 mg/L BOD5 x 30 000 m3/day = 6 000 000 g/day = 100 000 p.e."""
    est = population_from_markers("BOD5", concentration_mg_per_l=200.0,
                                  flow_m3_per_day=30_000, region="eu", load_cv=0.1)
    assert est.median == pytest.approx(100_000, rel=1e-12)


# ------------------------------------------------------------------ cotinine
def test_cotinine_hand_worked():
    # 70 g/day cotinine / (2.5 cigarettes/person/day x 0.14 mg) = 200 000 people
    est = population_from_cotinine(cotinine_load_mg_per_day=70_000,
                                   cigarettes_per_capita_per_day=2.5,
                                   cotinine_mg_per_cigarette=0.14, load_cv=0.1)
    assert est.median == pytest.approx(200_000, rel=1e-12)
    assert est.sigma_log == pytest.approx(np.sqrt(np.log1p(0.01)), rel=1e-12)
    cig = stats.lognorm(s=0.3, scale=2.5)
    est = population_from_cotinine(cotinine_load_mg_per_day=70_000,
                                   cigarettes_per_capita_per_day=cig,
                                   cotinine_mg_per_cigarette=0.14, load_cv=0.0,
                                   domestic_fraction=0.5)
    assert est.sigma_log == pytest.approx(0.3, rel=1e-10)
    assert est.median == pytest.approx(100_000, rel=1e-10)


def test_cotinine_default_factor_from_registry():
    est = population_from_cotinine(cotinine_load_mg_per_day=70_000,
                                   cigarettes_per_capita_per_day=2.5, load_cv=0.0)
    median_k, sigma_k = lognormal_from_mean_sd(0.14, (0.16 - 0.11) / 4)
    assert est.median == pytest.approx(70_000 / (2.5 * median_k), rel=1e-12)
    assert est.sigma_log == pytest.approx(sigma_k, rel=1e-12)


# ------------------------------------------------------------------ combination
def test_combine_inverse_variance_on_log_scale_hand_worked():
    a = population_census(100_000, cv=0.1)
    b = population_from_design(30_000, stats.lognorm(s=0.3, scale=250.0))
    w_a, w_b = 1 / a.sigma_log**2, 1 / 0.3**2
    mu = (w_a * np.log(a.median) + w_b * np.log(120_000.0)) / (w_a + w_b)
    c = combine_population_estimates([a, b])
    assert c.median == pytest.approx(np.exp(mu), rel=1e-12)
    assert c.sigma_log == pytest.approx(1 / np.sqrt(w_a + w_b), rel=1e-12)
    np.testing.assert_allclose(c.details["weights"], [w_a / (w_a + w_b), w_b / (w_a + w_b)],
                               rtol=1e-12)
    q = w_a * (np.log(a.median) - mu) ** 2 + w_b * (np.log(120_000.0) - mu) ** 2
    assert c.details["q_statistic"] == pytest.approx(q, rel=1e-10)
    assert c.method == "combined"


def test_combine_refuses_exact_estimates():
    exact = population_from_design(30_000, 250.0)
    with pytest.raises(InputError, match="no spread"):
        combine_population_estimates([population_census(1e5, cv=0.1), exact])
    with pytest.raises(InputError, match="at least one"):
        combine_population_estimates([])
