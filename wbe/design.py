"""Campaign design for sparse wastewater sampling: variance components, precision and power.

Offices sample few days: nine plants twice a year for a week (Wuzhong 2022, seed report
``004_2db8efdcce016276.txt``), one week a year in the European study. This module says how
precise the annual mean of such a schedule is, how likely it is to see an x % change between
two years, and which schedule of the same number of samples does better.

The model (log scale, one plant, day :math:`t` of year :math:`y`, month :math:`m(t)`)::

    log load = level_plant + a_y + b_{y,m(t)} + w_{weekday(t)} + u_t + e_t  (+ systematic)

* ``a_y``: the year level whose change between years is to be detected;
* ``b_{y,m}``: month-to-month deviation, independent between months and years, variance
  :math:`\\sigma^2_b` (seasonal and slower changes; its mean over the 12 months is part of
  the year level, so a schedule covering every month equally has no error from it);
* ``w_d``: weekday effects (fixed, summing to zero);
* ``u_t``: day-to-day variation, stationary AR(1) with variance :math:`\\sigma^2_{day}` and
  lag-one correlation :math:`\\phi`;
* ``e_t``: measurement error of one 24-h composite (sampling and chemical analysis),
  independent, variance :math:`\\sigma^2_{meas}`;
* systematic terms (excretion factor / CF, population, in-sewer stability, flow-meter bias)
  constant for a plant: they shift the absolute level and cancel in ratios between years of
  the same plant, so they enter the precision of the level, never of a change.

All variances are of natural logarithms [ln²]; a relative standard error of about
:math:`\\sigma` for small :math:`\\sigma`. Estimates are geometric means (means of logs),
plants weigh equally in a city mean.

Where the numbers come from: the measurement term from the registry defaults (sampling CV
10 %, Ort et al. 2010; chemical analysis CV 10 %, Castiglioni et al. 2013; both marked
unverified there); the weekday effects, day-to-day variance and its lag-one correlation from
the European one-week campaigns (EMCDDA / SCORE data, Ort et al. 2014 for the design of the
study) with :func:`components_from_weeks`; the month-to-month term from Statistics Canada's
monthly means (table 13-10-0871-01) with :func:`month_variance_from_monthly`. The
between-plant correlation of month deviations inside one city is not identified by either
data set (each European city has one plant here; Canadian cities are far apart): give it as
a range.

References
----------
Ort C, Lawrence MG, Rieckermann J, Joss A (2010). Sampling for pharmaceuticals and personal
care products (PPCPs) and illicit drugs in wastewater systems: are your conclusions valid? A
critical review. Environmental Science & Technology 44(16):6024-6035.
doi:10.1021/es100779n (DOI as in the project registry; unverified in this session).

Castiglioni S, Bijlsma L, Covaci A, et al. (2013). Evaluation of uncertainties associated
with the determination of community drug use through the measurement of sewage drug
biomarkers. Environmental Science & Technology 47(3):1452-1460. doi:10.1021/es302722f
(DOI as in the project registry; unverified in this session).

Ort C, van Nuijs ALN, Berset J-D, et al. (2014). Spatial differences and temporal changes in
illicit drug use in Europe quantified by wastewater analysis. Addiction 109(8):1338-1352.
doi:10.1111/add.12570 (unverified).

European Union Drugs Agency (EMCDDA), SCORE group. Drugs in municipal wastewater in selected
European cities, 2011-2021 (data.europa.eu, CC BY 4.0); copy in
``shared/data/real/euda_municipal_wastewater_2011-2021_by_weekday.json``.

Statistics Canada. Table 13-10-0871-01, Drug metabolites in wastewater in select Canadian
cities, by month. doi:10.25318/1310087101-eng.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import optimize, signal, stats

from wbe.errors import InputError, unknown_name_error

__all__ = [
    "KINDS",
    "WEEKDAYS",
    "ChangePower",
    "MeanPrecision",
    "Schedule",
    "VarianceComponents",
    "annual_mean_precision",
    "ar1_design_effect",
    "campaign_mean_se",
    "change_power",
    "cheapest_schedules",
    "components_from_daily",
    "components_from_weeks",
    "month_variance_from_monthly",
    "recommend_schedule",
    "simulate_change",
]

#: Weekday names, Monday first (the order of ``VarianceComponents.weekday``).
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: Schedule kinds understood by :class:`Schedule`.
KINDS = ("consecutive", "random", "stratified")
_MONTHS = 12


# --------------------------------------------------------------------------------------
# components and schedules
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VarianceComponents:
    """Variance components of a plant's log daily load [ln²].

    Attributes
    ----------
    month_var : float
        :math:`\\sigma^2_b`, variance of month-to-month deviations from the year level [ln²].
    day_var : float
        :math:`\\sigma^2_{day}`, variance of the day-to-day AR(1) component [ln²].
    ar1 : float
        :math:`\\phi`, lag-one (one day) autocorrelation of the day-to-day component.
    measurement_var : float
        :math:`\\sigma^2_{meas}`, variance of one sample's measurement error [ln²].
    weekday : tuple of 7 float
        Weekday effects, Monday first, summing to zero [ln].
    systematic_var : float
        Variance of terms constant in time (CF, population, stability, flow bias) [ln²];
        enters the precision of a level, cancels in changes.
    plant_var : float
        Variance of the log levels of the plants of a city [ln²]; matters when different
        plants are sampled in different years.
    plant_change_var : float
        Variance of plant-specific changes around the city's change [ln²].
    rho_plants : float
        Correlation of the monthly deviations of the plants of one city (1: the whole city
        moves together from month to month; 0: plants move independently).
    source : str
        Where the numbers come from.
    """

    month_var: float
    day_var: float
    ar1: float = 0.0
    measurement_var: float = 0.0
    weekday: tuple = (0.0,) * 7
    systematic_var: float = 0.0
    plant_var: float = 0.0
    plant_change_var: float = 0.0
    rho_plants: float = 0.0
    source: str = ""

    def __post_init__(self):
        for name in ("month_var", "day_var", "measurement_var", "systematic_var", "plant_var",
                     "plant_change_var"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value >= 0):
                raise InputError(f"{name} must be a finite variance >= 0 [ln²], got {value!r}",
                                 column=name)
        if not -1.0 < self.ar1 < 1.0:
            raise InputError(f"ar1 must lie in (-1, 1), got {self.ar1!r}", column="ar1")
        if not 0.0 <= self.rho_plants <= 1.0:
            raise InputError(f"rho_plants must lie in [0, 1], got {self.rho_plants!r}",
                             column="rho_plants")
        w = np.asarray(self.weekday, dtype=float)
        if w.shape != (7,) or not np.all(np.isfinite(w)):
            raise InputError("weekday must hold 7 finite effects, Monday first",
                             column="weekday")
        object.__setattr__(self, "weekday", tuple(float(x) for x in w - w.mean()))

    @property
    def weekday_var(self) -> float:
        """Mean square of the weekday effects [ln²]."""
        return float(np.mean(np.square(self.weekday)))

    def with_(self, **changes) -> VarianceComponents:
        """A copy with some fields changed (for sensitivity analyses)."""
        return replace(self, **changes)


@dataclass(frozen=True)
class Schedule:
    """A sampling schedule, the same in every year compared.

    Attributes
    ----------
    kind : {"consecutive", "random", "stratified"}
        ``consecutive``: ``campaigns`` campaigns a year of ``days`` consecutive days each,
        in different months, starting on a random weekday. ``random``: ``days`` days a
        year drawn at random. ``stratified``: ``days`` days a year spread as evenly as
        possible over the 12 months and the 7 weekdays. All plants sampled in a year are
        sampled on the same days (a city campaign).
    days : int
        Days per campaign (``consecutive``) or per year (``random``, ``stratified``).
    campaigns : int
        Campaigns a year (``consecutive`` only; at most 12).
    n_plants : int
        Plants of the city.
    plants_per_year : int, optional
        Plants sampled each year (default all). Fewer plants means rotation.
    overlap : int, optional
        Plants sampled in both years compared (default ``plants_per_year``, the same
        plants every year).
    """

    kind: str
    days: int
    campaigns: int = 1
    n_plants: int = 1
    plants_per_year: int | None = None
    overlap: int | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise unknown_name_error("schedule kind", self.kind, KINDS)
        q = self.n_plants if self.plants_per_year is None else self.plants_per_year
        o = q if self.overlap is None else self.overlap
        object.__setattr__(self, "plants_per_year", int(q))
        object.__setattr__(self, "overlap", int(o))
        checks = [("days", self.days >= 1), ("campaigns", 1 <= self.campaigns <= _MONTHS),
                  ("n_plants", self.n_plants >= 1),
                  ("plants_per_year", 1 <= q <= self.n_plants),
                  ("overlap", max(0, 2 * q - self.n_plants) <= o <= q)]
        for name, ok in checks:
            if not ok:
                raise InputError(f"schedule {name} out of range: {getattr(self, name)!r}",
                                 column=name)
        if self.kind != "consecutive" and self.campaigns != 1:
            raise InputError("campaigns applies to consecutive schedules only",
                             column="campaigns")
        if self.kind == "consecutive" and self.days > 28:
            raise InputError("a campaign must fit in one month (days <= 28)", column="days")
        if self.kind != "consecutive" and self.days > 364:
            raise InputError("at most 364 days a year", column="days")

    @property
    def samples_per_plant(self) -> int:
        """Samples per sampled plant and year."""
        return int(self.days * self.campaigns)

    @property
    def samples_per_year(self) -> int:
        """Samples per year over the city."""
        return int(self.samples_per_plant * self.plants_per_year)

    def describe(self) -> str:
        """One line for tables."""
        if self.kind == "consecutive":
            what = f"{self.campaigns} x {self.days} consecutive days"
        else:
            what = f"{self.days} {self.kind} days"
        plants = f"{self.plants_per_year}/{self.n_plants} plants"
        if self.overlap < self.plants_per_year:
            plants += f" ({self.overlap} in both years)"
        return f"{what}, {plants}"


# --------------------------------------------------------------------------------------
# closed forms
# --------------------------------------------------------------------------------------


def ar1_design_effect(n: int, phi: float) -> float:
    """Variance inflation of the mean of ``n`` consecutive AR(1) values.

    Parameters
    ----------
    n : int
        Consecutive days averaged.
    phi : float
        Lag-one autocorrelation, in (-1, 1).

    Returns
    -------
    float
        :math:`g = 1 + 2 \\sum_{h=1}^{n-1} (1 - h/n) \\phi^h`, so that the variance of the
        mean is :math:`\\sigma^2 g / n`.

    Examples
    --------
    >>> ar1_design_effect(7, 0.0)
    1.0
    >>> round(ar1_design_effect(2, 0.5), 3)
    1.5
    """
    h = np.arange(1, int(n))
    return float(1.0 + 2.0 * np.sum((1.0 - h / n) * float(phi) ** h))


def campaign_mean_se(components: VarianceComponents, days: int) -> float:
    """Standard error of one campaign's mean log load around the level of its month [ln].

    Parameters
    ----------
    components : VarianceComponents
    days : int
        Consecutive days of the campaign, starting on a random weekday.

    Returns
    -------
    float
        :math:`\\sqrt{W(n) + \\sigma^2_{day} g(n, \\phi)/n + \\sigma^2_{meas}/n}`: what a
        campaign says about its own month; the month's deviation from the year is not in it
        (see :func:`annual_mean_precision` for the year).

    Examples
    --------
    >>> c = VarianceComponents(month_var=0.04, day_var=0.12, measurement_var=0.02)
    >>> round(campaign_mean_se(c, 7), 4)
    0.1414
    """
    n = int(days)
    if n < 1:
        raise InputError(f"days must be >= 1, got {days!r}", column="days")
    c = components
    var = (_weekday_block_var(np.asarray(c.weekday), n)
           + c.day_var * ar1_design_effect(n, c.ar1) / n + c.measurement_var / n)
    return float(math.sqrt(var))


def _weekday_block_var(weekday: np.ndarray, n: int) -> float:
    """Variance of the mean weekday effect of ``n`` consecutive days, start day uniform."""
    means = [np.mean(weekday[(s + np.arange(n)) % 7]) for s in range(7)]
    return float(np.mean(np.square(means)))


def _even_shares_sq(m: int, cells: int) -> float:
    """Sum over cells of (share - 1/cells)^2 for m items spread as evenly as possible."""
    q, r = divmod(int(m), cells)
    return r * ((q + 1) / m - 1 / cells) ** 2 + (cells - r) * (q / m - 1 / cells) ** 2


def _plant_year_terms(c: VarianceComponents, s: Schedule) -> tuple[float, float]:
    """(month term, other terms) of the variance of one plant's log annual mean [ln²]."""
    w = np.asarray(c.weekday)
    if s.kind == "consecutive":
        k, n = s.campaigns, s.days
        month = c.month_var * (1.0 / k - 1.0 / _MONTHS)
        other = (_weekday_block_var(w, n) / k
                 + c.day_var * ar1_design_effect(n, c.ar1) / (n * k)
                 + c.measurement_var / (n * k))
    elif s.kind == "random":
        m = s.days
        month = c.month_var * (1.0 - 1.0 / _MONTHS) / m
        other = (c.weekday_var + c.day_var + c.measurement_var) / m
    else:
        m = s.days
        month = c.month_var * _even_shares_sq(m, _MONTHS)
        r7 = m % 7
        s2 = np.sum(w**2) / 6.0
        other = r7 * (1 - r7 / 7) * s2 / m**2 + (c.day_var + c.measurement_var) / m
    return float(month), float(other)


def _city_year_var(c: VarianceComponents, s: Schedule) -> float:
    month, other = _plant_year_terms(c, s)
    q = s.plants_per_year
    return month * (c.rho_plants + (1.0 - c.rho_plants) / q) + other / q


def _plant_choice_var(c: VarianceComponents, s: Schedule) -> float:
    """Variance added to a change by sampling different plants in the two years [ln²]."""
    q, p, o = s.plants_per_year, s.n_plants, s.overlap
    levels = 2.0 * (q - o) * c.plant_var / q**2
    changes = c.plant_change_var * (1.0 / q - 1.0 / p)
    return float(levels + changes)


@dataclass(frozen=True)
class MeanPrecision:
    """Precision of a year's mean log load under a schedule.

    Attributes
    ----------
    se_log : float
        Standard error of the log annual mean of the city (mean over plants), random
        terms only [ln]; the precision that matters for comparisons.
    se_log_absolute : float
        Including the systematic terms [ln]; the precision of the level itself.
    lower_factor, upper_factor : float
        The interval of the annual (geometric) mean is estimate x ``lower_factor`` to
        estimate x ``upper_factor`` at ``level``, random terms only.
    level : float
        Confidence level.
    schedule : Schedule
    """

    se_log: float
    se_log_absolute: float
    lower_factor: float
    upper_factor: float
    level: float
    schedule: Schedule


def annual_mean_precision(components: VarianceComponents, schedule: Schedule, *,
                          level: float = 0.95) -> MeanPrecision:
    """Precision of a year's mean log load (city mean over plants) under a schedule.

    Parameters
    ----------
    components : VarianceComponents
    schedule : Schedule
    level : float
        Confidence level.

    Returns
    -------
    MeanPrecision

    Notes
    -----
    For one plant and ``k`` campaigns of ``n`` consecutive days in ``k`` different months,

    .. math::

        V = \\sigma^2_b\\left(\\frac1k - \\frac1{12}\\right) + \\frac{W(n)}{k}
            + \\frac{\\sigma^2_{day}\\, g(n, \\phi)}{n k} + \\frac{\\sigma^2_{meas}}{n k},

    with :math:`g` the AR(1) design effect (:func:`ar1_design_effect`) and :math:`W(n)` the
    variance of the mean weekday effect of ``n`` consecutive days over a uniformly random
    start day (zero for whole weeks). ``m`` random days give
    :math:`[\\sigma^2_b (11/12) + \\overline{w^2} + \\sigma^2_{day} + \\sigma^2_{meas}]/m`;
    ``m`` days spread evenly over months and weekdays give
    :math:`\\sigma^2_b \\sum_{months} (s_j - 1/12)^2 + (\\sigma^2_{day} + \\sigma^2_{meas})/m`
    plus a small weekday term when ``m`` is not a multiple of 7 (days of these two schedules
    are taken as far enough apart for the AR(1) correlation to vanish). Over ``Q`` plants
    the month term is multiplied by :math:`\\rho + (1-\\rho)/Q` and the others divided by
    ``Q``. The :math:`1/12` terms are finite-population corrections: the target is the
    mean of the year's twelve months.
    """
    var = _city_year_var(components, schedule)
    z = stats.norm.ppf(0.5 + level / 2.0)
    se = math.sqrt(var)
    return MeanPrecision(
        se_log=se,
        se_log_absolute=math.sqrt(var + components.systematic_var),
        lower_factor=math.exp(-z * se),
        upper_factor=math.exp(z * se),
        level=float(level),
        schedule=schedule,
    )


@dataclass(frozen=True)
class ChangePower:
    """Power to detect a relative change between two years.

    Attributes
    ----------
    change : float
        Relative change tested, e.g. 0.2 for +20 % (-0.2 for -20 %) [fraction].
    se_log_change : float
        Standard error of the estimated log ratio of the two years' city means [ln].
    power : float
        Probability that a two-sided z test at confidence ``level`` rejects "no change".
    minimal_detectable_change : float
        Smallest increase detected with probability ``target_power`` [fraction]:
        :math:`\\exp((z_{(1+level)/2} + z_{power})\\, SE) - 1`.
    level, target_power : float
    schedule : Schedule
    """

    change: float
    se_log_change: float
    power: float
    minimal_detectable_change: float
    level: float
    target_power: float
    schedule: Schedule


def change_power(components: VarianceComponents, schedule: Schedule, change: float = 0.2, *,
                 level: float = 0.95, target_power: float = 0.8) -> ChangePower:
    """Power to detect a relative change of the city mean between two years.

    Parameters
    ----------
    components : VarianceComponents
    schedule : Schedule
        Used in both years.
    change : float
        True relative change [fraction], > -1.
    level : float, default 0.95
        Confidence level of the two-sided test, in (0, 1) (significance ``1 - level``).
    target_power : float
        Power for the minimal detectable change.

    Returns
    -------
    ChangePower

    Notes
    -----
    :math:`SE^2 = 2 V_{year} + V_{plants}`, with :math:`V_{year}` the variance of one year's
    city mean (:func:`annual_mean_precision`; the month deviations are independent between
    years, so campaigns in the same calendar months do not cancel a repeating season here:
    the power is then conservative) and :math:`V_{plants} = 2(Q-o)\\sigma^2_{plant}/Q^2 +
    \\sigma^2_{\\Delta plant}(1/Q - 1/P)` when ``Q`` of ``P`` plants are sampled and ``o`` of
    them in both years (``o = Q``: no plant term from the levels). Power
    :math:`= \\Phi(|\\delta|/SE - z) + \\Phi(-|\\delta|/SE - z)`,
    :math:`\\delta = \\log(1 + change)`, :math:`z = z_{(1+level)/2}`.
    """
    if not change > -1.0:
        raise InputError(f"change must be > -1, got {change!r}", column="change")
    se = math.sqrt(2.0 * _city_year_var(components, schedule)
                   + _plant_choice_var(components, schedule))
    if not 0.0 < level < 1.0:
        raise InputError(f"level must be in (0, 1), got {level!r}", column="level")
    z = stats.norm.ppf((1.0 + level) / 2.0)
    delta = abs(math.log1p(change))
    power = stats.norm.cdf(delta / se - z) + stats.norm.cdf(-delta / se - z)
    mdc = math.expm1((z + stats.norm.ppf(target_power)) * se)
    return ChangePower(change=float(change), se_log_change=se, power=float(power),
                       minimal_detectable_change=float(mdc), level=float(level),
                       target_power=float(target_power), schedule=schedule)


def recommend_schedule(components: VarianceComponents, samples_per_year: int, n_plants: int,
                       *, change: float = 0.2, level: float = 0.95,
                       target_power: float = 0.8) -> pd.DataFrame:
    """Schedules of (at most) the given number of samples a year, best first.

    Parameters
    ----------
    components : VarianceComponents
    samples_per_year : int
        Budget: samples a year over the city.
    n_plants : int
        Plants of the city.
    change, level, target_power : float
        As for :func:`change_power`.

    Returns
    -------
    pandas.DataFrame
        One row per candidate: ``schedule`` (description), ``kind``, ``days``,
        ``campaigns``, ``plants_per_year``, ``samples_per_year``, ``se_log_annual`` [ln],
        ``se_log_change`` [ln], ``power``, ``minimal_detectable_change`` [fraction];
        sorted by decreasing power. Candidates: every plant each year with consecutive
        campaigns (1 to 12 campaigns of 1 to 28 days), random days or stratified days;
        and the same with fewer plants (the same plants every year), using the whole
        budget.
    """
    if samples_per_year < 1 or n_plants < 1:
        raise InputError("samples_per_year and n_plants must be >= 1")
    rows = []
    for q in range(1, n_plants + 1):
        per_plant = samples_per_year // q
        if per_plant < 1:
            continue
        candidates = [Schedule("random", per_plant, 1, n_plants, q),
                      Schedule("stratified", per_plant, 1, n_plants, q)]
        for k in range(1, _MONTHS + 1):
            n = per_plant // k
            if 1 <= n <= 28:
                candidates.append(Schedule("consecutive", n, k, n_plants, q))
        for s in candidates:
            p = change_power(components, s, change, level=level, target_power=target_power)
            rows.append({
                "schedule": s.describe(), "kind": s.kind, "days": s.days,
                "campaigns": s.campaigns, "plants_per_year": q,
                "samples_per_year": s.samples_per_year,
                "se_log_annual": annual_mean_precision(components, s).se_log,
                "se_log_change": p.se_log_change, "power": p.power,
                "minimal_detectable_change": p.minimal_detectable_change,
            })
    out = pd.DataFrame(rows).drop_duplicates("schedule")
    return out.sort_values(["power", "samples_per_year"], ascending=[False, True],
                           ignore_index=True)


def cheapest_schedules(components: VarianceComponents, n_plants: int, *, change: float = 0.2,
                       target_power: float = 0.8, level: float = 0.95,
                       target_se_log: float | None = None) -> pd.DataFrame:
    """The fewest samples a year that reach a target power (or precision), per kind of schedule.

    Parameters
    ----------
    components : VarianceComponents
    n_plants : int
        Plants of the city, all sampled every year.
    change, target_power, level : float
        Target: detect a relative change ``change`` with probability ``target_power``
        (two-sided test at confidence ``level``), as in :func:`change_power`.
    target_se_log : float, optional
        Instead of power, a target standard error of the log annual city mean [ln].

    Returns
    -------
    pandas.DataFrame
        One row per kind: ``consecutive 7-day campaigns`` (1 to 12 a year), ``consecutive
        campaigns (any length)``, ``random days`` and ``stratified days``, with ``schedule``,
        ``samples_per_year``, ``power`` and ``se_log_annual``; ``schedule`` is empty when no
        schedule of that kind reaches the target (e.g. campaigns cannot average out the
        month-to-month variation beyond one a month).
    """
    def score(s):
        p = change_power(components, s, change, level=level, target_power=target_power)
        se = annual_mean_precision(components, s).se_log
        ok = se <= target_se_log if target_se_log is not None else p.power >= target_power
        return ok, p.power, se

    families = {
        "consecutive 7-day campaigns": [Schedule("consecutive", 7, k, n_plants)
                                        for k in range(1, _MONTHS + 1)],
        "consecutive campaigns (any length)": sorted(
            (Schedule("consecutive", n, k, n_plants) for k in range(1, _MONTHS + 1)
             for n in range(1, 29)), key=lambda s: (s.samples_per_year, -s.campaigns)),
        "random days": [Schedule("random", m, 1, n_plants) for m in range(1, 365)],
        "stratified days": [Schedule("stratified", m, 1, n_plants) for m in range(1, 365)],
    }
    rows = []
    for family, candidates in families.items():
        row = {"kind": family, "schedule": "", "samples_per_year": np.nan, "power": np.nan,
               "se_log_annual": np.nan}
        for s in candidates:
            ok, power, se = score(s)
            if ok:
                row.update(schedule=s.describe(), samples_per_year=s.samples_per_year,
                           power=power, se_log_annual=se)
                break
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------
# simulation (the check of the closed forms)
# --------------------------------------------------------------------------------------


def _sample_days(s: Schedule, rng: np.random.Generator, month_of_day: np.ndarray,
                 weekday_of_day: np.ndarray) -> np.ndarray:
    if s.kind == "consecutive":
        months = rng.choice(_MONTHS, size=s.campaigns, replace=False)
        days = []
        for m in months:
            first = np.flatnonzero(month_of_day == m)[0]
            start = first + rng.integers(0, 28 - s.days + 1)
            days.append(np.arange(start, start + s.days))
        return np.concatenate(days)
    if s.kind == "random":
        return rng.choice(month_of_day.size, size=s.days, replace=False)
    # stratified: day i in month (i mod 12) and weekday (i mod 7), both in random order,
    # drawn without replacement inside each (month, weekday) cell
    month_order = rng.permutation(_MONTHS)
    weekday_order = rng.permutation(7)
    cells: dict = {}
    chosen = []
    for i in range(s.days):
        key = (month_order[i % _MONTHS], weekday_order[i % 7])
        if key not in cells:
            pool = np.flatnonzero((month_of_day == key[0]) & (weekday_of_day == key[1]))
            cells[key] = list(rng.permutation(pool))
        if not cells[key]:
            raise InputError("too many stratified days for a 364-day year", column="days")
        chosen.append(int(cells[key].pop()))
    return np.asarray(chosen)


def simulate_change(components: VarianceComponents, schedule: Schedule, *, n_rep: int = 1000,
                    seed=None) -> np.ndarray:
    """Simulate the estimated log change between two years under a schedule.

    Daily series of 364 days (52 weeks, 12 months of 28 or 35 days) are simulated for every
    plant from the model of this module (month deviations with between-plant correlation
    ``rho_plants``, weekday effects, a stationary AR(1) day component, measurement error,
    plant levels and plant-specific changes), sampled by the schedule, and the city mean
    of the log annual means compared between the years.

    Parameters
    ----------
    components : VarianceComponents
    schedule : Schedule
    n_rep : int
        Replicates.
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    numpy.ndarray
        ``n_rep`` errors of the estimated log change between the two years (estimate minus
        the true change of the city's mean log level) [ln]. The model is additive on the log
        scale, so the error does not depend on the true change: the estimate of a change
        :math:`\\delta` is :math:`\\delta` plus these errors.
    """
    rng = np.random.default_rng(seed)
    c, s = components, schedule
    lengths = np.array([28, 28, 35] * 4)  # 4-4-5 weeks: 364 days, weekdays repeat
    month_of_day = np.repeat(np.arange(_MONTHS), lengths)
    n_days = month_of_day.size
    weekday_of_day = np.arange(n_days) % 7
    w = np.asarray(c.weekday)
    p_all, q, o = s.n_plants, s.plants_per_year, s.overlap
    sd_day = math.sqrt(c.day_var)
    innov = sd_day * math.sqrt(1.0 - c.ar1**2)
    out = np.empty(int(n_rep))
    for r in range(int(n_rep)):
        levels = rng.normal(0.0, math.sqrt(c.plant_var), p_all)
        plant_change = rng.normal(0.0, math.sqrt(c.plant_change_var), p_all)
        plant_change -= plant_change.mean()  # the city's change is the mean over plants
        plants1 = rng.choice(p_all, size=q, replace=False)
        keep = rng.choice(plants1, size=o, replace=False)
        rest = np.setdiff1d(np.arange(p_all), plants1)
        new = rng.choice(rest, size=q - o, replace=False) if q > o else np.array([], int)
        plants2 = np.concatenate([keep, new]).astype(int)
        means = []
        for year, plants in ((0, plants1), (1, plants2)):
            common = rng.normal(0.0, 1.0, _MONTHS)
            days = _sample_days(s, rng, month_of_day, weekday_of_day)  # the city's campaign
            est = []
            for p in plants:
                own = rng.normal(0.0, 1.0, _MONTHS)
                b = math.sqrt(c.month_var) * (math.sqrt(c.rho_plants) * common
                                              + math.sqrt(1.0 - c.rho_plants) * own)
                b = b - b.mean()  # the year level includes the months' mean
                eps = rng.normal(0.0, innov, n_days)
                eps[0] = rng.normal(0.0, sd_day)  # stationary start
                u = signal.lfilter([1.0], [1.0, -c.ar1], eps)
                y = (levels[p] + year * plant_change[p] + b[month_of_day[days]]
                     + w[weekday_of_day[days]] + u[days]
                     + rng.normal(0.0, math.sqrt(c.measurement_var), days.size))
                est.append(y.mean())
            means.append(np.mean(est))
        out[r] = means[1] - means[0]
    return out


# --------------------------------------------------------------------------------------
# estimating the components
# --------------------------------------------------------------------------------------


def _log_positive(values: pd.Series, column: str) -> np.ndarray:
    v = pd.to_numeric(values, errors="coerce")
    bad = ~(v > 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"expected a positive load, got {values.iloc[i]!r}", row=i + 1,
                         column=column)
    return np.log(v.to_numpy(dtype=float))


def components_from_weeks(weeks: pd.DataFrame, *, measurement_var: float, value: str = "value",
                          unit: str = "plant", week: str = "year",
                          weekday: str = "weekday", first_weekday: str = "Monday") -> dict:
    """Weekday effects, day-to-day variance and lag-one correlation from one-week campaigns.

    Designed for the European one-week-a-year data (EMCDDA / SCORE): complete weeks of seven
    daily loads per plant and year.

    Parameters
    ----------
    weeks : pandas.DataFrame
        Long table: ``unit`` (plant id), ``week`` (campaign id, e.g. year), ``weekday``
        (English name) and ``value`` (load, any unit, > 0). Campaigns without all seven
        weekdays are left out (their number is returned).
    measurement_var : float
        Variance of one sample's measurement error [ln²], from the literature (the data
        cannot separate it from day-to-day variation).
    value, unit, week, weekday : str
        Column names.
    first_weekday : str
        First day of every campaign: the seven days are in time order from it, and the
        last and first day are not neighbours (the EMCDDA data list each week from
        Wednesday to Tuesday).

    Returns
    -------
    dict
        ``weekday`` (7 effects, Monday first), ``day_var`` (day-to-day variance, measurement
        removed) [ln²], ``ar1`` (of the day-to-day component), ``residual_var`` (day-to-day +
        measurement) [ln²],
        ``n_weeks`` used, ``n_weeks_incomplete`` left out.

    Notes
    -----
    Weekday effects are the pooled means of within-week deviations. With :math:`H` the
    centering matrix of a week and :math:`R(\\phi)` the AR(1) correlation matrix, the
    residuals have expected sum of squares :math:`\\sigma^2_{day}\\,\\mathrm{tr}(HRH) +
    \\sigma^2_{meas}\\,\\mathrm{tr}(H)` per week and expected sum of lag-one products
    (the six pairs of neighbouring days of the campaign, from ``first_weekday`` on)
    :math:`\\sigma^2_{day} \\sum_i (HRH)_{i,i+1} + \\sigma^2_{meas} \\sum_i H_{i,i+1}`.
    Given :math:`\\sigma^2_{meas}`, the two moment equations are solved for
    :math:`\\sigma^2_{day}` and :math:`\\phi`: the downward bias that centering puts on
    both is removed exactly for this model (the loss of 6 degrees of freedom to the weekday
    means is corrected by the factor :math:`W/(W-1)`).
    """
    for col in (value, unit, week, weekday):
        if col not in weeks.columns:
            raise InputError(f"weekly table lacks column {col!r}", column=col)
    frame = pd.DataFrame({"unit": weeks[unit].to_numpy(), "week": weeks[week].to_numpy(),
                          "weekday": weeks[weekday].astype(str).str.strip().str.title()})
    bad = ~frame["weekday"].isin(WEEKDAYS)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"expected a weekday name, got {weeks[weekday].iloc[i]!r}",
                         row=i + 1, column=weekday)
    frame["y"] = _log_positive(weeks[value].reset_index(drop=True), value)
    wide = frame.pivot_table(index=["unit", "week"], columns="weekday", values="y",
                             aggfunc="mean").reindex(columns=list(WEEKDAYS))
    complete = wide.dropna()
    n_incomplete = len(wide) - len(complete)
    if len(complete) < 5:
        raise InputError(f"need at least 5 complete weeks, got {len(complete)}")
    first = str(first_weekday).strip().title()
    if first not in WEEKDAYS:
        raise unknown_name_error("first weekday", first_weekday, WEEKDAYS)
    start = WEEKDAYS.index(first)
    order = [WEEKDAYS[(start + i) % 7] for i in range(7)]  # time order of the campaign
    y = complete[order].to_numpy()
    r = y - y.mean(axis=1, keepdims=True)
    effects = r.mean(axis=0)
    e = r - effects
    weeks_n = e.shape[0]
    # removing the pooled weekday means takes about 1/W of each sum (W weeks)
    inflate = weeks_n / (weeks_n - 1.0)
    squares = float(np.sum(e**2)) / weeks_n * inflate
    products = float(np.sum(e[:, :-1] * e[:, 1:])) / weeks_n * inflate
    h = np.eye(7) - 1.0 / 7
    idx = np.arange(7)

    def moments(phi):
        cc = h @ (phi ** np.abs(idx[:, None] - idx[None, :])) @ h
        return float(np.trace(cc)), float(sum(cc[i, i + 1] for i in range(6)))

    b_white, a_white = 6.0, -6.0 / 7.0  # trace and lag-one sum of the centering matrix

    def day_var_for(phi):
        return (squares - measurement_var * b_white) / moments(phi)[0]

    def gap(phi):
        return day_var_for(phi) * moments(phi)[1] + measurement_var * a_white - products

    lo_phi, hi_phi = -0.9, 0.95
    if gap(lo_phi) * gap(hi_phi) < 0:
        phi = float(optimize.brentq(gap, lo_phi, hi_phi))
    else:
        phi = lo_phi if abs(gap(lo_phi)) < abs(gap(hi_phi)) else hi_phi
    day_var = max(day_var_for(phi), 0.0)
    residual_var = day_var + measurement_var
    monday_first = np.roll(effects, start)  # back to Monday-first order
    return {"weekday": tuple(float(x) for x in monday_first), "day_var": day_var,
            "ar1": phi, "residual_var": residual_var,
            "n_weeks": int(weeks_n), "n_weeks_incomplete": int(n_incomplete)}


def month_variance_from_monthly(monthly: pd.DataFrame, *, value: str = "value",
                                unit: str = "plant", month: str = "month",
                                noise_var: str | None = None, min_months: int = 6) -> dict:
    """Variance of month-to-month deviations from a year's level, from monthly means.

    Designed for series of monthly mean loads such as Statistics Canada's table
    13-10-0871-01 (daily composites averaged by month).

    Parameters
    ----------
    monthly : pandas.DataFrame
        Long table: ``unit`` (plant or city), ``month`` (anything ``pandas.Period`` reads as
        a month, e.g. ``"2022-01"``) and ``value`` (monthly mean load, > 0).
    value, unit, month : str
        Column names.
    noise_var : str, optional
        Column with the variance of each monthly log mean due to day-level noise and
        imputation [ln²] (e.g. (SE / value)²), subtracted from the result.
    min_months : int
        Unit-years with fewer months are left out.

    Returns
    -------
    dict
        ``month_var`` [ln²] (pooled within unit-year variance of log monthly means, minus
        the mean noise variance), ``raw_var`` [ln²], ``n_unit_years``, ``n_months``.

    Notes
    -----
    Within each unit and calendar year the log monthly means are centered on their mean;
    the pooled variance uses ``n - 1`` degrees of freedom per unit-year. A trend within the
    year counts as month-to-month variation (as it does for a campaign).
    """
    for col in (value, unit, month):
        if col not in monthly.columns:
            raise InputError(f"monthly table lacks column {col!r}", column=col)
    frame = pd.DataFrame({"unit": monthly[unit].to_numpy()})
    frame["y"] = _log_positive(monthly[value].reset_index(drop=True), value)
    try:
        periods = pd.PeriodIndex(monthly[month].astype(str), freq="M")
    except (ValueError, TypeError) as err:
        raise InputError(f"expected months like 2022-01 in column {month!r}",
                         column=month) from err
    frame["year"] = periods.year
    frame["noise"] = (pd.to_numeric(monthly[noise_var], errors="coerce").to_numpy()
                      if noise_var else 0.0)
    ss = df = 0.0
    noise = []
    n_groups = 0
    for _, g in frame.groupby(["unit", "year"]):
        if len(g) < min_months:
            continue
        ss += float(np.sum((g["y"] - g["y"].mean()) ** 2))
        df += len(g) - 1
        noise.extend(g["noise"].fillna(0.0).tolist())
        n_groups += 1
    if df == 0:
        raise InputError(f"no unit-year has {min_months} or more months")
    raw = ss / df
    return {"month_var": max(raw - float(np.mean(noise)), 0.0), "raw_var": raw,
            "n_unit_years": n_groups, "n_months": int(df + n_groups)}


def components_from_daily(daily: pd.Series, *, measurement_var: float) -> VarianceComponents:
    """Variance components of one plant from its own daily series.

    Parameters
    ----------
    daily : pandas.Series
        Daily loads (> 0) indexed by date; at least two months with 10 or more days.
    measurement_var : float
        Variance of one sample's measurement error [ln²] (literature value).

    Returns
    -------
    VarianceComponents
        ``month_var`` from the month means within each year (minus their day-level noise),
        weekday effects from the deviations from the month means, ``day_var`` and ``ar1``
        from the remaining residuals on consecutive days, measurement removed.
    """
    if not isinstance(daily, pd.Series) or not isinstance(daily.index, pd.DatetimeIndex):
        raise InputError("expected a pandas Series of daily loads indexed by date")
    y = pd.Series(_log_positive(daily.reset_index(drop=True), "value"),
                  index=daily.index.normalize()).sort_index()
    if y.index.duplicated().any():
        raise InputError("one value per day expected (duplicate dates)")
    key = y.index.to_period("M")
    counts = y.groupby(key).transform("size")
    y = y[counts.to_numpy() >= 10]
    key = y.index.to_period("M")
    if key.nunique() < 2:
        raise InputError("need at least two months with 10 or more days")
    r = y - y.groupby(key).transform("mean")
    effects = r.groupby(r.index.day_of_week).mean().reindex(range(7), fill_value=0.0)
    e = r - effects.reindex(r.index.day_of_week).to_numpy()
    n, n_m = len(e), key.nunique()
    resid_var = float(np.sum(e**2) / max(n - n_m - 6, 1))
    lag = e.index.to_series().diff().dt.days.to_numpy() == 1
    ev = e.to_numpy()
    rho_sum = float(np.sum(ev[1:][lag[1:]] * ev[:-1][lag[1:]]) / np.sum(ev**2) * n
                    / max(lag[1:].sum(), 1))
    day_var = max(resid_var - measurement_var, 0.0)
    phi = float(np.clip(rho_sum * resid_var / day_var, -0.95, 0.95)) if day_var > 0 else 0.0
    month_means = y.groupby(key).mean()
    n_days = y.groupby(key).size()
    frame = pd.DataFrame({"value": np.exp(month_means.to_numpy()), "plant": "plant",
                          "month": month_means.index.astype(str),
                          "noise": [(day_var * ar1_design_effect(k, phi) + measurement_var) / k
                                    for k in n_days.to_numpy()]})
    month = month_variance_from_monthly(frame, noise_var="noise", min_months=2)
    return VarianceComponents(month_var=month["month_var"], day_var=day_var, ar1=phi,
                              measurement_var=float(measurement_var),
                              weekday=tuple(effects.to_numpy()),
                              source="components_from_daily")

