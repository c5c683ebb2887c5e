"""HiGHS's heuristic effort (``mip_heuristic_effort``) on every benchmark family.

Each problem of `generate.FAMILIES` (seeds 0–2 at 4 × 10 × 10 × 50) and the base family at
6 × 15 × 10 × 50 and 8 × 25 × 15 × 200 (seeds 0–1) is solved in a fresh process by
``procure.solve(problem, solver="highs", threads=1, mip_gap=1e-4, time_limit=60,
solver_options={"mip_heuristic_effort": E})`` for each effort ``E``, ``--jobs`` at a time;
the row records the CPU seconds of the solve (model build included) and its status.

    python benchmarks/heuristic_effort.py --efforts 0.05 0.3 0.5 --jobs 2     # ~40 min
    python benchmarks/heuristic_effort.py --table                           # from the results file

The effort is chosen on seeds 0–1 and checked on seed 2 (``--table`` prints both sums, with
60 s counted for a problem not proved).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))  # the procure of this checkout

OUT = HERE / "results-heuristic-effort.json"
SMALL = "4x10x10x50"
LARGE = ("6x15x10x50", "8x25x15x200")
LIMIT = 60.0


def _one(family: str, seed: int, effort: float, size: str) -> dict[str, Any]:
    """One solve in this process: CPU seconds and status."""
    from generate import generate

    import procure

    v, o, t, s = (int(x) for x in size.split("x"))
    problem = generate(v, o, t, seed=seed, scenarios=s, family=family)
    started = time.process_time()
    options = {"mip_heuristic_effort": effort}
    result = procure.solve(problem, solver="highs", threads=1, mip_gap=1e-4, time_limit=LIMIT, solver_options=options)
    return {
        "family": family,
        "seed": seed,
        "effort": effort,
        "size": size,
        "cpu": round(time.process_time() - started, 2),
        "status": str(result.status),
        "gap": result.gap,
    }


def _problems(families: list[str]) -> list[tuple[str, int, str]]:
    out = [(f, s, SMALL) for f in families for s in (0, 1, 2)]
    return out + [("base", s, size) for size in LARGE for s in (0, 1)]


def _run(args: argparse.Namespace) -> None:
    from generate import FAMILIES

    rows = json.loads(OUT.read_text()) if OUT.exists() else []
    done = {(r["family"], r["seed"], r["effort"], r["size"]) for r in rows}
    todo = [
        (f, s, e, size)
        for e in args.efforts
        for f, s, size in _problems(args.families or list(FAMILIES))
        if (f, s, e, size) not in done
    ]

    def measure(job: tuple[str, int, float, str]) -> dict[str, Any]:
        f, s, e, size = job
        out = subprocess.run(
            [sys.executable, __file__, "--one", f, str(s), str(e), size], capture_output=True, text=True, check=True
        )
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))

    with ThreadPoolExecutor(args.jobs) as pool:
        for row in pool.map(measure, todo):
            rows.append(row)
            OUT.write_text(json.dumps(rows, indent=1))
            print(json.dumps(row), flush=True)


def _table() -> None:
    rows = json.loads(OUT.read_text())
    by: dict[tuple[str, str, int], dict[float, float]] = {}
    for r in rows:
        by.setdefault((r["family"], r["size"], r["seed"]), {})[r["effort"]] = (
            r["cpu"] if r["status"] == "optimal" else LIMIT
        )
    efforts = sorted({r["effort"] for r in rows})
    print("| family | size | seed | " + " | ".join(f"effort {e:g} s" for e in efforts) + " |")
    print("|---|---|---|" + "---|" * len(efforts))
    for (f, size, s), t in sorted(by.items()):
        cells = " | ".join(("≥60" if t.get(e) == LIMIT else f"{t[e]:.1f}") if e in t else "–" for e in efforts)
        print(f"| {f} | {size.replace('x', '×')} | {s} | {cells} |")
    # the sums: over the problems every effort measured on 20 problems or more solved (an effort
    # whose run was stopped early is left out of them)
    full = [e for e in efforts if sum(e in t for t in by.values()) >= 20]
    common = [k for k, t in by.items() if all(e in t for e in full)]
    for e in full:
        train = sum(by[k][e] for k in common if k[2] < 2)
        held = sum(by[k][e] for k in common if k[2] == 2)
        total = train + held
        print(f"effort {e:g}: {len(common)} problems, seeds 0–1 {train:.1f} s, seed 2 {held:.1f} s, all {total:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", nargs=4, metavar=("FAMILY", "SEED", "EFFORT", "SIZE"), help=argparse.SUPPRESS)
    parser.add_argument("--efforts", nargs="+", type=float, default=[0.05, 0.3, 0.5])
    parser.add_argument("--families", nargs="+", default=None)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--table", action="store_true")
    args = parser.parse_args()
    if args.one:
        f, s, e, size = args.one
        print(json.dumps(_one(f, int(s), float(e), size)))
    elif args.table:
        _table()
    else:
        _run(args)


if __name__ == "__main__":
    main()
