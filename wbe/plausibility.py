"""Plausibility of wastewater concentrations against the plant's own history.

A unit slip (``152, ng/mL`` written for a wastewater sample, read as 152 000 ng/L) gives
values about 1000 times those of the neighbouring days. The readers cannot see this: the
unit is valid. :func:`check_plausibility` compares every quantified concentration with the
median of the same plant and biomarker over the surrounding days and flags a value 100
times or more above or below it, naming the file, the row and the likely unit slip. Without
enough history the fixed plausible range of :data:`wbe.io.MAX_PLAUSIBLE_CONCENTRATION_NG_PER_L`
is used.

The factor 100 is a screening threshold chosen here, not a published limit: day-to-day
variation of influent drug loads within a plant is usually well below a factor 10 (for
example the weekly patterns of stimulants in Zuccato et al. 2008, Environ Health
14:7(1), doi:10.1186/1476-069X-7-14 - unverified), while the common unit slips are factors
of 1000 (ng/L vs ng/mL or µg/L) and 10^6 (ng/L vs mg/L).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from wbe.errors import ImplausibleValueWarning
from wbe.io import MAX_PLAUSIBLE_CONCENTRATION_NG_PER_L

__all__ = ["IMPLAUSIBLE_COLUMNS", "check_plausibility"]

#: Columns of the table returned by :func:`check_plausibility`.
IMPLAUSIBLE_COLUMNS = ("file", "row", "site", "biomarker", "sampled_on",
                       "concentration_ng_per_l", "reference_ng_per_l", "reference", "ratio",
                       "likely_cause")

#: Factors of common unit slips, as powers of ten -> what was probably meant.
_SLIPS = {3: "ng/mL (= µg/L) entered where ng/L was meant (x1000)",
          6: "mg/L (= µg/mL) entered where ng/L was meant (x10^6)",
          -3: "µg/L entered where ng/L was meant, or ng/L where ng/mL was meant (/1000)",
          -6: "ng/L entered where mg/L was meant (/10^6)"}


def _likely_cause(ratio: float) -> str:
    """The unit slip whose factor is nearest ``ratio`` (within half a decade), else a
    generic hint."""
    if not np.isfinite(ratio) or ratio <= 0:
        return "check the value and its unit"
    decade = math.log10(ratio)
    nearest = min(_SLIPS, key=lambda k: abs(k - decade))
    if abs(nearest - decade) <= 0.5:
        return f"likely unit slip: {_SLIPS[nearest]}"
    direction = "above" if ratio > 1 else "below"
    return (f"{ratio:.3g} times {direction} the reference: check the value, its unit and "
            "the sample (a typing error or a mixed-up sample?)")


def check_plausibility(samples: pd.DataFrame, *, file: str | None = None,
                       factor: float = 100.0, window_days: int = 90, min_history: int = 3,
                       warn: bool = True) -> pd.DataFrame:
    """Flag concentrations ``factor`` times or more away from the plant's recent median.

    Parameters
    ----------
    samples : pandas.DataFrame
        Canonical samples (:func:`wbe.io.read_samples` ``.data``: ``site, sampled_on,
        biomarker, concentration_ng_per_l`` [ng/L], optional ``censored`` and
        ``source_row``).
    file : str, optional
        The samples file, named in the warning and the table.
    factor : float, default 100
        Flag ``value >= factor x reference`` or ``value <= reference / factor`` [ratio].
    window_days : int, default 90
        Days before and after a sample whose values of the same plant and biomarker form
        its reference (the sample itself excluded) [days].
    min_history : int, default 3
        Fewest other quantified values in the window for a history reference; with fewer,
        the fixed range ``(0, MAX_PLAUSIBLE_CONCENTRATION_NG_PER_L]`` is used [count].
    warn : bool, default True
        Issue one :class:`~wbe.errors.ImplausibleValueWarning` naming the file, the first
        rows and the likely unit slip when anything is flagged.

    Returns
    -------
    pandas.DataFrame
        One row per flagged sample, columns :data:`IMPLAUSIBLE_COLUMNS` (``row`` is the
        row in the file, ``ratio`` value / reference, ``reference`` says which reference).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"site": "A", "biomarker": "methamphetamine",
    ...                   "sampled_on": pd.date_range("2024-01-01", periods=6),
    ...                   "concentration_ng_per_l": [152, 160, 152_000, 140, 155, 148.0],
    ...                   "source_row": range(2, 8)})
    >>> flagged = check_plausibility(s, file="samples.csv", warn=False)
    >>> flagged["row"].tolist(), flagged["ratio"].tolist()
    ([4], [1000.0])
    >>> flagged["likely_cause"].iloc[0]
    'likely unit slip: ng/mL (= µg/L) entered where ng/L was meant (x1000)'
    """
    conc = pd.to_numeric(samples["concentration_ng_per_l"], errors="coerce")
    quantified = conc.notna() & (conc > 0)
    if "censored" in samples:
        quantified &= ~samples["censored"].fillna(False).astype(bool)
    dates = pd.to_datetime(samples["sampled_on"])
    rows = (samples["source_row"] if "source_row" in samples
            else pd.Series(np.arange(len(samples)) + 2, index=samples.index))
    flagged = []
    window = pd.Timedelta(days=window_days)
    for (site, bio), idx in samples[quantified].groupby(["site", "biomarker"]).groups.items():
        v = conc.loc[idx].to_numpy(float)
        d = dates.loc[idx].to_numpy()
        for j, i in enumerate(idx):
            near = (np.abs(d - d[j]) <= window) & (np.arange(len(v)) != j)
            if near.sum() >= min_history:
                ref = float(np.median(v[near]))
                what = f"median of {int(near.sum())} other samples within {window_days} days"
                ratio = v[j] / ref
                bad = ratio >= factor or ratio <= 1 / factor
            else:
                ref = MAX_PLAUSIBLE_CONCENTRATION_NG_PER_L
                what = "upper end of the plausible range (too little history)"
                ratio = v[j] / ref
                bad = v[j] > ref
            if bad:
                flagged.append({"file": file or "", "row": int(rows.loc[i]), "site": str(site),
                                "biomarker": str(bio),
                                "sampled_on": pd.Timestamp(d[j]).strftime("%Y-%m-%d"),
                                "concentration_ng_per_l": float(v[j]),
                                "reference_ng_per_l": ref, "reference": what,
                                "ratio": float(round(ratio, 6)),
                                "likely_cause": _likely_cause(ratio)})
    out = pd.DataFrame(flagged, columns=list(IMPLAUSIBLE_COLUMNS))
    out = out.sort_values(["row"], kind="stable").reset_index(drop=True)
    if warn and len(out):
        first = out.iloc[0]
        warnings.warn(
            f"file {file or 'samples'!r}: {len(out)} implausible concentration(s), e.g. row "
            f"{first['row']} ({first['site']}, {first['biomarker']}, {first['sampled_on']}: "
            f"{first['concentration_ng_per_l']:.6g} ng/L, {first['ratio']:.3g} x the "
            f"{first['reference']}); {first['likely_cause']}; rows "
            f"{', '.join(str(r) for r in out['row'].head(10))}"
            f"{' ...' if len(out) > 10 else ''}",
            ImplausibleValueWarning, stacklevel=2)
    return out
