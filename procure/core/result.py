"""`Result`: a solved plan, with its evaluation stored once and everything else derived from it.

A result holds the plan's `PlanEvaluation` (read-only arrays computed from the
problem, never from the model) and the solver's diagnostics.  Every table is
built from the evaluation when asked for and handed out as a new object, so
nothing a caller does to a returned frame changes `check()`, `cost` or any
other frame.  Text and JSON reports live in `procure.report`.
"""

from __future__ import annotations

import math
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..base.errors import ProblemError
from ..base.hooks import provided
from ..base.limits import REQUIREMENT_TOL
from ..base.status import Status, Termination
from ..model.risk import HHI_TOL
from ..problem.evaluate import OptionPlan, PlanEvaluation, evaluate, objective_of, violations
from ..problem.format import Problem
from ..problem.io import write_json
from ..problem.validate import NOMINAL

if TYPE_CHECKING:
    from ..analysis.explain import Diagnosis
    from ..analysis.option_value import OptionValue
    from ..analysis.sensitivity import MarginalValue, Sensitivity
    from ..report.plot import ResultPlot

__all__ = ["BREAKDOWN", "ExtraRows", "Outcome", "Result", "make_result"]

BREAKDOWN = ["capex", "opex", "energy", "onboarding", "take_or_pay", "facility", "unserved", "total"]


@dataclass(frozen=True)
class ExtraRows:
    """Rows a caller added to the formulation (``solve(..., extra=fn)``), so that
    `Result.check` verifies them too.

    They are evaluated at the plan under check: its lots, vendor compute and
    workload split take the plan's own values; any other column the rows use
    (one the caller added, say) keeps its value ``x`` in the solution."""

    names: tuple[str, ...]
    A: sp.csr_matrix
    lower: np.ndarray
    upper: np.ndarray
    x: np.ndarray
    lots: np.ndarray  # (P, T) column ids
    lot: np.ndarray  # (P,) lot size of each placement
    compute: np.ndarray  # (V, T) column ids
    split: np.ndarray | None  # (I, W, T) column ids, −1 where none

    def at(self, ev: PlanEvaluation) -> np.ndarray:
        """The solution vector with the plan's own decisions in it."""
        x = self.x.copy()
        x[self.lots] = ev.placed / self.lot[:, None]
        x[self.compute] = ev.compute_by_vendor
        if self.split is not None and ev.split is not None:
            has = self.split >= 0
            x[self.split[has]] = ev.split[has]
        return x

    def violations(self, ev: PlanEvaluation, tol: float = REQUIREMENT_TOL) -> list[str]:
        """The rows the plan of ``ev`` breaks, in words."""
        value = self.A @ self.at(ev)
        finite = [np.where(np.isfinite(b), np.abs(b), 0.0) for b in (self.lower, self.upper)]
        size = np.maximum(*finite)
        slack = tol * np.maximum(1.0, size)
        out = [
            f"{self.names[r]}: {value[r]:.6g} < {self.lower[r]:.6g}" for r in np.flatnonzero(value < self.lower - slack)
        ]
        high = np.flatnonzero(value > self.upper + slack)
        return out + [f"{self.names[r]}: {value[r]:.6g} > {self.upper[r]:.6g}" for r in high]


@dataclass(frozen=True)
class Outcome(ABC):
    """What every answer of `procure.solve` states: a single plan's (`Result`) or a demand
    tree's (`procure.stochastic.tree_result.TreeResult`, a `Result` per path).

    The fields below are common to both; so are the conveniences that work on either
    (JSON, Excel and CSV, ``explain``, ``sensitivity``, ``marginal_value``,
    ``rule_costs``).  Each kind states its own plan, tables, check and reports.

    Attributes
    ----------
    status : Status
        A `procure.base.status.Status`, a string enum equal to its word:
        ``"optimal"`` (proved within ``mip_gap`` for a bound the solver proved),
        ``"feasible"`` (a plan, e.g. at the time limit, or a bound that could
        not be established), ``"infeasible"``, ``"unbounded"`` or ``"error"``.
    termination : Termination
        Why the solver stopped (a `procure.base.status.Termination`, equal to its word):
        ``"optimal"``, ``"gap_reached"``, ``"time_limit"``, ``"node_limit"``, ``"infeasible"``, ``"unbounded"``,
        ``"infeasible_or_unbounded"``, ``"interrupted"``, ``"inconsistent"``,
        ``"numerical"``, … (see `procure.base.status.TERMINATIONS`).
    objective : float
        Cost plus risk terms of the plan (NaN without a plan), recomputed from the problem.
    cost : float
        Cost of the plan, recomputed from the problem: discounted capex,
        opex and energy, plus onboarding and take-or-pay.
    bound : float
        A lower bound on the optimal objective that the solver proved for the
        model it solved (NaN when none could be established).
    gap : float
        ``(objective − bound) / |objective|`` (NaN without a bound).
    solve_seconds : float
        Wall time of the whole call (build, solver, result).
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
    bound: float
    gap: float
    solve_seconds: float
    solver: str
    message: str
    problem: Problem = field(repr=False)
    termination: str = ""
    model_size: Mapping[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # one vocabulary (procure.base.status): str enums, equal to their words
        object.__setattr__(self, "status", Status(self.status))
        object.__setattr__(self, "termination", Termination(self.termination))

    @property
    @abstractmethod
    def has_plan(self) -> bool:
        """True when the answer holds a plan (status optimal or feasible)."""

    @property
    @abstractmethod
    def extra_rows(self) -> ExtraRows | None:
        """The rows of the caller's own (``extra``) the plan was solved with, if any."""

    @abstractmethod
    def check(self, tol: float = REQUIREMENT_TOL) -> list[str]:
        """Every constraint the plan breaks, re-verified from the problem: empty when valid."""

    @abstractmethod
    def summary(self) -> str:
        """A short readable report."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready mapping of the answer (NaN becomes ``None``)."""

    # ------------------------------------------------------------------ what every answer tabulates
    # (a tree's tables stack its paths' with a leading scenario level, or a scenario column)

    @property
    @abstractmethod
    def purchases(self) -> pd.DataFrame:
        """Units bought, by period and offer."""

    @property
    @abstractmethod
    def fleet(self) -> pd.DataFrame:
        """Operational units, by period and offer."""

    @property
    @abstractmethod
    def compute_by_vendor(self) -> pd.DataFrame:
        """Operational compute, by period and vendor."""

    @property
    @abstractmethod
    def shares(self) -> pd.DataFrame:
        """Each vendor's share of operational compute, by period."""

    @property
    @abstractmethod
    def compute(self) -> pd.Series:
        """Operational compute per period."""

    @property
    @abstractmethod
    def power_gw(self) -> pd.Series:
        """Facility power per period (GW)."""

    @property
    @abstractmethod
    def spend(self) -> pd.Series:
        """Undiscounted capex per period."""

    @property
    @abstractmethod
    def spend_by_vendor(self) -> pd.DataFrame:
        """Undiscounted capex by period and vendor."""

    @property
    @abstractmethod
    def site_power_gw(self) -> pd.DataFrame:
        """Facility power by period and site (GW)."""

    @property
    @abstractmethod
    def power_build(self) -> pd.DataFrame:
        """GW of power started, by period and site."""

    @property
    @abstractmethod
    def power_capacity_gw(self) -> pd.DataFrame:
        """Power usable, by period and site (GW)."""

    @property
    @abstractmethod
    def unserved(self) -> pd.Series:
        """Demand not served per period."""

    @property
    @abstractmethod
    def hhi(self) -> pd.Series:
        """Concentration (HHI) of compute per period."""

    @property
    @abstractmethod
    def shortfall(self) -> pd.DataFrame:
        """Demand not met in each disruption scenario, by period."""

    @property
    @abstractmethod
    def cost_breakdown(self) -> pd.DataFrame:
        """The cost's parts per period."""

    @property
    @abstractmethod
    def scenarios(self) -> pd.DataFrame:
        """Each disruption scenario's probability, shortfall and loss."""

    @property
    @abstractmethod
    def options(self) -> pd.DataFrame:
        """Capacity options reserved and exercised."""

    @property
    @abstractmethod
    def by_site(self) -> pd.DataFrame:
        """The plan per site, offer and period (a long table)."""

    @property
    @abstractmethod
    def split(self) -> pd.DataFrame:
        """Units running each workload (a long table)."""

    @property
    @abstractmethod
    def cvar(self) -> float:
        """CVaR of the disruption loss."""

    @property
    @abstractmethod
    def expected_loss(self) -> float:
        """Probability-weighted disruption loss."""

    @property
    @abstractmethod
    def plot(self) -> ResultPlot:
        """Plots of the plan (see `procure.report.plot`; needs matplotlib)."""

    def report(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        sensitivity: bool = False,
        rule_costs: bool = False,
        time_limit: float = 60.0,
    ) -> str:
        """A self-contained HTML report (plots embedded, no scripts); written to ``path`` if
        given.  See `procure.report.html.report`."""
        return str(
            provided("report")(self, path, sensitivity=sensitivity, rule_costs=rule_costs, time_limit=time_limit)
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={str(self.status)!r}, objective={self.objective:.6g}, "
            f"cost={self.cost:.6g}, gap={self.gap:.3g}, termination={str(self.termination)!r}, "
            f"solver={self.solver!r}, solve_seconds={self.solve_seconds:.3g})"
        )

    def to_json(self, path: str | os.PathLike[str] | None = None, *, indent: int = 2) -> str:
        """The answer as JSON text; written to ``path`` if given."""
        return write_json(self.to_dict(), path, indent)

    def to_excel(self, path: str | os.PathLike[str]) -> None:
        """Write the answer as an Excel workbook, one sheet per table (see `procure.report.excel`)."""
        provided("to_excel")(self, path)

    def to_csv(self, path: str | os.PathLike[str] | None = None) -> str:
        """The plan as one long CSV table, a row per period, site and offer (see
        `procure.report.excel.plan_table`); written to ``path`` if given."""
        return str(provided("to_csv")(self, path))

    def _repr_html_(self) -> str:
        return str(provided("result_html")(self))

    # ------------------------------------------------------------------ why and what if

    def explain(self, *, fixed: Sequence[str] = (), **solve_options: Any) -> Diagnosis:
        """Why this problem has no plan: the requirements in conflict and the repairs that
        would each give a plan (see `procure.explain`)."""
        return provided("explain")(self.problem, fixed=fixed, **self._options(solve_options))

    def sensitivity(self, **solve_options: Any) -> Sensitivity:
        """Shadow prices of the plan in business units, with its whole lots fixed (local
        values; see `procure.analysis.sensitivity.sensitivity`)."""
        return provided("sensitivity")(self, **self._options(solve_options))

    def marginal_value(self, changes: Mapping[str, Any], **solve_options: Any) -> MarginalValue:
        """What a finite change of the problem is worth: ``changes`` maps paths to amounts
        added (``{"power_cap_gw": {"2027": 0.1}}``); re-solved, not extrapolated."""
        return provided("marginal_value")(self, changes, **self._options(solve_options))

    def option_value(self, name: str, **solve_options: Any) -> OptionValue:
        """What capacity option ``name`` saves: the optimum without it minus the optimum with
        it (this answer's), with the interval the two solves prove (see
        `procure.analysis.option_value.option_value`)."""
        return provided("option_value")(self, name, **self._options(solve_options))

    def rule_costs(self, **solve_options: Any) -> pd.DataFrame:
        """What each business rule of the problem costs: the optimum without it minus the
        optimum with it, one row per rule, sorted by cost (see `procure.analysis.rule_costs.rule_costs`)."""
        return provided("rule_costs")(self, **self._options(solve_options))

    def _options(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Solve options for re-solves: the caller's, else this answer's solver."""
        options = dict(given)
        if self.solver and "solver" not in options:
            options["solver"] = self.solver
        return options


@dataclass(frozen=True, repr=False)
class Result(Outcome):
    """The answer of `procure.solve` for a problem without demand scenarios: one plan.

    Besides `Outcome`'s fields (status, termination, objective, cost, bound, gap,
    solve_seconds, solver, message, problem, model_size):

    Attributes
    ----------
    evaluation : PlanEvaluation or None
        The plan and its consequences (read-only arrays); None without a plan.

    Tables (each access returns a new object; see the properties): ``purchases``,
    ``fleet``, ``compute_by_vendor``, ``compute``, ``power_gw``, ``shares``,
    ``cost_breakdown``, ``spend``, ``spend_by_vendor``, ``site_power_gw``,
    ``hhi``, ``shortfall``, ``scenarios``, ``by_site``, ``split``, ``power_build``,
    ``power_capacity_gw``, ``unserved``; numbers
    ``cvar`` and ``expected_loss``.
    """

    evaluation: PlanEvaluation | None = field(default=None, repr=False)
    extra_rows: ExtraRows | None = field(default=None, repr=False)

    @property
    def has_plan(self) -> bool:
        """True when the result holds a plan (status optimal or feasible)."""
        return self.evaluation is not None and self.status in (Status.OPTIMAL, Status.FEASIBLE)

    # ------------------------------------------------------------------ tables

    def _index(self) -> pd.Index:
        periods = pd.Index(self.problem.periods, name="period")
        return periods if self.evaluation is not None else periods[:0]

    def _by_period(self, values: np.ndarray | None, columns: pd.Index, *, whole: bool = False) -> pd.DataFrame:
        """(columns, T) values as a periods × columns frame (empty without a plan)."""
        if values is None or self.evaluation is None:
            return pd.DataFrame(index=self._index(), columns=columns, dtype=float)
        data = _whole(values.T) if whole else np.array(values.T, dtype=float)
        return pd.DataFrame(data, index=self._index(), columns=columns)

    def _series(self, values: np.ndarray | None, name: str) -> pd.Series:
        if values is None or self.evaluation is None:
            return pd.Series(index=self._index(), dtype=float, name=name)
        return pd.Series(np.array(values, dtype=float), index=self._index(), name=name)

    def _ev(self, name: str) -> np.ndarray | None:
        return None if self.evaluation is None else getattr(self.evaluation, name)

    @property
    def purchases(self) -> pd.DataFrame:
        """Units bought: index = periods, one column per offer (no rows without a plan)."""
        return self._by_period(self._ev("purchases"), _offers(self.problem), whole=True)

    @property
    def options(self) -> pd.DataFrame:
        """Capacity options: one row per option (index ``option``) with its ``offer``, units
        ``reserved``, units ``exercised`` in all, and units exercised in each period (one
        column per period); empty without options or without a plan."""
        names = pd.Index([o.name for o in self.problem.options], name="option")
        periods = list(self.problem.periods)
        columns = ["offer", "reserved", "exercised", *periods]
        ev = self.evaluation
        if ev is None or not len(names):
            return pd.DataFrame(index=names[:0], columns=columns)
        by_period = _whole(ev.exercised.sum(axis=1))  # (O, T) over sites
        table = pd.DataFrame(by_period, index=names, columns=periods)
        table.insert(0, "exercised", by_period.sum(axis=1))
        table.insert(0, "reserved", _whole(ev.reserved))
        table.insert(0, "offer", [o.offer for o in self.problem.options])
        return table

    @property
    def fleet(self) -> pd.DataFrame:
        """Operational units ``n[i,t]``, same shape as ``purchases``."""
        return self._by_period(self._ev("fleet"), _offers(self.problem), whole=True)

    @property
    def compute_by_vendor(self) -> pd.DataFrame:
        """Operational compute: index = periods, one column per vendor."""
        return self._by_period(self._ev("compute_by_vendor"), _vendors(self.problem))

    @property
    def shares(self) -> pd.DataFrame:
        """Each vendor's share of operational compute (0 where the total is 0)."""
        ev = self.evaluation
        return self._by_period(None if ev is None else ev.shares, _vendors(self.problem))

    @property
    def compute(self) -> pd.Series:
        """Total operational compute per period."""
        return self._series(self._ev("compute"), "compute")

    @property
    def power_gw(self) -> pd.Series:
        """Facility power (PUE × IT power) per period over all sites, GW."""
        return self._series(self._ev("power_gw"), "power_gw")

    @property
    def spend(self) -> pd.Series:
        """Capex paid per period, undiscounted (what ``budget`` caps)."""
        return self._series(self._ev("spend"), "spend")

    @property
    def spend_by_vendor(self) -> pd.DataFrame:
        """Undiscounted capex per period and vendor (what ``min_spend``/``max_spend`` sum)."""
        return self._by_period(self._ev("spend_by_vendor"), _vendors(self.problem))

    @property
    def site_power_gw(self) -> pd.DataFrame:
        """Facility power per period and site, GW (one column ``""`` without sites)."""
        sites = pd.Index(self.problem.site_names or ("",), name="site")
        return self._by_period(self._ev("site_power_gw"), sites)

    @property
    def power_build(self) -> pd.DataFrame:
        """GW of facility power whose build starts per period and site (one column ``""``
        without sites; only the sites that can build; no columns without ``power_build``)."""
        inputs = self.problem.inputs
        names = self.problem.site_names or ("",)
        sites = pd.Index([names[s] for s in inputs.build_site], name="site")
        return self._by_period(self._ev("built"), sites)

    @property
    def power_capacity_gw(self) -> pd.DataFrame:
        """The power cap of each period and site that can build: the given cap plus the built GW
        that are ready (columns as `power_build`)."""
        inputs = self.problem.inputs
        names = self.problem.site_names or ("",)
        sites = pd.Index([names[s] for s in inputs.build_site], name="site")
        ready = self._ev("ready")
        if ready is None:
            return self._by_period(None, sites)
        top = inputs.power_cap_gw if inputs.power_cap_gw is not None else np.zeros(ready.shape[1])
        given = inputs.site_cap_gw[inputs.build_site] if self.problem.sites else top
        return self._by_period(np.broadcast_to(given, ready.shape) + ready, sites)

    @property
    def unserved(self) -> pd.Series:
        """Demand not served per period (paid at ``unserved_penalty``; 0 without one)."""
        return self._series(self._ev("unserved"), "unserved")

    @property
    def hhi(self) -> pd.Series:
        """Exact Herfindahl index per period, Σ_v (C[v,t] / demand_t)² (NaN where demand is 0)."""
        return self._series(self._ev("hhi"), "hhi")

    @property
    def shortfall(self) -> pd.DataFrame:
        """Demand not met per scenario: index = periods, one column per scenario."""
        names = pd.Index([sc.name for sc in self.problem.risk.scenarios], name="scenario")
        return self._by_period(self._ev("shortfall"), names)

    @property
    def cost_breakdown(self) -> pd.DataFrame:
        """Present value of each period's part of ``cost``: ``capex``, ``opex``, ``energy``,
        ``onboarding`` (in the period of the vendor's first purchase), ``take_or_pay``
        (due as in the first period), ``facility`` (power builds), ``unserved`` (the penalty
        of demand not served) and ``total``."""
        ev = self.evaluation
        if ev is None:
            return pd.DataFrame(index=self._index(), columns=BREAKDOWN, dtype=float)
        take_or_pay = np.zeros(len(ev.spend))
        take_or_pay[0] = ev.take_or_pay.sum()
        parts = np.column_stack(
            [ev.capex, ev.opex, ev.energy, ev.onboarding, take_or_pay, ev.facility, ev.unserved_cost]
        )
        return pd.DataFrame(np.column_stack([parts, parts.sum(axis=1)]), index=self._index(), columns=BREAKDOWN)

    @property
    def cvar(self) -> float:
        """CVaR of the scenario loss at ``risk.cvar_alpha`` (0 without scenarios; NaN without a plan)."""
        return math.nan if self.evaluation is None else self.evaluation.cvar

    @property
    def expected_loss(self) -> float:
        """Probability-weighted scenario loss (NaN without a plan)."""
        return math.nan if self.evaluation is None else self.evaluation.expected_loss

    @property
    def scenarios(self) -> pd.DataFrame:
        """One row per scenario (and ``nominal``): ``probability`` and ``loss``."""
        listed = self.problem.risk.scenarios
        probability = [sc.probability for sc in listed]
        index = pd.Index([*(sc.name for sc in listed), NOMINAL], name="scenario")
        ev = self.evaluation
        loss = [*ev.scenario_loss, 0.0] if ev is not None else math.nan
        return pd.DataFrame(
            {"probability": [*probability, max(1.0 - sum(probability), 0.0)], "loss": loss}, index=index
        )

    @property
    def by_site(self) -> pd.DataFrame:
        """Long table, one row per period, site and offer: ``bought`` and ``fleet`` units
        (site ``""`` without sites)."""
        ev = self.evaluation
        columns = ["period", "site", "offer", "bought", "fleet"]
        if ev is None:
            return pd.DataFrame(columns=columns)
        inputs = self.problem.inputs
        sites = np.array(self.problem.site_names or ("",), dtype=object)
        offers = np.array(self.problem.offer_names, dtype=object)
        P, T = ev.placed.shape
        return pd.DataFrame(
            {
                "period": np.tile(np.asarray(self.problem.periods), P),
                "site": np.repeat(sites[inputs.site_of], T),
                "offer": np.repeat(offers[inputs.offer_of], T),
                "bought": _whole(ev.placed).ravel(),
                "fleet": _whole(ev.placed_fleet).ravel(),
            },
            columns=columns,
        )

    @property
    def split(self) -> pd.DataFrame:
        """With workloads: long table of the units of each offer running each workload per
        period (``units`` and the ``compute`` they deliver); rows with units only."""
        columns = ["period", "workload", "offer", "units", "compute"]
        ev, problem = self.evaluation, self.problem
        if ev is None or ev.split is None or problem.workloads is None:
            return pd.DataFrame(columns=columns)
        inputs = problem.inputs
        i, w, t = np.nonzero(ev.split > 1e-9)
        units = ev.split[i, w, t]
        return pd.DataFrame(
            {
                "period": np.asarray(problem.periods)[t],
                "workload": np.array(list(problem.workloads), dtype=object)[w],
                "offer": np.array(problem.offer_names, dtype=object)[i],
                "units": units,
                "compute": units * inputs.compute[i] * inputs.efficiency[i, w],
            },
            columns=columns,
        ).sort_values(["period", "workload", "offer"], ignore_index=True)

    # ------------------------------------------------------------------ checks

    def check(self, tol: float = REQUIREMENT_TOL) -> list[str]:
        """Re-verify the plan against every constraint of the problem (and the rows a
        caller added with ``extra``).

        The plan is re-evaluated from the problem's fields, independently of
        the optimization model.  Returns one line per violated constraint: an
        empty list means the plan is valid.

        Raises
        ------
        ProblemError
            When the result has no plan to check (status ``"infeasible"``,
            ``"unbounded"`` or ``"error"``): an empty list would read as "every
            constraint holds".  ``result.has_plan`` tells beforehand.
        """
        if self.evaluation is None:
            raise ProblemError(
                f"check: the result has no plan to check (status {self.status!r}; its message says why)",
                path="status",
                value=self.status,
            )
        ev = evaluate(
            self.problem,
            self.evaluation.placed,
            self.evaluation.split,
            self.evaluation.built,
            (self.evaluation.reserved, self.evaluation.exercised),
        )
        found = violations(self.problem, ev, tol, hhi_tol=HHI_TOL)
        if self.extra_rows is not None:
            found += self.extra_rows.violations(ev, tol)
        if not math.isclose(ev.cost, self.cost, rel_tol=1e-9, abs_tol=1e-6):
            found.append(f"cost: reported {self.cost:.10g} but the plan costs {ev.cost:.10g}")
        objective = objective_of(self.problem, ev)
        if not math.isclose(objective, self.objective, rel_tol=1e-9, abs_tol=1e-6):
            found.append(f"objective: reported {self.objective:.10g} but the plan's is {objective:.10g}")
        return found

    # ------------------------------------------------------------------ reports

    def summary(self) -> str:
        """A short readable report of the plan."""
        return str(provided("summary")(self))

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready mapping of the result (NaN becomes ``None``)."""
        return dict(provided("to_dict")(self))

    @property
    def plot(self) -> ResultPlot:
        """Plots of the plan: ``.compute()``, ``.power()``, ``.cost()``, ``.shares()`` (see
        `procure.report.plot.ResultPlot`; needs matplotlib)."""
        return provided("result_plot")(self)


def _offers(problem: Problem) -> pd.Index:
    return pd.Index(problem.offer_names, name="offer")


def _vendors(problem: Problem) -> pd.Index:
    return pd.Index(problem.vendor_names, name="vendor")


def _whole(values: np.ndarray) -> np.ndarray:
    """Whole units as int64; a value beyond int64 (impossible within the supported ranges) is an error."""
    rounded = np.round(values)
    if rounded.size and np.abs(rounded).max() >= 2.0**63:
        raise OverflowError(f"{np.abs(rounded).max():.3g} units do not fit a 64-bit integer")
    return rounded.astype(np.int64)


def make_result(
    problem: Problem,
    status: str,
    placed: np.ndarray | None,
    split: np.ndarray | None = None,
    *,
    bound: float = math.nan,
    gap: float | None = None,
    seconds: float = 0.0,
    solver: str = "",
    message: str = "",
    termination: str = "",
    model_size: Mapping[str, int] | None = None,
    extra_rows: ExtraRows | None = None,
    built: np.ndarray | None = None,
    options: OptionPlan | None = None,
) -> Result:
    """Build a `Result` from a plan ((P, T) units bought per placement, the workload split
    where the problem has workloads, the (B, T) GW of power started where it builds power)
    or from no plan.  ``gap`` defaults to the plan's objective against ``bound``."""
    ev = evaluate(problem, placed, split, built, options) if placed is not None else None
    cost = ev.cost if ev is not None else math.nan
    objective = objective_of(problem, ev) if ev is not None else math.nan
    if gap is None:
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
        termination=termination,
        model_size=dict(model_size or {}),
        evaluation=ev,
        extra_rows=extra_rows,
    )
