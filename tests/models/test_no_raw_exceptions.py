"""Model entry points raise wbe errors (InputError for bad input, ModelError for a numerical
failure naming the series and time point), never raw numpy/scipy/ruptures exceptions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wbe import models
from wbe.errors import InputError, ModelError, WBEError

Y = np.exp(np.random.default_rng(1).normal(0, 0.3, 40))
BAD_CALLS = {
    "changepoints jump 0": lambda: models.detect_changepoints(Y, jump=0),
    "changepoints negative penalty": lambda: models.detect_changepoints(Y, penalty=-1),
    "mann_kendall level -1": lambda: models.mann_kendall(Y, level=-1.0),
    "seasonal level 1": lambda: models.seasonal_mann_kendall(Y, np.arange(40) % 4, level=1.0),
    "annual percent change level": lambda: models.annual_percent_change(
        Y, np.arange(40), level=1.5),
    "ewma threshold below minimum": lambda: models.ewma_threshold(1.0001),
    "cusum_arl text": lambda: models.cusum_arl("a", 4.0),
    "cusum h and arl0": lambda: models.cusum(Y, h=4, arl0=100),
    "weekday codes": lambda: models.cusum(Y, weekday=np.full(40, 9)),
    "alerts weekday_adjust with ears": lambda: models.alerts(
        pd.DataFrame({"site": "A", "biomarker": "x", "date": pd.date_range("2024", periods=40),
                      "value": Y}), "ears", weekday_adjust=True),
}


@pytest.mark.parametrize("call", BAD_CALLS.values(), ids=BAD_CALLS.keys())
def test_bad_arguments_raise_input_error(call):
    with pytest.raises(InputError):
        call()


def test_farrington_numerical_failure_names_the_time_point(monkeypatch):
    from wbe.models import aberration

    def broken(*args, **kwargs):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(aberration, "_glm_fit", broken)
    y = np.random.default_rng(2).poisson(5, 6 * 52).astype(float)
    with pytest.raises(ModelError, match="time point 312"):
        models.farrington(y, r_range=[312])


def test_alerts_wrap_detector_failures_naming_the_series(monkeypatch):
    import importlib

    alerts_module = importlib.import_module("wbe.models.alerts")

    def broken(values, **kwargs):
        raise FloatingPointError("overflow")

    monkeypatch.setitem(alerts_module.ALERT_METHODS, "ears", broken)
    t = pd.DataFrame({"site": "WWTP9", "biomarker": "ketamine",
                      "date": pd.date_range("2024", periods=10), "value": 1.0})
    with pytest.raises(ModelError, match=r"WWTP9.*ketamine"):
        models.alerts(t, "ears")
    assert issubclass(ModelError, WBEError)
