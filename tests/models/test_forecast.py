"""Forecasts: equal to statsmodels' forecast with the same fixed parameters, and prediction
intervals that cover simulated future values at the nominal rate."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from wbe.errors import InputError
from wbe.models.forecast import forecast
from wbe.models.smoother import StateSpaceModel, kalman_smoother, simulate_state_space


def test_matches_statsmodels_forecast():
    model = StateSpaceModel("local_linear_trend", weekday=True)
    params = np.array([0.1, 0.02, 0.0005, 0.005])
    y, _ = simulate_state_space(model, params, 300, seed=1)
    fc = forecast(kalman_smoother(y, model, params), 60)
    ref = sm.tsa.UnobservedComponents(y[0], level="lltrend", seasonal=7).smooth(params)
    pred = ref.get_forecast(60)
    np.testing.assert_allclose(fc.mean[0], pred.predicted_mean, atol=1e-6)
    np.testing.assert_allclose(fc.sd[0] ** 2, pred.var_pred_mean, rtol=1e-6)
    ci = pred.conf_int(alpha=0.05)
    np.testing.assert_allclose(fc.lower[0], ci[:, 0], atol=1e-6)


@pytest.mark.parametrize("trend", ["local_level", "local_linear_trend"])
def test_interval_coverage_on_simulated_series(trend):
    model = StateSpaceModel(trend)
    params = [0.05, 0.01] + ([1e-5] if trend == "local_linear_trend" else [])
    n_series, n_fit, steps = 1000, 200, 90
    y, _ = simulate_state_space(model, params, n_fit + steps, n_series=n_series, seed=7)
    fc = forecast(kalman_smoother(y[:, :n_fit], model, params), steps, level=0.9)
    future = y[:, n_fit:]
    covered = (future >= fc.lower) & (future <= fc.upper)
    se = np.sqrt(0.9 * 0.1 / n_series)
    for h in (0, 29, 89):
        assert abs(covered[:, h].mean() - 0.9) < 4 * se
    assert abs(covered.mean() - 0.9) < 0.02


def test_bad_input():
    res = kalman_smoother([1.0, 2.0, 3.0], StateSpaceModel("local_level"), [0.1, 0.1])
    with pytest.raises(InputError):
        forecast(res, 0)
    with pytest.raises(InputError):
        forecast(res, 3, level=1.5)


def test_paths_have_the_forecast_moments():
    from wbe.models.forecast import forecast_paths

    model = StateSpaceModel("local_linear_trend", weekday=True)
    params = [0.05, 0.01, 1e-4, 0.001]
    y, _ = simulate_state_space(model, params, 120, n_series=2, seed=3)
    res = kalman_smoother(y, model, params)
    paths = forecast_paths(res, 40, 20000, seed=4)
    fc = forecast(res, 40)
    se = fc.sd / np.sqrt(20000)
    assert np.all(np.abs(paths.mean(axis=1) - fc.mean) < 5 * se)
    np.testing.assert_allclose(paths.std(axis=1), fc.sd, rtol=0.03)


def test_monthly_forecast_coverage_on_simulated_series():
    """90 % intervals of next-month mean consumption cover the simulated truth ~90 %."""
    from wbe.models.forecast import monthly_forecast

    model = StateSpaceModel("local_level")
    params = [0.05, 0.005]
    n_series, n_fit = 400, 181  # 2025-01-01 .. 2025-06-30
    y, _ = simulate_state_space(model, params, n_fit + 31, n_series=n_series, seed=21)
    res = kalman_smoother(y[:, :n_fit], model, params)
    out = monthly_forecast(res, "2025-06-30", months=1, n_draws=2000, level=0.9, seed=22)
    truth = np.exp(y[:, n_fit:]).mean(axis=1)  # July: 31 days
    covered = (truth >= out["lower"].to_numpy()) & (truth <= out["upper"].to_numpy())
    assert abs(covered.mean() - 0.9) < 4 * np.sqrt(0.09 / n_series)
