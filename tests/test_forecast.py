"""Demand trees from forecasts (procure.stochastic.forecast): growth_tree, tree_from_paths, reduce_tree."""

from __future__ import annotations

import contextlib
import io
import itertools
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_docs import NO_RUN, blocks, commands, output_differs
from test_tree import _base as _two_chips

import procure
from procure.base.errors import ProblemError
from procure.problem.tree import scenario_tree
from procure.stochastic.forecast import (
    ReducedTree,
    _forward_selection,
    growth_tree,
    lognormal,
    reduce_tree,
    tree_from_paths,
)

ROOT = Path(__file__).resolve().parent.parent
PERIODS = [2026, 2027, 2028]


def _base(periods: list[int] = PERIODS, **top: Any) -> dict[str, Any]:
    """test_tree's two chips of two vendors, demand growing from 10."""
    return _two_chips(periods=periods, demand={str(p): 10.0 * (t + 1) for t, p in enumerate(periods)}, **top)


def _with_workloads(periods: list[int] = PERIODS) -> dict[str, Any]:
    problem = _base(periods)
    del problem["demand"]
    problem["workloads"] = {
        "train": {str(p): 10.0 * (t + 1) for t, p in enumerate(periods)},
        "serve": {str(p): 4.0 * (t + 1) for t, p in enumerate(periods)},
    }
    return problem


def _paths(problem: procure.Problem) -> tuple[np.ndarray, np.ndarray]:
    """(K, T) total demand of each scenario, (K,) probabilities."""
    demand = np.array([s.total_demand for s in problem.demand_scenarios])
    return demand, np.array([s.probability for s in problem.demand_scenarios])


def _quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The weighted ``q`` quantile: the least value whose cumulative probability reaches ``q``."""
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, q - 1e-12)])


# --------------------------------------------------------------------------- growth_tree


def test_growth_tree_is_a_valid_tree_named_by_its_children() -> None:
    tree = growth_tree(_base(), growth=(2.0, 3.0, 4.5), branching=3)
    assert isinstance(tree, procure.Problem) and tree.demand is None
    names = [s.name for s in tree.demand_scenarios]
    assert names == ["-".join(p) for p in itertools.product(["low", "mid", "high"], repeat=2)]
    demand, p = _paths(tree)
    assert math.fsum(p) == pytest.approx(1.0, abs=1e-12) and np.allclose(p, 1 / 9)
    assert (demand[:, 0] == 10.0).all()  # the first period is known
    shape = scenario_tree(tree)
    assert [shape.nodes_in(t) for t in range(3)] == [1, 3, 9]
    assert shape.here_and_now == 1
    # low < mid < high within every node, and mid is the median multiple
    by_parent = demand[:, 2].reshape(3, 3)
    assert (np.diff(by_parent, axis=1) > 0).all()
    assert demand[4, 1] / demand[4, 0] == pytest.approx(3.0) and demand[4, 2] / demand[4, 1] == pytest.approx(3.0)


def test_growth_tree_is_reproducible() -> None:
    kwargs: dict[str, Any] = {"growth": (2.0, 3.0, 4.5), "branching": 4, "correlation": 0.3, "seed": 5}
    one = growth_tree(_with_workloads(), **kwargs).to_dict()
    assert one == growth_tree(_with_workloads(), **kwargs).to_dict()
    assert one != growth_tree(_with_workloads(), **{**kwargs, "seed": 6}).to_dict()  # the seed pairs workloads
    # fully correlated, the seed is not used
    a = growth_tree(_with_workloads(), growth=(2.0, 3.0, 4.5), branching=4, seed=1).to_dict()
    assert a == growth_tree(_with_workloads(), growth=(2.0, 3.0, 4.5), branching=4, seed=2).to_dict()


@pytest.mark.parametrize("quantiles", [(2.0, 3.0, 4.5), (1.1, 1.6, 2.5)])
def test_quantiles_of_the_multiples_are_the_forecast(quantiles: tuple[float, float, float]) -> None:
    # one stage with many children: the tree's 10/50/90% multiples are the forecast's
    tree = growth_tree(_base([2026, 2027]), growth={2027: quantiles}, branching=401)
    demand, p = _paths(tree)
    multiple = demand[:, 1] / demand[:, 0]
    low, mid, high = quantiles
    fitted_sigma = (math.log(high) - math.log(low)) / (2 * 1.2815515655446004)
    assert _quantile(multiple, p, 0.5) == pytest.approx(mid, rel=1e-9)
    assert _quantile(multiple, p, 0.1) == pytest.approx(mid * math.exp(-1.2815515655446004 * fitted_sigma), rel=0.01)
    assert _quantile(multiple, p, 0.9) == pytest.approx(mid * math.exp(1.2815515655446004 * fitted_sigma), rel=0.01)
    if math.log(mid) - math.log(low) == pytest.approx(math.log(high) - math.log(mid)):  # symmetric in logs
        assert _quantile(multiple, p, 0.1) == pytest.approx(low, rel=0.01)
        assert _quantile(multiple, p, 0.9) == pytest.approx(high, rel=0.01)


@pytest.mark.parametrize("method", ["quantile", "gauss-hermite"])
@pytest.mark.parametrize("k", [2, 3, 5])
def test_each_stage_has_the_lognormal_mean_and_variance(method: Any, k: int) -> None:
    tree = growth_tree(
        _base(), growth={2027: lognormal(0.5, 0.3), 2028: lognormal(0.2, 0.1)}, branching=k, method=method
    )
    demand, p = _paths(tree)
    for t, (mu, sigma) in enumerate([(0.5, 0.3), (0.2, 0.1)], start=1):
        log_multiple = np.log(demand[:, t] / demand[:, t - 1])
        mean = p @ log_multiple
        assert mean == pytest.approx(mu, abs=1e-9)  # demand is rounded to 12 digits
        assert p @ (log_multiple - mean) ** 2 == pytest.approx(sigma**2, rel=1e-6)


def test_total_is_spread_over_the_stages() -> None:
    # "3× to 8× by 2029, 5× most likely": median 5, the spread of the fitted lognormal, over 3 stages
    problem = _base([2026, 2027, 2028, 2029, 2030])
    tree = growth_tree(problem, total=(3.0, 5.0, 8.0), by=2029, growth={2030: (1.0, 1.2, 1.5)}, branching=3)
    demand, p = _paths(tree)
    log_total = np.log(demand[:, 3] / demand[:, 0])
    sigma = (math.log(8.0) - math.log(3.0)) / (2 * 1.2815515655446004)
    assert p @ log_total == pytest.approx(math.log(5.0), abs=1e-9)
    assert p @ (log_total - math.log(5.0)) ** 2 == pytest.approx(sigma**2, rel=1e-6)
    assert _quantile(demand[:, 3] / demand[:, 0], p, 0.5) == pytest.approx(5.0, rel=1e-9)
    # each stage up to by grows alike
    stage = np.log(demand[:, 1:4] / demand[:, :3])
    assert np.allclose(p @ stage, math.log(5.0) / 3)
    assert len(tree.demand_scenarios) == 3**4
    # total alone reaches the last period by default
    alone = growth_tree(_base([2026, 2027, 2028]), total=(3.0, 5.0, 8.0), branching=2)
    demand, p = _paths(alone)
    assert p @ np.log(demand[:, 2] / demand[:, 0]) == pytest.approx(math.log(5.0))


def test_branching_per_period_and_start() -> None:
    problem = _base([2026, 2027, 2028, 2029])
    tree = growth_tree(problem, growth=(2.0, 3.0, 4.5), branching={2027: 2, 2029: 3}, start=7.0)
    assert [s.name for s in tree.demand_scenarios] == [
        f"{a}-{b}" for a in ("low", "high") for b in ("low", "mid", "high")
    ]
    demand, _ = _paths(tree)
    assert (demand[:, 0] == 7.0).all()
    assert np.allclose(demand[:, 2] / demand[:, 1], 3.0)  # one child: the median multiple
    same = growth_tree(problem, growth=(2.0, 3.0, 4.5), branching=[1, 2, 1, 3], start=7.0)
    assert same.to_dict() == growth_tree(problem, growth=(2.0, 3.0, 4.5), branching=[2, 1, 3], start=7.0).to_dict()
    assert same.to_dict() == tree.to_dict()
    many = growth_tree(_base([2026, 2027]), growth=(2.0, 3.0, 4.5), branching=12)
    assert [s.name for s in many.demand_scenarios][:2] == ["q01", "q02"]
    one = growth_tree(_base([2026, 2027]), growth=(2.0, 3.0, 4.5), branching=1)
    assert [s.name for s in one.demand_scenarios] == ["mid"]


def test_workloads_move_together_or_with_the_given_correlation() -> None:
    together = growth_tree(_with_workloads(), growth=(2.0, 3.0, 4.5), branching=3)
    for s in together.demand_scenarios:
        assert s.workloads is not None
        train, serve = np.array(s.workloads["train"]), np.array(s.workloads["serve"])
        assert np.allclose(train[1:] / train[:-1], serve[1:] / serve[:-1])
    own = {"train": (2.0, 3.0, 4.5), "serve": lognormal(0.1, 0.05)}
    for rho in (0.0, 0.6):
        tree = growth_tree(_with_workloads([2026, 2027]), growth=own, branching=400, correlation=rho, seed=3)
        m = np.log([[s.workloads[w][1] / s.workloads[w][0] for w in ("train", "serve")] for s in tree.demand_scenarios])  # type: ignore[index]
        alone = growth_tree(_with_workloads([2026, 2027]), growth=own, branching=400)
        a = np.log(
            [[s.workloads[w][1] / s.workloads[w][0] for w in ("train", "serve")] for s in alone.demand_scenarios]
        )  # type: ignore[index]
        # each workload keeps its own multiples; only their pairing changes
        assert np.allclose(np.sort(m, axis=0), np.sort(a, axis=0))
        assert np.corrcoef(m.T)[0, 1] == pytest.approx(rho, abs=0.1)


def test_a_small_growth_tree_solves() -> None:
    tree = growth_tree(_base(), growth=(2.0, 3.0, 4.5), branching=2)
    result = procure.solve(tree, mip_gap=0)
    assert isinstance(result, procure.TreeResult)
    assert result.status == "optimal", result.message
    assert result.check() == []
    assert result.here_and_now_periods == (2026,)
    assert set(result.scenario_results) == {"low-low", "low-high", "high-low", "high-high"}


def test_the_problems_other_fields_are_kept() -> None:
    problem = _base(power_cap_gw=0.001, unserved_penalty=500.0, name="mine")
    tree = growth_tree(problem, growth=(2.0, 3.0, 4.5), branching=2).to_dict()
    plain = procure.Problem.from_dict(problem).to_dict()
    assert {k: v for k, v in tree.items() if k != "demand_scenarios"} == {
        k: v for k, v in plain.items() if k != "demand"
    }
    # a tree grown again from a tree starts from its shared first period
    again = growth_tree(procure.Problem.from_dict(tree), growth=(1.0, 1.0, 1.0), branching=2)
    assert all(s.demand == (10.0, 10.0, 10.0) for s in again.demand_scenarios)


ERRORS: list[tuple[dict[str, Any], str, str]] = [
    ({"growth": (0.0, 1.0, 2.0)}, "growth", "not positive"),
    ({"growth": {2027: (-1.0, 1.0, 2.0), 2028: (1.0, 2.0, 3.0)}}, "growth[2027]", "not positive"),
    ({"growth": (3.0, 2.0, 4.0)}, "growth", "low ≤ mid ≤ high"),
    ({"growth": (1.0, 2.0, math.inf)}, "growth", "not positive finite"),
    ({"growth": lognormal(0.1, -0.2)}, "growth", "sigma ≥ 0"),
    ({"growth": "fast"}, "growth", "is not a growth model"),
    ({"growth": {2027: (1.0, 2.0, 3.0)}}, "growth", "no growth model for 2028"),
    ({"growth": {2027: (1.0, 2.0, 3.0), 2028: (1.0, 2.0, 3.0), 2031: (1.0, 2.0, 3.0)}}, "growth[2031]", "period"),
    ({"growth": {2026: (1.0, 2.0, 3.0)}}, "growth[2026]", "first period"),
    ({"growth": None}, "growth", "is required"),
    ({"branching": 0}, "branching", "whole number ≥ 1"),
    ({"branching": 2.5}, "branching", "whole number ≥ 1"),
    ({"branching": True}, "branching", "whole number ≥ 1"),
    ({"branching": [2, 2, 2]}, "branching[0]", "first period"),
    ({"branching": [2, 2, 2, 2]}, "branching", "one per period after the first"),
    ({"branching": [2, 0]}, "branching[1]", "whole number ≥ 1"),
    ({"branching": [1, 2, -1]}, "branching[2]", "whole number ≥ 1"),
    ({"branching": {2030: 2}}, "branching[2030]", "not a period"),
    ({"branching": 400}, "branching", "more than max_paths=100,000"),
    ({"branching": 11, "max_paths": 100}, "branching", "121 paths"),
    ({"start": 0.0}, "start", "> 0"),
    ({"start": "x"}, "start", "not a number"),
    ({"correlation": 1.5}, "correlation", "[0, 1]"),
    ({"method": "sobol"}, "method", "quantile"),
    ({"growth": None, "total": (3.0, 5.0, 8.0), "by": 2031}, "by", "not a period"),
    ({"growth": None, "total": (3.0, 5.0, 8.0), "by": 2026}, "by", "first period"),
    ({"growth": None, "total": (3.0, 5.0, 8.0), "by": 2027}, "growth", "no growth model for 2028"),
    ({"total": (3.0, 5.0, 8.0)}, "growth", "second growth model"),
    ({"growth": lognormal(700.0, 0.0)}, "growth", "beyond any number"),
]


@pytest.mark.parametrize(("kwargs", "path", "words"), ERRORS, ids=[e[1] + ":" + e[2] for e in ERRORS])
def test_growth_tree_names_bad_input(kwargs: dict[str, Any], path: str, words: str) -> None:
    arguments: dict[str, Any] = {"growth": (2.0, 3.0, 4.5), "branching": 2, **kwargs}
    with pytest.raises(ProblemError, match=re.escape(words)) as caught:
        growth_tree(_base(), **arguments)
    assert caught.value.path == path
    assert str(caught.value).startswith(f"{path}: ")


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"growth": {"train": (2.0, 3.0, 4.5)}}, "growth"),  # a workload without a model
        ({"growth": {"train": (2.0, 3.0, 4.5), "serve": (1.0, 2.0, 3.0), "other": (1, 2, 3)}}, "growth['other']"),
        ({"growth": {"train": (2.0, 3.0, 4.5), "serve": (3.0, 2.0, 1.0)}}, "growth['serve']"),
        ({"start": 5.0}, "start"),
        ({"start": {"train": 5.0}}, "start"),
        ({"method": "gauss-hermite", "correlation": 0.5}, "method"),
    ],
)
def test_growth_tree_names_bad_workload_input(kwargs: dict[str, Any], path: str) -> None:
    with pytest.raises(ProblemError) as caught:
        growth_tree(_with_workloads(), **{"growth": (2.0, 3.0, 4.5), "branching": 2, **kwargs})
    assert caught.value.path == path


# --------------------------------------------------------------------------- tree_from_paths


def _mixture(n: int, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    """Paths from two branches: 30% grow to 200 then 300, 70% to 400 then 600 (±5% noise)."""
    rng = np.random.default_rng(seed)
    high = rng.random(n) < 0.7
    y1 = np.where(high, 400.0, 200.0) * np.exp(rng.normal(0.0, 0.05, n))
    y2 = y1 * 1.5 * np.exp(rng.normal(0.0, 0.05, n))
    return pd.DataFrame({2026: 100.0, 2027: y1, 2028: y2}), high


def test_tree_from_paths_recovers_a_two_branch_mixture() -> None:
    paths, high = _mixture(4096)
    tree = tree_from_paths(_base(), paths, branching={2027: 2})
    assert [s.name for s in tree.demand_scenarios] == ["low", "high"]
    demand, p = _paths(tree)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert p[1] == pytest.approx(high.mean(), abs=1e-12)  # every path in its own branch
    assert p[1] == pytest.approx(0.7, abs=0.03)
    assert demand[:, 0] == pytest.approx([100.0, 100.0])
    assert demand[:, 1] == pytest.approx([200.0, 400.0], rel=0.01)
    assert demand[:, 2] == pytest.approx([300.0, 600.0], rel=0.01)
    # each branch splits again in 2028; the groups' means and shares are the paths'
    finer = tree_from_paths(_base(), paths, branching=2)
    demand, p = _paths(finer)
    assert [s.name for s in finer.demand_scenarios] == ["low-low", "low-high", "high-low", "high-high"]
    assert p[:2].sum() == pytest.approx(1 - high.mean(), abs=1e-12)
    assert p @ demand[:, 2] == pytest.approx(paths[2028].mean(), rel=1e-9)
    assert scenario_tree(finer).here_and_now == 1


def test_tree_from_paths_is_deterministic_and_takes_columns_in_any_order() -> None:
    paths, _ = _mixture(500)
    one = tree_from_paths(_base(), paths, branching=3).to_dict()
    assert one == tree_from_paths(_base(), paths, branching=3).to_dict()
    shuffled = paths[[2028, 2026, 2027]].rename(columns=str)
    assert one == tree_from_paths(_base(), shuffled, branching=3).to_dict()
    assert one == tree_from_paths(_base(), paths.to_numpy(), branching=3).to_dict()


def test_tree_from_paths_has_fewer_children_where_paths_are_few_or_alike() -> None:
    paths = pd.DataFrame({2026: [5.0, 5.0, 5.0], 2027: [6.0, 6.0, 9.0], 2028: [7.0, 8.0, 12.0]})
    tree = tree_from_paths(_base(), paths, branching=5)
    demand, p = _paths(tree)
    assert [s.name for s in tree.demand_scenarios] == ["low-low", "low-high", "high"]
    assert p == pytest.approx([1 / 3, 1 / 3, 1 / 3])
    assert demand.tolist() == [[5.0, 6.0, 7.0], [5.0, 6.0, 8.0], [5.0, 9.0, 12.0]]
    same = pd.DataFrame({2026: [5.0] * 4, 2027: [6.0] * 4, 2028: [7.0] * 4})
    assert [s.name for s in tree_from_paths(_base(), same, branching=3).demand_scenarios] == ["mid"]


def test_tree_from_paths_with_workloads() -> None:
    rng = np.random.default_rng(2)
    n = 2000
    high = rng.random(n) < 0.4
    columns = pd.MultiIndex.from_product([["train", "serve"], PERIODS])
    train = np.c_[np.full(n, 10.0), np.where(high, 30.0, 15.0), np.where(high, 60.0, 20.0)]
    serve = np.c_[np.full(n, 4.0), np.where(high, 6.0, 12.0), np.where(high, 9.0, 20.0)]  # serve grows on the other
    noise = np.exp(rng.normal(0.0, 0.02, (n, 6)))
    paths = pd.DataFrame(np.c_[train, serve] * noise, columns=columns)
    tree = tree_from_paths(_with_workloads(), paths, branching={2027: 2})
    _, p = _paths(tree)
    assert p == pytest.approx([1 - high.mean(), high.mean()], abs=1e-12)
    low, hi = (s.workloads for s in tree.demand_scenarios)
    assert low is not None and hi is not None
    assert low["train"][1] == pytest.approx(15.0, rel=0.01) and low["serve"][1] == pytest.approx(12.0, rel=0.01)
    assert hi["train"][2] == pytest.approx(60.0, rel=0.01) and hi["serve"][2] == pytest.approx(9.0, rel=0.01)
    assert procure.solve(tree).status == "optimal"


@pytest.mark.parametrize(
    ("paths", "path", "words"),
    [
        (pd.DataFrame({2026: [1.0], 2027: [2.0]}), "paths.columns", "periods"),
        (pd.DataFrame({2026: [1.0], 2027: [2.0], 2029: [3.0]}), "paths.columns[2029]", "not a period"),
        (pd.DataFrame({2026: [1.0], 2027: [2.0], 2028: [np.nan]}), "paths.loc[0, 2028]", "finite"),
        (pd.DataFrame({2026: [1.0], 2027: [-2.0], 2028: [3.0]}), "paths.loc[0, 2027]", "≥ 0"),
        (pd.DataFrame({2026: [1.0], 2027: ["x"], 2028: [3.0]}), "paths.columns", "not numbers"),
        (pd.DataFrame(columns=[2026, 2027, 2028]), "paths", "no rows"),
        ([[1.0, 2.0, 3.0]], "paths", "DataFrame"),
        (
            pd.DataFrame(np.ones((1, 3)), columns=pd.MultiIndex.from_product([["a"], [2026, 2027, 2028]])),
            "paths.columns",
            "one demand",
        ),
    ],
)
def test_tree_from_paths_names_bad_paths(paths: Any, path: str, words: str) -> None:
    with pytest.raises(ProblemError, match=re.escape(words)) as caught:
        tree_from_paths(_base(), paths, branching=2)
    assert caught.value.path == path


def test_tree_from_paths_names_mismatched_workloads() -> None:
    columns = pd.MultiIndex.from_product([["train", "other"], PERIODS])
    with pytest.raises(ProblemError, match="workloads other than") as caught:
        tree_from_paths(_with_workloads(), pd.DataFrame(np.ones((2, 6)), columns=columns), branching=2)
    assert caught.value.path == "paths.columns"
    with pytest.raises(ProblemError, match="has workloads"):
        tree_from_paths(_with_workloads(), pd.DataFrame(np.ones((2, 3)), columns=PERIODS), branching=2)
    with pytest.raises(ProblemError, match="branching"):
        tree_from_paths(_base(), _mixture(10)[0], branching=0)


def test_tree_from_paths_refuses_a_branching_too_large_to_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    import procure.stochastic.forecast

    monkeypatch.setattr(procure.stochastic.forecast, "MAX_DISTANCES", 15)
    assert len(tree_from_paths(_base(), _mixture(10)[0], branching=1).demand_scenarios) == 1
    with pytest.raises(ProblemError, match="k-means would hold 20 distances") as caught:
        tree_from_paths(_base(), _mixture(10)[0], branching=2)
    assert caught.value.path == "branching"


# --------------------------------------------------------------------------- reduce_tree


def _kantorovich(full: procure.Problem, reduced: procure.Problem) -> float:
    """Σ_k p_k · min_kept ‖d_k − d_j‖ over the full tree's paths, recomputed directly."""
    x, p = _paths(full)
    kept = {s.name for s in reduced.demand_scenarios}
    keep = np.array([s.name in kept for s in full.demand_scenarios])
    gaps = np.linalg.norm(x[:, None, :] - x[None, keep, :], axis=2).min(axis=1)
    return float(p @ gaps)


def test_reduce_tree_distance_falls_to_zero() -> None:
    tree = growth_tree(_base([2026, 2027, 2028, 2029]), total=(3.0, 5.0, 8.0), branching=3)
    K = len(tree.demand_scenarios)
    reductions = [reduce_tree(tree, n) for n in range(1, K + 1)]
    distances = [r.distance for r in reductions]
    assert all(isinstance(r, ReducedTree) for r in reductions)
    assert all(b <= a + 1e-9 for a, b in itertools.pairwise(distances))
    assert distances[0] > 0 and distances[-1] == 0.0
    assert reductions[0].relative == pytest.approx(1.0) and reductions[-1].relative == 0.0
    assert reductions[-1].problem is tree
    for n, r in enumerate(reductions[:-1], start=1):
        names = [s.name for s in r.problem.demand_scenarios]
        assert len(names) == n and set(names) == set(r.kept)
        assert r.kept == reductions[-2].kept[:n]  # greedy: the kept paths of n are among those of n + 1
        assert r.distance == pytest.approx(_kantorovich(tree, r.problem), rel=1e-9)
        assert math.fsum(s.probability for s in r.problem.demand_scenarios) == pytest.approx(1.0, abs=1e-12)


def test_reduce_tree_keeps_whole_paths_and_moves_probability_to_the_nearest() -> None:
    tree = growth_tree(_base(), growth=(2.0, 3.0, 4.5), branching=3)
    reduced = reduce_tree(tree, 3)
    x, p = _paths(tree)
    names = [s.name for s in tree.demand_scenarios]
    kept = [names.index(n) for n in reduced.kept]
    # the first path kept is the one nearest to all the others
    spread = [p @ np.linalg.norm(x - x[u], axis=1) for u in range(len(x))]
    assert kept[0] == int(np.argmin(spread))
    nearest = np.array(kept)[np.argmin(np.linalg.norm(x[:, None] - x[None, kept], axis=2), axis=1)]
    for s in reduced.problem.demand_scenarios:
        j = names.index(s.name)
        assert s.demand == tree.demand_scenarios[j].demand
        assert s.probability == pytest.approx(p[nearest == j].sum())
    result = procure.solve(reduced.problem)
    assert result.status == "optimal" and result.check() == []


def test_reduce_tree_names_bad_input() -> None:
    tree = growth_tree(_base(), growth=(2.0, 3.0, 4.5), branching=2)
    for n in (0, 1.5, True):
        with pytest.raises(ProblemError) as caught:
            reduce_tree(tree, n)  # type: ignore[arg-type]
        assert caught.value.path == "n_paths"
    with pytest.raises(ProblemError, match="is empty") as caught:
        reduce_tree(_base(), 2)
    assert caught.value.path == "problem.demand_scenarios"
    with pytest.raises(ProblemError, match="more than max_paths=3"):
        reduce_tree(tree, 2, max_paths=3)


# --------------------------------------------------------------------------- the docs


@pytest.mark.slow  # kept out of `pytest -q` for its time; CI runs it with -m slow
def test_the_forecasts_page_runs_and_prints_what_it_shows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/forecasts.md's blocks run in order (as tests/test_docs.py runs the guide's) and print
    what its output blocks show."""
    from procure.cli import main

    monkeypatch.chdir(tmp_path)  # procure init writes my-plan/ here
    doc = ROOT / "docs" / "forecasts.md"
    assert NO_RUN not in doc.read_text(encoding="utf-8")
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    printed: str | None = None
    for line, lang, code in blocks(doc):
        where = f"forecasts.md, block at line {line}"
        if lang == "python":
            with contextlib.redirect_stdout(io.StringIO()) as out:
                exec(compile(code, where, "exec"), namespace)
            printed = out.getvalue()
        elif lang == "output":
            assert printed is not None, where
            assert output_differs(printed, code) is None, f"{where}: {output_differs(printed, code)}"
            printed = None
        elif lang == "bash":
            for argv in commands(code):
                with contextlib.redirect_stdout(io.StringIO()):
                    assert main(argv) == 0, where


def _plain_forward_selection(x: np.ndarray, p: np.ndarray, n: int) -> tuple[list[int], np.ndarray]:
    """Forward selection as written in the papers: every step reads every pair."""
    d = np.linalg.norm(x[:, None] - x[None], axis=2)
    nearest = np.full(len(x), np.inf)
    kept: list[int] = []
    for _ in range(n):
        cost = p @ np.minimum(d, nearest[:, None])
        cost[kept] = np.inf
        kept.append(int(np.argmin(cost)))
        nearest = np.minimum(nearest, d[:, kept[-1]])
    return kept, nearest


@pytest.mark.parametrize("seed", range(5))
def test_the_selection_reads_only_closer_pairs_and_keeps_what_plain_selection_keeps(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.lognormal(size=(300, 4)) * 100.0
    p = rng.random(300)
    p /= p.sum()
    kept, nearest, owner, single = _forward_selection(x, p, 60)
    plain, plain_nearest = _plain_forward_selection(x, p, 60)
    assert kept == plain
    assert nearest == pytest.approx(plain_nearest, rel=1e-12)
    assert single == pytest.approx(p @ np.linalg.norm(x - x[kept[0]], axis=1), rel=1e-12)
    d = np.linalg.norm(x[:, None] - x[None, kept], axis=2)
    assert (owner == np.asarray(kept)[np.argmin(d, axis=1)]).all()


def test_a_tree_needs_periods_after_the_first() -> None:
    one = _base([2026])
    for build in (
        lambda: growth_tree(one, growth=(2.0, 3.0, 4.5), branching=2),
        lambda: tree_from_paths(one, pd.DataFrame({2026: [1.0, 2.0]}), branching=2),
    ):
        with pytest.raises(ProblemError, match="has one period") as caught:
            build()
        assert caught.value.path == "problem.periods"


# --------------------------------------------------------------------------- growth_paths


def test_growth_paths_sample_the_forecast_growth_tree_discretizes() -> None:
    from procure.stochastic.forecast import growth_paths

    problem = _base([2026, 2027, 2028, 2029])
    paths = growth_paths(problem, 20_000, total=(3.0, 5.0, 8.0), by=2029, seed=1)
    assert list(paths.columns) == [2026, 2027, 2028, 2029]
    assert (paths[2026] == 10.0).all()
    multiple = (paths[2029] / paths[2026]).to_numpy()
    assert np.quantile(multiple, [0.1, 0.5, 0.9]) == pytest.approx([3.0, 5.0, 8.0], rel=0.04)
    again = growth_paths(problem, 20_000, total=(3.0, 5.0, 8.0), by=2029, seed=1)
    pd.testing.assert_frame_equal(paths, again)
    assert not growth_paths(problem, 50, total=(3.0, 5.0, 8.0), seed=2).equals(paths.head(50))


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [({"n": 0}, "n"), ({"n": 10, "max_paths": 5}, "n"), ({"n": 10, "total": (3.0, 2.0, 8.0)}, "total")],
)
def test_growth_paths_name_bad_arguments(kwargs: dict[str, Any], path: str) -> None:
    from procure.stochastic.forecast import growth_paths

    kwargs = {"total": (3.0, 5.0, 8.0), **kwargs}
    with pytest.raises(ProblemError) as err:
        growth_paths(_base(), **kwargs)
    assert err.value.path == path
