"""Fuzz test of the readers (issue 14): messy CSV bytes give wbe errors or rejects, never
another exception, and every data row is accounted for.

Hypothesis builds CSV files for :func:`wbe.io.read_samples`, :func:`wbe.io.read_flows`,
:func:`wbe.io.read_sites` and :func:`wbe.lab.io.read_lab_results` from cells that labs and
monitoring offices really type (odd numbers such as ``1e400`` or ``0,5``, text ``NaN``,
placeholder dates ``9999-12-31``, Excel serials, unknown units, ID-card-like strings,
stray double quotes) mixed with random text, written with ``,``/``;``/tab separators,
``\\n`` or ``\\r\\n`` line ends, UTF-8 (with or without BOM) or GB18030, and sometimes
with undecodable bytes. For each file:

- the reader returns a result or raises a :class:`wbe.errors.WBEError`; any other
  exception fails the test, and only wbe warnings may be issued;
- when it returns, the rows of ``data`` and ``rejects`` together are exactly the
  non-empty data rows that were written (counted by the generator, not by the reader),
  and accepted numbers are finite.

The examples are derandomised so that the suite gives the same result on every run; to
explore further run with ``WBE_FUZZ_EXAMPLES=2000`` (non-derandomised).
"""

from __future__ import annotations

import os
import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wbe.errors import WBEError, WBEWarning
from wbe.io import read_flows, read_samples, read_sites
from wbe.lab.io import read_lab_results

_EXPLORE = int(os.environ.get("WBE_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=_EXPLORE or 40,
    deadline=None,
    derandomize=not _EXPLORE,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
KEY = "9f3c1a7e5b2d48c6a0e4f7b19d8c2e6a5f1b3d7c9e0a2b4c"

SITES = ["A", "B", "污水厂1", " A ", "a", "11010519491231002X"]
DATES = [
    "2024-03-05", "2024/3/5", "2024年3月5日", "45356", "03/05/2024", "13/05/2024",
    "2024-02-30", "9999-12-31", "0001-01-01", "2958465", "2199-01-01", "1677-09-21",
    "20240305", "24-03-05", "2024-03-05 12:00", "-1", "1e400", "NaN",
]
NUMBERS = [
    "1.5", "0", "-1", "1e400", "-1e400", "1e-400", "5e-324", "1,234.5", "0,5", "NaN", "NA",
    "null", "None", "inf", "-inf", "１２", "<LOQ", "<0.5", "<1e400", "n.d.", "未检出", "-",
    ">ULOQ", "阳性", "N/A", "No Peak", "1e308", "0.0001", "1e100", "1e101", "0.3", " 7 ",
]
UNITS = [
    "ng/L", "ug/L", "µg/L", "mg/L", "m3/d", "L/s", "万立方米/天", "ng/mg", "pg/mg", "ng/mL",
    "万人", "xyz", "",
]
ANALYTES = [
    "methamphetamine", "甲基苯丙胺", "ketamine", "MDMA", "benzoylecgonine", "unknownium",
    "amphetamine-d5", "ISTD", "",
]
IDENTIFIERS = ["11010519491231002X", "110105491231002", "张三", "P-001", "H001", "H002"]
WORDS = ["hair", "urine", "毛发", "尿液", "QC", "Standard", "Blank", "screen", "confirm",
         "census", "nh4n", "bogus", "0-3 cm", "3-0", "社区戒毒"]
QUOTES = ['"diluted x10', 'a"b', '"quoted"', '""', '"', 'x10"', "'single'"]
POOLS = [SITES, DATES, NUMBERS, UNITS, ANALYTES, IDENTIFIERS, WORDS, QUOTES]
ANY_KNOWN = [c for pool in POOLS for c in pool]

RANDOM_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=10,
)

# reader name -> (header cells, pool of each column)
LAYOUTS = {
    "samples": (
        ["site", "sampled_on", "biomarker", "value", "unit", "loq", "flag"],
        [SITES, DATES, ANALYTES, NUMBERS, UNITS, NUMBERS, QUOTES],
    ),
    "samples_cn": (
        ["污水处理厂", "采样日期", "检测物质", "浓度(ng/L)", "备注"],
        [SITES, DATES, ANALYTES, NUMBERS, QUOTES],
    ),
    "flows": (["site", "date", "flow", "unit"], [SITES, DATES, NUMBERS, UNITS]),
    "flows_cn": (["污水厂", "日期", "流量(万立方米/天)"], [SITES, DATES, NUMBERS]),
    "sites": (
        ["site", "population", "population_sd", "population_method", "domestic_fraction"],
        [SITES, NUMBERS, NUMBERS, WORDS, NUMBERS],
    ),
    "sites_cn": (["污水处理厂", "服务人口(万人)", "区域"], [SITES, NUMBERS, WORDS]),
    "lab": (
        ["sample_id", "subject_id", "analyte", "value", "unit", "matrix", "loq",
         "collected_on", "sample_type", "method", "group", "segment"],
        [IDENTIFIERS, IDENTIFIERS, ANALYTES, NUMBERS, UNITS, WORDS, NUMBERS, DATES, WORDS,
         WORDS, WORDS, WORDS],
    ),
    "lab_cn": (
        ["样品编号", "姓名", "检测物质", "结果", "单位", "检材", "采样日期"],
        [IDENTIFIERS, IDENTIFIERS, ANALYTES, NUMBERS, UNITS, WORDS, DATES],
    ),
}


def _read(layout: str, raw: bytes):
    import io

    buffer = io.BytesIO(raw)
    if layout.startswith("samples"):
        return read_samples(buffer, file_label="samples.csv", unit="ng/L")
    if layout.startswith("flows"):
        return read_flows(buffer, file_label="flows.csv", unit="m3/d")
    if layout.startswith("sites"):
        return read_sites(buffer, file_label="sites.csv")
    return read_lab_results(buffer, key=KEY, file_label="batch.csv", matrix="hair")


def _quote(cell: str, delimiter: str, raw: bool) -> str:
    """Cell as written: csv-quoted when needed, or raw (stray quotes stay stray)."""
    needs = any(ch in cell for ch in (delimiter, '"', "\n", "\r"))
    if raw and "\n" not in cell and "\r" not in cell:
        return cell
    if needs:
        return '"' + cell.replace('"', '""') + '"'
    return cell


@st.composite
def messy_csv(draw, layout: str):
    header, pools = LAYOUTS[layout]
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    n_rows = draw(st.integers(min_value=0, max_value=8))
    records: list[list[str]] = []
    for _ in range(n_rows):
        if draw(st.integers(0, 9)) == 0:
            records.append([""] * len(header))  # a blank row
            continue
        row = []
        for pool in pools:
            kind = draw(st.integers(0, 9))
            if kind <= 5:
                row.append(draw(st.sampled_from(pool)))
            elif kind <= 7:
                row.append(draw(st.sampled_from(ANY_KNOWN)))
            elif kind == 8:
                row.append(draw(RANDOM_TEXT))
            else:
                value = draw(st.floats(allow_nan=True, allow_infinity=True))
                row.append(repr(value))
        records.append(row)
    raw_cells = draw(st.booleans())
    lines = [delimiter.join(header)]
    for row in records:
        lines.append(delimiter.join(
            _quote(c, delimiter, raw_cells and draw(st.booleans())) for c in row
        ))
    text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    if draw(st.integers(0, 9)) == 0:  # a corrupted byte (never a separator or a quote)
        at = draw(st.integers(0, len(data)))
        data = data[:at] + bytes([draw(st.integers(0x80, 0xFF))]) + data[at:]
    # data rows a user sees: header is row 1; rows whose cells are all blank carry nothing
    expected = {i + 2 for i, row in enumerate(records) if any(c.strip() for c in row)}
    return data, expected


def _check(layout: str, raw: bytes, expected: set[int]) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = _read(layout, raw)
        except WBEError:
            result = None
    foreign = [w for w in caught if not issubclass(w.category, WBEWarning)]
    assert not foreign, f"non-wbe warning: {foreign[0].category.__name__}: {foreign[0].message}"
    if result is None:
        return
    accounted = set(result.data["source_row"]) | set(result.rejects["source_row"])
    assert accounted == expected, (
        f"rows lost or invented: missing {sorted(expected - accounted)}, "
        f"extra {sorted(accounted - expected)}\n{raw!r}"
    )
    numbers = result.data.select_dtypes("number").drop(columns="source_row")
    assert not np.isinf(numbers.to_numpy(dtype=float)).any(), "an accepted number is infinite"


@FUZZ
@given(st.sampled_from(["samples", "samples_cn"]).flatmap(
    lambda layout: st.tuples(st.just(layout), messy_csv(layout))))
def test_read_samples_fuzz(case):
    layout, (raw, expected) = case
    _check(layout, raw, expected)


@FUZZ
@given(st.sampled_from(["flows", "flows_cn"]).flatmap(
    lambda layout: st.tuples(st.just(layout), messy_csv(layout))))
def test_read_flows_fuzz(case):
    layout, (raw, expected) = case
    _check(layout, raw, expected)


@FUZZ
@given(st.sampled_from(["sites", "sites_cn"]).flatmap(
    lambda layout: st.tuples(st.just(layout), messy_csv(layout))))
def test_read_sites_fuzz(case):
    layout, (raw, expected) = case
    _check(layout, raw, expected)


@FUZZ
@given(st.sampled_from(["lab", "lab_cn"]).flatmap(
    lambda layout: st.tuples(st.just(layout), messy_csv(layout))))
def test_read_lab_results_fuzz(case):
    layout, (raw, expected) = case
    _check(layout, raw, expected)
