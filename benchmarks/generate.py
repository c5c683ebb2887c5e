"""Scalable random procurement problems for benchmarks (and for stress tests).

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
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["generate"]


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
) -> dict[str, Any]:
    """A random but reproducible problem of the given size."""
    rng = np.random.default_rng(seed)
    years = [2026 + k for k in range(periods)]
    growth = 1.6 ** np.arange(periods)
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
            # Each at most 0.5 / scenarios (rounded down), so the total is <= 0.5.
            probability = float(np.floor(rng.uniform(0.2, 1.0) * 0.5 / scenarios * 1e6) / 1e6)
            listed.append(
                {
                    "name": f"disruption{s}",
                    "probability": probability,
                    "availability": {f"vendor{vendor}": availability},
                    "periods": years[start : start + length],
                }
            )
        worst = max(max(o["unit_cost"].values()) / o["compute"] for o in offers)
        problem.setdefault("risk", {}).update(
            {
                "scenarios": listed,
                "shortfall_penalty": round(2 * worst, 2),
                "risk_weight": 1.0,
                "cvar_alpha": 0.9,
            }
        )
    if sites > 0:
        problem["sites"] = _sites(rng, sites, vendors, years, problem["power_cap_gw"])
    return problem


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
