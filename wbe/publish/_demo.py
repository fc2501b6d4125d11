"""``wbe demo``: the whole pipeline on the bundled simulated city."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from wbe._compat import renamed_arguments
from wbe._log import progress_logger
from wbe.config import DEFAULT_DRAWS, Config
from wbe.lab.privacy import DEMO_KEY, allow_demo_key
from wbe.publish._i18n import check_language
from wbe.publish._pdf import DEFAULT_PDF_TIMEOUT_S, find_chromium
from wbe.publish._pipeline import PublishResult, relocate, run_pipeline
from wbe.publish._release import staged_release

__all__ = ["DEMO_BIOMARKERS", "DEMO_KEY", "run_demo"]


#: Biomarkers of the demo city (a modest city so the demo runs in seconds).
DEMO_BIOMARKERS = ("methamphetamine", "ketamine", "mdma", "benzoylecgonine")


def _write_inputs(city, folder: Path) -> dict[str, Path]:
    """Write the simulated tables in the documented input formats (``wbe.io`` readers)."""
    paths = {"sites": folder / "sites.csv", "samples": folder / "samples.csv",
             "flows": folder / "flows.csv"}
    city.sites.to_csv(paths["sites"], index=False, lineterminator="\n")
    smp = city.samples
    value = smp["concentration_ng_per_l"].map(repr).where(~smp["censored"], "<LOQ")
    pd.DataFrame({"site": smp["site"], "sampled_on": smp["sampled_on"].dt.strftime("%Y-%m-%d"),
                  "biomarker": smp["biomarker"], "value": value, "unit": "ng/L",
                  "loq": smp["loq_ng_per_l"], "flag": smp["flag"]}).to_csv(
        paths["samples"], index=False, lineterminator="\n")
    flw = city.flows
    pd.DataFrame({"site": flw["site"], "date": flw["date"].dt.strftime("%Y-%m-%d"),
                  "flow": flw["flow_m3_per_day"], "unit": "m3/day"}).to_csv(
        paths["flows"], index=False, lineterminator="\n")
    return paths


def _read_inputs(paths: dict[str, Path]):
    """Read the input files with the ``wbe.io`` readers; rejects become notes."""
    from wbe.io import read_flows, read_samples, read_sites

    notes = []
    site_r = read_sites(paths["sites"])
    sample_r = read_samples(paths["samples"], sites=site_r.data)
    flow_r = read_flows(paths["flows"], sites=site_r.data)
    for r in (site_r, sample_r, flow_r):
        if len(r.rejects):
            notes.append(f"reader: {len(r.rejects)} rows of {r.source} rejected")
    return site_r.data, sample_r.data, flow_r.data, notes


@renamed_arguments(draws="n_draws")
def run_demo(out_dir: str | Path = "wbe-demo", *, seed: int = 1, n_draws: int = DEFAULT_DRAWS,
             n_sites: int = 4, days: int = 365, quiet: bool = False,
             lang: str = "en", pdf: bool = False,
             pdf_timeout_s: float = DEFAULT_PDF_TIMEOUT_S) -> PublishResult:
    """Simulate a city (:func:`wbe.datasets.simulate`) and run the monthly publication on it.

    Parameters
    ----------
    out_dir : str or path-like, default "wbe-demo"
        Output folder; the simulated inputs are written to ``<out_dir>/inputs``.
    seed : int, default 1
        Seed of the simulation and of every estimation step.
    n_draws : int, default 500 (:data:`wbe.config.DEFAULT_DRAWS`)
        Monte Carlo draws [count] (``draws=`` is a deprecated alias).
    n_sites : int, default 4
        Sewage plants [count].
    days : int, default 365
        Length of the wastewater series, from 2024-01-01 [days].
    quiet : bool, default False
        Progress at DEBUG instead of INFO on the ``wbe`` logger (see the ``logging`` module).
    lang : {"en", "zh"}, default "en"
        Language of the report and of ``monthly_estimates.xlsx``.
    pdf : bool, default False
        Also print the report to ``report.pdf`` with headless Chromium (see
        :func:`wbe.publish.run_pipeline`); the browser is looked up before the simulation.
    pdf_timeout_s : float, default 120
        Time limit of the PDF printing [s].

    Returns
    -------
    PublishResult
        Also the simulated truth is written to ``inputs/truth_daily.csv`` so that the
        estimates can be compared with it.

    Notes
    -----
    Lab results are restricted to the hair tests collected during the wastewater period
    (the simulator's cohort history starts years earlier), and pseudonymised with the
    public :data:`DEMO_KEY`.
    """
    lang = check_language(lang)
    browser = find_chromium(option="pdf=True", lang=lang) if pdf else None
    target = Path(out_dir)
    with staged_release(target) as stage:  # inputs and outputs swapped in together
        result = _demo(stage, seed=seed, n_draws=n_draws, n_sites=n_sites, days=days,
                       quiet=quiet, lang=lang, browser=browser, pdf_timeout_s=pdf_timeout_s)
    return relocate(result, target)


def _demo(out: Path, *, seed: int, n_draws: int, n_sites: int, days: int, quiet: bool,
          lang: str = "en", browser: str | None = None,
          pdf_timeout_s: float = DEFAULT_PDF_TIMEOUT_S) -> PublishResult:
    from wbe.datasets import simulate
    from wbe.lab import read_lab_results

    progress = progress_logger(quiet)
    inputs_dir = out / "inputs"
    inputs_dir.mkdir(parents=True, exist_ok=True)
    progress(f"simulating a city: {n_sites} plants x {days} days, seed {seed}")
    city = simulate(seed=seed, n_sites=n_sites, days=days, biomarkers=DEMO_BIOMARKERS)
    paths = _write_inputs(city, inputs_dir)
    progress("reading the inputs back with the wbe.io readers")
    sites, samples, flows, reject_notes = _read_inputs(paths)
    truth = city.truth[["site", "date", "biomarker", "consumption_mg_per_day_per_1000",
                        "sampled"]]
    truth.to_csv(inputs_dir / "truth_daily.csv", index=False, lineterminator="\n")

    notes = [*reject_notes, "demo: simulated city (wbe.datasets.simulate); lab identifiers "
             "pseudonymised with the PUBLIC demo key wbe.publish.DEMO_KEY (never use it for "
             "real data)",
             "demo: estimates use the 'default' parameter set, the one the simulator draws "
             "its truth from, so that they can be checked against inputs/truth_daily.csv; "
             "wbe publish defaults to the mixture of published sets"]
    raw = city.lab_results
    start = pd.Timestamp("2024-01-01")
    collected = pd.to_datetime(raw["collected_on"])
    end = start + pd.Timedelta(days=days)
    keep = (collected >= start) & (collected < end) & (raw["matrix"] == "hair")
    notes.append(f"demo: {int((~keep).sum())} of {len(raw)} simulated lab rows (urine, and "
                 "hair outside the wastewater period) are not used, to keep the demo fast")
    progress(f"reading and pseudonymising {int(keep.sum())} simulated lab rows")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with allow_demo_key():  # simulated people only
            lab = read_lab_results(raw[keep], key=DEMO_KEY, file_label="simulated lab results")
    notes += [f"lab reader: {w.message}" for w in caught]
    config = Config(seed=seed, draws=n_draws, created_at="2025-01-01T00:00:00Z",
                    source="wbe demo", parameter_set="default", language=lang)
    result = run_pipeline(sites=sites, samples=samples, flows=flows,
                          config=config, out_dir=out, lab=lab.data, lab_rejects=lab.rejects,
                          inputs=paths, notes=notes, quiet=quiet,
                          command=f"wbe demo --seed {seed} --draws {n_draws}",
                          title=("wbe 演示：模拟城市" if lang == "zh"
                                 else "wbe demo: simulated city"), atomic=False,
                          pdf=browser is not None, pdf_timeout_s=pdf_timeout_s)
    return result
