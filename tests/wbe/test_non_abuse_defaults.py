"""Non-abuse sources by default (issue 12 item 5): amphetamine from methamphetamine with the
cited default ratio (wbe.chain.AMP_METH_RATIO_DEFAULT, 0.09; source in wbe.chain, authors
unverified), a warning naming morphine (no cited codeine/therapeutic ratio), and an explicit
opt-out (non_abuse=None)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from wbe.backcalc import back_calculate
from wbe.errors import InputError, WBEWarning


def _tables(biomarkers):
    samples = pd.DataFrame({"site": "A", "sampled_on": "2024-01-01", "biomarker": biomarkers,
                            "concentration_ng_per_l": [100.0 + 10 * i
                                                       for i in range(len(biomarkers))],
                            "flow_m3_per_day": 1e5})
    sites = pd.DataFrame({"site": ["A"], "population": [2e5]})
    return samples, sites


def test_amphetamine_is_corrected_by_default_with_the_cited_ratio():
    samples, sites = _tables(["methamphetamine", "amphetamine"])
    kw = dict(n_draws=200, seed=3, parameters="default")
    default = back_calculate(samples, sites, **kw)
    explicit = back_calculate(samples, sites, non_abuse={
        "amphetamine_from_methamphetamine": 0.09}, **kw)
    off = back_calculate(samples, sites, non_abuse=None, **kw)
    name = "consumption_mg_per_day"
    np.testing.assert_array_equal(default[name].values, explicit[name].values)
    amp = dict(biomarker="amphetamine")
    assert (default[name].sel(**amp) < off[name].sel(**amp)).all()
    assert json.loads(default.attrs["non_abuse"]) == {"amphetamine_from_methamphetamine": None}
    assert json.loads(off.attrs["non_abuse"]) == {}


def test_morphine_warns_naming_the_drug_and_opt_out_is_silent():
    samples, sites = _tables(["morphine"])
    with pytest.warns(WBEWarning, match="morphine.*attributed to heroin"):
        back_calculate(samples, sites, n_draws=20, seed=1, parameters="default")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back_calculate(samples, sites, n_draws=20, seed=1, parameters="default",
                       non_abuse=None)


def test_amphetamine_without_methamphetamine_warns():
    samples, sites = _tables(["amphetamine"])
    with pytest.warns(WBEWarning, match="amphetamine: no methamphetamine"):
        back_calculate(samples, sites, n_draws=20, seed=1, parameters="default")


def test_analytic_asks_for_the_opt_out_and_bad_values_are_refused():
    samples, sites = _tables(["methamphetamine", "amphetamine"])
    with pytest.raises(InputError, match="non_abuse=None"):
        back_calculate(samples, sites, method="analytic", parameters="default")
    with pytest.raises(InputError, match="non_abuse"):
        back_calculate(samples, sites, n_draws=10, seed=1, non_abuse="yes")
