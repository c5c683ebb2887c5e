"""Concentration (HHI) against the same problem without it, in one run, one thread.

For each problem: the solve time with ``risk.max_hhi`` or ``risk.hhi_weight`` over the
solve time of the same problem without them (`procure.solve`, ``solver="highs"`` unless ``--solver``,
``threads=1``, the minimum of ``--repeat`` runs); and the starter's 10-point ``hhi``
frontier over its ``max_share`` frontier.  Problems: the ``procure init`` starter at
several caps (one below the least HHI any plan has: infeasible, its diagnosis included)
and prices, and small problems of `generate.FAMILIES` with a cap at 90% of their
unconstrained plan's largest HHI and a price worth about 5% of their cost.

    python benchmarks/concentration.py                 # writes benchmarks/results-concentration.json
    python benchmarks/concentration.py --seeds 0 --no-frontier
    python benchmarks/concentration.py --gap 1e-3 --out benchmarks/results-concentration-gap1e-3.json

``--gap`` sets the relative gap of every solve, with and without concentration alike (default
1e-4, `procure.solve`'s own); ``--solver`` the engine of every solve (default ``"highs"``; for
example ``pyomo:gurobi``, which states HHI exactly).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

import procure
from procure.problem.table_input import write_starter

sys.path.insert(0, str(Path(__file__).parent))
from generate import generate

HERE = Path(__file__).parent
TARGET = 3.0
STARTER_RISKS: tuple[dict[str, float], ...] = (
    {"max_hhi": 0.45},
    {"max_hhi": 0.40},
    {"max_hhi": 0.34},
    {"max_hhi": 0.30},
    {"hhi_weight": 1e9},
    {"hhi_weight": 1e10},
)
FAMILIES = ("base", "similar-offers", "tight-power")


#: seconds each solve may take (``--time-limit``): a solve that is stopped counts as this long
LIMIT: float | None = None
#: the relative gap of every solve (``--gap``)
GAP = 1e-4
#: the engine of every solve (``--solver``)
SOLVER = "highs"


def timed(problem: Any, repeat: int) -> tuple[float, procure.Result]:
    """Least wall-clock seconds of ``repeat`` solves, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = procure.solve(problem, solver=SOLVER, threads=1, time_limit=LIMIT, mip_gap=GAP)
        best = min(best, time.perf_counter() - t)
    assert result is not None
    return best, result


def row(name: str, risk: dict[str, float], base: float, seconds: float, result: procure.Result) -> dict[str, Any]:
    hhi = result.hhi.max() if result.has_plan else float("nan")
    return {
        "problem": name,
        "risk": risk,
        "seconds_without": round(base, 3),
        "seconds": round(seconds, 3),
        "ratio": round(seconds / base, 2),
        "status": result.status,
        "gap": None if np.isnan(result.gap) else float(result.gap),
        "max_hhi_of_plan": None if np.isnan(hhi) else float(hhi),
        "check": result.check() if result.has_plan else [],
    }


def starter(repeat: int) -> tuple[procure.Problem, list[dict[str, Any]]]:
    folder = Path(tempfile.mkdtemp()) / "starter"
    write_starter(str(folder))
    problem = procure.Problem.from_file(folder / "problem.toml")
    timed(problem, 1)  # warm-up: imports and HiGHS's first instance
    base, _ = timed(problem, repeat)
    rows = []
    for risk in STARTER_RISKS:
        seconds, result = timed(replace(problem, risk=replace(problem.risk, **risk)), repeat)
        rows.append(row("starter", risk, base, seconds, result))
    return problem, rows


def generated(seeds: list[int], repeat: int) -> list[dict[str, Any]]:
    rows = []
    for family in FAMILIES:
        for seed in seeds:
            problem = procure.Problem.from_dict(generate(4, 4, 5, seed=seed, scenarios=0, family=family))
            base, free = timed(problem, repeat)
            if not free.has_plan:
                continue
            cap = round(0.9 * float(np.nanmax(free.hhi)), 4)
            weight = 0.05 * free.cost / float(np.nansum(free.evaluation.discount * free.hhi))
            for risk in ({"max_hhi": cap}, {"hhi_weight": float(f"{weight:.3g}")}):
                seconds, result = timed(replace(problem, risk=replace(problem.risk, **risk)), repeat)
                rows.append(row(f"{family} seed {seed}", risk, base, seconds, result))
    return rows


def frontiers(problem: procure.Problem) -> dict[str, Any]:
    seconds = {}
    for measure in ("max_share", "hhi"):
        t = time.perf_counter()
        f = procure.frontier(
            problem, measure=measure, points=10, solver=SOLVER, threads=1, time_limit=LIMIT, mip_gap=GAP
        )
        seconds[measure] = time.perf_counter() - t
        statuses = sorted(set(f.table["status"]))
        seconds[f"{measure}_statuses"] = statuses  # type: ignore[assignment]
    return {
        "problem": "starter frontier (10 points)",
        "seconds_max_share": round(seconds["max_share"], 3),
        "seconds_hhi": round(seconds["hhi"], 3),
        "ratio": round(seconds["hhi"] / seconds["max_share"], 2),
        "statuses": {"max_share": seconds["max_share_statuses"], "hhi": seconds["hhi_statuses"]},
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--no-frontier", action="store_true")
    ap.add_argument("--time-limit", type=float, default=300.0, help="seconds per solve (default 300)")
    ap.add_argument("--gap", type=float, default=1e-4, help="relative gap of every solve (default 1e-4)")
    ap.add_argument("--solver", default="highs", help='engine of every solve (default "highs")')
    ap.add_argument("--out", default=str(HERE / "results-concentration.json"))
    args = ap.parse_args(argv)
    global LIMIT, GAP, SOLVER
    LIMIT, GAP, SOLVER = args.time_limit, args.gap, args.solver
    problem, rows = starter(args.repeat)
    rows += generated(args.seeds, args.repeat)
    front = None if args.no_frontier else frontiers(problem)
    print(f"{'problem':<22} {'risk':<26} {'without':>8} {'with':>8} {'ratio':>6}  status")
    for r in rows:
        risk = ", ".join(f"{k}={v:g}" for k, v in r["risk"].items())
        miss = "" if r["ratio"] <= TARGET else f"  (above {TARGET:g}x)"
        times = f"{r['seconds_without']:>7.2f}s {r['seconds']:>7.2f}s {r['ratio']:>5.1f}x"
        print(f"{r['problem']:<22} {risk:<26} {times}  {r['status']}{miss}")
    if front is not None:
        print(
            f"{front['problem']}: max_share {front['seconds_max_share']:.2f}s, hhi {front['seconds_hhi']:.2f}s, "
            f"ratio {front['ratio']:.1f}x"
        )
    out = {
        "threads": 1,
        "solver": SOLVER,
        "time_limit": LIMIT,
        "mip_gap": GAP,
        "target_ratio": TARGET,
        "rows": rows,
        "frontier": front,
    }
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
