"""Apparent and true prevalence of drug use from test counts, and positivity tables.

Apparent prevalence is the share of positive tests; true prevalence corrects it for an
imperfect test (sensitivity and specificity below one) by the Rogan-Gladen estimator or by
a Bayesian model in which sensitivity and specificity are themselves uncertain.
:func:`positivity` turns a long table of classified lab results (毛发 / 尿检 阳性率) into
counts per group with intervals, counting persons rather than tests by default.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import logsumexp
from statsmodels.stats.proportion import proportion_confint

from wbe._compat import renamed_arguments
from wbe.errors import ImplausibleValueWarning, InputError, unknown_name_error

__all__ = [
    "METHODS",
    "PrevalenceResult",
    "positivity",
    "prevalence",
    "rogan_gladen",
]

#: Interval methods accepted by :func:`prevalence`.
METHODS = ("wilson", "clopper-pearson", "jeffreys", "agresti-coull", "bayes")

_STATSMODELS_METHOD = {
    "wilson": "wilson",
    "clopper-pearson": "beta",
    "jeffreys": "jeffreys",
    "agresti-coull": "agresti_coull",
}

# Grid over true prevalence and number of Monte Carlo draws of (Se, Sp) for method="bayes".
_GRID_SIZE = 2001
_DEFAULT_DRAWS = 4000


_FRAME_FIELDS = (
    "positives",
    "tested",
    "apparent",
    "apparent_lower",
    "apparent_upper",
    "true",
    "true_lower",
    "true_upper",
)


@dataclass(frozen=True)
class PrevalenceResult:
    """Apparent and true prevalence with interval bounds.

    Every array field has the broadcast shape of ``positives`` and ``tested``; for scalar
    inputs the fields are Python floats.

    Attributes
    ----------
    positives, tested : numpy.ndarray or float
        The counts as given [tests or persons].
    apparent, apparent_lower, apparent_upper : numpy.ndarray or float
        Apparent prevalence ``positives / tested`` and its interval [fraction].
    true, true_lower, true_upper : numpy.ndarray or float
        True prevalence corrected for sensitivity and specificity and its interval
        [fraction], clipped to [0, 1]. For ``method="bayes"`` the estimate is the
        posterior median and the interval is the equal-tailed credible interval.
    sensitivity, specificity : float or numpy.ndarray
        Point values used (the observed fraction or the distribution mean when counts or a
        distribution were given).
    method : str
        Interval method.
    level : float
        Confidence (or credible) level.
    """

    positives: np.ndarray | float
    tested: np.ndarray | float
    apparent: np.ndarray | float
    apparent_lower: np.ndarray | float
    apparent_upper: np.ndarray | float
    true: np.ndarray | float
    true_lower: np.ndarray | float
    true_upper: np.ndarray | float
    sensitivity: float | np.ndarray
    specificity: float | np.ndarray
    method: str
    level: float

    def to_frame(self) -> pd.DataFrame:
        """Return the estimates as a DataFrame (one row per element of the inputs)."""
        data = {name: np.ravel(getattr(self, name)) for name in _FRAME_FIELDS}
        frame = pd.DataFrame(data)
        frame["method"] = self.method
        frame["level"] = self.level
        return frame


def rogan_gladen(apparent, sensitivity, specificity):
    """Rogan-Gladen true prevalence from apparent prevalence (not clipped).

    Parameters
    ----------
    apparent : float or array_like
        Apparent prevalence [fraction].
    sensitivity, specificity : float or array_like
        Test sensitivity and specificity [fraction]; ``sensitivity + specificity > 1``.

    Returns
    -------
    numpy.ndarray
        True prevalence [fraction]; may fall outside [0, 1] when the apparent prevalence
        is below ``1 - specificity`` or above ``sensitivity``.

    Raises
    ------
    InputError
        If ``sensitivity + specificity <= 1`` (the test carries no information).

    Notes
    -----
    .. math:: \\hat\\pi = \\frac{\\hat p + Sp - 1}{Se + Sp - 1}

    The map is increasing in :math:`\\hat p` when :math:`Se + Sp > 1`, so applying it to
    the bounds of an interval for :math:`p` gives an interval for :math:`\\pi`.

    References
    ----------
    Rogan WJ, Gladen B (1978). Estimating prevalence from the results of a screening test.
    American Journal of Epidemiology 107(1):71-76. doi:10.1093/oxfordjournals.aje.a112510

    Examples
    --------
    >>> round(float(rogan_gladen(0.2, 0.9, 0.95)), 6)
    0.176471
    """
    se = np.asarray(sensitivity, dtype=float)
    sp = np.asarray(specificity, dtype=float)
    youden = se + sp - 1.0
    if np.any(youden <= 0):
        raise InputError(
            "sensitivity + specificity must exceed 1 for the Rogan-Gladen correction",
            column="sensitivity",
            value=(float(np.ravel(se)[0]), float(np.ravel(sp)[0])),
        )
    false_positive_rate = 1.0 - sp
    # (p - (1 - Sp)) / (Se - (1 - Sp)): exact when Se = Sp = 1
    return (np.asarray(apparent, dtype=float) - false_positive_rate) / (se - false_positive_rate)


def _as_counts(values, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise InputError(f"expected integer counts, got {arr.dtype}", column=name)
    arr = arr.astype(float)
    bad = ~np.isfinite(arr) | (arr < 0) | (arr != np.round(arr))
    if np.any(bad):
        i = int(np.flatnonzero(np.ravel(bad))[0])
        raise InputError(
            "expected a non-negative whole number", column=name, value=np.ravel(arr)[i]
        )
    return arr


def _check_counts(positives, tested) -> tuple[np.ndarray, np.ndarray]:
    pos = _as_counts(positives, "positives")
    n = _as_counts(tested, "tested")
    try:
        pos, n = (np.array(x) for x in np.broadcast_arrays(pos, n))
    except ValueError:
        raise InputError(
            f"positives (shape {pos.shape}) and tested (shape {n.shape}) do not broadcast",
            column="tested",
        ) from None
    if np.any(n == 0):
        i = int(np.flatnonzero(np.ravel(n == 0))[0])
        raise InputError(f"tested must be positive (element {i} is 0)", column="tested")
    if np.any(pos > n):
        i = int(np.flatnonzero(np.ravel(pos > n))[0])
        raise InputError(
            f"positives exceed tested at element {i}",
            column="positives",
            value=(np.ravel(pos)[i], np.ravel(n)[i]),
        )
    return pos, n


def _beta_from_spec(spec, name: str):
    """Return (point value, frozen Beta or None) for a sensitivity/specificity spec."""
    if hasattr(spec, "rvs") and hasattr(spec, "mean"):
        mean = float(spec.mean())
        if not 0.0 < mean <= 1.0:
            raise InputError(f"{name} distribution has mean {mean}, outside (0, 1]", column=name)
        return mean, spec
    if isinstance(spec, tuple):
        if len(spec) != 2:
            raise InputError(
                f"{name} as a tuple must be two validation counts (hits, misses)",
                column=name, value=spec,
            )
        hit, miss = (float(v) for v in spec)
        if hit < 0 or miss < 0 or hit + miss == 0:
            raise InputError(
                f"{name} validation counts must be non-negative and not both 0", column=name,
                value=spec,
            )
        dist = stats.beta(hit + 1.0, miss + 1.0)
        return hit / (hit + miss), dist
    if np.ndim(spec) > 0:
        try:
            values = np.asarray(spec, dtype=float)
        except (TypeError, ValueError):
            raise InputError(f"{name} must hold numbers", column=name) from None
        if np.any(~(values > 0.0) | (values > 1.0)):
            raise InputError(f"{name} must lie in (0, 1]", column=name)
        return values, None
    try:
        value = float(spec)
    except (TypeError, ValueError):
        raise InputError(
            f"{name} must be a number in (0, 1], a pair of validation counts, or a scipy "
            f"distribution; got {type(spec).__name__}",
            column=name,
        ) from None
    if not 0.0 < value <= 1.0:
        raise InputError(f"{name} must lie in (0, 1]", column=name, value=value)
    return value, None


def _clip_true(est, low, upp, apparent, se, sp):
    below = apparent < 1.0 - sp
    above = apparent > se
    if np.any(below) or np.any(above):
        warnings.warn(
            f"{int(np.sum(below))} apparent prevalence(s) below 1 - specificity and "
            f"{int(np.sum(above))} above sensitivity: the Rogan-Gladen estimate falls "
            "outside [0, 1] and was clipped",
            ImplausibleValueWarning,
            stacklevel=3,
        )
    return np.clip(est, 0.0, 1.0), np.clip(low, 0.0, 1.0), np.clip(upp, 0.0, 1.0)


def _binomial_interval(pos, n, method: str, level: float):
    low, upp = proportion_confint(pos, n, alpha=1.0 - level, method=_STATSMODELS_METHOD[method])
    return _boundaries(np.asarray(low, dtype=float), np.asarray(upp, dtype=float), pos, n)


def _boundaries(low, upp, pos, n):
    """Exact 0 and 1 at x = 0 and x = n, and bounds on the right side of x / n.

    Wilson and Clopper-Pearson have these limits in exact arithmetic (statsmodels returns
    e.g. 7e-18); for Jeffreys they are the modification of Brown, Cai & DasGupta (2001).
    """
    p = pos / n
    low = np.where(pos == 0, 0.0, np.minimum(low, p))
    upp = np.where(pos == n, 1.0, np.maximum(upp, p))
    return np.clip(low, 0.0, 1.0), np.clip(upp, 0.0, 1.0)


def _bayes_true(pos, n, se_dist, sp_dist, se, sp, level, prior, n_draws, seed):
    """Grid posterior of true prevalence, Se and Sp integrated out by Monte Carlo."""
    rng = np.random.default_rng(seed)
    if se_dist is None:
        se_draws = np.full(1, se)
    else:
        se_draws = np.asarray(se_dist.rvs(size=n_draws, random_state=rng), dtype=float)
    if sp_dist is None:
        sp_draws = np.full(1, sp)
    else:
        sp_draws = np.asarray(sp_dist.rvs(size=n_draws, random_state=rng), dtype=float)
    grid = (np.arange(_GRID_SIZE) + 0.5) / _GRID_SIZE  # midpoints of equal cells
    log_prior = stats.beta(*prior).logpdf(grid)
    # apparent prevalence for every (grid point, draw): shape (grid, draws)
    app = grid[:, None] * se_draws[None, :] + (1.0 - grid[:, None]) * (1.0 - sp_draws[None, :])
    app = np.clip(app, 1e-300, 1.0 - 1e-16)
    log_app, log_not = np.log(app), np.log1p(-app)
    flat_pos, flat_n = pos.ravel(), n.ravel()
    q = np.array([(1.0 - level) / 2.0, 0.5, (1.0 + level) / 2.0])
    out = np.empty((flat_pos.size, 3))
    # cell edges (cdf at the right edge of each cell); interpolate linearly within cells
    edges = np.arange(_GRID_SIZE + 1) / _GRID_SIZE
    # One stratum at a time keeps memory at grid x draws; draws stay vectorised.
    for k in range(flat_pos.size):
        # binomial log-likelihood without the constant log C(n, y)
        loglik = flat_pos[k] * log_app + (flat_n[k] - flat_pos[k]) * log_not
        log_post = log_prior + logsumexp(loglik, axis=1)
        weight = np.exp(log_post - logsumexp(log_post))
        cdf = np.cumsum(weight)
        out[k] = np.interp(q, np.concatenate([[0.0], cdf]), edges)
    shape = pos.shape
    return out[:, 1].reshape(shape), out[:, 0].reshape(shape), out[:, 2].reshape(shape)


def _scalarise(value, scalar: bool):
    return float(value) if scalar else value


def prevalence(
    positives,
    tested,
    *,
    sensitivity=1.0,
    specificity=1.0,
    method: str = "wilson",
    level: float = 0.95,
    prior: tuple[float, float] = (1.0, 1.0),
    n_draws: int = _DEFAULT_DRAWS,
    seed=None,
) -> PrevalenceResult:
    """Apparent and true prevalence with interval bounds, vectorised over strata.

    Parameters
    ----------
    positives : int or array_like of int
        Number of positive tests (or persons) [count].
    tested : int or array_like of int
        Number tested [count]; broadcast against ``positives``.
    sensitivity, specificity : float, array_like, (int, int) or scipy.stats frozen distribution
        Test accuracy [fraction]. A float is taken as known; an array gives one known
        value per stratum (broadcast against the counts; not with ``"bayes"``). A tuple
        is validation counts ``(true positives, false negatives)`` for sensitivity and
        ``(true negatives, false positives)`` for specificity, giving a
        Beta(hits + 1, misses + 1) distribution. The frequentist methods use the point
        value (the observed fraction or the mean of the distribution) and ignore its
        uncertainty; ``method="bayes"`` propagates it.
    method : {"wilson", "clopper-pearson", "jeffreys", "agresti-coull", "bayes"}
        Interval for the apparent prevalence (statsmodels ``proportion_confint``), mapped
        to true prevalence by Rogan-Gladen; or the Bayesian posterior of true prevalence.
    level : float
        Confidence or credible level, in (0, 1).
    prior : (float, float)
        Beta prior on true prevalence for ``method="bayes"``; uniform by default. The
        apparent-prevalence interval of ``"bayes"`` is the equal-tailed interval of the
        Beta(positives + a, tested - positives + b) posterior, with the bounds set to 0
        at ``positives = 0`` and 1 at ``positives = tested`` (as Jeffreys, below).
    n_draws : int
        Monte Carlo draws of sensitivity and specificity for ``method="bayes"``.
    seed : int, numpy.random.SeedSequence or numpy.random.Generator, optional
        Random seed for ``method="bayes"`` when sensitivity or specificity is uncertain.

    Returns
    -------
    PrevalenceResult
        Apparent and true prevalence and their bounds.

    Raises
    ------
    InputError
        If counts are negative, fractional, ``positives > tested``, ``tested == 0``,
        sensitivity or specificity lies outside (0, 1], their sum is not above 1, or
        ``level`` is outside (0, 1).
    UnknownNameError
        If ``method`` is not one of :data:`METHODS`.

    Warns
    -----
    ImplausibleValueWarning
        When an apparent prevalence is below ``1 - specificity`` (or above
        ``sensitivity``): the Rogan-Gladen estimate is outside [0, 1] and is clipped.
        Interval bounds outside [0, 1] are clipped without a warning.

    Notes
    -----
    The binomial bounds are 0 at zero positives and 1 when all are positive (exactly;
    for Jeffreys this is the modification of Brown, Cai & DasGupta 2001).

    With apparent prevalence :math:`p = \\pi Se + (1 - \\pi)(1 - Sp)`, the Rogan-Gladen
    estimator is :math:`\\hat\\pi = (\\hat p + Sp - 1)/(Se + Sp - 1)`; it is increasing in
    :math:`\\hat p`, so the bounds of a binomial interval for :math:`p` map to bounds for
    :math:`\\pi` (Rogan & Gladen 1978; this is also what ``epiR::epi.prev`` reports before
    clipping).

    For ``method="bayes"`` the model is :math:`y \\sim \\mathrm{Bin}(n, \\pi Se +
    (1-\\pi)(1-Sp))` with :math:`\\pi \\sim \\mathrm{Beta}(a, b)` and Se, Sp from their
    distributions (Diggle 2011). The marginal posterior of :math:`\\pi` is

    .. math:: f(\\pi \\mid y) \\propto f(\\pi)\\, \\mathrm{E}_{Se, Sp}
              \\left[\\mathrm{Bin}(y; n, \\pi Se + (1-\\pi)(1-Sp))\\right],

    evaluated on a grid of 2001 cells with the expectation taken over ``n_draws`` Monte
    Carlo draws; the estimate is the posterior median and the interval equal-tailed.
    With known Se and Sp no draws are made and the result is deterministic.

    References
    ----------
    Rogan WJ, Gladen B (1978). Estimating prevalence from the results of a screening test.
    American Journal of Epidemiology 107(1):71-76. doi:10.1093/oxfordjournals.aje.a112510

    Brown LD, Cai TT, DasGupta A (2001). Interval estimation for a binomial proportion.
    Statistical Science 16(2):101-133. doi:10.1214/ss/1009213286

    Diggle PJ (2011). Estimating prevalence using an imperfect test. Epidemiology Research
    International 2011:608719. doi:10.1155/2011/608719

    Examples
    --------
    >>> r = prevalence(20, 100, sensitivity=0.9, specificity=0.95)
    >>> round(r.apparent, 3), round(r.apparent_lower, 4), round(r.apparent_upper, 4)
    (0.2, 0.1334, 0.2888)
    >>> round(r.true, 4), round(r.true_lower, 4), round(r.true_upper, 4)
    (0.1765, 0.0981, 0.281)
    >>> r = prevalence([3, 40], [50, 200], method="clopper-pearson")
    >>> r.apparent_upper.round(4).tolist()
    [0.1655, 0.2622]
    """
    if method not in METHODS:
        raise unknown_name_error("prevalence method", method, METHODS, column="method")
    if not 0.0 < float(level) < 1.0:
        raise InputError("level must lie in (0, 1)", column="level", value=level)
    scalar = np.ndim(positives) == 0 and np.ndim(tested) == 0
    pos, n = _check_counts(positives, tested)
    se, se_dist = _beta_from_spec(sensitivity, "sensitivity")
    sp, sp_dist = _beta_from_spec(specificity, "specificity")
    rogan_gladen(0.5, se, sp)  # validates se + sp > 1
    apparent = pos / n

    if method == "bayes":
        if np.ndim(se) > 0 or np.ndim(sp) > 0:
            raise InputError(
                "method 'bayes' takes one sensitivity and one specificity (a number, a "
                "tuple of counts or a distribution), not one per stratum",
                column="sensitivity",
            )
        a, b = (float(v) for v in prior)
        if a <= 0 or b <= 0:
            raise InputError("prior Beta parameters must be positive", column="prior", value=prior)
        post = stats.beta(pos + a, n - pos + b)
        app_low, app_upp = _boundaries(
            post.ppf((1.0 - level) / 2.0), post.ppf((1.0 + level) / 2.0), pos, n
        )
        true, true_low, true_upp = _bayes_true(
            pos, n, se_dist, sp_dist, se, sp, level, (a, b), int(n_draws), seed
        )
    else:
        app_low, app_upp = _binomial_interval(pos, n, method, level)
        true, true_low, true_upp = _clip_true(
            rogan_gladen(apparent, se, sp),
            rogan_gladen(app_low, se, sp),
            rogan_gladen(app_upp, se, sp),
            apparent,
            se,
            sp,
        )

    def s(x):
        return _scalarise(x, scalar)

    return PrevalenceResult(
        positives=s(pos),
        tested=s(n),
        apparent=s(apparent),
        apparent_lower=s(app_low),
        apparent_upper=s(app_upp),
        true=s(true),
        true_lower=s(true_low),
        true_upper=s(true_upp),
        sensitivity=se if np.ndim(se) else float(se),
        specificity=sp if np.ndim(sp) else float(sp),
        method=method,
        level=float(level),
    )


# --------------------------------------------------------------------------------------
# positivity tables
# --------------------------------------------------------------------------------------

_CLASSES = ("positive", "negative", "inconclusive")
_UNITS = ("person", "test")


def _source_row(frame: pd.DataFrame, index) -> int | None:
    if "source_row" in frame.columns:
        return int(frame.loc[index, "source_row"])
    return None


def _prepare_results(results: pd.DataFrame, by: Sequence[str], unit: str) -> pd.DataFrame:
    if not isinstance(results, pd.DataFrame):
        raise InputError(f"expected a pandas DataFrame, got {type(results).__name__}")
    # only the columns used here (a results table has some thirty; copying them all costs)
    used = ["classification", "subject_key", "sample_id", "sample_type", "collected_on",
            "month", "source_row", *by]
    frame = results[[c for c in dict.fromkeys(used) if c in results.columns]].copy()
    if "month" in by and "month" not in frame.columns:
        if "collected_on" not in frame.columns:
            raise InputError(
                "by includes 'month' but the table has neither 'month' nor 'collected_on'",
                column="month",
            )
        collected = pd.to_datetime(frame["collected_on"], errors="coerce", format="mixed")
        bad = collected.isna()
        if bad.any():
            first = frame.index[bad.to_numpy()][0]
            raise InputError(
                "expected a date",
                row=_source_row(frame, first),
                column="collected_on",
                value=frame.loc[first, "collected_on"],
            )
        frame["month"] = collected.dt.to_period("M")
    required = ["classification", "subject_key", *by]
    if unit == "test":
        required.append("sample_id")
    missing = [c for c in dict.fromkeys(required) if c not in frame.columns]
    if missing:
        raise InputError(f"lab results lack column(s) {missing}", column=missing[0])
    if "sample_type" in frame.columns:
        other = frame["sample_type"].astype(str).str.lower() != "unknown"
        if other.any():
            first = frame.index[other.to_numpy()][0]
            raise InputError(
                f"{int(other.sum())} row(s) are calibrators/QC/blanks (sample_type "
                f"{frame.loc[first, 'sample_type']!r}); keep only sample_type == 'unknown'",
                row=_source_row(frame, first),
                column="sample_type",
                value=frame.loc[first, "sample_type"],
            )
    code = _class_codes(frame["classification"])
    bad = code < 0
    if bad.any():
        first = frame.index[bad][0]
        raise InputError(
            f"classification must be one of {list(_CLASSES)}",
            row=_source_row(frame, first),
            column="classification",
            value=frame.loc[first, "classification"],
        )
    for col in ["subject_key", *by] + (["sample_id"] if unit == "test" else []):
        nulls = frame[col].isna()
        if nulls.any():
            first = frame.index[nulls.to_numpy()][0]
            raise InputError(
                "missing value", row=_source_row(frame, first), column=col, value=None
            )
    frame["_code"] = code
    return frame


_CLASS_CODE = {"negative": 0, "inconclusive": 1, "positive": 2}


def _class_codes(classification: pd.Series) -> np.ndarray:
    """0 negative, 1 inconclusive, 2 positive (any case, outer spaces ignored), -1 for a
    missing cell or another word; each distinct cell is read once."""
    codes, uniques = pd.factorize(classification)
    words = pd.Series(uniques, dtype=object).astype("string").str.strip().str.lower()
    table = [_CLASS_CODE.get(w, -1) if isinstance(w, str) else -1 for w in words.tolist()]
    return np.asarray([*table, -1], dtype=np.int64)[codes]


def _cluster_design_effect(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Ratio-estimator design effect with clusters = persons, per cell.

    ``frame`` has one row per test with a 0/1 column ``_y``.
    """
    per_person = frame.groupby([*keys, "subject_key"], observed=True, sort=False)["_y"].agg(
        ["sum", "count"]
    )
    per_person = per_person.reset_index()
    cell = per_person.groupby(keys, observed=True, sort=False)
    total_y = cell["sum"].transform("sum")
    total_m = cell["count"].transform("sum")
    ratio = total_y / total_m
    per_person["_sq"] = (per_person["sum"] - ratio * per_person["count"]) ** 2
    agg = per_person.groupby(keys, observed=True, sort=False).agg(
        k=("subject_key", "size"), m=("count", "sum"), y=("sum", "sum"), sq=("_sq", "sum")
    )
    k = agg["k"].to_numpy(float)
    m = agg["m"].to_numpy(float)
    p = agg["y"].to_numpy(float) / m
    with np.errstate(divide="ignore", invalid="ignore"):
        var_cluster = np.where(k > 1, k / (k - 1.0) * agg["sq"].to_numpy(float) / m**2, np.nan)
        var_srs = p * (1.0 - p) / m
        deff = np.where(var_srs > 0, var_cluster / var_srs, 1.0)
    deff = np.where(np.isfinite(deff), np.maximum(deff, 1.0), 1.0)
    return pd.DataFrame({"design_effect": deff}, index=agg.index)


@renamed_arguments(unit="count_per")
def positivity(
    results: pd.DataFrame,
    by: Sequence[str] = ("group", "month", "drug"),
    *,
    count_per: str = "person",
    method: str = "wilson",
    level: float = 0.95,
    min_cell: int = 5,
) -> pd.DataFrame:
    """Tested, positive, positivity and its interval per cell of a lab results table.

    Parameters
    ----------
    results : pandas.DataFrame
        Classified lab results in the long format of ``docs/data-model.md`` with a
        ``classification`` column (``positive``, ``negative`` or ``inconclusive``) and
        ``subject_key``; ``sample_id`` when ``count_per="test"``. Rows with ``sample_type``
        other than ``unknown`` are refused. When ``by`` holds ``"month"`` and the table
        has no ``month`` column, the month of ``collected_on`` is used.
    by : sequence of str
        Columns defining the cells.
    count_per : {"person", "test"}
        Count persons (a person is positive in a cell if any of their tests is positive,
        negative if all are negative, otherwise inconclusive) or tests (a sample is
        positive if any of its rows in the cell is positive). ``unit=`` is a deprecated
        alias of this argument.
    method : {"wilson", "clopper-pearson", "jeffreys", "agresti-coull"}
        Binomial interval (statsmodels ``proportion_confint``).
    level : float
        Confidence level, in (0, 1).
    min_cell : int
        Cells with fewer than ``min_cell`` tested, with between 1 and ``min_cell - 1``
        positives, or with some positives and fewer than ``min_cell`` negatives (the
        complement, ``tested - positive``) are flagged ``small_cell`` (suppression itself
        is done by the privacy step, not here) [count].

    Returns
    -------
    pandas.DataFrame
        One row per cell with the ``by`` columns and ``tested``, ``positive``,
        ``inconclusive`` (excluded from ``tested``), ``persons``, ``prevalence``,
        ``lower``, ``upper``, ``design_effect``, ``n_effective``, ``small_cell``.

    Raises
    ------
    InputError
        If columns are missing, a classification is not one of the three classes, a key
        is missing, or calibrator/QC/blank rows are present (naming the source row).
    UnknownNameError
        If ``unit`` or ``method`` is unknown.

    Notes
    -----
    With ``count_per="test"`` the tests of one person are correlated. The positivity
    :math:`\\hat p = \\sum_i y_i / \\sum_i m_i` over persons :math:`i = 1..k` with
    :math:`m_i` tests and :math:`y_i` positives is a ratio estimator with variance
    (Kish 1965, ch. 6; Cochran 1977, ch. 6; chapter numbers not re-checked)

    .. math:: \\hat V(\\hat p) = \\frac{k}{k-1}
              \\frac{\\sum_i (y_i - \\hat p\\, m_i)^2}{(\\sum_i m_i)^2}

    and design effect :math:`D = \\hat V / [\\hat p(1-\\hat p)/\\sum m_i]`, which for
    equal cluster sizes estimates Kish's :math:`1 + (\\bar m - 1)\\rho`. :math:`D` is
    truncated below at 1 and the interval is computed with the effective sample size
    :math:`n_{eff} = \\sum m_i / D` and :math:`\\hat p\\, n_{eff}` positives (Korn &
    Graubard 1998). With ``count_per="person"`` there is one observation per person and
    :math:`D = 1`.

    References
    ----------
    Kish L (1965). Survey Sampling. New York: Wiley. ISBN 0-471-48900-X.

    Cochran WG (1977). Sampling Techniques, 3rd ed. New York: Wiley. ISBN 0-471-16240-X.

    Korn EL, Graubard BI (1998). Confidence intervals for proportions with small expected
    number of positive counts estimated from survey data. Survey Methodology
    24(2):193-201.

    Examples
    --------
    >>> import pandas as pd
    >>> results = pd.DataFrame({
    ...     "subject_key": ["a", "a", "b", "c", "d"],
    ...     "sample_id": ["s1", "s2", "s3", "s4", "s5"],
    ...     "group": "community",
    ...     "drug": "methamphetamine",
    ...     "classification": ["positive", "negative", "negative", "negative", "inconclusive"],
    ... })
    >>> table = positivity(results, by=["group", "drug"])
    >>> table[["tested", "positive", "inconclusive", "prevalence"]].to_dict("records")
    [{'tested': 3, 'positive': 1, 'inconclusive': 1, 'prevalence': 0.3333333333333333}]
    """
    unit = count_per  # vocabulary name in the signature (docs/vocabulary.md)
    if unit not in _UNITS:
        raise unknown_name_error("counting unit", unit, _UNITS, column="unit")
    if method not in _STATSMODELS_METHOD:
        raise unknown_name_error(
            "positivity method", method, list(_STATSMODELS_METHOD), column="method"
        )
    by = list(by)
    frame = _prepare_results(results, by, unit)
    member = "subject_key" if unit == "person" else "sample_id"
    grouping = [*by, member] if unit == "person" else [*by, "subject_key", member]
    # one observation per person (or per test) and cell: positive > inconclusive > negative
    obs = frame.groupby(grouping, observed=True, sort=True)["_code"].max().reset_index()
    obs["_y"] = (obs["_code"] == 2).astype(int)
    decided = obs[obs["_code"] != 1]
    keys = by if by else None
    if keys:
        counts = obs.groupby(by, observed=True, sort=True).agg(
            positive=("_y", "sum"),
            inconclusive=("_code", lambda c: int((c == 1).sum())),
            persons=("subject_key", "nunique"),
        )
        counts["tested"] = decided.groupby(by, observed=True, sort=True).size()
    else:
        counts = pd.DataFrame(
            {
                "positive": [int(obs["_y"].sum())],
                "inconclusive": [int((obs["_code"] == 1).sum())],
                "persons": [obs["subject_key"].nunique()],
                "tested": [len(decided)],
            }
        )
    counts["tested"] = counts["tested"].fillna(0).astype(int)
    counts["positive"] = counts["positive"].astype(int)
    if unit == "test" and keys:
        deff = _cluster_design_effect(decided, by)
        counts["design_effect"] = deff["design_effect"].reindex(counts.index).fillna(1.0)
    elif unit == "test":
        decided = decided.assign(_all=0)
        deff = _cluster_design_effect(decided, ["_all"])
        counts["design_effect"] = float(deff["design_effect"].iloc[0])
    else:
        counts["design_effect"] = 1.0
    n = counts["tested"].to_numpy(float)
    y = counts["positive"].to_numpy(float)
    d = counts["design_effect"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, y / n, np.nan)
        n_eff = n / d
    low = np.full(n.shape, np.nan)
    upp = np.full(n.shape, np.nan)
    ok = n > 0
    if ok.any():
        low[ok], upp[ok] = _binomial_interval(p[ok] * n_eff[ok], n_eff[ok], method, level)
    counts["prevalence"] = p
    counts["lower"] = low
    counts["upper"] = upp
    counts["n_effective"] = n_eff
    # the negatives n - y are published implicitly: small or zero (all positive) too
    counts["small_cell"] = (n < min_cell) | ((y > 0) & ((y < min_cell) | (n - y < min_cell)))
    columns = [
        "tested",
        "positive",
        "inconclusive",
        "persons",
        "prevalence",
        "lower",
        "upper",
        "design_effect",
        "n_effective",
        "small_cell",
    ]
    out = counts[columns]
    return out.reset_index() if keys else out.reset_index(drop=True)
