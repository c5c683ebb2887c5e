"""Planning under uncertain growth: what to commit in 2026 when demand may grow 3×, 5× or 8×.

Starts from the gigawatt example (gigawatt_2026.toml) and makes its two big
givens uncertain or decided:

- demand: 1.4M PFLOP/s of dense BF16 compute in 2026, then every year it grows
  slow (×1.32 a year, 3× by 2030), mid (×1.50, 5×) or fast (×1.68, 8×), with
  probabilities 0.3 / 0.5 / 0.2.  Each year's growth becomes known when that
  year's purchases are made: a tree of demand paths (``demand_scenarios``);
- facility power: beyond the 1.3 GW of 2026 (2.0 GW from 2027 and 2.6 GW from
  2028 already contracted), power is *built*: about $15B per GW of facility
  (the third of the ~$50B a gigawatt costs that is not chips), in blocks of
  0.1 GW, ready two years after the build starts (``power_build``);
- a TPU take-or-pay: at least $20B of TPU capex over the horizon, or pay the
  difference (``vendors[google].min_spend``);
- demand that the fleet cannot serve is paid for at $40k per PFLOP/s-year
  (``unserved_penalty``): buying later, or renting, at a premium.

It answers: what to buy and build in 2026, before the first branch; how the
plan adapts on each branch; the value of planning on the tree instead of on the
mean forecast (VSS) and of knowing the future (EVPI); and what a single-forecast
plan (optimal for the mid path, followed whatever happens) costs on the slow
and fast paths.  The picture, uncertain_growth.png, shows the compute of each
vendor on every path against its demand.

    python examples/uncertain_growth.py                 # growth branches in 2027 and 2028: 9 paths
    python examples/uncertain_growth.py --branch-years 4   # every year: 81 paths (minutes)

The growth rates, probabilities and costs are assumptions for illustration, not
forecasts; replace them with your own.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import procure
from procure.base import fmt
from procure.problem.evaluate import evaluate, objective_of

HERE = Path(__file__).resolve().parent
GROWTH = {"slow": 3 ** (1 / 4), "mid": 5 ** (1 / 4), "fast": 8 ** (1 / 4)}  # per year, 2026 → 2030
PROBABILITY = {"slow": 0.3, "mid": 0.5, "fast": 0.2}
COLOURS = {"google": "#4285F4", "amazon": "#FF9900", "nvidia": "#76B900"}


def growth_paths(periods: list[int], branch_years: int, short_names: bool = False) -> list[dict[str, Any]]:
    """Demand paths from 1.4M PFLOP/s in the first period, growing slow, mid or fast in each of the
    first ``branch_years`` years after it (each path keeps its last rate afterwards)."""
    paths = []
    for combo in itertools.product(GROWTH, repeat=branch_years):
        demand = [1_400_000.0]
        for k in range(len(periods) - 1):
            demand.append(demand[-1] * GROWTH[combo[min(k, branch_years - 1)]])
        paths.append(
            {
                "name": "-".join(g[0] if short_names else g for g in combo),
                "probability": float(np.prod([PROBABILITY[g] for g in combo])),
                "demand": {str(p): round(d) for p, d in zip(periods, demand)},
            }
        )
    return paths


def build_problem(branch_years: int = 2) -> dict[str, Any]:
    """The gigawatt problem with a demand tree that branches in each of the first ``branch_years``
    years after 2026 (each path keeps its last growth rate afterwards)."""
    problem = procure.Problem.from_file(HERE / "gigawatt_2026.toml").to_dict()
    problem.pop("demand")
    problem.pop("total_budget", None)
    paths = growth_paths(problem["periods"], branch_years)
    problem["name"] = "uncertain-growth"
    problem["demand_scenarios"] = paths
    problem["power_cap_gw"] = {"2026": 1.3, "2027": 2.0, "2028": 2.6, "2029": 2.6, "2030": 2.6}
    problem["power_build"] = {"cost_per_gw": 15e9, "block_gw": 0.1, "lead_time": 2}
    problem["unserved_penalty"] = 40_000.0
    problem["budget"] = 80e9  # chips and facility together, per year
    for vendor in problem["vendors"]:
        if vendor["name"] == "google":
            vendor["min_spend"] = 20e9
    return problem


def heading(text: str) -> None:
    print(f"\n{text}\n{'-' * len(text)}")


def adaptation(result: procure.TreeResult) -> pd.DataFrame:
    """Per path: 2030 demand, compute and unserved, GW built, each vendor's 2030 share, cost."""
    rows = {}
    for name, r in result.scenario_results.items():
        shares = r.shares.loc[2030]
        rows[name] = {
            "demand 2030": r.problem.total_demand[-1],
            "compute 2030": r.compute.loc[2030],
            "unserved (PFLOP/s·yr)": r.unserved.sum(),
            "built": r.power_build.to_numpy().sum(),
            **{f"{v} share": shares[v] for v in shares.index},
            "cost": r.cost,
        }
    table = pd.DataFrame(rows).T
    kinds = {c: "count" for c in ("demand 2030", "compute 2030", "unserved (PFLOP/s·yr)")}
    kinds.update({"built": "power", "cost": "money", **{f"{v} share": "share" for v in shares.index}})
    return fmt.table(table, kinds)


def single_forecast(problem: dict[str, Any], result: procure.TreeResult) -> pd.DataFrame:
    """The plan that is optimal for the mid path alone, followed on every path: its cost there
    (procure's evaluator; unserved demand paid at the penalty) against the tree plan's."""
    tree = result.tree
    assert tree is not None
    mid = tree.names.index("-".join(["mid"] * len(tree.names[0].split("-"))))
    forecast = procure.solve(tree.problems[mid], mip_gap=1e-4)
    assert forecast.evaluation is not None
    rows = {}
    for name, path in zip(tree.names, tree.problems):
        ev = evaluate(path, forecast.evaluation.placed, None, forecast.evaluation.built)
        followed = objective_of(path, ev)
        tree_plan = result.scenario_results[name].objective
        rows[name] = {
            "forecast plan": fmt.money(followed),
            "tree plan": fmt.money(tree_plan),
            "difference": fmt.money(followed - tree_plan, sign=True),
            "rules broken": fmt.count(len(procure.problem.evaluate.violations(path, ev))),
        }
    return pd.DataFrame(rows).T


def plot(result: procure.TreeResult, path: Path) -> None:
    names = list(result.scenario_results)
    cols = 3
    rows = int(np.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.8 * rows), sharex=True, sharey=True, squeeze=False)
    for ax, name in zip(axes.ravel(), names):
        r = result.scenario_results[name]
        compute = r.compute_by_vendor / 1e6
        years = compute.index.to_numpy()
        ax.stackplot(
            years, compute.T.to_numpy(), labels=compute.columns, colors=[COLOURS.get(v) for v in compute.columns]
        )
        ax.plot(years, np.asarray(r.problem.total_demand) / 1e6, color="black", lw=1.5, label="demand")
        ax.set_title(f"{name} (p = {fmt.number(result.scenario_costs.loc[name, 'probability'])})", fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(names) :]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("compute, M PFLOP/s")
    axes[0, 0].legend(loc="upper left", fontsize=7)
    fig.suptitle("Operational compute by vendor on each demand path (2026 decided before the first branch)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--branch-years", type=int, default=2, help="years with a growth branch (default 2: 9 paths)")
    parser.add_argument("--time-limit", type=float, default=600.0, help="seconds for each solve (default 600)")
    parser.add_argument("--plot", type=Path, default=HERE / "uncertain_growth.png")
    args = parser.parse_args()

    problem = build_problem(args.branch_years)
    heading(f"The tree: {len(problem['demand_scenarios'])} demand paths")
    started = time.perf_counter()
    result = procure.solve(problem, mip_gap=1e-3, time_limit=args.time_limit)
    assert isinstance(result, procure.TreeResult)
    size = ", ".join(f"{fmt.count(n)} {what.replace('_', ' ')}" for what, n in result.model_size.items())
    print(
        f"solved in {fmt.seconds(time.perf_counter() - started)}: {result.status} (gap {fmt.gap(result.gap)}); {size}"
    )
    if not result.has_plan:
        print(result.message)
        return
    print(result.summary().split("demand paths:")[0].rstrip())

    heading("How the plan adapts on each path")
    print(adaptation(result).to_string())

    heading("What planning on the tree is worth")
    vss = result.vss(mip_gap=1e-3, time_limit=args.time_limit)
    evpi = result.evpi(mip_gap=1e-3, time_limit=args.time_limit)
    print(
        f"VSS  (decide 2026 from the mean forecast, then adapt): {fmt.money(vss.value)} "
        f"(proved within {fmt.money_interval(vss.low, vss.high)})"
    )
    print(
        f"EVPI (know the future before buying):                  {fmt.money(evpi.value)} "
        f"(proved within {fmt.money_interval(evpi.low, evpi.high)})"
    )

    heading("A single forecast (the mid path's optimal plan), followed whatever happens")
    print(single_forecast(problem, result).to_string())
    print(
        "(on slow paths it buys chips and power nobody needs; on fast paths it pays for unserved demand and\n"
        " breaks the rules stated as shares of demand: vendor-loss survival and the vendor count)"
    )

    plot(result, args.plot)
    print(f"\nwrote {args.plot}")


if __name__ == "__main__":
    main()
