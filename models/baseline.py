"""Site-relative level: the current value against the site's own versioned baseline.

A baseline is a low percentile (default the 10th) of a series' values over the previous 12
months, as in the CDC NWSS wastewater viral activity level. Baselines are versioned: computing
one again appends a new version, old versions are kept, and every result row records the
version it used; a baseline is only applied to observations on or after the day it was
computed, never back-applied to history. See ``docs/methods-timeseries.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from wbe.errors import InputError

__all__ = ["BASELINE_COLUMNS", "compute_baseline", "history_percentile", "site_relative_level"]

#: Columns of a baseline table (after the series key columns).
BASELINE_COLUMNS: tuple[str, ...] = (
    "baseline_version",
    "as_of",
    "window_start",
    "window_end",
    "percentile",
    "baseline_value",
    "n_values",
)


def _check_table(table: pd.DataFrame, cols: Sequence[str], name: str) -> None:
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"{name}: expected a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise InputError(f"missing columns {missing}", file=name)


def _values(table: pd.DataFrame, value: str, name: str) -> np.ndarray:
    v = pd.to_numeric(table[value], errors="coerce").to_numpy(float)
    not_number = np.isnan(v) & table[value].notna().to_numpy()  # text is not "missing"
    bad = np.flatnonzero(~(v > 0) & ~np.isnan(v) | np.isinf(v) | not_number)
    if bad.size:
        raise InputError(
            "expected a positive number",
            file=name,
            row=int(bad[0]) + 2,
            column=value,
            value=table[value].iloc[bad[0]],
        )
    return v


def compute_baseline(
    history: pd.DataFrame,
    as_of,
    *,
    value: str = "consumption_mg_per_day_per_1000",
    series: Sequence[str] = ("site", "biomarker"),
    date: str = "date",
    percentile: float = 10.0,
    window_days: int = 365,
    min_values: int = 10,
    previous: pd.DataFrame | None = None,
) -> pd.DataFrame:
    r"""Compute a new baseline version for every series and append it to the baseline table.

    Parameters
    ----------
    history : pandas.DataFrame
        Tidy table with ``series`` columns, ``date`` and ``value`` [e.g. mg/day/1000
        inhabitants]; NaN values are ignored (and not counted).
    as_of : date-like
        Day the baseline is computed; it uses ``(as_of - window_days, as_of]``.
    value, series, date : str
        Column names.
    percentile : float
        Percentile of the window values [%] (CDC NWSS: 10).
    window_days : int
        Look-back window [day] (CDC NWSS: 12 months).
    min_values : int
        Minimum number of values in the window.
    previous : pandas.DataFrame, optional
        Existing baseline table; new rows get version ``max(previous version) + 1`` per
        series and the old rows are kept unchanged.

    Returns
    -------
    pandas.DataFrame
        ``series`` columns + :data:`BASELINE_COLUMNS`, previous rows first.

    Raises
    ------
    InputError
        Missing columns, non-positive values, fewer than ``min_values`` in a window, a new
        ``as_of`` not later than the series' latest baseline.

    Notes
    -----
    The baseline is the type-7 (linear interpolation) sample percentile of the values in the
    window (Hyndman & Fan 1996), the same as ``numpy.percentile`` and R ``quantile``.

    References
    ----------
    CDC (2024). *Wastewater viral activity level (WVAL) methodology*. National Wastewater
    Surveillance System. https://www.cdc.gov/nwss/about-data.html (the 10th percentile
    over 12 months; the page later moved to a 24-month window).
    Hyndman, R. J., & Fan, Y. (1996). Sample quantiles in statistical packages. *The
    American Statistician*, 50(4), 361-365. doi:10.1080/00031305.1996.10473566

    Examples
    --------
    >>> import pandas as pd
    >>> h = pd.DataFrame({"site": "A", "date": pd.date_range("2024-01-01", periods=20),
    ...                   "value": range(1, 21)})
    >>> b = compute_baseline(h, "2024-01-20", value="value", series=["site"])
    >>> b[["site", "baseline_version", "n_values"]].to_dict("records")
    [{'site': 'A', 'baseline_version': 1, 'n_values': 20}]
    >>> round(float(b["baseline_value"].iloc[0]), 6)
    2.9
    """
    series = list(series)
    _check_table(history, [*series, date, value], "history")
    vals = _values(history, value, "history")
    as_of = pd.Timestamp(as_of).normalize()
    start = as_of - pd.Timedelta(days=window_days)
    days = pd.to_datetime(history[date]).dt.normalize()
    inwin = (days > start) & (days <= as_of) & ~np.isnan(vals)
    frame = history.loc[inwin, series].copy()
    frame["_v"] = vals[inwin.to_numpy()]
    keys = history[series].drop_duplicates().sort_values(series)
    rows = []
    for key in keys.itertuples(index=False):
        sel = np.ones(len(frame), bool)
        for col, k in zip(series, key, strict=True):
            sel &= (frame[col] == k).to_numpy()
        v = frame["_v"].to_numpy()[sel]
        if v.size < min_values:
            raise InputError(
                f"series {dict(zip(series, key, strict=True))}: {v.size} values in "
                f"({start.date()}, {as_of.date()}], at least {min_values} are needed",
                file="history",
                column=value,
            )
        version = 1
        if previous is not None and len(previous):
            prev = previous
            for col, k in zip(series, key, strict=True):
                prev = prev[prev[col] == k]
            if len(prev):
                if pd.Timestamp(prev["as_of"].max()) >= as_of:
                    raise InputError(
                        f"series {dict(zip(series, key, strict=True))}: a baseline as of "
                        f"{pd.Timestamp(prev['as_of'].max()).date()} exists; a new version "
                        "must be computed on a later day",
                        file="previous",
                        column="as_of",
                    )
                version = int(prev["baseline_version"].max()) + 1
        rows.append(
            {
                **dict(zip(series, key, strict=True)),
                "baseline_version": version,
                "as_of": as_of,
                "window_start": start + pd.Timedelta(days=1),
                "window_end": as_of,
                "percentile": float(percentile),
                "baseline_value": float(np.percentile(v, percentile)),
                "n_values": int(v.size),
            }
        )
    new = pd.DataFrame(rows, columns=[*series, *BASELINE_COLUMNS])
    if previous is not None and len(previous):
        _check_table(previous, [*series, *BASELINE_COLUMNS], "previous")
        return pd.concat([previous, new], ignore_index=True)
    return new


def history_percentile(history_values, current: float) -> float:
    """Percentile rank of ``current`` among ``history_values``: ``100 * mean(history <= x)``.

    Parameters
    ----------
    history_values : array_like
        Earlier values of the series [any unit]; NaN ignored.
    current : float
        Current value [same unit].

    Returns
    -------
    float
        Empirical distribution function at ``current`` [%] (NaN without history).

    Examples
    --------
    >>> history_percentile([1, 2, 3, 4], 3)
    75.0
    """
    h = np.asarray(history_values, dtype=float)
    h = h[~np.isnan(h)]
    if h.size == 0:
        return float("nan")
    return float(100.0 * np.mean(h <= current))


def site_relative_level(
    current: pd.DataFrame,
    baselines: pd.DataFrame,
    history: pd.DataFrame | None = None,
    *,
    value: str = "consumption_mg_per_day_per_1000",
    series: Sequence[str] = ("site", "biomarker"),
    date: str = "date",
    history_days: int = 365,
) -> pd.DataFrame:
    """Express each current value relative to the baseline that was valid on its date.

    Parameters
    ----------
    current : pandas.DataFrame
        Rows to assess: ``series`` columns, ``date``, ``value``.
    baselines : pandas.DataFrame
        Table from :func:`compute_baseline` (all versions).
    history : pandas.DataFrame, optional
        Earlier values for the percentile rank (default: ``current`` itself).
    value, series, date : str
        Column names.
    history_days : int
        Look-back for the percentile rank [day]; only values strictly before the row's date.

    Returns
    -------
    pandas.DataFrame
        ``current`` with ``baseline_version``, ``baseline_as_of``, ``baseline_value``,
        ``ratio_to_baseline`` (value / baseline), ``log2_ratio_to_baseline``,
        ``history_percentile`` [%] and ``baseline_status`` (``"ok"`` or
        ``"no baseline computed on or before this date"``; such rows are kept, with NaN).

    Notes
    -----
    Each row uses the latest baseline version whose ``as_of`` is on or before the row's
    date; a later baseline is never applied to an earlier observation.

    Examples
    --------
    >>> import pandas as pd
    >>> h = pd.DataFrame({"site": "A", "date": pd.date_range("2024-01-01", periods=20),
    ...                   "value": range(1, 21)})
    >>> b = compute_baseline(h, "2024-01-20", value="value", series=["site"])
    >>> cur = pd.DataFrame({"site": ["A", "A"], "date": pd.to_datetime(["2024-01-10",
    ...                     "2024-01-25"]), "value": [5.8, 5.8]})
    >>> out = site_relative_level(cur, b, h, value="value", series=["site"])
    >>> out["ratio_to_baseline"].round(6).tolist()
    [nan, 2.0]
    >>> out["baseline_status"].tolist()
    ['no baseline computed on or before this date', 'ok']
    """
    series = list(series)
    _check_table(current, [*series, date, value], "current")
    _check_table(baselines, [*series, *BASELINE_COLUMNS], "baselines")
    cur_vals = _values(current, value, "current")
    hist = current if history is None else history
    _check_table(hist, [*series, date, value], "history")
    hist_vals = _values(hist, value, "history")
    hist_days = pd.to_datetime(hist[date]).dt.normalize().to_numpy()
    cur_days = pd.to_datetime(current[date]).dt.normalize()
    b_asof = pd.to_datetime(baselines["as_of"]).to_numpy()
    out = current.copy()
    version = np.full(len(current), -1, dtype=np.int64)
    b_value = np.full(len(current), np.nan)
    b_date = np.full(len(current), np.datetime64("NaT"), dtype="datetime64[ns]")
    pct = np.full(len(current), np.nan)
    for i in range(len(current)):  # rows are few (monthly releases); clarity over speed
        key = current.iloc[i][series]
        day = cur_days.iloc[i].to_datetime64()
        bsel = np.ones(len(baselines), bool)
        hsel = np.ones(len(hist), bool)
        for col in series:
            bsel &= (baselines[col] == key[col]).to_numpy()
            hsel &= (hist[col] == key[col]).to_numpy()
        bsel &= b_asof <= day
        if bsel.any():
            j = np.flatnonzero(bsel)[np.argmax(b_asof[bsel])]
            version[i] = int(baselines["baseline_version"].iloc[j])
            b_value[i] = float(baselines["baseline_value"].iloc[j])
            b_date[i] = b_asof[j]
        hsel &= (hist_days < day) & (hist_days >= day - np.timedelta64(history_days, "D"))
        pct[i] = history_percentile(hist_vals[hsel], cur_vals[i])
    out["baseline_version"] = pd.array(np.where(version > 0, version, 0), dtype="Int64")
    out.loc[version < 0, "baseline_version"] = pd.NA
    out["baseline_as_of"] = b_date
    out["baseline_value"] = b_value
    out["ratio_to_baseline"] = cur_vals / b_value
    out["log2_ratio_to_baseline"] = np.log2(cur_vals / b_value)
    out["history_percentile"] = pct
    out["baseline_status"] = np.where(
        version > 0, "ok", "no baseline computed on or before this date"
    )
    return out
