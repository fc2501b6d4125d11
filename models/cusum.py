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

__all__ = ["cusum", "ewma"]

_MAD_TO_SD = 1.482602218505602  # 1 / Phi^{-1}(3/4)


def _standardise_log(values, baseline: int, guard: int | None = None):
    """Standardised logs; fixed baseline (first ``baseline`` points) or, with ``guard``, a
    moving baseline of the ``baseline`` points ending ``guard`` points before t."""
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
    logy = np.log(y)
    if guard is None:
        base = logy[:, :baseline]
        centre = np.median(base, axis=1, keepdims=True)
        scale = _MAD_TO_SD * np.median(np.abs(base - centre), axis=1, keepdims=True)
        centre = np.broadcast_to(centre, y.shape).copy()
        scale = np.broadcast_to(scale, y.shape).copy()
        if np.any(scale[:, 0] <= 0) or np.isnan(scale[:, 0]).any():
            raise InputError("baseline log values have zero or undefined spread (MAD); "
                             "use a longer baseline")
    else:
        n_t = y.shape[1]
        win = sliding_window_view(logy, baseline, axis=1)[:, : n_t - start, :]
        centre = np.full(y.shape, np.nan)
        scale = np.full(y.shape, np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows stay NaN
            med = np.nanmedian(win, axis=2)
            mad = np.nanmedian(np.abs(win - med[..., None]), axis=2)
        centre[:, start:] = med
        scale[:, start:] = np.where(mad > 0, _MAD_TO_SD * mad, np.nan)
    return y, (logy - centre) / scale, centre, scale, t_index, s_index, start


@renamed_arguments(range="r_range")
def cusum(values, *, k: float = 0.5, h: float = 4.0, baseline: int = 28, guard: int | None = None,
          r_range=None, at=None):
    """One-sided upper tabular CUSUM on standardised log values (Page 1954).

    Parameters
    ----------
    values : array_like, pandas.Series or pandas.DataFrame
        Positive values, e.g. concentrations [ng/L] or loads [mg/day]; 1-D or 2-D
        ``(n_series, n_time)``. NaN (a missed sample) leaves the sum unchanged.
    k : float, default 0.5
        Reference value [standard deviations of the log]; half the shift to detect.
    h : float, default 4.0
        Decision interval [standard deviations of the log].
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
    y, z, centre, scale, t_index, s_index, start = _standardise_log(values, baseline, guard)
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
             "scale": "log, robust (median, 1.4826 MAD)", "reference": "Page 1954"}
    return _frame(cols, t_index, s_index, attrs)


@renamed_arguments(L="limit_sd", range="r_range")
def ewma(values, *, lam: float = 0.2, limit_sd: float = 2.962, baseline: int = 28,
         guard: int | None = None,
         r_range=None, at=None):
    """Upper EWMA chart on standardised log values (Roberts 1959; Lucas & Saccucci 1990).

    Parameters
    ----------
    values : array_like, pandas.Series or pandas.DataFrame
        Positive values [ng/L, mg/day, ...]; 1-D or 2-D ``(n_series, n_time)``. NaN (a
        missed sample) leaves the EWMA unchanged.
    lam : float, default 0.2
        Smoothing weight :math:`\\lambda` in (0, 1].
    limit_sd : float, default 2.962
        Width of the limit [asymptotic EWMA standard deviations]; (0.2, 2.962) gives a
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
    y, z, centre, scale, t_index, s_index, start = _standardise_log(values, baseline, guard)
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
             "limit": limit,
             "scale": "log, robust (median, 1.4826 MAD)",
             "reference": "Roberts 1959; Lucas & Saccucci 1990"}
    return _frame(cols, t_index, s_index, attrs)
