"""Input validation of :func:`wbe.back_calculate`: canonical tables -> one index of cells.

Private module (part of the back-calculation split: validation here, parameters and their
distributions in :mod:`wbe._backcalc_parameters`, the Monte Carlo and closed-form kernel in
:mod:`wbe._backcalc_kernel`, summaries in :mod:`wbe._backcalc_summaries`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from wbe._tabular import duplicated_rows
from wbe.censoring import substitute_censored
from wbe.errors import ImplausibleValueWarning, InputError, unknown_name_error

__all__: list[str] = []  # private module (names without _ are shared with wbe.backcalc)

def _rows(frame: pd.DataFrame) -> np.ndarray:
    if "source_row" in frame.columns:
        return frame["source_row"].to_numpy()
    return np.arange(2, len(frame) + 2)


def _require(frame: pd.DataFrame, columns, name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"expected a pandas DataFrame, got {type(frame).__name__}", file=name)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"missing column(s) {missing}; see docs/data-model.md", file=name,
                         column=missing[0])


def _days(values, name: str, column: str, rows) -> pd.DatetimeIndex:
    try:
        out = pd.DatetimeIndex(pd.to_datetime(values, errors="raise"))
    except (ValueError, TypeError) as exc:
        raise InputError(f"expected dates: {exc}", file=name, column=column) from None
    bad = out.isna()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError("missing date", file=name, row=int(rows[i]), column=column)
    return out.normalize().astype("datetime64[ns]")


def _finite_positive(values, name, column, rows, *, allow_zero=False) -> np.ndarray:
    x = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(x) & ((x >= 0) if allow_zero else (x > 0))
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise InputError(f"expected a finite number {'>=' if allow_zero else '>'} 0, "
                         f"got {values.iloc[i] if hasattr(values, 'iloc') else x[i]!r}",
                         file=name, row=int(rows[i]), column=column)
    return x


def _warn_implausible(values, limit, file, column, rows, what) -> None:
    high = np.asarray(values) > limit
    if high.any():
        i = int(np.flatnonzero(high)[0])
        warnings.warn(f"file {file!r}, row {int(rows[i])}, column {column!r}: "
                      f"{int(high.sum())} value(s) above {limit:g} {what}",
                      ImplausibleValueWarning, stacklevel=4)


@dataclass(frozen=True)
class Inputs:
    site: list[str]
    date: pd.DatetimeIndex
    biomarker: list[str]
    s_idx: np.ndarray  # per sample
    t_idx: np.ndarray
    b_idx: np.ndarray
    conc: np.ndarray  # substituted [ng/L] (the LOQ for censoring='draw'), per sample
    loq: np.ndarray
    censored: np.ndarray
    flow: np.ndarray  # [site, date] measured [m3/day], NaN where no sample
    population: np.ndarray  # per site
    population_sd: np.ndarray
    residence_h: np.ndarray
    reference_fraction: np.ndarray
    sampling_mode: list  # per site (wbe.datasets.load_measurement_modes)
    population_method: list


@cache
def _registry_modes(component: str) -> tuple[str, ...]:
    """Modes of a component, default first (cached: read-only package data, like the
    measurement defaults of :mod:`wbe._backcalc_parameters`)."""
    from wbe.datasets import load_measurement_modes

    return tuple(load_measurement_modes(component)["mode"])


def _site_modes(st, column: str, component: str, rows) -> list:
    """Validated ``sampling_mode`` / ``population_method`` per site; the registry's
    default (first row of the component) where the column is absent or empty."""
    modes = list(_registry_modes(component))
    if column not in st.columns:
        return [modes[0]] * len(st)
    out = []
    for i, value in enumerate(st[column].tolist()):
        if value is None or (isinstance(value, float) and np.isnan(value)) or \
                str(value).strip() == "":
            out.append(modes[0])
            continue
        key = str(value).strip().lower().replace(" ", "-").replace("_", "-")
        match = [m for m in modes if m.replace("_", "-") == key]
        if not match:
            raise unknown_name_error(column, value, modes, file="sites", row=int(rows[i]),
                                     column=column)
        out.append(match[0])
    return out


def _positions(labels, values) -> np.ndarray:
    """Position of each value in ``labels`` (-1 if absent), hashing plain Python strings
    (an object index: pandas' string index converts the values first)."""
    return pd.Index(labels, dtype=object).get_indexer(np.asarray(values, dtype=object))


def _label_codes(frame: pd.DataFrame, column: str, name: str, rows) -> tuple[np.ndarray, list]:
    """Codes and distinct values (``str`` of each label, in order of first appearance) of a
    key column (site, biomarker). Every row names its key: a missing or blank label is an
    error that names the row, not a sample silently keyed by "nan". Each distinct label is
    looked at once."""
    values = frame[column]
    codes, uniques = pd.factorize(values)  # missing: -1
    labels = [str(u) for u in uniques.tolist()]
    blank = np.asarray([not u.strip() for u in labels] + [True], dtype=bool)[codes]
    if blank.any():
        i = int(np.flatnonzero(blank)[0])
        raise InputError(f"missing {column} (got {values.iloc[i]!r}); every row of "
                         f"{name} needs one", file=name, row=int(rows[i]), column=column)
    # labels equal as text (1 and "1") are one key, as with ``astype(str)``
    merged, distinct = pd.factorize(np.asarray(labels, dtype=object))
    return merged[codes], distinct.tolist()


def _sorted_codes(codes: np.ndarray, uniques: list) -> tuple[np.ndarray, list]:
    """Codes into ``sorted(uniques)`` instead: only the distinct values are sorted."""
    order = sorted(range(len(uniques)), key=uniques.__getitem__)
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order))
    return rank[codes], [uniques[i] for i in order]


def _day_codes(days: pd.DatetimeIndex) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Codes of ``days`` into their sorted distinct days."""
    codes, uniques = pd.factorize(days.asi8)
    order = np.argsort(uniques)
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order))
    return rank[codes], pd.DatetimeIndex(uniques[order].view("datetime64[ns]"))


def _first_duplicate(*codes: np.ndarray) -> int | None:
    """Position of the first row whose key (one array of codes per column) appears more
    than once, or None."""
    duplicated = duplicated_rows(list(codes))
    return int(np.argmax(duplicated)) if duplicated.any() else None


def prepare(samples, sites, flows, censoring, reference_fraction) -> Inputs:
    _require(samples, ["site", "sampled_on", "biomarker", "concentration_ng_per_l"], "samples")
    _require(sites, ["site", "population"], "sites")
    rows = _rows(samples)
    samples = samples.reset_index(drop=True)
    # Keys factorised once: checks and indices work on codes, values only enter messages.
    site_code, site_values = _label_codes(samples, "site", "samples", rows)
    bio_code, bio_values = _label_codes(samples, "biomarker", "samples", rows)
    day_s = _days(samples["sampled_on"], "samples", "sampled_on", rows)
    t_idx, date_list = _day_codes(day_s)

    i = _first_duplicate(site_code, t_idx, bio_code)
    if i is not None:
        raise InputError(
            f"more than one sample for site {site_values[site_code[i]]!r}, day "
            f"{day_s[i].date()}, biomarker {bio_values[bio_code[i]]!r}; average replicates "
            "explicitly before back-calculation",
            file="samples", row=int(rows[i]), column="biomarker")

    censored = (samples["censored"] if "censored" in samples.columns
                else pd.Series(False, index=samples.index))
    censored = np.asarray(pd.array(censored, dtype="boolean").fillna(False), dtype=bool)
    loq = (pd.to_numeric(samples["loq_ng_per_l"], errors="coerce").to_numpy(dtype=float)
           if "loq_ng_per_l" in samples.columns else np.full(len(samples), np.nan))
    conc = pd.to_numeric(samples["concentration_ng_per_l"], errors="coerce").to_numpy(float)
    # censoring="draw": the LOQ stands in for a censored value; the kernel multiplies the
    # load by each draw's fraction of the LOQ (wbe.censoring.draw_censored_concentrations)
    policy = "loq" if censoring == "draw" else censoring
    conc = substitute_censored(conc, loq, censored, policy, source="samples", rows=rows)
    if censoring == "draw":
        bad = censored & ~(loq > 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"censored value needs an LOQ > 0 for censoring='draw' (got "
                             f"{loq[i]!r})", file="samples", row=int(rows[i]),
                             column="loq_ng_per_l")

    # sites
    srows = _rows(sites)
    site_ids = sites["site"].astype(str)
    if site_ids.duplicated().any():
        i = int(np.flatnonzero(site_ids.duplicated().to_numpy())[0])
        raise InputError(f"site {site_ids.iloc[i]!r} appears twice", file="sites",
                         row=int(srows[i]), column="site")
    known = set(site_ids)
    unknown = ~pd.Series(np.asarray(site_values, dtype=object)).isin(known).to_numpy()
    if unknown.any():
        i = int(np.flatnonzero(unknown[site_code])[0])
        raise unknown_name_error("site", site_values[site_code[i]], known, file="samples",
                                 row=int(rows[i]), column="site")
    s_idx, site_list = _sorted_codes(site_code, site_values)
    st = sites.assign(site=site_ids).set_index("site").loc[site_list]
    st_rows = pd.Series(srows, index=site_ids.to_numpy()).loc[site_list].to_numpy()
    population = _finite_positive(st["population"], "sites", "population", st_rows)
    if "population_sd" in st.columns:
        psd = pd.to_numeric(st["population_sd"], errors="coerce").to_numpy(dtype=float)
        if (psd < 0).any():
            i = int(np.flatnonzero(psd < 0)[0])
            raise InputError(f"population_sd must be >= 0, got {psd[i]!r}", file="sites",
                             row=int(st_rows[i]), column="population_sd")
    else:
        psd = np.full(len(site_list), np.nan)
    if "residence_time_h" in st.columns:
        rt = pd.to_numeric(st["residence_time_h"], errors="coerce").to_numpy(dtype=float)
        rt = np.where(np.isfinite(rt), rt, 0.0)
        if (rt < 0).any():
            i = int(np.flatnonzero(rt < 0)[0])
            raise InputError("residence time must be >= 0", file="sites", row=int(st_rows[i]),
                             column="residence_time_h")
    else:
        rt = np.zeros(len(site_list))
    if reference_fraction is None and "reference_fraction" in st.columns:
        ref = pd.to_numeric(st["reference_fraction"], errors="coerce").to_numpy(dtype=float)
    elif isinstance(reference_fraction, Mapping):
        ref = np.array([float(reference_fraction.get(s, np.nan)) for s in site_list])
    elif reference_fraction is None:
        ref = np.full(len(site_list), np.nan)
    else:
        ref = np.full(len(site_list), float(reference_fraction))
    bad_ref = np.isfinite(ref) & ~((ref > 0) & (ref <= 1))
    if bad_ref.any():
        raise InputError(f"reference_fraction must be in (0, 1], got {ref[bad_ref][0]!r}",
                         column="reference_fraction")

    _warn_implausible(conc, 1e6, "samples", "concentration_ng_per_l", rows,
                      "ng/L (above any published influent concentration; unit slip?)")
    _warn_implausible(population, 5e7, "sites", "population", st_rows,
                      "inhabitants (larger than any city; unit slip?)")

    # grid
    b_idx, bio_list = _sorted_codes(bio_code, bio_values)

    # flows [site, date]
    flow = np.full((len(site_list), len(date_list)), np.nan)
    if flows is None:
        if "flow_m3_per_day" not in samples.columns:
            raise InputError("no flows table given and samples lack 'flow_m3_per_day'",
                             file="samples", column="flow_m3_per_day")
        q = _finite_positive(samples["flow_m3_per_day"], "samples", "flow_m3_per_day", rows)
        flow[s_idx, t_idx] = q
        # one flow per site-day: all biomarkers of a day must agree
        if not np.allclose(flow[s_idx, t_idx], q, rtol=1e-12):
            i = int(np.flatnonzero(~np.isclose(flow[s_idx, t_idx], q, rtol=1e-12))[0])
            raise InputError("samples of one site-day give different flows", file="samples",
                             row=int(rows[i]), column="flow_m3_per_day")
    else:
        _require(flows, ["site", "date", "flow_m3_per_day"], "flows")
        frows = _rows(flows)
        fsite_code, fsite_values = _label_codes(flows, "site", "flows", frows)
        fday = _days(flows["date"], "flows", "date", frows)
        fday_code, fday_values = _day_codes(fday)
        i = _first_duplicate(fsite_code, fday_code)
        if i is not None:
            raise InputError("more than one flow for this site and day", file="flows",
                             row=int(frows[i]), column="date")
        fs = _positions(site_list, fsite_values)[fsite_code]
        ft = date_list.get_indexer(fday_values)[fday_code]
        use = (fs >= 0) & (ft >= 0)
        q = _finite_positive(flows["flow_m3_per_day"].iloc[np.flatnonzero(use)], "flows",
                             "flow_m3_per_day", frows[use])
        flow[fs[use], ft[use]] = q
        _warn_implausible(q, 5e7, "flows", "flow_m3_per_day", frows[use],
                          "m³/day (above the largest plants; unit slip?)")
        missing = ~np.isfinite(flow[s_idx, t_idx])
        if missing.any():
            i = int(np.flatnonzero(missing)[0])
            raise InputError(f"no flow for site {site_list[s_idx[i]]!r} on "
                             f"{day_s[i].date()} in the flows table", file="samples",
                             row=int(rows[i]), column="sampled_on")
    return Inputs(site_list, date_list, bio_list, s_idx, t_idx, b_idx, conc, loq, censored,
                   flow, population, psd, rt, ref,
                   _site_modes(st, "sampling_mode", "sampling", st_rows),
                   _site_modes(st, "population_method", "population", st_rows))

