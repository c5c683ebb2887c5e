"""Linear programs whose basis and repeated re-solves matter: the engine behind exact derivatives.

`procure.analysis.duals` needs two things no `Adapter` gives: the final basis of an LP
(which rows and columns sit at a bound, for complementary slackness) and an LP held
open and re-solved warm under one objective after another (the optimal dual face).
Both are HiGHS's here; the analysis layer reads them through this module's names
alone, so a second engine would be added here, not there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..base.errors import ProblemError
from ..model.linear import LinearModel
from ..model.scaling import MatrixForm, matrix_form
from .base import SolveOptions
from .highs import configure, highs_inf, new_highs, pass_model

__all__ = ["BasisSolution", "ResolvableLp", "relaxation", "solve_with_basis"]


@dataclass(frozen=True)
class BasisSolution:
    """An LP solved to optimality: its scaled form, solution and row duals (model units), and
    which rows and columns the final basis holds at their lower or upper bound."""

    form: MatrixForm
    x: np.ndarray
    duals: np.ndarray
    rows_at: tuple[np.ndarray, np.ndarray]  # (rows nonbasic at lower, at upper)
    cols_at: tuple[np.ndarray, np.ndarray]


def _run_lp(m: LinearModel, options: SolveOptions, *, relax: bool = False) -> tuple[Any, MatrixForm, bool]:
    """HiGHS run on ``m``'s scaled form (its numbers guarded; ``relax``: integer columns made
    continuous): the instance, the form, and whether it ended optimal."""
    import highspy

    form = matrix_form(m)
    h = new_highs(False)
    configure(h, SolveOptions(threads=options.threads, time_limit=options.time_limit), form.A.nnz)
    pass_model(h, form)
    if relax:
        h.setOptionValue("solve_relaxation", True)
    h.run()
    return h, form, h.getModelStatus() == highspy.HighsModelStatus.kOptimal


def solve_with_basis(m: LinearModel, options: SolveOptions) -> BasisSolution:
    """Solve the LP ``m`` (procure's scaled form, its numbers guarded) and keep its basis;
    `ProblemError` unless it is solved to optimality."""
    import highspy

    h, form, optimal = _run_lp(m, options)
    if not optimal:
        raise ProblemError(
            f"the plan's LP with its integers fixed was not solved: {h.modelStatusToString(h.getModelStatus())}"
        )
    solution, basis = h.getSolution(), h.getBasis()
    x = form.to_model_x(np.asarray(solution.col_value, dtype=float))
    duals = np.asarray(solution.row_dual, dtype=float) * form.row_scale / form.obj_scale

    def at(statuses: Any) -> tuple[np.ndarray, np.ndarray]:
        code = np.fromiter((int(v) for v in statuses), dtype=np.int64, count=len(statuses))
        low, high = int(highspy.HighsBasisStatus.kLower), int(highspy.HighsBasisStatus.kUpper)
        return code == low, code == high

    valid = bool(basis.valid)
    nothing = (np.zeros(m.num_rows, dtype=bool), np.zeros(m.num_rows, dtype=bool))
    rows_at = at(basis.row_status) if valid else nothing
    cols_at = at(basis.col_status) if valid else (np.zeros(m.num_cols, dtype=bool),) * 2
    return BasisSolution(form, x, duals, rows_at, cols_at)


def relaxation(m: LinearModel, options: SolveOptions) -> tuple[np.ndarray, float] | None:
    """The optimum of ``m`` with its integer columns made continuous (procure's scaled form):
    the solution in model units and its objective, or None when HiGHS does not solve it to
    optimality (infeasible, unbounded, out of time)."""
    h, form, optimal = _run_lp(m, options, relax=True)
    if not optimal:
        return None
    x = form.to_model_x(np.asarray(h.getSolution().col_value, dtype=float))
    return x, m.objective_value(x)


class ResolvableLp:
    """``row_low ≤ M·y ≤ row_high``, ``var_lower ≤ y ≤ var_upper`` held open, solved warm for
    one objective after another (presolve off, so an unbounded LP is told from an empty one)."""

    def __init__(
        self,
        M: sp.csc_matrix,
        var_lower: np.ndarray,
        var_upper: np.ndarray,
        row_low: np.ndarray,
        row_high: np.ndarray,
    ) -> None:
        import highspy

        self.n = M.shape[1]
        self.var_lower, self.var_upper = var_lower, var_upper
        h = new_highs(False)
        h.setOptionValue("presolve", "off")
        h.passModel(
            M.shape[1],
            M.shape[0],
            M.nnz,
            1,
            1,
            0.0,
            np.zeros(M.shape[1]),
            highs_inf(var_lower),
            highs_inf(var_upper),
            highs_inf(row_low),
            highs_inf(row_high),
            M.indptr.astype(np.int32),
            M.indices.astype(np.int32),
            M.data.astype(float),
            np.zeros(M.shape[1], dtype=np.int32),
        )
        self._h = h
        self._status = highspy.HighsModelStatus
        self._senses = {1: highspy.ObjSense.kMinimize, -1: highspy.ObjSense.kMaximize}

    def optimum(self, cost: np.ndarray, sense: int) -> float:
        """The optimum of ``cost · y`` (``sense`` 1: minimize, −1: maximize); ±inf when
        unbounded; NaN when the LP came out empty (tolerances)."""
        h = self._h
        every = np.arange(self.n, dtype=np.int32)
        h.changeColsCost(self.n, every, cost.astype(float))
        h.changeObjectiveSense(self._senses[sense])
        h.run()
        status = h.getModelStatus()
        if status == self._status.kOptimal:
            return float(cost @ np.asarray(h.getSolution().col_value, dtype=float))
        if status == self._status.kUnbounded:
            return -sense * math.inf
        return math.nan

    def hold(self, ids: np.ndarray) -> None:
        """Fix variables ``ids`` at 0 (until `release`)."""
        ids = ids.astype(np.int32)
        self._h.changeColsBounds(len(ids), ids, np.zeros(len(ids)), np.zeros(len(ids)))

    def release(self, ids: np.ndarray) -> None:
        """Give variables ``ids`` their own bounds back."""
        ids = ids.astype(np.int32)
        lower, upper = highs_inf(self.var_lower[ids]), highs_inf(self.var_upper[ids])
        self._h.changeColsBounds(len(ids), ids, lower, upper)
