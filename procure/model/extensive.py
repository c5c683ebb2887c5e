"""The deterministic equivalent (extensive form) of a problem with demand scenarios.

Each distinct demand path ``s`` gets the model `build_model` builds for it alone (the one
formulation, no second copy of the math); the extensive form stacks them block-diagonally
and makes the decisions non-anticipative by *merging* columns: the lots (per placement)
and power builds of period ``t`` of every path in one node of the tree are one column.
With scipy.sparse this is ``A = blockdiag(A_s) @ M`` for a 0/1 merge matrix ``M``; the
objective is ``Σ_s p_s · objective_s``, plus ``scenario_cvar_weight`` × CVaR of the paths'
costs in the Rockafellar–Uryasev form:

    CVaR = η + Σ_s p_s · z_s / (1 − α),   z_s ≥ cost_s − η,  z_s ≥ 0.

Every path keeps a *view*: a `BuiltModel` whose handles name the extensive form's columns,
so that reading a path's plan, or adding HHI cuts for it, is what it is for one problem.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from .build import BuiltModel, Handles
from .linear import Block, Index, LinearModel, SquareBounds
from .power_build import Builds
from .risk import CvarHandles, HhiHandles

__all__ = ["Extensive", "extensive_form"]


@dataclass
class Extensive:
    """The extensive form, the view of each path, and its scenario-CVaR columns."""

    model: LinearModel
    views: list[BuiltModel]
    lots: np.ndarray  # ids of every (merged) lot column
    cvar: np.ndarray  # ids of η and z (empty without a scenario CVaR weight)


def _cost_part(built: BuiltModel) -> np.ndarray:
    """The path's objective vector without its risk terms (HHI and disruption CVaR): its cost."""
    cost = built.model.cost.copy()
    if built.hhi is not None:
        cost[built.hhi.terms.ravel()] = 0.0
    if built.cvar is not None:
        cost[built.cvar.ids] = 0.0
    return cost


def _merge_targets(builts: list[BuiltModel], offsets: np.ndarray, rep: np.ndarray, shared: bool) -> np.ndarray:
    """(stacked columns,) the stacked column each column is merged into (itself when none)."""
    n = int(offsets[-1])
    target = np.arange(n)
    if not shared or len(builts) < 2:
        return target

    def merge(ids: list[np.ndarray]) -> None:  # ids[s]: (K, T) column ids of path s, −1 for none
        stacked = np.stack([np.where(x >= 0, x + offsets[s], -1) for s, x in enumerate(ids)])  # (S, K, T)
        _, K, T = stacked.shape
        into = stacked[rep[:, None, :], np.arange(K)[None, :, None], np.arange(T)[None, None, :]]
        live = stacked >= 0
        target[stacked[live]] = into[live]

    merge([b.lots for b in builts])
    if builts[0].handles.builds is not None:
        merge([b.handles.builds.cols for b in builts if b.handles.builds is not None])
    if builts[0].handles.options is not None:  # a reservation at its period's node, an exercise at its own
        merge([_at_reserve_period(b) for b in builts])
        merge([b.handles.options.exercised.reshape(-1, rep.shape[1]) for b in builts if b.handles.options is not None])
    return target


def _at_reserve_period(built: BuiltModel) -> np.ndarray:
    """(O, T) the reservation columns in their reserve period's slot, −1 elsewhere."""
    options = built.handles.options
    assert options is not None
    data = built.handles.data
    out = np.full((len(options.reserved), data.n_periods), -1)
    out[np.arange(len(options.reserved)), data.option_reserve_t] = options.reserved
    return out


def _merged_matrix(
    builts: list[BuiltModel], offsets: np.ndarray, row_offsets: np.ndarray, new_of: np.ndarray, n: int
) -> sp.csr_matrix:
    """``blockdiag(A_s) @ M``: every path's coefficients in its own rows and the merged columns,
    from the paths' triplets (no path's matrix is assembled on its own).  A row belongs to one
    path, whose columns merge into distinct columns: no two paths' coefficients are summed."""
    rows, cols, vals = [], [], []
    for s, built in enumerate(builts):
        for r, c, v in built.model._triplets:
            rows.append(r + row_offsets[s])
            cols.append(new_of[c + offsets[s]])
            vals.append(v)
    empty = np.zeros(0, dtype=np.int64)
    A = sp.csr_matrix(
        (np.concatenate([np.zeros(0), *vals]), (np.concatenate([empty, *rows]), np.concatenate([empty, *cols]))),
        shape=(int(row_offsets[-1]), n),
    )
    A.sum_duplicates()
    A.eliminate_zeros()
    return A


def _blocks(
    builts: list[BuiltModel],
    names: tuple[str, ...],
    offsets: np.ndarray,
    kept: np.ndarray,
    new_of: np.ndarray,
    rows: bool,
) -> list[Block]:
    """Every path's blocks with a leading ``scenario`` dimension; column blocks keep the members
    that were not merged into an earlier path's column."""
    out: list[Block] = []
    for s, built in enumerate(builts):
        for block in built.model.rows if rows else built.model.columns:
            index = block.index
            keys = np.column_stack([np.full(len(index), 0, dtype=int), index.keys])
            labelled = Index(("scenario", *index.dims), ((names[s],), *index.labels), keys)
            start = block.start + int(offsets[s])
            if rows:
                out.append(Block(block.name, start, labelled, block.unit, block.doc, block.definition))
                continue
            mine = kept[start : start + len(index)]
            if mine.any():
                first = int(new_of[start + int(np.argmax(mine))])
                out.append(Block(block.name, first, labelled.subset(mine), block.unit, block.doc))
    return out


def _remap(handles: Handles, col: np.ndarray, row_offset: int) -> Handles:
    """Handles of a path with its column ids mapped through ``col`` (−1 stays −1) and row ids shifted."""

    def c(ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids)
        return np.where(ids >= 0, col[np.maximum(ids, 0)], -1)

    hhi = handles.hhi
    cvar = handles.cvar
    builds = handles.builds
    options = handles.options
    return replace(
        handles,
        lots=c(handles.lots),
        compute=c(handles.compute),
        split=None if handles.split is None else c(handles.split),
        hhi=None if hhi is None else HhiHandles(hhi.periods, c(hhi.terms), hhi.cap_rows + row_offset),
        cvar=None if cvar is None else CvarHandles(c(cvar.ids), cvar.weights, cvar.cap_row + row_offset, cvar.unit),
        builds=None if builds is None else Builds(c(builds.cols), builds.gw),
        options=None if options is None else options.remapped(c),
    )


def extensive_form(
    builts: list[BuiltModel],
    names: tuple[str, ...],
    probability: np.ndarray,
    rep: np.ndarray,
    *,
    cvar_weight: float = 0.0,
    cvar_alpha: float = 0.9,
    shared: bool = True,
) -> Extensive:
    """The extensive form of the paths' models ``builts`` (probabilities ``probability``;
    ``rep[s, t]`` the first path of path ``s``'s node in period ``t``).  ``shared=False`` leaves
    the decisions of every path its own (wait-and-see: each path knows its future)."""
    sizes = np.array([b.model.num_cols for b in builts])
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    row_sizes = np.array([b.model.num_rows for b in builts])
    row_offsets = np.concatenate([[0], np.cumsum(row_sizes)])
    target = _merge_targets(builts, offsets, rep, shared)
    kept = target == np.arange(len(target))
    new_id = np.cumsum(kept) - 1
    new_of = new_id[target]  # every stacked column's column in the extensive form
    n = int(kept.sum())
    A = _merged_matrix(builts, offsets, row_offsets, new_of, n)

    def stacked(name: str) -> np.ndarray:
        return np.concatenate([getattr(b.model, name) for b in builts])

    weights = np.repeat(probability, sizes)
    cost = np.bincount(new_of, weights=stacked("cost") * weights, minlength=n)
    lower = np.full(n, -np.inf)
    upper = np.full(n, np.inf)
    np.maximum.at(lower, new_of, stacked("col_lower"))
    np.minimum.at(upper, new_of, stacked("col_upper"))
    integrality = np.zeros(n, dtype=bool)
    np.logical_or.at(integrality, new_of, stacked("integrality"))

    m = LinearModel()
    m.columns = _blocks(builts, names, offsets, kept, new_of, rows=False)
    m.rows = _blocks(builts, names, row_offsets, kept, new_of, rows=True)
    m.col_lower, m.col_upper, m.cost, m.integrality = lower, upper, np.asarray(cost, dtype=float), integrality
    m.row_lower, m.row_upper = stacked("row_lower"), stacked("row_upper")
    m.offset = float(sum(p * b.model.offset for p, b in zip(probability, builts)))
    coo = A.tocoo()
    m._triplets = [(coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data)]
    m.columns.sort(key=lambda b: b.start)
    m.squares = [
        SquareBounds(q.name, q.index, new_of[offsets[s] + q.y], new_of[offsets[s] + q.x], q.scale)
        for s, b in enumerate(builts)
        for q in b.model.squares
    ]

    views = [
        BuiltModel(m, _remap(b.handles, new_of[offsets[s] : offsets[s + 1]], int(row_offsets[s])), b.extra_blocks)
        for s, b in enumerate(builts)
    ]
    cvar = _scenario_cvar(m, builts, names, probability, new_of, offsets, cvar_weight, cvar_alpha)
    lots = np.unique(np.concatenate([v.lots.ravel() for v in views]))
    return Extensive(m, views, lots, cvar)


def _scenario_cvar(
    m: LinearModel,
    builts: list[BuiltModel],
    names: tuple[str, ...],
    probability: np.ndarray,
    new_of: np.ndarray,
    offsets: np.ndarray,
    weight: float,
    alpha: float,
) -> np.ndarray:
    """``scenario_var`` η (free) and ``scenario_tail[s]`` z ≥ 0 with rows ``scenario_tail[s]``:
    z_s + η − cost_s ≥ offset_s; objective ``weight · (η + Σ p_s z_s / (1 − α))``."""
    if weight <= 0:
        return np.zeros(0, dtype=np.int64)
    S = len(builts)
    eta = m.add_columns("scenario_var", Index.scalar(), lower=-np.inf, cost=weight, unit="$", doc="value at risk η")
    z = m.add_columns(
        "scenario_tail",
        Index.grid(scenario=names),
        cost=weight * probability / (1 - alpha),
        unit="$",
        doc="scenario cost above η",
    )
    rows, cols, vals = [np.arange(S), np.arange(S)], [z, np.repeat(eta, S)], [np.ones(S), np.ones(S)]
    for s, b in enumerate(builts):
        c = _cost_part(b)
        live = np.flatnonzero(c)
        rows.append(np.full(len(live), s))
        cols.append(new_of[offsets[s] + live])
        vals.append(-c[live])
    m.add_rows(
        "scenario_tail",
        Index.grid(scenario=names),
        np.concatenate(rows),
        np.concatenate(cols),
        np.concatenate(vals),
        lower=np.array([b.model.offset for b in builts]),
        unit="$",
        definition=True,
    )
    return np.concatenate([eta, z])
