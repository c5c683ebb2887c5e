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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..base.errors import Interrupted, NumericsError
from ..base.hooks import provide
from ..core.pipeline import (
    MAX_CERTIFY_ROUNDS,
    ModelState,
    add_hhi_cuts,
    built_from,
    options_of,
    refine_hhi,
    remaining,
    solve_safely,
    split_from,
    verdict,
)
from ..core.re_solve import pipeline_for
from ..core.result import Outcome, Result, make_result
from ..model.bounds import cost_bounds, first_bounds
from ..model.build import BuiltModel
from ..model.extensive import Extensive, PathGroup, extensive_form
from ..model.held import Held
from ..model.replicate import path_datas, path_groups, tree_first_bounds
from ..model.risk import HHI_TOL
from ..model.sets import ModelData, model_data
from ..problem.evaluate import PlanEvaluation, evaluate, objective_of, polish_split, violations
from ..problem.format import Problem
from ..problem.inputs import inputs_of
from ..problem.tree import ScenarioTree, scenario_tree
from ..solvers.base import RawSolution, Session, SolveOptions
from .tree_measures import nonanticipativity_violations, scenario_cvar, tree_objective
from .tree_result import StochasticValue, TreeResult

if TYPE_CHECKING:
    from ..core.pipeline import ModelState, Pipeline
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

#: HiGHS's heuristic effort on an extensive form: on the gigawatt tree its bound is near the
#: optimum early, and the search stalls on plans (27 paths: no proof of 1e-3 in 150 s at HiGHS's
#: 0.05, proved in 14 s at 1.0; ``benchmarks/tree.py``).  It changes how plans are looked for,
#: never what is proved.  ``solver="auto"`` answers with HiGHS alone there: CBC proves the 9-path
#: tree in 45 s against HiGHS's 5 s, and its plans of the 27-path tree break share rows beyond
#: procure's check.
TREE_HEURISTIC_EFFORT = 1.0
#: Within a time limit, the share of the time building every path on its own would take (the
#: paths times one path's data, bounds and model, `_own_seconds`: a measure of the machine's speed
#: and the tree's size) kept for what follows the paths' models: stacking them and loading the
#: solver (about a tenth of it on the gigawatt trees of 1,024 and 4,096 paths, most of it the
#: solver's load; a loaded machine's margin besides: a build that would not end in time stops
#: before them), and reading and checking every path's plan after the solve (about a third: the
#: solve stops that much sooner).
STACK_SHARE = 0.3
ANSWER_SHARE = 0.5
#: Times one path's own build is measured (the least counts: a loaded machine's noise aside).
OWN_BUILDS = 2
#: The message of a tree whose time limit ran out before the solver had a model to solve.
OUT_OF_TIME = "stopped before any plan was found: the time limit went into building the model"


def held_from(ev: PlanEvaluation, reserve_t: np.ndarray, H: int) -> Held:
    """The decisions of an evaluated plan's first ``H`` periods (``reserve_t``: each option's
    reserve period position, from the plan's problem inputs)."""
    reserved = np.where(np.asarray(reserve_t) < H, ev.reserved, np.nan) if len(ev.reserved) else ev.reserved
    built = ev.built[:, :H].copy() if ev.built.size else None
    return Held(H, ev.placed[:, :H].copy(), built, np.asarray(reserved, dtype=float), ev.exercised[:, :, :H].copy())


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
    fixed: Held | None = None
    answer_seconds: float = 0.0  # kept from a time limit for reading and checking every path's plan
    plans: tuple[np.ndarray, _Plans] | None = None  # the last solution read, and its plans


class _OutOfTime(Exception):
    """The time limit ran out while the extensive form was being built."""


def _deadline(options: SolveOptions, started: float) -> float | None:
    return None if options.time_limit is None else started + options.time_limit


def _each(make: Callable[[Any], Any], items: Sequence[Any], deadline: float | None) -> list[Any]:
    """``make`` of every item, stopped (`_OutOfTime`) when ``deadline`` passes."""
    out = []
    for item in items:
        out.append(make(item))
        if deadline is not None and time.perf_counter() > deadline:
            raise _OutOfTime
    return out


def _first_bounds(datas: list[ModelData], alike: bool, deadline: float | None) -> tuple[np.ndarray, np.ndarray]:
    """The largest of every path's first lot bounds and where any is provisional (computed once
    when the paths' data differ in demand alone: ``alike``)."""
    if alike:
        return tree_first_bounds(datas)
    bounds = _each(first_bounds, datas, deadline)
    return np.max([b[0] for b in bounds], axis=0), np.any([b[1] for b in bounds], axis=0)


def _own_seconds(pipeline: Pipeline, problem: Problem, upper: np.ndarray) -> float:
    """Seconds one path's data, first bounds and model take when made on their own (the least
    of `OWN_BUILDS` times)."""
    seconds = []
    for _ in range(OWN_BUILDS):
        began = time.perf_counter()
        inputs_of(problem)  # what `problem.inputs` took to compute
        data = model_data(problem)
        first_bounds(data)
        pipeline.build(data, upper)
        seconds.append(time.perf_counter() - began)
    return min(seconds)


def _open(
    pipeline: Pipeline,
    problem: Problem,
    tree: ScenarioTree,
    upper: np.ndarray | None,
    fixed: Held | None = None,
    deadline: float | None = None,
) -> TreeState:
    """The extensive form of ``tree`` in a new solver session; ``fixed`` = (H, lots (P, H), GW
    (B, H)) holds the first H periods' lots and builds of every path at those values.  Raises
    `_OutOfTime` when it would not be ready by ``deadline`` (`time.perf_counter` seconds).

    The paths differ in demand alone: their data and models are made from a few paths' own
    (`procure.model.replicate`), unless a caller's rows or build hooks (which may read demand
    in any way) are added to each path's model: then every path is built on its own."""
    began = time.perf_counter()
    own = pipeline.extra is not None or pipeline.extend is not None
    replicated = None if own else path_datas(tree.problems)
    datas = replicated if replicated is not None else _each(model_data, tree.problems, deadline)
    first, provisional = _first_bounds(datas, replicated is not None, deadline)
    common = first if upper is None else upper
    if fixed is not None:
        common = common.copy()
        common[:, : fixed.periods] = np.maximum(common[:, : fixed.periods], fixed.lots(datas[0]))

    def build(data: ModelData) -> BuiltModel:
        return pipeline.build(data, common)

    if replicated is not None:
        groups = path_groups(build, datas, lambda make, items: _each(make, items, deadline))
    else:
        groups = [PathGroup.alone(b, s) for s, b in enumerate(_each(build, datas, deadline))]
    paths_seconds = time.perf_counter() - began
    if replicated is not None:  # what every path's own build would take: the unit of the shares
        paths_seconds = max(paths_seconds, tree.n_paths * _own_seconds(pipeline, tree.problems[0], common))
    if deadline is not None and time.perf_counter() + STACK_SHARE * paths_seconds > deadline:
        raise _OutOfTime  # stacking the paths and loading the solver would not end in time
    ext = extensive_form(
        groups,
        tree.names,
        tree.probability,
        tree.representative,
        cvar_weight=problem.risk.scenario_cvar_weight,
        cvar_alpha=problem.risk.scenario_cvar_alpha,
        shared=pipeline.shared,
    )
    if fixed is not None:
        for view in ext.views:
            fixed.hold(ext.model, view.handles, view.handles.data)
    session = pipeline.adapter.open(ext.model)
    return TreeState(problem, tree, datas, ext, session, common, provisional, fixed, ANSWER_SHARE * paths_seconds)


def _unbuilt(pipeline: Pipeline, problem: Problem, tree: ScenarioTree) -> TreeState:
    """What stands for an extensive form the time limit left unbuilt (a `Planner` keeps it, nothing
    solves it): the first path's model, in no solver."""
    data = model_data(tree.problems[0])
    upper, provisional = first_bounds(data)
    built = pipeline.build(data, upper)
    ext = Extensive(built.model, [built], built.lots.ravel(), np.zeros(0, dtype=np.int64))
    return TreeState(problem, tree, [data], ext, Session(pipeline.adapter, built.model), upper, provisional)


def _left(state: TreeState, options: SolveOptions, started: float) -> SolveOptions | None:
    """`procure.core.pipeline.remaining`, with the time that reading every path's plan takes kept back."""

    if options.time_limit is None:
        return options
    return remaining(replace(options, time_limit=options.time_limit - state.answer_seconds), started)


def _warm(state: TreeState, x: np.ndarray | None, options: SolveOptions) -> SolveOptions:
    if x is None:
        return replace(
            options, warm_start=None, warm_start_ids=None, other_starts=(), lp_support_ids=state.extensive.lots
        )
    ids = state.extensive.lots
    return replace(options, warm_start_ids=ids, warm_start=np.round(x[ids]), other_starts=(), lp_support_ids=None)


def _optimize(state: TreeState, options: SolveOptions) -> RawSolution:
    """Solve within ``options.time_limit`` (from now), refining the HHI tangent cuts of every path
    whose plan needs them (as `procure.core.pipeline.optimize` does for one path, by
    `procure.core.pipeline.refine_hhi`)."""

    views = [v for v in state.extensive.views if v.hhi is not None]
    if not views:
        return solve_safely(state.session, options)

    def cut(x: np.ndarray) -> bool:
        added = [add_hhi_cuts(state.session, v, v.handles.data, x) for v in views]  # every path, not the first
        return any(added)

    def again(raw: RawSolution, left: SolveOptions) -> RawSolution:
        assert raw.x is not None
        return solve_safely(state.session, _warm(state, raw.x, left))

    exact = state.session.adapter.capabilities.quadratic
    return refine_hhi(
        lambda first: solve_safely(state.session, first), again, cut, options, time.perf_counter(), exact=exact
    )


@dataclass
class _Plans:
    """Each path's plan read through its view, and its evaluation."""

    placed: list[np.ndarray]
    split: list[np.ndarray | None]
    built: list[np.ndarray | None]
    evaluations: list[PlanEvaluation]


def _plans(state: TreeState, x: np.ndarray) -> _Plans:
    """The plans of solution ``x`` (read once: certifying the lot bounds and answering share them)."""

    if state.plans is not None and state.plans[0] is x:
        return state.plans[1]
    placed, split, built, evs = [], [], [], []
    for view, problem, data in zip(state.extensive.views, state.tree.problems, state.datas):
        lots = np.round(x[view.lots])
        placed.append(lots * data.lot_p[:, None])
        built.append(built_from(view, x))
        chosen = options_of(view, x)
        split.append(polish_split(problem, placed[-1], split_from(view, x), built[-1], chosen))
        evs.append(evaluate(problem, placed[-1], split[-1], built[-1], chosen))
    state.plans = (x, _Plans(placed, split, built, evs))
    return state.plans[1]


def _solve(
    pipeline: Pipeline, state: TreeState, options: SolveOptions, started: float
) -> tuple[TreeState, RawSolution, bool]:
    """Solve and certify the lot bounds (a better plan than ``raw``'s has every path's objective
    below ``objective / p_s``, so its lots within `cost_bounds` of that); True when certified."""
    left = _left(state, options, started)
    if left is None:
        return state, RawSolution("error", None, message=OUT_OF_TIME, termination="time_limit"), True
    raw = _optimize(state, _warm(state, None, left))
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
        if _left(state, options, started) is None or raw.interrupted:
            return state, raw, False
        try:
            rebuilt = _open(pipeline, state.problem, state.tree, wider, state.fixed, _deadline(options, started))
        except (NumericsError, _OutOfTime):
            return state, raw, False
        except KeyboardInterrupt:  # Ctrl-C while rebuilding: the plan so far, uncertified
            return state, replace(raw, termination="interrupted"), False
        left = _left(rebuilt, options, started)
        if left is None:
            return state, raw, False
        again = _optimize(rebuilt, _warm(rebuilt, None, left))
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
    evaluations: Sequence[PlanEvaluation] | None = None,
) -> tuple[dict[str, Result], float]:
    """Every demand scenario's `Result` (scenarios with identical paths share one) and the
    expected cost of the plans (``evaluations``: the plans' evaluations, when already made)."""
    results: dict[str, Result] = {}
    for s, members in enumerate(tree.members):
        problem = tree.problems[s]
        if evaluations is None:
            path = make_result(problem, status, placed[s], split[s], solver=solver, built=built[s])
        else:  # as make_result makes it, from the evaluation at hand
            ev = evaluations[s]
            nan = math.nan
            path = Result(status, objective_of(problem, ev), ev.cost, nan, nan, 0.0, solver, "", problem, evaluation=ev)
        for name in members:
            results[name] = path
    return results, float(tree.probability @ np.array([results[n].cost for n in tree.names]))


@provide("run_tree")
def run_tree(
    pipeline: Pipeline,
    problem: Problem,
    started: float,
    report: Problem | None = None,
    fixed: Held | None = None,
) -> tuple[TreeResult, TreeState]:
    """Solve ``problem`` (with ``demand_scenarios``) and make its `TreeResult` (``fixed``: see `_open`).

    The time limit bounds the whole call, the tree's building included: when it runs out before
    the extensive form is built, the result has no plan (status ``"error"``, termination
    ``"time_limit"``).  Ctrl-C raises `Interrupted` with the result so far (a plan the solver
    found when it was stopped, else none)."""
    options = replace(pipeline.options, heuristic_effort=TREE_HEURISTIC_EFFORT, race=False)
    tree: ScenarioTree | None = None
    doing = "building the model"
    try:
        tree = scenario_tree(problem)
        state = _open(pipeline, problem, tree, None, fixed, _deadline(options, started))
        doing = "solving"
        state, raw, certified = _solve(pipeline, state, options, started)
        doing = "checking the plans"
        return _answer(pipeline, problem, state, raw, certified, started, report), state
    except _OutOfTime:
        assert tree is not None
        no_plan = _no_plan(pipeline, report or problem, tree, started, "time_limit", OUT_OF_TIME)
        return no_plan, _unbuilt(pipeline, problem, tree)
    except Interrupted:
        raise
    except KeyboardInterrupt:  # before the solver could keep a plan: none
        message = f"interrupted (Ctrl-C) while {doing}: no plan is reported"
        raise Interrupted(_no_plan(pipeline, report or problem, tree, started, "interrupted", message)) from None


def _no_plan(
    pipeline: Pipeline, problem: Problem, tree: ScenarioTree | None, started: float, termination: str, message: str
) -> TreeResult:

    nan = math.nan
    seconds = time.perf_counter() - started
    solver = pipeline.adapter.name
    return TreeResult("error", nan, nan, nan, nan, seconds, solver, message, problem, termination, tree=tree)


def _answer(
    pipeline: Pipeline,
    problem: Problem,
    state: TreeState,
    raw: RawSolution,
    certified: bool,
    started: float,
    report: Problem | None,
) -> TreeResult:
    """The `TreeResult` of the solver's answer ``raw``: every path's plan checked, the tree's
    objective recomputed from them, an honest status."""

    tree = state.tree
    bound = raw.bound if certified else math.nan
    status, termination, message = raw.status, raw.termination, raw.message
    results: dict[str, Result] = {}
    gap = math.nan
    objective = cost = math.nan
    if raw.has_plan and raw.x is not None:
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
            solver = raw.solver or pipeline.adapter.name
            results, cost = path_results(
                tree, status, plans.placed, plans.split, plans.built, solver, plans.evaluations
            )
        else:
            objective = math.nan
    elif raw.status == "infeasible" and pipeline.explain:
        message, _ = pipeline.explain_infeasible(problem, started)
    elif raw.status == "infeasible":
        message = "no plan satisfies every constraint in every demand scenario"
    return TreeResult(
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


@provide("as_model_state")
def as_model_state(state: TreeState) -> ModelState:
    """A `procure.core.pipeline.ModelState` standing for a kept extensive form (a `Planner` holds it;
    `Pipeline.kept` never reuses it: each tree is built afresh)."""

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

    return pipeline_for(result, options, "vss/evpi")


def _interval(a: Outcome, b: Outcome) -> tuple[float, float, float]:
    """``a − b`` with the interval the two results' bounds prove (a, b minimized)."""
    value = a.objective - b.objective
    low = a.bound - b.objective if math.isfinite(a.bound) else -math.inf
    high = a.objective - b.bound if math.isfinite(b.bound) else math.inf
    return value, low, high


@provide("vss")
def value_of_stochastic_solution(result: Result, **options: Any) -> StochasticValue:
    """VSS = EEV − RP: EEV decides the here-and-now periods as the mean demand path's optimal plan
    does, then every path adapts (the extensive form with those decisions held); RP is the tree's
    optimum, solved again with the same options.  Infinite when the mean path's decisions leave
    some path without a plan; 0 when nothing is decided before the first branch."""

    pipeline = _pipeline(result, options)
    problem = result.problem
    tree = scenario_tree(problem)
    rp, _ = run_tree(pipeline, problem, time.perf_counter())
    H = tree.here_and_now
    if H == 0:
        return StochasticValue("VSS", 0.0, 0.0, 0.0, rp.objective, rp.objective, "nothing is decided before a branch")
    mean, _ = pipeline.run(mean_value_problem(problem))
    if not isinstance(mean, Result) or mean.evaluation is None or not mean.has_plan:
        note = f"the mean demand path has no plan ({mean.status})"
        return StochasticValue("VSS", math.nan, math.nan, math.nan, rp.objective, math.nan, note)
    eev, _ = run_tree(
        pipeline,
        problem,
        time.perf_counter(),
        fixed=held_from(mean.evaluation, tree.problems[0].inputs.option_reserve_t, H),
    )
    if eev.status == "infeasible":
        note = "deciding the here-and-now periods from the mean path leaves some path without a plan"
        return StochasticValue("VSS", math.inf, math.inf, math.inf, rp.objective, math.inf, note)
    value, low, high = _interval(eev, rp)
    note = "" if (eev.status, rp.status) == ("optimal", "optimal") else f"statuses {eev.status}/{rp.status}"
    return StochasticValue("VSS", value, max(low, 0.0), high, rp.objective, eev.objective, note)


@provide("evpi")
def expected_value_of_perfect_information(result: Result, **options: Any) -> StochasticValue:
    """EVPI = RP − WS: WS is the extensive form without non-anticipativity (every path decides
    knowing its whole future), RP the tree's optimum; solved with the same options."""

    pipeline = _pipeline(result, options)
    problem = result.problem
    rp, _ = run_tree(pipeline, problem, time.perf_counter())
    ws, _ = run_tree(replace(pipeline, shared=False), problem, time.perf_counter())
    value, low, high = _interval(rp, ws)
    note = "" if (rp.status, ws.status) == ("optimal", "optimal") else f"statuses {rp.status}/{ws.status}"
    return StochasticValue("EVPI", value, max(low, 0.0), high, rp.objective, ws.objective, note)
