"""``monthly_estimates.xlsx``: the office's workbook, headers in the report language.

One sheet per table (city, plants, lab positivity, alerts to act on); numbers stay numbers,
rounded for reading (3 significant digits for estimates and ratios, 2 decimals for
probabilities); the CSV/Parquet files keep full precision and the English schema.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from wbe.publish._i18n import text

#: Columns of the estimates sheets, in order.
_ESTIMATE_COLUMNS = ("month", "area", "drug", "variable", "units", "median", "lower_95",
                     "upper_95", "vs_prev_month_ratio_median", "vs_prev_month_prob_increase",
                     "vs_prev_year_ratio_median", "vs_prev_year_prob_increase", "trend_class",
                     "samples", "days_in_month", "days_below_loq", "coverage_ok",
                     "population")
_POSITIVITY_COLUMNS = ("month", "matrix", "group", "drug", "tested", "positive",
                       "positivity", "lower_95", "upper_95", "suppressed")
_ALERT_COLUMNS = ("site", "biomarker", "date", "method", "status", "severity", "observed",
                  "expected", "upper_bound", "exceedance_ratio")
_TEXT_VALUES = ("variable", "trend_class", "status", "severity", "matrix", "level")
_PROBABILITIES = ("vs_prev_month_prob_increase", "vs_prev_year_prob_increase", "positivity",
                  "lower_95_positivity")


def round_significant(x: pd.Series, digits: int = 3) -> pd.Series:
    """Round to ``digits`` significant digits (NaN kept)."""
    v = pd.to_numeric(x, errors="coerce").to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.where((v != 0) & np.isfinite(v), np.floor(np.log10(np.abs(v))), 0)
    factor = 10.0 ** (digits - 1 - mag)
    return pd.Series(np.round(v * factor) / factor, index=x.index)


def _sheet(frame: pd.DataFrame, columns, lang: str, probabilities=()) -> pd.DataFrame:
    out = frame[[c for c in columns if c in frame]].copy()
    if "area" in out:  # the city row's area is the word "city"
        out["area"] = out["area"].map(lambda v: text("city", lang) if v == "city" else v)
    for c in out.columns:
        if c in _TEXT_VALUES:
            out[c] = out[c].map(lambda v: text(str(v), lang) if pd.notna(v) else v)
        elif c in probabilities:
            out[c] = pd.to_numeric(out[c], errors="coerce").round(2)
        elif c in ("median", "lower_95", "upper_95", "observed", "expected", "upper_bound",
                   "exceedance_ratio") or c.endswith("ratio_median"):
            out[c] = round_significant(out[c])
    return out.rename(columns=lambda c: text(c, lang))


def write_office_workbook(path: str | Path, *, monthly: pd.DataFrame,
                          positivity: pd.DataFrame | None, alerts: pd.DataFrame | None,
                          lang: str = "en") -> bool:
    """Write the workbook; return False (nothing written) when openpyxl is missing."""
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        return False
    city = monthly[monthly["level"] == "city"].sort_values(["drug", "variable", "month"])
    plants = monthly[monthly["level"] == "site"].sort_values(
        ["area", "drug", "variable", "month"])
    names = {"en": ("City", "Plants", "Lab positivity", "Alerts"),
             "zh": ("全市", "各污水处理厂", "实验室阳性率", "预警")}[lang]
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        _sheet(city, _ESTIMATE_COLUMNS, lang, _PROBABILITIES).to_excel(
            xl, sheet_name=names[0], index=False)
        _sheet(plants, _ESTIMATE_COLUMNS, lang, _PROBABILITIES).to_excel(
            xl, sheet_name=names[1], index=False)
        if positivity is not None and len(positivity):
            _sheet(positivity, _POSITIVITY_COLUMNS, lang, ("positivity", "lower_95",
                                                            "upper_95")).to_excel(
                xl, sheet_name=names[2], index=False)
        if alerts is not None and len(alerts):
            active = alerts[alerts["status"].isin(["new", "ongoing"])]
            _sheet(active, _ALERT_COLUMNS, lang).to_excel(xl, sheet_name=names[3], index=False)
        import datetime as _dt

        fixed = _dt.datetime(2000, 1, 1)  # no wall-clock time: re-runs are byte-identical
        xl.book.properties.created = fixed
        xl.book.properties.modified = fixed
        for ws in xl.book.worksheets:  # readable widths
            for col in ws.columns:
                width = max(len(str(c.value or "")) for c in col[:50])
                ws.column_dimensions[col[0].column_letter].width = min(max(width + 2, 8), 40)
    _freeze_times(Path(path))
    return True


def _freeze_times(path: Path) -> None:
    """Rewrite the .xlsx zip with fixed entry dates and document times, so the same
    inputs give the same bytes (the manifest hashes it; the feed compares manifests)."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as z:
        entries = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                              rb"\g<1>2000-01-01T00:00:00Z", data)
            z.writestr(zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0)), data,
                       compress_type=zipfile.ZIP_DEFLATED)
