"""``procure tree PLAN --total LOW,MID,HIGH --branching K --out tree.json``: a demand tree
from a forecast (or from simulated paths, or a smaller tree of a big one), ready to solve."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..problem.io import read_file
from ..stochastic.forecast import growth_tree, reduce_tree, tree_from_paths
from .common import OK, CliError, add_input_options, emit, read_problem

EXAMPLE = """\
Examples:
  procure tree plan.toml --total 3,5,8 --by 2029 --branching 3 --out tree.json
  procure tree plan.toml --growth 1.5,2,2.8 --branching 3,2,1 --out tree.json
  procure tree plan.toml --paths simulated.csv --branching 3 --out tree.json
  procure tree big-tree.json --reduce 27 --out tree.json
  procure solve tree.json

--total: the 10%, 50% and 90% quantiles of the demand multiple from the first period to --by
(default the last period); --growth: the same for every year's multiple over the year before.
--paths: a CSV of simulated demand paths, one row per path, one column per period.
--branching: children per year after the first (one number, or one per year).

Exit codes: 0 the tree was written, 2 bad input (the field or argument is named).
"""


def register(commands: Any) -> None:
    p: argparse.ArgumentParser = commands.add_parser(
        "tree",
        help="build a demand tree from a forecast, simulated paths, or a bigger tree",
        description="Build a demand tree (demand_scenarios) from a growth forecast, from simulated "
        "demand paths, or by reducing a tree; write the problem with it as JSON.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("plan", metavar="PLAN", help="the problem file (.toml or .json)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--total", metavar="LOW,MID,HIGH", help="quantiles of the multiple from the first period to --by"
    )
    source.add_argument("--growth", metavar="LOW,MID,HIGH", help="quantiles of every year's multiple")
    source.add_argument("--paths", metavar="CSV", help="simulated demand paths: rows = paths, columns = periods")
    source.add_argument("--reduce", metavar="N", type=int, help="keep N paths of the problem's tree")
    p.add_argument("--by", type=int, metavar="PERIOD", help="the period --total reaches (default: the last)")
    p.add_argument("--branching", metavar="K[,K...]", help="children per year after the first")
    p.add_argument("--out", required=True, metavar="FILE", help="where to write the problem with its tree (.json)")
    add_input_options(p)
    p.set_defaults(run=run)


def _numbers(text: str, flag: str, kind: type = float) -> list[Any]:
    try:
        return [kind(x) for x in text.split(",")]
    except ValueError:
        raise CliError(f"{flag}: {text!r} is not a comma-separated list of numbers") from None


def run(args: argparse.Namespace) -> int:
    import io

    import pandas as pd

    problem = read_problem(args)
    if args.reduce is None and args.branching is None:
        raise CliError("tree: --branching is required with --total, --growth or --paths")
    branching = _numbers(args.branching, "--branching", int) if args.branching else None
    children: Any = branching[0] if branching and len(branching) == 1 else branching
    if args.total is not None or args.growth is not None:
        quantiles = tuple(_numbers(args.total or args.growth, "--total" if args.total else "--growth"))
        if len(quantiles) != 3:
            raise CliError("--total/--growth: give three numbers, the 10%, 50% and 90% quantiles")
        given = {"total": quantiles, "by": args.by} if args.total is not None else {"growth": quantiles}
        tree = growth_tree(problem, branching=children, **given)
        note = f"{len(tree.demand_scenarios)} paths from the forecast"
    elif args.paths is not None:
        data = read_file(args.paths, f"--paths {args.paths!r}")  # a regular file, size bounded before reading
        try:
            paths = pd.read_csv(io.BytesIO(data))
        except ValueError as exc:
            raise CliError(f"--paths {args.paths!r}: cannot be read as CSV ({exc})") from None
        tree = tree_from_paths(problem, paths, branching=children)
        note = f"{len(tree.demand_scenarios)} paths from {len(paths):,} simulated paths"
    else:
        reduced = reduce_tree(problem, args.reduce)
        tree = reduced.problem
        kept = len(tree.demand_scenarios)
        note = f"{kept} paths kept (distance {reduced.relative:.1%} of that of the best single path)"
    out = Path(args.out)
    try:
        tree.to_json(out)
    except OSError as exc:
        raise CliError(f"--out {args.out!r}: cannot be written ({exc})") from None
    emit(f"wrote {out}: {note}")
    emit(f"next: procure solve {out}")
    return OK
