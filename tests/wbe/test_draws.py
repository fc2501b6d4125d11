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


def _stream_at(seed, component, scope, position):
    """A fresh numpy PCG64DXSM at the scope's documented state, jumped to ``position``."""
    state, increment, _ = _draws._scope_stream(seed, component, scope)
    bits = np.random.PCG64DXSM()
    bits.state = {"bit_generator": "PCG64DXSM", "state": {"state": state, "inc": increment},
                  "has_uint32": 0, "uinteger": 0}
    return bits.advance(position)


def _oracle_words(seed, component, scope, day, block):
    """The BLOCK words of (day, block), from a fresh generator at the documented position."""
    t = int(day.astype("datetime64[D]").astype(np.int64))
    position = (block << 64) + (t + 2**30) * _draws.BLOCK
    return _stream_at(seed, component, scope, position).random_raw(_draws.BLOCK)


def _numpy_normal_at(seed, component, scope, position):
    """numpy's own ``standard_normal`` of the stream started at ``position``: for a word the
    ziggurat accepts at once, numpy's value of exactly that word."""
    return np.random.Generator(_stream_at(seed, component, scope, position)).standard_normal()


def _fast_accepted(words):
    out, rejected = np.empty(len(words)), np.empty(len(words), dtype=bool)
    _draws._ziggurat_fast(words, out, rejected)
    return ~rejected


@pytest.mark.parametrize("draws", [1, 64, 100, 101, 250])
def test_day_draws_are_the_documented_words(draws):
    u = _draws.day_uniforms(5, "measurement", ("P1", "ketamine"), DAYS, draws)
    z = _draws.day_normals(5, "measurement", ("P1", "ketamine"), DAYS, draws)
    for i, day in enumerate(DAYS):
        words = np.concatenate([_oracle_words(5, "measurement", ("P1", "ketamine"), day, b)
                                for b in range(-(-draws // _draws.BLOCK))])[:draws]
        expected = ((words >> np.uint64(11)).astype(float) + 0.5) / 2.0**53
        np.testing.assert_array_equal(u[i], expected)
        # the normal of each word the ziggurat accepts at once is numpy's value of that word
        t = int(day.astype(np.int64))
        for d in np.flatnonzero(_fast_accepted(words)).tolist():
            position = ((d // _draws.BLOCK) << 64) + (t + 2**30) * _draws.BLOCK \
                + d % _draws.BLOCK
            assert z[i, d] == pytest.approx(
                _numpy_normal_at(5, "measurement", ("P1", "ketamine"), position), rel=1e-13)
    assert ((u > 0) & (u < 1)).all()


def test_splitmix64_matches_the_published_reference_outputs():
    # Vigna's splitmix64.c seeded with 0 and with 42: outputs n = 1..4 are mix(seed + n*gamma)
    gamma = 0x9E3779B97F4A7C15
    for seed, want in [(0, [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F,
                            0xF88BB8A8724C81EC]),
                       (42, [0xBDD732262FEB6E95, 0x28EFE333B266F103, 0x47526757130F9F52,
                             0x581CE1FF0E4AE394])]:
        states = np.array([(seed + n * gamma) % 2**64 for n in range(1, 5)], dtype=np.uint64)
        assert _draws._splitmix64(states).tolist() == want


def test_rejected_draws_follow_numpys_ziggurat_in_distribution():
    """Where the fast path rejects a word, numpy's ziggurat goes on with the next words of
    its stream, wbe with SplitMix64 words at the draw's position: the two must give the same
    distribution (two-sample KS, and the same share in the tail beyond the base layer,
    where the unfinished fast-path values never go)."""
    from scipy import stats

    scope = ("P9", "mdma")
    words = _stream_at(3, "measurement", scope, 0).random_raw(600_000)
    fast, rejected = np.empty(len(words)), np.empty(len(words), dtype=bool)
    _draws._ziggurat_fast(words, fast, rejected)
    at = np.flatnonzero(rejected)
    seed = _draws._scope_stream(3, "measurement", scope)[2]
    ours = _draws._ziggurat_slow(words[at], np.full(len(at), seed, np.uint64), at // 100,
                                 at % 100)
    theirs = np.array([_numpy_normal_at(3, "measurement", scope, p) for p in at.tolist()])
    assert len(at) > 6000
    assert stats.ks_2samp(ours, theirs).pvalue > 1e-3
    q = _draws._ZIG_WIDTH[0] * 2.0**52  # the base layer's fast values stay below q
    assert (np.abs(fast[at]) <= q).all()
    beyond_ours, beyond_theirs = (np.abs(ours) > q).sum(), (np.abs(theirs) > q).sum()
    assert beyond_theirs > 20
    assert abs(beyond_ours - beyond_theirs) < 4.5 * np.sqrt(beyond_ours + beyond_theirs)


def test_day_normals_are_standard_normal_in_the_tails():
    from scipy import stats

    days = np.arange(np.datetime64("2020-01-01"), np.datetime64("2023-01-01"))
    z = _draws.day_normals(17, "flow", ("P3",), days, 1000).ravel()  # 1.1 million
    assert stats.kstest(z, "norm").pvalue > 1e-3
    for x in (2.0, 3.0, _draws._ZIG_R, 4.0):
        expected = 2 * stats.norm.sf(x) * len(z)
        assert abs((np.abs(z) > x).sum() - expected) < 4.5 * np.sqrt(expected)


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
    scaled = _draws.day_normals_scopes(9, "measurement", scopes, DAYS[::-1], 70, scale=-0.3)
    for j, scope in enumerate(scopes):
        np.testing.assert_array_equal(many[j], _draws.day_normals(9, "measurement", scope,
                                                                  DAYS[::-1], 70))
    np.testing.assert_allclose(scaled, -0.3 * many, rtol=1e-15, atol=0)


def test_keyed_draws_each_equals_one_call_per_key():
    from scipy import stats

    dists = [stats.norm(1e5, 2e3), 7.0, stats.norm(3e5, 1e4), stats.lognorm(0.3, scale=2.0),
             stats.truncnorm(-2, 3, loc=10, scale=1), stats.norm(loc=5, scale=2)]
    keys = [(f"P{i}",) for i in range(len(dists))]
    many = _draws.keyed_draws_each(dists, 4, "population", keys, 33)
    for i, dist in enumerate(dists):
        np.testing.assert_array_equal(many[i], _draws.keyed_draws(dist, 4, "population",
                                                                  [keys[i]], 33)[0])


def test_day_draws_refuse_day_numbers_outside_the_layout():
    with pytest.raises(ValueError, match="2\\*\\*30"):
        _draws.day_normals(1, "flow", ("P1",), np.array([2**30]), 5)
