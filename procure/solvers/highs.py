"""Built-in adapter: HiGHS through highspy, the whole model passed in one call."""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np

from ..model.linear import Index, LinearModel
from ..model.scaling import MatrixForm, matrix_form, objective_scale
from .base import Adapter, Capabilities, RawSolution, Session, SolveOptions, register

__all__ = ["HighsAdapter"]

_banner_shown = False


@contextlib.contextmanager
def _quiet_stdout(quiet: bool) -> Iterator[None]:
    """Silence C-level stdout (HiGHS prints a banner when its first instance is made)."""
    if not quiet:
        yield
        return
    try:
        saved = os.dup(1)
    except OSError:  # no real stdout (some notebooks): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _new_highs(verbose: bool) -> Any:
    import highspy

    global _banner_shown
    with _quiet_stdout(quiet=not verbose and not _banner_shown):
        h = highspy.Highs()
    _banner_shown = True
    h.setOptionValue("output_flag", bool(verbose))
    return h


def _set_threads(h: Any, threads: int | None) -> None:
    """HiGHS's thread pool is global: resize it only when asked for another size."""
    if threads is None:
        return
    if _option(h, "threads") != threads:
        h.resetGlobalScheduler(True)
        h.setOptionValue("threads", int(threads))


def pass_model(h: Any, form: MatrixForm) -> None:
    """Hand the whole matrix form to HiGHS in one call."""
    A = form.A
    h.passModel(
        A.shape[1],
        A.shape[0],
        A.nnz,
        1,  # column-wise
        1,  # minimize
        float(form.offset),
        form.cost,
        _inf(form.col_lower),
        _inf(form.col_upper),
        _inf(form.row_lower),
        _inf(form.row_upper),
        A.indptr.astype(np.int32),
        A.indices.astype(np.int32),
        A.data,
        form.integrality.astype(np.int32),
    )


def _configure(h: Any, options: SolveOptions) -> None:
    h.setOptionValue("output_flag", bool(options.verbose))
    _set_threads(h, options.threads)
    h.setOptionValue("mip_rel_gap", float(options.mip_gap))
    h.setOptionValue("mip_abs_gap", 0.0 if options.mip_gap == 0 else 1e-6)
    h.setOptionValue("time_limit", float(options.time_limit) if options.time_limit is not None else float("inf"))
    for key, value in options.extra.items():
        h.setOptionValue(key, value)


def _warm_start(h: Any, form: MatrixForm, options: SolveOptions) -> None:
    if options.warm_start is None or options.warm_start_ids is None:
        return
    ids = np.asarray(options.warm_start_ids, dtype=np.int32)
    h.setSolution(len(ids), ids, np.asarray(options.warm_start, dtype=float) / form.col_scale[ids])


#: the starting plan's sub-MIP: a looser gap and a node budget keep it a small part of a solve
START_GAP = 3e-4
START_NODES = 200
START_TIME_SHARE = 0.25


def _option(h: Any, key: str) -> Any:
    value = h.getOptionValue(key)
    return value[-1] if isinstance(value, tuple) else value  # some highspy versions add a status


def _lp_support_start(h: Any, form: MatrixForm, options: SolveOptions) -> None:
    """Hand HiGHS a starting plan found among the columns the LP relaxation uses.

    Columns of ``options.lp_support_ids`` at zero in the LP optimum are held at
    zero and the rest solved as a MIP to a loose gap within a node budget.  On
    procurement models the LP buys few offers, so this small MIP finds in a
    fraction of a second a plan about as good as the one HiGHS's root heuristics
    take most of a solve to find, and a good incumbent early prunes the search.
    Every change is undone before the real solve.
    """
    import highspy

    if options.lp_support_ids is None or options.warm_start is not None or not form.integrality.any():
        return
    n = len(form.cost)
    every = np.arange(n, dtype=np.int32)
    h.changeColsIntegrality(n, every, np.zeros(n, dtype=np.int32))
    try:
        h.run()
        relaxed = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        x = np.asarray(h.getSolution().col_value, dtype=float) if relaxed else None
    finally:
        h.changeColsIntegrality(n, every, form.integrality.astype(np.int32))
    if x is None:
        return
    ids = np.asarray(options.lp_support_ids, dtype=np.int32)
    held = ids[(x[ids] <= 1e-9) & (form.col_lower[ids] == 0)]
    zeros = np.zeros(len(held))
    saved = {key: _option(h, key) for key in ("mip_rel_gap", "mip_max_nodes", "time_limit")}
    h.changeColsBounds(len(held), held, zeros, zeros)
    try:
        h.setOptionValue("mip_rel_gap", max(START_GAP, float(options.mip_gap)))
        h.setOptionValue("mip_max_nodes", START_NODES)
        if options.time_limit is not None:
            h.setOptionValue("time_limit", START_TIME_SHARE * float(options.time_limit))
        h.run()
        found = h.getInfo().primal_solution_status == 2
        start = np.asarray(h.getSolution().col_value, dtype=float) if found else None
    finally:
        h.changeColsBounds(len(held), held, _inf(form.col_lower[held]), _inf(form.col_upper[held]))
        for key, value in saved.items():
            h.setOptionValue(key, value)
    if start is not None:
        h.setSolution(n, every, start)


def _answer(h: Any, form: MatrixForm, seconds: float, solver: str) -> RawSolution:
    """Translate HiGHS's status and solution back to model units."""
    import highspy

    ms = highspy.HighsModelStatus
    status = h.getModelStatus()
    info = h.getInfo()
    is_mip = bool(form.integrality.any())
    has_plan = info.primal_solution_status == 2
    scaled_x = np.asarray(h.getSolution().col_value, dtype=float)
    x = form.to_model_x(scaled_x) if has_plan else None
    objective, shift = math.nan, 0.0
    if has_plan:
        # the plan's own objective; HiGHS 1.16 given a MIP start can drop a constant of its
        # presolved problem from the objective and bound it reports: the bound misses it too
        objective = form.to_model_objective(float(form.cost @ scaled_x + form.offset))
        shift = objective - form.to_model_objective(info.objective_function_value)
    bound = math.nan
    if is_mip and math.isfinite(info.mip_dual_bound):
        bound = form.to_model_objective(info.mip_dual_bound) + shift
    elif status == ms.kOptimal:
        bound = objective
    common: dict[str, Any] = dict(seconds=seconds, solver=solver, nodes=int(info.mip_node_count) if is_mip else None)
    if status == ms.kOptimal:
        return RawSolution("optimal", x, objective, bound, **common)
    if status == ms.kInfeasible:
        return RawSolution("infeasible", None, **common)
    if status == ms.kUnboundedOrInfeasible:
        return RawSolution("infeasible", None, message="infeasible or unbounded", **common)
    if status == ms.kUnbounded:
        return RawSolution("unbounded", None, **common)
    reason = h.modelStatusToString(status)
    if has_plan:
        return RawSolution("feasible", x, objective, bound, message=f"stopped: {reason}", **common)
    return RawSolution("error", None, message=f"stopped before any plan was found: {reason}", **common)


class HighsSession(Session):
    """A model kept inside one HiGHS instance: changes go to HiGHS in scaled units."""

    def __init__(self, adapter: HighsAdapter, model: LinearModel) -> None:
        super().__init__(adapter, model)
        self.form = matrix_form(model)
        self.h = _new_highs(False)
        pass_model(self.h, self.form)

    def set_col_bounds(self, ids: np.ndarray, lower: Any = None, upper: Any = None) -> None:
        super().set_col_bounds(ids, lower, upper)
        ids = np.asarray(ids, dtype=np.int32)
        f = self.form
        f.col_lower[ids] = self.model.col_lower[ids] / f.col_scale[ids]
        f.col_upper[ids] = self.model.col_upper[ids] / f.col_scale[ids]
        self.h.changeColsBounds(len(ids), ids, _inf(f.col_lower[ids]), _inf(f.col_upper[ids]))

    def set_row_bounds(self, ids: np.ndarray, lower: Any = None, upper: Any = None) -> None:
        super().set_row_bounds(ids, lower, upper)
        ids = np.asarray(ids, dtype=np.int32)
        f = self.form
        f.row_lower[ids] = self.model.row_lower[ids] * f.row_scale[ids]
        f.row_upper[ids] = self.model.row_upper[ids] * f.row_scale[ids]
        self.h.changeRowsBounds(len(ids), ids, _inf(f.row_lower[ids]), _inf(f.row_upper[ids]))

    def set_cost(self, ids: np.ndarray, cost: Any) -> None:
        super().set_cost(ids, cost)
        f = self.form
        # a new objective may have another size: rescale it, or tolerances lose their meaning
        scale = objective_scale(self.model.cost, f.col_scale)
        self.form = f = replace(
            f, cost=self.model.cost * f.col_scale * scale, offset=self.model.offset * scale, obj_scale=scale
        )
        every = np.arange(len(f.cost), dtype=np.int32)
        self.h.changeColsCost(len(every), every, f.cost)
        self.h.changeObjectiveOffset(float(f.offset))

    def set_coefficients(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> None:
        super().set_coefficients(rows, cols, vals)
        f = self.form
        scaled = np.broadcast_to(np.asarray(vals, dtype=float), np.shape(rows)) * f.row_scale[rows] * f.col_scale[cols]
        for r, c, v in zip(np.ravel(rows), np.ravel(cols), np.ravel(scaled)):  # HiGHS changes one entry a call
            self.h.changeCoeff(int(r), int(c), float(v))

    def add_rows(
        self, name: str, index: Index, row: np.ndarray, col: np.ndarray, val: np.ndarray, **kw: Any
    ) -> np.ndarray:
        ids = super().add_rows(name, index, row, col, val, **kw)
        if len(ids) == 0:
            return ids
        self.form = self.form.with_rows(self.model, ids)
        f = self.form
        scaled = f.A[ids].tocsr()
        self.h.addRows(
            len(ids),
            _inf(f.row_lower[ids]),
            _inf(f.row_upper[ids]),
            scaled.nnz,
            scaled.indptr.astype(np.int32),
            scaled.indices.astype(np.int32),
            scaled.data,
        )
        return ids

    def solve(self, options: SolveOptions) -> RawSolution:
        started = time.perf_counter()
        _configure(self.h, options)
        _warm_start(self.h, self.form, options)
        _lp_support_start(self.h, self.form, options)
        if options.time_limit is not None:  # the starting plan's time counts against the limit
            left = options.time_limit - (time.perf_counter() - started)
            self.h.setOptionValue("time_limit", max(left, 0.01))
        self.h.run()
        return _answer(self.h, self.form, time.perf_counter() - started, self.adapter.name)


def _inf(values: np.ndarray) -> np.ndarray:
    import highspy

    return np.nan_to_num(values, neginf=-highspy.kHighsInf, posinf=highspy.kHighsInf)


class HighsAdapter(Adapter):
    """HiGHS (MIT licence), the default solver; installed with procure."""

    name = "highs"
    capabilities = Capabilities(integer=True, quadratic=False, duals=True, warm_start=True, iis=True)
    install_hint = "pip install highspy"

    @classmethod
    def available(cls) -> bool:
        try:
            import highspy  # noqa: F401
        except ImportError:
            return False
        return True

    def solve(self, model: LinearModel, options: SolveOptions) -> RawSolution:
        return self.open(model).solve(options)

    def open(self, model: LinearModel) -> HighsSession:
        return HighsSession(self, model)


register("highs", HighsAdapter)
