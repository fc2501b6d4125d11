"""Real published wastewater data: Statistics Canada monthly loads and EUDA/EMCDDA city weeks.

Both tables are copied unchanged into ``data/real/`` (see ``data/real/PROVENANCE.md``) and
returned as tidy tables in the project's canonical columns: loads per capita in
``load_mg_per_day_per_1000`` [mg/day/1000 inhabitants], ``biomarker`` (the measured
metabolite) and ``drug`` (its parent drug) named as in :func:`wbe.datasets.load_biomarkers`.
Both are biomarker loads, not consumption: no excretion correction factor is applied.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

import pandas as pd

from wbe.datasets._registry import load_biomarkers
from wbe.errors import InputError

__all__ = ["load_euda_weekday_loads", "load_statcan_monthly_loads"]

_STATCAN_FILE = "statcan_13-10-0871-01_drug_metabolites_wastewater_monthly.csv"
_EUDA_FILE = "euda_municipal_wastewater_2011-2021_by_weekday.json"

#: StatCan "Measure" label -> registry biomarker id
_STATCAN_BIOMARKER = {
    "Amphetamine": "amphetamine",
    "Cannabis (THC-COOH)": "thc_cooh",
    "Cocaine (Benzoylecgonine)": "benzoylecgonine",
    "Codeine": "codeine",
    "Ecstasy (MDMA)": "mdma",
    "Fentanyl (Norfentanyl)": "norfentanyl",
    "Methadone": "methadone",
    "Methamphetamine": "methamphetamine",
    "Morphine": "morphine",
    "Oxycodone": "oxycodone",
}
#: parents of the StatCan biomarkers that the registry does not list
_UNREGISTERED_PARENT = {"norfentanyl": "fentanyl", "oxycodone": "oxycodone"}

#: StatCan "Characteristics" label -> output column [mg/day/1000 inhabitants or %]
_STATCAN_COLUMN = {
    "Load per capita (milligrams per one thousand people per day)": "load_mg_per_day_per_1000",
    "Low 95% confidence interval, load per capita": "ci_low_mg_per_day_per_1000",
    "High 95% confidence interval, load per capita": "ci_high_mg_per_day_per_1000",
    "Standard error, load per capita": "se_mg_per_day_per_1000",
    "Imputation rate, load per capita": "imputation_rate_percent",
}
_STATCAN_AVERAGE = "Weighted average, cities measured"

#: EUDA metabolite name -> registry biomarker id
_EUDA_BIOMARKER = {
    "amphetamine": "amphetamine",
    "cannabis": "thc_cooh",
    "cocaine": "benzoylecgonine",
    "MDMA": "mdma",
    "methamphetamine": "methamphetamine",
}
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _path(file: str):
    return resources.files("wbe.datasets").joinpath("data", "real", file)


def _parent_drug(biomarker: str) -> str:
    parents = load_biomarkers().set_index("biomarker")["parent_drug"]
    if biomarker in parents.index:
        return str(parents[biomarker])
    return _UNREGISTERED_PARENT[biomarker]


@cache
def _statcan() -> pd.DataFrame:
    with resources.as_file(_path(_STATCAN_FILE)) as path:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    for col, known in (("Measure", _STATCAN_BIOMARKER), ("Characteristics", _STATCAN_COLUMN)):
        unknown = sorted(set(raw[col]) - set(known))
        if unknown:
            raise InputError(f"unexpected {col} {unknown[0]!r}", file=_STATCAN_FILE, column=col)
    values = pd.to_numeric(raw["VALUE"], errors="coerce")
    if values.isna().any():
        row = int(values.isna().idxmax())
        raise InputError("VALUE is not a number", file=_STATCAN_FILE, row=row + 2,
                         column="VALUE", value=raw.loc[row, "VALUE"])
    long = pd.DataFrame({
        "city": raw["GEO"],
        "month": pd.PeriodIndex(raw["REF_DATE"], freq="M"),
        "substance": raw["Measure"],
        "column": raw["Characteristics"].map(_STATCAN_COLUMN),
        "value": values,
        "status": raw["STATUS"],
    })
    keys = ["city", "month", "substance"]
    tidy = long.pivot(index=keys, columns="column", values="value").reset_index()
    caution = long.groupby(keys)["status"].agg(lambda s: bool((s == "E").any()))
    tidy = tidy.merge(caution.rename("use_with_caution").reset_index(), on=keys)
    tidy["biomarker"] = tidy["substance"].map(_STATCAN_BIOMARKER)
    tidy["drug"] = tidy["biomarker"].map(_parent_drug)
    tidy.columns.name = None
    cols = ["city", "month", "substance", "drug", "biomarker", *_STATCAN_COLUMN.values(),
            "use_with_caution"]
    return tidy[cols].sort_values(["city", "biomarker", "month"]).reset_index(drop=True)


def load_statcan_monthly_loads(*, include_average: bool = False) -> pd.DataFrame:
    """Monthly drug-metabolite loads in Canadian cities, Statistics Canada Table 13-10-0871-01.

    Mean daily loads per capita of 10 biomarkers in the influent of 7 cities (Halifax,
    Montreal, Toronto, Edmonton, Vancouver, Prince Albert, Saskatoon), monthly from 2022-01
    to 2022-12 and every other month from 2023-01 to 2023-11 (Prince Albert and Saskatoon
    join later), with the published 95 % confidence limits, standard errors and imputation
    rates. StatCan collected daily 24-h composite samples and multiply imputed missing days.

    Source: Statistics Canada, Table 13-10-0871-01, "Drug metabolites in wastewater in select
    Canadian cities, by month", doi:10.25318/1310087101-eng. Licence: Statistics Canada Open
    Licence (attribution "Source: Statistics Canada, Table 13-10-0871-01"; no endorsement
    implied). Copied unchanged from the republication in the public repository
    ADrugResearcher/Canadian-Drug-Waste-Water; see ``wbe/datasets/data/real/PROVENANCE.md``.

    Parameters
    ----------
    include_average : bool, default False
        Also return StatCan's "Weighted average, cities measured" rows (``city`` then holds
        that label).

    Returns
    -------
    pandas.DataFrame
        One row per city, month and biomarker: ``city`` (StatCan's GEO label, e.g.
        ``"Toronto, Ontario"``), ``month`` (pandas Period, monthly), ``substance`` (the
        published label), ``drug`` and ``biomarker`` (registry ids; ``norfentanyl`` ->
        ``fentanyl`` and ``oxycodone`` are not in the registry), ``load_mg_per_day_per_1000``,
        ``ci_low_mg_per_day_per_1000``, ``ci_high_mg_per_day_per_1000``,
        ``se_mg_per_day_per_1000`` [mg/day/1000 inhabitants], ``imputation_rate_percent``
        [%] and ``use_with_caution`` (bool, StatCan status "E" on any of the five values).
        These are biomarker loads, not drug consumption.

    Notes
    -----
    ``drug`` follows the registry's ``parent_drug``: ``morphine`` maps to ``heroin`` there,
    although morphine in wastewater also comes from medical morphine and codeine.

    Examples
    --------
    >>> from wbe.datasets import load_statcan_monthly_loads
    >>> can = load_statcan_monthly_loads()
    >>> can["city"].nunique(), can["biomarker"].nunique()
    (7, 10)
    >>> row = can.query("city == 'Toronto, Ontario' and biomarker == 'methamphetamine'")
    >>> str(row["month"].min()), str(row["month"].max())
    ('2022-01', '2023-11')
    """
    out = _statcan().copy()
    if not include_average:
        out = out[out["city"] != _STATCAN_AVERAGE].reset_index(drop=True)
    return out


@cache
def _euda() -> pd.DataFrame:
    with resources.as_file(_path(_EUDA_FILE)) as path, open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    rows = []
    for country in doc["countries"]:
        for city in country["cities"] or []:
            for plant in city["locations"]:
                for m in plant["measurements"] or []:
                    name = m["metabolite"]["name"]
                    if name not in _EUDA_BIOMARKER or m["dayofweek"] not in _WEEKDAYS:
                        raise InputError(
                            f"unexpected metabolite {name!r} or day {m['dayofweek']!r}",
                            file=_EUDA_FILE, row=m.get("id"))
                    rows.append((
                        country["country_code"], country["name"], city["name"], plant["id"],
                        plant["name"], plant["population_size"], plant["latitude"],
                        plant["longitude"], m["year"], m["dayofweek"], name, m["value"],
                    ))
    cols = ["country_code", "country", "city", "plant_id", "plant", "population",
            "latitude", "longitude", "year", "day_of_week", "substance",
            "load_mg_per_day_per_1000"]
    out = pd.DataFrame(rows, columns=cols)
    out["day_of_week"] = pd.Categorical(out["day_of_week"], categories=_WEEKDAYS, ordered=True)
    out["biomarker"] = out["substance"].map(_EUDA_BIOMARKER)
    out["drug"] = out["biomarker"].map(_parent_drug)
    out["load_mg_per_day_per_1000"] = out["load_mg_per_day_per_1000"].astype(float)
    order = [*cols[:10], "substance", "drug", "biomarker", "load_mg_per_day_per_1000"]
    return out[order].sort_values(
        ["country_code", "city", "plant_id", "biomarker", "year", "day_of_week"]
    ).reset_index(drop=True)


def load_euda_weekday_loads() -> pd.DataFrame:
    """Daily drug-biomarker loads of the European wastewater study, 144 cities, 2011-2021.

    For each plant and year, the load per capita on each day of the annual one-week sampling
    campaign for amphetamine, THC-COOH (cannabis), benzoylecgonine (cocaine), MDMA and
    methamphetamine, with the population served by the plant.

    Source: European Union Drugs Agency (EUDA, formerly EMCDDA), "Drugs in municipal
    wastewater in selected European cities" (European wastewater study, SCORE network), via
    data.europa.eu. Licence: CC BY 4.0 (attribution EMCDDA/EUDA and the SCORE group). Copied
    unchanged from the republication in the public repository Svudec/drugs-in-wastewater
    (dataset version 2.0); see ``wbe/datasets/data/real/PROVENANCE.md``.

    Returns
    -------
    pandas.DataFrame
        One row per plant, year, day of the week and biomarker (17,758 rows):
        ``country_code``, ``country``, ``city``, ``plant_id``, ``plant``, ``population``
        [inhabitants served], ``latitude``, ``longitude`` [degrees, WGS 84], ``year``,
        ``day_of_week`` (ordered categorical Monday..Sunday; the calendar dates are not
        published), ``substance`` (the published name), ``drug`` and ``biomarker``
        (registry ids), ``load_mg_per_day_per_1000`` [mg/day/1000 inhabitants]. Values of 0
        are kept as published. These are biomarker loads, not drug consumption.

    Examples
    --------
    >>> from wbe.datasets import load_euda_weekday_loads
    >>> eu = load_euda_weekday_loads()
    >>> len(eu), eu["plant_id"].nunique(), int(eu["year"].min()), int(eu["year"].max())
    (17758, 144, 2011, 2021)
    >>> sorted(eu["drug"].unique())
    ['amphetamine', 'cocaine', 'mdma', 'methamphetamine', 'thc']
    """
    return _euda().copy()
