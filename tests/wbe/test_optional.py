"""A missing optional package names the ``wbe-drugs`` extra that installs it (README table)."""

from __future__ import annotations

import importlib.util

import pytest

from wbe import _optional
from wbe.cli import EXIT_USAGE, main
from wbe.errors import MissingDependencyError


@pytest.fixture
def without(monkeypatch):
    """Pretend that the given top-level packages are not installed."""
    real = importlib.util.find_spec

    def hide(*names):
        def find_spec(name, *args, **kwargs):
            if name.split(".")[0] in names:
                return None
            return real(name, *args, **kwargs)
        monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    return hide


def test_require_names_the_extra(without):
    without("matplotlib")
    with pytest.raises(MissingDependencyError, match=r"pip install 'wbe-drugs\[viz\]'") as err:
        _optional.require("matplotlib.pyplot", feature="the HTML report")
    assert err.value.extra == "viz"
    assert isinstance(err.value, ImportError)
    assert "the HTML report" in str(err.value)


def test_check_lists_every_missing_package(without):
    without("pyarrow", "matplotlib")
    with pytest.raises(MissingDependencyError) as err:
        _optional.check(("pyarrow", "h5netcdf", "matplotlib"), feature="wbe demo")
    msg = str(err.value)
    assert "'pyarrow'" in msg and "'matplotlib'" in msg and "h5netcdf" not in msg
    assert "wbe-drugs[io,viz]" in msg


def test_check_passes_when_installed():
    _optional.check(("numpy", "pandas"), feature="core")  # not optional, installed


def test_demo_without_extras_exits_2_before_working(without, tmp_path, capsys):
    without("matplotlib")
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--draws", "10", "--quiet"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "wbe-drugs[viz]" in err and "matplotlib" in err
    assert not out.exists()  # refused at the start, nothing half-written


def test_translates_module_not_found_of_an_optional_package():
    exc = ModuleNotFoundError("No module named 'ruptures'", name="ruptures")
    got = _optional.from_module_not_found(exc, feature="wbe alerts")
    assert isinstance(got, MissingDependencyError) and "wbe-drugs[models]" in str(got)
    other = ModuleNotFoundError("No module named 'foo'", name="foo")
    assert _optional.from_module_not_found(other, feature="wbe alerts") is None


def test_changepoints_say_which_extra(without):
    from wbe.models import detect_changepoints

    without("ruptures")
    with pytest.raises(MissingDependencyError, match=r"wbe-drugs\[models\]"):
        detect_changepoints([1.0, 2.0, 1.0, 5.0, 5.0, 5.0])
