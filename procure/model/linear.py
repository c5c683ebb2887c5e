"""`LinearModel`: a solver-independent mixed-integer linear program with named blocks.

A model is a list of *variable blocks* and *row blocks*.  Each block has a
name (``lots``, ``power_cap``) and an `Index` that labels its members
(``lots[tpu-v7,2026]``), so that solutions, conflicts and shadow prices can be
reported in the user's words.  Coefficients are collected as COO triplets per
row block and assembled into one sparse matrix, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["BINARY", "CONTINUOUS", "INTEGER", "Block", "Index", "LinearModel"]

CONTINUOUS, INTEGER, BINARY = "continuous", "integer", "binary"


@dataclass(frozen=True)
class Index:
    """Labels of the members of a block: ``keys[k, d]`` is the position of member
    ``k`` in the labels of dimension ``d``."""

    dims: tuple[str, ...]
    labels: tuple[tuple[Any, ...], ...]
    keys: np.ndarray

    @classmethod
    def grid(cls, **dims: Sequence[Any]) -> Index:
        """Every combination of the given labels, last dimension fastest."""
        labels = tuple(tuple(v) for v in dims.values())
        shape = tuple(len(v) for v in labels)
        keys = np.indices(shape).reshape(len(shape), -1).T if shape else np.zeros((1, 0), dtype=int)
        return cls(tuple(dims), labels, keys)

    @classmethod
    def scalar(cls) -> Index:
        return cls((), (), np.zeros((1, 0), dtype=int))

    def subset(self, mask: np.ndarray) -> Index:
        """The members where ``mask`` (flat, one entry per member) is true."""
        return Index(self.dims, self.labels, self.keys[np.asarray(mask, dtype=bool).ravel()])

    def __len__(self) -> int:
        return len(self.keys)

    def label(self, k: int) -> tuple[Any, ...]:
        return tuple(self.labels[d][self.keys[k, d]] for d in range(len(self.dims)))

    def names(self, prefix: str) -> list[str]:
        """``prefix[label,label]`` for every member (``prefix`` alone for a scalar)."""
        if not self.dims:
            return [prefix] * len(self)
        parts = [np.asarray([str(x) for x in lab], dtype=object)[self.keys[:, d]] for d, lab in enumerate(self.labels)]
        joined = parts[0]
        for part in parts[1:]:
            joined = joined + "," + part
        return [f"{prefix}[{s}]" for s in joined]


@dataclass
class Block:
    """A named, contiguous range of columns or rows."""

    name: str
    start: int
    index: Index
    unit: str = ""
    doc: str = ""
    definition: bool = False  # rows that define a variable or link an indicator: never relaxed

    @property
    def stop(self) -> int:
        return self.start + len(self.index)

    @property
    def ids(self) -> np.ndarray:
        return np.arange(self.start, self.stop)


def _grow(array: np.ndarray, values: float | np.ndarray, n: int) -> np.ndarray:
    return np.concatenate([array, np.broadcast_to(np.asarray(values, dtype=array.dtype), (n,))])


@dataclass(frozen=True)
class SquareBounds:
    """Convex quadratic rows ``y[j] ≥ (scale[j] · x[j])²`` that a linear model approximates by
    cuts; an adapter whose solver takes quadratic constraints may state them exactly."""

    name: str
    index: Index
    y: np.ndarray
    x: np.ndarray
    scale: np.ndarray


@dataclass
class LinearModel:
    """min ``cost @ x + offset`` s.t. ``row_lower ≤ A x ≤ row_upper``, ``col_lower ≤ x ≤ col_upper``,
    ``x[j]`` integer where ``integrality[j]``.

    Bounds, costs and coefficients may be changed after building (``set_*``):
    that is how a kept model is re-solved for a new price, cap or risk level.
    """

    columns: list[Block] = field(default_factory=list)
    rows: list[Block] = field(default_factory=list)
    offset: float = 0.0
    col_lower: np.ndarray = field(default_factory=lambda: np.zeros(0))
    col_upper: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cost: np.ndarray = field(default_factory=lambda: np.zeros(0))
    integrality: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    row_lower: np.ndarray = field(default_factory=lambda: np.zeros(0))
    row_upper: np.ndarray = field(default_factory=lambda: np.zeros(0))
    squares: list[SquareBounds] = field(default_factory=list)
    _triplets: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    _A: sp.csr_matrix | None = None

    # ----------------------------------------------------------------- building

    @property
    def num_cols(self) -> int:
        return self.columns[-1].stop if self.columns else 0

    @property
    def num_rows(self) -> int:
        return self.rows[-1].stop if self.rows else 0

    def add_columns(
        self,
        name: str,
        index: Index,
        *,
        lower: float | np.ndarray = 0.0,
        upper: float | np.ndarray = np.inf,
        cost: float | np.ndarray = 0.0,
        kind: str = CONTINUOUS,
        unit: str = "",
        doc: str = "",
    ) -> np.ndarray:
        """Add a block of variables; return their column ids (one per member of ``index``)."""
        n = len(index)
        block = Block(name, self.num_cols, index, unit, doc)
        if kind == BINARY:
            lower, upper = np.maximum(lower, 0.0), np.minimum(upper, 1.0)
        self.col_lower = _grow(self.col_lower, lower, n)
        self.col_upper = _grow(self.col_upper, upper, n)
        self.cost = _grow(self.cost, cost, n)
        self.integrality = _grow(self.integrality, kind != CONTINUOUS, n)
        self.columns.append(block)
        self._A = None
        return block.ids

    def add_rows(
        self,
        name: str,
        index: Index,
        row: np.ndarray,
        col: np.ndarray,
        val: np.ndarray | float,
        *,
        lower: float | np.ndarray = -np.inf,
        upper: float | np.ndarray = np.inf,
        unit: str = "",
        doc: str = "",
        definition: bool = False,
    ) -> np.ndarray:
        """Add a block of rows from triplets (``row`` counts from 0 within the block); return the row ids.

        ``definition`` marks rows that define a variable or link an indicator
        (they are structure, not a user's requirement, and diagnostics never
        relax them)."""
        n = len(index)
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        row = np.asarray(row, dtype=np.int64).ravel()
        col = np.asarray(col, dtype=np.int64).ravel()
        val = np.broadcast_to(np.asarray(val, dtype=float).ravel(), row.shape)
        keep = val != 0.0
        block = Block(name, self.num_rows, index, unit, doc, definition)
        self._triplets.append((row[keep] + block.start, col[keep], val[keep]))
        self.row_lower = _grow(self.row_lower, lower, n)
        self.row_upper = _grow(self.row_upper, upper, n)
        self.rows.append(block)
        self._A = None
        return block.ids

    def add_matrix_rows(
        self,
        name: str,
        index: Index,
        matrix: sp.csr_matrix | sp.csc_matrix | sp.coo_matrix | np.ndarray,
        *,
        lower: float | np.ndarray = -np.inf,
        upper: float | np.ndarray = np.inf,
        unit: str = "",
        doc: str = "",
    ) -> np.ndarray:
        """Add rows ``lower ≤ matrix @ x ≤ upper`` (one row per member of ``index``); return the row ids.

        ``matrix`` has a column per model column (or fewer: columns added later
        are taken as 0), as the expressions of `procure.model.Handles` do."""
        A = sp.csr_matrix(np.asarray(matrix) if isinstance(matrix, np.ndarray) else matrix)
        if A.shape[0] != len(index):
            raise ValueError(f"{name}: {A.shape[0]} matrix rows for {len(index)} index members")
        if A.shape[1] > self.num_cols:
            raise ValueError(f"{name}: the matrix has {A.shape[1]} columns, the model {self.num_cols}")
        coo = A.tocoo()
        return self.add_rows(name, index, coo.row, coo.col, coo.data, lower=lower, upper=upper, unit=unit, doc=doc)

    def truncate_rows(self, n: int) -> None:
        """Drop every row from ``n`` on (``n`` must be where a row block starts): undoes the
        blocks added last."""
        if n == self.num_rows:
            return
        if not any(b.start == n for b in self.rows):
            raise ValueError(f"row {n} does not start a row block")
        self.rows = [b for b in self.rows if b.start < n]
        self.row_lower, self.row_upper = self.row_lower[:n], self.row_upper[:n]
        self._triplets = [(r[r < n], c[r < n], v[r < n]) for r, c, v in self._triplets]
        self._A = None

    # ----------------------------------------------------------------- changes

    def set_col_bounds(self, ids: np.ndarray, lower: Any = None, upper: Any = None) -> None:
        """Change column bounds in place."""
        if lower is not None:
            self.col_lower[ids] = lower
        if upper is not None:
            self.col_upper[ids] = upper

    def set_row_bounds(self, ids: np.ndarray, lower: Any = None, upper: Any = None) -> None:
        """Change row bounds in place."""
        if lower is not None:
            self.row_lower[ids] = lower
        if upper is not None:
            self.row_upper[ids] = upper

    def set_cost(self, ids: np.ndarray, cost: Any) -> None:
        """Change objective coefficients in place."""
        self.cost[ids] = cost

    def set_coefficients(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> None:
        """Set matrix entries (existing or new) in place."""
        rows, cols = np.asarray(rows, dtype=np.int64).ravel(), np.asarray(cols, dtype=np.int64).ravel()
        vals = np.broadcast_to(np.asarray(vals, dtype=float).ravel(), rows.shape)
        current = np.asarray(self.A[rows, cols]).ravel()
        self._triplets.append((rows, cols, vals - current))  # duplicates are summed: the entry becomes vals
        self._A = None

    # ----------------------------------------------------------------- arrays

    @property
    def A(self) -> sp.csr_matrix:
        """The constraint matrix (duplicates summed)."""
        if self._A is None:
            if self._triplets:
                r, c, v = (np.concatenate(x) for x in zip(*self._triplets))
            else:
                r = c = np.zeros(0, dtype=np.int64)
                v = np.zeros(0)
            A = sp.csr_matrix((v, (r, c)), shape=(self.num_rows, self.num_cols))
            A.sum_duplicates()
            A.eliminate_zeros()
            self._A = A
        return self._A

    def row_blocks(self) -> list[tuple[Block, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """Every row block with its triplets (rows counted within the block) and bounds."""
        A = self.A.tocoo()
        out = []
        for block in self.rows:
            inside = (A.row >= block.start) & (A.row < block.stop)
            out.append(
                (
                    block,
                    A.row[inside] - block.start,
                    A.col[inside],
                    A.data[inside],
                    self.row_lower[block.start : block.stop],
                    self.row_upper[block.start : block.stop],
                )
            )
        return out

    # ----------------------------------------------------------------- lookup

    def column_block(self, name: str) -> Block | None:
        return next((b for b in self.columns if b.name == name), None)

    def row_block(self, name: str) -> Block | None:
        return next((b for b in self.rows if b.name == name), None)

    def col_names(self) -> list[str]:
        return [n for b in self.columns for n in b.index.names(b.name)]

    def row_names(self) -> list[str]:
        return [n for b in self.rows for n in b.index.names(b.name)]

    def row_owner(self, r: int) -> tuple[Block, int]:
        """The row block holding global row ``r`` and the position within it."""
        starts = [b.start for b in self.rows]
        k = int(np.searchsorted(starts, r, side="right")) - 1
        return self.rows[k], r - self.rows[k].start

    def row_name(self, r: int) -> str:
        """The name of global row ``r`` (``power_cap[2027]``)."""
        block, k = self.row_owner(r)
        return block.index.names(block.name)[k]

    def empty_conflicts(self) -> np.ndarray:
        """Ids of rows without a term whose bounds exclude 0: no ``x`` meets them, whatever a
        solver's tolerance would let pass (an installed fleet above its power cap, say)."""
        empty = np.diff(self.A.tocsr().indptr) == 0
        return np.flatnonzero(empty & ((self.row_lower > 0) | (self.row_upper < 0)))

    @property
    def is_mip(self) -> bool:
        return bool(self.integrality.any())

    def objective_value(self, x: np.ndarray) -> float:
        return float(self.cost @ x + self.offset)

    def stats(self) -> dict[str, int]:
        """Size of the model: columns, integer columns, rows, nonzeros."""
        return {
            "columns": self.num_cols,
            "integer_columns": int(self.integrality.sum()),
            "rows": self.num_rows,
            "nonzeros": int(self.A.nnz),
        }
