"""Why is a problem infeasible?  The least relaxation that gives a plan, in words.

Every requirement row (demand, power cap, budget, share, …) gets an elastic
slack; the elastic model minimizes the slacks, each measured relative to its
row's size, and the rows that had to give are reported with their amounts in
the row's own unit (``demand[2028] short by 1.2e+06 compute``).  Rows that
only define variables or link indicators are never relaxed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from .fmt import amount as fmt_amount
from .model.linear import CONTINUOUS, INTEGER, Index, LinearModel
from .solvers.base import Adapter, SolveOptions

__all__ = ["diagnose", "elastic_model"]

_TOL = 1e-6


def elastic_model(
    model: LinearModel,
    relax: set[str] | None = None,
    *,
    rows: Mapping[str, np.ndarray] | None = None,
    weights: Mapping[str, np.ndarray] | None = None,
) -> tuple[LinearModel, list[tuple[str, np.ndarray, np.ndarray, str]]]:
    """A copy of ``model`` whose requirement rows (of the families in ``relax``, default
    all) may be violated at a price.

    ``rows`` limits a family to some of its rows (a boolean mask per family; the
    others stay hard: their slack is held at 0); ``weights`` replaces a family's
    price per unit of slack (default: one over the row's size, so that every
    row's violation counts relative to its own scale).

    Returns the elastic model and, per relaxed row block, ``(name, slack ids,
    sign, unit)``: ``sign`` is +1 where the slack lowers a ``≥`` requirement and
    −1 where it raises a ``≤`` limit.
    """
    e = LinearModel()
    for block in model.columns:
        span = slice(block.start, block.stop)
        e.add_columns(
            block.name,
            block.index,
            lower=model.col_lower[span],
            upper=model.col_upper[span],
            kind=INTEGER if model.integrality[span].any() else CONTINUOUS,
        )
    relaxed: list[tuple[str, np.ndarray, np.ndarray, str]] = []
    for block, r, c, v, lo, up in model.row_blocks():
        n = len(block.index)
        if block.definition or (relax is not None and block.name not in relax):
            e.add_rows(block.name, block.index, r, c, v, lower=lo, upper=up, unit=block.unit, definition=True)
            continue
        size = np.zeros(n)
        np.maximum.at(size, r, np.abs(v))
        bound = np.where(np.isfinite(lo), np.abs(lo), 0.0) + np.where(np.isfinite(up), np.abs(up), 0.0)
        weight = 1.0 / np.maximum(np.maximum(size, bound), 1e-12)
        sign = np.where(np.isfinite(lo), 1.0, -1.0)  # a row with both bounds relaxes its lower one
        # a row without terms (only constants: an installed fleet over its cap) needs its whole
        # violation as slack: stated as the slack's bound, beyond any solver tolerance
        with np.errstate(invalid="ignore"):
            need = np.where(size == 0, np.maximum(np.where(sign > 0, lo, -up), 0.0), 0.0)
        if weights is not None and block.name in weights:
            weight = np.asarray(weights[block.name], dtype=float)
        most = np.full(n, np.inf)
        if rows is not None and block.name in rows:
            hard = ~np.asarray(rows[block.name], dtype=bool)
            most[hard] = 0.0
            need[hard] = 0.0
        s = e.add_columns(
            f"relax[{block.name}]", Index.grid(row=range(n)), lower=np.nan_to_num(need), upper=most, cost=weight
        )
        e.add_rows(
            block.name,
            block.index,
            np.concatenate([r, np.arange(n)]),
            np.concatenate([c, s]),
            np.concatenate([v, sign]),
            lower=lo,
            upper=up,
            unit=block.unit,
        )
        relaxed.append((block.name, s, sign, block.unit))
    return e, relaxed


def _relaxation(
    model: LinearModel, adapter: Adapter, options: SolveOptions, relax: set[str] | None
) -> list[tuple[float, str]] | None:
    """Rows that must give (weighted amount, text), or None when relaxing ``relax`` is not enough."""
    elastic, relaxed = elastic_model(model, relax)
    raw = adapter.solve(elastic, options)
    if raw.interrupted:
        raise KeyboardInterrupt
    if not raw.has_plan or raw.x is None:
        return None
    found: list[tuple[float, str]] = []
    for name, ids, sign, unit in relaxed:
        block = model.row_block(name)
        assert block is not None
        amount = raw.x[ids]
        weight = elastic.cost[ids]
        names = block.index.names(name)
        for k in np.flatnonzero(amount * weight > _TOL):
            what = "short by" if sign[k] > 0 else "over by"
            found.append((amount[k] * weight[k], f"{names[k]} {what} {fmt_amount(amount[k], unit)}"))
    found.sort(key=lambda item: -item[0])
    return found


def _describe(found: list[tuple[float, str]], most: int) -> str:
    more = f" (and {len(found) - most} more)" if len(found) > most else ""
    return "; ".join(text for _, text in found[:most]) + more


#: Seconds a diagnosis may take when the call has no time limit.
DEFAULT_SECONDS = 30.0
#: Below this many seconds a diagnosis is not started (it could not finish).
LEAST_SECONDS = 0.2


def diagnose(model: LinearModel, adapter: Adapter, options: SolveOptions, *, most: int = 3) -> tuple[str, bool]:
    """One line naming the constraints that must give for a plan to exist, and True when
    Ctrl-C cut the diagnosis short.

    First each requirement family alone is relaxed (a plan exists if only the
    budget gave, say); the families that suffice are named with the rows that
    give and by how much.  If no single family suffices, all are relaxed together.
    The whole diagnosis keeps within ``options.time_limit`` (30 s without one):
    each family gets an equal share of what is left.
    """
    try:
        return _diagnose(model, adapter, options, most), False
    except KeyboardInterrupt:
        return "no plan satisfies every constraint (the diagnosis was interrupted)", True


def _diagnose(model: LinearModel, adapter: Adapter, options: SolveOptions, most: int) -> str:
    head = "no plan satisfies every constraint"
    budget = DEFAULT_SECONDS if options.time_limit is None else min(options.time_limit, DEFAULT_SECONDS)
    deadline = time.perf_counter() + budget
    families = [b.name for b in model.rows if not b.definition]

    def slot(remaining_tries: int) -> SolveOptions | None:
        left = deadline - time.perf_counter()
        if left < LEAST_SECONDS:
            return None
        return replace(options, time_limit=left / max(remaining_tries, 1), mip_gap=1e-3, verbose=False)

    alone: list[tuple[float, str, list[tuple[float, str]]]] = []
    for k, family in enumerate(families):
        opts = slot(len(families) - k + 1)
        if opts is None:
            break
        found = _relaxation(model, adapter, opts, {family})
        if found:
            alone.append((sum(w for w, _ in found), family, found))
    if alone:
        alone.sort()
        options_text = [f"relax {family}: {_describe(found, most)}" for _, family, found in alone[:2]]
        return (
            f"{head}; it takes one of: " + " | or ".join(options_text)
            if len(options_text) > 1
            else (f"{head}; {options_text[0]}")
        )
    opts = slot(1)
    found = _relaxation(model, adapter, opts, None) if opts is not None else None
    if found is None:
        return f"{head} (the constraints in conflict could not be isolated in time)"
    if not found:
        return f"{head} (whole lots or minimum orders cannot meet the constraints exactly)"
    return f"{head}; the nearest plan breaks {_describe(found, most)}"
