"""Run the Examples sections of every public docstring as doctests.

The modules are imported through the installed package (``wbe.lab`` lives in ``lab/``),
so pytest's own ``--doctest-modules`` (which imports by file path) is not used.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

SUBPACKAGES = ("wbe", "wbe.lab", "wbe.models", "wbe.datasets")


def _modules():
    names = set()
    for package_name in SUBPACKAGES:
        package = importlib.import_module(package_name)
        names.add(package_name)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
            if not info.name.endswith("__main__"):
                names.add(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name, extraglobs={"np": np}):
        if test.examples:
            runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} doctest example(s) failed in {name}"
