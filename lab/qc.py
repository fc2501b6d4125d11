"""Batch quality control of hair and urine LC-MS/MS runs: accept or reject, and why.

A batch (one analytical run) holds calibrators, quality-control (QC) samples, blanks and
unknowns (docs/data-model.md, ``sample_type``). :func:`qc_report` checks, per analyte,

- the calibration curve (:func:`fit_calibration`: linear or quadratic, unweighted or
  weighted 1/x or 1/x², statsmodels WLS) and the back-calculated accuracy of the
  calibrators (:func:`calibrator_acceptance`);
- the accuracy of the QC samples in the run;
- the Westgard multirule over the QC results of this and earlier runs (:func:`westgard`);
- ion ratios (:func:`ion_ratio_tolerance`) and retention times of the samples against
  the calibrators;
- carry-over into the blank injected after the highest calibrator;

and reports the limits of detection and quantification (:func:`limits_from_calibration`,
:func:`limits_from_blanks`). The result is a frozen :class:`QCReport` with a verdict per
check and a tidy table.

Extra batch columns used here (kept by the readers when the export has them):
``nominal`` (expected concentration of calibrators and QC samples, in the unit of
``value``), ``response`` (analyte/internal-standard area ratio or area), ``ion_ratio``
(qualifier/quantifier), ``retention_time_min`` [min], ``injection_order`` and
``qc_level``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from numpy.lib.stride_tricks import sliding_window_view

from wbe._compat import renamed_arguments
from wbe.errors import InputError, unknown_name_error

__all__ = [
    "CALIBRATION_MODELS",
    "ION_RATIO_RULES",
    "WEIGHTINGS",
    "WESTGARD_RULES",
    "CalibrationFit",
    "QCCheck",
    "QCReport",
    "WestgardResult",
    "calibrator_acceptance",
    "fit_calibration",
    "ion_ratio_tolerance",
    "limits_from_blanks",
    "limits_from_calibration",
    "qc_report",
    "retention_time_ok",
    "westgard",
]

CALIBRATION_MODELS = ("linear", "quadratic")
WEIGHTINGS = ("none", "1/x", "1/x^2")
ION_RATIO_RULES = ("eu2002", "relative20")
#: Westgard rules in the order of Westgard et al. (1981); ``1_2s`` is the warning rule.
WESTGARD_RULES = ("1_2s", "1_3s", "2_2s", "R_4s", "4_1s", "10_x")
_REJECTION_RULES = WESTGARD_RULES[1:]


# --------------------------------------------------------------------------- calibration


@dataclass(frozen=True)
class CalibrationFit:
    """A fitted calibration curve ``response = b0 + b1 x (+ b2 x²)``.

    Attributes
    ----------
    model : str
        ``"linear"`` or ``"quadratic"``.
    weighting : str
        ``"none"``, ``"1/x"`` or ``"1/x^2"``.
    coefficients : tuple of float
        ``(b0, b1)`` or ``(b0, b1, b2)`` (intercept first).
    standard_errors : tuple of float
        Their standard errors.
    r_squared : float
        Weighted coefficient of determination (statsmodels ``rsquared``).
    nominal : numpy.ndarray
        Nominal concentrations of the calibrators [unit of the batch values].
    response : numpy.ndarray
        Their responses.
    back_calculated : numpy.ndarray
        Concentrations read back from the curve at each calibrator's response.
    accuracy_pct : numpy.ndarray
        ``100 * back_calculated / nominal`` [%].
    """

    model: str
    weighting: str
    coefficients: tuple[float, ...]
    standard_errors: tuple[float, ...]
    r_squared: float
    nominal: np.ndarray = field(repr=False)
    response: np.ndarray = field(repr=False)
    back_calculated: np.ndarray = field(repr=False)
    accuracy_pct: np.ndarray = field(repr=False)

    def predict(self, concentration) -> np.ndarray:
        """Response at ``concentration``."""
        x = np.asarray(concentration, dtype=float)
        return sum(c * x**k for k, c in enumerate(self.coefficients))

    def concentration(self, response) -> np.ndarray:
        """Concentration at ``response`` (inverse of the curve; NaN where none exists).

        For the quadratic curve the root on the rising branch is taken,
        :math:`x = 2(y - b_0) / (b_1 + \\sqrt{b_1^2 - 4 b_2 (b_0 - y)})`, a form that is
        stable as :math:`b_2 \\to 0`.
        """
        y = np.asarray(response, dtype=float)
        b0, b1 = self.coefficients[:2]
        if self.model == "linear":
            return (y - b0) / b1
        b2 = self.coefficients[2]
        disc = b1**2 - 4.0 * b2 * (b0 - y)
        with np.errstate(invalid="ignore", divide="ignore"):
            root = np.sqrt(np.where(disc >= 0, disc, np.nan))
            return 2.0 * (y - b0) / (b1 + root)


def _check_name(kind, value, valid):
    if value not in valid:
        raise unknown_name_error(kind, value, valid)


def fit_calibration(
    nominal, response, *, model: str = "linear", weighting: str = "1/x"
) -> CalibrationFit:
    """Fit a calibration curve by weighted least squares.

    Parameters
    ----------
    nominal : array_like
        Nominal calibrator concentrations, > 0 [ng/mg for hair, ng/mL for urine].
    response : array_like
        Responses (analyte/internal standard area ratio) [dimensionless].
    model : {"linear", "quadratic"}, default "linear"
    weighting : {"none", "1/x", "1/x^2"}, default "1/x"
        Weights :math:`w_i = 1`, :math:`1/x_i` or :math:`1/x_i^2`.

    Returns
    -------
    CalibrationFit

    Raises
    ------
    InputError
        If lengths differ, a value is not finite, a nominal concentration is not positive,
        or there are fewer distinct levels than coefficients + 1.
    UnknownNameError
        If ``model`` or ``weighting`` is unknown.

    Notes
    -----
    Minimises :math:`\\sum_i w_i (y_i - b_0 - b_1 x_i - b_2 x_i^2)^2`
    (statsmodels ``WLS``). Weighting by :math:`1/x` or :math:`1/x^2` is the usual remedy
    for the variance of LC-MS responses growing with concentration (Almeida et al.
    2002); the simplest model and weighting that meets the accuracy criteria should be
    used (ICH M10, 2022).

    References
    ----------
    Almeida AM, Castel-Branco MM, Falcão AC (2002). Linear regression for calibration
    lines revisited: weighting schemes for bioanalytical methods. J Chromatogr B
    774(2):215-222. doi:10.1016/S1570-0232(02)00244-1

    ICH (2022). M10 Bioanalytical method validation and study sample analysis. Step 4,
    24 May 2022.

    Examples
    --------
    >>> fit = fit_calibration([0.1, 0.2, 0.5, 1, 2, 5], [0.21, 0.39, 1.02, 2.0, 4.1, 9.9])
    >>> [round(c, 4) for c in fit.coefficients]
    [0.0073, 1.9973]
    >>> round(float(fit.concentration(2.0)), 4)
    0.9977
    """
    _check_name("calibration model", model, CALIBRATION_MODELS)
    _check_name("weighting", weighting, WEIGHTINGS)
    x = np.asarray(nominal, dtype=float).ravel()
    y = np.asarray(response, dtype=float).ravel()
    if x.shape != y.shape:
        raise InputError(f"nominal ({x.size}) and response ({y.size}) differ in length")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise InputError("calibrator concentrations and responses must be finite numbers")
    if (x <= 0).any():
        raise InputError("calibrator nominal concentrations must be > 0", column="nominal")
    degree = 1 if model == "linear" else 2
    if np.unique(x).size < degree + 2:
        raise InputError(
            f"a {model} calibration needs at least {degree + 2} distinct levels, "
            f"got {np.unique(x).size}"
        )
    w = {"none": np.ones_like(x), "1/x": 1.0 / x, "1/x^2": 1.0 / x**2}[weighting]
    design = np.column_stack([x**k for k in range(degree + 1)])
    res = sm.WLS(y, design, weights=w).fit()
    fit = CalibrationFit(
        model=model,
        weighting=weighting,
        coefficients=tuple(float(c) for c in res.params),
        standard_errors=tuple(float(s) for s in res.bse),
        r_squared=float(res.rsquared),
        nominal=x,
        response=y,
        back_calculated=np.empty(0),
        accuracy_pct=np.empty(0),
    )
    back = fit.concentration(y)
    object.__setattr__(fit, "back_calculated", back)
    object.__setattr__(fit, "accuracy_pct", 100.0 * back / x)
    return fit


def calibrator_acceptance(
    nominal,
    accuracy_pct,
    *,
    tolerance_pct: float = 15.0,
    lloq_tolerance_pct: float = 20.0,
    min_fraction: float = 0.75,
    min_levels: int = 6,
) -> tuple[bool, np.ndarray, str]:
    """Whether the back-calculated calibrators meet the acceptance criteria.

    Parameters
    ----------
    nominal : array_like
        Nominal concentrations; the lowest is the LLOQ.
    accuracy_pct : array_like
        Back-calculated / nominal × 100 [%].
    tolerance_pct : float, default 15
        Allowed deviation from 100 % above the LLOQ [%].
    lloq_tolerance_pct : float, default 20
        Allowed deviation at the LLOQ [%].
    min_fraction : float, default 0.75
        Share of calibrators that must pass.
    min_levels : int, default 6
        Number of distinct levels with at least one passing calibrator.

    Returns
    -------
    accepted : bool
    passed : numpy.ndarray of bool
        Per calibrator.
    detail : str
        Human-readable explanation.

    Notes
    -----
    Defaults are ICH M10 (2022; validation and study-sample runs): back-calculated
    calibrators within
    ±15 % of nominal (±20 % at the LLOQ), at least 75 % of them and at least six levels
    passing (the same as EMA 2011). Section numbers of the guidelines were not checked
    for this release. Forensic-toxicology standards allow
    ±20 % bias (SWGTOX 2013; ANSI/ASB Standard 036, 2019): pass
    ``tolerance_pct=20``.

    References
    ----------
    Scientific Working Group for Forensic Toxicology (2013). Standard practices for method
    validation in forensic toxicology. J Anal Toxicol 37(7):452-474.
    doi:10.1093/jat/bkt054

    AAFS Standards Board (2019). ANSI/ASB Standard 036, Standard practices for method
    validation in forensic toxicology, 1st ed.

    Examples
    --------
    >>> ok, passed, detail = calibrator_acceptance([1, 2, 5, 10, 20, 50],
    ...                                            [118, 104, 97, 101, 99, 100])
    >>> ok, passed.tolist()[0]
    (True, True)
    """
    x = np.asarray(nominal, dtype=float)
    acc = np.asarray(accuracy_pct, dtype=float)
    lloq = x.min()
    limit = np.where(np.isclose(x, lloq), lloq_tolerance_pct, tolerance_pct)
    passed = np.abs(acc - 100.0) <= limit + 1e-9
    fraction = passed.mean() if passed.size else 0.0
    levels = np.unique(x[passed]).size
    accepted = bool(fraction >= min_fraction and levels >= min_levels)
    detail = (
        f"{int(passed.sum())}/{passed.size} calibrators within ±{tolerance_pct:g} % "
        f"(±{lloq_tolerance_pct:g} % at LLOQ); {levels} passing levels "
        f"(need ≥{min_fraction:.0%} and ≥{min_levels} levels)"
    )
    return accepted, passed, detail


# --------------------------------------------------------------------------- limits


def limits_from_calibration(nominal, response) -> dict[str, float]:
    """LOD and LOQ from the residual SD and slope of a low-range calibration line.

    Parameters
    ----------
    nominal : array_like
        Concentrations near the expected limits [unit of the result].
    response : array_like
        Responses.

    Returns
    -------
    dict
        ``lod``, ``loq`` [unit of ``nominal``], ``sigma`` (residual SD [response]) and
        ``slope`` [response per unit].

    Notes
    -----
    ICH Q2(R1) (2005), sec. 6.3 and 7.3: :math:`LOD = 3.3\\,\\sigma / S`,
    :math:`LOQ = 10\\,\\sigma / S`, with :math:`S` the slope of an unweighted
    least-squares line and :math:`\\sigma` its residual standard deviation
    :math:`\\sqrt{\\sum r_i^2 / (n - 2)}`.

    References
    ----------
    ICH (2005). Q2(R1) Validation of analytical procedures: text and methodology.

    Examples
    --------
    >>> lim = limits_from_calibration([0.5, 1, 2, 3, 4], [1.1, 1.9, 4.2, 5.9, 8.1])
    >>> round(lim["lod"], 3), round(lim["loq"], 3)
    (0.255, 0.773)
    """
    x = np.asarray(nominal, dtype=float)
    y = np.asarray(response, dtype=float)
    if x.size < 3 or x.shape != y.shape:
        raise InputError("limits from a calibration line need ≥3 (x, y) pairs of equal length")
    res = sm.OLS(y, sm.add_constant(x)).fit()
    slope = float(res.params[1])
    if slope <= 0:
        raise InputError(f"the calibration slope must be positive, got {slope:g}")
    sigma = float(np.sqrt(res.scale))
    return {"lod": 3.3 * sigma / slope, "loq": 10.0 * sigma / slope, "sigma": sigma,
            "slope": slope}


def limits_from_blanks(blanks, *, k_lod: float = 3.0, k_loq: float = 10.0) -> dict[str, float]:
    """LOD and LOQ from replicate blank results: mean + k × SD.

    Parameters
    ----------
    blanks : array_like
        Results of blank samples (at least 2), in concentration or response units.
    k_lod, k_loq : float
        Multipliers of the blank SD (3 and 10 by default).

    Returns
    -------
    dict
        ``lod``, ``loq``, ``mean``, ``sd`` (sample SD, ``ddof=1``), in the unit of
        ``blanks``.

    Notes
    -----
    :math:`LOD = \\bar b + 3 s_b`, :math:`LOQ = \\bar b + 10 s_b` (ICH Q2(R1) "based on
    the standard deviation of the blank"; IUPAC, Currie 1995). Blanks reported as not
    detected carry no number; pass them as 0 only if the instrument reported 0.

    References
    ----------
    Currie LA (1995). Nomenclature in evaluation of analytical methods including
    detection and quantification capabilities (IUPAC Recommendations 1995). Pure Appl Chem
    67(10):1699-1723. doi:10.1351/pac199567101699

    Examples
    --------
    >>> lim = limits_from_blanks([0.01, 0.02, 0.015, 0.012, 0.018])
    >>> round(lim["lod"], 4), round(lim["loq"], 4)
    (0.0274, 0.0562)
    """
    b = np.asarray(blanks, dtype=float)
    if b.size < 2 or not np.isfinite(b).all():
        raise InputError("limits from blanks need at least 2 finite blank results")
    mean, sd = float(b.mean()), float(b.std(ddof=1))
    return {"lod": mean + k_lod * sd, "loq": mean + k_loq * sd, "mean": mean, "sd": sd}


# --------------------------------------------------------------------------- identification


_EU2002_LIMITS = ((50.0, 20.0), (20.0, 25.0), (10.0, 30.0), (0.0, 50.0))


def ion_ratio_tolerance(reference_ratio, *, rule: str = "eu2002") -> np.ndarray:
    """Allowed relative deviation of an ion ratio from its reference [%].

    Parameters
    ----------
    reference_ratio : array_like
        Reference qualifier/quantifier ratio (mean of the calibrators), > 0.
    rule : {"eu2002", "relative20"}, default "eu2002"
        ``eu2002``: tiered tolerances of Commission Decision 2002/657/EC (Annex,
        Table 5, LC-MS): relative intensity > 50 %: ±20 %; > 20-50 %: ±25 %;
        > 10-20 %: ±30 %; ≤ 10 %: ±50 %. ``relative20``: ±20 % relative at every
        intensity (a common forensic-toxicology rule).

    Returns
    -------
    numpy.ndarray
        Tolerance [% of the reference ratio].

    Notes
    -----
    The relative intensity is that of the weaker ion as a percentage of the stronger,
    :math:`100 \\min(r, 1/r)`, so that ratios above 1 are treated like their inverse.
    The Official Journal text was not read for this release; the tiers > 50 %, 20-50 %
    and ≤ 10 % agree with the EU tolerances applied in a published comparison (Table 3
    of ISRN Anal Chem 2014:968314), the 10-20 % tier (±30 %) is unverified here.

    References
    ----------
    European Commission (2002). Commission Decision 2002/657/EC implementing Council
    Directive 96/23/EC concerning the performance of analytical methods and the
    interpretation of results. Off J Eur Communities L221:8-36.

    Examples
    --------
    >>> ion_ratio_tolerance([0.8, 0.3, 0.15, 0.05, 2.5]).tolist()
    [20.0, 25.0, 30.0, 50.0, 25.0]
    """
    _check_name("ion-ratio rule", rule, ION_RATIO_RULES)
    r = np.asarray(reference_ratio, dtype=float)
    if rule == "relative20":
        return np.full(r.shape, 20.0)
    with np.errstate(divide="ignore"):
        intensity = 100.0 * np.minimum(r, 1.0 / r)
    out = np.full(r.shape, np.nan)
    for floor, tol in reversed(_EU2002_LIMITS):
        out = np.where(intensity > floor, tol, out)
    return out


def retention_time_ok(
    observed_min, reference_min, *, relative: float = 0.02, absolute_min: float = 0.1
) -> np.ndarray:
    """Whether retention times match the reference within ±2 % or ±0.1 min.

    Parameters
    ----------
    observed_min, reference_min : array_like
        Retention times [min].
    relative : float, default 0.02
        Relative tolerance (fraction of the reference).
    absolute_min : float, default 0.1
        Absolute tolerance [min]. The larger of the two tolerances applies.

    Returns
    -------
    numpy.ndarray of bool
        NaN observed times give False.

    Notes
    -----
    :math:`|t - t_{ref}| \\le \\max(0.02\\,t_{ref}, 0.1\\ \\mathrm{min})`. Commission
    Decision 2002/657/EC allows ±2.5 % of the relative retention time for LC; SANTE
    (2021) ±0.1 min; ±2 % is common in forensic toxicology.

    References
    ----------
    European Commission (2021). SANTE/11312/2021 Analytical quality control and method
    validation procedures for pesticide residues analysis in food and feed.

    Examples
    --------
    >>> retention_time_ok([3.05, 3.2, 10.15], [3.0, 3.0, 10.0]).tolist()
    [True, False, True]
    """
    t = np.asarray(observed_min, dtype=float)
    ref = np.asarray(reference_min, dtype=float)
    tol = np.maximum(relative * ref, absolute_min)
    with np.errstate(invalid="ignore"):
        return np.abs(t - ref) <= tol + 1e-12


# --------------------------------------------------------------------------- Westgard


@dataclass(frozen=True)
class WestgardResult:
    """Westgard multirule evaluation.

    Attributes
    ----------
    observations : pandas.DataFrame
        One row per QC result, in run order: ``run``, ``level``, ``value``, ``z`` and one
        bool column per rule (True where a window ending at this result violates it).
    runs : pandas.DataFrame
        One row per run: ``run``, ``verdict`` (``accept``, ``warning`` or ``reject``) and
        ``rules`` (violated rules, comma separated).
    """

    observations: pd.DataFrame
    runs: pd.DataFrame


def _same_side_run(z: np.ndarray, n: int, limit: float) -> np.ndarray:
    """True at i when z[i-n+1..i] all exceed +limit or all fall below -limit."""
    out = np.zeros(z.size, dtype=bool)
    if z.size < n:
        return out
    win = sliding_window_view(z, n)
    hit = (win > limit).all(axis=1) | (win < -limit).all(axis=1)
    out[n - 1 :] = hit
    return out


def _sequence_flags(z: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "2_2s": _same_side_run(z, 2, 2.0),
        "4_1s": _same_side_run(z, 4, 1.0),
        "10_x": _same_side_run(z, 10, 0.0),
    }


@renamed_arguments(level="qc_level")
def westgard(
    qc: pd.DataFrame,
    *,
    targets: Mapping | pd.DataFrame | None = None,
    run: str = "run",
    qc_level: str = "qc_level",
    value: str = "value",
    warning_gate: bool = True,
) -> WestgardResult:
    """Apply the Westgard multirule to QC results over runs.

    Parameters
    ----------
    qc : pandas.DataFrame
        One row per QC result with columns ``run`` (sortable run id, in time order),
        ``qc_level`` and ``value``; plus ``target_mean`` and ``target_sd`` unless
        ``targets`` is given.
    targets : mapping or pandas.DataFrame, optional
        ``{level: (mean, sd)}`` or a table with ``qc_level``, ``target_mean``,
        ``target_sd``: the established mean and SD of each control material.
    run, qc_level, value : str
        Names of the columns holding the run, the QC level and the value (an argument that
        names a column is called after the canonical column; ``level=`` is a deprecated
        alias of ``qc_level``, docs/vocabulary.md).
    warning_gate : bool, default True
        As in Westgard et al. (1981): the rejection rules are inspected only in runs
        where a control exceeds ±2 SD (the 1_2s warning). With False every rule is
        checked in every run.

    Returns
    -------
    WestgardResult

    Raises
    ------
    InputError
        Missing columns or targets, non-numeric values, SD ≤ 0.

    Notes
    -----
    With :math:`z = (x - \\mu)/\\sigma` per control material:

    - ``1_2s`` (warning): :math:`|z| > 2`;
    - ``1_3s``: :math:`|z| > 3`;
    - ``2_2s``: two consecutive results above +2 or below -2;
    - ``R_4s``: within one run, one result above +2 and another below -2;
    - ``4_1s``: four consecutive results above +1 or below -1;
    - ``10_x``: ten consecutive results on the same side of the mean.

    "Consecutive" is checked in two orders (Westgard et al. 1981): all results in run
    order with the levels of a run in between ("across materials"), and the results
    of each material across runs. A violation is attributed to the run of the last
    result of the window; a run is rejected if any rejection rule is violated there.

    References
    ----------
    Westgard JO, Barry PL, Hunt MR, Groth T (1981). A multi-rule Shewhart chart for
    quality control in clinical chemistry. Clin Chem 27(3):493-501.
    doi:10.1093/clinchem/27.3.493

    Examples
    --------
    >>> import pandas as pd
    >>> qc = pd.DataFrame({"run": [1, 2, 3], "qc_level": "low",
    ...                    "value": [10.2, 12.5, 12.4]})
    >>> res = westgard(qc, targets={"low": (10.0, 1.0)})
    >>> res.runs["verdict"].tolist(), res.runs["rules"].tolist()
    (['accept', 'warning', 'reject'], ['', '1_2s', '1_2s,2_2s'])
    """
    level = qc_level  # vocabulary name in the signature (docs/vocabulary.md)
    if not isinstance(qc, pd.DataFrame):
        raise InputError(f"expected a pandas DataFrame, got {type(qc).__name__}")
    for col in (run, level, value):
        if col not in qc.columns:
            raise InputError(f"QC results lack column {col!r}", column=col)
    frame = qc[[run, level, value]].copy()
    frame.columns = ["run", "qc_level", "value"]
    if targets is None:
        for col in ("target_mean", "target_sd"):
            if col not in qc.columns:
                raise InputError(
                    f"QC results lack {col!r}; pass targets={{level: (mean, sd)}}", column=col
                )
        frame["target_mean"] = pd.to_numeric(qc["target_mean"], errors="coerce").to_numpy()
        frame["target_sd"] = pd.to_numeric(qc["target_sd"], errors="coerce").to_numpy()
    else:
        if isinstance(targets, pd.DataFrame):
            targets = {
                r["qc_level"]: (r["target_mean"], r["target_sd"]) for _, r in targets.iterrows()
            }
        missing = sorted(set(frame["qc_level"].astype(str)) - {str(k) for k in targets})
        if missing:
            raise InputError(f"no target mean/SD for QC level(s) {missing}", column=level)
        lookup = {str(k): v for k, v in targets.items()}
        key = frame["qc_level"].astype(str)
        frame["target_mean"] = key.map(lambda k: float(lookup[k][0]))
        frame["target_sd"] = key.map(lambda k: float(lookup[k][1]))
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    bad = frame[["value", "target_mean", "target_sd"]].isna().any(axis=1) | (
        frame["target_sd"] <= 0
    )
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            "QC value, target mean and target SD (> 0) must be numbers",
            row=int(qc["source_row"].iloc[i]) if "source_row" in qc.columns else None,
            column=value,
            value=qc[value].iloc[i],
        )
    frame["_pos"] = np.arange(len(frame))
    frame = frame.sort_values(["run", "qc_level", "_pos"], kind="stable").reset_index(drop=True)
    z = ((frame["value"] - frame["target_mean"]) / frame["target_sd"]).to_numpy()
    frame["z"] = z
    flags = {"1_2s": np.abs(z) > 2.0, "1_3s": np.abs(z) > 3.0}
    across = _sequence_flags(z)
    for rule in ("2_2s", "4_1s", "10_x"):
        flags[rule] = across[rule].copy()
    for _, idx in frame.groupby("qc_level", sort=False).indices.items():
        within = _sequence_flags(z[idx])
        for rule in ("2_2s", "4_1s", "10_x"):
            flags[rule][idx] |= within[rule]
    run_codes = frame["run"].to_numpy()
    zmax = frame.groupby("run")["z"].transform("max").to_numpy()
    zmin = frame.groupby("run")["z"].transform("min").to_numpy()
    flags["R_4s"] = (zmax > 2.0) & (zmin < -2.0) & (np.abs(z) > 2.0)
    for rule in WESTGARD_RULES:
        frame[rule] = flags[rule]
    per_run = frame.groupby("run", sort=True)[list(WESTGARD_RULES)].any()
    if warning_gate:
        gated = per_run[list(_REJECTION_RULES)].to_numpy() & per_run[["1_2s"]].to_numpy()
        per_run.loc[:, list(_REJECTION_RULES)] = gated
        frame.loc[:, list(_REJECTION_RULES)] = (
            frame[list(_REJECTION_RULES)].to_numpy()
            & per_run["1_2s"].reindex(run_codes).to_numpy()[:, None]
        )
    reject = per_run[list(_REJECTION_RULES)].any(axis=1)
    verdict = np.where(reject, "reject", np.where(per_run["1_2s"], "warning", "accept"))
    rules = [
        ",".join(r for r in WESTGARD_RULES if row[r]) for _, row in per_run.iterrows()
    ]
    runs = pd.DataFrame({"run": per_run.index.to_numpy(), "verdict": verdict, "rules": rules})
    obs = frame[["run", "qc_level", "value", "target_mean", "target_sd", "z",
                 *WESTGARD_RULES]]
    return WestgardResult(observations=obs, runs=runs)


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class QCCheck:
    """Outcome of one check for one analyte.

    Attributes
    ----------
    analyte : str
    check : str
        ``calibration``, ``qc_accuracy``, ``westgard``, ``ion_ratio``,
        ``retention_time``, ``carryover`` or ``limits``.
    verdict : str
        ``pass``, ``fail`` (rejects the batch), ``warn`` (individual samples affected,
        see ``samples``), ``info`` or ``not_applicable``.
    detail : str
        Why.
    samples : tuple of str
        Sample ids that failed (ion ratio, retention time).
    """

    analyte: str
    check: str
    verdict: str
    detail: str
    samples: tuple[str, ...] = ()


@dataclass(frozen=True)
class QCReport:
    """Verdict on one batch.

    Attributes
    ----------
    batch : str
    verdict : str
        ``accept`` or ``reject``.
    reasons : tuple of str
        The failed checks (``"methamphetamine: calibration: ..."``); empty if accepted.
    checks : tuple of QCCheck
    calibrations : dict
        Analyte -> :class:`CalibrationFit`.
    westgard : WestgardResult or None
    """

    batch: str
    verdict: str
    reasons: tuple[str, ...]
    checks: tuple[QCCheck, ...]
    calibrations: dict = field(repr=False)
    westgard: WestgardResult | None = field(default=None, repr=False)

    @property
    def table(self) -> pd.DataFrame:
        """Tidy table: one row per (analyte, check) with ``batch, analyte, check,
        verdict, detail, samples``."""
        return pd.DataFrame(
            [
                {"batch": self.batch, "analyte": c.analyte, "check": c.check,
                 "verdict": c.verdict, "detail": c.detail, "samples": ",".join(c.samples)}
                for c in self.checks
            ],
            columns=["batch", "analyte", "check", "verdict", "detail", "samples"],
        )


def _numeric_col(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame.columns:
        return pd.Series(np.nan, index=frame.index)
    return pd.to_numeric(frame[col], errors="coerce")


def _calculated_only(cal: pd.DataFrame) -> bool:
    """Calibrators with nominal and reported concentrations but no response (>= 3)."""
    x = _numeric_col(cal, "nominal")
    return (len(cal) >= 3 and _numeric_col(cal, "response").isna().all()
            and x.notna().all() and _numeric_col(cal, "value").notna().all())


def _calibration_check(analyte, cal, model, weighting, accuracy):
    if len(cal) == 0:
        return None, QCCheck(analyte, "calibration", "fail", "no calibrators in the batch")
    x = _numeric_col(cal, "nominal")
    y = _numeric_col(cal, "response")
    reported = _numeric_col(cal, "value")
    if y.isna().all() and x.notna().all() and reported.notna().all() and (x > 0).all():
        # exports without a response column (MassHunter batch tables often): judge the
        # concentrations the instrument back-calculated from its own curve
        acc = 100.0 * reported.to_numpy() / x.to_numpy()
        accepted, _, detail = calibrator_acceptance(x.to_numpy(), acc, **accuracy)
        detail = (f"no response in the export: the instrument's calculated concentrations "
                  f"against nominal ({np.unique(x).size} levels); {detail}")
        return None, QCCheck(analyte, "calibration", "pass" if accepted else "fail", detail)
    ok = x.notna() & y.notna()
    if not ok.all():
        return None, QCCheck(
            analyte, "calibration", "fail",
            f"{int((~ok).sum())} calibrator(s) lack a nominal concentration or response",
        )
    try:
        fit = fit_calibration(x, y, model=model, weighting=weighting)
    except InputError as exc:
        return None, QCCheck(analyte, "calibration", "fail", exc.message)
    accepted, _, detail = calibrator_acceptance(fit.nominal, fit.accuracy_pct, **accuracy)
    detail = f"{model}, weights {weighting}, R²={fit.r_squared:.4f}; {detail}"
    return fit, QCCheck(analyte, "calibration", "pass" if accepted else "fail", detail)


def _qc_levels(qcs: pd.DataFrame) -> np.ndarray:
    """QC level of each QC row: ``qc_level``, else the nominal concentration as text."""
    nominal = _numeric_col(qcs, "nominal").map(lambda v: f"{v:g}")
    if "qc_level" not in qcs.columns:
        return nominal.to_numpy(dtype=object)
    level = qcs["qc_level"].astype(object)
    return level.where(level.notna(), nominal).astype(str).to_numpy(dtype=object)


def _qc_accuracy_check(analyte, qcs, fit, tolerance_pct):
    if len(qcs) == 0:
        return QCCheck(analyte, "qc_accuracy", "fail", "no QC samples in the batch"), None
    nominal = _numeric_col(qcs, "nominal").to_numpy()
    # back-calculate from this batch's curve where there is a response, else take the
    # concentration the instrument reported
    measured = _numeric_col(qcs, "value").to_numpy()
    response = _numeric_col(qcs, "response").to_numpy()
    if fit is not None:
        use = np.isfinite(response)
        measured = np.where(use, fit.concentration(np.where(use, response, 0.0)), measured)
    with np.errstate(invalid="ignore", divide="ignore"):
        dev = 100.0 * (measured / nominal - 1.0)
    passed = np.abs(dev) <= tolerance_pct + 1e-9
    levels = _qc_levels(qcs)
    by_level = pd.Series(passed).groupby(levels).mean()
    ok = passed.mean() >= 2.0 / 3.0 and (by_level >= 0.5).all()
    detail = (
        f"{int(passed.sum())}/{passed.size} QC within ±{tolerance_pct:g} % (need ≥2/3 "
        f"overall and ≥50 % per level; ICH M10)"
    )
    return QCCheck(analyte, "qc_accuracy", "pass" if ok else "fail", detail), measured


def _identification_checks(analyte, group, ion_ratio_rule, rt_relative, rt_absolute_min):
    cal = group[group["sample_type"] == "calibrator"]
    unknown = group[group["sample_type"].isin(["unknown", "qc"])]
    out = []
    detected = unknown["detection"].eq("quantified") if "detection" in unknown else (
        _numeric_col(unknown, "value").notna()
    )
    ids = unknown["sample_id"].astype(str)
    ratio = _numeric_col(unknown, "ion_ratio")
    ref_ratio = _numeric_col(cal, "ion_ratio").mean()
    if np.isfinite(ref_ratio) and ratio.notna().any():
        tol = float(ion_ratio_tolerance(ref_ratio, rule=ion_ratio_rule))
        dev = 100.0 * (ratio / ref_ratio - 1.0)
        bad = detected & ratio.notna() & (dev.abs() > tol)
        out.append(QCCheck(
            analyte, "ion_ratio", "warn" if bad.any() else "pass",
            f"reference ratio {ref_ratio:.3f} (mean of calibrators), tolerance ±{tol:g} % "
            f"({ion_ratio_rule}); {int(bad.sum())} detected sample(s) outside",
            tuple(ids[bad]),
        ))
    else:
        out.append(QCCheck(analyte, "ion_ratio", "not_applicable", "no ion ratios in the batch"))
    rt = _numeric_col(unknown, "retention_time_min")
    ref_rt = _numeric_col(cal, "retention_time_min").mean()
    if np.isfinite(ref_rt) and rt.notna().any():
        ok = retention_time_ok(rt, ref_rt, relative=rt_relative, absolute_min=rt_absolute_min)
        bad = detected & rt.notna() & ~ok
        out.append(QCCheck(
            analyte, "retention_time", "warn" if bad.any() else "pass",
            f"reference {ref_rt:.3f} min (mean of calibrators), tolerance "
            f"max(±{rt_relative:.0%}, ±{rt_absolute_min:g} min); {int(bad.sum())} outside",
            tuple(ids[bad]),
        ))
    else:
        out.append(QCCheck(
            analyte, "retention_time", "not_applicable", "no retention times in the batch"
        ))
    return out


def _carryover_check(analyte, group, fraction):
    order = _numeric_col(group, "injection_order")
    if order.isna().all():
        order = _numeric_col(group, "source_row")
    g = group.assign(_order=order.to_numpy()).sort_values("_order", kind="stable")
    cal = g[g["sample_type"] == "calibrator"]
    if len(cal) == 0:
        return QCCheck(analyte, "carryover", "not_applicable", "no calibrators")
    nominal = _numeric_col(cal, "nominal")
    if nominal.isna().all():
        return QCCheck(analyte, "carryover", "not_applicable", "no nominal concentrations")
    top = cal.loc[nominal.idxmax(), "_order"]
    after = g[g["_order"] > top]
    if len(after) == 0 or after.iloc[0]["sample_type"] != "blank":
        return QCCheck(
            analyte, "carryover", "fail",
            "no blank injected right after the highest calibrator",
        )
    blank = after.iloc[:1]
    lloq_cal = cal[np.isclose(nominal, nominal.min())]
    blank_response = float(_numeric_col(blank, "response").iloc[0])
    blank_value = float(_numeric_col(blank, "value").iloc[0])
    detection = blank["detection"].iloc[0] if "detection" in blank.columns else None
    note = ""
    if np.isfinite(blank_response) and _numeric_col(lloq_cal, "response").notna().any():
        b = blank_response
        ref = float(_numeric_col(lloq_cal, "response").mean())
        what = "response"
    else:
        ref = float(nominal.min())
        what = "concentration"
        if np.isfinite(blank_value):
            b = blank_value
        elif detection in ("not_detected", "below_lod", "below_loq") or pd.isna(detection):
            # instruments leave the cells of a blank empty when no peak was integrated
            b = 0.0
            note = " (no peak reported, read as 0)"
        else:
            return QCCheck(
                analyte, "carryover", "fail", "the blank after the top calibrator has no result"
            )
    ok = b <= fraction * ref
    return QCCheck(
        analyte, "carryover", "pass" if ok else "fail",
        f"blank {blank['sample_id'].iloc[0]!s} after the highest calibrator: {what} {b:.4g}"
        f"{note} vs "
        f"{fraction:.0%} of LLOQ = {fraction * ref:.4g} (ICH M10)",
    )


def qc_report(
    batch: pd.DataFrame,
    *,
    model: str = "linear",
    weighting: str = "1/x",
    calibrator_tolerance_pct: float = 15.0,
    lloq_tolerance_pct: float = 20.0,
    qc_tolerance_pct: float = 15.0,
    qc_targets: pd.DataFrame | None = None,
    qc_history: pd.DataFrame | None = None,
    westgard_gate: bool = True,
    ion_ratio_rule: str = "eu2002",
    rt_relative: float = 0.02,
    rt_absolute_min: float = 0.1,
    carryover_fraction: float = 0.2,
) -> QCReport:
    """Accept or reject one analytical batch, with a verdict per check and analyte.

    Parameters
    ----------
    batch : pandas.DataFrame
        Lab results of one batch in the long format (``batch, sample_id, analyte,
        sample_type, value, detection``) with ``nominal`` and ``response`` for
        calibrators and QC samples; optional ``qc_level``, ``ion_ratio``,
        ``retention_time_min`` [min] and ``injection_order``. Without ``qc_level`` the
        nominal concentration (as text, ``"0.06"``) names the QC level.
    model : {"linear", "quadratic"}, default "linear"
    weighting : {"none", "1/x", "1/x^2"}, default "1/x"
    calibrator_tolerance_pct, lloq_tolerance_pct : float
        Calibrator acceptance (:func:`calibrator_acceptance`) [%].
    qc_tolerance_pct : float, default 15
        QC accuracy tolerance [%].
    qc_targets : pandas.DataFrame, optional
        ``analyte, qc_level, target_mean, target_sd``; enables the Westgard check.
    qc_history : pandas.DataFrame, optional
        Earlier QC results ``run, analyte, qc_level, value`` (oldest first); this batch
        is appended as the last run.
    westgard_gate : bool, default True
        See :func:`westgard`.
    ion_ratio_rule : {"eu2002", "relative20"}
    rt_relative, rt_absolute_min : float
        Retention-time tolerances (:func:`retention_time_ok`).
    carryover_fraction : float, default 0.2
        Maximum blank result after the highest calibrator, as a fraction of the LLOQ
        (response if available, else concentration).

    Returns
    -------
    QCReport
        ``verdict`` is ``reject`` if any check is ``fail``. Ion-ratio and
        retention-time failures of single samples give ``warn`` with the sample ids (their
        results should be reported as inconclusive) and do not reject the batch.

    Raises
    ------
    InputError
        If required columns are missing or the table holds more than one batch.

    Notes
    -----
    Per analyte: calibration fit and calibrator accuracy (ICH M10 2022; ±15 %/±20 %
    at LLOQ, ≥75 % and ≥6 levels), QC accuracy (±15 %, ≥2/3 overall and ≥50 % per
    level), Westgard multirule (Westgard et al. 1981), ion ratio (2002/657/EC),
    retention time, carry-over (≤20 % of LLOQ) and the ICH Q2(R1) limits from the
    calibrators (``info``; a low-range curve is preferable for a formal LOD).

    Examples
    --------
    >>> import pandas as pd
    >>> cal = [0.2, 0.5, 1, 2, 5, 10]
    >>> rows = [dict(sample_id=f"CAL{i}", sample_type="calibrator", nominal=c,
    ...              response=0.01 + 0.5 * c, injection_order=i) for i, c in enumerate(cal)]
    >>> rows += [dict(sample_id="BLK", sample_type="blank", response=0.0, injection_order=6)]
    >>> rows += [dict(sample_id=f"QC{q}", sample_type="qc", nominal=q, response=0.5 * q,
    ...               injection_order=7 + i) for i, q in enumerate([0.6, 4, 8])]
    >>> b = pd.DataFrame(rows).assign(batch="B1", analyte="methamphetamine", value=None)
    >>> rep = qc_report(b)
    >>> rep.verdict, rep.table.set_index("check")["verdict"].to_dict()["calibration"]
    ('accept', 'pass')
    """
    if not isinstance(batch, pd.DataFrame):
        raise InputError(f"expected a pandas DataFrame, got {type(batch).__name__}")
    for col in ("sample_id", "analyte", "sample_type"):
        if col not in batch.columns:
            raise InputError(f"batch lacks column {col!r}", column=col)
    names = batch["batch"].dropna().unique() if "batch" in batch.columns else ["<batch>"]
    if len(names) > 1:
        raise InputError(f"qc_report takes one batch at a time; got {sorted(map(str, names))}")
    batch_name = str(names[0]) if len(names) else "<batch>"
    frame = batch.copy()
    if "internal_standard" in frame.columns:  # internal standards are not analytes
        frame = frame[~frame["internal_standard"].fillna(False).astype(bool)]
    frame["sample_type"] = frame["sample_type"].astype(str).str.lower()
    accuracy = dict(tolerance_pct=calibrator_tolerance_pct, lloq_tolerance_pct=lloq_tolerance_pct)
    checks: list[QCCheck] = []
    fits: dict[str, CalibrationFit] = {}
    qc_now = []
    for analyte, group in frame.groupby("analyte", sort=True):
        analyte = str(analyte)
        cal = group[group["sample_type"] == "calibrator"]
        fit, check = _calibration_check(analyte, cal, model, weighting, accuracy)
        checks.append(check)
        if fit is not None:
            fits[analyte] = fit
        qcs = group[group["sample_type"] == "qc"]
        check, measured = _qc_accuracy_check(analyte, qcs, fit, qc_tolerance_pct)
        checks.append(check)
        if measured is not None:
            qc_now.append(pd.DataFrame({"analyte": analyte, "qc_level": _qc_levels(qcs),
                                        "value": measured}))
        checks.extend(_identification_checks(
            analyte, group, ion_ratio_rule, rt_relative, rt_absolute_min
        ))
        checks.append(_carryover_check(analyte, group, carryover_fraction))
        if fit is not None and len(cal) >= 3:
            lim = limits_from_calibration(fit.nominal, fit.response)
            checks.append(QCCheck(
                analyte, "limits", "info",
                f"ICH Q2(R1) from the calibrators: LOD {lim['lod']:.4g}, LOQ {lim['loq']:.4g}",
            ))
        elif fit is None and _calculated_only(cal):
            lim = limits_from_calibration(_numeric_col(cal, "nominal"),
                                          _numeric_col(cal, "value"))
            checks.append(QCCheck(
                analyte, "limits", "info",
                f"ICH Q2(R1) from the calibrators' calculated concentrations (no response "
                f"in the export): LOD {lim['lod']:.4g}, LOQ {lim['loq']:.4g}",
            ))
    west = None
    if qc_targets is not None:
        current = pd.concat(qc_now, ignore_index=True) if qc_now else pd.DataFrame(
            columns=["analyte", "qc_level", "value"]
        )
        history = qc_history if qc_history is not None else pd.DataFrame(
            columns=["run", "analyte", "qc_level", "value"]
        )
        last = pd.to_numeric(history["run"], errors="coerce").max() if len(history) else 0
        current = current.assign(run=(0 if pd.isna(last) else last) + 1)
        allqc = pd.concat([history.assign(qc_level=history["qc_level"].astype(str)), current],
                          ignore_index=True)
        targets = qc_targets.assign(qc_level=qc_targets["qc_level"].astype(str))
        allqc = allqc.merge(targets, on=["analyte", "qc_level"], how="left")
        results = []
        for analyte, g in allqc.groupby("analyte", sort=True):
            res = westgard(g, warning_gate=westgard_gate)
            results.append(res.observations.assign(analyte=analyte))
            this = res.runs.iloc[-1]
            verdict = {"reject": "fail", "warning": "warn", "accept": "pass"}[this["verdict"]]
            checks.append(QCCheck(
                str(analyte), "westgard", verdict,
                f"run {this['run']}: {this['verdict']}"
                + (f" ({this['rules']})" if this["rules"] else ""),
            ))
        if results:
            obs = pd.concat(results, ignore_index=True)
            west = WestgardResult(observations=obs, runs=pd.DataFrame())
    failed = tuple(f"{c.analyte}: {c.check}: {c.detail}" for c in checks if c.verdict == "fail")
    return QCReport(
        batch=batch_name,
        verdict="reject" if failed else "accept",
        reasons=failed,
        checks=tuple(checks),
        calibrations=fits,
        westgard=west,
    )
