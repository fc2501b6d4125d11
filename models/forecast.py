"""Forecasts with prediction intervals from the state-space model of ``wbe.models.smoother``.

See ``docs/methods-timeseries.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from wbe._compat import complement, renamed_arguments
from wbe.errors import InputError
from wbe.models.smoother import KalmanResult

__all__ = ["Forecast", "forecast", "forecast_paths", "monthly_forecast"]


@dataclass(frozen=True)
class Forecast:
    """Forecast of the observations ``h = 1..steps`` days after the last time point.

    Attributes
    ----------
    mean : numpy.ndarray
        Forecast mean on the log scale, shape ``(n_series, steps)`` [log units].
    sd : numpy.ndarray
        Forecast standard deviation of a new observation (state + irregular + ``obs_var``)
        [log units].
    lower, upper : numpy.ndarray
        Prediction interval on the log scale [log units].
    level_sd : numpy.ndarray
        Standard deviation of the forecast signal (without observation noise) [log units].
    interval_level : float
        Coverage of the interval (``1 - alpha``).
    """

    mean: np.ndarray
    sd: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level_sd: np.ndarray
    interval_level: float

    def natural_scale(self) -> dict[str, np.ndarray]:
        """Median and interval on the natural scale, ``exp`` of the log-scale values.

        Returns
        -------
        dict
            ``median``, ``lower``, ``upper`` arrays [the unit of the modelled values].
        """
        return {
            "median": np.exp(self.mean),
            "lower": np.exp(self.lower),
            "upper": np.exp(self.upper),
        }


@renamed_arguments(alpha=("level", complement))
def forecast(
    result: KalmanResult, steps: int, *, level: float = 0.95, obs_var: float = 0.0
) -> Forecast:
    r"""Forecast the next ``steps`` days from a fitted state-space model.

    Parameters
    ----------
    result : KalmanResult
        Output of :func:`wbe.models.smoother.kalman_smoother` (or ``fit_smoother(...).result``).
    steps : int
        Horizon [day], e.g. 90 for about three months.
    level : float, default 0.95
        Confidence level of the interval(s), in (0, 1) (docs/vocabulary.md;
        ``alpha=`` is a deprecated alias, ``level = 1 - alpha``).
    obs_var : float
        Known measurement variance of future observations ``H`` [log-scale variance].

    Returns
    -------
    Forecast

    Raises
    ------
    InputError
        ``steps < 1`` or ``alpha`` outside (0, 1).

    Notes
    -----
    From the one-step prediction :math:`a_{n+1}, P_{n+1}`:
    :math:`a_{n+h} = T^{h-1} a_{n+1}`, :math:`P_{n+h} = T P_{n+h-1} T' + RQR'`,
    :math:`\hat y_{n+h} = z' a_{n+h}`, :math:`F_{n+h} = z' P_{n+h} z + \sigma^2_\varepsilon + H`
    and the interval :math:`\hat y \pm z_{1-\alpha/2}\sqrt{F}` (Durbin & Koopman 2012,
    sec. 4.11). Parameter uncertainty of ML variances is not included.

    References
    ----------
    Durbin, J., & Koopman, S. J. (2012). *Time Series Analysis by State Space Methods*
    (2nd ed.). Oxford University Press. doi:10.1093/acprof:oso/9780199641178.001.0001

    Examples
    --------
    >>> import numpy as np
    >>> from wbe.models.smoother import StateSpaceModel, kalman_smoother
    >>> res = kalman_smoother(np.log([20, 21, 22, 21, 23.0]), StateSpaceModel("local_level"),
    ...                       [0.01, 0.001])
    >>> fc = forecast(res, 3)
    >>> fc.mean.shape
    (1, 3)
    >>> bool(np.all(np.diff(fc.sd[0]) > 0))
    True
    """
    alpha = round(1.0 - level, 12)  # two-sided error rate used below
    if int(steps) != steps or steps < 1:
        raise InputError(f"steps: expected a positive integer, got {steps!r}")
    if not 0 < alpha < 1:
        raise InputError(f"alpha: expected a number in (0, 1), got {alpha!r}")
    model = result.model
    z, tr = model.system()
    a = result.predicted_state[:, -1].copy()  # (n, m)
    p = result.predicted_state_cov[:, -1].copy()  # (n, m, m)
    rqr = model.state_cov(result.params)
    n = a.shape[0]
    mean = np.empty((n, steps))
    var_level = np.empty((n, steps))
    for h in range(steps):  # loop over horizon; series are vectorised
        mean[:, h] = a @ z
        var_level[:, h] = np.einsum("i,nij,j->n", z, p, z)
        a = a @ tr.T
        p = tr @ p @ tr.T + rqr
    var = var_level + result.params[:, :1] + float(obs_var)
    q = stats.norm.ppf(1 - alpha / 2)
    sd = np.sqrt(var)
    return Forecast(mean, sd, mean - q * sd, mean + q * sd, np.sqrt(var_level), 1 - alpha)


def forecast_paths(
    result: KalmanResult, steps: int, n_draws: int, *, obs_var: float = 0.0, seed=None
) -> np.ndarray:
    r"""Draw joint future paths of the observations (log scale) from the predictive distribution.

    Parameters
    ----------
    result : KalmanResult
        Filter output.
    steps : int
        Horizon [day].
    n_draws : int
        Number of paths per series.
    obs_var : float
        Known measurement variance of future observations [log-scale variance].
    seed : int, numpy.random.Generator or SeedSequence, optional
        Random seed.

    Returns
    -------
    numpy.ndarray
        Paths shaped ``(n_series, n_draws, steps)`` [log units].

    Notes
    -----
    :math:`\alpha_{n+1} \sim N(a_{n+1}, P_{n+1})`, then
    :math:`\alpha_{t+1} = T\alpha_t + \eta_t` and
    :math:`y_t = z'\alpha_t + \varepsilon_t`; all draws are simulated together. The
    paths keep the dependence between days, which sums over months need.

    Examples
    --------
    >>> import numpy as np
    >>> from wbe.models.smoother import StateSpaceModel, kalman_smoother
    >>> res = kalman_smoother(np.log([20, 21, 22, 21, 23.0]), StateSpaceModel("local_level"),
    ...                       [0.01, 0.001])
    >>> forecast_paths(res, 10, 50, seed=1).shape
    (1, 50, 10)
    """
    if int(steps) != steps or steps < 1:
        raise InputError(f"steps: expected a positive integer, got {steps!r}")
    if int(n_draws) != n_draws or n_draws < 1:
        raise InputError(f"n_draws: expected a positive integer, got {n_draws!r}")
    rng = np.random.default_rng(seed)
    model = result.model
    z, tr = model.system()
    a = result.predicted_state[:, -1]  # (n, m)
    p = result.predicted_state_cov[:, -1]
    n, m = a.shape
    # symmetric square root (P may be singular for deterministic components)
    w, v = np.linalg.eigh(p)
    root = v * np.sqrt(np.clip(w, 0.0, None))[:, None, :]
    state = a[:, None, :] + np.einsum("nij,ndj->ndi", root, rng.standard_normal((n, n_draws, m)))
    sd_state = np.sqrt(np.diagonal(model.state_cov(result.params), axis1=1, axis2=2))
    sd_obs = np.sqrt(result.params[:, 0] + float(obs_var))
    eta = rng.standard_normal((steps, n, n_draws, m)) * sd_state[:, None, :]
    eps = rng.standard_normal((n, n_draws, steps)) * sd_obs[:, None, None]
    out = np.empty((n, n_draws, steps))
    for h in range(steps):  # loop over the horizon; series and draws are vectorised
        out[:, :, h] = state @ z
        state = state @ tr.T + eta[h]
    return out + eps


@renamed_arguments(alpha=("level", complement))
def monthly_forecast(
    result: KalmanResult,
    last_date,
    months: int = 3,
    *,
    n_draws: int = 4000,
    level: float = 0.95,
    obs_var: float = 0.0,
    series=None,
    seed=None,
) -> pd.DataFrame:
    """Forecast the mean daily value of each of the next calendar months, with intervals.

    Parameters
    ----------
    result : KalmanResult
        Filter output on a daily grid whose last day is ``last_date``.
    last_date : date-like
        The last day of the fitted series.
    months : int
        Number of calendar months after the month of ``last_date`` (a partly observed
        current month is not forecast).
    n_draws : int
        Simulated paths.
    level : float, default 0.95
        Confidence level of the interval(s), in (0, 1) (docs/vocabulary.md;
        ``alpha=`` is a deprecated alias, ``level = 1 - alpha``).
    obs_var : float
        Known measurement variance of future observations [log-scale variance].
    series : sequence, optional
        Labels of the series (default ``0..n_series-1``).
    seed : int, optional
        Random seed.

    Returns
    -------
    pandas.DataFrame
        ``series, month, median, lower, upper`` of the monthly mean of ``exp(y)`` [unit of
        the modelled values, e.g. mg/day/1000 inhabitants].

    Examples
    --------
    >>> import numpy as np
    >>> from wbe.models.smoother import StateSpaceModel, kalman_smoother
    >>> res = kalman_smoother(np.log(np.full(60, 20.0)), StateSpaceModel("local_level"),
    ...                       [0.01, 0.0001])
    >>> out = monthly_forecast(res, "2025-03-31", months=2, seed=1)
    >>> [str(m) for m in out["month"]]
    ['2025-04', '2025-05']
    """
    alpha = round(1.0 - level, 12)  # two-sided error rate used below
    if int(months) != months or months < 1:
        raise InputError(f"months: expected a positive integer, got {months!r}")
    last = pd.Timestamp(last_date).normalize()
    first_month = last.to_period("M") + 1
    periods = pd.period_range(first_month, periods=int(months), freq="M")
    end = periods[-1].end_time.normalize()
    steps = int((end - last).days)
    days = pd.date_range(last + pd.Timedelta(days=1), periods=steps, freq="D")
    paths = np.exp(forecast_paths(result, steps, n_draws, obs_var=obs_var, seed=seed))
    labels = list(range(paths.shape[0])) if series is None else list(series)
    if len(labels) != paths.shape[0]:
        raise InputError(f"series: {len(labels)} labels for {paths.shape[0]} series")
    month_of_day = days.to_period("M")
    rows = []
    for per in periods:
        sel = np.asarray(month_of_day == per)
        mean = paths[:, :, sel].mean(axis=2)  # (n, draws)
        q = np.quantile(mean, [0.5, alpha / 2, 1 - alpha / 2], axis=1)
        for i, lab in enumerate(labels):
            rows.append(
                {"series": lab, "month": per, "median": q[0, i], "lower": q[1, i], "upper": q[2, i]}
            )
    return pd.DataFrame(rows)
