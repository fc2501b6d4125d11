"""Average run lengths and thresholds of the CUSUM and EWMA charts against R ``spc`` 0.6.7.

Reference numbers: ``tests/models/r/make_reference_arl.R`` -> ``arl_reference_grid.csv``:
``xcusum.arl`` (one-sided), ``xewma.arl`` (fixed limits; two-sided, and one-sided with the
reflecting barrier moved to -6 sigma_E, i.e. the upper chart of ``wbe.models.ewma``) on a
grid of designs and shifts, and ``xcusum.crit`` / ``xewma.crit`` for in-control ARLs of 100,
365 and 1000 (10 significant digits). spc solves the same integral equations by Nyström
quadrature; the methods are from Brook & Evans (1972), Crowder (1987).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wbe.errors import InputError, UnknownNameError
from wbe.models import cusum, cusum_arl, cusum_threshold, ewma_arl, ewma_threshold

GRID = pd.read_csv(Path(__file__).parent / "r" / "arl_reference_grid.csv")
ARL = GRID[GRID.kind == "arl"]
CRIT = GRID[GRID.kind == "crit"]


@pytest.mark.r_reference
def test_cusum_arl_matches_spc():
    rows = ARL[ARL.chart == "cusum"]
    got = [cusum_arl(r.k, r.h, r.shift) for r in rows.itertuples()]
    np.testing.assert_allclose(got, rows.value, rtol=1e-7)


@pytest.mark.r_reference
@pytest.mark.parametrize("sided", ["two", "upper"])
def test_ewma_arl_matches_spc(sided):
    rows = ARL[(ARL.chart == "ewma") & (ARL.sided == sided)]
    got = [ewma_arl(r["lambda"], r["L"], r["shift"], sided=sided) for _, r in rows.iterrows()]
    np.testing.assert_allclose(got, rows.value, rtol=1e-6)


@pytest.mark.r_reference
@pytest.mark.parametrize("target", [365.0])
def test_thresholds_match_spc_crit(target):
    rows = CRIT[CRIT.target == target]
    for _, r in rows.iterrows():
        if r.chart == "cusum":
            got = cusum_threshold(target, k=r.k)
        else:
            got = ewma_threshold(target, lam=r["lambda"], sided=r.sided)
        assert got == pytest.approx(r.value, rel=1e-6), dict(r)


def test_threshold_inverts_arl():
    h = cusum_threshold(1000.0, k=0.25)
    assert cusum_arl(0.25, h) == pytest.approx(1000.0, rel=1e-8)
    L = ewma_threshold(200.0, lam=0.1)
    assert ewma_arl(0.1, L) == pytest.approx(200.0, rel=1e-8)


def test_cusum_arl_agrees_with_simulated_chart():
    """The ARL function describes wbe's own chart: simulated zero-state run lengths."""
    rng = np.random.default_rng(20261205)
    n_runs, n_t, base = 400, 600, 28
    h = cusum_threshold(40.0, k=0.5)
    # a baseline with median 0 and 1.4826 MAD = 1 exactly (the chart then knows N(0, 1))
    baseline = np.tile(np.r_[-1.0, 1.0], base // 2)[None, :].repeat(n_runs, 0) * 0.6744897501960817
    z = rng.standard_normal((n_runs, n_t))
    res = cusum(np.exp(np.c_[baseline, z]), k=0.5, h=h, baseline=base)
    alarm = res["alarm"].to_numpy().reshape(n_runs, base + n_t)[:, base:]
    first = np.argmax(alarm, axis=1) + 1
    assert alarm.any(axis=1).all()
    assert first.mean() == pytest.approx(40.0, rel=0.12)


def test_bad_arguments():
    with pytest.raises(InputError):
        cusum_arl(0.5, -1.0)
    with pytest.raises(InputError):
        ewma_arl(1.5, 3.0)
    with pytest.raises(UnknownNameError):
        ewma_arl(0.2, 3.0, sided="lower")
    with pytest.raises(InputError):
        cusum_threshold(0.5)
