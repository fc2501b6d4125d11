"""Triangulation of drug-user numbers: wastewater, registered users and test data.

Compares the number of users estimated from wastewater (with its uncertainty), the number of
registered users (登记吸毒人员) and, when given, a multiplier-method estimate and a prevalence
estimate from test positivity, and estimates the ratio of total (and hidden) to registered
users with an interval. See ``docs/methods-timeseries.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from wbe._compat import complement, renamed_arguments
from wbe.errors import InputError

__all__ = ["Triangulation", "triangulate"]


@dataclass(frozen=True)
class Triangulation:
    """Result of :func:`triangulate`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per source (``wastewater``, ``registered``, ``multiplier``,
        ``positivity``): ``median``, ``lower``, ``upper`` [persons] and
        ``total_to_registered`` (median, lower, upper) [ratio].
    total_to_registered : tuple of float
        Wastewater users / registered users: (median, lower, upper) [ratio].
    hidden_to_registered : tuple of float
        (Wastewater users - registered) / registered: (median, lower, upper) [ratio].
    registered_share : tuple of float
        Registered / wastewater users: (median, lower, upper) [fraction].
    interval_level : float
        Level of the intervals.
    n_draws : int
        Monte Carlo draws used.
    assumptions : tuple of str
        The assumptions behind the comparison, stated for the report.
    """

    table: pd.DataFrame
    total_to_registered: tuple[float, float, float]
    hidden_to_registered: tuple[float, float, float]
    registered_share: tuple[float, float, float]
    interval_level: float
    n_draws: int
    assumptions: tuple[str, ...]


_ASSUMPTIONS = (
    "wastewater users = consumption / (typical dose x doses per user per day); the dose "
    "assumptions dominate the uncertainty and are part of the input draws",
    "all registered users are counted in the wastewater estimate (same area and period)",
    "multiplier method: the register (benchmark) and the sample that gives the registered "
    "share are independent and refer to the same population, area and period",
    "positivity: the tested sample is representative of the population it is scaled to",
)


def _draws(name, x, n_draws, rng):
    if hasattr(x, "rvs") and hasattr(x, "ppf"):
        return np.asarray(x.rvs(size=n_draws, random_state=rng), dtype=float)
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 0:
        if not np.isfinite(arr) or arr <= 0:
            raise InputError(f"{name}: expected a positive number, got {x!r}")
        return np.full(n_draws, float(arr))
    arr = arr.ravel()
    if arr.size < 100:
        raise InputError(f"{name}: expected at least 100 draws, got {arr.size}")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise InputError(f"{name}: draws must be finite and positive")
    return arr


def _counts(name, pair):
    try:
        values = [float(v) for v in pair]
    except (TypeError, ValueError):
        raise InputError(f"{name}: expected (successes, trials) as two integers") from None
    if len(values) != 2 or not all(v.is_integer() for v in values):
        # counts of people: 2.7 is a data error, not something to truncate to 2
        raise InputError(f"{name}: expected (successes, trials) as two whole numbers, "
                         f"got {pair!r}")
    k, n = (int(v) for v in values)
    if n <= 0 or not 0 <= k <= n:
        raise InputError(f"{name}: expected 0 <= successes <= trials and trials > 0, got {pair}")
    return k, n


@renamed_arguments(alpha=("level", complement))
def triangulate(
    users_wastewater,
    registered_users: int,
    *,
    registered_among_users: tuple[int, int] | None = None,
    positivity: tuple[int, int] | None = None,
    population: float | None = None,
    level: float = 0.95,
    n_draws: int = 20000,
    seed=None,
) -> Triangulation:
    r"""Compare user estimates and estimate the total- and hidden-to-registered ratios.

    Parameters
    ----------
    users_wastewater : float, array_like or scipy.stats frozen distribution
        Users estimated from wastewater: a number, Monte Carlo draws (e.g. the ``users``
        variable of back-calculation over ``draw``) or a distribution [persons].
    registered_users : int
        Registered users in the same area and period (登记吸毒人员) [persons].
    registered_among_users : (int, int), optional
        Multiplier data: of ``n`` users found in an independent sample (e.g. people
        testing positive at screening), ``k`` were on the register [persons].
    positivity : (int, int), optional
        Positive tests and tests in a sample representative of ``population`` [persons].
    population : float, optional
        Population the positivity applies to [inhabitants]; required with ``positivity``.
    level : float, default 0.95
        Confidence level of the interval(s), in (0, 1) (docs/vocabulary.md;
        ``alpha=`` is a deprecated alias, ``level = 1 - alpha``).
    n_draws : int
        Monte Carlo draws when a distribution or counts are given.
    seed : int, numpy.random.Generator or SeedSequence, optional
        Random seed.

    Returns
    -------
    Triangulation

    Raises
    ------
    InputError
        Non-positive numbers, inconsistent counts, ``positivity`` without ``population``.

    Notes
    -----
    Ratio :math:`R = N_{ww} / M` with :math:`M` registered users; hidden-to-registered is
    :math:`R - 1`. Multiplier method (UNAIDS/WHO 2010; EMCDDA 1999): with a benchmark count
    :math:`M` and the share :math:`p` of users on the register,
    :math:`\hat N = M / p`, :math:`p \sim \mathrm{Beta}(k + 1/2, n - k + 1/2)` (Jeffreys).
    Positivity: :math:`\hat N = \mathrm{population} \times \pi`,
    :math:`\pi \sim \mathrm{Beta}(x + 1/2, t - x + 1/2)`. Intervals are equal-tailed
    percentiles of the draws. A report of one Chinese city cites 54,975 registered users
    against an estimated 300,000 users, a ratio of about 5.5 (example from the project
    issue; the report itself was not seen).

    References
    ----------
    UNAIDS/WHO Working Group on Global HIV/AIDS and STI Surveillance (2010). *Guidelines on
    estimating the size of populations most at risk to HIV*. WHO, Geneva.
    ISBN 978-92-4-159958-0.
    EMCDDA (1999). *Estimating the prevalence of problem drug use in Europe*. EMCDDA
    Scientific Monograph Series No. 1, Lisbon.
    Hickman, M., Taylor, C., Chatterjee, A., et al. (2002). Estimating the prevalence of
    problematic drug use: a review of methods and their application. *Bulletin on
    Narcotics*, 54(1-2), 15-32.
    Jeffreys interval: Brown, L. D., Cai, T. T., & DasGupta, A. (2001). Interval estimation
    for a binomial proportion. *Statistical Science*, 16(2), 101-133.
    doi:10.1214/ss/1009213286

    Examples
    --------
    >>> tri = triangulate(300_000, 54_975)
    >>> round(tri.total_to_registered[0], 2), round(tri.hidden_to_registered[0], 2)
    (5.46, 4.46)
    """
    alpha = round(1.0 - level, 12)  # two-sided error rate used below
    if not 0 < alpha < 1:
        raise InputError(f"alpha: expected a number in (0, 1), got {alpha!r}")
    try:
        reg = float(registered_users)
    except (TypeError, ValueError):
        raise InputError(f"registered_users: expected a number, got {registered_users!r}") from None
    if not np.isfinite(reg) or reg <= 0:
        raise InputError(f"registered_users: expected a positive count, got {registered_users!r}")
    rng = np.random.default_rng(seed)
    ww = _draws("users_wastewater", users_wastewater, int(n_draws), rng)
    q = [0.5, alpha / 2, 1 - alpha / 2]
    rows = {"wastewater": ww, "registered": np.full(ww.size, reg)}
    if registered_among_users is not None:
        k, n = _counts("registered_among_users", registered_among_users)
        p = stats.beta(k + 0.5, n - k + 0.5).rvs(size=ww.size, random_state=rng)
        rows["multiplier"] = reg / p
    if positivity is not None:
        if population is None or not population > 0:
            raise InputError("population: required (positive) when positivity is given")
        x, t = _counts("positivity", positivity)
        pi = stats.beta(x + 0.5, t - x + 0.5).rvs(size=ww.size, random_state=rng)
        rows["positivity"] = float(population) * pi
    recs = []
    for name, d in rows.items():
        qs = np.quantile(d, q)
        rq = np.quantile(d / reg, q)
        recs.append(
            {
                "source": name,
                "median": qs[0],
                "lower": qs[1],
                "upper": qs[2],
                "ratio_median": rq[0],
                "ratio_lower": rq[1],
                "ratio_upper": rq[2],
            }
        )
    table = pd.DataFrame(recs)
    r = np.quantile(ww / reg, q)
    h = np.quantile(ww / reg - 1.0, q)
    share = np.quantile(reg / ww, [0.5, alpha / 2, 1 - alpha / 2])
    return Triangulation(
        table=table,
        total_to_registered=tuple(float(v) for v in r),
        hidden_to_registered=tuple(float(v) for v in h),
        registered_share=tuple(float(v) for v in share),
        interval_level=1 - alpha,
        n_draws=int(ww.size),
        assumptions=_ASSUMPTIONS,
    )
