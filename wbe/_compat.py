"""Deprecated argument names: one release of grace after a rename (docs/vocabulary.md).

:func:`renamed_arguments` wraps a function whose argument was renamed. Calling it with the old
name still works, warns :class:`wbe.errors.WBEDeprecationWarning` naming the new one, and
passes the value on (converted where the meaning changed, e.g. ``alpha`` -> ``level = 1 -
alpha``); giving both names is an error. ``inspect.signature`` and the documentation show the
new names only.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

from wbe.errors import InputError, WBEDeprecationWarning

__all__ = ["RENAMED", "complement", "one_based", "renamed_arguments"]

#: Every rename: (function qualname, old argument, new argument); filled by the decorator and
#: checked by tests/test_vocabulary.py.
RENAMED: list[tuple[str, str, str]] = []

#: the release after which deprecated names are removed
REMOVED_IN = "0.3"


def complement(value: float) -> float:
    """``alpha`` (two-sided error rate) to ``level`` (coverage): ``1 - alpha``."""
    return 1.0 - float(value)


def one_based(value):
    """Keep a 1-based position list or a boolean mask as it is (``range`` -> ``r_range``)."""
    return value


def renamed_arguments(**renames: str | tuple[str, Callable[[Any], Any]]):
    """Decorator: accept old argument names with a deprecation warning.

    Parameters
    ----------
    **renames
        ``old="new"``, or ``old=("new", convert)`` when the value changes meaning.
    """
    table = {old: (new, None) if isinstance(new, str) else new for old, new in renames.items()}

    def decorate(func):
        for old, (new, _) in table.items():
            RENAMED.append((f"{func.__module__}.{func.__qualname__}", old, new))

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for old, (new, convert) in table.items():
                if old not in kwargs:
                    continue
                if new in kwargs:
                    raise InputError(f"{func.__name__}: give {new}= only ({old}= is its "
                                     "deprecated name)", column=new)
                value = kwargs.pop(old)
                how = f"{new}=1-{old}" if convert is complement else f"{new}="
                warnings.warn(
                    f"{func.__name__}({old}=...) is deprecated and will be removed in wbe "
                    f"{REMOVED_IN}; use {how} (docs/vocabulary.md)",
                    WBEDeprecationWarning, stacklevel=2)
                kwargs[new] = convert(value) if convert is not None else value
            return func(*args, **kwargs)
        return wrapper
    return decorate
