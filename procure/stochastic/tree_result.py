"""`TreeResult`: the answer for a problem with demand scenarios, one plan per demand path.

Its tables are those of `Result` with a leading ``scenario`` index level (long tables get a
``scenario`` column); each path's own `Result` is in ``scenario_results``.  ``cost`` is the
expected cost ``Σ_s p_s · cost_s`` and ``objective`` the tree's objective.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..base import fmt
from ..base.errors import ProblemError
from ..base.hooks import provided
from ..base.limits import REQUIREMENT_TOL
from ..core.result import ExtraRows, Outcome, Result
from ..problem.tree import ScenarioTree
from .tree_measures import nonanticipativity_violations, scenario_cvar, tree_objective

if TYPE_CHECKING:
    from ..report.plot import TreeResultPlot
    from ..sweeps.out_of_sample import OutOfSample

__all__ = ["StochasticValue", "TreeResult"]


@dataclass(frozen=True)
class StochasticValue:
    """A value of the stochastic solution (VSS) or of perfect information (EVPI), with the
    interval the solves' proved bounds leave for it.

    Attributes
    ----------
    name : str
        ``"VSS"`` or ``"EVPI"``.
    value : float
        The value in $ of objective.
    low, high : float
        The interval the solves' proved bounds leave for ``value``.
    stochastic : float
        The tree's optimal objective (the recourse problem, RP).
    other : float
        EEV for VSS (the here-and-now periods decided from the mean demand path, then
        adapted) or WS for EVPI (every path deciding knowing its whole future).
    note : str
        What limits the answer (gaps, time limits); ``""`` when nothing does.
    """

    name: str
    value: float
    low: float
    high: float
    stochastic: float  # the tree's optimal objective (RP)
    other: float  # EEV (VSS) or WS (EVPI)
    note: str = ""

    def __repr__(self) -> str:
        note = f"; {self.note}" if self.note else ""
        return f"{self.name} = {fmt.money(self.value)} (in {fmt.money_interval(self.low, self.high)}){note}"


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _stacked(name: str) -> property:
    def get(self: TreeResult) -> Any:
        parts = {s: getattr(r, name) for s, r in self.scenario_results.items()}
        if not parts:  # no plan: the table of no plan, as a single plan's result gives it
            return getattr(self.planless, name)
        return pd.concat(parts, names=["scenario"])

    return property(get, doc=f"``{name}`` of every demand path, with a leading ``scenario`` index level.")


def _long(name: str) -> property:
    def get(self: TreeResult) -> pd.DataFrame:
        parts = [getattr(r, name).assign(scenario=s) for s, r in self.scenario_results.items()]
        if not parts:
            return getattr(self.planless, name)
        table = pd.concat(parts, ignore_index=True)
        return table[["scenario", *[c for c in table.columns if c != "scenario"]]]

    return property(get, doc=f"``{name}`` of every demand path, with a ``scenario`` column.")


def _float(getter: Callable[[Result], float], doc: str) -> property:
    def get(self: TreeResult) -> float:
        if not self.has_plan or self.tree is None:
            return math.nan
        return float(self.tree.probability @ np.array([getter(self.scenario_results[n]) for n in self.tree.names]))

    return property(get, doc=doc)


@dataclass(frozen=True, repr=False)
class TreeResult(Outcome):
    """The answer of `procure.solve` for a problem with ``demand_scenarios``: a `Result` per
    demand path and the tree's own measures.

    Besides `Outcome`'s fields (``cost`` is the expected cost, ``objective`` the tree's
    objective ``Σ_s p_s · objective_s + scenario_cvar_weight · CVaR(cost_s)``):

    Attributes
    ----------
    tree : ScenarioTree
        The distinct demand paths, their probabilities and shared history.
    scenario_results : mapping name -> Result
        Each demand scenario's plan, as the `Result` of its path's problem (its own cost and
        tables); scenarios with identical paths share one.
    """

    tree: ScenarioTree | None = field(default=None, repr=False)
    scenario_results: Mapping[str, Result] = field(default_factory=dict, repr=False)

    # every path's tables, stacked: by period with a leading scenario level, long ones with a scenario column
    purchases = _stacked("purchases")
    fleet = _stacked("fleet")
    compute_by_vendor = _stacked("compute_by_vendor")
    shares = _stacked("shares")
    spend_by_vendor = _stacked("spend_by_vendor")
    site_power_gw = _stacked("site_power_gw")
    shortfall = _stacked("shortfall")
    cost_breakdown = _stacked("cost_breakdown")
    power_build = _stacked("power_build")
    power_capacity_gw = _stacked("power_capacity_gw")
    compute = _stacked("compute")
    power_gw = _stacked("power_gw")
    spend = _stacked("spend")
    hhi = _stacked("hhi")
    unserved = _stacked("unserved")
    scenarios = _stacked("scenarios")
    options = _stacked("options")
    by_site = _long("by_site")
    split = _long("split")
    # expectations over the demand paths
    cvar = _float(lambda r: r.cvar, "Expected (over the demand paths) CVaR of each path's disruption loss.")
    expected_loss = _float(lambda r: r.expected_loss, "Expected (over the demand paths) disruption loss.")

    @property
    def has_plan(self) -> bool:
        """True when every demand path has a plan (status optimal or feasible)."""
        return bool(self.scenario_results) and self.status in ("optimal", "feasible")

    @property
    def extra_rows(self) -> ExtraRows | None:
        """The rows of the caller's own (``extra``) each path was solved with, if any."""
        return next((r.extra_rows for r in self.scenario_results.values()), None)

    @property
    def planless(self) -> Result:
        """The tree's answer as a `Result` without a plan: its tables are the empty tables
        of the tree's problem (what the stacked tables show when there is no plan)."""
        return Result(
            self.status,
            self.objective,
            self.cost,
            self.bound,
            self.gap,
            self.solve_seconds,
            self.solver,
            self.message,
            self.problem,
            self.termination,
            self.model_size,
        )

    # ------------------------------------------------------------------ the tree

    @property
    def scenario_costs(self) -> pd.DataFrame:
        """One row per demand scenario, as the problem lists them: ``probability``, ``cost``,
        ``objective``, and ``path`` (the scenario whose plan it shares when paths are identical)."""
        tree = self.tree
        assert tree is not None
        scenarios = self.problem.demand_scenarios
        path_of = {m: tree.names[s] for s, members in enumerate(tree.members) for m in members}
        results = [self.scenario_results.get(sc.name) for sc in scenarios]
        return pd.DataFrame(
            {
                "probability": [sc.probability for sc in scenarios],
                "cost": [r.cost if r is not None else math.nan for r in results],
                "objective": [r.objective if r is not None else math.nan for r in results],
                "path": [path_of[sc.name] for sc in scenarios],
            },
            index=pd.Index([sc.name for sc in scenarios], name="scenario"),
        )

    @property
    def cost_cvar(self) -> float:
        """CVaR of the paths' costs at ``risk.scenario_cvar_alpha`` (NaN without a plan)."""
        if not self.has_plan or self.tree is None:
            return math.nan
        costs = np.array([self.scenario_results[n].cost for n in self.tree.names])
        return scenario_cvar(costs, self.tree.probability, self.problem.risk.scenario_cvar_alpha)

    @property
    def here_and_now_periods(self) -> tuple[int, ...]:
        """The periods decided before the first branch (every path shares their history)."""
        assert self.tree is not None
        return tuple(self.problem.periods[: self.tree.here_and_now])

    @property
    def here_and_now(self) -> pd.DataFrame:
        """What is decided before the first branch: units bought per period and offer in
        `here_and_now_periods` (and GW of power started, one column per build, ``build`` +
        site), the same on every path."""
        periods = list(self.here_and_now_periods)
        if not self.has_plan or not periods:
            return pd.DataFrame(index=pd.Index(periods, name="period"), dtype=float)
        first = next(iter(self.scenario_results.values()))
        table = first.purchases.loc[periods]
        built = first.power_build.loc[periods]
        for site in built.columns:
            table[f"build GW {site}".rstrip()] = built[site]
        return table

    # ------------------------------------------------------------------ checking

    def check(self, tol: float = REQUIREMENT_TOL) -> list[str]:
        """Every constraint of every path that its plan breaks, non-anticipativity, and the
        reported cost and objective against the ones recomputed from the plans: an empty
        list means the plans are valid.

        Raises
        ------
        ProblemError
            When the result has no plans to check (as `Result.check`).
        """
        if not self.scenario_results or self.tree is None:
            raise ProblemError(
                f"check: the result has no plan to check (status {self.status!r}; its message says why)",
                path="status",
                value=self.status,
            )
        tree = self.tree
        found = [f"{name}: {line}" for name in tree.names for line in self.scenario_results[name].check(tol)]
        evs = [self.scenario_results[n].evaluation for n in tree.names]
        if all(ev is not None for ev in evs):
            found += nonanticipativity_violations(tree, [ev for ev in evs if ev is not None], tol)
        costs = np.array([self.scenario_results[n].cost for n in tree.names])
        objectives = np.array([self.scenario_results[n].objective for n in tree.names])
        cost = float(tree.probability @ costs)
        objective = tree_objective(self.problem, tree.probability, objectives, costs)
        if not math.isclose(cost, self.cost, rel_tol=1e-9, abs_tol=1e-6):
            found.append(f"cost: reported {self.cost:.10g} but the plans' expected cost is {cost:.10g}")
        if not math.isclose(objective, self.objective, rel_tol=1e-9, abs_tol=1e-6):
            found.append(f"objective: reported {self.objective:.10g} but the plans' is {objective:.10g}")
        return found

    # ------------------------------------------------------------------ measures

    def vss(self, **solve_options: Any) -> StochasticValue:
        """The value of the stochastic solution: the cost of deciding the here-and-now periods from
        the mean demand path and then adapting (EEV), minus this plan's objective (solved again)."""
        return provided("vss")(self, **self._options(solve_options))

    def evpi(self, **solve_options: Any) -> StochasticValue:
        """The expected value of perfect information: this plan's objective minus the objective
        when every path may decide knowing its whole future (wait-and-see)."""
        return provided("evpi")(self, **self._options(solve_options))

    def out_of_sample(self, paths: pd.DataFrame, **options: Any) -> OutOfSample:
        """This plan judged on fresh demand paths: the here-and-now decisions held, each path
        solved for its recourse (`procure.sweeps.out_of_sample.out_of_sample`, whose keyword arguments
        ``options`` are)."""
        return provided("out_of_sample")(self, paths, **options)

    @property
    def plot(self) -> TreeResultPlot:
        """Plots of every demand path's plan, and ``.scenario_costs()`` (see
        `procure.report.plot.TreeResultPlot`)."""
        return provided("tree_result_plot")(self)

    def report(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        sensitivity: bool = False,
        rule_costs: bool = False,
        time_limit: float = 60.0,
        stochastic_values: bool = False,
    ) -> str:
        """The HTML report of the tree: the here-and-now decision first, the paths' costs, then
        each path's plan; ``stochastic_values=True`` adds VSS and EVPI (each a few solves)."""
        return str(
            provided("report")(
                self,
                path,
                sensitivity=sensitivity,
                rule_costs=rule_costs,
                time_limit=time_limit,
                stochastic_values=stochastic_values,
            )
        )

    def summary(self) -> str:
        return str(provided("tree_summary")(self))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.problem.name,
            "status": self.status,
            "termination": self.termination,
            "message": self.message,
            "objective": _num(self.objective),
            "cost": _num(self.cost),
            "bound": _num(self.bound),
            "gap": _num(self.gap),
            "solver": self.solver,
            "solve_seconds": _num(self.solve_seconds),
            "cost_cvar": _num(self.cost_cvar),
            "here_and_now_periods": list(self.here_and_now_periods),
        }
        out["scenario_costs"] = {
            str(k): {c: (v if isinstance(v, str) else _num(float(v))) for c, v in row.items()}
            for k, row in self.scenario_costs.iterrows()
        }
        out["scenario_results"] = {name: r.to_dict() for name, r in self.scenario_results.items()}
        return out
