"""Keyed draws (wbe._draws): each key's stream is numpy's own ``Philox(key=...)`` stream.

The oracle is a fresh ``numpy.random.Philox`` per key (not the code under test's re-keyed
generator), so the draws of a key cannot depend on the keys drawn before it.
"""

from __future__ import annotations

import numpy as np
import pytest

from wbe import _draws

KEYS = [("P1", "2024-01-01", "methamphetamine"), ("P2",), ("P1", "2024-01-02", "ketamine")]


def _fresh(seed, component, key):
    return np.random.Generator(np.random.Philox(key=_draws._philox_key(seed, component, key)))


@pytest.mark.parametrize("draws", [1, 3, 1000])
def test_keyed_uniforms_and_normals_are_the_philox_stream_of_each_key(draws):
    u = _draws.keyed_uniforms(7, "flow", KEYS, draws)
    z = _draws.keyed_normals(7, "flow", KEYS, draws)
    for i, key in enumerate(KEYS):
        np.testing.assert_array_equal(u[i], _fresh(7, "flow", key).random(draws))
        np.testing.assert_array_equal(z[i], _fresh(7, "flow", key).standard_normal(draws))
    # a key's row does not depend on the other keys or their order
    np.testing.assert_array_equal(_draws.keyed_uniforms(7, "flow", KEYS[::-1], draws), u[::-1])
