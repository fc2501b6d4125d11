"""Time-series models, trends, change points, aberration detection, alerts (``wbe.models``)."""

__all__: list[str] = []
