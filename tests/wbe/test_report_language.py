"""Language, text as text, headline page and office workbook (issue 16, items 1-3, 9)."""

from __future__ import annotations

import re
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wbe.config import Config
from wbe.io import read_flows, read_samples, read_sites
from wbe.publish import run_pipeline

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
NAMES = {"WWTP01": "城东污水处理厂", "WWTP02": "城西污水处理厂"}


@pytest.fixture(scope="module")
def zh_run(tmp_path_factory):
    """The example city with Chinese plant names, published in Chinese (20 draws)."""
    sites = read_sites(str(DATA / "sites.csv")).data
    samples = read_samples(str(DATA / "samples.csv"), sites=sites).data
    flows = read_flows(str(DATA / "flows.csv"), sites=sites).data
    sites, samples, flows = (t.assign(site=t["site"].map(NAMES)) for t in (sites, samples, flows))
    config = Config(seed=2, draws=20, created_at="2025-01-01T00:00:00Z", language="zh")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_pipeline(sites=sites, samples=samples, flows=flows, config=config,
                              out_dir=tmp_path_factory.mktemp("zh"), month="2024-02",
                              quiet=True)
    return result, [str(w.message) for w in caught]


def test_no_missing_glyph_warnings(zh_run):
    _, caught = zh_run
    assert not [m for m in caught if "Glyph" in m or "missing from" in m], caught


def test_names_are_text_in_the_svg(zh_run):
    result, _ = zh_run
    page = result.files["report"].read_text(encoding="utf-8")
    assert "data:image/png" not in page
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", page)
    assert NAMES["WWTP01"] in texts and NAMES["WWTP02"] in texts
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_report_in_chinese_with_headline_first(zh_run):
    result, _ = zh_run
    page = result.files["report"].read_text(encoding="utf-8")
    headline = page.index("id='headline'")
    assert headline < page.index("<svg")
    head = page[headline:page.index("</section>")]
    for term in ("千人日均消费量 (mg/天/千人)", "环比", "同比", "上升", "新预警",
                 "实验室检测阳性率", "2024-02 月度要点"):
        assert term in page, term
    # one row per city biomarker, norketamine labelled with its drug
    assert "ketamine (norketamine)" in head and head.count("<tr>") == 1 + 8  # header + 8
    assert "需处置的预警" in page and "说明" in page
    assert "lang='zh-CN'" in page
    assert "@media print" in page and "page-break-after" in page


def test_notes_in_chinese(zh_run):
    result, _ = zh_run
    page = result.files["report"].read_text(encoding="utf-8")
    assert "未估算千人日均剂量" in page and "典型剂量" in page


def test_machine_outputs_keep_english_schema(zh_run):
    result, _ = zh_run
    csv = pd.read_csv(result.files["monthly_estimates_csv"])
    assert {"median", "lower_95", "upper_95", "vs_prev_month_prob_increase"} <= set(csv.columns)
    assert set(csv["variable"]) <= {"consumption_mg_per_day_per_1000", "doses_per_day_per_1000",
                                    "users", "users_per_1000"}


def test_office_workbook_in_chinese(zh_run):
    pytest.importorskip("openpyxl")
    result, _ = zh_run
    book = pd.read_excel(result.files["monthly_xlsx"], sheet_name=None)
    assert list(book)[:2] == ["全市", "各污水处理厂"]
    city = book["全市"]
    assert {"中位数", "95% 下限", "95% 上限", "环比 (比值)", "服务人口"} <= set(city.columns)
    assert city["中位数"].dtype.kind == "f" and city["服务人口"].dtype.kind in "if"
    assert set(book["各污水处理厂"]["区域"]) == set(NAMES.values())
    # 3 significant digits
    med = city["中位数"].dropna().to_numpy()
    rounded = np.array([float(f"{v:.3g}") for v in med])  # also right for 5.18e-05
    np.testing.assert_allclose(med, rounded, rtol=1e-12, atol=0)


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def _screenshot(html_text: str, tmp_path: Path, name: str) -> tuple[np.ndarray, str]:
    exe = _chromium()
    if exe is None:
        pytest.skip("chromium not installed; run .ci/system-packages")
    page = tmp_path / f"{name}.html"
    page.write_text(html_text, encoding="utf-8")
    png = tmp_path / f"{name}.png"
    proc = subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / ('profile-' + name)}", "--enable-logging=stderr",
         "--v=0", "--hide-scrollbars", "--window-size=900,400", f"--screenshot={png}",
         page.resolve().as_uri()], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    from PIL import Image

    console = [ln for ln in proc.stderr.splitlines() if ":CONSOLE" in ln or "Uncaught" in ln]
    return np.asarray(Image.open(png).convert("L"), dtype=float), "\n".join(console)


def test_chinese_names_render_without_tofu(zh_run, tmp_path):
    """The report's first figure in Chromium: with the plant names swapped for other Chinese
    characters the picture must change (missing glyphs all draw the same empty box), and
    must differ from a page of certainly missing glyphs."""
    result, _ = zh_run
    page = result.files["report"].read_text(encoding="utf-8")
    style = re.search(r"<style>.*?</style>", page, re.S).group(0)
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)

    def shot(label_a: str, label_b: str, name: str):
        body = svg.replace(NAMES["WWTP01"], label_a).replace(NAMES["WWTP02"], label_b)
        return _screenshot(f"<!DOCTYPE html><html><head><meta charset='utf-8'>{style}"
                           f"</head><body>{body}</body></html>", tmp_path, name)

    real, console = shot(NAMES["WWTP01"], NAMES["WWTP02"], "real")
    other, _ = shot("南湖水质净化中心", "北郊水质净化中心", "other")
    tofu_a, _ = shot("\U0010fffd" * 7, "\U0010fffd" * 7, "tofu_a")
    tofu_b, _ = shot("\U0010fffc" * 7, "\U0010fffc" * 7, "tofu_b")
    assert console == ""
    assert np.abs(tofu_a - tofu_b).sum() == 0  # the harness: missing glyphs look alike
    assert np.abs(real - other).sum() > 0  # real glyphs differ from each other
    assert np.abs(real - tofu_a).sum() > 0
