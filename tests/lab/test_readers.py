"""Tests of the lab batch readers (wbe.lab.io).

Fixtures in ``tests/data/lab`` are written by ``tests/data/lab/make_fixtures.py``: a long
table with Chinese headers (hair), an English Excel sheet (urine), a SCIEX MultiQuant
results table (tab separated, CRLF), an Agilent MassHunter batch table (two header rows)
and a Waters TargetLynx compound summary (blocks), plus a sample manifest. Expected
values below are read off the fixture files by eye, not produced by the readers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wbe.errors import ImplausibleValueWarning, InputError, UnknownNameError
from wbe.lab.io import (
    LAB_COLUMNS,
    read_lab_results,
    read_masshunter,
    read_sciex,
    read_targetlynx,
)
from wbe.lab.qc import qc_report

DATA = Path(__file__).parents[1] / "data" / "lab"
KEY = "c7248ef7e57f7e56ad7197e29ebff4827002882d08801853d85795a13a8c04b5"  # token_hex(32), public


def _rows(rejects: pd.DataFrame) -> dict[int, str]:
    return dict(zip(rejects["source_row"], rejects["column"], strict=True))


# --------------------------------------------------------------------------- long format


def test_long_chinese_hair_accepted_rows_and_units():
    data, _ = read_lab_results(DATA / "long_hair_cn.csv", key=KEY)
    assert list(data.columns) == list(LAB_COLUMNS)
    assert set(data["matrix"]) == {"hair"} and set(data["unit"]) == {"ng/mg"}
    h001 = data[(data["sample_id"] == "H001") & (data["segment_cm_from"] == 0.0)]
    assert dict(zip(h001["analyte"], h001["value"], strict=True)) == {
        "methamphetamine": 1.85, "amphetamine": 0.12}
    assert set(h001["segment_cm_to"]) == {3.0}
    # '<0.05' -> below LOQ with loq 0.05; '未检出' -> not detected; 120 pg/mg -> 0.12 ng/mg
    amp = data[(data["sample_id"] == "H001") & (data["segment_cm_from"] == 3.0)
               & (data["analyte"] == "amphetamine")].iloc[0]
    assert amp["detection"] == "below_loq" and amp["censored"] and amp["loq"] == 0.05
    ket = data[data["analyte"] == "ketamine"].iloc[0]
    assert ket["detection"] == "not_detected" and np.isnan(ket["value"])
    nk = data[data["analyte"] == "norketamine"].iloc[0]
    assert nk["value"] == pytest.approx(0.12, rel=1e-12)
    # qualitative screen '阳性' for a drug class, no unit needed
    scr = data[data["method"] == "screen"].iloc[0]
    assert (scr["analyte"], scr["detection"], scr["flag"]) == ("amphetamines", "detected", "阳性")
    assert data["collected_on"].dt.strftime("%Y-%m-%d").tolist().count("2024-07-03") == 3
    # a name the registry does not know (a typo here) is kept as written and flagged
    typo = data[data["source_row"] == 10].iloc[0]
    assert (typo["analyte"], typo["analyte_known"], typo["value"]) == ("甲基苯丙安", False, 0.5)
    assert "not in the registry" in typo["note"]
    assert set(data["group"]) == {"社区康复", "驾驶人"}
    assert data["batch"].eq("HB2024-07").all()


def test_long_chinese_hair_rejects_name_row_column_and_reason():
    data, rejects = read_lab_results(DATA / "long_hair_cn.csv", key=KEY)
    assert list(rejects.columns) == ["source_file", "source_row", "column", "value", "reason"]
    assert _rows(rejects) == {
        11: "value", 12: "value", 13: "subject_id", 14: "sample_id",
        15: "segment", 16: "unit",
    }
    by_row = rejects.set_index("source_row")
    assert "dash" in by_row.loc[12, "reason"]
    assert "ID-card" in by_row.loc[14, "reason"]
    assert "mg/dL" in by_row.loc[16, "reason"]
    # every input row (2..16) is in data or in rejects, never nowhere
    assert set(data["source_row"]) | set(rejects["source_row"]) == set(range(2, 17))
    assert not set(data["source_row"]) & set(rejects["source_row"])


def test_long_english_urine_excel_units_and_na():
    data, rejects = read_lab_results(DATA / "long_urine.xlsx", key=KEY)
    values = dict(zip(data["analyte"], data["value"], strict=True))
    assert values["methamphetamine"] == pytest.approx(1200.0, rel=1e-12)  # 1.2 µg/mL
    assert values["ketamine"] == pytest.approx(950.0, rel=1e-12)  # 0.95 µg/mL
    assert values["amphetamine"] == 350.0
    assert rejects["source_row"].tolist() == [4]
    assert "N/A" in rejects["reason"].iloc[0]
    # the same name gives the same subject key; different names differ
    keys = data.groupby("sample_id")["subject_key"].nunique()
    assert (keys == 1).all() and data["subject_key"].nunique() == 3


def test_stated_detection_column_makes_an_empty_value_censored_not_missing():
    """The documented long format carries ``detection``: an empty value stated as
    not detected is a censored negative, while an empty value with no statement is
    still refused as 'no result'."""
    frame = pd.DataFrame({
        "batch": ["B1"] * 3, "sample_id": ["S1", "S2", "S3"],
        "subject_id": ["甲", "乙", "丙"], "matrix": ["hair"] * 3,
        "collected_on": ["2024-03-01"] * 3, "group": ["drivers"] * 3,
        "analyte": ["methamphetamine"] * 3, "value": [None, None, "0.31"],
        "unit": ["ng/mg"] * 3, "method": ["confirm"] * 3, "sample_type": ["unknown"] * 3,
        "detection": ["not_detected", None, "quantified"],
    })
    data, rejects = read_lab_results(frame, key=KEY)
    assert data["sample_id"].tolist() == ["S1", "S3"]
    assert data["censored"].tolist() == [True, False]
    assert data["detection"].tolist() == ["not_detected", "quantified"]
    assert rejects["source_row"].tolist() == [3]
    assert "no result" in rejects["reason"].iloc[0]


def test_on_error_raise_names_file_row_column():
    with pytest.raises(InputError) as info:
        read_lab_results(DATA / "long_hair_cn.csv", key=KEY, on_error="raise")
    err = info.value
    assert (err.file, err.row, err.column) == ("long_hair_cn.csv", 11, "value")


def test_missing_required_columns_and_bad_arguments():
    frame = pd.DataFrame({"样品编号": ["A"], "结果": ["1"], "姓名": ["x"]})
    with pytest.raises(InputError, match="analyte"):
        read_lab_results(frame, key=KEY)
    frame = pd.DataFrame({"sample_id": ["A"], "analyte": ["METH"], "value": ["1"]})
    with pytest.raises(InputError, match="subject identifier"):
        read_lab_results(frame, key=KEY, matrix="hair", unit="ng/mg")
    frame["name"] = "x"
    with pytest.raises(UnknownNameError, match="hair"):
        read_lab_results(frame, key=KEY, matrix="blood", unit="ng/mg")
    with pytest.raises(InputError, match="key"):
        read_lab_results(frame, key=None, matrix="hair", unit="ng/mg")
    with pytest.raises(InputError, match="too short"):
        read_lab_results(frame, key="short", matrix="hair", unit="ng/mg")


def test_duplicates_are_all_rejected():
    frame = pd.DataFrame({
        "sample_id": ["A", "A", "B"], "name": ["x", "x", "y"],
        "analyte": ["METH", "METH", "METH"], "value": ["1", "2", "3"],
    })
    data, rejects = read_lab_results(frame, key=KEY, matrix="urine", unit="ng/mL")
    assert data["sample_id"].tolist() == ["B"]
    assert rejects["source_row"].tolist() == [2, 3]


def test_implausible_hair_value_warns_but_is_kept():
    frame = pd.DataFrame({"sample_id": ["A"], "name": ["x"], "analyte": ["METH"],
                          "value": ["5000"]})
    with pytest.warns(ImplausibleValueWarning, match="ng/mg"):
        data, _ = read_lab_results(frame, key=KEY, matrix="hair", unit="ng/mg")
    assert data["value"].tolist() == [5000.0]


# --------------------------------------------------------------------------- instruments


def test_sciex_results_table():
    data, rejects = read_sciex(DATA / "sciex_results.txt", matrix="hair",
                               manifest=DATA / "manifest.csv", key=KEY)
    # 8 calibrators + blank + 3 QC + 3 unknowns, 2 analytes each, + 8 internal standard
    assert len(data) == 38 and rejects.empty
    analytes = data[~data["internal_standard"]]
    assert analytes.groupby("sample_type").size().to_dict() == {
        "blank": 2, "calibrator": 16, "qc": 6, "unknown": 6}
    # the internal standard is kept apart (flagged), not rejected as an unknown analyte
    istd = data[data["internal_standard"]]
    assert len(istd) == 8 and istd["analyte_name"].eq("Methamphetamine-D5").all()
    assert not istd["analyte_known"].any()
    s1 = data[(data["sample_id"] == "S001") & (data["analyte"] == "methamphetamine")].iloc[0]
    assert (s1["value"], s1["response"], s1["ion_ratio"], s1["retention_time_min"]) == (
        1.85, 3.704, 0.44, 3.22)
    assert s1["group"] == "community" and s1["segment_cm_to"] == 3.0
    assert s1["collected_on"] == pd.Timestamp("2024-09-02")
    s2 = data[data["sample_id"] == "S002"]
    assert (s2["detection"] == "not_detected").all() and s2["flag"].eq("No Peak").all()
    cal = analytes[analytes["sample_type"] == "calibrator"]
    assert sorted(cal["nominal"].unique()) == [0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0]
    assert data["batch"].eq("sciex_results").all()
    assert data.loc[data["sample_type"] == "unknown", "subject_key"].notna().all()


def test_sciex_batch_passes_qc():
    data, _ = read_sciex(DATA / "sciex_results.txt", matrix="hair")
    report = qc_report(data)
    assert report.verdict == "accept", report.reasons
    assert set(report.table["analyte"]) == {"methamphetamine", "amphetamine"}
    # S003 methamphetamine ion ratio 0.95 vs calibrator mean 0.42 is flagged
    row = report.table.set_index(["analyte", "check"]).loc[("methamphetamine", "ion_ratio")]
    assert row["verdict"] == "warn" and row["samples"] == "S003"


def test_masshunter_two_header_rows():
    data, rejects = read_masshunter(DATA / "masshunter_batch.csv", matrix="hair",
                                    unit="ng/mg", manifest=DATA / "manifest.csv", key=KEY)
    assert rejects.empty
    assert set(data["analyte"]) == {"methamphetamine", "amphetamine"}
    assert len(data) == 2 * 12
    cal = data[(data["sample_type"] == "calibrator") & (data["analyte"] == "amphetamine")]
    assert cal["source_row"].tolist() == list(range(3, 11))  # two header rows
    assert cal["qc_level"].tolist() == [f"L{i}" for i in range(1, 9)]
    s3 = data[(data["sample_id"] == "S003") & (data["analyte"] == "amphetamine")].iloc[0]
    assert s3["detection"] == "below_loq" and s3["loq"] == 0.05
    assert s3["group"] == "drivers"
    blank = data[data["sample_type"] == "blank"]
    assert blank["value"].isna().all()


def test_targetlynx_blocks():
    data, rejects = read_targetlynx(DATA / "targetlynx_summary.txt", matrix="urine",
                                    manifest=DATA / "manifest.csv", key=KEY)
    assert set(data["unit"]) == {"ng/mL"}
    s1 = data[(data["sample_id"] == "S001") & ~data["internal_standard"]].set_index(
        "analyte")["value"].to_dict()
    assert s1 == {"methamphetamine": 385.0, "amphetamine": 36.0}
    std = data[(data["sample_type"] == "calibrator") & (data["analyte"] == "methamphetamine")]
    assert std["nominal"].tolist() == [1, 2, 5, 10, 50, 100, 500, 1000]
    assert std["source_row"].iloc[0] == 9  # line number in the text file
    # S002 has no peak and no concentration: refused (never silently dropped); the
    # internal-standard block is kept apart, flagged
    assert set(rejects["source_row"]) == {19, 36}
    istd = data[data["internal_standard"]]
    assert 43 in set(istd["source_row"]) and not istd["analyte_known"].any()


def test_instrument_export_without_manifest_has_no_subject_key():
    data, _ = read_targetlynx(DATA / "targetlynx_summary.txt", matrix="urine")
    assert data["subject_key"].isna().all()
    with pytest.raises(InputError, match="key"):
        read_targetlynx(DATA / "targetlynx_summary.txt", matrix="urine",
                        manifest=DATA / "manifest.csv")


def test_wrong_export_is_refused_with_columns(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="Component Name"):
        read_sciex(path, matrix="hair", unit="ng/mg")
    with pytest.raises(InputError, match="MassHunter"):
        read_masshunter(path, matrix="hair", unit="ng/mg")
    with pytest.raises(InputError, match="Compound"):
        read_targetlynx(path, matrix="hair")


def test_masshunter_batch_passes_qc_and_reads_empty_blank_as_no_peak():
    data, _ = read_masshunter(DATA / "masshunter_batch.csv", matrix="hair", unit="ng/mg")
    report = qc_report(data)
    assert report.verdict == "accept", report.reasons
    detail = report.table.set_index(["analyte", "check"]).loc[
        ("amphetamine", "carryover"), "detail"]
    assert "no peak reported" in detail
