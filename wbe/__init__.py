"""wbe: wastewater-based drug epidemiology and drug-testing lab data.

Core (``import wbe``): readers (:mod:`wbe.io`), units, the back-calculation chain
(:mod:`wbe.chain`) and its orchestrator :func:`back_calculate`, population estimation
(:mod:`wbe.population`) and aggregation (:mod:`wbe.aggregate`). Subpackages:
:mod:`wbe.datasets` (reference parameters, simulator), :mod:`wbe.lab` (hair and urine
batches) and :mod:`wbe.models` (time series and alerts).
"""

import logging
from importlib.metadata import PackageNotFoundError, version

from wbe import aggregate, censoring, chain, errors, io, population, readers, scale, units
from wbe.aggregate import aggregate_sites, period_mean, week_means
from wbe.backcalc import back_calculate, summarize, uncertainty_budget
from wbe.censoring import censored_mean
from wbe.errors import (
    BelowLOQWarning,
    CoverageWarning,
    ImplausibleValueWarning,
    InputError,
    WBEError,
    WBEWarning,
)

# progress and diagnostics go to logging.getLogger("wbe"); the application decides what to show
logging.getLogger("wbe").addHandler(logging.NullHandler())

try:
    __version__ = version("wbe-drugs")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = [
    "BelowLOQWarning",
    "CoverageWarning",
    "ImplausibleValueWarning",
    "InputError",
    "WBEError",
    "WBEWarning",
    "__version__",
    "aggregate",
    "aggregate_sites",
    "back_calculate",
    "censored_mean",
    "censoring",
    "chain",
    "errors",
    "io",
    "period_mean",
    "population",
    "readers",
    "scale",
    "summarize",
    "uncertainty_budget",
    "units",
    "week_means",
]
