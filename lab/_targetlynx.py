"""Waters TargetLynx (MassLynx) summary reports (private; public in :mod:`wbe.lab.io`).

Layouts (``docs/lab-formats.md``): the Quantify *Compound* Summary Report (one block per
compound, one line per injection), the Quantify *Sample* Summary Report (one block per
injection, one line per compound) and, from the newer waters_connect platform, the
Quantify CSV (:mod:`wbe.lab._waters`).
"""

from __future__ import annotations

import csv
import io
import re

from wbe._tabular import ReadResult, Rejects, source_label
from wbe.errors import InputError
from wbe.lab._exports import (
    base_key,
    cell,
    hkey,
    injection_order,
    is_conc_unit,
    no_concentrations,
    quantity_columns,
    read_text,
    records_to_raw,
    require_unit,
    split_lines,
)
from wbe.lab._readers import finish_export
from wbe.lab._waters import is_waters_connect, waters_connect_records

__all__: list[str] = []

_COMPOUND_TITLE = re.compile(r"^Compound\s+\d+\s*:\s*(.+?)\s*$", re.I)
_SAMPLE_TITLE = re.compile(r"^Sample\s+Name\s*:", re.I)
_TITLE_PAIR = re.compile(
    r"([A-Za-z][A-Za-z .#]*?)\s*:\s*(.*?)(?=\s{2,}[A-Za-z][A-Za-z .#]*?\s*:|$)")
#: Header keys (:func:`wbe.lab._exports.base_key`) of each canonical column.
_FIELDS = {
    "name": "name", "type": "sample_type", "sampletype": "sample_type",
    "stdconc": "nominal", "standardconc": "nominal", "expconc": "nominal",
    "rt": "retention_time_min", "response": "response", "resp": "response",
    "area": "area", "conc": "value", "calcconc": "value", "concentration": "value",
    "ratio(actual)": "ion_ratio", "1°:ratio(actual)": "ion_ratio", "ionratio": "ion_ratio",
    "level": "qc_level", "stdlevel": "qc_level",
}
_EXPORT = ("the report with the concentration column shown (TargetLynx: quantify the "
           "batch against a calibration, then export the summary with 'Conc.')")


def read_targetlynx(
    source,
    *,
    matrix: str,
    unit: str | None = None,
    batch: str | None = None,
    method: str = "confirm",
    manifest=None,
    key=None,
    sample_id_column: str | None = None,
    file_label: str | None = None,
    encoding: str | None = None,
    on_error: str = "reject",
) -> ReadResult:
    """Read a Waters TargetLynx summary report (Compound or Sample Summary, text export)
    or a waters_connect Quantify CSV.

    Parameters
    ----------
    source : str, os.PathLike or file-like
        The text export. Layouts (detected):

        - Compound Summary Report: blocks ``Compound 1:  Methamphetamine``, a
          tab-separated header line (first cell empty) with ``Name``, ``Type``
          (Analyte, Standard, QC, Blank), ``Std. Conc``, ``RT``, ``Area``,
          ``IS Area``, ``Response`` and a concentration column named after its unit
          (``ng/mL``, ``nM``, ``µM``) or ``Conc.``, then one numbered line per
          injection;
        - Sample Summary Report: blocks ``Sample Name: S001   Sample ID: ...``, a
          header line with ``#``, ``Name`` (the compound), ``RT``, ``Area``,
          ``Response``, ``Conc.``, then one line per compound;
        - waters_connect CSV: ``Injection Name``, ``Compound Name``,
          ``Calculated Concentration``, ``Concentration Units`` (``Not Detected`` is
          censored).

        Report title lines above the first block are skipped.
    matrix : {"hair", "urine"}
    unit : str, optional
        Needed only when the concentration column is ``Conc.`` rather than a unit.
        Molar units convert with the registry's molar mass.
    batch, method, manifest, key, file_label, on_error
        As in :func:`read_sciex`.
    sample_id_column : str, optional
        Column (or Sample Summary title field) holding the lab's sample code, for
        example ``"Sample Text"`` or ``"ID"``; default ``Name``.
    encoding : str, optional
        Text encoding; detected when omitted (UTF-8, GB18030, cp1252, latin-1: MassLynx
        on Western Windows writes cp1252, so ``µg`` in a sample name is byte 0xB5).

    Returns
    -------
    ReadResult
        Row numbers are line numbers of the text file.

    Raises
    ------
    InputError
        Unrecognised layout, undecodable text, or a report whose concentration column
        is absent or empty in every line (the message lists the peak quantities found).

    Examples
    --------
    >>> import io
    >>> text = ("Compound 1:  Methamphetamine\\n\\n\\tName\\tType\\tStd. Conc\\tRT\\tng/mL\\n"
    ...         "1\\tSTD1\\tStandard\\t10\\t3.21\\t10.2\\n2\\tS001\\tAnalyte\\t\\t3.22\\t385\\n")
    >>> data, _ = read_targetlynx(io.StringIO(text), matrix="urine")
    >>> data[["sample_id", "sample_type", "value", "nominal", "source_row"]]
      sample_id sample_type  value  nominal  source_row
    0      STD1  calibrator   10.2     10.0           4
    1      S001     unknown  385.0      NaN           5
    """
    label = source_label(source, file_label) if not hasattr(source, "read") else (
        file_label or "<buffer>")
    text, enc = read_text(source, label, encoding)
    lines = split_lines(text)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise InputError("empty file", file=label)
    delimiter = "," if lines[first].count(",") > lines[first].count("\t") else "\t"
    head = [cell(c) for c in next(csv.reader([lines[first]], delimiter=delimiter))]
    if is_waters_connect(head):
        rows = [[cell(c) for c in r] for r in csv.reader(io.StringIO("\n".join(lines)),
                                                          delimiter=delimiter)]
        records = waters_connect_records(rows, first, label, sample_id_column)
        layout = None
    elif any(_SAMPLE_TITLE.match(line.strip()) for line in lines):
        records, layout = _sample_summary(lines, label, matrix, sample_id_column)
    elif any(_COMPOUND_TITLE.match(line.strip()) for line in lines):
        records, layout = _compound_summary(lines, label, matrix, sample_id_column)
    else:
        raise InputError(
            "not a TargetLynx export read here: expected a Quantify Compound Summary Report "
            "('Compound 1:  name' blocks), a Quantify Sample Summary Report ('Sample Name:' "
            "blocks) or a waters_connect CSV ('Injection Name, Compound Name, Calculated "
            "Concentration'); export the summary report as text", file=label)
    if not records:
        raise InputError("no result lines under the report's blocks", file=label)
    if layout is not None:
        values, quantities = layout
        if not any(r.get("value") for r in records):
            raise no_concentrations(label, values, quantities, len(records), _EXPORT)
    require_unit(records, unit, label, "TargetLynx export")
    raw = records_to_raw(records, label, enc)
    raw["injection_order"] = injection_order(raw["sample_id"])
    return finish_export(raw, label, manifest=manifest, key=key, matrix=matrix, batch=batch,
                          method=method, unit=unit, on_error=on_error, rejects=Rejects(label))


def _header_map(cells: list[str | None], matrix: str) -> tuple[dict[int, str], str | None]:
    """Canonical name of each header cell and the unit of a unit-named value column."""
    out: dict[int, str] = {}
    value_unit = None
    for j, name in enumerate(cells):
        if not name:
            continue
        canon = _FIELDS.get(base_key(name)) or _FIELDS.get(hkey(name))
        if canon is None and is_conc_unit(name, matrix):
            canon, value_unit = "value", name
        elif canon == "value" and "(" in name:
            unit = name[name.rfind("(") + 1:].rstrip(")").strip()
            value_unit = unit if is_conc_unit(unit, matrix) else None
        if canon is not None and canon not in out.values():
            out[j] = canon
    return out, value_unit


def _record(cells, mapping, value_unit, number) -> dict:
    rec: dict = {"source_row": number}
    for j, canon in mapping.items():
        rec[canon] = cells[j] if j < len(cells) else None
    area = rec.pop("area", None)
    if rec.get("response") is None:
        rec["response"] = area
    if value_unit is not None:
        rec["unit"] = value_unit
    return rec


def _numbered(cells: list[str | None]) -> bool:
    """Result lines of TargetLynx reports start with their number in the block."""
    return bool(cells) and cells[0] is not None and cells[0].isdigit()


def _cells(line: str) -> list[str | None]:
    return [cell(c) for c in line.split("\t")]


def _compound_summary(lines, label, matrix, sample_id_column):
    records: list[dict] = []
    quantities: list[str] = []
    compound = None
    mapping: dict[int, str] | None = None
    value_unit = None
    sid_col = None
    for number, line in enumerate(lines, start=1):
        m = _COMPOUND_TITLE.match(line.strip())
        if m:
            compound, mapping, value_unit, sid_col = m.group(1), None, None, None
            continue
        if compound is None or not line.strip():
            continue
        cells = _cells(line)
        if mapping is None:
            mapping, value_unit = _header_map(cells, matrix)
            if "name" not in mapping.values():
                raise InputError("expected a header line with 'Name' after the compound "
                                 "title", file=label, row=number)
            quantities += [q for q in quantity_columns(cells) if q not in quantities]
            if sample_id_column is not None:
                hits = [j for j, c in enumerate(cells) if c and hkey(c) == hkey(
                    sample_id_column)]
                if not hits:
                    raise InputError(f"sample_id_column {sample_id_column!r} not in the "
                                     f"header {[c for c in cells if c]}", file=label,
                                     row=number)
                sid_col = hits[0]
            continue
        if not _numbered(cells):
            continue  # block footers such as 'Calibration curve: ...' are not results
        rec = _record(cells, mapping, value_unit, number)
        rec["sample_id"] = rec.pop("name", None) if sid_col is None else (
            cells[sid_col] if sid_col < len(cells) else None)
        rec.pop("name", None)
        rec["analyte"] = compound
        records.append(rec)
    return records, ("TargetLynx Compound Summary Report", quantities)


def _title_fields(line: str) -> dict[str, str | None]:
    return {hkey(k): cell(v) for k, v in _TITLE_PAIR.findall(line.strip())}


def _sample_summary(lines, label, matrix, sample_id_column):
    records: list[dict] = []
    quantities: list[str] = []
    title: dict[str, str | None] | None = None
    mapping: dict[int, str] | None = None
    value_unit = None
    want = hkey(sample_id_column) if sample_id_column is not None else "samplename"
    for number, line in enumerate(lines, start=1):
        if _SAMPLE_TITLE.match(line.strip()):
            title, mapping = _title_fields(line), None
            if want not in title:
                raise InputError(f"sample block title without {sample_id_column!r}: "
                                 f"{line.strip()!r}", file=label, row=number)
            continue
        if title is None or not line.strip():
            continue
        cells = _cells(line)
        if mapping is None:
            mapping, value_unit = _header_map(cells, matrix)
            if "name" not in mapping.values():
                raise InputError("expected a header line with 'Name' after the sample "
                                 "title", file=label, row=number)
            quantities += [q for q in quantity_columns(cells) if q not in quantities]
            continue
        if not _numbered(cells):
            continue
        rec = _record(cells, mapping, value_unit, number)
        rec["analyte"] = rec.pop("name", None)
        rec["sample_id"] = title.get(want)
        if rec.get("sample_type") is None:
            rec["sample_type"] = title.get("type") or title.get("sampletype")
        records.append(rec)
    return records, ("TargetLynx Sample Summary Report", quantities)

