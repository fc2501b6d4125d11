"""Alert records: ``created_at`` and JSON output refuse bad values with an InputError."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from wbe.errors import InputError
from wbe.models import alerts, alerts_to_json

SERIES = pd.DataFrame({"site": "WWTP01", "biomarker": "methamphetamine",
                       "date": pd.date_range("2024-05-01", periods=10),
                       "value": [10, 12, 11, 9, 10, 13, 11, 30, 31, 11]})


@pytest.mark.parametrize("created_at", ["yesterday", "now", "today", "", "01/02/2024",
                                        "2024-13-01", "NaT", 3.5])
def test_created_at_must_be_an_iso_time(created_at):
    with pytest.raises(InputError, match="created_at must be an ISO 8601 time") as info:
        alerts(SERIES, "ears", created_at=created_at)
    assert info.value.column == "created_at"


@pytest.mark.parametrize(("created_at", "expected"), [
    ("2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z"),
    ("2025-01-01T08:00:00+08:00", "2025-01-01T00:00:00Z"),
    ("2025-01-01", "2025-01-01T00:00:00Z"),
    (pd.Timestamp("2025-01-01 12:30", tz="UTC"), "2025-01-01T12:30:00Z"),
])
def test_created_at_iso_times_normalised_to_utc(created_at, expected):
    out = alerts(SERIES, "ears", created_at=created_at)
    assert len(out) and set(out["created_at"]) == {expected}


@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_json_refuses_infinite_values_naming_the_field(value):
    records = alerts(SERIES, "ears", created_at="2025-01-01T00:00:00Z")
    records.loc[1, "upper_bound"] = value
    with pytest.raises(InputError, match="infinite upper_bound") as info:
        alerts_to_json(records)
    assert info.value.column == "upper_bound"
    assert info.value.row == 3  # second record; header is row 1
    assert records.loc[1, "alert_id"] in str(info.value)


def test_json_nan_is_null():
    records = alerts(SERIES, "ears", created_at="2025-01-01T00:00:00Z")
    records.loc[0, "p_value"] = np.nan
    assert json.loads(alerts_to_json(records))[0]["p_value"] is None
