"""CUSUM and EWMA on standardised log values.

Checks: a hand-computed sequence (worked out below from the recursions of Page 1954 and
Roberts 1959), and in-control / shifted average run lengths from a short simulation against
R ``spc`` (Knoth) ``xcusum.arl`` / ``xewma.arl`` (``tests/models/r/make_reference_arl.R``,
``arl_reference.csv``): the same one-sided tabular CUSUM and the same EWMA with fixed
(asymptotic) limits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wbe.errors import InputError
from wbe.models import cusum, ewma

R_DIR = Path(__file__).parent / "r"
C = 1.0 / 1.482602218505602  # a baseline of logs +-C has median 0 and scaled MAD 1


def _with_unit_baseline(z: np.ndarray, baseline: int = 28) -> np.ndarray:
    """exp of [+-C baseline, z]: after standardisation the monitored z are unchanged."""
    n = z.shape[-1]
    base = np.tile([-C, C], baseline // 2)
    base = np.broadcast_to(base, (*z.shape[:-1], baseline))
    return np.exp(np.concatenate([base, z], axis=-1)), n


def test_cusum_hand_computed():
    z = np.array([0.2, 1.5, 2.0, -1.0, 3.0, 0.0, 2.9])
    y, _ = _with_unit_baseline(z)
    res = cusum(y, k=0.5, h=4.0)
    # S: 0 -> max(0, 0.2-0.5)=0 -> 1.0 -> 2.5 -> 1.0 -> 3.5 -> 3.0 -> 5.4 (alarm)
    np.testing.assert_allclose(res["statistic"].to_numpy()[28:],
                               [0.0, 1.0, 2.5, 1.0, 3.5, 3.0, 5.4], atol=1e-12)
    assert res["alarm"].to_numpy()[28:].tolist() == [False] * 6 + [True]
    # the bound is the value at which S_t would equal h: exp(h + k - S_{t-1}) (m=0, s=1)
    np.testing.assert_allclose(res["upperbound"].to_numpy()[28:],
                               np.exp(4.5 - np.array([0.0, 0.0, 1.0, 2.5, 1.0, 3.5, 3.0])),
                               rtol=1e-12)
    assert res["upperbound"].iloc[:28].isna().all()
    assert res.attrs["k"] == 0.5 and res.attrs["h"] == 4.0


def test_cusum_restarts_after_alarm_and_skips_nan():
    z = np.array([6.0, 1.0, np.nan, 1.0])
    y, _ = _with_unit_baseline(z)
    s = cusum(y)["statistic"].to_numpy()[28:]
    np.testing.assert_allclose(s, [5.5, 0.5, 0.5, 1.0], atol=1e-12)  # NaN: S carried over


def test_ewma_hand_computed():
    z = np.array([1.0, 2.0, 0.0, 3.0])
    y, _ = _with_unit_baseline(z)
    res = ewma(y, lam=0.5, limit_sd=1.0)
    # E: 0.5, 1.25, 0.625, 1.8125; limit 1.0 * sqrt(0.5/1.5) = 0.57735
    np.testing.assert_allclose(res["statistic"].to_numpy()[28:], [0.5, 1.25, 0.625, 1.8125],
                               atol=1e-12)
    assert res["alarm"].to_numpy()[28:].tolist() == [False, True, True, True]
    assert res.attrs["limit"] == pytest.approx(np.sqrt(1 / 3), rel=1e-12)


def _run_lengths(alarm: np.ndarray) -> np.ndarray:
    hit = alarm.any(axis=1)
    assert hit.all(), "simulate longer"
    return alarm.argmax(axis=1) + 1


@pytest.fixture(scope="module")
def arl_reference():
    return pd.read_csv(R_DIR / "arl_reference.csv")


@pytest.mark.r_reference
@pytest.mark.parametrize("row", range(4))
def test_arl_against_spc(arl_reference, row):
    """Zero-state ARL by simulation (1500 runs) within 8 % of spc's integral-equation ARL.

    EWMA: spc's two-sided chart, so the run ends when ``|statistic|`` exceeds the limit
    (``alarm`` itself is the upper side only).
    """
    ref = arl_reference.iloc[row]
    rng = np.random.default_rng(20240 + row)
    n_runs, n_t = 1500, int(ref["arl"] * 10) + 10
    z = rng.standard_normal((n_runs, n_t)) + ref["shift"]
    y, _ = _with_unit_baseline(z)
    if ref.chart == "cusum":
        res = cusum(y, k=ref["k"], h=ref["h"])
        alarm = res["alarm"].to_numpy().reshape(n_runs, -1)[:, 28:]
    else:
        res = ewma(y, lam=ref["lambda"], limit_sd=ref["L"])
        stat = res["statistic"].to_numpy().reshape(n_runs, -1)[:, 28:]
        alarm = np.abs(stat) > res.attrs["limit"]
    arl = _run_lengths(alarm).mean()
    assert arl == pytest.approx(ref["arl"], rel=0.08)


def test_vectorised_over_series():
    rng = np.random.default_rng(5)
    y = np.exp(rng.normal(size=(3, 60)))
    many = cusum(y)
    for i in range(3):
        np.testing.assert_array_equal(many.xs(i, level=0)["statistic"].to_numpy(),
                                      cusum(y[i])["statistic"].to_numpy())


def test_bad_input():
    with pytest.raises(InputError, match="> 0"):
        cusum(np.r_[np.ones(30), 0.0])
    with pytest.raises(InputError, match="spread"):
        cusum(np.ones(40))
    with pytest.raises(InputError, match="lam"):
        ewma(np.exp(np.arange(40.0) % 3), lam=0.0)
    with pytest.raises(InputError, match="baseline"):
        ewma(np.exp(np.arange(10.0) % 3), baseline=28)
