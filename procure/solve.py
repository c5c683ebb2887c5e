"""`solve()`: read → build → adapter → `Result`."""

from __future__ import annotations

import math
import numbers
import os
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from .diagnose import explain_infeasible
from .errors import ProblemError
from .evaluate import evaluate
from .model.bounds import cost_bounds, implied_bounds, needs_finite_bound, provisional_bounds
from .model.build import build_model
from .model.linear import LinearModel
from .model.sets import ModelData, model_data
from .problem import Problem, as_problem
from .result import Result, make_result
from .solvers import get_adapter
from .solvers.base import Adapter, RawSolution, SolveOptions

__all__ = ["solve"]


def _options(time_limit: Any, mip_gap: Any, threads: Any, verbose: Any) -> SolveOptions:
    def bad(name: str, value: Any, why: str) -> ProblemError:
        return ProblemError(f"{name}: {value!r} {why}", path=name, value=value)

    if time_limit is not None:
        if not isinstance(time_limit, numbers.Real) or isinstance(time_limit, bool) or not time_limit > 0:
            raise bad("time_limit", time_limit, "must be a positive number of seconds (or None)")
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


def _run(adapter: Adapter, model: LinearModel, options: SolveOptions) -> RawSolution:
    try:
        return adapter.solve(model, options)
    except Exception as exc:  # a solver's own failure becomes status "error", never a traceback
        return RawSolution("error", None, solver=adapter.name, message=f"{adapter.name} failed: {exc}")


def _lots(model: LinearModel, raw: RawSolution, shape: tuple[int, int]) -> np.ndarray:
    block = model.column_block("lots")
    assert block is not None and raw.x is not None
    return np.round(raw.x[block.ids]).reshape(shape)


def _remaining(options: SolveOptions, started: float) -> SolveOptions | None:
    if options.time_limit is None:
        return options
    left = options.time_limit - (time.perf_counter() - started)
    return replace(options, time_limit=left) if left > 0.5 else None


def solve_data(data: ModelData, adapter: Adapter, options: SolveOptions) -> tuple[LinearModel, RawSolution]:
    """Solve the model of ``data`` with bounds certified by cost (see `procure.model.bounds`)."""
    started = time.perf_counter()
    implied = implied_bounds(data)
    provisional = needs_finite_bound(data, implied) & np.isinf(implied)
    upper = np.where(provisional, provisional_bounds(data), implied)
    model = build_model(data, upper)
    raw = _run(adapter, model, options)
    if not provisional.any():
        return model, raw
    shape = (data.n_offers, data.n_periods)
    if raw.has_plan:
        plan = _lots(model, raw, shape) * data.lot[:, None]
        certified = cost_bounds(data, evaluate(data.problem, plan).cost)
        widen = provisional & np.isfinite(certified) & (certified > upper)
        if not widen.any():
            return model, raw
        upper = np.where(widen, certified, upper)
        warm = replace(
            options,
            warm_start_ids=np.arange(data.n_offers * data.n_periods),
            warm_start=_lots(model, raw, shape).ravel(),
        )
    elif raw.status == "infeasible":
        upper = np.where(provisional, upper * 1000, upper)
        warm = options
    else:
        return model, raw
    left = _remaining(warm, started)
    if left is None:
        return model, raw
    model = build_model(data, upper)
    again = _run(adapter, model, left)
    return model, (again if again.has_plan or not raw.has_plan else raw)


def _diagnosis_model(data: ModelData) -> LinearModel:
    """The model with lot bounds from supply only, so every requirement row can be relaxed."""
    upper = implied_bounds(data, requirements=False)
    generous = 10 * provisional_bounds(data)
    return build_model(data, np.where(needs_finite_bound(data, upper) & np.isinf(upper), generous, upper))


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
    options = _options(time_limit, mip_gap, threads, verbose)
    prob = as_problem(problem)
    adapter = get_adapter(solver)
    data = model_data(prob)
    model, raw = solve_data(data, adapter, options)
    message = raw.message
    plan = None
    if raw.has_plan:
        plan = _lots(model, raw, (data.n_offers, data.n_periods)) * data.lot[:, None]
    elif raw.status == "infeasible":
        left = _remaining(options, started) or replace(options, time_limit=5.0)
        message = explain_infeasible(_diagnosis_model(data), adapter, left)
    bound = raw.bound if math.isfinite(raw.bound) else math.nan
    return make_result(
        prob,
        raw.status,
        plan,
        bound=bound,
        seconds=time.perf_counter() - started,
        solver=adapter.name,
        message=message,
        model_size=model.stats(),
    )
