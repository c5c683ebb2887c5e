"""What a purchase plan does, computed straight from the problem: fleet, compute,
power, spend, cost, and every constraint it breaks.

This module never looks at the optimization model.  It recomputes a plan's
consequences from the problem's fields, so that `Result.check` is a real
second opinion on what the solver returned, and `Result.cost` is the cost of
the plan itself rather than a solver's floating-point objective.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .problem import Problem

__all__ = ["PlanEvaluation", "capex_of", "cvar", "evaluate", "fleet_of", "objective_of", "violations"]


def _rows(values: list[tuple[float, ...] | None], T: int, missing: float) -> np.ndarray:
    return np.array([v if v is not None else (missing,) * T for v in values], dtype=float).reshape(len(values), T)


def fleet_of(problem: Problem, purchases: np.ndarray) -> np.ndarray:
    """(P, T) operational units per placement: installed units until ``installed_life``
    ends, each purchase from ``lead_time`` periods after it is bought for ``lifetime`` periods."""
    T = len(problem.periods)
    t = np.arange(T)
    sites = problem.site_names
    fleet = np.zeros_like(purchases, dtype=float)
    for k, (i, s) in enumerate(problem.placements()):  # one pass per placement, vectorized over periods
        offer = problem.offers[i]
        arrive = np.zeros(T)
        lead = offer.lead_time
        if lead < T:
            arrive[lead:] = purchases[k, : T - lead]
        leave = np.zeros(T)
        if offer.lifetime is not None and lead + offer.lifetime < T:
            leave[lead + offer.lifetime :] = purchases[k, : T - lead - offer.lifetime]
        life = offer.installed_life or offer.lifetime
        units = offer.installed.get(sites[s], 0) if isinstance(offer.installed, Mapping) else offer.installed
        installed = units * ((t < life) if life is not None else np.ones(T, dtype=bool))
        fleet[k] = installed + np.cumsum(arrive - leave)
    return fleet


def capex_of(problem: Problem, bought: np.ndarray) -> np.ndarray:
    """(I, T) dollars paid for the units of each offer bought in each period: the flat
    price, or volume tiers (incremental: each unit at its own tier's price; all_units:
    every unit at the price of the highest tier the quantity reaches)."""
    out = np.zeros_like(bought, dtype=float)
    for i, offer in enumerate(problem.offers):
        if offer.price_tiers is None:
            out[i] = np.asarray(offer.unit_cost, dtype=float) * bought[i]
            continue
        starts = np.array([tier.from_units for tier in offer.price_tiers], dtype=float)
        prices = np.array([tier.unit_cost for tier in offer.price_tiers], dtype=float)  # (K, T)
        b = bought[i]
        if offer.discount == "all_units":
            reached = np.searchsorted(starts, b, side="right") - 1  # highest tier with from_units ≤ b
            out[i] = prices[reached, np.arange(len(b))] * b
        else:
            ends = np.append(starts[1:], np.inf)
            in_tier = np.clip(b[None, :] - starts[:, None], 0.0, (ends - starts)[:, None])
            out[i] = (prices * in_tier).sum(axis=0)
    return out


@dataclass(frozen=True)
class PlanEvaluation:
    """Consequences of one plan (arrays over placements ``P``, offers ``I``, vendors ``V``,
    sites ``S`` and periods ``T``)."""

    placed: np.ndarray  # (P, T) units bought per placement
    placed_fleet: np.ndarray  # (P, T) operational units per placement
    purchases: np.ndarray  # (I, T) units bought (over sites)
    fleet: np.ndarray  # (I, T) operational units (over sites)
    split: np.ndarray | None  # (I, W, T) units running each workload
    compute_by_vendor: np.ndarray  # (V, T)
    compute: np.ndarray  # (T,)
    site_power_gw: np.ndarray  # (S, T) facility power at each site
    power_gw: np.ndarray  # (T,) facility power over all sites
    capex_by_offer: np.ndarray  # (I, T) undiscounted
    spend: np.ndarray  # (T,) undiscounted capex
    spend_by_vendor: np.ndarray  # (V, T) undiscounted capex
    take_or_pay: np.ndarray  # (V,) minimum spend not reached, paid as in the first period
    capex: np.ndarray  # (T,) discounted
    opex: np.ndarray  # (T,) discounted
    energy: np.ndarray  # (T,) discounted
    onboarding: np.ndarray  # (T,) paid in the period of the vendor's first purchase
    discount: np.ndarray  # (T,)
    demand: np.ndarray  # (T,) total demand (over workloads)
    hhi: np.ndarray  # (T,) Σ_v (C[v,t] / demand_t)², NaN where demand is 0
    shortfall: np.ndarray  # (S, T) demand not met in each listed scenario
    scenario_loss: np.ndarray  # (S,) $ lost in each listed scenario
    probability: np.ndarray  # (S,)
    cvar_alpha: float

    @property
    def cost(self) -> float:
        """The spec's cost: discounted capex + opex + energy, onboarding and take-or-pay."""
        parts = (self.capex, self.opex, self.energy, self.onboarding, self.take_or_pay)
        return float(sum(part.sum() for part in parts))

    @property
    def expected_loss(self) -> float:
        """Probability-weighted scenario loss (the nominal scenario loses nothing)."""
        return float(self.probability @ self.scenario_loss)

    @property
    def cvar(self) -> float:
        """CVaR of the loss at ``cvar_alpha``, the nominal scenario included, exactly."""
        return cvar(self.scenario_loss, self.probability, self.cvar_alpha)

    @property
    def shares(self) -> np.ndarray:
        """(V, T) share of operational compute (0 where the total is 0)."""
        total = self.compute[None, :]
        return np.divide(self.compute_by_vendor, total, out=np.zeros_like(self.compute_by_vendor), where=total > 0)


def cvar(losses: np.ndarray, probability: np.ndarray, alpha: float) -> float:
    """``min_η η + Σ p·max(0, L − η) / (1 − α)`` over the losses and a nominal loss of 0
    (probability ``1 − Σ p``); piecewise linear in η, so a loss value attains the minimum."""
    loss = np.append(np.asarray(losses, dtype=float), 0.0)
    prob = np.append(np.asarray(probability, dtype=float), max(1.0 - float(np.sum(probability)), 0.0))
    eta = loss[:, None]
    values = loss + (prob[None, :] * np.maximum(loss[None, :] - eta, 0.0)).sum(axis=1) / (1.0 - alpha)
    return float(values.min())


def objective_of(problem: Problem, ev: PlanEvaluation) -> float:
    """The spec's objective: cost + hhi_weight · Σ_t d_t·HHI_t + risk_weight · CVaR."""
    risk = problem.risk
    value = ev.cost
    if risk.hhi_weight > 0:
        value += risk.hhi_weight * float(np.nansum(ev.discount * ev.hhi))
    if risk.risk_weight > 0:
        value += risk.risk_weight * ev.cvar
    return value


def evaluate(problem: Problem, placed: np.ndarray, split: np.ndarray | None = None) -> PlanEvaluation:
    """Evaluate a plan for ``problem``.

    Parameters
    ----------
    placed : array (P, T)
        Units bought per placement (`Problem.placements`) and period; without
        sites a placement is an offer.
    split : array (I, W, T), optional
        Units of each offer running each workload (problems with workloads).
    """
    placed = np.asarray(placed, dtype=float)
    offers = problem.offers
    T = len(problem.periods)
    pairs = np.array(problem.placements(), dtype=int).reshape(-1, 2)
    offer_of, site_of = pairs[:, 0], pairs[:, 1]
    vendors = problem.vendor_names
    vendor_of = np.array([vendors.index(o.vendor) for o in offers])
    to_offer = (offer_of[None, :] == np.arange(len(offers))[:, None]).astype(float)  # (I, P)
    to_vendor = (vendor_of[None, :] == np.arange(len(vendors))[:, None]).astype(float)  # (V, I)

    placed_fleet = fleet_of(problem, placed)
    bought = to_offer @ placed
    fleet = to_offer @ placed_fleet
    compute = np.array([o.compute for o in offers])
    power_kw = np.array([o.power_kw for o in offers])
    discount = (1.0 + problem.discount_rate) ** -np.arange(T, dtype=float)

    sites = problem.sites
    S = max(len(sites), 1)
    site_pue = np.array([s.pue if s.pue is not None else problem.pue for s in sites] or [problem.pue])
    top_price = np.asarray(problem.electricity_price, dtype=float)
    site_price = np.array(
        [s.electricity_price if s.electricity_price is not None else top_price for s in sites] or [top_price],
        dtype=float,
    ).reshape(S, T)
    it_kw = power_kw[offer_of][:, None] * placed_fleet  # (P, T)
    to_site = (site_of[None, :] == np.arange(S)[:, None]).astype(float)  # (S, P)
    site_power_gw = site_pue[:, None] * (to_site @ it_kw) / 1e6
    energy = (site_price * 8.76 * site_pue[:, None] * (to_site @ it_kw)).sum(axis=0)

    by_vendor = to_vendor @ (fleet * compute[:, None])
    capex_units = capex_of(problem, bought)
    spend = capex_units.sum(axis=0)
    spend_by_vendor = to_vendor @ capex_units
    opex = np.array([o.opex_per_year for o in offers]) @ fleet
    floors = np.array([v.min_spend for v in problem.vendors], dtype=float)
    take_or_pay = np.maximum(0.0, floors - spend_by_vendor.sum(axis=1))

    onboarding = np.zeros(T)
    any_bought = to_vendor @ bought > 0  # (V, T)
    for v, vendor in enumerate(problem.vendors):
        installed = any(_installed_units(o) > 0 for o in offers if o.vendor == vendor.name)
        if vendor.onboarding_cost > 0 and not installed and any_bought[v].any():
            onboarding[int(np.argmax(any_bought[v]))] += vendor.onboarding_cost

    demand = np.asarray(problem.total_demand, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        hhi = np.where(demand > 0, ((by_vendor / demand) ** 2).sum(axis=0), np.nan)
    shortfall, losses, probability = _scenario_losses(problem, by_vendor, demand, discount)

    return PlanEvaluation(
        placed=placed,
        placed_fleet=placed_fleet,
        purchases=bought,
        fleet=fleet,
        split=None if split is None else np.asarray(split, dtype=float),
        compute_by_vendor=by_vendor,
        compute=by_vendor.sum(axis=0),
        site_power_gw=site_power_gw,
        power_gw=site_power_gw.sum(axis=0),
        capex_by_offer=capex_units,
        spend=spend,
        spend_by_vendor=spend_by_vendor,
        take_or_pay=take_or_pay,
        capex=discount * spend,
        opex=discount * opex,
        energy=discount * energy,
        onboarding=onboarding,
        discount=discount,
        demand=demand,
        hhi=hhi,
        shortfall=shortfall,
        scenario_loss=losses,
        probability=probability,
        cvar_alpha=problem.risk.cvar_alpha,
    )


def _installed_units(offer: Any) -> int:
    units = offer.installed
    return int(sum(units.values())) if isinstance(units, Mapping) else int(units)


def _scenario_losses(
    problem: Problem, by_vendor: np.ndarray, demand: np.ndarray, discount: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shortfall (S, T), loss (S,) and probability (S,) of every listed scenario."""
    scenarios = problem.risk.scenarios
    usable = problem.scenario_availability()
    shortfall = np.maximum(0.0, demand[None, :] - (usable * by_vendor[None, :, :]).sum(axis=1))
    losses = problem.risk.shortfall_penalty * shortfall @ discount
    return shortfall, losses, np.array([sc.probability for sc in scenarios], dtype=float)


def _over(lhs: float, rhs: float, tol: float) -> bool:
    return lhs > rhs + tol * max(1.0, abs(rhs))


def _site_violations(problem: Problem, ev: PlanEvaluation, tol: float) -> list[str]:
    """Each site's own power cap (default: the problem's), compared in kW."""
    out = []
    for s, site in enumerate(problem.sites):
        cap = site.power_cap_gw if site.power_cap_gw is not None else problem.power_cap_gw
        if cap is None:
            continue
        for t, p in enumerate(problem.periods):
            if _over(ev.site_power_gw[s, t] * 1e6, cap[t] * 1e6, tol):  # type: ignore[index]
                out.append(f"site_power[{site.name},{p}]: {ev.site_power_gw[s, t]:.6g} GW > cap {cap[t]:.6g} GW")  # type: ignore[index]
    return out


def _spend_violations(problem: Problem, ev: PlanEvaluation, tol: float) -> list[str]:
    out = []
    for v, vendor in enumerate(problem.vendors):
        total = ev.spend_by_vendor[v].sum()
        if vendor.max_spend is not None and _over(total, vendor.max_spend, tol):
            out.append(f"max_spend[{vendor.name}]: capex ${total:,.0f} > ${vendor.max_spend:,.0f}")
    return out


def _workload_violations(problem: Problem, ev: PlanEvaluation, tol: float) -> list[str]:
    """With workloads: the split fits each offer's fleet and meets each workload's demand."""
    if problem.workloads is None:
        return []
    if ev.split is None:
        return ["split: the plan gives no split of its fleet across workloads"]
    out = []
    names, periods = problem.offer_names, problem.periods
    workloads = list(problem.workloads)
    x = ev.split
    if (x < -tol).any():
        out.append("split: negative units")
    used = x.sum(axis=1)
    for i, t in zip(*np.nonzero(used > ev.fleet + tol * np.maximum(1.0, ev.fleet))):
        out.append(
            f"workload_capacity[{names[i]},{periods[t]}]: {used[i, t]:.6g} units split > fleet {ev.fleet[i, t]:.6g}"
        )
    efficiency = np.array([[(o.efficiency or {}).get(w, 1.0) for w in workloads] for o in problem.offers])
    compute = np.array([o.compute for o in problem.offers])
    served = np.einsum("iw,i,iwt->wt", efficiency.reshape(len(names), len(workloads)), compute, x)
    for w, name in enumerate(workloads):
        need = np.asarray(problem.workloads[name], dtype=float)
        for t, p in enumerate(periods):
            if _over(need[t], served[w, t], tol):
                out.append(f"workload_demand[{name},{p}]: served {served[w, t]:.6g} < demand {need[t]:.6g}")
    return out


def violations(problem: Problem, ev: PlanEvaluation, tol: float = 1e-6, hhi_tol: float = 0.0) -> list[str]:
    """Every constraint of the problem that the evaluated plan breaks, in words.

    ``hhi_tol`` is the slack allowed on ``max_hhi`` (HHI is bounded by tangent cuts)."""
    out: list[str] = []
    periods = problem.periods
    T = len(periods)
    names = problem.offer_names
    pairs = problem.placements()
    sites = problem.site_names
    where = [f"{names[i]},{sites[s]}" if sites else names[i] for i, s in pairs]
    lot = np.array([problem.offers[i].lot_size for i, _ in pairs])[:, None]
    placed = ev.placed
    whole = np.round(placed)
    bad_number = (placed < -tol) | (np.abs(placed - whole) > tol)
    for mask, text in (
        (bad_number, "{u:g} units is not a whole non-negative number"),
        (~bad_number & (whole % lot != 0), "{u:g} units is not a whole number of lots"),
    ):
        for k, t in zip(*np.nonzero(mask)):
            out.append(f"lots[{where[k]},{periods[t]}]: {text.format(u=placed[k, t])}")
    b = ev.purchases
    cap = _rows([o.max_units for o in problem.offers], T, np.inf)  # type: ignore[misc]
    min_order = np.array([o.min_order for o in problem.offers])[:, None]
    checks = [
        (b > cap + tol * np.maximum(1.0, cap), "max_units", "{u:g} units > supply {c:g}"),
        ((b > tol) & (b < min_order - tol), "min_order", "{u:g} units < minimum order {m}"),
    ]
    for mask, family, text in checks:
        for i, t in zip(*np.nonzero(mask)):
            msg = text.format(u=b[i, t], c=cap[i, t], m=min_order[i, 0])
            out.append(f"{family}[{names[i]},{periods[t]}]: {msg}")
    out += _site_violations(problem, ev, tol)
    out += _spend_violations(problem, ev, tol)
    out += _workload_violations(problem, ev, tol)
    demand = ev.demand
    for t, p in enumerate(periods):
        if problem.workloads is None and _over(demand[t], ev.compute[t], tol):
            out.append(f"demand[{p}]: compute {ev.compute[t]:.6g} < demand {demand[t]:.6g}")
        # compared in kW, as the model states it: a GW-scale tolerance would pass small overshoots
        if problem.power_cap_gw is not None and _over(ev.power_gw[t] * 1e6, problem.power_cap_gw[t] * 1e6, tol):  # type: ignore[index]
            out.append(f"power_cap[{p}]: {ev.power_gw[t]:.6g} GW > cap {problem.power_cap_gw[t]:.6g} GW")  # type: ignore[index]
        if problem.budget is not None and _over(ev.spend[t], problem.budget[t], tol):  # type: ignore[index]
            out.append(f"budget[{p}]: capex ${ev.spend[t]:,.0f} > budget ${problem.budget[t]:,.0f}")  # type: ignore[index]
    paid = ev.spend.sum() + ev.take_or_pay.sum()
    if problem.total_budget is not None and _over(paid, problem.total_budget, tol):
        out.append(f"total_budget: capex and take-or-pay ${paid:,.0f} > total budget ${problem.total_budget:,.0f}")
    risk = problem.risk
    for v, vendor in enumerate(problem.vendors):
        share = vendor.max_share if vendor.max_share is not None else risk.max_share
        for t, p in enumerate(periods):
            if _over(ev.compute_by_vendor[v, t], share * ev.compute[t], tol):
                out.append(f"max_share[{vendor.name},{p}]: {ev.shares[v, t]:.4%} of compute > cap {share:.4%}")
            rest = ev.compute[t] - ev.compute_by_vendor[v, t]
            if _over(risk.survive_vendor_loss * demand[t], rest, tol):
                out.append(
                    f"vendor_loss[{vendor.name},{p}]: without {vendor.name} compute is {rest:.6g}"
                    f" < {risk.survive_vendor_loss:g} × demand = {risk.survive_vendor_loss * demand[t]:.6g}"
                )
    for t, p in enumerate(periods):
        if risk.max_hhi is not None and np.isfinite(ev.hhi[t]) and _over(ev.hhi[t], risk.max_hhi + hhi_tol, tol):
            out.append(f"max_hhi[{p}]: HHI {ev.hhi[t]:.6g} > {risk.max_hhi:g} (+ tolerance {hhi_tol:g})")
    if risk.max_cvar is not None and _over(ev.cvar, risk.max_cvar, tol):
        out.append(f"max_cvar: CVaR ${ev.cvar:,.0f} > ${risk.max_cvar:,.0f}")
    if risk.min_vendors > 0:
        for t, p in enumerate(periods):
            need = risk.min_vendor_share * demand[t]
            count = int(sum(not _over(need, ev.compute_by_vendor[v, t], tol) for v in range(len(problem.vendors))))
            if count < risk.min_vendors:
                out.append(
                    f"min_vendors[{p}]: {count} vendor(s) supply ≥ {risk.min_vendor_share:g} × demand,"
                    f" {risk.min_vendors} required"
                )
    return out
