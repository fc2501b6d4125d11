"""Loaders for the reference-parameter registry stored as CSV files in ``data/``.

Every file carries, for every value, its source (authors, year, journal), DOI and a
``verified`` flag saying whether the value was checked against the source text.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

import pandas as pd

from wbe.errors import InputError, unknown_name_error

__all__ = [
    "DATASETS",
    "biomarker_parameters",
    "list_datasets",
    "list_parameter_sets",
    "load_aliases",
    "load_biomarker_parameters",
    "load_biomarkers",
    "load_cutoffs",
    "load_measurement_modes",
    "load_measurement_uncertainty",
    "load_parameter_mixtures",
    "load_population_markers",
    "resolve_analyte",
]

#: name -> (file, description)
DATASETS: dict[str, tuple[str, str]] = {
    "biomarkers": ("biomarkers.csv", "biomarker chemistry: parent drug, class, molar masses"),
    "biomarker_parameters": (
        "biomarker_parameters.csv",
        "published back-calculation parameter sets (excretion, correction factor, "
        "in-sewer half-life, typical dose), long format",
    ),
    "analyte_aliases": (
        "analyte_aliases.csv",
        "English, abbreviated and Chinese analyte names mapped to canonical ids",
    ),
    "population_marker_aliases": (
        "population_marker_aliases.csv",
        "English, abbreviated and Chinese population-marker names mapped to canonical ids",
    ),
    "population_markers": (
        "population_markers.csv",
        "per-capita loads of hydrochemical population markers and cotinine factors",
    ),
    "cutoffs": ("cutoffs.csv", "hair and urine drug-test cutoff sets, screen and confirm"),
    "published_wastewater": (
        "published_wastewater.csv",
        "published city and survey consumption and loads, each row cited",
    ),
    "parameter_mixtures": (
        "parameter_mixtures.csv",
        "weights of published parameter sets per biomarker for parameters='mixture' "
        "(model uncertainty across sets)",
    ),
    "measurement_modes": (
        "measurement_modes.csv",
        "sampling-error CV per sampling mode and population CV per population method",
    ),
    "measurement_uncertainty": (
        "measurement_uncertainty.csv",
        "default coefficients of variation of sampling, analysis, flow and population",
    ),
    "seed_figures": (
        "seed_figures.csv",
        "figures quoted verbatim from Chinese drug-control work reports (tests, users, "
        "abstinence rates), each with its source file and passage; see load_seed_figures",
    ),
}

_SOURCE_COLUMNS = ("source", "verified")


def list_datasets() -> pd.DataFrame:
    """List the registry tables with their file, description and row count.

    Examples
    --------
    >>> "biomarkers" in set(list_datasets()["name"])
    True
    """
    rows = []
    for name, (file, description) in DATASETS.items():
        rows.append(
            {"name": name, "file": file, "rows": len(read_data_file(file)),
             "description": description}
        )
    return pd.DataFrame(rows)


@cache
def _read_cached(file: str) -> pd.DataFrame:
    text = resources.files("wbe.datasets").joinpath("data", file)
    with resources.as_file(text) as path:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    # Alias rows are names, not values: they need no source.
    required = () if file.endswith("aliases.csv") else _SOURCE_COLUMNS
    for col in required:
        if col not in frame.columns:
            raise InputError(f"registry table lacks the {col!r} column", file=file)
    if "verified" in frame.columns:
        frame["verified"] = frame["verified"].str.strip().str.lower().map(
            {"true": True, "false": False}
        )
    return frame


def read_data_file(file: str) -> pd.DataFrame:
    # Callers get a copy so that nobody can change the cached registry.
    return _read_cached(file).copy()


def numeric_column(frame: pd.DataFrame, columns, file: str) -> pd.DataFrame:
    for col in columns:
        if col not in frame.columns:
            continue
        converted = pd.to_numeric(frame[col], errors="coerce")
        bad = converted.isna() & frame[col].notna()
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise InputError(
                f"expected a number, got {frame[col].iloc[i]!r}", file=file, row=i + 2, column=col
            )
        frame[col] = converted
    return frame


def select_rows(frame: pd.DataFrame, column: str, name: str | None, what: str) -> pd.DataFrame:
    """Rows whose ``column`` equals ``name`` (all rows if None); unknown names raise."""
    if name is None:
        return frame
    valid = frame[column].unique()
    if name not in valid:
        raise unknown_name_error(what, name, valid)
    return frame[frame[column] == name].reset_index(drop=True)


def load_biomarkers() -> pd.DataFrame:
    """Biomarker chemistry: one row per canonical biomarker id.

    Returns
    -------
    pandas.DataFrame
        Columns ``biomarker, name, parent_drug, drug_class, molar_mass_g_per_mol,
        parent_molar_mass_g_per_mol, is_population_marker, source, doi, verified, note``.
    """
    file = DATASETS["biomarkers"][0]
    frame = numeric_column(
        read_data_file(file), ["molar_mass_g_per_mol", "parent_molar_mass_g_per_mol"], file
    )
    frame["is_population_marker"] = frame["is_population_marker"].str.lower().eq("true")
    return frame


def list_parameter_sets() -> list[str]:
    """Names of the published biomarker parameter sets in the registry."""
    return sorted(read_data_file(DATASETS["biomarker_parameters"][0])["parameter_set"].unique())


def load_biomarker_parameters(parameter_set: str | None = None) -> pd.DataFrame:
    """Back-calculation parameters in long format (one row per set, biomarker, parameter).

    Parameters
    ----------
    parameter_set : str, optional
        One set (for example ``"default"``, ``"zuccato2008"``); all sets if omitted.

    Returns
    -------
    pandas.DataFrame
        Columns ``parameter_set, biomarker, parameter, value, sd, low, high,
        distribution, unit, source, doi, table, verified, note``. ``value`` of a
        ``half_life_h`` row is ``inf`` for a compound stable in sewers.

    Raises
    ------
    UnknownNameError
        If ``parameter_set`` is not in the registry.
    """
    file = DATASETS["biomarker_parameters"][0]
    frame = numeric_column(read_data_file(file), ["value", "sd", "low", "high"], file)
    return select_rows(frame, "parameter_set", parameter_set, "parameter set")


def biomarker_parameters(parameter_set: str = "default") -> pd.DataFrame:
    """One parameter set as a wide table indexed by biomarker.

    A set gives either ``excretion_fraction`` or ``correction_factor`` for a biomarker
    (:func:`wbe.datasets.correction_factor_spec` turns either into the CF). Columns are
    the parameter names (``excretion_fraction``, ``correction_factor``,
    ``half_life_h``, ``typical_dose_mg``, ...) with their ``<name>_sd``,
    ``<name>_low``, ``<name>_high`` and ``<name>_distribution`` companions, plus
    ``drug`` (the parent drug) and the molar masses from :func:`load_biomarkers`.

    Examples
    --------
    >>> p = biomarker_parameters("default")
    >>> round(float(p.loc["methamphetamine", "excretion_fraction"]), 2)
    0.39
    """
    long = load_biomarker_parameters(parameter_set)
    pieces = {}
    for suffix, col in [("", "value"), ("_sd", "sd"), ("_low", "low"), ("_high", "high")]:
        wide = long.pivot_table(index="biomarker", columns="parameter", values=col, aggfunc="first")
        pieces.update({f"{p}{suffix}": wide[p] for p in wide.columns})
    dist = long.pivot_table(
        index="biomarker", columns="parameter", values="distribution", aggfunc="first"
    )
    pieces.update({f"{p}_distribution": dist[p] for p in dist.columns})
    wide = pd.DataFrame(pieces)
    chem = load_biomarkers().set_index("biomarker")
    wide["drug"] = chem["parent_drug"].reindex(wide.index)
    wide["molar_mass_g_per_mol"] = chem["molar_mass_g_per_mol"].reindex(wide.index)
    wide["parent_molar_mass_g_per_mol"] = chem["parent_molar_mass_g_per_mol"].reindex(wide.index)
    wide.index.name = "biomarker"
    return wide.sort_index(axis=1)


def load_parameter_mixtures(mixture: str | None = None) -> pd.DataFrame:
    """Weights of published parameter sets per biomarker (model uncertainty across sets).

    ``back_calculate(parameters="mixture")`` draws, per draw and biomarker, which set's
    correction-factor specification holds, with these weights; ``relative_sd`` widens a
    set that publishes no spread (a normal with that relative SD, as the default set does).

    Parameters
    ----------
    mixture : str, optional
        One mixture (for example ``"mixture"``); all if omitted.

    Returns
    -------
    pandas.DataFrame
        Columns ``mixture, biomarker, parameter_set, weight, relative_sd, source,
        verified, note``.

    Raises
    ------
    UnknownNameError
        If ``mixture`` is not in the registry.

    Examples
    --------
    >>> m = load_parameter_mixtures("mixture")
    >>> sorted(m.loc[m["biomarker"] == "mdma", "parameter_set"])
    ['default', 'zuccato2008']
    """
    file = DATASETS["parameter_mixtures"][0]
    frame = numeric_column(read_data_file(file), ["weight", "relative_sd"], file)
    return select_rows(frame, "mixture", mixture, "parameter mixture")


def load_aliases() -> pd.DataFrame:
    """Analyte aliases: columns ``alias, biomarker, language, note`` plus ``key``.

    ``key`` is the normalised alias used for matching (see :func:`resolve_analyte`).
    """
    frame = read_data_file(DATASETS["analyte_aliases"][0])
    frame["key"] = frame["alias"].map(_alias_key)
    return frame


def _alias_key(name: str) -> str:
    text = str(name).strip().lower().replace("（", "(").replace("）", ")")
    return re.sub(r"[\s\-_'’,]", "", text)


@cache
def _alias_table() -> dict[str, str]:
    aliases = load_aliases()
    table = dict(zip(aliases["key"], aliases["biomarker"], strict=True))
    for biomarker in load_biomarkers()["biomarker"]:
        table.setdefault(_alias_key(biomarker), biomarker)
    for biomarker in aliases["biomarker"].unique():
        table.setdefault(_alias_key(biomarker), biomarker)
    return table


def resolve_analyte(name: str, **where: object) -> str:
    """Map an analyte name in English, abbreviation or Chinese to its canonical id.

    Matching ignores case, spaces, hyphens, underscores and apostrophes.

    Parameters
    ----------
    name : str
        Name as written on a lab report, for example ``"METH"`` or ``"甲基苯丙胺"``.
    **where
        ``file``, ``row``, ``column`` for the error message.

    Raises
    ------
    UnknownNameError
        If the name is unknown; the message gives the closest known names.

    Examples
    --------
    >>> resolve_analyte("Methamphetamine")
    'methamphetamine'
    >>> resolve_analyte("氯胺酮")
    'ketamine'
    """
    table = _alias_table()
    key = _alias_key(name)
    if key in table:
        return table[key]
    raise unknown_name_error("analyte", name, sorted(set(table.values())), **where)


def load_population_markers() -> pd.DataFrame:
    """Per-capita loads of population markers (g/person/day) and cotinine factors.

    Returns
    -------
    pandas.DataFrame
        Columns ``marker, region, value, sd, low, high, unit, basis, source, doi,
        verified, note``.
    """
    file = DATASETS["population_markers"][0]
    return numeric_column(read_data_file(file), ["value", "sd", "low", "high"], file)


def load_measurement_uncertainty() -> pd.DataFrame:
    """Default uncertainty of measured components (sampling, analysis, flow, population).

    Returns
    -------
    pandas.DataFrame
        Columns ``component, scope, distribution, cv, low, high, source, doi,
        verified, note``; ``scope`` is ``global``, ``site`` or ``sample``.
    """
    file = DATASETS["measurement_uncertainty"][0]
    return numeric_column(read_data_file(file), ["cv", "low", "high"], file)


def load_measurement_modes(component: str | None = None) -> pd.DataFrame:
    """Measurement uncertainty per sampling mode and per population method.

    The ``sampling_mode`` and ``population_method`` columns of the sites table select a
    row (:func:`wbe.backcalc.back_calculate`); the first row of each component, flagged
    ``DEFAULT`` in its note, applies when a site gives none.

    Parameters
    ----------
    component : {"sampling", "population"}, optional
        One component; both if omitted.

    Returns
    -------
    pandas.DataFrame
        Columns ``component, mode, distribution, cv, source, doi, verified, note``.

    Raises
    ------
    UnknownNameError
        If ``component`` is not in the table.

    Examples
    --------
    >>> t = load_measurement_modes("sampling").set_index("mode")
    >>> float(t.loc["time-proportional", "cv"])
    0.3
    """
    file = DATASETS["measurement_modes"][0]
    frame = numeric_column(read_data_file(file), ["cv"], file)
    return select_rows(frame, "component", component, "measurement component")


def load_cutoffs(cutoff_set: str | None = None) -> pd.DataFrame:
    """Drug-test cutoffs (hair in ng/mg, urine in ng/mL), screen and confirm.

    Parameters
    ----------
    cutoff_set : str, optional
        For example ``"sht2012"`` or ``"samhsa2017"``; all sets if omitted.

    Raises
    ------
    UnknownNameError
        If ``cutoff_set`` is not in the registry.
    """
    file = DATASETS["cutoffs"][0]
    frame = numeric_column(read_data_file(file), ["cutoff", "requires_cutoff"], file)
    return select_rows(frame, "cutoff_set", cutoff_set, "cutoff set")
