"""The wastewater readers, under a name that does not shadow the standard library's ``io``.

``from wbe import readers`` gives the same objects as :mod:`wbe.io` (which keeps working):
``from wbe import io`` would hide Python's ``io`` module in the importing namespace.

>>> from wbe import readers
>>> import wbe.io
>>> readers.read_samples is wbe.io.read_samples
True
"""

from wbe import io as _io
from wbe.io import *  # noqa: F403 - the same objects, listed once in wbe.io.__all__

__all__ = list(_io.__all__)
