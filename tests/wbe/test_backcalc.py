"""wbe.back_calculate, summarize and uncertainty_budget.

References: the published Korean table and the R log-normal quantiles in
tests/wbe/reference/ (README_backcalc.md); keyed-draw invariances follow docs/conventions.md
convention 4.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from wbe.backcalc import back_calculate, summarize, uncertainty_budget
from wbe.datasets import lognormal_from_cv
from wbe.errors import ImplausibleValueWarning, InputError, UnknownNameError

REFERENCE = Path(__file__).parent / "reference"

#: a registry-like wide table (same columns as wbe.datasets.biomarker_parameters)
PARAMS = pd.DataFrame(
    {
        "drug": ["methamphetamine", "amphetamine", "ketamine", "cocaine"],
        "correction_factor": [2.56, 2.78, 5.0, 2.33],
        "correction_factor_sd": [0.64, 0.695, 1.25, 0.61],
        "correction_factor_distribution": ["normal"] * 4,
        "half_life_h": [np.inf, np.inf, np.inf, np.inf],
        "typical_dose_mg": [30.0, 30.0, 50.0, 100.0],
        "doses_per_user_per_day": [2.0, 2.0, 2.0, 2.0],
        "molar_mass_g_per_mol": [149.23, 135.21, 237.72, 289.33],
        "parent_molar_mass_g_per_mol": [149.23, 135.21, 237.72, 303.35],
    },
    index=pd.Index(["methamphetamine", "amphetamine", "ketamine", "benzoylecgonine"],
                   name="biomarker"),
)

NO_UNCERTAINTY = {c: None for c in ("sampling", "chemical_analysis", "flow", "population")}
NO_UNCERTAINTY.update({"correction_factor": None})


def _tables(n_sites=2, days=("2024-01-01", "2024-01-02"), biomarkers=("methamphetamine",
                                                                     "ketamine")):
    rng = np.random.default_rng(42)
    rows = []
    for i in range(n_sites):
        for d in days:
            for b in biomarkers:
                rows.append({"site": f"P{i}", "sampled_on": d, "biomarker": b,
                             "concentration_ng_per_l": float(rng.uniform(20, 200)),
                             "loq_ng_per_l": 5.0, "censored": False})
    samples = pd.DataFrame(rows)
    samples["source_row"] = np.arange(2, len(samples) + 2)
    flows = samples[["site", "sampled_on"]].drop_duplicates().rename(
        columns={"sampled_on": "date"}).reset_index(drop=True)
    flows["flow_m3_per_day"] = rng.uniform(5e4, 3e5, len(flows))
    flows["source_row"] = np.arange(2, len(flows) + 2)
    sites = pd.DataFrame({"site": [f"P{i}" for i in range(n_sites)],
                          "population": rng.uniform(2e5, 1e6, n_sites).round(-3),
                          "residence_time_h": 4.0})
    return samples, sites, flows


# ----------------------------------------------------------------------------- published


def test_published_korean_table_end_to_end():
    """Population and MA load per 1000 of 14 Korean WWTPs -> published MA consumption per
    1000 (excretion 43 %, CF = 1/0.43); table very probably Kim et al. 2015 Sci Total
    Environ 524-525:440 (README_backcalc.md). The table prints the per-1000 load only, so
    the load is split into concentration x flow with a flow of 100,000 m³/day (the split
    does not change the result). Uncertainty off: the draws are all equal to the point
    value. Three printed significant digits: rtol=5e-3, atol half a last digit."""
    t = pd.read_csv(REFERENCE / "korea_ma_table.csv")
    load = t["ma_load_mg_per_day_per_1000"] * t["population"] / 1000.0
    flow = 100_000.0
    samples = pd.DataFrame({"site": t["wwtp"], "sampled_on": "2013-12-10",
                            "biomarker": "methamphetamine",
                            "concentration_ng_per_l": load / flow / 1e-3,
                            "flow_m3_per_day": flow})
    sites = pd.DataFrame({"site": t["wwtp"], "population": t["population"]})
    params = PARAMS.loc[["methamphetamine"]].assign(correction_factor=1 / 0.43)
    ds = back_calculate(samples, sites, parameters=params, n_draws=3, seed=1,
                        uncertainty=NO_UNCERTAINTY)
    got = ds["consumption_mg_per_day_per_1000"].sel(biomarker="methamphetamine").isel(
        date=0).sel(site=t["wwtp"].tolist())
    assert float((got.max("draw") - got.min("draw")).max()) == 0.0
    np.testing.assert_allclose(got.isel(draw=0).values, t["ma_consumption_mg_per_day_per_1000"],
                               rtol=5e-3, atol=0.05)


def test_analytic_matches_r_reference():
    """Closed-form log-normal propagation vs R qlnorm (make_reference_lognormal.R)."""
    ref = pd.read_csv(REFERENCE / "lognormal_reference.csv")
    samples = pd.DataFrame({"site": ["A"], "sampled_on": ["2024-03-01"],
                            "biomarker": ["methamphetamine"],
                            "concentration_ng_per_l": [150.0], "flow_m3_per_day": [200_000.0]})
    sites = pd.DataFrame({"site": ["A"], "population": [400_000.0]})
    unc = {"correction_factor": lognormal_from_cv(0.64 / 2.56, mean=2.56),
           "population": lognormal_from_cv(0.2, mean=400_000.0)}
    ds = back_calculate(samples, sites, parameters=PARAMS, method="analytic",
                        uncertainty=unc)
    table = summarize(ds, levels=(0.5, 0.95))
    for variable, group in ref.groupby("variable"):
        row = table[table["variable"] == variable].iloc[0]
        q = dict(zip(group["probability"].round(3), group["quantile"], strict=True))
        got = [row["lower_95"], row["lower_50"], row["median"], row["upper_50"],
               row["upper_95"]]
        want = [q[0.025], q[0.25], q[0.5], q[0.75], q[0.975]]
        np.testing.assert_allclose(got, want, rtol=1e-9, err_msg=variable)


def test_montecarlo_agrees_with_analytic_at_100000_draws():
    """2.5 %, 50 % and 97.5 % quantiles within 2 % (issue 3, item 5)."""
    samples, sites, flows = _tables(n_sites=1, days=("2024-01-01",))
    unc = {"correction_factor": lognormal_from_cv(0.25, mean=2.56),
           "population": lognormal_from_cv(0.2, mean=float(sites["population"][0]))}
    params = PARAMS.assign(typical_dose_mg=30.0)
    mc = back_calculate(samples, sites, flows, parameters=params, n_draws=100_000, seed=3,
                        uncertainty=unc | {"correction_factor": {
                            "methamphetamine": unc["correction_factor"],
                            "ketamine": lognormal_from_cv(0.25, mean=5.0)}})
    an = back_calculate(samples, sites, flows, parameters=params, method="analytic",
                        uncertainty=unc | {"correction_factor": {
                            "methamphetamine": unc["correction_factor"],
                            "ketamine": lognormal_from_cv(0.25, mean=5.0)}})
    a = summarize(an).set_index(["variable", "biomarker"])
    m = summarize(mc).set_index(["variable", "biomarker"])
    for col in ("lower_95", "median", "upper_95"):
        np.testing.assert_allclose(m[col], a.loc[m.index, col], rtol=0.02, err_msg=col)


def test_analytic_names_non_lognormal_components():
    samples, sites, flows = _tables()
    with pytest.raises(InputError, match=r"population.*correction_factor"):
        back_calculate(samples, sites, flows, parameters=PARAMS, method="analytic")


# ------------------------------------------------------------------------ keyed draws


def test_adding_a_plant_and_reordering_change_nothing_bitwise():
    samples, sites, flows = _tables(n_sites=3)
    full = back_calculate(samples, sites, flows, parameters=PARAMS, n_draws=200, seed=11)
    keep = samples["site"] != "P2"
    part = back_calculate(samples[keep], sites[sites["site"] != "P2"],
                          flows[flows["site"] != "P2"], parameters=PARAMS, n_draws=200, seed=11)
    shuffled = samples.sample(frac=1.0, random_state=5)
    again = back_calculate(shuffled, sites.iloc[::-1], flows.iloc[::-1], parameters=PARAMS,
                           n_draws=200, seed=11)
    chunked = back_calculate(samples, sites, flows, parameters=PARAMS, n_draws=200, seed=11,
                             chunks=1)
    for var in ("load_mg_per_day", "consumption_mg_per_day_per_1000", "users"):
        a = full[var].sel(site=["P0", "P1"]).values
        assert np.array_equal(a, part[var].values, equal_nan=True), var
        assert np.array_equal(full[var].values, again[var].values, equal_nan=True), var
        assert np.array_equal(full[var].values, chunked[var].values, equal_nan=True), var


def test_dropping_days_and_censored_rows_elsewhere_change_no_draw_of_a_day():
    """The day number is in the draws' counter (wbe._draws): a day's per-sample and flow
    draws do not depend on which other days are in the call; censored samples of the same
    site-biomarker series are drawn per day as well."""
    days = ("2024-01-01", "2024-01-02", "2024-01-09", "2024-02-20")
    samples, sites, flows = _tables(n_sites=2, days=days)
    full = back_calculate(samples, sites, flows, parameters=PARAMS, n_draws=70, seed=4)
    keep = samples["sampled_on"].isin(days[1:3])
    part = back_calculate(samples[keep], sites, flows, parameters=PARAMS, n_draws=70, seed=4)
    for var in ("load_mg_per_day", "users"):
        np.testing.assert_array_equal(full[var].sel(date=list(days[1:3])).values,
                                      part[var].values)
    cens = samples.copy()
    cens.loc[cens["sampled_on"] == days[0], "censored"] = True
    a = back_calculate(cens, sites, flows, parameters=PARAMS, n_draws=70, seed=4)
    b = back_calculate(cens.sample(frac=1.0, random_state=3), sites, flows,
                       parameters=PARAMS, n_draws=70, seed=4)

    def by_sample(ds):  # censored samples come in input-row order: key them
        keys = zip(ds["censored_site"].values, ds["censored_date"].values,
                   ds["censored_biomarker"].values, strict=True)
        return dict(zip(keys, ds["censored_fraction_of_loq"].values.tolist(), strict=True))

    assert by_sample(a) == by_sample(b)
    assert len(np.unique(a["censored_fraction_of_loq"].values)) == a[
        "censored_fraction_of_loq"].size  # every censored sample and draw its own value


def test_chunked_result_is_lazy_and_summarizes_identically():
    pytest.importorskip("dask")
    samples, sites, flows = _tables(n_sites=3)
    eager = back_calculate(samples, sites, flows, parameters=PARAMS, n_draws=200, seed=11)
    lazy = back_calculate(samples, sites, flows, parameters=PARAMS, n_draws=200, seed=11,
                          chunks=2)
    assert lazy["users"].chunks is not None  # dask-backed, computed chunk by chunk
    pd.testing.assert_frame_equal(summarize(eager), summarize(lazy))
    assert uncertainty_budget(lazy).equals(uncertainty_budget(eager))


def test_more_draws_extend_the_same_draws():
    samples, sites, flows = _tables()
    a = back_calculate(samples, sites, flows, parameters=PARAMS, n_draws=100, seed=2)
    b = back_calculate(samples, sites, flows, parameters=PARAMS, n_draws=300, seed=2)
    np.testing.assert_array_equal(a["load_mg_per_day"].values,
                                  b["load_mg_per_day"].isel(draw=slice(0, 100)).values)


def test_same_seed_same_result_and_seed_recorded():
    samples, sites, flows = _tables()
    a = back_calculate(samples, sites, flows, parameters=PARAMS, n_draws=50, seed=9)
    b = back_calculate(samples, sites, flows, parameters=PARAMS, n_draws=50, seed=9)
    c = back_calculate(samples, sites, flows, parameters=PARAMS, n_draws=50, seed=10)
    assert a.identical(b)
    assert not np.array_equal(a["load_mg_per_day"].values, c["load_mg_per_day"].values)
    d = back_calculate(samples, sites, flows, parameters=PARAMS, n_draws=50)
    seed = int(d.attrs["seed"])
    e = back_calculate(samples, sites, flows, parameters=PARAMS, n_draws=50, seed=seed)
    assert d["users"].identical(e["users"])


def test_ratio_of_two_months_does_not_carry_excretion_uncertainty():
    """Monthly means at one site: their ratio is the same draw by draw whether the CF is
    uncertain or fixed (the shared global draw cancels), while each month alone is wider."""
    days = [*pd.date_range("2024-01-01", periods=5).strftime("%Y-%m-%d"),
            *pd.date_range("2024-02-01", periods=5).strftime("%Y-%m-%d")]
    samples, sites, flows = _tables(n_sites=1, days=days, biomarkers=("methamphetamine",))
    kw = {"parameters": PARAMS, "n_draws": 2000, "seed": 4}
    uncertain = back_calculate(samples, sites, flows, **kw)
    fixed = back_calculate(samples, sites, flows, uncertainty={"correction_factor": 2.56},
                           **kw)

    def month_ratio(ds):
        x = ds["consumption_mg_per_day_per_1000"].isel(site=0, biomarker=0)
        m = x.groupby("date.month").mean()
        return (m.sel(month=2) / m.sel(month=1)).values

    np.testing.assert_allclose(month_ratio(uncertain), month_ratio(fixed), rtol=1e-12)
    jan = uncertain["consumption_mg_per_day_per_1000"].isel(site=0, biomarker=0, date=0)
    assert float(np.log(jan).std()) > 2 * float(np.log(month_ratio(uncertain)).std())


def test_sites_share_the_global_draws():
    """Two plants' per-1000 draws are correlated through the shared CF draw (so a city
    total carries the systematic error once, not averaged away)."""
    samples, sites, flows = _tables(n_sites=2, days=("2024-01-01",),
                                    biomarkers=("methamphetamine",))
    ds = back_calculate(samples, sites, flows, parameters=PARAMS, n_draws=4000, seed=8)
    x = np.log(ds["consumption_mg_per_day_per_1000"].isel(date=0, biomarker=0).values)
    # correlation of the logs = share of the shared component in each site's log variance
    share = uncertainty_budget(ds).sel(component="correction_factor").isel(date=0, biomarker=0)
    assert float(share.min()) > 0.3
    np.testing.assert_allclose(np.corrcoef(x[0], x[1])[0, 1], float(share.mean()), atol=0.05)
    no_cf = back_calculate(samples, sites, flows, parameters=PARAMS, n_draws=4000, seed=8,
                           uncertainty={"correction_factor": 2.56})
    y = np.log(no_cf["consumption_mg_per_day_per_1000"].isel(date=0, biomarker=0).values)
    assert abs(np.corrcoef(y[0], y[1])[0, 1]) < 0.1


def test_flow_error_is_shared_by_the_biomarkers_of_a_day():
    samples, sites, flows = _tables(n_sites=1, days=("2024-01-01",))
    only_flow = {"sampling": None, "chemical_analysis": None}
    ds = back_calculate(samples, sites, flows, parameters=PARAMS, n_draws=500, seed=1,
                        uncertainty=only_flow)
    load = ds["load_mg_per_day"].isel(site=0, date=0).values
    ratio = load[0] / load[1]
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-12)
    assert load[0].std() > 0


# ----------------------------------------------------------------------------- censoring


def test_censoring_policy_recorded_and_counted():
    samples, sites, flows = _tables()
    samples.loc[[0, 3], ["concentration_ng_per_l", "censored"]] = [np.nan, True]
    for policy, k in [("zero", 0.0), ("loq/2", 0.5), ("loq/sqrt2", 2**-0.5), ("loq", 1.0)]:
        ds = back_calculate(samples, sites, flows, parameters=PARAMS, n_draws=10, seed=1,
                            censoring=policy)
        assert ds.attrs["censoring"] == policy
        assert json.loads(ds.attrs["n_substituted"]) == {"ketamine": 1, "methamphetamine": 1}
        c = ds["concentration_ng_per_l"].sel(site="P0", date="2024-01-01",
                                              biomarker="methamphetamine")
        assert float(c) == pytest.approx(5.0 * k)
        assert bool(ds["censored"].sel(site="P0", date="2024-01-01",
                                       biomarker="methamphetamine"))
    with pytest.raises(UnknownNameError, match=r"'loq/2'.*Valid"):
        back_calculate(samples, sites, flows, parameters=PARAMS, censoring="loq2")


def test_censored_without_loq_names_the_row():
    samples, sites, flows = _tables()
    samples.loc[2, ["concentration_ng_per_l", "censored", "loq_ng_per_l"]] = [np.nan, True,
                                                                               np.nan]
    with pytest.raises(InputError, match=r"row 4.*loq_ng_per_l"):
        back_calculate(samples, sites, flows, parameters=PARAMS)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda s, si, f: (s.drop(columns="biomarker"), si, f), "missing column"),
        (lambda s, si, f: (pd.concat([s, s.iloc[[0]]]), si, f), "more than one sample"),
        (lambda s, si, f: (s.assign(site=s["site"].replace("P1", "P9")), si, f), "site 'P9'"),
        (lambda s, si, f: (s, si, f.iloc[1:]), "no flow for site"),
        (lambda s, si, f: (s, si.assign(population=[0.0, 1e5]), f), "population"),
        (lambda s, si, f: (s.assign(biomarker="heroine"), si, f), "heroine"),
        (lambda s, si, f: (s, si, f.assign(flow_m3_per_day=-1.0)), "flow_m3_per_day"),
    ],
)
def test_bad_input_raises_input_error(mutate, match):
    s, si, f = mutate(*_tables())
    with pytest.raises(InputError, match=match):
        back_calculate(s, si, f, parameters=PARAMS, n_draws=5, seed=1)


def test_implausible_values_warn_with_row():
    s, si, f = _tables()
    s.loc[1, "concentration_ng_per_l"] = 5e7  # µg/L typed as ng/L?
    with pytest.warns(ImplausibleValueWarning, match="row 3.*concentration_ng_per_l"):
        back_calculate(s, si, f, parameters=PARAMS, n_draws=5, seed=1)


def test_unknown_method_and_component():
    s, si, f = _tables()
    with pytest.raises(UnknownNameError, match="montecarlo"):
        back_calculate(s, si, f, parameters=PARAMS, method="mc")
    with pytest.raises(UnknownNameError, match="sampling"):
        back_calculate(s, si, f, parameters=PARAMS, uncertainty={"samplng": 0.1})


def test_flows_from_samples_column_equal_flows_table():
    s, si, f = _tables()
    merged = s.merge(f.rename(columns={"date": "sampled_on"})[["site", "sampled_on",
                                                               "flow_m3_per_day"]])
    a = back_calculate(s, si, f, parameters=PARAMS, n_draws=20, seed=3)
    b = back_calculate(merged, si, parameters=PARAMS, n_draws=20, seed=3)
    assert a["users"].identical(b["users"])


# ------------------------------------------------------------- outputs and provenance


def test_dataset_layout_units_and_provenance():
    s, si, f = _tables()
    ds = back_calculate(s, si, f, parameters=PARAMS, n_draws=20, seed=3, reference_fraction=0.7)
    assert ds["users"].dims == ("site", "date", "biomarker", "draw")
    assert list(ds["drug"].values) == ["ketamine", "methamphetamine"]
    assert ds["consumption_mg_per_day_per_1000"].attrs["units"] == "mg/day/1000 inhabitants"
    assert ds["load_mg_per_day"].attrs["units"] == "mg/day"
    assert "prevalence" in ds
    dists = json.loads(ds.attrs["component_distributions"])
    assert dists["parameters"]["methamphetamine"]["correction_factor"].startswith(
        "scipy.stats.truncnorm")
    assert "numpy" in json.loads(ds.attrs["versions"])
    # users = consumption / (dose x doses per day); prevalence = users / (P_k x 0.7)
    np.testing.assert_allclose(ds["users"].sel(biomarker="ketamine"),
                               ds["consumption_mg_per_day"].sel(biomarker="ketamine")
                               / (50.0 * 2.0), rtol=1e-12)


def test_summarize_matches_numpy_quantiles_and_drops_unsampled_cells():
    s, si, f = _tables()
    s = s.iloc[1:]  # one cell of the grid has no sample
    ds = back_calculate(s, si, f, parameters=PARAMS, n_draws=400, seed=3)
    t = summarize(ds, levels=(0.9,), variables=["users"])
    assert len(t) == len(s)
    row = t.iloc[0]
    x = ds["users"].sel(site=row["site"], date=row["date"], biomarker=row["biomarker"]).values
    np.testing.assert_allclose([row["lower_90"], row["median"], row["upper_90"]],
                               np.quantile(x, [0.05, 0.5, 0.95]), rtol=1e-12)


def test_uncertainty_budget_shares():
    """Analytic shares are sigma_c^2 / sum sigma^2 of the log-normal factors."""
    s, si, f = _tables(n_sites=1, days=("2024-01-01",), biomarkers=("methamphetamine",))
    cf = lognormal_from_cv(0.25, mean=2.56)
    pop = lognormal_from_cv(0.2, mean=float(si["population"][0]))
    ds = back_calculate(s, si, f, parameters=PARAMS, method="analytic",
                        uncertainty={"correction_factor": cf, "population": pop})
    share = uncertainty_budget(ds).squeeze()
    var = {"sampling": np.log1p(0.01), "chemical_analysis": np.log1p(0.01),
           "flow": np.log1p(0.01), "correction_factor": np.log1p(0.25**2),
           "population": np.log1p(0.2**2)}
    total = sum(var.values())
    for comp, v in var.items():
        assert float(share.sel(component=comp)) == pytest.approx(v / total, rel=1e-9)
    mc = back_calculate(s, si, f, parameters=PARAMS, n_draws=20_000, seed=5,
                        uncertainty={"correction_factor": cf, "population": pop})
    mshare = uncertainty_budget(mc).squeeze()
    assert float(mshare.sum("component")) == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_allclose(mshare.sel(component=list(var)).values,
                               [var[c] / total for c in var], atol=0.02)


def test_non_abuse_amphetamine_subtraction_uses_same_draws():
    s, si, f = _tables(n_sites=1, days=("2024-01-01",),
                       biomarkers=("methamphetamine", "amphetamine"))
    # non_abuse=None: the explicit opt-out (the default now applies the correction, issue 12)
    plain = back_calculate(s, si, f, parameters=PARAMS, n_draws=100, seed=1, non_abuse=None)
    corr = back_calculate(s, si, f, parameters=PARAMS, n_draws=100, seed=1,
                          non_abuse={"amphetamine_from_methamphetamine": 0.09})
    la = plain["load_mg_per_day"].isel(site=0, date=0)
    expected = np.maximum(la.sel(biomarker="amphetamine") - 0.09
                          * la.sel(biomarker="methamphetamine"), 0.0)
    cf = corr["consumption_mg_per_day"].isel(site=0, date=0).sel(biomarker="amphetamine")
    ratio = (plain["consumption_mg_per_day"].isel(site=0, date=0).sel(biomarker="amphetamine")
             / la.sel(biomarker="amphetamine"))
    np.testing.assert_allclose(cf, expected * ratio, rtol=1e-12)
    assert json.loads(corr.attrs["non_abuse"]) == {"amphetamine_from_methamphetamine": 0.09}


def test_frozen_distribution_inputs_are_used_as_given():
    """A uniform CF between 2 and 3 gives draws between 2 and 3 times the load."""
    s, si, f = _tables(n_sites=1, days=("2024-01-01",), biomarkers=("methamphetamine",))
    ds = back_calculate(s, si, f, parameters=PARAMS, n_draws=2000, seed=1,
                        uncertainty={"correction_factor": stats.uniform(2.0, 1.0)})
    r = (ds["consumption_mg_per_day"] / ds["load_mg_per_day"]).values.ravel()
    assert r.min() >= 2.0 and r.max() <= 3.0
    assert r.mean() == pytest.approx(2.5, abs=0.03)


@pytest.mark.parametrize("chunks", [None, 1])
def test_non_abuse_is_checked_when_called_not_when_computed(chunks):
    """A wrong non_abuse mapping fails in the call, also on the lazy (chunked) path."""
    if chunks is not None:
        pytest.importorskip("dask")
    s, si, f = _tables(n_sites=1, days=("2024-01-01",),
                       biomarkers=("morphine", "codeine"))
    params = PARAMS.rename(index={"methamphetamine": "morphine", "ketamine": "codeine"})
    with pytest.raises(UnknownNameError, match="'morphine_from_codeine'"):
        back_calculate(s, si, f, parameters=params, n_draws=5, seed=1, chunks=chunks,
                       non_abuse={"cocaine_from_levamisole": 0.1})
    with pytest.raises(InputError, match="explicit ratio"):
        back_calculate(s, si, f, parameters=params, n_draws=5, seed=1, chunks=chunks,
                       non_abuse={"morphine_from_codeine": None})
