"""``procure export PLAN MODEL``: the problem's mixed-integer program as an MPS or LP file."""

from __future__ import annotations

import argparse
from typing import Any

from .common import OK, CliError, Console, add_input_options, emit, output_kind, read_problem

EXAMPLE = """\
Examples:
  procure export examples/gigawatt_2026.toml model.mps
  procure export plan.toml model.lp
  highs model.mps            # or any solver that reads MPS / LP files

Rows and columns carry procure's names (power_cap[2027], lots[tpu-v7,2026]).
Exit codes: 0 written, 2 bad input (the problem, or the file's suffix or directory).
"""


def register(commands: Any) -> None:
    p: argparse.ArgumentParser = commands.add_parser(
        "export",
        help="write the problem's model as an MPS or LP file",
        description="Write the mixed-integer program that procure solves to an MPS (.mps) or LP (.lp) file.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("plan", metavar="PLAN", help="the problem file (.toml or .json)")
    p.add_argument("model", metavar="MODEL", help="the file to write: model.mps or model.lp")
    add_input_options(p)
    p.add_argument("--scaled", action="store_true", help="write the scaled form procure's HiGHS adapter solves")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress messages on standard error")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import procure

    output_kind(args.model, "MODEL", {".mps": "mps", ".lp": "lp"})
    problem = read_problem(args)
    console = Console(args.quiet)
    try:
        written = procure.write_model(problem, args.model, scaled=args.scaled)
    except OSError as exc:
        raise CliError(f"MODEL {args.model!r}: cannot be written ({exc})") from None
    emit(f"wrote {written}")
    console.say(f"in {console.elapsed()}")
    return OK
