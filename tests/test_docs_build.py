"""The hand-curated API reference (docs/api/*.rst) documents exactly the public API.

This does not run Sphinx (CI builds the site with
``python -m sphinx -W --keep-going -n -b html docs docs/_build/html``); it reads the
reStructuredText pages and compares them with ``__all__`` of every public module, so that a
name added to ``__all__`` without an entry in the reference, or an entry left behind after a
rename, fails fast. "Public means documented in the API reference" (docs/conventions.md,
convention 6).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import types
from pathlib import Path

import pytest

API = Path(__file__).resolve().parents[1] / "docs" / "api"

#: Packages whose re-exports are listed on a package page (autosummary table), not
#: documented there: each name is documented on the page of the module that defines it.
PACKAGE_PAGES = {
    "wbe": "wbe.rst",
    "wbe.lab": "lab.rst",
    "wbe.models": "models.rst",
    "wbe.publish": "publish.rst",
    "wbe.readers": "readers.rst",  # the names of wbe.io under a non-shadowing module name
}


_DIRECTIVE = re.compile(
    r"^\.\. (?:auto)?(?:function|class|exception|data|attribute)::\s+([\w.]+)", re.MULTILINE
)
_MODULE = re.compile(r"^\.\. (?:automodule|py:module|module)::\s+([\w.]+)", re.MULTILINE)
_SUMMARY_ENTRY = re.compile(r"^   ~?([\w.]+)\s*$", re.MULTILINE)


def _public_modules() -> list[str]:
    names = []
    for package_name in ("wbe", "wbe.lab", "wbe.models", "wbe.datasets"):
        package = importlib.import_module(package_name)
        names.append(package_name)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
            if not any(part.startswith("_") for part in info.name.split(".")):
                names.append(info.name)
    return sorted(set(names))


def _pages() -> dict[str, str]:
    """Module name -> text of its API page (the page whose first automodule names it)."""
    pages = {}
    for path in sorted(API.glob("*.rst")):
        text = path.read_text(encoding="utf-8")
        match = _MODULE.search(text)
        if match:
            pages[match.group(1)] = text
    return pages


def _documented_names(text: str) -> list[str]:
    return [name.rsplit(".", 1)[-1] for name in _DIRECTIVE.findall(text)]


def _public_names(module: types.ModuleType) -> set[str]:
    return {n for n in module.__all__ if n != "__version__"}


@pytest.mark.parametrize("name", _public_modules())
def test_every_public_module_has_a_page(name):
    assert name in _pages(), f"docs/api has no page for the public module {name}"


@pytest.mark.parametrize("name", sorted(set(_pages()) - set(PACKAGE_PAGES)))
def test_module_page_documents_exactly_all(name):
    module = importlib.import_module(name)
    documented = _documented_names(_pages()[name])
    assert len(documented) == len(set(documented)), f"{name}: a name is documented twice"
    public = _public_names(module)
    missing = sorted(public - set(documented))
    extra = sorted(set(documented) - public)
    assert not missing, f"{name}: in __all__ but not in docs/api: {missing}"
    assert not extra, f"{name}: in docs/api but not in __all__: {extra}"


@pytest.mark.parametrize("name", sorted(PACKAGE_PAGES))
def test_package_page_lists_every_reexport(name):
    package = importlib.import_module(name)
    text = (API / PACKAGE_PAGES[name]).read_text(encoding="utf-8")
    listed = {entry.rsplit(".", 1)[-1] for entry in _SUMMARY_ENTRY.findall(text)}
    listed |= set(_documented_names(text))
    listed |= {m.rsplit(".", 1)[-1] for m in re.findall(r":mod:`([\w.]+)`", text)}
    public = _public_names(package)  # submodules count as listed when linked by :mod:
    missing = sorted(public - listed)
    assert not missing, f"{name}: re-exported but not listed on docs/api/{PACKAGE_PAGES[name]}"


def test_pages_name_only_importable_objects():
    for name, text in _pages().items():
        module = importlib.import_module(name)
        for entry in _documented_names(text):
            if entry == "__version__":
                continue
            assert hasattr(module, entry), f"docs/api page of {name} documents {entry!r}"
