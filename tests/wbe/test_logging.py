"""Progress and diagnostics go to ``logging.getLogger("wbe")``; the CLI shows them on stderr."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest

import wbe
from wbe._log import cli_handler, progress_logger
from wbe.cli import EXIT_OK, main
from wbe.errors import WBEWarning

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "data"


def test_library_installs_only_a_null_handler():
    handlers = logging.getLogger("wbe").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)
    assert not any(type(h) is logging.StreamHandler for h in handlers)
    assert wbe.__name__ == "wbe"


def test_progress_logs_info_or_debug(caplog):
    with caplog.at_level(logging.DEBUG, logger="wbe"):
        progress_logger(quiet=False)("step one")
        progress_logger(quiet=True)("step two")
    got = {(r.name, r.levelno, r.getMessage()) for r in caplog.records}
    assert ("wbe", logging.INFO, "step one") in got
    assert ("wbe", logging.DEBUG, "step two") in got


def test_cli_handler_levels_and_cleanup(capsys):
    log = logging.getLogger("wbe")
    before = list(log.handlers), log.level
    with cli_handler(quiet=False):
        log.info("visible progress")
        log.debug("hidden detail")
    with cli_handler(quiet=True):
        log.info("quiet progress")
        log.warning("quiet warning")
    err = capsys.readouterr().err
    assert "wbe: visible progress" in err
    assert "hidden detail" not in err
    assert "quiet progress" not in err
    assert "wbe: quiet warning" in err
    assert (list(log.handlers), log.level) == before  # nothing left attached


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="examples/data not in this checkout")
@pytest.mark.parametrize("quiet", [False, True])
def test_estimate_progress_on_stderr_unless_quiet(tmp_path, capsys, quiet):
    args = ["estimate", "--samples", str(EXAMPLES / "samples.csv"),
            "--sites", str(EXAMPLES / "sites.csv"), "--flows", str(EXAMPLES / "flows.csv"),
            "--draws", "20", "--out", str(tmp_path)] + (["--quiet"] if quiet else [])
    # the example measures morphine: the default non-abuse treatment warns (issue 12)
    with pytest.warns(WBEWarning, match="morphine"):
        assert main(args) == EXIT_OK
    err = capsys.readouterr().err
    if quiet:
        assert "back-calculating" not in err
    else:
        assert "wbe: back-calculating" in err and "estimates.csv" in err


def test_library_code_does_not_print():
    """No ``print(...)`` to stderr in library modules (the CLI's error messages aside)."""
    offenders = []
    for folder in ("wbe", "lab", "models", "datasets"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "cli.py":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id == "print"):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders
