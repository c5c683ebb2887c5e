"""Self-tests of the reference tools for contract v3's "capacity options" (top-level `options`).

An option reserves whole lots R of an offer (R·lot <= max_units, reserve_cost per unit paid in
reserve_period) and buys e[t] units through it in reserve_period..exercise_until (whole lots,
Σ e <= R·lot, exercise_price per unit).  Exercised units join the offer's fleet like purchases
but do not count against its max_units, min_order, price tiers nor the vendor's max_new_compute;
option capex is in the cost, the budgets and the vendor's spend; exercising triggers onboarding.
Hand-computed optima on tiny problems (the PuLP model and the brute force both reach them), the
checker on plans that misuse an option, parsing and validation, the PuLP model against the brute
force on tiny random problems, and the strategies against `validate`.  Nothing here calls
`procure` (tests/test_options_against_reference.py does).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_reference_v3_rules import _offer, close  # (an offer of one compute per unit)

try:
    from tests.reference import bruteforce, checker, pulp_model, spec, strategies
except ImportError:  # pytest run with tests/ (not the repo root) on sys.path
    from reference import bruteforce, checker, pulp_model, spec, strategies


def _one_period(demand: float, offers: list[dict], option: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A problem of period 1 with one option, named "up-to"."""
    return {"periods": [1], "demand": demand, "offers": offers, "options": [{"name": "up-to", **option}], **fields}


def _two_paths(lo: dict[Any, float], hi: dict[Any, float], **fields: Any) -> dict[str, Any]:
    """A problem with two equally likely demand paths "lo" and "hi"."""
    paths = [{"name": name, "probability": 0.5, "demand": d} for name, d in (("lo", lo), ("hi", hi))]
    return {"demand_scenarios": paths, **fields}


def _with_option(problem: dict, **fields: Any) -> dict:
    """`problem` with its first option's fields changed."""
    p = copy.deepcopy(problem)
    p["options"][0].update(fields)
    return p


def _solve(problem: dict) -> pulp_model.ReferencePlan:
    """The PuLP model's proven optimum, which the brute force confirms (every offer here has a
    finite max_units, so enumerating up to its most lots is exact; not with continuous power
    builds, which it cannot enumerate); both plans pass the checker."""
    assert spec.validate(problem) == []
    p = spec.parse(problem)
    max_lots = max(int(max(o.max_units.values())) // o.lot_size for o in p.offers)
    r = pulp_model.solve_reference_plan(problem)
    try:
        value, purchases, builds, options = bruteforce.brute_force_options_plan(problem, max_lots=max_lots)
    except NotImplementedError:  # continuous power builds: the PuLP model's plan alone
        assert r.status == "optimal", r
        assert checker.violations(problem, r.purchases, builds=r.builds, options=r.options) == []
        return r
    if value is None:
        assert r.status == "infeasible", r
        return r
    assert r.status == "optimal", r
    assert checker.violations(problem, r.purchases, builds=r.builds, options=r.options) == []
    assert checker.violations(problem, purchases, builds=builds, options=options) == []
    assert close(value, r.objective, 1e-7), (value, r)
    assert close(r.model_objective, r.objective, 1e-7), r
    return r


# --------------------------------------------------------------------------- #
# Hand-computed problems
# --------------------------------------------------------------------------- #
#: a (vendor x) costs 1 but only 4 units a period are for sale; b (vendor y) costs 5 (3 for sale);
#: every unit costs 1 a period to run.  The option reserves up to 3 units of a at 1 each and buys
#: them at 2.
SUPPLY: dict[str, Any] = {
    "periods": [1, 2],
    "demand": {"1": 4, "2": 10},
    "offers": [_offer("a", "x", 1, max_units=4, opex_per_year=1), _offer("b", "y", 5, max_units=3, opex_per_year=1)],
    "options": [{"name": "up-to", "offer": "a", "max_units": 3, "reserve_cost": 1, "exercise_price": 2}],
}
#: a has all-units tiers (2 a unit, 1 from 5 units) and only 4 units for sale; the option's 3
#: units cost 1.5 each; demand 7 in one period.
TIERS: dict[str, Any] = {
    "periods": [1],
    "demand": 7,
    "offers": [
        {
            "name": "a",
            "vendor": "x",
            "compute": 1,
            "max_units": 4,
            "price_tiers": [{"from_units": 0, "unit_cost": 2}, {"from_units": 5, "unit_cost": 1}],
            "discount": "all_units",
        },
        _offer("b", "y", 5, max_units=3),
    ],
    "options": [{"name": "up-to", "offer": "a", "max_units": 3, "exercise_price": 1.5}],
}
#: x may sell 4 compute a period (max_new_compute); demand 10; the option's 6 units cost 2.
ALLOCATION = _one_period(
    10,
    [_offer("a", "x", 1, max_units=8)],
    {"offer": "a", "max_units": 6, "exercise_price": 2},
    vendors=[{"name": "x", "max_new_compute": 4}],
)
#: a arrives one period after it is bought (2 for sale a period, at 3); b at once, at 10.
LEAD: dict[str, Any] = {
    "periods": [1, 2],
    "demand": {"1": 0, "2": 4},
    "offers": [_offer("a", "x", 3, lead_time=1, max_units=2), _offer("b", "y", 10, max_units=2)],
    "options": [{"name": "up-to", "offer": "a", "max_units": 4, "exercise_price": 1}],
}
#: Site s1 (3 kW) hosts every vendor, s2 only y; a (x, 1 kW a unit) 2 for sale at 3, b at 5.
SITES: dict[str, Any] = {
    "periods": [1],
    "demand": 6,
    "offers": [_offer("a", "x", 3, power_kw=1, max_units=2), _offer("b", "y", 5, max_units=4)],
    "sites": [{"name": "s1", "power_cap_gw": 3e-6}, {"name": "s2", "vendors": ["y"]}],
    "options": [{"name": "up-to", "offer": "a", "max_units": 4, "exercise_price": 1}],
}
#: Two paths sharing period 1 (no demand there): "lo" needs 2 units in period 2, "hi" 10.
#: a: 2 for sale a period at 1; b at 5 (6 for sale in period 2); the option reserves up to 8
#: units of a at 1, buys them at 1.
TREE = _two_paths(
    {"1": 0, "2": 2},
    {"1": 0, "2": 10},
    periods=[1, 2],
    offers=[_offer("a", "x", 1, max_units=2), _offer("b", "y", 5, max_units={"1": 0, "2": 6})],
    options=[{"name": "up-to", "offer": "a", "max_units": 8, "reserve_cost": 1, "exercise_price": 1}],
)

#: b (vendor y, onboarding 5) has no supply of its own but an option (at 1 a unit); a (x) costs 3.
ONBOARDING = _one_period(
    2,
    [_offer("a", "x", 3, max_units=2), _offer("b", "y", 1, max_units=0)],
    {"offer": "b", "max_units": 2, "exercise_price": 1},
    vendors=[{"name": "y", "onboarding_cost": 5}],
)
#: The same as a tree: "hi" needs 2 units in period 2, "lo" none; the option (0.5 a unit reserved)
#: must be reserved in period 1, before the branch; y's onboarding is 1.
TREE_ONBOARDING = _two_paths(
    {"1": 0, "2": 0},
    {"1": 0, "2": 2},
    periods=[1, 2],
    offers=[_offer("a", "x", 3, max_units=2), _offer("b", "y", 1, max_units=0)],
    vendors=[{"name": "y", "onboarding_cost": 1}],
    options=[
        {"name": "up-to", "offer": "b", "max_units": 2, "reserve_cost": 0.5, "exercise_price": 1, "reserve_period": 1}
    ],
)
#: x must be paid 4 (take-or-pay); a (x) costs 2 with one unit for sale, b (y) 2.5; the option on a
#: buys at 1.5.  Demand 2.
MIN_SPEND = _one_period(
    2,
    [_offer("a", "x", 2, max_units=1), _offer("b", "y", 2.5, max_units=2)],
    {"offer": "a", "max_units": 2, "exercise_price": 1.5},
    vendors=[{"name": "x", "min_spend": 4}],
)

#: (problem, hand-computed optimum); test_options_against_reference.py solves them with procure.
HAND_OPTIMA: dict[str, tuple[dict[str, Any], float]] = {
    # Without the option: 4 a in each period (capex 8) and 2 b in period 2 (10); opex 4 + 10 = 14:
    # 32.  With it: reserve 2 (2) and exercise 2 in period 2 (4) instead of the 2 b: 8 + 2 + 4 + 14
    # = 28 (3 a unit against b's 5; exercising in period 1 would add a period of opex).
    "supply": (SUPPLY, 28),
    "supply_without_option": ({**SUPPLY, "options": []}, 32),
    # reserve_cost 4: 4 + 2 = 6 > 5 a unit, b is cheaper: nothing reserved, 32.
    "dear_reservation": (_with_option(SUPPLY, reserve_cost=4), 32),
    # exercise_until 1: the 2 units must be bought in period 1 (one more period of opex, 2): 30.
    "window_closes": (_with_option(SUPPLY, exercise_until=1), 30),
    # Exercise free in period 1, 2 in period 2: exercising 2 in period 1 costs reserve 2 + opex 2
    # more: 4 + 4 + 2 + 0 + opex (6 + 10) = 26 ...
    "free_in_period_1": (_with_option(SUPPLY, exercise_price={"1": 0, "2": 2}), 26),
    # ... but a reservation made in period 2 can only be exercised from period 2 on: 28.
    "reserved_late": (_with_option(SUPPLY, exercise_price={"1": 0, "2": 2}, reserve_period=2), 28),
    # 4 a at the first tier's 2 (8) + 3 through the option (4.5) = 12.5; exercised units do not
    # count toward the tier (7 units would reach the price of 1: 4 + 4.5 = 8.5) nor against a's
    # max_units of 4.  Without the option: 8 + 3 b (15) = 23.
    "tiers": (TIERS, 12.5),
    "tiers_without_option": ({**TIERS, "options": []}, 23),
    # 4 a (the allocation: 4) + 6 through the option, outside the allocation: 4 + 12 = 16.
    "allocation": (ALLOCATION, 16),
    # Exercised units keep the lead time: bought in period 1 through the option they serve period 2
    # (4 at 1 = 4) ...
    "lead_time": (LEAD, 4),
    # ... but reserved in period 2, they would arrive after the horizon: 2 a in period 1 (6) and 2 b
    # (20) = 26, as without the option.
    "lead_time_reserved_late": (_with_option(LEAD, reserve_period=2), 26),
    # Only s1 hosts x, and its 3 kW take 3 units of a: 3 exercised (3) + 3 b (15) = 18.  (Were
    # exercised units free of the site rules: 4 exercised + 2 b = 14.)
    "sites": (SITES, 18),
    # Period 1 is one node: k a bought (at 1) and R reserved (at 1) for both paths.  k = 2 serves
    # "lo" and half of "hi"'s first four; "hi" then buys 2 a in period 2 and 6 through the option
    # (at 1: 0.5 each in expectation, against b's 2.5), so R = 6: 2 + 6 + 0.5·(2 + 6) = 12.
    "tree": (TREE, 12),
    # Reserved in period 2 (after the branch), only "hi" reserves: 2 + 0.5·(2 + 6 + 6) = 9.
    "tree_reserved_after_the_branch": (_with_option(TREE, reserve_period=2), 9),
    # Without the option "hi" buys 6 b: 2 + 0.5·(2 + 30) = 18.
    "tree_without_option": ({**TREE, "options": []}, 18),
    # Exercising buys from y: 2 through the option (2) + onboarding 5 = 7 > 2 a (6) ...
    "onboarding_on_exercise": (ONBOARDING, 6),
    # ... and with onboarding 3: 2 + 3 = 5 < 6.  (Free of onboarding the option would give 2.)
    "cheap_onboarding": ({**ONBOARDING, "vendors": [{"name": "y", "onboarding_cost": 3}]}, 5),
    # Reserving is not buying: 2 reserved in period 1 (1 on both paths); "hi" exercises them (2) and
    # pays the onboarding (1): 1 + 0.5·3 = 2.5.  (Without the option "hi" buys 2 a: 0.5·6 = 3; were
    # the reservation onboarding too: 1 + 0.5·1 + 0.5·3 = 3.)
    "tree_onboarding_on_exercise": (TREE_ONBOARDING, 2.5),
    # 1 a (2) + 1 through the option (1.5): x's spend 3.5, take-or-pay 0.5: 4.  (A second unit
    # through the option: 2 + 3 = 5; 1 a + 1 b: 4.5 + take-or-pay 2 = 6.5; were option capex not
    # x's spend: 3.5 + 2 = 5.5.)
    "min_spend": (MIN_SPEND, 4),
}


#: Windows naming the period labelled 0 (procure reads such a bound as absent; see
#: tests/test_options_against_reference.py).  a costs 10 and 1 a period to run; the option's
#: units cost 1 (or per period).
PERIOD_ZERO: dict[str, tuple[dict[str, Any], float]] = {
    # Periods [0, 1], demand 4 in period 1, exercise_until 0: the 4 units are bought through the
    # option in period 0 (4) and run two periods (8): 12.  (Exercising in period 1: 4 + 4 = 8.)
    "exercise_until_0": (
        {
            "periods": [0, 1],
            "demand": {"0": 0, "1": 4},
            "offers": [_offer("a", "x", 10, opex_per_year=1, max_units=4)],
            "options": [{"name": "o", "offer": "a", "max_units": 4, "exercise_price": 1, "exercise_until": 0}],
        },
        12,
    ),
    # Periods [-1, 0], reserve_period 0: the window is period 0 alone, where a unit costs 5:
    # 4 · 5 + opex 4 = 24 (buying a: 40 + 4).  (Exercising at period -1's price 0: 0 + 8 = 8.)
    "reserve_period_0": (
        {
            "periods": [-1, 0],
            "demand": {"-1": 0, "0": 4},
            "offers": [_offer("a", "x", 10, opex_per_year=1, max_units=4)],
            "options": [
                {"name": "o", "offer": "a", "max_units": 4, "exercise_price": {"-1": 0, "0": 5}, "reserve_period": 0}
            ],
        },
        24,
    ),
    # A tree: "lo" needs 2 units in period 1, "hi" 4; exercise_until 0 (the shared node): 4 units
    # exercised there (4) and run two periods on both paths (8): 12.  (2 exercised, "hi" buying 2
    # a: 0.5·(2 + 4) + 0.5·(2 + 20 + 6) = 17.)
    "tree_exercise_until_0": (
        _two_paths(
            {"0": 0, "1": 2},
            {"0": 0, "1": 4},
            periods=[0, 1],
            offers=[_offer("a", "x", 10, opex_per_year=1, max_units=4)],
            options=[{"name": "o", "offer": "a", "max_units": 4, "exercise_price": 1, "exercise_until": 0}],
        ),
        12,
    ),
}


#: Power built for units that only an option supplies (procure bounds the build by what can be
#: bought, leaving the options out; see tests/test_options_against_reference.py).  a draws 1 kW
#: a unit and cannot be bought (max_units 0); the option sells it at 0.5.  Demand 1 needs one
#: unit: 0.5, and 1 kW (1e-6 GW) built at 1e6 $/GW, 1: 1.5.
_ONLY_OPTIONS: dict[str, Any] = {
    "periods": [2027],
    "demand": 1,
    "offers": [_offer("a", "x", 1, power_kw=1, max_units=0)],
    "options": [{"name": "o", "offer": "a", "max_units": 2, "exercise_price": 0.5}],
}
BUILD_FOR_OPTIONS: dict[str, tuple[dict[str, Any], float]] = {
    "continuous": ({**_ONLY_OPTIONS, "power_cap_gw": 0, "power_build": {"cost_per_gw": 1e6}}, 1.5),
    "blocks": (
        {**_ONLY_OPTIONS, "power_cap_gw": 0, "power_build": {"cost_per_gw": 1e6, "block_gw": 1e-6, "max_gw": 2e-6}},
        1.5,
    ),
    "site": (
        {**_ONLY_OPTIONS, "sites": [{"name": "s", "power_cap_gw": 0, "power_build": {"cost_per_gw": 1e6}}]},
        1.5,
    ),
}


@pytest.mark.parametrize("case", [*HAND_OPTIMA, *PERIOD_ZERO, *BUILD_FOR_OPTIONS], ids=str)
def test_hand_computed_optima(case: str) -> None:
    problem, want = {**HAND_OPTIMA, **PERIOD_ZERO, **BUILD_FOR_OPTIONS}[case]
    r = _solve(problem)
    assert r.objective == pytest.approx(want)


def test_the_plans_behind_the_hand_computed_optima() -> None:
    r = _solve(SUPPLY)
    assert r.options == {"up-to": {"reserved": 2, "exercised": {1: 0, 2: 2}}}
    assert r.purchases == {"a": {1: 4, 2: 4}, "b": {1: 0, 2: 0}}
    assert _solve(_with_option(SUPPLY, reserve_cost=4)).options["up-to"]["reserved"] == 0
    assert _solve(_with_option(SUPPLY, exercise_until=1)).options["up-to"]["exercised"] == {1: 2, 2: 0}
    assert _solve(TIERS).options == {"up-to": {"reserved": 3, "exercised": {1: 3}}}
    assert _solve(LEAD).options == {"up-to": {"reserved": 4, "exercised": {1: 4, 2: 0}}}
    assert _solve(SITES).options["up-to"]["exercised"] == {"s1": {1: 3}}
    tree = _solve(TREE)
    assert tree.options == {
        "lo": {"up-to": {"reserved": 6, "exercised": {1: 0, 2: 0}}},
        "hi": {"up-to": {"reserved": 6, "exercised": {1: 0, 2: 6}}},
    }
    late = _solve(_with_option(TREE, reserve_period=2))
    assert late.options["lo"]["up-to"]["reserved"] == 0 and late.options["hi"]["up-to"]["reserved"] == 6


def test_options_cannot_make_a_problem_infeasible_but_can_make_it_feasible() -> None:
    # Without the option the allocation (4) cannot meet demand 10.
    assert _solve({**ALLOCATION, "options": []}).status == "infeasible"
    # An option of 0 units (or less than a lot) adds nothing.
    assert _solve(_with_option(ALLOCATION, max_units=0)).status == "infeasible"
    lots = copy.deepcopy(ALLOCATION)
    lots["offers"][0]["lot_size"] = 4
    lots["vendors"][0]["max_new_compute"] = 8
    # 8 bought + at most 1 lot through the option (max_units 6: one whole lot of 4): 12 >= 10.
    r = _solve(lots)
    assert r.objective == pytest.approx(8 + 4 * 2) and r.options["up-to"]["reserved"] == 4
    assert _solve(_with_option(lots, max_units=3)).status == "infeasible"


# --------------------------------------------------------------------------- #
# The checker
# --------------------------------------------------------------------------- #
def _opt(reserved: float, exercised: dict | None = None) -> dict[str, Any]:
    return {"up-to": {"reserved": reserved, "exercised": exercised or {}}}


def test_checker_counts_exercised_units_in_the_fleet_and_the_cost() -> None:
    plan = {"a": {1: 4, 2: 4}}
    assert checker.violations(SUPPLY, plan) == ["demand[2]: compute 8 < demand 10"]
    assert checker.violations(SUPPLY, plan, options=_opt(2, {2: 2})) == []
    assert checker.fleet(SUPPLY, plan, options=_opt(2, {2: 2})) == {"a": {1: 4, 2: 10}, "b": {1: 0, 2: 0}}
    # capex 8 + reserve 2 + exercise 4, opex 4 + 10
    assert checker.cost(SUPPLY, plan, options=_opt(2, {2: 2})) == pytest.approx(28)
    assert checker.option_capex(SUPPLY, _opt(2, {2: 2})) == {"up-to": {1: 2, 2: 4}}
    # A reservation never exercised costs its reserve_cost only.
    assert checker.cost(SUPPLY, {"a": {1: 4, 2: 4}, "b": {2: 2}}, options=_opt(3)) == pytest.approx(32 + 3)
    # Exercised units do not count against a's max_units (4 bought + 2 exercised in period 2).
    assert checker.violations(SUPPLY, {"a": {1: 4, 2: 6}}) == ["max_units[a][2]: 6 > 4"]
    # The forms of result.options: index = options, "reserved", one column per period.
    frame = pd.DataFrame({"offer": ["a"], "reserved": [2], "exercised": [2], 1: [0], 2: [2]}, index=["up-to"])
    assert checker.violations(SUPPLY, plan, options=frame) == []
    assert checker.cost(SUPPLY, plan, options=frame) == pytest.approx(28)


@pytest.mark.parametrize(
    ("problem", "options", "message"),
    [
        (SUPPLY, _opt(4, {2: 2}), "options[up-to].max_units: 4 units reserved > 3"),
        (SUPPLY, _opt(2, {2: 3}), "options[up-to].exercised: 3 units exercised > 2 reserved"),
        (SUPPLY, _opt(2, {1: 1, 2: 2}), "options[up-to].exercised: 3 units exercised > 2 reserved"),
        (SUPPLY, _opt(-1), "options[up-to].reserved: -1 units < 0"),
        (SUPPLY, _opt(2, {1: -1, 2: 3}), "options[up-to].exercised[1]: -1 units < 0"),
        (_with_option(SUPPLY, exercise_until=1), _opt(2, {2: 2}), "options[up-to].window[2]: 2 units exercised"),
        (_with_option(SUPPLY, reserve_period=2), _opt(2, {1: 2}), "options[up-to].window[1]: 2 units exercised"),
    ],
)
def test_checker_names_each_misuse(problem: dict, options: dict, message: str) -> None:
    found = checker.violations(problem, {"a": {1: 4, 2: 4}}, options=options)
    assert any(m.startswith(message) for m in found), found


def test_checker_lots_and_sites() -> None:
    lots = copy.deepcopy(SUPPLY)
    lots["offers"][0]["lot_size"] = 2
    lots["options"][0]["max_units"] = 5  # two whole lots of 2
    plan = {"a": {1: 4, 2: 4}}
    assert checker.violations(lots, plan, options=_opt(4, {2: 2})) == []
    assert checker.violations(lots, plan, options=_opt(3, {2: 2})) == [
        "options[up-to].lot_size: 3 units reserved not a multiple of 2"
    ]
    assert checker.violations(lots, plan, options=_opt(6, {2: 2})) == ["options[up-to].max_units: 6 units reserved > 5"]
    assert checker.violations(lots, {"a": {1: 4, 2: 4}}, options=_opt(4, {2: 1})) == [
        "options[up-to].lot_size[2]: 1 units exercised not a multiple of 2",
        "demand[2]: compute 9 < demand 10",
    ]
    # Sites: the exercised units are placed, at a site hosting the offer's vendor and within its power.
    site_plan = {"b": {"s1": {1: 3}}}
    assert checker.violations(SITES, site_plan, options=_opt(3, {"s1": {1: 3}})) == []
    assert checker.violations(SITES, site_plan, options=_opt(4, {"s1": {1: 3}, "s2": {1: 1}})) == [
        "options[up-to].site_vendors[s2][1]: 1 units at a site that does not host x"
    ]
    assert checker.violations(SITES, {"b": {"s1": {1: 2}}}, options=_opt(4, {"s1": {1: 4}})) == [
        "site_power_cap[s1][1]: 4e-06 GW > 3e-06 GW"
    ]
    with pytest.raises(ValueError, match="per site"):
        checker.violations(SITES, site_plan, options=_opt(3, {1: 3}))


def test_checker_option_capex_in_budgets_spend_and_onboarding() -> None:
    p = copy.deepcopy(SUPPLY)
    p["budget"] = {"1": 6, "2": 8}
    plan = {"a": {1: 4, 2: 4}}
    # Period 1: 4 capex + 2 reserved = 6; period 2: 4 + 2·2 = 8.
    assert checker.violations(p, plan, options=_opt(2, {2: 2})) == []
    assert checker.violations(p, plan, options=_opt(3, {2: 2})) == ["budget[1]: capex 7 > 6"]
    p["budget"] = None
    p["total_budget"] = 13
    assert checker.violations(p, plan, options=_opt(2, {2: 2})) == ["total_budget: capex 14 > 13"]
    del p["total_budget"]
    # Vendor spend: x's capex is 8 + 2 + 4 = 14.
    p["vendors"] = [{"name": "x", "max_spend": 13}]
    assert checker.violations(p, plan, options=_opt(2, {2: 2})) == ["max_spend[x]: capex 14 > 13"]
    assert checker.vendor_capex(p, plan, options=_opt(2, {2: 2})) == {"x": 14, "y": 0}
    p["vendors"] = [{"name": "x", "min_spend": 20}]
    assert checker.take_or_pay(p, plan, options=_opt(2, {2: 2})) == {"x": 6, "y": 0}
    assert checker.cost(p, plan, options=_opt(2, {2: 2})) == pytest.approx(28 + 6)
    # Onboarding: exercising buys from the vendor, reserving alone does not.
    q = copy.deepcopy(SUPPLY)
    q["options"][0]["offer"] = "b"
    q["vendors"] = [{"name": "y", "onboarding_cost": 100}]
    # capex 8 + reserved 2 + opex 4 + 8 (the two unexercised units never run)
    assert checker.cost(q, plan, options=_opt(2)) == pytest.approx(8 + 2 + 12)
    # capex 8 + reserved 2 + exercised 2·2 + opex 4 + 10 + y's onboarding 100
    assert checker.cost(q, plan, options=_opt(2, {2: 2})) == pytest.approx(8 + 2 + 4 + 14 + 100)
    assert checker.cost(q, {**plan, "b": {2: 2}}, options=_opt(2)) == pytest.approx(8 + 2 + 10 + 14 + 100)


def test_checker_exercised_units_are_outside_min_order_and_the_allocation() -> None:
    p = copy.deepcopy(ALLOCATION)
    p["offers"][0]["min_order"] = 3
    assert checker.violations(p, {"a": {1: 4}}, options=_opt(6, {1: 6})) == []
    assert checker.new_compute_by_vendor(p, {"a": {1: 4}}) == {"x": {1: 4}}
    assert checker.violations(p, {"a": {1: 5}}, options=_opt(6, {1: 6})) == [
        "max_new_compute[1][x]: compute bought 5 > 4"
    ]
    # One unit through the option is fine (min_order 3 is the offer's, for purchases).
    assert checker.violations({**p, "demand": 5}, {"a": {1: 4}}, options=_opt(1, {1: 1})) == []


def test_checker_non_anticipativity_of_options() -> None:
    plan = {"lo": {"a": {1: 2}}, "hi": {"a": {1: 2, 2: 2}}}
    good = {"lo": _opt(6), "hi": _opt(6, {2: 6})}
    assert checker.violations(TREE, plan, options=good) == []
    assert checker.objective(TREE, plan, options=good) == pytest.approx(12)
    clairvoyant = {"lo": _opt(0), "hi": _opt(6, {2: 6})}
    assert checker.violations(TREE, plan, options=clairvoyant) == [
        "nonanticipativity[lo|hi][options[up-to].reserved]: 0 units in lo != 6 in hi"
    ]
    # Reserved in period 2 (after the branch), the paths may differ.
    assert checker.violations(_with_option(TREE, reserve_period=2), plan, options=clairvoyant) == []
    # Units exercised in period 1 are one decision for both paths.
    early = {"lo": _opt(6, {1: 2}), "hi": _opt(6, {2: 6})}
    assert checker.violations(TREE, plan, options=early) == [
        "nonanticipativity[lo|hi][options[up-to]][1]: 2 units exercised in lo != 0 in hi"
    ]
    # The tree form of result.options: a (scenario, option) index.
    index = pd.MultiIndex.from_tuples([("lo", "up-to"), ("hi", "up-to")], names=["scenario", "option"])
    frame = pd.DataFrame({"offer": ["a", "a"], "reserved": [6, 6], 1: [0, 0], 2: [0, 6]}, index=index)
    assert checker.violations(TREE, plan, options=frame) == []
    assert checker.nonanticipativity_violations(TREE, plan, options=clairvoyant) != []


# --------------------------------------------------------------------------- #
# Parsing and validation
# --------------------------------------------------------------------------- #
def test_parse_defaults() -> None:
    p = spec.parse({**SUPPLY, "options": [{"name": "o", "offer": "b", "max_units": 3}]})
    (x,) = p.options
    assert (x.reserve_cost, x.reserve_period, x.exercise_until) == (0.0, 1, 2)
    assert x.exercise_price == {1: 5.0, 2: 5.0}  # the offer's unit_cost
    assert x.window(p.periods) == [0, 1] and x.max_lots(2) == 1
    p = spec.parse(_with_option(SUPPLY, exercise_price={"1": 0, "2": 2.5}, reserve_period=2, exercise_until=2))
    assert p.options[0].exercise_price == {1: 0.0, 2: 2.5} and p.options[0].window(p.periods) == [1]
    assert spec.parse({**SUPPLY, "options": []}).options == []


def _option_errors(**fields: Any) -> list[str]:
    return spec.validate({**SUPPLY, "options": [{"name": "o", "offer": "a", "max_units": 4, **fields}]})


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"strike": 2}, ["options[0].strike: unknown field"]),
        ({"offer": "ghost"}, ["options[0].offer: 'ghost' is not an offer"]),
        ({"offer": None}, ["options[0].offer: required"]),
        ({"name": None}, ["options[0].name: expected a string, got None"]),
        ({"max_units": None}, ["options[0].max_units: required"]),
        ({"max_units": -1}, ["options[0].max_units: -1 out of range"]),
        ({"max_units": 2.5}, ["options[0].max_units: expected an int, got 2.5"]),
        ({"reserve_cost": -1}, ["options[0].reserve_cost: -1 out of range"]),
        ({"reserve_period": 3}, ["options[0].reserve_period: 3 is not a period of [1, 2]"]),
        ({"exercise_until": 0}, ["options[0].exercise_until: 0 is not a period of [1, 2]"]),
        ({"reserve_period": True}, ["options[0].reserve_period: True is not a period of [1, 2]"]),
        ({"reserve_period": 2, "exercise_until": 1}, ["options[0].exercise_until: 1 is before reserve_period 2"]),
        ({"exercise_price": -1}, ["options[0].exercise_price: -1 < 0.0"]),
        (
            {"exercise_price": {"1": 2}},
            ["options[0].exercise_price: keys ['1'] must name every period [1, 2] exactly once"],
        ),
    ],
)
def test_validation_errors(fields: dict, errors: list[str]) -> None:
    assert _option_errors(**fields) == errors


def test_validation_of_the_list() -> None:
    assert _option_errors(reserve_period=2, exercise_until=2, reserve_cost=0.5, exercise_price={1: 1, 2: 2}) == []
    twice = {**SUPPLY, "options": [SUPPLY["options"][0]] * 2}
    assert spec.validate(twice) == ["options[1].name: duplicate option name 'up-to'"]
    assert spec.validate({**SUPPLY, "options": {"name": "o"}}) == [
        "options: expected a list of options, got {'name': 'o'}"
    ]
    assert spec.validate({**SUPPLY, "options": ["o"]}) == ["options[0]: expected a mapping, got 'o'"]
    # An offer with price_tiers has no one unit cost: exercise_price is required.
    tiers = copy.deepcopy(TIERS)
    del tiers["options"][0]["exercise_price"]
    assert spec.validate(tiers) == ["options[0].exercise_price: required for offer 'a', which has price_tiers"]


# --------------------------------------------------------------------------- #
# Property tests
# --------------------------------------------------------------------------- #
TINY_FLAGS = [
    {},
    {"sites": True},
    {"demand_scenarios": True},
    {"commercial": True, "vendor_rules": True},
    {"unserved": True, "power_build": True, "workloads": True},
]


def _pulp_matches_brute_force(problem: dict) -> None:
    assert spec.validate(problem) == []
    r = pulp_model.solve_reference_plan(problem, time_limit=pulp_model.ORACLE_SECONDS)
    value, purchases, builds, options = bruteforce.brute_force_options_plan(problem, max_lots=3)
    if value is None:
        assert r.status == "infeasible", r
        return
    assert r.status == "optimal", r.status
    assert checker.violations(problem, r.purchases, builds=r.builds, options=r.options) == []
    assert checker.violations(problem, purchases, builds=builds, options=options) == []
    assert math.isclose(r.objective, value, rel_tol=1e-7, abs_tol=1e-6), (r, value, purchases, builds, options)


@pytest.mark.parametrize("flags", TINY_FLAGS, ids=lambda f: "+".join(f) or "plain")
def test_pulp_equals_brute_force_with_options(flags: dict[str, bool]) -> None:
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(strategies.tiny_problems(max_lots=3, options=True, **flags))
    def check(problem: dict) -> None:
        _pulp_matches_brute_force(problem)

    check()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.fixed_dictionaries(
        {f: st.booleans() for f in ("commercial", "sites", "demand_scenarios", "vendor_rules")}
    ).flatmap(lambda flags: strategies.problems(options=True, **flags))
)
def test_reference_plans_keep_the_options_rules(problem: dict) -> None:
    """The reference's plan passes its checker, and the MIP's objective is the checker's."""
    assert spec.validate(problem) == []
    r = pulp_model.solve_reference_plan(problem, time_limit=pulp_model.ORACLE_SECONDS)
    if r.objective is None:
        return
    assert checker.violations(problem, r.purchases, builds=r.builds, options=r.options) == []
    recomputed = checker.objective(problem, r.purchases, builds=r.builds, options=r.options)
    assert close(r.objective, recomputed)
    if r.status == "optimal":
        assert abs(r.model_objective - recomputed) <= 1e-6 * max(1.0, abs(recomputed)), (r, recomputed)


@settings(max_examples=80, deadline=None)
@given(
    st.fixed_dictionaries(
        {f: st.booleans() for f in ("commercial", "sites", "workloads", "demand_scenarios", "power_build")}
    ).flatmap(
        lambda flags: st.one_of(
            strategies.problems(scenarios=True, hhi=True, options=True, **flags),
            strategies.tiny_problems(options=True, **flags),
        )
    )
)
def test_strategy_problems_with_options_are_valid(problem: dict) -> None:
    assert spec.validate(problem) == []
    assert problem["options"]


@settings(max_examples=150, deadline=None)
@given(strategies.invalid_problems(options=True))
def test_option_mutations_are_invalid(case: tuple[dict, str]) -> None:
    problem, fragment = case
    errors = spec.validate(problem)
    assert errors, (fragment, problem)
    assert all(fragment in e for e in errors), (fragment, errors)
