"""Self-tests of the independent reference tools in tests/reference/."""

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


# --------------------------------------------------------------------------- #
# Hand-computed examples
# --------------------------------------------------------------------------- #
EXAMPLE_1 = {
    "periods": [2026, 2027, 2028],
    "demand": {"2026": 7, "2027": 9, "2028": 16},
    "discount_rate": 0.1,
    "pue": 1.25,
    "electricity_price": 100,
    "power_cap_gw": {2026: 1e-5, 2027: 1e-5, 2028: 9e-6},
    "offers": [
        {
            "name": "a",
            "vendor": "x",
            "unit_cost": {"2026": 100, "2027": 90, "2028": 80},
            "compute": 2,
            "power_kw": 1,
            "opex_per_year": 5,
            "lot_size": 2,
            "lifetime": 2,
            "lead_time": 1,
            "installed": 3,
            "installed_life": 1,
        },
        {"name": "b", "vendor": "y", "unit_cost": 50, "compute": 1, "power_kw": 0.5},
    ],
    "vendors": [{"name": "x", "onboarding_cost": 1000}, {"name": "y", "onboarding_cost": 200}],
}
PLAN_1 = {"a": {2026: 4, 2027: 2}, "b": {2026: 1, "2028": 3}}


def test_example_1_fleet_cost_hhi_power():
    # Fleet a: 2026: installed 3 (installed_life 1), nothing bought is operational yet (lead 1)
    #          2027: installed gone; 4 bought in 2026 (operational 2027..2028)          -> 4
    #          2028: 4 from 2026 + 2 bought in 2027 (operational 2028..2029)           -> 6
    # Fleet b: 1, 1, 1 + 3 = 4 (no lifetime limit, lead 0)
    assert checker.fleet(EXAMPLE_1, PLAN_1) == {"a": {2026: 3, 2027: 4, 2028: 6}, "b": {2026: 1, 2027: 1, 2028: 4}}
    # Compute x = 2·a = 6, 8, 12; y = 1, 1, 4; totals 7, 9, 16 = demand.
    # Cost, d_t = 1.1^-t; energy factor 100 $/MWh · 8.76 · pue 1.25 = 1095 $ per IT kW:
    #   2026: capex 4·100 + 1·50 = 450, opex 3·5 = 15, energy 1095·(3·1 + 1·0.5) = 3832.5
    #   2027: capex 2·90 = 180,         opex 4·5 = 20, energy 1095·(4 + 0.5) = 4927.5
    #   2028: capex 3·50 = 150,         opex 6·5 = 30, energy 1095·(6 + 2) = 8760
    #   onboarding: x has installed units -> 0; y -> 200 (undiscounted)
    expected = (450 + 15 + 3832.5) + (180 + 20 + 4927.5) / 1.1 + (150 + 30 + 8760) / 1.21 + 200
    assert close(checker.cost(EXAMPLE_1, PLAN_1), expected)
    # HHI on shares of demand: (6/7)²+(1/7)² = 37/49, (8/9)²+(1/9)² = 65/81, .75²+.25² = .625
    h = checker.hhi(EXAMPLE_1, PLAN_1)
    assert set(h) == {2026, 2027, 2028}
    assert close(h[2026], 37 / 49) and close(h[2027], 65 / 81) and close(h[2028], 0.625)
    # Power: 2028: 1.25 · (6·1 + 4·0.5) = 10 kW = 1e-5 GW > 9e-6 GW; others within 1e-5.
    v = checker.violations(EXAMPLE_1, PLAN_1)
    assert v == ["power_cap[2028]: 1e-05 GW > 9e-06 GW"]
    # No risk terms: objective = cost.  With hhi_weight 10: + 10·(37/49 + 65/81/1.1 + .625/1.21).
    assert close(checker.objective(EXAMPLE_1, PLAN_1), expected)
    p = copy.deepcopy(EXAMPLE_1)
    p["risk"] = {"hhi_weight": 10}
    assert close(checker.objective(p, PLAN_1), expected + 10 * (37 / 49 + 65 / 81 / 1.1 + 0.625 / 1.21))
    # The same plan as a DataFrame (index = periods, columns = offers) gives the same numbers.
    df = pd.DataFrame({"a": [4, 2, 0], "b": [1, 0, 3]}, index=[2026, 2027, 2028])
    assert close(checker.cost(EXAMPLE_1, df), expected)
    assert checker.violations(EXAMPLE_1, df) == v


def test_installed_life_defaults_to_lifetime():
    base = {
        "periods": [1, 2, 3],
        "demand": 0,
        "offers": [{"name": "a", "vendor": "x", "unit_cost": 1, "compute": 1, "installed": 5}],
    }
    assert checker.fleet(base, {})["a"] == {1: 5, 2: 5, 3: 5}  # lifetime unlimited
    base["offers"][0]["lifetime"] = 2
    assert checker.fleet(base, {})["a"] == {1: 5, 2: 5, 3: 0}  # installed_life = lifetime = 2
    base["offers"][0]["installed_life"] = 3
    assert checker.fleet(base, {"a": {1: 1}})["a"] == {1: 6, 2: 6, 3: 5}


EXAMPLE_CVAR = {
    "periods": [1, 2],
    "demand": 10,
    "offers": [{"name": "a", "vendor": "x", "unit_cost": 1, "compute": 1, "installed": 10}],
    "risk": {
        "scenarios": [
            {"name": "s1", "probability": 0.1, "availability": {"x": 0.5}},
            {"name": "s2", "probability": 0.2, "availability": {"x": 0.8}, "periods": [2]},
        ],
        "shortfall_penalty": 100,
        "cvar_alpha": 0.8,
        "risk_weight": 0.5,
        "hhi_weight": 10,
    },
}


def test_example_cvar():
    # s1: shortfall 5 in both periods -> loss 100·(5 + 5) = 1000 (discount rate 0)
    # s2: period 1 not listed -> 0; period 2 shortfall 2 -> loss 200; nominal p = 0.7, loss 0
    assert checker.scenario_losses(EXAMPLE_CVAR, {}) == pytest.approx({"s1": 1000, "s2": 200})
    # CVaR_0.8: worst 20 % of probability = 0.1 at 1000 + 0.1 at 200 -> (100 + 20)/0.2 = 600
    # (η = 200: 200 + 5·0.1·800 = 600; η = 0: 5·(100 + 40) = 700; η = 1000: 1000)
    assert close(checker.cvar(EXAMPLE_CVAR, {}), 600)
    # objective = cost 0 + hhi 10·(1 + 1) + 0.5·600 = 320
    assert close(checker.objective(EXAMPLE_CVAR, {}), 320)
    p = copy.deepcopy(EXAMPLE_CVAR)
    p["risk"]["cvar_alpha"] = 0
    assert close(checker.cvar(p, {}), 0.1 * 1000 + 0.2 * 200)  # expected loss 140
    p["risk"]["max_cvar"] = 139
    assert checker.violations(p, {}) == ["max_cvar: CVaR 140 > 139"]
    p["discount_rate"] = 0.1  # period index 1 discounted: s1 = 500 + 500/1.1, s2 = 200/1.1
    assert checker.scenario_losses(p, {}) == pytest.approx({"s1": 500 + 500 / 1.1, "s2": 200 / 1.1})


def test_example_concentration():
    prob = {
        "periods": [1],
        "demand": 10,
        "offers": [
            {"name": "a", "vendor": "x", "unit_cost": 1, "compute": 1},
            {"name": "b", "vendor": "y", "unit_cost": 1, "compute": 1},
        ],
        "vendors": [{"name": "y", "max_share": 0.1}],
        "risk": {
            "max_share": 0.7,
            "min_vendors": 2,
            "min_vendor_share": 0.3,
            "survive_vendor_loss": 0.5,
            "max_hhi": 0.6,
        },
    }
    plan = {"a": {1: 8}, "b": {1: 2}}
    # x: 8 > 0.7·10; y: 2 > 0.1·10 (own max_share); only x has >= 0.3·10 = 3 -> 1 < 2 vendors;
    # losing x leaves 2 < 0.5·10; HHI = 0.8² + 0.2² = 0.68 > 0.6
    assert checker.violations(prob, plan) == [
        "max_share[1][x]: compute 8 > 0.7 × total 10",
        "max_share[1][y]: compute 2 > 0.1 × total 10",
        "min_vendors[1]: 1 vendors with compute >= 3 (< 2)",
        "survive_vendor_loss[1][x]: compute without x 2 < 0.5 × demand 10",
        "max_hhi[1]: HHI 0.68 > 0.6",
    ]
    assert not any(m.startswith("max_hhi") for m in checker.violations(prob, plan, hhi_tol=0.1))


# --------------------------------------------------------------------------- #
# Each constraint is reported
# --------------------------------------------------------------------------- #
BASE = {
    "periods": [2026, 2027],
    "demand": 10,
    "offers": [
        {
            "name": "a",
            "vendor": "x",
            "unit_cost": 10,
            "compute": 1,
            "power_kw": 1,
            "lot_size": 2,
            "min_order": 4,
            "max_units": 20,
        },
        {"name": "b", "vendor": "y", "unit_cost": 20, "compute": 2, "power_kw": 1},
    ],
}
OK_PLAN = {"a": {2026: 6}, "b": {2026: 2}}  # compute 6 + 4 = 10 both periods; capex 100; 8 kW


@pytest.mark.parametrize(
    "name, extra, plan",
    [
        ("nonnegative[a][2026]", {}, {"a": {2026: -2}, "b": {2026: 10}}),
        ("lot_size[a][2026]", {}, {"a": {2026: 5}, "b": {2026: 3}}),
        ("max_units[a][2026]", {}, {"a": {2026: 22}}),
        ("min_order[a][2026]", {}, {"a": {2026: 2}, "b": {2026: 4}}),
        ("demand[2026]", {}, {"a": {2026: 4}, "b": {2026: 2}}),
        ("power_cap[2026]", {"power_cap_gw": 7e-6}, OK_PLAN),
        ("power_cap[2026]", {"power_cap_gw": 9e-6, "pue": 1.2}, OK_PLAN),
        ("budget[2026]", {"budget": {"2026": 90, "2027": 1000}}, OK_PLAN),
        ("total_budget", {"total_budget": 99}, OK_PLAN),
        ("max_share[2026][x]", {"risk": {"max_share": 0.55}}, OK_PLAN),
        ("max_share[2027][x]", {"vendors": [{"name": "x", "max_share": 0.55}]}, OK_PLAN),
        ("min_vendors[2026]", {"risk": {"min_vendors": 2, "min_vendor_share": 0.5}}, OK_PLAN),
        ("survive_vendor_loss[2026][x]", {"risk": {"survive_vendor_loss": 0.5}}, OK_PLAN),
        ("max_hhi[2026]", {"risk": {"max_hhi": 0.5}}, OK_PLAN),
        (
            "max_cvar",
            {
                "risk": {
                    "scenarios": [{"name": "s", "probability": 0.1, "availability": {"x": 0}}],
                    "shortfall_penalty": 1,
                    "max_cvar": 0,
                }
            },
            OK_PLAN,
        ),
    ],
)
def test_each_constraint_reported(name, extra, plan):
    prob = {**copy.deepcopy(BASE), **extra}
    assert checker.violations({**copy.deepcopy(BASE)}, OK_PLAN) == []
    msgs = checker.violations(prob, plan)
    assert any(m.startswith(name) for m in msgs), msgs


def test_onboarding_rules():
    prob = copy.deepcopy(BASE)
    prob["vendors"] = [{"name": "x", "onboarding_cost": 1000}, {"name": "y", "onboarding_cost": 7}]
    # capex 100 + onboarding 1000 + 7
    assert close(checker.cost(prob, OK_PLAN), 1107)
    prob["offers"][1]["installed"] = 1  # y has installed units: never charged
    assert close(checker.cost(prob, OK_PLAN), 1100)
    assert close(checker.cost(prob, {"b": {2027: 2}}), 40 + 0)  # x bought nothing


# --------------------------------------------------------------------------- #
# Property tests
# --------------------------------------------------------------------------- #
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategies.tiny_problems(max_lots=3))
def test_pulp_reference_equals_brute_force(problem):
    assert spec.validate(problem) == []
    status, obj, plan = pulp_model.solve_reference(problem, time_limit=pulp_model.ORACLE_SECONDS)
    bf_obj, bf_plan = bruteforce.brute_force(problem, max_lots=3)
    if bf_obj is None:
        assert status == "infeasible"
    else:
        assert status == "optimal", status
        assert checker.violations(problem, plan) == []
        assert math.isclose(obj, bf_obj, rel_tol=1e-7, abs_tol=1e-6), (obj, bf_obj, plan, bf_plan)


@st.composite
def problem_and_plan(draw):
    problem = draw(strategies.problems(max_offers=3, max_periods=3, scenarios=True, hhi=True))
    p = spec.parse(problem)
    plan = {o.name: {period: o.lot_size * draw(st.integers(0, 30)) for period in p.periods} for o in p.offers}
    return problem, plan


@settings(max_examples=40, deadline=None)
@given(problem_and_plan())
def test_cvar_alpha_zero_is_expected_loss(case):
    problem, plan = case
    problem = copy.deepcopy(problem)
    problem["risk"]["cvar_alpha"] = 0
    p = spec.parse(problem)
    losses = checker.scenario_losses(problem, plan)
    expected = sum(s.probability * losses[s.name] for s in p.risk.scenarios)
    assert math.isclose(checker.cvar(problem, plan), expected, rel_tol=1e-9, abs_tol=1e-9)
    # and CVaR at a higher level lies between the expected and the worst loss
    problem["risk"]["cvar_alpha"] = 0.9
    assert expected - 1e-6 <= checker.cvar(problem, plan) <= max([0.0, *losses.values()]) + 1e-6


@settings(max_examples=60, deadline=None)
@given(strategies.problems(scenarios=True, hhi=True))
def test_strategy_problems_are_valid(problem):
    assert spec.validate(problem) == []


@settings(max_examples=100, deadline=None)
@given(strategies.invalid_problems())
def test_strategy_invalid_problems_are_invalid(case):
    problem, fragment = case
    errors = spec.validate(problem)
    assert errors, (fragment, problem)
    assert all(fragment in e for e in errors), (fragment, errors)


# The reference's plans on realistic problems against its checker: tests/test_reference_oracle.py
# (every family of the strategies, the MIP's objective against the checker's too).


def test_pulp_reference_rejects_hhi():
    with pytest.raises(NotImplementedError):
        pulp_model.solve_reference({**BASE, "risk": {"hhi_weight": 1}})


# --------------------------------------------------------------------------- #
# Commercial terms, sites and workloads: hand-computed examples
# --------------------------------------------------------------------------- #
def _tiered(discount: str) -> dict:
    return {
        "periods": [2026, 2027],
        "demand": 0,
        "offers": [
            {
                "name": "g",
                "vendor": "x",
                "compute": 1,
                "discount": discount,
                "price_tiers": [
                    {"from_units": 0, "unit_cost": 10},
                    {"from_units": 5, "unit_cost": {"2026": 8, "2027": 6}},
                    {"from_units": 10, "unit_cost": 5},
                ],
            }
        ],
    }


@pytest.mark.parametrize(
    "discount, units, expected",
    [
        # incremental: area under the step curve
        ("incremental", {2026: 0}, {2026: 0}),
        ("incremental", {2026: 4}, {2026: 40}),
        ("incremental", {2026: 5}, {2026: 50}),
        ("incremental", {2026: 12, 2027: 12}, {2026: 5 * 10 + 5 * 8 + 2 * 5, 2027: 5 * 10 + 5 * 6 + 2 * 5}),
        ("incremental", {2026: 9}, {2026: 50 + 4 * 8}),
        # all_units: every unit at the price of the highest tier reached
        ("all_units", {2026: 0}, {2026: 0}),
        ("all_units", {2026: 4, 2027: 5}, {2026: 40, 2027: 30}),
        ("all_units", {2026: 5}, {2026: 40}),
        ("all_units", {2026: 9}, {2026: 72}),
        ("all_units", {2026: 10}, {2026: 50}),
        ("all_units", {2026: 12, 2027: 12}, {2026: 60, 2027: 60}),
    ],
)
def test_tier_capex(discount, units, expected):
    problem = _tiered(discount)
    assert spec.validate(problem) == []
    cap = checker.capex(problem, {"g": units})["g"]
    assert cap == pytest.approx({2026: expected.get(2026, 0), 2027: expected.get(2027, 0)})
    assert close(checker.cost(problem, {"g": units}), sum(expected.values()))


def test_discount_defaults_to_incremental():
    problem = _tiered("incremental")
    del problem["offers"][0]["discount"]
    assert checker.capex(problem, {"g": {2026: 12}})["g"][2026] == pytest.approx(100)


def test_all_units_buys_up_to_a_cheaper_tier():
    # 9 units are needed; 9 cost 72 but 10 cost 50 (all_units) -> buy 10.  Incremental: 9 for 82.
    for discount, best, units in (("all_units", 50, 10), ("incremental", 82, 9)):
        problem = _tiered(discount)
        problem["demand"] = {"2026": 9, "2027": 0}
        problem["offers"][0]["max_units"] = 12
        status, obj, plan = pulp_model.solve_reference(problem)
        assert status == "optimal" and close(obj, best), (discount, obj, plan)
        assert plan["g"][2026] == units
        bf_obj, _ = bruteforce.brute_force(problem, max_lots=12)
        assert close(bf_obj, best)


def _take_or_pay_problem(**vendor: float) -> dict:
    # One vendor with a take-or-pay; units bought in 2027 are operational only after the
    # horizon (lead 1) and the installed units cover demand.  d_1 = 1/1.25 = 0.8.
    return {
        "periods": [2026, 2027],
        "demand": 3,
        "discount_rate": 0.25,
        "offers": [
            {"name": "a", "vendor": "x", "unit_cost": 10, "compute": 1, "lead_time": 1, "installed": 3, "max_units": 12}
        ],
        "vendors": [{"name": "x", **vendor}],
    }


def test_take_or_pay_hand_computed():
    problem = _take_or_pay_problem(min_spend=100)
    assert checker.take_or_pay(problem, {}) == {"x": 100}
    assert close(checker.cost(problem, {}), 100)  # undiscounted, as period 0
    plan = {"a": {2026: 3}}
    assert checker.vendor_capex(problem, plan) == {"x": 30}
    assert checker.take_or_pay(problem, plan) == {"x": 70}
    assert close(checker.cost(problem, plan), 30 + 70)
    plan = {"a": {2027: 6}}  # discounted capex 0.8·60 = 48, take-or-pay 40
    assert close(checker.cost(problem, plan), 48 + 40)
    plan = {"a": {2027: 12}}  # above min_spend: no take-or-pay
    assert checker.take_or_pay(problem, plan) == {"x": 0}
    assert close(checker.cost(problem, plan), 96)


def test_take_or_pay_makes_buying_beyond_the_horizon_optimal():
    # Buying k units in 2027 costs 8k (discounted) and saves min(10k, 100) take-or-pay:
    # optimum 10 units in 2027 (never operational), cost 80.
    problem = _take_or_pay_problem(min_spend=100)
    status, obj, plan = pulp_model.solve_reference(problem)
    assert status == "optimal" and close(obj, 80), (obj, plan)
    assert plan["a"] == {2026: 0, 2027: 10}
    assert close(bruteforce.brute_force(problem, max_lots=12)[0], 80)


def test_take_or_pay_counts_against_total_budget_not_budget():
    problem = _take_or_pay_problem(min_spend=100)
    problem["total_budget"] = 95  # capex + take-or-pay >= 100 for every plan
    assert checker.violations(problem, {}) == ["total_budget: capex 0 + take-or-pay 100 > 95"]
    assert pulp_model.solve_reference(problem)[0] == "infeasible"
    problem["total_budget"] = 100
    assert pulp_model.solve_reference(problem)[1] == pytest.approx(80)
    problem = _take_or_pay_problem(min_spend=100)
    problem["budget"] = 0  # per-period budget: capex only
    assert checker.violations(problem, {}) == []
    assert close(pulp_model.solve_reference(problem)[1], 100)


def test_max_spend():
    problem = _take_or_pay_problem(min_spend=100, max_spend=50)
    assert checker.violations(problem, {"a": {2027: 10}}) == ["max_spend[x]: capex 100 > 50"]
    # best: 5 units in 2027 (0.8·50 + take-or-pay 50)
    status, obj, plan = pulp_model.solve_reference(problem)
    assert status == "optimal" and close(obj, 90) and plan["a"][2027] == 5


SITES = {
    "periods": [1],
    "demand": 10,
    "pue": 1.5,
    "electricity_price": 100,
    "power_cap_gw": 20e-6,
    "sites": [
        {"name": "or", "pue": 1.1, "electricity_price": 50, "power_cap_gw": 8e-6, "vendors": ["x"]},
        {"name": "tx"},  # pue 1.5, price 100, cap 20e-6 (top-level defaults), hosts every vendor
    ],
    "offers": [
        {"name": "a", "vendor": "x", "compute": 1, "power_kw": 1, "unit_cost": 1, "installed": {"or": 2}},
        {"name": "b", "vendor": "y", "compute": 2, "power_kw": 1, "unit_cost": 3},
    ],
}
SITES_PLAN = {"a": {"or": {1: 4}, "tx": {1: 2}}, "b": {"tx": {1: 1}}}


def test_sites_power_energy_hand_computed():
    assert spec.validate(SITES) == []
    # fleet: a at or 2 + 4 = 6, at tx 2; b at tx 1; compute 8 + 2 = 10
    assert checker.fleet_by_site(SITES, SITES_PLAN)["a"] == {"or": {1: 6}, "tx": {1: 2}}
    assert checker.fleet(SITES, SITES_PLAN) == {"a": {1: 8}, "b": {1: 1}}
    assert checker.totals(SITES, SITES_PLAN) == {"a": {1: 6}, "b": {1: 1}}
    # facility power: or 1.1·6 = 6.6 kW, tx 1.5·(2 + 1) = 4.5 kW
    power = checker.site_power_gw(SITES, SITES_PLAN)
    assert power["or"][1] == pytest.approx(6.6e-6) and power["tx"][1] == pytest.approx(4.5e-6)
    assert checker.violations(SITES, SITES_PLAN) == []
    # energy: or 50·8.76·1.1·6 = 2890.8, tx 100·8.76·1.5·3 = 3942; capex 6·1 + 1·3
    assert close(checker.cost(SITES, SITES_PLAN), 2890.8 + 3942 + 9)
    # the same plan as a long DataFrame (as result.by_site; extra columns ignored)
    df = pd.DataFrame(
        [
            {"period": 1, "site": "or", "offer": "a", "bought": 4, "fleet": 6},
            {"period": 1, "site": "tx", "offer": "a", "bought": 2, "fleet": 2},
            {"period": 1, "site": "tx", "offer": "b", "bought": 1, "fleet": 1},
        ]
    )
    assert close(checker.cost(SITES, df), 2890.8 + 3942 + 9)
    with pytest.raises(ValueError):
        checker.cost(SITES, {"a": {1: 6}})  # several sites: units must be given per site


def test_sites_caps_and_hosting():
    p = copy.deepcopy(SITES)
    p["power_cap_gw"] = 10e-6  # Σ_s pue_s·IT_s = 11.1 kW
    assert checker.violations(p, SITES_PLAN) == ["power_cap[1]: 1.11e-05 GW > 1e-05 GW"]
    p["power_cap_gw"] = 4e-6  # also tx, whose cap defaults to the top-level one (or has its own 8e-6)
    assert checker.violations(p, SITES_PLAN) == [
        "power_cap[1]: 1.11e-05 GW > 4e-06 GW",
        "site_power_cap[tx][1]: 4.5e-06 GW > 4e-06 GW",
    ]
    p = copy.deepcopy(SITES)
    p["sites"][0]["power_cap_gw"] = 6e-6
    assert checker.violations(p, SITES_PLAN) == ["site_power_cap[or][1]: 6.6e-06 GW > 6e-06 GW"]
    plan = copy.deepcopy(SITES_PLAN)
    plan["b"] = {"or": {1: 1}}
    assert checker.violations(SITES, plan) == ["site_vendors[b][or][1]: 1 units at a site that does not host y"]
    # lots per site; max_units and min_order on the total over sites
    p = copy.deepcopy(SITES)
    p["offers"][0].update(lot_size=2, min_order=5)
    assert checker.violations(p, SITES_PLAN) == []  # 4 and 2 are lots of 2, total 6 >= 5
    p["offers"][0].update(lot_size=4, max_units=5)
    assert checker.violations(p, SITES_PLAN) == [
        "lot_size[a][tx][1]: 2 units not a multiple of 4",
        "max_units[a][1]: 6 > 5",
    ]


def test_sites_reference_optimum():
    # $ per unit of compute: a at or 1 + 50·8.76·1.1 = 482.8, b at tx (3 + 100·8.76·1.5)/2
    # = 658.5, a at tx 1 + 1314 = 1315.  or holds 8 kW = 7 units of a.  Best: 6 units of a at
    # or (2 installed + 4 bought: 2894.8) and 2 of b at tx (2634) = 5528.8; 7 at or would leave
    # 3 compute to cover at 2632 (one b, one a at tx): 3377.6 + 2632 = 6009.6.
    p = copy.deepcopy(SITES)
    for o in p["offers"]:
        o["max_units"] = 8
    status, obj, plan = pulp_model.solve_reference(p)
    assert status == "optimal" and close(obj, 5528.8), plan
    assert plan == {"a": {"or": {1: 4}, "tx": {1: 0}}, "b": {"tx": {1: 2}}}
    bf_obj, bf_plan = bruteforce.brute_force(p, max_lots=8)
    assert close(bf_obj, 5528.8), bf_plan


WORKLOADS = {
    "periods": [1],
    "workloads": {"train": 6, "infer": 4},
    "offers": [
        {"name": "a", "vendor": "x", "compute": 1, "unit_cost": 1, "efficiency": {"infer": 0}},
        {"name": "b", "vendor": "y", "compute": 2, "unit_cost": 3, "efficiency": {"train": 0.5, "infer": 1.25}},
    ],
}


def test_workload_split_hand_computed():
    assert spec.validate(WORKLOADS) == []
    # a 6, b 2: a runs train (6); b needs 4 / (1.25·2) = 1.6 units for infer
    plan = {"a": {1: 6}, "b": {1: 2}}
    assert checker.workload_feasible(WORKLOADS, plan)
    assert checker.violations(WORKLOADS, plan) == []
    split = {"a": {"train": {1: 6}}, "b": {"infer": {1: 1.6}}}
    assert checker.violations(WORKLOADS, plan, split=split) == []
    found = checker.workload_split(WORKLOADS, plan)
    assert checker.violations(WORKLOADS, plan, split=found) == []
    assert checker.violations(WORKLOADS, plan, split={"a": {"train": {1: 6}}, "b": {"infer": {1: 1.5}}}) == [
        "workload[infer][1]: compute 3.75 < demand 4"
    ]
    assert checker.violations(
        WORKLOADS, plan, split={"a": {"train": {1: 6}}, "b": {"infer": {1: 1.6}, "train": {1: 0.5}}}
    ) == ["split[b][1]: 2.1 units split > fleet 2"]
    # a 4, b 3: raw compute 4 + 6 = 10 = Σ demand, but train needs 2 b-units and infer 1.6 > 3
    plan = {"a": {1: 4}, "b": {1: 3}}
    assert not checker.workload_feasible(WORKLOADS, plan)
    assert checker.workload_split(WORKLOADS, plan) is None
    assert [m.split(":")[0] for m in checker.violations(WORKLOADS, plan)] == ["workloads[1]"]
    # HHI and risk terms use Σ_w demand = 10: C = 6 (x), 4 (y)
    assert checker.hhi(WORKLOADS, {"a": {1: 6}, "b": {1: 2}}) == pytest.approx({1: 0.36 + 0.16})


def test_workloads_drop_the_plain_demand_row():
    # efficiency 1.25: 2 units of b (raw compute 4) cover a demand of 5
    problem = copy.deepcopy(WORKLOADS)
    problem["workloads"] = {"infer": 5}
    assert checker.violations(problem, {"b": {1: 2}}) == []
    assert checker.violations(problem, {"b": {1: 1}, "a": {1: 10}}) != []  # a cannot run infer


def test_workloads_reference_optimum():
    # b: 2 units (infer 1.6, 0.4 left for train = 0.4); a covers the rest of train with 6 units.
    problem = copy.deepcopy(WORKLOADS)
    for o in problem["offers"]:
        o["max_units"] = 8
    status, obj, plan = pulp_model.solve_reference(problem)
    assert status == "optimal" and close(obj, 12) and plan == {"a": {1: 6}, "b": {1: 2}}
    assert close(bruteforce.brute_force(problem, max_lots=8)[0], 12)


# --------------------------------------------------------------------------- #
# Commercial terms, sites and workloads: property tests
# --------------------------------------------------------------------------- #
def _pulp_matches_brute_force(problem: dict) -> None:
    assert spec.validate(problem) == []
    status, obj, plan = pulp_model.solve_reference(problem, time_limit=pulp_model.ORACLE_SECONDS)
    bf_obj, bf_plan = bruteforce.brute_force(problem, max_lots=3)
    if bf_obj is None:
        assert status == "infeasible"
    else:
        assert status == "optimal", status
        assert checker.violations(problem, plan) == []
        assert math.isclose(obj, bf_obj, rel_tol=1e-7, abs_tol=1e-6), (obj, bf_obj, plan, bf_plan)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategies.tiny_problems(max_lots=3, commercial=True))
def test_pulp_equals_brute_force_commercial(problem):
    _pulp_matches_brute_force(problem)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategies.tiny_problems(max_lots=3, sites=True))
def test_pulp_equals_brute_force_sites(problem):
    _pulp_matches_brute_force(problem)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategies.tiny_problems(max_lots=3, workloads=True))
def test_pulp_equals_brute_force_workloads(problem):
    _pulp_matches_brute_force(problem)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategies.tiny_problems(max_lots=3, commercial=True, sites=True, workloads=True))
def test_pulp_equals_brute_force_all_new_fields(problem):
    _pulp_matches_brute_force(problem)


@settings(max_examples=60, deadline=None)
@given(
    st.fixed_dictionaries({f: st.booleans() for f in ("commercial", "sites", "workloads")}).flatmap(
        lambda flags: st.one_of(
            strategies.problems(scenarios=True, hhi=True, **flags), strategies.tiny_problems(**flags)
        )
    )
)
def test_strategy_problems_with_new_fields_are_valid(problem):
    assert spec.validate(problem) == []
