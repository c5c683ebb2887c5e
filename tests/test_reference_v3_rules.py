"""Self-tests of the reference tools for contract v3's "two vendor rules".

Vendor fields `min_share` (a floor: C[v,t] >= min_share_v · C[t] in every period with
demand) and `max_new_compute` (the vendor's allocation: compute bought in period t, over
every site and before any lead time, <= max_new_compute_v[t]).  Parsing and validation,
the checker on hand-made plans that break one rule only, the PuLP model's optimum on tiny
hand-computed problems, the PuLP model against the brute force, and the strategies
against `validate`.  Nothing here calls `procure` (which does not take the fields yet).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_reference_oracle import assert_oracle_consistent
from test_reference_v2 import V2_FLAG_NAMES, _pulp_matches_brute_force  # (its brute force: up to 3 lots)

try:
    from tests.reference import bruteforce, checker, pulp_model, spec, strategies
except ImportError:  # pytest run with tests/ (not the repo root) on sys.path
    from reference import bruteforce, checker, pulp_model, spec, strategies


def close(a: float, b: float, rel: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


def _offer(name: str, vendor: str, unit_cost: Any, **fields: Any) -> dict:
    """An offer of one compute per unit."""
    return {"name": name, "vendor": vendor, "unit_cost": unit_cost, "compute": 1, **fields}


def _optimum(problem: dict) -> float:
    """The PuLP model's proven optimum, which the brute force (up to 12 lots) confirms."""
    r = pulp_model.solve_reference_plan(problem)
    assert r.status == "optimal", r
    assert checker.violations(problem, r.purchases, builds=r.builds) == []
    assert close(bruteforce.brute_force_plan(problem, max_lots=12)[0], r.objective, 1e-7)
    return r.objective


# --------------------------------------------------------------------------- #
# Hand-computed problems
# --------------------------------------------------------------------------- #
# a (vendor x) costs 1, b (vendor y) costs 3; demand 10; y's floor is 30 %.
FLOOR = {
    "periods": [1],
    "demand": 10,
    "offers": [_offer("a", "x", 1), _offer("b", "y", 3)],
    "vendors": [{"name": "y", "min_share": 0.3}],
}
# x has 10 installed units, which meet demand on their own; y (lots of 4) must hold half.
BEYOND_DEMAND = {
    "periods": [1],
    "demand": 10,
    "offers": [_offer("a", "x", 1, installed=10), _offer("b", "y", 3, lot_size=4)],
    "vendors": [{"name": "y", "min_share": 0.5}],
}
# The floor binds only in period 2 (period 1 has no demand); b lives one period and is
# cheap in period 1.
NO_DEMAND_NO_FLOOR = {
    "periods": [1, 2],
    "demand": {"1": 0, "2": 10},
    "offers": [_offer("a", "x", 1, installed=10), _offer("b", "y", {"1": 1, "2": 5}, lifetime=1)],
    "vendors": [{"name": "y", "min_share": 0.5}],
}
# Units bought in t count against the allocation of t, not of t + lead_time.
ALLOCATION_LEAD = {
    "periods": [1, 2, 3],
    "demand": {"1": 0, "2": 0, "3": 10},
    "offers": [_offer("a", "x", {"1": 3, "2": 1, "3": 1}, lead_time=1)],
    "vendors": [{"name": "x", "max_new_compute": {"1": 10, "2": 4, "3": 10}}],
}
# Compute 2 per unit: the allocation of 12 compute is 6 units a period.
ALLOCATION_COMPUTE = {
    "periods": [1, 2],
    "demand": {"1": 0, "2": 20},
    "offers": [{"name": "a", "vendor": "x", "unit_cost": {"1": 2, "2": 1}, "compute": 2}],
    "vendors": [{"name": "x", "max_new_compute": 12}],
}
# Two demand paths sharing period 1 (both demand 0 there): period 1's purchase is common.
ALLOCATION_TREE = {
    "periods": [1, 2],
    "demand_scenarios": [
        {"name": "lo", "probability": 0.5, "demand": {"1": 0, "2": 4}},
        {"name": "hi", "probability": 0.5, "demand": {"1": 0, "2": 10}},
    ],
    "offers": [_offer("a", "x", {"1": 2, "2": 1})],
    "vendors": [{"name": "x", "max_new_compute": 6}],
}
# The floor on each path with that path's demand: "lo" has none in period 2, "hi" has 10.
FLOOR_TREE = {
    "periods": [1, 2],
    "demand_scenarios": [
        {"name": "lo", "probability": 0.5, "demand": {"1": 0, "2": 0}},
        {"name": "hi", "probability": 0.5, "demand": {"1": 0, "2": 10}},
    ],
    "offers": [_offer("a", "x", 1, installed=10), _offer("b", "y", 3)],
    "vendors": [{"name": "y", "min_share": 0.5}],
}


def test_min_share_optimum_by_hand():
    # Without the floor: 10 a = 10.  With it: min a + 3b s.t. a + b >= 10, b >= 0.3(a + b);
    # more compute than 10 only costs, so a + b = 10, b >= 3: 7·1 + 3·3 = 16.
    assert _optimum({**FLOOR, "vendors": []}) == pytest.approx(10)
    assert _optimum(FLOOR) == pytest.approx(16)
    # A floor of 0 (the default) is no rule.
    assert _optimum({**FLOOR, "vendors": [{"name": "y", "min_share": 0}]}) == pytest.approx(10)


def test_min_share_forces_buying_beyond_demand():
    # C_y >= 0.5·(10 installed + C_y)  =>  C_y >= 10, in lots of 4: 12 units · 3 = 36, though
    # the installed units alone meet demand (optimum 0 without the floor).
    assert _optimum({**BEYOND_DEMAND, "vendors": []}) == pytest.approx(0)
    assert _optimum(BEYOND_DEMAND) == pytest.approx(36)


def test_generous_bound_covers_what_a_floor_forces():
    # Floor 0.9 against 10 installed units: C_y >= 0.9·(10 + C_y)  =>  C_y >= 90, so 90 · 3 = 270.
    # The heuristic bound G on y's purchases must leave room for 90 units on the first solve.
    problem = {**copy.deepcopy(BEYOND_DEMAND), "demand": 1, "vendors": [{"name": "y", "min_share": 0.9}]}
    problem["offers"][1].pop("lot_size")
    p = spec.parse(problem)
    assert pulp_model._generous_units(p, p.offers[1]) >= 90
    r = pulp_model.solve_reference_plan(problem)
    assert r.status == "optimal" and close(r.objective, 270), r
    assert r.purchases == {"a": {1: 0}, "b": {1: 90}}


def test_min_share_only_in_periods_with_demand():
    # Only period 2 has demand: 10 units of b bought in period 2 (b lives one period) at 5 = 50.
    # A floor in period 1 too would add 10 units there at 1: 60.
    assert _optimum(NO_DEMAND_NO_FLOOR) == pytest.approx(50)


def test_max_new_compute_counts_units_when_bought_not_when_operational():
    # Demand in period 3 needs units bought in 1 or 2 (lead time 1; bought in 3 they arrive
    # after the horizon).  Period 2 takes 4 at 1, period 1 the other 6 at 3: 4 + 18 = 22.
    # (Counted at t + lead_time instead, all 10 could be bought in period 2 for 10.)
    assert _optimum({**ALLOCATION_LEAD, "vendors": []}) == pytest.approx(10)
    assert _optimum(ALLOCATION_LEAD) == pytest.approx(22)


def test_max_new_compute_is_compute_not_units():
    # 10 units of compute 2 meet demand 20; the allocation 12 allows 6 units a period:
    # 6 in period 2 at 1, 4 in period 1 at 2: 6 + 8 = 14 (without it: 10 · 1 = 10).
    assert _optimum({**ALLOCATION_COMPUTE, "vendors": []}) == pytest.approx(10)
    assert _optimum(ALLOCATION_COMPUTE) == pytest.approx(14)


def test_max_new_compute_on_every_path_with_a_shared_first_period():
    # Period 1 is common (k units at 2).  "hi" then buys 10 − k <= 6 at 1, so k >= 4; "lo"
    # buys max(0, 4 − k).  k = 4: lo 8, hi 8 + 6 = 14, expected 11 (k = 5: lo 10, hi 15).
    # Without the allocation: lo 4, hi 10, expected 7.
    assert _optimum({**ALLOCATION_TREE, "vendors": []}) == pytest.approx(7)
    assert _optimum(ALLOCATION_TREE) == pytest.approx(11)
    r = pulp_model.solve_reference_plan(ALLOCATION_TREE)
    assert r.purchases == {"lo": {"a": {1: 4, 2: 0}}, "hi": {"a": {1: 4, 2: 6}}}


def test_min_share_on_every_path_with_its_own_demand():
    # "lo" has no demand in period 2: no floor, cost 0.  "hi": C_y >= 0.5·(10 + C_y), C_y >= 10,
    # 10 · 3 = 30.  Expected 0.5·0 + 0.5·30 = 15 (a floor on "lo" too would give 30).
    assert _optimum(FLOOR_TREE) == pytest.approx(15)


def test_rules_that_cannot_hold_are_infeasible():
    # An allocation too small for demand: 10 units in one period, at most 6 compute.
    short = {"periods": [1], "demand": 10, "offers": [_offer("a", "x", 1)]}
    short["vendors"] = [{"name": "x", "max_new_compute": 6}]
    assert spec.validate(short) == []
    assert pulp_model.solve_reference_plan(short).status == "infeasible"
    assert bruteforce.brute_force(short, max_lots=12) == (None, None)
    # An allocation of 0 in period 1, where the lead-time-0 demand is.
    zero = {**FLOOR, "vendors": [{"name": "x", "max_new_compute": 0}, {"name": "y", "max_new_compute": 0}]}
    assert pulp_model.solve_reference_plan(zero).status == "infeasible"
    # A floor for a vendor no site hosts: y can never have compute, while demand needs some.
    unhosted = {**copy.deepcopy(FLOOR), "sites": [{"name": "s", "vendors": ["x"]}]}
    assert spec.validate(unhosted) == []
    assert pulp_model.solve_reference_plan(unhosted).status == "infeasible"
    assert bruteforce.brute_force(unhosted, max_lots=12) == (None, None)


# --------------------------------------------------------------------------- #
# The checker on plans breaking one rule only
# --------------------------------------------------------------------------- #
def test_checker_min_share():
    assert checker.violations(FLOOR, {"a": {1: 7}, "b": {1: 3}}) == []
    assert checker.violations(FLOOR, {"a": {1: 8}, "b": {1: 2}}) == ["min_share[1][y]: compute 2 < 0.3 × total 10"]
    assert checker.violations(FLOOR, {"a": {1: 10}}) == ["min_share[1][y]: compute 0 < 0.3 × total 10"]
    # Buying more of y than demand needs keeps the floor (x's installed units count in C[t]).
    assert checker.violations(BEYOND_DEMAND, {"b": {1: 12}}) == []
    assert checker.violations(BEYOND_DEMAND, {"b": {1: 8}}) == ["min_share[1][y]: compute 8 < 0.5 × total 18"]
    # No floor in a period without demand.
    assert checker.violations(NO_DEMAND_NO_FLOOR, {"b": {2: 10}}) == []
    assert checker.violations(NO_DEMAND_NO_FLOOR, {"b": {1: 10}}) == ["min_share[2][y]: compute 0 < 0.5 × total 10"]


def test_checker_max_new_compute():
    assert checker.violations(ALLOCATION_LEAD, {"a": {1: 6, 2: 4}}) == []
    # Bought in 2, operational in 3: counts against period 2's allocation of 4.
    assert checker.violations(ALLOCATION_LEAD, {"a": {2: 10}}) == ["max_new_compute[2][x]: compute bought 10 > 4"]
    assert checker.new_compute_by_vendor(ALLOCATION_LEAD, {"a": {2: 10}}) == {"x": {1: 0, 2: 10, 3: 0}}
    # Compute, not units: 7 units of compute 2 are 14 > 12.
    assert checker.violations(ALLOCATION_COMPUTE, {"a": {1: 3, 2: 7}}) == [
        "max_new_compute[2][x]: compute bought 14 > 12"
    ]
    # Every site: 2 + 2 units of compute 2 at two sites are 8 > 6, though each site's 4 is not.
    sites = {
        "periods": [1],
        "demand": 8,
        "offers": [{"name": "a", "vendor": "x", "unit_cost": 1, "compute": 2}],
        "sites": [{"name": "s1"}, {"name": "s2"}],
        "vendors": [{"name": "x", "max_new_compute": 6}],
    }
    assert spec.validate(sites) == []
    plan = {"a": {"s1": {1: 2}, "s2": {1: 2}}}
    assert checker.violations(sites, plan) == ["max_new_compute[1][x]: compute bought 8 > 6"]
    assert checker.new_compute_by_vendor(sites, plan) == {"x": {1: 8}}
    # With the allocation summed over every offer of the vendor.
    two = copy.deepcopy(ALLOCATION_LEAD)
    two["offers"].append(_offer("c", "x", 1, lead_time=1))
    assert checker.violations(two, {"a": {1: 6, 2: 3}, "c": {2: 1}}) == []
    assert checker.violations(two, {"a": {1: 6, 2: 3}, "c": {2: 2}}) == ["max_new_compute[2][x]: compute bought 5 > 4"]


def test_checker_rules_on_every_path():
    lo, hi = {"a": {1: 4}}, {"a": {1: 4, 2: 6}}
    assert checker.violations(ALLOCATION_TREE, {"lo": lo, "hi": hi}) == []
    assert checker.violations(ALLOCATION_TREE, {"lo": lo, "hi": {"a": {1: 4, 2: 7}}}) == [
        "scenario[hi]: max_new_compute[2][x]: compute bought 7 > 6"
    ]
    # The floor holds on "hi" only ("lo" has no demand in period 2).
    assert checker.violations(FLOOR_TREE, {"lo": {}, "hi": {"b": {2: 10}}}) == []
    assert checker.violations(FLOOR_TREE, {"lo": {}, "hi": {"b": {2: 9}}}) == [
        "scenario[hi]: min_share[2][y]: compute 9 < 0.5 × total 19"
    ]


# --------------------------------------------------------------------------- #
# Parsing and validation
# --------------------------------------------------------------------------- #
def _two_vendors(*entries: dict, **top: Any) -> dict:
    """Vendors x and y over two periods, with these vendor entries."""
    return {
        "periods": [2026, 2027],
        "demand": 10,
        "offers": [_offer("a", "x", 1), _offer("b", "y", 3)],
        "vendors": list(entries),
        **top,
    }


def test_parse_defaults_and_values():
    p = spec.parse(_two_vendors({"name": "x", "onboarding_cost": 1}))
    assert p.vendors["x"].min_share == 0 and p.vendors["x"].max_new_compute is None
    assert p.vendors["y"].min_share == 0 and p.vendors["y"].max_new_compute is None
    p = spec.parse(
        _two_vendors(
            {"name": "x", "min_share": 0.25, "max_new_compute": 5},
            {"name": "y", "max_new_compute": {"2026": 1, "2027": 2.5}},
        )
    )
    assert p.vendors["x"].min_share == 0.25 and p.vendors["x"].max_new_compute == {2026: 5, 2027: 5}
    assert p.vendors["y"].max_new_compute == {2026: 1, 2027: 2.5}
    assert {"min_share", "max_new_compute"} <= spec.VENDOR_FIELDS


@pytest.mark.parametrize(
    "entry, errors",
    [
        ({"min_share": -0.1}, ["vendors[0].min_share: -0.1 out of range"]),
        ({"min_share": 1}, ["vendors[0].min_share: 1 out of range"]),
        ({"min_share": "0.2"}, ["vendors[0].min_share: expected a finite number, got '0.2'"]),
        ({"min_share": True}, ["vendors[0].min_share: expected a finite number, got True"]),
        ({"max_new_compute": -1}, ["vendors[0].max_new_compute: -1 < 0.0"]),
        ({"max_new_compute": {"2026": 5, "2027": -1}}, ["vendors[0].max_new_compute: ['2027'] -1 < 0.0"]),
        (
            {"max_new_compute": {"2026": 5}},
            ["vendors[0].max_new_compute: keys ['2026'] must name every period [2026, 2027] exactly once"],
        ),
        ({"max_new_compute": "5"}, ["vendors[0].max_new_compute: expected a number or a mapping, got '5'"]),
        ({"minshare": 0.1}, ["vendors[0].minshare: unknown field"]),
        # min_share above the vendor's own max_share.
        ({"min_share": 0.6, "max_share": 0.5}, ["vendors[0].min_share: 0.6 above vendor 'x''s max_share 0.5"]),
    ],
)
def test_validation_errors(entry, errors):
    assert spec.validate(_two_vendors({"name": "x", **entry})) == errors


def test_min_share_against_max_share_and_the_sum():
    # Above risk.max_share when the vendor has no max_share of its own; its own one wins.
    assert spec.validate(_two_vendors({"name": "y", "min_share": 0.6}, risk={"max_share": 0.5})) == [
        "vendors[0].min_share: 0.6 above vendor 'y''s max_share 0.5"
    ]
    assert spec.validate(_two_vendors({"name": "y", "min_share": 0.6, "max_share": 0.7}, risk={"max_share": 0.5})) == []
    # Equal to max_share is allowed ("above" is the error).
    assert spec.validate(_two_vendors({"name": "y", "min_share": 0.5, "max_share": 0.5})) == []
    # Summed over vendors: 1 is allowed, also with float noise (0.05 + 0.55 + 0.3 + 0.1 > 1 in floats).
    assert spec.validate(_two_vendors({"name": "x", "min_share": 0.5}, {"name": "y", "min_share": 0.5})) == []
    shares = {"x": 0.05, "y": 0.55, "z": 0.3, "w": 0.1}
    four = _two_vendors(*({"name": v, "min_share": m} for v, m in shares.items()))
    four["offers"] += [_offer("c", "z", 2), _offer("d", "w", 2)]
    assert sum(shares.values()) > 1 and spec.validate(four) == []
    assert spec.validate(_two_vendors({"name": "x", "min_share": 0.6}, {"name": "y", "min_share": 0.5})) == [
        "vendors: min_share summed over vendors is 1.1 > 1"
    ]
    # A min_share out of range is reported alone (no sum or max_share error from it).
    assert spec.validate(
        _two_vendors({"name": "x", "min_share": 0.6}, {"name": "y", "min_share": 1, "max_share": 0.5})
    ) == ["vendors[1].min_share: 1 out of range"]


# --------------------------------------------------------------------------- #
# Property tests
# --------------------------------------------------------------------------- #
TINY_FLAGS = [
    {},
    {"sites": True},
    {"demand_scenarios": True},
    {"commercial": True, "unserved": True, "workloads": True},
]


@pytest.mark.parametrize("flags", TINY_FLAGS, ids=lambda f: "+".join(f) or "plain")
def test_pulp_equals_brute_force_with_vendor_rules(flags):
    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(strategies.tiny_problems(max_lots=3, vendor_rules=True, **flags))
    def check(problem):
        _pulp_matches_brute_force(problem)

    check()


@st.composite
def binding_rule_problems(draw, flags: dict[str, bool]) -> dict:
    """A tiny problem whose (reference) optimum breaks a vendor rule added to it: an allocation
    below what the optimum buys from a vendor in one period (none in the others), or a floor
    above a vendor's share of the optimum's compute in a period with demand (so the rule
    binds, or makes the problem infeasible); with demand scenarios, on one path."""
    problem = copy.deepcopy(draw(strategies.tiny_problems(max_lots=3, **flags)))
    r = pulp_model.solve_reference_plan(problem)
    assume(r.status == "optimal")
    name, _, q = draw(st.sampled_from(spec.scenario_problems(problem)))
    plan = r.purchases[name] if name else r.purchases  # (name "" without demand scenarios)
    v = draw(st.sampled_from(list(q.vendors)))
    entry: dict[str, Any] = {"name": v}
    if draw(st.booleans()):
        assume(len(q.vendors) > 1)
        compute = checker.compute_by_vendor(q, plan)
        totals = {period: sum(c[period] for c in compute.values()) for period in q.periods}
        shares = [compute[v][t] / totals[t] for t in q.periods if q.demand[t] > 0 and totals[t] > 0]
        assume(shares)
        share = strategies._nice(min(shares) + draw(st.sampled_from([0.01, 0.05, 0.1, 0.25])))
        assume(share <= q.vendors[v].max_share and share < 1)
        entry["min_share"] = share
    else:
        bought = checker.new_compute_by_vendor(q, plan)[v]
        assume(max(bought.values()) > 0)
        cut = draw(st.sampled_from([t for t, x in bought.items() if x > 0]))
        step = min(o.compute * o.lot_size for o in q.offers_of(v))
        allocation = dict.fromkeys(q.periods, 1e6)  # (no allocation to speak of in the other periods)
        allocation[cut] = strategies._nice(max(0.0, bought[cut] - draw(st.sampled_from([0.5, 1.0])) * step))
        entry["max_new_compute"] = allocation if draw(st.booleans()) else {str(t): x for t, x in allocation.items()}
    entries = problem.setdefault("vendors", [])
    old = next((e for e in entries if e["name"] == v), None)
    if old is None:
        entries.append(entry)
    else:
        old.update(entry)
    assert spec.validate(problem) == []
    assert checker.violations(problem, r.purchases) != []
    return problem


@pytest.mark.parametrize("flags", TINY_FLAGS, ids=lambda f: "+".join(f) or "plain")
def test_pulp_equals_brute_force_when_a_rule_binds(flags):
    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(binding_rule_problems(flags))
    def check(problem):
        _pulp_matches_brute_force(problem)

    check()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.fixed_dictionaries({f: st.booleans() for f in ("scenarios", "commercial", "sites", "workloads")}).flatmap(
        lambda flags: strategies.problems(vendor_rules=True, **flags)
    )
)
def test_reference_plans_keep_the_vendor_rules(problem):
    assert_oracle_consistent(problem)


@settings(max_examples=80, deadline=None)
@given(
    st.fixed_dictionaries({f: st.booleans() for f in V2_FLAG_NAMES}).flatmap(
        lambda flags: st.one_of(
            strategies.problems(scenarios=True, hhi=True, vendor_rules=True, **flags),
            strategies.tiny_problems(vendor_rules=True, **flags),
        )
    )
)
def test_strategy_problems_with_vendor_rules_are_valid(problem):
    assert spec.validate(problem) == []


@settings(max_examples=120, deadline=None)
@given(strategies.invalid_problems(vendor_rules=True))
def test_vendor_rule_mutations_are_invalid(case):
    problem, fragment = case
    errors = spec.validate(problem)
    assert errors, (fragment, problem)
    assert all(fragment in e for e in errors), (fragment, errors)
