"""`solve()`: read → build → adapter → `Result`."""

from __future__ import annotations

import math
import numbers
import os
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .diagnose import explain_infeasible
from .errors import ProblemError
from .limits import MAX_VALUE
from .model.sets import model_data
from .pipeline import diagnosis_model, remaining, solve_data
from .problem import Problem, as_problem
from .result import Result, make_result
from .solvers import get_adapter
from .solvers.base import SolveOptions
from .validate import show

__all__ = ["solve"]


def solve_options(time_limit: Any, mip_gap: Any, threads: Any, verbose: Any) -> SolveOptions:
    def bad(name: str, value: Any, why: str) -> ProblemError:
        return ProblemError(f"{name}: {show(value)} {why}", path=name, value=value)

    if time_limit is not None:
        if not isinstance(time_limit, numbers.Real) or isinstance(time_limit, bool) or not 0 < time_limit <= MAX_VALUE:
            raise bad("time_limit", time_limit, f"must be a number of seconds above 0, at most {MAX_VALUE:g} (or None)")
    if not isinstance(mip_gap, numbers.Real) or isinstance(mip_gap, bool) or not 0 <= mip_gap < 1:
        raise bad("mip_gap", mip_gap, "must be a number in [0, 1)")
    if threads is not None and (not isinstance(threads, numbers.Integral) or isinstance(threads, bool) or threads < 1):
        raise bad("threads", threads, "must be a whole number ≥ 1 (or None)")
    return SolveOptions(
        time_limit=None if time_limit is None else float(time_limit),
        mip_gap=float(mip_gap),
        threads=None if threads is None else int(threads),
        verbose=bool(verbose),
    )


def solve(
    problem: Problem | Mapping[str, Any] | str | os.PathLike[str],
    *,
    solver: str = "highs",
    time_limit: float | None = None,
    mip_gap: float = 1e-4,
    threads: int | None = None,
    verbose: bool = False,
) -> Result:
    """Find the least-cost purchase plan of a problem.

    Parameters
    ----------
    problem : Problem, mapping, or path
        A `Problem`, a mapping in the problem format, or a path to a
        ``.json`` / ``.toml`` file.
    solver : str
        Adapter name; ``"highs"`` (built in) by default.
    time_limit : float, optional
        Seconds the solver may take; it stops with the best plan so far
        (status ``"feasible"``).
    mip_gap : float
        Relative gap at which the solver may stop; ``0`` asks for a proven optimum.
    threads : int, optional
        Solver threads (default: the solver's choice).
    verbose : bool
        Show the solver's progress log.

    Returns
    -------
    Result
        Status, plan, cost and diagnostics.  An infeasible problem returns
        ``status == "infeasible"`` with a reason in ``message``; it does not raise.

    Raises
    ------
    ProblemError
        If the problem or an argument is invalid (the message names the field).
    SolverNotAvailable
        If the requested solver is not installed.
    """
    started = time.perf_counter()
    options = solve_options(time_limit, mip_gap, threads, verbose)
    prob = as_problem(problem)
    adapter = get_adapter(solver)
    data = model_data(prob)
    solved = solve_data(data, adapter, options)
    raw = solved.raw
    message = raw.message
    plan, split = None, None
    if raw.has_plan:
        plan, split = solved.placed(data), solved.split()
    elif raw.status == "infeasible":
        left = remaining(options, started) or replace(options, time_limit=5.0)
        message = explain_infeasible(diagnosis_model(data).model, adapter, left)
    return make_result(
        prob,
        raw.status,
        plan,
        split,
        bound=raw.bound if math.isfinite(raw.bound) else math.nan,
        seconds=time.perf_counter() - started,
        solver=adapter.name,
        message=message,
        model_size=solved.built.model.stats(),
    )
