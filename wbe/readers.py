"""The wastewater readers, under a name that does not shadow the standard library's ``io``.

``from wbe import readers`` gives the same objects as :mod:`wbe.io` (which keeps working):
``from wbe import io`` would hide Python's ``io`` module in the importing namespace.

>>> from wbe import readers
>>> import wbe.io
>>> readers.read_samples is wbe.io.read_samples
True
"""

from wbe.io import (
    FLOW_COLUMNS,
    MAX_PLAUSIBLE_CONCENTRATION_NG_PER_L,
    PLAUSIBLE_FLOW_L_PER_PERSON_DAY,
    POPULATION_METHODS,
    SAMPLE_COLUMNS,
    SITE_COLUMNS,
    ReadResult,
    read_flows,
    read_samples,
    read_sites,
)

__all__ = [
    "FLOW_COLUMNS",
    "MAX_PLAUSIBLE_CONCENTRATION_NG_PER_L",
    "PLAUSIBLE_FLOW_L_PER_PERSON_DAY",
    "POPULATION_METHODS",
    "SAMPLE_COLUMNS",
    "SITE_COLUMNS",
    "ReadResult",
    "read_flows",
    "read_samples",
    "read_sites",
]
