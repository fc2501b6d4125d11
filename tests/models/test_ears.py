"""EARS C1/C2/C3 against R surveillance 1.20.3 ``earsC`` (tests/models/r/make_reference_ears.R).

Reference: the R script runs ``earsC`` on ``salmonella.agona`` and ``campyDE`` (datasets
shipped with R surveillance), a simulated wastewater series (``wastewater_series.csv``, made
by ``make_wastewater_series.py`` from :func:`wbe.datasets.simulate`) and a hand-made sparse
count series, for the default control and two variants; it writes 12 significant digits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wbe.errors import InputError, UnknownNameError
from wbe.models import ears

R_DIR = Path(__file__).parent / "r"


@pytest.fixture(scope="module")
def reference():
    inp = pd.read_csv(R_DIR / "ears_input.csv")
    ref = pd.read_csv(R_DIR / "ears_reference.csv")
    return inp, ref


def _cases():
    ref = pd.read_csv(R_DIR / "ears_reference.csv")
    return sorted(set(zip(ref.series, ref.config, ref.method, strict=True)))


@pytest.mark.r_reference
@pytest.mark.parametrize(("series", "config", "method"), _cases())
def test_ears_matches_r(reference, series, config, method):
    inp, ref = reference
    g = ref[(ref.series == series) & (ref.config == config) & (ref.method == method)]
    y = inp.loc[inp.series == series, "observed"].to_numpy(float)
    row = g.iloc[0]
    res = ears(y, method=method, baseline=int(row.baseline), alpha=float(row.alpha),
               min_sigma=float(row.min_sigma))
    pos = g.t.to_numpy() - 1
    # same monitored range as R's default (range=NULL)
    assert np.flatnonzero(res["upperbound"].notna().to_numpy() | res["alarm"].to_numpy()).min() \
        >= pos.min()
    assert res["upperbound"].iloc[: pos.min()].isna().all()
    np.testing.assert_allclose(res["upperbound"].to_numpy()[pos], g.upperbound.to_numpy(),
                               rtol=1e-9, atol=0, equal_nan=True)
    r_alarm = g.alarm.fillna(0).astype(bool).to_numpy()  # R NA (undefined C3) = no alarm
    np.testing.assert_array_equal(res["alarm"].to_numpy()[pos], r_alarm)


def test_ears_r_reference_has_alarms(reference):
    """The reference exercises alarms, zero-sd baselines (NaN in C3) and minSigma."""
    _, ref = reference
    assert ref.alarm.eq(1).sum() > 100
    assert ref.upperbound.isna().any()


def test_ears_vectorised_over_series_equals_loop(reference):
    inp, _ = reference
    y = inp.loc[inp.series == "campyDE", "observed"].to_numpy(float)
    mat = np.vstack([y, y[::-1], y * 2.0])
    for method in ("C1", "C2", "C3"):
        many = ears(mat, method=method)
        for i, row in enumerate(mat):
            one = ears(row, method=method)
            np.testing.assert_array_equal(many.xs(i, level=0)["upperbound"].to_numpy(),
                                          one["upperbound"].to_numpy())
            np.testing.assert_array_equal(many.xs(i, level=0)["alarm"].to_numpy(),
                                          one["alarm"].to_numpy())


def test_ears_hand_computed_c1():
    y = np.array([10, 12, 11, 9, 10, 13, 11, 30.0])
    res = ears(y, method="C1", alpha=0.001)
    base = y[:7]
    expected = base.mean() + 3.090232306167813 * base.std(ddof=1)
    assert res["upperbound"].iloc[7] == pytest.approx(expected, rel=1e-12)
    assert res["alarm"].tolist() == [False] * 7 + [True]
    assert res.attrs["method"] == "C1" and res.attrs["alpha"] == 0.001


def test_ears_series_index_and_range():
    idx = pd.date_range("2024-01-01", periods=20, name="date")
    s = pd.Series(np.arange(20.0) % 5 + 10, index=idx)
    res = ears(s, method="C2", r_range=[15, 20])
    assert res.index.equals(idx)
    assert res["upperbound"].notna().sum() == 2
    mask = np.zeros(20, bool)
    mask[14] = True
    assert ears(s, r_range=mask)["upperbound"].notna().sum() == 1


def test_ears_min_sigma_floor():
    y = np.r_[np.zeros(7), 1.0]
    assert ears(y, min_sigma=0.5)["upperbound"].iloc[7] == pytest.approx(0.5 * 3.090232306, 1e-9)
    assert bool(ears(y)["alarm"].iloc[7])  # sd 0: bound = mean = 0


def test_ears_bad_input():
    with pytest.raises(UnknownNameError, match="C1"):
        ears([1.0, 2.0], method="C4")
    with pytest.raises(ValueError):
        ears([1.0, 2.0], method="c1")
    with pytest.raises(InputError, match="range"):
        ears(np.ones(10), r_range=[0, 3])
    with pytest.raises(InputError, match="numbers"):
        ears(["a", "b"])
    with pytest.raises(InputError, match="baseline"):
        ears(np.ones(10), baseline=1)
