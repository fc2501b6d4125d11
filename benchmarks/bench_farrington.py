"""Benchmark: Farrington per 52-week monitoring call, wbe against R and the previous fit.

Cases: real weekly series from the R reference inputs committed for the tests
(``tests/models/r/farrington_input.csv``, ``farrington_hard_input.csv``; datasets shipped
with R ``surveillance``), each monitored over its last 52 weeks with the default controls
(b = 5, w = 3, reweighting, trend, "2/3" delta threshold, limit54 = (5, 4)):

=====================  ===========  ==========================================
case                   weeks        counts
=====================  ===========  ==========================================
campyDE                471-522      about 1,200 a week (large counts)
momo_0_1               731-782      about 9 a week
stsnewport             722-773      about 2 a week
salmnewport_saarland   477-528      mostly zero (boundary fits)
=====================  ===========  ==========================================

Timed per call (median of ``--repeats``, after one warm-up call):

- **wbe**: ``wbe.models.farrington(y, r_range=weeks)``, the default ``glm_convergence=
  "exact"`` fit (IRLS batched over the monitored weeks);
- **baseline, same process**: the same call with the previous fit of wbe, one week at a
  time (``benchmarks/_farrington_per_week.py``, a copy of commit 5031b03) swapped in for
  the fitting step, wbe and baseline calls interleaved;
- **R**: ``surveillance::farringtonFlexible`` on the same series and weeks, timed inside
  ``Rscript benchmarks/bench_farrington.R`` (``system.time`` per call, R start-up not
  timed) in a subprocess during the same run; skipped, with a message, when ``Rscript`` or
  the R package is not there.

Alarms of wbe are compared with the baseline's and with R's (they must be identical).
The ratios are totals over the cases (sum of the per-call medians), per case also printed.

Run: ``python benchmarks/bench_farrington.py [--quick] [--repeats N] [--r-repeats N]
[--no-r]``; ``run_all.py`` runs it as ``farrington``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import wbe.models.aberration as aberration
from wbe.models import farrington

HERE = Path(__file__).resolve().parent
R_INPUTS = HERE.parent / "tests" / "models" / "r"
R_SCRIPT = HERE / "bench_farrington.R"
WEEKS = 52
#: case -> (input file, series name); the monitored weeks are the last 52 of the series
CASES = {
    "campyDE": ("farrington_input.csv", "campyDE"),
    "momo_0_1": ("farrington_hard_input.csv", "momo_0_1"),
    "stsnewport": ("farrington_hard_input.csv", "stsnewport"),
    "salmnewport_saarland": ("farrington_hard_input.csv", "salmnewport_saarland"),
}
QUICK_CASES = ("campyDE", "momo_0_1")


def load_cases(names) -> dict[str, np.ndarray]:
    """Weekly counts of each case [count], oldest first."""
    out = {}
    for name in names:
        file, series = CASES[name]
        inp = pd.read_csv(R_INPUTS / file)
        out[name] = inp.loc[inp.series == series, "observed"].to_numpy(float)
    return out


def monitored_weeks(y: np.ndarray) -> np.ndarray:
    """The last 52 weeks, 1-based (R's ``range``)."""
    return np.arange(y.shape[0] - WEEKS + 1, y.shape[0] + 1)


@contextlib.contextmanager
def previous_fit():
    """Swap the previous per-week fit in for wbe's fitting step (restored afterwards)."""
    import _farrington_per_week

    saved = aberration._farrington_estimates
    aberration._farrington_estimates = _farrington_per_week.per_week_estimates
    try:
        yield
    finally:
        aberration._farrington_estimates = saved


def time_python(y: np.ndarray, repeats: int):
    """Median seconds per call of wbe and of the baseline (interleaved), and both results."""
    weeks = monitored_weeks(y)

    def wbe_call():
        return farrington(y, r_range=weeks)

    def baseline_call():
        with previous_fit():
            return farrington(y, r_range=weeks)

    res_wbe, res_base = wbe_call(), baseline_call()  # warm-up
    t_wbe, t_base = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        wbe_call()
        t_wbe.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        baseline_call()
        t_base.append(time.perf_counter() - t0)
    return float(np.median(t_wbe)), float(np.median(t_base)), res_wbe, res_base


def time_r(series: dict[str, np.ndarray], repeats: int) -> tuple[dict | None, str]:
    """Median seconds per ``farringtonFlexible`` call and R's alarms, per case, or None."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None, "Rscript not found: R part skipped"
    with tempfile.TemporaryDirectory() as tmp:
        inp = pd.concat([pd.DataFrame({"case": name, "t": np.arange(1, y.shape[0] + 1),
                                       "observed": y}) for name, y in series.items()])
        cases = pd.DataFrame({"case": list(series),
                              "first": [monitored_weeks(y)[0] for y in series.values()],
                              "last": [y.shape[0] for y in series.values()]})
        inp.to_csv(Path(tmp) / "series.csv", index=False, na_rep="NA")
        cases.to_csv(Path(tmp) / "cases.csv", index=False)
        try:
            run = subprocess.run(
                [rscript, str(R_SCRIPT), str(Path(tmp) / "series.csv"),
                 str(Path(tmp) / "cases.csv"), str(repeats)],
                capture_output=True, text=True, timeout=1800, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"Rscript failed ({exc}): R part skipped"
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["no message"])[-1]
        return None, f"Rscript failed ({last}): R part skipped"
    out, version = {}, ""
    for line in run.stdout.splitlines():
        parts = line.split()
        if parts[:1] == ["surveillance"]:
            version = parts[1]
        elif parts[:1] == ["case"]:
            out[parts[1]] = (float(parts[2]), np.array([c == "1" for c in parts[3]]))
    return out, f"R surveillance {version}"


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two cases, fewer repeats")
    parser.add_argument("--repeats", type=int, help="wbe and baseline calls per case")
    parser.add_argument("--r-repeats", type=int, help="farringtonFlexible calls per case")
    parser.add_argument("--no-r", action="store_true", help="skip the R timing")
    args = parser.parse_args(argv)
    names = QUICK_CASES if args.quick else tuple(CASES)
    repeats = args.repeats or (3 if args.quick else 9)
    r_repeats = args.r_repeats or (2 if args.quick else 5)
    series = load_cases(names)
    load_before = os.getloadavg()
    py = {name: time_python(y, repeats) for name, y in series.items()}
    if args.no_r:
        r_res, r_note = None, "R part skipped (--no-r)"
    else:
        r_res, r_note = time_r(series, r_repeats)
    load_after = os.getloadavg()

    print(f"Farrington, {len(names)} calls of {WEEKS} monitored weeks, default controls "
          f"(load average {load_before[0]:.2f} -> {load_after[0]:.2f}; {r_note})")
    per_case, same_as_base, same_as_r = [], True, r_res is not None
    for name, (t_wbe, t_base, res_wbe, res_base) in py.items():
        alarm = res_wbe["alarm"].to_numpy()[-WEEKS:]
        base_ok = bool(np.array_equal(alarm, res_base["alarm"].to_numpy()[-WEEKS:]))
        ub, ub_base = res_wbe["upperbound"].to_numpy(), res_base["upperbound"].to_numpy()
        ok = np.isfinite(ub)
        rel = float(np.max(np.abs(ub[ok] / ub_base[ok] - 1.0), initial=0.0))
        same_as_base &= base_ok
        row = {"case": name, "weeks": [int(monitored_weeks(series[name])[0]),
                                       int(series[name].shape[0])],
               "seconds": t_wbe, "seconds_baseline": t_base, "alarms": int(alarm.sum()),
               "alarms_equal_baseline": base_ok, "max_rel_diff_upperbound_baseline": rel}
        line = (f"  {name:21s} wbe {t_wbe * 1e3:7.2f} ms  previous per-week fit "
                f"{t_base * 1e3:7.2f} ms ({t_base / t_wbe:5.1f}x)")
        if r_res is not None and name in r_res:
            t_r, alarm_r = r_res[name]
            r_ok = bool(np.array_equal(alarm, alarm_r))
            same_as_r &= r_ok
            row.update(seconds_r=t_r, alarms_equal_r=r_ok)
            line += f"  R {t_r * 1e3:7.1f} ms ({t_r / t_wbe:5.1f}x)"
        line += f"  alarms {int(alarm.sum())}, equal: baseline {base_ok}"
        line += f", R {row['alarms_equal_r']}" if "alarms_equal_r" in row else ""
        print(line)
        per_case.append(row)
    t_wbe = sum(r["seconds"] for r in per_case)
    t_base = sum(r["seconds_baseline"] for r in per_case)
    ratio = t_base / t_wbe
    print(f"wbe default fit, per call: {t_wbe / len(per_case) * 1e3:.2f} ms")
    print(f"baseline previous per-week fit (same process), per call: "
          f"{t_base / len(per_case) * 1e3:.2f} ms")
    print(f"ratio previous per-week fit / wbe: {ratio:.2f}x")
    record = {"benchmark": "farrington", "cases": per_case, "weeks_per_call": WEEKS,
              "baseline": "previous wbe fit, one week at a time (commit 5031b03), same process",
              "seconds": t_wbe / len(per_case), "seconds_baseline": t_base / len(per_case),
              "ratio": ratio, "alarms_identical_baseline": same_as_base,
              "r": r_note, "load_average": [load_before, load_after]}
    if r_res is not None:
        t_r = sum(r["seconds_r"] for r in per_case)
        ratio_r = t_r / t_wbe
        min_case = min(r["seconds_r"] / r["seconds"] for r in per_case)
        print(f"R farringtonFlexible (Rscript subprocess, same run), per call: "
              f"{t_r / len(per_case) * 1e3:.1f} ms")
        print(f"ratio R farringtonFlexible / wbe: {ratio_r:.1f}x (smallest case {min_case:.1f}x;"
              f" target >= 10)")
        print(f"alarms identical to R on all cases: {same_as_r}")
        record.update(seconds_r=t_r / len(per_case), ratio_r=ratio_r,
                      ratio_r_smallest_case=min_case, alarms_identical_r=same_as_r)
    return record


if __name__ == "__main__":
    main(sys.argv[1:])
