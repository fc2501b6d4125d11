"""Keyed draws (wbe._draws): each key's stream is numpy's own ``Philox(key=...)`` stream.

The oracle is a fresh ``numpy.random.Philox`` per key (not the code under test's re-keyed
generator), so the draws of a key cannot depend on the keys drawn before it.
"""

from __future__ import annotations

import numpy as np
import pytest

from wbe import _draws

KEYS = [("P1", "2024-01-01", "methamphetamine"), ("P2",), ("P1", "2024-01-02", "ketamine")]


def _fresh(seed, component, key):
    return np.random.Generator(np.random.Philox(key=_draws._philox_key(seed, component, key)))


@pytest.mark.parametrize("draws", [1, 3, 1000])
def test_keyed_uniforms_and_normals_are_the_philox_stream_of_each_key(draws):
    u = _draws.keyed_uniforms(7, "flow", KEYS, draws)
    z = _draws.keyed_normals(7, "flow", KEYS, draws)
    for i, key in enumerate(KEYS):
        np.testing.assert_array_equal(u[i], _fresh(7, "flow", key).random(draws))
        np.testing.assert_array_equal(z[i], _fresh(7, "flow", key).standard_normal(draws))
    # a key's row does not depend on the other keys or their order
    np.testing.assert_array_equal(_draws.keyed_uniforms(7, "flow", KEYS[::-1], draws), u[::-1])


# ----------------------------------------------------------------- day layout (per scope)

DAYS = np.array(["2023-12-30", "2024-01-01", "2024-01-02", "2024-01-05", "2024-03-01",
                 "1960-06-01"], dtype="datetime64[D]")


def _oracle_words(seed, component, scope, day, block):
    """The 64 words of (day, block), from a fresh numpy Philox at the documented counter."""
    key = _draws._philox_key(seed, component, scope)
    t = int(day.astype("datetime64[D]").astype(np.int64))
    counter = [(t + 2**40) * (_draws.BLOCK // 4), 0, block, 0]
    return np.random.Philox(key=key, counter=counter).random_raw(_draws.BLOCK)


@pytest.mark.parametrize("draws", [1, 64, 100, 129])
def test_day_draws_are_the_documented_philox_words(draws):
    from scipy.special import ndtri

    u = _draws.day_uniforms(5, "measurement", ("P1", "ketamine"), DAYS, draws)
    z = _draws.day_normals(5, "measurement", ("P1", "ketamine"), DAYS, draws)
    for i, day in enumerate(DAYS):
        words = np.concatenate([_oracle_words(5, "measurement", ("P1", "ketamine"), day, b)
                                for b in range((draws + 63) // 64)])[:draws]
        expected = ((words >> np.uint64(11)).astype(float) + 0.5) / 2.0**53
        np.testing.assert_array_equal(u[i], expected)
        np.testing.assert_array_equal(z[i], ndtri(expected))
    assert ((u > 0) & (u < 1)).all()


def test_day_draws_do_not_depend_on_other_days_order_or_count():
    full = _draws.day_normals(2, "flow", ("P7",), DAYS, 150)
    rng = np.random.default_rng(0)
    for _ in range(5):
        pick = rng.permutation(len(DAYS))[:rng.integers(1, len(DAYS) + 1)]
        n = int(rng.integers(1, 150))
        part = _draws.day_normals(2, "flow", ("P7",), DAYS[pick], n)
        np.testing.assert_array_equal(part, full[pick, :n])
    # integer day numbers give the same draws; a strided output view is filled in place
    out = np.full((len(DAYS), 2, 150), np.nan)
    _draws.day_normals(2, "flow", ("P7",), _draws.day_numbers(DAYS), 150, out=out[:, 1])
    np.testing.assert_array_equal(out[:, 1], full)
    assert np.isnan(out[:, 0]).all()


def test_day_draws_differ_between_scopes_components_seeds_and_days():
    a = _draws.day_normals(2, "flow", ("P7",), DAYS, 50)
    for other in (_draws.day_normals(2, "flow", ("P8",), DAYS, 50),
                  _draws.day_normals(2, "sampling", ("P7",), DAYS, 50),
                  _draws.day_normals(3, "flow", ("P7",), DAYS, 50)):
        assert not np.isin(a, other).any()
    assert len(np.unique(a)) == a.size  # no two days or draws share a word


def test_day_draws_are_standard_normal_and_uniform():
    from scipy import stats

    days = np.arange(np.datetime64("2024-01-01"), np.datetime64("2024-04-10"))
    z = _draws.day_normals(11, "measurement", ("P1", "mdma"), days, 200).ravel()
    u = _draws.day_uniforms(11, "censored_concentration", ("P1", "mdma"), days, 200).ravel()
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert stats.kstest(u, "uniform").pvalue > 1e-3


def test_day_draws_refuse_repeated_dates():
    with pytest.raises(ValueError, match="unique"):
        _draws.day_normals(1, "flow", ("P1",), DAYS[[0, 0]], 5)


def test_day_normals_of_several_scopes_equal_one_call_per_scope():
    scopes = [("P1", "mdma"), ("P2", "mdma"), ("P1", "ketamine")]
    many = _draws.day_normals_scopes(9, "measurement", scopes, DAYS[::-1], 70)
    for j, scope in enumerate(scopes):
        np.testing.assert_array_equal(many[j], _draws.day_normals(9, "measurement", scope,
                                                                  DAYS[::-1], 70))
