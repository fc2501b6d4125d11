"""Package discovery for the ``wbe-drugs`` distribution (metadata lives in pyproject.toml).

The import package ``wbe`` is assembled from four source folders (see docs/conventions.md):

====================  ===============
source folder         import package
====================  ===============
``wbe/``              ``wbe``
``lab/``              ``wbe.lab``
``models/``           ``wbe.models``
``datasets/``         ``wbe.datasets``
====================  ===============

Every subpackage below these folders (any folder with an ``__init__.py``, e.g. ``wbe/publish``) is
found by :func:`setuptools.find_packages`, so a new subpackage cannot be forgotten by a hand-written
list. Data files are every file with a data suffix (``DATA_SUFFIXES``) inside a package folder or a
plain (non-package) folder below it, e.g. ``datasets/data/*.csv``. Nothing is installed under a
top-level name other than ``wbe`` (``lab``, ``models`` or ``datasets`` would clash with other
distributions). ``tests/test_packaging.py`` checks a built wheel against the source tree.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).resolve().parent

#: import package -> source folder (relative to this file)
SOURCE_FOLDERS = {"wbe": "wbe", "wbe.lab": "lab", "wbe.models": "models",
                  "wbe.datasets": "datasets"}

#: suffixes of files shipped as package data (besides ``.py`` modules)
DATA_SUFFIXES = (".csv", ".tsv", ".toml", ".json", ".html", ".css", ".js", ".txt", ".typed",
                 ".j2", ".jinja", ".svg", ".png", ".md")

_SKIP_DIRS = {"__pycache__"}


def discover(root: Path = HERE) -> tuple[list[str], dict[str, str], dict[str, list[str]]]:
    """Packages, package folders and package data below the four source folders.

    Returns
    -------
    packages : list of str
        Dotted import names (``wbe``, ``wbe.publish``, ``wbe.lab``, ...), sorted.
    package_dir : dict of str to str
        Import name of each top source folder -> its folder.
    package_data : dict of str to list of str
        Import name -> data files (paths relative to the package folder, ``/``-separated).
    """
    packages: list[str] = []
    package_data: dict[str, list[str]] = {}
    for name, folder in SOURCE_FOLDERS.items():
        base = root / folder
        subs = [name] + [f"{name}.{s}" for s in find_packages(str(base))]
        packages.extend(subs)
        for pkg in subs:
            pkg_dir = base.joinpath(*pkg.split(".")[name.count(".") + 1:])
            files = sorted(_data_files(pkg_dir))
            if files:
                package_data[pkg] = files
    return sorted(packages), dict(SOURCE_FOLDERS), package_data


def _data_files(pkg_dir: Path) -> list[str]:
    """Data files of one package: its own, and those of plain sub-folders (not subpackages)."""
    out: list[str] = []
    stack = [pkg_dir]
    while stack:
        d = stack.pop()
        for p in d.iterdir():
            if p.is_dir():
                if p.name in _SKIP_DIRS or p.name.startswith(".") or (p / "__init__.py").exists():
                    continue
                stack.append(p)
            elif p.suffix in DATA_SUFFIXES or p.name == "py.typed":
                out.append(p.relative_to(pkg_dir).as_posix())
    return out


if __name__ == "__main__":
    _packages, _package_dir, _package_data = discover()
    setup(packages=_packages, package_dir=_package_dir, package_data=_package_data)
