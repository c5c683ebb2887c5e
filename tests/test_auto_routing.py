"""Where ``solver="auto"`` (the default) races CBC and where HiGHS answers alone: each route
is a measured choice (docs/model.md, "Solvers"), and a route that silently changed would
change speed and, for trees and HHI, fall back to an engine that was measured to lose."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

import procure
from procure.solvers import DEFAULT_SOLVER
from procure.solvers.auto import PROBE_MOST_NONZEROS, AutoSession, _Watch


@pytest.fixture
def routes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The routes auto took during a test: "probe", "race" (CBC started) or "alone"."""
    taken: list[str] = []
    for name in ("_probe", "_race", "_highs_alone"):
        real = getattr(AutoSession, name)

        def recorded(self: AutoSession, *args: Any, _real: Any = real, _name: str = name) -> Any:
            taken.append(_name.strip("_").removeprefix("highs_"))
            return _real(self, *args)

        monkeypatch.setattr(AutoSession, name, recorded)
    return taken


def test_the_default_solver_is_auto() -> None:
    assert DEFAULT_SOLVER == "auto"


def test_a_small_model_is_probed_by_highs_before_any_race(small: dict[str, Any], routes: list[str]) -> None:
    result = procure.solve(small)
    assert result.model_size["nonzeros"] <= PROBE_MOST_NONZEROS
    assert result.status == "optimal" and result.solver == "highs"
    assert routes and set(routes) == {"probe"}  # proved within the probe: CBC never started


def test_hhi_models_go_to_highs_alone(small: dict[str, Any], routes: list[str]) -> None:
    capped = copy.deepcopy(small)
    capped.setdefault("risk", {})["max_hhi"] = 0.5
    priced = copy.deepcopy(small)
    priced.setdefault("risk", {})["hhi_weight"] = 1e6
    for problem in (capped, priced):
        result = procure.solve(problem)
        assert result.has_plan and result.check() == []
    assert routes and set(routes) == {"alone"}


def test_the_extensive_form_of_a_tree_goes_to_highs_alone(small: dict[str, Any], routes: list[str]) -> None:
    demand = small.pop("demand")
    small["demand_scenarios"] = [
        {"name": "low", "probability": 0.5, "demand": {k: 0.8 * v for k, v in demand.items()}},
        {"name": "high", "probability": 0.5, "demand": {k: 1.2 * v for k, v in demand.items()}},
    ]
    result = procure.solve(small)
    assert result.has_plan and result.check() == []
    assert routes and set(routes) == {"alone"}


def test_the_watch_stops_highs_past_its_budget_and_clears_the_flag_below_it() -> None:
    """Each interrupt callback says whether to stop: past the node budget or after Ctrl-C it
    stops; below the budget it clears the flag (HiGHS keeps it between runs of one instance)."""

    class Event:
        def __init__(self, nodes: int) -> None:
            self.data_out = type("Out", (), {"mip_node_count": nodes})()
            self.said: list[bool] = []

        def interrupt(self, stop: bool = True) -> None:
            self.said.append(stop)

    watch = _Watch()
    watch.budget = 100
    calls = [Event(n) for n in (5, 100, 101, 50)]
    for e in calls:
        watch(e)
    assert [e.said for e in calls] == [[False], [False], [True], [False]]
    assert watch.tripped and watch.peak == 101
    watch.reset()
    assert not watch.tripped and watch.peak == 0 and watch.budget == math.inf
    watch.event.set()  # Ctrl-C
    e = Event(0)
    watch(e)
    assert e.said == [True] and watch.peak == 0
