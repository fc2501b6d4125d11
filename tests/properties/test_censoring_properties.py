"""Property tests of censored samples (issue 12 item 1): with ``censoring="draw"`` a censored
day's interval contains every value the LOQ allows at the drawn parameters.

The comparison run is independent of the censored path: the same samples with the censored
value replaced by a quantified value equal to its LOQ share every parameter and measurement
draw (keyed draws, design convention 4), so its upper quantile is the largest value the LOQ
allows; the smallest is 0 (a concentration of 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from wbe import chain
from wbe.backcalc import COMPONENTS, back_calculate, summarize
from wbe.censoring import draw_censored_concentrations

LEVELS = (0.5, 0.8, 0.95)
VARIABLES = ["load_mg_per_day", "consumption_mg_per_day_per_1000", "doses_per_day_per_1000"]


def _tables(values, censored_day, loq, flow, population, residence):
    days = pd.date_range("2024-05-01", periods=len(values), freq="D")
    samples = pd.DataFrame({"site": "A", "sampled_on": days, "biomarker": "methamphetamine",
                            "concentration_ng_per_l": values, "loq_ng_per_l": loq,
                            "censored": False, "flow_m3_per_day": flow})
    samples.loc[censored_day, ["concentration_ng_per_l", "censored"]] = [np.nan, True]
    sites = pd.DataFrame({"site": ["A"], "population": [population],
                          "residence_time_h": [residence]})
    return samples, sites


@settings(max_examples=20, deadline=None)
@given(values=st.lists(st.floats(min_value=5.0, max_value=5e3), min_size=2, max_size=9),
       loq=st.floats(min_value=0.5, max_value=4.0),
       flow=st.floats(min_value=1e4, max_value=1e6),
       population=st.floats(min_value=1e4, max_value=5e6),
       residence=st.floats(min_value=0.0, max_value=20.0),
       uncertain=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_censored_interval_contains_every_value_the_loq_allows(values, loq, flow, population,
                                                               residence, uncertain, seed):
    censored_day = len(values) // 2
    samples, sites = _tables(values, censored_day, loq, flow, population, residence)
    off = None if uncertain else {c: None for c in COMPONENTS if c not in ("residence_time",
                                                                           "censoring")}
    kw = dict(parameters="default", n_draws=400, seed=seed, uncertainty=off)
    got = summarize(back_calculate(samples, sites, **kw), levels=LEVELS, variables=VARIABLES)
    at_loq = samples.assign(censored=False)
    at_loq.loc[censored_day, "concentration_ng_per_l"] = loq
    ref = summarize(back_calculate(at_loq, sites, **kw), levels=LEVELS, variables=VARIABLES)
    day = samples["sampled_on"].iloc[censored_day]
    g = got[got["date"] == day].set_index("variable")
    r = ref[ref["date"] == day].set_index("variable")
    assert g["censored"].all() and not r["censored"].any()
    for level in LEVELS:
        name = f"{100 * level:g}"
        assert (g[f"lower_{name}"] == 0.0).all()
        np.testing.assert_allclose(g[f"upper_{name}"], r[f"upper_{name}"], rtol=1e-9)
        assert (g["median"] <= r["upper_95"] * (1 + 1e-12)).all()
    if not uncertain:
        # nothing uncertain but the concentration: the interval is [0, value at the LOQ]
        expected = chain.mass_load(loq, flow)
        assert g.loc["load_mg_per_day", "upper_95"] >= expected * (1 - 1e-12)
        assert g.loc["load_mg_per_day", "lower_95"] == 0.0


@settings(max_examples=30, deadline=None)
@given(loq=st.floats(min_value=1e-3, max_value=1e4),
       mu=st.floats(min_value=-5.0, max_value=10.0),
       sigma=st.floats(min_value=0.05, max_value=3.0),
       u=st.lists(st.floats(min_value=1e-12, max_value=1.0 - 1e-12), min_size=1, max_size=20))
def test_censored_draws_lie_below_the_loq_and_increase_with_u(loq, mu, sigma, u):
    u = np.sort(np.asarray(u))
    for fit in ((None, None), (mu, sigma)):
        c = draw_censored_concentrations(np.array([loq]), u[None, :], *(
            None if f is None else np.array([f]) for f in fit))[0]
        assert (c >= 0).all() and (c <= loq).all()
        assert (np.diff(c) >= -1e-12 * loq).all()
