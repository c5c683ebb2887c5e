"""Solve options as the caller gives them (``time_limit``, ``mip_gap``, ``threads``, ...),
checked once and turned into the adapters' `SolveOptions`."""

from __future__ import annotations

import numbers
import os
from collections.abc import Mapping
from typing import Any

from ..base.errors import ProblemError
from ..base.limits import MAX_VALUE
from ..problem.validate import show
from .base import Adapter, SolveOptions, get_adapter

__all__ = [
    "available_cores",
    "set_up",
    "solve_options",
]


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the platform tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not every platform has affinity
        return os.cpu_count() or 1


def _bad(name: str, value: Any, why: str) -> ProblemError:
    return ProblemError(f"{name}: {show(value)} {why}", path=name, value=value)


def _real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def solve_options(
    time_limit: Any = None,
    mip_gap: Any = 1e-4,
    threads: Any = None,
    verbose: Any = False,
    solver_options: Any = None,
) -> SolveOptions:
    """`SolveOptions` from a caller's arguments, or a `ProblemError` naming the bad one.

    ``threads`` may not exceed the cores this machine gives the process: more
    threads than cores only slow HiGHS down (and a huge count exhausts memory)."""
    if time_limit is not None and (not _real(time_limit) or not 0 < time_limit <= MAX_VALUE):
        raise _bad("time_limit", time_limit, f"must be a number of seconds above 0, at most {MAX_VALUE:g} (or None)")
    if not _real(mip_gap) or not 0 <= mip_gap < 1:
        raise _bad("mip_gap", mip_gap, "must be a number in [0, 1)")
    if threads is not None:
        if not isinstance(threads, numbers.Integral) or isinstance(threads, bool) or threads < 1:
            raise _bad("threads", threads, "must be a whole number ≥ 1 (or None)")
        cores = available_cores()
        if int(threads) > cores:
            raise _bad("threads", threads, f"is more than the {cores} core(s) this machine has (use at most {cores})")
    if solver_options is None:
        solver_options = {}
    if not isinstance(solver_options, Mapping):
        raise _bad("solver_options", solver_options, "must be a mapping {option: value}")
    return SolveOptions(
        time_limit=None if time_limit is None else float(time_limit),
        mip_gap=float(mip_gap),
        threads=None if threads is None else int(threads),
        verbose=bool(verbose),
        solver_options=dict(solver_options),
    )


def set_up(
    solver: str,
    time_limit: float | None = None,
    mip_gap: float = 1e-4,
    threads: int | None = None,
    verbose: bool = False,
    solver_options: Mapping[str, Any] | None = None,
) -> tuple[Adapter, SolveOptions]:
    """The adapter named ``solver`` and the caller's options, checked once and for that adapter:
    the one place every solve (`solve`, `Planner`, `frontier`, `explain`, sweeps, re-solves)
    sets its options up.  Raises `ProblemError` naming the bad option or solver."""
    options = solve_options(time_limit, mip_gap, threads, verbose, solver_options)
    adapter = get_adapter(solver)
    adapter.check_options(options)
    return adapter, options
