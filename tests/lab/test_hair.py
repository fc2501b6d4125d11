"""Tests of wbe.lab.hair: time windows of hair segments.

The Monte Carlo quantiles are checked against the distribution of the window end computed
by quadrature, and the Chinese rule (公安部《涉毒人员毛发样本检测规范》2018, 第十条: a positive
segment within 3 cm of the root means use within six months) is derived from the default
growth-rate, stub and lag distributions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from wbe.errors import InputError
from wbe.lab.hair import (
    DAYS_PER_MONTH,
    default_growth_rate,
    default_lag_days,
    default_stub_cm,
    hair_windows,
    segment_time_window,
)


def _oldest_end_cdf(months, segment_cm_to, stub=None, n_grid=400):
    """P(lag + (to + stub)/g <= months) by midpoint quadrature over the stub and the lag
    (on their quantile scale), with the growth-rate survival function in closed form."""
    g = default_growth_rate()
    stub = default_stub_cm() if stub is None else stub
    lag = default_lag_days()
    u = (np.arange(n_grid) + 0.5) / n_grid
    s = (stub.ppf(u) if hasattr(stub, "ppf") else np.full(n_grid, float(stub)))[:, None]
    lam = lag.ppf(u)[None, :] / DAYS_PER_MONTH
    room = months - lam
    need = np.where(room > 0, (segment_cm_to + s) / np.where(room > 0, room, 1.0), np.inf)
    return float(np.mean(g.sf(need)))


def test_defaults_reproduce_published_values():
    g = default_growth_rate()
    # LeBeau et al. 2011: mean 1.06 cm/month; SoHT 2012: range from 0.6 cm/month
    assert g.mean() == pytest.approx(1.06, rel=1e-12)
    assert g.ppf(0.025) == pytest.approx(0.6, rel=1e-12)
    # LeBeau et al. 2011: 0.8 +/- 0.1 cm left on the scalp
    assert default_stub_cm().mean() == pytest.approx(0.8, rel=1e-9)
    assert default_stub_cm().std() == pytest.approx(0.1, rel=1e-6)


def test_fixed_parameters_give_the_closed_form_window():
    w = segment_time_window(
        [0.0, 1.0, 3.0], [1.0, 3.0, 6.0], growth_cm_per_month=1.25, stub_cm=0.25,
        lag_days=DAYS_PER_MONTH / 2,
    )
    # t = lag + (d + stub) / g
    np.testing.assert_allclose(w.recent_median, 0.5 + (np.array([0, 1, 3]) + 0.25) / 1.25,
                               rtol=1e-12)
    np.testing.assert_allclose(w.oldest_median, 0.5 + (np.array([1, 3, 6]) + 0.25) / 1.25,
                               rtol=1e-12)
    np.testing.assert_allclose(w.oldest_upper, w.oldest_median, rtol=1e-12)
    assert w.n_draws == 1


def test_growth_only_uncertainty_matches_lognormal_quantiles():
    g = stats.lognorm(s=0.25, scale=1.0)
    w = segment_time_window(0.0, 3.0, growth_cm_per_month=g, stub_cm=0.0, lag_days=0.0,
                            n_draws=200_000, seed=3)
    # oldest = 3 / g, decreasing in g: its 97.5 % quantile is 3 / g.ppf(0.025)
    assert w.oldest_upper == pytest.approx(3.0 / g.ppf(0.025), rel=5e-3)
    assert w.oldest_lower == pytest.approx(3.0 / g.ppf(0.975), rel=5e-3)
    assert w.oldest_median == pytest.approx(3.0, rel=3e-3)


def test_monte_carlo_quantile_agrees_with_quadrature():
    w = segment_time_window(0.0, 3.0, seed=11, n_draws=50_000)
    # with 50 000 draws the empirical CDF at a quantile has SD about 7e-4
    assert _oldest_end_cdf(float(w.oldest_upper), 3.0) == pytest.approx(0.975, abs=3e-3)
    assert _oldest_end_cdf(float(w.oldest_median), 3.0) == pytest.approx(0.5, abs=5e-3)


def test_chinese_six_month_rule_follows_from_growth_uncertainty():
    """公安部《涉毒人员毛发样本检测规范》第十条: 发根端3厘米以内阳性 -> 6个月以内摄入过毒品.

    With LeBeau's growth rate and stub, the one-sided 95 % upper bound of how far back a
    0-3 cm segment reaches is about six months (6.2); six months themselves hold with
    probability about 94 %, and above 97.5 % when hair is cut within 3 mm of the scalp.
    """
    p_within_6 = _oldest_end_cdf(6.0, 3.0)
    assert 0.90 <= p_within_6 <= 0.97
    assert _oldest_end_cdf(6.0, 3.0, stub=0.3) >= 0.975
    w = segment_time_window(0.0, 3.0, level=0.90, seed=2024)  # upper = 95th percentile
    assert 5.5 <= float(w.oldest_upper) <= 6.5
    # the naive "1 cm per month" reading (3 months) would be wrong for most people ...
    assert _oldest_end_cdf(3.0, 3.0) < 0.2
    # ... and growth-rate uncertainty, not the stub or the lag, is what needs 6 months
    fixed = segment_time_window(0.0, 3.0, growth_cm_per_month=1.06, seed=2024)
    assert float(fixed.oldest_upper) < 4.5


def test_recent_drug_use_is_invisible_for_about_three_weeks():
    w = segment_time_window(0.0, 1.0, seed=5)
    days = float(w.recent_lower) * DAYS_PER_MONTH
    # lag 7-14 days plus the 0.8 cm stub at up to about 1.7 cm/month
    assert 18.0 <= days <= 28.0


def test_windows_are_reproducible_and_vectorised():
    a = segment_time_window([0, 1, 2], [1, 2, 3], seed=9)
    b = segment_time_window([0, 1, 2], [1, 2, 3], seed=9)
    np.testing.assert_array_equal(a.oldest_upper, b.oldest_upper)
    assert a.oldest_upper.shape == (3,)
    # segments of one person share the growth draw: adjacent windows meet
    np.testing.assert_allclose(a.oldest_median[:-1], a.recent_median[1:], rtol=1e-12)
    assert np.all(np.diff(a.oldest_upper) > 0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"segment_cm_from": 3.0, "segment_cm_to": 1.0},
        {"segment_cm_from": -1.0, "segment_cm_to": 1.0},
        {"segment_cm_from": [0, 1], "segment_cm_to": [1, 2, 3]},
        {"segment_cm_from": 0.0, "segment_cm_to": 3.0, "growth_cm_per_month": 0.0},
        {"segment_cm_from": 0.0, "segment_cm_to": 3.0, "stub_cm": "short"},
        {"segment_cm_from": 0.0, "segment_cm_to": 3.0, "level": 1.5},
    ],
)
def test_bad_segments_raise_input_error(kwargs):
    with pytest.raises(InputError):
        segment_time_window(**kwargs)


def test_hair_windows_adds_calendar_dates():
    results = pd.DataFrame(
        {
            "collected_on": ["2024-07-01", "2024-07-01"],
            "segment_cm_from": [0.0, 3.0],
            "segment_cm_to": [3.0, 6.0],
            "source_row": [2, 3],
        }
    )
    out = hair_windows(results, growth_cm_per_month=1.0, stub_cm=0.0, lag_days=0.0)
    assert out["window_start"].dt.strftime("%Y-%m-%d").tolist() == ["2024-03-31",
                                                                     "2023-12-31"]
    assert out["window_end"].dt.strftime("%Y-%m-%d").tolist() == ["2024-07-01",
                                                                   "2024-04-01"]
    assert list(out.columns[:4]) == list(results.columns)


def test_hair_windows_names_the_bad_row():
    results = pd.DataFrame(
        {"collected_on": ["2024-07-01", "2024-07-01"], "segment_cm_from": [0.0, 3.0],
         "segment_cm_to": [3.0, 2.0], "source_row": [2, 3]}
    )
    with pytest.raises(InputError, match="row 3"):
        hair_windows(results)
    results.loc[0, "collected_on"] = "not a date"
    with pytest.raises(InputError, match="row 2") as info:
        hair_windows(results)
    assert info.value.column == "collected_on"
