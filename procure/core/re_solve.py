"""Re-solving variants of a result's problem through the one pipeline, warm from the result's plan.

`procure.analysis.sensitivity.marginal_value` and `procure.analysis.rule_costs.rule_costs` answer "what if the problem
were a little different" by solving the changed problem, never by extrapolating.  Both solve
through `procure.core.pipeline.Pipeline` (the path of `solve` and `Planner`, with its bound
certification and honest status), keep the solver's model between variants where only numbers
differ (`Pipeline.kept`, as `Planner` does), and start each solve from the result's plan
whenever that plan satisfies the variant.
"""

from __future__ import annotations

import math
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..base.errors import ProblemError
from ..model.risk import HHI_TOL
from ..problem.evaluate import evaluate, violations
from ..problem.format import Problem
from ..solvers import DEFAULT_SOLVER
from ..solvers.base import Adapter, SolveOptions
from ..solvers.options import set_up
from .pipeline import Extra, ModelState, Pipeline
from .result import Outcome, Result

__all__ = [
    "SOLVE_OPTIONS",
    "checked_options",
    "keep_model",
    "kept_model",
    "minus",
    "optimum",
    "pipeline_for",
    "resolve",
    "start_lots",
]

#: The keyword arguments a re-solve takes (those of `procure.solve`).
SOLVE_OPTIONS = ("solver", "time_limit", "mip_gap", "threads", "verbose", "solver_options", "extra")


def checked_options(
    result: Outcome, options: Mapping[str, Any], what: str
) -> tuple[Adapter, SolveOptions, Extra | None]:
    """The caller's re-solve ``options`` (those of `procure.solve`) checked: `ProblemError` for an
    unknown option, or when the result was solved with rows of the caller's own (``extra``) that
    are not given again."""
    unknown = sorted(set(options) - set(SOLVE_OPTIONS))
    if unknown:
        raise ProblemError(
            f"{what}: unknown option {unknown[0]!r} (options: {', '.join(SOLVE_OPTIONS)})",
            path=unknown[0],
            value=options[unknown[0]],
        )
    extra = options.get("extra")
    if result.extra_rows is not None and extra is None:
        raise ProblemError(
            f"{what}: the result was solved with rows of your own (extra=...); pass the same extra= again",
            path="extra",
        )
    adapter, solve = set_up(
        options.get("solver", DEFAULT_SOLVER),
        options.get("time_limit"),
        options.get("mip_gap", 1e-4),
        options.get("threads"),
        options.get("verbose", False),
        options.get("solver_options"),
    )
    return adapter, solve, extra


def pipeline_for(result: Outcome, options: Mapping[str, Any], what: str) -> Pipeline:
    """The pipeline that re-solves variants of ``result``'s problem with the caller's ``options``
    (checked by `checked_options`)."""
    adapter, solve, extra = checked_options(result, options, what)
    return Pipeline(adapter, solve, extra=extra)


def start_lots(result: Outcome, problem: Problem) -> np.ndarray | None:
    """``result``'s plan as (P, T) whole lots of ``problem``'s placements, when it satisfies
    ``problem`` (None otherwise, or without a plan).  Placements are matched by offer and site,
    so a variant that lets a site host more vendors keeps the plan (new placements get 0)."""
    if not isinstance(result, Result) or result.evaluation is None or not result.has_plan:
        return None  # a tree's plans are many: a tree is re-solved cold
    ev, old = result.evaluation, result.problem
    if old.periods != problem.periods or old.offer_names != problem.offer_names:
        return None
    sites_old, sites_new = old.site_names or ("",), problem.site_names or ("",)
    where = {(i, sites_new[s]): k for k, (i, s) in enumerate(problem.placements())}
    placed = np.zeros((len(where), len(problem.periods)))
    for k, (i, s) in enumerate(old.placements()):
        target = where.get((i, sites_old[s]))
        if target is None:
            if ev.placed[k].any():
                return None
            continue
        placed[target] = ev.placed[k]
    built = ev.built if ev.built.shape[0] == problem.inputs.n_builds else None
    if violations(problem, evaluate(problem, placed, ev.split, built), hhi_tol=HHI_TOL):
        return None
    lot = problem.inputs.lot[problem.inputs.offer_of]
    return np.round(placed / lot[:, None])


def resolve(
    pipeline: Pipeline, problem: Problem, start: np.ndarray | None, previous: ModelState | None = None
) -> tuple[Outcome, ModelState]:
    """Solve ``problem`` warm from whole lots ``start``, in ``previous``'s solver model when
    ``problem`` has its structure (changed in place), else in a new one whose lot bounds admit
    the start.  Returns the result and the model state (to pass as ``previous`` next time)."""
    started = time.perf_counter()
    if problem.demand_scenarios:  # a tree: its extensive form, built and solved whole, cold
        return pipeline.run_kept(problem, started=started)
    state = pipeline.kept(previous, problem) if previous is not None else None
    if state is not None and start is not None and (start > state.upper).any():
        state = None  # the kept model's provisional bounds would cut the start off
    if state is None:
        state = pipeline.open(problem)
        if start is not None and (start > state.upper).any():
            # a provisional bound below the start: open with bounds that admit it (implied
            # bounds hold for every plan, so only provisional ones can be below it)
            state = pipeline.open(problem, np.maximum(state.upper, start))
    state.lots = start
    return pipeline.run_kept(problem, state=state, started=started)


#: Results whose re-solve model is kept between calls (the most recently used).
KEPT_RESULTS = 4
_kept: OrderedDict[int, tuple[weakref.ref[Any], Pipeline, ModelState]] = OrderedDict()
_kept_lock = threading.Lock()


def _same_pipeline(a: Pipeline, b: Pipeline) -> bool:
    return a.adapter.name == b.adapter.name and a.options == b.options and a.extra is b.extra


def kept_model(result: Outcome, pipeline: Pipeline) -> ModelState | None:
    """The model an earlier re-solve of ``result`` kept for ``pipeline``'s options, taken out
    (so that two threads never share a solver instance; `keep_model` puts it back)."""
    with _kept_lock:
        entry = _kept.pop(id(result), None)
    if entry is None or entry[0]() is not result or not _same_pipeline(entry[1], pipeline):
        return None
    return entry[2]


def keep_model(result: Outcome, pipeline: Pipeline, state: ModelState) -> None:
    """Keep ``state`` for the next re-solve of ``result`` (while the result lives; at most
    `KEPT_RESULTS` results keep one)."""
    key = id(result)

    def forget(ref: weakref.ref[Any]) -> None:
        with _kept_lock:
            if key in _kept and _kept[key][0] is ref:
                del _kept[key]

    with _kept_lock:
        _kept[key] = (weakref.ref(result, forget), pipeline, state)
        _kept.move_to_end(key)
        while len(_kept) > KEPT_RESULTS:
            _kept.popitem(last=False)


def optimum(result: Outcome) -> tuple[float, float]:
    """A result's objective and proved bound; an infeasible problem's optimum is +inf (proved),
    one that ended without a plan for another reason is unknown (NaN)."""
    if result.has_plan:
        return result.objective, result.bound
    if result.status == "infeasible":
        return math.inf, math.inf
    return math.nan, math.nan


def minus(a: float, b: float) -> float:
    """``a − b`` with inf − inf undefined (NaN)."""
    if math.isinf(a) and math.isinf(b) and (a > 0) == (b > 0):
        return math.nan
    return a - b
