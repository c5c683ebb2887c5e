"""Evaluate a purchase plan against the spec's model (contract v1).

Every public function takes the raw problem dict (or an already parsed
`spec.Problem`) and a purchase plan, which is one of

- a dict ``{offer_name: {period: units}}`` (missing entries are 0; period keys
  may be ints or strings such as "2026") -- for problems without `sites`
  (or with exactly one site);
- with `sites`: a dict ``{offer_name: {site: {period: units}}}``;
- a pandas DataFrame with index = periods and one column per offer (as
  `result.purchases`; problems without sites or with one site);
- a pandas DataFrame in long form with columns ``period``, ``offer``,
  ``bought`` and (with sites) ``site``; other columns (e.g. ``fleet``) are
  ignored (as `result.by_site`).

With `workloads`, `violations` also takes an optional `split`
``{offer: {workload: {period: units}}}`` (the continuous x[i,w,t]); without
it, whether some split exists is decided by a small LP per period
(`workload_feasible`).

Plain loops, written straight from the formulas in "The model" and
"Commercial terms, sites and workloads".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Union

import numpy as np
from scipy.optimize import linprog

from .spec import IMPLICIT_SITE, KW_PER_GW, MWH_PER_KW_YEAR, Problem, parse

Purchases = Union[Mapping[str, Mapping[Any, Any]], "pandas.DataFrame"]  # noqa: F821
Split = Mapping[str, Mapping[str, Mapping[Any, float]]]
Table = dict[str, list[float]]  # offer name -> value by period index
SiteTable = dict[str, dict[str, list[float]]]  # offer -> site -> value by period index


# --------------------------------------------------------------------------- #
# Plumbing
# --------------------------------------------------------------------------- #
def _period(p: Problem, period: Any, where: str) -> int:
    period = int(period)
    if period not in p.periods:
        raise ValueError(f"{where} names period {period} not in {p.periods}")
    return p.index(period)


def _is_missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _table(p: Problem, purchases: Purchases) -> SiteTable:
    """Purchases as {offer: {site: [units at t=0, t=1, ...]}} (every offer and site present)."""
    T = len(p.periods)
    site_names = [s.name for s in p.sites]
    b: SiteTable = {o.name: {s: [0.0] * T for s in site_names} for o in p.offers}

    def put(name: Any, site: Any, period: Any, units: Any, add: bool = False) -> None:
        name = str(name)
        if name not in b:
            raise ValueError(f"purchases name unknown offer {name!r}")
        if not p.has_sites and _is_missing(site):
            site = IMPLICIT_SITE
        if _is_missing(site) and len(site_names) == 1:
            site = site_names[0]
        if _is_missing(site):
            raise ValueError(f"purchases[{name!r}]: with several sites, give units per site")
        site = str(site)
        if site not in b[name]:
            raise ValueError(f"purchases[{name!r}] names unknown site {site!r}")
        t = _period(p, period, f"purchases[{name!r}]")
        b[name][site][t] = b[name][site][t] + float(units) if add else float(units)

    if hasattr(purchases, "columns") and hasattr(purchases, "to_dict"):  # DataFrame
        cols = {str(c) for c in purchases.columns}
        if {"period", "offer", "bought"} <= cols:  # long form
            has_site = "site" in cols
            for row in purchases.to_dict("records"):
                put(row["offer"], row["site"] if has_site else None, row["period"], row["bought"], add=True)
            return b
        for c in purchases.columns:  # wide form: index = periods, columns = offers
            for idx in purchases.index:
                put(c, None, idx, purchases.at[idx, c])
        return b
    for name, row in purchases.items():
        for key, value in row.items():
            if isinstance(value, Mapping):  # {site: {period: units}}
                for period, units in value.items():
                    put(name, key, period, units)
            else:  # {period: units}
                put(name, None, key, value)
    return b


def _totals(p: Problem, b: SiteTable) -> Table:
    """Σ over sites."""
    T = len(p.periods)
    return {name: [sum(row[t] for row in by_site.values()) for t in range(T)] for name, by_site in b.items()}


def _le(lhs: float, rhs: float, tol: float) -> bool:
    """lhs <= rhs with a relative tolerance."""
    return lhs <= rhs + tol * max(1.0, abs(rhs))


def _g(x: float) -> str:
    return f"{x:.6g}"


def _fleet_sites(p: Problem, b: SiteTable) -> SiteTable:
    """n[i,s,t] = installed_{i,s}·[t < installed_life] + Σ_{τ+lead ≤ t < τ+lead+lifetime} b[i,s,τ]."""
    T = len(p.periods)
    n: SiteTable = {}
    for o in p.offers:
        n[o.name] = {}
        for site, bought in b[o.name].items():
            inst = float(o.installed_at.get(site, 0))
            row = []
            for t in range(T):
                units = inst if (o.installed_life is None or t < o.installed_life) else 0.0
                for tau in range(T):
                    start = tau + o.lead_time
                    if start <= t and (o.lifetime is None or t < start + o.lifetime):
                        units += bought[tau]
                row.append(units)
            n[o.name][site] = row
    return n


def _vendor_compute(p: Problem, n: Table) -> dict[str, list[float]]:
    """C[v,t] = Σ_{i of v} compute_i · n[i,t] (raw compute, no efficiency)."""
    c = {v: [0.0] * len(p.periods) for v in p.vendors}
    for o in p.offers:
        for t in range(len(p.periods)):
            c[o.vendor][t] += o.compute * n[o.name][t]
    return c


def _it_power_kw(p: Problem, ns: SiteTable, site: str, t: int) -> float:
    return sum(o.power_kw * ns[o.name][site][t] for o in p.offers)


def _capex(p: Problem, B: Table) -> Table:
    """capex[i][t]: tier cost of the offer's units bought in t (summed over sites)."""
    return {o.name: [o.capex(B[o.name][t], period) for t, period in enumerate(p.periods)] for o in p.offers}


def _vendor_capex(p: Problem, cap: Table) -> dict[str, float]:
    """capex_v: undiscounted capex with vendor v over the horizon."""
    out = dict.fromkeys(p.vendors, 0.0)
    for o in p.offers:
        out[o.vendor] += sum(cap[o.name])
    return out


def _take_or_pay(p: Problem, vcap: dict[str, float]) -> dict[str, float]:
    """max(0, min_spend_v − capex_v)."""
    return {v: max(0.0, vendor.min_spend - vcap[v]) for v, vendor in p.vendors.items()}


def _bought_from(p: Problem, B: Table, vendor: str, tol: float = 1e-9) -> bool:
    return any(u > tol for o in p.offers_of(vendor) for u in B[o.name])


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


def _cost(p: Problem, b: SiteTable, ns: SiteTable) -> float:
    B = _totals(p, b)
    n = _totals(p, ns)
    cap = _capex(p, B)
    total = 0.0
    for t, period in enumerate(p.periods):
        capex = sum(cap[o.name][t] for o in p.offers)
        opex = sum(o.opex_per_year * n[o.name][t] for o in p.offers)
        energy = sum(
            s.electricity_price[period] * MWH_PER_KW_YEAR * s.pue * _it_power_kw(p, ns, s.name, t) for s in p.sites
        )
        total += p.discount(t) * (capex + opex + energy)
    for v in p.vendors.values():
        # Onboarding: once, undiscounted; not for vendors with installed units.
        if v.onboarding_cost > 0 and not v.has_installed and _bought_from(p, B, v.name):
            total += v.onboarding_cost
    # Take-or-pay: undiscounted (period 0).
    total += sum(_take_or_pay(p, _vendor_capex(p, cap)).values())
    return total


def _objective(p: Problem, b: SiteTable) -> float:
    ns = _fleet_sites(p, b)
    c = _vendor_compute(p, _totals(p, ns))
    hhi = _hhi(p, c)
    hhi_term = sum(p.discount(p.index(period)) * h for period, h in hhi.items())
    return _cost(p, b, ns) + p.risk.hhi_weight * hhi_term + p.risk.risk_weight * _cvar(p, _losses(p, c))


# --------------------------------------------------------------------------- #
# Workloads
# --------------------------------------------------------------------------- #
def _workload_lp(p: Problem, n: Table, t: int) -> tuple[float, dict[str, dict[str, float]]]:
    """Least total *relative* shortfall Σ_w s_w over splits of the fleet in period t, and a best split.

    Variables y[i,w] in [0,1] (share of offer i's fleet on w) and s_w >= 0:
        Σ_w y[i,w] <= 1,   Σ_i eff_{i,w}·compute_i·n[i,t]·y[i,w] / d_w + s_w >= 1   (d_w > 0).
    Some split meets every workload iff the optimum is 0; the split is x = y·n.
    """
    period = p.periods[t]
    assert p.workloads is not None
    wls = [w for w, d in p.workloads.items() if d[period] > 0]
    split = {o.name: dict.fromkeys(p.workloads, 0.0) for o in p.offers}
    if not wls:
        return 0.0, split
    offers = [o for o in p.offers if n[o.name][t] > 0]
    pairs = [(i, w) for i, o in enumerate(offers) for w in wls if o.eff(w) > 0]
    if len(wls) == 1:  # closed form: give the whole fleet to the one workload
        w = wls[0]
        have = sum(o.eff(w) * o.compute * n[o.name][t] for o in offers)
        for o in offers:
            split[o.name][w] = n[o.name][t] if o.eff(w) > 0 else 0.0
        return max(0.0, 1.0 - have / p.workloads[w][period]), split
    nv = len(pairs) + len(wls)
    cost = np.zeros(nv)
    cost[len(pairs) :] = 1.0
    a_ub, b_ub = [], []
    for i in range(len(offers)):  # Σ_w y[i,w] <= 1
        row = np.zeros(nv)
        for k, (ii, _) in enumerate(pairs):
            if ii == i:
                row[k] = 1.0
        a_ub.append(row)
        b_ub.append(1.0)
    for j, w in enumerate(wls):  # −Σ_i a·y − s_w <= −1
        row = np.zeros(nv)
        d = p.workloads[w][period]
        for k, (i, ww) in enumerate(pairs):
            if ww == w:
                o = offers[i]
                row[k] = -o.eff(w) * o.compute * n[o.name][t] / d
        row[len(pairs) + j] = -1.0
        a_ub.append(row)
        b_ub.append(-1.0)
    bounds = [(0.0, 1.0)] * len(pairs) + [(0.0, None)] * len(wls)
    res = linprog(cost, A_ub=np.array(a_ub), b_ub=np.array(b_ub), bounds=bounds, method="highs")
    if res.status != 0:
        raise RuntimeError(f"workload LP failed in period {period}: {res.message}")
    for k, (i, w) in enumerate(pairs):
        o = offers[i]
        split[o.name][w] = float(res.x[k]) * n[o.name][t]
    return float(res.fun), split


def _workloads_ok(p: Problem, n: Table, t: int, tol: float) -> tuple[bool, float]:
    """(some split meets every workload in period t, least total relative shortfall), memoized."""
    key = (t, tol, tuple(n[o.name][t] for o in p.offers))
    hit = p.wl_cache.get(key)
    if hit is None:
        short, _ = _workload_lp(p, n, t)
        hit = p.wl_cache[key] = (short <= tol, short)
    return hit


def _split_table(p: Problem, split: Split) -> dict[str, dict[str, list[float]]]:
    assert p.workloads is not None
    T = len(p.periods)
    x = {o.name: {w: [0.0] * T for w in p.workloads} for o in p.offers}
    for name, by_w in split.items():
        if name not in x:
            raise ValueError(f"split names unknown offer {name!r}")
        for w, row in by_w.items():
            if w not in x[name]:
                raise ValueError(f"split[{name!r}] names unknown workload {w!r}")
            for period, units in row.items():
                x[name][w][_period(p, period, f"split[{name!r}][{w!r}]")] = float(units)
    return x


# --------------------------------------------------------------------------- #
# Violations
# --------------------------------------------------------------------------- #
def _violations(
    p: Problem, b: SiteTable, tol: float, hhi_tol: float, first_only: bool = False, split: Split | None = None
) -> list[str]:
    out: list[str] = []

    def report(msg: str) -> bool:
        out.append(msg)
        return first_only

    # Purchases: per site non-negative whole lots at a site hosting the vendor; per offer and
    # period (summed over sites) <= max_units and 0 or >= min_order.
    B = _totals(p, b)
    for o in p.offers:
        for t, period in enumerate(p.periods):
            negative = False
            for s in p.sites:
                u = b[o.name][s.name][t]
                where = f"[{o.name}][{s.name}][{period}]" if p.has_sites else f"[{o.name}][{period}]"
                if u < -tol:
                    negative = True
                    if report(f"nonnegative{where}: {_g(u)} units < 0"):
                        return out
                    continue
                lots = u / o.lot_size
                if abs(lots - round(lots)) * o.lot_size > tol * max(1.0, abs(u)):
                    if report(f"lot_size{where}: {_g(u)} units not a multiple of {o.lot_size}"):
                        return out
                if u > tol and not s.hosts(o.vendor):
                    if report(f"site_vendors{where}: {_g(u)} units at a site that does not host {o.vendor}"):
                        return out
            if negative:
                continue
            u = B[o.name][t]
            where = f"[{o.name}][{period}]"
            if o.max_units is not None and not _le(u, o.max_units[period], tol):
                if report(f"max_units{where}: {_g(u)} > {_g(o.max_units[period])}"):
                    return out
            if u > tol and not _le(o.min_order, u, tol):
                if report(f"min_order{where}: 0 < {_g(u)} < {o.min_order}"):
                    return out

    ns = _fleet_sites(p, b)
    n = _totals(p, ns)
    c = _vendor_compute(p, n)
    cap = _capex(p, B)
    risk = p.risk
    total_capex = 0.0
    for t, period in enumerate(p.periods):
        d = p.demand[period]
        ctot = sum(c[v][t] for v in p.vendors)
        if p.workloads is None and not _le(d, ctot, tol):
            if report(f"demand[{period}]: compute {_g(ctot)} < demand {_g(d)}"):
                return out
        if p.power_cap_gw is not None:
            # Compared in kW, as the spec writes it (pue·Σ kW ≤ 1e6·cap_gw), so the
            # tolerance does not swallow small caps; reported in GW.  With sites: Σ_s pue_s·IT_s.
            kw = sum(s.pue * _it_power_kw(p, ns, s.name, t) for s in p.sites)
            gw_cap = p.power_cap_gw[period]
            if not _le(kw, KW_PER_GW * gw_cap, tol):
                if report(f"power_cap[{period}]: {_g(kw / KW_PER_GW)} GW > {_g(gw_cap)} GW"):
                    return out
        if p.has_sites:
            for s in p.sites:
                if s.power_cap_gw is None:
                    continue
                kw = s.pue * _it_power_kw(p, ns, s.name, t)
                gw_cap = s.power_cap_gw[period]
                if not _le(kw, KW_PER_GW * gw_cap, tol):
                    if report(f"site_power_cap[{s.name}][{period}]: {_g(kw / KW_PER_GW)} GW > {_g(gw_cap)} GW"):
                        return out
        capex = sum(cap[o.name][t] for o in p.offers)
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
    vcap = _vendor_capex(p, cap)
    top = sum(_take_or_pay(p, vcap).values())
    if p.total_budget is not None and not _le(total_capex + top, p.total_budget, tol):
        extra = f" + take-or-pay {_g(top)}" if top > 0 else ""
        if report(f"total_budget: capex {_g(total_capex)}{extra} > {_g(p.total_budget)}"):
            return out
    for v, vendor in p.vendors.items():
        if vendor.max_spend is not None and not _le(vcap[v], vendor.max_spend, tol):
            if report(f"max_spend[{v}]: capex {_g(vcap[v])} > {_g(vendor.max_spend)}"):
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
    # Workloads (last: the LP is the dearest check).
    if p.workloads is not None:
        if split is None:
            for t, period in enumerate(p.periods):
                ok, short = _workloads_ok(p, n, t, tol)
                if not ok:
                    if report(
                        f"workloads[{period}]: no split of the fleet covers every workload "
                        f"(least total relative shortfall {_g(short)})"
                    ):
                        return out
        else:
            x = _split_table(p, split)
            for t, period in enumerate(p.periods):
                for o in p.offers:
                    used = 0.0
                    for w in p.workloads:
                        u = x[o.name][w][t]
                        used += u
                        if u < -tol:
                            if report(f"split_nonnegative[{o.name}][{w}][{period}]: {_g(u)} < 0"):
                                return out
                    if not _le(used, n[o.name][t], tol):
                        if report(f"split[{o.name}][{period}]: {_g(used)} units split > fleet {_g(n[o.name][t])}"):
                            return out
                for w, dem in p.workloads.items():
                    have = sum(o.eff(w) * o.compute * x[o.name][w][t] for o in p.offers)
                    if not _le(dem[period], have, tol):
                        if report(f"workload[{w}][{period}]: compute {_g(have)} < demand {_g(dem[period])}"):
                            return out
    return out


# --------------------------------------------------------------------------- #
# Public API
# --------------------------------------------------------------------------- #
def _per_offer(p: Problem, table: Table) -> dict[str, dict[int, float]]:
    return {name: dict(zip(p.periods, row)) for name, row in table.items()}


def totals(problem: Mapping | Problem, purchases: Purchases) -> dict[str, dict[int, float]]:
    """Units bought per offer and period, summed over sites (the shape of `result.purchases`)."""
    p = parse(problem)
    return _per_offer(p, _totals(p, _table(p, purchases)))


def fleet(problem: Mapping | Problem, purchases: Purchases) -> dict[str, dict[int, float]]:
    """Operational units n[i,t] (summed over sites): {offer: {period: units}}."""
    p = parse(problem)
    return _per_offer(p, _totals(p, _fleet_sites(p, _table(p, purchases))))


def fleet_by_site(problem: Mapping | Problem, purchases: Purchases) -> dict[str, dict[str, dict[int, float]]]:
    """n[i,s,t]: {offer: {site: {period: units}}} (site "" without `sites`)."""
    p = parse(problem)
    ns = _fleet_sites(p, _table(p, purchases))
    return {name: {s: dict(zip(p.periods, row)) for s, row in by_site.items()} for name, by_site in ns.items()}


def site_power_gw(problem: Mapping | Problem, purchases: Purchases) -> dict[str, dict[int, float]]:
    """Facility power pue_s · Σ_i power_kw_i · n[i,s,t] / 1e6: {site: {period: GW}}."""
    p = parse(problem)
    ns = _fleet_sites(p, _table(p, purchases))
    return {
        s.name: {period: s.pue * _it_power_kw(p, ns, s.name, t) / KW_PER_GW for t, period in enumerate(p.periods)}
        for s in p.sites
    }


def compute_by_vendor(problem: Mapping | Problem, purchases: Purchases) -> dict[str, dict[int, float]]:
    """C[v,t]: {vendor: {period: compute}} (raw compute, no workload efficiency)."""
    p = parse(problem)
    c = _vendor_compute(p, _totals(p, _fleet_sites(p, _table(p, purchases))))
    return {v: dict(zip(p.periods, row)) for v, row in c.items()}


def capex(problem: Mapping | Problem, purchases: Purchases) -> dict[str, dict[int, float]]:
    """Undiscounted capex per offer and period: {offer: {period: $}} (price tiers applied)."""
    p = parse(problem)
    return _per_offer(p, _capex(p, _totals(p, _table(p, purchases))))


def vendor_capex(problem: Mapping | Problem, purchases: Purchases) -> dict[str, float]:
    """capex_v: undiscounted capex per vendor over the horizon (what min/max_spend compare)."""
    p = parse(problem)
    return _vendor_capex(p, _capex(p, _totals(p, _table(p, purchases))))


def take_or_pay(problem: Mapping | Problem, purchases: Purchases) -> dict[str, float]:
    """{vendor: max(0, min_spend_v − capex_v)} for every vendor (0 without min_spend)."""
    p = parse(problem)
    return _take_or_pay(p, _vendor_capex(p, _capex(p, _totals(p, _table(p, purchases)))))


def workload_split(
    problem: Mapping | Problem, purchases: Purchases, tol: float = 1e-6
) -> dict[str, dict[str, dict[int, float]]] | None:
    """A split {offer: {workload: {period: units}}} meeting every workload, or None if there is none."""
    p = parse(problem)
    if p.workloads is None:
        raise ValueError("problem has no workloads")
    n = _totals(p, _fleet_sites(p, _table(p, purchases)))
    out = {o.name: {w: {} for w in p.workloads} for o in p.offers}
    for t, period in enumerate(p.periods):
        short, split = _workload_lp(p, n, t)
        if short > tol:
            return None
        for name, by_w in split.items():
            for w, units in by_w.items():
                out[name][w][period] = units
    return out


def workload_feasible(problem: Mapping | Problem, purchases: Purchases, tol: float = 1e-6) -> bool:
    """Whether some split x >= 0 of the fleet meets every workload in every period (True without workloads)."""
    p = parse(problem)
    if p.workloads is None:
        return True
    n = _totals(p, _fleet_sites(p, _table(p, purchases)))
    return all(_workloads_ok(p, n, t, tol)[0] for t in range(len(p.periods)))


def violations(
    problem: Mapping | Problem,
    purchases: Purchases,
    split: Split | None = None,
    tol: float = 1e-6,
    hhi_tol: float = 0.0,
) -> list[str]:
    """Every constraint of the model the plan breaks, one message each ([] if feasible).

    A constraint lhs <= rhs holds if lhs <= rhs + tol·max(1, |rhs|); max_hhi is
    additionally relaxed by the absolute `hhi_tol` (tangent-cut solvers).  With
    workloads, `split` is checked if given; otherwise the plan passes if some
    split exists (relative shortfall <= tol, by LP).
    """
    p = parse(problem)
    return _violations(p, _table(p, purchases), tol, hhi_tol, split=split)


def cost(problem: Mapping | Problem, purchases: Purchases) -> float:
    """The spec's `cost` (discounted capex + opex + energy, plus onboarding and take-or-pay)."""
    p = parse(problem)
    b = _table(p, purchases)
    return _cost(p, b, _fleet_sites(p, b))


def hhi(problem: Mapping | Problem, purchases: Purchases) -> dict[int, float]:
    """{period: HHI_t} with shares of *demand*; periods with demand 0 are absent."""
    p = parse(problem)
    return _hhi(p, _vendor_compute(p, _totals(p, _fleet_sites(p, _table(p, purchases)))))


def scenario_losses(problem: Mapping | Problem, purchases: Purchases) -> dict[str, float]:
    """{scenario name: loss_ω} for the listed scenarios (the nominal one has loss 0)."""
    p = parse(problem)
    losses = _losses(p, _vendor_compute(p, _totals(p, _fleet_sites(p, _table(p, purchases)))))
    return {s.name: loss for s, loss in zip(p.risk.scenarios, losses)}


def cvar(problem: Mapping | Problem, purchases: Purchases) -> float:
    """Exact CVaR_alpha of the scenario losses (0 without scenarios)."""
    p = parse(problem)
    return _cvar(p, _losses(p, _vendor_compute(p, _totals(p, _fleet_sites(p, _table(p, purchases))))))


def objective(problem: Mapping | Problem, purchases: Purchases) -> float:
    """cost + hhi_weight · Σ_t d_t·HHI_t + risk_weight · CVaR."""
    p = parse(problem)
    return _objective(p, _table(p, purchases))
