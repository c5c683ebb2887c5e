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

__all__ = ["PlanEvaluation", "evaluate", "violations"]


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

    @property
    def cost(self) -> float:
        """The spec's cost: discounted capex + opex + energy, plus onboarding."""
        return float(self.capex.sum() + self.opex.sum() + self.energy.sum() + self.onboarding.sum())

    @property
    def shares(self) -> np.ndarray:
        """(V, T) share of operational compute (0 where the total is 0)."""
        total = self.compute[None, :]
        return np.divide(self.compute_by_vendor, total, out=np.zeros_like(self.compute_by_vendor), where=total > 0)


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
    )


def _over(lhs: float, rhs: float, tol: float) -> bool:
    return lhs > rhs + tol * max(1.0, abs(rhs))


def violations(problem: Problem, ev: PlanEvaluation, tol: float = 1e-6) -> list[str]:
    """Every constraint of the problem that the evaluated plan breaks, in words."""
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
