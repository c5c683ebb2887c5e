"""Contract v3's vendor rules (``min_share``, ``max_new_compute``): procure against the
independent reference in tests/reference, written from the spec alone.

- every plan passes the reference checker and the optimum equals the reference's PuLP + CBC
  optimum (to 1e-6), alone and with sites, workloads, commercial terms and demand trees;
- tiny instances agree with the reference's brute-force enumeration;
- invalid vendor rules are refused with the error the reference expects.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from reference import checker, pulp_model
from reference.strategies import invalid_problems, problems, tiny_problems
from test_v2_against_reference import _close, _plan, _split, agrees_with_brute_force

import procure

V3 = st.one_of(
    problems(vendor_rules=True),
    problems(vendor_rules=True, sites=True),
    problems(vendor_rules=True, workloads=True),
    problems(vendor_rules=True, commercial=True, scenarios=True),
    problems(vendor_rules=True, demand_scenarios=True),
    problems(vendor_rules=True, unserved=True, power_build=True),
)
TINY_V3 = st.one_of(tiny_problems(vendor_rules=True), tiny_problems(vendor_rules=True, demand_scenarios=True))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(V3)
def test_v3_plans_pass_the_independent_checker_and_match_the_reference_optimum(problem: dict[str, Any]) -> None:
    result = procure.solve(problem, mip_gap=0)
    reference = pulp_model.solve_reference_plan(problem, time_limit=pulp_model.ORACLE_SECONDS)
    assume(reference.status in ("optimal", "infeasible"))  # CBC proved its answer
    assert result.status == reference.status, (result.status, result.message, reference.status)
    if result.status != "optimal":
        return
    purchases, builds = _plan(result)
    assert checker.violations(problem, purchases, _split(result), builds=builds) == []
    assert reference.objective is not None
    assert _close(result.objective, reference.objective), (result.objective, reference.objective)
    assert result.check() == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TINY_V3)
def test_v3_tiny_problems_against_brute_force(problem: dict[str, Any]) -> None:
    agrees_with_brute_force(problem)


@settings(max_examples=100)
@given(invalid_problems(vendor_rules=True))
def test_invalid_vendor_rules_raise_problem_error(case: tuple[dict[str, Any], str]) -> None:
    problem, fragment = case
    with pytest.raises(procure.ProblemError) as info:
        procure.solve(problem)
    assert fragment in str(info.value)
