"""Hair and urine drug-test batches: readers, cutoffs, QC, prevalence, relapse (``wbe.lab``)."""

from wbe.lab.classify import Classification, classify
from wbe.lab.hair import HairWindow, hair_windows, segment_time_window
from wbe.lab.io import read_lab_results, read_masshunter, read_sciex, read_targetlynx
from wbe.lab.prevalence import PrevalenceResult, positivity, prevalence, rogan_gladen
from wbe.lab.privacy import subject_keys, suppress_small_cells
from wbe.lab.qc import QCReport, fit_calibration, qc_report, westgard
from wbe.lab.relapse import (
    abstinence_consolidation_rate,
    abstinence_proportion,
    kaplan_meier_first_positive,
    registry_intervals,
    relapse_intervals,
    relapse_rate,
    turnbull,
)

__all__: list[str] = [
    "Classification",
    "HairWindow",
    "PrevalenceResult",
    "QCReport",
    "abstinence_consolidation_rate",
    "abstinence_proportion",
    "classify",
    "fit_calibration",
    "hair_windows",
    "kaplan_meier_first_positive",
    "positivity",
    "prevalence",
    "qc_report",
    "read_lab_results",
    "read_masshunter",
    "read_sciex",
    "read_targetlynx",
    "registry_intervals",
    "relapse_intervals",
    "relapse_rate",
    "rogan_gladen",
    "segment_time_window",
    "subject_keys",
    "suppress_small_cells",
    "turnbull",
    "westgard",
]
