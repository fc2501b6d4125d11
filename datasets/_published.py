"""Published wastewater figures (city and survey values) transcribed with their citations.

The table ``data/published_wastewater.csv`` holds normalised drug consumption and biomarker
loads [mg/day/1000 inhabitants] read from published studies: Chinese multi-city surveys
(Du et al. 2015 and later nationwide and regional studies) and a few cities of the EMCDDA /
SCORE European multi-city study. Every row carries its source, DOI or URL, the part of the
source it was read from (``table``), and ``verified`` (``True`` only for numbers read from
the source text or an authoritative reproduction of it).

Use it to set a city's estimates against published ranges, never as ground truth: studies
differ in excretion factors, population estimates, sampling seasons and years. Every row
therefore says how it was made: ``factor_basis`` (``none`` for a residue load with no
excretion factor, ``correction_factor`` when the study's factor is known and stored in
``correction_factor_used``, ``unknown`` otherwise), ``factor_source``,
``population_method`` and ``sampling_design``. :func:`published_range` can rescale rows to
the user's correction factors when the factor is known, and refuses to mix when it is not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from wbe.datasets._registry import load_biomarkers, numeric_column, read_data_file, resolve_analyte
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
    "verified", "note", "factor_basis", "correction_factor_used", "factor_source",
    "population_method", "sampling_design",
)
#: How a row's value relates to the biomarker residue load (column ``factor_basis``).
FACTOR_BASES = ("none", "correction_factor", "unknown")


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
        statistic, value, unit, n_plants, n_days, source, doi, url, table, verified, note,
        factor_basis, correction_factor_used, factor_source, population_method,
        sampling_design``.
        ``value`` is in [mg/day/1000 inhabitants]; ``quantity`` is ``consumption`` (parent
        drug consumed, after the study's correction factor) or ``load`` (mass of the
        biomarker residue in influent, not corrected for excretion); ``statistic`` is one
        of ``mean, median, min, max, population-weighted mean`` and says what the number is
        within its study (a ``min`` row is the lowest city or day reported). ``year``,
        ``n_plants`` and ``n_days`` are nullable integers (missing when not read).
        ``factor_basis`` is ``none`` (a residue load, no excretion factor), ``correction_factor``
        (the study's factor is known: ``correction_factor_used`` [dimensionless], parent
        mass per biomarker mass excreted) or ``unknown``; ``population_method`` and
        ``sampling_design`` describe how the study counted people and sampled ("not read"
        where the source text was not seen).

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
    frame = read_data_file(_FILE)
    missing = [c for c in _COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"published table lacks the columns {missing}", file=_FILE)
    frame = numeric_column(frame, ["value", "year", "n_plants", "n_days", "correction_factor_used"],
                     _FILE)
    for col in ("year", "n_plants", "n_days"):
        frame[col] = frame[col].astype("Int64")
    _check_levels(frame, "quantity", _QUANTITIES)
    _check_levels(frame, "statistic", _STATISTICS)
    _check_levels(frame, "unit", (UNIT,))
    _check_levels(frame, "factor_basis", FACTOR_BASES)
    has_cf = frame["correction_factor_used"].notna()
    bad = has_cf != (frame["factor_basis"] == "correction_factor")
    bad |= has_cf & ~(frame["correction_factor_used"] > 0)
    bad |= (frame["factor_basis"] == "none") & (frame["quantity"] != "load")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            "correction_factor_used must be a positive number exactly when factor_basis is "
            "'correction_factor', and factor_basis 'none' is for loads only",
            file=_FILE, row=i + 2, column="correction_factor_used",
        )
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
    factors : tuple of str
        ``study: factor basis`` of every study summarised (``none``, ``CF 5``, ``unknown``).
    comparable : bool
        True when every row rests on the same factor (all residue loads, or all
        consumption with one known correction factor, or rescaled to one set).
    rescaled_to : str or None
        The correction factors the values were rescaled to, if any.
    excluded_studies : tuple of str
        Studies left out of a rescaled range because their factor is unknown.
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
    factors: tuple[str, ...] = ()
    comparable: bool = False
    rescaled_to: str | None = None
    excluded_studies: tuple[str, ...] = ()


def published_range(
    drug: str,
    country: str | None = None,
    *,
    quantity: str = "consumption",
    verified_only: bool = False,
    table: pd.DataFrame | None = None,
    rescale_to=None,
    unknown_factor: str = "refuse",
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
        country, drug, quantity, value, verified``; rows without ``factor_basis`` count as
        ``unknown``); the packaged table if omitted.
    rescale_to : str, float or mapping, optional
        Express every row as consumption under these correction factors (parent mass per
        biomarker mass excreted): a registry parameter set (``"default"``,
        ``"du2020-china"`` ...), one number, or ``{biomarker: CF}``. Residue loads are
        multiplied by the CF; consumption rows made with a known factor are multiplied by
        CF / ``correction_factor_used``. Loads and consumption rows are then summarised
        together (both as consumption). In-sewer stability is not corrected.
    unknown_factor : {"refuse", "exclude"}
        With ``rescale_to``: rows whose factor is unknown raise an InputError naming their
        studies (``refuse``), or are left out and listed in ``excluded_studies``
        (``exclude``).

    Returns
    -------
    PublishedRange

    Raises
    ------
    UnknownNameError
        If ``drug``, ``country`` or ``quantity`` is unknown.
    InputError
        If no row matches the filters, or (with ``rescale_to``) a row's factor is unknown
        and ``unknown_factor="refuse"``, or no correction factor is known for a biomarker.

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
    if rescale_to is None:
        rows = rows[rows["quantity"] == quantity]
    elif unknown_factor not in ("refuse", "exclude"):
        raise unknown_name_error("unknown_factor policy", unknown_factor, ("refuse", "exclude"))
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
    rows = rows.copy()
    if "factor_basis" not in rows.columns:
        rows["factor_basis"] = "unknown"
    if "correction_factor_used" not in rows.columns:
        rows["correction_factor_used"] = np.nan
    values = rows["value"].to_numpy(dtype=float)
    excluded: tuple[str, ...] = ()
    label = None
    if rescale_to is not None:
        unknown = ~rows["factor_basis"].isin(["none", "correction_factor"])
        if unknown.any():
            studies = sorted(rows.loc[unknown, "study"].unique())
            if unknown_factor == "refuse":
                raise InputError(
                    f"cannot rescale: the correction factor used by {studies} is unknown, so "
                    "their figures cannot be put on the same factor as the others (pass "
                    "unknown_factor='exclude' to leave them out)",
                    file=_FILE if table is None else "table", column="factor_basis")
            excluded = tuple(studies)
            rows = rows[~unknown]
            if rows.empty:
                raise InputError(f"no published figure for drug {drug!r} has a known "
                                 f"factor (unknown: {studies})",
                                 file=_FILE if table is None else "table",
                                 column="factor_basis")
        target, label = _target_factors(rescale_to, rows["biomarker"].unique())
        cf_user = rows["biomarker"].map(target).to_numpy(dtype=float)
        cf_used = np.where(rows["factor_basis"] == "correction_factor",
                           rows["correction_factor_used"].to_numpy(dtype=float), 1.0)
        values = rows["value"].to_numpy(dtype=float) * cf_user / cf_used
        quantity = "consumption"
    factors = tuple(
        f"{study}: " + ("; ".join(sorted({_factor_text(b, c) for b, c in zip(
            g["factor_basis"], g["correction_factor_used"], strict=True)})))
        for study, g in rows.groupby("study", sort=True))
    bases = {_factor_text(b, c) for b, c in zip(rows["factor_basis"],
                                                rows["correction_factor_used"], strict=True)}
    comparable = rescale_to is not None or (len(bases) == 1 and "unknown" not in bases)
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
        factors=factors,
        comparable=bool(comparable),
        rescaled_to=label,
        excluded_studies=excluded,
    )


def _factor_text(basis, cf) -> str:
    if basis == "correction_factor":
        return f"CF {float(cf):g}"
    return str(basis) if basis in ("none", "unknown") else "unknown"


def _target_factors(rescale_to, biomarkers) -> tuple[dict, str]:
    """Correction factor per biomarker of the user's choice, and a label for it."""
    biomarkers = [b for b in biomarkers if isinstance(b, str)]
    if isinstance(rescale_to, str):
        from wbe.datasets._registry import biomarker_parameters

        wide = biomarker_parameters(rescale_to)
        out = {}
        for b in biomarkers:
            cf = float("nan")
            if b in wide.index:
                row = wide.loc[b]
                cf = float(row.get("correction_factor", np.nan))
                if not np.isfinite(cf) and np.isfinite(float(row.get("excretion_fraction",
                                                                        np.nan))):
                    cf = (float(row["parent_molar_mass_g_per_mol"])
                          / float(row["molar_mass_g_per_mol"])
                          / float(row["excretion_fraction"]))
            if not (np.isfinite(cf) and cf > 0):
                raise InputError(f"parameter set {rescale_to!r} has no correction factor "
                                 f"for {b!r}", column="correction_factor")
            out[b] = cf
        return out, f"parameter set {rescale_to!r}"
    if isinstance(rescale_to, dict):
        missing = [b for b in biomarkers if b not in rescale_to]
        if missing:
            raise InputError(f"rescale_to: no correction factor for {missing}")
        out = {b: float(rescale_to[b]) for b in biomarkers}
    else:
        try:
            value = float(rescale_to)
        except (TypeError, ValueError):
            raise InputError(f"rescale_to: expected a parameter-set name, a number or a "
                             f"mapping, got {rescale_to!r}") from None
        if len(set(biomarkers)) > 1:
            raise InputError(f"rescale_to: one number for several biomarkers "
                             f"{sorted(set(biomarkers))}; give a mapping")
        out = {b: value for b in biomarkers}
    if not all(np.isfinite(v) and v > 0 for v in out.values()):
        raise InputError(f"rescale_to: correction factors must be positive, got {out}")
    return out, ", ".join(f"{b}: CF {v:g}" for b, v in sorted(out.items()))
