"""The cost–risk frontier: the cheapest plan at every level of allowed risk.

`frontier` traces the trade-off by the epsilon-constraint method: it finds
the cheapest plan and its risk, then the least-risk plan, then minimizes cost
subject to ``risk ≤ level`` for levels spread between the two.  One model is
built and kept by the solver; between points only a bound (or, for
``max_share``, the share coefficients) changes, and each solve is
warm-started from the previous plan.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..base import fmt
from ..base.errors import ProblemError
from ..base.hooks import provided
from ..core.pipeline import (
    Extra,
    ModelState,
    Pipeline,
    lots_of,
    optimize,
    options_of,
    remaining,
    retire_hhi_cuts,
    split_of,
    warm,
)
from ..core.result import Outcome, Result, make_result
from ..model.build import BuiltModel
from ..model.linear import Index
from ..model.sets import ModelData
from ..problem.evaluate import PlanEvaluation, evaluate
from ..problem.format import Problem, as_problem
from ..problem.validate import show
from ..solvers import DEFAULT_SOLVER
from ..solvers.base import RawSolution, SolveOptions
from ..solvers.options import set_up
from ..stochastic.tree_result import TreeResult

__all__ = ["MEASURES", "MEASURE_KINDS", "Frontier", "frontier", "measures_for", "pick_measure", "risk_of"]

MEASURES = ("cvar", "hhi", "max_share", "scenario_cvar")
#: With demand scenarios: the largest weight on the CVaR of the paths' costs (the least-risk end).
MOST_CVAR_WEIGHT = 20.0
#: Most points a frontier may have (each is a solve).
MAX_POINTS = 10_000


#: How people read each measure's risk (a kind of `procure.fmt`): the CVaRs in dollars, the
#: largest share as a percentage, the HHI as an index.
MEASURE_KINDS = {"cvar": "money", "hhi": "hhi", "max_share": "share", "scenario_cvar": "money"}

#: What each measure needs of a problem (in the error for a problem without it).
NEEDS = {
    "cvar": "risk.scenarios and risk.shortfall_penalty > 0",
    "hhi": "a problem without demand_scenarios",
    "max_share": "a problem without demand_scenarios",
    "scenario_cvar": "demand_scenarios",
}


def measures_for(problem: Problem) -> tuple[str, ...]:
    """The measures `frontier` can trace for ``problem``, its default first.

    With ``demand_scenarios``: ``("scenario_cvar",)``.  Without: ``"cvar"`` first
    when the problem has ``risk.scenarios`` and a ``risk.shortfall_penalty`` above 0
    (the disruption loss it prices), then ``"max_share"`` and ``"hhi"``, which every
    such problem has.
    """
    if problem.demand_scenarios:
        return ("scenario_cvar",)
    with_loss = bool(problem.risk.scenarios) and problem.risk.shortfall_penalty > 0
    return ("cvar", "max_share", "hhi") if with_loss else ("max_share", "hhi")


def pick_measure(problem: Problem, measure: str | None = None) -> str:
    """``measure`` checked against ``problem``, or its default (the first of `measures_for`)
    when None; a `ProblemError` naming the measures this problem has for another."""
    usable = measures_for(problem)
    if measure is None:
        return usable[0]
    if measure not in MEASURES:
        raise ProblemError(
            f"measure: {show(measure)} is not one of {', '.join(MEASURES)} (this problem has: {', '.join(usable)})",
            path="measure",
            value=measure,
        )
    if measure not in usable:
        raise ProblemError(
            f"measure: {show(measure)} needs {NEEDS[measure]}; this problem has: {', '.join(usable)}",
            path="measure",
            value=measure,
        )
    return measure


def risk_of(ev: PlanEvaluation, measure: str) -> float:
    """The plan's risk: CVaR of scenario loss; the HHI averaged over the periods with
    demand, weighted by discount factor (what ``hhi_weight`` prices, per unit of Σ d_t);
    or the largest vendor share of operational compute in any period."""
    if measure == "cvar":
        return ev.cvar
    if measure == "hhi":
        live = np.isfinite(ev.hhi)
        return float(ev.discount[live] @ ev.hhi[live] / ev.discount[live].sum()) if live.any() else 0.0
    return float(ev.shares.max()) if ev.shares.size else 0.0


@dataclass(frozen=True)
class Frontier:
    """The cost–risk trade-off of a problem.

    Attributes
    ----------
    measure : str
        ``"cvar"``, ``"hhi"``, ``"max_share"`` or ``"scenario_cvar"``.
    table : pandas.DataFrame
        One row per point, from the cheapest plan to the least-risk one:
        ``level`` (risk allowed), ``risk`` (of the plan found), ``cost``,
        ``objective`` (of the original problem), ``cvar`` (with scenarios),
        ``status``, and each vendor's share of operational compute over the horizon.
    results : tuple of Result
        The plan at each point (checked against the original problem).
    """

    measure: str
    table: pd.DataFrame
    results: tuple[Outcome, ...] = field(repr=False)

    def display(self) -> pd.DataFrame:
        """`table` for people to read (a copy of text): the risk and the level in the measure's
        own terms (CVaR in dollars, a share as a percentage, the HHI as an index; the level of
        ``scenario_cvar`` is a weight), dollars as ``$21.2B``, vendor shares as percentages."""
        kind = MEASURE_KINDS[self.measure]
        kinds = {"level": "number" if self.measure == "scenario_cvar" else kind, "risk": kind}
        kinds.update({c: "money" for c in ("cost", "objective", "cvar")})
        kinds.update({c: "share" for c in self.table.columns if str(c).startswith("share ")})
        return fmt.table(self.table, kinds)

    def __str__(self) -> str:
        return self.display().to_string()

    def plot(self, path: str | None = None, *, title: str | None = None) -> Any:
        """Draw cost against risk, with each point's vendor mix below; save to ``path`` if given.

        The cheapest plan's cost is written at its point and each other point shows what it
        adds (``+$1.19B``).  Dollars are scaled to ``$B``, ``$M``, … with the unit in the axis
        label, shares are in %, and each vendor has the colour it has in every other plot
        (`procure.report.plot.vendor_colors`).  Returns the matplotlib Figure.
        """
        return provided("frontier_plot")(self, path, title=title)


def _without_traded_term(problem: Problem, measure: str) -> Problem:
    """The problem whose cost the frontier minimizes: the traded risk is constrained, not priced."""
    risk = problem.risk
    if measure == "cvar":
        risk = replace(risk, risk_weight=0.0)
    elif measure == "hhi":
        risk = replace(risk, hhi_weight=0.0)
    return replace(problem, risk=risk)


class _Level:
    """The frontier's handle on the kept model, added on every build (a `Pipeline` hook):
    a column μ bounding the measure (cvar, hhi), or share rows whose coefficients carry
    the level (max_share).  ``level`` None means no limit."""

    def __init__(self, measure: str) -> None:
        self.measure = measure
        self.level: float | None = None

    def __call__(self, built: BuiltModel, data: ModelData) -> dict[str, Any]:
        m = built.model
        V, T = built.compute.shape
        if self.measure == "max_share":
            # C[v,t] − L·Σ_u C[u,t] ≤ 0; built at L = 1 (no limit), the level goes into the coefficients
            v, u, t = (x.ravel() for x in np.meshgrid(np.arange(V), np.arange(V), np.arange(T), indexing="ij"))
            rows = m.add_rows(
                "frontier_share",
                Index.grid(vendor=data.vendors, period=tuple(int(p) for p in data.periods)),
                v * T + t,
                built.compute[u, t],
                np.where(v == u, 0.0, -1.0),
                upper=0.0,
                unit="compute",
            )
            handle: dict[str, Any] = {"rows": rows, "cells": (v, u, t), "compute": built.compute}
        else:
            mu = m.add_columns("risk_level", Index.scalar(), doc="frontier risk level")
            ids, weights = _measure_terms(built, data, self.measure)
            m.add_rows(
                "frontier_level",
                Index.scalar(),
                np.zeros(len(ids) + 1, dtype=int),
                np.concatenate([ids, mu]),
                np.concatenate([weights, [-1.0]]),
                upper=0.0,
                unit=self.measure,
            )
            unit = built.cvar.unit if self.measure == "cvar" and built.cvar is not None else 1.0
            handle = {"mu": mu, "unit": unit}
        if self.level is not None:
            self._apply(handle, m.set_col_bounds, m.set_coefficients, self.level)
        return handle

    def set(self, state: ModelState, level: float) -> None:
        """Allow risk up to ``level`` in the kept model (and in every rebuild of it)."""
        self.level = level
        handle = state.built.extension
        assert isinstance(handle, dict)
        self._apply(handle, state.session.set_col_bounds, state.session.set_coefficients, level)

    def _apply(self, handle: dict[str, Any], set_bounds: Any, set_coefficients: Any, level: float) -> None:
        if "mu" in handle:
            set_bounds(handle["mu"], upper=np.array([level / handle["unit"]]))
            return
        v, u, t = handle["cells"]
        T = handle["compute"].shape[1]
        set_coefficients(handle["rows"][v * T + t], handle["compute"][u, t], np.where(v == u, 1.0, 0.0) - level)


def _measure_terms(built: BuiltModel, data: ModelData, measure: str) -> tuple[np.ndarray, np.ndarray]:
    """Columns and weights whose weighted sum is the measure: CVaR (in its unit), or the
    discount-weighted mean HHI Σ_t w_t Σ_v h[v,t] with w = d / Σ d."""
    if measure == "cvar":
        assert built.cvar is not None
        return built.cvar.ids, built.cvar.weights
    hhi = built.hhi
    assert hhi is not None
    weight = data.discount[hhi.periods] / data.discount[hhi.periods].sum()
    return hhi.terms.ravel(), np.tile(weight, hhi.terms.shape[0])


def frontier(
    problem: Problem | Mapping[str, Any] | str,
    measure: str | None = None,
    points: int = 10,
    *,
    solver: str = DEFAULT_SOLVER,
    time_limit: float | None = None,
    mip_gap: float = 1e-4,
    threads: int | None = None,
    verbose: bool = False,
    progress: bool = False,
    solver_options: Mapping[str, Any] | None = None,
    extra: Extra | None = None,
) -> Frontier:
    """Trace the cost–risk frontier of a problem by the epsilon-constraint method.

    Parameters
    ----------
    problem : Problem, mapping, or path
        The problem; all its constraints hold at every point.
    measure : {"cvar", "hhi", "max_share", "scenario_cvar"}, optional
        The risk traded against cost: CVaR of the disruption loss (needs
        scenarios and a shortfall penalty), the HHI averaged over periods
        (weighted by discount factor), or the largest vendor share of
        operational compute in any period.  Default: the first the problem
        has (`measures_for`): ``"scenario_cvar"`` with ``demand_scenarios``,
        else ``"cvar"`` with disruption scenarios and a shortfall penalty, else
        ``"max_share"``.  A measure the problem does not have is a
        `ProblemError` naming the ones it has.  Its
        own price in the objective (``risk_weight`` / ``hhi_weight``) is
        dropped: the frontier minimizes cost subject to ``risk ≤ level``.
        With ``demand_scenarios`` the measure is ``"scenario_cvar"``: the
        CVaR (at ``risk.scenario_cvar_alpha``) of the paths' costs against the
        expected cost, traced by weights: each point minimizes expected
        objective + ``w`` × that CVaR for ``w`` from 0 to `MOST_CVAR_WEIGHT`
        (``level`` is ``w``; the points are the supported points of the frontier).
    points : int
        Number of levels, from the cheapest plan's risk down to the least
        risk possible (for ``max_share``, found by bisection on feasibility).
    solver, time_limit, mip_gap, threads, verbose, solver_options, extra
        As for `procure.solve`; ``time_limit`` bounds the whole call: each step (the
        cheapest plan, the least-risk plan, each level) gets an equal share of the time
        left, and a level whose share runs out reports its best plan so far.
    progress : bool
        Print one line per point to standard error.

    Returns
    -------
    Frontier
    """
    if isinstance(points, bool) or not isinstance(points, int) or not 2 <= points <= MAX_POINTS:
        raise ProblemError(
            f"points: {show(points)} must be a whole number from 2 to {MAX_POINTS}", path="points", value=points
        )
    adapter, options = set_up(solver, time_limit, mip_gap, threads, verbose, solver_options)
    original = as_problem(problem)
    measure = pick_measure(original, measure)
    if original.demand_scenarios:
        if adapter.capabilities.whole_problem:
            raise ProblemError(
                f"solver: {solver!r} cannot trace this frontier: a tree's frontier trades the CVaR of the"
                " paths' costs, and that solver's objective is the expected cost alone (use solver='auto')",
                path="solver",
                value=solver,
            )
        return _tree_frontier(original, measure, points, Pipeline(adapter, options, extra=extra), progress)
    traded = _without_traded_term(original, measure)
    level = _Level(measure)
    pipeline = Pipeline(adapter, options, extra=extra, extend=level, hhi=measure == "hhi", cvar=measure == "cvar")
    return _Trace(pipeline, level, original, traded, progress).run(points)


class _Clock:
    """A frontier's time limit shared out: each step gets an equal share of the time left."""

    def __init__(self, limit: float | None, steps: int) -> None:
        self.limit, self.steps, self.started = limit, steps, time.perf_counter()

    def next(self, options: SolveOptions) -> SolveOptions:
        """``options`` for the next step."""
        if self.limit is None:
            return options
        left = max(self.limit - (time.perf_counter() - self.started), 0.01)
        share = left / max(self.steps, 1)
        self.steps -= 1
        return replace(options, time_limit=share)


class _Trace:
    """The steps of a frontier: the cheapest plan, the least-risk plan, then each level."""

    def __init__(self, pipeline: Pipeline, level: _Level, original: Problem, traded: Problem, progress: bool) -> None:
        self.base, self.pipeline, self.level, self.original, self.traded = pipeline, pipeline, level, original, traded
        self.measure = level.measure
        self.progress = progress

    def step(self) -> None:
        """The next step's share of the time limit."""
        self.pipeline = replace(self.base, options=self.clock.next(self.base.options))

    def say(self, text: str) -> None:
        if self.progress:
            print(f"frontier[{self.measure}] {text}", file=sys.stderr, flush=True)

    def run(self, points: int) -> Frontier:
        started = time.perf_counter()
        self.clock = _Clock(self.base.options.time_limit, points + 1)  # cheapest, least risk, points − 1 levels
        self.step()
        cheapest, state = self.pipeline.run_kept(self.traded, report=self.original)
        if not cheapest.has_plan:
            return Frontier(self.measure, _table([math.nan], [cheapest], self.measure, self.original), (cheapest,))
        assert isinstance(cheapest, Result) and cheapest.evaluation is not None  # one plan: no tree here
        high = risk_of(cheapest.evaluation, self.measure)
        self.step()
        safe_lots, low = self.least_risk(state, high)
        risk = fmt.FORMATTERS[MEASURE_KINDS[self.measure]]
        took = fmt.seconds(time.perf_counter() - started)
        self.say(f"cheapest plan: risk {risk(high)}; least risk: {risk(low)} ({took})")
        # The least-risk plan fits every level: it warm-starts each point (so the solver always
        # holds a plan) and stands in if a point's solve ends without one.
        levels = np.linspace(high, low, points)
        results: list[Outcome] = [cheapest]
        for k, at in enumerate(levels[1:], start=2):
            self.step()
            result, state = self.point(state, at, safe_lots)
            results.append(result)
            self.say(f"point {k}/{points}: level {risk(at)} → {results[-1].status}, cost {fmt.money(results[-1].cost)}")
        results = _monotone(results)
        return Frontier(self.measure, _table(list(levels), results, self.measure, self.original), tuple(results))

    def point(self, state: ModelState, at: float, safe_lots: np.ndarray) -> tuple[Outcome, ModelState]:
        """The cheapest plan with risk ≤ ``at`` (with slack for round-off between the model and
        the exact risk); the least-risk plan when the solve ends without one."""
        self.level.set(state, at * (1 + 1e-6) + 1e-9)
        retire_hhi_cuts(state.session)  # the cuts of other levels: this level's rounds place its own
        state.lots = safe_lots
        result, state = self.pipeline.run_kept(self.traded, state=state, report=self.original)
        if result.has_plan:
            return result, state
        message = f"the least-risk plan stands in: {result.status} {result.message}"
        placed = safe_lots * state.data.lot_p[:, None]
        split = self._safe_split
        name = self.pipeline.adapter.name
        return make_result(self.original, "feasible", placed, split, solver=name, message=message), state

    def least_risk(self, state: ModelState, high: float) -> tuple[np.ndarray, float]:
        """Whole lots of a least-risk plan, and its risk: the measure minimized (cvar, hhi), or
        the least largest share that admits a plan (max_share, by bisection)."""
        assert state.lots is not None
        cheapest = state.lots
        self._safe_split: np.ndarray | None = None
        if self.measure == "max_share":
            return self._lowest_share(state, cheapest, high, 1.0 / state.data.n_vendors)
        raw = self._minimize_measure(state, cheapest)
        if not raw.has_plan:
            return cheapest, high
        lots = lots_of(state.built, raw)
        self._safe_split = split_of(state.built, raw)
        plan = lots * state.data.lot_p[:, None]
        ev = evaluate(state.problem, plan, self._safe_split, None, options_of(state.built, raw.x))
        risk = risk_of(ev, self.measure)
        return lots, min(risk, high)

    def _minimize_measure(self, state: ModelState, start: np.ndarray) -> RawSolution:
        m, session = state.built.model, state.session
        cost, offset = m.cost.copy(), m.offset
        target = np.zeros(m.num_cols)
        handle = state.built.extension
        assert isinstance(handle, dict)
        target[handle["mu"]] = 1.0
        # no constant either: the relative gap must be relative to the risk, not to sunk costs
        session.set_objective(target, 0.0)
        try:
            return optimize(session, state.built, state.data, warm(state.built, start, self.pipeline.options))
        finally:
            session.set_objective(cost, offset)

    def _lowest_share(self, state: ModelState, best: np.ndarray, high: float, floor: float) -> tuple[np.ndarray, float]:
        """The least largest-share that admits a plan, by bisection on feasibility (1% of the range)."""
        options, started = self.pipeline.options, time.perf_counter()

        def feasible(level: float) -> np.ndarray | None:
            left = remaining(options, started)
            if left is None:  # this step's time is spent: the bracket closes where it is
                raise TimeoutError
            self.level.set(state, level)
            raw = optimize(state.session, state.built, state.data, warm(state.built, best, left))
            if not raw.has_plan:
                return None
            self._safe_split = split_of(state.built, raw)
            return lots_of(state.built, raw)

        low, high_ok = floor, high
        try:
            found = feasible(floor)
            if found is not None:
                return found, floor
            while high_ok - low > 0.01 * (high - floor):
                mid = 0.5 * (low + high_ok)
                found = feasible(mid)
                if found is not None:
                    high_ok, best = mid, found
                else:
                    low = mid
        except TimeoutError:
            pass
        return best, high_ok


def _monotone(results: list[Outcome]) -> list[Outcome]:
    """A plan found for a tighter level also fits every looser one: keep the cheaper
    (this removes kinks that a non-zero ``mip_gap`` can leave)."""
    out = list(results)
    for k in range(len(out) - 2, -1, -1):
        tighter = out[k + 1]
        if tighter.has_plan and (not out[k].has_plan or tighter.cost < out[k].cost):
            out[k] = tighter
    return out


def _table(levels: list[float], results: list[Outcome], measure: str, problem: Problem) -> pd.DataFrame:
    rows = []
    for level, result in zip(levels, results):
        row: dict[str, Any] = {"level": level, "status": result.status}
        ev = result.evaluation if isinstance(result, Result) else None
        if result.has_plan and ev is not None:
            total = ev.compute.sum()
            row.update(risk=risk_of(ev, measure), cost=result.cost, objective=result.objective, cvar=ev.cvar)
            for v, vendor in enumerate(problem.vendor_names):
                row[f"share {vendor}"] = ev.compute_by_vendor[v].sum() / total if total > 0 else 0.0
        else:
            row.update(risk=math.nan, cost=math.nan, objective=math.nan, cvar=math.nan)
            for vendor in problem.vendor_names:
                row[f"share {vendor}"] = math.nan
        rows.append(row)
    columns = ["level", "risk", "cost", "objective", "status", *[f"share {v}" for v in problem.vendor_names]]
    if problem.risk.scenarios:
        columns.insert(4, "cvar")
    return pd.DataFrame(rows, columns=columns, index=pd.RangeIndex(len(rows), name="point"))


def _tree_frontier(original: Problem, measure: str, points: int, pipeline: Pipeline, progress: bool) -> Frontier:
    """Expected cost against the CVaR of the paths' costs, by weights (see `frontier`)."""

    weights = [0.0, *np.geomspace(0.01, MOST_CVAR_WEIGHT, points - 1)]
    rows, results = [], []
    clock = _Clock(pipeline.options.time_limit, points)
    for k, w in enumerate(weights, start=1):
        weighted = replace(original, risk=replace(original.risk, scenario_cvar_weight=float(w)))
        result, _ = replace(pipeline, options=clock.next(pipeline.options)).run(weighted, report=weighted)
        results.append(result)
        row: dict[str, Any] = {"level": w, "status": result.status}
        if result.has_plan and isinstance(result, TreeResult):
            row.update(risk=result.cost_cvar, cost=result.cost, objective=result.objective)
            shares = result.compute_by_vendor.groupby(level="scenario").sum()
            expected = pd.Series(result.scenario_costs["probability"]).reindex(shares.index).to_numpy() @ shares
            total = float(expected.sum())
            for vendor in original.vendor_names:
                row[f"share {vendor}"] = float(expected[vendor]) / total if total > 0 else 0.0
        else:
            row.update(risk=math.nan, cost=math.nan, objective=math.nan)
            row.update({f"share {v}": math.nan for v in original.vendor_names})
        rows.append(row)
        if progress:
            print(
                f"frontier[scenario_cvar] point {k}/{points}: weight {fmt.number(w)} → {result.status}"
                + (f", cost {fmt.money(result.cost)}" if result.has_plan else ""),
                file=sys.stderr,
            )
    columns = ["level", "risk", "cost", "objective", "status", *[f"share {v}" for v in original.vendor_names]]
    table = pd.DataFrame(rows, columns=columns, index=pd.RangeIndex(len(rows), name="point"))
    return Frontier("scenario_cvar", table, tuple(results))
