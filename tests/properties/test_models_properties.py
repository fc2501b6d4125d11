"""Property tests of the time-series models: invariances that must hold for any input."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import rankdata

from wbe.models.changepoints import detect_changepoints
from wbe.models.smoother import StateSpaceModel, kalman_smoother
from wbe.models.trends import mann_kendall, trend_class

VALUES = arrays(
    float,
    st.integers(5, 40),
    elements=st.floats(0.01, 1000.0, allow_nan=False, allow_infinity=False),
)


@given(VALUES)
@settings(max_examples=40, deadline=None)
def test_mann_kendall_reversal_and_monotone_invariance(y):
    fwd = mann_kendall(y)
    assert mann_kendall(y[::-1]).s == -fwd.s
    assert mann_kendall(rankdata(y)).s == fwd.s  # S depends on ranks only
    assert 0.0 <= fwd.p_value <= 1.0


@given(VALUES, st.floats(0.1, 10.0), st.floats(-100.0, 100.0))
@settings(max_examples=40, deadline=None)
def test_sen_slope_is_affine_equivariant(y, a, b):
    s1 = mann_kendall(y).slope
    s2 = mann_kendall(a * y + b).slope
    np.testing.assert_allclose(s2, a * s1, rtol=1e-9, atol=1e-9)


@given(VALUES, st.floats(0.01, 100.0))
@settings(max_examples=30, deadline=None)
def test_trend_class_and_changepoints_ignore_units(y, factor):
    assert trend_class(y) == trend_class(y * factor)
    if y.size >= 5:
        assert detect_changepoints(y).index == detect_changepoints(y * factor).index


@given(
    arrays(float, (3, 25), elements=st.floats(-3, 3, allow_nan=False)),
    arrays(bool, (3, 25)),
    st.permutations([0, 1, 2]),
)
@settings(max_examples=25, deadline=None)
def test_batched_smoother_equals_one_series_at_a_time_and_order_free(y, missing, order):
    y = np.where(missing, np.nan, y)
    model = StateSpaceModel("local_linear_trend")
    params = [0.2, 0.05, 0.001]
    batch = kalman_smoother(y, model, params)
    perm = kalman_smoother(y[list(order)], model, params)
    for k, i in enumerate(order):
        one = kalman_smoother(y[i], model, params)
        np.testing.assert_allclose(
            batch.smoothed_state[i], one.smoothed_state[0], rtol=1e-12, atol=1e-12
        )
        np.testing.assert_array_equal(perm.smoothed_state[k], batch.smoothed_state[i])
        np.testing.assert_allclose(batch.loglike[i], one.loglike[0], rtol=1e-12)
