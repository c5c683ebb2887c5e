"""What if? Why a plan is impossible, what a megawatt is worth, what each rule costs, and 500 futures.

Starts from the gigawatt example (gigawatt_2026.py) and asks the questions a
planning team takes to a meeting:

1. Why is there no plan if the 2026 power cap is 0.8 GW instead of 1.3 GW, and
   what is the least we must give up?  (`procure.explain`)
2. What is one more megawatt worth, year by year?  The local shadow price of
   each year's power cap (`result.sensitivity()`), then the honest answer for
   100 MW more, re-solved (`result.marginal_value`).
3. What does each of our own rules cost?  (`result.rule_costs()`)
4. How do cost and the vendor mix move over 500 futures of Nvidia's price and
   of demand growth?  (`procure.sample` + `procure.sweep` on a dask
   `LocalCluster` of two workers.)

Run from the repository root (it needs dask and matplotlib: pip install -e ".[dask,plot]"):

    python examples/what_if.py                  # 500 variants (a few minutes on 2 cores)
    python examples/what_if.py --variants 40    # a quick look

The picture, what_if.png, shows the distribution of plan cost over the sampled
futures and how each vendor's share of compute moves with Nvidia's price.

The price moves and growth rates below are assumptions for illustration, not
forecasts; replace them with your own.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from gigawatt_2026 import build_problem

import procure
from procure.base import fmt
from procure.problem.fields import apply_changes
from procure.sweeps.sample import growth, lognormal, normal

HERE = Path(__file__).resolve().parent
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 12)
pd.set_option("display.max_colwidth", 70)


def heading(text: str) -> None:
    print(f"\n{text}\n{'-' * len(text)}")


def why_no_plan(problem: procure.Problem) -> None:
    heading("1. 0.8 GW in 2026: why is there no plan, and what would repair it?")
    tight = apply_changes(problem, {"power_cap_gw[2026]": 0.8})
    result = procure.solve(tight)
    print(f"status: {result.status}")
    diagnosis = result.explain()
    print(diagnosis)
    print()
    # display(): the repairs with every number through procure.fmt ($17.9B, 1.295 GW, 40.0%)
    print(diagnosis.display()[["repair", "requirement", "old", "new", "change", "unit", "cost"]].to_string(index=False))
    print("\nIf demand must be met in full and the 2026 cap cannot move:")
    fixed = procure.explain(tight, fixed=["demand", "power_cap_gw"])
    print(fixed)
    if fixed.repairs.empty:
        print(
            "(Nothing else makes room: the 2026 power left after the installed fleet cannot run enough"
            "\n chips of any kind, so no budget, supply or share rule is the obstacle.)"
        )


def value_of_power(result: procure.Result) -> None:
    heading("2. What is a megawatt worth?")
    prices = result.sensitivity()
    power = prices.power[["path", "value", "used", "slack", "binding", "shadow_price"]].copy()
    for column in ("value", "used", "slack"):  # in MW, the unit of the prices
        power[column] = [fmt.amount(v, u) for v, u in zip(power[column], prices.power["unit"])]
    print("Local shadow prices of the power caps ($ per MW, every purchase of the plan held fixed):")
    print(fmt.table(power, {"shadow_price": "money"}).to_string(index=False))
    print(
        "\nWith every chip already bought fixed, a megawatt more is worth only what the fleet"
        "\nalready there can do with it. The honest answer lets purchases change:"
    )
    rows = []
    for period in result.problem.periods:
        mv = result.marginal_value({f"power_cap_gw[{period}]": 0.1})
        rows.append(
            {
                "period": period,
                "change in cost, 100 MW more": fmt.money(mv.change, sign=True),
                "$ per MW": fmt.money(mv.change / 100, sign=True),
                "proved within": fmt.money_interval(mv.low, mv.high, sign=True),
            }
        )
    print(pd.DataFrame(rows).to_string(index=False))


def what_rules_cost(result: procure.Result) -> None:
    heading("3. What does each of our rules cost?")
    costs = result.rule_costs(progress=False)
    print(fmt.table(costs[["rule", "description", "cost", "status"]], {"cost": "money"}).to_string(index=False))


def futures(problem: procure.Problem, n: int) -> None:
    heading(f"4. {n} futures of Nvidia's price and demand growth, on a dask LocalCluster")
    from dask.distributed import Client, LocalCluster

    variants = procure.sample(
        problem,
        {
            # Assumption: Nvidia's prices move together, by a lognormal factor of ~15%.
            ("offers[gb300-nvl72].unit_cost", "offers[b200-hgx].unit_cost"): lognormal(0.15),
            # Assumption: demand grows 50% a year on average after 2026, as the base path
            # does (1.4M to 7.6M PFLOP/s in four years), with a standard deviation of 15 points.
            "demand": growth(normal(0.50, 0.15)),
        },
        n=n,
        seed=2026,
    )
    started = time.perf_counter()
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        swept = procure.sweep(problem, variants, executor=client, progress=True)
    infeasible = (swept.table.status == "infeasible").mean()
    if infeasible:
        print(f"In {fmt.share(infeasible)} of these futures demand outgrows the power caps and supply: no plan.")
    seconds = time.perf_counter() - started
    table = swept.table
    ok = table[table.status.isin(["optimal", "feasible"])]
    print(f"{len(table)} variants in {fmt.seconds(seconds)} ({fmt.number(len(table) / seconds)} a second); statuses:")
    print(table.status.value_counts().to_string())
    print("\nPlan cost over the futures:")
    cost = ok.cost.describe(percentiles=[0.05, 0.5, 0.95]).drop("count")
    print(cost.map(fmt.money).to_string())
    shares = [c for c in table.columns if isinstance(c, str) and c.startswith("share[")]
    print("\nEach vendor's share of compute over the horizon:")
    spread = ok[shares].describe(percentiles=[0.05, 0.5, 0.95]).drop("count")
    print(fmt.table(spread, dict.fromkeys(shares, "share")).to_string())
    plot(ok, shares, problem)


def plot(ok: pd.DataFrame, shares: list[str], problem: procure.Problem) -> None:
    price = ok[ok.columns[0]]
    base = problem.offers[[o.name for o in problem.offers].index("gb300-nvl72")].unit_cost[0]
    factor = price.map(lambda v: (v[min(v)] if isinstance(v, dict) else float(v)) / base)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    left.hist(ok.cost / 1e9, bins=30, color="#4c72b0")
    left.set_xlabel("plan cost over 2026–2030 ($B, discounted)")
    left.set_ylabel("futures")
    left.set_title("Plan cost over the sampled futures")
    for column in shares:
        right.scatter(factor, ok[column], s=8, alpha=0.6, label=column[6:-1])
    right.set_xlabel("Nvidia price, × today's")
    right.set_ylabel("share of compute, 2026–2030")
    right.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    right.set_title("How the vendor mix moves with Nvidia's price")
    right.legend()
    fig.tight_layout()
    out = HERE / "what_if.png"
    fig.savefig(out, dpi=120)
    print(f"\nwrote {out.relative_to(HERE.parent)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", type=int, default=500, help="Monte-Carlo variants to sweep (default 500)")
    args = parser.parse_args()
    problem = procure.Problem.from_dict(build_problem())
    why_no_plan(problem)
    result = procure.solve(problem)
    print(f"\nThe gigawatt plan: {result.status}, cost {fmt.money(result.cost)}")
    value_of_power(result)
    what_rules_cost(result)
    futures(problem, args.variants)


if __name__ == "__main__":
    main()
