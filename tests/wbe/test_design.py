"""wbe.design: closed forms against brute force and simulation, estimators recover known
components, and the within-week model checked on the EMCDDA week data and the Statistics Canada
monthly data (read from ``shared/data/real``)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import signal, stats

from wbe import design
from wbe.errors import InputError, UnknownNameError

_DEFAULT = Path(__file__).resolve().parents[2] / ".." / "shared"
REAL = Path(os.environ.get("WBE_SHARED_DATA", _DEFAULT)) / "data" / "real"
if not REAL.is_dir():  # a worktree at /work/wt/NAME: the shared folder is /work/shared
    REAL = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "real"
EUDA = REAL / "euda_municipal_wastewater_2011-2021_by_weekday.json"
STATCAN = REAL / "statcan_13-10-0871-01_drug_metabolites_wastewater_monthly.csv"

MEAS = 2 * math.log(1 + 0.10**2)  # sampling CV 10 % + analysis CV 10 % (registry defaults)
COMPONENTS = design.VarianceComponents(
    month_var=0.04, day_var=0.15, ar1=0.3, measurement_var=MEAS,
    weekday=(0.0, 0.0, -0.1, -0.1, 0.0, 0.1, 0.1))


def test_ar1_design_effect_equals_the_covariance_sum():
    for n, phi in [(1, 0.5), (3, 0.3), (7, 0.6), (10, -0.4)]:
        idx = np.arange(n)
        brute = np.sum(phi ** np.abs(idx[:, None] - idx[None, :])) / n
        assert design.ar1_design_effect(n, phi) == pytest.approx(brute, rel=1e-12)


def test_whole_weeks_carry_no_weekday_term_and_stratified_months_no_month_term():
    c = COMPONENTS.with_(day_var=0.0, measurement_var=0.0, month_var=0.0)
    assert design.annual_mean_precision(c, design.Schedule("consecutive", 7, 2)).se_log \
        == pytest.approx(0.0, abs=1e-12)
    c = COMPONENTS.with_(day_var=0.0, measurement_var=0.0, weekday=(0.0,) * 7)
    assert design.annual_mean_precision(c, design.Schedule("stratified", 24)).se_log \
        == pytest.approx(0.0, abs=1e-12)
    # twelve one-day campaigns, one a month: the month deviations average out exactly
    assert design.annual_mean_precision(c, design.Schedule("consecutive", 1, 12)).se_log \
        == pytest.approx(0.0, abs=1e-12)


def test_one_campaign_by_hand():
    """k = 1 campaign of n = 2 days, no weekday effects: V = sb2 (1 - 1/12) + sd2 (1 + phi)/2
    + sm2 / 2."""
    c = design.VarianceComponents(month_var=0.12, day_var=0.2, ar1=0.5, measurement_var=0.02)
    v = 0.12 * 11 / 12 + 0.2 * 1.5 / 2 + 0.02 / 2
    got = design.annual_mean_precision(c, design.Schedule("consecutive", 2, 1))
    assert got.se_log == pytest.approx(math.sqrt(v), rel=1e-12)
    assert got.upper_factor == pytest.approx(math.exp(1.959964 * math.sqrt(v)), rel=1e-6)


SCHEDULES = [
    design.Schedule("consecutive", 7, 2, n_plants=9),  # the Wuzhong schedule
    design.Schedule("consecutive", 3, 4, n_plants=3),  # weekday term, AR(1) inside campaigns
    design.Schedule("random", 14, n_plants=3),
    design.Schedule("stratified", 21, n_plants=3),
    design.Schedule("consecutive", 7, 1, n_plants=6, plants_per_year=3, overlap=1),  # rotation
]


@pytest.mark.parametrize("schedule", SCHEDULES, ids=[s.describe() for s in SCHEDULES])
def test_closed_form_against_simulation(schedule):
    """Predicted SE of the change within 10 % of the simulated SD; the predicted 95 % interval
    covers 95 % of simulated errors (+-3 %); the predicted power of a 20 % change is within 0.05
    of the simulated rejection rate. 800 replicates: SD of the SD ratio about 2.5 %."""
    c = COMPONENTS.with_(rho_plants=0.5, plant_var=0.3, plant_change_var=0.02)
    errors = design.simulate_change(c, schedule, n_rep=800, seed=20261205)
    pred = design.change_power(c, schedule, 0.2)
    assert abs(errors.mean()) < 3 * pred.se_log_change / math.sqrt(800)
    assert np.std(errors, ddof=1) / pred.se_log_change == pytest.approx(1.0, abs=0.10)
    coverage = np.mean(np.abs(errors) <= 1.959964 * pred.se_log_change)
    assert coverage == pytest.approx(0.95, abs=0.03)
    z = (math.log(1.2) + errors) / pred.se_log_change
    assert np.mean(np.abs(z) > 1.959964) == pytest.approx(pred.power, abs=0.05)


def test_power_is_monotone_and_mdc_consistent():
    s = design.Schedule("consecutive", 7, 2, n_plants=9)
    p = design.change_power(COMPONENTS, s, 0.2)
    more = design.change_power(COMPONENTS, design.Schedule("consecutive", 7, 4, n_plants=9), 0.2)
    assert more.power > p.power
    at_mdc = design.change_power(COMPONENTS, s, p.minimal_detectable_change)
    assert at_mdc.power == pytest.approx(0.8, abs=0.01)
    common = design.change_power(COMPONENTS.with_(rho_plants=1.0), s, 0.2)
    assert common.power < p.power


def test_recommendation_respects_the_budget_and_is_sorted():
    table = design.recommend_schedule(COMPONENTS, 126, 9)
    assert (table["samples_per_year"] <= 126).all()
    assert table["power"].is_monotonic_decreasing
    wuzhong = table[table["schedule"] == "2 x 7 consecutive days, 9/9 plants"]
    assert len(wuzhong) == 1 and table["power"].iloc[0] > wuzhong["power"].item()


def test_bad_schedules_and_components_are_refused():
    with pytest.raises(UnknownNameError):
        design.Schedule("weekly", 7)
    with pytest.raises(InputError, match="campaigns"):
        design.Schedule("consecutive", 7, 13)
    with pytest.raises(InputError, match="overlap"):
        design.Schedule("consecutive", 7, 1, n_plants=4, plants_per_year=3, overlap=1)
    with pytest.raises(InputError, match="ar1"):
        design.VarianceComponents(month_var=0.1, day_var=0.1, ar1=1.0)
    with pytest.raises(InputError, match="day_var"):
        design.VarianceComponents(month_var=0.1, day_var=-0.1)


def _simulated_weeks(rng, n_weeks, day_var, phi, meas, weekday, first=0):
    innov = math.sqrt(day_var * (1 - phi**2))
    rows = []
    for k in range(n_weeks):
        eps = rng.normal(0, innov, 7)
        eps[0] = rng.normal(0, math.sqrt(day_var))
        u = signal.lfilter([1.0], [1.0, -phi], eps)
        days = [(first + i) % 7 for i in range(7)]  # time order of the campaign
        y = (3.0 + rng.normal(0, 1) + np.asarray(weekday)[days] + u
             + rng.normal(0, math.sqrt(meas), 7))
        rows += [{"plant": k // 4, "year": k % 4, "weekday": design.WEEKDAYS[d],
                  "value": math.exp(v)} for d, v in zip(days, y, strict=True)]
    return pd.DataFrame(rows)


def test_week_estimator_recovers_known_components():
    rng = np.random.default_rng(7)
    weekday = (0.2, -0.1, -0.2, -0.2, 0.0, 0.1, 0.2)
    weeks = _simulated_weeks(rng, 3000, 0.15, 0.4, MEAS, weekday)
    fit = design.components_from_weeks(weeks, measurement_var=MEAS)
    assert fit["day_var"] == pytest.approx(0.15, rel=0.06)
    assert fit["ar1"] == pytest.approx(0.4, abs=0.05)
    assert np.asarray(fit["weekday"]) == pytest.approx(np.asarray(weekday), abs=0.03)
    assert fit["n_weeks"] == 3000 and fit["n_weeks_incomplete"] == 0


def test_week_estimator_follows_the_campaign_start():
    """Campaigns run Wednesday to Tuesday: fitted with that start the estimates are right;
    assuming Monday starts pairs Tuesday with Wednesday (six days apart) and biases phi."""
    rng = np.random.default_rng(8)
    weekday = (0.2, -0.1, -0.2, -0.2, 0.0, 0.1, 0.2)
    weeks = _simulated_weeks(rng, 3000, 0.15, 0.6, MEAS, weekday, first=2)
    fit = design.components_from_weeks(weeks, measurement_var=MEAS, first_weekday="wednesday")
    assert fit["ar1"] == pytest.approx(0.6, abs=0.05)
    assert fit["day_var"] == pytest.approx(0.15, rel=0.08)
    assert np.asarray(fit["weekday"]) == pytest.approx(np.asarray(weekday), abs=0.03)
    wrong = design.components_from_weeks(weeks, measurement_var=MEAS)
    assert wrong["ar1"] < 0.5


def test_month_estimator_recovers_known_variance():
    rng = np.random.default_rng(3)
    months = pd.period_range("2022-01", "2023-12", freq="M").astype(str)
    rows = [{"plant": p, "month": m, "value": math.exp(rng.normal(0, math.sqrt(0.05)))}
            for p in range(40) for m in months]
    fit = design.month_variance_from_monthly(pd.DataFrame(rows))
    assert fit["month_var"] == pytest.approx(0.05, rel=0.1)
    assert fit["n_unit_years"] == 80


def test_daily_estimator_recovers_known_components():
    rng = np.random.default_rng(11)
    days = pd.date_range("2022-01-01", "2023-12-31", freq="D")
    b = rng.normal(0, math.sqrt(0.04), 24)[(days.year - 2022) * 12 + days.month - 1]
    eps = rng.normal(0, math.sqrt(0.15 * (1 - 0.3**2)), days.size)
    u = signal.lfilter([1.0], [1.0, -0.3], eps)
    w = np.array([0.0, 0.0, -0.1, -0.1, 0.0, 0.1, 0.1])[days.day_of_week]
    y = 4 + b + w + u + rng.normal(0, math.sqrt(MEAS), days.size)
    fit = design.components_from_daily(pd.Series(np.exp(y), index=days), measurement_var=MEAS)
    assert fit.day_var == pytest.approx(0.15, rel=0.15)
    assert fit.ar1 == pytest.approx(0.3, abs=0.1)
    assert fit.month_var == pytest.approx(0.04, rel=0.6)  # 24 months only


def _euda() -> pd.DataFrame:
    if not EUDA.is_file():
        pytest.skip(f"EMCDDA week data not found at {EUDA} (set WBE_SHARED_DATA)")
    data = json.loads(EUDA.read_text(encoding="utf-8"))
    rows = [(loc["id"], m["year"], m["dayofweek"], m["metabolite"]["name"], m["value"])
            for country in data["countries"] for city in country["cities"] or []
            for loc in city["locations"] or [] for m in loc["measurements"] or []]
    return pd.DataFrame(rows, columns=["plant", "year", "weekday", "drug", "value"])


def test_week_model_on_emcdda_data():
    """Fit the components to all complete methamphetamine weeks of the European study (listed
    Wednesday to Tuesday in the data, taken as the campaign order), then check contrasts the
    fit did not use directly: the variance of (mean Mon-Wed) - (mean Thu-Sun) and of Monday -
    Thursday, observed / predicted. Measured 0.84 and 0.88; the bands allow for the heavy
    tails of real plant-weeks (a robust MAD-based variance is only about a third of the
    predicted one: a few plant-weeks carry much of the variance)."""
    t = _euda()
    meth = t[(t["drug"] == "methamphetamine") & (t["value"] > 0)]
    fit = design.components_from_weeks(meth, measurement_var=MEAS, first_weekday="Wednesday")
    assert fit["n_weeks"] >= 400
    assert 0.1 < fit["ar1"] < 0.5 and 0.08 < fit["day_var"] < 0.25
    wide = meth.pivot_table(index=["plant", "year"], columns="weekday", values="value")
    y = np.log(wide.reindex(columns=list(design.WEEKDAYS)).dropna().to_numpy())
    y = y - np.asarray(fit["weekday"])
    pos = (np.arange(7) - 2) % 7  # position in the campaign of Monday ... Sunday
    cov = fit["day_var"] * fit["ar1"] ** np.abs(pos[:, None] - pos[None, :]) + MEAS * np.eye(7)
    for a, band in [(np.array([1 / 3] * 3 + [-1 / 4] * 4), (0.65, 1.05)),
                    (np.eye(7)[0] - np.eye(7)[3], (0.7, 1.1))]:
        ratio = np.var(y @ a, ddof=1) / (a @ cov @ a)
        assert band[0] < ratio < band[1]


def test_month_variance_on_statcan_data():
    """Methamphetamine, 6 Canadian cities, 2022-01 to 2023-11: the within-year variance of log
    monthly means is 0.049 [ln²] (SD 0.22), 0.036 after StatCan's standard errors are removed;
    the cities' month-to-month deviations are nearly uncorrelated with each other."""
    if not STATCAN.is_file():
        pytest.skip(f"StatCan monthly data not found at {STATCAN} (set WBE_SHARED_DATA)")
    t = pd.read_csv(STATCAN, encoding="utf-8-sig")
    t = t[(t["GEO"] != "Weighted average, cities measured") & (t["Measure"] == "Methamphetamine")]
    load = t[t["Characteristics"].str.startswith("Load per capita")]
    se = t[t["Characteristics"].str.startswith("Standard error")]
    f = load.merge(se[["GEO", "REF_DATE", "VALUE"]], on=["GEO", "REF_DATE"],
                   suffixes=("", "_se"))
    f = f[f["VALUE"] > 0].assign(noise=lambda d: (d["VALUE_se"] / d["VALUE"]) ** 2)
    fit = design.month_variance_from_monthly(f, value="VALUE", unit="GEO", month="REF_DATE",
                                             noise_var="noise")
    assert fit["raw_var"] == pytest.approx(0.0487, abs=0.002)
    assert fit["month_var"] == pytest.approx(0.0363, abs=0.002)
    assert fit["n_unit_years"] == 12
    # a one-sided check that the month term is real: chi-square test of raw_var against the
    # day-level noise of a monthly mean alone (about 0.01 [ln²] with the EMCDDA components)
    df = fit["n_months"] - fit["n_unit_years"]
    assert stats.chi2.sf(df * fit["raw_var"] / 0.01, df) < 1e-6


def test_campaign_mean_se_by_hand():
    c = design.VarianceComponents(month_var=0.5, day_var=0.2, ar1=0.5, measurement_var=0.02)
    # two days: weekday term 0, day 0.2 (1 + 0.5)/2, measurement 0.02/2
    assert design.campaign_mean_se(c, 2) == pytest.approx(math.sqrt(0.15 + 0.01), rel=1e-12)
    with pytest.raises(InputError, match="364"):
        design.Schedule("random", 400)


def test_cheapest_schedules_reach_the_target_and_one_less_does_not():
    table = design.cheapest_schedules(COMPONENTS, 9, change=0.2, target_power=0.8)
    strat = table.set_index("kind").loc["stratified days"]
    m = int(strat["samples_per_year"]) // 9
    assert strat["power"] >= 0.8
    assert design.change_power(COMPONENTS, design.Schedule("stratified", m - 1, n_plants=9),
                               0.2).power < 0.8
    precise = design.cheapest_schedules(COMPONENTS, 9, target_se_log=0.05)
    assert (precise["se_log_annual"].dropna() <= 0.05).all()
