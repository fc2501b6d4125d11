"""Monotonic trend tests and percent-change summaries for wastewater series.

Mann-Kendall test with tie correction and Sen's slope, the seasonal Kendall test, a censored
Kendall test (values below the LOQ) with the Akritas-Theil-Sen slope, the annual percent change
from a log-linear regression and the CDC NWSS-style percent change over a recent window with
trend classes. See ``docs/methods-timeseries.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from wbe._compat import complement, renamed_arguments
from wbe.errors import InputError

__all__ = [
    "TREND_CLASSES",
    "KendallResult",
    "PercentChange",
    "akritas_theil_sen_slope",
    "annual_percent_change",
    "censored_mann_kendall",
    "mann_kendall",
    "percent_change_window",
    "seasonal_mann_kendall",
    "trend_class",
]

#: Trend classes of :func:`trend_class`, from the CDC NWSS dashboard vocabulary.
TREND_CLASSES: tuple[str, ...] = (
    "sustained increase",
    "increase",
    "plateau",
    "decrease",
    "sustained decrease",
)


@dataclass(frozen=True)
class KendallResult:
    """Result of a (seasonal, censored) Mann-Kendall test.

    Attributes
    ----------
    s : float
        Kendall's S (number of concordant minus discordant pairs).
    var_s : float
        Variance of S under H0 with the tie correction.
    z : float
        Normal score with continuity correction, ``(S - sign(S)) / sqrt(var_s)``.
    p_value : float
        Two-sided p-value from the normal approximation.
    tau : float
        Kendall's tau-b.
    n : int
        Number of values used.
    slope : float
        Sen's (or seasonal Kendall, or Akritas-Theil-Sen) slope [value unit per time unit].
    slope_lower, slope_upper : float
        Confidence bounds of the slope (Sen 1968 / Gilbert 1987 rank method); NaN when not
        available.
    method : str
        Which test.
    """

    s: float
    var_s: float
    z: float
    p_value: float
    tau: float
    n: int
    slope: float
    slope_lower: float
    slope_upper: float
    method: str


def _clean_xy(y, t, *, name="y"):
    try:
        yy = np.asarray(y, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: expected numbers ({exc})") from None
    if t is None:
        tt = np.arange(yy.size, dtype=float)
    else:
        tv = np.asarray(t)
        if np.issubdtype(tv.dtype, np.datetime64) or isinstance(t, pd.DatetimeIndex):
            tt = (pd.to_datetime(tv) - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
            tt = np.asarray(tt, dtype=float)
        else:
            tt = np.asarray(tv, dtype=float).ravel()
    if tt.size != yy.size:
        raise InputError(f"t: length {tt.size} does not match {name} length {yy.size}")
    if np.isinf(yy).any():
        raise InputError(f"{name}: infinite value at position {int(np.argmax(np.isinf(yy)))}")
    keep = ~np.isnan(yy) & ~np.isnan(tt)
    return yy, tt, keep


def _tie_term(values: np.ndarray) -> tuple[float, float]:
    """Return (sum t(t-1)(2t+5), sum t(t-1)/2) over tie groups."""
    _, counts = np.unique(values, return_counts=True)
    c = counts[counts > 1].astype(float)
    return float(np.sum(c * (c - 1) * (2 * c + 5))), float(np.sum(c * (c - 1) / 2))


def _s_and_var(y: np.ndarray, t: np.ndarray) -> tuple[float, float, float]:
    """Kendall S of y against t, tie-corrected variance, tau-b (pairs tied in t score 0)."""
    n = y.size
    iu, ju = np.triu_indices(n, k=1)
    s = float(np.sum(np.sign(y[ju] - y[iu]) * np.sign(t[ju] - t[iu])))
    ty, py = _tie_term(y)
    tx, px = _tie_term(t)
    var = (n * (n - 1) * (2 * n + 5) - ty - tx) / 18.0
    # Kendall (1975): extra terms when both variables have ties
    _, cy = np.unique(y, return_counts=True)
    _, cx = np.unique(t, return_counts=True)
    if n > 2:
        var += (np.sum(cy * (cy - 1.0) * (cy - 2.0)) * np.sum(cx * (cx - 1.0) * (cx - 2.0))) / (
            9.0 * n * (n - 1) * (n - 2)
        )
    var += (np.sum(cy * (cy - 1.0)) * np.sum(cx * (cx - 1.0))) / (2.0 * n * (n - 1))
    n0 = n * (n - 1) / 2.0
    denom = np.sqrt((n0 - px) * (n0 - py))
    tau = s / denom if denom > 0 else np.nan
    return s, float(var), float(tau)


def _z_p(s: float, var: float) -> tuple[float, float]:
    if var <= 0:  # all values tied: S = 0, no evidence of a trend
        return 0.0, 1.0
    z = (s - np.sign(s)) / np.sqrt(var)
    return float(z), float(2 * stats.norm.sf(abs(z)))


def _check_alpha(alpha) -> None:
    if not (isinstance(alpha, int | float) and 0.0 < alpha < 1.0):
        raise InputError(f"alpha must be in (0, 1), got {alpha!r}", value=alpha)


def _sen(y, t, var_s, alpha):
    _check_alpha(alpha)
    iu, ju = np.triu_indices(y.size, k=1)
    dt = t[ju] - t[iu]
    ok = dt != 0
    slopes = np.sort((y[ju] - y[iu])[ok] / dt[ok])
    if slopes.size == 0:
        return np.nan, np.nan, np.nan
    slope = float(np.median(slopes))
    c = stats.norm.ppf(1 - alpha / 2) * np.sqrt(var_s)
    n_s = slopes.size
    lo_i = int(np.round((n_s - c) / 2.0)) - 1  # rank M1 = (N' - C)/2, 1-based
    hi_i = int(np.round((n_s + c) / 2.0))  # rank M2 = (N' + C)/2 + 1, 1-based
    lo = slopes[lo_i] if 0 <= lo_i < n_s else np.nan
    hi = slopes[hi_i] if 0 <= hi_i < n_s else np.nan
    return slope, float(lo), float(hi)


@renamed_arguments(alpha=("level", complement))
def mann_kendall(y, t=None, *, level: float = 0.95) -> KendallResult:
    r"""Mann-Kendall trend test with tie correction and Sen's slope.

    Parameters
    ----------
    y : array_like
        Values in time order (NaN = missing, dropped and counted in ``n``) [any unit].
    t : array_like, optional
        Times (numbers or datetimes; datetimes become days). Default ``0..n-1``.
    level : float, default 0.95
        Confidence level of the interval(s), in (0, 1) (docs/vocabulary.md;
        ``alpha=`` is a deprecated alias, ``level = 1 - alpha``).

    Returns
    -------
    KendallResult

    Raises
    ------
    InputError
        Fewer than 3 values, lengths that differ, infinite values.

    Notes
    -----
    :math:`S = \sum_{i<j} \operatorname{sgn}(y_j - y_i)\operatorname{sgn}(t_j - t_i)`,
    :math:`\operatorname{Var}(S) = [n(n-1)(2n+5) - \sum_g t_g(t_g-1)(2t_g+5)]/18` (ties in
    y; ties in t add the symmetric terms of Kendall 1975),
    :math:`Z = (S - \operatorname{sgn} S)/\sqrt{\operatorname{Var} S}`. Sen's slope is the
    median of the pairwise slopes; its interval takes the ranks
    :math:`(N' \mp z_{1-\alpha/2}\sqrt{\operatorname{Var} S})/2` of the ordered slopes
    (Sen 1968; Gilbert 1987, sec. 16.5).

    References
    ----------
    Mann, H. B. (1945). Nonparametric tests against trend. *Econometrica*, 13(3), 245-259.
    doi:10.2307/1907187
    Kendall, M. G. (1975). *Rank Correlation Methods* (4th ed.). Griffin, London.
    Sen, P. K. (1968). Estimates of the regression coefficient based on Kendall's tau.
    *Journal of the American Statistical Association*, 63(324), 1379-1389.
    doi:10.1080/01621459.1968.10480934
    Gilbert, R. O. (1987). *Statistical Methods for Environmental Pollution Monitoring*.
    Van Nostrand Reinhold, New York.

    Examples
    --------
    >>> r = mann_kendall([1.0, 2.3, 2.1, 3.5, 4.0, 3.9, 5.2])
    >>> r.s, round(r.slope, 3)
    (17.0, 0.6)
    """
    alpha = round(1.0 - level, 12)  # two-sided error rate used below
    yy, tt, keep = _clean_xy(y, t)
    yy, tt = yy[keep], tt[keep]
    if yy.size < 3:
        raise InputError(f"y: at least 3 non-missing values are needed, got {yy.size}")
    s, var, tau = _s_and_var(yy, tt)
    z, p = _z_p(s, var)
    slope, lo, hi = _sen(yy, tt, var, alpha)
    return KendallResult(s, var, z, p, tau, int(yy.size), slope, lo, hi, "mann-kendall")


@renamed_arguments(alpha=("level", complement))
def seasonal_mann_kendall(y, season, t=None, *, level: float = 0.95) -> KendallResult:
    r"""Seasonal Kendall test (Hirsch, Slack & Smith 1982) and seasonal Kendall slope.

    Parameters
    ----------
    y : array_like
        Values [any unit].
    season : array_like
        Season label of each value (e.g. month 1..12 or quarter).
    t : array_like, optional
        Times (numbers or datetimes, datetimes in days); default ``0..n-1``.
    level : float, default 0.95
        Confidence level of the interval(s), in (0, 1) (docs/vocabulary.md;
        ``alpha=`` is a deprecated alias, ``level = 1 - alpha``).

    Returns
    -------
    KendallResult
        ``tau`` is NaN (not defined for the sum over seasons).

    Notes
    -----
    :math:`S = \sum_g S_g`, :math:`\operatorname{Var} S = \sum_g \operatorname{Var} S_g`
    (seasons treated as independent; the serial-correlation correction of Hirsch & Slack
    1984 is not applied). The slope is the median of all within-season pairwise slopes;
    its interval uses the same rank rule as :func:`mann_kendall` with the summed variance.

    References
    ----------
    Hirsch, R. M., Slack, J. R., & Smith, R. A. (1982). Techniques of trend analysis for
    monthly water quality data. *Water Resources Research*, 18(1), 107-121.
    doi:10.1029/WR018i001p00107

    Examples
    --------
    >>> y = [1, 5, 2, 6, 3, 7, 4, 8.0]
    >>> seasonal_mann_kendall(y, season=[1, 2] * 4).s
    12.0
    """
    alpha = round(1.0 - level, 12)  # two-sided error rate used below
    yy, tt, keep = _clean_xy(y, t)
    seas = np.asarray(season).ravel()
    if seas.size != yy.size:
        raise InputError(f"season: length {seas.size} does not match y length {yy.size}")
    keep &= pd.notna(seas)
    s_tot, var_tot, slopes = 0.0, 0.0, []
    groups = pd.unique(seas[keep])
    for g in groups:
        sel = keep & (seas == g)
        yg, tg = yy[sel], tt[sel]
        if yg.size < 2:
            continue
        s, var, _ = _s_and_var(yg, tg)
        s_tot += s
        var_tot += var
        iu, ju = np.triu_indices(yg.size, k=1)
        dt = tg[ju] - tg[iu]
        ok = dt != 0
        slopes.append((yg[ju] - yg[iu])[ok] / dt[ok])
    if not slopes:
        raise InputError("y: no season has at least 2 non-missing values")
    allslopes = np.sort(np.concatenate(slopes))
    z, p = _z_p(s_tot, var_tot)
    _check_alpha(alpha)
    c = stats.norm.ppf(1 - alpha / 2) * np.sqrt(var_tot)
    n_s = allslopes.size
    lo_i, hi_i = int(np.round((n_s - c) / 2)) - 1, int(np.round((n_s + c) / 2))
    lo = float(allslopes[lo_i]) if 0 <= lo_i < n_s else np.nan
    hi = float(allslopes[hi_i]) if 0 <= hi_i < n_s else np.nan
    return KendallResult(
        s_tot,
        var_tot,
        z,
        p,
        np.nan,
        int(keep.sum()),
        float(np.median(allslopes)),
        lo,
        hi,
        "seasonal-kendall",
    )


def _censored_scores(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Pairwise sign matrix for interval data ``[lo, hi]``: +1 if j surely above i, etc."""
    up = lo[None, :] > hi[:, None]
    down = hi[None, :] < lo[:, None]
    return up.astype(float) - down.astype(float)


def akritas_theil_sen_slope(y, censored, t=None, *, tol: float = 1e-10) -> float:
    r"""Akritas-Theil-Sen slope for left-censored values (below LOQ).

    Parameters
    ----------
    y : array_like
        Values; for censored ones the censoring limit (LOQ) [any unit].
    censored : array_like of bool
        True where the value is ``< y`` (below the LOQ).
    t : array_like, optional
        Times (numbers or datetimes in days), default ``0..n-1``.
    tol : float
        Bisection tolerance on the slope.

    Returns
    -------
    float
        The slope [value unit per time unit].

    Notes
    -----
    The slope ``b`` solves :math:`S(b) = 0`, where :math:`S(b)` is Kendall's S between
    ``t`` and the residuals ``e_i = y_i - b t_i``; a censored residual is the interval
    ``(-inf, y_i - b t_i]`` and a pair scores +-1 only when the two intervals do not
    overlap (Gehan-type scoring). ``S(b)`` is non-increasing in ``b``; the root is
    found by bisection and the midpoint of the zero set is returned. Without censoring
    it equals the Theil-Sen slope.

    References
    ----------
    Akritas, M. G., Murphy, S. A., & LaValley, M. P. (1995). The Theil-Sen estimator with
    doubly censored data and applications to astronomy. *Journal of the American
    Statistical Association*, 90(429), 170-177. doi:10.2307/2291134
    Helsel, D. R. (2012). *Statistics for Censored Environmental Data Using Minitab and R*
    (2nd ed.). Wiley. doi:10.1002/9781118162729

    Examples
    --------
    >>> round(akritas_theil_sen_slope([1, 2, 3, 4, 5.0], [False] * 5), 6)
    1.0
    """
    yy, tt, keep = _clean_xy(y, t)
    cens = np.asarray(censored, dtype=bool).ravel()
    if cens.size != yy.size:
        raise InputError(f"censored: length {cens.size} does not match y length {yy.size}")
    yy, tt, cens = yy[keep], tt[keep], cens[keep]
    if yy.size < 3 or (~cens).sum() < 2:
        raise InputError("y: at least 3 values, 2 of them quantified, are needed")
    sgn_t = np.sign(tt[None, :] - tt[:, None])
    iu = np.triu(np.ones((yy.size, yy.size), bool), k=1)

    def s_of(b):
        e = yy - b * tt
        lo = np.where(cens, -np.inf, e)
        return float(np.sum((_censored_scores(lo, e) * sgn_t)[iu]))

    iu_i, ju_i = np.triu_indices(yy.size, k=1)
    dt = tt[ju_i] - tt[iu_i]
    ok = dt != 0
    sl = (yy[ju_i] - yy[iu_i])[ok] / dt[ok]
    span = max(float(np.ptp(sl)), 1.0)
    lo_b, hi_b = float(sl.min()) - span, float(sl.max()) + span

    def root(side):  # side=+1: smallest b with S(b) <= 0; -1: largest b with S(b) >= 0
        a, c = lo_b, hi_b
        while c - a > tol * max(1.0, abs(a) + abs(c)):
            mid = 0.5 * (a + c)
            if (s_of(mid) <= 0) if side > 0 else (s_of(mid) < 0):
                c = mid
            else:
                a = mid
        return 0.5 * (a + c)

    return 0.5 * (root(+1) + root(-1))


def censored_mann_kendall(y, censored, t=None) -> KendallResult:
    r"""Mann-Kendall test for series with values below the LOQ; Akritas-Theil-Sen slope.

    Parameters
    ----------
    y : array_like
        Values; for censored ones the censoring limit (LOQ) [any unit].
    censored : array_like of bool
        True where the value is below the LOQ.
    t : array_like, optional
        Times (numbers or datetimes in days), default ``0..n-1``.

    Returns
    -------
    KendallResult
        ``slope`` from :func:`akritas_theil_sen_slope`; ``slope_lower/upper`` are NaN (no
        interval for censored data is implemented).

    Notes
    -----
    Every value below the highest censoring limit (censored or not) is set to one tied
    value "< max LOQ", then the tie-corrected Mann-Kendall test is applied (the
    re-censoring approach for Kendall's tau with one or several reporting limits,
    Helsel 2012, ch. 12). With a single LOQ this only ties the censored values together.
    It loses power when a high limit censors many quantified values.

    References
    ----------
    Helsel, D. R. (2012). *Statistics for Censored Environmental Data Using Minitab and R*
    (2nd ed.). Wiley. doi:10.1002/9781118162729
    Akritas, M. G., Murphy, S. A., & LaValley, M. P. (1995). *JASA*, 90(429), 170-177.
    doi:10.2307/2291134

    Examples
    --------
    >>> r = censored_mann_kendall([1, 1, 2.5, 3.1, 4.2, 5.0], [True, True] + [False] * 4)
    >>> r.s
    14.0
    """
    yy, tt, keep = _clean_xy(y, t)
    cens = np.asarray(censored, dtype=bool).ravel()
    if cens.size != yy.size:
        raise InputError(f"censored: length {cens.size} does not match y length {yy.size}")
    yy, tt, cens = yy[keep], tt[keep], cens[keep]
    if yy.size < 3:
        raise InputError(f"y: at least 3 non-missing values are needed, got {yy.size}")
    recoded = yy.copy()
    if cens.any():
        limit = yy[cens].max()
        below = cens | (yy < limit)
        recoded[below] = limit - 1.0 - abs(limit)  # one tied value under every kept one
    s, var, tau = _s_and_var(recoded, tt)
    z, p = _z_p(s, var)
    slope = akritas_theil_sen_slope(yy, cens, tt) if (~cens).sum() >= 2 else np.nan
    return KendallResult(
        s, var, z, p, tau, int(yy.size), float(slope), np.nan, np.nan, "censored-kendall"
    )


@dataclass(frozen=True)
class PercentChange:
    """Percent change from a log-linear regression.

    Attributes
    ----------
    percent : float
        Estimated percent change over the stated period [%].
    lower, upper : float
        Confidence bounds [%].
    slope_per_day : float
        Regression slope of log(value) on time [1/day].
    p_value : float
        Two-sided p-value of the slope (t test).
    n : int
        Number of values used.
    period_days : float
        Period the percent change refers to [day].
    """

    percent: float
    lower: float
    upper: float
    slope_per_day: float
    p_value: float
    n: int
    period_days: float


def _loglinear(y, tt, period_days, alpha):
    _check_alpha(alpha)
    if np.any(y <= 0):
        raise InputError("y: expected positive values (log-linear regression)")
    if y.size < 3:
        raise InputError(f"y: at least 3 values are needed, got {y.size}")
    if np.ptp(tt) == 0:
        raise InputError("t: all values fall on the same day")
    res = stats.linregress(tt, np.log(y))
    df = y.size - 2
    q = stats.t.ppf(1 - alpha / 2, df)
    b, se = res.slope, res.stderr
    pct = 100 * np.expm1(np.array([b, b - q * se, b + q * se]) * period_days)
    return PercentChange(
        float(pct[0]),
        float(pct[1]),
        float(pct[2]),
        float(b),
        float(res.pvalue),
        int(y.size),
        float(period_days),
    )


@renamed_arguments(alpha=("level", complement))
def annual_percent_change(y, t, *, level: float = 0.95) -> PercentChange:
    r"""Annual percent change (APC) from a log-linear least-squares fit.

    Parameters
    ----------
    y : array_like
        Positive values, e.g. consumption [mg/day/1000 inhabitants].
    t : array_like
        Dates (datetime-like) or times in days [day].
    level : float, default 0.95
        Confidence level of the interval(s), in (0, 1) (docs/vocabulary.md;
        ``alpha=`` is a deprecated alias, ``level = 1 - alpha``).

    Returns
    -------
    PercentChange
        ``period_days = 365.25``.

    Notes
    -----
    :math:`\log y = a + b t + e`, :math:`APC = 100 (e^{365.25 b} - 1)`, interval from the
    t-interval of ``b`` (as in joinpoint regression, Kim et al. 2000).

    References
    ----------
    Kim, H. J., Fay, M. P., Feuer, E. J., & Midthune, D. N. (2000). Permutation tests for
    joinpoint regression with applications to cancer rates. *Statistics in Medicine*,
    19(3), 335-351. doi:10.1002/(SICI)1097-0258(20000215)19:3<335::AID-SIM336>3.0.CO;2-Z

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(0, 730, 30.0)
    >>> round(annual_percent_change(10 * np.exp(np.log(1.1) * t / 365.25), t).percent, 6)
    10.0
    """
    alpha = round(1.0 - level, 12)  # two-sided error rate used below
    yy, tt, keep = _clean_xy(y, t)
    return _loglinear(yy[keep], tt[keep], 365.25, alpha)


@renamed_arguments(alpha=("level", complement))
def percent_change_window(
    y, t, *, window_days: int = 15, level: float = 0.95, end=None
) -> PercentChange:
    r"""Percent change over the most recent window (CDC NWSS-style 15-day percent change).

    Parameters
    ----------
    y : array_like
        Positive values [any unit].
    t : array_like
        Dates (datetime-like) or times in days.
    window_days : int
        Window length [day]; the window is ``(end - window_days, end]``.
    level : float, default 0.95
        Confidence level of the interval(s), in (0, 1) (docs/vocabulary.md;
        ``alpha=`` is a deprecated alias, ``level = 1 - alpha``).
    end : date-like or float, optional
        Last day of the window (default: the last time in ``t``).

    Returns
    -------
    PercentChange
        ``period_days = window_days - 1`` (first to last day of the window).

    Notes
    -----
    CDC NWSS reports the percent change of a site over the previous 15 days from the
    slope of a linear regression of log concentration on time (Adams et al. 2024,
    Table 3). Here :math:`PC = 100 (e^{b (w - 1)} - 1)` with ``w`` the window length;
    whether CDC scales by ``w - 1`` or ``w`` days was not verified.

    References
    ----------
    Adams, C., Bias, M., Welsh, R. M., et al. (2024). The National Wastewater Surveillance
    System (NWSS): from inception to widespread coverage, 2020-2022, United States.
    *Science of the Total Environment*, 924, 171566. doi:10.1016/j.scitotenv.2024.171566

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(30.0)
    >>> round(percent_change_window(np.exp(0.01 * t), t).percent, 4)
    15.0274
    """
    alpha = round(1.0 - level, 12)  # two-sided error rate used below
    yy, tt, keep = _clean_xy(y, t)
    yy, tt = yy[keep], tt[keep]
    if yy.size == 0:
        raise InputError("y: no non-missing values")
    if end is None:
        t_end = tt.max()
    elif isinstance(end, (int, float, np.floating, np.integer)):
        t_end = float(end)
    else:
        t_end = (pd.Timestamp(end) - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
    sel = (tt > t_end - window_days) & (tt <= t_end)
    return _loglinear(yy[sel], tt[sel], window_days - 1, alpha)


def trend_class(y, t=None, *, alpha: float = 0.05, sustained_n: int = 5, short_n: int = 3) -> str:
    """Classify the recent trend as in the CDC NWSS dashboard.

    Parameters
    ----------
    y : array_like
        Positive values in time order [any unit].
    t : array_like, optional
        Times (numbers or datetimes in days), default ``0..n-1``.
    alpha : float
        Significance level of the slope.
    sustained_n : int
        Number of most recent samples for a sustained trend.
    short_n : int
        Number of most recent samples for a short-term trend.

    Returns
    -------
    str
        One of :data:`TREND_CLASSES`.

    Notes
    -----
    Rules (after the description in Adams et al. 2024, Table 3): fit a log-linear
    regression to the last ``sustained_n`` samples; if the slope is significant at
    ``alpha`` the class is "sustained increase/decrease". Otherwise fit the last
    ``short_n`` samples; a significant slope gives "increase/decrease"; else "plateau".

    References
    ----------
    Adams, C., et al. (2024). *Science of the Total Environment*, 924, 171566.
    doi:10.1016/j.scitotenv.2024.171566

    Examples
    --------
    >>> trend_class([10, 11, 12.1, 13.3, 14.6])
    'sustained increase'
    >>> trend_class([10, 9, 11, 10, 10.5])
    'plateau'
    """
    yy, tt, keep = _clean_xy(y, t)
    yy, tt = yy[keep], tt[keep]
    if short_n < 3 or sustained_n < short_n:
        raise InputError("short_n must be >= 3 and sustained_n >= short_n")
    if yy.size < short_n:
        raise InputError(f"y: at least {short_n} non-missing values are needed, got {yy.size}")
    for n_last, strong in ((sustained_n, True), (short_n, False)):
        if yy.size < n_last:
            continue
        pc = _loglinear(yy[-n_last:], tt[-n_last:], 1.0, alpha)
        if pc.p_value < alpha:
            up = pc.slope_per_day > 0
            word = "increase" if up else "decrease"
            return f"sustained {word}" if strong else word
    return "plateau"
