"""`summary()`: a short readable report of a result, as text for a terminal."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..fmt import money

if TYPE_CHECKING:
    from ..result import Result
    from ..tree_result import TreeResult

__all__ = ["summary", "tree_summary"]


def _number(v: float) -> str:
    """Readable table numbers: separators for large ones, 4 significant digits for small ones."""
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:,.4g}"


def _headline(result: Result) -> list[str]:
    head = f"procure plan {result.problem.name!r}: {result.status}"
    if result.has_plan and math.isfinite(result.gap):
        head += f" (gap {result.gap:.2%})"
    elif result.has_plan:
        head += " (gap unknown)"
    head += f", {result.solver} in {result.solve_seconds:.2f} s"
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
            f"scenario loss: expected {money(result.expected_loss)}, CVaR({risk.cvar_alpha:g}) {money(result.cvar)}"
        )
    return lines


def _periods_table(result: Result) -> pd.DataFrame:
    """Per period: demand (or each workload's demand and service), compute, power, spend, shares."""
    p = result.problem
    table = pd.DataFrame(index=pd.Index(p.periods, name="period"))
    if p.workloads is None:
        table["demand"] = np.asarray(p.total_demand)
    table["compute"] = result.compute.to_numpy()
    if p.workloads is not None:
        served = result.split.pivot_table(index="period", columns="workload", values="compute", aggfunc="sum")
        served = served.reindex(index=table.index, columns=list(p.workloads)).fillna(0.0)
        for name, need in p.workloads.items():
            table[f"{name} demand"] = np.asarray(need)
            table[f"{name} served"] = served[name].to_numpy()
    if p.unserved_penalty is not None:
        table["unserved"] = result.unserved.to_numpy()
    table["power GW"] = result.power_gw.to_numpy()
    if p.power_cap_gw is not None and p.power_build is None:
        table["cap GW"] = np.asarray(p.power_cap_gw)
    if p.power_build is not None:  # the cap grows with the builds that are ready
        table["cap GW"] = result.power_capacity_gw.iloc[:, 0].to_numpy()
        table["built GW"] = result.power_build.iloc[:, 0].to_numpy()
    table["spend $B"] = result.spend.to_numpy() / 1e9
    shares = result.shares
    for vendor in shares.columns:
        table[f"{vendor} %"] = 100 * shares[vendor].to_numpy()
    if p.risk.hhi_weight > 0 or p.risk.max_hhi is not None:
        table["HHI"] = result.hhi.to_numpy()
    return table


def _units_bought(result: Result) -> list[str]:
    purchases = result.purchases
    bought = purchases.loc[:, (purchases > 0).any()]
    if bought.empty:
        return []
    return ["units bought:", bought.to_string(formatters={c: "{:,}".format for c in bought.columns})]


def _site_power(result: Result) -> list[str]:
    p = result.problem
    if not p.sites:
        return []
    power = result.site_power_gw.astype(object)
    caps = p.inputs.site_cap_gw.copy()
    if result.evaluation is not None:  # a building site's cap grows with the GW that are ready
        np.add.at(caps, p.inputs.build_site, result.evaluation.ready)
    for s, site in enumerate(p.sites):
        if np.isfinite(caps[s]).all():
            power[site.name] = [f"{u:,.3g} / {c:,.3g}" for u, c in zip(result.site_power_gw[site.name], caps[s])]
    return ["facility power by site, GW (used / cap):", power.to_string(float_format=lambda v: f"{v:,.3g}")]


def _site_builds(result: Result) -> list[str]:
    built = result.power_build
    if not result.problem.sites or built.shape[1] == 0:
        return []
    return ["facility power started by site, GW:", built.to_string(float_format=lambda v: f"{v:,.3g}")]


def summary(result: Result) -> str:
    """A short readable report: status, cost, a table per period, units bought, power by site."""
    lines = _headline(result)
    if not result.has_plan:
        return "\n".join(lines)
    lines += _costs(result)
    lines.append(_periods_table(result).to_string(float_format=_number))
    lines += _units_bought(result)
    lines += _site_power(result)
    lines += _site_builds(result)
    return "\n".join(lines)


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
        f"CVaR({result.problem.risk.scenario_cvar_alpha:g}) of the paths' costs {money(result.cost_cvar)}"
    )
    periods = result.here_and_now_periods
    if periods:
        now = result.here_and_now
        bought = now.loc[:, (now > 0).any()]
        lines.append(f"decided now, before the first branch ({', '.join(map(str, periods))}):")
        lines.append(bought.to_string(float_format=_number) if not bought.empty else "  nothing bought")
    else:
        lines.append("the demand paths differ from the first period on: nothing is decided before a branch")
    costs = result.scenario_costs.copy()
    costs["cost"] = [money(c) for c in costs["cost"]]
    costs["objective"] = [money(c) for c in costs["objective"]]
    lines.append("demand paths:")
    lines.append(costs.to_string())
    for s, name in enumerate(tree.names):
        r = result.scenario_results[name]
        label = " = ".join(tree.members[s])
        lines.append(f"path {label} (probability {tree.probability[s]:g}):")
        lines.append(_periods_table(r).to_string(float_format=_number))
        lines += _units_bought(r)
    return "\n".join(lines)
