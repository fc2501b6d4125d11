"""Inputs as offices keep them (issue 16, item 6): title rows, one sheet per plant,
sheet / header_row / date_format from the TOML and the CLI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from wbe.cli import EXIT_OK, main
from wbe.config import load_config
from wbe.errors import ConfigError, UnknownNameError
from wbe.io import read_samples, read_sites, read_workbook

openpyxl = pytest.importorskip("openpyxl")

PLANTS = {"城东污水处理厂": 500_000, "城西污水处理厂": 300_000}


def _sites_csv(tmp_path: Path) -> Path:
    path = tmp_path / "sites.csv"
    path.write_text("污水处理厂,服务人口\n" + "".join(f"{k},{v}\n" for k, v in PLANTS.items()),
                    encoding="utf-8")
    return path


def _sheet_rows(plant: str | None, days: int = 10, date_fmt: str = "%Y-%m-%d"):
    rows = []
    for i, d in enumerate(pd.date_range("2024-03-01", periods=days)):
        row = [d.strftime(date_fmt), "甲基苯丙胺", 100.0 + i, "ng/L", 2.0]
        rows.append(([plant] if plant else []) + row)
    return rows


def _workbook(tmp_path: Path, *, with_site_column: bool) -> Path:
    """One sheet per plant, each with a merged title row above the header, and an empty
    notes sheet."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for plant in PLANTS:
        ws = wb.create_sheet(plant)
        ws.append([f"2024年3月 {plant} 污水毒品检测结果"])
        ws.merge_cells("A1:F1")
        header = ["采样日期", "目标物", "浓度", "单位", "定量限"]
        ws.append((["污水处理厂"] if with_site_column else []) + header)
        for r in _sheet_rows(plant if with_site_column else None):
            ws.append(r)
    wb.create_sheet("说明")
    path = tmp_path / "samples.xlsx"
    wb.save(path)
    return path


def test_title_row_found_automatically_in_csv(tmp_path):
    sites = read_sites(str(_sites_csv(tmp_path))).data
    path = tmp_path / "s.csv"
    body = "".join(",".join(str(c) for c in r) + "\n" for r in _sheet_rows("城东污水处理厂"))
    path.write_text("2024年3月污水检测结果,,,,,\n污水处理厂,采样日期,目标物,浓度,单位,定量限\n"
                    + body, encoding="utf-8")
    data, rejects = read_samples(str(path), sites=sites)
    assert len(data) == 10 and len(rejects) == 0
    assert data["source_row"].tolist() == list(range(3, 13))  # rows as the sheet shows


def test_workbook_one_sheet_per_plant_with_merged_titles(tmp_path):
    sites = read_sites(str(_sites_csv(tmp_path))).data
    result = read_workbook(_workbook(tmp_path, with_site_column=False), read_samples,
                           sites=sites)
    assert len(result.rejects) == 0
    assert result.data.groupby("site").size().to_dict() == {p: 10 for p in PLANTS}
    assert set(result.data["biomarker"]) == {"methamphetamine"}
    assert result.data["source_row"].min() == 3
    with pytest.raises(UnknownNameError, match="城东污水处理厂"):
        read_workbook(_workbook(tmp_path, with_site_column=True), sheets=["城东污水厂"],
                      sites=sites)


def test_config_table_options_and_date_format(tmp_path):
    cfg = tmp_path / "wbe.toml"
    cfg.write_text('[inputs]\nsites = "sites.csv"\n'
                   'samples = { path = "samples.xlsx", sheet = "*", header_row = 2 }\n'
                   'date_format = "%d/%m/%Y"\n[output]\nlanguage = "zh"\n', encoding="utf-8")
    config = load_config(cfg)
    assert config.samples == tmp_path / "samples.xlsx"
    assert config.input_options == {"samples": {"sheet": "*", "header_row": 2}}
    assert config.date_format == "%d/%m/%Y" and config.language == "zh"
    cfg.write_text('[inputs]\nsamples = { path = "s.xlsx", header_row = 0 }\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"inputs\.samples.*header_row"):
        load_config(cfg)
    cfg.write_text('[output]\nlanguage = "fr"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"output\.language"):
        load_config(cfg)


def test_cli_estimate_reads_workbook_with_date_format(tmp_path):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for plant in PLANTS:
        ws = wb.create_sheet(plant)
        ws.append([f"{plant} 检测结果"])
        ws.append(["说明：浓度单位 ng/L"])
        ws.append(["采样日期", "目标物", "浓度", "单位", "定量限"])
        for r in _sheet_rows(None, days=5, date_fmt="%d/%m/%Y"):
            ws.append(r)
    path = tmp_path / "samples.xlsx"
    wb.save(path)
    flows = tmp_path / "flows.csv"
    flows.write_text("site,date,flow,unit\n" + "".join(
        f"{p},0{d}/03/2024,100000,m3/day\n" for p in PLANTS for d in range(1, 6)),
        encoding="utf-8")
    out = tmp_path / "o"
    assert main(["estimate", "--samples", str(path), "--sites", str(_sites_csv(tmp_path)),
                 "--flows", str(flows),
                 "--sheet", "*", "--header-row", "3", "--date-format", "%d/%m/%Y",
                 "--draws", "10", "--out", str(out), "--quiet"]) == EXIT_OK
    est = pd.read_csv(out / "estimates.csv")
    assert set(est["site"]) == set(PLANTS)
    assert set(est["date"]) == {f"2024-03-0{d}" for d in range(1, 6)}
