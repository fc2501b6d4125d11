"""Batched smoother and EARS run per chunk of series (dask) with identical results.

Oracle: one in-memory call of :func:`wbe.models.smoother.kalman_smoother` /
:func:`wbe.models.aberration.ears` over all series (themselves tested against
statsmodels and R ``surveillance::earsC`` in this folder).
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from wbe.errors import InputError
from wbe.models.aberration import ears
from wbe.models.blocks import ears_blocks, kalman_smoother_blocks
from wbe.models.smoother import StateSpaceModel, kalman_smoother, simulate_state_space

pytest.importorskip("dask")

PARAMS = np.array([0.05, 0.01, 1e-4])


@pytest.fixture(scope="module")
def series():
    model = StateSpaceModel("local_linear_trend")
    y, _ = simulate_state_space(model, PARAMS, 120, n_series=4 * 3, seed=11)
    y[:, ::7] = np.nan
    da = xr.DataArray(y.reshape(4, 3, 120), dims=("site", "biomarker", "date"),
                      coords={"site": list("ABCD"), "biomarker": ["meth", "ket", "mdma"]})
    return model, y, da


def test_smoother_per_chunk_equals_one_batched_call(series):
    model, y, da = series
    ref = kalman_smoother(y, model, PARAMS)
    z, _ = model.system()
    out = kalman_smoother_blocks(da.chunk({"site": 1, "biomarker": 2}), model, PARAMS)
    assert out["smoothed_signal"].chunks is not None
    got = out.compute()
    np.testing.assert_allclose(got["smoothed_signal"].values.reshape(12, 120),
                               ref.smoothed_state @ z, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got["loglike"].values.reshape(12), ref.loglike, rtol=1e-12)
    eager = kalman_smoother_blocks(da, model, PARAMS)
    for name in ("smoothed_signal", "smoothed_signal_var"):  # bitwise, whatever the blocks
        np.testing.assert_array_equal(got[name].values, eager[name].values, err_msg=name)
    # the log-likelihood sums over time in a batch-size-dependent order: last bits differ
    # (measured 1.4e-14 absolute on values of order 100)
    np.testing.assert_allclose(got["loglike"].values, eager["loglike"].values, rtol=1e-14)


def test_smoother_per_chunk_is_bitwise_for_equal_block_sizes(series):
    model, _, da = series
    a = kalman_smoother_blocks(da.chunk({"site": 2}), model, PARAMS).compute()
    b = kalman_smoother_blocks(da.isel(site=[2, 3]), model, PARAMS)
    np.testing.assert_array_equal(a["smoothed_signal"].values[2:], b["smoothed_signal"].values)


@pytest.mark.parametrize("method", ["C1", "C2", "C3"])
def test_ears_per_chunk_equals_one_call(series, method):
    _, y, da = series
    counts = np.exp(np.nan_to_num(y, nan=0.0))
    ref = ears(counts, method=method)
    cda = da.copy(data=counts.reshape(da.shape))
    out = ears_blocks(cda.chunk({"site": 3, "biomarker": 1}), method=method)
    assert out["alarm"].chunks is not None
    got = out.compute()
    for col in ("expected", "sigma", "statistic", "upperbound", "alarm"):
        np.testing.assert_array_equal(got[col].values.reshape(12, 120),
                                      ref[col].to_numpy().reshape(12, 120), err_msg=col)


def test_bad_inputs_raise_at_call_time(series):
    _, _, da = series
    with pytest.raises(InputError, match="time dim"):
        ears_blocks(da, time_dim="day")
    with pytest.raises(InputError, match="DataArray"):
        kalman_smoother_blocks(da.values, params=PARAMS)
    with pytest.raises(ValueError, match="C4"):
        ears_blocks(da.chunk({"site": 1}), method="C4")
    with pytest.raises(InputError, match="params"):
        kalman_smoother_blocks(da)
