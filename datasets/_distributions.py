"""Registry rows to scipy.stats frozen distributions, shared by the simulator and the estimators.

One function decides how a published "value ± sd" or range becomes a distribution, so that
the simulator's truth and the estimator's uncertainty use the same convention.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = [
    "PARAMETER_BOUNDS",
    "CorrectionFactorSpec",
    "correction_factor_spec",
    "lognormal_from_cv",
    "parameter_distribution",
    "row_distribution",
]


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


def _number(row, name: str) -> float:
    value = row.get(name, math.nan) if hasattr(row, "get") else math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


#: support of each registry parameter (a truncated normal is cut to it)
PARAMETER_BOUNDS: dict[str, tuple[float, float]] = {"excretion_fraction": (0.0, 1.0)}


def row_distribution(row, name: str, *, missing: float = math.nan):
    """One parameter of a wide registry row as a number or a frozen distribution.

    The single place where a row of :func:`wbe.datasets.biomarker_parameters` (columns
    ``<name>``, ``<name>_sd``, ``<name>_low``, ``<name>_high``,
    ``<name>_distribution``) becomes something to draw from; the estimator and the
    simulator both call it.

    Parameters
    ----------
    row : mapping or pandas.Series
        One biomarker's row of the wide parameter table.
    name : str
        Parameter name, e.g. ``"excretion_fraction"``, ``"half_life_h"``,
        ``"typical_dose_mg"``.
    missing : float, default nan
        Returned when the row has no finite value for ``name`` (``inf`` for a half-life
        means "stable").

    Returns
    -------
    float or scipy.stats frozen distribution
        See :func:`parameter_distribution`; bounds are (0, 1) for an excretion fraction
        and (0, inf) otherwise.

    Examples
    --------
    >>> row = {"typical_dose_mg": 30.0, "typical_dose_mg_distribution": "fixed"}
    >>> row_distribution(row, "typical_dose_mg")
    30.0
    >>> row_distribution(row, "half_life_h", missing=float("inf"))
    inf
    """
    value = _number(row, name)
    if not math.isfinite(value):
        return float(missing) if math.isnan(value) else value
    dist = row.get(f"{name}_distribution", "fixed")
    if not isinstance(dist, str):
        dist = "fixed"
    return parameter_distribution(
        value, dist, sd=_number(row, f"{name}_sd"), low=_number(row, f"{name}_low"),
        high=_number(row, f"{name}_high"),
        bounds=PARAMETER_BOUNDS.get(name, (0.0, np.inf)))


@dataclass(frozen=True)
class CorrectionFactorSpec:
    """The one correction-factor specification of a biomarker in a parameter set.

    Attributes
    ----------
    source : {"excretion_fraction", "correction_factor"}
        Which registry parameter carries the value and its uncertainty.
    distribution : float or scipy.stats frozen distribution
        Of the excretion fraction [fraction] or of the CF [-], per ``source``.
    molar_mass_ratio : float
        :math:`M_{parent}/M_{biomarker}` [-] (NaN when ``source`` is the CF).
    """

    source: str
    distribution: object
    molar_mass_ratio: float

    def from_draws(self, draws):
        """CF [-] from draws (or the value) of ``distribution``."""
        if self.source == "excretion_fraction":
            return self.molar_mass_ratio / np.asarray(draws, dtype=float)
        return np.asarray(draws, dtype=float)

    @property
    def value(self) -> float:
        """Point CF [-]: from the published central value (the mean for a normal)."""
        d = self.distribution
        centre = float(d) if not hasattr(d, "ppf") else _central(d)
        return float(self.from_draws(centre))


def _central(dist) -> float:
    # the registry value a distribution was built from: loc of a (truncated) normal,
    # mean of a log-normal or uniform
    if dist.dist.name == "truncnorm":
        return float(dist.kwds.get("loc", dist.args[2] if len(dist.args) > 2 else 0.0))
    return float(dist.mean())


def correction_factor_spec(row, biomarker: str = "") -> CorrectionFactorSpec:
    """Which parameter defines the correction factor of a row, with its distribution.

    A parameter set gives **one** CF specification per biomarker (tested over the
    registry): the excretion fraction :math:`f` with the molar masses, so that
    :math:`CF = (M_{parent}/M_{biomarker})/f` (Zuccato et al. 2008), or a published
    ``correction_factor`` when no excretion fraction is given. If a user table gives both,
    the excretion fraction wins (the same rule as the simulator).

    Parameters
    ----------
    row : mapping or pandas.Series
        One row of :func:`wbe.datasets.biomarker_parameters`.
    biomarker : str
        Name for the error message.

    Returns
    -------
    CorrectionFactorSpec

    Raises
    ------
    ValueError
        If the row has neither (an :class:`wbe.errors.InputError`).

    References
    ----------
    Zuccato E, Chiabrando C, Castiglioni S, Bagnati R, Fanelli R. 2008. Estimating
    community drug abuse by wastewater analysis. Environ Health Perspect 116:1027-1032.
    doi:10.1289/ehp.11022

    Examples
    --------
    >>> row = {"excretion_fraction": 0.45, "parent_molar_mass_g_per_mol": 303.36,
    ...        "molar_mass_g_per_mol": 289.33}
    >>> round(correction_factor_spec(row).value, 2)
    2.33
    """
    from wbe.errors import InputError

    m_parent = _number(row, "parent_molar_mass_g_per_mol")
    m_bio = _number(row, "molar_mass_g_per_mol")
    exc = _number(row, "excretion_fraction")
    if math.isfinite(exc) and math.isfinite(m_parent) and math.isfinite(m_bio):
        return CorrectionFactorSpec("excretion_fraction", row_distribution(
            row, "excretion_fraction"), m_parent / m_bio)
    if math.isfinite(_number(row, "correction_factor")):
        return CorrectionFactorSpec("correction_factor", row_distribution(
            row, "correction_factor"), math.nan)
    raise InputError(f"biomarker {biomarker!r} needs a correction_factor or an "
                     "excretion_fraction with molar masses", file="parameters",
                     column="correction_factor")
