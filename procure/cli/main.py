"""The ``procure`` command: the parser of every subcommand, and exit codes for every outcome."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from .. import __version__
from ..base.errors import ProblemError, SolverNotAvailable
from . import explain, export, frontier, init, solve, sweep, tree, validate
from .common import BAD_INPUT, FAILED, INTERRUPTED, CliError, cli_words, option_error

__all__ = ["main", "parser"]

EPILOG = """\
Examples:
  procure validate examples/gigawatt_2026.toml
  procure solve examples/gigawatt_2026.toml --out plan.json
  procure explain infeasible.toml --fixed demand
  procure sweep plan.toml --vary 'offers[gb300-nvl72].unit_cost=30000:50000:5' --workers 2

Exit codes: 0 a plan was found (validate: valid; init, export: written),
1 no plan (infeasible or unbounded), 2 bad input, 3 solver missing or failed,
130 interrupted.  'procure COMMAND --help' describes each command.
"""


def parser() -> argparse.ArgumentParser:
    """The parser of the ``procure`` command and its subcommands."""

    ap = argparse.ArgumentParser(
        prog="procure",
        description="Plan multi-vendor AI compute purchases as a mixed-integer program.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--version", action="version", version=f"procure {__version__}")
    commands = ap.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for module in (solve, validate, explain, frontier, sweep, export, init, tree):
        module.register(commands)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``procure`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code: 0 a plan was found (for ``validate`` the input is valid, for
        ``init`` and ``export`` the files were written); 1 the problem has no plan
        (infeasible or unbounded; ``explain``: it was explained); 2 bad input (the
        problem, a missing or unreadable file, an option's value, a ``--vary``, an
        output path; the error on standard error, no traceback); 3 the solver is not
        installed or failed (status ``"error"``, which includes a time limit reached
        before any plan; a dask cluster that cannot be started or reached; an
        unexpected error inside procure, shown with its traceback); 130 interrupted
        (Ctrl-C).

    Examples
    --------
    >>> from procure.cli import main
    >>> main(["solve", "examples/gigawatt_2026.toml", "--quiet"])  # doctest: +SKIP
    0
    """

    ap = parser()
    args = ap.parse_args(argv)
    if args.command is None:
        ap.print_help(sys.stderr)
        return BAD_INPUT
    name = f"procure {args.command}"
    try:
        code: int = args.run(args)
        return code
    except CliError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        return exc.code
    except ProblemError as exc:
        print(f"{name}: error: {option_error(exc)}", file=sys.stderr)
        return BAD_INPUT
    except SolverNotAvailable as exc:
        print(f"{name}: error: {cli_words(str(exc))}", file=sys.stderr)
        return FAILED
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except Exception:
        traceback.print_exc()
        print(f"{name}: error: procure failed unexpectedly (the traceback above; please report it)", file=sys.stderr)
        return FAILED
