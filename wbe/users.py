"""Numbers of users and prevalence from back-calculated consumption, with a case definition.

:func:`wbe.back_calculate` returns a ``users`` variable, consumption / (dose x doses per user
per day): the number of people who would use on an average day if each took that many doses.
That is a **daily** number (person-days of use per day), not the number of people who use
the drug, and not comparable with a register of persons or with a past-month survey
prevalence. :func:`estimate_users` makes the case definition explicit:

* ``"daily"``: persons using on an average day (daily prevalence of use);
* ``"past_month"``: persons who used at least once in the past month, given how many days a
  month such a person uses (a number, an uncertain mean, or a days-of-use distribution).

The dose of pure drug per use and the purity of street doses are uncertain inputs; the
default dose is the registry's ``typical_dose_mg`` of the parameter set, with its source, and
a drug without a cited dose is refused rather than given a NaN. The definition, formula and
every assumption are written into the attributes of the output.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from wbe import _draws
from wbe.datasets import load_biomarker_parameters
from wbe.errors import InputError, UnknownNameError, unknown_name_error

__all__ = ["CASE_DEFINITIONS", "DAYS_PER_MONTH", "estimate_users", "mean_use_days"]

#: Case definitions understood by :func:`estimate_users`.
CASE_DEFINITIONS = ("daily", "past_month")
#: Mean Gregorian month [days].
DAYS_PER_MONTH = 365.25 / 12.0

_DEFINITIONS = {
    "daily": ("persons using the drug on an average day of the period (daily prevalence of "
              "use); not the number of people who use it"),
    "past_month": ("persons who used the drug at least once in a 30.4-day month (past-month "
                   "users), from the use-days per day and the mean number of use days a month "
                   "of a past-month user"),
}


def mean_use_days(distribution) -> float:
    """Mean days of use per month of past-month users, from a days-of-use distribution.

    Parameters
    ----------
    distribution : mapping
        ``{days of use in the month: share of past-month users}``; days in 1 to 31, shares
        >= 0 summing to 1 (within 1e-6).

    Returns
    -------
    float
        :math:`\\bar d = \\sum_d d\\, p_d` [days/month].

    Raises
    ------
    InputError
        If a day count is outside 1-31 or the shares are negative or do not sum to 1.

    Examples
    --------
    >>> mean_use_days({1: 0.5, 4: 0.3, 30: 0.2})
    7.7
    """
    if not isinstance(distribution, Mapping) or not distribution:
        raise InputError("use-days distribution: expected a mapping {days: share}")
    days = np.array([float(d) for d in distribution], dtype=float)
    share = np.array([float(p) for p in distribution.values()], dtype=float)
    if np.any((days < 1) | (days > 31) | (days != np.round(days))):
        raise InputError(f"use-days distribution: days must be whole numbers 1-31, got "
                         f"{sorted(distribution)}")
    if np.any(share < 0) or abs(share.sum() - 1.0) > 1e-6:
        raise InputError(f"use-days distribution: shares must be >= 0 and sum to 1, got sum "
                         f"{share.sum():.6g}")
    return float(np.round(np.sum(days * share), 12))


def _describe(spec) -> str:
    if hasattr(spec, "dist") and hasattr(spec, "args"):
        args = ", ".join(f"{a:g}" for a in spec.args)
        kwds = ", ".join(f"{k}={v:g}" for k, v in spec.kwds.items())
        return f"{spec.dist.name}({', '.join(x for x in (args, kwds) if x)})"
    return f"{float(spec):g}"


def _positive_spec(name: str, spec):
    if hasattr(spec, "ppf"):
        return spec
    try:
        value = float(spec)
    except (TypeError, ValueError):
        raise InputError(f"{name}: expected a number or a scipy.stats distribution, got "
                         f"{spec!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise InputError(f"{name}: expected a positive number, got {spec!r}")
    return value


def _per_biomarker(name: str, spec, biomarker: str):
    if isinstance(spec, Mapping):
        if biomarker not in spec:
            raise InputError(f"{name}: no value for biomarker {biomarker!r} (given for "
                             f"{sorted(spec)})")
        return spec[biomarker]
    return spec


def estimate_users(
    result: xr.Dataset,
    *,
    case_definition: str,
    doses_per_use_day,
    use_days_per_month=None,
    dose_mg=None,
    purity=None,
    reference_population=None,
    seed: int | None = None,
) -> xr.Dataset:
    """Users (and prevalence) under an explicit case definition from back-calculation output.

    Parameters
    ----------
    result : xarray.Dataset
        Output of :func:`wbe.back_calculate` with ``method="montecarlo"`` (variables
        ``consumption_mg_per_day`` with a ``draw`` dimension and ``population``).
    case_definition : {"daily", "past_month"}
        What a "user" is (see the module text).
    doses_per_use_day : float, distribution or mapping
        Doses taken on a day of use [1/day]; a mapping gives one per biomarker. No published
        default is used: it depends on the population of users and must be stated.
    use_days_per_month : float, distribution or mapping, optional
        Required for ``past_month``: the mean number of days of use in a month of a
        past-month user [days] (a number or a distribution of that mean), or a days-of-use
        distribution ``{days: share}`` with integer keys (:func:`mean_use_days`); a mapping
        with biomarker names as keys gives one of these per biomarker.
    dose_mg : float, distribution or mapping, optional
        Dose per use [mg]: pure drug if ``purity`` is None, street product otherwise. Default:
        ``typical_dose_mg`` of the parameter set the result was computed with (fixed, as the
        registry gives it, with its source in the attributes).
    purity : float, distribution or mapping, optional
        Share of drug in the street product [fraction], applied to ``dose_mg``.
    reference_population : float or mapping, optional
        Population the prevalence refers to (e.g. aged 15-64) as a share of each site's
        population [fraction]; adds ``prevalence``.
    seed : int, optional
        Root of the keyed draws of the uncertain inputs; default the result's seed.

    Returns
    -------
    xarray.Dataset
        ``users`` [persons] (and ``prevalence`` [fraction]) with the dims of
        ``consumption_mg_per_day``; ``attrs`` hold ``case_definition``, ``definition``,
        ``formula`` and the description and source of every input.

    Raises
    ------
    InputError
        If the result has no draws or no consumption, ``past_month`` lacks
        ``use_days_per_month``, an input is not positive, ``purity`` is outside (0, 1], or a
        biomarker has no cited typical dose and none is given.
    UnknownNameError
        For an unknown case definition.

    Notes
    -----
    Per draw, with consumption :math:`C` [mg/day], pure dose :math:`D = d \\cdot \\pi`
    (street dose :math:`d`, purity :math:`\\pi`; :math:`\\pi = 1` for a pure dose) and
    :math:`k` doses per use day:

    .. math::

        N_{day} = \\frac{C}{D k}, \\qquad
        N_{month} = N_{day} \\cdot \\frac{30.44}{\\bar d},

    since the use days of all past-month users add up to :math:`N_{day} \\times 30.44`
    and each contributes :math:`\\bar d` of them on average. Prevalence is :math:`N` over
    the reference population: a daily prevalence for ``daily``. The chain follows Zuccato
    et al. (2008) for doses and the EMCDDA convention of past-month use (EMCDDA 2016,
    European Drug Report; unverified wording); the days-of-use step is the identity above,
    not a published model.

    References
    ----------
    Zuccato E, Chiabrando C, Castiglioni S, Bagnati R, Fanelli R (2008). Estimating
    community drug abuse by wastewater analysis. Environmental Health Perspectives
    116(8):1027-1032. doi:10.1289/ehp.11022
    """
    if case_definition not in CASE_DEFINITIONS:
        raise unknown_name_error("case definition", case_definition, CASE_DEFINITIONS)
    if not isinstance(result, xr.Dataset) or "consumption_mg_per_day" not in result:
        raise InputError("result: expected the Dataset returned by wbe.back_calculate "
                         "(variable consumption_mg_per_day)")
    cons = result["consumption_mg_per_day"]
    if "draw" not in cons.dims:
        raise InputError("result: estimate_users needs Monte Carlo draws "
                         "(back_calculate(..., method='montecarlo'))")
    if case_definition == "past_month" and use_days_per_month is None:
        raise InputError("use_days_per_month: required for past-month users (the mean days "
                         "of use in a month of a past-month user, or a {days: share} "
                         "distribution); there is no published default for Chinese users")
    seed = int(result.attrs.get("seed", 0) if seed is None else seed)
    n = cons.sizes["draw"]
    biomarkers = [str(b) for b in cons["biomarker"].to_numpy()]
    # the set whose typical doses back_calculate used (a mixture's primary set)
    parameter_set = str(result.attrs.get("dose_parameter_set",
                                         result.attrs.get("parameter_set", "default")))
    registry = None
    factors, described = [], {}
    for b in biomarkers:
        if _per_biomarker("dose_mg", dose_mg, b) is None:
            if registry is None:
                try:
                    registry = load_biomarker_parameters(parameter_set)
                except UnknownNameError:
                    raise InputError(
                        f"dose_mg: the result was computed with parameters {parameter_set!r}, "
                        "not a registry set; pass dose_mg with its source") from None
            rows = registry[(registry["biomarker"] == b)
                            & (registry["parameter"] == "typical_dose_mg")]
            if rows.empty or not np.isfinite(float(rows["value"].iloc[0])):
                raise InputError(
                    f"dose_mg: the parameter set {parameter_set!r} has no cited typical dose "
                    f"for {b!r}; pass dose_mg={{'{b}': value}} with its source")
            dose = _positive_spec("dose_mg", float(rows["value"].iloc[0]))
            dose_text = (f"{dose:g} mg pure drug per dose, fixed (registry {parameter_set!r}: "
                         f"{rows['source'].iloc[0]}; doi {rows['doi'].iloc[0]})")
        else:
            dose = _positive_spec("dose_mg", _per_biomarker("dose_mg", dose_mg, b))
            dose_text = f"{_describe(dose)} mg per dose (given)"
        pur = _per_biomarker("purity", purity, b)
        if pur is not None:
            pur = _positive_spec("purity", pur)
            if not hasattr(pur, "ppf") and pur > 1:
                raise InputError(f"purity: expected a share in (0, 1], got {pur!r}")
        k = _positive_spec("doses_per_use_day", _per_biomarker("doses_per_use_day",
                                                                 doses_per_use_day, b))
        d_draw = _draws.keyed_draws(dose, seed, "users_dose", [(b,)], n)[0]
        p_draw = (np.ones(n) if pur is None
                  else _draws.keyed_draws(pur, seed, "users_purity", [(b,)], n)[0])
        k_draw = _draws.keyed_draws(k, seed, "users_doses_per_use_day", [(b,)], n)[0]
        factor = 1.0 / (d_draw * p_draw * k_draw)
        text = {"dose": dose_text,
                "purity": "1 (dose is pure drug)" if pur is None else _describe(pur),
                "doses_per_use_day": _describe(k)}
        if case_definition == "past_month":
            u = use_days_per_month
            if isinstance(u, Mapping) and all(isinstance(key, str) for key in u):
                u = _per_biomarker("use_days_per_month", u, b)  # keyed by biomarker
            if isinstance(u, Mapping):
                u = mean_use_days(u)
                u_text = f"mean {u:g} days/month from the given days-of-use distribution"
            else:
                u = _positive_spec("use_days_per_month", u)
                u_text = f"{_describe(u)} days/month (mean of past-month users)"
            u_draw = _draws.keyed_draws(u, seed, "users_use_days", [(b,)], n)[0]
            if np.any(u_draw > DAYS_PER_MONTH + 1e-9) or np.any(u_draw <= 0):
                raise InputError("use_days_per_month: the mean days of use must lie in "
                                 f"(0, {DAYS_PER_MONTH:.2f}]")
            factor = factor * DAYS_PER_MONTH / u_draw
            text["use_days_per_month"] = u_text
        factors.append(factor)
        described[b] = text
    f = xr.DataArray(np.vstack(factors), dims=("biomarker", "draw"),
                     coords={"biomarker": cons["biomarker"], "draw": cons["draw"]})
    users = cons * f
    users.attrs = {"units": "persons", "case_definition": case_definition,
                   "definition": _DEFINITIONS[case_definition]}
    out = xr.Dataset({"users": users})
    if reference_population is not None:
        if "population" not in result:
            raise InputError("result: no population variable for the prevalence")
        share = reference_population
        sites = [str(s) for s in result["site"].to_numpy()]
        if isinstance(share, Mapping):
            missing = [s for s in sites if s not in share]
            if missing:
                raise InputError(f"reference_population: no share for sites {missing}")
            share = xr.DataArray([float(share[s]) for s in sites], dims="site",
                                 coords={"site": result["site"]})
        share_values = np.asarray(share, dtype=float)
        if np.any(~np.isfinite(share_values)) or np.any(share_values <= 0) or \
                np.any(share_values > 1):
            raise InputError("reference_population: expected shares in (0, 1]")
        prevalence = users / (result["population"] * share)
        prevalence.attrs = {"units": "fraction", "case_definition": case_definition,
                            "definition": ("daily prevalence of use: " if case_definition ==
                                           "daily" else "past-month prevalence: ")
                            + "users over the reference population"}
        out["prevalence"] = prevalence
    out.attrs = {
        "case_definition": case_definition,
        "definition": _DEFINITIONS[case_definition],
        "formula": ("users = consumption / (dose x purity x doses_per_use_day)"
                    + (" x 30.44 / mean_use_days_per_month" if case_definition == "past_month"
                       else "")),
        "inputs": repr(described),
        "parameter_set": parameter_set,
        "seed": seed,
        "comparable_with": ("registered persons, multiplier and capture-recapture estimates, "
                            "past-month survey prevalence" if case_definition == "past_month"
                            else "other daily figures only (doses per day, daily prevalence); "
                            "not registers of persons"),
    }
    return out

