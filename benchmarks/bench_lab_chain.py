"""Province-scale lab chain: read + classify + positivity of urine screening results.

A synthetic screening export (one result per row, a plain CSV like a civil-servant urine
screening programme's export; default 219,213 rows) is written with columns
``sample_id, subject_id, analyte, value, unit, matrix, method, collected_on, group``.
The subject identifiers are synthetic (``P`` + 8 digits; no real identifier) and the
pseudonymisation key is ``secrets.token_hex(32)`` as ``wbe.lab.privacy`` requires.

Timed (median of ``repeats``, same process; the baseline and the chain alternate, so that
a change in the machine's load hits both):

- wbe: ``read_lab_results`` -> ``classify(..., "samhsa2017")`` -> ``positivity`` per
  group and drug, counting persons;
- baseline (the "pandas floor"): ``pandas.read_csv`` + a numeric cutoff on ``value``
  + ``groupby(["group", "analyte", "subject_id"]).max()`` and a count per group.

A second case times ``read_lab_results`` + ``classify(..., "china-hair")`` of 5,000 hair
results with segments (target: under 1 s). Run
``python benchmarks/bench_lab_chain.py [n_results] [n_hair]``. A script, not a test.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from wbe.lab.classify import classify
from wbe.lab.io import read_lab_results
from wbe.lab.prevalence import positivity

URINE_ANALYTES = ["methamphetamine", "amphetamine", "morphine", "codeine",
                  "benzoylecgonine", "thc_cooh", "mdma", "ketamine"]
HAIR_ANALYTES = ["methamphetamine", "amphetamine", "ketamine", "norketamine", "mdma",
                 "morphine"]
GROUPS = ["省直机关", "市直机关", "县区机关", "事业单位", "国有企业"]


def write_urine(path: Path, n_results: int, seed: int = 0) -> None:
    """A screening export: about 4 analytes per sample, 1-2 samples per person."""
    rng = np.random.default_rng(seed)
    per_sample = 4
    n_samples = -(-n_results // per_sample)
    sample = np.repeat(np.arange(n_samples), per_sample)[:n_results]
    person = sample // 2 if n_samples > 1 else sample
    analyte = np.array(URINE_ANALYTES)[rng.integers(0, len(URINE_ANALYTES), n_results)]
    # no duplicated (sample, analyte): cycle the analytes within a sample
    analyte = np.array(URINE_ANALYTES)[(sample * 3 + np.arange(n_results) % per_sample)
                                       % len(URINE_ANALYTES)]
    conc = rng.lognormal(3.0, 1.5, n_results)
    value = np.char.mod("%.1f", conc).astype(object)
    low = rng.random(n_results)
    value[low < 0.5] = "<LOQ"
    value[(low >= 0.5) & (low < 0.6)] = "未检出"
    days = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365, n_samples),
                                                        unit="D")
    frame = pd.DataFrame({
        "sample_id": [f"U{s:07d}" for s in sample],
        "subject_id": [f"P{p:08d}" for p in person],
        "analyte": analyte,
        "value": value,
        "unit": "ng/mL",
        "matrix": "urine",
        "method": "confirm",
        "collected_on": days[sample].strftime("%Y-%m-%d"),
        "group": np.array(GROUPS)[person % len(GROUPS)],
    })
    frame.to_csv(path, index=False)


def write_hair(path: Path, n_results: int, seed: int = 1) -> None:
    """Hair results, three 3-cm segments per sample, six analytes per segment."""
    rng = np.random.default_rng(seed)
    per_sample = 3 * len(HAIR_ANALYTES)
    i = np.arange(n_results)
    sample = i // per_sample
    seg = (i % per_sample) // len(HAIR_ANALYTES)
    conc = rng.lognormal(-2.0, 1.5, n_results)
    value = np.char.mod("%.3f", conc).astype(object)
    value[rng.random(n_results) < 0.4] = "<0.05"
    frame = pd.DataFrame({
        "sample_id": [f"H{s:06d}" for s in sample],
        "subject_id": [f"P{s:08d}" for s in sample],
        "analyte": np.array(HAIR_ANALYTES)[i % len(HAIR_ANALYTES)],
        "value": value, "unit": "ng/mg", "matrix": "hair", "method": "confirm",
        "segment": [f"{3 * s}-{3 * s + 3} cm" for s in seg],
        "collected_on": "2025-03-01", "group": np.array(GROUPS)[sample % len(GROUPS)],
    })
    frame.to_csv(path, index=False)


def pandas_floor(path: Path, cutoffs: dict[str, float]) -> pd.DataFrame:
    """Plain pandas: read, numeric cutoff, a person is positive if any result is."""
    t = pd.read_csv(path)
    value = pd.to_numeric(t["value"], errors="coerce")
    t["positive"] = value >= t["analyte"].map(cutoffs)
    person = t.groupby(["group", "analyte", "subject_id"])["positive"].max()
    return person.groupby(level=["group", "analyte"]).agg(["size", "sum"])


def wbe_chain(path: Path, key: str) -> pd.DataFrame:
    data, _ = read_lab_results(path, key=key)
    res, _ = classify(data, "samhsa2017")
    return positivity(res.loc[res["classification"].notna()], by=("group", "drug"))


def hair_chain(path: Path, key: str) -> pd.DataFrame:
    data, _ = read_lab_results(path, key=key)
    return classify(data, "china-hair").summary


def _seconds(func) -> float:
    t0 = time.perf_counter()
    func()
    return time.perf_counter() - t0


def main(n_results: int = 219_213, n_hair: int = 5_000, repeats: int = 5) -> dict:
    key = secrets.token_hex(32)
    cutoffs = {a: 50.0 for a in URINE_ANALYTES}
    with tempfile.TemporaryDirectory() as tmp:
        urine, hair = Path(tmp) / "urine.csv", Path(tmp) / "hair.csv"
        write_urine(urine, n_results)
        write_hair(hair, n_hair)
        load_before = os.getloadavg()
        floors, chains, hairs = [], [], []
        for _ in range(repeats):
            floors.append(_seconds(lambda: pandas_floor(urine, cutoffs)))
            chains.append(_seconds(lambda: wbe_chain(urine, key)))
            hairs.append(_seconds(lambda: hair_chain(hair, key)))
        load_after = os.getloadavg()
    t_floor, t_chain, t_hair = (float(np.median(x)) for x in (floors, chains, hairs))
    ratio = t_chain / t_floor
    print(f"urine screening export, {n_results} results (load average {load_before[0]:.2f}"
          f" -> {load_after[0]:.2f}; median of {repeats})")
    print(f"baseline pandas floor: {t_floor:.3f} s")
    print(f"wbe read + classify + positivity: {t_chain:.3f} s")
    print(f"ratio chain / floor: {ratio:.2f}  (target <= 5, moonshot <= 2)")
    print(f"hair, {n_hair} results with segments, read + classify: {t_hair:.3f} s "
          f"(target < 1 s)")
    return {"benchmark": "lab_chain", "sizes": {"urine_results": n_results,
                                                "hair_results": n_hair},
            "baseline": "pandas.read_csv + numeric cutoff + per-person groupby",
            "timing": f"median of {repeats}, baseline and chain alternating",
            "seconds_baseline": t_floor, "seconds": t_chain, "ratio": ratio,
            "seconds_hair": t_hair, "repeats": {"baseline": floors, "chain": chains,
                                                "hair": hairs},
            "load_average": [load_before, load_after]}


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
