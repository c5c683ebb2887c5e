"""Three clouds: the gigawatt plan placed on sites, split by workload, under a volume TPU contract.

The buyer is the frontier lab of gigawatt_2026.py, 2026-2030, but every chip now
lives at a site: TPUs only in Google Cloud regions, Trainium only in AWS regions,
Nvidia GPUs in its own colocation campus and in some cloud regions.  Each site
has its own power coming online year by year, its own PUE and electricity price.
Demand is two workloads, training and inference, growing at different rates, and
chips are not equally good at both.  Ironwood TPUs come under a volume contract:
price tiers plus a take-or-pay commitment to Google.  What does that commitment
cost, and how does it shift the plan?

Compute is dense BF16 PFLOP/s, as in gigawatt_2026.py.  Tags: O = vendor
document, E = analyst/press estimate, D = arithmetic from cited numbers.
Prices, supply, site ramps, efficiencies and contract terms are assumptions:
replace them with your own.

What to look for: the Google regions and AWS Ohio run at their power caps
(marked *) from 2027-2029 on, and Google sits at its 60% share cap every year.
The $80B take-or-pay is more TPU capex than that cap lets the lab use: the plan
takes a ~250k-chip TPU order in 2030 instead of GB300s, still pays a few
hundred million for nothing, and costs ~$1B more than without the commitment.
The tiers are worth ~$6B: at list price the same $80B buys ~190k fewer TPUs.

Run from the repository root:

    python examples/three_clouds.py
"""

from __future__ import annotations

import copy
import sys

import pandas as pd

import procure
from procure.base import fmt

YEARS = [2026, 2027, 2028, 2029, 2030]


def per_year(*values):
    """A per-period mapping {2026: v0, 2027: v1, ...}."""
    return dict(zip(YEARS, values, strict=True))


# Sites.  PUE: Google fleet 1.10 (2023), 1.09 (2025); AWS 1.15 (2024), 1.14 (2025)
# (O, sustainability reports).  Industrial electricity, $/MWh: Ohio ~71-79, Indiana
# ~80-90 (EIA 2024-2025), US average ~81 (EIA 2023).  Power ramps (facility GW each
# year) are assumptions: 1.6 GW in 2026 ("well over a gigawatt"), ~6 GW by 2030.
# fmt: off
SITES = [
    # Google Cloud, The Dalles-like Oregon region, TPUs only; $65/MWh (assumption, hydro).
    {"name": "gcp-oregon", "vendors": ["google"], "pue": 1.09, "electricity_price": 65,
     "power_cap_gw": per_year(0.5, 0.8, 1.0, 1.1, 1.2)},
    # Google Cloud, Ohio (Columbus-area) region: TPUs, and Nvidia GPUs it rents out.
    {"name": "gcp-ohio", "vendors": ["google", "nvidia"], "pue": 1.09, "electricity_price": 75,
     "power_cap_gw": per_year(0.2, 0.6, 1.0, 1.3, 1.5)},
    # AWS Project Rainier-like campus, Indiana: Trainium only.  Rainier is ~1 GW
    # across three states (Semafor, Oct 2025); this site's ramp is an assumption.
    {"name": "aws-indiana", "vendors": ["amazon"], "pue": 1.14, "electricity_price": 85,
     "power_cap_gw": per_year(0.6, 0.8, 1.0, 1.2, 1.4)},
    # AWS us-east-2 (Ohio) region: Trainium and Nvidia.
    {"name": "aws-ohio", "vendors": ["amazon", "nvidia"], "pue": 1.14, "electricity_price": 75,
     "power_cap_gw": per_year(0.15, 0.4, 0.8, 1.1, 1.4)},
    # The lab's own colocation campus for Nvidia racks (Texas): US-average price, PUE 1.25 (assumption).
    {"name": "colo-texas", "vendors": ["nvidia"], "pue": 1.25, "electricity_price": 81,
     "power_cap_gw": per_year(0.15, 0.3, 0.45, 0.6, 0.75)},
]

# Ironwood under a Google Cloud contract.  Cost to Google is ~$35k all-in per
# chip ("$35B of chips per GW", E/D); the contract's list price adds ~40%
# margin (assumption) and falls ~5%/yr.  Volume tiers on the units bought in a
# year (assumption): 5% off from 100k chips, 10% off from 250k.
IRONWOOD = per_year(50_000, 47_000, 45_000, 43_000, 41_000)
IRONWOOD_TIERS = [
    {"from_units": 0, "unit_cost": IRONWOOD},
    {"from_units": 100_000, "unit_cost": {t: round(0.95 * c) for t, c in IRONWOOD.items()}},
    {"from_units": 250_000, "unit_cost": {t: round(0.90 * c) for t, c in IRONWOOD.items()}},
]
MIN_SPEND = 80e9  # take-or-pay on Google capex over 2026-2030 (assumption; "tens of billions")

# Chips as in gigawatt_2026.py (same sources, opex = facility + upkeep, D/assumption),
# now with installed fleets per site and an efficiency per workload: the share
# of the chip's BF16 compute that counts toward that workload (assumptions).
OFFERS = [
    # TPU7x Ironwood: 2,307 TFLOP/s (O); ~1,085 W all-in (E/D); 256-chip pods.  Built
    # for inference (assumption: 1.1 there).  Supply: the deal's "up to one million
    # TPUs", then follow-on capacity (assumption).  "all_units": a chip volume deal
    # quotes one price for the whole year's order, so crossing a threshold re-prices
    # every chip ("incremental", the default, discounts only the chips above it).
    {"name": "tpu7x-ironwood", "vendor": "google", "compute": 2.307, "power_kw": 1.085,
     "price_tiers": IRONWOOD_TIERS, "discount": "all_units",
     "opex_per_year": 3_650, "lot_size": 256, "lifetime": 5,
     "max_units": per_year(400_000, 500_000, 600_000, 600_000, 600_000),
     "efficiency": {"training": 1.0, "inference": 1.1}},
    # Trainium2: 667 TFLOP/s (O); ~1 kW all-in (D); 64-chip UltraServers (O);
    # ~500k live at Rainier (Semafor, Oct 2025).  Price ~$14k (E/D, assumption).
    # Weaker at frontier training (software, 64-chip domain; assumption: 0.85).
    {"name": "trainium2", "vendor": "amazon", "compute": 0.667, "power_kw": 1.0,
     "unit_cost": per_year(14_000, 13_000, 12_000, 12_000, 12_000),
     "opex_per_year": 2_800, "lot_size": 64, "lifetime": 5,
     "installed": {"aws-indiana": 500_000}, "installed_life": 5,  # all at Rainier (assumption)
     "max_units": per_year(250_000, 150_000, 50_000, 0, 0),
     "efficiency": {"training": 0.85, "inference": 1.0}},
    # Trainium3: 671 TFLOP/s BF16 but 2,517 MXFP8 (O): 3.75x in FP8 where others get
    # 2x, so FP8 serving counts ~1.9x (D); we take 1.5, not all serving is FP8.  1.3 kW
    # all-in, price, ramp and a one-year lead time (new product) are assumptions.
    {"name": "trainium3", "vendor": "amazon", "compute": 0.671, "power_kw": 1.3,
     "unit_cost": per_year(18_000, 17_000, 16_000, 15_000, 14_000),
     "opex_per_year": 3_650, "lot_size": 64, "lifetime": 5, "lead_time": 1,
     "max_units": per_year(100_000, 400_000, 800_000, 1_200_000, 1_500_000),
     "efficiency": {"training": 0.9, "inference": 1.5}},
    # GB300 NVL72 per GPU: 2,500 TFLOP/s, ~1.75 kW all-in, ~$45k (E/D).
    {"name": "gb300-nvl72", "vendor": "nvidia", "compute": 2.5, "power_kw": 1.75,
     "unit_cost": per_year(45_000, 43_000, 41_000, 39_000, 37_000),
     "opex_per_year": 5_550, "lot_size": 72, "lifetime": 5,
     "max_units": per_year(144_000, 360_000, 576_000, 720_000, 864_000)},
    # B200 in 8-GPU servers: 2,250 TFLOP/s, 1.79 kW (O/D), $30-40k (E).  Its
    # 8-GPU NVLink domain trains worse than a 72-GPU rack (assumption: 0.8).
    {"name": "b200-hgx", "vendor": "nvidia", "compute": 2.25, "power_kw": 1.79,
     "unit_cost": per_year(35_000, 32_000, 30_000, 30_000, 30_000),
     "opex_per_year": 5_350, "lot_size": 8, "lifetime": 5,
     "max_units": per_year(100_000, 50_000, 0, 0, 0),
     "efficiency": {"training": 0.8, "inference": 1.0}},
    # Legacy Hopper (H100/H200): 989 TFLOP/s, 1.275 kW (O/D), 3 years left; 100k as in
    # gigawatt_2026.py, split over two sites.  80-141 GB in 8-GPU servers: inference
    # only (assumption; efficiency 0 = cannot run that workload).
    {"name": "h100-h200", "vendor": "nvidia", "compute": 0.989, "power_kw": 1.275,
     "unit_cost": 28_000, "opex_per_year": 3_900, "lot_size": 8, "lifetime": 5,
     "installed": {"colo-texas": 60_000, "aws-ohio": 40_000}, "installed_life": 3, "max_units": 0,
     "efficiency": {"training": 0.0, "inference": 1.0}},
]
# fmt: on


def tpu_capex(offer: dict, bought: pd.Series) -> float:
    """Undiscounted Ironwood capex of a plan (all-units tiers: the whole order at its tier's price)."""
    tiers = offer.get("price_tiers") or [{"from_units": 0, "unit_cost": offer["unit_cost"]}]
    price = {t: [x for x in tiers if x["from_units"] <= units][-1]["unit_cost"][t] for t, units in bought.items()}
    return sum(units * price[t] for t, units in bought.items())


def build_problem() -> dict:
    """The plan as a procure problem mapping (the public dict format)."""
    return {
        "name": "three-clouds",
        "periods": YEARS,
        # PFLOP/s per workload (assumptions): training ~2x a year early, then
        # slowing; inference ~3x early as usage grows (large accounts ~7x in a
        # year), then slowing.  Together about gigawatt_2026.py's demand.
        "workloads": {
            "training": per_year(800_000, 1_600_000, 2_600_000, 3_200_000, 3_600_000),
            "inference": per_year(500_000, 1_500_000, 2_700_000, 3_600_000, 4_300_000),
        },
        "sites": SITES,
        "offers": OFFERS,
        "vendors": [
            # Google may carry up to 60% (as in gigawatt_2026.py) and holds the
            # take-or-pay; Nvidia's allocation is capped in dollars (assumption).
            {"name": "google", "max_share": 0.6, "min_spend": MIN_SPEND},
            {"name": "amazon"},
            {"name": "nvidia", "max_spend": 44e9},
        ],
        # Capex per year and in total (assumptions); the take-or-pay counts
        # against the total.  No top-level power cap: the sites' caps govern.
        "budget": per_year(20e9, 36e9, 38e9, 38e9, 38e9),
        "total_budget": 150e9,
        "discount_rate": 0.08,
        "risk": {"max_share": 0.5, "min_vendors": 3, "min_vendor_share": 0.1, "survive_vendor_loss": 0.35},
    }


def solve(problem: dict, label: str) -> procure.Result:
    """Solve; exit with the reason if there is no plan.  mip_gap 2e-4 (~$30M here) is far below
    the differences compared, and saves most of the time HiGHS spends proving the last 0.01%."""
    result = procure.solve(problem, time_limit=60, mip_gap=2e-4)
    if not result.has_plan:
        print(f"{label}: {result.status}\n{result.message}")
        sys.exit(1)
    if result.status != "optimal":
        print(f"{label}: stopped at the time limit, {fmt.gap(result.gap)} from the best bound")
    return result


def main() -> None:
    pd.set_option("display.width", 140)
    problem = build_problem()
    result = solve(problem, "plan")
    print(f"status: {result.status} (gap {fmt.gap(result.gap)}), cost (present value): {fmt.money(result.cost)}\n")

    def counts(frame: pd.DataFrame) -> str:  # every number goes through procure.fmt
        return fmt.table(frame, dict.fromkeys(frame.columns, "count")).to_string()

    for column, title in [("bought", "Units bought per year"), ("fleet", "Operational units")]:
        table = result.by_site.pivot_table(index=["site", "offer"], columns="period", values=column, aggfunc="sum")
        table = table[(table > 0).any(axis=1)]
        print(f"{title}, by site and offer")
        print(counts(table), end="\n\n")

    # Facility power per site = its PUE x IT power of the units there; "*" = at the cap.
    kw = {o["name"]: o["power_kw"] for o in OFFERS}
    pue = {s["name"]: s["pue"] for s in SITES}
    rows = result.by_site
    gw = (rows.fleet * rows.offer.map(kw) * rows.site.map(pue) / 1e6).groupby([rows.period, rows.site]).sum()
    cap = pd.DataFrame({s["name"]: s["power_cap_gw"] for s in SITES})
    power = gw.unstack().apply(
        lambda col: [
            f"{fmt.power(u)} / {fmt.power(c)}{' *' if u > 0.995 * c else '  '}" for u, c in zip(col, cap[col.name])
        ]
    )
    print("Facility power by site, used / cap")
    print(power.to_string(), end="\n\n")

    # A Trainium3 serving inference counts 1.5x its BF16 compute; idle units are left out.
    vendor_of = {o["name"]: o["vendor"] for o in OFFERS}
    split = result.split.assign(vendor=result.split.offer.map(vendor_of))
    served = split.pivot_table(index="period", columns=["workload", "vendor"], values="compute", aggfunc="sum")
    served = served.reindex(columns=pd.MultiIndex.from_product([problem["workloads"], result.shares.columns])).fillna(0)
    for name, demand in problem["workloads"].items():
        served[name, "demand"] = pd.Series(demand, dtype=float)
    print("Effective PFLOP/s serving each workload, by vendor (efficiency applied), and the demand")
    print(counts(served[list(problem["workloads"])]), end="\n\n")

    # What the contract costs: the same problem without the take-or-pay, and with the tiers
    # replaced by the first tier's (list) price.  TPU capex is recomputed from the tiers.
    no_commit = copy.deepcopy(problem)
    no_commit["vendors"][0]["min_spend"] = 0
    flat = copy.deepcopy(problem)
    tpu = flat["offers"][0]
    tpu["unit_cost"] = tpu.pop("price_tiers")[0]["unit_cost"]
    del tpu["discount"]
    variants = {
        "as planned": result,
        "no min_spend": solve(no_commit, "no min_spend"),
        "no tiers": solve(flat, "no tiers"),
    }
    table = pd.DataFrame(
        {
            name: {
                "cost": r.cost,
                "change": r.cost - result.cost,
                "take-or-pay": r.cost_breakdown["take_or_pay"].sum(),
                "TPU capex": tpu_capex(p["offers"][0], r.purchases["tpu7x-ironwood"]),
                **{f"TPUs {t}": r.purchases.loc[t, "tpu7x-ironwood"] for t in YEARS},
                "GB300s": r.purchases["gb300-nvl72"].sum(),
            }
            for (name, r), p in zip(variants.items(), [problem, no_commit, flat])
        }
    ).T
    print(f"What the TPU contract costs (cost: present value; take-or-pay floor: {fmt.money(MIN_SPEND)} TPU capex)")
    table["change"] = [fmt.money(x, sign=True) for x in table["change"]]
    dollars = ("cost", "take-or-pay", "TPU capex")
    print(fmt.table(table, {c: "money" if c in dollars else "count" for c in table}).to_string(), end="\n\n")

    print(result.summary())


if __name__ == "__main__":
    main()
