"""The simulated city: reproducible, canonical tables, forward model, censoring, weekday
pattern, outbreaks, drawn parameters and lab data consistent with the truth it returns."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from wbe import datasets
from wbe.datasets import SimulatedCity, simulate
from wbe.errors import InputError, UnknownNameError

DATA_MODEL = Path(__file__).resolve().parents[2] / "docs" / "data-model.md"

#: A hand-made parameter table (not a published set): a stable biomarker and one that
#: degrades in sewers, so the in-sewer loss term of the forward model is exercised.
FIXTURE_PARAMETERS = pd.DataFrame({
    "biomarker": ["methamphetamine", "benzoylecgonine"],
    "drug": ["methamphetamine", "cocaine"],
    "excretion_fraction": [0.39, 0.45],
    "excretion_fraction_sd": [0.0975, 0.1125],
    "excretion_fraction_distribution": ["normal", "normal"],
    "correction_factor": [2.56, 2.33],
    "half_life_h": [np.inf, 20.0],
    "molar_mass_g_per_mol": [149.24, 289.33],
    "parent_molar_mass_g_per_mol": [149.24, 303.36],
})

TINY = {"n_sites": 1, "days": 7, "biomarkers": ["methamphetamine"], "lab": False}


@pytest.fixture(scope="module")
def city() -> SimulatedCity:
    """The default city (registry parameters, lab data included)."""
    return simulate(seed=1)


def _hash(frame: pd.DataFrame) -> np.ndarray:
    return pd.util.hash_pandas_object(frame, index=True).to_numpy()


def _tables(c: SimulatedCity) -> dict[str, pd.DataFrame]:
    out = {n: getattr(c, n) for n in
           ("sites", "samples", "flows", "truth", "lab_results", "parameters")}
    out.update({f"lab_truth.{k}": v for k, v in c.lab_truth.items()})
    return out


# ---------------------------------------------------------------------------------------
# reproducibility and independence of the random components
# ---------------------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(city):
    again = simulate(seed=1)
    first, second = _tables(city), _tables(again)
    assert first.keys() == second.keys()
    for name in first:
        np.testing.assert_array_equal(_hash(first[name]), _hash(second[name]), err_msg=name)
    assert city.seed == again.seed == 1


def test_other_seed_gives_other_draws(city):
    other = simulate(seed=2, lab=False)
    assert not np.array_equal(
        city.samples["concentration_ng_per_l"].to_numpy(),
        other.samples["concentration_ng_per_l"].to_numpy(),
    )


def test_switching_lab_off_leaves_wastewater_draws_unchanged(city):
    no_lab = simulate(seed=1, lab=False)
    for name in ("sites", "samples", "flows", "truth"):
        np.testing.assert_array_equal(
            _hash(getattr(city, name)), _hash(getattr(no_lab, name)), err_msg=name
        )
    assert no_lab.lab_results.empty and list(no_lab.lab_results.columns) == list(
        city.lab_results.columns
    )


def test_fewer_sites_and_biomarkers_keep_their_draws(city):
    small = simulate(seed=1, n_sites=2, biomarkers=["mdma", "methamphetamine"], lab=False)
    keys = ["site", "sampled_on", "biomarker"]
    big = city.samples[city.samples["site"].isin(["WWTP01", "WWTP02"])
                       & city.samples["biomarker"].isin(["mdma", "methamphetamine"])]
    merged = big.merge(small.samples, on=keys, suffixes=("_big", "_small"))
    assert len(merged) == len(small.samples) == len(big)
    np.testing.assert_array_equal(
        merged["concentration_ng_per_l_big"].to_numpy(),
        merged["concentration_ng_per_l_small"].to_numpy(),
    )


# ---------------------------------------------------------------------------------------
# canonical tables
# ---------------------------------------------------------------------------------------


def _documented_columns(section: str) -> list[str]:
    """Column names of a table in docs/data-model.md (first cell of each row)."""
    text = DATA_MODEL.read_text(encoding="utf-8")
    body = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z0-9_]+)` \|", body, flags=re.M)


def _documented_lab_columns() -> list[str]:
    text = DATA_MODEL.read_text(encoding="utf-8")
    body = text.split("## lab results", 1)[1].split("\n## ", 1)[0]
    listing = body.split("One row per sample and analyte:", 1)[1].split(". ", 1)[0]
    return [c.strip().split(" ")[0] for c in listing.replace("`", "").split(",")]


def test_tables_have_exactly_the_documented_columns(city):
    assert list(city.samples.columns) == _documented_columns("samples")
    assert list(city.flows.columns) == _documented_columns("flows")
    assert list(city.sites.columns) == _documented_columns("sites")
    expected_lab = ["subject_id" if c == "subject_key" else c for c in _documented_lab_columns()]
    assert len(expected_lab) == 16
    assert list(city.lab_results.columns) == expected_lab


def test_dtypes_and_units(city):
    s, f, lab = city.samples, city.flows, city.lab_results
    assert s["sampled_on"].dtype.kind == "M" and f["date"].dtype.kind == "M"
    assert lab["collected_on"].dtype.kind == "M"
    assert (s["sampled_on"] == s["sampled_on"].dt.normalize()).all()
    assert s["censored"].dtype == bool and lab["censored"].dtype == bool
    for frame in (s, f, lab):
        assert frame["source_row"].dtype.kind == "i"
        np.testing.assert_array_equal(frame["source_row"], np.arange(2, len(frame) + 2))
    for col in ("concentration_ng_per_l", "loq_ng_per_l"):
        assert s[col].dtype == np.float64
    assert set(s["detection"]) <= {"quantified", "below_loq"}
    assert set(lab["matrix"]) == {"urine", "hair"}
    assert set(lab.loc[lab["matrix"] == "urine", "unit"]) == {"ng/mL"}
    assert set(lab.loc[lab["matrix"] == "hair", "unit"]) == {"ng/mg"}
    assert set(lab["sample_type"]) == {"unknown", "qc"}
    assert set(lab["method"]) == {"screen", "confirm"}
    assert set(lab["detection"]) <= {"quantified", "not_detected"}
    assert (lab["censored"] == lab["value"].isna()).all()
    # every biomarker id is canonical
    assert all(datasets.resolve_analyte(b) == b for b in s["biomarker"].unique())
    assert all(datasets.resolve_analyte(a) == a for a in lab["analyte"].unique())
    # plausible scale: methamphetamine tens to hundreds of ng/L in Chinese influent
    meth = s.loc[s["biomarker"] == "methamphetamine", "concentration_ng_per_l"]
    assert 20 < meth.median() < 700


def test_default_size_and_sites(city):
    assert len(city.sites) == 6
    assert city.sites["site"].is_unique
    assert len(city.flows) == 6 * 730
    assert len(city.truth) == 6 * 730 * len(datasets._simulate.DEFAULT_BIOMARKERS)
    assert (city.sites["population_sd"] > 0).all()
    assert city.sites["residence_time_h"].between(1, 12).all()


def test_fake_subject_ids_have_the_id_card_layout_and_check_digit(city):
    lab = city.lab_results
    unknown = lab[lab["sample_type"] == "unknown"]
    ids = unknown["subject_id"].unique()
    assert all(len(i) == 18 for i in ids)
    # ISO 7064 MOD 11-2 as in GB 11643-1999: weights 2^(17-i) mod 11
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    for i in ids[:500]:
        assert i[:17].isdigit()
        total = sum(int(d) * w for d, w in zip(i[:17], weights, strict=True))
        assert i[17] == "10X98765432"[total % 11]
    assert lab.loc[lab["sample_type"] == "qc", "subject_id"].isna().all()
    # one person per sample, one group per person
    assert (unknown.groupby("sample_id")["subject_id"].nunique() == 1).all()
    assert (unknown.groupby("subject_id")["group"].nunique() == 1).all()
    registered = city.lab_truth["relapse"]["subject_id"]
    assert registered.is_unique and registered.isin(ids).all()


def test_cutoffs_equal_the_registry_sets(city):
    """The simulated tests use the registry's Chinese cutoffs (by analyte, else by class)."""
    registry = datasets.load_cutoffs()
    drug_class = {"methamphetamine": "amphetamines", "morphine": "opiates",
                  "ketamine": "ketamine", "mdma": "mdma_class"}
    for matrix, (cutoff_set, method) in city.config["cutoff_sets"].items():
        rows = registry[(registry["cutoff_set"] == cutoff_set) & (registry["method"] == method)
                        & (registry["matrix"] == matrix)]
        for analyte, cutoff in city.config["cutoffs"][matrix].items():
            hit = rows.loc[rows["analyte"] == analyte, "cutoff"]
            if hit.empty:
                hit = rows.loc[rows["analyte"].isna()
                               & (rows["analyte_class"] == drug_class[analyte]), "cutoff"]
            assert hit.tolist() == [cutoff], (matrix, analyte)


# ---------------------------------------------------------------------------------------
# forward model
# ---------------------------------------------------------------------------------------


def test_forward_model_identity_on_a_noise_free_city():
    c = simulate(seed=3, n_sites=2, days=10, biomarkers=["methamphetamine", "benzoylecgonine"],
                 parameters=FIXTURE_PARAMETERS, measurement_error=False,
                 loq_ng_per_l={"methamphetamine": 0.0, "benzoylecgonine": 0.0}, lab=False)
    t = c.truth
    row = t[(t["site"] == "WWTP02") & (t["biomarker"] == "benzoylecgonine")].iloc[4]
    # hand computation of one row: CF = (303.36 / 289.33) / 0.45
    cf = (303.36 / 289.33) / 0.45
    residence = c.sites.set_index("site").loc["WWTP02", "residence_time_h"]
    load = row["consumption_mg_per_day"] / cf * math.exp(-math.log(2) * residence / 20.0)
    conc = load * 1e6 / (row["flow_m3_per_day"] * 1e3)
    measured = c.samples.set_index(["site", "sampled_on", "biomarker"]).loc[
        ("WWTP02", row["date"], "benzoylecgonine"), "concentration_ng_per_l"
    ]
    assert measured == pytest.approx(conc, rel=1e-12)
    assert row["load_mg_per_day"] == pytest.approx(load, rel=1e-12)
    assert row["correction_factor"] == pytest.approx(cf, rel=1e-12)
    # whole table: noise-free measurement equals the truth, flows too
    merged = c.samples.merge(t, left_on=["site", "sampled_on", "biomarker"],
                             right_on=["site", "date", "biomarker"])
    np.testing.assert_allclose(merged["concentration_ng_per_l_x"],
                               merged["concentration_ng_per_l_y"], rtol=1e-12)
    true_flow = t.drop_duplicates(["site", "date"])["flow_m3_per_day"].to_numpy()
    np.testing.assert_allclose(c.flows["flow_m3_per_day"], true_flow, rtol=1e-12)
    # consumption per 1000 is per TRUE population
    np.testing.assert_allclose(
        t["consumption_mg_per_day_per_1000"] * t["population"] / 1000,
        t["consumption_mg_per_day"], rtol=1e-12,
    )
    stable = t[t["biomarker"] == "methamphetamine"]
    np.testing.assert_allclose(stable["load_mg_per_day"], stable["excreted_load_mg_per_day"],
                               rtol=1e-12)


def test_true_population_is_reported_plus_sd_times_z():
    c = simulate(seed=4, n_sites=40, days=3, biomarkers=["methamphetamine"], lab=False)
    true = c.truth.drop_duplicates("site").set_index("site")["population"]
    sites = c.sites.set_index("site")
    z = (true - sites["population"]) / sites["population_sd"]
    assert (true > 0).all()
    assert z.std() > 0.5  # the reported population is not the truth
    assert abs(z.mean()) < 4 / math.sqrt(40)


def test_measurement_error_has_the_registry_cv():
    c = simulate(seed=5, n_sites=3, days=400, biomarkers=["methamphetamine"], lab=False,
                 loq_ng_per_l={"methamphetamine": 0.0})
    merged = c.samples.merge(c.truth, left_on=["site", "sampled_on", "biomarker"],
                             right_on=["site", "date", "biomarker"])
    ratio = merged["concentration_ng_per_l_x"] / merged["concentration_ng_per_l_y"]
    cv = datasets.load_measurement_uncertainty().set_index("component")["cv"]
    sigma2 = math.log1p(cv["sampling"] ** 2) + math.log1p(cv["chemical_analysis"] ** 2)
    # product of two mean-1 log-normals: mean 1, log sd sqrt(sigma_s^2 + sigma_a^2)
    assert ratio.mean() == pytest.approx(1.0, abs=4 * math.sqrt(math.expm1(sigma2) / 1200))
    assert np.log(ratio).std() == pytest.approx(math.sqrt(sigma2), rel=0.08)


def test_values_below_the_loq_are_censored():
    c = simulate(seed=6, n_sites=2, days=60, biomarkers=["methamphetamine", "mdma"],
                 loq_ng_per_l={"methamphetamine": 100.0, "mdma": 1.0}, lab=False,
                 measurement_error=False)
    s = c.samples.merge(c.truth, left_on=["site", "sampled_on", "biomarker"],
                        right_on=["site", "date", "biomarker"], suffixes=("", "_true"))
    below = s["concentration_ng_per_l_true"] < s["loq_ng_per_l"]
    assert below.any() and (~below).any()
    np.testing.assert_array_equal(s["censored"], below)
    assert s.loc[below, "concentration_ng_per_l"].isna().all()
    assert (s.loc[below, "detection"] == "below_loq").all()
    assert (s.loc[~below, "concentration_ng_per_l"] >= s.loc[~below, "loq_ng_per_l"]).all()
    assert set(s.loc[s["biomarker"] == "methamphetamine", "loq_ng_per_l"]) == {100.0}


def test_sampling_interval():
    c = simulate(seed=7, n_sites=1, days=28, biomarkers=["methamphetamine"], lab=False,
                 sample_every_days=7)
    assert len(c.samples) == 4 and len(c.flows) == 28
    assert c.samples["sampled_on"].diff().dropna().dt.days.eq(7).all()
    assert c.truth["sampled"].sum() == 4


# ---------------------------------------------------------------------------------------
# consumption pattern
# ---------------------------------------------------------------------------------------


def _measured_loads(c: SimulatedCity) -> pd.DataFrame:
    s = c.samples.merge(c.flows, left_on=["site", "sampled_on"], right_on=["site", "date"])
    return s.assign(load=s["concentration_ng_per_l"] * s["flow_m3_per_day"] * 1e-3,
                    dow=s["sampled_on"].dt.day_of_week)


def test_weekend_rise_for_mdma_but_not_for_methamphetamine():
    """Ort et al. 2014 (Addiction 109:1338): cocaine and MDMA loads rise at weekends,
    methamphetamine is even over the week."""
    c = simulate(seed=8, n_sites=3, days=364, biomarkers=["methamphetamine", "mdma"],
                 lab=False,
                 consumption=pd.DataFrame({"drug": ["mdma"],
                                           "level_mg_per_day_per_1000": [20.0]}))
    loads = _measured_loads(c)
    assert not loads["censored"].any()
    log_ratio = {}
    for biomarker, g in loads.groupby("biomarker"):
        logs = np.log(g["load"])
        weekend = logs[g["dow"].isin([5, 6])].mean()
        midweek = logs[g["dow"].isin([1, 2, 3])].mean()
        log_ratio[biomarker] = weekend - midweek
    assert log_ratio["mdma"] > math.log(1.6)
    assert abs(log_ratio["methamphetamine"]) < 0.08


def test_injected_outbreak_is_visible_and_in_the_truth():
    outbreak = {"drug": "methamphetamine", "start": "2024-03-01", "days": 14, "factor": 3.0,
                "site": "WWTP01"}
    c = simulate(seed=9, n_sites=2, days=120, biomarkers=["methamphetamine"], lab=False,
                 outbreaks=[outbreak])
    loads = _measured_loads(c).set_index("sampled_on")
    window = (loads.index >= "2024-03-01") & (loads.index < "2024-03-15")
    before = (loads.index >= "2024-02-01") & (loads.index < "2024-03-01")
    for site, expected_rise in (("WWTP01", True), ("WWTP02", False)):
        g = loads["site"] == site
        ratio = loads.loc[window & g, "load"].median() / loads.loc[before & g, "load"].median()
        assert (ratio > 2.0) if expected_rise else (0.6 < ratio < 1.6), (site, ratio)
    t = c.truth.set_index("date")
    in_window = (t.index >= "2024-03-01") & (t.index < "2024-03-15") & (t["site"] == "WWTP01")
    assert (t.loc[in_window, "outbreak_factor"] == 3.0).all()
    assert (t.loc[~in_window, "outbreak_factor"] == 1.0).all()
    assert in_window.sum() == 14


def test_trend_and_rain_dilution_in_the_truth():
    c = simulate(seed=10, n_sites=1, days=730, biomarkers=["methamphetamine"], lab=False)
    t = c.truth
    # rain raises the flow and dilutes the concentration; the load is unchanged by rain
    rainy = t["rain_factor"] > 1.2
    assert rainy.sum() > 10
    dry_mean = t.loc[t["rain_factor"] == 1.0, "flow_m3_per_day"].mean()
    assert t.loc[rainy, "flow_m3_per_day"].mean() > 1.15 * dry_mean
    slope = np.polyfit(np.arange(len(t)) / 365.25, np.log(t["consumption_mg_per_day"]), 1)[0]
    assert slope == pytest.approx(-0.08, abs=0.05)


# ---------------------------------------------------------------------------------------
# nominal versus drawn systematic parameters
# ---------------------------------------------------------------------------------------


def test_nominal_parameters_are_the_registry_values(city):
    reg = datasets.biomarker_parameters("default")
    p = city.parameters.set_index("biomarker")
    for biomarker in p.index:
        row = reg.loc[biomarker]
        cf = (row["parent_molar_mass_g_per_mol"] / row["molar_mass_g_per_mol"]
              / row["excretion_fraction"])
        assert p.loc[biomarker, "correction_factor"] == pytest.approx(cf, rel=1e-12)
        # one CF specification per set (issue 12): the same value as the registry helper
        spec = datasets.correction_factor_spec(row, biomarker)
        assert p.loc[biomarker, "correction_factor"] == pytest.approx(spec.value, rel=1e-12)
    assert (p["true_parameters"] == "nominal").all()


def test_drawn_excretion_fraction_follows_the_registry_distribution():
    n = 300
    drawn = np.array([
        simulate(seed=s, true_parameters="draw", **TINY).parameters["excretion_fraction"].item()
        for s in range(n)
    ])
    row = datasets.biomarker_parameters("default").loc["methamphetamine"]
    mean, sd = row["excretion_fraction"], row["excretion_fraction_sd"]
    dist = stats.truncnorm((0 - mean) / sd, (1 - mean) / sd, loc=mean, scale=sd)
    assert drawn.mean() == pytest.approx(dist.mean(), abs=4 * dist.std() / math.sqrt(n))
    assert drawn.std(ddof=1) == pytest.approx(dist.std(), rel=0.15)
    assert stats.kstest(drawn, dist.cdf).pvalue > 1e-3
    assert ((drawn > 0) & (drawn <= 1)).all()


def test_draw_changes_only_the_systematic_parameters():
    nominal = simulate(seed=11, n_sites=2, days=20, biomarkers=["methamphetamine", "mdma"],
                       lab=False)
    drawn = simulate(seed=11, n_sites=2, days=20, biomarkers=["methamphetamine", "mdma"],
                     lab=False, true_parameters="draw")
    np.testing.assert_array_equal(_hash(nominal.flows), _hash(drawn.flows))
    cols = ["consumption_mg_per_day", "flow_m3_per_day", "population"]
    np.testing.assert_array_equal(nominal.truth[cols], drawn.truth[cols])
    ratio = (nominal.truth["excreted_load_mg_per_day"] / drawn.truth["excreted_load_mg_per_day"])
    per_biomarker = ratio.groupby(nominal.truth["biomarker"]).agg(["min", "max"])
    # one draw per city and biomarker, shared by every site and day
    np.testing.assert_allclose(per_biomarker["min"], per_biomarker["max"], rtol=1e-12)
    assert not np.allclose(per_biomarker["min"], 1.0)
    again = simulate(seed=11, n_sites=2, days=20, biomarkers=["methamphetamine", "mdma"],
                     lab=False, true_parameters="draw")
    pd.testing.assert_frame_equal(drawn.parameters, again.parameters)


def test_tiny_city_is_small_and_complete():
    c = simulate(seed=12, true_parameters="draw", **TINY)
    assert len(c.samples) == len(c.truth) == len(c.flows) == 7
    assert c.lab_results.empty and dict(c.lab_truth) == {}


# ---------------------------------------------------------------------------------------
# lab data
# ---------------------------------------------------------------------------------------


def _classify(lab: pd.DataFrame, cutoffs: dict) -> pd.Series:
    cutoff = np.array([cutoffs[m][a] for m, a in zip(lab["matrix"], lab["analyte"],
                                                       strict=True)])
    return lab["value"].fillna(0.0) >= cutoff


def test_lab_positivity_matches_prevalence_sensitivity_and_specificity():
    groups = pd.DataFrame({
        "group": ["workers", "workers"], "matrix": ["urine", "urine"],
        "tests_per_month": [3000, 3000], "analyte": ["methamphetamine", "ketamine"],
        "prevalence": [0.10, 0.02], "sensitivity": [0.90, 0.90],
        "specificity": [0.98, 0.98],
    })
    c = simulate(seed=13, n_sites=1, days=59, biomarkers=["methamphetamine"],
                 lab_groups=groups, registered={"n": 0}, lab_qc=False)
    lab = c.lab_results
    positive = _classify(lab, c.config["cutoffs"])
    n = len(lab) // 2
    for analyte, p in (("methamphetamine", 0.10), ("ketamine", 0.02)):
        apparent = positive[lab["analyte"] == analyte].mean()
        expected = p * 0.90 + (1 - p) * (1 - 0.98)
        assert apparent == pytest.approx(expected, abs=4 * math.sqrt(expected / n))
        # Rogan & Gladen (1978) correction recovers the true prevalence
        corrected = (apparent + 0.98 - 1) / (0.90 + 0.98 - 1)
        assert corrected == pytest.approx(p, abs=0.02)
    truth = c.lab_truth["prevalence"]
    assert set(truth["month"].astype(str)) == {"2024-01", "2024-02"}
    assert (truth["tests"] == 3000).all()
    share = truth.groupby("analyte").apply(lambda g: g["truly_positive"].sum() / g["tests"].sum())
    assert share["methamphetamine"] == pytest.approx(0.10, abs=4 * math.sqrt(0.09 / 6000))


def test_relapse_histories_agree_with_the_true_relapse_times():
    reg = {"n": 400, "sensitivity": 1.0, "specificity": 1.0, "attendance": 1.0}
    c = simulate(seed=14, n_sites=1, days=365, biomarkers=["methamphetamine"],
                 lab_groups=pd.DataFrame(columns=["group", "matrix", "tests_per_month",
                                                  "analyte", "prevalence", "sensitivity",
                                                  "specificity"]),
                 registered=reg, lab_qc=False)
    lab = c.lab_results
    urine = lab[lab["matrix"] == "urine"].copy()
    urine["positive"] = _classify(urine, c.config["cutoffs"])
    per_test = urine.groupby(["subject_id", "collected_on"])["positive"].any().reset_index()
    truth = c.lab_truth["relapse"].set_index("subject_id")
    per_test["day"] = (per_test["collected_on"]
                       - per_test["subject_id"].map(truth["origin"])).dt.days
    first_pos = per_test[per_test["positive"]].groupby("subject_id")["day"].min()
    relapse_day = truth["relapse_day"]
    end = truth["followup_end_day"]
    # expected first positive: first 14-day test at or after the relapse, within follow-up
    expected = np.ceil(relapse_day / 14) * 14
    seen = expected <= end
    assert set(first_pos.index) == set(truth.index[seen])
    np.testing.assert_array_equal(first_pos.sort_index(), expected[seen].sort_index())
    # tests every 14 days from the origin to the end of follow-up
    n_tests = per_test.groupby("subject_id").size()
    np.testing.assert_array_equal(n_tests.sort_index(), (end // 14 + 1).sort_index())
    # the drawn relapse times follow the documented cure model
    surv = c.lab_truth["relapse_survival"].set_index("years")["survival"]
    assert surv[1.0] == pytest.approx(0.39, abs=0.01)  # Brecht & Herbeck 2014: 61 % relapsed
    empirical = (relapse_day > 365.25).mean()
    assert empirical == pytest.approx(surv[1.0], abs=4 * math.sqrt(0.39 * 0.61 / 400))
    followed = truth["abstinent_3y"].notna()
    assert followed.any()
    np.testing.assert_array_equal(truth.loc[followed, "abstinent_3y"].astype(bool),
                                  relapse_day[followed] > 1095)


def test_hair_segments_and_their_windows(city):
    lab = city.lab_results
    hair = lab[(lab["matrix"] == "hair") & (lab["sample_type"] == "unknown")]
    segments = hair.groupby("sample_id")["segment_cm_from"].nunique()
    assert (segments == 2).any() and (segments == 1).any()
    assert set(zip(hair["segment_cm_from"], hair["segment_cm_to"], strict=True)) == {
        (0.0, 3.0), (3.0, 6.0)
    }
    status = city.lab_truth["status"]
    assert len(status) == (lab["sample_type"] == "unknown").sum()
    # registered people: a segment is truly positive for the person's drug iff its window
    # (1 cm ~ 1 month before collection) reaches before the origin or after the relapse
    reg = city.lab_truth["relapse"].set_index("subject_id")
    rows = hair[hair["group"] == "community_rehabilitation"].merge(
        status, on=["sample_id", "analyte", "segment_cm_from", "segment_cm_to"]
    )
    day = (rows["collected_on"] - rows["subject_id"].map(reg["origin"])).dt.days
    month = 365.25 / 12
    start = day - rows["segment_cm_to"] * month
    end = day - rows["segment_cm_from"] * month
    used = (start < 0) | (end > rows["subject_id"].map(reg["relapse_day"]))
    expected = used & (rows["analyte"] == rows["subject_id"].map(reg["analyte"]))
    assert len(rows) > 100 and expected.any() and (~expected).any()
    np.testing.assert_array_equal(rows["true_positive"], expected)


def test_lab_truth_prevalence_counts_every_test(city):
    lab = city.lab_results
    unknown = lab[lab["sample_type"] == "unknown"]
    prev = city.lab_truth["prevalence"]
    per_analyte = unknown.drop_duplicates(["sample_id", "analyte"]).groupby("analyte").size()
    np.testing.assert_array_equal(prev.groupby("analyte")["tests"].sum().sort_index(),
                                  per_analyte.sort_index())
    assert prev["true_share"].between(0, 1).all()


# ---------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"biomarkers": ["methamphetamin"]}, UnknownNameError, "methamphetamine"),
        ({"true_parameters": "drawn"}, UnknownNameError, "draw"),
        ({"days": 0}, InputError, "days"),
        ({"n_sites": 0}, InputError, "n_sites"),
        ({"start": "not a date"}, InputError, "start"),
        ({"outbreaks": [{"drug": "heroine", "start": "2024-01-02", "days": 3, "factor": 2}]},
         UnknownNameError, "heroin"),
        ({"outbreaks": [{"drug": "methamphetamine", "start": "2024-01-02", "days": 3,
                         "factor": -1}]}, InputError, "factor"),
        ({"registered": {"cure_fraction": 1.5}}, InputError, "cure_fraction"),
        ({"registered": {"folowup_days": 10}}, UnknownNameError, "followup_days"),
        ({"lab_groups": pd.DataFrame({"group": ["x"]})}, InputError, "lab_groups"),
        ({"consumption": pd.DataFrame({"drug": ["mdma"], "level": [1.0]})},
         UnknownNameError, "level_mg_per_day_per_1000"),
        ({"seed": -1}, InputError, "seed"),
    ],
)
def test_bad_input_is_refused_with_a_helpful_error(kwargs, error, match):
    base = {"n_sites": 1, "days": 7, "biomarkers": ["methamphetamine"]}
    with pytest.raises(error, match=match):
        simulate(**{**base, **kwargs})


def test_drug_without_consumption_scenario_needs_one():
    params = FIXTURE_PARAMETERS.assign(drug=["methamphetamine", "crack"])
    with pytest.raises(InputError, match="crack"):
        simulate(n_sites=1, days=7, biomarkers=["benzoylecgonine"], parameters=params,
                 lab=False)
    c = simulate(n_sites=1, days=7, biomarkers=["benzoylecgonine"], parameters=params, lab=False,
                 consumption=pd.DataFrame({"drug": ["crack"], "level_mg_per_day_per_1000": [1.0],
                                           "site_log_sd": [0.1], "trend_per_year": [0.0],
                                           "season_amplitude": [0.0], "season_peak_doy": [1],
                                           "weekday_amplitude": [0.0], "daily_log_sd": [0.1]}))
    assert (c.truth["drug"] == "crack").all()
