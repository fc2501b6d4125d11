"""Write baseline_input.csv for make_baseline_reference.R (run once; output committed)."""

import numpy as np
import pandas as pd

rng = np.random.default_rng(11)
days = pd.date_range("2023-01-01", "2024-12-31", freq="D")
rows = []
for site in ("S1", "S2"):
    keep = rng.random(days.size) < 0.3  # about two samples a week
    v = np.round(np.exp(3 + rng.normal(0, 0.4, days.size)), 2)
    rows.append(pd.DataFrame({"site": site, "date": days[keep], "value": v[keep]}))
pd.concat(rows).to_csv("baseline_input.csv", index=False)
