"""One unit-resolution rule for every reader: a header unit and ``unit=`` must agree (issue 15)."""

from __future__ import annotations

import pandas as pd
import pytest

from wbe.errors import UnitError
from wbe.io import read_samples
from wbe.lab.io import read_lab_results

KEY = "88327327a5326872ef160670a10ba60857c54aee457fa4763ac4b236dac637a0"  # random test key


def _lab(header: str = "浓度(ng/mg)") -> pd.DataFrame:
    return pd.DataFrame({"sample_id": ["A"], "name": ["x"], "analyte": ["METH"],
                         header: ["0.5"]})


def test_lab_header_and_argument_in_conflict_are_refused():
    with pytest.raises(UnitError, match=r"header says 'ng/mg' but unit='pg/mg'"):
        read_lab_results(_lab(), key=KEY, matrix="hair", unit="pg/mg")


def test_lab_header_and_argument_agreeing_is_fine():
    data, rejects = read_lab_results(_lab(), key=KEY, matrix="hair", unit="ng/mg")
    assert data["value"].tolist() == [0.5] and rejects.empty
    # another spelling of the same unit (1 µg/g = 1 ng/mg)
    data, _ = read_lab_results(_lab(), key=KEY, matrix="hair", unit="µg/g")
    assert data["value"].tolist() == [0.5]


def test_lab_header_unit_alone_converts():
    data, _ = read_lab_results(_lab("浓度(pg/mg)"), key=KEY, matrix="hair")
    assert data["value"].tolist() == [pytest.approx(0.0005)]


def test_wastewater_reader_applies_the_same_rule():
    frame = pd.DataFrame({"site": ["S1"], "sampled_on": ["2024-01-01"],
                          "biomarker": ["methamphetamine"], "浓度(ng/L)": ["10"],
                          "loq": ["1"]})
    with pytest.raises(UnitError, match=r"header says 'ng/L' but unit='ug/L'"):
        read_samples(frame, unit="ug/L")
