"""SCIEX Analyst / MultiQuant / SCIEX OS results tables (private; public in
:mod:`wbe.lab.io`)."""

from __future__ import annotations

import pandas as pd

from wbe._tabular import ReadResult, Rejects, source_label
from wbe.errors import InputError
from wbe.lab._exports import (
    base_key,
    cell,
    csv_rows,
    header_unit,
    hkey,
    injection_order,
    no_concentrations,
    quantity_columns,
    read_text,
    records_to_raw,
    require_unit,
    split_lines,
    truthy,
)
from wbe.lab._readers import finish_export

__all__: list[str] = []

#: Header keys (:func:`base_key`) of each canonical column, in order of preference.
_SCIEX_MAP: dict[str, tuple[str, ...]] = {
    "sample_id": ("samplename",),
    "sample_type": ("sampletype",),
    "group_name": ("componentgroupname", "groupname"),
    "analyte": ("componentname", "analytepeakname", "peakname", "analyte", "compound"),
    "value": ("calculatedconcentration", "calculatedconc", "calcconc",
              "analytecalculatedconcentration"),
    "nominal": ("actualconcentration", "expectedconcentration", "analyteconcentration",
                "expectedconc", "actualconc"),
    "response": ("arearatio", "analytepeakarearatio", "response"),
    "area": ("area", "analytepeakarea", "peakarea"),
    "ion_ratio": ("ionratio",),
    "retention_time_min": ("retentiontime", "analyteretentiontime", "rt"),
    "unit": ("concentrationunits", "concunits", "concentrationunit", "concunit",
             "analyteunits", "units"),
    "component_type": ("componenttype",),
    "istd": ("is", "isistd", "internalstandard"),
    "used": ("used", "userecord"),
    "reportable": ("reportable",),
}
_EXPORT = ("'Calculated Concentration' (MultiQuant/SCIEX OS: add the column to the "
           "Results Table and export it again)")


def _columns(header: list[str | None], sample_id_column: str | None) -> dict[str, int]:
    keys = [base_key(h) if h else "" for h in header]
    found: dict[str, int] = {}
    for canon, aliases in _SCIEX_MAP.items():
        for alias in aliases:
            if alias in keys:
                found[canon] = keys.index(alias)
                break
    if sample_id_column is not None:
        want = hkey(sample_id_column)
        hits = [j for j, h in enumerate(header) if h and hkey(h) == want]
        if not hits:
            raise InputError(f"sample_id_column {sample_id_column!r} not found; columns: "
                             f"{[h for h in header if h]}")
        found["sample_id"] = hits[0]
    return found


def _find_header(rows) -> int | None:
    return next((i for i, r in enumerate(rows[:2000]) if _is_header(r)), None)


def _sections(rows, h: int, offset: int, label: str, sample_id_column):
    """(header, columns, numbered data rows, Analyst 'Peak Name') of each table.

    A MultiQuant or SCIEX OS export holds one table; an Analyst text export holds one
    per analyte, each after 'Peak Name: ...' and calibration lines. A table runs from
    its header to the next blank line; lines outside tables are not results."""
    sections = []
    peak_name = None
    current = None
    for i in range(h, len(rows)):
        row = rows[i]
        if not any(row):
            current = None
            continue
        if _is_header(row):
            try:
                cols = _columns(row, sample_id_column)
            except InputError as exc:
                raise InputError(exc.message, file=label) from None
            current = (row, cols, [], peak_name)
            sections.append(current)
            continue
        if current is None:
            first = row[0] or ""
            if hkey(first).startswith("peakname:"):
                peak_name = cell(first.split(":", 1)[1]) or (row[1] if len(row) > 1 else None)
            continue
        current[2].append((i + 1 - offset, row))
    return sections


def _is_header(row) -> bool:
    keys = {base_key(c) for c in row if c}
    return bool(keys & {"samplename", "sampleid"}) and bool(
        keys & set(_SCIEX_MAP["analyte"] + _SCIEX_MAP["group_name"]))


def _section_records(header, cols, body, peak_name, rejects, label) -> list[dict]:
    value_unit = header_unit(header[cols["value"]])
    nominal_unit = header_unit(header[cols["nominal"]]) if "nominal" in cols else None
    if nominal_unit is not None and value_unit is not None and nominal_unit != value_unit:
        raise InputError(f"'Actual Concentration' is in {nominal_unit} but the calculated "
                         f"one in {value_unit}; export both in one unit", file=label)
    records = []
    for number, row in body:
        def get(name, row=row):
            j = cols.get(name)
            return row[j] if j is not None and j < len(row) else None
        ctype = hkey(get("component_type") or "")
        if "qualif" in ctype:
            rejects.add([number], "Component Type", [get("component_type")],
                        "qualifier transition (not a result; the quantifier row is)")
            continue
        excluded = next(((c, w) for c, w in (("used", "Used"), ("reportable", "Reportable"))
                         if truthy(get(c)) is False), None)
        if excluded is not None:
            c, w = excluded
            rejects.add([number], w, [get(c)], f"excluded by the analyst ({w} = {get(c)})")
            continue
        rec = {"source_row": number, "sample_id": get("sample_id"),
               "sample_type": get("sample_type"),
               "analyte": get("group_name") or get("analyte") or peak_name}
        for name in ("value", "nominal", "ion_ratio", "retention_time_min", "unit"):
            rec[name] = get(name)
        rec["response"] = get("response") if "response" in cols else get("area")
        if rec["unit"] is None and value_unit is not None:
            rec["unit"] = value_unit
        if "internal" in ctype or truthy(get("istd")):
            rec["internal_standard"] = "true"
        records.append(rec)
    return records


def _rows_of(source, label: str, encoding: str | None):
    if isinstance(source, pd.DataFrame):
        header = [str(c) for c in source.columns]
        body = [[None if pd.isna(v) else cell(str(v)) for v in r]
                for r in source.itertuples(index=False)]
        return [header, *body], "DataFrame", 1
    text, enc = read_text(source, label, encoding)
    lines = split_lines(text)
    rows = csv_rows(lines)
    return rows, enc, 0


def read_sciex(
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
    """Read a SCIEX Analyst/MultiQuant (or SCIEX OS) results table export.

    Parameters
    ----------
    source : str, os.PathLike, file-like or pandas.DataFrame
        Tab- or comma-separated text with one row per sample and component (title lines
        above the header are skipped): ``Sample Name``, ``Component Name`` (or Analyst's
        ``Analyte Peak Name``), ``Calculated Concentration`` (a unit in brackets is
        read), optional ``Sample Type`` (Unknown, Standard, Quality Control, Blank,
        Double Blank, Solvent; MultiQuant exports may omit it: then every row is
        ``unknown``), ``Actual Concentration``, ``Area Ratio``, ``Ion Ratio``,
        ``Retention Time`` [min], ``Concentration Units``/``Conc. Units``,
        ``Component Type`` and ``Component Group Name`` (SCIEX OS), ``IS``, ``Used``,
        ``Reportable``.
    matrix : {"hair", "urine"}
    unit : str, optional
        Concentration unit when the export states none.
    batch : str, optional
        Default the file name.
    method : {"screen", "confirm"}, default "confirm"
    manifest : str, os.PathLike or pandas.DataFrame, optional
        Sample manifest (``sample_id`` and ``subject_id``/``subject_name``,
        ``collected_on``, ``group``, ``segment``) joined on the sample id.
    key : bytes or str, optional
        Pseudonymisation key, required with a manifest.
    sample_id_column : str, optional
        Column holding the lab's sample code (default ``Sample Name``; SCIEX OS keeps
        it in ``Sample ID``).
    encoding : str, optional
        Text encoding; detected when omitted (UTF-8, GB18030, cp1252, latin-1).
    file_label, on_error
        As in :func:`read_lab_results`.

    Returns
    -------
    ReadResult
        As :func:`read_lab_results`; ``injection_order`` is the row order of the export.
        Qualifier rows (``Component Type`` Qualifier) and rows the analyst excluded
        (``Used``/``Reportable`` False) are listed in the rejects with that reason.

    Raises
    ------
    InputError
        Not a results table, or a table without a concentration column (the message
        lists the peak quantities found).

    Notes
    -----
    ``No Peak`` is not detected; ``N/A`` (written by SCIEX for missing values) is no
    result; ``< 0`` (negative calculated concentration) is below the LOQ.

    Examples
    --------
    >>> import pandas as pd
    >>> export = pd.DataFrame({
    ...     "Sample Name": ["CAL1", "S001", "S002"],
    ...     "Sample Type": ["Standard", "Unknown", "Unknown"],
    ...     "Component Name": "Methamphetamine",
    ...     "Actual Concentration": ["0.02", "N/A", "N/A"],
    ...     "Calculated Concentration": ["0.0201", "1.85", "No Peak"],
    ... })
    >>> data, rejects = read_sciex(export, matrix="hair", unit="ng/mg")
    >>> data[["sample_id", "sample_type", "value", "detection"]]
      sample_id sample_type   value     detection
    0      CAL1  calibrator  0.0201    quantified
    1      S001     unknown  1.8500    quantified
    2      S002     unknown     NaN  not_detected
    """
    label = source_label(source, file_label) if not hasattr(source, "read") else (
        file_label or "<buffer>")
    rows, enc, offset = _rows_of(source, label, encoding)
    h = _find_header(rows)
    if h is None:
        first = next((r for r in rows if any(r)), [])
        raise InputError(
            "not a SCIEX results table: expected a header with 'Sample Name' and "
            "'Component Name' (or 'Analyte Peak Name') and 'Calculated Concentration'. "
            f"First line: {[c for c in first if c][:12]}", file=label)
    sections = _sections(rows, h, offset, label, sample_id_column)
    n_results = sum(len(body) for _, _, body, _ in sections)
    if not any("value" in cols for _, cols, _, _ in sections):
        found = quantity_columns(c for header, _, _, _ in sections for c in header)
        raise no_concentrations(label, "SCIEX results table", found, n_results, _EXPORT)
    rejects = Rejects(label)
    records = []
    for header, cols, body, peak_name in sections:
        if "value" not in cols:
            rejects.add([n for n, _ in body], "Calculated Concentration", [None] * len(body),
                        "section without a 'Calculated Concentration' column")
            continue
        records += _section_records(header, cols, body, peak_name, rejects, label)
    require_unit(records, unit, label, "SCIEX results table")
    if not records:
        raw = pd.DataFrame({"source_row": pd.Series(dtype="int64")})
        raw.attrs = {"source": label, "encoding": enc}
    else:
        raw = records_to_raw(records, label, enc)
        raw["injection_order"] = injection_order(raw["sample_id"])
    return finish_export(raw, label, manifest=manifest, key=key, matrix=matrix, batch=batch,
                          method=method, unit=unit, on_error=on_error, rejects=rejects)
