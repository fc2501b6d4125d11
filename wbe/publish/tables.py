"""Monthly publication tables: estimates per site and city with changes, and lab positivity.

Schemas are documented in ``docs/output-schemas.md``; every table carries a
``schema_version`` column.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import xarray as xr

from wbe.aggregate import aggregate_sites, period_mean
from wbe.errors import CoverageWarning, InputError

__all__ = [
    "ESTIMATES_SCHEMA_VERSION",
    "POSITIVITY_SCHEMA_VERSION",
    "PUBLISHED_VARIABLES",
    "lab_positivity_table",
    "monthly_draws",
    "monthly_estimates",
]

#: Version of the monthly estimates table (``docs/output-schemas.md``).
ESTIMATES_SCHEMA_VERSION = "1.0"
#: Version of the lab positivity table (``docs/output-schemas.md``).
POSITIVITY_SCHEMA_VERSION = "1.0"

#: Variables published per month when present with finite values in the draws.
PUBLISHED_VARIABLES = (
    "consumption_mg_per_day_per_1000",
    "doses_per_day_per_1000",
    "users",
    "users_per_1000",
)

_UNITS = {"users_per_1000": "users/1000 inhabitants"}


def _with_users_per_1000(ds: xr.Dataset) -> xr.Dataset:
    """Add ``users_per_1000`` = users x (consumption per 1000 / consumption), per draw.

    The ratio of the two consumption variables is 1000 / population of the same draw, so
    the result uses the population drawn by the back-calculation, not the reported one.
    """
    needed = ("users", "consumption_mg_per_day", "consumption_mg_per_day_per_1000")
    if not all(v in ds for v in needed):
        return ds
    cons = ds["consumption_mg_per_day"]
    per = ds["users"] * ds["consumption_mg_per_day_per_1000"] / cons.where(cons > 0)
    per.attrs["units"] = _UNITS["users_per_1000"]
    return ds.assign(users_per_1000=per)


#: Plain names of the published variables, for notes.
_LABELS = {"consumption_mg_per_day_per_1000": "consumption (mg/day/1000 inhabitants)",
           "doses_per_day_per_1000": "doses (doses/day/1000 inhabitants)",
           "users": "users", "users_per_1000": "users per 1000 inhabitants"}
#: The registry parameters each variable needs beyond the consumption.
_NEEDS = {"doses_per_day_per_1000": ("typical_dose_mg",),
          "users": ("typical_dose_mg", "doses_per_user_per_day"),
          "users_per_1000": ("typical_dose_mg", "doses_per_user_per_day")}
_PARAMETER_WORDS = {"typical_dose_mg": "typical dose (typical_dose_mg)",
                    "doses_per_user_per_day": "number of doses per user per day "
                    "(doses_per_user_per_day)"}
_REFERENCE = "consumption_mg_per_day_per_1000"


def _missing_parameter(ds: xr.Dataset, name: str) -> list[str]:
    """Biomarkers with a finite consumption but no finite ``name`` on any day: a parameter
    is missing from the parameter set (not a coverage problem)."""
    if name == _REFERENCE or _REFERENCE not in ds or name not in ds:
        return []
    ref = np.isfinite(ds[_REFERENCE]).any(dim=[d for d in ds[_REFERENCE].dims
                                                if d != "biomarker"])
    var = np.isfinite(ds[name]).any(dim=[d for d in ds[name].dims if d != "biomarker"])
    return [str(b) for b in ds["biomarker"].values[(ref & ~var).values]]


def _unset_parameters(ds: xr.Dataset, biomarkers: list[str], needs: tuple[str, ...],
                      every: bool = False) -> list[str]:
    """Which of ``needs`` the back-calculation recorded as unset (NaN) for ``biomarkers``."""
    import json

    try:
        params = json.loads(ds.attrs.get("component_distributions", "{}"))["parameters"]
    except (KeyError, TypeError, ValueError):
        return []
    test = all if every else any
    return [p for p in needs
            if test(str(params.get(b, {}).get(p, "")).lower() == "nan" for b in biomarkers)]


def _missing_parameter_note(ds: xr.Dataset, name: str, biomarkers: list[str],
                            every: bool = False) -> str:
    """Plain-language note: ``name`` not estimated because the parameter set lacks a value."""
    # doses and doses per user come from the primary set (the "default" set of a mixture)
    pset = ds.attrs.get("dose_parameter_set") or ds.attrs.get("parameter_set")
    where = f"parameter set {str(pset)!r}" if pset else "the parameter set"
    needs = _NEEDS.get(name, ())
    unset = _unset_parameters(ds, biomarkers, needs, every) or list(needs)
    what = " or ".join(_PARAMETER_WORDS.get(p, p) for p in unset) or "a parameter it needs"
    drugs = "any drug" if every else ", ".join(biomarkers)
    return (f"{_LABELS.get(name, name)} not estimated for {drugs}: {where} has no {what} "
            f"for {'them' if every or len(biomarkers) > 1 else 'it'} (the samples are there "
            "and consumption is estimated; this is not a coverage problem)")


def _coverage_notes(m: xr.Dataset, name: str, skip: set[str], shown: int = 5) -> list[str]:
    """Months with fewer sampled days than the minimum, named in plain text."""
    ok = m["coverage_ok"].transpose("site", "date", "biomarker").values
    n = m["n_days"].transpose("site", "date", "biomarker").values
    bio = [str(b) for b in m["biomarker"].values]
    cells = [(str(m["site"].values[i]), pd.Timestamp(m["date"].values[j]).strftime("%Y-%m"),
              bio[k], int(n[i, j, k])) for i, j, k in np.argwhere(~ok) if bio[k] not in skip]
    if not cells:
        return []
    listed = "; ".join(f"{s} {b} {mo}: {d} day{'s' if d != 1 else ''}"
                       for s, mo, b, d in cells[:shown])
    more = f"; and {len(cells) - shown} more" if len(cells) > shown else ""
    min_days = m.attrs.get("min_days", "the minimum")
    return [f"{_LABELS.get(name, name)}: {len(cells)} plant-month-drug cell(s) have fewer than "
            f"{min_days} sampled days and are marked coverage_ok=False ({listed}{more})"]


def monthly_draws(daily: xr.Dataset, sites: pd.DataFrame, *, seed: int,
                  min_days: int | None = None) -> tuple[xr.Dataset, xr.Dataset, list[str]]:
    """Monthly means per site and city, keeping the draws.

    Parameters
    ----------
    daily : xarray.Dataset
        Result of :func:`wbe.backcalc.back_calculate` (``method="montecarlo"``), dims
        ``(site, date, biomarker, draw)``.
    sites : pandas.DataFrame
        Canonical sites table (``site``, ``population`` [inhabitants]).
    seed : int
        Seed of the sampling-of-days draws (:func:`wbe.aggregate.period_mean`).
    min_days : int, optional
        Minimum sampled days for a covered month [days]; default that of
        :func:`wbe.aggregate.period_mean` (4).

    Returns
    -------
    site_ds, city_ds : xarray.Dataset
        Dims ``(site|group, date, biomarker, draw)`` with ``date`` the first day of each
        month; the published variables present, ``n_days`` and ``coverage_ok``.
    messages : list of str
        Coverage warnings raised while aggregating (also recorded in the manifest).

    Raises
    ------
    InputError
        If ``daily`` has no ``draw`` dimension.
    """
    if "draw" not in daily.dims:
        raise InputError("monthly publication needs Monte Carlo draws (method='montecarlo')")
    ds = _with_users_per_1000(daily.drop_dims([d for d in daily.dims if d not in
                                               ("site", "date", "biomarker", "draw")]))
    names = [v for v in PUBLISHED_VARIABLES
             if v in ds and bool(np.isfinite(ds[v].values).any())]
    messages: list[str] = [
        _missing_parameter_note(ds, v, [str(b) for b in ds["biomarker"].values], every=True)
        for v in ("doses_per_day_per_1000", "users") if v in ds and v not in names]
    site_parts, city_parts = [], []
    for name in names:  # separately: a variable may be missing where another is not
        unset = _missing_parameter(ds, name)
        if unset:
            messages.append(_missing_parameter_note(ds, name, unset))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            m = period_mean(ds, "MS", min_days=min_days, variables=[name], seed=seed)
            c = aggregate_sites(m, sites, variables=[name])
        # the coverage warning is replaced by plain notes without the missing-parameter cells
        messages += [f"{_LABELS.get(name, name)}: {w.message}" for w in caught
                     if not issubclass(w.category, CoverageWarning)]
        messages += _coverage_notes(m, name, skip=set(unset))
        m[name].attrs["units"] = ds[name].attrs.get("units", "")
        c[name].attrs["units"] = ds[name].attrs.get("units", "")
        site_parts.append(m)
        city_parts.append(c)
    if not site_parts:
        raise InputError("no published variable has a finite value in the draws")
    site_ds = xr.merge(site_parts, compat="override", join="outer", combine_attrs="override")
    city_ds = xr.merge(city_parts, compat="override", join="outer", combine_attrs="override")
    below = ds["censored"] if "censored" in ds else None
    if below is not None:
        month = ds["date"].dt.strftime("%Y-%m")
        cens = below.groupby(month).sum("date")
        site_ds["days_below_loq"] = ("site", "date", "biomarker"), (
            cens.transpose("site", "strftime", "biomarker")
            .reindex(strftime=pd.DatetimeIndex(site_ds["date"].values).strftime("%Y-%m"))
            .values.astype(int))
    return site_ds, city_ds, messages


def _quantiles(x: np.ndarray) -> dict[str, np.ndarray]:
    probs = [0.5, 0.25, 0.75, 0.025, 0.975]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells stay NaN
        q = np.nanquantile(x, probs, axis=-1)
    allnan = ~np.isfinite(x).any(axis=-1)
    q[:, allnan] = np.nan
    return dict(zip(["median", "lower_50", "upper_50", "lower_95", "upper_95"], q, strict=True))


def _change(x: np.ndarray, lag: int, prefix: str) -> dict[str, np.ndarray]:
    """Ratio per draw of month t to month t - lag along axis 1 (dims: area, month, bm, draw)."""
    ratio = np.full_like(x, np.nan)
    if x.shape[1] > lag:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio[:, lag:] = x[:, lag:] / x[:, :-lag]
        ratio[~np.isfinite(ratio)] = np.nan
    q = _quantiles(ratio)
    valid = np.isfinite(ratio).all(axis=-1)
    prob = np.where(valid, (ratio > 1).mean(axis=-1), np.nan)
    return {f"{prefix}_ratio_median": q["median"], f"{prefix}_ratio_lower_95": q["lower_95"],
            f"{prefix}_ratio_upper_95": q["upper_95"], f"{prefix}_prob_increase": prob}


def _long(ds: xr.Dataset, area_dim: str, level: str, extra: dict) -> pd.DataFrame:
    months = pd.DatetimeIndex(ds["date"].values)
    # complete monthly axis so that lags are calendar months
    full = pd.date_range(months.min(), months.max(), freq="MS")
    ds = ds.reindex(date=full)
    frames = []
    for name in PUBLISHED_VARIABLES:
        if name not in ds:
            continue
        x = ds[name].transpose(area_dim, "date", "biomarker", "draw").values
        cols = {**_quantiles(x), **_change(x, 1, "vs_prev_month"),
                **_change(x, 12, "vs_prev_year")}
        a, t, b = np.meshgrid(np.arange(x.shape[0]), np.arange(x.shape[1]),
                              np.arange(x.shape[2]), indexing="ij")
        frame = pd.DataFrame({
            "level": level,
            "area": ds[area_dim].values[a.ravel()].astype(str),
            "month": full[t.ravel()].strftime("%Y-%m"),
            "biomarker": ds["biomarker"].values[b.ravel()].astype(str),
            "drug": ds["drug"].values[b.ravel()].astype(str),
            "variable": name,
            "units": ds[name].attrs.get("units", _UNITS.get(name, "")),
        })
        for key, value in cols.items():
            frame[key] = value.ravel()
        for key, da in extra.items():
            frame[key] = np.broadcast_to(da(ds), x.shape[:3]).ravel()
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def monthly_estimates(site_ds: xr.Dataset, city_ds: xr.Dataset, sites: pd.DataFrame,
                      month: str | None = None) -> pd.DataFrame:
    """Monthly estimates table (schema ``ESTIMATES_SCHEMA_VERSION``) per site and city x drug.

    Parameters
    ----------
    site_ds, city_ds : xarray.Dataset
        Output of :func:`monthly_draws`.
    sites : pandas.DataFrame
        Canonical sites table: ``site``, ``population`` [inhabitants], optional
        ``population_method``.
    month : str, optional
        ``"YYYY-MM"``: keep only this month (changes still use the earlier months).

    Returns
    -------
    pandas.DataFrame
        One row per level (``site``/``city``), area, month, biomarker and variable:
        ``median``, ``lower_50``, ``upper_50``, ``lower_95``, ``upper_95`` (in ``units``),
        ``samples`` (sampled days), ``days_in_month``, ``days_below_loq``, ``coverage_ok``,
        ``population`` [inhabitants], ``population_method``, and the change against the
        previous month and the same month a year before: ratio median, 95 % interval and
        probability of an increase (share of draws with ratio > 1), and ``trend_class``
        (:func:`wbe.models.trend_class` of the monthly medians up to that month:
        "sustained increase/decrease" from the last 5 months, "increase/decrease" from the
        last 3, else "plateau"; "insufficient data" with fewer than 3 months).

    Raises
    ------
    InputError
        If ``month`` is not in the data.

    Notes
    -----
    The change is computed draw by draw, :math:`r^{(d)} = \\bar Y_m^{(d)} / \\bar
    Y_{m-k}^{(d)}`, from keyed draws: parameters shared by both months (correction factor,
    dose, population) are the same in a draw and cancel in the ratio, so the interval of
    :math:`r` reflects the measurement, flow and sampling-of-days uncertainty only.
    :math:`P(\\text{increase}) = \\#\\{d: r^{(d)} > 1\\}/D`.

    The trend classes follow the CDC NWSS rules as described by Adams et al. (2024), which
    were written for series of samples; here they are applied to monthly medians, an
    adaptation of ours (not validated by the source).

    References
    ----------
    Adams C, et al. 2024. Science of the Total Environment 924:171566.
    doi:10.1016/j.scitotenv.2024.171566 (as cited by :func:`wbe.models.trend_class`;
    not re-checked here).
    """
    pop = sites.set_index(sites["site"].astype(str))
    method = (pop["population_method"] if "population_method" in pop
              else pd.Series("not given", index=pop.index))

    def site_col(series):
        return lambda ds: series.reindex(ds["site"].values.astype(str)).to_numpy()[:, None, None]

    site_extra = {
        "samples": lambda ds: ds["n_days"].fillna(0).values.astype(int),
        "days_in_month": lambda ds: pd.DatetimeIndex(ds["date"].values)
        .days_in_month.to_numpy()[None, :, None],
        "days_below_loq": (lambda ds: ds["days_below_loq"].fillna(0).values.astype(int))
        if "days_below_loq" in site_ds else (lambda ds: np.zeros(1, int)),
        "coverage_ok": lambda ds: ds["coverage_ok"].fillna(False).values.astype(bool),
        "population": site_col(pop["population"].astype(float)),
        "population_method": site_col(method.fillna("not given").astype(str)),
    }
    city_extra = {
        "samples": lambda ds: _city_sum(site_ds, "n_days", ds),
        "days_in_month": site_extra["days_in_month"],
        "days_below_loq": lambda ds: _city_sum(site_ds, "days_below_loq", ds),
        "coverage_ok": site_extra["coverage_ok"],
        "population": lambda ds: ds["population"].values,
        "population_method": lambda ds: np.array("sum of reporting sites"),
    }
    table = pd.concat([_long(site_ds, "site", "site", site_extra),
                       _long(city_ds, "group", "city", city_extra)], ignore_index=True)
    table.loc[table["level"] == "city", "area"] = "city"
    table["trend_class"] = _trend_classes(table)
    if month is not None:
        if month not in set(table["month"]):
            raise InputError(f"month {month!r} has no estimates; months present: "
                             f"{sorted(set(table['month']))}", column="month")
        table = table[table["month"] == month]
    table = table[table["median"].notna() | (table["samples"] > 0)]
    table.insert(0, "schema_version", ESTIMATES_SCHEMA_VERSION)
    return table.sort_values(["month", "level", "area", "biomarker", "variable"],
                             kind="stable").reset_index(drop=True)


def _trend_classes(table: pd.DataFrame) -> np.ndarray:
    """:func:`wbe.models.trend_class` of the monthly medians up to each month.

    Months are taken in calendar order; months without an estimate are skipped. Fewer than
    three monthly medians give ``"insufficient data"``.
    """
    from wbe.models import trend_class

    out = np.full(len(table), "insufficient data", dtype=object)
    keys = ["level", "area", "biomarker", "variable"]
    for _, g in table.groupby(keys, sort=False):
        g = g.sort_values("month")
        ok = g["median"].notna() & (g["median"] > 0)
        t = pd.PeriodIndex(g["month"], freq="M").to_timestamp()
        days = ((t - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)).to_numpy(float)
        med = g["median"].to_numpy(float)
        okv = ok.to_numpy()
        for i, idx in enumerate(g.index):
            use = okv[: i + 1]
            if okv[i] and use.sum() >= 3:
                out[table.index.get_loc(idx)] = trend_class(med[: i + 1][use],
                                                            days[: i + 1][use])
    return out


def _city_sum(site_ds: xr.Dataset, name: str, city: xr.Dataset) -> np.ndarray:
    """Sum of a per-site count over sites, aligned with the city's (group, date, biomarker)."""
    if name not in site_ds:
        return np.zeros(1, int)
    full = site_ds[name].reindex(date=city["date"].values).fillna(0).sum("site")
    return full.transpose("date", "biomarker").values.astype(int)[None]


def lab_positivity_table(summary: pd.DataFrame, *, threshold: int = 5,
                         by=("group", "month", "drug"), matrix: str | None = None
                         ) -> pd.DataFrame:
    """Lab positivity per cell with small cells suppressed (schema ``POSITIVITY_SCHEMA_VERSION``).

    Parameters
    ----------
    summary : pandas.DataFrame
        ``Classification.summary`` of :func:`wbe.lab.classify` (one row per sample and
        drug, ``classification`` positive/negative/inconclusive, ``subject_key``).
    threshold : int, default 5
        Counts 1..threshold-1 are suppressed (:func:`wbe.lab.suppress_small_cells`),
        and so are cells whose negatives (``tested - positive``, published implicitly)
        number 0..threshold-1 while some are positive [persons].
    by : sequence of str
        Cell columns.
    matrix : str, optional
        Written in a ``matrix`` column (hair/urine).

    Returns
    -------
    pandas.DataFrame
        ``schema_version, matrix`` + ``by`` + ``tested, positive, inconclusive,
        positivity, lower_95, upper_95, suppressed`` (counts nullable, suppressed cells
        ``<NA>``; see ``docs/output-schemas.md``).

    Notes
    -----
    The negatives are a cell of the table too: a reader computes them as
    ``tested - positive``. "6 of 7 positive" tells that one person tested negative and
    "5 of 5" that every member of the group tested positive, so a cell is suppressed when
    either the positives or the negatives are in 1..threshold-1, and also when the
    negatives are 0 while some are positive (everyone positive: an attribute disclosure
    about each member, whatever the group size). The negatives then take part in the
    complementary suppression of the line ``positive + negative = tested`` and are not
    written out; ``inconclusive`` (not part of ``tested``) is suppressed on its own when
    in 1..threshold-1. A row where nobody has a decided result (``tested`` 0) shows its
    ``positive`` (0) as suppressed by this rule. See ``docs/threat-model.md``.
    """
    from wbe.lab import positivity, suppress_small_cells

    keep = summary[summary["classification"].isin(["positive", "negative", "inconclusive"])]
    pos = positivity(keep, by=tuple(by), min_cell=threshold)
    pos = pos.rename(columns={"prevalence": "positivity", "lower": "lower_95",
                              "upper": "upper_95"})
    cols = [*by, "tested", "positive", "inconclusive", "positivity", "lower_95", "upper_95"]
    pos = pos[cols]
    _refuse_identifier_labels(pos, [c for c in by if c not in ("month", "drug")])
    pos = pos.assign(negative=pos["tested"] - pos["positive"])
    # positive + negative = tested is one line; inconclusive (not in tested) stands alone
    out = suppress_small_cells(pos, ["positive", "negative"], threshold,
                               total_column="tested", suppress_zero=["negative"],
                               derived_columns=["positivity", "lower_95", "upper_95"])
    inconclusive = suppress_small_cells(pos, ["inconclusive"], threshold)
    out["inconclusive"] = inconclusive["inconclusive"]
    out["suppressed"] = [
        ",".join(c for c in [*a.split(","), *b.split(",")] if c and c != "negative")
        for a, b in zip(out["suppressed"], inconclusive["suppressed"], strict=True)]
    out = out.drop(columns="negative")
    out.insert(0, "matrix", matrix or "")
    out.insert(0, "schema_version", POSITIVITY_SCHEMA_VERSION)
    return out.reset_index(drop=True)


def _refuse_identifier_labels(table: pd.DataFrame, columns) -> None:
    """Refuse a published label (group) that looks like an ID number or a person's name."""
    from wbe.lab.privacy import looks_like_personal_identifier

    for col in columns:
        labels = pd.unique(table[col].dropna())
        bad = [v for v in labels if looks_like_personal_identifier(v)]
        if bad:
            raise InputError(
                f"{len(bad)} label(s) of column {col!r} look like a personal identifier (an "
                "ID-card number or a person's name) and would be published; use categories "
                "such as 社区康复 or drivers (the labels are not shown here)", column=col)
