"""Gigawatt 2026: a five-year, three-vendor chip plan for a frontier AI lab.

The scenario follows the October 2025 deals.  A frontier lab agreed with Google
to take up to one million TPUs ("well over a gigawatt" online in 2026, Ironwood
named), already runs about half a million Amazon Trainium2 chips (Project
Rainier) and Nvidia GPUs, across three clouds, and saw its large accounts grow
nearly 7x in a year.  How many chips of which kind should it buy each year,
2026-2030, so that compute keeps up with demand, the fleet stays under the
power it can get, capex stays under budget, and no vendor becomes a single
point of failure?

Compute is dense BF16 PFLOP/s (datasheet TFLOP/s / 1000; Nvidia's "with
sparsity" numbers halved).  Chip facts are cited next to each number (O =
vendor document, E = analyst/press estimate, D = arithmetic from cited
numbers).  Prices, supply and opex are estimates: replace them with your own.
The same problem is in gigawatt_2026.toml.

What to look for: in 2026 the 1.3 GW power cap binds, so fewer TPUs arrive
than the deal allows; Google's share starts at its 60% cap and shrinks as the
million TPUs run out; Nvidia then fills up to its 50% cap, and the rest falls
to Trainium, which costs the most power per BF16 FLOP, pushing 2029-2030 close
to the power cap.

Run from the repository root:

    python examples/gigawatt_2026.py
"""

from __future__ import annotations

import sys

import pandas as pd

import procure
from procure.base import fmt

YEARS = [2026, 2027, 2028, 2029, 2030]


def per_year(*values):
    """A per-period mapping {2026: v0, 2027: v1, ...}."""
    return dict(zip(YEARS, values, strict=True))


# Opex (besides energy) = facility + upkeep, an estimate (D/assumption):
# Bernstein puts facility capex at ~$2.5M per ~120 kW NVL72 rack (E), ~$21k/kW;
# leased over 15 years at 8% that is ~$2,400 per IT kW-year.  Upkeep: 3% of
# the chip price a year (assumption).  E.g. Ironwood: 1.085*2400 + 0.03*35000.
# fmt: off
OFFERS = [
    # Google TPU7x Ironwood: 2,307 dense BF16 TFLOP/s (O, Google Cloud TPU docs);
    # ~1,085 W all-in per chip (pod ~10 MW / 9,216 chips, E/D); 256-chip pods.
    # Price: BofA puts the chip ASP at $12-15k, "$35B of chips per GW" implies
    # ~$35k all-in (E/D); we take the all-in figure, falling ~5%/yr (assumption).
    # Supply: the deal's "up to one million TPUs", phased 2026-2028 (assumption).
    {"name": "tpu7x-ironwood", "vendor": "google", "compute": 2.307, "power_kw": 1.085,
     "unit_cost": per_year(35_000, 33_000, 31_500, 30_000, 28_500),
     "opex_per_year": 3_650, "lot_size": 256, "lifetime": 5,
     "max_units": per_year(450_000, 350_000, 200_000, 0, 0)},
    # Amazon Trainium2: 667 TFLOP/s BF16 (O, AWS Neuron docs); 64-chip
    # UltraServers (O).  ~1 kW all-in: Rainier is ~1 GW for up to ~1M chips (D,
    # low end).  ~500k already live for this buyer (Semafor, Oct 2025).  No
    # price is published: ~$14k assumed (AWS claims 30-40% better price-
    # performance than H200-class GPUs, ~$32k for 989 TFLOP/s; E/D).
    # Production shifts to Trainium3, so supply tapers (assumption).
    {"name": "trainium2", "vendor": "amazon", "compute": 0.667, "power_kw": 1.0,
     "unit_cost": per_year(14_000, 13_000, 12_000, 12_000, 12_000),
     "opex_per_year": 2_800, "lot_size": 64, "lifetime": 5,
     "installed": 500_000, "installed_life": 5,
     "max_units": per_year(250_000, 150_000, 50_000, 0, 0)},
    # Amazon Trainium3: 671 TFLOP/s BF16 (O; its strength is MXFP8, 2,517).
    # ~1,000 W TDP (E); all-in assumed 1.3 kW (GB300's 1,400 -> ~1,750 W ratio).
    # Price and ramp are assumptions.  In FP8 units it would look ~3.7x better.
    {"name": "trainium3", "vendor": "amazon", "compute": 0.671, "power_kw": 1.3,
     "unit_cost": per_year(18_000, 17_000, 16_000, 15_000, 14_000),
     "opex_per_year": 3_650, "lot_size": 64, "lifetime": 5,
     "max_units": per_year(100_000, 400_000, 800_000, 1_200_000, 1_500_000)},
    # Nvidia GB300 NVL72, per GPU: 2,500 dense BF16 TFLOP/s; 120-132 kW per
    # 72-GPU rack, ~1.75 kW per GPU (E/D); $3-4M per rack (E, low confidence),
    # ~$45k per GPU in 2026.  Racks per year are assumptions (2,000 -> 12,000).
    {"name": "gb300-nvl72", "vendor": "nvidia", "compute": 2.5, "power_kw": 1.75,
     "unit_cost": per_year(45_000, 43_000, 41_000, 39_000, 37_000),
     "opex_per_year": 5_550, "lot_size": 72, "lifetime": 5,
     "max_units": per_year(144_000, 360_000, 576_000, 720_000, 864_000)},
    # Nvidia B200 in 8-GPU servers: 2,250 TFLOP/s; DGX B200 14.3 kW / 8 =
    # 1.79 kW (O/D); $30-40k (E).  Cheaper per FLOP than GB300 but hungrier per
    # watt; superseded after 2027 (assumption).
    {"name": "b200-hgx", "vendor": "nvidia", "compute": 2.25, "power_kw": 1.79,
     "unit_cost": per_year(35_000, 32_000, 30_000, 30_000, 30_000),
     "opex_per_year": 5_350, "lot_size": 8, "lifetime": 5,
     "max_units": per_year(100_000, 50_000, 0, 0, 0)},
    # Legacy Hopper fleet (H100/H200): 989 TFLOP/s; DGX 10.2 kW / 8 = 1.275 kW
    # (O/D); bought 2023-24, so 3 of its 5 years are left.  Not for sale here.
    {"name": "h100-h200", "vendor": "nvidia", "compute": 0.989, "power_kw": 1.275,
     "unit_cost": 28_000, "opex_per_year": 3_900, "lot_size": 8, "lifetime": 5,
     "installed": 100_000, "installed_life": 3, "max_units": 0},
]
# fmt: on


def build_problem() -> dict:
    """The plan as a procure problem mapping (the public dict format)."""
    return {
        "name": "gigawatt-2026",
        "periods": YEARS,
        # PFLOP/s needed: ~3x the installed ~0.43M in 2026, 2.4x in 2027, then
        # slowing to ~1.2x a year, 5.4x over the horizon (assumption, shaped by
        # large accounts growing ~7x in a year).
        "demand": per_year(1_400_000, 3_300_000, 5_100_000, 6_500_000, 7_600_000),
        "offers": OFFERS,
        # All three vendors are already in use: no onboarding cost.  Google may
        # carry most of the load, but no more than 60%; others default to 50%.
        "vendors": [
            {"name": "google", "max_share": 0.6, "onboarding_cost": 0},
            {"name": "amazon", "onboarding_cost": 0},
            {"name": "nvidia", "onboarding_cost": 0},
        ],
        # Facility power the lab can get (GW): 1.3 in 2026 ("well over a
        # gigawatt"), then multi-GW as in the OpenAI-Nvidia/AMD/Broadcom deals.
        "power_cap_gw": per_year(1.3, 3.0, 4.5, 6.0, 7.5),
        # Google fleet PUE 1.09-1.10, AWS 1.14-1.15 (O): 1.1 for the mix.
        "pue": 1.1,
        # US industrial electricity ~$81/MWh, 2023 (EIA).
        "electricity_price": 80,
        # Capex per year and over the horizon ("tens of billions"; assumption).
        "budget": per_year(18e9, 28e9, 30e9, 30e9, 30e9),
        "total_budget": 125e9,
        "discount_rate": 0.08,
        # At least 3 vendors each carrying 10% of demand, and losing any one
        # vendor outright must still leave 35% of demand running.
        "risk": {"max_share": 0.5, "min_vendors": 3, "min_vendor_share": 0.1, "survive_vendor_loss": 0.35},
    }


def main() -> None:
    problem = build_problem()
    result = procure.solve(problem)
    print(f"status: {result.status}")
    if result.status not in ("optimal", "feasible"):
        print(result.message)
        sys.exit(1)
    print(f"total cost (present value): {fmt.money(result.cost)}\n")
    pd.set_option("display.width", 120)

    # every number goes through procure.fmt: money as $20.8B, shares as 40.0%, GW, counts
    print("Units bought per year")
    print(fmt.table(result.purchases, dict.fromkeys(result.purchases.columns, "count")).to_string())

    # Compute can exceed demand: lots are whole, and TPUs are bought while the
    # deal can supply them.  Shares are of operational compute (the caps' basis).
    compute = result.compute_by_vendor
    table = pd.DataFrame(index=compute.index)
    table["demand (PFLOP/s)"] = [problem["demand"][t] for t in compute.index]
    table["fleet (PFLOP/s)"] = result.compute
    for vendor in compute.columns:
        table[f"{vendor} (PFLOP/s)"] = compute[vendor]
        table[f"{vendor} (share)"] = result.shares[vendor]
    print("\nOperational compute per year and vendor")
    print(fmt.table(table, {c: fmt.kind_of(c) for c in table}).to_string())

    power = pd.DataFrame({"used": result.power_gw, "cap": [problem["power_cap_gw"][t] for t in result.power_gw.index]})
    power["% of cap"] = power["used"] / power["cap"]
    print("\nFacility power (PUE included) against the cap")
    print(fmt.table(power, {"used": "power", "cap": "power", "% of cap": "share"}).to_string())

    costs = result.cost_breakdown.copy()
    costs["spend, undiscounted"] = result.spend
    print("\nCost per year (present value; spend is what the budget caps)")
    print(fmt.table(costs, dict.fromkeys(costs.columns, "money")).to_string())

    print()
    print(result.summary())


if __name__ == "__main__":
    main()
