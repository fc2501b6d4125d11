"""Batched state-space smoother for log consumption series (structural time-series models).

One vectorised Kalman filter and smoother runs over many series at once (arrays shaped
``(n_series, n_time, ...)``); missing days are skipped natively, the known per-observation
variance from back-calculation enters as a time-varying measurement variance ``H_t``, and values
below the LOQ are treated as censored observations (Tobit Kalman / assumed-density update), not
substituted. See ``docs/methods-timeseries.md``.

Model (Harvey 1989; Durbin & Koopman 2012, ch. 3)::

    y_t       = mu_t + gamma_t + psi_t + eps_t,      eps_t ~ N(0, sigma2_irregular + H_t)
    mu_{t+1}  = mu_t + beta_t + xi_t,                xi_t  ~ N(0, sigma2_level)
    beta_{t+1}= beta_t + zeta_t,                     zeta_t~ N(0, sigma2_slope)  (trend model)
    gamma     : dummy weekday seasonal (period 7),   disturbance variance sigma2_weekday
    psi       : trigonometric annual cycle (period 365.25 days), variance sigma2_annual

with the same state layout and parametrisation as statsmodels ``UnobservedComponents``
(``level="llevel"`` / ``"lltrend"``, ``seasonal=7``, ``freq_seasonal=[{"period": 365.25,
"harmonics": h}]``), so that the two agree to rounding with the same fixed parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr
from scipy import special, stats

from wbe._compat import complement, renamed_arguments
from wbe.errors import InputError, unknown_name_error

__all__ = [
    "TREND_MODELS",
    "KalmanResult",
    "SmootherFit",
    "StateSpaceModel",
    "fit_smoother",
    "kalman_smoother",
    "simulate_state_space",
    "simulation_smoother",
    "smooth_log_consumption",
]

#: Trend components and the statsmodels ``level`` string each one matches.
TREND_MODELS: dict[str, str] = {"local_level": "llevel", "local_linear_trend": "lltrend"}

_LOG_2PI = np.log(2.0 * np.pi)


@dataclass(frozen=True)
class StateSpaceModel:
    """Structure of a structural time-series model (no parameter values).

    Parameters
    ----------
    trend : str
        ``"local_level"`` or ``"local_linear_trend"``.
    weekday : bool
        Add a stochastic dummy weekday seasonal (period 7, six states).
    annual_harmonics : int
        Number of harmonics of a trigonometric annual term (0 = none).
    period_days : float
        Period of the annual term [day].

    Examples
    --------
    >>> StateSpaceModel("local_linear_trend", weekday=True).param_names
    ('sigma2_irregular', 'sigma2_level', 'sigma2_slope', 'sigma2_weekday')
    >>> StateSpaceModel().k_states
    2
    """

    trend: str = "local_linear_trend"
    weekday: bool = False
    annual_harmonics: int = 0
    period_days: float = 365.25

    def __post_init__(self) -> None:
        if self.trend not in TREND_MODELS:
            raise unknown_name_error("trend model", self.trend, TREND_MODELS)
        if int(self.annual_harmonics) != self.annual_harmonics or self.annual_harmonics < 0:
            raise InputError(
                f"annual_harmonics: expected a non-negative integer, got {self.annual_harmonics!r}"
            )
        if not self.period_days > 2:
            raise InputError(f"period_days: expected a period > 2 days, got {self.period_days!r}")

    @property
    def k_trend(self) -> int:
        """Number of trend states (1 or 2)."""
        return 1 if self.trend == "local_level" else 2

    @property
    def k_states(self) -> int:
        """Number of states."""
        return self.k_trend + (6 if self.weekday else 0) + 2 * self.annual_harmonics

    @property
    def param_names(self) -> tuple[str, ...]:
        """Variance parameters in statsmodels order."""
        names = ["sigma2_irregular", "sigma2_level"]
        if self.k_trend == 2:
            names.append("sigma2_slope")
        if self.weekday:
            names.append("sigma2_weekday")
        if self.annual_harmonics:
            names.append("sigma2_annual")
        return tuple(names)

    def system(self) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(design z (m,), transition T (m, m))``; see :meth:`state_cov` for ``RQR'``."""
        m = self.k_states
        z = np.zeros(m)
        tr = np.zeros((m, m))
        z[0] = 1.0
        tr[0, 0] = 1.0
        i = 1
        if self.k_trend == 2:
            tr[0, 1] = tr[1, 1] = 1.0
            i = 2
        if self.weekday:
            z[i] = 1.0
            tr[i, i : i + 6] = -1.0
            for j in range(1, 6):
                tr[i + j, i + j - 1] = 1.0
            i += 6
        for h in range(1, self.annual_harmonics + 1):
            lam = 2.0 * np.pi * h / self.period_days
            c, s = np.cos(lam), np.sin(lam)
            tr[i : i + 2, i : i + 2] = [[c, s], [-s, c]]
            z[i] = 1.0
            i += 2
        return z, tr

    def state_cov(self, params: np.ndarray) -> np.ndarray:
        """State disturbance covariance ``R Q R'`` shaped ``(n_series, m, m)``.

        Parameters
        ----------
        params : numpy.ndarray
            Variances shaped ``(n_series, len(param_names))`` [log-scale variance].
        """
        m = self.k_states
        n = params.shape[0]
        rqr = np.zeros((n, m, m))
        rqr[:, 0, 0] = params[:, 1]
        j, i = 2, 1
        if self.k_trend == 2:
            rqr[:, 1, 1] = params[:, j]
            j, i = j + 1, 2
        if self.weekday:
            rqr[:, i, i] = params[:, j]
            j, i = j + 1, i + 6
        if self.annual_harmonics:
            for k in range(i, m):
                rqr[:, k, k] = params[:, j]
        return rqr


# --------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------


def _as_2d(name: str, values, n_shape=None, *, dtype=float) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: expected numbers ({exc})") from None
    if arr.ndim == 0 and n_shape is not None:
        return np.full(n_shape, arr.item(), dtype=dtype)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise InputError(f"{name}: expected shape (n_series, n_time), got {arr.shape}")
    if n_shape is not None and arr.shape != n_shape:
        try:
            arr = np.broadcast_to(arr, n_shape).copy()
        except ValueError:
            raise InputError(
                f"{name}: shape {arr.shape} does not match the series shape {n_shape}"
            ) from None
    return arr


def _params_matrix(model: StateSpaceModel, params, n_series: int) -> np.ndarray:
    if isinstance(params, Mapping):
        missing = [p for p in model.param_names if p not in params]
        if missing:
            raise InputError(f"params: missing {missing}; expected {list(model.param_names)}")
        unknown = [p for p in params if p not in model.param_names]
        if unknown:
            raise unknown_name_error("parameter", unknown[0], model.param_names)
        cols = [
            np.broadcast_to(np.asarray(params[p], float), (n_series,)) for p in model.param_names
        ]
        arr = np.column_stack(cols)
    else:
        arr = np.asarray(params, dtype=float)
        if arr.ndim == 1:
            arr = np.broadcast_to(arr, (n_series, arr.size))
        if arr.shape != (n_series, len(model.param_names)):
            raise InputError(
                f"params: expected shape ({n_series}, {len(model.param_names)}) for "
                f"{list(model.param_names)}, got {arr.shape}"
            )
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise InputError("params: variances must be finite and non-negative")
    return np.array(arr, dtype=float)


# --------------------------------------------------------------------------------------
# filter and smoother
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KalmanResult:
    """Output of :func:`kalman_smoother` (arrays over series and time).

    Attributes
    ----------
    model : StateSpaceModel
        The model structure.
    params : numpy.ndarray
        Variance parameters, shape ``(n_series, k_params)``.
    filtered_state, smoothed_state : numpy.ndarray
        ``E[alpha_t | y_1..t]`` and ``E[alpha_t | y_1..n]``, shape ``(n_series, n_time, m)``.
    filtered_state_cov, smoothed_state_cov : numpy.ndarray
        Their covariances, shape ``(n_series, n_time, m, m)``.
    predicted_state, predicted_state_cov : numpy.ndarray
        One-step predictions ``a_t``, ``P_t`` including ``t = n_time`` (shape ``n_time + 1``).
    loglike : numpy.ndarray
        Log-likelihood per series, shape ``(n_series,)`` (first ``m`` time points burnt, as
        statsmodels does under the approximate diffuse initialisation).
    pseudo_obs, pseudo_obs_var : numpy.ndarray
        The observation used in the update (equal to the data except for censored values,
        where it is the moment-matched Gaussian pseudo-observation) and its variance
        ``sigma2_irregular + H_t`` (or the pseudo variance); NaN where missing.

    Notes
    -----
    When all series share one covariance recursion (same parameters and measurement
    variances, same missing days, nothing censored), ``smoothed_state_cov``,
    ``predicted_state_cov`` and ``pseudo_obs_var`` are read-only broadcast views of that one
    recursion (no copy per series); ``np.array(...)`` makes a writable copy.
    """

    model: StateSpaceModel
    params: np.ndarray
    smoothed_state: np.ndarray
    smoothed_state_cov: np.ndarray
    predicted_state: np.ndarray
    predicted_state_cov: np.ndarray
    loglike: np.ndarray
    pseudo_obs: np.ndarray
    pseudo_obs_var: np.ndarray
    _gain: np.ndarray = field(repr=False)  # P_t z / F_t, (T, m, n); 0 where missing
    _forecast_var: np.ndarray = field(repr=False)  # F_t, (T, n); inf where missing
    _innovation: np.ndarray = field(repr=False)  # v_t, (T, n); 0 where missing

    @property
    def filtered_state(self) -> np.ndarray:
        """``E[alpha_t | y_1..t] = a_t + P_t z v_t / F_t``, shape ``(n_series, n_time, m)``."""
        nt = self._innovation.shape[0]
        kv = self._gain * self._innovation[:, None]
        return self.predicted_state[:, :nt] + kv.transpose(2, 0, 1)

    @property
    def filtered_state_cov(self) -> np.ndarray:
        """``P_t - P_t z z' P_t / F_t``, shape ``(n_series, n_time, m, m)``."""
        nt = self._innovation.shape[0]
        f = np.where(np.isfinite(self._forecast_var), self._forecast_var, 0.0)
        kfk = self._gain[:, :, None] * self._gain[:, None] * f[:, None, None]
        return self.predicted_state_cov[:, :nt] - kfk.transpose(3, 0, 1, 2)

    @property
    def smoothed_signal(self) -> np.ndarray:
        """Smoothed ``z' alpha_t`` (level + seasonal terms), shape ``(n_series, n_time)``."""
        z, _ = self.model.system()
        return self.smoothed_state @ z


def _tpt(tr, p):
    """``T P T'`` for symmetric ``P`` stored series-last ``(m, m, n)``, with two BLAS calls."""
    m = tr.shape[0]
    a = (tr @ p.reshape(m, -1)).reshape(p.shape)  # T P
    return (tr @ a.transpose(1, 0, 2).reshape(m, -1)).reshape(p.shape)  # T (T P)' = T P T'


def _filter(y, h_var, cens, z, tr, rqr, a1, p1, burn):
    """Batched Kalman filter with censored updates, series-last layout internally.

    ``y, h_var, cens`` are ``(n_time, n)``; ``rqr`` is ``(m, m, n)``. Returns arrays with time
    first: ``a_pred (T+1, m, n)``, ``p_pred (T+1, m, m, n)``, filtered ones, ``gain (T, m, n)``,
    ``fvar (T, n)``, pseudo observations and variances ``(T, n)`` and ``loglike (n,)``.
    """
    nt, n = y.shape
    m = z.size
    a_pred = np.empty((nt + 1, m, n))
    p_pred = np.empty((nt + 1, m, m, n))
    gain = np.zeros((nt, m, n))
    fvar = np.empty((nt, n))
    innov = np.empty((nt, n))
    htil = h_var.copy()
    loglike = np.zeros(n)
    a = np.broadcast_to(a1[:, None], (m, n)).copy()
    p = np.broadcast_to(p1[:, :, None], (m, m, n)).copy()
    observed = ~np.isnan(y)
    obsf = observed.astype(float)
    y0 = np.where(observed, y, 0.0)
    any_missing = ~observed.all(axis=1)
    any_cens = np.zeros(nt, bool) if cens is None else (cens & observed).any(axis=1)
    # one general pass, and one fast path for the common local linear trend (tested equal:
    # tests/models/test_smoother_paths.py)
    step = _lltrend_filter_steps if _is_lltrend(z, tr) else _matrix_filter_steps
    step(
        y0,
        h_var,
        cens,
        observed,
        obsf,
        any_missing,
        any_cens,
        z,
        tr,
        rqr,
        a,
        p,
        burn,
        a_pred,
        p_pred,
        gain,
        fvar,
        innov,
        htil,
        loglike,
    )
    unc = observed.copy() if cens is None else observed & ~cens
    unc[:burn] = False
    fsafe = np.where(unc, fvar, 1.0)
    loglike -= 0.5 * np.where(unc, _LOG_2PI + np.log(fsafe) + innov**2 / fsafe, 0.0).sum(axis=0)
    fvar[~observed] = np.inf
    if cens is None:  # the data themselves (a_t z + v_t only to rounding)
        ytil = np.where(observed, y0, np.nan)
    else:
        ytil = np.where(observed & ~cens, y0,
                        np.where(observed, np.einsum("tmn,m->tn", a_pred[:nt], z) + innov,
                                 np.nan))
    htil[~observed] = np.nan
    return a_pred, p_pred, innov, gain, fvar, ytil, htil, loglike


def _censored_update(v, f, h_t, c, loglike, htil_t, count):
    """Moment-matched Gaussian pseudo-observation for left-censored values (in place)."""
    s = np.sqrt(f[c])
    beta = v[c] / s  # (limit - mean) / sd
    logcdf = special.log_ndtr(beta)
    lam = np.exp(stats.norm.logpdf(beta) - logcdf)  # inverse Mills ratio
    mean_t = -s * lam  # E[y* - mu | y* <= limit]
    var_t = f[c] * (1.0 - beta * lam - lam**2)
    ftil = f[c] ** 2 / np.maximum(f[c] - var_t, 1e-300)
    if count:
        loglike[c] += logcdf
    htil_t[c] = ftil - f[c] + h_t[c]
    v[c] = (ftil / f[c]) * mean_t
    f[c] = ftil


def _matrix_filter_steps(
    y0,
    h_var,
    cens,
    observed,
    obsf,
    any_missing,
    any_cens,
    z,
    tr,
    rqr,
    a,
    p,
    burn,
    a_pred,
    p_pred,
    gain,
    fvar,
    innov,
    htil,
    loglike,
):
    """Forward pass with batched small-matrix products (any number of states)."""
    nt = y0.shape[0]
    m, n = a.shape
    for t in range(nt):
        a_pred[t] = a
        p_pred[t] = p
        pz = (z @ p.reshape(m, -1)).reshape(m, n)  # P z (P symmetric)
        f = z @ pz + h_var[t]
        v = y0[t] - z @ a
        if any_cens[t]:
            _censored_update(v, f, h_var[t], cens[t] & observed[t], loglike, htil[t], t >= burn)
        if any_missing[t]:
            k = pz * (obsf[t] / f)
            v = v * obsf[t]
        else:
            k = pz / f
        a = a + k * v
        p = p - k[:, None] * pz[None]
        gain[t] = k
        fvar[t] = f
        innov[t] = v
        a = tr @ a
        p = _tpt(tr, p) + rqr
    a_pred[nt] = a
    p_pred[nt] = p


_LLT_T = np.array([[1.0, 1.0], [0.0, 1.0]])


def _is_lltrend(z, tr) -> bool:
    """True for the plain local linear trend (hand-unrolled recursions, the common case)."""
    return z.size == 2 and z[0] == 1.0 and z[1] == 0.0 and np.array_equal(tr, _LLT_T)


def _lltrend_filter_steps(
    y0,
    h_var,
    cens,
    observed,
    obsf,
    any_missing,
    any_cens,
    z,
    tr,
    rqr,
    a,
    p,
    burn,
    a_pred,
    p_pred,
    gain,
    fvar,
    innov,
    htil,
    loglike,
):
    """Forward pass of the local linear trend, unrolled (z = (1, 0), T = [[1, 1], [0, 1]])."""
    nt = y0.shape[0]
    a0, a1 = a[0].copy(), a[1].copy()
    p00, p01, p11 = p[0, 0].copy(), p[0, 1].copy(), p[1, 1].copy()
    q0, q1 = rqr[0, 0], rqr[1, 1]
    for t in range(nt):
        a_pred[t, 0] = a0
        a_pred[t, 1] = a1
        p_pred[t, 0, 0] = p00
        p_pred[t, 0, 1] = p01  # [1, 0] filled after the loop
        p_pred[t, 1, 1] = p11
        f = p00 + h_var[t]
        v = y0[t] - a0
        if any_cens[t]:
            _censored_update(v, f, h_var[t], cens[t] & observed[t], loglike, htil[t], t >= burn)
        if any_missing[t]:
            w = obsf[t] / f
            v = v * obsf[t]
        else:
            w = 1.0 / f
        k0 = p00 * w
        k1 = p01 * w
        gain[t, 0] = k0
        gain[t, 1] = k1
        fvar[t] = f
        innov[t] = v
        a1 = a1 + k1 * v
        a0 = a0 + k0 * v + a1
        f11 = p11 - k1 * p01
        f01 = p01 - k0 * p01 + f11
        p00 = p00 - k0 * p00 + f01 + f01 - f11 + q0
        p01 = f01
        p11 = f11 + q1
    p_pred[:nt, 1, 0] = p_pred[:nt, 0, 1]
    a_pred[nt, 0] = a0
    a_pred[nt, 1] = a1
    p_pred[nt, 0, 0] = p00
    p_pred[nt, 0, 1] = p01
    p_pred[nt, 1, 0] = p01
    p_pred[nt, 1, 1] = p11


def _lltrend_smooth(a_pred, p_pred, gain, fvar, v, *, with_cov=True):
    """Backward recursions of the local linear trend, unrolled."""
    nt = gain.shape[0]
    batch = a_pred.shape[2:]
    n = gain.shape[-1]
    r0, r1 = np.zeros(batch), np.zeros(batch)
    n00, n01, n11 = np.zeros(n), np.zeros(n), np.zeros(n)
    a_s = np.empty(a_pred.shape)
    p_s = np.empty(p_pred.shape) if with_cov else None
    for t in range(nt - 1, -1, -1):
        k0, k1 = gain[t, 0], gain[t, 1]
        finv = 1.0 / fvar[t]
        r1 = r0 + r1  # (T' r)_1; (T' r)_0 = r0
        r0 = r0 + v[t] * finv - (k0 * r0 + k1 * r1)
        p00, p01, p11 = p_pred[t, 0, 0], p_pred[t, 0, 1], p_pred[t, 1, 1]
        a_s[t, 0] = a_pred[t, 0] + p00 * r0 + p01 * r1
        a_s[t, 1] = a_pred[t, 1] + p01 * r0 + p11 * r1
        if not with_cov:
            continue
        c01 = n00 + n01
        c11 = c01 + n01 + n11
        ck0 = n00 * k0 + c01 * k1
        ck1 = c01 * k0 + c11 * k1
        n00 = n00 - ck0 - ck0 + k0 * ck0 + k1 * ck1 + finv
        n01 = c01 - ck1
        n11 = c11
        pn00 = p00 * n00 + p01 * n01
        pn01 = p00 * n01 + p01 * n11
        pn10 = p01 * n00 + p11 * n01
        pn11 = p01 * n01 + p11 * n11
        s01 = p01 - (pn00 * p01 + pn01 * p11)
        p_s[t, 0, 0] = p00 - (pn00 * p00 + pn01 * p01)
        p_s[t, 0, 1] = s01
        p_s[t, 1, 1] = p11 - (pn10 * p01 + pn11 * p11)
    if with_cov:
        p_s[:, 1, 0] = p_s[:, 0, 1]
    return a_s, p_s


def _smooth(a_pred, p_pred, gain, fvar, v, z, tr, *, with_cov=True):
    """Durbin-Koopman backward recursion for ``r_t`` and ``N_t`` (time first, series last).

    ``a_pred`` and ``v`` may carry extra batch axes before the series axis (draws):
    ``a_pred (T, m, ..., n)``, ``v (T, ..., n)``; ``gain (T, m, n)``, ``fvar (T, n)``.
    """
    nt, m = gain.shape[:2]
    if _is_lltrend(z, tr):  # the one fast path (see _filter)
        return _lltrend_smooth(a_pred, p_pred, gain, fvar, v, with_cov=with_cov)
    n = gain.shape[-1]
    batch = a_pred.shape[2:]
    extra = (1,) * (len(batch) - 1)
    r = np.zeros((m, *batch))
    a_s = np.empty(a_pred.shape)
    nmat = np.zeros((m, m, n))
    p_s = np.empty((nt, m, m, n)) if with_cov else None
    zb = z.reshape((m,) + (1,) * len(batch))
    zz = np.outer(z, z)[:, :, None]
    trt = tr.T
    for t in range(nt - 1, -1, -1):
        k = gain[t].reshape((m, *extra, n))
        finv = 1.0 / fvar[t]
        tr_r = (trt @ r.reshape(m, -1)).reshape(r.shape)  # T' r
        # r_{t-1} = z v/F + (I - z k') T' r_t
        r = tr_r + zb * (v[t] * finv - (k * tr_r).sum(axis=0))
        pt = p_pred[t]
        if len(batch) == 1:
            a_s[t] = a_pred[t] + (pt * r[None]).sum(axis=1)
        else:
            a_s[t] = a_pred[t] + np.einsum("ijn,j...n->i...n", pt, r)
        if with_cov:
            kt = gain[t]
            tn = (trt @ nmat.reshape(m, -1)).reshape(nmat.shape)  # T' N
            c = (trt @ tn.transpose(1, 0, 2).reshape(m, -1)).reshape(nmat.shape)  # T' N T
            ck = np.einsum("ijn,jn->in", c, kt)
            kck = (kt * ck).sum(axis=0)
            nmat = (
                c - z[:, None, None] * ck[None] - ck[:, None] * z[None, :, None] + zz * (kck + finv)
            )
            pn = np.einsum("ijn,jkn->ikn", pt, nmat)
            p_s[t] = pt - np.einsum("ijn,jkn->ikn", pn, pt)
    return a_s, p_s


# --------------------------------------------------------------------------------------
# shared covariance recursion (same parameters, same missing days)
# --------------------------------------------------------------------------------------
#
# With the same variance parameters, the same measurement variances and the same missing
# days, the covariance recursion (P_t, F_t, K_t, N_t) does not depend on the data: every
# such series has the SAME one. It is run once per group of series, and only the mean
# recursions (linear in the data, with coefficients from that covariance recursion) run
# over the series, in the innovation form of the per-series pass:
#
#   v_t = y_t - z' a_t,   a_{t+1} = T a_t + T K_t v_t                      (forward)
#   r_{t-1} = T' r_t + z (v_t / F_t - K_t' T' r_t),   a_t + P_t r_{t-1}    (backward)
#
# This is exact, not a steady-state approximation: for the local linear trend the same
# elementwise operations as the per-series pass with the gains as scalars (bitwise the same
# results), for other models small matrix products per step (equal to rounding);
# tests/models/test_smoother_paths.py.

# Each group costs one covariance recursion and one pass of per-step ufunc calls (a fixed
# cost that hardly depends on the group's size below a few thousand series); the per-series
# pass costs about 3-7 such passes for 240-1,000 series (measured on the 2-core machine), so
# a few groups only, more for larger batches.
_SHARED_GROUPS_MIN, _SERIES_PER_EXTRA_GROUP = 2, 200


def _shared_groups(observed, h_obs, pm, cens):
    """Series groups that share one covariance recursion, or None (per-series pass).

    ``observed`` is ``(n, T)``; ``h_obs`` the extra measurement variance (``(n, T)``, 0 where
    missing) or None. Series share a recursion when every parameter is the same for all
    series, nothing is censored, and within a group the missing days and the measurement
    variances are the same. Returns a list of index arrays (one per group; ``None`` for the
    single group of all series) or None when the groups are too many for the shared pass to
    pay off (more than ``max(2, n // 200)``).
    """
    n = observed.shape[0]
    if n == 0 or cens is not None or not (pm == pm[0]).all():
        return None
    if (observed == observed[0]).all():
        groups = [None]
    else:  # peel off one pattern at a time, stopping as soon as there are too many
        packed = np.packbits(observed, axis=1)
        rest = np.arange(n)
        groups = []
        while rest.size:
            if len(groups) == max(_SHARED_GROUPS_MIN, n // _SERIES_PER_EXTRA_GROUP):
                return None
            same = (packed[rest] == packed[rest[0]]).all(axis=1)
            groups.append(rest[same])
            rest = rest[~same]
    if h_obs is not None:
        for g in groups:
            hg = h_obs if g is None else h_obs[g]
            if not (hg == hg[0]).all():
                return None
    return groups


def _lltrend_cov_filter(h_t, obs_t, q0, q1, p1):
    """Covariance part of :func:`_lltrend_filter_steps` for ONE series, in Python floats.

    Same operations in the same order as the batched pass (so the same numbers). Returns
    ``p_pred (T+1, 2, 2)``, ``gain (T, 2)`` (0 where missing) and ``fvar (T,)``.
    """
    nt = len(h_t)
    p00, p01, p11 = float(p1[0, 0]), float(p1[0, 1]), float(p1[1, 1])
    out = np.empty((nt + 1, 5))  # p00, p01, p11, k0, k1
    fvar = np.empty(nt)
    rows = []
    for t in range(nt):
        f = p00 + h_t[t]
        w = 1.0 / f if obs_t[t] else 0.0
        k0 = p00 * w
        k1 = p01 * w
        rows.append((p00, p01, p11, k0, k1))
        fvar[t] = f
        f11 = p11 - k1 * p01
        f01 = p01 - k0 * p01 + f11
        p00 = p00 - k0 * p00 + f01 + f01 - f11 + q0
        p01 = f01
        p11 = f11 + q1
    rows.append((p00, p01, p11, 0.0, 0.0))
    out[:] = rows
    p_pred = np.empty((nt + 1, 2, 2))
    p_pred[:, 0, 0] = out[:, 0]
    p_pred[:, 0, 1] = p_pred[:, 1, 0] = out[:, 1]
    p_pred[:, 1, 1] = out[:, 2]
    return p_pred, out[:nt, 3:5].copy(), fvar


def _lltrend_cov_smooth(p_pred, gain, finv):
    """Covariance part of :func:`_lltrend_smooth` for ONE series, in Python floats."""
    nt = gain.shape[0]
    n00 = n01 = n11 = 0.0
    p_rows = p_pred[:nt, :, :].reshape(nt, 4).tolist()
    k_rows = gain.tolist()
    fi = finv.tolist()
    out = [None] * nt
    for t in range(nt - 1, -1, -1):
        k0, k1 = k_rows[t]
        p00, p01, _, p11 = p_rows[t]
        c01 = n00 + n01
        c11 = c01 + n01 + n11
        ck0 = n00 * k0 + c01 * k1
        ck1 = c01 * k0 + c11 * k1
        n00 = n00 - ck0 - ck0 + k0 * ck0 + k1 * ck1 + fi[t]
        n01 = c01 - ck1
        n11 = c11
        pn00 = p00 * n00 + p01 * n01
        pn01 = p00 * n01 + p01 * n11
        pn10 = p01 * n00 + p11 * n01
        pn11 = p01 * n01 + p11 * n11
        s01 = p01 - (pn00 * p01 + pn01 * p11)
        out[t] = (p00 - (pn00 * p00 + pn01 * p01), s01, s01, p11 - (pn10 * p01 + pn11 * p11))
    return np.array(out, dtype=float).reshape(nt, 2, 2)


def _shared_covariances(h_t, observed_t, z, tr, rqr, p1):
    """One covariance recursion: ``p_pred (T+1, m, m)``, ``gain (T, m)``, ``fvar (T,)``
    (inf where missing) and ``p_smooth (T, m, m)``."""
    nt = h_t.size
    if _is_lltrend(z, tr):
        p_pred, gain, fvar = _lltrend_cov_filter(h_t.tolist(), observed_t.tolist(),
                                                 float(rqr[0, 0]), float(rqr[1, 1]), p1)
        fvar[~observed_t] = np.inf
        p_s = _lltrend_cov_smooth(p_pred, gain, 1.0 / fvar)
        return p_pred, gain, fvar, p_s
    # any other model: the batched pass on one series of zeros (only its covariances are used)
    y = np.where(observed_t, 0.0, np.nan)[:, None]
    m = z.size
    a_pred, p_pred, innov, gain, fvar, _, _, _ = _filter(
        y, h_t[:, None], None, z, tr, rqr[:, :, None], np.zeros(m), p1, m
    )
    _, p_s = _smooth(a_pred[:nt], p_pred[:nt], gain, fvar, innov, z, tr)
    return p_pred[..., 0], gain[..., 0], fvar[:, 0], p_s[..., 0]


def _shared_means(y_tn, observed_t, gain, fvar, p_pred, z, tr, a1, burn):
    """Mean recursions of series sharing one covariance recursion, small matrix products.

    ``y_tn`` is ``(T, n)`` (NaN where missing, the same days for every series). One buffer
    holds, for each time ``t``, the rows ``[a_t (m); v_t (1); u_t (m)]`` over the series
    (``v_t`` starts as ``y_t``; ``u_t = T' r_t``), so that each step works on contiguous
    blocks, in the innovation form of the per-series pass (no cancellation of large gain
    terms in the approximate diffuse phase):

    * forward: ``v_t = y_t - z' a_t``, ``a_{t+1} = [T | T K_t] [a_t; v_t]``;
    * backward: ``s = [1/F_t | -K_t'] [v_t; u_t]``, ``r_{t-1} = u_t + z s`` (in place),
      the smoothed state ``[I | 0 | P_t] [a_t; v_t; r_{t-1}]``, which then takes the place
      of ``r_{t-1}``, and ``u_{t-1} = T' r_{t-1}`` into the buffer at ``t - 1``.

    Returns ``a_pred (T+1, m, n)``, ``a_smooth (T, m, n)``, ``innov (T, n)`` (views of the
    buffer) and ``loglike (n,)``.
    """
    nt, n = y_tn.shape
    m = z.size
    missing_t = np.flatnonzero(~observed_t)
    finv = 1.0 / fvar  # 0 where missing (F = inf), like the gain
    fwd = np.empty((nt, m, m + 1))
    fwd[:, :, :m] = tr
    fwd[:, :, m] = gain @ tr.T  # T K_t
    fk = np.empty((nt, 1, m + 1))
    fk[:, 0, 0] = finv
    fk[:, 0, 1:] = -gain
    ip = np.zeros((nt, m, 2 * m + 1))
    ip[:, :, :m] = np.eye(m)
    ip[:, :, m + 1 :] = p_pred[:nt]
    trt = np.ascontiguousarray(tr.T)
    nz = np.flatnonzero(z).tolist()
    trend_only = len(nz) == 1 and z[nz[0]] == 1.0  # z' a = a_0
    buf = np.empty((nt + 1, 2 * m + 1, n))
    buf[:nt, m] = y_tn
    buf[missing_t, m] = 0.0  # T K_t = 0 there: kept finite only
    buf[nt, m:] = 0.0
    buf[nt - 1, m + 1 :] = 0.0  # u_{n-1} = T' r_{n-1} = 0
    buf[0, :m] = a1[:, None]
    for t in range(nt):
        v_t = buf[t, m]
        np.subtract(v_t, buf[t, nz[0]] if trend_only else z @ buf[t, :m], out=v_t)
        np.matmul(fwd[t], buf[t, : m + 1], out=buf[t + 1, :m])
    buf[missing_t, m] = 0.0  # v_t = 0 where missing, as in the per-series pass
    s = np.empty((1, n))
    a_s_t = np.empty((m, n))
    for t in range(nt - 1, -1, -1):
        slab = buf[t]
        np.matmul(fk[t], slab[m:], out=s)  # v_t / F_t - K_t' T' r_t
        for i in nz:
            if z[i] == 1.0:
                slab[m + 1 + i] += s[0]
            else:
                slab[m + 1 + i] += z[i] * s[0]
        r_prev = slab[m + 1 :]  # r_{t-1}
        if t:
            np.matmul(trt, r_prev, out=buf[t - 1, m + 1 :])  # u_{t-1}
        np.matmul(ip[t], slab, out=a_s_t)  # a_t + P_t r_{t-1}
        r_prev[...] = a_s_t
    innov = buf[:nt, m]
    return buf[:, :m], buf[:nt, m + 1 :], innov, _shared_loglike(innov, observed_t, fvar, burn)


def _lltrend_shared_means(y_tn, observed_t, gain, fvar, p_pred, a1, burn):
    """Mean recursions of local linear trend series sharing one covariance recursion.

    The same elementwise operations, in the same order, as :func:`_lltrend_filter_steps` and
    :func:`_lltrend_smooth`, with the shared gains and variances as Python floats: the
    results are bitwise those of the per-series pass (so they do not depend on which other
    series are in the batch, e.g. on dask chunks), without per-step temporaries.

    Returns ``a_pred (T+1, 2, n)``, ``a_smooth (T, 2, n)``, ``innov (T, n)`` and
    ``loglike (n,)``.
    """
    nt, n = y_tn.shape
    a_pred = np.empty((nt + 1, 2, n))
    innov = np.empty((nt, n))
    innov[:] = y_tn
    missing = (~observed_t).tolist()
    innov[~observed_t] = 0.0
    a_pred[0] = a1[:, None]
    k0s, k1s = gain[:, 0].tolist(), gain[:, 1].tolist()
    for t in range(nt):
        a0, a1_, v = a_pred[t, 0], a_pred[t, 1], innov[t]
        n0, n1 = a_pred[t + 1, 0], a_pred[t + 1, 1]
        np.subtract(v, a0, out=v)  # v = y - a0
        if missing[t]:
            np.multiply(v, 0.0, out=v)
        np.multiply(v, k1s[t], out=n1)
        np.add(a1_, n1, out=n1)  # a1 + k1 v
        np.multiply(v, k0s[t], out=n0)
        np.add(a0, n0, out=n0)
        np.add(n0, n1, out=n0)  # (a0 + k0 v) + a1_new
    finv = (1.0 / fvar).tolist()
    p00s, p01s, p11s = (p_pred[:nt, 0, 0].tolist(), p_pred[:nt, 0, 1].tolist(),
                        p_pred[:nt, 1, 1].tolist())
    a_s = np.empty((nt, 2, n))
    r0, r1 = np.zeros(n), np.zeros(n)
    tmp_a, tmp_b = np.empty(n), np.empty(n)
    for t in range(nt - 1, -1, -1):
        k0, k1, p00, p01, p11 = k0s[t], k1s[t], p00s[t], p01s[t], p11s[t]
        np.add(r0, r1, out=r1)  # r1 = r0 + r1
        np.multiply(innov[t], finv[t], out=tmp_a)
        np.add(r0, tmp_a, out=tmp_a)  # r0 + v / F
        np.multiply(r0, k0, out=tmp_b)
        np.multiply(r1, k1, out=r0)
        np.add(tmp_b, r0, out=tmp_b)  # k0 r0 + k1 r1
        np.subtract(tmp_a, tmp_b, out=r0)
        s0, s1 = a_s[t, 0], a_s[t, 1]
        np.multiply(r0, p00, out=s0)
        np.add(a_pred[t, 0], s0, out=s0)
        np.multiply(r1, p01, out=tmp_a)
        np.add(s0, tmp_a, out=s0)  # (a0 + p00 r0) + p01 r1
        np.multiply(r0, p01, out=s1)
        np.add(a_pred[t, 1], s1, out=s1)
        np.multiply(r1, p11, out=tmp_a)
        np.add(s1, tmp_a, out=s1)  # (a1 + p01 r0) + p11 r1
    return a_pred, a_s, innov, _shared_loglike(innov, observed_t, fvar, burn)


def _shared_loglike(innov, observed_t, fvar, burn):
    """Gaussian log-likelihood from innovations ``(T, n)`` with shared variances ``F_t``."""
    unc = observed_t.copy()
    unc[:burn] = False
    w = np.where(unc, 1.0 / fvar, 0.0)
    const = np.sum(np.where(unc, _LOG_2PI + np.log(np.where(unc, fvar, 1.0)), 0.0))
    return -0.5 * (const + np.einsum("t,tn,tn->n", w, innov, innov))


def _shared_smoother(yy, h_obs, groups, model, pm, a1, p1):
    """:func:`kalman_smoother` for series that share one covariance recursion per group."""
    n, nt = yy.shape
    z, tr = model.system()
    m = z.size
    rqr = model.state_cov(pm[:1])[0]
    observed = ~np.isnan(yy)
    if groups[0] is None:
        idx_all = [None]
    else:
        idx_all = groups
        a_pred = np.empty((nt + 1, m, n))
        a_s = np.empty((nt, m, n))
        innov = np.empty((nt, n))
        loglike = np.empty(n)
        p_pred = np.empty((nt + 1, m, m, n))
        p_s = np.empty((nt, m, m, n))
        gain = np.empty((nt, m, n))
        fvar = np.empty((nt, n))
        htil = np.empty((nt, n))
    for g in idx_all:
        first = 0 if g is None else g[0]
        obs_t = observed[first]
        h_t = np.full(nt, pm[0, 0]) if h_obs is None else h_obs[first] + pm[0, 0]
        cov = _shared_covariances(h_t, obs_t, z, tr, rqr, p1)
        y_tn = yy.T if g is None else yy[g].T
        if _is_lltrend(z, tr):
            means = _lltrend_shared_means(y_tn, obs_t, cov[1], cov[2], cov[0], a1, m)
        else:
            means = _shared_means(y_tn, obs_t, cov[1], cov[2], cov[0], z, tr, a1, m)
        if g is None:  # one group: the shared arrays are broadcast, not copied
            a_pred, a_s, innov, loglike = means
            p_pred = np.broadcast_to(cov[0][..., None], (nt + 1, m, m, n))
            gain = np.broadcast_to(cov[1][..., None], (nt, m, n))
            fvar = np.broadcast_to(cov[2][:, None], (nt, n))
            p_s = np.broadcast_to(cov[3][..., None], (nt, m, m, n))
            htil = np.broadcast_to(np.where(obs_t, h_t, np.nan)[:, None], (nt, n))
        else:
            a_pred[..., g], a_s[..., g], innov[:, g], loglike[g] = means
            p_pred[..., g] = cov[0][..., None]
            gain[..., g] = cov[1][..., None]
            fvar[:, g] = cov[2][:, None]
            p_s[..., g] = cov[3][..., None]
            htil[:, g] = np.where(obs_t, h_t, np.nan)[:, None]
    return _kalman_result(model, pm, a_s, p_s, a_pred, p_pred, loglike, yy.copy(), htil.T,
                          gain, fvar, innov)


def _kalman_result(model, pm, a_s, p_s, a_pred, p_pred, loglike, pseudo_obs, pseudo_obs_var,
                   gain, fvar, innov) -> KalmanResult:
    """The result from the recursions' layout (state, [state,] time, series): series first."""
    return KalmanResult(
        model=model,
        params=pm,
        smoothed_state=a_s.transpose(2, 0, 1),
        smoothed_state_cov=p_s.transpose(3, 0, 1, 2),
        predicted_state=a_pred.transpose(2, 0, 1),
        predicted_state_cov=p_pred.transpose(3, 0, 1, 2),
        loglike=loglike,
        pseudo_obs=pseudo_obs,
        pseudo_obs_var=pseudo_obs_var,
        _gain=gain,
        _forecast_var=fvar,
        _innovation=innov,
    )


def kalman_smoother(
    y,
    model: StateSpaceModel | None = None,
    params=None,
    *,
    obs_var=None,
    censored=None,
    initial_variance: float = 1e6,
    initial_state=None,
) -> KalmanResult:
    r"""Run the batched Kalman filter and state smoother with fixed variance parameters.

    Parameters
    ----------
    y : array_like
        Log-scale observations, shape ``(n_series, n_time)`` or ``(n_time,)``; NaN = missing
        day. For censored entries the value is the log censoring limit (log LOQ).
        [log(mg/day/1000 inhabitants)] or any log-scale quantity.
    model : StateSpaceModel, optional
        Model structure (default: local linear trend, no seasonal terms).
    params : mapping or array_like
        Variances in ``model.param_names`` order, shape ``(k,)`` or ``(n_series, k)``
        [log-scale variance].
    obs_var : array_like, optional
        Known measurement variance ``H_t`` of each observation, added to
        ``sigma2_irregular`` (e.g. the variance of the log back-calculation draws),
        broadcastable to ``y`` [log-scale variance]. Default 0.
    censored : array_like of bool, optional
        True where the value is below the LOQ (left-censored at the value given in ``y``).
    initial_variance : float
        Approximate diffuse initial variance ``kappa`` (statsmodels default 1e6).
    initial_state : array_like, optional
        Initial state mean ``a_1`` (default zeros).

    Returns
    -------
    KalmanResult

    Raises
    ------
    InputError
        Shapes that do not match, negative variances, infinite observations.

    Notes
    -----
    Prediction error decomposition with ``F_t = z' P_t z + sigma2_irregular + H_t`` and
    ``v_t = y_t - z' a_t``; missing days skip the update. A censored value (latent
    ``y*_t <= c_t``) is handled by assumed-density filtering (Tobit Kalman filter): the
    state is updated with the exact first two moments of ``alpha_t | y*_t <= c_t``,

    .. math::

        \beta = (c - z'a)/\sqrt{F},\quad \lambda = \phi(\beta)/\Phi(\beta),\quad
        E[y^*|\cdot] = z'a - \sqrt{F}\lambda,\quad
        V[y^*|\cdot] = F(1 - \beta\lambda - \lambda^2),

    which equals a Gaussian update with the pseudo-observation
    ``y~ = z'a + (F~/F)(E[y*] - z'a)`` of variance ``F~ = F^2 / (F - V[y*])``; the smoother
    then runs on these pseudo-observations, and the log-likelihood term is ``log Phi(beta)``.
    Smoothing uses the Durbin & Koopman (2012, sec. 4.4) backward recursions for ``r_t`` and
    ``N_t`` (no matrix inversion).

    Series with the same parameters, the same measurement variances and the same missing
    days (and no censored value) have the same ``P_t``, ``F_t``, ``K_t`` and ``N_t``: these
    are computed once per group of such series and only the mean recursions (``a_t``,
    ``v_t``, ``r_t``) run over the series. This is exact, not a steady-state approximation:
    for the local linear trend the results are bitwise those of the per-series pass, for
    other models equal to rounding (``tests/models/test_smoother_paths.py``). Up to
    ``max(2, n_series // 200)`` groups use this path, more use the per-series pass.

    References
    ----------
    Durbin, J., & Koopman, S. J. (2012). *Time Series Analysis by State Space Methods*
    (2nd ed.). Oxford University Press. doi:10.1093/acprof:oso/9780199641178.001.0001
    Harvey, A. C. (1989). *Forecasting, Structural Time Series Models and the Kalman
    Filter*. Cambridge University Press. doi:10.1017/CBO9781107049994
    Allik, B., Miller, C., Piovoso, M. J., & Zurakowski, R. (2016). The Tobit Kalman filter:
    an estimator for censored measurements. *IEEE Transactions on Control Systems
    Technology*, 24(1), 365-371. doi:10.1109/TCST.2015.2432155

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[1.0, 1.2, np.nan, 1.1, 1.3]])
    >>> res = kalman_smoother(y, StateSpaceModel("local_level"), [0.1, 0.05])
    >>> res.smoothed_state.shape
    (1, 5, 1)
    >>> bool(np.isfinite(res.loglike).all())
    True
    """
    model = model or StateSpaceModel()
    yy = _as_2d("y", y)
    if np.isinf(yy).any():
        bad = np.argwhere(np.isinf(yy))[0]
        raise InputError(f"y: infinite value at series {bad[0]}, time {bad[1]} (log of 0?)")
    n, nt = yy.shape
    if nt == 0:
        raise InputError("y: no time points")
    if params is None:
        raise InputError(f"params: required, in the order {list(model.param_names)}")
    pm = _params_matrix(model, params, n)
    observed = ~np.isnan(yy)
    h_obs = None
    if obs_var is not None:
        h = _as_2d("obs_var", obs_var, (n, nt))
        if np.any(h < 0) or not np.all(np.isfinite(h) | ~observed):
            raise InputError(
                "obs_var: expected finite non-negative variances where y is observed"
            )
        h_obs = np.where(observed, h, 0.0)
    cens = None
    if censored is not None:
        cens = _as_2d("censored", censored, (n, nt), dtype=bool)
        if not cens.any():
            cens = None
    z, tr = model.system()
    m = z.size
    a1 = np.zeros(m) if initial_state is None else np.asarray(initial_state, float)
    p1 = np.eye(m) * float(initial_variance)
    groups = _shared_groups(observed, h_obs, pm, cens)
    if groups is not None:  # one covariance recursion per group (exact, see above)
        return _shared_smoother(yy, h_obs, groups, model, pm, a1, p1)
    h = (np.zeros((n, nt)) if h_obs is None else h_obs) + pm[:, :1]
    rqr = model.state_cov(pm)
    a_pred, p_pred, innov, gain, fvar, ytil, htil, ll = _filter(
        yy.T, h.T, None if cens is None else cens.T, z, tr, rqr.transpose(1, 2, 0), a1, p1, m
    )
    a_s, p_s = _smooth(a_pred[:nt], p_pred[:nt], gain, fvar, innov, z, tr)
    return _kalman_result(model, pm, a_s, p_s, a_pred, p_pred, ll, ytil.T, htil.T, gain, fvar,
                          innov)


def _loglike_only(yy, h, cens, model, pm, initial_variance):
    z, tr = model.system()
    m = z.size
    rqr = model.state_cov(pm)
    out = _filter(
        yy.T,
        (h + pm[:, :1]).T,
        None if cens is None else cens.T,
        z,
        tr,
        rqr.transpose(1, 2, 0),
        np.zeros(m),
        np.eye(m) * initial_variance,
        m,
    )
    return out[-1]


# --------------------------------------------------------------------------------------
# simulation
# --------------------------------------------------------------------------------------


def simulate_state_space(
    model: StateSpaceModel,
    params,
    n_time: int,
    *,
    n_series: int = 1,
    obs_var=None,
    initial_state=None,
    seed=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate series from the model (for tests, coverage checks and the simulation smoother).

    Parameters
    ----------
    model : StateSpaceModel
        Model structure.
    params : mapping or array_like
        Variances [log-scale variance], shape ``(k,)`` or ``(n_series, k)``.
    n_time : int
        Number of time points [day].
    n_series : int
        Number of independent series.
    obs_var : array_like, optional
        Extra known measurement variance ``H_t`` [log-scale variance].
    initial_state : array_like, optional
        ``alpha_1`` (default zeros), shape ``(m,)`` or ``(n_series, m)``.
    seed : int, numpy.random.Generator or SeedSequence, optional
        Random seed.

    Returns
    -------
    y : numpy.ndarray
        Observations, shape ``(n_series, n_time)``.
    states : numpy.ndarray
        States, shape ``(n_series, n_time, m)``.

    Examples
    --------
    >>> y, s = simulate_state_space(StateSpaceModel("local_level"), [0.1, 0.01], 10, seed=1)
    >>> y.shape, s.shape
    ((1, 10), (1, 10, 1))
    """
    rng = np.random.default_rng(seed)
    pm = _params_matrix(model, params, n_series)
    z, tr = model.system()
    m = z.size
    rqr = model.state_cov(pm)
    sd = np.sqrt(np.diagonal(rqr, axis1=1, axis2=2))  # diagonal R Q R'
    a0 = np.zeros((n_series, m)) if initial_state is None else initial_state
    a = np.broadcast_to(np.asarray(a0, float), (n_series, m)).copy()
    eta = rng.standard_normal((n_time, n_series, m)) * sd
    states = np.empty((n_series, n_time, m))
    for t in range(n_time):
        states[:, t] = a
        a = a @ tr.T + eta[t]
    h = 0.0 if obs_var is None else _as_2d("obs_var", obs_var, (n_series, n_time))
    eps = rng.standard_normal((n_series, n_time)) * np.sqrt(pm[:, :1] + h)
    return states @ z + eps, states


def simulation_smoother(result: KalmanResult, n_draws: int, *, seed=None) -> np.ndarray:
    """Draw state paths from ``p(alpha | y)`` with the mean-corrections simulation smoother.

    Parameters
    ----------
    result : KalmanResult
        Output of :func:`kalman_smoother` (censored values enter as their pseudo-observations).
    n_draws : int
        Number of draws.
    seed : int, numpy.random.Generator or SeedSequence, optional
        Random seed.

    Returns
    -------
    numpy.ndarray
        Draws shaped ``(n_series, n_draws, n_time, m)``.

    Notes
    -----
    Durbin & Koopman (2002): simulate ``(alpha+, y+)`` from the model with ``alpha_1+ = a_1``
    (the diffuse part cancels), smooth ``y+`` with the same gains, and return
    ``alpha~ = alpha_hat + alpha+ - alpha_hat+``. All draws run in one vectorised pass.

    References
    ----------
    Durbin, J., & Koopman, S. J. (2002). A simple and efficient simulation smoother for state
    space time series analysis. *Biometrika*, 89(3), 603-615. doi:10.1093/biomet/89.3.603

    Examples
    --------
    >>> y, _ = simulate_state_space(StateSpaceModel("local_level"), [0.1, 0.01], 30, seed=1)
    >>> res = kalman_smoother(y, StateSpaceModel("local_level"), [0.1, 0.01])
    >>> simulation_smoother(res, 5, seed=2).shape
    (1, 5, 30, 1)
    """
    if int(n_draws) != n_draws or n_draws < 1:
        raise InputError(f"n_draws: expected a positive integer, got {n_draws!r}")
    rng = np.random.default_rng(seed)
    model = result.model
    z, tr = model.system()
    n, nt, m = result.smoothed_state.shape
    d = int(n_draws)
    rqr = model.state_cov(result.params)
    sd_state = np.sqrt(np.diagonal(rqr, axis1=1, axis2=2)).T[:, None, :]  # (m, 1, n)
    obs = ~np.isnan(result.pseudo_obs.T)  # (T, n)
    sd_obs = np.sqrt(np.where(obs, result.pseudo_obs_var.T, 0.0))
    a1 = np.broadcast_to(result.predicted_state[:, 0].T[:, None, :], (m, d, n))
    eta = rng.standard_normal((nt, m, d, n)) * sd_state
    eps = rng.standard_normal((nt, d, n)) * sd_obs[:, None, :]
    alpha_plus = np.empty((nt, m, d, n))
    a = a1.copy()
    for t in range(nt):
        alpha_plus[t] = a
        a = (tr @ a.reshape(m, -1)).reshape(a.shape) + eta[t]
    y_plus = np.einsum("tmdn,m->tdn", alpha_plus, z) + eps
    # filter y+ with the stored gains (they do not depend on the data)
    a_pred = np.empty_like(alpha_plus)
    v = np.zeros((nt, d, n))
    ap = a1.copy()
    for t in range(nt):
        a_pred[t] = ap
        vt = np.where(obs[t], y_plus[t] - np.einsum("mdn,m->dn", ap, z), 0.0)
        v[t] = vt
        ap = ap + result._gain[t][:, None, :] * vt
        ap = (tr @ ap.reshape(m, -1)).reshape(ap.shape)
    p_pred = result.predicted_state_cov.transpose(1, 2, 3, 0)[:nt]
    a_hat_plus, _ = _smooth(
        a_pred, p_pred, result._gain, result._forecast_var, v, z, tr, with_cov=False
    )
    draws = (alpha_plus - a_hat_plus).transpose(3, 2, 0, 1)  # (n, d, T, m)
    return result.smoothed_state[:, None] + draws


# --------------------------------------------------------------------------------------
# maximum likelihood
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmootherFit:
    """Maximum-likelihood fit of :func:`fit_smoother`.

    Attributes
    ----------
    params : pandas.DataFrame
        Estimated variances, one row per series, columns ``model.param_names``.
    loglike : numpy.ndarray
        Maximised log-likelihood per series.
    converged : numpy.ndarray
        Whether the quasi-Newton iterations of each series met their stopping test
        (see :func:`fit_smoother`), per series.
    result : KalmanResult
        Filter and smoother at the estimates.
    """

    params: pd.DataFrame
    loglike: np.ndarray
    converged: np.ndarray
    result: KalmanResult


def fit_smoother(
    y,
    model: StateSpaceModel | None = None,
    *,
    obs_var=None,
    censored=None,
    start=None,
    initial_variance: float = 1e6,
    maxiter: int = 200,
) -> SmootherFit:
    """Estimate the variance parameters of every series by maximum likelihood (batched).

    Parameters
    ----------
    y, obs_var, censored
        As in :func:`kalman_smoother`.
    model : StateSpaceModel, optional
        Model structure.
    start : array_like, optional
        Starting variances (default: ``var(diff(y))`` split over the components).
    initial_variance : float
        Approximate diffuse initial variance.
    maxiter : int
        Maximum quasi-Newton iterations (each series stops on its own when converged).

    Returns
    -------
    SmootherFit

    Notes
    -----
    Series are independent, so each series has its own BFGS iterations (inverse-Hessian
    update and backtracking Armijo line search, Nocedal & Wright 2006, ch. 6), but all
    series still in play are evaluated together: the log-likelihood and its
    forward-difference gradient over the ``k`` log-variances (step 1e-6) are ONE batched
    filter run over ``(k + 1) x`` the active series, and a line-search trial is another.
    A series stops when its largest (projected) gradient component is below 1e-4 or a step
    no longer lowers the objective (relative 1e-10); ``converged`` says which did.
    Parameters are optimised as ``log(sigma2)`` (bounded to [-20, 10]). The
    log-likelihoods agree with statsmodels ``UnobservedComponents.fit()`` to about 1e-5
    (``tests/models/test_smoother.py``).

    References
    ----------
    Nocedal, J., & Wright, S. J. (2006). *Numerical Optimization* (2nd ed.). Springer.
    doi:10.1007/978-0-387-40065-5

    Examples
    --------
    >>> y, _ = simulate_state_space(StateSpaceModel("local_level"), [0.2, 0.05], 200, seed=3)
    >>> fit = fit_smoother(y, StateSpaceModel("local_level"))
    >>> list(fit.params.columns)
    ['sigma2_irregular', 'sigma2_level']
    """
    model = model or StateSpaceModel()
    yy = _as_2d("y", y)
    n, nt = yy.shape
    k = len(model.param_names)
    h = np.zeros((n, nt)) if obs_var is None else _as_2d("obs_var", obs_var, (n, nt))
    if np.any(h < 0) or not np.all(np.isfinite(h) | np.isnan(yy)):
        raise InputError("obs_var: expected finite non-negative variances where y is observed")
    if np.isinf(yy).any():
        raise InputError("y: infinite value (log of 0?)")
    h = np.where(np.isnan(h), 0.0, h)
    cens = None if censored is None else _as_2d("censored", censored, (n, nt), dtype=bool)
    nobs = (~np.isnan(yy)).sum(axis=1)
    if np.any(nobs <= model.k_states + 1):
        bad = int(np.argmax(nobs <= model.k_states + 1))
        raise InputError(
            f"y: series {bad} has {nobs[bad]} observations; at least {model.k_states + 2} "
            "are needed to estimate the variances"
        )
    if start is None:
        dv = np.nanvar(np.diff(yy, axis=1), axis=1)
        dv = np.where(np.isfinite(dv) & (dv > 0), dv, 1.0)
        x0 = np.log(np.column_stack([dv / 2] + [dv / (2 * (k - 1))] * (k - 1)))
    else:
        x0 = np.log(np.maximum(_params_matrix(model, start, n), 1e-8))
    x, converged = _batched_quasi_newton(
        lambda rows, xs: -_loglike_only(yy[rows], h[rows],
                                        None if cens is None else cens[rows], model,
                                        np.exp(xs), initial_variance),
        x0, maxiter=maxiter)
    pm = np.exp(x)
    res = kalman_smoother(
        yy, model, pm, obs_var=h, censored=cens, initial_variance=initial_variance
    )
    return SmootherFit(
        params=pd.DataFrame(pm, columns=list(model.param_names)),
        loglike=res.loglike,
        converged=converged,
        result=res,
    )


_LOG_VAR_BOUNDS = (-20.0, 10.0)


def _batched_quasi_newton(negll, x0: np.ndarray, *, maxiter: int = 200,
                          gtol: float = 1e-4, eps: float = 1e-6):
    """Minimise independent per-series objectives together: one BFGS per series.

    ``negll(rows, x)`` returns the negative log-likelihood of the series ``rows`` at the
    log-variances ``x`` (one row per series); each call runs ONE batched filter, so the
    forward-difference gradient of all active series (``k`` perturbed copies of each
    series next to the unperturbed one) is one filter run over ``(k + 1) x`` series, and
    a line-search trial is another. Each series has its own inverse-Hessian estimate
    (BFGS update, Nocedal & Wright 2006, eq. 6.17), its own backtracking (Armijo)
    line search and its own stopping test, and leaves the batch when it has converged:
    largest projected gradient component below ``gtol`` [log-likelihood per unit of
    log-variance], or no decrease of the objective above 1e-10 (relative) over one step.
    Log-variances are kept in :data:`_LOG_VAR_BOUNDS`.

    Returns ``(x, converged)``.

    References
    ----------
    Nocedal, J., & Wright, S. J. (2006). *Numerical Optimization* (2nd ed.). Springer.
    doi:10.1007/978-0-387-40065-5
    """
    lo, hi = _LOG_VAR_BOUNDS
    x = np.clip(np.array(x0, dtype=float), lo, hi)
    n, k = x.shape
    eye = np.eye(k)

    def value_and_gradient(rows, xs):
        m = len(rows)
        stacked = np.repeat(xs[None], k + 1, axis=0)  # (k + 1, m, k)
        stacked[1:, :, :] += eps * eye[:, None, :]
        f = negll(np.tile(rows, k + 1), stacked.reshape(-1, k)).reshape(k + 1, m)
        return f[0], ((f[1:] - f[0]) / eps).T

    def projected(xs, g):
        return np.where(((xs <= lo) & (g > 0)) | ((xs >= hi) & (g < 0)), 0.0, g)

    f, g = value_and_gradient(np.arange(n), x)
    hinv = np.repeat(eye[None], n, axis=0)
    converged = np.abs(projected(x, g)).max(axis=1) < gtol
    done = converged.copy()
    for _ in range(maxiter):
        act = np.flatnonzero(~done)
        if act.size == 0:
            break
        xa, fa, ga, ha = x[act], f[act], g[act], hinv[act]
        d = -np.einsum("nij,nj->ni", ha, ga)
        descent = np.einsum("ni,ni->n", d, ga) < 0
        d = np.where(descent[:, None], d, -ga)  # a lost BFGS matrix: steepest descent
        ha[~descent] = eye
        d *= np.minimum(1.0, 2.0 / np.maximum(np.abs(d).max(axis=1), 1e-300))[:, None]
        alpha = np.ones(act.size)
        x_new, f_new = xa.copy(), fa.copy()
        todo = np.arange(act.size)
        for _halving in range(30):
            trial = np.clip(xa[todo] + alpha[todo, None] * d[todo], lo, hi)
            f_trial = negll(act[todo], trial)
            slope = np.einsum("ni,ni->n", trial - xa[todo], ga[todo])
            ok = np.isfinite(f_trial) & (f_trial <= fa[todo] + 1e-4 * slope)
            x_new[todo[ok]], f_new[todo[ok]] = trial[ok], f_trial[ok]
            todo = todo[~ok]
            if todo.size == 0:
                break
            alpha[todo] *= 0.5
        f_new2, g_new = value_and_gradient(act, x_new)
        s_step, y_step = x_new - xa, g_new - ga
        sy = np.einsum("ni,ni->n", s_step, y_step)
        upd = sy > 1e-12
        if upd.any():
            rho = 1.0 / sy[upd]
            v = eye[None] - rho[:, None, None] * np.einsum("ni,nj->nij", s_step[upd],
                                                           y_step[upd])
            first = np.all(ha[upd] == eye, axis=(1, 2))
            scale = np.where(first, sy[upd] / np.einsum("ni,ni->n", y_step[upd],
                                                        y_step[upd]), 1.0)
            hu = ha[upd] * scale[:, None, None]
            ha[upd] = (np.einsum("nij,njk,nlk->nil", v, hu, v)
                       + rho[:, None, None] * np.einsum("ni,nj->nij", s_step[upd],
                                                        s_step[upd]))
        failed = np.zeros(act.size, bool)
        failed[todo] = True  # no acceptable step along d
        stalled = ~failed & (fa - f_new2 <= 1e-10 * np.maximum(1.0, np.abs(fa)))
        ha[failed] = eye  # retry along the steepest descent
        x[act], f[act], g[act], hinv[act] = x_new, f_new2, g_new, ha
        converged[act] = (np.abs(projected(x_new, g_new)).max(axis=1) < gtol) | stalled
        done[act] = converged[act] | (failed & ~descent)  # steepest descent failed too
    return x, converged


# --------------------------------------------------------------------------------------
# tidy front end
# --------------------------------------------------------------------------------------


@renamed_arguments(alpha=("level", complement))
def smooth_log_consumption(
    table: pd.DataFrame,
    *,
    value: str = "consumption_mg_per_day_per_1000",
    series: Sequence[str] = ("site", "biomarker"),
    date: str = "date",
    sd_log: str | None = None,
    censored: str | None = None,
    model: StateSpaceModel | None = None,
    params=None,
    level: float = 0.95,
    n_draws: int = 0,
    seed=None,
) -> xr.Dataset:
    """Smooth log consumption of many series from a tidy table onto a daily grid.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per series and day: ``series`` columns, ``date``, ``value``
        [mg/day/1000 inhabitants] (for censored rows: the censoring limit in the same unit),
        optional ``sd_log`` and ``censored`` columns.
    value : str
        Column with positive values [mg/day/1000 inhabitants].
    series : sequence of str
        Columns that identify a series.
    date : str
        Day column; days without a row become missing days.
    sd_log : str, optional
        Column with the standard deviation of log(value) from back-calculation [log units].
    censored : str, optional
        Boolean column, True when below the LOQ.
    model : StateSpaceModel, optional
        Model structure (default local linear trend).
    params : mapping or array_like, optional
        Fixed variances; default: maximum likelihood per series.
    level : float, default 0.95
        Confidence level of the interval(s), in (0, 1) (docs/vocabulary.md;
        ``alpha=`` is a deprecated alias, ``level = 1 - alpha``).
    n_draws : int
        Simulation-smoother draws of the level to return (0 = none).
    seed : int, optional
        Seed for the draws.

    Returns
    -------
    xarray.Dataset
        Dims ``(series, date[, draw])``: ``level_smoothed``, ``level_smoothed_lower/upper``,
        ``level_filtered``, ``level_filtered_lower/upper`` (log scale) and
        ``level_draws`` when ``n_draws > 0``; ``attrs`` record the model and parameters.

    Raises
    ------
    InputError
        Missing columns, non-positive values, duplicated (series, date) rows.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"site": "A", "biomarker": "methamphetamine",
    ...     "date": pd.date_range("2024-01-01", periods=6),
    ...     "consumption_mg_per_day_per_1000": [20, 22, 21, 25, 24, 26.0]})
    >>> ds = smooth_log_consumption(t, model=StateSpaceModel("local_level"), params=[0.01, 0.01])
    >>> ds["level_smoothed"].dims
    ('series', 'date')
    """
    alpha = round(1.0 - level, 12)  # two-sided error rate used below
    cols = [*series, date, value] + [c for c in (sd_log, censored) if c]
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise InputError(f"missing columns {missing}", file="<DataFrame>")
    vals = pd.to_numeric(table[value], errors="coerce")
    bad = ~(vals > 0)
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            "expected a positive number (log scale is used)",
            file="<DataFrame>",
            row=pos + 2,
            column=value,
            value=table[value].iloc[pos],
        )
    key = table[list(series)].astype(str).agg("|".join, axis=1)
    days = pd.to_datetime(table[date]).dt.normalize()
    dup = pd.Series(list(zip(key, days, strict=True))).duplicated()
    if dup.any():
        pos = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(
            "duplicated series and day; aggregate first",
            file="<DataFrame>",
            row=pos + 2,
            column=date,
        )
    grid = pd.date_range(days.min(), days.max(), freq="D")
    ids = pd.Index(sorted(key.unique()))
    ri = ids.get_indexer(key)
    ti = grid.get_indexer(days)
    y = np.full((ids.size, grid.size), np.nan)
    y[ri, ti] = np.log(vals.to_numpy(float))
    h = None
    if sd_log:
        h = np.zeros_like(y)
        h[ri, ti] = pd.to_numeric(table[sd_log], errors="coerce").to_numpy(float) ** 2
    cens = None
    if censored:
        cens = np.zeros(y.shape, bool)
        cens[ri, ti] = table[censored].astype(bool).to_numpy()
    model = model or StateSpaceModel()
    if params is None:
        res = fit_smoother(y, model, obs_var=h, censored=cens).result
    else:
        res = kalman_smoother(y, model, params, obs_var=h, censored=cens)
    zq = stats.norm.ppf(1 - alpha / 2)
    coords = {"series": ids, "date": grid}
    data = {}
    for kind, mean, cov in (
        ("smoothed", res.smoothed_state, res.smoothed_state_cov),
        ("filtered", res.filtered_state, res.filtered_state_cov),
    ):
        lv, sd = mean[..., 0], np.sqrt(np.maximum(cov[..., 0, 0], 0))
        data[f"level_{kind}"] = (("series", "date"), lv)
        data[f"level_{kind}_lower"] = (("series", "date"), lv - zq * sd)
        data[f"level_{kind}_upper"] = (("series", "date"), lv + zq * sd)
    if n_draws:
        draws = simulation_smoother(res, n_draws, seed=seed)[..., 0]
        data["level_draws"] = (("series", "draw", "date"), draws)
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update(
        model=repr(model),
        params=repr(dict(zip(ids, res.params.tolist(), strict=True))),
        scale=f"natural log of {value}",
        interval_level=1 - alpha,
    )
    return ds
