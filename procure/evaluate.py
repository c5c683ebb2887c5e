"""What a purchase plan does, computed straight from the problem: fleet, compute,
power, spend, cost, and every constraint it breaks.

This module never looks at the optimization model.  It recomputes a plan's
consequences from the problem's fields, so that `Result.check` is a real
second opinion on what the solver returned, and `Result.cost` is the cost of
the plan itself rather than a solver's floating-point objective.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .problem import Problem

__all__ = ["PlanEvaluation", "cvar", "evaluate", "objective_of", "violations"]


def _rows(values: list[tuple[float, ...] | None], T: int, missing: float) -> np.ndarray:
    return np.array([v if v is not None else (missing,) * T for v in values], dtype=float).reshape(len(values), T)


def fleet_of(problem: Problem, purchases: np.ndarray) -> np.ndarray:
    """(I, T) operational units: installed units until ``installed_life`` ends, each
    purchase from ``lead_time`` periods after it is bought for ``lifetime`` periods."""
    T = len(problem.periods)
    t = np.arange(T)
    fleet = np.zeros_like(purchases, dtype=float)
    for k, offer in enumerate(problem.offers):  # one pass per offer, vectorized over periods
        arrive = np.zeros(T)
        lead = offer.lead_time
        if lead < T:
            arrive[lead:] = purchases[k, : T - lead]
        leave = np.zeros(T)
        if offer.lifetime is not None and lead + offer.lifetime < T:
            leave[lead + offer.lifetime :] = purchases[k, : T - lead - offer.lifetime]
        life = offer.installed_life or offer.lifetime
        installed = offer.installed * ((t < life) if life is not None else np.ones(T, dtype=bool))
        fleet[k] = installed + np.cumsum(arrive - leave)
    return fleet


@dataclass(frozen=True)
class PlanEvaluation:
    """Consequences of one plan (arrays over offers ``I``, vendors ``V``, periods ``T``)."""

    purchases: np.ndarray  # (I, T) units bought
    fleet: np.ndarray  # (I, T) operational units
    compute_by_vendor: np.ndarray  # (V, T)
    compute: np.ndarray  # (T,)
    it_power_kw: np.ndarray  # (T,)
    power_gw: np.ndarray  # (T,) facility power
    spend: np.ndarray  # (T,) undiscounted capex
    spend_by_vendor: np.ndarray  # (V, T) undiscounted capex
    capex: np.ndarray  # (T,) discounted
    opex: np.ndarray  # (T,) discounted
    energy: np.ndarray  # (T,) discounted
    onboarding: np.ndarray  # (T,) paid in the period of the vendor's first purchase
    discount: np.ndarray  # (T,)
    hhi: np.ndarray  # (T,) Σ_v (C[v,t] / demand_t)², NaN where demand is 0
    shortfall: np.ndarray  # (S, T) demand not met in each listed scenario
    scenario_loss: np.ndarray  # (S,) $ lost in each listed scenario
    probability: np.ndarray  # (S,)
    cvar_alpha: float

    @property
    def cost(self) -> float:
        """The spec's cost: discounted capex + opex + energy, plus onboarding."""
        return float(self.capex.sum() + self.opex.sum() + self.energy.sum() + self.onboarding.sum())

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


def evaluate(problem: Problem, purchases: np.ndarray) -> PlanEvaluation:
    """Evaluate ``purchases`` ((I, T) units bought per offer and period) for ``problem``."""
    purchases = np.asarray(purchases, dtype=float)
    offers = problem.offers
    T = len(problem.periods)
    vendors = problem.vendor_names
    vendor_of = np.array([vendors.index(o.vendor) for o in offers])
    onehot = (vendor_of[None, :] == np.arange(len(vendors))[:, None]).astype(float)  # (V, I)

    fleet = fleet_of(problem, purchases)
    compute = np.array([o.compute for o in offers])
    power_kw = np.array([o.power_kw for o in offers])
    unit_cost = _rows([o.unit_cost for o in offers], T, 0.0)  # type: ignore[misc]
    discount = (1.0 + problem.discount_rate) ** -np.arange(T, dtype=float)
    price = np.asarray(problem.electricity_price, dtype=float)

    by_vendor = onehot @ (fleet * compute[:, None])
    it_kw = power_kw @ fleet
    capex_units = unit_cost * purchases
    spend = capex_units.sum(axis=0)
    opex = np.array([o.opex_per_year for o in offers]) @ fleet
    energy = price * 8.76 * problem.pue * it_kw

    onboarding = np.zeros(T)
    bought = onehot @ purchases > 0  # (V, T)
    for v, vendor in enumerate(problem.vendors):
        installed = any(o.installed > 0 for o in offers if o.vendor == vendor.name)
        if vendor.onboarding_cost > 0 and not installed and bought[v].any():
            onboarding[int(np.argmax(bought[v]))] += vendor.onboarding_cost

    demand = np.asarray(problem.demand, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        hhi = np.where(demand > 0, ((by_vendor / demand) ** 2).sum(axis=0), np.nan)
    shortfall, losses, probability = _scenario_losses(problem, by_vendor, demand, discount)

    return PlanEvaluation(
        purchases=purchases,
        fleet=fleet,
        compute_by_vendor=by_vendor,
        compute=by_vendor.sum(axis=0),
        it_power_kw=it_kw,
        power_gw=problem.pue * it_kw / 1e6,
        spend=spend,
        spend_by_vendor=onehot @ capex_units,
        capex=discount * spend,
        opex=discount * opex,
        energy=discount * energy,
        onboarding=onboarding,
        discount=discount,
        hhi=hhi,
        shortfall=shortfall,
        scenario_loss=losses,
        probability=probability,
        cvar_alpha=problem.risk.cvar_alpha,
    )


def _scenario_losses(
    problem: Problem, by_vendor: np.ndarray, demand: np.ndarray, discount: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shortfall (S, T), loss (S,) and probability (S,) of every listed scenario."""
    vendors = problem.vendor_names
    scenarios = problem.risk.scenarios
    T = len(problem.periods)
    shortfall = np.zeros((len(scenarios), T))
    for k, sc in enumerate(scenarios):
        usable = np.ones_like(by_vendor)
        live = np.isin(problem.periods, sc.periods) if sc.periods is not None else np.ones(T, dtype=bool)
        for vendor, share in sc.availability.items():
            usable[vendors.index(vendor), live] = share
        shortfall[k] = np.maximum(0.0, demand - (usable * by_vendor).sum(axis=0))
    losses = problem.risk.shortfall_penalty * shortfall @ discount
    return shortfall, losses, np.array([sc.probability for sc in scenarios], dtype=float)


def _over(lhs: float, rhs: float, tol: float) -> bool:
    return lhs > rhs + tol * max(1.0, abs(rhs))


def violations(problem: Problem, ev: PlanEvaluation, tol: float = 1e-6, hhi_tol: float = 0.0) -> list[str]:
    """Every constraint of the problem that the evaluated plan breaks, in words.

    ``hhi_tol`` is the slack allowed on ``max_hhi`` (HHI is bounded by tangent cuts)."""
    out: list[str] = []
    periods = problem.periods
    T = len(periods)
    b = ev.purchases
    names = problem.offer_names
    lot = np.array([o.lot_size for o in problem.offers])[:, None]
    cap = _rows([o.max_units for o in problem.offers], T, np.inf)  # type: ignore[misc]
    min_order = np.array([o.min_order for o in problem.offers])[:, None]
    whole = np.round(b)
    bad_number = (b < -tol) | (np.abs(b - whole) > tol)
    checks = [
        (bad_number, "lots", "{u:g} units is not a whole non-negative number"),
        (~bad_number & (whole % lot != 0), "lots", "{u:g} units is not a whole number of lots"),
        (b > cap + tol * np.maximum(1.0, cap), "max_units", "{u:g} units > supply {c:g}"),
        ((b > tol) & (b < min_order - tol), "min_order", "{u:g} units < minimum order {m}"),
    ]
    for mask, family, text in checks:
        for i, t in zip(*np.nonzero(mask)):
            msg = text.format(u=b[i, t], c=cap[i, t], m=min_order[i, 0])
            out.append(f"{family}[{names[i]},{periods[t]}]: {msg}")
    demand = np.asarray(problem.demand, dtype=float)
    for t, p in enumerate(periods):
        if _over(demand[t], ev.compute[t], tol):
            out.append(f"demand[{p}]: compute {ev.compute[t]:.6g} < demand {demand[t]:.6g}")
        # compared in kW, as the model states it: a GW-scale tolerance would pass small overshoots
        if problem.power_cap_gw is not None and _over(ev.power_gw[t] * 1e6, problem.power_cap_gw[t] * 1e6, tol):  # type: ignore[index]
            out.append(f"power_cap[{p}]: {ev.power_gw[t]:.6g} GW > cap {problem.power_cap_gw[t]:.6g} GW")  # type: ignore[index]
        if problem.budget is not None and _over(ev.spend[t], problem.budget[t], tol):  # type: ignore[index]
            out.append(f"budget[{p}]: capex ${ev.spend[t]:,.0f} > budget ${problem.budget[t]:,.0f}")  # type: ignore[index]
    if problem.total_budget is not None and _over(ev.spend.sum(), problem.total_budget, tol):
        out.append(f"total_budget: capex ${ev.spend.sum():,.0f} > total budget ${problem.total_budget:,.0f}")
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
