"""Building a demand tree's extensive form: path by path against from templates, in one run.

    python benchmarks/tree_build.py [--levels 5,6] [--repeat 3]

The tree is the gigawatt tree of ``tests/test_time_bounds.py`` (``benchmarks/tree.py``'s problem,
four growth rates in each of the first ``L`` years: 4^L paths; 1,024 and 4,096 by default).
Each way makes every path's data, the lot bounds and every path's model, and stacks them into
the extensive form (`procure.model.extensive.extensive_form`), without loading a solver:

- ``path by path``: `model_data`, `first_bounds` and `Pipeline.build` of every path on its own
  (what `procure.stochastic.tree_solve._open` does for a tree with a caller's rows);
- ``templates``: `procure.model.replicate` (every path's data from the first's, the bounds once,
  a model per group of paths with demand in the same periods, every member's numbers put in).

The two extensive forms are checked to be the same (bounds, costs, integrality, matrix, blocks)
before anything is printed.  Seconds are the least of ``--repeat`` runs; the last column is
`procure.stochastic.tree_solve._open` with HiGHS (templates, and loading the model into HiGHS).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import procure
from procure.core.pipeline import Pipeline
from procure.model.bounds import first_bounds
from procure.model.extensive import Extensive, PathGroup, extensive_form
from procure.model.replicate import path_datas, path_groups, tree_first_bounds
from procure.model.sets import ModelData, model_data
from procure.problem.tree import ScenarioTree, scenario_tree
from procure.solvers import get_adapter
from procure.solvers.options import solve_options
from procure.stochastic import tree_solve as stochastic

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_time_bounds import _tree  # noqa: E402  (the tests' 4^L gigawatt tree)


def _stack(tree: ScenarioTree, groups: list[PathGroup]) -> Extensive:
    return extensive_form(groups, tree.names, tree.probability, tree.representative)


def path_by_path(pipeline: Pipeline, tree: ScenarioTree) -> tuple[Extensive, dict[str, float]]:
    """Every path's data, bounds and model on its own, then the stack; seconds of each step."""
    seconds: dict[str, float] = {}
    began = time.perf_counter()
    datas = [model_data(p) for p in tree.problems]
    bounds = [first_bounds(d) for d in datas]
    upper = np.max([b[0] for b in bounds], axis=0)
    seconds["data"] = time.perf_counter() - began
    builts = [pipeline.build(d, upper) for d in datas]
    seconds["models"] = time.perf_counter() - began - seconds["data"]
    ext = _stack(tree, [PathGroup.alone(b, s) for s, b in enumerate(builts)])
    seconds["all"] = time.perf_counter() - began
    seconds["stack"] = seconds["all"] - seconds["data"] - seconds["models"]
    return ext, seconds


def templates(pipeline: Pipeline, tree: ScenarioTree) -> tuple[Extensive, dict[str, float]]:
    """Every path's data and model from templates, then the stack; seconds of each step."""
    seconds: dict[str, float] = {}
    began = time.perf_counter()
    datas = path_datas(tree.problems)
    assert datas is not None
    upper, _ = tree_first_bounds(datas)
    seconds["data"] = time.perf_counter() - began

    def build(data: ModelData) -> Any:
        return pipeline.build(data, upper)

    groups = path_groups(build, datas)
    seconds["models"] = time.perf_counter() - began - seconds["data"]
    ext = _stack(tree, groups)
    seconds["all"] = time.perf_counter() - began
    seconds["stack"] = seconds["all"] - seconds["data"] - seconds["models"]
    return ext, seconds


def _same(a: Extensive, b: Extensive) -> None:
    m, n = a.model, b.model
    for name in ("col_lower", "col_upper", "cost", "integrality", "row_lower", "row_upper"):
        assert np.array_equal(getattr(m, name), getattr(n, name)), name
    A, B = m.A, n.A
    assert all(np.array_equal(x, y) for x, y in ((A.indptr, B.indptr), (A.indices, B.indices), (A.data, B.data)))
    assert [(c.name, c.start, c.index.labels) for c in m.columns] == [
        (c.name, c.start, c.index.labels) for c in n.columns
    ]
    assert [(r.name, r.start, r.unit) for r in m.rows] == [(r.name, r.start, r.unit) for r in n.rows]


def _least(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: min(r[k] for r in runs) for k in runs[0]}


def _fresh(levels: int) -> Callable[[], tuple[procure.Problem, ScenarioTree]]:
    mapping = _tree(levels)
    problem = procure.Problem.from_dict(mapping)

    def make() -> tuple[procure.Problem, ScenarioTree]:  # a new tree: no path has its inputs yet
        return problem, scenario_tree(problem)

    return make


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="5,6", help="tree depths L (4^L paths), comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each way (the least is printed)")
    args = parser.parse_args()
    pipeline = Pipeline(get_adapter("highs"), solve_options(None, 1e-4, 1, False, None))
    print(f"{'paths':>6}  {'way':<13} {'data':>6} {'models':>7} {'stack':>6} {'all':>6}   {'_open':>6}")
    for levels in (int(x) for x in args.levels.split(",")):
        make = _fresh(levels)
        old, new, opened = [], [], []
        for _ in range(args.repeat):
            a, seconds = path_by_path(pipeline, make()[1])
            old.append(seconds)
            b, seconds = templates(pipeline, make()[1])
            new.append(seconds)
            _same(a, b)
            problem, tree = make()
            began = time.perf_counter()
            stochastic._open(pipeline, problem, tree, None)
            opened.append({"open": time.perf_counter() - began})
        n = 4**levels
        for way, runs in (("path by path", old), ("templates", new)):
            s = _least(runs)
            tail = f"   {_least(opened)['open']:6.2f}" if way == "templates" else ""
            print(f"{n:>6}  {way:<13} {s['data']:6.2f} {s['models']:7.2f} {s['stack']:6.2f} {s['all']:6.2f}{tail}")


if __name__ == "__main__":
    main()
