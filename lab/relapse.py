"""Relapse (复吸) of registered people from repeated urine or hair test histories.

A person tested every two weeks who relapses is seen positive only at the first test after
the relapse: the relapse time is known only to lie between the last negative and the first
positive test (interval censoring). :func:`turnbull` estimates the distribution of the
time to relapse honestly from these intervals; :func:`kaplan_meier_first_positive` gives
the usual Kaplan-Meier curve on first-positive dates together with a bound on its bias;
:func:`relapse_rate` gives relapses per person-month and :func:`abstinence_proportion` the
probability of being still abstinent three years after the start, S(3 years). The offices'
administrative indicator 戒断三年巩固率, a share of the registry of people under management,
is :func:`abstinence_consolidation_rate`; the two are different numbers (see the methods page,
"Two three-year abstinence indicators").

Times are days since each person's origin (start of abstinence or first negative test).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse, stats
from statsmodels.duration.survfunc import SurvfuncRight

from wbe._compat import renamed_arguments
from wbe.errors import CoverageWarning, InputError, unknown_name_error

__all__ = [
    "DAYS_PER_MONTH",
    "AbstinenceResult",
    "ConsolidationRateResult",
    "KaplanMeierResult",
    "RelapseRateResult",
    "TurnbullResult",
    "abstinence_consolidation_rate",
    "abstinence_proportion",
    "kaplan_meier_first_positive",
    "registry_intervals",
    "relapse_intervals",
    "relapse_rate",
    "turnbull",
]

#: Mean Gregorian month [days] (365.25 / 12).
DAYS_PER_MONTH = 365.25 / 12.0

_RESULTS = {"positive": 2, "inconclusive": 1, "negative": 0}


# --------------------------------------------------------------------------------------
# histories -> censoring intervals
# --------------------------------------------------------------------------------------


def _where(frame: pd.DataFrame, index) -> dict:
    if "source_row" in frame.columns:
        return {"row": int(frame.loc[index, "source_row"])}
    return {}


def relapse_intervals(
    histories: pd.DataFrame,
    *,
    start=None,
    subject: str = "subject_key",
    date: str = "date",
    result: str = "result",
) -> pd.DataFrame:
    """Censoring interval of the time to relapse for every person.

    Parameters
    ----------
    histories : pandas.DataFrame
        One row per test with the person's pseudonym, the test date and its result
        (``positive``, ``negative`` or ``inconclusive``; inconclusive tests carry no
        information and are counted but not used).
    start : str, pandas.Series or mapping, optional
        Start of abstinence per person (release from treatment, registration): a column
        of ``histories`` (the earliest date per person is used) or a mapping
        ``subject_key -> date``. Tests before the start are
        counted in ``n_before_start`` and not used. Without it, a person's origin is the
        date of the first test.
    subject, date, result : str
        Column names.

    Returns
    -------
    pandas.DataFrame
        One row per person: ``subject_key``, ``origin`` (date), ``left_days`` (last
        negative test before the first positive, 0 if none) [days], ``right_days`` (first
        positive test, ``inf`` if none) [days], ``status`` (``relapsed``, ``censored`` or
        ``positive_at_origin``: the first test at the origin is positive, so the person is
        not at risk and estimators leave them out and count them), ``n_tests``,
        ``n_inconclusive``, ``n_before_start``.

    Raises
    ------
    InputError
        If a column is missing, a date cannot be parsed, a result is not one of the three
        classes, or a person has no start date (naming the source row where known).

    Notes
    -----
    The relapse time :math:`T` of a person with last negative test at :math:`L` and
    first positive test at :math:`R` satisfies :math:`L < T \\le R`; a person never
    positive is right-censored, :math:`T > L`. Tests on the same day are merged, a
    positive winning over a negative.

    Examples
    --------
    >>> import pandas as pd
    >>> h = pd.DataFrame({
    ...     "subject_key": ["a", "a", "a", "b", "b"],
    ...     "date": ["2024-01-01", "2024-01-15", "2024-01-29", "2024-01-01", "2024-01-15"],
    ...     "result": ["negative", "negative", "positive", "negative", "negative"],
    ... })
    >>> relapse_intervals(h)[["subject_key", "left_days", "right_days", "status"]]
      subject_key  left_days  right_days    status
    0           a       14.0        28.0  relapsed
    1           b       14.0         inf  censored
    """
    if not isinstance(histories, pd.DataFrame):
        raise InputError(f"expected a pandas DataFrame, got {type(histories).__name__}")
    for col in (subject, date, result):
        if col not in histories.columns:
            raise InputError(f"test histories lack column {col!r}", column=col)
    frame = histories.copy()
    dates = pd.to_datetime(frame[date], errors="coerce", format="mixed")
    bad = dates.isna()
    if bad.any():
        first = frame.index[bad.to_numpy()][0]
        raise InputError(
            "expected a date", column=date, value=frame.loc[first, date], **_where(frame, first)
        )
    codes = frame[result].astype("string").str.strip().str.lower().map(_RESULTS)
    bad = codes.isna()
    if bad.any():
        first = frame.index[bad.to_numpy()][0]
        raise InputError(
            f"result must be one of {list(_RESULTS)}",
            column=result,
            value=frame.loc[first, result],
            **_where(frame, first),
        )
    missing_key = frame[subject].isna()
    if missing_key.any():
        first = frame.index[missing_key.to_numpy()][0]
        raise InputError("missing subject key", column=subject, **_where(frame, first))
    tests = pd.DataFrame(
        {"subject_key": frame[subject].to_numpy(), "day": dates.dt.normalize().to_numpy(),
         "code": codes.astype(int).to_numpy()}
    )
    if start is None:
        origin = tests.groupby("subject_key", sort=True)["day"].min()
    else:
        if isinstance(start, str):
            if start not in frame.columns:
                raise InputError(f"test histories lack the start column {start!r}", column=start)
            raw = pd.to_datetime(frame[start], errors="coerce", format="mixed")
            origin = pd.Series(raw.to_numpy(), index=frame[subject].to_numpy()).groupby(
                level=0, sort=True
            ).min()
        else:
            origin = pd.to_datetime(pd.Series(start), errors="coerce", format="mixed")
            origin = origin.groupby(level=0, sort=True).min()
        origin = origin.dt.normalize()
        lacking = sorted(set(tests["subject_key"]) - set(origin.dropna().index))
        if lacking:
            raise InputError(
                f"{len(lacking)} person(s) have no start date", column=str(start)
                if isinstance(start, str) else "start"
            )
    tests["origin"] = tests["subject_key"].map(origin)
    tests["t"] = (tests["day"] - tests["origin"]).dt.days.astype(float)
    before = tests["t"] < 0
    n_before = before.groupby(tests["subject_key"]).sum()
    n_incon = (tests["code"] == 1).groupby(tests["subject_key"]).sum()
    n_tests = tests.groupby("subject_key").size()
    use = tests[~before & (tests["code"] != 1)]
    # merge same-day tests: positive wins
    use = use.groupby(["subject_key", "t"], sort=True)["code"].max().reset_index()
    pos_t = use[use["code"] == 2].groupby("subject_key")["t"].min()
    use = use.assign(first_pos=use["subject_key"].map(pos_t).fillna(np.inf).to_numpy())
    negs = use[(use["code"] == 0) & (use["t"] < use["first_pos"])]
    last_neg = negs.groupby("subject_key")["t"].max()
    out = pd.DataFrame(index=pd.Index(sorted(n_tests.index), name="subject_key"))
    out["origin"] = origin.reindex(out.index)
    out["right_days"] = pos_t.reindex(out.index).fillna(np.inf).astype(float)
    out["left_days"] = last_neg.reindex(out.index).fillna(0.0).astype(float)
    out["status"] = np.where(np.isinf(out["right_days"]), "censored", "relapsed")
    at_origin = out["right_days"] == 0.0
    out.loc[at_origin, "status"] = "positive_at_origin"
    out["n_tests"] = n_tests.reindex(out.index).astype(int)
    out["n_inconclusive"] = n_incon.reindex(out.index).fillna(0).astype(int)
    out["n_before_start"] = n_before.reindex(out.index).fillna(0).astype(int)
    out = out.reset_index()
    return out[
        ["subject_key", "origin", "left_days", "right_days", "status", "n_tests",
         "n_inconclusive", "n_before_start"]
    ]


def _at_risk(intervals: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(intervals, pd.DataFrame):
        raise InputError(f"expected a pandas DataFrame, got {type(intervals).__name__}")
    for col in ("left_days", "right_days"):
        if col not in intervals.columns:
            raise InputError(
                f"relapse intervals lack column {col!r} (use relapse_intervals)", column=col
            )
    if "status" in intervals.columns:
        return intervals[intervals["status"] != "positive_at_origin"]
    return intervals


def _check_lr(left, right) -> tuple[np.ndarray, np.ndarray]:
    left = np.asarray(left, dtype=float)
    right = np.asarray(right, dtype=float)
    if left.shape != right.shape or left.ndim != 1:
        raise InputError("left and right must be 1-d arrays of the same length")
    if left.size == 0:
        raise InputError("no persons at risk")
    bad = np.isnan(left) | np.isnan(right) | (left < 0) | ~(right > left)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"interval {i} is ({left[i]}, {right[i]}]; expected 0 <= left < right",
            column="right_days",
        )
    return left, right


# --------------------------------------------------------------------------------------
# Turnbull NPMLE
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TurnbullResult:
    """Turnbull nonparametric maximum likelihood estimate of the relapse-time distribution.

    Attributes
    ----------
    left, right : numpy.ndarray
        Innermost (Turnbull) intervals ``(left, right]`` carrying the mass [days];
        ``right`` is ``inf`` for mass beyond the last observation.
    mass : numpy.ndarray
        Probability mass of each innermost interval [fraction].
    survival : numpy.ndarray
        :math:`S` after each innermost interval, ``1 - cumsum(mass)`` [fraction].
    n_subjects : int
        Persons used.
    n_iter : int
        EM-step evaluations (three per accelerated iteration).
    converged : bool
        Whether the largest change in mass fell below the tolerance.
    loglik : float
        Log-likelihood at the estimate.
    """

    left: np.ndarray
    right: np.ndarray
    mass: np.ndarray
    survival: np.ndarray
    n_subjects: int
    n_iter: int
    converged: bool
    loglik: float

    def survival_at(self, days) -> np.ndarray:
        """Survival :math:`S(t)` at ``days`` [days] with the mass of each innermost
        interval spread uniformly over it (the NPMLE fixes only the interval masses).

        Mass in an interval with ``right = inf`` is treated as surviving past every
        finite ``t``.
        """
        t = np.asarray(days, dtype=float)
        left = self.left[None, :]
        right = self.right[None, :]
        tt = t.reshape(-1, 1)
        finite = np.isfinite(right)
        width = np.where(finite, right - left, 1.0)
        frac = np.where(finite, np.clip((tt - left) / width, 0.0, 1.0), 0.0)
        out = 1.0 - (frac * self.mass[None, :]).sum(axis=1)
        return out.reshape(t.shape)


def _innermost(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Turnbull innermost intervals (q, p] for half-open observation intervals (L, R]."""
    # At equal values a right end R=t (closed) comes before a left end L=t (open).
    values = np.concatenate([left, right])
    is_left = np.concatenate([np.ones(left.size, bool), np.zeros(right.size, bool)])
    order = np.lexsort((is_left, values))
    v, lft = values[order], is_left[order]
    starts = np.flatnonzero(lft[:-1] & ~lft[1:])
    return v[starts], v[starts + 1]


_TINY_MASS = 1e-100


def _em_step(p: np.ndarray, alpha, weights: np.ndarray, total: np.ndarray):
    """One self-consistency step for every row of ``p`` (B, m); ``alpha`` is sparse."""
    denom = (alpha @ p.T).T
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(weights > 0, weights / denom, 0.0)
    new = p * (alpha.T @ ratio.T).T / total
    # Masses decaying towards zero would become subnormal floats, which are very slow to
    # compute with; below 1e-100 a mass is zero for every purpose (EM could not revive it).
    new[new < _TINY_MASS] = 0.0
    return new


def _loglik(p: np.ndarray, alpha, weights: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        logs = np.log((alpha @ p.T).T)
    return (np.where(weights > 0, logs, 0.0) * weights).sum(axis=1)


def _em(alpha: np.ndarray, weights: np.ndarray, tol: float, max_iter: int):
    """Self-consistency (EM) iterations, vectorised over rows of ``weights`` (B, n).

    Accelerated by SQUAREM (Varadhan & Roland 2008, scheme S3) with two safeguards: the
    step length is halved towards plain EM while the extrapolation leaves the simplex,
    and a row whose extrapolated step lowers its log-likelihood takes the plain two EM
    steps instead, so every iteration is at least as good as EM. ``max_iter``
    counts EM-step evaluations.
    """
    m = alpha.shape[1]
    # alpha is 0/1 with a contiguous block per person: sparse products are exact, O(nnz)
    # and single-threaded (dense BLAS threads thrash on a loaded machine)
    alpha = sparse.csr_array(alpha)
    total = weights.sum(axis=1, keepdims=True)
    p = np.full((weights.shape[0], m), 1.0 / m)
    converged = False
    evaluations = 0
    while evaluations < max_iter:
        p1 = _em_step(p, alpha, weights, total)
        p2 = _em_step(p1, alpha, weights, total)
        r = p1 - p
        v = p2 - p1 - r
        r_norm = np.sqrt((r * r).sum(axis=1, keepdims=True))
        v_norm = np.sqrt((v * v).sum(axis=1, keepdims=True))
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(v_norm > 0, -r_norm / v_norm, -1.0)
        step = np.minimum(step, -1.0)  # step = -1 is the plain two EM steps
        # Backtrack towards -1 while the extrapolation leaves the simplex: clipping it
        # to zero would remove support points that EM could never revive.
        for _ in range(6):
            jump = p - 2.0 * step * r + step * step * v
            outside = (jump < 0).any(axis=1, keepdims=True)
            if not outside.any():
                break
            step = np.where(outside, (step - 1.0) / 2.0, step)
        jump = np.where((jump < 0).any(axis=1, keepdims=True), p2, jump)
        jump[jump < _TINY_MASS] = 0.0
        jump /= jump.sum(axis=1, keepdims=True)
        new = _em_step(jump, alpha, weights, total)
        evaluations += 3
        worse = _loglik(new, alpha, weights) < _loglik(p2, alpha, weights)
        new = np.where(worse[:, None], p2, new)
        change = np.max(np.abs(new - p))
        p = new
        if change < tol:
            converged = True
            break
    return p, evaluations, converged


def turnbull(left, right, *, tol: float = 1e-9, max_iter: int = 100_000) -> TurnbullResult:
    """Turnbull NPMLE of the distribution of an interval-censored time to relapse.

    Parameters
    ----------
    left : array_like
        Last time known free of relapse (last negative test) [days]; 0 if none.
    right : array_like
        First time known relapsed (first positive test) [days]; ``inf`` when the person
        was never positive (right-censored).
    tol : float
        Stop when no interval mass changes by more than ``tol`` in one EM step.
    max_iter : int
        Largest number of EM iterations.

    Returns
    -------
    TurnbullResult
        Innermost intervals, their masses and the survival after each.

    Raises
    ------
    InputError
        If arrays differ in length, are empty, or some ``left >= right`` or ``left < 0``.

    Notes
    -----
    Each person contributes :math:`P(L_i < T \\le R_i)`. Turnbull (1976) showed that the
    NPMLE puts mass only on the innermost intervals :math:`(q_j, p_j]`, where
    :math:`q_j` is a left end and :math:`p_j` the next right end with no end point
    between them. With :math:`\\alpha_{ij} = 1` when :math:`(q_j, p_j] \\subseteq (L_i,
    R_i]`, the likelihood is :math:`\\prod_i \\sum_j \\alpha_{ij} s_j` and the
    self-consistency (EM) step is

    .. math:: s_j \\leftarrow \\frac{1}{n} \\sum_i
              \\frac{\\alpha_{ij} s_j}{\\sum_k \\alpha_{ik} s_k},

    iterated from equal masses until the largest change in one (accelerated) iteration
    is below ``tol``. Plain EM converges slowly where masses tend to zero; the
    iterations are accelerated by SQUAREM (Varadhan & Roland 2008), which keeps EM's
    fixed point and, with the safeguard used here, never lowers the likelihood. The
    NPMLE is
    unique in the interval masses but not in how mass is spread inside an interval.

    References
    ----------
    Turnbull BW (1976). The empirical distribution function with arbitrarily grouped,
    censored and truncated data. Journal of the Royal Statistical Society B
    38(3):290-295. doi:10.1111/j.2517-6161.1976.tb01597.x

    Varadhan R, Roland C (2008). Simple and globally convergent methods for accelerating
    the convergence of any EM algorithm. Scandinavian Journal of Statistics
    35(2):335-353. doi:10.1111/j.1467-9469.2007.00585.x

    Examples
    --------
    >>> fit = turnbull([0, 14, 14, 28, 28, 42, 0], [14, 28, np.inf, 42, 56, np.inf, 28])
    >>> fit.right.tolist()
    [14.0, 28.0, 42.0, 56.0]
    >>> fit.survival.round(4).tolist()
    [0.7962, 0.5223, 0.2611, 0.0]
    """
    left, right = _check_lr(left, right)
    q, p = _innermost(left, right)
    alpha = ((q[None, :] >= left[:, None]) & (p[None, :] <= right[:, None])).astype(float)
    mass, n_iter, converged = _em(alpha, np.ones((1, left.size)), tol, max_iter)
    mass = mass[0]
    loglik = float(np.sum(np.log(alpha @ mass)))
    return TurnbullResult(
        left=q,
        right=p,
        mass=mass,
        survival=np.clip(1.0 - np.cumsum(mass), 0.0, 1.0),
        n_subjects=int(left.size),
        n_iter=int(n_iter),
        converged=bool(converged),
        loglik=loglik,
    )


# --------------------------------------------------------------------------------------
# Kaplan-Meier on first-positive dates
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KaplanMeierResult:
    """Kaplan-Meier estimate on first-positive dates with a bias bound.

    Attributes
    ----------
    time : numpy.ndarray
        Distinct first-positive times [days].
    survival, lower, upper : numpy.ndarray
        Kaplan-Meier survival and pointwise log-log confidence limits [fraction].
    n_risk, n_events : numpy.ndarray
        Persons at risk and first positives at each time [count].
    max_gap_days : float
        Largest ``right - left`` among relapsed persons [days]: every relapse happened at
        most this long before its first positive test.
    level : float
        Confidence level.
    """

    time: np.ndarray
    survival: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    n_risk: np.ndarray
    n_events: np.ndarray
    max_gap_days: float
    level: float

    def survival_at(self, days) -> np.ndarray:
        """Right-continuous step function :math:`\\hat S_R(t)` at ``days`` [days]."""
        t = np.asarray(days, dtype=float)
        idx = np.searchsorted(self.time, t, side="right") - 1
        s = np.concatenate([[1.0], self.survival])
        return s[idx + 1]

    def bounds_at(self, days) -> tuple[np.ndarray, np.ndarray]:
        """Bounds :math:`(\\hat S_R(t + \\Delta), \\hat S_R(t))` on the relapse-free
        survival at ``days`` implied by the maximal gap :math:`\\Delta` [fraction]."""
        t = np.asarray(days, dtype=float)
        return self.survival_at(t + self.max_gap_days), self.survival_at(t)


def kaplan_meier_first_positive(intervals: pd.DataFrame, *, level: float = 0.95):
    """Kaplan-Meier curve of the time to the first positive test, with its bias bound.

    Parameters
    ----------
    intervals : pandas.DataFrame
        Output of :func:`relapse_intervals` (``left_days``, ``right_days``, ``status``);
        persons positive at origin are left out.
    level : float
        Confidence level of the pointwise interval, in (0, 1).

    Returns
    -------
    KaplanMeierResult
        Survival with log-log pointwise limits and the largest last-negative to
        first-positive gap.

    Raises
    ------
    InputError
        If columns are missing or no one is at risk.

    Notes
    -----
    Relapsed persons are events at their first positive test :math:`R_i`; the others
    are censored at their last negative test :math:`L_i`. The estimate and Greenwood
    standard error come from statsmodels ``SurvfuncRight``; the pointwise interval is
    :math:`\\hat S^{\\exp(\\pm z\\, \\sigma / \\log \\hat S)}` with :math:`\\sigma =
    \\mathrm{se}(\\hat S)/\\hat S` (Kalbfleisch & Prentice 2002, sec. 1.3), as R's
    ``survfit(conf.type = "log-log")``.

    **Bias bound.** The relapse time satisfies :math:`R_i - \\Delta \\le T_i \\le R_i`
    with :math:`\\Delta = \\max_i (R_i - L_i)`. The first-positive curve therefore
    overstates relapse-free survival: for the empirical distributions of a sample
    without censoring :math:`\\hat S_R(t + \\Delta) \\le \\hat S_T(t) \\le \\hat S_R(t)`
    for every :math:`t`, and time quantiles (e.g. the median time to relapse) are too
    late by at most :math:`\\Delta` (on average by about half the test spacing).
    :meth:`KaplanMeierResult.bounds_at` returns the two sides; :func:`turnbull` removes
    the bias.

    References
    ----------
    Kaplan EL, Meier P (1958). Nonparametric estimation from incomplete observations.
    Journal of the American Statistical Association 53(282):457-481.
    doi:10.1080/01621459.1958.10501452

    Kalbfleisch JD, Prentice RL (2002). The Statistical Analysis of Failure Time Data,
    2nd ed. Hoboken: Wiley. doi:10.1002/9781118032985

    Examples
    --------
    >>> import pandas as pd
    >>> iv = pd.DataFrame({"left_days": [0, 14, 14, 28], "right_days": [14, 28, np.inf, 42]})
    >>> km = kaplan_meier_first_positive(iv)
    >>> km.time.tolist(), km.survival.round(4).tolist(), km.max_gap_days
    ([14.0, 28.0, 42.0], [0.75, 0.375, 0.0], 14.0)
    """
    if not 0.0 < float(level) < 1.0:
        raise InputError("level must lie in (0, 1)", column="level", value=level)
    iv = _at_risk(intervals)
    left, right = _check_lr(iv["left_days"], iv["right_days"])
    event = np.isfinite(right)
    time = np.where(event, right, left)
    fit = SurvfuncRight(time, event.astype(int))
    s = np.asarray(fit.surv_prob, dtype=float)
    se = np.asarray(fit.surv_prob_se, dtype=float)
    z = stats.norm.ppf(0.5 + level / 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = se / s
        log_s = np.log(s)
        lower = s ** np.exp(-z * sigma / log_s)
        upper = s ** np.exp(z * sigma / log_s)
    undefined = (s <= 0) | (s >= 1) | ~np.isfinite(lower)
    lower = np.where(undefined, np.nan, lower)
    upper = np.where(undefined, np.nan, upper)
    gaps = right[event] - left[event]
    return KaplanMeierResult(
        time=np.asarray(fit.surv_times, dtype=float),
        survival=s,
        lower=lower,
        upper=upper,
        n_risk=np.asarray(fit.n_risk, dtype=int),
        n_events=np.asarray(fit.n_events, dtype=int),
        max_gap_days=float(gaps.max()) if gaps.size else 0.0,
        level=float(level),
    )


# --------------------------------------------------------------------------------------
# relapse rate
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RelapseRateResult:
    """Relapses per person-month with an exact Poisson interval.

    Attributes
    ----------
    events : int
        Relapses [count].
    person_months : float
        Time at risk [person-months].
    rate, lower, upper : float
        Relapses per person-month and its exact interval [1/person-month].
    event_time : str
        Where in ``(left, right]`` a relapse is placed for the time at risk.
    level : float
        Confidence level.
    """

    events: int
    person_months: float
    rate: float
    lower: float
    upper: float
    event_time: str
    level: float


def relapse_rate(
    intervals: pd.DataFrame, *, event_time: str = "midpoint", level: float = 0.95
) -> RelapseRateResult:
    """Relapse rate per person-month with an exact (Garwood) Poisson interval.

    Parameters
    ----------
    intervals : pandas.DataFrame
        Output of :func:`relapse_intervals`; persons positive at origin are left out.
    event_time : {"midpoint", "right"}
        Time at risk of a relapsed person ends at the midpoint of ``(left, right]``
        (default) or at the first positive test (which overstates time at risk by half a
        test interval on average).
    level : float
        Confidence level, in (0, 1).

    Returns
    -------
    RelapseRateResult
        Events, person-months, rate and interval.

    Raises
    ------
    InputError
        If columns are missing or there is no time at risk.
    UnknownNameError
        If ``event_time`` is unknown.

    Notes
    -----
    With :math:`k` relapses in :math:`T` person-months the exact interval is

    .. math:: \\left[\\tfrac{1}{2T}\\chi^2_{2k,\\,\\alpha/2},\\;
              \\tfrac{1}{2T}\\chi^2_{2k+2,\\,1-\\alpha/2}\\right]

    (Garwood 1936), the interval of R's ``poisson.test``. One month is 365.25/12 days.
    Censored persons contribute time up to their last negative test.

    References
    ----------
    Garwood F (1936). Fiducial limits for the Poisson distribution. Biometrika
    28(3/4):437-442. doi:10.1093/biomet/28.3-4.437

    Examples
    --------
    >>> import pandas as pd
    >>> iv = pd.DataFrame({"left_days": [0, 100, 300], "right_days": [14, 114, np.inf]})
    >>> r = relapse_rate(iv)
    >>> r.events, round(r.person_months, 3), round(r.rate, 4)
    (2, 13.602, 0.147)
    """
    valid = ("midpoint", "right")
    if event_time not in valid:
        raise unknown_name_error("event time", event_time, valid, column="event_time")
    if not 0.0 < float(level) < 1.0:
        raise InputError("level must lie in (0, 1)", column="level", value=level)
    iv = _at_risk(intervals)
    left, right = _check_lr(iv["left_days"], iv["right_days"])
    event = np.isfinite(right)
    end = np.where(event, (left + right) / 2.0 if event_time == "midpoint" else right, left)
    months = float(end.sum()) / DAYS_PER_MONTH
    if months <= 0:
        raise InputError("no time at risk: every person was followed for 0 days")
    k = int(event.sum())
    alpha = 1.0 - level
    lower = 0.0 if k == 0 else stats.chi2.ppf(alpha / 2.0, 2 * k) / (2.0 * months)
    upper = stats.chi2.ppf(1.0 - alpha / 2.0, 2 * k + 2) / (2.0 * months)
    return RelapseRateResult(
        events=k,
        person_months=months,
        rate=k / months,
        lower=float(lower),
        upper=float(upper),
        event_time=event_time,
        level=float(level),
    )


# --------------------------------------------------------------------------------------
# three-year abstinence
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AbstinenceResult:
    """Share of people still abstinent (no positive test) ``years`` after the origin.

    Attributes
    ----------
    years : float
        Horizon [years].
    estimate, lower, upper : float
        Turnbull estimate of :math:`S(t)` and percentile-bootstrap interval [fraction].
    first_positive_km : float
        Kaplan-Meier estimate on first-positive dates, biased upwards (see
        :func:`kaplan_meier_first_positive`) [fraction].
    n_subjects : int
        Persons at risk at origin.
    n_followed : int
        Persons with a last negative test at or after the horizon [count]; the estimate
        is extrapolated by the NPMLE when this is small.
    n_boot : int
        Bootstrap replicates.
    level : float
        Confidence level.
    """

    years: float
    estimate: float
    lower: float
    upper: float
    first_positive_km: float
    n_subjects: int
    n_followed: int
    n_boot: int
    level: float


@renamed_arguments(n_boot="n_draws")
def abstinence_proportion(
    intervals: pd.DataFrame,
    *,
    years: float = 3.0,
    level: float = 0.95,
    n_draws: int = 500,
    seed=None,
    tol: float = 1e-7,
) -> AbstinenceResult:
    """Probability of abstinence ``years`` after the start, S(t), from interval-censored data.

    The epidemiological counterpart of 戒断三年未复吸; the administrative share offices
    publish (戒断三年巩固率) is :func:`abstinence_consolidation_rate`.

    Parameters
    ----------
    intervals : pandas.DataFrame
        Output of :func:`relapse_intervals`; persons positive at origin are left out.
    years : float
        Horizon [years]; 3 for the Chinese three-year abstinence indicator.
    level : float
        Confidence level, in (0, 1).
    n_draws : int
        Nonparametric bootstrap replicates (persons resampled with replacement) [count]
        (``n_boot=`` is a deprecated alias).
    seed : int, numpy.random.SeedSequence or numpy.random.Generator, optional
        Seed of the bootstrap.
    tol : float
        EM tolerance of the bootstrap fits.

    Returns
    -------
    AbstinenceResult
        Turnbull estimate with a percentile-bootstrap interval, and the first-positive
        Kaplan-Meier value for comparison.

    Raises
    ------
    InputError
        If columns are missing, no one is at risk, or ``years`` is not positive.

    Warns
    -----
    CoverageWarning
        When no person's last negative test is at or after the horizon: :math:`S(t)` is
        then not identified and the reported value (mass beyond the data counted as
        surviving) is an upper bound.

    Notes
    -----
    The estimate is :math:`\\hat S(t)` of :func:`turnbull` at :math:`t = 365.25 \\cdot`
    ``years`` days (mass spread uniformly inside innermost intervals). The interval is
    the percentile interval of :math:`\\hat S(t)` over bootstrap resamples of persons
    (Efron & Tibshirani 1993); each resample is fitted by EM on the innermost intervals
    of the full sample (a superset of each resample's own, so the maximum is the same),
    all resamples at once as one matrix iteration. Under interval censoring with
    continuous inspection times the NPMLE converges slower than :math:`\\sqrt n` and the
    bootstrap is not guaranteed (Sun 2006, ch. 3); with tests on a fixed schedule
    (every two weeks) the estimate is a finite-dimensional multinomial MLE on the visit
    grid, where the percentile bootstrap is the usual choice. Its coverage is checked by
    simulation in the tests, not proven here.

    References
    ----------
    Turnbull BW (1976). The empirical distribution function with arbitrarily grouped,
    censored and truncated data. Journal of the Royal Statistical Society B
    38(3):290-295. doi:10.1111/j.2517-6161.1976.tb01597.x

    Efron B, Tibshirani RJ (1993). An Introduction to the Bootstrap. New York: Chapman &
    Hall. doi:10.1201/9780429246593

    Sun J (2006). The Statistical Analysis of Interval-censored Failure Time Data. New
    York: Springer. doi:10.1007/0-387-37119-2

    Examples
    --------
    >>> import pandas as pd
    >>> iv = pd.DataFrame({"left_days": [0, 300, 1100, 1200, 400],
    ...                    "right_days": [14, 314, np.inf, np.inf, 414]})
    >>> r = abstinence_proportion(iv, n_draws=200, seed=1)
    >>> round(r.estimate, 3), r.n_followed
    (0.4, 2)
    """
    n_boot = n_draws  # vocabulary name in the signature (docs/vocabulary.md)
    if not float(years) > 0:
        raise InputError("years must be positive", column="years", value=years)
    if not 0.0 < float(level) < 1.0:
        raise InputError("level must lie in (0, 1)", column="level", value=level)
    iv = _at_risk(intervals)
    left, right = _check_lr(iv["left_days"], iv["right_days"])
    horizon = 365.25 * float(years)
    if not np.any(left >= horizon):
        warnings.warn(
            f"no person was followed relapse-free to {years} years; the Turnbull estimate "
            "there is not identified and the value reported is its upper bound",
            CoverageWarning,
            stacklevel=2,
        )
    fit = turnbull(left, right)
    estimate = float(fit.survival_at(horizon))
    km = kaplan_meier_first_positive(iv, level=level)
    alpha = ((fit.left[None, :] >= left[:, None]) & (fit.right[None, :] <= right[:, None]))
    rng = np.random.default_rng(seed)
    n = left.size
    idx = rng.integers(0, n, size=(int(n_boot), n))
    weights = np.zeros((int(n_boot), n))
    np.add.at(weights, (np.repeat(np.arange(int(n_boot)), n), idx.ravel()), 1.0)
    boot_mass, _, _ = _em(alpha.astype(float), weights, tol, 20000)
    finite = np.isfinite(fit.right)
    width = np.where(finite, fit.right - fit.left, 1.0)
    frac = np.where(finite, np.clip((horizon - fit.left) / width, 0.0, 1.0), 0.0)
    boot_s = 1.0 - boot_mass @ frac
    lo, hi = np.quantile(boot_s, [(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    return AbstinenceResult(
        years=float(years),
        estimate=estimate,
        lower=float(lo),
        upper=float(hi),
        first_positive_km=float(km.survival_at(horizon)),
        n_subjects=int(n),
        n_followed=int(np.sum(left >= horizon)),
        n_boot=int(n_boot),
        level=float(level),
    )


# --------------------------------------------------------------------------------------
# the administrative indicator 戒断三年巩固率, from the registry of people under management
# --------------------------------------------------------------------------------------

#: Registry columns read by :func:`abstinence_consolidation_rate` and
#: :func:`registry_intervals` (``exit_date`` and ``exit_reason`` may be absent).
_REGISTRY_COLUMNS = ("subject_key", "abstinence_start", "relapse_date")


@dataclass(frozen=True)
class ConsolidationRateResult:
    """The administrative three-year abstinence consolidation rate (戒断三年巩固率).

    Attributes
    ----------
    reference_date : pandas.Timestamp
        Date the indicator is computed at.
    years : float
        Length of the abstinence required [years].
    numerator : int
        Eligible persons with no relapse recorded within ``years`` of the start of their
        abstinence (戒断三年未复吸人员) [persons].
    denominator : int
        Eligible persons [persons].
    rate : float
        ``numerator / denominator`` [fraction]; NaN when no one is eligible.
    lower, upper : float
        Clopper-Pearson interval of ``rate`` at ``level``, read as the interval of the
        probability that a person of this registry completes ``years`` without a recorded
        relapse (the count itself is a census and has no sampling error) [fraction].
    level : float
        Confidence level of the interval.
    n_registry : int
        Rows of the registry [persons].
    n_not_yet_eligible : int
        Persons whose abstinence started less than ``years`` before the reference date,
        relapsed or not: neither in the numerator nor in the denominator [persons].
    n_excluded : dict
        Eligible persons removed from numerator and denominator because they left
        management before the reference date without a relapse recorded in their window,
        by exit reason [persons].
    """

    reference_date: pd.Timestamp
    years: float
    numerator: int
    denominator: int
    rate: float
    lower: float
    upper: float
    level: float
    n_registry: int
    n_not_yet_eligible: int
    n_excluded: dict


def _registry_dates(registry: pd.DataFrame, reference_date) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Validate a registry and return it with parsed dates (NaT where empty)."""
    if not isinstance(registry, pd.DataFrame):
        raise InputError(f"expected a pandas DataFrame, got {type(registry).__name__}")
    for col in _REGISTRY_COLUMNS:
        if col not in registry.columns:
            raise InputError(f"registry lacks column {col!r}", column=col)
    reference = pd.to_datetime(pd.Series([reference_date]), errors="coerce").iloc[0]
    if pd.isna(reference):
        raise InputError("expected a reference date", column="reference_date",
                         value=reference_date)
    out = pd.DataFrame({"subject_key": registry["subject_key"].to_numpy()})
    if out["subject_key"].isna().any():
        first = int(np.flatnonzero(out["subject_key"].isna().to_numpy())[0])
        raise InputError("missing subject key", column="subject_key",
                         **_where(registry, registry.index[first]))
    if out["subject_key"].duplicated().any():
        raise InputError("the registry must hold one row per person (duplicate subject key)",
                         column="subject_key")
    for col in ("abstinence_start", "relapse_date", "exit_date"):
        raw = registry[col] if col in registry.columns else pd.Series(pd.NaT, index=registry.index)
        parsed = pd.to_datetime(raw, errors="coerce", format="mixed")
        blank = raw.isna() | (raw.astype("string").str.strip() == "")
        bad = parsed.isna() & ~blank
        if col == "abstinence_start":
            bad = bad | blank
        if bad.any():
            first = registry.index[bad.to_numpy()][0]
            raise InputError("expected a date", column=col, value=registry.loc[first, col],
                             **_where(registry, first))
        out[col] = parsed.dt.normalize().to_numpy()
    reasons = (registry["exit_reason"] if "exit_reason" in registry.columns
               else pd.Series(pd.NA, index=registry.index))
    out["exit_reason"] = reasons.astype("string").str.strip().to_numpy()
    early = out["relapse_date"] < out["abstinence_start"]
    if early.any():
        first = registry.index[early.to_numpy()][0]
        raise InputError("relapse_date is before abstinence_start (give the first relapse "
                         "after the start of the current abstinence)", column="relapse_date",
                         **_where(registry, first))
    no_reason = out["exit_date"].notna() & out["exit_reason"].isna()
    if no_reason.any():
        first = registry.index[no_reason.to_numpy()][0]
        raise InputError("an exit date needs an exit reason (death, moved_away, ...)",
                         column="exit_reason", **_where(registry, first))
    # what the office knows at the reference date: later events have not happened yet
    out.loc[out["relapse_date"] > reference, "relapse_date"] = pd.NaT
    late_exit = out["exit_date"] > reference
    out.loc[late_exit, "exit_date"] = pd.NaT
    out.loc[late_exit, "exit_reason"] = pd.NA
    if (out["abstinence_start"] > reference).any():
        first = registry.index[(out["abstinence_start"] > reference).to_numpy()][0]
        raise InputError("abstinence_start is after the reference date",
                         column="abstinence_start", **_where(registry, first))
    return out, reference


def abstinence_consolidation_rate(
    registry: pd.DataFrame,
    reference_date,
    *,
    years: float = 3.0,
    level: float = 0.95,
) -> ConsolidationRateResult:
    """The administrative 戒断三年巩固率 from the registry of people under management.

    Parameters
    ----------
    registry : pandas.DataFrame
        One row per person under management: ``subject_key`` (pseudonym),
        ``abstinence_start`` (date the current abstinence began: release from compulsory
        isolation or end of community treatment, as registered), ``relapse_date`` (date
        of the first relapse recorded after that start, empty if none) and optionally
        ``exit_date`` / ``exit_reason`` (date and reason the person left management:
        ``death``, ``moved_away``, ``compulsory_treatment``, ``prison`` ...; empty if
        still managed). An optional ``source_row`` column is used in error messages.
    reference_date : str or datetime-like
        Date the indicator is computed at (for example the end of the reporting
        period). Relapses and exits after it are ignored.
    years : float
        Required abstinence [years]; 3 for 戒断三年.
    level : float
        Confidence level of the Clopper-Pearson interval.

    Returns
    -------
    ConsolidationRateResult

    Raises
    ------
    InputError
        If a column is missing, a date cannot be parsed, a subject key is missing or
        repeated, a relapse precedes the start, a start follows the reference date or an
        exit has no reason (naming the row where known).

    Notes
    -----
    Let :math:`s_i` be person *i*'s abstinence start, :math:`r_i` the first recorded
    relapse, :math:`e_i` the exit date and :math:`T` = ``years`` (365.25 days each),
    :math:`t_0` the reference date. Only events up to :math:`t_0` count.

    * **Eligible**: :math:`s_i + T \\le t_0` (abstinence started at least :math:`T` years
      before the reference date). Everyone else is **not yet eligible**, whether or not a
      relapse is recorded: neither numerator nor denominator.
    * **Relapsed**: eligible, and a relapse recorded in the window,
      :math:`r_i < s_i + T`, before any exit. In the denominator, never in the numerator,
      whether or not the person later left management (e.g. to compulsory treatment).
    * **Excluded**: eligible, no relapse recorded in the window, and left management
      before :math:`t_0` (any exit reason: death, moved away, prison, ...). No longer
      "under management" (在管): neither numerator nor denominator; counted in
      ``n_excluded`` by reason.
    * **Numerator** (戒断三年未复吸): eligible, no relapse recorded in the window, still
      under management. A relapse recorded after the :math:`T`-th anniversary does not
      remove a person from the numerator (the person did complete :math:`T` years).
    * **Denominator**: numerator plus relapsed.

    This is an administrative share: it counts *recorded* relapses (a urine test every
    two weeks sees a few days of each fortnight), treats exits as if the person had
    never been registered, and mixes every cohort that started three or more years ago.
    The epidemiological quantity with the same name is the survival probability
    :math:`S(T)` of the time to relapse, estimated with censoring at exits and at the
    reference date by :func:`abstinence_proportion` on :func:`registry_intervals`; the
    two agree only when nobody leaves management and every relapse is recorded (see
    the methods page, "Two three-year abstinence indicators"). The exact rules of
    Chinese offices are not published in a form this library could verify; the rule
    above is the reading of "戒断三年未复吸人员 / 在管人员" stated in the seed reports
    (for example Wuzhong 2022: 7,792 people, 91.87 %) and is a documented assumption.

    Examples
    --------
    >>> import pandas as pd
    >>> reg = pd.DataFrame({
    ...     "subject_key": ["a", "b", "c", "d"],
    ...     "abstinence_start": ["2018-01-01", "2018-06-01", "2019-01-01", "2022-01-01"],
    ...     "relapse_date": [None, "2019-06-01", None, None],
    ...     "exit_date": [None, None, "2020-01-01", None],
    ...     "exit_reason": [None, None, "moved_away", None],
    ... })
    >>> r = abstinence_consolidation_rate(reg, "2023-01-01")
    >>> r.numerator, r.denominator, r.n_excluded, r.n_not_yet_eligible
    (1, 2, {'moved_away': 1}, 1)
    """
    if not float(years) > 0:
        raise InputError("years must be positive", column="years", value=years)
    if not 0.0 < float(level) < 1.0:
        raise InputError("level must lie in (0, 1)", column="level", value=level)
    reg, reference = _registry_dates(registry, reference_date)
    horizon = reg["abstinence_start"] + pd.to_timedelta(365.25 * float(years), unit="D")
    eligible = (horizon <= reference).to_numpy()
    exited = reg["exit_date"].notna().to_numpy()
    # a relapse counts if recorded within the window and not after the person left
    relapsed = (reg["relapse_date"] < horizon).to_numpy() & ~(
        exited & (reg["exit_date"] < reg["relapse_date"]).to_numpy())
    in_denominator_relapsed = eligible & relapsed
    excluded = eligible & ~relapsed & exited
    completed = eligible & ~relapsed & ~exited
    not_yet = ~eligible
    numerator = int(completed.sum())
    denominator = int(numerator + in_denominator_relapsed.sum())
    reasons = reg.loc[excluded, "exit_reason"].value_counts().sort_index()
    if denominator:
        rate = numerator / denominator
        alpha = 1.0 - float(level)
        lower = stats.beta.ppf(alpha / 2, numerator, denominator - numerator + 1)
        upper = stats.beta.ppf(1 - alpha / 2, numerator + 1, denominator - numerator)
        lower = 0.0 if numerator == 0 else float(lower)
        upper = 1.0 if numerator == denominator else float(upper)
    else:
        rate = lower = upper = float("nan")
    return ConsolidationRateResult(
        reference_date=reference,
        years=float(years),
        numerator=numerator,
        denominator=denominator,
        rate=float(rate),
        lower=lower,
        upper=upper,
        level=float(level),
        n_registry=len(reg),
        n_not_yet_eligible=int(not_yet.sum()),
        n_excluded={str(k): int(v) for k, v in reasons.items()},
    )


def registry_intervals(registry: pd.DataFrame, reference_date) -> pd.DataFrame:
    """Relapse intervals from a registry, for :func:`abstinence_proportion`.

    Parameters
    ----------
    registry : pandas.DataFrame
        As for :func:`abstinence_consolidation_rate`.
    reference_date : str or datetime-like
        End of follow-up; relapses and exits after it are ignored.

    Returns
    -------
    pandas.DataFrame
        One row per person: ``subject_key``, ``origin`` (abstinence start),
        ``left_days``, ``right_days`` [days since origin] and ``status``. A recorded
        relapse on day :math:`d` is the interval :math:`(d - 1, d]` (dates are known to
        the day); a person without a recorded relapse is right-censored at the exit date
        or the reference date, whichever comes first, unlike the administrative rate,
        which drops people who leave.

    Raises
    ------
    InputError
        As for :func:`abstinence_consolidation_rate`; also when a relapse or exit is
        recorded on the start day itself.

    Examples
    --------
    >>> import pandas as pd
    >>> reg = pd.DataFrame({"subject_key": ["a", "b"],
    ...                     "abstinence_start": ["2020-01-01", "2020-01-01"],
    ...                     "relapse_date": ["2020-01-31", None]})
    >>> registry_intervals(reg, "2021-01-01")[["left_days", "right_days", "status"]]
       left_days  right_days    status
    0       29.0        30.0  relapsed
    1      366.0         inf  censored
    """
    reg, reference = _registry_dates(registry, reference_date)
    relapse_days = (reg["relapse_date"] - reg["abstinence_start"]).dt.days.astype(float)
    end = reg["exit_date"].where(reg["exit_date"].notna(), reference)
    relapsed = reg["relapse_date"].notna() & ~(reg["relapse_date"] > end)
    censor_days = (end - reg["abstinence_start"]).dt.days.astype(float)
    left = np.where(relapsed, relapse_days - 1.0, censor_days)
    right = np.where(relapsed, relapse_days, np.inf)
    bad = (relapsed & (relapse_days < 1)) | (~relapsed & (censor_days <= 0))
    if bad.any():
        first = registry.index[np.asarray(bad)][0]
        raise InputError("a relapse or exit on the start day leaves no time at risk",
                         column="relapse_date", **_where(registry, first))
    return pd.DataFrame({
        "subject_key": reg["subject_key"].to_numpy(),
        "origin": reg["abstinence_start"].to_numpy(),
        "left_days": left,
        "right_days": right,
        "status": np.where(relapsed, "relapsed", "censored"),
    })
