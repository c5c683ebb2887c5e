"""Contract v2, demand scenarios: the extensive form, non-anticipativity, VSS and EVPI."""

from __future__ import annotations

import copy
import itertools
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import procure
from procure.base.errors import ProblemError
from procure.problem.evaluate import evaluate, objective_of, violations
from procure.stochastic.tree_solve import scenario_cvar

PERIODS = [2026, 2027, 2028]


def _base(**top: Any) -> dict[str, Any]:
    """Two chips of two vendors; the cheap one draws more power."""
    problem: dict[str, Any] = {
        "periods": PERIODS,
        "offers": [
            {"name": "hot", "vendor": "x", "unit_cost": 100.0, "compute": 1.0, "power_kw": 2.0, "lot_size": 1},
            {"name": "cool", "vendor": "y", "unit_cost": 130.0, "compute": 1.0, "power_kw": 1.0, "lot_size": 1},
        ],
    }
    problem.update(top)
    return problem


def _tree(paths: list[tuple[str, float, list[float]]], **top: Any) -> dict[str, Any]:
    return _base(
        demand_scenarios=[
            {"name": n, "probability": p, "demand": dict(zip(map(str, PERIODS), d))} for n, p, d in paths
        ],
        **top,
    )


def _alone(problem: dict[str, Any], demand: list[float]) -> dict[str, Any]:
    out = copy.deepcopy(problem)
    out.pop("demand_scenarios")
    out["demand"] = dict(zip(map(str, PERIODS), demand))
    return out


def _shared_history(problem: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(a, b, t): scenarios a, b have equal demand up to and including period position t —
    computed from the problem mapping itself."""
    paths = {s["name"]: [s["demand"][str(p)] for p in PERIODS] for s in problem["demand_scenarios"]}
    out = []
    for (a, da), (b, db) in itertools.combinations(paths.items(), 2):
        for t in range(len(PERIODS)):
            if da[: t + 1] == db[: t + 1]:
                out.append((a, b, t))
    return out


def test_one_scenario_is_the_problem_without_scenarios() -> None:
    problem = _tree([("only", 1.0, [10, 20, 30])], power_cap_gw=0.00004)
    tree = procure.solve(problem, mip_gap=0)
    plain = procure.solve(_alone(problem, [10, 20, 30]), mip_gap=0)
    assert isinstance(tree, procure.TreeResult)
    assert tree.status == plain.status == "optimal"
    assert tree.objective == pytest.approx(plain.objective, rel=1e-9)
    assert tree.purchases.loc["only"].equals(plain.purchases)
    assert tree.check() == []


def test_scenarios_with_the_same_demand_give_the_deterministic_plan() -> None:
    same = [10.0, 25.0, 40.0]
    problem = _tree([("a", 0.25, same), ("b", 0.5, same), ("c", 0.25, same)], power_cap_gw=0.00007)
    tree = procure.solve(problem, mip_gap=0)
    plain = procure.solve(_alone(problem, same), mip_gap=0)
    assert tree.objective == pytest.approx(plain.objective, rel=1e-9)
    assert tree.tree is not None and tree.tree.n_paths == 1 and tree.tree.members == (("a", "b", "c"),)
    assert tree.here_and_now_periods == tuple(PERIODS)


def test_first_period_decisions_are_shared_and_later_ones_adapt() -> None:
    # power is tight: the cheap hot chip fits only while demand is low
    problem = _tree(
        [("low", 0.5, [10, 12, 14]), ("high", 0.5, [10, 30, 50])],
        power_cap_gw=0.00006,
    )
    result = procure.solve(problem, mip_gap=0)
    assert result.status == "optimal", result.message
    low, high = result.scenario_results["low"], result.scenario_results["high"]
    assert low.purchases.loc[2026].equals(high.purchases.loc[2026])
    assert not low.purchases.loc[2027].equals(high.purchases.loc[2027])
    assert result.here_and_now_periods == (2026,)
    assert result.cost == pytest.approx(0.5 * low.cost + 0.5 * high.cost)
    assert result.check() == []
    assert set(result.purchases.index.get_level_values("scenario")) == {"low", "high"}
    assert list(result.by_site.columns[:2]) == ["scenario", "period"]


def _brute_force(problem: dict[str, Any], most: tuple[int, int]) -> float:
    """The least tree objective over every non-anticipative plan of up to ``most`` units of each chip
    a decision, each path's plan evaluated by procure's evaluator against that path alone."""
    p = procure.Problem.from_dict(problem)
    paths = [(s.name, s.probability, list(s.demand or ())) for s in p.demand_scenarios]
    alone = [procure.Problem.from_dict(_alone(problem, d)) for _, _, d in paths]
    # decision nodes: (period, history prefix); each node picks units of both chips
    nodes = sorted({(t, tuple(d[: t + 1])) for _, _, d in paths for t in range(len(PERIODS))})
    choices = list(itertools.product(range(most[0] + 1), range(most[1] + 1)))
    probability = np.array([w for _, w, _ in paths])
    best = math.inf
    for pick in itertools.product(choices, repeat=len(nodes)):
        chosen = dict(zip(nodes, pick))
        objectives, costs = [], []
        for (_, _, d), q in zip(paths, alone):
            placed = np.array(
                [[chosen[(t, tuple(d[: t + 1]))][i] for t in range(len(PERIODS))] for i in range(2)], float
            )
            ev = evaluate(q, placed)
            if violations(q, ev):
                break
            objectives.append(objective_of(q, ev))
            costs.append(ev.cost)
        else:
            value = float(probability @ np.array(objectives))
            if p.risk.scenario_cvar_weight > 0:
                value += p.risk.scenario_cvar_weight * scenario_cvar(
                    np.array(costs), probability, p.risk.scenario_cvar_alpha
                )
            best = min(best, value)
    return best


@pytest.mark.parametrize("seed", range(4))
def test_tiny_trees_against_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    first = int(rng.integers(0, 2))
    paths = [
        ("a", 0.75, [first, int(rng.integers(0, 3)), int(rng.integers(0, 3))]),
        ("b", 0.25, [first, int(rng.integers(0, 3)), int(rng.integers(0, 3))]),
    ]
    problem = _tree(
        paths,
        power_cap_gw=float(rng.choice([0.000004, 0.000005])),
        discount_rate=0.1,
        risk={"scenario_cvar_weight": float(rng.choice([0.0, 0.5])), "scenario_cvar_alpha": 0.5},
    )
    problem["offers"][0]["lifetime"] = 2
    result = procure.solve(problem, mip_gap=0)
    want = _brute_force(problem, most=(2, 1))
    if math.isinf(want):
        assert result.status == "infeasible"
        return
    assert result.status == "optimal", result.message
    assert result.objective == pytest.approx(want, rel=1e-9, abs=1e-6)
    assert result.check() == []


def test_scenario_cvar_by_hand() -> None:
    # no decision can differ (one period, demand known): costs 100·d per path
    problem = _base(
        periods=[2026],
        demand_scenarios=[
            {"name": "a", "probability": 0.6, "demand": 1},
            {"name": "b", "probability": 0.3, "demand": 2},
            {"name": "c", "probability": 0.1, "demand": 4},
        ],
        risk={"scenario_cvar_weight": 2.0, "scenario_cvar_alpha": 0.8},
    )
    result = procure.solve(problem, mip_gap=0)
    expected = 0.6 * 100 + 0.3 * 200 + 0.1 * 400
    cvar = (0.1 * 400 + 0.1 * 200) / 0.2  # the worst 20%: c (0.1) and half of b's 0.3… of b: 0.1
    assert result.cost == pytest.approx(expected)
    assert result.cost_cvar == pytest.approx(cvar)
    assert result.objective == pytest.approx(expected + 2.0 * cvar)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(0, 4), min_size=3, max_size=3),
    st.lists(st.lists(st.sampled_from([0.5, 1.0, 2.0]), min_size=2, max_size=2), min_size=2, max_size=3),
    st.sampled_from([0.00003, 0.00005, 0.0001]),
    st.sampled_from([None, 300.0]),
)
def test_random_trees_share_their_history_and_bound_vss_and_evpi(
    start: list[int], growth: list[list[float]], cap: float, penalty: float | None
) -> None:
    base = [10 + start[0], 10 + start[1], 10 + start[2]]
    paths = []
    for k, g in enumerate(growth):
        demand = [base[0], base[1] * g[0], base[2] * g[0] * g[1]]
        paths.append((f"s{k}", 1 / len(growth), demand))
    top: dict[str, Any] = {"power_cap_gw": cap}
    if penalty is not None:
        top["unserved_penalty"] = penalty
    problem = _tree(paths, **top)
    # probabilities of 1/3 sum to 1 within the tolerance
    result = procure.solve(problem, mip_gap=0)
    if result.status == "infeasible":
        return
    assert result.status == "optimal", result.message
    assert result.check() == []
    for a, b, t in _shared_history(problem):
        ra, rb = result.scenario_results.get(a), result.scenario_results.get(b)
        if ra is None or rb is None:  # identical paths are one path
            continue
        assert ra.purchases.iloc[t].equals(rb.purchases.iloc[t]), (a, b, t)
    vss, evpi = result.vss(mip_gap=0), result.evpi(mip_gap=0)
    assert vss.value >= -1e-6 * abs(result.objective) or math.isinf(vss.value)
    assert evpi.value >= -1e-6 * abs(result.objective)
    assert evpi.stochastic == pytest.approx(result.objective, rel=1e-9)


def test_power_builds_in_a_tree_follow_the_shared_history() -> None:
    problem = _tree(
        [("low", 0.5, [10, 10, 10]), ("high", 0.5, [10, 10, 60])],
        power_cap_gw=0.00002,
        power_build={"cost_per_gw": 1e6, "block_gw": 0.00001, "lead_time": 1},
    )
    result = procure.solve(problem, mip_gap=0)
    assert result.status == "optimal", result.message
    built = result.power_build
    # power for 2028 must be started by 2027, before the branch is known: both paths build the same
    for year in (2026, 2027):
        assert built.loc[("low", year)].equals(built.loc[("high", year)])
    assert built.loc["high"].loc[[2026, 2027]].to_numpy().sum() >= 0.00004 - 1e-12
    assert built.loc[("high", 2028)].sum() == 0  # too late to be usable
    assert result.check() == []


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"demand": 5}, "demand"),
        ({"demand_scenarios": []}, "demand"),
        ({"demand_scenarios": [{"name": "a", "probability": 0.5, "demand": 1}]}, "demand_scenarios"),
        (
            {"demand_scenarios": [{"name": "a", "probability": 1.0, "demand": 1, "workloads": {"w": 1}}]},
            "demand_scenarios[0].workloads",
        ),
        (
            {
                "demand_scenarios": [
                    {"name": "a", "probability": 0.5, "demand": 1},
                    {"name": "b", "probability": 0.5, "workloads": {"w": 1}},
                ]
            },
            "demand_scenarios[1]",
        ),
        (
            {
                "demand_scenarios": [
                    {"name": "a", "probability": 0.5, "demand": 1},
                    {"name": "a", "probability": 0.5, "demand": 2},
                ]
            },
            "demand_scenarios[1].name",
        ),
        ({"demand_scenarios": [{"name": "a", "probability": 0, "demand": 1}]}, "demand_scenarios[0].probability"),
        ({"demand_scenarios": [{"name": "a", "probability": 1, "demand": {"2026": 1}}]}, "demand_scenarios[0].demand"),
        ({"demand_scenarios": [{"name": "a", "probability": 1}]}, "demand_scenarios[0].demand"),
        ({"risk": {"scenario_cvar_alpha": 1.0}}, "risk.scenario_cvar_alpha"),
    ],
)
def test_bad_trees_are_named(change: dict[str, Any], path: str) -> None:
    problem = _tree([("s", 1.0, [1, 2, 3])])
    problem.update(change)
    with pytest.raises(ProblemError) as info:
        procure.Problem.from_dict(problem)
    assert info.value.path.startswith(path), str(info.value)


def test_a_tree_round_trips_and_sweeps() -> None:
    problem = procure.Problem.from_dict(
        _tree([("low", 0.4, [10, 12, 14]), ("high", 0.6, [10, 30, 50])], power_cap_gw=0.00008)
    )
    assert procure.Problem.from_dict(problem.to_dict()) == problem
    variants = [{"offers[hot].unit_cost": c} for c in (90.0, 110.0, 140.0)]
    sweep = procure.sweep(problem, variants, progress=False)
    for k, v in enumerate(variants):
        alone = procure.solve(procure.problem.fields.apply_changes(problem, v))
        assert sweep.table["status"][k] == alone.status
        assert sweep.table["objective"][k] == pytest.approx(alone.objective, rel=1e-6)
    changed = procure.sweep(problem, [{"demand_scenarios[high].demand[2028]": 20}], progress=False)
    assert changed.table["status"][0] == "optimal"


def test_infeasible_trees_say_which_path() -> None:
    problem = _tree([("low", 0.5, [10, 10, 10]), ("huge", 0.5, [10, 10, 1000])], power_cap_gw=0.00003)
    result = procure.solve(problem)
    assert result.status == "infeasible"
    assert "on path 'huge'" in result.message and "on path 'low'" not in result.message


def test_the_frontier_of_a_tree_trades_expected_cost_against_the_cvar_of_path_costs() -> None:
    problem = _tree(
        [("low", 0.5, [10, 10, 10]), ("high", 0.5, [10, 30, 60])],
        power_cap_gw=0.00004,
        unserved_penalty=500.0,
        risk={"scenario_cvar_alpha": 0.5},
    )
    front = procure.frontier(problem, "scenario_cvar", 4, mip_gap=0)
    table = front.table
    assert list(table["status"]) == ["optimal"] * 4
    assert (table["risk"].diff().dropna() <= 1e-6 * table["risk"].abs().max()).all()  # CVaR falls with its weight
    assert (table["cost"].diff().dropna() >= -1e-6 * table["cost"].abs().max()).all()  # expected cost rises
    assert table["risk"].iloc[0] == pytest.approx(front.results[0].cost_cvar)  # type: ignore[attr-defined]
    with pytest.raises(ProblemError):
        procure.frontier(problem, "cvar", 3)


def test_explain_names_the_path_without_a_plan_and_the_rest_say_what_to_ask() -> None:
    problem = _tree([("low", 0.5, [10, 10, 10]), ("huge", 0.5, [10, 10, 1000])], power_cap_gw=0.00003)
    diagnosis = procure.explain(problem)
    assert not diagnosis.repairs.empty
    assert any("2028" in r.text for r in diagnosis.conflict)  # huge's 2028 demand against the power cap
    assert all(r.text.endswith("on path 'huge'") for r in diagnosis.conflict)
    for k in diagnosis.repairs["repair"].unique():  # each repair gives the tree (not one path) a plan
        repaired = diagnosis.apply(int(k))
        assert len(repaired.demand_scenarios) == 2 and procure.solve(repaired).has_plan
    fine = procure.solve(_tree([("a", 0.5, [1, 1, 1]), ("b", 0.5, [1, 2, 3])]))
    assert set(fine.sensitivity().table["scenario"]) >= {"a", "b"}  # priced path by path (test_tree_what_if.py)


#: Each path has a plan alone; together they have none: ``early`` needs x bought in 2026 (a year's
#: lead time, a year's life) for its 2027 demand, which ``late`` then pays for without use, and
#: ``late``'s own 2028 purchases no longer fit the total budget (early alone $210, late alone $220,
#: late with early's 2026 purchases $300 > $250).
SHARED_CONFLICT: dict[str, Any] = {
    "name": "shared-conflict",
    "periods": [2026, 2027, 2028],
    "offers": [
        {"name": "x", "vendor": "vx", "unit_cost": 1.0, "compute": 1.0, "power_kw": 1.0, "lead_time": 1, "lifetime": 1},
        {
            "name": "y",
            "vendor": "vy",
            "unit_cost": 1.0,
            "compute": 1.0,
            "power_kw": 1.0,
            "lifetime": 1,
            "max_units": 20,
        },
    ],
    "power_cap_gw": 1.0,
    "total_budget": 250,
    "demand_scenarios": [
        {"name": "early", "probability": 0.5, "demand": {"2026": 10, "2027": 100, "2028": 100}},
        {"name": "late", "probability": 0.5, "demand": {"2026": 10, "2027": 10, "2028": 200}},
    ],
}


def test_paths_that_cannot_share_their_decisions_are_explained_path_by_path() -> None:
    for path in SHARED_CONFLICT["demand_scenarios"]:
        assert procure.solve(_alone(SHARED_CONFLICT, [path["demand"][str(t)] for t in PERIODS])).has_plan
    result = procure.solve(SHARED_CONFLICT)
    assert result.status == "infeasible" and "total budget ($250) on path 'late'" in result.message
    diagnosis = procure.explain(SHARED_CONFLICT)
    texts = {r.text for r in diagnosis.conflict}
    assert "demand in 2027 (100 compute) on path 'early'" in texts and "total budget ($250) on path 'late'" in texts
    assert diagnosis.conflict_minimal
    repairs = diagnosis.repairs
    by_field = dict(zip(repairs["requirement"], repairs["new"]))
    assert by_field["total_budget"] == pytest.approx(290, rel=1e-5)  # late: 80 bought for early + 210 of its own
    assert by_field["offers[y].max_units[2027]"] == 60  # early then needs x bought in 2026 only 40
    assert {"demand_scenarios[early].demand[2027]", "demand_scenarios[late].demand[2028]"} <= set(by_field)
    for k in repairs["repair"].unique():
        repaired = diagnosis.apply(int(k))
        assert procure.solve(repaired).has_plan
        shrunk = {
            p: o + 0.99 * (n - o)
            for p, o, n in repairs[repairs["repair"] == k][["requirement", "old", "new"]].itertuples(index=False)
        }
        if "offers[y].max_units[2027]" not in shrunk:  # whole units: 99% of the raise is 59.6 → no plan either way
            assert procure.solve(procure.problem.fields.apply_changes(SHARED_CONFLICT, shrunk)).status == "infeasible"
    held = procure.explain(SHARED_CONFLICT, fixed=["demand"])
    assert not any(p.startswith("demand_scenarios") for p in held.repairs["requirement"])
