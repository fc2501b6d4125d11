"""Parameters and uncertainty specification of :func:`wbe.back_calculate`: registry sets
(one, a mixture, or a user table) to per-biomarker distributions, measurement defaults per
sampling mode and population method, population distributions per site.

Private module (part of the back-calculation split); registry rows become distributions
only through :func:`wbe.datasets.row_distribution` and
:func:`wbe.datasets.correction_factor_spec`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import pandas as pd
from scipy import special

from wbe._backcalc_validation import Inputs
from wbe.errors import InputError, unknown_name_error

__all__: list[str] = []  # private module (names without _ are shared with the kernel)

MEASUREMENT = ("sampling", "chemical_analysis", "flow")



def _parameter_table(parameters) -> pd.DataFrame:
    if isinstance(parameters, pd.DataFrame):
        table = parameters.copy()
        if "biomarker" in table.columns:
            table = table.set_index("biomarker")
        return table
    return _registry_parameters(str(parameters))


@dataclass(frozen=True)
class _Sources:
    """Where each biomarker's parameters come from: the primary set (drug, half-life,
    doses) and the weighted parameter sets of its correction factor."""

    primary: pd.DataFrame
    name: str  # of ``parameters=``, for the provenance
    primary_name: str  # the set the primary table comes from (doses, half-lives)
    default: list  # [(weight, wide table, set name, relative sd or nan)]
    per_biomarker: dict

    def cf_sets(self, biomarker: str) -> list:
        return self.per_biomarker.get(biomarker, self.default)


def parameter_sources(parameters) -> _Sources:
    """``parameters=``: a set name, a wide table, a mixture name from the registry
    (:func:`wbe.datasets.load_parameter_mixtures`) or a mapping set name -> weight."""
    if isinstance(parameters, Mapping):
        if not parameters:
            raise InputError("parameters: an empty mapping of parameter sets to weights",
                             column="parameters")
        out = []
        for name, weight in parameters.items():
            try:
                w = float(weight)
            except (TypeError, ValueError):
                w = math.nan
            if not (math.isfinite(w) and w > 0):
                raise InputError(f"parameters: weight of set {name!r} must be a number > 0, "
                                 f"got {weight!r}", column="parameters")
            out.append((w, _parameter_table(name), str(name), math.nan))
        label = ", ".join(f"{n} {w:g}" for w, _, n, _ in out)
        return _Sources(out[0][1], f"mixture({label})", out[0][2], out, {})
    if isinstance(parameters, str) and parameters in _mixture_names():
        return _mixture_sources(parameters)
    name = "<DataFrame>" if isinstance(parameters, pd.DataFrame) else str(parameters)
    table = _parameter_table(parameters)
    return _Sources(table, name, name, [(1.0, table, name, math.nan)], {})


@cache
def _mixture_sources(name: str) -> _Sources:
    """A registry mixture (cached, like the registry sets it mixes: read-only below)."""
    from wbe.datasets import load_parameter_mixtures

    rows = load_parameter_mixtures(name)
    per = {}
    for b, group in rows.groupby("biomarker", sort=True):
        per[b] = [(float(r.weight), _parameter_table(r.parameter_set), r.parameter_set,
                   float(r.relative_sd)) for r in group.itertuples()]
    primary = _parameter_table("default")
    return _Sources(primary, name, "default", [(1.0, primary, "default", math.nan)], per)


@cache
def _mixture_names() -> frozenset:
    from wbe.datasets import load_parameter_mixtures

    return frozenset(load_parameter_mixtures()["mixture"])


@cache
def _registry_parameters(name: str) -> pd.DataFrame:
    # read-only use below; cached because pivoting the registry costs ~0.1 s per call
    from wbe.datasets import biomarker_parameters

    return biomarker_parameters(name)


@dataclass(frozen=True)
class _Globals:
    drug: list[str]
    #: per biomarker: tuple of (weight, CorrectionFactorSpec, set name); weights sum to 1
    cf: list
    half_life: list
    dose: list
    n_doses: list
    described: dict


def _cf_options(sets: list, biomarker: str, uncertainty: Mapping) -> tuple:
    """(weight, CorrectionFactorSpec, set name) of every parameter set giving a CF."""
    from wbe.datasets import CorrectionFactorSpec, correction_factor_spec

    override = _override(uncertainty, "correction_factor", biomarker)
    if override is not _NOT_GIVEN and override is not None:
        return ((1.0, CorrectionFactorSpec("correction_factor", override, math.nan), "user"),)
    options = [(w, _registry_cf_spec(name, biomarker, rel if math.isfinite(rel) else None)
                if _is_registry_set(name, t)
                else _widened(correction_factor_spec(t.loc[biomarker], biomarker), rel), name)
               for w, t, name, rel in sets if biomarker in t.index
               and _has_cf(t.loc[biomarker])]
    if not options:  # raises the InputError naming what is missing
        table = next((t for _, t, _, _ in sets if biomarker in t.index), sets[0][1])
        correction_factor_spec(table.loc[biomarker], biomarker)
    if override is None:  # uncertainty switched off: the published point value
        options = [(w, CorrectionFactorSpec("correction_factor", spec.value, math.nan), name)
                   for w, spec, name in options]
    total = sum(w for w, _, _ in options)
    return tuple((w / total, spec, name) for w, spec, name in options)


def _is_registry_set(name: str, table) -> bool:
    return name in _registry_set_names() and table is _registry_parameters(name)


@cache
def _registry_set_names() -> frozenset:
    from wbe.datasets import list_parameter_sets

    return frozenset(list_parameter_sets())


@cache
def _registry_cf_spec(name: str, biomarker: str, relative_sd: float | None):
    """CF specification of a registry set (cached: building scipy distributions is slow;
    ``relative_sd`` None rather than NaN so that the cache key compares equal)."""
    from wbe.datasets import correction_factor_spec

    row = _registry_parameters(name).loc[biomarker]
    rel = math.nan if relative_sd is None else relative_sd
    return _widened(correction_factor_spec(row, biomarker), rel)


def _widened(spec, relative_sd: float):
    """A set that publishes no spread, given the mixture's relative SD (a normal truncated
    to the parameter's support, the default set's convention)."""
    from wbe.datasets import PARAMETER_BOUNDS, CorrectionFactorSpec, parameter_distribution

    d = spec.distribution
    if hasattr(d, "ppf") or not math.isfinite(relative_sd) or relative_sd <= 0:
        return spec
    bounds = PARAMETER_BOUNDS.get(spec.source, (0.0, np.inf))
    dist = parameter_distribution(float(d), "normal", sd=relative_sd * float(d), bounds=bounds)
    return CorrectionFactorSpec(spec.source, dist, spec.molar_mass_ratio)


def _has_cf(row) -> bool:
    def finite(name):
        try:
            return math.isfinite(float(row.get(name, math.nan)))
        except (TypeError, ValueError):
            return False

    return finite("correction_factor") or (finite("excretion_fraction") and finite(
        "molar_mass_g_per_mol") and finite("parent_molar_mass_g_per_mol"))


def build_globals(sources: _Sources, biomarkers: list[str], uncertainty: Mapping) -> _Globals:
    """Per-biomarker parameters: drug, half-life and doses from the primary set, the CF
    from the weighted sets of ``sources``."""
    table = sources.primary
    known = set(table.index).union(*(t.index for _, t, _, _ in sources.default))
    known |= set(sources.per_biomarker)
    missing = [b for b in biomarkers if b not in known]
    if missing:
        raise unknown_name_error("biomarker (no back-calculation parameters)", missing[0],
                                 sorted(known), file="samples", column="biomarker")
    drug, cf, half, dose, ndoses, described = [], [], [], [], [], {}
    for b in biomarkers:
        sets = sources.cf_sets(b)
        row = table.loc[b] if b in table.index else next(
            t.loc[b] for _, t, _, _ in sets if b in t.index)
        drug.append(str(row.get("drug", b)))
        cf.append(_cf_options(sets, b, uncertainty))
        half.append(_global_spec(uncertainty, row, b, "half_life", "half_life_h",
                                 missing=math.inf))
        dose.append(_global_spec(uncertainty, row, b, "typical_dose", "typical_dose_mg"))
        ndoses.append(_global_spec(uncertainty, row, b, "doses_per_user_per_day",
                                   "doses_per_user_per_day"))
        described[b] = {
            "correction_factor": _describe_cf(cf[-1]),
            "half_life_h": describe(half[-1]),
            "typical_dose_mg": describe(dose[-1]),
            "doses_per_user_per_day": describe(ndoses[-1]),
        }
    return _Globals(drug, cf, half, dose, ndoses, described)


_NOT_GIVEN = object()


def _describe_cf(options) -> str:
    def one(spec):
        if spec.source == "correction_factor":
            return describe(spec.distribution)
        return (f"(M_parent/M_biomarker={spec.molar_mass_ratio:.6g}) / excretion_fraction "
                f"~ {describe(spec.distribution)}")

    if len(options) == 1:
        return one(options[0][1])
    return "; ".join(f"{w:.4g} x [{name}] {one(spec)}" for w, spec, name in options)


def _global_spec(uncertainty, row, biomarker, component, column, missing=math.nan):
    from wbe.datasets import row_distribution

    spec = _override(uncertainty, component, biomarker)
    if spec is None:  # fixed at the registry's value
        value = row_distribution({column: row.get(column, math.nan)}, column, missing=missing)
        return value
    if spec is not _NOT_GIVEN:
        return spec
    return row_distribution(row, column, missing=missing)


def _override(uncertainty: Mapping, component: str, biomarker: str):
    """The user's spec for a biomarker: _NOT_GIVEN (use the registry), None (fixed) or it."""
    if component not in uncertainty:
        return _NOT_GIVEN
    spec = uncertainty[component]
    if isinstance(spec, Mapping):
        return spec.get(biomarker, _NOT_GIVEN)
    return spec


def describe(dist) -> str:
    if dist is None:
        return "none"
    if not hasattr(dist, "ppf"):
        return repr(float(dist))
    args = ", ".join([*(f"{a:.6g}" for a in dist.args),
                      *(f"{k}={v:.6g}" for k, v in dist.kwds.items())])
    return f"scipy.stats.{dist.dist.name}({args})"


@cache
def measurement_defaults() -> dict:
    """Registry defaults (cached: read-only below; frozen distributions are not mutated)."""
    from wbe.datasets import (
        load_measurement_modes,
        load_measurement_uncertainty,
        lognormal_from_cv,
    )

    table = load_measurement_uncertainty().set_index("component")
    out = {}
    for comp in MEASUREMENT:
        row = table.loc[comp]
        if str(row["distribution"]).lower() != "lognormal":
            raise InputError(f"measurement component {comp!r} must be lognormal in the "
                             "registry", file="measurement_uncertainty.csv")
        out[comp] = lognormal_from_cv(float(row["cv"]))
    out["population_cv"] = float(table.loc["population", "cv"])
    modes = load_measurement_modes()
    sampling = modes[modes["component"] == "sampling"]
    out["sampling_by_mode"] = {m: lognormal_from_cv(float(cv))
                               for m, cv in zip(sampling["mode"], sampling["cv"], strict=True)}
    population = modes[modes["component"] == "population"]
    out["population_cv_by_method"] = dict(zip(population["mode"],
                                              population["cv"].astype(float), strict=True))
    return out


#: (distribution name, args, kwds) -> lognormal_params of that frozen distribution
_LOGNORMAL_PARAMS: dict = {}


def lognormal_params(dist) -> tuple[float, float] | None:
    """(mu, sigma) of log X for a log-normal (or a constant), None otherwise."""
    if not hasattr(dist, "ppf"):
        value = float(dist)
        return (math.log(value), 0.0) if value > 0 else None
    try:  # cached by value: the same few distributions come back once per site
        key = (dist.dist.name, dist.args, tuple(sorted(dist.kwds.items())))
        if key in _LOGNORMAL_PARAMS:
            return _LOGNORMAL_PARAMS[key]
    except (AttributeError, TypeError):  # not a scipy frozen distribution, or an array
        key = None
    if dist.dist.name != "lognorm" or dist.support()[0] != 0:
        out = None
    else:
        mu = math.log(float(dist.median()))
        out = mu, math.log(float(dist.ppf(special.ndtr(1.0)))) - mu
    if key is not None and len(_LOGNORMAL_PARAMS) < 1024:
        _LOGNORMAL_PARAMS[key] = out
    return out



@lru_cache(maxsize=1024)  # about 12 KiB per frozen distribution
def _population_normal(population: float, sd: float):
    """Normal of the true population [inhabitants], truncated at 0 (cached: freezing a scipy
    distribution costs ~0.5 ms, and repeated runs see the same sites)."""
    from wbe.datasets import parameter_distribution

    return parameter_distribution(population, "normal", sd=sd)


def population_dists(inputs: Inputs, uncertainty: Mapping, default_cv: list) -> list:
    spec = uncertainty.get("population", "default")
    out = []
    for i, site in enumerate(inputs.site):
        if spec == "default":
            sd = inputs.population_sd[i]
            if not (math.isfinite(sd) and sd >= 0):
                sd = default_cv[i] * inputs.population[i]
            out.append(_population_normal(inputs.population[i], sd))
        elif spec is None:
            out.append(float(inputs.population[i]))
        elif isinstance(spec, Mapping):
            out.append(spec.get(site, float(inputs.population[i])))
        else:
            out.append(spec)
    return out
