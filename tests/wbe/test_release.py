"""Release integrity: atomic release folders, masked database secrets, text safe in plots."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from wbe.cli import EXIT_OK, EXIT_UNEXPECTED, main
from wbe.config import Config
from wbe.datasets import simulate
from wbe.errors import ConfigError
from wbe.publish import _release as release
from wbe.publish import run_pipeline
from wbe.publish._pipeline import _manifest_settings, mask_database_url

MONTH = "2024-02"


def _tree(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` by relative path."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".wbe-" in p.name)


@pytest.fixture(scope="module")
def city():
    return simulate(seed=7, n_sites=2, days=60, biomarkers=("methamphetamine",))


def _publish(city, out: Path, draws: int = 20, **kw):
    config = Config(seed=7, draws=draws, created_at="2025-01-01T00:00:00Z")
    return run_pipeline(sites=city.sites, samples=city.samples, flows=city.flows,
                        config=config, out_dir=out, month=MONTH, quiet=True, **kw)


@pytest.fixture
def good_release(city, tmp_path):
    out = tmp_path / "release"
    result = _publish(city, out)
    assert result.out_dir == out and result.files["manifest"] == out / "manifest.json"
    assert all(p.is_file() and p.parent == out for p in result.files.values())
    return out


def _boom(*args, **kwargs):
    raise RuntimeError("injected failure")


@pytest.mark.parametrize("target", ["wbe.publish._pipeline.html_report",
                                    "wbe.models.alerts_to_csv"])
def test_failed_run_leaves_previous_release_byte_identical(city, good_release, monkeypatch,
                                                           target):
    before = _tree(good_release)
    assert "manifest.json" in before and "report.html" in before
    monkeypatch.setattr(target, _boom)
    with pytest.raises(RuntimeError, match="injected") as info:
        _publish(city, good_release, draws=25)  # other draws: other bytes if written
    assert any("previous release" in n and "left intact" in n
               for n in getattr(info.value, "__notes__", []))
    assert _tree(good_release) == before
    assert _leftovers(good_release.parent) == []


def test_successful_run_replaces_the_whole_release(city, good_release):
    before = _tree(good_release)
    (good_release / "stale.csv").write_text("old\n", encoding="utf-8")
    _publish(city, good_release, draws=25)
    after = _tree(good_release)
    assert "stale.csv" not in after  # a release is the folder, not a merge
    assert set(after) == set(before)
    assert after["monthly_estimates.csv"] != before["monthly_estimates.csv"]
    man = json.loads((good_release / "manifest.json").read_text(encoding="utf-8"))
    for entry in man["outputs"].values():  # the manifest matches the files beside it
        assert after[entry["path"]] == entry["sha256"]
    assert _leftovers(good_release.parent) == []


def test_swap_without_renameat2(tmp_path, monkeypatch):
    """The fallback (rename aside, rename in) gives the same result."""
    monkeypatch.setattr(release, "_exchange", lambda a, b: False)
    target = tmp_path / "r"
    target.mkdir()
    (target / "manifest.json").write_text("old", encoding="utf-8")
    with release.staged_release(target) as stage:
        (stage / "manifest.json").write_text("new", encoding="utf-8")
        assert (target / "manifest.json").read_text(encoding="utf-8") == "old"
    assert (target / "manifest.json").read_text(encoding="utf-8") == "new"
    assert _leftovers(tmp_path) == []


def test_refuses_a_folder_that_is_not_a_release(city, tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(ConfigError, match="not empty and holds no wbe release"):
        _publish(city, target)
    assert (target / "notes.txt").read_text(encoding="utf-8") == "keep me"
    assert _leftovers(tmp_path) == []


def _config_file(city, tmp_path: Path, database: Path | None = None) -> Path:
    from wbe.publish._demo import _write_inputs

    inputs = tmp_path / "inputs"
    inputs.mkdir()
    paths = _write_inputs(city, inputs)
    cfg = tmp_path / "wbe.toml"
    cfg.write_text(f"""
[inputs]
sites = "{paths['sites']}"
samples = "{paths['samples']}"
flows = "{paths['flows']}"
[run]
seed = 7
draws = 20
created_at = "2025-01-01T00:00:00Z"
""" + (f'[output]\ndatabase_url = "sqlite:///{database}"\n' if database else ""),
                   encoding="utf-8")
    return cfg


def test_cli_failure_says_previous_release_is_kept(city, tmp_path, monkeypatch, capsys):
    cfg = _config_file(city, tmp_path)
    out = tmp_path / "pub"
    assert main(["publish", "--month", MONTH, "--config", str(cfg), "--out", str(out),
                 "--quiet"]) == EXIT_OK
    before = _tree(out)
    assert "rejects.csv" in before
    monkeypatch.setattr("wbe.publish._pipeline.html_report", _boom)
    assert main(["publish", "--month", MONTH, "--config", str(cfg), "--out", str(out),
                 "--quiet"]) == EXIT_UNEXPECTED
    err = capsys.readouterr().err
    assert f"publication of {MONTH} to {out} failed; the previous release there is unchanged" \
        in err
    assert _tree(out) == before
    assert _leftovers(tmp_path) == []


def test_failed_feed_leaves_release_and_database(city, tmp_path, monkeypatch, capsys):
    """The feed runs before the swap: when it fails, neither the files nor the database
    change."""
    import sqlalchemy as sa

    from wbe.publish.feed import read_month

    db = tmp_path / "feed.sqlite"
    cfg = _config_file(city, tmp_path, database=db)
    out = tmp_path / "pub"
    assert main(["publish", "--month", MONTH, "--config", str(cfg), "--out", str(out),
                 "--quiet"]) == EXIT_OK
    before = _tree(out)
    engine = sa.create_engine(f"sqlite:///{db}")
    rows = read_month(engine, MONTH)
    assert int(rows["wbe_publication"]["revision"].iloc[0]) == 1
    monkeypatch.setattr("wbe.publish.feed._lock", _boom)
    text = cfg.read_text(encoding="utf-8").replace("draws = 20", "draws = 25")
    cfg.write_text(text, encoding="utf-8")
    assert main(["publish", "--month", MONTH, "--config", str(cfg), "--out", str(out),
                 "--quiet"]) == EXIT_UNEXPECTED
    assert "previous release there is unchanged; the database is unchanged" in \
        capsys.readouterr().err
    assert _tree(out) == before
    after = read_month(engine, MONTH)
    assert int(after["wbe_publication"]["revision"].iloc[0]) == 1
    assert after["wbe_history"].empty
    assert _leftovers(tmp_path) == []


def test_killed_publish_leaves_previous_release(city, tmp_path):
    """SIGKILL a ``wbe publish`` subprocess once it has written its first file."""
    cfg = _config_file(city, tmp_path)
    out = tmp_path / "pub"
    assert main(["publish", "--month", MONTH, "--config", str(cfg), "--out", str(out),
                 "--quiet"]) == EXIT_OK
    before = _tree(out)
    proc = subprocess.Popen([sys.executable, "-m", "wbe", "publish", "--month", MONTH,
                             "--config", str(cfg), "--out", str(out), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        staged = []
        while time.monotonic() < deadline and proc.poll() is None:
            staged = [p for p in tmp_path.glob(".pub.wbe-new-*/daily_estimates.csv")]
            if staged:
                break
            time.sleep(0.02)
        if not staged:
            pytest.skip("the subprocess finished before it could be killed mid-run")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert _tree(out) == before  # the old release, whole; the new one only in its temp folder
    left = list(tmp_path.glob(".pub.wbe-new-*"))
    assert [p.name.split("@")[0] for p in left] == [f".pub.wbe-new-{proc.pid}"]
    # a run in progress elsewhere (this process, alive) keeps its folder
    alive = tmp_path / f".pub.wbe-new-{os.getpid()}@{socket.gethostname()}.abcd1234"
    alive.mkdir()
    # the next release of the same target removes the dead run's folder only
    assert main(["publish", "--month", MONTH, "--config", str(cfg), "--out", str(out),
                 "--quiet"]) == EXIT_OK
    assert sorted(tmp_path.glob(".pub.wbe-new-*")) == [alive]


@pytest.mark.parametrize(("url", "secret"), [
    ("postgresql+psycopg://wbe:s3/cr:et@db.example:5432/monitor", "s3/cr:et"),
    ("postgresql+psycopg://wbe:p%2Fw%40d@db.example/monitor", "p%2Fw%40d"),
    ("postgresql+psycopg://wbe@db.example/monitor?password=s3/cret&sslmode=require",
     "s3/cret"),
    ("postgresql+psycopg://wbe@db.example/monitor?sslmode=require&PassWord=s3%2Fcret",
     "s3"),
])
def test_manifest_never_holds_the_database_password(url, secret):
    masked = _manifest_settings(Config(database_url=url))["database_url"]
    assert secret not in masked
    assert "***" in masked
    assert "db.example" in masked


def test_mask_database_url_keeps_what_is_not_secret():
    assert (mask_database_url("postgresql+psycopg://wbe:s3/cret@db:5432/monitor")
            == "postgresql+psycopg://wbe:***@db:5432/monitor")
    assert (mask_database_url("postgresql+psycopg://wbe@db/monitor?password=a/b&sslmode=require")
            == "postgresql+psycopg://wbe@db/monitor?password=***&sslmode=require")
    assert mask_database_url("sqlite:///feed.sqlite") == "sqlite:///feed.sqlite"
    assert mask_database_url("no url at all: pw=secret") == "***"


def test_manifest_file_has_no_password(city, tmp_path):
    url = "postgresql+psycopg://wbe:a/b:c@db.example/monitor?password=q/r&sslmode=require"
    config = Config(seed=7, draws=20, created_at="2025-01-01T00:00:00Z", database_url=url)
    result = run_pipeline(sites=city.sites, samples=city.samples, flows=city.flows,
                          config=config, out_dir=tmp_path / "r", month=MONTH, quiet=True)
    text = result.files["manifest"].read_text(encoding="utf-8")
    for secret in ("a/b:c", "q/r", "q%2Fr", "a%2Fb"):
        assert secret not in text


@pytest.mark.parametrize("name", ["Plant $1", "A$x^$ B", r"\$ $\frac{$", "Plant-2 $$ end"])
def test_report_survives_mathtext_specials_in_names(name, tmp_path):
    """A ``$`` in a site or group name is drawn as text, not parsed as mathtext."""
    from wbe.publish.report import html_report

    dates = pd.date_range("2024-01-01", periods=14)
    daily = pd.DataFrame({"site": name, "drug": "meth$amphetamine",
                          "variable": "consumption_mg_per_day_per_1000", "date": dates,
                          "median": 1.0, "lower_50": 0.9, "upper_50": 1.1,
                          "lower_95": 0.8, "upper_95": 1.2})
    monthly = pd.DataFrame({"level": "city", "variable": "consumption_mg_per_day_per_1000",
                            "drug": "meth$amphetamine", "month": ["2024-01"],
                            "median": [1.0], "lower_95": [0.8], "upper_95": [1.2],
                            "vs_prev_month_ratio_median": [float("nan")],
                            "vs_prev_month_prob_increase": [float("nan")]})
    positivity = pd.DataFrame({"matrix": "hair", "group": [name], "drug": "x$y$z",
                               "tested": pd.array([10], dtype="Int64"),
                               "positive": pd.array([5], dtype="Int64")})
    budget = pd.DataFrame({"biomarker": [name], "component": ["flow $m^3$"], "share": [1.0]})
    path = html_report(tmp_path / "r.html", title=f"report {name}", daily=daily,
                       monthly=monthly, budget=budget, positivity=positivity)
    assert path.stat().st_size > 1000
