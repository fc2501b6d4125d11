"""Random streams and noise shared by the wastewater and lab parts of the simulator.

One keyed-RNG scheme for the whole package: :mod:`wbe._draws` (numpy only, so importing it
keeps :mod:`wbe.datasets` a leaf).
"""

from __future__ import annotations

import hashlib
from functools import cache

import numpy as np

from wbe._draws import _philox_key
from wbe.datasets._distributions import lognormal_from_cv

__all__ = ["lognormal_noise", "stream"]



@cache
def _lognormal_sigma_scale(cv: float) -> tuple[float, float]:
    """Log-scale sd and median of :func:`lognormal_from_cv` (mean 1), cached."""
    dist = lognormal_from_cv(cv)
    return float(dist.kwds["s"]), float(dist.kwds["scale"])


def _lognormal_noise(rng: np.random.Generator, cv: float, n: int) -> np.ndarray:
    """``n`` draws of the mean-1 log-normal of :func:`lognormal_from_cv` with this CV."""
    sigma, scale = _lognormal_sigma_scale(float(cv))
    return scale * np.exp(sigma * rng.standard_normal(n))


def _root_seed(root: np.random.SeedSequence) -> int:
    """The integer seed of a SeedSequence (its entropy; a hash if the entropy is a sequence)."""
    entropy = root.entropy
    if isinstance(entropy, int | np.integer):
        return int(entropy)
    text = repr(tuple(int(e) for e in np.atleast_1d(entropy))).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=16).digest(), "little")


def _stream(root: np.random.SeedSequence, component: str, *key: object) -> np.random.Generator:
    """A generator keyed by (seed, component, ...), independent of every other key.

    The keyed-Philox scheme of the estimator (:mod:`wbe._draws`: one Philox generator per
    key, its 128-bit key a BLAKE2b hash of ``(seed, component, *key)``), with components
    in a ``simulate/`` namespace so that a simulation and an estimation run with the same
    seed never share a stream. The spawn key of a spawned SeedSequence is part of the key.
    """
    words = (*(f"spawn:{w}" for w in root.spawn_key), *key)
    bits = np.random.Philox(key=_philox_key(_root_seed(root), f"simulate/{component}", words))
    return np.random.Generator(bits)


#: Names used by the wastewater and lab parts.
stream = _stream
lognormal_noise = _lognormal_noise
