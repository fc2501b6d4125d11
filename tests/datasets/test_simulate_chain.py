"""The simulator's forward chain is the inverse of :mod:`wbe.chain` (one chain, issue 15)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from wbe import chain
from wbe.datasets import simulate

#: one stable and one unstable biomarker (half-life 20 h: an illustrative value, not a registry
#: parameter), so that the stability correction is exercised
PARAMETERS = pd.DataFrame({
    "biomarker": ["methamphetamine", "benzoylecgonine"],
    "drug": ["methamphetamine", "cocaine"],
    "excretion_fraction": [0.39, 0.45],
    "correction_factor": [2.56, 2.33],
    "half_life_h": [np.inf, 20.0],
    "molar_mass_g_per_mol": [149.24, 289.33],
    "parent_molar_mass_g_per_mol": [149.24, 303.36],
})


def _city(**kw):
    return simulate(seed=11, n_sites=3, days=20, lab=False, measurement_error=False,
                    biomarkers=["methamphetamine", "benzoylecgonine"], parameters=PARAMETERS,
                    **kw)


def test_chain_applied_to_the_simulated_truth_recovers_consumption():
    city = _city()
    t = city.truth
    load = chain.mass_load(t["concentration_ng_per_l"], t["flow_m3_per_day"])
    np.testing.assert_allclose(load, t["load_mg_per_day"], rtol=1e-12)
    at_source = chain.stability_correction(load, t["half_life_h"], t["residence_time_h"])
    np.testing.assert_allclose(at_source, t["excreted_load_mg_per_day"], rtol=1e-12)
    used = chain.consumption(at_source, t["correction_factor"])
    np.testing.assert_allclose(used, t["consumption_mg_per_day"], rtol=1e-12)
    np.testing.assert_allclose(chain.per_1000(used, t["population"]),
                               t["consumption_mg_per_day_per_1000"], rtol=1e-12)


def test_unstable_biomarker_loses_load_in_sewer():
    t = _city().truth
    be = t[t["biomarker"] == "benzoylecgonine"]
    assert (be["load_mg_per_day"] < be["excreted_load_mg_per_day"]).all()
    meth = t[t["biomarker"] == "methamphetamine"]
    np.testing.assert_array_equal(meth["load_mg_per_day"], meth["excreted_load_mg_per_day"])
