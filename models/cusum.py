"""CUSUM and EWMA charts for log-normal continuous series (wastewater concentrations, loads).

Both charts work on natural logs of the values, standardised by a robust baseline (median
and scaled MAD of the ``baseline`` log values just before the monitored period), so that a
multiplicative rise of a log-normal series is an additive shift of a standard normal one.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from wbe._compat import renamed_arguments
from wbe.errors import InputError
from wbe.models._series import as_matrix as _as_matrix
from wbe.models._series import frame as _frame
from wbe.models._series import monitored as _monitored
from wbe.models._series import range_mask as _range_mask

__all__ = ["cusum", "cusum_arl", "cusum_threshold", "ewma", "ewma_arl", "ewma_threshold"]

_MAD_TO_SD = 1.482602218505602  # 1 / Phi^{-1}(3/4)


def _weekday_matrix(weekday, shape) -> np.ndarray | None:
    """Weekday codes 0..6 broadcast to ``shape``, or None."""
    if weekday is None:
        return None
    wd = np.asarray(weekday)
    if wd.ndim == 1:
        wd = np.broadcast_to(wd, shape)
    if wd.shape != shape:
        raise InputError(f"weekday: expected one code per time point, shape {shape[-1]}, "
                         f"got {np.asarray(weekday).shape}")
    if not np.isin(wd, np.arange(7)).all():
        raise InputError("weekday: expected integer codes 0 (Monday) .. 6 (Sunday)")
    return wd.astype(int)


def _robust_window(win: np.ndarray, wd_win: np.ndarray | None):
    """Median, weekday effects and 1.4826 MAD over the last axis (NaN ignored).

    Returns ``(centre, effect (..., 7) or None, scale)``; the weekday effect of day d is the
    median of the window's (log - centre) on day d (0 where the day is absent).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows stay NaN
        centre = np.nanmedian(win, axis=-1)
        resid = win - centre[..., None]
        effect = None
        if wd_win is not None:
            effect = np.stack([np.nanmedian(np.where(wd_win == d, resid, np.nan), axis=-1)
                               for d in range(7)], axis=-1)
            effect = np.where(np.isnan(effect), 0.0, effect)
            resid = resid - np.take_along_axis(effect, wd_win, axis=-1)
        mad = np.nanmedian(np.abs(resid), axis=-1)
    return centre, effect, _MAD_TO_SD * mad


def _standardise_log(values, baseline: int, guard: int | None = None, weekday=None,
                     spread_window: int | None = None):
    """Standardised logs; fixed baseline (first ``baseline`` points) or, with ``guard``, a
    moving baseline of the ``baseline`` points ending ``guard`` points before t; with
    ``weekday`` (codes 0..6 per point) the baseline's weekday effects are removed too; with
    ``spread_window`` the scale and weekday effects come from that many points (ending
    ``guard`` points before t; fewer at the start of the series)."""
    if spread_window is not None and (int(spread_window) != spread_window
                                      or spread_window < baseline):
        raise InputError(f"spread_window must be an integer >= baseline ({baseline}), "
                         f"got {spread_window!r}", value=spread_window)
    if spread_window is not None and guard is None:
        raise InputError("spread_window needs a moving baseline (guard)")
    y, t_index, s_index = _as_matrix(values)
    if int(baseline) != baseline or baseline < 3:
        raise InputError(f"baseline must be an integer >= 3, got {baseline!r}", value=baseline)
    if guard is not None and (int(guard) != guard or guard < 0):
        raise InputError(f"guard must be an integer >= 0, got {guard!r}", value=guard)
    start = baseline if guard is None else baseline + guard
    if y.shape[1] <= start:
        raise InputError(f"series of length {y.shape[1]} is too short for baseline={baseline}"
                         + ("" if guard is None else f" and guard={guard}"))
    bad = np.argwhere(y <= 0)
    if bad.size:
        raise InputError(
            f"values must be > 0 (log scale); series {bad[0][0]}, position {bad[0][1] + 1} "
            f"(1-based) is {y[tuple(bad[0])]}", value=y[tuple(bad[0])],
        )
    wd = _weekday_matrix(weekday, y.shape)
    logy = np.log(y)
    n_t = y.shape[1]
    centre = np.full(y.shape, np.nan)
    scale = np.full(y.shape, np.nan)
    shift = np.zeros(y.shape)
    if guard is None:
        c, eff, sc = _robust_window(logy[:, :baseline], None if wd is None else wd[:, :baseline])
        if np.any(~(sc > 0)):
            raise InputError("baseline log values have zero or undefined spread (MAD); "
                             "use a longer baseline")
        centre[:] = c[:, None]
        scale[:] = sc[:, None]
        if eff is not None:
            shift = np.take_along_axis(eff, wd, axis=1)
    else:
        m = n_t - start
        width = max(baseline, spread_window or baseline)
        pad = width - baseline  # partial long windows at the start: NaN padding
        padded = np.concatenate([np.full((y.shape[0], pad), np.nan), logy], axis=1)
        win = sliding_window_view(padded, width, axis=1)[:, :m, :]
        wd_win = None
        if wd is not None:
            wd_pad = np.concatenate([np.zeros((y.shape[0], pad), dtype=int), wd], axis=1)
            wd_win = sliding_window_view(wd_pad, width, axis=1)[:, :m, :]
        _, eff, sc = _robust_window(win, wd_win)
        recent = win[..., width - baseline:]
        if eff is not None:
            recent = recent - np.take_along_axis(eff, wd_win[..., width - baseline:], axis=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            centre[:, start:] = np.nanmedian(recent, axis=2)
        scale[:, start:] = np.where(sc > 0, sc, np.nan)
        if eff is not None:
            shift[:, start:] = np.take_along_axis(eff, wd[:, start:, None], axis=2)[..., 0]
    centre = centre + shift
    return y, (logy - centre) / scale, centre, scale, t_index, s_index, start


@renamed_arguments(range="r_range")
def cusum(values, *, k: float = 0.5, h: float | None = None, baseline: int = 28,
          guard: int | None = None, r_range=None, at=None, arl0: float | None = None,
          weekday=None, spread_window: int | None = None):
    """One-sided upper tabular CUSUM on standardised log values (Page 1954).

    Parameters
    ----------
    values : array_like, pandas.Series or pandas.DataFrame
        Positive values, e.g. concentrations [ng/L] or loads [mg/day]; 1-D or 2-D
        ``(n_series, n_time)``. NaN (a missed sample) leaves the sum unchanged.
    k : float, default 0.5
        Reference value [standard deviations of the log]; half the shift to detect.
    h : float, optional
        Decision interval [standard deviations of the log]; default 4.0, or the value for
        ``arl0``. Give ``h`` or ``arl0``, not both.
    baseline : int, default 28
        Number of points of the robust centre and scale [time points]: the first
        ``baseline`` points (not monitored), or with ``guard`` a moving window.
    guard : int, optional
        Moving baseline: the centre and scale at t come from the ``baseline`` points ending
        ``guard`` points before t (a gap so that a rising outbreak does not mask itself)
        [time points]. Default None: fixed baseline. A window without spread gives NaN.
    r_range : sequence of int or boolean mask, optional
        Points to report, 1-based like R's ``range`` or a boolean mask (the sum runs over all
        points).
    at : sequence of int or boolean mask, optional
        The same as 0-based positions, or a boolean mask (``range=`` is a deprecated alias of
        ``r_range``; docs/vocabulary.md).
    arl0 : float, optional
        False-alarm budget: the in-control average run length [points] (e.g. 365 for one
        false alarm a year on daily data, for a known baseline); sets ``h`` with
        :func:`cusum_threshold`.
    weekday : array_like of int, optional
        Day of the week of each point (0 = Monday .. 6 = Sunday). The baseline's weekday
        effects (median log deviation of each weekday from the baseline median) are then
        removed before standardising, and the scale is the MAD of the adjusted logs.
    spread_window : int, optional
        With ``guard``: the scale and the weekday effects are estimated from the last
        ``spread_window`` points (>= ``baseline``) ending ``guard`` points before t, the
        centre from the last ``baseline`` of them (fewer points at the start of a series).
        A long window makes the robust scale and weekday effects much less noisy [points].

    Returns
    -------
    pandas.DataFrame
        ``observed``, ``z`` (standardised log), ``statistic`` (:math:`S_t`), ``expected``
        (baseline geometric median) and ``upperbound`` (the value that would make
        :math:`S_t = h`) [unit of ``values``], ``alarm`` (bool).

    Raises
    ------
    wbe.errors.InputError
        For non-positive values, too short a series or a zero-spread baseline.

    Notes
    -----
    With :math:`z_t = (\\ln y_t - m)/s`, :math:`m` the median and :math:`s=1.4826\\,`MAD of
    the baseline logs (fixed, or for ``guard`` the moving window
    :math:`t-g-B,\\dots,t-g-1`, so :math:`m_t, s_t`), :math:`S_0 = 0` and

    .. math:: S_t = \\max(0, S_{t-1} + z_t - k),\\qquad \\text{alarm if } S_t > h,

    after which the sum restarts at 0 (Page 1954). The upper bound is
    :math:`\\exp(m + s(h + k - S_{t-1}))`. With k = 0.5, h = 4 the zero-state in-control ARL
    of this one-sided chart is 335 and a 1-sd shift is detected in 8.4 points on average
    (R spc 0.6.7 ``xcusum.arl``; the 168 often quoted is the two-sided scheme).

    References
    ----------
    .. [1] Page ES (1954). Continuous inspection schemes. Biometrika 41:100-115.
       doi:10.1093/biomet/41.1-2.100
    .. [2] Knoth S (2023). spc: Statistical Process Control. R package 0.6.7 (ARL oracle).

    Examples
    --------
    >>> import numpy as np
    >>> from wbe.models import cusum
    >>> y = np.exp(np.r_[np.tile([-1.0, 1.0], 14), 3.0, 3.0, 3.0])
    >>> cusum(y, baseline=28)["alarm"].to_numpy()[-3:].tolist()
    [False, False, True]
    """
    h = _budget("h", h, 4.0, arl0, lambda a: cusum_threshold(a, k))
    y, z, centre, scale, t_index, s_index, start = _standardise_log(values, baseline, guard,
                                                                    weekday, spread_window)
    n_s, n_t = z.shape
    stat = np.full((n_s, n_t), np.nan)
    prev_s = np.full((n_s, n_t), np.nan)
    alarm = np.zeros((n_s, n_t), dtype=bool)
    s = np.zeros(n_s)
    for t in np.arange(start, n_t):  # a recursion over time, vectorised over series
        prev_s[:, t] = s
        zt = z[:, t]
        s = np.where(np.isnan(zt), s, np.maximum(0.0, s + np.nan_to_num(zt) - k))
        stat[:, t] = s
        alarm[:, t] = s > h
        s = np.where(alarm[:, t], 0.0, s)
    mask = _range_mask(_monitored(at, r_range), n_t)[None, :] & ~np.isnan(stat)
    upper = np.where(mask, np.exp(centre + scale * (h + k - prev_s)), np.nan)
    cols = {
        "observed": y, "z": z, "statistic": np.where(mask, stat, np.nan),
        "expected": np.where(mask, np.exp(centre), np.nan), "upperbound": upper,
        "alarm": alarm & mask,
    }
    attrs = {"detector": "cusum", "k": k, "h": h, "baseline": baseline, "guard": guard,
             "arl0": arl0, "weekday_adjusted": weekday is not None,
             "spread_window": spread_window,
             "scale": "log, robust (median, 1.4826 MAD)", "reference": "Page 1954"}
    return _frame(cols, t_index, s_index, attrs)


@renamed_arguments(L="limit_sd", range="r_range")
def ewma(values, *, lam: float = 0.2, limit_sd: float | None = None, baseline: int = 28,
         guard: int | None = None, r_range=None, at=None, arl0: float | None = None,
         weekday=None, spread_window: int | None = None):
    """Upper EWMA chart on standardised log values (Roberts 1959; Lucas & Saccucci 1990).

    Parameters
    ----------
    values : array_like, pandas.Series or pandas.DataFrame
        Positive values [ng/L, mg/day, ...]; 1-D or 2-D ``(n_series, n_time)``. NaN (a
        missed sample) leaves the EWMA unchanged.
    lam : float, default 0.2
        Smoothing weight :math:`\\lambda` in (0, 1].
    limit_sd : float, optional
        Width of the limit [asymptotic EWMA standard deviations]; default 2.962, or the
        value for ``arl0`` (give one of them). (0.2, 2.962) gives a
        two-sided in-control ARL of 500 (Lucas & Saccucci 1990; 499.7 by R spc 0.6.7
        ``xewma.arl``); this upper-only chart signals less often. ``L=`` is a deprecated alias.
    baseline : int, default 28
        Number of points of the robust centre and scale [time points]: the first
        ``baseline`` points (not monitored), or with ``guard`` a moving window.
    guard : int, optional
        Moving baseline: the centre and scale at t come from the ``baseline`` points ending
        ``guard`` points before t (a gap so that a rising outbreak does not mask itself)
        [time points]. Default None: fixed baseline. A window without spread gives NaN.
    r_range : sequence of int or boolean mask, optional
        Points to report, 1-based like R's ``range`` or a boolean mask.
    at : sequence of int or boolean mask, optional
        The same as 0-based positions, or a boolean mask (``range=`` is a deprecated alias of
        ``r_range``; docs/vocabulary.md).
    arl0 : float, optional
        False-alarm budget: in-control average run length [points] of this upper chart;
        sets ``limit_sd`` with :func:`ewma_threshold`.
    weekday : array_like of int, optional
        Day of the week of each point (0 = Monday .. 6 = Sunday), see :func:`cusum`.
    spread_window : int, optional
        Window of the scale and weekday effects [points], see :func:`cusum`.

    Returns
    -------
    pandas.DataFrame
        ``observed``, ``z``, ``statistic`` (EWMA), ``expected``, ``upperbound`` (the value
        that would put the EWMA on its limit) [unit of ``values``], ``alarm``.

    Raises
    ------
    wbe.errors.InputError
        For non-positive values, a bad ``lam`` or a zero-spread baseline.

    Notes
    -----
    :math:`E_0 = 0`, :math:`E_t = \\lambda z_t + (1-\\lambda)E_{t-1}`, alarm if
    :math:`E_t > L\\sqrt{\\lambda/(2-\\lambda)}` (asymptotic limit). Upper bound on the
    original scale: :math:`\\exp(m + s\\,(L\\sigma_E - (1-\\lambda)E_{t-1})/\\lambda)`.

    References
    ----------
    .. [1] Roberts SW (1959). Control chart tests based on geometric moving averages.
       Technometrics 1:239-250. doi:10.1080/00401706.1959.10489860
    .. [2] Lucas JM, Saccucci MS (1990). Exponentially weighted moving average control
       schemes: properties and enhancements. Technometrics 32:1-12.
       doi:10.1080/00401706.1990.10484583

    Examples
    --------
    >>> import numpy as np
    >>> from wbe.models import ewma
    >>> y = np.exp(np.r_[np.tile([-1.0, 1.0], 14), 5.0, 5.0])
    >>> ewma(y)["alarm"].to_numpy()[-2:].tolist()
    [False, True]
    """
    if not 0.0 < lam <= 1.0:
        raise InputError(f"lam must be in (0, 1], got {lam}", value=lam)
    limit_sd = _budget("limit_sd", limit_sd, 2.962, arl0, lambda a: ewma_threshold(a, lam))
    y, z, centre, scale, t_index, s_index, start = _standardise_log(values, baseline, guard,
                                                                    weekday, spread_window)
    n_s, n_t = z.shape
    sigma_e = float(np.sqrt(lam / (2.0 - lam)))
    limit = limit_sd * sigma_e
    stat = np.full((n_s, n_t), np.nan)
    prev_e = np.full((n_s, n_t), np.nan)
    e = np.zeros(n_s)
    for t in np.arange(start, n_t):  # recursion over time, vectorised over series
        prev_e[:, t] = e
        zt = z[:, t]
        e = np.where(np.isnan(zt), e, lam * np.nan_to_num(zt) + (1.0 - lam) * e)
        stat[:, t] = e
    mask = _range_mask(_monitored(at, r_range), n_t)[None, :] & ~np.isnan(stat)
    upper = np.where(mask, np.exp(centre + scale * (limit - (1.0 - lam) * prev_e) / lam), np.nan)
    cols = {
        "observed": y, "z": z, "statistic": np.where(mask, stat, np.nan),
        "expected": np.where(mask, np.exp(centre), np.nan), "upperbound": upper,
        "alarm": mask & (stat > limit),
    }
    attrs = {"detector": "ewma", "lam": lam, "L": limit_sd, "baseline": baseline, "guard": guard,
             "arl0": arl0, "weekday_adjusted": weekday is not None,
             "spread_window": spread_window,
             "limit": limit,
             "scale": "log, robust (median, 1.4826 MAD)",
             "reference": "Roberts 1959; Lucas & Saccucci 1990"}
    return _frame(cols, t_index, s_index, attrs)


# --------------------------------------------------------------------------------------
# Average run lengths (false-alarm budgets)
# --------------------------------------------------------------------------------------

_SIDES = ("upper", "two")


def _budget(name, value, default, arl0, solve):
    """The threshold from either the raw value or the false-alarm budget ``arl0``."""
    if value is not None and arl0 is not None:
        raise InputError(f"give either {name} or arl0, not both")
    if arl0 is not None:
        return solve(arl0)
    return default if value is None else value


def _gauss_legendre(a: float, b: float, n: int):
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (b - a) * x + 0.5 * (b + a), 0.5 * (b - a) * w


def _check_positive(name: str, value: float) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}", value=value) from None
    if not np.isfinite(value) or value <= 0:
        raise InputError(f"{name} must be a finite number > 0, got {value!r}", value=value)
    return value


def cusum_arl(k: float, h: float, shift: float = 0.0, *, nodes: int = 64) -> float:
    """Zero-state average run length of the one-sided upper CUSUM of :func:`cusum`.

    Parameters
    ----------
    k : float
        Reference value [standard deviations of the log].
    h : float
        Decision interval [standard deviations of the log].
    shift : float, default 0.0
        Mean of the standardised observations [standard deviations of the log]: 0 gives
        the in-control ARL (expected points between false alarms), ``ln(r)/s`` the
        out-of-control ARL for a sustained ``r``-fold rise of a log-normal series with
        log-scale standard deviation ``s``.
    nodes : int, default 64
        Gauss-Legendre nodes of the Nyström solution.

    Returns
    -------
    float
        Expected number of points until :math:`S_t > h` starting from :math:`S_0=0`,
        for i.i.d. :math:`N(\\text{shift}, 1)` observations and a known baseline [points].

    Notes
    -----
    The run length from state :math:`u\\in[0,h]` solves the integral equation of Page
    (1954), the continuous limit of the Markov chain of Brook & Evans (1972):

    .. math:: L(u) = 1 + L(0)\\,\\Phi(k-u-\\delta) + \\int_0^h L(y)\\,\\varphi(y+k-u-\\delta)\\,dy

    solved by Nyström's method with Gauss-Legendre nodes on :math:`[0, h]` (the atom at 0
    handled as an extra unknown). Checked against R ``spc`` 0.6.7 ``xcusum.arl``
    (``tests/models/r/make_reference_arl.R``) to rel. 1e-6.

    References
    ----------
    .. [1] Brook D, Evans DA (1972). An approach to the probability distribution of cusum
       run length. Biometrika 59:539-549. doi:10.1093/biomet/59.3.539
    .. [2] Page ES (1954). Continuous inspection schemes. Biometrika 41:100-115.
       doi:10.1093/biomet/41.1-2.100
    .. [3] Knoth S (2023). spc: Statistical Process Control. R package 0.6.7.

    Examples
    --------
    >>> from wbe.models import cusum_arl
    >>> round(cusum_arl(k=0.5, h=4.0), 1), round(cusum_arl(k=0.5, h=4.0, shift=1.0), 2)
    (335.4, 8.38)
    """
    from scipy import stats

    h = _check_positive("h", h)
    try:
        k, shift = float(k), float(shift)
    except (TypeError, ValueError):
        raise InputError(f"k and shift must be numbers, got {k!r}, {shift!r}") from None
    if not (np.isfinite(k) and np.isfinite(shift)):
        raise InputError("k and shift must be finite numbers")
    x, w = _gauss_legendre(0.0, h, int(nodes))
    u = np.r_[0.0, x]  # state 0 (the atom) and the nodes
    a = np.zeros((u.size, u.size))
    a[:, 0] = stats.norm.cdf(k - u - shift)
    a[:, 1:] = w[None, :] * stats.norm.pdf(x[None, :] + k - u[:, None] - shift)
    arl = np.linalg.solve(np.eye(u.size) - a, np.ones(u.size))
    return float(arl[0])


def ewma_arl(lam: float, limit_sd: float, shift: float = 0.0, *, sided: str = "upper",
             nodes: int | None = None) -> float:
    """Zero-state average run length of the EWMA chart with fixed asymptotic limits.

    Parameters
    ----------
    lam : float
        Smoothing weight :math:`\\lambda` in (0, 1].
    limit_sd : float
        Width of the limit :math:`L` [asymptotic EWMA standard deviations].
    shift : float, default 0.0
        Mean of the standardised observations [standard deviations of the log]; 0 gives
        the in-control ARL.
    sided : {"upper", "two"}, default "upper"
        "upper": the chart of :func:`ewma` (alarm if :math:`E_t > L\\sigma_E`, no lower
        limit, no reflection); "two": alarm if :math:`|E_t| > L\\sigma_E`.
    nodes : int, optional
        Gauss-Legendre nodes (default scales with the interval over :math:`\\lambda`).

    Returns
    -------
    float
        Expected number of points until the alarm from :math:`E_0=0` for i.i.d.
        :math:`N(\\text{shift}, 1)` observations and a known baseline [points].

    Notes
    -----
    With :math:`c = L\\sqrt{\\lambda/(2-\\lambda)}` the run length from :math:`E=u` solves
    (Crowder 1987)

    .. math:: L(u) = 1 + \\frac1\\lambda\\int_{a}^{c} L(y)\\,
              \\varphi\\Big(\\frac{y-(1-\\lambda)u}{\\lambda}-\\delta\\Big)\\,dy,

    :math:`a=-c` for the two-sided chart; for the upper chart the unbounded lower side is
    truncated at :math:`a=\\min(0,\\delta)-12\\sigma_E` (below which the chart has
    negligible probability to go). Nyström solution with Gauss-Legendre nodes, the
    discretised form of the Markov-chain approach of Brook & Evans (1972) (Lucas &
    Saccucci 1990 used it for their EWMA tables). Checked against R ``spc`` 0.6.7
    ``xewma.arl`` (``limits="fix"``; for "upper" ``sided="one"`` with the reflecting
    barrier moved far below, ``zr=-6``) to rel. 1e-5.

    References
    ----------
    .. [1] Crowder SV (1987). A simple method for studying run-length distributions of
       exponentially weighted moving average charts. Technometrics 29:401-407.
       doi:10.1080/00401706.1987.10488267
    .. [2] Lucas JM, Saccucci MS (1990). Exponentially weighted moving average control
       schemes: properties and enhancements. Technometrics 32:1-12.
       doi:10.1080/00401706.1990.10484583
    .. [3] Brook D, Evans DA (1972). Biometrika 59:539-549. doi:10.1093/biomet/59.3.539

    Examples
    --------
    >>> from wbe.models import ewma_arl
    >>> round(ewma_arl(0.2, 2.962, sided="two"), 1)
    499.7
    """
    from scipy import stats

    if sided not in _SIDES:
        from wbe.errors import unknown_name_error

        raise unknown_name_error("EWMA side", sided, _SIDES)
    lam = float(lam)
    if not 0.0 < lam <= 1.0:
        raise InputError(f"lam must be in (0, 1], got {lam}", value=lam)
    L = _check_positive("limit_sd", limit_sd)
    shift = float(shift)
    sigma_e = np.sqrt(lam / (2.0 - lam))
    c = L * sigma_e
    a = -c if sided == "two" else min(0.0, shift) - 12.0 * sigma_e
    if nodes is None:
        nodes = int(min(400, max(48, np.ceil(3.0 * (c - a) / lam))))
    x, w = _gauss_legendre(a, c, int(nodes))
    kern = stats.norm.pdf((x[None, :] - (1.0 - lam) * x[:, None]) / lam - shift) / lam
    lx = np.linalg.solve(np.eye(x.size) - kern * w[None, :], np.ones(x.size))
    # L(0) from the equation itself (0 need not be a node)
    k0 = stats.norm.pdf(x / lam - shift) / lam
    return float(1.0 + np.sum(w * k0 * lx))


def _solve_threshold(arl_of, target: float, low: float, high: float) -> float:
    from scipy.optimize import brentq

    target = _check_positive("arl0", target)
    if target <= 1.0:
        raise InputError(f"arl0 must be > 1 point, got {target}", value=target)
    f = lambda v: np.log(arl_of(v)) - np.log(target)  # noqa: E731
    if f(low) > 0:
        raise InputError(f"arl0 = {target} is below the shortest in-control ARL of this chart "
                         f"({arl_of(low):.3g} points)", value=target)
    while f(high) < 0:
        high *= 1.5
        if high > 100:
            raise InputError(f"no threshold gives an in-control ARL of {target}", value=target)
    return float(brentq(f, low, high, xtol=1e-10, rtol=1e-12))


def cusum_threshold(arl0: float, k: float = 0.5) -> float:
    """Decision interval ``h`` of :func:`cusum` for a target in-control ARL.

    Parameters
    ----------
    arl0 : float
        Wanted in-control average run length [points], e.g. 365 for one false alarm per
        series-year of daily data with a known baseline.
    k : float, default 0.5
        Reference value [standard deviations of the log].

    Returns
    -------
    float
        ``h`` with ``cusum_arl(k, h) == arl0`` [standard deviations of the log].

    Notes
    -----
    Root of :math:`\\log L_0(h) - \\log(\\text{arl0})` (Brent) with :func:`cusum_arl`;
    checked against R ``spc`` ``xcusum.crit``. The ARL assumes a known baseline; an
    estimated baseline shortens it (see ``docs/methods-aberration.md``).

    Examples
    --------
    >>> from wbe.models import cusum_threshold
    >>> round(cusum_threshold(500, k=0.5), 3)
    4.389
    """
    return _solve_threshold(lambda h: cusum_arl(k, h), arl0, 1e-3, 10.0)


def ewma_threshold(arl0: float, lam: float = 0.2, *, sided: str = "upper") -> float:
    """Limit width ``limit_sd`` (:math:`L`) of :func:`ewma` for a target in-control ARL.

    Parameters
    ----------
    arl0 : float
        Wanted in-control average run length [points].
    lam : float, default 0.2
        Smoothing weight in (0, 1].
    sided : {"upper", "two"}, default "upper"
        Chart variant, see :func:`ewma_arl`.

    Returns
    -------
    float
        ``limit_sd`` with ``ewma_arl(lam, limit_sd, sided=sided) == arl0`` [asymptotic EWMA
        standard deviations].

    Notes
    -----
    Root of :math:`\\log L_0(L) - \\log(\\text{arl0})` (Brent) with :func:`ewma_arl`;
    checked against R ``spc`` ``xewma.crit``.

    Examples
    --------
    >>> from wbe.models import ewma_threshold
    >>> round(ewma_threshold(500, lam=0.2, sided="two"), 3)
    2.962
    """
    return _solve_threshold(lambda L: ewma_arl(lam, L, sided=sided), arl0, 0.05, 6.0)
