"""Property tests of the back-calculation chain (wbe.chain) and of back_calculate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wbe import chain
from wbe.backcalc import back_calculate

positive = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)
factor = st.floats(min_value=0.01, max_value=100.0)


@given(positive, positive, factor)
def test_load_is_linear_in_flow_and_concentration(conc, flow, k):
    base = chain.mass_load(conc, flow)
    np.testing.assert_allclose(chain.mass_load(k * conc, flow), k * base, rtol=1e-12)
    np.testing.assert_allclose(chain.mass_load(conc, k * flow), k * base, rtol=1e-12)


@given(positive, positive, factor)
def test_population_times_k_divides_per_1000_by_k(value, population, k):
    np.testing.assert_allclose(chain.per_1000(value, k * population),
                               chain.per_1000(value, population) / k, rtol=1e-12)


@given(positive, positive, st.floats(min_value=0.5, max_value=500.0),
       st.floats(min_value=0.1, max_value=1e4), st.floats(min_value=0.0, max_value=48.0))
def test_consumption_monotone_in_concentration_and_never_negative(c, dc, cf, half, t):
    def cons(x):
        return chain.consumption(chain.stability_correction(chain.mass_load(x, 1e5), half, t),
                                 cf)
    assert cons(c) >= 0
    assert cons(c + dc) >= cons(c)


@given(positive, positive, st.floats(min_value=0.0, max_value=1.0))
def test_non_abuse_corrections_never_negative_nor_above_total(amp, meth, ratio):
    out = chain.amphetamine_from_methamphetamine(amp, meth, ratio)
    assert 0.0 <= out <= amp


#: Concentrations [ng/L]: an exact zero, or any value from 1e-200 (far below any
#: LC-MS/MS limit of quantification, ~0.1-10 ng/L) to 10 ug/L, so that every intermediate
#: product of the chain is a normal double. Below ~1e-300 the products are subnormal
#: floats, which carry fewer than 53 significant bits: "scales to rtol=1e-9" is not a
#: statement floating point can keep there (5e-324 is the smallest positive double and
#: every result from it is rounded to a multiple of itself). That range is covered by
#: ``test_back_calculate_underflowing_concentrations`` with the matching absolute
#: tolerance instead.
REAL_CONCENTRATION = st.one_of(st.just(0.0), st.floats(min_value=1e-200, max_value=1e4))
TINY = float(np.finfo(float).tiny)  # smallest normal double, 2.2e-308


def _scaled_pair(conc, flow, k, seed, draws):
    n = len(conc)
    samples = pd.DataFrame({"site": "A", "sampled_on": pd.date_range("2024-01-01", periods=n),
                            "biomarker": "methamphetamine", "concentration_ng_per_l": conc,
                            "flow_m3_per_day": flow})
    sites = pd.DataFrame({"site": ["A"], "population": [1e5], "population_sd": [1e4]})
    a = back_calculate(samples, sites, n_draws=draws, seed=seed)
    b = back_calculate(samples, sites.assign(population=k * 1e5, population_sd=k * 1e4),
                       n_draws=draws, seed=seed)
    return a, b


# deadline=None: one example is two full back_calculate runs (~0.1 s each, several times
# that on a loaded CI machine); the time says nothing about the property. 25 draws: the
# assertions hold draw by draw, so more draws only repeat the same check.
@settings(max_examples=20, deadline=None)
@given(st.lists(REAL_CONCENTRATION, min_size=1, max_size=4),
       st.floats(min_value=1e3, max_value=1e6), factor, st.integers(0, 2**32))
def test_back_calculate_draws_scale_and_stay_non_negative(conc, flow, k, seed):
    """Doubling every population halves every per-1000 draw (same keyed draws); no draw
    is ever negative, whatever the concentrations."""
    a, b = _scaled_pair(conc, flow, k, seed, draws=25)
    var = "consumption_mg_per_day_per_1000"
    np.testing.assert_allclose(b[var].values, a[var].values / k, rtol=1e-9)
    for v in ("load_mg_per_day", var, "doses_per_day_per_1000"):
        assert (a[v].values >= 0).all()


@pytest.mark.parametrize("conc", [5e-324, 1e-320, 1e-315, 2.2e-308, 1e-300])
@pytest.mark.parametrize("k", [0.01, 0.5, 100.0])
def test_back_calculate_underflowing_concentrations(conc, k):
    """Concentrations whose products underflow (5e-324 is the smallest positive double):
    every draw is finite and non-negative, results stay below a few smallest normal
    doubles (nothing is inflated by the loss of precision), and the population scaling
    holds up to that absolute precision (``atol`` = the smallest normal double)."""
    a, b = _scaled_pair([conc, 0.0], 1e6, k, 3, draws=25)
    var = "consumption_mg_per_day_per_1000"
    for ds in (a, b):
        for v in ("load_mg_per_day", var, "doses_per_day_per_1000"):
            values = ds[v].values
            assert np.isfinite(values).all() and (values >= 0).all()
    assert (a[var].values <= 1e6 * max(conc, TINY)).all()
    np.testing.assert_allclose(b[var].values, a[var].values / k, rtol=1e-9, atol=TINY)
    assert (a[var].isel(date=1).values == 0).all()  # the true zero stays exactly zero
    assert (a[var].isel(date=0).values > 0).any() or conc < 1e-310  # tiny, not zeroed
