"""Model uncertainty across published parameter sets (issue 12 item 2): parameters="mixture".

Expected values: MDMA excretion 0.225 (Gracia-Lor et al. 2016, doi:10.1016/j.scitotenv.2016.09.179)
and 0.65 (Zuccato et al. 2008, doi:10.1289/ehp.11022); CF = (M_parent/M_biomarker)/f, and
MDMA is its own biomarker, so CF = 1/f: 4.44 and 1.54.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wbe.backcalc import COMPONENTS, back_calculate, summarize
from wbe.datasets import load_parameter_mixtures
from wbe.errors import InputError

MEASURED_OFF = {c: None for c in ("sampling", "chemical_analysis", "flow", "population")}


def _one_day(biomarker="mdma"):
    samples = pd.DataFrame({"site": ["A"], "sampled_on": ["2024-01-01"],
                            "biomarker": [biomarker], "concentration_ng_per_l": [50.0],
                            "flow_m3_per_day": [1e5]})
    sites = pd.DataFrame({"site": ["A"], "population": [2e5]})
    return samples, sites


def _cf_draws(ds):
    return (ds["consumption_mg_per_day"] / ds["load_mg_per_day"]).squeeze().values


def test_mixture_draws_each_set_with_its_weight():
    samples, sites = _one_day()
    ds = back_calculate(samples, sites, n_draws=4000, seed=11, uncertainty=MEASURED_OFF)
    cf = _cf_draws(ds)
    weights = load_parameter_mixtures("mixture").query("biomarker == 'mdma'").set_index(
        "parameter_set")["weight"]
    # the two modes (1/0.65 = 1.54 and 1/0.225 = 4.44, each with 25 % relative SD) separate
    # at 2.6; binomial sd of the share with 4000 draws is 0.008
    assert np.mean(cf < 2.6) == pytest.approx(weights["zuccato2008"], abs=0.04)
    assert np.median(cf[cf < 2.6]) == pytest.approx(1 / 0.65, rel=0.05)
    assert np.median(cf[cf > 2.6]) == pytest.approx(1 / 0.225, rel=0.05)


def test_mixture_interval_covers_both_published_values_one_set_does_not():
    samples, sites = _one_day()
    kw = dict(n_draws=2000, seed=3, uncertainty=MEASURED_OFF)
    load = 50.0 * 1e5 * 1e-3
    truths = {"gracia-lor2016": load / 0.225, "zuccato2008": load / 0.65}
    mix = summarize(back_calculate(samples, sites, **kw), variables=["consumption_mg_per_day"])
    one = summarize(back_calculate(samples, sites, parameters="default", **kw),
                    variables=["consumption_mg_per_day"])
    for truth in truths.values():
        assert mix["lower_95"].item() <= truth <= mix["upper_95"].item()
    assert not one["lower_95"].item() <= truths["zuccato2008"] <= one["upper_95"].item()
    assert not mix["conditional_on_one_set"].item()
    assert one["conditional_on_one_set"].item()
    assert mix["parameter_sets"].item() == "default 0.5 | zuccato2008 0.5"
    assert one["parameter_sets"].item() == "default"


def test_biomarker_outside_the_mixture_is_conditional_on_the_default_set():
    samples, sites = _one_day("codeine")
    ds = back_calculate(samples, sites, n_draws=50, seed=1)
    assert bool(ds["conditional_on_one_set"].item())
    assert ds.attrs["parameter_set"] == "mixture"


def test_mapping_of_sets_to_weights_and_bad_weights():
    samples, sites = _one_day()
    ds = back_calculate(samples, sites, n_draws=3000, seed=5, uncertainty=MEASURED_OFF,
                        parameters={"gracia-lor2016": 3, "zuccato2008": 1})
    cf = _cf_draws(ds)
    # both sets are fixed values: a two-point distribution with weights 3/4 and 1/4
    assert set(np.round(cf, 6)) == {round(1 / 0.225, 6), round(1 / 0.65, 6)}
    assert np.mean(np.isclose(cf, 1 / 0.65)) == pytest.approx(0.25, abs=0.03)
    assert ds.attrs["parameter_set"] == "mixture(gracia-lor2016 3, zuccato2008 1)"
    with pytest.raises(InputError, match="weight"):
        back_calculate(samples, sites, n_draws=10, seed=1, parameters={"default": -1})


def test_mixture_without_uncertainty_is_a_point_mixture_and_analytic_refuses_it():
    samples, sites = _one_day()
    off = {c: None for c in COMPONENTS if c not in ("residence_time", "censoring")}
    cf = _cf_draws(back_calculate(samples, sites, n_draws=400, seed=2, uncertainty=off))
    np.testing.assert_allclose(sorted(set(np.round(cf, 9))),
                               [round(1 / 0.65, 9), round(1 / 0.225, 9)])
    with pytest.raises(InputError, match="correction_factor"):
        back_calculate(samples, sites, method="analytic", uncertainty=MEASURED_OFF)
