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

Contract v2.  Power builds are enumerated too: 0..floor(max_gw_t / block_gw)
whole blocks per site with a power_build and period (so every power_build needs
`block_gw` and a finite `max_gw`: NotImplementedError otherwise); unserved
demand needs no enumeration (the checker prices the least unserved amount of
each plan).  With demand scenarios the decisions of period t are made once per
node of the scenario tree (`spec.shared_history`: scenarios with equal demand
up to t share a node), so non-anticipativity holds by construction.  The
search recurses over the tree: a node tries each of its choices and, without a
scenario CVaR, each child subtree is minimized on its own (the objective
Σ_ω p_ω·objective_ω and every constraint separate over the leaves once the
history is fixed); with scenario_cvar_weight > 0 every combination is tried
(`limit` combinations at most, ValueError beyond).  Each scenario's plan along
its path is checked and priced once (memoized).  `brute_force_plan` returns
the builds as well: ``(objective, purchases, builds)`` in the forms of
`pulp_model.solve_reference_plan`.

Contract v3's vendor rules (`min_share`, `max_new_compute`) need no
enumeration of their own: `checker.violations` rejects the plans that break
them (a min_share floor may make the optimum buy beyond demand, which the
search covers up to `max_lots`).

Contract v3's capacity options are enumerated in full (their own bounds are small in
tiny problems): at the node of an option's reserve_period 0..floor(max_units/lot)
lots reserved, and in each period of its window 0..that many lots exercised, spread
over the sites hosting the offer's vendor in every way; `checker.violations` then
rejects a path whose exercises exceed its reservation.  As every decision, they are
made once per node of the scenario tree.  `brute_force_options_plan` also returns the
options, in the form of `pulp_model.ReferencePlan.options`.

The result is the true optimum only if every optimal plan buys at most
`max_lots` lots per (offer, period) — guaranteed when every offer has
max_units <= max_lots · lot_size in every period (as `strategies.tiny_problems`
ensures).  Meant for ≤ about 6 (offer, period) pairs, and with sites for ≤ 4
(`strategies.tiny_work` estimates the work).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any

from . import checker
from .spec import Offer, Option, Problem, Site, parse, scenario_problems, shared_history

# One node's decision: (per-site units of each offer ..., (GW,) of each build site ...,
# (units reserved, per-site units exercised) of each option ...).
Choice = tuple


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


def _build_domain(p: Problem, s: Site, t: int) -> list[float]:
    """GW of whole blocks a build may start at site s in period t (0..max_gw)."""
    pb = s.power_build
    if pb is None or pb.block_gw is None or pb.max_gw is None:
        raise NotImplementedError("brute force needs block_gw and a finite max_gw on every power_build")
    blocks = math.floor(pb.max_gw[p.periods[t]] / pb.block_gw + 1e-9)
    return [k * pb.block_gw for k in range(blocks + 1)]


def _option_domain(p: Problem, x: Option, t: int) -> list[tuple[float, tuple[float, ...]]]:
    """(units reserved, per-site units exercised) option `x` may choose in period index t."""
    o = p.option_offer(x)
    top = x.max_lots(o.lot_size)
    hosts = len(p.sites_for(o))
    reserve = range(top + 1) if p.periods[t] == x.reserve_period else [0]
    exercise = range(top + 1) if t in x.window(p.periods) else [0]
    spreads = [tuple(float(u * o.lot_size) for u in c) for lots in exercise for c in _spreads(lots, hosts)]
    return [(float(r * o.lot_size), e) for r in reserve for e in spreads]


def _search(p: Problem, max_lots: int, limit: int) -> tuple[float | None, dict[str, list[Choice]] | None]:
    """(least objective, {scenario: [choice per period]}) over the tree of decisions."""
    T = len(p.periods)
    hosts = {o.name: [s.name for s in p.sites_for(o)] for o in p.offers}
    build_sites = p.build_sites()
    domains: list[list[Choice]] = []
    for t in range(T):
        parts = [_domain(p, o, t, max_lots, len(hosts[o.name])) for o in p.offers]
        parts += [[(gw,) for gw in _build_domain(p, s, t)] for s in build_sites]
        parts += [_option_domain(p, x, t) for x in p.options]
        domains.append(list(itertools.product(*parts)))
    scen = scenario_problems(p)
    prob = {name: pr for name, pr, _ in scen}
    problem_of = {name: q for name, _, q in scen}
    groups = shared_history(p)
    memo: dict[tuple[str, tuple], tuple[float, float] | None] = {}
    # Scenarios with the same demand path are the same problem: one memo entry for all.
    first_with: dict[str, str] = {}
    same_as: dict[str, str] = {}
    for name, _, q in scen:
        key = repr(sorted(q.demand.items())) + repr(q.workloads)
        same_as[name] = first_with.setdefault(key, name)

    def evaluate(name: str, path: tuple[Choice, ...]) -> tuple[float, float] | None:
        """(cost, objective) of the scenario's plan along `path`, None if infeasible."""
        key = (same_as[name], path)
        if key in memo:
            return memo[key]
        q = problem_of[same_as[name]]
        b = {o.name: {s.name: [0.0] * T for s in q.sites} for o in q.offers}
        g = {s.name: [0.0] * T for s in q.sites}
        x = {opt.name: (0.0, {s.name: [0.0] * T for s in q.sites}) for opt in q.options}
        at = len(q.offers) + len(build_sites)
        for t, choice in enumerate(path):
            for o, units in zip(q.offers, choice):
                for site, u in zip(hosts[o.name], units):
                    b[o.name][site][t] = u
            for s, (gw,) in zip(build_sites, choice[len(q.offers) : at]):
                g[s.name][t] = gw
            for opt, (reserved, units) in zip(q.options, choice[at:]):
                if reserved:
                    x[opt.name] = (reserved, x[opt.name][1])
                for site, u in zip(hosts[opt.offer], units):
                    x[opt.name][1][site][t] = u
        if checker._violations(q, b, tol=1e-6, hhi_tol=0.0, first_only=True, g=g, x=x):
            memo[key] = None
        else:
            memo[key] = checker._cost_objective(q, b, g, x)
        return memo[key]

    at = len(p.offers) + len(build_sites)

    def over_reserved(h: tuple[Choice, ...]) -> bool:
        """Some option exercises more along `h` than it reserved (pruned; the checker would reject it)."""
        for j in range(len(p.options)):
            if sum(sum(c[at + j][1]) for c in h) > sum(c[at + j][0] for c in h):
                return True
        return False

    def children(t: int, group: list[str]) -> list[list[str]]:
        return [g for g in groups[t + 1] if g[0] in group]

    weight = p.risk.scenario_cvar_weight if p.demand_scenarios else 0.0
    if not weight:

        def best(t: int, group: list[str], path: tuple) -> tuple[float, dict[str, tuple] | None]:
            top, arg = math.inf, None
            for choice in domains[t]:
                h = (*path, choice)
                if p.options and over_reserved(h):
                    continue
                total, plan = 0.0, {}
                if t == T - 1:
                    for name in group:
                        r = evaluate(name, h)
                        if r is None:
                            total = math.inf
                            break
                        total += prob[name] * r[1]
                        plan[name] = h
                else:
                    for child in children(t, group):
                        value, sub = best(t + 1, child, h)
                        if sub is None:
                            total = math.inf
                            break
                        total += value
                        plan.update(sub)
                if total < top:
                    top, arg = total, plan
            return top, arg

        value, plan = 0.0, {}
        for root in groups[0]:  # scenarios that differ in period 0 already: one tree each
            v, sub = best(0, root, ())
            if sub is None:
                return None, None
            value += v
            plan.update(sub)
        return value, plan

    # With a scenario CVaR: every combination of node choices.
    nodes = [(t, tuple(g)) for t in range(T) for g in groups[t]]
    count = math.prod(len(domains[t]) for t, _ in nodes)
    if count > limit:
        raise ValueError(f"brute force would enumerate {count} combinations (> {limit})")
    alpha = p.risk.scenario_cvar_alpha
    names = [name for name, _, _ in scen]
    top, arg = math.inf, None
    for combo in itertools.product(*(domains[t] for t, _ in nodes)):
        at = dict(zip(nodes, combo))
        paths = {}
        values = []
        for name in names:
            h = tuple(at[t, next(tuple(g) for g in groups[t] if name in g)] for t in range(T))
            r = evaluate(name, h)
            if r is None:
                break
            paths[name] = h
            values.append(r)
        else:
            total = sum(prob[n] * obj for n, (_, obj) in zip(names, values))
            total += weight * checker.scenario_cvar_of(alpha, [prob[n] for n in names], [c for c, _ in values])
            if total < top:
                top, arg = total, paths
    return (None, None) if arg is None else (top, arg)


def _plan_forms(p: Problem, choices: list[Choice]) -> tuple[dict[str, Any], dict[str, dict[int, float]], dict]:
    """(purchases, builds, options) of one scenario's path in the forms of `pulp_model`."""
    hosts = {o.name: [s.name for s in p.sites_for(o)] for o in p.offers}
    purchases: dict[str, Any] = {}
    for i, o in enumerate(p.offers):
        by_site = {site: {} for site in hosts[o.name]}
        for t, choice in enumerate(choices):
            for site, u in zip(hosts[o.name], choice[i]):
                by_site[site][p.periods[t]] = u
        purchases[o.name] = by_site if p.has_sites else next(iter(by_site.values()), {})
    builds = {
        s.name: {p.periods[t]: choice[len(p.offers) + j][0] for t, choice in enumerate(choices)}
        for j, s in enumerate(p.build_sites())
    }
    at = len(p.offers) + len(p.build_sites())
    options: dict[str, Any] = {}
    for j, x in enumerate(p.options):
        by_site = {site: {} for site in hosts[x.offer]}
        reserved = 0.0
        for t, choice in enumerate(choices):
            r, units = choice[at + j]
            reserved += r
            for site, u in zip(hosts[x.offer], units):
                by_site[site][p.periods[t]] = u
        exercised = by_site if p.has_sites else next(iter(by_site.values()), {})
        options[x.name] = {"reserved": reserved, "exercised": exercised}
    return purchases, builds, options


def brute_force_options_plan(
    problem: Mapping[str, Any] | Problem, max_lots: int, limit: int = 200_000
) -> tuple[float | None, dict | None, dict | None, dict | None]:
    """(least objective, purchases, builds, options) over all feasible plans with <= max_lots lots
    per (offer, period) (and every admissible reservation and exercise of each option)."""
    p = parse(problem)
    value, plan = _search(p, max_lots, limit)
    if plan is None:
        return None, None, None, None
    if not p.demand_scenarios:
        return (value, *_plan_forms(p, list(plan[""])))
    forms = {name: _plan_forms(p, list(path)) for name, path in plan.items()}
    return value, *({n: f[k] for n, f in forms.items()} for k in range(3))


def brute_force_plan(
    problem: Mapping[str, Any] | Problem, max_lots: int, limit: int = 200_000
) -> tuple[float | None, dict | None, dict | None]:
    """(least objective, purchases, builds) over all feasible plans with <= max_lots lots per (offer, period)."""
    value, purchases, builds, _ = brute_force_options_plan(problem, max_lots, limit)
    return value, purchases, builds


def brute_force(problem: Mapping[str, Any] | Problem, max_lots: int) -> tuple[float | None, dict[str, Any] | None]:
    """Least objective over all feasible plans with <= max_lots lots per (offer, period)."""
    value, purchases, _ = brute_force_plan(problem, max_lots)
    return value, purchases
