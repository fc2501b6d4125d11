"""Privacy of lab data: keyed pseudonyms of subjects and small-cell suppression.

Subject identifiers (Chinese resident ID-card numbers 身份证号, names 姓名, case numbers)
are replaced at read time by a keyed hash, :func:`subject_keys`, so that the same person
gets the same ``subject_key`` in every batch read with the same lab key while nobody
without the key can recompute or check a guess (ID-card numbers have little entropy: a
plain, unkeyed hash of an 18-digit number can be reversed by enumerating birth dates and
districts). The key is never stored, printed or written out.

Published tables suppress small counts with :func:`suppress_small_cells`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from wbe.errors import InputError

__all__ = [
    "MIN_KEY_BYTES",
    "REDACTED",
    "is_resident_id_number",
    "normalise_identifier",
    "subject_keys",
    "suppress_small_cells",
]

#: Shortest accepted HMAC key [bytes]: the SHA-256 output length L = 32 (RFC 2104, sec. 3).
MIN_KEY_BYTES = 32

#: Text written in place of a raw identifier in rejects and messages.
REDACTED = "<redacted>"

_KEY_HEX_CHARS = 20  # 80 bits: collision probability ~ n^2 / 2^81, < 1e-12 for n = 10^6


def _key_bytes(key) -> bytes:
    if key is None:
        raise InputError(
            "a pseudonymisation key is required (key=...): a secret of at least "
            f"{MIN_KEY_BYTES} bytes kept by the lab, the same for every batch"
        )
    if isinstance(key, str):
        raw = key.encode("utf-8")
    elif isinstance(key, bytes | bytearray | memoryview):
        raw = bytes(key)
    else:
        raise InputError(f"the pseudonymisation key must be bytes or str, got {type(key).__name__}")
    if len(raw) < MIN_KEY_BYTES:
        raise InputError(
            f"the pseudonymisation key is too short ({len(raw)} bytes); use at least "
            f"{MIN_KEY_BYTES} bytes, for example secrets.token_hex(32)"
        )
    return raw


def normalise_identifier(identifier) -> str | None:
    """Canonical text of a subject identifier before hashing.

    NFKC (full-width digits and letters to ASCII), surrounding and inner white space
    removed, upper case (so the ID-card check character ``x`` equals ``X``). ``None``
    for an empty cell.

    Parameters
    ----------
    identifier : object
        A subject identifier as read (str, number, None or NaN).

    Returns
    -------
    str or None
        The canonical text; None for an empty or missing cell.

    Examples
    --------
    >>> normalise_identifier(" １１０１０５１９４９１２３１００２x ")
    '11010519491231002X'
    """
    if identifier is None:
        return None
    try:
        if pd.isna(identifier):
            return None
    except (TypeError, ValueError):
        pass
    text = unicodedata.normalize("NFKC", str(identifier))
    text = re.sub(r"\s+", "", text).upper()
    return text or None


def subject_keys(identifiers: Iterable, key: bytes | str) -> pd.Series:
    """Keyed pseudonyms (HMAC-SHA256) of subject identifiers.

    Parameters
    ----------
    identifiers : iterable
        Raw identifiers (ID-card numbers, names, case numbers); ``None``/NaN stay missing.
    key : bytes or str
        The lab's secret key, at least :data:`MIN_KEY_BYTES` bytes (a str is UTF-8
        encoded). Required; it is never stored in any output.

    Returns
    -------
    pandas.Series of object
        ``"sk_"`` followed by the first 20 hex digits (80 bits) of
        HMAC-SHA256(key, normalised identifier); ``None`` for missing identifiers.

    Raises
    ------
    InputError
        If the key is missing, not bytes/str, or too short.

    Notes
    -----
    :math:`\\mathrm{HMAC}(K, m) = H((K \\oplus opad) \\| H((K \\oplus ipad) \\| m))` with
    :math:`H` = SHA-256 (Krawczyk et al. 1997, RFC 2104; FIPS 198-1). Identifiers are
    normalised first (:func:`normalise_identifier`), so ``x``/``X`` and full-width digits
    give the same key. Truncation to 80 bits keeps the chance of two of a million persons
    sharing a key below :math:`10^{-12}` (birthday bound :math:`n^2/2^{81}`). Unkeyed
    hashes of ID-card numbers are not pseudonyms: the 10^8-10^9 plausible numbers can be
    enumerated, which is why a secret key is required (Article 29 Working Party 2014,
    Opinion 05/2014 on anonymisation techniques, sec. 4.2).

    References
    ----------
    Krawczyk H, Bellare M, Canetti R (1997). HMAC: Keyed-hashing for message
    authentication. RFC 2104. doi:10.17487/RFC2104

    NIST (2008). The keyed-hash message authentication code (HMAC). FIPS PUB 198-1.
    doi:10.6028/NIST.FIPS.198-1

    Examples
    --------
    >>> key = "lab-secret-key-0123456789abcdef-0123"
    >>> k = subject_keys(["110105194912310021", "110105194912310021 ", None], key)
    >>> k[0] == k[1], k[2] is None, k[0].startswith("sk_"), len(k[0])
    (True, True, True, 23)
    """
    raw_key = _key_bytes(key)
    texts = [normalise_identifier(v) for v in identifiers]
    cache: dict[str, str] = {}
    out: list[str | None] = []
    for t in texts:
        if t is None:
            out.append(None)
            continue
        if t not in cache:
            digest = hmac.new(raw_key, t.encode("utf-8"), hashlib.sha256).hexdigest()
            cache[t] = "sk_" + digest[:_KEY_HEX_CHARS]
        out.append(cache[t])
    return pd.Series(out, dtype=object)


_ID_WEIGHTS = np.array([2 ** (17 - i) % 11 for i in range(17)])
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"\d{17}[\dX]")


def is_resident_id_number(text) -> bool:
    """Whether ``text`` is a well-formed 18-character Chinese resident ID number.

    Checks the form (17 digits and a digit or ``X``) and the ISO 7064 MOD 11-2 check
    character of GB 11643-1999; the birth date and region code are not checked. Used by
    readers to refuse identifiers in columns that would be published (sample ids).

    Parameters
    ----------
    text : object
        Candidate identifier (normalised with :func:`normalise_identifier` first).

    Returns
    -------
    bool
        True if the form and the check character are valid.

    References
    ----------
    GB 11643-1999. Citizen identification number (公民身份号码). Standardization
    Administration of China.

    Examples
    --------
    >>> is_resident_id_number("11010519491231002X")
    True
    >>> is_resident_id_number("110105194912310021")
    False
    """
    t = normalise_identifier(text)
    if t is None or not _ID_RE.fullmatch(t):
        return False
    digits = np.array([int(c) for c in t[:17]])
    return _ID_CHECK[int(digits @ _ID_WEIGHTS) % 11] == t[17]


# --------------------------------------------------------------------------- suppression


def _counts(table: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    values = np.empty((len(table), len(columns)))
    for j, col in enumerate(columns):
        if col not in table.columns:
            raise InputError(f"table lacks the count column {col!r}", column=col)
        v = pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=float)
        bad = np.isnan(v) | (v < 0) | (v != np.round(v))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            row = (
                int(table["source_row"].iloc[i]) if "source_row" in table.columns else None
            )
            raise InputError(
                f"expected a non-negative whole count (table position {i})",
                row=row,
                column=col,
                value=table[col].iloc[i],
            )
        values[:, j] = v
    return values


def _complement_lines(values, mask, lines) -> bool:
    """Within each line (a list of index arrays into ``values``) with exactly one
    suppressed cell, also suppress the smallest unsuppressed non-zero cell. Returns
    whether anything changed."""
    changed = False
    flat_v = values.ravel()
    flat_m = mask.ravel()
    for cells in lines:
        m = flat_m[cells]
        if m.sum() != 1:
            continue
        candidates = cells[~m & (flat_v[cells] > 0)]
        if candidates.size == 0:
            candidates = cells[~m]
        if candidates.size == 0:
            continue
        pick = candidates[np.argmin(flat_v[candidates])]
        flat_m[pick] = True
        changed = True
    return changed


def suppress_small_cells(
    table: pd.DataFrame,
    count_columns: Sequence[str],
    threshold: int = 5,
    *,
    total_column: str | None = None,
    group_by: Sequence[str] | None = None,
    derived_columns: Sequence[str] = (),
    suppress_zero: bool = False,
) -> pd.DataFrame:
    """Suppress counts below ``threshold`` and the cells that would reveal them.

    Parameters
    ----------
    table : pandas.DataFrame
        A table to be published, one row per cell of the classification.
    count_columns : sequence of str
        Columns holding counts [persons or tests]. With ``total_column`` they are the
        parts of that total (for example ``positive``, ``negative``, ``inconclusive``
        of ``tested``).
    threshold : int, default 5
        Counts ``1 .. threshold-1`` are suppressed (primary suppression) [count].
    total_column : str, optional
        A published row total of ``count_columns``; it takes part in complementary
        suppression (rule 2).
    group_by : sequence of str, optional
        Columns whose groups have published column totals (for example all months of
        one group and drug summed in a yearly row); rows within a group then take part
        in complementary suppression (rule 3).
    derived_columns : sequence of str
        Columns computed from the counts (proportion and its interval bounds: an
        interval reveals the proportion) that are blanked whenever any count of the row
        is suppressed.
    suppress_zero : bool, default False
        Also suppress zeros (some publication rules do; a zero says "nobody" about a
        group, which can itself be disclosive).

    Returns
    -------
    pandas.DataFrame
        A copy with suppressed counts as ``<NA>`` (nullable ``Int64``), suppressed
        derived columns NaN, and a column ``suppressed`` listing the suppressed columns of
        each row (comma separated, ``""`` if none).

    Raises
    ------
    InputError
        If a count column is missing or holds a value that is not a non-negative whole
        number, or ``threshold`` < 1.

    Notes
    -----
    The rule, applied until nothing changes:

    1. *Primary*: a count :math:`0 < n < t` (also :math:`n = 0` if ``suppress_zero``),
       parts and total alike, is suppressed.
    2. *Row complement*: when ``total_column`` is given, the parts and the total of a
       row form one line; a line with exactly one suppressed cell could be recovered by
       subtraction, so the smallest non-zero unsuppressed cell of the line (the total if
       no part is left) is suppressed too. The parts need not be exhaustive (a
       ``positive`` column with ``tested`` as total): whatever is not published is
       treated as known to the reader, which errs on the side of suppressing more.
    3. *Column complement*: when ``group_by`` is given, each count column within a group
       forms a line in the same way (a published group total would reveal a single
       suppressed cell).

    Each line then holds zero or at least two suppressed cells. This is the
    threshold rule with complementary suppression of the disclosure-control
    literature (Hundepool et al. 2012, sec. 4.2 and 4.3). Choosing the smallest cell
    loses the least information but is not an optimal (minimum-loss) solution; a
    suppressed pair of small cells can still be bounded by the published totals.
    Zeros are left visible by default, following the usual rule of publishing counts of
    1-4 as suppressed (U.S. CDC/NCHS and China CDC practice); whether 5 is the right
    threshold is a choice of the publishing office.

    References
    ----------
    Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E, Spicer K,
    de Wolf P-P (2012). Statistical Disclosure Control. Chichester: Wiley.
    doi:10.1002/9781118348239

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"group": ["a", "b"], "positive": [3, 12],
    ...                   "negative": [40, 30], "tested": [43, 42]})
    >>> out = suppress_small_cells(t, ["positive", "negative"], total_column="tested")
    >>> out["positive"].tolist(), out["negative"].tolist(), out["suppressed"].tolist()
    ([<NA>, 12], [<NA>, 30], ['positive,negative', ''])
    """
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"expected a pandas DataFrame, got {type(table).__name__}")
    if int(threshold) < 1:
        raise InputError(f"threshold must be at least 1, got {threshold!r}")
    count_columns = list(count_columns)
    columns = count_columns + ([total_column] if total_column else [])
    for col in [*derived_columns, *(group_by or [])]:
        if col not in table.columns:
            raise InputError(f"table lacks column {col!r}", column=col)
    values = _counts(table, columns)
    n_rows = values.shape[0]
    n_parts = len(count_columns)
    mask = np.zeros_like(values, dtype=bool)
    low = (values < threshold) & ((values > 0) | suppress_zero)
    mask[:] = low  # the total of a row is a published count too
    idx = np.arange(values.size).reshape(values.shape)
    lines: list[np.ndarray] = []
    if total_column:
        lines.extend(idx[i] for i in range(n_rows))
    if group_by:
        groups = table.groupby(list(group_by), sort=False, dropna=False).indices
        for rows in groups.values():
            if len(rows) > 1:
                lines.extend(idx[np.asarray(rows), j] for j in range(n_parts))
    for _ in range(values.size + 1):
        if not _complement_lines(values, mask, lines):
            break
    out = table.copy()
    for j, col in enumerate(columns):
        series = pd.array(values[:, j].astype(np.int64), dtype="Int64")
        series[mask[:, j]] = pd.NA
        out[col] = series
    any_row = mask.any(axis=1)
    for col in derived_columns:
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
        out.loc[any_row, col] = np.nan
    names = np.array(columns, dtype=object)
    out["suppressed"] = [
        ",".join(names[mask[i]].tolist() + (list(derived_columns) if any_row[i] else []))
        for i in range(n_rows)
    ]
    return out
