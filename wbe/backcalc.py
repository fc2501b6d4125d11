"""Back-calculation of drug consumption from wastewater with keyed Monte Carlo uncertainty.

:func:`back_calculate` takes the canonical ``samples``, ``sites`` and ``flows`` tables
(``docs/data-model.md``) and returns an ``xarray.Dataset`` with dims
``(site, date, biomarker[, draw])``; :func:`summarize` turns it into a tidy table of
medians and intervals and :func:`uncertainty_budget` splits the log-scale variance into
components. The chain itself is in :mod:`wbe.chain`; equations and sources are in
``docs/methods-backcalculation.md``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from wbe import _backcalc_kernel as _kernel
from wbe import _draws
from wbe._backcalc_summaries import summarize, uncertainty_budget
from wbe._backcalc_validation import prepare
from wbe._compat import renamed_arguments
from wbe.censoring import CENSORING_TREATMENTS
from wbe.errors import InputError, unknown_name_error

__all__ = ["COMPONENTS", "VARIABLES", "back_calculate", "summarize", "uncertainty_budget"]

#: uncertain components -> scope ("global" = per biomarker, shared by every site and day)
COMPONENTS: dict[str, str] = _kernel.COMPONENTS

#: output variable -> (units, components whose uncertainty it carries)
VARIABLES: dict[str, tuple[str, tuple[str, ...]]] = _kernel.VARIABLES


@renamed_arguments(draws="n_draws")
def back_calculate(samples: pd.DataFrame, sites: pd.DataFrame, flows: pd.DataFrame | None = None,
                   *, parameters: str | pd.DataFrame | Mapping = "mixture", n_draws: int = 1000,
                   seed: int | None = None, method: str = "montecarlo",
                   censoring: str = "draw", uncertainty: Mapping | None = None,
                   chunks: int | Mapping | None = None, reference_fraction=None,
                   non_abuse: Mapping | str | None = "default") -> xr.Dataset:
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
    parameters : str, pandas.DataFrame or mapping, default "mixture"
        ``"mixture"`` (the default): the correction factor of each biomarker is drawn, per
        draw, from one of the published parameter sets that disagree about it, with the
        weights of :func:`wbe.datasets.load_parameter_mixtures` (model uncertainty across
        sets; other parameters from the ``"default"`` set). A registry set name
        (:func:`wbe.datasets.list_parameter_sets`, e.g. ``"default"``) or a wide table
        like :func:`wbe.datasets.biomarker_parameters` makes the intervals conditional on
        that one set; a mapping ``{set name: weight}`` mixes the named sets for every
        biomarker. ``summarize`` says which (``conditional_on_one_set``).
    n_draws : int, default 1000
        Monte Carlo draws [count] (``draws=`` is a deprecated alias).
    seed : int, optional
        Root of the keyed draws; fresh entropy (recorded in ``attrs``) if None.
    method : {"montecarlo", "analytic"}
        ``analytic`` propagates log-normal factors in closed form and returns medians and
        log-scale standard deviations (``<variable>_log_sd``) instead of draws.
    censoring : {"draw", "zero", "loq/2", "loq/sqrt2", "loq"}, default "draw"
        ``"draw"``: a censored concentration is uncertain and drawn per draw below its LOQ,
        from the censored log-normal fitted to the site-biomarker series when it has at
        least :data:`wbe.censoring.MIN_QUANTIFIED_FOR_FIT` quantified values, else uniform
        on (0, LOQ) (:func:`wbe.censoring.draw_censored_concentrations`; Helsel 2012,
        Lubin et al. 2004); :func:`summarize` gives a censored day the interval from 0 to
        the upper quantile at the LOQ. The other values substitute a multiple of the LOQ
        (:func:`wbe.censoring.substitute_censored`), a convention kept for comparison with
        published tables (intervals then ignore the censoring).
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
    non_abuse : "default", mapping or None, default "default"
        Subtract non-abuse sources from loads before consumption. ``"default"`` applies
        every correction with a cited default ratio whose biomarkers are both measured:
        amphetamine formed from methamphetamine (ratio of
        :func:`wbe.chain.amphetamine_from_methamphetamine`); for morphine (no cited ratio
        for codeine or therapeutic morphine) and for amphetamine without methamphetamine it
        warns (``WBEWarning``), naming the drug and the assumption (all of it from the drug
        of abuse). A mapping chooses explicitly: ``{"amphetamine_from_methamphetamine":
        ratio or None}``, ``{"morphine_from_codeine": ratio}``. ``None`` (or ``{}``) is
        the explicit opt-out: no correction and no warning.

    Returns
    -------
    xarray.Dataset
        Dims ``(site, date, biomarker, draw)`` (no ``draw`` for ``analytic``), coordinate
        ``drug`` on ``biomarker``; variables ``load_mg_per_day``,
        ``consumption_mg_per_day``, ``consumption_mg_per_day_per_1000``,
        ``doses_per_day_per_1000``, ``users`` (and ``prevalence``), NaN where no sample;
        ``concentration_ng_per_l`` (measured; NaN where censored under ``"draw"``, the
        substituted value otherwise), ``loq_ng_per_l``, ``censored`` (flag per day),
        ``flow_m3_per_day``, ``population``, ``n_substituted`` (censored values per
        biomarker), with ``censoring="draw"`` ``censored_fraction_of_loq`` (dims
        ``censored_sample, draw``) and the fitted ``censored_fit_mu_log`` and
        ``censored_fit_sigma_log``, and
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
    if method not in _kernel.METHODS:
        raise unknown_name_error("method", method, _kernel.METHODS)
    if censoring not in CENSORING_TREATMENTS:
        raise unknown_name_error("censoring policy", censoring, CENSORING_TREATMENTS)
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

    inputs = prepare(samples, sites, flows, censoring, reference_fraction)
    return _kernel.run(inputs, parameters=parameters, draws=draws, seed=seed, method=method,
                       censoring=censoring, uncertainty=uncertainty, chunks=chunks,
                       non_abuse=non_abuse)
