"""Evaluate a purchase plan against the spec's model (contracts v1, v2 and v3).

Every public function takes the raw problem dict (or an already parsed
`spec.Problem`) and a purchase plan, which is one of

- a dict ``{offer_name: {period: units}}`` (missing entries are 0; period keys
  may be ints or strings such as "2026") -- for problems without `sites`
  (or with exactly one site);
- with `sites`: a dict ``{offer_name: {site: {period: units}}}``;
- a pandas DataFrame with index = periods and one column per offer (as
  `result.purchases`; problems without sites or with one site);
- a pandas DataFrame in long form with columns ``period``, ``offer``,
  ``bought`` and (with sites) ``site``; other columns (e.g. ``fleet``) are
  ignored (as `result.by_site`).

With `workloads`, `violations` also takes an optional `split`
``{offer: {workload: {period: units}}}`` (the continuous x[i,w,t]); without
it, whether some split exists is decided by a small LP per period
(`workload_feasible`).

Contract v2 ("Unserved demand", "Power build-out", "Demand scenarios"):

- `builds` (keyword of `violations`, `cost`, `objective`, `scenario_costs`, ...):
  GW whose build starts in each period, ``{site: {period: GW}}`` (site "" =
  `IMPLICIT_SITE` without `sites`, where a flat ``{period: GW}`` is accepted
  too), or a DataFrame with index = periods and one column per site (without
  sites: column "", or any single column).  Missing entries are 0; None = no
  builds.  A build at a site without `power_build` is a violation.
- With `demand_scenarios` a plan is given per scenario: purchases as
  ``{scenario: plan}`` (each plan in any form above; a scenario left out buys
  nothing), a wide DataFrame with a (scenario, period) MultiIndex and one
  column per offer, or a long DataFrame with a ``scenario`` column (plus
  period, offer, bought[, site]); builds as ``{scenario: builds}`` or a
  DataFrame with a (scenario, period) MultiIndex; split as ``{scenario: split}``.
  Functions giving one value per plan (fleet, hhi, unserved, ...) then give
  ``{scenario: value}``; `cost` is Σ_ω p_ω·cost_ω and `objective` is
  Σ_ω p_ω·objective_ω + scenario_cvar_weight·CVaR(cost_ω).  Violation messages
  of a scenario start with "scenario[<name>]: "; non-anticipativity messages
  name both scenarios.

Contract v3 ("two vendor rules"): `violations` reports `min_share[period][v]`
(C[v,t] < min_share_v·C[t] in a period whose total demand is > 0; on each
demand path with its own demand) and `max_new_compute[period][v]` (compute
bought from v in the period, summed over sites and counted in the period of
purchase, above the allocation); `new_compute_by_vendor` gives the latter's
left-hand side.

Contract v3 ("capacity options"): the plan's options are the keyword `options` of
`violations`, `cost`, `objective` (and the other functions that take it):
``{option: {"reserved": units, "exercised": {period: units}}}``, with `sites`
``{option: {"reserved": units, "exercised": {site: {period: units}}}}`` (missing
options, keys and entries are 0; a flat ``{period: units}`` is read at the one site
of a problem with one site), or a DataFrame as `result.options` (index = option
names, columns ``reserved`` and one per period with the units exercised in it,
other columns ignored; without sites or with one site); with demand scenarios
``{scenario: options}`` or such a DataFrame with a (scenario, option) index.
Exercised units join the offer's fleet like purchases (lead time, lifetime, site,
power, opex, energy, every rule on operational compute); they do not count against
the offer's max_units, min_order, price tiers nor the vendor's max_new_compute.
Option capex -- reserve_cost · reserved in reserve_period and exercise_price_t ·
exercised in t -- is in the cost (discounted), budget_t, total_budget and the
vendor's spend (min_spend, max_spend); exercising (not reserving) counts as buying
from the vendor for its onboarding_cost.  `violations` reports, per option,
`options[name].<rule>`: negative units, reserved not whole lots, reserved above
max_units, units exercised outside reserve_period..exercise_until, not whole lots or
at a site not hosting the vendor, and exercised in all above reserved; with demand
scenarios non-anticipativity of the reservation (at the node of reserve_period) and
of the units exercised in each period.

Plain loops, written straight from the formulas in "The model",
"Commercial terms, sites and workloads" and contract v2's model sections.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Union

import numpy as np
from scipy.optimize import linprog

from .spec import (
    BUILD_EPS_GW,
    IMPLICIT_SITE,
    KW_PER_GW,
    MWH_PER_KW_YEAR,
    Problem,
    parse,
    scenario_problems,
    shared_history,
)

Purchases = Union[Mapping[str, Mapping[Any, Any]], "pandas.DataFrame"]  # noqa: F821
Builds = Union[Mapping[Any, Any], "pandas.DataFrame"]  # noqa: F821
BuildTable = dict[str, list[float]]  # site -> GW started, by period index
Split = Mapping[str, Mapping[str, Mapping[Any, float]]]
Table = dict[str, list[float]]  # offer name -> value by period index
SiteTable = dict[str, dict[str, list[float]]]  # offer -> site -> value by period index
OptionTable = dict[str, tuple[float, dict[str, list[float]]]]  # option -> (reserved, site -> exercised by t)


# --------------------------------------------------------------------------- #
# Plumbing
# --------------------------------------------------------------------------- #
def _period(p: Problem, period: Any, where: str) -> int:
    period = int(period)
    if period not in p.periods:
        raise ValueError(f"{where} names period {period} not in {p.periods}")
    return p.index(period)


def _is_missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _is_frame(x: Any) -> bool:
    return hasattr(x, "columns") and hasattr(x, "to_dict")


def _table(p: Problem, purchases: Purchases) -> SiteTable:
    """Purchases as {offer: {site: [units at t=0, t=1, ...]}} (every offer and site present)."""
    T = len(p.periods)
    site_names = [s.name for s in p.sites]
    b: SiteTable = {o.name: {s: [0.0] * T for s in site_names} for o in p.offers}

    def put(name: Any, site: Any, period: Any, units: Any, add: bool = False) -> None:
        name = str(name)
        if name not in b:
            raise ValueError(f"purchases name unknown offer {name!r}")
        if not p.has_sites and _is_missing(site):
            site = IMPLICIT_SITE
        if _is_missing(site) and len(site_names) == 1:
            site = site_names[0]
        if _is_missing(site):
            raise ValueError(f"purchases[{name!r}]: with several sites, give units per site")
        site = str(site)
        if site not in b[name]:
            raise ValueError(f"purchases[{name!r}] names unknown site {site!r}")
        t = _period(p, period, f"purchases[{name!r}]")
        b[name][site][t] = b[name][site][t] + float(units) if add else float(units)

    if isinstance(purchases, list):  # long-form records (one scenario of a long DataFrame)
        for row in purchases:
            put(row["offer"], row.get("site"), row["period"], row["bought"], add=True)
        return b
    if _is_frame(purchases):
        cols = {str(c) for c in purchases.columns}
        if {"period", "offer", "bought"} <= cols:  # long form
            has_site = "site" in cols
            for row in purchases.to_dict("records"):
                put(row["offer"], row["site"] if has_site else None, row["period"], row["bought"], add=True)
            return b
        for c in purchases.columns:  # wide form: index = periods, columns = offers
            for idx in purchases.index:
                put(c, None, idx, purchases.at[idx, c])
        return b
    for name, row in purchases.items():
        for key, value in row.items():
            if isinstance(value, Mapping):  # {site: {period: units}}
                for period, units in value.items():
                    put(name, key, period, units)
            else:  # {period: units}
                put(name, None, key, value)
    return b


def _build_table(p: Problem, builds: Builds | None) -> BuildTable:
    """Builds as {site: [GW started at t=0, t=1, ...]} (every site present, missing = 0)."""
    T = len(p.periods)
    g: BuildTable = {s.name: [0.0] * T for s in p.sites}
    if builds is None:
        return g

    def put(site: Any, period: Any, gw: Any) -> None:
        if _is_missing(gw):
            return
        if not p.has_sites and _is_missing(site):
            site = IMPLICIT_SITE
        site = str(site)
        if site not in g:
            raise ValueError(f"builds name unknown site {site!r}")
        g[site][_period(p, period, f"builds[{site!r}]")] = float(gw)

    if _is_frame(builds):  # index = periods, one column per site
        columns = list(builds.columns)
        for c in columns:
            site = IMPLICIT_SITE if not p.has_sites and len(columns) == 1 else c
            for idx in builds.index:
                put(site, idx, builds.at[idx, c])
        return g
    items = list(builds.items())
    if not p.has_sites and all(not isinstance(v, Mapping) for _, v in items):  # flat {period: GW}
        for period, gw in items:
            put(None, period, gw)
        return g
    for site, row in items:
        if not isinstance(row, Mapping):
            raise ValueError(f"builds[{site!r}]: expected {{period: GW}}, got {row!r}")
        for period, gw in row.items():
            put(site, period, gw)
    return g


def _option_table(p: Problem, options: Any) -> OptionTable:
    """The plan's options as {option: (units reserved, {site: [units exercised at t=0, ...]})}:
    every option and every site present, missing = 0 (see the module docstring for the forms)."""
    T = len(p.periods)
    site_names = [s.name for s in p.sites]
    reserved = {x.name: 0.0 for x in p.options}
    exercised = {x.name: {s: [0.0] * T for s in site_names} for x in p.options}

    def known(name: Any) -> str:
        name = str(name)
        if name not in reserved:
            raise ValueError(f"options name unknown option {name!r}")
        return name

    def put(name: str, site: Any, period: Any, units: Any) -> None:
        if _is_missing(units):
            return
        if _is_missing(site):
            if len(site_names) != 1:
                raise ValueError(f"options[{name!r}]: with several sites, give exercised units per site")
            site = site_names[0]
        site = str(site)
        if site not in exercised[name]:
            raise ValueError(f"options[{name!r}] names unknown site {site!r}")
        exercised[name][site][_period(p, period, f"options[{name!r}]")] = float(units)

    if options is None:
        pass
    elif _is_frame(options):  # as result.options: index = options, "reserved" + one column per period
        periods = [c for c in options.columns if str(c) not in ("offer", "reserved", "exercised")]
        for idx in options.index:
            name = known(idx)
            reserved[name] = float(options.at[idx, "reserved"])
            for c in periods:
                put(name, None, c, options.at[idx, c])
    else:
        for name, entry in options.items():
            name = known(name)
            reserved[name] = float(entry.get("reserved") or 0.0)
            for key, value in (entry.get("exercised") or {}).items():
                if isinstance(value, Mapping):  # {site: {period: units}}
                    for period, units in value.items():
                        put(name, key, period, units)
                else:  # {period: units}
                    put(name, None, key, value)
    return {name: (reserved[name], exercised[name]) for name in reserved}


def _by_scenario(p: Problem, plan: Any, what: str) -> dict[str, Any]:
    """{scenario: that scenario's plan (None = nothing)} from one of the per-scenario forms."""
    out: dict[str, Any] = {s.name: None for s in p.demand_scenarios}

    def known(name: Any) -> str:
        name = str(name)
        if name not in out:
            raise ValueError(f"{what} names unknown scenario {name!r} (with demand_scenarios: {{scenario: plan}})")
        return name

    if plan is None:
        return out
    if _is_frame(plan):
        if "scenario" in {str(c) for c in plan.columns}:  # long form
            for row in plan.to_dict("records"):
                name = known(row.pop("scenario"))
                out[name] = [*(out[name] or []), row]
            return out
        if getattr(plan.index, "nlevels", 1) != 2:
            raise ValueError(f"with demand_scenarios, {what} needs a (scenario, period) index or a scenario column")
        if what == "options":  # (scenario, option) index: one frame per scenario
            for name in dict.fromkeys(plan.index.get_level_values(0)):
                out[known(name)] = plan.xs(name, level=0)
            return out
        columns = list(plan.columns)
        if what == "builds" and not p.has_sites and len(columns) == 1:
            columns = [IMPLICIT_SITE]
        for (name, period), values in zip(plan.index, plan.itertuples(index=False)):
            name = known(name)
            d = out[name] if out[name] is not None else {}
            for col, v in zip(columns, values):
                d.setdefault(col, {})[period] = v
            out[name] = d
        return out
    for name, sub in plan.items():
        out[known(name)] = sub
    return out


Plan = tuple[str, float, Problem, SiteTable, BuildTable, Any, OptionTable]  # (name, p_ω, problem ω, b, g, split, x)


def _plans(p: Problem, purchases: Any, builds: Any = None, split: Any = None, options: Any = None) -> list[Plan]:
    """One entry per demand scenario (one, named "", without demand scenarios)."""
    if not p.demand_scenarios:
        return [("", 1.0, p, _table(p, purchases), _build_table(p, builds), split, _option_table(p, options))]
    P = _by_scenario(p, purchases, "purchases")
    G = _by_scenario(p, builds, "builds")
    S = _by_scenario(p, split, "split")
    X = _by_scenario(p, options, "options")
    return [
        (
            name,
            prob,
            q,
            _table(q, {} if P[name] is None else P[name]),
            _build_table(q, G[name]),
            S[name],
            _option_table(q, X[name]),
        )
        for name, prob, q in scenario_problems(p)
    ]


def _totals(p: Problem, b: SiteTable) -> Table:
    """Σ over sites."""
    T = len(p.periods)
    return {name: [sum(row[t] for row in by_site.values()) for t in range(T)] for name, by_site in b.items()}


def _le(lhs: float, rhs: float, tol: float) -> bool:
    """lhs <= rhs with a relative tolerance."""
    return lhs <= rhs + tol * max(1.0, abs(rhs))


def _g(x: float) -> str:
    return f"{x:.6g}"


def _arrivals(p: Problem, b: SiteTable, x: OptionTable | None) -> SiteTable:
    """Units of each offer that join the fleet at each site and period of purchase: bought
    plus exercised through the offer's options (contract v3)."""
    if not x or not p.options:
        return b
    out = {name: {site: list(row) for site, row in by_site.items()} for name, by_site in b.items()}
    for opt in p.options:
        for site, row in x[opt.name][1].items():
            target = out[opt.offer][site]
            for t, units in enumerate(row):
                target[t] += units
    return out


def _fleet_sites(p: Problem, b: SiteTable, x: OptionTable | None = None) -> SiteTable:
    """n[i,s,t] = installed_{i,s}·[t < installed_life] + Σ_{τ+lead ≤ t < τ+lead+lifetime} (b + e)[i,s,τ],
    e the units exercised through options on offer i (contract v3)."""
    T = len(p.periods)
    n: SiteTable = {}
    arrivals = _arrivals(p, b, x)
    for o in p.offers:
        n[o.name] = {}
        for site, bought in arrivals[o.name].items():
            inst = float(o.installed_at.get(site, 0))
            row = []
            for t in range(T):
                units = inst if (o.installed_life is None or t < o.installed_life) else 0.0
                for tau in range(T):
                    start = tau + o.lead_time
                    if start <= t and (o.lifetime is None or t < start + o.lifetime):
                        units += bought[tau]
                row.append(units)
            n[o.name][site] = row
    return n


def _vendor_compute(p: Problem, n: Table) -> dict[str, list[float]]:
    """C[v,t] = Σ_{i of v} compute_i · n[i,t] (raw compute, no efficiency)."""
    c = {v: [0.0] * len(p.periods) for v in p.vendors}
    for o in p.offers:
        for t in range(len(p.periods)):
            c[o.vendor][t] += o.compute * n[o.name][t]
    return c


def _new_compute(p: Problem, B: Table, vendor: str, t: int) -> float:
    """Σ_{o of v} compute_o · B[o,t]: compute bought from `vendor` in period index t (all sites)."""
    return sum(o.compute * B[o.name][t] for o in p.offers_of(vendor))


def _it_power_kw(p: Problem, ns: SiteTable, site: str, t: int) -> float:
    return sum(o.power_kw * ns[o.name][site][t] for o in p.offers)


def _capex(p: Problem, B: Table) -> Table:
    """capex[i][t]: tier cost of the offer's units bought in t (summed over sites)."""
    return {o.name: [o.capex(B[o.name][t], period) for t, period in enumerate(p.periods)] for o in p.offers}


def _option_capex(p: Problem, x: OptionTable | None) -> Table:
    """capex[option][t]: reserve_cost · reserved in reserve_period + exercise_price_t · exercised in t
    (summed over sites)."""
    T = len(p.periods)
    out: Table = {}
    for opt in p.options:
        row = [0.0] * T
        if x:
            reserved, by_site = x[opt.name]
            row[p.index(opt.reserve_period)] += opt.reserve_cost * reserved
            for t, period in enumerate(p.periods):
                row[t] += opt.exercise_price[period] * sum(r[t] for r in by_site.values())
        out[opt.name] = row
    return out


def _spend(p: Problem, B: Table, x: OptionTable | None = None) -> dict[str, list[float]]:
    """Undiscounted capex with each vendor paid in each period index: tier capex of purchases
    plus option capex (contract v3); facility capex is not vendor spend."""
    cap = _capex(p, B)
    out = {v: [0.0] * len(p.periods) for v in p.vendors}
    for o in p.offers:
        for t, c in enumerate(cap[o.name]):
            out[o.vendor][t] += c
    for opt, row in zip(p.options, _option_capex(p, x).values()):
        for t, c in enumerate(row):
            out[p.option_offer(opt).vendor][t] += c
    return out


def _vendor_capex(p: Problem, spend: dict[str, list[float]]) -> dict[str, float]:
    """capex_v: undiscounted capex with vendor v over the horizon (from `_spend`)."""
    return {v: sum(row) for v, row in spend.items()}


def _take_or_pay(p: Problem, vcap: dict[str, float]) -> dict[str, float]:
    """max(0, min_spend_v − capex_v)."""
    return {v: max(0.0, vendor.min_spend - vcap[v]) for v, vendor in p.vendors.items()}


def _exercised(x: OptionTable | None, name: str) -> list[float]:
    """Units exercised through option `name` by period index, summed over sites."""
    if not x:
        return []
    return [sum(col) for col in zip(*x[name][1].values())]


def _bought_from(p: Problem, B: Table, vendor: str, x: OptionTable | None = None, tol: float = 1e-9) -> bool:
    """Any unit of the vendor bought, or exercised through an option (reserving is not buying)."""
    if any(u > tol for o in p.offers_of(vendor) for u in B[o.name]):
        return True
    return any(u > tol for opt in p.options if p.option_offer(opt).vendor == vendor for u in _exercised(x, opt.name))


def _hhi(p: Problem, c: dict[str, list[float]]) -> dict[int, float]:
    """HHI_t = Σ_v (C[v,t]/demand_t)², periods with demand 0 left out."""
    out = {}
    for t, period in enumerate(p.periods):
        d = p.demand[period]
        if d > 0:
            out[period] = sum((c[v][t] / d) ** 2 for v in p.vendors)
    return out


def _losses(p: Problem, c: dict[str, list[float]]) -> list[float]:
    """loss_ω = Σ_t d_t · shortfall_penalty · max(0, demand_t − Σ_v a[v,ω]·C[v,t])."""
    losses = []
    for s in p.risk.scenarios:
        loss = 0.0
        for t, period in enumerate(p.periods):
            usable = sum(s.avail(v, period) * c[v][t] for v in p.vendors)
            shortfall = max(0.0, p.demand[period] - usable)
            loss += p.discount(t) * p.risk.shortfall_penalty * shortfall
        losses.append(loss)
    return losses


def _cvar(p: Problem, losses: list[float]) -> float:
    """min_η η + 1/(1−α)·Σ_ω p_ω·max(0, loss_ω − η), nominal scenario included.

    The function of η is convex and piecewise linear with breakpoints at the loss
    values (0 for the nominal scenario); its slope is 1 − Σ_{loss>η} p/(1−α),
    i.e. ≤ 0 below every loss (total probability is 1) and 1 above.  So its
    minimum is attained at a breakpoint: try them all.
    """
    alpha = p.risk.cvar_alpha
    probs = [s.probability for s in p.risk.scenarios]
    nominal = 1.0 - sum(probs)
    pairs = [*list(zip(probs, losses)), (nominal, 0.0)]
    best = None
    for eta in [0.0, *list(losses)]:
        val = eta + sum(q * max(0.0, loss - eta) for q, loss in pairs) / (1.0 - alpha)
        best = val if best is None else min(best, val)
    return best


def _facility(p: Problem, g: BuildTable) -> BuildTable:
    """F[s,t] = cost_per_gw_t · g[s,t] + fixed_cost_t · [g[s,t] > 0] ("Power build-out").

    0 at sites without a power_build.  A build "starts" if g > BUILD_EPS_GW (1 W).
    """
    out: BuildTable = {}
    for s in p.sites:
        pb = s.power_build
        row = []
        for t, period in enumerate(p.periods):
            x = g[s.name][t]
            if pb is None:
                row.append(0.0)
            else:
                row.append(pb.cost_per_gw[period] * x + (pb.fixed_cost[period] if x > BUILD_EPS_GW else 0.0))
        out[s.name] = row
    return out


def _power_cap_gw(p: Problem, s, g: BuildTable, t: int) -> float | None:
    """Cap of site s's power row in period index t: power_cap_gw_t + Σ_{τ + lead_time ≤ t} g[τ].

    None if the site has no row of its own (no cap and no power_build; without
    sites and without a top-level power_build the top-level row is `p.power_cap_gw`).
    """
    if s.power_cap_gw is None:
        return None
    cap = s.power_cap_gw[p.periods[t]]
    if s.power_build is not None:
        cap += s.power_build.ready(g[s.name], t)
    return cap


def _unserved(p: Problem, n: Table) -> list[dict[str, float]]:
    """Least unserved compute per period index: {workload: u[w,t]} ("" without workloads).

    Without workloads u[t] = max(0, demand_t − C[t]).  With workloads, the
    least Σ_w u[w,t] over splits of the fleet (`_unserved_lp`): the penalty is the
    same for every workload, so this is the least-cost unserved amount.
    """
    out = []
    for t, period in enumerate(p.periods):
        if p.workloads is None:
            ctot = sum(o.compute * n[o.name][t] for o in p.offers)
            out.append({"": max(0.0, p.demand[period] - ctot)})
        else:
            key = ("unserved", t, tuple(n[o.name][t] for o in p.offers))
            hit = p.wl_cache.get(key)
            if hit is None:
                hit = p.wl_cache[key] = _unserved_lp(p, n, t)
            out.append(hit)
    return out


def _unserved_total(p: Problem, n: Table) -> list[float]:
    return [sum(u.values()) for u in _unserved(p, n)]


def _cost(p: Problem, b: SiteTable, ns: SiteTable, g: BuildTable | None = None, x: OptionTable | None = None) -> float:
    B = _totals(p, b)
    n = _totals(p, ns)
    spend = _spend(p, B, x)  # capex of purchases and options, by vendor and period
    fac = _facility(p, g if g is not None else _build_table(p, None))
    total = 0.0
    for t, period in enumerate(p.periods):
        capex = sum(row[t] for row in spend.values())
        opex = sum(o.opex_per_year * n[o.name][t] for o in p.offers)
        energy = sum(
            s.electricity_price[period] * MWH_PER_KW_YEAR * s.pue * _it_power_kw(p, ns, s.name, t) for s in p.sites
        )
        facility = sum(fac[s.name][t] for s in p.sites)  # F_t, summed over sites
        total += p.discount(t) * (capex + opex + energy + facility)
    for v in p.vendors.values():
        # Onboarding: once, undiscounted; not for vendors with installed units.
        if v.onboarding_cost > 0 and not v.has_installed and _bought_from(p, B, v.name, x):
            total += v.onboarding_cost
    # Take-or-pay: undiscounted (period 0).
    total += sum(_take_or_pay(p, _vendor_capex(p, spend)).values())
    # Unserved demand: Σ_t d_t · unserved_penalty · u[t] (summed over workloads).
    if p.unserved_penalty:
        for t, u in enumerate(_unserved_total(p, n)):
            total += p.discount(t) * p.unserved_penalty * u
    return total


def _cost_objective(
    p: Problem, b: SiteTable, g: BuildTable | None = None, x: OptionTable | None = None
) -> tuple[float, float]:
    """(cost, objective) of one demand path: objective = cost + hhi_weight·Σ_t d_t·HHI_t + risk_weight·CVaR."""
    ns = _fleet_sites(p, b, x)
    c = _vendor_compute(p, _totals(p, ns))
    hhi = _hhi(p, c)
    hhi_term = sum(p.discount(p.index(period)) * h for period, h in hhi.items())
    cost = _cost(p, b, ns, g, x)
    return cost, cost + p.risk.hhi_weight * hhi_term + p.risk.risk_weight * _cvar(p, _losses(p, c))


def scenario_cvar_of(alpha: float, probabilities: list[float], costs: list[float]) -> float:
    """CVaR_alpha of the scenario costs: min_η η + Σ_ω p_ω·max(0, cost_ω − η)/(1 − α).

    Rockafellar–Uryasev over the demand scenarios only (no nominal scenario).  The
    function of η is convex piecewise linear with breakpoints at the costs, slope
    1 − Σ p/(1−α) ≤ 0 below all of them (Σ p = 1) and 1 above: evaluated at the
    breakpoints.
    """
    best = None
    for eta in costs:
        val = eta + sum(q * max(0.0, c - eta) for q, c in zip(probabilities, costs)) / (1.0 - alpha)
        best = val if best is None else min(best, val)
    return 0.0 if best is None else best


def _scenario_values(plans: list[Plan]) -> list[tuple[str, float, float, float]]:
    """[(name, p_ω, cost_ω, objective_ω)]."""
    return [(name, prob, *_cost_objective(q, b, g, x)) for name, prob, q, b, g, _, x in plans]


def _total_objective(p: Problem, values: list[tuple[str, float, float, float]]) -> float:
    """Σ_ω p_ω·objective_ω + scenario_cvar_weight·CVaR(cost_ω) (the v1 objective without scenarios).

    Reading: without demand_scenarios there is no scenario CVaR term (the
    scenario_cvar_* fields then have no effect).
    """
    if not p.demand_scenarios:
        return values[0][3]
    total = sum(prob * obj for _, prob, _, obj in values)
    w = p.risk.scenario_cvar_weight
    if w:
        total += w * scenario_cvar_of(p.risk.scenario_cvar_alpha, [v[1] for v in values], [v[2] for v in values])
    return total


# --------------------------------------------------------------------------- #
# Workloads
# --------------------------------------------------------------------------- #
def _workload_lp(p: Problem, n: Table, t: int) -> tuple[float, dict[str, dict[str, float]]]:
    """Least total *relative* shortfall Σ_w s_w over splits of the fleet in period t, and a best split.

    Variables y[i,w] in [0,1] (share of offer i's fleet on w) and s_w >= 0:
        Σ_w y[i,w] <= 1,   Σ_i eff_{i,w}·compute_i·n[i,t]·y[i,w] / d_w + s_w >= 1   (d_w > 0).
    Some split meets every workload iff the optimum is 0; the split is x = y·n.
    """
    period = p.periods[t]
    assert p.workloads is not None
    wls = [w for w, d in p.workloads.items() if d[period] > 0]
    split = {o.name: dict.fromkeys(p.workloads, 0.0) for o in p.offers}
    if not wls:
        return 0.0, split
    offers = [o for o in p.offers if n[o.name][t] > 0]
    pairs = [(i, w) for i, o in enumerate(offers) for w in wls if o.eff(w) > 0]
    if len(wls) == 1:  # closed form: give the whole fleet to the one workload
        w = wls[0]
        have = sum(o.eff(w) * o.compute * n[o.name][t] for o in offers)
        for o in offers:
            split[o.name][w] = n[o.name][t] if o.eff(w) > 0 else 0.0
        return max(0.0, 1.0 - have / p.workloads[w][period]), split
    nv = len(pairs) + len(wls)
    cost = np.zeros(nv)
    cost[len(pairs) :] = 1.0
    a_ub, b_ub = [], []
    for i in range(len(offers)):  # Σ_w y[i,w] <= 1
        row = np.zeros(nv)
        for k, (ii, _) in enumerate(pairs):
            if ii == i:
                row[k] = 1.0
        a_ub.append(row)
        b_ub.append(1.0)
    for j, w in enumerate(wls):  # −Σ_i a·y − s_w <= −1
        row = np.zeros(nv)
        d = p.workloads[w][period]
        for k, (i, ww) in enumerate(pairs):
            if ww == w:
                o = offers[i]
                row[k] = -o.eff(w) * o.compute * n[o.name][t] / d
        row[len(pairs) + j] = -1.0
        a_ub.append(row)
        b_ub.append(-1.0)
    bounds = [(0.0, 1.0)] * len(pairs) + [(0.0, None)] * len(wls)
    res = linprog(cost, A_ub=np.array(a_ub), b_ub=np.array(b_ub), bounds=bounds, method="highs")
    if res.status != 0:
        raise RuntimeError(f"workload LP failed in period {period}: {res.message}")
    for k, (i, w) in enumerate(pairs):
        o = offers[i]
        split[o.name][w] = float(res.x[k]) * n[o.name][t]
    return float(res.fun), split


def _workloads_ok(p: Problem, n: Table, t: int, tol: float) -> tuple[bool, float]:
    """(some split meets every workload in period t, least total relative shortfall), memoized."""
    key = (t, tol, tuple(n[o.name][t] for o in p.offers))
    hit = p.wl_cache.get(key)
    if hit is None:
        short, _ = _workload_lp(p, n, t)
        hit = p.wl_cache[key] = (short <= tol, short)
    return hit


def _unserved_lp(p: Problem, n: Table, t: int) -> dict[str, float]:
    """{workload: u[w,t]} minimizing Σ_w u[w,t] over splits x of the fleet in period t.

    Variables y[i,w] in [0,1] (share of offer i's fleet on w) and v_w >= 0 (u_w / d_w):
        Σ_w y[i,w] <= 1,   Σ_i eff_{i,w}·compute_i·n[i,t]·y[i,w] / d_w + v_w >= 1   (d_w > 0),
    minimizing Σ_w d_w·v_w.  Workloads with demand <= 0 have u = 0.
    """
    period = p.periods[t]
    assert p.workloads is not None
    u = dict.fromkeys(p.workloads, 0.0)
    wls = [w for w, d in p.workloads.items() if d[period] > 0]
    if not wls:
        return u
    offers = [o for o in p.offers if n[o.name][t] > 0]
    if len(wls) == 1:  # closed form: the whole fleet on the one workload
        w = wls[0]
        have = sum(o.eff(w) * o.compute * n[o.name][t] for o in offers)
        u[w] = max(0.0, p.workloads[w][period] - have)
        return u
    pairs = [(i, w) for i, o in enumerate(offers) for w in wls if o.eff(w) > 0]
    nv = len(pairs) + len(wls)
    cost = np.zeros(nv)
    for j, w in enumerate(wls):
        cost[len(pairs) + j] = p.workloads[w][period]
    a_ub, b_ub = [], []
    for i in range(len(offers)):  # Σ_w y[i,w] <= 1
        row = np.zeros(nv)
        for k, (ii, _) in enumerate(pairs):
            if ii == i:
                row[k] = 1.0
        a_ub.append(row)
        b_ub.append(1.0)
    for j, w in enumerate(wls):  # −Σ_i a·y/d − v_w <= −1
        row = np.zeros(nv)
        d = p.workloads[w][period]
        for k, (i, ww) in enumerate(pairs):
            if ww == w:
                o = offers[i]
                row[k] = -o.eff(w) * o.compute * n[o.name][t] / d
        row[len(pairs) + j] = -1.0
        a_ub.append(row)
        b_ub.append(-1.0)
    bounds = [(0.0, 1.0)] * len(pairs) + [(0.0, None)] * len(wls)
    res = linprog(cost, A_ub=np.array(a_ub), b_ub=np.array(b_ub), bounds=bounds, method="highs")
    if res.status != 0:
        raise RuntimeError(f"unserved-demand LP failed in period {period}: {res.message}")
    for j, w in enumerate(wls):
        u[w] = max(0.0, float(res.x[len(pairs) + j])) * p.workloads[w][period]
    return u


def _split_table(p: Problem, split: Split) -> dict[str, dict[str, list[float]]]:
    assert p.workloads is not None
    T = len(p.periods)
    x = {o.name: {w: [0.0] * T for w in p.workloads} for o in p.offers}
    for name, by_w in split.items():
        if name not in x:
            raise ValueError(f"split names unknown offer {name!r}")
        for w, row in by_w.items():
            if w not in x[name]:
                raise ValueError(f"split[{name!r}] names unknown workload {w!r}")
            for period, units in row.items():
                x[name][w][_period(p, period, f"split[{name!r}][{w!r}]")] = float(units)
    return x


# --------------------------------------------------------------------------- #
# Violations
# --------------------------------------------------------------------------- #
def _violations(
    p: Problem,
    b: SiteTable,
    tol: float,
    hhi_tol: float,
    first_only: bool = False,
    split: Split | None = None,
    g: BuildTable | None = None,
    x: OptionTable | None = None,
) -> list[str]:
    """Violations of one demand path (a problem without demand scenarios)."""
    out: list[str] = []
    if g is None:
        g = _build_table(p, None)
    if x is None:
        x = _option_table(p, None)

    def report(msg: str) -> bool:
        out.append(msg)
        return first_only

    # Purchases: per site non-negative whole lots at a site hosting the vendor; per offer and
    # period (summed over sites) <= max_units and 0 or >= min_order.
    B = _totals(p, b)
    for o in p.offers:
        for t, period in enumerate(p.periods):
            negative = False
            for s in p.sites:
                u = b[o.name][s.name][t]
                where = f"[{o.name}][{s.name}][{period}]" if p.has_sites else f"[{o.name}][{period}]"
                if u < -tol:
                    negative = True
                    if report(f"nonnegative{where}: {_g(u)} units < 0"):
                        return out
                    continue
                lots = u / o.lot_size
                if abs(lots - round(lots)) * o.lot_size > tol * max(1.0, abs(u)):
                    if report(f"lot_size{where}: {_g(u)} units not a multiple of {o.lot_size}"):
                        return out
                if u > tol and not s.hosts(o.vendor):
                    if report(f"site_vendors{where}: {_g(u)} units at a site that does not host {o.vendor}"):
                        return out
            if negative:
                continue
            u = B[o.name][t]
            where = f"[{o.name}][{period}]"
            if o.max_units is not None and u > o.max_units[period] + tol:  # counts are exact
                if report(f"max_units{where}: {_g(u)} > {_g(o.max_units[period])}"):
                    return out
            if u > tol and not _le(o.min_order, u, tol):
                if report(f"min_order{where}: 0 < {_g(u)} < {o.min_order}"):
                    return out

    # Power builds ("Power build-out"): >= 0, whole blocks, <= max_gw; none where there is no
    # power_build.  GW compared in kW (as the power row), whole blocks relative to the count.
    for s in p.sites:
        pb = s.power_build
        for t, period in enumerate(p.periods):
            gw = g[s.name][t]
            where = f"[{s.name}][{period}]" if p.has_sites else f"[{period}]"
            if pb is None:
                if abs(gw) > BUILD_EPS_GW:
                    if report(f"no_power_build{where}: {_g(gw)} GW started where there is no power_build"):
                        return out
                continue
            if gw < -tol:
                if report(f"power_build_nonnegative{where}: {_g(gw)} GW < 0"):
                    return out
                continue
            if pb.block_gw is not None:
                blocks = gw / pb.block_gw
                if abs(blocks - round(blocks)) > tol * max(1.0, abs(blocks)):
                    if report(f"power_build_block_gw{where}: {_g(gw)} GW not a multiple of {_g(pb.block_gw)} GW"):
                        return out
            if pb.max_gw is not None and not _le(KW_PER_GW * gw, KW_PER_GW * pb.max_gw[period], tol):
                if report(f"power_build_max_gw{where}: {_g(gw)} GW > {_g(pb.max_gw[period])} GW"):
                    return out

    # Capacity options (contract v3): whole lots, reserved <= max_units, exercised in the window,
    # at hosting sites, in whole lots, and in all at most what is reserved.
    for msg in _option_violations(p, x, tol):
        if report(msg):
            return out

    ns = _fleet_sites(p, b, x)
    n = _totals(p, ns)
    c = _vendor_compute(p, n)
    spend = _spend(p, B, x)  # capex of purchases and options, by vendor and period
    fac = _facility(p, g)
    risk = p.risk
    total_capex = 0.0
    total_facility = 0.0
    for t, period in enumerate(p.periods):
        d = p.demand[period]
        ctot = sum(c[v][t] for v in p.vendors)
        # With unserved_penalty, demand is no requirement ("Unserved demand").
        if p.workloads is None and p.unserved_penalty is None and not _le(d, ctot, tol):
            if report(f"demand[{period}]: compute {_g(ctot)} < demand {_g(d)}"):
                return out
        if p.power_cap_gw is not None:
            # Compared in kW, as the spec writes it (pue·Σ kW ≤ 1e6·cap_gw), so the
            # tolerance does not swallow small caps; reported in GW.  With sites: Σ_s pue_s·IT_s.
            kw = sum(s.pue * _it_power_kw(p, ns, s.name, t) for s in p.sites)
            gw_cap = p.power_cap_gw[period]
            if not _le(kw, KW_PER_GW * gw_cap, tol):
                if report(f"power_cap[{period}]: {_g(kw / KW_PER_GW)} GW > {_g(gw_cap)} GW"):
                    return out
        # Rows of each site (without sites: the implicit site's, when a top-level
        # power_build carries the top-level cap): cap + usable builds.
        for s in p.sites:
            gw_cap = _power_cap_gw(p, s, g, t)
            if gw_cap is None:
                continue
            kw = s.pue * _it_power_kw(p, ns, s.name, t)
            if not _le(kw, KW_PER_GW * gw_cap, tol):
                name = f"site_power_cap[{s.name}][{period}]" if p.has_sites else f"power_cap[{period}]"
                how = ""
                if s.power_build is not None:
                    how = f" (cap {_g(s.power_cap_gw[period])} + built {_g(s.power_build.ready(g[s.name], t))})"
                if report(f"{name}: {_g(kw / KW_PER_GW)} GW > {_g(gw_cap)} GW{how}"):
                    return out
        capex = sum(row[t] for row in spend.values())
        facility = sum(fac[s.name][t] for s in p.sites)
        total_capex += capex
        total_facility += facility
        # Facility capex counts in budget_t and total_budget.
        if p.budget is not None and not _le(capex + facility, p.budget[period], tol):
            extra = f" + facility {_g(facility)}" if facility != 0 else ""
            if report(f"budget[{period}]: capex {_g(capex)}{extra} > {_g(p.budget[period])}"):
                return out
        for v, vendor in p.vendors.items():
            if not _le(c[v][t], vendor.max_share * ctot, tol):
                if report(
                    f"max_share[{period}][{v}]: compute {_g(c[v][t])} > {_g(vendor.max_share)} × total {_g(ctot)}"
                ):
                    return out
            # Contract v3: the floor holds in periods with demand (this path's total demand > 0).
            if vendor.min_share > 0 and d > 0 and not _le(vendor.min_share * ctot, c[v][t], tol):
                if report(
                    f"min_share[{period}][{v}]: compute {_g(c[v][t])} < {_g(vendor.min_share)} × total {_g(ctot)}"
                ):
                    return out
            # Contract v3: the allocation caps compute bought in t (every site, before lead time).
            if vendor.max_new_compute is not None:
                new, allocation = _new_compute(p, B, v, t), vendor.max_new_compute[period]
                if not _le(new, allocation, tol):
                    if report(f"max_new_compute[{period}][{v}]: compute bought {_g(new)} > {_g(allocation)}"):
                        return out
        if risk.min_vendors > 0:
            need = risk.min_vendor_share * d
            count = sum(1 for v in p.vendors if _le(need, c[v][t], tol))
            if count < risk.min_vendors:
                if report(f"min_vendors[{period}]: {count} vendors with compute >= {_g(need)} (< {risk.min_vendors})"):
                    return out
        if risk.survive_vendor_loss > 0:
            for v in p.vendors:
                left = ctot - c[v][t]
                if not _le(risk.survive_vendor_loss * d, left, tol):
                    if report(
                        f"survive_vendor_loss[{period}][{v}]: compute without {v} "
                        f"{_g(left)} < {_g(risk.survive_vendor_loss)} × demand {_g(d)}"
                    ):
                        return out
    vcap = _vendor_capex(p, spend)  # vendor spend: facility capex is not in it
    top = sum(_take_or_pay(p, vcap).values())
    if p.total_budget is not None and not _le(total_capex + top + total_facility, p.total_budget, tol):
        extra = f" + take-or-pay {_g(top)}" if top > 0 else ""
        extra += f" + facility {_g(total_facility)}" if total_facility != 0 else ""
        if report(f"total_budget: capex {_g(total_capex)}{extra} > {_g(p.total_budget)}"):
            return out
    for v, vendor in p.vendors.items():
        if vendor.max_spend is not None and not _le(vcap[v], vendor.max_spend, tol):
            if report(f"max_spend[{v}]: capex {_g(vcap[v])} > {_g(vendor.max_spend)}"):
                return out
    if risk.max_hhi is not None:
        for period, h in _hhi(p, c).items():
            if not _le(h, risk.max_hhi + hhi_tol, tol):
                if report(f"max_hhi[{period}]: HHI {_g(h)} > {_g(risk.max_hhi)}"):
                    return out
    if risk.max_cvar is not None:
        cv = _cvar(p, _losses(p, c))
        if not _le(cv, risk.max_cvar, tol):
            if report(f"max_cvar: CVaR {_g(cv)} > {_g(risk.max_cvar)}"):
                return out
    # Workloads (last: the LP is the dearest check).  With unserved_penalty the workload
    # rows take u[w,t] >= 0 and always hold; a given split is still checked against the fleet.
    if p.workloads is not None:
        if split is None and p.unserved_penalty is not None:
            pass
        elif split is None:
            for t, period in enumerate(p.periods):
                ok, short = _workloads_ok(p, n, t, tol)
                if not ok:
                    if report(
                        f"workloads[{period}]: no split of the fleet covers every workload "
                        f"(least total relative shortfall {_g(short)})"
                    ):
                        return out
        else:
            xsplit = _split_table(p, split)
            for t, period in enumerate(p.periods):
                for o in p.offers:
                    used = 0.0
                    for w in p.workloads:
                        u = xsplit[o.name][w][t]
                        used += u
                        if u < -tol:
                            if report(f"split_nonnegative[{o.name}][{w}][{period}]: {_g(u)} < 0"):
                                return out
                    if not _le(used, n[o.name][t], tol):
                        if report(f"split[{o.name}][{period}]: {_g(used)} units split > fleet {_g(n[o.name][t])}"):
                            return out
                for w, dem in p.workloads.items():
                    have = sum(o.eff(w) * o.compute * xsplit[o.name][w][t] for o in p.offers)
                    if p.unserved_penalty is None and not _le(dem[period], have, tol):
                        if report(f"workload[{w}][{period}]: compute {_g(have)} < demand {_g(dem[period])}"):
                            return out
    return out


def _whole_lots(units: float, lot: int, tol: float) -> bool:
    """`units` a multiple of `lot` (within tol·max(1, |units|), as purchases)."""
    return abs(units / lot - round(units / lot)) * lot <= tol * max(1.0, abs(units))


def _option_violations(p: Problem, x: OptionTable, tol: float) -> list[str]:
    """The rules of each option on its own: units reserved >= 0, whole lots, <= max_units; units
    exercised >= 0, whole lots, only in reserve_period..exercise_until, only at sites hosting
    the offer's vendor, and Σ exercised <= reserved."""
    out = []
    for opt in p.options:
        o = p.option_offer(opt)
        lot = o.lot_size
        reserved, by_site = x[opt.name]
        name = f"options[{opt.name}]"

        if reserved < -tol:
            out.append(f"{name}.reserved: {_g(reserved)} units < 0")
        elif not _whole_lots(reserved, lot, tol):
            out.append(f"{name}.lot_size: {_g(reserved)} units reserved not a multiple of {lot}")
        if not _le(reserved, opt.max_units, tol):
            out.append(f"{name}.max_units: {_g(reserved)} units reserved > {opt.max_units}")
        window = set(opt.window(p.periods))
        total = 0.0
        for s in p.sites:
            for t, period in enumerate(p.periods):
                u = by_site[s.name][t]
                total += u
                where = f"[{s.name}][{period}]" if p.has_sites else f"[{period}]"
                if u < -tol:
                    out.append(f"{name}.exercised{where}: {_g(u)} units < 0")
                    continue
                if not _whole_lots(u, lot, tol):
                    out.append(f"{name}.lot_size{where}: {_g(u)} units exercised not a multiple of {lot}")
                if u > tol and t not in window:
                    out.append(
                        f"{name}.window{where}: {_g(u)} units exercised outside "
                        f"{opt.reserve_period}..{opt.exercise_until}"
                    )
                if u > tol and not s.hosts(o.vendor):
                    out.append(f"{name}.site_vendors{where}: {_g(u)} units at a site that does not host {o.vendor}")
        if not _le(total, reserved, tol):
            out.append(f"{name}.exercised: {_g(total)} units exercised > {_g(reserved)} reserved")
    return out


def _same(x: float, y: float, tol: float) -> bool:
    return abs(x - y) <= tol * max(1.0, abs(x), abs(y))


def _nonanticipativity(p: Problem, plans: list[Plan], tol: float) -> list[str]:
    """Scenarios with equal demand (every workload) in every τ <= t buy the same b[i,s,t], build the
    same g[s,t] and exercise the same units of each option at each site in t; those sharing the
    history up to an option's reserve_period reserve the same units (contract v3)."""
    tables = {name: (b, g, x) for name, _, _, b, g, _, x in plans}
    out = []
    for t, groups in enumerate(shared_history(p)):
        period = p.periods[t]
        for group in groups:
            first = group[0]
            b0, g0, x0 = tables[first]
            for other in group[1:]:
                b1, g1, x1 = tables[other]
                pair = f"nonanticipativity[{first}|{other}]"
                for o in p.offers:
                    for s in p.sites:
                        x, y = b0[o.name][s.name][t], b1[o.name][s.name][t]
                        if not _same(x, y, tol):
                            where = f"[{o.name}][{s.name}][{period}]" if p.has_sites else f"[{o.name}][{period}]"
                            out.append(f"{pair}{where}: {_g(x)} units in {first} != {_g(y)} in {other}")
                for s in p.sites:
                    x, y = g0[s.name][t], g1[s.name][t]
                    if not _same(KW_PER_GW * x, KW_PER_GW * y, tol):
                        where = f"[{s.name}][{period}]" if p.has_sites else f"[{period}]"
                        out.append(f"{pair}[power_build]{where}: {_g(x)} GW in {first} != {_g(y)} GW in {other}")
                for opt in p.options:
                    x, y = x0[opt.name][0], x1[opt.name][0]
                    if period == opt.reserve_period and not _same(x, y, tol):
                        out.append(
                            f"{pair}[options[{opt.name}].reserved]: {_g(x)} units in {first} != {_g(y)} in {other}"
                        )
                    for s in p.sites:
                        x, y = x0[opt.name][1][s.name][t], x1[opt.name][1][s.name][t]
                        if not _same(x, y, tol):
                            where = f"[{s.name}][{period}]" if p.has_sites else f"[{period}]"
                            out.append(
                                f"{pair}[options[{opt.name}]]{where}: {_g(x)} units exercised in {first} "
                                f"!= {_g(y)} in {other}"
                            )
    return out


def _all_violations(p: Problem, plans: list[Plan], tol: float, hhi_tol: float, first_only: bool = False) -> list[str]:
    if not p.demand_scenarios:
        _, _, q, b, g, split, x = plans[0]
        return _violations(q, b, tol, hhi_tol, first_only=first_only, split=split, g=g, x=x)
    out = []
    for name, _, q, b, g, split, x in plans:
        out += [f"scenario[{name}]: {m}" for m in _violations(q, b, tol, hhi_tol, first_only, split, g, x)]
        if out and first_only:
            return out
    return out + _nonanticipativity(p, plans, tol)


# --------------------------------------------------------------------------- #
# Public API
# --------------------------------------------------------------------------- #
def _per_offer(p: Problem, table: Table) -> dict[str, dict[int, float]]:
    return {name: dict(zip(p.periods, row)) for name, row in table.items()}


def _each(problem: Mapping | Problem, purchases: Purchases, fn, builds: Any = None, options: Any = None) -> Any:
    """fn(problem ω, b, g, x) for the one demand path, or {scenario: ...} with demand scenarios."""
    p = parse(problem)
    plans = _plans(p, purchases, builds, options=options)
    if not p.demand_scenarios:
        _, _, q, b, g, _, x = plans[0]
        return fn(q, b, g, x)
    return {name: fn(q, b, g, x) for name, _, q, b, g, _, x in plans}


def totals(problem: Mapping | Problem, purchases: Purchases) -> dict[str, dict[int, float]]:
    """Units bought per offer and period, summed over sites (the shape of `result.purchases`)."""
    return _each(problem, purchases, lambda p, b, g, x: _per_offer(p, _totals(p, b)))


def fleet(problem: Mapping | Problem, purchases: Purchases, *, options: Any = None) -> dict[str, dict[int, float]]:
    """Operational units n[i,t] (summed over sites): {offer: {period: units}}."""
    return _each(
        problem, purchases, lambda p, b, g, x: _per_offer(p, _totals(p, _fleet_sites(p, b, x))), options=options
    )


def fleet_by_site(
    problem: Mapping | Problem, purchases: Purchases, *, options: Any = None
) -> dict[str, dict[str, dict[int, float]]]:
    """n[i,s,t]: {offer: {site: {period: units}}} (site "" without `sites`)."""

    def one(p: Problem, b: SiteTable, g: BuildTable, x: OptionTable) -> dict:
        ns = _fleet_sites(p, b, x)
        return {name: {s: dict(zip(p.periods, row)) for s, row in by_site.items()} for name, by_site in ns.items()}

    return _each(problem, purchases, one, options=options)


def site_power_gw(
    problem: Mapping | Problem, purchases: Purchases, *, options: Any = None
) -> dict[str, dict[int, float]]:
    """Facility power pue_s · Σ_i power_kw_i · n[i,s,t] / 1e6: {site: {period: GW}}."""

    def one(p: Problem, b: SiteTable, g: BuildTable, x: OptionTable) -> dict:
        ns = _fleet_sites(p, b, x)
        return {
            s.name: {period: s.pue * _it_power_kw(p, ns, s.name, t) / KW_PER_GW for t, period in enumerate(p.periods)}
            for s in p.sites
        }

    return _each(problem, purchases, one, options=options)


def compute_by_vendor(
    problem: Mapping | Problem, purchases: Purchases, *, options: Any = None
) -> dict[str, dict[int, float]]:
    """C[v,t]: {vendor: {period: compute}} (raw compute, no workload efficiency)."""

    def one(p: Problem, b: SiteTable, g: BuildTable, x: OptionTable) -> dict:
        c = _vendor_compute(p, _totals(p, _fleet_sites(p, b, x)))
        return {v: dict(zip(p.periods, row)) for v, row in c.items()}

    return _each(problem, purchases, one, options=options)


def new_compute_by_vendor(problem: Mapping | Problem, purchases: Purchases) -> dict[str, dict[int, float]]:
    """Σ_{o of v} compute_o · bought[o,t]: {vendor: {period: compute bought}} (what max_new_compute caps)."""

    def one(p: Problem, b: SiteTable, g: BuildTable, x: OptionTable) -> dict:
        B = _totals(p, b)
        return {v: {period: _new_compute(p, B, v, t) for t, period in enumerate(p.periods)} for v in p.vendors}

    return _each(problem, purchases, one)


def capex(problem: Mapping | Problem, purchases: Purchases) -> dict[str, dict[int, float]]:
    """Undiscounted capex per offer and period: {offer: {period: $}} (price tiers applied; no facility capex)."""
    return _each(problem, purchases, lambda p, b, g, x: _per_offer(p, _capex(p, _totals(p, b))))


def option_capex(problem: Mapping | Problem, options: Any) -> dict:
    """Undiscounted option capex {option: {period: $}}: reserve_cost · reserved in reserve_period plus
    exercise_price_t · exercised in t; with demand scenarios {scenario: ...}."""
    return _each(
        problem,
        {},
        lambda p, b, g, x: {n: dict(zip(p.periods, r)) for n, r in _option_capex(p, x).items()},
        options=options,
    )


def vendor_capex(problem: Mapping | Problem, purchases: Purchases, *, options: Any = None) -> dict[str, float]:
    """capex_v: undiscounted capex per vendor over the horizon (what min/max_spend compare; with
    `options`, option capex included)."""
    return _each(problem, purchases, lambda p, b, g, x: _vendor_capex(p, _spend(p, _totals(p, b), x)), options=options)


def take_or_pay(problem: Mapping | Problem, purchases: Purchases, *, options: Any = None) -> dict[str, float]:
    """{vendor: max(0, min_spend_v − capex_v)} for every vendor (0 without min_spend)."""
    return _each(
        problem,
        purchases,
        lambda p, b, g, x: _take_or_pay(p, _vendor_capex(p, _spend(p, _totals(p, b), x))),
        options=options,
    )


def workload_split(
    problem: Mapping | Problem, purchases: Purchases, tol: float = 1e-6, *, options: Any = None
) -> dict[str, dict[str, dict[int, float]]] | None:
    """A split {offer: {workload: {period: units}}} meeting every workload, or None if there is none."""

    def one(p: Problem, b: SiteTable, g: BuildTable, x: OptionTable) -> dict | None:
        if p.workloads is None:
            raise ValueError("problem has no workloads")
        n = _totals(p, _fleet_sites(p, b, x))
        out = {o.name: {w: {} for w in p.workloads} for o in p.offers}
        for t, period in enumerate(p.periods):
            short, split = _workload_lp(p, n, t)
            if short > tol:
                return None
            for name, by_w in split.items():
                for w, units in by_w.items():
                    out[name][w][period] = units
        return out

    return _each(problem, purchases, one, options=options)


def workload_feasible(
    problem: Mapping | Problem, purchases: Purchases, tol: float = 1e-6, *, options: Any = None
) -> bool:
    """Whether some split x >= 0 of the fleet meets every workload in every period (True without workloads)."""

    def one(p: Problem, b: SiteTable, g: BuildTable, x: OptionTable) -> bool:
        if p.workloads is None:
            return True
        n = _totals(p, _fleet_sites(p, b, x))
        return all(_workloads_ok(p, n, t, tol)[0] for t in range(len(p.periods)))

    return _each(problem, purchases, one, options=options)


def violations(
    problem: Mapping | Problem,
    purchases: Purchases,
    split: Split | None = None,
    tol: float = 1e-6,
    hhi_tol: float = 0.0,
    *,
    builds: Builds | None = None,
    options: Any = None,
) -> list[str]:
    """Every constraint of the model the plan breaks, one message each ([] if feasible).

    A constraint lhs <= rhs holds if lhs <= rhs + tol·max(1, |rhs|); max_hhi is
    additionally relaxed by the absolute `hhi_tol` (tangent-cut solvers).  With
    workloads, `split` is checked if given; otherwise the plan passes if some
    split exists (relative shortfall <= tol, by LP).  Builds: >= −tol GW, whole
    blocks (count within tol·max(1, count)), <= max_gw (in kW, relative tol).  With
    demand scenarios: every scenario's rules, then non-anticipativity (equal within
    tol·max(1, |x|, |y|)).  `options`: the plan's capacity options (module docstring).
    """
    p = parse(problem)
    return _all_violations(p, _plans(p, purchases, builds, split, options), tol, hhi_tol)


def nonanticipativity_violations(
    problem: Mapping | Problem,
    purchases: Purchases,
    *,
    builds: Builds | None = None,
    tol: float = 1e-6,
    options: Any = None,
) -> list[str]:
    """The non-anticipativity messages of `violations` alone ([] without demand scenarios)."""
    p = parse(problem)
    if not p.demand_scenarios:
        return []
    return _nonanticipativity(p, _plans(p, purchases, builds, options=options), tol)


def cost(
    problem: Mapping | Problem, purchases: Purchases, *, builds: Builds | None = None, options: Any = None
) -> float:
    """The spec's `cost`: discounted capex (option capex included) + opex + energy + facility capex +
    unserved penalty, plus onboarding and take-or-pay; with demand scenarios Σ_ω p_ω · cost_ω."""
    p = parse(problem)
    return sum(prob * c for _, prob, c, _ in _scenario_values(_plans(p, purchases, builds, options=options)))


def objective(
    problem: Mapping | Problem, purchases: Purchases, *, builds: Builds | None = None, options: Any = None
) -> float:
    """cost + hhi_weight · Σ_t d_t·HHI_t + risk_weight · CVaR; with demand scenarios
    Σ_ω p_ω · objective_ω + scenario_cvar_weight · CVaR_{scenario_cvar_alpha}(cost_ω)."""
    p = parse(problem)
    return _total_objective(p, _scenario_values(_plans(p, purchases, builds, options=options)))


def scenario_costs(
    problem: Mapping | Problem, purchases: Purchases, *, builds: Builds | None = None, options: Any = None
) -> dict[str, float]:
    """{scenario: cost_ω} ({"": cost} without demand scenarios)."""
    p = parse(problem)
    return {name: c for name, _, c, _ in _scenario_values(_plans(p, purchases, builds, options=options))}


def scenario_objectives(
    problem: Mapping | Problem, purchases: Purchases, *, builds: Builds | None = None, options: Any = None
) -> dict[str, float]:
    """{scenario: objective_ω} (the v1 objective of the scenario's plan against its demand)."""
    p = parse(problem)
    return {name: obj for name, _, _, obj in _scenario_values(_plans(p, purchases, builds, options=options))}


def scenario_cvar(
    problem: Mapping | Problem, purchases: Purchases, *, builds: Builds | None = None, options: Any = None
) -> float:
    """Exact CVaR_{scenario_cvar_alpha} of the scenario costs (over the demand scenarios)."""
    p = parse(problem)
    values = _scenario_values(_plans(p, purchases, builds, options=options))
    return scenario_cvar_of(p.risk.scenario_cvar_alpha, [v[1] for v in values], [v[2] for v in values])


def unserved(problem: Mapping | Problem, purchases: Purchases, *, options: Any = None) -> dict:
    """Least unserved compute: {period: u[t]}, with workloads {workload: {period: u[w,t]}}.

    Computed whether or not `unserved_penalty` is given (without it, > 0 means the
    demand row is broken).  With demand scenarios: {scenario: ...}.
    """

    def one(p: Problem, b: SiteTable, g: BuildTable, x: OptionTable) -> dict:
        u = _unserved(p, _totals(p, _fleet_sites(p, b, x)))
        if p.workloads is None:
            return {period: u[t][""] for t, period in enumerate(p.periods)}
        return {w: {period: u[t][w] for t, period in enumerate(p.periods)} for w in p.workloads}

    return _each(problem, purchases, one, options=options)


def facility_capex(problem: Mapping | Problem, builds: Builds | None) -> dict:
    """F[s,t] = cost_per_gw_t·g[s,t] + fixed_cost_t·[g[s,t] > 0], undiscounted:
    {site: {period: $}} for the sites with a power_build ("" without sites); with
    demand scenarios {scenario: ...}."""

    def one(p: Problem, b: SiteTable, g: BuildTable, x: OptionTable) -> dict:
        fac = _facility(p, g)
        return {s.name: dict(zip(p.periods, fac[s.name])) for s in p.build_sites()}

    return _each(problem, {}, one, builds)


def power_capacity_gw(problem: Mapping | Problem, builds: Builds | None = None) -> dict:
    """Cap of each power row: {site: {period: power_cap_gw_t + Σ_{τ + lead_time ≤ t} g[τ]}}.

    With sites: the sites that have a cap or a power_build (the top-level cap on
    their sum is not built and not listed).  Without sites: {"": ...} -- the
    top-level cap, plus the builds of a top-level power_build ({} if neither).
    With demand scenarios {scenario: ...}.
    """

    def one(p: Problem, b: SiteTable, g: BuildTable, x: OptionTable) -> dict:
        out = {}
        if not p.has_sites and p.power_cap_gw is not None:
            out[IMPLICIT_SITE] = dict(p.power_cap_gw)
        for s in p.sites:
            if s.power_cap_gw is not None:
                out[s.name] = {period: _power_cap_gw(p, s, g, t) for t, period in enumerate(p.periods)}
        return out

    return _each(problem, {}, one, builds)


def hhi(problem: Mapping | Problem, purchases: Purchases, *, options: Any = None) -> dict[int, float]:
    """{period: HHI_t} with shares of *demand*; periods with demand 0 are absent."""
    return _each(
        problem,
        purchases,
        lambda p, b, g, x: _hhi(p, _vendor_compute(p, _totals(p, _fleet_sites(p, b, x)))),
        options=options,
    )


def scenario_losses(problem: Mapping | Problem, purchases: Purchases, *, options: Any = None) -> dict[str, float]:
    """{scenario name: loss_ω} for the listed (supply) scenarios (the nominal one has loss 0)."""

    def one(p: Problem, b: SiteTable, g: BuildTable, x: OptionTable) -> dict:
        losses = _losses(p, _vendor_compute(p, _totals(p, _fleet_sites(p, b, x))))
        return {s.name: loss for s, loss in zip(p.risk.scenarios, losses)}

    return _each(problem, purchases, one, options=options)


def cvar(problem: Mapping | Problem, purchases: Purchases, *, options: Any = None) -> float:
    """Exact CVaR_alpha of the supply-scenario losses (0 without scenarios)."""
    return _each(
        problem,
        purchases,
        lambda p, b, g, x: _cvar(p, _losses(p, _vendor_compute(p, _totals(p, _fleet_sites(p, b, x))))),
        options=options,
    )
