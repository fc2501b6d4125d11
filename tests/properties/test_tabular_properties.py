"""Property tests of the shared tabular parsers (wbe._tabular)."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from wbe._tabular import (
    duplicated_rows,
    parse_censored,
    parse_dates,
    parse_numbers,
    read_table,
)

FINITE = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15)
DAYS = st.dates(min_value=dt.date(1901, 1, 1), max_value=dt.date(2099, 12, 31))

# No per-example deadline: each example parses a small table with pandas (a few ms on an
# idle machine, but hundreds of ms when 2 cores are shared by several test runs, and the
# first call pays one-off imports and regex compilation). Hypothesis's default 200 ms
# deadline then fails the run by chance; time is not what these properties are about
# (benchmarks/ measures speed). The number of examples stays at Hypothesis's default.
NO_DEADLINE = settings(deadline=None)


@NO_DEADLINE
@given(st.lists(FINITE, max_size=20))
def test_numbers_round_trip_through_text(values):
    parsed, reasons = parse_numbers(pd.Series([repr(v) for v in values], dtype=object))
    assert parsed.tolist() == values
    assert reasons.isna().all()


@NO_DEADLINE
@given(st.lists(st.floats(min_value=0, max_value=1e9, allow_nan=False), max_size=20))
def test_censored_numbers_are_quantified(values):
    parsed = parse_censored(pd.Series([repr(v) for v in values], dtype=object))
    assert (parsed["detection"] == "quantified").all()
    assert not parsed["censored"].any()
    assert parsed["value"].tolist() == values


@NO_DEADLINE
@given(st.lists(DAYS, min_size=1, max_size=20), st.sampled_from(["iso", "slash", "cn", "serial"]))
def test_dates_round_trip(days, style):
    def spell(d: dt.date) -> str:
        if style == "iso":
            return d.isoformat()
        if style == "slash":
            return f"{d.year}/{d.month}/{d.day}"
        if style == "cn":
            return f"{d.year}年{d.month}月{d.day}日"
        return str((d - dt.date(1899, 12, 30)).days)  # Excel 1900 date system

    parsed, reasons = parse_dates(pd.Series([spell(d) for d in days], dtype=object))
    assert reasons.isna().all()
    assert [ts.date() for ts in parsed] == days


@NO_DEADLINE
@given(st.lists(st.booleans(), min_size=1, max_size=30))
def test_row_numbers_survive_blank_lines(blank):
    lines = ["site,value"]
    expected = []
    for i, is_blank in enumerate(blank):
        lines.append("" if is_blank else f"S{i},{i}")
        if not is_blank:
            expected.append(i + 2)  # header is row 1
    table = read_table(io.StringIO("\n".join(lines) + "\n"))
    assert table["source_row"].tolist() == expected
    assert table["value"].tolist() == [str(r - 2) for r in expected]


# ------------------------------------------------------- CSV fast path == csv-module path

_CSV_PIECES = st.sampled_from(
    ["a", "b", "1.5", "样品", " ", "  x ", ",", ",", ",", ";", "\t", "\n", "\n", "\r\n", "\r",
     "source_row", "<LOQ", "\ufeff", "\x0c", "\u2028"])


def _both_paths(text: str, skip_rows: int):
    """(fast, exact): each a table (as lists) or the InputError text; fast None = fell back."""
    import wbe._tabular as tab

    def run(func):
        try:
            return func()
        except tab.InputError as exc:
            return str(exc)

    delimiter = tab._delimiter(text)

    def exact():
        rows = tab._csv_rows(text, "t.csv", delimiter)
        return tab._rows_to_frame(rows, "t.csv", header_rows=1, skip_rows=skip_rows)

    fast = run(lambda: tab._fast_csv_frame(text, delimiter, "t.csv", skip_rows))
    return fast, run(exact)


def _bytes_paths(text: str, skip_rows: int):
    """(fast, exact) for the UTF-8 bytes of ``text``, as :func:`_both_paths`."""
    import wbe._tabular as tab

    raw = text.encode("utf-8")

    def run(func):
        try:
            return func()
        except tab.InputError as exc:
            return str(exc)

    def exact():
        decoded = tab._decode(raw, "t.csv", None)
        rows = tab._csv_rows(decoded, "t.csv", tab._delimiter(decoded))
        return tab._rows_to_frame(rows, "t.csv", header_rows=1, skip_rows=skip_rows)

    fast = run(lambda: tab._fast_csv_frame(raw, tab._delimiter(raw), "t.csv", skip_rows))
    return fast, run(exact)


def _assert_same(fast, exact):
    if fast is None:  # the fast path declined: the exact path alone is used
        return
    if isinstance(exact, str) or isinstance(fast, str):
        assert fast == exact
        return
    pd.testing.assert_frame_equal(fast, exact)
    assert fast.attrs == exact.attrs


@NO_DEADLINE
@given(st.lists(_CSV_PIECES, max_size=60).map("".join), st.sampled_from([0, 0, 1, 2]))
def test_fast_csv_path_equals_csv_module_path(text, skip_rows):
    _assert_same(*_both_paths(text, skip_rows))
    _assert_same(*_bytes_paths(text, skip_rows))


def test_fast_csv_path_is_taken_for_a_plain_export():
    fast, exact = _both_paths("标题,,\nsite,value,unit\nA, 1.5 ,ng/L\n\nB,<LOQ,\n,,\nC,2,x\n", 0)
    assert fast is not None
    pd.testing.assert_frame_equal(fast, exact)
    assert fast["source_row"].tolist() == [3, 5, 7]
    text = "\ufeff标题,,\nsite,value,unit\nA, 1.5 ,ng/L\n\nB,<LOQ,\n,,\nC,2,x\n"
    fast_bytes, _ = _bytes_paths(text, 0)  # UTF-8 with a byte-order mark
    pd.testing.assert_frame_equal(fast_bytes, exact)
    assert [None if pd.isna(u) else u for u in fast["unit"]] == ["ng/L", None, "x"]


def test_utf8_spaces_cover_every_character_strip_removes():
    import sys

    from wbe._tabular import UTF8_SPACES

    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if char.isspace() and char not in "\n\r":
            encoded = char.encode("utf-8")
            assert any(encoded.startswith(b) for b in UTF8_SPACES), hex(code)


@NO_DEADLINE
@given(st.integers(1, 40).flatmap(lambda n: st.lists(
    st.lists(st.integers(-1, 4), min_size=n, max_size=n), min_size=1, max_size=4)))
def test_duplicated_rows_is_pandas_duplicated_of_the_coded_columns(columns):
    # -1 codes a missing cell: missing equals missing, as in DataFrame.duplicated
    codes = [np.asarray(c, dtype=np.int64) for c in columns]
    frame = pd.DataFrame({i: pd.array(np.where(c < 0, None, c), dtype="Int64")
                          for i, c in enumerate(codes)})
    assert duplicated_rows(codes).tolist() == frame.duplicated(keep=False).tolist()
