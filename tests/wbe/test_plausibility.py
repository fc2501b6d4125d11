"""Plausibility against the plant's own history (issue 16, item 7)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from wbe.cli import EXIT_OK, main
from wbe.errors import ImplausibleValueWarning, WBEWarning
from wbe.plausibility import check_plausibility

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
#: examples/data/samples.csv line 322 (file row 322): WWTP01 2024-02-10 methamphetamine 86.7 ng/L
SLIP_LINE = 322


def _series(values, site="A", bio="methamphetamine"):
    return pd.DataFrame({"site": site, "biomarker": bio,
                         "sampled_on": pd.date_range("2024-01-01", periods=len(values)),
                         "concentration_ng_per_l": values,
                         "source_row": range(2, 2 + len(values))})


def test_thousandfold_slip_flagged_with_row_and_cause():
    s = _series([120.0, 130, 110, 125, 130_000, 118, 122])
    with pytest.warns(ImplausibleValueWarning, match=r"samples\.csv.*row 6.*ng/mL"):
        out = check_plausibility(s, file="samples.csv")
    assert out["row"].tolist() == [6]
    assert out["ratio"].iloc[0] == pytest.approx(130_000 / 121.0)
    assert "x1000" in out["likely_cause"].iloc[0]


def test_value_far_below_flagged_and_normal_variation_not():
    s = _series([120.0, 130, 110, 0.12, 125, 118, 122, 40, 400])  # 40 and 400: 3x, fine
    out = check_plausibility(s, warn=False)
    assert out["row"].tolist() == [5]
    assert "/1000" in out["likely_cause"].iloc[0]
    assert check_plausibility(_series([100.0, 300, 30, 90, 95]), warn=False).empty


def test_without_history_uses_plausible_range():
    s = pd.concat([_series([2e6], site="B"), _series([5e5], site="C")], ignore_index=True)
    out = check_plausibility(s, warn=False)
    assert out["site"].tolist() == ["B"] and "plausible range" in out["reference"].iloc[0]


def test_censored_values_ignored():
    s = _series([120.0, 130, 110, 125, 1.0, 118])
    s["censored"] = [False] * 4 + [True, False]
    assert check_plausibility(s, warn=False).empty


def _slipped_samples(tmp_path: Path) -> Path:
    lines = (EXAMPLES / "data" / "samples.csv").read_text(encoding="utf-8").splitlines()
    assert lines[SLIP_LINE - 1].startswith("WWTP01,2024-02-10,methamphetamine,86.7")
    lines[SLIP_LINE - 1] = "WWTP01,2024-02-10,methamphetamine,86.7,ng/mL,0.002,"
    path = tmp_path / "samples.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_estimate_command_warns(tmp_path):
    samples = _slipped_samples(tmp_path)
    # the example also measures morphine, whose default non-abuse treatment warns
    with pytest.warns(WBEWarning, match="morphine"), \
            pytest.warns(ImplausibleValueWarning, match=rf"row {SLIP_LINE}\b.*x1000"):
        code = main(["estimate", "--samples", str(samples), "--sites",
                     str(EXAMPLES / "data" / "sites.csv"), "--flows",
                     str(EXAMPLES / "data" / "flows.csv"), "--draws", "10", "--out",
                     str(tmp_path / "o"), "--quiet"])
    assert code == EXIT_OK


def test_publish_lists_the_row_in_data_quality(tmp_path):
    samples = _slipped_samples(tmp_path)
    data = (EXAMPLES / "data").as_posix()
    cfg = tmp_path / "wbe.toml"
    cfg.write_text(f'[inputs]\nsites = "{data}/sites.csv"\nsamples = "{samples.as_posix()}"\n'
                   f'flows = "{data}/flows.csv"\n[run]\ndraws = 10\n', encoding="utf-8")
    out = tmp_path / "release"
    assert main(["publish", "--month", "2024-02", "--config", str(cfg), "--out", str(out),
                 "--quiet"]) == EXIT_OK
    page = (out / "report.html").read_text(encoding="utf-8")
    quality = page[page.index("id='data-quality'"):]
    assert f"<td>{SLIP_LINE}</td>" in quality and "ng/mL" in quality
    assert "samples.csv" in quality
