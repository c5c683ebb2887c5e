"""Up to one million TPUs: what is the "up to" clause worth, and how much should we reserve?

In October 2025 a frontier lab agreed to take *up to* one million Google TPUs. This
example plans the gigawatt buyer of gigawatt_2026.toml with such a clause:

- demand: 1.4M PFLOP/s of dense BF16 compute in 2026, then "3× to 8× by 2030, 5× most
  likely" (the lab's large accounts grew about 7× in a year; the forecast is an assumption
  for illustration).  `procure.growth_tree` turns the forecast into a tree: a low, mid or
  high year in 2027 and in 2028 (9 paths), the median growth afterwards;
- the clause: a capacity option on tpu7x-ironwood for up to 1,000,000 units, reserved in
  2026 at $3,000 a unit, then bought at $30,000 a unit (a locked price) whenever a path
  needs them, until 2029;
- facility power is built ($15B per GW, ready two years after the build starts) and demand
  the fleet cannot serve is paid at $40k per PFLOP/s-year (buying late, or renting).

It prints the recommended reservation and what the clause saves (proved, by solving the
problem without it), then judges the tree's plan on 1,000 fresh demand paths drawn from
the same forecast (`procure.growth_paths`, `procure.out_of_sample`) against the plan made
for the mean forecast alone, and draws both cost distributions (up_to_one_million.png).

    python examples/up_to_one_million.py                  # 9 paths, 1,000 fresh paths
    python examples/up_to_one_million.py --fresh 200      # a quicker judgement
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import procure
from procure.base import fmt
from procure.sweeps.out_of_sample import compare

HERE = Path(__file__).resolve().parent
FORECAST = {"total": (3.0, 5.0, 8.0), "by": 2030}  # 2030 over 2026: 10%, 50% and 90% quantiles
OPTION = "tpu-up-to-1m"


def build_problem() -> dict[str, Any]:
    """The gigawatt buyer with facility power to build, unserved demand priced, and the clause."""
    problem = procure.Problem.from_file(HERE / "gigawatt_2026.toml").to_dict()
    problem.pop("total_budget", None)
    problem["name"] = "up-to-one-million"
    problem["power_cap_gw"] = {"2026": 1.3, "2027": 2.0, "2028": 2.6, "2029": 2.6, "2030": 2.6}
    problem["power_build"] = {"cost_per_gw": 15e9, "block_gw": 0.1, "lead_time": 2}
    problem["unserved_penalty"] = 40_000.0
    problem["budget"] = 80e9  # chips and facility together, per year
    problem["options"] = [
        {
            "name": OPTION,
            "offer": "tpu7x-ironwood",
            "max_units": 1_000_000,
            "reserve_cost": 3_000,
            "reserve_period": 2026,
            "exercise_price": 30_000,
            "exercise_until": 2029,
        }
    ]
    return problem


def heading(text: str) -> None:
    print(f"\n{text}\n{'-' * len(text)}")


def plot(both: Any, path: Path) -> None:
    """The two plans' cost over the fresh paths, one histogram each."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for judged, label, colour in ((both.plan, "tree plan", "#1f4e79"), (both.other, "mean-forecast plan", "#d62728")):
        cost = judged.table["cost"].dropna() / 1e9
        ax.hist(cost, bins=40, alpha=0.55, color=colour, label=f"{label}: expected {fmt.money(judged.expected_cost)}")
    ax.set_xlabel("cost over 2026–2030, present value ($B)")
    ax.set_ylabel("fresh demand paths")
    ax.set_title("The same 2026 decision judged on fresh demand paths")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fresh", type=int, default=1000, help="fresh demand paths to judge on (default 1,000)")
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds for each tree solve (default 300)")
    parser.add_argument("--plot", type=Path, default=HERE / "up_to_one_million.png")
    args = parser.parse_args()

    problem = build_problem()
    tree = procure.growth_tree(problem, branching={2027: 3, 2028: 3}, **FORECAST)
    heading(f"The forecast as a tree: {len(tree.demand_scenarios)} demand paths")
    for s in tree.demand_scenarios:
        print(f"  {s.name:10s} p = {fmt.number(s.probability)}   2030 demand {fmt.count(s.total_demand[-1])}")

    started = time.perf_counter()
    result = procure.solve(tree, mip_gap=1e-3, time_limit=args.time_limit)
    print(f"solved in {fmt.seconds(time.perf_counter() - started)}: {result.status} (gap {fmt.gap(result.gap)})")
    if not result.has_plan:
        print(result.message)
        return

    heading("The clause: how much to reserve, and what it is worth")
    options = result.options
    reserved = options.xs(OPTION, level="option")["reserved"]
    print(f"reserve {fmt.count(reserved.iloc[0])} TPUs in 2026 (the same decision on every path)")
    bought = options.xs(OPTION, level="option")[["exercised"]].rename(columns={"exercised": "bought through it"})
    print(fmt.table(bought, {"bought through it": "count"}).to_string())
    value = result.option_value(OPTION, mip_gap=1e-3, time_limit=args.time_limit)
    print(value)

    heading(f"Judged on {fmt.count(args.fresh)} fresh paths from the same forecast")
    paths = procure.growth_paths(tree, args.fresh, seed=7, **FORECAST)
    both = compare(result, paths, progress=False, mip_gap=1e-3)
    print(both)
    plot(both, args.plot)
    print(f"\nwrote {args.plot.name}")


if __name__ == "__main__":
    main()
