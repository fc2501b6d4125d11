"""Regression tests of issue 14 for the entry of :func:`wbe.lab.io.read_lab_results`:
buffers, folders, dates outside the datetime64[ns] range, future dates, text NaN and
overflowing numbers, and quantified subject results below their own LOQ.

Each test failed on the code before the fix (``TypeError`` for a ``BytesIO``,
``IsADirectoryError``, ``OutOfBoundsDatetime``, or NaN/inf kept without a reason).
"""

from __future__ import annotations

import io

import numpy as np
import pytest

from wbe.errors import ImplausibleValueWarning, InputError
from wbe.lab.io import read_lab_results

KEY = "9f3c1a7e5b2d48c6a0e4f7b19d8c2e6a5f1b3d7c9e0a2b4c"
HEADER = "sample_id,subject_id,analyte,value,unit,matrix,loq,collected_on,sample_type\n"


def _line(sample: str, value: str = "1.2", *, loq: str = "", day: str = "2024-03-05",
          stype: str = "") -> str:
    return f"{sample},P-{sample},methamphetamine,{value},ng/mg,hair,{loq},{day},{stype}\n"


def test_bytesio_reads_like_the_same_file(tmp_path):
    text = HEADER + _line("H1") + _line("H2", "abc")
    path = tmp_path / "batch7.csv"
    path.write_text(text, encoding="utf-8")
    from_file = read_lab_results(path, key=KEY)
    from_buffer = read_lab_results(io.BytesIO(text.encode("utf-8")), key=KEY,
                                   file_label="batch7.csv")
    assert from_buffer.data.drop(columns="batch").equals(from_file.data.drop(columns="batch"))
    assert from_buffer.rejects.equals(from_file.rejects)
    unnamed = read_lab_results(io.BytesIO(text.encode("utf-8")), key=KEY)
    assert unnamed.source == "<buffer>"
    assert unnamed.data["sample_id"].tolist() == ["H1"]


def test_folder_raises_input_error(tmp_path):
    folder = tmp_path / "results.csv"
    folder.mkdir()
    with pytest.raises(InputError, match="folder"):
        read_lab_results(folder, key=KEY)


@pytest.mark.parametrize("cell", ["9999-12-31", "0001-01-01", "2958465"])
def test_out_of_range_collection_dates_are_rejected(cell):
    text = HEADER + _line("H1", day=cell) + _line("H2")
    data, rejects = read_lab_results(io.BytesIO(text.encode()), key=KEY)
    assert data["sample_id"].tolist() == ["H2"]
    assert rejects["column"].tolist() == ["collected_on"]
    assert "outside the supported range" in rejects["reason"].iloc[0]


def test_future_collection_date_warns_and_keeps_the_row():
    text = ("样品编号,身份证号,检测物质,结果,单位,检材,采样日期\n"
            "H1,P1,甲基苯丙胺,1.2,ng/mg,毛发,2199-07-01\n")
    with pytest.warns(ImplausibleValueWarning) as caught:
        data, _ = read_lab_results(io.BytesIO(text.encode()), key=KEY, file_label="b.csv")
    message = str(caught[0].message)
    assert "'b.csv'" in message and "'采样日期'" in message and "row 2 (2199-07-01)" in message
    assert len(data) == 1


@pytest.mark.parametrize("cell", ["NaN", "null", "None", "1e400", "<1e400"])
def test_text_nan_and_overflow_are_rejected_with_a_reason(cell):
    text = HEADER + _line("H1", cell) + _line("H2")
    data, rejects = read_lab_results(io.BytesIO(text.encode()), key=KEY)
    assert data["sample_id"].tolist() == ["H2"]
    assert np.isfinite(data["value"]).all()
    assert rejects["source_row"].tolist() == [2] and rejects["column"].tolist() == ["value"]


def test_text_nan_loq_is_rejected():
    text = HEADER + _line("H1", loq="NaN") + _line("H2")
    data, rejects = read_lab_results(io.BytesIO(text.encode()), key=KEY)
    assert data["sample_id"].tolist() == ["H2"]
    assert rejects["column"].tolist() == ["loq"]


def test_quantified_subject_result_below_its_own_loq_is_rejected():
    text = (HEADER + _line("H1", "0.01", loq="0.02") + _line("H2", "0.02", loq="0.02")
            + _line("Q1", "0.01", loq="0.02", stype="QC") + _line("H3", "<0.02"))
    data, rejects = read_lab_results(io.BytesIO(text.encode()), key=KEY)
    assert sorted(data["sample_id"]) == ["H2", "H3", "Q1"]
    assert rejects["source_row"].tolist() == [2]
    assert "below its own LOQ" in rejects["reason"].iloc[0]


def test_empty_sample_type_cell_is_a_subject_sample():
    # pandas 3 infers a str dtype in Series.map, which turned an empty cell into NaN
    # instead of the default "unknown" (subject sample)
    text = HEADER + _line("H1", "0.5") + _line("Q1", "0.5", stype="QC")
    data, rejects = read_lab_results(io.BytesIO(text.encode()), key=KEY)
    assert data.set_index("sample_id")["sample_type"].to_dict() == {"H1": "unknown",
                                                                     "Q1": "qc"}
    assert len(rejects) == 0
