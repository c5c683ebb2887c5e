"""Contract v3's capacity options (top-level ``options``): procure against the independent
reference in tests/reference, written from the spec (and the decisions procure documents where
the spec is silent) alone.

- the hand-computed optima of tests/test_reference_options.py;
- every plan (purchases, builds and options: ``result.options``, per site
  ``result.evaluation.exercised``) passes the reference checker, and the optimum equals the
  reference's PuLP + CBC optimum (to 1e-6): options alone, with sites, with demand trees, with
  commercial terms;
- tiny instances agree with the reference's brute-force enumeration;
- invalid options are refused with the error the reference expects.

Two cases procure once got wrong are kept as regressions (a window bound at the period labelled
0; units only an option supplies, powered by a build).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from reference import checker, pulp_model
from reference.bruteforce import brute_force_options_plan
from reference.strategies import invalid_problems, problems, tiny_problems
from test_reference_options import BUILD_FOR_OPTIONS, HAND_OPTIMA, PERIOD_ZERO
from test_v2_against_reference import _close, _plan, _split

import procure


def _options_of(result: procure.Result) -> dict[str, Any]:
    """One path's options in the checker's mapping form, from ``result.evaluation.exercised``
    (option × placement × period) and ``result.options`` (reserved), checking that the table's
    per-period columns are the exercised units summed over sites."""
    problem = result.problem
    table = result.options
    periods = list(problem.periods)
    sites = [s.name for s in problem.sites]
    exercised = result.evaluation.exercised
    out: dict[str, Any] = {}
    for j, x in enumerate(problem.options):
        by_site: dict[str, dict[int, float]] = {}
        for k, (i, s) in enumerate(problem.placements()):
            units = [float(u) for u in exercised[j, k, :]]
            if problem.offers[i].name != x.offer:
                assert not any(units), (x.name, problem.offers[i].name, units)  # only at the option's offer
                continue
            site = sites[s] if sites else ""
            row = by_site.setdefault(site, dict.fromkeys(periods, 0.0))
            for period, u in zip(periods, units):
                row[period] += u
        total = {period: sum(row[period] for row in by_site.values()) for period in periods}
        assert [float(table.loc[x.name, period]) for period in periods] == pytest.approx(list(total.values()))
        assert float(table.loc[x.name, "exercised"]) == pytest.approx(sum(total.values()))
        assert table.loc[x.name, "offer"] == x.offer
        out[x.name] = {"reserved": float(table.loc[x.name, "reserved"]), "exercised": by_site if sites else total}
    return out


def _option_plan(result: procure.Result) -> Any:
    """The result's options in the checker's form (per scenario for a tree)."""
    if isinstance(result, procure.TreeResult):
        plan = {name: _options_of(part) for name, part in result.scenario_results.items()}
        for (name, option), reserved in result.options["reserved"].items():  # the tree's own table agrees
            assert plan[name][option]["reserved"] == pytest.approx(float(reserved))
        return plan
    return _options_of(result)


def _assert_agrees(problem: dict[str, Any], result: procure.Result, status: str, objective: float | None) -> None:
    """procure's answer is the reference's: the same status and, with a plan, the same optimum;
    the plan passes the reference checker, which prices it as procure does."""
    assert result.status == status, (result.status, result.message, status)
    if status != "optimal":
        return
    assert objective is not None
    assert _close(result.objective, objective), (result.objective, objective)
    assert result.check() == []
    purchases, builds = _plan(result)
    options = _option_plan(result)
    assert checker.violations(problem, purchases, _split(result), builds=builds, options=options) == []
    if problem.get("workloads") is None and not isinstance(result, procure.TreeResult):
        assert _close(checker.cost(problem, purchases, builds=builds, options=options), result.cost, 1e-9)
    if problem.get("workloads") is None:
        objective = checker.objective(problem, purchases, builds=builds, options=options)
        assert _close(objective, result.objective, 1e-9), (objective, result.objective)


#: The hand-computed optima, and two cases procure once got wrong (checked by hand in
#: tests/test_reference_options.py): an option window bound at the period labelled 0 (read as
#: absent), and units only an option supplies powered by a build (the build's bound left them out).
CASES = [
    *(pytest.param(*HAND_OPTIMA[case], id=case) for case in HAND_OPTIMA),
    *(pytest.param(*PERIOD_ZERO[case], id=case) for case in PERIOD_ZERO),
    *(pytest.param(*BUILD_FOR_OPTIONS[case], id=f"build-{case}") for case in BUILD_FOR_OPTIONS),
]


@pytest.mark.parametrize(("problem", "want"), CASES)
def test_hand_computed_optima(problem: dict[str, Any], want: float) -> None:
    _assert_agrees(problem, procure.solve(problem, mip_gap=0), "optimal", want)


FLAGS = [
    {},
    {"sites": True},
    {"demand_scenarios": True},
    {"commercial": True},
    {"commercial": True, "sites": True, "vendor_rules": True},
    {"demand_scenarios": True, "sites": True, "unserved": True},
    {"power_build": True},
    {"power_build": True, "sites": True},
]


@pytest.mark.parametrize("flags", FLAGS, ids=lambda f: "+".join(f) or "alone")
def test_options_plans_pass_the_independent_checker_and_match_the_reference_optimum(flags: dict[str, bool]) -> None:
    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(problems(options=True, **flags))
    def check(problem: dict[str, Any]) -> None:
        reference = pulp_model.solve_reference_plan(problem, time_limit=pulp_model.ORACLE_SECONDS)
        assume(reference.status in ("optimal", "infeasible"))  # CBC proved its answer
        _assert_agrees(problem, procure.solve(problem, mip_gap=0), reference.status, reference.objective)

    check()


@pytest.mark.parametrize("flags", FLAGS[:3], ids=lambda f: "+".join(f) or "alone")
def test_options_tiny_problems_against_brute_force(flags: dict[str, bool]) -> None:
    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(tiny_problems(options=True, **flags))
    def check(problem: dict[str, Any]) -> None:
        want = brute_force_options_plan(problem, max_lots=3)[0]
        status = "infeasible" if want is None else "optimal"
        _assert_agrees(problem, procure.solve(problem, mip_gap=0), status, want)

    check()


@settings(max_examples=150)
@given(invalid_problems(options=True))
def test_invalid_options_raise_problem_error(case: tuple[dict[str, Any], str]) -> None:
    problem, fragment = case
    with pytest.raises(procure.ProblemError, match=re.escape(fragment)):
        procure.solve(problem)
