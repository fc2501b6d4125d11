"""One chain (issue 15 item 2, issue 12 item 4): back_calculate with every uncertainty switched
off is the composition of the public wbe.chain functions, and a parameter set has one
correction-factor specification.

The expected values are computed here from ``wbe.chain`` and the registry rows, not from
back_calculate's own kernel: CF = (M_parent / M_biomarker) / excretion fraction (Zuccato et
al. 2008, Environ Health Perspect 116:1027-1032, doi:10.1289/ehp.11022).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from wbe import chain, datasets
from wbe.backcalc import COMPONENTS, back_calculate

OFF = {c: None for c in COMPONENTS if c != "residence_time"}

#: excretion fractions, half-lives and doses chosen to exercise every step of the chain
PARAMS = pd.DataFrame(
    {
        "drug": ["methamphetamine", "cocaine", "heroin"],
        "excretion_fraction": [0.39, 0.45, 0.42],
        "excretion_fraction_sd": [0.0975, 0.1125, 0.105],
        "excretion_fraction_distribution": ["normal"] * 3,
        "half_life_h": [np.inf, 35.0, 8.0],
        "typical_dose_mg": [30.0, 100.0, 30.0],
        "doses_per_user_per_day": [2.0, 1.5, 3.0],
        "molar_mass_g_per_mol": [149.23, 289.33, 285.34],
        "parent_molar_mass_g_per_mol": [149.23, 303.36, 369.42],
    },
    index=pd.Index(["methamphetamine", "benzoylecgonine", "morphine"], name="biomarker"),
)


def _grid():
    concentrations = [0.3, 12.5, 480.0, 2.2e4]
    residence = {"S1": 0.0, "S2": 3.5, "S3": 17.0}
    population = {"S1": 5.3e4, "S2": 4.1e5, "S3": 3.9e6}
    reference = {"S1": 0.71, "S2": 0.66, "S3": 0.8}
    days = pd.date_range("2024-03-01", periods=len(concentrations), freq="D")
    rows = []
    for (k, day), site, biomarker in itertools.product(enumerate(days), residence, PARAMS.index):
        flow = 1e4 * (1 + k) * (1 + list(residence).index(site)) ** 2
        rows.append({"site": site, "sampled_on": day, "biomarker": biomarker,
                     "concentration_ng_per_l": concentrations[k] * (1 + 0.1 * len(biomarker)),
                     "flow_m3_per_day": flow})
    samples = pd.DataFrame(rows)
    sites = pd.DataFrame({"site": list(residence), "population": list(population.values()),
                          "residence_time_h": list(residence.values()),
                          "reference_fraction": list(reference.values())})
    return samples, sites


def _expected(samples, sites):
    s = samples.merge(sites, on="site").join(PARAMS, on="biomarker")
    load = chain.mass_load(s["concentration_ng_per_l"], s["flow_m3_per_day"])
    cf = chain.correction_factor(s["excretion_fraction"], s["parent_molar_mass_g_per_mol"],
                                 s["molar_mass_g_per_mol"])
    cons = chain.consumption(chain.stability_correction(load, s["half_life_h"],
                                                        s["residence_time_h"]), cf)
    per1000 = chain.per_1000(cons, s["population"])
    users = chain.users(cons, s["typical_dose_mg"], s["doses_per_user_per_day"])
    return s, {
        "load_mg_per_day": load,
        "consumption_mg_per_day": cons,
        "consumption_mg_per_day_per_1000": per1000,
        "doses_per_day_per_1000": chain.doses(per1000, s["typical_dose_mg"]),
        "users": users,
        "prevalence": chain.prevalence(users, s["population"], s["reference_fraction"]),
    }


@pytest.mark.parametrize("method", ["montecarlo", "analytic"])
def test_back_calculate_without_uncertainty_is_the_chain(method):
    samples, sites = _grid()
    ds = back_calculate(samples, sites, parameters=PARAMS, uncertainty=OFF, n_draws=3, seed=5,
                        method=method, censoring="loq/2", non_abuse=None)
    s, expected = _expected(samples, sites)
    for name, values in expected.items():
        da = ds[name]
        if "draw" in da.dims:
            # every draw is the point value when nothing is uncertain
            assert float(da.std("draw").max()) <= 1e-12 * float(da.max())
            da = da.isel(draw=0)
        got = da.sel(site=xr_index(s["site"]), date=xr_index(s["sampled_on"]),
                     biomarker=xr_index(s["biomarker"])).values
        np.testing.assert_allclose(got, values.to_numpy(), rtol=1e-12, atol=0, err_msg=name)


def xr_index(values):
    import xarray as xr

    return xr.DataArray(np.asarray(values), dims="cell")


def test_each_parameter_set_gives_one_cf_specification():
    long = datasets.load_biomarker_parameters()
    cf_rows = long[long["parameter"].isin(["excretion_fraction", "correction_factor"])]
    per_cell = cf_rows.groupby(["parameter_set", "biomarker"])["parameter"].nunique()
    assert (per_cell == 1).all(), per_cell[per_cell > 1]


@pytest.mark.parametrize("parameter_set", datasets.list_parameter_sets())
def test_cf_spec_is_the_chain_correction_factor(parameter_set):
    wide = datasets.biomarker_parameters(parameter_set)
    for biomarker, row in wide.iterrows():
        has_exc = pd.notna(row.get("excretion_fraction"))
        if not (has_exc or pd.notna(row.get("correction_factor"))):
            continue
        spec = datasets.correction_factor_spec(row, biomarker)
        if has_exc and pd.notna(row["molar_mass_g_per_mol"]):
            assert spec.source == "excretion_fraction"
            expected = chain.correction_factor(row["excretion_fraction"],
                                               row["parent_molar_mass_g_per_mol"],
                                               row["molar_mass_g_per_mol"])
        else:
            assert spec.source == "correction_factor"
            expected = row["correction_factor"]
        assert spec.value == pytest.approx(expected, rel=1e-12)


def test_default_methamphetamine_cf_range_is_the_excretion_fraction_range():
    """Issue 12: the default set carried CF 2.56 +- 0.64 beside 0.39 +- 0.0975 excretion.
    Now the only specification is the excretion fraction: its 2.5/97.5 % points map to the
    CF's 97.5/2.5 % points."""
    row = datasets.biomarker_parameters("default").loc["methamphetamine"]
    spec = datasets.correction_factor_spec(row)
    assert pd.isna(row.get("correction_factor", np.nan))
    f = spec.distribution
    lo, hi = spec.from_draws(f.ppf(0.975)), spec.from_draws(f.ppf(0.025))
    assert lo == pytest.approx(1.0 / (0.39 + 1.959964 * 0.0975), rel=1e-5)
    assert hi == pytest.approx(1.0 / (0.39 - 1.959964 * 0.0975), rel=1e-3)


def test_row_distribution_bounds_and_missing():
    row = {"excretion_fraction": 0.9, "excretion_fraction_sd": 0.5,
           "excretion_fraction_distribution": "normal"}
    d = datasets.row_distribution(row, "excretion_fraction")
    assert d.support() == pytest.approx((0.0, 1.0))
    assert datasets.row_distribution({}, "half_life_h", missing=np.inf) == np.inf
    assert np.isnan(datasets.row_distribution({}, "typical_dose_mg"))
