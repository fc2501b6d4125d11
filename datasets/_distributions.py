"""Registry rows to scipy.stats frozen distributions, shared by the simulator and the estimators.

One function decides how a published "value ± sd" or range becomes a distribution, so that
the simulator's truth and the estimator's uncertainty use the same convention.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

__all__ = ["lognormal_from_cv", "parameter_distribution"]


def lognormal_from_cv(cv: float, mean: float = 1.0):
    """Log-normal distribution with a given arithmetic mean and coefficient of variation.

    Parameters
    ----------
    cv : float
        Coefficient of variation (sd / mean) [fraction].
    mean : float, default 1.0
        Arithmetic mean [any unit].

    Returns
    -------
    scipy.stats frozen ``lognorm`` with ``s = sqrt(log(1 + cv**2))`` and
    ``scale = mean * exp(-s**2 / 2)``.

    Notes
    -----
    The log-scale standard deviation is :math:`\\sigma = \\sqrt{\\ln(1+CV^2)}` and the
    median is :math:`m\\,e^{-\\sigma^2/2}`, so that :math:`E[X] = m` (Limpert, Stahel and
    Abbt 2001, BioScience 51:341-352, doi:10.1641/0006-3568(2001)051[0341:LNDATS]2.0.CO;2).

    Examples
    --------
    >>> d = lognormal_from_cv(0.1, mean=5.0)
    >>> round(float(d.mean()), 10), round(float(d.std() / d.mean()), 10)
    (5.0, 0.1)
    """
    if not cv >= 0:
        raise ValueError(f"cv must be >= 0, got {cv!r}")
    sigma = math.sqrt(math.log1p(cv**2))
    return stats.lognorm(s=sigma, scale=mean * math.exp(-(sigma**2) / 2))


def parameter_distribution(
    value: float,
    distribution: str = "fixed",
    *,
    sd: float | None = None,
    low: float | None = None,
    high: float | None = None,
    bounds: tuple[float, float] = (0.0, np.inf),
):
    """Turn a registry row (value, distribution, sd, low, high) into a distribution.

    Parameters
    ----------
    value : float
        Published central value (the mean) [unit of the parameter].
    distribution : {"fixed", "normal", "lognormal", "uniform"}
        ``normal`` is truncated to ``bounds`` (a fraction cannot be negative);
        ``lognormal`` has arithmetic mean ``value`` and sd ``sd`` on the natural scale;
        ``uniform`` spans ``low`` to ``high``.
    sd, low, high : float, optional
        Spread as published [unit of the parameter].
    bounds : tuple of float, default (0, inf)
        Support of a truncated normal.

    Returns
    -------
    float or scipy.stats frozen distribution
        A plain float for ``fixed`` (or a normal with ``sd == 0``).

    Raises
    ------
    ValueError
        For an unknown distribution name or a missing spread.

    Examples
    --------
    >>> bool(parameter_distribution(0.39, "normal", sd=0.05).mean() > 0.38)
    True
    >>> parameter_distribution(30.0)
    30.0
    """
    def _missing(x):
        return x is None or (isinstance(x, float) and math.isnan(x))

    name = "fixed" if _missing(distribution) else str(distribution).strip().lower()
    if name == "fixed":
        return float(value)
    if name == "normal":
        if _missing(sd):
            raise ValueError("a normal parameter needs sd")
        if sd == 0:
            return float(value)
        a, b = (bounds[0] - value) / sd, (bounds[1] - value) / sd
        return stats.truncnorm(a, b, loc=value, scale=sd)
    if name == "lognormal":
        if _missing(sd):
            raise ValueError("a lognormal parameter needs sd")
        return lognormal_from_cv(sd / value, mean=value)
    if name == "uniform":
        if _missing(low) or _missing(high) or not high > low:
            raise ValueError(f"a uniform parameter needs low < high, got {low!r}, {high!r}")
        return stats.uniform(loc=low, scale=high - low)
    raise ValueError(
        f"unknown distribution {distribution!r}; valid: fixed, lognormal, normal, uniform"
    )
