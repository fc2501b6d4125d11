"""Write the input series used by make_trend_reference.R (run once; output committed)."""

import numpy as np
import pandas as pd

rng = np.random.default_rng(20261123)
rows = []
for sid in range(4):
    n = 48
    t = np.arange(n) * 30.0 + rng.integers(0, 5, n)  # roughly monthly [day]
    month = (np.arange(n) % 12) + 1
    y = np.exp(3 + 0.0004 * sid * t + 0.3 * np.sin(2 * np.pi * month / 12) + rng.normal(0, 0.3, n))
    y = np.round(y, 1)  # rounding creates ties
    if sid == 3:
        y[::7] = y[3]  # a larger tie group
    for ti, mi, yi in zip(t, month, y, strict=True):
        rows.append({"series": sid, "t_day": ti, "month": mi, "value": yi})
pd.DataFrame(rows).to_csv("trend_input.csv", index=False)

# censored series: two LOQs (0.5 before day 300, 1.0 after), values below them censored
rows = []
for sid in range(3):
    t = np.arange(60) * 10.0
    y = np.round(np.exp(-0.5 + 0.002 * sid * t + rng.normal(0, 0.6, 60)), 2)
    loq = np.where(t < 300, 0.5, 1.0)
    cens = y < loq
    for ti, yi, ci, li in zip(t, y, cens, loq, strict=True):
        rows.append({"series": sid, "t_day": ti, "value": li if ci else yi, "censored": int(ci)})
pd.DataFrame(rows).to_csv("censored_input.csv", index=False)
