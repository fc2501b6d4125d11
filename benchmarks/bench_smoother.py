"""Benchmark: batched Kalman smoother vs statsmodels UnobservedComponents one series at a time.

Smoothing: 1,000 daily series of 3 years (1,095 days), local linear trend, fixed
parameters (the same for every series), every 9th day missing in every series: the case
where all series share ONE covariance recursion (``models/smoother.py``, shared path; the
mean recursions run over the series). The statsmodels loop (model construction +
``smooth(params)`` per series) is timed on a subset of ``N_SUBSET`` series and scaled
linearly to 1,000 series (each series is an independent model, so the loop's time is
proportional to the number of series). Both are timed ``REPEATS`` times, alternating in
the same process (after one warm-up call each), and the MEDIANS are compared; the load
average is printed before and after. Both compute filtered and smoothed states, their
covariances and the log-likelihood.

A second line times the same data with every series given its own extra missing day
(1,000 missing-day patterns): no shared covariance recursion, the per-series batched pass.

Fitting: ``fit_smoother`` on ``N_FIT`` series (default 100) of the same kind (every 9th
day missing) against statsmodels ``UnobservedComponents(level="lltrend").fit()`` series
by series, timed on ``N_FIT_SUBSET`` series and scaled to ``N_FIT``; the largest
difference of log-likelihoods over the subset and the count of converged series are
printed too.

Run: ``python benchmarks/bench_smoother.py``
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np
import statsmodels.api as sm

from wbe.models.smoother import (
    StateSpaceModel,
    fit_smoother,
    kalman_smoother,
    simulate_state_space,
)

N_SERIES, N_TIME, N_SUBSET, REPEATS = 1000, 3 * 365, 20, 5
N_FIT, N_FIT_SUBSET = 100, 5
PARAMS = np.array([0.05, 0.01, 1e-5])


def _median_times(y: np.ndarray, model: StateSpaceModel) -> tuple[float, float, object]:
    """Median seconds of the batched smoother on ``y`` and of the statsmodels loop (scaled)."""
    n_series = len(y)
    t_batched, t_sm = [], []
    for _ in range(REPEATS):  # alternating, so that both see the same machine load
        t0 = time.perf_counter()
        res = kalman_smoother(y, model, PARAMS)
        t_batched.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        for i in range(N_SUBSET):
            sm.tsa.UnobservedComponents(y[i], level="lltrend").smooth(PARAMS)
        t_sm.append((time.perf_counter() - t0) / N_SUBSET * n_series)
    return float(np.median(t_batched)), float(np.median(t_sm)), res


def main() -> None:
    model = StateSpaceModel("local_linear_trend")
    y, _ = simulate_state_space(model, PARAMS, N_TIME, n_series=N_SERIES, seed=2024)
    y[:, ::9] = np.nan  # some missing days
    print(f"load average {os.getloadavg()[0]:.2f}")
    sm.tsa.UnobservedComponents(y[0], level="lltrend").smooth(PARAMS)  # warm-up
    kalman_smoother(y[:10], model, PARAMS)  # warm-up
    t_batched, t_sm, res = _median_times(y, model)
    ref = sm.tsa.UnobservedComponents(y[N_SUBSET - 1], level="lltrend").smooth(PARAMS)
    diff = np.abs(ref.smoothed_state.T - res.smoothed_state[N_SUBSET - 1]).max()
    print(f"batched smoother, {N_SERIES} series x {N_TIME} days: {t_batched:.3f} s "
          f"(median of {REPEATS}; one shared covariance recursion)")
    print(
        f"statsmodels UnobservedComponents loop: {t_sm:.2f} s "
        f"(measured on {N_SUBSET} series, scaled x{N_SERIES // N_SUBSET}, median of {REPEATS})"
    )
    print(f"speed-up ratio: {t_sm / t_batched:.1f}x  (max |smoothed state diff| = {diff:.1e})")
    y_own = y.copy()
    y_own[np.arange(N_SERIES), 1 + np.arange(N_SERIES) % (N_TIME - 1)] = np.nan
    t_own, t_sm_own, _ = _median_times(y_own, model)
    print(f"per-series pass (every series its own missing days): {t_own:.3f} s, "
          f"statsmodels {t_sm_own:.2f} s, per-series speed-up ratio: {t_sm_own / t_own:.1f}x")
    print(f"load average {os.getloadavg()[0]:.2f}")
    fit_case(y[:N_FIT], model)
    print(f"load average {os.getloadavg()[0]:.2f}")


def fit_case(y: np.ndarray, model: StateSpaceModel) -> None:
    t0 = time.perf_counter()
    fit = fit_smoother(y, model)
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    llf = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' convergence chatter
        for i in range(N_FIT_SUBSET):
            llf.append(sm.tsa.UnobservedComponents(y[i], level="lltrend").fit(disp=False).llf)
    t_sm = (time.perf_counter() - t0) / N_FIT_SUBSET * len(y)
    gap = np.max(np.abs(fit.loglike[:N_FIT_SUBSET] - np.array(llf)))
    print(f"fit_smoother, {len(y)} series x {y.shape[1]} days: {t_fit:.2f} s, "
          f"{int(fit.converged.sum())}/{len(y)} converged")
    print(f"statsmodels .fit() loop: {t_sm:.2f} s (measured on {N_FIT_SUBSET} series, "
          f"scaled x{len(y) / N_FIT_SUBSET:g})")
    print(f"fit speed-up ratio: {t_sm / t_fit:.1f}x  (max |loglike - statsmodels llf| "
          f"= {gap:.1e} on the measured series)")


if __name__ == "__main__":
    main()
