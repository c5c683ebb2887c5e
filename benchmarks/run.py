"""procure against its peers, measured in one run; writes benchmarks/results.json and README tables.

    python benchmarks/run.py                 # the whole ladder (takes a while: the peers are slow)
    python benchmarks/run.py --quick         # the two smallest sizes, one seed
    python benchmarks/run.py --only build    # just the build ladder (up to ~1M nonzeros)
    python benchmarks/run.py --report benchmarks/results.json   # the tables of a saved run

Every measurement runs in a fresh subprocess (one solver, one problem), so that
timings, HiGHS's thread pool and peak memory (``ru_maxrss``) do not leak between
them.  Ratios compare numbers measured in the same run, on the same machine.

Measured, per size of the ladder and seed:

- ``procure``: ``procure.solve(problem, mip_gap, threads)``; its build (problem →
  model handed to HiGHS) and its total wall time;
- ``pyomo``: the straightforward Pyomo model of `peers.py` solved with HiGHS through
  Pyomo (same HiGHS, same threads, same gap);
- ``pulp``: the same model in PuLP, solved with CBC;
- ``mps``: HiGHS alone reading the MPS file `procure.write_model` wrote (the floor for
  building);
- ``resolve`` (first size of the ladder): a `procure.Planner` re-solving the problem with
  prices 3% lower and power caps 5% higher through the kept model, against a cold
  `procure.solve` of the same.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

#: (vendors, offers per vendor, periods, scenarios): the solve ladder, from the ~1,000-column model
#: (4 × 10 × 10, 50 scenarios) to the 43k-column one (2,000 scenarios over 20 periods) in the peer's terms.
LADDER = [(4, 10, 10, 50), (4, 10, 15, 200), (4, 10, 20, 2000)]
#: build-only ladder, up to about a million nonzeros in the peer's model.
BUILD_LADDER = [(4, 10, 20, 2000), (8, 25, 20, 5000), (10, 40, 25, 20000)]
#: build-only growth with data-center sites (procure only: the peers do not model sites).
SITE_LADDER = [(10, 40, 25, 20000, 2), (10, 40, 25, 20000, 8), (10, 40, 25, 20000, 32)]
SEEDS = (0, 1, 2)


def _problem(size: tuple[int, ...], seed: int) -> dict[str, Any]:
    from generate import generate

    v, o, t, s, *sites = size
    return generate(v, o, t, seed=seed, scenarios=s, sites=sites[0] if sites else 0)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _changed(problem: dict[str, Any]) -> dict[str, Any]:
    """New prices (3% lower) and caps (5% higher): a typical what-if."""
    import copy

    q = copy.deepcopy(problem)
    for offer in q["offers"]:
        cost = offer["unit_cost"]
        offer["unit_cost"] = {k: v * 0.97 for k, v in cost.items()} if isinstance(cost, dict) else cost * 0.97
    cap = q.get("power_cap_gw")
    if cap is not None:
        q["power_cap_gw"] = {k: v * 1.05 for k, v in cap.items()} if isinstance(cap, dict) else cap * 1.05
    return q


#: fast measurements (building, reading MPS) are repeated and their minimum kept, as timeit does
REPEATS = 5


def _procure_build(problem: dict[str, Any]) -> tuple[float, dict[str, int]]:
    """Seconds from the problem mapping to the model handed to HiGHS (validation included)."""
    import procure
    from procure.model.bounds import first_bounds
    from procure.model.build import build_model
    from procure.model.scaling import matrix_form
    from procure.model.sets import model_data
    from procure.solvers.highs import _new_highs, pass_model

    _new_highs(False)  # the first HiGHS instance starts the thread pool: not part of building
    t0 = time.perf_counter()
    data = model_data(procure.Problem.from_dict(problem))
    built = build_model(data, first_bounds(data)[0])
    pass_model(_new_highs(False), matrix_form(built.model))
    return time.perf_counter() - t0, built.model.stats()


def _read_mps(path: str) -> tuple[float, int]:
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    t0 = time.perf_counter()
    h.readModel(path)
    return time.perf_counter() - t0, int(h.getNumNz())


def measure(tool: str, size: tuple[int, ...], seed: int, gap: float, threads: int, limit: float) -> dict:
    """One measurement, in this process."""
    problem = _problem(size, seed)
    out: dict[str, Any] = {"tool": tool, "size": list(size), "seed": seed, "time_limit": limit}
    if tool == "procure":
        import procure

        out["build_seconds"], stats = _procure_build(problem)
        out.update(stats)
        if gap >= 0:
            t0 = time.perf_counter()
            result = procure.solve(problem, mip_gap=gap, threads=threads, time_limit=limit)
            out["total_seconds"] = time.perf_counter() - t0
            out.update(status=result.status, objective=result.objective, gap=result.gap)
    elif tool in ("pyomo", "pulp"):
        import peers

        if gap < 0:  # build only: construct the model and hand it to the solver interface
            t0 = time.perf_counter()
            if tool == "pyomo":
                from pyomo.contrib.appsi.solvers import Highs

                m = peers.pyomo_peer(problem)
                opt = Highs()
                opt.set_instance(m)
                out["nnz"] = int(opt._solver_model.getNumNz())
            else:
                lp = peers.pulp_peer(problem)
                lp.writeMPS(os.path.join(tempfile.mkdtemp(), "peer.mps"))
            out["build_seconds"] = time.perf_counter() - t0
        else:
            solve = peers.solve_pyomo_peer if tool == "pyomo" else peers.solve_pulp_peer
            res = solve(problem, mip_gap=gap, threads=threads, time_limit=limit)
            out.update(res)
            out["total_seconds"] = res["build_seconds"] + res["solve_seconds"]
    elif tool == "mps":
        import procure

        path = os.path.join(tempfile.mkdtemp(), "model.mps")
        procure.write_model(problem, path, scaled=True)
        # the floor, and procure's build measured the same way beside it
        out["read_seconds"] = min(_read_mps(path)[0] for _ in range(REPEATS))
        out["nonzeros"] = _read_mps(path)[1]
        out["build_seconds"] = min(_procure_build(problem)[0] for _ in range(REPEATS))
    elif tool == "resolve":
        import procure

        changed = _changed(problem)
        t0 = time.perf_counter()
        cold = procure.solve(changed, mip_gap=gap, threads=threads, time_limit=limit)
        out["cold_seconds"] = time.perf_counter() - t0
        planner = procure.Planner(problem, mip_gap=gap, threads=threads, time_limit=limit)
        planner.solve()
        t0 = time.perf_counter()
        warm = planner.solve(changed)
        out["warm_seconds"] = time.perf_counter() - t0
        out.update(mode=planner.last_mode, cold_objective=cold.objective, warm_objective=warm.objective)
    out["peak_mb"] = _peak_mb()
    return out


def _spawn(tool: str, size: tuple[int, ...], seed: int, gap: float, threads: int, limit: float) -> dict:
    dims = ",".join(map(str, size))
    cmd = [sys.executable, __file__, "--one", tool, dims, str(seed), str(gap), str(threads), str(limit)]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=limit * 4 + 600)
    if proc.returncode != 0:
        return {"tool": tool, "size": list(size), "seed": seed, "error": proc.stderr[-2000:]}
    line = proc.stdout.strip().splitlines()[-1]
    data = json.loads(line)
    data["wall_seconds"] = time.perf_counter() - started
    return data


def _median(rows: list[dict], key: str) -> float:
    values = [r[key] for r in rows if key in r]
    return statistics.median(values) if values else float("nan")


def _load_log(path: str | None) -> dict[tuple, dict]:
    """Measurements printed by an earlier, interrupted run (one JSON object per line)."""
    if not path:
        return {}
    done = {}
    for line in Path(path).read_text().splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            if "error" not in row:
                done[(row["tool"], tuple(row["size"]), row["seed"], row.get("kind", "solve") == "build")] = row
    return done


def run(ladder: list, build_ladder: list, seeds: tuple[int, ...], gap: float, threads: int, limit: float,
        done: dict[tuple, dict] | None = None, site_ladder: list | None = None) -> dict:
    done = done or {}

    def once(tool: str, size: tuple, seed: int, build: bool) -> dict:
        row = done.get((tool, tuple(size), seed, build))
        if row is None:
            row = _spawn(tool, size, seed, -1.0 if build else gap, threads, limit)
            row["kind"] = "build" if build else "solve"
        print(json.dumps(row), flush=True)
        return row

    # the warm re-solve is measured on the first size of the ladder (it solves three times)
    rows = [once(tool, size, seed, False) for size in ladder for seed in seeds
            for tool in ("procure", "pyomo", "pulp", "mps", *(("resolve",) if size == LADDER[0] else ()))]
    builds = [once(tool, size, 0, True) for size in build_ladder for tool in ("procure", "pyomo", "mps")]
    # sites multiply the purchase columns; the peers do not model them
    builds += [once(tool, size, 0, True) for size in site_ladder or [] for tool in ("procure", "mps")]
    return {"gap": gap, "threads": threads, "time_limit": limit, "solves": rows, "builds": builds,
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}


def _med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _stopped(row: dict, limit: float) -> bool:
    """Whether a peer ran into its time limit (PuLP may call such a stop "optimal")."""
    limit = row.get("time_limit", limit)
    return row.get("status") != "optimal" or row.get("solve_seconds", 0.0) >= 0.99 * limit


def _num(value: float | None, fmt: str) -> str:
    return "–" if value is None or value != value else format(value, fmt)


def report(results: dict) -> str:
    """Markdown tables of the measured ratios."""
    solves, builds = results["solves"], results["builds"]
    sizes = sorted({tuple(r["size"]) for r in solves})
    lines = [
        f"Measured with mip_gap={results['gap']}, threads={results['threads']}, time limit "
        f"{results['time_limit']:.0f} s per solve; medians over seeds {sorted({r['seed'] for r in solves})}.",
        "",
        "| size (vendors × offers × periods × scenarios) | procure cols / nnz | Pyomo peer cols / nnz"
        " | procure total s | Pyomo+HiGHS s | **speed-up vs Pyomo** (target ≥ 5) | objective vs Pyomo"
        " | PuLP+CBC s | build share of procure total (target ≤ 10%) | build / HiGHS MPS read (target ≤ 1.5)"
        " | warm re-solve speed-up (target ≥ 3) | procure peak MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    limit = results["time_limit"]
    for size in sizes:
        at = [r for r in solves if tuple(r["size"]) == size]
        tools = ("procure", "pyomo", "pulp", "mps", "resolve")
        by = {tool: {r["seed"]: r for r in at if r["tool"] == tool} for tool in tools}
        ours, pyo, pulp = by["procure"], by["pyomo"], by["pulp"]
        seeds = [k for k in sorted(ours) if k in pyo and "total_seconds" in ours[k] and "total_seconds" in pyo[k]]
        speedups = [pyo[k]["total_seconds"] / ours[k]["total_seconds"] for k in seeds]
        # a peer stopped by the time limit gives a lower bound on the speed-up
        marks = ["≥" if _stopped(pyo[k], limit) else "" for k in seeds]
        pulp_mark = "≥" if any(_stopped(r, limit) for r in pulp.values()) else ""
        worse = [(ours[k]["objective"] - pyo[k]["objective"]) / abs(pyo[k]["objective"]) for k in seeds
                 if ours[k].get("status") == "optimal" and pyo[k].get("status") in ("optimal", "feasible")]
        shares = [r["build_seconds"] / r["total_seconds"] for r in ours.values() if "total_seconds" in r]
        reads = [r["build_seconds"] / r["read_seconds"] for r in by["mps"].values() if "build_seconds" in r]
        warm = [r["cold_seconds"] / r["warm_seconds"] for r in by["resolve"].values() if "warm_seconds" in r]
        o, q = list(ours.values()), list(pyo.values())
        lines.append(
            f"| {' × '.join(map(str, size))}"
            f" | {_num(_median(o, 'columns'), '.0f')} / {_num(_median(o, 'nonzeros'), '.0f')}"
            f" | {_num(_median(q, 'columns'), '.0f')} / {_num(_median(q, 'nnz'), '.0f')}"
            f" | {_num(_median(o, 'total_seconds'), '.2f')} | {_num(_median(q, 'total_seconds'), '.2f')}"
            f" | **{_num(_med(speedups), '.1f')}**"
            f" (per seed: {', '.join(f'{m}{x:.1f}' for m, x in zip(marks, speedups))})"
            f" | {_num(max(worse, default=float('nan')), '+.1e')} worst"
            f" | {pulp_mark}{_num(_median(list(pulp.values()), 'total_seconds'), '.2f')}"
            f" | {_num(100 * _med(shares), '.1f')}% | {_num(_med(reads), '.2f')} | {_num(_med(warm), '.1f')}"
            f" | {_num(_median(o, 'peak_mb'), '.0f')} |"
        )
    lines += [
        "",
        "Build only (problem → model handed to the solver), no solve:",
        "",
        "| vendors × offers × periods × scenarios | sites | Pyomo peer nnz | procure cols / nnz | procure build s"
        " | Pyomo peer build s | **Pyomo / procure** (target ≥ 10) | HiGHS MPS read s"
        " | procure build / MPS read | procure peak MB (target < 1024) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size in sorted({tuple(r["size"]) for r in builds}, key=lambda z: (len(z), z)):
        at = [r for r in builds if tuple(r["size"]) == size]
        ours = next((r for r in at if r["tool"] == "procure"), {})
        pyo = next((r for r in at if r["tool"] == "pyomo"), {})
        mps = next((r for r in at if r["tool"] == "mps"), {})
        nan = float("nan")
        ratio = _num(pyo.get("build_seconds", nan) / ours.get("build_seconds", nan), ".0f")
        floor = _num(mps.get("build_seconds", ours.get("build_seconds", nan)) / mps.get("read_seconds", nan), ".2f")
        lines.append(
            f"| {' × '.join(map(str, size[:4]))} | {size[4] if len(size) > 4 else '–'} | {pyo.get('nnz', '–')}"
            f" | {ours.get('columns', '–')} / {ours.get('nonzeros', '–')} | {_num(ours.get('build_seconds'), '.3f')}"
            f" | {_num(pyo.get('build_seconds'), '.2f')} | **{ratio}** | {_num(mps.get('read_seconds'), '.3f')}"
            f" | {floor}"
            f" | {_num(ours.get('peak_mb'), '.0f')} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--one", nargs=6, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="two smallest sizes, one seed, small build ladder")
    parser.add_argument("--only", choices=["solve", "build"], help="run only one ladder")
    parser.add_argument("--gap", type=float, default=1e-4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=900.0)
    parser.add_argument(
        "--out", help="where to write the results (default: results.json for a full run, results-partial.json else)"
    )
    parser.add_argument("--sizes", type=int, nargs="+", metavar="K", help="only these solve sizes (1-based)")
    parser.add_argument("--seeds", type=int, nargs="+", metavar="S", help="only these seeds")
    parser.add_argument("--resume", metavar="LOG", help="reuse the measurements an interrupted run printed")
    parser.add_argument("--report", metavar="RESULTS", help="print the tables of a saved results.json and stop")
    args = parser.parse_args()
    if args.report:
        print(report(json.loads(Path(args.report).read_text())))
        return
    if args.one:
        tool, dims, seed, gap, threads, limit = args.one
        size = tuple(int(d) for d in dims.split(","))
        print(json.dumps(measure(tool, size, int(seed), float(gap), int(threads), float(limit))))
        return
    ladder, build_ladder, site_ladder, seeds = LADDER, BUILD_LADDER, SITE_LADDER, SEEDS
    if args.quick:
        ladder, build_ladder, site_ladder, seeds = LADDER[:1], BUILD_LADDER[:1], SITE_LADDER[:1], (0,)
    if args.sizes:
        ladder = [LADDER[k - 1] for k in args.sizes]
    if args.seeds:
        seeds = tuple(args.seeds)
    if args.only == "build":
        ladder = []
    if args.only == "solve":
        build_ladder = site_ladder = []
    done = _load_log(args.resume)
    results = run(ladder, build_ladder, seeds, args.gap, args.threads, args.time_limit, done, site_ladder)
    partial = args.quick or args.only or args.sizes or args.seeds
    out = args.out or str(HERE / ("results-partial.json" if partial else "results.json"))
    Path(out).write_text(json.dumps(results, indent=1))
    print(report(results))


if __name__ == "__main__":
    main()
