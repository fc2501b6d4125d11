"""Farrington (flexible) against R surveillance 1.20.3 ``farringtonFlexible``.

Reference numbers: ``tests/models/r/make_reference_farrington.R`` runs
``farringtonFlexible`` on ``salmonella.agona`` (weeks 282-312) and ``campyDE`` (weeks
400-522), datasets shipped with R surveillance, for the default control and seven variants
(two of them the examples of its help page); 12 significant digits. It writes two files:
``farrington_reference.csv`` (R exactly as installed) and ``farrington_reference_tight_glm.csv``
(the same calls with the IRLS of ``stats::glm`` converged to machine precision,
``glm.control(epsilon = 1e-14)``; no farringtonFlexible control changed).
``make_reference_farrington_trend_p.R`` recovers R's (unreported) trend-test p-values by
bisection on ``pThresholdTrend``.

Status (see docs/methods-aberration.md): all 16 series x configuration cases, R's defaults
included, give identical alarms and trend decisions; the bound matches the converged-IRLS R
to rel. 1e-6 (measured 2.5e-8) and R as installed to rel. 2e-5 (R's default glm tolerance
1e-8 stops IRLS early: its own bound moves by up to 1.3e-5 when converged). With
``glm_convergence="r"`` (R's documented IRLS start and stopping rule) the bound matches R as
installed to rel. 1e-6 (measured 4.8e-12).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wbe.errors import InputError, UnknownNameError
from wbe.models import farrington

R_DIR = Path(__file__).parent / "r"

CONFIGS = {
    "default": {},
    "help_control1": dict(no_periods=1, b=4, w=3, weights_threshold=1,
                          past_weeks_not_included=3, p_threshold_trend=0.05, alpha=0.1),
    "help_control2": dict(no_periods=10, b=4, w=3, weights_threshold=2.58,
                          past_weeks_not_included=26, p_threshold_trend=1, alpha=0.1),
    "nbPlugin": dict(threshold_method="nbPlugin"),
    "muan": dict(threshold_method="muan"),
    "sqrt": dict(powertrans="1/2"),
    "none": dict(powertrans="none", trend=False),
    "noreweight": dict(reweight=False, limit54=(3, 2)),
}
SERIES = ("salmonella_agona", "campyDE")
CASES = [pytest.param(s, c, id=f"{s}-{c}") for s in SERIES for c in CONFIGS]


@pytest.fixture(scope="module")
def data():
    return (pd.read_csv(R_DIR / "farrington_input.csv"),
            pd.read_csv(R_DIR / "farrington_reference.csv"),
            pd.read_csv(R_DIR / "farrington_reference_tight_glm.csv"))


def _run(inp, ref, series, config):
    g = ref[(ref.series == series) & (ref.config == config)]
    y = inp.loc[inp.series == series, "observed"].to_numpy(float)
    res = farrington(y, r_range=g.t.to_numpy(), **CONFIGS[config])
    return res.iloc[g.t.to_numpy() - 1], g


def _assert_decisions(res, g):
    np.testing.assert_array_equal(res["trend"].to_numpy(), g.trend.astype(bool).to_numpy())
    np.testing.assert_array_equal(res["alarm"].to_numpy(), g.alarm.astype(bool).to_numpy())
    np.testing.assert_array_equal(res["upperbound"].isna().to_numpy(), g.upperbound.isna())


@pytest.mark.r_reference
@pytest.mark.parametrize(("series", "config"), CASES)
def test_farrington_matches_r_converged_glm(data, series, config):
    """Same algorithm as R, same numbers: R with its GLM fits converged (rel. 1e-6)."""
    inp, _, tight = data
    res, g = _run(inp, tight, series, config)
    _assert_decisions(res, g)
    np.testing.assert_allclose(res["upperbound"].to_numpy(), g.upperbound.to_numpy(),
                               rtol=1e-6, equal_nan=True)
    ok = g.expected.notna().to_numpy()  # R reports 'expected' only where limit54 holds
    np.testing.assert_allclose(res["expected"].to_numpy()[ok], g.expected.to_numpy()[ok],
                               rtol=1e-6)
    np.testing.assert_allclose(res["phi"].to_numpy(), g.phi.to_numpy(), rtol=1e-6)
    kept = g.trend.astype(bool).to_numpy()
    np.testing.assert_allclose(res["trend_coef"].to_numpy()[kept],
                               g.trend_coef.to_numpy()[kept], rtol=1e-6)


@pytest.mark.r_reference
@pytest.mark.parametrize(("series", "config"), CASES)
def test_farrington_matches_r_as_installed(data, series, config):
    """R as installed (glm epsilon 1e-8): identical decisions, bound to rel. 2e-5."""
    inp, ref, _ = data
    res, g = _run(inp, ref, series, config)
    _assert_decisions(res, g)
    np.testing.assert_allclose(res["upperbound"].to_numpy(), g.upperbound.to_numpy(),
                               rtol=2e-5, equal_nan=True)
    np.testing.assert_allclose(res["phi"].to_numpy(), g.phi.to_numpy(), rtol=1e-4)


@pytest.mark.r_reference
@pytest.mark.parametrize(("series", "config"), CASES)
def test_farrington_glm_convergence_r_matches_r_as_installed(data, series, config):
    """With R's documented IRLS start and stopping rule: R as installed to rel. 1e-6."""
    inp, ref, _ = data
    g = ref[(ref.series == series) & (ref.config == config)]
    y = inp.loc[inp.series == series, "observed"].to_numpy(float)
    res = farrington(y, r_range=g.t.to_numpy(), glm_convergence="r", **CONFIGS[config])
    res = res.iloc[g.t.to_numpy() - 1]
    _assert_decisions(res, g)
    np.testing.assert_allclose(res["upperbound"].to_numpy(), g.upperbound.to_numpy(),
                               rtol=1e-6, equal_nan=True)
    np.testing.assert_allclose(res["phi"].to_numpy(), g.phi.to_numpy(), rtol=1e-6)
    assert res.attrs["glm_convergence"] == "r"


def test_farrington_glm_convergence_r_differs_from_exact(data):
    """The "r" fit stops early: its bound is off the converged one, by less than 1e-4."""
    inp, ref, _ = data
    g = ref[(ref.series == "salmonella_agona") & (ref.config == "default")]
    y = inp.loc[inp.series == "salmonella_agona", "observed"].to_numpy(float)
    t = g.t.to_numpy()
    exact = farrington(y, r_range=t)["upperbound"].iloc[t - 1].to_numpy()
    r_rule = farrington(y, r_range=t, glm_convergence="r")["upperbound"].iloc[t - 1].to_numpy()
    rel = np.nanmax(np.abs(r_rule / exact - 1.0))
    assert 1e-7 < rel < 1e-4


def test_r_default_glm_tolerance_explains_the_remaining_difference(data):
    """R's own bound moves by ~1e-5 between glm epsilon 1e-8 and 1e-14 (not a wbe error)."""
    _, ref, tight = data
    rel = np.abs(ref.upperbound / tight.upperbound - 1.0)
    assert 1e-6 < np.nanmax(rel) < 2e-5
    np.testing.assert_array_equal(ref.alarm, tight.alarm)
    np.testing.assert_array_equal(ref.trend, tight.trend)


@pytest.mark.r_reference
def test_farrington_trend_pvalue_matches_r_implied(data):
    """Trend-test p-value vs the threshold at which R keeps the trend (bisection)."""
    inp = data[0]
    ref = pd.read_csv(R_DIR / "farrington_trend_pvalue.csv")
    for config, g in ref.groupby("config"):
        y = inp.loc[inp.series == "salmonella_agona", "observed"].to_numpy(float)
        res = farrington(y, r_range=g.t.to_numpy(), **{**CONFIGS[config], "p_threshold_trend": 1})
        got = res["trend_pvalue"].iloc[g.t.to_numpy() - 1].to_numpy()
        kept = g.trend_pvalue.notna().to_numpy()
        assert kept.sum() >= 20
        np.testing.assert_allclose(got[kept], g.trend_pvalue.to_numpy()[kept], rtol=1e-6,
                                   err_msg=config)


def test_farrington_reference_has_alarms_and_trends(data):
    _, ref, _ = data
    default = ref[ref.config == "default"]
    assert default.alarm.sum() >= 5 and default.trend.sum() >= 20 and (default.trend == 0).any()


def test_farrington_records_parameters_and_insufficient_baseline():
    y = np.arange(100.0) % 7 + 3
    res = farrington(y)
    assert res["upperbound"].iloc[: 5 * 52 + 3].isna().all()  # baseline needs b years + w
    assert not res["alarm"].any()
    assert res.attrs["b"] == 5 and res.attrs["threshold_method"] == "delta"


def test_farrington_bad_input():
    with pytest.raises(UnknownNameError, match="nbPlugin"):
        farrington(np.ones(10), threshold_method="nbplugin")
    with pytest.raises(UnknownNameError):
        farrington(np.ones(10), powertrans="3/4")
    with pytest.raises(InputError, match=">= 0"):
        farrington(np.r_[np.ones(5), -1.0])
    with pytest.raises(InputError):
        farrington(np.ones((2, 10)))


def test_farrington_unknown_glm_convergence():
    with pytest.raises(UnknownNameError, match="exact"):
        farrington(np.ones(10), glm_convergence="R")


# --------------------------------------------------------------------------------------
# The fit is batched over time points: each time point's numbers are those of its own fit
# --------------------------------------------------------------------------------------


def _columns_equal(batched, single, rtol=1e-13):
    for col in batched.columns:
        a, b = batched[col].to_numpy(), single[col].to_numpy()
        if a.dtype == bool:
            np.testing.assert_array_equal(a, b, err_msg=col)
        else:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=0, equal_nan=True, err_msg=col)


@pytest.mark.parametrize("config", ["default", "help_control2", "noreweight"])
def test_batched_weeks_equal_fitting_each_week_alone(data, config):
    """All monitored weeks fitted together give each week the numbers of its own call."""
    inp, ref, _ = data
    g = ref[(ref.series == "campyDE") & (ref.config == config)]
    y = inp.loc[inp.series == "campyDE", "observed"].to_numpy(float)
    t = g.t.to_numpy()[-40:]
    batched = farrington(y, r_range=t, **CONFIGS[config]).iloc[t - 1]
    single = pd.concat([farrington(y, r_range=[ti], **CONFIGS[config]).iloc[[ti - 1]]
                        for ti in t])
    _columns_equal(batched, single)


def test_batches_by_missing_pattern_and_size_give_the_same_numbers(monkeypatch):
    """Weeks with different missing baseline values, and batches capped at 4 weeks."""
    hard_inp = pd.read_csv(R_DIR / "farrington_hard_input.csv")
    y = hard_inp.loc[hard_inp.series == "missing_agona", "observed"].to_numpy(float)
    t = np.arange(282, 313)
    batched = farrington(y, r_range=t).iloc[t - 1]
    single = pd.concat([farrington(y, r_range=[ti]).iloc[[ti - 1]] for ti in t])
    _columns_equal(batched, single)
    from wbe.models import aberration

    monkeypatch.setattr(aberration, "_WEEKS_PER_BATCH", 4)
    _columns_equal(farrington(y, r_range=t).iloc[t - 1], batched)


def test_settling_rounding_cycles_equals_running_the_iterations_out(data, monkeypatch):
    """campyDE has weeks whose converged fit cycles between two deviances 1.3e-15 apart."""
    from wbe.models import aberration

    inp = data[0]
    y = inp.loc[inp.series == "campyDE", "observed"].to_numpy(float)
    t = np.arange(471, 523)
    settle = aberration._settle_cycles
    settled = []

    def counting(done, *args):
        out = settle(done, *args)
        settled.append(int(out.sum() - done.sum()))
        return out

    monkeypatch.setattr(aberration, "_settle_cycles", counting)
    shortcut = farrington(y, r_range=t)
    assert sum(settled) >= 1  # the shortcut was taken
    monkeypatch.setattr(aberration, "_settle_cycles", lambda done, *args: done)
    run_out = farrington(y, r_range=t)
    _columns_equal(shortcut, run_out, rtol=0)


def test_failed_fit_in_a_batch_names_its_time_point(monkeypatch):
    from wbe.errors import ModelError
    from wbe.models import aberration

    glm_fit = aberration._glm_fit
    bad_t0 = 305 - 1  # 0-based time point whose fit fails

    def failing(y, x, weights, convergence="exact"):
        if x.shape[2] > 1 and np.any(x[:, 0, 1] == bad_t0 - 49):  # first lag: 52 - 3
            raise np.linalg.LinAlgError("Singular matrix")
        return glm_fit(y, x, weights, convergence)

    monkeypatch.setattr(aberration, "_glm_fit", failing)
    y = np.random.default_rng(3).poisson(8, 6 * 52).astype(float)
    with pytest.raises(ModelError, match="time point 305 "):
        farrington(y, r_range=np.arange(290, 313))
