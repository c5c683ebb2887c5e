"""From model data to a solved plan: certified lot bounds and HHI refinement around the adapter.

Two loops wrap the solver, both to keep the optimum exact while the model
stays linear and tight:

- *bound certification* (`solve_data`): lot bounds that no constraint
  implies are provisional until a plan's objective certifies them (see
  `procure.model.bounds`); if a provisional bound was too tight, solve again
  with the certified one, warm-started;
- *HHI refinement* (`optimize`): tangent cuts are added where the plan's
  exact HHI exceeds the model's, until every period is within `HHI_TOL`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from .evaluate import evaluate, objective_of
from .model.bounds import cost_bounds, first_bounds, implied_bounds, needs_finite_bound, provisional_bounds
from .model.build import BuiltModel, build_model
from .model.risk import HHI_TOL, hhi_cut_rows
from .model.sets import ModelData
from .solvers.base import Adapter, RawSolution, Session, SolveOptions

__all__ = [
    "Solved",
    "diagnosis_model",
    "lots_of",
    "optimize",
    "placed_of",
    "remaining",
    "solve_data",
    "split_of",
]

#: Rounds of HHI cuts before giving up on the tolerance (each adds at most V×T cuts).
MAX_HHI_ROUNDS = 50


@dataclass
class Solved:
    """The model that gave the answer, the solver's answer, and the plan's lots."""

    built: BuiltModel
    raw: RawSolution

    @property
    def has_plan(self) -> bool:
        return self.raw.has_plan

    def lots(self) -> np.ndarray:
        return lots_of(self.built, self.raw)

    def placed(self, data: ModelData) -> np.ndarray:
        """(P, T) units bought per placement."""
        return placed_of(self.built, self.raw, data)

    def split(self) -> np.ndarray | None:
        """(I, W, T) units running each workload (None without workloads)."""
        return split_of(self.built, self.raw)


def lots_of(built: BuiltModel, raw: RawSolution) -> np.ndarray:
    """(I, T) whole lots of a solution."""
    assert raw.x is not None
    return np.round(raw.x[built.lots])


def placed_of(built: BuiltModel, raw: RawSolution, data: ModelData) -> np.ndarray:
    """(P, T) units bought per placement in a solution."""
    return lots_of(built, raw) * data.lot_p[:, None]


def split_of(built: BuiltModel, raw: RawSolution) -> np.ndarray | None:
    """(I, W, T) units running each workload in a solution (None without workloads or plan)."""
    ids = built.split
    if ids is None or raw.x is None:
        return None
    return np.where(ids >= 0, np.maximum(raw.x[np.maximum(ids, 0)], 0.0), 0.0)


def remaining(options: SolveOptions, started: float) -> SolveOptions | None:
    """``options`` with the time already spent taken off the limit; None when it is used up."""
    if options.time_limit is None:
        return options
    left = options.time_limit - (time.perf_counter() - started)
    return replace(options, time_limit=left) if left > 0.5 else None


def _safe(session: Session, options: SolveOptions) -> RawSolution:
    try:
        return session.solve(options)
    except Exception as exc:  # a solver's own failure becomes status "error", never a traceback
        name = session.adapter.name
        return RawSolution("error", None, solver=name, message=f"{name} failed: {exc}")


def warm_from(built: BuiltModel, raw: RawSolution, options: SolveOptions) -> SolveOptions:
    """Options that warm-start from the lots of ``raw`` (the solver completes the rest)."""
    if not raw.has_plan:
        return options
    return replace(options, warm_start_ids=built.lots.ravel(), warm_start=lots_of(built, raw).ravel())


def optimize(session: Session, built: BuiltModel, data: ModelData, options: SolveOptions) -> RawSolution:
    """Solve the kept model; with HHI terms, add tangent cuts until the plan's exact HHI
    is within `HHI_TOL` of the model's in every period."""
    started = time.perf_counter()
    if options.warm_start is None:  # nothing to start from: let the solver look near the LP optimum
        options = replace(options, lp_support_ids=built.lots.ravel())
    raw = _safe(session, options)
    hhi = built.hhi
    if hhi is None:
        return raw
    demand = data.demand[hhi.periods]
    for _ in range(MAX_HHI_ROUNDS):
        if not raw.has_plan or raw.x is None:
            return raw
        share = raw.x[built.compute[:, hhi.periods]] / demand  # (V, P)
        under = share**2 - raw.x[hhi.terms]
        if under.sum(axis=0).max() <= HHI_TOL:
            return raw
        v, p = np.nonzero(under > HHI_TOL / (2 * data.n_vendors))
        index, row, col, val, lower = hhi_cut_rows(data, hhi, built.compute, v, p, share[v, p])
        session.add_rows("hhi_cut", index, row, col, val, lower=lower, unit="share²", definition=True)
        left = remaining(options, started)
        if left is None:
            return replace(raw, status="feasible", message="stopped: time limit while refining HHI cuts")
        previous = raw
        raw = _safe(session, warm_from(built, previous, left))
    return raw


def solve_data(
    data: ModelData, adapter: Adapter, options: SolveOptions, *, hhi: bool = False, cvar: bool = False
) -> Solved:
    """Solve the model of ``data`` with lot bounds certified by cost (see `procure.model.bounds`)."""
    started = time.perf_counter()
    upper, provisional = first_bounds(data)
    built = build_model(data, upper, hhi=hhi, cvar=cvar)
    raw = optimize(adapter.open(built.model), built, data, options)
    if not provisional.any():
        return Solved(built, raw)
    if raw.has_plan:
        plan = lots_of(built, raw) * data.lot_p[:, None]
        certified = cost_bounds(data, objective_of(data.problem, evaluate(data.problem, plan)))
        widen = provisional & np.isfinite(certified) & (certified > upper)
        if not widen.any():
            return Solved(built, raw)
        upper = np.where(widen, certified, upper)
        again_options = warm_from(built, raw, options)
    elif raw.status == "infeasible":
        upper = np.where(provisional, upper * 1000, upper)
        again_options = options
    else:
        return Solved(built, raw)
    left = remaining(again_options, started)
    if left is None:
        return Solved(built, raw)
    rebuilt = build_model(data, upper, hhi=hhi, cvar=cvar)
    again = optimize(adapter.open(rebuilt.model), rebuilt, data, left)
    if again.has_plan or not raw.has_plan:
        return Solved(rebuilt, again)
    return Solved(built, raw)


def diagnosis_model(data: ModelData) -> BuiltModel:
    """The model with every requirement as a row, so a diagnosis may relax any of them:
    supply, budgets and power caps are rows rather than lot bounds."""
    live = implied_bounds(data, requirements=False) > 0  # only the horizon (and minimum spend) bound lots here
    open_lots = np.where(live, np.inf, implied_bounds(data, requirements=False))
    generous = 10 * provisional_bounds(data)
    upper = np.where(needs_finite_bound(data, open_lots) & np.isinf(open_lots), generous, open_lots)
    return build_model(data, upper, supply_rows=True)
