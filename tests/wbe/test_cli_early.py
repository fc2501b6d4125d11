"""The CLI fails early and cleanly (issue 16, item 8): month checked before computing,
options named as options, one default number of draws, a runnable example, did-you-mean."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import wbe.backcalc
from wbe.cli import EXIT_INPUT, EXIT_OK, EXIT_USAGE, build_parser, main
from wbe.config import DEFAULT_DRAWS, Config, load_config
from wbe.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _example_config(tmp_path: Path, draws: int = 20) -> Path:
    text = (EXAMPLES / "wbe.toml").read_text(encoding="utf-8")
    text = text.replace('"data/', f'"{(EXAMPLES / "data").as_posix()}/')
    text = text.replace("draws = 500", f"draws = {draws}")
    path = tmp_path / "wbe.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_month_without_data_fails_before_any_computation(tmp_path, capsys, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("back_calculate must not run for a month without data")

    monkeypatch.setattr(wbe.backcalc, "back_calculate", refuse)
    out = tmp_path / "release"
    code = main(["publish", "--month", "2025-03", "--config", str(_example_config(tmp_path)),
                 "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == EXIT_INPUT
    assert "2025-03" in err and "2024-01" in err and "2024-02" in err  # the months present
    assert not out.exists()


def test_bad_month_is_named_as_an_option(tmp_path, capsys):
    code = main(["publish", "--month", "2024-13", "--config", str(_example_config(tmp_path)),
                 "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert "option --month" in err
    assert "column" not in err


def test_config_key_is_named_as_a_key(tmp_path):
    path = tmp_path / "wbe.toml"
    path.write_text("[run]\ndraws = 5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"key run\.draws") as info:
        load_config(path)
    assert "column" not in str(info.value)


def test_one_default_number_of_draws():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices
    defaults = {name: sub[name].get_default("draws") for name in ("demo", "estimate")}
    assert defaults == {"demo": DEFAULT_DRAWS, "estimate": DEFAULT_DRAWS}
    assert Config().draws == DEFAULT_DRAWS
    import inspect

    from wbe.publish import run_demo

    assert inspect.signature(run_demo).parameters["n_draws"].default == DEFAULT_DRAWS
    assert "| 500 | Monte Carlo draws" in (ROOT / "docs" / "cli.md").read_text(
        encoding="utf-8") and DEFAULT_DRAWS == 500


def test_estimate_help_has_no_doubled_percent(capsys):
    assert main(["estimate", "--help"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "%%" not in out and "95 % intervals" in " ".join(out.split())


def test_misspelled_column_did_you_mean(tmp_path, capsys):
    samples = pd.read_csv(EXAMPLES / "data" / "samples.csv", dtype=str, keep_default_na=False)
    bad = tmp_path / "samples.csv"
    samples.rename(columns={"biomarker": "biomakrer"}).to_csv(bad, index=False)
    code = main(["estimate", "--samples", str(bad), "--sites",
                 str(EXAMPLES / "data" / "sites.csv"), "--flows",
                 str(EXAMPLES / "data" / "flows.csv"), "--out", str(tmp_path / "o"),
                 "--quiet"])
    err = capsys.readouterr().err
    assert code == EXIT_INPUT
    assert "Did you mean 'biomakrer' for 'biomarker'?" in err


def test_example_runs_as_written(tmp_path):
    """The commands of examples/data/README.md, from the repository root, as written."""
    exe = shutil.which("wbe", path=str(Path(sys.executable).parent)) or shutil.which("wbe")
    if exe is None:
        pytest.skip("the wbe console script is not installed (pip install -e .)")
    readme = (EXAMPLES / "data" / "README.md").read_text(encoding="utf-8")
    assert "wbe publish --month 2024-02 --config examples/wbe.toml --out release" in readme
    env = {**os.environ, "PYTHONWARNINGS": "error::UserWarning"}
    out = tmp_path / "release"
    proc = subprocess.run([exe, "publish", "--month", "2024-02", "--config",
                           "examples/wbe.toml", "--out", str(out), "--quiet"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, check=False, env=env)
    assert proc.returncode == 0, proc.stderr
    monthly = pd.read_csv(out / "monthly_estimates.csv")
    assert set(monthly["month"]) == {"2024-02"}
    assert {"WWTP01", "WWTP02", "city"} <= set(monthly["area"])
    assert (out / "report.html").stat().st_size > 10_000
