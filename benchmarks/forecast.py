"""Demand trees from forecasts (issue 23): seconds to build trees with procure.forecast.

    python benchmarks/forecast.py [--paths 4096] [--periods 5] [--branching 3] [--repeat 5]

``tree_from_paths``: ``--paths`` simulated demand paths over ``--periods`` years (a two-regime
mixture: each path grows 1.3× or 2.2× a year, ±15% lognormal noise; seed 0) grouped into a tree
of ``--branching`` children a year, the returned problem validated; the target is well under 2 s
for 4,096 paths over 5 periods.  Also, for scale: ``growth_tree`` with the same branching over
the same periods ("3× to 8× by the last year"), and ``reduce_tree`` of that tree to a third of
its paths.  Every measurement is the fastest of ``--repeat`` runs, in seconds (wall clock, one
process); the 1-minute load average is printed too (above the machine's cores, the numbers are
high).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from procure.stochastic.forecast import growth_tree, reduce_tree, tree_from_paths


def problem(periods: list[int]) -> dict[str, Any]:
    """Two chips of two vendors; demand 1,000 in the first year (the tree replaces the rest)."""
    return {
        "periods": periods,
        "demand": 1000.0,
        "offers": [
            {"name": "tpu", "vendor": "google", "unit_cost": 30000.0, "compute": 2.3, "power_kw": 1.1},
            {"name": "gb300", "vendor": "nvidia", "unit_cost": 42000.0, "compute": 2.5, "power_kw": 1.7},
        ],
    }


def simulated(n: int, periods: list[int], seed: int = 0) -> pd.DataFrame:
    """``n`` paths: a regime per path (1.3× or 2.2× a year), lognormal noise of 15% a year."""
    rng = np.random.default_rng(seed)
    rate = np.where(rng.random(n) < 0.5, np.log(1.3), np.log(2.2))
    steps = rate[:, None] + rng.normal(0.0, 0.15, (n, len(periods) - 1))
    growth = np.exp(np.c_[np.zeros(n), np.cumsum(steps, axis=1)])
    return pd.DataFrame(1000.0 * growth, columns=periods)


def fastest(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The least wall-clock seconds of ``repeat`` runs, and the last run's value."""
    best, value = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        value = run()
        best = min(best, time.perf_counter() - start)
    return best, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paths", type=int, default=4096)
    parser.add_argument("--periods", type=int, default=5)
    parser.add_argument("--branching", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    periods = list(range(2026, 2026 + args.periods))
    base = problem(periods)
    paths = simulated(args.paths, periods)

    seconds, tree = fastest(lambda: tree_from_paths(base, paths, branching=args.branching), args.repeat)
    print(
        f"tree_from_paths: {args.paths:,} paths x {args.periods} periods, branching {args.branching}: "
        f"{seconds:.3f} s ({len(tree.demand_scenarios):,} leaves)"
    )
    seconds, grown = fastest(lambda: growth_tree(base, total=(3.0, 5.0, 8.0), branching=args.branching), args.repeat)
    print(
        f"growth_tree: {args.periods} periods, branching {args.branching}: "
        f"{seconds:.3f} s ({len(grown.demand_scenarios):,} paths)"
    )
    keep = max(1, len(grown.demand_scenarios) // 3)
    seconds, reduced = fastest(lambda: reduce_tree(grown, keep), args.repeat)
    print(
        f"reduce_tree: {len(grown.demand_scenarios):,} to {keep:,} paths: {seconds:.3f} s "
        f"(relative distance {reduced.relative:.3f})"
    )
    print(f"load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
