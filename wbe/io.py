"""Readers for wastewater input: sites (served population), samples (concentrations), flows.

Each reader takes a CSV/XLSX path or a DataFrame, validates every row, converts values to
canonical units (:mod:`wbe.units`) and returns a :class:`ReadResult` with the accepted rows
in the canonical columns of ``docs/data-model.md`` and a rejects table naming file, row,
column, value and reason. Every input row ends in ``data`` or in ``rejects``.

Problems are either **file-level** (raise :class:`~wbe.errors.InputError`: the file cannot
be read, required columns are missing, no unit is given anywhere, a wide table has an
unknown analyte column) or **row-level** (the row goes to ``rejects`` with a reason and the
other rows are kept: bad numbers, negative values, unknown unit strings in a unit column,
unknown analyte names, unparseable or ambiguous dates, duplicated keys, unknown sites).
``on_error="raise"`` turns the first row-level problem into an ``InputError`` instead.
See ``docs/input-formats.md`` for examples.

Plausibility checks warn with :class:`~wbe.errors.ImplausibleValueWarning` and keep the
row: a concentration above :data:`MAX_PLAUSIBLE_CONCENTRATION_NG_PER_L`, and (when
``sites`` with populations are given to :func:`read_flows`) a flow per inhabitant outside
:data:`PLAUSIBLE_FLOW_L_PER_PERSON_DAY`.

References
----------
.. [1] GB/T 50331-2002, 城市居民生活用水量标准 (Standard of water quantity for city's
   residential use). Ministry of Construction of the P. R. China, 2002. Table 3.0.1:
   residential water use 75-125 L/person/day (region 6) to 150-220 L/person/day
   (region 4, Guangdong, Guangxi, Hainan); overall 75-220 L/person/day. Checked against
   a transcription of the table, not the printed standard.
.. [2] Been, F., Rossi, L., Ort, C., Rudaz, S., Delémont, O., Esseiva, P. (2014).
   Population normalization with ammonium in wastewater-based epidemiology: application
   to illicit drug monitoring. Environmental Science & Technology 48(14), 8162-8169.
   https://doi.org/10.1021/es5008388 (NH4-N based population estimates were lower than
   census figures and followed weekly and holiday fluctuations: the served population is
   itself uncertain, so the per-inhabitant check only warns).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from os import PathLike

import numpy as np
import pandas as pd

from wbe._tabular import (
    ReadResult,
    Rejects,
    header_or_argument_unit,
    parse_censored,
    parse_dates,
    parse_numbers,
    read_table,
    require_columns,
    split_header_unit,
    warn_future_dates,
)
from wbe.datasets import resolve_analyte
from wbe.errors import (
    ImplausibleValueWarning,
    InputError,
    UnitError,
    UnknownNameError,
    closest_names,
    unknown_name_error,
)
from wbe.units import conversion_factor

__all__ = [
    "FLOW_COLUMNS",
    "MAX_PLAUSIBLE_CONCENTRATION_NG_PER_L",
    "PLAUSIBLE_FLOW_L_PER_PERSON_DAY",
    "POPULATION_METHODS",
    "SAMPLE_COLUMNS",
    "SITE_COLUMNS",
    "ReadResult",
    "read_flows",
    "read_samples",
    "read_sites",
    "read_workbook",
]

#: Canonical columns of :func:`read_samples` output.
SAMPLE_COLUMNS = (
    "site",
    "sampled_on",
    "biomarker",
    "concentration_ng_per_l",
    "loq_ng_per_l",
    "censored",
    "detection",
    "flag",
    "source_row",
)
#: Canonical columns of :func:`read_flows` output.
FLOW_COLUMNS = ("site", "date", "flow_m3_per_day", "source_row")
#: Canonical columns of :func:`read_sites` output (the optional ones only if present).
SITE_COLUMNS = (
    "site",
    "population",
    "population_sd",
    "population_method",
    "sampling_mode",
    "region",
    "residence_time_h",
    "design_capacity_m3_per_day",
    "domestic_fraction",
    "source_row",
)
#: Valid ``population_method`` entries (docs/data-model.md).
POPULATION_METHODS = (
    "census", "design", "nh4n", "cod", "bod5", "tn", "tp", "cotinine", "combined",
)

#: Influent concentration above which a value warns [ng/L] (1 mg/L). Project choice: the
#: highest influent concentrations of drug residues reported in WBE surveys are in the
#: µg/L range, three orders of magnitude below; a larger value is most likely a unit slip.
MAX_PLAUSIBLE_CONCENTRATION_NG_PER_L = 1e6

#: Daily influent flow per served inhabitant outside this range warns [L/person/day].
#: Residential water use in China is 75-220 L/person/day (GB/T 50331-2002, table 3.0.1
#: [1]_); sewer inflow adds infiltration, storm water and non-domestic water and the
#: served population is uncertain [2]_, hence the wide band. The bounds are a project
#: choice, not a published table.
PLAUSIBLE_FLOW_L_PER_PERSON_DAY = (50.0, 1000.0)

_ON_ERROR = ("reject", "raise")
_TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls")
_LAYOUTS = ("long", "wide")


# --------------------------------------------------------------------------- helpers


def _check_choice(kind: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise unknown_name_error(kind, value, valid)


def _orig(frame: pd.DataFrame, canonical: str) -> str:
    return frame.attrs.get("original_columns", {}).get(canonical, canonical)


def _finish(data: pd.DataFrame, rejects: Rejects, label: str, on_error: str) -> ReadResult:
    if on_error == "raise":
        rejects.raise_first()
    return ReadResult(data=data.reset_index(drop=True), rejects=rejects.frame(), source=label)


def _header_or_argument_unit(frame, canonical, argument, quantity, label) -> str | None:
    """Unit given in the header (``'浓度(ng/L)'``) or as an argument; both must agree.

    The shared rule of every reader: :func:`wbe._tabular.header_or_argument_unit`."""
    return header_or_argument_unit(frame, canonical, argument, quantity, label)


def _row_factors(units: pd.Series, quantity: str, rejects: Rejects, rows, column: str):
    """Conversion factor per row (NaN where the unit is unknown; those rows are rejected)."""
    factors = np.full(len(units), np.nan)
    text = units.astype(object).where(units.notna(), None)
    for unit in pd.unique(text[text.notna()]):
        hit = (text == unit).to_numpy()
        try:
            factors[hit] = conversion_factor(unit, quantity)
        except UnitError as exc:
            rejects.add(rows[hit], column, [unit] * int(hit.sum()), exc.message)
    return factors


def _unit_factors(frame, default, quantity, rejects, bad, label, no_unit_message):
    """Factor per row from its ``unit`` cell, else ``default`` (a unit or one per row).

    Raises ``InputError(no_unit_message)`` when no row has a unit at all and there is no
    ``unit`` column; rejects rows with an empty or unknown unit (marked in ``bad``).
    """
    rows = frame["source_row"].to_numpy()
    row_unit = frame["unit"] if "unit" in frame.columns else pd.Series(None, index=frame.index)
    effective = row_unit.astype(object).where(row_unit.notna(), default)
    if "unit" not in frame.columns and effective.isna().all() and len(frame):
        raise InputError(no_unit_message, file=label)
    no_unit = effective.isna().to_numpy()
    rejects.add(rows[no_unit], _orig(frame, "unit"), [None] * int(no_unit.sum()),
                "empty unit and no unit= default given")
    bad |= no_unit
    factors = _row_factors(effective, quantity, rejects, rows, _orig(frame, "unit"))
    bad |= np.isnan(factors)
    return factors


def _site_names(sites) -> tuple[set[str] | None, pd.Series | None]:
    """Known site names and populations (if any) from a ReadResult, DataFrame or list."""
    if sites is None:
        return None, None
    if isinstance(sites, ReadResult):
        sites = sites.data
    if isinstance(sites, pd.DataFrame):
        if "site" not in sites.columns:
            raise InputError("the sites table has no 'site' column", file="sites")
        names = {str(s).strip() for s in sites["site"]}
        population = None
        if "population" in sites.columns:
            population = pd.Series(
                pd.to_numeric(sites["population"], errors="coerce").to_numpy(),
                index=sites["site"].astype(str).str.strip(),
            )
        return names, population
    if isinstance(sites, PathLike) or (
        isinstance(sites, str) and sites.lower().endswith(_TABLE_SUFFIXES)
    ):
        raise InputError(
            f"sites= got the file path {str(sites)!r}; read it first with "
            "wbe.io.read_sites(path) and pass the result (or a DataFrame, or site names)",
            file="sites",
        )
    if isinstance(sites, str):
        sites = [sites]
    if isinstance(sites, Mapping) or not isinstance(sites, Iterable):
        raise InputError(
            "sites= must be a ReadResult from read_sites, a DataFrame with a 'site' column "
            f"or an iterable of site names; got {type(sites).__name__}",
            file="sites",
        )
    names = list(sites)
    wrong = [s for s in names if not isinstance(s, str | int | np.integer)]
    if wrong:
        raise InputError(
            f"sites= must hold site names (text); got {type(wrong[0]).__name__} "
            f"{wrong[0]!r}",
            file="sites",
        )
    return {str(s).strip() for s in names}, None


def _reject_unknown_sites(frame, bad, known, rejects, column):
    if known is None:
        return
    unknown = ~frame["site"].isin(known) & frame["site"].notna() & ~bad
    for site in pd.unique(frame.loc[unknown, "site"]):
        hit = (unknown & (frame["site"] == site)).to_numpy()
        close = closest_names(site, known)
        hint = f" (closest: {', '.join(repr(c) for c in close)})" if close else ""
        rejects.add(
            frame["source_row"].to_numpy()[hit], column, [site] * int(hit.sum()),
            f"unknown site {site!r}{hint}; it is not in the sites table",
        )
        bad |= hit


def _reject_duplicates(frame, bad, keys, rejects, column, what, hint=""):
    candidates = frame.loc[~bad, [*keys, "source_row"]]
    dup = candidates.duplicated(list(keys), keep=False)
    if not dup.any():
        return
    groups = candidates[dup].groupby(list(keys), sort=False)["source_row"]
    for _, rows in groups:
        rows_list = sorted(int(r) for r in rows)
        for idx, row in zip(rows.index, rows, strict=True):
            others = ", ".join(str(r) for r in rows_list if r != row) or str(row)
            rejects.add(
                [row], column, [None],
                f"duplicated {what} ({', '.join(_key_text(frame.at[idx, k]) for k in keys)}): "
                f"also in "
                f"row(s) {others}; all copies are rejected{hint}",
            )
            bad[frame.index.get_loc(idx)] = True


def _key_text(value) -> str:
    if isinstance(value, pd.Timestamp | np.datetime64):
        return str(pd.Timestamp(value).date())
    return str(value)


def _reject_missing(frame, bad, canonical, rejects, label_column, what):
    miss = frame[canonical].isna().to_numpy() & ~bad
    if miss.any():
        rejects.add(frame["source_row"].to_numpy()[miss], label_column, [None] * int(miss.sum()),
                    f"empty {what}")
        bad |= miss


def _reject_reasons(frame, bad, reasons, canonical, rejects, column):
    has = reasons.notna().to_numpy() & ~bad
    if has.any():
        rejects.add(frame["source_row"].to_numpy()[has], column,
                    frame.loc[has, canonical].tolist(), reasons[has].tolist())
        bad |= has


def _reject_below_own_loq(frame, bad, concentration, loq, detection, rejects):
    """Reject quantified results below the LOQ given in the same row.

    A number under the row's own limit of quantification contradicts the limit: either
    the result should read ``<LOQ`` (censored) or the LOQ is wrong. The reader cannot tell
    which, so the row is rejected rather than kept as quantified or silently censored.
    """
    with np.errstate(invalid="ignore"):
        below = (
            (np.asarray(detection) == "quantified") & (loq > 0) & (concentration < loq) & ~bad
        )
    if below.any():
        values = frame.loc[below, "value"].tolist()
        reasons = [
            f"quantified value {c:g} ng/L is below its own LOQ {q:g} ng/L; write '<LOQ' "
            "if it is below the limit, or correct the LOQ"
            for c, q in zip(concentration[below], loq[below], strict=True)
        ]
        rejects.add(frame["source_row"].to_numpy()[below],
                    frame["_value_column"].to_numpy()[below], values, reasons)
        bad |= below


# --------------------------------------------------------------------------- sites


def _sampling_modes(frame, out, rows, rejects, bad) -> np.ndarray:
    """Validate the optional ``sampling_mode`` column against the registry's modes
    (``wbe.datasets.load_measurement_modes("sampling")``); an empty cell means the
    registry default. Returns the rows to reject."""
    from wbe.datasets import load_measurement_modes

    modes = list(load_measurement_modes("sampling")["mode"])
    raw = frame["sampling_mode"].astype(object).where(frame["sampling_mode"].notna(), None)
    keys = raw.map(lambda m: None if m is None or not str(m).strip()
                   else str(m).strip().lower().replace(" ", "-").replace("_", "-"))
    canonical = {m.replace("_", "-"): m for m in modes}
    mode = keys.map(lambda k: None if k is None else canonical.get(k, k))
    wrong = (keys.notna() & ~keys.isin(list(canonical))).to_numpy() & ~bad
    for m in pd.unique(raw[wrong]):
        hit = wrong & (raw == m).to_numpy()
        rejects.add(rows[hit], _orig(frame, "sampling_mode"), [m] * int(hit.sum()),
                    unknown_name_error("sampling mode", m, modes).message)
    out["sampling_mode"] = mode.to_numpy()
    return wrong


def read_sites(
    source,
    *,
    population_unit: str | None = None,
    sheet: str | int | None = None,
    skip_rows: int = 0,
    file_label: str | None = None,
    on_error: str = "reject",
) -> ReadResult:
    """Read the sites table (one row per sewage plant, 污水处理厂) with served population.

    Parameters
    ----------
    source : str, os.PathLike, pandas.DataFrame or file-like
        CSV/XLSX file, DataFrame or an open CSV file/buffer (``io.BytesIO``). Required columns
        ``site`` (污水厂, 污水处理厂) and ``population`` (服务人口); optional ``population_sd``,
        ``population_method``, ``sampling_mode`` (采样方式: flow-proportional,
        volume-proportional, time-proportional or grab; sets the default sampling
        uncertainty of :func:`wbe.back_calculate`), ``region`` (区域), ``residence_time_h`` [h],
        ``design_capacity_m3_per_day`` (设计规模) and ``domestic_fraction`` [fraction].
    population_unit : str, optional
        Unit of ``population`` and ``population_sd`` (``"万人"``, ``"thousand"``), unless
        the header carries it (``服务人口(万人)``); default inhabitants.
    sheet : str or int, optional
        Excel sheet; first sheet if omitted.
    skip_rows : int, default 0
        Title rows above the header.
    file_label : str, optional
        Name used in messages instead of the file name.
    on_error : {"reject", "raise"}, default "reject"
        Return row-level problems as rejects, or raise on the first one.

    Returns
    -------
    ReadResult
        ``data`` with columns ``site``, ``population`` [inhabitants], the optional columns
        present in the input (``population_sd`` [inhabitants], ``design_capacity_m3_per_day``
        [m³/day], ...) and ``source_row``.

    Raises
    ------
    InputError
        Missing required columns, unreadable file; with ``on_error="raise"`` the first
        row-level problem.
    UnitError
        Unknown ``population_unit`` or header unit.

    Notes
    -----
    Row-level rejects: empty site, duplicated site (all copies), population empty, not a
    number, not > 0 or below 1 inhabitant, negative ``population_sd``,
    ``residence_time_h`` or design capacity, ``domestic_fraction`` outside [0, 1], unknown
    ``population_method``; in any numeric column a text ``NaN``/``NA``/``null`` or a number
    of magnitude above 1e100 (see ``wbe._tabular.parse_numbers``).

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"污水处理厂": ["A", "B"], "服务人口(万人)": ["12.5", "-3"]})
    >>> data, rejects = read_sites(table)
    >>> data[["site", "population"]].to_dict("list")
    {'site': ['A'], 'population': [125000.0]}
    >>> rejects[["source_row", "column", "reason"]].to_numpy().tolist()
    [[3, '服务人口(万人)', 'population must be > 0']]
    """
    _check_choice("on_error policy", on_error, _ON_ERROR)
    table = read_table(source, sheet=sheet, skip_rows=skip_rows, file_label=file_label)
    label = table.attrs["source"]
    optional = [c for c in SITE_COLUMNS if c not in ("site", "population", "source_row")]
    frame = require_columns(table, ["site", "population"], label, optional=optional)
    rejects = Rejects(label)
    rows = frame["source_row"].to_numpy()
    bad = np.zeros(len(frame), dtype=bool)
    _reject_missing(frame, bad, "site", rejects, _orig(frame, "site"), "site name")
    _reject_duplicates(frame, bad, ["site"], rejects, _orig(frame, "site"), "site")

    out = pd.DataFrame({"site": frame["site"]})
    unit = _header_or_argument_unit(frame, "population", population_unit, "population", label)
    factor = conversion_factor(unit, "population") if unit else 1.0
    numeric_specs = [
        ("population", "population", factor, True),
        ("population_sd", "population", None, False),
        ("residence_time_h", None, 1.0, False),
        ("design_capacity_m3_per_day", "flow", None, False),
        ("domestic_fraction", None, 1.0, False),
    ]
    for canonical, quantity, fixed, required in numeric_specs:
        if canonical not in frame.columns:
            continue
        column = _orig(frame, canonical)
        values, reasons = parse_numbers(frame[canonical])
        _reject_reasons(frame, bad, reasons, canonical, rejects, column)
        if required:
            _reject_missing(frame, bad, canonical, rejects, column, canonical)
        if fixed is None:
            header = frame.attrs["column_units"].get(canonical)
            if canonical == "population_sd":
                fixed = (conversion_factor(header, quantity, file=label, column=column)
                         if header else factor)
            else:
                fixed = (conversion_factor(header, quantity, file=label, column=column)
                         if header else 1.0)
        values = values * fixed
        if canonical == "population":
            nonpos = (values <= 0).to_numpy() & ~bad
            rejects.add(rows[nonpos], column, frame.loc[nonpos, canonical].tolist(),
                        "population must be > 0")
            below_one = (values < 1).to_numpy() & ~bad & ~nonpos
            rejects.add(rows[below_one], column, frame.loc[below_one, canonical].tolist(),
                        "population below 1 inhabitant (check the unit: 万人 or thousands?)")
            nonpos |= below_one
        elif canonical == "domestic_fraction":
            nonpos = ((values < 0) | (values > 1)).to_numpy() & ~bad
            rejects.add(rows[nonpos], column, frame.loc[nonpos, canonical].tolist(),
                        "domestic_fraction must be between 0 and 1")
        else:
            nonpos = (values < 0).to_numpy() & ~bad
            rejects.add(rows[nonpos], column, frame.loc[nonpos, canonical].tolist(),
                        f"{canonical} must be >= 0")
        bad |= nonpos
        out[canonical] = values.to_numpy()
    if "population_method" in frame.columns:
        method = frame["population_method"].astype(object).where(
            frame["population_method"].notna(), None
        )
        method = method.map(lambda m: m if m is None else str(m).strip().lower())
        wrong = (method.notna() & ~method.isin(POPULATION_METHODS)).to_numpy() & ~bad
        for m in pd.unique(method[wrong]):
            hit = wrong & (method == m).to_numpy()
            rejects.add(rows[hit], _orig(frame, "population_method"), [m] * int(hit.sum()),
                        unknown_name_error("population method", m, POPULATION_METHODS).message)
        bad |= wrong
        out["population_method"] = method.to_numpy()
    if "sampling_mode" in frame.columns:
        bad |= _sampling_modes(frame, out, rows, rejects, bad)
    if "region" in frame.columns:
        out["region"] = frame["region"].to_numpy()
    out["source_row"] = rows
    columns = [c for c in SITE_COLUMNS if c in out.columns]
    return _finish(out.loc[~bad, columns], rejects, label, on_error)


# --------------------------------------------------------------------------- samples


def _wide_to_long(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """Melt one-column-per-analyte tables into long rows (empty cells are skipped)."""
    fixed = {"site", "sampled_on", "unit", "loq", "flag", "source_row"}
    analyte_columns = [c for c in frame.columns if c not in fixed]
    if not analyte_columns:
        raise InputError("a wide table needs at least one analyte column", file=label)
    resolved: dict[str, str] = {}
    for col in analyte_columns:
        name = split_header_unit(col)[0]
        try:
            biomarker = resolve_analyte(name, file=label, column=col)
        except UnknownNameError as exc:
            raise UnknownNameError(
                f"{exc.message}; in a wide table every column other than site, date, unit, "
                "loq and flag must be an analyte",
                file=label,
                column=col,
            ) from None
        if biomarker in resolved.values():
            other = next(k for k, v in resolved.items() if v == biomarker)
            raise InputError(
                f"columns {other!r} and {col!r} are both {biomarker!r}; keep one", file=label
            )
        resolved[col] = biomarker
    pieces = []
    for col in analyte_columns:
        piece = pd.DataFrame(
            {
                "site": frame["site"].to_numpy(),
                "sampled_on": frame["sampled_on"].to_numpy(),
                "biomarker": resolved[col],
                "value": frame[col].to_numpy(),
                "unit": frame["unit"].to_numpy() if "unit" in frame else None,
                "flag": frame["flag"].to_numpy() if "flag" in frame else None,
                "source_row": frame["source_row"].to_numpy(),
                "_value_column": col,
                "_header_unit": split_header_unit(col)[1],
                "_order": analyte_columns.index(col),
            }
        )
        pieces.append(piece)
    long = pd.concat(pieces, ignore_index=True)
    empty_rows = long.groupby("source_row")["value"].apply(lambda v: v.isna().all())
    long = long[long["value"].notna()]
    long = long.sort_values(["source_row", "_order"], kind="stable").reset_index(drop=True)
    long.attrs = dict(frame.attrs)
    long.attrs["empty_rows"] = sorted(int(r) for r in empty_rows[empty_rows].index)
    return long


def read_samples(
    source,
    *,
    sites=None,
    unit: str | None = None,
    layout: str = "long",
    dash: str = "reject",
    date_format: str | None = None,
    sheet: str | int | None = None,
    skip_rows: int = 0,
    file_label: str | None = None,
    on_error: str = "reject",
) -> ReadResult:
    """Read wastewater sample results (污水样品检测结果) into the canonical samples table.

    Parameters
    ----------
    source : str, os.PathLike, pandas.DataFrame or file-like
        CSV/XLSX file, DataFrame or an open CSV file/buffer (``io.BytesIO``). Long
        layout: columns ``site`` (污水厂), ``sampled_on`` (date, 采样日期), ``biomarker``
        (analyte, 检测物质), ``value`` (浓度, 检测结果) and optional ``unit`` (单位), ``loq``
        (定量限; in the unit of its header, ``定量限(ng/L)``, else in the unit of the value)
        and ``flag`` (备注). Wide layout: ``site``, ``sampled_on``, optional
        ``unit``/``flag`` and one column per analyte (``甲基苯丙胺(ng/L)``).
    sites : ReadResult, pandas.DataFrame or iterable of str, optional
        Known sites; rows for other sites are rejected.
    unit : str, optional
        Concentration unit for rows whose ``unit`` cell is empty (or when there is no
        ``unit`` column and no unit in the header), for example ``"ug/L"``.
    layout : {"long", "wide"}, default "long"
        One row per (site, day, analyte), or one column per analyte.
    dash : {"reject", "not_detected", "missing"}, default "reject"
        How a lone ``-`` result is read (see :func:`wbe._tabular.parse_censored`).
    date_format : str, optional
        strptime format of ``sampled_on`` (needed for ``03/05/2024``-style dates).
    sheet : str or int, optional
        Excel sheet; first sheet if omitted.
    skip_rows : int, default 0
        Title rows above the header.
    file_label : str, optional
        Name used in messages instead of the file name.
    on_error : {"reject", "raise"}, default "reject"
        Return row-level problems as rejects, or raise on the first one.

    Returns
    -------
    ReadResult
        ``data`` with columns ``site, sampled_on, biomarker, concentration_ng_per_l
        [ng/L], loq_ng_per_l [ng/L], censored, detection, flag, source_row``.
        Censored results (``<LOQ``, ``<0.5``, ``n.d.``, ``未检出``) have
        ``concentration_ng_per_l`` NaN, ``censored`` True and ``detection`` one of
        ``below_loq``, ``below_lod``, ``not_detected``; the number in ``<0.5`` becomes
        ``loq_ng_per_l`` when no ``loq`` is given.

    Raises
    ------
    InputError
        Missing required columns (the message lists missing and present columns), no
        unit anywhere, unreadable file; with ``on_error="raise"`` the first row-level
        problem.
    UnitError
        Unknown ``unit=`` argument or unit in a header.
    UnknownNameError
        Unknown analyte column in the wide layout.

    Warns
    -----
    ImplausibleValueWarning
        Concentration above :data:`MAX_PLAUSIBLE_CONCENTRATION_NG_PER_L`, or a sampling
        date after today (rows kept).

    Notes
    -----
    Unit precedence per row: the ``unit`` cell, else the unit in the value header, else
    ``unit=``. Values are multiplied by :func:`wbe.units.conversion_factor` of their unit.
    Row-level rejects: empty site/date/analyte/value, unknown unit or analyte (with the
    closest known names), non-numeric or negative value or LOQ, a text ``NaN``/``NA``/
    ``null`` or a number of magnitude above 1e100, a quantified value below the LOQ of
    its own row (write ``<LOQ``, or correct the LOQ), value above the calibration range
    (``>ULOQ``), ambiguous or impossible date or one outside 1677-09-22..2262-04-11
    (``9999-12-31``), unknown site, and
    duplicated (site, sampled_on, biomarker) keys, all copies rejected since the reader
    cannot know which is right. In the wide layout an empty cell means "not analysed"
    and produces no row; a row whose analyte cells are all empty is rejected.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({
    ...     "site": ["A", "A", "A"],
    ...     "date": ["2024-03-05", "2024-03-05", "2024/3/6"],
    ...     "analyte": ["methamphetamine", "ketamine", "methamphetamine"],
    ...     "value": ["0.12", "<LOQ", "abc"],
    ...     "unit": ["ug/L", "ng/L", "ug/L"],
    ... })
    >>> data, rejects = read_samples(table)
    >>> data[["biomarker", "concentration_ng_per_l", "detection"]].to_numpy().tolist()
    [['methamphetamine', 120.0, 'quantified'], ['ketamine', nan, 'below_loq']]
    >>> rejects[["source_row", "column"]].to_numpy().tolist()
    [[4, 'value']]
    """
    _check_choice("on_error policy", on_error, _ON_ERROR)
    _check_choice("layout", layout, _LAYOUTS)
    table = read_table(source, sheet=sheet, skip_rows=skip_rows, file_label=file_label)
    label = table.attrs["source"]
    if layout == "long":
        frame = require_columns(
            table, ["site", "sampled_on", "biomarker", "value"], label,
            optional=["unit", "loq", "flag"],
        )
        header_unit = _header_or_argument_unit(frame, "value", unit, "concentration", label)
        frame = frame.reset_index(drop=True)
        frame["_value_column"] = _orig(frame, "value")
        frame["_header_unit"] = header_unit
        empty_rows: list[int] = []
    else:
        frame = require_columns(
            table, ["site", "sampled_on"], label, optional=["unit", "loq", "flag"]
        )
        if unit is not None:
            conversion_factor(unit, "concentration", file=label)
        if "loq" in frame.columns:
            raise InputError(
                "a loq column is ambiguous in the wide layout (which analyte?); "
                "use the long layout",
                file=label,
                column=_orig(frame, "loq"),
            )
        frame = _wide_to_long(frame, label)
        frame["_header_unit"] = frame["_header_unit"].where(frame["_header_unit"].notna(), unit)
        empty_rows = frame.attrs["empty_rows"]
    rejects = Rejects(label)
    rejects.add(empty_rows, "(all analyte columns)", [None] * len(empty_rows),
                "no analyte result in this row")
    n = len(frame)
    rows = frame["source_row"].to_numpy()
    bad = np.zeros(n, dtype=bool)

    # units: row cell, else header, else argument
    factors = _unit_factors(
        frame, frame["_header_unit"], "concentration", rejects, bad, label,
        "no concentration unit: add a 'unit' column (单位), put it in the value header "
        "('浓度(ng/L)') or pass unit='ng/L'",
    )

    site_col, date_col = _orig(frame, "site"), _orig(frame, "sampled_on")
    _reject_missing(frame, bad, "site", rejects, site_col, "site")
    _reject_missing(frame, bad, "sampled_on", rejects, date_col, "date")
    dates, date_reasons = parse_dates(frame["sampled_on"], date_format=date_format)
    _reject_reasons(frame, bad, date_reasons, "sampled_on", rejects, date_col)
    warn_future_dates(dates, rows, file=label, column=date_col)

    # analytes (resolved once per distinct name)
    biomarker_col = _orig(frame, "biomarker")
    _reject_missing(frame, bad, "biomarker", rejects, biomarker_col, "analyte name")
    biomarker = pd.Series(None, index=frame.index, dtype=object)
    names = frame["biomarker"]
    for name in pd.unique(names[names.notna()]):
        hit = (names == name).to_numpy()
        try:
            biomarker[hit] = resolve_analyte(name)
        except UnknownNameError as exc:
            todo = hit & ~bad
            rejects.add(rows[todo], biomarker_col, [name] * int(todo.sum()), exc.message)
            bad |= hit

    # values
    value_columns = frame["_value_column"].to_numpy()
    parsed = parse_censored(frame["value"], dash=dash)
    has_reason = parsed["reason"].notna().to_numpy() & ~bad
    rejects.add(rows[has_reason], value_columns[has_reason],
                frame.loc[has_reason, "value"].tolist(), parsed.loc[has_reason, "reason"].tolist())
    bad |= has_reason
    empty = parsed["detection"].isna().to_numpy() & ~bad
    rejects.add(rows[empty], value_columns[empty], [None] * int(empty.sum()),
                "empty result (leave the row out if the analyte was not measured)")
    bad |= empty
    negative = (parsed["value"] < 0).to_numpy() & ~bad
    rejects.add(rows[negative], value_columns[negative], frame.loc[negative, "value"].tolist(),
                "concentration must be >= 0")
    bad |= negative
    concentration = parsed["value"].to_numpy() * factors

    # '<0.5' and '<LOQ(0.5)' give the LOQ; a limit in '<LOD(0.1)' is an LOD, not kept
    loq = np.where(parsed["detection"] == "below_loq", parsed["limit"].to_numpy(), np.nan) * factors
    if "loq" in frame.columns:
        loq_values, loq_reasons = parse_numbers(frame["loq"])
        _reject_reasons(frame, bad, loq_reasons, "loq", rejects, _orig(frame, "loq"))
        negative = (loq_values < 0).to_numpy() & ~bad
        rejects.add(rows[negative], _orig(frame, "loq"), frame.loc[negative, "loq"].tolist(),
                    "LOQ must be >= 0")
        bad |= negative
        given = loq_values.notna().to_numpy()
        loq_header_unit = frame.attrs.get("column_units", {}).get("loq")
        loq_factors = (
            conversion_factor(loq_header_unit, "concentration", file=label,
                              column=_orig(frame, "loq"))
            if loq_header_unit else factors
        )
        loq = np.where(given, loq_values.to_numpy() * loq_factors, loq)
    _reject_below_own_loq(frame, bad, concentration, loq, parsed["detection"], rejects)

    frame["site"] = frame["site"].astype(object)
    frame["_date"] = dates.to_numpy()
    frame["_biomarker"] = biomarker.to_numpy()
    known, _ = _site_names(sites)
    _reject_unknown_sites(frame, bad, known, rejects, site_col)
    _reject_duplicates(
        frame, bad, ["site", "_date", "_biomarker"], rejects,
        f"{site_col}, {date_col}, {biomarker_col}", "sample (site, sampled_on, biomarker)",
        " (average lab replicates before reading, or correct the key)",
    )

    flag = frame["flag"] if "flag" in frame.columns else pd.Series(None, index=frame.index)
    data = pd.DataFrame(
        {
            "site": frame["site"].to_numpy(dtype=object),
            "sampled_on": frame["_date"].to_numpy(dtype="datetime64[ns]"),
            "biomarker": frame["_biomarker"].to_numpy(dtype=object),
            "concentration_ng_per_l": concentration,
            "loq_ng_per_l": loq,
            "censored": parsed["censored"].to_numpy(dtype=bool),
            "detection": parsed["detection"].to_numpy(dtype=object),
            "flag": flag.astype(object).where(flag.notna(), "").to_numpy(dtype=object),
            "source_row": rows,
        }
    )[~bad]
    high = data["concentration_ng_per_l"] > MAX_PLAUSIBLE_CONCENTRATION_NG_PER_L
    if high.any():
        listed = ", ".join(str(r) for r in data.loc[high, "source_row"].head(10))
        warnings.warn(
            f"file {label!r}: {int(high.sum())} concentration(s) above "
            f"{MAX_PLAUSIBLE_CONCENTRATION_NG_PER_L:g} ng/L (rows {listed}); check the unit "
            "(µg/L or mg/L given as ng/L?)",
            ImplausibleValueWarning,
            stacklevel=2,
        )
    return _finish(data, rejects, label, on_error)


# --------------------------------------------------------------------------- flows


def read_flows(
    source,
    *,
    sites=None,
    unit: str | None = None,
    date_format: str | None = None,
    sheet: str | int | None = None,
    skip_rows: int = 0,
    file_label: str | None = None,
    on_error: str = "reject",
) -> ReadResult:
    """Read daily influent flows (进水流量) into the canonical flows table.

    Parameters
    ----------
    source : str, os.PathLike, pandas.DataFrame or file-like
        CSV/XLSX file, DataFrame or an open CSV file/buffer with columns ``site``
        (污水厂), ``date`` (日期), ``flow`` (流量, 日处理量) and optional ``unit`` (单位).
    sites : ReadResult, pandas.DataFrame or iterable of str, optional
        Known sites; rows for other sites are rejected. With a ``population`` column
        [inhabitants] the flow per inhabitant is checked for plausibility.
    unit : str, optional
        Flow unit for rows whose ``unit`` cell is empty (``"L/s"``, ``"ML/d"``,
        ``"万立方米/天"``, ``"吨/天"``).
    date_format : str, optional
        strptime format of ``date``.
    sheet : str or int, optional
        Excel sheet; first sheet if omitted.
    skip_rows : int, default 0
        Title rows above the header.
    file_label : str, optional
        Name used in messages instead of the file name.
    on_error : {"reject", "raise"}, default "reject"
        Return row-level problems as rejects, or raise on the first one.

    Returns
    -------
    ReadResult
        ``data`` with columns ``site, date, flow_m3_per_day [m³/day], source_row``.

    Raises
    ------
    InputError
        Missing required columns, no unit anywhere, unreadable file; with
        ``on_error="raise"`` the first row-level problem.
    UnitError
        Unknown ``unit=`` argument or header unit.

    Warns
    -----
    ImplausibleValueWarning
        Flow per inhabitant outside :data:`PLAUSIBLE_FLOW_L_PER_PERSON_DAY`, or a date after
        today (rows kept).

    Notes
    -----
    Flow per inhabitant :math:`q = 1000\\,Q / P` [L/person/day] with :math:`Q` the flow
    [m³/day] and :math:`P` the population [inhabitants]. Row-level rejects: empty
    site/date/flow, unknown unit, flow not a number (a text ``NaN``/``NA``/``null``
    included), of magnitude above 1e100 or not > 0, ambiguous or impossible date or one
    outside 1677-09-22..2262-04-11, unknown site, duplicated (site, date) keys (all
    copies).

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"污水厂": ["A", "A"], "日期": ["2024-03-05", "2024-03-06"],
    ...                       "流量(万立方米/天)": ["1.2", "1.3"]})
    >>> read_flows(table).data["flow_m3_per_day"].tolist()
    [12000.0, 13000.0]
    """
    _check_choice("on_error policy", on_error, _ON_ERROR)
    table = read_table(source, sheet=sheet, skip_rows=skip_rows, file_label=file_label)
    label = table.attrs["source"]
    frame = require_columns(table, ["site", "date", "flow"], label, optional=["unit"])
    frame = frame.reset_index(drop=True)
    default_unit = _header_or_argument_unit(frame, "flow", unit, "flow", label)
    rejects = Rejects(label)
    n = len(frame)
    rows = frame["source_row"].to_numpy()
    bad = np.zeros(n, dtype=bool)
    factors = _unit_factors(
        frame, default_unit, "flow", rejects, bad, label,
        "no flow unit: add a 'unit' column (单位), put it in the header ('流量(m3/d)') "
        "or pass unit='m3/day'",
    )

    site_col, date_col, flow_col = _orig(frame, "site"), _orig(frame, "date"), _orig(frame, "flow")
    _reject_missing(frame, bad, "site", rejects, site_col, "site")
    _reject_missing(frame, bad, "date", rejects, date_col, "date")
    dates, date_reasons = parse_dates(frame["date"], date_format=date_format)
    _reject_reasons(frame, bad, date_reasons, "date", rejects, date_col)
    warn_future_dates(dates, rows, file=label, column=date_col)
    values, reasons = parse_numbers(frame["flow"])
    _reject_reasons(frame, bad, reasons, "flow", rejects, flow_col)
    _reject_missing(frame, bad, "flow", rejects, flow_col, "flow")
    nonpos = (values <= 0).to_numpy() & ~bad
    rejects.add(rows[nonpos], flow_col, frame.loc[nonpos, "flow"].tolist(), "flow must be > 0")
    bad |= nonpos

    frame["site"] = frame["site"].astype(object)
    frame["_date"] = dates.to_numpy()
    known, population = _site_names(sites)
    _reject_unknown_sites(frame, bad, known, rejects, site_col)
    _reject_duplicates(
        frame, bad, ["site", "_date"], rejects, f"{site_col}, {date_col}", "flow (site, date)",
        " (keep one daily total per site)",
    )

    data = pd.DataFrame(
        {
            "site": frame["site"].to_numpy(dtype=object),
            "date": frame["_date"].to_numpy(dtype="datetime64[ns]"),
            "flow_m3_per_day": values.to_numpy() * factors,
            "source_row": rows,
        }
    )[~bad]
    if population is not None and len(data):
        _warn_flow_per_person(data, population, label)
    return _finish(data, rejects, label, on_error)


def _warn_flow_per_person(data: pd.DataFrame, population: pd.Series, label: str) -> None:
    population = population[~population.index.duplicated()]
    per_person = (
        data["flow_m3_per_day"].to_numpy()
        * 1000.0
        / population.reindex(data["site"]).to_numpy(dtype=float)
    )
    low, high = PLAUSIBLE_FLOW_L_PER_PERSON_DAY
    odd = (per_person < low) | (per_person > high)
    if odd.any():
        rows = data["source_row"].to_numpy()[odd]
        listed = ", ".join(
            f"row {r} ({q:.0f} L/person/day)" for r, q in zip(rows[:10], per_person[odd][:10],
                                                               strict=False)
        )
        warnings.warn(
            f"file {label!r}: flow per inhabitant outside {low:g}-{high:g} L/person/day in "
            f"{int(odd.sum())} row(s): {listed}; check the flow unit and the population",
            ImplausibleValueWarning,
            stacklevel=3,
        )



def read_workbook(source, reader=None, *, sheets=None, skip_rows: int = 0,
                  **kwargs) -> ReadResult:
    """Read every sheet of an Excel workbook (one sheet per plant or per month) in one call.

    Each sheet is read by ``reader`` with its own label (``file.xlsx [sheet 城东]``) so that
    messages and rejects name the sheet; a sheet without a plant column takes the sheet
    name as the plant (one sheet per plant). Empty sheets are skipped.

    Parameters
    ----------
    source : str or path-like
        ``.xlsx`` workbook.
    reader : callable, default :func:`read_samples`
        :func:`read_samples`, :func:`read_flows` or :func:`read_sites`.
    sheets : list of str, optional
        Sheets to read, in this order; every sheet by default.
    skip_rows : int, default 0
        Title rows above each header; 0 finds them automatically (see ``read_table``).
    **kwargs
        Passed to ``reader`` (``sites``, ``unit``, ``date_format``, ``layout`` ...).

    Returns
    -------
    ReadResult
        Data and rejects of all sheets, concatenated; ``source_row`` is the row in its
        sheet, and ``rejects["source_file"]`` names the sheet.

    Raises
    ------
    InputError
        An unknown sheet name (closest names listed), or an error of a sheet (named).
    """
    from wbe._tabular import COLUMN_ALIASES, excel_sheet_names, normalise_header

    reader = read_samples if reader is None else reader
    path = str(source)
    names = excel_sheet_names(path)
    if sheets is not None:
        for name in sheets:
            if name not in names:
                raise unknown_name_error("sheet", name, names, file=path)
        names = list(sheets)
    site_names = {normalise_header(a) for a in ("site", *COLUMN_ALIASES.get("site", ()))}
    data, rejects = [], []
    for name in names:
        label = f"{path} [sheet {name}]"
        try:
            table = read_table(path, sheet=name, skip_rows=skip_rows, file_label=label)
        except InputError as exc:
            if "no header row" in str(exc):  # an empty sheet
                continue
            raise
        if reader is not read_sites and not any(
                normalise_header(str(c)) in site_names for c in table.columns):
            table.insert(0, "site", name)  # one sheet per plant
        result = reader(table, file_label=label, **kwargs)
        data.append(result.data)
        rejects.append(result.rejects)
    if not data:
        raise InputError("the workbook has no sheet with a table", file=path)
    return ReadResult(pd.concat(data, ignore_index=True),
                      pd.concat(rejects, ignore_index=True), path)
