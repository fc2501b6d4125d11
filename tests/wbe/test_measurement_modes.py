"""Measurement uncertainty per sampling mode and population method (issue 12 item 3).

Expected log-scale sds are computed from the registry CVs with sigma^2 = ln(1 + CV^2)
(Limpert et al. 2001, BioScience 51:341-352), independently of the kernel.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from wbe.backcalc import back_calculate
from wbe.datasets import load_measurement_modes
from wbe.errors import UnknownNameError

CV = load_measurement_modes().set_index(["component", "mode"])["cv"]


def _tables(modes=("time-proportional", None), methods=(None, "design")):
    samples = pd.DataFrame({"site": ["A", "B"], "sampled_on": ["2024-01-01"] * 2,
                            "biomarker": ["methamphetamine"] * 2,
                            "concentration_ng_per_l": [80.0, 120.0],
                            "flow_m3_per_day": [1e5, 2e5]})
    sites = pd.DataFrame({"site": ["A", "B"], "population": [2e5, 4e5],
                          "sampling_mode": list(modes), "population_method": list(methods)})
    return samples, sites


def _sigma2(cv):
    return math.log1p(cv**2)


def test_load_log_sd_follows_the_sampling_mode_in_closed_form():
    samples, sites = _tables()
    ds = back_calculate(samples, sites, method="analytic", parameters="default",
                        uncertainty={"population": None, "correction_factor": None})
    analysis, flow = _sigma2(0.10), _sigma2(0.10)  # measurement_uncertainty.csv
    expected = {"A": math.sqrt(_sigma2(CV["sampling", "time-proportional"]) + analysis + flow),
                "B": math.sqrt(_sigma2(CV["sampling", "flow-proportional"]) + analysis + flow)}
    sd = ds["load_mg_per_day_log_sd"].squeeze("biomarker").isel(date=0).to_series()
    assert sd["A"] == pytest.approx(expected["A"], rel=1e-12)
    assert sd["B"] == pytest.approx(expected["B"], rel=1e-12)


def test_monte_carlo_sampling_mode_and_population_method():
    samples, sites = _tables()
    ds = back_calculate(samples, sites, n_draws=20000, seed=4, parameters="default")
    log_load = np.log(ds["load_mg_per_day"].isel(date=0, biomarker=0))
    analysis, flow = _sigma2(0.10), _sigma2(0.10)
    assert float(log_load.sel(site="A").std()) == pytest.approx(
        math.sqrt(_sigma2(0.30) + analysis + flow), rel=0.03)
    # population draws P_k = 1000 M / M_1000
    cons = ds["consumption_mg_per_day"].isel(date=0, biomarker=0)
    pop = 1000.0 * cons / ds["consumption_mg_per_day_per_1000"].isel(date=0, biomarker=0)
    cv = (pop.std("draw") / pop.mean("draw")).to_series()
    # normal truncated at 0: CV 0.40 becomes about 0.39; census CV 0.20 is unaffected
    assert cv["B"] == pytest.approx(CV["population", "design"], abs=0.02)
    assert cv["A"] == pytest.approx(CV["population", "census"], abs=0.01)
    dists = ds.attrs["component_distributions"]
    assert "time-proportional" in dists and "design" in dists


def test_unknown_sampling_mode_names_row_and_valid_modes():
    samples, sites = _tables(modes=("composite-ish", None))
    with pytest.raises(UnknownNameError, match="flow-proportional") as err:
        back_calculate(samples, sites, n_draws=10, seed=1)
    assert "sampling_mode" in str(err.value)


def test_mode_spelling_is_normalised_and_blank_means_the_default():
    samples, sites = _tables(modes=("Time Proportional", ""), methods=("", "nh4n"))
    ds = back_calculate(samples, sites, method="analytic", parameters="default",
                        uncertainty={"population": None, "correction_factor": None})
    sd = ds["load_mg_per_day_log_sd"].isel(date=0, biomarker=0).to_series()
    assert sd["A"] > sd["B"]
