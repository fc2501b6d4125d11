"""Input handling shared by the detectors of :mod:`wbe.models` (EARS, Farrington, CUSUM, EWMA).

Series come in as a 1-D array, a pandas Series or a 2-D ``(n_series, n_time)`` array or
DataFrame; results go out as a time-indexed (1-D) or long (series, time) frame. The monitored
time points are chosen with ``at`` (0-based positions or a boolean mask) or ``r_range``
(1-based positions, as R's ``range``; docs/vocabulary.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from wbe.errors import InputError

__all__ = ["as_matrix", "frame", "monitored", "range_mask"]


def as_matrix(values, *, name: str = "values", allow_2d: bool = True):
    """Return ``(matrix (n_series, n_time) float, time index, series index or None)``.

    ``series index`` is None for 1-D input (the result is then a plain time-indexed frame).
    """
    if isinstance(values, pd.DataFrame):
        if not allow_2d:
            raise InputError(f"{name}: expected a 1-D array or a pandas Series, got a DataFrame")
        frame = values
        try:
            mat = frame.to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{name}: expected numbers ({exc})") from None
        return mat, frame.columns, frame.index
    if isinstance(values, pd.Series):
        try:
            arr = values.to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{name}: expected numbers ({exc})", column=values.name) from None
        return arr[None, :], values.index, None
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: expected numbers ({exc})") from None
    if arr.ndim == 1:
        return arr[None, :], pd.RangeIndex(arr.shape[0]), None
    if arr.ndim == 2 and allow_2d:
        return arr, pd.RangeIndex(arr.shape[1]), pd.RangeIndex(arr.shape[0])
    raise InputError(
        f"{name}: expected a 1-D array{' or a 2-D (n_series, n_time) array' if allow_2d else ''},"
        f" got shape {arr.shape}"
    )


def range_mask(range_, n_time: int) -> np.ndarray:
    """Boolean mask of the monitored time points from a 1-based ``range`` or a mask."""
    if range_ is None:
        return np.ones(n_time, dtype=bool)
    arr = np.asarray(range_)
    if arr.dtype == bool:
        if arr.shape != (n_time,):
            raise InputError(
                f"range: a boolean mask must have one entry per time point ({n_time}), "
                f"got shape {arr.shape}"
            )
        return arr.copy()
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise InputError("range: expected 1-based integer positions (like R) or a boolean mask")
    bad = (arr < 1) | (arr > n_time)
    if bad.any():
        raise InputError(
            f"range: positions are 1-based (1..{n_time}); got {arr[bad][0]}", value=arr[bad][0]
        )
    mask = np.zeros(n_time, dtype=bool)
    mask[arr - 1] = True
    return mask


def frame(columns: dict[str, np.ndarray], time_index, series_index, attrs: dict) -> pd.DataFrame:
    """Build the result frame: time-indexed for 1-D input, long (series, time) for 2-D."""
    if series_index is None:
        out = pd.DataFrame({k: v[0] for k, v in columns.items()}, index=time_index)
    else:
        idx = pd.MultiIndex.from_product(
            [series_index, time_index],
            names=[series_index.name or "series", time_index.name or "time"],
        )
        out = pd.DataFrame({k: v.ravel() for k, v in columns.items()}, index=idx)
    out.attrs.update(attrs)
    return out


def monitored(at, r_range):
    """1-based positions or a boolean mask for :func:`range_mask` from ``at`` or ``r_range``.

    Parameters
    ----------
    at : sequence of int or boolean mask, optional
        Monitored time points as 0-based positions, or a boolean mask.
    r_range : sequence of int or boolean mask, optional
        The same as 1-based positions (R's ``range``), or a boolean mask.
    """
    if at is not None and r_range is not None:
        raise InputError("give at= (0-based positions or a mask) or r_range= (1-based), "
                         "not both", column="at")
    if at is None:
        return r_range
    arr = np.asarray(at)
    if arr.dtype == bool:
        return arr
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise InputError("at: expected 0-based integer positions or a boolean mask",
                         column="at")
    if (arr < 0).any():
        raise InputError(f"at: positions are 0-based (>= 0); got {arr[arr < 0][0]}",
                         column="at", value=arr[arr < 0][0])
    return arr + 1
