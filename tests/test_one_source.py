"""One source for each fact (issue 15, item 3): enumerations are imported, not copied."""

from __future__ import annotations

import pytest

from wbe import censoring, config, units
from wbe.cli import build_parser
from wbe.config import load_config
from wbe.datasets import load_marker_aliases, resolve_population_marker
from wbe.errors import ConfigError, UnknownNameError
from wbe.lab import _readers
from wbe.models import ALERT_DEFAULT, ALERT_METHODS
from wbe.population import MARKERS


def _config_with_methods(tmp_path, methods):
    path = tmp_path / "wbe.toml"
    listed = ", ".join(f'"{m}"' for m in methods)
    path.write_text(f"[alerts]\nmethods = [{listed}]\n", encoding="utf-8")
    return load_config(path)


def test_censoring_policies_come_from_wbe_censoring():
    assert config.CENSORING_POLICIES == tuple(censoring.CENSORING_TREATMENTS)


@pytest.mark.parametrize("method", sorted(ALERT_METHODS))
def test_every_detector_is_accepted_by_the_config(tmp_path, method):
    assert _config_with_methods(tmp_path, [method]).alert_methods == (method,)


#: the detectors, and "default" (wbe.models.ALERT_DEFAULT, a tuned detector of ALERT_METHODS)
ACCEPTED_METHODS = {"default", *ALERT_METHODS}


def test_the_config_accepts_no_method_that_does_not_exist(tmp_path):
    assert ALERT_DEFAULT["method"] in ALERT_METHODS
    accepted = set(config._ALERT_METHODS)
    assert accepted == ACCEPTED_METHODS  # and vice versa
    assert _config_with_methods(tmp_path, ["default"]).alert_methods == ("default",)
    with pytest.raises(ConfigError, match=r"alerts\.methods"):
        _config_with_methods(tmp_path, ["ears", "no-such-detector"])


def test_cli_alert_choices_are_the_detectors():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    method = next(a for a in sub.choices["alerts"]._actions if a.dest == "method")
    assert set(method.choices) == ACCEPTED_METHODS
    assert method.default == "default"
    censor = next(a for a in sub.choices["estimate"]._actions if a.dest == "censoring")
    assert tuple(censor.choices) == tuple(censoring.CENSORING_TREATMENTS)


def test_lab_canonical_units_are_wbe_units():
    for matrix in _readers.MATRICES:
        assert _readers.CANONICAL_UNIT[matrix] == units.CANONICAL_UNITS[matrix]


def test_marker_aliases_are_registry_data():
    table = load_marker_aliases()
    assert set(table["marker"]) == set(MARKERS)
    assert table["key"].is_unique
    # the spellings that used to be hard-coded in wbe.population
    for name, marker in [("NH4-N", "nh4n"), ("NH₄-N", "nh4n"), ("ammonium", "nh4n"),
                         ("氨氮", "nh4n"), ("CODcr", "cod"), ("化学需氧量", "cod"),
                         ("BOD", "bod5"), ("BOD_5", "bod5"), ("五日生化需氧量", "bod5"),
                         ("Total Nitrogen", "tn"), ("总氮", "tn"),
                         ("total_phosphorus", "tp"), ("总磷", "tp")]:
        assert resolve_population_marker(name) == marker, name
    with pytest.raises(UnknownNameError, match="population marker"):
        resolve_population_marker("caffeine")
