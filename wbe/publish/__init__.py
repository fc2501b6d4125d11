"""Monthly publication: tables, NetCDF draws, manifest, offline HTML report, database feed.

``wbe publish`` and ``wbe demo`` (:mod:`wbe.cli`) call :func:`run_pipeline`; output schemas
are documented in ``docs/output-schemas.md``.
"""

from wbe.publish._demo import DEMO_KEY, run_demo
from wbe.publish._pipeline import OUTPUT_FILES, PublishResult, run_pipeline
from wbe.publish.manifest import MANIFEST_SCHEMA_VERSION, file_sha256, run_manifest
from wbe.publish.report import html_report
from wbe.publish.tables import (
    ESTIMATES_SCHEMA_VERSION,
    POSITIVITY_SCHEMA_VERSION,
    lab_positivity_table,
    monthly_draws,
    monthly_estimates,
)

__all__ = [
    "DEMO_KEY",
    "ESTIMATES_SCHEMA_VERSION",
    "MANIFEST_SCHEMA_VERSION",
    "OUTPUT_FILES",
    "POSITIVITY_SCHEMA_VERSION",
    "PublishResult",
    "file_sha256",
    "html_report",
    "lab_positivity_table",
    "monthly_draws",
    "monthly_estimates",
    "run_demo",
    "run_manifest",
    "run_pipeline",
]
