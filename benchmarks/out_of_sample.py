"""Out-of-sample throughput (issue 23): paths judged per minute, in-process and on dask.

    python benchmarks/out_of_sample.py [--paths 1000] [--methods serial,dask1,dask2] [--out FILE]

The problem is the starter of ``python -m procure init`` (2026–2029, three offers of three
vendors, budgets, power caps, a 60% share cap; 24 columns, 12 integer) made a 3×3 tree: demand
starts at the starter's 200,000 PFLOP/s in 2026 and grows slow/mid/fast in 2027 and again in
2028 (×1.8/2.25/2.7, then ×1.45/1.78/2.1, probabilities 0.3/0.5/0.2), then ×1.5 in 2029, with
unserved demand paid at $40k per PFLOP/s-year (the budgets cannot follow the fastest paths).
The tree is solved once; its 2026 decisions are then judged on ``--paths`` fresh paths whose
yearly growth is lognormal around the mid path's (σ = 0.15, seed 0), 2026 as in the tree:

- ``serial``: `procure.out_of_sample` in this process (a kept model per chunk of paths);
- ``dask1`` / ``dask2``: on a dask ``LocalCluster`` of 1 or 2 worker processes, one thread
  each, started and warmed up (a small run) before the clock starts.

Every solve is on one HiGHS thread, gap 1e-4.  The tables of every method must be equal
(timing aside).  Nothing here is asserted: the numbers are printed (and written with ``--out``).
Besides wall time, the CPU time of the processes that solved (this one, or the dask workers) is
printed as paths per CPU-minute, and the 1-minute load average after each run: on a shared
machine a load above the cores used means the wall-time numbers are low, the CPU ones less so.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import procure
from procure.sweeps.out_of_sample import OutOfSample, out_of_sample

METHODS = ("serial", "dask1", "dask2")
PERIODS = [2026, 2027, 2028, 2029]
#: Growth of demand in 2027 and in 2028 on the slow, mid and fast branches, and their probabilities.
GROWTH = ((1.8, 2.25, 2.7), (1.45, 1.78, 2.1))
PROBABILITY = (0.3, 0.5, 0.2)
LAST_GROWTH = 1.5
SIGMA = 0.15
#: Columns that measure time.
TIMING = ("seconds",)


def starter() -> dict[str, Any]:
    """The problem ``python -m procure init`` writes, as a mapping."""
    with tempfile.TemporaryDirectory(prefix="procure-oos-") as folder:
        subprocess.run([sys.executable, "-m", "procure", "init", folder], check=True, capture_output=True)
        return procure.Problem.from_file(Path(folder) / "problem.toml").to_dict()


def tree_problem() -> dict[str, Any]:
    """The starter as a 3×3 tree (9 paths) with unserved demand priced."""
    problem = starter()
    first = float(problem.pop("demand")[PERIODS[0]])
    names = ("slow", "mid", "fast")
    scenarios = []
    for a, (g1, p1) in enumerate(zip(GROWTH[0], PROBABILITY)):
        for b, (g2, p2) in enumerate(zip(GROWTH[1], PROBABILITY)):
            path = [first, first * g1, first * g1 * g2, first * g1 * g2 * LAST_GROWTH]
            scenarios.append(
                {"name": f"{names[a]}-{names[b]}", "probability": p1 * p2, "demand": dict(zip(PERIODS, path))}
            )
    problem["demand_scenarios"] = scenarios
    problem["unserved_penalty"] = 40_000.0
    return problem


def sample_paths(n: int, first: float, seed: int = 0) -> pd.DataFrame:
    """``n`` paths: ``first`` in 2026 (the tree's), then lognormal growth around the mid branch's."""
    rng = np.random.default_rng(seed)
    mid = np.array([GROWTH[0][1], GROWTH[1][1], LAST_GROWTH])
    growth = mid * np.exp(rng.normal(-0.5 * SIGMA**2, SIGMA, size=(n, len(mid))))
    demand = first * np.cumprod(np.hstack([np.ones((n, 1)), growth]), axis=1)
    return pd.DataFrame(demand, columns=PERIODS, index=pd.RangeIndex(n, name="path"))


def _timed(result: procure.TreeResult, paths: pd.DataFrame, **kw: Any) -> tuple[float, float, OutOfSample]:
    """Wall seconds, CPU seconds of this process (HiGHS's threads included) and the judgement."""
    started, cpu = time.perf_counter(), time.process_time()
    judged = out_of_sample(result, paths, progress=False, **kw)
    return time.perf_counter() - started, time.process_time() - cpu, judged


def _on_dask(result: procure.TreeResult, paths: pd.DataFrame, workers: int) -> tuple[float, float, OutOfSample]:
    """As `_timed` on a new cluster of ``workers`` processes; CPU seconds are the workers'."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        out_of_sample(result, paths.iloc[: 4 * workers], client=client, chunk_size=2, progress=False)  # warm up
        before = client.run(time.process_time)
        seconds, _, judged = _timed(result, paths, client=client)
        after = client.run(time.process_time)
        return seconds, sum(after[w] - before[w] for w in after), judged


def measure(n: int, methods: tuple[str, ...]) -> dict[str, Any]:
    problem = tree_problem()
    started = time.perf_counter()
    result = procure.solve(problem, threads=1)
    assert isinstance(result, procure.TreeResult)
    out: dict[str, Any] = {
        "paths": n,
        "tree": {"status": result.status, "objective": result.objective, "seconds": time.perf_counter() - started},
        "runs": {},
    }
    paths = sample_paths(n, float(problem["demand_scenarios"][0]["demand"][PERIODS[0]]))
    tables = {}
    for method in methods:
        print(f"{method} …", file=sys.stderr, flush=True)
        seconds, cpu, judged = _timed(result, paths) if method == "serial" else _on_dask(result, paths, int(method[-1]))
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        out["runs"][method] = {
            "seconds": seconds,
            "per_minute": 60 * n / seconds,
            "cpu_seconds": cpu,
            "per_cpu_minute": 60 * n / cpu,
            "load_after": load,
        }
        tables[method] = judged.table.drop(columns=list(TIMING))
        print(f"{method}: {60 * n / seconds:,.0f} paths/min (load {load:.2f})", file=sys.stderr)
        out["summary"] = judged.summary()
    first = next(iter(tables.values()), None)
    if first is not None:
        out["same_tables"] = all(first.equals(t) for t in tables.values())
        out["statuses"] = first["status"].value_counts().to_dict()
    return out


def report(results: dict[str, Any]) -> str:
    runs = results["runs"]
    lines = [f"{results['paths']} paths; the tree: {results['tree']['status']} in {results['tree']['seconds']:.2f} s"]
    for method, run in runs.items():
        lines.append(
            f"  {method:7s} {run['per_minute']:>9,.0f} paths/min  ({run['seconds']:.1f} s; "
            f"{run['per_cpu_minute']:,.0f} per CPU-minute; load after {run['load_after']:.2f})"
        )
    if "dask1" in runs and "dask2" in runs:
        lines.append(f"  dask 2 / dask 1: {runs['dask2']['per_minute'] / runs['dask1']['per_minute']:.2f}×")
    lines.append(f"  same tables on every method: {results.get('same_tables')}")
    lines.append(results.get("summary", ""))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=1000)
    parser.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated subset of {','.join(METHODS)}")
    parser.add_argument("--out", default=None, help="write the numbers as JSON here")
    args = parser.parse_args()
    methods = tuple(m for m in args.methods.split(",") if m)
    unknown = set(methods) - set(METHODS)
    if unknown:
        parser.error(f"unknown methods: {', '.join(sorted(unknown))}")
    results = measure(args.paths, methods)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(report(results))


if __name__ == "__main__":
    main()
