"""Triangulation: exact ratios for numbers, draws vs analytic quantiles of the transformed
distributions (scipy.stats lognorm / beta ppf), and input checks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from wbe.errors import InputError
from wbe.models.triangulate import triangulate


def test_documented_city_example():
    """54,975 registered users against an estimated 300,000 users: ratio about 5.5."""
    tri = triangulate(300_000, 54_975)
    np.testing.assert_allclose(tri.total_to_registered, [300_000 / 54_975] * 3, rtol=1e-12)
    np.testing.assert_allclose(tri.hidden_to_registered[0], 245_025 / 54_975, rtol=1e-12)
    np.testing.assert_allclose(tri.registered_share[0], 54_975 / 300_000, rtol=1e-12)


def test_distribution_quantiles():
    dist = stats.lognorm(s=0.4, scale=300_000)
    tri = triangulate(dist, 54_975, n_draws=200_000, seed=1)
    expected = dist.ppf([0.5, 0.025, 0.975]) / 54_975
    np.testing.assert_allclose(tri.total_to_registered, expected, rtol=0.01)
    np.testing.assert_allclose(tri.hidden_to_registered, expected - 1, rtol=0.015)


def test_multiplier_and_positivity_quantiles():
    tri = triangulate(
        300_000,
        54_975,
        registered_among_users=(45, 250),
        positivity=(30, 1000),
        population=8_000_000,
        detection_window_days=3,
        n_draws=200_000,
        seed=2,
    )
    tab = tri.table.set_index("source")
    p = stats.beta(45.5, 205.5)  # Jeffreys
    # N = M / p is decreasing in p: its quantile q is M / p-quantile(1 - q)
    np.testing.assert_allclose(
        tab.loc["multiplier", ["median", "lower", "upper"]].to_numpy(float),
        54_975 / p.ppf([0.5, 0.975, 0.025]),
        rtol=0.01,
    )
    pi = stats.beta(30.5, 970.5)
    np.testing.assert_allclose(
        tab.loc["positivity", ["median", "lower", "upper"]].to_numpy(float),
        8_000_000 * pi.ppf([0.5, 0.025, 0.975]),
        rtol=0.01,
    )
    again = triangulate(
        300_000,
        54_975,
        registered_among_users=(45, 250),
        positivity=(30, 1000),
        population=8_000_000,
        detection_window_days=3,
        n_draws=200_000,
        seed=2,
    )
    assert again.table.equals(tri.table)


def test_bad_input():
    with pytest.raises(InputError, match="registered_users"):
        triangulate(300_000, 0)
    with pytest.raises(InputError, match="population"):
        triangulate(300_000, 100, positivity=(3, 100), detection_window_days=3)
    with pytest.raises(InputError, match="successes"):
        triangulate(300_000, 100, registered_among_users=(30, 10))
    with pytest.raises(InputError, match="draws"):
        triangulate(np.array([1.0, 2.0]), 100)
    with pytest.raises(InputError, match="whole numbers"):
        triangulate(300_000, 100, positivity=(2.7, 10), population=1_000_000,
                    detection_window_days=3)


def test_daily_users_are_not_set_against_registered_persons():
    import xarray as xr

    with pytest.raises(InputError, match="past_month"):
        triangulate(300_000, 54_975, case_definition="daily")
    daily = xr.DataArray(np.full(200, 3000.0), dims="draw", attrs={"case_definition": "daily"})
    with pytest.raises(InputError, match="cannot be set against"):
        triangulate(daily, 54_975)
    monthly = daily.assign_attrs(case_definition="past_month")
    assert triangulate(monthly, 1000).total_to_registered[0] == pytest.approx(3.0)
    with pytest.raises(InputError, match="carry"):
        triangulate(monthly, 1000, case_definition="daily")


def test_positivity_needs_its_detection_window():
    with pytest.raises(InputError, match="detection_window_days"):
        triangulate(300_000, 54_975, positivity=(3, 1500), population=1e6)


def test_detection_probability_by_hand():
    from wbe.models.triangulate import detection_probability

    # one use day in a 30.4375-day month, 3-day window: 1 - (1 - 1/30.4375)^3
    assert detection_probability(3, 1) == pytest.approx(1 - (1 - 1 / 30.4375) ** 3, rel=1e-12)
    # daily users are always seen
    assert detection_probability(2, 30.4375) == pytest.approx(1.0)
    mix = {1: 0.5, 10: 0.5}
    expected = 0.5 * (1 - (1 - 1 / 30.4375) ** 3) + 0.5 * (1 - (1 - 10 / 30.4375) ** 3)
    assert detection_probability(3, mix) == pytest.approx(expected, rel=1e-12)


def test_positivity_converted_to_past_month_users():
    from wbe.models.triangulate import detection_probability

    tri = triangulate(300_000, 54_975, positivity=(30, 1000), population=8_000_000,
                      detection_window_days=3, use_days_per_month=4, n_draws=100_000, seed=4)
    tab = tri.table.set_index("source")
    p = detection_probability(3, 4)
    np.testing.assert_allclose(tab.loc["positivity_past_month", "median"],
                               tab.loc["positivity", "median"] / p, rtol=1e-9)
    assert tab.loc["positivity_past_month", "median"] > tab.loc["positivity", "median"]
