"""Execute every tutorial of ``docs/tutorials/`` (MyST-NB text notebooks) and fail on any error.

Each ``docs/tutorials/*.md`` except ``index.md`` is converted in memory to a notebook with
jupytext and run top to bottom with nbclient in a fresh ``python3`` kernel of the running
interpreter, with a per-cell timeout. The house rules of the test suite hold inside the
kernel too: a setup cell (not part of the tutorial) turns warnings of :mod:`wbe` into errors,
so a tutorial that wants to show a warning must catch it explicitly, and a closing cell fails
if the tutorial used numpy's global random state. Every tutorial must draw at least one
figure (a ``image/png`` output) and must not print a traceback.

Needs the ``docs`` extra (jupytext, nbclient, ipykernel; matplotlib from ``viz``); skipped,
with the reason, only when jupytext or nbclient cannot be imported.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TUTORIALS_DIR = Path(__file__).resolve().parents[1] / "docs" / "tutorials"
TUTORIALS = sorted(p for p in TUTORIALS_DIR.glob("*.md") if p.name != "index.md")

#: Seconds one cell may run on a loaded 2-core machine before the test fails.
CELL_TIMEOUT_S = 90

_SETUP = """\
import warnings as _w
import numpy as _np
import wbe.errors as _wbe_errors
_w.simplefilter("error", _wbe_errors.WBEWarning)
_GLOBAL_NP_STATE = _np.random.get_state(legacy=False)["state"]
"""

_TEARDOWN = """\
_after = _np.random.get_state(legacy=False)["state"]
assert (_after["key"].tobytes() == _GLOBAL_NP_STATE["key"].tobytes()
        and _after["pos"] == _GLOBAL_NP_STATE["pos"]), (
    "the tutorial used numpy's global random state (np.random.*); pass a seed or rng")
"""


def _notebook(path: Path):
    jupytext = pytest.importorskip(
        "jupytext", reason="jupytext is not installed (pip install -e '.[docs]')")
    nbformat = pytest.importorskip(
        "nbformat", reason="nbformat is not installed (pip install -e '.[docs]')")
    nb = jupytext.read(path, fmt="md:myst")
    nb.cells.insert(0, nbformat.v4.new_code_cell(_SETUP))
    nb.cells.append(nbformat.v4.new_code_cell(_TEARDOWN))
    return nb


def test_every_tutorial_is_listed_in_the_index():
    index = (TUTORIALS_DIR / "index.md").read_text(encoding="utf-8")
    assert TUTORIALS, "no tutorials found"
    missing = [p.stem for p in TUTORIALS if p.stem not in index]
    assert not missing, f"tutorials missing from docs/tutorials/index.md: {missing}"


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_front_matter(path):
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\nfile_format: mystnb\nkernelspec:\n  name: python3\n"), (
        f"{path.name}: missing the MyST-NB front matter")
    assert "```{code-cell} ipython3" in text, f"{path.name}: no code cells"


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_executes(path, tmp_path):
    nbclient = pytest.importorskip(
        "nbclient", reason="nbclient is not installed (pip install -e '.[docs]')")
    nb = _notebook(path)
    env = dict(os.environ, MPLBACKEND="module://matplotlib_inline.backend_inline",
               PYTHONHASHSEED="0")
    client = nbclient.NotebookClient(
        nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},  # tutorials write files here
        allow_errors=False,
    )
    client.execute(cwd=str(tmp_path), env=env)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, f"{path.name}: the tutorial drew no figure"
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors, f"{path.name}: {errors[0]['ename']}: {errors[0]['evalue']}"


def test_kernel_is_this_interpreter():
    """The python3 kernelspec nbclient starts must run the interpreter of the test run."""
    pytest.importorskip("nbclient", reason="nbclient is not installed")
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    exe = spec.argv[0]
    assert exe in {sys.executable, "python", "python3", "{python}"} or (
        Path(exe).resolve() == Path(sys.executable).resolve()), (
        f"the python3 kernel runs {exe}, not {sys.executable}")
