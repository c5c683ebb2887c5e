"""Sweeps (`procure.sweep`) and Monte-Carlo variants (`procure.sample`).

The rows of a sweep are compared with separate `procure.solve` calls, and the
same sweep run on a process pool and on a dask `LocalCluster` (started and
stopped here) must give exactly the same rows as in-process.
"""

from __future__ import annotations

import concurrent.futures as cf
import copy
import io
import itertools
import math
import multiprocessing as mp
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.stats as stats
from conftest import SMALL
from hypothesis import given
from hypothesis import strategies as st

import procure
from procure.problem.fields import apply_changes
from procure.sweeps.sample import choice, growth, lognormal, normal, supply_cut, uniform
from procure.sweeps.sweep import TIMING_COLUMNS, default_chunk_size

#: Variants of the small problem: prices and demand, all feasible, two invalid, one infeasible.
MIXED: list[Any] = [
    {"offers[tpu].unit_cost": 26000, "demand[2028]": 5500},
    {"offers[gb200].unit_cost[2027]": 30000},
    {"demand[2028]": -1},  # invalid value
    {"offers[h100].unit_cost": 1},  # invalid path
    {"offers[tpu].unit_cost": 34000, "risk.max_share": 0.7},
    "not a mapping",
    {"power_cap_gw[2028]": 0.001},  # infeasible
    {"offers[tpu].unit_cost": 31000, "demand[2028]": 6500},
    {"vendors[amazon].max_share": 0.5},
]


def _rows(sweep: procure.Sweep) -> pd.DataFrame:
    return sweep.table.drop(columns=list(TIMING_COLUMNS))


def _shares(result: procure.Result) -> dict[str, float]:
    by_vendor = result.compute_by_vendor.sum()
    return {f"share[{v}]": float(by_vendor[v] / result.compute.sum()) for v in by_vendor.index}


def _close(a: float, b: float, rel: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


# --------------------------------------------------------------------------- rows against solve()


def test_grid_rows_equal_separate_solves() -> None:
    grid = {"offers[tpu].unit_cost": [24000, 30000, 36000], "demand[2028]": [5000, 7000]}
    sweep = procure.sweep(SMALL, grid, mip_gap=0, progress=False)
    table = sweep.table
    combos = list(itertools.product(*grid.values()))
    assert len(sweep) == len(table) == 6
    assert list(table.index) == list(range(6)) and table.index.name == "variant"
    for k, (price, demand) in enumerate(combos):  # in the order given: the last path varies fastest
        row = table.iloc[k]
        assert (row["offers[tpu].unit_cost"], row["demand[2028]"]) == (price, demand)
        alone = procure.solve(apply_changes(SMALL, dict(zip(grid, (price, demand)))), mip_gap=0, threads=1)
        assert row["status"] == alone.status == "optimal"
        assert _close(row["objective"], alone.objective) and _close(row["cost"], alone.cost)
        assert _close(row["peak_power_gw"], float(alone.power_gw.max()))
        assert row["cvar"] == alone.cvar == 0.0
        got = sweep[k]
        assert got.check() == [] and _close(got.objective, alone.objective)
        assert got.problem == apply_changes(SMALL, dict(zip(grid, (price, demand))))
        for column, share in _shares(got).items():
            assert _close(row[column], share)
        assert math.isclose(sum(row[c] for c in _shares(got)), 1.0)


def test_list_rows_equal_separate_solves_with_warm_starts() -> None:
    """One chunk: every variant after the first is solved warm through the kept model."""
    variants = procure.sample(
        SMALL,
        {
            "offers[tpu].unit_cost": lognormal(0.2),
            "offers[gb200].unit_cost": lognormal(0.2),
            "risk.max_share": uniform(0.5, 0.9),
        },
        n=8,
        seed=11,
    )
    sweep = procure.sweep(SMALL, variants, chunk_size=len(variants), mip_gap=0, progress=False)
    for k, changes in enumerate(variants):
        alone = procure.solve(apply_changes(SMALL, changes), mip_gap=0, threads=1)
        assert sweep[k].status == alone.status
        assert _close(sweep[k].objective, alone.objective)
        assert sweep.table.loc[k, "risk.max_share"] == changes["risk.max_share"]


def test_columns_union_of_paths_and_vendors() -> None:
    offers = copy.deepcopy(SMALL["offers"])
    offers.append(
        {"name": "mi355", "vendor": "amd", "unit_cost": 15000, "compute": 2.3, "power_kw": 1.4, "lot_size": 8}
    )
    sweep = procure.sweep(SMALL, [{"demand[2027]": 2000}, {"offers": offers, "risk.max_share": 0.5}], progress=False)
    table = sweep.table
    assert list(table.columns[:3]) == ["demand[2027]", "offers", "risk.max_share"]
    assert table.loc[0, "offers"] is None  # None where a variant leaves the path
    assert pd.isna(table.loc[1, "demand[2027]"])
    assert [c for c in table.columns if c.startswith("share[")] == [
        "share[google]",
        "share[amazon]",
        "share[nvidia]",
        "share[amd]",
    ]
    assert table.loc[0, "share[amd]"] == 0.0  # a vendor the variant does not have supplies nothing
    assert table.loc[1, "share[amd]"] > 0  # the cheap new chip is bought
    assert set(table.columns) >= {"status", "objective", "cost", "gap", "peak_power_gw", "cvar", "message", "seconds"}


# --------------------------------------------------------------------------- failures are rows


def test_invalid_and_infeasible_variants_do_not_stop_the_sweep() -> None:
    sweep = procure.sweep(SMALL, MIXED, progress=False)
    table = sweep.table
    assert list(table["status"]) == [
        "optimal",
        "optimal",
        "invalid",
        "invalid",
        "optimal",
        "invalid",
        "infeasible",
        "optimal",
        "optimal",
    ]
    with pytest.raises(procure.ProblemError) as bad:
        apply_changes(SMALL, MIXED[2])
    assert table.loc[2, "message"] == str(bad.value) == "demand[2028]: -1 is negative"
    assert "no offer is named 'h100'" in table.loc[3, "message"]
    assert "variants[5]" in table.loc[5, "message"] and "not a mapping" in table.loc[5, "message"]
    for k in (2, 3, 5, 6):
        assert table.loc[k, ["objective", "cost", "gap", "peak_power_gw", "cvar", "share[google]"]].isna().all()
    assert "no plan satisfies every constraint" in table.loc[6, "message"]
    assert sweep[6].status == "infeasible"  # an infeasible variant has a Result, without a plan
    assert "power cap in 2028" in sweep[6].explain().message  # diagnosed on request
    explained = procure.sweep(SMALL, MIXED[5:7], explain=True, progress=False)
    assert "power cap in 2028" in explained.table.loc[1, "message"]
    assert explained.table.loc[1, "message"] == procure.solve(apply_changes(SMALL, MIXED[6]), threads=1).message
    with pytest.raises(procure.ProblemError, match="variant 2 is invalid") as raised:
        sweep[2]
    assert raised.value.path == "demand[2028]"
    assert sweep.results[2] is None and sweep.results[3] is None
    # the variants after the failures are solved as they would be alone
    for k in (4, 7, 8):
        alone = procure.solve(apply_changes(SMALL, MIXED[k]), threads=1)
        assert table.loc[k, "status"] == alone.status
        assert _close(table.loc[k, "objective"], alone.objective, rel=1e-4)


def failing_extra(model: Any, handles: Any, data: Any) -> None:
    """Rows of one's own that fail for demand above 8000 in the last period (module level: it pickles)."""
    if data.demand[-1] > 8000:
        raise RuntimeError("the caller's rows failed")


def interrupting_extra(model: Any, handles: Any, data: Any) -> None:
    """Ctrl-C while the model of a variant with demand 9999 is built."""
    if data.demand[-1] == 9999:
        raise KeyboardInterrupt


def test_a_solve_that_raises_is_an_error_row() -> None:
    variants = [{"demand[2028]": d} for d in (6000, 9000, 6500, 9500, 7000)]
    sweep = procure.sweep(SMALL, variants, extra=failing_extra, chunk_size=5, progress=False)
    table = sweep.table
    assert list(table["status"]) == ["optimal", "error", "optimal", "error", "optimal"]
    assert table.loc[1, "message"] == "RuntimeError: the caller's rows failed"
    with pytest.raises(RuntimeError, match="variant 3 has no result"):
        sweep[3]
    for k in (2, 4):  # after an error the chunk goes on with a fresh model
        alone = procure.solve(apply_changes(SMALL, variants[k]), threads=1, extra=failing_extra)
        assert _close(table.loc[k, "objective"], alone.objective, rel=1e-4)


def test_ctrl_c_returns_the_sweep_so_far() -> None:
    variants = [{"demand[2028]": d} for d in (6000, 6500, 9999, 7000, 7500)]
    with pytest.raises(procure.Interrupted) as stop:
        procure.sweep(SMALL, variants, extra=interrupting_extra, chunk_size=2, progress=False)
    partial = stop.value.result
    assert isinstance(partial, procure.Sweep)
    assert list(partial.table["status"]) == ["optimal", "optimal", "not run", "not run", "not run"]
    assert partial[1].status == "optimal"


# --------------------------------------------------------------------------- executors

#: Four offers of nearly the same cost per compute in odd lot sizes: many plans within a gap
#: of 1e-3, so that which plan a solve returns depends on its start (warm or cold).
NEAR_TIES: dict[str, Any] = {
    "periods": [1, 2, 3],
    "demand": {"1": 1000, "2": 2300, "3": 4100},
    "offers": [
        {"name": "a", "vendor": "x", "unit_cost": 10000, "compute": 1.0, "lot_size": 7, "power_kw": 1.0},
        {"name": "b", "vendor": "x", "unit_cost": 10300, "compute": 1.03, "lot_size": 11, "power_kw": 0.9},
        {"name": "c", "vendor": "y", "unit_cost": 9800, "compute": 0.97, "lot_size": 13, "power_kw": 1.1},
        {"name": "d", "vendor": "z", "unit_cost": 10100, "compute": 1.01, "lot_size": 17, "power_kw": 1.05},
    ],
    "risk": {"max_share": 0.6},
}
GAP = 1e-3


def _near_ties(n: int, seed: int) -> list[Any]:
    variants: list[Any] = procure.sample(
        NEAR_TIES,
        {
            "offers[a].unit_cost": lognormal(0.03),
            "offers[c].unit_cost": lognormal(0.03),
            "demand": growth(normal(1, 0.2)),
        },
        n=n,
        seed=seed,
    )
    variants[2] = {"demand[3]": -5}  # invalid
    return variants


def test_warm_starts_matter_and_rows_stay_within_the_gap() -> None:
    """The rows of the executor tests below depend on each variant's start: equal rows there
    mean equal chunks.  Cold rows are exactly `solve`'s; warm ones within the gap of them."""
    variants = _near_ties(12, seed=7)
    cold = procure.sweep(NEAR_TIES, variants, chunk_size=1, mip_gap=GAP, progress=False)
    warm = procure.sweep(NEAR_TIES, variants, chunk_size=12, mip_gap=GAP, progress=False)
    assert (cold.table["objective"] != warm.table["objective"]).sum() >= 3
    for k, changes in enumerate(variants):
        if k == 2:
            assert cold.table.loc[k, "status"] == warm.table.loc[k, "status"] == "invalid"
            continue
        alone = procure.solve(apply_changes(NEAR_TIES, changes), mip_gap=GAP, threads=1)
        assert cold[k].objective == alone.objective and cold[k].status == alone.status == "optimal"
        assert warm[k].status == "optimal" and warm[k].check() == []
        assert abs(warm[k].objective - alone.objective) <= GAP * max(warm[k].objective, alone.objective)


def _pool() -> cf.ProcessPoolExecutor:
    return cf.ProcessPoolExecutor(2, mp_context=mp.get_context("spawn"))


def test_process_pool_gives_the_same_rows() -> None:
    variants = _near_ties(12, seed=7) + MIXED[2:6]
    local = procure.sweep(NEAR_TIES, variants, chunk_size=4, mip_gap=GAP, progress=False)
    with _pool() as pool:
        remote = procure.sweep(NEAR_TIES, variants, executor=pool, chunk_size=4, mip_gap=GAP, progress=False)
    pd.testing.assert_frame_equal(_rows(local), _rows(remote), check_exact=True)
    assert remote[0].check() == [] and remote[0].problem == local[0].problem
    assert (local.table["status"] == "invalid").sum() == 5


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A dask LocalCluster of two worker processes, one thread each; closed after the tests."""
    import distributed  # a test dependency: its absence fails the test, it does not skip it

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local:
        yield local


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_rows(cluster: Any) -> None:
    import distributed

    variants = _near_ties(14, seed=8)
    local = procure.sweep(NEAR_TIES, variants, chunk_size=4, mip_gap=GAP, progress=False)
    with distributed.Client(cluster) as client:
        on_dask = procure.sweep(NEAR_TIES, variants, executor=client, chunk_size=4, mip_gap=GAP, progress=False)
        workers = client.run(lambda: "procure.sweeps.sweep" in sys.modules)
    pd.testing.assert_frame_equal(_rows(local), _rows(on_dask), check_exact=True)
    assert len(workers) == 2 and all(workers.values())  # the chunks ran on the cluster's workers
    # a scheduler address: the sweep connects for itself
    address = procure.sweep(
        NEAR_TIES, variants, executor=cluster.scheduler_address, chunk_size=4, mip_gap=GAP, progress=False
    )
    pd.testing.assert_frame_equal(_rows(local), _rows(address), check_exact=True)
    assert on_dask[0].check() == []


def test_same_seed_same_rows_whatever_the_executor() -> None:
    assert _near_ties(6, seed=3) == _near_ties(6, seed=3)
    local = procure.sweep(NEAR_TIES, _near_ties(6, seed=3), mip_gap=GAP, progress=False)
    with _pool() as pool:
        remote = procure.sweep(NEAR_TIES, _near_ties(6, seed=3), executor=pool, mip_gap=GAP, progress=False)
    pd.testing.assert_frame_equal(_rows(local), _rows(remote), check_exact=True)


def test_import_does_not_load_dask() -> None:
    code = "import procure, sys; print('dask' in sys.modules or 'distributed' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- the Sweep object and arguments


def test_sweep_object() -> None:
    grid = {"offers[tpu].unit_cost": [36000, 24000, 30000]}
    sweep = procure.sweep(SMALL, grid, progress=False)
    table = sweep.table
    table.loc[0, "status"] = "changed"
    assert sweep.table.loc[0, "status"] == "optimal"  # a copy each time
    assert sweep.best() == 1 and sweep.best("cost") == 1
    assert list(sweep) == list(sweep.results) and len(sweep.results) == 3
    assert sweep[-1] is sweep.results[2]
    assert sweep.variants == (
        {"offers[tpu].unit_cost": 36000},
        {"offers[tpu].unit_cost": 24000},
        {"offers[tpu].unit_cost": 30000},
    )
    assert repr(sweep).startswith("Sweep(3 variants: 3 optimal")
    with pytest.raises(TypeError):
        sweep["status"]  # type: ignore[index]
    empty = procure.sweep(SMALL, [], progress=False)
    assert len(empty) == 0 and empty.best() is None and "status" in empty.table.columns


def test_chunks_depend_on_the_number_of_variants_only() -> None:
    assert [default_chunk_size(n) for n in (1, 40, 100, 500, 10_000)] == [4, 4, 7, 25, 25]
    assert procure.sweep(SMALL, [{}] * 3, progress=False).chunk_size == 4
    assert procure.sweep(SMALL, [{}] * 3, chunk_size=1, progress=False).chunk_size == 1


def test_bad_arguments_raise_before_solving() -> None:
    with pytest.raises(procure.ProblemError, match="variants"):
        procure.sweep(SMALL, 5, progress=False)  # type: ignore[arg-type]
    with pytest.raises(procure.ProblemError, match=r"variants\[demand\[2028\]\]"):
        procure.sweep(SMALL, {"demand[2028]": 6000}, progress=False)  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="mip_gapp"):
        procure.sweep(SMALL, [{}], mip_gapp=0.1, progress=False)
    with pytest.raises(procure.ProblemError, match="mip_gap"):
        procure.sweep(SMALL, [{}], mip_gap=2, progress=False)
    with pytest.raises(procure.ProblemError, match=r"solver_options\.no_such_option"):
        procure.sweep(SMALL, [{}], solver_options={"no_such_option": 1}, progress=False)
    with pytest.raises(procure.ProblemError, match="executor"):
        procure.sweep(SMALL, [{}], executor=object(), progress=False)
    with pytest.raises(procure.ProblemError, match="chunk_size"):
        procure.sweep(SMALL, [{}], chunk_size=0, progress=False)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    quiet = io.StringIO()
    monkeypatch.setattr(sys, "stderr", quiet)
    procure.sweep(SMALL, [{}, {"demand[2028]": -1}], progress=True)
    assert quiet.getvalue() == ""
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    procure.sweep(SMALL, [{"demand[2028]": -1}], progress=False)
    assert terminal.getvalue() == ""
    procure.sweep(SMALL, [{}, {"demand[2028]": -1}], progress=True)
    assert "sweep" in terminal.getvalue() and "2/2" in terminal.getvalue()


# --------------------------------------------------------------------------- sample


def test_sample_helpers_draw_what_they_say() -> None:
    base = procure.Problem.from_dict(SMALL)
    n = 400
    drawn = procure.sample(
        base,
        {
            "offers[tpu].unit_cost": lognormal(0.1),
            "offers[gb200].unit_cost": lognormal(0.2, per_period=True),
            "demand": growth(0.5),
            "power_cap_gw": growth(uniform(0.0, 1.0), per_period=False),
            "risk.max_share": choice([0.5, 0.7], p=[0.25, 0.75]),
            ("offers[trn2].max_units", "offers[tpu].max_units"): choice([100, None]),
            "electricity_price": stats.uniform(50, 50),
            "pue": normal(1.2, 0.01),
        },
        n=n,
        seed=0,
    )
    assert len(drawn) == n and all(len(v) == 9 for v in drawn)
    tpu = np.array([v["offers[tpu].unit_cost"] for v in drawn])
    assert np.all(tpu > 0) and abs(np.median(np.log(tpu / 30000))) < 0.02 and 0.08 < np.std(np.log(tpu / 30000)) < 0.12
    gb = [v["offers[gb200].unit_cost"] for v in drawn]
    assert all(set(g) == {2026, 2027, 2028} for g in gb)
    ratios = np.array([[g[p] / base.offers[2].unit_cost[t] for t, p in enumerate((2026, 2027, 2028))] for g in gb])
    assert not np.allclose(ratios[:, 0], ratios[:, 1])  # one factor per period
    assert all(v["demand"] == {2026: 1000.0, 2027: 1500.0, 2028: 2250.0} for v in drawn)
    for v in drawn:
        cap = v["power_cap_gw"]
        assert cap[2026] == 1.0 and math.isclose((cap[2027] / cap[2026]) ** 2, cap[2028] / cap[2026])
        assert v["offers[trn2].max_units"] == v["offers[tpu].max_units"] in (100, None)  # one shared draw
        assert 50 <= v["electricity_price"] <= 100
    shares = [v["risk.max_share"] for v in drawn]
    assert set(shares) == {0.5, 0.7} and 0.65 < shares.count(0.7) / n < 0.85


def test_supply_cut_cuts_some_variants_together() -> None:
    problem = copy.deepcopy(SMALL)
    for offer in problem["offers"]:
        offer["max_units"] = {"2026": 40000, "2027": 50000, "2028": 60000}
    keys = ("offers[tpu].max_units", "offers[gb200].max_units")
    drawn = procure.sample(problem, {keys: supply_cut(0.3, uniform(0.0, 0.5), periods=[2027, 2028])}, n=300, seed=4)
    cut = [v for v in drawn if v[keys[0]][2027] < 50000]
    assert 0.2 < len(cut) / len(drawn) < 0.4
    for v in drawn:
        a, b = v[keys[0]], v[keys[1]]
        assert a[2026] == 40000 and a == b  # the first period is not cut; both offers are cut alike
        assert 0 <= a[2028] / 60000 <= 0.5 or a[2028] == 60000
    sweep = procure.sweep(problem, drawn[:4], progress=False)
    assert set(sweep.table["status"]) <= {"optimal", "feasible", "infeasible"}


@given(seed=st.integers(0, 2**32), n=st.integers(0, 30), m=st.integers(0, 30), sigma=st.floats(0, 2))
def test_sample_is_reproducible_and_prefix_stable(seed: int, n: int, m: int, sigma: float) -> None:
    dists = {
        "offers[tpu].unit_cost": lognormal(sigma),
        "demand": growth(normal(0.3, 0.1)),
        ("offers[trn2].unit_cost", "offers[gb200].unit_cost[2028]"): uniform(0.5, 1.5, relative=True),
        "risk.max_share": choice([0.5, 0.6, 1.0]),
    }
    first = procure.sample(SMALL, dists, n=n, seed=seed)
    assert first == procure.sample(SMALL, dists, n=n, seed=seed)
    longer = procure.sample(SMALL, dists, n=max(n, m), seed=seed)
    assert longer[: min(n, m)] == first[: min(n, m)]
    # a key's draws do not depend on the other keys
    alone = procure.sample(SMALL, {"offers[tpu].unit_cost": lognormal(sigma)}, n=n, seed=seed)
    assert [v["offers[tpu].unit_cost"] for v in first] == [v["offers[tpu].unit_cost"] for v in alone]
    for v in first:
        assert v["offers[tpu].unit_cost"] > 0 and v["risk.max_share"] in (0.5, 0.6, 1.0)
        assert v["offers[trn2].unit_cost"] / 20000 == pytest.approx(v["offers[gb200].unit_cost[2028]"] / 35000)
        assert v["demand"][2026] == 1000.0 and all(type(x) is float for x in v["demand"].values())
        apply_changes(SMALL, {k: x for k, x in v.items() if k != "demand"})  # valid values


def test_sample_errors_name_the_path() -> None:
    cases: list[tuple[dict[Any, Any], str]] = [
        ({"offers[h100].unit_cost": lognormal(0.1)}, "no offer is named 'h100'"),
        ({"offers[tpu].unit_cost": lognormal(-1)}, r"offers\[tpu\].unit_cost: lognormal needs sigma ≥ 0"),
        ({"offers[tpu].max_units": lognormal(0.1)}, r"offers\[tpu\].max_units: is not set"),
        (
            {"risk.max_share": normal(0, 1, per_period=True)},
            r"risk.max_share: per_period=True needs a per-period field",
        ),
        ({"demand[2027]": growth(0.1)}, r"demand\[2027\]: growth needs a whole per-period field"),
        ({"demand": 5}, r"demand: 5 is not a distribution"),
        ({"risk.max_share": choice([])}, "choice needs at least one value"),
        ({"risk.max_share": choice([0.5, 0.6], p=[0.5, 0.6])}, "sum to 1"),
        ({"power_cap_gw": supply_cut(1.5)}, "probability in"),
        ({"offers[tpu].unit_cost": supply_cut(0.5, periods=[1999])}, "1999"),
        ({3: lognormal(0.1)}, "not a path"),
    ]
    for distributions, message in cases:
        with pytest.raises(procure.ProblemError, match=message):
            procure.sample(SMALL, distributions, n=3, seed=0)
    with pytest.raises(procure.ProblemError) as raised:
        procure.sample(SMALL, {"offers[tpu].unit_cost": lognormal(-1)}, n=3, seed=0)
    assert raised.value.path == "offers[tpu].unit_cost"
    with pytest.raises(procure.ProblemError, match=r"^n:"):
        procure.sample(SMALL, {}, n=-1, seed=0)
    with pytest.raises(procure.ProblemError, match=r"^seed:"):
        procure.sample(SMALL, {}, n=1, seed=1.5)  # type: ignore[arg-type]
    assert procure.sweeps.sample.lognormal is lognormal  # the helpers hang off procure.sample too
