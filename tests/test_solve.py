"""procure.solve(): statuses, result fields, determinism and options."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

import procure


def test_small_plan_is_valid(small: dict[str, Any]) -> None:
    result = procure.solve(small)
    assert result.status == "optimal"
    assert result.check() == []
    assert list(result.purchases.index) == [2026, 2027, 2028]
    assert list(result.purchases.columns) == ["tpu", "trn2", "gb200"]
    assert list(result.compute_by_vendor.columns) == ["google", "amazon", "nvidia"]
    assert result.cost_breakdown["total"].sum() == pytest.approx(result.cost, rel=1e-12)
    assert result.objective == pytest.approx(result.cost)
    assert result.gap <= 1e-4 + 1e-12
    assert result.bound <= result.objective * (1 + 1e-9)
    assert (result.compute >= np.array([1000, 2500, 6000]) - 1e-6).all()
    assert (result.shares.sum(axis=1) - 1).abs().max() < 1e-9
    assert (result.power_gw <= pd.Series([1.0, 2.0, 5.0], index=result.power_gw.index) + 1e-9).all()


def test_units_are_whole_lots(small: dict[str, Any]) -> None:
    result = procure.solve(small)
    for offer in small["offers"]:
        assert (result.purchases[offer["name"]] % offer.get("lot_size", 1) == 0).all()


def test_same_input_same_plan(small: dict[str, Any]) -> None:
    first = procure.solve(small)
    for _ in range(3):
        again = procure.solve(small)
        pd.testing.assert_frame_equal(first.purchases, again.purchases)
        assert again.cost == first.cost


def test_threads_and_time_limit(small: dict[str, Any]) -> None:
    result = procure.solve(small, threads=1, time_limit=30, mip_gap=0)
    assert result.status == "optimal"
    assert result.gap == pytest.approx(0, abs=1e-9)


def test_result_exports(small: dict[str, Any]) -> None:
    result = procure.solve(small)
    data = json.loads(result.to_json())
    assert data["status"] == "optimal"
    assert data["cost"] == pytest.approx(result.cost)
    assert data["purchases"]["tpu"]["2026"] == int(result.purchases.loc[2026, "tpu"])
    text = result.summary()
    assert "optimal" in text and "cost $" in text and "google share" in text


def test_result_is_frozen(small: dict[str, Any]) -> None:
    result = procure.solve(small)
    with pytest.raises(AttributeError):
        result.cost = 0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("change", "family"),
    [
        ({"power_cap_gw": {"2026": 0.0005, "2027": 2.0, "2028": 5.0}}, "power cap in 2026"),
        ({"budget": 1e6}, "budget in "),
        ({"total_budget": 1e6}, "total budget"),
        ({"risk": {"min_vendors": 4}}, "at least 4 vendors"),
        ({"risk": {"max_share": 0.2}}, "share ≤ 20%"),
    ],
)
def test_infeasible_names_the_constraint(small: dict[str, Any], change: dict[str, Any], family: str) -> None:
    small.update(change)
    result = procure.solve(small)
    assert result.status == "infeasible"
    assert family in result.message
    assert math.isnan(result.cost) and result.purchases.empty
    with pytest.raises(procure.ProblemError, match="no plan to check"):  # not [], "every constraint holds"
        result.check()
    assert "infeasible" in result.summary()


def test_check_reports_a_broken_plan(small: dict[str, Any]) -> None:
    result = procure.solve(small)
    broken = result.purchases.copy()
    broken.loc[2028, :] = 0
    tampered = procure.core.result.make_result(result.problem, "optimal", broken.to_numpy().T.astype(float))
    found = tampered.check()
    assert any(line.startswith("demand[2028]") for line in found)


def test_zero_demand_buys_nothing() -> None:
    result = procure.solve(
        {
            "periods": [2026, 2027],
            "demand": 0,
            "offers": [{"name": "a", "vendor": "v", "unit_cost": 5, "compute": 1, "min_order": 10}],
        }
    )
    assert result.status == "optimal"
    assert result.cost == 0
    assert (result.purchases == 0).all().all()


def test_installed_fleet_counts_and_ages() -> None:
    problem = {
        "periods": [2026, 2027, 2028],
        "demand": 100,
        "offers": [
            {
                "name": "old",
                "vendor": "v",
                "unit_cost": 1,
                "compute": 1,
                "installed": 100,
                "installed_life": 2,
                "opex_per_year": 2,
                "max_units": 0,
            },
            {"name": "new", "vendor": "v", "unit_cost": 10, "compute": 1},
        ],
        "discount_rate": 0.1,
    }
    result = procure.solve(problem, mip_gap=0)
    assert result.fleet["old"].tolist() == [100, 100, 0]
    assert result.purchases["new"].tolist() == [0, 0, 100]
    assert result.cost == pytest.approx(100 * 2 * (1 + 1 / 1.1) + 100 * 10 / 1.1**2)


def test_lead_time_and_lifetime() -> None:
    problem = {
        "periods": [1, 2, 3, 4],
        "demand": {"1": 0, "2": 5, "3": 5, "4": 5},
        "offers": [{"name": "a", "vendor": "v", "unit_cost": 1, "compute": 1, "lead_time": 1, "lifetime": 2}],
        "discount_rate": 0.05,  # buying later is cheaper: breaks the tie with [5, 5, 0, 0]
    }
    result = procure.solve(problem, mip_gap=0)
    assert result.purchases["a"].tolist() == [5, 0, 5, 0]
    assert result.fleet["a"].tolist() == [0, 5, 5, 5]


def test_onboarding_is_paid_once_and_waived_with_installed() -> None:
    base = {
        "periods": [1, 2],
        "demand": {"1": 1, "2": 2},
        "offers": [{"name": "a", "vendor": "v", "unit_cost": 1, "compute": 1}],
        "vendors": [{"name": "v", "onboarding_cost": 50}],
    }
    result = procure.solve(base, mip_gap=0)
    assert result.cost == pytest.approx(52)
    assert result.cost_breakdown["onboarding"].tolist() == [50, 0]
    base["offers"][0]["installed"] = 1
    assert procure.solve(base, mip_gap=0).cost == pytest.approx(1)


def test_min_order_without_any_natural_bound() -> None:
    # No supply, budget or power limit: lot bounds are provisional, then certified by cost.
    problem = {
        "periods": [1, 2],
        "demand": {"1": 10, "2": 500},
        "offers": [
            {"name": "a", "vendor": "x", "unit_cost": 1, "compute": 1, "min_order": 300},
            {"name": "b", "vendor": "y", "unit_cost": 3, "compute": 1},
        ],
        "vendors": [{"name": "x", "onboarding_cost": 5}],
    }
    result = procure.solve(problem, mip_gap=0)
    assert result.status == "optimal"
    assert result.check() == []
    # buying 500 of a in period 1 (300 minimum) costs 505, cheaper than anything with b
    assert result.cost == pytest.approx(505)


def test_time_limit_stops_with_a_plan() -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from generate import generate

    result = procure.solve(generate(4, 10, 10, seed=1), time_limit=2, mip_gap=0)
    assert result.solve_seconds < 2 + 10  # the limit bounds the solver; building and checking add a little
    if result.status == "error":  # the limit came before any plan
        assert "stopped before any plan was found" in result.message
        return
    assert result.status in ("feasible", "optimal")
    assert result.check() == []
    if result.status == "feasible":
        assert result.message.startswith("stopped")
        assert result.gap > 0


def test_generated_problems_with_sites_solve_and_pass_the_checker() -> None:
    import sys
    from pathlib import Path

    from reference import checker

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from generate import generate

    problem = generate(3, 2, 3, seed=1, scenarios=4, sites=3)
    assert [s["name"] for s in problem["sites"]] == ["site0", "site1", "site2"]
    hosted = {v for s in problem["sites"] for v in s["vendors"]}
    assert hosted == {"vendor0", "vendor1", "vendor2"}  # every vendor can be placed somewhere
    assert generate(3, 2, 3, seed=1, scenarios=4) == {k: v for k, v in problem.items() if k != "sites"}
    result = procure.solve(problem)
    assert result.status == "optimal"
    assert checker.violations(problem, result.by_site) == []
    bought = result.by_site.groupby("site")["bought"].sum()
    assert (bought > 0).sum() >= 2  # this instance spreads its purchases over sites


def test_gap_and_bound_of_a_plan_presolve_settles() -> None:
    # HiGHS 1.16, given a starting plan that its presolve settles outright, reported the
    # objective and bound without a constant of the presolved problem (0 for $3.2M)
    problem = {
        "periods": [2026, 2027, 2028, 2029],
        "demand": {"2026": 0, "2027": 32000, "2028": 32000, "2029": 32000},
        "offers": [
            {
                "name": "h100-0",
                "vendor": "nvidia",
                "unit_cost": {"2026": 10000, "2027": 13889, "2028": 10000, "2029": 10000},
                "compute": 100.0,
                "lot_size": 32,
                "max_units": {"2026": 160, "2027": 160, "2028": 160, "2029": 192},
            },
            {"name": "mi300-1", "vendor": "nvidia", "unit_cost": 10000, "compute": 100.0},
        ],
        "budget": 3200030,
        "total_budget": 10666800,
        "risk": {"scenarios": [{"name": "s0", "probability": 0.01, "availability": {"nvidia": 0}}]},
    }
    result = procure.solve(problem, mip_gap=0)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(3_200_000)
    assert result.bound == pytest.approx(3_200_000)
    assert result.gap == pytest.approx(0, abs=1e-9)
