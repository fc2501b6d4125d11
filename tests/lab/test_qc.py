"""Tests of wbe.lab.qc: calibration, limits, identification, Westgard rules, qc_report.

Reference numbers: ``tests/lab/r/qc_calibration_reference.csv`` and
``qc_limits_reference.csv`` made by ``tests/lab/r/make_qc_reference.R`` with R 4.2.2
``stats::lm`` (with ``weights=``), written with 15 significant digits, hence
``rtol=1e-9``. Westgard rules are tested on hand-made QC sequences (z-scores, target mean
0 and SD 1), one that triggers exactly the rule and one that does not (Westgard et al.
1981, Clin Chem 27:493-501).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wbe.errors import InputError, UnknownNameError
from wbe.lab.qc import (
    calibrator_acceptance,
    fit_calibration,
    ion_ratio_tolerance,
    limits_from_blanks,
    limits_from_calibration,
    qc_report,
    retention_time_ok,
    westgard,
)

R_DIR = Path(__file__).parent / "r"


# --------------------------------------------------------------------------- calibration


@pytest.fixture(scope="module")
def r_calibration() -> pd.DataFrame:
    """R lm(y ~ x [+ I(x^2)], weights = w) fits (make_qc_reference.R)."""
    return pd.read_csv(R_DIR / "qc_calibration_reference.csv")


@pytest.mark.r_reference
@pytest.mark.parametrize("model", ["linear", "quadratic"])
@pytest.mark.parametrize("weighting", ["none", "1/x", "1/x^2"])
def test_calibration_matches_r_lm(r_calibration, model, weighting):
    ref = r_calibration[
        (r_calibration["model"] == model) & (r_calibration["weighting"] == weighting)
    ].sort_values("level")
    fit = fit_calibration(ref["nominal"], ref["response"], model=model, weighting=weighting)
    cols = ["b0", "b1"] + (["b2"] if model == "quadratic" else [])
    np.testing.assert_allclose(fit.coefficients, ref[cols].iloc[0].to_numpy(), rtol=1e-9)
    se_cols = ["se_b0", "se_b1"] + (["se_b2"] if model == "quadratic" else [])
    np.testing.assert_allclose(fit.standard_errors, ref[se_cols].iloc[0].to_numpy(), rtol=1e-8)
    assert fit.r_squared == pytest.approx(ref["r_squared"].iloc[0], rel=1e-9)
    np.testing.assert_allclose(
        fit.back_calculated, ref["back_calculated"].to_numpy(), rtol=1e-8, atol=1e-12
    )
    np.testing.assert_allclose(
        fit.accuracy_pct, 100 * ref["back_calculated"] / ref["nominal"], rtol=1e-8
    )


def test_calibration_inverse_is_inverse_of_predict():
    fit = fit_calibration([1, 2, 5, 10, 20, 50], [1.0, 2.1, 5.0, 9.6, 18.0, 40.0],
                          model="quadratic", weighting="1/x^2")
    x = np.array([1.5, 7.0, 33.0])
    np.testing.assert_allclose(fit.concentration(fit.predict(x)), x, rtol=1e-10)


def test_calibration_refuses_bad_input():
    with pytest.raises(UnknownNameError, match="1/x"):
        fit_calibration([1, 2, 3, 4], [1, 2, 3, 4], weighting="1/y")
    with pytest.raises(UnknownNameError, match="quadratic"):
        fit_calibration([1, 2, 3, 4], [1, 2, 3, 4], model="cubic")
    with pytest.raises(InputError, match="> 0"):
        fit_calibration([0, 2, 3, 4], [0, 2, 3, 4])
    with pytest.raises(InputError, match="distinct levels"):
        fit_calibration([1, 1, 2, 2], [1, 1, 2, 2], model="quadratic")
    with pytest.raises(InputError, match="differ in length"):
        fit_calibration([1, 2, 3], [1, 2])


def test_calibrator_acceptance_rules():
    x = [1, 2, 5, 10, 20, 50, 100, 200]
    # LLOQ 119 % passes (±20 %), 121 % fails
    ok, passed, _ = calibrator_acceptance(x, [119, 100, 100, 100, 100, 100, 100, 100])
    assert ok and passed[0]
    ok, passed, _ = calibrator_acceptance(x, [121, 100, 100, 100, 100, 100, 100, 100])
    assert ok and not passed[0]  # 7/8 = 87.5 % still pass
    # above LLOQ ±15 %: 116 % fails
    _, passed, _ = calibrator_acceptance(x, [100, 116, 100, 100, 100, 100, 100, 100])
    assert passed.tolist() == [True, False] + [True] * 6
    # 2 of 8 failing = 75 % -> accepted; 3 of 8 -> rejected
    ok, _, _ = calibrator_acceptance(x, [100, 120, 80, 100, 100, 100, 100, 100])
    assert ok
    ok, _, detail = calibrator_acceptance(x, [100, 120, 80, 120, 100, 100, 100, 100])
    assert not ok and "5/8" in detail
    # fewer than 6 passing levels
    ok, _, _ = calibrator_acceptance([1, 2, 5, 10, 20], [100] * 5)
    assert not ok


# --------------------------------------------------------------------------- limits


@pytest.mark.r_reference
def test_limits_from_calibration_match_r():
    ref = pd.read_csv(R_DIR / "qc_limits_reference.csv").iloc[0]
    lim = limits_from_calibration([0.5, 1, 2, 3, 4], [1.1, 1.9, 4.2, 5.9, 8.1])
    for key in ("sigma", "slope", "lod", "loq"):
        assert lim[key] == pytest.approx(ref[key], rel=1e-9)


def test_limits_from_blanks_by_hand():
    # mean 0.015, SD sqrt(68e-6 / 4) = 0.00412311
    lim = limits_from_blanks([0.01, 0.02, 0.015, 0.012, 0.018])
    sd = np.sqrt(68e-6 / 4)
    assert lim["lod"] == pytest.approx(0.015 + 3 * sd, rel=1e-12)
    assert lim["loq"] == pytest.approx(0.015 + 10 * sd, rel=1e-12)
    with pytest.raises(InputError):
        limits_from_blanks([0.1])


# --------------------------------------------------------------------------- identification


def test_ion_ratio_tiers_of_2002_657():
    # relative intensity >50 %: 20; 20-50 %: 25; 10-20 %: 30; <=10 %: 50 (LC-MS)
    tol = ion_ratio_tolerance([0.51, 0.5, 0.21, 0.2, 0.11, 0.1, 0.05, 1 / 0.3])
    assert tol.tolist() == [20.0, 25.0, 25.0, 30.0, 30.0, 50.0, 50.0, 25.0]
    assert ion_ratio_tolerance([0.05, 0.9], rule="relative20").tolist() == [20.0, 20.0]
    with pytest.raises(UnknownNameError):
        ion_ratio_tolerance([0.5], rule="eu2021")


def test_retention_time_tolerance():
    ok = retention_time_ok([2.09, 2.11, 10.19, 10.21, np.nan], [2.0, 2.0, 10.0, 10.0, 2.0])
    assert ok.tolist() == [True, False, True, False, False]


# --------------------------------------------------------------------------- Westgard


def _qc(z, runs=None, levels=None):
    runs = list(range(1, len(z) + 1)) if runs is None else runs
    levels = ["L"] * len(z) if levels is None else levels
    return pd.DataFrame({"run": runs, "qc_level": levels, "value": z})


TARGETS = {"L": (0.0, 1.0), "H": (0.0, 1.0)}


def _last_run(z, runs=None, levels=None, gate=True):
    res = westgard(_qc(z, runs, levels), targets=TARGETS, warning_gate=gate)
    return res.runs.iloc[-1]


@pytest.mark.parametrize(
    ("rule", "triggers", "clean"),
    [
        ("1_3s", [0.0, 3.2], [0.0, 2.9]),
        ("2_2s", [0.4, 2.1, 2.3], [2.1, 0.5, 2.3]),
        ("4_1s", [0.2, 1.2, 1.5, 1.1, 2.1], [0.2, 1.2, 1.5, 0.9, 2.1]),
        ("10_x", [0.3] * 9 + [2.1], [0.3] * 8 + [-0.1, 2.1]),
    ],
)
def test_westgard_rule_across_runs(rule, triggers, clean):
    hit = _last_run(triggers)
    assert hit["verdict"] == "reject"
    assert hit["rules"] == f"1_2s,{rule}"
    miss = _last_run(clean)
    assert miss["verdict"] == "warning"
    assert miss["rules"] == "1_2s"


def test_westgard_1_2s_warning_only():
    assert _last_run([0.5, 2.5])["rules"] == "1_2s"
    assert _last_run([0.5, 2.5])["verdict"] == "warning"
    assert _last_run([0.5, 1.9])["verdict"] == "accept"


def test_westgard_r_4s_within_run_only():
    hit = _last_run([0.1, 0.2, 2.5, -2.2], runs=[1, 1, 2, 2], levels=["L", "H", "L", "H"])
    assert hit["verdict"] == "reject" and hit["rules"] == "1_2s,R_4s"
    # the same values in two different runs are not an R_4s violation
    res = westgard(
        _qc([0.1, 0.2, 2.5, 0.0, 0.0, -2.2], runs=[1, 1, 2, 2, 3, 3],
            levels=["L", "H"] * 3),
        targets=TARGETS,
    )
    assert res.runs["rules"].tolist() == ["", "1_2s", "1_2s"]
    assert "reject" not in set(res.runs["verdict"])


def test_westgard_2_2s_across_levels_within_run():
    hit = _last_run([0.0, 0.0, 2.2, 2.4], runs=[1, 1, 2, 2], levels=["L", "H", "L", "H"])
    assert hit["rules"] == "1_2s,2_2s"


def test_westgard_warning_gate():
    z = [0.2, 1.2, 1.5, 1.1, 1.8]  # 4_1s without any 1_2s
    assert _last_run(z, gate=True)["verdict"] == "accept"
    ungated = _last_run(z, gate=False)
    assert ungated["verdict"] == "reject" and ungated["rules"] == "4_1s"


def test_westgard_uses_target_columns_and_refuses_bad_targets():
    qc = _qc([10.0, 13.5]).assign(target_mean=10.0, target_sd=1.0)
    assert westgard(qc).runs.iloc[-1]["rules"] == "1_2s,1_3s"
    with pytest.raises(InputError, match="target"):
        westgard(_qc([1.0]))
    with pytest.raises(InputError, match="no target"):
        westgard(_qc([1.0]), targets={"X": (0, 1)})
    with pytest.raises(InputError):
        westgard(_qc([1.0]), targets={"L": (0, 0)})


# --------------------------------------------------------------------------- qc_report


def _batch(*, cal_response=None, qc_factor=1.0, blank_response=0.0, ion_ratio_x=None):
    nominal = [0.2, 0.5, 1.0, 2.0, 5.0, 10.0]
    response = [0.01 + 0.5 * c for c in nominal] if cal_response is None else cal_response
    rows = [
        dict(sample_id=f"CAL{i}", sample_type="calibrator", nominal=c, response=r,
             ion_ratio=0.40, retention_time_min=3.20, injection_order=i)
        for i, (c, r) in enumerate(zip(nominal, response, strict=True))
    ]
    rows.append(dict(sample_id="BLK1", sample_type="blank", response=blank_response,
                     injection_order=6))
    for i, (level, q) in enumerate([("low", 0.6), ("mid", 4.0), ("high", 8.0)]):
        rows.append(dict(sample_id=f"QC-{level}", sample_type="qc", nominal=q, qc_level=level,
                         response=0.01 + 0.5 * q * qc_factor, ion_ratio=0.41,
                         retention_time_min=3.21, injection_order=7 + i))
    rows.append(dict(sample_id="S001", sample_type="unknown", response=1.0,
                     ion_ratio=0.40 if ion_ratio_x is None else ion_ratio_x,
                     retention_time_min=3.22, injection_order=10, value=1.98,
                     detection="quantified"))
    frame = pd.DataFrame(rows).assign(batch="HAIR-2024-031", analyte="methamphetamine")
    frame["detection"] = frame["detection"].fillna("quantified")
    return frame


def test_qc_report_accepts_a_good_batch():
    rep = qc_report(_batch())
    assert rep.verdict == "accept", rep.reasons
    verdicts = rep.table.set_index("check")["verdict"].to_dict()
    assert verdicts["calibration"] == "pass"
    assert verdicts["qc_accuracy"] == "pass"
    assert verdicts["ion_ratio"] == "pass"
    assert verdicts["retention_time"] == "pass"
    assert verdicts["carryover"] == "pass"
    assert verdicts["limits"] == "info"
    assert list(rep.table.columns) == ["batch", "analyte", "check", "verdict", "detail", "samples"]
    with pytest.raises(AttributeError):
        rep.verdict = "reject"  # frozen


def test_qc_report_rejects_bad_calibration_and_says_why():
    response = [0.01 + 0.5 * c for c in [0.2, 0.5, 1.0, 2.0, 5.0, 10.0]]
    response[1] *= 1.6
    response[2] *= 0.6
    rep = qc_report(_batch(cal_response=response))
    assert rep.verdict == "reject"
    assert any("calibration" in r for r in rep.reasons)


def test_qc_report_rejects_qc_bias():
    rep = qc_report(_batch(qc_factor=1.25))
    assert rep.verdict == "reject"
    assert rep.table.set_index("check").loc["qc_accuracy", "verdict"] == "fail"


def test_qc_report_carryover():
    lloq_response = 0.01 + 0.5 * 0.2
    assert qc_report(_batch(blank_response=0.1 * lloq_response)).verdict == "accept"
    rep = qc_report(_batch(blank_response=0.3 * lloq_response))
    assert rep.verdict == "reject"
    assert rep.table.set_index("check").loc["carryover", "verdict"] == "fail"


def test_qc_report_ion_ratio_warns_for_the_sample_only():
    rep = qc_report(_batch(ion_ratio_x=0.55))  # +37.5 % vs 0.40 (tolerance ±25 %)
    assert rep.verdict == "accept"
    row = rep.table.set_index("check").loc["ion_ratio"]
    assert row["verdict"] == "warn" and row["samples"] == "S001"


def test_qc_report_westgard_with_history():
    targets = pd.DataFrame({
        "analyte": "methamphetamine", "qc_level": ["low", "mid", "high"],
        "target_mean": [0.6, 4.0, 8.0], "target_sd": [0.03, 0.2, 0.4],
    })
    history = pd.DataFrame({
        "run": [1, 1, 1], "analyte": "methamphetamine", "qc_level": ["low", "mid", "high"],
        "value": [0.667, 4.0, 8.0],  # low at +2.23 SD
    })
    good = qc_report(_batch(), qc_targets=targets, qc_history=history)
    assert good.table.set_index("check").loc["westgard", "verdict"] == "pass"
    biased = _batch()
    biased.loc[biased["sample_id"] == "QC-low", "response"] = 0.01 + 0.5 * 0.67
    rep = qc_report(biased, qc_targets=targets, qc_history=history)
    row = rep.table.set_index("check").loc["westgard"]
    assert row["verdict"] == "fail" and "2_2s" in row["detail"]
    assert rep.verdict == "reject"


def test_qc_report_refuses_two_batches():
    frame = pd.concat([_batch(), _batch().assign(batch="OTHER")])
    with pytest.raises(InputError, match="one batch"):
        qc_report(frame)


def test_qc_report_needs_a_blank_after_the_top_calibrator():
    frame = _batch()
    frame["injection_order"] = frame["injection_order"].astype(float)
    frame.loc[frame["sample_id"] == "BLK1", "injection_order"] = 2.5  # blank mid-curve
    rep = qc_report(frame)
    row = rep.table.set_index("check").loc["carryover"]
    assert row["verdict"] == "fail" and "no blank" in row["detail"]


def test_qc_levels_default_to_nominal_and_need_half_per_level():
    frame = _batch().drop(columns="qc_level")
    # two QCs at the low level: one off by 30 % -> 50 % of that level, still accepted
    extra = frame[frame["sample_id"] == "QC-low"].assign(sample_id="QC-low2",
                                                         response=0.01 + 0.5 * 0.6 * 1.3)
    rep = qc_report(pd.concat([frame, extra], ignore_index=True))
    assert rep.table.set_index("check").loc["qc_accuracy", "verdict"] == "pass"
    worse = extra.assign(sample_id="QC-low3")
    rep = qc_report(pd.concat([frame, extra, worse], ignore_index=True))
    # low level: 1 of 3 within ±15 % (< 50 %) -> fail, though 3 of 5 overall (< 2/3) too
    assert rep.table.set_index("check").loc["qc_accuracy", "verdict"] == "fail"
