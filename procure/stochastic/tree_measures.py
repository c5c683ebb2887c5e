"""Measures of a scenario tree's plans that need no solve: the CVaR of the paths' costs, the tree's
objective and non-anticipativity (a decision that differs between paths not yet told apart)."""

from __future__ import annotations

import numpy as np

from ..base.limits import REQUIREMENT_TOL
from ..problem.evaluate import PlanEvaluation
from ..problem.format import Problem
from ..problem.tree import ScenarioTree

__all__ = ["nonanticipativity_violations", "scenario_cvar", "tree_objective"]


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


def nonanticipativity_violations(
    tree: ScenarioTree, evaluations: list[PlanEvaluation], tol: float = REQUIREMENT_TOL
) -> list[str]:
    """Decisions of period ``t`` (purchases per placement, power builds, options reserved and
    exercised) that differ between paths whose demand is equal up to ``t``: one line each."""
    out = []
    periods = tree.problems[0].periods
    for s in range(tree.n_paths):
        for t in range(len(periods)):
            r = int(tree.representative[s, t])
            if r == s:
                continue
            reserve_t = tree.problems[s].inputs.option_reserve_t
            mine, theirs = decided_in(evaluations[s], reserve_t, t), decided_in(evaluations[r], reserve_t, t)
            for what in mine:
                a, b = mine[what], theirs[what]
                if a.size and np.abs(a - b).max() > tol * max(1.0, float(np.abs(b).max())):
                    out.append(
                        f"non-anticipativity[{tree.names[s]},{periods[t]}]: {what} differ from {tree.names[r]}'s,"
                        " whose demand is the same up to this period"
                    )
    return out


def decided_in(ev: PlanEvaluation, reserve_t: np.ndarray, t: int) -> dict[str, np.ndarray]:
    """What a path decides in period ``t``: purchases per placement, power builds, units
    exercised through options, and the reservations of options reserved in ``t``."""
    reserving = np.flatnonzero(reserve_t == t)
    return {
        "purchases": ev.placed[:, t],
        "power builds": ev.built[:, t],
        "options exercised": ev.exercised[:, :, t].ravel(),
        "reservations": ev.reserved[reserving],
    }
