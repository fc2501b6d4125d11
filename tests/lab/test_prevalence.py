"""Tests of wbe.lab.prevalence: prevalence() and positivity().

Reference numbers: ``tests/lab/r/prevalence_reference.csv`` made by
``tests/lab/r/make_prevalence_reference.R`` with R epiR 2.0.57 ``epi.prev`` (Wilson and
Clopper-Pearson intervals, Rogan-Gladen true prevalence), written to 10 significant
digits, hence ``rtol=1e-8``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from statsmodels.stats.proportion import proportion_confint

from wbe.errors import ImplausibleValueWarning, InputError, UnknownNameError
from wbe.lab.prevalence import positivity, prevalence, rogan_gladen

R_DIR = Path(__file__).parent / "r"
EPIR_METHOD = {"wilson": "wilson", "c-p": "clopper-pearson"}


@pytest.fixture(scope="module")
def epir_reference() -> pd.DataFrame:
    """epiR::epi.prev output (see make_prevalence_reference.R)."""
    return pd.read_csv(R_DIR / "prevalence_reference.csv")


@pytest.mark.r_reference
def test_apparent_and_true_prevalence_match_epir(epir_reference):
    for (method, level), ref in epir_reference.groupby(["method", "level"]):
        r = prevalence(
            ref["pos"].to_numpy(),
            ref["tested"].to_numpy(),
            sensitivity=ref["se"].to_numpy(),
            specificity=ref["sp"].to_numpy(),
            method=EPIR_METHOD[method],
            level=level,
        )
        np.testing.assert_allclose(r.apparent, ref["ap_est"], rtol=1e-8)
        np.testing.assert_allclose(r.apparent_lower, ref["ap_lower"], rtol=1e-8)
        np.testing.assert_allclose(r.apparent_upper, ref["ap_upper"], rtol=1e-8)
        np.testing.assert_allclose(r.true, ref["tp_est"], rtol=1e-8)
        # epiR does not clip; where its bound is negative ours is clipped to 0
        np.testing.assert_allclose(r.true_lower, ref["tp_lower"].clip(lower=0), rtol=1e-8)
        np.testing.assert_allclose(r.true_upper, ref["tp_upper"], rtol=1e-8)
        assert (ref["tp_lower"] < 0).any() == (r.true_lower == 0).any()


def test_reference_covers_a_clipped_case(epir_reference):
    # the reference table must exercise clipping, or the test above proves less
    assert (epir_reference["tp_lower"] < 0).sum() >= 4


def test_scalar_input_gives_floats_and_vector_matches_elementwise():
    pos, n = np.array([2, 7, 30, 45]), np.array([50, 60, 90, 50])
    vec = prevalence(pos, n, sensitivity=0.95, specificity=0.98, method="jeffreys")
    for i in range(pos.size):
        one = prevalence(int(pos[i]), int(n[i]), sensitivity=0.95, specificity=0.98,
                         method="jeffreys")
        assert isinstance(one.apparent_lower, float)
        assert one.apparent_lower == pytest.approx(vec.apparent_lower[i], rel=1e-12)
        assert one.true_upper == pytest.approx(vec.true_upper[i], rel=1e-12)


def test_jeffreys_uses_brown_cai_dasgupta_boundary_modification():
    r = prevalence([0, 50], [50, 50], method="jeffreys")
    assert r.apparent_lower[0] == 0.0
    assert r.apparent_upper[1] == 1.0
    # otherwise the equal-tailed Beta(x + 1/2, n - x + 1/2) interval
    assert r.apparent_upper[0] == pytest.approx(stats.beta(0.5, 50.5).ppf(0.975), rel=1e-10)


def test_agresti_coull_matches_formula():
    # Agresti & Coull (1998): p~ = (x + z^2/2)/(n + z^2), p~ -/+ z sqrt(p~(1-p~)/(n + z^2))
    x, n, z = 12, 80, stats.norm.ppf(0.975)
    nt = n + z * z
    pt = (x + z * z / 2) / nt
    half = z * np.sqrt(pt * (1 - pt) / nt)
    r = prevalence(x, n, method="agresti-coull")
    assert r.apparent_lower == pytest.approx(pt - half, rel=1e-10)
    assert r.apparent_upper == pytest.approx(pt + half, rel=1e-10)


def test_rogan_gladen_warns_and_clips_below_one_minus_specificity():
    with pytest.warns(ImplausibleValueWarning, match="below 1 - specificity"):
        r = prevalence(2, 100, sensitivity=0.9, specificity=0.95)
    assert r.true == 0.0
    assert r.true_lower == 0.0
    assert 0.0 < r.true_upper < 1.0


def test_rogan_gladen_warns_above_sensitivity():
    with pytest.warns(ImplausibleValueWarning, match="above sensitivity"):
        r = prevalence(99, 100, sensitivity=0.9, specificity=0.95)
    assert r.true == 1.0


def test_validation_counts_give_point_value_for_frequentist_methods():
    r = prevalence(20, 100, sensitivity=(90, 10), specificity=(95, 5))
    ref = prevalence(20, 100, sensitivity=0.9, specificity=0.95)
    assert r.true == pytest.approx(ref.true, rel=1e-12)
    assert r.sensitivity == 0.9


@pytest.mark.parametrize(
    "kwargs",
    [
        {"positives": 5, "tested": 4},
        {"positives": -1, "tested": 4},
        {"positives": 1.5, "tested": 4},
        {"positives": 0, "tested": 0},
        {"positives": [1, 2], "tested": [3, 4, 5]},
        {"positives": 1, "tested": 4, "sensitivity": 0.5, "specificity": 0.5},
        {"positives": 1, "tested": 4, "sensitivity": 1.2},
        {"positives": 1, "tested": 4, "specificity": "high"},
        {"positives": 1, "tested": 4, "level": 95},
        {"positives": 1, "tested": 4, "method": "bayes", "prior": (0, 1)},
    ],
)
def test_bad_input_raises_input_error(kwargs):
    with pytest.raises(InputError):
        prevalence(**kwargs)


def test_unknown_method_lists_valid_names():
    with pytest.raises(UnknownNameError, match="closest: 'wilson'"):
        prevalence(1, 10, method="wilsn")


def test_rogan_gladen_rejects_uninformative_test():
    with pytest.raises(InputError, match="exceed 1"):
        rogan_gladen(0.3, 0.4, 0.6)


# ---------------------------------------------------------------------------------- bayes


def test_bayes_with_perfect_test_is_the_beta_posterior():
    y, n = np.array([0, 3, 40]), np.array([30, 50, 100])
    r = prevalence(y, n, method="bayes")
    post = stats.beta(y + 1, n - y + 1)
    # grid of 2001 cells with linear interpolation of the CDF
    np.testing.assert_allclose(r.true, post.ppf(0.5), atol=2e-4)
    np.testing.assert_allclose(r.true_lower, post.ppf(0.025), atol=2e-4)
    np.testing.assert_allclose(r.true_upper, post.ppf(0.975), atol=2e-4)
    np.testing.assert_allclose(r.apparent_upper, post.ppf(0.975), rtol=1e-12)


def _quadrature_posterior_quantile(y, n, se, sp, q):
    def dens(p):
        return stats.binom.pmf(y, n, p * se + (1 - p) * (1 - sp))

    total = integrate.quad(dens, 0, 1, epsabs=1e-13)[0]
    grid = np.linspace(0, 1, 20001)
    cdf = integrate.cumulative_trapezoid(dens(grid), grid, initial=0) / total
    return np.interp(q, cdf, grid)


def test_bayes_with_known_accuracy_matches_quadrature():
    y, n, se, sp = 12, 150, 0.85, 0.97
    r = prevalence(y, n, sensitivity=se, specificity=sp, method="bayes", level=0.9)
    expected = _quadrature_posterior_quantile(y, n, se, sp, [0.05, 0.5, 0.95])
    np.testing.assert_allclose([r.true_lower, r.true, r.true_upper], expected, atol=3e-4)


def test_bayes_with_uncertain_accuracy_is_wider_and_reproducible():
    known = prevalence(30, 200, sensitivity=0.9, specificity=0.95, method="bayes")
    vague = prevalence(
        30, 200, sensitivity=(45, 5), specificity=(95, 5), method="bayes", seed=7
    )
    again = prevalence(
        30, 200, sensitivity=(45, 5), specificity=(95, 5), method="bayes", seed=7
    )
    assert again == vague
    assert vague.true_upper - vague.true_lower > 1.2 * (known.true_upper - known.true_lower)
    # overwhelming validation data collapse onto the known-accuracy answer
    sharp = prevalence(
        30, 200, sensitivity=(9_000_000, 1_000_000), specificity=(9_500_000, 500_000),
        method="bayes", seed=7,
    )
    assert sharp.true_lower == pytest.approx(known.true_lower, abs=1e-3)
    assert sharp.true_upper == pytest.approx(known.true_upper, abs=1e-3)


def test_bayes_accepts_scipy_distributions():
    r = prevalence(30, 200, sensitivity=stats.beta(46, 6), specificity=stats.beta(96, 6),
                   method="bayes", seed=3)
    s = prevalence(30, 200, sensitivity=(45, 5), specificity=(95, 5), method="bayes", seed=3)
    assert r.true == pytest.approx(s.true, rel=1e-12)


# ------------------------------------------------------------------------------- coverage


@pytest.mark.slow
@pytest.mark.parametrize("method", ["wilson", "clopper-pearson", "jeffreys"])
def test_true_prevalence_interval_covers_at_nominal_rate(method):
    """Simulated persons with a true status and an imperfect test.

    n = 1000 persons per survey and true prevalence 0.15 give about 150 true users and
    an apparent prevalence of 0.17, far from 0 and 1, where the coverage of these
    intervals oscillates within about one percentage point of nominal (Brown, Cai &
    DasGupta 2001, figs. 1-5); 2000 replicates give a Monte Carlo standard error of 0.5
    percentage points, so 93-97 % is a four-standard-error band (Clopper-Pearson is
    conservative, hence the upper limit of 98 % for it).
    """
    rng = np.random.default_rng(20240601)
    reps, n, pi, se, sp = 2000, 1000, 0.15, 0.9, 0.97
    user = rng.random((reps, n)) < pi
    positive = np.where(user, rng.random((reps, n)) < se, rng.random((reps, n)) > sp)
    r = prevalence(positive.sum(axis=1), n, sensitivity=se, specificity=sp, method=method)
    covered = np.mean((r.true_lower <= pi) & (pi <= r.true_upper))
    upper = 0.98 if method == "clopper-pearson" else 0.97
    assert 0.93 <= covered <= upper


# ------------------------------------------------------------------------------ positivity


def _results(rows):
    frame = pd.DataFrame(
        rows, columns=["subject_key", "sample_id", "group", "drug", "classification"]
    )
    frame["source_row"] = np.arange(2, len(frame) + 2)
    return frame


def test_positivity_counts_persons_by_default():
    res = _results(
        [
            ("a", "s1", "g1", "meth", "positive"),
            ("a", "s2", "g1", "meth", "negative"),
            ("b", "s3", "g1", "meth", "negative"),
            ("b", "s4", "g1", "meth", "negative"),
            ("c", "s5", "g1", "meth", "inconclusive"),
            ("d", "s6", "g1", "meth", "inconclusive"),
            ("d", "s7", "g1", "meth", "positive"),
            ("e", "s8", "g2", "meth", "negative"),
        ]
    )
    t = positivity(res, by=["group", "drug"])
    g1 = t[t["group"] == "g1"].iloc[0]
    assert (g1["tested"], g1["positive"], g1["inconclusive"], g1["persons"]) == (3, 2, 1, 4)
    assert g1["prevalence"] == pytest.approx(2 / 3)
    assert g1["design_effect"] == 1.0
    lo, hi = prevalence(2, 3).apparent_lower, prevalence(2, 3).apparent_upper
    assert (g1["lower"], g1["upper"]) == pytest.approx((lo, hi), rel=1e-12)
    assert bool(g1["small_cell"])
    tests = positivity(res, by=["group", "drug"], count_per="test")
    g1t = tests[tests["group"] == "g1"].iloc[0]
    assert (g1t["tested"], g1t["positive"], g1t["inconclusive"]) == (5, 2, 2)


def test_design_effect_of_perfectly_clustered_tests():
    # 4 persons x 2 tests, a person's tests agree: ratio-estimator variance
    # k/(k-1) sum (y_i - p m_i)^2 / M^2 = 4/3 * 4 / 64 = 1/12; SRS variance 0.25/8 = 1/32
    rows = []
    for person, cls in zip("abcd", ["positive", "positive", "negative", "negative"],
                           strict=True):
        rows += [(person, f"{person}1", "g", "meth", cls), (person, f"{person}2", "g", "meth",
                                                             cls)]
    t = positivity(_results(rows), by=["group"], count_per="test").iloc[0]
    assert t["design_effect"] == pytest.approx(32 / 12, rel=1e-12)
    assert t["n_effective"] == pytest.approx(8 / (32 / 12), rel=1e-12)
    # Wilson interval with n_eff = 3 and p n_eff = 1.5 "positives"
    lo, hi = proportion_confint(1.5, 3.0, alpha=0.05, method="wilson")
    assert (t["lower"], t["upper"]) == pytest.approx((lo, hi), rel=1e-12)


@pytest.mark.slow
def test_design_effect_restores_coverage_of_clustered_tests():
    """Tests cluster within persons (person-level probability ~ Beta with ICC 0.3).

    1000 replicate surveys of 150 persons with 4 tests each, analysed in one call with
    ``by=["replicate"]``. The naive Wilson interval over tests under-covers badly; the
    design-effect interval (Korn & Graubard 1998) covers within 93-97 %.
    """
    rng = np.random.default_rng(11)
    reps, persons, m, mean, icc = 1000, 150, 4, 0.2, 0.3
    a = mean * (1 - icc) / icc
    b = (1 - mean) * (1 - icc) / icc
    p_person = rng.beta(a, b, size=(reps, persons))
    y = rng.random((reps, persons, m)) < p_person[..., None]
    rep, person, test = np.meshgrid(np.arange(reps), np.arange(persons), np.arange(m),
                                    indexing="ij")
    frame = pd.DataFrame(
        {
            "replicate": rep.ravel(),
            "subject_key": rep.ravel() * persons + person.ravel(),
            "sample_id": (rep.ravel() * persons + person.ravel()) * m + test.ravel(),
            "classification": np.where(y.ravel(), "positive", "negative"),
        }
    )
    t = positivity(frame, by=["replicate"], count_per="test")
    covered = np.mean((t["lower"] <= mean) & (mean <= t["upper"]))
    naive = prevalence(t["positive"].to_numpy(), t["tested"].to_numpy())
    naive_cov = np.mean((naive.apparent_lower <= mean) & (mean <= naive.apparent_upper))
    assert 0.93 <= covered <= 0.97
    assert naive_cov < 0.88
    # Kish: deff = 1 + (m - 1) ICC = 1.9 in expectation
    assert t["design_effect"].mean() == pytest.approx(1 + (m - 1) * icc, rel=0.05)


def test_positivity_month_from_collected_on_and_small_cells():
    res = _results([(f"p{i}", f"s{i}", "g", "meth", "negative") for i in range(12)])
    res.loc[0, "classification"] = "positive"
    res["collected_on"] = ["2024-01-15"] * 6 + ["2024-02-03"] * 6
    t = positivity(res, by=["group", "month", "drug"], min_cell=5)
    assert [str(m) for m in t["month"]] == ["2024-01", "2024-02"]
    assert t["small_cell"].tolist() == [True, False]  # 1 positive in January


def test_positivity_refuses_qc_rows_naming_the_source_row():
    res = _results([("a", "s1", "g", "meth", "negative"), ("b", "s2", "g", "meth", "positive")])
    res["sample_type"] = ["unknown", "qc"]
    with pytest.raises(InputError, match="row 3") as info:
        positivity(res, by=["group"])
    assert info.value.column == "sample_type"


def test_positivity_refuses_unknown_classification():
    res = _results([("a", "s1", "g", "meth", "neg")])
    with pytest.raises(InputError, match="classification") as info:
        positivity(res, by=["group"])
    assert info.value.row == 2


def test_positivity_missing_columns_and_unknown_unit():
    res = _results([("a", "s1", "g", "meth", "negative")])
    with pytest.raises(InputError, match="month"):
        positivity(res, by=["group", "month"])
    with pytest.raises(UnknownNameError):
        positivity(res, by=["group"], count_per="sample")
    with pytest.raises(InputError, match="lack"):
        positivity(res.drop(columns="subject_key"), by=["group"])


@pytest.mark.slow
def test_simulated_city_surveys_are_covered_at_nominal_rate():
    """wbe.datasets.simulate: 40 groups x 24 months of 500 urine tests each (960 cells),
    true prevalence 0.15, Se 0.9, Sp 0.97. Counted per person by :func:`positivity` and
    corrected by Rogan-Gladen, the 95 % Wilson intervals cover the simulator's prevalence
    in 93-97 % of cells (Monte Carlo SE 0.7 points; n = 500 keeps the binomial coverage
    oscillation within about a point of nominal)."""
    from wbe.datasets._simulate import simulate

    groups = pd.DataFrame({
        "group": [f"g{i:02d}" for i in range(40)], "matrix": "urine",
        "tests_per_month": 500, "analyte": "methamphetamine", "prevalence": 0.15,
        "sensitivity": 0.9, "specificity": 0.97,
    })
    city = simulate(seed=5, n_sites=1, days=730, lab_groups=groups, lab_qc=False,
                    biomarkers=("methamphetamine",))
    lab = city.lab_results
    lab = lab[lab["group"].isin(groups["group"])]  # leave out the simulated registry
    # classify against the simulator's own cutoff [ng/mL] (wbe.lab's classifier may replace
    # this once it lands)
    cutoff = city.config["cutoffs"]["urine"]["methamphetamine"]
    results = lab.assign(
        subject_key=lab["subject_id"], drug=lab["analyte"],
        classification=np.where(lab["value"].ge(cutoff).fillna(False), "positive", "negative"),
    )
    table = positivity(results, by=["group", "month", "drug"])
    assert len(table) == 960 and (table["tested"] == 500).all()
    r = prevalence(table["positive"].to_numpy(), table["tested"].to_numpy(),
                   sensitivity=0.9, specificity=0.97)
    covered = np.mean((r.true_lower <= 0.15) & (0.15 <= r.true_upper))
    assert 0.93 <= covered <= 0.97
