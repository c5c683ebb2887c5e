"""Index sets and dense arrays of a problem, ready for vectorized model building.

`ModelData` is the only bridge between the `Problem` dataclasses and the
formulation: everything downstream reads arrays indexed by offer ``i``,
vendor ``v``, site ``s``, period position ``t`` (0 = first period) and
*placement* ``p``.  A placement is an (offer, site) pair the site can host;
purchases are decided per placement.  A problem without sites has one
implicit site, and then placements are the offers.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ..problem.format import Problem
from ..problem.inputs import KW_PER_GW, MWH_PER_KW_YEAR, Inputs

__all__ = ["KW_PER_GW", "MWH_PER_KW_YEAR", "ModelData", "Tiers", "Window", "model_data"]


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
class ModelData(Inputs):
    """The `Inputs` of one problem and what only the formulation needs: names, price floors and
    tiers, the purchase window, lots of a minimum order, merged disruption scenarios."""

    problem: Problem
    offers: tuple[str, ...]
    vendors: tuple[str, ...]
    sites: tuple[str, ...]  # ("",) without sites
    workloads: tuple[str, ...]  # () without workloads
    option_names: tuple[str, ...]  # capacity options
    unit_cost: np.ndarray  # (I, T) $ per unit; for tiered offers the lowest tier price (a floor)
    tiered: np.ndarray  # (I,) bool
    tiers: Tiers
    min_lots: np.ndarray  # (I,) int: least whole lots of a non-zero order
    window: Window
    total_budget: float | None
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
        return self.facility_kw / KW_PER_GW

    @property
    def running_cost(self) -> np.ndarray:
        """(P, T) undiscounted opex + energy per operational unit and period."""
        energy = MWH_PER_KW_YEAR * self.facility_kw[:, None] * self.site_price[self.site_of]
        return self.opex[self.offer_of][:, None] + energy

    def period_index(self, period: int) -> int:
        """Position ``t`` of a period (1 for 2027 when the periods start in 2026)."""
        found = np.flatnonzero(self.periods == period)
        if not found.size:
            raise ValueError(f"{period!r} is not a period ({self.periods[0]}..{self.periods[-1]})")
        return int(found[0])

    def installed_compute(self) -> np.ndarray:
        """(V, T) compute of the installed fleet by vendor."""
        out = np.zeros((self.n_vendors, self.n_periods))
        i = self.offer_of
        np.add.at(out, self.vendor_of[i], self.installed_fleet * self.compute[i][:, None])
        return out


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


def _price_floor(problem: Problem, tiers: Tiers) -> np.ndarray:
    """(I, T) price per unit: the flat price, or the lowest tier price of a tiered offer."""
    T = len(problem.periods)
    out = np.zeros((len(problem.offers), T))
    for i, o in enumerate(problem.offers):
        out[i] = o.unit_cost if o.unit_cost is not None else tiers.price[tiers.offer == i].min(axis=0)
    return out


def _window(inputs: Inputs) -> Window:
    """Every (placement, purchase period, operational period) triple."""
    T = len(inputs.periods)
    t = np.arange(T)
    start = t[None, :, None] + inputs.lead[inputs.offer_of][:, None, None]
    life = inputs.lifetime[inputs.offer_of][:, None, None]
    live = (t[None, None, :] >= start) & (t[None, None, :] < start + life)
    p, tau, when = np.nonzero(live)
    return Window(p, tau, when)


def model_data(problem: Problem) -> ModelData:
    """Arrays of ``problem`` (which is valid by construction)."""
    inputs = problem.inputs
    T = len(problem.periods)
    tiers = _tiers(problem, T)
    names, probability, availability, nominal = _scenarios(problem, problem.vendor_names)
    return ModelData(
        **{f.name: getattr(inputs, f.name) for f in fields(Inputs)},
        problem=problem,
        offers=problem.offer_names,
        vendors=problem.vendor_names,
        sites=problem.site_names or ("",),
        workloads=tuple(problem.workloads or ()),
        option_names=tuple(o.name for o in problem.options),
        unit_cost=_price_floor(problem, tiers),
        tiered=np.array([o.price_tiers is not None for o in problem.offers], dtype=bool),
        tiers=tiers,
        min_lots=-(-inputs.min_order // inputs.lot),
        window=_window(inputs),
        total_budget=problem.total_budget,
        scenario_names=names,
        scenario_probability=probability,
        availability=availability,
        nominal_probability=nominal,
    )


def compute_may_fall_short(inputs: Inputs) -> bool:
    """Whether operational compute may be below total demand with nothing disrupted: with an
    unserved penalty (demand may go unserved), or with workloads where an efficiency above 1
    lets less compute serve a workload."""
    if inputs.unserved_penalty is not None:
        return True
    return bool(inputs.workload_demand.size and (inputs.efficiency > 1).any())


def _scenarios(problem: Problem, vendors: tuple[str, ...]) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, float]:
    """Scenarios as availability arrays, identical ones merged (their probabilities add up)
    and those that disrupt nothing folded into the nominal scenario (whose loss is 0) — unless
    compute may fall short of demand undisrupted: such a scenario then has losses of its own."""
    scenarios = problem.risk.scenarios
    T = len(problem.periods)
    if not scenarios:
        return (), np.zeros(0), np.zeros((0, len(vendors), T)), 1.0
    a = problem.scenario_availability()
    probability = np.array([sc.probability for sc in scenarios])
    disrupts = np.asarray((a < 1).reshape(len(a), -1).any(axis=1), dtype=bool)
    if compute_may_fall_short(problem.inputs):
        disrupts[:] = True
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
