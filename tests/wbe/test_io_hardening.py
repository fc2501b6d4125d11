"""Regression tests of issue 14 (readers): unclosed quotes, dates outside the datetime64[ns]
range, future dates, text NaN / overflowing numbers, sub-LOQ quantified values, populations
below one inhabitant, and raw exceptions on odd arguments.

Every test here failed on the code before the fix (a raw ``OutOfBoundsDatetime``,
``TypeError`` or ``IsADirectoryError``, or rows that vanished or were kept as NaN/inf).
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd
import pytest

from wbe._tabular import parse_censored, parse_dates, parse_numbers
from wbe.errors import ImplausibleValueWarning, InputError
from wbe.io import read_flows, read_samples, read_sites

SAMPLES_HEADER = "site,date,analyte,value,unit,remark\n"


def _buffer(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))


def _sample_line(day: int, remark: str = "") -> str:
    return f"A,2024-01-{day:02d},methamphetamine,{day}.5,ng/L,{remark}\n"


# --------------------------------------------------------------------------- 7. quotes


def test_unclosed_quote_fails_naming_the_line_where_it_opened():
    text = SAMPLES_HEADER + _sample_line(1) + _sample_line(2, '"diluted x10')
    text += "".join(_sample_line(d) for d in range(3, 8))
    with pytest.raises(InputError) as caught:
        read_samples(_buffer(text), file_label="samples.csv")
    assert caught.value.file == "samples.csv"
    assert "opened on line 3" in caught.value.message
    assert "not properly closed" in caught.value.message


def test_quote_closed_several_rows_later_is_refused():
    # the remark of row 3 opens a quote that a remark of row 6 closes: rows 4-6 would vanish
    text = SAMPLES_HEADER + _sample_line(1) + _sample_line(2, '"diluted x10')
    text += _sample_line(3) + _sample_line(4) + _sample_line(5, 're-run"') + _sample_line(6)
    with pytest.raises(InputError) as caught:
        read_samples(_buffer(text), file_label="samples.csv")
    assert "opened on line 3" in caught.value.message
    assert "look like data rows" in caught.value.message


def test_unclosed_quote_in_the_last_column_also_fails_for_flows():
    text = "site,date,flow,unit,remark\nA,2024-01-01,10,m3/d,\"high\n"
    text += "".join(f"A,2024-01-{d:02d},10,m3/d,\n" for d in range(2, 6))
    with pytest.raises(InputError, match="opened on line 2"):
        read_flows(_buffer(text))


def test_properly_closed_multiline_cell_still_reads():
    text = SAMPLES_HEADER + _sample_line(1, '"diluted x10\nre-injected"') + _sample_line(2)
    data, rejects = read_samples(_buffer(text))
    assert rejects.empty
    assert data["source_row"].tolist() == [2, 3]
    assert data["flag"].tolist() == ["diluted x10\nre-injected", ""]  # remark = flag


def test_quote_inside_a_cell_is_literal_and_keeps_every_row():
    text = SAMPLES_HEADER + _sample_line(1, 'diluted "x10') + _sample_line(2)
    data, rejects = read_samples(_buffer(text))
    assert rejects.empty and data["source_row"].tolist() == [2, 3]


# --------------------------------------------------------------------------- 8. dates


@pytest.mark.parametrize("cell", ["9999-12-31", "0001-01-01", "2958465", "2262-04-12"])
def test_dates_outside_the_ns_range_are_rejected_with_a_reason(cell):
    text = "site,date,flow,unit\n" f"A,{cell},10,m3/d\nA,2024-01-02,12,m3/d\n"
    data, rejects = read_flows(_buffer(text))
    assert data["source_row"].tolist() == [3]
    assert rejects["source_row"].tolist() == [2]
    assert "outside the supported range" in rejects["reason"].iloc[0]
    assert rejects["value"].iloc[0] == cell


def test_out_of_range_dates_in_samples_and_with_a_date_format():
    text = SAMPLES_HEADER + "A,9999-12-31,methamphetamine,1,ng/L,\n" + _sample_line(2)
    data, rejects = read_samples(_buffer(text))
    assert data["source_row"].tolist() == [3]
    assert rejects["column"].tolist() == ["date"]
    dates, reasons = parse_dates(pd.Series(["31/12/9999", "05/03/2024"]), date_format="%d/%m/%Y")
    assert pd.isna(dates[0]) and "outside the supported range" in reasons[0]
    assert dates[1] == pd.Timestamp("2024-03-05") and pd.isna(reasons[1])


def test_edges_of_the_ns_range_are_kept():
    dates, reasons = parse_dates(pd.Series(["1677-09-22", "2262-04-11"]))
    assert reasons.isna().all()
    assert [str(d.date()) for d in dates] == ["1677-09-22", "2262-04-11"]


def test_future_dates_are_kept_with_a_warning_naming_file_row_and_column():
    text = "site,日期,flow,unit\nA,2024-01-01,10,m3/d\nA,2199-01-02,12,m3/d\n"
    with pytest.warns(ImplausibleValueWarning) as caught:
        data, rejects = read_flows(_buffer(text), file_label="flows.csv")
    message = str(caught[0].message)
    assert "'flows.csv'" in message and "'日期'" in message and "row 3 (2199-01-02)" in message
    assert data["source_row"].tolist() == [2, 3] and rejects.empty


def test_future_sample_dates_warn():
    text = SAMPLES_HEADER + "A,2199-01-01,methamphetamine,1,ng/L,\n"
    with pytest.warns(ImplausibleValueWarning, match=r"row 2 \(2199-01-01\)"):
        data, _ = read_samples(_buffer(text))
    assert len(data) == 1


def test_past_dates_do_not_warn():
    text = "site,date,flow,unit\nA,2024-01-01,10,m3/d\n"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_flows(_buffer(text))


# --------------------------------------------------------------------------- 9. numbers


@pytest.mark.parametrize("cell", ["1e400", "-1e400", "NaN", "NA", "null", "None", "1e-400"])
def test_flows_reject_overflow_and_text_nan(cell):
    text = "site,date,flow,unit\n" f"A,2024-01-01,{cell},m3/d\nA,2024-01-02,12,m3/d\n"
    data, rejects = read_flows(_buffer(text))
    assert data["source_row"].tolist() == [3]
    assert np.isfinite(data["flow_m3_per_day"]).all()
    assert rejects["source_row"].tolist() == [2] and rejects["column"].tolist() == ["flow"]
    assert rejects["value"].iloc[0] == cell


@pytest.mark.parametrize("cell", ["1e400", "NaN", "null", "0.5"])
def test_sites_reject_overflow_text_nan_and_population_below_one(cell):
    text = f"site,population\nA,{cell}\nB,1200\n"
    data, rejects = read_sites(_buffer(text))
    assert data["site"].tolist() == ["B"]
    assert rejects["source_row"].tolist() == [2]
    assert rejects["column"].tolist() == ["population"]


def test_population_below_one_in_ten_thousands_names_the_unit():
    data, rejects = read_sites(pd.DataFrame({"site": ["A"], "服务人口(万人)": ["0.00005"]}))
    assert data.empty
    assert "below 1 inhabitant" in rejects["reason"].iloc[0]


def test_optional_site_columns_refuse_text_nan():
    data, rejects = read_sites(
        pd.DataFrame({"site": ["A", "B"], "population": ["100", "200"],
                      "population_sd": ["NA", "20"]})
    )
    assert data["site"].tolist() == ["B"]
    assert rejects["column"].tolist() == ["population_sd"]


@pytest.mark.parametrize("cell", ["1e400", "NaN", "NA", "null", "<1e400"])
def test_samples_reject_overflow_and_text_nan(cell):
    text = SAMPLES_HEADER + f"A,2024-01-01,methamphetamine,{cell},ng/L,\n" + _sample_line(2)
    data, rejects = read_samples(_buffer(text))
    assert data["source_row"].tolist() == [3]
    assert rejects["source_row"].tolist() == [2] and rejects["column"].tolist() == ["value"]
    assert rejects["value"].iloc[0] == cell


def test_huge_number_cannot_overflow_through_a_unit_conversion():
    text = SAMPLES_HEADER + "A,2024-01-01,methamphetamine,1e305,mg/L,\n"  # x 1e6 -> inf
    data, rejects = read_samples(_buffer(text))
    assert data.empty
    assert "out of range" in rejects["reason"].iloc[0]


def test_quantified_value_below_its_own_loq_is_rejected():
    text = (
        "site,date,analyte,value,unit,loq\n"
        "A,2024-01-01,methamphetamine,0.3,ng/L,0.5\n"
        "A,2024-01-02,methamphetamine,0.5,ng/L,0.5\n"  # at the LOQ: quantified, kept
        "A,2024-01-03,methamphetamine,<LOQ,ng/L,0.5\n"
        "A,2024-01-04,methamphetamine,0.0004,ug/L,0.5\n"  # 0.4 ng/L after conversion
    )
    data, rejects = read_samples(_buffer(text))
    assert data["source_row"].tolist() == [3, 4]
    assert rejects["source_row"].tolist() == [2, 5]
    assert all("below its own LOQ" in r for r in rejects["reason"])


def test_parsers_give_reasons_instead_of_nan_or_inf():
    values, reasons = parse_numbers(pd.Series(["1e400", "nan", "NULL", "1e-400", "5e-324", ""]))
    assert reasons.notna().tolist() == [True, True, True, True, False, False]
    assert values.isna().tolist() == [True, True, True, True, False, True]
    parsed = parse_censored(pd.Series(["inf", "1e400", "<1e400", "N/A", "<LOQ(0.5)"]))
    assert parsed["reason"].notna().tolist() == [True, True, True, True, False]
    assert not np.isinf(parsed["value"]).any() and not np.isinf(parsed["limit"]).any()


# --------------------------------------------------------------------------- raw exceptions


def test_reader_given_a_directory_raises_input_error(tmp_path):
    folder = tmp_path / "samples.csv"
    folder.mkdir()
    for reader in (read_samples, read_sites):
        with pytest.raises(InputError, match="folder"):
            reader(folder)
    with pytest.raises(InputError, match="folder"):
        read_flows(tmp_path, unit="m3/d")


@pytest.mark.parametrize("sites", [5, 2.5, object(), {"A": 1}, "sites.csv", [1.5]])
def test_non_table_sites_argument_raises_input_error(sites, tmp_path):
    text = "site,date,flow,unit\nA,2024-01-01,10,m3/d\n"
    with pytest.raises(InputError, match="sites="):
        read_flows(_buffer(text), sites=sites)
    with pytest.raises(InputError, match="sites="):
        read_samples(_buffer(SAMPLES_HEADER + _sample_line(1)), sites=sites)


def test_sites_as_a_path_object_raises_input_error(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text("site,population\nA,100\n")
    with pytest.raises(InputError, match="read_sites"):
        read_flows(_buffer("site,date,flow,unit\nA,2024-01-01,10,m3/d\n"), sites=path)


def test_source_of_a_wrong_type_raises_input_error():
    with pytest.raises(InputError, match="expected a file path"):
        read_samples(12345)


def test_buffer_with_a_name_is_labelled_by_it(tmp_path):
    path = tmp_path / "flows.csv"
    path.write_text("site,date,flow,unit\nA,2024-01-01,abc,m3/d\n")
    with path.open("rb") as handle:
        _, rejects = read_flows(handle)
    assert rejects["source_file"].tolist() == ["flows.csv"]


@pytest.mark.parametrize("skip_rows", [-1, "1", 1.5])
def test_bad_skip_rows_raises_input_error(skip_rows):
    with pytest.raises(InputError, match="skip_rows"):
        read_sites(_buffer("site,population\nA,100\n"), skip_rows=skip_rows)
