"""Alert records: one versioned schema (JSON and CSV) for the output of every detector.

The schema is ``wbe/models/alert_schema.json`` (JSON Schema 2020-12), documented in
``docs/alert-schema.md``. :func:`alerts` runs a detector over every (site, biomarker) series
of a tidy table and returns one record per alarm (``status`` ``new`` or ``ongoing``) and one
``resolved`` record at the first monitored point back under the bound.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Mapping
from importlib import resources

import numpy as np
import pandas as pd

from wbe.errors import InputError, ModelError, WBEError, unknown_name_error
from wbe.models.aberration import ears, farrington
from wbe.models.cusum import cusum, ewma

__all__ = [
    "ALERT_COLUMNS",
    "ALERT_DEFAULT",
    "ALERT_METHODS",
    "ALERT_SCHEMA_VERSION",
    "RESOLVED_SEVERITY",
    "alert_id",
    "alert_schema",
    "alerts",
    "alerts_to_csv",
    "alerts_to_json",
    "severity",
]

#: Version of the alert record schema (``schema_version`` field).
ALERT_SCHEMA_VERSION = "2.0"

#: Severity of a ``resolved`` record (the point where a run of alarms ended): not an alarm,
#: so not ``low``; the ``low``/``medium``/``high`` scale of :func:`severity` is for alarms only.
RESOLVED_SEVERITY = "none"

#: Detectors usable by :func:`alerts`.
ALERT_METHODS = {"ears": ears, "farrington": farrington, "cusum": cusum, "ewma": ewma}

#: The default detector of :func:`alerts` (``method="default"`` or no method) and of
#: ``wbe publish``: an upper CUSUM on weekday-adjusted, robustly standardised log values with
#: a false-alarm budget of one per 1000 points for a known baseline. Chosen on simulated
#: daily wastewater series (``tests/models/alert_study.py``, docs/methods-aberration.md):
#: about 0.5 false new alerts per series-year, >= 90 % of 14-day doublings flagged within 7
#: days. Zero values (censored as zero) are treated as missing, and series too short for
#: the baseline are not monitored (listed in ``attrs["unmonitored"]``).
ALERT_DEFAULT: dict = {
    "method": "cusum", "k": 1.0, "arl0": 1000.0, "baseline": 56, "guard": 7,
    "spread_window": 364, "weekday_adjust": True,
}

#: Columns (fields) of an alert record, in order.
ALERT_COLUMNS = (
    "schema_version", "alert_id", "created_at", "site", "biomarker", "date", "method",
    "parameters", "observed", "expected", "upper_bound", "exceedance_ratio", "p_value",
    "severity", "direction", "status", "provisional",
)

_REQUIRED = ("site", "biomarker", "date")


def alert_id(site: str, biomarker: str, date, method: str) -> str:
    """Deterministic 16-hex-digit id: SHA-256 of ``site|biomarker|YYYY-MM-DD|method``.

    Re-running a detector on the same data gives the same ids.

    Examples
    --------
    >>> alert_id("WWTP01", "methamphetamine", "2024-05-01", "ears")
    '2c722efd2b765ddd'
    """
    day = pd.Timestamp(date).strftime("%Y-%m-%d")
    key = f"{site}|{biomarker}|{day}|{method}".encode()
    return hashlib.sha256(key).hexdigest()[:16]


def severity(exceedance_ratio) -> np.ndarray:
    """Severity from the exceedance ratio ``observed / upper_bound``.

    ``high`` if the ratio is at least 2, ``medium`` if at least 1.5, otherwise (or when
    the ratio is undefined) ``low``.

    Examples
    --------
    >>> severity([1.1, 1.6, 2.5, float("nan")]).tolist()
    ['low', 'medium', 'high', 'low']
    """
    r = np.asarray(exceedance_ratio, dtype=float)
    return np.where(r >= 2.0, "high", np.where(r >= 1.5, "medium", "low"))


def alert_schema() -> dict:
    """The JSON Schema of one alert record (a dict)."""
    text = resources.files("wbe.models").joinpath("alert_schema.json").read_text("utf-8")
    return json.loads(text)


def _check_table(table: pd.DataFrame, value_column: str) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise InputError("series_table: expected a pandas DataFrame with columns site, "
                         f"biomarker, date, {value_column}")
    missing = [c for c in (*_REQUIRED, value_column) if c not in table.columns]
    if missing:
        raise InputError(f"missing column(s) {missing}; expected site, biomarker, date, "
                         f"{value_column}", file="series_table", column=missing[0])
    df = table[[*_REQUIRED, value_column]].copy()
    df["_row"] = np.arange(len(df)) + 2  # spreadsheet rows
    dates = pd.to_datetime(df["date"], errors="coerce")
    bad = dates.isna()  # missing or not a date
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError("expected a date", file="series_table", row=int(df["_row"].iloc[i]),
                         column="date", value=df["date"].iloc[i])
    df["date"] = dates.dt.normalize()
    values = pd.to_numeric(df[value_column], errors="coerce")
    bad = values.isna() & df[value_column].notna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError("expected a number", file="series_table", row=int(df["_row"].iloc[i]),
                         column=value_column, value=df[value_column].iloc[i])
    df[value_column] = values
    dup = df.duplicated(["site", "biomarker", "date"], keep="first")
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError("duplicate (site, biomarker, date); aggregate first",
                         file="series_table", row=int(df["_row"].iloc[i]), column="date")
    return df


def _records(site, biomarker, res: pd.DataFrame, dates, method, params, created_at, last_date):
    alarm = res["alarm"].to_numpy(bool)
    upper = res["upperbound"].to_numpy(float)
    monitored = ~np.isnan(upper)
    out = []
    in_run = False
    for i in np.flatnonzero(monitored | alarm):
        if alarm[i]:
            status = "ongoing" if in_run else "new"
            in_run = True
        elif in_run:
            status, in_run = "resolved", False
        else:
            continue
        obs = float(res["observed"].iloc[i])
        exp = res["expected"].iloc[i]
        ub = float(upper[i])
        ratio = obs / ub if np.isfinite(ub) and ub > 0 else np.nan
        pval = res["pvalue"].iloc[i] if "pvalue" in res.columns else np.nan
        out.append({
            "schema_version": ALERT_SCHEMA_VERSION,
            "alert_id": alert_id(site, biomarker, dates[i], method),
            "created_at": created_at,
            "site": str(site), "biomarker": str(biomarker),
            "date": dates[i].strftime("%Y-%m-%d"),
            "method": method, "parameters": params,
            "observed": obs,
            "expected": None if pd.isna(exp) else float(exp),
            "upper_bound": None if np.isnan(ub) else ub,
            "exceedance_ratio": None if np.isnan(ratio) else float(ratio),
            "p_value": None if pd.isna(pval) else float(pval),
            # a resolved record ends an alarm: it has no severity of its own
            "severity": RESOLVED_SEVERITY if status == "resolved" else str(severity(ratio)),
            "direction": "increase",
            "status": status,
            "provisional": bool(dates[i] >= last_date),
        })
    return out


def alerts(
    series_table: pd.DataFrame,
    method: str = "default",
    *,
    value_column: str = "value",
    created_at: str | pd.Timestamp | None = None,
    provisional_days: int = 0,
    **params,
) -> pd.DataFrame:
    """Run a detector on every (site, biomarker) series and return alert records.

    Parameters
    ----------
    series_table : pandas.DataFrame
        Tidy table with columns ``site``, ``biomarker``, ``date`` and ``value_column``
        (one row per site, biomarker and date; the unit is that of the series, e.g. ng/L or
        mg/day/1000 inhabitants). Each series is sorted by date and analysed as the
        sequence of its observations (missing days are not filled in). NaN values (e.g.
        censored samples) stay in the sequence: they never alarm; EARS bounds whose
        baseline contains one are NaN, Farrington fits on the remaining baseline points,
        CUSUM/EWMA baselines use the available points.
    method : {"default", "ears", "farrington", "cusum", "ewma"}, default "default"
        Detector; ``params`` are passed to it (the EARS variant is ``ears_method``).
        "default" is :data:`ALERT_DEFAULT` (a tuned CUSUM; ``params`` override its
        settings); "cusum"/"ewma" alone use the plain chart defaults.
    value_column : str, default "value"
        Column holding the monitored values.
    created_at : str or pandas.Timestamp, optional
        Creation time written in every record (ISO 8601, UTC); default now. Pass a fixed
        value for byte-identical re-runs.
    provisional_days : int, default 0
        Records dated within this many days before the last date of their series, and
        those on the last date, are ``provisional`` (late samples may still change them)
        [days].
    **params
        Detector parameters (see :func:`wbe.models.ears`, :func:`wbe.models.farrington`,
        :func:`wbe.models.cusum`, :func:`wbe.models.ewma`); ``ears_method`` selects the
        EARS variant; ``weekday_adjust=True`` (cusum, ewma) passes the day of the week of
        each date so that the baseline's weekday pattern is removed; ``arl0`` (cusum, ewma)
        sets the threshold from a false-alarm budget (in-control average run length).

    Returns
    -------
    pandas.DataFrame
        One row per record with the fields :data:`ALERT_COLUMNS` (``parameters`` a dict),
        sorted by site, biomarker and date; ``attrs["schema_version"]``.

    Raises
    ------
    wbe.errors.UnknownNameError
        For an unknown ``method``.
    wbe.errors.InputError
        For a missing column, a bad date or value (naming the row), duplicate rows, or a
        ``created_at`` that is not an ISO 8601 time.

    Notes
    -----
    Severity of an alarm (``new``, ``ongoing``; :func:`severity`): ``high`` when
    observed >= 2 x upper bound, ``medium`` when >= 1.5 x, else ``low``; a ``resolved``
    record has severity ``none`` (:data:`RESOLVED_SEVERITY`). Status: ``new`` for the
    first alarm of a run, ``ongoing`` for the next consecutive alarms, ``resolved`` for
    the first monitored point without an alarm after a run. Ids: :func:`alert_id`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from wbe.models import alerts
    >>> v = [10, 12, 11, 9, 10, 13, 11, 30, 31, 11]
    >>> t = pd.DataFrame({"site": "WWTP01", "biomarker": "methamphetamine",
    ...                   "date": pd.date_range("2024-05-01", periods=10), "value": v})
    >>> a = alerts(t, "ears", created_at="2024-06-01T00:00:00Z")
    >>> a[["date", "status", "severity"]].to_numpy().tolist()
    [['2024-05-08', 'new', 'medium'], ['2024-05-09', 'resolved', 'none']]
    """
    is_default = method == "default"
    if is_default:
        params = {**{k: v for k, v in ALERT_DEFAULT.items() if k != "method"}, **params}
        method = ALERT_DEFAULT["method"]
    if method not in ALERT_METHODS:
        raise unknown_name_error("alert method", method, ("default", *ALERT_METHODS))
    df = _check_table(series_table, value_column)
    created_s = _created_at(created_at)
    detector = ALERT_METHODS[method]
    kwargs = dict(params)
    if method == "ears" and "ears_method" in kwargs:
        kwargs["method"] = kwargs.pop("ears_method")
    weekday_adjust = bool(kwargs.pop("weekday_adjust", False))
    if weekday_adjust and method not in ("cusum", "ewma"):
        raise InputError(f"weekday_adjust is only available for cusum and ewma, not {method!r}")
    records = []
    unmonitored = []
    used: Mapping[str, object] = {}
    for (site, biomarker), g in df.groupby(["site", "biomarker"], sort=True):
        g = g.sort_values("date")
        values = g[value_column].to_numpy(float)
        dates = pd.DatetimeIndex(g["date"])
        if is_default:
            values = np.where(values == 0.0, np.nan, values)  # censored as zero: missing
            if values.size <= kwargs["baseline"] + kwargs["guard"]:
                unmonitored.append((str(site), str(biomarker)))
                continue
        if weekday_adjust:
            kwargs["weekday"] = dates.day_of_week.to_numpy()
        try:
            res = detector(values, **kwargs)
        except InputError as exc:
            raise InputError(f"series site={site!r}, biomarker={biomarker!r}: {exc}",
                             file="series_table", column=value_column) from None
        except WBEError as exc:
            raise type(exc)(f"series site={site!r}, biomarker={biomarker!r}: {exc}") from exc
        except (ArithmeticError, ValueError, RuntimeError, np.linalg.LinAlgError) as exc:
            raise ModelError(f"{method} failed on series site={site!r}, "
                             f"biomarker={biomarker!r}: {type(exc).__name__}: {exc}") from exc
        used = {k: (list(v) if isinstance(v, tuple) else v) for k, v in res.attrs.items()
                if k not in ("reference", "detector", "z", "limit")}
        last = dates.max() - pd.Timedelta(days=provisional_days)
        records += _records(site, biomarker, res, dates, method, dict(used), created_s, last)
    out = pd.DataFrame(records, columns=list(ALERT_COLUMNS))
    out.attrs["schema_version"] = ALERT_SCHEMA_VERSION
    out.attrs["unmonitored"] = unmonitored
    return out


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]|$)")


def _created_at(created_at) -> str:
    """``created_at`` as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC); now if None."""
    if created_at is None:
        created = pd.Timestamp.now(tz="UTC")
    else:
        expected = ("an ISO 8601 time such as '2025-01-01T00:00:00Z' (or None for now), "
                    f"got {created_at!r}")
        if isinstance(created_at, str):
            if not _ISO_DATE.match(created_at.strip()):
                raise InputError(f"created_at must be {expected}", column="created_at")
        elif not isinstance(created_at, dt.date | np.datetime64):  # Timestamp is a date
            raise InputError(f"created_at must be {expected}", column="created_at")
        try:
            created = pd.Timestamp(created_at)
        except (ValueError, TypeError, OverflowError):
            raise InputError(f"created_at must be {expected}", column="created_at") from None
        if pd.isna(created):
            raise InputError(f"created_at must be {expected}", column="created_at")
        created = created.tz_localize("UTC") if created.tzinfo is None else created
    return created.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def alerts_to_json(records: pd.DataFrame) -> str:
    """Serialise alert records to a JSON array (UTF-8 text, keys in schema order).

    NaN and missing values become ``null``.

    Raises
    ------
    wbe.errors.InputError
        For an infinite value (JSON has none), naming the record and the field.
    """
    rows = [{k: _plain(r[k]) for k in ALERT_COLUMNS} for r in records.to_dict("records")]
    for i, row in enumerate(rows):
        for key, value in row.items():
            if isinstance(value, float) and math.isinf(value):
                raise InputError(f"alert record {row.get('alert_id')!r} (site "
                                 f"{row.get('site')!r}, date {row.get('date')}) has an "
                                 f"infinite {key}; JSON holds only finite numbers",
                                 file="alerts", row=i + 2, column=key)
    return json.dumps(rows, ensure_ascii=False, indent=1, allow_nan=False)


def alerts_to_csv(records: pd.DataFrame, path=None) -> str | None:
    """Write alert records as CSV (``parameters`` as a JSON object string, empty = null).

    Returns the CSV text when ``path`` is None, else writes UTF-8 to ``path``.
    """
    flat = records.copy()
    flat["parameters"] = [json.dumps(_plain(p), sort_keys=True) for p in flat["parameters"]]
    return flat.to_csv(path, index=False, columns=list(ALERT_COLUMNS), lineterminator="\n")


def _plain(v):
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and np.isnan(v):
        return None
    return v
