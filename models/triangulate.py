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

__all__ = ["COMPARABLE_CASE_DEFINITIONS", "Triangulation", "detection_probability",
           "triangulate"]


@dataclass(frozen=True)
class Triangulation:
    """Result of :func:`triangulate`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per source (``wastewater`` past-month users, ``registered`` persons,
        ``multiplier``, ``positivity`` = users within the tests' detection window,
        ``positivity_past_month`` when days of use are given): ``median``, ``lower``,
        ``upper`` [persons] and ``ratio_median``, ``ratio_lower``, ``ratio_upper`` to the
        registered count [ratio].
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
    "wastewater users are past-month users (persons who used at least once in a 30.4-day "
    "month): consumption / (pure dose x doses per use day) x 30.44 / mean use days a month "
    "(wbe.users.estimate_users); the dose, doses-per-day and days-of-use assumptions "
    "dominate the uncertainty and are part of the input draws",
    "registered users are persons on the register in the same area and period; all of them "
    "are counted in the wastewater estimate only if they used in the past month, so the "
    "hidden-to-registered ratio is a lower bound when many registered people are abstinent",
    "multiplier method: the register (benchmark) and the sample that gives the registered "
    "share are independent and refer to the same population, area and period",
    "positivity: the tested sample is representative of the population it is scaled to; a "
    "positive test means use within the detection window (a few days for urine), so "
    "population x positivity counts users within the window, converted to past-month users "
    "only through the stated days of use",
)

#: Case definitions of wastewater users that can be set against registered persons.
COMPARABLE_CASE_DEFINITIONS = ("past_month",)


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


def detection_probability(detection_window_days: float, use_days_per_month) -> float:
    """Probability that a past-month user tested on a random day is positive.

    Parameters
    ----------
    detection_window_days : float
        Days before the test during which use is detected [days] (urine, amphetamines:
        about 2-4; hair: months).
    use_days_per_month : float or mapping
        Mean days of use in a month of a past-month user [days], or a days-of-use
        distribution ``{days: share}``.

    Returns
    -------
    float
        :math:`\\sum_d p_d [1 - (1 - d/30.44)^w]` [fraction]: use days placed at random in
        the month, a window of ``w`` days (capped at 1 when the window covers the month).

    Examples
    --------
    >>> round(detection_probability(3, 30.4375), 3)
    1.0
    >>> round(detection_probability(3, {1: 0.5, 30: 0.5}), 3)
    0.548
    """
    from wbe.users import DAYS_PER_MONTH, mean_use_days

    w = float(detection_window_days)
    if not np.isfinite(w) or w <= 0:
        raise InputError(f"detection_window_days: expected a positive number, got "
                         f"{detection_window_days!r}")
    if isinstance(use_days_per_month, dict):
        mean_use_days(use_days_per_month)  # validates
        pairs = [(float(d), float(p)) for d, p in use_days_per_month.items()]
    else:
        d = float(use_days_per_month)
        if not 0 < d <= DAYS_PER_MONTH + 1e-9:
            raise InputError(f"use_days_per_month: expected (0, {DAYS_PER_MONTH:.2f}], got {d!r}")
        pairs = [(d, 1.0)]
    if w >= DAYS_PER_MONTH:
        return 1.0
    return float(sum(p * (1.0 - max(1.0 - d / DAYS_PER_MONTH, 0.0) ** w) for d, p in pairs))


@renamed_arguments(alpha=("level", complement))
def triangulate(
    users_wastewater,
    registered_users: int,
    *,
    registered_among_users: tuple[int, int] | None = None,
    positivity: tuple[int, int] | None = None,
    population: float | None = None,
    case_definition: str | None = None,
    detection_window_days: float | None = None,
    use_days_per_month=None,
    level: float = 0.95,
    n_draws: int = 20000,
    seed=None,
) -> Triangulation:
    r"""Compare user estimates and estimate the total- and hidden-to-registered ratios.

    Parameters
    ----------
    users_wastewater : float, array_like, xarray.DataArray or scipy.stats frozen distribution
        Past-month users estimated from wastewater: a number, Monte Carlo draws (the
        ``users`` of :func:`wbe.users.estimate_users` with ``case_definition="past_month"``
        over ``draw``) or a distribution [persons]. A DataArray carrying a
        ``case_definition`` attribute is checked against ``case_definition``.
    registered_users : int
        Registered users in the same area and period (登记吸毒人员) [persons].
    registered_among_users : (int, int), optional
        Multiplier data: of ``n`` users found in an independent sample (e.g. people
        testing positive at screening), ``k`` were on the register [persons].
    positivity : (int, int), optional
        Positive tests and tests in a sample representative of ``population`` [persons].
    population : float, optional
        Population the positivity applies to [inhabitants]; required with ``positivity``.
    case_definition : {"past_month"}, optional
        Case definition of ``users_wastewater``. ``"daily"`` (persons using on an average
        day, the ``users`` of :func:`wbe.back_calculate`) is refused: a daily number is not
        comparable with a register of persons. If omitted (and not in the DataArray's
        attributes) the users are taken as past-month users, as the assumptions say.
    detection_window_days : float, optional
        Detection window of the tests behind ``positivity`` [days]; required with it.
    use_days_per_month : float or mapping, optional
        Mean days of use a month of a past-month user, or a ``{days: share}`` distribution:
        converts users within the detection window into past-month users (row
        ``positivity_past_month``).
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
        Non-positive numbers, inconsistent counts, ``positivity`` without ``population`` or
        ``detection_window_days``, or daily users set against registered persons.

    Notes
    -----
    Ratio :math:`R = N_{ww} / M` with :math:`M` registered users; hidden-to-registered is
    :math:`R - 1`. Multiplier method (UNAIDS/WHO 2010; EMCDDA 1999): with a benchmark count
    :math:`M` and the share :math:`p` of users on the register,
    :math:`\hat N = M / p`, :math:`p \sim \mathrm{Beta}(k + 1/2, n - k + 1/2)` (Jeffreys).
    Positivity: :math:`\hat N_w = \mathrm{population} \times \pi`,
    :math:`\pi \sim \mathrm{Beta}(x + 1/2, t - x + 1/2)`, users within the detection
    window :math:`w`; past-month users :math:`\hat N_w / P_w` with :math:`P_w` from
    :func:`detection_probability`. Intervals are equal-tailed
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
    >>> tri = triangulate(300_000, 54_975, case_definition="past_month")
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
    stated = getattr(users_wastewater, "attrs", {}).get("case_definition")
    if stated is not None and case_definition is not None and stated != case_definition:
        raise InputError(f"case_definition: the users carry {stated!r}, not {case_definition!r}")
    definition = case_definition or stated
    if definition is not None and definition not in COMPARABLE_CASE_DEFINITIONS:
        raise InputError(
            f"users_wastewater: {definition!r} users cannot be set against registered persons; "
            "convert them with wbe.users.estimate_users(..., case_definition='past_month')")
    if positivity is not None and detection_window_days is None:
        raise InputError("detection_window_days: required with positivity (a positive test "
                         "shows use within the window, not in the past month)")
    rng = np.random.default_rng(seed)
    ww = _draws("users_wastewater", np.asarray(users_wastewater)
                if hasattr(users_wastewater, "attrs") else users_wastewater, int(n_draws), rng)
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
        if use_days_per_month is not None:
            rows["positivity_past_month"] = rows["positivity"] / detection_probability(
                detection_window_days, use_days_per_month)
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
