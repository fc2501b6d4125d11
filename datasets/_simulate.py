"""A simulated city with known truth: wastewater, flows, sites and lab drug-test results.

This module holds the public entry point :func:`simulate` and its result; the work is done by
two parts:

- :mod:`wbe.datasets._simulate_wastewater`: sites, flows, consumption and the forward chain
  (consumption -> excreted load -> in-sewer loss -> concentration -> measurement error -> LOQ
  censoring), written with the functions of :mod:`wbe.chain` (the inverse of back-calculation,
  so both change together);
- :mod:`wbe.datasets._simulate_lab`: hair and urine tests of groups and registered users.

Dependency direction: :mod:`wbe.datasets` imports only :mod:`wbe.errors`, :mod:`wbe.chain` and
:mod:`wbe._draws` from the core, three modules that import nothing else from ``wbe``; nothing in
``wbe.datasets`` imports the rest of the core (``tests/test_layering.py``). Both the simulator
and :func:`wbe.back_calculate` use the registry rows of
:func:`wbe.datasets.biomarker_parameters` and the distribution convention of
:func:`wbe.datasets.parameter_distribution`.

Every random component draws from its own stream keyed by ``(seed, component, site/drug/...)``
with the keyed-Philox scheme of the estimator (:mod:`wbe._draws`, the one keyed-RNG module of
the package; it depends on numpy only, so :mod:`wbe.datasets` stays a leaf), so switching a
component off, or simulating fewer sites or biomarkers, leaves the other draws unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from wbe.datasets._simulate_lab import CUTOFF_SETS, CUTOFFS, simulate_lab
from wbe.datasets._simulate_wastewater import (
    FLOW_DEFAULTS,
    LOQ_NG_PER_L,
    measurement_cv,
    simulate_wastewater,
)
from wbe.errors import InputError, unknown_name_error

__all__ = ["DEFAULT_BIOMARKERS", "SimulatedCity", "simulate"]

#: Biomarkers simulated by default (the main drugs of the Chinese monitoring programme).
DEFAULT_BIOMARKERS: tuple[str, ...] = (
    "methamphetamine",
    "amphetamine",
    "ketamine",
    "norketamine",
    "mdma",
    "benzoylecgonine",
    "morphine",
    "thc_cooh",
)

@dataclass(frozen=True, eq=False)
class SimulatedCity:
    """A simulated city: observations in the canonical tables and the truth behind them.

    Attributes
    ----------
    sites : pandas.DataFrame
        Canonical sites table (``docs/data-model.md``): ``site``, ``population`` (reported)
        [inhabitants], ``population_sd`` [inhabitants], ``population_method``, ``region``,
        ``residence_time_h`` [h], ``design_capacity_m3_per_day`` [m³/day],
        ``domestic_fraction`` [fraction].
    samples : pandas.DataFrame
        Canonical samples table: measured concentrations [ng/L] of 24-h composites, NaN and
        ``censored=True``, ``detection="below_loq"`` below the LOQ [ng/L].
    flows : pandas.DataFrame
        Canonical flows table: measured daily influent volume [m³/day], every day.
    truth : pandas.DataFrame
        One row per site, day and biomarker (every day, sampled or not): ``site``, ``date``,
        ``biomarker``, ``drug``, ``population`` (true) [inhabitants],
        ``consumption_mg_per_day`` [mg parent drug/day], ``consumption_mg_per_day_per_1000``
        [mg/day/1000 inhabitants, per TRUE population], ``excreted_load_mg_per_day`` and
        ``load_mg_per_day`` (at the plant) [mg biomarker/day], ``flow_m3_per_day`` (true)
        [m³/day], ``concentration_ng_per_l`` (true) [ng/L], ``outbreak_factor`` [ratio],
        ``rain_factor`` [ratio], ``sampled`` (a row in ``samples``), and the parameters used:
        ``correction_factor`` [ratio], ``half_life_h`` [h], ``residence_time_h`` [h].
    lab_results : pandas.DataFrame
        RAW lab results in the long format of ``docs/data-model.md`` except that the subject
        column is ``subject_id`` holding fake 18-digit ID-card-like strings (GB 11643 layout
        with a valid check digit), so that the readers' pseudonymisation can be tested; QC
        rows have ``sample_type="qc"`` and no subject. Values in ng/mL (urine) or ng/mg
        (hair), NaN with ``detection="not_detected"`` when not detected.
    lab_truth : Mapping[str, pandas.DataFrame]
        ``"prevalence"``: per ``group``, ``month`` (Period[M]), ``analyte``: ``prevalence``
        (the parameter; NaN for the registered cohort), ``tests``, ``truly_positive`` and
        ``true_share`` (truly positive share of the tests done). ``"relapse"``: per
        registered person: ``subject_id``, ``origin`` (start of abstinence), ``analyte``
        (primary drug), ``relapse_day`` [days since origin; inf if never],
        ``followup_end_day`` [days], ``relapsed_in_followup``, ``abstinent_3y`` (NA when
        followed less than three years). ``"relapse_survival"``: the true survival
        function of the time to relapse at 0.5, 1, 2, 3 and 5 years. ``"status"``: per
        unknown lab row ``sample_id``, ``analyte``, ``true_positive``.
    parameters : pandas.DataFrame
        Per biomarker: ``drug``, ``correction_factor`` (used), ``excretion_fraction``
        (used, NaN if the CF came directly from the registry), the registry's nominal
        ``correction_factor_nominal`` and ``excretion_fraction_nominal``, ``half_life_h``,
        molar masses and ``loq_ng_per_l``.
    seed : int or None
        The seed given (or the entropy drawn when ``seed=None``).
    config : Mapping[str, object]
        Every setting used (arguments after defaults were filled in), including the
        ``consumption_model`` and ``lab_groups`` tables.
    """

    sites: pd.DataFrame
    samples: pd.DataFrame
    flows: pd.DataFrame
    truth: pd.DataFrame
    lab_results: pd.DataFrame
    lab_truth: Mapping[str, pd.DataFrame]
    parameters: pd.DataFrame
    seed: int | None
    config: Mapping[str, object]


# --------------------------------------------------------------------------------------
# public
# --------------------------------------------------------------------------------------


def simulate(
    *,
    seed: int | np.random.SeedSequence | None = 0,
    n_sites: int = 6,
    start: str | pd.Timestamp = "2024-01-01",
    days: int = 730,
    biomarkers: Sequence[str] = DEFAULT_BIOMARKERS,
    parameter_set: str = "default",
    parameters: pd.DataFrame | None = None,
    true_parameters: str = "nominal",
    consumption: pd.DataFrame | None = None,
    outbreaks: Sequence[Mapping] | None = None,
    sample_every_days: int = 1,
    measurement_error: bool = True,
    loq_ng_per_l: Mapping[str, float] | None = None,
    population_cv: float | None = None,
    lab: bool = True,
    lab_groups: pd.DataFrame | None = None,
    registered: Mapping[str, object] | None = None,
    lab_qc: bool = True,
) -> SimulatedCity:
    """Simulate a multi-site city with known truth: wastewater, flows and lab drug tests.

    Parameters
    ----------
    seed : int, numpy.random.SeedSequence or None, default 0
        Root of every random stream; the same seed gives byte-identical tables.
    n_sites : int, default 6
        Number of sewage treatment plants (``WWTP01`` ...) [count].
    start : str or pandas.Timestamp, default "2024-01-01"
        First day of the wastewater and cross-sectional lab series [date].
    days : int, default 730
        Length of the series [days].
    biomarkers : sequence of str, default ``DEFAULT_BIOMARKERS``
        Canonical biomarker ids; each must be in the parameter table.
    parameter_set : str, default "default"
        Registry set read with :func:`wbe.datasets.biomarker_parameters`.
    parameters : pandas.DataFrame, optional
        Replaces the registry set: the same wide layout (index or column ``biomarker``;
        ``drug``, ``excretion_fraction`` [fraction] with ``_sd``, ``_low``, ``_high``,
        ``_distribution``, ``correction_factor`` [ratio], ``half_life_h`` [h],
        ``molar_mass_g_per_mol`` and ``parent_molar_mass_g_per_mol`` [g/mol]).
    true_parameters : {"nominal", "draw"}, default "nominal"
        ``"draw"`` draws the systematic parameters (excretion fraction, else correction
        factor) once per city and biomarker from
        :func:`wbe.datasets.parameter_distribution` of the registry row.
    consumption : pandas.DataFrame, optional
        Overrides of the consumption scenario per ``drug``: any of
        ``level_mg_per_day_per_1000`` [mg/day/1000 inhabitants], ``site_log_sd``,
        ``trend_per_year`` [log per year], ``season_amplitude`` [log], ``season_peak_doy``
        [day of year], ``weekday_amplitude`` [log], ``daily_log_sd`` [log]; NaN keeps the
        default. Needed for a drug without a default scenario.
    outbreaks : sequence of mapping, optional
        Injected outbreaks ``{"drug", "start", "days", "factor"[, "site"]}``: consumption of
        the drug multiplied by ``factor`` [ratio] from ``start`` for ``days`` days at
        ``site`` (all sites if omitted).
    sample_every_days : int, default 1
        Samples are taken on every n-th day from ``start`` [days]; flows are daily.
    measurement_error : bool, default True
        False switches off sampling, analytical and flow-meter error (for identity tests).
    loq_ng_per_l : mapping, optional
        LOQ per biomarker [ng/L], overriding the defaults.
    population_cv : float, optional
        ``population_sd / population`` of the sites [fraction]; default the registry's
        ``population`` CV of :func:`wbe.datasets.load_measurement_uncertainty`.
    lab : bool, default True
        Simulate the lab results (cross-sectional groups and the registered cohort).
    lab_groups : pandas.DataFrame, optional
        Cross-sectional groups, one row per group and analyte: ``group``, ``matrix``
        (``urine`` or ``hair``), ``tests_per_month`` [count], ``analyte``,
        ``prevalence``, ``sensitivity``, ``specificity`` [fraction].
    registered : mapping, optional
        Overrides of the registered cohort (社区戒毒/社区康复): ``n``, ``followup_days``,
        ``urine_interval_days``, ``hair_interval_days``, ``attendance``,
        ``cure_fraction``, ``weibull_shape``, ``weibull_scale_days``, ``sensitivity``,
        ``specificity``, ``segmented_fraction``, ``drug_mix``, ``group``; ``n=0`` or
        ``lab=False`` leaves it out.
    lab_qc : bool, default True
        Add one QC sample per batch and analyte (``sample_type="qc"``).

    Returns
    -------
    SimulatedCity
        Observations (``sites``, ``samples``, ``flows``, ``lab_results``) and truth
        (``truth``, ``lab_truth``, ``parameters``), see :class:`SimulatedCity`.

    Raises
    ------
    InputError
        For an invalid argument (naming it), a biomarker without parameters, LOQ or a
        drug without consumption scenario.
    UnknownNameError
        For an unknown biomarker, drug, site, matrix, analyte or setting name.

    Notes
    -----
    **Consumption** of drug :math:`d` at site :math:`s` on day :math:`t` per 1000 true
    inhabitants [mg/day/1000] is log-linear:

    .. math:: \\ln c_{sdt} = \\ln \\ell_d + u_{sd} + \\beta_d t_{yr}
              + A_d\\cos\\!\\left(2\\pi\\frac{\\mathrm{doy}_t-\\phi_d}{365.25}\\right)
              + \\ln w_d(\\mathrm{dow}_t) + \\varepsilon_{sdt} + \\ln o_{sdt}

    with site effect :math:`u\\sim N(0,\\sigma_{site})`, daily noise
    :math:`\\varepsilon\\sim N(0,\\sigma_{day})`, a weekday factor :math:`w_d` of weekly
    mean 1 peaking in the weekend composites with log-amplitude :math:`a_d` (0.7 for
    MDMA, 0.5 cocaine, 0.03 methamphetamine: the weekend rise of cocaine and MDMA loads
    and the flat weekly profile of methamphetamine reported by Ort et al. 2014 and
    Thomas et al. 2012) and outbreak multipliers :math:`o`. Levels: methamphetamine
    60 mg/day/1000 (Du et al. 2015: city means 12.5-181; Wang et al. 2020 found a mean
    of 157 in 22 cities in 2018, 26 % below 2014, hence the trend -0.08/yr), ketamine 5
    (Du et al. 2015: <0.2-89.6, higher in the south), MDMA 1 and cocaine 0.5 (low in
    China, ranked third and fourth in the 25-city survey doi:10.1007/s11356-020-12035-w);
    the rest (amphetamine 3, heroin 10, THC 2, codeine 20, methadone 5) are illustrative.
    Methamphetamine use is higher in summer (Li et al. 2014), hence the season peak at
    day 200. Consumption in mg/day is :math:`C = c\\,P_{true}/1000`.

    **Forward model** per biomarker :math:`b` of drug :math:`d`:

    .. math:: L_{ex} = C / CF_b,\\quad CF_b = \\frac{M_{parent}/M_b}{f_{ex,b}},\\quad
              L = L_{ex}\\,e^{-\\ln 2\\,\\tau_s/t_{1/2,b}},\\quad
              c_{true} = \\frac{L\\cdot 10^6}{Q_{true}\\cdot 10^3}

    in mg/day, ng/L and m³/day (Zuccato et al. 2008); when the registry row has no
    excretion fraction the registry CF is used. The measured concentration is
    :math:`c_{true}\\,\\epsilon_{samp}\\,\\epsilon_{anal}` and the measured flow
    :math:`Q_{true}\\,\\epsilon_Q`, each :math:`\\epsilon` log-normal with mean 1 and the
    CV of :func:`wbe.datasets.load_measurement_uncertainty` (sampling 10 %, analysis 10 %,
    flow 10 %; Ort et al. 2010, Castiglioni et al. 2013); values below the LOQ are
    censored. Default LOQs (1-10 ng/L) are illustrative of LC-MS/MS methods. A missing
    half-life (NaN in the registry, e.g. ketamine) is treated as stable. With
    ``true_parameters="draw"`` the excretion fraction (the registry CF when a row has no
    excretion fraction or molar masses) is drawn once per city and biomarker by inversion
    of its :func:`~wbe.datasets.parameter_distribution` (truncated to (0, 1] for a
    fraction); half-lives stay nominal.

    **Random streams**: every component draws from
    ``SeedSequence(entropy, spawn_key=(crc32(component), crc32(site), ...))`` (sites,
    population, rain, dry-weather flow, flow error, consumption per site and drug,
    sampling and analytical error per site and biomarker, parameters per biomarker, lab
    groups, registered cohort, QC), so a component's draws do not depend on which other
    components, sites or biomarkers are simulated.

    **Sites**: reported population log-uniform on 1e5-1.5e6, ``population_sd`` = CV ×
    population, true population reported + sd·z with z truncated so that it stays > 0;
    residence time uniform 1-12 h; dry-weather flow = true population × per-capita flow
    (uniform 150-300 L/person/day, illustrative for Chinese cities) × weekly pattern
    (weekend 3 % lower, illustrative) × day-to-day log-normal (CV 5 %). Rain events (daily
    probability 4 % in winter to 20 % in summer, illustrative) raise the flow by an
    exponential amount (mean 40 %) decaying with an e-folding time of 1 day, scaled by a
    per-site sensitivity (0.3-1, the share of combined sewers); the load is unchanged, so
    rain dilutes.

    **Lab**: cross-sectional groups test ``tests_per_month`` new people per month; a
    person uses each analyte with probability ``prevalence``; a result is positive with
    probability ``sensitivity`` if truly positive and ``1 - specificity`` otherwise
    (defaults 0.95 and 0.995 are illustrative). Positive values lie above the cutoff of
    the registry sets ``china-urine-kit`` (urine screening strips: methamphetamine and
    ketamine 1000, morphine 300, MDMA 500 ng/mL) and ``china-hair`` (hair confirmation,
    0.2 ng/mg; 公安部《涉毒人员毛发样本检测规范》2018); 10 % of negatives are
    quantified below it, the rest not detected. Urine rows are ``method="screen"``, hair
    rows ``method="confirm"``. Registered people start abstinence uniformly over the three years
    before ``start`` to the end; their time to relapse follows a cure model
    :math:`S(t) = \\pi + (1-\\pi)\\exp[-(t/\\lambda)^k]` with :math:`\\pi = 0.25`,
    :math:`k = 0.38`, :math:`\\lambda = 92` days, which gives 61 % relapsed within one
    year and 72 % within five (Brecht and Herbeck 2014 report 61 % and 75 %). They give
    urine every 14 days from the origin (attended with probability 0.9) and hair every
    182 days, half of the hair samples in two segments (0-3 and 3-6 cm, 1 cm ≈ 1 month).
    After relapse use is continuous; hair segments whose window reaches before the
    origin are positive (use before treatment). Their full histories are returned, also
    before ``start``.

    References
    ----------
    Zuccato E, Chiabrando C, Castiglioni S, et al. (2008). Estimating community drug
    abuse by wastewater analysis. Environ Health Perspect 116:1027-1032.
    doi:10.1289/ehp.11022

    Du P, Li K, Li J, et al. (2015). Methamphetamine and ketamine use in major Chinese
    cities, a nationwide reconnaissance through sewage-based epidemiology. Water Res
    84:76-84. doi:10.1016/j.watres.2015.07.025

    Li J, Hou L, Du P, et al. (2014). Estimation of amphetamine and methamphetamine uses
    in Beijing through sewage-based analysis. Sci Total Environ 490:724-732.
    doi:10.1016/j.scitotenv.2014.05.042

    Wang et al. (2020). Methamphetamine use in typical Chinese cities
    evaluated by wastewater-based epidemiology. Environ Sci Pollut Res 27:8157-8165.
    doi:10.1007/s11356-019-07504-w

    (Authors not verified) (2021). Tracing consumption patterns of stimulants, opioids, and
    ketamine in China by wastewater-based epidemiology. Environ Sci Pollut Res.
    doi:10.1007/s11356-020-12035-w

    Ort C, van Nuijs ALN, Berset JD, et al. (2014). Spatial differences and temporal
    changes in illicit drug use in Europe quantified by wastewater analysis. Addiction
    109:1338-1352. doi:10.1111/add.12570

    Thomas KV, Bijlsma L, Castiglioni S, et al. (2012). Comparing illicit drug use in 19
    European cities through sewage analysis. Sci Total Environ 432:432-439.
    doi:10.1016/j.scitotenv.2012.06.069

    Ort C, Lawrence MG, Rieckermann J, Joss A (2010). Sampling for pharmaceuticals and
    personal care products (PPCPs) and illicit drugs in wastewater systems. Environ Sci
    Technol 44:6024-6035. doi:10.1021/es100779n

    Castiglioni S, Bijlsma L, Covaci A, et al. (2013). Evaluation of uncertainties
    associated with the determination of community drug use through the measurement of
    sewage drug biomarkers. Environ Sci Technol 47:1452-1460. doi:10.1021/es302722f

    Brecht ML, Herbeck D (2014). Time to relapse following treatment for methamphetamine
    use: a long-term perspective on patterns and predictors. Drug Alcohol Depend
    139:18-25. doi:10.1016/j.drugalcdep.2014.02.702

    公安部 (2018). 涉毒人员毛发样本检测规范 (公禁毒〔2018〕938号), 第九条.

    Verification: the abstracts of Du 2015, Li 2014, Wang 2020, Ort 2014 and Brecht &
    Herbeck 2014 were read (numbers quoted above come from them); the DOIs of Zuccato 2008,
    Du 2015 and Thomas 2012 and the author list of Wang 2020 are cited from memory and were
    not checked against the journal pages.

    Examples
    --------
    >>> city = simulate(seed=1, n_sites=2, days=14, lab=False)
    >>> city.samples.columns.tolist()[:4]
    ['site', 'sampled_on', 'biomarker', 'concentration_ng_per_l']
    >>> len(city.flows)
    28
    >>> bool((city.truth["consumption_mg_per_day"] > 0).all())
    True
    """
    # ---- arguments
    if true_parameters not in ("nominal", "draw"):
        raise unknown_name_error("true_parameters mode", true_parameters, ["nominal", "draw"])
    if not isinstance(n_sites, int | np.integer) or n_sites < 1:
        raise InputError(f"n_sites must be a positive integer, got {n_sites!r}", column="n_sites")
    if not isinstance(days, int | np.integer) or days < 1:
        raise InputError(f"days must be a positive integer, got {days!r}", column="days")
    if not isinstance(sample_every_days, int | np.integer) or sample_every_days < 1:
        raise InputError(f"sample_every_days must be a positive integer, got "
                         f"{sample_every_days!r}", column="sample_every_days")
    try:
        start_day = pd.Timestamp(start).normalize()
    except (ValueError, TypeError):
        raise InputError(f"start must be a date, got {start!r}", column="start") from None
    if isinstance(biomarkers, str):
        biomarkers = [biomarkers]
    biomarkers = list(dict.fromkeys(biomarkers))
    if not biomarkers:
        raise InputError("biomarkers must name at least one biomarker", column="biomarkers")
    if isinstance(seed, np.random.SeedSequence):
        root = seed
        seed_out = seed.entropy
    else:
        if seed is not None and (not isinstance(seed, int | np.integer) or seed < 0):
            raise InputError(f"seed must be a non-negative integer, got {seed!r}", column="seed")
        root = np.random.SeedSequence(seed)
        seed_out = root.entropy
    cv = dict(measurement_cv())
    if population_cv is None:
        population_cv = cv["population"]
    if not population_cv >= 0:
        raise InputError(f"population_cv must be >= 0, got {population_cv!r}",
                         column="population_cv")
    loq = dict(LOQ_NG_PER_L)
    if loq_ng_per_l is not None:
        for name, value in loq_ng_per_l.items():
            if not float(value) >= 0:
                raise InputError(f"LOQ of {name!r} must be >= 0 [ng/L], got {value!r}",
                                 column="loq_ng_per_l")
            loq[name] = float(value)

    dates = pd.date_range(start_day, periods=int(days), freq="D")
    ww = simulate_wastewater(
        n_sites=int(n_sites), dates=dates, biomarkers=biomarkers, parameters=parameters,
        parameter_set=parameter_set, true_parameters=true_parameters, consumption=consumption,
        outbreaks=outbreaks, population_cv=population_cv, loq=loq, cv=cv,
        measurement_error=measurement_error, sample_every_days=int(sample_every_days),
        root=root,
    )
    lab_part = simulate_lab(lab_groups=lab_groups, registered=registered, dates=dates,
                            root=root, qc=lab_qc, enabled=lab)
    model, events, groups, reg_cfg = (ww.consumption_model, ww.outbreaks, lab_part.groups,
                                      lab_part.registered)

    config = {
        "n_sites": int(n_sites), "start": start_day, "days": int(days),
        "biomarkers": tuple(biomarkers),
        "parameter_set": parameter_set if parameters is None else "<DataFrame>",
        "true_parameters": true_parameters, "sample_every_days": int(sample_every_days),
        "measurement_error": bool(measurement_error), "measurement_cv": cv,
        "population_cv": float(population_cv), "loq_ng_per_l": dict(loq),
        "consumption_model": model.reset_index(), "flow": dict(FLOW_DEFAULTS),
        "outbreaks": tuple({k: v for k, v in e.items() if k != "mask"} for e in events),
        "lab": bool(lab), "lab_groups": groups, "registered": reg_cfg, "lab_qc": bool(lab_qc),
        "cutoffs": {m: dict(c) for m, c in CUTOFFS.items()},
        "cutoff_sets": dict(CUTOFF_SETS),
    }
    return SimulatedCity(
        sites=ww.sites,
        samples=ww.samples,
        flows=ww.flows,
        truth=ww.truth,
        lab_results=lab_part.results,
        lab_truth=MappingProxyType(lab_part.truth),
        parameters=ww.parameters,
        seed=seed_out,
        config=MappingProxyType(config),
    )
