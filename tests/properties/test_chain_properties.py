"""Property tests of the back-calculation chain (wbe.chain) and of back_calculate."""

from __future__ import annotations

import numpy as np
import pandas as pd
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


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=1e4), min_size=1, max_size=4),
       st.floats(min_value=1e3, max_value=1e6), factor, st.integers(0, 2**32))
def test_back_calculate_draws_scale_and_stay_non_negative(conc, flow, k, seed):
    """Doubling every population halves every per-1000 draw (same keyed draws); no draw
    is ever negative, whatever the concentrations."""
    n = len(conc)
    samples = pd.DataFrame({"site": "A", "sampled_on": pd.date_range("2024-01-01", periods=n),
                            "biomarker": "methamphetamine", "concentration_ng_per_l": conc,
                            "flow_m3_per_day": flow})
    sites = pd.DataFrame({"site": ["A"], "population": [1e5], "population_sd": [1e4]})
    a = back_calculate(samples, sites, n_draws=50, seed=seed)
    b = back_calculate(samples, sites.assign(population=k * 1e5, population_sd=k * 1e4),
                       n_draws=50, seed=seed)
    var = "consumption_mg_per_day_per_1000"
    np.testing.assert_allclose(b[var].values, a[var].values / k, rtol=1e-9)
    for v in ("load_mg_per_day", var, "doses_per_day_per_1000"):
        assert (a[v].values >= 0).all()
