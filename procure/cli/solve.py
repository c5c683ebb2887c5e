"""``procure solve PLAN``: the least-cost plan, as a report in the terminal and in files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .common import (
    BAD_INPUT,
    CliError,
    Console,
    add_input_options,
    add_solve_options,
    check_solve_options,
    cli_words,
    emit,
    exit_for_status,
    needs_method,
    output_kind,
    print_json,
    read_problem,
    solve_kwargs,
    solver_name,
)

EXAMPLE = """\
Examples:
  procure solve examples/gigawatt_2026.toml
  procure solve plan.toml --time-limit 60 --gap 0.001 --out plan.json --report plan.html
  procure solve plan.toml --json --quiet | jq .cost

--out writes the result by its suffix: .json (the result's to_dict JSON), .csv or
.xlsx (its tables); --report writes an HTML report.  Without a plan, .csv and .xlsx
are not written (.json and the report say why there is none).
Exit codes: 0 plan found, 1 no plan (infeasible/unbounded), 2 bad input,
3 solver missing or failed (including a time limit reached before any plan).
"""

#: ``--out`` suffix → the `Result` method that writes it.
OUT_KINDS = {".json": "to_json", ".csv": "to_csv", ".xlsx": "to_excel"}
REPORT_KINDS = {".html": "report", ".htm": "report"}


def register(commands: Any) -> None:
    p: argparse.ArgumentParser = commands.add_parser(
        "solve",
        help="find the least-cost plan of a problem and report it",
        description="Solve a problem (.toml or .json) and print its summary: cost, a table per period, units bought.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("plan", metavar="PLAN", help="the problem file (.toml or .json)")
    add_input_options(p)
    add_solve_options(p)
    p.add_argument("--out", metavar="FILE", help="write the result: plan.json, plan.csv or plan.xlsx")
    p.add_argument("--report", metavar="FILE", help="write an HTML report: plan.html")
    p.add_argument("--json", action="store_true", help="print the result as JSON instead of the summary")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress messages on standard error")
    p.set_defaults(run=run)


def _check_outputs(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """The methods that will write ``--out`` and ``--report``, checked before solving."""
    import procure

    out = report = None
    if args.out is not None:
        out = output_kind(args.out, "--out", OUT_KINDS)
        if out != "to_json":
            needs_method(procure.Result, out, "--out", args.out, "report")
    if args.report is not None:
        report = output_kind(args.report, "--report", REPORT_KINDS)
        needs_method(procure.Result, report, "--report", args.report, "report")
    return out, report


def _write(result: Any, method: str, path: str, option: str) -> None:
    writer = getattr(result, method, None)
    if method == "to_json" and writer is None:  # a TreeResult has to_dict only
        Path(path).write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
        return
    if writer is None:
        raise CliError(f"{option} {path!r}: a {type(result).__name__} cannot be written as {Path(path).suffix}")
    try:
        writer(path)
    except OSError as exc:
        raise CliError(f"{option} {path!r}: cannot be written ({exc.strerror or exc})", BAD_INPUT) from None


def run(args: argparse.Namespace) -> int:
    import procure

    out, report = _check_outputs(args)
    check_solve_options(args, mpisppy=True)
    problem = read_problem(args)  # every input error before the first message
    console = Console(args.quiet)
    console.say(f"solving {args.plan} with {solver_name(args)} …")
    result = procure.solve(problem, **solve_kwargs(args))
    code = exit_for_status(result.status, result.has_plan)
    engine = f" by {result.solver}" if result.solver and result.solver != solver_name(args) else ""
    console.say(f"{result.status} ({result.termination}){engine} in {console.elapsed()}")
    if args.json:
        print_json(result.to_dict())
    else:
        emit(cli_words(result.summary(), args.plan))
    tables = out in ("to_csv", "to_excel")
    for method, path, option in ((out, args.out, "--out"), (report, args.report, "--report")):
        if method is None:
            continue
        if tables and option == "--out" and not result.has_plan:
            console.say(f"no plan: {path} not written")
            continue
        _write(result, method, path, option)
        console.say(f"wrote {path}")
    return code
