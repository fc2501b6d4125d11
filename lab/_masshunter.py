"""Agilent MassHunter Quantitative Analysis exports (private; public in :mod:`wbe.lab.io`).

Three layouts are read (``docs/lab-formats.md``):

- the **batch table** exported to CSV: two header rows, the first naming groups
  (``Sample``, ``<Compound> Method``, ``<Compound> Results``,
  ``Qualifier (m/z -> m/z) Method/Results``), the second the fields;
- the **Quant report CSV**: ``Batch Info`` key/value lines, then one
  ``Target Compound`` section per compound with its own header line;
- the **flat long export**: one header row with ``SampleName, Compound,
  CalculatedConcentration, FinalConcentration`` (one row per sample and compound).
"""

from __future__ import annotations

import re

from wbe._tabular import ReadResult, Rejects, source_label
from wbe.errors import InputError
from wbe.lab._exports import (
    base_key,
    cell,
    csv_rows,
    header_unit,
    hkey,
    no_concentrations,
    quantity_columns,
    read_text,
    records_to_raw,
    require_unit,
    split_lines,
    truthy,
)
from wbe.lab._readers import INTERNAL_STANDARD_RE, finish_export

__all__: list[str] = []

#: Sample fields (second header row under "Sample", or before the first compound group).
_SAMPLE_FIELDS = {
    "name": "name", "samplename": "name", "datafile": "data_file", "type": "sample_type",
    "sampletype": "sample_type", "level": "qc_level", "samplelevel": "qc_level",
}
#: Per-compound fields; "final" and "calc" are kept apart so that Final Conc. wins.
_COMPOUND_FIELDS = {
    "finalconc": "final", "finalconcentration": "final",
    "calcconc": "calc", "calculatedconc": "calc", "calculatedconcentration": "calc",
    "expconc": "nominal", "expectedconc": "nominal", "expectedconcentration": "nominal",
    "resp": "response", "response": "response", "area": "area", "rt": "retention_time_min",
    "retentiontime": "retention_time_min", "ratio": "ion_ratio", "qualifierratio": "ion_ratio",
    "qualratio": "ion_ratio", "ionratio": "ion_ratio", "concunit": "unit",
    "concunits": "unit", "units": "unit", "unit": "unit", "mi": "manual",
    "outlierflag": "flag", "qualifier": "qualifier",
}
_GROUP = re.compile(r"^(?P<name>.*?)\s*(?P<kind>(?<=\s)Results|(?<=\s)Method|结果|方法)$", re.I)
_QUALIFIER = re.compile(r"\bqualifier\b", re.I)
_LAYOUT_NAMES = {"batch": "batch table", "report": "Quant report", "long": "flat export"}
_ISTD = re.compile(r"\(\s*istd\s*\)|\bistd\b", re.I)
_EXPORT = ("'Final Conc.' (or 'Calc. Conc.') in the batch table columns (Quantitative "
           "Analysis: Batch Table > Add/Remove Columns) and export the table again")


def read_masshunter(
    source,
    *,
    matrix: str,
    unit: str | None = None,
    batch: str | None = None,
    method: str = "confirm",
    manifest=None,
    key=None,
    sample_id_column: str | None = None,
    encoding: str | None = None,
    file_label: str | None = None,
    on_error: str = "reject",
) -> ReadResult:
    """Read an Agilent MassHunter Quantitative Analysis export (batch table, Quant report
    CSV or flat long export).

    Parameters
    ----------
    source : str, os.PathLike or file-like
        The CSV file. Layouts (detected from the text):

        - batch table: two header rows; row 1 holds ``Sample`` over the sample
          columns (``Name``, ``Data File``, ``Type``, ``Level``; two unnamed leading
          columns hold the ``!`` outlier flag) and ``<Compound> Method`` /
          ``<Compound> Results`` over each compound's columns (``RT``, ``Resp.``,
          ``Calc. Conc.``, ``Final Conc.``; ``Exp. Conc.`` usually in the Method
          block). ``Qualifier (m/z -> m/z)`` blocks are not results; the first one's
          ``Ratio`` [% of the quantifier] is the compound's ion ratio (as a fraction).
        - Quant report CSV: ``Batch Info`` lines, then per compound a
          ``Target Compound`` line, a header line and one line per sample.
        - flat long export: ``SampleName, Compound, CalculatedConcentration,
          FinalConcentration`` (``ND`` is not detected).
    matrix : {"hair", "urine"}
    unit : str, optional
        Concentration unit when the export does not state it (MassHunter batch tables
        usually do not; ``nM``/``µM`` convert with the registry's molar mass).
    batch, method, manifest, key, file_label, on_error
        As in :func:`read_sciex`.
    sample_id_column : str, optional
        Column holding the lab's sample code (default ``Name``, else ``Data File``
        without its ``.d``).
    encoding : str, optional
        Text encoding; detected when omitted (UTF-8, GB18030, cp1252, latin-1).

    Returns
    -------
    ReadResult
        One row per injection and compound. ``Final Conc.`` is the value where present
        (it includes dilution factors), else ``Calc. Conc.``. Row numbers are those of
        the CSV (the first data row of a batch table is row 3); a rejected result names
        its compound block in ``column``.

    Raises
    ------
    InputError
        Unrecognised layout (the message names the layouts read and what to export),
        or an export without any concentration column (the message lists the peak
        quantities found: areas and retention times are not results).

    Examples
    --------
    >>> import io
    >>> text = (",,Sample,,,Methamphetamine Method,Methamphetamine Results,,\\n"
    ...         ",,Name,Type,Level,Exp. Conc.,RT,Calc. Conc.,Final Conc.\\n"
    ...         "!,,CAL1,Cal,L1,1,3.2,1.04,1.04\\n"
    ...         ",,S001,Sample,,,3.21,0.50,2.50\\n")
    >>> data, rejects = read_masshunter(io.StringIO(text), matrix="urine", unit="ng/mL")
    >>> data[["sample_id", "sample_type", "value", "nominal"]]
      sample_id sample_type  value  nominal
    0      CAL1  calibrator   1.04      1.0
    1      S001     unknown   2.50      NaN
    """
    label = source_label(source, file_label) if not hasattr(source, "read") else (
        file_label or "<buffer>")
    text, enc = read_text(source, label, encoding)
    lines = split_lines(text)
    rows = csv_rows(lines)
    rejects = Rejects(label)
    layout = _layout(rows)
    if layout == "batch":
        records, missing = _batch_table(rows, _group_row(rows), label, sample_id_column)
        if not any("value" in r for r in records):
            start = _group_row(rows)
            found = quantity_columns(c for c in rows[start + 1] if c)
            raise no_concentrations(label, "MassHunter batch table", found, len(records),
                                    _EXPORT)
        for number, block in missing:
            rejects.add([number], block, [None], "compound block without 'Final Conc.' or "
                        "'Calc. Conc.'; add the column to the batch table and export again")
    elif layout == "report":
        records = _quant_report(rows, label, sample_id_column)
    elif layout == "long":
        records = _flat_long(rows, label, sample_id_column)
    else:
        raise InputError(
            "not a MassHunter export read here: expected a batch table (two header rows: "
            "'Sample' and '<Compound> Results' groups over 'Name', 'Type', 'Final Conc.'), "
            "a Quant report CSV ('Target Compound' sections) or a flat long export "
            "('SampleName, Compound, FinalConcentration'). The compound-table (transposed) "
            "view and report XML are not read: export the batch table as CSV",
            file=label)
    require_unit(records, unit, label, f"MassHunter {_LAYOUT_NAMES[layout]}")
    raw = records_to_raw(records, label, enc)
    return finish_export(raw, label, manifest=manifest, key=key, matrix=matrix, batch=batch,
                          method=method, unit=unit, on_error=on_error, rejects=rejects)


def _percent_to_fraction(text: str | None) -> str | None:
    """MassHunter shows qualifier ratios in percent of the quantifier (48.2); wbe keeps
    ion ratios as fractions (0.482). Non-numbers are left for the shared checks."""
    try:
        return repr(float(text) / 100.0) if text is not None else None
    except ValueError:
        return text


def _group_row(rows: list[list[str | None]]) -> int | None:
    """Index of the batch table's group header row (title lines may sit above it)."""
    for i, r in enumerate(rows[:10]):
        if i + 1 < len(rows) and any(c and _GROUP.match(c) for c in r):
            return i
    return None


def _layout(rows: list[list[str | None]]) -> str | None:
    if _group_row(rows) is not None:
        return "batch"
    for r in rows[:400]:
        if r and r[0] and hkey(r[0]).startswith("targetcompound"):
            return "report"
    if rows:
        keys = {hkey(c) for c in rows[0] if c}
        if keys & {"compound", "compoundname"} and keys & {
                "samplename", "name", "datafile", "sample"}:
            return "long"
    return None


def _value_fields(fields: dict[str, str]) -> dict[str, str]:
    """Choose the value column explicitly: Final Conc. wins over Calc. Conc."""
    out = {k: v for k, v in fields.items() if k not in ("final", "calc", "area")}
    if "final" in fields:
        out["value"] = fields["final"]
    elif "calc" in fields:
        out["value"] = fields["calc"]
    if "response" not in fields and "area" in fields:
        out["response"] = fields["area"]
    return out


def _sample_cells(row, sample_cols: dict[str, int], flag_col: int | None,
                  sample_id_column: int | None) -> dict:
    rec = {k: (row[j] if j < len(row) else None) for k, j in sample_cols.items()}
    if sample_id_column is not None:
        sid = row[sample_id_column] if sample_id_column < len(row) else None
    else:
        sid = rec.get("name")
        if sid is None and rec.get("data_file"):
            sid = re.sub(r"\.d$", "", rec["data_file"], flags=re.I)
    out = {"sample_id": sid, "sample_type": rec.get("sample_type"),
           "qc_level": rec.get("qc_level")}
    if flag_col is not None and flag_col < len(row) and row[flag_col]:
        out["flag"] = row[flag_col]
    return out


def _batch_table(rows, start: int, label: str, sample_id_column: str | None):
    top, fields = rows[start], rows[start + 1]
    width = max(len(top), len(fields))
    top = list(top) + [None] * (width - len(top))
    fields = list(fields) + [None] * (width - len(fields))
    groups: list[str | None] = []
    current = None
    for t in top:
        current = t if t else current
        groups.append(current)
    sample_cols: dict[str, int] = {}
    flag_col = None
    sid_col = None
    blocks: dict[str, dict] = {}  # compound -> {"fields": {canon: col}, "istd": bool}
    last_compound = None
    for j in range(width):
        group, field = groups[j], fields[j]
        m = _GROUP.match(group) if group else None
        if m is None:  # "Sample" group, or columns before the first group
            if field is None:
                if j < 3 and flag_col is None:
                    flag_col = j  # the unnamed outlier-flag column ('!')
                continue
            canon = _SAMPLE_FIELDS.get(hkey(field))
            if canon is not None and canon not in sample_cols:
                sample_cols[canon] = j
            if sample_id_column is not None and hkey(field) == hkey(sample_id_column):
                sid_col = j
            continue
        name = m.group("name").strip()
        if _QUALIFIER.search(name):
            # qualifier transitions carry their own Calc./Final Conc.: not results; the
            # first qualifier's ratio is the compound's ion ratio
            if last_compound is not None and field and _COMPOUND_FIELDS.get(
                    hkey(field)) == "ion_ratio":
                blocks[last_compound]["fields"].setdefault("ion_ratio", j)
            continue
        last_compound = name
        istd = bool(_ISTD.search(name) or INTERNAL_STANDARD_RE.search(name))
        block = blocks.setdefault(name, {"fields": {}, "units": {}, "istd": istd})
        canon = _COMPOUND_FIELDS.get(base_key(field)) if field else None
        if canon is not None and canon not in block["fields"]:
            block["fields"][canon] = j
            if header_unit(field):
                block["units"][canon] = header_unit(field)
    if sample_id_column is not None and sid_col is None:
        raise InputError(f"sample_id_column {sample_id_column!r} is not a sample column; "
                         f"columns: {[f for f in fields if f]}", file=label)
    if "name" not in sample_cols and "data_file" not in sample_cols and sid_col is None:
        raise InputError("MassHunter batch table without a 'Name' or 'Data File' column to "
                         "identify the injections", file=label)
    if not blocks:
        raise InputError("MassHunter batch table without '<Compound> Results' groups",
                         file=label)
    chosen = {c: _value_fields(b["fields"]) for c, b in blocks.items()}
    data_rows = [(i + 1, r) for i, r in enumerate(rows[start + 2:], start=start + 2) if any(r)]
    # an export without any concentration column is parsed in full (peak quantities
    # only) so that the caller can say so once; otherwise a block without one is listed
    any_value = any("value" in f for f in chosen.values())
    records, missing = [], []
    for number, row in data_rows:
        base = _sample_cells(row, sample_cols, flag_col, sid_col)
        base["source_row"] = number
        for compound, cols in chosen.items():
            rec = dict(base, analyte=compound, result_label=f"{compound} Results")
            for canon, j in cols.items():
                if canon in ("manual", "qualifier"):
                    continue
                rec[canon] = row[j] if j < len(row) else None
            if "ion_ratio" in rec:
                rec["ion_ratio"] = _percent_to_fraction(rec["ion_ratio"])
            manual = cols.get("manual")
            if manual is not None and manual < len(row) and truthy(row[manual]):
                rec["flag"] = "; ".join(x for x in (rec.get("flag"), "manual integration")
                                        if x)
            if "value" not in cols and any_value:
                missing.append((number, f"{compound} Results"))
                continue
            if blocks[compound]["istd"]:
                rec["internal_standard"] = "true"
            unit = blocks[compound]["units"].get("final") or blocks[compound]["units"].get(
                "calc")
            if unit and not rec.get("unit"):
                rec["unit"] = unit
            records.append(rec)
    return records, missing


def _section_records(header, body, compound, start_number, sample_id_column, istd):
    cols: dict[str, int] = {}
    sample_cols: dict[str, int] = {}
    units: dict[str, str] = {}
    sid_col = None
    for j, h in enumerate(header):
        if not h:
            continue
        canon = _COMPOUND_FIELDS.get(base_key(h))
        if canon is not None and canon not in cols:
            cols[canon] = j
            if header_unit(h):
                units[canon] = header_unit(h)
        s = _SAMPLE_FIELDS.get(hkey(h))
        if s is not None and s not in sample_cols:
            sample_cols[s] = j
        if sample_id_column is not None and hkey(h) == hkey(sample_id_column):
            sid_col = j
    chosen = _value_fields(cols)
    records = []
    for offset, row in enumerate(body):
        if not any(row):
            continue
        rec = _sample_cells(row, sample_cols, None, sid_col)
        rec.update(source_row=start_number + offset, analyte=compound)
        for canon, j in chosen.items():
            if canon not in ("manual", "qualifier", "analyte"):
                rec[canon] = row[j] if j < len(row) else None
        if "ion_ratio" in rec:
            rec["ion_ratio"] = _percent_to_fraction(rec["ion_ratio"])
        unit = units.get("final") or units.get("calc")
        if unit and not rec.get("unit"):
            rec["unit"] = unit
        if istd:
            rec["internal_standard"] = "true"
        records.append(rec)
    return records, "value" in chosen, [header[j] for j in cols.values()]


def _quant_report(rows, label: str, sample_id_column: str | None) -> list[dict]:
    records: list[dict] = []
    has_value = False
    found: list[str] = []
    i = 0
    n = len(rows)
    while i < n:
        row = rows[i]
        if not (row and row[0] and hkey(row[0]).startswith("targetcompound")):
            i += 1
            continue
        title = row[0]
        compound = cell(title.split(":", 1)[1]) if ":" in title else None
        compound = compound or next((c for c in row[1:] if c), None)
        if compound is None:
            raise InputError("'Target Compound' line without a compound name", file=label,
                             row=i + 1)
        istd = bool(_ISTD.search(" ".join(c for c in row if c)))
        j = i + 1
        while j < n and not any(rows[j]):
            j += 1
        if j >= n:
            break
        header = rows[j]
        k = j + 1
        while k < n and any(rows[k]) and not (rows[k][0] and hkey(rows[k][0]).startswith(
                "targetcompound")):
            k += 1
        recs, ok, quantities = _section_records(header, rows[j + 1:k], compound, j + 2,
                                                sample_id_column, istd)
        has_value |= ok
        found += [q for q in quantity_columns(quantities) if q not in found]
        records += recs
        i = k
    if not records:
        raise InputError("MassHunter Quant report without 'Target Compound' sections with "
                         "sample lines", file=label)
    if not has_value:
        raise no_concentrations(label, "MassHunter Quant report", found, len(records),
                                "a report template with 'Final Conc.' or 'Calc. Conc.'")
    return records


def _flat_long(rows, label: str, sample_id_column: str | None) -> list[dict]:
    header = rows[0]
    compound_col = next(j for j, h in enumerate(header)
                        if h and hkey(h) in ("compound", "compoundname"))
    istd_col = next((j for j, h in enumerate(header)
                     if h and hkey(h) in ("istd", "isistd", "internalstandard")), None)
    recs, ok, quantities = _section_records(header, rows[1:], None, 2, sample_id_column,
                                            False)
    if sample_id_column is None and not any(r.get("sample_id") for r in recs):
        raise InputError("flat MassHunter export without a sample name column", file=label)
    for rec, row in zip(recs, [r for r in rows[1:] if any(r)], strict=True):
        rec["analyte"] = row[compound_col] if compound_col < len(row) else None
        if istd_col is not None and istd_col < len(row) and truthy(row[istd_col]):
            rec["internal_standard"] = "true"
    if not recs:
        raise InputError("flat MassHunter export without data rows", file=label)
    if not ok:
        raise no_concentrations(label, "flat MassHunter export", quantity_columns(quantities),
                                len(recs), "'FinalConcentration' or 'CalculatedConcentration'")
    return recs
