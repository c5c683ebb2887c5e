"""Solving a problem with demand scenarios: its extensive form, through the same steps as
`procure.pipeline` (build → solve → HHI cuts → certify lot bounds → an honest `TreeResult`).

Every distinct demand path is built by the one formulation (`Pipeline.build`) with the same
lot bounds; `procure.model.extensive` stacks them and merges the decisions of paths that
share their history.  The plan of each path is read through its view, evaluated by
`procure.evaluate` against that path's problem, and the tree's objective is recomputed from
those plans: ``Σ_s p_s · objective_s + scenario_cvar_weight · CVaR(cost_s)``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import NumericsError
from .evaluate import PlanEvaluation, evaluate, objective_of, violations
from .model.bounds import cost_bounds, first_bounds
from .model.build import BuiltModel
from .model.extensive import Extensive, extensive_form
from .model.risk import HHI_TOL
from .model.sets import ModelData, model_data
from .problem import Problem
from .result import Result, make_result
from .solvers.base import RawSolution, Session, SolveOptions
from .tree import ScenarioTree, scenario_tree

if TYPE_CHECKING:
    from .pipeline import ModelState, Pipeline
    from .tree_result import StochasticValue

__all__ = [
    "TreeState",
    "expected_value_of_perfect_information",
    "mean_value_problem",
    "nonanticipativity_violations",
    "path_results",
    "run_tree",
    "scenario_cvar",
    "tree_objective",
    "value_of_stochastic_solution",
]

#: Rebuilds with wider lot bounds before a bound is declared uncertified (as `procure.pipeline`).
MAX_CERTIFY_ROUNDS = 3
#: HiGHS's heuristic effort on an extensive form: on the gigawatt tree its bound is near the
#: optimum early, and the search stalls on plans (27 paths: no proof of 1e-3 in 150 s at HiGHS's
#: 0.05, proved in 14 s at 1.0; ``benchmarks/tree.py``).  It changes how plans are looked for,
#: never what is proved.  ``solver="auto"`` answers with HiGHS alone there: CBC proves the 9-path
#: tree in 45 s against HiGHS's 5 s, and its plans of the 27-path tree break share rows beyond
#: procure's check.
TREE_HEURISTIC_EFFORT = 1.0


def scenario_cvar(costs: np.ndarray, probability: np.ndarray, alpha: float) -> float:
    """CVaR at ``alpha`` of a discrete cost distribution, exactly: ``min_η η + Σ p·max(0, c − η)/(1 − α)``
    (piecewise linear in η: a cost value attains the minimum)."""
    c = np.asarray(costs, dtype=float)
    eta = c[:, None]
    values = c + (probability[None, :] * np.maximum(c[None, :] - eta, 0.0)).sum(axis=1) / (1.0 - alpha)
    return float(values.min())


def tree_objective(problem: Problem, probability: np.ndarray, objectives: np.ndarray, costs: np.ndarray) -> float:
    """``Σ_s p_s · objective_s + scenario_cvar_weight · CVaR_alpha(cost_s)``."""
    risk = problem.risk
    value = float(probability @ objectives)
    if risk.scenario_cvar_weight > 0:
        value += risk.scenario_cvar_weight * scenario_cvar(costs, probability, risk.scenario_cvar_alpha)
    return value


def nonanticipativity_violations(tree: ScenarioTree, evaluations: list[PlanEvaluation], tol: float = 1e-6) -> list[str]:
    """Purchases (per placement) and power builds of period ``t`` that differ between paths whose
    demand is equal up to ``t``: one line each."""
    out = []
    periods = tree.problems[0].periods
    for s in range(tree.n_paths):
        for t in range(len(periods)):
            r = int(tree.representative[s, t])
            if r == s:
                continue
            mine, theirs = evaluations[s], evaluations[r]
            for what, a, b in (("purchases", mine.placed, theirs.placed), ("power builds", mine.built, theirs.built)):
                if a.size and np.abs(a[:, t] - b[:, t]).max() > tol * max(1.0, float(np.abs(b[:, t]).max())):
                    out.append(
                        f"non-anticipativity[{tree.names[s]},{periods[t]}]: {what} differ from {tree.names[r]}'s,"
                        " whose demand is the same up to this period"
                    )
    return out


@dataclass
class TreeState:
    """The extensive form kept in a solver session, with the lot bounds its paths were built with."""

    problem: Problem
    tree: ScenarioTree
    datas: list[ModelData]
    extensive: Extensive
    session: Session
    upper: np.ndarray
    provisional: np.ndarray
    fixed: tuple[int, np.ndarray, np.ndarray | None] | None = None


def _open(
    pipeline: Pipeline,
    problem: Problem,
    tree: ScenarioTree,
    upper: np.ndarray | None,
    fixed: tuple[int, np.ndarray, np.ndarray | None] | None = None,
) -> TreeState:
    """The extensive form of ``tree`` in a new solver session; ``fixed`` = (H, lots (P, H), GW
    (B, H)) holds the first H periods' lots and builds of every path at those values."""
    datas = [model_data(p) for p in tree.problems]
    bounds = [first_bounds(d) for d in datas]
    common = np.max([b[0] for b in bounds], axis=0) if upper is None else upper
    if fixed is not None:
        common = common.copy()
        common[:, : fixed[0]] = np.maximum(common[:, : fixed[0]], fixed[1])
    provisional = np.any([b[1] for b in bounds], axis=0)
    builts = [pipeline.build(d, common) for d in datas]
    ext = extensive_form(
        builts,
        tree.names,
        tree.probability,
        tree.representative,
        cvar_weight=problem.risk.scenario_cvar_weight,
        cvar_alpha=problem.risk.scenario_cvar_alpha,
        shared=pipeline.shared,
    )
    if fixed is not None:
        H, lots, gw = fixed
        m = ext.model
        for view in ext.views:
            ids = view.lots[:, :H].ravel()
            m.set_col_bounds(ids, lots.ravel(), lots.ravel())
            builds = view.handles.builds
            if builds is not None and gw is not None:
                cols, units = builds.cols[:, :H], (gw / builds.gw[:, None])
                live = cols >= 0
                m.set_col_bounds(cols[live], units[live], units[live])
    return TreeState(problem, tree, datas, ext, pipeline.adapter.open(ext.model), common, provisional, fixed)


def _warm(state: TreeState, x: np.ndarray | None, options: SolveOptions) -> SolveOptions:
    if x is None:
        return replace(
            options, warm_start=None, warm_start_ids=None, other_starts=(), lp_support_ids=state.extensive.lots
        )
    ids = state.extensive.lots
    return replace(options, warm_start_ids=ids, warm_start=np.round(x[ids]), other_starts=(), lp_support_ids=None)


def _optimize(state: TreeState, options: SolveOptions, started: float) -> RawSolution:
    """Solve, refining the HHI tangent cuts of every path whose plan needs them (as
    `procure.pipeline.optimize` does for one path, by `procure.pipeline.refine_hhi`)."""
    from .pipeline import _safe, add_hhi_cuts, refine_hhi

    views = [v for v in state.extensive.views if v.hhi is not None]
    if not views:
        return _safe(state.session, options)

    def cut(x: np.ndarray) -> bool:
        added = [add_hhi_cuts(state.session, v, v.handles.data, x) for v in views]  # every path, not the first
        return any(added)

    def again(raw: RawSolution, left: SolveOptions) -> RawSolution:
        assert raw.x is not None
        return _safe(state.session, _warm(state, raw.x, left))

    return refine_hhi(lambda first: _safe(state.session, first), again, cut, options, started)


@dataclass
class _Plans:
    """Each path's plan read through its view, and its evaluation."""

    placed: list[np.ndarray]
    split: list[np.ndarray | None]
    built: list[np.ndarray | None]
    evaluations: list[PlanEvaluation]


def _plans(state: TreeState, x: np.ndarray) -> _Plans:
    from .pipeline import _built, _split

    placed, split, built, evs = [], [], [], []
    for view, problem, data in zip(state.extensive.views, state.tree.problems, state.datas):
        lots = np.round(x[view.lots])
        placed.append(lots * data.lot_p[:, None])
        split.append(_split(view, x))
        built.append(_built(view, x))
        evs.append(evaluate(problem, placed[-1], split[-1], built[-1]))
    return _Plans(placed, split, built, evs)


def _solve(
    pipeline: Pipeline, state: TreeState, options: SolveOptions, started: float
) -> tuple[TreeState, RawSolution, bool]:
    """Solve and certify the lot bounds (a better plan than ``raw``'s has every path's objective
    below ``objective / p_s``, so its lots within `cost_bounds` of that); True when certified."""
    from .pipeline import remaining

    left = remaining(options, started)
    if left is None:
        message = "stopped before any plan was found: the time limit went into building the model"
        return state, RawSolution("error", None, message=message, termination="time_limit"), True
    raw = _optimize(state, _warm(state, None, left), started)
    for _ in range(MAX_CERTIFY_ROUNDS):
        if not state.provisional.any():
            return state, raw, True
        if raw.has_plan and raw.x is not None:
            plans = _plans(state, raw.x)
            objective = _objective(state, plans)
            certified = cost_bounds(state.datas[0], objective / float(state.tree.probability.min()))
            widen = state.provisional & np.isfinite(certified) & (certified > state.upper)
            if not widen.any():
                return state, raw, True
            wider = np.where(widen, certified, state.upper)
        elif raw.status == "infeasible":
            wider = np.where(state.provisional, state.upper * 1000, state.upper)
        else:
            return state, raw, True
        left = remaining(options, started)
        if left is None or raw.interrupted:
            return state, raw, False
        try:
            rebuilt = _open(pipeline, state.problem, state.tree, wider, state.fixed)
        except NumericsError:
            return state, raw, False
        again = _optimize(rebuilt, _warm(rebuilt, None, left), started)
        if raw.has_plan and not again.has_plan:
            return state, raw, False
        if raw.status == "infeasible" and again.status == "infeasible":
            return rebuilt, again, True
        state, raw = rebuilt, again
    return state, raw, not raw.has_plan


def _objective(state: TreeState, plans: _Plans) -> float:
    objectives = np.array([objective_of(p, ev) for p, ev in zip(state.tree.problems, plans.evaluations)])
    costs = np.array([ev.cost for ev in plans.evaluations])
    return tree_objective(state.problem, state.tree.probability, objectives, costs)


def path_results(
    tree: ScenarioTree,
    status: str,
    placed: list[np.ndarray],
    split: list[np.ndarray | None],
    built: list[np.ndarray | None],
    solver: str,
) -> tuple[dict[str, Result], float]:
    """Every demand scenario's `Result` (scenarios with identical paths share one) and the
    expected cost of the plans."""
    results: dict[str, Result] = {}
    for s, members in enumerate(tree.members):
        path = make_result(tree.problems[s], status, placed[s], split[s], solver=solver, built=built[s])
        for name in members:
            results[name] = path
    return results, float(tree.probability @ np.array([results[n].cost for n in tree.names]))


def run_tree(
    pipeline: Pipeline,
    problem: Problem,
    started: float,
    report: Problem | None = None,
    fixed: tuple[int, np.ndarray, np.ndarray | None] | None = None,
) -> tuple[Result, TreeState]:
    """Solve ``problem`` (with ``demand_scenarios``) and make its `TreeResult` (``fixed``: see `_open`)."""
    from .tree_result import TreeResult

    tree = scenario_tree(problem)
    options = replace(pipeline.options, heuristic_effort=TREE_HEURISTIC_EFFORT, race=False)
    state = _open(pipeline, problem, tree, None, fixed)
    state, raw, certified = _solve(pipeline, state, options, started)
    bound = raw.bound if certified else math.nan
    status, termination, message = raw.status, raw.termination, raw.message
    results: dict[str, Result] = {}
    gap = math.nan
    objective = cost = math.nan
    if raw.has_plan and raw.x is not None:
        from .pipeline import verdict

        plans = _plans(state, raw.x)
        broken = [
            f"{name}: {line}"
            for name, p, ev in zip(tree.names, tree.problems, plans.evaluations)
            for line in violations(p, ev, hhi_tol=HHI_TOL)
        ]
        if pipeline.shared:  # wait-and-see (EVPI) lets every path decide on its own
            broken += nonanticipativity_violations(tree, plans.evaluations)
        objective = _objective(state, plans) if not broken else math.nan
        status, termination, message, bound, gap = verdict(raw, broken, objective, bound, certified)
        if status != "error":
            results, cost = path_results(
                tree, status, plans.placed, plans.split, plans.built, raw.solver or pipeline.adapter.name
            )
        else:
            objective = math.nan
    elif raw.status == "infeasible" and pipeline.explain:
        message, _ = pipeline.explain_infeasible(problem, started)
    elif raw.status == "infeasible":
        message = "no plan satisfies every constraint in every demand scenario"
    result = TreeResult(
        status=status,
        objective=objective,
        cost=cost,
        bound=bound,
        gap=gap,
        solve_seconds=time.perf_counter() - started,
        solver=raw.solver or pipeline.adapter.name,
        message=message,
        problem=report or problem,
        termination=termination,
        model_size=state.extensive.model.stats(),
        tree=tree,
        scenario_results=results,
    )
    return result, state


def as_model_state(state: TreeState) -> ModelState:
    """A `procure.pipeline.ModelState` standing for a kept extensive form (a `Planner` holds it;
    `Pipeline.kept` never reuses it: each tree is built afresh)."""
    from .pipeline import ModelState

    view = state.extensive.views[0]
    return ModelState(
        state.problem,
        state.datas[0],
        BuiltModel(state.extensive.model, view.handles),
        state.session,
        state.upper,
        state.provisional,
    )


# --------------------------------------------------------------------------- VSS and EVPI


def mean_value_problem(problem: Problem) -> Problem:
    """``problem`` with its demand scenarios replaced by the expected demand path."""
    data = problem.to_dict()
    paths = data.pop("demand_scenarios")
    if paths and "workloads" in paths[0]:
        inputs = problem.inputs  # the expected workload demands
        names = list(problem.demand_scenarios[0].workloads or {})
        data["workloads"] = {w: dict(zip(problem.periods, inputs.workload_demand[k])) for k, w in enumerate(names)}
    else:
        data["demand"] = dict(zip(problem.periods, problem.total_demand))
    return Problem.from_dict(data)


def _pipeline(result: Result, options: dict[str, Any]) -> Pipeline:
    from .resolve import pipeline_for

    return pipeline_for(result, options, "vss/evpi")


def _interval(a: Result, b: Result) -> tuple[float, float, float]:
    """``a − b`` with the interval the two results' bounds prove (a, b minimized)."""
    value = a.objective - b.objective
    low = a.bound - b.objective if math.isfinite(a.bound) else -math.inf
    high = a.objective - b.bound if math.isfinite(b.bound) else math.inf
    return value, low, high


def value_of_stochastic_solution(result: Result, **options: Any) -> StochasticValue:
    """VSS = EEV − RP: EEV decides the here-and-now periods as the mean demand path's optimal plan
    does, then every path adapts (the extensive form with those decisions held); RP is the tree's
    optimum, solved again with the same options.  Infinite when the mean path's decisions leave
    some path without a plan; 0 when nothing is decided before the first branch."""
    from .tree_result import StochasticValue

    pipeline = _pipeline(result, options)
    problem = result.problem
    tree = scenario_tree(problem)
    rp, _ = run_tree(pipeline, problem, time.perf_counter())
    H = tree.here_and_now
    if H == 0:
        return StochasticValue("VSS", 0.0, 0.0, 0.0, rp.objective, rp.objective, "nothing is decided before a branch")
    mean, _ = pipeline.run(mean_value_problem(problem))
    if not mean.has_plan or mean.evaluation is None:
        note = f"the mean demand path has no plan ({mean.status})"
        return StochasticValue("VSS", math.nan, math.nan, math.nan, rp.objective, math.nan, note)
    data = model_data(tree.problems[0])
    lots = np.round(mean.evaluation.placed[:, :H] / data.lot_p[:, None])
    gw = mean.evaluation.built[:, :H] if mean.evaluation.built.size else None
    eev, _ = run_tree(pipeline, problem, time.perf_counter(), fixed=(H, lots, gw))
    if eev.status == "infeasible":
        note = "deciding the here-and-now periods from the mean path leaves some path without a plan"
        return StochasticValue("VSS", math.inf, math.inf, math.inf, rp.objective, math.inf, note)
    value, low, high = _interval(eev, rp)
    note = "" if (eev.status, rp.status) == ("optimal", "optimal") else f"statuses {eev.status}/{rp.status}"
    return StochasticValue("VSS", value, max(low, 0.0), high, rp.objective, eev.objective, note)


def expected_value_of_perfect_information(result: Result, **options: Any) -> StochasticValue:
    """EVPI = RP − WS: WS is the extensive form without non-anticipativity (every path decides
    knowing its whole future), RP the tree's optimum; solved with the same options."""
    from .tree_result import StochasticValue

    pipeline = _pipeline(result, options)
    problem = result.problem
    rp, _ = run_tree(pipeline, problem, time.perf_counter())
    ws, _ = run_tree(replace(pipeline, shared=False), problem, time.perf_counter())
    value, low, high = _interval(rp, ws)
    note = "" if (rp.status, ws.status) == ("optimal", "optimal") else f"statuses {rp.status}/{ws.status}"
    return StochasticValue("EVPI", value, max(low, 0.0), high, rp.objective, ws.objective, note)
