"""Peer baselines: the procurement model written by hand, the plain way.

These are what a competent modeller would write directly from the spec
(``docs``/problem format, sections "Conventions", "Fields", "The model") with
Pyomo or with PuLP, without any of procure's machinery: no scaling, no
tightened bounds, no merging of identical scenarios, no presolve of our own.
The benchmarks compare procure against them.

API
---
``pyomo_peer(problem) -> pyomo.environ.ConcreteModel``
``solve_pyomo_peer(problem, *, mip_gap=1e-4, threads=1, time_limit=None) -> dict``
``pulp_peer(problem) -> pulp.LpProblem``
``solve_pulp_peer(problem, *, mip_gap=1e-4, threads=1, time_limit=None) -> dict``
``solve_cbc_peer(problem, *, mip_gap=1e-4, threads=1, time_limit=None, cbc=None) -> dict``

The ``solve_*`` functions return ``{"build_seconds", "solve_seconds",
"objective", "status", "columns", "rows", "nnz"}``; ``status`` is one of
``"optimal"``, ``"feasible"``, ``"infeasible"``, ``"unbounded"``, ``"error"``.
``build_seconds`` times the model construction only; ``solve_seconds`` the
solver call (Pyomo: ``SolverFactory('appsi_highs').solve``, which includes
handing the model to HiGHS; PuLP: ``LpProblem.solve`` with the bundled CBC,
which includes writing the MPS file and reading back the solution).

``solve_cbc_peer`` solves the Pyomo model with the CBC binary, as a user
without a Python interface to CBC would: the model is written to a free MPS file
(``m.write(..., format="mps")``, symbolic labels off, its NAME card marked
``FREE`` so that CBC reads it as free MPS; its ``build_seconds`` include
writing) and ``cbc model.mps -ratioGap GAP -seconds LIMIT -timeMode elapsed
-solve -solution FILE`` runs in a fresh process, with CBC's default
preprocessing, cuts and heuristics (one thread: CBC's default; ``threads > 1``
adds ``-threads N``).  Its ``solve_seconds`` is that process's wall time; the
objective is read back from CBC's output and checked against the Pyomo
objective evaluated at the solution CBC wrote (``objective_check``).  It also
returns ``cbc`` (the binary), ``cbc_version``, ``cbc_options``, CBC's own
``cbc_seconds``, ``write_seconds``, and ``best_possible`` when CBC reports one.

Formulation (both peers are the same model)
-------------------------------------------
* ``k[i,t]`` integer lots, ``b = lot_size * k``; ``k <= floor(max_units_t / lot_size)``.
* ``n[i,t]`` operational fleet is an expression:
  ``installed_i * [t < installed_life_i] + sum(b[i,tau] : tau + lead <= t < tau + lead + lifetime)``.
* ``C[v,t]`` each vendor's compute, a continuous variable defined by one row
  ``C[v,t] = sum(compute_i * n[i,t] : i of v)`` (what a modeller writes by hand;
  substituting the fleet expression into every scenario row instead would
  multiply the nonzeros twentyfold and slow HiGHS down several times).
* ``min_order``: binary ``y[i,t]``, ``k >= ceil(min_order/lot) * y``, ``k <= M * y``.
* onboarding: binary ``o[v]`` (only for vendors with a cost and no installed units),
  ``k[i,t] <= M * o[v]``; cost ``onboarding_cost * o[v]`` (undiscounted).
* ``min_vendors``: binary ``w[v,t]``, ``C[v,t] >= min_vendor_share * demand_t * w[v,t]``,
  ``sum_v w[v,t] >= min_vendors``.
* demand, power (``pue * sum power_kw * n <= 1e6 * power_cap_gw``), per-period
  and total budget, share (vendor ``max_share`` or ``risk.max_share``), vendor loss.
* scenarios: ``u[s,t] >= demand_t - sum_v a[v,s,t] C[v,t]``, ``u >= 0``;
  CVaR by Rockafellar-Uryasev: ``eta`` free, ``z_s >= loss_s - eta``, ``z >= 0``,
  with the nominal scenario (probability ``1 - sum p``, loss 0) included;
  ``CVaR = eta + sum_s p_s z_s / (1 - alpha)``; objective ``cost + risk_weight * CVaR``;
  ``CVaR <= max_cvar``.
* Objective coefficients in dollars, as the spec states.

Big-M: ``M[i,t] = floor(max_units_t / lot_size)`` when the offer has a supply
cap in that period (then it is exact: it is the variable's own bound).
Without a cap, ``M[i,t] = ceil(2 * max_t demand_t / (compute_i * lot_size)) +
ceil(min_order_i / lot_size)``: lots enough for twice the largest demand from
this one offer alone, plus the minimum order.  This is a modelling
assumption, not a proof: a plan that buys more than that of one offer in one
period is cut off.  The generated benchmark problems always have supply caps.

Not supported (``NotImplementedError``): HHI (``hhi_weight > 0`` or
``max_hhi``), and the "Commercial terms, sites and workloads" fields.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

__all__ = ["cbc_binary", "pulp_peer", "pyomo_peer", "solve_cbc_peer", "solve_pulp_peer", "solve_pyomo_peer"]


# --------------------------------------------------------------------------
# Reading the problem mapping (shared by both peers)
# --------------------------------------------------------------------------

_TOP = {
    "name",
    "periods",
    "demand",
    "offers",
    "vendors",
    "power_cap_gw",
    "pue",
    "electricity_price",
    "budget",
    "total_budget",
    "discount_rate",
    "risk",
}
_OFFER = {
    "name",
    "vendor",
    "unit_cost",
    "compute",
    "power_kw",
    "opex_per_year",
    "lot_size",
    "min_order",
    "max_units",
    "lifetime",
    "lead_time",
    "installed",
    "installed_life",
}
_VENDOR = {"name", "onboarding_cost", "max_share"}
_RISK = {
    "max_share",
    "min_vendors",
    "min_vendor_share",
    "survive_vendor_loss",
    "hhi_weight",
    "max_hhi",
    "scenarios",
    "shortfall_penalty",
    "cvar_alpha",
    "risk_weight",
    "max_cvar",
}
_SCENARIO = {"name", "probability", "availability", "periods"}
_UNSUPPORTED = {"sites", "workloads", "price_tiers", "discount", "min_spend", "max_spend"}


def _check_keys(raw: Mapping[str, Any], known: set[str], where: str) -> None:
    for key in raw:
        if key in _UNSUPPORTED:
            raise NotImplementedError(f"{where}.{key}: not supported by the peer models")
        if key not in known:
            raise ValueError(f"{where}.{key}: unknown field")


def _per_period(value: Any, periods: list[int]) -> list[float] | None:
    """A per-period value as a list over periods (None stays None)."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        out = []
        for p in periods:
            if str(p) in value:
                out.append(float(value[str(p)]))
            else:
                out.append(float(value[p]))
        return out
    return [float(value)] * len(periods)


def _read(problem: Mapping[str, Any]) -> dict[str, Any]:
    """The problem as plain lists indexed by offer / vendor / period position."""
    _check_keys(problem, _TOP, "problem")
    periods = [int(p) for p in problem["periods"]]
    T = len(periods)
    demand = _per_period(problem["demand"], periods)
    risk = dict(problem.get("risk") or {})
    _check_keys(risk, _RISK, "risk")
    if float(risk.get("hhi_weight", 0.0)) > 0 or risk.get("max_hhi") is not None:
        raise NotImplementedError("HHI terms are not supported by the peer models")

    offers = []
    vendor_names: list[str] = []
    for raw in problem["offers"]:
        _check_keys(raw, _OFFER, f"offers[{raw.get('name')}]")
        lifetime = raw.get("lifetime")
        offer = {
            "name": raw["name"],
            "vendor": raw["vendor"],
            "unit_cost": _per_period(raw["unit_cost"], periods),
            "compute": float(raw["compute"]),
            "power_kw": float(raw.get("power_kw", 0.0)),
            "opex": float(raw.get("opex_per_year", 0.0)),
            "lot": int(raw.get("lot_size", 1)),
            "min_order": int(raw.get("min_order", 0)),
            "max_units": _per_period(raw.get("max_units"), periods),
            "lifetime": int(lifetime) if lifetime is not None else math.inf,
            "lead": int(raw.get("lead_time", 0)),
            "installed": int(raw.get("installed", 0)),
        }
        life0 = raw.get("installed_life")
        offer["installed_life"] = int(life0) if life0 is not None else offer["lifetime"]
        offers.append(offer)
        if raw["vendor"] not in vendor_names:
            vendor_names.append(raw["vendor"])

    terms = {}
    for raw in problem.get("vendors") or []:
        _check_keys(raw, _VENDOR, f"vendors[{raw.get('name')}]")
        terms[raw["name"]] = raw
    default_share = float(risk.get("max_share", 1.0))
    vendors = []
    for v in vendor_names:
        raw = terms.get(v, {})
        share = raw.get("max_share")
        vendors.append(
            {
                "name": v,
                "offers": [i for i, o in enumerate(offers) if o["vendor"] == v],
                "onboarding": float(raw.get("onboarding_cost", 0.0)),
                "max_share": float(share) if share is not None else default_share,
                "has_installed": any(o["installed"] > 0 for o in offers if o["vendor"] == v),
            }
        )

    scenarios = []
    for raw in risk.get("scenarios") or []:
        _check_keys(raw, _SCENARIO, f"risk.scenarios[{raw.get('name')}]")
        listed = raw.get("periods")
        listed = set(periods) if listed is None else {int(p) for p in listed}
        availability = raw.get("availability") or {}
        # a[v][t]: usable fraction of vendor v's compute in period t.
        a = [
            [float(availability.get(v["name"], 1.0)) if periods[t] in listed else 1.0 for t in range(T)]
            for v in vendors
        ]
        scenarios.append({"name": raw["name"], "probability": float(raw["probability"]), "a": a})

    # Big-M on lots per offer and period (see the module docstring).
    dmax = max(demand)
    for o in offers:
        if o["max_units"] is not None:
            o["kmax"] = [math.floor(m / o["lot"]) for m in o["max_units"]]
            o["M"] = list(o["kmax"])
        else:
            o["kmax"] = [None] * T
            bound = math.ceil(2 * dmax / (o["compute"] * o["lot"])) + math.ceil(o["min_order"] / o["lot"])
            o["M"] = [bound] * T

    rate = float(problem.get("discount_rate", 0.0))
    max_cvar = risk.get("max_cvar")
    return {
        "periods": periods,
        "T": T,
        "demand": demand,
        "offers": offers,
        "vendors": vendors,
        "power_cap": _per_period(problem.get("power_cap_gw"), periods),
        "pue": float(problem.get("pue", 1.0)),
        "elec": _per_period(problem.get("electricity_price", 0.0), periods),
        "budget": _per_period(problem.get("budget"), periods),
        "total_budget": problem.get("total_budget"),
        "d": [(1.0 + rate) ** -t for t in range(T)],
        "min_vendors": int(risk.get("min_vendors", 0)),
        "min_vendor_share": float(risk.get("min_vendor_share", 0.1)),
        "survive": float(risk.get("survive_vendor_loss", 0.0)),
        "scenarios": scenarios,
        "penalty": float(risk.get("shortfall_penalty", 0.0)),
        "alpha": float(risk.get("cvar_alpha", 0.95)),
        "risk_weight": float(risk.get("risk_weight", 0.0)),
        "max_cvar": float(max_cvar) if max_cvar is not None else None,
    }


def _purchase_periods(o: dict[str, Any], t: int) -> range:
    """Periods tau whose purchases of offer o are operational in period t."""
    last = t - o["lead"]
    if last < 0:
        return range(0)
    if o["lifetime"] == math.inf:
        return range(0, last + 1)
    return range(max(0, last - o["lifetime"] + 1), last + 1)


def _installed(o: dict[str, Any], t: int) -> int:
    return o["installed"] if t < o["installed_life"] else 0


def _uses_cvar(data: dict[str, Any]) -> bool:
    return bool(data["scenarios"]) and (data["risk_weight"] > 0 or data["max_cvar"] is not None)


# --------------------------------------------------------------------------
# Pyomo
# --------------------------------------------------------------------------


def pyomo_peer(problem: Mapping[str, Any]):
    """The model as a Pyomo ConcreteModel (see the module docstring)."""
    import pyomo.environ as pyo

    data = _read(problem)
    offers, vendors, T = data["offers"], data["vendors"], data["T"]
    demand, d, pue = data["demand"], data["d"], data["pue"]

    m = pyo.ConcreteModel(name=str(problem.get("name", "plan")))
    m.I = pyo.Set(initialize=range(len(offers)))
    m.V = pyo.Set(initialize=range(len(vendors)))
    m.T = pyo.Set(initialize=range(T))

    def k_bounds(m, i, t):
        return (0, offers[i]["kmax"][t])

    m.k = pyo.Var(m.I, m.T, domain=pyo.NonNegativeIntegers, bounds=k_bounds)

    def b_rule(m, i, t):
        return offers[i]["lot"] * m.k[i, t]

    m.b = pyo.Expression(m.I, m.T, rule=b_rule)

    def n_rule(m, i, t):
        o = offers[i]
        return _installed(o, t) + sum(m.b[i, tau] for tau in _purchase_periods(o, t))

    m.n = pyo.Expression(m.I, m.T, rule=n_rule)

    def cv_rule(m, v, t):
        return sum(offers[i]["compute"] * m.n[i, t] for i in vendors[v]["offers"])

    # each vendor's compute is a variable defined once, as a modeller writes it by hand:
    # substituting the fleet expression into every scenario row would multiply the nonzeros
    m.C = pyo.Var(m.V, m.T, domain=pyo.NonNegativeReals)
    m.compute = pyo.Constraint(m.V, m.T, rule=lambda m, v, t: m.C[v, t] == cv_rule(m, v, t))

    def c_rule(m, t):
        return sum(m.C[v, t] for v in m.V)

    m.Ctot = pyo.Expression(m.T, rule=c_rule)

    # min_order
    MO = [(i, t) for i, o in enumerate(offers) if o["min_order"] > 0 for t in range(T)]
    m.y = pyo.Var(MO, domain=pyo.Binary)
    m.min_order_lo = pyo.Constraint(
        MO, rule=lambda m, i, t: m.k[i, t] >= math.ceil(offers[i]["min_order"] / offers[i]["lot"]) * m.y[i, t]
    )
    m.min_order_hi = pyo.Constraint(MO, rule=lambda m, i, t: m.k[i, t] <= offers[i]["M"][t] * m.y[i, t])

    # onboarding
    OB = [v for v, vd in enumerate(vendors) if vd["onboarding"] > 0 and not vd["has_installed"]]
    m.o = pyo.Var(OB, domain=pyo.Binary)
    OBI = [(v, i, t) for v in OB for i in vendors[v]["offers"] for t in range(T)]
    m.onboard = pyo.Constraint(OBI, rule=lambda m, v, i, t: m.k[i, t] <= offers[i]["M"][t] * m.o[v])

    # demand
    m.demand = pyo.Constraint(m.T, rule=lambda m, t: m.Ctot[t] >= demand[t])

    # power
    if data["power_cap"] is not None:
        cap = data["power_cap"]
        m.power = pyo.Constraint(
            m.T,
            rule=lambda m, t: pue * sum(offers[i]["power_kw"] * m.n[i, t] for i in m.I) <= 1e6 * cap[t],
        )

    # budgets
    if data["budget"] is not None:
        budget = data["budget"]
        m.budget = pyo.Constraint(
            m.T, rule=lambda m, t: sum(offers[i]["unit_cost"][t] * m.b[i, t] for i in m.I) <= budget[t]
        )
    if data["total_budget"] is not None:
        m.total_budget = pyo.Constraint(
            expr=sum(offers[i]["unit_cost"][t] * m.b[i, t] for i in m.I for t in m.T) <= float(data["total_budget"])
        )

    # share
    SH = [(v, t) for v, vd in enumerate(vendors) if vd["max_share"] < 1 for t in range(T)]
    m.share = pyo.Constraint(SH, rule=lambda m, v, t: m.C[v, t] <= vendors[v]["max_share"] * m.Ctot[t])

    # vendor count
    if data["min_vendors"] > 0:
        mvs = data["min_vendor_share"]
        m.w = pyo.Var(m.V, m.T, domain=pyo.Binary)
        m.vendor_supply = pyo.Constraint(m.V, m.T, rule=lambda m, v, t: m.C[v, t] >= mvs * demand[t] * m.w[v, t])
        m.vendor_count = pyo.Constraint(m.T, rule=lambda m, t: sum(m.w[v, t] for v in m.V) >= data["min_vendors"])

    # vendor loss
    if data["survive"] > 0:
        m.vendor_loss = pyo.Constraint(
            m.V, m.T, rule=lambda m, v, t: m.Ctot[t] - m.C[v, t] >= data["survive"] * demand[t]
        )

    # cost
    elec, onb = data["elec"], 8.76 * pue
    m.cost = pyo.Expression(
        expr=sum(
            d[t]
            * (
                offers[i]["unit_cost"][t] * m.b[i, t]
                + (offers[i]["opex"] + elec[t] * onb * offers[i]["power_kw"]) * m.n[i, t]
            )
            for i in m.I
            for t in m.T
        )
        + sum(vendors[v]["onboarding"] * m.o[v] for v in OB)
    )

    # scenarios and CVaR
    objective = m.cost
    if _uses_cvar(data):
        scen = data["scenarios"]
        m.S = pyo.Set(initialize=range(len(scen)))
        m.u = pyo.Var(m.S, m.T, domain=pyo.NonNegativeReals)
        m.shortfall = pyo.Constraint(
            m.S,
            m.T,
            rule=lambda m, s, t: m.u[s, t] >= demand[t] - sum(scen[s]["a"][v][t] * m.C[v, t] for v in m.V),
        )
        m.loss = pyo.Expression(m.S, rule=lambda m, s: sum(d[t] * data["penalty"] * m.u[s, t] for t in m.T))
        m.eta = pyo.Var(domain=pyo.Reals)
        m.z = pyo.Var(m.S, domain=pyo.NonNegativeReals)
        m.z_nominal = pyo.Var(domain=pyo.NonNegativeReals)
        m.excess = pyo.Constraint(m.S, rule=lambda m, s: m.z[s] >= m.loss[s] - m.eta)
        m.excess_nominal = pyo.Constraint(expr=m.z_nominal >= 0 - m.eta)
        p_nominal = 1.0 - sum(sc["probability"] for sc in scen)
        m.cvar = pyo.Expression(
            expr=m.eta
            + (sum(scen[s]["probability"] * m.z[s] for s in m.S) + p_nominal * m.z_nominal) / (1.0 - data["alpha"])
        )
        if data["max_cvar"] is not None:
            m.max_cvar = pyo.Constraint(expr=m.cvar <= data["max_cvar"])
        if data["risk_weight"] > 0:
            objective = m.cost + data["risk_weight"] * m.cvar

    m.obj = pyo.Objective(expr=objective, sense=pyo.minimize)
    return m


def solve_pyomo_peer(
    problem: Mapping[str, Any], *, mip_gap: float = 1e-4, threads: int = 1, time_limit: float | None = None
) -> dict[str, Any]:
    """Build the Pyomo peer and solve it with appsi_highs."""
    import pyomo.environ as pyo
    from pyomo.opt import TerminationCondition as TC

    start = time.perf_counter()
    m = pyomo_peer(problem)
    build = time.perf_counter() - start

    opt = pyo.SolverFactory("appsi_highs")
    opt.options["mip_rel_gap"] = mip_gap
    opt.options["threads"] = threads
    if time_limit is not None:
        opt.options["time_limit"] = float(time_limit)
    start = time.perf_counter()
    results = opt.solve(m, load_solutions=False)
    solve = time.perf_counter() - start

    tc = results.solver.termination_condition
    has_solution = len(results.solution) > 0
    if has_solution:
        m.solutions.load_from(results)
    if tc == TC.optimal:
        status = "optimal"
    elif tc in (TC.infeasible,):
        status = "infeasible"
    elif tc in (TC.unbounded, TC.infeasibleOrUnbounded):
        status = "unbounded" if tc == TC.unbounded else "infeasible"
    elif has_solution:
        status = "feasible"
    else:
        status = "error"
    out = {
        "build_seconds": build,
        "solve_seconds": solve,
        "objective": float(pyo.value(m.obj)) if has_solution else math.nan,
        "status": status,
    }
    try:  # the HiGHS model appsi built (original, before HiGHS presolve)
        lp = opt._solver_model.getLp()
        out["columns"] = int(lp.num_col_)
        out["rows"] = int(lp.num_row_)
        out["nnz"] = int(lp.a_matrix_.start_[-1]) if lp.num_col_ else 0
        if has_solution:  # HiGHS's dual bound where it stopped (objective offset included)
            out["bound"] = float(opt._solver_model.getInfo().mip_dual_bound)
    except Exception:  # pragma: no cover - private attribute of appsi
        pass
    return out


# --------------------------------------------------------------------------
# PuLP
# --------------------------------------------------------------------------


def pulp_peer(problem: Mapping[str, Any]):
    """The model as a PuLP LpProblem (see the module docstring)."""
    import pulp

    data = _read(problem)
    offers, vendors, T = data["offers"], data["vendors"], data["T"]
    demand, d, pue = data["demand"], data["d"], data["pue"]
    I, V, TT = range(len(offers)), range(len(vendors)), range(T)

    prob = pulp.LpProblem(str(problem.get("name", "plan")).replace(" ", "_"), pulp.LpMinimize)
    k = {
        (i, t): pulp.LpVariable(f"k_{i}_{t}", lowBound=0, upBound=offers[i]["kmax"][t], cat="Integer")
        for i in I
        for t in TT
    }
    b = {(i, t): offers[i]["lot"] * k[i, t] for i in I for t in TT}
    n = {
        (i, t): pulp.lpSum(b[i, tau] for tau in _purchase_periods(offers[i], t)) + _installed(offers[i], t)
        for i in I
        for t in TT
    }
    C = {(v, t): pulp.LpVariable(f"C_{v}_{t}", lowBound=0) for v in V for t in TT}
    Ctot = {t: pulp.lpSum(C[v, t] for v in V) for t in TT}
    for v in V:
        for t in TT:
            fleet = pulp.lpSum(offers[i]["compute"] * n[i, t] for i in vendors[v]["offers"])
            prob += C[v, t] == fleet, f"compute_{v}_{t}"

    # min_order
    for i, o in enumerate(offers):
        if o["min_order"] > 0:
            for t in TT:
                y = pulp.LpVariable(f"y_{i}_{t}", cat="Binary")
                prob += k[i, t] >= math.ceil(o["min_order"] / o["lot"]) * y, f"min_order_lo_{i}_{t}"
                prob += k[i, t] <= o["M"][t] * y, f"min_order_hi_{i}_{t}"

    # onboarding
    onboard = {}
    for v, vd in enumerate(vendors):
        if vd["onboarding"] > 0 and not vd["has_installed"]:
            onboard[v] = pulp.LpVariable(f"o_{v}", cat="Binary")
            for i in vd["offers"]:
                for t in TT:
                    prob += k[i, t] <= offers[i]["M"][t] * onboard[v], f"onboard_{v}_{i}_{t}"

    for t in TT:
        prob += Ctot[t] >= demand[t], f"demand_{t}"
    if data["power_cap"] is not None:
        for t in TT:
            prob += (
                pue * pulp.lpSum(offers[i]["power_kw"] * n[i, t] for i in I) <= 1e6 * data["power_cap"][t],
                f"power_{t}",
            )
    if data["budget"] is not None:
        for t in TT:
            prob += pulp.lpSum(offers[i]["unit_cost"][t] * b[i, t] for i in I) <= data["budget"][t], f"budget_{t}"
    if data["total_budget"] is not None:
        prob += (
            pulp.lpSum(offers[i]["unit_cost"][t] * b[i, t] for i in I for t in TT) <= float(data["total_budget"]),
            "total_budget",
        )
    for v, vd in enumerate(vendors):
        if vd["max_share"] < 1:
            for t in TT:
                prob += C[v, t] <= vd["max_share"] * Ctot[t], f"share_{v}_{t}"
    if data["min_vendors"] > 0:
        for t in TT:
            w = {v: pulp.LpVariable(f"w_{v}_{t}", cat="Binary") for v in V}
            for v in V:
                prob += C[v, t] >= data["min_vendor_share"] * demand[t] * w[v], f"vendor_supply_{v}_{t}"
            prob += pulp.lpSum(w.values()) >= data["min_vendors"], f"vendor_count_{t}"
    if data["survive"] > 0:
        for v in V:
            for t in TT:
                prob += Ctot[t] - C[v, t] >= data["survive"] * demand[t], f"vendor_loss_{v}_{t}"

    elec, onb = data["elec"], 8.76 * pue
    cost = pulp.lpSum(
        d[t]
        * (offers[i]["unit_cost"][t] * b[i, t] + (offers[i]["opex"] + elec[t] * onb * offers[i]["power_kw"]) * n[i, t])
        for i in I
        for t in TT
    ) + pulp.lpSum(vendors[v]["onboarding"] * onboard[v] for v in onboard)

    objective = cost
    if _uses_cvar(data):
        scen = data["scenarios"]
        eta = pulp.LpVariable("eta")
        z_nominal = pulp.LpVariable("z_nominal", lowBound=0)
        prob += z_nominal >= -eta, "excess_nominal"
        z = {}
        for s, sc in enumerate(scen):
            u = {t: pulp.LpVariable(f"u_{s}_{t}", lowBound=0) for t in TT}
            for t in TT:
                prob += (
                    u[t] >= demand[t] - pulp.lpSum(sc["a"][v][t] * C[v, t] for v in V),
                    f"shortfall_{s}_{t}",
                )
            loss = pulp.lpSum(d[t] * data["penalty"] * u[t] for t in TT)
            z[s] = pulp.LpVariable(f"z_{s}", lowBound=0)
            prob += z[s] >= loss - eta, f"excess_{s}"
        p_nominal = 1.0 - sum(sc["probability"] for sc in scen)
        cvar = eta + (1.0 / (1.0 - data["alpha"])) * (
            pulp.lpSum(sc["probability"] * z[s] for s, sc in enumerate(scen)) + p_nominal * z_nominal
        )
        if data["max_cvar"] is not None:
            prob += cvar <= data["max_cvar"], "max_cvar"
        if data["risk_weight"] > 0:
            objective = cost + data["risk_weight"] * cvar

    prob += objective
    return prob


def solve_pulp_peer(
    problem: Mapping[str, Any], *, mip_gap: float = 1e-4, threads: int = 1, time_limit: float | None = None
) -> dict[str, Any]:
    """Build the PuLP peer and solve it with PuLP's bundled CBC."""
    import pulp

    start = time.perf_counter()
    prob = pulp_peer(problem)
    build = time.perf_counter() - start

    solver = pulp.PULP_CBC_CMD(msg=False, gapRel=mip_gap, threads=threads, timeLimit=time_limit)
    start = time.perf_counter()
    prob.solve(solver)
    solve = time.perf_counter() - start

    sol = prob.sol_status
    if prob.status == pulp.LpStatusOptimal and sol == pulp.LpSolutionOptimal:
        status = "optimal"
    elif sol == pulp.LpSolutionIntegerFeasible or (prob.status == pulp.LpStatusOptimal):
        status = "feasible"
    elif prob.status == pulp.LpStatusInfeasible:
        status = "infeasible"
    elif prob.status == pulp.LpStatusUnbounded:
        status = "unbounded"
    else:
        status = "error"
    objective = pulp.value(prob.objective) if status in ("optimal", "feasible") else None
    return {
        "build_seconds": build,
        "solve_seconds": solve,
        "objective": float(objective) if objective is not None else math.nan,
        "status": status,
        "columns": prob.numVariables(),
        "rows": prob.numConstraints(),
        # PuLP keeps explicit zero coefficients (e.g. C[v] - C[t] terms that cancel); count true nonzeros.
        "nnz": sum(1 for c in prob.constraints.values() for a in c.values() if a != 0),
    }


# --------------------------------------------------------------------------
# Pyomo model, MPS file, CBC binary
# --------------------------------------------------------------------------

#: the CBC binaries tried, in order: Debian's coinor-cbc, then the one PuLP bundles
CBC_PATHS = ("/usr/bin/cbc",)


def cbc_binary() -> str:
    """The CBC binary the ``cbc`` peer runs: ``$PROCURE_BENCH_CBC``, else `CBC_PATHS`, else PuLP's."""
    import os
    import shutil

    chosen = os.environ.get("PROCURE_BENCH_CBC")
    if chosen:
        return chosen
    for path in CBC_PATHS:
        if os.path.exists(path):
            return path
    found = shutil.which("cbc")
    if found:
        return found
    import pulp

    return os.path.realpath(pulp.apis.PULP_CBC_CMD().path)


#: the start of CBC's final "Result - ..." line → status
_CBC_RESULT = {
    "Optimal solution found": "optimal",
    "Stopped on": "feasible",  # time limit, iterations or time, ... (without a plan: "error")
    "Problem proven infeasible": "infeasible",
    "Linear relaxation infeasible": "infeasible",
    "Linear relaxation unbounded": "unbounded",
    "Problem proven unbounded": "unbounded",
}


def _cbc_float(text: str, label: str) -> float:
    import re

    found = re.findall(rf"^{re.escape(label)}\s+([-+0-9.eE]+|inf|-inf|nan)", text, flags=re.MULTILINE)
    return float(found[-1]) if found else math.nan


def solve_cbc_peer(
    problem: Mapping[str, Any],
    *,
    mip_gap: float = 1e-4,
    threads: int = 1,
    time_limit: float | None = None,
    cbc: str | None = None,
) -> dict[str, Any]:
    """Build the Pyomo peer, write it to MPS and solve it with the CBC binary (module docstring)."""
    import re
    import subprocess
    import tempfile
    from pathlib import Path

    import pyomo.environ as pyo

    cbc = cbc or cbc_binary()
    start = time.perf_counter()
    m = pyomo_peer(problem)
    built = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="cbc-peer-"))
    mps, sol = folder / "model.mps", folder / "model.sol"
    _, smap_id = m.write(str(mps), format="mps", io_options={"symbolic_solver_labels": False})
    # Pyomo writes free MPS; CBC reads a file as free only when its NAME card says FREE (else
    # short names at fixed-format positions are misread: "No match for column 0 at line ...")
    text = mps.read_text()
    head, _, rest = text.partition("\nNAME ")
    name, _, rest = rest.partition("\n")
    mps.write_text(f"{head}\nNAME {name.split()[0] if name.split() else 'model'} FREE\n{rest}")
    build = time.perf_counter() - start
    write = time.perf_counter() - built

    options = ["-ratioGap", repr(float(mip_gap))]
    if threads > 1:
        options += ["-threads", str(int(threads))]
    if time_limit is not None:
        options += ["-seconds", repr(float(time_limit)), "-timeMode", "elapsed"]
    command = [cbc, str(mps), *options, "-solve", "-solution", str(sol)]
    start = time.perf_counter()
    ran = subprocess.run(
        command, capture_output=True, text=True, timeout=None if time_limit is None else 2 * time_limit + 120
    )
    solve = time.perf_counter() - start
    log = ran.stdout

    result = re.findall(r"^Result - (.*)$", log, flags=re.MULTILINE)
    if result:  # e.g. "Optimal solution found (within gap tolerance)"
        said = result[-1].strip()
        status = next((v for k, v in _CBC_RESULT.items() if said.startswith(k)), "error")
    elif re.search(r"^Problem is infeasible", log, flags=re.MULTILINE):  # found before the search
        status, result = "infeasible", ["Problem is infeasible"]
    else:
        status = "error"
    objective = _cbc_float(log, "Objective value:")
    if status == "feasible" and not math.isfinite(objective):
        status = "error"  # stopped before any plan
    if status in ("infeasible", "unbounded", "error"):
        objective = math.nan
    check = math.nan
    if math.isfinite(objective) and sol.exists():
        # the Pyomo objective at CBC's solution: variables not listed are zero
        symbols = m.solutions.symbol_map[smap_id].bySymbol
        for var in m.component_data_objects(pyo.Var):
            var.set_value(0, skip_validation=True)
        for line in sol.read_text().splitlines()[1:]:
            parts = line.split()
            if len(parts) >= 3 and parts[1] in symbols:
                symbols[parts[1]].set_value(float(parts[2]), skip_validation=True)
        check = float(pyo.value(m.obj))
    version = re.search(r"^Version: (\S+)", log, flags=re.MULTILINE)
    out = {
        "build_seconds": build,
        "write_seconds": write,
        "solve_seconds": solve,
        "objective": objective,
        "objective_check": check,
        "status": status,
        "cbc": cbc,
        "cbc_version": version.group(1) if version else None,
        "cbc_options": options,
        "cbc_result": result[-1].strip() if result else (ran.stderr or log)[-500:],
        "cbc_seconds": _cbc_float(log, "Total time (CPU seconds):"),
        "best_possible": _cbc_float(log, "Lower bound:"),
        "nodes": _cbc_float(log, "Enumerated nodes:"),
    }
    size = re.search(r"^Problem \S+ has (\d+) rows, (\d+) columns and (\d+) elements", log, flags=re.MULTILINE)
    if size:  # the model as CBC read it, before its preprocessing
        out.update(rows=int(size.group(1)), columns=int(size.group(2)), nnz=int(size.group(3)))
    out["mps_bytes"] = mps.stat().st_size
    mps.unlink()
    sol.unlink(missing_ok=True)
    folder.rmdir()
    return out


# --------------------------------------------------------------------------
# Smoke run
# --------------------------------------------------------------------------

if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from generate import generate

    # With two vendors, the generator's risk.max_share = 0.4 makes the first two
    # infeasible (2 x 0.4 < 1): both peers must say so.  The third is feasible.
    for label, problem in [
        ("generate(2, 3, 4, seed=0)", generate(2, 3, 4, seed=0)),
        ("generate(2, 3, 4, seed=0, scenarios=10)", generate(2, 3, 4, seed=0, scenarios=10)),
        ("generate(3, 3, 4, seed=0, scenarios=10)", generate(3, 3, 4, seed=0, scenarios=10)),
    ]:
        print(label)
        peers = [("pyomo+highs", solve_pyomo_peer), ("pulp+cbc", solve_pulp_peer), ("pyomo+cbc", solve_cbc_peer)]
        for peer, solve_peer in peers:
            r = solve_peer(problem)
            print(
                f"  {peer:12s} {r['status']:9s} objective {r['objective']:.6f}  "
                f"build {r['build_seconds']:.3f}s  solve {r['solve_seconds']:.3f}s  "
                f"({r.get('columns')} columns, {r.get('rows')} rows, {r.get('nnz')} nnz)"
            )
