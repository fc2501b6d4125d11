"""The ``wbe`` command line: demo (in-process and console script), help, config, exit codes."""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import wbe.backcalc
from wbe.cli import EXIT_INPUT, EXIT_OK, EXIT_USAGE, main
from wbe.config import load_config
from wbe.errors import ConfigError, InputError

DEMO_FILES = ("report.html", "monthly_estimates.csv", "monthly_estimates.parquet",
              "daily_estimates.csv", "uncertainty_budget.csv", "lab_positivity.csv",
              "lab_rejects.csv", "alerts.json", "alerts.csv", "monthly_draws.nc",
              "manifest.json", "inputs/sites.csv", "inputs/samples.csv", "inputs/flows.csv",
              "inputs/truth_daily.csv")
TABLES = ("monthly_estimates.csv", "daily_estimates.csv", "lab_positivity.csv", "alerts.csv",
          "uncertainty_budget.csv")
DRAWS = 60

#: A lab key made with secrets.token_hex(32) for these tests (public, so not a secret).
TEST_KEY = "4d4ba00b6b8e243b65372d354191cc5c8d09f829dc375036d751b27c5ddafd5d"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "wbe-demo"
    assert main(["demo", "--out", str(out), "--seed", "3", "--draws", str(DRAWS),
                 "--quiet"]) == EXIT_OK
    return out


def _console_script() -> str:
    exe = Path(sys.executable).with_name("wbe")
    if not exe.exists():
        found = shutil.which("wbe")
        if found is None:
            pytest.skip("the wbe console script is not installed (pip install -e .)")
        return found
    return str(exe)


def test_demo_writes_every_output(demo_dir):
    for name in DEMO_FILES:
        assert (demo_dir / name).is_file(), name
        assert (demo_dir / name).stat().st_size > 0, name


def test_demo_monthly_table_content(demo_dir):
    t = pd.read_csv(demo_dir / "monthly_estimates.csv")
    assert set(t["schema_version"].astype(str)) == {"1.0"}
    city = t[(t["level"] == "city") & (t["variable"] == "consumption_mg_per_day_per_1000")]
    # 12 months x 4 biomarkers for the city
    assert len(city) == 48
    assert (city["lower_95"] <= city["lower_50"]).all()
    assert (city["lower_50"] <= city["median"]).all()
    assert (city["median"] <= city["upper_50"]).all()
    assert (city["upper_50"] <= city["upper_95"]).all()
    # the first month has no previous month; later ones do, with a probability in [0, 1]
    first = city[city["month"] == "2024-01"]
    assert first["vs_prev_month_prob_increase"].isna().all()
    later = city[city["month"] > "2024-01"]["vs_prev_month_prob_increase"]
    assert later.notna().all() and later.between(0, 1).all()
    # the city population is the sum of the plants'
    sites = pd.read_csv(demo_dir / "inputs" / "sites.csv")
    assert np.allclose(city["population"], sites["population"].sum(), rtol=1e-12)
    # every sampled day of a month is counted: 4 plants x days of the month (daily sampling)
    jan = city[city["month"] == "2024-01"]
    assert (jan["samples"] == 4 * 31).all()


def test_demo_estimates_cover_truth(demo_dir):
    """City monthly 95 % intervals against the simulated truth (a loose sanity check).

    The truth is the monthly mean of the simulated daily consumption per 1000 (true
    population), weighted by the reported population as the city aggregate is.
    """
    truth = pd.read_csv(demo_dir / "inputs" / "truth_daily.csv", parse_dates=["date"])
    sites = pd.read_csv(demo_dir / "inputs" / "sites.csv")
    truth = truth.merge(sites[["site", "population"]], on="site")
    truth["load"] = truth["consumption_mg_per_day_per_1000"] * truth["population"]
    truth["month"] = truth["date"].dt.strftime("%Y-%m")
    g = truth.groupby(["month", "biomarker"])
    true_city = (g["load"].sum() / g["population"].sum()).rename("truth").reset_index()
    t = pd.read_csv(demo_dir / "monthly_estimates.csv")
    city = t[(t["level"] == "city") & (t["variable"] == "consumption_mg_per_day_per_1000")]
    m = city.merge(true_city, on=["month", "biomarker"])
    assert len(m) == 48
    inside = (m["lower_95"] <= m["truth"]) & (m["truth"] <= m["upper_95"])
    # shared parameters make the 48 intervals strongly dependent; require most to cover
    assert inside.mean() >= 0.75
    # the simulator uses the nominal parameters, so the medians sit close to the truth
    # (seed 1, 300 draws: truth/median between 0.88 and 1.11)
    assert (m["truth"] / m["median"]).between(0.8, 1.25).all()


def test_demo_netcdf_has_cf_attributes(demo_dir):
    with xr.open_dataset(demo_dir / "monthly_draws.nc", engine="h5netcdf") as ds:
        assert ds.attrs["Conventions"].startswith("CF-")
        assert ds.sizes["draw"] == DRAWS
        assert "city" in ds["area"].values
        assert ds["consumption_mg_per_day_per_1000"].attrs["units"] == "mg/day/1000 inhabitants"
        # the table's city median is the median of the stored draws (float32 storage)
        t = pd.read_csv(demo_dir / "monthly_estimates.csv")
        row = t[(t["level"] == "city") & (t["month"] == "2024-06")
                & (t["biomarker"] == "methamphetamine")
                & (t["variable"] == "consumption_mg_per_day_per_1000")].iloc[0]
        draws = ds["consumption_mg_per_day_per_1000"].sel(
            area="city", time="2024-06-01", biomarker="methamphetamine").values
        assert np.median(draws) == pytest.approx(row["median"], rel=1e-6)


def test_demo_manifest_reproduces(demo_dir):
    man = json.loads((demo_dir / "manifest.json").read_text(encoding="utf-8"))
    assert man["seed"] == 3
    assert man["config"]["draws"] == DRAWS
    assert man["parameter_set"] == "default"
    for key, entry in man["outputs"].items():
        assert _sha(demo_dir / entry["path"]) == entry["sha256"], key
    for key, entry in man["inputs"].items():
        assert _sha(demo_dir / "inputs" / entry["path"]) == entry["sha256"], key
    assert any("PUBLIC demo key" in n for n in man["notes"])


def test_demo_no_raw_identifier_in_outputs(demo_dir):
    """Fake ID-card numbers of the simulator never reach an output."""
    from wbe.datasets import simulate

    ids = simulate(seed=3, n_sites=1, days=30, biomarkers=("methamphetamine",))
    sample = set(ids.lab_results["subject_id"].dropna().astype(str).head(50))
    text = "".join((demo_dir / f).read_text(encoding="utf-8") for f in
                   ("lab_positivity.csv", "lab_rejects.csv", "manifest.json", "report.html"))
    assert not any(s in text for s in sample)


def test_report_is_offline(demo_dir):
    html = (demo_dir / "report.html").read_text(encoding="utf-8")
    assert html.count("<svg") >= 5  # figures inline, text as text (issue 16)
    assert "http://" not in html and "https://" not in html and "<script" not in html


def test_console_script_demo_is_byte_identical(demo_dir, tmp_path):
    """Same seed and draws through the installed console script: identical tables (issue 6.4)."""
    out = tmp_path / "again"
    proc = subprocess.run([_console_script(), "demo", "--out", str(out), "--seed", "3",
                           "--draws", str(DRAWS)], capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert str(out) in proc.stdout  # says where to look
    assert "wbe:" in proc.stderr  # progress lines
    for name in TABLES:
        assert _sha(out / name) == _sha(demo_dir / name), name


@pytest.mark.parametrize("command", [[], ["demo"], ["estimate"], ["lab"], ["alerts"],
                                     ["publish"]])
def test_help_of_every_subcommand(command, capsys):
    assert main([*command, "--help"]) == EXIT_OK
    text = capsys.readouterr().out
    assert "usage: wbe" in text
    assert "exit codes" in text
    if command:
        assert "--out" in text and "--quiet" in text


def test_python_dash_m_help():
    proc = subprocess.run([sys.executable, "-m", "wbe", "--help"], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0
    assert "demo" in proc.stdout and "publish" in proc.stdout


def test_usage_error_exit_code(capsys):
    assert main(["demo", "--no-such-option"]) == EXIT_USAGE
    assert main(["frobnicate"]) == EXIT_USAGE
    assert main(["demo", "--draws", "3", "--out", "x"]) == EXIT_USAGE
    assert "--draws" in capsys.readouterr().err


def test_estimate_and_input_error(demo_dir, tmp_path, capsys):
    inp = demo_dir / "inputs"
    out = tmp_path / "est"
    assert main(["estimate", "--samples", str(inp / "samples.csv"), "--sites",
                 str(inp / "sites.csv"), "--flows", str(inp / "flows.csv"), "--draws", "20",
                 "--out", str(out), "--quiet"]) == EXIT_OK
    est = pd.read_csv(out / "estimates.csv")
    assert {"median", "lower_95", "upper_95"} <= set(est.columns)
    assert len(pd.read_csv(out / "rejects.csv")) == 0
    capsys.readouterr()
    bad = tmp_path / "sites.csv"
    bad.write_text("site,served\nWWTP01,1000\n", encoding="utf-8")
    code = main(["estimate", "--samples", str(inp / "samples.csv"), "--sites", str(bad),
                 "--out", str(tmp_path / "x"), "--quiet"])
    assert code == EXIT_INPUT
    err = capsys.readouterr().err
    assert "sites.csv" in err and "population" in err


def test_failed_estimate_writes_nothing_and_keeps_earlier_outputs(demo_dir, tmp_path,
                                                                    monkeypatch, capsys):
    inp = demo_dir / "inputs"
    out = tmp_path / "est"
    out.mkdir()
    (out / "estimates.csv").write_text("earlier run\n", encoding="utf-8")
    (out / "notes.txt").write_text("the analyst's own file\n", encoding="utf-8")

    def fail(*args, **kwargs):
        raise InputError("simulated failure after the inputs were read")

    monkeypatch.setattr(wbe.backcalc, "uncertainty_budget", fail)  # after estimates exist
    code = main(["estimate", "--samples", str(inp / "samples.csv"), "--sites",
                 str(inp / "sites.csv"), "--flows", str(inp / "flows.csv"), "--draws", "20",
                 "--out", str(out), "--quiet"])
    assert code == EXIT_INPUT
    assert "no output written" in capsys.readouterr().err
    # the earlier estimates and the user's file are untouched; no rejects.csv, no stage folder
    assert sorted(p.name for p in out.iterdir()) == ["estimates.csv", "notes.txt"]
    assert (out / "estimates.csv").read_text(encoding="utf-8") == "earlier run\n"


def test_alerts_command(tmp_path):
    series = tmp_path / "series.csv"
    v = [10, 12, 11, 9, 10, 13, 11, 30, 31, 11]
    pd.DataFrame({"site": "WWTP01", "biomarker": "methamphetamine",
                  "date": pd.date_range("2024-05-01", periods=10).strftime("%Y-%m-%d"),
                  "value": v}).to_csv(series, index=False)
    out = tmp_path / "a"
    assert main(["alerts", str(series), "--out", str(out), "--method", "ears", "--created-at",
                 "2024-06-01T00:00:00Z", "--quiet"]) == EXIT_OK
    rec = json.loads((out / "alerts.json").read_text(encoding="utf-8"))
    # EARS C1 flags 2024-05-08 (30 vs 7-day baseline mean 10.9, sd 1.35), resolves the next day
    assert [(r["date"], r["status"]) for r in rec] == [("2024-05-08", "new"),
                                                        ("2024-05-09", "resolved")]


def test_lab_command_needs_key(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("WBE_TEST_NO_SUCH_KEY", raising=False)
    f = tmp_path / "lab.csv"
    f.write_text("sample_id,analyte,value,subject_id\nS1,methamphetamine,1,X\n",
                 encoding="utf-8")
    code = main(["lab", str(f), "--key-env", "WBE_TEST_NO_SUCH_KEY", "--out",
                 str(tmp_path / "o"), "--quiet"])
    assert code == EXIT_USAGE
    assert "WBE_TEST_NO_SUCH_KEY" in capsys.readouterr().err


# --- configuration -------------------------------------------------------------------

def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "wbe.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_example_config_is_valid():
    root = Path(__file__).resolve().parents[2]
    cfg = load_config(root / "examples" / "wbe.toml")
    assert cfg.draws >= 10
    assert cfg.sites is not None and cfg.sites.name == "sites.csv"


@pytest.mark.parametrize(("text", "key"), [
    ("[run]\ndraws = 'many'\n", "run.draws"),
    ("[run]\ndraws = 5\n", "run.draws"),
    ("[run]\nsede = 1\n", "run.sede"),
    ("[run]\ncensoring = 'half'\n", "run.censoring"),
    ("[alerts]\nmethods = ['earz']\n", "alerts.methods"),
    ("[lab]\ncutoff_sets = { blood = 'x' }\n", "lab.cutoff_sets"),
    ("[outputs]\nx = 1\n", "outputs"),
    ("[run]\nseed = true\n", "run.seed"),
])
def test_config_errors_name_key_and_file(tmp_path, text, key):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert key in str(info.value)
    assert str(path) in str(info.value)


def test_config_not_toml_and_missing(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(_write(tmp_path, "[run\n"))
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path)  # a folder
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes("[run]\nparameter_set = 'caf\u00e9'\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(latin1)


def test_publish_bad_config_exit_code(tmp_path, capsys):
    path = _write(tmp_path, "[run]\ndraws = 5\n")
    assert main(["publish", "--month", "2024-03", "--config", str(path), "--out",
                 str(tmp_path / "o")]) == EXIT_USAGE
    assert "run.draws" in capsys.readouterr().err
    assert main(["publish", "--month", "March", "--config", str(path), "--out",
                 str(tmp_path / "o")]) == EXIT_USAGE


def test_publish_month_from_config(demo_dir, tmp_path):
    inp = demo_dir / "inputs"
    cfg = _write(tmp_path, f"""
[inputs]
sites = "{inp / 'sites.csv'}"
samples = "{inp / 'samples.csv'}"
flows = "{inp / 'flows.csv'}"
[run]
seed = 3
draws = {DRAWS}
created_at = "2025-01-01T00:00:00Z"
parameter_set = "default"
""")
    out = tmp_path / "pub"
    assert main(["publish", "--month", "2024-03", "--config", str(cfg), "--out", str(out),
                 "--quiet"]) == EXIT_OK
    t = pd.read_csv(out / "monthly_estimates.csv")
    assert set(t["month"]) == {"2024-03"}
    # later data are ignored and earlier months only feed the change columns, so March
    # is the same as in the full-year demo run with the same seed and draws
    demo = pd.read_csv(demo_dir / "monthly_estimates.csv")
    demo = demo[demo["month"] == "2024-03"].reset_index(drop=True)
    # except where values below the LOQ are drawn: the censored log-normal is fitted on each
    # site's own series, and that series ends in March here (later data are not used)
    exact = (demo["days_below_loq"] == 0).to_numpy()
    assert exact.sum() >= len(demo) // 2
    pd.testing.assert_frame_equal(t[exact].reset_index(drop=True),
                                  demo[exact].reset_index(drop=True),
                                  check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(t[["biomarker", "variable", "samples"]],
                                  demo[["biomarker", "variable", "samples"]])
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert man["month"] == "2024-03"
    assert set(man["inputs"]) == {"sites", "samples", "flows"}
    later = int((pd.to_datetime(pd.read_csv(inp / "samples.csv")["sampled_on"])
                 > "2024-03-31").sum())
    assert later > 0
    assert f"{later} sample rows dated after 2024-03 are not used" in man["notes"]
    alerts = json.loads((out / "alerts.json").read_text(encoding="utf-8"))
    assert all(a["date"].startswith("2024-03") for a in alerts)
    assert not (out / "lab_positivity.csv").exists()


@pytest.fixture(scope="module")
def hair_csv(tmp_path_factory) -> Path:
    """Simulated raw hair results of Jan-Feb 2024 (fake ID-card numbers) as a CSV file."""
    from wbe.datasets import simulate

    raw = simulate(seed=3, n_sites=1, days=60, biomarkers=("methamphetamine",)).lab_results
    when = pd.to_datetime(raw["collected_on"])
    keep = (raw["matrix"] == "hair") & (when >= "2024-01-01") & (when < "2024-03-01")
    path = tmp_path_factory.mktemp("lab") / "hair.csv"
    raw[keep].drop(columns=["source_row"]).to_csv(path, index=False)
    return path


def test_lab_command(hair_csv, tmp_path, monkeypatch):
    monkeypatch.setenv("WBE_TEST_KEY", TEST_KEY)
    out = tmp_path / "lab"
    assert main(["lab", str(hair_csv), "--key-env", "WBE_TEST_KEY", "--out", str(out),
                 "--threshold", "5", "--quiet"]) == EXIT_OK
    pos = pd.read_csv(out / "lab_positivity.csv")
    assert set(pos["matrix"]) == {"hair"}
    assert set(pos["month"]) == {"2024-01", "2024-02"}
    assert not pos["positive"].dropna().between(1, 4).any()
    ids = set(pd.read_csv(hair_csv, dtype=str)["subject_id"].dropna())
    text = (out / "lab_positivity.csv").read_text() + (out / "lab_rejects.csv").read_text()
    assert not any(i in text for i in ids)


def test_publish_with_lab_and_feed(demo_dir, hair_csv, tmp_path, monkeypatch, capsys):
    """Publish twice identically (one revision), then with other draws: revision 2."""
    sa = pytest.importorskip("sqlalchemy")
    from wbe.publish.feed import read_month

    monkeypatch.setenv("WBE_TEST_KEY", TEST_KEY)
    inp = demo_dir / "inputs"
    db = tmp_path / "feed.sqlite"
    text = f"""
[inputs]
sites = "{inp / 'sites.csv'}"
samples = "{inp / 'samples.csv'}"
flows = "{inp / 'flows.csv'}"
lab = ["{hair_csv}"]
lab_key_env = "WBE_TEST_KEY"
[run]
seed = 3
draws = DRAWS
[output]
database_url = "sqlite:///{db}"
"""
    out = tmp_path / "pub"
    for _ in range(2):
        assert main(["publish", "--month", "2024-02", "--config",
                     str(_write(tmp_path, text.replace("DRAWS", "10"))), "--out",
                     str(out)]) == EXIT_OK
    assert "unchanged at revision 1 (identical manifest" in capsys.readouterr().err
    engine = sa.create_engine(f"sqlite:///{db}")
    rows = read_month(engine, "2024-02")
    assert int(rows["wbe_publication"]["revision"].iloc[0]) == 1
    assert len(rows["wbe_history"]) == 0
    assert main(["publish", "--month", "2024-02", "--config",
                 str(_write(tmp_path, text.replace("DRAWS", "12"))), "--out", str(out),
                 "--quiet"]) == EXIT_OK
    rows = read_month(engine, "2024-02")
    table = pd.read_csv(out / "monthly_estimates.csv")
    pos = pd.read_csv(out / "lab_positivity.csv")
    assert len(rows["wbe_estimates"]) == len(table)
    assert len(rows["wbe_positivity"]) == len(pos)
    assert int(rows["wbe_publication"]["revision"].iloc[0]) == 2
    # revision 1 had the same cells (same inputs, other draws), now in the history
    hist = rows["wbe_history"]
    assert set(hist["revision"]) == {1} and set(hist["superseded_by"]) == {2}
    assert (hist["table_name"] == "wbe_estimates").sum() == len(table)
    assert (hist["table_name"] == "wbe_positivity").sum() == len(pos)
    assert set(pos["month"]) == {"2024-02"}
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "lab_0" in man["inputs"]
    assert (out / "rejects.csv").is_file()
    assert not [p.name for p in tmp_path.iterdir() if ".wbe-" in p.name]  # no temp folder


def test_publish_suppresses_cells_revealed_by_a_later_revision(demo_dir, hair_csv, tmp_path,
                                                               monkeypatch):
    """Revision 1 without two February hair samples of the drivers, revision 2 with them:
    every drivers cell grew by 2 tested, which subtraction would reveal, so revision 2
    publishes those cells suppressed (files and database alike); other cells unchanged."""
    sa = pytest.importorskip("sqlalchemy")
    from wbe.publish.feed import published_positivity, read_month

    monkeypatch.setenv("WBE_TEST_KEY", secrets.token_hex(32))
    raw = pd.read_csv(hair_csv, dtype=str)
    late = raw[(raw["group"] == "drivers") & (raw["sample_type"] == "unknown")
               & raw["collected_on"].str.startswith("2024-02")]["sample_id"].unique()[-2:]
    early_csv = tmp_path / "hair_early.csv"
    raw[~raw["sample_id"].isin(late)].to_csv(early_csv, index=False)
    inp = demo_dir / "inputs"
    db = tmp_path / "feed.sqlite"
    text = f"""
[inputs]
sites = "{inp / 'sites.csv'}"
samples = "{inp / 'samples.csv'}"
flows = "{inp / 'flows.csv'}"
lab = ["LAB"]
lab_key_env = "WBE_TEST_KEY"
[run]
seed = 3
draws = 10
[output]
database_url = "sqlite:///{db}"
"""
    out = tmp_path / "pub"
    for lab in (early_csv, hair_csv):
        cfg = _write(tmp_path, text.replace("LAB", str(lab)))
        assert main(["publish", "--month", "2024-02", "--config", str(cfg), "--out", str(out),
                     "--quiet"]) == EXIT_OK
    key = ["matrix", "group", "drug"]
    first = published_positivity(sa.create_engine(f"sqlite:///{db}"), "2024-02")
    first = first[first["revision"] == 1].set_index(key).sort_index()
    pos = pd.read_csv(out / "lab_positivity.csv").set_index(key).sort_index()
    drivers = pos.xs("drivers", level="group")
    before = first.xs("drivers", level="group")
    grown = before["tested"].notna()  # published in revision 1, 2 samples more now
    assert grown.any()
    assert drivers.loc[grown, "tested"].isna().all()
    assert drivers.loc[grown, "positive"].isna().all()
    assert drivers.loc[grown, "suppressed"].str.startswith("tested,positive,inconclusive").all()
    others = pos.drop(index="drivers", level="group")
    np.testing.assert_array_equal(
        others["tested"].to_numpy(float),
        first.drop(index="drivers", level="group")["tested"].to_numpy(float))
    db_rows = read_month(sa.create_engine(f"sqlite:///{db}"), "2024-02")["wbe_positivity"]
    assert int(db_rows["revision"].iloc[0]) == 2
    assert db_rows.loc[db_rows["group"] == "drivers", "tested"].isna().all()
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert any("change since an earlier revision" in n for n in man["notes"])
