"""The tables of a report, with the unit of every column in its header.

Shared by the HTML report (`procure.report.html`) and the Excel and CSV exports
(`procure.report.excel`), so that both show the same numbers under the same names.  Values are
in base units: dollars (``"($)"``, ``"(PV $)"`` for present values), GW, the unit of demand
(labelled ``PFLOP/s``, the unit of procure's examples), units of an offer, and shares as
fractions (``"(share)"``).  Tables by period are indexed by ``period``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..core.result import BREAKDOWN, Outcome
from ..stochastic.tree_result import TreeResult
from .plot import COMPUTE_UNIT

if TYPE_CHECKING:
    from ..core.result import Result

__all__ = [
    "PLAN_COLUMNS",
    "compute_table",
    "cost_table",
    "fleet_table",
    "options_table",
    "periods_table",
    "plan_table",
    "power_table",
    "purchases_table",
    "scenario_table",
    "shares_table",
    "spend_table",
    "summary_rows",
    "total_row",
]

C = f"({COMPUTE_UNIT})"
#: Columns of `plan_table` (the CSV export), in order (``site`` only with sites).
PLAN_COLUMNS = [
    "period",
    "site",
    "offer",
    "vendor",
    "bought (units)",
    "fleet (units)",
    f"compute {C}",
    "power (GW)",
    "capex ($)",
]


def _index(result: Outcome) -> pd.Index:
    return pd.Index(result.problem.periods, name="period")


def _site_caps(result: Result) -> np.ndarray:
    """(S, T) each site's cap, the built GW that are ready included (NaN: no cap)."""
    p = result.problem
    caps = np.array(p.inputs.site_cap_gw, dtype=float)
    if result.evaluation is not None and caps.size:
        np.add.at(caps, p.inputs.build_site, result.evaluation.ready)
    return caps


def summary_rows(result: Outcome) -> list[tuple[str, Any]]:
    """The headline as (field, value) pairs: status, objective, cost, bound, gap, solver, time."""
    rows: list[tuple[str, Any]] = [
        ("problem", result.problem.name),
        ("status", result.status),
        ("termination", result.termination),
        ("objective ($)", result.objective),
        ("cost (PV $)", result.cost),
        ("bound ($)", result.bound),
        ("gap", result.gap),
        ("solver", result.solver),
        ("solve time (s)", result.solve_seconds),
        ("periods", ", ".join(map(str, result.problem.periods))),
    ]
    if result.has_plan and isinstance(result, TreeResult):  # each path buys its own: no total
        rows.append(("CVaR of the paths' costs (PV $)", result.cost_cvar))
    elif result.has_plan:
        rows.append(("units bought (units)", int(result.purchases.to_numpy().sum())))
        if result.problem.risk.scenarios:
            rows += [
                ("expected disruption loss ($)", result.expected_loss),
                ("CVaR of disruption loss ($)", result.cvar),
            ]
    rows += [(f"model {k}", v) for k, v in result.model_size.items()]
    rows.append(("message", result.message))
    return rows


def periods_table(result: Outcome) -> pd.DataFrame:
    """Per period: demand (each workload's too), compute, unserved, power against its cap, the
    power built, spend against the budget, the HHI."""
    p = result.problem
    table = pd.DataFrame(index=_index(result))
    table[f"demand {C}"] = np.asarray(p.total_demand, dtype=float)
    if p.workloads is not None:
        for name, need in p.workloads.items():
            table[f"{name} demand {C}"] = np.asarray(need, dtype=float)
    table[f"compute {C}"] = result.compute.to_numpy()
    if p.unserved_penalty is not None:
        table[f"unserved {C}"] = result.unserved.to_numpy()
    table["power (GW)"] = result.power_gw.to_numpy()
    if p.power_build is not None:
        table["power cap (GW)"] = result.power_capacity_gw.iloc[:, 0].to_numpy()
        table["build started (GW)"] = result.power_build.iloc[:, 0].to_numpy()
    elif p.power_cap_gw is not None:
        table["power cap (GW)"] = np.asarray(p.power_cap_gw, dtype=float)
    table["spend ($)"] = result.spend.to_numpy()
    if p.budget is not None:
        table["budget ($)"] = np.asarray(p.budget, dtype=float)
    table["HHI"] = result.hhi.to_numpy()
    return table


def purchases_table(result: Result) -> pd.DataFrame:
    """Units bought per period and offer."""
    return result.purchases.rename(columns=lambda o: f"{o} (units)").rename_axis(columns=None)


def fleet_table(result: Result) -> pd.DataFrame:
    """Operational units per period and offer."""
    return result.fleet.rename(columns=lambda o: f"{o} (units)").rename_axis(columns=None)


def compute_table(result: Result) -> pd.DataFrame:
    """Per period: demand, operational compute in all and per vendor, demand not served."""
    table = pd.DataFrame(index=_index(result))
    table[f"demand {C}"] = np.asarray(result.problem.total_demand, dtype=float)
    table[f"compute {C}"] = result.compute.to_numpy()
    for vendor, values in result.compute_by_vendor.items():
        table[f"{vendor} {C}"] = values.to_numpy()
    if result.problem.unserved_penalty is not None:
        table[f"unserved {C}"] = result.unserved.to_numpy()
    return table


def power_table(result: Result) -> pd.DataFrame:
    """Per period: facility power over all sites and its cap; with sites, each site's power and
    cap; with ``power_build``, the GW whose build starts and the capacity they make."""
    p = result.problem
    table = pd.DataFrame(index=_index(result))
    table["power (GW)"] = result.power_gw.to_numpy()
    if p.power_cap_gw is not None and not (p.power_build is not None and not p.sites):
        table["power cap (GW)"] = np.asarray(p.power_cap_gw, dtype=float)
    if p.sites:
        caps = _site_caps(result)
        for s, site in enumerate(p.site_names):
            table[f"{site} power (GW)"] = result.site_power_gw[site].to_numpy()
            if np.isfinite(caps[s]).any():
                table[f"{site} cap (GW)"] = caps[s]
    builds, capacity = result.power_build, result.power_capacity_gw
    for site in builds.columns:
        name = f"{site} " if site else ""
        table[f"{name}build started (GW)"] = builds[site].to_numpy()
        if not site:
            table["power cap (GW)"] = capacity[site].to_numpy()
    return table


def spend_table(result: Result) -> pd.DataFrame:
    """Per period: capex paid (undiscounted), per vendor, the facility builds, and the budget."""
    p = result.problem
    table = pd.DataFrame(index=_index(result))
    table["spend ($)"] = result.spend.to_numpy()
    for vendor, values in result.spend_by_vendor.items():
        table[f"{vendor} spend ($)"] = values.to_numpy()
    ev = result.evaluation
    if ev is not None and (p.power_build is not None or any(s.power_build for s in p.sites)):
        table["facility spend ($)"] = ev.facility_spend
    if p.budget is not None:
        table["budget ($)"] = np.asarray(p.budget, dtype=float)
    return table


def total_row(table: pd.DataFrame, result: Result) -> pd.Series:
    """The total row of a table by period (units bought, spend, cost): each numeric column's sum,
    except a budget, whose total is ``total_budget`` when the problem sets one (the sum of the
    per-period budgets is no cap: the horizon's cap is ``total_budget``).  The index holds the
    numeric columns."""
    sums = table.select_dtypes("number").sum()
    if "budget ($)" in sums.index and result.problem.total_budget is not None:
        sums["budget ($)"] = float(result.problem.total_budget)
    return sums


def cost_table(result: Result) -> pd.DataFrame:
    """``cost_breakdown``: each part of the cost per period, present value."""
    names = {part: f"{part.replace('_', '-')} (PV $)" for part in BREAKDOWN}
    return result.cost_breakdown.rename(columns=names)


def options_table(result: Outcome) -> pd.DataFrame:
    """``options`` with units in the headers: each capacity option's offer, units reserved,
    exercised in all and in each period (per path and option for a tree)."""
    return result.options.rename(columns=lambda c: c if c == "offer" else f"{c} (units)")


def shares_table(result: Result) -> pd.DataFrame:
    """Each vendor's share of operational compute per period, and the HHI."""
    table = result.shares.rename(columns=lambda v: f"{v} (share)").rename_axis(columns=None)
    table["HHI"] = result.hhi.to_numpy()
    return table


def plan_table(result: Result) -> pd.DataFrame:
    """The plan as one long table, a row per period, site and offer (see `PLAN_COLUMNS`):
    units bought and operational, the compute and facility power of the operational units, and
    the capex of the units bought (the offer's capex that period shared by units bought, so
    volume prices are averaged over the sites).  Without sites there is no ``site`` column
    (rather than one of empty names)."""
    columns = PLAN_COLUMNS if result.problem.sites else [c for c in PLAN_COLUMNS if c != "site"]
    ev = result.evaluation
    if ev is None:
        return pd.DataFrame(columns=columns)
    p = result.problem
    inputs = p.inputs
    offer = inputs.offer_of
    table = result.by_site.rename(columns={"bought": "bought (units)", "fleet": "fleet (units)"})
    vendors = np.array(p.vendor_names, dtype=object)[inputs.vendor_of[offer]]
    table.insert(3, "vendor", np.repeat(vendors, len(p.periods)))
    fleet = np.asarray(ev.placed_fleet, dtype=float)
    table[f"compute {C}"] = (fleet * inputs.compute[offer][:, None]).ravel()
    table["power (GW)"] = (fleet * inputs.facility_kw[:, None] / 1e6).ravel()
    bought = np.asarray(ev.purchases, dtype=float)[offer]
    price = np.divide(ev.capex_by_offer[offer], bought, out=np.zeros_like(bought), where=bought > 0)
    table["capex ($)"] = (np.asarray(ev.placed, dtype=float) * price).ravel()
    return table[columns]


def scenario_table(result: TreeResult) -> pd.DataFrame:
    """One row per demand scenario: probability, cost and objective of its plan, its path, and
    its demand in the last period."""
    table = result.scenario_costs.rename(columns={"cost": "cost (PV $)", "objective": "objective ($)"})
    last = result.problem.periods[-1]
    table[f"demand {last} {C}"] = [sc.total_demand[-1] for sc in result.problem.demand_scenarios]
    return table
