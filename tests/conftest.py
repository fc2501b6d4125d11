"""Shared fixtures: guard against numpy's global random state."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _forbid_global_numpy_random_state():
    """Fail any test that draws from or reseeds numpy's global random state.

    wbe functions take ``seed``/``rng`` and must never touch ``np.random.*``
    module-level state (docs/conventions.md, convention 10).
    """
    before = np.random.get_state(legacy=False)  # noqa: NPY002 (the guard reads it)
    yield
    after = np.random.get_state(legacy=False)  # noqa: NPY002 (the guard reads it)
    same = before["state"]["key"].tobytes() == after["state"]["key"].tobytes() and (
        before["state"]["pos"] == after["state"]["pos"]
    )
    if not same:
        pytest.fail("test used numpy's global random state (np.random.*); pass a seed or rng")
