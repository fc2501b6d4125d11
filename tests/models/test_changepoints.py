"""Change points: PELT must equal exact optimal partitioning (Jackson et al. 2005 dynamic
programme, written out here as the oracle) for the same penalty; known shifts are recovered."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wbe.errors import InputError, UnknownNameError
from wbe.models.changepoints import bic_penalty, detect_changepoints


def _optimal_partitioning(y, pen, min_size):
    """Exact minimiser of sum of segment SSE + pen * K (O(n^2) dynamic programme)."""
    n = y.size
    cs = np.concatenate([[0.0], np.cumsum(y)])
    cs2 = np.concatenate([[0.0], np.cumsum(y**2)])

    def cost(a, b):
        m = b - a
        return cs2[b] - cs2[a] - (cs[b] - cs[a]) ** 2 / m

    best = np.full(n + 1, np.inf)
    best[0] = -pen
    last = np.zeros(n + 1, int)
    for b in range(min_size, n + 1):
        for a in range(0, b - min_size + 1):
            if a != 0 and a < min_size:
                continue
            c = best[a] + cost(a, b) + pen
            if c < best[b] - 1e-12:
                best[b], last[b] = c, a
    out, b = [], n
    while b > 0:
        b = last[b]
        if b > 0:
            out.append(b)
    return tuple(sorted(out))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pelt_equals_optimal_partitioning(seed):
    rng = np.random.default_rng(seed)
    level = np.repeat(rng.normal(3, 0.5, 4), 20)
    x = np.exp(level + rng.normal(0, 0.15, level.size))
    cp = detect_changepoints(x, method="pelt", penalty_rule="bic")
    pen, _ = bic_penalty(np.log(x), "bic")
    assert cp.index == _optimal_partitioning(np.log(x), pen, 2)
    np.testing.assert_allclose(cp.penalty, pen, rtol=1e-12)


def test_known_shifts_and_labels():
    rng = np.random.default_rng(5)
    days = pd.date_range("2024-01-01", periods=90)
    level = np.r_[np.full(30, 3.0), np.full(30, 3.8), np.full(30, 3.2)]
    s = pd.Series(np.exp(level + rng.normal(0, 0.1, 90)), index=days)
    for method in ("pelt", "binseg"):
        cp = detect_changepoints(s, method=method)
        assert cp.index == (30, 60)
        assert cp.labels == (days[30], days[60])
        np.testing.assert_allclose(cp.segment_means, [3.0, 3.8, 3.2], atol=0.05)


def test_robust_sigma_of_white_noise():
    y = np.random.default_rng(9).normal(0, 0.3, 5000)
    pen, sigma = bic_penalty(y, "mbic")
    np.testing.assert_allclose(sigma, 0.3, rtol=0.05)
    np.testing.assert_allclose(pen, 3 * sigma**2 * np.log(5000), rtol=1e-12)


def test_bad_input():
    with pytest.raises(InputError, match="NaN"):
        detect_changepoints([1.0, 2.0, np.nan, 3.0, 4.0, 5.0])
    with pytest.raises(InputError, match="positive"):
        detect_changepoints([1.0, 2.0, 0.0, 3.0, 4.0, 5.0])
    with pytest.raises(UnknownNameError):
        detect_changepoints([1.0] * 10, method="pelts")
