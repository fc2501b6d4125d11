"""The previous Farrington fit of wbe, one time point at a time: the baseline of bench_farrington.

Verbatim copy of the per-week fitting functions of ``models/aberration.py`` as of commit
5031b03 (own Poisson IRLS in numpy on one week's design, iterations run out to the
stopping rule), plus :func:`per_week_estimates`, the loop over monitored weeks that
``farrington`` ran then. ``bench_farrington.py`` swaps it in for
``wbe.models.aberration._farrington_estimates`` so that everything else in the call
(input checks, thresholds, ``limit54``, the output frame) is the same code. Not part of
the library; kept only as the same-process baseline.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.special import xlogy

_R_GLM_EPSILON = 1e-8  # R ?glm.control default epsilon
_R_GLM_MAXIT = 25  # R ?glm.control default maxit


def _poisson_deviance(y, mu, weights) -> float:
    """Poisson deviance :math:`2\\sum_i \\omega_i\\{y_i\\log(y_i/\\mu_i) - (y_i-\\mu_i)\\}`."""
    return float(2.0 * np.sum(weights * (xlogy(y, y / mu) - (y - mu))))


_EXACT_GLM_EPSILON = 1e-15  # deviance tolerance of the converged ("exact") fit
_EXACT_GLM_MAXIT = 100
#: A fitted mean below this [count] marks a boundary fit: the maximum-likelihood estimate
#: does not exist (all-zero baseline, or counts only at the edge of a trend design).
_BOUNDARY_MEAN = 1e-8
#: Fitted and predicted means are floored at machine epsilon, as R's log link does (R
#: reports an expected value of exactly 2.220446e-16 for a fit pushed to zero).
_MU_FLOOR = float(np.finfo(float).eps)


def _irls_step(y, x, weights, mu, eta):
    """One Poisson log-link IRLS step from ``mu``; returns (beta, eta, xtwx)."""
    z = eta + (y - mu) / mu
    xtw = x.T * (weights * mu)
    xtwx = xtw @ x
    beta = np.linalg.solve(xtwx, xtw @ z)
    return beta, x @ beta, xtwx


def _glm_fit_irls(y: np.ndarray, x: np.ndarray, weights: np.ndarray, converge: bool):
    """Poisson log-link IRLS with R's documented start and stopping rule, then convergence.

    Start :math:`\\mu^{(0)} = y + 0.1` (R ``?family``/``poisson()`` initialisation), then
    iterate weighted least squares on the working response until
    :math:`|D - D_{old}|/(|D| + 0.1) < 10^{-8}` or 25 iterations (``?glm.control``): the
    fit R's ``glm`` returns. The returned :math:`(X^\\top W X)^{-1}` uses the working
    weights of the last iteration, as R's ``summary.glm`` ``cov.unscaled`` (checked
    black-box with ``glm.control(maxit=1)``), and ``mu_w`` is the mean they were evaluated at.

    With ``converge=True`` the iterations then continue until the relative deviance change
    is below 1e-15 (the maximum-likelihood fit, where ``mu_w`` equals the fitted mean),
    except at a boundary fit: when a fitted mean is below 1e-8 the maximum-likelihood
    estimate does not exist (its log-mean tends to minus infinity, for an all-zero baseline
    or counts only at one edge of a trend design), and R's stopping point is kept, so that
    the bound is the one R gives (about 1.6e-3 for 35 zero weeks) instead of one that
    depends on how long the iterations run.
    """
    mu = y + 0.1
    eta = np.log(mu)
    dev_old = _poisson_deviance(y, mu, weights)
    mu_w = mu
    converged = False
    with np.errstate(over="ignore", under="ignore"):
        for it in range(_EXACT_GLM_MAXIT if converge else _R_GLM_MAXIT):
            mu_step = mu
            beta, eta, xtwx = _irls_step(y, x, weights, mu, eta)
            mu = np.maximum(np.exp(eta), _MU_FLOOR)
            dev = _poisson_deviance(y, mu, weights)
            crit = abs(dev - dev_old) / (abs(dev) + 0.1)
            dev_old = dev
            mu_w = mu_step
            if it < _R_GLM_MAXIT and crit < _R_GLM_EPSILON:
                converged = True
            r_stop = crit < _R_GLM_EPSILON or it + 1 >= _R_GLM_MAXIT
            if r_stop and (not converge or np.min(mu) < _BOUNDARY_MEAN):
                break
            if converge and crit < _EXACT_GLM_EPSILON and it + 1 >= 2:
                # one more step so that the working weights sit at the converged mean
                beta, eta, xtwx = _irls_step(y, x, weights, mu, eta)
                mu_w = mu
                mu = np.maximum(np.exp(eta), _MU_FLOOR)
                break
    return beta, mu, np.linalg.inv(xtwx), mu_w, converged


def _glm_fit(y: np.ndarray, x: np.ndarray, weights: np.ndarray, convergence: str = "exact"):
    """Poisson log-link GLM with prior weights; returns (beta, mu, xtwx_inv, mu_w, converged).

    ``converged`` is False when R's stopping rule is not met within 25 iterations.

    ``convergence="exact"`` iterates to the maximum-likelihood fit (R's stopping point at a
    boundary fit); ``"r"`` stops where R's ``glm`` stops (:func:`_glm_fit_irls`).
    """
    return _glm_fit_irls(y, x, weights, converge=convergence == "exact")


def _dispersion(y, mu, weights, n_par, mu_w) -> float:
    """Farrington's overdispersion: max(1, Pearson chi-square / (n - p)), prior-weighted.

    Written in R ``summary.glm``'s working form :math:`\\sum_i \\omega_i\\mu^w_i
    (y_i-\\hat\\mu_i)^2/\\hat\\mu_i^2`, with :math:`\\mu^w` the mean at which the last
    IRLS working weights were evaluated; equal to the Pearson statistic for a converged fit
    (:math:`\\mu^w=\\hat\\mu`, ``glm_convergence="exact"``).
    """
    n = y.shape[0]
    if n <= n_par:
        return 1.0
    return max(1.0, float(np.sum(weights * mu_w * (y - mu) ** 2 / mu**2) / (n - n_par)))


def _anscombe(y, mu, weights, xtwx_inv, x, phi, mu_w):
    """Standardised Anscombe residuals (McCullagh & Nelder 1989; Farrington et al. 1996).

    Leverages use the last IRLS working weights :math:`\\omega_i\\mu^w_i` (see
    :func:`_dispersion`).
    """
    w = weights * mu_w
    h = np.minimum(np.einsum("ij,jk,ik->i", x, xtwx_inv, x) * w, 1.0)  # rounding at a boundary
    with np.errstate(divide="ignore", invalid="ignore"):
        r = 1.5 * (y ** (2 / 3) - mu ** (2 / 3)) / (mu ** (1 / 6) * np.sqrt(phi * (1.0 - h)))
    return np.where(np.isnan(r), 0.0, r)


def _reweight(resid: np.ndarray, threshold: float) -> np.ndarray:
    """Farrington weights: gamma / r^2 above ``threshold``, gamma otherwise; sum to n."""
    raw = np.where(resid > threshold, 1.0 / np.where(resid > threshold, resid, 1.0) ** 2, 1.0)
    return raw * resid.shape[0] / raw.sum()


def _coef_dispersion(y, mu, weights, n_par, reweighted: bool, mu_w) -> float:
    """Dispersion that scales the coefficient covariance (trend test, Var(eta0)).

    Without reweighting: the Pearson estimate of the quasi-Poisson fit,
    :math:`\\sum_i \\mu^w_i(y_i-\\hat\\mu_i)^2/\\hat\\mu_i^2/(n-p)`, NOT floored at 1
    (under-dispersed counts give a smaller standard error while the threshold still uses
    :math:`\\phi=\\max(1,\\cdot)`, as R ``farringtonFlexible``). After reweighting:
    :math:`\\sum_i \\omega_i (y_i-\\hat\\mu_i)^2/\\hat\\mu_i^2/(n-p)`, the quantity R
    ``surveillance`` 1.20.3 uses (identified by black-box experiments, see
    ``docs/methods-aberration.md``; not in the papers).
    """
    n = y.shape[0]
    if n <= n_par:
        return 1.0
    if reweighted:
        return float(np.sum(weights * (y - mu) ** 2 / mu**2) / (n - n_par))
    return float(np.sum(weights * mu_w * (y - mu) ** 2 / mu**2) / (n - n_par))


def _fit_once(y, x, reweight, weights_threshold, convergence="exact"):
    """Quasi-Poisson fit with optional reweighting.

    Returns (beta, mu, cov0, phi, disp, converged); ``converged`` is False if either GLM
    fit did not meet R's stopping rule within 25 iterations.
    """
    n_par = x.shape[1]
    ones = np.ones_like(y)
    beta, mu, cov0, mu_w, converged = _glm_fit(y, x, ones, convergence)
    phi = _dispersion(y, mu, ones, n_par, mu_w)
    weights = ones
    if reweight:
        resid = _anscombe(y, mu, ones, cov0, x, phi, mu_w)
        weights = _reweight(resid, weights_threshold)
        beta, mu, cov0, mu_w, conv2 = _glm_fit(y, x, weights, convergence)
        converged = converged and conv2
        phi = _dispersion(y, mu, weights, n_par, mu_w)
    disp = _coef_dispersion(y, mu, weights, n_par, reweight, mu_w)
    return beta, mu, cov0, phi, disp, converged


def _design(lags: np.ndarray, t0: int, trend: bool, factor: np.ndarray | None):
    """Design matrix for baseline weeks at time ``t0 - lags`` and the row of the current week."""
    time = (t0 - lags).astype(float)
    cols = [np.ones_like(time)]
    row = [1.0]
    if trend:
        cols.append(time)
        row.append(float(t0))
    if factor is not None:
        levels = np.unique(factor)  # levels without an available point are left out
        ref = 1 if 1 in levels else levels[0]
        for lev in levels[levels != ref]:
            cols.append((factor == lev).astype(float))
            row.append(0.0)
    return np.column_stack(cols), np.asarray(row)


def _baseline_lags(freq: int, b: int, w: int, no_periods: int, past_weeks_not_included: int):
    """Lags (weeks before t) of the baseline and their period factor (1 = reference window)."""
    if no_periods == 1:
        lags = np.array([freq * j + k for j in range(1, b + 1) for k in range(-w, w + 1)])
        return lags, None
    lags = np.arange(past_weeks_not_included + 1, freq * b + w + 1)
    d = (lags + w) % freq
    width = (freq - (2 * w + 1)) / (no_periods - 1)
    factor = np.where(d <= 2 * w, 1, 2 + np.floor((d - (2 * w + 1)) / width)).astype(int)
    return lags, factor


def _farrington_point(y_base, lags, factor, t0, cfg):
    """Fit and threshold for one time point; returns a dict of the quantities.

    Missing baseline values are left out (the fit uses the remaining points). Returns None
    when fewer than ``p + 1`` points remain for the model without trend (``p`` its number
    of parameters); the trend is only fitted with ``b >= 3`` years (Farrington et al. 1996)
    and at least ``p + 1`` points for the model with trend.
    """
    keep = ~np.isnan(y_base)
    y_base, lags = y_base[keep], lags[keep]
    factor = None if factor is None else factor[keep]
    trend = cfg["trend"] and cfg["b"] >= 3
    x, x0 = _design(lags, t0, False, factor)
    if y_base.shape[0] <= x.shape[1]:
        return None
    if trend and y_base.shape[0] <= x.shape[1] + 1:
        trend = False
    x, x0 = _design(lags, t0, trend, factor)
    beta, _, cov0, phi, disp, converged = _fit_once(
        y_base, x, cfg["reweight"], cfg["weights_threshold"], cfg["glm_convergence"]
    )
    p_trend = np.nan
    if trend:
        se = np.sqrt(disp * cov0[1, 1])
        p_trend = 2.0 * stats.t.sf(abs(beta[1]) / se, y_base.shape[0] - x.shape[1])
        with np.errstate(over="ignore"):
            mu0 = max(float(np.exp(x0 @ beta)), _MU_FLOOR)
        # a trend fit that does not converge is dropped (as R 1.20.3, found black-box)
        if not (converged and p_trend < cfg["p_threshold_trend"] and mu0 <= np.max(y_base)):
            trend = False  # repeat the whole procedure without the trend
            x, x0 = _design(lags, t0, trend, factor)
            beta, _, cov0, phi, disp, _ = _fit_once(
                y_base, x, cfg["reweight"], cfg["weights_threshold"], cfg["glm_convergence"]
            )
    eta0 = float(x0 @ beta)
    mu0 = max(float(np.exp(eta0)), _MU_FLOOR)
    # Var(eta0_hat) uses the unclipped dispersion of the coefficients (as R 1.20.3)
    var_eta0 = float(disp * (x0 @ cov0 @ x0))
    return {
        "trend_pvalue": p_trend,
        "mu0": mu0,
        "var_eta0": var_eta0,
        "phi": phi,
        "trend": trend,
        "trend_coef": float(beta[1]) if trend else np.nan,
    }



def per_week_estimates(y, lags, factor, monitored, cfg, t_index):
    """The loop of the previous ``farrington``: one fit per monitored time point."""
    keys = ("mu0", "var_eta0", "phi", "trend", "trend_coef", "trend_pvalue")
    out = {k: np.full(y.shape[0], np.nan) for k in keys}
    for i in np.flatnonzero(monitored):
        res = _farrington_point(y[i - lags], lags, factor, i, cfg)
        if res is None:  # too few baseline points: no bound
            monitored[i] = False
            continue
        for k in keys:
            out[k][i] = res[k]
    return out
