"""``procure explain PLAN``: why a problem has no plan, and the repairs that would give one."""

from __future__ import annotations

import argparse
from typing import Any

import pandas as pd

from .common import (
    NO_PLAN,
    OK,
    CliError,
    Console,
    add_input_options,
    add_solve_options,
    check_solve_options,
    emit,
    print_json,
    read_problem,
    solve_kwargs,
    solver_name,
    table_records,
)

EXAMPLE = """\
Examples:
  procure explain plan.toml
  procure explain plan.toml --fixed demand --fixed offers[tpu7x-ironwood] --time-limit 60
  procure explain plan.toml --json

--fixed PREFIX keeps every field under that path unchanged in the repairs
('demand', 'power_cap_gw[2027]', 'vendors[nvidia]'); it may be given several times.
Exit codes: 1 the problem has no plan (it was explained), 0 it has a plan after all,
2 bad input, 3 solver missing or failed.
"""

REPAIR_COLUMNS = ["repair", "requirement", "old", "new", "change", "unit", "cost", "status"]


def register(commands: Any) -> None:
    p: argparse.ArgumentParser = commands.add_parser(
        "explain",
        help="why a problem has no plan: the conflict and the repairs",
        description="Diagnose a problem without a plan: the requirements that cannot hold together, "
        "and repairs that each give a plan (with their cost).",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("plan", metavar="PLAN", help="the problem file (.toml or .json)")
    p.add_argument(
        "--fixed",
        action="extend",
        nargs="+",
        default=[],
        metavar="PREFIX",
        help="path prefixes no repair may change (repeatable)",
    )
    add_input_options(p)
    add_solve_options(p, per=" for the whole diagnosis (default: 120)")
    p.add_argument("--json", action="store_true", help="print the diagnosis as JSON")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress messages on standard error")
    p.set_defaults(run=run)


def repairs_text(shown: pd.DataFrame) -> str:
    """The repairs for a terminal, as `procure.Diagnosis.display` shows them: ``old``, ``new``
    and ``change`` in the field's unit, the repaired plan's cost in dollars."""
    return shown[[c for c in REPAIR_COLUMNS if c in shown.columns]].to_string(index=False)


def run(args: argparse.Namespace) -> int:
    import procure

    for prefix in args.fixed:
        if not prefix.strip():
            raise CliError(f"--fixed {prefix!r}: not a path prefix (e.g. 'demand', 'power_cap_gw[2027]')")
    check_solve_options(args)
    problem = read_problem(args)  # every input error before the first message
    console = Console(args.quiet)
    console.say(f"explaining {args.plan} with {solver_name(args)} …")
    diagnosis = procure.explain(problem, fixed=[f.strip() for f in args.fixed], **solve_kwargs(args))
    console.say(f"diagnosed in {console.elapsed()}")
    if args.json:
        print_json(
            {
                "name": diagnosis.problem.name,
                "has_plan": diagnosis.has_plan,
                "message": diagnosis.message,
                "conflict_minimal": diagnosis.conflict_minimal,
                "fixed": list(diagnosis.fixed),
                "conflict": table_records(diagnosis.conflict_table.set_index("requirement")),
                "repairs": table_records(diagnosis.repairs.set_index("repair")),
                "seconds": diagnosis.seconds,
            }
        )
    else:
        emit(diagnosis)
        repairs = diagnosis.repairs
        if not diagnosis.has_plan and not repairs.empty:
            emit()
            emit("Repairs (one row per field changed; 'cost' is what the repaired plan costs):")
            emit(repairs_text(diagnosis.display()))
    return OK if diagnosis.has_plan else NO_PLAN
