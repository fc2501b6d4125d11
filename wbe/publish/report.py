"""Offline HTML report: matplotlib figures embedded as base64 PNG, no external resources."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np
import pandas as pd

from wbe._optional import require
from wbe.publish._i18n import text

__all__ = ["alerts_section", "html_report", "quality_section"]

_CSS = ("body{font-family:sans-serif;max-width:1000px;margin:auto;padding:1em}"
        "table{border-collapse:collapse;font-size:small}td,th{border:1px solid #ccc;"
        "padding:2px 6px}img{max-width:100%}")


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, metadata={"Software": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _img(fig, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{_png(fig)}">'


def _site_series(daily: pd.DataFrame, drug: str):
    import matplotlib.pyplot as plt

    d = daily[(daily["variable"] == "consumption_mg_per_day_per_1000") & (daily["drug"] == drug)]
    sites = sorted(d["site"].unique())
    fig, axes = plt.subplots(len(sites), 1, figsize=(9, 1.8 * len(sites) + 0.5), sharex=True,
                             squeeze=False)
    for ax, site in zip(axes[:, 0], sites, strict=True):
        s = d[d["site"] == site].sort_values("date")
        ax.fill_between(s["date"], s["lower_95"], s["upper_95"], alpha=0.3, label="95 %")
        ax.fill_between(s["date"], s["lower_50"], s["upper_50"], alpha=0.5, label="50 %")
        ax.plot(s["date"], s["median"], lw=0.8, label="median")
        ax.set_ylabel(site)
    axes[0, 0].set_title(f"{drug}: mg/day/1000 inhabitants (daily)")
    axes[0, 0].legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    return fig


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _weekday_profile(daily: pd.DataFrame, drug: str) -> pd.DataFrame:
    """Mean daily median per weekday / site mean; rows the weekdays sampled, columns sites."""
    d = daily[(daily["variable"] == "consumption_mg_per_day_per_1000") & (daily["drug"] == drug)]
    d = d.assign(weekday=pd.DatetimeIndex(d["date"]).day_of_week)
    prof = d.groupby(["site", "weekday"])["median"].mean().unstack("site")
    prof = prof / prof.mean()
    prof.index = [_WEEKDAYS[i] for i in prof.index]  # a weekday never sampled is absent
    return prof


def _weekday(daily: pd.DataFrame, drug: str):
    import matplotlib.pyplot as plt

    prof = _weekday_profile(daily, drug)
    fig, ax = plt.subplots(figsize=(6, 3))
    prof.plot(ax=ax, marker="o")
    ax.set_ylabel("relative to site mean")
    ax.set_title(f"{drug}: weekday profile")
    fig.tight_layout()
    return fig


def _city(monthly: pd.DataFrame):
    import matplotlib.pyplot as plt

    d = monthly[(monthly["level"] == "city")
                & (monthly["variable"] == "consumption_mg_per_day_per_1000")]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for drug, g in d.groupby("drug", sort=True):
        g = g.sort_values("month")
        x = pd.PeriodIndex(g["month"], freq="M").to_timestamp()
        ax.errorbar(x, g["median"], yerr=[g["median"] - g["lower_95"],
                                          g["upper_95"] - g["median"]],
                    marker="o", capsize=2, label=drug)
    ax.set_yscale("log")
    ax.set_ylabel("mg/day/1000 inhabitants")
    ax.set_title("City, monthly mean with 95 % interval")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def _positivity(pos: pd.DataFrame):
    import matplotlib.pyplot as plt

    # only cells publishing both counts: a cell with `positive` suppressed but `tested`
    # shown would otherwise add to the denominator only
    shown = pos.dropna(subset=["tested", "positive"])
    g = shown.groupby(["matrix", "group", "drug"], sort=True).agg(
        tested=("tested", "sum"), positive=("positive", "sum")).reset_index()
    g = g[g["tested"] > 0]
    fig, ax = plt.subplots(figsize=(8, 0.35 * max(len(g), 3) + 1))
    labels = g["matrix"] + " / " + g["group"] + " / " + g["drug"]
    ax.barh(labels, (g["positive"] / g["tested"]).to_numpy(float))
    ax.set_xlabel("share positive (published cells only)")
    ax.set_title("Lab positivity by group")
    fig.tight_layout()
    return fig


def _budget(budget: pd.DataFrame):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5))
    wide = budget.pivot(index="biomarker", columns="component", values="share").fillna(0)
    wide.plot.barh(stacked=True, ax=ax)
    ax.set_xlabel("share of log-scale variance")
    ax.set_title("Uncertainty budget (mg/day/1000 inhabitants, mean over site-days)")
    ax.legend(fontsize="x-small", loc="center left", bbox_to_anchor=(1, 0.5))
    fig.tight_layout()
    return fig


def _table(frame: pd.DataFrame, max_rows: int | None = None, lang: str = "en") -> str:
    """An HTML table; when ``max_rows`` cuts it, a line says how many rows are not shown."""
    shown = frame if max_rows is None else frame.head(max_rows)
    out = shown.rename(columns=lambda c: text(c, lang)).to_html(
        index=False, na_rep="", float_format=lambda v: f"{v:.3g}")
    if len(shown) < len(frame):
        out += (f"<p class='omitted'>{len(shown)} of {len(frame)} rows shown; "
                f"{len(frame) - len(shown)} more in the CSV file.</p>")
    return out


_SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}
_ALERT_COLUMNS = ("date", "method", "status", "observed", "expected", "upper_bound",
                  "exceedance_ratio", "severity")


def alerts_section(alerts: pd.DataFrame, lang: str = "en") -> list[str]:
    """Every new and ongoing alert, grouped by plant and drug, most severe first.

    Groups are ordered by their most severe record (then plant, drug); records within a
    group by severity, then date. Resolved records are counted, not listed (their
    severity would describe the alarm that ended, not a current one).
    """
    head = [f"<h2 id='alerts'>{html.escape(text('alerts_title', lang))}</h2>"]
    if alerts is None or not len(alerts):
        return [*head, f"<p>{html.escape(text('alerts_none', lang))}</p>"]
    active = alerts[alerts["status"].isin(["new", "ongoing"])].copy()
    n_resolved = int((alerts["status"] == "resolved").sum())
    parts = list(head)
    if active.empty:
        parts.append(f"<p>{html.escape(text('alerts_none', lang))}</p>")
    else:
        active["_rank"] = active["severity"].map(_SEVERITY_RANK).fillna(3)
        keys = ["site", "biomarker"]
        order = (active.groupby(keys)["_rank"].min().reset_index()
                 .sort_values(["_rank", *keys], kind="stable"))
        parts.append("<p>" + html.escape(text(
            "alerts_summary", lang, new=int((active["status"] == "new").sum()),
            ongoing=int((active["status"] == "ongoing").sum()), groups=len(order))) + "</p>")
        for site, bio in order[keys].itertuples(index=False):
            g = active[(active["site"] == site) & (active["biomarker"] == bio)]
            g = g.sort_values(["_rank", "date"], kind="stable")
            worst = text(str(g["severity"].iloc[0]), lang)
            parts.append(f"<h3 class='alert-group'>{html.escape(str(site))} — "
                         f"{html.escape(str(bio))} ({html.escape(worst)})</h3>")
            cols = [c for c in _ALERT_COLUMNS if c in g]
            shown = g[cols].copy()
            for c in ("status", "severity"):
                if c in shown:
                    shown[c] = shown[c].map(lambda v: text(str(v), lang))
            parts.append(_table(shown, lang=lang))
    if n_resolved:
        resolved = text("alerts_resolved", lang, n=n_resolved)
        parts.append(f"<p class='omitted'>{html.escape(resolved)}</p>")
    return parts


def html_report(path: str | Path, *, title: str, daily: pd.DataFrame, monthly: pd.DataFrame,
                budget: pd.DataFrame | None = None, positivity: pd.DataFrame | None = None,
                alerts: pd.DataFrame | None = None, notes: list[str] | None = None,
                implausible: pd.DataFrame | None = None, lang: str = "en") -> Path:
    """Write a self-contained HTML report that opens offline.

    Parameters
    ----------
    path : str or path-like
        Output file (``.html``).
    title : str
        Page title.
    daily : pandas.DataFrame
        :func:`wbe.backcalc.summarize` output (daily medians and 50/95 % intervals).
    monthly : pandas.DataFrame
        :func:`wbe.publish.monthly_estimates` output.
    budget : pandas.DataFrame, optional
        Columns ``biomarker, component, share`` (mean share of the log-scale variance).
    positivity : pandas.DataFrame, optional
        :func:`wbe.publish.lab_positivity_table` output (with ``matrix``).
    alerts : pandas.DataFrame, optional
        Alert records (:func:`wbe.models.alerts`).
    notes : list of str, optional
        Warnings and omitted steps, listed at the end.
    implausible : pandas.DataFrame, optional
        :func:`wbe.plausibility.check_plausibility` output, listed in the data-quality
        section (file, row, value, reference, likely unit slip).
    lang : {"en", "zh"}, default "en"
        Language of headings, table headers and texts (``docs/glossary.md`` terms).

    Returns
    -------
    pathlib.Path
        The file written. Figures are PNG in ``data:`` URIs; no script, no external link.

    Notes
    -----
    Names (sites, groups, drugs) are drawn as plain text: matplotlib's mathtext is off
    while the figures are made, so a ``$`` in a name is shown, never interpreted.
    """
    matplotlib = require("matplotlib", feature="the HTML report")
    matplotlib.use("Agg", force=False)
    # site, group and drug names are data: a "$" in them must be drawn as text, not parsed
    # as mathtext (which raises on "A$x^$"); no label of ours uses mathtext
    with matplotlib.rc_context({"text.parse_math": False}):
        parts = _parts(title=title, daily=daily, monthly=monthly, budget=budget,
                       positivity=positivity, alerts=alerts, notes=notes,
                       implausible=implausible, lang=lang)
    path = Path(path)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _parts(*, title, daily, monthly, budget, positivity, alerts, notes, implausible,
           lang) -> list[str]:
    """The HTML pieces of :func:`html_report` (figures rendered here)."""
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>"]
    drugs = sorted(daily["drug"].unique())
    parts.append("<h2>Per-site daily series with intervals</h2>")
    for drug in drugs:
        parts.append(_img(_site_series(daily, drug), f"{drug} per site"))
    parts.append("<h2>Weekday profile</h2>")
    for drug in drugs:
        parts.append(_img(_weekday(daily, drug), f"{drug} weekday profile"))
    parts.append("<h2>City comparison</h2>")
    parts.append(_img(_city(monthly), "city monthly"))
    city = monthly[monthly["level"] == "city"]
    parts.append(_table(city[["month", "drug", "variable", "median", "lower_95", "upper_95",
                              "vs_prev_month_ratio_median", "vs_prev_month_prob_increase"]]
                        .sort_values(["drug", "variable", "month"])))
    if positivity is not None and len(positivity):
        parts.append("<h2>Lab positivity by group (small cells suppressed)</h2>")
        parts.append(_img(_positivity(positivity), "lab positivity"))
    if budget is not None and len(budget):
        parts.append("<h2>Uncertainty budget</h2>")
        parts.append(_img(_budget(budget), "uncertainty budget"))
    if alerts is not None:
        parts += alerts_section(alerts, lang)
    if implausible is not None:
        parts += quality_section(implausible, lang)
    if notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes)
                     + "</ul>")
    parts.append("</body></html>")
    return parts


def quality_section(implausible: pd.DataFrame, lang: str = "en") -> list[str]:
    """The data-quality section: every implausible concentration with file, row and the
    likely unit slip (:func:`wbe.plausibility.check_plausibility`)."""
    parts = [f"<h2 id='data-quality'>{html.escape(text('quality_title', lang))}</h2>"]
    if not len(implausible):
        return [*parts, f"<p>{html.escape(text('implausible_none', lang))}</p>"]
    parts.append(f"<p>{html.escape(text('implausible_intro', lang))}</p>")
    cols = ["file", "row", "site", "biomarker", "sampled_on", "concentration_ng_per_l",
            "reference_ng_per_l", "ratio", "likely_cause"]
    shown = implausible[cols].rename(columns={"sampled_on": "date"})
    parts.append(_table(shown, lang=lang))
    return parts


def budget_table(budget) -> pd.DataFrame:
    """Mean share per (biomarker, component) of a :func:`wbe.backcalc.uncertainty_budget`."""
    mean = budget.mean(["site", "date"], skipna=True)
    frame = mean.to_dataframe(name="share").reset_index()
    return frame[["biomarker", "component", "share"]].assign(
        share=lambda f: np.round(f["share"].to_numpy(), 12))
