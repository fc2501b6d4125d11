"""The administrative 戒断三年巩固率 and the survival estimate S(3 years), on a registry of twelve
people whose categories and Kaplan-Meier curve were counted by hand (see the comments)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from wbe.errors import InputError
from wbe.lab.relapse import (
    abstinence_consolidation_rate,
    abstinence_proportion,
    registry_intervals,
)

REFERENCE = "2023-01-01"


@pytest.fixture
def registry() -> pd.DataFrame:
    rows = [
        # key, start, relapse, exit, reason            -> administrative category
        ("a", "2018-01-01", None, None, None),  # 5 y clean: numerator
        ("b", "2018-06-01", "2019-06-01", None, None),  # relapse in year 1: denominator
        ("c", "2019-01-01", None, "2020-01-01", "moved_away"),  # excluded
        ("d", "2022-01-01", None, None, None),  # 1 y so far: not yet eligible
        ("e", "2021-01-01", "2021-06-01", None, None),  # started < 3 y ago: not yet eligible
        ("f", "2017-01-01", "2021-01-01", None, None),  # relapse after year 3: numerator
        ("g", "2018-03-01", None, "2019-03-01", "death"),  # excluded
        ("h", "2018-03-01", "2018-09-01", "2018-10-01", "compulsory_treatment"),  # denominator
        ("i", "2019-12-01", None, None, None),  # 3 y on 2022-11-30: numerator
        ("j", "2020-01-10", None, None, None),  # 3 y on 2023-01-09: not yet eligible
        ("k", "2018-01-01", "2023-06-01", None, None),  # relapse after the reference: numerator
        ("l", "2016-01-01", None, "2021-01-01", "death"),  # left management: excluded
    ]
    return pd.DataFrame(rows, columns=["subject_key", "abstinence_start", "relapse_date",
                                       "exit_date", "exit_reason"])


def test_administrative_rate_counted_by_hand(registry):
    r = abstinence_consolidation_rate(registry, REFERENCE)
    assert (r.numerator, r.denominator) == (4, 6)  # {a, f, i, k} / {a, f, i, k, b, h}
    assert r.rate == pytest.approx(4 / 6)
    assert r.n_excluded == {"death": 2, "moved_away": 1}
    assert r.n_not_yet_eligible == 3  # d, e (relapsed, but started < 3 y ago), j
    assert r.n_registry == 12
    assert r.numerator + (r.denominator - r.numerator) + sum(r.n_excluded.values()) \
        + r.n_not_yet_eligible == r.n_registry


def test_clopper_pearson_interval_matches_statsmodels(registry):
    r = abstinence_consolidation_rate(registry, REFERENCE, level=0.9)
    lo, hi = proportion_confint(4, 6, alpha=0.1, method="beta")
    assert (r.lower, r.upper) == pytest.approx((lo, hi), rel=1e-10)


def test_survival_estimate_counted_by_hand(registry):
    """Kaplan-Meier by hand: relapses on days 151 (12 at risk), 184 (11) and 365 (10; the
    three censored at day 365 are still at risk), so S(3 y) = 11/12 * 10/11 * 9/10 = 0.75;
    the next relapse is on day 1461, after the horizon."""
    iv = registry_intervals(registry, REFERENCE).set_index("subject_key")
    assert iv.loc["e", "right_days"] == 151 and iv.loc["h", "right_days"] == 184
    assert iv.loc["b", "right_days"] == 365 and iv.loc["f", "right_days"] == 1461
    assert iv.loc["c", "left_days"] == 365 and np.isinf(iv.loc["c", "right_days"])
    assert iv.loc["k", "status"] == "censored"  # the 2023-06 relapse is after the reference
    res = abstinence_proportion(iv.reset_index(), years=3, n_draws=200, seed=2)
    assert res.estimate == pytest.approx(0.75, abs=1e-6)
    assert res.lower < 0.75 < res.upper
    admin = abstinence_consolidation_rate(registry, REFERENCE)
    assert admin.rate < res.estimate  # here: excluding leavers and recent starters lowers it


def test_equal_when_no_one_leaves_and_everyone_is_eligible():
    """With no exits and every start three or more years back the two indicators coincide."""
    starts = pd.date_range("2015-01-01", periods=40, freq="17D")
    relapse = [s + pd.Timedelta(days=30 * (i % 50)) if i % 3 == 0 else None
               for i, s in enumerate(starts)]
    reg = pd.DataFrame({"subject_key": [f"p{i}" for i in range(40)],
                        "abstinence_start": starts, "relapse_date": relapse})
    reg.loc[0, "relapse_date"] = None  # relapse on day 0 is not allowed
    admin = abstinence_consolidation_rate(reg, "2022-01-01")
    surv = abstinence_proportion(registry_intervals(reg, "2022-01-01"), n_draws=50, seed=1)
    assert admin.rate == pytest.approx(surv.estimate, abs=1e-6)


def test_registry_errors_name_the_problem(registry):
    bad = registry.copy()
    bad.loc[1, "relapse_date"] = "2017-01-01"
    with pytest.raises(InputError, match="before abstinence_start"):
        abstinence_consolidation_rate(bad, REFERENCE)
    bad = registry.copy()
    bad.loc[0, "exit_date"] = "2020-01-01"
    with pytest.raises(InputError, match="exit reason"):
        abstinence_consolidation_rate(bad, REFERENCE)
    bad = registry.copy()
    bad.loc[3, "abstinence_start"] = "not a date"
    with pytest.raises(InputError, match="abstinence_start"):
        abstinence_consolidation_rate(bad, REFERENCE)
    with pytest.raises(InputError, match="duplicate"):
        abstinence_consolidation_rate(pd.concat([registry, registry.iloc[:1]]), REFERENCE)
    with pytest.raises(InputError, match="relapse_date"):
        abstinence_consolidation_rate(registry.drop(columns="relapse_date"), REFERENCE)


def test_subject_keys_do_not_appear_in_errors(registry):
    bad = registry.copy()
    bad["subject_key"] = [f"secret-id-{i}" for i in range(len(bad))]
    bad.loc[1, "relapse_date"] = "2017-01-01"
    with pytest.raises(InputError) as err:
        abstinence_consolidation_rate(bad, REFERENCE)
    assert "secret-id" not in str(err.value)
