"""Names of hydrochemical population markers: aliases live in ``population_marker_aliases.csv``.

Like analyte names (``analyte_aliases.csv``), marker names are data: a new spelling (English,
Chinese, an abbreviation) is one CSV row, not a code change (docs/contributing-layout.md).
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from wbe.datasets._registry import DATASETS, read_data_file
from wbe.errors import unknown_name_error

__all__ = ["load_marker_aliases", "marker_key", "resolve_population_marker"]


def marker_key(name: object) -> str:
    """Normalised spelling used for matching: lower case, no spaces or underscores, ₄ -> 4."""
    key = str(name).strip().lower().replace(" ", "").replace("_", "")
    return key.replace("₄", "4").replace("₅", "5")


def load_marker_aliases() -> pd.DataFrame:
    """Population-marker aliases: columns ``alias, marker, language, note`` plus ``key``.

    ``key`` is the normalised alias used for matching (see :func:`resolve_population_marker`).
    """
    frame = read_data_file(DATASETS["population_marker_aliases"][0])
    frame["key"] = frame["alias"].map(marker_key)
    return frame


@cache
def _alias_table() -> dict[str, str]:
    aliases = load_marker_aliases()
    return dict(zip(aliases["key"], aliases["marker"], strict=True))


def resolve_population_marker(name: str, **where: object) -> str:
    """Map a population-marker name (``"NH4-N"``, ``"氨氮"``, ``"CODcr"``) to its canonical id.

    Matching ignores case, spaces and underscores; subscript digits count as digits.

    Parameters
    ----------
    name : str
        Marker name as written in a plant's records.
    **where
        ``file``, ``row``, ``column`` for the error message.

    Returns
    -------
    str
        One of ``nh4n``, ``cod``, ``bod5``, ``tn``, ``tp``.

    Raises
    ------
    wbe.errors.UnknownNameError
        For a name not in ``population_marker_aliases.csv`` (closest names suggested).

    Examples
    --------
    >>> resolve_population_marker("NH₄-N"), resolve_population_marker("总氮")
    ('nh4n', 'tn')
    """
    table = _alias_table()
    key = marker_key(name)
    if key in table:
        return table[key]
    raise unknown_name_error("population marker", name, sorted(set(table.values())), **where)
