"""End to end: identifiers typed into wrong columns never reach what ``wbe lab`` writes or
prints (issue 14, item 1). The input is the Chinese hair fixture plus rows where an
invented ID-card number or name was typed as the analyte, the value, the date and the
group."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from wbe.cli import main

DATA = Path(__file__).parents[1] / "data" / "lab"
#: Made with secrets.token_hex(32) for this test (public, so not a secret).
KEY = "24828c470316020ba88324d185cc3d365524e8c73e5e7b745c9b9ffa0f58a3c3"

SLIPS = {"检测物质": "110105194912310021", "结果": "11010519491231002X",
         "采样日期": "110105491231002", "人员类别": "王五"}


def test_wbe_lab_writes_and_prints_no_identifier(tmp_path, monkeypatch, capsys):
    table = pd.read_csv(DATA / "long_hair_cn.csv", dtype=str, encoding="utf-8-sig")
    raw = set(table["身份证号"].dropna()) | set(table["姓名"].dropna()) | set(SLIPS.values())
    template = table.iloc[0].to_dict()
    extra = []
    for i, (col, cell) in enumerate(SLIPS.items()):
        extra.append(dict(template, 样品编号=f"X{i}", **{col: cell}))
    path = tmp_path / "hair.csv"
    pd.concat([table, pd.DataFrame(extra)], ignore_index=True).to_csv(
        path, index=False, encoding="utf-8")
    monkeypatch.setenv("WBE_TEST_KEY", KEY)
    out = tmp_path / "out"
    main(["lab", str(path), "--key-env", "WBE_TEST_KEY", "--out", str(out)])
    printed = capsys.readouterr()
    rejects = pd.read_csv(out / "lab_rejects.csv", dtype=str)
    first_extra = len(table) + 2
    assert set(range(first_extra, first_extra + len(SLIPS))) <= set(rejects["source_row"]
                                                                    .astype(int))
    text = "".join(p.read_text(encoding="utf-8") for p in out.iterdir())
    text += printed.out + printed.err
    assert sorted(s for s in raw if s in text) == []


def test_run_pipeline_redacts_caller_built_lab_rejects(tmp_path):
    """A lab_rejects table not made by the reader still loses its ID-card numbers."""
    from wbe.config import Config
    from wbe.datasets import simulate
    from wbe.publish import run_pipeline

    city = simulate(seed=3, n_sites=1, days=40, biomarkers=("methamphetamine",))
    id_number = "11010519491231002X"
    rejects = pd.DataFrame({"source_row": [7], "subject": [id_number],
                            "reason": [f"bad value for {id_number}"]})
    config = Config(seed=3, draws=20, created_at="2025-01-01T00:00:00Z")
    run_pipeline(sites=city.sites, samples=city.samples, flows=city.flows, config=config,
                 out_dir=tmp_path / "pub", lab_rejects=rejects, quiet=True)
    written = (tmp_path / "pub" / "lab_rejects.csv").read_text(encoding="utf-8")
    assert id_number not in written
    assert written.count("<redacted>") == 2 and "source_row" in written
