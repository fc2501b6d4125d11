"""Publication outputs: changes from the draws, suppression, schemas, report in Chromium."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from wbe.config import Config
from wbe.datasets import simulate
from wbe.lab.privacy import allow_demo_key
from wbe.publish import (
    DEMO_KEY,
    ESTIMATES_SCHEMA_VERSION,
    POSITIVITY_SCHEMA_VERSION,
    run_pipeline,
)

THRESHOLD = 5


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """2 plants x 120 days, hair tests, 80 draws, every month published."""
    from wbe.lab import read_lab_results

    city = simulate(seed=11, n_sites=2, days=120, biomarkers=("methamphetamine", "ketamine"))
    raw = city.lab_results
    when = pd.to_datetime(raw["collected_on"])
    keep = (raw["matrix"] == "hair") & (when >= "2024-01-01") & (when < "2024-05-01")
    with allow_demo_key():  # simulated people only
        lab = read_lab_results(raw[keep], key=DEMO_KEY)
    config = Config(seed=11, draws=80, created_at="2025-01-01T00:00:00Z",
                    suppression_threshold=THRESHOLD)
    return run_pipeline(sites=city.sites, samples=city.samples, flows=city.flows,
                        config=config, out_dir=tmp_path_factory.mktemp("pub"), lab=lab.data,
                        lab_rejects=lab.rejects, quiet=True)


def test_change_against_previous_month_is_the_ratio_of_draws(run):
    """The table's ratio and P(increase) recomputed from the NetCDF draws."""
    t = run.monthly
    row = t[(t["level"] == "site") & (t["area"] == "WWTP01") & (t["month"] == "2024-03")
            & (t["biomarker"] == "methamphetamine")
            & (t["variable"] == "consumption_mg_per_day_per_1000")].iloc[0]
    with xr.open_dataset(run.files["draws_netcdf"], engine="h5netcdf") as ds:
        x = ds["consumption_mg_per_day_per_1000"].sel(area="WWTP01", biomarker="methamphetamine")
        ratio = (x.sel(time="2024-03-01") / x.sel(time="2024-02-01")).values.astype(float)
    # float32 storage: 7 significant digits
    assert np.median(ratio) == pytest.approx(row["vs_prev_month_ratio_median"], rel=1e-5)
    assert np.quantile(ratio, 0.975) == pytest.approx(row["vs_prev_month_ratio_upper_95"],
                                                      rel=1e-5)
    assert np.mean(ratio > 1) == pytest.approx(row["vs_prev_month_prob_increase"], abs=1 / 80)
    # no previous year in a four-month series
    assert t["vs_prev_year_ratio_median"].isna().all()


def test_shared_parameters_cancel_in_the_ratio(run):
    """The month-to-month ratio is much narrower than either month's interval."""
    t = run.monthly
    c = t[(t["level"] == "city") & (t["variable"] == "consumption_mg_per_day_per_1000")
          & (t["month"] == "2024-03")]
    width_level = np.log(c["upper_95"] / c["lower_95"])
    width_ratio = np.log(c["vs_prev_month_ratio_upper_95"] / c["vs_prev_month_ratio_lower_95"])
    assert (width_ratio < 0.5 * width_level).all()


def test_schema_columns(run):
    assert set(run.monthly["schema_version"]) == {ESTIMATES_SCHEMA_VERSION}
    assert set(run.positivity["schema_version"]) == {POSITIVITY_SCHEMA_VERSION}
    parquet = pd.read_parquet(run.files["monthly_estimates_parquet"])
    csv = pd.read_csv(run.files["monthly_estimates_csv"], dtype={"schema_version": str})
    assert list(parquet.columns) == list(csv.columns) == list(run.monthly.columns)
    assert len(parquet) == len(csv) == len(run.monthly)


def test_small_cells_suppressed(run):
    pos = pd.read_csv(run.files["lab_positivity"])
    for col in ("tested", "positive", "inconclusive"):
        published = pos[col].dropna()
        assert not published.between(1, THRESHOLD - 1).any(), col
    suppressed = pos["positive"].isna()
    assert suppressed.any()
    assert pos.loc[suppressed, "positivity"].isna().all()
    assert pos.loc[suppressed, "lower_95"].isna().all()


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


_PROBE = ("<script>window.addEventListener('load', () => {const bad = [...document.images]"
          ".filter(i => !(i.complete && i.naturalWidth > 0)).length;"
          "document.body.setAttribute('data-images', String(document.images.length));"
          "document.body.setAttribute('data-broken-images', String(bad));});</script>")


def _load(page: Path, tmp_path: Path) -> tuple[str, list[str]]:
    """Load a page in headless Chromium; return the DOM after load and console lines."""
    exe = _chromium()
    if exe is None:
        pytest.skip("chromium not installed; run .ci/system-packages (apt-get install chromium)")
    proc = subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         f"--user-data-dir={tmp_path / 'chrome-profile'}", "--enable-logging=stderr", "--v=0",
         "--dump-dom", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [ln for ln in proc.stderr.splitlines()
               if ":CONSOLE" in ln or "Uncaught" in ln or "Failed to load resource" in ln]
    return proc.stdout, console


def _with_probe(page: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "probe.html"
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>"),
                    encoding="utf-8")
    return copy


def test_chromium_harness_detects_errors(tmp_path):
    """The check below can fail: a page with a script error and a broken image is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><img src='data:image/png;base64,AAAA'>"
                   "<script>undefinedFunction();</script></body></html>", encoding="utf-8")
    dom, console = _load(_with_probe(bad, tmp_path), tmp_path)
    assert any("undefinedFunction" in ln for ln in console)
    assert 'data-broken-images="1"' in dom


def test_report_loads_in_headless_chromium(run, tmp_path):
    dom, console = _load(_with_probe(run.files["report"], tmp_path), tmp_path)
    assert console == []
    assert 'data-broken-images="0"' in dom
    assert dom.count("<svg") >= 6  # series x2 drugs, weekday x2, city, positivity, budget
    assert "Uncertainty budget" in dom and "Lab positivity" in dom
    assert dom.index("id=\"headline\"") < dom.index("<svg")  # the headline page first


def test_system_packages_script_is_executable():
    script = Path(__file__).resolve().parents[2] / ".ci" / "system-packages"
    assert script.is_file()
    assert script.stat().st_mode & 0o111


def test_trend_classes(run):
    from wbe.models.trends import TREND_CLASSES

    t = run.monthly
    assert set(t["trend_class"]) <= {*TREND_CLASSES, "insufficient data"}
    # fewer than three months of medians: no class
    assert (t.loc[t["month"] <= "2024-02", "trend_class"] == "insufficient data").all()
    assert (t.loc[(t["month"] == "2024-04") & t["median"].notna(), "trend_class"]
            != "insufficient data").all()


def test_weekday_profile_labels_the_days_sampled():
    """Sampled on Mondays and Wednesdays only: the labels are Mon and Wed, not Mon and Tue."""
    from wbe.publish.report import _weekday_profile

    daily = pd.DataFrame({"site": "A", "drug": "x",
                          "variable": "consumption_mg_per_day_per_1000",
                          "date": pd.to_datetime(["2024-01-01", "2024-01-03",
                                                  "2024-01-08", "2024-01-10"]),
                          "median": [1.0, 3.0, 1.0, 3.0]})
    prof = _weekday_profile(daily, "x")
    assert list(prof.index) == ["Mon", "Wed"]
    assert prof["A"].tolist() == pytest.approx([0.5, 1.5], rel=1e-12)  # 1/2 and 3/2


def test_report_positivity_uses_cells_with_both_counts():
    """A cell with ``positive`` suppressed but ``tested`` shown is left out of the share."""
    from wbe.publish.report import _positivity

    pos = pd.DataFrame({"matrix": "hair", "group": "g", "drug": "x",
                        "tested": pd.array([10, 10], dtype="Int64"),
                        "positive": pd.array([6, pd.NA], dtype="Int64")})
    fig = _positivity(pos)
    assert fig.axes[0].patches[0].get_width() == pytest.approx(6 / 10, rel=1e-12)


def test_manifest_masks_the_database_password():
    from wbe.publish._pipeline import _manifest_settings

    url = "postgresql+psycopg://wbe:s3cret@db.example:5432/monitor"
    masked = _manifest_settings(Config(database_url=url))["database_url"]
    assert masked == "postgresql+psycopg://wbe:***@db.example:5432/monitor"
    assert _manifest_settings(Config())["database_url"] is None


def _summary(cells: dict[str, tuple[int, int, int]]) -> pd.DataFrame:
    """Classification summary with (positive, negative, inconclusive) persons per group."""
    rows = []
    for group, counts in cells.items():
        for cls, n in zip(("positive", "negative", "inconclusive"), counts, strict=True):
            rows += [{"group": group, "month": "2024-03", "drug": "methamphetamine",
                      "subject_key": f"sk_{group}_{cls}_{i}", "sample_id": f"{group}{cls}{i}",
                      "classification": cls, "sample_type": "unknown"} for i in range(n)]
    return pd.DataFrame(rows)


def test_positivity_suppresses_the_complement_of_the_positives():
    from wbe.publish.tables import lab_positivity_table

    cells = {"six_of_seven": (6, 1, 0), "five_of_five": (5, 0, 0), "forty_of_forty": (40, 0, 0),
             "ten_of_twenty": (10, 10, 0), "zero_of_eight": (0, 8, 0),
             "seven_of_nine": (7, 2, 3)}
    table = lab_positivity_table(_summary(cells), threshold=THRESHOLD).set_index("group")
    for group in ("six_of_seven", "five_of_five", "forty_of_forty", "seven_of_nine"):
        row = table.loc[group]
        assert pd.isna(row["positive"]) and np.isnan(row["positivity"]), group
        assert np.isnan(row["lower_95"]) and np.isnan(row["upper_95"]), group
        # whatever stays visible does not give the negatives back
        if not pd.isna(row["tested"]):
            assert pd.isna(row["positive"])
    for group in ("ten_of_twenty", "zero_of_eight"):
        row = table.loc[group]
        assert row["positive"] == cells[group][0] and row["tested"] == sum(cells[group][:2])
        assert row["suppressed"] == ""
    assert "negative" not in table.columns
    # no visible (tested, positive) pair implies negatives in 0..threshold-1 with positives
    vis = table.dropna(subset=["tested", "positive"])
    neg = vis["tested"] - vis["positive"]
    assert not ((neg < THRESHOLD) & (vis["positive"] > 0)).any()


def test_prevalence_flags_a_small_complement():
    from wbe.lab import positivity

    pos = positivity(_summary({"a": (6, 1, 0), "b": (5, 0, 0), "c": (10, 10, 0)}),
                     by=("group",), min_cell=THRESHOLD).set_index("group")
    assert pos["small_cell"].to_dict() == {"a": True, "b": True, "c": False}


@pytest.mark.parametrize("label", ["张三", "110105194912310021", "欧阳娜娜"])
def test_positivity_refuses_a_group_label_like_a_name_or_id_without_echoing_it(label):
    from wbe.errors import InputError
    from wbe.publish.tables import lab_positivity_table

    summary = _summary({"社区康复": (10, 10, 0), label: (10, 10, 0)})
    with pytest.raises(InputError, match="personal identifier") as info:
        lab_positivity_table(summary, threshold=THRESHOLD)
    assert label not in str(info.value) and info.value.column == "group"


def test_resolved_records_have_no_severity(run):
    """alerts.csv / alerts.json: a resolved record is not a low-severity alarm. The run's
    files are checked for what they hold (whether its simulated series alarm depends on
    the draws); a series with a step up and back down makes sure there is something."""
    import io
    import json

    from wbe.models.alerts import alerts, alerts_to_csv, alerts_to_json

    csv = pd.read_csv(run.files["alerts_csv"])
    rows = json.loads(run.files["alerts_json"].read_text(encoding="utf-8"))
    assert len(csv) == len(rows) == len(run.alerts)
    days = pd.date_range("2024-01-01", periods=120, freq="D")
    level = np.where((days >= "2024-03-01") & (days < "2024-03-15"), 30.0, 10.0)
    noise = np.exp(np.random.default_rng(1).normal(0.0, 0.1, len(days)))
    series = pd.DataFrame({"site": "S1", "biomarker": "mdma", "date": days,
                           "value": level * noise})
    records = alerts(series, created_at="2025-01-01T00:00:00Z")
    step = (pd.read_csv(io.StringIO(alerts_to_csv(records))),
            json.loads(alerts_to_json(records)))
    assert set(step[0]["status"]) >= {"new", "resolved"}
    for table, records in [(csv, rows), step]:
        resolved = table["status"] == "resolved"
        assert (table.loc[resolved, "severity"] == "none").all()
        assert set(table.loc[~resolved, "severity"]) <= {"low", "medium", "high"}
        assert [r["severity"] == "none" for r in records] == [r["status"] == "resolved"
                                                             for r in records]
        assert set(table["schema_version"].astype(str)) <= {"2.0"}
    assert set(step[0]["schema_version"].astype(str)) == {"2.0"}
