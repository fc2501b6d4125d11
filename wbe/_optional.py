"""Optional dependencies: which ``wbe-drugs`` extra provides which package.

A plain ``pip install wbe-drugs`` (numpy, scipy, pandas, statsmodels, xarray) reads CSV inputs,
back-calculates (``wbe estimate``), classifies lab results and runs the detectors. Other
features need an extra; :func:`require` and :func:`check` turn a missing package into a
:class:`wbe.errors.MissingDependencyError` that says which extra to install. The table is the
single source of the README section "Which extra do I need?" (``tests/test_packaging.py``
checks both against ``pyproject.toml``).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable
from types import ModuleType

from wbe.errors import MissingDependencyError

__all__ = ["EXTRAS", "FEATURES", "check", "extra_for", "from_module_not_found", "require"]

#: top-level module name -> extra of ``wbe-drugs`` that installs it
EXTRAS: dict[str, str] = {
    "openpyxl": "io",      # .xlsx inputs
    "pyarrow": "io",       # Parquet outputs (monthly_estimates.parquet)
    "h5netcdf": "io",      # NetCDF outputs (monthly_draws.nc)
    "h5py": "io",
    "matplotlib": "viz",   # figures of the HTML report
    "ruptures": "models",  # change points (wbe.models.detect_changepoints)
    "sqlalchemy": "db",    # the monitoring-database feed (wbe publish with output.database_url)
    "psycopg": "db",
    "dask": "dask",        # chunks= of back_calculate, wbe.scale
    "distributed": "dask",
}

#: command-line feature -> optional modules it needs before it starts
FEATURES: dict[str, tuple[str, ...]] = {
    "wbe demo": ("pyarrow", "h5netcdf", "matplotlib"),
    "wbe publish": ("pyarrow", "h5netcdf", "matplotlib"),
}


def extra_for(module: str) -> str | None:
    """The extra that installs ``module`` (dotted names allowed), or None if not optional."""
    return EXTRAS.get(module.split(".")[0])


def _message(missing: list[str], feature: str) -> tuple[str, str | None]:
    extras = sorted({extra_for(m) or "?" for m in missing})
    names = ", ".join(repr(m) for m in missing)
    plural = "s" if len(missing) > 1 else ""
    return (f"{feature} needs the optional package{plural} {names}, not installed: "
            f"pip install 'wbe-drugs[{','.join(extras)}]'"), (extras[0] if extras else None)


def require(module: str, *, feature: str) -> ModuleType:
    """Import an optional module or say which extra installs it.

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``"matplotlib.pyplot"``.
    feature : str
        What needs it, for the message (e.g. ``"the HTML report"``).

    Returns
    -------
    module
        The imported module.

    Raises
    ------
    wbe.errors.MissingDependencyError
        If the top-level package is not installed.
    """
    top = module.split(".")[0]
    if importlib.util.find_spec(top) is None:
        msg, extra = _message([top], feature)
        raise MissingDependencyError(msg, extra=extra)
    return importlib.import_module(module)


def check(modules: Iterable[str], *, feature: str) -> None:
    """Raise one :class:`~wbe.errors.MissingDependencyError` naming every missing module.

    Used before a long run (``wbe demo``, ``wbe publish``) so that it fails at the start,
    not after the back-calculation.
    """
    missing = [m for m in modules if importlib.util.find_spec(m.split(".")[0]) is None]
    if missing:
        msg, extra = _message(missing, feature)
        raise MissingDependencyError(msg, extra=extra)


def from_module_not_found(exc: ModuleNotFoundError, *, feature: str
                          ) -> MissingDependencyError | None:
    """Translate an uncaught ``ModuleNotFoundError`` of an optional package (None otherwise)."""
    name = getattr(exc, "name", None) or ""
    if extra_for(name) is None:
        return None
    msg, extra = _message([name.split(".")[0]], feature)
    return MissingDependencyError(msg, extra=extra)
