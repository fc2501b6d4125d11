"""Alert records: schema, ids, status, severity; detection on simulated outbreaks.

The JSON output is validated against ``models/alert_schema.json`` with the small validator
below (the subset of JSON Schema the file uses), so no ``jsonschema`` dependency is needed.

``detection_study`` measures detection and false-alarm rates on :func:`wbe.datasets.simulate`
data with injected outbreaks; ``python tests/models/test_alerts.py`` prints the table quoted
in docs/methods-aberration.md.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from wbe.datasets._simulate import simulate
from wbe.errors import InputError, UnknownNameError
from wbe.models import (
    ALERT_COLUMNS,
    alert_id,
    alert_schema,
    alerts,
    alerts_to_csv,
    alerts_to_json,
    severity,
)
from wbe.models.alerts import RESOLVED_SEVERITY

CREATED = "2024-06-01T00:00:00Z"


# ------------------------------------------------------------------ tiny JSON Schema validator
def _type_ok(value, t) -> bool:
    types = t if isinstance(t, list) else [t]
    checks = {
        "string": lambda v: isinstance(v, str),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "null": lambda v: v is None,
    }
    return any(checks[x](value) for x in types)


def validate(instance, schema) -> list[str]:
    """Errors of ``instance`` against the JSON Schema subset used by alert_schema.json."""
    errors = []
    if "type" in schema and not _type_ok(instance, schema["type"]):
        return [f"{instance!r} is not of type {schema['type']}"]
    if "const" in schema and instance != schema["const"]:
        errors.append(f"{instance!r} != const {schema['const']!r}")
    if "enum" in schema and instance not in schema["enum"]:
        errors.append(f"{instance!r} not in {schema['enum']}")
    if isinstance(instance, str):
        if "pattern" in schema and not re.search(schema["pattern"], instance):
            errors.append(f"{instance!r} does not match {schema['pattern']}")
        if len(instance) < schema.get("minLength", 0):
            errors.append(f"{instance!r} too short")
    if isinstance(instance, int | float) and not isinstance(instance, bool):
        if "minimum" in schema and instance < schema["minimum"]:
            errors.append(f"{instance} < {schema['minimum']}")
        if "maximum" in schema and instance > schema["maximum"]:
            errors.append(f"{instance} > {schema['maximum']}")
    if isinstance(instance, dict):
        for key in schema.get("required", []):
            if key not in instance:
                errors.append(f"missing {key!r}")
        props = schema.get("properties", {})
        if schema.get("additionalProperties", True) is False:
            errors += [f"unexpected {k!r}" for k in instance if k not in props]
        for key, sub in props.items():
            if key in instance:
                errors += [f"{key}: {e}" for e in validate(instance[key], sub)]
    return errors


def test_validator_catches_errors():
    schema = alert_schema()
    assert validate({"schema_version": "2.0"}, schema)  # missing fields
    good = {
        "schema_version": "2.0", "alert_id": "0" * 16, "created_at": CREATED, "site": "A",
        "biomarker": "b", "date": "2024-01-01", "method": "ears", "parameters": {},
        "observed": 1.0, "expected": None, "upper_bound": 0.5, "exceedance_ratio": 2.0,
        "p_value": None, "severity": "high", "direction": "increase", "status": "new",
        "provisional": False,
    }
    assert validate(good, schema) == []
    assert validate({**good, "status": "open"}, schema)
    assert validate({**good, "schema_version": "1.0"}, schema)  # records of the old schema
    assert validate({**good, "status": "resolved", "severity": "none"}, schema) == []
    assert validate({**good, "severity": "resolved"}, schema)
    assert validate({**good, "alert_id": "xyz"}, schema)
    assert validate({**good, "extra": 1}, schema)
    assert validate({**good, "observed": "1"}, schema)


# ------------------------------------------------------------------------------- records
def _table(values, site="WWTP01", biomarker="methamphetamine", start="2024-05-01"):
    return pd.DataFrame({"site": site, "biomarker": biomarker,
                         "date": pd.date_range(start, periods=len(values)), "value": values})


def test_alert_records_status_severity_and_schema():
    v = [10, 12, 11, 9, 10, 13, 11, 30, 31, 11, 10, 12, 11, 9, 10, 13, 11, 40]
    t = pd.concat([_table(v), _table(v, site="WWTP02")], ignore_index=True)
    a = alerts(t, "ears", created_at=CREATED)
    s1 = a[a.site == "WWTP01"]
    assert s1["date"].tolist() == ["2024-05-08", "2024-05-09", "2024-05-18"]
    assert s1["status"].tolist() == ["new", "resolved", "new"]
    # 30 vs bound 15.014: ratio 1.998 -> medium; 40 vs the next bound
    assert s1["severity"].iloc[0] == "medium"
    # a resolved record is not an alarm: severity "none", never "low" (its ratio is < 1)
    assert s1["severity"].tolist()[1] == RESOLVED_SEVERITY == "none"
    assert s1["exceedance_ratio"].iloc[1] < 1
    active = a[a["status"] != "resolved"]
    assert set(active["severity"]) <= {"low", "medium", "high"}
    assert (a.loc[a["status"] == "resolved", "severity"] == "none").all()
    back = pd.read_csv(__import__("io").StringIO(alerts_to_csv(a)))  # "none" stays a string
    assert back["severity"].tolist() == a["severity"].tolist()
    assert s1["exceedance_ratio"].iloc[0] == pytest.approx(30 / s1["upper_bound"].iloc[0])
    assert s1["provisional"].tolist() == [False, False, True]  # last date of the series
    rows = json.loads(alerts_to_json(a))
    schema = alert_schema()
    assert len(rows) == 6
    for row in rows:
        assert validate(row, schema) == [], row
        assert list(row) == list(ALERT_COLUMNS)
    assert rows[0]["parameters"] == {"method": "C1", "baseline": 7, "alpha": 0.001,
                                     "min_sigma": 0.0}


def test_alert_ids_are_deterministic():
    v = [10, 12, 11, 9, 10, 13, 11, 30]
    a1 = alerts(_table(v), "ears", created_at=CREATED)
    a2 = alerts(_table(v).iloc[::-1], "ears", created_at=CREATED)  # input order irrelevant
    assert a1["alert_id"].tolist() == a2["alert_id"].tolist()
    assert a1["alert_id"].iloc[0] == alert_id("WWTP01", "methamphetamine", "2024-05-08", "ears")
    assert alert_id("A", "b", "2024-01-01", "ears") != alert_id("A", "b", "2024-01-01", "cusum")
    assert alerts_to_json(a1) == alerts_to_json(a2)


def test_csv_round_trip():
    a = alerts(_table([10, 12, 11, 9, 10, 13, 11, 30]), "ears", created_at=CREATED)
    back = pd.read_csv(__import__("io").StringIO(alerts_to_csv(a)))
    assert back.columns.tolist() == list(ALERT_COLUMNS)
    assert json.loads(back["parameters"].iloc[0])["method"] == "C1"


def test_severity_rule():
    assert severity([0.9, 1.0, 1.49, 1.5, 1.99, 2.0, np.nan]).tolist() == [
        "low", "low", "low", "medium", "medium", "high", "low"]


def test_bad_tables():
    with pytest.raises(UnknownNameError, match="ears"):
        alerts(_table([1.0] * 10), "earss")
    with pytest.raises(InputError, match="column"):
        alerts(_table([1.0] * 10).drop(columns="site"))
    bad = _table([1.0] * 10).astype({"value": object})
    bad.loc[3, "value"] = "n.d."
    with pytest.raises(InputError, match="row 5"):
        alerts(bad)
    dup = pd.concat([_table([1.0] * 10), _table([1.0] * 2)])
    with pytest.raises(InputError, match="duplicate"):
        alerts(dup)


# ------------------------------------------------------------- detection on simulated data
STUDY_METHODS = {
    "EARS C1": ("ears", {"ears_method": "C1"}),
    "EARS C2": ("ears", {"ears_method": "C2"}),
    "EARS C3": ("ears", {"ears_method": "C3"}),
    "CUSUM": ("cusum", {"k": 0.5, "h": 4.0, "baseline": 28, "guard": 7}),
    "EWMA": ("ewma", {"lam": 0.2, "limit_sd": 2.962, "baseline": 28, "guard": 7}),
    "Farrington (weekly)": ("farrington", {"b": 2, "w": 3}),
}


def _loads(city) -> pd.DataFrame:
    s = city.samples.merge(city.flows, left_on=["site", "sampled_on"],
                           right_on=["site", "date"], how="left", validate="m:1")
    # mg/day = ng/L * m3/day * 1000 L/m3 / 1e6 ng/mg
    value = s["concentration_ng_per_l"] * s["flow_m3_per_day"] / 1000.0
    return pd.DataFrame({"site": s["site"], "biomarker": s["biomarker"],
                         "date": s["sampled_on"], "value": value})


def detection_study(seed: int, factor: float, n_sites: int = 6, days: int = 1095,
                    outbreak_days: int = 14, washout_days: int = 28) -> pd.DataFrame:
    """Per method: outbreaks detected / injected and false alarms per site-year (year 3)."""
    start = pd.Timestamp("2024-01-01")
    year3 = start + pd.Timedelta(days=730)
    rng = np.random.default_rng(seed)
    onsets = year3 + pd.to_timedelta(rng.integers(40, 300, n_sites), unit="D")
    sites = [f"WWTP{i + 1:02d}" for i in range(n_sites)]
    obs = [{"drug": "methamphetamine", "site": s, "start": o.strftime("%Y-%m-%d"),
            "days": outbreak_days, "factor": factor} for s, o in zip(sites, onsets, strict=True)]
    city = simulate(seed=seed, n_sites=n_sites, days=days, biomarkers=("methamphetamine",),
                    lab=False, outbreaks=obs)
    daily = _loads(city)
    weekly = daily.assign(date=daily["date"].dt.to_period("W-SUN").dt.start_time)
    weekly = weekly.groupby(["site", "biomarker", "date"], as_index=False)["value"].mean()
    weekly["value"] = weekly["value"].round()
    out = []
    for name, (method, params) in STUDY_METHODS.items():
        table = weekly if method == "farrington" else daily
        a = alerts(table, method, created_at=CREATED, **params)
        a = a[a["status"].isin(["new", "ongoing"])]
        a = a.assign(date=pd.to_datetime(a["date"]))
        detected, false_alarms = 0, 0
        for site, onset in zip(sites, onsets, strict=True):
            mine = a[(a.site == site) & (a.date >= year3)]
            # a weekly alarm counts for the outbreak if its week overlaps it
            lo = onset - pd.Timedelta(days=6 if method == "farrington" else 0)
            hit = (mine.date >= lo) & (mine.date < onset + pd.Timedelta(days=outbreak_days))
            wash = (mine.date >= lo) & (mine.date < onset + pd.Timedelta(
                days=outbreak_days + washout_days))
            detected += bool(hit.any())
            false_alarms += int((~wash).sum())
        monitored_years = n_sites * (365 - outbreak_days - washout_days) / 365.0
        per = 7.0 if method == "farrington" else 1.0
        out.append({"method": name, "factor": factor, "outbreaks": n_sites,
                    "detected": detected, "false_alarms": false_alarms,
                    "false_alarms_per_site_year": false_alarms / monitored_years,
                    "false_alarm_rate_per_point": false_alarms * per / (monitored_years * 365)})
    return pd.DataFrame(out)


@pytest.fixture(scope="module")
def study():
    return detection_study(seed=11, factor=2.0)


@pytest.mark.slow
def test_detection_and_false_alarm_rates(study):
    """Floors and ceilings with margins around the rates measured over 5 seeds.

    Measured (docs/methods-aberration.md; factor 2 for 14 days, 30 outbreaks, seeds 1-5):
    detection CUSUM 30/30, EWMA 30/30, Farrington 30/30, EARS C1 24/30, C2 27/30, C3
    28/30; false alarms per site-year CUSUM 4.7, EWMA 6.0, EARS C1 11.6, C2 11.2, C3 26.1,
    Farrington 4.2 (weekly: 8.1 % of weeks). This check uses another seed (11), 6 outbreaks.
    """
    s = study.set_index("method")
    for name, floor in {"CUSUM": 5, "EWMA": 5, "Farrington (weekly)": 5, "EARS C1": 3,
                        "EARS C2": 4, "EARS C3": 4}.items():
        assert s.loc[name, "detected"] >= floor, name
    ceilings = {"CUSUM": 10.0, "EWMA": 12.0, "Farrington (weekly)": 10.0, "EARS C1": 20.0,
                "EARS C2": 20.0, "EARS C3": 45.0}
    for name, ceiling in ceilings.items():
        assert s.loc[name, "false_alarms_per_site_year"] < ceiling, name
    assert s.loc["Farrington (weekly)", "false_alarm_rate_per_point"] < 0.15


if __name__ == "__main__":  # the table of docs/methods-aberration.md
    frames = [detection_study(seed, f) for f in (1.5, 2.0, 3.0) for seed in range(1, 6)]
    res = pd.concat(frames).groupby(["factor", "method"], sort=False).agg(
        outbreaks=("outbreaks", "sum"), detected=("detected", "sum"),
        false_alarms=("false_alarms", "sum"),
        false_alarms_per_site_year=("false_alarms_per_site_year", "mean"),
        false_alarm_rate_per_point=("false_alarm_rate_per_point", "mean"))
    res["detection_rate"] = res["detected"] / res["outbreaks"]
    print(res.round(3).to_string())


def test_alerts_to_json_writes_numpy_nan_as_null():
    """A NaN held as a numpy scalar (e.g. in ``parameters``) becomes null, not an error."""
    from wbe.models import alerts_to_json

    rec = {c: None for c in ALERT_COLUMNS}
    rec["parameters"] = {"guard": np.float64("nan"), "k": np.float64(0.5)}
    out = json.loads(alerts_to_json(pd.DataFrame([rec])))
    assert out[0]["parameters"] == {"guard": None, "k": 0.5}


# ------------------------------------------ the default detector (tests/models/alert_study.py)
def _study():
    from importlib import util
    from pathlib import Path

    spec = util.spec_from_file_location("alert_study", Path(__file__).with_name("alert_study.py"))
    mod = util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_default_detector_operating_characteristics_small():
    """20 simulated daily series (CV 0.35, weekday pattern, gaps, below-LOQ days): the default
    raises few false new alerts and flags 2-fold 14-day rises within 7 days (margins for
    the small sample; the full study is the slow test below)."""
    res = _study().evaluate(None, {}, list(range(1000, 1020)))
    assert res["false_new_per_year"] <= 2.0
    assert res["detected"] >= 0.85


@pytest.mark.slow
def test_default_detector_operating_characteristics_full():
    """Issue 13 target on 200 series: <= 1 false new alert per series-year, >= 90 % of
    doublings flagged within 7 days; the old default (EARS C1) fails both."""
    study = _study()
    seeds = list(range(200))
    res = study.evaluate(None, {}, seeds)
    assert res["false_new_per_year"] <= 1.0
    assert res["detected"] >= 0.90
    old = study.evaluate("ears", {}, seeds)
    assert old["false_new_per_year"] > 3.0 and old["detected"] < 0.9


def test_default_alerts_skip_short_series_and_treat_zero_as_missing():
    t = pd.DataFrame({"site": "A", "biomarker": "methamphetamine",
                      "date": pd.date_range("2024-01-01", periods=30), "value": 10.0})
    rec = alerts(t, created_at=CREATED)
    assert rec.empty and rec.attrs["unmonitored"] == [("A", "methamphetamine")]
    rng = np.random.default_rng(3)
    v = np.exp(rng.normal(3, 0.3, 200))
    v[[100, 150]] = 0.0
    v[180:] *= 4
    t = pd.DataFrame({"site": "A", "biomarker": "methamphetamine",
                      "date": pd.date_range("2024-01-01", periods=200), "value": v})
    rec = alerts(t, created_at=CREATED)
    assert (rec["method"] == "cusum").all()
    assert rec.loc[rec.status == "new", "date"].min() >= "2024-06-29"
    assert rec["parameters"].iloc[0]["arl0"] == 1000.0
