"""``procure frontier PLAN``: what less risk costs, point by point."""

from __future__ import annotations

import argparse
from typing import Any

from ..analysis.frontier import MAX_POINTS, pick_measure
from .common import (
    TABLE_KINDS,
    CliError,
    Console,
    add_input_options,
    add_solve_options,
    check_solve_options,
    cli_words,
    emit,
    exit_for_status,
    output_kind,
    print_json,
    read_problem,
    solve_kwargs,
    solver_name,
    table_records,
    write_table,
)

EXAMPLE = """\
Examples:
  procure frontier plan.toml --plot frontier.png
  procure frontier plan.toml --measure cvar --points 10
  procure frontier plan.toml --measure max_share --points 5 --plot frontier.png --out frontier.csv

Measures: cvar (CVaR of the disruption loss; needs risk.scenarios and a shortfall
penalty), hhi (concentration), max_share (largest vendor share), scenario_cvar (with
demand_scenarios, and then the only one).  Without --measure: scenario_cvar with
demand_scenarios, else cvar when the problem has what it needs, else max_share.
Each point is the cheapest plan whose risk is at most its level.
Exit codes: 0 the frontier was traced, 1 the problem has no plan, 2 bad input,
3 solver missing or failed.
"""


def register(commands: Any) -> None:
    p: argparse.ArgumentParser = commands.add_parser(
        "frontier",
        help="trace the cost–risk frontier (what less risk costs)",
        description="Trace the cost–risk frontier by the epsilon-constraint method and print its table.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("plan", metavar="PLAN", help="the problem file (.toml or .json)")
    p.add_argument(
        "--measure",
        default=None,
        help="cvar, hhi, max_share or scenario_cvar (default: the first this problem has of "
        "scenario_cvar, cvar, max_share)",
    )
    p.add_argument("--points", type=int, default=10, metavar="N", help="number of points (default: 10)")
    add_input_options(p)
    add_solve_options(p, per=" for the whole frontier, shared out over its points")
    p.add_argument("--plot", metavar="FILE", help="save the frontier's plot (frontier.png, .pdf, .svg)")
    p.add_argument("--out", metavar="FILE", help="write the table: frontier.csv or frontier.json")
    p.add_argument("--json", action="store_true", help="print the table as JSON records")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress messages on standard error")
    p.set_defaults(run=run)


def _check_plot(path: str) -> None:
    try:
        import matplotlib
    except ImportError:
        raise CliError(f"--plot {path!r}: plots need matplotlib: pip install 'procure[plot]'") from None
    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    kinds = {f".{k}": k for k in Figure().canvas.get_supported_filetypes()}
    output_kind(path, "--plot", kinds)


def run(args: argparse.Namespace) -> int:
    import procure

    out = output_kind(args.out, "--out", TABLE_KINDS) if args.out is not None else None
    if args.plot is not None:
        _check_plot(args.plot)
    if not 2 <= args.points <= MAX_POINTS:
        raise CliError(f"--points: {args.points} must be a whole number from 2 to {MAX_POINTS}")
    check_solve_options(args)
    problem = read_problem(args)  # every input error before the first message
    measure = pick_measure(problem, args.measure)
    console = Console(args.quiet)
    console.say(f"tracing the {measure} frontier of {args.plan} ({args.points} points, {solver_name(args)}) …")
    front = procure.frontier(problem, measure, args.points, progress=not args.quiet, **solve_kwargs(args))
    cheapest = front.results[0]
    code = exit_for_status(cheapest.status, cheapest.has_plan)
    points = len(front.table)
    console.say(f"{points} point{'' if points == 1 else 's'} in {console.elapsed()}")
    table = front.table
    if args.json:
        print_json(table_records(table))
    else:
        if not cheapest.has_plan:
            emit(f"{cheapest.problem.name}: {cheapest.status}: {cli_words(cheapest.message, args.plan)}")
        emit(front.display().to_string())
    if out is not None:
        write_table(table, args.out, out)
        console.say(f"wrote {args.out}")
    if args.plot is not None and not cheapest.has_plan:
        console.say(f"no plan: {args.plot} not written")
    elif args.plot is not None:
        import matplotlib.pyplot as plt

        fig = front.plot(args.plot)
        plt.close(fig)
        console.say(f"wrote {args.plot}")
    return code
