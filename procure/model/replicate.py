"""Every path of a demand tree from one path's model: the paths differ in demand alone.

The paths of a tree (`procure.problem.tree.ScenarioTree.problems`) share every field but their demand,
and are built with the same lot bounds; so their models have one structure (columns, rows,
sparsity, costs) wherever demand is positive in the same periods, and differ only in the numbers
demand enters.  Building one model per path costs about a millisecond each (4,096 paths: five
seconds); here a *template* is built for each group of paths with demand in the same periods
(and the same CVaR unit, which demand scales), and every member's numbers are put in,
vectorized over the members, where the formulation puts demand:

- the lower bounds of the rows ``demand``, ``workload_demand``, ``vendor_loss`` and ``shortfall``;
- the coefficients of the ``counted`` columns in ``min_vendor_share`` (``−min_vendor_share ·
  demand_t``) and of the compute columns in ``hhi_cut`` (``−2·s / demand_t``);
- the scales of the ``hhi_exact`` square rows (``1 / demand_t``).

Each number is computed by the expression the formulation computes it with, so the result is
the model `procure.model.build.build_model` builds, bit for bit.  That is checked where it is
made: the last member of every group is also built on its own and compared with its
replicated numbers (and its data with `procure.model.sets.model_data`'s); a group that differs
in anything is built path by path, as a tree of a caller's rows (``extra``) always is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..problem.format import Problem
from ..problem.inputs import Inputs
from .bounds import first_bounds
from .build import BuiltModel
from .extensive import PathGroup, triplets
from .linear import Block, Index
from .sets import ModelData, model_data

__all__ = ["path_datas", "path_groups", "same_model", "tree_first_bounds"]

#: ``each(make, items)``: ``[make(item) for item in items]``, or a variant that stops on a deadline.
Each = Callable[[Callable[[Any], Any], Sequence[Any]], list[Any]]


def _every(make: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    return [make(item) for item in items]


# --------------------------------------------------------------------------- data


def _with_demand(data: ModelData, problem: Problem, demand: np.ndarray, workload: np.ndarray) -> ModelData:
    """``data`` of ``problem``, which differs from ``data.problem`` in its demand alone."""
    out = object.__new__(ModelData)
    out.__dict__.update(data.__dict__)
    out.__dict__.update(problem=problem, demand=demand, workload_demand=workload)
    return out


def _inputs(data: ModelData) -> Inputs:
    """The `Inputs` part of ``data`` (what ``data.problem.inputs`` is)."""
    out = object.__new__(Inputs)
    out.__dict__.update({f.name: data.__dict__[f.name] for f in dataclasses.fields(Inputs)})
    return out


def _same(a: Any, b: Any) -> bool:
    """Equal values: arrays of one dtype and shape, element by element (NaN equal to NaN);
    dataclasses field by field; anything else by ``==``."""
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)) or a.dtype != b.dtype:
            return False
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        if type(a) is not type(b):
            return False
        return all(_same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, (tuple, list)):
        return isinstance(b, type(a)) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return bool(a == b)


def _same_data(a: ModelData, b: ModelData) -> bool:
    """The same data (their problems aside)."""
    return all(_same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a) if f.name != "problem")


def path_datas(problems: Sequence[Problem]) -> list[ModelData] | None:
    """Every path's `ModelData`: the first path's, with each path's demand.

    Each path's problem gets the `Inputs` of its data as ``problem.inputs`` (as `model_data`
    leaves them), unless it has them already.

    Parameters
    ----------
    problems : sequence of Problem
        The paths of a tree (`procure.problem.tree.ScenarioTree.problems`): the same problem but for
        their demand (``demand`` or ``workloads``).

    Returns
    -------
    list of ModelData or None
        Each path's data, equal to `model_data` of it; None when a path names its workloads
        otherwise than the first, or when the last path's data is not `model_data`'s (let
        each path's data be made on its own then).
    """
    first = model_data(problems[0])
    names = first.workloads
    if any(tuple(p.workloads or ()) != names for p in problems):
        return None
    S, T = len(problems), first.n_periods
    # as `procure.problem.inputs.inputs_of` makes them: the same floats
    demand = np.array([p.total_demand for p in problems], dtype=float).reshape(S, T)
    workload = np.array(
        [[p.workloads[w] for w in names] if p.workloads is not None else [] for p in problems], dtype=float
    ).reshape(S, len(names), T)
    demand.flags.writeable = workload.flags.writeable = False  # as the arrays of `Inputs` are
    datas = [first] + [_with_demand(first, p, demand[s], workload[s]) for s, p in enumerate(problems) if s > 0]
    if S > 1 and not _same_data(datas[-1], model_data(problems[-1])):
        return None
    for p, data in zip(problems[1:-1], datas[1:-1]):
        if "inputs" not in p.__dict__:  # `Problem.inputs` is a cached property
            p.__dict__["inputs"] = _inputs(data)
    return datas


def tree_first_bounds(datas: Sequence[ModelData]) -> tuple[np.ndarray, np.ndarray]:
    """The largest of every path's first lot bounds, and where any of them is provisional:
    ``max_s first_bounds(datas[s])[0]`` and ``any_s first_bounds(datas[s])[1]``, computed once.

    The paths (`path_datas`) differ in demand alone, and demand enters `first_bounds` only
    through its provisional bounds, which grow with demand in every period (twice the demand
    the window of a purchase may need, in lots, rounded up): so the largest bounds are those
    of a path whose demand is, in every period, the largest of the paths'.
    """
    widest = _with_demand(
        datas[0],
        datas[0].problem,
        np.max([d.demand for d in datas], axis=0),
        np.max([d.workload_demand for d in datas], axis=0),
    )
    return first_bounds(widest)


# --------------------------------------------------------------------------- models


def _group_key(data: ModelData) -> tuple[bytes, bytes, float]:
    """What makes two paths' models differ in structure or in more than their demand numbers:
    the periods with demand (HHI terms and share floors only exist there; a ``min_vendors``
    coefficient is ``0`` without it) and the CVaR unit (a power of two near the largest loss)."""
    risk = data.problem.risk
    unit = 0.0
    if risk.shortfall_penalty > 0 and risk.scenarios:  # as `procure.model.risk.define_cvar` computes it
        unit = float(np.exp2(np.round(np.log2(max(risk.shortfall_penalty * float(data.demand.max()), 1.0)))))
    return (data.demand > 0).tobytes(), (data.workload_demand > 0).tobytes(), unit


def _entries(r: np.ndarray, c: np.ndarray, block: Block, columns: np.ndarray) -> np.ndarray:
    """Positions in a model's triplets ``(r, c)`` of ``block``'s coefficients on ``columns``."""
    return np.flatnonzero((r >= block.start) & (r < block.stop) & np.isin(c, columns))


def _replicated(built: BuiltModel, members: np.ndarray, datas: Sequence[ModelData]) -> PathGroup:
    """The group of paths ``members`` with ``built`` (the first member's model) as template:
    its numbers with each member's demand put in where demand enters them."""
    m = built.model
    data = built.handles.data
    risk = data.problem.risk
    mine = [datas[s] for s in members.tolist()]
    demand = np.stack([d.demand for d in mine])  # (k, T)
    workload = np.stack([d.workload_demand for d in mine])  # (k, W, T)
    k, V = len(members), data.n_vendors
    lower = np.tile(m.row_lower, (k, 1))
    r, c, v = triplets(m)
    values = np.tile(v, (k, 1))
    for block in m.rows:
        ids, keys = block.ids, block.index.keys
        if block.name == "demand":
            lower[:, ids] = demand
        elif block.name == "workload_demand":
            lower[:, ids] = workload.reshape(k, -1)
        elif block.name == "vendor_loss":
            lower[:, ids] = np.tile(risk.survive_vendor_loss * demand, (1, V))
        elif block.name == "shortfall":  # (scenario, period)
            lower[:, ids] = demand[:, keys[:, 1]]
        elif block.name == "min_vendor_share":  # (vendor, period)
            counted = m.column_block("counted")
            assert counted is not None
            at = _entries(r, c, block, counted.ids)
            values[:, at] = -(risk.min_vendor_share * demand[:, keys[r[at] - block.start, 1]])
        elif block.name == "hhi_cut":  # (vendor, period, share)
            at = _entries(r, c, block, built.handles.compute.ravel())
            row = keys[r[at] - block.start]
            share = np.asarray(block.index.labels[2], dtype=float)[row[:, 2]]
            values[:, at] = -2.0 * share / demand[:, row[:, 1]]
    scales = []
    for q in m.squares:
        if q.name == "hhi_exact" and built.hhi is not None:  # (vendor, period with demand)
            scales.append(1.0 / demand[:, built.hhi.periods[q.index.keys[:, 1]]])
        else:
            scales.append(np.tile(q.scale, (k, 1)))
    return PathGroup(built, members, tuple(mine), lower, np.tile(m.row_upper, (k, 1)), values, tuple(scales))


def _same_index(a: Index, b: Index) -> bool:
    return a.dims == b.dims and a.labels == b.labels and _same(a.keys, b.keys)


def _same_blocks(a: list[Block], b: list[Block]) -> bool:
    return len(a) == len(b) and all(
        (x.name, x.start, x.unit, x.doc, x.definition) == (y.name, y.start, y.unit, y.doc, y.definition)
        and _same_index(x.index, y.index)
        for x, y in zip(a, b)
    )


def same_model(group: PathGroup, j: int, built: BuiltModel) -> bool:
    """Whether ``built`` is member ``j``'s model as ``group`` holds it: the template's
    structure, costs, column bounds and handles (their data aside), and the member's row
    bounds, coefficients and square scales.

    Parameters
    ----------
    group : PathGroup
        A group of paths.
    j : int
        A member, by its position in the group.
    built : BuiltModel
        The member's model built on its own.

    Returns
    -------
    bool
        True when the two are the same model, bit for bit.
    """
    t, m = group.built.model, built.model
    handles = dataclasses.replace(built.handles, data=group.built.handles.data)
    r, c, v = triplets(m)
    rt, ct, _ = triplets(t)
    return (
        _same_blocks(t.columns, m.columns)
        and _same_blocks(t.rows, m.rows)
        and all(_same(getattr(t, f), getattr(m, f)) for f in ("col_lower", "col_upper", "cost", "integrality"))
        and _same(t.offset, m.offset)
        and _same(group.row_lower[j], m.row_lower)
        and _same(group.row_upper[j], m.row_upper)
        and _same(rt, r)
        and _same(ct, c)
        and _same(group.values[j], v)
        and len(t.squares) == len(m.squares)
        and all(
            q.name == p.name
            and _same_index(q.index, p.index)
            and _same((q.y, q.x), (p.y, p.x))
            and _same(s[j], p.scale)
            for q, p, s in zip(t.squares, m.squares, group.scales)
        )
        and _same(group.built.handles, handles)
        and group.built.extra_blocks == built.extra_blocks
        and group.built.extension is None
        and built.extension is None
    )


def path_groups(
    build: Callable[[ModelData], BuiltModel], datas: Sequence[ModelData], each: Each = _every
) -> list[PathGroup]:
    """Every path's model, in groups of paths whose models share a template.

    Parameters
    ----------
    build : callable
        ``build(data)``: the model of a path (the same formulation, lot bounds and options
        for every path; no caller's rows).
    datas : sequence of ModelData
        Every path's data, from `path_datas` (the paths differ in demand alone).
    each : callable
        ``each(make, items)``: ``[make(item) for item in items]`` (a variant may stop on a deadline).

    Returns
    -------
    list of PathGroup
        Every path in one group: a group of paths with demand in the same periods (and the same
        CVaR unit), its numbers replicated from its first member's model; or a group of one
        (a group whose replicated numbers differ from its last member's own model is built
        path by path).
    """
    keys: dict[tuple[bytes, bytes, float], list[int]] = {}
    for s, data in enumerate(datas):
        keys.setdefault(_group_key(data), []).append(s)
    members = [np.array(s) for s in keys.values()]
    templates = each(lambda s: build(datas[int(s[0])]), members)
    out = []
    for paths, template in zip(members, templates):
        if len(paths) == 1:
            out.append(PathGroup.alone(template, int(paths[0])))
            continue
        group = _replicated(template, paths, datas)
        last = each(build, [datas[int(paths[-1])]])[0]
        if same_model(group, len(paths) - 1, last):
            out.append(group)
            continue
        builts = each(build, [datas[s] for s in paths[1:-1].tolist()])
        out += [PathGroup.alone(b, int(s)) for b, s in zip([template, *builts, last], paths)]
    return out
