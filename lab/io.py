"""Readers of hair and urine batch results (``wbe.lab.io``).

The documented long format (:func:`read_lab_results`) and the instrument exports
mapped onto it: SCIEX Analyst/MultiQuant results tables (:func:`read_sciex`), Agilent
MassHunter Quantitative Analysis exports (:func:`read_masshunter`) and Waters TargetLynx
summary reports and waters_connect CSV (:func:`read_targetlynx`). Formats:
``docs/lab-formats.md``; output columns: ``docs/data-model.md`` (lab results).
"""

from wbe.lab._masshunter import read_masshunter
from wbe.lab._readers import (
    LAB_COLUMN_ALIASES,
    LAB_COLUMNS,
    MATRICES,
    METHODS,
    SAMPLE_TYPES,
    read_lab_results,
)
from wbe.lab._sciex import read_sciex
from wbe.lab._targetlynx import read_targetlynx

__all__ = [
    "LAB_COLUMNS",
    "LAB_COLUMN_ALIASES",
    "MATRICES",
    "METHODS",
    "SAMPLE_TYPES",
    "read_lab_results",
    "read_masshunter",
    "read_sciex",
    "read_targetlynx",
]
