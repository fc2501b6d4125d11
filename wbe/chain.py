"""Pure back-calculation chain: concentration -> load -> consumption -> doses -> users.

Every function is elementwise and broadcasts over numpy arrays, pandas objects and
xarray objects alike (it uses only arithmetic and ``numpy`` ufuncs). Units are in
brackets at the end of each parameter description.

The chain follows Zuccato et al. (2008) and the EMCDDA/SCORE best-practice protocol
(Castiglioni et al. 2013; Gracia-Lor et al. 2016):

.. math::

    L = C\\,Q\\,10^{-3}, \\qquad
    L_0 = \\frac{L\\,e^{\\ln 2\\,t/t_{1/2}}}{1 - f_{sorbed}}, \\qquad
    M = L_0\\,CF, \\qquad
    M_{1000} = \\frac{1000\\,M}{P}, \\qquad
    U = \\frac{M}{D\\,n}

with concentration :math:`C` [ng/L], flow :math:`Q` [m³/day], load :math:`L` [mg/day],
in-sewer residence time :math:`t` [h], half-life :math:`t_{1/2}` [h], correction factor
:math:`CF` [-], population :math:`P` [inhabitants], typical dose :math:`D` [mg] and doses
per user per day :math:`n` [1/day].
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "amphetamine_from_methamphetamine",
    "consumption",
    "correction_factor",
    "doses",
    "heroin_related_morphine",
    "log_consumption",
    "log_doses",
    "log_mass_load",
    "log_per_1000",
    "log_prevalence",
    "log_stability_factor",
    "log_users",
    "mass_load",
    "per_1000",
    "prevalence",
    "sorption_correction",
    "stability_correction",
    "stability_factor",
    "users",
]

#: Median AMP/METH load ratio in wastewater attributable to methamphetamine use alone
#: ("Refining the estimation of amphetamine consumption by wastewater-based
#: epidemiology", >6000 Australian samples; authors, journal and DOI NOT verified).
AMP_METH_RATIO_DEFAULT = 0.09


def mass_load(concentration_ng_per_l, flow_m3_per_day):
    """Daily mass load of a biomarker reaching the plant.

    Parameters
    ----------
    concentration_ng_per_l : array_like
        Concentration in the 24-h composite influent sample [ng/L].
    flow_m3_per_day : array_like
        Daily influent volume of the same day [m³/day].

    Returns
    -------
    array_like
        Load [mg/day].

    Notes
    -----
    :math:`L = C\\,Q \\cdot 1000\\,\\mathrm{L/m^3} \\cdot 10^{-6}\\,\\mathrm{mg/ng}
    = 10^{-3}\\,C\\,Q` (Zuccato et al. 2008, eq. 1).

    References
    ----------
    Zuccato E, Chiabrando C, Castiglioni S, Bagnati R, Fanelli R. 2008. Estimating
    community drug abuse by wastewater analysis. Environ Health Perspect 116:1027-1032.
    doi:10.1289/ehp.11022

    Examples
    --------
    >>> float(mass_load(100.0, 250_000.0))
    25000.0
    """
    return concentration_ng_per_l * flow_m3_per_day * 1e-3


def stability_factor(half_life_h, residence_time_h):
    """Factor undoing first-order loss of a biomarker during a known time.

    Parameters
    ----------
    half_life_h : array_like
        First-order half-life in sewer or in the stored sample [h]; ``inf`` for a
        stable compound.
    residence_time_h : array_like
        Mean in-sewer residence time, or sample storage time [h].

    Returns
    -------
    array_like
        :math:`e^{\\ln 2\\, t / t_{1/2}} \\ge 1` [-].

    Notes
    -----
    First-order decay :math:`L(t) = L_0 e^{-k t}` with :math:`k = \\ln 2 / t_{1/2}`, so
    :math:`L_0 = L(t)\\,e^{k t}` (McCall et al. 2016; Gracia-Lor et al. 2016).

    References
    ----------
    McCall A-K, Bade R, Kinyua J, et al. 2016. Critical review on the stability of illicit
    drugs in sewers and wastewater samples. Water Res 88:933-947.
    doi:10.1016/j.watres.2015.10.040

    Examples
    --------
    >>> float(stability_factor(10.0, 10.0))
    2.0
    >>> float(stability_factor(float("inf"), 10.0))
    1.0
    """
    return np.exp(math.log(2.0) * residence_time_h / half_life_h)


def stability_correction(load_mg_per_day, half_life_h, residence_time_h):
    """Load at the source, corrected for first-order loss in sewer or in the sample.

    Parameters
    ----------
    load_mg_per_day : array_like
        Measured load [mg/day].
    half_life_h : array_like
        Half-life [h] (``inf`` = stable).
    residence_time_h : array_like
        Residence or storage time [h].

    Returns
    -------
    array_like
        Corrected load [mg/day], :math:`L\\,e^{\\ln 2\\,t/t_{1/2}}`.

    References
    ----------
    McCall A-K, et al. 2016. Water Res 88:933-947. doi:10.1016/j.watres.2015.10.040

    Examples
    --------
    >>> round(float(stability_correction(100.0, 12.0, 6.0)), 6)  # half a half-life
    141.421356
    """
    return load_mg_per_day * stability_factor(half_life_h, residence_time_h)


def sorption_correction(load_mg_per_day, fraction_sorbed):
    """Total load from the dissolved load when a fraction sorbs to particles.

    Parameters
    ----------
    load_mg_per_day : array_like
        Load measured in the (filtered) liquid phase [mg/day].
    fraction_sorbed : array_like
        Fraction of the total load bound to suspended particles, in [0, 1) [fraction].

    Returns
    -------
    array_like
        Total load :math:`L/(1-f)` [mg/day].

    Notes
    -----
    Sorption is negligible (< 10 %) for most drug residues except THC-COOH and some
    opioids (Baker and Kasprzyk-Hordern 2011; Gracia-Lor et al. 2016).

    References
    ----------
    Baker DR, Kasprzyk-Hordern B. 2011. Critical evaluation of methodology commonly used
    in sample collection, storage and preparation for the analysis of pharmaceuticals and
    illicit drugs in surface water and wastewater by SPE and LC-MS. J Chromatogr A
    1218:8036-8059. doi:10.1016/j.chroma.2011.09.012

    Examples
    --------
    >>> float(sorption_correction(90.0, 0.1))
    100.0
    """
    return load_mg_per_day / (1.0 - fraction_sorbed)


def correction_factor(excretion_fraction, parent_molar_mass_g_per_mol,
                      biomarker_molar_mass_g_per_mol):
    """Correction factor from the excreted fraction and the molar-mass ratio.

    Parameters
    ----------
    excretion_fraction : array_like
        Molar fraction of a dose excreted as the biomarker, in (0, 1] [fraction].
    parent_molar_mass_g_per_mol : array_like
        Molar mass of the parent drug [g/mol].
    biomarker_molar_mass_g_per_mol : array_like
        Molar mass of the biomarker [g/mol].

    Returns
    -------
    array_like
        :math:`CF = (M_{parent}/M_{biomarker}) / f_e` [-].

    References
    ----------
    Zuccato E, et al. 2008. Environ Health Perspect 116:1027-1032. doi:10.1289/ehp.11022

    Examples
    --------
    >>> round(float(correction_factor(0.45, 303.35, 289.33)), 2)  # cocaine from BE
    2.33
    """
    return parent_molar_mass_g_per_mol / biomarker_molar_mass_g_per_mol / excretion_fraction


def consumption(load_mg_per_day, correction_factor):
    """Parent-drug consumption from the biomarker load.

    Parameters
    ----------
    load_mg_per_day : array_like
        Biomarker load (after stability and sorption corrections) [mg/day].
    correction_factor : array_like
        :math:`CF`, see :func:`correction_factor` [-].

    Returns
    -------
    array_like
        Consumption of the parent drug [mg/day].

    References
    ----------
    Zuccato E, et al. 2008. Environ Health Perspect 116:1027-1032. doi:10.1289/ehp.11022

    Examples
    --------
    >>> float(consumption(1000.0, 2.33))
    2330.0
    """
    return load_mg_per_day * correction_factor


def per_1000(value_per_day, population):
    """Normalise a daily amount to 1000 inhabitants.

    Parameters
    ----------
    value_per_day : array_like
        Amount per day (load, consumption [mg/day] or doses [1/day]).
    population : array_like
        Served population [inhabitants].

    Returns
    -------
    array_like
        Amount per day per 1000 inhabitants (e.g. [mg/day/1000 inhabitants]).

    References
    ----------
    Castiglioni S, Bijlsma L, Covaci A, et al. 2013. Evaluation of uncertainties associated
    with the determination of community drug use through the measurement of sewage drug
    biomarkers. Environ Sci Technol 47:1452-1460. doi:10.1021/es302722f

    Examples
    --------
    >>> float(per_1000(5000.0, 250_000.0))
    20.0
    """
    return value_per_day * 1000.0 / population


def doses(consumption_mg_per_day, typical_dose_mg):
    """Number of typical doses per day.

    Parameters
    ----------
    consumption_mg_per_day : array_like
        Parent-drug consumption [mg/day] (or [mg/day/1000 inhabitants]).
    typical_dose_mg : array_like
        Typical single dose of the street drug [mg].

    Returns
    -------
    array_like
        Doses [1/day] (or [doses/day/1000 inhabitants]).

    References
    ----------
    EMCDDA. 2016. Assessing illicit drugs in wastewater: advances in wastewater-based drug
    epidemiology. Insights 22. doi:10.2810/017397

    Examples
    --------
    >>> float(doses(3000.0, 30.0))
    100.0
    """
    return consumption_mg_per_day / typical_dose_mg


def users(consumption_mg_per_day, typical_dose_mg, doses_per_user_per_day):
    """Number of people using the drug on a day.

    Parameters
    ----------
    consumption_mg_per_day : array_like
        Parent-drug consumption [mg/day].
    typical_dose_mg : array_like
        Typical single dose [mg].
    doses_per_user_per_day : array_like
        Mean number of doses a user takes per day of use [1/day].

    Returns
    -------
    array_like
        Users [persons], :math:`U = M / (D\\,n)`.

    Notes
    -----
    Users on a day, not prevalence of use over a year: a survey's annual prevalence
    counts occasional users that the wastewater of one day does not see (Zuccato et al.
    2008; EMCDDA 2016).

    References
    ----------
    Zuccato E, et al. 2008. Environ Health Perspect 116:1027-1032. doi:10.1289/ehp.11022

    Examples
    --------
    >>> float(users(3000.0, 30.0, 2.0))
    50.0
    """
    return consumption_mg_per_day / (typical_dose_mg * doses_per_user_per_day)


def prevalence(users, population, reference_fraction=1.0):
    """Share of a reference population (e.g. aged 15-64) using the drug.

    Parameters
    ----------
    users : array_like
        Users [persons], see :func:`users`.
    population : array_like
        Served population [inhabitants].
    reference_fraction : array_like, default 1.0
        Fraction of the population in the reference group, e.g. the share aged 15-64
        from the census [fraction].

    Returns
    -------
    array_like
        Prevalence [fraction], :math:`U / (P\\,r)`.

    References
    ----------
    EMCDDA. 2016. Insights 22. doi:10.2810/017397

    Examples
    --------
    >>> float(prevalence(50.0, 100_000.0, 0.5))
    0.001
    """
    return users / (population * reference_fraction)


def amphetamine_from_methamphetamine(amphetamine_load_mg_per_day,
                                     methamphetamine_load_mg_per_day,
                                     ratio=AMP_METH_RATIO_DEFAULT):
    """Amphetamine load not explained by methamphetamine metabolism.

    Parameters
    ----------
    amphetamine_load_mg_per_day : array_like
        Measured amphetamine load [mg/day].
    methamphetamine_load_mg_per_day : array_like
        Methamphetamine load of the same sample [mg/day].
    ratio : array_like, default 0.09
        Amphetamine load excreted per unit of methamphetamine load after methamphetamine
        use (mass ratio AMP/METH in wastewater) [-].

    Returns
    -------
    array_like
        :math:`\\max(0, L_{AMP} - r\\,L_{METH})` [mg/day].

    Notes
    -----
    Methamphetamine is N-demethylated to amphetamine, so part of the amphetamine load
    comes from methamphetamine users. The default median ratio 0.09 is from a review of
    > 6000 Australian wastewater samples ("Refining the estimation of amphetamine
    consumption by wastewater-based epidemiology"); the ratio, title and abstract were
    read, the authors, journal and DOI were **not verified** — check before publication.
    The result is clipped at zero (a negative load is not physical).

    Examples
    --------
    >>> float(amphetamine_from_methamphetamine(100.0, 500.0))
    55.0
    >>> float(amphetamine_from_methamphetamine(10.0, 500.0))
    0.0
    """
    return np.maximum(
        amphetamine_load_mg_per_day - ratio * methamphetamine_load_mg_per_day, 0.0
    )


def heroin_related_morphine(morphine_load_mg_per_day, codeine_load_mg_per_day=0.0, *,
                            codeine_to_morphine_ratio, therapeutic_morphine_mg_per_day=0.0):
    """Morphine load attributable to heroin after removing other sources.

    Parameters
    ----------
    morphine_load_mg_per_day : array_like
        Measured morphine load [mg/day].
    codeine_load_mg_per_day : array_like, default 0
        Codeine load of the same sample [mg/day].
    codeine_to_morphine_ratio : array_like
        Morphine load excreted per unit of codeine load after codeine use [-]. There is
        no default: choose it from the literature for your setting (Khan and Nicell 2011
        give the mass balances).
    therapeutic_morphine_mg_per_day : array_like, default 0
        Morphine excreted after medical morphine use, e.g. from prescription or sales
        data times the excreted fraction [mg/day].

    Returns
    -------
    array_like
        :math:`\\max(0, L_{MOR} - r\\,L_{COD} - L_{ther})` [mg/day].

    References
    ----------
    Khan U, Nicell JA. 2011. Refined sewer epidemiology mass balances and their
    application to heroin, cocaine and ecstasy. Environ Int 37:1236-1252.
    doi:10.1016/j.envint.2011.05.009 (not verified against the text here).

    Examples
    --------
    >>> float(heroin_related_morphine(100.0, 200.0, codeine_to_morphine_ratio=0.1,
    ...                               therapeutic_morphine_mg_per_day=30.0))
    50.0
    """
    return np.maximum(
        morphine_load_mg_per_day
        - codeine_to_morphine_ratio * codeine_load_mg_per_day
        - therapeutic_morphine_mg_per_day,
        0.0,
    )


# --------------------------------------------------------------------------------------
# log-space twins: the same chain on natural logarithms (used by the closed-form
# propagation of log-normal factors, ``back_calculate(method="analytic")``)
# --------------------------------------------------------------------------------------

_LOG_1E3 = math.log(1e3)


def log_mass_load(log_concentration_ng_per_l, log_flow_m3_per_day):
    """Natural log of :func:`mass_load`.

    Parameters
    ----------
    log_concentration_ng_per_l : array_like
        :math:`\\ln C`, C in [ng/L].
    log_flow_m3_per_day : array_like
        :math:`\\ln Q`, Q in [m³/day].

    Returns
    -------
    array_like
        :math:`\\ln L = \\ln C + \\ln Q - \\ln 1000`, L in [mg/day].

    Examples
    --------
    >>> round(float(np.exp(log_mass_load(np.log(100.0), np.log(250_000.0)))), 6)
    25000.0
    """
    return log_concentration_ng_per_l + log_flow_m3_per_day - _LOG_1E3


def log_stability_factor(half_life_h, residence_time_h):
    """Natural log of :func:`stability_factor`: :math:`\\ln 2\\,t/t_{1/2}` [-].

    Parameters
    ----------
    half_life_h : array_like
        Half-life [h] (``inf`` = stable, giving 0).
    residence_time_h : array_like
        Residence or storage time [h].

    Returns
    -------
    array_like
        :math:`\\ln 2\\,t / t_{1/2}` [-].

    Examples
    --------
    >>> round(float(log_stability_factor(10.0, 10.0)), 12) == round(math.log(2.0), 12)
    True
    """
    return math.log(2.0) * residence_time_h / half_life_h


def log_consumption(log_load_mg_per_day, log_correction_factor):
    """Natural log of :func:`consumption`: :math:`\\ln L + \\ln CF`.

    Parameters
    ----------
    log_load_mg_per_day : array_like
        :math:`\\ln L`, L in [mg/day] (after the stability correction).
    log_correction_factor : array_like
        :math:`\\ln CF` [-].

    Returns
    -------
    array_like
        :math:`\\ln M`, M in [mg/day].

    Examples
    --------
    >>> round(float(np.exp(log_consumption(np.log(1000.0), np.log(2.0)))), 9)
    2000.0
    """
    return log_load_mg_per_day + log_correction_factor


def log_per_1000(log_value_per_day, log_population):
    """Natural log of :func:`per_1000`: :math:`\\ln x + \\ln 1000 - \\ln P`.

    Parameters
    ----------
    log_value_per_day : array_like
        Log of an amount per day (e.g. consumption in [mg/day]).
    log_population : array_like
        :math:`\\ln P`, P in [inhabitants].

    Returns
    -------
    array_like
        Log of the amount per day per 1000 inhabitants.

    Examples
    --------
    >>> round(float(np.exp(log_per_1000(np.log(5000.0), np.log(250_000.0)))), 9)
    20.0
    """
    return log_value_per_day + _LOG_1E3 - log_population


def log_doses(log_consumption_mg_per_day, log_typical_dose_mg):
    """Natural log of :func:`doses`: :math:`\\ln M - \\ln d`.

    Parameters
    ----------
    log_consumption_mg_per_day : array_like
        :math:`\\ln M`, M in [mg/day] (or [mg/day/1000 inhabitants]).
    log_typical_dose_mg : array_like
        :math:`\\ln d`, d in [mg].

    Returns
    -------
    array_like
        Log of doses [1/day] (or [doses/day/1000 inhabitants]).

    Examples
    --------
    >>> round(float(np.exp(log_doses(np.log(3000.0), np.log(30.0)))), 9)
    100.0
    """
    return log_consumption_mg_per_day - log_typical_dose_mg


def log_users(log_consumption_mg_per_day, log_typical_dose_mg, log_doses_per_user_per_day):
    """Natural log of :func:`users`: :math:`\\ln M - \\ln d - \\ln n`.

    Parameters
    ----------
    log_consumption_mg_per_day : array_like
        :math:`\\ln M`, M in [mg/day].
    log_typical_dose_mg : array_like
        :math:`\\ln d`, d in [mg].
    log_doses_per_user_per_day : array_like
        :math:`\\ln n`, n in [1/day].

    Returns
    -------
    array_like
        Log of users [persons].

    Examples
    --------
    >>> round(float(np.exp(log_users(np.log(3000.0), np.log(30.0), np.log(2.0)))), 9)
    50.0
    """
    return log_consumption_mg_per_day - log_typical_dose_mg - log_doses_per_user_per_day


def log_prevalence(log_users, log_population, log_reference_fraction=0.0):
    """Natural log of :func:`prevalence`: :math:`\\ln U - \\ln P - \\ln r`.

    Parameters
    ----------
    log_users : array_like
        :math:`\\ln U`, U in [persons].
    log_population : array_like
        :math:`\\ln P`, P in [inhabitants].
    log_reference_fraction : array_like, default 0
        :math:`\\ln r`, r in (0, 1] [fraction].

    Returns
    -------
    array_like
        Log of the prevalence [fraction].

    Examples
    --------
    >>> round(float(np.exp(log_prevalence(np.log(50.0), np.log(100_000.0), np.log(0.5)))), 12)
    0.001
    """
    return log_users - log_population - log_reference_fraction
