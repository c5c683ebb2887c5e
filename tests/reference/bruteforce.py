"""Exhaustive search over purchase plans of tiny instances.

`brute_force(problem, max_lots)` tries every plan with 0..max_lots lots per
(offer, period) (never above max_units, and 0 or >= min_order, which is just the
purchase constraint applied early), keeps those `checker.violations` accepts,
and returns ``(least objective, its plan)``, or ``(None, None)`` if none is
feasible.

The result is the true optimum only if every optimal plan buys at most
`max_lots` lots per (offer, period) — guaranteed when every offer has
max_units <= max_lots · lot_size in every period (as `strategies.tiny_problems`
ensures).  Meant for ≤ about 6 (offer, period) pairs.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from . import checker
from .spec import Problem, parse


def _domain(p: Problem, name: str, t: int, max_lots: int) -> list[float]:
    o = next(o for o in p.offers if o.name == name)
    period = p.periods[t]
    out = []
    for lots in range(max_lots + 1):
        units = lots * o.lot_size
        if o.max_units is not None and units > o.max_units[period]:
            break
        if 0 < units < o.min_order:
            continue
        out.append(float(units))
    return out


def brute_force(
    problem: Mapping[str, Any] | Problem, max_lots: int
) -> tuple[float | None, dict[str, dict[int, float]] | None]:
    """Least objective over all feasible plans with <= max_lots lots per (offer, period)."""
    p = parse(problem)
    keys = [(o.name, t) for o in p.offers for t in range(len(p.periods))]
    domains = [_domain(p, name, t, max_lots) for name, t in keys]
    best_obj: float | None = None
    best_plan: dict[str, list[float]] | None = None
    for choice in itertools.product(*domains):
        b = {o.name: [0.0] * len(p.periods) for o in p.offers}
        for (name, t), units in zip(keys, choice):
            b[name][t] = units
        if checker._violations(p, b, tol=1e-6, hhi_tol=0.0, first_only=True):
            continue
        obj = checker._objective(p, b)
        if best_obj is None or obj < best_obj:
            best_obj, best_plan = obj, b
    if best_plan is None:
        return None, None
    return best_obj, {name: dict(zip(p.periods, row)) for name, row in best_plan.items()}
