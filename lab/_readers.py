"""Readers of hair and urine batch results (private; public names in :mod:`wbe.lab.io`).

Every reader turns its input into one raw long table of text cells with canonical column
names and ``source_row`` (the row a spreadsheet user sees), then :func:`_finish` parses,
checks, converts units, pseudonymises subjects and splits accepted rows from rejects.
See ``docs/lab-formats.md`` for the formats.
"""

from __future__ import annotations

import functools
import re
import unicodedata
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from wbe._tabular import (
    COLUMN_ALIASES,
    OBJECT_CELLS,
    ReadResult,
    Rejects,
    censored_from_codes,
    duplicated_rows,
    header_or_argument_unit,
    parse_censored,
    parse_dates,
    parse_numbers,
    read_table,
    require_columns,
    source_label,
    text_column,
    warn_future_dates,
)
from wbe.datasets import load_biomarkers, load_cutoffs, resolve_analyte
from wbe.errors import (
    ImplausibleValueWarning,
    InputError,
    UnitError,
    UnknownNameError,
    unknown_name_error,
)
from wbe.lab.privacy import (
    REDACTED,
    Redactor,
    looks_like_personal_identifier,
    subject_keys,
)
from wbe.units import CANONICAL_UNITS, conversion_factor, normalise_unit

__all__: list[str] = []

#: Columns of the canonical lab results table, in order.
LAB_COLUMNS = (
    "batch", "sample_id", "subject_key", "matrix", "collected_on", "group", "analyte",
    "value", "unit", "method", "sample_type", "segment_cm_from", "segment_cm_to",
    "censored", "detection", "loq", "flag", "nominal", "response", "ion_ratio",
    "retention_time_min", "injection_order", "qc_level", "analyte_name", "analyte_known",
    "internal_standard", "note", "source_row",
)
MATRICES = ("hair", "urine")
METHODS = ("screen", "confirm")
SAMPLE_TYPES = ("unknown", "calibrator", "qc", "blank")
CANONICAL_UNIT = {m: CANONICAL_UNITS[m] for m in MATRICES}  # one source: wbe.units
#: Above these a value is legal but implausible [ng/mg hair, ng/mL urine].
MAX_PLAUSIBLE = {"hair": 1000.0, "urine": 1.0e6}

_IDENTIFIER_COLUMNS = ("subject_id", "subject_name")

LAB_COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "batch": ("batch", "batch_id", "batch id", "run", "run id", "批次", "批号", "检测批次"),
    "sample_id": (
        "sample_id", "sample id", "sample", "sample name", "sample no", "specimen id",
        "样品编号", "样本编号", "样品号", "检材编号", "样品名称", "样本号",
    ),
    "subject_id": (
        "subject_id", "subject id", "person id", "person_id", "id number", "id card",
        "id card number", "identity number", "身份证号", "身份证号码", "证件号码", "人员编号",
        "受检人编号",
    ),
    "subject_name": ("subject_name", "name", "subject name", "姓名", "受检人", "受检人姓名"),
    "matrix": ("matrix", "specimen", "specimen type", "检材", "检材类型", "样本类型"),
    "collected_on": (
        "collected_on", "collection date", "collected", "date", "sampling date",
        "采样日期", "采集日期", "送检日期", "日期",
    ),
    "group": ("group", "population", "cohort", "人群", "人员类别", "类别", "分组"),
    "analyte": COLUMN_ALIASES["biomarker"],
    "value": COLUMN_ALIASES["value"],
    "unit": COLUMN_ALIASES["unit"],
    "method": ("method", "test", "test type", "检测方法", "方法", "检测类型"),
    "sample_type": ("sample_type", "sample type", "type", "样品类型", "样本性质"),
    "segment": ("segment", "hair segment", "分段", "毛发分段", "节段"),
    "segment_cm_from": ("segment_cm_from", "segment from", "segment start", "起始(cm)"),
    "segment_cm_to": ("segment_cm_to", "segment to", "segment end", "终止(cm)"),
    "loq": COLUMN_ALIASES["loq"],
    "flag": COLUMN_ALIASES["flag"],
    "nominal": ("nominal", "expected concentration", "nominal concentration", "理论浓度"),
    "response": ("response", "area ratio", "响应", "峰面积比"),
    "ion_ratio": ("ion_ratio", "ion ratio", "离子比"),
    "retention_time_min": ("retention_time_min", "retention time", "rt", "保留时间"),
    "injection_order": ("injection_order", "injection order", "进样顺序"),
    "qc_level": ("qc_level", "qc level", "level", "质控水平"),
}

_SAMPLE_TYPE_WORDS: dict[str, str] = {
    # SCIEX, Agilent, Waters, Shimadzu, Thermo vocabularies and Chinese terms
    "unknown": "unknown", "sample": "unknown", "analyte": "unknown", "unk": "unknown",
    "unk.": "unknown", "studysample": "unknown", "样品": "unknown", "待测样品": "unknown",
    "未知样": "unknown", "检材": "unknown",
    "standard": "calibrator", "std": "calibrator", "std.": "calibrator", "cal": "calibrator",
    "calstd": "calibrator", "calibrator": "calibrator", "calibration": "calibrator",
    "stdbracket": "calibrator", "标准品": "calibrator", "校准品": "calibrator",
    "标准": "calibrator",
    "qc": "qc", "qualitycontrol": "qc", "qcstd": "qc", "control": "qc", "质控": "qc",
    "质控品": "qc", "质控样": "qc",
    # MassHunter also writes ResponseCheck (system suitability), CC (continuing
    # calibration check) and MatrixSpike: checks of known concentration, read as QC
    "responsecheck": "qc", "cc": "qc", "matrixspike": "qc", "spike": "qc",
    "blank": "blank", "doubleblank": "blank", "solvent": "blank", "matrixblank": "blank",
    "solventblank": "blank", "reagentblank": "blank",
    "空白": "blank", "空白样": "blank", "溶剂": "blank",
}
_MATRIX_WORDS = {"hair": "hair", "毛发": "hair", "头发": "hair", "urine": "urine",
                 "尿": "urine", "尿液": "urine", "尿样": "urine"}
_METHOD_WORDS = {"screen": "screen", "screening": "screen", "immunoassay": "screen",
                 "初筛": "screen", "筛查": "screen", "快检": "screen", "confirm": "confirm",
                 "confirmation": "confirm", "confirmatory": "confirm", "确证": "confirm",
                 "确认": "confirm", "复核": "confirm", "lc-ms/ms": "confirm",
                 "gc-ms": "confirm"}
_POSITIVE_WORDS = {"阳性", "positive", "pos", "pos.", "+", "detected", "检出"}
_NO_PEAK_WORDS = {"nopeak", "no peak", "未检出峰", "无峰"}
_NOT_AVAILABLE = {"n/a", "na", "n.a."}
INTERNAL_STANDARD_RE = re.compile(
    r"(?:[-_]d\d{1,2}(?![\d:])|\sd\d{1,2}\s*$|^d\d{1,2}[-_ ]|\bistd\b|\(is\)|\bis\s*$|"
    r"^is[-_ ]|"
    r"\b13c\d*\b|\b15n\d*\b|内标|internal standard)",
    re.I,
)
_TRUE_WORDS = {"true", "yes", "y", "1", "is", "istd", "internal standard", "内标"}
_SEGMENT_RE = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*(?:-|~|～|–|—|至|到)\s*(\d+(?:\.\d+)?)\s*(?:cm)?\s*$"
)


def _key(text) -> str:
    if type(text) is str:  # cells repeat a lot (units, matrices, analytes, 未检出)
        return _text_key(text)
    return _text_key(str(text))


@functools.lru_cache(maxsize=65536)
def _text_key(text: str) -> str:
    return _SPACES_RE.sub("", unicodedata.normalize("NFKC", text).strip().lower())


_SPACES_RE = re.compile(r"\s+")


def _distinct(cells) -> tuple[np.ndarray, list]:
    """``(codes, values)``: each cell is ``values[code]``, code -1 for a missing cell.

    Text cells (and missing ones) are factorised, so that work per cell is done once per
    distinct text (lab columns repeat a handful of words); any other content is taken
    cell by cell (1, 1.0 and True are equal keys but different cells).
    """
    cells = np.asarray(cells, dtype=object)
    if len(cells) and pd.api.types.infer_dtype(cells, skipna=True) in ("string", "empty"):
        codes, uniques = pd.factorize(cells)
        return codes, uniques.tolist()
    missing = np.fromiter((_missing(v) for v in cells.tolist()), dtype=bool, count=len(cells))
    return np.where(missing, -1, np.arange(len(cells))), cells.tolist()


def _take(values: list, codes: np.ndarray, missing, dtype=object) -> np.ndarray:
    """``values[code]`` for each code, ``missing`` where the code is -1."""
    table = np.empty(len(values) + 1, dtype=dtype)
    for i, v in enumerate(values):
        table[i] = v
    table[-1] = missing
    return table[codes]


def _with_default(coded: tuple[np.ndarray, list], default) -> tuple[np.ndarray, list]:
    """A column's ``(codes, values)`` with ``default`` in its missing cells (None: as is)."""
    codes, values = coded
    if default is None:
        return coded
    return np.where(codes < 0, len(values), codes), [*values, default]


def _compact(codes: np.ndarray, values: list) -> tuple[np.ndarray, list]:
    """The same cells coded into their distinct non-missing values (-1 for None); for
    columns of canonical words, where several written forms map to one word."""
    value_codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    return np.append(value_codes, -1)[codes], uniques.tolist()


def _column(codes: np.ndarray, values: list):
    """``values[code]`` for each code (-1: None) as the column pandas makes of those
    cells: text and None are taken as a string column, anything else cell by cell."""
    if all(v is None or type(v) is str for v in values):
        return text_column([*values, None], codes)
    return _take(values, codes, None)


def _screen_classes() -> set[str]:
    try:
        return {str(c) for c in load_cutoffs()["analyte_class"].dropna().unique()}
    except (InputError, FileNotFoundError):  # registry file not installed yet
        return set()


def _map_words(coded: tuple[np.ndarray, list], words: dict[str, str], default: str | None):
    """``(codes, words)`` of the canonical word of each cell (``default`` for a missing
    cell; None for text no word fits) and the mask of the cells no word fits. Each
    distinct cell is looked up once (lab columns repeat a handful of words)."""
    codes, values = coded
    keys = [None if _missing(v) else _key(v) for v in values]  # _key strips spaces
    mapped = [None if k is None else words.get(k) for k in keys]
    bad = np.asarray([False, *(m is None and k is not None for m, k in zip(mapped, keys,
                                                                          strict=True))])
    return (codes + 1, [default, *mapped]), bad[codes + 1]


def _resolve_analytes(raw, method, stated_std, index):
    """Canonical analyte ids; screen rows may name a drug class. ``raw``, ``method`` and
    ``stated_std`` are ``(codes, values)`` of the cells. Returns (ids, reasons,
    is_internal_standard, known, notes, ``(codes, values)`` of the ids).

    A name the registry does not know is kept as written (``known`` False, with a note),
    never rejected: labs measure more than the registry's drugs. Internal standards
    (named ``-d5``, ``ISTD``, ``(IS)``, ``13C``, ``内标`` or stated by the export) are
    kept and flagged. Only a missing name is a reason to reject.
    """
    classes = {_key(c): c for c in _screen_classes()}

    def resolve(name, meth, std):
        if name is None:
            return (None, "missing analyte", False, False, None)
        is_std = (std is not None and _key(std) in _TRUE_WORDS) or bool(
            INTERNAL_STANDARD_RE.search(name))
        try:
            return (resolve_analyte(name), None, is_std, True,
                    "internal standard; kept apart, not classified" if is_std else None)
        except UnknownNameError as exc:
            if meth == "screen" and _key(name) in classes:
                return (classes[_key(name)], None, False, True, None)
            if is_std:
                return (name, None, True, False,
                        "internal standard; kept apart, not classified")
            close = re.search(r"\(closest: ([^)]*)\)", exc.message)
            hint = f"closest known: {close.group(1)}" if close else ""
            return (name, None, False, False,
                    "analyte not in the registry; kept as written, not classified"
                    + (f" ({hint})" if hint else ""))

    # each distinct (name, method, stated standard) once; rows take their combination's
    parts = [raw, method, stated_std]
    combo = np.zeros(len(index), dtype=np.int64)
    for codes, values in parts:  # factorised at each step: the codes stay below n
        combo = pd.factorize(combo * (len(values) + 1) + (codes + 1))[0]
    first = np.unique(combo, return_index=True)[1] if len(combo) else np.zeros(0, int)
    got = [resolve(*(None if codes[i] < 0 else values[codes[i]] for codes, values in parts))
           for i in first.tolist()]
    columns = list(zip(*got, strict=True)) if got else [(), (), (), (), ()]
    ids, reasons, is_std, known, notes = (_take(list(c), combo, None) for c in columns)
    return (pd.Series(ids, index=index, dtype=object),
            pd.Series(reasons, index=index, dtype=object),
            is_std.astype(bool), known.astype(bool),
            pd.Series(notes, index=index, dtype=object), (combo, list(columns[0])))


def _parse_values(raw: pd.Series, dash: str, coded=None) -> pd.DataFrame:
    """Numbers, censored entries and sentinels ('No Peak', 'N/A', '阳性'); ``coded``: the
    ``(codes, values)`` of ``raw`` when the caller has them."""
    codes, values = _distinct(raw) if coded is None else coded  # each distinct text once
    keys = [None if v is None else _key(v) for v in values]
    positive_words = {_key(w) for w in _POSITIVE_WORDS}
    no_peak_words = {_key(w) for w in _NO_PEAK_WORDS}
    positive = _take([k in positive_words for k in keys], codes, False, bool)
    no_peak = _take([k in no_peak_words for k in keys], codes, False, bool)
    not_available = _take([k in _NOT_AVAILABLE for k in keys], codes, False, bool)
    special = positive | no_peak | not_available
    if all(type(v) is str for v in values):  # the usual text cells: reuse their codes
        parsed = censored_from_codes(np.where(special, -1, codes), values, dash=dash,
                                     index=raw.index)
    else:
        parsed = parse_censored(raw.where(~special, None), dash=dash)
    parsed.loc[positive, "detection"] = "detected"
    parsed.loc[no_peak, ["detection"]] = "not_detected"
    parsed.loc[no_peak, "censored"] = True
    parsed["flag"] = pd.Series(
        np.where(special, raw.astype(object), None), index=raw.index, dtype=object
    )
    return parsed


_STATED_CENSORED = {"not_detected", "below_loq", "below_lod"}


def _apply_stated_detection(parsed: pd.DataFrame, stated: pd.Series) -> pd.DataFrame:
    """Honour an explicit ``detection`` column (the documented long format) for empty values.

    A row whose value cell is empty but whose ``detection`` says ``not_detected``,
    ``below_loq`` or ``below_lod`` is a censored result, not a missing one; any other
    stated class is left to the value cell.
    """
    codes, values = _distinct(stated)  # each distinct stated class once
    keys = [str(v).strip().lower() for v in values]
    if not any(k in _STATED_CENSORED for k in keys):
        return parsed
    stated_key = pd.Series(_take(keys, codes, None), index=stated.index, dtype=object)
    use = (parsed["value"].isna() & parsed["detection"].isna() & parsed["reason"].isna()
           & stated_key.isin(_STATED_CENSORED)).to_numpy()
    parsed.loc[use, "detection"] = stated_key[use]
    parsed.loc[use, "censored"] = True
    return parsed


def _parse_segments(frame: pd.DataFrame, rejects: Rejects) -> tuple[np.ndarray, np.ndarray]:
    n = len(frame)
    start = np.full(n, np.nan)
    end = np.full(n, np.nan)
    if "segment" in frame.columns:
        for i, text in enumerate(frame["segment"].tolist()):
            if text is None:
                continue
            m = _SEGMENT_RE.match(unicodedata.normalize("NFKC", text))
            if m is None:
                rejects.add([frame["source_row"].iloc[i]], "segment", [text],
                            "expected a hair segment in cm from the scalp such as '0-3' or "
                            "'0-3 cm'")
                continue
            start[i], end[i] = float(m.group(1)), float(m.group(2))
    for col, target in (("segment_cm_from", start), ("segment_cm_to", end)):
        if col in frame.columns:
            vals, reasons = parse_numbers(frame[col])
            bad = reasons.notna().to_numpy()
            rejects.add_mask(frame, bad, col, reasons)
            use = ~np.isnan(vals.to_numpy())
            target[use] = vals.to_numpy()[use]
    bad = ~np.isnan(start) & ~np.isnan(end) & ~(end > start)
    bad |= (~np.isnan(start) & (start < 0))
    rejects.add_mask(frame, bad, "segment", "segment end must exceed its start (cm, ≥ 0)",
                     value_column="segment" if "segment" in frame else None)
    return start, end


#: Molar units [mol/L for urine, mol/g for hair] by normalised spelling
#: (:func:`wbe.units.normalise_unit` lower-cases, so nM is "nm" and µM is "um").
MOLAR_UNITS = {
    "urine": {"pm": 1e-12, "nm": 1e-9, "um": 1e-6, "mm": 1e-3, "pmol/l": 1e-12,
              "nmol/l": 1e-9, "umol/l": 1e-6, "mmol/l": 1e-3, "pmol/ml": 1e-9,
              "nmol/ml": 1e-6, "umol/ml": 1e-3},
    "hair": {"pmol/mg": 1e-9, "nmol/mg": 1e-6, "pmol/g": 1e-12, "nmol/g": 1e-9,
             "umol/g": 1e-6},
}


def _molar_masses() -> dict[str, float]:
    """Molar mass [g/mol] of each registry analyte that has one."""
    table = load_biomarkers()
    masses = table.set_index("biomarker")["molar_mass_g_per_mol"].dropna()
    return {str(k): float(v) for k, v in masses.items()}


def _unit_factors(frame, units, matrix, unit_arg, rejects, needs, analyte, known):
    """Factor to the canonical unit of each row's matrix (NaN where unknown), and the
    unit kept for rows whose molar value cannot be converted (None elsewhere).

    Rows where ``needs`` is False (qualitative results, no number) get factor 1 and need
    no unit. Molar units (nM, µM, nmol/L; pmol/mg for hair) convert with the registry's
    molar mass: c [ng/mL] = c [mol/L] x M [g/mol] x 1e6 (and the same from mol/g to
    ng/mg); an analyte without a molar mass keeps its molar value and unit. ``units`` and
    ``matrix`` are ``(codes, values)`` of the cells (matrix values distinct)."""
    u_codes, u_values = units
    m_codes, m_values = matrix
    used = set(np.asarray(m_values, dtype=object)[np.unique(m_codes[m_codes >= 0])].tolist())
    present = tuple(m for m in MATRICES if m in used)
    default = header_or_argument_unit(frame, "value", unit_arg, present or MATRICES,
                                      rejects.source_file, validate=False)
    n = len(frame)
    factors = np.where(needs, np.nan, 1.0)
    kept = np.full(n, None, dtype=object)
    active = np.flatnonzero(np.asarray(needs, dtype=bool) & (m_codes >= 0))
    if active.size == 0:
        return factors, kept
    # each distinct (unit, matrix) once: a factor, a molar factor [mol per unit] or a reason
    combo, pairs = pd.factorize(u_codes[active] * (len(m_values) + 1) + m_codes[active])
    outcome = []
    for pair in pairs.tolist():
        uc, mc = divmod(pair, len(m_values) + 1)
        u = default if uc < 0 else u_values[uc]
        outcome.append(_unit_outcome(u, m_values[mc]))
    kind = np.array([o[0] for o in outcome], dtype=object)[combo]
    number = np.array([o[1] if o[0] != "reason" else np.nan for o in outcome])[combo]
    unit_of_row = np.where(u_codes[active] < 0, default,
                           np.asarray([*u_values, None], dtype=object)[u_codes[active]])
    plain = kind == "factor"
    factors[active[plain]] = number[plain]
    molar = np.flatnonzero(kind == "molar")
    if molar.size:
        masses = _molar_masses()
        rows = active[molar]
        mass = np.array([masses.get(a, np.nan) if k else np.nan
                         for a, k in zip(analyte.to_numpy(dtype=object)[rows].tolist(),
                                         np.asarray(known)[rows].tolist(), strict=True)])
        has_mass = ~np.isnan(mass)
        factors[rows] = np.where(has_mass, number[molar] * mass * 1e6, 1.0)
        kept[rows[~has_mass]] = unit_of_row[molar][~has_mass]
    bad = np.flatnonzero(kind == "reason")
    if bad.size:
        reasons = np.array([o[1] if o[0] == "reason" else None for o in outcome],
                           dtype=object)[combo]
        rejects.add(frame["source_row"].to_numpy()[active[bad]], "unit",
                    unit_of_row[bad].tolist(), reasons[bad].tolist())
    return factors, kept


def _unit_outcome(unit, matrix: str) -> tuple[str, float | str]:
    """``("factor", f)``, ``("molar", mol per unit)`` or ``("reason", why)`` of a unit."""
    if unit is None:
        return ("reason", "no unit: give a unit column, a unit in the value header "
                "('浓度(ng/mg)') or unit=")
    norm = normalise_unit(unit)
    if norm in MOLAR_UNITS.get(matrix, {}):
        return ("molar", MOLAR_UNITS[matrix][norm])
    try:
        return ("factor", conversion_factor(unit, matrix))
    except UnitError as exc:
        return ("reason", exc.message)


def _none_for_missing(column: pd.Series, clean: bool = False) -> np.ndarray:
    """The cells of ``column`` as Python objects, None for every missing one (``clean``:
    an object column known to hold only str and None, taken as it is)."""
    cells = column.to_numpy(dtype=object)
    if clean and column.dtype == object:
        return cells
    missing = pd.isna(cells)
    if missing.any():
        cells = cells.copy()
        cells[missing] = None
    return cells


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _redacted_rejects(rejects: Rejects, redactor: Redactor) -> Rejects:
    """Rejects that never show a subject identifier, in any column or reason."""
    clean = Rejects(redactor.text(rejects.source_file))
    for part in rejects._parts:
        part = redactor.frame(part)
        part.loc[part["column"].isin(_IDENTIFIER_COLUMNS), "value"] = REDACTED
        clean._parts.append(part)
    return clean


def _holds_identifier(cells: pd.Series, redactor: Redactor, coded=None) -> np.ndarray:
    """Which cells hold an identifier (each distinct cell text checked once; ``coded``:
    the ``(codes, values)`` of ``cells`` when the caller has them)."""
    if coded is not None and all(type(v) is str for v in coded[1]):
        codes, values = coded
        return np.asarray([*redactor.contains_all(values), False])[codes]
    found = {v for v in pd.unique(cells.to_numpy(dtype=object)).tolist()
             if v is not None and redactor.contains(v)}
    return cells.isin(found).to_numpy(dtype=bool) if found else np.zeros(len(cells), bool)


def _reject_identifier_cells(frame: pd.DataFrame, redactor: Redactor, rejects: Rejects,
                             coded):
    """Reject rows with an identifier outside the identifier columns (a clerk's slip).

    Group labels are published, so a label that looks like a person's name is refused
    too; the sample id is checked by the caller.
    """
    rows = frame["source_row"].to_numpy()
    if "group" in frame.columns:
        bad_labels = {v for v in frame["group"].dropna().unique().tolist()
                      if looks_like_personal_identifier(v, redactor)}
        bad = frame["group"].isin(bad_labels).to_numpy(dtype=bool)
        rejects.add(rows[bad], "group", [REDACTED] * int(bad.sum()),
                    "the group label looks like a personal identifier (an ID-card number or "
                    "a person's name) and would be published; use a category such as "
                    "社区康复 or drivers")
    for name in frame.columns.difference([*_IDENTIFIER_COLUMNS, "sample_id", "group",
                                          "source_row"]):
        hit = _holds_identifier(frame[name], redactor, coded(name))
        rejects.add(rows[hit], name, [REDACTED] * int(hit.sum()),
                    "the cell looks like a personal identifier (an ID-card number or a "
                    "subject's name or id); identifiers belong in the subject id or name "
                    "column only")


def _declared_identifiers(frame: pd.DataFrame, coded) -> list:
    """Values of the batch's identifier columns (redacted wherever they are echoed)."""
    return [v for c in _IDENTIFIER_COLUMNS if c in frame.columns
            for v in coded(c)[1] if not _missing(v)]


def _finish(
    raw: pd.DataFrame,
    label: str,
    *,
    key,
    require_subject: bool,
    matrix: str | None,
    batch: str | None,
    method: str | None,
    unit: str | None,
    dash: str,
    date_format: str | None,
    on_error: str,
    rejects: Rejects | None = None,
    collected: tuple[pd.Series, pd.Series] | None = None,
) -> ReadResult:
    if on_error not in ("reject", "raise"):
        raise unknown_name_error("on_error policy", on_error, ("reject", "raise"))
    for name, value, valid in (("matrix", matrix, MATRICES), ("method", method, METHODS)):
        if value is not None and value not in valid:
            raise unknown_name_error(name, value, valid, file=label)
    outer = rejects if rejects is not None else Rejects(label)
    rejects = Rejects(label)  # keyed by result position; mapped to source rows at the end
    frame = raw.reset_index(drop=True)
    attrs = dict(frame.attrs)
    n = len(frame)
    # one source row may hold several results (a wide MassHunter row): problems are
    # recorded per result (position) so that one bad cell never removes its neighbours
    source_rows = frame["source_row"].to_numpy(dtype=np.int64)
    clean = bool(attrs.pop(OBJECT_CELLS, False))  # read_table's object columns: str/None
    frame = pd.DataFrame({name: _none_for_missing(frame[name], clean)
                          for name in frame.columns if name != "source_row"},
                         index=frame.index, dtype=object)
    frame["source_row"] = np.arange(n, dtype=np.int64)
    frame.attrs = attrs

    def col(name, default=None):
        if name in frame.columns:
            if default is None:  # missing cells are None already
                return frame[name]
            return frame[name].where(frame[name].notna(), default)
        return pd.Series([default] * n, index=frame.index, dtype=object)

    def numbers(name):  # parse_numbers of a column; an absent one is all empty
        if name in frame.columns:
            return parse_numbers(frame[name])
        return (pd.Series(np.nan, index=frame.index, dtype=float),
                pd.Series(None, index=frame.index, dtype=object))

    codes_of: dict[str, tuple[np.ndarray, list]] = {}

    def coded(name):  # (codes, values) of a column's cells, factorised once per column
        if name not in codes_of:
            codes_of[name] = (_distinct(frame[name]) if name in frame.columns
                              else (np.full(n, -1, dtype=np.int64), []))
        return codes_of[name]

    rows = frame["source_row"].to_numpy()
    redactor = Redactor(_declared_identifiers(frame, coded))
    _reject_identifier_cells(frame, redactor, rejects, coded)
    # sample id: required, never an ID-card number
    sample_id = col("sample_id")
    looks_like_id = pd.Series(_holds_identifier(sample_id, redactor, coded("sample_id")),
                              index=sample_id.index)
    rejects.add_mask(frame, sample_id.isna().to_numpy(), "sample_id", "missing sample id")
    rejects.add(rows[looks_like_id.to_numpy()], "sample_id",
                [REDACTED] * int(looks_like_id.sum()),
                "the sample id looks like a resident ID-card number or a subject's name or "
                "id; put identifiers in the subject id column (they are pseudonymised) and "
                "use lab sample codes")
    # categorical columns
    stype_coded, bad = _map_words(coded("sample_type"), _SAMPLE_TYPE_WORDS, "unknown")
    subject_sample = _take([v == "unknown" for v in stype_coded[1]], stype_coded[0], False,
                           bool)
    rejects.add_mask(frame, bad, "sample_type",
                     f"unknown sample type; expected one of {', '.join(SAMPLE_TYPES)} "
                     "(or Standard, Cal, QC, Blank, Unknown, Sample, Analyte, 标准品, 质控, "
                     "空白, 样品)")
    mat_coded, bad = _map_words(_with_default(coded("matrix"), matrix), _MATRIX_WORDS, None)
    m_codes, m_values = _compact(*mat_coded)
    rejects.add_mask(frame, bad, "matrix", "expected hair (毛发) or urine (尿液)")
    rejects.add_mask(frame, (m_codes < 0) & ~bad, "matrix",
                     "missing matrix: give a matrix column or matrix='hair'/'urine'")
    meth_coded, bad = _map_words(_with_default(coded("method"), method), _METHOD_WORDS,
                                 "confirm")
    rejects.add_mask(frame, bad, "method",
                     "expected screen (初筛) or confirm (确证)")
    analyte, reasons, is_std, known, notes, analyte_coded = _resolve_analytes(
        coded("analyte"), meth_coded, coded("internal_standard"), frame.index)
    # an unknown analyte is kept as written, so one that looks like a person's name or an
    # ID number (typed into the wrong column) would reach the output: reject it instead
    unknown = pd.Series(~known & ~is_std, index=analyte.index)
    suspects = {v for v in analyte[unknown].dropna().unique().tolist()
                if looks_like_personal_identifier(v, redactor)}  # each distinct name once
    personal = unknown & analyte.isin(suspects)
    reasons = reasons.where(~personal, "the analyte looks like a person's name or an "
                            "identifier; put identifiers in the subject id column")
    bad = reasons.notna().to_numpy()
    rejects.add_mask(frame, bad, "analyte", reasons)
    # values
    parsed = _apply_stated_detection(_parse_values(col("value"), dash, coded("value")),
                                     col("detection"))
    bad = parsed["reason"].notna().to_numpy()
    rejects.add_mask(frame, bad, "value", parsed["reason"])
    no_result = (parsed["detection"].isna() & parsed["reason"].isna()).to_numpy()
    rejects.add_mask(frame, no_result & subject_sample & ~is_std, "value",
                     "no result for a subject sample (empty or N/A)")
    loq_given, loq_reason = numbers("loq")
    nominal_given = numbers("nominal")[0].notna().to_numpy()
    needs_unit = (parsed["value"].notna() | parsed["limit"].notna()
                  | loq_given.notna()).to_numpy() | nominal_given
    factors, kept_unit = _unit_factors(frame, coded("unit"), (m_codes, m_values), unit,
                                       rejects, needs_unit, analyte, known)
    has_kept = pd.notna(kept_unit)
    if has_kept.any():
        notes = notes.where(~has_kept, notes.fillna("").str.cat(
            pd.Series([f"value kept in {u}: no molar mass in the registry to convert it"
                       for u in kept_unit], index=notes.index), sep="; ").str.lstrip("; "))
    value = parsed["value"].to_numpy() * factors
    rejects.add_mask(frame, loq_reason.notna().to_numpy(), "loq", loq_reason)
    loq = np.where(np.isnan(loq_given.to_numpy()), parsed["limit"].to_numpy(),
                   loq_given.to_numpy())
    loq = np.where(loq > 0, loq, np.nan) * factors
    negative = (value < 0) | (loq < 0)
    rejects.add_mask(frame, negative, "value", "negative concentration")
    # extra numeric columns (instrument exports)
    extras = {}
    for name in ("nominal", "response", "ion_ratio", "retention_time_min", "injection_order"):
        vals, reasons_x = numbers(name)
        if name in frame.columns:
            parsed_x = _parse_values(col(name), "missing")
            ok_sentinel = parsed_x["flag"].notna() | parsed_x["detection"].eq("not_detected")
            reasons_x = reasons_x.where(~ok_sentinel.to_numpy(), None)
        rejects.add_mask(frame, reasons_x.notna().to_numpy(), name, reasons_x)
        extras[name] = vals.to_numpy()
    extras["nominal"] = extras["nominal"] * factors
    # dates
    if collected is None:
        dates, date_reasons = parse_dates(col("collected_on"), date_format=date_format)
    else:  # parsed already by the caller (same cells, same order)
        dates, date_reasons = (pd.Series(x.to_numpy(), index=frame.index) for x in collected)
    rejects.add_mask(frame, date_reasons.notna().to_numpy(), "collected_on", date_reasons)
    seg_from, seg_to = _parse_segments(frame, rejects)
    # subjects: keyed pseudonyms; raw identifiers never leave this function
    if "subject_name" in frame.columns:
        ident = col("subject_id")
        ident_codes, ident_values = _distinct(ident.where(ident.notna(), col("subject_name")))
    else:
        ident_codes, ident_values = coded("subject_id")
    has_ident = ident_codes >= 0
    if has_ident.any() or require_subject:  # each distinct identifier keyed once
        subject_key = _column(ident_codes, subject_keys(ident_values, key).tolist())
    else:
        subject_key = np.full(n, None, dtype=object)
    if require_subject:
        missing = ~has_ident & subject_sample
        rejects.add_mask(frame, missing, "subject_id",
                         "missing subject identifier for a subject sample")
    out = pd.DataFrame({
        "batch": _column(*_with_default(coded("batch"), batch)),
        "sample_id": _column(*coded("sample_id")),
        "subject_key": subject_key,
        "matrix": text_column([*m_values, None], m_codes),  # taken, not converted
        "collected_on": dates.to_numpy(),
        "group": _column(*coded("group")),
        "analyte": _column(*analyte_coded),
        "value": value,
        "unit": (np.where(has_kept, kept_unit, _take([CANONICAL_UNIT.get(m) for m in m_values],
                                                       m_codes, None)) if has_kept.any()
                 else text_column([*(CANONICAL_UNIT.get(m) for m in m_values), None],
                                  m_codes)),
        "method": _column(*meth_coded),
        "sample_type": _column(*stype_coded),
        "segment_cm_from": seg_from,
        "segment_cm_to": seg_to,
        "censored": parsed["censored"].to_numpy(dtype=bool),
        "detection": parsed["detection"].array,  # a string column already (or all None)
        "loq": loq,
        "flag": parsed["flag"].where(parsed["flag"].notna(), col("flag")).to_numpy(dtype=object),
        **extras,
        "qc_level": col("qc_level").to_numpy(dtype=object),
        "analyte_name": _column(*coded("analyte")),
        "analyte_known": known,
        "internal_standard": is_std,
        "note": notes.to_numpy(dtype=object),
        "source_row": rows,
    })
    if out["batch"].isna().all() and batch is None:
        out["batch"] = Path(label).stem if label and not label.startswith("<") else None
    # duplicates: the same measurement twice cannot be told apart; reject all copies
    # (batch, sample_id, analyte, method, segment_cm_from, segment_cm_to) by their codes
    keys = [_compact(*_with_default(coded("batch"), batch))[0],
            _compact(*coded("sample_id"))[0], _compact(*analyte_coded)[0],
            _compact(*meth_coded)[0], pd.factorize(seg_from)[0], pd.factorize(seg_to)[0]]
    dup = duplicated_rows(keys) & subject_sample
    # (values that look like ID-card numbers are redacted by _redacted_rejects below)
    rejects.add(rows[dup], "sample_id", out["sample_id"][dup].tolist(),
                "duplicated (batch, sample, analyte, method, segment); all copies rejected")
    rejected = np.zeros(n, dtype=bool)
    rejected[sorted(rejects.rows)] = True
    rejected |= np.isin(source_rows, sorted(outer.rows))  # whole rows rejected before _finish
    rejects = _redacted_rejects(_to_source_rows(rejects, outer, source_rows, frame),
                                redactor.guessing_names())
    if on_error == "raise":
        rejects.raise_first()
    data = out[~rejected].reset_index(drop=True) if rejected.any() else out
    data["source_row"] = source_rows[~rejected]
    _warn_implausible(data, label)
    if list(data.columns) != list(LAB_COLUMNS):
        data = data[list(LAB_COLUMNS)]
    return ReadResult(data=data, rejects=rejects.frame(), source=label)


def _to_source_rows(rejects: Rejects, outer: Rejects, source_rows, frame) -> Rejects:
    """Rejects recorded per result position, back on the rows of the source file.

    When the export names the block of each result (``result_label``, for example
    ``"Cortisol Results"``), the column is reported as ``"value (Cortisol Results)"``.
    """
    labels = frame["result_label"].to_numpy() if "result_label" in frame else None
    for part in rejects._parts:
        pos = part["source_row"].to_numpy()
        part = part.assign(source_row=source_rows[pos])
        if labels is not None:
            part["column"] = [c if lab is None or c in _IDENTIFIER_COLUMNS else f"{c} ({lab})"
                              for c, lab in zip(part["column"], labels[pos], strict=True)]
        outer._parts.append(part)
    return outer


def _warn_implausible(data: pd.DataFrame, label: str) -> None:
    matrix = data["matrix"].to_numpy(dtype=object)
    limit = np.full(len(data), np.nan)
    for name, most in MAX_PLAUSIBLE.items():
        limit[matrix == name] = most
    high = (data["value"] > limit) & data["sample_type"].eq("unknown")
    if high.any():
        first = data[high].iloc[0]
        warnings.warn(
            f"file {label!r}, row {int(first['source_row'])}: {first['analyte']} "
            f"{first['value']:g} {first['unit']} in {first['matrix']} is above "
            f"{MAX_PLAUSIBLE[first['matrix']]:g}; check the unit ({int(high.sum())} row(s))",
            ImplausibleValueWarning,
            stacklevel=3,
        )


def finish_export(raw, label, *, manifest, key, matrix, batch, method, unit, on_error,
                   rejects=None) -> ReadResult:
    """Join the optional sample manifest to an instrument export and finish it."""
    if manifest is not None and key is None:
        raise InputError("a manifest with subject identifiers needs key= (the lab's secret)")
    raw = _join_manifest(raw, manifest, label)
    return _finish(raw, label, key=key, require_subject=manifest is not None, matrix=matrix,
                   batch=batch, method=method, unit=unit, dash="reject", date_format=None,
                   on_error=on_error, rejects=rejects)


# --------------------------------------------------------------------------- long format


@Redactor(guess_names=True).guard  # errors raised before the identifier columns are known
def read_lab_results(
    source,
    *,
    key,
    matrix: str | None = None,
    batch: str | None = None,
    method: str | None = None,
    unit: str | None = None,
    dash: str = "reject",
    date_format: str | None = None,
    sheet: str | int | None = None,
    skip_rows: int = 0,
    file_label: str | None = None,
    on_error: str = "reject",
) -> ReadResult:
    """Read hair or urine results in the documented long format (one row per sample and
    analyte).

    Parameters
    ----------
    source : str, os.PathLike, pandas.DataFrame or file-like
        CSV/XLSX file, DataFrame or an open CSV file/buffer (``io.BytesIO``) with columns
        (English or Chinese headers, see
        ``docs/lab-formats.md``): ``sample_id`` (样品编号), ``analyte`` (检测物质),
        ``value`` (结果) and a subject identifier ``subject_id`` (身份证号) or
        ``subject_name`` (姓名); optional ``batch, matrix, collected_on, group, unit,
        method, sample_type, segment`` (``0-3 cm``) or ``segment_cm_from/_to``,
        ``loq, flag, nominal, response, ion_ratio, retention_time_min,
        injection_order, qc_level``.
    key : bytes or str
        The lab's secret pseudonymisation key (at least 32 bytes, made by a random
        generator such as ``secrets.token_hex(32)``); required. The public demo key and
        regular keys are refused (:func:`wbe.lab.privacy.key_entropy_bits`).
    matrix : {"hair", "urine"}, optional
        For rows without a ``matrix`` cell.
    batch, method, unit : str, optional
        Defaults for rows without these cells (``method`` defaults to ``confirm``).
        ``unit`` is the value unit when there is no ``unit`` column and no unit in the
        value header.
    dash : {"reject", "not_detected", "missing"}
        How a lone ``-`` result is read.
    date_format : str, optional
        strptime format for ambiguous dates.
    sheet, skip_rows, file_label
        Excel sheet (first if omitted), title rows above the header, and the name used in
        messages instead of the file name, as in :func:`wbe.io.read_samples`.
    on_error : {"reject", "raise"}
        Return row problems as rejects, or raise on the first.

    Returns
    -------
    ReadResult
        ``data`` with the columns of ``docs/data-model.md`` (lab results) plus ``loq``,
        ``flag`` and the instrument columns; values in ng/mg (hair) or ng/mL (urine).
        ``subject_key`` is the keyed pseudonym; the identifier columns are not returned.

    Raises
    ------
    InputError
        Missing columns, missing, short, public or regular key, unreadable file; with
        ``on_error="raise"`` the first row problem (never showing an identifier).
    UnitError, UnknownNameError
        Unknown ``unit=``, ``matrix=`` or ``method=`` argument.

    Warns
    -----
    ImplausibleValueWarning
        A subject result above 1000 ng/mg (hair) or 10^6 ng/mL (urine); a collection date
        after today.

    Notes
    -----
    Result cells: numbers; ``<LOQ``, ``<0.05``, ``<LOD``, ``n.d.``, ``未检出``, ``阴性``
    and ``No Peak`` are censored (``detection`` ``below_loq``, ``below_lod`` or
    ``not_detected``; the number in ``<0.05`` becomes ``loq``); ``阳性``/``positive``
    give ``detection == "detected"`` without a value (a qualitative screen);
    ``N/A`` or an empty cell is no result, refused for subject samples. Rows naming an
    internal standard (``-d5``, ``ISTD``, ``内标``) are kept with ``internal_standard``
    True; an analyte name the registry does not know is kept as written with
    ``analyte_known`` False and a ``note`` (neither is classified). Duplicated (batch,
    sample, analyte, method, segment) rows are all rejected.

    A cell outside the identifier columns that holds an ID-card number (18 characters
    with or without a valid check character, or 15 digits) or one of the batch's
    declared names or subject ids is rejected, and a group label that looks like a
    person's name is too (:func:`wbe.lab.privacy.looks_like_personal_identifier`); the
    rejects and every message show ``<redacted>`` instead.
    Also rejected: a text ``NaN``/``null``/``None`` or a number of magnitude
    above 1e100 in a numeric column, a collection date outside 1677-09-22..2262-04-11
    (``9999-12-31``), and a quantified subject result below the ``loq`` of its own row.

    Examples
    --------
    >>> import pandas as pd
    >>> import secrets
    >>> t = pd.DataFrame({"样品编号": ["H1", "H1"], "身份证号": ["11010519491231002X"] * 2,
    ...                   "检测物质": ["甲基苯丙胺", "苯丙胺"], "结果": ["1.25", "<0.05"],
    ...                   "单位": "ng/mg", "检材": "毛发"})
    >>> data, rejects = read_lab_results(t, key=secrets.token_hex(32))
    >>> data[["analyte", "value", "detection", "loq"]]
               analyte  value   detection   loq
    0  methamphetamine   1.25  quantified   NaN
    1      amphetamine    NaN   below_loq  0.05
    >>> "11010519491231002X" in data.to_string()
    False
    """
    label = source_label(source, file_label)
    table = read_table(source, sheet=sheet, skip_rows=skip_rows, file_label=label,
                       object_columns=True)
    aliases = dict(LAB_COLUMN_ALIASES)
    table = require_columns(
        table, ["sample_id", "analyte", "value"], label,
        optional=[c for c in LAB_COLUMN_ALIASES if c not in ("sample_id", "analyte", "value")],
        aliases=aliases,
    )
    if not any(c in table.columns for c in _IDENTIFIER_COLUMNS):
        raise InputError(
            "no subject identifier column: add subject_id (身份证号) or subject_name (姓名); "
            "it is pseudonymised with key= and never written out",
            file=label,
        )
    if table.empty:  # a header without data rows: nothing to check, nothing to pseudonymise
        _finish_arguments_check(on_error, matrix, method, label)
        subject_keys(pd.Series([], dtype=object), key)  # the key is checked all the same
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in LAB_COLUMNS})
        empty["source_row"] = empty["source_row"].astype(np.int64)
        return ReadResult(data=empty, rejects=Rejects(label).frame(), source=label)
    rejects, collected = _entry_checks(table, label, date_format=date_format)
    return _finish(table, label, key=key, require_subject=True, matrix=matrix, batch=batch,
                   method=method, unit=unit, dash=dash, date_format=date_format,
                   on_error=on_error, rejects=rejects, collected=collected)


def _finish_arguments_check(on_error, matrix, method, label) -> None:
    """The argument checks of :func:`_finish`, for the early return of an empty table."""
    if on_error not in ("reject", "raise"):
        raise unknown_name_error("on_error policy", on_error, ("reject", "raise"))
    for name, value, valid in (("matrix", matrix, MATRICES), ("method", method, METHODS)):
        if value is not None and value not in valid:
            raise unknown_name_error(name, value, valid, file=label)


def _entry_checks(table: pd.DataFrame, label: str, *, date_format: str | None
                  ) -> tuple[Rejects, tuple[pd.Series, pd.Series] | None]:
    """Checks of the long format before :func:`_finish`: future dates warn; a quantified
    subject result below the LOQ of its own row is rejected (as in :func:`wbe.io.read_samples`:
    the number contradicts the limit, and the reader cannot tell which one is wrong)."""
    rejects = Rejects(label)
    rows = table["source_row"].to_numpy()
    collected = None
    if "collected_on" in table.columns:
        collected = parse_dates(table["collected_on"], date_format=date_format)
        dates = collected[0]
        column = table.attrs.get("original_columns", {}).get("collected_on", "collected_on")
        warn_future_dates(dates, rows, file=label, column=column, stacklevel=4)
    if "loq" in table.columns:
        cells = table["value"].astype(object).where(table["value"].notna(), None)
        parsed = parse_censored(cells, dash="missing")
        loq, _ = parse_numbers(table["loq"])
        stype = (table["sample_type"].tolist() if "sample_type" in table.columns
                 else [None] * len(table))
        subject = np.array(
            [pd.isna(t) or _SAMPLE_TYPE_WORDS.get(_key(t)) == "unknown" for t in stype],
            dtype=bool,
        )
        value, limit = parsed["value"].to_numpy(), loq.to_numpy()
        with np.errstate(invalid="ignore"):
            below = (parsed["detection"].eq("quantified").to_numpy() & (limit > 0)
                     & (value < limit) & subject)
        rejects.add(rows[below], "value", table.loc[below, "value"].tolist(), [
            f"quantified value {v:g} is below its own LOQ {q:g}; write '<LOQ' if it is "
            "below the limit, or correct the LOQ"
            for v, q in zip(value[below], limit[below], strict=True)
        ])
    return rejects, collected


# --------------------------------------------------------------------------- manifests


def _join_manifest(raw: pd.DataFrame, manifest, label: str) -> pd.DataFrame:
    """Add subject and collection columns from a sample manifest (by sample_id)."""
    if manifest is None:
        return raw
    mlabel = source_label(manifest) if not isinstance(manifest, ReadResult) else "manifest"
    table = read_table(manifest, file_label=f"manifest {mlabel}")
    table = require_columns(
        table, ["sample_id"], f"manifest {mlabel}",
        optional=["subject_id", "subject_name", "matrix", "collected_on", "group",
                  "segment", "segment_cm_from", "segment_cm_to", "batch"],
        aliases=LAB_COLUMN_ALIASES,
    )
    dup = table["sample_id"].duplicated(keep=False)
    if dup.any():
        first = int(table.loc[dup, "source_row"].iloc[0])
        raise InputError("duplicated sample id in the manifest", file=f"manifest {mlabel}",
                         row=first, column="sample_id")
    cols = [c for c in table.columns if c not in ("source_row",) and c != "sample_id"]
    merged = raw.merge(table[["sample_id", *cols]], on="sample_id", how="left",
                       suffixes=("", "_manifest"))
    for c in cols:
        if f"{c}_manifest" in merged.columns:
            merged[c] = merged[c].where(merged[c].notna(), merged.pop(f"{c}_manifest"))
    merged.attrs = dict(raw.attrs)
    merged.attrs.pop(OBJECT_CELLS, None)  # the merge may have added missing values
    return merged
