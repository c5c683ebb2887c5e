"""What each business rule of a problem costs: the optimum without it minus the optimum with it.

A *rule* is a requirement the buyer sets, not a fact of the market: a vendor share cap, a
minimum number of vendors and the share that makes a vendor count, surviving the loss of a
vendor, the price and cap on concentration (HHI) and on disruption risk (CVaR), the vendors a
site may host, take-or-pay (a vendor's minimum spend), a vendor's spend cap, and the budgets.
`rule_costs(result)` removes each rule the problem states in turn — sets it to the loosest
value its field takes (`Rule.neutral`) — solves that problem again through the one pipeline
(`procure.resolve`: the kept model where only numbers change, warm from the result's plan,
which stays a plan when a rule is removed) and reports what the rule costs.  Removing a rule
never raises the optimum, so a rule's cost is never negative.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..base import fmt
from ..base.fmt import money
from ..base.hooks import provide
from ..core.pipeline import ModelState
from ..core.re_solve import minus, optimum, pipeline_for, resolve, start_lots
from ..problem.evaluate import evaluate, objective_of
from ..problem.fields import set_value
from ..problem.format import Problem

if TYPE_CHECKING:
    from ..core.result import Result

__all__ = ["COLUMNS", "NOTE", "TOKEN_SHARE", "Rule", "rule_costs", "rules_of", "without"]

#: Columns of the table `rule_costs` returns.
COLUMNS = [
    "rule",
    "description",
    "cost",
    "low",
    "high",
    "objective_with",
    "objective_without",
    "plan_cost_with",
    "plan_cost_without",
    "plan_cost_change",
    "status",
    "gap",
    "seconds",
]

NOTE = (
    "cost: the optimal objective with the rule minus the optimal objective without it (the table "
    "is sorted by it, dearest first); low–high: the interval the solvers' proved bounds leave for "
    "it (equal to cost when both solves are exact; never below 0, since removing a rule never "
    "raises the optimum). For a priced term (risk.hhi_weight, risk.risk_weight) the objective "
    "itself loses that term: plan_cost_change is what the plan spends on it in dollars of cost."
)

#: The share of demand that makes a vendor count once ``min_vendor_share`` is taken out: a token
#: presence.  Not less: a share within the solvers' tolerances of 0 (1e-9 of demand, say) would
#: let a vendor with no compute count in one model and not in another.
TOKEN_SHARE = 1e-3

#: Show a progress bar from this many rules on (when standard error is a terminal).
PROGRESS_FROM = 5


@dataclass(frozen=True)
class Rule:
    """A business rule a problem states: the field ``path``, what it says in words, and the
    value that removes it (the loosest the field takes)."""

    path: str
    description: str
    neutral: Any


def _pct(x: float) -> str:
    """A limit a person set, as a percentage shown exactly (``0.6`` → ``60%``)."""
    return fmt.share(x, None)


def rules_of(problem: Problem) -> list[Rule]:
    """Every business rule ``problem`` states, in a fixed order (vendors' share caps first,
    budgets last)."""
    return [*_share_rules(problem), *_risk_rules(problem), *_money_rules(problem)]


def _share_rules(problem: Problem) -> list[Rule]:
    """Caps and floors on vendors' shares and allocations."""
    risk = problem.risk
    out: list[Rule] = []
    for v in problem.vendors:
        if v.max_share is not None and v.max_share < 1.0:
            out.append(Rule(f"vendors[{v.name}].max_share", f"{v.name} share of compute ≤ {_pct(v.max_share)}", 1.0))
    if risk.max_share < 1.0:
        own = any(v.max_share is not None for v in problem.vendors)
        scope = "every other vendor's" if own else "every vendor's"
        out.append(Rule("risk.max_share", f"{scope} share of compute ≤ {_pct(risk.max_share)}", 1.0))
    for v in problem.vendors:
        if v.min_share > 0:
            out.append(Rule(f"vendors[{v.name}].min_share", f"{v.name} share of compute ≥ {_pct(v.min_share)}", 0.0))
        if v.max_new_compute is not None:
            out.append(
                Rule(f"vendors[{v.name}].max_new_compute", f"compute bought from {v.name} per period capped", None)
            )
    return out


def _risk_rules(problem: Problem) -> list[Rule]:
    """Vendor count, vendor-loss survival, concentration and disruption risk."""
    risk = problem.risk
    alpha = fmt.number(risk.cvar_alpha)
    share = _pct(risk.min_vendor_share)
    out: list[Rule] = []
    if risk.min_vendors > 0:
        out.append(Rule("risk.min_vendors", f"at least {risk.min_vendors} vendors each supply ≥ {share} of demand", 0))
        if risk.min_vendor_share > TOKEN_SHARE:
            words = f"a vendor counts toward min_vendors only with ≥ {share} of demand"
            out.append(Rule("risk.min_vendor_share", words, TOKEN_SHARE))
    if risk.survive_vendor_loss > 0:
        words = f"losing any one vendor leaves ≥ {_pct(risk.survive_vendor_loss)} of demand"
        out.append(Rule("risk.survive_vendor_loss", words, 0.0))
    if risk.hhi_weight > 0:
        out.append(Rule("risk.hhi_weight", f"concentration priced at {money(risk.hhi_weight)} per unit of HHI", 0.0))
    if risk.max_hhi is not None:
        out.append(Rule("risk.max_hhi", f"HHI ≤ {fmt.number(risk.max_hhi)} every period", None))
    if risk.risk_weight > 0:
        words = f"disruption risk priced at {fmt.number(risk.risk_weight)} × CVaR({alpha}) of the loss"
        out.append(Rule("risk.risk_weight", words, 0.0))
    if risk.max_cvar is not None:
        out.append(Rule("risk.max_cvar", f"CVaR({alpha}) of the loss ≤ {money(risk.max_cvar)}", None))
    return out


def _money_rules(problem: Problem) -> list[Rule]:
    """Sites' vendor lists, spend with vendors, and budgets."""
    out: list[Rule] = []
    for site in problem.sites:
        if site.vendors is not None:
            out.append(Rule(f"sites[{site.name}].vendors", f"{site.name} hosts only {', '.join(site.vendors)}", None))
    for v in problem.vendors:
        if v.min_spend > 0:
            out.append(Rule(f"vendors[{v.name}].min_spend", f"take-or-pay: {money(v.min_spend)} with {v.name}", 0.0))
        if v.max_spend is not None:
            out.append(Rule(f"vendors[{v.name}].max_spend", f"spend with {v.name} ≤ {money(v.max_spend)}", None))
    if problem.budget is not None:
        budget = np.asarray(problem.budget, dtype=float)
        low, high = money(budget.min()), money(budget.max())
        each = money(float(budget[0])) if np.all(budget == budget[0]) else f"{low}–{high}"
        out.append(Rule("budget", f"capex ≤ {each} per period", None))
    if problem.total_budget is not None:
        out.append(Rule("total_budget", f"capex and take-or-pay ≤ {money(problem.total_budget)} in all", None))
    return out


def without(problem: Problem, rule: Rule) -> Problem:
    """``problem`` with ``rule`` removed (its field set to the rule's neutral value)."""
    data = problem.to_dict()
    set_value(data, rule.path, rule.neutral)
    return Problem.from_dict(data)


def _bar(rules: list[Rule], progress: bool | None) -> Any:
    """``rules``, wrapped in a tqdm bar on standard error when asked (or, by default, when there
    are many and standard error is a terminal)."""
    from tqdm import tqdm

    show = progress if progress is not None else len(rules) >= PROGRESS_FROM and sys.stderr.isatty()
    return tqdm(rules, desc="rule costs", unit="rule", file=sys.stderr, disable=not show, leave=False)


def _row(rule: Rule, result: Result, problem: Problem, resolved: Result, seconds: float) -> dict[str, Any]:
    """One line of the table: the rule's cost and the interval the solves prove for it."""
    with_obj, with_bound = optimum(result)
    wo_obj, wo_bound, wo_cost = math.nan, math.nan, math.nan
    if resolved.has_plan:
        wo_obj, wo_bound, wo_cost = resolved.objective, resolved.bound, resolved.cost
    elif resolved.status == "infeasible":
        wo_obj, wo_bound = math.inf, math.inf
    ev = result.evaluation
    if result.has_plan and ev is not None:
        # the result's plan is a plan of the rule-less problem too: the optimum is at most its objective
        start = start_lots(result, problem)  # None unless the plan meets every constraint of problem
        if start is not None:
            placed = start * problem.inputs.lot[problem.inputs.offer_of][:, None]
            built = ev.built if ev.built.shape[0] == problem.inputs.n_builds else None
            mine = evaluate(problem, placed, ev.split, built)
            value = objective_of(problem, mine)
            if not value >= wo_obj:  # also when the re-solve found no plan (NaN)
                wo_obj, wo_cost = value, mine.cost
    cost = minus(with_obj, wo_obj)
    low = minus(with_bound, wo_obj) if not math.isnan(with_bound) else -math.inf
    high = minus(with_obj, wo_bound) if not math.isnan(wo_bound) else math.inf
    if math.isnan(cost):
        low = high = math.nan
    else:
        low = max(low, 0.0)  # removing a rule never raises the optimum: a fact, not an estimate
    return {
        "rule": rule.path,
        "description": rule.description,
        "cost": cost,
        "low": low,
        "high": high,
        "objective_with": with_obj,
        "objective_without": wo_obj,
        "plan_cost_with": result.cost,
        "plan_cost_without": wo_cost,
        "plan_cost_change": minus(result.cost, wo_cost),
        "status": resolved.status,
        "gap": resolved.gap,
        "seconds": seconds,
    }


@provide("rule_costs")
def rule_costs(result: Result, *, progress: bool | None = None, **solve_options: Any) -> pd.DataFrame:
    """What each business rule of ``result``'s problem costs, dearest first.

    For every rule the problem states — each vendor's share cap and ``risk.max_share``, each
    vendor's share floor (``min_share``) and allocation (``max_new_compute``),
    ``min_vendors`` and ``min_vendor_share``, ``survive_vendor_loss``, ``hhi_weight`` and
    ``max_hhi``, ``risk_weight`` and ``max_cvar``, each site's vendor list, each vendor's
    ``min_spend`` (take-or-pay) and ``max_spend``, ``budget`` and ``total_budget`` — the problem
    without it (`rules_of`, `without`) is solved again, through a kept model where only numbers
    change and warm from the result's plan, and the rule's cost is the optimal objective with it
    (the result's) minus the optimal objective without it.

    Parameters
    ----------
    result : Result
        The base: its problem, objective and proved bound.
    progress : bool, optional
        A progress bar on standard error; by default shown for five rules or more when standard
        error is a terminal.
    **solve_options
        As for `procure.solve` (default: the result's solver); ``time_limit`` applies to each
        re-solve.  Give ``mip_gap=0`` (and solve the result with it) for exact costs.

    Returns
    -------
    pandas.DataFrame
        One row per rule, sorted by ``cost`` (descending): ``rule`` (its path),
        ``description``, ``cost``, ``low`` and ``high`` (the interval the solves prove for the
        cost), ``objective_with``, ``objective_without``, ``plan_cost_with``,
        ``plan_cost_without``, ``plan_cost_change`` (the plans' cost, risk terms left out),
        ``status`` and ``gap`` of the re-solve, ``seconds``.  ``attrs["note"]`` says what the
        columns mean.  A rule-less problem whose optimum is not found is still bounded by the
        result's plan (a plan of it too), so ``cost`` is never negative.

    Raises
    ------
    ProblemError
        If an option is unknown or invalid.
    """
    pipeline = pipeline_for(result, solve_options, "rule_costs")
    rules = rules_of(result.problem)
    rows = []
    # the base problem's model, kept: a rule whose removal changes only numbers (a bound, a cost,
    # a coefficient) is solved in it, changed in place; the others get a model of their own
    # (a tree's extensive form is built for each rule: a rule is removed on every path)
    kept: ModelState | None = pipeline.open(result.problem) if rules and not result.problem.demand_scenarios else None
    for rule in _bar(rules, progress):
        started = time.perf_counter()
        problem = without(result.problem, rule)
        resolved, state = resolve(pipeline, problem, start_lots(result, problem), kept)
        if kept is not None and state.session is kept.session:
            kept = state
        rows.append(_row(rule, result, problem, resolved, time.perf_counter() - started))
    table = pd.DataFrame(rows, columns=COLUMNS)
    table = table.sort_values("cost", ascending=False, na_position="last", kind="stable").reset_index(drop=True)
    table.attrs["note"] = NOTE
    return table
