"""procure against the independent reference tools in tests/reference (written from the spec alone).

- every plan passes the reference checker, and its cost is the reference cost;
- the optimum equals the optimum of a separate PuLP + CBC model of the spec (test_honest.py);
- tiny instances agree with brute-force enumeration;
- loosening any constraint never raises the optimum;
- random invalid input raises ProblemError naming the field, and nothing else.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from reference import checker
from reference.bruteforce import brute_force
from reference.strategies import invalid_problems, problems, tiny_problems

import procure
from procure.model.risk import HHI_TOL

REL = 1e-6


def _close(a: float, b: float, rel: float = REL) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-6)


LINEAR_FEATURES = st.one_of(
    problems(),
    problems(scenarios=True),
    problems(commercial=True),
    problems(sites=True),
    problems(workloads=True),
    problems(commercial=True, sites=True),
    problems(commercial=True, sites=True, workloads=True, scenarios=True),
)
ALL_FEATURES = st.one_of(LINEAR_FEATURES, problems(scenarios=True, hhi=True))


def _split(result: procure.Result) -> dict[str, dict[str, dict[int, float]]] | None:
    """The result's workload split in the reference's format."""
    if result.problem.workloads is None:
        return None
    out: dict[str, dict[str, dict[int, float]]] = {}
    for row in result.split.itertuples(index=False):
        out.setdefault(row.offer, {}).setdefault(row.workload, {})[int(row.period)] = float(row.units)
    return out


@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow])
@given(ALL_FEATURES)
def test_plans_pass_the_independent_checker(problem: dict[str, Any]) -> None:
    result = procure.solve(problem, mip_gap=0)
    assert result.status in ("optimal", "infeasible")
    if result.status == "optimal":
        plan = result.by_site
        assert checker.violations(problem, plan, _split(result), hhi_tol=HHI_TOL) == []
        assert _close(checker.cost(problem, plan), result.cost, 1e-9)
        assert _close(checker.objective(problem, plan), result.objective, 1e-9)
        assert result.check() == []
        if not result.problem.sites:
            fleet = checker.fleet(problem, result.purchases)
            for offer in result.fleet.columns:
                assert [fleet[offer][p] for p in result.fleet.index] == pytest.approx(result.fleet[offer].tolist())


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        tiny_problems(scenarios=True),
        tiny_problems(commercial=True),
        tiny_problems(sites=True),
        tiny_problems(workloads=True),
    )
)
def test_tiny_instances_match_brute_force(problem: dict[str, Any]) -> None:
    best, _ = brute_force(problem, max_lots=_max_lots(problem))
    result = procure.solve(problem, mip_gap=0)
    if best is None:
        assert result.status == "infeasible"
    else:
        assert result.status == "optimal"
        assert _close(result.objective, best), (result.objective, best)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems(scenarios=True, hhi=True))
def test_tiny_hhi_instances_match_brute_force_within_tolerance(problem: dict[str, Any]) -> None:
    """HHI is bounded by tangent cuts: the plan may use HHI_TOL of slack on max_hhi, and its
    objective is within hhi_weight · Σ_t d_t · HHI_TOL of the exact optimum."""
    best, _ = brute_force(problem, max_lots=_max_lots(problem))
    result = procure.solve(problem, mip_gap=0)
    if result.has_plan:
        assert checker.violations(problem, result.purchases, hhi_tol=HHI_TOL) == []
    if best is None:
        # only the tolerance on max_hhi can make a plan out of none
        assert result.status == "infeasible" or problem.get("risk", {}).get("max_hhi") is not None
        return
    assert result.status == "optimal"
    slack = problem.get("risk", {}).get("hhi_weight", 0) * len(problem["periods"]) * HHI_TOL
    assert result.objective <= best * (1 + REL) + slack + 1e-6
    if problem.get("risk", {}).get("max_hhi") is None:
        assert result.objective >= best * (1 - REL) - 1e-6


def _max_lots(problem: dict[str, Any]) -> int:
    most = 0
    for offer in problem["offers"]:
        cap = offer.get("max_units", 0)
        values = cap.values() if isinstance(cap, dict) else [cap]
        most = max(most, max(int(v) // offer.get("lot_size", 1) for v in values))
    return most


LOOSEN = [
    "power_cap_gw",
    "budget",
    "total_budget",
    "max_units",
    "max_share",
    "vendor_share",
    "min_vendors",
    "min_vendor_share",
    "survive_vendor_loss",
    "demand",
    "min_order",
    "onboarding_cost",
]


def _loosen(problem: dict[str, Any], how: str) -> bool:
    """Loosen one constraint in place; False when the problem does not use it."""

    def scale(value: Any, factor: float) -> Any:
        if isinstance(value, dict):
            return {k: v * factor for k, v in value.items()}
        return value * factor

    risk = problem.setdefault("risk", {})
    if how in ("power_cap_gw", "budget", "total_budget") and how in problem:
        problem[how] = scale(problem[how], 1.5)
    elif how == "max_units" and any("max_units" in o for o in problem["offers"]):
        for offer in problem["offers"]:
            if "max_units" in offer:
                offer["max_units"] = scale(offer["max_units"], 2)
    elif how == "max_share" and risk.get("max_share", 1) < 1:
        risk["max_share"] = min(1.0, risk["max_share"] + 0.2)
    elif how == "vendor_share" and any("max_share" in v for v in problem.get("vendors", [])):
        for vendor in problem["vendors"]:
            vendor.pop("max_share", None)
            vendor["max_share"] = 1.0
    elif how == "min_vendors" and risk.get("min_vendors", 0) > 0:
        risk["min_vendors"] -= 1
    elif how == "min_vendor_share" and risk.get("min_vendors", 0) > 0:
        risk["min_vendor_share"] = risk.get("min_vendor_share", 0.1) / 2
    elif how == "survive_vendor_loss" and risk.get("survive_vendor_loss", 0) > 0:
        risk["survive_vendor_loss"] /= 2
    elif how == "demand":
        problem["demand"] = scale(problem["demand"], 0.7)
    elif how == "min_order" and any(o.get("min_order", 0) for o in problem["offers"]):
        for offer in problem["offers"]:
            offer["min_order"] = 0
    elif how == "onboarding_cost" and any(v.get("onboarding_cost", 0) for v in problem.get("vendors", [])):
        for vendor in problem["vendors"]:
            vendor["onboarding_cost"] = 0
    else:
        return False
    return True


@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.sampled_from(LOOSEN))
def test_loosening_never_raises_the_optimum(problem: dict[str, Any], how: str) -> None:
    looser = copy.deepcopy(problem)
    assume(_loosen(looser, how))
    before = procure.solve(problem, mip_gap=0)
    after = procure.solve(looser, mip_gap=0)
    if before.status == "optimal":
        assert after.status == "optimal"
        assert after.objective <= before.objective * (1 + REL) + 1e-6
    if after.status == "infeasible":
        assert before.status == "infeasible"


@settings(max_examples=200)
@given(invalid_problems())
def test_invalid_input_raises_problem_error(case: tuple[dict[str, Any], str]) -> None:
    problem, fragment = case
    with pytest.raises(procure.ProblemError) as info:
        procure.solve(problem)
    assert fragment in str(info.value)
