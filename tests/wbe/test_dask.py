"""Lazy (dask) back-calculation, summaries and aggregation equal the in-memory path bitwise.

The oracle is the in-memory path of the same functions (tested elsewhere against published
tables and R); here every variable of the chunked result must be *bitwise* equal to it,
because the draws are keyed by (seed, component, key) and every reduction keeps the
in-memory order of operations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from wbe.aggregate import aggregate_sites, period_mean
from wbe.backcalc import back_calculate, summarize, uncertainty_budget
from wbe.errors import InputError, UnknownNameError
from wbe.scale import block_memory_bytes

dask = pytest.importorskip("dask")

BIOMARKERS = ["methamphetamine", "ketamine", "mdma"]
DRAWS = 48


def _tables(n_sites=5):
    """Samples every third day of Jan-Feb 2024, ~10 % of (site, day, biomarker) missing."""
    rng = np.random.default_rng(3)
    sites = [f"P{i}" for i in range(n_sites)]
    days = pd.date_range("2024-01-01", "2024-02-29", freq="3D")
    idx = pd.MultiIndex.from_product([sites, days, BIOMARKERS],
                                     names=["site", "sampled_on", "biomarker"])
    samples = idx.to_frame(index=False)
    samples = samples[rng.random(len(samples)) > 0.1].reset_index(drop=True)
    samples["concentration_ng_per_l"] = rng.lognormal(4.0, 0.8, len(samples))
    samples["loq_ng_per_l"] = 2.0
    samples["censored"] = rng.random(len(samples)) < 0.05
    samples.loc[samples["censored"], "concentration_ng_per_l"] = np.nan
    flows = pd.MultiIndex.from_product([sites, days], names=["site", "date"]).to_frame(
        index=False)
    flows["flow_m3_per_day"] = rng.uniform(5e4, 3e5, len(flows))
    site_table = pd.DataFrame({"site": sites,
                               "population": rng.uniform(1e5, 1e6, n_sites).round(-3),
                               "residence_time_h": rng.uniform(1, 10, n_sites),
                               "region": ["north", "south"] * (n_sites // 2)
                               + ["north"] * (n_sites % 2)})
    return samples, site_table, flows


@pytest.fixture(scope="module")
def pair():
    samples, sites, flows = _tables()
    eager = back_calculate(samples, sites, flows, n_draws=DRAWS, seed=7)
    lazy = back_calculate(samples, sites, flows, n_draws=DRAWS, seed=7,
                          chunks={"site": 2, "date": 7})
    return eager, lazy, sites


def _draws_only(ds):
    """The back-calculation without its per-component variances (aggregation rejects the
    extra ``component`` dim, in memory as well)."""
    return ds.drop_dims("component")


def _assert_same(eager: xr.Dataset, lazy: xr.Dataset, *, require_lazy=True):
    assert set(eager.data_vars) == set(lazy.data_vars)
    n_lazy = 0
    for name in eager.data_vars:
        n_lazy += lazy[name].chunks is not None
        a = eager[name].transpose(*lazy[name].dims)
        np.testing.assert_array_equal(a.values, lazy[name].values, err_msg=name)
        assert a.dims == lazy[name].dims, name
        assert eager[name].attrs == lazy[name].attrs, name
    for name in eager.coords:
        np.testing.assert_array_equal(eager[name].values, lazy[name].values, err_msg=name)
    if require_lazy:
        assert n_lazy > 0


def test_back_calculate_chunked_by_site_and_date_is_lazy_and_bitwise_equal(pair):
    eager, lazy, _ = pair
    da = lazy["consumption_mg_per_day_per_1000"]
    assert da.chunks is not None
    assert da.chunks[0] == (2, 2, 1) and da.chunks[1] == (7, 7, 6)
    _assert_same(eager, lazy)
    assert eager.attrs == lazy.attrs


def test_summarize_and_budget_of_lazy_result_equal_in_memory(pair):
    eager, lazy, _ = pair
    pd.testing.assert_frame_equal(summarize(eager), summarize(lazy), check_exact=True)
    budget = uncertainty_budget(lazy)
    assert budget.chunks is not None
    np.testing.assert_array_equal(uncertainty_budget(eager).values, budget.values)


def test_summarize_rechunks_a_chunked_draw_dim(pair):
    eager, lazy, _ = pair
    drawn = lazy.chunk({"draw": 10})
    pd.testing.assert_frame_equal(summarize(eager, variables=["users"]),
                                  summarize(drawn, variables=["users"]), check_exact=True)


def test_period_mean_lazy_equals_in_memory(pair):
    eager, lazy, _ = pair
    variables = ["load_mg_per_day", "consumption_mg_per_day", "consumption_mg_per_day_per_1000"]
    pe = period_mean(_draws_only(eager), "MS", variables=variables, seed=5)
    pl = period_mean(_draws_only(lazy), "MS", variables=variables, seed=5)
    assert pl["consumption_mg_per_day"].chunks is not None
    assert pl["n_days"].chunks is not None
    assert pl["drug"].chunks is None  # reading a coordinate must not compute a block
    _assert_same(pe, pl)
    assert pe.attrs == pl.attrs


def test_period_mean_lazy_without_draws_and_weekly(pair):
    eager, lazy, _ = pair
    med_e = eager[["load_mg_per_day"]].isel(draw=0, drop=True)
    med_l = lazy[["load_mg_per_day"]].isel(draw=0, drop=True)
    with pytest.warns(Warning):  # thin weeks: the in-memory path warns (CoverageWarning)
        pe = period_mean(med_e, "W", seed=1)
    pl = period_mean(med_l, "W", seed=1)  # lazy: not warned, coverage_ok tells
    assert not bool(pl["coverage_ok"].all())
    _assert_same(pe, pl)


def test_period_mean_lazy_checks_arguments_at_call_time(pair):
    _, lazy, _ = pair
    with pytest.raises(UnknownNameError):
        period_mean(_draws_only(lazy), "fortnight")
    with pytest.raises(InputError, match="min_days"):
        period_mean(_draws_only(lazy), "MS", min_days=0)


@pytest.mark.parametrize("groups", [None, "region"])
def test_aggregate_sites_lazy_equals_in_memory(pair, groups):
    eager, lazy, sites = pair
    variables = ["load_mg_per_day", "consumption_mg_per_day_per_1000"]
    ae = aggregate_sites(_draws_only(eager), sites, groups, variables=variables)
    al = aggregate_sites(_draws_only(lazy), sites, groups, variables=variables)
    assert al["load_mg_per_day"].chunks is not None
    _assert_same(ae, al)


def test_chain_period_mean_then_city_aggregate_lazy_equals_in_memory(pair):
    eager, lazy, sites = pair
    variables = ["consumption_mg_per_day_per_1000"]
    ce = aggregate_sites(period_mean(_draws_only(eager), "MS", variables=variables, seed=2),
                         sites)
    cl = aggregate_sites(period_mean(_draws_only(lazy), "MS", variables=variables, seed=2),
                         sites)
    _assert_same(ce, cl)
    pd.testing.assert_frame_equal(
        summarize(ce.rename(group="site").assign_coords(drug=eager["drug"])),
        summarize(cl.rename(group="site").assign_coords(drug=eager["drug"])),
        check_exact=True)


@pytest.mark.parametrize("chunks", [0, {"site": 2.5}, {"date": -2}, True])
def test_bad_chunks_raise_input_error(chunks):
    samples, sites, flows = _tables(2)
    with pytest.raises(InputError, match="chunk"):
        back_calculate(samples, sites, flows, n_draws=4, seed=1, chunks=chunks)


def test_unknown_chunk_dim_lists_valid_ones():
    samples, sites, flows = _tables(2)
    with pytest.raises(UnknownNameError, match="site"):
        back_calculate(samples, sites, flows, n_draws=4, seed=1, chunks={"biomarker": 1})


def test_block_memory_formula():
    assert block_memory_bytes(1, 1, 1, 1, arrays=1) == 8
    assert block_memory_bytes(5000, 52, 12, 2000, arrays=1) == 6_240_000_000 * 8
    with pytest.raises(InputError):
        block_memory_bytes(-1, 1, 1, 1)


@pytest.mark.parametrize("processes", [False, True])
def test_same_code_under_dask_distributed(pair, processes):
    distributed = pytest.importorskip("distributed")
    eager = pair[0]
    samples, sites, flows = _tables()
    var = ["consumption_mg_per_day"]
    expected = summarize(period_mean(_draws_only(eager), "MS", variables=var, seed=3))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=processes,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        lazy = back_calculate(samples, sites, flows, n_draws=DRAWS, seed=7, chunks=2)
        got = summarize(period_mean(_draws_only(lazy), "MS", variables=var, seed=3))
        assert client.status == "running"
        assert len(client.scheduler_info()["workers"]) == 2
    pd.testing.assert_frame_equal(expected, got, check_exact=True)


@pytest.mark.parametrize("chunks", [1, {"date": 3}, {"site": 3, "date": -1}, {"site": -1}])
def test_any_chunking_gives_the_same_draws(pair, chunks):
    eager = pair[0]
    samples, sites, flows = _tables()
    lazy = back_calculate(samples, sites, flows, n_draws=DRAWS, seed=7, chunks=chunks)
    _assert_same(eager, lazy)
