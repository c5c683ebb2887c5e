"""The elastic model: requirement rows that may give at a price (`procure.explain` uses it).

Every requirement row (demand, power cap, budget, share, …) gets a slack
column; minimizing the slacks, each priced per unit of its row's size (or at
the caller's prices), finds the least relaxation that gives a plan.  Rows that
only define variables or link indicators are never relaxed.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .linear import CONTINUOUS, INTEGER, Index, LinearModel

__all__ = ["elastic_model"]


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
