"""One orchestration path: build → solve → certify bounds → refine HHI → explain → `Result`.

`solve`, `Planner` and `frontier` (and whatever re-solves models next) all
call `Pipeline.run`; none repeats its steps.  Around the adapter it keeps
three promises:

- *bound certification*: lot bounds that no constraint implies are
  provisional until a plan's objective certifies them (see
  `procure.model.bounds`); if a provisional bound was too tight, the model is
  built again with the certified one and solved warm.  A bound that could not
  be certified in time is not reported;
- *HHI refinement* (`optimize`): tangent cuts are added where the plan's
  exact HHI exceeds the model's, until every period is within `HHI_TOL`;
- *honest status*: ``optimal`` only when the solver proved its bound for the
  model it solved, the bound is valid for the problem (certified) and does not
  exceed the plan's objective, and the plan passes procure's own check of
  every constraint.  Objectives always come from the plan (`procure.evaluate`).

The whole call keeps within ``time_limit``: every step gets what is left.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..base.errors import Interrupted, NumericsError, ProblemError
from ..base.hooks import provided
from ..model.bounds import cost_bounds, first_bounds, implied_bounds, needs_finite_bound, provisional_bounds
from ..model.build import BuiltModel, Extra, build_model
from ..model.linear import LinearModel
from ..model.risk import HHI_TOL, hhi_cut_rows
from ..model.sets import ModelData, model_data
from ..problem.evaluate import OptionPlan, evaluate, objective_of, polish_split, violations
from ..problem.format import Problem
from ..solvers.base import Adapter, RawSolution, Session, SolveOptions
from ..solvers.lp_basis import relaxation
from .result import ExtraRows, Outcome, Result, make_result

__all__ = [
    "Extend",
    "Extra",
    "ModelState",
    "Pipeline",
    "add_hhi_cuts",
    "built_of",
    "hhi_short",
    "lots_of",
    "optimize",
    "options_of",
    "refine_hhi",
    "relaxation_cuts",
    "remaining",
    "retire_hhi_cuts",
    "split_of",
    "verdict",
    "warm",
]

#: A build hook of procure's own (the frontier's risk-level handle): called after ``extra``.
Extend = Callable[[BuiltModel, ModelData], Any]

#: Rounds of HHI cuts before giving up on the tolerance (each adds at most V×T×(2·HHI_NEIGHBOURS+1) cuts).
MAX_HHI_ROUNDS = 50
#: Relative gap of the solves whose plans only place HHI cuts (the last solve has the caller's gap).
REFINE_GAP = 1e-3
#: Rounds of HHI cuts at the LP relaxation's shares before the first MIP solve (`relaxation_cuts`).
RELAXATION_ROUNDS = 30
#: Relative rise of the relaxation's optimum below which its rounds stop.
RELAXATION_RISE = 1e-7
#: Tangents added on each side of a plan's share, as well as at it (`add_hhi_cuts`).
HHI_NEIGHBOURS = 2
#: Rebuilds with wider lot bounds before a bound is declared uncertified.
MAX_CERTIFY_ROUNDS = 3
#: Seconds the diagnosis of an infeasible problem may take within a solve without a time limit.
EXPLAIN_SECONDS = 30.0
#: Seconds below which no further solve is started within a time limit.
LEAST_SECONDS = 0.05
#: Plans of earlier solves a kept model offers the solver as starts (the latest first).
POOL_PLANS = 32


def remaining(options: SolveOptions, started: float) -> SolveOptions | None:
    """``options`` with the time already spent taken off the limit; None when it is used up."""
    if options.time_limit is None:
        return options
    left = options.time_limit - (time.perf_counter() - started)
    return replace(options, time_limit=left) if left > LEAST_SECONDS else None


def solve_safely(session: Session, options: SolveOptions) -> RawSolution:
    try:
        return session.solve(session.adapter.usable(options))
    except ProblemError:  # a bad solver option or unrepresentable numbers: the caller's to see
        raise
    except Exception as exc:  # a solver's own failure becomes status "error", never a traceback
        name = session.adapter.name
        return RawSolution("error", None, solver=name, message=f"{name} failed: {exc}", termination="error")


def lots_of(built: BuiltModel, raw: RawSolution) -> np.ndarray:
    """(P, T) whole lots of a solution."""
    assert raw.x is not None
    return np.round(raw.x[built.lots])


def warm(
    built: BuiltModel, lots: np.ndarray | None, options: SolveOptions, others: tuple[np.ndarray, ...] = ()
) -> SolveOptions:
    """Options that warm-start from whole lots ``lots`` (the solver completes the rest; it may
    try the lots ``others`` instead), or that let the solver look for a start near the LP
    optimum when there is none."""
    if lots is None:
        return replace(
            options, warm_start=None, warm_start_ids=None, other_starts=(), lp_support_ids=built.lots.ravel()
        )
    return replace(
        options,
        warm_start_ids=built.lots.ravel(),
        warm_start=np.asarray(lots, dtype=float).ravel(),
        other_starts=tuple(np.asarray(o, dtype=float).ravel() for o in others),
    )


def optimize(session: Session, built: BuiltModel, data: ModelData, options: SolveOptions) -> RawSolution:
    """Solve the kept model within ``options.time_limit``; with HHI terms, refine its tangent
    cuts (`refine_hhi`) until the plan's exact HHI keeps every promise of the model (else the
    answer is only ``feasible``)."""
    if built.hhi is None:
        return solve_safely(session, options)
    # HiGHS alone (under solver="auto"): on the starter CBC took 26–32 s per capped solve where
    # HiGHS took 1.7–2.8 s, and a race the rule cannot settle early waits for the slower engine
    options = replace(options, race=False)
    started = time.perf_counter()
    relaxation_cuts(session, built, data, options, started)

    def again(raw: RawSolution, left: SolveOptions) -> RawSolution:
        return solve_safely(session, warm(built, lots_of(built, raw), left))

    return refine_hhi(
        lambda first: solve_safely(session, first),
        again,
        lambda x: add_hhi_cuts(session, built, data, x),
        options,
        started,
        exact=session.adapter.capabilities.quadratic,
    )


def relaxation_cuts(session: Session, built: BuiltModel, data: ModelData, options: SolveOptions, started: float) -> int:
    """Tangent cuts at the shares of the LP relaxation, solved again until it needs none (at
    most `RELAXATION_ROUNDS`, within the time limit): the rounds that follow solve MIPs whose
    relaxation already holds the exact HHI's convex bound, so they need fewer cuts and fewer
    nodes (on the starter at ``max_hhi = 0.34``: no MIP round places a cut, 0.59 s instead of
    1.01 s: ``benchmarks/README.md``, "Concentration").  Every cut is a tangent of a convex
    square, valid for every plan.  Returns the rounds that added cuts (none without HHI terms)."""
    if built.hhi is None:
        return 0
    last = -math.inf
    for k in range(RELAXATION_ROUNDS):
        left = remaining(options, started)
        if left is None:
            return k
        solved = relaxation(session.model, left)
        # a round that raises the bound by less than `RELAXATION_RISE` leaves the rest to the MIP rounds
        if solved is None or solved[1] - last <= RELAXATION_RISE * abs(solved[1]):
            return k
        last = solved[1]
        try:
            if not add_hhi_cuts(session, built, data, solved[0]):
                return k
        except NumericsError:  # cuts at these shares cannot be stated: the MIP rounds say so if a plan needs them
            return k
    return RELAXATION_ROUNDS


def refine_hhi(
    first: Callable[[SolveOptions], RawSolution],
    again: Callable[[RawSolution, SolveOptions], RawSolution],
    cut: Callable[[np.ndarray], bool],
    options: SolveOptions,
    started: float,
    *,
    exact: bool = False,
) -> RawSolution:
    """Solve, add HHI tangent cuts where the plan needs them (``cut``), solve again (``again``,
    from the last plan), until a plan needs none; the answer of the last solve.

    For a linear solver, whose plans land where the tangents are too coarse, the plans of the
    rounds that add cuts serve only to place them: those rounds are solved to the looser gap
    `REFINE_GAP`, and the plan that needs no cut is then solved once more at the caller's
    ``mip_gap`` (from that plan), which alone may be ``optimal`` — with the bound the solver
    proved for the model with every cut, a relaxation of the problem.  A solver that states
    HHI ``exact``-ly (quadratic rows besides the cuts) most often gives a plan that needs no
    cut: its every round is solved at the caller's gap.  Rounds stop, with a ``feasible``
    answer, at the time limit, after `MAX_HHI_ROUNDS` or on cuts that cannot be stated.
    """
    loose = options if exact else replace(options, mip_gap=max(options.mip_gap, REFINE_GAP))
    final = loose.mip_gap <= options.mip_gap  # this solve's gap is the caller's
    raw = first(loose)
    for _ in range(MAX_HHI_ROUNDS):
        if not raw.has_plan or raw.x is None or raw.interrupted:
            return raw  # no plan: infeasible for a relaxation is infeasible, an error stays one
        try:
            added = cut(raw.x)
        except NumericsError as exc:  # the cuts this plan needs cannot be stated: keep the plan, exact HHI
            return _downgraded(raw, f"HHI cuts stopped: {exc}", "numerical")
        if final and not added:
            return raw
        left = remaining(options, started)
        if left is None:
            return _downgraded(raw, "stopped: time limit while refining HHI cuts", "time_limit")
        final = not added or loose.mip_gap <= options.mip_gap
        raw = again(raw, left if final else replace(left, mip_gap=loose.mip_gap))
    if raw.has_plan:
        return _downgraded(raw, f"HHI cuts did not reach the tolerance in {MAX_HHI_ROUNDS} rounds", "numerical")
    return raw


def add_hhi_cuts(session: Session, built: BuiltModel, data: ModelData, x: np.ndarray) -> bool:
    """Tangent cuts where solution ``x`` needs them (`hhi_short`): at the shares it has, and
    `HHI_NEIGHBOURS` on each side spaced for the tolerance (the next plan is most often near);
    False when it needs none (no cut added).  Raises `NumericsError` when the cuts cannot be
    stated."""
    hhi = built.hhi
    if hhi is None:
        return False
    share = x[built.compute[:, hhi.periods]] / data.demand[hhi.periods]  # (V, P)
    if not hhi_short(session.model, hhi.terms, share**2, x):
        return False
    under = share**2 - x[hhi.terms]
    least = HHI_TOL / (2 * data.n_vendors)
    v, p = np.nonzero(under > least)
    if not len(v):  # short by rounding alone: no term is off by enough to cut
        return False
    # tangents at s + k·2√least are within `least` of s² between them
    offsets = 2.0 * np.sqrt(least) * np.arange(-HHI_NEIGHBOURS, HHI_NEIGHBOURS + 1)
    at = share[v, p][:, None] + offsets
    keep = at >= 0  # a tangent at a negative share is below 0 for every share: useless
    n = at.shape[1]
    v, p, at = np.repeat(v, n)[keep.ravel()], np.repeat(p, n)[keep.ravel()], at[keep]
    index, row, col, val, lower = hhi_cut_rows(data, hhi, built.compute, v, p, at)
    session.add_rows("hhi_cut", index, row, col, val, lower=lower, unit="share²", definition=True)
    return True


def retire_hhi_cuts(session: Session) -> int:
    """Switch off every HHI tangent cut of a kept model (up-front grid and placed cuts alike:
    each becomes a free row) before it is solved for another risk level.  Cuts placed for other
    levels are mostly slack at the next one and only slow its node LPs; the next solve's
    relaxation rounds (`relaxation_cuts`) place at once the tangents its level needs, and its MIP
    rounds the rest, so the answer keeps the same promises.  On the starter's 10-point HHI
    frontier this took 15.5 s to 11.2 s (``benchmarks/README.md``, "Concentration").
    Returns the rows switched off."""
    model = session.model
    blocks = [b for b in model.rows if b.name == "hhi_cut"]
    if not blocks:
        return 0
    ids = np.concatenate([b.ids for b in blocks])
    ids = ids[np.isfinite(model.row_lower[ids])]
    if len(ids):
        session.set_row_bounds(ids, lower=np.full(len(ids), -np.inf))
    return len(ids)


def hhi_short(model: LinearModel, terms: np.ndarray, squares: np.ndarray, x: np.ndarray) -> bool:
    """Does solution ``x`` promise less than its exact HHI holds to?  ``squares`` (V, P): the exact
    square each term ``x[terms]`` stands for.

    Where a period's terms are priced, the model's HHI must be within `HHI_TOL` of the exact
    one (so the objective is), or within `HHI_TOL` of it relatively where the exact HHI is above
    1 (compute far above demand: a solver holds a tangent of a square of 1,296 only to about
    10⁻⁵, and cuts that cannot close the difference would be placed again and again).
    Elsewhere the terms only bound rows (``max_hhi``, a frontier's level), and the solver may
    leave them anywhere above their cuts where those rows are slack: the plan is short only
    when a row breaks by more than `HHI_TOL` (per unit of its largest coefficient on a term)
    once every term is raised to its exact square."""
    under = np.maximum(squares - x[terms], 0.0)
    per_period = under.sum(axis=0)
    tol = HHI_TOL * np.maximum(1.0, squares.sum(axis=0))
    if (per_period <= tol).all():
        return False
    priced = (model.cost[terms] != 0).any(axis=0)
    if (per_period[priced] > tol[priced]).any():
        return True
    A = model.A
    raised = np.zeros(model.num_cols)
    raised[terms] = under
    change = A @ raised
    rows = np.flatnonzero(change != 0)
    touched = A[rows]
    activity = touched @ x + change[rows]
    row_tol = HHI_TOL * abs(touched[:, terms.ravel()]).max(axis=1).toarray().ravel()
    return bool(((activity > model.row_upper[rows] + row_tol) | (activity < model.row_lower[rows] - row_tol)).any())


def _downgraded(raw: RawSolution, message: str, termination: str) -> RawSolution:
    """A plan that is not proved optimal for the problem: ``feasible``, its bound kept only as the
    model's (the pipeline reports it when the plan's objective is above it)."""
    status = "feasible" if raw.has_plan else raw.status
    return replace(raw, status=status, message=message, termination=termination)


@dataclass
class ModelState:
    """A problem's model kept in a solver session, with the lot bounds it was built with."""

    problem: Problem
    data: ModelData
    built: BuiltModel
    session: Session
    upper: np.ndarray  # (P, T) lot bounds of the model
    provisional: np.ndarray  # (P, T) which of them no constraint implies
    widened: bool = False  # provisional bounds were already widened for an infeasible answer
    lots: np.ndarray | None = None  # (P, T) whole lots of the last plan, to warm-start from
    #: (P, T) lots of the last `POOL_PLANS` distinct plans: after a change, one of them is
    #: often nearer the new optimum than the last plan (Monte-Carlo variants jump about)
    pool: tuple[np.ndarray, ...] = ()

    def remember(self, lots: np.ndarray) -> None:
        """Keep ``lots`` as the plan to start from next, and in the pool."""
        self.lots = lots
        others = tuple(p for p in self.pool if not np.array_equal(p, lots))
        self.pool = (lots, *others)[:POOL_PLANS]


@dataclass(frozen=True)
class _Outcome:
    """An answer and the model that gave it; ``certified``: its bound holds for the problem."""

    state: ModelState
    raw: RawSolution
    certified: bool


@dataclass(frozen=True)
class Pipeline:
    """How every solve is done: adapter, options, the caller's extra rows, procure's build hooks.

    ``hhi`` / ``cvar`` build those families even when the problem does not price
    or cap them (for the frontier); ``extend`` runs after ``extra`` on every
    build and its return value is kept as ``BuiltModel.extension``.
    """

    adapter: Adapter
    options: SolveOptions
    extra: Extra | None = None
    extend: Extend | None = None
    hhi: bool = False
    cvar: bool = False
    explain: bool = True
    shared: bool = True  # with demand scenarios: decisions of paths with a shared history are one

    # ----------------------------------------------------------------- building

    def build(self, data: ModelData, upper: np.ndarray, *, supply_rows: bool = False) -> BuiltModel:
        """procure's formulation with lot bounds ``upper``, then the caller's rows, then the hooks."""
        built = build_model(data, upper, hhi=self.hhi, cvar=self.cvar, supply_rows=supply_rows, extra=self.extra)
        if self.extend is not None:
            built.extension = self.extend(built, data)
        return built

    def open(self, problem: Problem, upper: np.ndarray | None = None) -> ModelState:
        """Build ``problem``'s model (first lot bounds unless ``upper``) and open a solver session on it."""
        data = model_data(problem)
        first, provisional = first_bounds(data)
        bounds = first if upper is None else upper
        built = self.build(data, bounds)
        return ModelState(problem, data, built, self.adapter.open(built.model), bounds, provisional)

    def kept(self, state: ModelState, problem: Problem) -> ModelState | None:
        """``state`` changed in place to ``problem``'s numbers when its model has the same
        structure (same blocks and sparsity), else None."""
        if problem is state.problem and not problem.demand_scenarios:
            return state
        if problem.demand_scenarios or state.problem.demand_scenarios:  # an extensive form is built afresh
            return None
        if state.built.hhi is not None:  # HHI cuts grow the kept model: it is never the same
            return None
        data = model_data(problem)
        upper, provisional = first_bounds(data)
        fresh = self.build(data, upper)
        if not _same_structure(state.session.model, fresh.model):
            return None
        _apply(state.session, fresh.model)
        return replace(state, problem=problem, data=data, upper=upper, provisional=provisional, widened=False)

    # ----------------------------------------------------------------- solving

    def solve(self, state: ModelState, options: SolveOptions, started: float) -> _Outcome:
        """Solve the kept model (warm from ``state.lots``) and certify its lot bounds,
        rebuilding with wider ones while a plan's objective says they were too tight."""
        conflicts = state.built.model.empty_conflicts()
        if conflicts.size:  # rows of constants alone that cannot hold: infeasible, exactly
            names = ", ".join(state.built.model.row_name(int(r)) for r in conflicts[:3])
            message = f"{names} cannot hold whatever is bought"
            return _Outcome(state, RawSolution("infeasible", None, message=message, termination="infeasible"), True)
        left = remaining(options, started)
        if left is None:  # building took the whole time limit
            message = "stopped before any plan was found: the time limit went into building the model"
            return _Outcome(state, RawSolution("error", None, message=message, termination="time_limit"), True)
        raw = optimize(state.session, state.built, state.data, warm(state.built, state.lots, left, state.pool))
        for _ in range(MAX_CERTIFY_ROUNDS):
            if not state.provisional.any():
                return _Outcome(state, raw, True)
            wider = self._wider(state, raw)
            if wider is None:
                return _Outcome(state, raw, True)
            left = remaining(options, started)
            if left is None or raw.interrupted:
                return _Outcome(state, raw, False)
            lots = lots_of(state.built, raw) if raw.has_plan else None
            try:
                rebuilt = self.open(state.problem, wider)
            except NumericsError:  # bounds that wide leave the solver's range: the bound stays unknown
                return _Outcome(state, raw, False)
            rebuilt.widened = state.widened or not raw.has_plan
            again = optimize(rebuilt.session, rebuilt.built, rebuilt.data, warm(rebuilt.built, lots, left))
            if raw.has_plan and not again.has_plan:  # no time to re-solve: the first plan, uncertified
                return _Outcome(state, raw, False)
            state, raw = rebuilt, again
        return _Outcome(state, raw, not raw.has_plan)

    def _wider(self, state: ModelState, raw: RawSolution) -> np.ndarray | None:
        """Lot bounds that admit every plan better than ``raw``'s (None when ``state.upper``
        already does): cost bounds from its objective, or, for an infeasible answer, the
        provisional bounds ×1000 (once)."""
        data = state.data
        if raw.has_plan:
            plan = lots_of(state.built, raw) * data.lot_p[:, None]
            chosen = options_of(state.built, raw.x)
            ev = evaluate(state.problem, plan, split_of(state.built, raw), built_of(state.built, raw), chosen)
            certified = cost_bounds(data, objective_of(state.problem, ev))
            widen = state.provisional & np.isfinite(certified) & (certified > state.upper)
            return np.where(widen, certified, state.upper) if widen.any() else None
        if raw.status == "infeasible" and not state.widened:
            return np.where(state.provisional, state.upper * 1000, state.upper)
        return None

    # ----------------------------------------------------------------- answering

    def run_kept(
        self,
        problem: Problem,
        *,
        state: ModelState | None = None,
        started: float | None = None,
        report: Problem | None = None,
    ) -> tuple[Outcome, ModelState]:
        """`run`, for callers that solve again through the kept model (frontier levels, re-solves)."""
        result, kept = self.run(problem, state=state, started=started, report=report)
        if kept is None:
            name = self.adapter.name
            raise ProblemError(
                f"solver: {name!r} solves whole problems itself and keeps no model to solve again",
                path="solver",
                value=name,
            )
        return result, kept

    def run(
        self,
        problem: Problem,
        *,
        state: ModelState | None = None,
        started: float | None = None,
        report: Problem | None = None,
    ) -> tuple[Outcome, ModelState | None]:
        """Solve ``problem`` and make its `Result` (a `TreeResult` for a demand tree), and the
        model kept for the next solve (None from an adapter that solves whole problems itself).

        ``state``: a kept model to solve (changed in place when ``problem``
        differs from its problem only in numbers; rebuilt otherwise).
        ``report``: the problem the result describes, when it differs from the one
        minimized (the frontier minimizes cost with the traded risk dropped).
        Raises `Interrupted` (with the result) when Ctrl-C stopped the solver.
        """
        started = time.perf_counter() if started is None else started
        if self.adapter.capabilities.whole_problem:  # mpi-sppy: the adapter solves the tree itself
            return self.adapter.solve_problem(problem, self.options, self.extra, started), None
        if problem.demand_scenarios:
            # the tree's extensive form: the stochastic layer provides it (it solves through this pipeline)
            tree_result, tree_state = provided("run_tree")(self, problem, started, report)
            if tree_result.termination == "interrupted":
                raise Interrupted(tree_result)
            return tree_result, provided("as_model_state")(tree_state)
        options = self.options
        kept = self.kept(state, problem) if state is not None else None
        state = kept if kept is not None else self.open(problem)
        outcome = self.solve(state, options, started)
        result = self.result(outcome, report or problem, started)
        left = remaining(options, started)
        if result.status == "error" and result.termination == "numerical" and left is not None:
            # the plan broke a constraint beyond procure's check (a lot of huge compute at a
            # fraction within the integrality tolerance, say): once more, with strict tolerances
            outcome = self.solve(outcome.state, replace(left, strict=True), started)
            result = self.result(outcome, report or problem, started)
        if outcome.raw.has_plan:
            outcome.state.remember(lots_of(outcome.state.built, outcome.raw))
        if outcome.raw.interrupted or result.termination == "interrupted":
            raise Interrupted(result)
        return result, outcome.state

    def result(self, outcome: _Outcome, report: Problem, started: float) -> Result:
        """The `Result` of an answer, with an honest status and, without a plan, the reason."""
        state, raw = outcome.state, outcome.raw
        data, built = state.data, state.built
        status, termination, message = raw.status, raw.termination, raw.message
        bound = raw.bound if outcome.certified else math.nan
        placed = split = gw = extra_rows = chosen = None
        gap = math.nan
        if raw.has_plan:
            assert raw.x is not None
            x = raw.x.copy()
            x[built.lots] = lots_of(built, raw)
            placed = x[built.lots] * data.lot_p[:, None]
            gw = built_from(built, x)
            chosen = options_of(built, x)
            split = polish_split(report, placed, split_from(built, x), gw, chosen)
            extra_rows = _extra_rows(built, x)
            status, termination, message, bound, gap = _honest(
                state.problem, report, (placed, split, gw, chosen), extra_rows, raw, bound, outcome.certified
            )
            if status == "error":
                placed = split = gw = chosen = None
        elif raw.status == "infeasible" and self.explain:
            message, stopped = self.explain_infeasible(data.problem, started)
            if stopped:
                termination = "interrupted"
        elif raw.status == "infeasible":
            message = "no plan satisfies every constraint (result.explain() names the conflict and the repairs)"
        return make_result(
            report,
            status,
            placed,
            split,
            bound=bound,
            gap=gap,
            seconds=time.perf_counter() - started,
            solver=raw.solver or self.adapter.name,  # the engine whose answer this is (auto picks one)
            message=message,
            termination=termination,
            model_size=built.model.stats(),
            extra_rows=extra_rows,
            built=gw,
            options=chosen,
        )

    def explain_infeasible(self, problem: Problem, started: float) -> tuple[str, bool]:
        """Why ``problem`` (one demand path or a tree) has no plan: the one line of
        `procure.explain`'s diagnosis, within the time left and at most `EXPLAIN_SECONDS`; and
        whether Ctrl-C cut it short."""
        diagnose_problem = provided("diagnose_problem")  # the analysis layer's; it solves through pipelines
        left = remaining(self.options, started)
        if left is None:
            return "no plan satisfies every constraint (no time was left to find which ones conflict)", False
        seconds = EXPLAIN_SECONDS if left.time_limit is None else min(left.time_limit, EXPLAIN_SECONDS)
        try:
            diagnosis = diagnose_problem(
                problem, self.adapter, left, seconds, known_infeasible=True, extra=self.extra, most=2
            )
        except KeyboardInterrupt:
            return "no plan satisfies every constraint (the diagnosis was interrupted)", True
        return diagnosis.message, False

    def diagnosis_model(self, data: ModelData) -> BuiltModel:
        """The model with every requirement as a row, so a diagnosis may relax any of them:
        supply, budgets and power caps are rows rather than lot bounds (the caller's rows too)."""
        live = implied_bounds(data, requirements=False) > 0  # only the horizon (and minimum spend) bound lots
        open_lots = np.where(live, np.inf, implied_bounds(data, requirements=False))
        generous = 10 * provisional_bounds(data)
        upper = np.where(needs_finite_bound(data, open_lots) & np.isinf(open_lots), generous, open_lots)
        return replace(self, extend=None).build(data, upper, supply_rows=True)


def _honest(
    solved: Problem,
    report: Problem,
    plan: tuple[np.ndarray, np.ndarray | None, np.ndarray | None, OptionPlan | None],
    extra_rows: ExtraRows | None,
    raw: RawSolution,
    bound: float,
    certified: bool,
) -> tuple[str, str, str, float, float]:
    """Status, termination, message, bound and gap of a plan: the solver's claim, kept only
    when the plan passes procure's own check and the bound is proved for the problem."""
    ev = evaluate(report, *plan)
    broken = violations(report, ev, hhi_tol=HHI_TOL)
    if extra_rows is not None:
        broken += extra_rows.violations(ev)
    objective = objective_of(solved, evaluate(solved, *plan)) if not broken else math.nan
    return verdict(raw, broken, objective, bound, certified)


def verdict(
    raw: RawSolution, broken: list[str], objective: float, bound: float, certified: bool
) -> tuple[str, str, str, float, float]:
    """Status, termination, message, bound and gap of a plan whose check found ``broken`` and whose
    objective (from the plan) is ``objective``: the solver's claim, kept only when the plan
    passes and the bound is proved for the problem (``certified``) and not above the plan."""
    status, termination, message = raw.status, raw.termination, raw.message
    if broken:
        more = f" (and {len(broken) - 3} more)" if len(broken) > 3 else ""
        text = f"the solver's plan breaks {'; '.join(broken[:3])}{more}: numerical trouble, no plan is reported"
        return "error", "numerical", text, math.nan, math.nan
    if math.isfinite(bound) and bound > objective + 1e-6 * max(1.0, abs(objective)):
        bound = math.nan  # a bound above the plan proves nothing
        termination = "inconsistent"
    if not certified:
        message = "; ".join(filter(None, [message, "lot bounds could not be certified in time: the gap is unknown"]))
    if status == "optimal" and not math.isfinite(bound):
        status = "feasible"
    gap = max(objective - bound, 0.0) / max(abs(objective), 1e-12) if math.isfinite(bound) else math.nan
    if status == "optimal":
        termination = "optimal" if gap <= 1e-9 else "gap_reached"
    return status, termination, message, bound, gap


def split_of(built: BuiltModel, raw: RawSolution) -> np.ndarray | None:
    """(I, W, T) units running each workload in a solution (None without workloads or plan)."""
    return split_from(built, raw.x) if raw.x is not None else None


def options_of(built: BuiltModel, x: np.ndarray | None) -> OptionPlan | None:
    """Units reserved (O,) and exercised (O, P, T) through capacity options in a solution
    (whole lots, rounded: they are integer columns); None without options or plan."""
    handles = built.handles.options
    if handles is None or x is None:
        return None
    data = built.handles.data
    lot = data.lot[data.option_offer].astype(float)
    ids = handles.exercised
    exercised = np.where(ids >= 0, np.round(x[np.maximum(ids, 0)]), 0.0) * lot[:, None, None]
    return np.round(x[handles.reserved]) * lot, exercised + 0.0


def built_of(built: BuiltModel, raw: RawSolution) -> np.ndarray | None:
    """(B, T) GW of power started in a solution (None without power builds or plan)."""
    return built_from(built, raw.x) if raw.x is not None else None


def built_from(built: BuiltModel, x: np.ndarray) -> np.ndarray | None:
    """(B, T) GW started: whole blocks rounded (they are integer columns), GW as solved."""
    builds = built.handles.builds
    if builds is None:
        return None
    cols = builds.cols
    value = np.where(cols >= 0, x[np.maximum(cols, 0)], 0.0)
    blocks = np.isfinite(built.handles.data.build_block)[:, None]
    return np.where(blocks, np.round(value), np.maximum(value, 0.0)) * builds.gw[:, None] + 0.0


def split_from(built: BuiltModel, x: np.ndarray) -> np.ndarray | None:
    """(I, W, T) units running each workload (None without workloads)."""
    ids = built.split
    if ids is None:
        return None
    return np.where(ids >= 0, np.maximum(x[np.maximum(ids, 0)], 0.0), 0.0)


def _extra_rows(built: BuiltModel, x: np.ndarray) -> ExtraRows | None:
    """The caller's rows with the solution, for `Result.check`."""
    if not built.extra_blocks:
        return None
    model = built.model
    blocks = [b for b in model.rows if b.name in built.extra_blocks]
    ids = np.concatenate([b.ids for b in blocks])
    names = tuple(n for b in blocks for n in b.index.names(b.name))
    A = sp.csr_matrix(model.A[ids])
    lower, upper = model.row_lower[ids].copy(), model.row_upper[ids].copy()
    return ExtraRows(names, A, lower, upper, x, built.lots, built.handles.data.lot_p, built.compute, built.split)


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
