"""Demand trees (issue 12): extensive-form size and solve time as the tree grows.

    python benchmarks/tree.py [--sizes 3,9,27,81,243] [--time-limit 120] [--out benchmarks/results-tree.json]

The problem is the gigawatt example over six years (2026–2031; its vendor share caps, without
the rules stated as shares of demand, which the fast paths cannot meet) with facility power built
($15B/GW, 0.1 GW blocks, two-year lead) and unserved demand paid at $40k per PFLOP/s-year;
demand starts at 1.4M PFLOP/s and grows slow/mid/fast (×1.32/1.50/1.68 a year, probabilities
0.3/0.5/0.2) in each of the first ``L`` years after 2026, so a tree of 3^L paths (3, 9, 27,
81, 243 for L = 1..5).  For each size, every method runs on one HiGHS thread with gap 1e-3
and the same time limit:

- ``procure``: `procure.solve` with its default engine (``auto``) on its extensive form, built by
  merging columns of per-path models; ``procure-highs``: the same through HiGHS alone;
- ``mpisppy-ef``: the same paths as Pyomo models (`procure.to_mpisppy`) solved as mpi-sppy's
  extensive form with HiGHS (the Pyomo route a modeller would take), when mpi-sppy is installed;
- ``mpisppy-ph``: progressive hedging in one process (`solver="mpisppy:ph"`), where asked
  (``--ph-from``: the smallest size that runs PH; default 27);
- ``mpisppy-ph-mpiN``: progressive hedging on N MPI ranks (a hub and its spokes, through
  ``mpiexec -n N python -m mpi4py -m procure.mpisppy``), from ``--ph-from`` too.

Each row records the model size (columns, integer columns, rows, nonzeros), seconds, status,
the objective recomputed from the plan and the proved bound, and every method's gap against
procure's bound.  Nothing is averaged: one run per size and method (``--repeat`` for more).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import procure

ITERATIONS = re.compile(r"(\d+) iteration")
ROOT = Path(__file__).resolve().parent.parent
PERIODS = list(range(2026, 2032))


def _example() -> Any:
    """examples/uncertain_growth.py, whose demand paths (growth rates and probabilities) these are."""
    spec = importlib.util.spec_from_file_location("uncertain_growth", ROOT / "examples" / "uncertain_growth.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tree_problem(levels: int) -> dict[str, Any]:
    """The gigawatt buyer over 2026–2031 with 3^levels demand paths."""
    problem = procure.Problem.from_file(ROOT / "examples" / "gigawatt_2026.toml").to_dict()
    problem.pop("demand")
    problem.pop("total_budget", None)
    problem["periods"] = PERIODS
    for key in ("power_cap_gw", "budget"):
        problem.pop(key, None)
    for offer in problem["offers"]:  # per-period fields of the five-year example: the last year's value goes on
        for key in ("unit_cost", "max_units"):
            value = offer.get(key)
            if isinstance(value, dict):
                offer[key] = {**{str(k): v for k, v in value.items()}, "2031": value[max(value)]}
    paths = _example().growth_paths(PERIODS, levels, short_names=True)
    problem["name"] = f"tree-{len(paths)}"
    problem["demand_scenarios"] = paths
    problem["power_cap_gw"] = {"2026": 1.3, "2027": 2.0, **{str(p): 2.6 for p in PERIODS[2:]}}
    problem["power_build"] = {"cost_per_gw": 15e9, "block_gw": 0.1, "lead_time": 2}
    problem["unserved_penalty"] = 40_000.0
    problem["budget"] = 80e9
    # the rules stated as shares of demand (vendor-loss survival, vendor count) cannot hold on the
    # fast paths, whose demand outgrows every offer's supply: unserved demand is the recourse here
    problem["risk"] = {"max_share": 0.5}
    return problem


def _row(method: str, result: procure.Result, seconds: float) -> dict[str, Any]:
    return {
        "method": method,
        "seconds": seconds,
        "status": result.status,
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "model_size": dict(result.model_size),
        "message": result.message[:200],
        "iterations": _iterations(result.message),
    }


def _iterations(message: str) -> int | None:
    """PH's iterations, from its message (None for other methods)."""
    found = ITERATIONS.search(message or "")
    return int(found.group(1)) if found else None


def run_mpi(ranks: int, problem: dict[str, Any], time_limit: float) -> dict[str, Any]:
    """Progressive hedging on ``ranks`` MPI ranks (``mpiexec -n ranks python -m mpi4py -m
    procure.mpisppy``), its result read back from the JSON rank 0 writes."""
    method = f"mpisppy-ph-mpi{ranks}"
    with tempfile.TemporaryDirectory(prefix="procure-tree-") as folder:
        path, out = Path(folder) / "problem.json", Path(folder) / "result.json"
        path.write_text(json.dumps(problem))
        command = [
            "mpiexec", "-n", str(ranks), sys.executable, "-m", "mpi4py", "-m", "procure.mpisppy", str(path),
            "--method", "ph", "--mip-gap", "1e-3", "--threads", "1", "--time-limit", str(time_limit),
            "--out", str(out),
        ]  # fmt: skip
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, timeout=time_limit * 3 + 120)
        seconds = time.perf_counter() - started
        if not out.exists():
            return {"method": method, "seconds": seconds, "status": "error", "message": done.stderr[-200:]}
        result = json.loads(out.read_text())
    return {
        "method": method,
        "seconds": seconds,
        "status": result["status"],
        "objective": result["objective"],
        "bound": result["bound"],
        "gap": result["gap"] if result["gap"] is not None else math.nan,
        "model_size": dict(result.get("model_size") or {}),
        "message": str(result.get("message", ""))[:200],
        "iterations": _iterations(str(result.get("message", ""))),
    }


def run(method: str, problem: dict[str, Any], time_limit: float) -> dict[str, Any]:
    if method.startswith("mpisppy-ph-mpi"):
        return run_mpi(int(method.removeprefix("mpisppy-ph-mpi")), problem, time_limit)
    solver = {"procure": "auto", "procure-highs": "highs", "mpisppy-ef": "mpisppy:ef", "mpisppy-ph": "mpisppy:ph"}[
        method
    ]
    started = time.perf_counter()
    try:
        result = procure.solve(problem, solver=solver, mip_gap=1e-3, time_limit=time_limit, threads=1)
    except Exception as exc:  # a method that cannot run at this size says why, in its row
        seconds = time.perf_counter() - started
        return {"method": method, "seconds": seconds, "status": "error", "message": str(exc)[:200]}
    return _row(method, result, time.perf_counter() - started)


def report(results: dict[str, Any]) -> str:
    lines = [
        "| paths | method | columns | integer | rows | nonzeros | seconds | status | gap "
        "| objective vs procure's bound | PH iterations |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size in results["sizes"]:
        rows = size["runs"]
        bound = next((r["bound"] for r in rows if r["method"] == "procure"), math.nan)
        for r in rows:
            ms = r.get("model_size") or {}
            known = r.get("objective") is not None and math.isfinite(bound)
            vs = (r["objective"] - bound) / abs(bound) if known else math.nan
            lines.append(
                f"| {size['paths']} | {r['method']} | {ms.get('columns', '–')} | {ms.get('integer_columns', '–')} | "
                f"{ms.get('rows', '–')} | {ms.get('nonzeros', '–')} | {r['seconds']:.1f} | {r['status']} | "
                f"{r.get('gap', math.nan):.2%} | {vs:+.3%} | {r.get('iterations') or '–'} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="3,9,27,81,243")
    parser.add_argument("--methods", default="procure,procure-highs,mpisppy-ef,mpisppy-ph")
    parser.add_argument("--ph-from", type=int, default=27, help="smallest tree that runs progressive hedging")
    parser.add_argument("--ef-until", type=int, default=243, help="largest tree for mpi-sppy's extensive form")
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results-tree.json"))
    args = parser.parse_args()
    methods = [m for m in args.methods.split(",") if m]
    out: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cores": os.cpu_count(), "date": time.strftime("%Y-%m-%d")},
        "time_limit": args.time_limit,
        "sizes": [],
    }
    for size in (int(s) for s in args.sizes.split(",")):
        levels = round(math.log(size, 3))
        problem = tree_problem(levels)
        runs = []
        for method in methods:
            if method.startswith("mpisppy-ph") and size < args.ph_from:
                continue
            if method == "mpisppy-ef" and size > args.ef_until:
                continue
            print(f"[{size} paths] {method} …", file=sys.stderr, flush=True)
            runs.append(run(method, problem, args.time_limit))
            print(f"[{size} paths] {method}: {runs[-1]['status']} in {runs[-1]['seconds']:.1f} s", file=sys.stderr)
        out["sizes"].append({"paths": size, "runs": runs})
        Path(args.out).write_text(json.dumps(out, indent=2, default=float) + "\n")
    print(report(out))


if __name__ == "__main__":
    main()
