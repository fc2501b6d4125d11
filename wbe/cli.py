"""The ``wbe`` command line (also ``python -m wbe``).

Subcommands: ``demo``, ``estimate``, ``lab``, ``alerts``, ``publish``; see ``docs/cli.md``.

Exit codes
----------
0 success; 2 usage or configuration error (including a missing optional package: the
message names the ``wbe-drugs[extra]`` to install); 3 input error (a file, row or column at
fault; the message says which); 1 unexpected error (a bug: please report it).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from wbe._log import cli_handler, logger
from wbe._optional import FEATURES, from_module_not_found
from wbe._optional import check as check_optional
from wbe.config import CENSORING_POLICIES, DEFAULT_DRAWS
from wbe.errors import ConfigError, InputError, MissingDependencyError
from wbe.models.alerts import ALERT_METHODS
from wbe.publish._pdf import DEFAULT_PDF_TIMEOUT_S

__all__ = ["EXIT_INPUT", "EXIT_OK", "EXIT_UNEXPECTED", "EXIT_USAGE", "build_parser", "main"]

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_INPUT = 3

_EPILOG = ("exit codes: 0 ok, 2 usage or configuration error, 3 input error "
           "(file/row/column named), 1 unexpected error")


def _log(args, msg: str) -> None:
    """A progress line: INFO on the ``wbe`` logger (shown on stderr unless ``--quiet``)."""
    logger.info(msg)


def _add_lang(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--lang", choices=("en", "zh"), default=None,
                   help=f"language of {what} (en or zh; machine-readable CSV/Parquet/NetCDF/"
                   "JSON keep their English schema)")


def _add_common(p: argparse.ArgumentParser, *, out_default: str | None) -> None:
    p.add_argument("--out", default=out_default, required=out_default is None, metavar="DIR",
                   help="output folder (created if missing)"
                   + (f"; default {out_default!r}" if out_default else ""))
    p.add_argument("--quiet", "-q", action="store_true",
                   help="no progress lines on stderr (for schedulers); warnings and errors "
                   "still printed")


def _add_pdf(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pdf", action="store_true",
                   help="also print the report to report.pdf with headless Chromium (the "
                   "browser named by the WBE_CHROMIUM environment variable, else chromium, "
                   "chromium-browser or google-chrome on PATH); checked before any "
                   "computation, exit code 2 if no browser is found")
    p.add_argument("--pdf-timeout", type=float, default=DEFAULT_PDF_TIMEOUT_S,
                   metavar="SECONDS",
                   help=f"time limit of the PDF printing (default {DEFAULT_PDF_TIMEOUT_S:g})")


def _check_pdf(args, lang: str) -> None:
    """Find the browser for ``--pdf`` before any computation (exit 2 when missing)."""
    if args.pdf_timeout <= 0:
        raise _option_error("--pdf-timeout", f"must be a positive number of seconds, got "
                            f"{args.pdf_timeout:g}")
    if args.pdf:
        from wbe.publish._pdf import find_chromium

        find_chromium(option="--pdf", lang=lang)


def _add_draws(p: argparse.ArgumentParser) -> None:
    p.add_argument("--draws", type=int, default=DEFAULT_DRAWS, metavar="N",
                   help=f"Monte Carlo draws (default {DEFAULT_DRAWS}, the same for every "
                   "command; at least 10)")


def _option_error(option: str, message: str) -> ConfigError:
    """A usage error about a command-line option, named as an option (not a column)."""
    return ConfigError(f"option {option}: {message}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``wbe`` (every option documented by ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="wbe", epilog=_EPILOG,
        description="Wastewater-based drug epidemiology and drug-testing lab data.")
    from wbe import __version__

    parser.add_argument("--version", action="version", version=f"wbe {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("demo", epilog=_EPILOG,
                       help="run the whole pipeline on a simulated city",
                       description="Simulate a city (4 plants x 1 year, hair tests) and run "
                       "back-calculation, monthly aggregation, lab positivity, alerts, NetCDF, "
                       "manifest and HTML report on it.")
    _add_common(p, out_default="wbe-demo")
    p.add_argument("--seed", type=int, default=1, help="seed of simulation and estimation "
                   "(default 1)")
    _add_draws(p)
    _add_lang(p, "the report and monthly_estimates.xlsx (default en)")
    _add_pdf(p)
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("estimate", epilog=_EPILOG, help="back-calculate daily estimates",
                       description="Read samples, sites and flows, back-calculate loads, "
                       "consumption, doses and users with Monte Carlo uncertainty, and write "
                       "estimates.csv (medians, 50 % and 95 % intervals), the uncertainty "
                       "budget and the readers' rejects.")
    p.add_argument("--samples", required=True, help="samples table (CSV/XLSX, wbe.io)")
    p.add_argument("--sites", required=True, help="sites table with served population")
    p.add_argument("--flows", help="daily flows table (omit if samples hold the flow)")
    p.add_argument("--sheet", default=None, metavar="NAME",
                   help="Excel sheet of the samples workbook: a name, or '*' for every sheet "
                   "(one sheet per plant or month; a sheet without a plant column takes "
                   "the sheet name as the plant); default the first sheet")
    p.add_argument("--header-row", type=int, default=None, metavar="N",
                   help="row number of the samples header (default: found below title rows)")
    p.add_argument("--date-format", default=None, metavar="FMT",
                   help="strptime format of ambiguous dates in samples and flows, e.g. "
                   "'%%d/%%m/%%Y'")
    _add_draws(p)
    p.add_argument("--seed", type=int, default=0, help="seed of the keyed draws (default 0)")
    p.add_argument("--parameter-set", default="mixture",
                   help="reference parameter set (wbe.datasets.list_parameter_sets) or "
                        "mixture of sets (default: mixture, the published sets drawn per draw)")
    p.add_argument("--censoring", default="draw", choices=list(CENSORING_POLICIES),
                   help="values below the LOQ: 'draw' (default: drawn per draw below the "
                        "LOQ) or a substitution convention")
    _add_lang(p, "estimates.xlsx, written only when --lang is given")
    _add_common(p, out_default=None)
    p.set_defaults(func=_cmd_estimate)

    p = sub.add_parser("lab", epilog=_EPILOG, help="classify lab results, tabulate positivity",
                       description="Read hair or urine results (long format), pseudonymise "
                       "subject identifiers with the key in an environment variable, classify "
                       "against a cutoff set and write positivity per group, month and drug "
                       "with small cells suppressed.")
    p.add_argument("results", nargs="+", help="lab result files (CSV/XLSX, long format)")
    p.add_argument("--key-env", default="WBE_LAB_KEY",
                   help="environment variable holding the pseudonymisation key (>= 32 bytes; "
                   "default WBE_LAB_KEY)")
    p.add_argument("--cutoff-set", default=None,
                   help="cutoff set (default china-hair for hair, china-urine-kit for urine)")
    p.add_argument("--threshold", type=int, default=5,
                   help="suppress counts 1..threshold-1 (default 5)")
    _add_common(p, out_default=None)
    p.set_defaults(func=_cmd_lab)

    p = sub.add_parser("alerts", epilog=_EPILOG, help="aberration detection on series",
                       description="Run a detector on every (site, biomarker) series of a tidy "
                       "table (columns site, biomarker, date and a value column) and write "
                       "alerts.json and alerts.csv in the alert schema.")
    p.add_argument("series", help="CSV with site, biomarker, date and the value column")
    p.add_argument("--method", default="default", choices=["default", *ALERT_METHODS],
                   help="detector (default: the tuned CUSUM wbe.models.ALERT_DEFAULT)")
    p.add_argument("--value-column", default="value", help="monitored column (default value)")
    p.add_argument("--created-at", default=None,
                   help="time stamp of the records (ISO 8601; default now; fix it for "
                   "byte-identical re-runs)")
    _add_common(p, out_default=None)
    p.set_defaults(func=_cmd_alerts)

    p = sub.add_parser("publish", epilog=_EPILOG, help="monthly publication from a config",
                       description="Publish one month: estimates per site and city (CSV, "
                       "Parquet), lab positivity (suppressed), alerts (JSON, CSV), draws "
                       "(NetCDF), run manifest and HTML report; optionally feed the database "
                       "named in the config.")
    p.add_argument("--month", required=True, metavar="YYYY-MM", help="month to publish")
    p.add_argument("--config", required=True, metavar="FILE",
                   help="TOML config (see examples/wbe.toml)")
    _add_lang(p, "the report and monthly_estimates.xlsx (default: output.language of "
              "the config, else en)")
    p.add_argument("--no-feed", action="store_true",
                   help="do not write to the database even if output.database_url is set")
    _add_pdf(p)
    _add_common(p, out_default=None)
    p.set_defaults(func=_cmd_publish)
    return parser


def _check_draws(draws: int) -> None:
    if draws < 10:
        raise _option_error("--draws", f"must be at least 10, got {draws}")


def _cmd_demo(args) -> int:
    from wbe.publish import run_demo

    _check_draws(args.draws)
    check_optional(FEATURES["wbe demo"], feature="wbe demo")
    _check_pdf(args, args.lang or "en")
    result = run_demo(args.out, seed=args.seed, n_draws=args.draws, quiet=args.quiet,
                      lang=args.lang or "en", pdf=args.pdf, pdf_timeout_s=args.pdf_timeout)
    if not args.quiet:
        out = result.out_dir
        pdf_line = ("  report.pdf               the report printed (A4)\n" if args.pdf else "")
        print(f"wbe demo finished. Outputs in {out}/:\n"
              f"  report.html              open in a browser (works offline)\n"
              f"{pdf_line}"
              f"  monthly_estimates.csv    monthly estimates per site and city "
              f"(also .parquet)\n"
              f"  daily_estimates.csv      daily medians and intervals\n"
              f"  lab_positivity.csv       hair-test positivity, small cells suppressed\n"
              f"  alerts.json / .csv       alerts on the daily series (weekday-adjusted CUSUM)\n"
              f"  monthly_draws.nc         all Monte Carlo draws (NetCDF)\n"
              f"  manifest.json            versions, seed, config, file hashes\n"
              f"  inputs/                  the simulated inputs and the true consumption\n"
              f"Lab identifiers were pseudonymised with the PUBLIC demo key "
              f"(wbe.publish.DEMO_KEY).")
    return EXIT_OK


def _read_one(reader, path: str, options, **kwargs):
    """Read one input table with its sheet / header-row options (``sheet="*"``: every
    sheet of the workbook, :func:`wbe.io.read_workbook`)."""
    from wbe.io import read_workbook

    options = dict(options or {})
    row = options.get("header_row")
    skip = int(row) - 1 if row else 0
    sheet = options.get("sheet")
    if sheet == "*":
        return read_workbook(path, reader, skip_rows=skip, **kwargs)
    return reader(path, sheet=sheet, skip_rows=skip, **kwargs)


def _read_tables(samples, sites, flows, log, options=None, date_format=None):
    from wbe.io import read_flows, read_samples, read_sites

    options = options or {}
    dates = {"date_format": date_format} if date_format else {}
    site_r = _read_one(read_sites, sites, options.get("sites"))
    sample_r = _read_one(read_samples, samples, options.get("samples"), sites=site_r.data,
                         **dates)
    flow_r = (_read_one(read_flows, flows, options.get("flows"), sites=site_r.data, **dates)
              if flows else None)
    rejects = [r.rejects for r in (site_r, sample_r, flow_r) if r is not None]
    n = sum(len(r) for r in rejects)
    if n:
        log(f"{n} input rows rejected; see rejects.csv")
    return site_r.data, sample_r.data, (flow_r.data if flow_r else None), rejects


def _check_month_has_data(samples, month: str, *, file: str | None = None) -> None:
    """Refuse a month without samples before any computation (nothing is written).

    Parameters
    ----------
    samples : pandas.DataFrame
        Canonical samples (column ``sampled_on``).
    month : str
        ``"YYYY-MM"``.
    file : str, optional
        The samples file, for the message.

    Raises
    ------
    InputError
        If no sample is dated in ``month``; the message lists the months with samples.
    """
    import pandas as pd

    months = pd.to_datetime(samples["sampled_on"]).dt.strftime("%Y-%m")
    if not (months == month).any():
        present = sorted(months.dropna().unique())
        span = f"{present[0]} to {present[-1]}" if present else "none"
        raise InputError(f"no samples dated in {month} (option --month); the samples cover "
                         f"{span}: {', '.join(present)}", file=file, column="sampled_on")


def _cmd_estimate(args) -> int:
    import pandas as pd

    from wbe.backcalc import back_calculate, summarize, uncertainty_budget
    from wbe.plausibility import check_plausibility
    from wbe.publish._release import staged_files
    from wbe.publish.report import budget_table

    _check_draws(args.draws)
    if args.header_row is not None and args.header_row < 1:
        raise _option_error("--header-row", f"must be a row number >= 1, got {args.header_row}")
    options = {"samples": {"sheet": args.sheet, "header_row": args.header_row}}
    sites, samples, flows, rejects = _read_tables(args.samples, args.sites, args.flows,
                                                  lambda m: _log(args, m), options,
                                                  args.date_format)
    check_plausibility(samples, file=args.samples)  # warns naming file, rows, unit slip
    _log(args, f"back-calculating {len(samples)} measurements with {args.draws} draws")
    ds = back_calculate(samples, sites, flows, parameters=args.parameter_set,
                        n_draws=args.draws, seed=args.seed, censoring=args.censoring)
    table = summarize(ds)
    out = Path(args.out)
    with staged_files(out) as stage:  # all files or none
        pd.concat(rejects, ignore_index=True).to_csv(stage / "rejects.csv", index=False,
                                                     lineterminator="\n")
        table.to_csv(stage / "estimates.csv", index=False, lineterminator="\n")
        if args.lang:
            _office_estimates(table, stage / "estimates.xlsx", args.lang)
        budget_table(uncertainty_budget(ds)).to_csv(stage / "uncertainty_budget.csv",
                                                    index=False, lineterminator="\n")
    _log(args, f"wrote {out / 'estimates.csv'} ({len(table)} rows)")
    return EXIT_OK


def _office_estimates(table, path: Path, lang: str) -> None:
    """``estimates.xlsx``: the daily estimates with headers in ``lang`` (3 significant
    digits)."""
    from wbe.publish._i18n import text
    from wbe.publish._office import round_significant

    try:
        import openpyxl  # noqa: F401
    except ImportError:
        logger.warning("estimates.xlsx not written: openpyxl is not installed "
                       "(pip install 'wbe-drugs[io]')")
        return
    shown = table.copy()
    for c in shown.columns:
        if c == "variable":
            shown[c] = shown[c].map(lambda v: text(str(v), lang))
        elif shown[c].dtype.kind == "f":
            shown[c] = round_significant(shown[c])
    shown.rename(columns=lambda c: text(c, lang)).to_excel(path, index=False)


def _key_from_env(name: str) -> str:
    key = os.environ.get(name)
    if not key:
        raise ConfigError(f"environment variable {name} with the pseudonymisation key is not "
                          "set (use at least 32 random bytes, e.g. secrets.token_hex(32))",
                          column=name)
    return key


def _read_lab(paths, key: str):
    """Read and pseudonymise lab result files; return (data, rejects), each concatenated."""
    import pandas as pd

    from wbe.lab import read_lab_results

    parts = [read_lab_results(str(p), key=key) for p in paths]
    return (pd.concat([p.data for p in parts], ignore_index=True),
            pd.concat([p.rejects for p in parts], ignore_index=True))


def _cmd_lab(args) -> int:
    from wbe.config import Config
    from wbe.publish._pipeline import _lab
    from wbe.publish._release import staged_files

    key = _key_from_env(args.key_env)
    lab, rejects = _read_lab(args.results, key)
    # default: the cutoff sets of Config (china-hair, china-urine-kit)
    cut = ({"cutoff_sets": {m: args.cutoff_set for m in lab["matrix"].unique()}}
           if args.cutoff_set else {})
    config = Config(suppression_threshold=args.threshold, source="wbe lab", **cut)
    notes: list[str] = []
    table = _lab(lab, config, notes, None)
    if table is None:
        raise InputError("no subject results to classify", file=", ".join(args.results))
    out = Path(args.out)
    with staged_files(out) as stage:  # all files or none
        rejects.to_csv(stage / "lab_rejects.csv", index=False, lineterminator="\n")
        table.to_csv(stage / "lab_positivity.csv", index=False, lineterminator="\n")
    for n in notes:
        _log(args, n)
    _log(args, f"wrote {out / 'lab_positivity.csv'} ({len(table)} cells)")
    return EXIT_OK


def _cmd_alerts(args) -> int:
    import pandas as pd

    from wbe.models import alerts, alerts_to_csv, alerts_to_json
    from wbe.publish._release import staged_files

    try:
        series = pd.read_csv(args.series)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the series table: {exc}", file=args.series) from None
    records = alerts(series, args.method, value_column=args.value_column,
                     created_at=args.created_at)
    out = Path(args.out)
    json_text = alerts_to_json(records) + "\n"
    with staged_files(out) as stage:  # both files or none
        (stage / "alerts.json").write_text(json_text, encoding="utf-8")
        alerts_to_csv(records, stage / "alerts.csv")
    _log(args, f"{len(records)} alert records in {out}")
    return EXIT_OK


def _cmd_publish(args) -> int:
    import pandas as pd

    from wbe.config import load_config
    from wbe.publish import run_pipeline
    from wbe.publish._release import staged_release

    try:
        pd.Period(args.month, freq="M")
        if len(args.month) != 7:
            raise ValueError
    except ValueError:
        raise _option_error("--month", f"expected a month YYYY-MM (month 01-12), got "
                            f"{args.month!r}") from None
    config = load_config(args.config)
    if args.lang:
        from dataclasses import replace

        config = replace(config, language=args.lang)
    check_optional(FEATURES["wbe publish"], feature="wbe publish")
    _check_pdf(args, config.language)
    for name in ("sites", "samples"):
        if getattr(config, name) is None:
            raise ConfigError(f"inputs.{name} is required by wbe publish", file=config.source,
                              column=f"inputs.{name}")
    sites, samples, flows, rejects = _read_tables(
        str(config.samples), str(config.sites), str(config.flows) if config.flows else None,
        lambda m: _log(args, m), config.input_options, config.date_format)
    _check_month_has_data(samples, args.month, file=str(config.samples))
    inputs = {"sites": config.sites, "samples": config.samples}
    if config.flows:
        inputs["flows"] = config.flows
    lab = lab_rejects = None
    if config.lab:
        lab, lab_rejects = _read_lab(config.lab, _key_from_env(config.lab_key_env))
        inputs.update({f"lab_{i}": p for i, p in enumerate(config.lab)})
    feed = bool(config.database_url and not args.no_feed)
    out = Path(args.out)
    rej = pd.concat(rejects, ignore_index=True)
    notes = [f"input readers: {len(rej)} rows rejected, see rejects.csv"] if len(rej) else []
    fed: tuple[int, bool] | None = None
    try:
        earlier = None
        if feed and lab is not None:  # earlier revisions of the month: differencing check
            from wbe.publish.feed import published_positivity

            earlier = published_positivity(config.database_url, args.month)
        with staged_release(out) as stage:
            rej.to_csv(stage / "rejects.csv", index=False, lineterminator="\n")
            result = run_pipeline(
                sites=sites, samples=samples, flows=flows, config=config, out_dir=stage,
                lab=lab, lab_rejects=lab_rejects, month=args.month, inputs=inputs,
                notes=notes, quiet=args.quiet, atomic=False, earlier_positivity=earlier,
                pdf=args.pdf, pdf_timeout_s=args.pdf_timeout,
                command=f"wbe publish --month {args.month} --config {args.config}",
                title=(f"{args.month} 污水毒情监测月报" if config.language == "zh"
                       else f"wbe monthly publication {args.month}"))
            if feed:  # before the swap: a refused feed leaves files and database as they were
                from wbe.publish.feed import feed_result

                _log(args, "feeding the monitoring database")
                fed = feed_result(config.database_url, args.month, result)
    except BaseException:
        state = ("the previous release there is unchanged" if (out / "manifest.json").is_file()
                 else "nothing was written there")
        db = ("" if not feed else f"; the database holds revision {fed[0]} of this run, "
              "re-run to write the files" if fed else "; the database is unchanged")
        print(f"wbe: publication of {args.month} to {out} failed; {state}{db}",
              file=sys.stderr)
        raise
    _log(args, f"published {args.month} to {out}")
    if fed is not None:
        rev, changed = fed
        if changed:
            _log(args, f"database: month {args.month} at revision {rev}")
        else:
            _log(args, f"database: month {args.month} unchanged at revision {rev} "
                 "(identical manifest already published)")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0, 1, 2 or 3; see the module docstring).

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit code.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help / --version (0) or a usage error (2)
        return int(exc.code or 0)
    with cli_handler(quiet=getattr(args, "quiet", False)):
        return _run(args)


def _message(exc: BaseException) -> str:
    """The exception's text and its notes (such as "no output written to ...")."""
    return "; ".join([str(exc), *getattr(exc, "__notes__", ())])


def _run(args) -> int:
    """Run the subcommand; map exceptions to the documented exit codes."""
    try:
        return args.func(args)  # warnings keep Python's filters (shown on stderr)
    except ConfigError as exc:
        print(f"wbe: configuration error: {_message(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except InputError as exc:
        print(f"wbe: input error: {_message(exc)}", file=sys.stderr)
        return EXIT_INPUT
    except MissingDependencyError as exc:
        print(f"wbe: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("wbe: interrupted", file=sys.stderr)
        return EXIT_UNEXPECTED
    except Exception as exc:  # the documented exit code 1
        missing = (from_module_not_found(exc, feature=f"wbe {args.command}")
                   if isinstance(exc, ModuleNotFoundError) else None)
        if missing is not None:  # an optional package imported deep inside a step
            print(f"wbe: {missing}", file=sys.stderr)
            return EXIT_USAGE
        import traceback

        traceback.print_exc(file=sys.stderr)
        print(f"wbe: unexpected error ({type(exc).__name__}): {exc}; please report it",
              file=sys.stderr)
        return EXIT_UNEXPECTED
