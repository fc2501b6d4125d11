"""Figures published in the project's Chinese seed reports, one row per printed number.

The table ``data/seed_figures.csv`` transcribes the numbers that the drug-control work reports
in ``shared/seeds/`` (Loudi 2018, Ordos 2020, Wuhan about 2015, Wuzhong 2022) publish about
testing, registries, abstinence and wastewater monitoring. Every row keeps the indicator as the
report names it (``indicator_zh``) and in English, the verbatim Chinese passage it was read
from (``quote``), and the numerator and denominator where the report prints both. Reports
rarely print both: :func:`consistent_counts` lists the whole counts that reproduce a printed
percentage, which is how the table's notes state, for example, that 91.87 % with 7,792
people implies 8,482 people in the denominator.
"""

from __future__ import annotations

from fractions import Fraction

import pandas as pd

from wbe.datasets._registry import numeric_column, read_data_file, select_rows
from wbe.errors import InputError

__all__ = ["consistent_counts", "load_seed_figures"]

_FILE = "seed_figures.csv"
_KINDS = ("count", "percent", "ratio", "schedule")
_COLUMNS = (
    "figure_id", "city", "city_zh", "province", "year", "period", "indicator_zh",
    "indicator_en", "kind", "value", "unit", "numerator", "denominator", "decimals", "source",
    "quote", "verified", "note",
)
_ROUNDING = ("half-up", "truncate")


def load_seed_figures(city: str | None = None) -> pd.DataFrame:
    """Figures of the seed reports, one row per printed number.

    Parameters
    ----------
    city : str, optional
        English city name as in the ``city`` column (``"Loudi"``, ``"Ordos"``, ``"Wuhan"``,
        ``"Wuzhong"``, ``"China (national)"``); all rows if omitted.

    Returns
    -------
    pandas.DataFrame
        Columns ``figure_id, city, city_zh, province, year, period, indicator_zh,
        indicator_en, kind, value, unit, numerator, denominator, decimals, source, quote,
        verified, note``. ``kind`` is ``count`` (a number of people, tests, plants ...),
        ``percent`` (``value`` in [%]), ``ratio`` (``value`` = numerator / denominator, the
        "下降了 x 倍" of the reports) or ``schedule``. ``numerator`` and ``denominator`` are
        nullable integers, filled only where the report prints them; ``decimals`` is the
        number of decimals the percentage or ratio is printed with. ``year`` is the year of
        the report (``period`` says what the figure covers: a year, a cumulative total, "since
        last year"); ``source`` is the file name of the report in ``shared/seeds/`` and
        ``quote`` the verbatim passage.

    Raises
    ------
    UnknownNameError
        If ``city`` is not in the table.
    InputError
        If the packaged table is malformed.

    Examples
    --------
    >>> t = load_seed_figures("Loudi").set_index("figure_id")
    >>> int(t.loc["loudi_civil_servant_hidden_users", "numerator"])
    25
    >>> int(t.loc["loudi_civil_servant_hidden_users", "denominator"])
    219213
    """
    frame = read_data_file(_FILE)
    missing = [c for c in _COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"seed-figure table lacks the columns {missing}", file=_FILE)
    frame = numeric_column(frame, ["year", "value", "numerator", "denominator", "decimals"], _FILE)
    for col in ("year", "numerator", "denominator", "decimals"):
        frame[col] = frame[col].astype("Int64")
    bad = ~frame["kind"].isin(_KINDS)
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise InputError(f"expected one of {list(_KINDS)}, got {frame['kind'].iloc[i]!r}",
                         file=_FILE, row=i + 2, column="kind")
    return select_rows(frame[list(_COLUMNS)], "city", city, "seed city")


def consistent_counts(
    value_percent: float,
    decimals: int,
    *,
    numerator: int | None = None,
    denominator: int | None = None,
    rounding: str = "half-up",
    max_denominator: int = 10_000_000,
) -> list[int]:
    """Whole counts that reproduce a printed percentage.

    Give the count the report prints (``numerator`` or ``denominator``); the function returns
    every whole value of the other count for which ``100 * numerator / denominator`` prints
    as ``value_percent`` with ``decimals`` decimals.

    Parameters
    ----------
    value_percent : float
        The printed percentage [%], for example ``91.87``.
    decimals : int
        Decimals it is printed with (``2`` for 91.87).
    numerator, denominator : int, optional
        Exactly one of them: the count the report gives [persons or tests].
    rounding : {"half-up", "truncate"}
        How the report is assumed to have turned the rate into the printed number.
    max_denominator : int
        Upper bound of the denominators searched when ``numerator`` is given.

    Returns
    -------
    list of int
        The consistent denominators (if ``numerator`` was given) or numerators, in
        increasing order; empty when no whole count reproduces the printed figure.

    Raises
    ------
    InputError
        If not exactly one count is given, a count is negative, ``decimals`` is negative or
        ``rounding`` is unknown.

    Notes
    -----
    With half-up rounding the printed value :math:`p` with :math:`d` decimals covers the
    interval :math:`[p - h, p + h)`, :math:`h = 0.5 \\cdot 10^{-d}`; truncation covers
    :math:`[p, p + 2h)`. The search is done in exact rational arithmetic.

    Examples
    --------
    >>> consistent_counts(91.87, 2, numerator=7792)
    [8482]
    >>> consistent_counts(99.85, 2, denominator=2062)
    [2059]
    """
    if (numerator is None) == (denominator is None):
        raise InputError("give exactly one of numerator and denominator")
    if rounding not in _ROUNDING:
        raise InputError(f"rounding must be one of {list(_ROUNDING)}, got {rounding!r}")
    if int(decimals) != decimals or decimals < 0:
        raise InputError(f"decimals must be a whole number >= 0, got {decimals!r}")
    given = numerator if numerator is not None else denominator
    if int(given) != given or given < 0:
        raise InputError(f"counts must be whole numbers >= 0, got {given!r}")
    p = Fraction(str(value_percent)) / 100
    h = Fraction(1, 2 * 10 ** int(decimals)) / 100
    low, high = (p - h, p + h) if rounding == "half-up" else (p, p + 2 * h)
    if denominator is not None:
        # numerators k with low <= k/den < high
        den = int(denominator)
        return [k for k in range(0, den + 1) if low <= Fraction(k, den) < high]
    num = int(numerator)
    if low <= 0:
        raise InputError("a zero percentage does not determine the denominator")
    # den with low <= num/den < high  <=>  num/high < den <= num/low
    first = int(num / high) - 1
    last = min(int(num / low) + 1, max_denominator)
    return [d for d in range(max(first, 1), last + 1) if low <= Fraction(num, d) < high]
