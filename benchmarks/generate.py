"""Scalable random procurement problems for benchmarks (and for stress tests), in families
that differ in what makes them hard.

``generate(vendors, offers_per_vendor, periods, seed=...)`` returns a problem
mapping in the public format: prices around $20–50k per chip, lots of 8–256,
lifetimes of 3–6 years, supply caps (flat for ten periods, then growing with
demand, so that long horizons stay feasible), power caps and demand that grow
60% a year, share caps, a vendor count and vendor-loss survival.  With
``scenarios=S > 0`` it adds ``S`` supply-disruption scenarios (each cuts one
vendor to 0, 25% or 50% availability for a random run of consecutive periods;
probabilities total at most 0.5), a shortfall penalty of twice the highest
price per compute unit, ``risk_weight`` 1 and ``cvar_alpha`` 0.9.  Identical
scenarios may occur.  The same arguments always give the same problem, and
``scenarios=0`` gives exactly the problem it gave before scenarios existed.

With ``sites=N > 0`` it adds ``N`` data-center sites, drawn last (so the rest of
the problem is unchanged): each hosts a random half or more of the vendors
(every vendor somewhere), has its own PUE (1.05–1.4), electricity price
($40–120/MWh) and a power cap of 30–70% of the top-level cap, which still caps
the total.  Installed units (there are none) would need a per-site mapping.

Families
--------
``generate(..., family=NAME)`` picks one of `FAMILIES`; ``"base"`` (the default)
is the problem described above, unchanged.  Every other family starts from the
base problem of the same arguments and redraws one aspect of it from a second
random generator seeded by ``(seed, family)``, so that each is reproducible and
the families of one seed share everything else:

- ``rare-scenarios``: scenarios that do not repeat (one or two vendors cut to
  their own levels for runs of 1–5 periods; no two alike), so merging
  identical scenarios does not shrink the model;
- ``similar-offers``: every offer costs within ±2% of the same price, opex and
  power per compute unit: a flat objective with many near-optimal plans;
- ``falling-prices``: prices fall 20–35% a year and half the offers launch late
  (no supply before their launch), with more compute per chip the later they launch;
- ``mixed-lots``: lots of 1–8 units next to lots of 256–4,096 in one problem;
- ``tight-power``: power caps 3–8% above the least power any fractional plan
  needs, so that they bind in most periods;
- ``loose-power``: power caps four times the power of meeting demand with the
  least efficient chip, so that they never bind;
- ``long-horizon``: 20–25 periods (twice ``periods`` plus up to half again) with
  demand growing 15–25% a year, so that chips retire and are replaced several times.

See each family's function for the details.  Every family is feasible at the
benchmark sizes (``tests/test_benchmarks.py`` checks small ones; the benchmark
runs the standard ones) and within procure's supported ranges.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["FAMILIES", "HARD", "generate"]


def generate(
    vendors: int = 4,
    offers_per_vendor: int = 10,
    periods: int = 10,
    *,
    seed: int = 0,
    min_orders: bool = True,
    risk: bool = True,
    scenarios: int = 0,
    sites: int = 0,
    family: str = "base",
) -> dict[str, Any]:
    """A random but reproducible problem of the given size and family (see `FAMILIES`)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; known: {', '.join(FAMILIES)}")
    args = dict(seed=seed, min_orders=min_orders, risk=risk, scenarios=scenarios, sites=sites)
    return FAMILIES[family](vendors, offers_per_vendor, periods, **args)


def base(
    vendors: int = 4,
    offers_per_vendor: int = 10,
    periods: int = 10,
    *,
    seed: int = 0,
    min_orders: bool = True,
    risk: bool = True,
    scenarios: int = 0,
    sites: int = 0,
    growth_rate: float = 1.6,
) -> dict[str, Any]:
    """The base family (module docstring): random prices each year, lots of 8–256, power
    caps far from binding (the optimal plans use about 15% of them), scenarios that may
    repeat.  ``growth_rate``: yearly factor of demand and power caps."""
    rng = np.random.default_rng(seed)
    years = [2026 + k for k in range(periods)]
    growth = growth_rate ** np.arange(periods)
    offers = []
    for v in range(vendors):
        for k in range(offers_per_vendor):
            offers.append(
                {
                    "name": f"chip{v}-{k}",
                    "vendor": f"vendor{v}",
                    "unit_cost": {str(y): round(float(rng.uniform(2e4, 5e4)), 2) for y in years},
                    "compute": round(float(rng.uniform(0.5, 2.5)), 3),
                    "power_kw": round(float(rng.uniform(0.7, 1.8)), 3),
                    "opex_per_year": round(float(rng.uniform(1e3, 4e3)), 2),
                    "lot_size": int(rng.choice([8, 64, 72, 256])),
                    "lifetime": int(rng.integers(3, 7)),
                    "max_units": _supply(float(rng.uniform(2e4, 2e5)), years, growth),
                    "min_order": int(rng.choice([0, 0, 512])) if min_orders else 0,
                }
            )
    problem: dict[str, Any] = {
        "name": f"random-{vendors}x{offers_per_vendor}x{periods}-{seed}",
        "periods": years,
        "demand": {str(y): round(1e4 * g) for y, g in zip(years, growth)},
        "offers": offers,
        "power_cap_gw": {str(y): round(0.05 * g, 6) for y, g in zip(years, growth)},
        "pue": 1.1,
        "electricity_price": 80,
        "discount_rate": 0.08,
    }
    if risk:
        problem["risk"] = {"max_share": 0.4, "min_vendors": min(3, vendors), "survive_vendor_loss": 0.5}
    if scenarios > 0:
        # Drawn after everything else from the same generator, so the rest of
        # the problem is the same as with scenarios=0.
        listed = []
        for s in range(scenarios):
            vendor = int(rng.integers(vendors))
            availability = float(rng.choice([0.0, 0.25, 0.5]))
            start = int(rng.integers(periods))
            length = int(rng.integers(1, min(3, periods - start) + 1))
            listed.append(
                {
                    "name": f"disruption{s}",
                    "probability": _probability(rng, scenarios),
                    "availability": {f"vendor{vendor}": availability},
                    "periods": years[start : start + length],
                }
            )
        problem.setdefault("risk", {}).update(
            {
                "scenarios": listed,
                "shortfall_penalty": _penalty(offers),
                "risk_weight": 1.0,
                "cvar_alpha": 0.9,
            }
        )
    if sites > 0:
        problem["sites"] = _sites(rng, sites, vendors, years, problem["power_cap_gw"])
    return problem


def _probability(rng: np.random.Generator, scenarios: int) -> float:
    # Each at most 0.5 / scenarios (rounded down), so the total is <= 0.5.
    return float(np.floor(rng.uniform(0.2, 1.0) * 0.5 / scenarios * 1e6) / 1e6)


def _penalty(offers: list[dict[str, Any]]) -> float:
    """Twice the highest price per compute unit (any offer, any period)."""
    return round(2 * max(max(o["unit_cost"].values()) / o["compute"] for o in offers), 2)


#: supply caps are flat for this many periods, then grow with demand (else long horizons are infeasible)
FLAT_SUPPLY_PERIODS = 10


def _supply(base: float, years: list[int], growth: np.ndarray) -> int | dict[str, int]:
    """An offer's supply cap: ``base`` units a period, growing with demand after the first
    `FLAT_SUPPLY_PERIODS` periods; one number when it never grows."""
    scale = np.maximum(1.0, growth / growth[min(FLAT_SUPPLY_PERIODS, len(growth)) - 1])
    caps = [round(base * f) for f in scale]
    return caps[0] if len(set(caps)) == 1 else {str(y): c for y, c in zip(years, caps)}


def _sites(
    rng: np.random.Generator, count: int, vendors: int, years: list[int], cap: dict[str, float]
) -> list[dict[str, Any]]:
    hosted = [rng.permutation(vendors)[: int(rng.integers((vendors + 1) // 2, vendors + 1))] for _ in range(count)]
    orphans = set(range(vendors)).difference(*[set(h.tolist()) for h in hosted])
    hosted[0] = np.union1d(hosted[0], sorted(orphans)).astype(int)
    sites = []
    for k, hosts in enumerate(hosted):
        fraction = float(rng.uniform(0.3, 0.7))
        sites.append(
            {
                "name": f"site{k}",
                "vendors": [f"vendor{v}" for v in sorted(hosts.tolist())],
                "pue": round(float(rng.uniform(1.05, 1.4)), 3),
                "electricity_price": round(float(rng.uniform(40, 120)), 2),
                "power_cap_gw": {y: round(float(c) * fraction, 6) for y, c in cap.items()},
            }
        )
    return sites


# --------------------------------------------------------------------------
# Families: the base problem with one aspect redrawn
# --------------------------------------------------------------------------


def _family_rng(family: str, seed: int) -> np.random.Generator:
    """The second generator of a family: independent of the base draws, the same for a seed."""
    return np.random.default_rng([seed, zlib.crc32(family.encode())])


def _named(problem: dict[str, Any], family: str, seed: int) -> dict[str, Any]:
    v = len({o["vendor"] for o in problem["offers"]})
    problem["name"] = f"{family}-{v}x{len(problem['offers']) // v}x{len(problem['periods'])}-{seed}"
    return problem


def _with_penalty(problem: dict[str, Any]) -> dict[str, Any]:
    """The shortfall penalty recomputed for redrawn prices (twice the highest per compute unit)."""
    if "shortfall_penalty" in problem.get("risk", {}):
        problem["risk"]["shortfall_penalty"] = _penalty(problem["offers"])
    return problem


def rare_scenarios(vendors: int, offers_per_vendor: int, periods: int, *, seed: int, **kw: Any) -> dict[str, Any]:
    """Disruption scenarios that do not repeat.

    Each scenario cuts one vendor (60%) or two (40%) to availabilities of their
    own, drawn from 0–90% in steps of 1%, for a run of 1–5 consecutive periods;
    a scenario equal to an earlier one is drawn again, so no two are alike and
    procure's merging of identical scenarios (which the base family's three
    levels and short runs allow) finds nothing to merge.  Longer runs and pairs
    of vendors also give more disrupted (scenario, period) pairs, hence more
    shortfall rows in procure's model.  Probabilities as in the base family.
    """
    problem = base(vendors, offers_per_vendor, periods, seed=seed, **kw)
    scenarios = problem.get("risk", {}).get("scenarios")
    if not scenarios:
        return _named(problem, "rare-scenarios", seed)
    rng = _family_rng("rare-scenarios", seed)
    years = problem["periods"]
    seen: set[tuple] = set()
    listed = []
    while len(listed) < len(scenarios):
        count = 1 if vendors < 2 or rng.random() < 0.6 else 2
        hit = sorted(int(v) for v in rng.choice(vendors, size=count, replace=False))
        levels = [round(float(rng.integers(0, 91)) / 100, 2) for _ in hit]
        start = int(rng.integers(periods))
        length = int(rng.integers(1, min(5, periods - start) + 1))
        key = (tuple(hit), tuple(levels), start, length)
        if key in seen:
            continue
        seen.add(key)
        listed.append(
            {
                "name": f"disruption{len(listed)}",
                "probability": _probability(rng, len(scenarios)),
                "availability": {f"vendor{v}": a for v, a in zip(hit, levels)},
                "periods": years[start : start + length],
            }
        )
    problem["risk"]["scenarios"] = listed
    return _named(problem, "rare-scenarios", seed)


#: similar-offers: every offer's cost per compute unit is within this fraction of a common one
SIMILAR_SPREAD = 0.02


def similar_offers(vendors: int, offers_per_vendor: int, periods: int, *, seed: int, **kw: Any) -> dict[str, Any]:
    """Offers of nearly the same value per compute unit.

    One price per compute unit ($15–25k), opex ($1.5k a year) and power (0.6 kW)
    per compute unit are drawn for the problem; every offer's price in every
    period, its opex and its power are those per compute unit times its compute,
    each within ±2% (`SIMILAR_SPREAD`).  Lot sizes, lifetimes, supply caps and
    minimum orders stay the base family's, so plans differ mostly in how the
    lots fit the demand: the objective is flat and many plans lie within a few
    tenths of a percent of the optimum, which is what a MIP search must tell apart.
    """
    problem = base(vendors, offers_per_vendor, periods, seed=seed, **kw)
    rng = _family_rng("similar-offers", seed)
    price, opex, power = float(rng.uniform(1.5e4, 2.5e4)), 1.5e3, 0.6

    def near(value: float) -> float:
        return value * (1 + float(rng.uniform(-SIMILAR_SPREAD, SIMILAR_SPREAD)))

    for o in problem["offers"]:
        c = o["compute"]
        o["unit_cost"] = {y: round(near(price * c), 2) for y in o["unit_cost"]}
        o["opex_per_year"] = round(near(opex * c), 2)
        o["power_kw"] = round(near(power * c), 3)
    return _named(_with_penalty(problem), "similar-offers", seed)


def falling_prices(vendors: int, offers_per_vendor: int, periods: int, *, seed: int, **kw: Any) -> dict[str, Any]:
    """Prices that fall year by year, and offers that launch late.

    Each offer's price falls by its own 20–35% a year from a launch price of
    $20–50k.  The first two offers of each vendor (or one, with one offer) are on
    sale from the first period; each other offer launches at a random period
    (half of them in the first period, the rest uniformly later), has no supply
    (``max_units`` 0) before it, and does 25% more compute per chip (for 10%
    more power) for each year it launches later.  Buying early costs more per
    compute but demand must be met every year, and every lot bought runs (and
    pays opex) for its whole lifetime: when to buy matters as much as what.
    """
    problem = base(vendors, offers_per_vendor, periods, seed=seed, **kw)
    rng = _family_rng("falling-prices", seed)
    years = [str(y) for y in problem["periods"]]
    for k, o in enumerate(problem["offers"]):
        first = k % offers_per_vendor < min(2, offers_per_vendor)
        launch = 0 if first or rng.random() < 0.5 else int(rng.integers(1, periods)) if periods > 1 else 0
        rate, price = float(rng.uniform(0.20, 0.35)), float(rng.uniform(2e4, 5e4))
        o["unit_cost"] = {y: round(price * (1 - rate) ** max(0, t - launch), 2) for t, y in enumerate(years)}
        o["compute"] = round(o["compute"] * 1.25**launch, 3)
        o["power_kw"] = round(o["power_kw"] * 1.10**launch, 3)
        cap = o["max_units"]
        caps = [cap.get(y) if isinstance(cap, dict) else cap for y in years]
        o["max_units"] = {y: (0 if t < launch else int(c)) for t, (y, c) in enumerate(zip(years, caps))}
    return _named(_with_penalty(problem), "falling-prices", seed)


#: mixed-lots: the small and the large lot sizes
SMALL_LOTS, LARGE_LOTS = (1, 2, 4, 8), (256, 512, 1024, 2048, 4096)


def mixed_lots(vendors: int, offers_per_vendor: int, periods: int, *, seed: int, **kw: Any) -> dict[str, Any]:
    """Small and large lots in the same problem.

    Each offer's lot is drawn from 1, 2, 4, 8 units (half the offers) or from
    256–4,096 units (`SMALL_LOTS`, `LARGE_LOTS`); everything else is the base
    family's.  Small lots make near-continuous integer columns with bounds in the
    tens of thousands, large ones steps of up to a third of the first year's
    demand, whose LP relaxation is weak; a plan mixes both to fill demand exactly.
    """
    problem = base(vendors, offers_per_vendor, periods, seed=seed, **kw)
    rng = _family_rng("mixed-lots", seed)
    for o in problem["offers"]:
        o["lot_size"] = int(rng.choice(SMALL_LOTS if rng.random() < 0.5 else LARGE_LOTS))
    return _named(problem, "mixed-lots", seed)


#: tight-power: caps this much above the least power a fractional plan needs (drawn per period)
TIGHT_MARGIN = (0.03, 0.08)


def tight_power(vendors: int, offers_per_vendor: int, periods: int, *, seed: int, **kw: Any) -> dict[str, Any]:
    """Power caps that bind in most periods.

    The least power any fractional plan needs is found by an LP (scipy's
    HiGHS): continuous purchases within the supply caps, each chip running for
    its lifetime, meeting demand, the share caps and vendor-loss survival, with
    the power of each period, relative to its demand, summed as the objective.
    Each period's cap is that plan's power times 1.03–1.08 (`TIGHT_MARGIN`).
    The cheapest plan would use chips of worse compute per kW, so the caps bind
    in most periods, and whole lots must fit in a few percent of headroom.
    """
    problem = base(vendors, offers_per_vendor, periods, seed=seed, **kw)
    rng = _family_rng("tight-power", seed)
    least = _least_power_gw(problem)
    margin = rng.uniform(*TIGHT_MARGIN, size=len(least))
    caps = least * (1 + margin)
    problem["power_cap_gw"] = {str(y): round(float(c), 6) for y, c in zip(problem["periods"], caps)}
    return _named(problem, "tight-power", seed)


def loose_power(vendors: int, offers_per_vendor: int, periods: int, *, seed: int, **kw: Any) -> dict[str, Any]:
    """Power caps that never bind: four times the power of meeting each period's demand with
    the offer of the most power per compute unit alone (a plan would have to buy four times
    the demand, all of the worst chip, to reach them).  The base family's caps do not bind
    either at the benchmark sizes (plans use about 15% of them): this family is the control
    for ``tight-power``, with caps that cannot bind by construction."""
    problem = base(vendors, offers_per_vendor, periods, seed=seed, **kw)
    worst = max(o["power_kw"] / o["compute"] for o in problem["offers"])
    pue = float(problem["pue"])
    problem["power_cap_gw"] = {y: round(4 * d * worst * pue / 1e6, 6) for y, d in problem["demand"].items()}
    return _named(problem, "loose-power", seed)


#: long-horizon: demand growth a year (drawn per problem)
LONG_GROWTH = (0.15, 0.25)


def long_horizon(vendors: int, offers_per_vendor: int, periods: int, *, seed: int, **kw: Any) -> dict[str, Any]:
    """A long horizon: ``2 * periods`` plus up to ``periods // 2`` more (20–25 at the standard
    10), with demand and power caps growing 15–25% a year (`LONG_GROWTH`) instead of 60%.
    With lifetimes of 3–6 years every chip retires within the horizon and is replaced two to
    seven times; the model has over twice the lot columns of the base family's, and scenarios
    (drawn as in the base family) spread over more periods.  Supply caps are flat for ten
    periods, then grow with demand."""
    rng = _family_rng("long-horizon", seed)
    horizon = 2 * periods + int(rng.integers(0, periods // 2 + 1))
    growth = 1 + float(rng.uniform(*LONG_GROWTH))
    problem = base(vendors, offers_per_vendor, horizon, seed=seed, growth_rate=growth, **kw)
    return _named(problem, "long-horizon", seed)


def _least_power_gw(problem: dict[str, Any]) -> np.ndarray:
    """Per period, the power (GW) of the fractional plan that minimizes the sum over periods of
    power / demand, meeting demand, share caps and vendor-loss survival within supply caps."""
    import scipy.sparse as sp
    from scipy.optimize import linprog

    years = [str(y) for y in problem["periods"]]
    T, offers = len(years), problem["offers"]
    n = len(offers)
    vendors = sorted({o["vendor"] for o in offers})
    risk = problem.get("risk", {})
    share, survive = float(risk.get("max_share", 1.0)), float(risk.get("survive_vendor_loss", 0.0))
    demand = np.array([float(problem["demand"][y]) for y in years])
    compute = np.array([o["compute"] for o in offers])
    power = np.array([o["power_kw"] for o in offers]) * float(problem["pue"])
    life = np.array([o["lifetime"] for o in offers])
    supply = np.array(
        [[o["max_units"][y] if isinstance(o["max_units"], dict) else o["max_units"] for y in years] for o in offers],
        dtype=float,
    )
    # fleet[i, t] = sum of purchases b[i, tau] with tau <= t < tau + life_i; b indexed i * T + tau
    fleet = sp.lil_matrix((n * T, n * T))
    for i in range(n):
        for t in range(T):
            for tau in range(max(0, t - life[i] + 1), t + 1):
                fleet[i * T + t, i * T + tau] = 1.0
    fleet = fleet.tocsr()
    rows, rhs = [], []
    of_vendor = {v: np.array([o["vendor"] == v for o in offers]) for v in vendors}
    for t in range(T):
        pick = np.zeros(n * T)
        pick[np.arange(n) * T + t] = 1.0
        total = (pick * np.repeat(compute, T)) @ fleet  # compute in period t, as a row over purchases
        rows.append(-total)
        rhs.append(-demand[t])
        for v in vendors:
            mine = (pick * np.repeat(compute * of_vendor[v], T)) @ fleet
            if share < 1:
                rows.append(mine - share * total)
                rhs.append(0.0)
            if survive > 0:
                rows.append(mine - total)
                rhs.append(-survive * demand[t])
    cost = np.zeros(n * T)
    for t in range(T):
        pick = np.zeros(n * T)
        pick[np.arange(n) * T + t] = 1.0
        cost += ((pick * np.repeat(power, T)) @ fleet) / demand[t]
    bounds = [(0.0, float(supply[i, t])) for i in range(n) for t in range(T)]
    lp = linprog(cost, A_ub=np.array(rows), b_ub=np.array(rhs), bounds=bounds, method="highs")
    if lp.status != 0:
        raise ValueError(f"{problem['name']}: no fractional plan meets demand ({lp.message})")
    used = fleet @ lp.x
    return np.array([float(power @ used[np.arange(n) * T + t]) for t in range(T)]) / 1e6


#: what makes each family hard, in one line (the benchmark's report prints it)
HARD = {
    "base": "random prices each year (the cheapest offer changes from year to year), lots of 8–256, minimum "
    "orders on a third of the offers, power caps far from binding, scenarios of one vendor at 0/25/50% for "
    "1–3 periods (some repeat)",
    "rare-scenarios": "no two scenarios alike: one or two vendors at their own levels (0–90%) for 1–5 periods, "
    "so merging identical scenarios finds nothing and more (scenario, period) pairs are disrupted",
    "similar-offers": "every offer within ±2% of one price, opex and power per compute unit: a flat objective, "
    "many plans within a fraction of a percent of the optimum",
    "falling-prices": "prices falling 20–35% a year, half the offers launching late (no supply before), more "
    "compute per chip the later: when to buy matters as much as what",
    "mixed-lots": "lots of 1–8 units next to lots of 256–4,096: near-continuous columns beside coarse steps "
    "whose LP relaxation is weak",
    "tight-power": "power caps 3–8% above the least power any fractional plan needs: binding in most periods, "
    "whole lots must fit in little headroom",
    "loose-power": "power caps that cannot bind (4× the power of meeting demand with the least efficient chip): "
    "the control for tight-power",
    "long-horizon": "20–25 periods with demand growing 15–25% a year: every chip retires and is replaced, over "
    "twice the lot columns",
}

#: name → generator; ``generate(..., family=name)`` calls ``FAMILIES[name](vendors, offers, periods, **kw)``
FAMILIES: dict[str, Callable[..., dict[str, Any]]] = {
    "base": base,
    "rare-scenarios": rare_scenarios,
    "similar-offers": similar_offers,
    "falling-prices": falling_prices,
    "mixed-lots": mixed_lots,
    "tight-power": tight_power,
    "loose-power": loose_power,
    "long-horizon": long_horizon,
}
