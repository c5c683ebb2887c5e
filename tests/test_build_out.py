"""Contract v2, single demand path: unserved demand (``unserved_penalty``) and power build-out
(``power_build``), on cases small enough to work out by hand."""

from __future__ import annotations

import copy
import itertools
import math
from typing import Any

import numpy as np
import pytest

import procure
from procure.base.errors import ProblemError


def _one_chip(**top: Any) -> dict[str, Any]:
    """One chip of 1 compute and 1000 kW (1 MW): a fleet of n draws n MW."""
    problem: dict[str, Any] = {
        "periods": [2026, 2027, 2028],
        "demand": {"2026": 0, "2027": 0, "2028": 0},
        "offers": [{"name": "chip", "vendor": "v", "unit_cost": 100.0, "compute": 1.0, "power_kw": 1000.0}],
    }
    problem.update(top)
    return problem


def test_a_build_is_usable_lead_time_periods_after_it_starts() -> None:
    # 3 MW needed only in 2028; building takes 2 periods: the build must start in 2026
    problem = _one_chip(
        demand={"2026": 0, "2027": 0, "2028": 3},
        power_build={"cost_per_gw": {"2026": 1e6, "2027": 1.0, "2028": 1.0}, "lead_time": 2},
    )
    result = procure.solve(problem, mip_gap=0)
    assert result.status == "optimal", result.message
    assert result.power_build[""].tolist() == pytest.approx([0.003, 0.0, 0.0])
    assert result.power_capacity_gw[""].tolist() == pytest.approx([0.0, 0.0, 0.003])
    assert result.cost == pytest.approx(3 * 100 + 0.003 * 1e6)
    assert result.cost_breakdown["facility"].sum() == pytest.approx(3000.0)
    assert result.check() == []


def test_builds_come_in_whole_blocks_and_within_max_gw() -> None:
    problem = _one_chip(
        demand={"2026": 0, "2027": 0, "2028": 5},
        power_build={"cost_per_gw": 1e6, "block_gw": 0.002, "max_gw": {"2026": 0.004, "2027": 0.002, "2028": 0}},
    )
    result = procure.solve(problem, mip_gap=0)
    assert result.status == "optimal", result.message
    built = result.power_build[""].to_numpy()
    assert (built <= np.array([0.004, 0.002, 0]) + 1e-12).all()
    assert np.allclose(built / 0.002, np.round(built / 0.002))
    assert built.sum() == pytest.approx(0.006)  # 5 MW needs 3 blocks of 2 MW
    assert result.check() == []


def test_a_fixed_cost_is_paid_once_per_period_with_a_build() -> None:
    # building 1 MW in 2026 and 1 MW in 2027 pays two fixed costs; 2 MW in 2026 pays one
    problem = _one_chip(
        demand={"2026": 1, "2027": 2, "2028": 2},
        power_build={"cost_per_gw": 1e5, "fixed_cost": 50.0},
    )
    result = procure.solve(problem, mip_gap=0)
    assert result.status == "optimal", result.message
    assert result.power_build[""].tolist() == pytest.approx([0.002, 0.0, 0.0])
    assert result.cost_breakdown["facility"].sum() == pytest.approx(0.002 * 1e5 + 50)
    cheap_later = copy.deepcopy(problem)
    cheap_later["discount_rate"] = 9.0  # later money is worth a tenth: build as late as possible
    later = procure.solve(cheap_later, mip_gap=0)
    assert later.power_build[""].tolist() == pytest.approx([0.001, 0.001, 0.0])


def test_facility_capex_counts_in_the_budgets_but_not_in_vendor_spend() -> None:
    base = _one_chip(demand={"2026": 2, "2027": 2, "2028": 2}, power_build={"cost_per_gw": 1e6})
    fits = procure.solve({**base, "budget": 200 + 2000})
    assert fits.status == "optimal"
    assert procure.solve({**base, "budget": 200 + 1999}).status == "infeasible"
    assert procure.solve({**base, "total_budget": 2199}).status == "infeasible"
    capped = {**base, "vendors": [{"name": "v", "max_spend": 200}]}
    assert procure.solve(capped).status == "optimal"  # 2 chips: $200 of vendor spend


def test_a_site_that_builds_starts_from_zero_and_the_top_cap_still_holds() -> None:
    problem = _one_chip(
        demand={"2026": 4, "2027": 4, "2028": 4},
        power_cap_gw=0.003,
        sites=[
            {"name": "old", "power_cap_gw": 0.001},
            {"name": "new", "power_build": {"cost_per_gw": 1e6}},
        ],
    )
    # 4 MW needed, the two sites may hold 1 + built, but all sites together at most 3 MW
    assert procure.solve(problem).status == "infeasible"
    problem["power_cap_gw"] = 0.004
    result = procure.solve(problem, mip_gap=0)
    assert result.status == "optimal", result.message
    assert list(result.power_build.columns) == ["new"]
    assert result.power_build["new"].tolist() == pytest.approx([0.003, 0.0, 0.0])
    assert result.site_power_gw["new"].tolist() == pytest.approx([0.003] * 3)
    assert result.check() == []


def test_unserved_demand_is_paid_for_when_that_is_cheaper() -> None:
    # a chip costs 100 and serves 1 compute for 3 periods; unserved compute costs p per period
    demand = {"2026": 2, "2027": 2, "2028": 2}
    for penalty, served in ((10.0, 0), (40.0, 2)):
        result = procure.solve(_one_chip(demand=demand, unserved_penalty=penalty), mip_gap=0)
        assert result.status == "optimal", result.message
        assert result.purchases["chip"].sum() == served
        assert result.unserved.sum() == pytest.approx(6 - 3 * served)
        assert result.cost == pytest.approx(100 * served + penalty * (6 - 3 * served))
        assert result.check() == []


def test_unserved_demand_keeps_a_problem_without_room_feasible() -> None:
    tight = _one_chip(demand={"2026": 5, "2027": 5, "2028": 5}, power_cap_gw=0.003)
    assert procure.solve(tight).status == "infeasible"
    result = procure.solve({**tight, "unserved_penalty": 1e4}, mip_gap=0)
    assert result.status == "optimal"
    assert result.unserved.tolist() == pytest.approx([2, 2, 2])
    assert result.evaluation is not None  # no workloads: no rows of unserved workload demand
    assert result.evaluation.unserved_by_workload.shape == (0, 3)


def test_unserved_demand_per_workload() -> None:
    problem = {
        "periods": [2026],
        "workloads": {"train": {"2026": 3}, "serve": {"2026": 1}},
        "unserved_penalty": 150.0,
        "offers": [
            {"name": "a", "vendor": "x", "unit_cost": 100.0, "compute": 1.0, "efficiency": {"serve": 0.0}},
            {"name": "b", "vendor": "y", "unit_cost": 200.0, "compute": 1.0},
        ],
    }
    # train is served by a (100 < 150); serve only by b (200 > 150): left unserved
    result = procure.solve(problem, mip_gap=0)
    assert result.status == "optimal"
    assert result.purchases.loc[2026].tolist() == [3, 0]
    assert result.unserved.tolist() == pytest.approx([1.0])
    assert result.cost == pytest.approx(300 + 150)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"power_build": {"cost_per_gw": 1.0, "block": 1}}, "power_build.block"),
        ({"power_build": {"block_gw": 1}}, "power_build.cost_per_gw"),
        ({"power_build": {"cost_per_gw": -1}}, "power_build.cost_per_gw"),
        ({"power_build": {"cost_per_gw": 1, "block_gw": 0}}, "power_build.block_gw"),
        ({"power_build": {"cost_per_gw": 1, "lead_time": 1.5}}, "power_build.lead_time"),
        ({"unserved_penalty": -3}, "unserved_penalty"),
        ({"unserved_penalty": "high"}, "unserved_penalty"),
        ({"power_build": {"cost_per_gw": 1}, "sites": [{"name": "a"}]}, "power_build"),
        (
            {"sites": [{"name": "a", "power_build": {"cost_per_gw": 1, "max_gw": {"2031": 1}}}]},
            "sites[0].power_build.max_gw",
        ),
    ],
)
def test_bad_build_and_penalty_fields_are_named(change: dict[str, Any], path: str) -> None:
    with pytest.raises(ProblemError) as info:
        procure.Problem.from_dict(_one_chip(**change))
    assert info.value.path.startswith(path), str(info.value)
    assert path in str(info.value)


def test_problems_with_builds_round_trip() -> None:
    problem = procure.Problem.from_dict(
        _one_chip(
            unserved_penalty=5.0,
            sites=[{"name": "a", "power_build": {"cost_per_gw": {"2026": 1, "2027": 2, "2028": 3}, "block_gw": 0.5}}],
        )
    )
    assert procure.Problem.from_dict(problem.to_dict()) == problem
    assert problem.to_dict()["sites"][0]["power_build"] == {
        "cost_per_gw": {2026: 1.0, 2027: 2.0, 2028: 3.0},
        "block_gw": 0.5,
    }


def _brute_force(problem: dict[str, Any], most_chips: int, most_blocks: int) -> float:
    """The least objective over every plan of up to ``most_chips`` chips and ``most_blocks`` blocks a
    period, each plan checked and costed by procure's evaluator (the model is not involved)."""
    p = procure.Problem.from_dict(problem)
    T = len(p.periods)
    block = p.power_build.block_gw if p.power_build is not None else None
    assert block is not None
    best = math.inf
    for chips in itertools.product(range(most_chips + 1), repeat=T):
        for blocks in itertools.product(range(most_blocks + 1), repeat=T):
            ev = procure.problem.evaluate.evaluate(p, np.array([chips], dtype=float), None, np.array([blocks]) * block)
            if not procure.problem.evaluate.violations(p, ev):
                best = min(best, procure.problem.evaluate.objective_of(p, ev))
    return best


@pytest.mark.parametrize("seed", range(3))
def test_tiny_build_out_problems_against_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    problem = _one_chip(
        demand={str(y): int(rng.integers(0, 4)) for y in (2026, 2027, 2028)},
        power_cap_gw=float(rng.choice([0.0, 0.001])),
        discount_rate=float(rng.choice([0.0, 0.5])),
        power_build={
            "cost_per_gw": {str(y): float(rng.choice([2e4, 6e4, 2e5])) for y in (2026, 2027, 2028)},
            "block_gw": 0.001,
            "lead_time": int(rng.integers(0, 2)),
            "fixed_cost": float(rng.choice([0.0, 30.0])),
            "max_gw": 0.002,
        },
        unserved_penalty=float(rng.choice([30.0, 80.0, 400.0])),
    )
    problem["offers"][0]["lifetime"] = int(rng.integers(1, 4))
    result = procure.solve(problem, mip_gap=0)
    want = _brute_force(problem, most_chips=4, most_blocks=2)
    assert result.status == "optimal", result.message
    assert result.objective == pytest.approx(want, rel=1e-9, abs=1e-6)
    assert result.check() == []
