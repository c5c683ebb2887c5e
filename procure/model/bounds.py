"""Upper bounds on lots bought, implied by the problem (no big-M guesswork).

Every bound here is *implied* by a constraint of the model, so it removes no
feasible plan: supply (``max_units``), the budget of the period, the total
budget, a vendor's spend cap and compute allocation, and the power caps (the site's and the
overall one) of every period in which the lots would run, after the
installed fleet's power.  Lots that could never become operational inside
the horizon are fixed to 0: they add cost and satisfy nothing — except
toward a vendor's minimum spend, which such lots may fill more cheaply
(they are discounted, the take-or-pay is not); then they are bounded by it.

Indicator rows (minimum orders, onboarding) and volume tiers need a
*finite* bound.  Where no constraint implies one, `provisional_bounds`
supplies a generous one, and `cost_bounds` later certifies it: once a plan
with objective ``F`` is known, any better plan has every term of its
objective below ``F``, so ``k[p,t] ≤ (F − fixed) / cost of one lot``.
`procure.solve` re-solves with those bounds if a provisional bound was lower.
"""

from __future__ import annotations

import numpy as np

from .families import capex_lot_cost, installed_running_cost, running_lot_cost
from .sets import ModelData

__all__ = ["cost_bounds", "first_bounds", "implied_bounds", "needs_finite_bound", "provisional_bounds"]

_EPS = 1e-9


def _floor(x: np.ndarray) -> np.ndarray:
    """Floor that forgives round-off (7.9999999999 lots means 8)."""
    return np.floor(x * (1 + _EPS) + _EPS)


def _live(data: ModelData) -> np.ndarray:
    """(P, T) purchases that are operational at some period of the horizon."""
    live = np.zeros((data.n_placements, data.n_periods), dtype=bool)
    live[data.window.p, data.window.tau] = True
    return live


def implied_bounds(data: ModelData, *, requirements: bool = True) -> np.ndarray:
    """(P, T) upper bounds on lots, ``inf`` where no constraint implies one.

    With ``requirements=False`` only supply and the horizon bound lots: budgets
    and power caps are left to their rows, so that a diagnosis may relax them.
    """
    i = data.offer_of
    lot = data.lot_p[:, None].astype(float)
    upper = _floor(data.max_units[i] / lot)
    price = data.unit_cost[i] * lot  # a floor on the price of one lot
    spend_cap = data.max_spend[data.vendor_of[i]][:, None]
    if requirements:
        paid = price > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            caps = [spend_cap]
            if data.budget is not None:
                caps.append(data.budget[None, :])
            if data.total_budget is not None:
                caps.append(np.full((1, 1), data.total_budget))
            for cap in caps:
                upper = np.where(paid, np.minimum(upper, _floor(cap / price)), upper)
            upper = np.minimum(upper, _power_bounds(data))
            per_lot = (data.compute[i] * data.lot_p)[:, None]
            upper = np.minimum(upper, _floor(data.max_new_compute[data.vendor_of[i]] / per_lot))
    return np.where(_live(data), upper, np.minimum(upper, _toward_min_spend(data)))


def _toward_min_spend(data: ModelData) -> np.ndarray:
    """(P, T) most lots worth buying only to reach the vendor's minimum spend: enough to
    pay it at the lowest price, or up to the top tier (above it, all-units cost rises
    with quantity again); at least one minimum order; 0 for vendors without one."""
    i = data.offer_of
    floor = data.min_spend[data.vendor_of[i]][:, None]
    unit = data.unit_cost[i]
    top_tier = np.zeros(data.n_offers)
    np.maximum.at(top_tier, data.tiers.offer, data.tiers.start)
    with np.errstate(divide="ignore", invalid="ignore"):
        units = np.maximum(np.where(unit > 0, np.ceil(floor / unit), 0.0), top_tier[i][:, None])
    lots = np.maximum(np.ceil(units / data.lot_p[:, None]), data.min_lots[i][:, None])
    return np.where((floor > 0) & (unit > 0), lots, 0.0)


def _power_bounds(data: ModelData) -> np.ndarray:
    """(P, T) lots that fit the room each power cap leaves, in every period they run (the
    cap grown by the most GW that can be built and ready by then)."""
    w = data.window
    gw = data.facility_gw
    installed = data.installed_fleet * gw[:, None]
    buildable = np.zeros((len(data.site_pue), data.n_periods))  # most GW ready at each site (or at top level)
    np.add.at(buildable, data.build_site, data.ready(data.build_max) if data.n_builds else 0.0)
    rooms = []
    if data.power_cap_gw is not None:
        top = data.power_cap_gw - installed.sum(axis=0) + (0.0 if data.has_sites else buildable[0])
        rooms.append(np.broadcast_to(top, (data.n_placements, data.n_periods)))
    if data.has_sites:
        at_site = np.zeros_like(data.site_cap_gw)
        np.add.at(at_site, data.site_of, installed)
        room = data.site_cap_gw - at_site + buildable
        rooms.append(np.where(np.isnan(room), np.inf, room)[data.site_of])
    bound = np.full((data.n_placements, data.n_periods), np.inf)
    per_lot = gw * data.lot_p
    for room in rooms:
        with np.errstate(divide="ignore", invalid="ignore"):
            fits = np.where(per_lot[w.p] > 0, np.maximum(room[w.p, w.t], 0.0) / per_lot[w.p], np.inf)
        np.minimum.at(bound, (w.p, w.tau), fits)
    return _floor(bound)


def needs_finite_bound(data: ModelData, upper: np.ndarray) -> np.ndarray:
    """(P, T) lot columns that sit in an indicator row (min order, onboarding) or feed price tiers."""
    charged = (data.onboarding_cost > 0) & ~data.has_installed
    i = data.offer_of
    flagged = (data.min_lots[i] >= 2) | charged[data.vendor_of[i]] | data.tiered[i]
    # a build with a fixed cost and no max_gw takes its indicator's bound from the lots it powers
    open_fixed = (data.build_fixed > 0).any(axis=1) & ~np.isfinite(data.build_max).all(axis=1)
    powers = np.zeros(len(data.site_pue), dtype=bool)
    powers[data.build_site[open_fixed]] = True
    flagged = flagged | powers[data.site_of]
    return (upper > 0) & flagged[:, None]


def provisional_bounds(data: ModelData) -> np.ndarray:
    """(P, T) generous lot bounds from the compute the horizon can need.

    Twice the compute that demand and the installed fleet's share caps call
    for (at the offer's least efficiency on a workload it can run), in the
    period of the window that needs most, plus one minimum order
    and the units a vendor's minimum spend or the highest price tier asks for.
    """
    installed = data.installed_compute().sum(axis=0)
    # the installed fleet diluted under the tightest cap, or raised over by the highest floor
    dilute = max(1.0 / max(float(data.max_share.min()), 1e-9), 1.0 / (1.0 - float(data.min_share.max(initial=0.0))))
    need = 2.0 * (data.demand + installed * dilute)
    w = data.window
    peak = np.zeros((data.n_placements, data.n_periods))
    np.maximum.at(peak, (w.p, w.tau), need[w.t])
    i = data.offer_of
    # an offer that runs a workload at efficiency e delivers e · compute toward it
    useful = np.where(data.efficiency > 0, data.efficiency, np.inf).min(axis=1, initial=np.inf)
    useful = np.where(np.isfinite(useful), np.minimum(useful, 1.0), 1.0)
    per_lot = (data.compute * data.lot * useful)[i][:, None]
    bound = np.ceil(peak / per_lot) + np.maximum(data.min_lots[i], 1)[:, None]
    lot = data.lot_p[:, None].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        price = data.unit_cost[i] * lot
        bound += np.where(price > 0, np.ceil(data.min_spend[data.vendor_of[i]][:, None] / price), 0.0)
    top_tier = np.zeros(data.n_offers)
    np.maximum.at(top_tier, data.tiers.offer, data.tiers.start)
    return bound + np.ceil(top_tier[i] / data.lot_p)[:, None]


def cost_bounds(data: ModelData, objective: float) -> np.ndarray:
    """(P, T) lot bounds valid for any plan whose objective is below ``objective``."""
    budget = max(objective - installed_running_cost(data), 0.0)
    coef = running_lot_cost(data) + capex_lot_cost(data)
    with np.errstate(divide="ignore"):
        return np.where(coef > 0, _floor(budget / coef), np.inf)


def first_bounds(data: ModelData) -> tuple[np.ndarray, np.ndarray]:
    """(P, T) lot bounds to build the model with, and the mask of those that are provisional
    (an indicator row needs a finite bound that no constraint implies)."""
    implied = implied_bounds(data)
    provisional = needs_finite_bound(data, implied) & np.isinf(implied)
    return np.where(provisional, provisional_bounds(data), implied), provisional
