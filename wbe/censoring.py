"""Substitution of values below the limit of quantification (LOQ) by a stated policy.

Single-value substitution is what back-calculation of each sample needs; estimators
for period means that treat censoring properly (maximum likelihood, regression on order
statistics) live in :mod:`wbe.aggregate`. The policy is always an explicit argument and
is recorded, with the number of substituted values per biomarker, in the result of
:func:`wbe.backcalc.back_calculate`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from wbe.errors import InputError, unknown_name_error

__all__ = ["CENSORING_POLICIES", "substitute_censored"]

#: policy name -> multiple of the LOQ that replaces a censored value
CENSORING_POLICIES: dict[str, float] = {
    "zero": 0.0,
    "loq/2": 0.5,
    "loq/sqrt2": 1.0 / math.sqrt(2.0),
    "loq": 1.0,
}


def substitute_censored(concentration_ng_per_l, loq_ng_per_l, censored, policy: str = "loq/2",
                        *, source: str = "samples", rows=None) -> np.ndarray:
    """Replace censored concentrations by a multiple of the LOQ.

    Parameters
    ----------
    concentration_ng_per_l : array_like
        Measured values [ng/L]; ignored where ``censored`` is True.
    loq_ng_per_l : array_like
        Limit of quantification of each value [ng/L].
    censored : array_like of bool
        True where the value is below LOQ/LOD or not detected.
    policy : {"zero", "loq/2", "loq/sqrt2", "loq"}
        Substitute 0, LOQ/2, LOQ/√2 or LOQ (Hornung and Reed 1990).
    source : str
        Name of the input for error messages.
    rows : array_like of int, optional
        Spreadsheet rows of the values (``source_row``) for error messages.

    Returns
    -------
    numpy.ndarray
        Concentrations with censored values substituted [ng/L].

    Raises
    ------
    UnknownNameError
        For an unknown policy (the message lists the valid ones).
    InputError
        If a censored value has no LOQ (unless the policy is ``"zero"``), or an
        uncensored value is missing or negative.

    Notes
    -----
    :math:`\\tilde C_i = C_i` if quantified, else :math:`k\\,LOQ_i` with
    :math:`k \\in \\{0, 1/2, 1/\\sqrt 2, 1\\}`. Substitution biases means and variances
    when many values are censored (Helsel 2006); use it for single samples only.

    References
    ----------
    Hornung RW, Reed LD. 1990. Estimation of average concentration in the presence of
    nondetectable values. Appl Occup Environ Hyg 5:46-51.
    doi:10.1080/1047322X.1990.10389587

    Helsel DR. 2006. Fabricating data: how substituting values for nondetects can ruin
    results, and what can be done about it. Chemosphere 65:2434-2439.
    doi:10.1016/j.chemosphere.2006.04.051

    Examples
    --------
    >>> substitute_censored([5.0, np.nan], [2.0, 2.0], [False, True], "loq/2").tolist()
    [5.0, 1.0]
    """
    if policy not in CENSORING_POLICIES:
        raise unknown_name_error("censoring policy", policy, CENSORING_POLICIES)
    k = CENSORING_POLICIES[policy]
    conc = np.asarray(concentration_ng_per_l, dtype=float)
    loq = np.asarray(loq_ng_per_l, dtype=float)
    cens = np.asarray(pd.array(censored, dtype="boolean").fillna(False), dtype=bool)
    conc, loq, cens = np.broadcast_arrays(conc, loq, cens)
    rows = None if rows is None else np.asarray(rows)

    def _where(i):
        return {"file": source, "row": None if rows is None else int(rows[i])}

    bad = cens & ~np.isfinite(loq) & (k != 0.0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"censored value needs a finite LOQ for policy {policy!r} "
                         f"(got {loq[i]!r})", column="loq_ng_per_l", **_where(i))
    bad = ~cens & ~(np.isfinite(conc) & (conc >= 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"quantified value must be a finite number >= 0, got {conc[i]!r}",
                         column="concentration_ng_per_l", **_where(i))
    return np.where(cens, k * np.where(np.isfinite(loq), loq, 0.0), conc)
