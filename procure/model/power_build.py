"""Power build-out: facility power as a decision (``power_build``), and demand left unserved.

Notation (``docs/model.md``): ``g[b,τ]`` GW whose build starts in period ``τ`` at build
place ``b`` (the implicit site, or a site with a ``power_build``); whole blocks
``g = block_gw · k`` when ``block_gw`` is given.  GW started in ``τ`` are usable from
``τ + lead_time`` on, so the power rows of `procure.model.families.define_power` read
``cap_t + Σ_{τ + lead ≤ t} g[b,τ]``.  Facility capex ``F_t = cost_per_gw_t · g[t] +
fixed_cost_t · [g[t] > 0]`` is paid in the period the build starts: it is discounted in
the objective and counts in ``budget_t`` and ``total_budget`` (not in vendor spend).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .linear import BINARY, CONTINUOUS, INTEGER, Index, LinearModel
from .sets import ModelData

__all__ = ["Builds", "build_need_gw", "define_build_started", "define_power_build", "no_builds"]


@dataclass(frozen=True)
class Builds:
    """The build columns: ``cols`` (B, T) ids (−1 where nothing can be built), and ``gw`` (B,)
    GW per unit of a column (the block size, or 1 for GW built in any amount)."""

    cols: np.ndarray
    gw: np.ndarray

    def triplets(self, data: ModelData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(build, period, column) of every live build column."""
        b, t = np.nonzero(self.cols >= 0)
        return b, t, self.cols[b, t]

    def ready_triplets(self, data: ModelData) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(build, usable period t, column, GW per unit) of every build started at τ ≤ t − lead."""
        b, tau, col = self.triplets(data)
        T = data.n_periods
        start = tau + data.build_lead[b]
        counts = np.maximum(T - start, 0)
        bb, cc = np.repeat(b, counts), np.repeat(col, counts)
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        return bb, np.repeat(start, counts) + offsets, cc, self.gw[bb]

    def facility(self, data: ModelData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Undiscounted facility capex per GW started: (period, column, $ per unit of column)."""
        b, t, col = self.triplets(data)
        return t, col, data.build_cost[b, t] * self.gw[b]


def no_builds(data: ModelData) -> Builds:
    return Builds(np.full((0, data.n_periods), -1), np.zeros(0))


def build_need_gw(data: ModelData, upper: np.ndarray) -> np.ndarray:
    """(B, T) the most GW a build started in ``τ`` can be worth: the largest shortfall of
    the given cap, over the periods it would be usable, against the facility power of the
    most units the lot bounds ``upper`` allow (inf where a bound is inf).

    Building more never makes a row hold that did not, and costs ≥ 0, so capping every
    build by this removes no optimal plan; it is the big-M of the fixed-cost indicator."""
    T = data.n_periods
    w = data.window
    per_lot = (data.facility_gw * data.lot_p)[w.p]
    most = np.zeros((data.n_placements, T))
    with np.errstate(invalid="ignore"):  # a unit drawing no power needs none, however many are bought
        drawn = np.where(per_lot > 0, per_lot * upper[w.p, w.tau], 0.0)
    np.add.at(most, (w.p, w.t), drawn)
    most += data.installed_fleet * data.facility_gw[:, None]
    at_site = np.zeros((len(data.site_pue), T))
    np.add.at(at_site, data.site_of, most)
    cap = data.site_cap_gw if data.has_sites else np.asarray(data.power_cap_gw).reshape(1, T)
    short = np.maximum(at_site[data.build_site] - cap[data.build_site], 0.0)  # (B, T)
    # a build started in τ is usable in t ≥ τ + lead: the most it can be worth is the peak after that
    later = np.maximum.accumulate(short[:, ::-1], axis=1)[:, ::-1]  # max over t' ≥ t
    start = np.arange(T)[None, :] + data.build_lead[:, None]
    return np.where(start < T, np.take_along_axis(later, np.clip(start, 0, T - 1), axis=1), 0.0)


def define_power_build(m: LinearModel, data: ModelData, upper: np.ndarray) -> Builds:
    """``power_build[(site,)period]``: GW started (continuous), or whole blocks started
    (integer) when ``block_gw`` is given; ``0 ≤ g ≤ min(max_gw, build_need_gw)``, and 0 where it
    could never be usable inside the horizon; objective ``d_t · cost_per_gw_t · g``."""
    B, T = data.n_builds, data.n_periods
    if not B:
        return no_builds(data)
    blocks = np.isfinite(data.build_block)
    gw = np.where(blocks, data.build_block, 1.0)
    allowed, need = data.build_max / gw[:, None], build_need_gw(data, upper) / gw[:, None]
    # whole blocks: at most max_gw's whole blocks, and the blocks that cover the need (rounded up)
    most = np.where(
        blocks[:, None],
        np.minimum(np.floor(allowed * (1 + 1e-9) + 1e-9), np.ceil(need * (1 - 1e-12) - 1e-12)),
        np.minimum(allowed, need),
    )
    cost = (data.discount[None, :] * data.build_cost) * gw[:, None]
    out = np.full((B, T), -1)
    for kind, chosen in ((INTEGER, blocks), (CONTINUOUS, ~blocks)):
        if not chosen.any():
            continue
        index = _build_index(data, np.flatnonzero(chosen))
        ids = m.add_columns(
            "power_build" if kind == CONTINUOUS else "power_blocks",
            index,
            upper=most[chosen].ravel(),
            cost=cost[chosen].ravel(),
            kind=kind,
            unit="GW" if kind == CONTINUOUS else "blocks",
            doc="facility power whose build starts" if kind == CONTINUOUS else "blocks of facility power started",
        )
        out[chosen] = ids.reshape(-1, T)
    return Builds(out, gw)


def define_build_started(m: LinearModel, data: ModelData, builds: Builds) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``build_started[(site,)period]`` binary z where ``fixed_cost > 0``, objective
    ``d_t · fixed_cost_t · z``, with ``build_fixed[(site,)period]``: g − most·z ≤ 0.
    Returns (period, column, fixed cost) of each indicator (the cost counts in the budgets)."""
    b, t, col = builds.triplets(data)
    paid = (data.build_fixed[b, t] > 0) & (m.col_upper[col] > 0)
    if not paid.any():
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int), np.zeros(0)
    b, t, col = b[paid], t[paid], col[paid]
    most = m.col_upper[col]
    if not np.isfinite(most).all():
        raise ValueError("a build with a fixed cost needs a finite bound (max_gw, or finite lot bounds)")
    index = _build_index(data, b, t)
    z = m.add_columns(
        "build_started",
        index,
        cost=data.discount[t] * data.build_fixed[b, t],
        kind=BINARY,
        doc="a build starts (its fixed cost is paid)",
    )
    n = len(z)
    m.add_rows(
        "build_fixed",
        index,
        np.tile(np.arange(n), 2),
        np.concatenate([col, z]),
        np.concatenate([np.ones(n), -most]),
        upper=0.0,
        unit="GW",
        definition=True,
    )
    return t, z, data.build_fixed[b, t]


def _build_index(data: ModelData, b: np.ndarray, t: np.ndarray | None = None) -> Index:
    """Members (build, period) labelled (period,) without sites and (site, period) with them;
    every period of each build when ``t`` is None."""
    T = data.n_periods
    if t is None:
        b, t = np.repeat(b, T), np.tile(np.arange(T), len(b))
    periods = tuple(int(p) for p in data.periods)
    if not data.has_sites:
        return Index(("period",), (periods,), t.reshape(-1, 1))
    return Index(("site", "period"), (data.sites, periods), np.column_stack([data.build_site[b], t]))
