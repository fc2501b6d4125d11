"""Site-relative level against base R (quantile type 7, ecdf;
tests/models/r_trends/make_baseline_reference.R) and the versioning rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wbe.errors import InputError
from wbe.models.baseline import compute_baseline, site_relative_level

HERE = Path(__file__).parent / "r_trends"
HIST = pd.read_csv(HERE / "baseline_input.csv", parse_dates=["date"])
REF = pd.read_csv(HERE / "baseline_reference.csv", parse_dates=["as_of", "next_date"])
KW = {"value": "value", "series": ["site"]}


@pytest.mark.r_reference
def test_baselines_and_percentiles_against_r():
    b1 = compute_baseline(HIST, "2023-12-31", **KW)
    b2 = compute_baseline(HIST, "2024-06-30", previous=b1, **KW)
    assert list(b2["baseline_version"]) == [1, 1, 2, 2]
    for _, ref in REF.iterrows():
        row = b2[(b2["site"] == ref["site"]) & (b2["as_of"] == ref["as_of"])].iloc[0]
        np.testing.assert_allclose(row["baseline_value"], ref["baseline_p10"], rtol=1e-12)
        assert row["n_values"] == ref["n_values"]
    cur = pd.DataFrame({"site": REF["site"], "date": REF["next_date"], "value": REF["next_value"]})
    out = site_relative_level(cur, b2, HIST, **KW)
    np.testing.assert_allclose(out["history_percentile"], REF["next_percentile"], rtol=1e-12)
    np.testing.assert_allclose(
        out["ratio_to_baseline"], REF["next_value"] / REF["baseline_p10"], rtol=1e-12
    )
    assert list(out["baseline_version"]) == [1, 2, 1, 2]


def test_new_version_is_not_back_applied():
    b1 = compute_baseline(HIST, "2023-12-31", **KW)
    cur = HIST[(HIST["date"] > "2024-01-01") & (HIST["date"] < "2024-03-01")]
    before = site_relative_level(cur, b1, HIST, **KW)
    b2 = compute_baseline(HIST, "2024-06-30", previous=b1, **KW)
    after = site_relative_level(cur, b2, HIST, **KW)
    pd.testing.assert_frame_equal(before, after)
    assert set(after["baseline_version"]) == {1}
    early = site_relative_level(HIST[HIST["date"] < "2023-06-01"], b2, HIST, **KW)
    assert early["baseline_version"].isna().all()
    assert len(early) == (HIST["date"] < "2023-06-01").sum()  # kept, not dropped


def test_bad_input():
    b1 = compute_baseline(HIST, "2023-12-31", **KW)
    with pytest.raises(InputError, match="later day"):
        compute_baseline(HIST, "2023-12-31", previous=b1, **KW)
    with pytest.raises(InputError, match="at least"):
        compute_baseline(HIST, "2023-01-05", **KW)
    bad = HIST.copy()
    bad.loc[bad.index[3], "value"] = -1.0
    with pytest.raises(InputError, match="row 5"):
        compute_baseline(bad, "2023-12-31", **KW)
    text = HIST.astype({"value": object})
    text.loc[text.index[6], "value"] = "n.d."  # not silently taken as a missing value
    with pytest.raises(InputError, match="row 8"):
        compute_baseline(text, "2023-12-31", **KW)
