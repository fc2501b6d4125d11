"""Published wastewater figures (city and survey values) transcribed with their citations.

The table ``data/published_wastewater.csv`` holds normalised drug consumption and biomarker
loads [mg/day/1000 inhabitants] read from published studies: Chinese multi-city surveys
(Du et al. 2015 and later nationwide and regional studies) and a few cities of the EMCDDA /
SCORE European multi-city study. Every row carries its source, DOI or URL, the part of the
source it was read from (``table``), and ``verified`` (``True`` only for numbers read from
the source text or an authoritative reproduction of it).

Use it to set a city's estimates against published ranges, never as ground truth: studies
differ in excretion factors, population estimates, sampling seasons and years.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from wbe.datasets._registry import _numeric, _read, load_biomarkers, resolve_analyte
from wbe.errors import InputError, UnknownNameError, unknown_name_error

__all__ = [
    "PublishedRange",
    "load_published_wastewater",
    "published_range",
]

_FILE = "published_wastewater.csv"

#: unit of every ``value`` in the table
UNIT = "mg/day/1000 inhabitants"
_QUANTITIES = ("consumption", "load")
_STATISTICS = ("mean", "median", "min", "max", "population-weighted mean")
_COLUMNS = (
    "study", "city", "country", "region", "year", "period", "drug", "biomarker", "quantity",
    "statistic", "value", "unit", "n_plants", "n_days", "source", "doi", "url", "table",
    "verified", "note",
)


def load_published_wastewater(study: str | None = None, drug: str | None = None) -> pd.DataFrame:
    """Published wastewater consumption and load figures, one row per transcribed number.

    Parameters
    ----------
    study : str, optional
        Short study id, for example ``"du2015"`` or ``"emcdda_score"``; all studies if omitted.
    drug : str, optional
        Parent drug (``"methamphetamine"``, ``"ketamine"``, ``"cocaine"``, ``"heroin"``,
        ...) or any analyte name :func:`wbe.datasets.resolve_analyte` knows, in English or
        Chinese (``"冰毒"``, ``"K粉"``); a biomarker name selects its parent drug.

    Returns
    -------
    pandas.DataFrame
        Columns ``study, city, country, region, year, period, drug, biomarker, quantity,
        statistic, value, unit, n_plants, n_days, source, doi, url, table, verified, note``.
        ``value`` is in [mg/day/1000 inhabitants]; ``quantity`` is ``consumption`` (parent
        drug consumed, after the study's correction factor) or ``load`` (mass of the
        biomarker residue in influent, not corrected for excretion); ``statistic`` is one
        of ``mean, median, min, max, population-weighted mean`` and says what the number is
        within its study (a ``min`` row is the lowest city or day reported). ``year``,
        ``n_plants`` and ``n_days`` are nullable integers (missing when not read).

    Raises
    ------
    UnknownNameError
        If ``study`` or ``drug`` is not in the table.
    InputError
        If the packaged table is malformed (a non-number in a numeric column, a value
        that is not positive, a unit other than mg/day/1000 inhabitants, or an unknown
        quantity or statistic).

    Examples
    --------
    >>> t = load_published_wastewater("du2015", drug="冰毒")
    >>> float(t.loc[t["statistic"] == "max", "value"].item())
    181.2
    >>> sorted(set(load_published_wastewater()["quantity"]))
    ['consumption', 'load']
    """
    frame = _load()
    if study is not None:
        valid = frame["study"].unique()
        if study not in valid:
            raise unknown_name_error("published study", study, valid)
        frame = frame[frame["study"] == study]
    if drug is not None:
        frame = frame[frame["drug"] == _resolve_drug(drug, frame["drug"].unique())]
    return frame.reset_index(drop=True)


def _load() -> pd.DataFrame:
    frame = _read(_FILE)
    missing = [c for c in _COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"published table lacks the columns {missing}", file=_FILE)
    frame = _numeric(frame, ["value", "year", "n_plants", "n_days"], _FILE)
    for col in ("year", "n_plants", "n_days"):
        frame[col] = frame[col].astype("Int64")
    _check_levels(frame, "quantity", _QUANTITIES)
    _check_levels(frame, "statistic", _STATISTICS)
    _check_levels(frame, "unit", (UNIT,))
    bad = ~(frame["value"] > 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"expected a positive value, got {frame['value'].iloc[i]!r}",
            file=_FILE, row=i + 2, column="value",
        )
    return frame[list(_COLUMNS)]


def _check_levels(frame: pd.DataFrame, column: str, valid: tuple[str, ...]) -> None:
    bad = ~frame[column].isin(valid)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"expected one of {list(valid)}, got {frame[column].iloc[i]!r}",
            file=_FILE, row=i + 2, column=column,
        )


def _resolve_drug(name: str, valid) -> str:
    """Map a drug or analyte name to a parent-drug id present in ``valid``."""
    valid = set(valid)
    key = str(name).strip().lower()
    if key in valid:
        return key
    try:
        biomarker = resolve_analyte(name)
    except UnknownNameError:
        raise unknown_name_error("drug", name, valid) from None
    parents = load_biomarkers().set_index("biomarker")["parent_drug"]
    parent = parents.get(biomarker, biomarker)
    if parent not in valid:
        raise unknown_name_error("drug", name, valid)
    return parent


@dataclass(frozen=True)
class PublishedRange:
    """Spread of published values for one drug (and optionally one country).

    Attributes
    ----------
    drug : str
        Parent-drug id.
    country : str or None
        Country filter, or None for all countries.
    quantity : str
        ``consumption`` or ``load``.
    unit : str
        Always ``mg/day/1000 inhabitants``.
    n_rows : int
        Number of table rows summarised.
    studies : tuple of str
        Study ids that contributed rows.
    min, median, max : float
        Minimum, median and maximum of ``value`` over those rows
        [mg/day/1000 inhabitants].
    """

    drug: str
    country: str | None
    quantity: str
    unit: str
    n_rows: int
    studies: tuple[str, ...]
    min: float
    median: float
    max: float


def published_range(
    drug: str,
    country: str | None = None,
    *,
    quantity: str = "consumption",
    verified_only: bool = False,
    table: pd.DataFrame | None = None,
) -> PublishedRange:
    """Minimum, median and maximum of the published values for a drug.

    The values summarised are whatever the rows hold (city means, lowest and highest
    city values, population-weighted means), so the result is the envelope of what was
    published, not a distribution of cities. Loads and consumption are never mixed.

    Parameters
    ----------
    drug : str
        Parent drug or analyte name (English or Chinese, see
        :func:`load_published_wastewater`).
    country : str, optional
        Country name as in the table (``"China"``, ``"Austria"``...), case-insensitive.
    quantity : {"consumption", "load"}
        Which kind of figure to summarise [mg/day/1000 inhabitants].
    verified_only : bool
        Keep only rows with ``verified`` True.
    table : pandas.DataFrame, optional
        A table with the columns of :func:`load_published_wastewater` (at least ``study,
        country, drug, quantity, value, verified``); the packaged table if omitted.

    Returns
    -------
    PublishedRange

    Raises
    ------
    UnknownNameError
        If ``drug``, ``country`` or ``quantity`` is unknown.
    InputError
        If no row matches the filters.

    Examples
    --------
    >>> r = published_range("methamphetamine", "China")
    >>> r.min <= r.median <= r.max
    True
    >>> r.unit
    'mg/day/1000 inhabitants'
    """
    if quantity not in _QUANTITIES:
        raise unknown_name_error("quantity", quantity, _QUANTITIES)
    frame = _load() if table is None else table
    rows = frame[frame["drug"] == _resolve_drug(drug, frame["drug"].unique())]
    if country is not None:
        countries = {str(c).lower(): c for c in frame["country"].dropna().unique()}
        if country.strip().lower() not in countries:
            raise unknown_name_error("country", country, countries.values())
        rows = rows[rows["country"] == countries[country.strip().lower()]]
    rows = rows[rows["quantity"] == quantity]
    if verified_only:
        verified = rows["verified"].map(
            lambda v: v if isinstance(v, bool) else str(v).strip().lower() == "true")
        rows = rows[verified.astype(bool)]
    if rows.empty:
        raise InputError(
            f"no published {quantity} figures for drug {drug!r}"
            + (f" in {country!r}" if country else "")
            + (" among verified rows" if verified_only else ""),
            file=_FILE if table is None else "table",
        )
    values = rows["value"].to_numpy(dtype=float)
    return PublishedRange(
        drug=str(rows["drug"].iloc[0]),
        country=None if country is None else str(rows["country"].iloc[0]),
        quantity=quantity,
        unit=UNIT,
        n_rows=len(rows),
        studies=tuple(sorted(rows["study"].unique())),
        min=float(values.min()),
        median=float(np.median(values)),
        max=float(values.max()),
    )
