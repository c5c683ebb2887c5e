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


@dataclass
class LinearModel:
    """min ``cost @ x + offset`` s.t. ``row_lower ≤ A x ≤ row_upper``, ``col_lower ≤ x ≤ col_upper``,
    ``x[j]`` integer where ``integrality[j]``."""

    columns: list[Block] = field(default_factory=list)
    rows: list[Block] = field(default_factory=list)
    offset: float = 0.0
    _col_lower: list[np.ndarray] = field(default_factory=list)
    _col_upper: list[np.ndarray] = field(default_factory=list)
    _col_cost: list[np.ndarray] = field(default_factory=list)
    _col_int: list[np.ndarray] = field(default_factory=list)
    _row_lower: list[np.ndarray] = field(default_factory=list)
    _row_upper: list[np.ndarray] = field(default_factory=list)
    _triplets: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    _frozen: dict[str, Any] = field(default_factory=dict)

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
        self._col_lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (n,)).copy())
        self._col_upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (n,)).copy())
        self._col_cost.append(np.broadcast_to(np.asarray(cost, dtype=float), (n,)).copy())
        self._col_int.append(np.full(n, kind != CONTINUOUS))
        self.columns.append(block)
        self._frozen.clear()
        return block.ids

    def add_rows(
        self,
        name: str,
        index: Index,
        row: np.ndarray,
        col: np.ndarray,
        val: np.ndarray,
        *,
        lower: float | np.ndarray = -np.inf,
        upper: float | np.ndarray = np.inf,
        unit: str = "",
        doc: str = "",
        definition: bool = False,
    ) -> None:
        """Add a block of rows from triplets; ``row`` counts from 0 within the block.

        ``definition`` marks rows that define a variable or link an indicator
        (they are structure, not a user's requirement, and diagnostics never
        relax them)."""
        n = len(index)
        if n == 0:
            return
        row = np.asarray(row, dtype=np.int64).ravel()
        col = np.asarray(col, dtype=np.int64).ravel()
        val = np.broadcast_to(np.asarray(val, dtype=float).ravel(), row.shape)
        keep = val != 0.0
        block = Block(name, self.num_rows, index, unit, doc, definition)
        self._triplets.append((row[keep] + block.start, col[keep], val[keep]))
        self._row_lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (n,)).copy())
        self._row_upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (n,)).copy())
        self.rows.append(block)
        self._frozen.clear()

    # ----------------------------------------------------------------- arrays

    def _cat(self, key: str, parts: list[np.ndarray], dtype: Any = float) -> np.ndarray:
        if key not in self._frozen:
            self._frozen[key] = np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)
        return self._frozen[key]

    @property
    def col_lower(self) -> np.ndarray:
        return self._cat("col_lower", self._col_lower)

    @property
    def col_upper(self) -> np.ndarray:
        return self._cat("col_upper", self._col_upper)

    @property
    def cost(self) -> np.ndarray:
        return self._cat("cost", self._col_cost)

    @property
    def integrality(self) -> np.ndarray:
        return self._cat("integrality", self._col_int, bool)

    @property
    def row_lower(self) -> np.ndarray:
        return self._cat("row_lower", self._row_lower)

    @property
    def row_upper(self) -> np.ndarray:
        return self._cat("row_upper", self._row_upper)

    @property
    def A(self) -> sp.csr_matrix:
        """The constraint matrix (duplicates summed)."""
        if "A" not in self._frozen:
            if self._triplets:
                r, c, v = (np.concatenate(x) for x in zip(*self._triplets))
            else:
                r = c = np.zeros(0, dtype=np.int64)
                v = np.zeros(0)
            A = sp.csr_matrix((v, (r, c)), shape=(self.num_rows, self.num_cols))
            A.sum_duplicates()
            A.eliminate_zeros()
            self._frozen["A"] = A
        return self._frozen["A"]

    def set_col_bounds(self, ids: np.ndarray, lower: np.ndarray | None = None, upper: np.ndarray | None = None) -> None:
        """Change column bounds in place (after building)."""
        if lower is not None:
            self.col_lower[ids] = lower
        if upper is not None:
            self.col_upper[ids] = upper

    def set_row_bounds(self, ids: np.ndarray, lower: np.ndarray | None = None, upper: np.ndarray | None = None) -> None:
        """Change row bounds in place (after building)."""
        if lower is not None:
            self.row_lower[ids] = lower
        if upper is not None:
            self.row_upper[ids] = upper

    def row_blocks(self) -> list[tuple[Block, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """Every row block with its triplets (rows counted within the block) and bounds."""
        out = []
        for block, (r, c, v), lo, up in zip(self.rows, self._triplets, self._row_lower, self._row_upper):
            out.append((block, r - block.start, c, v, lo, up))
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
