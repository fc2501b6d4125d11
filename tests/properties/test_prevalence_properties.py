"""Property tests of wbe.lab.prevalence and the Turnbull estimator (hypothesis)."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from wbe.errors import ImplausibleValueWarning
from wbe.lab.prevalence import prevalence
from wbe.lab.relapse import turnbull

FREQUENTIST = ["wilson", "clopper-pearson", "jeffreys", "agresti-coull"]

counts = st.integers(min_value=1, max_value=5000).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
)
accuracy = st.floats(min_value=0.6, max_value=1.0)
levels = st.sampled_from([0.8, 0.9, 0.95, 0.99])


@settings(max_examples=200, deadline=None)
@given(counts, st.sampled_from(FREQUENTIST), levels)
def test_apparent_interval_contains_estimate(xn, method, level):
    x, n = xn
    r = prevalence(x, n, method=method, level=level)
    assert 0.0 <= r.apparent_lower <= r.apparent <= r.apparent_upper <= 1.0


@settings(max_examples=200, deadline=None)
@given(counts, accuracy, accuracy, st.sampled_from(FREQUENTIST), levels)
def test_true_interval_contains_estimate(xn, se, sp, method, level):
    x, n = xn
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImplausibleValueWarning)
        r = prevalence(x, n, sensitivity=se, specificity=sp, method=method, level=level)
    assert 0.0 <= r.true_lower <= r.true <= r.true_upper <= 1.0


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=3000), st.sampled_from(FREQUENTIST), levels)
def test_bounds_are_monotone_in_positives(n, method, level):
    x = np.arange(n + 1)
    r = prevalence(x, np.full(x.shape, n), method=method, level=level)
    assert np.all(np.diff(r.apparent) > 0)
    assert np.all(np.diff(r.apparent_lower) >= -1e-12)
    assert np.all(np.diff(r.apparent_upper) >= -1e-12)


@settings(max_examples=200, deadline=None)
@given(counts, st.sampled_from(FREQUENTIST), levels)
def test_perfect_test_gives_true_equal_to_apparent(xn, method, level):
    x, n = xn
    r = prevalence(x, n, sensitivity=1.0, specificity=1.0, method=method, level=level)
    assert r.true == r.apparent
    assert r.true_lower == r.apparent_lower
    assert r.true_upper == r.apparent_upper


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=1, max_value=400).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
))
def test_bayes_interval_contains_median(xn):
    x, n = xn
    r = prevalence(x, n, sensitivity=0.9, specificity=0.98, method="bayes")
    assert 0.0 <= r.true_lower <= r.true <= r.true_upper <= 1.0


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(1, 10), st.booleans()),
                min_size=1, max_size=40))
def test_turnbull_masses_form_a_distribution(rows):
    left = np.array([14.0 * a for a, _, _ in rows])
    right = np.array([np.inf if cens else 14.0 * (a + b) for a, b, cens in rows])
    fit = turnbull(left, right)
    assert np.all(fit.mass >= 0)
    assert abs(np.sum(fit.mass) - 1.0) < 1e-9
    assert np.all(np.diff(fit.survival) <= 1e-12)
    # every person's interval holds some mass: the likelihood is finite
    assert np.isfinite(fit.loglik)
