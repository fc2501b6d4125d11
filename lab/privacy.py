"""Privacy of lab data: keyed pseudonyms of subjects and small-cell suppression.

Subject identifiers (Chinese resident ID-card numbers 身份证号, names 姓名, case numbers)
are replaced at read time by a keyed hash, :func:`subject_keys`, so that the same person
gets the same ``subject_key`` in every batch read with the same lab key while nobody
without the key can recompute or check a guess (ID-card numbers have little entropy: a
plain, unkeyed hash of an 18-digit number can be reversed by enumerating birth dates and
districts). The key is never stored, printed or written out.

Raw identifiers that a clerk typed into the wrong column (an ID-card number as the analyte,
a name as the group) are found by :class:`Redactor` and replaced by :data:`REDACTED`
wherever a cell can be echoed (rejects, reasons, error messages); group labels that look
like an identifier are refused (:func:`looks_like_personal_identifier`).

Keys are checked by :func:`key_entropy_bits`: the public :data:`DEMO_KEY` (accepted only
inside :func:`allow_demo_key`, for simulated data) and degenerate keys are refused.

Published tables suppress small counts with :func:`suppress_small_cells`. The threat model
is in ``docs/threat-model.md``.
"""

from __future__ import annotations

import contextvars
import copy
import functools
import hashlib
import hmac
import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import pandas as pd

from wbe.errors import InputError

__all__ = [
    "DEMO_KEY",
    "MIN_KEY_BYTES",
    "MIN_KEY_ENTROPY_BITS",
    "REDACTED",
    "Redactor",
    "allow_demo_key",
    "is_resident_id_number",
    "key_entropy_bits",
    "looks_like_personal_identifier",
    "normalise_identifier",
    "subject_keys",
    "suppress_small_cells",
]

#: Shortest accepted HMAC key [bytes]: the SHA-256 output length L = 32 (RFC 2104, sec. 3).
MIN_KEY_BYTES = 32

#: Text written in place of a raw identifier in rejects and messages.
REDACTED = "<redacted>"

#: Smallest accepted estimate of a key's entropy (:func:`key_entropy_bits`) [bits]: the
#: 128-bit security strength of NIST SP 800-57 Part 1 Rev. 5 (2020), Table 2.
MIN_KEY_ENTROPY_BITS = 128

#: Public pseudonymisation key of ``wbe demo`` and the simulator. It is printed in the docs
#: and therefore NOT secret: it is refused outside :func:`allow_demo_key`.
DEMO_KEY = b"wbe-demo-key: public, simulated data only, never reuse"

#: Keys printed in wbe's documentation at some time (public; refused for every use).
_PUBLIC_KEYS = frozenset({
    b"tutorial demo key: public, simulated data only, never reuse",
    b"lab-secret-key-0123456789abcdef-0123",
})

_KEY_ADVICE = (
    'make a key once with  python -c "import secrets; print(secrets.token_hex(32))"  '
    "keep it secret (an environment variable such as WBE_LAB_KEY, or a key store) and use "
    "the same key for every batch (see docs/threat-model.md)"
)

_KEY_HEX_CHARS = 20  # 80 bits: collision probability ~ n^2 / 2^81, < 1e-12 for n = 10^6

_DEMO_ALLOWED: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "wbe_demo_key_allowed", default=False)


@contextmanager
def allow_demo_key() -> Iterator[None]:
    """Accept the public :data:`DEMO_KEY` inside this block (simulated data only).

    ``wbe demo`` and tests on simulated data use it; real data must never be read inside
    it, because anybody can recompute pseudonyms made with a public key. Other weak keys
    stay refused. The setting is local to the thread or task (a context variable).

    Examples
    --------
    >>> with allow_demo_key():
    ...     subject_keys(["simulated-person-1"], DEMO_KEY)[0][:3]
    'sk_'
    """
    token = _DEMO_ALLOWED.set(True)
    try:
        yield
    finally:
        _DEMO_ALLOWED.reset(token)


def _as_key_bytes(key) -> bytes:
    if isinstance(key, str):
        return key.encode("utf-8")
    if isinstance(key, bytes | bytearray | memoryview):
        return bytes(key)
    raise InputError(f"the pseudonymisation key must be bytes or str, got {type(key).__name__}")


def _plugin_entropy(symbols: bytes) -> float:
    """Plug-in (maximum-likelihood) Shannon entropy of the byte histogram [bits/byte]."""
    n = len(symbols)
    if n == 0:
        return 0.0
    return sum(c / n * math.log2(n / c) for c in Counter(symbols).values())


def _period(raw: bytes) -> int:
    """Shortest p with raw[i] == raw[i + p] for every i (Knuth-Morris-Pratt failure table)."""
    n = len(raw)
    fail = [-1] + [0] * n
    k = -1
    for i in range(n):
        while k >= 0 and raw[k] != raw[i]:
            k = fail[k]
        k += 1
        fail[i + 1] = k
    return n - fail[n]


def key_entropy_bits(key: bytes | str) -> float:
    """A conservative estimate of the entropy of a key, used to refuse degenerate keys.

    Parameters
    ----------
    key : bytes or str
        The key (a str is UTF-8 encoded).

    Returns
    -------
    float
        :math:`\\ell \\cdot \\min(H_1, H_\\Delta)` [bits], where :math:`\\ell` is the
        length of the key's shortest repeating unit [bytes], :math:`H_1` the plug-in
        Shannon entropy of the unit's bytes and :math:`H_\\Delta` that of the differences
        of consecutive bytes (mod 256) [bits/byte].

    Notes
    -----
    One key is one sample: its true entropy cannot be measured, only bounded from what
    the key looks like. The estimate is zero for a constant key (32 NUL bytes or spaces),
    counts a repeated pattern (``"Jefe" * 8``) once and gives little to runs such as
    ``"0123456789abcdef"`` (constant differences). It cannot tell a memorable phrase from
    a random string, which is why known public keys are refused by value and why keys
    must be made by a random generator. Measured on 2 x 20 000 keys from two seeded
    generators: 32 random bytes (the form of ``os.urandom(32)``) score 140-160 (at most
    :math:`32 \\log_2 32 = 160`), ``secrets.token_urlsafe(32)`` 184-224 and
    ``secrets.token_hex(32)`` 217-256, so none is refused; ``secrets.token_hex(16)``
    (128 bits in 32 characters) scores 91-127 and is always refused: the plug-in
    estimate cannot credit more than :math:`\\log_2 n` bits per character to
    :math:`n` characters, so short keys need a wide alphabet.

    Examples
    --------
    >>> key_entropy_bits(b"\\x00" * 32), key_entropy_bits(b"Jefe" * 8)
    (0.0, 6.0)
    """
    raw = _as_key_bytes(key)
    unit = raw[: _period(raw)] if raw else raw
    steps = bytes((b - a) % 256 for a, b in itertools.pairwise(unit))
    return len(unit) * min(_plugin_entropy(unit), _plugin_entropy(steps) if steps else 0.0)


def _key_bytes(key) -> bytes:
    if key is None:
        raise InputError(
            "a pseudonymisation key is required (key=...): a secret of at least "
            f"{MIN_KEY_BYTES} random bytes kept by the lab; {_KEY_ADVICE}"
        )
    raw = _as_key_bytes(key)
    if len(raw) < MIN_KEY_BYTES:
        raise InputError(
            f"the pseudonymisation key is too short ({len(raw)} bytes, at least "
            f"{MIN_KEY_BYTES} needed); {_KEY_ADVICE}"
        )
    if raw.strip() == DEMO_KEY:  # also as read from a file with a final newline
        if _DEMO_ALLOWED.get() and raw == DEMO_KEY:
            return raw
        raise InputError(
            "the public demo key (wbe.publish.DEMO_KEY) is only for simulated data inside "
            f"`wbe demo`; anyone can recompute its pseudonyms. For real data {_KEY_ADVICE}"
        )
    if raw.strip() in _PUBLIC_KEYS:
        raise InputError(
            f"this key is printed in wbe's documentation and is not secret; {_KEY_ADVICE}")
    bits = key_entropy_bits(raw)
    if bits < MIN_KEY_ENTROPY_BITS:
        raise InputError(
            f"the pseudonymisation key looks too regular (estimated {bits:.0f} bits of "
            f"entropy, at least {MIN_KEY_ENTROPY_BITS} needed: a constant, repeated or "
            f"sequential key is guessable); {_KEY_ADVICE}"
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
    if type(identifier) is str:  # the usual cell: skip the missing-value test
        return _normalised_text(identifier)
    if identifier is None:
        return None
    try:
        if pd.isna(identifier):
            return None
    except (TypeError, ValueError):
        pass
    return _normalised_text(str(identifier))


def _normalised_text(text: str) -> str | None:
    """:func:`normalise_identifier` of a str (ASCII is its own NFKC form; ``str.split``
    splits on exactly the characters ``\\s`` matches)."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = "".join(text.split()).upper()
    return text or None


def _normalised_all(values: Iterable) -> list[str | None]:
    """:func:`normalise_identifier` of each value (str values without a call each)."""
    out: list[str | None] = []
    for v in values:
        if type(v) is not str:
            out.append(normalise_identifier(v))
            continue
        if not v.isascii():
            v = unicodedata.normalize("NFKC", v)
        out.append("".join(v.split()).upper() or None)
    return out


def subject_keys(identifiers: Iterable, key: bytes | str) -> pd.Series:
    """Keyed pseudonyms (HMAC-SHA256) of subject identifiers.

    Parameters
    ----------
    identifiers : iterable
        Raw identifiers (ID-card numbers, names, case numbers); ``None``/NaN stay missing.
    key : bytes or str
        The lab's secret key, at least :data:`MIN_KEY_BYTES` bytes (a str is UTF-8
        encoded) made by a random generator (``secrets.token_hex(32)``). Required; it is
        never stored in any output.

    Returns
    -------
    pandas.Series of object
        ``"sk_"`` followed by the first 20 hex digits (80 bits) of
        HMAC-SHA256(key, normalised identifier); ``None`` for missing identifiers.

    Raises
    ------
    InputError
        If the key is missing, not bytes/str, too short, the public :data:`DEMO_KEY`
        outside :func:`allow_demo_key`, a key printed in wbe's documentation, or too
        regular (:func:`key_entropy_bits` below :data:`MIN_KEY_ENTROPY_BITS`). The
        message says how to make a key and never shows the key.

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
    >>> import secrets
    >>> key = secrets.token_hex(32)
    >>> k = subject_keys(["110105194912310021", "110105194912310021 ", None], key)
    >>> k[0] == k[1], k[2] is None, k[0].startswith("sk_"), len(k[0])
    (True, True, True, 23)
    """
    keyed = hmac.new(_key_bytes(key), digestmod=hashlib.sha256)
    values = (identifiers.to_numpy(dtype=object) if isinstance(identifiers, pd.Series)
              else list(identifiers))
    # each distinct raw cell is normalised and keyed once (a person has many results);
    # str cells only, so that 1, 1.0 and True are never taken for one another
    by_cell: dict[str, str | None] = {}
    by_text: dict[str, str] = {}

    def pseudonym(value) -> str | None:
        t = normalise_identifier(value)
        return None if t is None else hashed(t)

    def hashed(t: str) -> str:
        if t not in by_text:
            mac = keyed.copy()  # HMAC(key, t): the keyed state is copied, not rebuilt
            mac.update(t.encode("utf-8"))
            by_text[t] = "sk_" + mac.hexdigest()[:_KEY_HEX_CHARS]
        return by_text[t]

    if isinstance(values, np.ndarray):
        cells = values
    else:
        cells = np.empty(len(values), dtype=object)
        cells[:] = values
    if len(cells) and pd.api.types.infer_dtype(cells, skipna=True) in ("string", "empty"):
        # str cells and missing values only: key each distinct cell once, then take
        codes, uniques = pd.factorize(cells)
        keyed = np.asarray([None, *(None if t is None else hashed(t)
                                    for t in _normalised_all(uniques.tolist()))],
                           dtype=object)
        return pd.Series(keyed[codes + 1], dtype=object)
    out: list[str | None] = []
    for v in values:
        if type(v) is str:
            if v not in by_cell:
                by_cell[v] = pseudonym(v)
            out.append(by_cell[v])
        else:
            out.append(pseudonym(v))
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


# --------------------------------------------------------------------------- redaction

#: An ID-card number anywhere in a text: 18 characters (17 digits and a digit or X, check
#: character not required, optionally typed 6-8-4 with spaces or hyphens), 15 digits (the
#: first-generation number, 6-6-3), or either written as a float (1.1010519491231002e+17);
#: not the digits of a decimal fraction (0.920427628224813), but after "No." or "ID.".
_ID_IN_TEXT = re.compile(
    r"(?<![0-9])(?<![0-9]\.)(?:"
    r"[0-9]{6}[ \-]?[0-9]{8}[ \-]?[0-9]{3}[0-9X]"
    r"|[0-9]{6}[ \-]?[0-9]{6}[ \-]?[0-9]{3}"
    r"|[0-9]\.[0-9]{9,17}E\+?1[47]"
    r")(?![0-9])",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"(?='([^'\n]{1,12})')")  # overlapping: every quoted word
#: Fewest characters an :data:`_ID_IN_TEXT` match has (``1.234567890E17``).
_SHORTEST_ID_PATTERN = 14
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK_ONLY = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

#: The 100 most frequent single-character surnames of the 2020 household registration
#: statistics (Ministry of Public Security, 《二〇二〇年全国姓名报告》, 2021; list as recalled,
#: unverified) and common two-character surnames.
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩邓冯曹彭曾肖田董潘袁蔡蒋余于杜叶程"
    "魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付傅方邹熊白孟秦邱侯江尹薛闫阎段雷龙黎史陶贺毛"
    "郝顾龚邵万覃武钱戴严欧莫孔向常汤康易乔赖文"
)
_COMPOUND_SURNAMES = frozenset({"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙",
                                "慕容", "令狐", "夏侯", "司徒", "长孙", "宇文", "轩辕", "端木"})
#: Words of group categories that start with a surname character but are not names.
_GROUP_WORDS = ("人员", "人群", "群体", "司机", "驾驶", "学生", "戒毒", "康复", "社区", "职工",
                "员工", "干部", "对照", "白领", "武警", "高危", "常住", "流动", "从业", "患者",
                "高校", "高中", "初中", "中学", "大学", "学校", "青少年", "未成年", "男性",
                "女性", "外卖", "快递", "出租", "网约", "娱乐", "场所", "企业", "单位", "机关",
                "农民", "工人", "教师", "医务", "军人", "民警", "公安", "监所", "强戒")
_GROUP_SUFFIXES = tuple("员者组群队所班类工")


def _nfkc(value) -> str:
    text = value if type(value) is str else str(value)
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def _looks_like_chinese_name(text: str) -> bool:
    """2-3 Chinese characters starting with a common surname (4 with a two-character
    surname), not a category word. A heuristic: see ``docs/threat-model.md``."""
    t = re.sub(r"\s+", "", _nfkc(text))
    if not _CJK_ONLY.fullmatch(t) or any(w in t for w in _GROUP_WORDS):
        return False
    if t.endswith(_GROUP_SUFFIXES):
        return False
    if t[:2] in _COMPOUND_SURNAMES:
        return 3 <= len(t) <= 4
    return t[0] in _SURNAMES and 2 <= len(t) <= 3


class Redactor:
    """Find and blank subject identifiers in any text a reader may echo.

    Parameters
    ----------
    known : iterable, optional
        Identifiers of this batch: the values of its declared identifier columns (ID
        number, name, case number). Each is redacted wherever it occurs, ignoring white
        space and letter case: inside longer text when it holds a Chinese character and
        at least two characters, or when it has at least six characters and is not glued
        to a letter or digit (``000123`` is not found in ``0.0001234``); shorter ones
        only when they fill a whole cell.
    guess_names : bool, default False
        Also redact whole cells and quoted words of messages (``'...'``) that look like a
        Chinese name (the test of :func:`looks_like_personal_identifier`), for names that
        no declared column lists: an unknown analyte typed as a name, or a file without
        a header row whose first row becomes the column names. It over-redacts (``毛发``
        starts with the surname 毛), so it is meant for echoed text only; rows are never
        rejected on this guess.

    Notes
    -----
    Besides the known identifiers, every ID-card number is redacted whatever column it is
    in: 18 characters (17 digits and a digit or ``X``, whether or not the GB 11643 check
    character is right, also typed ``110105 19491231 002X``), 15-digit first-generation
    numbers and either written as a float. Full-width digits count (NFKC). Digit runs of
    other lengths (16-digit sample codes, dates) and decimal fractions
    (``0.920427628224813``, as instrument exports write them) are left alone. A Chinese name in a
    file that declares no name column cannot be recognised in free text; group labels
    get the extra name check of :func:`looks_like_personal_identifier`.

    Examples
    --------
    >>> r = Redactor(known=["张三"])
    >>> r.text("unknown analyte '110105194912310021'")
    "unknown analyte '<redacted>'"
    >>> r.text("张 三的样品"), r.text("2024-07-02")
    ('<redacted>的样品', '2024-07-02')
    """

    def __init__(self, known: Iterable = (), *, guess_names: bool = False) -> None:
        self._guess_names = bool(guess_names)
        exact = set(_normalised_all(known)) - {None}
        inner = {t for t in exact if len(t) >= 6 or (len(t) >= 2 and _CJK.search(t))}
        self._exact = frozenset(exact)
        self.known = self._exact  #: normalised known identifiers (in memory only)
        self._inner = frozenset(inner)
        self._lengths = sorted({len(t) for t in inner}, reverse=True)
        # ASCII text shorter than this holds no ID-number pattern (14 characters at least,
        # as a float) and no known identifier inside it: only a whole-cell match is possible
        self._short = min([_SHORTEST_ID_PATTERN, *self._lengths[-1:]])

    def _spans(self, text: str) -> list[tuple[int, int]]:
        spans = [m.span() for m in _ID_IN_TEXT.finditer(text)]
        if self._guess_names:
            spans += [m.span(1) for m in _QUOTED.finditer(text)
                      if _looks_like_chinese_name(m.group(1))]
        if self._lengths and len(text) >= self._lengths[-1]:  # shorter text holds none
            kept = [(i, c.upper() if len(c.upper()) == 1 else c)
                    for i, c in enumerate(text) if not c.isspace()]
            squeezed = "".join(c for _, c in kept)
            for n in self._lengths:
                for j in range(len(squeezed) - n + 1):
                    word = squeezed[j:j + n]
                    if word not in self._inner:
                        continue
                    a, b = kept[j][0], kept[j + n - 1][0] + 1
                    # a code such as 000123 is not found inside 0.0001234 or P-0001234
                    if _CJK.search(word) or not (_glued(text, a - 1, ".") or _glued(text, b)):
                        spans.append((a, b))
        return spans

    def contains(self, value) -> bool:
        """Whether ``value`` holds an identifier (pattern, known or guessed) [bool]."""
        if type(value) is not str and (value is None or _isna(value)):
            return False
        if (type(value) is str and len(value) < self._short and not self._guess_names
                and value.isascii()):  # the usual short cell: no pattern search needed
            return _normalised_text(value) in self._exact
        text = _nfkc(value)
        return (normalise_identifier(text) in self._exact
                or (self._guess_names and _looks_like_chinese_name(text))
                or bool(self._spans(text)))

    def guessing_names(self) -> Redactor:
        """This redactor with ``guess_names=True`` (its identifiers are not normalised
        again)."""
        other = copy.copy(self)
        other._guess_names = True
        return other

    def contains_all(self, values: Iterable) -> list[bool]:
        """:meth:`contains` of each value (the usual short ASCII cell tested inline)."""
        exact, short, quick = self._exact, self._short, not self._guess_names
        return [("".join(v.split()).upper() or None) in exact
                if quick and type(v) is str and len(v) < short and v.isascii()
                else self.contains(v) for v in values]

    def text(self, value):
        """``value`` with every identifier replaced by :data:`REDACTED`.

        ``None``/NaN are returned as they are; other values are turned into text only
        when something is redacted (a number stays a number otherwise).
        """
        if value is None or _isna(value):
            return value
        text = _nfkc(value)
        if normalise_identifier(text) in self._exact or (
                self._guess_names and _looks_like_chinese_name(text)):
            return REDACTED
        spans = sorted(self._spans(text))
        if not spans:
            return value
        out, end = [], 0
        for a, b in spans:
            if a < end:  # overlapping: extend the current span
                if b > end:
                    end = b
                continue
            out.append(text[end:a])
            out.append(REDACTED)
            end = b
        out.append(text[end:])
        return "".join(out)

    def frame(self, table: pd.DataFrame) -> pd.DataFrame:
        """A copy of ``table`` with every text cell and column label redacted."""
        out = table.rename(columns=lambda c: self.text(c) if isinstance(c, str) else c)
        for col in out.columns:
            if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
                out[col] = out[col].map(self.text).astype(out[col].dtype)
        return out

    def error(self, exc: BaseException) -> BaseException:
        """Redact an exception in place (message, value and chained exceptions dropped).

        The chain (``__cause__``/``__context__``) may hold the raw cell, for example in a
        ``KeyError``; it is cut. Returns ``exc`` so that ``raise redactor.error(e)``
        works.
        """
        if isinstance(exc, InputError):
            exc.message = self.text(exc.message)
            exc.file = self.text(exc.file)
            exc.column = self.text(exc.column)
            exc.value = self.text(exc.value)
            exc.args = (exc._format(),)
        else:
            exc.args = tuple(self.text(a) if isinstance(a, str) else a for a in exc.args)
        exc.__cause__ = None
        exc.__context__ = None
        exc.__suppress_context__ = True
        return exc

    def guard(self, func):
        """Decorator: redact any :class:`~wbe.errors.InputError` ``func`` raises."""

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            try:
                return func(*args, **kwargs)
            except InputError as exc:
                raise self.error(exc) from None

        return wrapper


def _glued(text: str, i: int, extra: str = "") -> bool:
    """Whether position ``i`` of ``text`` holds a letter, digit or one of ``extra``."""
    return 0 <= i < len(text) and (text[i].isalnum() or text[i] in extra)


def _isna(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def looks_like_personal_identifier(label, known: Iterable = ()) -> bool:
    """Whether a group (category) label looks like an ID-card number or a person's name.

    Parameters
    ----------
    label : object
        A group label such as ``"社区康复"`` or ``"drivers"``.
    known : iterable or Redactor, optional
        Identifiers declared in the same batch, or a :class:`Redactor` built from them.

    Returns
    -------
    bool
        True if the label holds an ID-card number or a known identifier, or is 2-3
        Chinese characters starting with one of the 100 most frequent surnames (3-4 with
        a two-character surname such as 欧阳) and is not a category word (人员, 人群,
        学生, 司机, 戒毒, ..., or ending in 员/者/组/群/...).

    Notes
    -----
    The name test is a heuristic: it may refuse a two-character category that starts
    with a surname character (``"高危"``; write ``"高危人群"``) and cannot recognise a name
    that starts with a rare surname. Labels are published, so a false refusal (rename the
    category) is preferred to a leak.

    Examples
    --------
    >>> looks_like_personal_identifier("李雷"), looks_like_personal_identifier("社区康复")
    (True, False)
    """
    if label is None or _isna(label):
        return False
    redactor = known if isinstance(known, Redactor) else Redactor(known)
    return redactor.contains(label) or _looks_like_chinese_name(str(label))


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
    suppress_zero: bool | Sequence[str] = False,
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
    suppress_zero : bool or sequence of str, default False
        Also suppress zeros (some publication rules do; a zero says "nobody" about a
        group, which can itself be disclosive): True for every count column, or the
        names of the columns whose zeros are suppressed (for example the negatives of a
        positivity table, whose zero says "everybody tested positive").

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
    if isinstance(suppress_zero, bool | np.bool_):
        zero_ok = np.full(len(columns), bool(suppress_zero))
    else:
        unknown = [c for c in suppress_zero if c not in columns]
        if unknown:
            raise InputError(f"suppress_zero names columns that are not counts: {unknown}")
        zero_ok = np.array([c in set(suppress_zero) for c in columns])
    low = (values < threshold) & ((values > 0) | zero_ok[None, :])
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
