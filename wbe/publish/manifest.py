"""Run manifest: what was run, on what, with which settings, so any number can be reproduced."""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

__all__ = ["MANIFEST_SCHEMA_VERSION", "file_sha256", "run_manifest", "write_manifest"]

#: Version of the manifest layout (``docs/output-schemas.md``).
MANIFEST_SCHEMA_VERSION = "1.0"

_PACKAGES = ("wbe-drugs", "numpy", "scipy", "pandas", "xarray", "statsmodels", "matplotlib",
             "h5netcdf", "pyarrow", "sqlalchemy")


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"abc")
    >>> file_sha256(f.name)[:16]
    'ba7816bf8f01cfea'
    >>> os.remove(f.name)
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def run_manifest(*, command: str, config: Mapping, seed: int, parameter_set: str,
                 inputs: Mapping[str, str | Path], outputs: Mapping[str, str | Path],
                 notes: list[str] | None = None) -> dict:
    """Build the run manifest.

    Parameters
    ----------
    command : str
        The command that produced the outputs (e.g. ``"wbe demo --seed 1"``).
    config : mapping
        Every setting used, after defaults were filled in (JSON-serialisable).
    seed : int
        Root seed of every random stream.
    parameter_set : str
        Name of the reference-parameter set (``wbe.datasets``).
    inputs, outputs : mapping of str to path
        Files read and written; each is recorded with its SHA-256.
    notes : list of str, optional
        Warnings and steps left out, in the words shown to the user.

    Returns
    -------
    dict
        ``schema_version, command, versions, seed, parameter_set, config, inputs,
        outputs, notes`` (no time stamp, so that identical runs give identical manifests).
    """
    return {
        "schema_version": MANIFEST_SCHEMA_VERSION,
        "command": command,
        "versions": _versions(),
        "seed": int(seed),
        "parameter_set": parameter_set,
        "config": dict(config),
        "inputs": {k: {"path": Path(p).name, "sha256": file_sha256(p)}
                   for k, p in sorted(inputs.items())},
        "outputs": {k: {"path": Path(p).name, "sha256": file_sha256(p)}
                    for k, p in sorted(outputs.items())},
        "notes": list(notes or []),
    }


def write_manifest(manifest: Mapping, path: str | Path) -> Path:
    """Write a manifest as sorted, indented JSON (UTF-8) and return the path."""
    path = Path(path)
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False,
                               default=str) + "\n", encoding="utf-8")
    return path
