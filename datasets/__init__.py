"""Reference-parameter registry, simulator and example data (``import wbe.datasets``).

This subpackage is a leaf: it depends on numpy, pandas and :mod:`wbe.errors` only.
"""

from wbe.datasets._distributions import lognormal_from_cv, parameter_distribution
from wbe.datasets._published import (
    PublishedRange,
    load_published_wastewater,
    published_range,
)
from wbe.datasets._registry import (
    DATASETS,
    biomarker_parameters,
    list_datasets,
    list_parameter_sets,
    load_aliases,
    load_biomarker_parameters,
    load_biomarkers,
    load_cutoffs,
    load_measurement_uncertainty,
    load_population_markers,
    resolve_analyte,
)
from wbe.datasets._real import load_euda_weekday_loads, load_statcan_monthly_loads
from wbe.datasets._simulate import SimulatedCity, simulate

__all__ = [
    "DATASETS",
    "PublishedRange",
    "SimulatedCity",
    "biomarker_parameters",
    "list_datasets",
    "list_parameter_sets",
    "load_aliases",
    "load_biomarker_parameters",
    "load_biomarkers",
    "load_cutoffs",
    "load_euda_weekday_loads",
    "load_measurement_uncertainty",
    "load_population_markers",
    "load_published_wastewater",
    "load_statcan_monthly_loads",
    "lognormal_from_cv",
    "parameter_distribution",
    "published_range",
    "resolve_analyte",
    "simulate",
]
