"""The report's alerts: every new and ongoing record, grouped and sorted, resolved counted
(issue 16, item 4)."""

from __future__ import annotations

import re

import pandas as pd

from wbe.publish.report import alerts_section


def _alerts() -> pd.DataFrame:
    rows = []
    dates = pd.date_range("2024-03-01", periods=30).strftime("%Y-%m-%d")
    # 3 plants x 2 drugs x 10 days = 60 active records (more than any old row cap), with
    # the worst series WWTP02/ketamine (one high record) and resolved records everywhere
    for site in ("WWTP01", "WWTP02", "WWTP03"):
        for bio in ("methamphetamine", "ketamine"):
            for i in range(10):
                sev = "high" if (site, bio, i) == ("WWTP02", "ketamine", 7) else (
                    "medium" if (site == "WWTP03" and i == 2) else "low")
                rows.append({"site": site, "biomarker": bio, "date": dates[i], "method": "ears",
                             "status": "new" if i == 0 else "ongoing", "observed": 10.0 + i,
                             "expected": 5.0, "upper_bound": 8.0,
                             "exceedance_ratio": (10.0 + i) / 8.0, "severity": sev})
            rows.append({"site": site, "biomarker": bio, "date": dates[20], "method": "ears",
                         "status": "resolved", "observed": 1.0, "expected": 5.0,
                         "upper_bound": 8.0, "exceedance_ratio": 0.1, "severity": "none"})
    return pd.DataFrame(rows)


def test_every_active_alert_shown_grouped_by_severity():
    page = "\n".join(alerts_section(_alerts(), "en"))
    groups = re.findall(r"<h3 class='alert-group'>(.*?)</h3>", page)
    assert groups[0] == "WWTP02 — ketamine (high)"
    assert groups[1] in ("WWTP03 — ketamine (medium)", "WWTP03 — methamphetamine (medium)")
    assert len(groups) == 6
    assert page.count("<tr>") == 60  # data rows (header rows carry a style attribute)
    assert "60 rows" not in page and "more in the CSV" not in page  # nothing cut
    assert "6 resolved records are not shown" in page
    assert "6 new and 54 ongoing" in page
    # resolved rows (severity 'none', observed 1.0) do not appear
    assert ">resolved<" not in page


def test_alerts_in_chinese():
    page = "\n".join(alerts_section(_alerts(), "zh"))
    assert "需处置的预警" in page and "已解除" in page and "WWTP02 — ketamine (高)" in page
    assert "严重程度" in page


def test_no_active_alerts_says_so():
    only_resolved = _alerts().query("status == 'resolved'")
    page = "\n".join(alerts_section(only_resolved, "en"))
    assert "No new or ongoing alerts" in page and "6 resolved records" in page
