"""``procure sweep PLAN --vary PATH=VALUES ...``: solve every combination of the values."""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from contextlib import ExitStack
from typing import Any

import pandas as pd

from ..base.errors import ProblemError
from ..problem.fields import get_value, set_value
from ..sweeps.sweep import display_table, local_cluster, no_plan_message
from .common import (
    BAD_INPUT,
    FAILED,
    NO_PLAN,
    OK,
    TABLE_KINDS,
    CliError,
    Console,
    add_input_options,
    add_solve_options,
    check_solve_options,
    emit,
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
  procure sweep plan.toml --vary 'offers[gb300-nvl72].unit_cost=30000:50000:5'
  procure sweep plan.toml --vary 'power_cap_gw[2027]=2.5,3,3.5' --vary 'risk.max_share=0.5,0.6' --workers 2
  procure sweep plan.toml --vary 'budget[2026]=15e9:20e9:6' --scheduler tcp://10.0.0.5:8786 --out sweep.csv

--vary PATH=LO:HI:N is N evenly spaced values from LO to HI (whole numbers when LO
and HI are and the step is whole); PATH=a,b,c is a list (numbers, true/false, or
text).  Several --vary make a grid: every combination, the last varying fastest,
at most 100,000 variants.  Paths name one field as in docs/problem-format.md ("Paths").
--explain diagnoses each variant without a plan (the conflict and the repairs).
Exit codes: 0 at least one variant has a plan, 1 none has, 2 bad input (also any
variant the problem does not accept), 3 solver or dask failed (any variant).
"""

_NUMBER = r"[-+]?(?:\d[\d_]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"\s*({_NUMBER})\s*:\s*({_NUMBER})\s*:\s*(\d+)\s*")
_INT = re.compile(r"\s*[-+]?\d[\d_]*\s*")
#: The most values one --vary may give (a grid multiplies them).
MAX_VALUES = 10_000
#: The most variants a sweep may have: the product of the numbers of values of its --vary.
MAX_VARIANTS = 100_000
#: The hint in the message of a variant without a plan, when the sweep did not diagnose it.
EXPLAIN_HINT = "--explain names the conflict and the repairs"
#: Lists of named entries, as an error names one of their items: by position.
_ENTRY = re.compile(r"\b(offers|vendors|sites|demand_scenarios|risk\.scenarios)\[(\d+)\]")


def register(commands: Any) -> None:
    p: argparse.ArgumentParser = commands.add_parser(
        "sweep",
        help="solve a grid of variants of a problem (in process or on dask)",
        description="Solve every combination of the --vary values and print one row per variant.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("plan", metavar="PLAN", help="the problem file (.toml or .json)")
    p.add_argument(
        "--vary",
        action="append",
        required=True,
        metavar="PATH=VALUES",
        help="a field and its values: PATH=LO:HI:N or PATH=a,b,c (repeatable: a grid)",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N", help="solve on a local dask cluster of N processes")
    where.add_argument("--scheduler", metavar="ADDRESS", help="solve on the dask scheduler at ADDRESS")
    add_solve_options(p, per=" per variant")
    p.add_argument(
        "--explain",
        action="store_true",
        help="diagnose each variant without a plan: the conflict and the repairs (several solves each)",
    )
    add_input_options(p)
    p.add_argument("--out", metavar="FILE", help="write the table: sweep.csv or sweep.json")
    p.add_argument("--json", action="store_true", help="print the table as JSON records")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress on standard error")
    p.set_defaults(run=run)


def _value(text: str, option: str) -> Any:
    """One listed value: a JSON literal (number, true, false, null, "text"), else the text;
    a `CliError` naming the option for a number that is not finite (``inf``, ``nan``,
    ``1e999``) and for text that looks like a range but is not one (``1:inf:3``)."""
    item = text.strip()
    try:
        value = json.loads(item)
    except ValueError:
        number = item.replace("_", "")
        try:
            value = int(number) if _INT.fullmatch(item) else float(number)
        except ValueError:
            value = item
    if isinstance(value, float) and not math.isfinite(value):
        raise CliError(f"--vary {option!r}: {item!r} is not a finite number")
    if isinstance(value, str) and ":" in value and not item.startswith('"'):
        raise CliError(
            f"--vary {option!r}: {item!r} is not a range LO:HI:N of finite numbers LO, HI and a whole N "
            '(write text with a colon in double quotes: "a:b")'
        )
    return value


def parse_values(text: str, option: str) -> list[Any]:
    """The values of ``LO:HI:N`` or ``a,b,c`` (see the command's help)."""
    found = _RANGE.fullmatch(text)
    if found is not None:
        low_text, high_text, count_text = found.groups()
        count = int(count_text)
        low, high = float(low_text.replace("_", "")), float(high_text.replace("_", ""))
        if not (math.isfinite(low) and math.isfinite(high)):
            raise CliError(f"--vary {option!r}: the range's ends must be finite numbers")
        if not 1 <= count <= MAX_VALUES or (count == 1 and low != high):
            raise CliError(f"--vary {option!r}: N = {count} must be from 2 to {MAX_VALUES} (or 1 when LO equals HI)")
        if count == 1:
            return [_value(low_text, option)]
        step = (high - low) / (count - 1)
        whole = bool(_INT.fullmatch(low_text) and _INT.fullmatch(high_text)) and float(step).is_integer()
        if whole:
            start, size = int(low_text.replace("_", "")), int(step)
            return [start + k * size for k in range(count)]
        return [low + k * step for k in range(count - 1)] + [high]
    if not text.strip():
        raise CliError(f"--vary {option!r}: no values after '=' (give LO:HI:N or a,b,c)")
    items = text.split(",")
    if any(not item.strip() for item in items):
        raise CliError(f"--vary {option!r}: an empty value in the list (give a,b,c)")
    if len(items) > MAX_VALUES:
        raise CliError(f"--vary {option!r}: more than {MAX_VALUES} values")
    return [_value(item, option) for item in items]


def parse_vary(options: list[str]) -> dict[str, list[Any]]:
    """The grid ``{path: [values]}`` of the ``--vary`` options, in their order."""
    grid: dict[str, list[Any]] = {}
    for option in options:
        path, sep, values = option.partition("=")
        path = path.strip()
        if not sep or not path:
            raise CliError(f"--vary {option!r}: must be PATH=LO:HI:N or PATH=a,b,c")
        if path in grid:
            raise CliError(f"--vary {option!r}: {path} is varied twice (give its values in one --vary)")
        grid[path] = parse_values(values, option)
    count = math.prod(len(v) for v in grid.values())
    if count > MAX_VARIANTS:
        flags = " × ".join(f"--vary {option!r} ({len(v):,})" for option, v in zip(options, grid.values()))
        raise CliError(f"{flags}: {count:,} variants, more than the {MAX_VARIANTS:,} a sweep may have")
    return grid


def _check_paths(problem: Any, grid: dict[str, list[Any]], options: list[str]) -> None:
    """Every path names a field of the problem: an error names its --vary before any solve."""

    for path, option in zip(grid, options):
        try:
            get_value(problem, path)
        except ProblemError as exc:
            raise CliError(f"--vary {option!r}: {exc}") from None


def _by_name(problem: Any, changes: Any, message: str) -> str:
    """An error of a variant with each entry it names by position (``offers[0]``) named as a
    --vary names it (``offers[gb300]``), in the variant's own problem mapping."""

    data = problem.to_dict()
    try:
        for path, value in (changes or {}).items():
            set_value(data, path, value)
    except ProblemError:
        pass  # named by the problem's own entries

    def name(found: re.Match[str]) -> str:
        where, k = found.group(1), int(found.group(2))
        items = (data.get("risk") or {}).get("scenarios") if where == "risk.scenarios" else data.get(where)
        item = items[k] if isinstance(items, list) and k < len(items) else None
        named = item.get("name") if isinstance(item, dict) else None
        return f"{where}[{named}]" if isinstance(named, str) and named else found.group(0)

    return _ENTRY.sub(name, message)


def _messages(problem: Any, swept: Any, explain: bool) -> pd.DataFrame:
    """The sweep's table in the command line's words: an invalid variant's error names entries
    as a --vary does, and a variant without a plan says how this command diagnoses it."""

    table = swept.table
    for k, status in table["status"].items():
        result = swept.results[k]
        if status == "invalid":
            table.loc[k, "message"] = _by_name(problem, swept.variants[k], str(table.loc[k, "message"]))
        elif status == "infeasible" and result is not None and not explain:
            table.loc[k, "message"] = no_plan_message(result, EXPLAIN_HINT)
    return table


def _executor(args: argparse.Namespace, stack: ExitStack, console: Console) -> Any:
    """None (in process), a dask LocalCluster's Client (``--workers``), or a Client of a scheduler."""
    if args.workers is None and args.scheduler is None:
        return None
    if args.workers is not None and args.workers < 1:
        raise CliError(f"--workers {args.workers}: must be a whole number ≥ 1")
    try:
        from dask.distributed import Client

    except ImportError:
        raise CliError("dask is not installed: pip install 'procure[dask]'", FAILED) from None
    try:
        if args.workers is not None:
            console.say(f"starting a local dask cluster of {args.workers} worker processes …")
            return stack.enter_context(local_cluster(args.workers))  # Ctrl-C closes it at once, quietly
        console.say(f"connecting to the dask scheduler at {args.scheduler} …")
        return stack.enter_context(Client(args.scheduler, timeout="20s"))
    except (OSError, TimeoutError) as exc:
        where = f"--scheduler {args.scheduler!r}" if args.scheduler else f"--workers {args.workers}"
        raise CliError(f"{where}: the dask cluster could not be reached or started ({exc})", FAILED) from None


def _exit_code(table: pd.DataFrame) -> int:
    status = table["status"]
    if (status == "invalid").any():
        return BAD_INPUT
    if (~status.isin(("optimal", "feasible", "infeasible", "unbounded"))).any():
        return FAILED
    return OK if status.isin(("optimal", "feasible")).any() else NO_PLAN


def table_text(table: pd.DataFrame, *, scenarios: bool = True) -> str:
    """The table for a terminal, its numbers as people read them (`procure.sweeps.sweep.display_table`:
    no CVaR column without disruption scenarios), without the messages (listed below it) and
    seconds."""

    shown = display_table(
        table.drop(columns=[c for c in ("message", "seconds") if c in table.columns]), scenarios=scenarios
    )
    lines = [shown.to_string()]
    notes = [(k, m) for k, m in table["message"].items() if isinstance(m, str) and m]
    lines += [f"variant {k}: {m}" for k, m in notes]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import procure

    out = output_kind(args.out, "--out", TABLE_KINDS) if args.out is not None else None
    grid = parse_vary(args.vary)
    if args.workers is not None and args.workers < 1:
        raise CliError(f"--workers {args.workers}: must be a whole number ≥ 1")
    check_solve_options(args)
    problem = read_problem(args)  # every input error before the first message
    _check_paths(problem, grid, args.vary)  # a path that names nothing stops here, before any solve
    count = math.prod(len(v) for v in grid.values())
    console = Console(args.quiet)
    with ExitStack() as stack:
        executor = _executor(args, stack, console)
        where = "in this process" if executor is None else f"on {executor}"
        console.say(f"sweeping {count} variants of {args.plan} with {solver_name(args)} {where} …")
        swept = procure.sweep(
            problem, grid, executor=executor, progress=not args.quiet, explain=args.explain, **solve_kwargs(args)
        )
    table = _messages(problem, swept, args.explain)
    code = _exit_code(table)
    console.say(f"{swept!r} in {console.elapsed()}")
    if args.json:
        print_json(table_records(table))
    else:
        scenarios = bool(problem.risk.scenarios) or any(
            r is not None and bool(r.problem.risk.scenarios) for r in swept.results
        )
        emit(table_text(table, scenarios=scenarios))
    if out is not None:
        write_table(table, args.out, out)
        console.say(f"wrote {args.out}")
    if code == BAD_INPUT:
        bad = table[table["status"] == "invalid"]
        for k, message in bad["message"].items():
            print(f"procure sweep: error: variant {k} is invalid: {message}", file=sys.stderr)
    return code
