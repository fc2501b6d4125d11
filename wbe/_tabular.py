"""Reader-agnostic helpers for tabular input (CSV and Excel), shared by all readers.

Private module: :mod:`wbe.io` (wastewater samples, flows, sites) and the :mod:`wbe.lab`
readers (hair and urine batch exports) both build on it, so that every reader treats
files, row numbers, censored values, dates, column aliases and rejects the same way.

Conventions
-----------
- :func:`read_table` returns every cell as a stripped ``str`` (missing, test with
  ``pd.isna``, for an empty cell) plus a ``source_row`` column holding the row number a
  spreadsheet user sees: the header is row 1, the first data row is row 2 (shifted by
  ``skip_rows`` title rows and ``header_rows``). Completely empty rows carry no data
  and are not returned.
- Parsers (:func:`parse_numbers`, :func:`parse_censored`, :func:`parse_dates`) are
  vectorised and never raise on a bad cell: they return the parsed values together with
  a per-row ``reason`` (``None`` when the cell is fine), which a reader turns into
  rejects with :class:`Rejects`.
- :func:`require_columns` maps English and Chinese header spellings (``'日期'``,
  ``'污水处理厂'``, ``'浓度(ng/L)'``) to canonical names and raises a file-level
  :class:`~wbe.errors.InputError` listing missing and present columns.

Censored entries understood by :func:`parse_censored`
------------------------------------------------------
=====================================================  =================  ===========
text (case and spaces ignored)                         ``detection``      ``limit``
=====================================================  =================  ===========
``<LOQ``, ``BLQ``, ``below LOQ``, ``<MQL``, ``低于定量限``  ``below_loq``      NaN
``<LOQ (0.5)``, ``<0.5``, ``< 0.5``                      ``below_loq``      0.5
``<LOD``, ``below LOD``, ``<MDL``, ``低于检出限``           ``below_lod``      NaN
``<LOD (0.1)``                                          ``below_lod``      0.1
``n.d.``, ``ND``, ``not detected``, ``未检出``             ``not_detected``   NaN
``-``, ``—``, ``/``                                     see ``dash=``
=====================================================  =================  ===========

A bare ``<0.5`` is read as "below the limit of quantification 0.5": it is the usual
way labs report a result under the LOQ (the LOD is rarely printed as ``<x``). A lone dash
is ambiguous on Chinese lab sheets (未检出 or 未检测, "not analysed"), so by default it is
refused with a reason; ``dash="not_detected"`` or ``dash="missing"`` decide it.

Never silently NaN or infinite
------------------------------
The texts ``NaN``, ``NA``, ``N/A``, ``null`` and ``None`` are refused with a reason by
:func:`parse_numbers` and :func:`parse_censored` (an empty cell is the only missing
value), and so are numbers of magnitude above :data:`MAX_ABS_NUMBER` (``1e400`` would be
infinite) or that underflow to zero (``1e-400``). :func:`parse_dates` refuses days that a
``datetime64[ns]`` column cannot hold (:data:`DATE_MIN` to :data:`DATE_MAX`), such as the
"no date" placeholder ``9999-12-31``; :func:`warn_future_dates` warns about days after
today.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from wbe.errors import (
    ImplausibleValueWarning,
    InputError,
    MissingDependencyError,
    closest_names,
    unknown_name_error,
)

__all__ = [
    "COLUMN_ALIASES",
    "DATE_MAX",
    "DATE_MIN",
    "DETECTION_CLASSES",
    "MAX_ABS_NUMBER",
    "REJECT_COLUMNS",
    "ReadResult",
    "Rejects",
    "header_or_argument_unit",
    "normalise_header",
    "parse_censored",
    "parse_dates",
    "parse_numbers",
    "read_table",
    "require_columns",
    "source_label",
    "split_header_unit",
    "warn_future_dates",
]

#: Columns of every rejects table.
REJECT_COLUMNS = ("source_file", "source_row", "column", "value", "reason")

#: Detection classes of censored results (docs/data-model.md).
DETECTION_CLASSES = ("quantified", "below_loq", "below_lod", "not_detected")

DATAFRAME_LABEL = "<DataFrame>"
BUFFER_LABEL = "<buffer>"

_CSV_ENCODINGS = ("utf-8-sig", "gb18030")
_UTF8_BOM = b"\xef\xbb\xbf"
_EXCEL_SUFFIXES = (".xlsx", ".xlsm")
_CSV_SUFFIXES = (".csv", ".txt", ".tsv")

#: Canonical column name -> accepted header spellings (matched by :func:`normalise_header`).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "site": (
        "site", "site_id", "plant", "wwtp", "stp", "sewage plant", "treatment plant",
        "污水厂", "污水处理厂", "污水处理厂名称", "处理厂", "站点", "点位", "采样点", "厂名",
    ),
    "sampled_on": (
        "sampled_on", "date", "sample_date", "sampling_date", "sampling date", "collection date",
        "日期", "采样日期", "采样时间", "取样日期",
    ),
    "date": (
        "date", "day", "sampled_on", "sample_date", "sampling_date", "日期", "采样日期",
    ),
    "biomarker": (
        "biomarker", "analyte", "compound", "substance", "drug", "target",
        "检测物质", "物质", "目标物", "化合物", "检测项目", "药物", "毒品", "分析物",
    ),
    "value": (
        "value", "concentration", "conc", "result", "measured",
        "浓度", "检测结果", "结果", "测定值", "检测值", "含量",
    ),
    "unit": ("unit", "units", "unit_of_measure", "单位", "计量单位"),
    "loq": ("loq", "mql", "limit of quantification", "定量限", "定量下限"),
    "flag": ("flag", "qualifier", "remark", "remarks", "comment", "note", "备注", "标记"),
    "flow": (
        "flow", "influent flow", "inflow", "daily flow", "volume", "flow_volume",
        "流量", "进水流量", "日处理量", "处理水量", "进水量", "日进水量",
    ),
    "population": (
        "population", "pop", "served population", "inhabitants", "population_served",
        "服务人口", "人口", "服务人口数",
    ),
    "population_sd": ("population_sd", "population sd", "pop_sd", "服务人口标准差"),
    "population_method": (
        "population_method", "population method", "population_source", "人口估算方法", "人口来源",
    ),
    "sampling_mode": (
        "sampling_mode", "sampling mode", "sampling", "sampling_type", "采样方式", "采样模式",
    ),
    "region": ("region", "district", "city", "area", "区域", "地区", "行政区", "城市", "区县"),
    "residence_time_h": (
        "residence_time_h", "residence_time", "residence time", "in-sewer residence time",
        "停留时间", "管网停留时间",
    ),
    "design_capacity_m3_per_day": (
        "design_capacity_m3_per_day", "design_capacity", "design capacity", "capacity",
        "设计规模", "设计处理能力", "设计处理规模",
    ),
    "domestic_fraction": (
        "domestic_fraction", "domestic fraction", "domestic share", "生活污水比例", "生活污水占比",
    ),
}


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ReadResult:
    """What every wbe reader returns.

    Attributes
    ----------
    data : pandas.DataFrame
        Accepted rows in canonical form, with a ``source_row`` column (int).
    rejects : pandas.DataFrame
        One row per problem with columns ``source_file, source_row, column, value,
        reason``; a row may appear once per problem.
    source : str
        File name, or ``"<DataFrame>"`` (or the ``file_label`` given to the reader).

    Examples
    --------
    >>> import pandas as pd
    >>> result = ReadResult(pd.DataFrame({"source_row": [2]}), Rejects("x.csv").frame(), "x.csv")
    >>> data, rejects = result
    >>> len(data), len(rejects)
    (1, 0)
    """

    data: pd.DataFrame
    rejects: pd.DataFrame
    source: str

    def __iter__(self) -> Iterator[pd.DataFrame]:
        yield self.data
        yield self.rejects


class Rejects:
    """Collect rejected rows (vectorised) and build the rejects table.

    Parameters
    ----------
    source_file : str
        Written into the ``source_file`` column.

    Examples
    --------
    >>> r = Rejects("samples.csv")
    >>> r.add([3, 5], "value", ["abc", "-1"], ["not a number", "negative"])
    >>> r.rows == {3, 5}
    True
    >>> r.frame()[["source_row", "column", "reason"]].to_numpy().tolist()
    [[3, 'value', 'not a number'], [5, 'value', 'negative']]
    """

    def __init__(self, source_file: str) -> None:
        self.source_file = source_file
        self._parts: list[pd.DataFrame] = []

    def add(self, rows, column, values, reasons) -> None:
        """Record problems: ``rows``, ``values``, ``reasons`` are equal-length sequences.

        ``column`` is a column name or a sequence of names (one per row); ``reasons`` may
        be one string for all rows.
        """
        rows = np.asarray(rows, dtype=np.int64).ravel()
        if rows.size == 0:
            return
        n = rows.size
        columns = [column] * n if isinstance(column, str) else list(column)
        reasons = [reasons] * n if isinstance(reasons, str) else list(reasons)
        values = [None if _isna(v) else str(v) for v in values]
        if not (len(columns) == len(reasons) == len(values) == n):
            raise ValueError("rows, column, values and reasons must have equal lengths")
        self._parts.append(
            pd.DataFrame(
                {
                    "source_file": [self.source_file] * n,
                    "source_row": rows,
                    "column": columns,
                    # object, None for missing (pandas would infer a str column with NaN)
                    "value": pd.Series(values, dtype=object),
                    "reason": reasons,
                }
            )
        )

    def add_mask(self, frame: pd.DataFrame, mask, column: str, reasons, *, value_column=None):
        """Record the rows of ``frame`` where ``mask`` is True.

        ``reasons`` is one string or a Series aligned with ``frame``; the reported value
        is taken from ``frame[value_column or column]``.
        """
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        sub = frame.loc[mask]
        source = value_column or column
        values = sub[source] if source in sub else [None] * len(sub)
        if not isinstance(reasons, str):
            reasons = pd.Series(reasons, index=frame.index).loc[mask].tolist()
        self.add(sub["source_row"].to_numpy(), column, list(values), reasons)

    @property
    def rows(self) -> set[int]:
        """Set of rejected source rows."""
        return {int(r) for part in self._parts for r in part["source_row"]}

    def __len__(self) -> int:
        return sum(len(p) for p in self._parts)

    def frame(self) -> pd.DataFrame:
        """The rejects table, sorted by source row (stable within a row)."""
        if not self._parts:
            return pd.DataFrame(
                {
                    "source_file": pd.Series(dtype=object),
                    "source_row": pd.Series(dtype=np.int64),
                    "column": pd.Series(dtype=object),
                    "value": pd.Series(dtype=object),
                    "reason": pd.Series(dtype=object),
                }
            )
        out = pd.concat(self._parts, ignore_index=True)
        # a wide row melted into several cells may report the same problem once per cell
        out = out.drop_duplicates(["source_row", "column", "reason"])
        return out.sort_values("source_row", kind="stable").reset_index(drop=True)

    def raise_first(self) -> None:
        """Raise an :class:`~wbe.errors.InputError` for the first rejected row, if any."""
        if len(self):
            first = self.frame().iloc[0]
            raise InputError(
                f"{first['reason']} (got {first['value']!r})",
                file=self.source_file,
                row=int(first["source_row"]),
                column=first["column"],
                value=first["value"],
            )


def _isna(value) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------- reading


def source_label(source, file_label: str | None = None) -> str:
    """Name used in errors and rejects: ``file_label``, the file name, ``"<DataFrame>"`` or,
    for an open file or buffer (``io.BytesIO``), its ``name`` or ``"<buffer>"``.

    Raises
    ------
    InputError
        If ``source`` is neither a path, a DataFrame nor a readable buffer.
    """
    if file_label is not None:
        return str(file_label)
    if isinstance(source, pd.DataFrame):
        return DATAFRAME_LABEL
    if _is_buffer(source):
        name = getattr(source, "name", None)
        return Path(name).name if isinstance(name, str) and name else BUFFER_LABEL
    if not isinstance(source, str | PathLike):
        raise InputError(
            f"expected a file path, a pandas DataFrame or an open file, got "
            f"{type(source).__name__}"
        )
    return Path(source).name


def read_table(
    source,
    *,
    sheet: str | int | None = None,
    header_rows: int = 1,
    skip_rows: int = 0,
    encoding: str | None = None,
    file_label: str | None = None,
    object_columns: bool = False,
) -> pd.DataFrame:
    """Read a CSV or Excel file (or take a DataFrame) as a table of strings.

    Parameters
    ----------
    source : str, os.PathLike, pandas.DataFrame or file-like
        An open CSV file or buffer (bytes or text, for example ``io.BytesIO``),
        ``.csv``/``.txt``/``.tsv`` (comma, semicolon or tab separated), ``.xlsx``/``.xlsm``,
        or a DataFrame (its row ``i`` gets ``source_row`` ``i + 2`` unless it already has
        a ``source_row`` column).
    sheet : str or int, optional
        Excel sheet name or 0-based index; the first sheet if omitted.
    header_rows : int, default 1
        Number of header rows; several are joined with a space (merged cells of the first
        header row are carried to the right).
    skip_rows : int, default 0
        Title rows above the header (for example a report heading). With 0 (and one header
        row) leading title rows are found automatically: rows with at most one filled cell
        (a merged title cell, blank rows) above the first row with two or more.
    encoding : str, optional
        CSV encoding; by default UTF-8 (with or without BOM), then GB18030 (a superset of
        GBK, the usual encoding of CSV files saved by Chinese Excel).
    file_label : str, optional
        Name used in error messages instead of the file name.
    object_columns : bool, default False
        Return the text columns as ``object`` columns holding ``str`` and ``None``
        (what a reader that goes on cell by cell needs; saves two conversions of a large
        file) instead of pandas string columns.

    Returns
    -------
    pandas.DataFrame
        String columns of stripped text (missing for empty cells; test with ``pd.isna``)
        named after the stripped headers, plus ``source_row`` (int): the row number a
        spreadsheet shows.
        ``df.attrs["source"]`` holds the label used in messages.

    Raises
    ------
    InputError
        A folder or an unreadable or undecodable file, unsupported format, unknown sheet,
        empty or duplicated headers, a row with more non-empty cells than the header, or
        a double quote that is not closed and swallows the following rows.

    Examples
    --------
    >>> import io
    >>> t = read_table(io.StringIO("site,value\\nA, 1.5\\n\\nB,<LOQ\\n"), file_label="s.csv")
    >>> t.to_dict("list")
    {'site': ['A', 'B'], 'value': ['1.5', '<LOQ'], 'source_row': [2, 4]}
    """
    label = source_label(source, file_label)
    for name, value, least in (("skip_rows", skip_rows, 0), ("header_rows", header_rows, 1)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
            raise InputError(f"{name} must be a whole number >= {least}, got {value!r}",
                             file=label)
    if isinstance(source, pd.DataFrame):
        return _as_object(_from_frame(source, label), object_columns)
    if _is_buffer(source):
        try:
            raw = source.read()
        except (OSError, ValueError) as exc:  # closed or unreadable buffer
            raise InputError(f"cannot read the buffer: {exc}", file=label) from None
        if not isinstance(raw, bytes | str):
            raise InputError(
                f"the buffer returned {type(raw).__name__}, expected bytes or text", file=label
            )
        return _as_object(_csv_frame(raw, label, encoding, header_rows=header_rows,
                                     skip_rows=skip_rows, object_columns=object_columns),
                          object_columns)
    else:
        path = Path(source)
        if path.is_dir():
            raise InputError("is a folder, not a file; give the path of a CSV or Excel file",
                             file=str(path))
        if not path.exists():
            raise InputError("file not found", file=str(path))
        suffix = path.suffix.lower()
        if suffix in _EXCEL_SUFFIXES:
            rows = _excel_rows(path, sheet, label)
        elif suffix in _CSV_SUFFIXES:
            try:
                raw = path.read_bytes()
            except OSError as exc:  # permissions, a special file, ...
                raise InputError(f"cannot read the file: {exc.strerror or exc}",
                                 file=label) from None
            return _as_object(_csv_frame(raw, label, encoding, header_rows=header_rows,
                                         skip_rows=skip_rows, object_columns=object_columns),
                              object_columns)
        elif suffix == ".xls":
            raise InputError(
                "old Excel .xls files are not read; save the sheet as .xlsx or .csv (UTF-8)",
                file=label,
            )
        else:
            raise InputError(
                f"unsupported file type {suffix!r}; expected .csv, .tsv, .txt, .xlsx or .xlsm",
                file=label,
            )
    return _as_object(_rows_to_frame(rows, label, header_rows=header_rows, skip_rows=skip_rows),
                      object_columns)


#: ``attrs`` key set by :func:`read_table` with ``object_columns=True``: every text column
#: holds str and None only (a reader that changes the table must drop it).
OBJECT_CELLS = "wbe_object_cells"


def _as_object(frame: pd.DataFrame, object_columns: bool) -> pd.DataFrame:
    """``frame`` with its text columns as object columns of str and None, if asked."""
    if not object_columns or frame.attrs.get(OBJECT_CELLS):  # the fast path made them so
        return frame
    for c in frame.columns:
        if c != "source_row":
            cells = frame[c].to_numpy(dtype=object)
            missing = pd.isna(cells)
            if frame[c].dtype != object or missing.any():
                frame[c] = pd.Series(np.where(missing, None, cells), index=frame.index,
                                     dtype=object)
    frame.attrs[OBJECT_CELLS] = True  # a promise to the caller, dropped by any change
    return frame


def _is_buffer(source) -> bool:
    return hasattr(source, "read") and not isinstance(source, pd.DataFrame)


def _cell_text(value) -> str | None:
    if value is None or (not isinstance(value, str) and _isna(value)):
        return None  # None, NaN, NaT, pd.NA
    if isinstance(value, float):  # NaN was caught above
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, pd.Timestamp) or hasattr(value, "isoformat"):
        text = value.isoformat()
        if "T" in text:
            day, time = text.split("T", 1)
            return day if time.strip("0:.") == "" else f"{day} {time}"
        return text
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    text = str(value).strip()
    return text or None


def _from_frame(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    names = [str(c).strip() for c in frame.columns]
    _check_header(names, label)
    out = pd.DataFrame(
        {
            name: pd.array([_cell_text(v) for v in frame[col].tolist()], dtype=object)
            for name, col in zip(names, frame.columns, strict=True)
            if name != "source_row"
        },
        index=pd.RangeIndex(len(frame)),
    )
    if "source_row" in names:
        rows = pd.to_numeric(frame["source_row"], errors="coerce")
        if rows.isna().any():
            raise InputError("source_row must hold integer row numbers", file=label)
        out["source_row"] = rows.to_numpy(dtype=np.int64)
    else:
        out["source_row"] = np.arange(2, len(frame) + 2, dtype=np.int64)
    out.attrs["source"] = label
    return out


def _csv_frame(raw: bytes | str, label: str, encoding: str | None, *, header_rows: int,
               skip_rows: int, object_columns: bool = False) -> pd.DataFrame:
    """The table of a CSV file's bytes or text (:func:`read_table`).

    A file without double quotes and NUL characters, with one header row and no record
    wider than its first, is split by pandas' C parser (each record is one line there, so
    row numbers are line numbers); any other file, and any file in which the fast path
    sees something unusual, is read by the ``csv`` module record by record, which alone
    knows where a quote opened. Both give the same table (tests/properties).
    """
    utf8 = encoding is None or encoding.lower().replace("_", "-") in ("utf-8", "utf8",
                                                                       "utf-8-sig")
    if isinstance(raw, bytes) and header_rows == 1 and utf8:
        # UTF-8 bytes go to the C parser as they are (it decodes each cell, strictly; a
        # file that is not UTF-8 fails there and is decoded below, GB18030 included)
        frame = _fast_csv_frame(raw, _delimiter(raw), label, skip_rows,
                                object_columns=object_columns)
        if frame is not None:
            return frame
    text = _decode(raw, label, encoding)
    delimiter = _delimiter(text)
    if header_rows == 1:
        frame = _fast_csv_frame(text, delimiter, label, skip_rows,
                                object_columns=object_columns)
        if frame is not None:
            return frame
    rows = _csv_rows(text, label, delimiter)
    return _rows_to_frame(rows, label, header_rows=header_rows, skip_rows=skip_rows)


def _delimiter(text: str | bytes) -> str:
    """The separator most frequent on the first line (comma on a tie or an empty line)."""
    if isinstance(text, bytes):  # UTF-8: the ASCII separators are single bytes
        end = text.find(b"\n")
        first = text if end < 0 else text[:end]
        return max([",", ";", "\t"], key=lambda d: first.count(d.encode())) if first else ","
    end = text.find("\n")
    first = text if end < 0 else text[:end]
    return max([",", ";", "\t"], key=first.count) if first else ","


def _fast_csv_frame(text: str | bytes, delimiter: str, label: str, skip_rows: int, *,
                    object_columns: bool = False) -> pd.DataFrame | None:
    """:func:`_rows_to_frame` of a plain CSV text split column-wise, or None to fall back.

    Plain means: no double quote (no record spans lines, no quoting rules to agree on),
    no NUL, no byte-order mark left in the text, no line longer than the csv module's
    field size limit (it would refuse such a cell), and no record with more cells than
    the first (pandas would refuse it).
    """
    if isinstance(text, bytes):  # UTF-8 bytes: one byte-order mark is dropped (utf-8-sig)
        text = text.removeprefix(_UTF8_BOM)
        quote, nul, bom, source = b'"', b"\0", _UTF8_BOM, io.BytesIO(text)
    else:
        quote, nul, bom, source = '"', "\0", "\ufeff", io.StringIO(text)
    if quote in text or nul in text or text.startswith(bom):
        return None
    try:
        table = pd.read_csv(source, sep=delimiter, header=None, dtype=object,
                            na_filter=False, skip_blank_lines=False, encoding="utf-8",
                            encoding_errors="strict", quoting=csv.QUOTE_NONE, engine="c")
    except Exception:  # ragged or odd files take the exact csv-module path
        return None
    if (isinstance(text, bytes) and not _holds_space(text)
            and _longest_line(text) <= csv.field_size_limit()):
        # no white space anywhere, no over-long cell: stripping changes nothing
        columns = [_empty_as_none(table[c].to_numpy(dtype=object)) for c in table.columns]
    else:
        columns = [_stripped_cells(table[c].to_numpy(dtype=object)) for c in table.columns]
    if any(col is None for col in columns):
        return None
    n_records = len(table)
    if n_records != _count_lines(text):  # never expected; the csv module decides then
        return None
    if skip_rows == 0:  # title rows above the header (Chinese sheets)
        head = [[col[i] for col in columns] for i in range(min(n_records, MAX_TITLE_ROWS + 1))]
        skip_rows = title_rows(head)
    if skip_rows >= n_records:
        raise InputError("the file has no header row", file=label)
    names = [col[skip_rows] or "" for col in columns]
    if not any(names):
        raise InputError("the file has no header row", file=label)
    first_data = skip_rows + 1
    data = [col[first_data:] for col in columns]
    filled = [_not_none(col) for col in data]
    unnamed = [j for j, name in enumerate(names) if not name]
    if unnamed:  # a filled cell under an empty header: the first such row, leftmost cell
        stray = np.column_stack([filled[j] for j in unnamed])
        hit = np.flatnonzero(stray.any(axis=1))
        if hit.size:
            i = int(hit[0])
            j = unnamed[int(np.flatnonzero(stray[i])[0])]
            raise InputError(
                f"cell in column {j + 1} has no header (got {data[j][i]!r}); "
                "every filled column needs a header",
                file=label,
                row=first_data + i + 1,
            )
    keep = [j for j, name in enumerate(names) if name]
    kept = [names[j] for j in keep]
    nonblank = np.logical_or.reduce([filled[j] for j in keep]) if keep else np.zeros(0, bool)
    _check_header(kept, label)
    if "source_row" in kept:
        raise InputError("a column may not be called 'source_row' (reserved)", file=label)
    rows = np.flatnonzero(nonblank)
    every = slice(None) if len(rows) == len(nonblank) else rows  # no blank row: no copy
    if object_columns:
        out = pd.DataFrame({name: data[j][every] for j, name in zip(keep, kept, strict=True)},
                           index=pd.RangeIndex(len(rows)), dtype=object)
        out.attrs[OBJECT_CELLS] = True
    else:
        out = pd.DataFrame(
            {name: pd.array(data[j][every], dtype=object)
             for j, name in zip(keep, kept, strict=True)},
            index=pd.RangeIndex(len(rows)),
        )
    out["source_row"] = (rows + first_data + 1).astype(np.int64)
    out.attrs["source"] = label
    return out


def _count_lines(text: str | bytes) -> int:
    """Number of lines as the csv module sees them (``\n``, ``\r\n`` or ``\r`` ends one)."""
    if isinstance(text, bytes):
        ends = text.count(b"\n")
        if b"\r" in text:
            ends += text.count(b"\r") - text.count(b"\r\n")
        return ends + (1 if text and not text.endswith((b"\n", b"\r")) else 0)
    ends = text.count("\n") + text.count("\r") - text.count("\r\n")
    return ends + (1 if text and not text.endswith(("\n", "\r")) else 0)


#: UTF-8 bytes of every character ``str.strip`` removes except the line ends (``\n``,
#: ``\r``: no cell of the fast path holds one); ``\xe2\x80`` starts U+2000-U+203F, so a
#: file with a typographic dash also takes the per-cell strip (tests check the list).
UTF8_SPACES = (b" ", b"\t", b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\x1f",
               b"\xc2\x85", b"\xc2\xa0", b"\xe1\x9a\x80", b"\xe2\x80", b"\xe2\x81\x9f",
               b"\xe3\x80\x80")


def _holds_space(raw: bytes) -> bool:
    """Whether ``raw`` may hold a character of :data:`UTF8_SPACES` (single bytes are
    searched first; a multi-byte one only if its lead byte occurs at all)."""
    if any(b in raw for b in UTF8_SPACES if len(b) == 1):
        return True
    return any(b[:1] in raw and b in raw for b in UTF8_SPACES if len(b) > 1)


def _longest_line(raw: bytes) -> int:
    """Bytes in the longest line of ``raw`` (at least its characters)."""
    if len(raw) <= csv.field_size_limit():
        return len(raw)
    octets = np.frombuffer(raw, dtype=np.uint8)
    ends = np.flatnonzero((octets == 10) | (octets == 13))
    return int(np.diff(np.r_[-1, ends, len(octets)]).max())


def _not_none(cells: np.ndarray) -> np.ndarray:
    """``cells != None`` cell by cell, without a Python comparison per cell (pandas'
    missing-value test runs in C; only its hits are looked at one by one)."""
    missing = pd.isna(cells)
    if missing.any():
        missing[missing] = [v is None for v in cells[missing].tolist()]
    return ~missing


def _empty_as_none(cells: np.ndarray) -> np.ndarray:
    """``cells`` with None for each empty text (cells that need no stripping)."""
    out = cells.copy()
    out[cells == ""] = None
    return out


def _stripped_cells(cells: np.ndarray) -> np.ndarray | None:
    """Stripped text of each cell, None for an empty one (each distinct text once); None
    if a cell is longer than the csv module's field size limit (it refuses such a file)."""
    codes, uniques = pd.factorize(cells)
    texts = uniques.tolist()
    if texts and max(map(len, texts)) > csv.field_size_limit():
        return None
    stripped = np.asarray([None] + [u.strip() or None for u in texts], dtype=object)
    return stripped[codes + 1]


def _decode(raw: bytes | str, label: str, encoding: str | None) -> str:
    if isinstance(raw, bytes):
        text = None
        encodings = (encoding,) if encoding else _CSV_ENCODINGS
        for enc in encodings:
            try:
                text = raw.decode(enc)
                break
            except (UnicodeDecodeError, LookupError):
                continue
        if text is None:
            raise InputError(
                f"cannot decode the file as {' or '.join(encodings)}; save it as UTF-8 CSV",
                file=label,
            )
        return text
    return raw.lstrip("\ufeff")


def _csv_rows(text: str, label: str, delimiter: str) -> list[list[str | None]]:
    lines = io.StringIO(text, newline="").readlines()
    reader = csv.reader(lines, delimiter=delimiter)
    rows: list[list[str]] = []
    spans: list[tuple[int, int, int]] = []  # (record index, first line, last line)
    last_line = 0
    try:
        for record in reader:
            if reader.line_num - last_line > 1:
                spans.append((len(rows), last_line + 1, reader.line_num))
            rows.append(record)
            last_line = reader.line_num
    except csv.Error as exc:  # NUL bytes, a cell above the csv field size limit
        raise InputError(
            f"malformed CSV in the record starting on line {last_line + 1}: {exc} (a double "
            "quote that is never closed swallows the following lines into one cell)",
            file=label,
        ) from None
    if spans:
        _check_multiline_records(rows, spans, lines, delimiter, label)
    return [[c.strip() or None for c in row] for row in rows]


def _check_multiline_records(rows, spans, lines, delimiter: str, label: str) -> None:
    """Refuse records that swallowed lines through an unclosed double quote.

    The csv module reads a cell that opens a double quote up to the next double quote, or
    to the end of the file, so a remark such as ``"diluted x10`` turns the following lines
    into one cell: the parser's record count then disagrees with the physical line count.
    A quoted cell spanning several lines is accepted only if its quote is properly closed
    (followed by a separator or the end of the line), the cell holds fewer separators than
    a data row (the table's usual number of cells minus one) and the record has no more
    cells than the table's usual width. Swallowed rows hold separators, so they fail one of
    these; a legitimate multi-line remark with that many separators is refused too (the
    message says why), which is the price of never losing rows silently.
    """
    multi = {index for index, _, _ in spans}
    single = Counter(len(r) for i, r in enumerate(rows) if r and i not in multi)
    width = single.most_common(1)[0][0] if single else max(len(r) for r in rows)
    row_like = max(width - 1, 1)
    for index, first, last in spans:
        record = rows[index]
        # cells before the first multi-line cell hold no line break: the quote opened on `first`
        where = f"a double quote opened on line {first} spans lines {first}-{last}"
        try:
            list(csv.reader(lines[first - 1 : last], delimiter=delimiter, strict=True))
        except csv.Error:
            raise InputError(
                f"{where} and is not properly closed, so the following lines were read as "
                "one cell; remove the stray quote (or double it, \"\") or close the quoted "
                "cell",
                file=label,
                row=index + 1,
            ) from None
        separators = sum(c.count(delimiter) for c in record if "\n" in c or "\r" in c)
        if separators >= row_like or len(record) > width:
            raise InputError(
                f"{where} and swallows what look like data rows ({separators} {delimiter!r} "
                f"separators inside the cell, {len(record)} cells in the record, rows have "
                f"{width}); a quote is probably not closed where it should be. Remove the "
                "stray quote (or double it, \"\")",
                file=label,
                row=index + 1,
            )


def _open_workbook(path, label: str):
    """An ``.xlsx`` workbook opened read-only with cached values (the caller closes it)."""
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(
            "reading .xlsx needs openpyxl: pip install 'wbe-drugs[io]'", extra="io"
        ) from exc
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for corrupt files
        raise InputError(f"cannot open the Excel file: {exc}", file=label) from None


def excel_sheet_names(path, label: str | None = None) -> list[str]:
    """Names of the sheets of an ``.xlsx`` workbook, in workbook order."""
    book = _open_workbook(path, label or str(path))
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def _excel_rows(path: Path, sheet, label: str) -> list[list[str | None]]:
    book = _open_workbook(path, label)
    try:
        names = book.sheetnames
        if sheet is None:
            ws = book[names[0]]
        elif isinstance(sheet, int):
            if not 0 <= sheet < len(names):
                raise InputError(f"sheet index {sheet} out of range; sheets: {names}", file=label)
            ws = book[names[sheet]]
        elif sheet in names:
            ws = book[sheet]
        else:
            raise unknown_name_error("sheet", sheet, names, file=label)
        return [[_cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
    finally:
        book.close()


def _check_header(names: Sequence[str], label: str) -> None:
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise InputError(
                f"duplicated column header {name!r} (columns {seen[name] + 1} and {i + 1})",
                file=label,
            )
        seen[name] = i


#: Most leading title rows skipped automatically by :func:`title_rows`.
MAX_TITLE_ROWS = 10


def title_rows(rows: Sequence[Sequence[str | None]]) -> int:
    """Number of title rows above the header: leading rows with at most one filled cell
    (a title, often a merged cell, or blank rows) followed by a row with two or more.

    A header with one filled cell over a wider table is never valid (every filled column
    needs a header), so skipping such rows cannot hide a header. Returns 0 when the first
    row already has two filled cells or no wider row follows within :data:`MAX_TITLE_ROWS`.

    Examples
    --------
    >>> title_rows([["2024年3月 污水检测结果", None, None], [None], ["污水处理厂", "日期", "浓度"]])
    2
    >>> title_rows([["site", "population"], ["A", "1"]])
    0
    """
    for i, row in enumerate(rows[: MAX_TITLE_ROWS + 1]):
        filled = sum(c is not None for c in row)
        if filled >= 2:
            return i
    return 0


def _rows_to_frame(rows, label: str, *, header_rows: int, skip_rows: int) -> pd.DataFrame:
    if header_rows < 1:
        raise ValueError("header_rows must be >= 1")
    if skip_rows == 0 and header_rows == 1:  # title rows above the header (Chinese sheets)
        skip_rows = title_rows(rows)
    header_block = rows[skip_rows : skip_rows + header_rows]
    if len(header_block) < header_rows or not any(any(r) for r in header_block):
        raise InputError("the file has no header row", file=label)
    width = max(len(r) for r in rows[skip_rows:])
    padded = [list(r) + [None] * (width - len(r)) for r in header_block]
    if header_rows > 1:
        top = padded[0]
        for j in range(1, width):  # merged cells of the top header row spread right
            if top[j] is None:
                top[j] = top[j - 1]
    names = [" ".join(p[j] for p in padded if p[j]) for j in range(width)]
    keep = [j for j, n in enumerate(names) if n]
    first_data = skip_rows + header_rows
    data_rows, row_numbers = [], []
    unnamed = [j for j in range(width) if not names[j]]  # usually none: nothing to check
    for offset, row in enumerate(rows[first_data:]):
        number = first_data + offset + 1
        cells = list(row) + [None] * (width - len(row))
        stray = [j for j in unnamed if cells[j] is not None]
        if stray:
            raise InputError(
                f"cell in column {stray[0] + 1} has no header (got {cells[stray[0]]!r}); "
                "every filled column needs a header",
                file=label,
                row=number,
            )
        if all(c is None for c in cells):
            continue
        data_rows.append([cells[j] for j in keep])
        row_numbers.append(number)
    kept = [names[j] for j in keep]
    _check_header(kept, label)
    if "source_row" in kept:
        raise InputError("a column may not be called 'source_row' (reserved)", file=label)
    out = pd.DataFrame(
        {
            name: pd.array([r[k] for r in data_rows], dtype=object)
            for k, name in enumerate(kept)
        },
        index=pd.RangeIndex(len(data_rows)),
    )
    out["source_row"] = np.asarray(row_numbers, dtype=np.int64)
    out.attrs["source"] = label
    return out


# --------------------------------------------------------------------------- columns


def normalise_header(name: str) -> str:
    """Normalise a header for alias matching.

    NFKC (full-width to half-width), lower case, unit in trailing brackets removed,
    spaces, underscores, hyphens and dots removed.

    Examples
    --------
    >>> normalise_header("Sampling_Date")
    'samplingdate'
    >>> normalise_header("浓度（ng/L）")
    '浓度'
    """
    base, _ = split_header_unit(name)
    return re.sub(r"[\s_\-.]", "", base.lower())


def split_header_unit(name: str) -> tuple[str, str | None]:
    """Split ``'浓度 (ng/L)'`` or ``'flow [m3/d]'`` into name and unit.

    Examples
    --------
    >>> split_header_unit("流量（万立方米/天）")
    ('流量', '万立方米/天')
    >>> split_header_unit("site")
    ('site', None)
    """
    text = unicodedata.normalize("NFKC", str(name)).strip()
    match = re.fullmatch(r"(.*?)\s*[(\[]\s*([^()\[\]]+?)\s*[)\]]", text)
    if match and match.group(1):
        return match.group(1), match.group(2)
    return text, None


def _did_you_mean(missing: list[str], frame: pd.DataFrame, mapping: Mapping[str, str]) -> str:
    """`` Did you mean 'sampeld_on' for 'sampled_on'?`` for headers close to a missing name."""
    unmatched = [str(c) for c in frame.columns if c != "source_row" and c not in mapping]
    hints = []
    for name in missing:
        close = closest_names(name, unmatched, n=1)
        if close:
            hints.append(f"{close[0]!r} for {name!r}")
    return f" Did you mean {', '.join(hints)}?" if hints else ""


def require_columns(
    frame: pd.DataFrame,
    required: Iterable[str],
    file: str | None = None,
    *,
    optional: Iterable[str] = (),
    aliases: Mapping[str, Iterable[str]] | None = None,
) -> pd.DataFrame:
    """Rename aliased columns to canonical names; raise if a required one is missing.

    Parameters
    ----------
    frame : pandas.DataFrame
        As returned by :func:`read_table`.
    required, optional : iterable of str
        Canonical column names. Columns matching neither are kept under their own name.
    file : str, optional
        For the error message (default ``frame.attrs["source"]``).
    aliases : mapping, optional
        Canonical name -> accepted spellings; default :data:`COLUMN_ALIASES`. A canonical
        name always matches itself.

    Returns
    -------
    pandas.DataFrame
        Renamed copy. ``attrs["column_units"]`` maps canonical names to a unit given in the
        header (``'浓度(ng/L)'`` -> ``{'value': 'ng/L'}``); ``attrs["original_columns"]``
        maps canonical names back to the headers as written.

    Raises
    ------
    InputError
        If required columns are missing (the message lists the missing columns with their
        accepted spellings and the columns present), or if two columns map to one name.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"污水处理厂": ["A"], "日期": ["2024-03-05"], "source_row": [2]})
    >>> list(require_columns(t, ["site", "sampled_on"]).columns)
    ['site', 'sampled_on', 'source_row']
    """
    aliases = COLUMN_ALIASES if aliases is None else aliases
    file = file if file is not None else frame.attrs.get("source")
    required = list(required)
    wanted = required + [c for c in optional if c not in required]
    lookup: dict[str, str] = {}
    for canonical in wanted:
        for spelling in (canonical, *aliases.get(canonical, ())):
            lookup.setdefault(normalise_header(spelling), canonical)
    mapping: dict[str, str] = {}
    units: dict[str, str] = {}
    for col in frame.columns:
        if col == "source_row":
            continue
        canonical = lookup.get(normalise_header(col))
        if canonical is None:
            continue
        if canonical in mapping.values():
            other = next(k for k, v in mapping.items() if v == canonical)
            raise InputError(
                f"columns {other!r} and {col!r} both mean {canonical!r}; keep one",
                file=file,
            )
        mapping[col] = canonical
        unit = split_header_unit(col)[1]
        if unit:
            units[canonical] = unit
    missing = [c for c in required if c not in mapping.values()]
    if missing:
        described = "; ".join(
            f"{c!r} (also accepted: {', '.join(a for a in aliases.get(c, ()) if a != c) or '-'})"
            for c in missing
        )
        present = ", ".join(repr(c) for c in frame.columns if c != "source_row")
        raise InputError(
            f"missing required column(s) {described}.{_did_you_mean(missing, frame, mapping)}"
            f" Columns present: {present}", file=file
        )
    out = frame.rename(columns=mapping)
    out.attrs = dict(frame.attrs)
    out.attrs["column_units"] = units
    out.attrs["original_columns"] = {v: k for k, v in mapping.items()}
    return out


# --------------------------------------------------------------------------- numbers

_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?", re.IGNORECASE)
_THOUSANDS_RE = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_MISSING_TEXT = {"na", "n/a", "nan", "null", "none"}
#: Numbers of larger magnitude are refused: no measured quantity comes near, and a unit
#: conversion of such a number could overflow to infinity.
MAX_ABS_NUMBER = 1e100


def _missing_text_reason(text: str) -> str:
    return (
        f"{text!r} is not a number; leave the cell empty when there is no value (a text "
        "NaN/NA/null is never read as missing)"
    )


def _magnitude_reason(text: str, value: float) -> str | None:
    """Why a parsed number cannot be kept (overflow, huge, or underflow to zero), or None."""
    if not np.isfinite(value) or abs(value) > MAX_ABS_NUMBER:
        return f"{text!r} is out of range (magnitude above 1e100); check the cell"
    if value == 0 and re.search(r"[1-9]", re.split(r"[eE]", text, maxsplit=1)[0]):
        return f"{text!r} is too small to be stored (it would become 0); check the cell"
    return None


def _texts(series) -> list[str | None]:
    """NFKC-normalised stripped text of each cell (``None`` for empty/NaN cells).

    Cells that are all text (and missing values) are normalised once per distinct text;
    other cells one by one (1, 1.0 and True are equal keys but different texts).
    """
    cells = np.asarray(series if isinstance(series, pd.Series) else list(series),
                       dtype=object)
    if len(cells) and pd.api.types.infer_dtype(cells, skipna=True) in ("string", "empty"):
        codes, uniques = pd.factorize(cells)
        texts = [None] + [unicodedata.normalize("NFKC", u).strip() or None
                          for u in uniques.tolist()]
        return np.asarray(texts, dtype=object)[codes + 1].tolist()
    out: list[str | None] = []
    for v in list(series):
        if _isna(v):
            out.append(None)
            continue
        t = unicodedata.normalize("NFKC", str(v)).strip()
        out.append(t or None)
    return out


def _text_codes(series) -> tuple[np.ndarray, list[str | None]]:
    """``(codes, texts)``: the :func:`_texts` of cell ``i`` is ``texts[codes[i]]``, code -1
    meaning an empty cell; text cells are normalised once per distinct cell."""
    cells = np.asarray(series if isinstance(series, pd.Series) else list(series),
                       dtype=object)
    if len(cells) and pd.api.types.infer_dtype(cells, skipna=True) in ("string", "empty"):
        codes, uniques = pd.factorize(cells)
        return codes, [unicodedata.normalize("NFKC", u).strip() or None
                       for u in uniques.tolist()]
    return np.arange(len(cells)), _texts(series)


def duplicated_rows(codes: list[np.ndarray]) -> np.ndarray:
    """Rows equal to another row in every column (``DataFrame.duplicated(keep=False)``),
    each column given by the codes of its distinct values (-1 for missing: missing equals
    missing, as in ``duplicated``); no tuple or string per row."""
    n_rows = len(codes[0])
    combo, n_keys = np.zeros(n_rows, dtype=np.int64), 1
    for column in codes:
        width = int(column.max(initial=-1)) + 2
        combo = combo * width + (column + 1)
        n_keys *= width
        if n_keys > 4 * n_rows + 1024:  # renumbered, so that the counts below stay small
            combo, uniques = pd.factorize(combo)
            n_keys = len(uniques)
    return np.bincount(combo, minlength=1)[combo] > 1


def text_column(values: list[str | None], codes: np.ndarray):
    """``values[code]`` for each code as the column pandas would make of those cells (a
    string column if any is text, else object), taken in one step rather than cell by
    cell."""
    used = np.zeros(len(values), dtype=bool)
    used[codes] = True
    if any(v is not None for v, u in zip(values, used.tolist(), strict=True) if u):
        return pd.array(values, dtype="str").take(codes)
    return np.full(len(codes), None, dtype=object)


def parse_numbers(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse text cells into floats, with a reason for every cell that is not a number.

    Accepts plain and scientific notation, full-width digits and thousands separators
    written as ``1,234.5``. Empty cells give NaN with no reason (the caller decides whether
    a value is required). Refused with a reason: the texts ``NA``/``N/A``/``NaN``/``null``/
    ``None`` (a missing value is an empty cell, so such a text is never silently NaN),
    numbers of magnitude above :data:`MAX_ABS_NUMBER` (``1e400`` would be infinite),
    non-zero numbers too small for a float (``1e-400``), and a decimal comma (``0,5``),
    which cannot be told from a thousands separator.

    Parameters
    ----------
    series : pandas.Series
        Text cells (as from :func:`read_table`) or numbers.

    Returns
    -------
    values : pandas.Series of float
    reasons : pandas.Series of object
        ``None`` where the cell is fine, else why it is not a number.

    Examples
    --------
    >>> import pandas as pd
    >>> v, r = parse_numbers(pd.Series(["1.5", "1,234", "１２", "abc", None]))
    >>> v.tolist()[:3], r.tolist()[3]
    ([1.5, 1234.0, 12.0], "expected a number, got 'abc'")
    """
    texts = _texts(series)
    codes, uniques = pd.factorize(np.asarray(texts, dtype=object))  # each text once
    number, why = _parse_number_texts(uniques.tolist())
    return (
        pd.Series(np.append(number, np.nan)[codes], index=series.index, dtype=float),
        pd.Series(np.append(np.asarray(why, dtype=object), None)[codes],
                  index=series.index, dtype=object),
    )


def _parse_number_texts(texts: list[str | None]) -> tuple[np.ndarray, list[str | None]]:
    """Values and reasons of :func:`parse_numbers` for a list of cleaned texts."""
    values = np.full(len(texts), np.nan)
    reasons: list[str | None] = [None] * len(texts)
    for i, t in enumerate(texts):
        if t is None:
            continue
        if t.lower() in _MISSING_TEXT:
            reasons[i] = _missing_text_reason(t)
        elif _NUMBER_RE.fullmatch(t) or _THOUSANDS_RE.fullmatch(t):
            value = float(t.replace(",", ""))
            reasons[i] = _magnitude_reason(t, value)
            if reasons[i] is None:
                values[i] = value
        elif re.fullmatch(r"[+-]?\d+,\d+", t):
            reasons[i] = f"expected a number, got {t!r} (use a decimal point, not a comma)"
        else:
            reasons[i] = f"expected a number, got {t!r}"
    return values, reasons


# --------------------------------------------------------------------------- censoring

_NUM = r"((?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)"
_LOQ_WORDS = r"(?:loq|mql|lloq|loq值|定量限|定量下限)"
_LOD_WORDS = r"(?:lod|mdl|idl|检出限|方法检出限)"
_CENSOR_PATTERNS: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(rf"(?:<|＜|below|低于|小于){_LOQ_WORDS}(?:\(?{_NUM}\)?)?"), "below_loq"),
    (re.compile(rf"(?:blq|bql|<q)(?:\(?{_NUM}\)?)?"), "below_loq"),
    (re.compile(rf"(?:<|＜|below|低于|小于){_LOD_WORDS}(?:\(?{_NUM}\)?)?"), "below_lod"),
    (re.compile(rf"(?:<|＜|小于){_NUM}"), "below_loq"),
    (re.compile(r"(?:n\.?d\.?|notdetected|nondetect|未检出|未检测到|阴性)"), "not_detected"),
)
_DASHES = {"-", "--", "—", "–", "/", "－", "——"}
_DASH_POLICIES = ("reject", "not_detected", "missing")


def _censor_key(text: str) -> str:
    t = unicodedata.normalize("NFKC", text).strip().lower()
    return re.sub(r"\s+", "", t)


def _classify_censored(text: str | None, dash: str):
    """Return (value, detection, limit, reason) for one cell."""
    if text is None:
        return np.nan, None, np.nan, None
    key = _censor_key(text)
    if key == "":
        return np.nan, None, np.nan, None
    if key in _MISSING_TEXT:
        return np.nan, None, np.nan, (
            f"{text!r} is not a result; leave the cell empty when there is no result, or "
            "write 'n.d.' or '<LOQ' (a text NaN/NA/null is never read as missing)"
        )
    if key in _DASHES or text.strip() in _DASHES:
        if dash == "not_detected":
            return np.nan, "not_detected", np.nan, None
        if dash == "missing":
            return np.nan, None, np.nan, None
        return np.nan, None, np.nan, (
            f"a dash {text!r} is ambiguous (not detected or not analysed?); write 'n.d.' or "
            "leave the cell empty, or pass dash='not_detected'"
        )
    if _NUMBER_RE.fullmatch(key) or _THOUSANDS_RE.fullmatch(key):
        value = float(key.replace(",", ""))
        reason = _magnitude_reason(text.strip(), value)
        if reason is not None:
            return np.nan, None, np.nan, reason
        return value, "quantified", np.nan, None
    for pattern, detection in _CENSOR_PATTERNS:
        match = pattern.fullmatch(key)
        if match:
            number = match.group(1) if match.groups() else None
            limit = float(number) if number is not None else np.nan
            reason = None if number is None else _magnitude_reason(number, limit)
            if reason is not None:
                return np.nan, None, np.nan, f"limit in {text.strip()!r}: {reason}"
            return np.nan, detection, limit, None
    if key.startswith((">", "＞", "above", "高于", "大于")):
        return np.nan, None, np.nan, (
            f"{text!r} is above the calibration range; the value is unknown (dilute and "
            "re-measure, or enter the value)"
        )
    return np.nan, None, np.nan, (
        f"expected a number or a censored entry such as '<LOQ', '<0.5', 'n.d.', '未检出'; "
        f"got {text!r}"
    )


def parse_censored(series: pd.Series, *, dash: str = "reject") -> pd.DataFrame:
    """Parse result cells that may be censored (``<LOQ``, ``<0.5``, ``n.d.``, ``未检出``).

    Parameters
    ----------
    series : pandas.Series
        Result cells as text (or numbers).
    dash : {"reject", "not_detected", "missing"}, default "reject"
        How to read a lone ``-``/``—``/``/``: refused with a reason (default, because
        Chinese lab sheets use it both for 未检出 and for "not analysed"), read as not
        detected, or read as an empty cell.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``series``, with columns ``value`` (float, NaN unless quantified),
        ``censored`` (bool), ``detection`` (one of :data:`DETECTION_CLASSES`, ``None``
        for empty or refused cells), ``limit`` (float: the number in ``<0.5`` or
        ``<LOQ(0.5)``, in the unit of the cell, else NaN) and ``reason`` (``None`` when
        fine).

    Raises
    ------
    UnknownNameError
        If ``dash`` is not a valid policy.

    Examples
    --------
    >>> import pandas as pd
    >>> p = parse_censored(pd.Series(["12.5", "<LOQ", "< 0.5", "n.d.", "未检出", "<LOD"]))
    >>> p["detection"].tolist()
    ['quantified', 'below_loq', 'below_loq', 'not_detected', 'not_detected', 'below_lod']
    >>> p["limit"].tolist()[2], p["censored"].tolist()[:2]
    (0.5, [False, True])
    """
    if dash not in _DASH_POLICIES:
        raise unknown_name_error("dash policy", dash, _DASH_POLICIES)
    codes, texts = _text_codes(series)  # lab columns repeat a lot: each text once
    return _censored_frame(codes, texts, dash, series.index)


def censored_from_codes(codes: np.ndarray, cells: list[str], *, dash: str,
                        index: pd.Index) -> pd.DataFrame:
    """:func:`parse_censored` of cells given as ``cells[codes[i]]`` (code -1: empty).

    For readers that have factorised a column already; ``cells`` are distinct ``str``.
    """
    if dash not in _DASH_POLICIES:
        raise unknown_name_error("dash policy", dash, _DASH_POLICIES)
    texts = [unicodedata.normalize("NFKC", c).strip() or None for c in cells]
    return _censored_frame(np.asarray(codes), texts, dash, index)


def _censored_frame(codes: np.ndarray, texts: list[str | None], dash: str,
                    index: pd.Index) -> pd.DataFrame:
    """The frame of :func:`parse_censored` from each distinct cleaned text."""
    parsed = [_classify_censored(t, dash) for t in texts]
    parsed.append(_classify_censored(None, dash))  # code -1: an empty cell
    out = pd.DataFrame(
        {
            "value": np.array([p[0] for p in parsed], dtype=float)[codes],
            "detection": text_column([p[1] for p in parsed], codes),
            "limit": np.array([p[2] for p in parsed], dtype=float)[codes],
            "reason": text_column([p[3] for p in parsed], codes),
        },
        index=index,
    )
    out.insert(1, "censored", out["detection"].isin(DETECTION_CLASSES[1:]).to_numpy())
    return out


# --------------------------------------------------------------------------- dates

_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_EXCEL_SERIAL_MIN, _EXCEL_SERIAL_MAX = 61, 2958465  # 1900-03-01 .. 9999-12-31
_TIME_TAIL = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_YMD_RE = re.compile(rf"(\d{{4}})[-/.](\d{{1,2}})[-/.](\d{{1,2}}){_TIME_TAIL}")
_CN_RE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?")
_COMPACT_RE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DMY_RE = re.compile(rf"(\d{{1,2}})[-/.](\d{{1,2}})[-/.](\d{{4}}){_TIME_TAIL}")
_SERIAL_RE = re.compile(r"\d{2,7}(?:\.\d+)?")
#: First and last whole days that a ``datetime64[ns]`` column can hold.
DATE_MIN = pd.Timestamp.min.ceil("D")
DATE_MAX = pd.Timestamp.max.floor("D")
_SERIAL_NS_MAX = (DATE_MAX.date() - _EXCEL_EPOCH.date()).days


def _out_of_range_reason(text: str) -> str:
    return (
        f"date {text!r} is outside the supported range {DATE_MIN.date()} to "
        f"{DATE_MAX.date()} (a placeholder such as 9999-12-31 for 'no date'?); enter the "
        "real date or leave the cell empty"
    )


def _assign_in_range(dates, reasons, text, parsed: pd.Series) -> None:
    """Store parsed days that fit ``datetime64[ns]``; give the others a reason."""
    parsed = parsed.dropna()
    inside = (parsed >= DATE_MIN) & (parsed <= DATE_MAX)
    good = parsed.index[inside.to_numpy()]
    dates[good] = parsed[good].dt.normalize().astype("datetime64[ns]")
    far = parsed.index[~inside.to_numpy()]
    reasons[far] = [_out_of_range_reason(t) for t in text[far]]


def parse_dates(
    series: pd.Series, *, date_format: str | None = None
) -> tuple[pd.Series, pd.Series]:
    """Parse day dates, refusing rather than guessing ambiguous ones.

    Without ``date_format`` these are understood: ISO ``2024-03-05`` (also with ``/`` or
    ``.`` and an optional time of day), ``20240305``, ``2024年3月5日``, Excel serial day
    numbers (``45356`` = 2024-03-05; 1900 date system, serials 61 to 2958465) and
    ``dd/mm/yyyy``/``mm/dd/yyyy`` only when the order is evident (one part above 12, or
    both equal). ``03/05/2024`` is refused with a reason asking for ``date_format``.
    Two-digit years are refused. Times of day are dropped (the day is kept). Days outside
    :data:`DATE_MIN` to :data:`DATE_MAX` (1677-09-22 to 2262-04-11, what ``datetime64[ns]``
    holds), such as the "no date" placeholder ``9999-12-31``, ``0001-01-01`` or the Excel
    serial 2958465, are refused with a reason. Dates in the future are not checked here
    (see :func:`warn_future_dates`).

    Parameters
    ----------
    series : pandas.Series
        Date cells as text.
    date_format : str, optional
        A :func:`datetime.datetime.strptime` format (``"%d/%m/%Y"``) applied to every cell.

    Returns
    -------
    dates : pandas.Series of datetime64[ns]
        Midnight of each day; NaT for empty or refused cells.
    reasons : pandas.Series of object
        ``None`` where fine (or empty), else why the cell is not a date.

    Examples
    --------
    >>> import pandas as pd
    >>> d, r = parse_dates(pd.Series(["2024-03-05", "2024年3月5日", "45356", "03/05/2024"]))
    >>> [str(x.date()) for x in d[:3]]
    ['2024-03-05', '2024-03-05', '2024-03-05']
    >>> r[3].startswith("ambiguous")
    True
    """
    cell_codes, texts = _text_codes(series)  # each distinct cell cleaned once
    text_codes, uniques = pd.factorize(np.asarray(texts, dtype=object))
    codes = np.append(text_codes, -1)[cell_codes]  # dates repeat: each parsed once
    if len(uniques) < len(series):
        dates, reasons = _parse_date_texts(pd.Series(uniques, dtype=object), date_format)
        day = np.append(dates.to_numpy(), np.datetime64("NaT", "ns"))[codes]
        why = np.append(reasons.to_numpy(dtype=object), None)[codes]
        return (pd.Series(day, index=series.index, dtype="datetime64[ns]"),
                pd.Series(why, index=series.index, dtype=object))
    text = pd.Series(np.asarray([*texts, None], dtype=object)[cell_codes], index=series.index,
                     dtype=object)
    return _parse_date_texts(text, date_format)


def _parse_date_texts(text: pd.Series, date_format: str | None
                      ) -> tuple[pd.Series, pd.Series]:
    """:func:`parse_dates` of cleaned texts (str or None), cell by cell."""
    series = text
    dates = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    reasons = pd.Series(None, index=series.index, dtype=object)
    present = text.notna()
    if date_format is not None:
        parsed = pd.to_datetime(text[present], format=date_format, errors="coerce")
        _assign_in_range(dates, reasons, text, parsed)
        bad = present & dates.isna() & reasons.isna()
        reasons[bad] = [f"expected a date in format {date_format!r}, got {t!r}" for t in text[bad]]
        return dates, reasons
    year = pd.Series(np.nan, index=series.index)
    month = year.copy()
    day = year.copy()
    handled = pd.Series(False, index=series.index)
    for regex in (_YMD_RE, _CN_RE, _COMPACT_RE):
        parts = text[present & ~handled].str.extract(f"^{regex.pattern}$").astype(float)
        hit = parts[0].notna()
        idx = parts.index[hit]
        year[idx], month[idx], day[idx] = parts.loc[hit, 0], parts.loc[hit, 1], parts.loc[hit, 2]
        handled[idx] = True
    parts = text[present & ~handled].str.extract(f"^{_DMY_RE.pattern}$").astype(float)
    hit = parts[0].notna()
    a, b, y = parts.loc[hit, 0], parts.loc[hit, 1], parts.loc[hit, 2]
    day_first = (a > 12) | (a == b)
    month_first = (b > 12) & (a <= 12)
    ambiguous = ~(day_first | month_first)
    idx = a.index
    year[idx] = y
    day[idx] = np.where(day_first, a, b)
    month[idx] = np.where(day_first, b, a)
    handled[idx] = True
    amb_idx = idx[ambiguous.to_numpy()]
    reasons[amb_idx] = [
        f"ambiguous date {t!r} (day/month or month/day?); use ISO 2024-03-05 or pass "
        "date_format='%d/%m/%Y'"
        for t in text[amb_idx]
    ]
    ymd_ok = handled & reasons.isna()
    if ymd_ok.any():
        built = pd.to_datetime(
            pd.DataFrame({"year": year[ymd_ok], "month": month[ymd_ok], "day": day[ymd_ok]}),
            errors="coerce",
        )
        _assign_in_range(dates, reasons, text, built)
        bad = ymd_ok & dates.isna() & reasons.isna()
        reasons[bad] = [f"not a calendar date: {t!r}" for t in text[bad]]
    rest = present & ~handled
    serial_text = text[rest]
    is_serial = serial_text.map(lambda t: _SERIAL_RE.fullmatch(t) is not None)
    serial = serial_text[is_serial].astype(float)
    in_range = (serial >= _EXCEL_SERIAL_MIN) & (serial <= _EXCEL_SERIAL_MAX)
    fits = in_range & (serial < _SERIAL_NS_MAX + 1)
    good = serial.index[fits.to_numpy()]
    dates[good] = _EXCEL_EPOCH + pd.to_timedelta(np.floor(serial[good]), unit="D")
    far = serial.index[(in_range & ~fits).to_numpy()]
    reasons[far] = [_out_of_range_reason(t) for t in text[far]]
    bad = rest & dates.isna() & reasons.isna()
    reasons[bad] = [
        f"expected a date such as 2024-03-05, 2024/3/5, 2024年3月5日 or an Excel day number, "
        f"got {t!r}"
        for t in text[bad]
    ]
    return dates, reasons


def header_or_argument_unit(frame: pd.DataFrame, canonical: str, argument: str | None,
                            quantities: str | Sequence[str], label: str, *,
                            validate: bool = True) -> str | None:
    """The unit of a value column, from its header (``'浓度(ng/L)'``) or ``unit=``; both must agree.

    The one unit-resolution rule of every reader (``wbe.io`` and ``wbe.lab``): a header unit
    and a ``unit=`` argument that convert differently is an error, never a silent choice.

    Parameters
    ----------
    frame : pandas.DataFrame
        Table from :func:`read_table` (``attrs["column_units"]``, ``attrs["original_columns"]``).
    canonical : str
        Canonical column name (``"value"``, ``"flow"``, ``"population"``).
    argument : str or None
        The reader's ``unit=`` argument.
    quantities : str or sequence of str
        Quantity (``wbe.units.CANONICAL_UNITS`` key) or quantities the column may hold (lab
        values: the matrices present, ``("hair", "urine")``).
    label : str
        File label for messages.
    validate : bool, default True
        Also refuse a header or argument unit unknown for the (single) quantity; readers that
        check units row by row (``wbe.lab``) pass False.

    Returns
    -------
    str or None
        The header unit if given, else the argument (None if neither).

    Raises
    ------
    wbe.errors.UnitError
        Header and argument disagree (or, with ``validate``, either is unknown).
    """
    from wbe.errors import UnitError
    from wbe.units import conversion_factor, normalise_unit

    qs = (quantities,) if isinstance(quantities, str) else tuple(quantities)
    header = frame.attrs.get("column_units", {}).get(canonical)
    column = frame.attrs.get("original_columns", {}).get(canonical, canonical)
    if validate:
        for q in qs:
            if header is not None:
                conversion_factor(header, q, file=label, column=column)
            if argument is not None:
                conversion_factor(argument, q, file=label)
    if header is not None and argument is not None:
        if normalise_unit(header) != normalise_unit(argument):
            both = []
            for q in qs:
                try:
                    both.append(conversion_factor(header, q) == conversion_factor(argument, q))
                except UnitError:
                    continue
            if not both or not all(both):
                raise UnitError(
                    f"the header says {header!r} but unit={argument!r} was passed; remove one",
                    file=label, column=column)
    return header if header is not None else argument


def warn_future_dates(
    dates: pd.Series,
    rows,
    *,
    file: str,
    column: str,
    today: pd.Timestamp | None = None,
    stacklevel: int = 3,
) -> None:
    """Warn (row kept) when dates lie after today: a typed year or a swapped day/month.

    Parameters
    ----------
    dates : pandas.Series of datetime64
        Parsed days (NaT ignored), aligned with ``rows``.
    rows : sequence of int
        Spreadsheet row of each date.
    file, column : str
        Named in the message.
    today : pandas.Timestamp, optional
        The reference day; default today on the local clock.
    stacklevel : int, default 3
        Passed to :func:`warnings.warn`.

    Warns
    -----
    ImplausibleValueWarning
        Listing file, column and up to ten rows with their dates.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_future_dates(pd.Series(pd.to_datetime(["2024-03-05", "2031-01-02"])), [2, 3],
    ...                       file="flows.csv", column="日期", today=pd.Timestamp("2025-01-01"))
    >>> print(caught[0].message)  # doctest: +NORMALIZE_WHITESPACE
    file 'flows.csv', column '日期': 1 date(s) after today (2025-01-01):
    row 3 (2031-01-02); check the year
    """
    today = (pd.Timestamp.now() if today is None else pd.Timestamp(today)).normalize()
    values = pd.Series(pd.to_datetime(pd.Series(dates).to_numpy()))
    future = (values > today).to_numpy()
    if not future.any():
        return
    rows = np.asarray(rows)[future]
    days = values[future]
    first: dict[int, str] = {}
    for row, day in zip(rows.tolist(), days, strict=True):
        first.setdefault(int(row), str(day.date()))
    listed = ", ".join(f"row {r} ({d})" for r, d in list(first.items())[:10])
    more = f" and {len(first) - 10} more" if len(first) > 10 else ""
    warnings.warn(
        f"file {file!r}, column {column!r}: {len(first)} date(s) after today "
        f"({today.date()}): {listed}{more}; check the year",
        ImplausibleValueWarning,
        stacklevel=stacklevel,
    )
