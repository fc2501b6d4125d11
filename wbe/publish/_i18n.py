"""Report and office-table texts in English and Chinese (terms from ``docs/glossary.md``).

Machine-readable outputs (CSV, Parquet, NetCDF, JSON, feed) keep their English schema;
only what a person reads (the HTML report, ``monthly_estimates.xlsx`` headers, notes shown
in the report, alert texts) is translated.
"""

from __future__ import annotations

LANGUAGES = ("en", "zh")

_TEXT: dict[str, tuple[str, str]] = {
    # key: (English, Chinese)
    "headline": ("Headline figures for {month}", "{month} 月度要点"),
    "drug": ("Drug", "毒品"),
    "city_estimate": ("City estimate (mg/day/1000 inhabitants)", "全市千人日均消费量 (mg/天/千人)"),
    "interval_95": ("95 % interval", "95% 区间"),
    "mom": ("Month-on-month change", "环比"),
    "yoy": ("Year-on-year change", "同比"),
    "p_increase": ("probability of an increase", "上升概率"),
    "trend": ("Trend", "趋势"),
    "plants_days": ("Plants / days sampled", "采样污水处理厂 / 天数"),
    "below_loq": ("Days below LOQ", "低于定量限 (LOQ) 天数"),
    "new_alerts": ("New alerts", "新预警"),
    "positivity": ("Lab positivity", "实验室检测阳性率"),
    "suppressed": ("suppressed (small cell)", "小样本抑制"),
    "no_lab": ("no lab data", "无实验室数据"),
    "alerts_title": ("Alerts to act on", "需处置的预警"),
    "alerts_summary": ("{new} new and {ongoing} ongoing alert records in {groups} plant-drug "
                       "series, most severe first.",
                       "{groups} 个污水处理厂-毒品序列中共有 {new} 条新预警和 "
                       "{ongoing} 条持续预警，按严重程度排序。"),
    "alerts_none": ("No new or ongoing alerts this month.", "本月无新预警或持续预警。"),
    "alerts_resolved": ("{n} resolved records are not shown (they are in alerts.csv).",
                        "另有 {n} 条已解除记录未列出（见 alerts.csv）。"),
    "date": ("Date", "日期"),
    "method": ("Method", "方法"),
    "status": ("Status", "状态"),
    "observed": ("Observed", "观测值"),
    "expected": ("Expected", "期望值"),
    "upper_bound": ("Upper bound", "上限"),
    "exceedance_ratio": ("Observed / upper bound", "观测值/上限"),
    "severity": ("Severity", "严重程度"),
    "new": ("new", "新"),
    "ongoing": ("ongoing", "持续"),
    "resolved": ("resolved", "已解除"),
    "high": ("high", "高"),
    "medium": ("medium", "中"),
    "low": ("low", "低"),
    "none": ("none (resolved)", "无（已解除）"),
    "site": ("Plant", "污水处理厂"),
    "area": ("Area", "区域"),
    "level": ("Level", "层级"),
    "city": ("city", "全市"),
    "month": ("Month", "月份"),
    "variable": ("Variable", "指标"),
    "units": ("Units", "单位"),
    "median": ("Median", "中位数"),
    "lower_95": ("95 % lower", "95% 下限"),
    "upper_95": ("95 % upper", "95% 上限"),
    "samples": ("Samples", "样品数"),
    "days_in_month": ("Days in month", "当月天数"),
    "population": ("Served population", "服务人口"),
    "detail": ("Detail", "详细结果"),
    "site_series": ("Per-plant daily series with intervals", "各污水处理厂每日估算及区间"),
    "weekday": ("Weekday profile", "周内变化"),
    "city_comparison": ("City, monthly", "全市月度结果"),
    "lab_title": ("Lab positivity by group (small cells suppressed)",
                  "各人群实验室检测阳性率（小样本已抑制）"),
    "budget_title": ("Uncertainty budget", "不确定度来源"),
    "quality_title": ("Data quality", "数据质量"),
    "implausible_intro": ("Values 100 times or more away from the plant's own recent median "
                          "(or outside the plausible range): check the unit.",
                          "与该厂近期中位数相差 100 倍以上（或超出合理范围）的数值，请核对单位："),
    "implausible_none": ("No implausible values found.", "未发现不合理数值。"),
    "notes_title": ("Notes", "说明"),
    "file": ("File", "文件"),
    "row": ("Row", "行"),
    "biomarker": ("Biomarker", "生物标志物"),
    "value": ("Value", "数值"),
    "unit": ("Unit", "单位"),
    "reference": ("Reference", "参照值"),
    "likely_cause": ("Likely cause", "可能原因"),
    "consumption_mg_per_day_per_1000": ("Consumption (mg/day/1000 inhabitants)",
                                        "千人日均消费量 (mg/天/千人)"),
    "doses_per_day_per_1000": ("Doses (doses/day/1000 inhabitants)", "千人日均剂量 (剂/天/千人)"),
    "users": ("Daily users", "日均吸毒人数"),
    "users_per_1000": ("Daily users per 1000 inhabitants", "千人日均吸毒人数"),
    "vs_prev_month_ratio_median": ("Month-on-month ratio", "环比 (比值)"),
    "vs_prev_month_prob_increase": ("Month-on-month probability of an increase", "环比上升概率"),
    "vs_prev_year_ratio_median": ("Year-on-year ratio", "同比 (比值)"),
    "vs_prev_year_prob_increase": ("Year-on-year probability of an increase", "同比上升概率"),
    "trend_class": ("Trend", "趋势"),
    "coverage_ok": ("Enough sampled days", "采样天数充足"),
    "days_below_loq": ("Days below LOQ", "低于定量限天数"),
    "tested": ("Tested", "检测人数"),
    "positive": ("Positive", "阳性人数"),
    "positivity_rate": ("Positivity rate", "阳性率"),
    "group": ("Group", "人群"),
    "matrix": ("Matrix", "检材"),
    "hair": ("hair", "毛发"),
    "urine": ("urine", "尿液"),
    "increase": ("increase", "上升"),
    "decrease": ("decrease", "下降"),
    "plateau": ("plateau", "平稳"),
    "insufficient data": ("insufficient data", "数据不足"),
    "print_hint": ("Print this page for the monthly briefing.", "本页可直接打印作为月度简报。"),
}


def check_language(lang: str) -> str:
    """Return ``lang`` if it is one of :data:`LANGUAGES`, else raise ``ValueError``."""
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {lang!r}")
    return lang


def text(key: str, lang: str = "en", **values) -> str:
    """The text of ``key`` in ``lang`` with ``values`` filled in; unknown keys unchanged."""
    pair = _TEXT.get(key)
    if pair is None:
        return key.format(**values) if values else key
    return pair[LANGUAGES.index(lang)].format(**values)


#: Notes of the publication pipeline translated by pattern (English -> Chinese); a note
#: matching none stays in English.
_NOTE_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"^(\d+) sample rows dated after (\d{4}-\d{2}) are not used$",
     r"\2 之后的 \1 行样品数据未使用"),
    (r"^input readers: (\d+) rows rejected, see rejects.csv$",
     r"读取输入时拒收 \1 行，详见 rejects.csv"),
    (r"^lab: no lab results given; no positivity table$", "未提供实验室检测结果，无阳性率表"),
    (r"^doses \(doses/day/1000 inhabitants\) not estimated for (.+?): parameter set '(.+?)' "
     r"has no typical dose \(typical_dose_mg\) for (?:it|them).*$",
     r"\1 未估算千人日均剂量：参数集 '\2' 中没有该毒品的典型剂量 (typical_dose_mg)；"
     r"样品数据完整，千人日均消费量已估算，这不是采样天数不足的问题"),
    (r"^users not estimated for any drug: parameter set '(.+?)' has no (.+?) for them.*$",
     r"所有毒品均未估算吸毒人数：参数集 '\1' 缺少所需参数 (\2)；千人日均消费量已估算"),
    (r"^data quality: (\d+) concentration\(s\) .*: rows (.+)$",
     r"数据质量：\1 个浓度值与该厂近期中位数相差 100 倍以上（可能是单位错误），"
     r"见报告“数据质量”部分：第 \2 行"),
    (r"^(.+?): (\d+) plant-month-drug cell\(s\) have fewer than (\d+) sampled days and are "
     r"marked coverage_ok=False \((.+)\)$",
     r"\1：\2 个污水处理厂-月份-毒品单元采样天数少于 \3 天，已标记 coverage_ok=False（\4）"),
)


def translate_note(note: str, lang: str) -> str:
    """The note in ``lang`` (known pipeline notes; others unchanged)."""
    if lang == "en":
        return note
    import re

    for pattern, repl in _NOTE_PATTERNS:
        if re.match(pattern, note):
            return re.sub(pattern, repl, note)
    return note
