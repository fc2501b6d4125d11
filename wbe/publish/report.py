"""Offline HTML report: a headline page for the month, then the detail.

Figures are inline SVG with their text kept as text (``svg.fonttype = "none"``), so plant,
drug and group names are rendered by the reader's browser fonts (Chinese included) and can
be searched and copied; no external resource, no script. A print stylesheet puts the
headline page on its own sheet.
"""

from __future__ import annotations

import html
import io
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from wbe._optional import require
from wbe.publish._i18n import text

__all__ = ["alerts_section", "headline_section", "html_report", "quality_section"]

_CSS = ("body{font-family:'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei',"
        "'PingFang SC','Droid Sans Fallback',sans-serif;max-width:1000px;margin:auto;"
        "padding:1em}"
        "table{border-collapse:collapse;font-size:small}td,th{border:1px solid #ccc;"
        "padding:2px 6px}svg{max-width:100%;height:auto}figure{margin:0.5em 0}"
        ".headline td,.headline th{font-size:medium;padding:4px 8px}"
        ".suppressed{font-style:italic;color:#666}"
        # print (and report.pdf): A4; the title and headline page on the first sheet, the
        # detail and the alerts each from a new sheet; long tables may break between rows
        "@page{size:A4;margin:12mm 10mm}"
        "@media print{body{max-width:none;padding:0;font-size:9pt}"
        "#headline{page-break-after:always;break-after:page}"
        "#detail,#alerts,#data-quality{page-break-before:always;break-before:page}"
        ".headline td,.headline th{font-size:9pt;padding:2px 4px}"
        "h1,h2,h3{break-after:avoid}figure,tr{break-inside:avoid}"
        "thead{display:table-header-group}.print-hint{display:none}}")

#: matplotlib settings of every figure: text kept as text in the SVG (the browser renders
#: it with its fonts), fixed ids and no date so re-runs are byte-identical, no mathtext
#: (a "$" in a name is shown, never parsed).
_RC = {"svg.fonttype": "none", "svg.hashsalt": "wbe-report", "text.parse_math": False}
_GLYPH = re.compile(r"Glyph \d+ .* missing from (current )?font")


def _svg(fig) -> str:
    """The figure as inline SVG markup (no XML prolog), text as ``<text>`` elements."""
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    # inline in HTML5 the namespaces are implied (xlink:href included): drop them and the
    # RDF metadata so the page names no URL at all
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.S)
    return re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", svg)


def _img(fig, alt: str) -> str:
    """A figure with its caption (the caption, like the SVG text, is text)."""
    return (f"<figure>{_svg(fig)}<figcaption class='visually-hidden'>{html.escape(alt)}"
            "</figcaption></figure>")


def _site_series(daily: pd.DataFrame, drug: str, lang: str = "en"):
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
    axes[0, 0].set_title(f"{drug}: {text('consumption_mg_per_day_per_1000', lang)}")
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


def _weekday(daily: pd.DataFrame, drug: str, lang: str = "en"):
    import matplotlib.pyplot as plt

    prof = _weekday_profile(daily, drug)
    fig, ax = plt.subplots(figsize=(6, 3))
    prof.plot(ax=ax, marker="o")
    ax.set_ylabel("relative to site mean" if lang == "en" else "相对于该厂均值")
    ax.set_title(f"{drug}: {text('weekday', lang)}")
    fig.tight_layout()
    return fig


def _city(monthly: pd.DataFrame, lang: str = "en"):
    import matplotlib.pyplot as plt
    from matplotlib.dates import DateFormatter, MonthLocator
    from matplotlib.ticker import FuncFormatter, NullFormatter

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
    # plain tick labels: the log axis's default labels are mathtext ("$10^{2}$"), which
    # the report turns off (text.parse_math) so that names are never parsed
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    months = pd.PeriodIndex(d["month"].astype(str), freq="M").to_timestamp()
    if len(months) and months.nunique() == 1:  # one month: a window around it, not years
        ax.set_xlim(months.min() - pd.Timedelta(days=20), months.min() + pd.Timedelta(days=20))
    span = (months.max().to_period("M") - months.min().to_period("M")).n + 1 if len(months) else 1
    ax.xaxis.set_major_locator(MonthLocator(interval=max(1, -(-span // 8))))  # <= 8 ticks
    ax.xaxis.set_major_formatter(DateFormatter("%Y-%m"))
    ax.set_ylabel(text("consumption_mg_per_day_per_1000", lang))
    ax.set_title(text("city_comparison", lang))
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
                implausible: pd.DataFrame | None = None, lang: str = "en",
                month: str | None = None) -> Path:
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
    month : str, optional
        ``"YYYY-MM"`` of the headline page; default the latest month of ``monthly``.

    Returns
    -------
    pathlib.Path
        The file written. Figures are inline SVG with text as text; no script, no
        external link.

    Notes
    -----
    Names (sites, groups, drugs) are drawn as plain text: matplotlib's mathtext is off
    while the figures are made, so a ``$`` in a name is shown, never interpreted.
    """
    matplotlib = require("matplotlib", feature="the HTML report")
    matplotlib.use("Agg", force=False)
    with matplotlib.rc_context(_RC), warnings.catch_warnings():
        # matplotlib measures text with its own font while laying out; a name in Chinese
        # is still written as text into the SVG and drawn by the browser, so a glyph
        # missing from matplotlib's font is not a missing glyph in the report
        warnings.filterwarnings("ignore", message=_GLYPH.pattern, category=UserWarning)
        parts = _parts(title=title, daily=daily, monthly=monthly, budget=budget,
                       positivity=positivity, alerts=alerts, notes=notes,
                       implausible=implausible, lang=lang, month=month)
    path = Path(path)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _parts(*, title, daily, monthly, budget, positivity, alerts, notes, implausible,
           lang, month) -> list[str]:
    """The HTML pieces of :func:`html_report` (figures rendered here)."""
    parts = [f"<!DOCTYPE html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head>"
             f"<meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<style>{_CSS}.visually-hidden{{position:absolute;left:-9999px}}</style>"
             f"</head><body>", f"<h1>{html.escape(title)}</h1>"]
    parts += headline_section(monthly, alerts=alerts, positivity=positivity, month=month,
                              lang=lang)
    parts.append(f"<h2 id='detail'>{html.escape(text('detail', lang))}</h2>")
    drugs = sorted(daily["drug"].unique())
    parts.append(f"<h2>{html.escape(text('site_series', lang))}</h2>")
    for drug in drugs:
        parts.append(_img(_site_series(daily, drug, lang), f"{drug}"))
    parts.append(f"<h2>{html.escape(text('weekday', lang))}</h2>")
    for drug in drugs:
        parts.append(_img(_weekday(daily, drug, lang), f"{drug}"))
    parts.append(f"<h2>{html.escape(text('city_comparison', lang))}</h2>")
    parts.append(_img(_city(monthly, lang), text("city_comparison", lang)))
    city = monthly[monthly["level"] == "city"]
    shown = city[["month", "drug", "variable", "median", "lower_95", "upper_95",
                  "vs_prev_month_ratio_median", "vs_prev_month_prob_increase"]].sort_values(
        ["drug", "variable", "month"])
    shown = shown.assign(variable=shown["variable"].map(lambda v: text(v, lang)))
    parts.append(_table(shown, lang=lang))
    if positivity is not None and len(positivity):
        parts.append(f"<h2>{html.escape(text('lab_title', lang))}</h2>")
        parts.append(_img(_positivity(positivity), text("lab_title", lang)))
    if budget is not None and len(budget):
        parts.append(f"<h2>{html.escape(text('budget_title', lang))}</h2>")
        parts.append(_img(_budget(budget), text("budget_title", lang)))
    if alerts is not None:
        parts += alerts_section(alerts, lang)
    if implausible is not None:
        parts += quality_section(implausible, lang)
    if notes:
        parts.append(f"<h2>{html.escape(text('notes_title', lang))}</h2><ul>"
                     + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>")
    parts.append("</body></html>")
    return parts


def _pct_change(ratio, prob) -> str:
    """``+12 % (P↑ 0.83)`` from a ratio and the probability of an increase."""
    if ratio is None or not np.isfinite(ratio):
        return "–"
    out = f"{(ratio - 1) * 100:+.0f} %"
    return out + (f" (P↑ {prob:.2f})" if prob is not None and np.isfinite(prob) else "")


def _fmt(v) -> str:
    return "–" if v is None or not np.isfinite(v) else f"{v:.3g}"


def _lab_cell(positivity: pd.DataFrame | None, drug: str, biomarkers, month, lang) -> str:
    """Positive / tested over the published cells of the month, suppression marked."""
    if positivity is None or not len(positivity):
        return html.escape(text("no_lab", lang))
    p = positivity[positivity["drug"].astype(str).isin({drug, *biomarkers})]
    if month is not None and "month" in p:
        p = p[p["month"].astype(str) == month]
    if p.empty:
        return "–"
    both = p.dropna(subset=["tested", "positive"])
    tested, positive = int(both["tested"].sum()), int(both["positive"].sum())
    n_sup = int(p["positive"].isna().sum())
    cell = (f"{positive}/{tested} ({positive / tested:.0%})" if tested else "–")
    if n_sup:
        cell += (f" <span class='suppressed'>[{n_sup} {html.escape(text('suppressed', lang))}]"
                 "</span>")
    return cell


def headline_section(monthly: pd.DataFrame, *, alerts: pd.DataFrame | None = None,
                     positivity: pd.DataFrame | None = None, month: str | None = None,
                     lang: str = "en") -> list[str]:
    """The headline page: per drug the city estimate of the month and what changed.

    Per drug: city consumption [mg/day/1000 inhabitants] with its 95 % interval,
    month-on-month and year-on-year change with the probability of an increase, the trend
    class, plants and plant-days sampled, days below the LOQ, new alerts, and lab
    positivity (published cells; suppressed cells counted and marked).

    Parameters
    ----------
    monthly : pandas.DataFrame
        :func:`wbe.publish.monthly_estimates` output.
    alerts : pandas.DataFrame, optional
        Alert records of the month.
    positivity : pandas.DataFrame, optional
        Lab positivity table.
    month : str, optional
        ``"YYYY-MM"``; default the latest month of ``monthly``.
    lang : {"en", "zh"}
        Language.

    Returns
    -------
    list of str
        HTML pieces.
    """
    month = month or str(monthly["month"].max())
    var = "consumption_mg_per_day_per_1000"
    m = monthly[(monthly["month"].astype(str) == month) & (monthly["variable"] == var)]
    for col, default in (("biomarker", None), ("samples", 0), ("area", ""),
                         ("level", "city")):
        if col not in m:  # a minimal table (tests, callers): fill what the page needs
            m = m.assign(**{col: m["drug"] if col == "biomarker" else default})
    city = m[m["level"] == "city"].sort_values("drug")
    sites = m[m["level"] == "site"]
    cols = ["drug", "city_estimate", "interval_95", "mom", "yoy", "trend", "plants_days",
            "below_loq", "new_alerts", "positivity"]
    head = "".join(f"<th>{html.escape(text(c, lang))}</th>" for c in cols)
    rows = []
    city = city.sort_values(["drug", "biomarker"])
    for _, r in city.iterrows():
        bios = {str(r["biomarker"])}
        s = sites[(sites["biomarker"] == r["biomarker"]) & (sites["samples"] > 0)]
        label = (str(r["drug"]) if r["drug"] == r["biomarker"]
                 else f"{r['drug']} ({r['biomarker']})")
        n_new = 0
        if alerts is not None and len(alerts):
            a = alerts[alerts["biomarker"].astype(str).isin(bios)
                       & (alerts["status"] == "new")]
            n_new = len(a)
        cells = [html.escape(label), _fmt(r["median"]),
                 f"{_fmt(r['lower_95'])}–{_fmt(r['upper_95'])}",
                 _pct_change(r.get("vs_prev_month_ratio_median"),
                             r.get("vs_prev_month_prob_increase")),
                 _pct_change(r.get("vs_prev_year_ratio_median"),
                             r.get("vs_prev_year_prob_increase")),
                 html.escape(text(str(r.get("trend_class", "")), lang)),
                 f"{s['area'].nunique()} / {int(s['samples'].sum())}",
                 str(int(r["days_below_loq"])) if pd.notna(r.get("days_below_loq")) else "–",
                 str(n_new), _lab_cell(positivity, str(r["drug"]), {*bios, str(r["drug"])},
                                       month, lang)]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return [f"<section id='headline'><h2>{html.escape(text('headline', lang, month=month))}"
            "</h2>", f"<table class='headline'><thead><tr>{head}</tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>",
            f"<p class='print-hint'>{html.escape(text('print_hint', lang))}</p></section>"]


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
