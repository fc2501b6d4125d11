"""Exceptions and warnings raised by wbe.

Every error caused by user input is an :class:`InputError` (a ``ValueError``) that
names, where known, the file, the row and the column at fault and what was expected.
Implausible but legal values warn with :class:`ImplausibleValueWarning`.

This module imports nothing from the rest of the package so that every subpackage,
including the leaf :mod:`wbe.datasets`, may use it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "BelowLOQWarning",
    "ConfigError",
    "CoverageWarning",
    "ImplausibleValueWarning",
    "InputError",
    "MissingDependencyError",
    "ModelError",
    "UnitError",
    "UnknownNameError",
    "WBEDeprecationWarning",
    "WBEError",
    "WBEWarning",
    "closest_names",
    "unknown_name_error",
]


class WBEError(Exception):
    """Base class of every exception raised by wbe."""


class MissingDependencyError(WBEError, ImportError):
    """An optional package needed by the requested feature is not installed.

    The message names the package and the ``pip install 'wbe-drugs[extra]'`` command that
    installs it (see the README, section "Which extra do I need?").

    Parameters
    ----------
    message : str
        What is missing, for what, and how to install it.
    extra : str, optional
        The ``wbe-drugs`` extra that provides the package (``"io"``, ``"viz"``, ...).
    """

    def __init__(self, message: str, *, extra: str | None = None) -> None:
        self.extra = extra
        super().__init__(message)


class InputError(WBEError, ValueError):
    """Bad input: names the file, row and column at fault and what was expected.

    Parameters
    ----------
    message : str
        What is wrong and what was expected.
    file : str, optional
        The input file (or a description such as ``"samples DataFrame"``).
    row : int, optional
        Row number as a spreadsheet user sees it: the header is row 1, the first
        data row is row 2.
    column : str, optional
        The column at fault.
    value : object, optional
        The offending value (never a subject identifier).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
    ) -> None:
        self.message = message
        self.file = file
        self.row = row
        self.column = column
        self.value = value
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.file is not None:
            where.append(f"file {self.file!r}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class ModelError(WBEError, RuntimeError):
    """A model could not be computed (a numerical failure inside statsmodels, scipy,
    ruptures or numpy); the message names the series and the time point where known."""


class UnitError(InputError):
    """A unit string that wbe does not know, or one that does not fit the quantity."""


class UnknownNameError(InputError):
    """A name (analyte, parameter set, method) that is not known; lists close matches."""


class ConfigError(InputError):
    """A configuration file with a missing, unknown or invalid key."""


class WBEWarning(UserWarning):
    """Base class of every warning issued by wbe."""


class WBEDeprecationWarning(WBEWarning, DeprecationWarning):
    """A deprecated name was used; the message names its replacement (docs/vocabulary.md).

    Deprecated names keep working for one release after the rename.
    """


class BelowLOQWarning(WBEWarning):
    """Values below the limit of quantification were substituted or censored."""


class ImplausibleValueWarning(WBEWarning):
    """A legal but implausible value (for example a load far above any published one)."""


class CoverageWarning(WBEWarning):
    """Too few sampled days in a period for a reliable aggregate."""


def closest_names(name: str, valid: Iterable[str], n: int = 3) -> list[str]:
    """Return up to ``n`` names from ``valid`` that look most like ``name``.

    Parameters
    ----------
    name : str
        The name that was not found.
    valid : iterable of str
        The valid names.
    n : int, default 3
        Largest number of names returned [count].

    Returns
    -------
    list of str
        Closest valid names, best first (case-insensitive :func:`difflib.get_close_matches`
        with cutoff 0.5); empty if none is close.
    """
    valid = list(valid)
    lowered = {v.lower(): v for v in valid}
    hits = difflib.get_close_matches(str(name).lower(), list(lowered), n=n, cutoff=0.5)
    return [lowered[h] for h in hits]


def unknown_name_error(
    kind: str, name: object, valid: Iterable[str], **where: object
) -> UnknownNameError:
    """Build an :class:`UnknownNameError` listing the valid names and the closest ones.

    Parameters
    ----------
    kind : str
        What was looked up, for the message (``"censoring policy"``).
    name : object
        The unknown name.
    valid : iterable of str
        The valid names.
    **where
        ``file``, ``row``, ``column`` or ``value`` passed on to the error.

    Returns
    -------
    UnknownNameError
        The error, to be raised by the caller.

    Examples
    --------
    >>> str(unknown_name_error("censoring policy", "loq2", ["zero", "loq/2", "loq"]))
    "unknown censoring policy 'loq2' (closest: 'loq/2', 'loq'). Valid: 'loq', 'loq/2', 'zero'"
    """
    valid = sorted(set(valid))
    close = closest_names(str(name), valid)
    hint = f" (closest: {', '.join(repr(c) for c in close)})" if close else ""
    listing = ", ".join(repr(v) for v in valid)
    return UnknownNameError(f"unknown {kind} {name!r}{hint}. Valid: {listing}", **where)
