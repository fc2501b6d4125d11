"""Reading a MassHunter batch table: ``wbe.lab.read_masshunter`` against ``pandas.read_csv``.

A batch table of ``n_injections`` x ``n_compounds`` (default 200 x 40, the size of a
large hair batch: calibrators, QC and ~150 samples, 30 drugs plus internal standards) is
written in MassHunter's layout: two header rows, the ``!`` outlier-flag column, per
compound a Method block (``Exp. Conc.``) and a Results block (``RT``, ``Resp.``,
``Calc. Conc.``, ``Final Conc.``) and a qualifier block. The baseline is
``pandas.read_csv(path, header=[0, 1])`` of the same file, which only splits the text
(no checks, no units, no long table). The ratio reader / baseline is printed; the issue's
target is a read under 2 s on this machine. Run
``python benchmarks/bench_lab_readers.py [n_injections] [n_compounds]``. A script, not a
test.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from wbe.lab import read_masshunter

DRUGS = ["Methamphetamine", "Amphetamine", "Ketamine", "Norketamine", "MDMA", "MDA",
         "Morphine", "Codeine", "6-MAM", "Benzoylecgonine", "Cocaine", "Methadone", "EDDP",
         "THC-COOH", "Mephedrone", "Fentanyl", "Norfentanyl", "Oxycodone", "Buprenorphine",
         "PCP"]


def write_batch(path: Path, n_injections: int, n_compounds: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    names = []
    for k in range(n_compounds):
        base = DRUGS[k % len(DRUGS)] + ("" if k < len(DRUGS) else f" {k}")
        names.append(base if k % 4 else f"{base}-D5 (ISTD)")
    top = ["", "", "Sample", "", "", ""]
    sub = ["", "", "Name", "Data File", "Type", "Level"]
    for n in names:
        top += [f"{n} Method", f"{n} Results", "", "", "", "Qualifier (150.1 -> 91.1) Results",
                ""]
        sub += ["Exp. Conc.", "RT", "Resp.", "Calc. Conc.", "Final Conc.", "RT", "Ratio"]
    lines = [",".join(top), ",".join(sub)]
    levels = [0.5, 1, 2, 5, 10, 20, 50, 100]
    for i in range(n_injections):
        if i < len(levels):
            head, nominal = ["!", "", f"CAL{i + 1}", f"cal{i + 1}.d", "Cal", f"L{i + 1}"], levels[i]
        elif i % 20 == 0:
            head, nominal = ["", "", f"QC{i}", f"qc{i}.d", "QC", "Mid"], 10.0
        else:
            head, nominal = ["", "", f"S{i:04d}", f"s{i:04d}.d", "Sample", ""], None
        cells = list(head)
        for _ in names:
            conc = nominal if nominal is not None else rng.lognormal(1.0, 1.0)
            cells += ["" if nominal is None else f"{nominal:g}", f"{rng.normal(3.2, 0.01):.3f}",
                      f"{conc * 0.05:.4f}", f"{conc:.4f}", f"{conc:.4f}",
                      f"{rng.normal(3.2, 0.01):.3f}", f"{rng.normal(45, 2):.1f}"]
        lines.append(",".join(cells))
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")


def _best(func, repeats: int = 3) -> float:
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - t0)
    return best


def main(n_injections: int = 200, n_compounds: int = 40) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.csv"
        write_batch(path, n_injections, n_compounds)
        baseline = _best(lambda: pd.read_csv(path, header=[0, 1]))
        reader = _best(lambda: read_masshunter(path, matrix="hair", unit="ng/mg"))
        data, rejects = read_masshunter(path, matrix="hair", unit="ng/mg")
    ratio = reader / baseline
    print(f"MassHunter batch table {n_injections} injections x {n_compounds} compounds "
          f"({len(data)} results read, {len(rejects)} rejects)")
    print(f"baseline pandas.read_csv: {baseline:.4f} s")
    print(f"wbe.lab.read_masshunter: {reader:.4f} s")
    print(f"ratio read_masshunter / baseline: {ratio:.2f}")
    return {"benchmark": "lab_readers", "sizes": {"injections": n_injections,
                                                  "compounds": n_compounds},
            "baseline": "pandas.read_csv(header=[0, 1]) of the same file",
            "seconds_baseline": baseline, "seconds": reader, "ratio": ratio}


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
