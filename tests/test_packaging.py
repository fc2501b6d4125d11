"""The built wheel holds exactly the source tree, under ``wbe`` only (docs/conventions.md, Layout).

An editable install hides a subpackage or data file that packaging forgot (issue 15: the wheel
once lacked ``wbe.publish``), so this test builds a wheel and compares its file list with the
files of the four source folders. ``.ci/run`` passes the wheel it built in ``WBE_WHEEL``;
otherwise the test builds one with ``python -m build`` (the ``dev`` extra) and skips without it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from wbe import _optional

ROOT = Path(__file__).resolve().parents[1]
#: source folder -> path of its files inside the wheel
FOLDERS = {"wbe": "wbe", "lab": "wbe/lab", "models": "wbe/models", "datasets": "wbe/datasets"}


def _source_files() -> set[str]:
    """Every file of the four source folders (tracked or not ignored, in a git checkout)."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard", "--", *FOLDERS], cwd=ROOT,
                             capture_output=True, check=True, timeout=60).stdout
        files = [f for f in out.decode().split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        files = [p.relative_to(ROOT).as_posix() for folder in FOLDERS
                 for p in (ROOT / folder).rglob("*") if p.is_file()]
    files = [f for f in files if "__pycache__" not in f and not f.endswith(".pyc")
             and (ROOT / f).exists()]  # tracked but deleted in the work tree: not shipped
    assert files, "no source files found"
    return set(files)


def _in_wheel(source: str) -> str:
    folder, _, rest = source.partition("/")
    return f"{FOLDERS[folder]}/{rest}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    given = os.environ.get("WBE_WHEEL")
    if given:
        return Path(given)
    if importlib.util.find_spec("build") is None:
        pytest.skip("python -m build is not installed (pip install -e '.[dev]')")
    out = tmp_path_factory.mktemp("wheel")
    # sdist first, then the wheel from the unpacked sdist (as pip does from PyPI): checks that
    # the sdist is complete and ignores stale files in a local build/ folder
    proc = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (found,) = out.glob("wbe_drugs-*.whl")
    return found


@pytest.fixture(scope="module")
def wheel_files(wheel) -> set[str]:
    with zipfile.ZipFile(wheel) as z:
        return {n for n in z.namelist() if not n.endswith("/")}


def test_every_source_file_is_in_the_wheel(wheel_files):
    missing = sorted(s for s in _source_files() if _in_wheel(s) not in wheel_files)
    assert not missing, f"source files missing from the wheel: {missing}"


def test_the_wheel_holds_nothing_but_the_source_tree(wheel_files):
    expected = {_in_wheel(s) for s in _source_files()}
    package_files = {n for n in wheel_files if ".dist-info/" not in n}
    extra = sorted(package_files - expected)
    assert not extra, f"wheel files without a source file: {extra}"


def test_nothing_top_level_but_wbe(wheel, wheel_files):
    tops = {n.split("/")[0] for n in wheel_files}
    dist_info = {t for t in tops if t.endswith(".dist-info")}
    assert tops - dist_info == {"wbe"}
    assert len(dist_info) == 1
    with zipfile.ZipFile(wheel) as z:
        top_level = z.read(f"{dist_info.pop()}/top_level.txt").decode().split()
    assert top_level == ["wbe"]


def test_subpackages_are_discovered_not_listed(wheel_files):
    """``wbe.publish`` (the package a hand list once forgot) and every __init__ are shipped."""
    assert "wbe/publish/__init__.py" in wheel_files
    assert "wbe/datasets/data/biomarker_parameters.csv" in wheel_files
    assert "wbe/py.typed" in wheel_files
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "packages" not in pyproject.get("tool", {}).get("setuptools", {})


def test_console_script_entry_point(wheel, wheel_files):
    (entry,) = [n for n in wheel_files if n.endswith(".dist-info/entry_points.txt")]
    with zipfile.ZipFile(wheel) as z:
        text = z.read(entry).decode()
    assert re.search(r"^wbe\s*=\s*wbe\.cli:main$", text, re.MULTILINE)


def test_optional_extras_match_pyproject_and_readme():
    """Every optional module maps to an extra of pyproject that installs it; README lists it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    core = {re.split(r"[<>=\[ ]", d)[0] for d in project["dependencies"]}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for module, extra in _optional.EXTRAS.items():
        names = {re.split(r"[<>=\[ ]", d)[0] for d in extras[extra]}
        assert module in names, (module, extra)
        assert module not in core, module
        row = re.search(rf"^\| `{extra}` \|(.*)\|$", readme, re.MULTILINE)
        assert row and module in row.group(1), f"README extras table: {module} under {extra}"
    for feature, modules in _optional.FEATURES.items():
        assert set(modules) <= set(_optional.EXTRAS), feature
