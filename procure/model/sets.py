"""Index sets and dense arrays of a problem, ready for vectorized model building.

`ModelData` is the only bridge between the `Problem` dataclasses and the
formulation: everything downstream reads arrays indexed by offer ``i``,
vendor ``v``, site ``s``, period position ``t`` (0 = first period) and
*placement* ``p``.  A placement is an (offer, site) pair the site can host;
purchases are decided per placement.  A problem without sites has one
implicit site, and then placements are the offers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..problem import Problem

__all__ = ["KW_PER_GW", "MWH_PER_KW_YEAR", "ModelData", "Tiers", "Window", "model_data"]

KW_PER_GW = 1e6
MWH_PER_KW_YEAR = 8.76


@dataclass(frozen=True)
class Window:
    """Which purchases are operational when: a purchase at placement ``p`` in period
    ``tau`` is operational in period ``t``, for every triple ``(p[k], tau[k], t[k])``."""

    p: np.ndarray
    tau: np.ndarray
    t: np.ndarray


@dataclass(frozen=True)
class Tiers:
    """Volume price tiers, one entry per (tiered offer, tier)."""

    offer: np.ndarray  # (K,) offer of each tier
    start: np.ndarray  # (K,) from_units
    price: np.ndarray  # (K, T) $ per unit
    first: np.ndarray  # (K,) True for an offer's first tier
    all_units: np.ndarray  # (K,) True where the offer's discount is all_units

    @property
    def size(self) -> int:
        return len(self.offer)


@dataclass(frozen=True)
class ModelData:
    """Arrays of one problem (``I`` offers, ``V`` vendors, ``S`` sites, ``P`` placements, ``T`` periods)."""

    problem: Problem
    periods: np.ndarray  # (T,) int
    offers: tuple[str, ...]
    vendors: tuple[str, ...]
    sites: tuple[str, ...]  # ("",) without sites
    vendor_of: np.ndarray  # (I,) vendor position of each offer
    unit_cost: np.ndarray  # (I, T) $ per unit; for tiered offers the lowest tier price (a floor)
    tiered: np.ndarray  # (I,) bool
    tiers: Tiers
    compute: np.ndarray  # (I,)
    power_kw: np.ndarray  # (I,) IT kW per unit
    opex: np.ndarray  # (I,) $ per unit-period
    lot: np.ndarray  # (I,) int
    min_lots: np.ndarray  # (I,) int: least whole lots of a non-zero order
    max_units: np.ndarray  # (I, T), inf when unlimited
    lead: np.ndarray  # (I,) int
    offer_of: np.ndarray  # (P,) offer of each placement
    site_of: np.ndarray  # (P,) site of each placement
    installed_fleet: np.ndarray  # (P, T) installed units still operational
    window: Window
    demand: np.ndarray  # (T,) total demand (sum over workloads)
    workloads: tuple[str, ...]  # () without workloads
    workload_demand: np.ndarray  # (W, T)
    efficiency: np.ndarray  # (I, W)
    power_cap_gw: np.ndarray | None  # (T,) cap on all sites together
    site_cap_gw: np.ndarray  # (S, T), NaN where a site has no cap of its own
    site_pue: np.ndarray  # (S,)
    site_price: np.ndarray  # (S, T) $/MWh
    budget: np.ndarray | None  # (T,)
    total_budget: float | None
    discount: np.ndarray  # (T,) d_t
    onboarding_cost: np.ndarray  # (V,)
    has_installed: np.ndarray  # (V,) bool
    max_share: np.ndarray  # (V,)
    min_spend: np.ndarray  # (V,)
    max_spend: np.ndarray  # (V,), inf when uncapped
    scenario_names: tuple[str, ...]  # distinct disruptions (identical ones merged)
    scenario_probability: np.ndarray  # (S,)
    availability: np.ndarray  # (S, V, T) usable fraction of each vendor's compute
    nominal_probability: float  # probability of no disruption (incl. scenarios that disrupt nothing)

    @property
    def n_offers(self) -> int:
        return len(self.offers)

    @property
    def n_vendors(self) -> int:
        return len(self.vendors)

    @property
    def n_periods(self) -> int:
        return len(self.periods)

    @property
    def n_placements(self) -> int:
        return len(self.offer_of)

    @property
    def has_sites(self) -> bool:
        return bool(self.problem.sites)

    @property
    def lot_p(self) -> np.ndarray:
        """(P,) lot size of each placement."""
        return self.lot[self.offer_of]

    @property
    def facility_gw(self) -> np.ndarray:
        """(P,) facility GW drawn by one operational unit at its site."""
        return self.site_pue[self.site_of] * self.power_kw[self.offer_of] / KW_PER_GW

    @property
    def running_cost(self) -> np.ndarray:
        """(P, T) undiscounted opex + energy per operational unit and period."""
        energy = MWH_PER_KW_YEAR * (self.site_pue[self.site_of] * self.power_kw[self.offer_of])[:, None]
        return self.opex[self.offer_of][:, None] + energy * self.site_price[self.site_of]

    def installed_compute(self) -> np.ndarray:
        """(V, T) compute of the installed fleet by vendor."""
        out = np.zeros((self.n_vendors, self.n_periods))
        i = self.offer_of
        np.add.at(out, self.vendor_of[i], self.installed_fleet * self.compute[i][:, None])
        return out


def _array(values: tuple[float, ...] | None, T: int, missing: float = np.nan) -> np.ndarray:
    return np.full(T, missing) if values is None else np.asarray(values, dtype=float)


def _tiers(problem: Problem, T: int) -> Tiers:
    offer, start, price, first, all_units = [], [], [], [], []
    for i, o in enumerate(problem.offers):
        for k, tier in enumerate(o.price_tiers or ()):
            offer.append(i)
            start.append(tier.from_units)
            price.append(np.asarray(tier.unit_cost, dtype=float))
            first.append(k == 0)
            all_units.append(o.discount == "all_units")
    return Tiers(
        offer=np.array(offer, dtype=int),
        start=np.array(start, dtype=float),
        price=np.array(price, dtype=float).reshape(len(offer), T),
        first=np.array(first, dtype=bool),
        all_units=np.array(all_units, dtype=bool),
    )


def model_data(problem: Problem) -> ModelData:
    """Arrays of ``problem`` (which is valid by construction)."""
    offers = problem.offers
    T = len(problem.periods)
    I = len(offers)
    vendors = problem.vendor_names
    vpos = {v: k for k, v in enumerate(vendors)}
    vendor_of = np.array([vpos[o.vendor] for o in offers])
    horizon = T + 1  # an unlimited lifetime outlasts the horizon
    t = np.arange(T)

    # placements: every (offer, site) the site can host
    sites = problem.sites
    site_names = problem.site_names or ("",)
    pairs = problem.placements()
    offer_of = np.array([i for i, _ in pairs], dtype=int)
    site_of = np.array([s for _, s in pairs], dtype=int)

    lifetime = np.array([o.lifetime or horizon for o in offers])
    installed_life = np.array([o.installed_life or o.lifetime or horizon for o in offers])
    lead = np.array([o.lead_time for o in offers])
    lot = np.array([o.lot_size for o in offers])

    start = t[None, :, None] + lead[offer_of][:, None, None]
    live = (t[None, None, :] >= start) & (t[None, None, :] < start + lifetime[offer_of][:, None, None])
    wp, wtau, wt = np.nonzero(live)

    def installed_at(i: int, s: int) -> float:
        units = offers[i].installed
        return float(units.get(site_names[s], 0)) if not isinstance(units, int) else float(units)

    installed = np.array([installed_at(i, s) for i, s in pairs], dtype=float)
    installed_fleet = installed[:, None] * (t[None, :] < installed_life[offer_of][:, None])
    has_installed = np.zeros(len(vendors), dtype=bool)
    has_installed[vendor_of[offer_of[installed > 0]]] = True

    tiers = _tiers(problem, T)
    unit_cost = np.zeros((I, T))
    tiered = np.array([o.price_tiers is not None for o in offers], dtype=bool)
    for i, o in enumerate(offers):
        unit_cost[i] = o.unit_cost if o.unit_cost is not None else tiers.price[tiers.offer == i].min(axis=0)

    workloads = tuple(problem.workloads or ())
    workload_demand = np.array([problem.workloads[w] for w in workloads], dtype=float).reshape(len(workloads), T)
    efficiency = np.array([[(o.efficiency or {}).get(w, 1.0) for w in workloads] for o in offers], dtype=float).reshape(
        I, len(workloads)
    )

    top_price = np.asarray(problem.electricity_price, dtype=float)
    site_pue = np.array([s.pue if s.pue is not None else problem.pue for s in sites] or [problem.pue])
    site_price = np.array(
        [_array(s.electricity_price, T) if s.electricity_price is not None else top_price for s in sites] or [top_price]
    ).reshape(len(site_names), T)
    top_cap = None if problem.power_cap_gw is None else np.asarray(problem.power_cap_gw, dtype=float)
    site_cap = np.array(
        [_array(s.power_cap_gw if s.power_cap_gw is not None else problem.power_cap_gw, T) for s in sites]
        or [np.full(T, np.nan)]
    ).reshape(len(site_names), T)

    names, probability, availability, nominal = _scenarios(problem, vendors)
    return ModelData(
        problem=problem,
        periods=np.asarray(problem.periods),
        offers=problem.offer_names,
        vendors=vendors,
        sites=tuple(site_names),
        vendor_of=vendor_of,
        unit_cost=unit_cost,
        tiered=tiered,
        tiers=tiers,
        compute=np.array([o.compute for o in offers], dtype=float),
        power_kw=np.array([o.power_kw for o in offers], dtype=float),
        opex=np.array([o.opex_per_year for o in offers], dtype=float),
        lot=lot,
        min_lots=-(-np.array([o.min_order for o in offers]) // lot),
        max_units=np.array(
            [o.max_units if o.max_units is not None else (np.inf,) * T for o in offers], dtype=float
        ).reshape(I, T),
        lead=lead,
        offer_of=offer_of,
        site_of=site_of,
        installed_fleet=installed_fleet,
        window=Window(wp, wtau, wt),
        demand=np.asarray(problem.total_demand, dtype=float),
        workloads=workloads,
        workload_demand=workload_demand,
        efficiency=efficiency,
        power_cap_gw=top_cap,
        site_cap_gw=site_cap,
        site_pue=site_pue.astype(float),
        site_price=site_price,
        budget=None if problem.budget is None else np.asarray(problem.budget, dtype=float),
        total_budget=problem.total_budget,
        discount=(1.0 + problem.discount_rate) ** -t.astype(float),
        onboarding_cost=np.array([v.onboarding_cost for v in problem.vendors], dtype=float),
        has_installed=has_installed,
        max_share=np.array(
            [v.max_share if v.max_share is not None else problem.risk.max_share for v in problem.vendors]
        ),
        min_spend=np.array([v.min_spend for v in problem.vendors], dtype=float),
        max_spend=np.array([v.max_spend if v.max_spend is not None else np.inf for v in problem.vendors]),
        scenario_names=names,
        scenario_probability=probability,
        availability=availability,
        nominal_probability=nominal,
    )


def _scenarios(problem: Problem, vendors: tuple[str, ...]) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, float]:
    """Scenarios as availability arrays, identical ones merged (their probabilities add up)
    and those that disrupt nothing folded into the nominal scenario."""
    scenarios = problem.risk.scenarios
    T = len(problem.periods)
    if not scenarios:
        return (), np.zeros(0), np.zeros((0, len(vendors), T)), 1.0
    a = problem.scenario_availability()
    probability = np.array([sc.probability for sc in scenarios])
    disrupts = (a < 1).reshape(len(a), -1).any(axis=1)
    nominal = max(1.0 - float(probability[disrupts].sum()), 0.0)
    flat = a[disrupts].reshape(int(disrupts.sum()), len(vendors) * T)
    first_of: dict[bytes, int] = {}  # identical availabilities share a key; first listed first
    inverse = np.array([first_of.setdefault(row.tobytes(), len(first_of)) for row in flat], dtype=int)
    merged_probability = np.bincount(inverse, weights=probability[disrupts], minlength=len(first_of))
    groups: list[list[str]] = [[] for _ in first_of]
    for name, u in zip((sc.name for sc, d in zip(scenarios, disrupts) if d), inverse):
        groups[u].append(name)
    names = tuple("+".join(group) for group in groups)
    first = np.unique(inverse, return_index=True)[1]  # unique ids are 0..n-1: their first rows, in order
    return names, merged_probability, flat[first].reshape(len(first), len(vendors), T), nominal
