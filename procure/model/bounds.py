"""Upper bounds on lots bought, implied by the problem (no big-M guesswork).

Every bound here is *implied* by a constraint of the model, so it removes no
feasible plan: supply (``max_units``), the budget of the period, the total
budget, and the power cap of every period in which the lots would run (after
the installed fleet's power).  Lots that could never become operational
inside the horizon are fixed to 0: they add cost and satisfy nothing.

Indicator rows (minimum orders, onboarding) need a *finite* bound.  Where no
constraint implies one, `provisional_bounds` supplies a generous one, and
`cost_bounds` later certifies it: once a plan with objective ``F`` is known,
any better plan spends less than ``F``, so ``k[i,t] ≤ (F − fixed) / lot_cost``.
`procure.solve` re-solves with those bounds if a provisional bound was lower.
"""

from __future__ import annotations

import numpy as np

from .families import KW_PER_GW, installed_running_cost, lot_cost
from .sets import ModelData

__all__ = ["cost_bounds", "implied_bounds", "needs_finite_bound", "provisional_bounds"]

_EPS = 1e-9


def _floor(x: np.ndarray) -> np.ndarray:
    """Floor that forgives round-off (7.9999999999 lots means 8)."""
    return np.floor(x * (1 + _EPS) + _EPS)


def implied_bounds(data: ModelData, *, requirements: bool = True) -> np.ndarray:
    """(I, T) upper bounds on lots, ``inf`` where no constraint implies one.

    With ``requirements=False`` only supply and the horizon bound lots: budgets
    and power caps are left to their rows, so that a diagnosis may relax them.
    """
    I, T = data.n_offers, data.n_periods
    lot = data.lot[:, None].astype(float)
    upper = _floor(data.max_units / lot)
    cost = data.unit_cost * lot
    paid = cost > 0
    if not requirements:
        return np.where(_live(data), upper, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        if data.budget is not None:
            upper = np.where(paid, np.minimum(upper, _floor(data.budget[None, :] / cost)), upper)
        if data.total_budget is not None:
            upper = np.where(paid, np.minimum(upper, _floor(data.total_budget / cost)), upper)
        if data.power_cap_gw is not None:
            gw = data.pue * data.power_kw / KW_PER_GW
            room = np.maximum(data.power_cap_gw - (data.installed_fleet * gw[:, None]).sum(axis=0), 0.0)
            per_lot = np.where(gw > 0, gw * data.lot, np.nan)
            w = data.window
            cap = np.full((I, T), np.inf)
            np.minimum.at(cap, (w.i, w.tau), np.where(np.isnan(per_lot[w.i]), np.inf, room[w.t] / per_lot[w.i]))
            upper = np.minimum(upper, _floor(cap))
    return np.where(_live(data), upper, 0.0)


def _live(data: ModelData) -> np.ndarray:
    """(I, T) purchases that are operational at some period of the horizon."""
    live = np.zeros((data.n_offers, data.n_periods), dtype=bool)
    live[data.window.i, data.window.tau] = True
    return live


def needs_finite_bound(data: ModelData, upper: np.ndarray) -> np.ndarray:
    """(I, T) mask of lot columns that sit in an indicator row (min order, onboarding)."""
    charged = (data.onboarding_cost > 0) & ~data.has_installed
    return (upper > 0) & ((data.min_lots[:, None] >= 2) | charged[data.vendor_of][:, None])


def provisional_bounds(data: ModelData) -> np.ndarray:
    """(I, T) generous lot bounds from the compute the horizon can need.

    Twice the compute that demand and the installed fleet's share caps call
    for, in the period of the window that needs most, plus one minimum order.
    """
    installed = data.installed_compute().sum(axis=0)
    need = 2.0 * (data.demand + installed / max(float(data.max_share.min()), 1e-9))
    w = data.window
    peak = np.zeros((data.n_offers, data.n_periods))
    np.maximum.at(peak, (w.i, w.tau), need[w.t])
    per_lot = (data.compute * data.lot)[:, None]
    return np.ceil(peak / per_lot) + np.maximum(data.min_lots, 1)[:, None]


def cost_bounds(data: ModelData, objective: float) -> np.ndarray:
    """(I, T) lot bounds valid for any plan whose objective is below ``objective``."""
    budget = max(objective - installed_running_cost(data), 0.0)
    coef = lot_cost(data)
    with np.errstate(divide="ignore"):
        return np.where(coef > 0, _floor(budget / coef), np.inf)
