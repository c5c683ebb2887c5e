"""`time_limit` and Ctrl-C bound every call (issue 21): a large demand tree's building counts
against the limit and stops on Ctrl-C, and a sweep on a local dask cluster stops at once,
quietly, with exit code 130."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import procure

ROOT = Path(__file__).resolve().parent.parent
RATES = (1.30, 1.40, 1.50, 1.60)
POSIX = pytest.mark.skipif(sys.platform == "win32", reason="signals and process groups")


def _tree(levels: int) -> dict[str, Any]:
    """The gigawatt tree of ``benchmarks/tree.py`` with 4^levels demand paths: four growth rates
    in each of the first ``levels`` years after 2026 (the last year's prices, supply and power cap
    go on to the years it adds)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from tree import tree_problem

    problem = tree_problem(1)
    periods = list(range(2026, 2027 + max(levels, 5)))
    for offer in problem["offers"]:
        for key in ("unit_cost", "max_units"):
            value = offer.get(key)
            if isinstance(value, dict):
                offer[key] = {str(p): value.get(str(p), value[max(value)]) for p in periods}
    problem["periods"] = periods
    problem["power_cap_gw"] = {str(p): problem["power_cap_gw"].get(str(p), 2.6) for p in periods}
    paths = []
    for combo in itertools.product(range(len(RATES)), repeat=levels):
        demand = [1_400_000.0]
        for k in range(len(periods) - 1):
            demand.append(demand[-1] * RATES[combo[min(k, levels - 1)]])
        name = "".join(map(str, combo))
        probability = 1.0 / len(RATES) ** levels
        paths.append({"name": name, "probability": probability, "demand": dict(zip(map(str, periods), demand))})
    problem["demand_scenarios"] = paths
    return problem


def test_a_tree_of_1024_paths_keeps_to_its_time_limit() -> None:
    """Building it took 1.4 s of a 2 s limit, reading its plans more (7.7 s in all before
    building counted): the whole call keeps within a few seconds of the limit (a loaded
    machine's margin)."""
    problem = procure.Problem.from_dict(_tree(5))
    started = time.perf_counter()
    result = procure.solve(problem, time_limit=2, threads=1)
    assert time.perf_counter() - started < 2 + 4
    assert result.termination == "time_limit"
    assert result.status in ("feasible", "error")
    if not result.has_plan:
        assert result.message.startswith("stopped before any plan was found")


def test_the_time_limit_stops_building_a_tree_of_4096_paths() -> None:
    """Its paths alone take several seconds to build (12 s in all with a 2 s limit before)."""
    problem = procure.Problem.from_dict(_tree(6))
    started = time.perf_counter()
    result = procure.solve(problem, time_limit=1)
    assert time.perf_counter() - started < 1 + 3
    assert (result.status, result.termination) == ("error", "time_limit")
    assert result.message == "stopped before any plan was found: the time limit went into building the model"
    assert isinstance(result, procure.TreeResult) and result.tree is not None and result.tree.n_paths == 4096


BUILDING = textwrap.dedent(
    """
    import json, sys
    import procure
    problem = procure.Problem.from_dict(json.loads(open(sys.argv[1]).read()))
    print("solving", flush=True)
    try:
        procure.solve(problem)
        print("finished")
    except procure.Interrupted as stop:
        r = stop.result
        print("interrupted", r.status, r.termination, r.message, flush=True)
    """
)


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """16,384 paths: seconds of reading and building before the solver starts."""
    path = tmp_path_factory.mktemp("tree") / "tree.json"
    path.write_text(json.dumps(_tree(7)), encoding="utf-8")
    return path


@POSIX
def test_ctrl_c_while_a_tree_is_built_raises_interrupted(big_tree: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", BUILDING, str(big_tree)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "solving"
    time.sleep(0.5)  # reading and building 16,384 paths take seconds
    sent = time.perf_counter()
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert time.perf_counter() - sent < 3
    message = "interrupted (Ctrl-C) while building the model: no plan is reported"
    assert out.strip() == f"interrupted error interrupted {message}"
    assert "Traceback" not in err


def _ctrl_c(command: list[str], after: str, wait: float) -> tuple[int, str, str, float]:
    """Run ``command``; once a line of its standard error starts with ``after`` and ``wait``
    seconds more have passed, Ctrl-C as a terminal does (SIGINT to its whole process group).
    Its exit code, standard output, standard error from then on, and the seconds it took to end;
    no process of its group may be left."""
    with subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    ) as running:
        assert running.stderr is not None
        lines = [running.stderr.readline()]
        while not lines[-1].startswith(after):
            lines.append(running.stderr.readline())
            assert lines[-1], "".join(lines)
        time.sleep(wait)
        sent = time.perf_counter()
        os.killpg(running.pid, signal.SIGINT)
        out, err = running.communicate(timeout=60)
        seconds = time.perf_counter() - sent
    with pytest.raises(ProcessLookupError):
        os.killpg(running.pid, 0)
    return running.returncode, out, err, seconds


@POSIX
def test_ctrl_c_while_the_cli_builds_a_tree_exits_130(big_tree: Path) -> None:
    code, out, err, _ = _ctrl_c([sys.executable, "-m", "procure", "solve", str(big_tree)], "solving", 1.0)
    assert code == 130
    assert err.strip() == "procure solve: interrupted" and out == ""


@pytest.mark.slow
@POSIX
@pytest.mark.parametrize("after", ["starting", "sweeping"])
def test_ctrl_c_stops_a_sweep_on_a_local_dask_cluster_at_once_and_quietly(tmp_path: Path, after: str) -> None:
    """The cluster's processes say nothing of Ctrl-C (no traceback, no dask warning), whether
    they are starting or solving, and the sweep ends within a second or so with exit code 130,
    leaving no process behind."""
    from procure.cli import main

    assert main(["init", str(tmp_path / "s")]) == 0
    command = [sys.executable, "-m", "procure", "sweep", str(tmp_path / "s" / "problem.toml")]
    command += ["--vary", "total_budget=20e9:40e9:40", "--workers", "2"]
    wait = 0.5 if after == "starting" else 2.0  # the cluster starting, or the variants solving
    code, out, err, seconds = _ctrl_c(command, after, wait)
    assert code == 130, err
    assert err.strip() == "procure sweep: interrupted", err
    assert out == ""
    assert seconds < 4  # about half a second, most of it the interpreter's exit
