"""Evaluate a purchase plan against the spec's model (contract v1).

Every public function takes the raw problem dict (or an already parsed
`spec.Problem`) and a purchase plan, which is either

- a dict ``{offer_name: {period: units}}`` (missing entries are 0; period keys
  may be ints or strings such as "2026"), or
- a pandas DataFrame with index = periods and one column per offer.

Plain loops, written straight from the formulas in "The model".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Union

from .spec import KW_PER_GW, MWH_PER_KW_YEAR, Problem, parse

Purchases = Union[Mapping[str, Mapping[Any, float]], "pandas.DataFrame"]  # noqa: F821
Table = dict[str, list[float]]  # offer name -> units bought, by period index


# --------------------------------------------------------------------------- #
# Plumbing
# --------------------------------------------------------------------------- #
def _table(p: Problem, purchases: Purchases) -> Table:
    """Purchases as {offer: [units at t=0, t=1, ...]}."""
    names = [o.name for o in p.offers]
    b: Table = {n: [0.0] * len(p.periods) for n in names}
    if hasattr(purchases, "to_dict") and hasattr(purchases, "columns"):  # DataFrame
        purchases = {str(c): {idx: purchases.at[idx, c] for idx in purchases.index} for c in purchases.columns}
    for name, row in purchases.items():
        if name not in b:
            raise ValueError(f"purchases name unknown offer {name!r}")
        for period, units in row.items():
            period = int(period)
            if period not in p.periods:
                raise ValueError(f"purchases[{name!r}] names period {period} not in {p.periods}")
            b[name][p.index(period)] = float(units)
    return b


def _le(lhs: float, rhs: float, tol: float) -> bool:
    """lhs <= rhs with a relative tolerance."""
    return lhs <= rhs + tol * max(1.0, abs(rhs))


def _g(x: float) -> str:
    return f"{x:.6g}"


def _fleet(p: Problem, b: Table) -> Table:
    """n[i,t] = installed·[t < installed_life] + Σ_{τ+lead ≤ t < τ+lead+lifetime} b[i,τ]."""
    T = len(p.periods)
    n: Table = {}
    for o in p.offers:
        row = []
        for t in range(T):
            units = float(o.installed) if (o.installed_life is None or t < o.installed_life) else 0.0
            for tau in range(T):
                start = tau + o.lead_time
                if start <= t and (o.lifetime is None or t < start + o.lifetime):
                    units += b[o.name][tau]
            row.append(units)
        n[o.name] = row
    return n


def _vendor_compute(p: Problem, n: Table) -> dict[str, list[float]]:
    """C[v,t] = Σ_{i of v} compute_i · n[i,t]."""
    c = {v: [0.0] * len(p.periods) for v in p.vendors}
    for o in p.offers:
        for t in range(len(p.periods)):
            c[o.vendor][t] += o.compute * n[o.name][t]
    return c


def _it_power_kw(p: Problem, n: Table, t: int) -> float:
    return sum(o.power_kw * n[o.name][t] for o in p.offers)


def _capex(p: Problem, b: Table, t: int) -> float:
    # Single place where capex is priced (price tiers will plug in here).
    return sum(o.unit_cost[p.periods[t]] * b[o.name][t] for o in p.offers)


def _bought_from(p: Problem, b: Table, vendor: str, tol: float = 1e-9) -> bool:
    return any(u > tol for o in p.offers_of(vendor) for u in b[o.name])


def _hhi(p: Problem, c: dict[str, list[float]]) -> dict[int, float]:
    """HHI_t = Σ_v (C[v,t]/demand_t)², periods with demand 0 left out."""
    out = {}
    for t, period in enumerate(p.periods):
        d = p.demand[period]
        if d > 0:
            out[period] = sum((c[v][t] / d) ** 2 for v in p.vendors)
    return out


def _losses(p: Problem, c: dict[str, list[float]]) -> list[float]:
    """loss_ω = Σ_t d_t · shortfall_penalty · max(0, demand_t − Σ_v a[v,ω]·C[v,t])."""
    losses = []
    for s in p.risk.scenarios:
        loss = 0.0
        for t, period in enumerate(p.periods):
            usable = sum(s.avail(v, period) * c[v][t] for v in p.vendors)
            shortfall = max(0.0, p.demand[period] - usable)
            loss += p.discount(t) * p.risk.shortfall_penalty * shortfall
        losses.append(loss)
    return losses


def _cvar(p: Problem, losses: list[float]) -> float:
    """min_η η + 1/(1−α)·Σ_ω p_ω·max(0, loss_ω − η), nominal scenario included.

    The function of η is convex and piecewise linear with breakpoints at the loss
    values (0 for the nominal scenario); its slope is 1 − Σ_{loss>η} p/(1−α),
    i.e. ≤ 0 below every loss (total probability is 1) and 1 above.  So its
    minimum is attained at a breakpoint: try them all.
    """
    alpha = p.risk.cvar_alpha
    probs = [s.probability for s in p.risk.scenarios]
    nominal = 1.0 - sum(probs)
    pairs = [*list(zip(probs, losses)), (nominal, 0.0)]
    best = None
    for eta in [0.0, *list(losses)]:
        val = eta + sum(q * max(0.0, loss - eta) for q, loss in pairs) / (1.0 - alpha)
        best = val if best is None else min(best, val)
    return best


def _cost(p: Problem, b: Table, n: Table) -> float:
    total = 0.0
    for t, period in enumerate(p.periods):
        opex = sum(o.opex_per_year * n[o.name][t] for o in p.offers)
        energy = p.electricity_price[period] * MWH_PER_KW_YEAR * p.pue * _it_power_kw(p, n, t)
        total += p.discount(t) * (_capex(p, b, t) + opex + energy)
    for v in p.vendors.values():
        # Onboarding: once, undiscounted; not for vendors with installed units.
        if v.onboarding_cost > 0 and not v.has_installed and _bought_from(p, b, v.name):
            total += v.onboarding_cost
    return total


def _objective(p: Problem, b: Table) -> float:
    n = _fleet(p, b)
    c = _vendor_compute(p, n)
    hhi = _hhi(p, c)
    hhi_term = sum(p.discount(p.index(period)) * h for period, h in hhi.items())
    return _cost(p, b, n) + p.risk.hhi_weight * hhi_term + p.risk.risk_weight * _cvar(p, _losses(p, c))


def _violations(p: Problem, b: Table, tol: float, hhi_tol: float, first_only: bool = False) -> list[str]:
    out: list[str] = []

    def report(msg: str) -> bool:
        out.append(msg)
        return first_only

    # Purchases: non-negative whole lots, <= max_units, 0 or >= min_order.
    for o in p.offers:
        for t, period in enumerate(p.periods):
            u = b[o.name][t]
            where = f"[{o.name}][{period}]"
            if u < -tol:
                if report(f"nonnegative{where}: {_g(u)} units < 0"):
                    return out
                continue
            lots = u / o.lot_size
            if abs(lots - round(lots)) * o.lot_size > tol * max(1.0, abs(u)):
                if report(f"lot_size{where}: {_g(u)} units not a multiple of {o.lot_size}"):
                    return out
            if o.max_units is not None and not _le(u, o.max_units[period], tol):
                if report(f"max_units{where}: {_g(u)} > {_g(o.max_units[period])}"):
                    return out
            if u > tol and not _le(o.min_order, u, tol):
                if report(f"min_order{where}: 0 < {_g(u)} < {o.min_order}"):
                    return out

    n = _fleet(p, b)
    c = _vendor_compute(p, n)
    risk = p.risk
    total_capex = 0.0
    for t, period in enumerate(p.periods):
        d = p.demand[period]
        ctot = sum(c[v][t] for v in p.vendors)
        if not _le(d, ctot, tol):
            if report(f"demand[{period}]: compute {_g(ctot)} < demand {_g(d)}"):
                return out
        if p.power_cap_gw is not None:
            # Compared in kW, as the spec writes it (pue·Σ kW ≤ 1e6·cap_gw), so the
            # tolerance does not swallow small caps; reported in GW.
            kw = p.pue * _it_power_kw(p, n, t)
            cap = p.power_cap_gw[period]
            if not _le(kw, KW_PER_GW * cap, tol):
                if report(f"power_cap[{period}]: {_g(kw / KW_PER_GW)} GW > {_g(cap)} GW"):
                    return out
        capex = _capex(p, b, t)
        total_capex += capex
        if p.budget is not None and not _le(capex, p.budget[period], tol):
            if report(f"budget[{period}]: capex {_g(capex)} > {_g(p.budget[period])}"):
                return out
        for v, vendor in p.vendors.items():
            if not _le(c[v][t], vendor.max_share * ctot, tol):
                if report(
                    f"max_share[{period}][{v}]: compute {_g(c[v][t])} > {_g(vendor.max_share)} × total {_g(ctot)}"
                ):
                    return out
        if risk.min_vendors > 0:
            need = risk.min_vendor_share * d
            count = sum(1 for v in p.vendors if _le(need, c[v][t], tol))
            if count < risk.min_vendors:
                if report(f"min_vendors[{period}]: {count} vendors with compute >= {_g(need)} (< {risk.min_vendors})"):
                    return out
        if risk.survive_vendor_loss > 0:
            for v in p.vendors:
                left = ctot - c[v][t]
                if not _le(risk.survive_vendor_loss * d, left, tol):
                    if report(
                        f"survive_vendor_loss[{period}][{v}]: compute without {v} "
                        f"{_g(left)} < {_g(risk.survive_vendor_loss)} × demand {_g(d)}"
                    ):
                        return out
    if p.total_budget is not None and not _le(total_capex, p.total_budget, tol):
        if report(f"total_budget: capex {_g(total_capex)} > {_g(p.total_budget)}"):
            return out
    if risk.max_hhi is not None:
        for period, h in _hhi(p, c).items():
            if not _le(h, risk.max_hhi + hhi_tol, tol):
                if report(f"max_hhi[{period}]: HHI {_g(h)} > {_g(risk.max_hhi)}"):
                    return out
    if risk.max_cvar is not None:
        cv = _cvar(p, _losses(p, c))
        if not _le(cv, risk.max_cvar, tol):
            if report(f"max_cvar: CVaR {_g(cv)} > {_g(risk.max_cvar)}"):
                return out
    return out


# --------------------------------------------------------------------------- #
# Public API
# --------------------------------------------------------------------------- #
def fleet(problem: Mapping | Problem, purchases: Purchases) -> dict[str, dict[int, float]]:
    """Operational units n[i,t]: {offer: {period: units}}."""
    p = parse(problem)
    n = _fleet(p, _table(p, purchases))
    return {name: dict(zip(p.periods, row)) for name, row in n.items()}


def compute_by_vendor(problem: Mapping | Problem, purchases: Purchases) -> dict[str, dict[int, float]]:
    """C[v,t]: {vendor: {period: compute}}."""
    p = parse(problem)
    c = _vendor_compute(p, _fleet(p, _table(p, purchases)))
    return {v: dict(zip(p.periods, row)) for v, row in c.items()}


def violations(problem: Mapping | Problem, purchases: Purchases, tol: float = 1e-6, hhi_tol: float = 0.0) -> list[str]:
    """Every constraint of "The model" the plan breaks, one message each ([] if feasible).

    A constraint lhs <= rhs holds if lhs <= rhs + tol·max(1, |rhs|); max_hhi is
    additionally relaxed by the absolute `hhi_tol` (tangent-cut solvers).
    """
    p = parse(problem)
    return _violations(p, _table(p, purchases), tol, hhi_tol)


def cost(problem: Mapping | Problem, purchases: Purchases) -> float:
    """The spec's `cost` (discounted capex + opex + energy, plus onboarding)."""
    p = parse(problem)
    b = _table(p, purchases)
    return _cost(p, b, _fleet(p, b))


def hhi(problem: Mapping | Problem, purchases: Purchases) -> dict[int, float]:
    """{period: HHI_t} with shares of *demand*; periods with demand 0 are absent."""
    p = parse(problem)
    return _hhi(p, _vendor_compute(p, _fleet(p, _table(p, purchases))))


def scenario_losses(problem: Mapping | Problem, purchases: Purchases) -> dict[str, float]:
    """{scenario name: loss_ω} for the listed scenarios (the nominal one has loss 0)."""
    p = parse(problem)
    losses = _losses(p, _vendor_compute(p, _fleet(p, _table(p, purchases))))
    return {s.name: loss for s, loss in zip(p.risk.scenarios, losses)}


def cvar(problem: Mapping | Problem, purchases: Purchases) -> float:
    """Exact CVaR_alpha of the scenario losses (0 without scenarios)."""
    p = parse(problem)
    return _cvar(p, _losses(p, _vendor_compute(p, _fleet(p, _table(p, purchases)))))


def objective(problem: Mapping | Problem, purchases: Purchases) -> float:
    """cost + hhi_weight · Σ_t d_t·HHI_t + risk_weight · CVaR."""
    p = parse(problem)
    return _objective(p, _table(p, purchases))
