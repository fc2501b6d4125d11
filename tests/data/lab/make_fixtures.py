"""Write the small lab export fixtures of tests/lab (run: python make_fixtures.py).

All persons are invented: the ID-card numbers use region 110105 with invented birth dates
and sequence numbers (check characters computed by GB 11643-1999), the names are common
placeholder names. Instrument exports follow the layouts documented in
docs/lab-formats.md (SCIEX MultiQuant results table, Agilent MassHunter batch table with
two header rows, Waters TargetLynx compound summary blocks).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent
_W = [2 ** (17 - i) % 11 for i in range(17)]


def fake_id(birth: str, seq: str) -> str:
    """An invented 18-character ID number with a valid check character."""
    body = f"110105{birth}{seq}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _W, strict=True)) % 11]


PERSONS = {
    "张三": fake_id("19850312", "123"),
    "李四": fake_id("19900728", "456"),
    "王五": fake_id("19781105", "789"),
    "赵六": fake_id("20010101", "234"),
}


def long_hair_cn() -> None:
    """Chinese headers, hair, confirm and screen rows, segments and several bad rows."""
    z, li, w, zh = (PERSONS[k] for k in ("张三", "李四", "王五", "赵六"))
    rows = [
        # 批次, 样品编号, 身份证号, 姓名, 检材, 采样日期, 人员类别, 分段,
        # 检测方法, 检测物质, 结果, 单位
        ("HB2024-07", "H001", z, "张三", "毛发", "2024-07-02", "社区康复", "0-3cm", "确证",
         "甲基苯丙胺", "1.85", "ng/mg"),
        ("HB2024-07", "H001", z, "张三", "毛发", "2024-07-02", "社区康复", "0-3cm", "确证",
         "苯丙胺", "0.12", "ng/mg"),
        ("HB2024-07", "H001", z, "张三", "毛发", "2024-07-02", "社区康复", "3-6cm", "确证",
         "甲基苯丙胺", "0.31", "ng/mg"),
        ("HB2024-07", "H001", z, "张三", "毛发", "2024-07-02", "社区康复", "3-6cm", "确证",
         "苯丙胺", "<0.05", "ng/mg"),
        ("HB2024-07", "H002", li, "李四", "毛发", "2024-07-02", "社区康复", "0-3cm", "确证",
         "氯胺酮", "未检出", "ng/mg"),
        ("HB2024-07", "H002", li, "李四", "毛发", "2024-07-02", "社区康复", "0-3cm", "确证",
         "去甲氯胺酮", "120", "pg/mg"),
        ("HB2024-07", "H003", w, "王五", "毛发", "2024/7/3", "驾驶人", "0-3cm", "初筛",
         "amphetamines", "阳性", ""),
        ("HB2024-07", "H003", w, "王五", "毛发", "2024/7/3", "驾驶人", "0-3cm", "确证",
         "METH", "0.08", "ng/mg"),
        # bad rows: unknown analyte, value text, ambiguous dash, missing identifier,
        # ID number typed into the sample id column, impossible segment
        ("HB2024-07", "H004", zh, "赵六", "毛发", "2024-07-03", "驾驶人", "0-3cm", "确证",
         "甲基苯丙安", "0.5", "ng/mg"),
        ("HB2024-07", "H004", zh, "赵六", "毛发", "2024-07-03", "驾驶人", "0-3cm", "确证",
         "吗啡", "abc", "ng/mg"),
        ("HB2024-07", "H004", zh, "赵六", "毛发", "2024-07-03", "驾驶人", "0-3cm", "确证",
         "可待因", "-", "ng/mg"),
        ("HB2024-07", "H005", "", "", "毛发", "2024-07-03", "驾驶人", "0-3cm", "确证",
         "吗啡", "0.3", "ng/mg"),
        ("HB2024-07", zh, zh, "赵六", "毛发", "2024-07-03", "驾驶人", "0-3cm", "确证",
         "MDMA", "0.4", "ng/mg"),
        ("HB2024-07", "H006", li, "李四", "毛发", "2024-07-03", "社区康复", "6-3cm", "确证",
         "MDMA", "0.4", "ng/mg"),
        ("HB2024-07", "H007", w, "王五", "毛发", "2024-07-03", "驾驶人", "0-3cm", "确证",
         "吗啡", "0.2", "mg/dL"),
    ]
    cols = ["批次", "样品编号", "身份证号", "姓名", "检材", "采样日期", "人员类别", "分段",
            "检测方法", "检测物质", "结果", "单位"]
    pd.DataFrame(rows, columns=cols).to_csv(HERE / "long_hair_cn.csv", index=False,
                                            encoding="utf-8-sig")


def long_urine_xlsx() -> None:
    """English headers, urine, mixed units (ng/mL and µg/mL), subject names only."""
    frame = pd.DataFrame({
        "Batch": ["U-0815"] * 5,
        "Sample ID": ["U01", "U01", "U02", "U02", "U03"],
        "Name": ["张三", "张三", "李四", "李四", "王五"],
        "Matrix": ["urine"] * 5,
        "Collection date": ["2024-08-15"] * 5,
        "Group": ["registered users"] * 5,
        "Method": ["confirm"] * 5,
        "Analyte": ["Methamphetamine", "Amphetamine", "Morphine", "Codeine", "Ketamine"],
        "Result": ["1.2", "350", "N/A", "n.d.", "0.95"],
        "Unit": ["ug/mL", "ng/mL", "ng/mL", "ng/mL", "µg/mL"],
    })
    frame.to_excel(HERE / "long_urine.xlsx", index=False)


def manifest() -> None:
    """Sample manifest of the instrument exports (sample -> person, date, group)."""
    frame = pd.DataFrame({
        "sample_id": ["S001", "S002", "S003"],
        "身份证号": [PERSONS["张三"], PERSONS["李四"], PERSONS["王五"]],
        "姓名": ["张三", "李四", "王五"],
        "collected_on": ["2024-09-02", "2024-09-02", "2024-09-03"],
        "group": ["community", "community", "drivers"],
        "segment": ["0-3", "0-3", "0-3"],
    })
    frame.to_csv(HERE / "manifest.csv", index=False, encoding="utf-8-sig")


CAL = [0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0]  # ng/mg


def sciex() -> None:
    """SCIEX MultiQuant results table: tab separated, CRLF, one row per sample x component.

    Components: methamphetamine (quantifier), amphetamine, and the internal standard
    methamphetamine-D5 (which the reader lists among the rejects).
    """
    header = ["Sample Name", "Sample ID", "Sample Type", "File Name", "Component Name",
              "Component Group Name", "Actual Concentration", "Area", "IS Area",
              "Area Ratio", "Retention Time", "Calculated Concentration", "Accuracy",
              "Ion Ratio", "Concentration Units"]
    lines = ["\t".join(header)]

    def row(name, stype, comp, actual, ratio, rt, calc, ion):
        area = "N/A" if ratio == "N/A" else f"{float(ratio) * 250000:.0f}"
        acc = "N/A" if actual == "N/A" or calc in ("No Peak", "N/A") else (
            f"{100 * float(calc) / float(actual):.2f}")
        lines.append("\t".join([name, "", stype, "batch0902.wiff", comp, "",
                                actual, area, "250000", ratio, rt, calc, acc, ion, "ng/mg"]))

    for i, c in enumerate(CAL):
        r = 0.004 + 2.0 * c
        row(f"CAL{i + 1}", "Standard", "Methamphetamine", f"{c}", f"{r:.5f}", "3.21",
            f"{(r - 0.004) / 2.0:.4f}", "0.42")
        row(f"CAL{i + 1}", "Standard", "Amphetamine", f"{c}", f"{0.003 + 1.8 * c:.5f}", "2.95",
            f"{c:.4f}", "0.61")
        row(f"CAL{i + 1}", "Standard", "Methamphetamine-D5", "N/A", "N/A", "3.19", "N/A",
            "N/A")
    row("BLANK1", "Blank", "Methamphetamine", "N/A", "0.00010", "3.21", "No Peak", "N/A")
    row("BLANK1", "Blank", "Amphetamine", "N/A", "0.00008", "2.95", "No Peak", "N/A")
    for lvl, c in (("QCL", 0.06), ("QCM", 0.8), ("QCH", 4.0)):
        row(lvl, "Quality Control", "Methamphetamine", f"{c}", f"{0.004 + 2.0 * c:.5f}",
            "3.22", f"{c:.4f}", "0.43")
        row(lvl, "Quality Control", "Amphetamine", f"{c}", f"{0.003 + 1.8 * c:.5f}", "2.96",
            f"{c:.4f}", "0.60")
    row("S001", "Unknown", "Methamphetamine", "N/A", "3.70400", "3.22", "1.8500", "0.44")
    row("S001", "Unknown", "Amphetamine", "N/A", "0.21900", "2.96", "0.1200", "0.62")
    row("S002", "Unknown", "Methamphetamine", "N/A", "N/A", "N/A", "No Peak", "N/A")
    row("S002", "Unknown", "Amphetamine", "N/A", "N/A", "N/A", "No Peak", "N/A")
    row("S003", "Unknown", "Methamphetamine", "N/A", "0.46400", "3.21", "0.2300", "0.95")
    row("S003", "Unknown", "Amphetamine", "N/A", "0.06000", "2.95", "0.0317", "0.60")
    (HERE / "sciex_results.txt").write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))


def masshunter() -> None:
    """Agilent MassHunter batch table CSV with two header rows (Sample / <X> Results)."""
    top = ["Sample", "", "", "", "", "Methamphetamine Results", "", "", "",
           "Amphetamine Results", "", "", ""]
    sub = ["Name", "Data File", "Type", "Level", "Acq. Date-Time", "RT", "Resp.",
           "Exp. Conc.", "Final Conc.", "RT", "Resp.", "Exp. Conc.", "Final Conc."]
    rows = [top, sub]
    for i, c in enumerate(CAL):
        rows.append([f"Cal L{i + 1}", f"cal{i + 1}.d", "Cal", f"L{i + 1}",
                     f"2024-09-02 08:{10 + i:02d}", "3.21", f"{0.004 + 2.0 * c:.5f}", f"{c}",
                     f"{c:.4f}", "2.95", f"{0.003 + 1.8 * c:.5f}", f"{c}", f"{c:.4f}"])
    rows.append(["Blank", "blank1.d", "Blank", "", "2024-09-02 08:20", "", "", "", "", "", "",
                 "", ""])
    rows.append(["QC Low", "qcl.d", "QC", "QCL", "2024-09-02 08:22", "3.22", "0.12400",
                 "0.06", "0.0600", "2.96", "0.11100", "0.06", "0.0600"])
    rows.append(["S001", "s001.d", "Sample", "", "2024-09-02 08:30", "3.22", "3.70400", "",
                 "1.8500", "2.96", "0.21900", "", "0.1200"])
    rows.append(["S003", "s003.d", "Sample", "", "2024-09-02 08:32", "3.21", "0.46400", "",
                 "0.2300", "2.95", "0.06000", "", "<0.05"])
    text = "\n".join(",".join(r) for r in rows) + "\n"
    (HERE / "masshunter_batch.csv").write_text(text, encoding="utf-8")


def targetlynx() -> None:
    """Waters TargetLynx Quantify Compound Summary Report (tab separated blocks)."""
    out = ["Quantify Compound Summary Report ", "",
           "Printed Tue Sep 03 09:12:45 2024", "", ""]
    cols = ["", "Name", "Trace", "Type", "Std. Conc", "RT", "Area", "IS Area", "Response",
            "Primary Flags", "ng/mL", "%Dev", "S/N"]
    blocks = {
        "Methamphetamine": (2.0, 3.21),
        "Amphetamine": (1.8, 2.95),
    }
    for k, (name, (slope, rt)) in enumerate(blocks.items(), start=1):
        out += [f"Compound {k}:  {name}", "", "\t".join(cols)]
        n = 0
        for c in (1, 2, 5, 10, 50, 100, 500, 1000):  # urine ng/mL
            n += 1
            resp = 0.004 + slope * c / 100
            out.append("\t".join([str(n), f"STD_{c}", "150 > 91", "Standard", f"{c}",
                                  f"{rt:.2f}", f"{resp * 25000:.0f}", "25000", f"{resp:.4f}",
                                  "bb", f"{c:.3f}", "0.0", "150"]))
        n += 1
        out.append("\t".join([str(n), "BLANK", "150 > 91", "Blank", "", "", "", "25000", "",
                              "", "", "", ""]))
        for sample, conc in (("S001", 385.0 if k == 1 else 36.0),
                             ("S002", None), ("S003", 12.5 if k == 1 else 3.1)):
            n += 1
            if conc is None:
                out.append("\t".join([str(n), sample, "150 > 91", "Analyte", "", "", "",
                                      "25000", "", "", "", "", ""]))
            else:
                resp = 0.004 + slope * conc / 100
                out.append("\t".join([str(n), sample, "150 > 91", "Analyte", "",
                                      f"{rt + 0.01:.2f}", f"{resp * 25000:.0f}", "25000",
                                      f"{resp:.4f}", "bb", f"{conc:.3f}", "", "80"]))
        out += ["", ""]
    out += ["Compound 3:  Methamphetamine-D5", "", "\t".join(cols),
            "\t".join(["1", "S001", "155 > 92", "Analyte", "", "3.19", "25000", "", "", "bb",
                       "", "", "900"]), ""]
    (HERE / "targetlynx_summary.txt").write_text("\r\n".join(out), encoding="utf-8")


if __name__ == "__main__":
    long_hair_cn()
    long_urine_xlsx()
    manifest()
    sciex()
    masshunter()
    targetlynx()
