"""Built-in adapter: HiGHS through highspy, the whole model passed in one call."""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..model.linear import LinearModel
from ..model.scaling import MatrixForm, matrix_form
from .base import Adapter, Capabilities, RawSolution, SolveOptions, register

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
    current = h.getOptionValue("threads")
    current = current[-1] if isinstance(current, tuple) else current
    if current != threads:
        h.resetGlobalScheduler(True)
        h.setOptionValue("threads", int(threads))


def pass_model(h: Any, form: MatrixForm) -> None:
    """Hand the whole matrix form to HiGHS in one call."""
    import highspy

    inf = highspy.kHighsInf
    A = form.A
    h.passModel(
        A.shape[1],
        A.shape[0],
        A.nnz,
        1,  # column-wise
        1,  # minimize
        float(form.offset),
        form.cost,
        np.nan_to_num(form.col_lower, neginf=-inf, posinf=inf),
        np.nan_to_num(form.col_upper, neginf=-inf, posinf=inf),
        np.nan_to_num(form.row_lower, neginf=-inf, posinf=inf),
        np.nan_to_num(form.row_upper, neginf=-inf, posinf=inf),
        A.indptr.astype(np.int32),
        A.indices.astype(np.int32),
        A.data,
        form.integrality.astype(np.int32),
    )


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
        import highspy

        started = time.perf_counter()
        form = matrix_form(model)
        h = _new_highs(options.verbose)
        _set_threads(h, options.threads)
        h.setOptionValue("mip_rel_gap", float(options.mip_gap))
        if options.mip_gap == 0:
            h.setOptionValue("mip_abs_gap", 0.0)
        if options.time_limit is not None:
            h.setOptionValue("time_limit", float(options.time_limit))
        for key, value in options.extra.items():
            h.setOptionValue(key, value)
        pass_model(h, form)
        if options.warm_start is not None and options.warm_start_ids is not None:
            ids = np.asarray(options.warm_start_ids, dtype=np.int32)
            h.setSolution(len(ids), ids, np.asarray(options.warm_start, dtype=float) / form.col_scale[ids])
        h.run()
        return self._answer(h, form, highspy, time.perf_counter() - started)

    def _answer(self, h: Any, form: MatrixForm, highspy: Any, seconds: float) -> RawSolution:
        ms = highspy.HighsModelStatus
        status = h.getModelStatus()
        info = h.getInfo()
        has_plan = info.primal_solution_status == 2
        x = form.to_model_x(np.asarray(h.getSolution().col_value, dtype=float)) if has_plan else None
        objective = form.to_model_objective(info.objective_function_value) if has_plan else math.nan
        bound = math.nan
        if form.integrality.any() and math.isfinite(info.mip_dual_bound):
            bound = form.to_model_objective(info.mip_dual_bound)
        elif status == ms.kOptimal:
            bound = objective
        nodes = int(info.mip_node_count) if form.integrality.any() else None
        common: dict[str, Any] = dict(seconds=seconds, solver=self.name, nodes=nodes)
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


register("highs", HighsAdapter)
