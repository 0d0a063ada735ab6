"""Benchmark: vectorised Monte Carlo outlook vs a plain-Python loop, in the same run.

10,000 draws x 12 leagues x 2023-2060 (the 2025-2060 outlook plus the base years) of
the Inner Mongolia baseline scenario split into its 12 leagues by 2023 GDP. The loop
reference (``project_region_loop``: one draw and year at a time) is timed on a subset
of draws and scaled linearly to 10,000; the two must give the same paths on that
subset.

    PYTHONPATH=src python benchmarks/bench_outlook.py [--draws 10000] [--subset 200]
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path

import numpy as np
import yaml

from dualcontrol.outlook import PATHS, project, run, scenario_from_mapping

ROOT = Path(__file__).resolve().parents[1]

#: 2023 GDP by league [亿元]: m.163.com/news/article/JJ38NFFT05563SPX.html [S];
#: Wuhai and Hinggan (cut off in the source) about 700 each and Alxa about 420 [M].
#: Only the split matters here; the benchmark measures speed, not levels.
LEAGUE_GDP_2023 = {
    "Ordos": 5849.86, "Baotou": 4263.90, "Hohhot": 3801.55, "Chifeng": 2197.50,
    "Tongliao": 1609.00, "Hulunbuir": 1595.57, "Xilingol": 1184.78, "Bayannur": 1161.10,
    "Ulanqab": 1084.60, "Wuhai": 700.0, "Hinggan": 700.0, "Alxa": 420.0,
}


def league_scenario() -> dict:
    """Return the baseline scenario mapping split into 12 leagues by GDP share."""
    raw = yaml.safe_load((ROOT / "examples/scenarios/inner_mongolia_baseline.yaml")
                         .read_text(encoding="utf-8"))
    region = raw["regions"][0]
    total = sum(LEAGUE_GDP_2023.values())
    leagues = []
    for name, gdp in LEAGUE_GDP_2023.items():
        league = copy.deepcopy(region)
        share = gdp / total
        league["name"] = name
        league["gdp_base_10k_yuan"] = region["gdp_base_10k_yuan"] * share
        energy = dict(region["energy_base_tce"])
        for key in ("value", "low", "high"):
            energy[key] = energy[key] * share
        league["energy_base_tce"] = energy
        leagues.append(league)
    raw["regions"] = leagues
    raw["name"] = "Inner Mongolia baseline, 12 leagues"
    return raw


def timed(func, repeat: int = 1):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--subset", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    scenario = scenario_from_mapping(league_scenario())
    n_years = len(scenario.years)
    print(f"scenario: {scenario.name}; {len(scenario.regions)} leagues, "
          f"{scenario.base_year}-{scenario.end_year} ({n_years} years)")

    # same draws through both engines on the subset: results must match
    t_vec_sub, vec = timed(lambda: project(scenario, n=args.subset,
                                           rng=np.random.default_rng(args.seed)), 3)
    t_loop_sub, loop = timed(lambda: project(scenario, n=args.subset,
                                             rng=np.random.default_rng(args.seed),
                                             loop=True))
    worst = max(float(np.max(np.abs(vec[r][k] - loop[r][k])
                             / np.maximum(np.abs(loop[r][k]), 1e-300)))
                for r in vec for k in PATHS)
    assert worst < 1e-12, f"vectorised and loop differ: max relative {worst:.3g}"
    print(f"subset {args.subset} draws: vectorised {t_vec_sub * 1e3:.1f} ms, "
          f"loop {t_loop_sub * 1e3:.1f} ms; max relative difference {worst:.2e}")

    t_full, out = timed(lambda: run(scenario, draws=args.draws, seed=args.seed))
    loop_scaled = t_loop_sub * args.draws / args.subset
    cells = args.draws * len(scenario.regions) * n_years
    print(f"vectorised full run: {args.draws} draws x {len(scenario.regions)} leagues x "
          f"{n_years} years = {cells:,} cells in {t_full:.2f} s "
          f"(incl. drawing, peaks, central path)")
    print(f"plain loop, scaled from {args.subset} to {args.draws} draws: "
          f"{loop_scaled:.1f} s (projection only)")
    print(f"ratio loop / vectorised: {loop_scaled / t_full:.0f}x")
    co2 = out.peaks["total"]["co2"][out.peaks["total"]["co2_peaked"]]
    print(f"total CO2 peak year: median {np.median(co2):.0f}, 5-95 % "
          f"{np.percentile(co2, 5):.0f}-{np.percentile(co2, 95):.0f}")


if __name__ == "__main__":
    main()
