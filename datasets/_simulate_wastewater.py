"""Wastewater part of the simulator: sites, flows, consumption, biomarker loads, samples.

The forward chain (consumption -> excreted load -> in-sewer loss -> load at the plant ->
concentration) is the inverse of :mod:`wbe.chain`, built from its functions, so that a change of
the stability model or the correction factor there changes the simulated truth too.
:mod:`wbe.chain` depends on numpy only, so :mod:`wbe.datasets` stays a leaf (dependency
direction: ``wbe.datasets -> wbe.chain``, never the reverse; see docs/conventions.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
from scipy import special

from wbe import chain
from wbe.datasets._distributions import parameter_distribution
from wbe.datasets._registry import biomarker_parameters, load_measurement_uncertainty
from wbe.datasets._simulate_common import lognormal_noise as _lognormal_noise
from wbe.datasets._simulate_common import stream as _stream
from wbe.errors import InputError, unknown_name_error

__all__ = ["FLOW_DEFAULTS", "LOQ_NG_PER_L", "measurement_cv", "simulate_wastewater"]

# --------------------------------------------------------------------------------------
# Default scenario. Levels are medians of the daily true consumption of a city-average site
# [mg/day/1000 inhabitants]; log-scale spreads are standard deviations of natural logs.
# --------------------------------------------------------------------------------------
_CONSUMPTION_COLUMNS = [
    "level_mg_per_day_per_1000", "site_log_sd", "trend_per_year", "season_amplitude",
    "season_peak_doy", "weekday_amplitude", "daily_log_sd",
]
_CONSUMPTION_ROWS = {
    # drug: level, site sd, trend, season amplitude, peak day-of-year, weekday amp, daily sd
    "methamphetamine": (60.0, 0.40, -0.08, 0.10, 200, 0.03, 0.20),
    "amphetamine": (3.0, 0.40, 0.0, 0.05, 200, 0.03, 0.30),
    "ketamine": (5.0, 0.60, -0.05, 0.05, 200, 0.20, 0.30),
    "mdma": (1.0, 0.50, 0.0, 0.05, 200, 0.70, 0.30),
    "mda": (0.3, 0.50, 0.0, 0.05, 200, 0.70, 0.30),
    "cocaine": (0.5, 0.50, 0.0, 0.05, 200, 0.50, 0.30),
    "heroin": (10.0, 0.50, -0.05, 0.0, 200, 0.0, 0.25),
    "morphine": (10.0, 0.50, -0.05, 0.0, 200, 0.0, 0.25),
    "codeine": (20.0, 0.30, 0.0, 0.10, 20, 0.0, 0.20),
    "methadone": (5.0, 0.50, 0.0, 0.0, 200, 0.0, 0.15),
    "thc": (2.0, 0.50, 0.0, 0.05, 200, 0.05, 0.30),
    "cannabis": (2.0, 0.50, 0.0, 0.05, 200, 0.05, 0.30),
}

#: Relative position of the weekend in the 24-h composite starting on Mon..Sun: the
#: Saturday and Sunday composites (covering Saturday and Sunday nights) carry the weekend
#: peak, the Monday and Friday composites part of it.
_WEEKEND_SHAPE = np.array([0.5, 0.0, 0.0, 0.0, 0.2, 1.0, 1.0])

_LOQ_NG_PER_L = {
    "methamphetamine": 2.0, "amphetamine": 2.0, "ketamine": 1.0, "norketamine": 1.0,
    "mdma": 1.0, "mda": 1.0, "benzoylecgonine": 1.0, "cocaine": 1.0, "morphine": 5.0,
    "codeine": 2.0, "6_mam": 2.0, "methadone": 1.0, "eddp": 1.0, "thc_cooh": 10.0,
    "cotinine": 10.0,
}

_FLOW_DEFAULTS = {
    "per_capita_l_per_day": (150.0, 300.0),  # uniform range [L/person/day]
    "dry_day_cv": 0.05,  # day-to-day variation of dry-weather flow [fraction]
    "weekend_factor": 0.97,  # Saturday/Sunday dry-weather flow relative to weekdays
    "rain_probability": (0.04, 0.20),  # daily probability, winter minimum to summer peak
    "rain_peak_doy": 200,  # day of year of the wettest season
    "rain_mean_increase": 0.40,  # mean relative flow increase on the day of a rain event
    "rain_decay_days": 1.0,  # e-folding time of the rain flow increase [day]
    "rain_site_sensitivity": (0.3, 1.0),  # uniform range: share of combined sewers
}


# --------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------


@cache
def _registry_parameters(parameter_set: str) -> pd.DataFrame:
    return biomarker_parameters(parameter_set)


@cache
def _measurement_cv() -> dict[str, float]:
    table = load_measurement_uncertainty()
    return dict(zip(table["component"], table["cv"].astype(float), strict=True))


def _finite(x) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _number(x) -> float:
    return float(x) if _finite(x) else math.nan


_PARAMETER_COLUMNS = ("half_life_h", "molar_mass_g_per_mol", "parent_molar_mass_g_per_mol",
                      "correction_factor", "excretion_fraction")


def _records(table: pd.DataFrame, where: str) -> dict[str, dict]:
    if "drug" not in table.columns:
        raise InputError("expected a 'drug' column (parent drug)", file=where, column="drug")
    records = table.to_dict("index")
    for record in records.values():
        for col in _PARAMETER_COLUMNS:
            record.setdefault(col, math.nan)
    return records


@cache
def _registry_records(parameter_set: str) -> dict[str, dict]:
    return _records(_registry_parameters(parameter_set), f"parameter set {parameter_set!r}")


def _resolve_parameters(
    parameters: pd.DataFrame | None, parameter_set: str, biomarkers: Sequence[str]
) -> list[tuple[str, dict]]:
    """(biomarker, registry row as a dict) for every simulated biomarker."""
    if parameters is None:
        records = _registry_records(parameter_set)
        where = f"biomarker parameter set {parameter_set!r}"
    else:
        if not isinstance(parameters, pd.DataFrame):
            raise InputError(f"parameters must be a DataFrame, got {type(parameters).__name__}")
        table = parameters.set_index("biomarker") if "biomarker" in parameters.columns else (
            parameters
        )
        where = "parameters DataFrame"
        records = _records(table, where)
    missing = [b for b in biomarkers if b not in records]
    if missing:
        raise unknown_name_error("biomarker", missing[0], list(records), file=where)
    return [(b, records[b]) for b in biomarkers]


def _none_if_missing(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return x


@cache
def _frozen_distribution(value, distribution, sd, low, high, bounds):
    return parameter_distribution(value, distribution, sd=sd, low=low, high=high, bounds=bounds)


def _cf_from_excretion(row, excretion: float) -> float:
    return (float(row["parent_molar_mass_g_per_mol"]) / float(row["molar_mass_g_per_mol"])
            ) / excretion


def _draw_or_nominal(row, name: str, rng, draw: bool, bounds) -> float:
    value = float(row[name])
    if not draw:
        return value
    dist = _frozen_distribution(
        value,
        _none_if_missing(row.get(f"{name}_distribution", "fixed")),
        _none_if_missing(_number(row.get(f"{name}_sd"))),
        _none_if_missing(_number(row.get(f"{name}_low"))),
        _none_if_missing(_number(row.get(f"{name}_high"))),
        bounds,
    )
    if isinstance(dist, float):
        return dist
    # inversion: one uniform per draw, so the stream is consumed the same way for every law
    return float(dist.ppf(rng.random()))


def _city_parameters(
    table: list[tuple[str, dict]], mode: str, root, loq: Mapping[str, float]
) -> pd.DataFrame:
    rows = []
    where = {"file": "biomarker parameters"}
    for biomarker, row in table:
        rng = _stream(root, "parameters", biomarker)
        draw = mode == "draw"
        has_masses = _finite(row["molar_mass_g_per_mol"]) and _finite(
            row["parent_molar_mass_g_per_mol"]
        )
        exc_nominal = _number(row["excretion_fraction"])
        cf_nominal = _number(row["correction_factor"])
        if _finite(exc_nominal) and has_masses:
            exc = _draw_or_nominal(row, "excretion_fraction", rng, draw, (0.0, 1.0))
            cf = _cf_from_excretion(row, exc)
        elif _finite(cf_nominal):
            exc = math.nan
            cf = _draw_or_nominal(row, "correction_factor", rng, draw, (0.0, np.inf))
        else:
            raise InputError(
                f"biomarker {biomarker!r} needs excretion_fraction with molar masses or a "
                "correction_factor", column="correction_factor", **where
            )
        if not cf > 0:
            raise InputError(
                f"correction factor of {biomarker!r} must be > 0, got {cf!r}",
                column="correction_factor", **where,
            )
        half = _number(row["half_life_h"])
        if math.isnan(half):
            half = math.inf
        if not half > 0:
            raise InputError(f"half_life_h of {biomarker!r} must be > 0 (inf = stable)",
                             column="half_life_h", **where)
        if biomarker not in loq:
            raise InputError(
                f"no default LOQ for biomarker {biomarker!r}; pass loq_ng_per_l={{...}}",
                column="loq_ng_per_l",
            )
        rows.append({
            "biomarker": biomarker,
            "drug": str(row["drug"]),
            "correction_factor": cf,
            "excretion_fraction": exc,
            "correction_factor_nominal": cf_nominal,
            "excretion_fraction_nominal": exc_nominal,
            "half_life_h": half,
            "molar_mass_g_per_mol": _number(row["molar_mass_g_per_mol"]),
            "parent_molar_mass_g_per_mol": _number(row["parent_molar_mass_g_per_mol"]),
            "loq_ng_per_l": float(loq[biomarker]),
            "true_parameters": mode,
        })
    return pd.DataFrame(rows)


@cache
def _default_consumption_model() -> pd.DataFrame:
    model = pd.DataFrame.from_dict(_CONSUMPTION_ROWS, orient="index", columns=_CONSUMPTION_COLUMNS)
    model.index.name = "drug"
    return model.astype(float)


@cache
def _default_consumption_for(drugs: tuple[str, ...]) -> pd.DataFrame:
    return _consumption_model(drugs, None, cached=False)


def _consumption_model(drugs: Sequence[str], overrides, cached: bool = True) -> pd.DataFrame:
    if overrides is None and cached and all(d in _CONSUMPTION_ROWS for d in drugs):
        return _default_consumption_for(tuple(drugs))
    model = _default_consumption_model()
    if overrides is not None:
        model = model.copy()
        if not isinstance(overrides, pd.DataFrame):
            raise InputError(f"consumption must be a DataFrame, got {type(overrides).__name__}")
        extra = overrides.set_index("drug") if "drug" in overrides.columns else overrides
        unknown = [c for c in extra.columns if c not in _CONSUMPTION_COLUMNS]
        if unknown:
            raise unknown_name_error(
                "consumption column", unknown[0], _CONSUMPTION_COLUMNS, file="consumption"
            )
        for drug, row in extra.iterrows():
            for col, value in row.items():
                if pd.notna(value):
                    model.loc[drug, col] = float(value)
    missing = [d for d in drugs if d not in model.index or model.loc[d].isna().any()]
    if missing:
        raise InputError(
            f"no consumption scenario for drug {missing[0]!r}; pass consumption=DataFrame with "
            f"columns drug, {', '.join(_CONSUMPTION_COLUMNS)}",
            file="consumption", column="drug", value=missing[0],
        )
    model = model.loc[list(dict.fromkeys(drugs))].astype(float)
    if (model["level_mg_per_day_per_1000"] <= 0).any():
        raise InputError("consumption levels must be > 0 [mg/day/1000 inhabitants]",
                         file="consumption", column="level_mg_per_day_per_1000")
    return model


def _outbreaks(outbreaks, drugs, sites, dates) -> list[dict]:
    parsed = []
    for i, item in enumerate(outbreaks or ()):
        where = {"file": "outbreaks", "row": i + 1}
        if not isinstance(item, Mapping):
            raise InputError("each outbreak must be a mapping with keys drug, start, days, "
                             "factor[, site]", **where)
        unknown = set(item) - {"drug", "start", "days", "factor", "site"}
        if unknown:
            raise unknown_name_error("outbreak key", sorted(unknown)[0],
                                     ["drug", "start", "days", "factor", "site"], **where)
        drug = item.get("drug")
        if drug not in drugs:
            raise unknown_name_error("outbreak drug", drug, drugs, column="drug", **where)
        site = item.get("site")
        if site is not None and site not in sites:
            raise unknown_name_error("outbreak site", site, sites, column="site", **where)
        try:
            start = pd.Timestamp(item["start"]).normalize()
            n_days = int(item["days"])
            factor = float(item["factor"])
        except (KeyError, ValueError, TypeError) as exc:
            raise InputError(f"outbreak needs start (date), days (int), factor (float): {exc}",
                             **where) from None
        if n_days < 1 or not factor > 0:
            raise InputError("outbreak days must be >= 1 and factor > 0", **where)
        in_window = (dates >= start) & (dates < start + pd.Timedelta(days=n_days))
        parsed.append({"drug": drug, "site": site, "start": start, "days": n_days,
                       "factor": factor, "mask": np.asarray(in_window)})
    return parsed


# --------------------------------------------------------------------------------------
# wastewater
# --------------------------------------------------------------------------------------


def _sites(n_sites: int, root, population_cv: float) -> tuple[pd.DataFrame, dict]:
    ids = [f"WWTP{i + 1:02d}" for i in range(n_sites)]
    props = {k: np.empty(n_sites) for k in
             ("reported", "sd", "true", "per_capita", "residence", "domestic", "rain_sens")}
    lo, hi = _FLOW_DEFAULTS["rain_site_sensitivity"]
    q_lo, q_hi = _FLOW_DEFAULTS["per_capita_l_per_day"]
    for i, site in enumerate(ids):
        rng = _stream(root, "site", site)
        u = rng.random(5)
        reported = float(np.round(np.exp(np.log(1e5) + u[0] * np.log(15.0)), -3))
        props["reported"][i] = reported
        props["per_capita"][i] = q_lo + u[1] * (q_hi - q_lo)
        props["residence"][i] = 1.0 + u[2] * 11.0
        props["domestic"][i] = 0.70 + u[3] * 0.25
        props["rain_sens"][i] = lo + u[4] * (hi - lo)
        sd = population_cv * reported
        props["sd"][i] = sd
        # true population: reported + sd * z, z standard normal truncated to keep it > 0
        z = 0.0
        if sd > 0:
            # inversion of the standard normal truncated below at -reported/sd
            lower = special.ndtr(-reported / sd)
            u = _stream(root, "population", site).random()
            z = float(special.ndtri(lower + u * (1.0 - lower)))
        props["true"][i] = reported + sd * z
    design = np.round(props["reported"] * props["per_capita"] / 1000.0 * 1.3, -3)
    table = pd.DataFrame({
        "site": np.array(ids, dtype=object),
        "population": props["reported"],
        "population_sd": props["sd"],
        "population_method": np.full(n_sites, "census", dtype=object),
        "region": np.array([f"district_{i % 3 + 1}" for i in range(n_sites)], dtype=object),
        "residence_time_h": props["residence"],
        "design_capacity_m3_per_day": design,
        "domestic_fraction": props["domestic"],
    })
    return table, props


def _rain_factor(dates: pd.DatetimeIndex, root) -> np.ndarray:
    """City-wide relative flow increase from rain (before site sensitivity), per day."""
    rng = _stream(root, "rain")
    n = len(dates)
    p_lo, p_hi = _FLOW_DEFAULTS["rain_probability"]
    doy = dates.day_of_year.to_numpy()
    season = 0.5 * (1 + np.cos(2 * np.pi * (doy - _FLOW_DEFAULTS["rain_peak_doy"]) / 365.25))
    p = p_lo + (p_hi - p_lo) * season
    u = rng.random(n)
    size = rng.exponential(_FLOW_DEFAULTS["rain_mean_increase"], n)
    pulses = np.where(u < p, size, 0.0)
    lags = np.arange(7)
    kernel = np.exp(-lags / _FLOW_DEFAULTS["rain_decay_days"])
    return np.convolve(pulses, kernel)[:n]


def _weekday_factor(dates: pd.DatetimeIndex, amplitude: np.ndarray) -> np.ndarray:
    """Multiplicative weekday factor with weekly mean 1; shape (len(amplitude), days)."""
    log_f = amplitude[:, None] * _WEEKEND_SHAPE[None, :]
    week = np.exp(log_f)
    week /= week.mean(axis=1, keepdims=True)
    return week[:, dates.day_of_week.to_numpy()]


def _wastewater(
    sites: pd.DataFrame, props: dict, params: pd.DataFrame, model: pd.DataFrame,
    dates: pd.DatetimeIndex, outbreaks: list[dict], root, cv: Mapping[str, float],
    measurement_error: bool, sample_every_days: int,
):
    n_s, n_t, n_b = len(sites), len(dates), len(params)
    site_ids = sites["site"].tolist()
    drugs = model.index.tolist()
    t_years = (np.arange(n_t)) / 365.25
    doy = dates.day_of_year.to_numpy()

    # flows [m3/day]
    rain = _rain_factor(dates, root)
    weekend = np.where(dates.day_of_week.to_numpy() >= 5, _FLOW_DEFAULTS["weekend_factor"], 1.0)
    weekend = weekend / (5 + 2 * _FLOW_DEFAULTS["weekend_factor"]) * 7
    flow_true = np.empty((n_s, n_t))
    flow_meas = np.empty((n_s, n_t))
    rain_factor = 1.0 + props["rain_sens"][:, None] * rain[None, :]
    flow_cv = cv["flow"] if measurement_error else 0.0
    for i, site in enumerate(site_ids):
        base = props["true"][i] * props["per_capita"][i] / 1000.0
        noise = _lognormal_noise(
            _stream(root, "dry_weather_flow", site), _FLOW_DEFAULTS["dry_day_cv"], n_t
        )
        flow_true[i] = base * weekend * noise * rain_factor[i]
        err = _lognormal_noise(_stream(root, "flow_error", site), flow_cv, n_t)
        flow_meas[i] = flow_true[i] * err

    # consumption per 1000 true inhabitants [mg/day/1000], shape (site, drug, day)
    m = {c: model[c].to_numpy(dtype=float) for c in _CONSUMPTION_COLUMNS}
    log_base = (
        np.log(m["level_mg_per_day_per_1000"])[:, None]
        + m["trend_per_year"][:, None] * t_years[None, :]
        + m["season_amplitude"][:, None]
        * np.cos(2 * np.pi * (doy[None, :] - m["season_peak_doy"][:, None]) / 365.25)
    )
    weekday = _weekday_factor(dates, m["weekday_amplitude"])
    per_1000 = np.empty((n_s, len(drugs), n_t))
    outbreak = np.ones((n_s, len(drugs), n_t))
    for i, site in enumerate(site_ids):
        for j, drug in enumerate(drugs):
            rng = _stream(root, "consumption", site, drug)
            site_effect = rng.standard_normal() * m["site_log_sd"][j]
            daily = rng.standard_normal(n_t) * m["daily_log_sd"][j]
            per_1000[i, j] = np.exp(log_base[j] + site_effect + daily) * weekday[j]
    for ob in outbreaks:
        j = drugs.index(ob["drug"])
        rows = range(n_s) if ob["site"] is None else [site_ids.index(ob["site"])]
        for i in rows:
            outbreak[i, j, ob["mask"]] *= ob["factor"]
    per_1000 *= outbreak
    consumption = per_1000 / chain.per_1000(1.0, props["true"][:, None, None])  # [mg/day]

    # biomarkers, shape (site, day, biomarker)
    p = {c: params[c].to_numpy() for c in ("biomarker", "drug", "correction_factor",
                                           "half_life_h", "loq_ng_per_l")}
    drug_idx = np.array([drugs.index(d) for d in p["drug"]])
    cons_b = np.transpose(consumption[:, drug_idx, :], (0, 2, 1))
    per_1000_b = np.transpose(per_1000[:, drug_idx, :], (0, 2, 1))
    ob_b = np.transpose(outbreak[:, drug_idx, :], (0, 2, 1))
    cf = p["correction_factor"].astype(float)
    half = p["half_life_h"].astype(float)
    residence = props["residence"]
    # The forward chain inverts the functions of wbe.chain (one model of the correction
    # factor, in-sewer stability and mass load for estimator and simulator).
    excreted = cons_b / chain.consumption(1.0, cf)[None, None, :]
    survive = 1.0 / chain.stability_factor(half[None, :], residence[:, None])  # (site, bio.)
    load = excreted * survive[:, None, :]
    conc_true = load / chain.mass_load(1.0, flow_true[:, :, None])

    sampled = (np.arange(n_t) % sample_every_days) == 0
    samp_cv = cv["sampling"] if measurement_error else 0.0
    anal_cv = cv["chemical_analysis"] if measurement_error else 0.0
    conc_meas = np.empty_like(conc_true)
    for i, site in enumerate(site_ids):
        for k, biomarker in enumerate(p["biomarker"]):
            e_s = _lognormal_noise(_stream(root, "sampling_error", site, biomarker), samp_cv, n_t)
            e_a = _lognormal_noise(
                _stream(root, "analytical_error", site, biomarker), anal_cv, n_t
            )
            conc_meas[i, :, k] = conc_true[i, :, k] * e_s * e_a

    # long tables
    site_col = np.repeat(np.array(site_ids, dtype=object), n_t * n_b)
    date_col = np.tile(np.repeat(dates.to_numpy(), n_b), n_s)
    bio_col = np.tile(p["biomarker"].astype(object), n_s * n_t)
    drug_col = np.tile(p["drug"].astype(object), n_s * n_t)
    sampled_col = np.tile(np.repeat(sampled, n_b), n_s)
    truth = pd.DataFrame({
        "site": site_col,
        "date": date_col,
        "biomarker": bio_col,
        "drug": drug_col,
        "population": np.repeat(props["true"], n_t * n_b),
        "consumption_mg_per_day": cons_b.ravel(),
        "consumption_mg_per_day_per_1000": per_1000_b.ravel(),
        "excreted_load_mg_per_day": excreted.ravel(),
        "load_mg_per_day": load.ravel(),
        "flow_m3_per_day": np.repeat(flow_true.ravel(), n_b),
        "concentration_ng_per_l": conc_true.ravel(),
        "outbreak_factor": ob_b.ravel(),
        "rain_factor": np.repeat(rain_factor.ravel(), n_b),
        "sampled": sampled_col,
        "correction_factor": np.tile(cf, n_s * n_t),
        "half_life_h": np.tile(half, n_s * n_t),
        "residence_time_h": np.repeat(residence, n_t * n_b),
    })
    keep = sampled_col
    loq = np.tile(p["loq_ng_per_l"].astype(float), n_s * n_t)[keep]
    value = conc_meas.ravel()[keep]
    below = value < loq
    n_rows = int(keep.sum())
    samples = pd.DataFrame({
        "site": site_col[keep],
        "sampled_on": date_col[keep],
        "biomarker": bio_col[keep],
        "concentration_ng_per_l": np.where(below, np.nan, value),
        "loq_ng_per_l": loq,
        "censored": below,
        "detection": np.where(below, "below_loq", "quantified").astype(object),
        "flag": np.full(n_rows, "", dtype=object),
        "source_row": np.arange(2, n_rows + 2),
    })
    flows = pd.DataFrame({
        "site": np.repeat(np.array(site_ids, dtype=object), n_t),
        "date": np.tile(dates.to_numpy(), n_s),
        "flow_m3_per_day": flow_meas.ravel(),
        "source_row": np.arange(2, n_s * n_t + 2),
    })
    return samples, flows, truth


@dataclass(frozen=True, eq=False)
class WastewaterPart:
    """Tables of the wastewater part (see :class:`wbe.datasets.SimulatedCity`)."""

    sites: pd.DataFrame
    samples: pd.DataFrame
    flows: pd.DataFrame
    truth: pd.DataFrame
    parameters: pd.DataFrame
    consumption_model: pd.DataFrame
    outbreaks: list[dict]


def simulate_wastewater(*, n_sites: int, dates: pd.DatetimeIndex, biomarkers: Sequence[str],
                        parameters: pd.DataFrame | None, parameter_set: str,
                        true_parameters: str, consumption: pd.DataFrame | None, outbreaks,
                        population_cv: float, loq: Mapping[str, float],
                        cv: Mapping[str, float], measurement_error: bool,
                        sample_every_days: int, root: np.random.SeedSequence) -> WastewaterPart:
    """Sites, daily flows, true consumption and measured samples (arguments as in simulate)."""
    table = _resolve_parameters(parameters, parameter_set, biomarkers)
    params = _city_parameters(table, true_parameters, root, loq)
    model = _consumption_model(params["drug"].tolist(), consumption)
    sites, props = _sites(int(n_sites), root, float(population_cv))
    events = _outbreaks(outbreaks, model.index.tolist(), sites["site"].tolist(), dates)
    samples, flows, truth = _wastewater(
        sites, props, params, model, dates, events, root, cv, measurement_error,
        int(sample_every_days),
    )
    return WastewaterPart(sites, samples, flows, truth, params, model, events)


#: Names used by :func:`wbe.datasets.simulate`.
FLOW_DEFAULTS = _FLOW_DEFAULTS
LOQ_NG_PER_L = _LOQ_NG_PER_L
measurement_cv = _measurement_cv
