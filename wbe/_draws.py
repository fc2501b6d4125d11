"""Keyed random draws: the draws of a component depend only on (seed, component, key).

Two layouts share one counter-based generator, numpy's Philox4x64-10 (Salmon et al. 2011,
"Parallel random numbers: as easy as 1, 2, 3", SC'11, doi:10.1145/2063384.2063405), whose
output is a pure function of a 128-bit *key* and a 256-bit *counter*:

* **Per key** (:func:`keyed_normals`, :func:`keyed_uniforms`, :func:`keyed_draws`): one
  stream per key (a biomarker, a site, ...), its Philox key a BLAKE2b hash of
  ``(seed, component, *key)``, read from counter 0. Used for the few global and per-site
  draws (one Python step per key).
* **Per scope and day** (:func:`day_normals`, :func:`day_normals_scopes`,
  :func:`day_uniforms`): for the per-sample and per-site-day components (tens of
  thousands of keys) only the *scope* (a site, or a site and biomarker) is hashed; the day
  number and the draw index go into the counter. Draw ``d`` of day ``t`` (days since
  1970-01-01) is raw word ``d % K`` of the block that ``numpy.random.Philox(key=hash,
  counter=((t + 2**40) * K / 4, 0, d // K, 0)).random_raw(K)`` returns (``K = 64`` draws
  per block; Philox gives four 64-bit words per counter value, so the ``K / 4`` counter
  values of a day never overlap the next day's). One generator call fills a run of
  consecutive days for one block of draws.

Why the day layout is invariant: the position of a draw in Philox's counter space is a
function of (day number, draw index) alone, and its key of (seed, component, scope) alone.
Nothing depends on which other plants, days, rows or chunks are present, their order, or
how many draws are asked for beyond ``d``: adding a plant, shuffling the input, chunking by
site or date, and asking for more draws leave every existing draw bitwise unchanged.

The raw words become numbers by fixed-consumption transforms (one word per number), so a
position in the counter space is a position in the output: uniforms
``u = (floor(w / 2**11) + 0.5) / 2**53`` in the open interval (0, 1), and normals by
inversion, ``scipy.special.ndtri(u)``. numpy's ``standard_normal`` (ziggurat) would be
faster but consumes a variable number of words, which breaks the positions.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Hashable, Iterable, Sequence

import numpy as np

__all__: list[str] = []  # private module


def new_seed() -> int:
    """Fresh 64-bit entropy for ``seed=None`` (recorded in the result's attributes)."""
    return int(np.random.SeedSequence().entropy) & (2**64 - 1)


def _philox_key(seed: int, component: str, key: Sequence[Hashable]) -> int:
    text = "\x1f".join([str(int(seed)), component, *(str(k) for k in key)])
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=16).digest(), "little")


class _Rekeyable:
    """One Philox generator whose key is reset per key (2 µs instead of 14 µs for a new one).

    After ``rekey(k)`` it produces exactly the stream of ``Philox(key=k)``.
    """

    def __init__(self) -> None:
        self.bit_generator = np.random.Philox(key=0)
        self.generator = np.random.Generator(self.bit_generator)
        self._state = self.bit_generator.state

    def rekey(self, key: int) -> np.random.Generator:
        state = self._state
        state["state"]["key"] = np.array([key & _MASK64, key >> 64], dtype=np.uint64)
        state["state"]["counter"] = np.zeros(4, dtype=np.uint64)
        state["buffer"] = np.zeros(4, dtype=np.uint64)
        state["buffer_pos"] = 4
        state["has_uint32"] = 0
        state["uinteger"] = 0
        self.bit_generator.state = state
        return self.generator


_MASK64 = 2**64 - 1


def keyed_normals(seed: int, component: str, keys: Iterable[Sequence[Hashable]],
                  draws: int, out: np.ndarray | None = None) -> np.ndarray:
    """Standard normals, one row of ``draws`` per key.

    Parameters
    ----------
    out : numpy.ndarray, optional
        C-contiguous array of shape ``(n_keys, draws)`` to fill (avoids a copy).

    Returns
    -------
    numpy.ndarray
        Shape ``(n_keys, draws)``.
    """
    keys = list(keys)
    if out is None:
        out = np.empty((len(keys), draws))
    gen = _Rekeyable()
    for i, key in enumerate(keys):
        gen.rekey(_philox_key(seed, component, key)).standard_normal(draws, out=out[i])
    return out


def keyed_uniforms(seed: int, component: str, keys: Iterable[Sequence[Hashable]],
                   draws: int) -> np.ndarray:
    """Uniforms on [0, 1), one row of ``draws`` per key (shape ``(n_keys, draws)``)."""
    keys = list(keys)
    out = np.empty((len(keys), draws))
    gen = _Rekeyable()
    for i, key in enumerate(keys):
        gen.rekey(_philox_key(seed, component, key)).random(draws, out=out[i])
    return out


def keyed_draws(dist, seed: int, component: str, keys: Iterable[Sequence[Hashable]],
                draws: int) -> np.ndarray:
    """Draws of a scipy.stats frozen distribution by inversion, one row per key.

    A plain number gives a constant array. Inversion (``dist.ppf(u)``) works for every
    continuous frozen distribution and keeps the keyed-uniform property.
    """
    keys = list(keys)
    if not hasattr(dist, "ppf"):
        return np.full((len(keys), draws), float(dist))
    u = keyed_uniforms(seed, component, keys, draws)
    # Avoid u == 0 (ppf = lower bound, may be -inf or 0 for a log-normal).
    np.maximum(u, np.finfo(float).tiny, out=u)
    return np.asarray(dist.ppf(u), dtype=float)


#: Draws per block of the day layout (a multiple of 4, the words per Philox counter value).
BLOCK = 64
#: Offset of the day number in the counter (days before 1970 stay non-negative).
_DAY_OFFSET = 2**40
#: Days between two sampled days up to which one call spans the gap (its words are unused).
_MAX_GAP_DAYS = 7
_INV_2_53 = 2.0**-53


def day_numbers(dates) -> np.ndarray:
    """Days since 1970-01-01 [day] of datetime-like ``dates`` as int64 (integers, already
    day numbers, are returned as they are)."""
    values = np.asarray(dates)
    if values.dtype.kind in "iu":
        return values.astype(np.int64, copy=False)
    return values.astype("datetime64[D]").astype(np.int64)


def _runs(days: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` index ranges of sorted ``days`` whose gaps are <= _MAX_GAP_DAYS."""
    cut = np.flatnonzero(np.diff(days) > _MAX_GAP_DAYS) + 1
    edges = [0, *cut.tolist(), len(days)]
    return list(itertools.pairwise(edges))


def _day_words(bits: np.random.Philox, state: dict, keys: list[int], days: np.ndarray,
               draws: int, emit) -> None:
    """Raw words of each (scope, day, draw), passed to ``emit(rows, lo, hi, words)`` with
    ``words`` of shape ``(len(keys), len(rows), hi - lo)`` for draws ``lo:hi`` of
    ``days[rows]``: one generator call per scope, one ``emit`` for all scopes of a block.
    ``days`` must be sorted and unique."""
    counter = state["state"]["counter"]
    for start, stop in _runs(days):
        first = int(days[start])
        span = int(days[stop - 1]) - first + 1
        rows = days[start:stop] - first
        dense = len(rows) == span
        for block in range((draws + BLOCK - 1) // BLOCK):
            lo, hi = block * BLOCK, min(draws, (block + 1) * BLOCK)
            words = np.empty((len(keys), span, BLOCK), dtype=np.uint64)
            for j, key in enumerate(keys):
                state["state"]["key"] = np.array([key & _MASK64, key >> 64], dtype=np.uint64)
                counter[:] = (first + _DAY_OFFSET) * (BLOCK // 4), 0, block, 0
                state["buffer_pos"] = 4
                bits.state = state
                words[j] = _words(bits, span * BLOCK).reshape(span, BLOCK)
            words = words[:, :, :hi - lo]
            emit(slice(start, stop), lo, hi, words if dense else words[:, rows])


def _words(bits: np.random.Philox, count: int) -> np.ndarray:
    """``count`` raw 64-bit words from the generator's current state (one bulk call)."""
    return bits.random_raw(count)


def _to_uniform(words: np.ndarray) -> np.ndarray:
    u = (words >> np.uint64(11)).astype(np.float64)
    u += 0.5
    u *= _INV_2_53
    return u


def _inverse_normal(u: np.ndarray, out: np.ndarray) -> None:
    """Standard normal quantiles of ``u`` into ``out`` (a function of its own so that the
    benchmark's profile can tell the numeric work from the bookkeeping)."""
    from scipy import special  # imported here: the simulator imports this module

    special.ndtri(u, out=out)


def _day_fill(seed: int, component: str, scopes: list, dates, draws: int,
              out: np.ndarray | None, normal: bool) -> np.ndarray:
    """Draws of several scopes at the same dates: ``out`` of shape (scopes, dates, draws)."""
    days = day_numbers(dates)
    order = np.argsort(days, kind="stable")
    sorted_days = days[order]
    if len(days) and (np.diff(sorted_days) == 0).any():
        raise ValueError("day_normals/day_uniforms: dates must be unique within a scope")
    if out is None:
        out = np.empty((len(scopes), len(days), draws))
    in_order = bool(np.all(order == np.arange(len(order))))
    bits = np.random.Philox(key=0)
    state = bits.state

    def emit(rows, lo, hi, words):
        u = _to_uniform(words)
        if in_order:  # write straight into ``out`` (a view of it)
            if normal:
                _inverse_normal(u, out[:, rows, lo:hi])
            else:
                out[:, rows, lo:hi] = u
            return
        if normal:
            _inverse_normal(u, u)
        out[:, order[rows], lo:hi] = u

    keys = [_philox_key(seed, component, scope) for scope in scopes]
    _day_words(bits, state, keys, sorted_days, draws, emit)
    return out


def day_normals_scopes(seed: int, component: str, scopes: Sequence[Sequence[Hashable]],
                       dates, draws: int, out: np.ndarray | None = None) -> np.ndarray:
    """:func:`day_normals` of several scopes at the same dates, shape (scopes, dates,
    draws), identical to one call per scope but with one transform per block of draws for
    all of them (fewer, larger numpy calls: less time holding the GIL between them)."""
    return _day_fill(seed, component, list(scopes), dates, draws, out, normal=True)


def day_normals(seed: int, component: str, scope: Sequence[Hashable], dates, draws: int,
                out: np.ndarray | None = None) -> np.ndarray:
    """Standard normals of one scope, one row of ``draws`` per date (day layout above).

    Parameters
    ----------
    seed : int
        Seed of the call.
    component : str
        Uncertain component (e.g. ``"measurement"``).
    scope : sequence
        Identity of the stream (e.g. ``(site, biomarker)``), hashed with seed and component.
    dates : array-like of datetime64 or int
        Unique dates (any order); only their day counts. Integers are day numbers
        (:func:`day_numbers`), which saves the conversion when a caller loops over scopes.
    draws : int
        Draws per date.
    out : numpy.ndarray, optional
        Writable array of shape ``(len(dates), draws)`` to fill (may be a strided view).

    Returns
    -------
    numpy.ndarray
        Shape ``(len(dates), draws)``; row ``i`` depends only on (seed, component, scope,
        day of ``dates[i]``) and its first ``k`` columns not on ``draws``.
    """
    out = None if out is None else out[None]
    return _day_fill(seed, component, [scope], dates, draws, out, normal=True)[0]


def day_uniforms(seed: int, component: str, scope: Sequence[Hashable], dates, draws: int,
                 out: np.ndarray | None = None) -> np.ndarray:
    """Uniforms on the open interval (0, 1), laid out as :func:`day_normals`."""
    out = None if out is None else out[None]
    return _day_fill(seed, component, [scope], dates, draws, out, normal=False)[0]
