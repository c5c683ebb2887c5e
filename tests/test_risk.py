"""Supply risk: CVaR and expected loss, HHI, scenarios, and the cost–risk frontier."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import checker
from reference.strategies import problems

import procure
from procure.model.risk import HHI_TOL
from procure.problem.evaluate import cvar

SCENARIOS = [
    {"name": "tpu-cut", "probability": 0.1, "availability": {"google": 0.5}},
    {"name": "export-ban", "probability": 0.05, "availability": {"nvidia": 0.0}, "periods": [2027, 2028]},
]


@pytest.fixture
def risky(small: dict[str, Any]) -> dict[str, Any]:
    small["risk"].update(scenarios=copy.deepcopy(SCENARIOS), shortfall_penalty=2e5, cvar_alpha=0.9)
    return small


def test_cvar_by_hand() -> None:
    # losses 10 (p=0.1), 4 (p=0.2), nominal 0 (p=0.7); α = 0.8: the worst 20% is 10 (0.1) and 4 (0.1)
    assert cvar(np.array([10.0, 4.0]), np.array([0.1, 0.2]), 0.8) == pytest.approx(7.0)
    assert cvar(np.array([10.0, 4.0]), np.array([0.1, 0.2]), 0.0) == pytest.approx(1.8)  # expected loss
    assert cvar(np.array([]), np.array([]), 0.95) == 0.0


def test_scenario_results(risky: dict[str, Any]) -> None:
    result = procure.solve(risky)
    assert result.check() == []
    assert list(result.shortfall.columns) == ["tpu-cut", "export-ban"]
    assert list(result.scenarios.index) == ["tpu-cut", "export-ban", "nominal"]
    assert result.scenarios["probability"].sum() == pytest.approx(1.0)
    assert result.cvar >= result.expected_loss >= 0
    assert result.shortfall.loc[2026, "export-ban"] == 0  # not a disrupted period
    losses = checker.scenario_losses(risky, result.purchases)
    assert result.scenarios.loc["tpu-cut", "loss"] == pytest.approx(losses["tpu-cut"])
    assert result.cvar == pytest.approx(checker.cvar(risky, result.purchases))


def test_risk_weight_buys_resilience(risky: dict[str, Any]) -> None:
    plain = procure.solve(risky, mip_gap=0)
    risky["risk"]["risk_weight"] = 1.0
    weighted = procure.solve(risky, mip_gap=0)
    assert weighted.cvar <= plain.cvar + 1e-6
    assert weighted.cost >= plain.cost - 1e-6
    assert weighted.objective == pytest.approx(weighted.cost + weighted.cvar)


def test_max_cvar_is_met(risky: dict[str, Any]) -> None:
    free = procure.solve(risky, mip_gap=0)
    risky["risk"]["max_cvar"] = 0.5 * free.cvar
    capped = procure.solve(risky, mip_gap=0)
    assert capped.status == "optimal"
    assert capped.cvar <= 0.5 * free.cvar * (1 + 1e-6)
    assert capped.check() == []


def test_full_availability_changes_nothing(risky: dict[str, Any]) -> None:
    risky["risk"]["risk_weight"] = 1.0
    before = procure.solve(risky, mip_gap=0)
    risky["risk"]["scenarios"].append({"name": "all-fine", "probability": 0.2, "availability": {"google": 1.0}})
    after = procure.solve(risky, mip_gap=0)
    assert after.objective == pytest.approx(before.objective, rel=1e-9)
    assert after.scenarios.loc["all-fine", "loss"] == 0


def test_identical_scenarios_merge(risky: dict[str, Any]) -> None:
    risky["risk"]["risk_weight"] = 1.0
    split = copy.deepcopy(risky)
    split["risk"]["scenarios"][0]["probability"] = 0.04
    split["risk"]["scenarios"].append({**SCENARIOS[0], "name": "tpu-cut-2", "probability": 0.06})
    assert procure.solve(split, mip_gap=0).objective == pytest.approx(procure.solve(risky, mip_gap=0).objective)


@settings(max_examples=20, suppress_health_check=[HealthCheck.too_slow])
@given(problems(scenarios=True), st.sampled_from([0.0, 0.5, 0.9]))
def test_cvar_at_least_expected_loss(problem: dict[str, Any], alpha: float) -> None:
    problem.setdefault("risk", {})["cvar_alpha"] = alpha
    result = procure.solve(problem)
    if result.has_plan:
        assert result.cvar >= result.expected_loss - 1e-9 >= -1e-9
        if alpha == 0:
            assert result.cvar == pytest.approx(result.expected_loss, abs=1e-6)


def test_hhi_within_cap_and_tolerance(small: dict[str, Any]) -> None:
    small["risk"]["max_hhi"] = 0.5
    result = procure.solve(small, mip_gap=0)
    assert result.status == "optimal"
    assert (result.hhi <= 0.5 + HHI_TOL).all()
    assert result.check() == []
    manual = ((result.compute_by_vendor.to_numpy() / np.array([1000, 2500, 6000])[:, None]) ** 2).sum(axis=1)
    assert result.hhi.to_numpy() == pytest.approx(manual)


def test_hhi_weight_lowers_concentration(small: dict[str, Any]) -> None:
    plain = procure.solve(small, mip_gap=0)
    small["risk"]["hhi_weight"] = 5e8
    weighted = procure.solve(small, mip_gap=0)
    d = (1.08) ** -np.arange(3)
    assert float(d @ weighted.hhi) <= float(d @ plain.hhi) + 1e-9
    assert weighted.objective == pytest.approx(weighted.cost + 5e8 * float(d @ weighted.hhi))


def test_zero_demand_period_left_out_of_hhi() -> None:
    result = procure.solve(
        {
            "periods": [1, 2],
            "demand": {"1": 0, "2": 10},
            "offers": [{"name": "a", "vendor": "x", "unit_cost": 1, "compute": 1}],
            "risk": {"hhi_weight": 3},
        }
    )
    assert math.isnan(result.hhi.loc[1])
    assert result.objective == pytest.approx(result.cost + 3 * 1.0)


@pytest.mark.parametrize("measure", ["cvar", "hhi", "max_share"])
def test_frontier_cost_falls_as_risk_allowed_grows(risky: dict[str, Any], measure: str) -> None:
    risky["risk"].update(max_share=1.0, min_vendors=0, survive_vendor_loss=0.0)
    front = procure.frontier(risky, measure, points=4, mip_gap=0)
    table = front.table.dropna(subset=["cost"])
    assert len(table) >= 2
    # levels go from the cheapest plan's risk down to the least risk: cost may only rise
    assert (np.diff(table["cost"].to_numpy()) >= -1e-6 * table["cost"].max()).all()
    assert (table["risk"] <= table["level"] * (1 + 1e-6) + HHI_TOL).all()
    for result in front.results:
        assert result.check() == []
    cheapest = procure.solve({**risky, "risk": {**risky["risk"], "risk_weight": 0, "hhi_weight": 0}}, mip_gap=0)
    assert table["cost"].iloc[0] == pytest.approx(cheapest.cost, rel=1e-9)


def test_frontier_plot(tmp_path, risky: dict[str, Any]) -> None:
    front = procure.frontier(risky, "cvar", points=3)
    path = tmp_path / "frontier.png"
    fig = front.plot(str(path))
    assert path.stat().st_size > 10_000
    assert fig.axes[0].get_ylabel().startswith("cost")


def test_frontier_needs_scenarios_for_cvar(small: dict[str, Any]) -> None:
    with pytest.raises(procure.ProblemError, match=r"needs risk\.scenarios"):
        procure.frontier(small, "cvar")
    with pytest.raises(procure.ProblemError, match="measure: 'var'"):
        procure.frontier(small, "var")
