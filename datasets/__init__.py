"""Reference-parameter registry, simulator and example data (``import wbe.datasets``).

This subpackage is a leaf: it depends on numpy, pandas and :mod:`wbe.errors` only.
"""

from wbe.datasets._distributions import (
    PARAMETER_BOUNDS,
    CorrectionFactorSpec,
    correction_factor_spec,
    lognormal_from_cv,
    parameter_distribution,
    row_distribution,
)
from wbe.datasets._markers import load_marker_aliases, resolve_population_marker
from wbe.datasets._published import (
    PublishedRange,
    load_published_wastewater,
    published_range,
)
from wbe.datasets._real import load_euda_weekday_loads, load_statcan_monthly_loads
from wbe.datasets._registry import (
    DATASETS,
    biomarker_parameters,
    list_datasets,
    list_parameter_sets,
    load_aliases,
    load_biomarker_parameters,
    load_biomarkers,
    load_cutoffs,
    load_measurement_modes,
    load_measurement_uncertainty,
    load_parameter_mixtures,
    load_population_markers,
    resolve_analyte,
)
from wbe.datasets._seeds import consistent_counts, load_seed_figures
from wbe.datasets._simulate import SimulatedCity, simulate

__all__ = [
    "DATASETS",
    "PARAMETER_BOUNDS",
    "CorrectionFactorSpec",
    "PublishedRange",
    "SimulatedCity",
    "biomarker_parameters",
    "consistent_counts",
    "correction_factor_spec",
    "list_datasets",
    "list_parameter_sets",
    "load_aliases",
    "load_biomarker_parameters",
    "load_biomarkers",
    "load_cutoffs",
    "load_euda_weekday_loads",
    "load_marker_aliases",
    "load_measurement_modes",
    "load_measurement_uncertainty",
    "load_parameter_mixtures",
    "load_population_markers",
    "load_published_wastewater",
    "load_seed_figures",
    "load_statcan_monthly_loads",
    "lognormal_from_cv",
    "parameter_distribution",
    "published_range",
    "resolve_analyte",
    "resolve_population_marker",
    "row_distribution",
    "simulate",
]
