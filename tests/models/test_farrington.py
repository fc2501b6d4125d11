"""Farrington (flexible) against R surveillance 1.20.3 ``farringtonFlexible``.

Reference numbers: ``tests/models/r/make_reference_farrington.R`` runs
``farringtonFlexible`` on ``salmonella.agona`` (weeks 282-312) and ``campyDE`` (weeks
400-522), datasets shipped with R surveillance, for the default control and seven variants
(two of them the examples of its help page); 12 significant digits.

Status (see docs/methods-aberration.md): configurations without reweighting or without a
trend match R (upper bound to rel. 2e-5, identical alarms and trend decisions), and so does
noPeriods=10 on campyDE. With both reweighting and a trend (R's default), R keeps the trend
at points where the documented rule (Wald p-value < pThresholdTrend) on the same fitted model
drops it, and the bound differs by up to 0.6 % even when the trend decision agrees; those
cases are marked ``xfail(strict=True)`` until R's rule is understood.
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
MATCHING = {(s, c) for s in ("salmonella_agona", "campyDE") for c in ("none", "noreweight")}
MATCHING.add(("campyDE", "help_control2"))
SERIES = ("salmonella_agona", "campyDE")


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(R_DIR / "farrington_input.csv"), pd.read_csv(
        R_DIR / "farrington_reference.csv")


def _run(data, series, config):
    inp, ref = data
    g = ref[(ref.series == series) & (ref.config == config)]
    y = inp.loc[inp.series == series, "observed"].to_numpy(float)
    res = farrington(y, range=g.t.to_numpy(), **CONFIGS[config])
    return res.iloc[g.t.to_numpy() - 1], g


def _params(names):
    out = []
    for s in SERIES:
        for c in CONFIGS:
            marks = () if (s, c) in names else (pytest.mark.xfail(
                strict=True, reason="trend retention / bound with reweighting and a trend "
                "differ from R 1.20.3"),)
            out.append(pytest.param(s, c, marks=marks, id=f"{s}-{c}"))
    return out


@pytest.mark.r_reference
@pytest.mark.parametrize(("series", "config"), _params(MATCHING))
def test_farrington_matches_r(data, series, config):
    res, g = _run(data, series, config)
    np.testing.assert_array_equal(res["trend"].to_numpy(), g.trend.astype(bool).to_numpy())
    np.testing.assert_allclose(res["upperbound"].to_numpy(), g.upperbound.to_numpy(),
                               rtol=2e-5, equal_nan=True)
    np.testing.assert_array_equal(res["alarm"].to_numpy(), g.alarm.astype(bool).to_numpy())
    ok = g.expected.notna().to_numpy()
    np.testing.assert_allclose(res["expected"].to_numpy()[ok], g.expected.to_numpy()[ok],
                               rtol=1e-6)
    np.testing.assert_allclose(res["phi"].to_numpy(), g.phi.to_numpy(), rtol=1e-4)


@pytest.mark.r_reference
@pytest.mark.parametrize("series", SERIES)
def test_farrington_no_periods_factor_fitted_mean_matches_r(data, series):
    """noPeriods=10 (Noufaily et al. 2013): the baseline and factor give R's fitted mean."""
    res, g = _run(data, series, "help_control2")
    np.testing.assert_allclose(res["expected"].to_numpy(), g.expected.to_numpy(), rtol=1e-6)
    np.testing.assert_array_equal(res["trend"].to_numpy(), g.trend.astype(bool).to_numpy())


def test_farrington_reference_has_alarms_and_trends(data):
    _, ref = data
    sub = ref[[(s, c) in MATCHING for s, c in zip(ref.series, ref.config, strict=True)]]
    assert sub.alarm.sum() >= 5 and sub.trend.sum() >= 2


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
