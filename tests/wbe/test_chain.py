"""Chain functions of wbe.chain: hand-worked examples and a published table.

Hand-worked numbers are computed on paper from the equations in the docstrings (sources
cited per test); the published table is in tests/wbe/reference/ (see README_backcalc.md).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from wbe import chain

REFERENCE = Path(__file__).parent / "reference"


def test_mass_load_hand_worked():
    """100 ng/L x 250,000 m³/day = 100e-6 mg/L x 250e6 L/day = 25,000 mg/day
    (Zuccato et al. 2008, Environ Health Perspect 116:1027, doi:10.1289/ehp.11022)."""
    assert chain.mass_load(100.0, 250_000.0) == pytest.approx(25_000.0, rel=1e-12)


def test_cocaine_correction_factor_is_zuccato_2_33():
    """CF(cocaine from BE) = (303.35/289.33)/0.45 = 2.33 as printed by Zuccato et al. 2008."""
    cf = chain.correction_factor(0.45, 303.35, 289.33)
    assert cf == pytest.approx(2.33, abs=0.005)


def test_hand_worked_chain_to_users_and_prevalence():
    """Full chain by hand: 500 ng/L, 100,000 m³/day -> 50,000 mg/day; CF 2.33 ->
    116,500 mg/day; 400,000 inh -> 291.25 mg/day/1000; 100 mg dose -> 2.9125 doses/day/1000;
    users at 1 dose/day = 1165, prevalence in 70 % aged 15-64 = 1165/280,000."""
    load = chain.mass_load(500.0, 100_000.0)
    cons = chain.consumption(load, 2.33)
    per1000 = chain.per_1000(cons, 400_000.0)
    assert load == pytest.approx(50_000.0, rel=1e-12)
    assert cons == pytest.approx(116_500.0, rel=1e-12)
    assert per1000 == pytest.approx(291.25, rel=1e-12)
    assert chain.doses(per1000, 100.0) == pytest.approx(2.9125, rel=1e-12)
    u = chain.users(cons, 100.0, 1.0)
    assert u == pytest.approx(1165.0, rel=1e-12)
    assert chain.prevalence(u, 400_000.0, 0.7) == pytest.approx(1165.0 / 280_000.0, rel=1e-12)


def test_stability_first_order():
    """After one half-life half is left: the correction doubles; after two, x4
    (first-order decay, McCall et al. 2016 Water Res 88:933, doi:10.1016/j.watres.2015.10.040)."""
    assert chain.stability_correction(10.0, 6.0, 6.0) == pytest.approx(20.0, rel=1e-12)
    assert chain.stability_correction(10.0, 6.0, 12.0) == pytest.approx(40.0, rel=1e-12)
    assert chain.stability_factor(math.inf, 8.0) == 1.0
    assert chain.stability_factor(5.0, 0.0) == 1.0


def test_sorption_correction():
    """20 % sorbed: the dissolved 80 mg/day are 80 % of 100 mg/day."""
    assert chain.sorption_correction(80.0, 0.2) == pytest.approx(100.0, rel=1e-12)
    assert chain.sorption_correction(80.0, 0.0) == 80.0


def test_non_abuse_corrections():
    """AMP from METH at the default 0.09; morphine minus codeine-derived and medical parts."""
    assert chain.amphetamine_from_methamphetamine(100.0, 1000.0) == pytest.approx(10.0)
    assert chain.amphetamine_from_methamphetamine(50.0, 1000.0) == 0.0
    got = chain.heroin_related_morphine(100.0, 300.0, codeine_to_morphine_ratio=0.1,
                                        therapeutic_morphine_mg_per_day=20.0)
    assert got == pytest.approx(50.0)
    with pytest.raises(TypeError):
        chain.heroin_related_morphine(100.0, 300.0)  # the ratio has no default


def test_broadcasts_over_numpy_pandas_xarray():
    conc = np.array([[10.0, 20.0], [30.0, 40.0]])
    flow = np.array([1000.0, 2000.0])
    np.testing.assert_allclose(chain.mass_load(conc, flow), conc * flow * 1e-3, rtol=1e-12)
    s = chain.mass_load(pd.Series([10.0, 20.0], index=["a", "b"]), 1000.0)
    assert isinstance(s, pd.Series) and list(s.index) == ["a", "b"]
    da = xr.DataArray([10.0, 20.0], dims="date")
    q = xr.DataArray([1000.0, 3000.0], dims="site")
    out = chain.mass_load(da, q)
    assert isinstance(out, xr.DataArray) and out.dims == ("date", "site")
    st = chain.stability_factor(xr.DataArray([5.0, np.inf], dims="biomarker"), 5.0)
    np.testing.assert_allclose(st.values, [2.0, 1.0], rtol=1e-12)


def test_published_korean_table():
    """Consumption = load / excretion: MA 43 %, COD 63.8 % (table footnotes). Table of 14
    South Korean WWTPs, very probably Kim et al. 2015 Sci Total Environ 524-525:440
    (doi:10.1016/j.scitotenv.2015.04.065; identity not verified, see README_backcalc.md).
    Printed to three significant digits: rtol=5e-3 plus half a unit of the last digit."""
    table = pd.read_csv(REFERENCE / "korea_ma_table.csv")
    ma = chain.consumption(table["ma_load_mg_per_day_per_1000"], 1.0 / 0.43)
    np.testing.assert_allclose(ma, table["ma_consumption_mg_per_day_per_1000"], rtol=5e-3,
                               atol=0.05)
    cod = table.dropna(subset=["cod_load_mg_per_day_per_1000"])
    got = chain.consumption(cod["cod_load_mg_per_day_per_1000"], 1.0 / 0.638)
    np.testing.assert_allclose(got, cod["cod_consumption_mg_per_day_per_1000"], rtol=5e-3,
                               atol=0.005)
