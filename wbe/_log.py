"""Logging of progress and diagnostics: every module logs to the ``"wbe"`` logger tree.

The library never prints. It logs progress at INFO and details at DEBUG on ``logging.getLogger
("wbe")`` (or a child, ``logging.getLogger(__name__)``) and installs only a
:class:`logging.NullHandler`, so a library user decides what to see, e.g.::

    import logging
    logging.basicConfig(level=logging.INFO)          # everything, or
    logging.getLogger("wbe").setLevel(logging.WARNING)  # quiet

The command line attaches its own stderr handler (:func:`cli_handler`): progress lines
``wbe: ...`` unless ``--quiet``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["LOGGER_NAME", "cli_handler", "logger", "progress_logger"]

LOGGER_NAME = "wbe"
logger = logging.getLogger(LOGGER_NAME)


def progress_logger(quiet: bool = False) -> Callable[[str], None]:
    """A ``progress(msg)`` callable: INFO on the ``wbe`` logger (DEBUG when ``quiet``)."""
    level = logging.DEBUG if quiet else logging.INFO

    def progress(msg: str) -> None:
        logger.log(level, msg)
    return progress


@contextmanager
def cli_handler(quiet: bool = False, stream=None) -> Iterator[logging.Handler]:
    """Show ``wbe`` log records on stderr as ``wbe: message`` while the command runs.

    Parameters
    ----------
    quiet : bool, default False
        Only warnings and errors (``--quiet``); otherwise INFO progress lines too.
    stream : file-like, optional
        Default ``sys.stderr`` (looked up at call time, so captured streams work).
    """
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(logging.Formatter("wbe: %(message)s"))
    handler.setLevel(logging.WARNING if quiet else logging.INFO)
    old_level = logger.level
    if logger.getEffectiveLevel() > logging.INFO or logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
