"""Back-calculation of drug consumption from wastewater with keyed Monte Carlo uncertainty.

:func:`back_calculate` takes the canonical ``samples``, ``sites`` and ``flows`` tables
(``docs/data-model.md``) and returns an ``xarray.Dataset`` with dims
``(site, date, biomarker[, draw])``; :func:`summarize` turns it into a tidy table of
medians and intervals and :func:`uncertainty_budget` splits the log-scale variance into
components. The chain itself is in :mod:`wbe.chain`; equations and sources are in
``docs/methods-backcalculation.md``.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
import xarray as xr
from scipy import special

from wbe import _draws
from wbe import chain as _chain
from wbe._compat import renamed_arguments
from wbe.censoring import CENSORING_POLICIES, substitute_censored
from wbe.errors import ImplausibleValueWarning, InputError, unknown_name_error

__all__ = ["COMPONENTS", "VARIABLES", "back_calculate", "summarize", "uncertainty_budget"]

#: uncertain components -> scope ("global" = per biomarker, shared by every site and day)
COMPONENTS: dict[str, str] = {
    "sampling": "sample",
    "chemical_analysis": "sample",
    "flow": "site-day",
    "population": "site",
    "residence_time": "site",
    "correction_factor": "global",
    "half_life": "global",
    "typical_dose": "global",
    "doses_per_user_per_day": "global",
}

#: output variable -> (units, components whose uncertainty it carries)
VARIABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "load_mg_per_day": ("mg/day", ("sampling", "chemical_analysis", "flow")),
    "consumption_mg_per_day": (
        "mg/day",
        ("sampling", "chemical_analysis", "flow", "residence_time", "half_life",
         "correction_factor"),
    ),
    "consumption_mg_per_day_per_1000": (
        "mg/day/1000 inhabitants",
        ("sampling", "chemical_analysis", "flow", "residence_time", "half_life",
         "correction_factor", "population"),
    ),
    "doses_per_day_per_1000": (
        "doses/day/1000 inhabitants",
        ("sampling", "chemical_analysis", "flow", "residence_time", "half_life",
         "correction_factor", "population", "typical_dose"),
    ),
    "users": (
        "persons",
        ("sampling", "chemical_analysis", "flow", "residence_time", "half_life",
         "correction_factor", "typical_dose", "doses_per_user_per_day"),
    ),
    "prevalence": (
        "fraction",
        ("sampling", "chemical_analysis", "flow", "residence_time", "half_life",
         "correction_factor", "typical_dose", "doses_per_user_per_day", "population"),
    ),
}

_METHODS = ("montecarlo", "analytic")
_MEASUREMENT = ("sampling", "chemical_analysis", "flow")


# --------------------------------------------------------------------------------------
# input validation
# --------------------------------------------------------------------------------------


def _rows(frame: pd.DataFrame) -> np.ndarray:
    if "source_row" in frame.columns:
        return frame["source_row"].to_numpy()
    return np.arange(2, len(frame) + 2)


def _require(frame: pd.DataFrame, columns, name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"expected a pandas DataFrame, got {type(frame).__name__}", file=name)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"missing column(s) {missing}; see docs/data-model.md", file=name,
                         column=missing[0])


def _days(values, name: str, column: str, rows) -> pd.DatetimeIndex:
    try:
        out = pd.DatetimeIndex(pd.to_datetime(values, errors="raise"))
    except (ValueError, TypeError) as exc:
        raise InputError(f"expected dates: {exc}", file=name, column=column) from None
    bad = out.isna()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError("missing date", file=name, row=int(rows[i]), column=column)
    return out.normalize().astype("datetime64[ns]")


def _finite_positive(values, name, column, rows, *, allow_zero=False) -> np.ndarray:
    x = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(x) & ((x >= 0) if allow_zero else (x > 0))
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise InputError(f"expected a finite number {'>=' if allow_zero else '>'} 0, "
                         f"got {values.iloc[i] if hasattr(values, 'iloc') else x[i]!r}",
                         file=name, row=int(rows[i]), column=column)
    return x


def _warn_implausible(values, limit, file, column, rows, what) -> None:
    high = np.asarray(values) > limit
    if high.any():
        i = int(np.flatnonzero(high)[0])
        warnings.warn(f"file {file!r}, row {int(rows[i])}, column {column!r}: "
                      f"{int(high.sum())} value(s) above {limit:g} {what}",
                      ImplausibleValueWarning, stacklevel=4)


@dataclass(frozen=True)
class _Inputs:
    site: list[str]
    date: pd.DatetimeIndex
    biomarker: list[str]
    s_idx: np.ndarray  # per sample
    t_idx: np.ndarray
    b_idx: np.ndarray
    conc: np.ndarray  # substituted [ng/L], per sample
    loq: np.ndarray
    censored: np.ndarray
    flow: np.ndarray  # [site, date] measured [m3/day], NaN where no sample
    population: np.ndarray  # per site
    population_sd: np.ndarray
    residence_h: np.ndarray
    reference_fraction: np.ndarray


def _prepare(samples, sites, flows, censoring, reference_fraction) -> _Inputs:
    _require(samples, ["site", "sampled_on", "biomarker", "concentration_ng_per_l"], "samples")
    _require(sites, ["site", "population"], "sites")
    rows = _rows(samples)
    samples = samples.reset_index(drop=True)
    site_s = samples["site"].astype(str).to_numpy()
    day_s = _days(samples["sampled_on"], "samples", "sampled_on", rows)
    bio_s = samples["biomarker"].astype(str).to_numpy()

    dup = pd.DataFrame({"s": site_s, "t": day_s, "b": bio_s}).duplicated(keep=False)
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(
            f"more than one sample for site {site_s[i]!r}, day {day_s[i].date()}, "
            f"biomarker {bio_s[i]!r}; average replicates explicitly before back-calculation",
            file="samples", row=int(rows[i]), column="biomarker")

    censored = (samples["censored"] if "censored" in samples.columns
                else pd.Series(False, index=samples.index))
    censored = np.asarray(pd.array(censored, dtype="boolean").fillna(False), dtype=bool)
    loq = (pd.to_numeric(samples["loq_ng_per_l"], errors="coerce").to_numpy(dtype=float)
           if "loq_ng_per_l" in samples.columns else np.full(len(samples), np.nan))
    conc = pd.to_numeric(samples["concentration_ng_per_l"], errors="coerce").to_numpy(float)
    conc = substitute_censored(conc, loq, censored, censoring, source="samples", rows=rows)

    # sites
    srows = _rows(sites)
    site_ids = sites["site"].astype(str)
    if site_ids.duplicated().any():
        i = int(np.flatnonzero(site_ids.duplicated().to_numpy())[0])
        raise InputError(f"site {site_ids.iloc[i]!r} appears twice", file="sites",
                         row=int(srows[i]), column="site")
    known = set(site_ids)
    unknown = ~pd.Series(site_s).isin(known).to_numpy()
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise unknown_name_error("site", site_s[i], known, file="samples", row=int(rows[i]),
                                 column="site")
    site_list = sorted(set(site_s))
    st = sites.assign(site=site_ids).set_index("site").loc[site_list]
    st_rows = pd.Series(srows, index=site_ids.to_numpy()).loc[site_list].to_numpy()
    population = _finite_positive(st["population"], "sites", "population", st_rows)
    if "population_sd" in st.columns:
        psd = pd.to_numeric(st["population_sd"], errors="coerce").to_numpy(dtype=float)
        if (psd < 0).any():
            i = int(np.flatnonzero(psd < 0)[0])
            raise InputError(f"population_sd must be >= 0, got {psd[i]!r}", file="sites",
                             row=int(st_rows[i]), column="population_sd")
    else:
        psd = np.full(len(site_list), np.nan)
    if "residence_time_h" in st.columns:
        rt = pd.to_numeric(st["residence_time_h"], errors="coerce").to_numpy(dtype=float)
        rt = np.where(np.isfinite(rt), rt, 0.0)
        if (rt < 0).any():
            i = int(np.flatnonzero(rt < 0)[0])
            raise InputError("residence time must be >= 0", file="sites", row=int(st_rows[i]),
                             column="residence_time_h")
    else:
        rt = np.zeros(len(site_list))
    if reference_fraction is None and "reference_fraction" in st.columns:
        ref = pd.to_numeric(st["reference_fraction"], errors="coerce").to_numpy(dtype=float)
    elif isinstance(reference_fraction, Mapping):
        ref = np.array([float(reference_fraction.get(s, np.nan)) for s in site_list])
    elif reference_fraction is None:
        ref = np.full(len(site_list), np.nan)
    else:
        ref = np.full(len(site_list), float(reference_fraction))
    bad_ref = np.isfinite(ref) & ~((ref > 0) & (ref <= 1))
    if bad_ref.any():
        raise InputError(f"reference_fraction must be in (0, 1], got {ref[bad_ref][0]!r}",
                         column="reference_fraction")

    _warn_implausible(conc, 1e6, "samples", "concentration_ng_per_l", rows,
                      "ng/L (above any published influent concentration; unit slip?)")
    _warn_implausible(population, 5e7, "sites", "population", st_rows,
                      "inhabitants (larger than any city; unit slip?)")

    # grid
    date_list = pd.DatetimeIndex(sorted(set(day_s)))
    bio_list = sorted(set(bio_s))
    s_idx = pd.Index(site_list).get_indexer(site_s)
    t_idx = date_list.get_indexer(day_s)
    b_idx = pd.Index(bio_list).get_indexer(bio_s)

    # flows [site, date]
    flow = np.full((len(site_list), len(date_list)), np.nan)
    if flows is None:
        if "flow_m3_per_day" not in samples.columns:
            raise InputError("no flows table given and samples lack 'flow_m3_per_day'",
                             file="samples", column="flow_m3_per_day")
        q = _finite_positive(samples["flow_m3_per_day"], "samples", "flow_m3_per_day", rows)
        flow[s_idx, t_idx] = q
        # one flow per site-day: all biomarkers of a day must agree
        if not np.allclose(flow[s_idx, t_idx], q, rtol=1e-12):
            i = int(np.flatnonzero(~np.isclose(flow[s_idx, t_idx], q, rtol=1e-12))[0])
            raise InputError("samples of one site-day give different flows", file="samples",
                             row=int(rows[i]), column="flow_m3_per_day")
    else:
        _require(flows, ["site", "date", "flow_m3_per_day"], "flows")
        frows = _rows(flows)
        fday = _days(flows["date"], "flows", "date", frows)
        fkey = pd.DataFrame({"s": flows["site"].astype(str).to_numpy(), "t": fday})
        fdup = fkey.duplicated(keep=False).to_numpy()
        if fdup.any():
            i = int(np.flatnonzero(fdup)[0])
            raise InputError("more than one flow for this site and day", file="flows",
                             row=int(frows[i]), column="date")
        fs = pd.Index(site_list).get_indexer(fkey["s"])
        ft = date_list.get_indexer(fday)
        use = (fs >= 0) & (ft >= 0)
        q = _finite_positive(flows["flow_m3_per_day"].iloc[np.flatnonzero(use)], "flows",
                             "flow_m3_per_day", frows[use])
        flow[fs[use], ft[use]] = q
        _warn_implausible(q, 5e7, "flows", "flow_m3_per_day", frows[use],
                          "m³/day (above the largest plants; unit slip?)")
        missing = ~np.isfinite(flow[s_idx, t_idx])
        if missing.any():
            i = int(np.flatnonzero(missing)[0])
            raise InputError(f"no flow for site {site_s[i]!r} on {day_s[i].date()} in the "
                             "flows table", file="samples", row=int(rows[i]),
                             column="sampled_on")
    return _Inputs(site_list, date_list, bio_list, s_idx, t_idx, b_idx, conc, loq, censored,
                   flow, population, psd, rt, ref)


# --------------------------------------------------------------------------------------
# parameters and uncertainty specification
# --------------------------------------------------------------------------------------


def _num(row, name) -> float:
    value = row.get(name, np.nan)
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _registry_dist(row, name, bounds):
    from wbe.datasets import parameter_distribution

    dist = row.get(f"{name}_distribution", "fixed")
    if not isinstance(dist, str):
        dist = "fixed"
    return parameter_distribution(
        _num(row, name), dist, sd=_num(row, f"{name}_sd"), low=_num(row, f"{name}_low"),
        high=_num(row, f"{name}_high"), bounds=bounds)


def _parameter_table(parameters) -> pd.DataFrame:
    if isinstance(parameters, pd.DataFrame):
        table = parameters.copy()
        if "biomarker" in table.columns:
            table = table.set_index("biomarker")
        return table
    return _registry_parameters(str(parameters))


@cache
def _registry_parameters(name: str) -> pd.DataFrame:
    # read-only use below; cached because pivoting the registry costs ~0.1 s per call
    from wbe.datasets import biomarker_parameters

    return biomarker_parameters(name)


@dataclass(frozen=True)
class _Globals:
    drug: list[str]
    cf: list  # float or frozen dist of the CF
    excretion: list  # excretion-fraction dist used to draw the CF (or None)
    cf_ratio: np.ndarray  # molar-mass ratio used with the excretion fraction
    half_life: list
    dose: list
    n_doses: list
    described: dict


def _globals(table: pd.DataFrame, biomarkers: list[str], uncertainty: Mapping) -> _Globals:
    missing = [b for b in biomarkers if b not in table.index]
    if missing:
        raise unknown_name_error("biomarker (no back-calculation parameters)", missing[0],
                                 table.index, file="samples", column="biomarker")
    drug, cf, exc, ratio, half, dose, ndoses, described = [], [], [], [], [], [], [], {}
    for b in biomarkers:
        row = table.loc[b]
        drug.append(str(row.get("drug", b)))
        m_parent = _num(row, "parent_molar_mass_g_per_mol")
        m_bio = _num(row, "molar_mass_g_per_mol")
        override = _override(uncertainty, "correction_factor", b)
        if override is None:  # uncertainty switched off: the published point value
            has_exc = math.isfinite(_num(row, "excretion_fraction")) and math.isfinite(
                m_parent) and math.isfinite(m_bio)
            value = (m_parent / m_bio / _num(row, "excretion_fraction") if has_exc
                     else _num(row, "correction_factor"))
            override = value
        if override is not _NOT_GIVEN:
            cf.append(override)
            exc.append(None)
            ratio.append(math.nan)
        elif math.isfinite(_num(row, "excretion_fraction")) and math.isfinite(m_parent) \
                and math.isfinite(m_bio):
            # the simulator's convention: the excretion fraction carries the uncertainty
            cf.append(None)
            exc.append(_registry_dist(row, "excretion_fraction", (0.0, 1.0)))
            ratio.append(m_parent / m_bio)
        elif math.isfinite(_num(row, "correction_factor")):
            cf.append(_registry_dist(row, "correction_factor", (0.0, np.inf)))
            exc.append(None)
            ratio.append(math.nan)
        else:
            raise InputError(f"biomarker {b!r} needs a correction_factor or an "
                             "excretion_fraction with molar masses", file="parameters",
                             column="correction_factor")
        half.append(_global_spec(uncertainty, row, b, "half_life", "half_life_h",
                                 missing=math.inf))
        dose.append(_global_spec(uncertainty, row, b, "typical_dose", "typical_dose_mg"))
        ndoses.append(_global_spec(uncertainty, row, b, "doses_per_user_per_day",
                                   "doses_per_user_per_day"))
        described[b] = {
            "correction_factor": _describe(cf[-1]) if cf[-1] is not None
            else f"(M_parent/M_biomarker={ratio[-1]:.6g}) / excretion_fraction "
                 f"~ {_describe(exc[-1])}",
            "half_life_h": _describe(half[-1]),
            "typical_dose_mg": _describe(dose[-1]),
            "doses_per_user_per_day": _describe(ndoses[-1]),
        }
    return _Globals(drug, cf, exc, np.array(ratio), half, dose, ndoses, described)


_NOT_GIVEN = object()


def _global_spec(uncertainty, row, biomarker, component, column, missing=math.nan):
    spec = _override(uncertainty, component, biomarker)
    value = _num(row, column)
    if spec is None:  # fixed at the registry's value
        return value if math.isfinite(value) else missing
    if spec is not _NOT_GIVEN:
        return spec
    if not math.isfinite(value):
        return missing
    return _registry_dist(row, column, (0.0, np.inf))


def _override(uncertainty: Mapping, component: str, biomarker: str):
    """The user's spec for a biomarker: _NOT_GIVEN (use the registry), None (fixed) or it."""
    if component not in uncertainty:
        return _NOT_GIVEN
    spec = uncertainty[component]
    if isinstance(spec, Mapping):
        return spec.get(biomarker, _NOT_GIVEN)
    return spec


def _describe(dist) -> str:
    if dist is None:
        return "none"
    if not hasattr(dist, "ppf"):
        return repr(float(dist))
    args = ", ".join([*(f"{a:.6g}" for a in dist.args),
                      *(f"{k}={v:.6g}" for k, v in dist.kwds.items())])
    return f"scipy.stats.{dist.dist.name}({args})"


def _measurement_defaults() -> dict:
    from wbe.datasets import load_measurement_uncertainty, lognormal_from_cv

    table = load_measurement_uncertainty().set_index("component")
    out = {}
    for comp in _MEASUREMENT:
        row = table.loc[comp]
        if str(row["distribution"]).lower() != "lognormal":
            raise InputError(f"measurement component {comp!r} must be lognormal in the "
                             "registry", file="measurement_uncertainty.csv")
        out[comp] = lognormal_from_cv(float(row["cv"]))
    out["population_cv"] = float(table.loc["population", "cv"])
    return out


def _lognormal_params(dist) -> tuple[float, float] | None:
    """(mu, sigma) of log X for a log-normal (or a constant), None otherwise."""
    if not hasattr(dist, "ppf"):
        value = float(dist)
        return (math.log(value), 0.0) if value > 0 else None
    if dist.dist.name != "lognorm" or dist.support()[0] != 0:
        return None
    mu = math.log(float(dist.median()))
    sigma = math.log(float(dist.ppf(special.ndtr(1.0)))) - mu
    return mu, sigma


# --------------------------------------------------------------------------------------
# the orchestrator
# --------------------------------------------------------------------------------------


@renamed_arguments(draws="n_draws")
def back_calculate(samples: pd.DataFrame, sites: pd.DataFrame, flows: pd.DataFrame | None = None,
                   *, parameters: str | pd.DataFrame = "default", n_draws: int = 1000,
                   seed: int | None = None, method: str = "montecarlo",
                   censoring: str = "loq/2", uncertainty: Mapping | None = None,
                   chunks: int | Mapping | None = None, reference_fraction=None,
                   non_abuse: Mapping | None = None) -> xr.Dataset:
    """Back-calculate loads, consumption, doses, users and prevalence with uncertainty.

    Parameters
    ----------
    samples : pandas.DataFrame
        Canonical samples table: ``site``, ``sampled_on``, ``biomarker``,
        ``concentration_ng_per_l`` [ng/L], ``loq_ng_per_l`` [ng/L], ``censored``,
        ``source_row``; and ``flow_m3_per_day`` [m³/day] when ``flows`` is None.
    sites : pandas.DataFrame
        Canonical sites table: ``site``, ``population`` [inhabitants], optional
        ``population_sd`` [inhabitants] and ``residence_time_h`` [h].
    flows : pandas.DataFrame, optional
        Canonical flows table: ``site``, ``date``, ``flow_m3_per_day`` [m³/day].
    parameters : str or pandas.DataFrame, default "default"
        Name of a registry parameter set (:func:`wbe.datasets.list_parameter_sets`) or a
        wide table like :func:`wbe.datasets.biomarker_parameters`.
    n_draws : int, default 1000
        Monte Carlo draws [count] (``draws=`` is a deprecated alias).
    seed : int, optional
        Root of the keyed draws; fresh entropy (recorded in ``attrs``) if None.
    method : {"montecarlo", "analytic"}
        ``analytic`` propagates log-normal factors in closed form and returns medians and
        log-scale standard deviations (``<variable>_log_sd``) instead of draws.
    censoring : {"zero", "loq/2", "loq/sqrt2", "loq"}, default "loq/2"
        Substitution of censored values (:func:`wbe.censoring.substitute_censored`).
    uncertainty : mapping, optional
        Overrides per component: ``"sampling"``, ``"chemical_analysis"``, ``"flow"``
        (error factors, observed = true × factor; a frozen distribution, a number, or None
        for none), ``"population"`` (a distribution of the true population [inhabitants],
        or a mapping site -> distribution; the default is a normal with the site's
        ``population_sd`` or the registry CV, truncated at 0), ``"residence_time"``
        (factor on the residence time), and per-biomarker parameters
        ``"correction_factor"``, ``"half_life"`` [h], ``"typical_dose"`` [mg],
        ``"doses_per_user_per_day"`` [1/day] (a distribution, a number, or a mapping
        biomarker -> either).
    chunks : int or mapping, optional
        Sites per chunk, or ``{"site": n_sites, "date": n_dates}`` (-1 for one chunk along
        a dim): the draws become lazy dask arrays, one block per (site, date) chunk,
        computed chunk by chunk (needs the ``dask`` extra; runs under
        ``dask.distributed`` too), so that :func:`summarize`,
        :func:`wbe.aggregate.period_mean` and :func:`wbe.aggregate.aggregate_sites` of a
        large grid run in bounded memory (docs/performance.md). Values are bitwise
        identical to the unchunked result (keyed draws).
    reference_fraction : float or mapping, optional
        Share of the population in the reference group (e.g. aged 15-64) [fraction]; adds
        ``prevalence``. A ``reference_fraction`` column of ``sites`` is used if present.
    non_abuse : mapping, optional
        Subtract non-abuse sources from loads before consumption:
        ``{"amphetamine_from_methamphetamine": ratio}`` (ratio default of
        :func:`wbe.chain.amphetamine_from_methamphetamine` if None) and
        ``{"morphine_from_codeine": ratio}``.

    Returns
    -------
    xarray.Dataset
        Dims ``(site, date, biomarker, draw)`` (no ``draw`` for ``analytic``), coordinate
        ``drug`` on ``biomarker``; variables ``load_mg_per_day``,
        ``consumption_mg_per_day``, ``consumption_mg_per_day_per_1000``,
        ``doses_per_day_per_1000``, ``users`` (and ``prevalence``), NaN where no sample;
        ``concentration_ng_per_l`` (after substitution), ``loq_ng_per_l``, ``censored``,
        ``flow_m3_per_day``, ``population``, ``n_substituted`` (per biomarker) and
        ``log_variance`` (per component, for :func:`uncertainty_budget`). ``attrs`` hold
        the parameter set, seed, censoring policy, method, versions and the distribution
        of every component.

    Raises
    ------
    InputError
        For an empty samples table, a ``seed`` that is not a whole number, missing
        columns, duplicate samples, unknown sites, missing flows or non-positive
        populations and flows (naming file, row and column).
    UnknownNameError
        For an unknown method, censoring policy, parameter set or biomarker.

    Notes
    -----
    Per draw :math:`k` the chain of :mod:`wbe.chain` is evaluated with
    :math:`C/\\varepsilon_s\\varepsilon_a`, :math:`Q/\\varepsilon_Q`, :math:`P_k`,
    :math:`CF_k`, ... Draws of a component depend only on (seed, component, key): the
    key is the biomarker for global parameters, the site for population and residence
    time, the site-day for flow and the site-day-biomarker for sampling and analysis
    (:mod:`wbe._draws`). Sampling and analysis, when both log-normal, are drawn as one
    log-normal with :math:`\\sigma^2 = \\sigma_s^2 + \\sigma_a^2`.

    References
    ----------
    Castiglioni S, Bijlsma L, Covaci A, et al. 2013. Evaluation of uncertainties associated
    with the determination of community drug use through the measurement of sewage drug
    biomarkers. Environ Sci Technol 47:1452-1460. doi:10.1021/es302722f

    Jones HE, Hickman M, Kasprzyk-Hordern B, Welton NJ, Baker DR, Ades AE. 2014.
    Illicit and pharmaceutical drug consumption estimated via wastewater analysis. Part B:
    placing back-calculations in a formal statistical framework. Sci Total Environ
    487:642-650. doi:10.1016/j.scitotenv.2014.04.101

    Examples
    --------
    >>> import pandas as pd
    >>> samples = pd.DataFrame({"site": ["A"], "sampled_on": ["2024-01-01"],
    ...     "biomarker": ["methamphetamine"], "concentration_ng_per_l": [100.0],
    ...     "flow_m3_per_day": [200_000.0]})
    >>> sites = pd.DataFrame({"site": ["A"], "population": [500_000.0]})
    >>> ds = back_calculate(samples, sites, n_draws=200, seed=1)
    >>> float(ds["load_mg_per_day"].median()) > 15_000
    True
    """
    draws = n_draws  # vocabulary name in the signature (docs/vocabulary.md)
    if method not in _METHODS:
        raise unknown_name_error("method", method, _METHODS)
    if censoring not in CENSORING_POLICIES:
        raise unknown_name_error("censoring policy", censoring, CENSORING_POLICIES)
    if method == "montecarlo" and not (isinstance(draws, int | np.integer) and draws >= 1):
        raise InputError(f"draws must be a positive integer, got {draws!r}")
    uncertainty = dict(uncertainty or {})
    unknown = set(uncertainty) - set(COMPONENTS)
    if unknown:
        raise unknown_name_error("uncertainty component", sorted(unknown)[0], COMPONENTS)
    if seed is not None and (isinstance(seed, bool)
                             or not isinstance(seed, int | np.integer)):
        raise InputError(f"seed must be a whole number (int) or None, got {seed!r}",
                         column="seed")
    seed = _draws.new_seed() if seed is None else int(seed)
    if isinstance(samples, pd.DataFrame) and samples.empty:
        raise InputError("the samples table has no rows; nothing to back-calculate",
                         file="samples")

    inputs = _prepare(samples, sites, flows, censoring, reference_fraction)
    table = _parameter_table(parameters)
    glob = _globals(table, inputs.biomarker, uncertainty)
    spec = _measurement_defaults()
    meas = {c: (1.0 if uncertainty[c] is None else uncertainty[c]) if c in uncertainty
            else spec[c] for c in _MEASUREMENT}
    pop = _population_dists(inputs, uncertainty, spec["population_cv"])
    rt = uncertainty.get("residence_time")

    if method == "analytic":
        ds = _analytic(inputs, glob, meas, pop, rt, non_abuse)
    else:
        if non_abuse:
            _check_non_abuse(non_abuse, inputs.biomarker)
        args = (glob, meas, pop, rt, non_abuse, seed, int(draws))
        if chunks is not None and chunks is not False:
            ds = _lazy_montecarlo(inputs, chunks, args)
        else:
            ds = _montecarlo(inputs, np.arange(len(inputs.site)), *args)
    return _finish(ds, inputs, glob, meas, pop, rt, parameters, seed, censoring, method, draws,
                   non_abuse)


def _population_dists(inputs: _Inputs, uncertainty: Mapping, default_cv: float) -> list:
    from wbe.datasets import parameter_distribution

    spec = uncertainty.get("population", "default")
    out = []
    for i, site in enumerate(inputs.site):
        if spec == "default":
            sd = inputs.population_sd[i]
            if not (math.isfinite(sd) and sd >= 0):
                sd = default_cv * inputs.population[i]
            out.append(parameter_distribution(inputs.population[i], "normal", sd=sd))
        elif spec is None:
            out.append(float(inputs.population[i]))
        elif isinstance(spec, Mapping):
            out.append(spec.get(site, float(inputs.population[i])))
        else:
            out.append(spec)
    return out


def _inverse_error_log(dist, seed, component, keys, n) -> np.ndarray:
    """log(1/epsilon) draws of an error factor, shape (len(keys), n)."""
    ln = _lognormal_params(dist)
    if ln is not None:
        mu, sigma = ln
        if sigma == 0:
            return np.full((len(keys), n), -mu)
        z = _draws.keyed_normals(seed, component, keys, n)
        z *= -sigma
        z -= mu
        return z
    return -np.log(_draws.keyed_draws(dist, seed, component, keys, n))


def _montecarlo(inputs, sel, glob, meas, pop, rt_spec, non_abuse, seed, n,
                tsel=None) -> xr.Dataset:
    """Monte Carlo draws for the sites ``sel`` (and dates ``tsel``, default all), computed in
    (site, date, biomarker, draw)."""
    if tsel is None:
        tsel = np.arange(len(inputs.date))
    n_s, n_t, n_b = len(sel), len(tsel), len(inputs.biomarker)
    pos = np.full(len(inputs.site), -1)
    pos[sel] = np.arange(n_s)
    tpos = np.full(len(inputs.date), -1)
    tpos[tsel] = np.arange(n_t)
    rows = np.flatnonzero((pos[inputs.s_idx] >= 0) & (tpos[inputs.t_idx] >= 0))
    si, ti, bi = pos[inputs.s_idx[rows]], tpos[inputs.t_idx[rows]], inputs.b_idx[rows]
    dates = inputs.date[tsel]
    days = dates.strftime("%Y-%m-%d").tolist()
    sites = [inputs.site[i] for i in sel]
    bios = inputs.biomarker
    present = np.zeros((n_s, n_t, n_b), dtype=bool)
    present[si, ti, bi] = True
    cells = np.flatnonzero(present.ravel())  # row-major order of the grid
    cs, ct, cb = np.unravel_index(cells, present.shape)
    keys = [(sites[a], days[b], bios[c]) for a, b, c in zip(cs.tolist(), ct.tolist(),
                                                              cb.tolist(), strict=True)]

    # log(1/error) of sampling x analysis per sample, written straight into the grid
    work = np.empty((n_s * n_t * n_b, n))
    if len(cells) < work.shape[0]:
        work[~present.ravel()] = np.nan
    ln_s, ln_a = _lognormal_params(meas["sampling"]), _lognormal_params(meas["chemical_analysis"])
    if ln_s is not None and ln_a is not None:
        sig = math.hypot(ln_s[1], ln_a[1])
        mu = ln_s[0] + ln_a[0]
        if len(cells) == work.shape[0]:
            block = work
        else:
            block = np.empty((len(cells), n))
        if sig > 0:
            _draws.keyed_normals(seed, "measurement", keys, n, out=block)
            block *= -sig  # -mu is added with the flow error below (one pass less)
        else:
            block.fill(0.0)
        if block is not work:
            work[cells] = block
        shift = -mu
        var_s, var_a = ln_s[1] ** 2, ln_a[1] ** 2
    else:
        ls = _inverse_error_log(meas["sampling"], seed, "sampling", keys, n)
        la = _inverse_error_log(meas["chemical_analysis"], seed, "chemical_analysis", keys, n)
        var_s, var_a = ls.var(axis=1), la.var(axis=1)
        work[cells] = ls + la
        shift = 0.0
    work = work.reshape(n_s, n_t, n_b, n)

    # flow error per site-day, shared by all biomarkers of the day
    sd_present = present.any(axis=2)
    fs, ft = np.nonzero(sd_present)
    fkeys = [(sites[a], days[b]) for a, b in zip(fs.tolist(), ft.tolist(), strict=True)]
    log_f = np.zeros((n_s, n_t, n))
    log_f[fs, ft] = _inverse_error_log(meas["flow"], seed, "flow", fkeys, n)
    var_f = log_f.var(axis=2)
    log_f += shift
    work += log_f[:, :, None, :]

    # load [mg/day] = C Q 1e-3 / (eps_s eps_a eps_Q)
    conc = np.full((n_s, n_t, n_b), np.nan)
    conc[si, ti, bi] = inputs.conc[rows]
    base = _chain.mass_load(conc, inputs.flow[np.ix_(sel, tsel)][:, :, None])
    np.exp(work, out=work)
    work *= base[..., None]
    load = work

    # globals (biomarker, draw) and per-site (site, draw)
    cf = np.empty((n_b, n))
    for j, b in enumerate(bios):
        if glob.cf[j] is not None:
            cf[j] = _draws.keyed_draws(glob.cf[j], seed, "correction_factor", [(b,)], n)[0]
        else:
            exc = _draws.keyed_draws(glob.excretion[j], seed, "correction_factor", [(b,)], n)[0]
            cf[j] = glob.cf_ratio[j] / exc

    def per_biomarker(dists, component):
        return np.vstack([_draws.keyed_draws(d, seed, component, [(b,)], n)
                          for d, b in zip(dists, bios, strict=True)])

    half = per_biomarker(glob.half_life, "half_life")
    dose = per_biomarker(glob.dose, "typical_dose")
    ndose = per_biomarker(glob.n_doses, "doses_per_user_per_day")
    popd = np.vstack([_draws.keyed_draws(pop[i], seed, "population", [(inputs.site[i],)], n)
                      for i in sel])
    rt = np.repeat(inputs.residence_h[sel][:, None], n, axis=1)
    if rt_spec is not None:
        rt = rt * _draws.keyed_draws(rt_spec, seed, "residence_time", [(s,) for s in sites], n)

    cons_load = _subtract_non_abuse(load, bios, non_abuse) if non_abuse else load
    with np.errstate(divide="ignore", invalid="ignore"):
        stab = np.exp(math.log(2.0) * rt[:, None, :] / half[None, :, :])  # (site, bio, draw)
        to_cons = stab * cf[None, :, :]  # (site, biomarker, draw)
        cons = cons_load * to_cons[:, None, :, :]
        per1000 = cons_load * (to_cons * (1000.0 / popd)[:, None, :])[:, None, :, :]
        dpk = cons_load * (to_cons * (1000.0 / popd)[:, None, :] / dose[None, :, :]
                           )[:, None, :, :]
        usr = cons_load * (to_cons / (dose * ndose)[None, :, :])[:, None, :, :]

    dims = ("site", "date", "biomarker", "draw")
    data = {
        "load_mg_per_day": (dims, load),
        "consumption_mg_per_day": (dims, cons),
        "consumption_mg_per_day_per_1000": (dims, per1000),
        "doses_per_day_per_1000": (dims, dpk),
        "users": (dims, usr),
    }
    if np.isfinite(inputs.reference_fraction).any():
        ref = inputs.reference_fraction[sel]
        with np.errstate(invalid="ignore"):
            data["prevalence"] = (dims, usr / (popd * ref[:, None])[:, None, None, :])

    # log-scale variance of each component's factor, per cell
    shape = (n_s, n_t, n_b)
    with np.errstate(invalid="ignore", divide="ignore"):
        v_stab = np.log(stab).var(axis=2)[:, None, :]
        logvar = {
            "sampling": var_s, "chemical_analysis": var_a,
            "flow": var_f[:, :, None],
            "population": np.log(popd).var(axis=1)[:, None, None],
            "residence_time": v_stab if rt_spec is not None else 0.0,
            "correction_factor": np.log(cf).var(axis=1)[None, None, :],
            "half_life": 0.0 if rt_spec is not None else v_stab,
            "typical_dose": np.log(dose).var(axis=1)[None, None, :],
            "doses_per_user_per_day": np.log(ndose).var(axis=1)[None, None, :],
        }
    comps = list(COMPONENTS)
    lv = np.empty((len(comps), *shape))
    for k, c in enumerate(comps):
        value = logvar[c]
        if np.ndim(value) == 1:  # per present cell
            lv[k] = np.nan
            lv[k].reshape(-1)[cells] = value
        else:
            lv[k] = value
    lv[:, ~present] = np.nan
    data["log_variance"] = (("component", "site", "date", "biomarker"), lv)
    return xr.Dataset(data, coords={"site": sites, "date": dates, "biomarker": bios,
                                    "draw": np.arange(n), "component": comps})


def _chunk_sizes(chunks, n_sites: int, n_dates: int) -> tuple[int, int]:
    """``chunks=`` (sites per chunk, or a mapping with ``site`` and/or ``date``) -> sizes."""
    if isinstance(chunks, Mapping):
        unknown = set(chunks) - {"site", "date"}
        if unknown:
            raise unknown_name_error("chunk dimension", sorted(map(str, unknown))[0],
                                     ["site", "date"])
        size = {"site": chunks.get("site", n_sites), "date": chunks.get("date", n_dates)}
    else:
        size = {"site": chunks, "date": n_dates}
    out = []
    for dim, full in (("site", n_sites), ("date", n_dates)):
        value = size[dim]
        if value in (-1, None):
            value = full
        if not (isinstance(value, int | np.integer) and not isinstance(value, bool)
                and value >= 1):
            raise InputError(f"chunks: {dim} chunk size must be a positive integer (or -1 "
                             f"for one chunk), got {value!r}", column="chunks")
        out.append(int(value))
    return out[0], out[1]


def _montecarlo_block(inputs, sel, tsel, args) -> xr.Dataset:
    return _montecarlo(inputs, sel, *args, tsel=tsel)


def _lazy_montecarlo(inputs: _Inputs, chunks, args) -> xr.Dataset:
    """Dask-backed draws, one delayed Monte Carlo computation per (site, date) block."""
    try:
        import dask
        import dask.array as dsa
    except ImportError:  # pragma: no cover - depends on the environment
        raise InputError("chunks= needs dask: pip install 'wbe-drugs[dask]'") from None
    n_sites, n_dates = len(inputs.site), len(inputs.date)
    chunk_sites, chunk_dates = _chunk_sizes(chunks, n_sites, n_dates)
    n_b, n = len(inputs.biomarker), args[-1]
    names = [v for v in VARIABLES if v != "prevalence"]
    if np.isfinite(inputs.reference_fraction).any():
        names.append("prevalence")
    site_starts = range(0, n_sites, chunk_sites)
    date_starts = range(0, n_dates, chunk_dates)
    # Shared inputs enter the graph once (one key each, not hashed or copied per block).
    shared = dask.delayed(inputs, traverse=False)
    shared_args = dask.delayed(args, traverse=False)
    token = dask.base.tokenize(shared.key, shared_args.key)
    grid = {name: [] for name in [*names, "log_variance"]}
    for start in site_starts:
        sel = np.arange(start, min(start + chunk_sites, n_sites))
        row = {name: [] for name in grid}
        for tstart in date_starts:
            tsel = np.arange(tstart, min(tstart + chunk_dates, n_dates))
            block = dask.delayed(_montecarlo_block)(
                shared, sel, tsel, shared_args,
                dask_key_name=f"wbe-montecarlo-{token}-{start}-{tstart}")
            for name in names:
                row[name].append(dsa.from_delayed(block[name].data,
                                                  shape=(len(sel), len(tsel), n_b, n),
                                                  dtype=float))
            row["log_variance"].append(dsa.from_delayed(
                block["log_variance"].data, shape=(len(COMPONENTS), len(sel), len(tsel), n_b),
                dtype=float))
        for name in grid:
            grid[name].append(row[name])
    data = {}
    for name in names:
        data[name] = (("site", "date", "biomarker", "draw"), dsa.block(
            [[[[b]] for b in r] for r in grid[name]]))
    lv = dsa.concatenate([dsa.concatenate(r, axis=2) for r in grid["log_variance"]], axis=1)
    data["log_variance"] = (("component", "site", "date", "biomarker"), lv)
    return xr.Dataset(data, coords={"site": inputs.site, "date": inputs.date,
                                    "biomarker": inputs.biomarker, "draw": np.arange(n),
                                    "component": list(COMPONENTS)})


#: non-abuse correction -> (biomarker corrected, biomarker whose load is subtracted)
_NON_ABUSE_PAIRS = {"amphetamine_from_methamphetamine": ("amphetamine", "methamphetamine"),
                    "morphine_from_codeine": ("morphine", "codeine")}


def _check_non_abuse(non_abuse, bios) -> None:
    """Refuse unknown corrections and a missing codeine ratio before any draw is made
    (on the lazy path :func:`_subtract_non_abuse` only runs when a block is computed)."""
    for name in non_abuse:
        if name not in _NON_ABUSE_PAIRS:
            raise unknown_name_error("non-abuse correction", name, _NON_ABUSE_PAIRS)
    ratio = non_abuse.get("morphine_from_codeine", 0.0)
    if ratio is None and all(b in bios for b in _NON_ABUSE_PAIRS["morphine_from_codeine"]):
        raise InputError("morphine_from_codeine needs an explicit ratio (no default)")


def _subtract_non_abuse(load, bios, non_abuse):
    """Subtract the non-abuse loads (``non_abuse`` checked by :func:`_check_non_abuse`)."""
    out = load.copy()
    for name, ratio in non_abuse.items():
        target, source = _NON_ABUSE_PAIRS[name]
        if target not in bios or source not in bios:
            continue
        if ratio is None:
            ratio = _chain.AMP_METH_RATIO_DEFAULT
        jt, js = bios.index(target), bios.index(source)
        src = load[:, :, js, :]
        has = np.isfinite(src)
        if target == "amphetamine":
            corrected = _chain.amphetamine_from_methamphetamine(load[:, :, jt, :], src, ratio)
        else:
            corrected = _chain.heroin_related_morphine(load[:, :, jt, :], src,
                                                       codeine_to_morphine_ratio=ratio)
        out[:, :, jt, :] = np.where(has, corrected, load[:, :, jt, :])
    return out


def _analytic(inputs, glob, meas, pop, rt_spec, non_abuse) -> xr.Dataset:
    if non_abuse:
        raise InputError("method='analytic' cannot subtract non-abuse sources (a difference of "
                         "log-normals is not log-normal); use method='montecarlo'")
    bad = []
    params = {}
    for c in _MEASUREMENT:
        params[c] = _lognormal_params(meas[c])
        if params[c] is None:
            bad.append(c)
    pop_ln = [_lognormal_params(p) for p in pop]
    if any(p is None for p in pop_ln):
        bad.append("population")
    cf_ln = []
    for j in range(len(inputs.biomarker)):
        if glob.cf[j] is not None:
            cf_ln.append(_lognormal_params(glob.cf[j]))
        else:
            e = _lognormal_params(glob.excretion[j])
            cf_ln.append(None if e is None else (math.log(glob.cf_ratio[j]) - e[0], e[1]))
    if any(p is None for p in cf_ln):
        bad.append("correction_factor")
    dose_ln = [_lognormal_params(d) if not (isinstance(d, float) and math.isnan(d))
               else (math.nan, 0.0) for d in glob.dose]
    if any(p is None for p in dose_ln):
        bad.append("typical_dose")
    nd_ln = [_lognormal_params(d) if not (isinstance(d, float) and math.isnan(d))
             else (math.nan, 0.0) for d in glob.n_doses]
    if any(p is None for p in nd_ln):
        bad.append("doses_per_user_per_day")
    if any(hasattr(h, "ppf") for h in glob.half_life) or rt_spec is not None:
        bad.append("half_life/residence_time")
    if bad:
        raise InputError("method='analytic' needs every uncertain component to be log-normal "
                         f"(or fixed); not log-normal: {', '.join(bad)}. Pass log-normal "
                         "distributions in `uncertainty=` or use method='montecarlo'")
    si, ti, bi = inputs.s_idx, inputs.t_idx, inputs.b_idx
    n_s, n_t, n_b = len(inputs.site), len(inputs.date), len(inputs.biomarker)
    base = _chain.mass_load(inputs.conc, inputs.flow[si, ti])
    mu = {c: -params[c][0] for c in _MEASUREMENT}  # log(1/eps)
    var = {c: params[c][1] ** 2 for c in _MEASUREMENT}
    half = np.array([float(h) for h in glob.half_life])
    log_stab = math.log(2.0) * inputs.residence_h[si] / half[bi]
    cf_mu, cf_var = np.array([p[0] for p in cf_ln]), np.array([p[1] ** 2 for p in cf_ln])
    p_mu, p_var = np.array([p[0] for p in pop_ln]), np.array([p[1] ** 2 for p in pop_ln])
    d_mu, d_var = np.array([p[0] for p in dose_ln]), np.array([p[1] ** 2 for p in dose_ln])
    n_mu, n_var = np.array([p[0] for p in nd_ln]), np.array([p[1] ** 2 for p in nd_ln])
    with np.errstate(divide="ignore"):
        log_base = np.log(base)
    mu_load = log_base + sum(mu.values())
    v_load = np.full(len(si), sum(var.values()))
    mu_cons = mu_load + log_stab + cf_mu[bi]
    v_cons = v_load + cf_var[bi]
    mu_k = mu_cons + math.log(1000.0) - p_mu[si]
    v_k = v_cons + p_var[si]
    mu_d, v_d = mu_k - d_mu[bi], v_k + d_var[bi]
    mu_u, v_u = mu_cons - d_mu[bi] - n_mu[bi], v_cons + d_var[bi] + n_var[bi]
    out = {"load_mg_per_day": (mu_load, v_load), "consumption_mg_per_day": (mu_cons, v_cons),
           "consumption_mg_per_day_per_1000": (mu_k, v_k), "doses_per_day_per_1000": (mu_d, v_d),
           "users": (mu_u, v_u)}
    if np.isfinite(inputs.reference_fraction).any():
        ref = inputs.reference_fraction
        out["prevalence"] = (mu_u - p_mu[si] - np.log(ref[si]), v_u + p_var[si])

    def grid(values):
        g = np.full((n_s, n_t, n_b), np.nan)
        g[si, ti, bi] = values
        return g

    dims = ("site", "date", "biomarker")
    data = {}
    for name, (m, v) in out.items():
        data[name] = (dims, grid(np.exp(m)))
        data[f"{name}_log_sd"] = (dims, grid(np.sqrt(v)))
    comps = list(COMPONENTS)
    lv = {c: np.zeros(len(si)) for c in comps}
    lv.update({c: np.full(len(si), var[c]) for c in _MEASUREMENT})
    lv["correction_factor"], lv["population"] = cf_var[bi], p_var[si]
    lv["typical_dose"], lv["doses_per_user_per_day"] = d_var[bi], n_var[bi]
    data["log_variance"] = (("component", *dims), np.stack([grid(lv[c]) for c in comps]))
    return xr.Dataset(data, coords={"site": inputs.site, "date": inputs.date,
                                    "biomarker": inputs.biomarker, "component": comps})


def _finish(ds, inputs, glob, meas, pop, rt, parameters, seed, censoring, method, draws,
            non_abuse):
    import importlib.metadata as md

    import wbe

    n_s, n_t, n_b = len(inputs.site), len(inputs.date), len(inputs.biomarker)
    si, ti, bi = inputs.s_idx, inputs.t_idx, inputs.b_idx
    conc = np.full((n_s, n_t, n_b), np.nan)
    conc[si, ti, bi] = inputs.conc
    loq = np.full((n_s, n_t, n_b), np.nan)
    loq[si, ti, bi] = inputs.loq
    cens = np.zeros((n_s, n_t, n_b), dtype=bool)
    cens[si, ti, bi] = inputs.censored
    dims = ("site", "date", "biomarker")
    ds["concentration_ng_per_l"] = (dims, conc, {"units": "ng/L",
                                                 "long_name": "concentration after "
                                                 f"substitution of censored values ({censoring})"})
    ds["loq_ng_per_l"] = (dims, loq, {"units": "ng/L"})
    ds["censored"] = (dims, cens, {"long_name": "value was below LOQ/LOD and substituted"})
    ds["flow_m3_per_day"] = (("site", "date"), inputs.flow, {"units": "m3/day"})
    ds["population"] = (("site",), inputs.population, {"units": "inhabitants"})
    ds["n_substituted"] = (("biomarker",), np.bincount(bi[inputs.censored], minlength=n_b),
                           {"long_name": f"censored values substituted by {censoring}"})
    ds = ds.assign_coords(drug=("biomarker", glob.drug))
    for name, (units, comps) in VARIABLES.items():
        if name in ds:
            ds[name].attrs.update({"units": units, "uncertainty_components": " ".join(comps)})
        if f"{name}_log_sd" in ds:
            ds[f"{name}_log_sd"].attrs.update({"units": "1", "long_name": f"sd of log({name})"})
    ds["log_variance"].attrs.update({"units": "1", "long_name": "variance of the log of each "
                                     "component's factor (share: wbe.uncertainty_budget)"})
    if np.isnan(np.asarray([float(x) if not hasattr(x, "ppf") else 0.0
                            for x in glob.n_doses])).any():
        ds["users"].attrs["note"] = ("NaN where the parameter set gives no "
                                     "doses_per_user_per_day; pass it in uncertainty=")
    versions = {"wbe": wbe.__version__}
    for pkg in ("numpy", "scipy", "pandas", "xarray"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:  # pragma: no cover
            versions[pkg] = "unknown"
    comps = {
        "sampling": _describe(meas["sampling"]),
        "chemical_analysis": _describe(meas["chemical_analysis"]),
        "flow": _describe(meas["flow"]),
        "population": {s: _describe(p) for s, p in zip(inputs.site, pop, strict=True)},
        "residence_time": _describe(rt),
        "parameters": glob.described,
    }
    ds.attrs.update({
        "title": "wastewater back-calculation (wbe.back_calculate)",
        "parameter_set": parameters if isinstance(parameters, str) else "<DataFrame>",
        "seed": str(seed),
        "method": method,
        "draws": int(draws) if method == "montecarlo" else 0,
        "censoring": censoring,
        "n_substituted": json.dumps(dict(zip(inputs.biomarker,
                                             ds["n_substituted"].values.tolist(), strict=True))),
        "non_abuse": json.dumps(dict(non_abuse or {})),
        "versions": json.dumps(versions),
        "component_scopes": json.dumps(COMPONENTS),
        "component_distributions": json.dumps(comps),
        "error_convention": "measured = true x factor; back-calculation divides by the factor",
    })
    return ds


# --------------------------------------------------------------------------------------
# summaries
# --------------------------------------------------------------------------------------


def _level_name(level: float) -> str:
    return f"{100 * level:g}"


def summarize(ds: xr.Dataset, levels=(0.5, 0.95), variables=None) -> pd.DataFrame:
    """Tidy table of medians and central intervals, one row per sampled site-day.

    Parameters
    ----------
    ds : xarray.Dataset
        Result of :func:`back_calculate` (either method).
    levels : sequence of float, default (0.5, 0.95)
        Central interval probabilities, each in (0, 1).
    variables : sequence of str, optional
        Variables to summarise; default all of :data:`VARIABLES` present.

    Returns
    -------
    pandas.DataFrame
        Columns ``site, date, biomarker, drug, variable, units, median`` and
        ``lower_<100 level>``, ``upper_<100 level>`` (e.g. ``lower_95``); rows only where
        a sample exists.

    Examples
    --------
    >>> import pandas as pd
    >>> samples = pd.DataFrame({"site": ["A"], "sampled_on": ["2024-01-01"],
    ...     "biomarker": ["methamphetamine"], "concentration_ng_per_l": [100.0],
    ...     "flow_m3_per_day": [200_000.0]})
    >>> sites = pd.DataFrame({"site": ["A"], "population": [500_000.0]})
    >>> t = summarize(back_calculate(samples, sites, n_draws=500, seed=1))
    >>> list(t.columns[-5:])
    ['median', 'lower_50', 'upper_50', 'lower_95', 'upper_95']
    """
    levels = tuple(float(x) for x in levels)
    if not all(0 < x < 1 for x in levels):
        raise InputError(f"levels must be in (0, 1), got {levels!r}")
    names = [v for v in (variables or VARIABLES) if v in ds]
    analytic = ds.attrs.get("method") == "analytic"
    probs = [0.5]
    for lev in levels:
        probs += [0.5 - lev / 2, 0.5 + lev / 2]
    if analytic:
        quantiles = []
        for name in names:
            med = ds[name].values
            sd = ds[f"{name}_log_sd"].values
            z = special.ndtri(np.asarray(probs))
            quantiles.append(med[..., None] * np.exp(z * sd[..., None]))
    else:
        quantiles = _draw_quantiles([ds[name] for name in names], probs)
    frames = []
    for name, q in zip(names, quantiles, strict=True):
        cols = {"median": q[..., 0]}
        for k, lev in enumerate(levels):
            cols[f"lower_{_level_name(lev)}"] = q[..., 1 + 2 * k]
            cols[f"upper_{_level_name(lev)}"] = q[..., 2 + 2 * k]
        present = np.isfinite(cols["median"])
        s, t, b = np.nonzero(present)
        frame = pd.DataFrame({
            "site": ds["site"].values[s],
            "date": ds["date"].values[t],
            "biomarker": ds["biomarker"].values[b],
            "drug": ds["drug"].values[b],
            "variable": name,
            "units": ds[name].attrs.get("units", ""),
        })
        for key, value in cols.items():
            frame[key] = value[present]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _draw_quantiles(arrays: list[xr.DataArray], probs: list[float]) -> list[np.ndarray]:
    """Quantiles over ``draw`` (last axis of the result), all variables in one pass."""
    def kernel(x):
        return np.moveaxis(np.quantile(x, probs, axis=-1), 0, -1)

    out = []
    for da in arrays:
        da = da.transpose("site", "date", "biomarker", "draw")
        if da.chunks is not None and len(da.chunks[-1]) > 1:
            da = da.chunk({"draw": -1})  # quantiles need every draw of a cell in one block
        out.append(xr.apply_ufunc(
            kernel, da, input_core_dims=[["draw"]], output_core_dims=[["quantile"]],
            dask="parallelized", output_dtypes=[float],
            dask_gufunc_kwargs={"output_sizes": {"quantile": len(probs)}}))
    if any(o.chunks is not None for o in out):
        import dask

        out = list(dask.compute(*[o.data for o in out]))
        return [np.asarray(o) for o in out]
    return [o.values for o in out]


def uncertainty_budget(ds: xr.Dataset, variable: str = "consumption_mg_per_day_per_1000"
                       ) -> xr.DataArray:
    """Share of the log-scale variance of a variable contributed by each component.

    Parameters
    ----------
    ds : xarray.Dataset
        Result of :func:`back_calculate`.
    variable : str, default "consumption_mg_per_day_per_1000"
        One of :data:`VARIABLES`.

    Returns
    -------
    xarray.DataArray
        Dims ``(component, site, date, biomarker)``; shares sum to 1 over ``component``
        where the variable is uncertain, NaN where there is no sample.

    Notes
    -----
    The factors are independent, so :math:`\\operatorname{Var}\\log Y = \\sum_c
    \\operatorname{Var}\\log F_c` and the share of component :math:`c` is
    :math:`\\operatorname{Var}\\log F_c / \\operatorname{Var}\\log Y`. For log-normal
    factors the variances are exact (:math:`\\sigma_c^2`); otherwise they are estimated
    from the draws.

    Examples
    --------
    >>> import pandas as pd
    >>> samples = pd.DataFrame({"site": ["A"], "sampled_on": ["2024-01-01"],
    ...     "biomarker": ["methamphetamine"], "concentration_ng_per_l": [100.0],
    ...     "flow_m3_per_day": [200_000.0]})
    >>> sites = pd.DataFrame({"site": ["A"], "population": [500_000.0]})
    >>> b = uncertainty_budget(back_calculate(samples, sites, n_draws=500, seed=1))
    >>> round(float(b.sum("component").squeeze()), 6)
    1.0
    """
    if variable not in VARIABLES:
        raise unknown_name_error("variable", variable, VARIABLES)
    comps = list(VARIABLES[variable][1])
    lv = ds["log_variance"].sel(component=comps)
    total = lv.sum("component", skipna=False)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = lv / total
    share.name = f"variance_share_{variable}"
    share.attrs = {"units": "1", "variable": variable}
    return share
