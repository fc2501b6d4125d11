"""Property tests of wbe.units: round trips and spelling invariance."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from wbe.units import QUANTITIES, conversion_factor, known_units, normalise_unit, to_canonical

UNITS = [(q, u) for q in QUANTITIES for u in known_units(q)]
FINITE = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)


@given(st.sampled_from(UNITS), FINITE)
def test_round_trip(quantity_unit, value):
    quantity, unit = quantity_unit
    factor = conversion_factor(unit, quantity)
    assert factor > 0
    back = to_canonical(value, unit, quantity) / factor
    assert math.isclose(back, value, rel_tol=1e-12, abs_tol=1e-300)


@given(st.sampled_from(UNITS), st.lists(st.booleans(), min_size=1, max_size=40), st.data())
def test_case_and_spaces_do_not_matter(quantity_unit, upper, data):
    quantity, unit = quantity_unit
    spelled = "".join(
        c.upper() if upper[i % len(upper)] else c for i, c in enumerate(unit)
    )
    pad = data.draw(st.sampled_from(["", " ", "  ", "\t"]))
    spelled = pad + spelled.replace("/", f"{pad}/{pad}") + pad
    assert conversion_factor(spelled, quantity) == conversion_factor(unit, quantity)


@given(st.text(max_size=20))
def test_normalise_is_idempotent(text):
    once = normalise_unit(text)
    assert normalise_unit(once) == once
