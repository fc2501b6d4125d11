"""Trend tests against base R (cor.test, lm; tests/models/r_trends/make_trend_reference.R)
and scipy.stats (kendalltau, theilslopes) as oracles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from wbe.errors import InputError
from wbe.models.trends import (
    akritas_theil_sen_slope,
    annual_percent_change,
    censored_mann_kendall,
    mann_kendall,
    percent_change_window,
    seasonal_mann_kendall,
    trend_class,
)

HERE = Path(__file__).parent / "r_trends"
DATA = pd.read_csv(HERE / "trend_input.csv")
REF = pd.read_csv(HERE / "trend_reference.csv").set_index("series")


@pytest.mark.r_reference
@pytest.mark.parametrize("sid", sorted(DATA["series"].unique()))
def test_against_r(sid):
    s = DATA[DATA["series"] == sid]
    ref = REF.loc[sid]
    mk = mann_kendall(s["value"], s["t_day"])
    np.testing.assert_allclose(mk.z, ref["mk_z"], rtol=1e-10)
    np.testing.assert_allclose(mk.p_value, ref["mk_p"], rtol=1e-9)
    np.testing.assert_allclose(mk.tau, ref["mk_tau"], rtol=1e-10)
    smk = seasonal_mann_kendall(s["value"], s["month"], s["t_day"])
    assert smk.s == ref["smk_s"]
    np.testing.assert_allclose(smk.var_s, ref["smk_var"], rtol=1e-12)
    apc = annual_percent_change(s["value"], s["t_day"])
    np.testing.assert_allclose(
        [apc.percent, apc.lower, apc.upper, apc.p_value],
        ref[["apc", "apc_lower", "apc_upper", "apc_p"]].to_numpy(float),
        rtol=1e-8,
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sen_slope_against_scipy(seed):
    """Tie-free values: scipy's interval (ties in t only) and Gilbert's coincide."""
    rng = np.random.default_rng(seed)
    s = pd.DataFrame({"t_day": np.sort(rng.choice(1000, 60, replace=False)).astype(float)})
    s["value"] = 0.003 * s["t_day"] + rng.normal(0, 1, 60)
    mk = mann_kendall(s["value"], s["t_day"], level=0.9)
    ref = stats.theilslopes(s["value"], s["t_day"], alpha=0.9)
    np.testing.assert_allclose(mk.slope, ref.slope, rtol=1e-12)
    # scipy takes the Sen (1968) interval ranks by rounding as well
    np.testing.assert_allclose(
        [mk.slope_lower, mk.slope_upper], [ref.low_slope, ref.high_slope], rtol=1e-12
    )
    tau = stats.kendalltau(s["t_day"], s["value"])
    np.testing.assert_allclose(mk.tau, tau.statistic, rtol=1e-12)


def test_ats_equals_theil_sen_without_censoring():
    s = DATA[DATA["series"] == 2]
    b = akritas_theil_sen_slope(s["value"], np.zeros(len(s), bool), s["t_day"])
    np.testing.assert_allclose(b, stats.theilslopes(s["value"], s["t_day"]).slope, rtol=1e-7)


def test_ats_censoring_keeps_direction():
    t = np.arange(40.0)
    y = 0.1 * t + np.random.default_rng(1).normal(0, 0.3, 40)
    loq = 1.2
    cens = y < loq
    assert cens.sum() >= 5
    b = akritas_theil_sen_slope(np.where(cens, loq, y), cens, t)
    naive = stats.theilslopes(np.where(cens, loq, y), t).slope  # substitution flattens
    assert b > naive
    np.testing.assert_allclose(b, stats.theilslopes(y, t).slope, rtol=0.1)


def test_percent_change_window_exact_and_classes():
    t = pd.date_range("2025-01-01", periods=40)
    y = 100 * np.exp(0.02 * np.arange(40))
    pc = percent_change_window(y, t, window_days=15)
    assert pc.n == 15
    np.testing.assert_allclose(pc.percent, 100 * np.expm1(0.02 * 14), rtol=1e-10)
    assert trend_class(y * np.exp(np.random.default_rng(2).normal(0, 0.001, 40))) == (
        "sustained increase"
    )
    assert trend_class(y[::-1] * np.exp(np.random.default_rng(3).normal(0, 0.001, 40))) == (
        "sustained decrease"
    )


def test_bad_input():
    with pytest.raises(InputError, match="at least 3"):
        mann_kendall([1.0, np.nan, 2.0])
    with pytest.raises(InputError, match="positive"):
        annual_percent_change([1.0, 0.0, 2.0], [0, 1, 2])
    with pytest.raises(InputError, match="length"):
        mann_kendall([1, 2, 3], [1, 2])


CENS = pd.read_csv(HERE / "censored_input.csv")
CENS_REF = pd.read_csv(HERE / "censored_reference.csv").set_index("series")


@pytest.mark.r_reference
@pytest.mark.parametrize("sid", sorted(CENS["series"].unique()))
def test_censored_mann_kendall_against_r(sid):
    s = CENS[CENS["series"] == sid]
    ref = CENS_REF.loc[sid]
    r = censored_mann_kendall(s["value"], s["censored"].astype(bool), s["t_day"])
    np.testing.assert_allclose(
        [r.z, r.p_value, r.tau], ref[["z", "p", "tau"]].to_numpy(float), rtol=1e-10
    )
    assert np.isfinite(r.slope)
