"""Real published data loaders against the raw files read by an independent path.

The expected figures are computed here from the packaged raw files with the ``csv`` and
``json`` modules (no pandas, no loader code), and a few are pinned as literal numbers read
from the raw files (Statistics Canada Table 13-10-0871-01, doi:10.25318/1310087101-eng;
EUDA/EMCDDA European wastewater study, CC BY 4.0).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from wbe.datasets import load_biomarkers, load_euda_weekday_loads, load_statcan_monthly_loads

REAL = Path(__file__).parents[2] / "datasets" / "data" / "real"
STATCAN = REAL / "statcan_13-10-0871-01_drug_metabolites_wastewater_monthly.csv"
EUDA = REAL / "euda_municipal_wastewater_2011-2021_by_weekday.json"
SHARED = Path(os.environ.get("WBE_SHARED_DATA", Path(__file__).parents[3] / "shared"))


def _statcan_rows():
    with open(STATCAN, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _euda_measurements():
    with open(EUDA, encoding="utf-8") as fh:
        doc = json.load(fh)
    for country in doc["countries"]:
        for city in country["cities"] or []:
            for plant in city["locations"]:
                for m in plant["measurements"] or []:
                    yield plant, m


@pytest.mark.parametrize("name", [STATCAN.name, EUDA.name])
def test_packaged_copy_is_byte_identical_to_shared(name):
    src = SHARED / "data" / "real" / name
    if not src.exists():
        pytest.skip(f"shared data not found at {src} (set WBE_SHARED_DATA)")
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (src, REAL / name)]
    assert digest[0] == digest[1]


def test_statcan_shape_and_names():
    can = load_statcan_monthly_loads()
    assert can["city"].nunique() == 7
    assert set(can["biomarker"]) <= set(load_biomarkers()["biomarker"]) | {"norfentanyl",
                                                                        "oxycodone"}
    row = can[can.biomarker == "benzoylecgonine"]
    assert set(row["drug"]) == {"cocaine"}
    # 6600 raw rows = 5 characteristics per (geo, month, substance); 8 geos with the average
    assert len(load_statcan_monthly_loads(include_average=True)) == 6600 // 5
    assert not can.duplicated(["city", "month", "biomarker"]).any()


def test_statcan_values_match_raw_csv():
    rows = _statcan_rows()
    sel = [r for r in rows if r["GEO"] == "Toronto, Ontario" and r["Measure"] == "Methamphetamine"
           and r["Characteristics"].startswith("Load per capita")
           and r["REF_DATE"].startswith("2022")]
    raw_mean = sum(float(r["VALUE"]) for r in sel) / len(sel)
    assert len(sel) == 12
    can = load_statcan_monthly_loads()
    got = can[(can.city == "Toronto, Ontario") & (can.biomarker == "methamphetamine")
              & (can.month.dt.year == 2022)]
    assert got["load_mg_per_day_per_1000"].mean() == pytest.approx(raw_mean, rel=1e-12)
    # pinned literal from the raw file: Weighted average, amphetamine, 2022-01
    avg = load_statcan_monthly_loads(include_average=True)
    first = avg[(avg.city == "Weighted average, cities measured")
                & (avg.biomarker == "amphetamine") & (avg.month == "2022-01")].iloc[0]
    assert (first.load_mg_per_day_per_1000, first.ci_low_mg_per_day_per_1000,
            first.ci_high_mg_per_day_per_1000, first.se_mg_per_day_per_1000,
            first.imputation_rate_percent) == (122.18, 88.78, 155.56, 12.60, 4.76)


def test_statcan_caution_flags_match_raw_status():
    rows = _statcan_rows()
    flagged = {(r["GEO"], r["REF_DATE"], r["Measure"]) for r in rows if r["STATUS"] == "E"}
    can = load_statcan_monthly_loads(include_average=True)
    got = {(c, str(m), s) for c, m, s in can.loc[can.use_with_caution,
                                                 ["city", "month", "substance"]].to_numpy()}
    assert got == flagged and len(got) > 0


def test_euda_values_match_raw_json():
    ms = list(_euda_measurements())
    eu = load_euda_weekday_loads()
    assert len(eu) == len(ms) == 17758
    assert eu["plant_id"].nunique() == 144
    # independent: mean cocaine (benzoylecgonine) load per year over all plants
    for year in (2011, 2021):
        raw = [m["value"] for _, m in ms if m["metabolite"]["name"] == "cocaine"
               and m["year"] == year]
        got = eu[(eu.biomarker == "benzoylecgonine") & (eu.year == year)]
        assert len(got) == len(raw)
        assert got["load_mg_per_day_per_1000"].mean() == pytest.approx(np.mean(raw), rel=1e-12)
    # pinned literal from the raw file: ARA Graz, 2021, Wednesday, amphetamine = 47.15
    graz = eu[(eu.plant_id == "AT001") & (eu.year == 2021) & (eu.day_of_week == "Wednesday")
              & (eu.biomarker == "amphetamine")]
    assert graz["load_mg_per_day_per_1000"].tolist() == [47.15]
    assert graz["population"].tolist() == [487040]
    assert set(eu.loc[eu.substance == "cannabis", "biomarker"]) == {"thc_cooh"}


def test_loaders_return_copies():
    a = load_euda_weekday_loads()
    a["load_mg_per_day_per_1000"] = -1.0
    assert (load_euda_weekday_loads()["load_mg_per_day_per_1000"] >= 0).all()
