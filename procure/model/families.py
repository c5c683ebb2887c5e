"""One ``define_*`` function per variable or constraint family of the procurement model.

Each function reads `ModelData`, adds one named block to a `LinearModel`
from numpy index arrays (no Python loop over rows), and returns the column
ids it created, if any.  The math of every family is written next to it, in
the notation of the docs (``docs/model.md``):

- ``k[p,t]`` lots bought at placement ``p`` (an offer at a site) in period ``t``;
  ``b = lot · k`` units; ``b[i,t] = Σ_{p of i} b[p,t]`` is what the offer's supply,
  minimum order and prices see;
- ``n[p,t]`` operational units (installed + purchases inside their window);
- ``C[v,t]`` operational compute of vendor ``v``;
- ``capex[i,t]`` undiscounted dollars paid for offer ``i`` in ``t`` (a `Capex`
  expression: flat price × units, or volume tiers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..problem.rules import RULES
from .linear import BINARY, INTEGER, Index, LinearModel
from .power_build import Builds
from .sets import ModelData

__all__ = [
    "Capex",
    "Facility",
    "capex_lot_cost",
    "define_budget",
    "define_demand",
    "define_lots",
    "define_max_share",
    "define_min_order",
    "define_min_vendors",
    "define_onboarding",
    "define_power",
    "define_spend",
    "define_supply",
    "define_tiers",
    "define_total_budget",
    "define_vendor_compute",
    "define_vendor_loss",
    "define_vendor_terms",
    "define_workloads",
    "flat_capex",
    "installed_running_cost",
    "running_lot_cost",
]


@dataclass(frozen=True)
class Capex:
    """``capex[offer[k], period[k]] += coef[k] · x[col[k]]`` (undiscounted dollars)."""

    offer: np.ndarray
    period: np.ndarray
    col: np.ndarray
    coef: np.ndarray

    def __add__(self, other: Capex) -> Capex:
        return Capex(*(np.concatenate([a, b]) for a, b in zip(self._arrays(), other._arrays())))

    def _arrays(self) -> tuple[np.ndarray, ...]:
        return (self.offer, self.period, self.col, self.coef)


def running_lot_cost(data: ModelData) -> np.ndarray:
    """(P, T) present value of opex and energy of one lot bought in ``t``, over every
    period it is operational within the horizon."""
    w = data.window
    cost = np.zeros((data.n_placements, data.n_periods))
    np.add.at(cost, (w.p, w.tau), data.discount[w.t] * data.running_cost[w.p, w.t])
    return cost * data.lot_p[:, None]


def capex_lot_cost(data: ModelData) -> np.ndarray:
    """(P, T) present value of the price of one lot (the lowest tier price for tiered offers)."""
    return data.unit_cost[data.offer_of] * data.discount[None, :] * data.lot_p[:, None]


def installed_running_cost(data: ModelData) -> float:
    """Present value of opex and energy of the installed fleet (a constant)."""
    return float((data.installed_fleet * data.running_cost * data.discount[None, :]).sum())


def _labels(data: ModelData) -> dict[str, tuple]:
    return {
        "offer": data.offers,
        "vendor": data.vendors,
        "site": data.sites,
        "period": tuple(int(p) for p in data.periods),
        "workload": data.workloads,
    }


def _grid(data: ModelData, *dims: str) -> Index:
    labels = _labels(data)
    return Index.grid(**{d: labels[d] for d in dims})


def _placements(data: ModelData, periods: bool = True) -> Index:
    """Members (placement, period), labelled (offer, period), or (offer, site, period) with sites."""
    labels = _labels(data)
    P, T = data.n_placements, data.n_periods
    dims: tuple[str, ...]
    if data.has_sites:
        dims, keys = ("offer", "site"), [data.offer_of, data.site_of]
    else:
        dims, keys = ("offer",), [data.offer_of]
    if not periods:
        return Index(dims, tuple(labels[d] for d in dims), np.column_stack(keys))
    cols = [np.repeat(k, T) for k in keys] + [np.tile(np.arange(T), P)]
    return Index((*dims, "period"), tuple(labels[d] for d in (*dims, "period")), np.column_stack(cols))


def _by_offer(data: ModelData, lots: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Triplets (offer·T + t, lots column, lot size) that sum lots into units ``b[i,t]``."""
    P, T = lots.shape
    p, t = np.meshgrid(np.arange(P), np.arange(T), indexing="ij")
    return (data.offer_of[p] * T + t).ravel(), lots.ravel(), np.broadcast_to(data.lot_p[:, None], (P, T)).ravel()


def define_lots(m: LinearModel, data: ModelData, upper: np.ndarray) -> np.ndarray:
    """``lots[offer,(site,)period]``: whole lots bought, ``0 ≤ k ≤ upper``; objective: opex and
    energy of the lot over its life, plus its price for offers without tiers."""
    flat = ~data.tiered[data.offer_of][:, None]
    cost = running_lot_cost(data) + np.where(flat, capex_lot_cost(data), 0.0)
    ids = m.add_columns(
        "lots",
        _placements(data),
        upper=upper.ravel(),
        cost=cost.ravel(),
        kind=INTEGER,
        unit="lots",
        doc="lots bought (units = lot_size × lots)",
    )
    m.offset += installed_running_cost(data)
    return ids.reshape(data.n_placements, data.n_periods)


def flat_capex(data: ModelData, lots: np.ndarray) -> Capex:
    """Capex of offers with one price: ``unit_cost_{i,t} · lot · k[p,t]``."""
    P, T = lots.shape
    p, t = np.meshgrid(np.arange(P), np.arange(T), indexing="ij")
    keep = ~data.tiered[data.offer_of[p]]
    i = data.offer_of[p]
    return Capex(i[keep], t[keep], lots[keep], (data.unit_cost[i, t] * data.lot_p[p])[keep])


@dataclass(frozen=True)
class _Segments:
    """The reachable (tiered offer, period, tier) members: ``i``, ``t``, tier ``k``, the units a
    segment can hold (``width``) and its `Index` (labelled offer, period, tier number)."""

    i: np.ndarray
    t: np.ndarray
    k: np.ndarray
    width: np.ndarray
    index: Index

    @property
    def size(self) -> int:
        return len(self.i)


def _segments(data: ModelData, upper: np.ndarray) -> _Segments:
    """Tier segments, leaving out tiers above the most units an offer can buy in a period."""
    tiers = data.tiers
    T, K = data.n_periods, tiers.size
    most = np.zeros((data.n_offers, T))  # the sum of an offer's placements' lot bounds
    np.add.at(most, data.offer_of, upper * data.lot_p[:, None])
    k, t = np.meshgrid(np.arange(K), np.arange(T), indexing="ij")
    i = tiers.offer[k]
    nxt = np.where(np.roll(tiers.first, -1)[k] | (k == K - 1), np.inf, tiers.start[np.minimum(k + 1, K - 1)])
    reach = tiers.start[k] <= most[i, t]
    width = np.where(tiers.all_units[k], np.minimum(nxt - 1, most[i, t]), np.minimum(nxt, most[i, t]) - tiers.start[k])
    keep = reach & (width >= 0)
    starts = np.flatnonzero(tiers.first)
    number = k - starts[np.searchsorted(starts, k, side="right") - 1]  # tier number within its offer
    labels = _labels(data)
    index = Index(
        ("offer", "period", "tier"),
        (labels["offer"], labels["period"], tuple(range(K))),
        np.column_stack([i[keep], t[keep], number[keep]]),
    )
    return _Segments(i[keep], t[keep], k[keep], width[keep], index)


def _tier_total(m: LinearModel, data: ModelData, lots: np.ndarray, seg: _Segments, q: np.ndarray) -> None:
    """``tier_total[offer,period]``: Σ_k q[i,t,k] − Σ_p lot·k[p,t] = 0."""
    T = data.n_periods
    rows_b, cols_b, vals_b = _by_offer(data, lots)
    tiered_rows = np.unique(seg.i * T + seg.t)
    pos = np.searchsorted(tiered_rows, np.concatenate([seg.i * T + seg.t, rows_b]))
    inside = np.concatenate([np.ones(seg.size, bool), np.isin(rows_b, tiered_rows)])
    labels = _labels(data)
    m.add_rows(
        "tier_total",
        Index(("offer", "period"), (labels["offer"], labels["period"]), np.column_stack(np.divmod(tiered_rows, T))),
        pos[inside],
        np.concatenate([q, cols_b])[inside],
        np.concatenate([np.ones(seg.size), -vals_b])[inside],
        lower=0.0,
        upper=0.0,
        unit="units",
        definition=True,
    )


def _incremental_tiers(m: LinearModel, data: ModelData, seg: _Segments, q: np.ndarray, z: np.ndarray) -> None:
    """A segment fills only once the one below is full: ``tier_fill``: q_{k−1} ≥ width_{k−1}·z_k,
    ``tier_open``: q_k ≤ width_k·z_k; the first segment is always open."""
    tiers = data.tiers
    inc, first = ~tiers.all_units[seg.k], tiers.first[seg.k]
    sel = np.flatnonzero(inc & ~first)
    prev = _previous_member(seg.i, seg.t, seg.k, sel)
    _rows(m, "tier_fill", seg.index.subset(_mask(seg.size, sel)), [q[prev], z[sel]], [1.0, -seg.width[prev]], lower=0.0)
    sel = np.flatnonzero(inc)
    _rows(m, "tier_open", seg.index.subset(_mask(seg.size, sel)), [q[sel], z[sel]], [1.0, -seg.width[sel]], upper=0.0)
    m.set_col_bounds(z[inc & first], lower=1.0)


def _all_units_tiers(m: LinearModel, data: ModelData, seg: _Segments, q: np.ndarray, z: np.ndarray) -> None:
    """Exactly the chosen tier carries the units: ``tier_low``: w ≥ from_k·y, ``tier_high``:
    w ≤ (from_{k+1} − 1)·y, ``tier_pick``: Σ_k y ≤ 1."""
    tiers = data.tiers
    sel = np.flatnonzero(tiers.all_units[seg.k])
    if not sel.size:
        return
    index = seg.index.subset(_mask(seg.size, sel))
    _rows(m, "tier_low", index, [q[sel], z[sel]], [1.0, -tiers.start[seg.k][sel]], lower=0.0)
    _rows(m, "tier_high", index, [q[sel], z[sel]], [1.0, -seg.width[sel]], upper=0.0)
    T = data.n_periods
    groups = np.unique(seg.i[sel] * T + seg.t[sel])
    labels = _labels(data)
    m.add_rows(
        "tier_pick",
        Index(("offer", "period"), (labels["offer"], labels["period"]), np.column_stack(np.divmod(groups, T))),
        np.searchsorted(groups, seg.i[sel] * T + seg.t[sel]),
        z[sel],
        1.0,
        upper=1.0,
        unit="tiers",
        definition=True,
    )


def define_tiers(m: LinearModel, data: ModelData, lots: np.ndarray, upper: np.ndarray) -> Capex:
    """Volume price tiers on ``b[i,t]`` (units of the offer bought in the period).

    Segments ``q[i,t,k] ∈ [0, width_k]`` with Σ_k q = b (``tier_total``) and a binary
    ``tier_reached`` per segment; incremental tiers fill in order, all-units tiers put
    every unit in the one chosen tier.  Capex: Σ_k price_{k,t} · q.
    """
    tiers = data.tiers
    if tiers.size == 0:
        empty = np.zeros(0, dtype=int)
        return Capex(empty, empty, empty, np.zeros(0))
    seg = _segments(data, upper)
    q = m.add_columns(
        "tier_units",
        seg.index,
        upper=seg.width,
        cost=tiers.price[seg.k, seg.t] * data.discount[seg.t],
        unit="units",
        doc="units bought at a tier's price",
    )
    _tier_total(m, data, lots, seg, q)
    z = m.add_columns("tier_reached", seg.index, kind=BINARY, doc="the tier is used")
    _incremental_tiers(m, data, seg, q, z)
    _all_units_tiers(m, data, seg, q, z)
    return Capex(seg.i, seg.t, q, tiers.price[seg.k, seg.t])


def _mask(n: int, sel: np.ndarray) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[sel] = True
    return mask


def _previous_member(i: np.ndarray, t: np.ndarray, k: np.ndarray, sel: np.ndarray) -> np.ndarray:
    """Position of member (i, t, k − 1) for each selected member (i, t, k)."""
    key = (i.astype(np.int64) * (t.max() + 1) + t) * (k.max() + 2) + k
    order = np.argsort(key)
    return order[np.searchsorted(key[order], key[sel] - 1)]


def _rows(
    m: LinearModel,
    name: str,
    index: Index,
    cols: list[np.ndarray],
    vals: list[float | np.ndarray],
    *,
    lower: float = -np.inf,
    upper: float = np.inf,
) -> None:
    """Rows with one entry per column array (all of the same length n, one row each)."""
    n = len(cols[0])
    m.add_rows(
        name,
        index,
        np.tile(np.arange(n), len(cols)),
        np.concatenate(cols),
        np.concatenate([np.broadcast_to(np.asarray(v, dtype=float), (n,)) for v in vals]),
        lower=lower,
        upper=upper,
        unit="units",
        definition=True,
    )


def define_vendor_compute(m: LinearModel, data: ModelData, lots: np.ndarray) -> np.ndarray:
    """``compute[vendor,period]`` = C[v,t], defined by
    ``C[v,t] − Σ_{p of v, τ live at t} compute·lot·k[p,τ] = installed compute[v,t]``."""
    V, T = data.n_vendors, data.n_periods
    ids = m.add_columns("compute", _grid(data, "vendor", "period"), unit="compute", doc="operational compute")
    w = data.window
    i = data.offer_of[w.p]
    row = np.concatenate([np.arange(V * T), data.vendor_of[i] * T + w.t])
    col = np.concatenate([ids, lots[w.p, w.tau]])
    val = np.concatenate([np.ones(V * T), -(data.compute[i] * data.lot[i])])
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


def _unserved(m: LinearModel, data: ModelData, index: Index, periods: np.ndarray) -> np.ndarray:
    """``unserved[(workload,)period]`` u ≥ 0 with objective ``d_t · unserved_penalty · u``
    (an empty array when demand is a must)."""
    if data.unserved_penalty is None:
        return np.zeros(0, dtype=np.int64)
    cost = data.discount[periods] * data.unserved_penalty
    return m.add_columns("unserved", index, cost=cost, unit="compute", doc="demand not served (paid for)")


def define_demand(m: LinearModel, data: ModelData, compute: np.ndarray) -> None:
    """``demand[period]``: Σ_v C[v,t] (+ u[t] with an unserved penalty) ≥ demand_t (without workloads)."""
    if data.workloads:
        return
    V, T = compute.shape
    index = _grid(data, "period")
    u = _unserved(m, data, index, np.arange(T))
    row = np.concatenate([np.tile(np.arange(T), V), np.arange(len(u))])
    col = np.concatenate([compute.ravel(), u])
    m.add_rows("demand", index, row, col, 1.0, lower=data.demand, unit="compute")


def define_workloads(m: LinearModel, data: ModelData, lots: np.ndarray) -> np.ndarray | None:
    """``split[offer,workload,period]`` x ≥ 0 units of an offer running a workload, with
    ``workload_capacity[offer,period]``: Σ_w x − Σ_{p of i} n[p,t] ≤ 0 and
    ``workload_demand[workload,period]``: Σ_i efficiency·compute·x ≥ demand_{w,t}."""
    if not data.workloads:
        return None
    I, W, T = data.n_offers, len(data.workloads), data.n_periods
    can = np.broadcast_to((data.efficiency > 0)[:, :, None], (I, W, T))
    index = _grid(data, "offer", "workload", "period").subset(can)
    x = m.add_columns("split", index, unit="units", doc="units running a workload")
    i, w, t = np.nonzero(can)
    out = np.full((I, W, T), -1)
    out[i, w, t] = x
    win = data.window
    wi = data.offer_of[win.p]
    installed = np.zeros((I, T))
    np.add.at(installed, data.offer_of, data.installed_fleet)
    m.add_rows(
        "workload_capacity",
        _grid(data, "offer", "period"),
        np.concatenate([i * T + t, wi * T + win.t]),
        np.concatenate([x, lots[win.p, win.tau]]),
        np.concatenate([np.ones(len(x)), -data.lot[wi].astype(float)]),
        upper=installed.ravel(),
        unit="units",
        definition=True,  # a split cannot use more units than exist: never a remedy
    )
    index = _grid(data, "workload", "period")
    u = _unserved(m, data, index, np.tile(np.arange(T), W))
    m.add_rows(
        "workload_demand",
        index,
        np.concatenate([w * T + t, np.arange(len(u))]),
        np.concatenate([x, u]),
        np.concatenate([data.efficiency[i, w] * data.compute[i], np.ones(len(u))]),
        lower=data.workload_demand.ravel(),
        unit="compute",
    )
    return out


def define_power(m: LinearModel, data: ModelData, lots: np.ndarray, builds: Builds) -> None:
    """``power_cap[period]``: Σ_s pue_s · Σ power_kw · n ≤ cap_t (GW), over all sites;
    ``site_power[site,period]``: the same at each site with a cap of its own.  Where power
    is built, the cap of its level (all sites without sites, else the site's) grows by the
    GW that are ready: ``… − Σ_{τ + lead ≤ t} g[b,τ] ≤ cap_t``."""
    w = data.window
    gw = data.facility_gw
    installed = data.installed_fleet * gw[:, None]  # (P, T)
    per_lot = (gw * data.lot_p)[w.p]
    b, bt, bcol, bgw = builds.ready_triplets(data)
    if data.power_cap_gw is not None:
        top = not data.has_sites  # builds raise this cap only without sites
        m.add_rows(
            "power_cap",
            _grid(data, "period"),
            np.concatenate([w.t, bt if top else bt[:0]]),
            np.concatenate([lots[w.p, w.tau], bcol if top else bcol[:0]]),
            np.concatenate([per_lot, -bgw if top else bgw[:0]]),
            upper=data.power_cap_gw - installed.sum(axis=0),
            unit="GW",
        )
    capped = np.isfinite(data.site_cap_gw)  # (S, T)
    if not data.has_sites or not capped.any():
        return
    T = data.n_periods
    at_site = np.zeros_like(data.site_cap_gw)
    np.add.at(at_site, data.site_of, installed)
    index = _grid(data, "site", "period").subset(capped)
    pos = np.cumsum(capped.ravel()) - 1
    row = data.site_of[w.p] * T + w.t
    keep = capped.ravel()[row]
    build_row = data.build_site[b] * T + bt  # a building site's cap is finite: it has rows
    m.add_rows(
        "site_power",
        index,
        np.concatenate([pos[row[keep]], pos[build_row]]),
        np.concatenate([lots[w.p, w.tau][keep], bcol]),
        np.concatenate([per_lot[keep], -bgw]),
        upper=(data.site_cap_gw - at_site)[capped],
        unit="GW",
    )


def define_supply(m: LinearModel, data: ModelData, lots: np.ndarray, *, every: bool = False) -> None:
    """``supply[offer,period]``: Σ_{p of i} k[p,t] ≤ ⌊max_units / lot⌋ where an offer is
    bought at several sites (a single placement carries the cap as its bound), or for
    every offer with a supply cap when ``every``."""
    placements = np.bincount(data.offer_of, minlength=data.n_offers)
    limited = ((placements[:, None] > 1) | every) & np.isfinite(data.max_units)
    if not limited.any():
        return
    rows, cols, _ = _by_offer(data, lots)
    keep = limited.ravel()[rows]
    pos = np.cumsum(limited.ravel()) - 1
    m.add_rows(
        "supply",
        _grid(data, "offer", "period").subset(limited),
        pos[rows[keep]],
        cols[keep],
        1.0,
        upper=np.floor(data.max_units / data.lot[:, None] + 1e-9)[limited],
        unit="lots",
    )


@dataclass(frozen=True)
class Facility:
    """Facility capex ``F[period[k]] += coef[k] · x[col[k]]`` (undiscounted dollars): builds and
    their fixed costs, which count in the budgets but are no vendor's spend."""

    period: np.ndarray
    col: np.ndarray
    coef: np.ndarray

    @classmethod
    def none(cls) -> Facility:
        return cls(np.zeros(0, dtype=int), np.zeros(0, dtype=int), np.zeros(0))


def define_budget(m: LinearModel, data: ModelData, capex: Capex, facility: Facility) -> None:
    """``budget[period]``: Σ_i capex[i,t] + F_t ≤ budget_t."""
    if data.budget is None:
        return
    m.add_rows(
        "budget",
        _grid(data, "period"),
        np.concatenate([capex.period, facility.period]),
        np.concatenate([capex.col, facility.col]),
        np.concatenate([capex.coef, facility.coef]),
        upper=data.budget,
        unit="$",
    )


def define_spend(m: LinearModel, data: ModelData, capex: Capex) -> np.ndarray:
    """Vendor contract terms.  ``take_or_pay[vendor]`` u ≥ 0, objective u (not discounted),
    with ``min_spend[vendor]``: u + Σ capex_v ≥ min_spend; ``max_spend[vendor]``: Σ capex_v ≤ max_spend.
    Returns the take-or-pay ids (they count against the total budget)."""
    vendor = data.vendor_of[capex.offer]
    floor = np.flatnonzero(data.min_spend > 0)
    ids = np.zeros(0, dtype=np.int64)
    if floor.size:
        index = Index.grid(vendor=[data.vendors[v] for v in floor])
        ids = m.add_columns("take_or_pay", index, cost=1.0, unit="$", doc="minimum spend not reached")
        pos = np.full(data.n_vendors, -1)
        pos[floor] = np.arange(len(floor))
        keep = pos[vendor] >= 0
        m.add_rows(
            "min_spend",
            index,
            np.concatenate([np.arange(len(floor)), pos[vendor][keep]]),
            np.concatenate([ids, capex.col[keep]]),
            np.concatenate([np.ones(len(floor)), capex.coef[keep]]),
            lower=data.min_spend[floor],
            unit="$",
        )
    cap = np.flatnonzero(np.isfinite(data.max_spend))
    if cap.size:
        pos = np.full(data.n_vendors, -1)
        pos[cap] = np.arange(len(cap))
        keep = pos[vendor] >= 0
        m.add_rows(
            "max_spend",
            Index.grid(vendor=[data.vendors[v] for v in cap]),
            pos[vendor][keep],
            capex.col[keep],
            capex.coef[keep],
            upper=data.max_spend[cap],
            unit="$",
        )
    return ids


def define_total_budget(
    m: LinearModel, data: ModelData, capex: Capex, take_or_pay: np.ndarray, facility: Facility
) -> None:
    """``total_budget``: Σ capex + Σ take-or-pay + Σ_t F_t ≤ total_budget."""
    if data.total_budget is None:
        return
    cols = np.concatenate([capex.col, take_or_pay, facility.col])
    m.add_rows(
        "total_budget",
        Index.scalar(),
        np.zeros(len(cols), dtype=int),
        cols,
        np.concatenate([capex.coef, np.ones(len(take_or_pay)), facility.coef]),
        upper=data.total_budget,
        unit="$",
    )


def _share_rows(
    data: ModelData, compute: np.ndarray, applies: np.ndarray, share: np.ndarray
) -> tuple[Index, np.ndarray, np.ndarray, np.ndarray]:
    """Triplets of ``C[v,t] − s[v,t] · Σ_u C[u,t]`` for each vendor and period where ``applies``
    ((V, T) bool; ``share`` (V, T)), in (vendor, period) order."""
    V = compute.shape[0]
    v, t = np.nonzero(applies)
    r, u = np.meshgrid(np.arange(len(v)), np.arange(V), indexing="ij")
    coef = np.where(v[r] == u, 1.0, 0.0) - share[v[r], t[r]]
    return _grid(data, "vendor", "period").subset(applies.ravel()), r, compute[u, t[r]], coef


def _new_compute_rows(
    data: ModelData, lots: np.ndarray, applies: np.ndarray
) -> tuple[Index, np.ndarray, np.ndarray, np.ndarray]:
    """Triplets of ``Σ_{p of v} compute·lot·k[p,t]`` (the compute of a vendor's units bought in
    ``t`` at every site, before their lead time) for each vendor and period where ``applies``."""
    P, T = lots.shape
    p, t = np.meshgrid(np.arange(P), np.arange(T), indexing="ij")
    i = data.offer_of[p]
    key = data.vendor_of[i] * T + t
    keep = applies.ravel()[key]
    position = np.cumsum(applies.ravel()) - 1
    index = _grid(data, "vendor", "period").subset(applies.ravel())
    return index, position[key[keep]], lots[keep], (data.compute[i] * data.lot[i])[keep]


def define_max_share(m: LinearModel, data: ModelData, compute: np.ndarray) -> None:
    """``max_share[vendor,period]``: C[v,t] − s_v·C[t] ≤ 0 for each capped vendor, every period."""
    applies = np.broadcast_to((data.max_share < 1.0)[:, None], compute.shape)
    if not applies.any():
        return
    share = np.broadcast_to(data.max_share[:, None], compute.shape)
    index, row, col, val = _share_rows(data, compute, applies, share)
    m.add_rows("max_share", index, row, col, val, upper=0.0, unit="compute")


def define_vendor_terms(m: LinearModel, data: ModelData, compute: np.ndarray, lots: np.ndarray) -> None:
    """Each vendor term of `procure.problem.rules.RULES` (a share floor ``min_share``, an
    allocation ``max_new_compute``, …), one row block per record, named after it: its rows'
    shape and limits are the record's (``term.rows``, ``term.limit``, ``term.applies``)."""
    for rule in RULES:
        term = rule.term
        if term is None:
            continue
        applies = term.applies(data)
        if not applies.any():
            continue
        limit = term.limit(data)
        if term.rows == "share":  # C[v,t] − s·C[t] against 0
            index, row, col, val = _share_rows(data, compute, applies, limit)
            rhs: float | np.ndarray = 0.0
        elif term.rows == "new_compute":
            index, row, col, val = _new_compute_rows(data, lots, applies)
            rhs = limit[applies]
        else:  # pragma: no cover - a record with a shape this module does not build
            raise ValueError(f"rule {rule.name}: no formulation for rows {term.rows!r}")
        if term.sense == "≤":
            m.add_rows(rule.name, index, row, col, val, upper=rhs, unit="compute")
        else:
            m.add_rows(rule.name, index, row, col, val, lower=rhs, unit="compute")


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
    w = m.add_columns("counted", grid, kind=BINARY, doc="vendor counts toward min_vendors")
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
    ``min_order``: Σ_{p of i} k[p,t] ≥ min_lots · y and ``order_link``: k[p,t] ≤ upper · y.
    Returns (I, T) ids, −1 where none."""
    T = data.n_periods
    most = np.zeros((data.n_offers, T))
    np.add.at(most, data.offer_of, upper)
    need = (data.min_lots[:, None] >= 2) & (most > 0)
    out = np.full(need.shape, -1)
    if not need.any():
        return out
    index = _grid(data, "offer", "period").subset(need)
    y = m.add_columns("order", index, kind=BINARY, doc="an order is placed (min_order applies)")
    out[need] = y
    pos = np.cumsum(need.ravel()) - 1
    rows, cols, _ = _by_offer(data, lots)
    keep = need.ravel()[rows]
    n = len(y)
    m.add_rows(
        "min_order",
        index,
        np.concatenate([pos[rows[keep]], np.arange(n)]),
        np.concatenate([cols[keep], y]),
        np.concatenate([np.ones(int(keep.sum())), -np.broadcast_to(data.min_lots[:, None], need.shape)[need]]),
        lower=0.0,
        unit="lots",
        definition=True,
    )
    link = need[data.offer_of] & (upper > 0)  # (P, T)
    p, t = np.nonzero(link)
    k = len(p)
    m.add_rows(
        "order_link",
        _placements(data).subset(link),
        np.concatenate([np.arange(k), np.arange(k)]),
        np.concatenate([lots[p, t], out[data.offer_of[p], t]]),
        np.concatenate([np.ones(k), -upper[p, t]]),
        upper=0.0,
        unit="lots",
        definition=True,
    )
    return out


def define_onboarding(
    m: LinearModel,
    data: ModelData,
    lots: np.ndarray,
    order: np.ndarray,
    upper: np.ndarray,
    exercised: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> None:
    """``onboard[vendor]`` binary o, charged ``onboarding_cost`` once, with ``onboarding[...]``:
    y[i,t] ≤ o_v where an order binary exists, else k[p,t] ≤ upper · o_v; and for lots bought
    through an option (``exercised`` = column ids, their vendor, their bound) e ≤ bound · o_v."""
    charged = (data.onboarding_cost > 0) & ~data.has_installed
    buyable = (upper > 0) & charged[data.vendor_of[data.offer_of]][:, None]  # (P, T)
    cols, vendor, bound = exercised if exercised is not None else (np.zeros(0, dtype=int),) * 3
    through = charged[vendor] & (bound > 0)
    cols, vendor, bound = cols[through], vendor[through], bound[through].astype(float)
    if not buyable.any() and not cols.size:
        return
    p, t = np.nonzero(buyable)
    i = data.offer_of[p]
    vendors = np.unique(np.concatenate([data.vendor_of[i], vendor]))
    o = m.add_columns(
        "onboard",
        Index.grid(vendor=[data.vendors[v] for v in vendors]),
        cost=data.onboarding_cost[vendors],
        kind=BINARY,
        doc="vendor onboarded (anything bought)",
    )
    o_of = np.full(data.n_vendors, -1)
    o_of[vendors] = o
    has_order = order[i, t] >= 0
    col = np.concatenate([np.where(has_order, order[i, t], lots[p, t]), cols])
    coef = np.concatenate([np.where(has_order, 1.0, upper[p, t]), bound])
    index = _placements(data).subset(buyable)
    if cols.size:  # rows of options are labelled by the vendor they onboard, numbered
        index = Index(("row",), (tuple(range(len(col))),), np.arange(len(col))[:, None])
    n = len(col)
    m.add_rows(
        "onboarding",
        index,
        np.concatenate([np.arange(n), np.arange(n)]),
        np.concatenate([col, o_of[np.concatenate([data.vendor_of[i], vendor])]]),
        np.concatenate([np.ones(n), -coef]),
        upper=0.0,
        unit="lots",
        definition=True,
    )
