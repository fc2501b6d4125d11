"""Write the binary/GBK fixtures of tests/wbe/test_io.py (run once; outputs are committed).

Usage: python tests/data/io/make_fixtures.py
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

HERE = Path(__file__).parent


def sites_gbk() -> None:
    text = (
        "污水处理厂,服务人口(万人),区域\r\n"
        "城东污水处理厂,25,城东区\r\n"
        "城西污水处理厂,12.5,城西区\r\n"
    )
    (HERE / "sites_cn_gbk.csv").write_bytes(text.encode("gb18030"))


def samples_cn_xlsx() -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "结果"
    ws.append(["2024年3月 城市污水毒品监测结果"])
    ws.append(["污水厂", "采样日期", "检测物质", "浓度", "单位", "备注"])
    ws.append(["城东污水处理厂", dt.datetime(2024, 3, 5), "甲基苯丙胺", 152.3, "ng/L", None])
    ws.append(["城东污水处理厂", dt.datetime(2024, 3, 5), "氯胺酮", "<LOQ", "ng/L", None])
    ws.append(["城东污水处理厂", 45357, "甲基苯丙胺", 0.141, "µg/L", "序列号日期"])
    ws.append([None, None, None, None, None, None])
    ws.append(["城西污水处理厂", "2024年3月7日", "氯胺酮", "未检出", "ng/L", None])
    ws.append(["城西污水处理厂", "2024年3月7日", "methamphetamine", "1,250", "ng/L", None])
    book.save(HERE / "samples_cn.xlsx")


def samples_wide_xlsx() -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["污水厂", "日期", "甲基苯丙胺(ng/L)", "氯胺酮(ng/L)", "amphetamine (µg/L)"])
    ws.append(["城东污水处理厂", dt.datetime(2024, 3, 5), 152.3, "<LOQ", 0.012])
    ws.append(["城西污水处理厂", dt.datetime(2024, 3, 5), "n.d.", 8.4, None])
    ws.append(["城西污水处理厂", dt.datetime(2024, 3, 6), None, None, None])
    ws.append(["城西污水处理厂", dt.datetime(2024, 3, 7), "abc", 9.1, None])
    book.save(HERE / "samples_wide.xlsx")


def flows_cn_xlsx() -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "说明"
    ws.append(["流量数据见下一页"])
    ws2 = book.create_sheet("流量")
    ws2.append(["污水厂", "日期", "日处理量(万吨/天)"])
    ws2.append(["城东污水处理厂", dt.datetime(2024, 3, 5), 5.2])
    ws2.append(["城东污水处理厂", dt.datetime(2024, 3, 6), 5.4])
    ws2.append(["城西污水处理厂", dt.datetime(2024, 3, 5), 2.1])
    book.save(HERE / "flows_cn.xlsx")


if __name__ == "__main__":
    sites_gbk()
    samples_cn_xlsx()
    samples_wide_xlsx()
    flows_cn_xlsx()
