"""Contract v2 (unserved demand, power build-out, demand scenarios): procure against the
independent reference in tests/reference, written from the spec alone.

- every plan passes the reference checker (non-anticipativity included) and costs what it says;
- the optimum equals the optimum of the reference's PuLP + CBC extensive form (to 1e-6);
- tiny instances agree with the reference's brute-force enumeration.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from reference import checker, pulp_model
from reference.bruteforce import brute_force_plan
from reference.strategies import problems, tiny_problems

import procure

REL = 1e-6

V2 = st.one_of(
    problems(unserved=True),
    problems(power_build=True),
    problems(power_build=True, sites=True),
    problems(demand_scenarios=True),
    problems(demand_scenarios=True, unserved=True, power_build=True),
    problems(demand_scenarios=True, workloads=True, unserved=True),
    problems(demand_scenarios=True, sites=True, power_build=True, commercial=True),
)
TINY_V2 = st.one_of(
    tiny_problems(unserved=True),
    tiny_problems(power_build=True),
    tiny_problems(demand_scenarios=True),
    tiny_problems(demand_scenarios=True, power_build=True, unserved=True),
)


def _plan(result: procure.Result) -> tuple[Any, Any]:
    """The result's purchases and builds in the checker's forms (per scenario for a tree)."""
    if isinstance(result, procure.TreeResult):
        parts = result.scenario_results
        return {n: r.by_site for n, r in parts.items()}, {n: r.power_build for n, r in parts.items()}
    return result.by_site, result.power_build


def _split(result: procure.Result) -> Any:
    if isinstance(result, procure.TreeResult) or result.problem.workloads is None:
        return None
    out: dict[str, dict[str, dict[int, float]]] = {}
    for row in result.split.itertuples(index=False):
        out.setdefault(row.offer, {}).setdefault(row.workload, {})[int(row.period)] = float(row.units)
    return out


def _close(a: float, b: float, rel: float = REL) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(V2)
def test_v2_plans_pass_the_independent_checker_and_match_the_reference_optimum(problem: dict[str, Any]) -> None:
    result = procure.solve(problem, mip_gap=0)
    reference = pulp_model.solve_reference_plan(problem, time_limit=pulp_model.ORACLE_SECONDS)
    assume(reference.status in ("optimal", "infeasible"))  # CBC proved its answer
    assert result.status == reference.status, (result.status, result.message, reference.status)
    if result.status != "optimal":
        return
    purchases, builds = _plan(result)
    assert checker.violations(problem, purchases, _split(result), builds=builds) == []
    if not isinstance(result, procure.TreeResult) and problem.get("workloads") is None:
        assert _close(checker.cost(problem, purchases, builds=builds), result.cost, 1e-9)
        assert _close(checker.objective(problem, purchases, builds=builds), result.objective, 1e-9)
    if isinstance(result, procure.TreeResult) and problem["demand_scenarios"][0].get("workloads") is None:
        assert _close(checker.objective(problem, purchases, builds=builds), result.objective, 1e-9)
    assert reference.objective is not None
    assert _close(result.objective, reference.objective), (result.objective, reference.objective)
    assert result.check() == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TINY_V2)
def test_v2_tiny_problems_against_brute_force(problem: dict[str, Any]) -> None:
    agrees_with_brute_force(problem)


def agrees_with_brute_force(problem: dict[str, Any]) -> None:
    """procure's optimum (or infeasibility) is the brute-force enumeration's."""
    want, _, _ = brute_force_plan(problem, max_lots=3)
    result = procure.solve(problem, mip_gap=0)
    if want is None:
        assert result.status == "infeasible", result.message
        return
    assert result.status == "optimal", result.message
    assert _close(result.objective, want), (result.objective, want)


def test_the_tree_tables_have_a_scenario_level() -> None:
    problem = {
        "periods": [2026, 2027],
        "demand_scenarios": [
            {"name": "a", "probability": 0.5, "demand": {"2026": 1, "2027": 1}},
            {"name": "b", "probability": 0.5, "demand": {"2026": 1, "2027": 3}},
        ],
        "offers": [{"name": "chip", "vendor": "v", "unit_cost": 10.0, "compute": 1.0}],
    }
    result = procure.solve(problem)
    assert isinstance(result.purchases.index, pd.MultiIndex)
    assert result.purchases.index.names == ["scenario", "period"]
    assert result.purchases.loc[("b", 2027), "chip"] == 2
    purchases, builds = _plan(result)
    assert checker.nonanticipativity_violations(problem, purchases, builds=builds) == []
