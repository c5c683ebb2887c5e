"""Why a problem with demand scenarios has no plan: the demand paths that cannot share their
decisions, and the diagnosis model of their extensive form (what `procure.explain` reads).

A tree can have no plan although every path has one alone: the purchases and builds that paths
share before they branch (non-anticipativity) cannot serve all of them.  A deletion filter over
the paths finds a set that has no plan together while every smaller set found has one; the
diagnosis then runs on that set's extensive form, built from each path's own diagnosis model
(every requirement a row), so that a conflict names requirements path by path ("total budget
on path 'late'", "demand in 2028 on path 'late'") and repairs change the problem's own fields.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..model.build import BuiltModel
from ..model.extensive import extensive_form
from ..model.sets import ModelData, model_data
from ..problem.format import Problem
from ..problem.tree import ScenarioTree, scenario_tree

if TYPE_CHECKING:
    from ..core.pipeline import Pipeline

#: ``has_plan(pipeline, problem, seconds)``: True, False, or None when undecided in time.
HasPlan = Callable[["Pipeline", Problem, float], "bool | None"]
#: ``requirement_rows(built, data, problem)``: the diagnosis's requirement rows (explain's records).
RequirementRows = Callable[[BuiltModel, ModelData, Problem], list[Any]]

__all__ = ["conflicting_paths", "sub_tree", "tree_diagnosis_model"]


def sub_tree(problem: Problem, tree: ScenarioTree, paths: list[int] | tuple[int, ...]) -> Problem:
    """``problem`` with only the demand scenarios of ``paths`` (their probabilities scaled to sum to 1)."""
    names = {m for k in paths for m in tree.members[k]}
    data = problem.to_dict()
    kept = [dict(d) for d in data["demand_scenarios"] if d["name"] in names]
    total = sum(float(d["probability"]) for d in kept)
    for d in kept:
        d["probability"] = float(d["probability"]) / total
    data["demand_scenarios"] = kept
    return Problem.from_dict(data)


def conflicting_paths(
    pipeline: Pipeline, problem: Problem, tree: ScenarioTree, seconds: float, has_plan: HasPlan
) -> tuple[int, ...]:
    """Paths of ``tree`` that have no plan together: one path when some path has none alone;
    else a deletion filter drops each path whose removal still leaves no plan (proved by the
    solver; a path whose removal could not be decided in time stays)."""
    deadline = time.perf_counter() + seconds
    for s, path in enumerate(tree.problems):
        if has_plan(pipeline, path, deadline - time.perf_counter()) is False:
            return (s,)
    keep = list(range(tree.n_paths))
    for s in range(tree.n_paths):
        trial = [k for k in keep if k != s]
        left = deadline - time.perf_counter()
        if len(trial) < 2 or left <= 0.1:  # a path alone has a plan (checked above)
            continue
        if has_plan(pipeline, sub_tree(problem, tree, trial), left) is False:
            keep = trial
    return tuple(keep)


def _tree_path(path: str, scenario: str) -> str:
    """The field of a path's requirement in the tree problem: demand is the scenario's own."""
    for field in ("demand[", "workloads["):
        if path.startswith(field):
            return f"demand_scenarios[{scenario}].{path}"
    return path


def tree_diagnosis_model(
    pipeline: Pipeline, problem: Problem, seconds: float, has_plan: HasPlan, requirement_rows: RequirementRows
) -> tuple[BuiltModel, list[Any], tuple[ModelData, ...]]:
    """The diagnosis model of the extensive form of the paths in conflict (`conflicting_paths`),
    its requirement rows (named by path; every path's row blocks renamed ``family@path`` so
    each is a block of its own), and each path's data.  ``has_plan`` and ``requirement_rows``
    are the diagnosis's own (`procure.analysis.explain`), which holds the requirement records."""
    tree = scenario_tree(problem)
    paths = conflicting_paths(pipeline, problem, tree, seconds, has_plan)
    sub = scenario_tree(sub_tree(problem, tree, paths)) if len(paths) < tree.n_paths else tree
    datas = tuple(model_data(p) for p in sub.problems)
    builts = [pipeline.diagnosis_model(d) for d in datas]
    ext = extensive_form(builts, sub.names, sub.probability, sub.representative)
    model = ext.model
    blocks, k = [], 0
    for s, built in enumerate(builts):  # the extensive form keeps every path's row blocks in order
        for block in built.model.rows:
            blocks.append(replace(model.rows[k], name=f"{block.name}@{sub.names[s]}"))
            k += 1
    model.rows = blocks + model.rows[k:]
    offsets = np.concatenate([[0], np.cumsum([b.model.num_rows for b in builts])])
    rows: list[Any] = []
    for s, (built, data, path) in enumerate(zip(builts, datas, sub.problems)):
        name = sub.names[s]
        for r in requirement_rows(built, data, path):
            text = f"{r.requirement.text} on path '{name}'"
            req = replace(r.requirement, path=_tree_path(r.requirement.path, name), text=text)
            rows.append(
                replace(
                    r,
                    row=r.row + int(offsets[s]),
                    requirement=req,
                    block=f"{r.family}@{name}",
                    scenario=s,
                    where=f" on path '{name}'",
                )
            )
    return BuiltModel(model, ext.views[0].handles, builts[0].extra_blocks), rows, datas
