"""The publication pipeline shared by ``wbe demo`` and ``wbe publish``."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
import xarray as xr

from wbe._log import progress_logger
from wbe.config import Config
from wbe.errors import InputError
from wbe.lab.privacy import Redactor
from wbe.plausibility import check_plausibility
from wbe.publish._i18n import translate_note
from wbe.publish._office import write_office_workbook
from wbe.publish._pdf import DEFAULT_PDF_TIMEOUT_S, find_chromium, render_pdf
from wbe.publish._release import staged_release
from wbe.publish.manifest import run_manifest, write_manifest
from wbe.publish.report import budget_table, html_report
from wbe.publish.tables import lab_positivity_table, monthly_draws, monthly_estimates

__all__ = ["PublishResult", "run_pipeline"]

#: File names of the outputs (keys are used in the manifest and the result).
OUTPUT_FILES = {
    "daily_estimates": "daily_estimates.csv",
    "monthly_estimates_csv": "monthly_estimates.csv",
    "monthly_estimates_parquet": "monthly_estimates.parquet",
    "uncertainty_budget": "uncertainty_budget.csv",
    "lab_positivity": "lab_positivity.csv",
    "lab_rejects": "lab_rejects.csv",
    "alerts_json": "alerts.json",
    "alerts_csv": "alerts.csv",
    "draws_netcdf": "monthly_draws.nc",
    "report": "report.html",
    "monthly_xlsx": "monthly_estimates.xlsx",
    "report_pdf": "report.pdf",
}
_DAILY_VARIABLES = ("consumption_mg_per_day_per_1000", "doses_per_day_per_1000")


@dataclass(frozen=True)
class PublishResult:
    """What a pipeline run wrote.

    Attributes
    ----------
    out_dir : pathlib.Path
        Output folder.
    files : mapping of str to pathlib.Path
        Every output file by key (see ``docs/output-schemas.md``); ``manifest`` included.
    monthly : pandas.DataFrame
        Monthly estimates table.
    positivity : pandas.DataFrame or None
        Lab positivity table (suppressed), None without lab data.
    alerts : pandas.DataFrame
        Alert records.
    notes : list of str
        Warnings and omitted steps (also in the manifest and the report).
    suppression_threshold : int
        Small-cell threshold the positivity table was suppressed with [persons].
    """

    out_dir: Path
    files: Mapping[str, Path]
    monthly: pd.DataFrame
    positivity: pd.DataFrame | None
    alerts: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    suppression_threshold: int = 5


#: Query parameters of a database URL whose values are secrets (compared lower-case).
_SECRET_QUERY_KEYS = frozenset({"password", "passwd", "pwd", "pass", "sslpassword", "secret",
                                "token", "access_token", "api_key", "apikey"})


def mask_database_url(url: str) -> str:
    """A database URL safe to write down: password and password-like query values masked.

    The URL is parsed and rendered by SQLAlchemy itself (``make_url``,
    ``URL.render_as_string(hide_password=True)``), so a password holding ``/``, ``:`` or
    percent-escapes is masked exactly where SQLAlchemy would read it. Query parameters such
    as ``?password=...`` are masked too. A URL SQLAlchemy cannot parse is replaced whole.

    Parameters
    ----------
    url : str
        SQLAlchemy database URL.

    Returns
    -------
    str
        The URL with ``***`` in place of every secret.

    Examples
    --------
    >>> mask_database_url("postgresql+psycopg://wbe:p/ss@db:5432/monitor")
    'postgresql+psycopg://wbe:***@db:5432/monitor'
    >>> mask_database_url("postgresql+psycopg://wbe@db/monitor?password=p/ss&sslmode=require")
    'postgresql+psycopg://wbe@db/monitor?password=***&sslmode=require'
    """
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # any parse failure: keep nothing of the URL
        return "***"
    sentinel = "wbeMaskedSecret"
    query = {k: (sentinel if k.lower() in _SECRET_QUERY_KEYS else v)
             for k, v in parsed.query.items()}
    rendered = parsed.set(query=query).render_as_string(hide_password=True)
    return rendered.replace(sentinel, "***")


def _manifest_settings(config: Config) -> dict:
    """``config.as_dict()`` with the database URL's secrets masked (:func:`mask_database_url`)."""
    settings = config.as_dict()
    if settings.get("database_url"):
        settings["database_url"] = mask_database_url(settings["database_url"])
    return settings


_NUMPY_SCALAR = re.compile(r"np\.(?:str_|int64|float64|bool_)\((.*?)\)")


def _plain(note: str) -> str:
    """A note with numpy scalar reprs (``np.str_('WWTP01')``) written as plain values."""
    return _NUMPY_SCALAR.sub(r"\1", note)


def _cf_dataset(site_ds: xr.Dataset, city_ds: xr.Dataset, names: list[str],
                config: Config) -> tuple[xr.Dataset, dict]:
    """Monthly draws of sites and city on one ``area`` axis with CF-style attributes."""
    s = site_ds[names].rename(site="area")
    c = city_ds[names].rename(group="area").assign_coords(area=["city"])
    ds = xr.concat([s, c], dim="area", join="outer", combine_attrs="override")
    ds = ds.astype("float32")
    for name in names:
        ds[name].attrs = {"units": site_ds[name].attrs.get("units", ""),
                          "long_name": f"monthly mean of daily {name.replace('_', ' ')}",
                          "cell_methods": "date: mean (interval: 1 month)"}
    ds = ds.rename(date="time")
    ds["time"].attrs = {"long_name": "first day of the month", "standard_name": "time"}
    ds["area"].attrs = {"long_name": "sewage treatment plant, or 'city' for the aggregate"}
    ds["draw"].attrs = {"long_name": "Monte Carlo draw (keyed by seed, component, key)"}
    ds["drug"].attrs = {"long_name": "parent drug of the biomarker"}
    ds.attrs = {
        "Conventions": "CF-1.10",
        "title": "wbe monthly estimates: full Monte Carlo draws",
        "source": "wbe.back_calculate + wbe.aggregate.period_mean + aggregate_sites",
        "seed": int(config.seed),
        "parameter_set": config.parameter_set,
        "censoring": config.censoring,
        "draws": int(config.draws),
        "references": "see docs/methods-backcalculation.md and docs/output-schemas.md",
    }
    enc = {n: {"zlib": True, "complevel": 4} for n in names}
    enc["time"] = {"units": "days since 1970-01-01", "calendar": "proleptic_gregorian",
                   "dtype": "int32"}
    ds.encoding = {}
    return ds, enc


def _alerts(daily: pd.DataFrame, config: Config, month: str | None) -> pd.DataFrame:
    from wbe.models import alerts as run_alerts

    series = daily[daily["variable"] == config.alert_variable][
        ["site", "biomarker", "date", "median"]].rename(columns={"median": "value"})
    if series.empty:
        raise InputError(f"alert variable {config.alert_variable!r} has no estimates",
                         file=config.source, column="alerts.variable")
    frames = [run_alerts(series, m, created_at=config.created_at) for m in config.alert_methods]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if month is not None and len(out):
        out = out[pd.to_datetime(out["date"]).dt.strftime("%Y-%m") == month]
    return out.sort_values(["site", "biomarker", "date", "method"], kind="stable"
                           ).reset_index(drop=True)


def _lab(lab: pd.DataFrame, config: Config, notes: list[str], month: str | None
         ) -> pd.DataFrame | None:
    from wbe.lab import classify

    tables = []
    subjects = lab[lab["sample_type"] == "unknown"]
    other = len(lab) - len(subjects)
    if other:
        notes.append(f"lab: {other} QC/calibrator/blank rows are not used for positivity "
                     "(batch QC is not part of this run)")
    for matrix in sorted(subjects["matrix"].unique()):
        cutoff = config.cutoff_sets.get(matrix)
        if cutoff is None:
            notes.append(f"lab: no cutoff set configured for matrix {matrix!r}; "
                         f"{int((subjects['matrix'] == matrix).sum())} rows not classified")
            continue
        cls = classify(subjects[subjects["matrix"] == matrix], cutoff)
        summary = cls.summary
        valid = summary["classification"].isin(["positive", "negative", "inconclusive"])
        if (~valid).any():
            notes.append(f"lab {matrix}: {int((~valid).sum())} sample-drug rows without a "
                         f"classification under cutoff set {cutoff!r} are not counted")
        table = lab_positivity_table(summary[valid], threshold=config.suppression_threshold,
                                     matrix=matrix)
        tables.append(table)
    if not tables:
        return None
    out = pd.concat(tables, ignore_index=True)
    out["month"] = out["month"].astype(str)
    if month is not None:
        out = out[out["month"] == month]
    return out.reset_index(drop=True)


def run_pipeline(*, sites: pd.DataFrame, samples: pd.DataFrame, flows: pd.DataFrame | None,
                 config: Config, out_dir: str | Path, lab: pd.DataFrame | None = None,
                 lab_rejects: pd.DataFrame | None = None, month: str | None = None,
                 inputs: Mapping[str, Path] | None = None, command: str = "wbe",
                 notes: list[str] | None = None, quiet: bool = False,
                 title: str = "wbe monthly publication", atomic: bool = True,
                 earlier_positivity: pd.DataFrame | None = None, pdf: bool = False,
                 pdf_timeout_s: float = DEFAULT_PDF_TIMEOUT_S) -> PublishResult:
    """Run back-calculation, aggregation, lab positivity and alerts, and write every output.

    Parameters
    ----------
    sites, samples, flows : pandas.DataFrame
        Canonical tables (``docs/data-model.md``).
    config : wbe.config.Config
        Settings (seed, draws, parameter set, censoring, cutoff sets, suppression, alerts).
    out_dir : str or path-like
        Release folder: new, empty, or holding a previous release, which is replaced
        as a whole only once every file of the new one is written (see ``atomic``).
    lab : pandas.DataFrame, optional
        Pseudonymised lab results (``wbe.lab.read_lab_results(...).data``).
    lab_rejects : pandas.DataFrame, optional
        The lab reader's rejects, written to ``lab_rejects.csv``. The reader redacts
        identifiers already; ID-card numbers in any other table given here are redacted
        before writing (:class:`wbe.lab.privacy.Redactor`).
    month : str, optional
        ``"YYYY-MM"``: publish this month only (earlier months are used for changes;
        later data are ignored). Default every month.
    inputs : mapping, optional
        Input files to hash in the manifest.
    command : str
        Recorded in the manifest.
    notes : list of str, optional
        Notes gathered before (reader rejects, left-out steps).
    quiet : bool
        Progress at DEBUG instead of INFO on the ``wbe`` logger (see the ``logging`` module).
    title : str
        Report title.
    atomic : bool, default True
        Write into a temporary folder beside ``out_dir`` and swap it in at the end, so a
        failed or interrupted run leaves the previous release intact (no mixed files).
        False writes into ``out_dir`` directly (for callers that stage the folder
        themselves with ``wbe.publish._release.staged_release``).
    earlier_positivity : pandas.DataFrame, optional
        Positivity rows of ``month`` already published in the feed
        (:func:`wbe.publish.feed.published_positivity`): cells whose change since any of
        them is a small count are suppressed too
        (:func:`wbe.publish.feed.suppress_revision_differences`). Needs ``month``.
    pdf : bool, default False
        Also print the report to ``report.pdf`` with headless Chromium (found through the
        ``WBE_CHROMIUM`` environment variable, else ``chromium``, ``chromium-browser`` or
        ``google-chrome`` on ``PATH``), inside the release folder before it is swapped in.
        The browser is looked up before any computation.
    pdf_timeout_s : float, default 120
        Time limit of the PDF printing [s].

    Returns
    -------
    PublishResult

    Raises
    ------
    InputError
        Bad inputs (from the readers and estimators) or a month without data.
    ConfigError
        If ``out_dir`` is a file, or a non-empty folder that holds no wbe release; or if
        the browser fails or times out printing the PDF (the previous release is kept).
    MissingDependencyError
        If ``pdf`` is true and no browser is found (raised before any computation).
    """
    browser = find_chromium(option="pdf=True", lang=config.language) if pdf else None
    kwargs = dict(sites=sites, samples=samples, flows=flows, config=config, lab=lab,
                  lab_rejects=lab_rejects, month=month, inputs=inputs, command=command,
                  notes=notes, quiet=quiet, title=title, earlier_positivity=earlier_positivity,
                  browser=browser, pdf_timeout_s=pdf_timeout_s)
    if not atomic:
        return _run(out_dir=Path(out_dir), **kwargs)
    target = Path(out_dir)
    with staged_release(target) as stage:
        result = _run(out_dir=stage, **kwargs)
    return relocate(result, target)


def relocate(result: PublishResult, target: Path) -> PublishResult:
    """The result with its paths moved from the staging folder to ``target``."""
    files = {k: target / p.relative_to(result.out_dir) for k, p in result.files.items()}
    return replace(result, out_dir=target, files=files)


def _run(*, sites, samples, flows, config, out_dir: Path, lab, lab_rejects, month, inputs,
         command, notes, quiet, title, earlier_positivity, browser: str | None = None,
         pdf_timeout_s: float = DEFAULT_PDF_TIMEOUT_S) -> PublishResult:
    """The body of :func:`run_pipeline`, writing into ``out_dir`` in place."""
    from wbe.backcalc import back_calculate, summarize, uncertainty_budget

    progress = progress_logger(quiet)  # logging.getLogger("wbe")
    notes = list(notes or [])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {k: out / v for k, v in OUTPUT_FILES.items()}
    if month is not None:
        end = pd.Period(month, freq="M").end_time.normalize()
        keep = pd.to_datetime(samples["sampled_on"]) <= end
        if not keep.all():
            notes.append(f"{int((~keep).sum())} sample rows dated after {month} are not used")
        samples = samples[keep]
        if flows is not None:
            flows = flows[pd.to_datetime(flows["date"]) <= end]
        in_month = pd.to_datetime(samples["sampled_on"]).dt.strftime("%Y-%m") == month
        if not in_month.any():  # before any computation: nothing is written
            raise InputError(f"no samples dated in {month}; nothing to publish",
                             column="sampled_on")
    implausible = check_plausibility(samples, file=str((inputs or {}).get("samples", "")) or None,
                                     warn=False)
    if month is not None:
        implausible = implausible[implausible["sampled_on"].str.startswith(month)]
    if len(implausible):
        notes.append(f"data quality: {len(implausible)} concentration(s) 100 times or more "
                     "away from the plant's recent median (likely unit slips), listed in the "
                     "report's data-quality section: rows "
                     + ", ".join(str(r) for r in implausible["row"]))
    progress(f"back-calculating {len(samples)} measurements, {config.draws} draws "
             f"(parameter set {config.parameter_set!r}, censoring {config.censoring!r})")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = back_calculate(samples, sites, flows, parameters=config.parameter_set,
                            n_draws=config.draws, seed=config.seed, censoring=config.censoring)
    notes += [f"back-calculation: {w.message}" for w in caught]
    progress("summarising daily estimates and the uncertainty budget")
    daily = summarize(ds, variables=list(_DAILY_VARIABLES))
    daily["date"] = pd.to_datetime(daily["date"]).dt.strftime("%Y-%m-%d")
    if month is not None:
        daily_out = daily[daily["date"].str.startswith(month)]
    else:
        daily_out = daily
    daily_out.to_csv(files["daily_estimates"], index=False, lineterminator="\n")
    budget = budget_table(uncertainty_budget(ds))
    budget.to_csv(files["uncertainty_budget"], index=False, lineterminator="\n")

    progress("monthly means per site and city (draw by draw)")
    site_ds, city_ds, msgs = monthly_draws(ds, sites, seed=config.seed,
                                           min_days=config.min_days)
    notes += msgs
    monthly = monthly_estimates(site_ds, city_ds, sites, month=month)
    monthly.to_csv(files["monthly_estimates_csv"], index=False, lineterminator="\n")
    monthly.to_parquet(files["monthly_estimates_parquet"], index=False)
    names = [v for v in monthly["variable"].unique()]
    cf, enc = _cf_dataset(site_ds, city_ds, names, config)
    if month is not None:
        cf = cf.sel(time=cf["time"].dt.strftime("%Y-%m") == month)
    cf.to_netcdf(files["draws_netcdf"], engine="h5netcdf", encoding=enc)

    progress(f"alerts ({', '.join(config.alert_methods)}) on daily {config.alert_variable}")
    alert_table = _alerts(daily, config, month)
    from wbe.models import alerts_to_csv, alerts_to_json

    files["alerts_json"].write_text(alerts_to_json(alert_table) + "\n", encoding="utf-8")
    alerts_to_csv(alert_table, files["alerts_csv"])

    positivity = None
    if lab is not None:
        progress(f"lab: classifying {len(lab)} results and tabulating positivity")
        positivity = _lab(lab, config, notes, month)
    if positivity is not None and earlier_positivity is not None and len(earlier_positivity):
        from wbe.publish.feed import suppress_revision_differences

        if month is None:
            raise InputError("earlier_positivity needs month (one month's revisions)",
                             column="month")
        before = positivity["suppressed"].astype(str)
        positivity = suppress_revision_differences(positivity, earlier_positivity,
                                                   config.suppression_threshold)
        extra = int((positivity["suppressed"].astype(str) != before).sum())
        if extra:
            notes.append(f"lab: {extra} positivity cells suppressed because their change "
                         "since an earlier revision of the month is a small count")
    if positivity is not None:
        positivity.to_csv(files["lab_positivity"], index=False, lineterminator="\n")
    else:
        files.pop("lab_positivity")
        notes.append("lab: no lab results given; no positivity table")
    if lab_rejects is not None:
        # The reader's rejects are redacted already; a caller-built table may not be.
        lab_rejects = Redactor().frame(lab_rejects)
        lab_rejects.to_csv(files["lab_rejects"], index=False, lineterminator="\n")
        if len(lab_rejects):
            notes.append(f"lab reader: {len(lab_rejects)} rows rejected, see lab_rejects.csv")
    else:
        files.pop("lab_rejects")

    notes = [translate_note(_plain(n), config.language) for n in notes]
    progress("writing the HTML report")
    daily_plot = daily.assign(date=pd.to_datetime(daily["date"]))
    html_report(files["report"], title=title, daily=daily_plot, monthly=monthly,
                budget=budget, positivity=positivity, alerts=alert_table, notes=notes,
                implausible=implausible, lang=config.language, month=month)
    if not write_office_workbook(files["monthly_xlsx"], monthly=monthly, positivity=positivity,
                                 alerts=alert_table, lang=config.language):
        files.pop("monthly_xlsx")
        notes.append("monthly_estimates.xlsx not written: openpyxl is not installed "
                     "(pip install 'wbe-drugs[io]')")
    if browser is not None:
        progress(f"printing the report to report.pdf with {browser}")
        render_pdf(files["report"], files["report_pdf"], browser=browser,
                   created_at=config.created_at, timeout_s=pdf_timeout_s,
                   lang=config.language)
    else:
        files.pop("report_pdf")

    manifest = run_manifest(command=command, config=_manifest_settings(config), seed=config.seed,
                            parameter_set=config.parameter_set, inputs=dict(inputs or {}),
                            outputs=files, notes=notes)
    manifest["month"] = month
    manifest["draws_attrs"] = {k: str(v) for k, v in sorted(ds.attrs.items())}
    files["manifest"] = write_manifest(manifest, out / "manifest.json")
    return PublishResult(out_dir=out, files=dict(files), monthly=monthly,
                         positivity=positivity, alerts=alert_table, notes=notes,
                         suppression_threshold=int(config.suppression_threshold))
