"""HiGHS against CBC (and ``solver="auto"``) through ``procure.solve``, family by family.

Issue 20, point 3: a default as fast as the better engine.  For every family of
`generate.FAMILIES` (seeds 0–2 at 4 × 10 × 10 × 50) and the base family at
6 × 15 × 10 × 50 and 8 × 25 × 15 × 200 (seeds 0–1), each tool is timed by
``procure.solve(problem, solver=TOOL, threads=1, mip_gap=1e-4, time_limit=LIMIT)``
in a fresh subprocess, at most ``--jobs`` at a time.  Beside status, objective,
bound and seconds each row records the engines' deterministic work, read in the
measuring process only (the solver modules' functions are wrapped): HiGHS's
branch-and-bound nodes and simplex iterations (summed over every HiGHS run of
the solve; ``mip_nodes`` is the largest single MIP's), CBC's enumerated nodes
and total iterations from its log.  ``auto`` runs both engines at once (one
thread each), so it is measured alone on the 2-core machine (``--jobs 1``).

    python benchmarks/engines.py --tools auto --jobs 1 --limit 60                            # ~16 min
    python benchmarks/engines.py --tools highs cbc pyomo-highs cbc-peer --jobs 2 --limit 60  # ~40 min
    python benchmarks/engines.py --targets     # issue 20's targets: auto against the peers
    python benchmarks/engines.py --report      # auto against procure's own engines

The peers (`PEERS`) are the hand-written model of ``peers.py`` through Pyomo+HiGHS and
through the CBC program, timed the same way (build included, CPU seconds).

Every finished row is written to the results file at once (a run can be stopped
and resumed: rows already there are skipped unless ``--again``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))  # the procure of this checkout

OUT = HERE / "results-engines.json"
SMALL = (4, 10, 10, 50)
LARGE = [(6, 15, 10, 50), (8, 25, 15, 200)]
GAP = 1e-4
LIMIT = 120.0


def _problem(size: tuple[int, ...], seed: int, family: str) -> dict[str, Any]:
    from generate import generate

    v, o, t, s = size
    return generate(v, o, t, seed=seed, scenarios=s, family=family)


#: the peers of issue 20's targets: the hand-written model (``peers.py``) through Pyomo+HiGHS and
#: through the CBC program, as a modeller without procure would solve it
PEERS = ("pyomo-highs", "cbc-peer")


def measure_peer(tool: str, size: tuple[int, ...], seed: int, family: str, limit: float) -> dict[str, Any]:
    """One peer measurement in this process: build and solve, CPU seconds of both (CBC's child too)."""
    from peers import solve_cbc_peer, solve_pyomo_peer

    problem = _problem(size, seed, family)
    solve = solve_pyomo_peer if tool == "pyomo-highs" else solve_cbc_peer
    timing = _Timing()
    out = solve(problem, mip_gap=GAP, threads=1, time_limit=limit)
    return {
        **_head(tool, size, seed, family, limit),
        **timing.done(),
        "status": out["status"],
        "objective": out.get("objective", math.nan),
        "bound": out.get("bound", out.get("best_possible", math.nan)),
        "build_seconds": out.get("build_seconds", math.nan),
        "solve_seconds": out.get("solve_seconds", math.nan),
        "cbc_nodes": out.get("nodes", math.nan),
    }


def measure(tool: str, size: tuple[int, ...], seed: int, family: str, limit: float) -> dict[str, Any]:
    """One measurement in this process, with the engines' work read from inside."""
    if tool in PEERS:
        return measure_peer(tool, size, seed, family, limit)
    import procure
    import procure.solvers.auto as pa
    import procure.solvers.cbc as pc
    import procure.solvers.highs as ph

    work: dict[str, Any] = {
        "highs_runs": 0,
        "highs_nodes": 0,
        "highs_mip_nodes": 0,
        "highs_simplex_iterations": 0,
        "cbc_runs": 0,
        "cbc_nodes": 0,
        "cbc_iterations": 0,
    }
    lock = threading.Lock()
    answer, run = ph._answer, pc._run

    def counted_answer(h: Any, form: Any, options: Any, seconds: float, solver: str) -> Any:
        info = h.getInfo()
        with lock:
            work["highs_runs"] += 1
            nodes = max(int(info.mip_node_count), 0)
            work["highs_nodes"] += nodes
            work["highs_mip_nodes"] = max(work["highs_mip_nodes"], nodes)
            work["highs_simplex_iterations"] += max(int(info.simplex_iteration_count), 0)
        return answer(h, form, options, seconds, solver)

    def counted_run(command: list[str], verbose: bool) -> tuple[str, bool]:
        log, interrupted = run(command, verbose)
        with lock:
            work["cbc_runs"] += 1
            for key, label in (("cbc_nodes", "Enumerated nodes"), ("cbc_iterations", "Total iterations")):
                found = re.search(rf"^{label}:\s+(\d+)", log, flags=re.MULTILINE)
                work[key] += int(found.group(1)) if found else 0
        return log, interrupted

    engines: list[str] = []
    auto_solve = pa.AutoSession.solve

    def traced_auto_solve(self: Any, options: Any) -> Any:
        raw = auto_solve(self, options)
        last = self.last
        engines.append(raw.solver)
        races.append(
            {"engine": raw.solver, "highs_nodes": last.highs_nodes, "cbc_nodes": last.cbc_nodes} if last else {}
        )
        return raw

    races: list[dict[str, Any]] = []
    ph._answer, pc._run = counted_answer, counted_run
    setattr(pa.AutoSession, "solve", traced_auto_solve)  # noqa: B010  (a method, in this process only)
    problem = _problem(size, seed, family)
    timing = _Timing()
    try:
        result = procure.solve(problem, solver=tool, threads=1, mip_gap=GAP, time_limit=limit)
    finally:
        ph._answer, pc._run = answer, run
        setattr(pa.AutoSession, "solve", auto_solve)  # noqa: B010
    return {
        **_head(tool, size, seed, family, limit),
        **timing.done(),  # cpu_own: this process (HiGHS, procure's Python); cpu_children: the CBC program
        "status": result.status,
        "termination": result.termination,
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "solver": engines[-1] if engines else result.solver,
        "races": races,
        "message": result.message,
        **work,
    }


def _head(tool: str, size: tuple[int, ...], seed: int, family: str, limit: float) -> dict[str, Any]:
    return {"tool": tool, "family": family, "size": list(size), "seed": seed, "time_limit": limit}


class _Timing:
    """Wall and CPU seconds (this process's and its children's) and the load, from now to `done`."""

    def __init__(self) -> None:
        self.load = os.getloadavg()[0]
        self.cpu = _cpu_seconds()
        self.split = _cpu_split()
        self.started = time.perf_counter()

    def done(self) -> dict[str, Any]:
        own, children = (after - before for after, before in zip(_cpu_split(), self.split))
        return {
            "seconds": time.perf_counter() - self.started,
            "cpu_seconds": _cpu_seconds() - self.cpu,
            "cpu_own": own,
            "cpu_children": children,
            "load": [self.load, os.getloadavg()[0]],
        }


def _cpu_seconds() -> float:
    """CPU seconds of this process and its finished children (CBC runs as a child)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def _cpu_split() -> tuple[float, float]:
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["tool"], row["family"], tuple(row["size"]), row["seed"])


def _spawn(tool: str, size: tuple[int, ...], seed: int, family: str, limit: float) -> dict[str, Any]:
    dims = ",".join(map(str, size))
    cmd = [sys.executable, __file__, "--one", tool, dims, str(seed), family, str(limit)]
    started = time.perf_counter()
    # its own session, hence its own scheduler group (Linux autogroup), as the CBC program has:
    # on a machine shared with other work each engine then gets the same share of the cores
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=limit * 4 + 300, start_new_session=True)
    if proc.returncode != 0:
        return {"tool": tool, "size": list(size), "seed": seed, "family": family, "error": proc.stderr[-2000:]}
    row: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    row["wall_seconds"] = time.perf_counter() - started
    return row


def _load(path: Path) -> dict[str, Any]:
    if path.exists():
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    return {"gap": GAP, "threads": 1, "rows": []}


def _save(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, allow_nan=True) + "\n")
    tmp.replace(path)


def plan(families: list[str], seeds: list[int], large_seeds: list[int], tools: list[str]) -> list[tuple[Any, ...]]:
    """(tool, size, seed, family) of every measurement, the slow large ones first."""
    jobs: list[tuple[Any, ...]] = []
    for size in LARGE:
        jobs += [(tool, size, seed, "base") for seed in large_seeds for tool in tools]
    jobs += [(tool, SMALL, seed, family) for family in families for seed in seeds for tool in tools]
    return jobs


def run(args: argparse.Namespace) -> None:
    from generate import FAMILIES

    path = Path(args.out)
    data = _load(path)
    data["time_limit"] = args.limit
    done = {_key(r) for r in data["rows"] if "error" not in r}
    families = args.families or list(FAMILIES)
    todo = [
        j
        for j in plan(families, args.seeds, args.large_seeds, args.tools)
        if args.again or (j[0], j[3], tuple(j[1]), j[2]) not in done
    ]
    print(f"{len(todo)} measurements, {args.jobs} at a time", flush=True)
    lock = threading.Lock()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(_spawn, tool, size, seed, family, args.limit) for tool, size, seed, family in todo]
        for future in as_completed(futures):
            row = future.result()
            with lock:  # merged into the file as it is now (another run may have added rows)
                data = _load(path)
                data["rows"] = [r for r in data["rows"] if _key(r) != _key(row)] + [row]
                _save(path, data)
            print(json.dumps({k: row.get(k) for k in ("tool", "family", "size", "seed", "seconds", "status")}))
            sys.stdout.flush()


def _proved(row: dict[str, Any] | None) -> bool:
    return row is not None and "error" not in row and row["status"] in ("optimal", "infeasible")


def engine_seconds(row: dict[str, Any]) -> float:
    """An engine's time with a core of its own: its CPU seconds (the machine the runs shared
    was loaded by other work, so wall seconds overstate every tool by a varying factor).  For
    ``auto`` the slower of its two engines, which run at once on the two cores."""
    if row.get("cpu_seconds", -1) < 0:  # measured before CPU time was recorded
        return float(row["seconds"])
    if row["tool"] == "auto":
        return float(max(row["cpu_own"], row["cpu_children"]))
    return float(row["cpu_seconds"])


def _fmt(row: dict[str, Any] | None) -> str:
    if row is None:
        return "–"
    if "error" in row:
        return "crash"
    s = engine_seconds(row)
    if _proved(row):
        return f"{s:.1f}"
    return f"≥{s:.1f}" if row["status"] == "feasible" else f"{row['status']} ≥{s:.1f}"


def report(path: Path) -> str:
    """The table of a results file: per problem each tool's engine seconds (`engine_seconds`),
    its wall seconds, its nodes, and auto's engine."""
    data = _load(path)
    at = {_key(r): r for r in data["rows"]}
    keys = sorted({(r["family"], tuple(r["size"]), r["seed"]) for r in data["rows"]}, key=lambda k: (k[1], k[0], k[2]))
    lines = [
        "| family | size | seed | highs s | cbc s | auto s | auto: engine | wall s highs / cbc / auto |"
        " nodes highs / cbc | auto ÷ better |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    ratios: list[float] = []
    for family, size, seed in keys:
        h, c, a = (at.get((tool, family, size, seed)) for tool in ("highs", "cbc", "auto"))
        wall = " / ".join(f"{r['seconds']:.0f}" if r and "error" not in r else "–" for r in (h, c, a))
        nodes = " / ".join(
            str(r.get(k, "–")) if r and "error" not in r else "–" for r, k in ((h, "highs_mip_nodes"), (c, "cbc_nodes"))
        )
        engine = a.get("solver", "–") if a and "error" not in a else "–"
        better = min((engine_seconds(r) for r in (h, c) if r is not None and _proved(r)), default=math.nan)
        ratio = "–"
        if a is not None and "error" not in a and math.isfinite(better):
            value = engine_seconds(a) / better
            ratios.append(value)
            ratio = f"{value:.2f}" if _proved(a) else f"≥{value:.2f}"
        dims = "×".join(map(str, size))
        cells = [family, dims, str(seed), _fmt(h), _fmt(c), _fmt(a), engine, wall, nodes, ratio]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Seconds are each engine's CPU seconds (auto: the slower of its two engines, which run at once on the two"
        " cores); `≥`: stopped by the time limit (in wall seconds) without proving.",
    ]
    if ratios:
        lines.append(f"auto ÷ the better engine: median {statistics.median(ratios):.2f}, worst {max(ratios):.2f}")
    for tool in ("highs", "cbc", "auto"):
        rows = [r for r in data["rows"] if r["tool"] == tool and "error" not in r]
        small = [engine_seconds(r) for r in rows if tuple(r["size"]) == SMALL]
        if rows and small:
            proved = sum(_proved(r) for r in rows)
            median = statistics.median(small)
            dims = "×".join(map(str, SMALL))
            lines.append(f"- {tool}: proved {proved} of {len(rows)}; median at {dims} {median:.1f} s")
    return "\n".join(lines)


def _censored(row: dict[str, Any] | None, limit: float) -> float:
    """A tool's seconds to prove, the time limit when it did not (a crash counts as the limit)."""
    if row is None or "error" in row or not _proved(row):
        return limit
    return engine_seconds(row)


def target_report(path: Path) -> str:
    """Issue 20's targets, family by family: ``auto`` (the default) against the better peer
    (`PEERS`), a peer's time counted as the limit where it did not prove; and against the
    better of procure's own engines run alone."""
    data = _load(path)
    limit = max((float(r["time_limit"]) for r in data["rows"] if "time_limit" in r), default=LIMIT)
    at = {_key(r): r for r in data["rows"]}
    keys = sorted({(r["family"], tuple(r["size"]), r["seed"]) for r in data["rows"]}, key=lambda k: (k[1], k[0], k[2]))
    tools = ("auto", "highs", "cbc", *PEERS)
    lines = [
        "| family | size | seed | " + " | ".join(f"{t} s" for t in tools) + " | auto: engine | auto ÷ better peer"
        " | auto ÷ better engine |",
        "|---|---|---|" + "---|" * (len(tools) + 3),
    ]
    by_family: dict[str, list[tuple[float, bool, bool]]] = {}
    for family, size, seed in keys:
        rows = {t: at.get((t, family, size, seed)) for t in tools}
        if any(rows[t] is None for t in tools):  # not measured (yet): no ratio
            continue
        auto = rows["auto"]
        peer = min(_censored(rows[t], limit) for t in PEERS)
        engine = min(_censored(rows[t], limit) for t in ("highs", "cbc"))
        mine = _censored(auto, limit)
        peer_proved = any(_proved(rows[t]) for t in PEERS)
        slower = any(_proved(rows[t]) and engine_seconds(rows[t]) < mine for t in PEERS)  # type: ignore[arg-type]
        missed = peer_proved and not _proved(auto)
        ratio = mine / peer
        exact = _proved(auto) and peer_proved  # both times measured, not censored
        by_family.setdefault(family if size == SMALL else "base " + "×".join(map(str, size)), []).append(
            (ratio, slower, missed)
        )
        dims = "×".join(map(str, size))
        cells = [family, dims, str(seed), *(_fmt(rows[t]) for t in tools)]
        cells += [auto.get("solver", "–") if auto and "error" not in auto else "–"]
        cells += [f"{ratio:.2f}" if exact else (f"≤{ratio:.2f}" if _proved(auto) else f"~{ratio:.2f}")]
        cells += [f"{mine / engine:.2f}" if _proved(auto) else "–"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Seconds are CPU seconds (`auto`: the slower of its two engines); `≥`: not proved within {limit:.0f} s."
        " A ratio `≤`: the peer did not prove, its time counted as the limit; `~`: neither proved.",
        "",
        "| family | median auto ÷ better peer (target ≤ 0.5) | seeds slower than a peer (target 0)"
        " | problems a peer proves that auto does not (target 0) | met |",
        "|---|---|---|---|---|",
    ]
    for family, values in by_family.items():
        median = statistics.median(v[0] for v in values)
        slower, missed = sum(v[1] for v in values), sum(v[2] for v in values)
        met = median <= 0.5 and not slower and not missed
        lines.append(f"| {family} | {median:.2f} | {slower} | {missed} | {'yes' if met else 'no'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--one", nargs=5, metavar=("TOOL", "DIMS", "SEED", "FAMILY", "LIMIT"), help=argparse.SUPPRESS)
    parser.add_argument("--tools", nargs="+", default=["highs", "cbc"])
    parser.add_argument("--families", nargs="+", default=None)
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--large-seeds", nargs="*", type=int, default=[0, 1])
    parser.add_argument("--limit", type=float, default=LIMIT)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--again", action="store_true", help="measure rows already in the results file again")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--targets", action="store_true", help="issue 20's targets: auto against the peers")
    args = parser.parse_args()
    if args.one:
        tool, dims, seed, family, limit = args.one
        size = tuple(int(d) for d in dims.split(","))
        print(json.dumps(measure(tool, size, int(seed), family, float(limit))))
        return
    if args.report:
        print(report(Path(args.out)))
        return
    if args.targets:
        print(target_report(Path(args.out)))
        return
    run(args)


if __name__ == "__main__":
    main()
