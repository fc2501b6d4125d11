"""Canonical units and conversion of unit strings met in lab reports and plant records.

Canonical units (docs/conventions.md, convention 1):

============================  ==============================
quantity                      canonical unit
============================  ==============================
``concentration``             ng/L
``flow``                      m³/day
``population``                inhabitants
``load``                      mg/day
``consumption_per_1000``      mg/day/1000 inhabitants
``hair``                      ng/mg
``urine``                     ng/mL
============================  ==============================

Readers call :func:`to_canonical` on the way in; unknown unit strings raise
:class:`~wbe.errors.UnitError` listing the known ones. Chinese units met on plant
records are understood: 万立方米/天 (10⁴ m³/day), 吨/天 (1 t of water = 1 m³), 万人.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

from wbe.errors import UnitError, closest_names

__all__ = [
    "CANONICAL_UNITS",
    "QUANTITIES",
    "conversion_factor",
    "known_units",
    "normalise_unit",
    "to_canonical",
]

CANONICAL_UNITS: dict[str, str] = {
    "concentration": "ng/L",
    "flow": "m3/day",
    "population": "inhabitants",
    "load": "mg/day",
    "consumption_per_1000": "mg/day/1000 inhabitants",
    "hair": "ng/mg",
    "urine": "ng/mL",
}
QUANTITIES = tuple(CANONICAL_UNITS)

# Factor that multiplies a value in the given unit to give the canonical unit.
# Keys are normalised spellings (see normalise_unit).
_FACTORS: dict[str, dict[str, float]] = {
    "concentration": {
        "ng/l": 1.0,
        "pg/ml": 1.0,
        "ug/l": 1e3,
        "ng/ml": 1e3,
        "mg/l": 1e6,
        "ug/ml": 1e6,
        "pg/l": 1e-3,
        "ng/m3": 1e-3,
        "ug/m3": 1.0,
        "纳克/升": 1.0,
        "微克/升": 1e3,
    },
    "flow": {
        "m3/day": 1.0,
        "m3/d": 1.0,
        "m3/h": 24.0,
        "m3/s": 86400.0,
        "l/s": 86.4,
        "l/day": 1e-3,
        "l/d": 1e-3,
        "ml/day": 1e3,  # megalitres per day (ML/d): upper-case M is lost by normalisation
        "ml/d": 1e3,
        "megalitres/day": 1e3,
        "megaliters/day": 1e3,
        "10^4m3/day": 1e4,
        "10^4m3/d": 1e4,
        "万立方米/天": 1e4,
        "万立方米/日": 1e4,
        "万m3/d": 1e4,
        "万m3/day": 1e4,
        "万吨/天": 1e4,
        "万吨/日": 1e4,
        "立方米/天": 1.0,
        "立方米/日": 1.0,
        "吨/天": 1.0,
        "吨/日": 1.0,
        "t/d": 1.0,
        "t/day": 1.0,
    },
    "population": {
        "inhabitants": 1.0,
        "inh": 1.0,
        "persons": 1.0,
        "people": 1.0,
        "pe": 1.0,
        "人": 1.0,
        "thousand": 1e3,
        "1000inhabitants": 1e3,
        "千人": 1e3,
        "万人": 1e4,
        "10^4inhabitants": 1e4,
        "million": 1e6,
    },
    "load": {
        "mg/day": 1.0,
        "mg/d": 1.0,
        "g/day": 1e3,
        "g/d": 1e3,
        "ug/day": 1e-3,
        "ug/d": 1e-3,
        "kg/day": 1e6,
        "kg/d": 1e6,
    },
    "consumption_per_1000": {
        "mg/day/1000inhabitants": 1.0,
        "mg/day/1000inh": 1.0,
        "mg/d/1000inh": 1.0,
        "mg/1000inh/day": 1.0,
        "mg/1000inh/d": 1.0,
        "mg/day/1000people": 1.0,
        "mg/d/1000people": 1.0,
        "mg/1000people/day": 1.0,
        "mg/1000people/d": 1.0,
        "g/day/1000inhabitants": 1e3,
    },
    "hair": {
        "ng/mg": 1.0,
        "pg/mg": 1e-3,
        "ng/g": 1e-3,  # 1 ng/g = 1 ng / 1000 mg
        "ug/g": 1.0,  # 1 µg/g = 1000 ng / 1000 mg
        "ng/10mg": 0.1,
    },
    "urine": {
        "ng/ml": 1.0,
        "ug/l": 1.0,
        "ug/ml": 1e3,
        "mg/l": 1e3,
        "ng/l": 1e-3,
        "pg/ml": 1e-3,
    },
}


def normalise_unit(unit: str) -> str:
    """Normalise a unit string for lookup.

    Applies NFKC (full-width letters and slashes to ASCII, ³ to 3), lower-cases,
    removes spaces, maps µ/μ to u, ``m^3`` to ``m3`` and "per" to "/".

    Parameters
    ----------
    unit : str
        The unit as written in the input, for example ``" µg / L "``.

    Returns
    -------
    str
        The normalised spelling used as lookup key (see :func:`known_units`).

    Examples
    --------
    >>> normalise_unit(" µg / L ")
    'ug/l'
    >>> normalise_unit("m³/day")
    'm3/day'
    """
    text = unicodedata.normalize("NFKC", str(unit)).strip()  # full-width ｎｇ／Ｌ -> ng/L
    text = text.replace("m^3", "m3").replace("µ", "u").replace("μ", "u")
    text = text.replace("³", "3").replace("／", "/")
    text = re.sub(r"\s+per\s+", "/", text, flags=re.IGNORECASE)
    text = re.sub(r"\s+", "", text).lower()
    return unicodedata.normalize("NFKC", text)  # idempotent after lower-casing


def known_units(quantity: str) -> list[str]:
    """Return the unit spellings (normalised) known for ``quantity``.

    Parameters
    ----------
    quantity : str
        One of :data:`QUANTITIES`.

    Returns
    -------
    list of str
        Sorted normalised spellings (:func:`normalise_unit`).

    Raises
    ------
    ValueError
        If ``quantity`` is not one of :data:`QUANTITIES`.
    """
    _check_quantity(quantity)
    return sorted(_FACTORS[quantity])


def _check_quantity(quantity: str) -> None:
    if quantity not in _FACTORS:
        raise ValueError(f"unknown quantity {quantity!r}; valid: {', '.join(QUANTITIES)}")


def conversion_factor(unit: str, quantity: str, **where: object) -> float:
    """Factor that converts values in ``unit`` to the canonical unit of ``quantity``.

    Parameters
    ----------
    unit : str
        The unit as written in the input, for example ``"µg/L"`` or ``"万立方米/天"``.
    quantity : str
        One of :data:`QUANTITIES`.
    **where
        ``file``, ``row`` and ``column`` passed on to the error.

    Returns
    -------
    float
        Multiply a value in ``unit`` by this to get the canonical unit.

    Raises
    ------
    UnitError
        If the unit is unknown for the quantity; the message lists the known units.

    Examples
    --------
    >>> conversion_factor("L/s", "flow")
    86.4
    >>> conversion_factor("万立方米/天", "flow")
    10000.0
    """
    _check_quantity(quantity)
    key = normalise_unit(unit)
    try:
        return _FACTORS[quantity][key]
    except KeyError:
        close = closest_names(key, _FACTORS[quantity])
        hint = f" (closest: {', '.join(close)})" if close else ""
        raise UnitError(
            f"unknown {quantity} unit {unit!r}{hint}; expected one of "
            f"{', '.join(sorted(_FACTORS[quantity]))} (canonical {CANONICAL_UNITS[quantity]})",
            value=unit,
            **where,
        ) from None


def to_canonical(values, unit: str, quantity: str, **where: object):
    """Convert ``values`` given in ``unit`` to the canonical unit of ``quantity``.

    Works on scalars, numpy arrays, pandas and xarray objects (anything that
    multiplies by a float).

    Parameters
    ----------
    values : scalar, array_like, pandas or xarray object
        Values in ``unit``.
    unit : str
        The unit as written in the input, for example ``"µg/L"`` or ``"万立方米/天"``.
    quantity : str
        One of :data:`QUANTITIES`.
    **where
        ``file``, ``row`` and ``column`` passed on to the error.

    Returns
    -------
    same type as ``values``
        Values in the canonical unit of ``quantity`` (:data:`CANONICAL_UNITS`).

    Raises
    ------
    UnitError
        If the unit is unknown for the quantity; the message lists the known units.

    Examples
    --------
    >>> float(to_canonical(0.5, "ug/L", "concentration"))
    500.0
    >>> float(to_canonical(12.3, "万立方米/天", "flow"))
    123000.0
    """
    factor = conversion_factor(unit, quantity, **where)
    if np.isscalar(values):
        return float(values) * factor
    return values * factor
