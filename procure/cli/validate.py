"""``procure validate PLAN``: read and check every field of a problem, without solving it."""

from __future__ import annotations

import argparse
from typing import Any

from .common import OK, add_input_options, emit, option_error, print_json, read_problem

EXAMPLE = """\
Examples:
  procure validate examples/gigawatt_2026.toml
  procure validate plan.json --json

Every field is checked as procure.solve() would (types, ranges, names, periods);
the numbers of the whole model are checked when it is solved.
Exit codes: 0 valid, 2 invalid (the error names the field and the value).
"""


def register(commands: Any) -> None:
    p: argparse.ArgumentParser = commands.add_parser(
        "validate",
        help="check a problem file without solving it",
        description="Read a problem (.toml or .json), check every field, and describe it.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("plan", metavar="PLAN", help="the problem file (.toml or .json)")
    add_input_options(p)
    p.add_argument("--json", action="store_true", help="print the description (or the error) as JSON")
    p.set_defaults(run=run)


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def describe(problem: Any) -> dict[str, Any]:
    """The problem's shape: its periods, offers, vendors, sites and scenarios."""
    return {
        "name": problem.name,
        "periods": list(problem.periods),
        "offers": [o.name for o in problem.offers],
        "vendors": [v.name for v in problem.vendors],
        "sites": [s.name for s in problem.sites],
        "workloads": list(problem.workloads or ()),
        "scenarios": [s.name for s in problem.risk.scenarios],
        "demand_scenarios": [s.name for s in problem.demand_scenarios],
    }


def text(shape: dict[str, Any]) -> str:
    periods = shape["periods"]
    span = f"{periods[0]}–{periods[-1]}" if len(periods) > 1 else f"{periods[0]}"
    parts = [
        f"{_count(len(periods), 'period')} ({span})",
        _count(len(shape["offers"]), "offer"),
        _count(len(shape["vendors"]), "vendor"),
        _count(len(shape["sites"]), "site"),
        _count(len(shape["scenarios"]), "disruption scenario"),
    ]
    if shape["workloads"]:
        parts.append(_count(len(shape["workloads"]), "workload"))
    if shape["demand_scenarios"]:
        parts.append(_count(len(shape["demand_scenarios"]), "demand scenario"))
    lines = [f"{shape['name']}: " + ", ".join(parts)]
    for key in ("offers", "vendors", "sites", "scenarios", "demand_scenarios"):
        if shape[key]:
            lines.append(f"  {key.replace('_', ' ')}: {', '.join(shape[key])}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import procure

    try:
        problem = read_problem(args)
    except procure.ProblemError as exc:
        if args.json:
            print_json({"valid": False, "error": option_error(exc), "path": exc.path})
        raise
    shape = describe(problem)
    if args.json:
        print_json({"valid": True, **shape})
    else:
        emit(text(shape))
        emit("valid")
    return OK
