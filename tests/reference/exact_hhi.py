"""An exact reference for concentration (HHI): the spec's model in SCIP with quadratic HHI.

`solve_exact(problem, time_limit=10)` returns an `ExactPlan` (status, objective,
purchases, builds, bound).  It is independent of `procure`: the linear part is
the PuLP reference of the whole spec (`pulp_model`, built from `spec` alone),
translated variable by variable and row by row into a PySCIPOpt model, and the
spec's HHI is added as exact quadratic expressions:

- ``s[v,t] = C[v,t] / demand_t`` with ``C[v,t] = Σ_{i of v} compute_i · n[i,t]`` and
  ``n[i,t] = installed_i·[t < installed_life_i] + Σ_{τ+lead ≤ t < τ+lead+lifetime} b[i,τ]``
  (over sites), written here from the spec, with ``demand_t`` summed over workloads;
- ``h_t ≥ Σ_v s[v,t]²`` (a convex quadratic row; nothing caps a share at 1, nor h_t),
  periods with demand 0 left out;
- objective ``+= hhi_weight · d_t · h_t``; ``max_hhi``: ``h_t ≤ max_hhi``.

SCIP's feasibility tolerance is tightened from its default 1e-6 to `FEASTOL` (SCIP
measures it relative to a row's size): at 1e-6 a plan may serve demand short by a
millionth and beat the true optimum -- the regression false-bound-hhi-1194 was once
"disproved" by such a plan.  A plan SCIP returns is feasible to well within procure's
check (relative 1e-6).  The returned plan's objective is
recomputed from its rounded purchases with `checker.objective` and the plan is
checked with `checker.violations` (a RuntimeError if it fails).

Status: "optimal" (proved; gap 0), "infeasible", "timeout" (the time limit
stopped SCIP, whatever it had found: never passed off as an answer), "error".
Demand scenarios are not supported (NotImplementedError).  The heuristic lot bound
G of `pulp_model` is guarded as there: while a lot sits at a G-derived bound, the
model is solved again with G ×16.  (More compute than demand never lowers the HHI
term, since shares are of demand, so G's argument holds with HHI too.)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulp
from pyscipopt import Model, quicksum

from . import checker, pulp_model
from .spec import Problem, parse

#: Absolute feasibility tolerance of SCIP's rows (its default is 1e-6).
FEASTOL = 1e-8


@dataclass
class ExactPlan:
    """What `solve_exact` returns; purchases and builds in `checker`'s mapping forms."""

    status: str
    objective: float | None = None
    purchases: dict = field(default_factory=dict)
    builds: dict = field(default_factory=dict)
    bound: float | None = None  # SCIP's dual bound (proved optimum when "optimal")


def _translate(M: pulp_model._Model, scip: Model) -> tuple[dict[str, Any], Any]:
    """Every PuLP variable and row of ``M`` in ``scip``; returns ({name: SCIP var}, linear objective)."""
    var: dict[str, Any] = {}
    for v in M.m.variables():
        integer = v.cat == pulp.LpInteger
        lb = -scip.infinity() if v.lowBound is None else float(v.lowBound)
        ub = scip.infinity() if v.upBound is None else float(v.upBound)
        var[v.name] = scip.addVar(v.name, vtype="I" if integer else "C", lb=lb, ub=ub)
    rows = M.m.constraints
    # PuLP >= 3.3 lists its rows by calling ``constraints()`` (the mapping form is deprecated)
    listed = list(rows()) if callable(rows) else list(rows.values())
    for k, c in enumerate(listed):
        name = c.name or f"row_{k}"
        expr = quicksum(float(a) * var[x.name] for x, a in c.items())
        rhs = -float(c.constant)
        if c.sense == pulp.LpConstraintLE:
            scip.addCons(expr <= rhs, name=name)
        elif c.sense == pulp.LpConstraintGE:
            scip.addCons(expr >= rhs, name=name)
        else:
            scip.addCons(expr == rhs, name=name)
    obj = M.m.objective
    linear = quicksum(float(a) * var[x.name] for x, a in obj.items()) + float(obj.constant or 0.0)
    return var, linear


def _vendor_compute(p: Problem, k: dict, var: dict[str, Any]) -> dict[tuple[str, int], Any]:
    """{(vendor, t): C[v,t]} as SCIP expressions (spec: fleet windows, installed units)."""
    T = range(len(p.periods))
    out: dict[tuple[str, int], Any] = {}
    for v in p.vendors:
        for t in T:
            terms = []
            constant = 0.0
            for o in p.offers_of(v):
                if o.installed_life is None or t < o.installed_life:
                    constant += o.compute * o.installed
                for (name, _site, tau), kv in k.items():
                    if name != o.name:
                        continue
                    if tau + o.lead_time <= t and (o.lifetime is None or t < tau + o.lead_time + o.lifetime):
                        terms.append(o.compute * o.lot_size * var[kv.name])
            out[v, t] = quicksum(terms) + constant
    return out


def _add_hhi(p: Problem, scip: Model, path: Any, var: dict[str, Any]) -> Any:
    """The HHI rows of the spec; returns the objective term ``hhi_weight · Σ_t d_t · h_t``."""
    risk = p.risk
    C = _vendor_compute(p, path.k, var)
    term = []
    for t, period in enumerate(p.periods):
        d = p.demand[period]
        if d <= 0:
            continue
        shares = []
        for j, v in enumerate(p.vendors):
            s = scip.addVar(f"share_{j}_{t}", lb=0.0, ub=None)
            scip.addCons(d * s == C[v, t], name=f"share_{j}_{t}")
            shares.append(s)
        h = scip.addVar(f"hhi_{t}", lb=0.0, ub=None)
        scip.addCons(quicksum(s * s for s in shares) <= h, name=f"hhi_{t}")
        if risk.max_hhi is not None:
            scip.addCons(h <= risk.max_hhi, name=f"max_hhi_{t}")
        term.append(p.discount(t) * h)
    return risk.hhi_weight * quicksum(term)


def _solve_once(p: Problem, time_limit: float, factor: float) -> tuple[ExactPlan, bool]:
    """(plan, whether a lot sits at a G-derived bound)."""
    M, paths = pulp_model._build(p, factor)
    if M.trivially_infeasible:
        return ExactPlan("infeasible"), False
    uses_generous = any(g for path in paths for _, g in path.kmax.values())
    path = paths[0]
    scip = Model("procure_exact_hhi")
    scip.hideOutput()
    scip.setParam("limits/time", max(time_limit, 0.1))
    scip.setParam("limits/gap", 0.0)
    scip.setParam("limits/absgap", 0.0)
    scip.setParam("numerics/feastol", FEASTOL)
    scip.setParam("randomization/randomseedshift", 0)
    var, linear = _translate(M, scip)
    for kv in path.k.values():  # lots in no row of the PuLP model (bounded to 0 there) still count in C
        if kv.name not in var:
            ub = scip.infinity() if kv.upBound is None else float(kv.upBound)
            var[kv.name] = scip.addVar(kv.name, vtype="I", lb=float(kv.lowBound or 0.0), ub=ub)
    hhi = _add_hhi(p, scip, path, var)
    # SCIP takes a linear objective: the whole objective in one free variable
    z = scip.addVar("objective", lb=None, ub=None, obj=1.0)
    scip.addCons(z >= linear + hhi, name="objective")
    try:
        scip.optimize()
    except Exception:  # SCIP's own numerical failure: no answer to compare with
        return ExactPlan("error"), False
    status = scip.getStatus()
    if status == "infeasible":
        return ExactPlan("infeasible"), uses_generous
    if status in ("timelimit", "userinterrupt", "memlimit", "nodelimit", "gaplimit"):
        return ExactPlan("timeout"), False
    if status != "optimal" or scip.getNSols() == 0:
        return ExactPlan("error"), False
    sol = scip.getBestSol()
    for pv in M.m.variables():
        pv.varValue = scip.getSolVal(sol, var[pv.name])
    purchases, builds, at_generous = pulp_model._read_path(p, path)
    problems = checker.violations(p, purchases, builds=builds)
    if problems:
        raise RuntimeError(f"exact HHI reference returned a plan that breaks the spec: {problems}")
    objective = checker.objective(p, purchases, builds=builds)
    return ExactPlan("optimal", objective, purchases, builds, float(scip.getDualbound())), at_generous


def solve_exact(problem: Mapping[str, Any] | Problem, time_limit: float = 10.0) -> ExactPlan:
    """The spec's optimum with exact quadratic HHI, by SCIP; see the module docstring.
    ``time_limit`` is for the whole call (the G guard may solve more than once)."""
    import time

    p = parse(problem)
    if p.demand_scenarios:
        raise NotImplementedError("exact HHI reference: demand scenarios are not modelled")
    started = time.perf_counter()
    factor = 1.0
    plan, suspicious = _solve_once(p, time_limit, factor)
    while suspicious and plan.status in ("optimal", "infeasible"):
        factor *= 16.0
        if factor > 16.0**3:
            raise RuntimeError(f"generous big-M bound G still binding with G x {factor / 16:g}: {plan}")
        left = time_limit - (time.perf_counter() - started)
        if left <= 0:
            return ExactPlan("timeout")
        plan2, suspicious2 = _solve_once(p, left, factor)
        if plan2.status == "timeout":
            return plan2
        same = plan2.status == plan.status and (
            plan.objective is None
            or (
                plan2.objective is not None
                and abs(plan2.objective - plan.objective) <= 1e-7 * max(1.0, abs(plan.objective))
            )
        )
        if same:
            break
        plan, suspicious = plan2, suspicious2
    if plan.status == "optimal" and plan.objective is not None and not math.isfinite(plan.objective):
        return ExactPlan("error")
    return plan
