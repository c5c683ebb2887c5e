"""``procure init DIR``: a starter problem to edit (its tables and problem.toml)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..problem.table_input import write_starter
from .common import OK, CliError, cli_words, emit

EXAMPLE = """\
Examples:
  procure init my-plan
  procure init my-plan --force      # overwrite the starter files already there
  procure solve my-plan/problem.toml

Exit codes: 0 the files were written, 2 bad input (files already there without --force,
a path that cannot be written).
"""


def register(commands: Any) -> None:
    p: argparse.ArgumentParser = commands.add_parser(
        "init",
        help="write a starter problem to edit",
        description="Write a starter problem (problem.toml and its tables) into DIR.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("directory", metavar="DIR", help="the directory to write (created if missing)")
    p.add_argument("--force", action="store_true", help="overwrite files that are already there")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:

    try:
        written = write_starter(args.directory, force=args.force)
    except FileExistsError as exc:
        text = cli_words(str(exc))  # the library's "(force=True overwrites)" in this command's words
        hint = "" if "--force" in text else " (use --force to overwrite)"
        raise CliError(f"init {args.directory!r}: {text}{hint}") from None
    except OSError as exc:
        raise CliError(f"init {args.directory!r}: cannot be written ({exc})") from None
    for path in written:
        emit(f"wrote {path}")
    problem = Path(args.directory) / "problem.toml"
    emit(f"next: edit the files, then run: procure solve {problem}")
    return OK
