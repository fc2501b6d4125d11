"""Atomic release folders: write beside the target, swap in only when complete.

A release is written into a fresh temporary folder next to the target
(``.<name>.wbe-new-<pid>@<host>.XXXXXXXX``, same file system) and swapped in by
``rename`` only after every file, the manifest last, was written. Until then the previous
release is untouched; a failure anywhere (an exception in a table writer or in the
report, Ctrl-C) removes the temporary folder and leaves the previous release exactly as
it was. A killed process (SIGKILL, power loss) can leave the temporary folder behind,
never a mixed release; the next release of the same target on the same host removes such
``wbe-new`` folders whose process is gone.

On Linux the swap is one ``renameat2(RENAME_EXCHANGE)`` system call: readers see either
the old or the new release, never none. Elsewhere the old folder is first renamed aside
(``.<name>.wbe-old-<pid>@<host>.XXXXXXXX``) and the new one renamed in; if that second
rename fails the old folder is renamed back. A ``wbe-old`` folder left by a kill between
the two renames holds the previous release and is never removed automatically.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import re
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from wbe.errors import ConfigError

__all__: list[str] = []

_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100
_LEFTOVER = re.compile(r"\.wbe-new-(\d+)@(.+)\.[^.]+$")  # never wbe-old: see above
logger = logging.getLogger("wbe")


def _temp_prefix(name: str, kind: str) -> str:
    """``.<name>.wbe-<kind>-<pid>@<host>.``: who wrote a folder a killed run left behind."""
    return f".{name}.wbe-{kind}-{os.getpid()}@{socket.gethostname()}."


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_leftovers(folder: Path, name: str) -> list[Path]:
    """Remove the staging folders ``.<name>.wbe-new-*`` in ``folder`` left by killed runs.

    Only folders written on this host by a process that no longer exists are removed; a
    run in progress, or one on another host sharing the file system, is left alone.
    Returns the removed paths.
    """
    removed = []
    host = socket.gethostname()
    for path in folder.glob(f".{glob.escape(name)}.wbe-new-*"):
        m = _LEFTOVER.search(path.name)
        if m is None or m.group(2) != host or not path.is_dir():
            continue
        if not _process_alive(int(m.group(1))):
            shutil.rmtree(path, ignore_errors=True)
            logger.info("removed %s, left by a killed run (process %s)", path, m.group(1))
            removed.append(path)
    return removed


def _check_target(target: Path) -> None:
    """Refuse a target that is a file, or a non-empty folder that is not a wbe release."""
    if target.exists() and not target.is_dir():
        raise ConfigError(f"output {target} exists and is not a folder", file=str(target))
    if target.is_dir() and any(target.iterdir()) and not (target / "manifest.json").is_file():
        raise ConfigError(
            f"output folder {target} is not empty and holds no wbe release (no manifest.json); "
            "a release replaces the whole folder, so give a new or empty folder",
            file=str(target))


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths with Linux ``renameat2``; False when unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0  # EINVAL/ENOSYS (file system or kernel without it): use the fallback


def _swap_in(stage: Path, target: Path) -> None:
    """Make ``stage`` the ``target`` folder; remove the previous release after the swap."""
    if not target.exists():
        os.rename(stage, target)
        return
    if _exchange(stage, target):
        shutil.rmtree(stage, ignore_errors=True)  # now holds the previous release
        return
    old = Path(tempfile.mkdtemp(prefix=_temp_prefix(target.name, "old"), dir=target.parent))
    os.rmdir(old)
    os.rename(target, old)
    try:
        os.rename(stage, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def staged_release(target: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; swap it in when the block succeeds.

    Parameters
    ----------
    target : str or path-like
        The release folder. It may be missing, empty, or hold a previous wbe release
        (a ``manifest.json``); a release replaces the whole folder.

    Yields
    ------
    pathlib.Path
        The folder to write the new release into.

    Raises
    ------
    ConfigError
        If ``target`` is a file or a non-empty folder without ``manifest.json``.

    Notes
    -----
    Any exception in the block removes the temporary folder and is re-raised with a note
    saying that the previous release was left intact.
    """
    target = Path(target).absolute()
    _check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(target.parent, target.name)
    stage = Path(tempfile.mkdtemp(prefix=_temp_prefix(target.name, "new"), dir=target.parent))
    try:
        yield stage
        _swap_in(stage, target)
    except BaseException as exc:
        shutil.rmtree(stage, ignore_errors=True)
        had = "the previous release" if (target / "manifest.json").is_file() else "nothing"
        exc.add_note(f"wbe: release not written; {had} in {target} was left intact")
        raise


@contextlib.contextmanager
def staged_files(out: str | Path) -> Iterator[Path]:
    """Yield a temporary folder inside ``out``; move its files into ``out`` on success.

    For commands that write a few named files into a folder the user may share with
    other files (``wbe estimate``, ``wbe lab``, ``wbe alerts``): nothing is written to
    ``out`` until every file is complete; then each is moved in with ``os.replace``
    (atomic per file). Any exception removes the temporary folder, so a failed run leaves
    no partial or half-updated file, and earlier outputs of the same names stay as they
    were.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"output {out} exists and is not a folder (option --out)",
                          file=str(out))
    out.mkdir(parents=True, exist_ok=True)
    remove_leftovers(out, "output")
    stage = Path(tempfile.mkdtemp(prefix=_temp_prefix("output", "new"), dir=out))
    try:
        yield stage
        for path in sorted(stage.iterdir()):
            os.replace(path, out / path.name)
    except BaseException as exc:
        exc.add_note(f"wbe: no output written to {out}")
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)
