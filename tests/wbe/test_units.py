"""Unit tests of wbe.units.

Expected factors are written from the SI definitions of the prefixes and from
1 L/s = 86 400 L/day = 86.4 m³/day, 1 t of water = 1 m³, 1 万 = 10⁴; none is
produced by the code under test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from wbe.errors import InputError, UnitError
from wbe.units import (
    CANONICAL_UNITS,
    QUANTITIES,
    conversion_factor,
    known_units,
    normalise_unit,
    to_canonical,
)

# (unit as written, quantity, factor to canonical) from the definitions above
KNOWN_FACTORS = [
    ("ng/L", "concentration", 1.0),
    ("µg/L", "concentration", 1e3),  # micro sign U+00B5
    ("μg/L", "concentration", 1e3),  # Greek mu U+03BC
    ("ug/L", "concentration", 1e3),
    ("ng/mL", "concentration", 1e3),
    ("pg/mL", "concentration", 1.0),
    ("mg/L", "concentration", 1e6),
    ("µg/m³", "concentration", 1.0),  # 1 µg per 1000 L
    ("微克/升", "concentration", 1e3),
    ("m3/day", "flow", 1.0),
    ("m³/d", "flow", 1.0),
    ("m3/h", "flow", 24.0),
    ("m3/s", "flow", 86400.0),
    ("L/s", "flow", 86.4),
    ("ML/d", "flow", 1e3),  # megalitres per day
    ("megalitres per day", "flow", 1e3),
    ("万立方米/天", "flow", 1e4),
    ("万吨/日", "flow", 1e4),
    ("吨/天", "flow", 1.0),
    ("t/d", "flow", 1.0),
    ("inhabitants", "population", 1.0),
    ("人", "population", 1.0),
    ("万人", "population", 1e4),
    ("thousand", "population", 1e3),
    ("mg/day", "load", 1.0),
    ("g/d", "load", 1e3),
    ("kg/day", "load", 1e6),
    ("mg/day/1000 inhabitants", "consumption_per_1000", 1.0),
    ("mg/1000 inh/day", "consumption_per_1000", 1.0),
    ("ng/mg", "hair", 1.0),
    ("pg/mg", "hair", 1e-3),
    ("ng/g", "hair", 1e-3),  # 1 ng per 1000 mg
    ("µg/g", "hair", 1.0),  # 1000 ng per 1000 mg
    ("ng/10 mg", "hair", 0.1),
    ("ng/mL", "urine", 1.0),
    ("µg/L", "urine", 1.0),
    ("µg/mL", "urine", 1e3),
    ("mg/L", "urine", 1e3),
    ("ng/L", "urine", 1e-3),
]


@pytest.mark.parametrize(("unit", "quantity", "factor"), KNOWN_FACTORS)
def test_conversion_factor_matches_definition(unit, quantity, factor):
    assert conversion_factor(unit, quantity) == pytest.approx(factor, rel=1e-12)


@pytest.mark.parametrize("quantity", QUANTITIES)
def test_canonical_unit_converts_with_factor_one(quantity):
    assert conversion_factor(CANONICAL_UNITS[quantity], quantity) == 1.0


def test_to_canonical_scalar_returns_float():
    value = to_canonical(0.5, "ug/L", "concentration")
    assert isinstance(value, float)
    assert value == pytest.approx(500.0, rel=1e-12)


def test_to_canonical_numpy_pandas_xarray():
    values = np.array([1.0, 2.5])
    np.testing.assert_allclose(to_canonical(values, "L/s", "flow"), [86.4, 216.0], rtol=1e-12)
    series = pd.Series([1.0, 2.0], index=["a", "b"])
    out = to_canonical(series, "万立方米/天", "flow")
    assert list(out.index) == ["a", "b"]
    np.testing.assert_allclose(out.to_numpy(), [1e4, 2e4], rtol=1e-12)
    da = xr.DataArray([3.0], dims="site")
    np.testing.assert_allclose(to_canonical(da, "万人", "population").values, [3e4], rtol=1e-12)


def test_round_trip_through_canonical():
    """Value -> canonical -> back to the original unit returns the value."""
    values = np.array([0.0, 1e-3, 0.5, 12.3, 4.5e6])
    for unit, quantity, _ in KNOWN_FACTORS:
        canonical = to_canonical(values, unit, quantity)
        back = canonical / conversion_factor(unit, quantity)
        np.testing.assert_allclose(back, values, rtol=1e-12, err_msg=unit)


def test_equivalent_spellings_agree():
    """1 µg/L, 1000 ng/L and 1 ng/mL are the same concentration."""
    a = to_canonical(1.0, "µg/L", "concentration")
    b = to_canonical(1000.0, "ng/L", "concentration")
    c = to_canonical(1.0, "ng/mL", "concentration")
    assert a == pytest.approx(b, rel=1e-12)
    assert a == pytest.approx(c, rel=1e-12)
    # a flow of 1 L/s for a day: 86 400 L = 86.4 m³ = 0.00864 万立方米
    assert to_canonical(1.0, "L/s", "flow") == pytest.approx(
        to_canonical(0.00864, "万立方米/天", "flow"), rel=1e-12
    )


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        (" µg / L ", "ug/l"),
        ("μg/L", "ug/l"),
        ("m³/day", "m3/day"),
        ("m^3/d", "m3/d"),
        ("ｎｇ／ｍＬ", "ng/ml"),  # full-width letters and slash
        ("mg per day", "mg/day"),
        ("万立方米／天", "万立方米/天"),
    ],
)
def test_normalise_unit(raw, normalised):
    assert normalise_unit(raw) == normalised


def test_unknown_unit_error_lists_valid_units_and_location():
    with pytest.raises(UnitError) as info:
        conversion_factor("ug/LL", "concentration", file="s.csv", row=7, column="unit")
    err = info.value
    assert isinstance(err, InputError)
    assert (err.file, err.row, err.column, err.value) == ("s.csv", 7, "unit", "ug/LL")
    message = str(err)
    assert "file 's.csv', row 7, column 'unit'" in message
    assert "closest: ug/l" in message
    for valid in known_units("concentration"):
        assert valid in message
    assert "canonical ng/L" in message


def test_unit_of_wrong_quantity_is_refused():
    # a flow unit is not a concentration
    with pytest.raises(UnitError, match="unknown concentration unit 'L/s'"):
        to_canonical(1.0, "L/s", "concentration")


def test_unknown_quantity_lists_quantities():
    with pytest.raises(ValueError, match="valid: concentration, flow"):
        conversion_factor("ng/L", "mass")
    with pytest.raises(ValueError, match="unknown quantity"):
        known_units("mass")


def test_known_units_sorted_and_normalised():
    units = known_units("flow")
    assert units == sorted(units)
    assert all(u == normalise_unit(u) for u in units)
    assert {"l/s", "万立方米/天", "吨/天"} <= set(units)
