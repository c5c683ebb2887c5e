"""Diversification: how much does it cost to avoid depending on one vendor?

Starts from the gigawatt example (gigawatt_2026.py), drops its concentration
limits, and adds a few supply disruptions with a price on compute that a
disruption leaves unmet.  Then it asks, in order:

1. Could one vendor do it alone?  (No: procure says which requirement gives.)
2. What does each step down in the largest vendor share cost?  (max_share frontier)
3. Where does the gigawatt plan, with its 60%/50% caps, three-vendor minimum and
   vendor-loss survival rule, sit against that frontier?
4. What does it cost to cut the tail risk itself?  (CVaR frontier)

Run from the repository root:

    python examples/diversification.py

What to look for: no single vendor can sell enough chips, so even the
cheapest plan uses two vendors besides the installed Trainium2 fleet.  Capping
the largest share (Google's, in 2026) from 68% to 59% costs about 4% and
barely moves the CVaR (the mean disruption loss in the worst 5% of outcomes),
because the costliest disruption hits Nvidia in 2028-2030.  The gigawatt
plan's extra rules (three vendors, survive losing one) cut the CVaR by ~$14B,
but the CVaR frontier reaches the same CVaR for ~$6B less: constrain the risk
you fear, not a proxy for it.  The plot, diversification.png, marks the
gigawatt plan (star) against the max_share frontier.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np
import pandas as pd
from gigawatt_2026 import build_problem

import procure
from procure.base import fmt

# Disruptions over the 2026-2030 horizon.  Probabilities and availabilities are
# assumptions, not estimates from any source; replace them with your own.
# "availability" is the fraction of a vendor's operational compute still usable.
SCENARIOS = [
    # Assumption: tighter export rules strand part of the Nvidia fleet at
    # overseas sites once the multi-GW campuses are up.
    {"name": "nvidia-export-controls", "probability": 0.04, "availability": {"nvidia": 0.6},
     "periods": [2028, 2029, 2030]},
    # Assumption: Google keeps TPU capacity for its own models during a crunch.
    {"name": "tpu-supply-cut", "probability": 0.05, "availability": {"google": 0.5}, "periods": [2027, 2028]},
    # Assumption: the Trainium3 ramp slips; procure cuts the whole Amazon fleet,
    # so a mild 0.75 stands in for "the new capacity arrives late".
    {"name": "trainium-ramp-delay", "probability": 0.08, "availability": {"amazon": 0.75},
     "periods": [2026, 2027]},
]  # fmt: skip

# $ per PFLOP/s-year of demand a disruption leaves unmet (assumption): ~1.5x
# renting it (an H100 at an assumed ~$2.30/h is ~$20k a year for 0.989 PFLOP/s),
# since compute lost at short notice also delays training runs.
SHORTFALL_PENALTY = 30_000

# Every solve here takes well under a second; the limit only guards against a
# slow point (a stopped point reports status "feasible").
TIME_LIMIT = 20

VENDORS = ["google", "amazon", "nvidia"]


def with_scenarios(problem: dict) -> dict:
    """The problem with the disruptions priced but not in the objective (risk_weight 0)."""
    out = copy.deepcopy(problem)
    out["risk"].update(scenarios=SCENARIOS, shortfall_penalty=SHORTFALL_PENALTY, risk_weight=0)
    return out


def unconstrained(problem: dict) -> dict:
    """No concentration limits: what is left is cost, supply, power and budget."""
    out = with_scenarios(problem)
    for vendor in out["vendors"]:
        vendor.pop("max_share", None)
    out["risk"].update(max_share=1, min_vendors=0, survive_vendor_loss=0)
    return out


def single_vendor(problem: dict, vendor: str) -> dict:
    """Buy only from ``vendor``; the installed fleets keep running."""
    out = copy.deepcopy(problem)
    for offer in out["offers"]:
        if offer["vendor"] != vendor:
            offer["max_units"] = 0
    return out


def billions(x: float) -> float:
    """Dollars in $B, the unit of the plot's axis."""
    return x / 1e9


def shown(table: pd.DataFrame) -> str:
    """A table as people read it: every number through procure.fmt, its kind by its column's
    name ($ columns as $20.8B, % columns as 40.0%)."""
    kinds = {c: "money" if "$" in c else "share" if "%" in c else "number" for c in table.columns}
    return fmt.table(table, kinds).to_string()


def frontier_table(front: procure.Frontier) -> pd.DataFrame:
    """The frontier's dollars and shares, with each point's CVaR and extra cost over its cheapest plan."""
    t = front.table
    # Each frontier's own point 0: two solves of the cheapest plan may differ within mip_gap.
    cheapest = t["cost"].iloc[0]
    out = pd.DataFrame(index=t.index)
    out["status"] = t["status"]
    if front.measure == "max_share":
        out["allowed %"] = t["level"]
        out["largest %"] = t["risk"]
    out["cost $"] = t["cost"]
    out["extra $"] = t["cost"] - cheapest
    out["extra %"] = t["cost"] / cheapest - 1
    out["CVaR $"] = [r.cvar for r in front.results]
    if front.measure == "cvar":
        out["allowed CVaR $"] = t["level"]
    # The frontier's vendor shares are of compute summed over the horizon, not per year.
    for vendor in VENDORS:
        out[f"{vendor} %"] = t[f"share {vendor}"]
    return out


def main() -> None:
    started = time.perf_counter()
    pd.set_option("display.width", 140)
    free = unconstrained(build_problem())

    print("== Single-vendor plans (installed fleets stay; nothing else is bought)")
    rows, messages = [], {}
    for vendor in VENDORS:
        result = procure.solve(single_vendor(free, vendor), time_limit=TIME_LIMIT)
        rows.append(
            {
                "vendor": vendor,
                "status": result.status,
                "cost $": result.cost,
                "largest share %": result.shares.max().max() if result.has_plan else np.nan,
                "CVaR $": result.cvar,
            }
        )
        messages[vendor] = result.message
    print(shown(pd.DataFrame(rows).set_index("vendor")))
    for vendor, message in messages.items():
        print(f"  {vendor}: {message or '(no message)'}")
    # Supply (max_units) is a bound that the diagnosis never relaxes; when it names only
    # demand, no amount of extra power or budget would let that vendor do it alone.
    if not any(row["status"] in ("optimal", "feasible") for row in rows):
        print("  -> no vendor can do it alone: supply forces diversification before risk does.")

    print("\n== The cheapest plan without limits, and what lower vendor shares cost")
    by_share = procure.frontier(free, "max_share", points=8, progress=True, time_limit=TIME_LIMIT)
    # Point 0 is the unconstrained cheapest plan; the gigawatt plan is measured from it too.
    cheapest = by_share.table["cost"].iloc[0]
    print(f"cheapest plan: {fmt.money(cheapest)}, CVaR {fmt.money(by_share.results[0].cvar)}")
    print("largest % = the largest vendor share in any year; vendor % = share of compute over 2026-2030")
    print(shown(frontier_table(by_share)))

    print("\n== The three-vendor gigawatt plan (its own limits, same disruptions)")
    gigawatt = procure.solve(with_scenarios(build_problem()), time_limit=TIME_LIMIT)
    if not gigawatt.has_plan:
        raise SystemExit(f"gigawatt plan: {gigawatt.status}: {gigawatt.message}")
    largest = gigawatt.shares.max().max()
    year, vendor = gigawatt.shares.stack().idxmax()
    print(
        f"largest share {fmt.share(largest)} ({vendor}, {year}); cost {fmt.money(gigawatt.cost)},"
        f" {fmt.money(gigawatt.cost - cheapest)} ({fmt.share(gigawatt.cost / cheapest - 1)}) over the"
        f" cheapest plan; CVaR {fmt.money(gigawatt.cvar)}"
    )
    near = (by_share.table["risk"] - largest).abs().idxmin()
    twin = by_share.results[near]
    print(
        f"frontier point {near} (largest share {fmt.share(by_share.table['risk'][near])}): cost"
        f" {fmt.money(twin.cost)}, CVaR {fmt.money(twin.cvar)}.  The gigawatt plan pays"
        f" {fmt.money(gigawatt.cost - twin.cost)} more for about the same largest share; its min-vendor"
        " and vendor-loss rules buy a CVaR lower by"
        f" {fmt.money(twin.cvar - gigawatt.cvar)}."
    )

    print("\n== Cost against the tail risk itself (CVaR at 95% of the disruption loss)")
    by_cvar = procure.frontier(free, "cvar", points=6, progress=True, time_limit=TIME_LIMIT)
    cvar_table = frontier_table(by_cvar)
    columns = ["status", "allowed CVaR $", "CVaR $", "cost $", "extra $", "extra %"]
    print(shown(cvar_table[columns]))
    ok = by_cvar.table["status"].isin(["optimal", "feasible"])
    same = (by_cvar.table.loc[ok, "risk"] - gigawatt.cvar).abs().idxmin()
    print(
        f"nearest to the gigawatt plan's CVaR: point {same}, CVaR {fmt.money(cvar_table['CVaR $'][same])}"
        f" for {fmt.money(cvar_table['cost $'][same])}; the gigawatt plan: CVaR {fmt.money(gigawatt.cvar)}"
        f" for {fmt.money(gigawatt.cost)}, {fmt.money(gigawatt.cost - by_cvar.table['cost'][same])}"
        " more than aiming at the risk directly"
    )

    path = Path(__file__).with_name("diversification.png")
    fig = by_share.plot(path, title="Cost of capping the largest vendor share (gigawatt 2026-2030)")
    top = fig.axes[0]
    top.lines[0].set_label("cheapest plan at each cap (no other concentration rule)")
    star = dict(marker="*", markersize=16, color="#c0392b", linestyle="none")
    top.plot(largest, billions(gigawatt.cost), **star, label="three-vendor gigawatt plan")
    top.annotate(
        # escaped: two bare "$" would make matplotlib typeset the text between them as math
        f"gigawatt plan {fmt.money(gigawatt.cost)}, CVaR {fmt.money(gigawatt.cvar)}".replace("$", "\\$"),
        (largest, billions(gigawatt.cost)),
        textcoords="offset points",
        xytext=(0, -16),
        ha="center",
        fontsize=8,
        color="#c0392b",
    )
    top.legend(loc="upper left", fontsize=8)
    top.margins(y=0.1)  # keep the star off the frame
    fig.savefig(path, dpi=130)
    print(f"\nplot: {path}")
    print(f"total time {fmt.seconds(time.perf_counter() - started)}")


if __name__ == "__main__":
    main()
