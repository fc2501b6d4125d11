"""wbe: wastewater-based drug epidemiology and drug-testing lab data.

Subpackages: :mod:`wbe.datasets` (reference parameters, simulator), :mod:`wbe.lab`
(hair and urine batches), :mod:`wbe.models` (time series and alerts).
"""

from importlib.metadata import PackageNotFoundError, version

from wbe import errors, units
from wbe.errors import (
    BelowLOQWarning,
    ImplausibleValueWarning,
    InputError,
    WBEError,
    WBEWarning,
)

try:
    __version__ = version("wbe-drugs")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = [
    "BelowLOQWarning",
    "ImplausibleValueWarning",
    "InputError",
    "WBEError",
    "WBEWarning",
    "__version__",
    "errors",
    "units",
]
