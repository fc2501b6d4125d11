"""Time-series models, trends, change points, aberration detection, alerts (``wbe.models``)."""

__all__: list[str] = []

# aberration detection and alert records (models/aberration.py, cusum.py, alerts.py)
from wbe.models.aberration import EARS_METHODS, FARRINGTON_THRESHOLD_METHODS, ears, farrington
from wbe.models.alerts import (
    ALERT_COLUMNS,
    ALERT_DEFAULT,
    ALERT_METHODS,
    ALERT_SCHEMA_VERSION,
    alert_id,
    alert_schema,
    alerts,
    alerts_to_csv,
    alerts_to_json,
    severity,
)

# state-space smoother, trends, change points, baseline, forecast, triangulation
from wbe.models.baseline import compute_baseline, history_percentile, site_relative_level
from wbe.models.changepoints import detect_changepoints
from wbe.models.cusum import cusum, cusum_arl, cusum_threshold, ewma, ewma_arl, ewma_threshold
from wbe.models.forecast import forecast, forecast_paths, monthly_forecast
from wbe.models.smoother import (
    StateSpaceModel,
    fit_smoother,
    kalman_smoother,
    simulation_smoother,
    smooth_log_consumption,
)
from wbe.models.trends import (
    akritas_theil_sen_slope,
    annual_percent_change,
    censored_mann_kendall,
    mann_kendall,
    percent_change_window,
    seasonal_mann_kendall,
    trend_class,
)
from wbe.models.triangulate import triangulate

__all__ += [
    "ALERT_COLUMNS",
    "ALERT_DEFAULT",
    "ALERT_METHODS",
    "ALERT_SCHEMA_VERSION",
    "EARS_METHODS",
    "FARRINGTON_THRESHOLD_METHODS",
    "alert_id",
    "alert_schema",
    "alerts",
    "alerts_to_csv",
    "alerts_to_json",
    "cusum",
    "cusum_arl",
    "cusum_threshold",
    "ears",
    "ewma",
    "ewma_arl",
    "ewma_threshold",
    "farrington",
    "severity",
]

__all__ += [
    "StateSpaceModel",
    "akritas_theil_sen_slope",
    "annual_percent_change",
    "censored_mann_kendall",
    "compute_baseline",
    "detect_changepoints",
    "fit_smoother",
    "forecast",
    "forecast_paths",
    "history_percentile",
    "kalman_smoother",
    "mann_kendall",
    "monthly_forecast",
    "percent_change_window",
    "seasonal_mann_kendall",
    "simulation_smoother",
    "site_relative_level",
    "smooth_log_consumption",
    "trend_class",
    "triangulate",
]
