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

import datetime as dt
import io
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
    max_examples=_EXPLORE or 30,
    deadline=None,
    derandomize=not _EXPLORE,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
#: The lab reader pseudonymises every row with a keyed hash: fewer examples, same cases.
FUZZ_LAB = settings(FUZZ, max_examples=_EXPLORE or 20)
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

def _good(*cells: str) -> st.SearchStrategy[str]:
    return st.sampled_from(cells)


#: Valid cells, so that the acceptance path is exercised too.
GOOD_SITE = _good("A", "B", "污水厂1")
GOOD_DATE = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2025, 12, 31)).map(
    dt.date.isoformat)
GOOD_NUMBER = st.floats(min_value=0.001, max_value=1e4).map(lambda v: f"{v:.4g}")
GOOD_RESULT = st.one_of(GOOD_NUMBER, _good("<LOQ", "n.d.", "<0.05", "未检出"))
GOOD_ID = st.from_regex(r"[HP]-?[0-9]{1,4}", fullmatch=True)
GOOD_ANALYTE = _good("methamphetamine", "甲基苯丙胺", "ketamine", "MDMA", "amphetamine")
GOOD_REMARK = _good("", "diluted x10", "re-run")

# reader name -> (header cells, (valid cells, messy pool) of each column)
LAYOUTS = {
    "samples": (
        ["site", "sampled_on", "biomarker", "value", "unit", "loq", "flag"],
        [(GOOD_SITE, SITES), (GOOD_DATE, DATES), (GOOD_ANALYTE, ANALYTES),
         (GOOD_RESULT, NUMBERS), (_good("ng/L", "ug/L", ""), UNITS), (_good("", "0.001"), NUMBERS),
         (GOOD_REMARK, QUOTES)],
    ),
    "samples_cn": (
        ["污水处理厂", "采样日期", "检测物质", "浓度(ng/L)", "备注"],
        [(GOOD_SITE, SITES), (GOOD_DATE, DATES), (GOOD_ANALYTE, ANALYTES),
         (GOOD_RESULT, NUMBERS), (GOOD_REMARK, QUOTES)],
    ),
    "flows": (
        ["site", "date", "flow", "unit"],
        [(GOOD_SITE, SITES), (GOOD_DATE, DATES), (GOOD_NUMBER, NUMBERS),
         (_good("m3/d", "L/s", "万立方米/天", ""), UNITS)],
    ),
    "flows_cn": (
        ["污水厂", "日期", "流量(万立方米/天)"],
        [(GOOD_SITE, SITES), (GOOD_DATE, DATES), (GOOD_NUMBER, NUMBERS)],
    ),
    "sites": (
        ["site", "population", "population_sd", "population_method", "domestic_fraction"],
        [(st.text(alphabet="ABCDEFG厂", min_size=1, max_size=3), SITES),
         (st.integers(1, 10**7).map(str), NUMBERS), (_good("", "1000"), NUMBERS),
         (_good("census", "nh4n", ""), WORDS), (_good("", "0.8", "1"), NUMBERS)],
    ),
    "sites_cn": (
        ["污水处理厂", "服务人口(万人)", "区域"],
        [(st.text(alphabet="ABCDEFG厂", min_size=1, max_size=3), SITES),
         (GOOD_NUMBER, NUMBERS), (_good("城区", "", "A区"), WORDS)],
    ),
    "lab": (
        ["sample_id", "subject_id", "analyte", "value", "unit", "matrix", "loq",
         "collected_on", "sample_type", "method", "group", "segment"],
        [(GOOD_ID, IDENTIFIERS), (GOOD_ID, IDENTIFIERS), (GOOD_ANALYTE, ANALYTES),
         (GOOD_RESULT, NUMBERS), (_good("ng/mg", "pg/mg", ""), UNITS),
         (_good("hair", "毛发", ""), WORDS), (_good("", "0.001"), NUMBERS),
         (GOOD_DATE, DATES), (_good("", "Unknown", "QC"), WORDS),
         (_good("", "confirm", "screen"), WORDS), (_good("", "社区戒毒"), WORDS),
         (_good("", "0-3 cm", "3-6"), WORDS)],
    ),
    "lab_cn": (
        ["样品编号", "姓名", "检测物质", "结果", "单位", "检材", "采样日期"],
        [(GOOD_ID, IDENTIFIERS), (_good("张三", "李四", "王五"), IDENTIFIERS),
         (GOOD_ANALYTE, ANALYTES), (GOOD_RESULT, NUMBERS), (_good("ng/mg", "pg/mg"), UNITS),
         (_good("毛发", "hair"), WORDS), (GOOD_DATE, DATES)],
    ),
}


def _read(layout: str, raw: bytes):
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
        for good, pool in pools:
            kind = draw(st.integers(0, 19))
            if kind <= 13:
                row.append(draw(good))
            elif kind <= 16:
                row.append(draw(st.sampled_from(pool)))
            elif kind <= 17:
                row.append(draw(st.sampled_from(ANY_KNOWN)))
            elif kind == 18:
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
    if draw(st.integers(0, 19)) == 13:  # a corrupted byte (never a separator or a quote)
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


@FUZZ_LAB
@given(st.sampled_from(["lab", "lab_cn"]).flatmap(
    lambda layout: st.tuples(st.just(layout), messy_csv(layout))))
def test_read_lab_results_fuzz(case):
    layout, (raw, expected) = case
    _check(layout, raw, expected)


@st.composite
def stray_quotes(draw):
    """A valid samples file in which a few cells open or close a double quote."""
    header, pools = LAYOUTS["samples"]
    n_rows = draw(st.integers(min_value=1, max_value=10))
    records = [[draw(good) for good, _ in pools] for _ in range(n_rows)]
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        i = draw(st.integers(0, n_rows - 1))
        j = draw(st.integers(0, len(header) - 1))
        records[i][j] = draw(st.sampled_from(['"', '"x', 'x"', '"a,b', '""x']))
    for row in records:  # sometimes a short row (trailing cells left out)
        if draw(st.integers(0, 4)) == 3:
            del row[draw(st.integers(1, len(row))):]
    text = "\n".join([",".join(header)] + [",".join(r) for r in records]) + "\n"
    # every written line is a data row, unless the line is all blank
    expected = {i + 2 for i, row in enumerate(records) if any(c.strip() for c in row)}
    return text.encode("utf-8"), expected


@FUZZ
@given(stray_quotes())
def test_stray_quotes_never_lose_rows(case):
    raw, expected = case
    _check("samples", raw, expected)
