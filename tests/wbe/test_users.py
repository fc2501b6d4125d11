"""wbe.users: case definitions computed by hand from back-calculated consumption, uncertain
dose and purity, refusals, and the definition in the attributes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import wbe
from wbe.errors import InputError, UnknownNameError
from wbe.users import DAYS_PER_MONTH, estimate_users, mean_use_days


@pytest.fixture(scope="module")
def result():
    samples = pd.DataFrame({
        "site": ["A", "A", "B", "B"], "sampled_on": ["2024-01-01"] * 4,
        "biomarker": ["methamphetamine", "ketamine"] * 2,
        "concentration_ng_per_l": [100.0, 50.0, 80.0, 20.0],
        "flow_m3_per_day": [200_000.0, 200_000.0, 100_000.0, 100_000.0]})
    sites = pd.DataFrame({"site": ["A", "B"], "population": [500_000.0, 250_000.0]})
    return wbe.back_calculate(samples, sites, n_draws=300, seed=3)


def test_daily_users_by_hand(result):
    meth = result.sel(biomarker=["methamphetamine"])
    out = estimate_users(meth, case_definition="daily", doses_per_use_day=2)
    cons = meth["consumption_mg_per_day"]
    # registry default dose: 30 mg pure methamphetamine per dose (Zuccato 2008)
    np.testing.assert_allclose(out["users"], cons / (30.0 * 2), rtol=1e-12)
    assert out.attrs["case_definition"] == "daily"
    assert "average day" in out.attrs["definition"]
    assert "Zuccato" in out.attrs["inputs"]
    assert out["users"].attrs["units"] == "persons"


def test_past_month_users_by_hand(result):
    meth = result.sel(biomarker=["methamphetamine"])
    share = {1: 0.5, 4: 0.3, 30: 0.2}  # mean 0.5 + 1.2 + 6 = 7.7 days a month
    assert mean_use_days(share) == pytest.approx(7.7)
    out = estimate_users(meth, case_definition="past_month", doses_per_use_day=2,
                         use_days_per_month=share, reference_population=0.7)
    cons = meth["consumption_mg_per_day"]
    np.testing.assert_allclose(out["users"], cons / 60.0 * DAYS_PER_MONTH / 7.7, rtol=1e-12)
    np.testing.assert_allclose(out["prevalence"],
                               out["users"] / (meth["population"] * 0.7), rtol=1e-12)
    assert "past-month" in out["prevalence"].attrs["definition"]
    assert "registered persons" in out.attrs["comparable_with"]


def test_street_dose_and_purity_are_uncertain_inputs(result):
    meth = result.sel(biomarker=["methamphetamine"])
    purity = stats.uniform(0.2, 0.6)  # 20-80 % (illustrative)
    out = estimate_users(meth, case_definition="daily", doses_per_use_day=1,
                         dose_mg=100.0, purity=purity)
    ratio = (meth["consumption_mg_per_day"] / out["users"]).isel(site=0, date=0, biomarker=0)
    # consumption / users = pure dose per use = 100 mg x purity: the draws span 20-80 mg
    assert 20.0 <= float(ratio.min()) and float(ratio.max()) <= 80.0
    assert float(ratio.std()) > 10.0
    assert "uniform" in out.attrs["inputs"]


def test_no_cited_dose_is_refused(result):
    with pytest.raises(InputError, match="no cited typical dose for 'ketamine'"):
        estimate_users(result, case_definition="daily", doses_per_use_day=1)
    out = estimate_users(result, case_definition="daily", doses_per_use_day=1,
                         dose_mg={"methamphetamine": 30.0, "ketamine": 50.0})
    assert np.isfinite(out["users"].sel(biomarker="ketamine")).all()


def test_refusals(result):
    meth = result.sel(biomarker=["methamphetamine"])
    with pytest.raises(UnknownNameError):
        estimate_users(meth, case_definition="weekly", doses_per_use_day=1)
    with pytest.raises(InputError, match="use_days_per_month"):
        estimate_users(meth, case_definition="past_month", doses_per_use_day=1)
    with pytest.raises(InputError, match="use_days_per_month"):
        estimate_users(meth, case_definition="past_month", doses_per_use_day=1,
                       use_days_per_month=40)
    with pytest.raises(InputError, match="purity"):
        estimate_users(meth, case_definition="daily", doses_per_use_day=1, purity=1.5)
    with pytest.raises(InputError, match="doses_per_use_day"):
        estimate_users(meth, case_definition="daily", doses_per_use_day=0)
    with pytest.raises(InputError, match="sum to 1"):
        mean_use_days({1: 0.5, 2: 0.2})
    with pytest.raises(InputError, match="draws"):
        estimate_users(meth.isel(draw=0), case_definition="daily", doses_per_use_day=1)
