"""TOML configuration of ``wbe publish`` and ``wbe estimate`` (``tomllib``), validated.

Every key is documented in ``docs/cli.md`` and ``examples/wbe.toml``. Errors are
:class:`wbe.errors.ConfigError` naming the file and the key (``section.key``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from wbe import censoring as _censoring
from wbe.errors import ConfigError
from wbe.models.alerts import ALERT_METHODS as _DETECTORS

__all__ = ["CENSORING_POLICIES", "DEFAULT_DRAWS", "Config", "load_config"]

# One source for each enumeration (docs/conventions.md): the names come from the modules that
# implement them, so a new policy or detector is accepted here without a second edit. This
# module configures the application layer (cli, publish), which may see every subpackage.

#: Censoring policies understood by :func:`wbe.backcalc.back_calculate`
#: (``"draw"`` and the substitution policies: :data:`wbe.censoring.CENSORING_TREATMENTS`).
CENSORING_POLICIES = tuple(_censoring.CENSORING_TREATMENTS)
# the detectors of wbe.models.ALERT_METHODS, and "default" (wbe.models.ALERT_DEFAULT)
_ALERT_METHODS = ("default", *_DETECTORS)

#: The one default number of Monte Carlo draws of every command (``wbe demo``,
#: ``wbe estimate``, ``wbe publish``'s ``run.draws``) and of :func:`wbe.publish.run_demo`
#: [count]. 500 draws put the Monte Carlo error of a 95 % bound well below the width of
#: the interval for the monthly means published here (docs/cli.md).
DEFAULT_DRAWS = 500


@dataclass(frozen=True)
class Config:
    """A validated run configuration (paths resolved against the config file's folder).

    Attributes
    ----------
    sites, samples, flows : pathlib.Path or None
        Canonical input tables (CSV/XLSX; ``wbe.io`` readers).
    input_options : mapping
        Per input table (``sites``, ``samples``, ``flows``) the reader options given as
        ``samples = { path = "...", sheet = "*", header_row = 3 }``: ``sheet`` (a name, a
        0-based index, or ``"*"`` for every sheet of the workbook) and ``header_row`` (the
        1-based row of the header; default found automatically below title rows).
    date_format : str or None
        strptime format of the dates in samples and flows (``"%d/%m/%Y"``) when ambiguous.
    language : str
        Language of the report and the office-facing tables: ``"en"`` or ``"zh"``.
    lab : tuple of pathlib.Path
        Lab result files in the long format (``wbe.lab.read_lab_results``).
    lab_key_env : str
        Name of the environment variable holding the pseudonymisation key (never the key).
    seed : int
        Root seed of every random stream.
    draws : int
        Monte Carlo draws [count].
    parameter_set : str, default "mixture"
        Registry parameter set (``wbe.datasets.list_parameter_sets``) or a mixture of sets
        (``wbe.datasets.load_parameter_mixtures``; the default draws the published sets per
        draw, docs/methods-backcalculation.md).
    censoring : str, default "draw"
        One of :data:`CENSORING_POLICIES`: ``"draw"`` draws each value below the LOQ per
        draw; the substitutions (``"loq/2"``, ...) are conventions for comparison.
    min_days : int or None
        Minimum sampled days for a covered month [days].
    cutoff_sets : mapping
        Cutoff set per matrix (``hair``, ``urine``).
    suppression_threshold : int
        Smallest published count [persons].
    alert_methods : tuple of str
        Detectors (``wbe.models.ALERT_METHODS``, or "default" for
        ``wbe.models.ALERT_DEFAULT``, the tuned CUSUM; the default).
    alert_variable : str
        Monitored variable of the daily series.
    database_url : str or None
        SQLAlchemy URL of the monitoring database.
    created_at : str
        Time stamp written in alert records (ISO 8601 UTC); fixed for reproducible runs.
    source : str
        The config file.
    """

    sites: Path | None = None
    samples: Path | None = None
    flows: Path | None = None
    input_options: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    date_format: str | None = None
    language: str = "en"
    lab: tuple[Path, ...] = ()
    lab_key_env: str = "WBE_LAB_KEY"
    seed: int = 20240101
    draws: int = DEFAULT_DRAWS
    parameter_set: str = "mixture"
    censoring: str = "draw"
    min_days: int | None = None
    cutoff_sets: Mapping[str, str] = field(
        default_factory=lambda: {"hair": "china-hair", "urine": "china-urine-kit"})
    suppression_threshold: int = 5
    alert_methods: tuple[str, ...] = ("default",)
    alert_variable: str = "consumption_mg_per_day_per_1000"
    database_url: str | None = None
    created_at: str = "1970-01-01T00:00:00Z"
    source: str = "<defaults>"

    def as_dict(self) -> dict:
        """JSON-friendly dict of every setting (for the run manifest)."""
        out = asdict(self)
        for k, v in out.items():
            if isinstance(v, Path):
                out[k] = str(v)
            elif isinstance(v, tuple):
                out[k] = [str(x) for x in v]
            elif isinstance(v, Mapping):
                out[k] = dict(v)
        return out


_LANGUAGES = ("en", "zh")  # wbe.publish._i18n.LANGUAGES (config may not import publish)
_TABLE_WHAT = ("a file path, or a table { path = ..., sheet = name|index|'*', "
               "header_row = N }")
_TABLE_KEYS = {"path", "sheet", "header_row"}

# section -> key -> (Config field, expected type(s), description)
_SCHEMA: dict[str, dict[str, tuple[str, tuple[type, ...], str]]] = {
    "inputs": {
        "sites": ("sites", (str, dict), _TABLE_WHAT),
        "samples": ("samples", (str, dict), _TABLE_WHAT),
        "flows": ("flows", (str, dict), _TABLE_WHAT),
        "date_format": ("date_format", (str,), "a strptime format such as '%d/%m/%Y'"),
        "lab": ("lab", (list,), "a list of file paths"),
        "lab_key_env": ("lab_key_env", (str,), "an environment variable name"),
    },
    "run": {
        "seed": ("seed", (int,), "a non-negative integer"),
        "draws": ("draws", (int,), "an integer >= 10"),
        "parameter_set": ("parameter_set", (str,), "a parameter set name"),
        "censoring": ("censoring", (str,), f"one of {CENSORING_POLICIES}"),
        "min_days": ("min_days", (int,), "a positive integer"),
        "created_at": ("created_at", (str,), "an ISO 8601 time stamp"),
    },
    "lab": {
        "cutoff_sets": ("cutoff_sets", (dict,), "a table matrix = cutoff set"),
        "suppression_threshold": ("suppression_threshold", (int,), "an integer >= 1"),
    },
    "alerts": {
        "methods": ("alert_methods", (list,), f"a list from {_ALERT_METHODS}"),
        "variable": ("alert_variable", (str,), "a back-calculated variable name"),
    },
    "output": {
        "database_url": ("database_url", (str,), "an SQLAlchemy URL"),
        "language": ("language", (str,), f"one of {_LANGUAGES}"),
    },
}


def _err(msg: str, file: str, key: str) -> ConfigError:
    """A config error naming the key as a key (``key run.draws: ...``), never as a column."""
    return ConfigError(f"key {key}: {msg}", file=file)


def load_config(path: str | Path) -> Config:
    """Read and validate a TOML config.

    Parameters
    ----------
    path : str or path-like
        The ``wbe.toml`` file. Relative input paths are resolved against its folder.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        If the file is missing or not valid TOML, or a key is unknown, of the wrong type
        or out of range; the message names the file and the key (``section.key``).

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
    ...     _ = f.write('[run]\\nseed = 7\\ndraws = 200\\n')
    >>> load_config(f.name).draws
    200
    >>> os.remove(f.name)
    """
    path = Path(path)
    label = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("config file not found", file=label) from None
    except (OSError, UnicodeDecodeError) as exc:  # a folder, no permission, not UTF-8
        raise ConfigError(f"cannot read the config file: {exc}", file=label) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", file=label) from None
    values: dict[str, object] = {"source": label}
    base = path.parent
    for section, body in raw.items():
        if section not in _SCHEMA:
            raise _err(f"unknown section [{section}]; valid: {sorted(_SCHEMA)}", label, section)
        if not isinstance(body, dict):
            raise _err(f"[{section}] must be a table", label, section)
        for key, value in body.items():
            name = f"{section}.{key}"
            if key not in _SCHEMA[section]:
                raise _err(f"unknown key; valid in [{section}]: {sorted(_SCHEMA[section])}",
                           label, name)
            fld, types, what = _SCHEMA[section][key]
            if isinstance(value, bool) or not isinstance(value, types):
                raise _err(f"expected {what}, got {value!r}", label, name)
            if fld in ("sites", "samples", "flows") and isinstance(value, dict):
                options = _table_options(value, what, label, name)
                value = options.pop("path")
                values.setdefault("input_options", {})[fld] = options
            values[fld] = _check(fld, value, what, label, name, base)
    return Config(**values)


def _table_options(value: dict, what: str, label: str, name: str) -> dict:
    """Validate ``{ path, sheet, header_row }`` of an input table."""
    bad = sorted(set(value) - _TABLE_KEYS)
    if bad:
        raise _err(f"unknown option(s) {bad}; valid: {sorted(_TABLE_KEYS)}", label, name)
    if not isinstance(value.get("path"), str):
        raise _err(f"expected {what} with a path, got {value!r}", label, name)
    sheet = value.get("sheet")
    if sheet is not None and (isinstance(sheet, bool) or not isinstance(sheet, (str, int))):
        raise _err(f"sheet: expected a sheet name, index or '*', got {sheet!r}", label, name)
    row = value.get("header_row")
    if row is not None and (isinstance(row, bool) or not isinstance(row, int) or row < 1):
        raise _err(f"header_row: expected a row number >= 1, got {row!r}", label, name)
    return dict(value)


def _check(fld: str, value, what: str, label: str, name: str, base: Path):
    if fld in ("sites", "samples", "flows"):
        return base / value
    if fld == "lab":
        if not all(isinstance(v, str) for v in value):
            raise _err(f"expected {what}, got {value!r}", label, name)
        return tuple(base / v for v in value)
    if fld == "seed" and value < 0:
        raise _err(f"expected {what}, got {value!r}", label, name)
    if fld == "draws" and value < 10:
        raise _err(f"expected {what}, got {value!r}", label, name)
    if fld in ("min_days", "suppression_threshold") and value < 1:
        raise _err(f"expected {what}, got {value!r}", label, name)
    if fld == "language" and value not in _LANGUAGES:
        raise _err(f"expected {what}, got {value!r}", label, name)
    if fld == "censoring" and value not in CENSORING_POLICIES:
        raise _err(f"expected {what}, got {value!r}", label, name)
    if fld == "alert_methods":
        bad = [m for m in value if m not in _ALERT_METHODS]
        if bad or not value:
            raise _err(f"expected {what}, got {value!r}", label, name)
        return tuple(value)
    if fld == "cutoff_sets":
        bad = [k for k in value if k not in ("hair", "urine")]
        if bad or not all(isinstance(v, str) for v in value.values()):
            raise _err(f"expected {what} with matrix hair or urine, got {value!r}", label, name)
        return dict(value)
    return value
