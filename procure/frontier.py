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
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .errors import ProblemError
from .evaluate import PlanEvaluation, evaluate, objective_of
from .model.bounds import cost_bounds, first_bounds
from .model.build import BuiltModel, build_model
from .model.linear import Index
from .model.sets import ModelData, model_data
from .pipeline import optimize, placed_of, split_of, warm_from
from .problem import Problem, as_problem
from .result import Result, make_result, plan_arrays
from .solve import solve_options
from .solvers import get_adapter
from .solvers.base import RawSolution, Session, SolveOptions

__all__ = ["MEASURES", "Frontier", "frontier", "risk_of"]

MEASURES = ("cvar", "hhi", "max_share")


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
        ``"cvar"``, ``"hhi"`` or ``"max_share"``.
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
    results: tuple[Result, ...] = field(repr=False)

    def plot(self, path: str | None = None, *, title: str | None = None) -> Any:
        """Draw cost against risk, with each point's vendor mix below; save to ``path`` if given.

        Returns the matplotlib Figure.
        """
        import matplotlib

        if path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        ok = self.table[self.table["status"].isin(["optimal", "feasible"])]
        vendors = [c for c in self.table.columns if c.startswith("share ")]
        fig, (top, bottom) = plt.subplots(
            2, 1, figsize=(8, 7), sharex=True, gridspec_kw={"height_ratios": [2, 1]}, constrained_layout=True
        )
        label = {
            "cvar": "CVaR of disruption loss (\\$B)",
            "hhi": "mean HHI (demand shares, discount-weighted)",
            "max_share": "largest vendor share in any year",
        }[self.measure]
        x = ok["risk"] / (1e9 if self.measure == "cvar" else 1.0)
        cost = ok["cost"] / 1e9
        top.plot(x, cost, "-o", color="#1f4e79", label="cheapest plan at each risk level")
        for k, (xi, yi) in enumerate(zip(x, cost)):
            # alternate above and below the curve so that neighbouring labels do not collide
            top.annotate(
                f"\\${yi:,.1f}B",
                (xi, yi),
                textcoords="offset points",
                xytext=(0, 9 if k % 2 == 0 else -14),
                ha="center",
                fontsize=8,
                color="#1f4e79",
            )
        top.set_ylabel("cost, present value (\\$B)")
        top.set_title(title or f"What lowering {self.measure.replace('_', ' ')} costs")
        top.grid(alpha=0.3)
        top.legend(loc="upper left", fontsize=8)
        top.margins(y=0.15)
        width = (x.max() - x.min()) / max(len(x) * 1.5, 1) if len(x) > 1 else 0.05
        bottom_edge = np.zeros(len(ok))
        for vendor in vendors:
            share = ok[vendor].to_numpy()
            bottom.bar(x, share, width=width, bottom=bottom_edge, label=vendor.removeprefix("share "))
            bottom_edge += share
        bottom.set_ylabel("share of compute,\nwhole horizon")
        bottom.set_ylim(0, 1)
        bottom.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
        inverted = len(x) > 1 and x.iloc[0] > x.iloc[-1]
        if inverted:
            top.invert_xaxis()
        bottom.set_xlabel(label + ("  (less risk →)" if inverted else "  (← less risk)"))
        if path is not None:
            fig.savefig(path, dpi=130)
        return fig


def _without_traded_term(problem: Problem, measure: str) -> Problem:
    """The problem whose cost the frontier minimizes: the traded risk is constrained, not priced."""
    risk = problem.risk
    if measure == "cvar":
        if not risk.scenarios or risk.shortfall_penalty <= 0:
            raise ProblemError(
                "frontier: measure 'cvar' needs risk.scenarios and risk.shortfall_penalty > 0",
                path="risk.scenarios",
            )
        risk = replace(risk, risk_weight=0.0)
    elif measure == "hhi":
        risk = replace(risk, hhi_weight=0.0)
    return replace(problem, risk=risk)


class _Sweep:
    """The kept model with a risk-level handle: a column μ bounding the measure
    (cvar, hhi), or share rows whose coefficients carry the level (max_share)."""

    def __init__(self, data: ModelData, built: BuiltModel, adapter: Any, measure: str) -> None:
        self.data, self.built, self.measure = data, built, measure
        m = built.model
        V, T = built.compute.shape
        self.mu: np.ndarray | None = None
        if measure == "max_share":
            # C[v,t] − L·Σ_u C[u,t] ≤ 0; built at L = 1 (no limit), the level goes into the coefficients
            v, u, t = np.meshgrid(np.arange(V), np.arange(V), np.arange(T), indexing="ij")
            self.share_cells = (v.ravel(), u.ravel(), t.ravel())
            self.share_rows = m.add_rows(
                "frontier_share",
                Index.grid(vendor=data.vendors, period=tuple(int(p) for p in data.periods)),
                (v * T + t).ravel(),
                built.compute[u, t].ravel(),
                (np.where(v == u, 1.0, 0.0) - 1.0).ravel(),
                upper=0.0,
                unit="compute",
            )
        else:
            self.mu = m.add_columns("risk_level", Index.scalar(), doc="frontier risk level")
            if measure == "cvar":
                handles = built.cvar
                assert handles is not None
                index = Index.scalar()
                rows = np.zeros(len(handles.ids) + 1, dtype=int)
                cols = np.concatenate([handles.ids, self.mu])
                vals = np.concatenate([handles.weights, [-1.0]])
            else:  # discount-weighted mean HHI: Σ_t w_t Σ_v h[v,t] ≤ μ with w = d / Σ d
                hhi = built.hhi
                assert hhi is not None
                weight = data.discount[hhi.periods] / data.discount[hhi.periods].sum()
                index = Index.scalar()
                rows = np.zeros(hhi.terms.size + 1, dtype=int)
                cols = np.concatenate([hhi.terms.ravel(), self.mu])
                vals = np.concatenate([np.tile(weight, V), [-1.0]])
            m.add_rows("frontier_level", index, rows, cols, vals, upper=0.0, unit=measure)
        self.session: Session = adapter.open(m)

    def set_level(self, level: float) -> None:
        if self.mu is not None:
            unit = self.built.cvar.unit if self.measure == "cvar" and self.built.cvar is not None else 1.0
            self.session.set_col_bounds(self.mu, upper=np.array([level / unit]))
            return
        v, u, t = self.share_cells
        T = self.built.compute.shape[1]
        self.session.set_coefficients(
            self.share_rows[v * T + t], self.built.compute[u, t], np.where(v == u, 1.0, 0.0) - level
        )

    def least_risk(self, options: SolveOptions) -> RawSolution | None:
        """Minimize the measure itself (None for max_share, which is not linear in the plan)."""
        if self.mu is None:
            return None
        m = self.built.model
        cost, offset = m.cost.copy(), m.offset
        target = np.zeros(m.num_cols)
        target[self.mu] = 1.0
        # no constant either: the relative gap must be relative to the risk, not to sunk costs
        self.session.set_objective(target, 0.0)
        raw = optimize(self.session, self.built, self.data, options)
        self.session.set_objective(cost, offset)
        return raw

    def solve(self, options: SolveOptions) -> RawSolution:
        return optimize(self.session, self.built, self.data, options)


def frontier(
    problem: Problem | dict[str, Any] | str,
    measure: str = "cvar",
    points: int = 10,
    *,
    solver: str = "highs",
    time_limit: float | None = None,
    mip_gap: float = 1e-4,
    threads: int | None = None,
    verbose: bool = False,
    progress: bool = False,
) -> Frontier:
    """Trace the cost–risk frontier of a problem by the epsilon-constraint method.

    Parameters
    ----------
    problem : Problem, mapping, or path
        The problem; all its constraints hold at every point.
    measure : {"cvar", "hhi", "max_share"}
        The risk traded against cost: CVaR of the disruption loss (needs
        scenarios and a shortfall penalty), the HHI averaged over periods
        (weighted by discount factor), or the largest vendor share of
        operational compute in any period.  Its
        own price in the objective (``risk_weight`` / ``hhi_weight``) is
        dropped: the frontier minimizes cost subject to ``risk ≤ level``.
    points : int
        Number of levels, from the cheapest plan's risk down to the least
        risk possible (for ``max_share``, found by bisection on feasibility).
    solver, time_limit, mip_gap, threads, verbose
        As for `procure.solve`; ``time_limit`` applies to each point.
    progress : bool
        Print one line per point to standard error.

    Returns
    -------
    Frontier
    """
    if measure not in MEASURES:
        raise ProblemError(f"measure: {measure!r} is not one of {', '.join(MEASURES)}", path="measure", value=measure)
    if isinstance(points, bool) or not isinstance(points, int) or points < 2:
        raise ProblemError(f"points: {points!r} must be a whole number ≥ 2", path="points", value=points)
    options = solve_options(time_limit, mip_gap, threads, verbose)
    original = as_problem(problem)
    traded = _without_traded_term(original, measure)
    adapter = get_adapter(solver)
    data = model_data(traded)

    upper, provisional = first_bounds(data)
    for _attempt in range(2):
        table, results = _trace(data, original, adapter, options, upper, measure, points, progress)
        costs = [objective_of(traded, evaluate(traded, *_plan(r))) for r in results if r.has_plan]
        if not provisional.any() or not costs:
            break
        certified = cost_bounds(data, max(costs))
        widen = provisional & np.isfinite(certified) & (certified > upper)
        if not widen.any():
            break
        upper = np.where(widen, certified, upper)
    return Frontier(measure, table, tuple(results))


def _trace(
    data: ModelData,
    original: Problem,
    adapter: Any,
    options: SolveOptions,
    upper: np.ndarray,
    measure: str,
    points: int,
    progress: bool,
) -> tuple[pd.DataFrame, list[Result]]:
    built = build_model(data, upper, hhi=measure == "hhi", cvar=measure == "cvar")
    sweep = _Sweep(data, built, adapter, measure)

    def plan(raw: RawSolution) -> np.ndarray | None:
        return placed_of(sweep.built, raw, data) if raw.has_plan else None

    def split(raw: RawSolution) -> np.ndarray | None:
        return split_of(sweep.built, raw) if raw.has_plan else None

    def say(text: str) -> None:
        if progress:
            print(f"frontier[{measure}] {text}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    cheapest = sweep.solve(options)
    if not cheapest.has_plan:
        result = make_result(original, cheapest.status, None, solver=adapter.name, message=cheapest.message)
        return _table([math.nan], [result], measure, original), [result]
    high = risk_of(evaluate(data.problem, plan(cheapest), split(cheapest)), measure)
    least = sweep.least_risk(warm_from(sweep.built, cheapest, options))
    if least is not None and least.has_plan:
        low = min(risk_of(evaluate(data.problem, plan(least), split(least)), measure), high)
    elif measure == "max_share":
        low, least = _lowest_share(sweep, options, cheapest, high, 1.0 / data.n_vendors)
    else:
        low, least = high, cheapest
    say(f"cheapest plan: risk {high:.6g}; least risk: {low:.6g} ({time.perf_counter() - started:.1f} s)")

    # The least-risk plan fits every level: it warm-starts each point (so the solver always
    # holds a plan) and stands in if a point's solve ends without one.
    safe = least if least is not None and least.has_plan else cheapest
    levels = np.linspace(high, low, points)
    results: list[Result] = []
    for k, level in enumerate(levels):
        t0 = time.perf_counter()
        sweep.set_level(level * (1 + 1e-6) + 1e-9)  # slack for round-off between the model and the exact risk
        raw = cheapest if k == 0 else sweep.solve(warm_from(sweep.built, safe, options))
        if not raw.has_plan:
            raw = replace(safe, status="feasible", message=f"the least-risk plan stands in: {raw.status} {raw.message}")
        results.append(
            make_result(
                original,
                raw.status,
                plan(raw),
                split(raw),
                bound=raw.bound,
                seconds=time.perf_counter() - t0,
                solver=adapter.name,
                message=raw.message,
                model_size=sweep.built.model.stats(),
            )
        )
        cost = results[-1].cost
        say(f"point {k + 1}/{points}: level {level:.6g} → {raw.status}, cost {cost:,.0f}")
    results = _monotone(results, levels, measure)
    return _table(list(levels), results, measure, original), results


def _lowest_share(
    sweep: _Sweep, options: SolveOptions, start: RawSolution, high: float, floor: float
) -> tuple[float, RawSolution]:
    """The least largest-share that admits a plan, by bisection on feasibility (1% of the range),
    and a plan at that level."""
    best = start
    sweep.set_level(floor)
    raw = sweep.solve(warm_from(sweep.built, start, options))
    if raw.has_plan:
        return floor, raw
    low, high_ok = floor, high
    while high_ok - low > 0.01 * (high - floor):
        mid = 0.5 * (low + high_ok)
        sweep.set_level(mid)
        raw = sweep.solve(warm_from(sweep.built, best, options))
        if raw.has_plan:
            high_ok, best = mid, raw
        else:
            low = mid
    return high_ok, best


def _plan(result: Result) -> tuple[np.ndarray, np.ndarray | None]:
    return plan_arrays(result.problem, result.by_site, result.split)


def _monotone(results: list[Result], levels: np.ndarray, measure: str) -> list[Result]:
    """A plan found for a tighter level also fits every looser one: keep the cheaper
    (this removes kinks that a non-zero ``mip_gap`` can leave)."""
    out = list(results)
    for k in range(len(out) - 2, -1, -1):
        tighter = out[k + 1]
        if tighter.has_plan and (not out[k].has_plan or tighter.cost < out[k].cost):
            out[k] = tighter
    return out


def _table(levels: list[float], results: list[Result], measure: str, problem: Problem) -> pd.DataFrame:
    rows = []
    for level, result in zip(levels, results):
        row: dict[str, Any] = {"level": level, "status": result.status}
        if result.has_plan:
            ev = evaluate(problem, *_plan(result))
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
