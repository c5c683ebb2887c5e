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
from typing import Any

import pandas as pd

from ..base.hooks import provide
from ..core.pipeline import ModelState
from ..core.re_solve import minus, optimum, pipeline_for, resolve, start_lots
from ..core.result import Outcome, Result
from ..problem.evaluate import evaluate, objective_of
from ..problem.fields import set_value
from ..problem.format import Problem
from ..problem.rules import RULES, TOKEN_SHARE, Removal

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

#: Show a progress bar from this many rules on (when standard error is a terminal).
PROGRESS_FROM = 5


#: A business rule a problem states: the field ``path``, what it says in words, and the value
#: that removes it (the loosest the field takes).
Rule = Removal


def rules_of(problem: Problem) -> list[Rule]:
    """Every business rule ``problem`` states, in the order of the rules' records
    (`procure.problem.rules.RULES`: the buyer's own rules first, budgets last)."""
    return [removal for record in RULES for removal in record.removed(problem)]


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


def _row(rule: Rule, result: Outcome, problem: Problem, resolved: Outcome, seconds: float) -> dict[str, Any]:
    """One line of the table: the rule's cost and the interval the solves prove for it."""
    with_obj, with_bound = optimum(result)
    wo_obj, wo_bound, wo_cost = math.nan, math.nan, math.nan
    if resolved.has_plan:
        wo_obj, wo_bound, wo_cost = resolved.objective, resolved.bound, resolved.cost
    elif resolved.status == "infeasible":
        wo_obj, wo_bound = math.inf, math.inf
    ev = result.evaluation if isinstance(result, Result) else None
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
def rule_costs(result: Outcome, *, progress: bool | None = None, **solve_options: Any) -> pd.DataFrame:
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
