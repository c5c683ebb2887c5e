"""A problem's inputs as arrays, with every default applied once.

Both the formulation (`procure.model.sets`) and the evaluation of a plan
(`procure.evaluate`) read a problem through `Inputs`: a site's PUE and
electricity price default to the problem's, a site's power cap to the
top-level cap, an offer's efficiency on a workload to 1, a vendor's share cap
to ``risk.max_share``, an unlimited lifetime to one that outlasts the horizon.
What the two then compute from these inputs — the model's rows and a plan's
consequences — stays two independent computations: that is the self-check.

Arrays are indexed by offer ``i``, vendor ``v``, site ``s`` (one implicit site
without sites), *placement* ``p`` (an offer at a site that can host it),
workload ``w`` and period position ``t``; all are read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .format import Problem

__all__ = ["KW_PER_GW", "MWH_PER_KW_YEAR", "Inputs", "inputs_of", "read_only"]

#: kW in a GW (power caps are in GW, offers draw kW).
KW_PER_GW = 1e6
#: MWh drawn by one kW over a one-year period (electricity prices are per MWh).
MWH_PER_KW_YEAR = 8.76


@dataclass(frozen=True)
class Inputs:
    """The arrays of one problem, defaults applied (``I`` offers, ``V`` vendors, ``S`` sites,
    ``P`` placements, ``W`` workloads, ``T`` periods)."""

    periods: np.ndarray  # (T,) int
    offer_of: np.ndarray  # (P,) offer of each placement
    site_of: np.ndarray  # (P,) site of each placement
    vendor_of: np.ndarray  # (I,) vendor of each offer
    compute: np.ndarray  # (I,)
    power_kw: np.ndarray  # (I,) IT kW per unit
    opex: np.ndarray  # (I,) $ per operational unit and period
    lot: np.ndarray  # (I,) int
    min_order: np.ndarray  # (I,) int, units
    max_units: np.ndarray  # (I, T), inf when unlimited
    lead: np.ndarray  # (I,) int
    lifetime: np.ndarray  # (I,) int; T + 1 when unlimited (outlasts the horizon)
    installed_life: np.ndarray  # (I,) int; the lifetime by default
    installed: np.ndarray  # (P,) units installed at each placement
    installed_fleet: np.ndarray  # (P, T) installed units still operational
    has_installed: np.ndarray  # (V,) bool: the vendor has installed units (no onboarding)
    demand: np.ndarray  # (T,) total demand (over workloads)
    workload_demand: np.ndarray  # (W, T)
    efficiency: np.ndarray  # (I, W)
    discount: np.ndarray  # (T,) d_t = (1 + r)^-t
    site_pue: np.ndarray  # (S,)
    site_price: np.ndarray  # (S, T) $/MWh
    site_cap_gw: np.ndarray  # (S, T), NaN where a site has no cap (none without sites)
    power_cap_gw: np.ndarray | None  # (T,) cap on all sites together
    budget: np.ndarray | None  # (T,)
    max_share: np.ndarray  # (V,)
    onboarding_cost: np.ndarray  # (V,)
    min_spend: np.ndarray  # (V,)
    max_spend: np.ndarray  # (V,), inf when uncapped
    min_share: np.ndarray  # (V,), 0 when no floor
    max_new_compute: np.ndarray  # (V, T), inf when no allocation
    # power build-out: one entry per place that can build (the implicit site, or a site)
    build_site: np.ndarray  # (B,) site of each build
    build_cost: np.ndarray  # (B, T) $ per GW started
    build_block: np.ndarray  # (B,) GW per block, NaN when any amount may be built
    build_max: np.ndarray  # (B, T) most GW started, inf when unlimited
    build_lead: np.ndarray  # (B,) int periods until built GW are usable
    build_fixed: np.ndarray  # (B, T) $ in a period in which a build starts
    unserved_penalty: float | None  # $ per compute unit per period not served; None: demand is a must
    # capacity options, one entry each (``O`` options)
    option_offer: np.ndarray  # (O,) offer whose units are reserved
    option_lots: np.ndarray  # (O,) most whole lots that may be reserved
    option_reserve_cost: np.ndarray  # (O,) $ per unit reserved
    option_reserve_t: np.ndarray  # (O,) period position of the reservation
    option_price: np.ndarray  # (O, T) $ per unit exercised
    option_window: np.ndarray  # (O, T) bool: units may be exercised in that period

    def __post_init__(self) -> None:
        read_only(self)

    @property
    def n_options(self) -> int:
        return len(self.option_offer)

    @property
    def n_builds(self) -> int:
        return len(self.build_site)

    def ready(self, built: np.ndarray) -> np.ndarray:
        """(B, T) GW usable in each period from the GW ``built`` (B, T) started: those started
        ``build_lead`` or more periods before."""
        T = built.shape[1]
        started_by = np.cumsum(built, axis=1)  # GW started in periods ≤ t
        source = np.arange(T)[None, :] - self.build_lead[:, None]
        taken = np.take_along_axis(started_by, np.clip(source, 0, max(T - 1, 0)), axis=1)
        return np.where(source >= 0, taken, 0.0)

    @property
    def facility_kw(self) -> np.ndarray:
        """(P,) facility kW drawn by one operational unit at its site (PUE × IT kW)."""
        return self.site_pue[self.site_of] * self.power_kw[self.offer_of]


def read_only(instance: Any) -> None:
    """Make every numpy array field of a dataclass instance read-only."""
    for f in fields(instance):
        value = getattr(instance, f.name)
        if isinstance(value, np.ndarray):
            value.flags.writeable = False


def _per_period(value: tuple[float, ...] | None, T: int, missing: float = np.nan) -> np.ndarray:
    return np.full(T, missing) if value is None else np.asarray(value, dtype=float)


def _installed(problem: Problem, offer_of: np.ndarray, site_of: np.ndarray) -> np.ndarray:
    """(P,) installed units at each placement (a number without sites, a mapping per site with them)."""
    names = problem.site_names or ("",)
    units = [problem.offers[i].installed for i in offer_of]
    return np.array(
        [float(u.get(names[s], 0)) if isinstance(u, Mapping) else float(u) for u, s in zip(units, site_of)],
        dtype=float,
    ).reshape(len(offer_of))


def _sites(problem: Problem, T: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(S,) PUE, (S, T) price and (S, T) power cap of every site; one implicit site without sites."""
    top_price = np.asarray(problem.electricity_price, dtype=float)
    if not problem.sites:
        return np.array([problem.pue], dtype=float), top_price.reshape(1, T), np.full((1, T), np.nan)
    pue = np.array([s.pue if s.pue is not None else problem.pue for s in problem.sites], dtype=float)
    price = np.array(
        [_per_period(s.electricity_price, T) if s.electricity_price is not None else top_price for s in problem.sites]
    ).reshape(len(problem.sites), T)
    # a site that builds power and gives no cap of its own starts from 0 GW (not the top-level cap)
    cap = np.array(
        [
            _per_period(s.power_cap_gw, T)
            if s.power_cap_gw is not None
            else np.zeros(T)
            if s.power_build is not None
            else _per_period(problem.power_cap_gw, T)
            for s in problem.sites
        ]
    ).reshape(len(problem.sites), T)
    return pue, price, cap


def _builds(problem: Problem, T: int) -> dict[str, np.ndarray]:
    """The arrays of every power build (the top-level one, or one per site that has one)."""
    if problem.power_build is not None:
        places = [(0, problem.power_build)]
    else:
        places = [(s, site.power_build) for s, site in enumerate(problem.sites) if site.power_build is not None]
    builds = [b for _, b in places]
    return {
        "build_site": np.array([s for s, _ in places], dtype=int),
        "build_cost": np.array([b.cost_per_gw for b in builds], dtype=float).reshape(len(builds), T),
        "build_block": np.array([np.nan if b.block_gw is None else b.block_gw for b in builds], dtype=float),
        "build_max": np.array(
            [b.max_gw if b.max_gw is not None else (np.inf,) * T for b in builds], dtype=float
        ).reshape(len(builds), T),
        "build_lead": np.array([b.lead_time for b in builds], dtype=np.int64),
        "build_fixed": np.array([b.fixed_cost or (0.0,) * T for b in builds], dtype=float).reshape(len(builds), T),
    }


def _workloads(problem: Problem, I: int, T: int) -> tuple[np.ndarray, np.ndarray]:
    """(W, T) demand per workload and (I, W) efficiency (1 where an offer names none); with demand
    scenarios of workloads, the expected demand of each workload."""
    workloads: Mapping[str, Any] = problem.workloads or {}
    paths = problem.demand_scenarios
    if paths and paths[0].workloads is not None:
        workloads = {
            w: tuple(
                np.sum([s.probability * np.asarray(s.workloads[w], dtype=float) for s in paths if s.workloads], axis=0)
            )
            for w in paths[0].workloads
        }
    names = tuple(workloads)
    demand = np.array([np.asarray(workloads[w], dtype=float) for w in names], dtype=float).reshape(len(names), T)
    efficiency = np.array(
        [[(o.efficiency or {}).get(w, 1.0) for w in names] for o in problem.offers], dtype=float
    ).reshape(I, len(names))
    return demand, efficiency


def inputs_of(problem: Problem) -> Inputs:
    """The `Inputs` of a (valid) problem."""
    offers = problem.offers
    T, I = len(problem.periods), len(offers)
    vendors = {v: k for k, v in enumerate(problem.vendor_names)}
    pairs = np.array(problem.placements(), dtype=int).reshape(-1, 2)
    offer_of, site_of = pairs[:, 0], pairs[:, 1]
    vendor_of = np.array([vendors[o.vendor] for o in offers], dtype=int)
    horizon = T + 1  # an unlimited lifetime outlasts the horizon
    lifetime = np.array([o.lifetime or horizon for o in offers], dtype=int)
    installed_life = np.array([o.installed_life or o.lifetime or horizon for o in offers], dtype=int)
    installed = _installed(problem, offer_of, site_of)
    t = np.arange(T)
    has_installed = np.zeros(len(vendors), dtype=bool)
    has_installed[vendor_of[offer_of[installed > 0]]] = True
    site_pue, site_price, site_cap = _sites(problem, T)
    workload_demand, efficiency = _workloads(problem, I, T)
    risk = problem.risk
    return Inputs(
        periods=np.asarray(problem.periods, dtype=np.int64),
        offer_of=offer_of,
        site_of=site_of,
        vendor_of=vendor_of,
        compute=np.array([o.compute for o in offers], dtype=float),
        power_kw=np.array([o.power_kw for o in offers], dtype=float),
        opex=np.array([o.opex_per_year for o in offers], dtype=float),
        lot=np.array([o.lot_size for o in offers], dtype=np.int64),
        min_order=np.array([o.min_order for o in offers], dtype=np.int64),
        max_units=np.array(
            [o.max_units if o.max_units is not None else (np.inf,) * T for o in offers], dtype=float
        ).reshape(I, T),
        lead=np.array([o.lead_time for o in offers], dtype=np.int64),
        lifetime=lifetime,
        installed_life=installed_life,
        installed=installed,
        installed_fleet=installed[:, None] * (t[None, :] < installed_life[offer_of][:, None]),
        has_installed=has_installed,
        demand=np.asarray(problem.total_demand, dtype=float),
        workload_demand=workload_demand,
        efficiency=efficiency,
        discount=(1.0 + problem.discount_rate) ** -t.astype(float),
        site_pue=site_pue,
        site_price=site_price,
        site_cap_gw=site_cap,
        power_cap_gw=_top_cap(problem, T),
        budget=None if problem.budget is None else np.asarray(problem.budget, dtype=float),
        max_share=np.array([v.max_share if v.max_share is not None else risk.max_share for v in problem.vendors]),
        onboarding_cost=np.array([v.onboarding_cost for v in problem.vendors], dtype=float),
        min_spend=np.array([v.min_spend for v in problem.vendors], dtype=float),
        max_spend=np.array([v.max_spend if v.max_spend is not None else np.inf for v in problem.vendors]),
        min_share=np.array([v.min_share for v in problem.vendors], dtype=float),
        max_new_compute=np.array(
            [_per_period(v.max_new_compute, T, np.inf) for v in problem.vendors], dtype=float
        ).reshape(len(problem.vendors), T),
        unserved_penalty=problem.unserved_penalty,
        **_builds(problem, T),
        **_options(problem, T),
    )


def _options(problem: Problem, T: int) -> dict[str, np.ndarray]:
    offers = {o.name: i for i, o in enumerate(problem.offers)}
    position = {p: t for t, p in enumerate(problem.periods)}
    chosen = problem.options
    offer = np.array([offers[o.offer] for o in chosen], dtype=np.int64)
    lot = np.array([problem.offers[i].lot_size for i in offer], dtype=np.int64)
    # a valid problem's options name their periods (validation fills in the defaults)
    first, last = problem.periods[0], problem.periods[-1]
    reserve = [first if o.reserve_period is None else o.reserve_period for o in chosen]
    until_period = [last if o.exercise_until is None else o.exercise_until for o in chosen]
    start = np.array([position[p] for p in reserve], dtype=np.int64)
    until = np.array([position[p] for p in until_period], dtype=np.int64)
    t = np.arange(T)
    return {
        "option_offer": offer,
        "option_lots": np.array([o.max_units for o in chosen], dtype=np.int64) // np.maximum(lot, 1),
        "option_reserve_cost": np.array([o.reserve_cost for o in chosen], dtype=float),
        "option_reserve_t": start,
        "option_price": np.array([o.exercise_price for o in chosen], dtype=float).reshape(len(chosen), T),
        "option_window": (t[None, :] >= start[:, None]) & (t[None, :] <= until[:, None]),
    }


def _top_cap(problem: Problem, T: int) -> np.ndarray | None:
    """(T,) the cap on all sites together: the given one; 0 GW when the problem builds power at
    top level and gives none; None when there is none."""
    if problem.power_cap_gw is not None:
        return np.asarray(problem.power_cap_gw, dtype=float)
    return np.zeros(T) if problem.power_build is not None else None
