"""`Planner`: keep a problem's model in the solver and re-solve it as prices, caps or demand change.

What-if analysis solves the same problem many times with a few numbers
changed.  A `Planner` builds the model once; when the next problem has the
same structure (same offers, vendors, sites, periods and the same kinds of
terms) it only changes the numbers that differ in the kept model — bounds,
costs, right-hand sides, coefficients — and warm-starts from the previous
plan.  A problem with another structure is built afresh, transparently.
Every solve goes through the same path as `procure.solve` (`procure.pipeline`),
so a planner's answer is `procure.solve`'s answer.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from ..problem.format import Problem, as_problem
from ..solvers import DEFAULT_SOLVER
from ..solvers.options import set_up
from .pipeline import Extra, ModelState, Pipeline
from .result import Outcome

__all__ = ["Planner"]


class Planner:
    """Solve a problem, then variants of it, through one kept model.

    Parameters
    ----------
    problem : Problem, mapping, or path
        The first problem.
    solver, time_limit, mip_gap, threads, verbose, solver_options, extra
        As for `procure.solve`; they apply to every solve.
    explain : bool
        Diagnose an infeasible problem for its ``message`` (default, as `procure.solve`
        does); False gives a short message instead, and ``result.explain()`` still
        diagnoses on request (sweeps of many variants use this).

    Examples
    --------
    >>> planner = procure.Planner(problem)                    # doctest: +SKIP
    >>> base = planner.solve()                                # doctest: +SKIP
    >>> cheaper = planner.solve(problem_with_new_prices)      # doctest: +SKIP
    """

    def __init__(
        self,
        problem: Problem | Mapping[str, Any] | str | os.PathLike[str],
        *,
        solver: str = DEFAULT_SOLVER,
        time_limit: float | None = None,
        mip_gap: float = 1e-4,
        threads: int | None = None,
        verbose: bool = False,
        solver_options: Mapping[str, Any] | None = None,
        extra: Extra | None = None,
        explain: bool = True,
    ) -> None:
        adapter, options = set_up(solver, time_limit, mip_gap, threads, verbose, solver_options)
        self.problem = as_problem(problem)
        self.pipeline = Pipeline(adapter, options, extra=extra, explain=explain)
        self._state: ModelState | None = None
        #: How the last solve went: "built" (a new model) or "kept" (numbers changed in place).
        self.last_mode = ""

    def solve(self, problem: Problem | Mapping[str, Any] | str | os.PathLike[str] | None = None) -> Outcome:
        """Solve ``problem`` (default: the planner's current problem), reusing the kept model when
        only numbers changed.  Returns the same `Result` as `procure.solve`."""
        started = time.perf_counter()
        prob = as_problem(problem) if problem is not None else self.problem
        before = self._state
        result, state = self.pipeline.run(prob, state=before, started=started)
        kept = before is not None and state is not None and state.session is before.session
        self.last_mode = "kept" if kept else "built"
        self._state, self.problem = state, prob
        return result
