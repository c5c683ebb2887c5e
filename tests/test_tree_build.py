"""Building a demand tree's extensive form from a template path (`procure.model.replicate`) gives
the very model that building every path on its own gives: the same columns, rows, matrix,
bounds, costs, integrality, blocks, square rows and path views, bit for bit, on random trees
with every family that reads demand (workloads, sites, disruptions and CVaR, HHI, min_vendors,
vendor loss, unserved demand, power build-out, capacity options, vendor floors and allocations,
and periods without demand on some paths)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np
import pytest

import procure
from procure.core.pipeline import Pipeline
from procure.model import replicate
from procure.model.extensive import Extensive, PathGroup
from procure.model.linear import Block
from procure.model.sets import model_data
from procure.problem.inputs import inputs_of
from procure.problem.tree import scenario_tree
from procure.solvers import get_adapter
from procure.solvers.options import solve_options
from procure.stochastic import tree_solve as stochastic

VENDORS = ("a", "b", "c")


def _per_period(rng: np.random.Generator, periods: list[int], low: float, high: float) -> dict[str, float]:
    return {str(p): float(np.round(rng.uniform(low, high), 1)) for p in periods}


def _paths(rng: np.random.Generator, periods: list[int], names: tuple[str, ...] | None) -> list[dict[str, Any]]:
    """A tree of 2–3 children in each of 1–2 branching periods; demand is 0 in some periods of some
    paths (a whole branch, or the first period of every path)."""
    T = len(periods)
    branching = sorted(rng.choice(np.arange(1, T), size=min(int(rng.integers(1, 3)), T - 1), replace=False))
    children = [int(rng.integers(2, 4)) for _ in branching]
    width = len(names) if names else 1
    base = rng.uniform(20.0, 60.0, size=(width, T))
    first_zero = rng.random() < 0.3
    out = []
    for combo in np.ndindex(*children):
        path = base.copy()
        for k, t in enumerate(branching):
            factor = [0.0, 0.6, 1.5][combo[k]] if rng.random() < 0.25 else [0.7, 1.0, 1.4][combo[k]]
            path[:, t:] *= factor
            if combo[k] == 0 and rng.random() < 0.2:
                path[int(rng.integers(width)), t] = 0.0  # one workload without demand there
        if first_zero:
            path[:, 0] = 0.0
        path = np.round(path, 1)
        name = "p" + "".join(map(str, combo))
        scenario: dict[str, Any] = {"name": name, "probability": 1.0 / int(np.prod(children))}
        if names:
            scenario["workloads"] = {w: dict(zip(map(str, periods), path[k].tolist())) for k, w in enumerate(names)}
        else:
            scenario["demand"] = dict(zip(map(str, periods), path[0].tolist()))
        out.append(scenario)
    return out


def _some(rng: np.random.Generator, choices: dict[str, tuple[float, Any]]) -> dict[str, Any]:
    """Each field of ``choices`` (name: (chance, value)) drawn with its chance."""
    return {name: value for name, (chance, value) in choices.items() if rng.random() < chance}


def _random_tree(seed: int) -> dict[str, Any]:
    """A random valid tree problem with a random choice of the families that read demand."""
    rng = np.random.default_rng(seed)
    T = int(rng.integers(3, 5))
    periods = list(range(2026, 2026 + T))
    names = ("train", "serve") if rng.random() < 0.35 else None
    offers = []
    for k, vendor in enumerate(VENDORS[: int(rng.integers(2, 4))]):
        lot = int(rng.choice([1, 4]))
        offer: dict[str, Any] = {
            "name": f"chip{k}",
            "vendor": vendor,
            "unit_cost": _per_period(rng, periods, 50.0, 150.0),
            "compute": float(rng.choice([1.0, 2.0, 0.5])),
            "power_kw": float(rng.choice([1.0, 1.5])),
            "lot_size": lot,
            **_some(rng, {"min_order": (0.3, 8 * lot), "max_units": (0.3, 200), "lead_time": (0.2, 1)}),
        }
        if names:
            offer.update(_some(rng, {"efficiency": (0.5, {"train": float(rng.choice([0.5, 0.8, 1.2]))})}))
        offers.append(offer)
    used = [o["vendor"] for o in offers]
    vendor_terms = {"min_share": (0.2, 0.1), "max_new_compute": (0.2, 400.0), "onboarding_cost": (0.2, 500.0)}
    problem: dict[str, Any] = {
        "name": f"random-{seed}",
        "periods": periods,
        "offers": offers,
        "vendors": [{"name": v, **_some(rng, vendor_terms)} for v in used],
        **_some(rng, {"unserved_penalty": (0.4, 400.0)}),
    }
    if rng.random() < 0.35:
        south = {"name": "south", "power_cap_gw": 0.02, "pue": 1.3}
        south.update(_some(rng, {"power_build": (0.4, {"cost_per_gw": 5e3, "lead_time": 1})}))
        problem["sites"] = [{"name": "north", "power_cap_gw": 0.01, "vendors": used[:2]}, south]
    else:
        problem["power_cap_gw"] = 0.02
        problem.update(_some(rng, {"power_build": (0.4, {"cost_per_gw": 5e3, "block_gw": 0.001, "lead_time": 1})}))
    risk = {
        "max_share": float(rng.choice([1.0, 0.8])),
        **_some(
            rng,
            {
                "min_vendors": (0.35, 2),
                "survive_vendor_loss": (0.3, 0.3),
                "hhi_weight": (0.35, 100.0),
                "max_hhi": (0.2, 0.9),
                "scenario_cvar_weight": (0.3, 0.5),
            },
        ),
    }
    if rng.random() < 0.4:
        risk["scenarios"] = [
            {"name": "outage", "probability": 0.1, "availability": {used[0]: 0.5}},
            {"name": "late", "probability": 0.05, "availability": {used[1]: 0.0}, "periods": periods[1:]},
        ]
        risk["shortfall_penalty"] = float(rng.choice([50.0, 3e5]))
        risk["risk_weight"] = 0.5
        risk.update(_some(rng, {"max_cvar": (0.3, 1e9)}))
    problem["risk"] = risk
    option = {"name": "more", "offer": "chip0", "max_units": 40, "reserve_cost": 5.0}
    problem.update(_some(rng, {"options": (0.3, [option])}))
    problem["demand_scenarios"] = _paths(rng, periods, names)
    return problem


def _pipeline(**changes: Any) -> Pipeline:
    return Pipeline(get_adapter("highs"), solve_options(None, 1e-4, 1, False, None), **changes)


def _no_rows(m: Any, handles: Any, data: Any) -> None:
    """A caller's ``extra`` that adds nothing: `_open` then builds every path on its own."""


def _same(a: Any, b: Any, where: str = "") -> None:
    """Assert ``a`` and ``b`` are the same, bit for bit (arrays of one dtype; NaN equal to NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), where
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), where
    elif isinstance(a, procure.Problem):  # each state's own tree's path
        assert a == b, where
    elif dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), where
        for f in dataclasses.fields(a):
            _same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for k, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{k}]")
    else:
        assert a == b, (where, a, b)


def _blocks(blocks: list[Block]) -> list[tuple[Any, ...]]:
    return [(b.name, b.start, b.unit, b.doc, b.definition, b.index) for b in blocks]


def _same_extensive(a: Extensive, b: Extensive) -> None:
    m, n = a.model, b.model
    for name in ("col_lower", "col_upper", "cost", "integrality", "row_lower", "row_upper"):
        _same(getattr(m, name), getattr(n, name), name)
    _same(m.offset, n.offset, "offset")
    _same(m._triplets, n._triplets, "triplets")
    A, B = m.A, n.A
    _same((A.indptr, A.indices, A.data), (B.indptr, B.indices, B.data), "A")
    _same(_blocks(m.columns), _blocks(n.columns), "columns")
    _same(_blocks(m.rows), _blocks(n.rows), "rows")
    _same(m.squares, n.squares, "squares")
    _same((a.lots, a.cvar), (b.lots, b.cvar), "lots, cvar")
    _same([v.extra_blocks for v in a.views], [v.extra_blocks for v in b.views], "extra_blocks")
    _same([v.handles for v in a.views], [v.handles for v in b.views], "views")


def _open_both(problem: dict[str, Any], **changes: Any) -> tuple[stochastic.TreeState, stochastic.TreeState]:
    """The tree opened path by path (a caller's rows force it) and from templates."""
    p = procure.Problem.from_dict(problem)
    upper, fixed = changes.pop("upper", None), changes.pop("fixed", None)
    own = stochastic._open(_pipeline(extra=_no_rows, **changes), p, scenario_tree(p), upper, fixed)
    made = stochastic._open(_pipeline(**changes), p, scenario_tree(p), upper, fixed)
    return own, made


def _templates(problem: dict[str, Any]) -> tuple[list[PathGroup], int, int]:
    """The groups of the tree's paths, how many distinct group keys its paths have, and its paths."""
    tree = scenario_tree(procure.Problem.from_dict(problem))
    datas = replicate.path_datas(tree.problems)
    assert datas is not None
    pipeline = _pipeline()
    upper, _ = replicate.tree_first_bounds(datas)
    groups = replicate.path_groups(lambda d: pipeline.build(d, upper), datas)
    return groups, len({replicate._group_key(d) for d in datas}), tree.n_paths


def _same_state(own: stochastic.TreeState, made: stochastic.TreeState) -> None:
    _same_extensive(own.extensive, made.extensive)
    _same((own.upper, own.provisional), (made.upper, made.provisional), "bounds")
    assert len(own.datas) == len(made.datas)
    for s, (x, y) in enumerate(zip(own.datas, made.datas)):
        _same(x, y, f"data[{s}]")


@pytest.mark.parametrize("seed", range(40))
def test_a_random_tree_is_built_from_templates_exactly_as_path_by_path(seed: int) -> None:
    problem = _random_tree(seed)
    _same_state(*_open_both(problem))
    groups, keys, paths = _templates(problem)
    assert len(groups) == keys  # one template per group key: no group was built path by path
    assert sorted(s for g in groups for s in g.members.tolist()) == list(range(paths))


@pytest.mark.parametrize("seed", range(40, 48))
def test_so_are_forced_risk_families_wait_and_see_and_held_decisions(seed: int) -> None:
    problem = _random_tree(seed)
    _same_state(*_open_both(problem, hhi=True, cvar=True))
    _same_state(*_open_both(problem, shared=False))
    p = procure.Problem.from_dict(problem)
    data = model_data(scenario_tree(p).problems[0])
    P, T = data.n_placements, data.n_periods
    _same_state(*_open_both(problem, upper=np.full((P, T), 7.0)))
    fixed = stochastic.Held(1, 2.0 * data.lot_p[:, None], None, np.zeros(0), np.zeros((0, P, 1)))  # 2 lots held
    _same_state(*_open_both(problem, fixed=fixed))


def test_a_path_problem_gets_the_inputs_it_would_compute() -> None:
    p = procure.Problem.from_dict(_random_tree(3))
    tree = scenario_tree(p)
    datas = replicate.path_datas(tree.problems)
    assert datas is not None
    for path, data in zip(tree.problems, datas):
        _same(path.inputs, inputs_of(path))
        _same(data, model_data(path))


def test_paths_with_demand_in_the_same_periods_share_a_template() -> None:
    problem = _random_tree(5)
    groups, keys, paths = _templates(problem)
    assert len(groups) == keys < paths


def test_a_group_whose_numbers_differ_from_its_last_paths_model_is_built_path_by_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    problem = _random_tree(7)
    original = replicate._replicated

    def wrong(*args: Any) -> PathGroup:
        group = original(*args)
        return dataclasses.replace(group, row_lower=group.row_lower + 1.0)

    monkeypatch.setattr(replicate, "_replicated", wrong)
    _same_state(*_open_both(problem))
    groups, _, paths = _templates(problem)
    assert len(groups) == paths


def test_building_stops_at_the_deadline() -> None:
    p = procure.Problem.from_dict(_random_tree(2))
    with pytest.raises(stochastic._OutOfTime):
        stochastic._open(_pipeline(), p, scenario_tree(p), None, deadline=time.perf_counter())
