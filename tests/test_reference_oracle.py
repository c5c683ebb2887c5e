"""The test reference alone (tests/reference, no `procure`): its PuLP + CBC model against its own checker.

Every other comparison trusts this oracle, so it is tested on its own, over every family
of problems the strategies draw that the model supports (v1 linear features, commercial
terms, sites, workloads, supply scenarios; v2 unserved demand, power builds, demand
scenario trees -- HHI is not modelled): every plan the model returns (proven or not) passes
`checker.violations`, and the MIP's own objective at CBC's solution is the checker's
objective of the plan it reads back (equal at a proven optimum; an unproven plan's may
carry slack, so not below it).

This module must not import `procure`: a failure here is the reference's own.
"""

from __future__ import annotations

import copy
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from reference import checker, pulp_model, spec
from reference.strategies import problems, tiny_problems

FLAGS = ("scenarios", "commercial", "sites", "workloads", "unserved", "power_build", "demand_scenarios")


@st.composite
def oracle_problems(draw: st.DrawFn) -> dict[str, Any]:
    """A problem of any family (every combination of the strategies' flags but hhi), realistic or tiny."""
    flags = {f: draw(st.booleans()) for f in FLAGS}
    if draw(st.booleans()):
        return draw(tiny_problems(max_lots=3, **flags))
    return draw(problems(**flags))


def assert_oracle_consistent(problem: dict[str, Any]) -> pulp_model.ReferencePlan:
    """The reference's plan (if any) passes its checker, and its MIP objective is the checker's."""
    assert spec.validate(problem) == []
    plan = pulp_model.solve_reference_plan(problem, time_limit=pulp_model.ORACLE_SECONDS)
    assert plan.status in ("optimal", "infeasible", "not_solved"), plan
    if plan.status == "infeasible" or (plan.status == "not_solved" and plan.objective is None):
        assert plan.objective is None and plan.purchases == {}
        return plan
    assert plan.objective is not None and plan.model_objective is not None
    assert checker.violations(problem, plan.purchases, builds=plan.builds) == []
    recomputed = checker.objective(problem, plan.purchases, builds=plan.builds)
    assert math.isclose(plan.objective, recomputed, rel_tol=1e-9, abs_tol=1e-9)
    assert recomputed >= 0  # every cost and risk term is
    tol = 1e-6 * max(1.0, abs(recomputed))
    if plan.status == "optimal":
        assert abs(plan.model_objective - recomputed) <= tol, (plan.model_objective, recomputed)
    else:
        assert plan.model_objective >= recomputed - tol, (plan.model_objective, recomputed)
    return plan


#: Facility capex in the budget ("Power build-out"): a block of 1 kW costs 2 plus a fixed 2 in each
#: period a build starts, and counts in budget_t with the capex.  2026 needs 2 units (capex 4)
#: and, above the 1 kW cap, one block (facility 4): 8 <= 8.4; in 2027 "high" one more unit and
#: block (2 + 4).  Building more in 2026 breaks its budget: all 3 kW of the "high" path as if
#: there were no cap gives capex 4 + facility 8 > 8.4, the message a reviewer saw on a plan of
#: the reference.
BUDGET_AND_FACILITY: dict[str, Any] = {
    "periods": [2026, 2027],
    "offers": [{"name": "gpu", "vendor": "v", "unit_cost": 2, "compute": 1, "power_kw": 1}],
    "power_cap_gw": 1e-6,
    "power_build": {"cost_per_gw": 2e6, "block_gw": 1e-6, "fixed_cost": 2},
    "budget": 8.4,
    "demand_scenarios": [
        {"name": "low", "probability": 0.5, "demand": {"2026": 2, "2027": 2}},
        {"name": "high", "probability": 0.5, "demand": {"2026": 2, "2027": 3}},
    ],
}


def _variant(**changes: Any) -> dict[str, Any]:
    """BUDGET_AND_FACILITY with some fields changed (None: left out)."""
    problem = copy.deepcopy(BUDGET_AND_FACILITY)
    problem.update(changes)
    return {key: value for key, value in problem.items() if value is not None}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(oracle_problems())
@example(BUDGET_AND_FACILITY)
@example(_variant(demand_scenarios=None, demand={"2026": 2, "2027": 3}))  # one demand path
@example(_variant(power_build={"cost_per_gw": 2e6, "fixed_cost": 2}))  # continuous builds
@example(_variant(budget=None, total_budget=14.4))  # the same case on the horizon's budget
def test_reference_plans_pass_the_reference_checker(problem: dict[str, Any]) -> None:
    assert_oracle_consistent(problem)


def test_facility_capex_and_fixed_cost_count_in_the_budget() -> None:
    plan = assert_oracle_consistent(BUDGET_AND_FACILITY)
    assert plan.status == "optimal" and plan.objective is not None
    assert math.isclose(plan.objective, 8 + 0.5 * 6, rel_tol=1e-9)
    assert plan.purchases == {"low": {"gpu": {2026: 2, 2027: 0}}, "high": {"gpu": {2026: 2, 2027: 1}}}
    assert plan.builds == {"low": {"": {2026: 1e-6, 2027: 0}}, "high": {"": {2026: 1e-6, 2027: 1e-6}}}
    # three blocks in 2026 (3 · 2 + 2): the message the reviewer saw
    early = {"": {2026: 3e-6, 2027: 0}}
    assert checker.violations(BUDGET_AND_FACILITY, plan.purchases, builds={"low": early, "high": early}) == [
        f"scenario[{name}]: budget[2026]: capex 4 + facility 8 > 8.4" for name in ("low", "high")
    ]
    # a budget of 8 still fits 2026 exactly; below it nothing does (facility counts, fixed cost included)
    assert pulp_model.solve_reference_plan(_variant(budget=8)).status == "optimal"
    assert pulp_model.solve_reference_plan(_variant(budget=7.99)).status == "infeasible"
    free = _variant(power_build={"cost_per_gw": 2e6, "block_gw": 1e-6})
    assert pulp_model.solve_reference_plan({**free, "budget": 6}).status == "optimal"  # 4 + 2 without the fixed cost


def test_the_oracle_runs_without_procure() -> None:
    """The reference (strategies, model, checker, brute force) and this module never import procure."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "import test_reference_oracle as t; from reference import bruteforce; "
        "t.assert_oracle_consistent(t.BUDGET_AND_FACILITY); "
        "assert not [m for m in sys.modules if m.split('.')[0] == 'procure'], 'procure imported'"
    )
    tests = Path(__file__).parent
    run = subprocess.run([sys.executable, "-c", code, str(tests)], capture_output=True, text=True, cwd=tests.parent)
    assert run.returncode == 0, run.stderr[-2000:]


def test_a_rejected_plan_says_whether_cbc_broke_the_model() -> None:
    """If the checker ever rejects the reference's plan, the error tells a solver fault (CBC's solution
    breaks the model's own rows, e.g. the budget row) from a model that reads the spec differently."""
    model, paths = pulp_model._build(spec.parse(BUDGET_AND_FACILITY), 1.0)
    model.m.solve(pulp_model.cbc_solver(options=pulp_model.CBC_OPTIONS))
    assert "keeps every row" in pulp_model._solution_faults(model.m)
    paths[0].build["", 0].varValue = 3  # three blocks in 2026: capex 4 + facility 8 > 8.4
    faults = pulp_model._solution_faults(model.m)
    assert "solver fault" in faults and "w0_budget_0: 12 vs 8.4" in faults, faults
