"""The smoother's one fast path (local linear trend, unrolled) equals its general matrix pass.

``models/smoother.py`` keeps one general filter/smoother pass (batched matrix products, any
state dimension) and one hand-unrolled fast path for the common local linear trend. Both are run
here on the same inputs, with missing days, a known per-observation variance and left-censored
values, and must agree to rounding: 1e-11 with a proper initial variance; with the default
approximate diffuse start (kappa = 1e6) both lose digits in the first days (differences of
O(kappa) numbers, see tests/models/test_smoother.py), so the bound there is 1e-7.

Series with the same parameters, measurement variances and missing days share ONE covariance
recursion (computed once per group, only the mean recursions run over the series): that
shared path is bitwise the per-series pass for the local linear trend, and equal to rounding
for the other models (tests at the end).
"""

from __future__ import annotations

import numpy as np
import pytest

from wbe.models import smoother
from wbe.models.smoother import (
    StateSpaceModel,
    kalman_smoother,
    simulate_state_space,
    simulation_smoother,
)

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


# --------------------------------------------------------------------------------------
# shared covariance recursion: series with the same parameters and the same missing days
# --------------------------------------------------------------------------------------

LLT = StateSpaceModel("local_linear_trend")
LLT_PARAMS = [0.05, 0.01, 1e-5]


def _shared_inputs(model, params, n_series=12, n_time=150, seed=5):
    y, _ = simulate_state_space(model, params, n_time, n_series=n_series, seed=seed)
    y += 3.0
    y[:, ::9] = np.nan                      # every series
    y[: n_series // 2, 4::13] = np.nan      # half of them: a second missing pattern
    return y


def _per_series(monkeypatch, *args, **kw):
    with monkeypatch.context() as m:
        m.setattr(smoother, "_shared_groups", lambda *a: None)
        return kalman_smoother(*args, **kw)


def test_shared_path_is_taken_only_when_the_covariances_are_shared():
    y = _shared_inputs(LLT, LLT_PARAMS)
    obs = ~np.isnan(y)
    pm = np.tile(LLT_PARAMS, (len(y), 1))
    groups = smoother._shared_groups(obs, None, pm, None)
    assert sorted(g.tolist() for g in groups) == [list(range(6)), list(range(6, 12))]
    assert smoother._shared_groups(obs[6:], None, pm[6:], None) == [None]  # one pattern
    other = pm.copy()
    other[3, 1] *= 2                          # one series with other parameters
    assert smoother._shared_groups(obs, None, other, None) is None
    cens = np.zeros_like(obs)
    cens[0, 10] = True
    assert smoother._shared_groups(obs, None, pm, cens) is None
    h = np.where(obs, 0.02, 0.0)
    assert smoother._shared_groups(obs, h, pm, None) is not None
    h[7, 20] = 0.03                           # a different measurement variance in a group
    assert smoother._shared_groups(obs, h, pm, None) is None
    many = np.ones((40, 60), bool)
    many[np.arange(40), np.arange(40)] = False  # 40 patterns in 40 series: per-series pass
    assert smoother._shared_groups(many, None, np.tile(LLT_PARAMS, (40, 1)), None) is None


@pytest.mark.parametrize("kw", [{}, {"initial_variance": 10.0}, {"obs_var": 0.03}],
                         ids=["diffuse", "proper", "obs_var"])
def test_shared_path_is_bitwise_the_per_series_pass_for_the_local_linear_trend(monkeypatch, kw):
    y = _shared_inputs(LLT, LLT_PARAMS)
    shared = kalman_smoother(y, LLT, LLT_PARAMS, **kw)
    ref = _per_series(monkeypatch, y, LLT, LLT_PARAMS, **kw)
    for field in (*FIELDS, "_innovation"):
        if field == "loglike":  # summed over time in another order
            np.testing.assert_allclose(shared.loglike, ref.loglike, rtol=1e-13)
        else:
            np.testing.assert_array_equal(getattr(shared, field), getattr(ref, field),
                                          err_msg=field)
    np.testing.assert_array_equal(simulation_smoother(shared, 4, seed=1),
                                  simulation_smoother(ref, 4, seed=1))


def test_shared_path_does_not_depend_on_the_other_series_in_the_batch(monkeypatch):
    """A series smoothed alone (shared path) or among many patterns (per-series pass)."""
    y = _shared_inputs(LLT, LLT_PARAMS, n_series=40)
    y[np.arange(40), 40 + np.arange(40)] = np.nan   # 40 distinct patterns: per-series pass
    assert smoother._shared_groups(~np.isnan(y), None, np.tile(LLT_PARAMS, (40, 1)),
                                   None) is None
    batch = kalman_smoother(y, LLT, LLT_PARAMS)
    for i in (0, 17, 39):
        alone = kalman_smoother(y[i], LLT, LLT_PARAMS)
        np.testing.assert_array_equal(alone.smoothed_state[0], batch.smoothed_state[i])
        np.testing.assert_array_equal(alone.smoothed_state_cov[0], batch.smoothed_state_cov[i])


GENERAL = [
    (StateSpaceModel("local_level"), [0.2, 0.05]),
    (StateSpaceModel("local_linear_trend", weekday=True, annual_harmonics=1),
     [0.2, 0.05, 0.001, 0.01, 0.002]),
]


@pytest.mark.parametrize(("model", "params"), GENERAL, ids=["llevel", "lltrend-weekday-annual"])
def test_shared_path_equals_per_series_pass_for_other_models(monkeypatch, model, params):
    """Matrix form of the shared path: same recursions, rounding only (proper start)."""
    y = _shared_inputs(model, params)
    shared = kalman_smoother(y, model, params, initial_variance=10.0)
    ref = _per_series(monkeypatch, y, model, params, initial_variance=10.0)
    for field in (*FIELDS, "_innovation"):
        np.testing.assert_allclose(getattr(shared, field), getattr(ref, field), rtol=1e-9,
                                   atol=1e-10, equal_nan=True, err_msg=field)
    np.testing.assert_allclose(simulation_smoother(shared, 4, seed=1),
                               simulation_smoother(ref, 4, seed=1), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize(("model", "params"), GENERAL, ids=["llevel", "lltrend-weekday-annual"])
def test_shared_path_keeps_the_digits_of_the_per_series_pass_in_the_diffuse_phase(
        monkeypatch, model, params):
    """Approximate diffuse start (kappa = 1e6): the gains of an annual term reach hundreds in
    the first weeks and covariances are differences of O(kappa) numbers, so the per-series
    pass itself moves by up to ~2e-7 in the smoothed states when the OTHER series of its batch
    have other missing days (measured; rounding of ``P z / F`` against ``P z (1 / F)``). The
    shared path keeps the innovation form of the per-series pass (measured 4e-10 from a
    long-double reference for local level + annual, like the per-series pass) and agrees
    with the per-series pass run on each group of same-pattern series to 1e-8, and to 1e-10
    after the first month."""
    y = _shared_inputs(model, params)
    shared = kalman_smoother(y, model, params)
    for group in (slice(0, 6), slice(6, 12)):
        ref = _per_series(monkeypatch, y[group], model, params)
        d = np.abs(shared.smoothed_state[group] - ref.smoothed_state)
        assert d.max() < 1e-8 and d[:, 30:].max() < 1e-10
        np.testing.assert_allclose(shared.loglike[group], ref.loglike, rtol=1e-12)


def test_shared_path_edge_cases(monkeypatch):
    assert kalman_smoother(np.empty((0, 10)), LLT, LLT_PARAMS).smoothed_state.shape == (0, 10, 2)
    for y in (np.array([[1.5]]), np.full((3, 6), np.nan), np.array([[1.0, np.nan, 2.0, 3.0]])):
        shared = kalman_smoother(y, LLT, LLT_PARAMS, initial_state=[1.0, 0.1])
        ref = _per_series(monkeypatch, y, LLT, LLT_PARAMS, initial_state=[1.0, 0.1])
        for field in FIELDS:
            np.testing.assert_array_equal(getattr(shared, field), getattr(ref, field))
