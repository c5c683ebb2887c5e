"""`Planner`: keep a problem's model in the solver and re-solve it as prices, caps or demand change.

What-if analysis solves the same problem many times with a few numbers
changed.  A `Planner` builds the model once; when the next problem has the
same structure (same offers, vendors, sites, periods and the same kinds of
terms) it only changes the numbers that differ in the kept model — bounds,
costs, right-hand sides, coefficients — and warm-starts from the previous
plan.  A problem with another structure is built afresh, transparently.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from .diagnose import explain_infeasible
from .evaluate import evaluate, objective_of
from .model.bounds import cost_bounds, first_bounds
from .model.build import BuiltModel, build_model
from .model.linear import LinearModel
from .model.sets import model_data
from .pipeline import Solved, diagnosis_model, optimize, remaining, solve_data, warm_from
from .problem import Problem, as_problem
from .result import Result, make_result
from .solve import solve_options
from .solvers import get_adapter
from .solvers.base import Session

__all__ = ["Planner"]


def _same_structure(kept: LinearModel, new: LinearModel) -> bool:
    """Same columns, rows and sparsity: the new model is the kept one with other numbers."""
    if (kept.num_cols, kept.num_rows) != (new.num_cols, new.num_rows):
        return False
    if [b.name for b in kept.columns] != [b.name for b in new.columns]:
        return False
    if [b.name for b in kept.rows] != [b.name for b in new.rows]:
        return False
    if not np.array_equal(kept.integrality, new.integrality):
        return False
    a, b = kept.A, new.A
    return np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)


def _apply(session: Session, new: LinearModel) -> None:
    """Move the kept model's numbers to the new model's (only what differs)."""
    kept = session.model
    changed = np.flatnonzero((kept.col_lower != new.col_lower) | (kept.col_upper != new.col_upper))
    if changed.size:
        session.set_col_bounds(changed, new.col_lower[changed], new.col_upper[changed])
    changed = np.flatnonzero((kept.row_lower != new.row_lower) | (kept.row_upper != new.row_upper))
    if changed.size:
        session.set_row_bounds(changed, new.row_lower[changed], new.row_upper[changed])
    if not np.array_equal(kept.cost, new.cost) or kept.offset != new.offset:
        session.set_objective(new.cost.copy(), new.offset)
    old, fresh = kept.A.tocoo(), new.A.tocoo()
    differ = old.data != fresh.data
    if differ.any():
        session.set_coefficients(fresh.row[differ], fresh.col[differ], fresh.data[differ])


class Planner:
    """Solve a problem, then variants of it, through one kept model.

    Parameters
    ----------
    problem : Problem, mapping, or path
        The first problem.
    solver, time_limit, mip_gap, threads, verbose
        As for `procure.solve`; they apply to every solve.

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
        solver: str = "highs",
        time_limit: float | None = None,
        mip_gap: float = 1e-4,
        threads: int | None = None,
        verbose: bool = False,
    ) -> None:
        self.problem = as_problem(problem)
        self.options = solve_options(time_limit, mip_gap, threads, verbose)
        self.adapter = get_adapter(solver)
        self._session: Session | None = None
        self._built: BuiltModel | None = None
        self._last: Solved | None = None
        #: How the last solve went: "built" (a new model) or "kept" (numbers changed in place).
        self.last_mode = ""

    def solve(self, problem: Problem | Mapping[str, Any] | str | os.PathLike[str] | None = None) -> Result:
        """Solve ``problem`` (default: the planner's current problem), reusing the kept model when
        only numbers changed.  Returns the same `Result` as `procure.solve`."""
        started = time.perf_counter()
        prob = as_problem(problem) if problem is not None else self.problem
        data = model_data(prob)
        upper, provisional = first_bounds(data)
        built = build_model(data, upper)
        reuse = (
            self._session is not None
            and self._built is not None
            and built.hhi is None
            and _same_structure(self._session.model, built.model)
        )
        if reuse:
            assert self._session is not None and self._built is not None and self._last is not None
            _apply(self._session, built.model)
            options = warm_from(self._built, self._last.raw, self.options)
            raw = optimize(self._session, self._built, data, options)
            built = self._built
            self.last_mode = "kept"
        else:
            self._session = self.adapter.open(built.model)
            raw = optimize(self._session, built, data, self.options)
            self.last_mode = "built"
        solved = Solved(built, raw)
        if provisional.any() and raw.has_plan:  # certify provisional bounds; rebuild if they were too tight
            plan = solved.placed(data)
            certified = cost_bounds(data, objective_of(prob, evaluate(prob, plan)))
            if (provisional & np.isfinite(certified) & (certified > upper)).any():
                solved = solve_data(data, self.adapter, self.options)
                self._session = None
                self.last_mode = "built"
        if solved.has_plan:
            self._built, self._last = solved.built, solved
        self.problem = prob
        message = solved.raw.message
        if solved.raw.status == "infeasible":
            left = remaining(self.options, started) or replace(self.options, time_limit=5.0)
            message = explain_infeasible(diagnosis_model(data).model, self.adapter, left)
        return make_result(
            prob,
            solved.raw.status,
            solved.placed(data) if solved.has_plan else None,
            solved.split() if solved.has_plan else None,
            bound=solved.raw.bound,
            seconds=time.perf_counter() - started,
            solver=self.adapter.name,
            message=message,
            model_size=solved.built.model.stats(),
        )
