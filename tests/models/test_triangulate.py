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
        n_draws=200_000,
        seed=2,
    )
    assert again.table.equals(tri.table)


def test_bad_input():
    with pytest.raises(InputError, match="registered_users"):
        triangulate(300_000, 0)
    with pytest.raises(InputError, match="population"):
        triangulate(300_000, 100, positivity=(3, 100))
    with pytest.raises(InputError, match="successes"):
        triangulate(300_000, 100, registered_among_users=(30, 10))
    with pytest.raises(InputError, match="draws"):
        triangulate(np.array([1.0, 2.0]), 100)
    with pytest.raises(InputError, match="whole numbers"):
        triangulate(300_000, 100, positivity=(2.7, 10), population=1_000_000)
