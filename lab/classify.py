"""Classify hair and urine results against published cutoff sets: positive, negative or
inconclusive, with the reason.

Cutoff sets are registry data (:func:`wbe.datasets.load_cutoffs`): Society of Hair
Testing 2012 (``sht2012``), the Chinese Ministry of Public Security hair-testing rules
(``china-hair``), SAMHSA federal workplace urine panels (``samhsa2017``,
``samhsa2025``), EWDTS urine guidelines (``ewdts2015``) and Chinese urine screening kits
(``china-urine-kit``). Each row gives a matrix, a method (``screen`` or ``confirm``), an
analyte or a whole drug class (screens), the cutoff and its unit, and optionally an
analyte that must also be present (``requires_analyte`` at ``requires_cutoff``), as for
methamphetamine that SAMHSA reports positive only when amphetamine is at least
100 ng/mL.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from wbe._tabular import text_column
from wbe.datasets import load_cutoffs
from wbe.errors import InputError
from wbe.lab._readers import CANONICAL_UNIT, MATRICES
from wbe.units import conversion_factor, normalise_unit

__all__ = ["CLASSES", "Classification", "classify"]

#: Possible classifications.
CLASSES = ("positive", "negative", "inconclusive")

_KEYS = ["batch", "sample_id", "segment_cm_from", "segment_cm_to"]
_CARRY = ["subject_key", "matrix", "collected_on", "group"]
_CENSORED = ("below_loq", "below_lod", "not_detected")
_WORDS = {"below_loq": "below LOQ", "below_lod": "below LOD", "not_detected": "not detected"}


@dataclass(frozen=True)
class Classification:
    """Result of :func:`classify`.

    Attributes
    ----------
    results : pandas.DataFrame
        The input rows with ``drug`` (the drug class of the cutoff row used),
        ``cutoff`` [ng/mg or ng/mL], ``classification`` (``positive``, ``negative``,
        ``inconclusive``, or ``None`` for calibrator/QC/blank rows and analytes the set
        has no cutoff for) and ``reason``.
    summary : pandas.DataFrame
        One row per sample (and hair segment) and drug class: ``batch, sample_id,
        segment_cm_from, segment_cm_to, drug, subject_key, matrix, collected_on, group,
        classification, reason, analytes`` (analytes that decided it). This is the table
        :func:`wbe.lab.prevalence.positivity` takes.
    cutoff_set : str
        Name of the set (``"<DataFrame>"`` for a custom table).

    ``results, summary = classify(...)`` unpacks it.
    """

    results: pd.DataFrame
    summary: pd.DataFrame
    cutoff_set: str

    def __iter__(self) -> Iterator[pd.DataFrame]:
        yield self.results
        yield self.summary


def _cutoff_table(cutoff_set) -> tuple[pd.DataFrame, str]:
    if isinstance(cutoff_set, pd.DataFrame):
        table, name = cutoff_set.copy(), "<DataFrame>"
        for col in ("requires_analyte", "requires_cutoff"):
            if col not in table.columns:
                table[col] = np.nan
    else:
        table, name = load_cutoffs(str(cutoff_set)), str(cutoff_set)
    need = ["matrix", "method", "analyte", "analyte_class", "cutoff", "unit"]
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise InputError(f"cutoff table lacks column(s) {missing}", file=name)
    factor = np.array([
        conversion_factor(u, m, file=name, column="unit")
        for u, m in zip(table["unit"], table["matrix"], strict=True)
    ])
    for col in ("cutoff", "requires_cutoff"):
        numbers = pd.to_numeric(table[col], errors="coerce")
        bad = (numbers.isna() & table[col].notna()).to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"expected a number (cutoff table position {i})", file=name,
                             column=col, value=table[col].iloc[i])
        table[col] = numbers * factor
    for col in ("analyte", "requires_analyte"):
        table[col] = pd.Series(
            [None if pd.isna(a) else str(a) for a in table[col]], index=table.index, dtype=object
        )
    return table.reset_index(drop=True), name


def _prepare(results: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(results, pd.DataFrame):
        raise InputError(f"expected a pandas DataFrame, got {type(results).__name__}")
    need = ["sample_id", "matrix", "analyte", "method", "value", "detection"]
    missing = [c for c in need if c not in results.columns]
    if missing:
        raise InputError(f"lab results lack column(s) {missing}", column=missing[0])
    frame = results.copy(deep=False)  # copy-on-write: the caller's table is never changed
    for col in ("batch", "segment_cm_from", "segment_cm_to", "loq", *_CARRY):
        if col not in frame.columns:
            frame[col] = np.nan if col in ("segment_cm_from", "segment_cm_to", "loq") else None
    if "sample_type" not in frame.columns:
        frame["sample_type"] = "unknown"
    for col in ("value", "loq"):
        frame[col] = _numeric_column(frame[col], col)
    frame["_skip"] = _skip_reasons(frame)
    if "unit" in frame.columns:
        factors = np.ones(len(frame))
        for (unit, matrix), idx in frame.groupby(["unit", "matrix"], dropna=True).indices.items():
            if _MOLAR_UNIT.match(normalise_unit(unit)):
                # kept molar by the reader (no molar mass): not comparable with a cutoff
                factors[idx] = np.nan
                frame.loc[frame.index[idx], "_skip"] = frame["_skip"].iloc[idx].fillna(
                    f"value in {unit} (no molar mass to convert it); not classified")
                continue
            factors[idx] = conversion_factor(unit, matrix, column="unit")
        frame["value"] = frame["value"] * factors
        frame["loq"] = frame["loq"] * factors
    bad_matrix = ~frame["matrix"].isin(MATRICES)
    if bad_matrix.any():
        i = int(np.flatnonzero(bad_matrix.to_numpy())[0])
        raise InputError(
            "matrix must be 'hair' or 'urine'",
            row=int(frame["source_row"].iloc[i]) if "source_row" in frame else None,
            column="matrix", value=frame["matrix"].iloc[i],
        )
    return frame.reset_index(drop=True)


_MOLAR_UNIT = re.compile(r"^(?:[pnum]m|[pnum]?mol/(?:l|ml|mg|g))$")


def _skip_reasons(frame: pd.DataFrame) -> pd.Series:
    """Why a row is left out of classification (internal standards, analytes the
    registry does not know, as flagged by the readers), else None."""
    reason = pd.Series(None, index=frame.index, dtype=object)
    if "analyte_known" in frame.columns:
        unknown = frame["analyte_known"].eq(False).to_numpy()
        reason[unknown] = "analyte not in the registry; not classified"
    if "internal_standard" in frame.columns:
        istd = frame["internal_standard"].eq(True).to_numpy()
        reason[istd] = "internal standard; not classified"
    return reason


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _match_cutoffs(frame: pd.DataFrame, cut: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Index into ``cut`` of the cutoff row for each result row (-1 if none), and the
    number of each row's (matrix, method, analyte) combination."""
    by_analyte = {}
    by_class = {}
    class_of = {}
    for i, r in cut.iterrows():
        if r["analyte"] is not None:
            by_analyte.setdefault((r["matrix"], r["method"], r["analyte"]), i)
            class_of.setdefault((r["matrix"], r["analyte"]), r["analyte_class"])
        else:
            by_class.setdefault((r["matrix"], r["method"], r["analyte_class"]), i)
    # each distinct (matrix, method, analyte) once; rows take their combination's match
    combos = [frame[c] for c in ("matrix", "method", "analyte")]
    codes, first = _combinations(combos)
    hits = np.full(len(first), -1)
    keys = zip(*(_at(c, first) for c in combos), strict=True)
    for j, (matrix, method, analyte) in enumerate(keys):
        hit = by_analyte.get((matrix, method, analyte))
        if hit is None and method == "screen":
            hit = by_class.get((matrix, "screen", analyte))
            if hit is None and (matrix, analyte) in class_of:
                hit = by_class.get((matrix, "screen", class_of[(matrix, analyte)]))
        hits[j] = -1 if hit is None else hit
    return (hits[codes], codes) if len(frame) else (np.full(0, -1), codes)


def _combinations(columns) -> tuple[np.ndarray, np.ndarray]:
    """``(combo, first)``: an integer per row that is equal for rows equal in every column
    (missing values equal each other) and the first row of each combination."""
    n = len(columns[0]) if columns else 0
    combo = np.zeros(n, dtype=np.int64)
    for column in columns:  # factorised at each step: the codes stay below n
        codes, uniques = pd.factorize(column)  # a Series of text: factorised by pyarrow
        combo = pd.factorize(combo * (len(uniques) + 1) + (codes + 1))[0]
    first = np.unique(combo, return_index=True)[1] if n else np.zeros(0, dtype=np.int64)
    return combo, first


def _sorted_groups(columns) -> np.ndarray:
    """Group number of each row, groups numbered in the sorted order of the columns'
    values with missing values last (``groupby(sort=True, dropna=False).ngroup()``)."""
    group = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(column, sort=True)
        codes = np.where(codes < 0, len(uniques), codes)  # missing after every value
        group = pd.factorize(group * (len(uniques) + 1) + codes, sort=True)[0]
    return group


def _at(column, rows: np.ndarray) -> list:
    """Values of a Series (by position) or an array at ``rows``, as Python objects."""
    if isinstance(column, pd.Series):
        return column.iloc[rows].tolist()
    return np.asarray(column)[rows].tolist()


def _result_class(c, u, a, det, value, loq, method):
    """Classification and reason of one subject result with cutoff ``c`` [unit ``u``]."""
    word = "screen" if method == "screen" else "confirm"
    if det == "quantified" and math.isfinite(value):
        if value >= c:
            return "positive", f"{word}: {a} {_fmt(value)} ≥ cutoff {_fmt(c)} {u}"
        return "negative", f"{word}: {a} {_fmt(value)} < cutoff {_fmt(c)} {u}"
    if det in _CENSORED:
        if math.isfinite(loq) and loq > c:
            return "inconclusive", (f"{word}: {a} {_WORDS[det]} but its LOQ "
                                    f"{_fmt(loq)} is above the cutoff {_fmt(c)} {u}")
        limit = f" (LOQ {_fmt(loq)})" if math.isfinite(loq) else ""
        return "negative", f"{word}: {a} {_WORDS[det]}{limit}"
    if det == "detected":
        if method == "screen":
            return "positive", f"screen: {a} positive (qualitative)"
        return "inconclusive", f"confirm: {a} reported positive without a concentration"
    return "inconclusive", f"{word}: {a} has no usable result"


def _is_subject(frame: pd.DataFrame) -> np.ndarray:
    """Rows of subject samples (``sample_type`` unknown, any case)."""
    return frame["sample_type"].astype(str).str.lower().eq("unknown").to_numpy()


def _row_classes(frame, cut, idx, set_name, subject, combination):
    n = len(frame)
    cls = np.full(n, None, dtype=object)
    reason = np.full(n, None, dtype=object)
    reason[~subject] = "not a subject sample (" + frame["sample_type"].astype(str)[~subject] + ")"
    has = idx >= 0
    no_cut = subject & ~has
    if no_cut.any():  # each distinct (matrix, method, analyte) worded once
        rows = np.flatnonzero(no_cut)
        missing = [frame[c].iloc[rows] for c in ("matrix", "method", "analyte")]
        combo, first = _combinations(missing)
        worded = np.array([f"no {m} {t} cutoff for {a} in {set_name}"
                           for m, t, a in zip(*(_at(c, first) for c in missing),
                                              strict=True)], dtype=object)
        reason[no_cut] = worded[combo]
    use = np.flatnonzero(subject & has)
    cutoff_array = np.where(has, cut["cutoff"].to_numpy()[np.maximum(idx, 0)], np.nan)
    if use.size == 0:
        return cls, reason, cutoff_array
    value = frame["value"].to_numpy(dtype=float)[use]
    loq = frame["loq"].to_numpy(dtype=float)[use]
    det = frame["detection"].iloc[use]
    is_quantified = (det == "quantified").to_numpy(dtype=bool)
    # each distinct (matrix, method, analyte: hence cutoff; detection, value, LOQ) is
    # decided once: a value only matters for quantified results, a LOQ only for censored
    columns = [combination[use], det, np.where(is_quantified, value, np.nan),
               np.where(is_quantified, np.nan, loq)]
    combo, first = _combinations(columns)
    rows = use[first]
    unit = [CANONICAL_UNIT.get(m) for m in _at(frame["matrix"], rows)]
    decided = [
        _result_class(c, u, str(a), d, v, q, m)
        for c, u, a, d, v, q, m in zip(
            cutoff_array[rows].tolist(), unit, _at(frame["analyte"], rows), _at(det, first),
            value[first].tolist(), loq[first].tolist(), _at(frame["method"], rows),
            strict=True)
    ]
    cls[use] = np.array([d[0] for d in decided], dtype=object)[combo]
    reason[use] = np.array([d[1] for d in decided], dtype=object)[combo]
    return cls, reason, cutoff_array


def _apply_requirements(frame, cut, idx, cls, reason):
    """Confirm positives whose set requires a co-analyte (e.g. amphetamine for
    methamphetamine) become inconclusive when the co-analyte is missing or below."""
    req_a = np.where(idx >= 0, cut["requires_analyte"].to_numpy()[np.maximum(idx, 0)], None)
    req_c = np.where(idx >= 0, cut["requires_cutoff"].to_numpy()[np.maximum(idx, 0)], np.nan)
    # compared as a column (a string column compares without a Python object per row)
    is_confirm = frame["method"].eq("confirm").to_numpy(dtype=bool, na_value=False)
    need = (cls == "positive") & is_confirm & pd.notna(req_a)
    if not need.any():
        return
    # one integer per (batch, sample, segment): missing keys (None/NaN) equal each other
    required = frame["analyte"].isin(pd.unique(req_a[need])).to_numpy()
    candidates = np.flatnonzero(is_confirm & required)  # confirmations of co-analytes
    # only the rows that need a co-analyte and the candidates get a sample key
    rows = np.flatnonzero(need | (is_confirm & required))
    keys = np.full(len(frame), -1, dtype=np.int64)
    keys[rows] = _combinations([frame[k].iloc[rows] for k in _KEYS])[0]
    keys = keys.tolist()
    lookup = {(keys[i], a): i  # last wins
              for i, a in zip(candidates.tolist(), _at(frame["analyte"], candidates),
                              strict=True)}
    detection = dict(zip(candidates.tolist(), _at(frame["detection"], candidates),
                         strict=True))
    value = frame["value"].to_numpy()
    need_rows = np.flatnonzero(need)
    matrix = dict(zip(need_rows.tolist(), _at(frame["matrix"], need_rows), strict=True))
    for j in need_rows.tolist():
        i = lookup.get((keys[j], req_a[j]))
        co = None if i is None else {"detection": detection[i], "value": value[i]}
        rc, u = req_c[j], CANONICAL_UNIT.get(matrix[j], np.nan)
        if co is None:
            cls[j] = "inconclusive"
            reason[j] += f"; but the required {req_a[j]} (≥ {_fmt(rc)} {u}) was not measured"
        elif co["detection"] == "quantified" and co["value"] >= rc:
            reason[j] += f"; required {req_a[j]} {_fmt(co['value'])} ≥ {_fmt(rc)} {u}"
        else:
            cls[j] = "inconclusive"
            got = (_fmt(co["value"]) if co["detection"] == "quantified"
                   else _WORDS.get(co["detection"], str(co["detection"])))
            reason[j] += f"; but the required {req_a[j]} is {got} (< {_fmt(rc)} {u})"


_CLASS_RANK = {"positive": 0, "inconclusive": 1, "negative": 2}
_RANK_CLASS = np.array(["positive", "inconclusive", "negative"], dtype=object)


def _join_per_group(group: np.ndarray, reason: np.ndarray, analyte: np.ndarray
                    ) -> pd.DataFrame:
    """``"; "``-joined reasons and ``","``-joined analytes of each group, in input order
    (one pass over the rows; a pandas groupby-agg with a Python function would run per
    group)."""
    order = np.argsort(group, kind="stable")
    g = group[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    ends = np.r_[starts[1:], len(g)]
    reasons = np.asarray(reason, dtype=object)[order]
    analytes = np.asarray(analyte, dtype=object)[order]
    if pd.api.types.infer_dtype(analytes, skipna=False) != "string":
        analytes = np.array([str(a) for a in analytes.tolist()], dtype=object)
    # the k-th rows of all groups longer than k are appended at once (object arrays add
    # their strings element by element, without a Python loop over groups)
    joined_reasons, joined_analytes = reasons[starts], analytes[starts]
    sizes = ends - starts
    for k in range(1, int(sizes.max()) if len(sizes) else 0):
        longer = np.flatnonzero(sizes > k)
        joined_reasons[longer] = joined_reasons[longer] + "; " + reasons[starts[longer] + k]
        joined_analytes[longer] = (joined_analytes[longer] + ","
                                   + analytes[starts[longer] + k])
    return pd.DataFrame({"reason": joined_reasons, "analytes": joined_analytes},
                        index=pd.Index(g[starts], name="_group"), dtype=object)


def _summarise(frame: pd.DataFrame, require_confirmation: bool) -> pd.DataFrame:
    """One verdict per sample (and hair segment) and drug class, vectorised over groups.

    Confirmation rows decide when a group has any (positive before inconclusive before
    negative); otherwise the screen rows decide, a screen positive being only
    inconclusive when confirmation is required. The reason joins the reasons of the
    deciding rows, in input order.
    """
    columns = [*_KEYS, "drug", *_CARRY, "classification", "reason", "analytes"]
    keys = [*_KEYS, "drug"]
    classified = frame["classification"].notna().to_numpy()
    at = np.flatnonzero(classified)  # the carried columns are read at these rows only
    rows = frame.loc[classified, [*keys, "method", "analyte", "classification", "reason"]]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    group = _sorted_groups([rows[k] for k in keys])
    n_groups = int(group.max()) + 1
    confirm = (rows["method"] == "confirm").to_numpy()
    classification = rows["classification"].to_numpy(dtype=object)
    rank = np.full(len(rows), -1)
    for name, value in _CLASS_RANK.items():
        rank[classification == name] = value

    def any_per_group(mask):
        return np.bincount(group[mask], minlength=n_groups) > 0

    has_confirm = any_per_group(confirm)
    eligible = confirm == has_confirm[group]
    best = np.full(n_groups, 3)
    for r in (2, 1, 0):  # the best (lowest) rank present among the eligible rows
        best[any_per_group(eligible & (rank == r))] = r
    picked = eligible & (rank == best[group])
    screen_positive = any_per_group(~confirm & (rank == 0))

    joined = _join_per_group(group[picked], rows["reason"].to_numpy()[picked],
                             rows["analyte"].to_numpy()[picked])
    # the keys of each group's first row; the carried columns' first non-missing values
    # (as groupby.first() gives them), as Python objects with None for missing
    first_row = np.unique(group, return_index=True)[1]
    out = rows[keys].iloc[first_row].reset_index(drop=True)
    for name in _CARRY:
        out[name] = _first_present(frame[name], group, at, first_row)
    cls = best  # rank of each group's class
    reason = joined["reason"].reindex(out.index).to_numpy(dtype=object, copy=True)
    from_screen = ~has_confirm & (best == 0)
    if require_confirmation:
        cls = np.where(from_screen, _CLASS_RANK["inconclusive"], cls)
        reason[from_screen] = reason[from_screen] + " — screen positive but no confirmation"
    unconfirmed = has_confirm & (best == 2) & screen_positive
    reason[unconfirmed] = "screen positive, not confirmed: " + reason[unconfirmed]
    out["classification"] = text_column(_RANK_CLASS.tolist(), cls)  # taken, not converted
    out["reason"] = reason
    out["analytes"] = joined["analytes"].reindex(out.index).to_numpy(dtype=object)
    return out[columns]


def _first_present(column: pd.Series, group: np.ndarray, at: np.ndarray,
                   first_row: np.ndarray) -> pd.Series:
    """First non-missing value of ``column`` in each group ``0..len(first_row)-1`` (None if
    none; ``group`` is the group of rows ``at`` of ``column``, ``first_row`` each group's
    first row in ``at``), as Python objects (Timestamps for dates), each distinct value
    converted once."""
    rows = at[first_row]
    first = column.iloc[rows]  # usually present: a sample's carried values agree
    gap = np.flatnonzero(first.isna().to_numpy())
    if gap.size:  # groups whose first row lacks the value: their first row that has it
        present = np.flatnonzero(column.iloc[at].notna().to_numpy())
        ids, pos = np.unique(group[present], return_index=True)
        found = np.full(len(first_row), -1)
        found[ids] = at[present[pos]]
        rows[gap] = found[gap]
    codes, uniques = pd.factorize(column.iloc[np.maximum(rows, 0)])
    objects = np.append(pd.Series(uniques).astype(object).to_numpy(), None)
    return pd.Series(np.where(rows < 0, None, objects[codes]), dtype=object)


def _numeric_column(values: pd.Series, column: str) -> pd.Series:
    """Numbers as floats; text that is not a number is refused, never read as missing."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    bad = numbers.isna() & values.notna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"expected a number (censored results have an empty value and a detection "
            f"class), got {values.iloc[i]!r} at position {i}", column=column)
    return numbers


def classify(
    results: pd.DataFrame,
    cutoff_set: str | pd.DataFrame = "china-hair",
    *,
    require_confirmation: bool = True,
) -> Classification:
    """Classify lab results against a cutoff set, per result and per sample and drug class.

    Parameters
    ----------
    results : pandas.DataFrame
        Lab results in the long format of ``docs/data-model.md`` (as read by
        :mod:`wbe.lab.io`): ``sample_id, matrix, analyte, method, value, detection`` and
        optionally ``batch, subject_key, collected_on, group, segment_cm_from,
        segment_cm_to, sample_type, unit, loq``. Values in ``unit`` (default the
        canonical ng/mg for hair, ng/mL for urine). Screen rows may name a drug class
        (``amphetamines``) instead of an analyte.
    cutoff_set : str or pandas.DataFrame, default "china-hair"
        A registry set name (:func:`wbe.datasets.load_cutoffs`) or a table with its
        columns.
    require_confirmation : bool, default True
        A screen positive without any confirmatory result is ``inconclusive``; with
        False it counts as positive (for programmes that act on screening kits alone).

    Returns
    -------
    Classification
        ``results`` with ``drug``, ``cutoff``, ``classification``, ``reason``, and the
        per-sample-and-drug ``summary``.

    Raises
    ------
    InputError
        Missing columns, a matrix other than hair/urine, or a cutoff table without the
        needed columns.
    UnitError
        A unit in the results or the cutoff table that does not fit the matrix.
    UnknownNameError
        Unknown cutoff set (the message lists the sets).

    Notes
    -----
    Per result (subject samples only):

    - quantified :math:`x \\ge c` is positive, :math:`x < c` negative (cutoffs are "equal
      to or greater than" in SAMHSA 2017 and SoHT 2012);
    - a censored result (below LOQ/LOD, not detected) is negative, unless its LOQ is
      above the cutoff: then the test could not have seen a value at the cutoff and the
      result is inconclusive;
    - a qualitative 阳性/positive is positive on a screen and inconclusive on a
      confirmation (no concentration to compare);
    - a confirmatory positive whose cutoff row names a required co-analyte (SAMHSA 2017:
      methamphetamine needs amphetamine ≥ 100 ng/mL) is inconclusive when that
      co-analyte is missing or below its cutoff in the same sample (and segment).

    Per sample, segment and drug class: with confirmatory results the class is positive
    if any analyte is positive, else inconclusive if any is, else negative (a screen
    positive whose confirmation is negative is negative, and says so). With screens only,
    a positive screen is inconclusive (``require_confirmation=True``), a negative one
    negative. Analytes without a cutoff in the set are kept with ``classification``
    ``None`` and a reason, and do not enter the summary.

    References
    ----------
    Cooper GAA, Kronstrand R, Kintz P (2012). Society of Hair Testing guidelines for drug
    testing in hair. Forensic Sci Int 218(1-3):20-24. doi:10.1016/j.forsciint.2011.10.024

    HHS/SAMHSA (2017). Mandatory Guidelines for Federal Workplace Drug Testing Programs.
    Federal Register 82:7920-7970.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({
    ...     "sample_id": ["U1", "U1", "U2", "U2"], "matrix": "urine", "method": "confirm",
    ...     "analyte": ["methamphetamine", "amphetamine"] * 2,
    ...     "value": [900.0, 150.0, 300.0, 40.0], "detection": "quantified",
    ... })
    >>> res, summary = classify(r, "samhsa2017")
    >>> summary[["sample_id", "drug", "classification"]]
      sample_id          drug classification
    0        U1  amphetamines       positive
    1        U2  amphetamines   inconclusive
    >>> res["reason"].iloc[2].split("; ")[1]
    'but the required amphetamine is 40 (< 100 ng/mL)'
    """
    cut, set_name = _cutoff_table(cutoff_set)
    frame = _prepare(results)
    matrices = set(frame["matrix"].unique().tolist()) - set(cut["matrix"])
    if matrices:
        raise InputError(
            f"cutoff set {set_name!r} has no {'/'.join(sorted(matrices))} cutoffs; it covers "
            f"{', '.join(sorted(set(cut['matrix'])))}"
        )
    skip_reason = frame["_skip"]
    idx, combination = _match_cutoffs(frame, cut)
    skip = frame.pop("_skip").notna().to_numpy()
    idx = np.where(skip, -1, idx)
    subject = _is_subject(frame)
    cls, reason, cutoff = _row_classes(frame, cut, idx, set_name, subject, combination)
    reason = np.where(skip & subject, skip_reason.to_numpy(dtype=object), reason)
    _apply_requirements(frame, cut, idx, cls, reason)
    drug = np.where(idx >= 0, cut["analyte_class"].to_numpy()[np.maximum(idx, 0)], None)
    frame["drug"] = pd.Series(drug, index=frame.index, dtype=object)
    frame["cutoff"] = cutoff
    frame["classification"] = pd.Series(cls, index=frame.index, dtype=object)
    frame["reason"] = pd.Series(reason, index=frame.index, dtype=object)
    summary = _summarise(frame, require_confirmation)
    return Classification(results=frame, summary=summary, cutoff_set=set_name)
