"""Substitution of values below the limit of quantification (LOQ) by a stated policy.

Substitution is kept as a documented convention (for comparison with published tables);
:func:`censored_mean` estimates the mean of a period with censored values by maximum
likelihood or regression on order statistics, and :func:`censored_lognormal_fit` with
:func:`draw_censored_concentrations` give the default treatment of
:func:`wbe.backcalc.back_calculate` (``censoring="draw"``): each censored concentration is
uncertain and drawn per Monte Carlo draw, not substituted. The treatment is recorded, with
the number of censored values per biomarker, in the result.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from wbe.errors import InputError, unknown_name_error

__all__ = [
    "CENSORING_POLICIES",
    "CENSORING_TREATMENTS",
    "MIN_QUANTIFIED_FOR_FIT",
    "CensoredMean",
    "censored_lognormal_fit",
    "censored_mean",
    "draw_censored_concentrations",
    "substitute_censored",
]

#: policy name -> multiple of the LOQ that replaces a censored value
CENSORING_POLICIES: dict[str, float] = {
    "zero": 0.0,
    "loq/2": 0.5,
    "loq/sqrt2": 1.0 / math.sqrt(2.0),
    "loq": 1.0,
}

#: every value of ``censoring=`` in :func:`wbe.backcalc.back_calculate`: ``"draw"`` (the
#: default: censored concentrations drawn per draw) and the substitution conventions
CENSORING_TREATMENTS: tuple[str, ...] = ("draw", *CENSORING_POLICIES)

#: quantified values a site-biomarker series needs before its own censored log-normal is
#: fitted (Helsel 2012, ch. 6, advises at least 3-5 detects for MLE/ROS; 5 is used here);
#: with fewer, censored concentrations are drawn uniform on (0, LOQ)
MIN_QUANTIFIED_FOR_FIT: int = 5


def substitute_censored(concentration_ng_per_l, loq_ng_per_l, censored, policy: str = "loq/2",
                        *, source: str = "samples", rows=None) -> np.ndarray:
    """Replace censored concentrations by a multiple of the LOQ.

    Parameters
    ----------
    concentration_ng_per_l : array_like
        Measured values [ng/L]; ignored where ``censored`` is True.
    loq_ng_per_l : array_like
        Limit of quantification of each value [ng/L].
    censored : array_like of bool
        True where the value is below LOQ/LOD or not detected.
    policy : {"zero", "loq/2", "loq/sqrt2", "loq"}
        Substitute 0, LOQ/2, LOQ/√2 or LOQ (Hornung and Reed 1990).
    source : str
        Name of the input for error messages.
    rows : array_like of int, optional
        Spreadsheet rows of the values (``source_row``) for error messages.

    Returns
    -------
    numpy.ndarray
        Concentrations with censored values substituted [ng/L].

    Raises
    ------
    UnknownNameError
        For an unknown policy (the message lists the valid ones).
    InputError
        If a censored value has no LOQ (unless the policy is ``"zero"``), or an
        uncensored value is missing or negative.

    Notes
    -----
    :math:`\\tilde C_i = C_i` if quantified, else :math:`k\\,LOQ_i` with
    :math:`k \\in \\{0, 1/2, 1/\\sqrt 2, 1\\}`. Substitution biases means and variances
    when many values are censored (Helsel 2006); use it for single samples only.

    References
    ----------
    Hornung RW, Reed LD. 1990. Estimation of average concentration in the presence of
    nondetectable values. Appl Occup Environ Hyg 5:46-51.
    doi:10.1080/1047322X.1990.10389587

    Helsel DR. 2006. Fabricating data: how substituting values for nondetects can ruin
    results, and what can be done about it. Chemosphere 65:2434-2439.
    doi:10.1016/j.chemosphere.2006.04.051

    Examples
    --------
    >>> substitute_censored([5.0, np.nan], [2.0, 2.0], [False, True], "loq/2").tolist()
    [5.0, 1.0]
    """
    if policy not in CENSORING_POLICIES:
        raise unknown_name_error("censoring policy", policy, CENSORING_POLICIES)
    k = CENSORING_POLICIES[policy]
    conc = np.asarray(concentration_ng_per_l, dtype=float)
    loq = np.asarray(loq_ng_per_l, dtype=float)
    cens = np.asarray(pd.array(censored, dtype="boolean").fillna(False), dtype=bool)
    conc, loq, cens = np.broadcast_arrays(conc, loq, cens)
    rows = None if rows is None else np.asarray(rows)

    def _where(i):
        return {"file": source, "row": None if rows is None else int(rows[i])}

    bad = cens & ~np.isfinite(loq) & (k != 0.0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"censored value needs a finite LOQ for policy {policy!r} "
                         f"(got {loq[i]!r})", column="loq_ng_per_l", **_where(i))
    bad = ~cens & ~(np.isfinite(conc) & (conc >= 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"quantified value must be a finite number >= 0, got {conc[i]!r}",
                         column="concentration_ng_per_l", **_where(i))
    return np.where(cens, k * np.where(np.isfinite(loq), loq, 0.0), conc)


@dataclass(frozen=True)
class CensoredMean:
    """Mean of a sample with left-censored values.

    Attributes
    ----------
    mean : float
        Estimated mean [unit of the values].
    sd : float
        Estimated standard deviation [unit of the values].
    method : str
        ``"mle"`` or ``"ros"``.
    n : int
        Number of values.
    n_censored : int
        Number of censored values.
    mu_log, sigma_log : float
        Mean and sd of the natural logarithm: the fitted log-normal (``mle``) or the
        intercept and slope of the probability-plot regression (``ros``).
    """

    mean: float
    sd: float
    method: str
    n: int
    n_censored: int
    mu_log: float
    sigma_log: float


_CENSORED_METHODS = ("mle", "ros")


def censored_mean(values, censored, loq=None, method: str = "mle") -> CensoredMean:
    """Mean of values some of which are below the LOQ: log-normal MLE or robust ROS.

    Parameters
    ----------
    values : array_like
        Measured values [any unit, e.g. ng/L or mg/day/1000 inhabitants]; ignored (may be
        NaN) where ``censored`` is True unless ``loq`` is omitted, in which case they
        hold the censoring limits.
    censored : array_like of bool
        True where the value is below its LOQ (or LOD).
    loq : float or array_like, optional
        Censoring limit of each value [unit of the values]; several limits are allowed.
    method : {"mle", "ros"}
        ``"mle"``: maximum likelihood for a log-normal with left censoring;
        ``"ros"``: robust regression on order statistics (Helsel and Cohn 1988),
        computed with :func:`statsmodels.imputation.ros.impute_ros`.

    Returns
    -------
    CensoredMean

    Raises
    ------
    InputError
        For mismatched lengths, non-positive or missing uncensored values or limits,
        fewer than two uncensored values, or no values.
    UnknownNameError
        For an unknown method.

    Notes
    -----
    **MLE.** With detected values :math:`x_i` and limits :math:`c_j` of the censored
    ones, :math:`(\\hat\\mu, \\hat\\sigma)` maximise

    .. math::

        \\ell(\\mu, \\sigma) = \\sum_i \\ln \\phi\\!\\left(\\frac{\\ln x_i - \\mu}{\\sigma}\\right)
        - n_d \\ln \\sigma + \\sum_j \\ln \\Phi\\!\\left(\\frac{\\ln c_j - \\mu}{\\sigma}\\right)

    and the mean and sd are those of the fitted log-normal,
    :math:`e^{\\hat\\mu + \\hat\\sigma^2/2}` and
    :math:`\\text{mean}\\sqrt{e^{\\hat\\sigma^2} - 1}` (Helsel 2012, ch. 6).

    **ROS.** Plotting positions of detects and non-detects follow Hirsch and Stedinger
    (1987) for multiple limits; a line :math:`\\ln x = \\mu + \\sigma z` is fitted to the
    detects against their normal scores, the non-detects are imputed from the line at
    their plotting positions, and mean and sd are the sample mean and sd (ddof = 1) of
    detects plus imputed values (Helsel and Cohn 1988; Helsel 2012, ch. 6). ROS is
    "robust" because it assumes the log-normal only below the limits.

    Helsel (2012) recommends MLE for samples of about 50 or more and ROS for smaller
    ones; both need at least two (better 3-5) detected values.

    References
    ----------
    Helsel DR. 2012. Statistics for Censored Environmental Data Using Minitab and R,
    2nd ed. Wiley, Hoboken. doi:10.1002/9781118162729

    Helsel DR, Cohn TA. 1988. Estimation of descriptive statistics for multiply censored
    water quality data. Water Resour Res 24(12):1997-2004. doi:10.1029/WR024i012p01997

    Hirsch RM, Stedinger JR. 1987. Plotting positions for historical floods and their
    precision. Water Resour Res 23(4):715-727. doi:10.1029/WR023i004p00715

    Examples
    --------
    >>> x = [np.nan, np.nan, 3.2, 4.1, 5.0, 7.9, 12.0, 2.5]
    >>> cens = [True, True, False, False, False, False, False, False]
    >>> r = censored_mean(x, cens, loq=2.0, method="ros")
    >>> r.n_censored, round(r.mean, 2)
    (2, 4.62)
    """
    name = str(method).strip().lower()
    if name not in _CENSORED_METHODS:
        raise unknown_name_error("censored-mean method", method, _CENSORED_METHODS)
    x, c = _censored_inputs(values, censored, loq)
    if name == "mle":
        return _censored_mle(x, c)
    return _censored_ros(x, c)


def _censored_inputs(values, censored, loq):
    try:
        x = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise InputError("values must be numbers", column="values") from exc
    cens = np.asarray(censored).ravel()
    if cens.dtype != bool:
        if not np.isin(cens, [0, 1]).all():
            raise InputError("censored must be booleans", column="censored")
        cens = cens.astype(bool)
    if x.shape != cens.shape:
        raise InputError(f"values ({x.size}) and censored ({cens.size}) differ in length")
    if x.size == 0:
        raise InputError("no values")
    if loq is not None:
        lim = np.broadcast_to(np.asarray(loq, dtype=float), x.shape)
        x = np.where(cens, lim, x)
    bad = ~(np.isfinite(x) & (x > 0))
    if bad.any():
        i = int(np.argwhere(bad)[0][0])
        what = "limit (loq)" if cens[i] else "value"
        raise InputError(f"{what} at position {i} must be positive and finite for a "
                         f"log-normal model, got {x[i]!r}", column="loq" if cens[i] else
                         "values", value=x[i])
    if (~cens).sum() < 2:
        raise InputError(f"{int((~cens).sum())} uncensored value(s); a censored mean needs "
                         "at least two detected values")
    return x, cens


def _censored_mle(x, cens) -> CensoredMean:
    logx = np.log(x)
    det, lim = logx[~cens], logx[cens]

    def nll(theta):
        mu, log_s = theta
        s = np.exp(log_s)
        return -(stats.norm.logpdf(det, mu, s).sum() + stats.norm.logcdf(lim, mu, s).sum())

    start = np.array([det.mean(), np.log(max(det.std(ddof=1), 1e-3))])
    res = optimize.minimize(nll, start, method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000})
    res = optimize.minimize(nll, res.x, method="BFGS", options={"gtol": 1e-9})
    mu, s = float(res.x[0]), float(np.exp(res.x[1]))
    if not np.isfinite(mu) or not np.isfinite(s):
        raise InputError("the log-normal likelihood did not converge; too few detects?")
    mean = float(np.exp(mu + s**2 / 2))
    sd = mean * float(np.sqrt(np.expm1(s**2)))
    return CensoredMean(mean, sd, "mle", x.size, int(cens.sum()), mu, s)


def _censored_ros(x, cens) -> CensoredMean:
    from statsmodels.imputation.ros import impute_ros

    if not cens.any():
        filled = x
        mu, s = float(np.log(x).mean()), float(np.log(x).std(ddof=1))
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            frame = impute_ros(x, cens, max_fraction_censored=1.0, min_uncensored=2,
                               as_array=False)
        filled = frame["final"].to_numpy(dtype=float)
        det = ~frame["cen"].to_numpy(dtype=bool)
        fit = stats.linregress(frame["Zprelim"].to_numpy()[det],
                               np.log(frame["obs"].to_numpy(dtype=float)[det]))
        mu, s = float(fit.intercept), float(fit.slope)
    return CensoredMean(float(filled.mean()), float(filled.std(ddof=1)), "ros", x.size,
                        int(cens.sum()), mu, s)


def censored_lognormal_fit(values, censored, loq, *,
                           min_quantified: int = MIN_QUANTIFIED_FOR_FIT):
    r"""Log-normal fitted by maximum likelihood to one series with values below the LOQ.

    Parameters
    ----------
    values : array_like
        Concentrations of one site and biomarker over time [ng/L]; ignored where censored.
    censored : array_like of bool
        True where the value is below its LOQ.
    loq : array_like
        LOQ of each value [ng/L].
    min_quantified : int, default :data:`MIN_QUANTIFIED_FOR_FIT`
        Fewer quantified values than this give ``None``.

    Returns
    -------
    tuple of float or None
        ``(mu_log, sigma_log)`` of :math:`\ln C` (see :func:`censored_mean`, method
        ``"mle"``), or None when the series has too few quantified values, no censored
        value, or the fit fails.

    References
    ----------
    Helsel DR. 2012. Statistics for Censored Environmental Data Using Minitab and R,
    2nd ed. Wiley, Hoboken. doi:10.1002/9781118162729

    Examples
    --------
    >>> x = [np.nan, 3.2, 4.1, 5.0, 7.9, 12.0, 2.5]
    >>> cens = [True, False, False, False, False, False, False]
    >>> mu, sigma = censored_lognormal_fit(x, cens, 2.0)
    >>> 1.0 < mu < 2.0 and 0.2 < sigma < 1.0
    True
    """
    x = np.asarray(values, dtype=float).ravel()
    cens = np.asarray(censored, dtype=bool).ravel()
    lim = np.broadcast_to(np.asarray(loq, dtype=float), x.shape)
    detected = ~cens & np.isfinite(x) & (x > 0)
    if int(detected.sum()) < int(min_quantified) or not cens.any():
        return None
    use = detected | (cens & np.isfinite(lim) & (lim > 0))
    try:
        fit = _censored_mle(np.where(cens, lim, x)[use], cens[use])
    except InputError:  # pragma: no cover - the likelihood did not converge
        return None
    return fit.mu_log, fit.sigma_log


def draw_censored_concentrations(loq_ng_per_l, uniforms, mu_log=None, sigma_log=None):
    r"""Concentrations below the LOQ from uniforms, by inversion [ng/L].

    Parameters
    ----------
    loq_ng_per_l : array_like
        LOQ of each censored value [ng/L], shape ``(n,)`` or broadcastable to
        ``uniforms``.
    uniforms : array_like
        Uniforms on (0, 1), e.g. shape ``(n, draws)``.
    mu_log, sigma_log : array_like, optional
        Fitted log-normal of the series (:func:`censored_lognormal_fit`); NaN or None
        means "uniform on (0, LOQ)".

    Returns
    -------
    numpy.ndarray
        Draws in (0, LOQ): :math:`C = LOQ\,u` for the uniform, else the log-normal
        truncated to (0, LOQ), :math:`C = \exp(\mu + \sigma\,\Phi^{-1}(u\,
        \Phi((\ln LOQ - \mu)/\sigma)))`.

    Notes
    -----
    Drawing each non-detect from the distribution fitted to the series, conditional on
    being below its limit, is the multiple-imputation approach of Lubin et al. (2004);
    unlike substitution it keeps the uncertainty of the censored value in the interval.
    The uncertainty of the fitted :math:`(\mu, \sigma)` is not propagated (an
    approximation that matters only for short series). With too few quantified values the
    uniform on (0, LOQ) assumes nothing about the shape below the limit.

    References
    ----------
    Lubin JH, Colt JS, Camann D, et al. 2004. Epidemiologic evaluation of measurement data
    in the presence of detection limits. Environ Health Perspect 112:1691-1696.
    doi:10.1289/ehp.7199

    Helsel DR. 2012. Statistics for Censored Environmental Data Using Minitab and R,
    2nd ed. Wiley. doi:10.1002/9781118162729

    Examples
    --------
    >>> draw_censored_concentrations(10.0, np.array([0.25, 0.5])).tolist()
    [2.5, 5.0]
    >>> c = draw_censored_concentrations(10.0, np.array([0.999999]), 3.0, 1.0)
    >>> bool(0 < c[0] < 10.0)
    True
    """
    u = np.asarray(uniforms, dtype=float)
    loq = np.asarray(loq_ng_per_l, dtype=float)
    if loq.ndim == 1 and u.ndim == 2:
        loq = loq[:, None]
    out = loq * u
    if mu_log is None:
        return out
    mu = np.asarray(mu_log, dtype=float)
    sigma = np.asarray(sigma_log, dtype=float)
    if mu.ndim == 1 and u.ndim == 2:
        mu, sigma = mu[:, None], sigma[:, None]
    mu, sigma, loq_b, u_b = np.broadcast_arrays(mu, sigma, loq, u)
    fitted = np.isfinite(mu) & np.isfinite(sigma) & (sigma > 0)
    if fitted.any():
        from scipy import special

        m, s, lq = mu[fitted], sigma[fitted], loq_b[fitted]
        p = u_b[fitted] * special.ndtr((np.log(lq) - m) / s)
        p = np.maximum(p, np.finfo(float).tiny)
        out = np.array(np.broadcast_to(out, u_b.shape))
        out[fitted] = np.minimum(np.exp(m + s * special.ndtri(p)), lq)
    return out
