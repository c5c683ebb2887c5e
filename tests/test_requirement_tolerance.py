"""How closely a plan must meet a rule (`procure.base.limits.REQUIREMENT_TOL`): amounts to 1e-9
of their size, counts exactly; and the solver's splits polished to that before the check."""

from __future__ import annotations

import numpy as np
from test_commercial import WORKLOADS  # training on tpu only; inference on both

import procure
from procure.base.limits import REQUIREMENT_TOL
from procure.problem.evaluate import evaluate, polish_split, violations


def _problem() -> procure.Problem:
    return procure.Problem.from_dict(WORKLOADS)


def _split(train_on_tpu: float, infer_on_tpu: float, infer_on_inf: float) -> np.ndarray:
    """(I, W, T) units: offers (tpu, inf) × workloads (training, inference) × one period."""
    return np.array([[[train_on_tpu], [infer_on_tpu]], [[0.0], [infer_on_inf]]])


def test_a_split_short_by_a_solver_tolerance_is_polished() -> None:
    problem = _problem()
    placed = np.array([[100.0], [60.0]])
    rough = _split(100 * (1 - 3e-8), 0.0, 60 * (1 - 2e-8))  # what a solver at 1e-7 may return
    assert violations(problem, evaluate(problem, placed, rough))  # beyond 1e-9: named
    polished = polish_split(problem, placed, rough)
    assert polished is not None and polished is not rough
    assert violations(problem, evaluate(problem, placed, polished)) == []
    exact = _split(100.0, 0.0, 60.0)
    assert polish_split(problem, placed, exact) is exact  # nothing to polish: the same array


def test_a_tight_fleet_is_split_again_exactly() -> None:
    """102 tpu and 59 inf serve training 100 and inference 60 only with 2 tpu on inference (at
    0.5): no room to spare, so the LP must find that split to the billionth."""
    problem = _problem()
    placed = np.array([[102.0], [59.0]])
    rough = _split(100.0, 2 * (1 - 1e-5), 59.0)  # inference short by 1.7e-7 of its demand
    assert violations(problem, evaluate(problem, placed, rough))
    polished = polish_split(problem, placed, rough)
    assert violations(problem, evaluate(problem, placed, polished)) == []


def test_a_split_over_the_fleet_is_scaled_to_it() -> None:
    problem = _problem()
    placed = np.array([[101.0], [60.0]])
    over = _split(101 * (1 + 1e-8), 0.0, 60.0)
    assert any(line.startswith("workload_capacity[") for line in violations(problem, evaluate(problem, placed, over)))
    polished = polish_split(problem, placed, over)
    assert violations(problem, evaluate(problem, placed, polished)) == []


def test_a_split_missing_by_more_than_a_solver_tolerance_is_not_repaired() -> None:
    """A split 1% short on a fleet that could serve the workloads is the solver's error: the
    check must see it, not a repaired split."""
    problem = _problem()
    placed = np.array([[100.0], [61.0]])  # one inference unit to spare
    short = _split(100.0, 0.0, 60 * 0.99)
    assert polish_split(problem, placed, short) is short
    broken = violations(problem, evaluate(problem, placed, short))
    assert [line.split(":")[0] for line in broken] == ["workload_demand[inference,1]"]


def test_a_fleet_too_small_keeps_its_split_and_the_check_names_the_row() -> None:
    problem = _problem()
    placed = np.array([[100.0], [59.0]])  # inference short by one unit's compute
    split = _split(100.0, 0.0, 59.0)
    polished = polish_split(problem, placed, split)
    broken = violations(problem, evaluate(problem, placed, polished))
    assert [line.split(":")[0] for line in broken] == ["workload_demand[inference,1]"]


def test_amounts_are_held_to_a_billionth() -> None:
    problem = _problem()
    placed = np.array([[100.0], [60.0]])
    for short, named in ((0.5 * REQUIREMENT_TOL, False), (1e-7, True), (1e-6, True)):
        split = _split(100.0, 0.0, 60 * (1 - short))
        assert bool(violations(problem, evaluate(problem, placed, split))) is named, short


def test_counts_are_exact() -> None:
    """A relative tolerance would let 2,000,001 units pass a supply of 2,000,000."""
    problem = procure.Problem.from_dict(
        {
            "periods": [1],
            "demand": 1,
            "offers": [{"name": "a", "vendor": "v", "compute": 1, "unit_cost": 1, "max_units": 2_000_000}],
        }
    )
    ev = evaluate(problem, np.array([[2_000_001.0]]))
    assert [line.split(":")[0] for line in violations(problem, ev)] == ["max_units[a,1]"]
    assert violations(problem, evaluate(problem, np.array([[2_000_000.0]]))) == []


def test_solved_workload_plans_pass_the_strict_check() -> None:
    for solver in ("highs", "cbc"):
        result = procure.solve(WORKLOADS, mip_gap=0, solver=solver)
        assert result.status == "optimal", (solver, result.message)
        assert result.check() == []


def test_the_tolerance_is_a_billionth() -> None:
    """Loosening it to a solver's 1e-6 would accept plans cheaper than the proved optimum
    (tests/test_hhi_exact.py keeps one)."""
    assert REQUIREMENT_TOL == 1e-9
