"""Helpers shared by the instrument-export readers (private).

Each vendor module (``_masshunter``, ``_targetlynx``, ``_sciex``, ``_waters``) turns an
export into one raw long table of text cells, one row per result, with canonical column
names (``sample_id, sample_type, analyte, value, unit, nominal, response, ion_ratio,
retention_time_min, qc_level, flag, internal_standard``) and ``source_row``; the shared
finishing in :mod:`wbe.lab._readers` does the rest.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from wbe._encoding import decode_text
from wbe._tabular import split_header_unit
from wbe.errors import InputError, UnitError
from wbe.lab._readers import MATRICES, MOLAR_UNITS
from wbe.units import conversion_factor, normalise_unit

__all__: list[str] = []

#: Peak quantities that are not concentrations, named in the "no concentrations" error.
QUANTITY_WORDS = (
    "area", "height", "rt", "retentiontime", "fwhm", "width", "widthat50%", "response",
    "resp", "resp.", "isarea", "s/n", "signal/noise", "sig/noise", "areaRatio", "symmetry",
)


def hkey(name) -> str:
    """Header key: NFKC, lower case, without spaces, dots, underscores and hyphens."""
    text = unicodedata.normalize("NFKC", str(name or "")).strip().lower()
    return re.sub(r"[\s_.\-]", "", text)


def base_key(name) -> str:
    """Header key without a trailing bracketed unit (``Calc. Conc. (ng/mL)`` ->
    ``calcconc``)."""
    return hkey(split_header_unit(str(name or ""))[0])


def header_unit(name) -> str | None:
    """The unit in a header's trailing brackets, if it is a concentration unit."""
    unit = split_header_unit(str(name or ""))[1]
    return unit if unit is not None and is_conc_unit(unit) else None


def is_conc_unit(text: str, matrix: str | None = None) -> bool:
    """True if ``text`` is a mass or molar concentration unit (of ``matrix`` if given)."""
    key = normalise_unit(text)
    for m in ((matrix,) if matrix in MATRICES else MATRICES):
        if key in MOLAR_UNITS[m]:
            return True
        try:
            conversion_factor(text, m)
        except UnitError:
            continue
        return True
    if matrix is None:
        try:
            conversion_factor(text, "concentration")
        except UnitError:
            return False
        return True
    return False


def read_text(source, label: str, encoding: str | None) -> tuple[str, str]:
    """Decoded text of a path or binary/text buffer, and the encoding used."""
    if hasattr(source, "read"):
        raw = source.read()
        if isinstance(raw, str):
            return raw.lstrip("\ufeff"), "text"
    else:
        path = Path(source)
        if not path.exists():
            raise InputError("file not found", file=label)
        if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
            raise InputError(
                "instrument exports are read from the text the software writes (CSV or "
                "TXT); export the results table as text rather than Excel", file=label)
        raw = path.read_bytes()
    return decode_text(raw, label, encoding)


def split_lines(text: str) -> list[str]:
    """Lines of ``text`` with CRLF, CR-only or LF line ends."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def sniff_delimiter(lines: list[str]) -> str:
    """Tab, comma or semicolon: the one most frequent in the first non-empty lines."""
    sample = "\n".join(line for line in lines[:50] if line.strip())
    return max(["\t", ",", ";"], key=sample.count)


_DECIMAL_COMMA = re.compile(r"^[-+]?\d+,\d+$")


def csv_rows(lines: list[str]) -> list[list[str | None]]:
    """Cells of a delimited export. Semicolon-separated files come from locales that
    write decimal commas (``3,723``): there a number with one comma is a decimal."""
    delimiter = sniff_delimiter(lines)
    rows = [[cell(c) for c in r] for r in csv.reader(io.StringIO("\n".join(lines)),
                                                      delimiter=delimiter)]
    if delimiter == ";":
        rows = [[c.replace(",", ".") if c and _DECIMAL_COMMA.match(c) else c for c in r]
                for r in rows]
    return rows


def cell(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.strip().strip('"').strip()
    return text or None


def injection_order(sample_ids: pd.Series) -> pd.Series:
    """Order of first appearance of each sample (exports list injections in order)."""
    codes, _ = pd.factorize(sample_ids)
    return pd.Series((codes + 1).astype(str), index=sample_ids.index, dtype=object)


def records_to_raw(records: list[dict], label: str, encoding: str) -> pd.DataFrame:
    """Raw long table of text cells from a list of per-result dicts."""
    raw = pd.DataFrame.from_records(records)
    for c in raw.columns:
        if c != "source_row":
            raw[c] = raw[c].astype(object).where(raw[c].notna(), None)
    raw["source_row"] = raw["source_row"].astype(np.int64)
    raw.attrs = {"source": label, "encoding": encoding}
    return raw


def quantity_columns(names) -> list[str]:
    """The peak-quantity headers among ``names`` (Area, RT, FWHM, ...), as written."""
    words = {hkey(w) for w in QUANTITY_WORDS}
    seen: list[str] = []
    for n in names:
        if n and hkey(n) in words and n not in seen:
            seen.append(n)
    return seen


def no_concentrations(label: str, layout: str, found: list[str], n_results: int,
                      export: str) -> InputError:
    """The single error for an export that holds peak data but no concentrations."""
    quantities = ", ".join(repr(q) for q in found) if found else "none"
    return InputError(
        f"this {layout} holds no concentrations: {n_results} result(s) with only the peak "
        f"quantities {quantities}. The lab readers read concentrations; export {export}",
        file=label,
    )


def truthy(text: str | None) -> bool | None:
    """True/False from an export's boolean cell (True, Yes, 1, 是); None if empty."""
    if text is None:
        return None
    key = hkey(text)
    if key in ("true", "yes", "y", "1", "是", "x"):
        return True
    if key in ("false", "no", "n", "0", "否"):
        return False
    return None


def require_unit(records: list[dict], unit: str | None, label: str, layout: str) -> None:
    """One clear error when neither the export nor ``unit=`` gives the concentration
    unit (instead of one "no unit" reject per result)."""
    if unit is None and records and not any(r.get("unit") for r in records):
        raise InputError(
            f"this {layout} does not state the concentration unit (no unit column, no unit "
            "in the concentration header); pass unit=, for example unit='ng/mL' (urine) or "
            "unit='ng/mg' (hair), or 'nM' (converted with the registry's molar mass)",
            file=label)
