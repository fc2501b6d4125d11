"""Per-chunk (dask) evaluation of the models over many series.

* :func:`kalman_smoother_blocks` — the batched Kalman smoother of
  :func:`wbe.models.smoother.kalman_smoother` applied to each chunk of series of a (possibly
  dask-backed) ``xarray.DataArray``;
* :func:`ears_blocks` — EARS C1/C2/C3 (:func:`wbe.models.aberration.ears`) per chunk of
  series.

Each series is computed from its own data only, so the numbers are the same whether the
input is in memory or chunked, under the threaded scheduler or ``dask.distributed``
(``docs/performance.md``).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from wbe.errors import InputError
from wbe.models.aberration import ears
from wbe.models.smoother import StateSpaceModel, kalman_smoother

__all__ = ["ears_blocks", "kalman_smoother_blocks"]


def _check_series(y, time_dim: str) -> xr.DataArray:
    if not isinstance(y, xr.DataArray):
        raise InputError(f"expected an xarray.DataArray with a {time_dim!r} dim, got "
                         f"{type(y).__name__}")
    if time_dim not in y.dims:
        raise InputError(f"the DataArray lacks the time dim {time_dim!r}; dims are "
                         f"{tuple(y.dims)}", column=time_dim)
    if not np.issubdtype(y.dtype, np.number):
        raise InputError(f"values must be numbers, got dtype {y.dtype}")
    if y.chunks is not None:
        y = y.chunk({time_dim: -1})  # a series is filtered in one pass over time
    return y


def _flat(x: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    lead = x.shape[:-1]
    return x.reshape(-1, x.shape[-1]), lead


def _smoother_kernel(y, model, params, initial_variance):

    flat, lead = _flat(np.asarray(y, dtype=float))
    n_time = flat.shape[-1]
    if flat.shape[0] == 0:
        empty = np.empty((*lead, n_time))
        return empty, empty.copy(), np.empty(lead)
    res = kalman_smoother(flat, model, params, initial_variance=initial_variance)
    z, _ = res.model.system()
    signal = res.smoothed_state @ z
    var = np.einsum("i,stij,j->st", z, res.smoothed_state_cov, z)
    return (signal.reshape(*lead, n_time), var.reshape(*lead, n_time),
            res.loglike.reshape(lead))


def kalman_smoother_blocks(y: xr.DataArray, model=None, params=None, *, time_dim: str = "date",
                           initial_variance: float = 1e6) -> xr.Dataset:
    """Batched Kalman smoother over every series of a DataArray, chunk by chunk.

    Parameters
    ----------
    y : xarray.DataArray
        Log-scale observations with a time dim and any number of series dims (e.g.
        ``(site, biomarker, date)``), NaN = missing day
        [log(mg/day/1000 inhabitants)] or any log-scale quantity. May be dask-backed and
        chunked along the series dims; the time dim is put in one chunk.
    model : wbe.models.smoother.StateSpaceModel, optional
        Model structure (default: local linear trend).
    params : mapping or array_like
        Variance parameters in ``model.param_names`` order, shape ``(k,)``, shared by all
        series [log-scale variance].
    time_dim : str, default "date"
        Name of the time dimension.
    initial_variance : float, default 1e6
        Approximate diffuse initial variance.

    Returns
    -------
    xarray.Dataset
        ``smoothed_signal`` (:math:`z'\\hat\\alpha_{t|n}`) and ``smoothed_signal_var``
        (:math:`z'P_{t|n}z`) with the dims of ``y`` (time last), and ``loglike`` per
        series. Dask-backed (lazy) if ``y`` is.

    Raises
    ------
    InputError
        If ``y`` is not a numeric DataArray with ``time_dim``; errors of
        :func:`~wbe.models.smoother.kalman_smoother` (bad parameters, infinite values)
        surface when the blocks are computed.

    Notes
    -----
    Each block of series is passed to :func:`wbe.models.smoother.kalman_smoother`, which
    filters all series of the block at once (prediction error decomposition, Durbin and
    Koopman 2012, ch. 4). The series are independent, so a block gives each series the
    same numbers as one call over all series (checked in ``tests/models/
    test_dask_models.py``).

    References
    ----------
    Durbin J, Koopman SJ. 2012. Time Series Analysis by State Space Methods, 2nd ed.
    Oxford University Press. doi:10.1093/acprof:oso/9780199641178.001.0001

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> y = xr.DataArray(np.log(np.linspace(10.0, 20.0, 30))[None, :].repeat(3, 0),
    ...                  dims=("site", "date"))
    >>> out = kalman_smoother_blocks(y.chunk({"site": 1}), params=[0.01, 0.001, 0.0001])
    >>> out["smoothed_signal"].shape
    (3, 30)
    """
    y = _check_series(y, time_dim)
    if params is None:
        raise InputError("params (variance parameters of the model) are required",
                         column="params")
    if model is None:

        model = StateSpaceModel("local_linear_trend")
    signal, var, loglike = xr.apply_ufunc(
        _smoother_kernel, y, kwargs={"model": model, "params": params,
                                     "initial_variance": initial_variance},
        input_core_dims=[[time_dim]], output_core_dims=[[time_dim], [time_dim], []],
        dask="parallelized", output_dtypes=[float, float, float])
    return xr.Dataset({
        "smoothed_signal": signal.assign_attrs(long_name="smoothed z' alpha_t (log scale)"),
        "smoothed_signal_var": var.assign_attrs(long_name="variance of the smoothed signal"),
        "loglike": loglike.assign_attrs(long_name="log-likelihood per series"),
    })


_EARS_COLUMNS = ("expected", "sigma", "statistic", "upperbound", "alarm")


def _ears_kernel(values, method, baseline, alpha, min_sigma):

    flat, lead = _flat(np.asarray(values, dtype=float))
    n, n_time = flat.shape
    if n == 0:
        return tuple(np.empty((*lead, n_time), dtype=bool if c == "alarm" else float)
                     for c in _EARS_COLUMNS)
    frame = ears(flat, method=method, baseline=baseline, alpha=alpha, min_sigma=min_sigma)
    out = []
    for col in _EARS_COLUMNS:
        grid = frame[col].to_numpy().reshape(n, n_time)
        out.append(grid.reshape(*lead, n_time))
    return tuple(out)


def ears_blocks(values: xr.DataArray, method: str = "C1", baseline: int = 7,
                alpha: float | None = None, min_sigma: float = 0.0, *,
                time_dim: str = "date") -> xr.Dataset:
    """EARS C1/C2/C3 aberration detection over every series of a DataArray, chunk by chunk.

    Parameters
    ----------
    values : xarray.DataArray
        Monitored series [any unit, e.g. mg/day/1000 inhabitants] with a time dim and any
        series dims; may be dask-backed and chunked along the series dims.
    method : {"C1", "C2", "C3"}, default "C1"
        As in :func:`wbe.models.aberration.ears`.
    baseline : int, default 7
        Baseline window [time points].
    alpha : float, optional
        One-sided tail probability of the threshold; default that of ``ears``.
    min_sigma : float, default 0.0
        Lower bound on the baseline sd [unit of ``values``].
    time_dim : str, default "date"
        Name of the time dimension.

    Returns
    -------
    xarray.Dataset
        ``expected``, ``sigma``, ``statistic``, ``upperbound`` [unit of ``values``] and
        ``alarm`` (bool) with the dims of ``values`` (time last). Dask-backed if
        ``values`` is.

    Raises
    ------
    InputError
        If ``values`` is not a numeric DataArray with ``time_dim``; bad ``method`` or
        ``baseline`` surface as in :func:`~wbe.models.aberration.ears` (checked here
        on a one-series probe so that they raise at call time).

    Notes
    -----
    :math:`C_1(t) = (Y_t - \\bar Y_B(t)) / S_B(t)` over the baseline window (Hutwagner et
    al. 2003); each series only uses its own past, so chunking along series dims cannot
    change a value.

    References
    ----------
    Hutwagner L, Thompson W, Seeman GM, Treadwell T. 2003. The bioterrorism preparedness
    and response Early Aberration Reporting System (EARS). J Urban Health 80(2 Suppl
    1):i89-i96. doi:10.1007/PL00022319

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> x = xr.DataArray(np.r_[np.full(10, 5.0) + np.arange(10) % 2, 30.0][None, :],
    ...                  dims=("site", "date"))
    >>> bool(ears_blocks(x)["alarm"][0, -1])
    True
    """

    values = _check_series(values, time_dim)
    probe = np.zeros((1, max(int(baseline) + 4, 8))) if isinstance(baseline, int | np.integer) \
        else np.zeros((1, 8))
    ears(probe, method=method, baseline=baseline, alpha=alpha, min_sigma=min_sigma)
    outs = xr.apply_ufunc(
        _ears_kernel, values,
        kwargs={"method": method, "baseline": baseline, "alpha": alpha,
                "min_sigma": min_sigma},
        input_core_dims=[[time_dim]], output_core_dims=[[time_dim]] * len(_EARS_COLUMNS),
        dask="parallelized", output_dtypes=[float, float, float, float, bool])
    return xr.Dataset(dict(zip(_EARS_COLUMNS, outs, strict=True)),
                      attrs={"method": method, "baseline": int(baseline)})
