"""Exhaustive search over purchase plans of tiny instances.

`brute_force(problem, max_lots)` tries every plan with 0..max_lots lots per
(offer, period) in total over the sites hosting the offer's vendor, every way of
spreading them over those sites (never above max_units, and 0 or >= min_order:
the purchase constraints applied early), keeps those `checker.violations`
accepts (with workloads: those for which some split exists, decided by the LP
of `checker.workload_feasible`), and returns ``(least objective, its plan)``,
or ``(None, None)`` if none is feasible.  The plan has the shape of
`pulp_model.solve_reference`'s: ``{offer: {period: units}}`` without sites,
``{offer: {site: {period: units}}}`` with sites.

The result is the true optimum only if every optimal plan buys at most
`max_lots` lots per (offer, period) — guaranteed when every offer has
max_units <= max_lots · lot_size in every period (as `strategies.tiny_problems`
ensures).  Meant for ≤ about 6 (offer, period) pairs, and with sites for ≤ 4.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from . import checker
from .spec import Offer, Problem, parse


def _spreads(lots: int, sites: int) -> list[tuple[int, ...]]:
    """Every way of putting `lots` lots on `sites` sites."""
    if sites == 0:
        return [()] if lots == 0 else []
    return [c for c in itertools.product(range(lots + 1), repeat=sites) if sum(c) == lots]


def _domain(p: Problem, o: Offer, t: int, max_lots: int, hosts: int) -> list[tuple[float, ...]]:
    """Admissible per-site unit vectors of offer `o` in period t."""
    period = p.periods[t]
    out = []
    for lots in range(max_lots + 1):
        units = lots * o.lot_size
        if o.max_units is not None and units > o.max_units[period]:
            break
        if 0 < units < o.min_order:
            continue
        out += [tuple(float(x * o.lot_size) for x in c) for c in _spreads(lots, hosts)]
    return out


def brute_force(problem: Mapping[str, Any] | Problem, max_lots: int) -> tuple[float | None, dict[str, Any] | None]:
    """Least objective over all feasible plans with <= max_lots lots per (offer, period)."""
    p = parse(problem)
    T = len(p.periods)
    hosts = {o.name: [s.name for s in p.sites_for(o)] for o in p.offers}
    keys = [(o, t) for o in p.offers for t in range(T)]
    domains = [_domain(p, o, t, max_lots, len(hosts[o.name])) for o, t in keys]
    best_obj: float | None = None
    best_plan: checker.SiteTable | None = None
    for choice in itertools.product(*domains):
        b = {o.name: {s.name: [0.0] * T for s in p.sites} for o in p.offers}
        for (o, t), units in zip(keys, choice):
            for site, u in zip(hosts[o.name], units):
                b[o.name][site][t] = u
        if checker._violations(p, b, tol=1e-6, hhi_tol=0.0, first_only=True):
            continue
        obj = checker._objective(p, b)
        if best_obj is None or obj < best_obj:
            best_obj, best_plan = obj, b
    if best_plan is None:
        return None, None
    if p.has_sites:
        plan: dict[str, Any] = {
            name: {s: dict(zip(p.periods, row)) for s, row in by_site.items() if s in hosts[name]}
            for name, by_site in best_plan.items()
        }
    else:
        plan = {name: dict(zip(p.periods, next(iter(by_site.values())))) for name, by_site in best_plan.items()}
    return best_obj, plan
