"""The smoother's one fast path (local linear trend, unrolled) equals its general matrix pass.

``models/smoother.py`` keeps one general filter/smoother pass (batched matrix products, any
state dimension) and one hand-unrolled fast path for the common local linear trend. Both are run
here on the same inputs, with missing days, a known per-observation variance and left-censored
values, and must agree to rounding: 1e-11 with a proper initial variance; with the default
approximate diffuse start (kappa = 1e6) both lose digits in the first days (differences of
O(kappa) numbers, see tests/models/test_smoother.py), so the bound there is 1e-7.
"""

from __future__ import annotations

import numpy as np
import pytest

from wbe.models import smoother
from wbe.models.smoother import StateSpaceModel, kalman_smoother, simulation_smoother

FIELDS = ("smoothed_state", "smoothed_state_cov", "predicted_state", "predicted_state_cov",
          "loglike", "pseudo_obs", "pseudo_obs_var", "filtered_state", "filtered_state_cov")


def _inputs(seed=7, n_series=4, n_time=120):
    rng = np.random.default_rng(seed)
    level = np.cumsum(np.cumsum(rng.normal(0, 0.01, (n_series, n_time)), axis=1), axis=1)
    y = 3.0 + level + rng.normal(0, 0.2, (n_series, n_time))
    y[:, 5::9] = np.nan                        # missed sampling days
    obs_var = rng.uniform(0.01, 0.05, (n_series, n_time))
    censored = np.zeros_like(y, dtype=bool)
    censored[:, 30:36] = True                  # below the LOQ: y holds log(LOQ)
    y[censored] = 2.8
    return y, obs_var, censored


def _run(general: bool, monkeypatch, **kw):
    if general:
        monkeypatch.setattr(smoother, "_is_lltrend", lambda z, tr: False)
    y, obs_var, censored = _inputs()
    return kalman_smoother(y, StateSpaceModel("local_linear_trend"), [0.04, 0.002, 1e-5],
                           obs_var=obs_var, censored=censored, **kw)


def test_fast_path_is_used_for_the_local_linear_trend():
    model = StateSpaceModel("local_linear_trend")
    assert smoother._is_lltrend(*model.system())
    assert not smoother._is_lltrend(*StateSpaceModel("local_level").system())
    assert not smoother._is_lltrend(*StateSpaceModel("local_linear_trend",
                                                     weekday=True).system())


@pytest.mark.parametrize("field", FIELDS)
def test_fast_path_equals_general_pass(monkeypatch, field):
    fast = getattr(_run(False, monkeypatch, initial_variance=10.0), field)
    with monkeypatch.context() as m:
        general = getattr(_run(True, m, initial_variance=10.0), field)
    assert np.isfinite(fast[np.isfinite(general)]).all()
    np.testing.assert_allclose(fast, general, rtol=1e-8, atol=1e-11, equal_nan=True)


@pytest.mark.parametrize("field", ["smoothed_state", "loglike", "pseudo_obs"])
def test_fast_path_equals_general_pass_with_diffuse_start(monkeypatch, field):
    fast = getattr(_run(False, monkeypatch), field)
    with monkeypatch.context() as m:
        general = getattr(_run(True, m), field)
    np.testing.assert_allclose(fast, general, rtol=1e-7, atol=1e-7, equal_nan=True)


def test_simulation_smoother_draws_equal_on_both_paths(monkeypatch):
    fast = simulation_smoother(_run(False, monkeypatch, initial_variance=10.0), 5, seed=3)
    with monkeypatch.context() as m:
        general = simulation_smoother(_run(True, m, initial_variance=10.0), 5, seed=3)
    np.testing.assert_allclose(fast, general, rtol=1e-8, atol=1e-10)
