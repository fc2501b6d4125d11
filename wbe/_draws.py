"""Keyed random draws: the draws of a component depend only on (seed, component, key).

Two layouts, each a pure function of a hash of (seed, component, key) and a position:

* **Per key** (:func:`keyed_normals`, :func:`keyed_uniforms`, :func:`keyed_draws`): one
  stream per key (a biomarker, a site, ...), its Philox key a BLAKE2b hash of
  ``(seed, component, *key)``, read from counter 0. Used for the few global and per-site
  draws (one Python step per key), from numpy's counter-based Philox4x64-10 (Salmon et
  al. 2011, "Parallel random numbers: as easy as 1, 2, 3", SC'11,
  doi:10.1145/2063384.2063405), whose output is a pure function of a 128-bit key and a
  256-bit counter.
* **Per scope and day** (:func:`day_normals`, :func:`day_normals_scopes`,
  :func:`day_uniforms`): for the per-sample and per-site-day components (tens of
  thousands of keys) only the *scope* (a site, or a site and biomarker) is hashed, into the
  128-bit state and odd 128-bit increment of numpy's PCG64DXSM (O'Neill 2014, "PCG: a
  family of simple fast space-efficient statistically good algorithms for random number
  generation", HMC-CS-2014-0905; the DXSM output function of numpy >= 1.21), a
  linear congruential generator that jumps to any position in O(log n) steps (Brown 1994,
  "Random number generation with arbitrary strides", Trans. Am. Nucl. Soc. 71:202). Draw
  ``d`` of day ``t`` (days since 1970-01-01) is the word at position ``(d // K) * 2**64 +
  (t + 2**30) * K + d % K`` of the scope's stream (``K = 100`` draws per block:
  the usual draw counts, multiples of 100, fill whole blocks). One jump and one generator
  call fill a run of consecutive days for one block of draws. The words of this
  generator cost about 60 % of Philox's here (2.6 against 4.4-4.8 ns), and these draws
  are most of ``back_calculate``'s time.

Why the day layout is invariant: the position of a draw in the scope's stream is a
function of (day number, draw index) alone, and the stream of (seed, component, scope)
alone. Nothing depends on which other plants, days, rows or chunks are present, their
order, or how many draws are asked for beyond ``d``: adding a plant, shuffling the input,
chunking by site or date, and asking for more draws leave every existing draw bitwise
unchanged.

The raw words become numbers by fixed-consumption transforms (one word per number), so a
position in the stream is a position in the output: uniforms
``u = (floor(w / 2**11) + 0.5) / 2**53`` in the open interval (0, 1), and normals by
Marsaglia and Tsang's ziggurat (2000, "The ziggurat method for generating random
variables", J. Stat. Softw. 5(8), doi:10.18637/jss.v005.i08) with 256 layers in numpy's
bit layout (layer = bits 0-7, sign = bit 8, magnitude = bits 9-60; :func:`_ziggurat_fast`),
vectorised. About 98.5 % of the words are accepted on the fast path (bitwise the value
numpy's own ``standard_normal`` returns for that word, up to the last bits of the tables,
computed here from the paper's recursion). Instead of drawing more words from the stream,
which would shift every later position, the rejected ~1.5 % take their extra uniforms from a
second counter-based generator keyed by the same scope's hash, SplitMix64 (Steele, Lea and Flood
2014, "Fast splittable pseudorandom number generators", OOPSLA, doi:10.1145/2660193.2660195)
evaluated at the rejected draw's (day, draw) position (:func:`_fallback_words`): the wedge
test with one uniform, and where it fails a fresh normal by inversion (``ndtri``) of a second
one, which is what the ziggurat's restart produces in distribution; the tail beyond the base
layer is sampled exactly by inversion. The output is therefore exactly standard normal, and
still a pure function of (seed, component, scope, day, draw).
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Hashable, Iterable, Sequence

import numpy as np

__all__: list[str] = []  # private module


def new_seed() -> int:
    """Fresh 64-bit entropy for ``seed=None`` (recorded in the result's attributes)."""
    return int(np.random.SeedSequence().entropy) & (2**64 - 1)


def _hash(seed: int, component: str, key: Sequence[Hashable], digest_size: int) -> int:
    """BLAKE2b of ``(seed, component, *key)`` as an integer of ``8 * digest_size`` bits."""
    text = "\x1f".join([str(int(seed)), component, *(str(k) for k in key)])
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=digest_size).digest(),
                          "little")


def _philox_key(seed: int, component: str, key: Sequence[Hashable]) -> int:
    return _hash(seed, component, key, 16)


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
_MASK128 = 2**128 - 1


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


def keyed_draws_each(dists: Sequence, seed: int, component: str,
                     keys: Sequence[Sequence[Hashable]], draws: int) -> np.ndarray:
    """:func:`keyed_draws` with one distribution per key, identical to one call per key
    but with one ``ppf`` call per scipy family and parameter layout (a frozen
    distribution's ``ppf`` costs about a millisecond whatever its size)."""
    keys = list(keys)
    out = np.empty((len(keys), draws))
    groups: dict = {}
    for i, dist in enumerate(dists):
        if not hasattr(dist, "ppf"):
            out[i] = float(dist)
        elif hasattr(dist, "dist") and hasattr(dist, "args") and hasattr(dist, "kwds"):
            layout = (type(dist.dist), len(dist.args), tuple(sorted(dist.kwds)))
            groups.setdefault(layout, []).append(i)
        else:  # not a scipy frozen distribution: its own ppf
            out[i] = keyed_draws(dist, seed, component, [keys[i]], draws)[0]
    for rows in groups.values():
        u = keyed_uniforms(seed, component, [keys[i] for i in rows], draws)
        np.maximum(u, np.finfo(float).tiny, out=u)
        first = dists[rows[0]]
        args = [np.array([dists[i].args[k] for i in rows], dtype=float)[:, None]
                for k in range(len(first.args))]
        kwds = {name: np.array([dists[i].kwds[name] for i in rows], dtype=float)[:, None]
                for name in first.kwds}
        out[rows] = first.dist.ppf(u, *args, **kwds)
    return out


#: Draws per block of the day layout (the usual draw counts, multiples of 100, fill whole
#: blocks: no words drawn and thrown away, and one contiguous block per day).
BLOCK = 100
#: Offset of the day number in a scope's stream (days before 1970 stay non-negative).
_DAY_OFFSET = 2**30
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


def _scope_stream(seed: int, component: str, scope: Sequence[Hashable]) -> tuple[int, int, int]:
    """PCG64DXSM state and increment (128 bits each, the increment odd) and the fallback
    seed (64 bits) of a scope: disjoint parts of one 320-bit BLAKE2b hash of ``(seed,
    component, *scope)`` in the "day" domain (apart from the per-key streams)."""
    h = _hash(seed, "day", (component, *scope), 40)
    return h & _MASK128, (h >> 128) & _MASK128 | 1, h >> 256


def _position(day: int, block: int) -> int:
    """Position in a scope's stream of draw ``block * BLOCK`` of day number ``day``."""
    return (block << 64) + (day + _DAY_OFFSET) * BLOCK


def _day_words(streams: list[tuple], days: np.ndarray, draws: int, emit) -> None:
    """Raw words of each (scope, day, draw), passed to ``emit(j, rows, lo, hi, words)``
    with ``words`` of shape ``(len(rows), hi - lo)``: draws ``lo:hi`` of ``days[rows]`` of
    scope ``j``, one jump and one generator call per scope, run of days and block of
    draws. ``days`` must be sorted and unique."""
    bits = np.random.PCG64DXSM(0)
    state = bits.state
    for start, stop in _runs(days):
        first = int(days[start])
        span = int(days[stop - 1]) - first + 1
        rows = days[start:stop] - first
        dense = len(rows) == span
        for block in range((draws + BLOCK - 1) // BLOCK):
            lo, hi = block * BLOCK, min(draws, (block + 1) * BLOCK)
            position = _position(first, block)
            for j, (lcg_state, increment, _) in enumerate(streams):
                state["state"] = {"state": lcg_state, "inc": increment}
                bits.state = state
                bits.advance(position)
                words = _words(bits, span * BLOCK).reshape(span, BLOCK)[:, :hi - lo]
                emit(j, slice(start, stop), lo, hi, words if dense else words[rows])


def _words(bits: np.random.BitGenerator, count: int) -> np.ndarray:
    """``count`` raw 64-bit words from the generator's current state (one bulk call)."""
    return bits.random_raw(count)


def _to_uniform(words: np.ndarray) -> np.ndarray:
    u = (words >> np.uint64(11)).astype(np.float64)
    u += 0.5
    u *= _INV_2_53
    return u


def _ziggurat_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ziggurat of the standard normal with 256 layers (Marsaglia and Tsang 2000, the
    recursion of their ``zigset``, scaled to 52-bit magnitudes as in numpy's layout).

    Returns the signed layer widths (512: layers 0-255 positive, then negative) and the
    acceptance limits [1/2**52] for the 9-bit index (layer and sign), and the density at
    the layer edges ``f_i = exp(-x_i**2 / 2)`` (256).
    """
    r = _ZIG_R
    f = lambda x: math.exp(-0.5 * x * x)  # noqa: E731
    # area of each layer: the base strip r f(r) plus the tail beyond r
    v = r * f(r) + math.sqrt(math.pi / 2) * math.erfc(r / math.sqrt(2))
    m1 = 2.0**52
    k, w, fi = [0.0] * 256, [0.0] * 256, [0.0] * 256
    q = v / f(r)
    k[0], w[0], w[255] = r / q * m1, q / m1, r / m1
    fi[0], fi[255] = 1.0, f(r)
    dn = tn = r
    for i in range(254, 0, -1):
        dn = math.sqrt(-2.0 * math.log(v / dn + f(dn)))
        k[i + 1] = dn / tn * m1
        tn = dn
        fi[i], w[i] = f(dn), dn / m1
    widths = np.array(w + [-x for x in w])
    limits = np.array(k + k)
    return widths, limits, np.array(fi)


#: Right edge of the base layer (Marsaglia and Tsang 2000, 256 layers; numpy's value).
_ZIG_R = 3.6541528853610088
_ZIG_WIDTH, _ZIG_LIMIT, _ZIG_F = _ziggurat_tables()
_LOW9 = np.uint64(0x1FF)
_MAG52 = np.uint64((1 << 52) - 1)
_EXPONENT_2_52 = np.uint64(0x4330000000000000)  # bits of the float 2**52
#: Words per chunk of the fast path (bounds its temporaries; larger chunks measured faster
#: than cache-sized ones: the per-call cost dominates).
_ZIG_CHUNK = 65536


def _magnitude(words: np.ndarray) -> np.ndarray:
    """Bits 9-60 of each word as a float: placed in the mantissa of 2**52, minus 2**52."""
    magnitude = words >> np.uint64(9)
    magnitude &= _MAG52
    magnitude |= _EXPONENT_2_52
    magnitude = magnitude.view(np.float64)
    magnitude -= 2.0**52
    return magnitude


def _ziggurat_fast(words: np.ndarray, out: np.ndarray, rejected: np.ndarray,
                   widths: np.ndarray = _ZIG_WIDTH) -> None:
    """The ziggurat's fast path: ``out`` = the signed value of each word (times the scale
    folded into ``widths``), ``rejected`` = the words it rejects (their ``out`` is
    replaced by :func:`_ziggurat_slow`)."""
    index = (words & _LOW9).view(np.int64)  # layer (bits 0-7) and sign (bit 8)
    magnitude = _magnitude(words)
    np.multiply(magnitude, widths.take(index), out=out)
    np.greater_equal(magnitude, _ZIG_LIMIT.take(index), out=rejected)


def _splitmix64(state: np.ndarray) -> np.ndarray:
    """SplitMix64's output function of its state (Steele et al. 2014; the constants of
    Vigna's reference ``splitmix64.c``): a bijective 64-bit mix, counter-based when the
    state is ``seed + n * 0x9E3779B97F4A7C15``."""
    z = state ^ (state >> np.uint64(30))
    z *= np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z *= np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return z


_GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)


def _fallback_words(seeds: np.ndarray, days: np.ndarray, draws: np.ndarray,
                    which: int) -> np.ndarray:
    """Word ``which`` (0 or 1) of the fallback stream of each rejected draw: SplitMix64 of
    state ``seed + n * gamma`` with ``n = 2 * position + which + 1`` (below 2**64), its
    position packing the day number (31 bits: days since 1970 plus 2**30) and the draw
    index (32 bits)."""
    position = ((days + 2**30).astype(np.uint64) << np.uint64(32)) | draws.astype(np.uint64)
    n = (position << np.uint64(1)) + np.uint64(which + 1)
    return _splitmix64(seeds + n * _GOLDEN_GAMMA)


def _ziggurat_slow(words: np.ndarray, seeds: np.ndarray, days: np.ndarray,
                   draws: np.ndarray) -> np.ndarray:
    """Exact values of the words the fast path rejected: the tail beyond r for the base
    layer, the wedge test for the others, and a fresh normal where the wedge test fails
    (the ziggurat's restart, in distribution)."""
    from scipy import special  # imported here: the simulator imports this module

    layer = (words & np.uint64(0xFF)).astype(np.intp)
    out = _magnitude(words) * _ZIG_WIDTH.take((words & _LOW9).view(np.int64))  # fast path
    u_first = _to_uniform(_fallback_words(seeds, days, draws, 0))
    tail = layer == 0
    # tail: x > r with density proportional to the normal's, by inversion
    beyond = -special.ndtri(u_first[tail] * special.ndtr(-_ZIG_R))
    out[tail] = np.copysign(beyond, out[tail])
    wedge = ~tail
    x = out[wedge]  # untouched by the tail's values
    lo, hi = _ZIG_F[layer[wedge]], _ZIG_F[layer[wedge] - 1]
    accepted = lo + u_first[wedge] * (hi - lo) < np.exp(-0.5 * x * x)
    restart = np.flatnonzero(wedge)[~accepted]
    u_second = _to_uniform(_fallback_words(seeds[restart], days[restart], draws[restart], 1))
    out[restart] = special.ndtri(u_second)
    return out


def _words_to_normals(words: np.ndarray, out: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """Fast-path normals of ``words`` (2-D) into ``out`` (same shape, may be a strided
    view), in chunks; returns the flat indices of the rejected words."""
    n_rows, n_draws = words.shape
    rows_per_chunk = max(1, _ZIG_CHUNK // max(n_draws, 1))
    rejected = np.empty(words.shape, dtype=bool)
    for r0 in range(0, n_rows, rows_per_chunk):
        rows = slice(r0, r0 + rows_per_chunk)
        _ziggurat_fast(words[rows], out[rows], rejected[rows], widths)
    return np.flatnonzero(rejected)


def _finish_rejected(out: np.ndarray, pending: list[tuple], streams: list[tuple],
                     order: np.ndarray | None, sorted_days: np.ndarray, scale: float) -> None:
    """Replace the fast-path values of the rejected words in ``out`` by their exact values
    (:func:`_ziggurat_slow`) times ``scale``; ``pending`` holds (scope, sorted positions,
    draws, words)."""
    scope = np.repeat([p[0] for p in pending], [len(p[1]) for p in pending])
    position, draw, words = (np.concatenate(x) for x in list(zip(*pending, strict=True))[1:])
    at = position if order is None else order[position]
    seeds = np.array([stream[2] for stream in streams], dtype=np.uint64)[scope]
    out[scope, at, draw] = scale * _ziggurat_slow(words, seeds, sorted_days[position], draw)


def _day_fill(seed: int, component: str, scopes: list, dates, draws: int,
              out: np.ndarray | None, normal: bool, scale: float = 1.0) -> np.ndarray:
    """Draws of several scopes at the same dates: ``out`` of shape (scopes, dates, draws);
    normals times ``scale``."""
    days = day_numbers(dates)
    order = np.argsort(days, kind="stable")
    sorted_days = days[order]
    if len(days) and (np.diff(sorted_days) == 0).any():
        raise ValueError("day_normals/day_uniforms: dates must be unique within a scope")
    if len(days) and not (-2**30 <= sorted_days[0] and sorted_days[-1] < 2**30):
        raise ValueError("day_normals/day_uniforms: day numbers must lie within 2**30 days "
                         "of 1970-01-01")
    if out is None:
        out = np.empty((len(scopes), len(days), draws))
    in_order = bool(np.all(order == np.arange(len(order))))
    streams = [_scope_stream(seed, component, scope) for scope in scopes]
    # the ziggurat's rejected draws: (scope, sorted positions, draws, words), finished at
    # the end in one vectorised step
    pending: list[tuple] = []
    widths = _ZIG_WIDTH if scale == 1.0 else _ZIG_WIDTH * scale  # scale folded in

    def emit(j, rows, lo, hi, words):
        at = rows if in_order else order[rows]  # rows of ``out``
        if not normal:
            out[j, at, lo:hi] = _to_uniform(words)
            return
        target = out[j, at, lo:hi] if in_order else np.empty(words.shape)
        rejected = _words_to_normals(words, target, widths)
        if not in_order:
            out[j, at, lo:hi] = target
        if len(rejected):
            r, d = np.divmod(rejected, hi - lo)
            pending.append((j, rows.start + r, d + lo, words[r, d]))

    _day_words(streams, sorted_days, draws, emit)
    if pending:
        _finish_rejected(out, pending, streams, None if in_order else order, sorted_days,
                         scale)
    return out


def day_normals_scopes(seed: int, component: str, scopes: Sequence[Sequence[Hashable]],
                       dates, draws: int, out: np.ndarray | None = None,
                       scale: float = 1.0) -> np.ndarray:
    """:func:`day_normals` of several scopes at the same dates, shape (scopes, dates,
    draws), identical to one call per scope. With ``scale``, the normals times ``scale``
    (folded into the ziggurat's widths: one pass less over the output; equal to
    ``scale * day_normals(...)`` up to the last bit)."""
    return _day_fill(seed, component, list(scopes), dates, draws, out, normal=True,
                     scale=scale)


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
