"""Text encoding detection for instrument exports (private).

Instrument software writes text in the encoding of the Windows locale it runs on:
Western-locale Waters MassLynx/TargetLynx and SCIEX Analyst/MultiQuant write cp1252
(a superset of latin-1 for printable characters), Chinese-locale machines write GB18030
(GBK), newer software writes UTF-8, with or without a byte-order mark, and Excel's
"Unicode text" is UTF-16 with a byte-order mark. The bytes do not say which.

:func:`decode_text` tries the candidates strictly, in the order that makes a wrong
success least likely (UTF-8 rarely decodes text that is not UTF-8; GB18030 often
does), and refuses a successful decode whose characters are implausible for a lab
export: control characters, or CJK characters that a latin-1 ``µg`` turns into under
GB18030 (``b"\\xb5g"`` decodes to ``"礸"``, a character outside GB2312, the set of
common Chinese characters), Chinese GB18030 text read as cp1252 (pairs of accented
letters), or short GB18030 text that happens to be valid UTF-8 (Cyrillic-like letters in
the UTF-8 reading, common Chinese characters in the GB18030 one). When every candidate
fails, the error lists why and asks for ``encoding=``.
"""

from __future__ import annotations

import re
import unicodedata

from wbe.errors import InputError

__all__: list[str] = []

#: Candidates tried in order when no encoding is given.
CANDIDATES = ("utf-8-sig", "gb18030", "cp1252", "latin-1")

_ALLOWED_CONTROLS = frozenset("\t\n\r\f")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
#: Largest share of non-ASCII characters outside GB2312 in a plausible GB18030 text
#: (rare characters of person or place names exist; a latin-1 file read as GB18030
#: produces nothing else).
_MAX_RARE_SHARE = 0.05


def decode_text(raw: bytes, label: str, encoding: str | None = None) -> tuple[str, str]:
    """Decode the bytes of a text export, detecting the encoding when not given.

    Parameters
    ----------
    raw : bytes
        The file content.
    label : str
        File name used in the error message.
    encoding : str, optional
        Use this encoding (strictly) instead of detecting one.

    Returns
    -------
    text : str
        Decoded text without a byte-order mark.
    encoding : str
        The encoding used (``"utf-8"``, ``"utf-8-sig"`` when a BOM was present,
        ``"utf-16"``, ``"gb18030"``, ``"cp1252"``, ``"latin-1"`` or the one given).

    Raises
    ------
    InputError
        The given encoding does not decode the bytes, or no candidate gives plausible
        text; the message says why each candidate was refused.

    Examples
    --------
    >>> decode_text("Name\\tConc.\\n1\\tS1 22µg\\n".encode("cp1252"), "x.txt")[1]
    'cp1252'
    >>> decode_text("样品\\t甲基苯丙胺\\n".encode("gb18030"), "x.txt")
    ('样品\\t甲基苯丙胺\\n', 'gb18030')
    """
    if encoding is not None:
        try:
            text = raw.decode(encoding)
        except LookupError:
            raise InputError(f"unknown text encoding {encoding!r}", file=label) from None
        except UnicodeDecodeError as exc:
            raise InputError(
                f"the file is not valid {encoding}: byte 0x{raw[exc.start]:02x} at offset "
                f"{exc.start} ({_line_of(raw, exc.start)}); leave encoding= unset to detect it",
                file=label,
            ) from None
        return text.lstrip("\ufeff"), encoding
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates: tuple[str, ...] = ("utf-16",)
    else:
        candidates = CANDIDATES
    refused = []
    gb_decoded = False
    for enc in candidates:
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError as exc:
            refused.append(f"{enc}: invalid byte 0x{raw[exc.start]:02x} "
                           f"({_line_of(raw, exc.start)})")
            continue
        problem = _implausible(text, enc)
        if problem is None and enc == "utf-8-sig" and _exotic(text) and _gb_plausible(raw):
            problem = ("the UTF-8 reading gives Cyrillic, Hebrew or similar letters and the "
                       "GB18030 reading plausible Chinese (short GB18030 text can be valid "
                       "UTF-8)")
        if enc == "gb18030":
            gb_decoded = True
        elif problem is None and gb_decoded and _paired_high_bytes(text):
            problem = ("most accented characters come in pairs, as when Chinese GB18030 "
                       "text with rare characters is read as a Western encoding")
        if problem is None:
            if enc == "utf-8-sig" and not raw.startswith(b"\xef\xbb\xbf"):
                enc = "utf-8"
            return text.lstrip("\ufeff"), enc
        refused.append(f"{enc}: {problem}")
    raise InputError(
        "cannot tell the text encoding; tried " + "; ".join(refused)
        + ". Pass encoding= (for example 'cp1252' for Western Windows, 'gb18030' for "
        "Chinese Windows) or save the export as UTF-8",
        file=label,
    )


def _line_of(raw: bytes, offset: int) -> str:
    line = raw.count(b"\n", 0, offset) + 1
    return f"line {line}"


def _where(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    start = max(text.rfind("\n", 0, index) + 1, index - 12)
    end = text.find("\n", index)
    end = min(len(text) if end < 0 else end, index + 12)
    return f"line {line}: {text[start:end].strip()!r}"


def _implausible(text: str, encoding: str) -> str | None:
    """Why ``text`` (decoded with ``encoding``) is not a plausible export, or None."""
    for i, ch in enumerate(text):
        if ch in _ALLOWED_CONTROLS or (ch == "\ufeff" and i == 0):
            continue
        cat = unicodedata.category(ch)
        if cat == "Cc":
            return f"control character U+{ord(ch):04X} at {_where(text, i)}"
        if cat in ("Co", "Cn", "Cs"):
            return f"unassigned or private character U+{ord(ch):04X} at {_where(text, i)}"
    if encoding == "gb18030":
        return _implausible_gb(text)
    return None


def _implausible_gb(text: str) -> str | None:
    """A GB18030 decode of non-Chinese bytes gives rare characters or lone CJK
    characters wedged inside Latin words (latin-1 ``µg`` -> ``礸``, ``ção`` -> one
    character)."""
    wide = [(i, ch) for i, ch in enumerate(text) if ord(ch) > 0x7F]
    if not wide:
        return None
    rare = [(i, ch) for i, ch in wide if ord(ch) >= 0x2E80 and not _in_gb2312(ch)]
    if rare and len(rare) > _MAX_RARE_SHARE * len(wide):
        i, ch = rare[0]
        return (f"{len(rare)} of {len(wide)} non-ASCII characters are rare CJK or "
                f"East Asian symbols outside GB2312 (first {ch!r} at {_where(text, i)}), "
                "as when latin-1 text such as 'µg' is read as GB18030")
    runs = list(_CJK.finditer(text))
    if runs and all(len(m.group()) == 1 for m in runs):
        for m in runs:
            before = text[m.start() - 1: m.start()]
            after = text[m.end(): m.end() + 1]
            if before.isascii() and before.isalnum() and after.isascii() and after.isalnum():
                return (f"lone CJK character {m.group()!r} inside a Latin word at "
                        f"{_where(text, m.start())}, as when accented latin-1 text is read "
                        "as GB18030")
    return None


def _exotic(text: str) -> bool:
    """Letters from U+0180-U+07FF other than Greek (IPA, Cyrillic, Armenian, Hebrew,
    Arabic, ...): what GB18030 bytes with leads C6-DF give when read as UTF-8."""
    return any(0x180 <= ord(ch) <= 0x7FF and not 0x370 <= ord(ch) <= 0x3FF for ch in text)


def _gb_plausible(raw: bytes) -> bool:
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        return False
    return _implausible(text, "gb18030") is None and bool(_CJK.search(text))


def _paired_high_bytes(text: str) -> bool:
    """True when most non-ASCII characters sit in runs of two or more (GBK bytes read
    one by one); Western text has accented letters alone inside ASCII words."""
    runs = [len(m.group()) for m in re.finditer(r"[^\x00-\x7f]+", text)]
    total = sum(runs)
    return total >= 2 and sum(r for r in runs if r >= 2) > 0.5 * total


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True
