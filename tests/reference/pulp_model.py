"""A straightforward PuLP + CBC model of the spec (independent of `procure`).

`solve_reference(problem)` returns ``(status, objective, purchases)``:

- status "optimal": proven optimum; objective is recomputed with
  `checker.objective` from the rounded plan, purchases is
  ``{offer: {period: units}}`` (every offer and period present);
- "infeasible": (None, {});
- "not_solved": CBC stopped (time limit) without a proof; the plan and its
  objective are returned if CBC had one, else (None, {});
- "error": anything else CBC reports.

HHI is quadratic and not modelled: `hhi_weight > 0` or `max_hhi` raise
NotImplementedError.

Big-M constants.  Every integer lot variable k[i,t] (b = lot_size·k) gets an
upper bound K[i,t], which is also the big-M of its indicators (min_order,
onboarding).  K[i,t] is the smallest of

- max_units_t (spec bound), budget_t / unit_cost and total_budget / unit_cost
  (capex of one (offer, period) alone cannot exceed the cap, since all capex
  terms are >= 0), and 1e6·power_cap_gw_{t+lead} / (pue·power_kw) when the
  units become operational inside the horizon (they then draw power in period
  t+lead, and all other fleet terms are >= 0).  These hold for *every* feasible
  plan, so they cut nothing off;
- a generous bound G used when none of the above is finite.  More compute than
  needed only costs (every cost term is >= 0) and only helps demand, share,
  vendor-count, vendor-loss and shortfall constraints up to a point: operational
  compute beyond  max_t demand_t / a_min  (a_min = smallest positive scenario
  availability; covering demand from the least available vendor) plus what is
  needed to dilute the installed compute below the tightest max_share
  (installed compute / min max_share) never helps.  G is 4x that, in units of
  this offer, plus min_order and one lot for rounding.  This is a heuristic
  argument (lifetime windows and lot rounding make a proof fiddly), so it is
  guarded: if the optimum puts some k at a G-derived bound, or the model is
  infeasible while some bound is G-derived, it is re-solved with G multiplied
  by 16 and the answers must agree, else RuntimeError.  With K moderate (hundreds of lots for the strategies'
  instances) an indicator is never "almost 0" within CBC's integrality tolerance.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import pulp

from . import checker
from .spec import KW_PER_GW, MWH_PER_KW_YEAR, Offer, Problem, parse

_OPT_TOL = 1e-7  # relative agreement required between the two solves of the guard

# The CBC bundled with PuLP (2.10.3) has preprocessing (CglPreProcess) bugs that
# return a *suboptimal* plan labelled optimal on some of these tiny models (seen
# here: a 3-period, 1-offer instance with max_cvar reduced to 0 rows and the
# wrong plan; cf. coin-or/Cbc issues #283, #720).  Found by the brute-force
# comparison; switching preprocessing off fixes it and costs nothing at this size.
CBC_OPTIONS = ["preprocess off"]


def _generous_units(p: Problem, o: Offer) -> float:
    """Heuristic bound G (units of offer `o` per period), see module docstring."""
    avails = [a for s in p.risk.scenarios for a in s.availability.values() if a > 0]
    a_min = min([*avails, 1.0])
    s_min = min(v.max_share for v in p.vendors.values())
    installed = sum(q.compute * q.installed for q in p.offers)
    need = max(p.demand.values()) / a_min + installed / s_min
    return 4.0 * need / o.compute + o.min_order + o.lot_size


def _lot_bound(p: Problem, o: Offer, t: int, factor: float) -> tuple[int, bool]:
    """(K[i,t] in lots, whether it comes from the generous bound G)."""
    period = p.periods[t]
    bounds: list[float] = []
    if o.max_units is not None:
        bounds.append(o.max_units[period])
    cost = o.unit_cost[period]
    if cost > 0:
        if p.budget is not None:
            bounds.append(max(0.0, p.budget[period]) / cost)
        if p.total_budget is not None:
            bounds.append(max(0.0, p.total_budget) / cost)
    start = t + o.lead_time
    if p.power_cap_gw is not None and o.power_kw > 0 and start < len(p.periods):
        cap = p.power_cap_gw[p.periods[start]]
        bounds.append(max(0.0, KW_PER_GW * cap) / (p.pue * o.power_kw))
    generous = not bounds or factor * _generous_units(p, o) < min(bounds)
    units = factor * _generous_units(p, o) if generous else min(bounds)
    lots = math.floor(units / o.lot_size + 1e-9)
    if lots * o.lot_size < o.min_order:  # no admissible positive purchase
        lots = 0
    return lots, generous


def _build(p: Problem, factor: float):
    T = range(len(p.periods))
    m = pulp.LpProblem("procure_reference", pulp.LpMinimize)
    trivially_infeasible = False

    def var(
        name: str, lowBound: float | None = None, upBound: float | None = None, cat: str = "Continuous"
    ) -> pulp.LpVariable:
        if hasattr(m, "add_variable"):  # PuLP >= 3.3 attaches variables to the model
            return m.add_variable(name, lowBound, upBound, cat=cat)
        return pulp.LpVariable(name, lowBound, upBound, cat=cat)

    def add(constraint: pulp.LpConstraint) -> None:
        # Constraints without variables are checked here, not handed to CBC.
        nonlocal trivially_infeasible
        if len(constraint) == 0:
            if not constraint.valid(1e-9):
                trivially_infeasible = True
        else:
            m.addConstraint(constraint)

    k: dict[tuple[str, int], pulp.LpVariable] = {}
    kmax: dict[tuple[str, int], tuple[int, bool]] = {}
    for i, o in enumerate(p.offers):
        for t in T:
            kmax[o.name, t] = _lot_bound(p, o, t, factor)
            k[o.name, t] = var(f"k_{i}_{t}", 0, kmax[o.name, t][0], cat="Integer")
    lot = {o.name: o.lot_size for o in p.offers}
    b = {(name, t): lot[name] * kv for (name, t), kv in k.items()}

    # min_order: b = 0 or b >= min_order (only binding when min_order > lot_size).
    for i, o in enumerate(p.offers):
        if o.min_order > o.lot_size:
            for t in T:
                K = kmax[o.name, t][0]
                if K == 0:
                    continue
                y = var(f"y_{i}_{t}", cat="Binary")
                add(b[o.name, t] >= o.min_order * y)
                add(k[o.name, t] <= K * y)

    # Onboarding indicator z_v (only for vendors without installed units).
    onboarding = []
    for j, v in enumerate(p.vendors.values()):
        if v.onboarding_cost > 0 and not v.has_installed:
            z = var(f"z_{j}", cat="Binary")
            for o in p.offers_of(v.name):
                for t in T:
                    K = kmax[o.name, t][0]
                    if K > 0:
                        add(k[o.name, t] <= K * z)
            onboarding.append(v.onboarding_cost * z)

    # Fleet and vendor compute (affine expressions).
    n = {}
    for o in p.offers:
        for t in T:
            installed = o.installed if (o.installed_life is None or t < o.installed_life) else 0
            bought = [
                b[o.name, tau]
                for tau in T
                if tau + o.lead_time <= t and (o.lifetime is None or t < tau + o.lead_time + o.lifetime)
            ]
            n[o.name, t] = pulp.lpSum(bought) + installed
    C = {(v, t): pulp.lpSum(o.compute * n[o.name, t] for o in p.offers_of(v)) for v in p.vendors for t in T}
    Ctot = {t: pulp.lpSum(C[v, t] for v in p.vendors) for t in T}
    power = {t: pulp.lpSum(o.power_kw * n[o.name, t] for o in p.offers) for t in T}
    capex = {t: pulp.lpSum(o.unit_cost[p.periods[t]] * b[o.name, t] for o in p.offers) for t in T}

    risk = p.risk
    if risk.min_vendors > len(p.vendors):
        trivially_infeasible = True
    for t, period in enumerate(p.periods):
        d = p.demand[period]
        add(Ctot[t] >= d)
        if p.power_cap_gw is not None:
            add(p.pue * power[t] <= KW_PER_GW * p.power_cap_gw[period])
        if p.budget is not None:
            add(capex[t] <= p.budget[period])
        for v, vendor in p.vendors.items():
            if vendor.max_share < 1:
                add(C[v, t] <= vendor.max_share * Ctot[t])
        if risk.min_vendors > 0:
            w = {v: var(f"w_{j}_{t}", cat="Binary") for j, v in enumerate(p.vendors)}
            for v in p.vendors:
                add(C[v, t] >= risk.min_vendor_share * d * w[v])
            add(pulp.lpSum(w.values()) >= risk.min_vendors)
        if risk.survive_vendor_loss > 0:
            for v in p.vendors:
                add(Ctot[t] - C[v, t] >= risk.survive_vendor_loss * d)
    if p.total_budget is not None:
        add(pulp.lpSum(capex.values()) <= p.total_budget)

    disc = {t: p.discount(t) for t in T}
    objective = pulp.lpSum(
        disc[t]
        * (
            capex[t]
            + pulp.lpSum(o.opex_per_year * n[o.name, t] for o in p.offers)
            + p.electricity_price[p.periods[t]] * MWH_PER_KW_YEAR * p.pue * power[t]
        )
        for t in T
    ) + pulp.lpSum(onboarding)

    # Shortfall + CVaR (Rockafellar–Uryasev), only when CVaR can matter.
    needs_cvar = (
        (risk.risk_weight > 0 or risk.max_cvar is not None) and risk.shortfall_penalty > 0 and len(risk.scenarios) > 0
    )
    if needs_cvar:
        eta = var("eta")  # free
        tail = []
        for w_, s in enumerate(risk.scenarios):
            loss = []
            for t, period in enumerate(p.periods):
                sh = var(f"short_{w_}_{t}", lowBound=0)
                add(sh >= p.demand[period] - pulp.lpSum(s.avail(v, period) * C[v, t] for v in p.vendors))
                loss.append(disc[t] * risk.shortfall_penalty * sh)
            u = var(f"u_{w_}", lowBound=0)
            add(u >= pulp.lpSum(loss) - eta)
            tail.append(s.probability * u)
        nominal_p = 1.0 - sum(s.probability for s in risk.scenarios)
        u0 = var("u_nominal", lowBound=0)
        add(u0 >= -eta)  # nominal loss 0
        tail.append(nominal_p * u0)
        cvar = eta + (1.0 / (1.0 - risk.cvar_alpha)) * pulp.lpSum(tail)
        objective += risk.risk_weight * cvar
        if risk.max_cvar is not None:
            add(cvar <= risk.max_cvar)

    m += objective
    return m, k, kmax, trivially_infeasible


def _solve_once(p: Problem, time_limit: float, factor: float) -> tuple[str, float | None, dict, bool]:
    """(status, objective, purchases, whether a G-derived bound may have mattered)."""
    m, k, kmax, trivially_infeasible = _build(p, factor)
    uses_generous = any(generous for _, generous in kmax.values())
    if trivially_infeasible:
        return "infeasible", None, {}, False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # PULP_CBC_CMD is deprecated in PuLP 3.3
        try:
            m.solve(pulp.PULP_CBC_CMD(msg=False, gapRel=0, timeLimit=time_limit, options=CBC_OPTIONS))
        except pulp.PulpSolverError:
            # With preprocessing off, CBC 2.10.3 exits without a solution file when
            # bound tightening proves infeasibility ("Problem is infeasible -
            # tightenPrimalBounds!"); PuLP then raises.  Re-solve with defaults.
            m.solve(pulp.PULP_CBC_CMD(msg=False, gapRel=0, timeLimit=time_limit))
    status = pulp.LpStatus[m.status]
    has_plan = m.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    if status == "Infeasible" or m.sol_status == pulp.LpSolutionInfeasible:
        return "infeasible", None, {}, uses_generous  # G might be what made it infeasible
    if status not in ("Optimal", "Not Solved") or (status == "Optimal" and not has_plan):
        return "error", None, {}, False
    if not has_plan:
        return "not_solved", None, {}, False
    purchases: dict[str, dict[int, float]] = {}
    at_generous = False
    for o in p.offers:
        purchases[o.name] = {}
        for t, period in enumerate(p.periods):
            lots = round(k[o.name, t].varValue or 0.0)
            purchases[o.name][period] = float(lots * o.lot_size)
            K, generous = kmax[o.name, t]
            if generous and lots >= K and K > 0:
                at_generous = True
    problems = checker.violations(p, purchases)
    if problems:
        raise RuntimeError(f"reference model returned a plan that breaks the spec: {problems}")
    proven = status == "Optimal" and m.sol_status == pulp.LpSolutionOptimal
    return ("optimal" if proven else "not_solved"), checker.objective(p, purchases), purchases, at_generous


def solve_reference(problem: Mapping[str, Any] | Problem, time_limit: float = 60) -> tuple[str, float | None, dict]:
    """Solve the spec's model with PuLP/CBC; see the module docstring."""
    p = parse(problem)
    if p.risk.hhi_weight > 0 or p.risk.max_hhi is not None:
        raise NotImplementedError("reference PuLP model has no HHI (quadratic) terms")
    status, obj, purchases, suspicious = _solve_once(p, time_limit, 1.0)
    if suspicious and status in ("optimal", "infeasible"):
        # Guard of the heuristic bound G (module docstring): a 16x larger G must
        # give the same answer.
        status2, obj2, _, _ = _solve_once(p, time_limit, 16.0)
        same = status2 == status and (obj is None or abs(obj2 - obj) <= _OPT_TOL * max(1.0, abs(obj)))
        if not same:
            raise RuntimeError(
                f"generous big-M bound G was binding: {status} {obj} vs {status2} {obj2} with a 16x larger G"
            )
    return status, obj, purchases
