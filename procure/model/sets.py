"""Index sets and dense arrays of a problem, ready for vectorized model building.

`ModelData` is the only bridge between the `Problem` dataclasses and the
formulation: everything downstream reads arrays indexed by offer ``i``,
vendor ``v`` and period position ``t`` (0 = first period).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..problem import Problem

__all__ = ["ModelData", "Window", "model_data"]


@dataclass(frozen=True)
class Window:
    """Which purchases are operational when: purchase of offer ``i`` in period ``tau``
    is operational in period ``t``, for every triple ``(i[k], tau[k], t[k])``."""

    i: np.ndarray
    tau: np.ndarray
    t: np.ndarray


@dataclass(frozen=True)
class ModelData:
    """Arrays of one problem (``I`` offers, ``V`` vendors, ``T`` periods)."""

    problem: Problem
    periods: np.ndarray  # (T,) int
    offers: tuple[str, ...]
    vendors: tuple[str, ...]
    vendor_of: np.ndarray  # (I,) vendor position of each offer
    unit_cost: np.ndarray  # (I, T) $ per unit
    compute: np.ndarray  # (I,)
    power_kw: np.ndarray  # (I,) IT kW per unit
    opex: np.ndarray  # (I,) $ per unit-period
    lot: np.ndarray  # (I,) int
    min_lots: np.ndarray  # (I,) int: least whole lots of a non-zero order
    max_units: np.ndarray  # (I, T), inf when unlimited
    lead: np.ndarray  # (I,) int
    installed_fleet: np.ndarray  # (I, T) installed units still operational
    window: Window
    demand: np.ndarray  # (T,)
    power_cap_gw: np.ndarray | None  # (T,)
    pue: float
    electricity_price: np.ndarray  # (T,) $/MWh
    budget: np.ndarray | None  # (T,)
    total_budget: float | None
    discount: np.ndarray  # (T,) d_t
    onboarding_cost: np.ndarray  # (V,)
    has_installed: np.ndarray  # (V,) bool
    max_share: np.ndarray  # (V,)
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
    def energy_per_unit(self) -> np.ndarray:
        """(I, T) dollars of electricity per operational unit and period."""
        return np.outer(self.power_kw, self.electricity_price) * (8.76 * self.pue)

    @property
    def running_cost(self) -> np.ndarray:
        """(I, T) undiscounted opex + energy per operational unit and period."""
        return self.opex[:, None] + self.energy_per_unit

    def installed_compute(self) -> np.ndarray:
        """(V, T) compute of the installed fleet by vendor."""
        out = np.zeros((self.n_vendors, self.n_periods))
        np.add.at(out, self.vendor_of, self.installed_fleet * self.compute[:, None])
        return out


def _array(values: tuple[float, ...] | None) -> np.ndarray | None:
    return None if values is None else np.asarray(values, dtype=float)


def model_data(problem: Problem) -> ModelData:
    """Arrays of ``problem`` (which is valid by construction)."""
    offers = problem.offers
    T = len(problem.periods)
    vendors = problem.vendor_names
    vpos = {v: k for k, v in enumerate(vendors)}
    horizon = T + 1  # an unlimited lifetime outlasts the horizon
    lifetime = np.array([o.lifetime or horizon for o in offers])
    installed_life = np.array([o.installed_life or o.lifetime or horizon for o in offers])
    lead = np.array([o.lead_time for o in offers])
    lot = np.array([o.lot_size for o in offers])

    t = np.arange(T)
    start = t[None, :, None] + lead[:, None, None]
    live = (t[None, None, :] >= start) & (t[None, None, :] < start + lifetime[:, None, None])
    wi, wtau, wt = np.nonzero(live)

    installed = np.array([o.installed for o in offers], dtype=float)
    installed_fleet = installed[:, None] * (t[None, :] < installed_life[:, None])
    vendor_of = np.array([vpos[o.vendor] for o in offers])
    has_installed = np.zeros(len(vendors), dtype=bool)
    has_installed[vendor_of[installed > 0]] = True

    def per_offer(name: str) -> np.ndarray:
        return np.array([getattr(o, name) for o in offers], dtype=float)

    names, probability, availability, nominal = _scenarios(problem, vendors)
    return ModelData(
        problem=problem,
        periods=np.asarray(problem.periods),
        offers=problem.offer_names,
        vendors=vendors,
        vendor_of=vendor_of,
        unit_cost=np.array([o.unit_cost for o in offers], dtype=float).reshape(len(offers), T),
        compute=per_offer("compute"),
        power_kw=per_offer("power_kw"),
        opex=per_offer("opex_per_year"),
        lot=lot,
        min_lots=-(-np.array([o.min_order for o in offers]) // lot),
        max_units=np.array(
            [o.max_units if o.max_units is not None else (np.inf,) * T for o in offers], dtype=float
        ).reshape(len(offers), T),
        lead=lead,
        installed_fleet=installed_fleet,
        window=Window(wi, wtau, wt),
        demand=np.asarray(problem.demand, dtype=float),
        power_cap_gw=_array(problem.power_cap_gw),  # type: ignore[arg-type]
        pue=float(problem.pue),
        electricity_price=np.asarray(problem.electricity_price, dtype=float),
        budget=_array(problem.budget),  # type: ignore[arg-type]
        total_budget=problem.total_budget,
        discount=(1.0 + problem.discount_rate) ** -t.astype(float),
        onboarding_cost=np.array([v.onboarding_cost for v in problem.vendors], dtype=float),
        has_installed=has_installed,
        max_share=np.array(
            [v.max_share if v.max_share is not None else problem.risk.max_share for v in problem.vendors]
        ),
        scenario_names=names,
        scenario_probability=probability,
        availability=availability,
        nominal_probability=nominal,
    )


def _scenarios(problem: Problem, vendors: tuple[str, ...]) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, float]:
    """Scenarios as availability arrays, identical ones merged (their probabilities add up)
    and those that disrupt nothing folded into the nominal scenario."""
    T = len(problem.periods)
    merged: dict[bytes, int] = {}
    names: list[str] = []
    probability: list[float] = []
    arrays: list[np.ndarray] = []
    nominal = 1.0
    for sc in problem.risk.scenarios:
        a = np.ones((len(vendors), T))
        live = np.isin(problem.periods, sc.periods) if sc.periods is not None else np.ones(T, dtype=bool)
        for vendor, value in sc.availability.items():
            a[vendors.index(vendor), live] = value
        nominal -= sc.probability
        if (a == 1).all():
            nominal += sc.probability
            continue
        key = a.tobytes()
        if key in merged:
            probability[merged[key]] += sc.probability
            names[merged[key]] += f"+{sc.name}"
            continue
        merged[key] = len(names)
        names.append(sc.name)
        probability.append(sc.probability)
        arrays.append(a)
    stack = np.array(arrays) if arrays else np.zeros((0, len(vendors), T))
    return tuple(names), np.array(probability, dtype=float), stack, max(nominal, 0.0)
