"""Write the simulated wastewater series used as R input (run once; output committed).

A daily methamphetamine influent concentration series [ng/L] of one site from
:func:`wbe.datasets.simulate` (seed 20241, 400 days, one outbreak of factor 2.5 for 10 days
from 2024-11-01). Censored days (none expected for methamphetamine) would be written as NA.

Usage: ``.venv/bin/python tests/models/r/make_wastewater_series.py``
"""

from pathlib import Path

from wbe.datasets._simulate import simulate

HERE = Path(__file__).parent


def main() -> None:
    city = simulate(
        seed=20241, n_sites=1, days=400, biomarkers=("methamphetamine",), lab=False,
        outbreaks=[{"drug": "methamphetamine", "start": "2024-11-01", "days": 10, "factor": 2.5}],
    )
    s = city.samples[["sampled_on", "concentration_ng_per_l"]].copy()
    s["concentration_ng_per_l"] = s["concentration_ng_per_l"].round(3)
    s.to_csv(HERE / "wastewater_series.csv", index=False)


if __name__ == "__main__":
    main()
