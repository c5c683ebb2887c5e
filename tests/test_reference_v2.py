"""Self-tests of the reference tools for contract v2's model sections.

"Unserved demand" (`unserved_penalty`), "Power build-out" (`power_build`) and
"Demand scenarios" (`demand_scenarios`, `risk.scenario_cvar_*`): hand-computed
cases for each rule, the PuLP model against the brute force on tiny instances,
checker(PuLP plan) on random problems, and the strategies against `validate`.
"""

from __future__ import annotations

import copy
import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

try:
    from tests.reference import bruteforce, checker, pulp_model, spec, strategies
except ImportError:  # pytest run with tests/ (not the repo root) on sys.path
    from reference import bruteforce, checker, pulp_model, spec, strategies


def close(a: float, b: float, rel: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


def _mw_offer(**fields) -> dict:
    """One unit = 1 compute drawing 1 MW (1000 kW) of IT power."""
    return {"name": "a", "vendor": "x", "unit_cost": 1e6, "compute": 1, "power_kw": 1000, **fields}


# --------------------------------------------------------------------------- #
# Power build-out: lead time, blocks, max_gw, fixed cost, budgets
# --------------------------------------------------------------------------- #
LEAD = {
    "periods": [2026, 2027, 2028, 2029],
    "demand": {"2026": 0, "2027": 0, "2028": 100, "2029": 100},
    "offers": [_mw_offer()],
    "power_build": {"cost_per_gw": {"2026": 20e9, "2027": 10e9, "2028": 10e9, "2029": 10e9}, "lead_time": 2},
}
LEAD_PLAN = {"a": {2028: 100}}  # 100 MW = 0.1 GW from 2028 on


def test_lead_time_two_makes_power_usable_two_periods_later():
    assert spec.validate(LEAD) == []
    # No power_cap_gw and a power_build: the given cap is 0, everything must be built.
    assert checker.power_capacity_gw(LEAD, {2026: 0.1}) == {"": {2026: 0, 2027: 0, 2028: 0.1, 2029: 0.1}}
    assert checker.power_capacity_gw(LEAD, {"": {2027: 0.1}}) == {"": {2026: 0, 2027: 0, 2028: 0, 2029: 0.1}}
    assert checker.violations(LEAD, LEAD_PLAN, builds={2026: 0.1}) == []
    # Started in 2027 it is usable only from 2029.
    assert checker.violations(LEAD, LEAD_PLAN, builds={2027: 0.1}) == [
        "power_cap[2028]: 0.1 GW > 0 GW (cap 0 + built 0)"
    ]
    # Facility capex: 20e9 $/GW · 0.1 GW in 2026 (discount rate 0), units 100 · 1e6.
    assert checker.facility_capex(LEAD, {2026: 0.1}) == {"": {2026: 2e9, 2027: 0, 2028: 0, 2029: 0}}
    assert close(checker.cost(LEAD, LEAD_PLAN, builds={2026: 0.1}), 2e9 + 1e8)
    # The optimum must start the build in 2026 (the dearer period).
    plan = pulp_model.solve_reference_plan(LEAD)
    assert plan.status == "optimal" and close(plan.objective, 2.1e9, 1e-7), plan
    assert plan.builds[""] == pytest.approx({2026: 0.1, 2027: 0, 2028: 0, 2029: 0})
    assert plan.purchases == {"a": {2026: 0, 2027: 0, 2028: 100, 2029: 0}}
    # A given cap of 0.04 GW (it moves into the built row) leaves 0.06 GW to build.
    capped = {**copy.deepcopy(LEAD), "power_cap_gw": 0.04}
    assert checker.power_capacity_gw(capped, {2026: 0.06})[""][2028] == pytest.approx(0.1)
    plan = pulp_model.solve_reference_plan(capped)
    assert close(plan.objective, 0.06 * 20e9 + 1e8, 1e-7) and plan.builds[""][2026] == pytest.approx(0.06)
    # Without the lead time the build starts when needed, at 10e9 $/GW.
    fast = copy.deepcopy(LEAD)
    fast["power_build"]["lead_time"] = 0
    assert close(pulp_model.solve_reference_plan(fast).objective, 1e9 + 1e8, 1e-7)


BLOCK = {
    "periods": [1, 2],
    "demand": {"1": 0, "2": 250},
    "offers": [_mw_offer()],
    "power_build": {"cost_per_gw": {"1": 12e9, "2": 10e9}, "block_gw": 0.1},
}


def test_blocks_of_a_tenth_of_a_gigawatt():
    assert spec.validate(BLOCK) == []
    plan = {"a": {2: 250}}  # 0.25 GW
    assert checker.violations(BLOCK, plan, builds={2: 0.3}) == []
    assert checker.violations(BLOCK, plan, builds={2: 0.25}) == [
        "power_build_block_gw[2]: 0.25 GW not a multiple of 0.1 GW"
    ]
    # (a negative build also lowers the ready capacity, as the formula says)
    assert checker.violations(BLOCK, plan, builds={1: -0.1, 2: 0.3}) == [
        "power_build_nonnegative[1]: -0.1 GW < 0",
        "power_cap[1]: 0 GW > -0.1 GW (cap 0 + built -0.1)",
        "power_cap[2]: 0.25 GW > 0.2 GW (cap 0 + built 0.2)",
    ]
    # 0.25 GW need 3 blocks: 0.3 GW at 10e9 $/GW in period 2, plus 250 units.
    r = pulp_model.solve_reference_plan(BLOCK)
    assert r.status == "optimal" and close(r.objective, 3e9 + 2.5e8, 1e-7)
    assert r.builds[""] == pytest.approx({1: 0, 2: 0.3})
    # Continuous builds: exactly 0.25 GW.
    cont = copy.deepcopy(BLOCK)
    del cont["power_build"]["block_gw"]
    r = pulp_model.solve_reference_plan(cont)
    assert close(r.objective, 2.5e9 + 2.5e8, 1e-7) and r.builds[""][2] == pytest.approx(0.25)
    # max_gw 0.25 a period: at most 2 whole blocks a period -> 0.1 GW in period 1 at 12e9.
    capped = copy.deepcopy(BLOCK)
    capped["power_build"]["max_gw"] = 0.25
    assert checker.violations(capped, plan, builds={2: 0.3}) == ["power_build_max_gw[2]: 0.3 GW > 0.25 GW"]
    r = pulp_model.solve_reference_plan(capped)
    assert close(r.objective, 1.2e9 + 2e9 + 2.5e8, 1e-7) and r.builds[""] == pytest.approx({1: 0.1, 2: 0.2})


def test_brute_force_with_blocks():
    # 25 units (25 MW) with 10 MW blocks: 3 blocks.  Tiny enough to enumerate.
    p = {
        "periods": [1, 2],
        "demand": {"1": 0, "2": 25},
        "offers": [{**_mw_offer(), "unit_cost": 1, "lot_size": 25, "max_units": 25}],
        "power_build": {"cost_per_gw": {"1": 12e9, "2": 10e9}, "block_gw": 0.01, "max_gw": 0.02},
    }
    value, purchases, builds = bruteforce.brute_force_plan(p, max_lots=1)
    assert close(value, 1.2e8 + 2e8 + 25)
    assert purchases == {"a": {1: 0, 2: 25}} and builds[""] == pytest.approx({1: 0.01, 2: 0.02})
    assert close(pulp_model.solve_reference_plan(p).objective, value, 1e-7)


FIXED = {
    "periods": [1, 2],
    "demand": {"1": 100, "2": 200},
    "offers": [_mw_offer(unit_cost=1)],
    "power_build": {"cost_per_gw": {"1": 20e9, "2": 10e9}, "fixed_cost": 5e9},
}


def test_fixed_cost_paid_once_per_build_period():
    assert spec.validate(FIXED) == []
    assert checker.facility_capex(FIXED, {1: 0.1, 2: 0.1}) == {"": {1: 2e9 + 5e9, 2: 1e9 + 5e9}}
    assert checker.facility_capex(FIXED, {1: 0.2}) == {"": {1: 4e9 + 5e9, 2: 0}}
    plan = {"a": {1: 100, 2: 100}}
    assert close(checker.cost(FIXED, plan, builds={1: 0.2}), 9e9 + 200)
    assert close(checker.cost(FIXED, plan, builds={1: 0.1, 2: 0.1}), 13e9 + 200)
    # One build of 0.2 GW (9e9) beats two of 0.1 GW (13e9).
    r = pulp_model.solve_reference_plan(FIXED)
    assert close(r.objective, 9e9 + 200, 1e-7) and r.builds[""] == pytest.approx({1: 0.2, 2: 0})
    # Without the fixed cost two builds are cheaper (3e9 < 4e9) ...
    free = copy.deepcopy(FIXED)
    del free["power_build"]["fixed_cost"]
    r = pulp_model.solve_reference_plan(free)
    assert close(r.objective, 3e9 + 200, 1e-7) and r.builds[""] == pytest.approx({1: 0.1, 2: 0.1})
    # ... and so they are when only period 1 has one (2e9 + 5e9 + 1e9 = 8e9 < 9e9).
    once = copy.deepcopy(FIXED)
    once["power_build"]["fixed_cost"] = {"1": 5e9, "2": 0}
    assert close(pulp_model.solve_reference_plan(once).objective, 8e9 + 200, 1e-7)


def test_facility_capex_counts_in_budgets_not_vendor_spend():
    plan = {"a": {1: 100, 2: 100}}
    p = {**copy.deepcopy(FIXED), "budget": {"1": 8e9, "2": 1e10}}
    assert checker.violations(p, plan, builds={1: 0.2}) == ["budget[1]: capex 100 + facility 9e+09 > 8e+09"]
    r = pulp_model.solve_reference_plan(p)  # the budget forces two builds
    assert close(r.objective, 13e9 + 200, 1e-7)
    p = {**copy.deepcopy(FIXED), "total_budget": 8e9}
    assert checker.violations(p, plan, builds={1: 0.2}) == ["total_budget: capex 200 + facility 9e+09 > 8e+09"]
    assert pulp_model.solve_reference_plan(p).status == "infeasible"
    # min_spend / max_spend compare vendor capex only.
    p = {**copy.deepcopy(FIXED), "vendors": [{"name": "x", "min_spend": 1000, "max_spend": 500}]}
    assert checker.take_or_pay(p, plan) == {"x": 800}
    assert checker.violations(p, plan, builds={1: 0.2}) == []
    assert close(checker.cost(p, plan, builds={1: 0.2}), 9e9 + 200 + 800)


def test_builds_only_where_there_is_a_power_build():
    p = {"periods": [1], "demand": 1, "offers": [_mw_offer()]}
    assert checker.violations(p, {"a": {1: 1}}, builds={1: 0.1}) == [
        "no_power_build[1]: 0.1 GW started where there is no power_build"
    ]
    assert pulp_model.solve_reference_plan(p).builds == {}


SITE_BUILD = {
    "periods": [1],
    "demand": 10,
    "power_cap_gw": 20e-6,
    "sites": [{"name": "or", "power_build": {"cost_per_gw": 1e6}}, {"name": "tx"}],
    "offers": [{"name": "a", "vendor": "x", "compute": 1, "power_kw": 1, "unit_cost": 1}],
}


def test_site_power_build_reading_and_the_unbuilt_top_level_cap():
    assert spec.validate(SITE_BUILD) == []
    # Reading (a): "or" has a power_build and no cap of its own -> given cap 0 (not the
    # top-level 20e-6); "tx" has neither -> the top-level value (v1 default).
    assert checker.power_capacity_gw(SITE_BUILD, {"or": {1: 5e-6}}) == {"or": {1: 5e-6}, "tx": {1: 20e-6}}
    assert checker.violations(SITE_BUILD, {"a": {"or": {1: 6}, "tx": {1: 4}}}, builds={"or": {1: 5e-6}}) == [
        "site_power_cap[or][1]: 6e-06 GW > 5e-06 GW (cap 0 + built 5e-06)"
    ]
    # The top-level cap still caps the sum over sites and is not built.
    assert checker.violations(SITE_BUILD, {"a": {"or": {1: 10}, "tx": {1: 15}}}, builds={"or": {1: 10e-6}}) == [
        "power_cap[1]: 2.5e-05 GW > 2e-05 GW"
    ]
    # builds as a DataFrame: index = periods, one column per site.
    df = pd.DataFrame({"or": [5e-6]}, index=[1])
    assert checker.power_capacity_gw(SITE_BUILD, df) == {"or": {1: 5e-6}, "tx": {1: 20e-6}}
    with pytest.raises(ValueError):
        checker.violations(SITE_BUILD, {}, builds={"nowhere": {1: 1}})
    bad = {**copy.deepcopy(SITE_BUILD), "power_build": {"cost_per_gw": 1}}
    assert spec.validate(bad) == ["power_build: top-level power_build is only allowed without sites"]


# --------------------------------------------------------------------------- #
# Unserved demand
# --------------------------------------------------------------------------- #
def _unserved(penalty: float) -> dict:
    # Each period a unit of compute costs 10 (lifetime 1) or `penalty` unserved; d_1 = 0.8.
    return {
        "periods": [1, 2],
        "demand": 10,
        "discount_rate": 0.25,
        "unserved_penalty": penalty,
        "offers": [{"name": "a", "vendor": "x", "unit_cost": 10, "compute": 1, "lifetime": 1, "max_units": 10}],
    }


@pytest.mark.parametrize(
    "penalty, objective, bought", [(8, 8 * 10 * 1.8, 0), (12, 10 * 10 * 1.8, 10), (0, 0, 0), (10, 180, None)]
)
def test_unserved_penalty_trade_off(penalty, objective, bought):
    p = _unserved(penalty)
    assert spec.validate(p) == []
    r = pulp_model.solve_reference_plan(p)
    assert r.status == "optimal" and close(r.objective, objective, 1e-7), r
    if bought is not None:
        assert r.purchases == {"a": {1: bought, 2: bought}}
    assert close(bruteforce.brute_force(p, max_lots=10)[0], objective)


def test_unserved_amounts_and_cost():
    p = _unserved(8)
    plan = {"a": {1: 4}}
    assert checker.unserved(p, plan) == {1: 6, 2: 10}
    assert close(checker.cost(p, plan), 40 + 8 * 6 + 0.8 * 8 * 10)
    assert checker.violations(p, plan) == []  # demand is no requirement with unserved_penalty
    del p["unserved_penalty"]
    assert checker.violations(p, plan) == ["demand[1]: compute 4 < demand 10", "demand[2]: compute 0 < demand 10"]
    # Every other rule keeps its v1 form with demand as given.
    p = _unserved(8)
    p["offers"].append({"name": "b", "vendor": "y", "unit_cost": 10, "compute": 1})
    p["risk"] = {"survive_vendor_loss": 0.5}
    assert checker.violations(p, {"a": {1: 10}}) == [
        "survive_vendor_loss[1][x]: compute without x 0 < 0.5 × demand 10",
        "survive_vendor_loss[2][x]: compute without x 0 < 0.5 × demand 10",
        "survive_vendor_loss[2][y]: compute without y 0 < 0.5 × demand 10",
    ]


WORKLOADS = {
    "periods": [1],
    "workloads": {"train": 6, "infer": 4},
    "offers": [
        {"name": "a", "vendor": "x", "compute": 1, "unit_cost": 1, "efficiency": {"infer": 0}, "max_units": 8},
        {
            "name": "b",
            "vendor": "y",
            "compute": 2,
            "unit_cost": 3,
            "efficiency": {"train": 0.5, "infer": 1.25},
            "max_units": 8,
        },
    ],
}


def test_unserved_with_workloads():
    p = {**copy.deepcopy(WORKLOADS), "unserved_penalty": 7}
    assert spec.validate(p) == []
    # a = 4 on train; b = 2: 1.6 units cover infer (2·1.25 each), 0.4 left give train 0.4 -> 1.6 unserved.
    plan = {"a": {1: 4}, "b": {1: 2}}
    u = checker.unserved(p, plan)
    assert u == {"train": {1: pytest.approx(1.6)}, "infer": {1: pytest.approx(0)}}
    assert close(checker.cost(p, plan), 4 + 6 + 7 * 1.6)
    assert checker.violations(p, plan) == []
    # A given split is still checked against the fleet, but not against demand.
    assert checker.violations(p, plan, split={"a": {"train": {1: 4}}, "b": {"infer": {1: 1}}}) == []
    assert checker.violations(p, plan, split={"a": {"train": {1: 5}}}) == ["split[a][1]: 5 units split > fleet 4"]
    # Penalty 1.1: a (1 per train compute) is worth buying, b (1.2 per infer compute) is not:
    # 6 a + 4 infer unserved = 6 + 4.4.  Penalty 0.5: buy nothing (5).
    for penalty, best in ((1.1, 10.4), (0.5, 5.0)):
        q = {**copy.deepcopy(WORKLOADS), "unserved_penalty": penalty}
        r = pulp_model.solve_reference_plan(q)
        assert r.status == "optimal" and close(r.objective, best, 1e-7), (penalty, r)
        assert close(bruteforce.brute_force(q, max_lots=8)[0], best)


# --------------------------------------------------------------------------- #
# Demand scenarios
# --------------------------------------------------------------------------- #
def _tree(p_hi: float = 0.25, **risk) -> dict:
    # a: cheap (1) but lead time 1, so it must be bought in period 1, before the demand of
    # period 2 is known; b: dear (3), bought in period 2 when needed.
    p = {
        "periods": [1, 2],
        "offers": [
            {"name": "a", "vendor": "x", "unit_cost": 1, "compute": 1, "lead_time": 1, "max_units": {"1": 10, "2": 0}},
            {"name": "b", "vendor": "x", "unit_cost": 3, "compute": 1, "max_units": {"1": 0, "2": 8}},
        ],
        "demand_scenarios": [
            {"name": "lo", "probability": 1 - p_hi, "demand": {"1": 0, "2": 2}},
            {"name": "hi", "probability": p_hi, "demand": {"1": 0, "2": 10}},
        ],
    }
    if risk:
        p["risk"] = risk
    return p


def test_two_scenario_tree_first_period_purchases_agree():
    p = _tree()
    assert spec.validate(p) == []
    assert spec.shared_history(p) == [[["lo", "hi"]], [["lo"], ["hi"]]]
    # Buying x of a in period 1 (the same x in both): lo costs x (x >= 2), hi x + 3·(10 − x):
    # E = 0.75·x + 0.25·(30 − 2x) = 7.5 + 0.25·x on [2, 10] -> x = 2, E = 8.
    # (Knowing the scenario, hi would buy 10 a for 10: E = 0.75·2 + 0.25·10 = 4.)
    clairvoyant = {"lo": {"a": {1: 2}}, "hi": {"a": {1: 10}}}
    assert checker.nonanticipativity_violations(p, clairvoyant) == [
        "nonanticipativity[lo|hi][a][1]: 2 units in lo != 10 in hi"
    ]
    assert checker.violations(p, clairvoyant) == ["nonanticipativity[lo|hi][a][1]: 2 units in lo != 10 in hi"]
    assert close(checker.cost(p, clairvoyant), 4)
    hedged = {"lo": {"a": {1: 2}}, "hi": {"a": {1: 2}, "b": {2: 8}}}
    assert checker.violations(p, hedged) == []
    assert checker.scenario_costs(p, hedged) == {"lo": 2, "hi": 26}
    assert close(checker.cost(p, hedged), 8) and close(checker.objective(p, hedged), 8)
    # Period-2 purchases may differ; a missing scenario buys nothing (hi then lacks compute).
    assert checker.violations(p, {"lo": {"a": {1: 2}}}) == [
        "scenario[hi]: demand[2]: compute 0 < demand 10",
        "nonanticipativity[lo|hi][a][1]: 2 units in lo != 0 in hi",
    ]
    r = pulp_model.solve_reference_plan(p)
    assert r.status == "optimal" and close(r.objective, 8, 1e-7)
    assert r.purchases == {"lo": {"a": {1: 2, 2: 0}, "b": {1: 0, 2: 0}}, "hi": {"a": {1: 2, 2: 0}, "b": {1: 0, 2: 8}}}
    assert close(bruteforce.brute_force(p, max_lots=10)[0], 8)
    # With p_hi = 0.5: E = 0.5·x + 0.5·(30 − 2x) = 15 − 0.5·x -> x = 10, E = 10.
    r = pulp_model.solve_reference_plan(_tree(0.5))
    assert close(r.objective, 10, 1e-7) and r.purchases["lo"]["a"][1] == 10


def test_shared_history_by_every_workload_and_identical_paths():
    p = {
        "periods": [1, 2],
        "offers": [{"name": "a", "vendor": "x", "unit_cost": 1, "compute": 1}],
        "demand_scenarios": [
            {"name": "s1", "probability": 0.25, "workloads": {"t": {"1": 1, "2": 2}, "i": 1}},
            {"name": "s2", "probability": 0.25, "workloads": {"t": {"1": 1, "2": 2}, "i": 1}},
            {"name": "s3", "probability": 0.5, "workloads": {"t": 2, "i": {"1": 0, "2": 1}}},  # same total in 1
        ],
    }
    assert spec.validate(p) == []
    assert spec.shared_history(p) == [[["s1", "s2"], ["s3"]], [["s1", "s2"], ["s3"]]]
    plan = {"s1": {"a": {1: 3}}, "s2": {"a": {1: 3, 2: 1}}, "s3": {"a": {1: 2, 2: 1}}}
    assert checker.violations(p, plan) == ["nonanticipativity[s1|s2][a][2]: 0 units in s1 != 1 in s2"]
    r = pulp_model.solve_reference_plan(p)
    assert r.status == "optimal" and close(r.objective, 3)  # every scenario buys 2 then 1 (or 3 at once)
    assert r.purchases["s1"] == r.purchases["s2"]


CVAR = {
    "periods": [1],
    "offers": [{"name": "a", "vendor": "x", "unit_cost": 100, "compute": 1}],
    "unserved_penalty": 1,  # buying (100) never pays: cost_ω = demand_ω
    "demand_scenarios": [
        {"name": "s10", "probability": 0.5, "demand": 10},
        {"name": "s20", "probability": 0.3, "demand": 20},
        {"name": "s50", "probability": 0.2, "demand": 50},
    ],
    "risk": {"scenario_cvar_weight": 2, "scenario_cvar_alpha": 0.75},
}


def test_scenario_cvar_by_hand():
    assert spec.validate(CVAR) == []
    assert checker.scenario_costs(CVAR, {}) == {"s10": 10, "s20": 20, "s50": 50}
    assert close(checker.cost(CVAR, {}), 0.5 * 10 + 0.3 * 20 + 0.2 * 50)  # 21
    # CVaR_0.75: the worst 25 % = 0.2 at 50 and 0.05 at 20 -> (10 + 1) / 0.25 = 44
    # (η = 20: 20 + 0.2·30/0.25 = 44; η = 10: 10 + (0.3·10 + 0.2·40)/0.25 = 54; η = 50: 50).
    assert close(checker.scenario_cvar(CVAR, {}), 44)
    assert close(checker.objective(CVAR, {}), 21 + 2 * 44)
    assert close(checker.scenario_cvar_of(0.0, [0.5, 0.3, 0.2], [10, 20, 50]), 21)  # expected cost
    assert close(checker.scenario_cvar_of(0.9, [0.5, 0.3, 0.2], [10, 20, 50]), 50)  # worst 10 %
    r = pulp_model.solve_reference_plan(CVAR)
    assert r.status == "optimal" and close(r.objective, 109, 1e-7)
    # Reading: without demand_scenarios the scenario CVaR term is absent.
    single = {k: v for k, v in CVAR.items() if k != "demand_scenarios"}
    single["demand"] = 10
    assert close(checker.objective(single, {}), 10)


@pytest.mark.parametrize("weight, best, x", [(1, 20, 10), (0.25, 11.5, 2)])
def test_scenario_cvar_changes_the_hedge(weight, best, x):
    # _tree(0.25) with α = 0.5: for x in [2, 10], lo = x, hi = 30 − 2x, E = 7.5 + 0.25·x and
    # CVaR_0.5 = x + 0.25·(30 − 3x)/0.5 = 15 − 0.5·x: objective 7.5 + 15w + (0.25 − 0.5w)·x.
    p = _tree(0.25, scenario_cvar_weight=weight, scenario_cvar_alpha=0.5)
    r = pulp_model.solve_reference_plan(p)
    assert r.status == "optimal" and close(r.objective, best, 1e-7), r
    assert r.purchases["lo"]["a"][1] == r.purchases["hi"]["a"][1] == x
    assert close(bruteforce.brute_force(p, max_lots=10)[0], best)


def test_scenario_plan_forms():
    p = _tree()
    hedged = {"lo": {"a": {1: 2}}, "hi": {"a": {1: 2}, "b": {2: 8}}}
    wide = pd.DataFrame(
        {"a": [2, 0, 2, 0], "b": [0, 0, 0, 8]},
        index=pd.MultiIndex.from_tuples([("lo", 1), ("lo", 2), ("hi", 1), ("hi", 2)], names=["scenario", "period"]),
    )
    long = pd.DataFrame(
        [
            {"scenario": "lo", "period": 1, "offer": "a", "bought": 2},
            {"scenario": "hi", "period": 1, "offer": "a", "bought": 2},
            {"scenario": "hi", "period": 2, "offer": "b", "bought": 8, "fleet": 8},
        ]
    )
    per_scenario_frames = {"lo": pd.DataFrame({"a": [2, 0]}, index=[1, 2]), "hi": wide.xs("hi")}
    for form in (wide, long, per_scenario_frames):
        assert checker.scenario_costs(p, form) == {"lo": 2, "hi": 26}
        assert checker.violations(p, form) == []
    assert checker.fleet(p, hedged) == {
        "lo": {"a": {1: 0, 2: 2}, "b": {1: 0, 2: 0}},
        "hi": {"a": {1: 0, 2: 2}, "b": {1: 0, 2: 8}},
    }
    with pytest.raises(ValueError):
        checker.cost(p, {"a": {1: 2}})  # with demand scenarios: {scenario: plan}
    # Builds per scenario: {scenario: builds} or a (scenario, period) MultiIndex DataFrame.
    q = copy.deepcopy(LEAD)
    q["demand_scenarios"] = [
        {"name": "lo", "probability": 0.5, "demand": q["demand"]},
        {"name": "hi", "probability": 0.5, "demand": {"2026": 0, "2027": 0, "2028": 100, "2029": 200}},
    ]
    del q["demand"]
    assert spec.validate(q) == []
    plan = {"lo": LEAD_PLAN, "hi": {"a": {2028: 100, 2029: 100}}}
    builds = {"lo": {2026: 0.1}, "hi": {2026: 0.1, 2027: 0.1}}
    frame = pd.DataFrame(
        {"": [0.1, 0, 0.1, 0.1]},
        index=pd.MultiIndex.from_tuples([("lo", 2026), ("lo", 2027), ("hi", 2026), ("hi", 2027)]),
    )
    for b in (builds, frame):
        assert checker.violations(q, plan, builds=b) == [
            "nonanticipativity[lo|hi][power_build][2027]: 0 GW in lo != 0.1 GW in hi"
        ]
        assert checker.facility_capex(q, b) == {
            "lo": {"": {2026: 2e9, 2027: 0, 2028: 0, 2029: 0}},
            "hi": {"": {2026: 2e9, 2027: 1e9, 2028: 0, 2029: 0}},
        }
    # hi needs 0.2 GW in 2029, started by 2027 -- still shared history, so lo builds it too:
    # 0.1 GW in 2026 (2e9, for 2028) and 0.1 GW in 2027 (1e9) in both; units 1e8 / 2e8.
    r = pulp_model.solve_reference_plan(q)
    assert r.status == "optimal" and close(r.objective, 3e9 + 0.5 * 1e8 + 0.5 * 2e8, 1e-7), r
    assert r.builds["lo"] == r.builds["hi"] == {"": pytest.approx({2026: 0.1, 2027: 0.1, 2028: 0, 2029: 0})}


def test_validation_of_the_new_fields():
    p = _tree()
    p["demand_scenarios"][0]["probability"] = 0.5
    assert spec.validate(p) == ["demand_scenarios: probabilities sum to 0.75, not 1"]
    p = _tree()
    p["demand"] = 1
    assert spec.validate(p) == ["demand: not allowed with demand_scenarios"]
    p = _tree()
    p["demand_scenarios"][1]["workloads"] = {"t": 1}
    assert spec.validate(p) == ["demand_scenarios[1]: give either demand or workloads, not both"]
    p = _tree()
    p["demand_scenarios"][1] = {"name": "hi", "probability": 0.25, "workloads": {"t": 1}}
    assert spec.validate(p) == ["demand_scenarios[1]: scenario 0 gives demand; demand and workloads do not mix"]
    p = copy.deepcopy(LEAD)
    p["power_build"].update(block_gw=0, lead_time=1.5, typo=1)
    p["unserved_penalty"] = -1
    assert sorted(spec.validate(p)) == [
        "power_build.block_gw: 0 out of range",
        "power_build.lead_time: expected an int, got 1.5",
        "power_build.typo: unknown field",
        "unserved_penalty: -1 out of range",
    ]
    p = copy.deepcopy(LEAD)
    del p["power_build"]["cost_per_gw"]
    p["risk"] = {"scenario_cvar_alpha": 1}
    assert sorted(spec.validate(p)) == ["power_build.cost_per_gw: required", "risk.scenario_cvar_alpha: 1 out of range"]


# --------------------------------------------------------------------------- #
# Property tests
# --------------------------------------------------------------------------- #
def _pulp_matches_brute_force(problem: dict) -> None:
    assert spec.validate(problem) == []
    r = pulp_model.solve_reference_plan(problem, time_limit=pulp_model.ORACLE_SECONDS)
    bf_obj, bf_purchases, bf_builds = bruteforce.brute_force_plan(problem, max_lots=3)
    if bf_obj is None:
        assert r.status == "infeasible", r
    else:
        assert r.status == "optimal", r.status
        assert checker.violations(problem, r.purchases, builds=r.builds) == []
        assert checker.violations(problem, bf_purchases, builds=bf_builds) == []
        assert math.isclose(r.objective, bf_obj, rel_tol=1e-7, abs_tol=1e-6), (r, bf_obj, bf_purchases, bf_builds)


TINY_FLAGS = [
    {"power_build": True},
    {"unserved": True},
    {"unserved": True, "workloads": True},
    {"demand_scenarios": True},
    {"demand_scenarios": True, "workloads": True, "unserved": True},
    {"demand_scenarios": True, "power_build": True, "unserved": True},
    {"power_build": True, "sites": True},
]


@pytest.mark.parametrize("flags", TINY_FLAGS, ids=lambda f: "+".join(f))
def test_pulp_equals_brute_force_v2(flags):
    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(strategies.tiny_problems(max_lots=3, **flags))
    def check(problem):
        _pulp_matches_brute_force(problem)

    check()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    strategies.tiny_problems(
        max_lots=3, commercial=True, sites=True, workloads=True, unserved=True, power_build=True, demand_scenarios=True
    )
)
def test_pulp_equals_brute_force_every_field(problem):
    _pulp_matches_brute_force(problem)


# The reference's plans on realistic v2 problems against its checker: tests/test_reference_oracle.py
# (every family of the strategies, the MIP's objective against the checker's too).


V2_FLAG_NAMES = ("commercial", "sites", "workloads", "unserved", "power_build", "demand_scenarios")


@settings(max_examples=80, deadline=None)
@given(
    st.fixed_dictionaries({f: st.booleans() for f in V2_FLAG_NAMES}).flatmap(
        lambda flags: st.one_of(
            strategies.problems(scenarios=True, hhi=True, **flags), strategies.tiny_problems(**flags)
        )
    )
)
def test_strategy_problems_with_v2_fields_are_valid(problem):
    assert spec.validate(problem) == []


@settings(max_examples=120, deadline=None)
@given(strategies.invalid_problems(v2=True))
def test_v2_mutations_are_invalid(case):
    problem, fragment = case
    errors = spec.validate(problem)
    assert errors, (fragment, problem)
    assert all(fragment in e for e in errors), (fragment, errors)


@st.composite
def _scenario_problem_and_plan(draw):
    problem = draw(strategies.problems(max_offers=3, max_periods=3, scenarios=True, unserved=draw(st.booleans())))
    p = spec.parse(problem)
    plan = {o.name: {period: o.lot_size * draw(st.integers(0, 20)) for period in p.periods} for o in p.offers}
    return problem, plan


@settings(max_examples=30, deadline=None)
@given(_scenario_problem_and_plan(), st.sampled_from([1, 2, 3]))
def test_identical_scenarios_mean_the_single_path(case, copies):
    # `copies` scenarios with the problem's own demand path: the same plan in each costs the
    # same, the objective is the v1 objective (plus w·CVaR of equal costs = w·cost), and
    # non-anticipativity ties every period.
    problem, plan = case
    scen = copy.deepcopy(problem)
    path = {"demand": scen.pop("demand")} if "demand" in scen else {"workloads": scen.pop("workloads")}
    probs = {1: [1], 2: [0.5, 0.5], 3: [0.25, 0.25, 0.5]}[copies]
    scen["demand_scenarios"] = [{"name": f"s{k}", "probability": q, **path} for k, q in enumerate(probs)]
    scen.setdefault("risk", {})["scenario_cvar_weight"] = 0.5
    assert spec.validate(scen) == []
    plans = {f"s{k}": plan for k in range(copies)}
    one = checker.objective(problem, plan)
    assert close(checker.cost(scen, plans), checker.cost(problem, plan))
    assert close(checker.objective(scen, plans), one + 0.5 * checker.cost(problem, plan))
    assert spec.shared_history(scen) == [[[f"s{k}" for k in range(copies)]]] * len(problem["periods"])
    assert checker.violations(scen, plans) == [
        f"scenario[s{k}]: {m}" for k in range(copies) for m in checker.violations(problem, plan)
    ]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategies.tiny_problems(max_lots=3, scenarios=False))
def test_free_unlimited_power_build_lifts_the_power_cap(problem):
    # A power_build with cost 0, no max_gw and no lead time: whatever power the plan needs
    # is built for free, so the optimum is that of the problem without power_cap_gw.
    built = {**copy.deepcopy(problem), "power_build": {"cost_per_gw": 0}}
    uncapped = {k: v for k, v in problem.items() if k != "power_cap_gw"}
    a, b = pulp_model.solve_reference_plan(built), pulp_model.solve_reference_plan(uncapped)
    assert a.status == b.status
    if a.status == "optimal":
        assert math.isclose(a.objective, b.objective, rel_tol=1e-7, abs_tol=1e-6)
