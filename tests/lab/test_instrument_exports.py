"""Lab readers on real instrument exports (``../shared/data/instrument-exports``).

The files are public test files of other projects (see PROVENANCE.md there), exported by
real MassHunter, MultiQuant and TargetLynx installations. Expected counts are computed
here from the raw text with the ``csv`` module (never by the readers), and the spot-
checked values were read off the files by eye.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pandas as pd
import pytest

from wbe.errors import InputError
from wbe.lab import qc_report, read_masshunter, read_sciex, read_targetlynx

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("WBE_SHARED_DATA", REPO / ".." / "shared"))
EXPORTS = SHARED / "data" / "instrument-exports"

pytestmark = pytest.mark.skipif(
    not EXPORTS.is_dir(),
    reason=f"real instrument exports not found at {EXPORTS} (set WBE_SHARED_DATA to the "
           "folder holding data/instrument-exports)",
)

MH = "mh_midar_QuantLCMS_Example_MassHunter.csv"
MH_CALC = "mh_midar_QuantLCMS_Example_MassHunter_CalcConc.csv"


def _mh_raw(name: str):
    """(data rows, compound groups, qualifier groups) counted from the raw CSV."""
    rows = list(csv.reader((EXPORTS / name).read_text(encoding="utf-8").splitlines()))
    groups = [g for g in rows[0] if g.endswith(" Results")]
    compounds = [g for g in groups if not g.startswith("Qualifier")]
    data = [r for r in rows[2:] if any(c.strip() for c in r)]
    return rows, data, compounds


def _accounted(data, rejects) -> int:
    """Results in data plus distinct rejected results (one per row and column)."""
    return len(data) + len(rejects[["source_row", "column"]].drop_duplicates())


def _value(data, sample, analyte, column="value"):
    hit = data[(data["sample_id"] == sample) & (data["analyte"] == analyte)]
    assert len(hit) == 1, (sample, analyte)
    return hit.iloc[0][column]


@pytest.mark.parametrize("name", [MH, MH_CALC])
def test_masshunter_batch_table_row_accounting_types_and_istd(name):
    rows, raw_data, compounds = _mh_raw(name)
    data, rejects = read_masshunter(EXPORTS / name, matrix="urine", unit="ng/mL")
    assert len(raw_data) == 25 and len(compounds) == 8  # as in PROVENANCE.md
    # every (injection, compound) result is in data or in the rejects, once
    assert _accounted(data, rejects) == len(raw_data) * len(compounds)
    assert not set(zip(data["source_row"], data["analyte"], strict=True)) & set(
        zip(rejects["source_row"], rejects["column"], strict=True))
    # qualifier blocks are not results
    assert not data["analyte"].str.startswith("Qualifier").any()
    # sample types as in the file's Type column (Sample, Cal, QC)
    type_col = rows[1].index("Type")
    name_col = rows[1].index("Name")
    words = {"Sample": "unknown", "Cal": "calibrator", "QC": "qc"}
    expected = {r[name_col]: words[r[type_col]] for r in raw_data}
    got = data.drop_duplicates("sample_id").set_index("sample_id")["sample_type"].to_dict()
    assert got == {k: v for k, v in expected.items() if k in got}
    # internal standards: the '(ISTD)' compounds, kept and flagged, not rejected
    istd = set(data.loc[data["internal_standard"], "analyte"])
    assert istd == {c[: -len(" Results")] for c in compounds if "(ISTD)" in c}
    assert not rejects["reason"].str.contains("unknown analyte|internal").any()
    # analytes outside the registry are kept as written, flagged, with a note
    steroids = data[~data["internal_standard"]]
    assert not steroids["analyte_known"].any()
    assert steroids["note"].str.contains("not in the registry").all()
    assert set(steroids["analyte"]) == {"Corticosterone", "Aldosterone", "Cortisone",
                                        "Cortisol"}


def test_masshunter_final_conc_wins_and_spot_values():
    data, _ = read_masshunter(EXPORTS / MH, matrix="urine", unit="ng/mL")
    # Final Conc. (not Calc. Conc., which sits before it in the row)
    assert _value(data, "CalB", "Corticosterone") == 20229.0  # Calc. Conc. is 116078
    assert _value(data, "QC_High_3", "Aldosterone") == 7452.0
    assert _value(data, "SPL4", "Corticosterone") == 12657.0
    assert _value(data, "SBLK1", "Aldosterone D4 (ISTD)") == 23.0
    # Exp. Conc. comes from the '<Compound> Method' block; Level from the Sample group
    assert _value(data, "CalB", "Corticosterone", "nominal") == 0.79
    assert _value(data, "QC_High_3", "Aldosterone", "nominal") == 3.45
    assert _value(data, "QC_Low_2", "Cortisol", "qc_level") == "Low"
    # the unnamed first column is MassHunter's outlier flag '!'
    assert _value(data, "CalA", "Cortisol", "flag") == "!"
    assert pd.isna(_value(data, "CalB", "Cortisol", "flag"))


def test_masshunter_calc_conc_file_spot_values():
    data, rejects = read_masshunter(EXPORTS / MH_CALC, matrix="urine", unit="ng/mL")
    assert _value(data, "CalA", "Corticosterone") == 48142.0
    assert _value(data, "UBLK", "Aldosterone") == 515.0
    assert _value(data, "SPL4", "Aldosterone") == 2178.0
    assert _value(data, "QC_High_5", "Corticosterone") == 5749936.0
    assert _value(data, "CalF", "Corticosterone", "nominal") == 38.5
    # SBLK1 has no Corticosterone peak: a reject of that one result, not of the row
    sblk1 = rejects[rejects["source_row"] == 3]
    assert sblk1["column"].tolist() == ["value (Corticosterone Results)",
                                        "value (Aldosterone Results)"]
    assert len(data[data["source_row"] == 3]) == 6


@pytest.mark.parametrize("name, n_rows, n_blocks, quantities", [
    ("mh_midar_S1P_MHQuant.csv", None, None, ("'RT'", "'Area'", "'FWHM'")),
    ("mh_msorganiser_WideTableForm.csv", None, None, ("'RT'", "'Area'", "'FWHM'")),
])
def test_masshunter_areas_only_is_one_clear_error(name, n_rows, n_blocks, quantities):
    _, raw_data, compounds = _mh_raw(name)
    with pytest.raises(InputError) as info:
        read_masshunter(EXPORTS / name, matrix="urine", unit="ng/mL")
    msg = str(info.value)
    assert "no concentrations" in msg and "Final Conc." in msg
    assert f"{len(raw_data) * len(compounds)} result(s)" in msg
    for q in quantities[:2]:
        assert q in msg


def test_sciex_multiquant_without_concentrations_is_one_clear_error():
    path = EXPORTS / "sciex_msorganiser_SciExTestData.txt"
    lines = [x for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    header = lines[0].split("\t")
    assert "Sample Type" not in header  # MultiQuant export without it
    with pytest.raises(InputError) as info:
        read_sciex(path, matrix="urine")
    msg = str(info.value)
    assert "SCIEX results table holds no concentrations" in msg
    assert f"{len(lines) - 1} result(s)" in msg
    for q in ("'Area'", "'Retention Time'", "'Width at 50%'", "'Signal / Noise'"):
        assert q in msg


@pytest.mark.parametrize("name, layout", [
    ("tl_p2m2_070120_Saturation_CQA.txt", "Compound Summary"),
    ("tl_p2m2_190522_97.txt", "Compound Summary"),
    ("tl_p2m2_SortieMassLynxSampleToutesColonnes.txt", "Sample Summary"),
])
def test_targetlynx_reports_are_parsed_and_say_they_hold_no_concentrations(name, layout):
    text = (EXPORTS / name).read_bytes().decode("cp1252")
    lines = text.splitlines()
    # results: numbered lines under the blocks (first cell a line number)
    n_results = sum(1 for x in lines if x.split("\t", 1)[0].strip().isdigit())
    with pytest.raises(InputError) as info:
        read_targetlynx(EXPORTS / name, matrix="urine")
    msg = str(info.value)
    assert f"TargetLynx {layout} Report holds no concentrations" in msg
    assert f"{n_results} result(s)" in msg and "'Area'" in msg and "'RT'" in msg


def test_latin1_targetlynx_is_decoded_not_refused_or_mangled(tmp_path):
    """The µ of '22,18µgmL' (byte 0xB5) must come through as µ, not as a CJK character
    (GB18030 reads 0xB5 0x67 as one character)."""
    raw = (EXPORTS / "tl_p2m2_070120_Saturation_CQA.txt").read_bytes()
    assert b"\xb5g" in raw
    # add a concentration to one line so that the reader returns data
    text = raw.decode("cp1252").replace("\tAnalyte\t\t\tbb", "\tAnalyte\t12.5\t\tbb", 1)
    path = tmp_path / "tl.txt"
    path.write_bytes(text.encode("cp1252"))
    data, rejects = read_targetlynx(path, matrix="urine", unit="ng/mL")
    assert data["sample_id"].iloc[0] == "070120_CQA_22,18µgmL"
    assert data["value"].iloc[0] == 12.5
    # the other 15 results have no concentration: one reject each
    assert len(data) + len(rejects) == 16


def test_qc_report_runs_on_masshunter_batch_with_levels_from_the_file():
    data, _ = read_masshunter(EXPORTS / MH, matrix="urine", unit="ng/mL")
    report = qc_report(data)
    table = report.table
    assert set(table["analyte"]) == {"Corticosterone", "Aldosterone", "Cortisone", "Cortisol"}
    cal = table[table["check"] == "calibration"].set_index("analyte")["detail"]
    # six calibration levels A-F with the file's Exp. Conc. (no response column: the
    # instrument's back-calculated concentrations are judged against them)
    assert cal.str.contains("6 level").all(), cal.to_dict()
    qc = table[table["check"] == "qc_accuracy"].set_index("analyte")["detail"]
    assert qc.str.contains("/10 QC").all(), qc.to_dict()
    # the file's concentrations are not on the scale of its Exp. Conc. (CalB: Final
    # Conc. 20229 for an expected 0.79), so the batch is rightly rejected
    assert report.verdict == "reject"


def test_westgard_runs_on_the_file_qc_levels():
    """Westgard needs the lab's targets; here the file's QC levels (High, Low) and their
    Exp. Conc. as target means, with an assumed 10 % SD (a lab supplies its own)."""
    data, _ = read_masshunter(EXPORTS / MH, matrix="urine", unit="ng/mL")
    qc = data[(data["sample_type"] == "qc") & ~data["internal_standard"]]
    targets = (qc.groupby(["analyte", "qc_level"])["nominal"].first().rename("target_mean")
               .reset_index().assign(target_sd=lambda t: 0.1 * t["target_mean"]))
    assert set(targets["qc_level"]) == {"High", "Low"}
    assert targets.set_index(["analyte", "qc_level"]).loc[("Aldosterone", "High"),
                                                          "target_mean"] == 3.45
    report = qc_report(data, qc_targets=targets)
    west = report.table[report.table["check"] == "westgard"]
    assert set(west["analyte"]) == {"Corticosterone", "Aldosterone", "Cortisone", "Cortisol"}
    assert west["verdict"].eq("fail").all()  # values far from the expected concentrations


# The files without concentrations end in one error, but their layout is still parsed;
# the parsers (private) are checked here against values read off the raw text.


def _records(name: str):
    from wbe.lab._exports import csv_rows, split_lines
    from wbe.lab._masshunter import _batch_table, _group_row

    rows = csv_rows(split_lines((EXPORTS / name).read_text(encoding="utf-8")))
    records, missing = _batch_table(rows, _group_row(rows), name, None)
    assert not missing
    return {(r["source_row"], r["analyte"]): r for r in records}


def test_masshunter_areas_only_files_are_parsed_cell_by_cell():
    s1p = _records("mh_midar_S1P_MHQuant.csv")
    r = s1p[(3, "S1P d16:1 [M>113]")]
    assert (r["sample_id"], r["retention_time_min"], r["response"], r["flag"],
            r["sample_type"]) == ("006_EBLK_Extracted Blank+ISTD01", "3.422", "71", "!",
                                  "Sample")
    assert s1p[(3, "S1P d17:1 [M>113]")]["response"] == "197"
    assert s1p[(4, "S1P d16:1 [M>113]")]["retention_time_min"] == "3.438"
    assert s1p[(5, "S1P d16:1 [M>113]")]["response"] == "3385"
    assert s1p[(5, "S1P d16:1 [M>60]")]["response"] == "11181"
    istd = {a for (_, a), r in s1p.items() if r.get("internal_standard")}
    assert istd == {"S1P d18:1 13C2D2 (ISTD) [M>113]", "S1P d18:1 13C2D2 (ISTD) [M>60]"}
    wide = _records("mh_msorganiser_WideTableForm.csv")
    qc = wide[(3, "LPC 20:5")]
    assert (qc["sample_id"], qc["response"], qc["retention_time_min"]) == (
        "QC", "3612", "2.211")
    assert wide[(3, "LPC 14:0")]["response"] == "14722"
    assert wide[(3, "LPC 14:0")]["retention_time_min"] == "2.175"
    assert wide[(3, "LPC 16:1")]["response"] == "18932"
    istd = {a for (_, a), r in wide.items() if r.get("internal_standard")}
    assert istd == {"LPC 17:0 (IS)", "LPC 19:0 (IS)", "LPC 20:0 (IS)",
                    "MHC d18:1/16:0d3 (IS)"}


def test_sciex_areas_only_file_is_parsed_cell_by_cell():
    from wbe.lab._exports import csv_rows, split_lines
    from wbe.lab._sciex import _find_header, _sections

    path = EXPORTS / "sciex_msorganiser_SciExTestData.txt"
    rows = csv_rows(split_lines(path.read_text(encoding="utf-8")))
    [(header, cols, body, _)] = _sections(rows, _find_header(rows), 0, path.name, None)
    assert "value" not in cols and "sample_type" not in cols
    assert header == ["Sample Name", "Component Name", "Area", "Retention Time",
                      "Width at 50%", "Signal / Noise"]
    first = {k: body[0][1][j] for k, j in cols.items()}
    assert first == {"sample_id": "Blank 01", "analyte": "496.5 / 257.1",
                     "area": "4758.83137492473", "retention_time_min": "9.57305645493725"}
    assert body[0][0] == 2 and body[1][1][2] == "N/A"
    last_number, last = body[-1]
    assert last_number == len(body) + 1
    assert (last[0], last[1], last[2]) == ("Blank 17", "552.5 / 283.3", "875.213943792373")


@pytest.mark.parametrize("name, expected", [
    ("tl_p2m2_070120_Saturation_CQA.txt", {
        ("070120_CQA_22,18µgmL", "CAT"): ("3.20", "5.961"),
        ("070120_CQA_250µgmL", "CQA1"): ("3.39", "54385.078"),
        ("070120_CQA_1000µgmL", "CQA1"): ("3.36", "207796.375"),
        ("070120_CQA_22,18µgmL", "CAT_MS"): (None, None),
        ("070120_CQA_1000µgmL", "CQA1_MS"): ("3.45", "1567727.500")}),
    ("tl_p2m2_190522_97.txt", {
        ("130522_Std290920_96_Inj01", "CAT"): ("4.20", "1728.543"),
        ("130522_Std290920_96_Inj01", "EC"): ("6.29", "1574.581"),
        ("130522_Std290920_96_Inj01", "PLZ"): ("16.53", "5537.303"),
        ("130522_Std290920_96_Inj01", "EC_MS"): ("6.37", "1033929.063"),
        ("130522_Std290920_96_Inj01", "PLZ_MS"): ("16.59", "979674.938")}),
    ("tl_p2m2_SortieMassLynxSampleToutesColonnes.txt", {
        ("070120_CQA_22,18µgmL", "CAT"): ("3.20", "5.961"),
        ("070120_CQA_22,18µgmL", "CQA1"): ("3.40", "3749.195"),
        ("070120_CQA_250µgmL", "CAT_MS"): ("3.23", "23.808"),
        ("070120_CQA_500µgmL", "CAT_MS"): (None, None),
        ("070120_CQA_1000µgmL", "CQA1_MS"): ("3.45", "1567727.500")}),
])
def test_targetlynx_reports_are_parsed_cell_by_cell(name, expected):
    from wbe._encoding import decode_text
    from wbe.lab._exports import split_lines
    from wbe.lab._targetlynx import _compound_summary, _sample_summary

    text, encoding = decode_text((EXPORTS / name).read_bytes(), name)
    assert encoding == ("utf-8" if name == "tl_p2m2_190522_97.txt" else "cp1252")
    parse = _sample_summary if "Sample" in name else _compound_summary
    records, _ = parse(split_lines(text), name, "urine", None)
    got = {(r["sample_id"], r["analyte"]): (r["retention_time_min"], r["response"])
           for r in records}
    assert {k: got[k] for k in expected} == expected
    # the Compound Summary files state the sample type of every line: Analyte
    if parse is _compound_summary:
        assert {r["sample_type"] for r in records} == {"Analyte"}
    assert not any(r.get("value") for r in records)
