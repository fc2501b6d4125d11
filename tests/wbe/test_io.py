"""Tests of the wastewater readers (wbe.io) and the shared tabular helpers (wbe._tabular).

Fixtures live in tests/data/io/ (the .xlsx files and the GB18030 CSV are written by
tests/data/io/make_fixtures.py). Expected numbers are hand conversions with the factors
of the SI prefixes: 1 µg/L = 1 ng/mL = 1000 ng/L, 1 L/s = 86.4 m³/day, 1 ML/day =
1000 m³/day, 1 万立方米/天 = 10 000 m³/day, 1 吨/天 = 1 m³/day, 1 万人 = 10 000.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wbe._tabular import (
    ReadResult,
    Rejects,
    parse_censored,
    parse_dates,
    parse_numbers,
    read_table,
    require_columns,
    split_header_unit,
)
from wbe.errors import ImplausibleValueWarning, InputError, UnitError, UnknownNameError
from wbe.io import (
    FLOW_COLUMNS,
    SAMPLE_COLUMNS,
    read_flows,
    read_samples,
    read_sites,
)

DATA = Path(__file__).parents[1] / "data" / "io"
REJECT_COLUMNS = ["source_file", "source_row", "column", "value", "reason"]


def _reject(rejects: pd.DataFrame, row: int) -> pd.Series:
    hit = rejects[rejects["source_row"] == row]
    assert len(hit) == 1, f"expected one reject for row {row}, got\n{rejects}"
    return hit.iloc[0]


def _accounted(result: ReadResult, rows, *, wide: bool = False) -> None:
    """Every input row is in data or in rejects, never nowhere (and not in both, except in
    the wide layout where one row holds several results)."""
    kept = set(result.data["source_row"])
    rejected = set(result.rejects["source_row"])
    if not wide:
        assert kept.isdisjoint(rejected)
    assert kept | rejected == set(rows)


# --------------------------------------------------------------------------- read_table


def test_read_table_rows_are_spreadsheet_rows_and_blank_lines_count():
    table = read_table(io.StringIO("site,value\nA, 1.5 \n\n,\nB,<LOQ\n"), file_label="t.csv")
    assert table["source_row"].tolist() == [2, 5]
    assert table["site"].tolist() == ["A", "B"]
    assert table["value"].tolist() == ["1.5", "<LOQ"]
    assert table.attrs["source"] == "t.csv"


def test_read_table_semicolon_and_tab_separated():
    semi = read_table(io.StringIO("site;value\nA;1\n"))
    tab = read_table(io.StringIO("site\tvalue\nA\t1\n"))
    assert list(semi.columns) == list(tab.columns) == ["site", "value", "source_row"]


def test_read_table_decodes_gb18030_csv():
    raw = (DATA / "sites_cn_gbk.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # the fixture really is GBK-encoded
    table = read_table(DATA / "sites_cn_gbk.csv")
    assert list(table.columns) == ["污水处理厂", "服务人口(万人)", "区域", "source_row"]
    assert table["污水处理厂"].tolist() == ["城东污水处理厂", "城西污水处理厂"]


def test_read_table_excel_title_row_sheet_and_cell_types():
    table = read_table(DATA / "samples_cn.xlsx", skip_rows=1)
    # title on row 1, header on row 2, data from row 3; row 6 is empty
    assert table["source_row"].tolist() == [3, 4, 5, 7, 8]
    assert table["采样日期"].tolist()[:3] == ["2024-03-05", "2024-03-05", "45357"]
    assert table["浓度"].tolist()[0] == "152.3"
    flows = read_table(DATA / "flows_cn.xlsx", sheet="流量")
    assert flows["日处理量(万吨/天)"].tolist() == ["5.2", "5.4", "2.1"]
    assert read_table(DATA / "flows_cn.xlsx", sheet=1).equals(flows)


def test_read_table_unknown_sheet_lists_sheets():
    with pytest.raises(UnknownNameError, match=r"unknown sheet '流量表'.*'流量'"):
        read_table(DATA / "flows_cn.xlsx", sheet="流量表")


@pytest.mark.parametrize(
    ("name", "match"),
    [("data.xls", "save the sheet as .xlsx"), ("data.json", "unsupported file type")],
)
def test_read_table_refuses_other_formats(tmp_path, name, match):
    path = tmp_path / name
    path.write_bytes(b"x")
    with pytest.raises(InputError, match=match) as info:
        read_table(path)
    assert info.value.file == name


def test_read_table_missing_file():
    with pytest.raises(InputError, match="file not found"):
        read_table(DATA / "no_such_file.csv")


def test_read_table_duplicated_header_and_headerless_cell():
    with pytest.raises(InputError, match="duplicated column header 'site'"):
        read_table(io.StringIO("site,site\nA,B\n"), file_label="d.csv")
    with pytest.raises(InputError, match="has no header") as info:
        read_table(io.StringIO("site,value\nA,1\nB,2,extra\n"), file_label="d.csv")
    assert (info.value.file, info.value.row) == ("d.csv", 3)


def test_read_table_dataframe_rows():
    dates = pd.to_datetime(["2024-03-05", None, "2024-03-07 08:30"], format="mixed")
    table = read_table(pd.DataFrame({"a": [1.0, np.nan, 2.5], "d": dates}))
    assert table["a"].tolist()[::2] == ["1", "2.5"]
    assert table["d"].tolist()[::2] == ["2024-03-05", "2024-03-07 08:30:00"]
    assert pd.isna(table["a"].iloc[1]) and pd.isna(table["d"].iloc[1])
    assert table["source_row"].tolist() == [2, 3, 4]
    assert table.attrs["source"] == "<DataFrame>"


# --------------------------------------------------------------------------- parsers


@pytest.mark.parametrize(
    ("text", "detection", "limit"),
    [
        ("12.5", "quantified", np.nan),
        ("<LOQ", "below_loq", np.nan),
        ("< LOQ", "below_loq", np.nan),
        ("BLQ", "below_loq", np.nan),
        ("below LOQ", "below_loq", np.nan),
        ("低于定量限", "below_loq", np.nan),
        ("<0.5", "below_loq", 0.5),
        ("＜0.5", "below_loq", 0.5),
        ("<LOQ (0.5)", "below_loq", 0.5),
        ("<LOD", "below_lod", np.nan),
        ("<LOD(0.1)", "below_lod", 0.1),
        ("低于检出限", "below_lod", np.nan),
        ("n.d.", "not_detected", np.nan),
        ("N.D.", "not_detected", np.nan),
        ("ND", "not_detected", np.nan),
        ("nd", "not_detected", np.nan),
        ("not detected", "not_detected", np.nan),
        ("未检出", "not_detected", np.nan),
    ],
)
def test_parse_censored_vocabulary(text, detection, limit):
    parsed = parse_censored(pd.Series([text])).iloc[0]
    assert parsed["detection"] == detection
    assert parsed["censored"] == (detection != "quantified")
    assert parsed["reason"] is None or pd.isna(parsed["reason"])
    np.testing.assert_equal(parsed["limit"], limit)
    if detection == "quantified":
        assert parsed["value"] == pytest.approx(12.5)
    else:
        assert np.isnan(parsed["value"])


def test_parse_censored_dash_policies_and_refusals():
    cells = pd.Series(["-", ">ULOQ", "abc", None])
    refused = parse_censored(cells)
    assert refused["detection"].isna().all()
    assert "ambiguous" in refused["reason"][0]
    assert "above the calibration range" in refused["reason"][1]
    assert "expected a number or a censored entry" in refused["reason"][2]
    assert pd.isna(refused["reason"][3])  # empty: no reason, the caller decides
    assert parse_censored(cells[:1], dash="not_detected")["detection"][0] == "not_detected"
    missing = parse_censored(cells[:1], dash="missing")
    assert pd.isna(missing["detection"][0]) and pd.isna(missing["reason"][0])
    with pytest.raises(UnknownNameError, match="closest: 'not_detected'"):
        parse_censored(cells, dash="not detected")


def test_parse_numbers():
    values, reasons = parse_numbers(pd.Series(["1.5", "1,234.5", "１２", "2e-3", "0,5", "x", ""]))
    np.testing.assert_allclose(values[:4], [1.5, 1234.5, 12.0, 0.002], rtol=1e-12)
    assert values[4:].isna().all()
    assert "decimal point" in reasons[4]
    assert reasons[5] == "expected a number, got 'x'"
    assert pd.isna(reasons[6])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-05", "2024-03-05"),
        ("2024/3/5", "2024-03-05"),
        ("2024.03.05", "2024-03-05"),
        ("2024-03-05 08:30:00", "2024-03-05"),
        ("20240305", "2024-03-05"),
        ("2024年3月5日", "2024-03-05"),
        ("45356", "2024-03-05"),  # Excel 1900 system: 1899-12-30 + 45356 days
        ("25/03/2024", "2024-03-25"),  # evident day first
        ("03/25/2024", "2024-03-25"),  # evident month first
    ],
)
def test_parse_dates_accepted(text, expected):
    dates, reasons = parse_dates(pd.Series([text]))
    assert str(dates[0].date()) == expected
    assert pd.isna(reasons[0])


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("03/05/2024", "ambiguous date"),
        ("2024-02-30", "not a calendar date"),
        ("24-03-05", "expected a date"),
        ("yesterday", "expected a date"),
        ("12", "expected a date"),  # too small for an Excel serial
    ],
)
def test_parse_dates_refused(text, reason):
    dates, reasons = parse_dates(pd.Series([text]))
    assert pd.isna(dates[0])
    assert reason in reasons[0]


def test_parse_dates_with_format_resolves_ambiguity():
    dates, reasons = parse_dates(pd.Series(["03/05/2024", "3.5.24"]), date_format="%d/%m/%Y")
    assert str(dates[0].date()) == "2024-05-03"
    assert "format '%d/%m/%Y'" in reasons[1]


def test_require_columns_aliases_and_header_units():
    table = read_table(
        pd.DataFrame({"污水处理厂": ["A"], "采样日期": ["2024-03-05"], "浓度（ng/L）": ["1"]})
    )
    frame = require_columns(table, ["site", "sampled_on", "value"])
    assert list(frame.columns) == ["site", "sampled_on", "value", "source_row"]
    assert frame.attrs["column_units"] == {"value": "ng/L"}
    assert frame.attrs["original_columns"]["value"] == "浓度（ng/L）"
    assert split_header_unit("flow [m3/d]") == ("flow", "m3/d")


def test_require_columns_missing_lists_missing_and_present():
    table = read_table(pd.DataFrame({"site": ["A"], "conc": ["1"]}), file_label="x.csv")
    with pytest.raises(InputError) as info:
        require_columns(table, ["site", "sampled_on", "biomarker", "value"])
    message = str(info.value)
    assert info.value.file == "x.csv"
    assert "missing required column(s) 'sampled_on'" in message
    assert "'biomarker'" in message
    assert "采样日期" in message  # accepted spellings are listed
    assert "Columns present: 'site', 'conc'" in message


def test_require_columns_two_spellings_of_one_column():
    table = read_table(pd.DataFrame({"site": ["A"], "污水厂": ["A"]}))
    with pytest.raises(InputError, match="both mean 'site'"):
        require_columns(table, ["site"])


def test_rejects_and_read_result():
    rejects = Rejects("f.csv")
    rejects.add([4, 2], "value", ["x", "y"], "bad")
    frame = rejects.frame()
    assert list(frame.columns) == REJECT_COLUMNS
    assert frame["source_row"].tolist() == [2, 4]
    with pytest.raises(InputError, match=r"file 'f.csv', row 2, column 'value': bad"):
        rejects.raise_first()
    frame_in = pd.DataFrame({"value": ["1", "x", "y"], "source_row": [2, 3, 4]})
    masked = Rejects("g.csv")
    masked.add_mask(frame_in, [False, True, True], "value", pd.Series(["r1", "r2", "r3"]))
    assert masked.frame()[["source_row", "value", "reason"]].to_numpy().tolist() == [
        [3, "x", "r2"], [4, "y", "r3"],
    ]
    assert masked.rows == {3, 4} and len(masked) == 2
    result = ReadResult(pd.DataFrame(), frame, "f.csv")
    data, rej = result
    assert data.empty and rej is frame
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.source = "other"  # type: ignore[misc]


# --------------------------------------------------------------------------- sites


def test_read_sites_rejects_name_file_row_column():
    result = read_sites(DATA / "sites.csv")
    _accounted(result, range(2, 8))
    data, rejects = result
    assert data["site"].tolist() == ["WWTP-B"]
    assert data["population"].tolist() == [120000.0]
    assert list(rejects.columns) == REJECT_COLUMNS
    assert set(rejects["source_file"]) == {"sites.csv"}
    dup_a, dup_b = _reject(rejects, 2), _reject(rejects, 6)
    assert dup_a["column"] == dup_b["column"] == "site"
    assert "duplicated site (WWTP-A): also in row(s) 6" in dup_a["reason"]
    negative = _reject(rejects, 4)
    assert (negative["column"], negative["value"]) == ("population", "-5")
    assert negative["reason"] == "population must be > 0"
    text = _reject(rejects, 5)
    assert (text["column"], text["reason"]) == ("population", "expected a number, got 'abc'")
    method = _reject(rejects, 7)
    assert method["column"] == "population_method"
    assert "unknown population method 'survey'" in method["reason"]


def test_read_sites_chinese_gbk_population_in_wan():
    data, rejects = read_sites(DATA / "sites_cn_gbk.csv")
    assert rejects.empty
    assert data["site"].tolist() == ["城东污水处理厂", "城西污水处理厂"]
    np.testing.assert_allclose(data["population"], [250000.0, 125000.0], rtol=1e-12)
    assert data["region"].tolist() == ["城东区", "城西区"]


def test_read_sites_population_unit_argument_and_conflict():
    table = pd.DataFrame({"site": ["A"], "population": ["3.5"]})
    data, _ = read_sites(table, population_unit="万人")
    assert data["population"].tolist() == [35000.0]
    with pytest.raises(UnitError, match="the header says '万人'"):
        read_sites(pd.DataFrame({"site": ["A"], "服务人口(万人)": ["1"]}), population_unit="人")
    with pytest.raises(UnitError, match="unknown population unit '人口'") as info:
        read_sites(table, population_unit="人口")
    assert info.value.column is None  # the argument, not a column, is at fault


def test_read_sites_on_error_raise():
    with pytest.raises(InputError) as info:
        read_sites(DATA / "sites.csv", on_error="raise")
    assert (info.value.file, info.value.row, info.value.column) == ("sites.csv", 2, "site")


# --------------------------------------------------------------------------- samples


def test_read_samples_long_csv():
    result = read_samples(DATA / "samples_long.csv", sites=["WWTP-A", "WWTP-B"])
    _accounted(result, range(2, 18))
    data, rejects = result
    assert tuple(data.columns) == SAMPLE_COLUMNS
    assert len(rejects) == 9  # rows 9-17, checked one by one below
    assert data["source_row"].tolist() == [2, 3, 4, 5, 6, 7, 8]
    assert data["biomarker"].tolist() == [
        "methamphetamine", "ketamine", "amphetamine", "norketamine", "benzoylecgonine",
        "methamphetamine", "ketamine",
    ]
    # 0.152 µg/L = 152 ng/L; 85 ng/mL = 85 000 ng/L; 12.5 µg/L = 12 500 ng/L
    np.testing.assert_allclose(
        data["concentration_ng_per_l"],
        [152.0, np.nan, np.nan, np.nan, np.nan, 85000.0, 12500.0],
        rtol=1e-12,
    )
    # LOQ column in the row's unit (0.005 µg/L = 5 ng/L); '<0.5' gives LOQ 0.5 ng/L
    np.testing.assert_allclose(
        data["loq_ng_per_l"], [5.0, 2.0, 0.5, 1.0, 1.0, np.nan, np.nan], rtol=1e-12
    )
    assert data["censored"].tolist() == [False, True, True, True, True, False, False]
    assert data["detection"].tolist() == [
        "quantified", "below_loq", "below_loq", "not_detected", "not_detected",
        "quantified", "quantified",
    ]
    assert str(data["sampled_on"].dtype).startswith("datetime64")
    assert data["sampled_on"].dt.strftime("%Y-%m-%d").tolist() == ["2024-03-05"] * 7
    assert data["flag"].tolist()[-1] == "diluted x10"


@pytest.mark.parametrize(
    ("row", "column", "value", "reason"),
    [
        (9, "value", "-3", "concentration must be >= 0"),
        (10, "value", "abc", "expected a number or a censored entry"),
        (11, "unit", "ng/LL", "unknown concentration unit 'ng/LL' (closest: ng/l"),
        (12, "biomarker", "methamphetamine-X", "unknown analyte 'methamphetamine-X' (closest: "
         "'methamphetamine'"),
        (13, "sampled_on", "2024-02-30", "not a calendar date"),
        (14, "sampled_on", "03/05/2024", "ambiguous date"),
        (15, "site", "WWTP-Z", "unknown site 'WWTP-Z' (closest: "),
    ],
)
def test_read_samples_row_rejects(row, column, value, reason):
    _, rejects = read_samples(DATA / "samples_long.csv", sites=["WWTP-A", "WWTP-B"])
    rejected = _reject(rejects, row)
    assert rejected["source_file"] == "samples_long.csv"
    assert rejected["column"] == column
    assert rejected["value"] == value
    assert reason in rejected["reason"]


def test_read_samples_duplicate_keys_reject_all_copies():
    _, rejects = read_samples(DATA / "samples_long.csv")
    # rows 16 and 17: WWTP-A, 2024-03-07, 'ketamine' and 'Ketamine' resolve to one key
    first, second = _reject(rejects, 16), _reject(rejects, 17)
    assert first["source_file"] == second["source_file"] == "samples_long.csv"
    assert first["column"] == "site, sampled_on, biomarker"
    assert "(WWTP-A, 2024-03-07, ketamine): also in row(s) 17" in first["reason"]
    assert "also in row(s) 16" in second["reason"]


def test_read_samples_unknown_site_only_checked_when_sites_given():
    data, _ = read_samples(DATA / "samples_long.csv")
    assert 15 in set(data["source_row"])


def test_read_samples_accepts_sites_read_result():
    sites = read_sites(pd.DataFrame({"site": ["WWTP-A"], "population": ["1000"]}))
    data, rejects = read_samples(DATA / "samples_long.csv", sites=sites)
    assert set(data["site"]) == {"WWTP-A"}
    assert "unknown site 'WWTP-B'" in _reject(rejects, 7)["reason"]


def test_read_samples_chinese_excel():
    result = read_samples(DATA / "samples_cn.xlsx", skip_rows=1)
    _accounted(result, [3, 4, 5, 7, 8])
    data, rejects = result
    assert rejects.empty
    assert set(data["site"]) == {"城东污水处理厂", "城西污水处理厂"}
    assert data["biomarker"].tolist() == [
        "methamphetamine", "ketamine", "methamphetamine", "ketamine", "methamphetamine",
    ]
    # Excel date cell, Excel serial 45357 and 2024年3月7日
    assert data["sampled_on"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-03-05", "2024-03-05", "2024-03-06", "2024-03-07", "2024-03-07",
    ]
    # 0.141 µg/L = 141 ng/L; '1,250' with a thousands separator
    np.testing.assert_allclose(
        data["concentration_ng_per_l"], [152.3, np.nan, 141.0, np.nan, 1250.0], rtol=1e-12
    )
    assert data["detection"].tolist()[1::2] == ["below_loq", "not_detected"]


def test_read_samples_wide_excel():
    result = read_samples(DATA / "samples_wide.xlsx", layout="wide")
    _accounted(result, [2, 3, 4, 5], wide=True)
    data, rejects = result
    assert tuple(data.columns) == SAMPLE_COLUMNS
    assert data["source_row"].tolist() == [2, 2, 2, 3, 3, 5]
    assert data["biomarker"].tolist() == [
        "methamphetamine", "ketamine", "amphetamine", "methamphetamine", "ketamine", "ketamine",
    ]
    # amphetamine header in µg/L: 0.012 µg/L = 12 ng/L
    np.testing.assert_allclose(
        data["concentration_ng_per_l"], [152.3, np.nan, 12.0, np.nan, 8.4, 9.1], rtol=1e-12
    )
    empty = _reject(rejects, 4)
    assert empty["reason"] == "no analyte result in this row"
    bad = _reject(rejects, 5)
    assert (bad["column"], bad["value"]) == ("甲基苯丙胺(ng/L)", "abc")


def test_read_samples_wide_unknown_analyte_column_is_file_level():
    table = pd.DataFrame({"site": ["A"], "date": ["2024-03-05"], "methamphetamin X": ["1"]})
    with pytest.raises(UnknownNameError) as info:
        read_samples(table, layout="wide", unit="ng/L")
    assert info.value.column == "methamphetamin X"
    assert "closest: 'methamphetamine'" in str(info.value)


def _samples(**columns):
    base = {
        "site": ["A", "A"],
        "sampled_on": ["2024-03-05", "2024-03-06"],
        "biomarker": ["methamphetamine", "氯胺酮"],
        "value": ["1.5", "2"],
    }
    base.update(columns)
    return pd.DataFrame(base)


def test_read_samples_missing_columns_is_file_level():
    table = _samples().drop(columns=["sampled_on", "biomarker"])
    with pytest.raises(InputError) as info:
        read_samples(table, unit="ng/L", file_label="lab.csv")
    message = str(info.value)
    assert info.value.file == "lab.csv"
    assert "missing required column(s) 'sampled_on'" in message and "'biomarker'" in message
    assert "Columns present: 'site', 'value'" in message


def test_read_samples_unit_sources():
    with pytest.raises(InputError, match="no concentration unit"):
        read_samples(_samples())
    data, _ = read_samples(_samples(), unit="µg/L")
    np.testing.assert_allclose(data["concentration_ng_per_l"], [1500.0, 2000.0], rtol=1e-12)
    # a unit cell wins over unit=; an empty cell falls back to it
    data, _ = read_samples(_samples(unit=["ng/L", None]), unit="ng/mL")
    np.testing.assert_allclose(data["concentration_ng_per_l"], [1.5, 2000.0], rtol=1e-12)
    data, _ = read_samples(_samples().rename(columns={"value": "浓度(µg/L)"}))
    np.testing.assert_allclose(data["concentration_ng_per_l"], [1500.0, 2000.0], rtol=1e-12)
    with pytest.raises(UnitError, match="unknown concentration unit 'ppb'") as info:
        read_samples(_samples(), unit="ppb", file_label="lab.csv")
    assert info.value.file == "lab.csv"
    _, rejects = read_samples(_samples(unit=["ng/L", None]))
    assert _reject(rejects, 3)["reason"] == "empty unit and no unit= default given"


def test_read_samples_loq_header_unit():
    data, _ = read_samples(_samples(unit=["µg/L", "µg/L"], **{"LOQ (ng/L)": ["5", None]}))
    np.testing.assert_allclose(data["concentration_ng_per_l"], [1500.0, 2000.0], rtol=1e-12)
    np.testing.assert_allclose(data["loq_ng_per_l"], [5.0, np.nan], rtol=1e-12)


def test_read_samples_limit_in_cell_is_an_loq_only_below_loq():
    data, _ = read_samples(_samples(value=["<LOQ(0.5)", "<LOD(0.1)"]), unit="µg/L")
    np.testing.assert_allclose(data["loq_ng_per_l"], [500.0, np.nan], rtol=1e-12)
    assert data["detection"].tolist() == ["below_loq", "below_lod"]


def test_read_samples_dash_policy():
    table = _samples(value=["-", "2"])
    _, rejects = read_samples(table, unit="ng/L")
    assert "ambiguous" in _reject(rejects, 2)["reason"]
    data, rejects = read_samples(table, unit="ng/L", dash="not_detected")
    assert rejects.empty
    assert data["detection"].tolist() == ["not_detected", "quantified"]


def test_read_samples_empty_value_is_rejected():
    _, rejects = read_samples(_samples(value=[None, "2"]), unit="ng/L")
    assert "empty result" in _reject(rejects, 2)["reason"]


def test_read_samples_on_error_raise_names_row_and_column():
    with pytest.raises(InputError) as info:
        read_samples(DATA / "samples_long.csv", on_error="raise")
    err = info.value
    assert (err.file, err.row, err.column) == ("samples_long.csv", 9, "value")
    assert "concentration must be >= 0" in str(err)


def test_read_samples_implausible_concentration_warns_and_keeps_row():
    with pytest.warns(ImplausibleValueWarning, match=r"above 1e\+06 ng/L \(rows 2\)"):
        data, rejects = read_samples(_samples(value=["2000", "1"]), unit="mg/L")
    assert data["concentration_ng_per_l"].tolist() == [2e9, 1e6]
    assert rejects.empty


def test_read_samples_bad_choices():
    with pytest.raises(UnknownNameError, match="unknown layout 'tall'"):
        read_samples(_samples(), unit="ng/L", layout="tall")
    with pytest.raises(UnknownNameError, match="on_error policy"):
        read_samples(_samples(), unit="ng/L", on_error="ignore")


# --------------------------------------------------------------------------- flows


def test_read_flows_units_and_rejects():
    result = read_flows(DATA / "flows.csv", sites=["WWTP-A", "WWTP-B"])
    _accounted(result, range(2, 11))
    data, rejects = result
    assert tuple(data.columns) == FLOW_COLUMNS
    assert data["source_row"].tolist() == [2, 3, 4, 5]
    # 2.5 万立方米/天; 289.35 L/s * 86.4; 30 ML/d; 30 000 吨/天
    np.testing.assert_allclose(
        data["flow_m3_per_day"], [25000.0, 24999.84, 30000.0, 30000.0], rtol=1e-12
    )
    negative = _reject(rejects, 6)
    assert (negative["column"], negative["value"], negative["reason"]) == (
        "flow", "-10", "flow must be > 0"
    )
    unit = _reject(rejects, 7)
    assert unit["column"] == "unit" and "unknown flow unit 'gallons/day'" in unit["reason"]
    assert "l/s" in unit["reason"]  # valid units are listed
    assert "also in row(s) 9" in _reject(rejects, 8)["reason"]
    assert "unknown site 'WWTP-Z'" in _reject(rejects, 10)["reason"]
    assert set(rejects["source_file"]) == {"flows.csv"}


def test_read_flows_excel_sheet_header_unit():
    data, rejects = read_flows(DATA / "flows_cn.xlsx", sheet="流量")
    assert rejects.empty
    np.testing.assert_allclose(data["flow_m3_per_day"], [52000.0, 54000.0, 21000.0], rtol=1e-12)


def test_read_flows_needs_a_unit():
    table = pd.DataFrame({"site": ["A"], "date": ["2024-03-05"], "flow": ["1"]})
    with pytest.raises(InputError, match="no flow unit"):
        read_flows(table)
    assert read_flows(table, unit="L/s").data["flow_m3_per_day"].tolist() == [86.4]


def test_read_flows_per_person_plausibility_warns():
    sites = read_sites(pd.DataFrame({"site": ["A", "B"], "population": ["100000", "10000"]}))
    table = pd.DataFrame(
        {"site": ["A", "B"], "date": ["2024-03-05", "2024-03-05"], "flow": ["25000", "25000"]}
    )
    # A: 25 000 m³/day / 100 000 = 250 L/person/day (fine); B: 2500 L/person/day
    with pytest.warns(ImplausibleValueWarning, match=r"row 3 \(2500 L/person/day\)") as record:
        data, _ = read_flows(table, sites=sites, unit="m3/d")
    assert len(record) == 1
    assert data["source_row"].tolist() == [2, 3]
    # within the band: no warning (warnings are errors in the test run)
    read_flows(table.iloc[:1], sites=sites, unit="m3/d")
