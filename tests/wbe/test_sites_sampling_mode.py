"""The sites table carries the sampling mode to back_calculate (issue 12 item 3)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from wbe import back_calculate
from wbe.config import Config
from wbe.readers import read_sites


def _sites(mode_a: str, mode_b: str) -> bytes:
    return (f"污水厂,服务人口,采样方式\nA,100000,{mode_a}\nB,100000,{mode_b}\n").encode()


def test_sampling_mode_column_is_read_and_validated_with_a_reason():
    data, rejects = read_sites(io.BytesIO(_sites("Time proportional", "grab")))
    assert data.set_index("site")["sampling_mode"].to_dict() == {
        "A": "time-proportional", "B": "grab"}
    data, rejects = read_sites(io.BytesIO(_sites("flow-proportional", "hourly-ish")))
    assert data["site"].tolist() == ["A"]
    assert rejects["source_row"].tolist() == [3]
    assert "sampling mode" in rejects["reason"].iloc[0]
    assert "grab" in rejects["reason"].iloc[0]  # lists the valid modes


def test_grab_sampling_read_from_a_file_widens_the_interval():
    sites, _ = read_sites(io.BytesIO(_sites("flow-proportional", "grab")))
    samples = pd.DataFrame({
        "site": ["A", "B"], "sampled_on": ["2024-01-01"] * 2,
        "biomarker": ["methamphetamine"] * 2, "concentration_ng_per_l": [100.0] * 2,
        "flow_m3_per_day": [50_000.0] * 2})
    ds = back_calculate(samples, sites, n_draws=4000, seed=1, parameters="default")
    log_sd = np.log(ds["load_mg_per_day"]).std("draw").squeeze()
    # same inputs; only the declared sampling mode differs (CV 0.10 vs 0.60 in the registry)
    assert float(log_sd.sel(site="B")) > 2 * float(log_sd.sel(site="A"))


def test_publication_defaults_are_the_library_defaults():
    cfg = Config(samples=None, sites=None)
    assert (cfg.censoring, cfg.parameter_set) == ("draw", "mixture")
