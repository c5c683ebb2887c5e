"""A straightforward PuLP + CBC model of the spec (independent of `procure`).

`solve_reference_plan(problem)` returns a `ReferencePlan` (status, objective,
purchases, builds, and model_objective: the MIP's own objective at CBC's
solution, for comparing with the checker's); `solve_reference(problem)` returns
``(status, objective, purchases)`` of it, as before.  Both give CBC
`ORACLE_SECONDS` in all unless told otherwise:

- status "optimal": proven optimum; objective is recomputed with
  `checker.objective` from the rounded plan, purchases is
  ``{offer: {period: units}}`` without sites and ``{offer: {site: {period:
  units}}}`` with sites (every offer, hosting site and period present);
- "infeasible": (None, {});
- "not_solved": CBC stopped (time limit) without a proof; the plan and its
  objective are returned if CBC had one, else (None, {});
- "error": anything else CBC reports.

With demand scenarios, purchases is ``{scenario: plan}`` and builds
``{scenario: builds}``; builds are ``{site: {period: GW}}`` for the sites with
a power_build (site "" for a top-level power_build; {} without power_build) --
the checker's mapping forms.

HHI is quadratic and not modelled: `hhi_weight > 0` or `max_hhi` raise
NotImplementedError.

Model ("The model" plus "Commercial terms, sites and workloads"):

- k[i,s,t] integer lots of offer i for site s (only sites hosting the vendor),
  b = lot_size·k; B[i,t] = Σ_s b[i,s,t] carries max_units and min_order.
- capex[i,t] of B[i,t]: one price -> linear.  incremental tiers -> segment
  variables q_k in [0, from_{k+1} − from_k], B = Σ q_k, capex = Σ price_k·q_k,
  with "segment k reached" binaries (q_{k−1} full before q_k > 0) when some
  price falls from one tier to the next, or when the vendor has a min_spend
  (cheaper-first filling then is not automatic: a fake larger capex late in
  the horizon is discounted in the objective but lowers the undiscounted
  take-or-pay).  all_units tiers -> one binary per reachable tier, B split into
  per-tier parts ceil(from_k)·z_k <= B_k <= (ceil(from_{k+1}) − 1)·z_k
  (B is integral), capex = Σ price_k·B_k.
- take-or-pay tp_v >= min_spend_v − Σ capex of v, tp_v >= 0; objective += tp_v
  (undiscounted) and total_budget row: Σ capex + Σ tp <= total_budget;
  max_spend: Σ capex of v <= max_spend_v.
- sites: fleet n[i,s,t] per site; site power rows pue_s·IT_s <= 1e6·cap_s
  (site cap defaults to the top-level one), top-level Σ_s pue_s·IT_s <= 1e6·cap;
  energy Σ_s price_s·8.76·pue_s·IT_s.
- workloads: continuous x[i,w,t] >= 0 (only where efficiency > 0),
  Σ_w x[i,w,t] <= n[i,t], Σ_i eff·compute·x[i,w,t] >= demand_{w,t}; no C >= demand row.

Contract v2:

- unserved demand: u[t] (variables us_...) in [0, max(0, demand_t)] enters the demand row,
  C[t] + u[t] >= demand_t (with workloads u[w,t] in each workload row),
  cost += Σ_t d_t·unserved_penalty·Σ_w u[w,t].
- power build-out, per site with a power_build: g[s,t] GW started, integer
  nb[s,t] blocks (g = block_gw·nb) or a continuous variable in kW (g = kW/1e6);
  g[s,t] <= max_gw_t; fixed_cost_t > 0 gets a binary yb[s,t] with
  g[s,t] <= M_t·yb[s,t]; F_t = cost_per_gw_t·g + fixed_cost_t·yb in the cost
  (discounted), in budget_t and in total_budget; the site's power row
  pue_s·IT_s <= 1e6·(cap_t + Σ_{τ+lead_time <= t} g[s,τ]) (cap 0 if missing).
  M_t = min(max_gw_t, P_s − min(0, min_t cap_t)) with P_s = pue_s·Σ_i
  power_kw_i·(installed_{i,s} + Σ_t lot_i·K[i,s,t]) / 1e6, the most facility
  power any plan within the lot bounds can draw at s: in a plan with some
  g[s,τ] > M, cutting it to M (whole blocks: ceil(M/block_gw) blocks) keeps
  every power row (its cap is still >= P_s), keeps the fixed cost and lowers
  capex, so the bound cuts off no optimum.  The lot bounds' power term uses
  cap_t + Σ max_gw (none if max_gw is unlimited).
- demand scenarios: the extensive form -- every variable above once per
  scenario (names prefixed w<j>_), every constraint in every scenario with its
  demand, and explicit equalities k[ω,i,s,t] = k[ω',i,s,t], nb / g[ω,s,t] =
  nb / g[ω',s,t] for scenarios with equal demand (every workload) in every
  τ <= t (`spec.shared_history`).  The generous bound G uses the largest
  demand of any scenario, so the lot bounds are the same in every scenario.
  objective = Σ_ω p_ω·objective_ω + scenario_cvar_weight·(η + Σ_ω p_ω·v_ω/(1−α)),
  v_ω >= cost_ω − η, v_ω >= 0 (Rockafellar–Uryasev; if Σ p_ω < 1 − α, which the
  1e-9 tolerance allows only for α = 0, the p_ω are rescaled to sum to 1 so η
  stays bounded).  Tied continuous builds are copied from the first scenario of
  their group when read back.

Contract v3, "two vendor rules":

- min_share: C[v,t] >= min_share_v·C[t] (operational, raw compute), a row only in
  periods whose (this path's) total demand is > 0 and only when min_share_v > 0.
- max_new_compute: Σ_{i of v} compute_i·B[i,t] <= max_new_compute_v[t], B the
  units bought in t summed over sites (counted in t whatever the lead time).

Contract v3, "capacity options":

- r[x] integer lots reserved, 0..floor(max_units_x / lot); ke[x,s,t] integer lots exercised
  at each site s hosting the offer's vendor in each period t of reserve_period..
  exercise_until, 0..that many, with Σ_{s,t} ke[x,s,t] <= r[x].  lot·ke joins the fleet
  n[i,s,t] of the offer like a purchase at s in t (lead time, lifetime); it is not in
  B[i,t], so the offer's max_units, min_order, price tiers and the vendor's
  max_new_compute ignore it.  Option capex reserve_cost·lot·r[x] (in reserve_period) +
  exercise_price_t·lot·Σ_s ke[x,s,t] is in capex_t (cost, budget_t, total_budget) and in
  the vendor's spend (max_spend, take-or-pay); ke[x,s,t] <= top·z_v ties exercising (not
  reserving) to the onboarding indicator.  With demand scenarios r[x] is equal across
  the scenarios sharing history up to reserve_period, ke[x,s,t] across those sharing it
  up to t.  Returned as `ReferencePlan.options` (the checker's mapping form, per scenario
  for a tree).
- Bounds: the option variables are bounded by the option itself (not the offer's
  max_units).  The purchase bounds K below that hold for every feasible plan stay valid
  (option capex and option units only add to the budget, spend and power rows, and the
  allocation row leaves them out).  The heuristic G counts the most compute the options
  can bring (Σ_x compute·lot·floor(max_units/lot)) with the installed compute that other
  vendors may have to dilute below max_share, and the build bound P_s counts the power of
  every option unit that could be placed at s (else a plan powering units only an option
  supplies would be cut off).

Big-M constants.  Every integer lot variable k[i,s,t] gets an upper bound
K[i,s,t], which is also the big-M of its indicators (min_order, onboarding),
and U[i,t] = min(max_units_t, Σ_s lot·K[i,s,t]) bounds B[i,t] (the big-M of the
tier binaries).  K[i,s,t] is the smallest of

- max_units_t (spec bound); budget_t / p_min, total_budget / p_min and
  max_spend_v / p_min, with p_min the lowest tier price of (i, t), since
  capex(B) >= p_min·B for both discount kinds and every capex / take-or-pay
  term is >= 0; max_new_compute_v[t] / compute_i (every other offer of v adds
  compute >= 0 to the row); and 1e6·cap_{t+lead} / (pue_s·power_kw) for the site cap and
  the top-level cap when the units become operational inside the horizon (they
  then draw power at site s in period t+lead, all other fleet terms >= 0).
  These hold for *every* feasible plan, so they cut nothing off;
- a generous bound G used when none of the above is finite.  More compute than
  needed only costs (every cost term is >= 0) and only helps demand, workload,
  share, vendor-count, vendor-loss and shortfall constraints up to a point:
  operational compute beyond  max_t demand_t / a_min  (a_min = smallest positive
  scenario availability), divided by the offer's smallest positive efficiency,
  plus what is needed to dilute the installed compute below the tightest
  max_share (installed compute / min max_share) never helps.  Buying more can
  also lower cost in two ways the spec allows: all_units tiers (reaching a
  cheaper tier: never beyond the last from_units) and take-or-pay (capex up to
  min_spend_v replaces take-or-pay, never beyond min_spend_v / p_min units).
  The compute to dilute also counts, per period, the smallest admissible
  purchase of every offer (a min_order may force a big one that the other
  vendors must then balance).  min_share floors (contract v3) can force buying
  beyond all that: a vendor must match m_v of the total, so forced compute F
  elsewhere (installed units, other floors' purchases) drags it up.  The least
  total C with Σ_v max(F_v, m_v·C) <= C is at most F / (1 − Σ m) (if Σ m < 1)
  and, when every vendor has a floor, max_v F_v / m_v <= F / min m; the
  compute bound is multiplied by the smaller of these (`_floor_scale`; 1
  without floors).  max_new_compute only removes plans and weakens nothing.
  G is 4x the compute bound in units of this
  offer, plus the last from_units, min_spend / p_min, min_order and one lot.
  This is a heuristic argument (lifetime windows, lot rounding and sites make a
  proof fiddly), so it is guarded: if the optimum puts some k at a G-derived
  bound, or the model is infeasible while some bound is G-derived, it is
  re-solved with G multiplied by 16 (a superset of plans), repeatedly until two
  consecutive answers agree (RuntimeError if G x 4096 is still not enough).  With K moderate
  (hundreds of lots for the strategies' instances) an indicator is never
  "almost 0" within CBC's integrality tolerance.
"""

from __future__ import annotations

import atexit
import math
import shutil
import tempfile
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulp

from . import checker
from .spec import KW_PER_GW, MWH_PER_KW_YEAR, Offer, Problem, Site, parse, scenario_problems, shared_history

_OPT_TOL = 1e-7  # relative agreement required between the two solves of the guard

#: Seconds of CBC per problem in the oracle tests (the default `time_limit`, shared by every
#: solve of the G guard): a draw the reference cannot prove in this time is "not_solved" and
#: its comparison is skipped, and a failing draw (re-run many times while hypothesis shrinks
#: it) reports within seconds.  The strategies' problems take CBC milliseconds.
ORACLE_SECONDS = 5.0

# The CBC bundled with PuLP (2.10.3) has preprocessing (CglPreProcess) bugs that
# return a *suboptimal* plan labelled optimal on some of these tiny models (seen
# here: a 3-period, 1-offer instance with max_cvar reduced to 0 rows and the
# wrong plan; cf. coin-or/Cbc issues #283, #720).  Found by the brute-force
# comparison; switching preprocessing off fixes it and costs nothing at this size.
CBC_OPTIONS = ["preprocess off"]


@dataclass
class ReferencePlan:
    """What `solve_reference_plan` returns (see the module docstring for the forms)."""

    status: str
    objective: float | None
    purchases: dict = field(default_factory=dict)
    builds: dict = field(default_factory=dict)
    model_objective: float | None = None  # the MIP's objective at CBC's solution (objective is the checker's)
    options: dict = field(default_factory=dict)  # the plan's capacity options, in the checker's mapping form


def _max_demand(p: Problem) -> float:
    """Largest demand of any period (and any demand scenario)."""
    values = [d for _, _, q in scenario_problems(p) for d in q.demand.values()]
    return max(values, default=0.0)


def _generous_units(p: Problem, o: Offer, dmax: float | None = None) -> float:
    """Heuristic bound G (units of offer `o` per period and site), see module docstring."""
    avails = [a for s in p.risk.scenarios for a in s.availability.values() if a > 0]
    a_min = min([*avails, 1.0])
    s_min = min(v.max_share for v in p.vendors.values())
    installed = sum(q.compute * q.installed for q in p.offers)
    # Units exercised through options (contract v3) are bounded by the options: like installed
    # units, compute a plan may bring in that other vendors may have to dilute.
    installed += sum(
        p.option_offer(x).compute * p.option_offer(x).lot_size * x.max_lots(p.option_offer(x).lot_size)
        for x in p.options
    )
    # Compute that may have to be diluted below max_share: the installed units plus, per
    # period, the smallest admissible purchase of every offer (min_order can force a big one).
    smallest = sum(q.compute * max(q.lot_size, q.lot_size * math.ceil(q.min_order / q.lot_size)) for q in p.offers)
    if dmax is None:
        dmax = max(p.demand.values())
    need = (dmax / a_min + (installed + len(p.periods) * smallest) / s_min) * _floor_scale(p)
    e_min = 1.0
    if p.workloads is not None:
        e_min = min([1.0, *(o.eff(w) for w in p.workloads if o.eff(w) > 0)])
    extra = o.tiers[-1].from_units if o.discount == "all_units" else 0.0
    min_spend = p.vendors[o.vendor].min_spend
    if min_spend > 0:
        prices = [o.min_price(period) for period in p.periods if o.min_price(period) > 0]
        if prices:
            extra += min_spend / min(prices)
    return 4.0 * max(0.0, need) / (o.compute * e_min) + extra + o.min_order + o.lot_size


def _floor_scale(p: Problem) -> float:
    """How much min_share floors can multiply the total compute a plan needs (module docstring)."""
    floors = [v.min_share for v in p.vendors.values() if v.min_share > 0]
    if not floors:
        return 1.0
    scales = []
    if sum(floors) < 1.0:
        scales.append(1.0 / (1.0 - sum(floors)))
    if len(floors) == len(p.vendors):
        scales.append(1.0 / min(floors))
    # (floors summing to 1 with a vendor left without one: that vendor must have no compute
    # in periods with demand; its installed units then make the problem infeasible.)
    return min(scales) if scales else 1.0 / min(floors)


def _max_site_cap(p: Problem, s: Site, t: int) -> float | None:
    """Most GW site s's power row can allow in period index t (None = unbounded)."""
    if s.power_cap_gw is None:
        return None
    cap = s.power_cap_gw[p.periods[t]]
    pb = s.power_build
    if pb is not None:
        if pb.max_gw is None:
            return None
        cap += sum(pb.max_gw[period] for tau, period in enumerate(p.periods) if tau + pb.lead_time <= t)
    return cap


def _lot_bound(p: Problem, o: Offer, s: Site, t: int, factor: float, dmax: float) -> tuple[int, bool]:
    """(K[i,s,t] in lots, whether it comes from the generous bound G)."""
    period = p.periods[t]
    bounds: list[float] = []
    if o.max_units is not None:
        bounds.append(o.max_units[period])
    price = o.min_price(period)
    if price > 0:
        # Facility capex is >= 0, so these budget bounds hold with power builds too.
        if p.budget is not None:
            bounds.append(max(0.0, p.budget[period]) / price)
        if p.total_budget is not None:
            bounds.append(max(0.0, p.total_budget) / price)
        max_spend = p.vendors[o.vendor].max_spend
        if max_spend is not None:
            bounds.append(max(0.0, max_spend) / price)
    allocation = p.vendors[o.vendor].max_new_compute
    if allocation is not None:  # compute_o · B[o,t] <= the vendor's allocation (other terms >= 0)
        bounds.append(max(0.0, allocation[period]) / o.compute)
    start = t + o.lead_time
    if o.power_kw > 0 and start < len(p.periods):
        caps = [None if p.power_cap_gw is None else p.power_cap_gw[p.periods[start]], _max_site_cap(p, s, start)]
        for cap in caps:
            if cap is not None:
                bounds.append(max(0.0, KW_PER_GW * cap) / (s.pue * o.power_kw))
    g = factor * _generous_units(p, o, dmax)
    generous = not bounds or g < min(bounds)
    units = g if generous else min(bounds)
    return math.floor(units / o.lot_size + 1e-9), generous


class _Model:
    """An LpProblem plus the helpers every scenario's part of the model uses."""

    def __init__(self) -> None:
        self.m = pulp.LpProblem("procure_reference", pulp.LpMinimize)
        self.trivially_infeasible = False

    def var(
        self, name: str, lowBound: float | None = None, upBound: float | None = None, cat: str = "Continuous"
    ) -> pulp.LpVariable:
        if hasattr(self.m, "add_variable"):  # PuLP >= 3.3 attaches variables to the model
            return self.m.add_variable(name, lowBound, upBound, cat=cat)
        return pulp.LpVariable(name, lowBound, upBound, cat=cat)

    def add(self, constraint: pulp.LpConstraint, name: str | None = None) -> None:
        # Constraints without variables are checked here, not handed to CBC.  A row's name
        # (budgets and power caps have one) is how `_solution_faults` reports it.
        if len(constraint) == 0:
            if not constraint.valid(1e-9):
                self.trivially_infeasible = True
        else:
            self.m.addConstraint(constraint, name)


@dataclass
class _Path:
    """The variables and expressions of one demand path (one scenario) of the model."""

    k: dict  # (offer, site, t) -> lots
    kmax: dict  # (offer, site, t) -> (K, generous)
    build: dict  # (site, t) -> nb (blocks) or kW variable
    fixed: dict  # (site, t) -> fixed-cost binary
    cost: Any
    objective: Any
    r: dict = field(default_factory=dict)  # option -> lots reserved
    ke: dict = field(default_factory=dict)  # (option, site, t) -> lots exercised


def _add_path(M: _Model, p: Problem, tag: str, factor: float, dmax: float) -> _Path:
    """Variables and constraints of one demand path of `p` (a problem without demand scenarios)."""
    T = range(len(p.periods))

    def var(name: str, *args: Any, **kwargs: Any) -> pulp.LpVariable:
        return M.var(tag + name, *args, **kwargs)

    def add(constraint: pulp.LpConstraint, name: str | None = None) -> None:
        M.add(constraint, None if name is None else tag + name)

    # Lots per (offer, hosting site, period).
    k: dict[tuple[str, str, int], pulp.LpVariable] = {}
    kmax: dict[tuple[str, str, int], tuple[int, bool]] = {}
    U: dict[tuple[str, int], float] = {}  # bound on B[i,t] in units
    for i, o in enumerate(p.offers):
        hosts = p.sites_for(o)
        for t in T:
            lots = {s.name: _lot_bound(p, o, s, t, factor, dmax) for s in hosts}
            total = sum(o.lot_size * K for K, _ in lots.values())
            if o.max_units is not None:
                total = min(total, o.max_units[p.periods[t]])
            if total < o.min_order:  # no admissible positive purchase
                lots = {name: (0, generous) for name, (_, generous) in lots.items()}
                total = 0
            U[o.name, t] = total
            for j, s in enumerate(p.sites):
                if s.name in lots:
                    kmax[o.name, s.name, t] = lots[s.name]
                    k[o.name, s.name, t] = var(f"k_{i}_{j}_{t}", 0, lots[s.name][0], cat="Integer")
    lot = {o.name: o.lot_size for o in p.offers}
    vendor_of = {o.name: o.vendor for o in p.offers}
    b = {key: lot[key[0]] * kv for key, kv in k.items()}
    B = {
        (o.name, t): pulp.lpSum(b[o.name, s.name, t] for s in p.sites if (o.name, s.name, t) in b)
        for o in p.offers
        for t in T
    }

    # Capacity options (contract v3): r[x] lots reserved (<= floor(max_units / lot)), ke[x,s,t]
    # lots exercised at a site hosting the offer's vendor in each period of the window, in all
    # at most r[x].  Not bounded by the offer's max_units.
    r: dict[str, pulp.LpVariable] = {}
    ke: dict[tuple[str, str, int], pulp.LpVariable] = {}
    for j, x in enumerate(p.options):
        o = p.option_offer(x)
        top = x.max_lots(o.lot_size)
        r[x.name] = var(f"r_{j}", 0, top, cat="Integer")
        mine = []
        for jj, s in enumerate(p.sites):
            if s.hosts(o.vendor):
                for t in x.window(p.periods):
                    ke[x.name, s.name, t] = var(f"ke_{j}_{jj}_{t}", 0, top, cat="Integer")
                    mine.append(ke[x.name, s.name, t])
        if mine:
            add(pulp.lpSum(mine) <= r[x.name])
    # Units of each offer exercised at site s in period t (lot · ke, over the offer's options).
    exercised = {
        (o.name, s.name, t): pulp.lpSum(
            o.lot_size * ke[x.name, s.name, t] for x in p.options if x.offer == o.name and (x.name, s.name, t) in ke
        )
        for o in p.offers
        for s in p.sites
        for t in T
    }

    # With several hosting sites, the total number of lots as an integer variable of its own
    # (redundant, but CBC branches on it: an instance with 2 sites took 54 s without, 7 s with).
    for i, o in enumerate(p.offers):
        hosts = [s.name for s in p.sites_for(o)]
        if len(hosts) > 1:
            for t in T:
                top = sum(kmax[o.name, site, t][0] for site in hosts)
                add(var(f"ktot_{i}_{t}", 0, top, cat="Integer") == pulp.lpSum(k[o.name, site, t] for site in hosts))

    # max_units on the total over sites (per-site bounds already hold it for one site).
    for o in p.offers:
        if o.max_units is not None and len(p.sites_for(o)) > 1:
            for t in T:
                add(B[o.name, t] <= o.max_units[p.periods[t]])

    # min_order: B = 0 or B >= min_order (only binding when min_order > lot_size).
    for i, o in enumerate(p.offers):
        if o.min_order > o.lot_size:
            for t in T:
                if U[o.name, t] <= 0:
                    continue
                y = var(f"y_{i}_{t}", cat="Binary")
                add(B[o.name, t] >= o.min_order * y)
                add(B[o.name, t] <= U[o.name, t] * y)

    # Onboarding indicator z_v (only for vendors without installed units).
    onboarding = []
    for j, v in enumerate(p.vendors.values()):
        if v.onboarding_cost > 0 and not v.has_installed:
            z = var(f"z_{j}", cat="Binary")
            for (name, site, t), kv in k.items():
                if vendor_of[name] == v.name:
                    K = kmax[name, site, t][0]
                    if K > 0:
                        add(kv <= K * z)
            for x in p.options:  # exercising is buying from the vendor (reserving is not)
                top = x.max_lots(lot[x.offer])
                if vendor_of[x.offer] == v.name and top > 0:
                    for key, kv in ke.items():
                        if key[0] == x.name:
                            add(kv <= top * z)
            onboarding.append(v.onboarding_cost * z)

    # Capex of B[i,t] (price tiers).
    capex: dict[tuple[str, int], Any] = {}
    for i, o in enumerate(p.offers):
        for t, period in enumerate(p.periods):
            capex[o.name, t] = _tier_capex(p, o, t, period, B[o.name, t], U[o.name, t], var, add, f"{i}_{t}")
    # Option capex (contract v3): reserve_cost per unit reserved in reserve_period, exercise_price_t
    # per unit exercised in t; capex of the offer's vendor (budget_t, total_budget, spend).
    option_capex: dict[tuple[str, int], Any] = {}
    for x in p.options:
        lot_x = lot[x.offer]
        for t, period in enumerate(p.periods):
            terms = [
                x.exercise_price[period] * lot_x * ke[x.name, s.name, t] for s in p.sites if (x.name, s.name, t) in ke
            ]
            if period == x.reserve_period:
                terms.append(x.reserve_cost * lot_x * r[x.name])
            option_capex[x.name, t] = pulp.lpSum(terms)

    # Fleet per site, vendor compute, power.
    n_site = {}
    for o in p.offers:
        for s in p.sites:
            for t in T:
                inst = o.installed_at.get(s.name, 0) if (o.installed_life is None or t < o.installed_life) else 0
                live = [
                    tau
                    for tau in T
                    if tau + o.lead_time <= t and (o.lifetime is None or t < tau + o.lead_time + o.lifetime)
                ]
                bought = [b[o.name, s.name, tau] for tau in live if (o.name, s.name, tau) in b]
                bought += [exercised[o.name, s.name, tau] for tau in live]
                n_site[o.name, s.name, t] = pulp.lpSum(bought) + inst
    n = {(o.name, t): pulp.lpSum(n_site[o.name, s.name, t] for s in p.sites) for o in p.offers for t in T}
    C = {(v, t): pulp.lpSum(o.compute * n[o.name, t] for o in p.offers_of(v)) for v in p.vendors for t in T}
    Ctot = {t: pulp.lpSum(C[v, t] for v in p.vendors) for t in T}
    it_kw = {
        (s.name, t): pulp.lpSum(o.power_kw * n_site[o.name, s.name, t] for o in p.offers) for s in p.sites for t in T
    }
    capex_t = {
        t: pulp.lpSum(capex[o.name, t] for o in p.offers) + pulp.lpSum(option_capex[x.name, t] for x in p.options)
        for t in T
    }

    # Power build-out: g[s,t] in kW (expression), facility capex F_t.
    build: dict[tuple[str, int], pulp.LpVariable] = {}
    fixed: dict[tuple[str, int], pulp.LpVariable] = {}
    g_kw: dict[tuple[str, int], Any] = {}
    facility: dict[int, list[Any]] = {t: [] for t in T}
    for j, s in enumerate(p.sites):
        pb = s.power_build
        if pb is None:
            continue
        bound = _build_bound(p, s, kmax)
        for t, period in enumerate(p.periods):
            if pb.block_gw is not None:
                top = math.ceil(bound / pb.block_gw - 1e-9)
                if pb.max_gw is not None:
                    top = min(top, math.floor(pb.max_gw[period] / pb.block_gw + 1e-9))
                v = var(f"nb_{j}_{t}", 0, max(0, top), cat="Integer")
                g_kw[s.name, t] = KW_PER_GW * pb.block_gw * v
            else:
                top = bound if pb.max_gw is None else min(bound, pb.max_gw[period])
                top = KW_PER_GW * max(0.0, top)
                v = var(f"gkw_{j}_{t}", 0, top)
                g_kw[s.name, t] = v
            build[s.name, t] = v
            f_t = (pb.cost_per_gw[period] / KW_PER_GW) * g_kw[s.name, t]
            if pb.fixed_cost[period] > 0 and top > 0:
                yb = var(f"yb_{j}_{t}", cat="Binary")
                add(v <= top * yb)
                fixed[s.name, t] = yb
                f_t = f_t + pb.fixed_cost[period] * yb
            facility[t].append(f_t)
    facility_t = {t: pulp.lpSum(facility[t]) for t in T}

    risk = p.risk
    if risk.min_vendors > len(p.vendors):
        M.trivially_infeasible = True
    unserved: dict[int, list[Any]] = {t: [] for t in T}
    for t, period in enumerate(p.periods):
        d = p.demand[period]
        if p.workloads is None:
            if p.unserved_penalty is not None:
                u = var(f"us_{t}", 0, max(0.0, d))
                unserved[t].append(u)
                add(Ctot[t] + u >= d)
            else:
                add(Ctot[t] >= d)
        if p.power_cap_gw is not None:
            add(
                pulp.lpSum(s.pue * it_kw[s.name, t] for s in p.sites) <= KW_PER_GW * p.power_cap_gw[period],
                f"power_cap_{t}",
            )
        for j, s in enumerate(p.sites):
            if s.power_cap_gw is None:
                continue
            ready = [g_kw[s.name, tau] for tau in T if s.power_build is not None and tau + s.power_build.lead_time <= t]
            add(
                s.pue * it_kw[s.name, t] <= KW_PER_GW * s.power_cap_gw[period] + pulp.lpSum(ready),
                f"site_power_cap_{j}_{t}",
            )
        if p.budget is not None:
            add(capex_t[t] + facility_t[t] <= p.budget[period], f"budget_{t}")
        for j, (v, vendor) in enumerate(p.vendors.items()):
            if vendor.max_share < 1:
                add(C[v, t] <= vendor.max_share * Ctot[t])
            # Contract v3: the floor only in periods with demand, only when there is one.
            if vendor.min_share > 0 and d > 0:
                add(C[v, t] >= vendor.min_share * Ctot[t], f"min_share_{j}_{t}")
            # Contract v3: the allocation, over units bought in t (every site, before lead time).
            if vendor.max_new_compute is not None:
                bought = pulp.lpSum(o.compute * B[o.name, t] for o in p.offers_of(v))
                add(bought <= vendor.max_new_compute[period], f"max_new_compute_{j}_{t}")
        if risk.min_vendors > 0:
            w = {v: var(f"w_{j}_{t}", cat="Binary") for j, v in enumerate(p.vendors)}
            for v in p.vendors:
                add(C[v, t] >= risk.min_vendor_share * d * w[v])
            add(pulp.lpSum(w.values()) >= risk.min_vendors)
        if risk.survive_vendor_loss > 0:
            for v in p.vendors:
                add(Ctot[t] - C[v, t] >= risk.survive_vendor_loss * d)

    # Workloads: continuous split (with unserved_penalty, u[w,t] in each row).
    if p.workloads is not None:
        for t, period in enumerate(p.periods):
            x = {}
            for i, o in enumerate(p.offers):
                for j, w in enumerate(p.workloads):
                    if o.eff(w) > 0:
                        x[o.name, w] = var(f"x_{i}_{j}_{t}", lowBound=0)
                parts = [x[o.name, w] for w in p.workloads if (o.name, w) in x]
                if parts:
                    add(pulp.lpSum(parts) <= n[o.name, t])
            for j, (w, dem) in enumerate(p.workloads.items()):
                if dem[period] > 0:
                    served = pulp.lpSum(o.eff(w) * o.compute * x[o.name, w] for o in p.offers if (o.name, w) in x)
                    if p.unserved_penalty is not None:
                        u = var(f"us_{j}_{t}", 0, dem[period])
                        unserved[t].append(u)
                        served = served + u
                    add(served >= dem[period])

    # Vendor spend: max_spend and take-or-pay (facility capex is not vendor spend).
    vendor_capex = {
        v: pulp.lpSum(capex[o.name, t] for o in p.offers_of(v) for t in T)
        + pulp.lpSum(option_capex[x.name, t] for x in p.options if vendor_of[x.offer] == v for t in T)
        for v in p.vendors
    }
    take_or_pay = []
    for j, (v, vendor) in enumerate(p.vendors.items()):
        if vendor.max_spend is not None:
            add(vendor_capex[v] <= vendor.max_spend)
        if vendor.min_spend > 0:
            tp = var(f"tp_{j}", lowBound=0)
            add(tp >= vendor.min_spend - vendor_capex[v])
            take_or_pay.append(tp)
    if p.total_budget is not None:
        total = pulp.lpSum(capex_t.values()) + pulp.lpSum(take_or_pay) + pulp.lpSum(facility_t.values())
        add(total <= p.total_budget, "total_budget")

    disc = {t: p.discount(t) for t in T}
    penalty = p.unserved_penalty or 0.0
    cost = (
        pulp.lpSum(
            disc[t]
            * (
                capex_t[t]
                + pulp.lpSum(o.opex_per_year * n[o.name, t] for o in p.offers)
                + pulp.lpSum(
                    s.electricity_price[p.periods[t]] * MWH_PER_KW_YEAR * s.pue * it_kw[s.name, t] for s in p.sites
                )
                + facility_t[t]
                + penalty * pulp.lpSum(unserved[t])
            )
            for t in T
        )
        + pulp.lpSum(onboarding)
        + pulp.lpSum(take_or_pay)
    )
    objective = cost

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
        objective = objective + risk.risk_weight * cvar
        if risk.max_cvar is not None:
            add(cvar <= risk.max_cvar)
    return _Path(k, kmax, build, fixed, cost, objective, r, ke)


def _build_bound(p: Problem, s: Site, kmax: dict) -> float:
    """P_s − min(0, min_t cap_t) in GW (module docstring): no optimum builds more in one period."""
    kw = 0.0
    for o in p.offers:
        units = o.installed_at.get(s.name, 0) + sum(
            o.lot_size * kmax[o.name, s.name, t][0] for t in range(len(p.periods)) if (o.name, s.name, t) in kmax
        )
        kw += o.power_kw * units
    for x in p.options:  # every reservable unit may be exercised at s
        o = p.option_offer(x)
        if s.hosts(o.vendor) and x.window(p.periods):
            kw += o.power_kw * o.lot_size * x.max_lots(o.lot_size)
    low = min([0.0, *s.power_cap_gw.values()]) if s.power_cap_gw is not None else 0.0
    return s.pue * kw / KW_PER_GW - low


def _build(p: Problem, factor: float) -> tuple[_Model, list[_Path]]:
    """The model: one path without demand scenarios, else the extensive form."""
    M = _Model()
    dmax = _max_demand(p)
    scen = scenario_problems(p)
    paths = [_add_path(M, q, f"w{j}_" if p.demand_scenarios else "", factor, dmax) for j, (_, _, q) in enumerate(scen)]
    if not p.demand_scenarios:
        M.m += paths[0].objective
        return M, paths
    probs = [prob for _, prob, _ in scen]
    objective = pulp.lpSum(prob * path.objective for prob, path in zip(probs, paths))
    weight, alpha = p.risk.scenario_cvar_weight, p.risk.scenario_cvar_alpha
    if weight > 0:
        scale = 1.0 if sum(probs) >= 1.0 - alpha else 1.0 / sum(probs)  # see the module docstring
        eta = M.var("scvar_eta")  # free
        tail = []
        for j, (prob, path) in enumerate(zip(probs, paths)):
            v = M.var(f"scvar_v_{j}", lowBound=0)
            M.add(v >= path.cost - eta)
            tail.append(prob * scale * v)
        objective = objective + weight * (eta + (1.0 / (1.0 - alpha)) * pulp.lpSum(tail))
    # Non-anticipativity by shared history.
    index = {name: j for j, (name, _, _) in enumerate(scen)}
    for t, groups in enumerate(shared_history(p)):
        for group in groups:
            first = paths[index[group[0]]]
            for other_name in group[1:]:
                other = paths[index[other_name]]
                for key, kv in first.k.items():
                    if key[2] == t:
                        M.add(kv == other.k[key])
                for key, v in first.build.items():
                    if key[1] == t:
                        M.add(v == other.build[key])
                for x in p.options:  # the reservation at the node of reserve_period
                    if p.periods[t] == x.reserve_period:
                        M.add(first.r[x.name] == other.r[x.name])
                for key, v in first.ke.items():
                    if key[2] == t:
                        M.add(v == other.ke[key])
    M.m += objective
    return M, paths


def _tier_capex(p: Problem, o: Offer, t: int, period: int, Bexpr, Umax: float, var, add, tag: str):
    """Capex expression of B units of `o` bought in `period` (see module docstring)."""
    prices = [tier.unit_cost[period] for tier in o.tiers]
    froms = [tier.from_units for tier in o.tiers]
    if Umax <= 0:
        return 0
    if o.discount == "all_units":
        parts = []
        for kk in range(len(o.tiers)):
            lo = math.ceil(froms[kk] - 1e-9)
            hi = Umax if kk + 1 == len(o.tiers) else min(Umax, math.ceil(froms[kk + 1] - 1e-9) - 1)
            if lo <= hi:
                parts.append((lo, hi, prices[kk]))
        if len(parts) == 1 or len({pr for _, _, pr in parts}) == 1:
            return parts[0][2] * Bexpr
        zs, bs = [], []
        for kk, (lo, hi, _) in enumerate(parts):
            z = var(f"au_z_{tag}_{kk}", cat="Binary")
            bk = var(f"au_b_{tag}_{kk}", lowBound=0)
            add(bk >= lo * z)
            add(bk <= hi * z)
            zs.append(z)
            bs.append(bk)
        add(pulp.lpSum(zs) == 1)
        add(pulp.lpSum(bs) == Bexpr)
        return pulp.lpSum(pr * bk for (_, _, pr), bk in zip(parts, bs))
    # incremental
    segs = []
    for kk in range(len(o.tiers)):
        if froms[kk] >= Umax:
            break
        upper = Umax if kk + 1 == len(o.tiers) else min(Umax, froms[kk + 1])
        segs.append((upper - froms[kk], prices[kk]))
    if len(segs) == 1 or len({pr for _, pr in segs}) == 1:
        return segs[0][1] * Bexpr
    qs = [var(f"inc_q_{tag}_{kk}", 0, length) for kk, (length, _) in enumerate(segs)]
    add(pulp.lpSum(qs) == Bexpr)
    falling = any(segs[kk + 1][1] < segs[kk][1] for kk in range(len(segs) - 1))
    if falling or p.vendors[o.vendor].min_spend > 0:
        for kk in range(1, len(segs)):
            y = var(f"inc_y_{tag}_{kk}", cat="Binary")
            add(qs[kk - 1] >= segs[kk - 1][0] * y)
            add(qs[kk] <= segs[kk][0] * y)
    return pulp.lpSum(pr * q for (_, pr), q in zip(segs, qs))


def _read_options(p: Problem, path: _Path) -> dict[str, dict[str, Any]]:
    """The path's options in the checker's form: {option: {"reserved": units, "exercised":
    {period: units}}} ({site: {period: units}} with sites, every hosting site and period)."""
    out: dict[str, dict[str, Any]] = {}
    for x in p.options:
        lot = p.option_offer(x).lot_size
        by_site: dict[str, dict[int, float]] = {}
        for s in p.sites_for(p.option_offer(x)):
            by_site[s.name] = {
                period: float(lot * round(path.ke[x.name, s.name, t].varValue or 0.0))
                if (x.name, s.name, t) in path.ke
                else 0.0
                for t, period in enumerate(p.periods)
            }
        exercised = by_site if p.has_sites else next(iter(by_site.values()), {})
        out[x.name] = {"reserved": float(lot * round(path.r[x.name].varValue or 0.0)), "exercised": exercised}
    return out


def _read_path(p: Problem, path: _Path) -> tuple[dict, dict, bool]:
    """(purchases, builds, whether some lot count sits at a G-derived bound) of one path."""
    purchases: dict[str, Any] = {}
    at_generous = False
    for o in p.offers:
        by_site: dict[str, dict[int, float]] = {}
        for s in p.sites_for(o):
            by_site[s.name] = {}
            for t, period in enumerate(p.periods):
                lots = round(path.k[o.name, s.name, t].varValue or 0.0)
                by_site[s.name][period] = float(lots * o.lot_size)
                K, generous = path.kmax[o.name, s.name, t]
                if generous and lots >= K and K > 0:
                    at_generous = True
        if p.has_sites:
            purchases[o.name] = by_site
        else:
            purchases[o.name] = next(iter(by_site.values()))
    builds: dict[str, dict[int, float]] = {}
    for s in p.build_sites():
        pb = s.power_build
        row = {}
        for t, period in enumerate(p.periods):
            value = path.build[s.name, t].varValue or 0.0
            if pb.block_gw is not None:
                gw = pb.block_gw * round(value)
            else:
                gw = max(0.0, value) / KW_PER_GW
            yb = path.fixed.get((s.name, t))
            if yb is not None and round(yb.varValue or 0.0) == 0:
                gw = 0.0  # no fixed cost paid: no build (g <= M·yb within CBC's integrality tolerance)
            row[period] = gw
        builds[s.name] = row
    return purchases, builds, at_generous


def _left(deadline: float) -> float:
    return deadline - time.monotonic()


def _solution_faults(m: pulp.LpProblem, tol: float = 1e-6) -> str:
    """Whether CBC's solution keeps the model's own rows and integrality: tells a reference
    plan the checker rejects because CBC broke its model (a solver fault) from one that
    keeps the model (the model and the checker read the spec differently)."""
    rows = []
    for name, c in m.constraints.items():
        lhs = sum(a * (v.varValue or 0.0) for v, a in c.items())
        rhs = -c.constant
        excess = {pulp.LpConstraintLE: lhs - rhs, pulp.LpConstraintGE: rhs - lhs}.get(c.sense, abs(lhs - rhs))
        if excess > tol * max(1.0, abs(rhs)):
            rows.append(f"{name}: {lhs:.10g} vs {rhs:.10g}")
    fractional = [
        f"{v.name} = {v.varValue!r}"
        for v in m.variables()
        if v.cat == pulp.LpInteger and abs((v.varValue or 0.0) - round(v.varValue or 0.0)) > tol
    ]
    if not rows and not fractional:
        return "CBC's solution keeps every row of the model: the model and the checker disagree"
    return f"CBC's solution breaks its own model (a solver fault): rows {rows[:5]}, fractional {fractional[:5]}"


_SCRATCH = tempfile.mkdtemp(prefix="procure-reference-")
atexit.register(shutil.rmtree, _SCRATCH, True)


def cbc_solver(**options: Any) -> Any:
    """PuLP's CBC with its files in a folder removed at exit (PuLP keeps them when CBC fails)."""
    solver = pulp.PULP_CBC_CMD(msg=False, gapRel=0, **options)
    solver.tmpDir = _SCRATCH
    return solver


def _solve_once(p: Problem, deadline: float, factor: float) -> tuple[ReferencePlan, bool]:
    """(plan, whether a G-derived bound may have mattered); CBC stops at `deadline` (time.monotonic)."""
    M, paths = _build(p, factor)
    m = M.m
    uses_generous = any(generous for path in paths for _, generous in path.kmax.values())
    if M.trivially_infeasible:
        return ReferencePlan("infeasible", None), False
    if _left(deadline) <= 0:
        return ReferencePlan("not_solved", None), False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # PULP_CBC_CMD is deprecated in PuLP 3.3
        try:
            m.solve(cbc_solver(timeLimit=_left(deadline), options=CBC_OPTIONS))
        except pulp.PulpSolverError:
            # With preprocessing off, CBC 2.10.3 exits without a solution file when
            # bound tightening proves infeasibility ("Problem is infeasible -
            # tightenPrimalBounds!"); PuLP then raises.  Re-solve with defaults.
            if _left(deadline) <= 0:
                return ReferencePlan("not_solved", None), False
            m.solve(cbc_solver(timeLimit=_left(deadline)))
    status = pulp.LpStatus[m.status]
    has_plan = m.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    if status == "Infeasible" or m.sol_status == pulp.LpSolutionInfeasible:
        return ReferencePlan("infeasible", None), uses_generous  # G might be what made it infeasible
    if status not in ("Optimal", "Not Solved") or (status == "Optimal" and not has_plan):
        return ReferencePlan("error", None), False
    if not has_plan:
        return ReferencePlan("not_solved", None), False
    scen = scenario_problems(p)
    read = [_read_path(q, path) for (_, _, q), path in zip(scen, paths)]
    at_generous = any(flag for _, _, flag in read)
    if not p.demand_scenarios:
        purchases, builds, _ = read[0]
        options = _read_options(p, paths[0])
    else:
        purchases = {name: r[0] for (name, _, _), r in zip(scen, read)}
        builds = {name: r[1] for (name, _, _), r in zip(scen, read)}
        options = {name: _read_options(q, path) for (name, _, q), path in zip(scen, paths)}
        # Tied continuous builds: copy the group's first value (CBC returns them equal only
        # up to its tolerances).
        for t, groups in enumerate(shared_history(p)):
            period = p.periods[t]
            for group in groups:
                for other in group[1:]:
                    for site in builds[group[0]]:
                        builds[other][site][period] = builds[group[0]][site][period]
    problems = checker.violations(p, purchases, builds=builds, options=options)
    if problems:
        raise RuntimeError(f"reference model returned a plan that breaks the spec: {problems}; {_solution_faults(m)}")
    proven = status == "Optimal" and m.sol_status == pulp.LpSolutionOptimal
    obj = checker.objective(p, purchases, builds=builds, options=options)
    # (a variable CBC leaves without a value is 0, as the plan reads it)
    model_obj = m.objective.constant + sum(c * (v.varValue or 0.0) for v, c in m.objective.items())
    plan = ReferencePlan("optimal" if proven else "not_solved", obj, purchases, builds, model_obj, options)
    return plan, at_generous


def solve_reference_plan(problem: Mapping[str, Any] | Problem, time_limit: float = ORACLE_SECONDS) -> ReferencePlan:
    """Solve the spec's model with PuLP/CBC; see the module docstring.

    `time_limit` bounds CBC's seconds over every solve of the G guard together: when it runs
    out before an answer is proven, the status is "not_solved".
    """
    p = parse(problem)
    if p.risk.hhi_weight > 0 or p.risk.max_hhi is not None:
        raise NotImplementedError("reference PuLP model has no HHI (quadratic) terms")
    deadline = time.monotonic() + time_limit
    factor = 1.0
    plan, suspicious = _solve_once(p, deadline, factor)
    # Guard of the heuristic bound G (module docstring): while G may have mattered, re-solve
    # with a 16x larger G (a superset of plans) until two consecutive answers agree.
    while suspicious and plan.status in ("optimal", "infeasible"):
        factor *= 16.0
        if factor > 16.0**3:
            raise RuntimeError(f"generous big-M bound G still binding with G x {factor / 16:g}: {plan}")
        plan2, suspicious2 = _solve_once(p, deadline, factor)
        if plan2.status == "not_solved":  # out of time before the guard agreed: nothing proven
            return ReferencePlan(
                "not_solved", plan.objective, plan.purchases, plan.builds, plan.model_objective, plan.options
            )
        obj = plan.objective
        same = plan2.status == plan.status and (
            obj is None or abs(plan2.objective - obj) <= _OPT_TOL * max(1.0, abs(obj))
        )
        if same:
            break
        plan, suspicious = plan2, suspicious2
    return plan


def solve_reference(
    problem: Mapping[str, Any] | Problem, time_limit: float = ORACLE_SECONDS
) -> tuple[str, float | None, dict]:
    """``(status, objective, purchases)`` of `solve_reference_plan` (the v1 interface)."""
    plan = solve_reference_plan(problem, time_limit)
    return plan.status, plan.objective, plan.purchases
