"""`Result`: a solved plan as pandas objects, with its own check and report."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .evaluate import PlanEvaluation, evaluate, objective_of, violations
from .fmt import money
from .io import write_json
from .model.risk import HHI_TOL
from .problem import Problem
from .validate import NOMINAL

__all__ = ["Result", "make_result"]


@dataclass(frozen=True)
class Result:
    """The answer of `procure.solve`.

    Attributes
    ----------
    status : str
        ``"optimal"``, ``"feasible"`` (stopped with a plan, e.g. at the time
        limit), ``"infeasible"``, ``"unbounded"`` or ``"error"``.
    objective : float
        Cost plus risk terms of the plan (NaN without a plan).
    cost : float
        Cost of the plan, recomputed from the problem: discounted capex,
        opex and energy, plus onboarding.
    purchases : pandas.DataFrame
        Units bought; index = periods, one column per offer.  Empty (no rows)
        when there is no plan.
    fleet : pandas.DataFrame
        Operational units, same shape as ``purchases``.
    compute_by_vendor : pandas.DataFrame
        Operational compute; index = periods, one column per vendor.
    compute : pandas.Series
        Total operational compute per period.
    power_gw : pandas.Series
        Facility power (pue × IT power) per period, GW.
    shares : pandas.DataFrame
        Each vendor's share of operational compute; index = periods, one
        column per vendor (0 where the total is 0).
    cost_breakdown : pandas.DataFrame
        Present-value contribution of each period to ``cost``: columns
        ``capex``, ``opex``, ``energy``, ``onboarding`` (undiscounted, in the
        period of the vendor's first purchase), ``take_or_pay`` (minimum spend
        not reached, due as in the first period) and ``total``.
    spend : pandas.Series
        Capex paid per period, undiscounted (what ``budget`` caps).
    spend_by_vendor : pandas.DataFrame
        Undiscounted capex per period and vendor (what ``min_spend`` and
        ``max_spend`` look at, summed over periods).
    site_power_gw : pandas.DataFrame
        Facility power per period and site, GW (one column ``""`` without sites).
    hhi : pandas.Series
        Exact Herfindahl index per period, Σ_v (C[v,t] / demand_t)² (NaN
        where demand is 0).
    cvar : float
        CVaR of the scenario loss at ``risk.cvar_alpha`` (0 without scenarios).
    expected_loss : float
        Probability-weighted scenario loss.
    shortfall : pandas.DataFrame
        Demand not met per scenario; index = periods, one column per scenario.
    scenarios : pandas.DataFrame
        One row per scenario (and ``nominal``): ``probability`` and ``loss``.
    by_site : pandas.DataFrame
        Long table, one row per period, site and offer: ``bought`` and
        ``fleet`` units (site ``""`` when the problem has no sites).
    split : pandas.DataFrame
        With workloads: long table of the units of each offer running each
        workload per period (``units`` and the ``compute`` they deliver).
    bound : float
        Solver's lower bound on the objective.
    gap : float
        ``(objective − bound) / |objective|``.
    solve_seconds : float
        Wall time of the whole solve (build, solver, result).
    solver : str
        Adapter that solved it.
    message : str
        Why there is no plan or why the solver stopped; ``""`` otherwise.
    problem : Problem
        The problem solved.
    model_size : dict
        Columns, integer columns, rows and nonzeros of the model.
    """

    status: str
    objective: float
    cost: float
    purchases: pd.DataFrame
    fleet: pd.DataFrame
    compute_by_vendor: pd.DataFrame
    compute: pd.Series
    power_gw: pd.Series
    shares: pd.DataFrame
    cost_breakdown: pd.DataFrame
    spend: pd.Series
    spend_by_vendor: pd.DataFrame
    site_power_gw: pd.DataFrame
    hhi: pd.Series
    cvar: float
    expected_loss: float
    shortfall: pd.DataFrame
    scenarios: pd.DataFrame
    by_site: pd.DataFrame
    split: pd.DataFrame
    bound: float
    gap: float
    solve_seconds: float
    solver: str
    message: str
    problem: Problem = field(repr=False)
    model_size: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def has_plan(self) -> bool:
        """True when the result holds a plan (status optimal or feasible)."""
        return self.status in ("optimal", "feasible")

    def __repr__(self) -> str:
        return (
            f"Result(status={self.status!r}, objective={self.objective:.6g}, cost={self.cost:.6g}, "
            f"gap={self.gap:.3g}, solver={self.solver!r}, solve_seconds={self.solve_seconds:.3g})"
        )

    # ------------------------------------------------------------------ checks

    def check(self, tol: float = 1e-6) -> list[str]:
        """Re-verify the plan against every constraint of the problem.

        The plan is re-evaluated from the problem's fields, independently of
        the optimization model.  Returns one line per violated constraint
        (an empty list when the plan is valid, or when there is no plan).
        """
        if not self.has_plan:
            return []
        ev = evaluate(self.problem, *plan_arrays(self.problem, self.by_site, self.split))
        found = violations(self.problem, ev, tol, hhi_tol=HHI_TOL)
        if not math.isclose(ev.cost, self.cost, rel_tol=1e-9, abs_tol=1e-6):
            found.append(f"cost: reported {self.cost:.10g} but the plan costs {ev.cost:.10g}")
        objective = objective_of(self.problem, ev)
        if not math.isclose(objective, self.objective, rel_tol=1e-9, abs_tol=1e-6):
            found.append(f"objective: reported {self.objective:.10g} but the plan's is {objective:.10g}")
        return found

    # ------------------------------------------------------------------ reports

    def summary(self) -> str:
        """A short readable report of the plan."""
        p = self.problem
        head = f"procure plan {p.name!r}: {self.status}"
        if self.has_plan and math.isfinite(self.gap):
            head += f" (gap {self.gap:.2%})"
        head += f", {self.solver} in {self.solve_seconds:.2f} s"
        lines = [head]
        if self.message:
            lines.append(self.message)
        if not self.has_plan:
            return "\n".join(lines)
        br = self.cost_breakdown.sum()
        lines.append(
            f"cost {money(self.cost)} = capex {money(br['capex'])} + opex {money(br['opex'])}"
            f" + energy {money(br['energy'])} + onboarding {money(br['onboarding'])}"
            + (f" + take-or-pay {money(br['take_or_pay'])}" if br["take_or_pay"] > 0 else "")
            + " (present value)"
        )
        if not math.isclose(self.objective, self.cost, rel_tol=1e-12):
            lines.append(f"objective {money(self.objective)} (cost + risk terms)")
        if len(p.risk.scenarios):
            lines.append(
                f"scenario loss: expected {money(self.expected_loss)}, CVaR({p.risk.cvar_alpha:g}) {money(self.cvar)}"
            )
        table = pd.DataFrame(index=self.purchases.index)
        if p.workloads is None:
            table["demand"] = np.asarray(p.total_demand)
        table["compute"] = self.compute.to_numpy()
        if p.workloads is not None:
            served = self.split.pivot_table(index="period", columns="workload", values="compute", aggfunc="sum")
            for name, need in p.workloads.items():
                table[f"{name} demand"] = np.asarray(need)
                table[f"{name} served"] = (
                    served.reindex(self.purchases.index)[name].fillna(0.0).to_numpy()
                    if (name in served.columns)
                    else 0.0
                )
        table["power GW"] = self.power_gw.to_numpy()
        if p.power_cap_gw is not None:
            table["cap GW"] = np.asarray(p.power_cap_gw)
        table["spend $B"] = self.spend.to_numpy() / 1e9
        for vendor in self.shares.columns:
            table[f"{vendor} %"] = 100 * self.shares[vendor].to_numpy()
        if p.risk.hhi_weight > 0 or p.risk.max_hhi is not None:
            table["HHI"] = self.hhi.to_numpy()
        lines.append(table.to_string(float_format=_number))
        bought = self.purchases.loc[:, (self.purchases > 0).any()]
        if not bought.empty:
            lines.append("units bought:")
            lines.append(bought.to_string(formatters={c: "{:,}".format for c in bought.columns}))
        if p.sites:
            power = self.site_power_gw.copy()
            for site in p.sites:
                cap = site.power_cap_gw if site.power_cap_gw is not None else p.power_cap_gw
                if cap is not None:
                    power[site.name] = [f"{u:,.3g} / {c:,.3g}" for u, c in zip(power[site.name], cap)]
            lines.append("facility power by site, GW (used / cap):")
            lines.append(power.to_string(float_format=lambda v: f"{v:,.3g}"))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready mapping of the result (NaN becomes ``None``)."""

        def num(x: Any) -> Any:
            x = float(x)
            return None if not math.isfinite(x) else (int(x) if x.is_integer() and abs(x) < 2**53 else x)

        def frame(df: pd.DataFrame) -> dict[str, dict[int, Any]]:
            return {str(c): {int(i): num(v) for i, v in df[c].items()} for c in df.columns}

        def series(s: pd.Series) -> dict[int, Any]:
            return {int(i): num(v) for i, v in s.items()}

        return {
            "name": self.problem.name,
            "status": self.status,
            "message": self.message,
            "objective": num(self.objective),
            "cost": num(self.cost),
            "bound": num(self.bound),
            "gap": num(self.gap),
            "solver": self.solver,
            "solve_seconds": num(self.solve_seconds),
            "purchases": frame(self.purchases),
            "fleet": frame(self.fleet),
            "compute_by_vendor": frame(self.compute_by_vendor),
            "shares": frame(self.shares),
            "compute": series(self.compute),
            "power_gw": series(self.power_gw),
            "spend": series(self.spend),
            "cost_breakdown": frame(self.cost_breakdown),
            "hhi": series(self.hhi),
            "cvar": num(self.cvar),
            "expected_loss": num(self.expected_loss),
            "shortfall": frame(self.shortfall),
            "scenarios": {str(k): {c: num(v) for c, v in row.items()} for k, row in self.scenarios.iterrows()},
            "by_site": [
                {
                    "period": int(r.period),
                    "site": r.site,
                    "offer": r.offer,
                    "bought": int(r.bought),
                    "fleet": int(r.fleet),
                }
                for r in self.by_site.itertuples(index=False)
            ],
            "split": [
                {
                    "period": int(r.period),
                    "workload": r.workload,
                    "offer": r.offer,
                    "units": num(r.units),
                    "compute": num(r.compute),
                }
                for r in self.split.itertuples(index=False)
            ],
        }

    def to_json(self, path: str | os.PathLike[str] | None = None, *, indent: int = 2) -> str:
        """The result as JSON text; written to ``path`` if given."""
        return write_json(self.to_dict(), path, indent)


def _number(v: float) -> str:
    """Readable table numbers: separators for large ones, 4 significant digits for small ones."""
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:,.4g}"


BREAKDOWN = ["capex", "opex", "energy", "onboarding", "take_or_pay", "total"]


def _frames(problem: Problem, ev: PlanEvaluation | None) -> dict[str, Any]:
    """The pandas views of an evaluated plan (empty frames of the right shape without one)."""
    index = pd.Index(problem.periods, name="period")
    offers = pd.Index(problem.offer_names, name="offer")
    vendors = pd.Index(problem.vendor_names, name="vendor")
    sites = pd.Index(problem.site_names or ("",), name="site")
    names = pd.Index([sc.name for sc in problem.risk.scenarios], name="scenario")
    probability = [sc.probability for sc in problem.risk.scenarios]
    nominal = max(1.0 - sum(probability), 0.0)
    scenario_index = pd.Index([*names, NOMINAL], name="scenario")
    if ev is None:
        empty = index[:0]
        return dict(
            purchases=pd.DataFrame(index=empty, columns=offers, dtype=float),
            fleet=pd.DataFrame(index=empty, columns=offers, dtype=float),
            compute_by_vendor=pd.DataFrame(index=empty, columns=vendors, dtype=float),
            compute=pd.Series(index=empty, dtype=float, name="compute"),
            power_gw=pd.Series(index=empty, dtype=float, name="power_gw"),
            shares=pd.DataFrame(index=empty, columns=vendors, dtype=float),
            cost_breakdown=pd.DataFrame(index=empty, columns=BREAKDOWN, dtype=float),
            spend=pd.Series(index=empty, dtype=float, name="spend"),
            spend_by_vendor=pd.DataFrame(index=empty, columns=vendors, dtype=float),
            site_power_gw=pd.DataFrame(index=empty, columns=sites, dtype=float),
            hhi=pd.Series(index=empty, dtype=float, name="hhi"),
            cvar=math.nan,
            expected_loss=math.nan,
            shortfall=pd.DataFrame(index=empty, columns=names, dtype=float),
            scenarios=pd.DataFrame({"probability": [*probability, nominal], "loss": math.nan}, index=scenario_index),
            by_site=pd.DataFrame(columns=["period", "site", "offer", "bought", "fleet"]),
            split=pd.DataFrame(columns=["period", "workload", "offer", "units", "compute"]),
        )
    breakdown = pd.DataFrame(
        {"capex": ev.capex, "opex": ev.opex, "energy": ev.energy, "onboarding": ev.onboarding}, index=index
    )
    breakdown["take_or_pay"] = 0.0
    breakdown.iloc[0, breakdown.columns.get_loc("take_or_pay")] = ev.take_or_pay.sum()  # due as in period 0
    breakdown["total"] = breakdown.sum(axis=1)
    return dict(
        purchases=pd.DataFrame(ev.purchases.T.round().astype(np.int64), index=index, columns=offers),
        fleet=pd.DataFrame(ev.fleet.T.round().astype(np.int64), index=index, columns=offers),
        compute_by_vendor=pd.DataFrame(ev.compute_by_vendor.T, index=index, columns=vendors),
        compute=pd.Series(ev.compute, index=index, name="compute"),
        power_gw=pd.Series(ev.power_gw, index=index, name="power_gw"),
        shares=pd.DataFrame(ev.shares.T, index=index, columns=vendors),
        cost_breakdown=breakdown,
        spend=pd.Series(ev.spend, index=index, name="spend"),
        spend_by_vendor=pd.DataFrame(ev.spend_by_vendor.T, index=index, columns=vendors),
        site_power_gw=pd.DataFrame(ev.site_power_gw.T, index=index, columns=sites),
        hhi=pd.Series(ev.hhi, index=index, name="hhi"),
        cvar=ev.cvar,
        expected_loss=ev.expected_loss,
        shortfall=pd.DataFrame(ev.shortfall.T, index=index, columns=names),
        scenarios=pd.DataFrame(
            {"probability": [*probability, nominal], "loss": [*ev.scenario_loss, 0.0]}, index=scenario_index
        ),
        by_site=_by_site(problem, ev),
        split=_split(problem, ev),
    )


def _by_site(problem: Problem, ev: PlanEvaluation) -> pd.DataFrame:
    """Long table: one row per (period, site, offer) placement."""
    pairs = np.array(problem.placements(), dtype=int).reshape(-1, 2)
    sites = np.array(problem.site_names or ("",), dtype=object)
    offers = np.array(problem.offer_names, dtype=object)
    P, T = ev.placed.shape
    return pd.DataFrame(
        {
            "period": np.tile(np.asarray(problem.periods), P),
            "site": np.repeat(sites[pairs[:, 1]], T),
            "offer": np.repeat(offers[pairs[:, 0]], T),
            "bought": ev.placed.round().astype(np.int64).ravel(),
            "fleet": ev.placed_fleet.round().astype(np.int64).ravel(),
        }
    )


def _split(problem: Problem, ev: PlanEvaluation) -> pd.DataFrame:
    """Long table of the units of each offer running each workload (rows with units only)."""
    columns = ["period", "workload", "offer", "units", "compute"]
    if ev.split is None or problem.workloads is None:
        return pd.DataFrame(columns=columns)
    workloads = list(problem.workloads)
    i, w, t = np.nonzero(ev.split > 1e-9)
    units = ev.split[i, w, t]
    efficiency = np.array([[(o.efficiency or {}).get(x, 1.0) for x in workloads] for o in problem.offers])
    compute = np.array([o.compute for o in problem.offers])
    return pd.DataFrame(
        {
            "period": np.asarray(problem.periods)[t],
            "workload": np.array(workloads, dtype=object)[w],
            "offer": np.array(problem.offer_names, dtype=object)[i],
            "units": units,
            "compute": units * compute[i] * efficiency[i, w],
        },
        columns=columns,
    ).sort_values(["period", "workload", "offer"], ignore_index=True)


def plan_arrays(problem: Problem, by_site: pd.DataFrame, split: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
    """(P, T) units per placement and (I, W, T) split, read back from a result's long tables."""
    T = len(problem.periods)
    pairs = problem.placements()
    sites = problem.site_names or ("",)
    key = {(problem.offer_names[i], sites[s]): k for k, (i, s) in enumerate(pairs)}
    placed = np.zeros((len(pairs), T))
    period_pos = {p: t for t, p in enumerate(problem.periods)}
    for row in by_site.itertuples(index=False):
        placed[key[(row.offer, row.site)], period_pos[row.period]] = row.bought
    if problem.workloads is None:
        return placed, None
    workloads = list(problem.workloads)
    x = np.zeros((len(problem.offers), len(workloads), T))
    offer_pos = {name: i for i, name in enumerate(problem.offer_names)}
    for row in split.itertuples(index=False):
        x[offer_pos[row.offer], workloads.index(row.workload), period_pos[row.period]] = row.units
    return placed, x


def make_result(
    problem: Problem,
    status: str,
    placed: np.ndarray | None,
    split: np.ndarray | None = None,
    *,
    bound: float = math.nan,
    seconds: float = 0.0,
    solver: str = "",
    message: str = "",
    model_size: dict[str, int] | None = None,
) -> Result:
    """Build a `Result` from a plan ((P, T) units bought per placement, and the workload
    split where the problem has workloads) or from no plan."""
    ev = evaluate(problem, placed, split) if placed is not None else None
    cost = ev.cost if ev is not None else math.nan
    objective = objective_of(problem, ev) if ev is not None else math.nan
    gap = math.nan
    if ev is not None and math.isfinite(bound):
        gap = max(objective - bound, 0.0) / max(abs(objective), 1e-12)
    return Result(
        status=status,
        objective=objective,
        cost=cost,
        bound=bound,
        gap=gap,
        solve_seconds=seconds,
        solver=solver,
        message=message,
        problem=problem,
        model_size=dict(model_size or {}),
        **_frames(problem, ev),
    )
