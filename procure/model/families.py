"""One ``define_*`` function per variable or constraint family of the procurement model.

Each function reads `ModelData`, adds one named block to a `LinearModel`
from numpy index arrays (no Python loop over rows), and returns the column
ids it created, if any.  The math of every family is written next to it, in
the notation of the docs (``docs/model.md``):

- ``k[i,t]`` lots of offer ``i`` bought in period ``t``; ``b = lot_i · k``;
- ``n[i,t]`` operational units (installed + purchases inside their window);
- ``C[v,t]`` operational compute of vendor ``v``.
"""

from __future__ import annotations

import numpy as np

from .linear import BINARY, INTEGER, Index, LinearModel
from .sets import ModelData

__all__ = [
    "define_budget",
    "define_demand",
    "define_lots",
    "define_max_share",
    "define_min_order",
    "define_min_vendors",
    "define_onboarding",
    "define_power",
    "define_total_budget",
    "define_vendor_compute",
    "define_vendor_loss",
    "lot_cost",
]

KW_PER_GW = 1e6


def lot_cost(data: ModelData) -> np.ndarray:
    """(I, T) present-value cost of one lot bought in ``t``: capex then opex and
    energy over every period the lot is operational within the horizon."""
    w = data.window
    cost = data.unit_cost * data.discount[None, :]
    np.add.at(cost, (w.i, w.tau), data.discount[w.t] * data.running_cost[w.i, w.t])
    return cost * data.lot[:, None]


def installed_running_cost(data: ModelData) -> float:
    """Present value of opex and energy of the installed fleet (a constant)."""
    return float((data.installed_fleet * data.running_cost * data.discount[None, :]).sum())


def _grid(data: ModelData, *dims: str) -> Index:
    labels = {"offer": data.offers, "vendor": data.vendors, "period": tuple(int(p) for p in data.periods)}
    return Index.grid(**{d: labels[d] for d in dims})


def define_lots(m: LinearModel, data: ModelData, upper: np.ndarray) -> np.ndarray:
    """``lots[offer,period]``: whole lots bought, ``0 ≤ k ≤ upper``; objective: `lot_cost`."""
    ids = m.add_columns(
        "lots",
        _grid(data, "offer", "period"),
        upper=upper.ravel(),
        cost=lot_cost(data).ravel(),
        kind=INTEGER,
        unit="lots",
        doc="lots bought (units = lot_size × lots)",
    )
    m.offset += installed_running_cost(data)
    return ids.reshape(data.n_offers, data.n_periods)


def define_vendor_compute(m: LinearModel, data: ModelData, lots: np.ndarray) -> np.ndarray:
    """``compute[vendor,period]`` = C[v,t], defined by
    ``C[v,t] − Σ_{i of v, τ live at t} compute_i·lot_i·k[i,τ] = installed compute[v,t]``."""
    V, T = data.n_vendors, data.n_periods
    ids = m.add_columns("compute", _grid(data, "vendor", "period"), unit="compute", doc="operational compute")
    w = data.window
    row = np.concatenate([np.arange(V * T), data.vendor_of[w.i] * T + w.t])
    col = np.concatenate([ids, lots[w.i, w.tau]])
    val = np.concatenate([np.ones(V * T), -(data.compute * data.lot)[w.i]])
    inst = data.installed_compute().ravel()
    m.add_rows(
        "vendor_compute",
        _grid(data, "vendor", "period"),
        row,
        col,
        val,
        lower=inst,
        upper=inst,
        unit="compute",
        definition=True,
    )
    return ids.reshape(V, T)


def define_demand(m: LinearModel, data: ModelData, compute: np.ndarray) -> None:
    """``demand[period]``: Σ_v C[v,t] ≥ demand_t."""
    V, T = compute.shape
    row = np.tile(np.arange(T), V)
    m.add_rows("demand", _grid(data, "period"), row, compute.ravel(), 1.0, lower=data.demand, unit="compute")


def define_power(m: LinearModel, data: ModelData, lots: np.ndarray) -> None:
    """``power_cap[period]``: pue · Σ_i power_kw_i · n[i,t] ≤ 1e6 · power_cap_gw_t (in GW)."""
    if data.power_cap_gw is None:
        return
    w = data.window
    gw = data.pue * data.power_kw / KW_PER_GW
    installed = (data.installed_fleet * gw[:, None]).sum(axis=0)
    m.add_rows(
        "power_cap",
        _grid(data, "period"),
        w.t,
        lots[w.i, w.tau],
        (gw * data.lot)[w.i],
        upper=data.power_cap_gw - installed,
        unit="GW",
    )


def define_budget(m: LinearModel, data: ModelData, lots: np.ndarray) -> None:
    """``budget[period]``: Σ_i unit_cost_{i,t} · b[i,t] ≤ budget_t."""
    if data.budget is None:
        return
    I, T = lots.shape
    m.add_rows(
        "budget",
        _grid(data, "period"),
        np.tile(np.arange(T), I),
        lots.ravel(),
        (data.unit_cost * data.lot[:, None]).ravel(),
        upper=data.budget,
        unit="$",
    )


def define_total_budget(m: LinearModel, data: ModelData, lots: np.ndarray) -> None:
    """``total_budget``: Σ_{i,t} unit_cost_{i,t} · b[i,t] ≤ total_budget."""
    if data.total_budget is None:
        return
    m.add_rows(
        "total_budget",
        Index.scalar(),
        np.zeros(lots.size, dtype=int),
        lots.ravel(),
        (data.unit_cost * data.lot[:, None]).ravel(),
        upper=data.total_budget,
        unit="$",
    )


def define_max_share(m: LinearModel, data: ModelData, compute: np.ndarray) -> None:
    """``max_share[vendor,period]``: (1 − s_v)·C[v,t] − s_v·Σ_{u≠v} C[u,t] ≤ 0."""
    V, T = compute.shape
    capped = np.flatnonzero(data.max_share < 1.0)
    if capped.size == 0:
        return
    s = data.max_share[capped]
    coef = np.where(capped[:, None] == np.arange(V)[None, :], 1.0, 0.0) - s[:, None]  # (Vc, V)
    r, u, t = np.meshgrid(np.arange(len(capped)), np.arange(V), np.arange(T), indexing="ij")
    index = _grid(data, "vendor", "period").subset(np.isin(np.arange(V), capped).repeat(T))
    m.add_rows("max_share", index, r * T + t, compute[u, t], coef[r, u], upper=0.0, unit="compute")


def define_vendor_loss(m: LinearModel, data: ModelData, compute: np.ndarray) -> None:
    """``vendor_loss[vendor,period]``: Σ_{u≠v} C[u,t] ≥ survive_vendor_loss · demand_t."""
    keep = data.problem.risk.survive_vendor_loss
    if keep <= 0:
        return
    V, T = compute.shape
    v, u, t = np.meshgrid(np.arange(V), np.arange(V), np.arange(T), indexing="ij")
    other = v != u
    m.add_rows(
        "vendor_loss",
        _grid(data, "vendor", "period"),
        (v * T + t)[other],
        compute[u, t][other],
        1.0,
        lower=np.tile(keep * data.demand, V),
        unit="compute",
    )


def define_min_vendors(m: LinearModel, data: ModelData, compute: np.ndarray) -> None:
    """``active[vendor,period]`` binary w with ``min_vendor_share[vendor,period]``:
    C[v,t] ≥ min_vendor_share · demand_t · w[v,t], and ``min_vendors[period]``: Σ_v w[v,t] ≥ min_vendors."""
    risk = data.problem.risk
    if risk.min_vendors <= 0:
        return
    V, T = compute.shape
    grid = _grid(data, "vendor", "period")
    w = m.add_columns("active", grid, kind=BINARY, doc="vendor counts toward min_vendors")
    rows = np.arange(V * T)
    m.add_rows(
        "min_vendor_share",
        grid,
        np.concatenate([rows, rows]),
        np.concatenate([compute.ravel(), w]),
        np.concatenate([np.ones(V * T), -np.tile(risk.min_vendor_share * data.demand, V)]),
        lower=0.0,
        unit="compute",
        definition=True,
    )
    m.add_rows(
        "min_vendors",
        _grid(data, "period"),
        np.tile(np.arange(T), V),
        w,
        1.0,
        lower=float(risk.min_vendors),
        unit="vendors",
    )


def define_min_order(m: LinearModel, data: ModelData, lots: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """``order[offer,period]`` binary y where a minimum order needs one (≥ 2 lots):
    ``min_order``: k ≥ min_lots · y and ``order_link``: k ≤ upper · y.  Returns ids, −1 where none."""
    need = (data.min_lots[:, None] >= 2) & (upper > 0)
    out = np.full(lots.shape, -1)
    if not need.any():
        return out
    index = _grid(data, "offer", "period").subset(need)
    y = m.add_columns("order", index, kind=BINARY, doc="an order is placed (min_order applies)")
    out[need] = y
    k = lots[need]
    n = len(y)
    rows = np.concatenate([np.arange(n), np.arange(n)])
    cols = np.concatenate([k, y])
    m.add_rows(
        "min_order",
        index,
        rows,
        cols,
        np.concatenate([np.ones(n), -np.broadcast_to(data.min_lots[:, None], need.shape)[need]]),
        lower=0.0,
        unit="lots",
        definition=True,
    )
    m.add_rows(
        "order_link",
        index,
        rows,
        cols,
        np.concatenate([np.ones(n), -upper[need]]),
        upper=0.0,
        unit="lots",
        definition=True,
    )
    return out


def define_onboarding(m: LinearModel, data: ModelData, lots: np.ndarray, order: np.ndarray, upper: np.ndarray) -> None:
    """``onboard[vendor]`` binary o, charged ``onboarding_cost`` once, with ``onboarding[offer,period]``:
    y[i,t] ≤ o_v where an order binary exists, else k[i,t] ≤ upper · o_v."""
    charged = (data.onboarding_cost > 0) & ~data.has_installed
    buyable = (upper > 0) & charged[data.vendor_of][:, None]
    if not buyable.any():
        return
    vendors = np.unique(data.vendor_of[buyable.any(axis=1)])
    o = m.add_columns(
        "onboard",
        Index.grid(vendor=[data.vendors[v] for v in vendors]),
        cost=data.onboarding_cost[vendors],
        kind=BINARY,
        doc="vendor onboarded (anything bought)",
    )
    o_of = np.full(data.n_vendors, -1)
    o_of[vendors] = o
    index = _grid(data, "offer", "period").subset(buyable)
    i, _ = np.nonzero(buyable)
    has_order = order[buyable] >= 0
    n = len(i)
    rows = np.arange(n)
    col = np.where(has_order, order[buyable], lots[buyable])
    coef = np.where(has_order, 1.0, upper[buyable])
    m.add_rows(
        "onboarding",
        index,
        np.concatenate([rows, rows]),
        np.concatenate([col, o_of[data.vendor_of[i]]]),
        np.concatenate([np.ones(n), -coef]),
        upper=0.0,
        unit="lots",
        definition=True,
    )
