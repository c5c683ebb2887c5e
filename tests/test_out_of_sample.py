"""Judging a plan out of sample (`procure.out_of_sample`): the here-and-now decisions held, each
fresh path solved for its recourse, checked against costs worked out by hand on tiny trees."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import procure
from procure.base.errors import ProblemError
from procure.sweeps.out_of_sample import Comparison, OutOfSample, SaaGap, compare, mean_interval, out_of_sample, saa_gap

PERIODS = [2026, 2027]


def _chip(**fields: Any) -> dict[str, Any]:
    """One chip of one vendor: 1 compute unit, 1 kW, lots of 1; $100 now, $150 next year."""
    chip = {"name": "chip", "vendor": "x", "unit_cost": {"2026": 100.0, "2027": 150.0}, "compute": 1.0}
    chip.update(power_kw=1.0, lot_size=1, **fields)
    return chip


def _tree(paths: list[tuple[str, float, list[float]]], **top: Any) -> dict[str, Any]:
    problem: dict[str, Any] = {"periods": PERIODS, "offers": [_chip()]}
    problem.update(top)
    problem["demand_scenarios"] = [
        {"name": n, "probability": p, "demand": dict(zip(map(str, PERIODS), d))} for n, p, d in paths
    ]
    return problem


#: 10 units now; next year 10 (p 0.2) or 20 (p 0.8).  Buying a unit now costs 100, next year
#: 150: the tree buys all 20 now (100·x + 0.8·150·(20 − x) falls with x), expected cost 2,000.
#: Next year's supply is capped at 15 units.
TREE = _tree(
    [("low", 0.2, [10, 10]), ("high", 0.8, [10, 20])],
    offers=[_chip(max_units={"2026": 100, "2027": 15})],
)


def _year(*demand: float) -> dict[str, float]:
    return dict(zip(map(str, PERIODS), demand))


def _paths(*rows: tuple[float, float], index: list[str] | None = None) -> pd.DataFrame:
    return pd.DataFrame([list(r) for r in rows], columns=PERIODS, index=index)


@pytest.fixture(scope="module")
def tree() -> procure.TreeResult:
    result = procure.solve(TREE, mip_gap=0)
    assert isinstance(result, procure.TreeResult) and result.status == "optimal"
    assert result.cost == pytest.approx(2000.0)
    assert result.here_and_now.loc[2026, "chip"] == 20
    return result


def _judge(result: procure.Result, paths: pd.DataFrame, **kw: Any) -> OutOfSample:
    return out_of_sample(result, paths, mip_gap=0, progress=False, **kw)


# --------------------------------------------------------------------------- the recourse


def test_each_path_costs_what_its_recourse_costs_by_hand(tree: procure.TreeResult) -> None:
    # 20 units held: next year buys what demand needs beyond 20, at 150 each
    paths = _paths((10, 30), (10, 5), (10, 25), (10, 20), index=["a", "b", "c", "d"])
    judged = _judge(tree, paths)
    assert list(judged.table.index) == ["a", "b", "c", "d"]
    assert (judged.table["status"] == "optimal").all()
    assert judged.table["cost"].tolist() == pytest.approx([3500.0, 2000.0, 2750.0, 2000.0])
    assert judged.table["objective"].tolist() == pytest.approx(judged.table["cost"].tolist())
    assert (judged.table["unserved"] == 0).all() and not judged.table["differs"].any()
    assert judged.held_periods == (2026,) and judged.n == 4 and judged.share_without_plan == 0
    assert judged.expected_cost == pytest.approx(np.mean([3500, 2000, 2750, 2000]))


def test_the_here_and_now_decisions_are_held(tree: procure.TreeResult) -> None:
    # alone, the path (10, 30) buys all 30 units now for 3,000; with 20 held it pays 3,500
    alone = procure.solve({**{k: v for k, v in TREE.items() if k != "demand_scenarios"}, "demand": _year(10, 30)})
    assert alone.cost == pytest.approx(3000.0) and alone.purchases.loc[2026, "chip"] == 30
    judged = _judge(tree, _paths((10, 30)))
    assert judged.table["cost"].iloc[0] == pytest.approx(3500.0)
    # and a path that needs less cannot buy less now: 20 units are paid for
    assert _judge(tree, _paths((10, 10))).table["cost"].iloc[0] == pytest.approx(2000.0)


def test_a_path_whose_early_demand_differs_keeps_the_decisions(tree: procure.TreeResult) -> None:
    judged = _judge(tree, _paths((12, 20), (10, 20)))
    assert judged.table["differs"].tolist() == [True, False]
    assert judged.table["cost"].tolist() == pytest.approx([2000.0, 2000.0])
    assert "1 path's demand in the held periods is not the plan's" in judged.summary()


def test_reserved_options_are_held() -> None:
    # an option reserved now at $10 a unit, exercised next year at $120 (direct: $300): the tree
    # reserves 20 for the high path; a path of 40 gets 20 through it and 10 at $300
    problem = _tree(
        [("low", 0.5, [10, 10]), ("high", 0.5, [10, 30])],
        offers=[_chip(unit_cost={"2026": 100.0, "2027": 300.0})],
        options=[{"name": "up", "offer": "chip", "max_units": 100, "reserve_cost": 10.0, "exercise_price": 120.0}],
    )
    result = procure.solve(problem, mip_gap=0)
    assert result.cost == pytest.approx(1000 + 200 + 0.5 * 2400)
    judged = _judge(result, _paths((10, 40), (10, 10)))
    assert judged.table["cost"].tolist() == pytest.approx([1000 + 200 + 2400 + 3000, 1000 + 200])


def test_power_builds_are_held() -> None:
    # power built now costs $1 a kW, next year $3: the tree builds 20 kW now for the high path;
    # a path of 30 builds its last 10 kW next year (3,050; with its own choice now, 3,030)
    problem = _tree(
        [("low", 0.5, [10, 10]), ("high", 0.5, [10, 20])],
        offers=[_chip(unit_cost=100.0)],
        power_build={"cost_per_gw": {"2026": 1e6, "2027": 3e6}},
    )
    result = procure.solve(problem, mip_gap=0)
    assert result.cost == pytest.approx(1000 + 20 + 0.5 * 1000)
    judged = _judge(result, _paths((10, 30)))
    assert judged.table["cost"].iloc[0] == pytest.approx(1000 + 20 + 2000 + 30)


def test_a_deterministic_result_holds_its_first_period() -> None:
    plain = procure.solve({"periods": PERIODS, "offers": [_chip()], "demand": _year(10, 20)}, mip_gap=0)
    assert plain.purchases.loc[2026, "chip"] == 20
    judged = _judge(plain, _paths((10, 30)))
    assert judged.label == "plan" and judged.held_periods == (2026,)
    assert judged.table["cost"].iloc[0] == pytest.approx(3500.0)


# --------------------------------------------------------------------------- no recourse


def test_paths_without_a_recourse_are_counted(tree: procure.TreeResult) -> None:
    # next year's 15 units cannot cover a path of 40 (20 held): no plan
    judged = _judge(tree, _paths((10, 40), (10, 30), (10, 20), (10, 5)))
    assert judged.table["status"].tolist() == ["infeasible", "optimal", "optimal", "optimal"]
    assert math.isnan(judged.table["cost"].iloc[0]) and math.isnan(judged.table["unserved"].iloc[0])
    assert "here-and-now decisions held" in judged.table["message"].iloc[0]
    assert judged.n == 3 and judged.share_infeasible == pytest.approx(0.25)
    assert judged.share_without_plan == pytest.approx(0.25)
    assert judged.expected_cost == pytest.approx(np.mean([3500, 2000, 2000]))  # over the paths with a plan
    text = judged.summary()
    assert "25.0% infeasible" in text and "unserved_penalty=" in text


def test_an_unserved_penalty_prices_the_shortfall(tree: procure.TreeResult) -> None:
    # priced at $1,000 a unit: 15 bought next year (2,250), 5 unserved (5,000)
    judged = _judge(tree, _paths((10, 40), (10, 30)), unserved_penalty=1000.0)
    assert (judged.table["status"] == "optimal").all() and judged.unserved_penalty == 1000.0
    assert judged.table["cost"].tolist() == pytest.approx([2000 + 2250 + 5000, 3500.0])
    assert judged.table["unserved"].tolist() == pytest.approx([5.0, 0.0])
    assert judged.expected_unserved == pytest.approx(2.5)
    assert judged.quantiles["cost"].tolist() == pytest.approx(
        [3500 + 0.05 * 5750, (9250 + 3500) / 2, 3500 + 0.95 * 5750]
    )


# --------------------------------------------------------------------------- statistics


def _uniform_paths(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return _paths(*[(10.0, float(d)) for d in rng.integers(0, 35, size=n)])


def test_the_interval_holds_the_mean_and_shrinks_with_more_paths(tree: procure.TreeResult) -> None:
    few = _judge(tree, _uniform_paths(40, 1))
    many = _judge(tree, _uniform_paths(160, 2))
    for judged, n in ((few, 40), (many, 160)):
        mean, low, high = judged.cost_interval
        assert low < mean < high and judged.n == n
        costs = judged.table["cost"].to_numpy()
        assert mean == pytest.approx(costs.mean())
        assert (high - mean) == pytest.approx(1.96 * costs.std(ddof=1) / math.sqrt(n), rel=0.05)  # ~normal at n ≥ 30
    assert many.cost_interval[2] - many.cost_interval[1] < few.cost_interval[2] - few.cost_interval[1]
    assert f"n = {few.n}" in few.summary()


def test_the_interval_covers_the_true_mean_where_it_is_known(tree: procure.TreeResult) -> None:
    """With 20 units held, a path of next-year demand d costs 2,000 + 150·max(0, d − 20); d is
    uniform on 0..34, so the true expected cost is 2,000 + 150·(1 + … + 14)/35 = 2,450.  Ten
    independent samples of 40 paths (fixed seeds): a 95% interval covers it in about 9.5 of 10;
    at least 8 is what a working interval gives (binomial: 99%), a too-narrow one does not."""
    covered = 0
    for seed in range(10, 20):
        _, low, high = _judge(tree, _uniform_paths(40, seed)).cost_interval
        covered += low <= 2450.0 <= high
    assert covered >= 8, covered


def test_mean_interval_of_too_few_values() -> None:
    assert mean_interval([])[3] == 0
    mean, low, high, n = mean_interval([5.0, math.nan])
    assert (mean, n) == (5.0, 1) and math.isnan(low) and math.isnan(high)


def test_compare_identical_plans_differs_by_nothing(tree: procure.TreeResult) -> None:
    paths = _uniform_paths(30, 3)
    same = compare(tree, paths, against=tree, mip_gap=0, progress=False)
    assert isinstance(same, Comparison)
    assert same.difference == 0 and same.difference_interval == (0.0, 0.0, 0.0) and same.n == 30


def test_compare_with_the_mean_forecast_plan(tree: procure.TreeResult) -> None:
    # the mean path is (10, 18): its plan buys 18 now, then 150 a unit beyond
    paths = _paths((10, 30), (10, 5), (10, 18))
    both = compare(tree, paths, mip_gap=0, progress=False)
    assert both.other.label == "mean-forecast plan"
    assert both.other.table["cost"].tolist() == pytest.approx([1800 + 1800, 1800, 1800])
    assert both.table["difference"].tolist() == pytest.approx([100.0, -200.0, -200.0])
    assert both.difference == pytest.approx(-100.0)
    assert "mean-forecast plan − tree plan" in str(both)


# --------------------------------------------------------------------------- SAA


def _sampler(seed_shift: int = 0) -> Callable[[int, int], pd.DataFrame]:
    def sample(n: int, seed: int) -> pd.DataFrame:
        rng = np.random.default_rng(seed + seed_shift)
        return _paths(*[(10.0, float(d)) for d in rng.choice([10, 20], p=[0.2, 0.8], size=n)])

    return sample


def test_saa_gap_bounds_the_tree_plan() -> None:
    problem = {k: v for k, v in TREE.items() if k != "demand_scenarios"} | {"demand": _year(10, 20)}
    gap = saa_gap(problem, _sampler(), trees=4, tree_paths=5, paths=60, mip_gap=0, progress=False)
    assert isinstance(gap, SaaGap) and len(gap.trees) == 4
    lo, lo_low, lo_high = gap.lower_interval
    up, up_low, up_high = gap.upper_interval
    assert lo_low <= lo <= lo_high and up_low <= up <= up_high
    # the true optimum is 2,000 (buy 20 now): every sampled tree's plan is that one or worse
    assert up >= 2000.0 - 1e-6 and lo_low <= 2000.0 + 1e-6
    assert gap.gap == pytest.approx(up - lo) and gap.gap_interval[1] <= gap.gap <= gap.gap_interval[2]
    assert "lower bound" in gap.summary() and "upper bound" in gap.summary()
    with pytest.raises(ProblemError, match="trees"):
        saa_gap(problem, _sampler(), trees=1)


# --------------------------------------------------------------------------- inputs and Ctrl-C


def test_paths_must_be_the_problems_periods(tree: procure.TreeResult) -> None:
    with pytest.raises(ProblemError, match="misses 2027"):
        _judge(tree, pd.DataFrame({2026: [10.0]}))
    with pytest.raises(ProblemError, match="unknown columns 2030"):
        _judge(tree, pd.DataFrame({2026: [10.0], 2027: [5.0], 2030: [1.0]}))
    with pytest.raises(ProblemError, match="negative"):
        _judge(tree, _paths((10, -1)))
    with pytest.raises(ProblemError, match="DataFrame"):
        _judge(tree, [[10, 20]])  # type: ignore[arg-type]
    with pytest.raises(ProblemError, match="unknown option"):
        _judge(tree, _paths((10, 20)), colour="red")
    string_columns = pd.DataFrame({"2026": [10.0], "2027": [30.0]})
    assert _judge(tree, string_columns).table["cost"].iloc[0] == pytest.approx(3500.0)


def test_workload_paths_take_workload_period_columns() -> None:
    problem = _tree([])
    problem["demand_scenarios"] = [
        {"name": n, "probability": p, "workloads": {"train": {"2026": 6, "2027": t}, "serve": {"2026": 4, "2027": 5}}}
        for n, p, t in (("low", 0.2, 5), ("high", 0.8, 15))
    ]
    result = procure.solve(problem, mip_gap=0)
    columns = pd.MultiIndex.from_tuples([(w, p) for w in ("train", "serve") for p in PERIODS])
    paths = pd.DataFrame([[6, 25, 4, 5]], columns=columns)
    assert _judge(result, paths).table["cost"].iloc[0] == pytest.approx(3500.0)
    with pytest.raises(ProblemError, match="workload, period"):
        _judge(result, _paths((10, 30)))


def test_ctrl_c_keeps_the_paths_solved_so_far(tree: procure.TreeResult) -> None:
    builds = [0]

    def stop_on_the_third_build(model: Any, handles: Any, data: Any) -> None:
        builds[0] += 1
        if builds[0] == 3:
            raise KeyboardInterrupt

    with pytest.raises(procure.Interrupted) as stopped:
        out_of_sample(tree, _uniform_paths(8, 4), extra=stop_on_the_third_build, chunk_size=1, progress=False)
    partial = stopped.value.result
    assert isinstance(partial, OutOfSample) and len(partial) == 8
    assert (partial.table["status"] == "optimal").sum() == 2
    assert (partial.table["status"] == "not run").sum() == 6


def test_the_tree_result_method_and_the_plot(tree: procure.TreeResult) -> None:
    import matplotlib

    matplotlib.use("Agg")
    judged = tree.out_of_sample(_paths((10, 30), (10, 5)), mip_gap=0, progress=False)
    assert judged.table["cost"].tolist() == pytest.approx([3500.0, 2000.0])
    figure = judged.plot()
    assert figure.axes[0].get_ylabel() == "paths" and "2 paths" in figure.axes[0].get_title()
    assert "tree plan" in repr(judged)


# --------------------------------------------------------------------------- dask


@pytest.mark.slow
def test_dask_local_cluster_gives_the_serial_table(tree: procure.TreeResult) -> None:
    import distributed  # a test dependency: its absence fails the test, it does not skip it

    paths = _uniform_paths(24, 5)
    serial = _judge(tree, paths, chunk_size=4)
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = _judge(tree, paths, chunk_size=4, client=client)
        workers = client.run(lambda: "procure.sweeps.out_of_sample" in __import__("sys").modules)
    timing = ["seconds"]
    pd.testing.assert_frame_equal(
        serial.table.drop(columns=timing), remote.table.drop(columns=timing), check_exact=True
    )
    assert len(workers) == 2 and all(workers.values())  # the chunks ran on the cluster's workers
