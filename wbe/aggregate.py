"""Aggregation over time (week, month, year) and over plants (city, region).

* :func:`period_mean` — weekly, monthly, quarterly or annual means per site with the
  extra uncertainty of having sampled only some days of the period (finite-population
  sampling of days), a coverage flag and :class:`~wbe.errors.CoverageWarning`;
* :func:`aggregate_sites` — population-weighted city/region aggregates per draw
  (sum of loads / sum of populations);
* :func:`week_means` — daily, weekday and weekend means as the EU drugs agency
  (EMCDDA, now EUDA) publishes them for its European wastewater study;

The censored-data statistics (:func:`wbe.censoring.censored_mean`) moved to
:mod:`wbe.censoring`; ``from wbe.aggregate import censored_mean`` keeps working.

Inputs are the back-calculation result: an ``xarray.Dataset`` with dims
``(site, date, biomarker[, draw])`` (docs/data-model.md). Units are in brackets.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from wbe._draws import keyed_uniforms, new_seed
from wbe.censoring import CensoredMean, censored_mean  # noqa: F401 (moved; old import path)
from wbe.errors import CoverageWarning, InputError, unknown_name_error

__all__ = [
    "DEFAULT_MIN_DAYS",
    "WeekMeans",
    "aggregate_sites",
    "period_mean",
    "ratio_draws",
    "ratio_summary",
    "week_means",
]

_CORE_DIMS = ("site", "date", "biomarker")

#: Default minimum number of sampled days for a period aggregate to count as covered.
#: Library conventions, not published thresholds (about one sample a week within a month,
#: three days in a week, six in a quarter); the annual 7 is one SCORE/EMCDDA campaign
#: week (see docs/methods-population-aggregation.md).
DEFAULT_MIN_DAYS: dict[str, int] = {"W": 3, "M": 4, "Q": 6, "Y": 7}

_FREQS = {
    "W": "W-SUN", "M": "M", "MS": "M", "ME": "M", "Q": "Q", "QS": "Q", "QE": "Q",
    "Y": "Y", "YS": "Y", "YE": "Y", "A": "Y", "AS": "Y",
}


def _period_freq(freq: str) -> tuple[str, str]:
    """User frequency -> (pandas Period frequency, kind in W/M/Q/Y)."""
    key = str(freq).strip().upper()
    if key.startswith("W-"):
        return key, "W"
    if key not in _FREQS:
        raise unknown_name_error("aggregation frequency", freq, [*_FREQS, "W-MON", "W-SUN"])
    pf = _FREQS[key]
    return pf, pf[0]


def _check_dataset(ds, name: str = "ds") -> None:
    if not isinstance(ds, xr.Dataset):
        raise InputError(f"{name} must be an xarray.Dataset with dims {_CORE_DIMS}, "
                         f"got {type(ds).__name__}")
    missing = [d for d in _CORE_DIMS if d not in ds.dims]
    if missing:
        raise InputError(f"{name} lacks the dimension(s) {missing}; expected "
                         f"(site, date, biomarker[, draw]), got {tuple(ds.dims)}")


def _check_variable_dims(ds, names) -> None:
    """Refuse selected variables with dims beyond (site, date, biomarker[, draw])."""
    for v in names:
        extra = [d for d in ds[v].dims if d not in (*_CORE_DIMS, "draw")]
        if extra:
            raise InputError(f"variable {v!r} has unexpected dimension(s) {extra}", column=v)


_BOOKKEEPING = ("n_days", "coverage_ok", "n_sites", "n_sites_total", "population",
                "n_censored_days", "censored_share")
# Inputs that back_calculate echoes beside its estimates (measured values, NaN where
# censored): not quantities to average by default.
_INPUT_ECHOES = ("concentration_ng_per_l", "loq_ng_per_l", "flow_m3_per_day", "n_substituted")


def _variables(ds, variables) -> list[str]:
    if variables is None:
        # e.g. back_calculate's log_variance(component, ...) is not a quantity to average
        out = [v for v, da in ds.data_vars.items()
               if set(_CORE_DIMS) <= set(da.dims) <= {*_CORE_DIMS, "draw"}
               and np.issubdtype(da.dtype, np.number)
               and da.dtype != bool and v not in _BOOKKEEPING and v not in _INPUT_ECHOES
               and not v.endswith("_se_days")]
    else:
        out = [variables] if isinstance(variables, str) else list(variables)
        for v in out:
            if v not in ds.data_vars:
                raise unknown_name_error("variable", v, list(ds.data_vars))
            if not set(_CORE_DIMS) <= set(ds[v].dims):
                raise InputError(f"variable {v!r} lacks dims {_CORE_DIMS}", column=v)
    if not out:
        raise InputError("no numeric variable with dims (site, date, biomarker) to aggregate")
    return out


def _daily_dates(ds) -> pd.DatetimeIndex:
    try:
        dates = pd.DatetimeIndex(ds["date"].values)
    except (TypeError, ValueError) as exc:
        raise InputError("coordinate 'date' must hold dates", column="date") from exc
    if dates.hasnans:
        raise InputError("coordinate 'date' has missing dates", column="date")
    if dates.has_duplicates:
        dup = dates[dates.duplicated()][0]
        raise InputError(f"date {dup.date()} appears twice", column="date", value=str(dup))
    if not (dates == dates.normalize()).all():
        raise InputError("dates must be days (the start day of each 24-h composite), "
                         "not times of day", column="date")
    return dates


def period_mean(ds: xr.Dataset, freq: str = "MS", *, min_days: int | None = None,
                variables=None, seed: int | None = None) -> xr.Dataset:
    """Weekly, monthly, quarterly or annual mean per site with sampling-of-days uncertainty.

    Parameters
    ----------
    ds : xarray.Dataset
        Daily results with dims ``(site, date, biomarker[, draw])``; a NaN value (in
        every draw) marks a day that was not sampled. Variables in their own units
        (e.g. ``load_mg_per_day`` [mg/day], ``consumption_mg_per_day_per_1000``
        [mg/day/1000 inhabitants]).
    freq : str, default "MS"
        ``"W"`` (Monday–Sunday weeks; ``"W-MON"`` etc. for weeks ending on another day),
        ``"MS"``/``"M"`` (calendar months), ``"QS"``/``"Q"`` (quarters), ``"YS"``/``"Y"``
        (years).
    min_days : int, optional
        Minimum sampled days for a period to count as covered; default
        :data:`DEFAULT_MIN_DAYS` for the frequency (3 a week, 4 a month, 6 a quarter,
        7 a year).
    variables : str or list of str, optional
        Variables to aggregate; all numeric variables with the core dims by default.
    seed : int, optional
        Seed of the sampling-of-days draws (recorded in ``attrs["period_mean_seed"]``).
        Draws are keyed by (seed, site, biomarker, period), so results do not depend
        on which other sites or biomarkers are present.

    Returns
    -------
    xarray.Dataset
        Dims ``(site, date, biomarker[, draw])`` where ``date`` is the first day of each
        period (``attrs["period_freq"]`` gives the frequency). For each variable:

        * with a ``draw`` dim: per-draw mean over the sampled days plus a draw of the
          error of estimating the period mean from those days;
        * without: the mean over the sampled days and ``<variable>_se_days``, its
          standard error from the sampling of days.

        Also ``n_days`` (sampled days), ``days_in_period`` and ``coverage_ok``
        (``n_days >= min_days``). Periods with no sampled day are NaN; periods with a
        single sampled day (out of more) are NaN too, because the between-day
        variability cannot be estimated from one day.

    Raises
    ------
    InputError
        If ``ds`` lacks the core dims, dates are not distinct days, or a day is NaN in
        some draws but not in others.
    UnknownNameError
        For an unknown frequency or variable.

    Warns
    -----
    CoverageWarning
        When at least one (site, biomarker, period) has fewer than ``min_days`` sampled
        days; the message counts them and names the first. Not on dask-backed input,
        where it would need a pass over the data: check ``coverage_ok`` there.

    Notes
    -----
    On dask-backed input (``back_calculate(..., chunks=...)``) the result is lazy: each
    site chunk (with all its dates, biomarkers and draws) is reduced on its own, with
    bitwise the same values as in memory (docs/performance.md).

    For a period of :math:`N` days of which :math:`n` were sampled, with daily values
    :math:`y_i`, the period mean :math:`\\bar Y = N^{-1}\\sum_{i=1}^N y_i` is estimated
    by the mean of the sampled days :math:`\\bar y`. Treating the sampled days as a
    simple random sample without replacement from the period (Cochran 1977, ch. 2):

    .. math::

        \\operatorname{Var}(\\bar y) = \\Bigl(1 - \\frac{n}{N}\\Bigr)\\frac{s^2}{n},
        \\qquad s^2 = \\frac{1}{n-1}\\sum_{i \\in S}(y_i - \\bar y)^2

    where :math:`s^2` is the between-day variance of the sampled days, computed from the
    draw-mean daily values so that measurement noise, already carried by each draw, is
    not counted twice. The error is applied to each draw :math:`d` as a relative error

    .. math::

        \\bar Y^{(d)} = \\bar y^{(d)}\\,\\max\\bigl(0,\\; 1 + r\\,T_d\\bigr), \\qquad
        r = \\frac{\\sqrt{(1 - n/N)\\,s^2/n}}{\\bar y}, \\qquad T_d \\sim t_{n-1}

    (Student-t to carry the uncertainty of :math:`s^2` estimated from few days; the
    truncation at zero only bites for two or three sampled days). The same :math:`T_d`
    is used for every variable of a (site, biomarker, period), and the relative form
    scales the error with each draw's own parameters, so that, for example, consumption
    draws stay (to within the small differences of :math:`r` between variables) the
    correction factor times the load draws. The finite-population correction makes the
    added error vanish when every day was sampled.

    Consecutive days are not a random sample: weekly cycles and autocorrelation make a
    single campaign week less informative about a month than seven scattered days.
    Ort et al. (2014) discuss how representative one campaign week is of a year. For
    right-skewed daily values the Student-t interval under-covers slightly (simulated
    90 % intervals for log-normal days with log-sd 0.25, 7 of 30 days: about 88.5 %).

    References
    ----------
    Cochran WG. 1977. Sampling Techniques, 3rd ed. Wiley, New York. ISBN 0-471-16240-X
    (Theorem 2.2, variance of the mean under simple random sampling).

    Ort C, van Nuijs ALN, Berset J-D, et al. 2014. Spatial differences and temporal
    changes in illicit drug use in Europe quantified by wastewater analysis. Addiction
    109(8):1338-1352. doi:10.1111/add.12570 (verified in PubMed, PMID 24861844; the
    issue text cites it as ES&T). One campaign week per year (2012, 2013).

    Examples
    --------
    >>> import pandas as pd, xarray as xr
    >>> dates = pd.date_range("2024-03-01", "2024-03-31")
    >>> y = np.full((1, 31, 1), np.nan)
    >>> y[0, [3, 10, 17, 24], 0] = [100.0, 120.0, 80.0, 100.0]
    >>> ds = xr.Dataset({"load_mg_per_day": (("site", "date", "biomarker"), y)},
    ...                 coords={"site": ["A"], "date": dates, "biomarker": ["meth"]})
    >>> out = period_mean(ds, "MS")
    >>> float(out["load_mg_per_day"].squeeze()), int(out["n_days"].squeeze())
    (100.0, 4)
    >>> round(float(out["load_mg_per_day_se_days"].squeeze()), 3)
    7.62
    """
    _check_dataset(ds)
    names = _variables(ds, variables)
    _check_variable_dims(ds, names)
    _daily_dates(ds)
    _, kind = _period_freq(freq)
    if min_days is None:
        min_days = DEFAULT_MIN_DAYS[kind]
    if int(min_days) != min_days or min_days < 1:
        raise InputError(f"min_days must be a positive integer, got {min_days!r}",
                         column="min_days")
    min_days = int(min_days)
    seed = new_seed() if seed is None else int(seed)
    if any(ds[name].chunks is not None for name in names):
        from wbe.scale import _map_site_blocks

        result = _map_site_blocks(_period_mean_days, ds[names], freq, min_days, names, seed,
                                  warn=False)
    else:
        result = _period_mean_days(ds, freq, min_days, names, seed)
    return _add_censored_days(result, ds, freq)


def _add_censored_days(result: xr.Dataset, ds: xr.Dataset, freq: str) -> xr.Dataset:
    """``n_censored_days`` and ``censored_share`` per period from the daily ``censored``
    flag of :func:`wbe.back_calculate` (days below the LOQ among the sampled days)."""
    if "censored" not in ds.data_vars or set(ds["censored"].dims) != set(_CORE_DIMS):
        return result
    cens = ds["censored"].transpose(*_CORE_DIMS).values.astype(bool)
    periods = _daily_dates(ds).to_period(_period_freq(freq)[0])
    uniq = periods.unique().sort_values()
    n_cens = np.stack([cens[:, periods == p, :].sum(axis=1) for p in uniq], axis=1)
    result["n_censored_days"] = (_CORE_DIMS, n_cens, {
        "long_name": "sampled days below the LOQ in the period"})
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(result["n_days"].values > 0, n_cens / result["n_days"].values, np.nan)
    result["censored_share"] = (_CORE_DIMS, share, {
        "units": "1", "long_name": "share of the sampled days that were below the LOQ"})
    return result


def _period_mean_days(ds, freq, min_days, names, seed, warn=True) -> xr.Dataset:
    """In-memory body of :func:`period_mean` (arguments already checked)."""
    dates = _daily_dates(ds)
    pfreq, _ = _period_freq(freq)
    periods = dates.to_period(pfreq)
    uniq = periods.unique().sort_values()
    labels = pd.DatetimeIndex([p.start_time for p in uniq])
    n_in_period = np.array([int((p.end_time.normalize() - p.start_time).days) + 1
                            for p in uniq])
    has_draw = "draw" in ds.dims

    order = (*_CORE_DIMS, "draw") if has_draw else _CORE_DIMS
    sites = ds["site"].values
    biomarkers = ds["biomarker"].values
    S, P, B = len(sites), len(uniq), len(biomarkers)
    D = ds.sizes["draw"] if has_draw else 0

    # The sampled-day mask comes from the first variable and must agree across variables.
    first = ds[names[0]].transpose(*order, missing_dims="ignore").values.astype(float)
    sampled = _sampled_mask(first, has_draw, names[0])
    n_days = np.zeros((S, P, B), dtype=int)
    for j, p in enumerate(uniq):
        n_days[:, j, :] = sampled[:, periods == p, :].sum(axis=1)

    # Student-t draws shared by every variable of a (site, biomarker, period).
    t_draws = None
    if has_draw:
        keys = [(str(s), str(b), str(lab.date())) for s in sites for lab in labels
                for b in biomarkers]
        u = keyed_uniforms(seed, "period_mean_days", keys, D).reshape(S, P, B, D)
        df = np.maximum(n_days - 1, 1)[..., None]
        np.clip(u, 1e-12, 1 - 1e-12, out=u)
        t_draws = stats.t.ppf(u, df)

    out = {}
    for name in names:
        arr = ds[name].transpose(*order, missing_dims="ignore").values.astype(float)
        mask = _sampled_mask(arr, has_draw, name)
        # a biomarker with no value at all (e.g. doses without a typical dose) stays NaN
        defined = mask.any(axis=(0, 1))
        if not np.array_equal(mask[..., defined], sampled[..., defined]):
            raise InputError(f"variable {name!r} is missing on other days than "
                             f"{names[0]!r}; aggregate them separately", column=name)
        point = arr.mean(axis=-1) if has_draw else arr
        shape = (S, P, B, D) if has_draw else (S, P, B)
        mean = np.full(shape, np.nan)
        se = np.full((S, P, B), np.nan)
        for j, p in enumerate(uniq):
            sel = periods == p
            m = mask[:, sel, :]
            n = m.sum(axis=1)
            N = n_in_period[j]
            with np.errstate(invalid="ignore", divide="ignore"):
                pt = np.where(m, point[:, sel, :], 0.0)
                ybar = pt.sum(axis=1) / n
                dev2 = np.where(m, (point[:, sel, :] - ybar[:, None, :]) ** 2, 0.0)
                s2 = dev2.sum(axis=1) / (n - 1)
                se_j = np.sqrt(np.clip(1.0 - n / N, 0.0, None) * s2 / n)
            se_j = np.where(n >= 2, se_j, np.where(n == N, 0.0, np.nan))
            se[:, j, :] = se_j
            if has_draw:
                vals = np.where(m[..., None], arr[:, sel, :, :], 0.0)
                with np.errstate(invalid="ignore", divide="ignore"):
                    ybar_d = vals.sum(axis=1) / n[..., None]
                    rel = np.where(se_j == 0.0, 0.0, se_j / np.abs(ybar))
                factor = np.maximum(1.0 + rel[..., None] * t_draws[:, j, :, :], 0.0)
                mean[:, j, :, :] = ybar_d * factor
            else:
                mean[:, j, :] = np.where(np.isfinite(se_j), ybar, np.nan)
        attrs = dict(ds[name].attrs)
        out[name] = (order, mean, attrs)
        if not has_draw:
            out[f"{name}_se_days"] = (_CORE_DIMS, se, {
                **attrs, "long_name": f"standard error of the period mean of {name} "
                "from sampling only some days"})

    coverage_ok = n_days >= min_days
    result = xr.Dataset(
        {k: xr.Variable(dims, v, attrs=a) for k, (dims, v, a) in out.items()},
        coords={"site": sites, "date": labels, "biomarker": biomarkers,
                **({"draw": ds["draw"].values} if has_draw else {})},
    )
    for cname, coord in ds.coords.items():
        if cname not in result.coords and set(coord.dims) <= {"site", "biomarker", "draw"}:
            result = result.assign_coords({cname: coord})
    result["n_days"] = (_CORE_DIMS, n_days)
    result["days_in_period"] = ("date", n_in_period)
    result["coverage_ok"] = (_CORE_DIMS, coverage_ok)
    result.attrs = {**ds.attrs, "period_freq": pfreq, "min_days": min_days,
                    "period_mean_seed": seed, "period_mean_method":
                    "mean of sampled days x (1 + relative finite-population "
                    "sampling-of-days error (Cochran 1977), Student-t with n-1 df)"}
    if warn:
        _warn_coverage(coverage_ok, n_days, sites, labels, biomarkers, min_days)
    return result


def _sampled_mask(arr: np.ndarray, has_draw: bool, name: str) -> np.ndarray:
    if not has_draw:
        return np.isfinite(arr)
    finite = np.isfinite(arr)
    all_f, any_f = finite.all(axis=-1), finite.any(axis=-1)
    if np.any(any_f & ~all_f):
        i = np.argwhere(any_f & ~all_f)[0]
        raise InputError(f"variable {name!r} is NaN in some draws but not in others "
                         f"(site index {i[0]}, date index {i[1]}, biomarker index {i[2]}); "
                         "a day is either sampled (finite in every draw) or not",
                         column=name)
    return all_f


def _warn_coverage(ok, n_days, sites, labels, biomarkers, min_days) -> None:
    thin = ~ok
    if not thin.any():
        return
    i, j, k = np.argwhere(thin)[0]
    warnings.warn(
        f"{int(thin.sum())} of {thin.size} (site, period, biomarker) aggregates have fewer "
        f"than {min_days} sampled days, e.g. site {sites[i]!r}, period starting "
        f"{labels[j].date()}, biomarker {biomarkers[k]!r} with {int(n_days[i, j, k])}; "
        "see the coverage_ok variable",
        CoverageWarning, stacklevel=3)


def _is_intensive(name: str, da: xr.DataArray) -> bool:
    """Rates are population-weighted means; totals (loads, users) are summed.

    ``prevalence`` (users over the reference population) is a rate too: its weighted mean is
    the exact city prevalence when the sites share one reference fraction (for example the
    share aged 15-64), and an approximation otherwise.
    """
    units = str(da.attrs.get("units", ""))
    return (name.endswith("_per_1000") or name == "prevalence"
            or "1000" in units.replace(" ", ""))


def _population_array(populations, sites, groups) -> tuple[xr.DataArray, object]:
    """Populations as a DataArray over site (and maybe draw), plus the groups mapping."""
    file = "populations"
    if isinstance(populations, pd.DataFrame):
        frame = populations
        if "site" in frame.columns:
            frame = frame.set_index("site")
        if "population" not in frame.columns:
            raise InputError("the sites table has no 'population' column", file=file)
        if isinstance(groups, str):
            if groups not in frame.columns:
                raise InputError(f"the sites table has no {groups!r} column for groups",
                                 file=file, column=groups)
            groups = frame[groups]
        populations = frame["population"]
    elif isinstance(groups, str):
        raise InputError("groups given as a column name needs populations as a sites "
                         "DataFrame", column=groups)
    if isinstance(populations, Mapping):
        populations = pd.Series(populations)
    if isinstance(populations, pd.Series):
        pop = xr.DataArray(populations.astype(float).to_numpy(), dims="site",
                           coords={"site": populations.index.astype(str).to_numpy()})
    elif isinstance(populations, xr.DataArray):
        if "site" not in populations.dims:
            raise InputError("population DataArray needs a 'site' dim", file=file)
        pop = populations.astype(float)
        pop = pop.assign_coords(site=pop["site"].astype(str))
    else:
        raise InputError("populations must be a pandas Series indexed by site, a sites "
                         "DataFrame or an xarray DataArray with a 'site' dim", file=file)
    if pop.indexes["site"].has_duplicates:
        dup = pop.indexes["site"][pop.indexes["site"].duplicated()][0]
        raise InputError(f"site {dup!r} has two populations", file=file, column="site")
    missing = [s for s in sites if s not in set(pop["site"].values)]
    if missing:
        raise InputError(f"no population for site {missing[0]!r}"
                         + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""),
                         file=file, column="population", value=missing[0])
    pop = pop.sel(site=list(sites))
    bad = ~(np.isfinite(pop.values) & (pop.values > 0))
    if bad.any():
        s = pop["site"].values[np.argwhere(bad)[0][0]]
        raise InputError(f"population of site {s!r} must be positive and finite",
                         file=file, column="population")
    return pop, groups


def aggregate_sites(ds: xr.Dataset, populations, groups=None, *,
                    variables=None) -> xr.Dataset:
    """Population-weighted city or region aggregates over several plants, per draw.

    Parameters
    ----------
    ds : xarray.Dataset
        Per-site results with dims ``(site, date, biomarker[, draw])``.
    populations : pandas.Series, pandas.DataFrame or xarray.DataArray
        Served population per site [inhabitants]: a Series indexed by site, the sites
        table (columns ``site``, ``population``; docs/data-model.md), or a DataArray
        with dim ``site`` and optionally ``draw`` (and ``date``) — use the population
        draws of the back-calculation so that the aggregate keeps their correlation.
    groups : None, str, mapping or pandas.Series, optional
        Group of each site: ``None`` puts every site in one group ``"all"``; a column
        name of the sites table (e.g. ``"region"``); or a site -> group mapping.
    variables : str or list of str, optional
        Variables to aggregate; all numeric variables with the core dims by default.

    Returns
    -------
    xarray.Dataset
        Dims ``(group, date, biomarker[, draw])``. Extensive variables (loads,
        consumption in mg/day, users) are summed over the reporting sites; intensive
        ones (names ending ``_per_1000`` or units with "1000") are population-weighted
        means, which equals the sum of loads over the sum of populations. Also
        ``population`` (sum over reporting sites [inhabitants]), ``n_sites``
        (reporting sites), ``n_sites_total`` and, for the output of
        :func:`period_mean`, ``coverage_ok`` (every site of the group covered).
        Standard errors ``*_se_days`` are not aggregated (they do not add); aggregate
        draws instead: ``aggregate_sites(period_mean(ds_with_draws), ...)``.

    Raises
    ------
    InputError
        If a site has no positive population, groups miss a site, or ``ds`` lacks the
        core dims.

    Notes
    -----
    For a group :math:`g` with reporting sites :math:`s \\in R_g` (finite value on that
    date), per draw :math:`d`:

    .. math::

        L_g^{(d)} = \\sum_{s \\in R_g} L_s^{(d)}, \\qquad
        x_g^{(d)} = \\frac{\\sum_{s \\in R_g} x_s^{(d)} P_s^{(d)}}{\\sum_{s\\in R_g} P_s^{(d)}}
        = \\frac{1000 \\sum_s M_s^{(d)}}{\\sum_s P_s^{(d)}}

    for an intensive variable :math:`x = 1000 M / P`. Because the sum is taken draw by
    draw, parameters shared across sites (excretion, correction factor) keep their
    correlation and are not averaged away. This is the EMCDDA convention for cities
    with several plants ("population-weighted average of the STPs", EMCDDA source-data
    notes). When a site does not report on a date its population is left out of the
    denominator and the sum covers fewer people; check ``n_sites``.

    On dask-backed input the result is lazy; ``site`` is put in one chunk so that the sum
    over sites adds in the in-memory order (bitwise identical results), and a block holds
    every site of the chunk of the other dims.

    References
    ----------
    EMCDDA. Drugs in municipal wastewater in Europe: source data (general notes).
    https://www.emcdda.europa.eu/data/drugs-municipal-wastewater-europe-source-data_en

    Examples
    --------
    >>> import pandas as pd, xarray as xr
    >>> x = np.array([[[10.0]], [[30.0]]])  # two sites, one day, one biomarker
    >>> ds = xr.Dataset(
    ...     {"consumption_mg_per_day_per_1000": (("site", "date", "biomarker"), x)},
    ...     coords={"site": ["A", "B"], "date": pd.to_datetime(["2024-03-04"]),
    ...             "biomarker": ["meth"]})
    >>> city = aggregate_sites(ds, pd.Series({"A": 100_000, "B": 300_000}))
    >>> float(city["consumption_mg_per_day_per_1000"].squeeze())
    25.0
    """
    _check_dataset(ds)
    names = _variables(ds, variables)
    _check_variable_dims(ds, names)
    sites = [str(s) for s in ds["site"].values]
    ds = ds.assign_coords(site=sites)
    if any(ds[name].chunks is not None for name in names):
        # one chunk along site: the sum over sites then adds in the same order as in memory
        # (bitwise identical); memory per block is n_sites x the date/biomarker/draw chunk
        ds = ds.chunk({"site": -1})
    pop, groups = _population_array(populations, sites, groups)
    if groups is None:
        labels = pd.Series("all", index=sites)
    else:
        labels = pd.Series(groups) if isinstance(groups, Mapping) else groups
        if not isinstance(labels, pd.Series):
            raise InputError("groups must be None, a column name, a mapping or a Series")
        labels.index = labels.index.astype(str)
        missing = [s for s in sites if s not in labels.index or pd.isna(labels.get(s))]
        if missing:
            raise InputError(f"no group for site {missing[0]!r}", column="groups",
                             value=missing[0])
        labels = labels.reindex(sites).astype(str)
    group_names = sorted(labels.unique())
    member = xr.DataArray(
        np.array([[1.0 if labels[s] == g else 0.0 for s in sites] for g in group_names]),
        dims=("group", "site"), coords={"group": group_names, "site": sites})

    out = {}
    reporting = None
    for name in names:
        da = ds[name]
        finite = np.isfinite(da)
        if reporting is None:
            reporting = finite
        x0 = da.fillna(0.0)
        if _is_intensive(name, da):
            w = pop.where(finite, 0.0) if set(pop.dims) <= set(da.dims) else \
                (pop * xr.ones_like(da)).where(finite, 0.0)
            num = xr.dot(member, x0 * w, dim="site")
            den = xr.dot(member, w, dim="site")
            agg = (num / den).where(den > 0)
        else:
            tot = xr.dot(member, x0, dim="site")
            cnt = xr.dot(member, finite.astype(float), dim="site")
            agg = tot.where(cnt > 0)
        out[name] = agg.assign_attrs(da.attrs)
    if "draw" in reporting.dims:  # a day is sampled in every draw or in none
        reporting = reporting.any("draw")
    pw = (pop * xr.ones_like(reporting, dtype=float)).where(reporting, 0.0)
    result = xr.Dataset(out)
    result["population"] = xr.dot(member, pw, dim="site").assign_attrs(units="inhabitants")
    result["n_sites"] = xr.dot(member, reporting.astype(int), dim="site").astype(int)
    result["n_sites_total"] = member.sum("site").astype(int)
    if "n_censored_days" in ds.data_vars and "n_days" in ds.data_vars:  # period_mean output
        n_cens = xr.dot(member, ds["n_censored_days"].astype(float), dim="site")
        n_all = xr.dot(member, ds["n_days"].astype(float), dim="site")
        result["n_censored_days"] = n_cens.astype(int)
        result["censored_share"] = (n_cens / n_all).where(n_all > 0).assign_attrs(
            units="1", long_name="share of the sampled site-days below the LOQ")
    elif "censored" in ds.data_vars and set(ds["censored"].dims) == set(_CORE_DIMS):
        below = (ds["censored"].astype(bool) & reporting).astype(float)
        n_cens = xr.dot(member, below, dim="site")
        result["censored_share"] = (n_cens / result["n_sites"]).where(
            result["n_sites"] > 0).assign_attrs(
            units="1", long_name="share of the reporting sites below the LOQ that day")
    if "coverage_ok" in ds.data_vars:  # output of period_mean: covered only if all sites are
        thin = (~ds["coverage_ok"].astype(bool)).astype(int)
        result["coverage_ok"] = xr.dot(member, thin, dim="site") == 0
    for cname, coord in ds.coords.items():
        # only coordinates along the output dims (back_calculate's ``component`` is not one)
        if cname not in result.coords and set(coord.dims) <= set(result.dims):
            result = result.assign_coords({cname: coord})
    order = [d for d in ("group", "date", "biomarker", "draw") if d in result.dims]
    result = result.transpose(*order)
    result.attrs = {**ds.attrs, "aggregation": "sum of loads / sum of populations per draw"}
    return result


@dataclass(frozen=True)
class WeekMeans:
    """Daily, weekday and weekend means of a daily series (EMCDDA convention).

    Attributes
    ----------
    daily_mean : float
        Mean over all available days [unit of the series].
    weekday_mean : float
        Mean over available Tuesdays, Wednesdays and Thursdays.
    weekend_mean : float
        Mean over available Fridays, Saturdays, Sundays and Mondays.
    n_days, n_weekday, n_weekend : int
        Number of available (non-missing) days in each mean.
    """

    daily_mean: float
    weekday_mean: float
    weekend_mean: float
    n_days: int
    n_weekday: int
    n_weekend: int

    def to_series(self) -> pd.Series:
        """The six fields as a pandas Series."""
        return pd.Series({k: getattr(self, k) for k in self.__dataclass_fields__})


_WEEKDAY = (1, 2, 3)  # Tuesday, Wednesday, Thursday (Monday == 0)
_WEEKEND = (4, 5, 6, 0)  # Friday, Saturday, Sunday, Monday


def week_means(series: pd.Series) -> WeekMeans:
    """Daily, weekday and weekend means exactly as the EMCDDA/EUDA publishes them.

    Parameters
    ----------
    series : pandas.Series
        Daily values with a DatetimeIndex; the date is the start day of each 24-h
        composite (e.g. loads [mg/day/1000 inhabitants]). NaN marks a missing day.

    Returns
    -------
    WeekMeans
        ``daily_mean`` over all available days, ``weekday_mean`` over Tuesday,
        Wednesday and Thursday, ``weekend_mean`` over Friday, Saturday, Sunday and
        Monday, with the number of days behind each (NaN where no day is available).

    Raises
    ------
    InputError
        If the index is not a DatetimeIndex, holds a date twice or times of day.

    Notes
    -----
    The EMCDDA source-data notes of the European wastewater study: "Weekday means are
    averages of Tuesdays, Wednesdays and Thursdays. Weekend means are averages of
    Fridays, Saturdays, Sundays and Mondays. [...] In case data is missing for a day,
    the averages are calculated over non-missing observations." Monday belongs to the
    weekend because a 24-h composite started on Monday morning still collects the tail
    of weekend use excreted over the following day(s), and Friday because use starts on
    Friday evening. The EMCDDA tables report values below the LOQ as zero; pass them
    as such to reproduce published figures. A series of several weeks is averaged over
    all its days; call once per campaign week for the published per-week figures.

    References
    ----------
    EMCDDA. Drugs in municipal wastewater in Europe: source data, general notes on the
    data. https://www.emcdda.europa.eu/data/drugs-municipal-wastewater-europe-source-data_en

    Castiglioni S, Thomas KV, Kasprzyk-Hordern B, Vandam L, Griffiths P. 2014. Testing
    wastewater to detect illicit drugs: state of the art, potential and research needs.
    Sci Total Environ 487:613-620. doi:10.1016/j.scitotenv.2013.10.034 (verified; the
    issue cites it as Addiction).

    Examples
    --------
    >>> s = pd.Series([10.0, 4.0, 5.0, 6.0, 12.0, 14.0, 16.0],
    ...               index=pd.date_range("2024-03-11", periods=7))  # Monday..Sunday
    >>> m = week_means(s)
    >>> m.daily_mean, m.weekday_mean, m.weekend_mean
    (9.571428571428571, 5.0, 13.0)
    """
    if not isinstance(series, pd.Series):
        raise InputError(f"expected a pandas Series, got {type(series).__name__}")
    if not isinstance(series.index, pd.DatetimeIndex):
        raise InputError("the series needs a DatetimeIndex of sampling days", column="date")
    idx = series.index
    if idx.hasnans:
        raise InputError("the series index has missing dates", column="date")
    if idx.has_duplicates:
        dup = idx[idx.duplicated()][0]
        raise InputError(f"date {dup.date()} appears twice", column="date", value=str(dup))
    if not (idx == idx.normalize()).all():
        raise InputError("index must hold days, not times of day", column="date")
    try:
        values = series.to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError("series values must be numbers") from exc
    ok = np.isfinite(values)
    dow = idx.day_of_week.to_numpy()

    def _mean(sel):
        sel = sel & ok
        n = int(sel.sum())
        return (float(values[sel].mean()) if n else float("nan")), n

    daily, n = _mean(np.ones(len(values), dtype=bool))
    weekday, n_wd = _mean(np.isin(dow, _WEEKDAY))
    weekend, n_we = _mean(np.isin(dow, _WEEKEND))
    return WeekMeans(daily, weekday, weekend, n, n_wd, n_we)


def ratio_draws(ds: xr.Dataset, variable: str, numerator, denominator) -> xr.DataArray:
    r"""Ratio of two selections of a variable, draw by draw (city-to-city, month-to-month).

    Parameters
    ----------
    ds : xarray.Dataset
        Result of :func:`wbe.backcalc.back_calculate`, :func:`period_mean` or
        :func:`aggregate_sites` with a ``draw`` dimension.
    variable : str
        Variable to compare, e.g. ``"consumption_mg_per_day_per_1000"``.
    numerator, denominator : mapping
        ``xarray`` selections (``ds.sel(**selection)``) of the two things compared, e.g.
        ``{"date": "2024-02-01"}`` and ``{"date": "2024-01-01"}`` (a month against the
        previous one) or ``{"group": "A"}`` and ``{"group": "B"}`` (two cities). Each
        selected dimension is dropped; the others are kept and must agree.

    Returns
    -------
    xarray.DataArray
        The ratio per draw, dims of the remaining selection plus ``draw`` [ratio].

    Raises
    ------
    InputError
        Without a ``draw`` dimension, for an unknown variable, or for selections that
        leave different dimensions.

    Notes
    -----
    Draws of each uncertain component are keyed by (seed, component, key)
    (``wbe._draws``): the same draw index uses the same value of every component that
    both sides share, so those factors cancel in the ratio exactly, draw by draw, and
    only the others widen it:

    - **same site, two periods** (trend): the correction factor, its parameter-set choice
      under ``parameters="mixture"``, half-life, typical dose and doses per user (global
      per biomarker), and the population and residence time (per site) cancel; sampling,
      chemical analysis, censoring (per sample), flow (per site-day) and the
      sampling-of-days error of :func:`period_mean` (per site, biomarker and period) do not.
    - **two sites or cities, same period and biomarker** (ranking): the correction factor,
      set choice, half-life, typical dose and doses per user cancel; population,
      residence time, and all measurement components do not.
    - **two biomarkers**: nothing global cancels; flow (same site-day) and population
      (same site) do.

    A ratio of medians, or of intervals computed separately, would count the shared
    components twice: a 2x disagreement of published excretion factors says nothing about
    whether consumption rose from one month to the next.

    Examples
    --------
    >>> import pandas as pd
    >>> x = np.array([[[[10.0, 20.0]], [[15.0, 30.0]]]])  # site, date, biomarker, draw
    >>> ds = xr.Dataset({"consumption_mg_per_day_per_1000": (
    ...     ("site", "date", "biomarker", "draw"), x)}, coords={"site": ["A"],
    ...     "date": pd.to_datetime(["2024-01-01", "2024-02-01"]), "biomarker": ["meth"]})
    >>> r = ratio_draws(ds, "consumption_mg_per_day_per_1000", {"date": "2024-02-01"},
    ...                 {"date": "2024-01-01"})
    >>> r.squeeze().values.tolist()  # the shared factor 2 of draw 1 cancels
    [1.5, 1.5]
    """
    if not isinstance(ds, xr.Dataset) or variable not in ds.data_vars:
        raise unknown_name_error("variable", variable,
                                 list(ds.data_vars) if isinstance(ds, xr.Dataset) else [])
    da = ds[variable]
    if "draw" not in da.dims:
        raise InputError(f"variable {variable!r} has no draw dimension; ratios draw by draw "
                         "need Monte Carlo draws (method='montecarlo')", column=variable)
    try:
        num = da.sel(**dict(numerator))
        den = da.sel(**dict(denominator))
    except (KeyError, ValueError, TypeError) as exc:
        raise InputError(f"selection not found in {variable!r}: {exc}",
                         column=variable) from None
    if set(num.dims) != set(den.dims):
        raise InputError(f"numerator dims {num.dims} and denominator dims {den.dims} differ")
    drop = [c for c in set(num.coords) | set(den.coords)
            if c not in num.dims and c not in ("drug",)]
    num, den = num.drop_vars(drop, errors="ignore"), den.drop_vars(drop, errors="ignore")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    out.name = f"ratio_{variable}"
    out.attrs = {"units": "1", "long_name": f"ratio of {variable}, draw by draw",
                 "numerator": repr(dict(numerator)), "denominator": repr(dict(denominator))}
    return out


def ratio_summary(ratio: xr.DataArray, levels=(0.5, 0.95)) -> pd.DataFrame:
    """Median and central intervals of :func:`ratio_draws` output, one row per cell.

    Parameters
    ----------
    ratio : xarray.DataArray
        Result of :func:`ratio_draws` (with a ``draw`` dimension).
    levels : sequence of float, default (0.5, 0.95)
        Central interval probabilities, each in (0, 1).

    Returns
    -------
    pandas.DataFrame
        One column per remaining dimension, then ``median``, ``lower_<100 level>``,
        ``upper_<100 level>`` (empirical quantiles of the draws, ``inf`` where the
        denominator is 0 in enough draws) and ``p_above_1`` (share of draws with a ratio
        above 1).

    Examples
    --------
    >>> r = xr.DataArray(np.array([[0.9, 1.1, 1.2, 1.3]]), dims=("site", "draw"),
    ...                  coords={"site": ["A"]})
    >>> ratio_summary(r, levels=(0.5,))["p_above_1"].tolist()
    [0.75]
    """
    levels = tuple(float(x) for x in levels)
    if not all(0 < x < 1 for x in levels):
        raise InputError(f"levels must be in (0, 1), got {levels!r}")
    if "draw" not in ratio.dims:
        raise InputError("ratio has no draw dimension")
    # empirical quantiles without interpolation: a ratio that is infinite in some draws
    # (a denominator drawn at 0) gives an infinite bound, not NaN
    def q(p):
        return ratio.quantile(p, "draw", method="inverted_cdf")

    cols = {"median": q(0.5)}
    for lev in levels:
        cols[f"lower_{100 * lev:g}"] = q(0.5 - lev / 2)
        cols[f"upper_{100 * lev:g}"] = q(0.5 + lev / 2)
    cols["p_above_1"] = (ratio > 1).mean("draw")
    frame = xr.Dataset({k: v.drop_vars("quantile", errors="ignore") for k, v in cols.items()})
    out = frame.to_dataframe()
    out = out[list(cols)]
    return out.reset_index()
