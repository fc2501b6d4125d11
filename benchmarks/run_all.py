"""Run every benchmark, each as a ratio against its named baseline timed in the same run.

=================  ============================================  =========================
benchmark          what is timed                                 baseline (same run)
=================  ============================================  =========================
backcalc           ``wbe.back_calculate`` in memory, all draws    physical floor: one
                   (``bench_backcalc.py``)                       log-normal per cell-draw +
                                                                 the five output arrays
dask               chunked back_calculate + summarize on 2       the same chunks on 1 dask
                   dask threads (``bench_dask.py``)              thread
smoother           batched Kalman smoother, 1,000 series          statsmodels
                   (``bench_smoother.py``, if present)           UnobservedComponents, one
                                                                 series at a time
big                lazy chain back_calculate(chunks) ->           numpy RNG floor
                   period_mean -> summarize, one pass
                   (``bench_big.py``)
naive              ``back_calculate`` + ``summarize``            naive pandas row-by-row
                   (``bench_naive.py``)                          chain (``iterrows``)
lab_readers        ``wbe.lab.read_masshunter``, 200 injections   ``pandas.read_csv`` of the
                   x 40 compounds (``bench_lab_readers.py``;     same file (text split
                   target < 2 s)                                 only)
backcalc_memory    memory added by one in-memory                 bytes of its output
                   ``back_calculate`` (``bench_backcalc_``       arrays (target <= 1.3)
                   ``memory.py``, subprocess ``ru_maxrss``)
farrington         ``wbe.models.farrington``, 52-week calls on   previous per-week fit
                   real series (``bench_farrington.py``); R      (commit 5031b03); R timed
                   ``farringtonFlexible`` per call via Rscript   in a subprocess if present
=================  ============================================  =========================

``python benchmarks/run_all.py`` (full sizes: tens of minutes on 2 cores, the big case
alone ~15 min) or ``--quick`` (about 1-2 minutes); ``--only big,naive`` to pick. The
results go to ``benchmarks/results/run_<UTC time>.json`` (git-ignored) with the machine
description; the path is printed. Ratios are printed as "x times the baseline's time"
(<1 = faster than the baseline) or, for speed-ups, "x faster".
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import platform
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))


def _capture(func, *args) -> tuple[object, str]:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        value = func(*args)
    return value, buf.getvalue()


def _number(pattern: str, text: str) -> float | None:
    m = re.search(pattern, text)
    return float(m.group(1)) if m else None


def bench_backcalc(quick: bool) -> dict:
    import bench_backcalc

    sizes = (10, 365, 8, 100) if quick else (30, 365, 8, 100)
    _, text = _capture(bench_backcalc.main, *sizes)
    return {"benchmark": "backcalc", "sizes": dict(zip(("sites", "days", "biomarkers",
                                                        "draws"), sizes, strict=True)),
            "baseline": "physical floor: one log-normal per cell-draw + the 5 output arrays",
            "seconds_baseline": _number(r"physical floor .*?:\s*([\d.]+) s", text),
            "seconds": _number(r"wbe.back_calculate .*?:\s*([\d.]+) s", text),
            "ratio": _number(r"ratio back_calculate / floor:\s*([\d.]+)", text),
            "keyed_draw_bookkeeping_share": _number(
                r"keyed-draw bookkeeping share:\s*([\d.]+)%", text),
            "ratio_meaning": "time of wbe / time of the floor (target <= 1.2; bookkeeping "
                             "share target < 10 %)",
            "output": text}


def bench_dask(quick: bool) -> dict:
    import bench_dask

    res, text = _capture(bench_dask.main, ["--quick"] if quick else [])
    return {"benchmark": "dask", "cases": res,
            "baseline": "the same chunked graph on 1 dask thread",
            "ratio": min(r["ratio"] for r in res),
            "control_speedup_numpy_sort": res[0]["control_speedup_numpy_sort"],
            "ratio_meaning": "speed-up of 2 threads over 1, smallest of the cases (target "
                             ">= 1.6; needs a quiet machine, see the load averages)",
            "output": text}


def bench_smoother(quick: bool) -> dict | None:
    if importlib.util.find_spec("bench_smoother") is None:
        return None
    import bench_smoother

    if not hasattr(bench_smoother, "main"):
        return None
    saved = {k: getattr(bench_smoother, k) for k in ("N_SERIES", "N_SUBSET", "REPEATS")
             if hasattr(bench_smoother, k)}
    if quick:  # module-level sizes of that script; restored afterwards
        for k, v in {"N_SERIES": 200, "N_SUBSET": 5, "REPEATS": 1}.items():
            if k in saved:
                setattr(bench_smoother, k, v)
    try:
        _, text = _capture(bench_smoother.main)
    finally:
        for k, v in saved.items():
            setattr(bench_smoother, k, v)
    return {"benchmark": "smoother",
            "baseline": "statsmodels UnobservedComponents, one series at a time",
            "seconds": _number(r"batched smoother.*?:\s*([\d.]+) s", text),
            "seconds_baseline": _number(r"statsmodels UnobservedComponents loop:\s*([\d.]+)",
                                        text),
            "ratio": _number(r"speed-up ratio:\s*([\d.]+)x", text),
            "ratio_meaning": "time of baseline / time of wbe (speed-up)",
            "ratio_per_series_pass": _number(r"per-series speed-up ratio:\s*([\d.]+)x", text),
            "load_average": _number(r"load average\s*([\d.]+)", text),
            "output": text}


def bench_big(quick: bool) -> dict:
    import bench_big

    args = ["--sites", "100", "--draws", "1000"] if quick else []
    res, text = _capture(bench_big.main, args)
    return {**res, "ratio_meaning": "time of wbe chain / time of baseline",
            "output": text}


def bench_naive(quick: bool) -> dict:
    import bench_naive

    args = ["10", "30", "4", "1000"] if quick else ["20", "90", "4", "1000"]
    res, text = _capture(bench_naive.main, args)
    return {**res, "ratio_meaning": "time of baseline / time of wbe (speed-up)",
            "output": text}


def bench_lab_readers(quick: bool) -> dict:
    import bench_lab_readers

    sizes = (50, 20) if quick else (200, 40)
    res, text = _capture(bench_lab_readers.main, *sizes)
    return {**res, "ratio_meaning": "time of wbe reader / time of pandas.read_csv",
            "output": text}


def bench_lab_chain(quick: bool) -> dict:
    import bench_lab_chain

    sizes = (20_000, 5_000) if quick else (219_213, 5_000)
    res, text = _capture(bench_lab_chain.main, *sizes)
    return {**res, "ratio_meaning": "median time of wbe chain / median time of pandas floor, "
                                    "5 alternating runs (target <= 5)",
            "output": text}


def bench_memory(quick: bool) -> dict:
    import bench_memory

    args = ["--sites", "40", "--draws", "500"] if quick else []
    res, text = _capture(bench_memory.main, args)
    return {**res, "ratio_meaning": "peak RSS / size of the draws in memory",
            "output": text}


def bench_backcalc_memory(quick: bool) -> dict:
    import bench_backcalc_memory

    res, text = _capture(bench_backcalc_memory.main, *((20, 365, 8, 100) if quick else ()))
    return {**res, "benchmark": "backcalc_memory",
            "ratio_meaning": "memory added by one in-memory back_calculate / bytes of its "
            "output arrays (target <= 1.3)",
            "baseline": f"output arrays {res['output_bytes'] / 2**20:.0f} MB", "output": text}


def bench_farrington(quick: bool) -> dict:
    import bench_farrington

    res, text = _capture(bench_farrington.main, ["--quick"] if quick else [])
    vs_r = (f"R farringtonFlexible / wbe {res['ratio_r']:.1f}x, alarms identical "
            f"{res['alarms_identical_r']}" if "ratio_r" in res else res["r"])
    return {**res, "ratio_meaning": f"time of previous per-week fit / time of wbe "
            f"(speed-up); {vs_r}", "output": text}


BENCHMARKS = {"lab_chain": bench_lab_chain, "memory": bench_memory,
              "backcalc_memory": bench_backcalc_memory,
              "backcalc": bench_backcalc, "smoother": bench_smoother, "big": bench_big,
              "naive": bench_naive, "lab_readers": bench_lab_readers,
              "farrington": bench_farrington, "dask": bench_dask}


def machine() -> dict:
    try:
        load = os.getloadavg()
    except OSError:  # pragma: no cover - not on every platform
        load = None
    return {"platform": platform.platform(), "python": platform.python_version(),
            "cpus": os.cpu_count(), "load_average_at_start": load,
            "processor": platform.processor() or platform.machine()}


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, ~1-2 minutes")
    parser.add_argument("--only", help="comma-separated subset of " + ",".join(BENCHMARKS))
    args = parser.parse_args(argv)
    names = list(BENCHMARKS) if not args.only else [n.strip() for n in args.only.split(",")]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; valid: {', '.join(BENCHMARKS)}")
    started = datetime.now(UTC)
    record = {"started_utc": started.isoformat(timespec="seconds"), "quick": args.quick,
              "machine": machine(), "results": []}
    for name in names:
        t0 = time.perf_counter()
        res = BENCHMARKS[name](args.quick)
        wall = time.perf_counter() - t0
        if res is None:
            print(f"{name:9s} skipped (benchmark script or its main() not present)")
            record["results"].append({"benchmark": name, "skipped": True})
            continue
        res["wall_seconds"] = wall
        record["results"].append(res)
        ratio = res.get("ratio")
        shown = "n/a" if ratio is None else f"{ratio:.2f}"
        print(f"{name:9s} ratio {shown:>7s}  ({res['ratio_meaning']}; baseline: "
              f"{res['baseline']})  [{wall:.0f} s]")
    RESULTS.mkdir(exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"run_{stamp}{'_quick' if args.quick else ''}.json"
    path.write_text(json.dumps(record, indent=2, default=str))
    print(f"results written to {path}")
    return path


if __name__ == "__main__":
    main(sys.argv[1:])
