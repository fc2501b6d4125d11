"""Summaries of a :func:`wbe.back_calculate` result: intervals and the uncertainty budget."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy import special

from wbe._backcalc_kernel import VARIABLES
from wbe.errors import InputError, unknown_name_error

__all__ = ["summarize", "uncertainty_budget"]

def _level_name(level: float) -> str:
    return f"{100 * level:g}"


def summarize(ds: xr.Dataset, levels=(0.5, 0.95), variables=None) -> pd.DataFrame:
    """Tidy table of medians and central intervals, one row per sampled site-day.

    Parameters
    ----------
    ds : xarray.Dataset
        Result of :func:`back_calculate` (either method).
    levels : sequence of float, default (0.5, 0.95)
        Central interval probabilities, each in (0, 1).
    variables : sequence of str, optional
        Variables to summarise; default all of :data:`VARIABLES` present.

    Returns
    -------
    pandas.DataFrame
        Columns ``site, date, biomarker, drug, parameter_sets, conditional_on_one_set,
        variable, units, censored, median`` and ``lower_<100 level>``,
        ``upper_<100 level>`` (e.g. ``lower_95``); rows only where a sample exists.
        ``censored`` is True where the sample was below its LOQ;
        ``conditional_on_one_set`` is True where the interval is conditional on one
        published parameter set (``parameters=`` a set name), False where the correction
        factor is drawn across sets (``parameters="mixture"``); ``parameter_sets`` names
        them with their weights.

    Notes
    -----
    With ``censoring="draw"`` (the default of :func:`back_calculate`) the interval of a
    censored day runs from 0 to the upper quantile of the value the LOQ itself would give
    (per draw, the drawn value divided by the drawn fraction of the LOQ): it contains
    every value the LOQ allows at the drawn parameters, and the median is that of the
    draws (the concentration drawn below the LOQ). With a substitution policy the
    censored day is summarised like any other (a convention for comparison with
    published tables).

    Examples
    --------
    >>> import pandas as pd
    >>> from wbe import back_calculate
    >>> samples = pd.DataFrame({"site": ["A"], "sampled_on": ["2024-01-01"],
    ...     "biomarker": ["methamphetamine"], "concentration_ng_per_l": [100.0],
    ...     "flow_m3_per_day": [200_000.0]})
    >>> sites = pd.DataFrame({"site": ["A"], "population": [500_000.0]})
    >>> t = summarize(back_calculate(samples, sites, n_draws=500, seed=1))
    >>> list(t.columns[-5:])
    ['median', 'lower_50', 'upper_50', 'lower_95', 'upper_95']
    """
    levels = tuple(float(x) for x in levels)
    if not all(0 < x < 1 for x in levels):
        raise InputError(f"levels must be in (0, 1), got {levels!r}")
    names = [v for v in (variables or VARIABLES) if v in ds]
    analytic = ds.attrs.get("method") == "analytic"
    probs = [0.5]
    for lev in levels:
        probs += [0.5 - lev / 2, 0.5 + lev / 2]
    if analytic:
        quantiles = []
        for name in names:
            med = ds[name].values
            sd = ds[f"{name}_log_sd"].values
            z = special.ndtri(np.asarray(probs))
            quantiles.append(med[..., None] * np.exp(z * sd[..., None]))
    elif "censored_fraction_of_loq" in ds and ds.sizes.get("censored_sample", 0):
        cells = _censored_cells(ds)
        picked = [ds[name].transpose("site", "date", "biomarker", "draw").isel(
            site=cells[0], date=cells[1], biomarker=cells[2]) for name in names]
        both = _draw_quantiles([ds[name] for name in names], probs, extra=picked)
        quantiles, values = both[:len(names)], both[len(names):]
        quantiles = _censored_bounds(ds, cells, quantiles, values, levels)
    else:
        quantiles = _draw_quantiles([ds[name] for name in names], probs)
    censored = ds["censored"].values if "censored" in ds else None
    frames = []
    for name, q in zip(names, quantiles, strict=True):
        cols = {"median": q[..., 0]}
        for k, lev in enumerate(levels):
            cols[f"lower_{_level_name(lev)}"] = q[..., 1 + 2 * k]
            cols[f"upper_{_level_name(lev)}"] = q[..., 2 + 2 * k]
        present = np.isfinite(cols["median"])
        s, t, b = np.nonzero(present)
        frame = pd.DataFrame({
            "site": _take_text(ds["site"].values, s),
            "date": ds["date"].values[t],
            "biomarker": _take_text(ds["biomarker"].values, b),
            "drug": _take_text(ds["drug"].values, b),
            "variable": _take_text(np.array([name]), np.zeros(len(s), dtype=int)),
            "units": _take_text(np.array([ds[name].attrs.get("units", "")]),
                                np.zeros(len(s), dtype=int)),
        })
        if censored is not None:
            frame.insert(6, "censored", censored[s, t, b])
        if "conditional_on_one_set" in ds.coords:
            frame.insert(4, "parameter_sets", _take_text(ds["parameter_sets"].values, b))
            frame.insert(5, "conditional_on_one_set",
                         ds["conditional_on_one_set"].values[b].astype(bool))
        for key, value in cols.items():
            frame[key] = value[present]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _take_text(labels, index) -> pd.api.extensions.ExtensionArray:
    """``labels[index]`` as a pandas string array, converting only the few distinct labels
    (converting one Python string per row is the slow part of building the table)."""
    return pd.array(np.asarray(labels, dtype=object), dtype="str").take(index)


def _censored_cells(ds) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray]:
    """Grid positions of the censored samples (vectorised indexers along censored_sample)."""
    def pos(dim):
        idx = ds.indexes[dim].get_indexer(ds[f"censored_{dim}"].values)
        return xr.DataArray(idx, dims="censored_sample")

    return pos("site"), pos("date"), pos("biomarker")


def _censored_bounds(ds, cells, quantiles, values, levels) -> list[np.ndarray]:
    """Intervals of censored cells (``censoring="draw"``): from 0 to the upper quantile of
    the value the LOQ itself would give, so that the interval holds every value the LOQ
    allows (the median stays that of the draws)."""
    frac = np.asarray(ds["censored_fraction_of_loq"].transpose("censored_sample", "draw"))
    s, t, b = (np.asarray(c) for c in cells)
    out = []
    for q, v in zip(quantiles, values, strict=True):
        q = np.array(q, copy=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            at_loq = np.asarray(v) / frac
        for k, lev in enumerate(levels):
            q[s, t, b, 1 + 2 * k] = 0.0
            q[s, t, b, 2 + 2 * k] = np.quantile(at_loq, 0.5 + lev / 2, axis=1)
        out.append(q)
    return out


def _draw_quantiles(arrays: list[xr.DataArray], probs: list[float],
                    extra=()) -> list[np.ndarray]:
    """Quantiles over ``draw`` (last axis of the result), all variables in one pass; the
    ``extra`` arrays (e.g. the draws of censored cells) are computed in the same pass and
    appended to the result as they are."""
    def kernel(x):
        return np.moveaxis(np.quantile(x, probs, axis=-1), 0, -1)

    out = []
    for da in arrays:
        da = da.transpose("site", "date", "biomarker", "draw")
        if da.chunks is not None and len(da.chunks[-1]) > 1:
            da = da.chunk({"draw": -1})  # quantiles need every draw of a cell in one block
        out.append(xr.apply_ufunc(
            kernel, da, input_core_dims=[["draw"]], output_core_dims=[["quantile"]],
            dask="parallelized", output_dtypes=[float],
            dask_gufunc_kwargs={"output_sizes": {"quantile": len(probs)}}))
    out += [e.transpose("censored_sample", "draw") for e in extra]
    if any(o.chunks is not None for o in out):
        import dask

        out = list(dask.compute(*[o.data for o in out]))
        return [np.asarray(o) for o in out]
    return [o.values for o in out]


def uncertainty_budget(ds: xr.Dataset, variable: str = "consumption_mg_per_day_per_1000"
                       ) -> xr.DataArray:
    """Share of the log-scale variance of a variable contributed by each component.

    Parameters
    ----------
    ds : xarray.Dataset
        Result of :func:`back_calculate`.
    variable : str, default "consumption_mg_per_day_per_1000"
        One of :data:`VARIABLES`.

    Returns
    -------
    xarray.DataArray
        Dims ``(component, site, date, biomarker)``; shares sum to 1 over ``component``
        where the variable is uncertain, NaN where there is no sample.

    Notes
    -----
    The factors are independent, so :math:`\\operatorname{Var}\\log Y = \\sum_c
    \\operatorname{Var}\\log F_c` and the share of component :math:`c` is
    :math:`\\operatorname{Var}\\log F_c / \\operatorname{Var}\\log Y`. For log-normal
    factors the variances are exact (:math:`\\sigma_c^2`); otherwise they are estimated
    from the draws.

    Examples
    --------
    >>> import pandas as pd
    >>> from wbe import back_calculate
    >>> samples = pd.DataFrame({"site": ["A"], "sampled_on": ["2024-01-01"],
    ...     "biomarker": ["methamphetamine"], "concentration_ng_per_l": [100.0],
    ...     "flow_m3_per_day": [200_000.0]})
    >>> sites = pd.DataFrame({"site": ["A"], "population": [500_000.0]})
    >>> b = uncertainty_budget(back_calculate(samples, sites, n_draws=500, seed=1))
    >>> round(float(b.sum("component").squeeze()), 6)
    1.0
    """
    if variable not in VARIABLES:
        raise unknown_name_error("variable", variable, VARIABLES)
    comps = list(VARIABLES[variable][1])
    lv = ds["log_variance"].sel(component=comps)
    total = lv.sum("component", skipna=False)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = lv / total
    share.name = f"variance_share_{variable}"
    share.attrs = {"units": "1", "variable": variable}
    return share
