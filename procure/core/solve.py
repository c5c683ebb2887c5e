"""`solve()`: read the problem, then the one orchestration path (`procure.pipeline`)."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

from ..problem.format import Problem, as_problem
from ..solvers import DEFAULT_SOLVER
from ..solvers.options import set_up
from .pipeline import Extra, Pipeline
from .result import Outcome

__all__ = ["solve"]


def solve(
    problem: Problem | Mapping[str, Any] | str | os.PathLike[str],
    *,
    solver: str = DEFAULT_SOLVER,
    time_limit: float | None = None,
    mip_gap: float = 1e-4,
    threads: int | None = None,
    verbose: bool = False,
    solver_options: Mapping[str, Any] | None = None,
    extra: Extra | None = None,
    allow_paths: Sequence[str | os.PathLike[str]] | None = None,
) -> Outcome:
    """Find the least-cost purchase plan of a problem.

    Parameters
    ----------
    problem : Problem, mapping, or path
        A `Problem`, a mapping in the problem format, or a path to a
        ``.json`` / ``.toml`` file or an Excel workbook (``.xlsx``); a file's tables
        (``offers = "offers.csv"``) are read from its own folder.
    solver : str
        Adapter name.  The default ``"auto"`` runs HiGHS and CBC (PuLP's bundled
        program) at once and reports the answer of the engine that proves with less
        work, counted in branch-and-bound nodes, never wall time: the same problem and
        ``threads`` give the same plan, status and bound every run, and
        ``result.solver`` names the engine.  ``"highs"`` and ``"cbc"`` pick one
        engine, ``"pyomo:NAME"`` a Pyomo-driven solver; for a problem
        with ``demand_scenarios`` also ``"mpisppy:ef"`` or ``"mpisppy:ph"`` (mpi-sppy's
        extensive form or progressive hedging, see `procure.mpisppy`).
    time_limit : float, optional
        Seconds the whole call may take (building, solving, certifying, and the
        diagnosis of an infeasible problem); it returns the best plan so far
        (status ``"feasible"``).
    mip_gap : float
        Relative gap at which the solver may stop; ``0`` asks for a proven optimum.
    threads : int, optional
        Solver threads (default: the solver's choice); at most the machine's cores.
    verbose : bool
        Show the solver's progress log.
    solver_options : mapping, optional
        Options passed to the solver under its own names (HiGHS:
        ``{"presolve": "off", "mip_heuristic_effort": 0.2}``); an option the
        solver rejects raises `ProblemError`.
    extra : callable, optional
        ``extra(model, handles, data)`` adds rows of your own to the formulation
        through the `procure.model.LinearModel` API (see the docs, "Constraints
        of your own"); the result's `check()` verifies them too.
    allow_paths : sequence of paths, optional
        Folders outside the problem file's own from which its tables may be read
        (table references are confined to the problem's folder otherwise).

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
    Interrupted
        If Ctrl-C stopped the solve; its ``result`` holds the best plan found so far.
    """
    started = time.perf_counter()
    adapter, options = set_up(solver, time_limit, mip_gap, threads, verbose, solver_options)
    prob = as_problem(problem, allow_paths=allow_paths)
    result, _ = Pipeline(adapter, options, extra=extra).run(prob, started=started)
    return result
