"""Scaling out: chunk-by-chunk (dask) evaluation of per-site and per-series computations.

The back-calculation is lazy with ``wbe.back_calculate(..., chunks=...)``; on its dask-backed
result :func:`wbe.summarize`, :func:`wbe.uncertainty_budget`, :func:`wbe.period_mean` and
:func:`wbe.aggregate_sites` stay lazy and compute block by block. This module adds
:func:`block_memory_bytes`, the memory formula used to choose ``chunks``; the models'
per-chunk wrappers live in :mod:`wbe.models.blocks` (the core never imports the models).

Every function gives the same numbers whether the input is in memory or chunked (each
series, site or cell is computed from its own data and keyed draws only), and runs under
``dask.distributed`` as well as the default threaded scheduler. See ``docs/performance.md``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from wbe._compat import renamed_arguments
from wbe._optional import require
from wbe.errors import InputError

__all__ = ["block_memory_bytes"]


@renamed_arguments(draws="n_draws")
def block_memory_bytes(sites: int, dates: int, biomarkers: int, n_draws: int, *,
                       arrays: int = 10) -> int:
    """Bytes of one Monte Carlo block of :func:`wbe.back_calculate` (``chunks=``).

    Parameters
    ----------
    sites, dates : int
        Chunk sizes along ``site`` and ``date`` [count].
    biomarkers, n_draws : int
        Biomarkers and Monte Carlo draws [count] (never chunked by ``back_calculate``).
    arrays : int, default 10
        Float64 arrays of that shape alive at the peak of one block. Measured with
        ``tracemalloc`` on a 4 x 52 x 12 x 2000 block: 5.2 for the Monte Carlo block
        itself (five output variables and temporaries; add one for ``prevalence``) and
        4.0 more while :func:`wbe.period_mean` of three variables reduces it; 10 is a
        rounded upper bound of that chain.

    Returns
    -------
    int
        ``arrays * sites * dates * biomarkers * n_draws * 8`` [bytes]. Peak memory of a run
        is about this times the number of blocks in flight (threads or workers), plus the
        reduced results.

    Raises
    ------
    InputError
        For a negative or non-integer size.

    Examples
    --------
    >>> block_memory_bytes(4, 52, 12, 2000) / 1e6  # MB
    399.36
    """
    sizes = (sites, dates, biomarkers, n_draws, arrays)
    if not all(isinstance(x, int | np.integer) and x >= 0 for x in sizes):
        raise InputError(f"sizes must be non-negative integers, got {sizes!r}")
    return int(arrays) * int(sites) * int(dates) * int(biomarkers) * int(n_draws) * 8


def _map_site_blocks(func, ds: xr.Dataset, *args, **kwargs) -> xr.Dataset:
    """Apply ``func(block_dataset, *args, **kwargs) -> Dataset`` to each site chunk, lazily.

    ``ds`` has dims ``(site, date, biomarker[, draw])``; it is rechunked to whole dates,
    biomarkers and draws (keeping its site chunks) so that ``func`` sees complete series of
    each site. ``func`` must treat sites independently and return variables whose dims are
    among ``site``, ``date`` (any length), ``biomarker`` and ``draw`` (same lengths as the
    input). The output structure is taken from ``func`` on an in-memory one-site, one-draw
    skeleton of NaNs.
    """
    dsa = require("dask.array", feature="wbe.scale (chunked draws)")

    site_chunks = None
    for da in ds.data_vars.values():
        if da.chunks is not None and "site" in da.dims:
            site_chunks = da.chunks[da.dims.index("site")]
            break
    if site_chunks is None:  # nothing lazy along site
        site_chunks = (ds.sizes["site"],)
    original = ds
    ds = ds.chunk({d: (site_chunks if d == "site" else -1) for d in ds.dims})
    has_draw = "draw" in ds.dims

    skel_sel = {"site": [0], **({"draw": [0]} if has_draw else {})}
    skeleton = xr.Dataset(
        {k: (v.dims, np.full([1 if d in skel_sel else ds.sizes[d] for d in v.dims],
                             np.nan if np.issubdtype(v.dtype, np.floating) else 0,
                             dtype=v.dtype), v.attrs)
         for k, v in ds.data_vars.items()},
        coords={k: c.isel({d: skel_sel[d] for d in c.dims if d in skel_sel}).compute()
                for k, c in original.coords.items()},
        attrs=ds.attrs)
    small = func(skeleton, *args, **kwargs)

    # full-size lazy template: site and draw as in ds, the other dims as func returned them
    def full(var):
        shape = tuple(ds.sizes[d] if d in skel_sel else var.sizes[d] for d in var.dims)
        chunks = tuple(site_chunks if d == "site" else -1 for d in var.dims)
        return xr.Variable(var.dims, dsa.empty(shape, chunks=chunks, dtype=var.dtype),
                           attrs=var.attrs)

    data = {name: (full(var) if "site" in var.dims else var.variable)
            for name, var in small.data_vars.items()}
    coords = {}
    for name, coord in small.coords.items():
        if any(d in skel_sel for d in coord.dims):
            if name in ds.coords:
                coords[name] = ds.coords[name].variable
        else:
            coords[name] = coord.variable
    template = xr.Dataset(data, coords=coords, attrs=small.attrs)
    out = xr.map_blocks(func, ds, args=list(args), kwargs=kwargs, template=template)
    # map_blocks makes every non-index coordinate lazy; those not along site/draw are the
    # same in every block: keep them in memory (reading one must not compute a block)
    keep = {name: (original.coords[name].variable if name in original.coords else coord)
            for name, coord in coords.items()
            if name not in out.indexes and not any(d in skel_sel for d in coord.dims)}
    return out.assign_coords(keep)
