"""What a purchase plan does, computed straight from the problem: fleet, compute,
power, spend, cost, and every constraint it breaks.

This module never looks at the optimization model.  It recomputes a plan's
consequences from the problem's inputs (`Problem.inputs`, where defaults are
applied once), so that `Result.check` is a real second opinion on what the
solver returned, and `Result.cost` is the cost of the plan itself rather than
a solver's floating-point objective.  `violations` runs every check (`CHECKS`): what
makes an array a plan is checked here, each requirement by its record
(`procure.problem.rules`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..base.limits import REQUIREMENT_TOL
from .format import Problem
from .inputs import KW_PER_GW, MWH_PER_KW_YEAR, Inputs, read_only
from .rules import RULES, Check, exceeds, split_misses

#: GW above which a build counts as started (and pays its fixed cost): 1 W.
BUILD_STARTED_GW = 1e-9

__all__ = [
    "BUILD_STARTED_GW",
    "CHECKS",
    "PlanEvaluation",
    "capex_of",
    "cvar",
    "evaluate",
    "fleet_of",
    "objective_of",
    "polish_split",
    "violations",
]


def fleet_of(inputs: Inputs, purchases: np.ndarray) -> np.ndarray:
    """(P, T) operational units per placement: installed units until ``installed_life``
    ends, each purchase from ``lead_time`` periods after it is bought for ``lifetime`` periods."""
    T = purchases.shape[1]
    t = np.arange(T)

    def arrived(delay: np.ndarray) -> np.ndarray:  # purchases[p, t − delay[p]], 0 before the horizon
        source = t[None, :] - delay[:, None]
        taken = np.take_along_axis(purchases, np.clip(source, 0, max(T - 1, 0)), axis=1)
        return np.where(source >= 0, taken, 0.0)

    lead = inputs.lead[inputs.offer_of]
    leave = lead + inputs.lifetime[inputs.offer_of]
    return inputs.installed_fleet + np.cumsum(arrived(lead) - arrived(leave), axis=1)


def capex_of(problem: Problem, bought: np.ndarray) -> np.ndarray:
    """(I, T) dollars paid for the units of each offer bought in each period: the flat
    price, or volume tiers (incremental: each unit at its own tier's price; all_units:
    every unit at the price of the highest tier the quantity reaches)."""
    out = np.zeros_like(bought, dtype=float)
    for i, offer in enumerate(problem.offers):
        if offer.price_tiers is None:
            out[i] = np.asarray(offer.unit_cost, dtype=float) * bought[i]
            continue
        starts = np.array([tier.from_units for tier in offer.price_tiers], dtype=float)
        prices = np.array([tier.unit_cost for tier in offer.price_tiers], dtype=float)  # (K, T)
        b = bought[i]
        if offer.discount == "all_units":
            reached = np.searchsorted(starts, b, side="right") - 1  # highest tier with from_units ≤ b
            out[i] = prices[reached, np.arange(len(b))] * b
        else:
            ends = np.append(starts[1:], np.inf)
            in_tier = np.clip(b[None, :] - starts[:, None], 0.0, (ends - starts)[:, None])
            out[i] = (prices * in_tier).sum(axis=0)
    return out


@dataclass(frozen=True)
class PlanEvaluation:
    """Consequences of one plan (arrays over placements ``P``, offers ``I``, vendors ``V``,
    sites ``S`` and periods ``T``); every array is read-only."""

    placed: np.ndarray  # (P, T) units bought per placement
    placed_fleet: np.ndarray  # (P, T) operational units per placement
    purchases: np.ndarray  # (I, T) units bought (over sites)
    fleet: np.ndarray  # (I, T) operational units (over sites)
    split: np.ndarray | None  # (I, W, T) units running each workload
    compute_by_vendor: np.ndarray  # (V, T)
    compute: np.ndarray  # (T,)
    site_power_gw: np.ndarray  # (S, T) facility power at each site
    power_gw: np.ndarray  # (T,) facility power over all sites
    capex_by_offer: np.ndarray  # (I, T) undiscounted
    spend: np.ndarray  # (T,) undiscounted capex
    spend_by_vendor: np.ndarray  # (V, T) undiscounted capex
    take_or_pay: np.ndarray  # (V,) minimum spend not reached, paid as in the first period
    capex: np.ndarray  # (T,) discounted
    opex: np.ndarray  # (T,) discounted
    energy: np.ndarray  # (T,) discounted
    onboarding: np.ndarray  # (T,) paid in the period of the vendor's first purchase
    discount: np.ndarray  # (T,)
    demand: np.ndarray  # (T,) total demand (over workloads)
    hhi: np.ndarray  # (T,) Σ_v (C[v,t] / demand_t)², NaN where demand is 0
    shortfall: np.ndarray  # (S, T) demand not met in each listed scenario
    scenario_loss: np.ndarray  # (S,) $ lost in each listed scenario
    probability: np.ndarray  # (S,)
    cvar_alpha: float
    built: np.ndarray  # (B, T) GW whose build starts (B: the problem's power builds)
    ready: np.ndarray  # (B, T) built GW usable in each period
    facility_spend: np.ndarray  # (T,) undiscounted facility capex (builds and their fixed costs)
    facility: np.ndarray  # (T,) discounted facility capex
    unserved: np.ndarray  # (T,) demand not served (over workloads); 0 when demand is a must
    unserved_by_workload: np.ndarray  # (W, T) with workloads, else (0, T)
    unserved_cost: np.ndarray  # (T,) discounted unserved_penalty × unserved
    reserved: np.ndarray  # (O,) units reserved through each capacity option
    exercised: np.ndarray  # (O, P, T) units bought through each option, per placement and period

    def __post_init__(self) -> None:
        read_only(self)

    @property
    def cost(self) -> float:
        """The spec's cost: discounted capex + opex + energy, onboarding and take-or-pay, facility
        capex and the penalty of unserved demand."""
        parts = (
            self.capex,
            self.opex,
            self.energy,
            self.onboarding,
            self.take_or_pay,
            self.facility,
            self.unserved_cost,
        )
        return float(sum(part.sum() for part in parts))

    @property
    def paid(self) -> np.ndarray:
        """(T,) undiscounted capex of each period that budgets cap: purchases and facility."""
        return self.spend + self.facility_spend

    @property
    def expected_loss(self) -> float:
        """Probability-weighted scenario loss (the nominal scenario loses nothing)."""
        return float(self.probability @ self.scenario_loss)

    @property
    def cvar(self) -> float:
        """CVaR of the loss at ``cvar_alpha``, the nominal scenario included, exactly."""
        return cvar(self.scenario_loss, self.probability, self.cvar_alpha)

    @property
    def shares(self) -> np.ndarray:
        """(V, T) share of operational compute (0 where the total is 0)."""
        total = self.compute[None, :]
        return np.divide(self.compute_by_vendor, total, out=np.zeros_like(self.compute_by_vendor), where=total > 0)


def cvar(losses: np.ndarray, probability: np.ndarray, alpha: float) -> float:
    """``min_η η + Σ p·max(0, L − η) / (1 − α)`` over the losses and a nominal loss of 0
    (probability ``1 − Σ p``); piecewise linear in η, so a loss value attains the minimum."""
    loss = np.append(np.asarray(losses, dtype=float), 0.0)
    prob = np.append(np.asarray(probability, dtype=float), max(1.0 - float(np.sum(probability)), 0.0))
    eta = loss[:, None]
    values = loss + (prob[None, :] * np.maximum(loss[None, :] - eta, 0.0)).sum(axis=1) / (1.0 - alpha)
    return float(values.min())


def objective_of(problem: Problem, ev: PlanEvaluation) -> float:
    """The spec's objective: cost + hhi_weight · Σ_t d_t·HHI_t + risk_weight · CVaR."""
    risk = problem.risk
    value = ev.cost
    if risk.hhi_weight > 0:
        value += risk.hhi_weight * float(np.nansum(ev.discount * ev.hhi))
    if risk.risk_weight > 0:
        value += risk.risk_weight * ev.cvar
    return value


def _sum_by(labels: np.ndarray, n: int, values: np.ndarray) -> np.ndarray:
    """Rows of ``values`` summed by label (0..n−1): (len(labels), T) → (n, T)."""
    out = np.zeros((n, values.shape[1]))
    np.add.at(out, labels, values)
    return out


def _onboarding(inputs: Inputs, bought_by_vendor: np.ndarray) -> np.ndarray:
    """(T,) onboarding fees, each paid in the period of the vendor's first purchase."""
    out = np.zeros(bought_by_vendor.shape[1])
    any_bought = bought_by_vendor > 0
    charged = (inputs.onboarding_cost > 0) & ~inputs.has_installed & any_bought.any(axis=1)
    np.add.at(out, np.argmax(any_bought, axis=1)[charged], inputs.onboarding_cost[charged])
    return out


def _unserved(problem: Problem, compute: np.ndarray, split: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(T,) and (W, T) demand not served when an ``unserved_penalty`` pays for it (else 0):
    the total demand less compute, or each workload's demand less what the split serves."""
    inputs = problem.inputs
    W, T = inputs.workload_demand.shape
    if problem.unserved_penalty is None:
        return np.zeros(T), np.zeros((W, T))
    if problem.workloads is None:
        return np.maximum(inputs.demand - compute, 0.0), np.zeros((0, T))
    x = np.zeros((len(problem.offers), W, T)) if split is None else np.asarray(split, dtype=float)
    served = np.einsum("iw,i,iwt->wt", inputs.efficiency, inputs.compute, x)
    short = np.maximum(inputs.workload_demand - served, 0.0)
    return short.sum(axis=0), short


def evaluate(
    problem: Problem,
    placed: np.ndarray,
    split: np.ndarray | None = None,
    built: np.ndarray | None = None,
    options: OptionPlan | None = None,
) -> PlanEvaluation:
    """Evaluate a plan for ``problem``.

    Parameters
    ----------
    placed : array (P, T)
        Units bought per placement (`Problem.placements`) and period; without
        sites a placement is an offer.
    split : array (I, W, T), optional
        Units of each offer running each workload (problems with workloads).
    built : array (B, T), optional
        GW whose build starts at each of the problem's power builds (the top-level
        one, or each site's that has one, in order) and period; none when omitted.
    options : (reserved, exercised), optional
        Units reserved through each capacity option (O,) and units bought through it per
        placement and period (O, P, T); none when omitted.
    """
    inputs = problem.inputs
    placed = np.array(placed, dtype=float)  # a copy: the evaluation owns its plan
    reserved, exercised = _option_arrays(inputs, placed, options)
    built, facility_spend = _facility(inputs, built, placed.shape[1])
    I, V, S = len(problem.offers), len(problem.vendors), len(inputs.site_pue)
    placed_fleet = fleet_of(inputs, placed + exercised.sum(axis=0))
    bought = _sum_by(inputs.offer_of, I, placed)
    through = _sum_by(inputs.option_offer, I, exercised.sum(axis=1))  # (I, T) units bought through options
    fleet = _sum_by(inputs.offer_of, I, placed_fleet)

    it_kw = _sum_by(inputs.site_of, S, inputs.power_kw[inputs.offer_of][:, None] * placed_fleet)  # (S, T)
    site_power_gw = inputs.site_pue[:, None] * it_kw / KW_PER_GW
    energy = (inputs.site_price * MWH_PER_KW_YEAR * inputs.site_pue[:, None] * it_kw).sum(axis=0)

    by_vendor = _sum_by(inputs.vendor_of, V, fleet * inputs.compute[:, None])
    capex_units = capex_of(problem, bought) + _option_capex(inputs, reserved, exercised, I)
    spend_by_vendor = _sum_by(inputs.vendor_of, V, capex_units)
    discount = inputs.discount
    demand = inputs.demand
    with np.errstate(divide="ignore", invalid="ignore"):
        hhi = np.where(demand > 0, ((by_vendor / demand) ** 2).sum(axis=0), np.nan)
    usable = problem.scenario_availability()  # (S, V, T), read from the scenarios themselves
    shortfall = np.maximum(0.0, demand[None, :] - (usable * by_vendor[None, :, :]).sum(axis=1))
    unserved, unserved_by_workload = _unserved(problem, by_vendor.sum(axis=0), split)

    return PlanEvaluation(
        placed=placed,
        placed_fleet=placed_fleet,
        purchases=bought,
        fleet=fleet,
        split=None if split is None else np.array(split, dtype=float),
        compute_by_vendor=by_vendor,
        compute=by_vendor.sum(axis=0),
        site_power_gw=site_power_gw,
        power_gw=site_power_gw.sum(axis=0),
        capex_by_offer=capex_units,
        spend=capex_units.sum(axis=0),
        spend_by_vendor=spend_by_vendor,
        take_or_pay=np.maximum(0.0, inputs.min_spend - spend_by_vendor.sum(axis=1)),
        capex=discount * capex_units.sum(axis=0),
        opex=discount * (inputs.opex @ fleet),
        energy=discount * energy,
        onboarding=_onboarding(inputs, _sum_by(inputs.vendor_of, V, bought + through)),
        discount=discount,
        demand=demand,
        hhi=hhi,
        shortfall=shortfall,
        scenario_loss=problem.risk.shortfall_penalty * shortfall @ discount,
        probability=np.array([sc.probability for sc in problem.risk.scenarios], dtype=float),
        cvar_alpha=problem.risk.cvar_alpha,
        built=built,
        ready=inputs.ready(built) if inputs.n_builds else built,
        facility_spend=facility_spend,
        facility=discount * facility_spend,
        unserved=unserved,
        unserved_by_workload=unserved_by_workload,
        unserved_cost=discount * (problem.unserved_penalty or 0.0) * unserved,
        reserved=reserved,
        exercised=exercised,
    )


#: A plan's capacity options: units reserved (O,) and units exercised (O, P, T).
OptionPlan = tuple[np.ndarray, np.ndarray]


def _option_arrays(inputs: Inputs, placed: np.ndarray, options: OptionPlan | None) -> OptionPlan:
    """Copies of a plan's reservations (O,) and exercises (O, P, T); zeros without options."""
    O = inputs.n_options
    if options is None:
        return np.zeros(O), np.zeros((O, *placed.shape))
    return np.array(options[0], dtype=float).reshape(O), np.array(options[1], dtype=float).reshape(O, *placed.shape)


def _facility(inputs: Inputs, built: np.ndarray | None, T: int) -> tuple[np.ndarray, np.ndarray]:
    """A copy of the GW built (B, T) and the facility spend per period (per GW, and fixed per build)."""
    built = np.zeros((inputs.n_builds, T)) if built is None else np.array(built, dtype=float)
    started = built > BUILD_STARTED_GW  # a build starts beyond 1 W (round-off is no build)
    return built, (inputs.build_cost * built + inputs.build_fixed * started).sum(axis=0)


def _option_capex(inputs: Inputs, reserved: np.ndarray, exercised: np.ndarray, I: int) -> np.ndarray:
    """(I, T) undiscounted capex of the options, on their offer: reservations in their period,
    exercised units at the exercise price."""
    T = exercised.shape[2]
    paid = inputs.option_price * exercised.sum(axis=1)  # (O, T)
    paid[np.arange(len(reserved)), inputs.option_reserve_t] += inputs.option_reserve_cost * reserved
    return _sum_by(inputs.option_offer, I, paid) if len(reserved) else np.zeros((I, T))


# --------------------------------------------------------------------------- splits

#: HiGHS's feasibility tolerance for the LP that polishes a split (its default is 1e-7).
POLISH_TOL = 1e-10
#: The most a solver's split may miss a row by and still be polished (a solver's own
#: feasibility tolerance, relative); a larger miss is the solver's error, and the check names it.
SOLVER_TOL = 1e-6


def polish_split(
    problem: Problem,
    placed: np.ndarray,
    split: np.ndarray | None,
    built: np.ndarray | None = None,
    options: OptionPlan | None = None,
) -> np.ndarray | None:
    """A solver's split of the fleet across workloads, made exact where it misses a workload
    row by no more than a solver's own tolerance (`SOLVER_TOL`; `violations` allows 1e-9).

    The fleet is the plan's (whole units); only the split moves.  A split that uses more
    units than the fleet has is scaled down to it; in each period where a workload is then
    served short (and demand is a must), the split is found again by an LP that maximizes the
    least relative margin of the workloads, solved to `POLISH_TOL`.  A fleet that cannot serve
    a workload keeps the solver's split, and the check names the row.  Returns ``split``
    itself when nothing needed polishing."""
    if split is None or problem.workloads is None:
        return split
    ev = evaluate(problem, placed, split, built, options)
    if not split_misses(problem, ev, REQUIREMENT_TOL) or split_misses(problem, ev, SOLVER_TOL):
        return split  # exact already; or a miss beyond a solver's tolerance, for the check to name
    x = _within_fleet(np.maximum(split, 0.0), ev.fleet)
    if problem.unserved_penalty is None:
        inputs = problem.inputs
        served = np.einsum("iw,i,iwt->wt", inputs.efficiency, inputs.compute, x)
        for t in np.flatnonzero(exceeds(inputs.workload_demand, served, REQUIREMENT_TOL).any(axis=0)):
            found = _margin_split(inputs, ev.fleet[:, t], inputs.workload_demand[:, t])
            if found is not None:
                x[:, :, t] = found
        x = _within_fleet(x, ev.fleet)
    return x


def _within_fleet(x: np.ndarray, fleet: np.ndarray) -> np.ndarray:
    """(I, W, T) ``x`` scaled down per offer and period to use at most the fleet's units."""
    used = x.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(used > fleet, np.where(used > 0, fleet / used, 0.0), 1.0)
    return x * factor[:, None, :]


def _margin_split(inputs: Inputs, fleet: np.ndarray, demand: np.ndarray) -> np.ndarray | None:
    """(I, W) a split of ``fleet`` whose least relative margin over ``demand`` is largest, or
    None when that margin is below zero (no split serves every workload)."""
    I, W = inputs.efficiency.shape
    i, w = np.nonzero(inputs.efficiency > 0)
    need = np.flatnonzero(demand > 0)
    n = len(i)
    # variables: y[k] = x[i_k, w_k] / fleet[i_k] in [0, 1], and the margin m; maximize m
    a_cap = np.zeros((I, n + 1))
    a_cap[i, np.arange(n)] = 1.0
    row_of = np.full(W, -1)
    row_of[need] = np.arange(len(need))
    on = np.flatnonzero(row_of[w] >= 0)  # split columns of workloads with demand
    a_dem = np.zeros((len(need), n + 1))
    a_dem[row_of[w[on]], on] = -inputs.efficiency[i[on], w[on]] * inputs.compute[i[on]] * fleet[i[on]] / demand[w[on]]
    a_dem[:, n] = 1.0
    cost = np.zeros(n + 1)
    cost[n] = -1.0
    bounds = [(0.0, 1.0 if fleet[k] > 0 else 0.0) for k in i] + [(-1.0, 1.0)]
    from scipy.optimize import linprog  # scipy.optimize only where a split is polished (a quarter second to import)

    res = linprog(
        cost,
        A_ub=np.vstack([a_cap, a_dem]),
        b_ub=np.concatenate([np.ones(I), -np.ones(len(need))]),
        bounds=bounds,
        method="highs",
        options={"primal_feasibility_tolerance": POLISH_TOL, "dual_feasibility_tolerance": POLISH_TOL},
    )
    if res.status != 0 or res.x is None or res.x[n] < 0:
        return None
    y = np.asarray(res.x)
    out = np.zeros((I, W))
    out[i, w] = y[:n] * fleet[i]
    return out


# --------------------------------------------------------------------------- checks
# What makes an array a plan (whole lots, options, builds, minimum orders) is checked here; the
# requirements a plan must meet are checked by their records (`procure.problem.rules.RULES`).


def _lots(problem: Problem, ev: PlanEvaluation, tol: float, hhi_tol: float) -> list[str]:
    """Purchases are whole non-negative numbers of whole lots."""
    inputs = problem.inputs
    periods, names, sites = problem.periods, problem.offer_names, problem.site_names
    placed = ev.placed
    whole = np.round(placed)
    bad = (placed < -tol) | (np.abs(placed - whole) > tol)
    off_lot = ~bad & (np.fmod(whole, inputs.lot[inputs.offer_of][:, None]) != 0)
    out = []
    for mask, text in ((bad, "is not a whole non-negative number"), (off_lot, "is not a whole number of lots")):
        for p, t in zip(*np.nonzero(mask)):
            i, s = inputs.offer_of[p], inputs.site_of[p]
            where = f"{names[i]},{sites[s]}" if sites else names[i]
            out.append(f"lots[{where},{periods[t]}]: {placed[p, t]:g} units {text}")
    return out


def _min_order(problem: Problem, ev: PlanEvaluation, tol: float, hhi_tol: float) -> list[str]:
    least = problem.inputs.min_order[:, None]
    b = ev.purchases
    return [
        f"min_order[{problem.offer_names[i]},{problem.periods[t]}]: {b[i, t]:g} units < minimum order {least[i, 0]}"
        for i, t in zip(*np.nonzero((b > tol) & (b < least - tol)))
    ]


def _options(problem: Problem, ev: PlanEvaluation, tol: float, hhi_tol: float) -> list[str]:
    """Options: whole lots reserved up to ``max_units``; whole lots exercised, only at the
    option's offer inside its window, and no more than reserved."""
    inputs = problem.inputs
    if not inputs.n_options:
        return []
    out = []
    lot = inputs.lot[inputs.option_offer].astype(float)
    most = inputs.option_lots * lot
    for o, opt in enumerate(problem.options):
        r, e = ev.reserved[o], ev.exercised[o]
        if r < -tol or abs(r / lot[o] - round(r / lot[o])) > tol or r > most[o] + tol:
            out.append(f"options[{opt.name}]: {r:g} units reserved, not whole lots of {lot[o]:g} up to {most[o]:g}")
        allowed = (inputs.offer_of == inputs.option_offer[o])[:, None] & inputs.option_window[o][None, :]
        lots = e / lot[o]
        if (e < -tol).any() or (np.abs(lots - np.round(lots)) > tol).any() or (np.abs(e) > tol)[~allowed].any():
            out.append(f"options[{opt.name}]: units exercised not whole lots of {lot[o]:g} inside its window")
        if exceeds(e.sum(), r, tol):
            out.append(f"options[{opt.name}]: {e.sum():g} units exercised > {r:g} reserved")
    return out


def _builds(problem: Problem, ev: PlanEvaluation, tol: float, hhi_tol: float) -> list[str]:
    """Power builds: non-negative, whole blocks, at most ``max_gw``."""
    inputs = problem.inputs
    if not inputs.n_builds:
        return []
    where = problem.site_names or ("",)
    out = []
    g = ev.built
    for b, t in zip(*np.nonzero(g < -tol)):
        out.append(f"power_build[{where[inputs.build_site[b]]},{problem.periods[t]}]: {g[b, t]:g} GW is negative")
    block = inputs.build_block[:, None]
    with np.errstate(invalid="ignore"):
        blocks = g / block
    off = np.isfinite(block) & (np.abs(blocks - np.round(blocks)) > tol * np.maximum(1.0, np.abs(blocks)))
    for b, t in zip(*np.nonzero(off)):
        out.append(
            f"power_build[{where[inputs.build_site[b]]},{problem.periods[t]}]: {g[b, t]:g} GW is not whole blocks"
            f" of {block[b, 0]:g} GW"
        )
    for b, t in zip(*np.nonzero(exceeds(g, inputs.build_max, tol))):
        out.append(
            f"power_build[{where[inputs.build_site[b]]},{problem.periods[t]}]: {g[b, t]:g} GW > max_gw"
            f" {inputs.build_max[b, t]:g} GW"
        )
    return out


#: Every check of ``check()``: what makes a plan, then each requirement family's (`RULES`).
CHECKS: tuple[Check, ...] = (_lots, _options, _builds, _min_order, *(r.check for r in RULES if r.check is not None))


def violations(problem: Problem, ev: PlanEvaluation, tol: float = REQUIREMENT_TOL, hhi_tol: float = 0.0) -> list[str]:
    """Every constraint of the problem that the evaluated plan breaks, in words.

    A requirement in a continuous quantity must hold within ``tol`` of its size
    (`procure.base.limits.REQUIREMENT_TOL`: rounding, nothing more); counts of units are exact.

    ``hhi_tol`` is the slack allowed on ``max_hhi`` (HHI is bounded by tangent cuts)."""
    return [line for check in CHECKS for line in check(problem, ev, tol, hhi_tol)]
