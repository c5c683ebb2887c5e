"""Translate procure's one formulation into a readable Pyomo ``ConcreteModel``.

The translation reads the `LinearModel` (it does not restate the math): every
variable block becomes a Pyomo ``Var`` and every row block a ``Constraint``
of the same name, indexed by named sets (``m.offers``, ``m.vendors``,
``m.periods``, ``m.sites``, ``m.workloads``, ``m.scenarios``), so that
``m.power_cap[2027]`` or ``m.lots["tpu-v7", 2026]`` mean what they say in
procure's results.  ``m.buy[offer, period]`` is the expression of units bought.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..base.errors import SolverNotAvailable
from ..model.bounds import first_bounds
from ..model.build import BuiltModel, Extra, build_model
from ..model.linear import Block, LinearModel
from ..model.sets import ModelData, model_data
from ..problem.format import Problem, as_problem

__all__ = ["to_pyomo", "translate"]

_SETS = {
    "offer": "offers",
    "vendor": "vendors",
    "period": "periods",
    "site": "sites",
    "workload": "workloads",
    "scenario": "scenarios",
}


def import_pyomo() -> Any:
    try:
        import pyomo.environ as pyo
    except ImportError:  # pragma: no cover - depends on the environment
        raise SolverNotAvailable(
            "Pyomo is not installed: pip install 'procure[pyomo]' (or pip install pyomo)"
        ) from None
    return pyo


def _key(block: Block, k: int) -> Any:
    label = block.index.label(k)
    if not label:
        return None
    return label[0] if len(label) == 1 else label


def _index_set(m: Any, pyo: Any, block: Block, kind: str) -> Any:
    """The Pyomo index of a block: the named sets when it spans all of them, else a set of its labels."""
    index = block.index
    if not index.dims:
        return None
    full = len(index) == int(np.prod([len(lab) for lab in index.labels]))
    named = [getattr(m, _SETS[d], None) if d in _SETS else None for d in index.dims]
    if full and all(s is not None and tuple(s.ordered_data()) == lab for s, lab in zip(named, index.labels)):
        return _product(named)
    name = free_name(m, f"{block.name}_{kind}_index")
    members = [_key(block, k) for k in range(len(index))]
    m.add_component(name, pyo.Set(initialize=members, dimen=len(index.dims), ordered=True))
    return getattr(m, name)


def _square_key(square: Any, k: int) -> Any:
    label = square.index.label(k)
    return label[0] if len(label) == 1 else label


def _zero(m: Any, pyo: Any) -> Any:
    """A variable fixed at 0, so that a row whose every term dropped out remains a checkable row."""
    if not hasattr(m, "procure_zero"):
        m.procure_zero = pyo.Var(bounds=(0.0, 0.0), doc="always 0")
    return m.procure_zero


def free_name(m: Any, name: str, suffix: str = "_") -> str:
    """``name``, or ``name`` + suffix where Pyomo reserves it or a component already has it."""
    return name if not hasattr(m, name) else free_name(m, name + suffix, "_")


def _product(sets: list[Any]) -> Any:
    product = sets[0]
    for s in sets[1:]:
        product = product * s
    return product


def _named_sets(m: Any, pyo: Any, model: LinearModel) -> None:
    """``m.offers``, ``m.periods``, … from the labels the model's blocks carry, in order."""
    found: dict[str, list[Any]] = {}
    for block in [*model.columns, *model.rows]:
        for dim, labels in zip(block.index.dims, block.index.labels):
            if dim in _SETS:
                seen = found.setdefault(dim, [])
                seen.extend(x for x in labels if x not in seen)
    for dim, members in found.items():
        m.add_component(_SETS[dim], pyo.Set(initialize=members, ordered=True, doc=_SETS[dim]))


def _variables(m: Any, pyo: Any, model: LinearModel) -> list[Any]:
    """One ``Var`` per column block, named and indexed as the block; the Var of every column."""
    columns: list[Any] = [None] * model.num_cols
    lower, upper, integral = model.col_lower, model.col_upper, model.integrality
    for block in model.columns:
        ids = block.ids
        binary = bool(integral[ids].all() and (upper[ids] <= 1).all() and (lower[ids] >= 0).all())
        domain = pyo.Binary if binary else pyo.NonNegativeIntegers if integral[ids].all() else pyo.Reals
        bounds = {
            _key(block, k): (
                None if np.isinf(lower[j]) else float(lower[j]),
                None if np.isinf(upper[j]) else float(upper[j]),
            )
            for k, j in enumerate(ids)
        }
        index = _index_set(m, pyo, block, "var")
        doc = block.doc or block.unit
        if index is not None:
            var = pyo.Var(index, domain=domain, bounds=lambda _m, *key, b=bounds: b[_unpack(key)], doc=doc)
        else:
            var = pyo.Var(domain=domain, bounds=bounds[None], doc=doc)
        vname = free_name(m, block.name)
        m.add_component(vname, var)
        component = getattr(m, vname)
        for k, j in enumerate(ids):
            key = _key(block, k)
            columns[j] = component if key is None else component[key]
    return columns


def _unpack(key: tuple[Any, ...]) -> Any:
    return key[0] if len(key) == 1 else key


def _row_expression(m: Any, pyo: Any, model: LinearModel, A: Any, r: int, columns: list[Any]) -> Any:
    """Row ``r`` as a Pyomo relation (``Constraint.Skip`` for a free row)."""
    from pyomo.core.expr.numeric_expr import LinearExpression

    lo, up = model.row_lower[r], model.row_upper[r]
    start, stop = A.indptr[r], A.indptr[r + 1]
    coefs = [float(v) for v in A.data[start:stop]] or [1.0]
    terms = [columns[c] for c in A.indices[start:stop]] or [_zero(m, pyo)]  # a row left empty stays a row
    expr = LinearExpression(constant=0.0, linear_coefs=coefs, linear_vars=terms)
    if lo == up:
        return expr == float(lo)
    if np.isinf(lo) and np.isinf(up):
        return pyo.Constraint.Skip
    return (None if np.isinf(lo) else float(lo), expr, None if np.isinf(up) else float(up))


def _constraints(m: Any, pyo: Any, model: LinearModel, columns: list[Any]) -> None:
    """One ``Constraint`` per row block, named and indexed as the block."""
    A = model.A.tocsr()
    for block in model.rows:
        rows = {_key(block, k): _row_expression(m, pyo, model, A, r, columns) for k, r in enumerate(block.ids)}
        cname = free_name(m, block.name, suffix="_row")
        index = _index_set(m, pyo, block, "row")
        doc = block.doc or block.unit
        if index is None:
            m.add_component(cname, pyo.Constraint(rule=lambda _m, *_, r=rows: r[None], doc=doc))
        else:
            m.add_component(cname, pyo.Constraint(index, rule=lambda _m, *key, r=rows: r[_unpack(key)], doc=doc))


def _squares(m: Any, pyo: Any, model: LinearModel, columns: list[Any]) -> None:
    """The model's square bounds (HHI) as convex quadratic constraints ``y ≥ share²`` on a share
    column ``share = scale · x``.  The share is near 1 where ``x`` (compute) is near 10⁶: squared
    in place, ``scale²·x²`` has coefficients near 10⁻¹¹, below SCIP's epsilon, and SCIP declared
    a feasible HHI problem infeasible at its root."""
    for square in model.squares:
        keys = [_square_key(square, k) for k in range(len(square.y))]
        share = pyo.Var(keys, domain=pyo.NonNegativeReals, doc=f"{square.name}: share whose square is bounded")
        m.add_component(free_name(m, f"{square.name}_share"), share)
        defined = {key: float(1.0 / c) * share[key] == columns[x] for key, x, c in zip(keys, square.x, square.scale)}
        exact = {key: columns[y] >= share[key] ** 2 for key, y in zip(keys, square.y)}
        for name, rows in ((f"{square.name}_share_def", defined), (square.name, exact)):
            m.add_component(free_name(m, name), pyo.Constraint(keys, rule=lambda _m, *key, e=rows: e[_unpack(key)]))


def translate(model: LinearModel, name: str = "procure", *, quadratic: bool = False) -> Any:
    """A Pyomo ``ConcreteModel`` of ``model``; ``m.procure_columns`` lists the Var of each column.

    The named sets (``m.offers``, ``m.periods``, …) are read from the labels the
    model's blocks carry.  With ``quadratic``, the model's square bounds (HHI) are
    stated exactly as convex quadratic constraints, besides their linear cuts."""
    pyo = import_pyomo()
    from pyomo.core.expr.numeric_expr import LinearExpression

    m = pyo.ConcreteModel(name=name)
    _named_sets(m, pyo, model)
    columns = _variables(m, pyo, model)
    _constraints(m, pyo, model, columns)
    if quadratic:
        _squares(m, pyo, model, columns)
    nz = np.flatnonzero(model.cost)
    m.cost = pyo.Objective(
        expr=LinearExpression(
            constant=float(model.offset),
            linear_coefs=[float(model.cost[j]) for j in nz],
            linear_vars=[columns[j] for j in nz],
        ),
        sense=pyo.minimize,
        doc="cost + risk terms ($)",
    )
    m.procure_columns = columns
    return m


def add_buy(m: Any, built: BuiltModel, data: ModelData) -> None:
    """``buy[offer, period]``: units bought (lot size × lots, summed over sites)."""
    pyo = import_pyomo()
    columns = m.procure_columns
    terms: dict[tuple[str, int], list[Any]] = {(o, int(p)): [] for o in data.offers for p in data.periods}
    for p in range(data.n_placements):
        i = data.offer_of[p]
        for t, period in enumerate(data.periods):
            terms[(data.offers[i], int(period))].append(int(data.lot[i]) * columns[built.lots[p, t]])
    m.buy = pyo.Expression(m.offers, m.periods, rule=lambda _m, o, t: sum(terms[(o, t)]), doc="units bought")


def to_pyomo(problem: Problem | Mapping[str, Any] | str | os.PathLike[str], extra: Extra | None = None) -> Any:
    """The problem as a Pyomo ``ConcreteModel`` that you can extend and solve yourself.

    Variables, constraints and their index sets carry procure's names
    (``m.lots[offer, period]``, ``m.power_cap[period]``, ``m.max_share[vendor,
    period]``; with sites ``m.lots[offer, site, period]``); ``m.buy[offer,
    period]`` is the number of units bought and ``m.cost`` the objective.

    Lot bounds that no constraint implies (needed by minimum orders,
    onboarding and tiers) are the generous provisional ones; `procure.solve`
    certifies them against the optimum, a hand-solved model does not.  HHI, if
    the problem prices or caps it, is bounded by the initial grid of tangent
    cuts only (see the docs).

    Parameters
    ----------
    problem : Problem, mapping, or path
        The problem to translate.
    extra : callable, optional
        Rows of your own, ``extra(model, handles, data)``, as in `procure.solve`.

    Returns
    -------
    pyomo.environ.ConcreteModel
        The model, not solved.
    """
    prob = as_problem(problem)
    data = model_data(prob)
    built = build_model(data, first_bounds(data)[0], extra=extra)
    m = translate(built.model, name=prob.name)
    add_buy(m, built, data)
    return m
