"""``back_calculate`` refuses bad arguments with an InputError, never a raw traceback."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wbe.backcalc import back_calculate
from wbe.errors import InputError

SAMPLES = pd.DataFrame({"site": ["A"], "sampled_on": ["2024-01-01"],
                        "biomarker": ["methamphetamine"], "concentration_ng_per_l": [100.0],
                        "flow_m3_per_day": [200_000.0]})
SITES = pd.DataFrame({"site": ["A"], "population": [500_000.0]})


def test_empty_samples_table():
    with pytest.raises(InputError, match="samples table has no rows") as info:
        back_calculate(SAMPLES.iloc[:0], SITES, n_draws=10, seed=1)
    assert info.value.file == "samples"


@pytest.mark.parametrize("seed", ["x", "42", 1.5, 2.0, True, [1], object()])
def test_seed_that_is_not_a_whole_number(seed):
    with pytest.raises(InputError, match="seed must be a whole number") as info:
        back_calculate(SAMPLES, SITES, n_draws=10, seed=seed)
    assert info.value.column == "seed"


@pytest.mark.parametrize("seed", [0, 7, np.int64(7), 2**63 + 5, -3])
def test_integer_seeds_accepted(seed):
    ds = back_calculate(SAMPLES, SITES, n_draws=10, seed=seed)
    assert ds["load_mg_per_day"].sizes["draw"] == 10


def test_numpy_and_python_integer_seeds_give_the_same_draws():
    a = back_calculate(SAMPLES, SITES, n_draws=10, seed=7)
    b = back_calculate(SAMPLES, SITES, n_draws=10, seed=np.int64(7))
    np.testing.assert_array_equal(a["load_mg_per_day"].values, b["load_mg_per_day"].values)


@pytest.mark.parametrize("column", ["site", "biomarker"])
@pytest.mark.parametrize("blank", [None, np.nan, "", "  "])
def test_a_sample_without_site_or_biomarker_names_its_row(column, blank):
    samples = pd.concat([SAMPLES, SAMPLES.assign(sampled_on="2024-01-02")], ignore_index=True)
    samples[column] = samples[column].astype(object)
    samples.loc[1, column] = blank
    with pytest.raises(InputError, match=f"missing {column}") as info:
        back_calculate(samples, SITES, n_draws=10, seed=1)
    assert (info.value.file, info.value.row, info.value.column) == ("samples", 3, column)


def test_a_flow_row_without_site_names_its_row():
    flows = pd.DataFrame({"site": ["A", None], "date": ["2024-01-01", "2024-01-02"],
                          "flow_m3_per_day": [2e5, 2e5]})
    with pytest.raises(InputError, match="missing site") as info:
        back_calculate(SAMPLES.drop(columns="flow_m3_per_day"), SITES, flows, n_draws=10,
                       seed=1)
    assert (info.value.file, info.value.row, info.value.column) == ("flows", 3, "site")
