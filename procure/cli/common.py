"""What every command of the ``procure`` command line shares: exit codes, errors, the
solve options, output files and messages on standard error."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..base import fmt
from ..base.errors import ProblemError
from ..problem.format import Problem
from ..solvers import DEFAULT_SOLVER, get_adapter
from ..solvers.options import solve_options

if TYPE_CHECKING:
    from ..problem.format import Problem

__all__ = [
    "BAD_INPUT",
    "FAILED",
    "INTERRUPTED",
    "NO_PLAN",
    "OK",
    "CliError",
    "Console",
    "add_input_options",
    "add_solve_options",
    "check_solve_options",
    "cli_words",
    "emit",
    "exit_for_status",
    "needs_method",
    "option_error",
    "output_kind",
    "print_json",
    "read_problem",
    "solve_kwargs",
    "solver_name",
    "table_records",
    "write_table",
]

#: A plan was found (``validate``: the input is valid; ``init``, ``export``: the files were written).
OK = 0
#: No plan exists: the problem is infeasible or unbounded.
NO_PLAN = 1
#: Bad input: the problem file, an option's value, a ``--vary``, an output path.
BAD_INPUT = 2
#: The solver (or the dask cluster) is missing or failed: no plan, and no proof that none exists.
FAILED = 3
#: Ctrl-C.
INTERRUPTED = 130

#: The CLI option behind a `ProblemError` path of a solve option.
OPTION_OF_PATH = {
    "solver": "--solver",
    "time_limit": "--time-limit",
    "mip_gap": "--gap",
    "threads": "--threads",
    "measure": "--measure",
    "points": "--points",
    "executor": "--scheduler",
}


#: Python words of the library's messages, and the command line's words for the same thing.
CLI_WORDS = (
    (" (force=True overwrites)", " (use --force to overwrite)"),
    ("procure.solve(problem)", "--solver auto"),
    (" (or None)", ""),
    ("allow_paths=[folder], on the command line ", ""),
)


def cli_words(text: str, plan: str | None = None) -> str:
    """A library message in the command line's words: no Python call or keyword
    (``force=True``, ``procure.solve(problem)``, ``(or None)``) that a user of the
    command cannot type; with the problem file ``plan``, ``result.explain()`` becomes
    the command that explains it (``procure explain PLAN``)."""
    for python, cli in CLI_WORDS:
        text = text.replace(python, cli)
    if plan is not None:
        text = text.replace("result.explain()", f"'procure explain {plan}'")
    return text


def option_error(exc: Exception) -> str:
    """An error's text in the command line's words; an error about a solve option names the
    option as typed (``--gap: 1.5 must be a number in [0, 1)``, not ``mip_gap: ...``)."""
    text = str(exc)
    path = getattr(exc, "path", "")
    option = OPTION_OF_PATH.get(path) if isinstance(path, str) else None
    if option is not None:
        text = f"{option}: {text.removeprefix(f'{path}: ')}"
    return cli_words(text)


class CliError(Exception):
    """An error of the command line itself (an option, an output path): its message and exit code."""

    def __init__(self, message: str, code: int = BAD_INPUT) -> None:
        super().__init__(message)
        self.code = code


class Console:
    """Messages about the work under way, on standard error (none when ``quiet``)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.started = time.perf_counter()

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, file=sys.stderr, flush=True)

    def elapsed(self) -> str:

        return fmt.seconds(time.perf_counter() - self.started)


def add_solve_options(parser: argparse.ArgumentParser, *, threads: bool = True, per: str = "") -> None:
    """``--solver``, ``--time-limit``, ``--gap`` and (optionally) ``--threads``."""
    group = parser.add_argument_group("solver")
    group.add_argument(
        "--solver",
        default=None,
        metavar="NAME",
        help="solver adapter: auto (default: HiGHS and CBC raced), highs, cbc, pyomo:NAME, ...",
    )
    group.add_argument("--time-limit", type=float, default=None, metavar="S", help=f"seconds{per} (default: no limit)")
    group.add_argument(
        "--gap", type=float, default=None, metavar="G", help="relative MIP gap at which to stop (default: 1e-4)"
    )
    if threads:
        group.add_argument("--threads", type=int, default=None, metavar="N", help="solver threads")


def add_input_options(parser: argparse.ArgumentParser) -> None:
    """``--allow-path DIR``: a folder besides the problem's own that its table references
    (``offers = "offers.csv"``) may read from."""
    parser.add_argument(
        "--allow-path",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder that table references may read from, besides the problem file's own (repeatable)",
    )


def read_problem(args: argparse.Namespace) -> Problem:
    """The problem file ``args.plan``, read and validated before any work or message.

    Every error about the input is a `ProblemError` (exit 2, no traceback), also a
    `ValueError` or `OverflowError` that a reader lets through (an ``inf`` where a whole
    number belongs, say)."""

    allowed = [Path(folder) for folder in getattr(args, "allow_path", None) or ()]
    keywords: dict[str, Any] = {"allow_paths": allowed} if allowed else {}
    try:
        return Problem.from_file(args.plan, **keywords)
    except ProblemError:
        raise
    except (ValueError, OverflowError) as exc:
        raise ProblemError(f"{args.plan}: {exc}", value=str(args.plan)) from None


def check_solve_options(args: argparse.Namespace, *, mpisppy: bool = False) -> None:
    """Check ``--solver``, ``--time-limit``, ``--gap`` and ``--threads`` before any work or
    message, as the library would when it starts (``mpisppy``: the ``mpisppy:METHOD``
    solvers are accepted too, and checked by the solve)."""

    given = solve_kwargs(args)
    options = solve_options(given.get("time_limit"), given.get("mip_gap", 1e-4), given.get("threads"))
    solver = given.get("solver", DEFAULT_SOLVER)
    if mpisppy and solver.startswith("mpisppy:"):
        return
    get_adapter(solver).check_options(options)


def solve_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The solve options the caller gave (left out: the library's defaults apply)."""
    out: dict[str, Any] = {}
    for option, key in (("solver", "solver"), ("time_limit", "time_limit"), ("gap", "mip_gap"), ("threads", "threads")):
        value = getattr(args, option, None)
        if value is not None:
            out[key] = value
    return out


def solver_name(args: argparse.Namespace) -> str:

    return getattr(args, "solver", None) or DEFAULT_SOLVER


def exit_for_status(status: str, has_plan: bool) -> int:
    """0 with a plan, 1 when none exists (infeasible, unbounded), 3 when the solver failed
    (status ``"error"``: a solver error, or a time limit reached before any plan)."""
    if has_plan:
        return OK
    if status in ("infeasible", "unbounded"):
        return NO_PLAN
    return FAILED


def output_kind(path: str, option: str, kinds: Mapping[str, str]) -> str:
    """The kind of output ``path`` asks for by its suffix (``kinds``: suffix → kind); a
    `CliError` naming the option and the value for another suffix or a missing directory."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in kinds:
        allowed = ", ".join(sorted(kinds))
        raise CliError(f"{option} {path!r}: unknown file type {suffix or '(none)'!r} (use one of: {allowed})")
    parent = target.parent
    if not parent.is_dir():
        raise CliError(f"{option} {path!r}: the directory {str(parent)!r} does not exist")
    if target.is_dir():
        raise CliError(f"{option} {path!r}: is a directory")
    return kinds[suffix]


TABLE_KINDS = {".csv": "csv", ".json": "json"}


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return value


def table_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """A table as JSON-ready records (NaN becomes None; the index becomes a column)."""
    frame = table.reset_index()
    return [{str(k): _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def write_table(table: pd.DataFrame, path: str, kind: str) -> None:
    """Write a table as CSV or as JSON records."""
    try:
        if kind == "csv":
            table.to_csv(path)
        else:
            Path(path).write_text(json.dumps(table_records(table), indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise CliError(f"{path}: cannot be written ({exc.strerror or exc})") from None


def _finite(data: Any) -> Any:
    """``data`` with every NaN or infinity as None (they are not JSON)."""
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(v) for v in data]
    return _plain(data)


def emit(text: object = "") -> None:
    """A line on standard output; a reader that went away (``procure solve … | head``) ends the
    output, not the command: files are still written and the exit code still tells the outcome."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)  # the interpreter's last flush must not fail again
        os.dup2(devnull, sys.stdout.fileno())


def print_json(data: Any) -> None:
    """JSON on standard output; NaN and infinities become null."""
    emit(json.dumps(_finite(data), indent=2, allow_nan=False, default=str))


def needs_method(cls: type, name: str, option: str, value: str, module: str) -> None:
    """Fail with exit 2 before any work when ``cls`` lacks the method an output needs."""
    if not callable(getattr(cls, name, None)):
        raise CliError(
            f"{option} {value!r}: this output needs procure's {module} module ({cls.__name__}.{name}), "
            "which this installation of procure does not have"
        )
