"""Dependencies point one way (docs/conventions.md, "Layout").

``wbe.datasets`` is a leaf: from the core it imports only ``wbe.errors``, ``wbe.chain`` (the
forward model of the simulator) and ``wbe._draws`` (the keyed random numbers), three modules that
import nothing else from ``wbe``. ``wbe.lab``, ``wbe.models`` and ``wbe.datasets`` never import the
command line or the publication step.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDER_PACKAGE = {"wbe": "wbe", "lab": "wbe.lab", "models": "wbe.models",
                  "datasets": "wbe.datasets"}
DATASETS_MAY_USE = {"wbe.errors", "wbe.chain", "wbe._draws"}
CORE_LEAVES = ("wbe/errors.py", "wbe/chain.py", "wbe/_draws.py")


def _wbe_imports(path: Path) -> set[str]:
    """Absolute ``wbe...`` modules imported anywhere in a file (also inside functions)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "wbe":
                out |= {f"wbe.{a.name}" for a in node.names}
            elif node.module.startswith("wbe."):
                out.add(node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "wbe"}
    return out


@pytest.mark.parametrize("path", sorted((ROOT / "datasets").rglob("*.py")),
                         ids=lambda p: p.name)
def test_datasets_is_a_leaf(path):
    outside = {m for m in _wbe_imports(path)
               if not m.startswith("wbe.datasets") and m not in DATASETS_MAY_USE}
    assert not outside, f"{path.name} imports {sorted(outside)}"


@pytest.mark.parametrize("rel", CORE_LEAVES)
def test_core_modules_used_by_datasets_import_nothing_from_wbe(rel):
    others = _wbe_imports(ROOT / rel) - {"wbe.errors"}
    assert not others, f"{rel} imports {sorted(others)}"
    if rel != "wbe/errors.py":
        assert _wbe_imports(ROOT / rel) <= {"wbe.errors"}


@pytest.mark.parametrize("folder", ["lab", "models", "datasets"])
def test_subpackages_never_import_cli_or_publish(folder):
    for path in (ROOT / folder).rglob("*.py"):
        bad = {m for m in _wbe_imports(path)
               if m.startswith(("wbe.cli", "wbe.publish", "wbe.config"))}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


#: Private names still imported across modules (to be replaced by shared helper modules, as
#: models/_series.py replaced the detectors' imports from aberration). Do not add to this list.
PRIVATE_IMPORTS_LEFT = {
    ("wbe/cli.py", "wbe.publish._pipeline", "_lab"),
    ("wbe/aggregate.py", "wbe.scale", "_map_site_blocks"),
    ("datasets/_published.py", "wbe.datasets._registry", "_numeric"),
    ("datasets/_published.py", "wbe.datasets._registry", "_read"),
    ("datasets/_markers.py", "wbe.datasets._registry", "_read"),
    ("datasets/_simulate_common.py", "wbe._draws", "_philox_key"),
}


def test_no_new_private_imports_across_modules():
    found = set()
    for folder in FOLDER_PACKAGE:
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                        and node.module.split(".")[0] == "wbe":
                    for alias in node.names:
                        if alias.name.startswith("_") and not alias.name.startswith("__"):
                            target = f"{node.module}.{alias.name}"
                            try:
                                import importlib

                                importlib.import_module(target)
                                continue  # a private module, not a private name
                            except ImportError:
                                pass
                            found.add((path.relative_to(ROOT).as_posix(), node.module,
                                       alias.name))
    new = sorted(found - PRIVATE_IMPORTS_LEFT)
    assert not new, f"private names imported across modules: {new}"
