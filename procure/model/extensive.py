"""The deterministic equivalent (extensive form) of a problem with demand scenarios.

Each distinct demand path ``s`` gets the model `build_model` builds for it alone (the one
formulation, no second copy of the math); the extensive form stacks them block-diagonally
and makes the decisions non-anticipative by *merging* columns: the lots (per placement)
and power builds of period ``t`` of every path in one node of the tree are one column.
With scipy.sparse this is ``A = blockdiag(A_s) @ M`` for a 0/1 merge matrix ``M``; the
objective is ``Σ_s p_s · objective_s``, plus ``scenario_cvar_weight`` × CVaR of the paths'
costs in the Rockafellar–Uryasev form:

    CVaR = η + Σ_s p_s · z_s / (1 − α),   z_s ≥ cost_s − η,  z_s ≥ 0.

The paths come in `PathGroup` s: paths whose models share one structure (a template's
columns, rows, sparsity, costs and column bounds) and have numbers of their own only where
demand enters them (row bounds, coefficients, the scales of square rows).  Stacking is
vectorized over the members of a group (`procure.model.replicate` makes groups of many
paths; a path built on its own is a group of one).

Every path keeps a *view*: a `BuiltModel` whose handles name the extensive form's columns,
so that reading a path's plan, or adding HHI cuts for it, is what it is for one problem.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from .build import BuiltModel
from .linear import Block, Index, LinearModel, SquareBounds
from .power_build import Builds
from .risk import CvarHandles, HhiHandles
from .sets import ModelData

__all__ = ["Extensive", "PathGroup", "extensive_form", "triplets"]


@dataclass
class Extensive:
    """The extensive form, the view of each path, and its scenario-CVaR columns."""

    model: LinearModel
    views: list[BuiltModel]
    lots: np.ndarray  # ids of every (merged) lot column
    cvar: np.ndarray  # ids of η and z (empty without a scenario CVaR weight)


def triplets(m: LinearModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, columns and values of every coefficient given to ``m``, in the order given
    (duplicates not summed: `LinearModel.A` sums them)."""
    if not m._triplets:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    r, c, v = (np.concatenate(x) for x in zip(*m._triplets))
    return r, c, v


@dataclass(frozen=True)
class PathGroup:
    """Paths whose models share one structure: the columns, rows, coefficient positions,
    costs and column bounds of ``built`` (the template), with row bounds, coefficients and
    square scales of their own.

    Attributes
    ----------
    built : BuiltModel
        The template: the model of one of the members.
    members : numpy.ndarray
        (k,) positions of the paths in the tree, ascending.
    datas : tuple of ModelData
        Each member's data (its view's handles hold it).
    row_lower, row_upper : numpy.ndarray
        (k, rows) each member's row bounds.
    values : numpy.ndarray
        (k, entries) each member's coefficients, in the order of the template's `triplets`.
    scales : tuple of numpy.ndarray
        (k, len) each member's scales of each of the template's `SquareBounds`.
    """

    built: BuiltModel
    members: np.ndarray
    datas: tuple[ModelData, ...]
    row_lower: np.ndarray
    row_upper: np.ndarray
    values: np.ndarray
    scales: tuple[np.ndarray, ...]

    @classmethod
    def alone(cls, built: BuiltModel, member: int) -> PathGroup:
        """The model ``built`` of path ``member`` as a group of one."""
        m = built.model
        return cls(
            built,
            np.array([member]),
            (built.handles.data,),
            m.row_lower[None, :],
            m.row_upper[None, :],
            triplets(m)[2][None, :],
            tuple(q.scale[None, :] for q in m.squares),
        )


def _cost_part(built: BuiltModel) -> np.ndarray:
    """The path's objective vector without its risk terms (HHI and disruption CVaR): its cost."""
    cost = built.model.cost.copy()
    if built.hhi is not None:
        cost[built.hhi.terms.ravel()] = 0.0
    if built.cvar is not None:
        cost[built.cvar.ids] = 0.0
    return cost


def _starts(groups: Sequence[PathGroup], S: int, sizes: Sequence[int]) -> np.ndarray:
    """(S + 1,) where each path's part starts in the stack of every path's part, in path
    order (``sizes[g]``: the size of the part of each member of group ``g``)."""
    size = np.zeros(S, dtype=np.int64)
    for g, n in zip(groups, sizes):
        size[g.members] = n
    return np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(size)])


def _spread(
    groups: Sequence[PathGroup], starts: np.ndarray, sizes: Sequence[int], parts: Sequence[np.ndarray], dtype: type
) -> np.ndarray:
    """The stack of every path's part, in path order: ``parts[g]`` broadcasts to (k, sizes[g])
    (a row per member of group ``g``)."""
    out: np.ndarray = np.empty(int(starts[-1]), dtype=dtype)
    for g, n, part in zip(groups, sizes, parts):
        out[starts[g.members][:, None] + np.arange(n)] = part
    return out


def _build_cols(built: BuiltModel) -> np.ndarray:
    builds = built.handles.builds
    assert builds is not None  # every path has them when the first has
    return builds.cols


def _exercised(built: BuiltModel) -> np.ndarray:
    options = built.handles.options
    assert options is not None
    return options.exercised.reshape(-1, built.handles.data.n_periods)


def _at_reserve_period(built: BuiltModel) -> np.ndarray:
    """(O, T) the reservation columns in their reserve period's slot, −1 elsewhere."""
    options = built.handles.options
    assert options is not None
    data = built.handles.data
    out = np.full((len(options.reserved), data.n_periods), -1)
    out[np.arange(len(options.reserved)), data.option_reserve_t] = options.reserved
    return out


def _merge_targets(
    groups: Sequence[PathGroup], S: int, offsets: np.ndarray, rep: np.ndarray, shared: bool
) -> np.ndarray:
    """(stacked columns,) the stacked column each column is merged into (itself when none)."""
    n = int(offsets[-1])
    target = np.arange(n)
    if not shared or S < 2:
        return target

    def merge(ids_of: Callable[[BuiltModel], np.ndarray]) -> None:  # (K, T) column ids of a path, −1 for none
        stacked = np.zeros((S, *ids_of(groups[0].built).shape), dtype=np.int64)  # (S, K, T)
        for g in groups:
            x = ids_of(g.built)[None]
            stacked[g.members] = np.where(x >= 0, x + offsets[g.members][:, None, None], -1)
        _, K, T = stacked.shape
        into = stacked[rep[:, None, :], np.arange(K)[None, :, None], np.arange(T)[None, None, :]]
        live = stacked >= 0
        target[stacked[live]] = into[live]

    merge(lambda b: b.lots)
    if groups[0].built.handles.builds is not None:
        merge(_build_cols)
    if groups[0].built.handles.options is not None:  # a reservation at its period's node, an exercise at its own
        merge(_at_reserve_period)
        merge(_exercised)
    return target


def _merged_matrix(
    groups: Sequence[PathGroup], S: int, offsets: np.ndarray, row_offsets: np.ndarray, new_of: np.ndarray, n: int
) -> sp.csr_matrix:
    """``blockdiag(A_s) @ M``: every path's coefficients in its own rows and the merged columns,
    from the paths' triplets (no path's matrix is assembled on its own).  A row belongs to one
    path, whose columns merge into distinct columns: no two paths' coefficients are summed."""
    parts = [triplets(g.built.model) for g in groups]
    sizes = [len(r) for r, _, _ in parts]
    starts = _starts(groups, S, sizes)
    rows = _spread(
        groups, starts, sizes, [r + row_offsets[g.members][:, None] for g, (r, _, _) in zip(groups, parts)], np.int64
    )
    cols = _spread(
        groups,
        starts,
        sizes,
        [new_of[c + offsets[g.members][:, None]] for g, (_, c, _) in zip(groups, parts)],
        np.int64,
    )
    vals = _spread(groups, starts, sizes, [g.values for g in groups], float)
    A = sp.csr_matrix((vals, (rows, cols)), shape=(int(row_offsets[-1]), n))
    A.sum_duplicates()
    A.eliminate_zeros()
    return A


def _labelled(block: Block) -> tuple[tuple[str, ...], np.ndarray]:
    """The dimensions and keys of ``block``'s members with a leading ``scenario`` dimension."""
    index = block.index
    return ("scenario", *index.dims), np.column_stack([np.zeros(len(index), dtype=int), index.keys])


def _row_blocks(
    groups: Sequence[PathGroup], where: list[tuple[int, int]], names: tuple[str, ...], row_offsets: np.ndarray
) -> list[Block]:
    """Every path's row blocks, with a leading ``scenario`` dimension."""
    specs = [[(b, *_labelled(b)) for b in g.built.model.rows] for g in groups]
    out: list[Block] = []
    for s, (gi, _) in enumerate(where):
        offset, label = int(row_offsets[s]), (names[s],)
        for block, dims, keys in specs[gi]:
            index = Index(dims, (label, *block.index.labels), keys)
            out.append(Block(block.name, block.start + offset, index, block.unit, block.doc, block.definition))
    return out


@dataclass(frozen=True)
class _Kept:
    """Which members of a template's column block each member path of a group keeps."""

    block: Block
    dims: tuple[str, ...]
    keys: np.ndarray  # every member's keys, with the leading scenario key
    kept: np.ndarray  # (k, len)
    every: list[bool]  # (k,) whether each path keeps every member
    some: list[bool]  # (k,) whether it keeps any
    first: list[int]  # (k,) the extensive form's column of each path's first kept member
    subsets: dict[bytes, np.ndarray]  # the keys of the members kept, by ``kept`` row

    @classmethod
    def of(cls, block: Block, at: np.ndarray, kept: np.ndarray, new_of: np.ndarray) -> _Kept:
        """``block`` of paths whose block starts at stacked columns ``at`` (k,)."""
        dims, keys = _labelled(block)
        ids = at[:, None] + block.start + np.arange(len(block.index))
        mine = kept[ids]
        first = new_of[ids[:, 0] + np.argmax(mine, axis=1)] if mine.size else np.zeros(len(at), dtype=np.int64)
        every: list[bool] = np.asarray(mine.all(axis=1)).tolist()
        some: list[bool] = np.asarray(mine.any(axis=1)).tolist()
        return cls(block, dims, keys, mine, every, some, first.tolist(), {})

    def index(self, j: int, label: tuple[str]) -> Index | None:
        """The members member path ``j`` (named ``label``) keeps, None when none."""
        if not self.some[j]:
            return None
        if self.every[j]:
            keys = self.keys
        else:
            mine = self.kept[j]
            key = mine.tobytes()
            if key not in self.subsets:
                self.subsets[key] = self.keys[mine]
            keys = self.subsets[key]
        return Index(self.dims, (label, *self.block.index.labels), keys)


def _column_blocks(
    groups: Sequence[PathGroup],
    where: list[tuple[int, int]],
    names: tuple[str, ...],
    offsets: np.ndarray,
    kept: np.ndarray,
    new_of: np.ndarray,
) -> list[Block]:
    """Every path's column blocks with a leading ``scenario`` dimension; each keeps the members
    that were not merged into an earlier path's column."""
    specs = [[_Kept.of(b, offsets[g.members], kept, new_of) for b in g.built.model.columns] for g in groups]
    out: list[Block] = []
    for s, (gi, j) in enumerate(where):
        label = (names[s],)
        for spec in specs[gi]:
            index = spec.index(j, label)
            if index is not None:
                block = spec.block
                out.append(Block(block.name, spec.first[j], index, block.unit, block.doc))
    return out


def _views(m: LinearModel, g: PathGroup, col: np.ndarray, row_offsets: np.ndarray) -> list[BuiltModel]:
    """The view of each member of ``g``: the template's handles with column ids mapped through
    the member's row of ``col`` (k, template columns) (−1 stays −1) and row ids shifted."""

    def every(ids: np.ndarray) -> np.ndarray:  # (k, *ids.shape)
        ids = np.asarray(ids)
        return np.where(ids >= 0, col[:, np.maximum(ids, 0)], -1)

    handles = g.built.handles
    hhi, cvar, builds, options = handles.hhi, handles.cvar, handles.builds, handles.options
    lots, compute = every(handles.lots), every(handles.compute)
    split = None if handles.split is None else every(handles.split)
    terms = None if hhi is None else every(hhi.terms)
    risk = None if cvar is None else every(cvar.ids)
    built = None if builds is None else every(builds.cols)
    views = []
    for j, s in enumerate(g.members):
        row_offset = int(row_offsets[s])

        def mine(ids: np.ndarray, j: int = j) -> np.ndarray:
            ids = np.asarray(ids)
            return np.where(ids >= 0, col[j][np.maximum(ids, 0)], -1)

        view = replace(
            handles,
            data=g.datas[j],
            lots=lots[j],
            compute=compute[j],
            split=None if split is None else split[j],
            hhi=None if hhi is None or terms is None else HhiHandles(hhi.periods, terms[j], hhi.cap_rows + row_offset),
            cvar=None
            if cvar is None or risk is None
            else CvarHandles(risk[j], cvar.weights, cvar.cap_row + row_offset, cvar.unit),
            builds=None if builds is None or built is None else Builds(built[j], builds.gw),
            options=None if options is None else options.remapped(mine),
        )
        views.append(BuiltModel(m, view, g.built.extra_blocks))
    return views


def _positions(groups: list[PathGroup], names: tuple[str, ...]) -> list[tuple[int, int]]:
    """(group, member) of every path; a path in no group is an error."""
    where = [(-1, -1)] * len(names)
    for gi, g in enumerate(groups):
        for j, s in enumerate(g.members.tolist()):
            where[s] = (gi, j)
    if (-1, -1) in where:
        raise ValueError(f"path {names[where.index((-1, -1))]!r} is in no group")
    return where


def _merged_columns(
    groups: list[PathGroup],
    offsets: np.ndarray,
    col_sizes: list[int],
    new_of: np.ndarray,
    n: int,
    probability: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cost (probability-weighted), bounds (the tightest of the merged) and integrality of the
    extensive form's ``n`` columns; ``new_of`` maps every stacked column to its merged one."""

    def stacked(name: str, dtype: type = float) -> np.ndarray:
        return _spread(groups, offsets, col_sizes, [getattr(g.built.model, name) for g in groups], dtype)

    weights = np.repeat(probability, np.diff(offsets))
    cost = np.asarray(np.bincount(new_of, weights=stacked("cost") * weights, minlength=n), dtype=float)
    lower = np.full(n, -np.inf)
    upper = np.full(n, np.inf)
    np.maximum.at(lower, new_of, stacked("col_lower"))
    np.minimum.at(upper, new_of, stacked("col_upper"))
    integrality = np.zeros(n, dtype=bool)
    np.logical_or.at(integrality, new_of, stacked("integrality", bool))
    return cost, lower, upper, integrality


def extensive_form(
    paths: Sequence[BuiltModel | PathGroup],
    names: tuple[str, ...],
    probability: np.ndarray,
    rep: np.ndarray,
    *,
    cvar_weight: float = 0.0,
    cvar_alpha: float = 0.9,
    shared: bool = True,
) -> Extensive:
    """The extensive form of the paths' models.

    Parameters
    ----------
    paths : sequence of BuiltModel or PathGroup
        Every path's own model, in path order (a `BuiltModel` at position ``s`` is path ``s``'s);
        or the paths' models in groups (every path a member of one), which give the same model
        as every path's own model.
    names : tuple of str
        Each path's name.
    probability : numpy.ndarray
        (S,) each path's probability.
    rep : numpy.ndarray
        (S, T) the first path of path ``s``'s node in period ``t``.
    cvar_weight, cvar_alpha : float
        The scenario CVaR's weight (none at 0) and level.
    shared : bool
        False leaves the decisions of every path its own (wait-and-see: each path knows its future).

    Returns
    -------
    Extensive
        The model, every path's view (in path order), the lot columns and the CVaR columns.
    """
    groups = [p if isinstance(p, PathGroup) else PathGroup.alone(p, s) for s, p in enumerate(paths)]
    S = len(names)
    where = _positions(groups, names)
    col_sizes = [g.built.model.num_cols for g in groups]
    row_sizes = [g.built.model.num_rows for g in groups]
    offsets = _starts(groups, S, col_sizes)
    row_offsets = _starts(groups, S, row_sizes)
    target = _merge_targets(groups, S, offsets, rep, shared)
    kept = target == np.arange(len(target))
    new_id = np.cumsum(kept) - 1
    new_of = new_id[target]  # every stacked column's column in the extensive form
    n = int(kept.sum())
    A = _merged_matrix(groups, S, offsets, row_offsets, new_of, n)

    cost, lower, upper, integrality = _merged_columns(groups, offsets, col_sizes, new_of, n, probability)
    path_offsets = [0.0] * S  # every path's objective offset (the template's)
    for g in groups:
        for s in g.members.tolist():
            path_offsets[s] = g.built.model.offset

    m = LinearModel()
    m.columns = _column_blocks(groups, where, names, offsets, kept, new_of)
    m.rows = _row_blocks(groups, where, names, row_offsets)
    m.col_lower, m.col_upper, m.cost, m.integrality = lower, upper, cost, integrality
    m.row_lower = _spread(groups, row_offsets, row_sizes, [g.row_lower for g in groups], float)
    m.row_upper = _spread(groups, row_offsets, row_sizes, [g.row_upper for g in groups], float)
    m.offset = float(sum(p * o for p, o in zip(probability, path_offsets)))
    coo = A.tocoo()
    m._triplets = [(coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data)]
    m.columns.sort(key=lambda b: b.start)

    cols = [new_of[offsets[g.members][:, None] + np.arange(n_g)] for g, n_g in zip(groups, col_sizes)]
    squares = [
        [
            (q, new_of[offsets[g.members][:, None] + q.y], new_of[offsets[g.members][:, None] + q.x])
            for q in g.built.model.squares
        ]
        for g in groups
    ]
    m.squares = [
        SquareBounds(q.name, q.index, y[j], x[j], groups[gi].scales[k][j])
        for gi, j in where
        for k, (q, y, x) in enumerate(squares[gi])
    ]
    views: list[BuiltModel] = [groups[0].built] * S
    for g, col in zip(groups, cols):
        for s, view in zip(g.members.tolist(), _views(m, g, col, row_offsets)):
            views[s] = view
    cvar = _scenario_cvar(m, groups, S, names, probability, new_of, offsets, path_offsets, cvar_weight, cvar_alpha)
    lots = np.unique(np.concatenate([np.zeros(0, dtype=np.int64), *(v.lots.ravel() for v in views)]))
    return Extensive(m, views, lots, cvar)


def _scenario_cvar(
    m: LinearModel,
    groups: Sequence[PathGroup],
    S: int,
    names: tuple[str, ...],
    probability: np.ndarray,
    new_of: np.ndarray,
    offsets: np.ndarray,
    path_offsets: list[float],
    weight: float,
    alpha: float,
) -> np.ndarray:
    """``scenario_var`` η (free) and ``scenario_tail[s]`` z ≥ 0 with rows ``scenario_tail[s]``:
    z_s + η − cost_s ≥ offset_s; objective ``weight · (η + Σ p_s z_s / (1 − α))``."""
    if weight <= 0:
        return np.zeros(0, dtype=np.int64)
    eta = m.add_columns("scenario_var", Index.scalar(), lower=-np.inf, cost=weight, unit="$", doc="value at risk η")
    z = m.add_columns(
        "scenario_tail",
        Index.grid(scenario=names),
        cost=weight * probability / (1 - alpha),
        unit="$",
        doc="scenario cost above η",
    )
    costs = [_cost_part(g.built) for g in groups]
    live = [np.flatnonzero(c) for c in costs]
    sizes = [len(x) for x in live]
    starts = _starts(groups, S, sizes)
    path = _spread(groups, starts, sizes, [g.members[:, None] for g in groups], np.int64)
    col = _spread(
        groups, starts, sizes, [new_of[offsets[g.members][:, None] + x] for g, x in zip(groups, live)], np.int64
    )
    val = _spread(groups, starts, sizes, [-c[x] for c, x in zip(costs, live)], float)
    m.add_rows(
        "scenario_tail",
        Index.grid(scenario=names),
        np.concatenate([np.arange(S), np.arange(S), path]),
        np.concatenate([z, np.repeat(eta, S), col]),
        np.concatenate([np.ones(S), np.ones(S), val]),
        lower=np.array(path_offsets),
        unit="$",
        definition=True,
    )
    return np.concatenate([eta, z])
