"""`summary()`: a short readable report of a result, as text for a terminal."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..base import fmt
from ..base.fmt import money
from ..base.hooks import provide

if TYPE_CHECKING:
    from ..core.result import Outcome, Result
    from ..stochastic.tree_result import TreeResult

__all__ = ["summary", "tree_summary"]


def _headline(result: Outcome) -> list[str]:
    head = f"procure plan {result.problem.name!r}: {result.status}"
    if result.has_plan and math.isfinite(result.gap):
        head += f" (gap {fmt.gap(result.gap)})"
    elif result.has_plan:
        head += " (gap unknown)"
    head += f", {result.solver} in {fmt.seconds(result.solve_seconds)}"
    return [head, result.message] if result.message else [head]


def _costs(result: Result) -> list[str]:
    br = result.cost_breakdown.sum()
    lines = [
        f"cost {money(result.cost)} = capex {money(br['capex'])} + opex {money(br['opex'])}"
        f" + energy {money(br['energy'])} + onboarding {money(br['onboarding'])}"
        + (f" + take-or-pay {money(br['take_or_pay'])}" if br["take_or_pay"] > 0 else "")
        + (f" + facility {money(br['facility'])}" if br["facility"] > 0 else "")
        + (f" + unserved demand {money(br['unserved'])}" if br["unserved"] > 0 else "")
        + " (present value)"
    ]
    if not math.isclose(result.objective, result.cost, rel_tol=1e-12):
        lines.append(f"objective {money(result.objective)} (cost + risk terms)")
    risk = result.problem.risk
    if risk.scenarios:
        lines.append(
            f"scenario loss: expected {money(result.expected_loss)}, "
            f"CVaR({fmt.number(risk.cvar_alpha)}) {money(result.cvar)}"
        )
    return lines


def _periods_table(result: Result) -> tuple[pd.DataFrame, dict[str, str]]:
    """Per period: demand (or each workload's demand and service), compute, power, spend,
    shares; and the kind of each column (see `procure.fmt`)."""
    p = result.problem
    table = pd.DataFrame(index=pd.Index(p.periods, name="period"))
    kinds: dict[str, str] = {}

    def add(name: str, values: object, kind: str) -> None:
        table[name] = np.asarray(values, dtype=float)
        kinds[name] = kind

    if p.workloads is None:
        add("demand", p.total_demand, "count")
    add("compute", result.compute.to_numpy(), "count")
    if p.workloads is not None:
        served = result.split.pivot_table(index="period", columns="workload", values="compute", aggfunc="sum")
        served = served.reindex(index=table.index, columns=list(p.workloads)).fillna(0.0)
        for name, need in p.workloads.items():
            add(f"{name} demand", need, "count")
            add(f"{name} served", served[name].to_numpy(), "count")
    if p.unserved_penalty is not None:
        add("unserved", result.unserved.to_numpy(), "count")
    add("power", result.power_gw.to_numpy(), "power")
    if p.power_cap_gw is not None and p.power_build is None:
        add("power cap", p.power_cap_gw, "power")
    if p.power_build is not None:  # the cap grows with the builds that are ready
        add("power cap", result.power_capacity_gw.iloc[:, 0].to_numpy(), "power")
        add("power built", result.power_build.iloc[:, 0].to_numpy(), "power")
    add("spend", result.spend.to_numpy(), "money")
    shares = result.shares
    for vendor in shares.columns:
        add(f"{vendor} share", shares[vendor].to_numpy(), "share")
    if p.risk.hhi_weight > 0 or p.risk.max_hhi is not None:
        add("HHI", result.hhi.to_numpy(), "hhi")
    return table, kinds


def _shown(table: pd.DataFrame, kinds: dict[str, str]) -> str:
    """A table as text, each column by its kind (see `procure.fmt`)."""
    return fmt.table(table, kinds).to_string()


def _periods(result: Result) -> str:
    return _shown(*_periods_table(result))


def _counts(frame: pd.DataFrame) -> str:
    """Units bought (and, in a tree's decisions, GW of power started) as text."""
    return _shown(frame, {str(c): "power" if "GW" in str(c) else "count" for c in frame.columns})


def _units_bought(result: Result) -> list[str]:
    purchases = result.purchases
    bought = purchases.loc[:, (purchases > 0).any()]
    if bought.empty:
        return []
    return ["units bought:", _counts(bought)]


def _options(result: Result) -> list[str]:
    """Capacity options: units reserved, and exercised per period."""
    table = result.options
    if table.empty:
        return []
    kinds = {str(c): "count" for c in table.columns if c != "offer"}
    shown = table.rename(columns=str)
    return ["capacity options (units reserved and bought through them):", _shown(shown, kinds)]


def _site_power(result: Result) -> list[str]:
    p = result.problem
    if not p.sites:
        return []
    used = result.site_power_gw
    power = fmt.table(used, dict.fromkeys(used.columns, "power"))
    caps = p.inputs.site_cap_gw.copy()
    if result.evaluation is not None:  # a building site's cap grows with the GW that are ready
        np.add.at(caps, p.inputs.build_site, result.evaluation.ready)
    for s, site in enumerate(p.sites):
        if np.isfinite(caps[s]).all():
            power[site.name] = [f"{fmt.power(u)} / {fmt.power(c)}" for u, c in zip(used[site.name], caps[s])]
    return ["facility power by site (used / cap):", power.to_string()]


def _site_builds(result: Result) -> list[str]:
    built = result.power_build
    if not result.problem.sites or built.shape[1] == 0:
        return []
    return ["facility power started by site:", _shown(built, dict.fromkeys(built.columns, "power"))]


@provide("summary")
def summary(result: Result) -> str:
    """A short readable report: status, cost, a table per period, units bought, power by site."""
    lines = _headline(result)
    if not result.has_plan:
        return "\n".join(lines)
    lines += _costs(result)
    lines.append(_periods(result))
    lines += _units_bought(result)
    lines += _options(result)
    lines += _site_power(result)
    lines += _site_builds(result)
    return "\n".join(lines)


@provide("tree_summary")
def tree_summary(result: TreeResult) -> str:
    """The report of a plan under demand scenarios: what is decided before the first branch,
    the cost of each path and its distribution, then each path's purchases."""
    lines = _headline(result)
    if not result.has_plan:
        return "\n".join(lines)
    tree = result.tree
    assert tree is not None
    lines.append(
        f"expected cost {money(result.cost)}; objective {money(result.objective)}; "
        f"CVaR({fmt.number(result.problem.risk.scenario_cvar_alpha)}) of the paths' costs {money(result.cost_cvar)}"
    )
    periods = result.here_and_now_periods
    if periods:
        now = result.here_and_now
        bought = now.loc[:, (now > 0).any()]
        lines.append(f"decided now, before the first branch ({', '.join(map(str, periods))}):")
        lines.append(_counts(bought) if not bought.empty else "  nothing bought")
    else:
        lines.append("the demand paths differ from the first period on: nothing is decided before a branch")
    costs = result.scenario_costs
    lines.append("demand paths:")
    lines.append(_shown(costs, {"probability": "number", "cost": "money", "objective": "money"}))
    for s, name in enumerate(tree.names):
        r = result.scenario_results[name]
        label = " = ".join(tree.members[s])
        lines.append(f"path {label} (probability {fmt.number(tree.probability[s])}):")
        lines.append(_periods(r))
        lines += _units_bought(r)
        lines += _options(r)
    return "\n".join(lines)
