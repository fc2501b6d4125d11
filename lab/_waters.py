"""Waters waters_connect (Quantify app) CSV exports (private; read by
:func:`wbe.lab.read_targetlynx`).

One header row and one row per injection and compound: ``Injection Name`` (or
``Sample Name``), ``Compound Name``, ``Calculated Concentration``,
``Concentration Units``, optional ``Injection Type``/``Sample Type``,
``Expected Concentration``, ``Retention Time``, ``Area``, ``Response``, ``Ion Ratio``.
``Not Detected`` is a censored result.
"""

from __future__ import annotations

from wbe.errors import InputError
from wbe.lab._exports import base_key, header_unit, hkey, no_concentrations, quantity_columns

__all__: list[str] = []

_MAP: dict[str, tuple[str, ...]] = {
    "sample_id": ("injectionname", "samplename", "injection"),
    "sample_type": ("injectiontype", "sampletype", "type"),
    "analyte": ("compoundname", "compound", "analytename"),
    "value": ("calculatedconcentration", "calculatedconc", "concentration", "conc"),
    "unit": ("concentrationunits", "concentrationunit", "units", "unit"),
    "nominal": ("expectedconcentration", "expectedconc", "nominalconcentration"),
    "retention_time_min": ("retentiontime", "rt", "observedrt"),
    "response": ("response",),
    "area": ("area", "peakarea"),
    "ion_ratio": ("ionratio", "observedionratio"),
    "qc_level": ("level",),
    "istd": ("internalstandard", "istd", "is"),
}


def is_waters_connect(header: list[str | None]) -> bool:
    keys = {base_key(h) for h in header if h}
    return bool(keys & {"compoundname"}) and bool(keys & {"injectionname", "injection"})


def waters_connect_records(rows, start: int, label: str,
                           sample_id_column: str | None) -> list[dict]:
    """Per-result records of a waters_connect CSV whose header is ``rows[start]``."""
    header = rows[start]
    keys = [base_key(h) if h else "" for h in header]
    cols: dict[str, int] = {}
    for canon, aliases in _MAP.items():
        hit = next((keys.index(a) for a in aliases if a in keys), None)
        if hit is not None:
            cols[canon] = hit
    if sample_id_column is not None:
        hits = [j for j, h in enumerate(header) if h and hkey(h) == hkey(sample_id_column)]
        if not hits:
            raise InputError(f"sample_id_column {sample_id_column!r} not found; columns: "
                             f"{[h for h in header if h]}", file=label)
        cols["sample_id"] = hits[0]
    body = [(start + 2 + i, r) for i, r in enumerate(rows[start + 1:]) if any(r)]
    if "value" not in cols:
        raise no_concentrations(label, "waters_connect CSV", quantity_columns(header),
                                len(body), "'Calculated Concentration' (add the column to "
                                "the Quantify results view and export the CSV again)")
    value_unit = header_unit(header[cols["value"]])
    records = []
    for number, row in body:
        rec: dict = {"source_row": number}
        for canon, j in cols.items():
            rec[canon] = row[j] if j < len(row) else None
        if rec.get("response") is None and "area" in rec:
            rec["response"] = rec.get("area")
        rec.pop("area", None)
        if rec.pop("istd", None) and hkey(row[cols["istd"]]) in ("true", "yes", "1"):
            rec["internal_standard"] = "true"
        if rec.get("unit") is None and value_unit is not None:
            rec["unit"] = value_unit
        records.append(rec)
    return records
