"""Tests of wbe.lab.classify against the published cutoff rules.

Published numbers used here (independent of the code):

- SAMHSA 2017 urine (82 FR 7920, sec. 3.4): methamphetamine confirmatory cutoff
  250 ng/mL, reported positive only with amphetamine >= 100 ng/mL; amphetamines
  screen 500 ng/mL; "equal to or greater than" the cutoff is positive.
- SoHT 2012 hair (Cooper et al. 2012, doi:10.1016/j.forsciint.2011.10.024): amphetamines
  0.2 ng/mg (screen and confirmation).
- 公安部《涉毒人员毛发样本检测规范》(2018) Art. 9: ketamine or norketamine 0.2 ng/mg.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wbe.errors import InputError, UnitError, UnknownNameError
from wbe.lab.classify import classify
from wbe.lab.io import read_lab_results
from wbe.lab.prevalence import positivity
from wbe.lab.privacy import suppress_small_cells

DATA = Path(__file__).parents[1] / "data" / "lab"
KEY = "c7248ef7e57f7e56ad7197e29ebff4827002882d08801853d85795a13a8c04b5"  # token_hex(32), public


def _urine(rows):
    frame = pd.DataFrame(rows, columns=["sample_id", "analyte", "value", "detection"])
    return frame.assign(matrix="urine", method="confirm", subject_key="p")


def _summary_of(summary, sample):
    return summary.set_index("sample_id").loc[sample]


def test_samhsa2017_methamphetamine_needs_amphetamine():
    r = _urine([
        ("A", "methamphetamine", 250.0, "quantified"), ("A", "amphetamine", 100.0, "quantified"),
        ("B", "methamphetamine", 249.9, "quantified"), ("B", "amphetamine", 300.0, "quantified"),
        ("C", "methamphetamine", 900.0, "quantified"), ("C", "amphetamine", 99.0, "quantified"),
        ("D", "methamphetamine", 900.0, "quantified"),
        ("E", "methamphetamine", 900.0, "quantified"), ("E", "amphetamine", np.nan, "not_detected"),
    ])
    res, summary = classify(r, "samhsa2017")
    assert res["cutoff"].iloc[0] == 250.0
    cls = summary.set_index("sample_id")["classification"].to_dict()
    # A: both at their cutoffs -> positive; B: meth below 250 but amphetamine 300 >= 250
    assert cls == {"A": "positive", "B": "positive", "C": "inconclusive",
                   "D": "inconclusive", "E": "inconclusive"}
    assert _summary_of(summary, "B")["analytes"] == "amphetamine"
    assert "99" in _summary_of(summary, "C")["reason"]
    assert "not measured" in _summary_of(summary, "D")["reason"]
    assert "not detected" in _summary_of(summary, "E")["reason"]
    row_b = res[(res["sample_id"] == "B") & (res["analyte"] == "methamphetamine")].iloc[0]
    assert row_b["classification"] == "negative"


def test_censored_with_loq_above_cutoff_is_inconclusive():
    r = _urine([("A", "benzoylecgonine", np.nan, "below_loq"),
                ("B", "benzoylecgonine", np.nan, "below_loq")])
    r["loq"] = [150.0, 50.0]  # cutoff 100 ng/mL
    res, _ = classify(r, "samhsa2017")
    assert res["classification"].tolist() == ["inconclusive", "negative"]
    assert "LOQ 150 is above the cutoff 100" in res["reason"].iloc[0]


def test_screen_then_confirm():
    r = pd.DataFrame({
        "sample_id": ["S1", "S2", "S3", "S3", "S4"],
        "analyte": ["amphetamines", "amphetamines", "amphetamines", "methamphetamine",
                    "amphetamines"],
        "method": ["screen", "screen", "screen", "confirm", "screen"],
        "value": [np.nan, 620.0, 800.0, 120.0, 499.0],
        "detection": ["detected", "quantified", "quantified", "quantified", "quantified"],
        "matrix": "urine", "subject_key": ["a", "b", "c", "c", "d"],
    })
    res, summary = classify(r, "samhsa2017")
    assert res["classification"].tolist()[:2] == ["positive", "positive"]
    cls = summary.set_index("sample_id")["classification"].to_dict()
    assert cls == {"S1": "inconclusive", "S2": "inconclusive", "S3": "negative",
                   "S4": "negative"}
    assert "no confirmation" in _summary_of(summary, "S2")["reason"]
    assert _summary_of(summary, "S3")["reason"].startswith("screen positive, not confirmed")
    _, lenient = classify(r, "samhsa2017", require_confirmation=False)
    assert lenient.set_index("sample_id")["classification"].to_dict()["S2"] == "positive"


def test_hair_fixture_with_sht2012_and_china_hair():
    data, _ = read_lab_results(DATA / "long_hair_cn.csv", key=KEY)
    _, soht = classify(data, "sht2012")
    got = {(s, f): c for s, f, c in zip(soht["sample_id"], soht["segment_cm_from"],
                                        soht["classification"], strict=True)}
    # H001 0-3 cm: meth 1.85 >= 0.2 and amphetamine 0.12 >= 0.05; 3-6 cm: amphetamine <0.05
    assert got == {("H001", 0.0): "positive", ("H001", 3.0): "inconclusive",
                   ("H003", 0.0): "negative"}
    res, china = classify(data, "china-hair")
    got = {(s, f, d): c for s, f, d, c in zip(china["sample_id"], china["segment_cm_from"],
                                              china["drug"], china["classification"],
                                              strict=True)}
    assert got[("H001", 3.0, "amphetamines")] == "positive"  # no co-analyte rule in Art. 9
    assert got[("H002", 0.0, "ketamine")] == "negative"  # norketamine 0.12 < 0.2
    screen = res[res["method"] == "screen"].iloc[0]
    assert screen["classification"] is None and "no hair screen cutoff" in screen["reason"]


def test_units_are_converted_and_custom_cutoffs():
    cut = pd.DataFrame({
        "matrix": ["hair"], "method": ["confirm"], "analyte": ["ketamine"],
        "analyte_class": ["ketamine"], "cutoff": [500.0], "unit": ["pg/mg"],
    })
    r = pd.DataFrame({
        "sample_id": ["A", "B"], "analyte": "ketamine", "method": "confirm",
        "value": [600.0, 400.0], "unit": "pg/mg", "detection": "quantified", "matrix": "hair",
    })
    res, summary = classify(r, cut)
    assert res["cutoff"].tolist() == [0.5, 0.5]
    assert summary["classification"].tolist() == ["positive", "negative"]
    with pytest.raises(UnitError):
        classify(r.assign(unit="mg/L"), cut)
    with pytest.raises(InputError, match="expected a number") as info:
        classify(r, cut.assign(cutoff=["half a ng"]))
    assert info.value.column == "cutoff"


def test_non_subject_rows_and_missing_cutoffs():
    r = _urine([("CAL1", "methamphetamine", 500.0, "quantified"),
                ("X", "cotinine", 500.0, "quantified")])
    r["sample_type"] = ["calibrator", "unknown"]
    res, summary = classify(r, "samhsa2017")
    assert res["classification"].isna().all()
    assert res["reason"].iloc[0].startswith("not a subject sample")
    assert "no urine confirm cutoff for cotinine" in res["reason"].iloc[1]
    assert summary.empty


def test_bad_sets_and_matrices():
    r = _urine([("A", "methamphetamine", 500.0, "quantified")])
    with pytest.raises(UnknownNameError, match="samhsa2017"):
        classify(r, "samhsa2071")
    with pytest.raises(InputError, match="no urine cutoffs"):
        classify(r, "sht2012")
    with pytest.raises(InputError, match="lack"):
        classify(r.drop(columns="detection"), "samhsa2017")
    text = _urine([("A", "methamphetamine", "lots", "quantified")])
    with pytest.raises(InputError, match="'lots'") as info:
        classify(text, "samhsa2017")
    assert info.value.column == "value"


def test_read_classify_positivity_suppress_chain():
    data, _ = read_lab_results(DATA / "long_hair_cn.csv", key=KEY)
    _, summary = classify(data, "china-hair")
    table = positivity(summary, by=["group", "drug"], min_cell=5)
    assert set(table.columns) >= {"tested", "positive"}
    assert table["positive"].sum() >= 1
    derived = ["prevalence", "lower", "upper"]
    published = suppress_small_cells(table, ["positive"], total_column="tested",
                                     derived_columns=derived)
    # one person per cell: every tested count (1) is suppressed, so are the positives
    # (complement) and the proportion with its interval (which would reveal it)
    assert published["tested"].isna().all() and published["positive"].isna().all()
    assert published[derived].isna().all().all()
