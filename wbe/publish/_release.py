"""Atomic release folders: write beside the target, swap in only when complete.

A release is written into a fresh temporary folder next to the target
(``.<name>.wbe-new-XXXXXXXX``, same file system) and swapped in by ``rename`` only after
every file, the manifest last, was written. Until then the previous release is untouched;
a failure anywhere (an exception in a table writer or in the report, Ctrl-C) removes the
temporary folder and leaves the previous release exactly as it was. A killed process
(SIGKILL, power loss) can leave the temporary folder behind, never a mixed release.

On Linux the swap is one ``renameat2(RENAME_EXCHANGE)`` system call: readers see either
the old or the new release, never none. Elsewhere the old folder is first renamed aside
(``.<name>.wbe-old-XXXXXXXX``) and the new one renamed in; if that second rename fails the
old folder is renamed back.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from wbe.errors import ConfigError

__all__: list[str] = []

_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100


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
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.wbe-old-", dir=target.parent))
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
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.wbe-new-", dir=target.parent))
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
    stage = Path(tempfile.mkdtemp(prefix=".wbe-new-", dir=out))
    try:
        yield stage
        for path in sorted(stage.iterdir()):
            os.replace(path, out / path.name)
    except BaseException as exc:
        exc.add_note(f"wbe: no output written to {out}")
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)
